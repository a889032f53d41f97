//! Security headers on every response (PR-1, PR-2).
//!
//! The Content-Security-Policy names no origin but our own: no CDN, font or analytics can
//! load. Camera and microphone are off unless a handler (a call page) sets its own
//! Permissions-Policy. HSTS is sent when users reach Helsebro over HTTPS.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'; object-src 'none'";

pub const PERMISSIONS_DEFAULT: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()";

/// For the pages that use the camera and microphone (self-test and calls): this origin only.
pub const PERMISSIONS_MEDIA: &str = "camera=(self), microphone=(self), geolocation=(), payment=(), \
     usb=(), display-capture=(self)";

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key("permissions-policy") {
        h.insert(
            "permissions-policy",
            HeaderValue::from_static(PERMISSIONS_DEFAULT),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages may show personal data: never keep them in shared or back-button caches.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.app.config().https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}
