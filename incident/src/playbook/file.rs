//! A playbook as one file, in the incident file's family: a JSON object with `format`
//! ("firebreak-playbook"), `version`, when it was saved, a readable copy of the playbook
//! (`playbook`, for people and scripts; never read back) and `state`, the complete Yjs
//! document (v1 update, base64). Opening a file checks everything before anything changes.

use base64::Engine;
use serde_json::{json, Value};

use super::{Playbook, PlaybookContents};
use crate::{IncidentType, Role, UpdateOrigin};

/// The `format` of a playbook file.
pub const PLAYBOOK_FILE_FORMAT: &str = "firebreak-playbook";

/// The version this build writes, and the newest it reads.
pub const PLAYBOOK_FILE_VERSION: u64 = 1;

/// Largest playbook file opened, in bytes.
pub const MAX_PLAYBOOK_FILE_BYTES: usize = 4 * 1024 * 1024;

/// The playbook as a file, saved at `now` (RFC 3339 UTC).
pub fn playbook_file(playbook: &Playbook, now: &str) -> String {
    let c = playbook.contents();
    let file = json!({
        "format": PLAYBOOK_FILE_FORMAT,
        "version": PLAYBOOK_FILE_VERSION,
        "saved_at": now,
        "playbook": readable(&playbook.id(), playbook.version(), &c),
        "state": base64::engine::general_purpose::STANDARD.encode(playbook.encode_state()),
    });
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

fn readable(id: &str, version: u64, c: &PlaybookContents) -> Value {
    let from = |f: &super::FromIncident| {
        json!({
            "incident": f.incident_id, "title": f.incident_title, "entry": f.entry_id,
            "accepted_by": f.accepted_by, "accepted_at": f.accepted_at,
        })
    };
    json!({
        "id": id,
        "name": c.name,
        "version": version,
        "incident_type": c.incident_type.map(IncidentType::key),
        "classification": c.classification,
        "tlp": c.tlp.as_str(),
        "summary": c.summary,
        "steps": c.steps.iter().map(|(id, s)| json!({
            "id": id,
            "title": s.title,
            "role": s.role.map(Role::key),
            "due_after_minutes": s.due_after_minutes,
            "from": s.from.as_ref().map(from),
        })).collect::<Vec<_>>(),
        "questions": c.questions.iter().map(|(id, q)| json!({ "id": id, "text": q.text }))
            .collect::<Vec<_>>(),
        "comms": c.comms.iter().map(|(id, d)| json!({
            "id": id, "audience": d.audience, "text": d.text,
        })).collect::<Vec<_>>(),
        "links": c.links.iter().map(|(id, l)| json!({ "id": id, "title": l.title, "url": l.url }))
            .collect::<Vec<_>>(),
        "lessons": c.lessons.iter().map(|(id, l)| json!({
            "id": id, "text": l.text, "from": from(&l.from),
        })).collect::<Vec<_>>(),
    })
}

/// A playbook file, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedPlaybook {
    /// The whole document, to apply to a new playbook (or to merge into the same one).
    pub state: Vec<u8>,
    pub id: String,
    pub name: String,
    pub version: u64,
    pub saved_at: String,
}

/// Reads a playbook file. `Err` says, in words for the person who chose the file, why it
/// cannot be opened: too big, not JSON, not a playbook file (an incident file says so), from
/// a newer Firebreak, or damaged.
pub fn read_playbook_file(text: &str) -> Result<OpenedPlaybook, String> {
    if text.len() > MAX_PLAYBOOK_FILE_BYTES {
        return Err(format!(
            "the file is {} MB; a playbook file may be at most {} MB",
            text.len().div_ceil(1024 * 1024),
            MAX_PLAYBOOK_FILE_BYTES / (1024 * 1024)
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            "the file is cut short (it ends in the middle): save it again from where it came from"
                .to_string()
        } else {
            format!("this is not a Firebreak playbook file (it is not JSON: {e})")
        }
    })?;
    match value.get("format").and_then(Value::as_str) {
        Some(PLAYBOOK_FILE_FORMAT) => {}
        Some(crate::export::INCIDENT_FILE_FORMAT) => {
            return Err(
                "this is an incident file, not a playbook: open it from the incident list"
                    .to_string(),
            )
        }
        _ => return Err(
            "this is not a Firebreak playbook file (it has no \"format\": \"firebreak-playbook\")"
                .to_string(),
        ),
    }
    let version = value.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version == 0 {
        return Err("the file has no format version: it is damaged".to_string());
    }
    if version > PLAYBOOK_FILE_VERSION {
        return Err(format!(
            "the file was saved by a newer Firebreak (format version {version}; this one reads \
             up to {PLAYBOOK_FILE_VERSION}): open it there, or update this one"
        ));
    }
    let state = value
        .get("state")
        .and_then(Value::as_str)
        .ok_or("the file holds no playbook (no \"state\"): it is damaged")?;
    let state = base64::engine::general_purpose::STANDARD
        .decode(state)
        .map_err(|_| "the playbook in the file is damaged (its \"state\" is not base64)")?;
    let check = Playbook::new();
    check
        .apply_update(&state, UpdateOrigin::Storage)
        .map_err(|e| format!("the playbook in the file is damaged: {e}"))?;
    if !check.is_playbook() || check.id().is_empty() {
        return Err("the document in the file is not a Firebreak playbook".to_string());
    }
    check
        .check_schema()
        .map_err(|e| format!("the file cannot be opened here: {e}"))?;
    Ok(OpenedPlaybook {
        state,
        id: check.id(),
        name: check.name(),
        version: check.version(),
        saved_at: value
            .get("saved_at")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

impl Playbook {
    /// The playbook in a file, as a new document (its own id and history kept, so it merges
    /// with other copies of the same playbook).
    pub fn open_file(text: &str) -> Result<Playbook, String> {
        let opened = read_playbook_file(text)?;
        let playbook = Playbook::new();
        playbook
            .apply_update(&opened.state, UpdateOrigin::Storage)
            .map_err(|e| format!("the playbook in the file is damaged: {e}"))?;
        Ok(playbook)
    }

    /// Merges a file of this same playbook (another copy's edits) into this one. Refuses,
    /// changing nothing, a bad file or one of another playbook.
    pub fn merge_file(&self, text: &str) -> Result<(), String> {
        let opened = read_playbook_file(text)?;
        if opened.id != self.id() {
            return Err(format!(
                "this file is the playbook \"{}\", not \"{}\": open it as a playbook of its own",
                opened.name,
                self.name()
            ));
        }
        self.apply_update(&opened.state, UpdateOrigin::Storage)
            .map_err(|e| format!("the playbook in the file is damaged: {e}"))
    }
}
