//! The whole incident as one file: how an incident outlives the relay it was worked on.
//!
//! A JSON object: `format` ("firebreak-incident"), `version`, when and from which incident it
//! was saved, a readable copy of every section (`incident`, for people and scripts; never read
//! back), and `state`, the complete Yjs document (v1 update, base64). Opening a file applies
//! `state` to a new, empty document, so nothing typed is lost and the copy merges like any
//! other. A file holds everything, so it is only made for readers cleared for the highest
//! marking in the incident.
//!
//! Attachments' bytes are not in the document (it holds each file's SHA-256 and metadata;
//! the bytes are on the relay and on the device that attached them). The readable copy
//! lists every attachment, removed ones with who removed them and when. A file may also
//! carry the bytes ([`incident_file_with_attachments`]): an `attachments` list of
//! `{"sha256", "content_type", "data"}` (base64), only of files the document lists, as many
//! as fit in [`MAX_INCIDENT_FILE_BYTES`] with everything else; the hashes of listed files
//! whose bytes are not in the file are `attachments_left_out`. Opening a file checks each
//! carried file's SHA-256 against its bytes before anything changes.

use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{tlp_rank, Audience, Snapshot};
use crate::{clean_content_type, normalize_sha256, Incident, Tlp, UpdateOrigin};

/// The `format` of an incident file.
pub const INCIDENT_FILE_FORMAT: &str = "firebreak-incident";

/// The version this build writes, and the newest it reads.
pub const INCIDENT_FILE_VERSION: u64 = 1;

/// Largest incident file opened, in bytes.
pub const MAX_INCIDENT_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The highest marking anything in the incident carries: the incident's own, an
/// indicator's, a timeline event's or a prose section's (an attachment carries the marking
/// of what it is attached to).
pub fn highest_marking(incident: &Incident) -> Tlp {
    let mut highest = incident.tlp();
    let markings = incident
        .indicators()
        .into_iter()
        .filter_map(|(_, indicator)| indicator.tlp)
        .chain(
            incident
                .timeline()
                .into_iter()
                .filter_map(|(_, event)| event.tlp),
        )
        .chain(
            crate::ProseSection::ALL
                .into_iter()
                .filter_map(|section| incident.section_tlp(section)),
        );
    for tlp in markings {
        if tlp_rank(tlp) > tlp_rank(highest) {
            highest = tlp;
        }
    }
    highest
}

/// The bytes of one attached file, as an incident file carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedFile {
    /// The SHA-256 of `bytes`, 64 lowercase hex characters.
    pub sha256: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An incident file made with attachments' bytes, and which of the document's files it
/// does not carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFile {
    pub text: String,
    /// Hashes of files given whose bytes would have taken the file past
    /// [`MAX_INCIDENT_FILE_BYTES`].
    pub too_big: Vec<String>,
    /// Hashes the document lists whose bytes were not given.
    pub not_given: Vec<String>,
}

/// The SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The incident file, or why it cannot be made for this audience. It lists the attachments
/// but carries none of their bytes.
pub fn incident_file(incident: &Incident, audience: &Audience<'_>) -> Result<String, String> {
    incident_file_with_attachments(incident, audience, &[]).map(|saved| saved.text)
}

