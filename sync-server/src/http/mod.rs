//! The whole HTTP surface in one router: health, the websocket sync endpoint, a JSON 404 for
//! unknown API paths, and the static app with its SPA fallback and security headers.

pub mod api;
pub mod attribution;
pub mod blobs;
pub mod client_addr;
pub mod export;
pub mod history;
pub mod listener;
pub mod preview;
pub mod routes;
pub mod static_files;
pub mod teams;
pub mod ws;

use std::path::PathBuf;

use axum::routing::{any, delete, get, post, put};
use axum::Router;
use tokio_util::sync::CancellationToken;

pub use client_addr::ClientAddr;

use crate::access::gate::Gate;
use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub gate: Gate,
    /// Where invite links point (`--public-url`, else the listen address); `None`: links
    /// relative to the site.
    pub public_url: Option<String>,
    /// Open connections per client address.
    pub connections: ws::AddressLimit,
    /// When set, `/metrics` needs `Authorization: Bearer` this; otherwise it is served to
    /// loopback clients only.
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: std::sync::Arc<client_addr::TrustedProxies>,
    /// A connection silent for this long (no pong either) is closed.
    pub idle_after: std::time::Duration,
    /// Directory of the built app.
    pub dist: PathBuf,
    /// Bytes of outgoing frames that may wait for one websocket (beside one bigger frame)
    /// before it is closed as lagging (`--max-queued-bytes-per-connection`).
    pub max_queued_bytes: usize,
    /// Cancelled when the relay shuts down; open websockets close with 1001.
    pub shutdown: CancellationToken,
}

/// Builds the relay's router.
pub fn app(state: AppState) -> Router {
    let static_app = static_files::router(&state.dist);
    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics))
        .route("/sync/{*incident}", any(ws::sync_socket))
        .route("/sync", any(routes::missing_incident_id))
        .route("/sync/", any(routes::missing_incident_id))
        .route("/api/incidents", post(api::create_incident))
        .route(
            "/api/incidents/{incident}/invites",
            post(api::create_invite).get(api::list_invites),
        )
        .route(
            "/api/incidents/{incident}/invites/{invite}",
            delete(api::revoke_invite).patch(api::change_role),
        )
        .route("/api/incidents/{incident}/me", get(api::me))
        .route("/api/incidents/{incident}/preview", get(preview::preview))
        .route(
            "/api/incidents/{incident}/export/{format}",
            get(export::export),
        )
        .route("/api/incidents/{incident}/history", get(history::history))
        .route(
            "/api/incidents/{incident}/history/state",
            get(history::state_at),
        )
        .route(
            "/api/incidents/{incident}/history/attribution",
            get(attribution::attribution),
        )
        // Other methods on these paths get the JSON 404 of any unknown API path.
        .route(
            "/api/incidents/{incident}",
            delete(api::delete_incident).fallback(routes::api_not_found),
        )
        .route(
            "/api/incidents/{incident}/owner-token",
            post(api::rotate_owner_token).fallback(routes::api_not_found),
        )
        .route("/api/incidents/{incident}/people", get(api::people))
        .route(
            "/api/incidents/{incident}/teams",
            post(teams::share).get(teams::shares),
        )
        .route(
            "/api/incidents/{incident}/teams/{team}",
            delete(teams::unshare).fallback(routes::api_not_found),
        )
        .route("/api/teams", post(teams::create_team))
        .route("/api/teams/{team}", get(teams::team))
        .route(
            "/api/teams/{team}/members",
            post(teams::add_member).get(teams::members),
        )
        .route(
            "/api/teams/{team}/members/{invite}",
            delete(teams::revoke_member).fallback(routes::api_not_found),
        )
        .route(
            "/api/incidents/{incident}/blobs/{sha256}",
            put(blobs::upload).get(blobs::download).head(blobs::head),
        )
        .route("/api", any(routes::api_not_found))
        .route("/api/{*rest}", any(routes::api_not_found))
        .fallback_service(static_app)
        .layer(axum::middleware::map_response(
            static_files::security_headers,
        ))
        .with_state(state)
}

/// The token in `Authorization: Bearer TOKEN`, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The device id an API call gives: the `X-Firebreak-Device` header, else `?device=` on the
/// routes that take it (`query`), for clients that cannot set headers.
pub fn device<'a>(headers: &'a axum::http::HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    headers
        .get(wire::DEVICE_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(query)
}
