//! Small JSON endpoints.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{bearer, AppState, ClientAddr};
use crate::access::same_secret;
use crate::error::Error;
use crate::metrics::METRICS;

/// `GET /healthz` → `{"status":"ok"}`; with `--redis-url`, also this relay's `node`,
/// `redis` (`"up"` or `"down"`) and how many `other_nodes` it hears (still 200 while Redis
/// is down: the relay serves its own connections and stores their writes). 503 with
/// `{"status":"storage unavailable", …}` while the storage server (PostgreSQL) does not
/// answer, so a load balancer sends new connections elsewhere and monitoring sees it.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (status, mut body) = if METRICS.storage_is_up() {
        (axum::http::StatusCode::OK, json!({ "status": "ok" }))
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "storage unavailable",
                "storage": "down",
                "detail": "PostgreSQL is not answering: changes are refused (close 4503) until it is back; nothing acknowledged was lost",
            }),
        )
    };
    if let (Some(cluster), Some(fields)) = (state.registry.cluster(), body.as_object_mut()) {
        if let Some(extra) = cluster.health().as_object() {
            fields.extend(extra.clone());
        }
    }
    (status, Json(body))
}

/// `GET /metrics`: counters in the Prometheus text format, for this machine only (a client
/// whose address is a loopback one, the real client's behind a `--trusted-proxy`), or, with
/// `--metrics-token`, for whoever shows that token.
pub async fn metrics(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Error> {
    let allowed = match &state.metrics_token {
        Some(expected) => bearer(&headers).is_some_and(|given| same_secret(given, expected)),
        None => addr.is_none_or(|a| a.is_loopback() || a.to_canonical().is_loopback()),
    };
    if !allowed {
        return Err(Error::MetricsRefused);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        METRICS.render(
            state.registry.open_rooms(),
            state.registry.rooms_in_memory(),
        ) + &state
            .registry
            .cluster()
            .map(|c| c.render())
            .unwrap_or_default(),
    ))
}

/// `/sync` without an incident id.
pub async fn missing_incident_id() -> Error {
    Error::InvalidIncidentId
}

/// Unknown paths under `/api` get a JSON 404, never the app's HTML.
pub async fn api_not_found() -> Error {
    Error::NotFound
}
