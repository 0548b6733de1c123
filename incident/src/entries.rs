//! Structured sections: a collection of entries, stored as a root map from entry id to a map
//! of fields. Each field of an entry is a plain value (last writer wins) and merges on its
//! own, so two people correcting different fields of one entry both keep their change.
//!
//! A section is described once, by implementing [`Entry`] for the type of its entries (its
//! root name, how an entry is written and read back, what each field is called) and
//! [`EditableField`] for the fields a responder corrects one at a time; the generic methods
//! here then add, list, get, change and remove its entries. Its root name must also be listed
//! in [`crate::roots`].

use yrs::{Any, Map, MapPrelim, MapRef, Out, ReadTxn, Transact, TransactionMut};

use crate::Incident;

/// One stored field of an entry, as a report or an export names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLabel {
    /// The key in the stored document.
    pub key: &'static str,
    /// What a responder calls it.
    pub label: &'static str,
}

impl FieldLabel {
    pub const fn new(key: &'static str, label: &'static str) -> Self {
        FieldLabel { key, label }
    }
}

/// The entry type of a structured section (a timeline event, an indicator, a next step).
pub trait Entry: Sized {
    /// The name of the section's root map in the document; listed in [`crate::roots`].
    const ROOT: &'static str;

    /// Every field an entry can store, in the order a report shows them.
    const FIELDS: &'static [FieldLabel];

    /// The fields written when the entry is added whole.
    fn to_fields(&self) -> Fields;

    /// The entry as stored. Missing or unreadable fields take their defaults, so a
    /// half-arrived or older entry still reads.
    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self;

    /// Puts entries in display order; by id unless the section says otherwise.
    fn sort(entries: &mut [(String, Self)]) {
        crate::sort::sort_by(entries, |a, b| a.0.cmp(&b.0));
    }
}

/// A text field of an entry that a responder can correct on its own.
pub trait EditableField: Copy {
    /// The entry type the field belongs to.
    type Entry: Entry;

    /// The key in the stored document.
    fn key(self) -> &'static str;

    /// What a responder calls it, from the entry type's [`Entry::FIELDS`].
    fn label(self) -> &'static str {
        let key = self.key();
        Self::Entry::FIELDS
            .iter()
            .find(|f| f.key == key)
            .map_or(key, |f| f.label)
    }
}

/// Declares the fields of an entry type that a responder corrects one at a time: an enum
/// with one variant per field, its stored key, and `ALL`.
///
/// ```text
/// editable_fields! {
///     /// A field of a next step that can be changed on its own.
///     pub enum StepField of NextStep {
///         Title => "title",
///         Owner => "owner",
///     }
/// }
/// ```
macro_rules! editable_fields {
    (
        $(#[$meta:meta])*
        pub enum $name:ident of $entry:ty {
            $( $(#[$variant_meta:meta])* $variant:ident => $key:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $name {
            /// Every field that can be corrected on its own.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
        }

        impl $crate::entries::EditableField for $name {
            type Entry = $entry;

            fn key(self) -> &'static str {
                match self {
                    $( $name::$variant => $key, )*
                }
            }
        }
    };
}
pub(crate) use editable_fields;

/// The fields of an entry about to be written, built one by one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(Vec<(&'static str, Any)>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// A text field, written even when empty.
    pub fn text(mut self, key: &'static str, value: &str) -> Self {
        self.0.push((key, Any::from(value)));
        self
    }

    /// A text field written only when there is a value.
    pub fn optional_text(self, key: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(key, value),
            None => self,
        }
    }

    /// A yes/no field.
    pub fn flag(mut self, key: &'static str, value: bool) -> Self {
        self.0.push((key, Any::Bool(value)));
        self
    }

    /// A whole number (stored as a JavaScript number).
    pub fn count(mut self, key: &'static str, value: u32) -> Self {
        self.0.push((key, Any::from(f64::from(value))));
        self
    }

    /// A size in bytes (stored as a JavaScript number, exact up to 2^53).
    pub fn size(mut self, key: &'static str, value: u64) -> Self {
        self.0.push((key, Any::from(value as f64)));
        self
    }

    /// A list of strings as one value, written only when the list is not empty.
    pub fn optional_list(mut self, key: &'static str, items: &[String]) -> Self {
        if !items.is_empty() {
            self.0.push((key, string_list(items)));
        }
        self
    }

    /// The keys written, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(key, _)| *key)
    }
}

/// One stored entry, read field by field.
pub struct Stored<'a, T: ReadTxn> {
    entry: &'a MapRef,
    txn: &'a T,
}

