//! The timeline: what happened when, in one zone, and the kill chain by phase.
//!
//! Events are shown in the model's order (by when they happened) in the incident's display
//! zone. Only the rows near the screen are in the page (`super::windowed`); a filter on the
//! model (text, kill-chain phase, this device's choice) and "Go to" a date stand in for the
//! browser's find-in-page, which cannot see rows not drawn. Each row is keyed by its id and
//! a fingerprint of its content, so a change anywhere re-renders only the rows it touched; a
//! row shows text and opens its fields for correcting only when asked.

mod import;
mod row;
pub(super) mod shared;

use std::sync::Arc;

use incident::when::parse_stored;
use incident::{Incident, KillChainPhase, TimelineEvent};
use leptos::either::Either;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::windowed::{thousands, ViewerFind, Windowed};
use super::{heading, watch};
use crate::form::{check, checked, focus_soon, set_value_of, value_of, Field, RowMemory};
use crate::mention_picker::MentionPicker;
use crate::session::{use_incident, OpenIncident};
use crate::{platform, prefs};
use row::{EventRow, HandoffRow};
use shared::{
    events_memo, fingerprint, indicators_memo, read_optional_time, read_time, shown_time, Events,
    Iocs,
};

pub(super) use row::indicator_picker;

/// What every row of the timeline shares.
#[derive(Clone)]
pub(super) struct TimelineContext {
    pub open: OpenIncident,
    pub zone: Memo<String>,
    pub indicators: Memo<Iocs>,
    pub memory: RowMemory,
    pub window: Windowed,
}

/// Brings an event's row into the page and hands it over once drawn (provided by the
/// timeline for what lives inside it, such as the hand-over, whose new event is far down).
#[derive(Clone, Copy)]
pub struct RevealEvent(Windowed, RwSignal<String>, RwSignal<String>);

impl RevealEvent {
    /// Shows the event `id` (clearing a filter that hides it); `then` runs once it is drawn.
    /// An event just written may reach the list a few frames later: it is looked for again.
    pub fn reveal(self, id: &str, then: impl FnOnce(web_sys::HtmlElement) + 'static) {
        self.look_for(id.to_string(), 30, Box::new(then));
    }

    fn look_for(self, id: String, tries: u32, then: Box<dyn FnOnce(web_sys::HtmlElement)>) {
        let RevealEvent(window, text, phase) = self;
        if window.ids.with_untracked(|ids| ids.contains(&id)) {
            window.reveal(&id, then);
            return;
        }
        if tries == 0 {
            return;
        }
        if !text.with_untracked(String::is_empty) || !phase.with_untracked(String::is_empty) {
            text.set(String::new());
            phase.set(String::new());
        }
        request_animation_frame(move || self.look_for(id, tries - 1, then));
    }
}

/// What the text filter looks in: an event's text, source, link, notes and author, in lower
/// case, one line each (so a match never spans two fields).
fn searched_text(event: &TimelineEvent) -> String {
    [
        event.what.as_str(),
        &event.source,
        &event.data_link,
        event.notes.as_deref().unwrap_or(""),
        &event.author,
    ]
    .join("\n")
    .to_lowercase()
}

/// Events listed under one kill-chain phase before "Show all".
const PHASE_ROWS: usize = 50;

/// The fingerprint of an event's content as drawn in `zone`.
fn event_fingerprint(event: &TimelineEvent, zone: &str) -> u64 {
    fingerprint((
        zone,
        &event.occurred_at,
        &event.occurred_zone,
        &event.occurred_original,
        &event.discovered_at,
        &event.what,
        &event.source,
        &event.data_link,
        event.phase,
        &event.indicators,
        &event.author,
        (event.include_in_report, event.tlp, &event.notes),
    ))
}

/// A kill-chain phase select ("—" is none), `phase` selected.
pub(super) fn phase_field(id: String, phase: &str) -> Field {
    let options = KillChainPhase::ALL
        .into_iter()
        .map(|p| (p.key(), p.label()));
    Field::ev(id, "Kill-chain phase")
        .select(Some(Signal::stored("—".to_string())), options.collect())
        .value(phase)
}

/// A TLP select whose first option ("" value) is the incident's own level, `tlp` selected.
pub(super) fn tlp_field(id: String, label: &'static str, tlp: Option<incident::Tlp>) -> Field {
    let options = incident::Tlp::ALL
        .into_iter()
        .map(|t| (t.as_str(), t.as_str()));
    Field::ev(id, label)
        .select(
            Some(Signal::stored("Incident's level".to_string())),
            options.collect(),
        )
        .value(tlp.map_or("", incident::Tlp::as_str))
}

