//! Observability (IO-5): Prometheus metrics, liveness and readiness.
//!
//! Requests are counted and timed by route pattern (`/patients/{patient_id}`), never by the
//! concrete path, so no identifier ends up in a metric label.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    route: String,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RouteLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
    pool_open: Gauge,
    pool_idle: Gauge,
    call_rooms: Gauge,
    call_connections: Gauge,
    media_peers: Gauge,
    media_probes: Gauge,
    media_packets_forwarded: Counter,
    media_bytes_forwarded: Counter,
    media_keyframe_requests: Counter,
    media_bad_packets: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("helsebro");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let pool_open = Gauge::default();
        let pool_idle = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and method",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_open.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let call_rooms = gauge(
            &mut registry,
            "call_rooms",
            "Video rooms with someone in them",
        );
        let call_connections = gauge(
            &mut registry,
            "call_connections",
            "Signalling connections of participants",
        );
        let media_peers = gauge(&mut registry, "media_peers", "Peers in the media server");
        let media_probes = gauge(
            &mut registry,
            "media_probes",
            "Self-test connections to the media server",
        );
        let media_packets_forwarded = counter(
            &mut registry,
            "media_packets_forwarded",
            "Audio and video RTP packets forwarded to subscribers",
        );
        let media_bytes_forwarded = counter(
            &mut registry,
            "media_bytes_forwarded",
            "Payload bytes forwarded to subscribers",
        );
        let media_keyframe_requests = counter(
            &mut registry,
            "media_keyframe_requests",
            "Keyframe requests sent to publishers",
        );
        let media_bad_packets = counter(
            &mut registry,
            "media_bad_packets",
            "Datagrams no peer accepted or that did not parse",
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            pool_open,
            pool_idle,
            call_rooms,
            call_connections,
            media_peers,
            media_probes,
            media_packets_forwarded,
            media_bytes_forwarded,
            media_keyframe_requests,
            media_bad_packets,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Counts and times every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let m = &state.metrics;
    m.requests
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
            status: res.status().as_u16(),
        })
        .inc();
    m.latency
        .get_or_create(&LatencyLabels { method, route })
        .observe(start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`: Prometheus text format.
pub async fn prometheus(State(state): State<AppState>) -> Response {
    let (open, idle) = state.app.pool_stats();
    state.metrics.pool_open.set(i64::from(open));
    state.metrics.pool_idle.set(i64::from(idle));
    let m = &state.metrics;
    let (rooms, connections) = state.app.call_counts();
    m.call_rooms.set(i64::try_from(rooms).unwrap_or(i64::MAX));
    m.call_connections
        .set(i64::try_from(connections).unwrap_or(i64::MAX));
    if let Some(media) = state.app.media() {
        let s = media.stats();
        m.media_peers
            .set(i64::try_from(s.peers).unwrap_or(i64::MAX));
        m.media_probes
            .set(i64::try_from(s.probes).unwrap_or(i64::MAX));
        // The media server keeps running totals; bring the counters up to them.
        let catch_up = |c: &Counter, total: u64| {
            c.inc_by(total.saturating_sub(c.get()));
        };
        catch_up(&m.media_packets_forwarded, s.packets_forwarded);
        catch_up(&m.media_bytes_forwarded, s.bytes_forwarded);
        catch_up(&m.media_keyframe_requests, s.keyframe_requests);
        catch_up(&m.media_bad_packets, s.bad_packets);
    }
    let mut body = String::new();
    let encoded = match state.metrics.registry.lock() {
        Ok(registry) => prometheus_client::encoding::text::encode(&mut body, &registry).is_ok(),
        Err(_) => false,
    };
    if !encoded {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.app.ready().await {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