impl<T: ReadTxn> Stored<'_, T> {
    /// A text field; "" when missing or not text.
    pub fn text(&self, key: &str) -> String {
        string(self.entry, self.txn, key).unwrap_or_default()
    }

    /// A text field, or `None` when it is missing, empty or not text.
    pub fn optional_text(&self, key: &str) -> Option<String> {
        string(self.entry, self.txn, key).filter(|s| !s.is_empty())
    }

    /// A yes/no field; false when missing.
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.entry.get(self.txn, key),
            Some(Out::Any(Any::Bool(true)))
        )
    }

    /// A whole-number field; 0 when missing or not a number.
    pub fn count(&self, key: &str) -> u32 {
        match self.entry.get(self.txn, key) {
            Some(Out::Any(Any::Number(n))) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
            _ => 0,
        }
    }

    /// A size in bytes; 0 when missing, negative or not a number.
    pub fn size(&self, key: &str) -> u64 {
        match self.entry.get(self.txn, key) {
            Some(Out::Any(Any::Number(n))) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map_or(0, |n| u64::try_from(n).unwrap_or(0)),
            _ => 0,
        }
    }

    /// A list-of-strings field; empty when missing.
    pub fn list(&self, key: &str) -> Vec<String> {
        strings(self.entry, self.txn, key)
    }
}

