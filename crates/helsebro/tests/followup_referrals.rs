//! Referral and inclusion (HF-1), the baseline of service use (HF-2) and the end of home
//! follow-up (HF-11) through the real server and its pages: criteria kept by an administrator,
//! a referral assessed against them, acceptance forming the care team and enrolling, decline
//! enrolling no one, care-team and role checks, baseline validation that stores nothing and a
//! comparison with known numbers, and an end of service that stops missing reports on a fake
//! clock, revokes device keys and patient-app sessions, records the equipment checklist and
//! takes the patient off the work list. SQLite by default, PostgreSQL with
//! `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, nid, principal};
use helsebro_app::followup::rules::Condition;
use helsebro_app::followup::rules::MeasurementKind;
use helsebro_app::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use helsebro_app::{AppError, PatientAccess, Purpose, StaffPrincipal};
use helsebro_domain::Role;
use jiff::SignedDuration;
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

// The test clock starts at 2027-01-15 08:00 UTC, 09:00 in Norway.

struct World {
    s: TestServer,
    nurse: reqwest::Client,
    nurse_csrf: String,
    nurse_p: StaffPrincipal,
    gp_id: Uuid,
    gp: reqwest::Client,
    outsider: reqwest::Client,
    superuser: reqwest::Client,
    superuser_csrf: String,
    admin: reqwest::Client,
    admin_csrf: String,
    admin_p: StaffPrincipal,
    patient: Uuid,
}

/// A patient registered by a follow-up nurse (on the care team); a GP and a clinician outside
/// the team; a superuser on the team (may read, may not decide); an administrator.
async fn world() -> World {
    let s = TestServer::start().await;
    let nurse_id = s.add_staff("sykepleier", &[Role::FollowUpNurse]).await;
    let gp_id = s.add_staff("fastlege", &[Role::Clinician]).await;
    s.add_staff("annenlege", &[Role::Clinician]).await;
    let super_id = s.add_staff("superbruker", &[Role::Superuser]).await;
    let admin_id = s.add_staff("kriterieadmin", &[Role::Administrator]).await;
    let (nurse, nurse_csrf) = s.login("sykepleier").await;
    let (gp, _) = s.login("fastlege").await;
    let (outsider, _) = s.login("annenlege").await;
    let (superuser, superuser_csrf) = s.login("superbruker").await;
    let (admin, admin_csrf) = s.login("kriterieadmin").await;
    let res = nurse
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", &nurse_csrf)
        .json(&json!({"name": "Kari Nordmann", "birth_date": "1948-03-02", "national_id": nid("020348123"), "phone": "912 34 567"}))
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
    s.app
        .set_care_team_member(&access, super_id, "advising")
        .await
        .unwrap();
    World {
        s,
        nurse,
        nurse_csrf,
        nurse_p,
        gp_id,
        gp,
        outsider,
        superuser,
        superuser_csrf,
        admin,
        admin_csrf,
        admin_p: principal(admin_id, "kriterieadmin", &[Role::Administrator]),
        patient,
    }
}

async fn access(w: &World) -> PatientAccess {
    w.s.app
        .authorize_patient(&w.nurse_p, w.patient, Purpose::Change, "test")
        .await
        .unwrap()
}

async fn post_form(
    w: &World,
    c: &reqwest::Client,
    csrf: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf)];
    all.extend_from_slice(fields);
    let res = c.post(w.s.url(path)).form(&all).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

