//! Deployment configuration: a TOML file plus `HELSEBRO_…` environment overrides, loaded by
//! the binary. Settings an administrator changes while running (support contact, which roles
//! need two-factor login) live in the database instead.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database and other local files.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for SQLite in `data_dir`.
    pub database_url: String,
    /// Most connections in the database pool.
    pub database_max_connections: u32,
    /// The address users reach Helsebro at, e.g. `https://video.kommune.no`. Used in links.
    /// When it starts with `https://`, cookies are marked Secure and HSTS is sent.
    pub public_url: String,
    /// Minutes without activity before a staff session ends.
    pub session_idle_minutes: u32,
    /// Hours after login before a staff session ends regardless of activity.
    pub session_max_hours: u32,
    /// Login attempts allowed per username, and per client address, per minute.
    pub login_attempts_per_minute: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Hours an emergency access grant lasts.
    pub emergency_access_hours: u32,
    /// Trust `X-Forwarded-For` for the client address (only behind your own reverse proxy).
    pub trust_forwarded_for: bool,
    /// Built-in TLS: PEM certificate chain and private key. Leave empty behind a proxy.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Name of the organisation, used when the database is first created.
    pub organisation_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            database_max_connections: 8,
            public_url: String::new(),
            session_idle_minutes: 30,
            session_max_hours: 12,
            login_attempts_per_minute: 5,
            max_body_bytes: 1024 * 1024,
            emergency_access_hours: 4,
            trust_forwarded_for: false,
            tls_cert: None,
            tls_key: None,
            organisation_name: "Helsebro".into(),
        }
    }
}

impl Config {
    /// Whether users reach Helsebro over HTTPS (built-in TLS or a TLS proxy in front).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://") || self.tls_cert.is_some()
    }

    /// The database URL to use: the configured one, or SQLite in the data folder.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            helsebro_store::Store::sqlite_url_in(&self.data_dir)
        } else {
            self.database_url.trim().to_owned()
        }
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.session_idle_minutes == 0 || self.session_max_hours == 0 {
            return Err("session_idle_minutes and session_max_hours must be at least 1".into());
        }
        if self.login_attempts_per_minute == 0 {
            return Err("login_attempts_per_minute must be at least 1".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("set both tls_cert and tls_key, or neither".into());
        }
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err("public_url must start with http:// or https://".into());
        }
        Ok(())
    }
}
