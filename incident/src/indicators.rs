//! Indicators of compromise in the incident. An indicator's id is derived from its canonical
//! value, so the same indicator pasted on two devices at once (offline, say) becomes one entry
//! when they merge, not two. Values are stored refanged (the real value) and shown defanged.

use yrs::{Any, Map, Transact};

use crate::entries;
use crate::indicator_value::{canonical, detect, parse_bulk, refang, IndicatorKind};
use crate::{Incident, Tlp};

/// One stored indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// The real (refanged, canonical) value.
    pub value: String,
    pub kind: IndicatorKind,
    /// Its own TLP level; `None` means the incident's.
    pub tlp: Option<Tlp>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub sightings: u32,
    pub note: String,
    pub added_by: String,
    pub added_at: String,
}

/// A text field of an indicator that can be corrected on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndicatorField {
    FirstSeen,
    LastSeen,
    Note,
}

impl IndicatorField {
    fn key(self) -> &'static str {
        match self {
            IndicatorField::FirstSeen => "first_seen",
            IndicatorField::LastSeen => "last_seen",
            IndicatorField::Note => "note",
        }
    }
}

/// What a paste of indicators did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PasteResult {
    /// Ids of the indicators that are new.
    pub added: Vec<String>,
    /// Ids of indicators that were already in the incident (or twice in the paste).
    pub already_known: Vec<String>,
}

/// Why an indicator value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("the indicator is empty")]
    Empty,
    #[error("that indicator is already in the incident")]
    Duplicate { id: String },
    #[error("that indicator no longer exists (someone removed it)")]
    Gone,
}

/// The id of the indicator whose canonical value is `value`: a 64-bit FNV-1a hash, so every
/// device derives the same id for the same indicator.
pub fn indicator_id(value: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("ioc-{hash:016x}")
}

fn read(entry: &yrs::MapRef, txn: &impl yrs::ReadTxn) -> Indicator {
    let text = |key| entries::string(entry, txn, key);
    let value = text("value").unwrap_or_default();
    Indicator {
        kind: text("kind")
            .and_then(|k| IndicatorKind::from_key(&k))
            .unwrap_or_else(|| detect(&value)),
        value,
        tlp: text("tlp").and_then(|t| Tlp::parse(&t)),
        first_seen: text("first_seen").filter(|s| !s.is_empty()),
        last_seen: text("last_seen").filter(|s| !s.is_empty()),
        sightings: entries::count(entry, txn, "sightings"),
        note: text("note").unwrap_or_default(),
        added_by: text("added_by").unwrap_or_default(),
        added_at: text("added_at").unwrap_or_default(),
    }
}

impl Incident {
    /// Adds one indicator as typed (defanged or not); its kind is detected unless given.
    /// Returns its id.
    pub fn add_indicator(
        &self,
        raw: &str,
        kind: Option<IndicatorKind>,
        author: &str,
        now: &str,
    ) -> Result<String, IndicatorError> {
        let real = refang(raw);
        if real.is_empty() {
            return Err(IndicatorError::Empty);
        }
        let kind = kind.unwrap_or_else(|| detect(&real));
        let value = canonical(&real, kind);
        let id = indicator_id(&value);
        let mut txn = self.doc.transact_mut();
        if entries::get(&self.indicators, &txn, &id).is_some() {
            return Err(IndicatorError::Duplicate { id });
        }
        entries::insert(
            &self.indicators,
            &mut txn,
            &id,
            vec![
                ("value", Any::from(value.as_str())),
                ("kind", Any::from(kind.key())),
                ("sightings", Any::from(1.0)),
                ("added_by", Any::from(author)),
                ("added_at", Any::from(now)),
            ],
        );
        Ok(id)
    }

    /// Adds every indicator in a paste (one per line), each refanged and typed; ones already
    /// in the incident, or repeated in the paste, are not added again.
    pub fn paste_indicators(&self, text: &str, author: &str, now: &str) -> PasteResult {
        let mut result = PasteResult::default();
        let mut txn = self.doc.transact_mut();
        for parsed in parse_bulk(text) {
            let id = indicator_id(&parsed.value);
            if entries::get(&self.indicators, &txn, &id).is_some() {
                if !result.already_known.contains(&id) {
                    result.already_known.push(id);
                }
                continue;
            }
            entries::insert(
                &self.indicators,
                &mut txn,
                &id,
                vec![
                    ("value", Any::from(parsed.value.as_str())),
                    ("kind", Any::from(parsed.kind.key())),
                    ("sightings", Any::from(1.0)),
                    ("added_by", Any::from(author)),
                    ("added_at", Any::from(now)),
                ],
            );
            result.added.push(id);
        }
        result
    }

