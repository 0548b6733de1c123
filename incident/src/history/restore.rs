//! Putting back what an entry or a prose section held at an earlier time, as a normal new
//! edit of the live incident: the record and the past states stay as they were, and the
//! restore itself becomes one more change that syncs, merges and is recorded like any other.
//!
//! - A timeline event, indicator or next step deleted since then comes back under its old
//!   id, with every field it stored then (fields this build does not know included). The old
//!   id because an indicator's id is its value's hash (another id would make a second entry
//!   for the same IOC), timeline events link indicators by id (they link again), links to
//!   the place keep working, and two people restoring the same entry at once get one entry,
//!   not two.
//! - An entry changed since then gets back only the fields that differ from then (a field
//!   it did not have then is removed), so a field someone else changes at the same time is
//!   kept: every field merges on its own.
//! - A prose section gets its old text by the smallest splice from the text now
//!   ([`Incident::edit_section`]), so what another person types at the same time outside
//!   that splice, or inside it, is kept.
//!
//! Roles, the incident's own fields and the questions are not restored here.

use yrs::{Any, Map, MapPrelim, Out, Transact};

use super::{Change, ChangeKind, Place};
use crate::entries::{self, Entry};
use crate::{Incident, Indicator, NextStep, ProseSection, TimelineEvent};

/// What a restore did to the live incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// The entry was gone and is back, under its old id.
    Recreated,
    /// These fields of the entry (their labels) have their old values again.
    Fields(Vec<String>),
    /// The section has its old text again.
    Text,
    /// It already held what it held then: nothing was written.
    Unchanged,
}

/// Why nothing was restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// The entry did not exist at the earlier time: there is nothing to put back.
    NotThen,
    /// Only timeline events, indicators, next steps and prose sections are restored.
    NotRestorable,
}

impl std::fmt::Display for RestoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreError::NotThen => write!(f, "it did not exist at that time"),
            RestoreError::NotRestorable => {
                write!(f, "only entries and prose sections can be restored")
            }
        }
    }
}

impl std::error::Error for RestoreError {}

/// Whether "Restore this" applies to `change` (a change from an earlier state to now): a
/// timeline event, indicator or next step deleted or changed since then, or a prose section
/// that changed. An entry added since then has no earlier value.
pub fn can_restore(change: &Change) -> bool {
    match &change.kind {
        ChangeKind::ProseChanged { .. } => true,
        ChangeKind::Added | ChangeKind::StepOverdue { .. } => false,
        _ => is_collection(change.place.section) && change.place.id.is_some(),
    }
}

fn is_collection(section: &str) -> bool {
    [TimelineEvent::ROOT, Indicator::ROOT, NextStep::ROOT].contains(&section)
}

/// Writes what `place` held in `then` into `live`, as one new edit of `live` (see the module
/// documentation for what is written). `then` is only read.
pub fn restore(then: &Incident, live: &Incident, place: &Place) -> Result<Restored, RestoreError> {
    if let Some(section) = ProseSection::from_key(place.section) {
        let old = then.section_text(section);
        if live.section_text(section) == old {
            return Ok(Restored::Unchanged);
        }
        live.edit_section(section, &old);
        return Ok(Restored::Text);
    }
    let id = place.id.as_deref().ok_or(RestoreError::NotRestorable)?;
    match place.section {
        s if s == TimelineEvent::ROOT => restore_entry::<TimelineEvent>(then, live, id),
        s if s == Indicator::ROOT => restore_entry::<Indicator>(then, live, id),
        s if s == NextStep::ROOT => restore_entry::<NextStep>(then, live, id),
        _ => Err(RestoreError::NotRestorable),
    }
}

fn label<E: Entry>(key: &str) -> String {
    E::FIELDS
        .iter()
        .find(|f| f.key == key)
        .map_or(key, |f| f.label)
        .to_string()
}

fn restore_entry<E: Entry>(
    then: &Incident,
    live: &Incident,
    id: &str,
) -> Result<Restored, RestoreError> {
    // Every plain value the entry stored then, by key.
    let old: Vec<(String, Any)> = {
        let txn = then.doc.transact();
        let entry = entries::get(then.collection::<E>(), &txn, id).ok_or(RestoreError::NotThen)?;
        entry
            .iter(&txn)
            .filter_map(|(key, value)| match value {
                Out::Any(any) => Some((key.to_string(), any)),
                _ => None,
            })
            .collect()
    };
    let collection = live.collection::<E>();
    let mut txn = live.doc.transact_mut();
    let Some(entry) = entries::get(collection, &txn, id) else {
        let prelim: MapPrelim = old.into_iter().collect();
        collection.insert(&mut txn, id, prelim);
        return Ok(Restored::Recreated);
    };
    let mut fields = Vec::new();
    for (key, value) in &old {
        let same = matches!(entry.get(&txn, key), Some(Out::Any(ref now)) if now == value);
        if !same {
            entry.insert(&mut txn, key.as_str(), value.clone());
            fields.push(label::<E>(key));
        }
    }
    let added_since: Vec<String> = entry
        .iter(&txn)
        .filter(|(key, value)| {
            matches!(value, Out::Any(_)) && !old.iter().any(|(k, _)| k.as_str() == *key)
        })
        .map(|(key, _)| key.to_string())
        .collect();
    for key in added_since {
        entry.remove(&mut txn, &key);
        fields.push(label::<E>(&key));
    }
    let rank = |label: &String| {
        E::FIELDS
            .iter()
            .position(|f| f.label == label)
            .unwrap_or(E::FIELDS.len())
    };
    crate::sort::sort_by(&mut fields, |a, b| {
        rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
    });
    Ok(if fields.is_empty() {
        Restored::Unchanged
    } else {
        Restored::Fields(fields)
    })
}
