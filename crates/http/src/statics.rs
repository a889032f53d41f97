//! Static assets (CSS, small ES modules), embedded in the binary: nothing loads from
//! anywhere but this server.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str, &str); 4] = [
    (
        "helsebro.css",
        "text/css; charset=utf-8",
        include_str!("../static/helsebro.css"),
    ),
    (
        "helsebro.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/helsebro.js"),
    ),
    (
        "selftest.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/selftest.js"),
    ),
    (
        "call.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/call.js"),
    ),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
