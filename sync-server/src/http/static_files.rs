//! The built app (`--dist`), served as files with a fallback to `index.html` for the app's
//! own routes (`/incident/abc`), and the security headers every response carries.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The Content-Security-Policy of every HTML response. `'wasm-unsafe-eval'` lets the page
/// compile its WebAssembly; nothing else may run inline or come from another origin, and the
/// page may connect only to its own origin (`'self'` covers its own `ws:`/`wss:` too).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Serves `dist`, falling back to `dist/index.html`, or a 503 if the app is not built.
pub fn router(dist: &Path) -> Router {
    let index = dist.join("index.html");
    let fallback = move |request: Request| {
        let index = index.clone();
        async move { spa_fallback(index, request).await }
    };
    let files = ServeDir::new(dist)
        .append_index_html_on_directories(true)
        .fallback(fallback.into_service());
    Router::new().fallback_service(files)
}

async fn spa_fallback(index: PathBuf, request: Request) -> Response {
    let path = request.uri().path();
    let last_segment = path.rsplit('/').next().unwrap_or_default();
    // A missing asset (`/app-1234.wasm`) must be a 404, not the app's HTML.
    if last_segment.contains('.') {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    if !index.is_file() {
        let text = format!(
            "The Firebreak app is not built: {} is missing.\n\
             Build it with `trunk build --release` (or start the relay with --dist pointing at \
             the built app). Sync and /healthz work without it.\n",
            index.display()
        );
        return (StatusCode::SERVICE_UNAVAILABLE, text).into_response();
    }
    match ServeFile::new(index).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Adds the CSP to HTML responses and a few safe defaults to every response.
pub async fn security_headers(mut response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    // The API's answers (JSON, success or refusal) are about one token at one moment: a
    // browser that kept one would answer a later call (another token, after a revocation)
    // from it.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