async fn get(w: &World, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(w.s.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn scalar_i64(w: &World, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get(0)
}

async fn scalar_text(w: &World, sql: &str) -> Option<String> {
    sqlx::query(sql)
        .fetch_optional(w.s.store.raw_pool())
        .await
        .unwrap()
        .map(|r| r.get(0))
}

/// The administrator's two criteria, added through the criteria page: (inclusion, exclusion).
async fn criteria(w: &World) -> (String, String) {
    let (st, _, page) = post_form(
        w,
        &w.admin,
        &w.admin_csrf,
        "/followup/criteria",
        &[("kind", "inclusion"), ("unit_id", ""), ("text", "")],
    )
    .await;
    assert_eq!(st, 422, "an empty criterion is refused: {page}");
    assert!(
        page.contains("href=\"#text\""),
        "the summary links the field"
    );
    for (kind, text) in [
        ("inclusion", "Kols med minst to innleggelser siste år"),
        (
            "exclusion",
            "Kan ikke bruke nettbrett, heller ikke med hjelp",
        ),
    ] {
        let (st, _, body) = post_form(
            w,
            &w.admin,
            &w.admin_csrf,
            "/followup/criteria",
            &[("kind", kind), ("unit_id", ""), ("text", text)],
        )
        .await;
        assert_eq!(st, 303, "{body}");
    }
    // A clinician cannot change the criteria.
    let (st, _) = get(w, &w.gp, "/followup/criteria").await;
    assert_eq!(st, 403);
    let inc = scalar_text(
        w,
        "SELECT id FROM followup_criteria WHERE kind = 'inclusion'",
    )
    .await
    .unwrap();
    let exc = scalar_text(
        w,
        "SELECT id FROM followup_criteria WHERE kind = 'exclusion'",
    )
    .await
    .unwrap();
    (inc, exc)
}

/// Registers a referral through the page; returns its id.
async fn refer(w: &World) -> String {
    let path = format!("/followup/patients/{}/referrals", w.patient);
    // Bad input first: nothing is stored, and the summary names each problem.
    let (st, _, page) = post_form(
        w,
        &w.nurse,
        &w.nurse_csrf,
        &path,
        &[
            ("source_kind", "gp"),
            ("referrer_name", ""),
            ("referrer_org", "Sentrum legekontor"),
            ("reason", "Hyppige innleggelser"),
            ("received_on", "2027-02-01"),
        ],
    )
    .await;
    assert_eq!(st, 422);
    for field in ["#referrer_name", "#conditions", "#received_on"] {
        assert!(page.contains(&format!("href=\"{field}\"")), "{field}");
    }
    assert_eq!(
        scalar_i64(w, "SELECT COUNT(*) FROM followup_referrals").await,
        0
    );
    let (st, location, body) = post_form(
        w,
        &w.nurse,
        &w.nurse_csrf,
        &path,
        &[
            ("source_kind", "gp"),
            ("referrer_name", "Dr. Berg"),
            ("referrer_org", "Sentrum legekontor"),
            ("conditions", "copd"),
            ("reason", "Tre innleggelser for kols det siste året"),
            ("received_on", "2027-01-10"),
        ],
    )
    .await;
    assert_eq!(st, 303, "{body}");
    let id = location
        .split("/referrals/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        scalar_text(
            w,
            &format!("SELECT status FROM followup_referrals WHERE id = '{id}'")
        )
        .await
        .as_deref(),
        Some("pending")
    );
    id
}

async fn status_of(w: &World, referral: &str) -> String {
    scalar_text(
        w,
        &format!("SELECT status FROM followup_referrals WHERE id = '{referral}'"),
    )
    .await
    .unwrap()
}

async fn enrolment_status(w: &World) -> Option<String> {
    scalar_text(
        w,
        &format!(
            "SELECT status FROM followup_enrolments WHERE patient_id = '{}'",
            w.patient
        ),
    )
    .await
}

async fn team_role(w: &World, staff: Uuid) -> Option<String> {
    scalar_text(
        w,
        &format!(
            "SELECT team_role FROM care_team WHERE patient_id = '{}' AND staff_id = '{staff}'",
            w.patient
        ),
    )
    .await
}

async fn audit_count(w: &World, action: &str) -> i64 {
    scalar_i64(
        w,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND outcome = 'success' AND patient_id = '{}'",
            w.patient
        ),
    )
    .await
}

