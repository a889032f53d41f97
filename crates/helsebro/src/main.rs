//! `helsebro`: one binary that serves the platform and administers it from the shell.
//!
//! - `helsebro serve [--demo]`: run the server (creating and migrating the database first).
//! - `helsebro migrate`: bring the database schema up to date.
//! - `helsebro user add …`: create a staff user.
//! - `helsebro audit verify`: check the audit log's hash chain; non-zero exit if broken.
//! - `helsebro openapi`: print the OpenAPI document.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use helsebro_app::admin::StaffInput;
use helsebro_app::{App, Config};
use helsebro_domain::Role;
use helsebro_domain::SystemClock;
use helsebro_notify::providers::{Provider, SmsGatewaySettings, SmtpSecurity, SmtpSettings};
use helsebro_notify::sender::{Sender, SenderSettings};
use helsebro_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "helsebro",
    version,
    about = "Helsebro: video consultations and digital home follow-up for Norwegian health and care services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the configuration and data are; shared by every command.
#[derive(Args, Clone)]
struct Common {
    /// Folder for the SQLite database (created if missing).
    #[arg(long, env = "HELSEBRO_DATA_DIR")]
    data: Option<PathBuf>,
    /// A TOML configuration file.
    #[arg(long, env = "HELSEBRO_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Load the demo organisation and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Create the database if needed and run migrations.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI document of the JSON API.
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff user. The password is read from HELSEBRO_NEW_PASSWORD, or generated and printed.
    Add {
        #[command(flatten)]
        common: Common,
        /// Login name: lower-case letters, digits, '.', '_' or '-'.
        username: String,
        /// Full name as shown to colleagues.
        #[arg(long)]
        name: String,
        /// A role (repeat for several): administrator, service_owner, clinician,
        /// follow_up_nurse, superuser, support, data_protection_officer.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        email: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every entry of the hash chain. Exits 1 if any entry was altered or removed.
    Verify {
        #[command(flatten)]
        common: Common,
    },
}

/// Loads the configuration: defaults, then the TOML file, then `HELSEBRO_*` variables.
fn load_config(common: &Common) -> Result<Config> {
    let defaults = Config::default();
    // The configuration keys are the fields of `Config`; other HELSEBRO_* variables
    // (HELSEBRO_LOG, test settings) are not configuration.
    let keys: Vec<String> = match serde_json::to_value(&defaults) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut fig = Figment::from(Serialized::defaults(&defaults));
    if let Some(path) = &common.config {
        if !path.exists() {
            bail!("the configuration file {} does not exist", path.display());
        }
        fig = fig.merge(Toml::file(path));
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    fig = fig.merge(Env::prefixed("HELSEBRO_").only(&keys));
    let mut config: Config = fig.extract().context("the configuration is not valid")?;
    if let Some(data) = &common.data {
        config.data_dir = data.clone();
    } else if let Ok(dir) = std::env::var("HELSEBRO_DATA_DIR") {
        config.data_dir = dir.into();
    }
    config.validate().map_err(anyhow::Error::msg)?;
    Ok(config)
}

/// The delivery providers the configuration asks for.
fn providers(c: &Config) -> Result<(Provider, Provider)> {
    let email = match c.email_provider.as_str() {
        "smtp" => Provider::smtp(&SmtpSettings {
            host: c.smtp_host.clone(),
            port: c.smtp_port,
            security: match c.smtp_security.as_str() {
                "none" => SmtpSecurity::None,
                "tls" => SmtpSecurity::Tls,
                _ => SmtpSecurity::StartTls,
            },
            username: c.smtp_username.clone(),
            password: c.smtp_password.0.clone(),
            from: c.smtp_from.clone(),
        })
        .map_err(anyhow::Error::msg)?,
        _ => Provider::DevOutbox,
    };
    let sms = match c.sms_provider.as_str() {
        "http" => Provider::http_sms(SmsGatewaySettings {
            url: c.sms_url.clone(),
            auth_header: c.sms_auth_header.0.clone(),
            content_type: c.sms_content_type.clone(),
            body_template: c.sms_body_template.clone(),
            success_contains: c.sms_success_contains.clone(),
        })
        .map_err(anyhow::Error::msg)?,
        _ => Provider::DevOutbox,
    };
    Ok((email, sms))
}

/// Opens the database (creating the data folder for SQLite) and migrates it.
async fn open(config: &Config) -> Result<App> {
    Ok(open_store(config).await?.1)
}

async fn open_store(config: &Config) -> Result<(Store, App)> {
    if config.database_url.trim().is_empty() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data folder {}",
                config.data_dir.display()
            )
        })?;
    }
    let store = Store::connect(
        &config.effective_database_url(),
        config.database_max_connections,
    )
    .await
    .context("could not open the database")?;
    store
        .migrate()
        .await
        .context("could not migrate the database")?;
    Ok((store.clone(), App::new(store, config.clone())))
}

