//! Deployment configuration: a TOML file plus `HELSEBRO_…` environment overrides, loaded by
//! the binary. Settings an administrator changes while running (support contact, which roles
//! need two-factor login) live in the database instead.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A secret setting (a password, an API key): never shown by `Debug`, so never logged.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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

    /// E-mail delivery: `dev` (kept in the development outbox, shown to administrators) or
    /// `smtp`.
    pub email_provider: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (port 587), `tls` (port 465) or `none` (a relay on the same host only).
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: Secret,
    /// The sender, e.g. `Fjordvik kommune <ikke-svar@fjordvik.kommune.no>`.
    pub smtp_from: String,
    /// SMS delivery: `dev` or `http` (an HTTP SMS gateway).
    pub sms_provider: String,
    pub sms_url: String,
    /// `Name: value` header for the gateway, e.g. `Authorization: Bearer …`.
    pub sms_auth_header: Secret,
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub sms_content_type: String,
    /// Request body with `{to}` and `{text}` placeholders.
    pub sms_body_template: String,
    /// If set, a 2xx answer counts as delivered only when its body contains this text.
    pub sms_success_contains: String,
    /// Seconds a sender holds a claimed message before another may retry it.
    pub outbox_lease_seconds: u32,
    /// Delivery attempts before a message is failed for good.
    pub outbox_max_attempts: u32,
    /// Minutes before an appointment's start from which its join links work.
    pub join_opens_minutes_before: u32,
    /// Minutes after an appointment's end until which its join links work.
    pub join_closes_minutes_after_end: u32,
    /// Hours the links of an ad-hoc room ("start video now") work after it is started.
    pub adhoc_link_hours: u32,
    /// Days after an appointment's end (or its cancellation) until the details it no longer
    /// needs are deleted, keeping only statistics (VC-17). 0: at the end.
    pub appointment_retention_days: u32,

    /// Media server (SFU): UDP address for WebRTC media. Port 0 picks a free port.
    pub media_udp_listen: SocketAddr,
    /// Media server: TCP address for ICE-TCP, for networks that block UDP.
    pub media_tcp_listen: SocketAddr,
    /// Address put in media candidates, when the listen address is 0.0.0.0 or behind NAT.
    pub media_public_ip: Option<std::net::IpAddr>,
    /// Media worker threads, one core each; worker *i* uses the UDP and TCP ports *i* above the
    /// listen ports. A call stays on one worker.
    pub media_workers: u32,
    /// Seconds a participant whose connection drops may come back without knocking again.
    pub call_grace_seconds: u32,
    /// Most participants in a call under the consultation policy.
    pub call_limit_consultation: u32,
    /// Most participants in a call under the administrative policy.
    pub call_limit_administrative: u32,
    /// Knocks allowed per join link, and per client address, in ten minutes.
    pub knocks_per_ten_minutes: u32,
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
            email_provider: "dev".into(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_from: String::new(),
            sms_provider: "dev".into(),
            sms_url: String::new(),
            sms_auth_header: Secret::default(),
            sms_content_type: "application/json".into(),
            sms_body_template: r#"{"to":"{to}","text":"{text}"}"#.into(),
            sms_success_contains: String::new(),
            outbox_lease_seconds: 120,
            outbox_max_attempts: 8,
            join_opens_minutes_before: 60,
            join_closes_minutes_after_end: 120,
            adhoc_link_hours: 12,
            appointment_retention_days: 90,
            media_udp_listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            media_tcp_listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            media_public_ip: None,
            media_workers: 1,
            call_grace_seconds: 60,
            call_limit_consultation: 12,
            call_limit_administrative: 30,
            knocks_per_ten_minutes: 6,
        }
    }
}

impl Config {
    /// The address users reach Helsebro at, without a trailing slash, for links in messages:
    /// `public_url`, or else the listen address.
    pub fn base_url(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if !url.is_empty() {
            return url.to_owned();
        }
        let scheme = if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.listen)
    }

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
        if !matches!(self.email_provider.as_str(), "dev" | "smtp") {
            return Err("email_provider must be dev or smtp".into());
        }
        if self.email_provider == "smtp" && (self.smtp_host.is_empty() || self.smtp_from.is_empty())
        {
            return Err("email_provider = smtp needs smtp_host and smtp_from".into());
        }
        if !matches!(self.smtp_security.as_str(), "starttls" | "tls" | "none") {
            return Err("smtp_security must be starttls, tls or none".into());
        }
        if !matches!(self.sms_provider.as_str(), "dev" | "http") {
            return Err("sms_provider must be dev or http".into());
        }
        if self.sms_provider == "http" && self.sms_url.is_empty() {
            return Err("sms_provider = http needs sms_url".into());
        }
        if self.adhoc_link_hours == 0 || self.adhoc_link_hours > 72 {
            return Err("adhoc_link_hours must be between 1 and 72".into());
        }
        if self.media_workers == 0 || self.media_workers > 64 {
            return Err("media_workers must be between 1 and 64".into());
        }
        if self.appointment_retention_days > 3650 {
            return Err("appointment_retention_days must be at most 3650".into());
        }
        if self.outbox_lease_seconds == 0 || self.outbox_max_attempts == 0 {
            return Err("outbox_lease_seconds and outbox_max_attempts must be at least 1".into());
        }
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err("public_url must start with http:// or https://".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Config {
            smtp_password: Secret("hunter2-very-secret".into()),
            sms_auth_header: Secret("Authorization: Bearer abc123".into()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("abc123"),
            "{shown}"
        );
        assert!(shown.contains("***"));
    }

    #[test]
    fn provider_settings_are_checked() {
        assert!(Config::default().validate().is_ok());
        let smtp_without_host = Config {
            email_provider: "smtp".into(),
            ..Config::default()
        };
        assert!(smtp_without_host.validate().is_err());
        let unknown = Config {
            sms_provider: "pigeon".into(),
            ..Config::default()
        };
        assert!(unknown.validate().is_err());
    }

    #[test]
    fn media_workers_are_between_1_and_64() {
        for (workers, ok) in [(0, false), (1, true), (8, true), (64, true), (65, false)] {
            let c = Config {
                media_workers: workers,
                ..Config::default()
            };
            assert_eq!(c.validate().is_ok(), ok, "{workers}");
        }
    }
}