#[tokio::test]
async fn a_referral_assessed_against_the_criteria_and_accepted_forms_the_care_team_and_enrols() {
    let w = world().await;
    let (inc, exc) = criteria(&w).await;
    let rid = refer(&w).await;
    let pid = w.patient;
    assert_eq!(audit_count(&w, "followup.referral_received").await, 1);

    // It waits in the nurse's list of referrals awaiting assessment, reached from the work list.
    let (_, worklist) = get(&w, &w.nurse, "/followup").await;
    assert!(worklist.contains("href=\"/followup/referrals\""));
    let (st, awaiting) = get(&w, &w.nurse, "/followup/referrals").await;
    assert_eq!(st, 200);
    assert!(awaiting.contains(&rid) && awaiting.contains("Kari Nordmann"));
    // Not for a clinician outside the care team: not listed, and the referral is refused.
    let (_, other_list) = get(&w, &w.outsider, "/followup/referrals").await;
    assert!(!other_list.contains(&rid) && !other_list.contains("Kari Nordmann"));
    let referral_path = format!("/followup/patients/{pid}/referrals/{rid}");
    let (st, page) = get(&w, &w.outsider, &referral_path).await;
    assert_eq!(st, 403);
    assert!(!page.contains("Tre innleggelser"), "no referral data leaks");
    // The nurse sees both criteria to assess.
    let (st, page) = get(&w, &w.nurse, &referral_path).await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("name=\"criterion-{inc}\"")));
    assert!(page.contains(&format!("name=\"criterion-{exc}\"")));

    let decide = format!("{referral_path}/decide");
    let nurse_id = w.nurse_p.id.to_string();
    let gp_id = w.gp_id.to_string();
    let inc_key = format!("criterion-{inc}");
    let exc_key = format!("criterion-{exc}");
    let accept = |exclusion: &'static str| {
        vec![
            (inc_key.clone(), "met".to_owned()),
            (exc_key.clone(), exclusion.to_owned()),
            ("decision".to_owned(), "accept".to_owned()),
            ("following_up".to_owned(), nurse_id.clone()),
            ("advising".to_owned(), gp_id.clone()),
            ("daily".to_owned(), "oxygen_saturation".to_owned()),
            ("due_by".to_owned(), "10:00".to_owned()),
        ]
    };
    let send = |c: &reqwest::Client, csrf: &str, fields: Vec<(String, String)>| {
        let mut all = vec![("csrf_token".to_owned(), csrf.to_owned())];
        all.extend(fields);
        c.post(w.s.url(&decide)).form(&all).send()
    };

    // A superuser on the care team may read but not decide.
    let res = send(&w.superuser, &w.superuser_csrf, accept("not_met"))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The exclusion criterion is met: acceptance is refused and nothing changes.
    let res = send(&w.nurse, &w.nurse_csrf, accept("met")).await.unwrap();
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"#criterion-{exc}\"")),
        "{page}"
    );
    assert_eq!(status_of(&w, &rid).await, "pending");
    assert_eq!(enrolment_status(&w).await, None);
    assert_eq!(
        scalar_i64(&w, "SELECT COUNT(*) FROM followup_referral_assessments").await,
        0
    );
    assert_eq!(team_role(&w, w.gp_id).await, None);
    // A criterion left unanswered is refused too.
    let mut partial = accept("not_met");
    partial.remove(1);
    let res = send(&w.nurse, &w.nurse_csrf, partial).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(status_of(&w, &rid).await, "pending");

    // Accepted: the assessment is kept, the care team formed with roles, the patient enrolled.
    let res = send(&w.nurse, &w.nurse_csrf, accept("not_met"))
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&w, &rid).await, "accepted");
    let rows = sqlx::query(
        "SELECT criterion_id, kind, met FROM followup_referral_assessments ORDER BY kind",
    )
    .fetch_all(w.s.store.raw_pool())
    .await
    .unwrap();
    let got: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        [
            (exc.clone(), "exclusion".to_owned(), 0),
            (inc.clone(), "inclusion".to_owned(), 1)
        ]
    );
    assert_eq!(
        team_role(&w, w.nurse_p.id).await.as_deref(),
        Some("following_up")
    );
    assert_eq!(team_role(&w, w.gp_id).await.as_deref(), Some("advising"));
    assert_eq!(enrolment_status(&w).await.as_deref(), Some("active"));
    let conditions = scalar_text(
        &w,
        &format!("SELECT conditions FROM followup_enrolments WHERE patient_id = '{pid}'"),
    )
    .await
    .unwrap();
    assert_eq!(conditions, "[\"copd\"]");
    assert_eq!(
        scalar_i64(
            &w,
            &format!("SELECT COUNT(*) FROM followup_schedules WHERE patient_id = '{pid}'")
        )
        .await,
        1
    );
    assert_eq!(audit_count(&w, "followup.referral_decided").await, 1);
    assert_eq!(audit_count(&w, "followup.enrolled").await, 1);
    assert!(audit_count(&w, "care_team.changed").await >= 3);
    // The GP is on the team now and sees the patient's follow-up page, which links here.
    let (st, fu_page) = get(&w, &w.gp, &format!("/followup/patients/{pid}")).await;
    assert_eq!(st, 200);
    assert!(fu_page.contains(&format!("/followup/patients/{pid}/referrals")));
    assert!(fu_page.contains(&format!("/followup/patients/{pid}/end")));
    // No longer awaiting; deciding again is a conflict.
    let (_, awaiting) = get(&w, &w.nurse, "/followup/referrals").await;
    assert!(!awaiting.contains(&rid));
    let res = send(&w.nurse, &w.nurse_csrf, accept("not_met"))
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let (_, page) = get(&w, &w.nurse, &referral_path).await;
    assert!(page.contains("Kols med minst to innleggelser siste år"));
}

