//! The video call pages and their WebSockets: the guest's join link (self-test, name, knock,
//! waiting room, call, rating), the standalone self-test, and the host's call page.
//!
//! A join link that does not work now — unknown, expired, revoked, spent, or its
//! appointment cancelled — always gets the same page, so a link never reveals whether a
//! room exists.

use super::{Layout, render, tkey};
use crate::AppState;
use crate::api::ApiJson;
use crate::error::{ApiError, PageError};
use crate::session::{RequestCtx, Staff};
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use helsebro_app::calls::{CallRefusal, Connection, Outgoing};
use helsebro_app::{App, AppError};
use helsebro_i18n::Tr;
use helsebro_media::Transport;
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/join/{token}", get(join_page))
        .route("/join/{token}/ws", get(join_ws))
        .route("/join/{token}/rating", post(guest_rating))
        .route("/selftest", get(selftest_page))
        .route("/selftest/probe", post(probe))
        .route("/calls/{appointment_id}", get(call_page))
        .route("/calls/{appointment_id}/ws", get(call_ws))
        .route("/calls/{appointment_id}/rating", post(staff_rating))
}

/// Largest signalling message accepted (an SDP offer with simulcast is a few kilobytes).
const MAX_WS_MESSAGE: usize = 64 * 1024;
/// A ping this often finds connections that died without a close.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Texts the call scripts show, looked up on the server in the page's language.
const SCRIPT_TEXTS: &[&str] = &[
    tkey("selftest-running"),
    tkey("check-ok"),
    tkey("check-failed"),
    tkey("check-running"),
    tkey("check-camera-missing"),
    tkey("check-microphone-missing"),
    tkey("check-speaker-not-heard"),
    tkey("verdict-ok"),
    tkey("verdict-tcp-only"),
    tkey("verdict-no-network"),
    tkey("verdict-no-devices"),
    tkey("verdict-no-microphone"),
    tkey("verdict-no-camera"),
    tkey("call-reconnecting"),
    tkey("call-connection-lost"),
    tkey("call-admitted"),
    tkey("call-knock"),
    tkey("verify-code-sent"),
    tkey("call-muted-by-host"),
    tkey("call-you-are-host"),
    tkey("call-error-locked"),
    tkey("call-error-full"),
    tkey("call-error-not-host"),
    tkey("call-error-not-allowed"),
    tkey("call-error-policy"),
    tkey("call-error-too-many"),
    tkey("call-error-wrong-code"),
    tkey("call-error-bad-message"),
    tkey("call-error-unknown-participant"),
    tkey("call-error-media"),
    tkey("policy-consultation"),
    tkey("policy-administrative"),
    tkey("policy-summary-consultation"),
    tkey("policy-summary-administrative"),
    tkey("call-mic-off"),
    tkey("call-video-of"),
    tkey("call-mic-turn-off"),
    tkey("call-mic-turn-on"),
    tkey("call-camera-turn-off"),
    tkey("call-camera-turn-on"),
    tkey("quality-good"),
    tkey("quality-fair"),
    tkey("quality-poor"),
    tkey("call-host"),
    tkey("call-away"),
    tkey("call-mute"),
    tkey("call-remove"),
    tkey("call-remove-confirm"),
    tkey("call-make-host"),
    tkey("call-unlock"),
    tkey("call-lock"),
    tkey("call-verified"),
    tkey("call-unverified"),
    tkey("call-admit"),
    tkey("call-reject"),
    tkey("call-reject-message"),
    tkey("call-reject-default"),
    tkey("call-end-confirm"),
    tkey("call-fallback-saved"),
    tkey("call-fallback-failed"),
    tkey("after-ended"),
    tkey("after-removed"),
    tkey("after-replaced"),
    tkey("after-left"),
    tkey("after-refused"),
    tkey("role-staff"),
    tkey("role-patient"),
    tkey("role-relative"),
    tkey("role-interpreter"),
    tkey("role-external"),
];

/// The texts as a JSON object, safe inside a `<script type="application/json">` element.
fn texts_json(i: &Tr) -> String {
    let map: serde_json::Map<String, serde_json::Value> = SCRIPT_TEXTS
        .iter()
        .map(|k| ((*k).to_owned(), serde_json::Value::String(i.t(k))))
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Lets a page use the camera and microphone (every other page may not).
fn media_page(mut response: Response) -> Response {
    response.headers_mut().insert(
        "permissions-policy",
        axum::http::HeaderValue::from_static(crate::security::PERMISSIONS_MEDIA),
    );
    response
}

fn client_ip(ctx: &RequestCtx) -> IpAddr {
    ctx.ip
        .parse()
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
}

/// Refuses a WebSocket opened from another site (browsers send `Origin` on every
/// WebSocket handshake; cookies alone must not be enough).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    l: Layout,
    texts_json: String,
    ws_path: String,
    rating_path: String,
    grace: u32,
    organisation: String,
    starts: String,
    name: String,
}

#[derive(Template)]
#[template(path = "join_invalid.html")]
struct JoinInvalidPage {
    l: Layout,
}

async fn invalid_link_page(state: &AppState, ctx: &RequestCtx) -> Result<Response, PageError> {
    let page = JoinInvalidPage {
        l: Layout::new(state, ctx, "join-invalid-heading").await,
    };
    let mut response = render(&page)?;
    *response.status_mut() = StatusCode::NOT_FOUND;
    Ok(response)
}

