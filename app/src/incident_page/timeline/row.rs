//! One timeline event: its text, and its fields when someone corrects it.

use incident::indicator_value::defang;
use incident::{KillChainPhase, TimelineEvent, TimelineField};
use leptos::either::Either;
use leptos::prelude::*;

use super::shared::{editable_time, read_time, shown_time, time_field, typed_as, Iocs};
use super::{phase_field, tlp_field, zone_label, TimelineContext};
use crate::form::{check, row_editor, Field, Opening};
use crate::incident_page::windowed::Windowed;

#[component]
pub(super) fn EventRow(
    id: String,
    event: TimelineEvent,
    /// The display zone the row is drawn in (part of the row's key).
    zone: String,
    ctx: TimelineContext,
) -> impl IntoView {
    let dom = format!("ev-{id}");
    let opening = Opening::new(ctx.memory, &id, &dom, "when");

    let at = event.occurred_at.clone();
    let when = shown_time(&at, &zone);
    let typed = typed_as(&event, &zone);
    let mut details = Vec::new();
    if !event.source.is_empty() {
        details.push(format!("Source: {}", event.source));
    }
    if !event.data_link.is_empty() {
        details.push(format!("How we know: {}", event.data_link));
    }
    if let Some(d) = &event.discovered_at {
        details.push(format!("discovered {}", shown_time(d, &zone)));
    }
    if !event.author.is_empty() {
        details.push(format!("by {}", event.author));
    }
    if !event.include_in_report {
        details.push("not in the report".to_string());
    }
    let details = details.join(" · ");
    let links = (!event.indicators.is_empty()).then(|| {
        let wanted = event.indicators.clone();
        let indicators = ctx.indicators;
        move || {
            indicators.with(|all| {
                let names: Vec<String> = wanted
                    .iter()
                    .filter_map(|w| {
                        all.iter()
                            .find(|(id, _)| id == w)
                            .map(|(_, i)| defang(&i.value, i.kind))
                    })
                    .collect();
                if names.is_empty() {
                    String::new()
                } else {
                    format!("Indicators: {}", names.join(", "))
                }
            })
        }
    });
    let what = if event.what.trim().is_empty() {
        "(nothing said)".to_string()
    } else {
        event.what.clone()
    };
    let notes = event.notes.clone();
    let phase = event.phase;
    let marking = event.tlp;
    let row_id = id.clone();
    let comment_target = incident::CommentTarget::Timeline(id.clone());
    let ctx_window = ctx.window;
    let byline = super::super::attribution::event(&id);
    let row_at = at.clone();
    let (position, size) = (ctx.window.position(id.clone()), ctx.window.size());
    let what_id = format!("{dom}-said");
    let what_el = what_id.clone();
    let editing = opening.editing;
    let attach_to = incident::AttachTarget::Event(id.clone());
    // Drawn light while the list is being scrolled (`Windowed::whole_row`): who wrote it, its
    // attachments and its comments come once it is made whole, and it stays whole.
    let set_whole = ctx.window.whole_row(&id);
    let whole = Memo::new(move |was: Option<&bool>| {
        was.copied().unwrap_or(false) || set_whole.get() || editing.get()
    });
    let may_edit = ctx.open.standing.get_untracked().may_edit();
    // The Edit button and, when open, the fields: one reactive spot per row.
    let actions = move || {
        let button = opening.button("ev-button tl-edit", what_id.clone());
        let editor = opening
            .editing
            .get()
            .then(|| event_editor(id.clone(), &event, ctx.clone(), opening.closer()));
        view! {
            {button}
            {editor}
        }
    };
    view! {
        <li
            class="tl-event"
            data-testid="timeline-event"
            data-event-id=row_id
            data-at=row_at
            tabindex="-1"
            aria-posinset=position
            aria-setsize=size
            data-light=move || (!whole.get()).then_some("true")
            on:focusin=move |_| set_whole.set(true)
        >
            <p class="tl-head">
                <time class="tl-time" datetime=at data-testid="event-time">
                    {when}
                </time>
                {typed.map(|t| view! { <span class="tl-typed">{t}</span> })}
                {phase.map(|p| view! { <span class="tl-phase" data-phase=p.key()>{p.label()}</span> })}
                {marking.map(|t| view! { <span class=format!("tlp-chip {}", t.css_class()) data-testid="event-tlp">{format!("TLP:{}", t.as_str())}</span> })}
            </p>
            <p class="tl-what" id=what_el data-testid="event-what">{what}</p>
            {notes.map(|n| view! { <p class="tl-notes" data-testid="event-notes">{n}</p> })}
            {(!details.is_empty()).then(|| view! { <p class="tl-meta">{details}</p> })}
            {links.map(|l| view! { <p class="tl-meta tl-links" data-testid="event-indicators">{l}</p> })}
            {move || {
                if whole.get() {
                    Either::Left(view! {
                        <super::super::attribution::Byline place=byline.clone()/>
                        <super::super::attachments::AttachmentsOn target=attach_to.clone() controls=Signal::derive(move || editing.get())/>
                    })
                } else {
                    // As high as an empty attachment list.
                    Either::Right(view! { <div class="attachments" aria-hidden="true"></div> })
                }
            }}
            {actions}
            {move || {
                if whole.get() {
                    Either::Left(view! { <super::super::comments::Comments target=comment_target.clone() window=ctx_window/> })
                } else {
                    // The Comment button's place, not a control until the row is whole.
                    Either::Right(may_edit.then(|| view! {
                        <button type="button" class="secondary comment-button" tabindex="-1" aria-hidden="true" inert="">"Comment"</button>
                    }))
                }
            }}
        </li>
    }
}

