//! Shared set-up for tests of video appointments and calls: a clinician with a patient on
//! their care team, and booking through the API.

use super::TestServer;
use helsebro_domain::Role;
use serde_json::{Value, json};

pub use super::nid;

pub struct World {
    pub s: TestServer,
    pub lege: reqwest::Client,
    pub csrf: String,
    pub lege_id: String,
    pub patient: String,
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

/// The same, with configuration changed first.
pub async fn world_with(adjust: impl FnOnce(&mut helsebro_app::Config)) -> World {
    let s = TestServer::start_with(adjust).await;
    let lege_id = s.add_staff("lege", &[Role::Clinician]).await.to_string();
    s.add_staff("annenlege", &[Role::Clinician]).await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    let (lege, csrf) = s.login("lege").await;
    let res = lege
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Kari Nordmann", "birth_date": "1941-03-15", "national_id": nid("150341123"), "phone": "912 34 567"}))
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
        patient,
    }
}

pub fn booking(w: &World, date: &str, time: &str) -> Value {
    json!({
        "patient_id": w.patient,
        "date": date,
        "time": time,
        "duration_minutes": 30,
        "policy": "consultation",
        "title": "Sårkontroll etter operasjon",
        "hosts": [w.lege_id],
        "invitees": [
            {"role": "patient", "display_name": "Kari Nordmann", "phone": "912 34 567"},
            {"role": "interpreter", "display_name": "Tolk Ali", "email": "tolk@example.org", "language": "en"}
        ]
    })
}

pub async fn book(w: &World, body: &Value) -> Value {
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

pub fn token_of(link: &str) -> String {
    link.rsplit_once("/join/").unwrap().1.to_owned()
}
