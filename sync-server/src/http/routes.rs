//! Small JSON endpoints.

use axum::Json;
use serde_json::{json, Value};

use crate::error::Error;

/// `GET /healthz` → `{"status":"ok"}`.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `/sync` without an incident id.
pub async fn missing_incident_id() -> Error {
    Error::InvalidIncidentId
}

/// Unknown paths under `/api` get a JSON 404, never the app's HTML.
pub async fn api_not_found() -> Error {
    Error::NotFound
}