/// "`what` (zone)": a label naming the display zone.
pub(super) fn zone_label(what: &'static str, zone: Memo<String>) -> Signal<String> {
    Signal::derive(move || format!("{what} ({})", zone.get()))
}

#[component]
pub fn Timeline() -> impl IntoView {
    let open = use_incident();
    let events = events_memo(&open);
    let zone = watch(&open, Incident::display_zone);
    let count = move || events.with(|e| e.len());
    // Role hand-offs: drawn as one line each, hidden on this device when the person says so.
    let show_handoffs = RwSignal::new(prefs::show_role_handoffs());
    let handoffs =
        Memo::new(move |_| events.with(|e| e.iter().filter(|(_, e)| e.is_role_handoff()).count()));
    // The filter, this device's (kept per incident in localStorage).
    let saved = prefs::list_filters(&open.id);
    let text = RwSignal::new(saved.timeline_text);
    let phase = RwSignal::new(saved.timeline_phase);
    {
        let id = open.id.clone();
        Effect::new(move |first: Option<()>| {
            let (t, p) = (text.get(), phase.get());
            if first.is_some() {
                let mut filters = prefs::list_filters(&id);
                filters.timeline_text = t;
                filters.timeline_phase = p;
                prefs::set_list_filters(&id, &filters);
            }
        });
    }
    // Each event's searched text, made once per change of the timeline (not per keystroke).
    let haystacks = Memo::new(move |_| {
        events.with(|all| {
            Arc::new(
                all.iter()
                    .map(|(_, e)| searched_text(e))
                    .collect::<Vec<_>>(),
            )
        })
    });
    // The events the list shows (indices into `events`), read from the model's snapshot.
    let filtered = Memo::new(move |_| {
        let hide_handoffs = !show_handoffs.get();
        let needle = text.with(|t| t.trim().to_lowercase());
        let phase = phase.with(|p| KillChainPhase::from_key(p));
        let texts = (!needle.is_empty()).then(|| haystacks.get());
        events.with(|all| {
            Arc::new(
                all.iter()
                    .enumerate()
                    .filter(|(_, (_, e))| !(hide_handoffs && e.is_role_handoff()))
                    .filter(|(_, (_, e))| phase.is_none() || e.phase == phase)
                    .filter(|(i, _)| texts.as_ref().is_none_or(|t| t[*i].contains(&needle)))
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>(),
            )
        })
    });
    let ids = Memo::new(move |_| {
        filtered
            .with(|f| events.with(|all| Arc::new(f.iter().map(|&i| all[i].0.clone()).collect())))
    });
    let window = Windowed::new(ids, "timeline-list", "data-event-id", 110.0);
    provide_context(RevealEvent(window, text, phase));
    super::go_to_thread::place_timeline(RevealEvent(window, text, phase));
    let ctx = TimelineContext {
        open: open.clone(),
        zone,
        indicators: indicators_memo(&open),
        memory: RowMemory::new(),
        window,
    };
    let memory = ctx.memory;
    let each = move || {
        // The snapshot first: read through the memos derived from it first, a new snapshot
        // would leave them unchanged and the rows would not be drawn again.
        events.track();
        let zone = zone.get();
        let range = window.shown();
        filtered.with(|f| {
            events.with(|all| {
                f[range]
                    .iter()
                    .map(|&i| (all[i].0.clone(), all[i].1.clone(), zone.clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let rows = {
        let ctx = ctx.clone();
        move |(id, event, zone): (String, TimelineEvent, String)| {
            if event.is_role_handoff() {
                Either::Left(view! { <HandoffRow id=id event=event zone=zone window=window/> })
            } else {
                Either::Right(view! { <EventRow id=id event=event zone=zone ctx=ctx.clone()/> })
            }
        }
    };
    let shown_count = move || filtered.with(|f| f.len());
    let has_events = Memo::new(move |_| count() > 0);
    let filter_here = ViewerFind::place(
        ViewerFind::TIMELINE,
        has_events,
        open.standing,
        ViewFn::from(move || timeline_filter(text, phase, zone, window, filtered, events)),
    );
    let filtering = move || text.with(|t| !t.trim().is_empty()) || phase.with(|p| !p.is_empty());
    let list_label = move || {
        let n = shown_count();
        let events = if n == 1 { "event" } else { "events" };
        if filtering() {
            format!(
                "Timeline — {} of {} events",
                thousands(n),
                thousands(count())
            )
        } else {
            format!("Timeline — {} {events}", thousands(n))
        }
    };
    view! {
        <section class="timeline card" aria-labelledby="h-timeline">
            {heading("timeline", "Timeline", "What happened, when. Type it as it comes in; fix the details later. Empty time means now.")}
            {add_event(ctx.clone())}
            {import::import_timeline(ctx.open.clone())}
            <super::handover::HandOver memory=ctx.memory/>
            <p class="tl-zone" id="timeline-zone" data-zone=move || zone.get()>
                {move || format!("Times in {}", zone.get())}
                <span class="tl-count">
                    {move || match count() {
                        0 => String::new(),
                        1 => " · 1 event".to_string(),
                        n => format!(" · {} events", thousands(n)),
                    }}
                    {move || match (show_handoffs.get(), handoffs.get()) {
                        (_, 0) | (true, _) => String::new(),
                        (false, 1) => " (1 role hand-off hidden)".to_string(),
                        (false, n) => format!(" ({n} role hand-offs hidden)"),
                    }}
                </span>
            </p>
            {move || (handoffs.get() > 0).then(|| check(
                "tl-show-handoffs".into(),
                "Show role hand-offs",
                "ev-check tl-handoff-toggle",
                show_handoffs.into(),
                Some(Callback::new(move |show: bool| {
                    prefs::set_show_role_handoffs(show);
                    show_handoffs.set(show);
                })),
            ))}
            {move || filter_here.get().then(|| timeline_filter(text, phase, zone, window, filtered, events))}
            <ol
                id="timeline-list"
                class="tl-list"
                role="list"
                data-windowed="true"
                aria-label=list_label
                aria-describedby="timeline-zone"
                style:padding-top=move || window.space_above()
                style:padding-bottom=move || window.space_below()
                on:focusin=move |ev| memory.focus_in(&ev)
                on:keydown=move |ev| window.on_key(&ev)
            >
                <For
                    each=each
                    key=|(id, event, zone)| (id.clone(), event_fingerprint(event, zone))
                    children=rows
                />
            </ol>
            {move || (!has_events.get()).then(|| view! { <p class="empty">"Nothing on the timeline yet."</p> })}
        </section>
    }
}

/// The timeline's filter (text, kill-chain phase) and "Go to" a date and time: they work on
/// the model, so they find rows that are not drawn.
fn timeline_filter(
    text: RwSignal<String>,
    phase: RwSignal<String>,
    zone: Memo<String>,
    window: Windowed,
    filtered: Memo<Arc<Vec<usize>>>,
    events: Memo<Events>,
) -> impl IntoView {
    let jump_problem = RwSignal::new(None::<String>);
    let phases = KillChainPhase::ALL.into_iter().map(|p| {
        let key = p.key();
        view! { <option value=key selected=move || phase.with(|s| s == key)>{p.label()}</option> }
    });
    let jump = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = value_of("tl-jump");
        let zone_now = zone.get_untracked();
        let at = match read_time(&typed, &zone_now) {
            Ok(at) if !typed.trim().is_empty() => at,
            Ok(_) => {
                jump_problem.set(Some("Type a date and time to go to.".to_string()));
                return;
            }
            Err(e) => {
                jump_problem.set(Some(e));
                return;
            }
        };
        let Some(wanted) = parse_stored(&at.utc) else {
            return;
        };
        // The first event shown at or after that time (else the last one).
        let found = filtered.with_untracked(|f| {
            events.with_untracked(|all| {
                f.iter()
                    .map(|&i| &all[i])
                    .find(|(_, e)| parse_stored(&e.occurred_at).is_some_and(|t| t >= wanted))
                    .or_else(|| f.last().map(|&i| &all[i]))
                    .map(|(id, _)| id.clone())
            })
        });
        match found {
            Some(id) => {
                jump_problem.set(None);
                window.reveal(&id, |row| {
                    let _ = row.focus();
                });
            }
            None => jump_problem.set(Some("No event shown to go to.".to_string())),
        }
    };
    let shown = move || {
        let (n, all) = (filtered.with(|f| f.len()), events.with(|e| e.len()));
        if text.with(|t| t.trim().is_empty()) && phase.with(String::is_empty) {
            String::new()
        } else if n == 0 {
            format!("No event of {} matches.", thousands(all))
        } else {
            format!("Showing {} of {} events.", thousands(n), thousands(all))
        }
    };
    view! {
        <div class="list-filter" role="search" aria-label="Find in the timeline">
            <div class="ev-fields">
                <div class="ev-field ev-grow">
                    <label for="tl-filter-text">"Find"</label>
                    <input
                        id="tl-filter-text"
                        type="search"
                        autocomplete="off"
                        placeholder="words in what happened, source, notes…"
                        prop:value=move || text.get()
                        on:input:target=move |ev| text.set(ev.target().value())
                    />
                </div>
                <div class="ev-field">
                    <label for="tl-filter-phase">"Phase"</label>
                    <select id="tl-filter-phase" on:change:target=move |ev| phase.set(ev.target().value())>
                        <option value="" selected=move || phase.with(String::is_empty)>"Any phase"</option>
                        {phases.collect_view()}
                    </select>
                </div>
            </div>
            <p class="list-filter-count" id="tl-filter-count" role="status">
                {shown}
                {move || (!text.with(|t| t.is_empty()) || !phase.with(String::is_empty)).then(|| view! {
                    " "
                    <button type="button" class="ev-button" id="tl-filter-clear" on:click=move |_| {
                        text.set(String::new());
                        phase.set(String::new());
                    }>"Show all"</button>
                })}
            </p>
            <form class="tl-jump" on:submit=jump aria-label="Go to a time">
                <div class="ev-field ev-time">
                    <label for="tl-jump">{move || format!("Go to ({})", zone.get())}</label>
                    <input id="tl-jump" type="text" autocomplete="off" placeholder="e.g. 2026-11-22 03:14"/>
                </div>
                <button type="submit" class="ev-button" id="tl-jump-go">"Go"</button>
                {move || jump_problem.get().map(|p| view! { <p class="problem" id="tl-jump-problem" role="alert">{p}</p> })}
            </form>
        </div>
    }
}

/// The form at the top of the timeline: what happened and, if not now, when. The other
/// fields wait under "More details".
fn add_event(ctx: TimelineContext) -> impl IntoView {
    let zone = ctx.zone;
    let linked = RwSignal::new(Vec::<String>::new());
    // Set once "More details" has been opened.
    let more_shown = RwSignal::new(false);
    let invited = crate::people::use_people();
    let what = Field::ev("tl-new-what", "What happened")
        .placeholder("e.g. Phishing mail reached 40 inboxes")
        .wrap("ev-field ev-grow");
    let when = Field::ev("tl-new-when", "")
        .label(zone_label("When", zone))
        .placeholder("now")
        .wrap("ev-field ev-time")
        .hint("Empty is now. e.g. 14:05 or 2026-11-22 03:14 Europe/Berlin");
    let discovered = Field::ev("tl-new-discovered", "Discovered at")
        .placeholder("when we found out")
        .wrap("ev-field ev-time");
    let (what_problem, when_problem, discovered_problem) =
        (what.problem(), when.problem(), discovered.problem());
    let open = ctx.open.clone();
    let ctx_indicators = ctx.indicators;
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let zone_now = zone.get_untracked();
        let text = value_of("tl-new-what");
        what_problem.set(
            text.trim()
                .is_empty()
                .then(|| "Say what happened first.".to_string()),
        );
        let occurred = read_time(&value_of("tl-new-when"), &zone_now);
        when_problem.set(occurred.as_ref().err().cloned());
        let discovered_at = read_optional_time(&value_of("tl-new-discovered"), &zone_now);
        discovered_problem.set(discovered_at.as_ref().err().cloned());
        let (Ok(occurred), Ok(discovered_at)) = (occurred, discovered_at) else {
            return;
        };
        if text.trim().is_empty() {
            focus_soon("tl-new-what".to_string());
            return;
        }
        let event = TimelineEvent {
            occurred_at: occurred.utc,
            occurred_zone: occurred.zone,
            occurred_original: Some(occurred.original).filter(|o| !o.is_empty()),
            discovered_at,
            what: text.trim().to_string(),
            source: value_of("tl-new-source").trim().to_string(),
            data_link: value_of("tl-new-link").trim().to_string(),
            phase: KillChainPhase::from_key(&value_of("tl-new-phase")),
            // Only indicators that still exist (one may have been removed since it was ticked).
            indicators: linked
                .get_untracked()
                .into_iter()
                .filter(|l| ctx_indicators.with_untracked(|all| all.iter().any(|(i, _)| i == l)))
                .collect(),
            author: prefs::display_name().trim().to_string(),
            include_in_report: checked("tl-new-report"),
            // Marked later, in the event's fields, when it needs its own level.
            tlp: None,
            notes: Some(value_of("tl-new-notes").trim().to_string()).filter(|n| !n.is_empty()),
        };
        open.incident
            .add_timeline_event(&platform::new_id(), &event);
        for id in [
            "tl-new-what",
            "tl-new-when",
            "tl-new-discovered",
            "tl-new-source",
            "tl-new-link",
            "tl-new-phase",
            "tl-new-notes",
        ] {
            set_value_of(id, "");
        }
        set_value_of("tl-new-report", "on");
        linked.set(Vec::new());
        focus_soon("tl-new-what".to_string());
    };
    view! {
        <form class="tl-add" on:submit=add aria-label="Add a timeline event">
            <div class="ev-fields">
                <MentionPicker people=invited class="ev-grow">{what.view()}</MentionPicker>
                {when.view()}
            </div>
            <details
                class="tl-more"
                on:toggle=move |ev| {
                    if ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|d| d.has_attribute("open"))
                    {
                        more_shown.set(true);
                    }
                }
            >
                <summary>"More details"</summary>
                <div class="ev-fields">
                    {discovered.view()}
                    {Field::ev("tl-new-source", "Source").placeholder("e.g. mail gateway log").view()}
                    {Field::ev("tl-new-link", "How do we know?")
                        .placeholder("link or path to the evidence")
                        .wrap("ev-field ev-grow")
                        .view()}
                    {phase_field("tl-new-phase".into(), "").view()}
                    {Field::ev("tl-new-notes", "Notes")
                        .textarea("4")
                        .placeholder("longer text, lines kept")
                        .wrap("ev-field ev-grow")
                        .view()}
                </div>
                {check("tl-new-report".into(), "Include in report", "ev-check", Signal::stored(true), None)}
                // Drawn once "More details" is first opened: with thousands of indicators
                // the picker is most of the page's elements.
                {move || {
                    more_shown
                        .get()
                        .then(|| indicator_picker("tl-new".into(), ctx.indicators, linked, None))
                }}
            </details>
            <button type="submit" class="ev-add">"Add event"</button>
        </form>
    }
}

/// The timeline again, grouped under the seven phases of the Lockheed Martin kill chain.
#[component]
pub fn KillChainByPhase() -> impl IntoView {
    let open = use_incident();
    let events = events_memo(&open);
    let zone = watch(&open, Incident::display_zone);
    view! {
        <section class="kill-chain card" aria-labelledby="h-kill-chain">
            {heading("kill-chain", "Kill chain by phase", "Timeline events that have a kill-chain phase, grouped by it. Set an event's phase on the timeline.")}
            <ol class="kc-phases">
                {KillChainPhase::ALL
                    .into_iter()
                    .map(|phase| phase_group(phase, events, zone))
                    .collect_view()}
            </ol>
        </section>
    }
}

fn phase_group(phase: KillChainPhase, events: Memo<Events>, zone: Memo<String>) -> impl IntoView {
    // (id, when, what) of this phase's events, in timeline order.
    let mine = Memo::new(move |_| {
        events.with(|all| {
            all.iter()
                .filter(|(_, e)| e.phase == Some(phase))
                .map(|(id, e)| (id.clone(), e.occurred_at.clone(), e.what.clone()))
                .collect::<Vec<_>>()
        })
    });
    let all_shown = RwSignal::new(false);
    let heading = format!("kc-{}", phase.key());
    let list = {
        let heading = heading.clone();
        move || {
            let zone = zone.get();
            let cap = if all_shown.get() {
                usize::MAX
            } else {
                PHASE_ROWS
            };
            mine.with(|m| {
                if m.is_empty() {
                    return Either::Left(view! { <p class="empty">"Nothing yet"</p> });
                }
                let items = m
                    .iter()
                    .take(cap)
                    .map(|(id, at, what)| {
                        view! {
                            <li data-testid="kill-chain-event" data-event-id=id.clone()>
                                <span class="kc-time">{shown_time(at, &zone)}</span>
                                " "
                                <span class="kc-what">{what.clone()}</span>
                            </li>
                        }
                    })
                    .collect_view();
                let more = (m.len() > cap).then(|| {
                    view! {
                        <button type="button" class="ev-button" on:click=move |_| all_shown.set(true)>
                            {format!("Show all {}", m.len())}
                        </button>
                    }
                });
                Either::Right(view! {
                    <ul class="kc-events" aria-labelledby=heading.clone()>
                        {items}
                    </ul>
                    {more}
                })
            })
        }
    };
    view! {
        <li class="kc-phase" data-testid="kill-chain-phase" data-phase=phase.key()>
            <h3 id=heading>{phase.label()}</h3>
            {list}
        </li>
    }
}
