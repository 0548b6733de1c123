//! `GET /api/incidents/{id}/preview`: what a person opening an invite link is shown before
//! they open the incident (its title, handling label and TLP level, whether it is a drill,
//! their role, and who invited them), and nothing more of the document.
//!
//! Authenticated like the other token routes (`Authorization: Bearer`); an invite's token
//! must come with its device id (`X-Firebreak-Device`), which binds the invite to that device
//! when it is the first to use it, as a sync connection would: the preview reads from the
//! document, and it is the same device that is about to join. A wrong, revoked, expired or
//! unknown token gets the same answer as on every other route, and wrong secrets count
//! against the address's and the invite's failure budgets.
//!
//! A playbook is stored and shared like an incident, and the relay syncs it without knowing;
//! only here and in the exports does it look: the preview of a playbook's invite shows the
//! playbook's name, handling label and TLP level.
//!
//! The document is read from the store on a blocking thread, sharing the exports' slots
//! ([`super::export::EXPORTS_AT_ONCE`]), so a big incident never holds up the sync thread.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use incident::playbook::Playbook;
use incident::{Incident, UpdateOrigin};
use wire::api::Preview;

use super::api::Caller;
use super::AppState;
use crate::error::Error;

pub async fn preview(
    State(state): State<AppState>,
    Caller(grant): Caller,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let device = super::device(&headers, None);
    let grant = state.gate.bind(grant, device, true).await?;
    let _slot = super::export::running()
        .acquire()
        .await
        .map_err(|_| Error::ShuttingDown)?;
    let store = state.registry.store();
    let id = grant.incident.clone();
    let (title, classification, tlp, drill) = tokio::task::spawn_blocking(move || {
        let stored = store.load(&id)?;
        if let Some(playbook) = read_playbook(&stored)? {
            // A playbook is never a drill: drills are incidents.
            return Ok((
                playbook.name(),
                playbook.classification(),
                playbook.tlp(),
                false,
            ));
        }
        let doc = Incident::new();
        for update in stored.snapshot.iter().chain(stored.updates.iter()) {
            doc.apply_update(update, UpdateOrigin::Storage)
                .map_err(|e| Error::Load(e.to_string()))?;
        }
        Ok::<_, Error>((doc.title(), doc.classification(), doc.tlp(), doc.is_drill()))
    })
    .await
    .map_err(|e| Error::Load(format!("the preview stopped: {e}")))??;
    let body = Preview {
        classification,
        drill,
        invited_by: grant.invited_by,
        role: grant.role,
        title,
        tlp: tlp.as_str().to_owned(),
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The stored document as a playbook, if it is one (its metadata says so); `None` for an
/// incident. A playbook's roots are not an incident's (`comms` is a map of drafts there), so
/// it is read on its own document, never as an incident.
pub(super) fn read_playbook(
    stored: &crate::store::StoredIncident,
) -> Result<Option<Playbook>, Error> {
    let playbook = Playbook::new();
    for update in stored.snapshot.iter().chain(stored.updates.iter()) {
        playbook
            .apply_update(update, UpdateOrigin::Storage)
            .map_err(|e| Error::Load(e.to_string()))?;
    }
    Ok(playbook.is_playbook().then_some(playbook))
}
