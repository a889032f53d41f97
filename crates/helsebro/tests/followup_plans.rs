//! Self-care plans and questionnaires through the real server: plan versions made by a nurse
//! and approved only by a GP on the care team, drafts the patient never sees, a new version
//! that supersedes the old one, the step of the current colour marked in the patient app; a
//! questionnaire answered in the patient app (logged in by the one-time code) that is scored,
//! triaged and raises a red alert at the top of the work list; bad answers refused with nothing
//! stored; and FHIR Questionnaire, QuestionnaireResponse and CarePlan with OperationOutcomes
//! for bad input and for staff outside the care team. SQLite by default, PostgreSQL with
//! `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, between, nid, principal};
use helsebro_app::followup::rules::Condition;
use helsebro_app::followup::rules::fhir::{self as fhir, build};
use helsebro_app::followup::rules::questionnaire::COPD_SYMPTOMS;
use helsebro_app::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use helsebro_app::followup::rules::{Lang, MeasurementKind};
use helsebro_app::{PatientAccess, Purpose, StaffPrincipal};
use helsebro_domain::Role;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

// The test clock starts at 2027-01-15 08:00 UTC, 09:00 in Norway.

const PHONE: &str = "912 34 567";
const COPD: &str = "helsebro-kols-symptomer";

struct World {
    s: TestServer,
    nurse: reqwest::Client,
    nurse_csrf: String,
    nurse_p: StaffPrincipal,
    gp: reqwest::Client,
    gp_csrf: String,
    other: reqwest::Client,
    other_csrf: String,
    patient: Uuid,
}

/// A COPD patient with a daily SpO2 task and a daily COPD questionnaire due by 10:00, a
/// follow-up nurse and the GP on the care team, and a clinician outside it.
async fn world() -> World {
    let s = TestServer::start().await;
    let nurse_id = s.add_staff("sykepleier", &[Role::FollowUpNurse]).await;
    let gp_id = s.add_staff("fastlege", &[Role::Clinician]).await;
    s.add_staff("annenlege", &[Role::Clinician]).await;
    let (nurse, nurse_csrf) = s.login("sykepleier").await;
    let (gp, gp_csrf) = s.login("fastlege").await;
    let (other, other_csrf) = s.login("annenlege").await;
    let res = nurse
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", &nurse_csrf)
        .json(&json!({"name": "Kari Nordmann", "birth_date": "1948-03-02", "national_id": nid("020348123"), "phone": PHONE}))
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
        .set_care_team_member(&access, gp_id, "advising")
        .await
        .unwrap();
    let daily = |task| TaskSchedule {
        task,
        recurrence: Recurrence::Daily,
        due_by: jiff::civil::time(10, 0, 0, 0),
        grace: SignedDuration::from_mins(30),
        starts: jiff::civil::date(2027, 1, 15),
        ends: None,
    };
    s.app
        .enrol_followup(
            &access,
            &[Condition::Copd],
            &[
                daily(Task::Measurement(MeasurementKind::OxygenSaturation)),
                daily(Task::Questionnaire(COPD.into())),
            ],
        )
        .await
        .unwrap();
    World {
        s,
        nurse,
        nurse_csrf,
        nurse_p,
        gp,
        gp_csrf,
        other,
        other_csrf,
        patient,
    }
}

async fn access(w: &World) -> PatientAccess {
    w.s.app
        .authorize_patient(&w.nurse_p, w.patient, Purpose::Change, "test")
        .await
        .unwrap()
}

async fn count(w: &World, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get::<i64, _>("n")
}