/// The incident file carrying the bytes of the attachments in `files` that the document
/// lists (others are ignored), in the order they were attached, as many as fit within
/// [`MAX_INCIDENT_FILE_BYTES`]. `Err` when it cannot be made for this audience, or when a
/// file's bytes are not those its `sha256` names.
pub fn incident_file_with_attachments(
    incident: &Incident,
    audience: &Audience<'_>,
    files: &[AttachedFile],
) -> Result<SavedFile, String> {
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
    let mut given = std::collections::HashMap::new();
    for file in files {
        let named = normalize_sha256(&file.sha256).map_err(|e| e.to_string())?;
        let actual = sha256_hex(&file.bytes);
        if actual != named {
            return Err(format!(
                "the bytes given for the attachment {named} are not that file (their SHA-256 is {actual})"
            ));
        }
        given.insert(named, file);
    }
    let s = Snapshot::read(incident, audience);
    let mut listed: Vec<String> = Vec::new();
    for shown in &s.attachments {
        if !listed.contains(&shown.attachment.sha256) {
            listed.push(shown.attachment.sha256.clone());
        }
    }
    let state = base64::engine::general_purpose::STANDARD.encode(incident.encode_state());
    let mut file = json!({
        "format": INCIDENT_FILE_FORMAT,
        "version": INCIDENT_FILE_VERSION,
        "saved_at": s.now,
        "saved_from": s.incident_id,
        "marking": format!("TLP:{}", highest.as_str()),
        "incident": readable(&s),
        "state": state,
    });
    let base = serde_json::to_string_pretty(&file)
        .unwrap_or_default()
        .len();
    // Room for the list of hashes left out, then the files in the order they were attached
    // while they fit (a carried file costs its base64 and a few lines of JSON).
    let mut room = MAX_INCIDENT_FILE_BYTES
        .saturating_sub(base)
        .saturating_sub(listed.len() * 80 + 64);
    let mut carried: Vec<(&String, &AttachedFile)> = Vec::new();
    let mut too_big = Vec::new();
    let mut not_given = Vec::new();
    for hash in &listed {
        match given.get(hash) {
            None => not_given.push(hash.clone()),
            Some(file) => {
                let cost = file.bytes.len().div_ceil(3) * 4 + file.content_type.len() + 256;
                if cost <= room {
                    room -= cost;
                    carried.push((hash, file));
                } else {
                    too_big.push(hash.clone());
                }
            }
        }
    }
    loop {
        if !carried.is_empty() {
            file["attachments"] = Value::Array(
                carried
                    .iter()
                    .map(|(hash, f)| {
                        json!({
                            "sha256": hash,
                            "content_type": clean_content_type(&f.content_type),
                            "data": base64::engine::general_purpose::STANDARD.encode(&f.bytes),
                        })
                    })
                    .collect(),
            );
        } else if let Some(map) = file.as_object_mut() {
            map.remove("attachments");
        }
        let mut left_out: Vec<&String> = not_given.iter().chain(&too_big).collect();
        left_out.sort_by_key(|h| listed.iter().position(|l| l == *h));
        if !left_out.is_empty() {
            file["attachments_left_out"] = json!(left_out);
        }
        let text = serde_json::to_string_pretty(&file).unwrap_or_default();
        // The estimate above leaves room; should it ever not, the last file carried goes.
        match carried.pop() {
            Some((hash, _)) if text.len() > MAX_INCIDENT_FILE_BYTES => {
                too_big.push(hash.clone());
            }
            Some(last) => {
                carried.push(last);
                return Ok(SavedFile {
                    text,
                    too_big,
                    not_given,
                });
            }
            None => {
                return Ok(SavedFile {
                    text,
                    too_big,
                    not_given,
                })
            }
        }
    }
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
        "attachments": s.attachments.iter().map(|shown| {
            let a = &shown.attachment;
            json!({
                "id": shown.id,
                "name": a.name,
                "sha256": a.sha256,
                "size": a.size,
                "content_type": a.content_type,
                "attached_to": a.attached_to.key(),
                "attached_to_text": shown.attached_to,
                "added_by": a.added_by,
                "added_by_invite": a.added_by_invite,
                "added_at": a.added_at,
                "removed_by": a.removed_by,
                "removed_at": a.removed_at,
                "tlp": shown.marking.as_str(),
            })
        }).collect::<Vec<_>>(),
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
    /// The attachments' bytes the file carries, each checked against its SHA-256 and
    /// listed by the document; files it does not carry are fetched from the relay as usual.
    pub attachments: Vec<AttachedFile>,
}

/// Reads an incident file. `Err` says, in words for the person who chose the file, why it
/// cannot be opened: too big, not JSON, not an incident file, from a newer Firebreak, or
/// damaged (cut short, a state that is not a Firebreak incident, a carried attachment whose
/// bytes are not the file its hash names, or one the incident does not list).
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
    let attachments = carried_attachments(&value, &check)?;
    Ok(OpenedFile {
        state,
        title: check.title(),
        saved_at: text_of("saved_at"),
        saved_from: text_of("saved_from"),
        attachments,
    })
}

/// The file's `attachments`, each checked: a SHA-256 the document lists, base64 bytes
/// whose SHA-256 it is. Absent or `null`: none.
fn carried_attachments(value: &Value, incident: &Incident) -> Result<Vec<AttachedFile>, String> {
    let items = match value.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(
                "the file's \"attachments\" is not a list of files: it is damaged".to_string(),
            )
        }
    };
    let listed = incident.attachments();
    let mut carried: Vec<AttachedFile> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let field = |key: &str| item.get(key).and_then(Value::as_str);
        let (Some(hash), Some(data)) = (field("sha256"), field("data")) else {
            return Err(format!(
                "attachment {} in the file is damaged (it has no \"sha256\" or no \"data\")",
                n + 1
            ));
        };
        let hash = normalize_sha256(hash)
            .map_err(|e| format!("attachment {} in the file is damaged: {e}", n + 1))?;
        let Some((_, entry)) = listed.iter().find(|(_, a)| a.sha256 == hash) else {
            return Err(format!(
                "the file carries a file its incident does not list (SHA-256 {hash}): it was altered"
            ));
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| {
                format!(
                    "the attachment {:?} in the file is damaged (its \"data\" is not base64)",
                    entry.name
                )
            })?;
        let actual = sha256_hex(&bytes);
        if actual != hash {
            return Err(format!(
                "the attachment {:?} in the file is damaged: its bytes' SHA-256 is {actual}, not {hash}",
                entry.name
            ));
        }
        if carried.iter().any(|c| c.sha256 == hash) {
            continue;
        }
        carried.push(AttachedFile {
            sha256: hash,
            content_type: clean_content_type(field("content_type").unwrap_or("")),
            bytes,
        });
    }
    Ok(carried)
}
