//! One timeline event: its text, and its fields when someone corrects it.

use incident::indicator_value::defang;
use incident::{KillChainPhase, TimelineEvent, TimelineField};
use leptos::either::Either;
use leptos::prelude::*;

use super::fields::{check_field, select_field, text_field, SelectField, TextField};
use super::shared::{
    confirm_delete, editable_time, focus_soon, read_optional_time, read_time, shown_time, typed_as,
    Iocs,
};
use super::{phase_options, TimelineContext};

#[component]
pub(super) fn EventRow(
    id: String,
    event: TimelineEvent,
    /// The display zone the row is drawn in (part of the row's key).
    zone: String,
    ctx: TimelineContext,
) -> impl IntoView {
    let memory = ctx.memory;
    let dom = format!("ev-{id}");
    memory.restore_focus(&format!("{dom}-"));
    let editing = RwSignal::new(memory.is_open(&id));
    let set_editing = {
        let id = id.clone();
        let dom = dom.clone();
        move |open: bool| {
            memory.set_open(&id, open);
            editing.set(open);
            focus_soon(format!("{dom}-{}", if open { "when" } else { "edit" }));
        }
    };

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
    let phase = event.phase;
    let row_id = id.clone();
    let row_at = at.clone();
    let what_id = format!("{dom}-said");
    let what_el = what_id.clone();
    let edit_id = format!("{dom}-edit");
    // The Edit button and, when open, the fields: one reactive spot per row.
    let actions = move || {
        let open = editing.get();
        let toggle = set_editing.clone();
        let button = view! {
            <button
                type="button"
                class="ev-button tl-edit"
                id=edit_id.clone()
                aria-expanded=if open { "true" } else { "false" }
                aria-describedby=what_id.clone()
                on:click=move |_| toggle(!open)
            >
                {if open { "Close" } else { "Edit" }}
            </button>
        };
        let editor = open.then(|| {
            let close = set_editing.clone();
            event_editor(
                id.clone(),
                &event,
                ctx.clone(),
                Callback::new(move |()| close(false)),
            )
        });
        view! {
            {button}
            {editor}
        }
    };
    view! {
        <li class="tl-event" data-testid="timeline-event" data-event-id=row_id data-at=row_at>
            <p class="tl-head">
                <time class="tl-time" datetime=at data-testid="event-time">
                    {when}
                </time>
                {typed.map(|t| view! { <span class="tl-typed">{t}</span> })}
                {phase.map(|p| view! { <span class="tl-phase" data-phase=p.key()>{p.label()}</span> })}
            </p>
            <p class="tl-what" id=what_el data-testid="event-what">{what}</p>
            {(!details.is_empty()).then(|| view! { <p class="tl-meta">{details}</p> })}
            {links.map(|l| view! { <p class="tl-meta tl-links" data-testid="event-indicators">{l}</p> })}
            {actions}
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
    } = ctx;
    let dom = format!("ev-{id}");
    let zone_now = zone.get_untracked();
    // A plain text field of the event.
    let text = |name: &str, label: &'static str, value: &str, field: TimelineField| {
        let open = open.clone();
        let id = id.clone();
        text_field(TextField {
            value: value.to_string(),
            class: if field == TimelineField::What {
                "ev-grow"
            } else {
                ""
            },
            memory: Some(memory),
            commit: Some(Callback::new(move |value: String| {
                open.incident.set_timeline_field(&id, field, value.trim());
                Ok(())
            })),
            ..TextField::new(format!("{dom}-{name}"), label)
        })
    };
    let when = {
        let open = open.clone();
        let id = id.clone();
        TextField {
            label: Signal::derive(move || format!("When ({})", zone.get())),
            value: editable_time(&event.occurred_at, &zone_now),
            class: "ev-time",
            memory: Some(memory),
            commit: Some(Callback::new(move |typed: String| {
                if typed.trim().is_empty() {
                    return Err("Say when it happened (type “now” for now).".to_string());
                }
                let time = read_time(&typed, &zone.get_untracked())?;
                open.incident.set_timeline_time(&id, &time);
                Ok(())
            })),
            ..TextField::new(format!("{dom}-when"), "")
        }
    };
    let discovered = {
        let open = open.clone();
        let id = id.clone();
        TextField {
            value: event
                .discovered_at
                .as_deref()
                .map(|d| editable_time(d, &zone_now))
                .unwrap_or_default(),
            placeholder: "when we found out",
            class: "ev-time",
            memory: Some(memory),
            commit: Some(Callback::new(move |typed: String| {
                let at = read_optional_time(&typed, &zone.get_untracked())?;
                open.incident.set_timeline_field(
                    &id,
                    TimelineField::DiscoveredAt,
                    at.as_deref().unwrap_or(""),
                );
                Ok(())
            })),
            ..TextField::new(format!("{dom}-discovered"), "Discovered at")
        }
    };
    let phase = {
        let open = open.clone();
        let id = id.clone();
        SelectField {
            id: format!("{dom}-phase"),
            label: "Kill-chain phase",
            lead: Some(Signal::stored("—".to_string())),
            options: phase_options(),
            selected: event.phase.map(KillChainPhase::key).unwrap_or("").into(),
            commit: Some(Callback::new(move |value: String| {
                let key = KillChainPhase::from_key(&value).map_or("", KillChainPhase::key);
                open.incident
                    .set_timeline_field(&id, TimelineField::Phase, key);
            })),
        }
    };
    let in_report = {
        let open = open.clone();
        let id = id.clone();
        Callback::new(move |include: bool| {
            open.incident.set_timeline_in_report(&id, include);
        })
    };
    let linked = RwSignal::new(event.indicators.clone());
    let set_links = {
        let open = open.clone();
        let id = id.clone();
        Callback::new(move |links: Vec<String>| {
            open.incident.set_timeline_indicators(&id, &links);
        })
    };
    let delete = {
        let open = open.clone();
        let id = id.clone();
        Callback::new(move |()| {
            memory.set_open(&id, false);
            open.incident.remove_timeline_event(&id);
        })
    };
    view! {
        <div class="ev-editor" role="group" aria-label="Correct this event">
            <div class="ev-fields">
                {text_field(when)}
                {text("what", "What happened", &event.what, TimelineField::What)}
                {text_field(discovered)}
                {text("source", "Source", &event.source, TimelineField::Source)}
                {text("link", "How do we know?", &event.data_link, TimelineField::DataLink)}
                {select_field(phase)}
                {text("author", "Author", &event.author, TimelineField::Author)}
            </div>
            {check_field(format!("{dom}-report"), "Include in report", event.include_in_report, Some(in_report))}
            {indicator_picker(dom.clone(), indicators, linked, Some(set_links))}
            <div class="ev-actions">
                <button type="button" class="ev-button" on:click=move |_| close.run(())>
                    "Done"
                </button>
                {confirm_delete("event", format!("{dom}-delete"), delete)}
            </div>
        </div>
    }
}

/// Checkboxes over the incident's indicators: which ones an event involves. `on_change` gets
/// the new selection after every change.
pub fn indicator_picker(
    prefix: String,
    indicators: Memo<Iocs>,
    selected: RwSignal<Vec<String>>,
    on_change: Option<Callback<Vec<String>>>,
) -> impl IntoView {
    let list = move || {
        indicators.with(|all| {
            if all.is_empty() {
                return Either::Left(view! {
                    <p class="ev-hint">
                        "No indicators yet: add them under Indicators of compromise, then link them here."
                    </p>
                });
            }
            let items = all
                .iter()
                .map(|(ioc, indicator)| {
                    let checkbox = format!("{prefix}-ioc-{ioc}");
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
                                <code class="ev-ioc-value">
                                    {defang(&indicator.value, indicator.kind)}
                                </code>
                            </label>
                        </li>
                    }
                })
                .collect_view();
            Either::Right(view! { <ul class="ev-ioc-list">{items}</ul> })
        })
    };
    view! {
        <fieldset class="ev-iocs">
            <legend>"Linked indicators"</legend>
            {list}
        </fieldset>
    }
}