#[tokio::test]
async fn a_declined_referral_needs_a_reason_and_enrols_no_one() {
    let w = world().await;
    let (inc, exc) = criteria(&w).await;
    let rid = refer(&w).await;
    let decide = format!("/followup/patients/{}/referrals/{rid}/decide", w.patient);
    let inc_key = format!("criterion-{inc}");
    let exc_key = format!("criterion-{exc}");
    let gp = w.gp_id.to_string();
    let base = [
        (inc_key.as_str(), "not_met"),
        (exc_key.as_str(), "not_met"),
        ("decision", "decline"),
        ("advising", gp.as_str()),
    ];
    let (st, _, page) = post_form(&w, &w.nurse, &w.nurse_csrf, &decide, &base).await;
    assert_eq!(st, 422, "a decline needs a reason");
    assert!(page.contains("href=\"#reason\""));
    assert_eq!(status_of(&w, &rid).await, "pending");
    let mut with_reason = base.to_vec();
    with_reason.push(("reason", "Ikke innleggelser nok det siste året"));
    let (st, _, body) = post_form(&w, &w.nurse, &w.nurse_csrf, &decide, &with_reason).await;
    assert_eq!(st, 303, "{body}");
    assert_eq!(status_of(&w, &rid).await, "declined");
    assert_eq!(enrolment_status(&w).await, None, "not enrolled");
    assert_eq!(team_role(&w, w.gp_id).await, None, "no care team formed");
    assert_eq!(audit_count(&w, "followup.referral_decided").await, 1);
    assert_eq!(audit_count(&w, "followup.enrolled").await, 0);
    assert_eq!(
        scalar_i64(
            &w,
            "SELECT COUNT(*) FROM followup_referral_assessments WHERE met = 0"
        )
        .await,
        2
    );
    let reason = scalar_text(
        &w,
        &format!("SELECT decision_reason FROM followup_referrals WHERE id = '{rid}'"),
    )
    .await;
    assert_eq!(
        reason.as_deref(),
        Some("Ikke innleggelser nok det siste året")
    );
}