/// A string field of an entry, if it is set and is a string.
fn string<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> Option<String> {
    match entry.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// A text field of an entry; "" when missing or not text (for readers that need a field or
/// two of many entries without reading them whole).
pub(crate) fn text_of<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> String {
    string(entry, txn, key).unwrap_or_default()
}

/// A list-of-strings field (stored as one value); empty when missing.
pub(crate) fn strings<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> Vec<String> {
    match entry.get(txn, key) {
        Some(Out::Any(Any::Array(items))) => items
            .iter()
            .filter_map(|item| match item {
                Any::String(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A list of strings as one stored value.
pub(crate) fn string_list(items: &[String]) -> Any {
    Any::from(
        items
            .iter()
            .map(|s| Any::from(s.as_str()))
            .collect::<Vec<Any>>(),
    )
}

/// Every entry of a collection, unordered.
pub(crate) fn all<T: ReadTxn>(collection: &MapRef, txn: &T) -> Vec<(String, MapRef)> {
    collection
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(entry) => Some((id.to_string(), entry)),
            _ => None,
        })
        .collect()
}

/// One entry of a collection, if it exists.
pub(crate) fn get<T: ReadTxn>(collection: &MapRef, txn: &T, id: &str) -> Option<MapRef> {
    match collection.get(txn, id)? {
        Out::YMap(entry) => Some(entry),
        _ => None,
    }
}

/// Reads an entry of type `E` from its stored map.
pub(crate) fn read<E: Entry, T: ReadTxn>(entry: &MapRef, txn: &T) -> E {
    E::read(&Stored { entry, txn })
}

/// Adds (or replaces whole) the entry `id` made of `fields`.
pub(crate) fn insert(collection: &MapRef, txn: &mut TransactionMut, id: &str, fields: Fields) {
    let prelim: MapPrelim = fields
        .0
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    collection.insert(txn, id, prelim);
}

/// Sets fields of an entry, each unless it already holds that value (so nothing is sent).
/// Returns false when the entry no longer exists (someone deleted it).
pub(crate) fn set_values<'k>(
    collection: &MapRef,
    txn: &mut TransactionMut,
    id: &str,
    values: impl IntoIterator<Item = (&'k str, Any)>,
) -> bool {
    let Some(entry) = get(collection, txn, id) else {
        return false;
    };
    for (key, value) in values {
        let unchanged =
            matches!(entry.get(txn, key), Some(Out::Any(ref current)) if *current == value);
        if !unchanged {
            entry.insert(txn, key, value);
        }
    }
    true
}

/// The generic operations every structured section shares.
impl Incident {
    /// The root map of `E`'s section.
    pub(crate) fn collection<E: Entry>(&self) -> &MapRef {
        self.root_map(E::ROOT)
    }

    /// Adds an entry under a caller-chosen id (see [`crate::new_id`]); an entry already under
    /// that id is replaced whole.
    pub fn add_entry<E: Entry>(&self, id: &str, entry: &E) {
        let mut txn = self.doc.transact_mut();
        insert(self.collection::<E>(), &mut txn, id, entry.to_fields());
    }

    /// Every entry of the section, in its display order.
    pub fn entries<E: Entry>(&self) -> Vec<(String, E)> {
        let txn = self.doc.transact();
        let mut entries: Vec<(String, E)> = all(self.collection::<E>(), &txn)
            .into_iter()
            .map(|(id, entry)| (id, read(&entry, &txn)))
            .collect();
        E::sort(&mut entries);
        entries
    }

    /// One entry, if it exists.
    pub fn entry<E: Entry>(&self, id: &str) -> Option<E> {
        let txn = self.doc.transact();
        get(self.collection::<E>(), &txn, id).map(|entry| read(&entry, &txn))
    }

    /// Changes one text field of an entry; its other fields merge on their own. Returns
    /// false when the entry no longer exists (someone deleted it).
    pub fn set_field<F: EditableField>(&self, id: &str, field: F, value: &str) -> bool {
        self.set_values::<F::Entry>(id, [(field.key(), Any::from(value))])
    }

    /// Sets stored fields of an entry in one change. False when the entry is gone.
    pub(crate) fn set_values<'k, E: Entry>(
        &self,
        id: &str,
        values: impl IntoIterator<Item = (&'k str, Any)>,
    ) -> bool {
        let mut txn = self.doc.transact_mut();
        set_values(self.collection::<E>(), &mut txn, id, values)
    }

    /// Removes an entry. Removing one that is already gone is not an error.
    pub fn remove_entry<E: Entry>(&self, id: &str) {
        let mut txn = self.doc.transact_mut();
        self.collection::<E>().remove(&mut txn, id);
    }

    /// A number that changes whenever the section changes (and only then), here or on
    /// another device, so a view of thousands of entries can skip re-reading them when
    /// someone types elsewhere.
    pub fn version<E: Entry>(&self) -> u64 {
        self.root_version(E::ROOT)
    }
}

/// Checks that every key `sample` writes, and every field that can be edited, is described in
/// `E::FIELDS` (so an export derived from it misses nothing), and once only. For each
/// section's tests.
#[cfg(test)]
pub(crate) fn assert_described<E: Entry, F: EditableField<Entry = E>>(sample: &E, editable: &[F]) {
    let described: Vec<&str> = E::FIELDS.iter().map(|f| f.key).collect();
    let mut unique = described.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), described.len(), "{}: a key twice", E::ROOT);
    let written = sample.to_fields();
    for key in written.keys().chain(editable.iter().map(|f| f.key())) {
        assert!(described.contains(&key), "{}: {key} not in FIELDS", E::ROOT);
    }
    assert!(E::FIELDS.iter().all(|f| !f.label.is_empty()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Indicator, IndicatorField, IndicatorKind, KillChainPhase, NextStep, RoleHolder, StepField,
        StepStatus, TimelineEvent, TimelineField, Tlp,
    };

    /// Stands in for "no editable fields" in [`assert_described`].
    #[derive(Clone, Copy)]
    struct NoField;

    impl EditableField for NoField {
        type Entry = RoleHolder;
        fn key(self) -> &'static str {
            unreachable!()
        }
    }

    #[test]
    fn every_section_describes_every_field_it_writes() {
        let event = TimelineEvent {
            occurred_zone: Some("Europe/Paris".into()),
            occurred_original: Some("09:00".into()),
            discovered_at: Some("2026-11-22T03:00:00Z".into()),
            phase: Some(KillChainPhase::Delivery),
            indicators: vec!["ioc-1".into()],
            notes: Some("line one\nline two".into()),
            ..Default::default()
        };
        assert_described(&event, TimelineField::ALL);
        let indicator = Indicator {
            value: "evil.example".into(),
            kind: IndicatorKind::Domain,
            tlp: Some(Tlp::Red),
            first_seen: Some("a".into()),
            last_seen: Some("b".into()),
            sightings: 2,
            note: "c".into(),
            added_by: "d".into(),
            added_at: "e".into(),
        };
        assert_described(&indicator, IndicatorField::ALL);
        let step = NextStep {
            status: StepStatus::Doing,
            due: Some("2026-11-23T00:00:00Z".into()),
            owner_role: Some(crate::Role::CommsLiaison),
            ..Default::default()
        };
        assert_described(&step, StepField::ALL);
        assert_eq!(StepField::Owner.label(), "Owner");
        let holder = RoleHolder {
            name: "Ana".into(),
            invite: "0123456789abcdef".into(),
            since: "now".into(),
        };
        assert_described::<_, NoField>(&holder, &[]);
    }

    #[test]
    fn an_entry_reads_back_as_it_was_written() {
        let inc = Incident::with_client_id(1);
        let step = NextStep {
            title: "Rotate the API key".into(),
            owner: "Ana".into(),
            owner_invite: "0123456789abcdef".into(),
            owner_role: Some(crate::Role::Scribe),
            status: StepStatus::Doing,
            due: Some("2026-11-23T00:00:00Z".into()),
            created_by: "Bo".into(),
            created_at: "2026-11-22T03:14:00Z".into(),
        };
        inc.add_entry("s1", &step);
        assert_eq!(inc.entry::<NextStep>("s1"), Some(step.clone()));
        assert_eq!(inc.entries::<NextStep>(), vec![("s1".to_string(), step)]);
        assert!(inc.set_field("s1", StepField::Owner, "Cy"));
        assert_eq!(inc.entry::<NextStep>("s1").unwrap().owner, "Cy");
        inc.remove_entry::<NextStep>("s1");
        assert_eq!(inc.entry::<NextStep>("s1"), None);
        assert!(!inc.set_field("s1", StepField::Owner, "Di"));
        assert!(inc.entries::<NextStep>().is_empty());
    }
}
