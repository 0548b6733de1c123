//! What the timeline, the kill-chain view and the indicators share: one read of the model per
//! change of the collection, typed times, row fingerprints, and the focus and half-typed text a row keeps
//! while it is re-rendered.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use incident::when::{format_in_zone, parse_stored, parse_time};
use incident::{Incident, Indicator, TimelineEvent, Tlp, TypedTime};
use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

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

/// The timeline in display order, read once per change however many views show it.
pub fn events_memo(open: &OpenIncident) -> Memo<Events> {
    on_cleanup(forget_reads);
    let open = open.clone();
    Memo::new(move |_| {
        open.revision.track();
        // Typing elsewhere bumps the revision but not the timeline's version: the same
        // snapshot (the same Arc) comes back and nothing downstream re-renders.
        let version = open.incident.timeline_version();
        cached(&EVENTS, &open, version, Incident::timeline)
    })
}

/// The indicators in display order, read once per change.
pub fn indicators_memo(open: &OpenIncident) -> Memo<Iocs> {
    on_cleanup(forget_reads);
    let open = open.clone();
    Memo::new(move |_| {
        open.revision.track();
        let version = open.incident.indicators_version();
        cached(&INDICATORS, &open, version, Incident::indicators)
    })
}

/// The zone every time is shown in.
pub fn zone_memo(open: &OpenIncident) -> Memo<String> {
    let open = open.clone();
    Memo::new(move |_| {
        open.revision.track();
        open.incident.display_zone()
    })
}

/// The incident's own TLP level (what an indicator without its own level has).
pub fn tlp_memo(open: &OpenIncident) -> Memo<Tlp> {
    let open = open.clone();
    Memo::new(move |_| {
        open.revision.track();
        open.incident.tlp()
    })
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

/// Moves focus to the element with this id once it is on the page.
pub fn focus_soon(id: String) {
    request_animation_frame(move || {
        if let Some(el) = platform::element_by_id::<web_sys::HtmlElement>(&id) {
            let _ = el.focus();
        }
    });
}

/// What a list remembers across re-rendering one of its rows: which field had focus, and text
/// typed into a field but not committed yet. A row is rebuilt when its content changes
/// (someone else's edit, or this person's own commit of another field); with this, the
/// person typing keeps their place and their words.
#[derive(Clone, Copy)]
pub struct RowMemory {
    /// Rows whose fields are open for correcting.
    open: StoredValue<HashSet<String>>,
    focused: StoredValue<Option<String>>,
    drafts: StoredValue<HashMap<String, String>>,
    problems: StoredValue<HashMap<String, String>>,
}

impl RowMemory {
    pub fn new() -> Self {
        RowMemory {
            open: StoredValue::new(HashSet::new()),
            focused: StoredValue::new(None),
            drafts: StoredValue::new(HashMap::new()),
            problems: StoredValue::new(HashMap::new()),
        }
    }

    /// Whether the row `id` has its fields open.
    pub fn is_open(&self, id: &str) -> bool {
        self.open.with_value(|o| o.contains(id))
    }

    pub fn set_open(&self, id: &str, open: bool) {
        self.open.update_value(|o| {
            if open {
                o.insert(id.to_string());
            } else {
                o.remove(id);
            }
        });
    }

    /// For the list's `focusin`: remembers the focused field.
    pub fn focus_in(&self, ev: &web_sys::Event) {
        let id = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.id())
            .filter(|id| !id.is_empty());
        if id.is_some() {
            self.focused.set_value(id);
        }
    }

    /// Points the focus memory at a field (a row about to be rebuilt under a new id).
    pub fn will_focus(&self, id: String) {
        self.focused.set_value(Some(id));
    }

    /// Text typed into the field `id` and not committed yet.
    pub fn draft(&self, id: &str) -> Option<String> {
        self.drafts.with_value(|d| d.get(id).cloned())
    }

    pub fn set_draft(&self, id: &str, value: String) {
        self.drafts.update_value(|d| {
            d.insert(id.to_string(), value);
        });
    }

    pub fn clear_draft(&self, id: &str) {
        self.drafts.update_value(|d| {
            d.remove(id);
        });
    }

    /// Why the value typed into the field `id` was refused, if it was.
    pub fn problem(&self, id: &str) -> Option<String> {
        self.problems.with_value(|p| p.get(id).cloned())
    }

    /// Remembers (or forgets) why the text in the field `id` was refused.
    pub fn note_problem(&self, id: &str, problem: Option<String>) {
        self.problems.update_value(|p| match problem {
            Some(message) => {
                p.insert(id.to_string(), message);
            }
            None => {
                p.remove(id);
            }
        });
    }

    /// The value a field of a freshly built row starts with: a draft, else the stored one.
    pub fn value_or_draft(&self, id: &str, stored: String) -> String {
        self.draft(id).unwrap_or(stored)
    }

    /// Called when a row is built: if the field that had focus belongs to this row (ids
    /// starting with `prefix`) and focus fell to the page, puts it back.
    pub fn restore_focus(&self, prefix: &str) {
        let mine = self
            .focused
            .with_value(|f| f.as_deref().is_some_and(|id| id.starts_with(prefix)));
        if !mine {
            return;
        }
        let focused = self.focused;
        request_animation_frame(move || {
            let document = platform::document();
            let lost = match document.active_element() {
                None => true,
                Some(active) => document.body().is_some_and(|body| {
                    let body: &web_sys::Element = body.as_ref();
                    *body == active
                }),
            };
            if !lost {
                return;
            }
            if let Some(id) = focused.get_value() {
                if let Some(el) = platform::element_by_id::<web_sys::HtmlElement>(&id) {
                    let _ = el.focus();
                }
            }
        });
    }
}

/// A Delete button that asks first, in the page: "Delete this …? Yes / No".
pub fn confirm_delete(what: &'static str, id: String, on_delete: Callback<()>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let question_id = format!("{id}-question");
    let yes_id = format!("{id}-yes");
    let body = move || {
        if asking.get() {
            let back = id.clone();
            Either::Left(view! {
                <span class="ev-question" id=question_id.clone()>
                    {format!("Delete this {what}?")}
                </span>
                <button
                    type="button"
                    class="ev-button ev-danger"
                    id=yes_id.clone()
                    aria-describedby=question_id.clone()
                    on:click=move |_| on_delete.run(())
                >
                    "Yes"
                </button>
                <button
                    type="button"
                    class="ev-button"
                    aria-describedby=question_id.clone()
                    on:click=move |_| {
                        asking.set(false);
                        focus_soon(back.clone());
                    }
                >
                    "No"
                </button>
            })
        } else {
            let yes = yes_id.clone();
            Either::Right(view! {
                <button
                    type="button"
                    class="ev-button ev-danger-outline"
                    id=id.clone()
                    on:click=move |_| {
                        asking.set(true);
                        focus_soon(yes.clone());
                    }
                >
                    "Delete"
                </button>
            })
        }
    };
    view! { <div class="ev-confirm">{body}</div> }
}
