//! Test harness: a real Helsebro server on a random loopback port, backed by a fresh
//! database — a temporary SQLite file, or a new PostgreSQL database when
//! `HELSEBRO_TEST_DB=postgres` (then `HELSEBRO_TEST_POSTGRES_URL` must point at a server the
//! test may create databases on; `scripts/test.sh` starts a throwaway one).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod appointments;

use helsebro_app::admin::StaffInput;
use helsebro_app::{App, Config};
use helsebro_domain::{FakeClock, Role};
use helsebro_store::Store;
use jiff::{SignedDuration, Timestamp};
use reqwest::redirect::Policy;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const PASSWORD: &str = "a-long-test-password";

/// A valid synthetic national identity number from its first nine digits.
pub fn nid(nine: &str) -> String {
    helsebro_domain::NationalId::complete(nine)
        .unwrap()
        .as_str()
        .to_owned()
}

/// A staff member as the app sees a logged-in user, for calling the app directly.
pub fn principal(id: uuid::Uuid, username: &str, roles: &[Role]) -> helsebro_app::StaffPrincipal {
    helsebro_app::StaffPrincipal {
        id,
        username: username.into(),
        display_name: username.into(),
        roles: roles.to_vec(),
        language: None,
        csrf_token: String::new(),
        session_hash: String::new(),
    }
}

/// A plain HTTP client. reqwest shares its TLS stack with the notification crate (rustls
/// with aws-lc-rs, no built-in provider), so the provider is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::new()
}

/// Which database the suite runs against.
pub fn backend() -> &'static str {
    match std::env::var("HELSEBRO_TEST_DB").as_deref() {
        Ok("postgres") => "postgres",
        Ok("sqlite") | Err(_) => "sqlite",
        Ok(other) => panic!("HELSEBRO_TEST_DB must be sqlite or postgres, not {other}"),
    }
}

/// A database URL for one test: SQLite in `dir`, or a brand-new PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    if backend() == "sqlite" {
        return Store::sqlite_url_in(dir);
    }
    let admin_url = std::env::var("HELSEBRO_TEST_POSTGRES_URL").expect(
        "HELSEBRO_TEST_DB=postgres needs HELSEBRO_TEST_POSTGRES_URL (scripts/test.sh sets it)",
    );
    let name = format!("hb_{}", uuid::Uuid::now_v7().simple());
    let admin = Store::connect(&admin_url, 1)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.raw_pool())
        .await
        .expect("create a test database");
    admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("the URL names a database");
    format!("{base}/{name}")
}

pub struct TestServer {
    pub base: String,
    pub app: App,
    pub store: Store,
    pub clock: FakeClock,
    pub dir: tempfile::TempDir,
    /// TOTP secrets of users enrolled through the pages, by username.
    secrets: Arc<Mutex<HashMap<String, String>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        config.database_url = fresh_database_url(dir.path()).await;
        adjust(&mut config);
        let store = Store::connect(&config.effective_database_url(), 8)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        // Start at a fixed time on a TOTP step boundary.
        let clock = FakeClock::new(Timestamp::from_second(1_800_000_000).unwrap());
        let app = App::with_clock(store.clone(), config, Arc::new(clock.clone()));
        app.bootstrap().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = helsebro_http::router(app.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            app,
            store,
            clock,
            dir,
            secrets: Arc::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    pub async fn add_staff(&self, username: &str, roles: &[Role]) -> uuid::Uuid {
        let input = StaffInput {
            username: username.into(),
            display_name: format!("Test {username}"),
            email: String::new(),
            password: PASSWORD.into(),
            roles: roles.to_vec(),
            unit_id: None,
        };
        self.app.create_staff(None, &input, "test").await.unwrap()
    }

    /// The current TOTP code for a secret, by the server's (fake) clock.
    pub fn code(&self, secret: &str) -> String {
        let t = self.clock.now_seconds();
        helsebro_app::auth::current_totp_code(secret, t).unwrap()
    }

    /// Moves the clock to the next TOTP step, so a new code is accepted.
    pub fn next_step(&self) {
        self.clock.advance(SignedDuration::from_secs(30));
    }

    /// Logs `username` in fully through the API and the pages (enrolling TOTP if needed).
    /// Returns the client and the session's CSRF token.
    pub async fn login(&self, username: &str) -> (reqwest::Client, String) {
        let c = self.client();
        let res = c
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login of {username}");
        let body: serde_json::Value = res.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        match body["stage"].as_str().unwrap() {
            "full" => {}
            "enrol" => {
                let secret = self.enrol(&c, &csrf).await;
                self.secrets
                    .lock()
                    .unwrap()
                    .insert(username.to_owned(), secret);
            }
            "totp" => {
                self.next_step();
                let secret = self
                    .secrets
                    .lock()
                    .unwrap()
                    .get(username)
                    .cloned()
                    .expect("enrolled earlier");
                let res = c
                    .post(self.url("/api/v1/auth/totp"))
                    .header("x-csrf-token", &csrf)
                    .json(&serde_json::json!({"code": self.code(&secret)}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 204);
            }
            other => panic!("unexpected stage {other}"),
        }
        (c, csrf)
    }

    /// Enrols TOTP through the enrolment page; returns the secret.
    pub async fn enrol(&self, c: &reqwest::Client, csrf: &str) -> String {
        let page = c
            .get(self.url("/login/enrol"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let secret = between(&page, "<code id=\"totp-secret\">", "</code>").to_owned();
        let res = c
            .post(self.url("/login/enrol"))
            .form(&[("csrf_token", csrf), ("code", &self.code(&secret))])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "enrolment accepted");
        secret
    }

    pub fn secret_of(&self, username: &str) -> Option<String> {
        self.secrets.lock().unwrap().get(username).cloned()
    }
}

/// What someone with direct database access could do: drop the trigger that keeps the audit
/// log append-only (so a test can then alter a row behind the application's back).
pub async fn remove_audit_guard(pool: &sqlx::AnyPool) {
    let sql = if backend() == "sqlite" {
        "DROP TRIGGER audit_log_no_update"
    } else {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"
    };
    sqlx::query(sql).execute(pool).await.unwrap();
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found in page"))
        + start.len();
    let len = text[from..].find(end).unwrap();
    &text[from..from + len]
}

/// Seconds since the epoch of a fake clock.
pub trait Seconds {
    fn now_seconds(&self) -> u64;
}

impl Seconds for FakeClock {
    fn now_seconds(&self) -> u64 {
        use helsebro_domain::Clock;
        self.now().as_second() as u64
    }
}
