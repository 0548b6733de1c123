//! The record's read side ([`crate::store::record`]), for the owner and editors:
//!
//! - `GET /api/incidents/{id}/history?since=MS&until=MS&after=SEQ`: the records' metadata
//!   (seq, receive time, the sending invite's name, the update's size, the chain hash), at
//!   most `--history-page-size` a page, oldest first; `next` is the `after` of the next page.
//! - `GET /api/incidents/{id}/history/state?at=MS`: the document as it stood at that time, as
//!   one Yjs v1 update: every record received at or before `at`, applied in order to a fresh
//!   document. The record keeps every update ever accepted, so text deleted later comes back
//!   exactly, although the live document has discarded it.
//!
//! Viewers get 403: they see neither authorship nor past states. Token, device binding and
//! failure counting are those of every incident API call ([`super::api::Caller`]), with the
//! device id required as for exports. Names come from the grants, which are never renamed,
//! so revoked and expired people keep theirs.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tokio::sync::Semaphore;
use wire::api::{HistoryPage, HistoryRecord};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::api::Caller;
use super::AppState;
use crate::access::Grant;
use crate::error::Error;
use crate::store::record::hex;
use crate::store::Store;

/// Default most records one history page lists (`--history-page-size`).
pub const DEFAULT_HISTORY_PAGE: usize = 5000;

/// Past states built at the same time; each holds one document in memory.
pub const STATES_AT_ONCE: usize = 2;

/// Records read from the store at a time while a past state is built.
const STATE_CHUNK: usize = 1000;

static PAGE_SIZE: OnceLock<usize> = OnceLock::new();

/// Sets the page size (`--history-page-size`); once, at start.
pub fn set_page_size(records: usize) {
    let _ = PAGE_SIZE.set(records.max(1));
}

fn page_size() -> usize {
    *PAGE_SIZE.get().unwrap_or(&DEFAULT_HISTORY_PAGE)
}

pub(super) fn states() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(STATES_AT_ONCE)))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    since: Option<String>,
    until: Option<String>,
    after: Option<String>,
    at: Option<String>,
    device: Option<String>,
}

fn number<T: std::str::FromStr>(name: &str, raw: Option<&str>) -> Result<Option<T>, Error> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            Error::BadRequest(format!(
                "{name}: {raw:?} is not a whole number (times are ms since 1970, UTC)"
            ))
        }),
    }
}

/// The caller's grant, if it may read the history: owner or editor, on its own device.
async fn reader(
    state: &AppState,
    grant: Grant,
    query: &HistoryQuery,
    headers: &HeaderMap,
) -> Result<Grant, Error> {
    let device = super::device(headers, query.device.as_deref());
    let grant = state.gate.bind(grant, device, true).await?;
    if !grant.role.may_write() {
        return Err(Error::HistoryNotForViewers);
    }
    Ok(grant)
}

/// `GET /api/incidents/{id}/history`.
pub async fn history(
    State(state): State<AppState>,
    Caller(grant): Caller,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let grant = reader(&state, grant, &query, &headers).await?;
    let since = number::<i64>("since", query.since.as_deref())?.unwrap_or(i64::MIN);
    let until = number::<i64>("until", query.until.as_deref())?.unwrap_or(i64::MAX);
    let after = number::<u64>("after", query.after.as_deref())?.unwrap_or(0);
    let names: HashMap<String, String> = state
        .gate
        .names(&grant.incident)
        .await?
        .into_iter()
        .collect();
    let store = state.registry.store();
    let limit = page_size();
    let body = tokio::task::spawn_blocking(move || {
        let page = store.record_page(&grant.incident, since, until, after, limit)?;
        let next = (page.len() == limit)
            .then(|| page.last().map(|r| r.seq))
            .flatten();
        let records = page
            .iter()
            .map(|r| {
                let invite = r.invite.as_ref().map(|i| i.as_str().to_owned());
                HistoryRecord {
                    bytes: r.size,
                    hash: hex(&r.chain_sha256),
                    name: invite.as_ref().and_then(|i| names.get(i)).cloned(),
                    invite,
                    received_at: r.received_at_ms,
                    seq: r.seq,
                    update_sha256: hex(&r.update_sha256),
                }
            })
            .collect();
        let base = store.record_base(&grant.incident)?;
        Ok::<_, Error>(HistoryPage {
            dropped_through: base.map(|b| b.seq),
            next,
            records,
        })
    })
    .await
    .map_err(|e| Error::Load(format!("the history stopped: {e}")))??;
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /api/incidents/{id}/history/state?at=MS`.
pub async fn state_at(
    State(state): State<AppState>,
    Caller(grant): Caller,
    Query(query): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let grant = reader(&state, grant, &query, &headers).await?;
    let at = number::<i64>("at", query.at.as_deref())?.ok_or_else(|| {
        Error::BadRequest("at: give the time to rebuild, in ms since 1970 (UTC)".into())
    })?;
    let _slot = states().acquire().await.map_err(|_| Error::ShuttingDown)?;
    let store = state.registry.store();
    let body = tokio::task::spawn_blocking(move || state_as_of(store.as_ref(), &grant, at))
        .await
        .map_err(|e| Error::Load(format!("the past state stopped: {e}")))??;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The incident of `grant` as it stood at `at`, as one Yjs v1 update.
pub fn state_as_of(store: &dyn Store, grant: &Grant, at: i64) -> Result<Vec<u8>, Error> {
    if let Some(base) = store.record_base(&grant.incident)? {
        return Err(Error::HistoryUnavailable(format!(
            "records 1 to {} were dropped by the relay's retention, so past states cannot be rebuilt",
            base.seq
        )));
    }
    rebuild(store, &grant.incident, at)
}

/// Applies every record of `incident` received at or before `at` to a fresh document (the
/// relay's own document options) and encodes it.
pub fn rebuild(store: &dyn Store, incident: &crate::IncidentId, at: i64) -> Result<Vec<u8>, Error> {
    let doc = Doc::new();
    let mut after = 0;
    loop {
        let chunk = store.records(incident, after, STATE_CHUNK)?;
        let Some(last) = chunk.last() else {
            break;
        };
        after = last.seq;
        let mut txn = doc.transact_mut();
        for record in chunk.iter().filter(|r| r.received_at_ms <= at) {
            let update = Update::decode_v1(&record.update)
                .map_err(|e| Error::Load(format!("record {} does not decode: {e}", record.seq)))?;
            txn.apply_update(update)
                .map_err(|e| Error::Load(format!("record {} does not apply: {e}", record.seq)))?;
        }
    }
    let state = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    Ok(state)
}

/// Drops records older than `days` at start and then hourly (`--record-retention-days`).
pub async fn keep_record_for(store: Arc<dyn Store>, days: f64) {
    let keep_ms = (days * 86_400_000.0) as i64;
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let cutoff = crate::access::gate::now_ms().saturating_sub(keep_ms);
        let store = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || store.drop_records_before(cutoff)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(dropped)) => {
                tracing::info!(dropped, "dropped records past --record-retention-days")
            }
            Ok(Err(error)) => tracing::warn!(%error, "could not drop old records"),
            Err(error) => tracing::warn!(%error, "dropping old records stopped"),
        }
    }
}
