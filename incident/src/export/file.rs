//! The whole incident as one file: how an incident outlives the relay it was worked on.
//!
//! A JSON object: `format` ("firebreak-incident"), `version`, when and from which incident it
//! was saved, a readable copy of every section (`incident`, for people and scripts; never read
//! back), and `state`, the complete Yjs document (v1 update, base64). Opening a file applies
//! `state` to a new, empty document, so nothing typed is lost and the copy merges like any
//! other. A file holds everything, so it is only made for readers cleared for the highest
//! marking in the incident.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{tlp_rank, Audience, Snapshot};
use crate::{Incident, Tlp, UpdateOrigin};

/// The `format` of an incident file.
pub const INCIDENT_FILE_FORMAT: &str = "firebreak-incident";

/// The version this build writes, and the newest it reads.
pub const INCIDENT_FILE_VERSION: u64 = 1;

/// Largest incident file opened, in bytes.
pub const MAX_INCIDENT_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The highest marking anything in the incident carries.
pub fn highest_marking(incident: &Incident) -> Tlp {
    let mut highest = incident.tlp();
    for (_, indicator) in incident.indicators() {
        if let Some(tlp) = indicator.tlp {
            if tlp_rank(tlp) > tlp_rank(highest) {
                highest = tlp;
            }
        }
    }
    highest
}

/// The incident file, or why it cannot be made for this audience.
pub fn incident_file(incident: &Incident, audience: &Audience<'_>) -> Result<String, String> {
    let highest = highest_marking(incident);
    if tlp_rank(audience.tlp) < tlp_rank(highest) {
        return Err(format!(
            "an incident file holds everything in the incident, and some of it is marked \
             TLP:{}: choose readers cleared for TLP:{} (or use the other exports, which leave \
             out what is marked above their readers)",
            highest.as_str(),
            highest.as_str()
        ));
    }
    let s = Snapshot::read(incident, audience);
    let state = base64::engine::general_purpose::STANDARD.encode(incident.encode_state());
    let file = json!({
        "format": INCIDENT_FILE_FORMAT,
        "version": INCIDENT_FILE_VERSION,
        "saved_at": s.now,
        "saved_from": s.incident_id,
        "marking": format!("TLP:{}", highest.as_str()),
        "incident": readable(&s),
        "state": state,
    });
    Ok(serde_json::to_string_pretty(&file).unwrap_or_default())
}

fn readable(s: &Snapshot) -> Value {
    let mut sections = Map::new();
    for (section, text, _) in &s.sections {
        sections.insert(section.key().to_string(), Value::String(text.clone()));
    }
    json!({
        "title": s.title,
        "classification": s.classification,
        "tlp": s.incident_tlp.as_str(),
        "status": s.status.key(),
        "severity": s.severity.map(|sev| sev.key()),
        "drill": s.drill,
        "incident_type": s.incident_type.map(|t| t.key()),
        "created_at": s.created_at,
        "zone": s.zone,
        "sections": sections,
        "roles": s.roles.iter().map(|(role, holder)| json!({
            "role": role.key(), "holder": holder.name, "since": holder.since,
        })).collect::<Vec<_>>(),
        "timeline": s.timeline.iter().map(|(id, e, tlp)| json!({
            "id": id,
            "occurred_at": e.occurred_at,
            "occurred_zone": e.occurred_zone,
            "occurred_original": e.occurred_original,
            "discovered_at": e.discovered_at,
            "what": e.what,
            "notes": e.notes,
            "source": e.source,
            "data_link": e.data_link,
            "phase": e.phase.map(|p| p.key()),
            "indicators": e.indicators,
            "author": e.author,
            "in_report": e.include_in_report,
            "tlp": tlp.as_str(),
        })).collect::<Vec<_>>(),
        "indicators": s.indicators.iter().map(|(id, i, tlp)| json!({
            "id": id,
            "value": i.value,
            "kind": i.kind.key(),
            "tlp": tlp.as_str(),
            "first_seen": i.first_seen,
            "last_seen": i.last_seen,
            "sightings": i.sightings,
            "note": i.note,
            "added_by": i.added_by,
            "added_at": i.added_at,
        })).collect::<Vec<_>>(),
        "next_steps": s.next_steps.iter().map(|(id, step)| json!({
            "id": id,
            "title": step.title,
            "owner": step.owner,
            "status": step.status.key(),
            "due": step.due,
            "created_by": step.created_by,
            "created_at": step.created_at,
        })).collect::<Vec<_>>(),
        "answers": s.answers.iter().map(|(q, a)| json!({
            "list": q.list.root(),
            "question": q.key,
            "text": q.text,
            "status": a.status.key(),
            "answer": a.answer,
            "by": a.by,
        })).collect::<Vec<_>>(),
    })
}

/// An incident file, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedFile {
    /// The whole document, to apply to a new incident.
    pub state: Vec<u8>,
    /// Its title (for the list, before it is opened).
    pub title: String,
    pub saved_at: String,
    pub saved_from: String,
}

/// Reads an incident file. `Err` says, in words for the person who chose the file, why it
/// cannot be opened: too big, not JSON, not an incident file, from a newer Firebreak, or
/// damaged (cut short, or a state that is not a Firebreak incident).
pub fn read_incident_file(text: &str) -> Result<OpenedFile, String> {
    if text.len() > MAX_INCIDENT_FILE_BYTES {
        return Err(format!(
            "the file is {} MB; an incident file may be at most {} MB",
            text.len().div_ceil(1024 * 1024),
            MAX_INCIDENT_FILE_BYTES / (1024 * 1024)
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            "the file is cut short (it ends in the middle): save it again from where it came from"
                .to_string()
        } else {
            format!("this is not a Firebreak incident file (it is not JSON: {e})")
        }
    })?;
    if value.get("format").and_then(Value::as_str) != Some(INCIDENT_FILE_FORMAT) {
        return Err(
            "this is not a Firebreak incident file (it has no \"format\": \"firebreak-incident\")"
                .to_string(),
        );
    }
    let version = value.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version == 0 {
        return Err("the file has no format version: it is damaged".to_string());
    }
    if version > INCIDENT_FILE_VERSION {
        return Err(format!(
            "the file was saved by a newer Firebreak (format version {version}; this one reads up to {INCIDENT_FILE_VERSION}): open it there, or update this one"
        ));
    }
    let state = value
        .get("state")
        .and_then(Value::as_str)
        .ok_or("the file holds no incident (no \"state\"): it is damaged")?;
    let state = base64::engine::general_purpose::STANDARD
        .decode(state)
        .map_err(|_| {
            "the incident in the file is damaged (its \"state\" is not base64)".to_string()
        })?;
    let check = Incident::new();
    check
        .apply_update(&state, UpdateOrigin::Storage)
        .map_err(|e| format!("the incident in the file is damaged: {e}"))?;
    if check.schema_version().is_none() {
        return Err("the document in the file is not a Firebreak incident".to_string());
    }
    check
        .check_schema()
        .map_err(|e| format!("the file cannot be opened here: {e}"))?;
    let text_of = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(OpenedFile {
        state,
        title: check.title(),
        saved_at: text_of("saved_at"),
        saved_from: text_of("saved_from"),
    })
}
