//! "Hand over" (in the timeline section): at the end of a shift, one timeline event ("Shift hand-off — NAME", at now)
//! whose notes say who holds which role, what is still open, the next steps by owner (late
//! first) and what changed during the shift (`incident::history::handoff_event`). The event
//! opens for editing at once: the note is a draft for the person handing over.
//!
//! What changed is counted from the incident as it stood when the shift started. Online, an
//! owner or editor gets that from the relay's record (`history/state?at=`); otherwise, or when
//! the relay cannot be asked, from this device's read mark ("Since you were last here"), whose
//! copy already holds this person's own edits, so it then lists other people's changes since
//! the mark. The shift's start defaults to the read mark's time, else 8 hours ago.

use chrono::{Duration, SecondsFormat};
use incident::history::handoff_event;
use incident::{when, Incident, UpdateOrigin};
use leptos::prelude::*;

use super::catch_up::read_mark;
use super::timeline::shared::{editable_time, read_time};
use crate::access;
use crate::form::{Field, RowMemory};
use crate::on_demand::on_demand;
use crate::session::{use_incident, OpenIncident, Standing};
use crate::{platform, prefs};

/// How long a shift is taken to have lasted when this device has no read mark.
const DEFAULT_SHIFT_HOURS: i64 = 8;

/// When the shift started, by default: this device's read mark, else 8 hours ago (UTC).
async fn default_start(id: &str) -> String {
    if let Some((at, _)) = read_mark(id).await {
        if when::parse_stored(&at).is_some() {
            return at;
        }
    }
    let now = when::parse_stored(&platform::now_rfc3339()).unwrap_or_default();
    (now - Duration::hours(DEFAULT_SHIFT_HOURS)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "Hand over" in the timeline, for those who may edit: opens the form (when the shift
/// started, "Write the hand-off"). `memory` is the timeline's, so the new event opens.
#[component]
pub fn HandOver(memory: RowMemory) -> impl IntoView {
    let standing = use_incident().standing;
    let open_panel = RwSignal::new(false);
    move || {
        standing.get().may_edit().then(|| {
            view! {
                <div class="tl-handover">
                    <button
                        type="button"
                        id="handover-button"
                        class="ev-button"
                        aria-controls="handover-panel"
                        aria-expanded=move || open_panel.get().to_string()
                        on:click=move |_| open_panel.update(|o| *o = !*o)
                    >
                        "Hand over"
                    </button>
                    {on_demand(move || open_panel.get(), move || handover_panel(open_panel, memory))}
                </div>
            }
        })
    }
}

crate::on_demand::part! {
    /// The form and what writes the note are fetched the first time "Hand over" is pressed
    /// (`crate::on_demand`; kept by the service worker, so it opens offline too).
    fn handover_panel(open_panel: RwSignal<bool>, memory: RowMemory) -> AnyView {
        view! { <HandOverPanel open_panel=open_panel memory=memory/> }.into_any()
    }
}

/// The form, shown while `open_panel` is.
#[component]
fn HandOverPanel(open_panel: RwSignal<bool>, memory: RowMemory) -> impl IntoView {
    let open = use_incident();
    let zone = super::watch(&open, Incident::display_zone);
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let reveal = use_context::<super::timeline::RevealEvent>();
    // The default as shown (to the minute) and as it is (to the millisecond): left as shown,
    // the shift starts exactly at the mark.
    let default = StoredValue::new((String::new(), String::new()));
    // Each opening starts from the default again.
    {
        let id = open.id.clone();
        Effect::new(move |_| {
            if open_panel.get() {
                problem.set(None);
                outcome.set(None);
                let id = id.clone();
                // The mark is in the device's database: read, then shown.
                wasm_bindgen_futures::spawn_local(async move {
                    let start = default_start(&id).await;
                    let Some(zone) = zone.try_get_untracked() else {
                        return;
                    };
                    let shown = editable_time(&start, &zone);
                    typed.try_set(shown.clone());
                    default.try_set_value((shown, start));
                });
            }
        });
    }
    let write = {
        let open = open.clone();
        move |_| {
            problem.set(None);
            outcome.set(None);
            let zone = open.incident.display_zone();
            let typed = typed.get_untracked();
            let (default_shown, default_start) = default.get_value();
            let start = if typed.trim() == default_shown.trim() && !default_start.is_empty() {
                default_start
            } else {
                match read_time(&typed, &zone) {
                    Ok(t) => t.utc,
                    Err(e) => {
                        problem.set(Some(format!("Not a time: {e}.")));
                        return;
                    }
                }
            };
            let Some(start_ms) = when::parse_stored(&start).map(|t| t.timestamp_millis()) else {
                problem.set(Some("Not a time.".to_string()));
                return;
            };
            busy.set(true);
            let open = open.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let (state, from) = shift_start(&open, start_ms, &zone).await;
                busy.set(false);
                let now = platform::now_rfc3339();
                let event =
                    handoff_event(&open.incident, state.as_ref(), &prefs::display_name(), &now);
                let id = platform::new_id();
                memory.set_open(&id, true);
                open.incident.add_timeline_event(&id, &event);
                outcome.set(Some(from));
                // The new event is the latest, likely far down the windowed list: brought
                // into the page first.
                if let Some(reveal) = reveal {
                    reveal.reveal(&id, |_| {});
                }
                focus_when_drawn(format!("ev-{id}-notes"), 60);
            });
        }
    };
    let panel = move || {
        open_panel.get().then(|| {
            let write = write.clone();
            view! {
                <div id="handover-panel" class="handover-panel" role="group" aria-labelledby="handover-button">
                    <p class="hint">
                        "Writes a hand-off note into the timeline, as an event you can then edit: who holds which role, what is still open, the next steps by owner (late ones first) and what changed during your shift."
                    </p>
                    {Field::ev("handover-start", "")
                        .label(Signal::derive(move || format!("Shift started ({})", zone.get())))
                        .wrap("ev-field ev-time")
                        .two_way(typed)
                        .hint("Your last \u{201c}Mark as read\u{201d} on this device, else 8 hours ago.")
                        .view()}
                    <button type="button" id="handover-write" class="ev-add" on:click=write prop:disabled=move || busy.get()>
                        "Write the hand-off"
                    </button>
                    {move || problem.get().map(|p| view! { <p id="handover-problem" class="problem" role="alert">{p}</p> })}
                    {move || outcome.get().map(|o| view! { <p id="handover-result" role="status">{o}</p> })}
                </div>
            }
        })
    };
    panel
}

/// The incident as it stood at the shift's start, and a sentence saying where it came from.
async fn shift_start(open: &OpenIncident, start_ms: i64, zone: &str) -> (Option<Incident>, String) {
    let mark = read_mark(&open.id).await;
    let from_mark = |why: &str| {
        match &mark {
        Some((at, Some(state))) => (
            Some(copy(state)),
            format!(
                "Added to the timeline. What changed is counted from this device's copy at your mark ({}){why}; your own edits since are not listed.",
                when::format_in_zone(at, zone)
            ),
        ),
        _ => (
            None,
            format!("Added to the timeline. What changed during the shift is not known here{why}."),
        ),
    }
    };
    let may_ask =
        matches!(open.standing.get_untracked(), Standing::Member(role) if role.may_write());
    let held = prefs::access(&open.id);
    let (true, Some(held)) = (may_ask, held) else {
        return from_mark("");
    };
    if !platform::window().navigator().on_line() {
        return from_mark(", as this device is offline");
    }
    match access::state_at(&open.id, &held.token, start_ms).await {
        Ok(bytes) => {
            let then = Incident::new();
            if then.apply_update(&bytes, UpdateOrigin::Relay).is_ok()
                && then.schema_version().is_some()
            {
                (
                    Some(then),
                    "Added to the timeline. What changed is counted from the relay's record since the shift started.".to_string(),
                )
            } else {
                from_mark(", as the relay had nothing of the incident at the shift's start")
            }
        }
        Err(_) => from_mark(", as the relay's record could not be read"),
    }
}

fn copy(incident: &Incident) -> Incident {
    let copy = Incident::new();
    let _ = copy.apply_update(&incident.encode_state(), UpdateOrigin::Storage);
    copy
}

/// Focuses the element `id` once it is drawn, trying for a few frames.
fn focus_when_drawn(id: String, tries: u32) {
    request_animation_frame(
        move || match platform::element_by_id::<web_sys::HtmlElement>(&id) {
            Some(el) => {
                let _ = el.focus();
            }
            None if tries > 0 => focus_when_drawn(id, tries - 1),
            None => {}
        },
    );
}