/// Logs the patient into the patient app with the one-time code sent through the outbox.
async fn patient_login(w: &World) -> (reqwest::Client, String) {
    let c = w.s.client();
    let page = c
        .get(w.s.url("/mine/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
    let res = c
        .post(w.s.url("/mine/login"))
        .form(&[("csrf_token", csrf.as_str()), ("contact", PHONE)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: String = sqlx::query(
        "SELECT body FROM outbox WHERE kind = 'followup_login_code' ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(w.s.store.raw_pool())
    .await
    .unwrap()
    .get("body");
    let digits: Vec<char> = body.chars().collect();
    let code: String = digits
        .windows(6)
        .find(|win| win.iter().all(char::is_ascii_digit))
        .expect("a six-digit code in the message")
        .iter()
        .collect();
    let res = c
        .post(w.s.url("/mine/code"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("contact", PHONE),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "code accepted");
    (c, csrf)
}

async fn mine(w: &World, c: &reqwest::Client) -> String {
    let res = c.get(w.s.url("/mine")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The plan form for COPD with `tag` in every text.
fn plan_form(csrf: &str, tag: &str) -> Vec<(String, String)> {
    let mut f = vec![("csrf_token".to_owned(), csrf.to_owned())];
    for colour in ["green", "yellow", "red"] {
        f.push((
            format!("copd.{colour}.what"),
            format!("{tag}-{colour}-gjør"),
        ));
        f.push((
            format!("copd.{colour}.medication"),
            if colour == "red" {
                format!("{tag}-prednisolon")
            } else {
                String::new()
            },
        ));
        f.push((
            format!("copd.{colour}.contact"),
            format!("{tag}-{colour}-ring"),
        ));
    }
    f
}

async fn post_form(
    w: &World,
    c: &reqwest::Client,
    path: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    c.post(w.s.url(path)).form(form).send().await.unwrap()
}

async fn plan_id(w: &World, version: i64) -> String {
    sqlx::query("SELECT id FROM followup_plans WHERE patient_id = $1 AND version = $2")
        .bind(w.patient.to_string())
        .bind(version)
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap()
        .get("id")
}

async fn approve(w: &World, c: &reqwest::Client, csrf: &str, version: i64) -> u16 {
    let id = plan_id(w, version).await;
    post_form(
        w,
        c,
        &format!("/followup/patients/{}/plan/{id}/approve", w.patient),
        &[("csrf_token".to_owned(), csrf.to_owned())],
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn plan_versions_are_approved_by_the_gp_and_only_approved_ones_reach_the_patient() {
    let w = world().await;
    let plan_path = format!("/followup/patients/{}/plan", w.patient);
    let plans = "SELECT COUNT(*) AS n FROM followup_plans";

    // The nurse sees the form and saves version 1 (a draft).
    let page = w.nurse.get(w.s.url(&plan_path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("name=\"copd.red.contact\""), "{page}");
    let res = post_form(&w, &w.nurse, &plan_path, &plan_form(&w.nurse_csrf, "v1")).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(count(&w, plans).await, 1);

    // An incomplete plan is refused and stores nothing.
    let mut incomplete = plan_form(&w.nurse_csrf, "bad");
    incomplete.retain(|(k, _)| k != "copd.red.contact");
    let res = post_form(&w, &w.nurse, &plan_path, &incomplete).await;
    assert_eq!(res.status(), 422);
    let text = res.text().await.unwrap();
    assert!(text.contains("copd.red.contact"), "{text}");
    assert_eq!(count(&w, plans).await, 1, "nothing stored");

    // The nurse is no GP: approving is forbidden, and the version stays a draft.
    assert_eq!(approve(&w, &w.nurse, &w.nurse_csrf, 1).await, 403);
    // Nor may a clinician outside the care team see or approve it.
    let res = w.other.get(w.s.url(&plan_path)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(approve(&w, &w.other, &w.other_csrf, 1).await, 403);
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) AS n FROM followup_plans WHERE approved_at IS NOT NULL"
        )
        .await,
        0
    );

    // The patient does not see the draft.
    let (patient, _) = patient_login(&w).await;
    let home = mine(&w, &patient).await;
    assert!(!home.contains("v1-green-gjør"), "draft shown: {home}");
    assert!(home.contains("Du har ingen godkjent plan ennå"), "{home}");

    // The GP approves version 1; now the patient sees it.
    assert_eq!(approve(&w, &w.gp, &w.gp_csrf, 1).await, 303);
    let home = mine(&w, &patient).await;
    for colour in ["green", "yellow", "red"] {
        assert!(home.contains(&format!("v1-{colour}-gjør")), "{home}");
        assert!(home.contains(&format!("v1-{colour}-ring")), "{home}");
    }
    assert!(home.contains("v1-prednisolon"));
    assert!(home.contains("Test fastlege"), "approved by the GP: {home}");
    // Approving twice changes nothing.
    assert_eq!(approve(&w, &w.gp, &w.gp_csrf, 1).await, 409);

    // A red reading: the red step is the one marked as applying now, in words.
    let page = mine(&w, &patient).await;
    let csrf = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
    let res = patient
        .post(w.s.url("/mine/readings"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("kind", "oxygen_saturation"),
            ("value", "85"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let home = mine(&w, &patient).await;
    let marker = "class=\"plan-step plan-red current\" aria-current=\"true\">";
    let current = between(&home, marker, "</li>");
    assert!(current.contains("v1-red-gjør"), "{current}");
    assert!(current.contains("Gjelder nå"), "{current}");
    assert_eq!(home.matches(" current\" aria-current=\"true\">").count(), 1);

    // Version 2 is a draft: the patient still sees version 1 …
    let res = post_form(&w, &w.nurse, &plan_path, &plan_form(&w.nurse_csrf, "v2")).await;
    assert_eq!(res.status(), 303);
    let home = mine(&w, &patient).await;
    assert!(home.contains("v1-green-gjør") && !home.contains("v2-green-gjør"));
    // … and version 1, superseded, can no longer be approved.
    let versions = w.s.app.followup_plans(&access(&w).await).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1],
        "the old version is kept"
    );
    assert!(versions[0].approval.is_none() && versions[1].approval.is_some());

    // Once the GP approves version 2, it replaces version 1 for the patient.
    assert_eq!(approve(&w, &w.gp, &w.gp_csrf, 2).await, 303);
    let home = mine(&w, &patient).await;
    assert!(home.contains("v2-green-gjør") && !home.contains("v1-green-gjør"));

    // The staff page shows the approved version, who approved it, and the history.
    let page = w
        .nurse
        .get(w.s.url(&plan_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"plan-approved\""));
    assert!(page.contains("Godkjent av Test fastlege"), "{page}");
    assert!(page.contains("v1-green-gjør"), "history kept: {page}");

    // Changes and approvals are in the audit log; so is the refused approval.
    let audit = |action: &'static str, outcome: &'static str| {
        let w = &w;
        async move {
            sqlx::query(
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1 AND outcome = $2 AND patient_id = $3",
            )
            .bind(action)
            .bind(outcome)
            .bind(w.patient.to_string())
            .fetch_one(w.s.store.raw_pool())
            .await
            .unwrap()
            .get::<i64, _>("n")
        }
    };
    assert_eq!(audit("followup.plan_changed", "success").await, 2);
    assert_eq!(audit("followup.plan_approved", "success").await, 2);
    assert_eq!(audit("followup.plan_approved", "denied").await, 1);
}

async fn answer(
    w: &World,
    c: &reqwest::Client,
    csrf: &str,
    questionnaire: &str,
    answers: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf_token", csrf)];
    form.extend_from_slice(answers);
    c.post(w.s.url(&format!("/mine/questionnaires/{questionnaire}")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Every question of the COPD questionnaire answered with its first option, except `pust`.
fn copd_answers(pust: &'static str) -> Vec<(&'static str, &'static str)> {
    COPD_SYMPTOMS
        .items
        .iter()
        .map(|i| {
            (
                i.link_id,
                if i.link_id == "pust" {
                    pust
                } else {
                    i.options[0].code
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn a_red_answer_in_the_patient_app_tops_the_work_list() {
    let w = world().await;
    // A yellow reading first (SpO2 89), through the care team's FHIR endpoint.
    let res = w
        .nurse
        .post(w.s.url("/fhir/r4/Observation"))
        .header("content-type", "application/fhir+json")
        .header("x-csrf-token", &w.nurse_csrf)
        .body(
            json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
                "subject": {"reference": format!("Patient/{}", w.patient)},
                "effectiveDateTime": "2027-01-15T07:00:00Z",
                "valueQuantity": {"value": 89.0, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // The questionnaire is among today's tasks, not yet done, with a link to answer it.
    let (patient, csrf) = patient_login(&w).await;
    let home = mine(&w, &patient).await;
    assert!(
        home.contains(&format!("href=\"/mine/questionnaires/{COPD}\"")),
        "{home}"
    );
    assert!(home.contains("Hvordan er KOLS-en i dag?"));
    let page = patient
        .get(w.s.url(&format!("/mine/questionnaires/{COPD}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Universal design: a fieldset with a legend per question, a label per radio button.
    assert_eq!(page.matches("<fieldset").count(), COPD_SYMPTOMS.items.len());
    assert_eq!(page.matches("<legend>").count(), COPD_SYMPTOMS.items.len());
    assert!(page.contains("<label class=\"check\" for=\"pust-klarer-ikke\"><input type=\"radio\" id=\"pust-klarer-ikke\" name=\"pust\" value=\"klarer-ikke\""));

    // The patient answers that breathing is so heavy they cannot do ordinary things: red.
    let res = answer(&w, &patient, &csrf, COPD, &copd_answers("klarer-ikke")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/mine?answered=red"
    );
    let home = patient
        .get(w.s.url("/mine?answered=red"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Svarene dine viser at du trenger hjelp nå"));
    let task = between(&home, "<ul class=\"tasks\">", "</ul>");
    let line = task
        .split("<li>")
        .find(|l| l.contains("Hvordan er KOLS-en i dag?"))
        .unwrap();
    assert!(line.contains("(gjort)"), "task done: {line}");
    assert!(!line.contains("href="), "no link once done: {line}");

    // Stored with its score and colour; the red alert is first on the work list.
    let row = sqlx::query("SELECT questionnaire, colour, score, answers FROM followup_responses")
        .fetch_one(w.s.store.raw_pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("questionnaire"), COPD);
    assert_eq!(row.get::<String, _>("colour"), "red");
    assert_eq!(row.get::<i64, _>("score"), 3);
    assert!(row.get::<String, _>("answers").contains("klarer-ikke"));
    let list = w.s.app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    let kinds: Vec<&str> = list.lines.iter().map(|l| l.alert.kind.as_str()).collect();
    assert_eq!(kinds, ["red", "yellow"], "red first");
    let top = &list.lines[0].alert;
    assert!(top.questionnaire_response_id.is_some());
    assert!(top.observation_id.is_none());
    assert!(
        top.explanation.contains("Hvordan er KOLS-en i dag?"),
        "{}",
        top.explanation
    );
    let page = w
        .nurse
        .get(w.s.url("/followup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let red_at = page
        .find("Spørreskjema «Hvordan er KOLS-en i dag?»")
        .unwrap();
    let yellow_at = page.find("data-kind=\"yellow\"").unwrap_or(usize::MAX);
    assert!(
        red_at < yellow_at,
        "the answer's alert is above the yellow one"
    );

    // The care team sees the response on the patient's follow-up page.
    let page = w
        .nurse
        .get(w.s.url(&format!("/followup/patients/{}", w.patient)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = between(&page, "<table class=\"responses\">", "</table>");
    assert!(table.contains("row-red"), "{table}");
    assert!(
        table.contains("Så tung at jeg ikke klarer vanlige ting"),
        "{table}"
    );

    // A green answer raises nothing.
    let res = answer(&w, &patient, &csrf, COPD, &copd_answers("vanlig")).await;
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/mine?answered=green"
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) AS n FROM followup_alerts").await,
        2
    );
}

#[tokio::test]
async fn bad_answers_are_refused_and_nothing_is_stored() {
    let w = world().await;
    let (patient, csrf) = patient_login(&w).await;

    // A question left out: the page comes back with the question marked.
    let mut missing = copd_answers("klarer-ikke");
    missing.retain(|(l, _)| *l != COPD_SYMPTOMS.items[1].link_id);
    let res = answer(&w, &patient, &csrf, COPD, &missing).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Du har ikke svart på alle spørsmålene"),
        "{page}"
    );
    assert!(page.contains(&format!("id=\"err-{}\"", COPD_SYMPTOMS.items[1].link_id)));
    // What was chosen stays chosen.
    assert!(page.contains("value=\"klarer-ikke\" checked"));

    assert_eq!(stored(&w).await, (0, 0));

    // An option that does not exist.
    let mut wrong = copd_answers("vanlig");
    wrong[0].1 = "kjempebra";
    let res = answer(&w, &patient, &csrf, COPD, &wrong).await;
    assert_eq!(res.status(), 422);
    // A question answered twice.
    let mut twice = copd_answers("vanlig");
    twice.push(("pust", "klarer-ikke"));
    let res = answer(&w, &patient, &csrf, COPD, &twice).await;
    assert_eq!(res.status(), 422);
    // A questionnaire that does not exist.
    let res = answer(&w, &patient, &csrf, "no-such-form", &copd_answers("vanlig")).await;
    assert_eq!(res.status(), 404);
    // Without a valid CSRF token.
    let res = answer(&w, &patient, "forged", COPD, &copd_answers("vanlig")).await;
    assert_eq!(res.status(), 403);
    // Not logged in.
    let stranger = w.s.client();
    let page = stranger
        .get(w.s.url("/mine/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
    let res = answer(&w, &stranger, &pre, COPD, &copd_answers("klarer-ikke")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"].to_str().unwrap(), "/mine/login");
    assert_eq!(stored(&w).await, (0, 0), "nothing stored");
}

async fn stored(w: &World) -> (i64, i64) {
    (
        count(w, "SELECT COUNT(*) AS n FROM followup_responses").await,
        count(w, "SELECT COUNT(*) AS n FROM followup_alerts").await,
    )
}

/// R4 JSON rules that hold for every resource: no nulls or empty values, absolute code
/// systems, `Type/id` references, instants that parse, valid ids.
fn check_r4_json(v: &Value, path: &str) {
    match v {
        Value::Null => panic!("null at {path}"),
        Value::String(s) => assert!(!s.is_empty(), "empty string at {path}"),
        Value::Array(a) => {
            assert!(!a.is_empty(), "empty array at {path}");
            for (i, x) in a.iter().enumerate() {
                check_r4_json(x, &format!("{path}[{i}]"));
            }
        }
        Value::Object(o) => {
            assert!(!o.is_empty(), "empty object at {path}");
            for (k, x) in o {
                let p = format!("{path}.{k}");
                match (k.as_str(), x) {
                    ("system" | "url", Value::String(s)) => assert!(
                        s.starts_with("http://")
                            || s.starts_with("https://")
                            || s.starts_with("urn:"),
                        "{p}: {s}"
                    ),
                    ("reference", Value::String(s)) => {
                        let (t, id) = s.split_once('/').unwrap();
                        assert!(t.chars().all(|c| c.is_ascii_alphabetic()), "{p}");
                        assert!(fhir::is_valid_id(id), "{p}: {s}");
                    }
                    ("id", Value::String(s)) => assert!(fhir::is_valid_id(s), "{p}: {s}"),
                    ("authored" | "date" | "start" | "created", Value::String(s)) => {
                        s.parse::<Timestamp>()
                            .unwrap_or_else(|e| panic!("{p}: {s}: {e}"));
                    }
                    ("coding", Value::Array(cs)) => {
                        for c in cs {
                            assert!(c.get("system").is_some() && c.get("code").is_some(), "{p}");
                        }
                    }
                    _ => {}
                }
                check_r4_json(x, &p);
            }
        }
        _ => {}
    }
}

async fn fhir_get(w: &World, c: &reqwest::Client, path: &str) -> (u16, Value) {
    let res = c.get(w.s.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/fhir+json"), "{path}: {ct}");
    (status, res.json().await.unwrap())
}

async fn fhir_post(w: &World, c: &reqwest::Client, csrf: &str, body: &str) -> (u16, Value) {
    let res = c
        .post(w.s.url("/fhir/r4/QuestionnaireResponse"))
        .header("content-type", "application/fhir+json")
        .header("x-csrf-token", csrf)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn assert_outcome(v: &Value) {
    assert_eq!(v["resourceType"], "OperationOutcome", "{v}");
    assert_eq!(v["issue"][0]["severity"], "error", "{v}");
    check_r4_json(v, "OperationOutcome");
}

#[tokio::test]
async fn fhir_questionnaires_responses_and_care_plans() {
    let w = world().await;
    let pid = w.patient.to_string();

    // The capability statement names the three resources.
    let (st, meta) = fhir_get(&w, &w.nurse, "/fhir/r4/metadata").await;
    assert_eq!(st, 200);
    let kinds: Vec<&str> = meta["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for k in ["Questionnaire", "QuestionnaireResponse", "CarePlan"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }

    // Questionnaires: all three, each valid and readable by id; an unknown id is a 404.
    let (st, bundle) = fhir_get(&w, &w.nurse, "/fhir/r4/Questionnaire").await;
    assert_eq!(st, 200);
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 3);
    check_r4_json(&bundle, "Bundle");
    for e in bundle["entry"].as_array().unwrap() {
        let q: fhir::Questionnaire = serde_json::from_value(e["resource"].clone()).unwrap();
        assert_eq!(q.status, "active");
        assert!(q.item.iter().all(|i| !i.answer_option.is_empty()));
    }
    let (st, q) = fhir_get(&w, &w.nurse, &format!("/fhir/r4/Questionnaire/{COPD}")).await;
    assert_eq!(st, 200);
    assert_eq!(q["id"], COPD);
    assert_eq!(
        q["item"].as_array().unwrap().len(),
        COPD_SYMPTOMS.items.len()
    );
    let url = q["url"].as_str().unwrap();
    let (_, one) = fhir_get(
        &w,
        &w.nurse,
        &format!("/fhir/r4/Questionnaire?url={}", urlencode(url)),
    )
    .await;
    assert_eq!(one["total"], 1);
    let (st, oo) = fhir_get(&w, &w.nurse, "/fhir/r4/Questionnaire/nope").await;
    assert_eq!(st, 404);
    assert_outcome(&oo);

    // A response by the nurse, built as a client would from the questionnaire: breathing
    // much heavier (2) and coughing a little more (1) score 3, yellow.
    let mut answers = copd_answers("mye-tyngre");
    answers[1] = ("hoste", "litt");
    let qr = build::questionnaire_response(
        &COPD_SYMPTOMS,
        &answers,
        "client-side",
        &pid,
        Timestamp::from_second(1_800_000_000 - 600).unwrap(),
        None,
        Lang::Nb,
    );
    let mut body = serde_json::to_value(&qr).unwrap();
    body.as_object_mut().unwrap().remove("id");
    let responses = "SELECT COUNT(*) AS n FROM followup_responses";

    // Bad input first: each an OperationOutcome with a 4xx, nothing stored.
    let bad = |patch: &dyn Fn(&mut Value)| {
        let mut b = body.clone();
        patch(&mut b);
        b.to_string()
    };
    let cases: Vec<(u16, String)> = vec![
        (400, "{not json".to_owned()),
        (400, bad(&|b| b["resourceType"] = json!("Observation"))),
        (422, bad(&|b| b["status"] = json!("in-progress"))),
        (
            422,
            bad(&|b| b["questionnaire"] = json!("urn:helsebro:questionnaire:unknown|1")),
        ),
        (
            422,
            bad(&|b| {
                b["questionnaire"] =
                    json!(format!("{}|99", build::questionnaire_url(&COPD_SYMPTOMS)))
            }),
        ),
        (
            422,
            bad(&|b| {
                b["item"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            422,
            bad(&|b| b["item"][0]["answer"][0]["valueCoding"]["code"] = json!("kjempebra")),
        ),
        (
            422,
            bad(&|b| {
                b["item"][0]["answer"] = json!([]);
            }),
        ),
        (
            422,
            bad(&|b| b["subject"] = json!({"reference": "Group/1"})),
        ),
        (422, bad(&|b| b["authored"] = json!("2099-01-01T00:00:00Z"))),
    ];
    for (want, body) in &cases {
        let (st, oo) = fhir_post(&w, &w.nurse, &w.nurse_csrf, body).await;
        assert_eq!(st, *want, "{body}: {oo}");
        assert_outcome(&oo);
    }
    assert_eq!(count(&w, responses).await, 0, "nothing stored");

    // A clinician outside the care team: 403, nothing stored, and no reads either.
    let (st, oo) = fhir_post(&w, &w.other, &w.other_csrf, &body.to_string()).await;
    assert_eq!(st, 403);
    assert_outcome(&oo);
    assert_eq!(count(&w, responses).await, 0);
    for path in [
        format!("/fhir/r4/QuestionnaireResponse?patient={pid}"),
        format!("/fhir/r4/CarePlan?patient={pid}"),
    ] {
        let (st, oo) = fhir_get(&w, &w.other, &path).await;
        assert_eq!(st, 403, "{path}");
        assert_outcome(&oo);
    }
    // Without a session.
    let (st, oo) = fhir_post(&w, &w.s.client(), "", &body.to_string()).await;
    assert_eq!(st, 401);
    assert_outcome(&oo);

    // The good response: stored and triaged yellow.
    let (st, created) = fhir_post(&w, &w.nurse, &w.nurse_csrf, &body.to_string()).await;
    assert_eq!(st, 201, "{created}");
    check_r4_json(&created, "QuestionnaireResponse");
    assert_eq!(created["status"], "completed");
    assert_eq!(created["subject"]["reference"], format!("Patient/{pid}"));
    assert_eq!(created["extension"][0]["url"], build::TRIAGE_COLOUR);
    assert_eq!(created["extension"][0]["valueString"], "yellow");
    let parsed: fhir::QuestionnaireResponse = serde_json::from_value(created.clone()).unwrap();
    assert_eq!(parsed.answers().len(), COPD_SYMPTOMS.items.len());
    assert_eq!(count(&w, responses).await, 1);
    let list = w.s.app.followup_worklist(&w.nurse_p, "test").await.unwrap();
    assert_eq!(list.lines.len(), 1);
    assert_eq!(list.lines[0].alert.kind, "yellow");

    let (st, found) = fhir_get(
        &w,
        &w.nurse,
        &format!("/fhir/r4/QuestionnaireResponse?patient={pid}"),
    )
    .await;
    assert_eq!(st, 200);
    check_r4_json(&found, "Bundle");
    assert_eq!(found["total"], 1);
    assert_eq!(found["entry"][0]["resource"]["id"], created["id"]);
    assert_eq!(
        found["entry"][0]["resource"]["extension"][0]["valueString"],
        "yellow"
    );
    let (st, read) = fhir_get(
        &w,
        &w.nurse,
        &format!(
            "/fhir/r4/QuestionnaireResponse/{}",
            created["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(read["item"], created["item"]);

    // CarePlan: nothing while the plan is a draft; the approved version, active, after.
    let plan_path = format!("/followup/patients/{pid}/plan");
    let res = post_form(&w, &w.nurse, &plan_path, &plan_form(&w.nurse_csrf, "fhir")).await;
    assert_eq!(res.status(), 303);
    let (st, none) = fhir_get(&w, &w.nurse, &format!("/fhir/r4/CarePlan?patient={pid}")).await;
    assert_eq!(st, 200);
    assert_eq!(none["total"], 0);
    assert_eq!(approve(&w, &w.gp, &w.gp_csrf, 1).await, 303);
    let (st, plans) = fhir_get(&w, &w.nurse, &format!("/fhir/r4/CarePlan?patient={pid}")).await;
    assert_eq!(st, 200);
    check_r4_json(&plans, "Bundle");
    assert_eq!(plans["total"], 1);
    let cp = &plans["entry"][0]["resource"];
    let parsed: fhir::CarePlan = serde_json::from_value(cp.clone()).unwrap();
    assert_eq!(parsed.status, "active");
    assert_eq!(parsed.intent, "plan");
    assert_eq!(
        parsed.subject.reference.as_deref(),
        Some(&*format!("Patient/{pid}"))
    );
    assert_eq!(parsed.activity.len(), 3);
    let texts: Vec<String> = parsed
        .activity
        .iter()
        .filter_map(|a| a.detail.as_ref()?.description.clone())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("fhir-red-gjør") && t.contains("fhir-red-ring"))
    );
    assert!(
        cp["note"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Test fastlege")
    );
    let (st, one) = fhir_get(
        &w,
        &w.nurse,
        &format!("/fhir/r4/CarePlan/{}", parsed.id.as_deref().unwrap()),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(one["status"], "active");
    let (st, oo) = fhir_get(
        &w,
        &w.other,
        &format!("/fhir/r4/CarePlan/{}", parsed.id.as_deref().unwrap()),
    )
    .await;
    assert_eq!(st, 403);
    assert_outcome(&oo);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// HF-9 for questionnaires: a daily questionnaire not answered by its deadline raises one
/// missing report naming the questionnaire; answered in time, none.
#[tokio::test]
async fn an_unanswered_questionnaire_raises_a_missing_report() {
    let w = world().await;
    let app = &w.s.app;
    let me = helsebro_app::patient_app::PatientSelf {
        patient_id: w.patient,
        name: "Pasient".into(),
        language: helsebro_domain::Language::Nb,
    };
    let answers: Vec<(String, String)> = helsebro_app::followup::rules::questionnaire::by_id(COPD)
        .unwrap()
        .items
        .iter()
        .map(|i| (i.link_id.to_owned(), i.options[0].code.to_owned()))
        .collect();
    // Day 1 (15 January): the COPD questionnaire is answered at 09:00, SpO2 is not measured.
    app.patient_answer_questionnaire(&me, COPD, &answers, "test")
        .await
        .unwrap();
    w.s.clock.advance(jiff::SignedDuration::from_hours(3));
    app.followup_sweep().await.unwrap();
    let missing = |w: &World| {
        let pool = w.s.store.raw_pool().clone();
        async move {
            sqlx::query(
                "SELECT explanation FROM followup_alerts WHERE kind = 'missing_report' ORDER BY raised_at, explanation",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("explanation"))
            .collect::<Vec<String>>()
        }
    };
    let day1 = missing(&w).await;
    assert_eq!(day1.len(), 1, "only the SpO2 is missing: {day1:?}");
    assert!(day1[0].contains("oksygenmetning"), "{day1:?}");
    // Day 2: nothing answered or measured.
    w.s.clock.advance(jiff::SignedDuration::from_hours(24));
    app.followup_sweep().await.unwrap();
    let day2 = missing(&w).await;
    assert_eq!(day2.len(), 3, "{day2:?}");
    assert!(
        day2.iter()
            .any(|e| e.contains("svar på «") && e.contains("16.01.")),
        "the questionnaire's missing report names it: {day2:?}"
    );
}
