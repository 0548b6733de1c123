//! The whole HTTP surface in one router: health, the websocket sync endpoint, a JSON 404 for
//! unknown API paths, and the static app with its SPA fallback and security headers.

pub mod routes;
pub mod static_files;
pub mod ws;

use std::path::PathBuf;

use axum::routing::{any, get};
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    /// Directory of the built app.
    pub dist: PathBuf,
    /// Cancelled when the relay shuts down; open websockets close with 1001.
    pub shutdown: CancellationToken,
}

/// Builds the relay's router.
pub fn app(state: AppState) -> Router {
    let static_app = static_files::router(&state.dist);
    Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/sync/{*incident}", any(ws::sync_socket))
        .route("/sync", any(routes::missing_incident_id))
        .route("/sync/", any(routes::missing_incident_id))
        .route("/api", any(routes::api_not_found))
        .route("/api/{*rest}", any(routes::api_not_found))
        .fallback_service(static_app)
        .layer(axum::middleware::map_response(
            static_files::security_headers,
        ))
        .with_state(state)
}
