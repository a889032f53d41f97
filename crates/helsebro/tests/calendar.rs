//! Staff calendars and the data-minimisation purge through the real server: iCalendar
//! invitations per host (parsed with Python's icalendar), the personal calendar feed, and
//! the `purge_appointment` job with a fake clock and two runners at once. SQLite by default,
//! PostgreSQL with `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use helsebro_app::App;
use helsebro_domain::Role;
use helsebro_store::JobKind;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sqlx::Row;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

// The test clock starts at 2027-01-15 08:00 UTC, 09:00 in Norway.
const LATER_DAY: &str = "2027-01-28";
const PATIENT_NAME: &str = "Kari Nordmann";
const TITLE: &str = "Sårkontroll etter operasjon";
const RETENTION_DAYS: u32 = 10;

fn nid() -> String {
    helsebro_domain::NationalId::complete("150341123")
        .unwrap()
        .as_str()
        .to_owned()
}

struct World {
    s: TestServer,
    lege: reqwest::Client,
    csrf: String,
    lege_id: String,
    annen_id: String,
    tredje_id: String,
    patient: String,
}

async fn set_email(s: &TestServer, username: &str, email: &str, language: &str) {
    sqlx::query("UPDATE staff SET email = $1, language = $2 WHERE username = $3")
        .bind(email)
        .bind(language)
        .bind(username)
        .execute(s.store.raw_pool())
        .await
        .unwrap();
}

async fn world() -> World {
    let s = TestServer::start_with(|c| c.appointment_retention_days = RETENTION_DAYS).await;
    let lege_id = s.add_staff("lege", &[Role::Clinician]).await.to_string();
    let annen_id = s
        .add_staff("annenlege", &[Role::Clinician])
        .await
        .to_string();
    // A host without an e-mail address gets no calendar message.
    let tredje_id = s
        .add_staff("tredjelege", &[Role::Clinician])
        .await
        .to_string();
    set_email(&s, "lege", "lege@example.org", "nb").await;
    set_email(&s, "annenlege", "annen@example.org", "en").await;
    let (lege, csrf) = s.login("lege").await;
    let res = lege
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": PATIENT_NAME, "birth_date": "1941-03-15", "national_id": nid(), "phone": "912 34 567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let patient = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        s,
        lege,
        csrf,
        lege_id,
        annen_id,
        tredje_id,
        patient,
    }
}

fn booking(w: &World, date: &str, time: &str) -> Value {
    json!({
        "patient_id": w.patient,
        "date": date,
        "time": time,
        "duration_minutes": 30,
        "policy": "consultation",
        "title": TITLE,
        "hosts": [w.lege_id, w.annen_id, w.tredje_id],
        "invitees": [
            {"role": "patient", "display_name": PATIENT_NAME, "phone": "912 34 567", "email": "kari@example.org"},
            {"role": "interpreter", "display_name": "Tolk Ali", "email": "tolk@example.org", "language": "en"}
        ]
    })
}

async fn book(w: &World, body: &Value) -> Value {
    let res = w
        .lege
        .post(w.s.url("/api/v1/appointments"))
        .header("x-csrf-token", &w.csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// A staff calendar message: recipient, subject, body, calendar.
struct StaffMail {
    recipient: String,
    subject: String,
    body: String,
    calendar: String,
}

async fn staff_mails(s: &TestServer, kind: &str) -> Vec<StaffMail> {
    let rows = sqlx::query(
        "SELECT recipient, subject, body, calendar, channel FROM outbox WHERE kind = $1 ORDER BY recipient",
    )
    .bind(kind)
    .fetch_all(s.store.raw_pool())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            assert_eq!(r.get::<String, _>("channel"), "email");
            StaffMail {
                recipient: r.get("recipient"),
                subject: r.get("subject"),
                body: r.get("body"),
                calendar: r
                    .get::<Option<String>, _>("calendar")
                    .expect("an iCalendar attachment"),
            }
        })
        .collect()
}