    /// Every indicator, in display order: by kind, then value.
    pub fn indicators(&self) -> Vec<(String, Indicator)> {
        let txn = self.doc.transact();
        let mut all: Vec<(String, Indicator)> = entries::all(&self.indicators, &txn)
            .into_iter()
            .map(|(id, entry)| (id, read(&entry, &txn)))
            .collect();
        let order = |k: IndicatorKind| IndicatorKind::ALL.iter().position(|x| *x == k);
        all.sort_by(|(a_id, a), (b_id, b)| {
            (order(a.kind), &a.value, a_id).cmp(&(order(b.kind), &b.value, b_id))
        });
        all
    }

    /// One indicator, if it exists.
    pub fn indicator(&self, id: &str) -> Option<Indicator> {
        let txn = self.doc.transact();
        entries::get(&self.indicators, &txn, id).map(|entry| read(&entry, &txn))
    }

    /// Corrects a text field of an indicator. False when it no longer exists.
    pub fn set_indicator_field(&self, id: &str, field: IndicatorField, value: &str) -> bool {
        let mut txn = self.doc.transact_mut();
        entries::set_field(
            &self.indicators,
            &mut txn,
            id,
            field.key(),
            Any::from(value),
        )
    }

    /// Overrides the detected kind. False when it no longer exists.
    pub fn set_indicator_kind(&self, id: &str, kind: IndicatorKind) -> bool {
        let mut txn = self.doc.transact_mut();
        entries::set_field(
            &self.indicators,
            &mut txn,
            id,
            "kind",
            Any::from(kind.key()),
        )
    }

    /// Sets the indicator's own TLP level (`None`: the incident's). False when it is gone.
    pub fn set_indicator_tlp(&self, id: &str, tlp: Option<Tlp>) -> bool {
        let value = tlp.map_or("", Tlp::as_str);
        let mut txn = self.doc.transact_mut();
        entries::set_field(&self.indicators, &mut txn, id, "tlp", Any::from(value))
    }

    /// Sets how many times it has been seen. False when it is gone.
    pub fn set_indicator_sightings(&self, id: &str, sightings: u32) -> bool {
        let mut txn = self.doc.transact_mut();
        entries::set_field(
            &self.indicators,
            &mut txn,
            id,
            "sightings",
            Any::from(f64::from(sightings)),
        )
    }

    /// Corrects an indicator's value: it moves to the id of its new value, keeping its other
    /// fields and its links from timeline events. Returns the new id.
    pub fn correct_indicator_value(&self, id: &str, raw: &str) -> Result<String, IndicatorError> {
        let real = refang(raw);
        if real.is_empty() {
            return Err(IndicatorError::Empty);
        }
        let mut txn = self.doc.transact_mut();
        let Some(entry) = entries::get(&self.indicators, &txn, id) else {
            return Err(IndicatorError::Gone);
        };
        let old = read(&entry, &txn);
        let value = canonical(&real, old.kind);
        let new_id = indicator_id(&value);
        if new_id == id {
            return Ok(new_id);
        }
        if entries::get(&self.indicators, &txn, &new_id).is_some() {
            return Err(IndicatorError::Duplicate { id: new_id });
        }
        let mut fields: Vec<(&'static str, Any)> = vec![
            ("value", Any::from(value.as_str())),
            ("kind", Any::from(old.kind.key())),
            ("sightings", Any::from(f64::from(old.sightings))),
            ("note", Any::from(old.note.as_str())),
            ("added_by", Any::from(old.added_by.as_str())),
            ("added_at", Any::from(old.added_at.as_str())),
        ];
        if let Some(tlp) = old.tlp {
            fields.push(("tlp", Any::from(tlp.as_str())));
        }
        if let Some(first) = &old.first_seen {
            fields.push(("first_seen", Any::from(first.as_str())));
        }
        if let Some(last) = &old.last_seen {
            fields.push(("last_seen", Any::from(last.as_str())));
        }
        entries::insert(&self.indicators, &mut txn, &new_id, fields);
        self.indicators.remove(&mut txn, id);
        for (event_id, event) in entries::all(&self.timeline, &txn) {
            let mut links = entries::strings(&event, &txn, "indicators");
            if let Some(slot) = links.iter_mut().find(|l| l.as_str() == id) {
                *slot = new_id.clone();
                entries::set_field(
                    &self.timeline,
                    &mut txn,
                    &event_id,
                    "indicators",
                    entries::string_list(&links),
                );
            }
        }
        Ok(new_id)
    }

    /// Removes an indicator. Removing one that is already gone is not an error.
    pub fn remove_indicator(&self, id: &str) {
        let mut txn = self.doc.transact_mut();
        self.indicators.remove(&mut txn, id);
    }

    /// The ids of the timeline events that link this indicator, in timeline order.
    pub fn indicator_events(&self, id: &str) -> Vec<String> {
        self.timeline()
            .into_iter()
            .filter(|(_, event)| event.indicators.iter().any(|i| i == id))
            .map(|(event_id, _)| event_id)
            .collect()
    }
}
