//! The signalling WebSocket and the join link pages against the real server, from a plain
//! WebSocket client: what a link that does not work looks like, that a malformed message
//! closes only its own connection, the knock limit per address, cross-site WebSockets,
//! admission rules, and ratings. Media itself is tested in the browser (tests/browser) and
//! in the media crate. SQLite by default, PostgreSQL with `HELSEBRO_TEST_DB=postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::appointments::{World, book, booking, token_of, world, world_with};
use futures::{SinkExt, StreamExt};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

// The test clock starts at 2027-01-15 09:00 in Norway: an appointment at 09:30 is open.
const TODAY: &str = "2027-01-15";

/// Books today at 09:30 with a patient and an interpreter; returns (appointment id, tokens).
async fn book_today(w: &World) -> (String, Vec<String>) {
    let booked = book(w, &booking(w, TODAY, "09:30")).await;
    let tokens = booked["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| token_of(l["link"].as_str().unwrap()))
        .collect();
    (
        booked["appointment_id"].as_str().unwrap().to_owned(),
        tokens,
    )
}

fn ws_url(w: &World, path: &str) -> String {
    w.s.url(path).replacen("http://", "ws://", 1)
}

async fn open(w: &World, token: &str) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(ws_url(w, &format!("/join/{token}/ws")))
        .await
        .unwrap();
    socket
}

/// The next JSON message, skipping pings; `None` when the server closed the connection.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server answers within 10 s");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads messages until one of type `kind` arrives.
async fn until(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let msg = next(socket)
            .await
            .unwrap_or_else(|| panic!("closed before a {kind} message"));
        if msg["type"] == kind {
            return msg;
        }
    }
}

