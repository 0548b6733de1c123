//! Collections of entries: a root map from entry id to a map of fields. Each field of an
//! entry is a plain value (last writer wins) and merges on its own, so two people correcting
//! different fields of one entry both keep their change.

use yrs::{Any, Map, MapPrelim, MapRef, Out, ReadTxn, TransactionMut};

/// A string field of an entry, if it is set and is a string.
pub(crate) fn string<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> Option<String> {
    match entry.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// A whole-number field of an entry; 0 when missing or not a number.
pub(crate) fn count<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> u32 {
    match entry.get(txn, key) {
        Some(Out::Any(Any::Number(n))) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
        _ => 0,
    }
}

/// A flag field of an entry; false when missing.
pub(crate) fn flag<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> bool {
    matches!(entry.get(txn, key), Some(Out::Any(Any::Bool(true))))
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

/// Adds an entry made of `fields`.
pub(crate) fn insert(
    collection: &MapRef,
    txn: &mut TransactionMut,
    id: &str,
    fields: Vec<(&'static str, Any)>,
) {
    let prelim: MapPrelim = fields
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    collection.insert(txn, id, prelim);
}

/// Sets one field of an entry, unless it already holds that value (so nothing is sent).
/// Returns false when the entry no longer exists (someone deleted it).
pub(crate) fn set_field(
    collection: &MapRef,
    txn: &mut TransactionMut,
    id: &str,
    key: &str,
    value: Any,
) -> bool {
    let Some(entry) = get(collection, txn, id) else {
        return false;
    };
    let unchanged = matches!(entry.get(txn, key), Some(Out::Any(ref current)) if *current == value);
    if !unchanged {
        entry.insert(txn, key, value);
    }
    true
}