#[tokio::test]
async fn bad_baseline_input_changes_nothing_and_the_comparison_is_per_month() {
    let w = world().await;
    let path = format!("/followup/patients/{}/service-use", w.patient);
    let count = || scalar_i64(&w, "SELECT COUNT(*) FROM followup_service_use");
    let good = [
        ("kind", "baseline"),
        ("from", "2025-10-01"),
        ("to", "2026-09-30"),
        ("admissions", "6"),
        ("bed_days", "24"),
        ("outpatient_visits", "12"),
        ("gp_contacts", "24"),
        ("emergency_contacts", "4"),
        ("home_care_visits", "120"),
        ("patient_trips", "36"),
    ];
    // Each kind of bad input, one at a time: a 422 naming the field, nothing stored.
    for (field, value, anchor) in [
        ("admissions", "-1", "#admissions"),
        ("bed_days", "2.5", "#bed_days"),
        ("gp_contacts", "", "#gp_contacts"),
        ("patient_trips", "mange", "#patient_trips"),
        ("to", "2025-09-30", "#to"),
        ("to", "2027-03-01", "#to"),
        ("bed_days", "400", "#bed_days"),
        ("from", "1.10.2025", "#from"),
    ] {
        let mut input = good.to_vec();
        for f in input.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let (st, _, page) = post_form(&w, &w.nurse, &w.nurse_csrf, &path, &input).await;
        assert_eq!(st, 422, "{field}={value}");
        assert!(
            page.contains(&format!("href=\"{anchor}\"")),
            "{field}={value}: the summary links the field"
        );
        assert!(page.contains("role=\"alert\""));
        assert_eq!(count().await, 0, "{field}={value} stored nothing");
    }
    assert_eq!(audit_count(&w, "followup.baseline_recorded").await, 0);

    let (st, _, body) = post_form(&w, &w.nurse, &w.nurse_csrf, &path, &good).await;
    assert_eq!(st, 303, "{body}");
    // A second baseline is refused; later periods are follow-up periods.
    let (st, _, _) = post_form(&w, &w.nurse, &w.nurse_csrf, &path, &good).await;
    assert_eq!(st, 422);
    assert_eq!(count().await, 1);
    let later = [
        ("kind", "followup"),
        ("from", "2026-10-01"),
        ("to", "2026-12-31"),
        ("admissions", "0"),
        ("bed_days", "0"),
        ("outpatient_visits", "1"),
        ("gp_contacts", "3"),
        ("emergency_contacts", "0"),
        ("home_care_visits", "15"),
        ("patient_trips", "3"),
    ];
    let (st, _, body) = post_form(&w, &w.nurse, &w.nurse_csrf, &path, &later).await;
    assert_eq!(st, 303, "{body}");
    assert_eq!(count().await, 2);
    assert_eq!(audit_count(&w, "followup.baseline_recorded").await, 2);

    // Twelve months against three: per month, and the change.
    let rec = w.s.app.inclusion_record(&access(&w).await).await.unwrap();
    let b = rec.comparison.baseline.unwrap();
    assert_eq!(b.months, 12.0);
    assert_eq!(b.per_month, [0.5, 2.0, 1.0, 2.0, 4.0 / 12.0, 10.0, 3.0]);
    let l = &rec.comparison.later[0];
    assert_eq!(l.period.months, 3.0);
    assert_eq!(
        l.period.per_month,
        [0.0, 0.0, 1.0 / 3.0, 1.0, 0.0, 5.0, 1.0]
    );
    assert_eq!(l.change_per_month[0], Some(-0.5));
    assert_eq!(l.change_per_month[3], Some(-1.0));
    assert_eq!(l.change_per_month[5], Some(-5.0));
    assert_eq!(l.change_per_month[6], Some(-2.0));
    // The page shows the same numbers.
    let (st, page) = get(&w, &w.nurse, &path).await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"comparison\""));
    assert!(page.contains("<td>0,50</td>") && page.contains("<td>-0,50</td>"));
    assert!(page.contains("<td>10,00</td>") && page.contains("<td>-5,00</td>"));

    // The aggregate for the statistics: counts and rates only, for those allowed statistics.
    let from = jiff::civil::date(2025, 1, 1);
    let to = jiff::civil::date(2027, 1, 15);
    let agg =
        w.s.app
            .service_use_statistics(&w.admin_p, from, to)
            .await
            .unwrap();
    assert_eq!(agg.len(), 2);
    assert_eq!((agg[0].kind.as_str(), agg[0].patients), ("baseline", 1));
    assert_eq!(agg[0].totals.home_care_visits, 120);
    assert_eq!(agg[0].per_patient_month[0], 0.5);
    assert_eq!(
        (agg[1].kind.as_str(), agg[1].patient_months),
        ("followup", 3.0)
    );
    assert_eq!(agg[1].per_patient_month[3], 1.0);
    assert!(matches!(
        w.s.app.service_use_statistics(&w.nurse_p, from, to).await,
        Err(AppError::Forbidden(_))
    ));
}