fn role_label(role: Role) -> &'static str {
    helsebro_domain::Role::code(role)
}

async fn serve(common: Common, listen: Option<SocketAddr>, demo: bool) -> Result<()> {
    let mut config = load_config(&common)?;
    if let Some(l) = listen {
        config.listen = l;
    }
    // Bind first, so links made from the listen address (port 0: any free port) carry the
    // port actually bound.
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("could not listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    config.listen = addr;
    let (email, sms) = providers(&config)?;
    let (store, app) = open_store(&config).await?;
    if demo {
        let fixed = std::env::var("HELSEBRO_DEMO_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let users = app.load_demo(fixed.as_deref()).await?;
        println!("Demo organisation loaded. Log in as one of these (username / password):");
        for u in &users {
            println!(
                "  {:<12} / {}   ({})",
                u.username,
                u.password,
                role_label(u.role)
            );
        }
        println!(
            "Roles that see health data, administrators and the data protection officer set up"
        );
        println!("two-factor login at first login (any TOTP app: scan the QR code shown).");
    }
    if let Some(admin) = app.bootstrap().await? {
        println!("Created the first administrator. Log in and change the password:");
        println!("  {} / {}", admin.username, admin.password);
    }

    let media_config = helsebro_media::MediaConfig {
        udp_listen: config.media_udp_listen,
        tcp_listen: config.media_tcp_listen,
        advertise_ip: Some(advertise_ip(&config)),
        workers: config.media_workers as usize,
    };
    let (media, media_events) = helsebro_media::Media::start(media_config)
        .await
        .with_context(|| {
            format!(
                "could not open the media ports (UDP {}, TCP {}); set media_udp_listen and media_tcp_listen",
                config.media_udp_listen, config.media_tcp_listen
            )
        })?;
    let ports = |addrs: Vec<std::net::SocketAddr>| {
        addrs
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "Video media (SFU) on UDP {} and TCP {}, announced as {}.",
        ports(media.udp_addrs()),
        ports(media.tcp_addrs()),
        advertise_ip(&config)
    );
    app.attach_media(media, media_events);

    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    if demo && let Some(link) = app.load_demo_appointment().await? {
        println!("A demo video appointment for Kari Nordmann is booked today (host: lege).");
        println!("  Patient's video link: {link}");
    }
    if demo {
        let followed = app.load_demo_followup().await?;
        if !followed.is_empty() {
            println!(
                "Home follow-up: {} patients with three weeks of readings; the follow-up work list (/followup, as sykepleier) has a red and a yellow.",
                followed.len()
            );
            println!(
                "  Patient app: {scheme}://{addr}/mine. Log in with a patient's phone number; the one-time code is in the development outbox (/admin/outbox, as admin)."
            );
            for (name, phone) in &followed {
                println!("    {name:<16} phone {phone}");
            }
            println!(
                "  Kari has a self-care plan approved by lege and a weekly COPD questionnaire; a referral for Astrid Lunde waits for assessment (/followup/referrals, as lege)."
            );
        }
    }
    if !config.public_url.is_empty() {
        println!("Users reach it at {}", config.public_url);
    }
    println!(
        "E-mail goes to: {}. SMS goes to: {}.",
        email.describe(),
        sms.describe()
    );
    // Last, so that whoever waits for this line has everything above it (tests stop reading
    // here).
    println!("Helsebro is running at {scheme}://{addr}/");
    let settings = SenderSettings {
        lease: jiff::SignedDuration::from_secs(i64::from(config.outbox_lease_seconds)),
        max_attempts: i64::from(config.outbox_max_attempts),
        ..SenderSettings::default()
    };
    tokio::spawn(Sender::new(store, Arc::new(SystemClock), email, sms, settings).run());

    let housekeeping = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = housekeeping.housekeeping().await {
                tracing::warn!(error = %e, "housekeeping failed");
            }
            // Home follow-up: missing reports, reminders and escalations (idempotent).
            match housekeeping.followup_sweep().await {
                Ok(r) if r.missing_reports + r.escalated > 0 => tracing::info!(
                    missing_reports = r.missing_reports,
                    escalated = r.escalated,
                    "follow-up sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "follow-up sweep failed"),
            }
            // Scheduled jobs (the data-minimisation purge): a full batch means more may wait.
            loop {
                match housekeeping.run_due_jobs().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "scheduled jobs could not be run");
                        break;
                    }
                }
            }
        }
    });

    let router = helsebro_http::router(app).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .context("could not load the TLS certificate and key")?;
            axum_server::from_tcp_rustls(listener, tls)?
                .handle(handle)
                .serve(router)
                .await?;
        }
        _ => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(router)
                .await?;
        }
    }
    Ok(())
}

