//! Video appointments through the real server: booking, care-team checks, join links (only
//! hashed in the database, a validity window, revocation), moving and cancelling with their
//! messages, ad-hoc rooms and the outcome. SQLite by default, PostgreSQL with
//! `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use common::appointments::{book, booking, token_of, world};
use helsebro_app::AppError;
use helsebro_domain::Role;
use jiff::SignedDuration;
use serde_json::{Value, json};
use sqlx::{Column, Row};

// The test clock starts at 2027-01-15 08:00 UTC, 09:00 in Norway.
const LATER_DAY: &str = "2027-01-28";

/// (kind, status, recipient, body) of every outbox message, oldest first.
async fn outbox(s: &TestServer) -> Vec<(String, String, String, String)> {
    let rows =
        sqlx::query("SELECT kind, status, recipient, body FROM outbox ORDER BY created_at, id")
            .fetch_all(s.store.raw_pool())
            .await
            .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("kind"),
                r.get("status"),
                r.get("recipient"),
                r.get("body"),
            )
        })
        .collect()
}

async fn count(s: &TestServer, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(s.store.raw_pool())
        .await
        .unwrap()
        .get("n")
}

#[tokio::test]
async fn booking_lists_the_appointment_and_queues_invitations_and_reminders() {
    let w = world().await;
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap();
    let links = booked["links"].as_array().unwrap();
    assert_eq!(links.len(), 2);
    for l in links {
        let token = token_of(l["link"].as_str().unwrap());
        assert_eq!(token.len(), 64, "256 random bits, hex");
    }

    let list: Vec<Value> = w
        .lege
        .get(w.s.url(&format!("/api/v1/appointments?date={LATER_DAY}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["appointment"]["id"], id);
    assert_eq!(list[0]["appointment"]["patient_name"], "Kari Nordmann");
    assert_eq!(list[0]["live_state"], "idle");
    // 10:00 in Norway in winter is 09:00 UTC.
    assert_eq!(list[0]["appointment"]["starts_at"], "2027-01-28T09:00:00Z");
    let other_day: Vec<Value> = w
        .lege
        .get(w.s.url("/api/v1/appointments?date=2027-01-27"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other_day.is_empty());

    let details: Value = w
        .lege
        .get(w.s.url(&format!("/api/v1/appointments/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(details["invitations"].as_array().unwrap().len(), 2);
    assert_eq!(details["invitations"][1]["role"], "interpreter");
    assert_eq!(details["invitations"][0]["phone"], "+4791234567");

    // The day page and the appointment page show it.
    let page = w
        .lege
        .get(w.s.url(&format!("/appointments?date={LATER_DAY}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Kari Nordmann"), "{page}");
    let page = w
        .lege
        .get(w.s.url(&format!("/appointments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("/calls/{id}")));
    assert!(page.contains("Tolk Ali"));

    // Invitation by SMS to the patient and by e-mail to the interpreter, and both reminders
    // to each; every one carries a link, none the title.
    let messages = outbox(&w.s).await;
    let kinds = |k: &str| messages.iter().filter(|m| m.0 == k).count();
    assert_eq!(kinds("invitation"), 2, "{messages:?}");
    assert_eq!(kinds("reminder_ten_days"), 2);
    assert_eq!(kinds("reminder_day_before"), 2);
    for m in &messages {
        assert_eq!(m.1, "queued");
        assert!(m.3.contains("/join/"), "{m:?}");
        assert!(!m.3.contains("Sårkontroll"), "no title in messages: {m:?}");
        assert!(!m.3.contains("Kari"), "no patient name in messages: {m:?}");
    }
    assert!(messages.iter().any(|m| m.2 == "+4791234567"));
    assert!(messages.iter().any(|m| m.2 == "tolk@example.org"));
    // The day-before reminder links to the self-test.
    assert!(
        messages
            .iter()
            .any(|m| m.0 == "reminder_day_before" && m.3.contains("/selftest"))
    );

    // Booked is audit-logged with the patient.
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'appointment.booked' AND patient_id = $1",
    )
    .bind(&w.patient)
    .fetch_one(w.s.store.raw_pool())
    .await
    .unwrap()
    .get("n");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn only_the_care_team_books_and_only_hosts_see_an_appointment() {
    let w = world().await;
    let (other, other_csrf) = w.s.login("annenlege").await;
    let res = other
        .post(w.s.url("/api/v1/appointments"))
        .header("x-csrf-token", &other_csrf)
        .json(&booking(&w, LATER_DAY, "10:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(count(&w.s, "appointments").await, 0);
    assert_eq!(count(&w.s, "outbox").await, 0);

    // An administrator does not treat patients at all.
    let (admin, admin_csrf) = w.s.login("admin2").await;
    let res = admin
        .post(w.s.url("/api/v1/appointments"))
        .header("x-csrf-token", &admin_csrf)
        .json(&booking(&w, LATER_DAY, "10:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap();
    for (method, path) in [
        ("GET", format!("/api/v1/appointments/{id}")),
        ("DELETE", format!("/api/v1/appointments/{id}")),
    ] {
        let res = other
            .request(method.parse().unwrap(), w.s.url(&path))
            .header("x-csrf-token", &other_csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method} {path}");
    }
    let res = other
        .get(w.s.url(&format!("/appointments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The other clinician's list is empty.
    let list: Vec<Value> = other
        .get(w.s.url(&format!("/api/v1/appointments?date={LATER_DAY}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list.is_empty());
}

#[tokio::test]
async fn the_database_never_holds_a_plain_token() {
    let w = world().await;
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap();
    // A link handed over by hand (no phone, no e-mail) exists only in this answer.
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/invitations")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"role": "relative", "display_name": "Ola Nordmann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let link: Value = res.json().await.unwrap();
    let token = token_of(link["link"].as_str().unwrap());
    let mut tokens = vec![token];
    // The links sent by message are in the outbox (that is how they are delivered), but
    // never in the appointment tables.
    for l in booked["links"].as_array().unwrap() {
        tokens.push(token_of(l["link"].as_str().unwrap()));
    }
    for table in [
        "appointments",
        "appointment_hosts",
        "invitations",
        "invitation_tokens",
        "audit_log",
        "sessions",
    ] {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(w.s.store.raw_pool())
            .await
            .unwrap();
        for row in &rows {
            for (i, col) in row.columns().iter().enumerate() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    for t in &tokens {
                        assert!(
                            !text.contains(t.as_str()),
                            "{table}.{} holds a plain token",
                            col.name()
                        );
                    }
                }
            }
        }
    }
    // The hand-over link is nowhere, not even in the outbox.
    let messages = outbox(&w.s).await;
    assert!(messages.iter().all(|m| !m.3.contains(&tokens[0])));
}

#[tokio::test]
async fn links_work_only_in_their_window_and_until_revoked_or_spent() {
    let w = world().await;
    // Today 11:00 in Norway (10:00 UTC); the clock says 08:00 UTC. Links open an hour before.
    let booked = book(&w, &booking(&w, "2027-01-15", "11:00")).await;
    let id = booked["appointment_id"].as_str().unwrap().to_owned();
    let patient_token = token_of(booked["links"][0]["link"].as_str().unwrap());
    let interpreter_token = token_of(booked["links"][1]["link"].as_str().unwrap());
    let app = &w.s.app;

    let unknown = app
        .resolve_join_token(&"ab".repeat(32))
        .await
        .unwrap_err()
        .to_string();
    let garbage = app.resolve_join_token("x").await.unwrap_err().to_string();
    assert_eq!(unknown, garbage);
    let same_as_unknown = |e: AppError| {
        assert!(matches!(e, AppError::NotFound(_)), "{e:?}");
        assert_eq!(e.to_string(), unknown);
    };

    // Too early.
    same_as_unknown(app.resolve_join_token(&patient_token).await.unwrap_err());
    // 09:05 UTC: open.
    w.s.clock.advance(SignedDuration::from_mins(65));
    let grant = app.resolve_join_token(&patient_token).await.unwrap();
    assert_eq!(grant.appointment_id.to_string(), id);
    assert_eq!(grant.display_name, "Kari Nordmann");
    assert!(grant.phone_on_file);
    assert_eq!(grant.role.code(), "patient");
    let grant = app.resolve_join_token(&interpreter_token).await.unwrap();
    assert!(!grant.phone_on_file);
    assert_eq!(grant.language.code(), "en");

    // Spent (a host removed the participant): the same answer as an unknown link.
    app.mark_invitation_spent(grant.invitation_id)
        .await
        .unwrap();
    same_as_unknown(
        app.resolve_join_token(&interpreter_token)
            .await
            .unwrap_err(),
    );

    // Revoked through the API (logged in again: the clock has passed the idle timeout).
    let (lege, csrf) = w.s.login("lege").await;
    let details: Value = lege
        .get(w.s.url(&format!("/api/v1/appointments/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let patient_inv = details["invitations"][0]["id"].as_str().unwrap();
    let res = lege
        .post(w.s.url(&format!("/api/v1/invitations/{patient_inv}/revoke")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    same_as_unknown(app.resolve_join_token(&patient_token).await.unwrap_err());

    // A new invitee's link works until two hours after the end (10:30 + 2 h = 12:30 UTC).
    let res = lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/invitations")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"role": "relative", "display_name": "Ola"}))
        .send()
        .await
        .unwrap();
    let token = token_of(res.json::<Value>().await.unwrap()["link"].as_str().unwrap());
    w.s.clock.advance(SignedDuration::from_mins(200)); // 12:25 UTC
    assert!(app.resolve_join_token(&token).await.is_ok());
    w.s.clock.advance(SignedDuration::from_mins(6)); // 12:31 UTC
    same_as_unknown(app.resolve_join_token(&token).await.unwrap_err());
}

#[tokio::test]
async fn moving_and_cancelling_replace_the_messages() {
    let w = world().await;
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap().to_owned();
    let old_token = token_of(booked["links"][0]["link"].as_str().unwrap());
    assert_eq!(outbox(&w.s).await.len(), 6);

    let res = w
        .lege
        .patch(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"date": "2027-02-03", "time": "13:15", "duration_minutes": 45}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["starts_at"], "2027-02-03T12:15:00Z");
    assert_eq!(moved["duration_minutes"], 45);

    let messages = outbox(&w.s).await;
    let with = |kind: &str, status: &str| {
        messages
            .iter()
            .filter(|m| m.0 == kind && m.1 == status)
            .count()
    };
    // The old reminders are withdrawn; the invitations already queued stay.
    assert_eq!(with("reminder_ten_days", "withdrawn"), 2, "{messages:?}");
    assert_eq!(with("reminder_day_before", "withdrawn"), 2);
    assert_eq!(with("invitation", "queued"), 2);
    // The new time, with new reminders.
    assert_eq!(with("changed", "queued"), 2);
    assert_eq!(with("reminder_ten_days", "queued"), 2);
    assert_eq!(with("reminder_day_before", "queued"), 2);
    let changed = messages
        .iter()
        .find(|m| m.0 == "changed" && m.2 == "+4791234567")
        .unwrap();
    assert!(changed.3.contains("13.15"), "{}", changed.3);
    // Both the old link and the new one open the moved appointment's room in its new window.
    let new_token = changed.3.split("/join/").nth(1).unwrap()[..64].to_owned();
    w.s.clock.set("2027-02-03T11:30:00Z".parse().unwrap());
    assert!(w.s.app.resolve_join_token(&old_token).await.is_ok());
    assert!(w.s.app.resolve_join_token(&new_token).await.is_ok());

    // Cancelling tells each invitee and withdraws what is still unsent.
    let before = outbox(&w.s).await.len();
    w.s.clock.set("2027-01-15T08:00:00Z".parse().unwrap());
    let res = w
        .lege
        .delete(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let messages = outbox(&w.s).await;
    assert_eq!(messages.len(), before + 2, "one cancellation per invitee");
    let with = |kind: &str, status: &str| {
        messages
            .iter()
            .filter(|m| m.0 == kind && m.1 == status)
            .count()
    };
    assert_eq!(with("cancelled", "queued"), 2);
    assert_eq!(with("reminder_ten_days", "queued"), 0);
    assert_eq!(with("reminder_day_before", "queued"), 0);
    assert!(
        messages
            .iter()
            .filter(|m| m.0 == "cancelled")
            .all(|m| !m.3.contains("/join/"))
    );
    // A second cancel changes nothing; the links are dead.
    let res = w
        .lege
        .delete(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(outbox(&w.s).await.len(), before + 2);
    w.s.clock.set("2027-02-03T11:30:00Z".parse().unwrap());
    assert!(w.s.app.resolve_join_token(&new_token).await.is_err());
    let actions: Vec<String> =
        sqlx::query("SELECT action FROM audit_log WHERE object = $1 ORDER BY seq")
            .bind(format!("appointment:{id}"))
            .fetch_all(w.s.store.raw_pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("action"))
            .collect();
    assert_eq!(
        actions,
        [
            "appointment.booked",
            "appointment.moved",
            "appointment.cancelled"
        ]
    );
}

#[tokio::test]
async fn ad_hoc_rooms_and_outcomes_with_minutes_from_the_call() {
    let w = world().await;
    // From the start page: the room opens and the host goes to its call page.
    let res = w
        .lege
        .post(w.s.url("/rooms"))
        .form(&[
            ("csrf_token", w.csrf.as_str()),
            ("patient_id", w.patient.as_str()),
            ("role", "patient"),
            ("name", "Kari"),
            ("phone", "912 34 567"),
            ("email", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/calls/"), "{location}");
    let messages = outbox(&w.s).await;
    assert_eq!(
        messages.len(),
        1,
        "the link goes by SMS at once, no reminders"
    );
    assert_eq!(messages[0].0, "invitation");

    // Over the API, without a patient: one link to hand over, valid for 12 hours.
    let res = w
        .lege
        .post(w.s.url("/api/v1/rooms"))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let room: Value = res.json().await.unwrap();
    let id = room["appointment_id"].as_str().unwrap().to_owned();
    assert_eq!(room["host_path"], format!("/calls/{id}"));
    let token = token_of(room["invitation"]["link"].as_str().unwrap());
    let grant = w.s.app.resolve_join_token(&token).await.unwrap();
    assert_eq!(grant.policy.code(), "administrative");
    // Today's list on the start page has it.
    let home = w
        .lege
        .get(w.s.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(&format!("/appointments/{id}")));

    // The call runs 17 minutes 10 seconds; a second start and an early end change nothing.
    let appt: uuid::Uuid = id.parse().unwrap();
    w.s.app.record_call_started(appt).await.unwrap();
    w.s.clock.advance(SignedDuration::from_mins(5));
    w.s.app.record_call_started(appt).await.unwrap();
    w.s.app.record_call_ended(appt).await.unwrap();
    w.s.clock.advance(SignedDuration::from_secs(12 * 60 + 10));
    w.s.app.record_call_ended(appt).await.unwrap();
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/outcome")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"outcome": "held"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let a: Value = res.json().await.unwrap();
    assert_eq!(a["outcome"], "held");
    assert_eq!(a["outcome_minutes"], 18);
    // The host corrects it.
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/outcome")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"outcome": "held", "minutes": 15, "note": "Lyden falt ut mot slutten"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["outcome_minutes"], 15);

    // A fallback recorded during a call that has not ended: minutes until now.
    let booked = book(&w, &booking(&w, "2027-01-15", "11:00")).await;
    let id2 = booked["appointment_id"].as_str().unwrap().to_owned();
    w.s.app
        .record_call_started(id2.parse().unwrap())
        .await
        .unwrap();
    w.s.clock.advance(SignedDuration::from_mins(4));
    let res = w
        .lege
        .post(w.s.url(&format!("/appointments/{id2}/outcome")))
        .form(&[
            ("csrf_token", w.csrf.as_str()),
            ("outcome", "fallback_phone"),
            ("minutes", ""),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let d: Value = w
        .lege
        .get(w.s.url(&format!("/api/v1/appointments/{id2}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["appointment"]["outcome"], "fallback_phone");
    assert_eq!(d["appointment"]["outcome_minutes"], 4);

    // The ad-hoc link ends after 12 hours.
    w.s.clock.advance(SignedDuration::from_hours(12));
    assert!(w.s.app.resolve_join_token(&token).await.is_err());

    // Someone who is not a host cannot open the room as host.
    let other_id = w.s.add_staff("tredjelege", &[Role::Clinician]).await;
    let principal = helsebro_app::StaffPrincipal {
        id: other_id,
        username: "tredjelege".into(),
        display_name: "T".into(),
        roles: vec![Role::Clinician],
        language: None,
        csrf_token: String::new(),
        session_hash: String::new(),
    };
    assert!(matches!(
        w.s.app.appointment_for_host(&principal, appt).await,
        Err(AppError::Forbidden(_))
    ));
}

#[tokio::test]
async fn bad_bookings_get_a_clear_4xx_and_change_nothing() {
    let w = world().await;
    let mut cases = Vec::new();
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["duration_minutes"] = json!(0);
    cases.push(("end before start", b, "duration_minutes"));
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["hosts"] = json!([uuid::Uuid::now_v7()]);
    cases.push(("unknown host", b, "hosts"));
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["hosts"] = json!([]);
    cases.push(("no host", b, "hosts"));
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["invitees"][0]["phone"] = json!("12ab");
    cases.push(("invalid phone", b, "invitees[0].phone"));
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["invitees"][1]["email"] = json!("not-an-address");
    cases.push(("invalid e-mail", b, "invitees[1].email"));
    cases.push(("past", booking(&w, "2027-01-14", "10:00"), "time"));
    cases.push(("no such date", booking(&w, "2027-02-30", "10:00"), "date"));
    cases.push(("no such time", booking(&w, LATER_DAY, "25:61"), "time"));
    for (what, body, field) in cases {
        let res = w
            .lege
            .post(w.s.url("/api/v1/appointments"))
            .header("x-csrf-token", &w.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{what}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{what}: {err}"
        );
    }
    // A wrong role and a malformed body are refused too.
    let mut b = booking(&w, LATER_DAY, "10:00");
    b["invitees"][0]["role"] = json!("boss");
    let res = w
        .lege
        .post(w.s.url("/api/v1/appointments"))
        .header("x-csrf-token", &w.csrf)
        .json(&b)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    assert_eq!(count(&w.s, "appointments").await, 0);
    assert_eq!(count(&w.s, "invitations").await, 0);
    assert_eq!(count(&w.s, "outbox").await, 0);

    // Moving to a bad time and adding an invalid invitee change nothing either.
    let booked = book(&w, &booking(&w, LATER_DAY, "10:00")).await;
    let id = booked["appointment_id"].as_str().unwrap();
    let before = outbox(&w.s).await;
    let res = w
        .lege
        .patch(w.s.url(&format!("/api/v1/appointments/{id}")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"date": LATER_DAY, "time": "11:00", "duration_minutes": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/appointments/{id}/invitations")))
        .header("x-csrf-token", &w.csrf)
        .json(&json!({"role": "relative", "display_name": "Ola", "phone": "abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(outbox(&w.s).await, before);
    assert_eq!(count(&w.s, "invitations").await, 2);
    let res = w
        .lege
        .get(w.s.url(&format!("/api/v1/appointments/{}", uuid::Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn late_in_the_evening_the_home_page_lists_the_first_appointments_after_midnight() {
    let w = world().await;
    let titled = |date: &str, time: &str, title: &str| {
        let mut b = booking(&w, date, time);
        b["title"] = json!(title);
        b
    };
    // The test clock is 2027-01-15 09:00 in Norway.
    let morning = book(&w, &titled("2027-01-15", "10:00", "Morgentime")).await;
    let night = book(&w, &titled("2027-01-16", "00:10", "Nattevakt")).await;
    let later = book(&w, &titled("2027-01-16", "14:00", "Ettermiddag")).await;
    // 23:40 in Norway (UTC+1 in winter).
    w.s.clock
        .set("2027-01-15T22:40:00Z".parse::<jiff::Timestamp>().unwrap());
    let (lege, _) = w.s.login("lege").await;
    let res = lege.get(w.s.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let list = common::between(&page, "id=\"today-h\"", "</section>");
    let id = |b: &Value| b["appointment_id"].as_str().unwrap().to_owned();
    assert!(
        list.contains(&format!("/appointments/{}", id(&morning))),
        "today's earlier appointment stays on the list"
    );
    assert!(
        list.contains(&format!("/appointments/{}", id(&night))),
        "00:10 tomorrow is on the list at 23:40: {list}"
    );
    assert!(
        list.contains("i morgen 00:10–00:40"),
        "and says it is tomorrow: {list}"
    );
    assert!(
        !list.contains(&format!("/appointments/{}", id(&later))),
        "14:00 tomorrow is more than 12 hours ahead"
    );
    // The same list through the app, as the demo loader reads it to find its appointment.
    let p = common::principal(w.lege_id.parse().unwrap(), "lege", &[Role::Clinician]);
    let titles: Vec<String> =
        w.s.app
            .appointments_ahead(&p)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.appointment.title)
            .collect();
    assert_eq!(titles, ["Morgentime", "Nattevakt"]);
}
