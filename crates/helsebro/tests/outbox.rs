//! The outbox against real receivers: a real SMTP server (aiosmtpd from PyPI) and an HTTP SMS
//! gateway served by the test. Includes the crash test: `kill -9` of the server while it
//! sends, a restart, and a count of what the SMTP server received.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use helsebro_domain::{FakeClock, SystemClock};
use helsebro_notify::providers::{Provider, SmsGatewaySettings, SmtpSecurity, SmtpSettings};
use helsebro_notify::sender::{Sender, SenderSettings};
use helsebro_store::{NewMessage, OutboxChannel, Store};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real SMTP server that stores every message it accepts in a maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let check = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .unwrap();
        assert!(
            check.success(),
            "the SMTP test server is missing: pip install aiosmtpd (scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        SmtpServer {
            child,
            port,
            maildir,
            _dir: dir,
        }
    }

    /// How many times each Message-ID arrived.
    fn received(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                if let Some(id) = text.lines().find_map(|l| {
                    l.strip_prefix("Message-ID: ")
                        .or_else(|| l.strip_prefix("Message-Id: "))
                }) {
                    *seen.entry(id.trim().to_owned()).or_insert(0) += 1;
                }
            }
        }
        seen
    }

    fn total(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(self.maildir.join(sub))
                    .map(|d| d.count())
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn email(n: usize) -> NewMessage {
    NewMessage {
        channel: OutboxChannel::Email,
        recipient: format!("pasient{n}@example.org"),
        subject: "Videotime".into(),
        body: format!("Melding nummer {n}. Denne meldingen kan ikke besvares."),
        calendar: None,
        kind: "test".into(),
        not_before: Timestamp::now(),
        dedupe_key: Some(format!("test-{n}")),
    }
}

async fn open(dir: &Path) -> (Store, String) {
    let url = common::fresh_database_url(dir).await;
    let store = Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

fn start_server(dir: &Path, url: &str, smtp_port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helsebro"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir);
    if common::backend() == "postgres" {
        cmd.env("HELSEBRO_DATABASE_URL", url);
    }
    cmd.env("HELSEBRO_EMAIL_PROVIDER", "smtp")
        .env("HELSEBRO_SMTP_HOST", "127.0.0.1")
        .env("HELSEBRO_SMTP_PORT", smtp_port.to_string())
        .env("HELSEBRO_SMTP_SECURITY", "none")
        .env(
            "HELSEBRO_SMTP_FROM",
            "Helsebro test <ikke-svar@example.org>",
        )
        .env("HELSEBRO_OUTBOX_LEASE_SECONDS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn status_counts(store: &Store) -> HashMap<String, i64> {
    store.outbox_counts().await.unwrap().into_iter().collect()
}

#[tokio::test]
async fn kill_9_while_sending_loses_nothing_and_repeats_only_what_was_in_flight() {
    const N: usize = 600;
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (store, url) = open(dir.path()).await;
    let messages: Vec<NewMessage> = (0..N).map(email).collect();
    assert_eq!(
        store
            .enqueue_messages(&messages, None, Timestamp::now())
            .await
            .unwrap()
            .len(),
        N
    );
    // Queuing the same logical messages again adds nothing.
    assert!(
        store
            .enqueue_messages(&messages[..10], None, Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );

    let mut server = start_server(dir.path(), &url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(120);
    while smtp.total() < 40 {
        assert!(
            Instant::now() < deadline,
            "the server did not start sending"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill().unwrap(); // SIGKILL: no clean-up of any kind
    server.wait().unwrap();
    let before_restart = smtp.total();
    let in_flight = status_counts(&store)
        .await
        .get("sending")
        .copied()
        .unwrap_or(0) as usize;
    assert!(
        before_restart < N,
        "the kill came after everything was sent ({before_restart}); raise N"
    );
    println!("delivered before the kill: {before_restart}; in flight at the kill: {in_flight}");

    let mut server = start_server(dir.path(), &url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let counts = status_counts(&store).await;
        if counts.get("sent").copied().unwrap_or(0) as usize == N {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not everything was sent after the restart: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let received = smtp.received();
    assert_eq!(received.len(), N, "every message arrived");
    let repeated: usize = received.values().map(|n| n - 1).sum();
    assert!(
        received.values().all(|n| *n <= 2),
        "no message more than twice"
    );
    assert!(
        repeated <= in_flight,
        "only messages in flight at the kill may repeat: {repeated} > {in_flight}"
    );
    println!("repeated deliveries: {repeated} (at most {in_flight} allowed)");
}

#[tokio::test]
async fn smtp_outage_leaves_messages_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path()).await;
    store
        .enqueue_messages(&[email(1)], None, Timestamp::now())
        .await
        .unwrap();
    let closed_port = free_port();
    let smtp = Provider::smtp(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: closed_port,
        security: SmtpSecurity::None,
        username: String::new(),
        password: String::new(),
        from: "ikke-svar@example.org".into(),
    })
    .unwrap();
    let sender = Sender::new(
        store.clone(),
        Arc::new(SystemClock),
        smtp,
        Provider::DevOutbox,
        SenderSettings::default(),
    );
    assert_eq!(sender.run_once().await.unwrap(), 1);
    let m = &store.recent_messages(10).await.unwrap()[0];
    assert_eq!(m.status, "queued", "kept for another try");
    assert_eq!(m.attempts, 1);
    assert!(m.next_attempt_at > Timestamp::now(), "with back-off");
    assert!(!m.last_answer.is_empty());
}

/// A test SMS gateway: answers with the statuses it is given, in order, and records requests.
async fn gateway(answers: Vec<u16>) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let seen2 = seen.clone();
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen2.clone();
            let answers = answers.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push((auth, body));
                let code = answers.lock().unwrap().next().unwrap_or(200);
                (
                    StatusCode::from_u16(code).unwrap(),
                    if code == 200 {
                        "{\"status\":\"accepted\"}"
                    } else {
                        "error"
                    },
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/sms"), seen)
}

#[tokio::test]
async fn sms_gateway_retries_with_backoff_and_fails_for_good_on_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path()).await;
    let clock = FakeClock::new(Timestamp::now());
    let (url, seen) = gateway(vec![503, 200, 400]).await;
    let sms = Provider::http_sms(SmsGatewaySettings {
        url,
        auth_header: "Authorization: Bearer test-key".into(),
        content_type: "application/json".into(),
        body_template: r#"{"to":"{to}","message":"{text}"}"#.into(),
        success_contains: "accepted".into(),
    })
    .unwrap();
    let sender = Sender::new(
        store.clone(),
        Arc::new(clock.clone()),
        Provider::DevOutbox,
        sms,
        SenderSettings::default(),
    );
    let sms_message = |n: usize| NewMessage {
        channel: OutboxChannel::Sms,
        recipient: format!("+47912345{n:02}"),
        subject: String::new(),
        body: "Hei! Timen din er i morgen kl. 10.30. Denne meldingen kan ikke besvares.".into(),
        calendar: None,
        kind: "reminder_day_before".into(),
        not_before: clock.now_ts(),
        dedupe_key: None,
    };
    store
        .enqueue_messages(&[sms_message(1)], None, clock.now_ts())
        .await
        .unwrap();

    assert_eq!(sender.run_once().await.unwrap(), 1, "first attempt: 503");
    assert_eq!(
        sender.run_once().await.unwrap(),
        0,
        "not due again before the back-off"
    );
    clock.advance(SignedDuration::from_secs(31));
    assert_eq!(sender.run_once().await.unwrap(), 1, "second attempt: 200");
    let m = &store.recent_messages(1).await.unwrap()[0];
    assert_eq!((m.status.as_str(), m.attempts), ("sent", 2));
    assert!(m.last_answer.starts_with("200"), "{}", m.last_answer);

    store
        .enqueue_messages(&[sms_message(2)], None, clock.now_ts())
        .await
        .unwrap();
    sender.run_once().await.unwrap();
    let m = &store.recent_messages(1).await.unwrap()[0];
    assert_eq!(
        m.status, "failed",
        "a 400 will not get better by trying again"
    );

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|(auth, _)| auth == "Bearer test-key"));
    let body: serde_json::Value = serde_json::from_str(&requests[1].1).unwrap();
    assert_eq!(body["to"], "+4791234501");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("kan ikke besvares")
    );
}

trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for FakeClock {
    fn now_ts(&self) -> Timestamp {
        helsebro_domain::Clock::now(self)
    }
}

#[tokio::test]
async fn reminders_fire_at_their_moment_across_daylight_saving() {
    use helsebro_notify::schedule::{ReminderPolicy, oslo, reminder_times};
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path()).await;
    // Booked on 1 March for Monday 30 March 10:00; summer time starts on Sunday 29 March.
    let booked: Timestamp = "2026-03-01T09:00:00Z".parse().unwrap();
    let start: Timestamp = "2026-03-30T08:00:00Z".parse().unwrap();
    let clock = FakeClock::new(booked);
    let times = reminder_times(start, booked, &ReminderPolicy::default(), &oslo());
    let messages: Vec<NewMessage> = times
        .iter()
        .map(|(kind, when)| NewMessage {
            channel: OutboxChannel::Sms,
            recipient: "+4791234567".into(),
            subject: String::new(),
            body: format!("{kind:?}"),
            calendar: None,
            kind: format!("{kind:?}"),
            not_before: *when,
            dedupe_key: Some(format!("appointment-1-{kind:?}")),
        })
        .collect();
    store
        .enqueue_messages(&messages, None, booked)
        .await
        .unwrap();
    let sender = Sender::new(
        store.clone(),
        Arc::new(clock.clone()),
        Provider::DevOutbox,
        Provider::DevOutbox,
        SenderSettings::default(),
    );

    let mut fired = Vec::new();
    for (_, when) in &times {
        clock.set(*when - SignedDuration::from_secs(1));
        assert_eq!(
            sender.run_once().await.unwrap(),
            0,
            "nothing a second early"
        );
        clock.set(*when);
        assert_eq!(sender.run_once().await.unwrap(), 1, "due at {when}");
        fired.push(
            store
                .recent_messages(10)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.status == "sent")
                .count(),
        );
    }
    assert_eq!(fired, vec![1, 2]);
    // 12:00 local both times: 11:00 UTC in winter, 10:00 UTC in summer.
    assert_eq!(
        times[0].1,
        "2026-03-20T11:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        times[1].1,
        "2026-03-29T10:00:00Z".parse::<Timestamp>().unwrap()
    );
}