/// Parses iCalendar text with Python's icalendar (a standard parser, not ours) and returns
/// the calendar's method and its events' properties.
fn parse_ics(ics: &str) -> Value {
    let check = Command::new("python3")
        .args(["-c", "import icalendar"])
        .status()
        .unwrap();
    assert!(
        check.success(),
        "Python's icalendar is missing: pip install icalendar (scripts/test.sh does)"
    );
    let script = r#"
import sys, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = []
for ev in cal.walk('VEVENT'):
    events.append({
        'uid': str(ev.get('UID')),
        'sequence': int(ev.get('SEQUENCE')),
        'summary': str(ev.get('SUMMARY')),
        'description': str(ev.get('DESCRIPTION')),
        'class': str(ev.get('CLASS')),
        'status': str(ev.get('STATUS')),
        'url': str(ev.get('URL')),
        'start': ev.decoded('DTSTART').isoformat(),
        'end': ev.decoded('DTEND').isoformat(),
    })
method = cal.get('METHOD')
print(json.dumps({'method': str(method) if method is not None else None, 'events': events}))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ics.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar refused the calendar: {}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Nothing about the patient or the appointment's purpose anywhere in `text`.
fn assert_no_patient_data(text: &str) {
    for forbidden in [
        "Kari",
        "Nordmann",
        &nid(),
        "Sårkontroll",
        "operasjon",
        "kari@",
    ] {
        assert!(!text.contains(forbidden), "contains {forbidden:?}:\n{text}");
    }
}

#[tokio::test]
async fn hosts_get_one_private_invitation_each_updated_and_cancelled() {
    let w = world().await;
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap().to_owned();

    // One message per host with an e-mail address, each to one address only.
    let mails = staff_mails(&w.s, "staff_calendar_booked").await;
    let recipients: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(recipients, ["annen@example.org", "lege@example.org"]);
    let mut uid = String::new();
    for m in &mails {
        assert_no_patient_data(&format!("{}\n{}\n{}", m.subject, m.body, m.calendar));
        assert!(
            m.body.contains(&format!("/appointments/{id}")),
            "{}",
            m.body
        );
        assert!(m.body.contains(&format!("/calls/{id}")), "{}", m.body);
        let cal = parse_ics(&m.calendar);
        assert_eq!(cal["method"], "REQUEST");
        let events = cal["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e["class"], "PRIVATE");
        assert_eq!(e["status"], "CONFIRMED");
        assert_eq!(e["sequence"], 0);
        // 10:00 in Norway in January is 09:00 UTC.
        assert_eq!(e["start"], "2027-01-28T09:00:00+00:00");
        assert_eq!(e["end"], "2027-01-28T09:30:00+00:00");
        assert!(e["uid"].as_str().unwrap().starts_with(&id));
        assert!(
            e["description"]
                .as_str()
                .unwrap()
                .contains(&format!("/appointments/{id}"))
        );
        uid = e["uid"].as_str().unwrap().to_owned();
    }
    // Each in the host's language.
    let annen = parse_ics(&mails[0].calendar);
    assert_eq!(annen["events"][0]["summary"], "Video appointment");
    let lege = parse_ics(&mails[1].calendar);
    assert_eq!(lege["events"][0]["summary"], "Videotime");

    // Move: the same event (UID), a higher SEQUENCE, the new time.
    let res = w
        .lege
        .patch(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"date": LATER_DAY, "time": "13:15", "duration_minutes": 45}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let moved = staff_mails(&w.s, "staff_calendar_moved").await;
    assert_eq!(moved.len(), 2);
    let mut moved_sequence = 0;
    for m in &moved {
        assert_no_patient_data(&format!("{}\n{}\n{}", m.subject, m.body, m.calendar));
        let cal = parse_ics(&m.calendar);
        assert_eq!(cal["method"], "REQUEST");
        let e = &cal["events"][0];
        assert_eq!(e["uid"], uid.as_str());
        moved_sequence = e["sequence"].as_i64().unwrap();
        assert!(moved_sequence > 0);
        assert_eq!(e["start"], "2027-01-28T12:15:00+00:00");
        assert_eq!(e["end"], "2027-01-28T13:00:00+00:00");
    }

    // Cancel: METHOD:CANCEL for the same event, with a still higher SEQUENCE.
    let res = w
        .lege
        .delete(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let cancelled = staff_mails(&w.s, "staff_calendar_cancelled").await;
    assert_eq!(cancelled.len(), 2);
    for m in &cancelled {
        assert_no_patient_data(&format!("{}\n{}\n{}", m.subject, m.body, m.calendar));
        let cal = parse_ics(&m.calendar);
        assert_eq!(cal["method"], "CANCEL");
        let e = &cal["events"][0];
        assert_eq!(e["uid"], uid.as_str());
        assert_eq!(e["status"], "CANCELLED");
        assert!(e["sequence"].as_i64().unwrap() > moved_sequence);
    }
    // Booking, move and cancel each made exactly one message per host.
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE kind LIKE 'staff_calendar%'")
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 6);
}

/// The path of the feed URL shown on the page after it was made.
async fn make_feed(s: &TestServer, c: &reqwest::Client, csrf: &str) -> String {
    let res = c
        .post(s.url("/me/calendar"))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let url = common::between(
        &page,
        "id=\"feed-url\" type=\"text\" readonly value=\"",
        "\"",
    );
    let path = format!("/calendar/{}", url.rsplit_once("/calendar/").unwrap().1);
    let token = path
        .strip_prefix("/calendar/")
        .unwrap()
        .strip_suffix(".ics")
        .unwrap();
    assert_eq!(token.len(), 64, "256 random bits, hex");
    path
}

async fn audit_count(s: &TestServer, action: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(s.store.raw_pool())
        .await
        .unwrap()
        .get("n")
}

#[tokio::test]
async fn the_feed_lists_only_my_appointments_until_revoked() {
    let w = world().await;
    let mine = book(&w, &booking(&w, LATER_DAY, "10:00")).await["appointment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else's meeting.
    let (annen, annen_csrf) = w.s.login("annenlege").await;
    let res = annen
        .post(w.s.url("/api/v1/appointments"))
        .header("x-csrf-token", &annen_csrf)
        .json(
            &json!({"date": LATER_DAY, "time": "11:00", "duration_minutes": 30,
            "policy": "administrative", "title": "Fagmøte", "hosts": [w.annen_id]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let theirs = res.json::<Value>().await.unwrap()["appointment_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let page = w
        .lege
        .get(w.s.url("/me/calendar"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("feed-url"));

    let path = make_feed(&w.s, &w.lege, &w.csrf).await;
    // Fetched without a login, as a calendar program does.
    let plain = common::http_client();
    let res = plain.get(w.s.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = res.text().await.unwrap();
    assert_no_patient_data(&ics);
    let cal = parse_ics(&ics);
    assert!(cal["method"].is_null(), "a feed has no METHOD");
    let events = cal["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{ics}");
    assert!(events[0]["uid"].as_str().unwrap().starts_with(&mine));
    assert_eq!(events[0]["class"], "PRIVATE");
    assert!(!ics.contains(&theirs));
    assert!(!ics.contains("Fagmøte"));

    // A new feed replaces the old one.
    let newer = make_feed(&w.s, &w.lege, &w.csrf).await;
    assert_ne!(newer, path);
    assert_eq!(
        plain.get(w.s.url(&path)).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        plain.get(w.s.url(&newer)).send().await.unwrap().status(),
        200
    );

    // Revoked: 404, like an unknown or malformed token.
    let res = w
        .lege
        .post(w.s.url("/me/calendar/revoke"))
        .form(&[("csrf_token", w.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for p in [
        newer.clone(),
        format!("/calendar/{}.ics", "ab".repeat(32)),
        "/calendar/short.ics".to_owned(),
        newer.trim_end_matches(".ics").to_owned(),
    ] {
        let res = plain.get(w.s.url(&p)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{p}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("BEGIN:VCALENDAR"));
    }

    // Only hashes are stored.
    let token = newer
        .strip_prefix("/calendar/")
        .unwrap()
        .strip_suffix(".ics")
        .unwrap();
    let stored: Vec<String> = sqlx::query("SELECT token_hash FROM calendar_feeds")
        .fetch_all(w.s.store.raw_pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("token_hash"))
        .collect();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h != token && h.len() == 64));

    assert_eq!(audit_count(&w.s, "calendar_feed.created").await, 2);
    assert_eq!(audit_count(&w.s, "calendar_feed.revoked").await, 1);
}

/// The appointment's fields that the purge keeps or clears.
async fn appointment_row(s: &TestServer, id: &str) -> sqlx::any::AnyRow {
    sqlx::query(
        "SELECT title, outcome_note, patient_id, purged_at, starts_at, duration_minutes, unit_id, \
         policy, outcome, outcome_minutes FROM appointments WHERE id = $1",
    )
    .bind(id)
    .fetch_one(s.store.raw_pool())
    .await
    .unwrap()
}

async fn count_where(s: &TestServer, sql: &str, id: &str) -> i64 {
    sqlx::query(sql)
        .bind(id)
        .fetch_one(s.store.raw_pool())
        .await
        .unwrap()
        .get("n")
}

const TOKENS_OF: &str = "SELECT COUNT(*) AS n FROM invitation_tokens WHERE invitation_id IN \
     (SELECT id FROM invitations WHERE appointment_id = $1)";
const CONTACTS_OF: &str = "SELECT COUNT(*) AS n FROM invitations WHERE appointment_id = $1 \
     AND (phone IS NOT NULL OR email IS NOT NULL OR display_name <> role)";
const ADDRESSED_MESSAGES_OF: &str =
    "SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE $1 AND recipient <> ''";

#[tokio::test]
async fn the_purge_keeps_statistics_only_after_the_retention_once() {
    let w = world().await;
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap().to_owned();
    let link = booked["links"][0]["link"].as_str().unwrap().to_owned();
    let token = link.rsplit_once("/join/").unwrap().1.to_owned();
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/outcome")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"outcome": "held", "minutes": 25, "note": "Tolken kom sent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let before = appointment_row(&w.s, &id).await;
    let messages_key = format!("appt:{id}:%");

    // Planned at the end (10:30 Norwegian, 09:30 UTC) + the retention.
    let end: Timestamp = "2027-01-28T09:30:00Z".parse().unwrap();
    let purge_at = end + SignedDuration::from_hours(24 * i64::from(RETENTION_DAYS));
    let job =
        w.s.store
            .job(JobKind::PurgeAppointment, &id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(job.run_at, purge_at);
    assert_eq!(job.status, "scheduled");

    // A minute before: nothing happens.
    w.s.clock.set(purge_at - SignedDuration::from_mins(1));
    assert_eq!(w.s.app.run_due_jobs().await.unwrap(), 0);
    let row = appointment_row(&w.s, &id).await;
    assert_eq!(row.get::<String, _>("title"), TITLE);
    assert_eq!(row.get::<String, _>("outcome_note"), "Tolken kom sent");
    assert_eq!(
        row.get::<Option<String>, _>("patient_id"),
        Some(w.patient.clone())
    );
    assert!(row.get::<Option<i64>, _>("purged_at").is_none());
    assert!(count_where(&w.s, TOKENS_OF, &id).await >= 2);
    assert_eq!(count_where(&w.s, CONTACTS_OF, &id).await, 2);
    assert!(count_where(&w.s, ADDRESSED_MESSAGES_OF, &messages_key).await > 0);

    // Due: two runners at once (two App instances on one database) run it once between them.
    w.s.clock.set(purge_at + SignedDuration::from_mins(1));
    let other = App::with_clock(
        w.s.store.clone(),
        w.s.app.config().clone(),
        Arc::new(w.s.clock.clone()),
    );
    let (a, b) = tokio::join!(w.s.app.run_due_jobs(), other.run_due_jobs());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(audit_count(&w.s, "appointment.purged").await, 1);

    let row = appointment_row(&w.s, &id).await;
    assert_eq!(row.get::<String, _>("title"), "");
    assert_eq!(row.get::<String, _>("outcome_note"), "");
    assert!(row.get::<Option<String>, _>("patient_id").is_none());
    assert!(row.get::<Option<i64>, _>("purged_at").is_some());
    // The statistics remain.
    for col in ["starts_at", "duration_minutes", "outcome_minutes"] {
        assert_eq!(
            row.get::<Option<i64>, _>(col),
            before.get::<Option<i64>, _>(col),
            "{col}"
        );
    }
    for col in ["unit_id", "policy", "outcome"] {
        assert_eq!(
            row.get::<Option<String>, _>(col),
            before.get::<Option<String>, _>(col),
            "{col}"
        );
    }
    assert_eq!(
        row.get::<Option<String>, _>("outcome").as_deref(),
        Some("held")
    );
    assert_eq!(row.get::<Option<i64>, _>("outcome_minutes"), Some(25));
    // Contact details, names, token hashes and message addresses are gone.
    assert_eq!(count_where(&w.s, TOKENS_OF, &id).await, 0);
    assert_eq!(count_where(&w.s, CONTACTS_OF, &id).await, 0);
    assert_eq!(
        count_where(&w.s, ADDRESSED_MESSAGES_OF, &messages_key).await,
        0
    );
    let invitations = sqlx::query(
        "SELECT display_name, token_hash FROM invitations WHERE appointment_id = $1 ORDER BY role",
    )
    .bind(&id)
    .fetch_all(w.s.store.raw_pool())
    .await
    .unwrap();
    let names: Vec<String> = invitations.iter().map(|r| r.get("display_name")).collect();
    assert_eq!(names, ["interpreter", "patient"]);
    for r in &invitations {
        assert!(r.get::<String, _>("token_hash").starts_with("purged:"));
    }
    let leftovers: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE $1 AND (body LIKE '%/join/%' OR calendar IS NOT NULL)",
    )
    .bind(&messages_key)
    .fetch_one(w.s.store.raw_pool())
    .await
    .unwrap()
    .get("n");
    assert_eq!(leftovers, 0);
    // The old link leads nowhere.
    assert!(w.s.app.resolve_join_token(&token).await.is_err());

    // Done, and never run again.
    let job =
        w.s.store
            .job(JobKind::PurgeAppointment, &id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(job.status, "done");
    assert_eq!(job.attempts, 1);
    w.s.clock.advance(SignedDuration::from_hours(48));
    assert_eq!(w.s.app.run_due_jobs().await.unwrap(), 0);
    assert_eq!(other.run_due_jobs().await.unwrap(), 0);
    assert_eq!(audit_count(&w.s, "appointment.purged").await, 1);
    // The audit log was not touched: its chain is intact, the booking entry still there.
    assert!(w.s.app.verify_audit_chain().await.unwrap().is_ok());
    assert!(audit_count(&w.s, "appointment.booked").await >= 1);
}

#[tokio::test]
async fn moving_and_cancelling_move_the_purge_and_runners_share_many_jobs() {
    let w = world().await;
    let days = SignedDuration::from_hours(24 * i64::from(RETENTION_DAYS));
    let job_of = |id: String| {
        let store = w.s.store.clone();
        async move {
            store
                .job(JobKind::PurgeAppointment, &id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let id = book(&w, &booking(&w, LATER_DAY, "10:00")).await["appointment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = w
        .lege
        .patch(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"date": "2027-02-03", "time": "14:00", "duration_minutes": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // 15:00 Norwegian = 14:00 UTC.
    let end: Timestamp = "2027-02-03T14:00:00Z".parse().unwrap();
    assert_eq!(job_of(id.clone()).await.run_at, end + days);

    let res = w
        .lege
        .delete(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let cancelled_at = w.s.app.now();
    assert_eq!(job_of(id.clone()).await.run_at, cancelled_at + days);

    // Five more appointments, all due at once: two runners take each exactly once.
    let mut ids = vec![id];
    for hour in ["08:00", "09:00", "11:00", "12:00", "13:00"] {
        let b = book(&w, &booking(&w, LATER_DAY, hour)).await;
        ids.push(b["appointment_id"].as_str().unwrap().to_owned());
    }
    w.s.clock.set("2027-03-01T00:00:00Z".parse().unwrap());
    let other = App::with_clock(
        w.s.store.clone(),
        w.s.app.config().clone(),
        Arc::new(w.s.clock.clone()),
    );
    let (a, b) = tokio::join!(w.s.app.run_due_jobs(), other.run_due_jobs());
    assert_eq!(a.unwrap() + b.unwrap(), ids.len());
    assert_eq!(
        audit_count(&w.s, "appointment.purged").await,
        ids.len() as i64
    );
    for id in ids {
        let job = job_of(id.clone()).await;
        assert_eq!((job.status.as_str(), job.attempts), ("done", 1), "{id}");
        assert_eq!(count_where(&w.s, CONTACTS_OF, &id).await, 0, "{id} purged");
    }
}
