//! Indicators of compromise in the incident. An indicator's id is derived from its canonical
//! value, so the same indicator pasted on two devices at once (offline, say) becomes one entry
//! when they merge, not two. Values are stored refanged (the real value) and shown defanged.

use yrs::{Any, Map, ReadTxn, Transact};

use crate::entries::{self, editable_fields, Entry, FieldLabel, Fields, Stored};
use crate::indicator_value::{canonical, detect, parse_bulk, refang, IndicatorKind};
use crate::{Incident, TimelineEvent, Tlp};

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

editable_fields! {
    /// A text field of an indicator that can be corrected on its own.
    pub enum IndicatorField of Indicator {
        FirstSeen => "first_seen",
        LastSeen => "last_seen",
        Note => "note",
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

impl Indicator {
    /// A newly seen indicator: seen once, nothing else known yet.
    fn first_sighting(value: String, kind: IndicatorKind, author: &str, now: &str) -> Self {
        Indicator {
            value,
            kind,
            tlp: None,
            first_seen: None,
            last_seen: None,
            sightings: 1,
            note: String::new(),
            added_by: author.to_string(),
            added_at: now.to_string(),
        }
    }
}

impl Entry for Indicator {
    const ROOT: &'static str = "indicators";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("value", "Indicator"),
        FieldLabel::new("kind", "Kind"),
        FieldLabel::new("tlp", "TLP"),
        FieldLabel::new("first_seen", "First seen"),
        FieldLabel::new("last_seen", "Last seen"),
        FieldLabel::new("sightings", "Sightings"),
        FieldLabel::new("note", "Note"),
        FieldLabel::new("added_by", "Added by"),
        FieldLabel::new("added_at", "Added at"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("value", &self.value)
            .text("kind", self.kind.key())
            .count("sightings", self.sightings)
            .optional_text("note", Some(self.note.as_str()).filter(|n| !n.is_empty()))
            .text("added_by", &self.added_by)
            .text("added_at", &self.added_at)
            .optional_text("tlp", self.tlp.map(Tlp::as_str))
            .optional_text("first_seen", self.first_seen.as_deref())
            .optional_text("last_seen", self.last_seen.as_deref())
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Indicator {
        let value = stored.text("value");
        Indicator {
            kind: IndicatorKind::from_key(&stored.text("kind")).unwrap_or_else(|| detect(&value)),
            value,
            tlp: Tlp::parse(&stored.text("tlp")),
            first_seen: stored.optional_text("first_seen"),
            last_seen: stored.optional_text("last_seen"),
            sightings: stored.count("sightings"),
            note: stored.text("note"),
            added_by: stored.text("added_by"),
            added_at: stored.text("added_at"),
        }
    }

    /// By kind, then value.
    fn sort(indicators: &mut [(String, Self)]) {
        let order = |k: IndicatorKind| IndicatorKind::ALL.iter().position(|x| *x == k);
        crate::sort::sort_by(indicators, |(a_id, a), (b_id, b)| {
            (order(a.kind), &a.value, a_id).cmp(&(order(b.kind), &b.value, b_id))
        });
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
        let indicators = self.collection::<Indicator>();
        let mut txn = self.doc.transact_mut();
        if entries::get(indicators, &txn, &id).is_some() {
            return Err(IndicatorError::Duplicate { id });
        }
        let indicator = Indicator::first_sighting(value, kind, author, now);
        entries::insert(indicators, &mut txn, &id, indicator.to_fields());
        Ok(id)
    }

    /// Adds every indicator in a paste (one per line), each refanged and typed; ones already
    /// in the incident, or repeated in the paste, are not added again.
    pub fn paste_indicators(&self, text: &str, author: &str, now: &str) -> PasteResult {
        let mut result = PasteResult::default();
        let indicators = self.collection::<Indicator>();
        let mut txn = self.doc.transact_mut();
        for parsed in parse_bulk(text) {
            let id = indicator_id(&parsed.value);
            if entries::get(indicators, &txn, &id).is_some() {
                if !result.already_known.contains(&id) {
                    result.already_known.push(id);
                }
                continue;
            }
            let indicator = Indicator::first_sighting(parsed.value, parsed.kind, author, now);
            entries::insert(indicators, &mut txn, &id, indicator.to_fields());
            result.added.push(id);
        }
        result
    }

    /// A number that changes whenever the indicators change (and only then).
    pub fn indicators_version(&self) -> u64 {
        self.version::<Indicator>()
    }

    /// Every indicator, in display order: by kind, then value.
    pub fn indicators(&self) -> Vec<(String, Indicator)> {
        self.entries()
    }

    /// One indicator, if it exists.
    pub fn indicator(&self, id: &str) -> Option<Indicator> {
        self.entry(id)
    }

    /// Corrects a text field of an indicator. False when it no longer exists.
    pub fn set_indicator_field(&self, id: &str, field: IndicatorField, value: &str) -> bool {
        self.set_field(id, field, value)
    }

    /// Overrides the detected kind. False when it no longer exists.
    pub fn set_indicator_kind(&self, id: &str, kind: IndicatorKind) -> bool {
        self.set_values::<Indicator>(id, [("kind", Any::from(kind.key()))])
    }

    /// Sets the indicator's own TLP level (`None`: the incident's). False when it is gone.
    pub fn set_indicator_tlp(&self, id: &str, tlp: Option<Tlp>) -> bool {
        let value = tlp.map_or("", Tlp::as_str);
        self.set_values::<Indicator>(id, [("tlp", Any::from(value))])
    }

    /// Sets how many times it has been seen. False when it is gone.
    pub fn set_indicator_sightings(&self, id: &str, sightings: u32) -> bool {
        self.set_values::<Indicator>(id, [("sightings", Any::from(f64::from(sightings)))])
    }

    /// Corrects an indicator's value: it moves to the id of its new value, keeping its other
    /// fields and its links from timeline events. Returns the new id.
    pub fn correct_indicator_value(&self, id: &str, raw: &str) -> Result<String, IndicatorError> {
        let real = refang(raw);
        if real.is_empty() {
            return Err(IndicatorError::Empty);
        }
        let indicators = self.collection::<Indicator>();
        let timeline = self.collection::<TimelineEvent>();
        let mut txn = self.doc.transact_mut();
        let Some(entry) = entries::get(indicators, &txn, id) else {
            return Err(IndicatorError::Gone);
        };
        let old: Indicator = entries::read(&entry, &txn);
        let value = canonical(&real, old.kind);
        let new_id = indicator_id(&value);
        if new_id == id {
            return Ok(new_id);
        }
        if entries::get(indicators, &txn, &new_id).is_some() {
            return Err(IndicatorError::Duplicate { id: new_id });
        }
        let moved = Indicator { value, ..old };
        entries::insert(indicators, &mut txn, &new_id, moved.to_fields());
        indicators.remove(&mut txn, id);
        for (event_id, event) in entries::all(timeline, &txn) {
            let mut links = entries::strings(&event, &txn, "indicators");
            if let Some(slot) = links.iter_mut().find(|l| l.as_str() == id) {
                *slot = new_id.clone();
                let links = entries::string_list(&links);
                entries::set_values(timeline, &mut txn, &event_id, [("indicators", links)]);
            }
        }
        Ok(new_id)
    }

    /// Removes an indicator. Removing one that is already gone is not an error.
    pub fn remove_indicator(&self, id: &str) {
        self.remove_entry::<Indicator>(id);
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