async fn send(socket: &mut Socket, msg: Value) {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_link_that_does_not_work_gets_the_same_page_whatever_the_reason() {
    let w = world().await;
    let (_, tokens) = book_today(&w).await;
    let client = w.s.client();
    let page = |token: String| {
        let client = client.clone();
        let url = w.s.url(&format!("/join/{token}"));
        async move {
            let res = client.get(url).send().await.unwrap();
            let status = res.status().as_u16();
            // The language links repeat the path; everything else must be identical.
            let body = res.text().await.unwrap().replace(&token, "TOKEN");
            (status, body)
        }
    };

    let (status, valid) = page(tokens[0].clone()).await;
    assert_eq!(status, 200);
    assert!(valid.contains("data-ws=\"/join/"), "the join page");

    let (unknown_status, unknown) = page("ab".repeat(32)).await;
    let (_, garbage) = page("not-a-token".into()).await;
    // Revoke the interpreter's link through the API.
    let id_of_interpreter = {
        let appointment: Value = w
            .lege
            .get(w.s.url(&format!("/api/v1/appointments?date={TODAY}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = appointment[0]["appointment"]["id"]
            .as_str()
            .or_else(|| appointment[0]["id"].as_str())
            .unwrap()
            .to_owned();
        let details: Value = w
            .lege
            .get(w.s.url(&format!("/api/v1/appointments/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        details["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["role"] == "interpreter")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let res = w
        .lege
        .post(w.s.url(&format!("/api/v1/invitations/{id_of_interpreter}/revoke")))
        .header("x-csrf-token", &w.csrf)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "revoke: {}", res.status());
    let (revoked_status, revoked) = page(tokens[1].clone()).await;

    assert_eq!((unknown_status, revoked_status), (404, 404));
    assert_eq!(unknown, revoked, "unknown and revoked links look the same");
    assert_eq!(unknown, garbage, "a malformed token looks the same too");

    // Long after the appointment, the patient's link has expired: the same page again.
    w.s.clock.advance(SignedDuration::from_hours(6));
    let (expired_status, expired) = page(tokens[0].clone()).await;
    assert_eq!(expired_status, 404);
    assert_eq!(unknown, expired, "an expired link looks the same");

    // And its WebSocket says only that the link does not work.
    let mut socket = open(&w, &tokens[0]).await;
    let refused = next(&mut socket).await.unwrap();
    assert_eq!(refused, json!({"type": "refused", "reason": "invalid"}));
    assert!(
        next(&mut socket).await.is_none(),
        "closed after the refusal"
    );
}

#[tokio::test]
async fn a_malformed_message_closes_only_its_own_connection() {
    let w = world().await;
    let (_, tokens) = book_today(&w).await;
    let mut patient = open(&w, &tokens[0]).await;
    let mut interpreter = open(&w, &tokens[1]).await;
    assert_eq!(
        until(&mut patient, "welcome").await["you"]["presence"],
        "lobby"
    );
    until(&mut interpreter, "welcome").await;

    send(
        &mut patient,
        json!({"type": "knock", "name": "Kari", "extra": 1}),
    )
    .await;
    assert!(
        next(&mut patient).await.is_none(),
        "unknown fields close the connection"
    );

    let mut patient = open(&w, &tokens[0]).await;
    until(&mut patient, "welcome").await;
    patient
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert!(next(&mut patient).await.is_none(), "bad JSON closes it");

    // The other guest is unaffected.
    send(&mut interpreter, json!({"type": "knock", "name": "Ali"})).await;
    let you = until(&mut interpreter, "you").await;
    assert_eq!(you["you"]["presence"], "waiting");
}

#[tokio::test]
async fn a_waiting_guest_cannot_start_media_or_act_as_host() {
    let w = world().await;
    let (_, tokens) = book_today(&w).await;
    let mut patient = open(&w, &tokens[0]).await;
    until(&mut patient, "welcome").await;
    send(
        &mut patient,
        json!({"type": "knock", "name": "Kari Nordmann"}),
    )
    .await;
    until(&mut patient, "you").await;

    send(
        &mut patient,
        json!({"type": "offer", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}),
    )
    .await;
    assert_eq!(
        until(&mut patient, "error").await["code"],
        "not_allowed",
        "no media before admission"
    );
    send(&mut patient, json!({"type": "lock"})).await;
    assert_eq!(until(&mut patient, "error").await["code"], "not_host");
    let me = {
        let mut again = open(&w, &tokens[0]).await;
        let welcome = until(&mut again, "welcome").await;
        assert_eq!(
            welcome["you"]["presence"], "waiting",
            "a second tab takes over, still waiting"
        );
        assert_eq!(
            until(&mut patient, "replaced").await["type"],
            "replaced",
            "the first tab is told"
        );
        welcome["you"]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(me.len(), 36);
}

#[tokio::test]
async fn knocks_are_limited_per_address() {
    // Two knocks per ten minutes, per link and per address.
    let w = world_with(|c| c.knocks_per_ten_minutes = 2).await;
    let (_, first) = book_today(&w).await;
    let (_, second) = book_today(&w).await;
    let tokens = [&first[0], &first[1], &second[0]];
    for (i, token) in tokens.iter().enumerate() {
        let mut socket = open(&w, token).await;
        until(&mut socket, "welcome").await;
        send(&mut socket, json!({"type": "knock", "name": "Kari"})).await;
        let answer = loop {
            let m = next(&mut socket).await.unwrap();
            if m["type"] == "you" || m["type"] == "error" {
                break m;
            }
        };
        if i < 2 {
            assert_eq!(answer["you"]["presence"], "waiting", "knock {i}");
        } else {
            assert_eq!(
                answer["code"], "too_many",
                "the third knock from one address"
            );
        }
    }
}

#[tokio::test]
async fn a_websocket_from_another_site_is_refused() {
    let w = world().await;
    let (_, tokens) = book_today(&w).await;
    let mut request = ws_url(&w, &format!("/join/{}/ws", tokens[0]))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

#[tokio::test]
async fn ratings_after_the_call_are_kept_as_sums_and_checked() {
    let w = world().await;
    let (appointment, tokens) = book_today(&w).await;
    let client = w.s.client();
    // The page gives the guest a CSRF token for its scripts.
    let page = client
        .get(w.s.url(&format!("/join/{}", tokens[0])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::between(&page, "data-csrf=\"", "\"").to_owned();
    let rate = |body: Value| {
        client
            .post(w.s.url(&format!("/join/{}/rating", tokens[0])))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    assert_eq!(
        rate(json!({"sound": 4, "picture": 5}))
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        rate(json!({"sound": 2, "picture": 3}))
            .await
            .unwrap()
            .status(),
        204
    );
    let bad = rate(json!({"sound": 6, "picture": 3})).await.unwrap();
    assert_eq!(bad.status(), 422, "out of range");
    let quality =
        w.s.store
            .call_quality(appointment.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        (quality.ratings, quality.sound_sum, quality.picture_sum),
        (2, 6, 8)
    );
}