/// A role hand-off ("Bob took over as Incident commander from Alice"): one muted line, no
/// edit controls. It is the record of who was in charge when, not evidence, and stays out of
/// the report.
#[component]
pub(super) fn HandoffRow(
    id: String,
    event: TimelineEvent,
    /// The display zone the row is drawn in (part of the row's key).
    zone: String,
    window: Windowed,
) -> impl IntoView {
    let when = shown_time(&event.occurred_at, &zone);
    let (position, size) = (window.position(id.clone()), window.size());
    let at = event.occurred_at.clone();
    view! {
        <li
            class="tl-event tl-handoff"
            data-testid="timeline-event"
            data-handoff="true"
            data-event-id=id
            data-at=at
            tabindex="-1"
            aria-posinset=position
            aria-setsize=size
        >
            <time class="tl-time" datetime=event.occurred_at data-testid="event-time">
                {when}
            </time>
            " "
            <span class="tl-what" data-testid="event-what">{event.what}</span>
            <span class="sr-only">" (role hand-off, not in the report)"</span>
        </li>
    }
}

/// The fields of one event, each written when it changes (on leaving the field).
fn event_editor(
    id: String,
    event: &TimelineEvent,
    ctx: TimelineContext,
    close: Callback<()>,
) -> impl IntoView {
    let TimelineContext {
        open,
        zone,
        indicators,
        memory,
        ..
    } = ctx;
    let dom = format!("ev-{id}");
    let zone_now = zone.get_untracked();
    // Writes the event's `field` with what was typed, trimmed.
    let write = |field: TimelineField| {
        let (open, id) = (open.clone(), id.clone());
        move |value: String| {
            open.incident.set_timeline_field(&id, field, value.trim());
        }
    };
    let text = |name: &str, label: &'static str, value: &str, field: TimelineField| {
        Field::ev(format!("{dom}-{name}"), label)
            .value(value)
            .memory(memory)
            .on_change(write(field))
    };
    let when = {
        let (open, id) = (open.clone(), id.clone());
        Field::ev(format!("{dom}-when"), "")
            .label(zone_label("When", zone))
            .value(editable_time(&event.occurred_at, &zone_now))
            .wrap("ev-field ev-time")
            .memory(memory)
            .commit(Callback::new(move |typed: String| {
                if typed.trim().is_empty() {
                    return Err("Say when it happened (type “now” for now).".to_string());
                }
                let time = read_time(&typed, &zone.get_untracked())?;
                open.incident.set_timeline_time(&id, &time);
                Ok(())
            }))
    };
    let discovered = time_field(
        format!("{dom}-discovered"),
        "Discovered at",
        event.discovered_at.as_deref(),
        zone.into(),
        Callback::new(write(TimelineField::DiscoveredAt)),
    )
    .placeholder("when we found out")
    .memory(memory);
    let phase = {
        let write = write(TimelineField::Phase);
        phase_field(
            format!("{dom}-phase"),
            event.phase.map_or("", KillChainPhase::key),
        )
        .on_change(move |v| {
            write(
                KillChainPhase::from_key(&v)
                    .map_or("", KillChainPhase::key)
                    .into(),
            )
        })
    };
    let tlp = {
        let write = write(TimelineField::Tlp);
        tlp_field(format!("{dom}-tlp"), "TLP", event.tlp).on_change(move |v: String| {
            write(
                incident::Tlp::parse(&v)
                    .map_or("", incident::Tlp::as_str)
                    .into(),
            )
        })
    };
    let in_report = {
        let (open, id) = (open.clone(), id.clone());
        Callback::new(move |include: bool| {
            open.incident.set_timeline_in_report(&id, include);
        })
    };
    let linked = RwSignal::new(event.indicators.clone());
    let set_links = {
        let (open, id) = (open.clone(), id.clone());
        Callback::new(move |links: Vec<String>| {
            open.incident.set_timeline_indicators(&id, &links);
        })
    };
    let fields = view! {
        {when.view()}
        {text("what", "What happened", &event.what, TimelineField::What).wrap("ev-field ev-grow").view()}
        {discovered.view()}
        {text("source", "Source", &event.source, TimelineField::Source).view()}
        {text("link", "How do we know?", &event.data_link, TimelineField::DataLink).view()}
        {phase.view()}
        {tlp.view()}
        {text("author", "Author", &event.author, TimelineField::Author).view()}
        {text("notes", "Notes", event.notes.as_deref().unwrap_or(""), TimelineField::Notes)
            .textarea("10")
            .wrap("ev-field ev-grow")
            .view()}
    };
    let report = Signal::stored(event.include_in_report);
    let after = view! {
        {check(format!("{dom}-report"), "Include in report", "ev-check", report, Some(in_report))}
        {indicator_picker(dom.clone(), indicators, linked, Some(set_links))}
    };
    let delete = Callback::new(move |()| {
        memory.set_open(&id, false);
        open.incident.remove_timeline_event(&id);
    });
    row_editor(
        "Correct this event",
        "event",
        &dom,
        fields,
        after,
        close,
        delete,
    )
}

