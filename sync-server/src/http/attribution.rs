//! `GET /api/incidents/{id}/history/attribution`: who wrote what, for the owner and editors.
//!
//! The whole record is replayed into a fresh document with [`incident::history::Replay`] (on
//! a blocking thread, sharing the past states' [`super::history::STATES_AT_ONCE`] slots), and
//! the answer ([`wire::api::Attribution`]) gives for every entry (timeline events,
//! indicators, next steps, roles, questions, `meta` fields) who created it, who last changed
//! it and, while it is deleted, who deleted it — each with the relay's receive time and the
//! device's time when the change was made offline — and every prose section as runs of text
//! with who typed each.
//!
//! The answer grows with the incident: at most `--attribution-max-entries` entries (the most
//! recently changed; `left_out` counts the rest) and the prose sections' current text. The
//! last answers are kept per incident with the record's last seq, so asking again while
//! nothing new arrived costs one indexed query instead of a replay.
//!
//! Viewers get 403, as for the rest of the history: they do not see who changed what.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use incident::history::{Authorship, Place, Replay, Stamp};
use incident::ProseSection;
use serde::Deserialize;
use wire::api::{Attribution, ChangeStamp, EntryAuthorship, ProseAuthorship, WrittenRun};

use super::api::Caller;
use super::AppState;
use crate::error::Error;
use crate::store::Store;
use crate::IncidentId;

/// Default most entries one answer lists (`--attribution-max-entries`).
pub const DEFAULT_MAX_ENTRIES: usize = 20_000;

/// Answers kept, one per incident (the most recently asked).
const CACHED_INCIDENTS: usize = 8;

/// Records read from the store at a time while replaying.
const CHUNK: usize = 1000;

static MAX_ENTRIES: OnceLock<usize> = OnceLock::new();

/// Sets the bound (`--attribution-max-entries`); once, at start.
pub fn set_max_entries(entries: usize) {
    let _ = MAX_ENTRIES.set(entries.max(1));
}

fn max_entries() -> usize {
    *MAX_ENTRIES.get().unwrap_or(&DEFAULT_MAX_ENTRIES)
}

/// A kept answer: the incident, the record's last seq it was made from, the JSON.
type Cached = (IncidentId, u64, Arc<Vec<u8>>);

fn cache() -> &'static Mutex<VecDeque<Cached>> {
    static CACHE: OnceLock<Mutex<VecDeque<Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(VecDeque::new()))
}

fn cached(incident: &IncidentId) -> Option<(u64, Arc<Vec<u8>>)> {
    let cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache
        .iter()
        .find(|(id, _, _)| id == incident)
        .map(|(_, seq, body)| (*seq, Arc::clone(body)))
}

fn keep(incident: &IncidentId, seq: u64, body: Arc<Vec<u8>>) {
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(id, _, _)| id != incident);
    cache.push_front((incident.clone(), seq, body));
    cache.truncate(CACHED_INCIDENTS);
}

#[derive(Deserialize)]
pub struct AttributionQuery {
    device: Option<String>,
}

/// `GET /api/incidents/{id}/history/attribution`.
pub async fn attribution(
    State(state): State<AppState>,
    Caller(grant): Caller,
    Query(query): Query<AttributionQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let device = super::device(&headers, query.device.as_deref());
    let grant = state.gate.bind(grant, device, true).await?;
    if !grant.role.may_write() {
        return Err(Error::HistoryNotForViewers);
    }
    let names: HashMap<String, String> = state
        .gate
        .names(&grant.incident)
        .await?
        .into_iter()
        .collect();
    let store = state.registry.store();
    let incident = grant.incident.clone();
    // A kept answer still as new as the record is served without a replay.
    if let Some((seq, body)) = cached(&incident) {
        let probe = Arc::clone(&store);
        let id = incident.clone();
        // Stale too once retention dropped the chain's start: the replay then says 410.
        let newer = tokio::task::spawn_blocking(move || {
            Ok::<_, Error>(
                !probe
                    .record_page(&id, i64::MIN, i64::MAX, seq, 1)?
                    .is_empty()
                    || probe.record_base(&id)?.is_some(),
            )
        })
        .await
        .map_err(|e| Error::Load(format!("the attribution stopped: {e}")))??;
        if !newer {
            return Ok(json(body.as_ref().clone()));
        }
    }
    let _slot = super::history::states()
        .acquire()
        .await
        .map_err(|_| Error::ShuttingDown)?;
    let limit = max_entries();
    let (seq, body) = tokio::task::spawn_blocking(move || {
        let answer = attribute(store.as_ref(), &incident, &names, limit)?;
        let body = serde_json::to_vec(&answer)
            .map_err(|e| Error::Load(format!("the attribution did not encode: {e}")))?;
        Ok::<_, Error>((answer.through_seq, body))
    })
    .await
    .map_err(|e| Error::Load(format!("the attribution stopped: {e}")))??;
    keep(&grant.incident, seq, Arc::new(body.clone()));
    Ok(json(body))
}

