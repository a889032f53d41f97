//! The `helsebro` binary as a user runs it: `serve` answers `/healthz` within a minute,
//! `audit verify` passes on an intact log and fails after one row is altered, `user add`
//! refuses bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helsebro"));
    // Media on free loopback ports, so servers started by tests side by side don't collide.
    cmd.env("HELSEBRO_MEDIA_UDP_LISTEN", "127.0.0.1:0")
        .env("HELSEBRO_MEDIA_TCP_LISTEN", "127.0.0.1:0");
    cmd
}

/// Runs a command against the test database: SQLite in `dir`, or `url` for PostgreSQL.
fn with_db(cmd: &mut Command, dir: &std::path::Path, url: &str) {
    cmd.arg("--data").arg(dir);
    if common::backend() == "postgres" {
        cmd.env("HELSEBRO_DATABASE_URL", url);
    } else {
        cmd.env_remove("HELSEBRO_DATABASE_URL");
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `helsebro serve` and returns it with the base URL it prints.
fn serve(dir: &std::path::Path, url: &str, demo: bool) -> (Server, String, Vec<String>) {
    serve_with(dir, url, demo, &[])
}

fn serve_with(
    dir: &std::path::Path,
    url: &str,
    demo: bool,
    env: &[(&str, String)],
) -> (Server, String, Vec<String>) {
    let mut cmd = bin();
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    if demo {
        cmd.arg("--demo")
            .env("HELSEBRO_DEMO_PASSWORD", "demo-passord-123");
    }
    with_db(&mut cmd, dir, url);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("the server printed where it runs within a minute");
        if let Some(rest) = line.strip_prefix("Helsebro is running at ") {
            return (server, rest.trim_end_matches('/').to_owned(), lines);
        }
        lines.push(line);
    }
}

#[tokio::test]
async fn serve_answers_healthz_and_prints_logins() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let started = Instant::now();
    let (_server, base, printed) = serve(dir.path(), &url, true);
    let c = common::http_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz did not answer within a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    for user in [
        "admin",
        "leder",
        "lege",
        "sykepleier",
        "superbruker",
        "support",
        "personvern",
    ] {
        assert!(
            printed
                .iter()
                .any(|l| l.trim_start().starts_with(user) && l.contains("demo-passord-123")),
            "{user} printed: {printed:?}"
        );
    }
    for lang in ["nb", "nn", "en"] {
        let page = c
            .get(format!("{base}/login?lang={lang}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
    }
    let res = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "leder", "password": "demo-passord-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a printed demo login works");
}

#[tokio::test]
async fn first_start_creates_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let (_server, base, printed) = serve(dir.path(), &url, false);
    let line = printed
        .iter()
        .find(|l| l.contains(" / "))
        .expect("the administrator's login is printed");
    let (user, password) = line.trim().split_once(" / ").unwrap();
    let res = common::http_client()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["stage"], "enrol",
        "administrators must set up two-factor login"
    );
}

#[tokio::test]
async fn audit_verify_fails_after_one_row_is_altered() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let mut add = bin();
    add.args([
        "user",
        "add",
        "kari",
        "--name",
        "Kari Berg",
        "--role",
        "service_owner",
    ]);
    with_db(&mut add, dir.path(), &url);
    let out = add
        .env("HELSEBRO_NEW_PASSWORD", "a-long-cli-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut bad = bin();
    bad.args([
        "user",
        "add",
        "Not Valid",
        "--name",
        "X",
        "--role",
        "wizard",
    ]);
    with_db(&mut bad, dir.path(), &url);
    let out = bad.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));

    {
        let (_server, base, _) = serve(dir.path(), &url, false);
        let c = common::http_client();
        for password in ["wrong-password-1", "a-long-cli-password"] {
            c.post(format!("{base}/api/v1/auth/login"))
                .json(&serde_json::json!({"username": "kari", "password": password}))
                .send()
                .await
                .unwrap();
        }
    }

    let verify = || {
        let mut v = bin();
        v.args(["audit", "verify"]);
        with_db(&mut v, dir.path(), &url);
        v.output().unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));

    let db_url = if common::backend() == "sqlite" {
        helsebro_store::Store::sqlite_url_in(dir.path())
    } else {
        url.clone()
    };
    let store = helsebro_store::Store::connect(&db_url, 1).await.unwrap();
    let pool = store.raw_pool();
    common::remove_audit_guard(pool).await;
    let changed =
        sqlx::query("UPDATE audit_log SET outcome = 'success' WHERE action = 'login.failed'")
            .execute(pool)
            .await
            .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    store.close().await;

    let broken = verify();
    assert_eq!(
        broken.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&broken.stdout)
    );
    assert!(String::from_utf8_lossy(&broken.stdout).contains("altered"));
}

#[tokio::test]
async fn built_in_tls_serves_https_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database_url(dir.path()).await;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let env = [
        ("HELSEBRO_TLS_CERT", cert_path.display().to_string()),
        ("HELSEBRO_TLS_KEY", key_path.display().to_string()),
    ];
    let (_server, base, _) = serve_with(dir.path(), &url, false, &env);
    assert!(base.starts_with("https://"), "{base}");
    // curl speaks TLS with its own stack; -k accepts the self-signed certificate.
    let out = Command::new("curl")
        .args([
            "-sk",
            "-D",
            "-",
            "-o",
            "/dev/null",
            &format!("{base}/login"),
        ])
        .output()
        .expect("curl is installed");
    let headers = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(headers.starts_with("http/"), "an HTTPS answer: {headers}");
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "{headers}"
    );
    assert!(
        headers.contains("; secure"),
        "cookies are Secure under TLS: {headers}"
    );
    let plain = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{}/login", base.replacen("https", "http", 1)),
        ])
        .output()
        .unwrap();
    assert_ne!(
        String::from_utf8_lossy(&plain.stdout),
        "200",
        "no plain HTTP on the TLS port"
    );
}
