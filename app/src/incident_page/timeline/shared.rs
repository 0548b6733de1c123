//! What the timeline, the kill-chain view and the indicators share: one read of the model per
//! change of the collection, typed times (and the field they are typed in) and row
//! fingerprints.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use incident::when::{format_in_zone, parse_stored, parse_time};
use incident::{Incident, Indicator, TimelineEvent, TypedTime};
use leptos::prelude::*;

use crate::form::Field;
use crate::platform;
use crate::session::OpenIncident;

pub type Events = Arc<Vec<(String, TimelineEvent)>>;
pub type Iocs = Arc<Vec<(String, Indicator)>>;

/// The last read of a collection: which incident, at which version of it, and what it held.
struct Cached<T> {
    id: String,
    incident: usize,
    version: u64,
    value: Arc<T>,
}

type Slot<T> = RefCell<Option<Cached<Vec<(String, T)>>>>;

thread_local! {
    static EVENTS: Slot<TimelineEvent> = const { RefCell::new(None) };
    static INDICATORS: Slot<Indicator> = const { RefCell::new(None) };
}

fn cached<T>(
    slot: &'static std::thread::LocalKey<Slot<T>>,
    open: &OpenIncident,
    version: u64,
    read: impl FnOnce(&Incident) -> Vec<(String, T)>,
) -> Arc<Vec<(String, T)>> {
    let incident = std::ptr::from_ref::<Incident>(&open.incident) as usize;
    slot.with(|slot| {
        if let Some(c) = slot.borrow().as_ref() {
            if c.incident == incident && c.version == version && c.id == open.id {
                return c.value.clone();
            }
        }
        let value = Arc::new(read(&open.incident));
        *slot.borrow_mut() = Some(Cached {
            id: open.id.clone(),
            incident,
            version,
            value: value.clone(),
        });
        value
    })
}

/// Forgets the last reads; called when the views showing them go away, so an incident
/// opened next never starts from another's (or an earlier opening's) snapshot.
fn forget_reads() {
    EVENTS.with(|s| s.borrow_mut().take());
    INDICATORS.with(|s| s.borrow_mut().take());
}

/// A collection in display order, read once per change of it however many views show it.
/// It tracks only the collection's root (its version is read through `Session::read`): typing
/// elsewhere does not even run it.
fn collection<T: PartialEq + Send + Sync + 'static>(
    open: &OpenIncident,
    slot: &'static std::thread::LocalKey<Slot<T>>,
    version: fn(&Incident) -> u64,
    read: fn(&Incident) -> Vec<(String, T)>,
) -> Memo<Arc<Vec<(String, T)>>> {
    on_cleanup(forget_reads);
    let open = open.clone();
    Memo::new(move |_| {
        let version = open.read(version);
        cached(slot, &open, version, read)
    })
}

/// The timeline in display order.
pub fn events_memo(open: &OpenIncident) -> Memo<Events> {
    collection(
        open,
        &EVENTS,
        Incident::timeline_version,
        Incident::timeline,
    )
}

/// The indicators in display order.
pub fn indicators_memo(open: &OpenIncident) -> Memo<Iocs> {
    collection(
        open,
        &INDICATORS,
        Incident::indicators_version,
        Incident::indicators,
    )
}

/// A cheap fingerprint of a row's content, for keyed lists: a row re-renders only when its
/// fingerprint changes.
pub fn fingerprint(content: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    content.hash(&mut hasher);
    hasher.finish()
}

/// A time as typed, read in `zone` unless it names its own. Empty means now.
pub fn read_time(typed: &str, zone: &str) -> Result<TypedTime, String> {
    let now = parse_stored(&platform::now_rfc3339()).unwrap_or_default();
    parse_time(typed, zone, now).map_err(|e| e.to_string())
}

/// An optional time as typed: empty clears it.
pub fn read_optional_time(typed: &str, zone: &str) -> Result<Option<String>, String> {
    if typed.trim().is_empty() {
        return Ok(None);
    }
    read_time(typed, zone).map(|t| Some(t.utc))
}

/// A stored time as shown: `2026-11-22 03:14 CET`.
pub fn shown_time(utc: &str, zone: &str) -> String {
    format_in_zone(utc, zone)
}

/// A stored time as put into a field for correcting: the wall-clock time with the zone's
/// name (`2026-11-22 03:14 Europe/Berlin`), which reads back to the same minute.
pub fn editable_time(utc: &str, zone: &str) -> String {
    if utc.is_empty() || parse_stored(utc).is_none() {
        return utc.to_string();
    }
    let shown = format_in_zone(utc, zone);
    match shown.get(..16) {
        Some(local) => format!("{local} {zone}"),
        None => shown,
    }
}

/// A field of an optional time, in the timeline's look: `stored` shown as typed in `zone`,
/// and what is typed read in `zone` (unless it names its own) and given to `write` in the
/// stored form ("" when emptied, which clears it). A time it cannot read is refused.
pub fn time_field(
    id: String,
    label: &'static str,
    stored: Option<&str>,
    zone: Signal<String>,
    write: Callback<String>,
) -> Field {
    let shown = stored.map(|at| editable_time(at, &zone.get_untracked()));
    Field::ev(id, label)
        .value(shown.unwrap_or_default())
        .wrap("ev-field ev-time")
        .commit(Callback::new(move |typed: String| {
            let at = read_optional_time(&typed, &zone.get_untracked())?;
            write.run(at.unwrap_or_default());
            Ok(())
        }))
}

/// "Typed as …" for an event entered in a zone other than the one shown.
pub fn typed_as(event: &TimelineEvent, zone: &str) -> Option<String> {
    let typed_zone = event.occurred_zone.as_deref()?;
    if typed_zone.eq_ignore_ascii_case(zone) {
        return None;
    }
    let original = event.occurred_original.as_deref().unwrap_or("").trim();
    Some(if original.is_empty() {
        format!("typed in {typed_zone}")
    } else if original.to_lowercase().contains(&typed_zone.to_lowercase()) {
        format!("typed as {original}")
    } else {
        format!("typed as {original} ({typed_zone})")
    })
}

/// An error message from the model as a sentence.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => {
            let mut s: String = first.to_uppercase().collect();
            s.push_str(chars.as_str());
            if !s.ends_with('.') {
                s.push('.');
            }
            s
        }
        None => String::new(),
    }
}
