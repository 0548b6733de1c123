//! `GET /api/incidents/{id}/export/{format}?tlp=…`: the incident's exports for automation (a
//! SIEM pipeline, a MISP sync job), made by the same code as the app's downloads
//! ([`incident::export`]). Any valid token of the incident may export (a viewer reads the
//! whole document anyway); the audience's TLP defaults to the incident's own level. An
//! invite's token must come with its device id (`X-Firebreak-Device`, or `?device=`), like a
//! sync connection: an export reaches the whole document, so a link passed on to another
//! device gets no more here than it gets by syncing.
//!
//! The document is read from the store (everything acknowledged is there) and the export is
//! made on a blocking thread, so a big incident never holds up the sync thread. At most
//! [`EXPORTS_AT_ONCE`] run at a time; more wait their turn.
//!
//! `?attachments=include` on the `incident` format makes the file carry the attachments'
//! bytes from the relay's store ([`incident::export::incident_file_with_attachments`]), as
//! many as fit in the file's bound ([`export::MAX_INCIDENT_FILE_BYTES`]); only those files
//! are read from the store, so one such export holds at most about that much.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use incident::export::{self, Audience, ReportKind};
use incident::{Incident, Tlp, UpdateOrigin};
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::api::Caller;
use super::AppState;
use crate::access::gate::now_ms;
use crate::error::Error;

/// Exports made at the same time; each holds one document in memory.
pub const EXPORTS_AT_ONCE: usize = 2;

/// The formats, as named in the path.
pub const FORMATS: [&str; 7] = [
    "markdown",
    "summary",
    "stix",
    "misp",
    "timeline.csv",
    "indicators.csv",
    "incident",
];

#[derive(Deserialize)]
pub struct ExportQuery {
    tlp: Option<String>,
    device: Option<String>,
    attachments: Option<String>,
}

/// The bytes of the attachments `doc` lists, from the relay's store, in the order they were
/// attached, while their base64 would fit in an incident file; a listed file the store does
/// not have (an offline device has not uploaded it yet) is skipped.
fn stored_attachments(
    store: &dyn crate::store::Store,
    incident: &crate::incident_id::IncidentId,
    doc: &Incident,
) -> Result<Vec<export::AttachedFile>, Error> {
    let Some(blobs) = store.blobs() else {
        return Ok(Vec::new());
    };
    let mut room = export::MAX_INCIDENT_FILE_BYTES / 4 * 3;
    let mut files: Vec<export::AttachedFile> = Vec::new();
    for (_, attachment) in doc.attachments() {
        if files.iter().any(|f| f.sha256 == attachment.sha256) {
            continue;
        }
        let Some(hash) = crate::store::blobs::parse_sha256(&attachment.sha256) else {
            continue;
        };
        let Some(meta) = blobs.blob_meta(incident, &hash)? else {
            continue;
        };
        let size = usize::try_from(meta.size).unwrap_or(usize::MAX);
        if size > room {
            continue;
        }
        if let Some((meta, bytes)) = blobs.blob(incident, &hash)? {
            room -= size.min(room);
            files.push(export::AttachedFile {
                sha256: attachment.sha256.clone(),
                content_type: meta.content_type,
                bytes,
            });
        }
    }
    Ok(files)
}

/// The slots exports (and invite previews, `preview.rs`) wait for.
pub(super) fn running() -> &'static Arc<Semaphore> {
    static SLOTS: std::sync::OnceLock<Arc<Semaphore>> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(EXPORTS_AT_ONCE)))
}

pub async fn export(
    State(state): State<AppState>,
    Caller(grant): Caller,
    Path((_, format)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let device = super::device(&headers, query.device.as_deref());
    let grant = state.gate.bind(grant, device, true).await?;
    if !FORMATS.contains(&format.as_str()) {
        return Err(Error::BadRequest(format!(
            "unknown export format {format:?}: use one of {}",
            FORMATS.join(", ")
        )));
    }
    let tlp = match query.tlp.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Tlp::parse(raw).ok_or_else(|| {
            Error::BadRequest(format!(
                "tlp: {raw:?} is not a TLP level (clear, green, amber, amber+strict, red)"
            ))
        })?),
    };
    let with_attachments = match query.attachments.as_deref() {
        None | Some("") | Some("none") => false,
        Some("include") if format == "incident" => true,
        Some("include") => {
            return Err(Error::BadRequest(
                "attachments=include: only the incident file (format incident) carries attachments' bytes".to_string(),
            ))
        }
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "attachments: {other:?} is neither \"include\" nor \"none\""
            )))
        }
    };
    let _slot = running().acquire().await.map_err(|_| Error::ShuttingDown)?;
    let store = state.registry.store();
    let id = grant.incident.clone();
    let (body, media_type, file_name) = tokio::task::spawn_blocking(move || {
        let stored = store.load(&id)?;
        if super::preview::read_playbook(&stored)?.is_some() {
            return Err(Error::BadRequest(
                "this document is a playbook, not an incident: its file is saved from the playbook's page in the app".to_string(),
            ));
        }
        let doc = Incident::new();
        for update in stored.snapshot.iter().chain(stored.updates.iter()) {
            doc.apply_update(update, UpdateOrigin::Storage)
                .map_err(|e| Error::Load(e.to_string()))?;
        }
        let now = chrono_now();
        let audience = Audience {
            incident_id: id.as_str(),
            tlp: tlp.unwrap_or_else(|| doc.tlp()),
            now: &now,
        };
        let stem = export::file_stem(&doc, &audience);
        let made = match format.as_str() {
            "markdown" => (
                export::to_markdown(&export::report(&doc, &audience, ReportKind::Full)),
                "text/markdown; charset=utf-8",
                format!("{stem}.md"),
            ),
            "summary" => (
                export::to_markdown(&export::report(&doc, &audience, ReportKind::Executive)),
                "text/markdown; charset=utf-8",
                format!("{stem}-summary.md"),
            ),
            "stix" => (
                export::stix_bundle(&doc, &audience),
                "application/stix+json;version=2.1",
                format!("{stem}.stix.json"),
            ),
            "misp" => (
                export::misp_event(&doc, &audience),
                "application/json",
                format!("{stem}.misp.json"),
            ),
            "timeline.csv" => (
                export::timeline_csv(&doc, &audience),
                "text/csv; charset=utf-8",
                format!("{stem}-timeline.csv"),
            ),
            "incident" if with_attachments
                && export::may_receive(audience.tlp, export::highest_marking(&doc)) =>
            {
                let files = stored_attachments(store.as_ref(), &id, &doc)?;
                (
                    export::incident_file_with_attachments(&doc, &audience, &files)
                        .map_err(Error::BadRequest)?
                        .text,
                    "application/json",
                    format!("{stem}.firebreak.json"),
                )
            }
            "incident" => (
                export::incident_file(&doc, &audience).map_err(Error::BadRequest)?,
                "application/json",
                format!("{stem}.firebreak.json"),
            ),
            _ => (
                export::indicators_csv(&doc, &audience),
                "text/csv; charset=utf-8",
                format!("{stem}-indicators.csv"),
            ),
        };
        Ok::<_, Error>(made)
    })
    .await
    .map_err(|e| Error::Load(format!("the export stopped: {e}")))??;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Now as the model stores times: RFC 3339 UTC, whole seconds.
fn chrono_now() -> String {
    let ms = now_ms();
    let secs = ms.div_euclid(1000);
    incident::when::utc_from_unix_seconds(secs)
}
