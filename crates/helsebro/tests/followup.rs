//! Digital home follow-up through the real server: readings in by FHIR (staff session and
//! device token), triage into alerts, the work list's order, acknowledging and documenting,
//! care-team checks, bad input answered with an OperationOutcome that changes nothing, the
//! same reading stored once, missing reports, pauses and escalation on a fake clock, and
//! "acknowledge all green" with its receipt. SQLite by default, PostgreSQL with
//! `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{TestServer, nid, principal};
use helsebro_app::followup::SweepReport;
use helsebro_app::followup::rules::Condition;
use helsebro_app::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use helsebro_app::followup::rules::triage::{Adjustment, Rule, Test};
use helsebro_app::followup::rules::{Colour, MeasurementKind, Metric};
use helsebro_app::{PatientAccess, Purpose, StaffPrincipal};
use helsebro_domain::Role;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

// The test clock starts at 2027-01-15 08:00 UTC, 09:00 in Norway.

struct World {
    s: TestServer,
    nurse: reqwest::Client,
    nurse_csrf: String,
    nurse_p: StaffPrincipal,
    other: reqwest::Client,
    patient: Uuid,
}

/// A COPD patient with a daily SpO2 task due by 10:00 (30 minutes' grace), followed up by a
/// follow-up nurse; another clinician outside the care team.
async fn world() -> World {
    let s = TestServer::start().await;
    let nurse_id = s.add_staff("sykepleier", &[Role::FollowUpNurse]).await;
    s.add_staff("annenlege", &[Role::Clinician]).await;
    let (nurse, nurse_csrf) = s.login("sykepleier").await;
    let (other, _) = s.login("annenlege").await;
    let res = nurse
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", &nurse_csrf)
        .json(&json!({"name": "Ola Nordmann", "birth_date": "1950-06-01", "national_id": nid("010650123"), "phone": "912 34 567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let patient: Uuid = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let nurse_p = principal(nurse_id, "sykepleier", &[Role::FollowUpNurse]);
    let access = s
        .app
        .authorize_patient(&nurse_p, patient, Purpose::Change, "test")
        .await
        .unwrap();
    let plan = TaskSchedule {
        task: Task::Measurement(MeasurementKind::OxygenSaturation),
        recurrence: Recurrence::Daily,
        due_by: jiff::civil::time(10, 0, 0, 0),
        grace: SignedDuration::from_mins(30),
        starts: jiff::civil::date(2027, 1, 15),
        ends: None,
    };
    s.app
        .enrol_followup(&access, &[Condition::Copd], &[plan])
        .await
        .unwrap();
    World {
        s,
        nurse,
        nurse_csrf,
        nurse_p,
        other,
        patient,
    }
}

async fn access(w: &World) -> PatientAccess {
    w.s.app
        .authorize_patient(&w.nurse_p, w.patient, Purpose::Change, "test")
        .await
        .unwrap()
}

fn spo2(patient: &str, value: f64, unit: &str, at: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": at,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        "device": {"identifier": {"system": "urn:helsebro:device", "value": "oximeter-17"}}
    })
}

async fn post_fhir(
    w: &World,
    c: &reqwest::Client,
    csrf: Option<&str>,
    bearer: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut req = c
        .post(w.s.url("/fhir/r4/Observation"))
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/fhir+json"), "content type {ct}");
    (status, res.json().await.unwrap())
}

async fn count(w: &World, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get("n")
}

#[tokio::test]
async fn a_red_reading_tops_the_work_list_and_is_acknowledged_and_documented() {
    let w = world().await;
    let pid = w.patient.to_string();
    // A yellow reading first (SpO2 89 < 90), then a red one (85 < 88), through FHIR.
    let (st, yellow) = post_fhir(
        &w,
        &w.nurse,
        Some(&w.nurse_csrf),
        None,
        &spo2(&pid, 89.0, "%", "2027-01-15T07:00:00Z"),
    )
    .await;
    assert_eq!(st, 201, "{yellow}");
    assert_eq!(yellow["interpretation"][0]["coding"][0]["code"], "L");
    let (st, red) = post_fhir(
        &w,
        &w.nurse,
        Some(&w.nurse_csrf),
        None,
        &spo2(&pid, 85.0, "%", "2027-01-15T07:30:00Z"),
    )
    .await;
    assert_eq!(st, 201, "{red}");
    assert_eq!(red["interpretation"][0]["coding"][0]["code"], "LL");

    let list = w.s.app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    let kinds: Vec<&str> = list.lines.iter().map(|l| l.alert.kind.as_str()).collect();
    assert_eq!(kinds, ["red", "yellow"], "red first");
    let red_alert = &list.lines[0].alert;
    assert_eq!(
        red_alert.observation_id.unwrap().to_string(),
        red["id"].as_str().unwrap()
    );
    assert!(
        red_alert.explanation.contains("spo2.below.red"),
        "{}",
        red_alert.explanation
    );

    // The work-list page shows the red alert first, for the nurse.
    let page = w.nurse.get(w.s.url("/followup")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let red_at = html
        .find("data-kind=\"red\"")
        .expect("red item on the page");
    let yellow_at = html
        .find("data-kind=\"yellow\"")
        .expect("yellow item on the page");
    assert!(red_at < yellow_at);

    // Acknowledge through the page's form, then act and document.
    let res = w
        .nurse
        .post(w.s.url(&format!(
            "/followup/patients/{pid}/alerts/{}/acknowledge",
            red_alert.id
        )))
        .form(&[("csrf_token", w.nurse_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let a = access(&w).await;
    let again = w.s.app.acknowledge_alert(&a, red_alert.id).await;
    assert!(again.is_err(), "acknowledged once");
    assert!(
        w.s.app
            .act_on_alert(&a, red_alert.id, "cooked_coffee", "x")
            .await
            .is_err(),
        "unknown action refused"
    );
    w.s.app
        .act_on_alert(
            &a,
            red_alert.id,
            "called",
            "Ringte pasienten; følger egenbehandlingsplanen.",
        )
        .await
        .unwrap();
    let list = w.s.app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    let kinds: Vec<&str> = list.lines.iter().map(|l| l.alert.kind.as_str()).collect();
    assert_eq!(kinds, ["yellow"], "a documented alert leaves the work list");
    let actions: Vec<String> =
        sqlx::query("SELECT action FROM audit_log WHERE object = $1 ORDER BY seq")
            .bind(format!("followup_alert:{}", red_alert.id))
            .fetch_all(w.s.store.raw_pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("action"))
            .collect();
    assert_eq!(
        actions,
        ["followup.alert_acknowledged", "followup.alert_acted"],
        "acknowledgement and action are audit-logged as what they are"
    );

    // Open alerts as FHIR Flags.
    let flags: Value = w
        .nurse
        .get(w.s.url(&format!("/fhir/r4/Flag?patient={pid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flags["resourceType"], "Bundle");
    assert_eq!(flags["total"], 1);
    assert_eq!(
        flags["entry"][0]["resource"]["code"]["coding"][0]["code"],
        "yellow"
    );
}

#[tokio::test]
async fn only_the_care_team_reads_or_writes_and_search_returns_a_searchset() {
    let w = world().await;
    let pid = w.patient.to_string();
    let (st, _) = post_fhir(
        &w,
        &w.nurse,
        Some(&w.nurse_csrf),
        None,
        &spo2(&pid, 95.0, "%", "2027-01-15T07:00:00Z"),
    )
    .await;
    assert_eq!(st, 201);

    let res = w
        .other
        .get(w.s.url(&format!("/fhir/r4/Observation?patient={pid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    let res = w
        .other
        .get(w.s.url(&format!("/followup/patients/{pid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "the follow-up page too");
    let res = w
        .other
        .get(w.s.url(&format!("/fhir/r4/Patient/{pid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Not logged in at all.
    let res =
        w.s.client()
            .get(w.s.url(&format!("/fhir/r4/Observation?patient={pid}")))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);

    let bundle: Value = w
        .nurse
        .get(w.s.url(&format!(
            "/fhir/r4/Observation?patient={pid}&code=http://loinc.org|2708-6&date=ge2027-01-15"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 1);
    assert_eq!(
        bundle["entry"][0]["resource"]["valueQuantity"]["value"],
        95.0
    );
    let empty: Value = w
        .nurse
        .get(w.s.url(&format!(
            "/fhir/r4/Observation?patient={pid}&date=lt2027-01-14"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["total"], 0);
    let patient: Value = w
        .nurse
        .get(w.s.url(&format!("/fhir/r4/Patient/{pid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["birthDate"], "1950-06-01");
    let meta: Value =
        w.s.client()
            .get(w.s.url("/fhir/r4/metadata"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(meta["resourceType"], "CapabilityStatement");
    assert_eq!(meta["fhirVersion"], "4.0.1");
}

#[tokio::test]
async fn bad_input_gets_an_operation_outcome_and_changes_nothing() {
    let w = world().await;
    let pid = w.patient.to_string();
    let audit_before = count(&w, "audit_log").await;
    let mut unknown_code = spo2(&pid, 95.0, "%", "2027-01-15T07:00:00Z");
    unknown_code["code"]["coding"][0]["code"] = json!("0000-0");
    let cases = [
        (
            "wrong unit",
            spo2(&pid, 95.0, "mmol/L", "2027-01-15T07:00:00Z"),
            422,
        ),
        (
            "impossible value",
            spo2(&pid, 150.0, "%", "2027-01-15T07:00:00Z"),
            422,
        ),
        (
            "future time",
            spo2(&pid, 95.0, "%", "2027-01-16T07:00:00Z"),
            422,
        ),
        ("unknown code", unknown_code, 422),
        (
            "not an observation",
            json!({"resourceType": "Patient"}),
            400,
        ),
    ];
    for (what, body, status) in cases {
        let (st, oo) = post_fhir(&w, &w.nurse, Some(&w.nurse_csrf), None, &body).await;
        assert_eq!(st, status, "{what}: {oo}");
        assert_eq!(oo["resourceType"], "OperationOutcome", "{what}");
        assert_eq!(oo["issue"][0]["severity"], "error", "{what}");
    }
    // An unknown patient: refused like one outside the team (ids cannot be probed).
    let (st, oo) = post_fhir(
        &w,
        &w.nurse,
        Some(&w.nurse_csrf),
        None,
        &spo2(
            &Uuid::now_v7().to_string(),
            95.0,
            "%",
            "2027-01-15T07:00:00Z",
        ),
    )
    .await;
    assert_eq!(st, 403, "{oo}");
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let (st, oo) = post_fhir(
        &w,
        &w.nurse,
        Some(&w.nurse_csrf),
        None,
        &spo2("not-a-uuid", 95.0, "%", "2027-01-15T07:00:00Z"),
    )
    .await;
    assert_eq!(st, 404, "{oo}");
    assert_eq!(count(&w, "followup_observations").await, 0);
    assert_eq!(count(&w, "followup_alerts").await, 0);
    // Only the refused access for the unknown patient was logged; nothing was changed.
    let changes: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE seq > $1 AND outcome = 'success'")
            .bind(audit_before)
            .fetch_one(w.s.store.raw_pool())
            .await
            .unwrap()
            .get("n");
    assert_eq!(changes, 0);
}

#[tokio::test]
async fn a_device_token_sends_for_its_patient_only_and_a_reading_is_stored_once() {
    let w = world().await;
    let pid = w.patient.to_string();
    let token =
        w.s.app
            .create_device_token(&access(&w).await, "Oksymeter")
            .await
            .unwrap();
    assert!(token.len() >= 32 + 4, "at least 128 random bits");
    let stored: String = sqlx::query("SELECT token_hash FROM followup_device_tokens")
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get("token_hash");
    assert_ne!(stored, token, "only the hash is stored");

    let anon = w.s.client();
    let body = spo2(&pid, 94.0, "%", "2027-01-15T07:45:00+01:00");
    let (st, first) = post_fhir(&w, &anon, None, Some(&token), &body).await;
    assert_eq!(st, 201, "{first}");
    let (st, second) = post_fhir(&w, &anon, None, Some(&token), &body).await;
    assert_eq!(st, 200, "{second}");
    assert_eq!(first["id"], second["id"]);
    assert_eq!(count(&w, "followup_observations").await, 1);
    let via: String = sqlx::query("SELECT entered_via FROM followup_observations")
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get("entered_via");
    assert_eq!(via, "device");

    let (st, oo) = post_fhir(
        &w,
        &anon,
        None,
        Some("hbd_wrong"),
        &spo2(&pid, 94.0, "%", "2027-01-15T07:50:00Z"),
    )
    .await;
    assert_eq!(st, 401, "{oo}");
    let (st, oo) = post_fhir(
        &w,
        &anon,
        None,
        Some(&token),
        &spo2(
            &Uuid::now_v7().to_string(),
            94.0,
            "%",
            "2027-01-15T07:50:00Z",
        ),
    )
    .await;
    assert_eq!(st, 403, "another patient: {oo}");
    assert_eq!(count(&w, "followup_observations").await, 1);
}

#[tokio::test]
async fn missing_reports_pauses_and_escalation_follow_the_clock() {
    let w = world().await;
    let app = &w.s.app;
    let none = SweepReport::default();
    assert_eq!(
        app.followup_sweep().await.unwrap(),
        none,
        "09:00: not yet due"
    );
    // A reminder an hour before 10:00 is queued for the patient, without health information.
    let reminders: Vec<(String, String)> =
        sqlx::query("SELECT recipient, body FROM outbox WHERE kind = 'followup_reminder'")
            .fetch_all(w.s.store.raw_pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("recipient"), r.get("body")))
            .collect();
    assert_eq!(reminders.len(), 1);
    assert!(!reminders[0].1.to_lowercase().contains("spo2") && !reminders[0].1.contains("KOLS"));
    assert!(
        reminders[0].1.contains("/mine") && reminders[0].1.contains("oppgave"),
        "the reminder is the notification text with a link to the patient app: {}",
        reminders[0].1
    );

    // 10:29 Oslo: still within grace. 10:31: missing.
    w.s.clock.advance(SignedDuration::from_mins(89));
    assert_eq!(app.followup_sweep().await.unwrap().missing_reports, 0);
    w.s.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(app.followup_sweep().await.unwrap().missing_reports, 1);
    assert_eq!(
        app.followup_sweep().await.unwrap().missing_reports,
        0,
        "raised once"
    );
    let list = app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert_eq!(list.lines.len(), 1);
    assert_eq!(list.lines[0].alert.kind, "missing_report");

    // Paused over the next day: no missing report then.
    app.pause_followup(&access(&w).await, "Innlagt på sykehus")
        .await
        .unwrap();
    w.s.clock.advance(SignedDuration::from_hours(24));
    assert_eq!(app.followup_sweep().await.unwrap().missing_reports, 0);
    app.resume_followup(&access(&w).await).await.unwrap();

    // A red reading not acknowledged in 30 minutes is escalated, once.
    let now = app.now();
    let obs = helsebro_app::followup::rules::Observation::manual(
        MeasurementKind::OxygenSaturation,
        now,
        84.0,
    );
    let done = app.record_reading(&access(&w).await, obs).await.unwrap();
    assert_eq!(done.colour, Some(Colour::Red));
    w.s.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(app.followup_sweep().await.unwrap().escalated, 0);
    w.s.clock.advance(SignedDuration::from_mins(2));
    assert_eq!(
        app.followup_sweep().await.unwrap().escalated,
        1,
        "red after 30 minutes"
    );
    assert_eq!(app.followup_sweep().await.unwrap().escalated, 0);
    let list = app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert_eq!(list.lines[0].alert.kind, "red");
    assert!(list.lines[0].escalated);
    assert!(list.lines[0].alert.escalated_at.is_some());
}

#[tokio::test]
async fn thresholds_change_with_who_and_why_and_the_what_if_preview_counts() {
    let w = world().await;
    let app = &w.s.app;
    let a = access(&w).await;
    // Five days of SpO2 89 (yellow under the default 90).
    for d in 1..=5 {
        let at: Timestamp = app.now() - SignedDuration::from_hours(24 * d);
        app.record_reading(
            &a,
            helsebro_app::followup::rules::Observation::manual(
                MeasurementKind::OxygenSaturation,
                at,
                89.0,
            ),
        )
        .await
        .unwrap();
    }
    let change = Adjustment::Set {
        rule: Rule::new(
            "spo2.below.yellow",
            Metric::OxygenSaturation,
            Colour::Yellow,
            Test::Below { limit: 88.5 },
        ),
    };
    let preview = app.followup_what_if(&a, &change).await.unwrap();
    assert_eq!(preview.old.yellow, 5);
    assert_eq!(preview.new.yellow, 0);
    assert!(
        app.adjust_followup_rules(&a, &change, "").await.is_err(),
        "a reason is required"
    );
    app.adjust_followup_rules(&a, &change, "Habituell SpO2 89 % ifølge lungelege")
        .await
        .unwrap();
    let record = app.followup_record(&a, 30).await.unwrap();
    assert_eq!(record.adjustments.len(), 1);
    assert_eq!(record.adjustments[0].made_by_label, "sykepleier");
    let now = app.now();
    let done = app
        .record_reading(
            &a,
            helsebro_app::followup::rules::Observation::manual(
                MeasurementKind::OxygenSaturation,
                now,
                89.0,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        done.colour,
        Some(Colour::Green),
        "the patient's own threshold applies"
    );
}

#[tokio::test]
async fn acknowledging_all_green_sends_the_patient_a_receipt() {
    let w = world().await;
    let app = &w.s.app;
    let a = access(&w).await;
    let now = app.now();
    app.record_reading(
        &a,
        helsebro_app::followup::rules::Observation::manual(
            MeasurementKind::OxygenSaturation,
            now,
            96.0,
        ),
    )
    .await
    .unwrap();
    let list = app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert_eq!(list.green, vec![(w.patient, 1)]);
    assert_eq!(
        app.acknowledge_all_green(&w.nurse_p, "test").await.unwrap(),
        1
    );
    assert_eq!(
        app.acknowledge_all_green(&w.nurse_p, "test").await.unwrap(),
        0
    );
    let receipts: Vec<(String, String)> =
        sqlx::query("SELECT recipient, body FROM outbox WHERE kind = 'followup_receipt'")
            .fetch_all(w.s.store.raw_pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("recipient"), r.get("body")))
            .collect();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].0, "+4791234567");
    assert!(
        receipts[0].1.contains("har sett de siste målingene dine")
            && receipts[0].1.contains("kan ikke besvares"),
        "the receipt is the notification text, with the no-reply sentence: {}",
        receipts[0].1
    );
}

/// HF-10: the note of a documented alert and the note of a period, as text and as FHIR, for
/// the care team only; bad periods refused; each note made is audit-logged.
#[tokio::test]
async fn summary_notes_per_alert_and_per_period_as_text_and_fhir() {
    let w = world().await;
    let pid = w.patient.to_string();
    for (v, at) in [
        (95.0, "2027-01-13T07:00:00Z"),
        (94.0, "2027-01-14T07:00:00Z"),
        (85.0, "2027-01-15T07:30:00Z"),
    ] {
        let (st, body) = post_fhir(
            &w,
            &w.nurse,
            Some(&w.nurse_csrf),
            None,
            &spo2(&pid, v, "%", at),
        )
        .await;
        assert_eq!(st, 201, "{body}");
    }
    let list = w.s.app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    let red = list.lines[0].alert.clone();
    assert_eq!(red.kind, "red");
    let access = access(&w).await;
    w.s.app.acknowledge_alert(&access, red.id).await.unwrap();
    w.s.app
        .act_on_alert(
            &access,
            red.id,
            "called",
            "Ringte pasienten. Måler igjen i kveld.",
        )
        .await
        .unwrap();

    // The alert's note, as text.
    let url =
        w.s.url(&format!("/followup/patients/{pid}/alerts/{}/note", red.id));
    let res = w.nurse.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for part in [
        "Oppsummering av varsel i digital hjemmeoppfølging",
        "Pasient: Ola Nordmann",
        "Rødt varsel: varslet 15.01.2027 09:00",
        "spo2.below.red",
        "Kvittert: ",
        "Tiltak: Ringte pasienten (15.01.2027 09:00)",
        "Måler igjen i kveld.",
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    // As FHIR: a DocumentReference whose data is the same text.
    let res = w
        .nurse
        .get(format!("{url}?format=fhir"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["resourceType"], "DocumentReference");
    assert_eq!(doc["subject"]["reference"], format!("Patient/{pid}"));
    let data = base64::engine::general_purpose::STANDARD
        .decode(doc["content"][0]["attachment"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(data).unwrap(), text);
    // And in a FHIR search for the patient's notes.
    let bundle: Value = w
        .nurse
        .get(w.s.url(&format!("/fhir/r4/DocumentReference?patient={pid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bundle["total"], 1, "{bundle}");
    assert_eq!(
        bundle["entry"][0]["resource"]["id"],
        format!("alert-{}", red.id)
    );

    // The period note: three readings, one red alert and what was done.
    let page = w
        .nurse
        .get(w.s.url(&format!(
            "/followup/patients/{pid}/notes?from=2027-01-01&to=2027-01-15&format=text"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    for part in [
        "Periode: 01.01.2027–15.01.2027",
        "Følges opp for: KOLS",
        "- Oksygenmetning: 3 målinger, laveste 85 %, median 94 %, høyeste 95 %, siste 85 %",
        "1 røde, 0 gule, 0 manglende rapporter",
        "Tiltak: Ringte pasienten",
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    let html = w
        .nurse
        .get(w.s.url(&format!("/followup/patients/{pid}/notes")))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("id=\"note-text\""));

    // Bad periods and formats are refused.
    for (query, status) in [
        ("from=2027-01-15&to=2027-01-01", 422),
        ("from=2025-01-01&to=2027-01-15", 422),
        ("from=1.1.2027", 422),
        ("from=2027-02-01&to=2027-02-02", 422),
        ("format=pdf", 422),
    ] {
        let res = w
            .nurse
            .get(w.s.url(&format!("/followup/patients/{pid}/notes?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{query}");
    }

    // Outside the care team: 403, for the pages and for FHIR.
    for path in [
        format!("/followup/patients/{pid}/notes"),
        format!("/followup/patients/{pid}/alerts/{}/note", red.id),
        format!("/fhir/r4/DocumentReference?patient={pid}"),
    ] {
        let res = w.other.get(w.s.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }

    // Each note made is in the audit log.
    let notes: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'followup.note_written' AND outcome = 'success'",
    )
    .fetch_one(w.s.store.raw_pool())
    .await
    .unwrap()
    .get("n");
    assert_eq!(
        notes, 5,
        "alert text, alert FHIR, search, period text, period page"
    );
}