async fn join_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let grant = match state.app.resolve_join_token(&token).await {
        Ok(g) => g,
        Err(AppError::NotFound(_)) => return invalid_link_page(&state, &ctx).await,
        Err(e) => return Err(e.into()),
    };
    let l = Layout::new(&state, &ctx, "join-heading").await;
    let page = JoinPage {
        texts_json: texts_json(&l.i),
        ws_path: format!("/join/{token}/ws"),
        rating_path: format!("/join/{token}/rating"),
        grace: state.app.config().call_grace_seconds,
        organisation: grant.organisation_name.clone(),
        starts: super::appointments::date_time(grant.starts_at),
        name: grant.display_name.clone(),
        l,
    };
    render(&page).map(media_page)
}

async fn join_ws(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    Path(token): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(&state, &ctx, &headers, ws, move |app, ip| async move {
        app.call_connect_guest(&token, ip).await
    })
}

/// Checks the origin, then upgrades to a participant's WebSocket: `connect` joins the room,
/// and the socket is pumped until it closes.
fn upgrade<F, Fut>(
    state: &AppState,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
    connect: F,
) -> Response
where
    F: FnOnce(App, IpAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Connection, CallRefusal>> + Send,
{
    if !same_origin(headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let ip = client_ip(ctx);
    let app = state.app.clone();
    ws.max_message_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| async move {
            let result = connect(app.clone(), ip).await;
            serve_socket(app, socket, result).await;
        })
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    l: Layout,
    texts_json: String,
    ws_path: String,
    rating_path: String,
    grace: u32,
    title: String,
    appointment_id: Uuid,
}

async fn call_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(appointment_id): Path<Uuid>,
) -> Result<Response, PageError> {
    let appointment = state.app.appointment_for_host(&p, appointment_id).await?;
    let l = Layout::new(&state, &ctx, "call-host-heading").await;
    let title = match (&appointment.patient_name, appointment.title.is_empty()) {
        (Some(name), _) => format!(
            "{} – {}",
            super::appointments::date_time(appointment.starts_at),
            name
        ),
        (None, false) => appointment.title.clone(),
        (None, true) => super::appointments::date_time(appointment.starts_at),
    };
    let page = CallPage {
        texts_json: texts_json(&l.i),
        ws_path: format!("/calls/{appointment_id}/ws"),
        rating_path: format!("/calls/{appointment_id}/rating"),
        grace: state.app.config().call_grace_seconds,
        title,
        appointment_id,
        l,
    };
    render(&page).map(media_page)
}

async fn call_ws(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    headers: HeaderMap,
    Path(appointment_id): Path<Uuid>,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(&state, &ctx, &headers, ws, move |app, ip| async move {
        app.call_connect_staff(&p, appointment_id, ip).await
    })
}

/// Pumps one participant's WebSocket: incoming text to the room, the room's messages out.
async fn serve_socket(
    app: App,
    mut socket: WebSocket,
    connection: Result<Connection, CallRefusal>,
) {
    let mut connection = match connection {
        Ok(c) => c,
        Err(refusal) => {
            let reason = match refusal {
                CallRefusal::Ended => "ended",
                CallRefusal::Full => "full",
                CallRefusal::Removed => "removed",
                CallRefusal::Policy => "policy",
                CallRefusal::App(AppError::Forbidden(_)) => "forbidden",
                CallRefusal::App(_) => "invalid",
            };
            let msg = serde_json::json!({ "type": "refused", "reason": reason }).to_string();
            let _ = socket.send(Message::Text(msg.into())).await;
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    };
    let id = connection.id;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if !app.call_message(id, text.as_str()).await {
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: 1008,
                                reason: "message not understood".into(),
                            })))
                            .await;
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: 1003,
                            reason: "text messages only".into(),
                        })))
                        .await;
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
            outgoing = connection.rx.recv() => match outgoing {
                Some(Outgoing::Msg(msg)) => {
                    let Ok(text) = serde_json::to_string(&msg) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close) | None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    app.call_disconnect(id).await;
}

#[derive(Template)]
#[template(path = "selftest.html")]
struct SelftestPage {
    l: Layout,
    texts_json: String,
}

async fn selftest_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<Response, PageError> {
    let l = Layout::new(&state, &ctx, "selftest-heading").await;
    let page = SelftestPage {
        texts_json: texts_json(&l.i),
        l,
    };
    render(&page).map(media_page)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeRequest {
    sdp: String,
    transport: String,
}

#[derive(serde::Serialize)]
struct SdpAnswer {
    sdp: String,
}

/// The self-test's reachability check: a data-channel-only connection to the media server
/// over UDP or over TCP alone.
async fn probe(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<ProbeRequest>,
) -> Result<Json<SdpAnswer>, ApiError> {
    let transport = match req.transport.as_str() {
        "udp" => Transport::Udp,
        "tcp" => Transport::Tcp,
        _ => return Err(AppError::invalid("transport", "udp or tcp").into()),
    };
    state.app.check_probe_rate(&ctx.ip)?;
    let media = state
        .app
        .media()
        .ok_or_else(|| AppError::Internal("the media server is not running".into()))?;
    let sdp = media
        .probe(req.sdp, transport)
        .await
        .map_err(|e| AppError::invalid("sdp", e.to_string()))?;
    Ok(Json(SdpAnswer { sdp }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rating {
    sound: u8,
    picture: u8,
}

async fn guest_rating(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(r): ApiJson<Rating>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .rate_call_by_link(&token, r.sound, r.picture)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn staff_rating(
    State(state): State<AppState>,
    Staff(p, _ctx): Staff,
    Path(appointment_id): Path<Uuid>,
    ApiJson(r): ApiJson<Rating>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .rate_call_as_host(&p, appointment_id, r.sound, r.picture)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