fn spo2(patient: Uuid, value: f64, at: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": at,
        "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        "device": {"identifier": {"system": "urn:helsebro:device", "value": "oximeter-17"}}
    })
}

async fn post_device(w: &World, token: &str, body: &Value) -> u16 {
    w.s.client()
        .post(w.s.url("/fhir/r4/Observation"))
        .header("content-type", "application/fhir+json")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn ending_follow_up_stops_missing_reports_revokes_devices_and_leaves_the_work_list() {
    let w = world().await;
    let app = &w.s.app;
    let pid = w.patient;
    let plan = TaskSchedule {
        task: Task::Measurement(MeasurementKind::OxygenSaturation),
        recurrence: Recurrence::Daily,
        due_by: jiff::civil::time(10, 0, 0, 0),
        grace: SignedDuration::from_mins(30),
        starts: jiff::civil::date(2027, 1, 15),
        ends: None,
    };
    app.enrol_followup(&access(&w).await, &[Condition::Copd], &[plan])
        .await
        .unwrap();
    let token = app
        .create_device_token(&access(&w).await, "Oksymeter")
        .await
        .unwrap();
    let token_id = scalar_text(&w, "SELECT id FROM followup_device_tokens")
        .await
        .unwrap();
    // A red reading from the device: the patient is on the nurse's work list.
    assert_eq!(
        post_device(&w, &token, &spo2(pid, 85.0, "2027-01-15T07:30:00Z")).await,
        201
    );
    let list = app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert!(list.lines.iter().any(|l| l.alert.patient_id == pid));
    // The next SpO2 is due tomorrow at 10:00; a reminder is queued before it.
    w.s.clock.advance(SignedDuration::from_hours(24));
    app.followup_sweep().await.unwrap();
    let queued = || {
        scalar_i64(
            &w,
            "SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND kind = 'followup_reminder'",
        )
    };
    assert!(queued().await >= 1, "a reminder is waiting");

    // The patient logs in to the app.
    app.request_patient_code("912 34 567", "test")
        .await
        .unwrap();
    let body = scalar_text(
        &w,
        "SELECT body FROM outbox WHERE kind = 'followup_login_code'",
    )
    .await
    .unwrap();
    let code: String = body.split("er ").nth(1).unwrap().chars().take(6).collect();
    let session = app
        .verify_patient_code("912 34 567", &code, "test")
        .await
        .unwrap();
    assert!(app.patient_self(&session).await.unwrap().is_some());
    // A day has passed: the staff log in again (sessions time out when idle).
    let (nurse, nurse_csrf) = w.s.login("sykepleier").await;
    let (superuser, superuser_csrf) = w.s.login("superbruker").await;
    let end = format!("/followup/patients/{pid}/end");
    let (st, page) = get(&w, &nurse, &end).await;
    assert_eq!(st, 200);
    assert!(
        page.contains(&token_id),
        "the lent device is on the checklist"
    );
    let full: Vec<(&str, &str)> = vec![
        ("reason", "recovered_stable"),
        (
            "evaluation",
            "Stabil i tre måneder, mestrer egenbehandlingen.",
        ),
        ("goals_met", "yes"),
        ("handover_to", "gp"),
        ("handover_receiver", "Dr. Berg, Sentrum legekontor"),
        ("item_index", "0"),
        ("token_0", &token_id),
        ("item_0", "Oksymeter"),
        ("returned_0", "yes"),
        ("item_index", "1"),
        ("token_1", ""),
        ("item_1", "Nettbrett"),
        ("returned_1", "no"),
        ("item_index", "2"),
        ("token_2", ""),
        ("item_2", ""),
    ];
    // A superuser on the team may not end follow-up; bad input is refused; nothing changes.
    let (st, _, _) = post_form(&w, &superuser, &superuser_csrf, &end, &full).await;
    assert_eq!(st, 403);
    let mut unanswered = full.clone();
    unanswered.retain(|(k, _)| *k != "returned_1" && *k != "evaluation");
    let (st, _, page) = post_form(&w, &nurse, &nurse_csrf, &end, &unanswered).await;
    assert_eq!(st, 422);
    assert!(page.contains("href=\"#returned_1\"") && page.contains("href=\"#evaluation\""));
    assert_eq!(enrolment_status(&w).await.as_deref(), Some("active"));
    assert!(app.patient_self(&session).await.unwrap().is_some());

    let (st, _, body) = post_form(&w, &nurse, &nurse_csrf, &end, &full).await;
    assert_eq!(st, 303, "{body}");
    assert_eq!(enrolment_status(&w).await.as_deref(), Some("ended"));
    assert_eq!(audit_count(&w, "followup.ended").await, 1);
    // The checklist is kept.
    let items = sqlx::query("SELECT item, returned FROM followup_equipment_returns ORDER BY item")
        .fetch_all(w.s.store.raw_pool())
        .await
        .unwrap();
    let items: Vec<(String, i64)> = items.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        items,
        [("Nettbrett".to_owned(), 0), ("Oksymeter".to_owned(), 1)]
    );
    let (_, page) = get(&w, &nurse, &end).await;
    assert!(page.contains("Dr. Berg, Sentrum legekontor") && page.contains("Nettbrett"));
    // The device key is refused, the app session is gone, the reminder withdrawn.
    assert_eq!(
        post_device(&w, &token, &spo2(pid, 95.0, "2027-01-16T07:30:00Z")).await,
        401
    );
    assert!(app.patient_self(&session).await.unwrap().is_none());
    assert_eq!(queued().await, 0, "the queued reminder is withdrawn");
    // Off the work list; no missing reports and no escalations, however long we wait.
    let list = app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert!(!list.lines.iter().any(|l| l.alert.patient_id == pid));
    let (_, page) = get(&w, &nurse, "/followup").await;
    assert!(!page.contains("Kari Nordmann"));
    let missing_before = scalar_i64(
        &w,
        "SELECT COUNT(*) FROM followup_alerts WHERE kind = 'missing_report'",
    )
    .await;
    for _ in 0..3 {
        w.s.clock.advance(SignedDuration::from_hours(24));
        let r = app.followup_sweep().await.unwrap();
        assert_eq!((r.missing_reports, r.escalated), (0, 0));
    }
    assert_eq!(
        scalar_i64(
            &w,
            "SELECT COUNT(*) FROM followup_alerts WHERE kind = 'missing_report'"
        )
        .await,
        missing_before
    );
    assert_eq!(queued().await, 0, "no new reminders");
    // Ending twice is a conflict.
    let (nurse, nurse_csrf) = w.s.login("sykepleier").await;
    let (st, _, _) = post_form(&w, &nurse, &nurse_csrf, &end, &full).await;
    assert_eq!(st, 409);
}

#[tokio::test]
async fn without_an_end_the_sweep_keeps_raising_missing_reports() {
    // The control for the test above: the same plan, not ended, raises a missing report
    // once the deadline and grace have passed.
    let w = world().await;
    let plan = TaskSchedule {
        task: Task::Measurement(MeasurementKind::OxygenSaturation),
        recurrence: Recurrence::Daily,
        due_by: jiff::civil::time(10, 0, 0, 0),
        grace: SignedDuration::from_mins(30),
        starts: jiff::civil::date(2027, 1, 15),
        ends: None,
    };
    w.s.app
        .enrol_followup(&access(&w).await, &[Condition::Copd], &[plan])
        .await
        .unwrap();
    w.s.clock.advance(SignedDuration::from_mins(91));
    assert_eq!(w.s.app.followup_sweep().await.unwrap().missing_reports, 1);
}