/// The address browsers are told to send media to: the configured public address, else the
/// media listen address, else the address this host would use to reach the internet (found
/// without sending anything), else loopback.
fn advertise_ip(config: &Config) -> std::net::IpAddr {
    if let Some(ip) = config.media_public_ip {
        return ip;
    }
    let listen = config.media_udp_listen.ip();
    if !listen.is_unspecified() {
        return listen;
    }
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // One crypto stack: rustls with aws-lc-rs, for TLS in and out (HTTPS, SMTP, SMS gateway).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HELSEBRO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("helsebro: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve {
            common,
            listen,
            demo,
        } => serve(common, listen, demo).await?,
        Command::Migrate { common } => {
            let app = open(&load_config(&common)?).await?;
            if let Some(admin) = app.bootstrap().await? {
                println!(
                    "Created the first administrator: {} / {}",
                    admin.username, admin.password
                );
            }
            println!("The database is up to date.");
        }
        Command::User {
            command:
                UserCommand::Add {
                    common,
                    username,
                    name,
                    roles,
                    email,
                },
        } => {
            let app = open(&load_config(&common)?).await?;
            app.bootstrap().await?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).with_context(|| format!("unknown role {r:?}")))
                .collect::<Result<Vec<_>>>()?;
            let (password, generated) = match std::env::var("HELSEBRO_NEW_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (helsebro_app::secrets::readable_password(), true),
            };
            let input = StaffInput {
                username: username.clone(),
                display_name: name,
                email,
                password: password.clone(),
                roles,
                unit_id: None,
            };
            app.create_staff(None, &input, "cli")
                .await
                .map_err(|e| match e {
                    helsebro_app::AppError::Invalid(fields) => anyhow::anyhow!(
                        "{}",
                        fields
                            .iter()
                            .map(|f| format!("{}: {}", f.field, f.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    other => anyhow::anyhow!("{other}"),
                })?;
            if generated {
                println!("Created {username}. Password: {password}");
            } else {
                println!("Created {username}.");
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { common },
        } => {
            let app = open(&load_config(&common)?).await?;
            match app.verify_audit_chain().await? {
                Ok(n) => println!("The audit log is intact: {n} entries verified."),
                Err(br) => {
                    println!("The audit log is NOT intact: {br}");
                    return Ok(std::process::ExitCode::from(1));
                }
            }
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&helsebro_http::openapi_document())?
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