fn json(body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Who wrote what in `incident`: its whole record replayed, names from `names` (invite id →
/// name), at most `limit` entries.
pub fn attribute(
    store: &dyn Store,
    incident: &IncidentId,
    names: &HashMap<String, String>,
    limit: usize,
) -> Result<Attribution, Error> {
    if let Some(base) = store.record_base(incident)? {
        return Err(Error::HistoryUnavailable(format!(
            "records 1 to {} were dropped by the relay's retention, so who wrote what cannot be rebuilt",
            base.seq
        )));
    }
    let mut replay = Replay::new();
    let mut after = 0;
    loop {
        let chunk = store.records(incident, after, CHUNK)?;
        let Some(last) = chunk.last() else {
            break;
        };
        after = last.seq;
        for record in chunk {
            let by = record
                .invite
                .as_ref()
                .and_then(|i| names.get(i.as_str()))
                .cloned()
                .unwrap_or_default();
            replay
                .apply(&incident::history::Record {
                    seq: record.seq,
                    received_at_ms: record.received_at_ms,
                    by,
                    written_at_ms: None,
                    update: record.update,
                })
                .map_err(|e| Error::Load(format!("the record does not replay: {e}")))?;
        }
    }
    Ok(answer(&replay, after, limit))
}

/// The replay's attribution as the API answers it.
fn answer(replay: &Replay, through_seq: u64, limit: usize) -> Attribution {
    let attribution = replay.attribution();
    let mut entries: Vec<(&Place, &Authorship)> = attribution
        .iter()
        .filter(|(place, _)| place.id.is_some())
        .collect();
    entries.sort_by(|(a_place, a), (b_place, b)| {
        b.changed
            .seq
            .cmp(&a.changed.seq)
            .then_with(|| a_place.cmp(b_place))
    });
    let left_out = entries.len().saturating_sub(limit) as u64;
    let entries = entries
        .into_iter()
        .take(limit)
        .map(|(place, a)| EntryAuthorship {
            changed: stamp(&a.changed),
            created: stamp(&a.created),
            deleted: a.deleted.as_ref().map(stamp),
            id: place.id.clone().unwrap_or_default(),
            section: place.section.to_owned(),
        })
        .collect();
    let prose = ProseSection::ALL
        .into_iter()
        .filter_map(|section| {
            let a = attribution.get(&Place::prose(section))?;
            let runs = replay
                .authorship(section)
                .into_iter()
                .map(|run| WrittenRun {
                    by: run.by.filter(|n| !n.is_empty()).map(|n| n.to_string()),
                    text: run.text,
                })
                .collect();
            Some(ProseAuthorship {
                changed: stamp(&a.changed),
                created: stamp(&a.created),
                runs,
                section: section.key().to_owned(),
            })
        })
        .collect();
    Attribution {
        entries,
        left_out,
        prose,
        through_seq,
    }
}

fn stamp(stamp: &Stamp) -> ChangeStamp {
    ChangeStamp {
        name: (!stamp.by.is_empty()).then(|| stamp.by.to_string()),
        received_at: stamp.received_at_ms,
        seq: stamp.seq,
        written_at: stamp.written_at_ms,
    }
}
