//! The timeline: what happened when, in one zone, and the kill chain by phase.
//!
//! Events are shown in the model's order (by when they happened) in the incident's display
//! zone. Each row is keyed by its id and a fingerprint of its content, so a change anywhere
//! re-renders only the rows it touched; a row shows text and opens its fields for correcting
//! only when asked, which keeps an incident with thousands of events light.

mod import;
mod row;
pub(super) mod shared;

use std::time::Duration;

use incident::{Incident, KillChainPhase, TimelineEvent};
use leptos::either::Either;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::{heading, watch};
use crate::form::{check, checked, focus_soon, set_value_of, value_of, Field, RowMemory};
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
}

/// Rows drawn at once when the timeline first shows; the rest follow in slices of
/// `MORE_ROWS`, each after the browser has had a turn.
const FIRST_ROWS: usize = 120;
const MORE_ROWS: usize = 250;
/// Beyond this many events, rows off screen are not laid out (CSS content-visibility).
const MANY_ROWS: usize = 150;
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
    let ctx = TimelineContext {
        open: open.clone(),
        zone: watch(&open, Incident::display_zone),
        indicators: indicators_memo(&open),
        memory: RowMemory::new(),
    };
    let zone = ctx.zone;
    let memory = ctx.memory;
    let count = move || events.with(|e| e.len());
    // Role hand-offs: drawn as one line each, hidden on this device when the person says so.
    let show_handoffs = RwSignal::new(prefs::show_role_handoffs());
    let handoffs =
        Memo::new(move |_| events.with(|e| e.iter().filter(|(_, e)| e.is_role_handoff()).count()));

    // A long timeline (or a big batch of events arriving at once) is drawn a slice at a time,
    // so the page answers at once and the rest follows between the person's own inputs;
    // afterwards every row is there. A few new events show at once.
    let rendered = RwSignal::new(0usize);
    let slice_pending = StoredValue::new(false);
    Effect::new(move |_| {
        let len = events.with(|e| e.len());
        let shown = rendered.get();
        if shown >= len {
            if shown > len {
                rendered.set(len);
            }
        } else if len - shown <= MORE_ROWS {
            rendered.set(len);
        } else if shown < FIRST_ROWS {
            rendered.set(FIRST_ROWS);
        } else if !slice_pending.get_value() {
            slice_pending.set_value(true);
            set_timeout(
                move || {
                    slice_pending.try_set_value(false);
                    rendered.try_update(|n| *n += MORE_ROWS);
                },
                Duration::ZERO,
            );
        }
    });
    let each = move || {
        let zone = zone.get();
        let shown = rendered.get();
        let hide_handoffs = !show_handoffs.get();
        events.with(|all| {
            all.iter()
                .take(shown)
                .filter(|(_, event)| !(hide_handoffs && event.is_role_handoff()))
                .map(|(id, event)| (id.clone(), event.clone(), zone.clone()))
                .collect::<Vec<_>>()
        })
    };
    let rows = {
        let ctx = ctx.clone();
        move |(id, event, zone): (String, TimelineEvent, String)| {
            if event.is_role_handoff() {
                Either::Left(view! { <HandoffRow id=id event=event zone=zone/> })
            } else {
                Either::Right(view! { <EventRow id=id event=event zone=zone ctx=ctx.clone()/> })
            }
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
                        n => format!(" · {n} events"),
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
            <ol
                class="tl-list"
                class:tl-many=move || { count() > MANY_ROWS }
                aria-label="Timeline events"
                aria-describedby="timeline-zone"
                on:focusin=move |ev| memory.focus_in(&ev)
            >
                <For
                    each=each
                    key=|(id, event, zone)| (id.clone(), event_fingerprint(event, zone))
                    children=rows
                />
            </ol>
            {move || (count() == 0).then(|| view! { <p class="empty">"Nothing on the timeline yet."</p> })}
        </section>
    }
}

/// The form at the top of the timeline: what happened and, if not now, when. The other
/// fields wait under "More details".
fn add_event(ctx: TimelineContext) -> impl IntoView {
    let zone = ctx.zone;
    let linked = RwSignal::new(Vec::<String>::new());
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
            <div class="ev-fields">{what.view()} {when.view()}</div>
            <details class="tl-more">
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
                {indicator_picker("tl-new".into(), ctx.indicators, linked, None)}
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