/// Above this many indicators a row editor's picker draws only the event's linked ones until
/// asked: a filter box, or "Show all", draws the rest.
const PICKER_ALL_AT_ONCE: usize = 50;
/// Most matches a picker's filter draws at a time.
const PICKER_MATCHES: usize = 50;

/// Checkboxes over the incident's indicators: which ones an event involves. `on_change` gets
/// the new selection after every change. With `on_change` (a row editor) and more than
/// [`PICKER_ALL_AT_ONCE`] indicators, only the linked ones are drawn until the filter or
/// "Show all" asks for more.
pub fn indicator_picker(
    prefix: String,
    indicators: Memo<Iocs>,
    selected: RwSignal<Vec<String>>,
    on_change: Option<Callback<Vec<String>>>,
) -> impl IntoView {
    let on_demand = on_change.is_some();
    // The ones linked when the editor opened stay drawn even once unticked.
    let pinned = StoredValue::new(selected.get_untracked());
    let show_all = RwSignal::new(false);
    let filter = RwSignal::new(String::new());
    let filter_id = format!("{prefix}-iocs-filter");
    let all_id = format!("{prefix}-iocs-all");
    let item_prefix = prefix.clone();
    let item = move |ioc: &String, indicator: &incident::Indicator| {
        let checkbox = format!("{item_prefix}-ioc-{ioc}");
        let label_for = checkbox.clone();
        let ioc = ioc.clone();
        let mine = ioc.clone();
        view! {
            <li>
                <label class="ev-check" for=label_for>
                    <input
                        id=checkbox
                        type="checkbox"
                        data-indicator-id=ioc.clone()
                        prop:checked=move || selected.with(|s| s.contains(&mine))
                        on:change:target=move |ev| {
                            let on = ev.target().checked();
                            selected.update(|s| {
                                s.retain(|x| *x != ioc);
                                if on {
                                    s.push(ioc.clone());
                                }
                            });
                            if let Some(f) = on_change {
                                f.run(selected.get_untracked());
                            }
                        }
                    />
                    <span class="ev-ioc-kind">{indicator.kind.label()}</span>
                    " "
                    <code class="ev-ioc-value">{defang(&indicator.value, indicator.kind)}</code>
                </label>
            </li>
        }
    };
    let list = move || {
        indicators.with(|all| {
            if all.is_empty() {
                return Either::Left(view! {
                    <p class="ev-hint">
                        "No indicators yet: add them under Indicators of compromise, then link them here."
                    </p>
                });
            }
            if !on_demand || all.len() <= PICKER_ALL_AT_ONCE || show_all.get() {
                let items = all.iter().map(|(ioc, i)| item(ioc, i)).collect_view();
                return Either::Right(Either::Left(view! { <ul class="ev-ioc-list">{items}</ul> }));
            }
            let needle = filter.with(|f| f.trim().to_lowercase());
            let linked = pinned.with_value(|p| {
                all.iter()
                    .filter(|(ioc, _)| p.contains(ioc))
                    .map(|(ioc, i)| item(ioc, i))
                    .collect_view()
            });
            let (matches, found) = if needle.is_empty() {
                (Vec::new(), 0)
            } else {
                let hits: Vec<_> = pinned.with_value(|p| {
                    all.iter()
                        .filter(|(ioc, _)| !p.contains(ioc))
                        .filter(|(_, i)| {
                            i.value.to_lowercase().contains(&needle)
                                || defang(&i.value, i.kind).to_lowercase().contains(&needle)
                        })
                        .collect()
                });
                let found = hits.len();
                let drawn = hits
                    .into_iter()
                    .take(PICKER_MATCHES)
                    .map(|(ioc, i)| item(ioc, i))
                    .collect::<Vec<_>>();
                (drawn, found)
            };
            let linked_count = pinned.with_value(|p| p.len());
            let summary = if needle.is_empty() {
                format!(
                    "Showing the {linked_count} linked of {} indicators. Find one to link, or show them all.",
                    all.len()
                )
            } else if found > PICKER_MATCHES {
                format!("{found} more match; showing the first {PICKER_MATCHES}. Narrow the search, or show them all.")
            } else {
                format!("{found} more match.")
            };
            Either::Right(Either::Right(view! {
                <p class="ev-hint" data-testid="picker-summary">{summary}</p>
                <ul class="ev-ioc-list">{linked}{matches}</ul>
            }))
        })
    };
    // A memo, so that indicators added elsewhere do not redraw the filter box being typed in.
    let many = Memo::new(move |_| {
        on_demand && !show_all.get() && indicators.with(|a| a.len() > PICKER_ALL_AT_ONCE)
    });
    let count = move || indicators.with(|a| a.len());
    let controls = move || {
        many.get().then(|| {
            let (filter_id, all_id) = (filter_id.clone(), all_id.clone());
            view! {
                <div class="ev-iocs-find">
                    <label for=filter_id.clone()>"Find an indicator"</label>
                    <input
                        id=filter_id
                        type="search"
                        autocomplete="off"
                        prop:value=move || filter.get()
                        on:input:target=move |ev| filter.set(ev.target().value())
                    />
                    <button id=all_id type="button" on:click=move |_| show_all.set(true)>
                        {move || format!("Show all {} indicators", count())}
                    </button>
                </div>
            }
        })
    };
    view! {
        <fieldset class="ev-iocs">
            <legend>"Linked indicators"</legend>
            {controls}
            {list}
        </fieldset>
    }
}
