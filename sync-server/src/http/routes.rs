//! Small JSON endpoints.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::error::Error;
use crate::metrics::METRICS;

/// `GET /healthz` → `{"status":"ok"}`.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /metrics`: counters in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        METRICS.render(
            state.registry.open_rooms(),
            state.registry.rooms_in_memory(),
        ),
    )
}

/// `/sync` without an incident id.
pub async fn missing_incident_id() -> Error {
    Error::InvalidIncidentId
}

/// Unknown paths under `/api` get a JSON 404, never the app's HTML.
pub async fn api_not_found() -> Error {
    Error::NotFound
}
