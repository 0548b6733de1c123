//! One indicator: shown defanged, copied either way, corrected field by field.

use std::time::Duration;

use incident::indicator_value::defang;
use incident::{IndicatorField, IndicatorKind, Tlp};
use leptos::prelude::*;

use super::super::timeline::fields::{select_field, text_field, SelectField, TextField};
use super::super::timeline::shared::{
    confirm_delete, editable_time, focus_soon, read_optional_time, sentence, shown_time, RowMemory,
};
use super::{kind_options, Item};
use crate::incident_page::clipboard;
use crate::platform;
use crate::session::OpenIncident;

#[component]
pub(super) fn IndicatorRow(item: Item, open: OpenIncident, memory: RowMemory) -> impl IntoView {
    let Item {
        id,
        indicator,
        links,
        zone,
        incident_tlp,
    } = item;
    let dom = format!("i-{id}");
    memory.restore_focus(&format!("{dom}-"));
    let editing = RwSignal::new(memory.is_open(&id));
    let set_editing = {
        let id = id.clone();
        let dom = dom.clone();
        move |open: bool| {
            memory.set_open(&id, open);
            editing.set(open);
            focus_soon(format!("{dom}-{}", if open { "value" } else { "edit" }));
        }
    };
    let defanged = defang(&indicator.value, indicator.kind);
    let (tlp_class, tlp_text) = match indicator.tlp {
        Some(level) => (level.css_class(), format!("TLP:{}", level.as_str())),
        None => (
            incident_tlp.css_class(),
            format!("TLP:{} (incident)", incident_tlp.as_str()),
        ),
    };
    let mut seen = vec![if indicator.sightings == 1 {
        "Seen once".to_string()
    } else {
        format!("Seen {} times", indicator.sightings)
    }];
    if let Some(first) = &indicator.first_seen {
        seen.push(format!("first {}", shown_time(first, &zone)));
    }
    if let Some(last) = &indicator.last_seen {
        seen.push(format!("last {}", shown_time(last, &zone)));
    }
    if !indicator.added_by.is_empty() {
        seen.push(format!("added by {}", indicator.added_by));
    }
    let seen = seen.join(" · ");

    // Copying: a short confirmation, or the value laid out to copy by hand.
    let feedback = RwSignal::new(None::<String>);
    let manual = RwSignal::new(None::<String>);
    let manual_id = format!("{dom}-manual");
    let copy = {
        let manual_id = manual_id.clone();
        move |text: String, which: &'static str| {
            let manual_id = manual_id.clone();
            leptos::task::spawn_local(async move {
                match clipboard::write_text(&text).await {
                    Ok(()) => {
                        manual.try_set(None);
                        feedback.try_set(Some(format!("Copied the {which} value.")));
                        set_timeout(
                            move || {
                                feedback.try_set(None);
                            },
                            Duration::from_secs(4),
                        );
                    }
                    Err(why) => {
                        feedback.try_set(Some(format!(
                            "Could not copy ({why}). It is selected below: copy it by hand."
                        )));
                        manual.try_set(Some(text));
                        request_animation_frame(move || {
                            if let Some(input) =
                                platform::element_by_id::<web_sys::HtmlInputElement>(&manual_id)
                            {
                                let _ = input.focus();
                                input.select();
                            }
                        });
                    }
                }
            });
        }
    };
    let copy_defanged = {
        let copy = copy.clone();
        let text = defanged.clone();
        move |_| copy(text.clone(), "defanged")
    };
    let copy_raw = {
        let text = indicator.value.clone();
        move |_| copy(text.clone(), "raw")
    };
    let shown_id = format!("{dom}-shown");
    let edit_id = format!("{dom}-edit");
    let note = (!indicator.note.trim().is_empty()).then(|| indicator.note.clone());
    let events = (!links.is_empty()).then(|| {
        view! {
            <div class="ioc-events" data-testid="indicator-events">
                <span class="ioc-events-label">"In events:"</span>
                <ul>
                    {links
                        .into_iter()
                        .map(|(event_id, what)| view! { <li data-event-id=event_id>{what}</li> })
                        .collect_view()}
                </ul>
            </div>
        }
    });
    let kind = indicator.kind;
    let button = {
        let toggle = set_editing.clone();
        let described = shown_id.clone();
        move || {
            let open_now = editing.get();
            let toggle = toggle.clone();
            view! {
                <button
                    type="button"
                    class="ev-button"
                    id=edit_id.clone()
                    aria-describedby=described.clone()
                    aria-expanded=if open_now { "true" } else { "false" }
                    on:click=move |_| toggle(!open_now)
                >
                    {if open_now { "Close" } else { "Edit" }}
                </button>
            }
        }
    };
    let fields = {
        let id = id.clone();
        move || {
            editing.get().then(|| {
                let close = set_editing.clone();
                indicator_editor(
                    &id,
                    &indicator,
                    incident_tlp,
                    &zone,
                    open.clone(),
                    memory,
                    Callback::new(move |()| close(false)),
                )
            })
        }
    };
    view! {
        <li class="ioc" data-testid="indicator" data-indicator-id=id.clone() data-kind=kind.key()>
            <p class="ioc-head">
                <span class="ioc-kind" data-testid="indicator-kind">{kind.label()}</span>
                <code class="ioc-value" id=shown_id.clone() data-testid="indicator-value">{defanged}</code>
                <span class=format!("tlp-chip {tlp_class}") data-testid="indicator-tlp">{tlp_text}</span>
            </p>
            <p class="tl-meta">{seen}</p>
            {note.map(|n| view! { <p class="ioc-note">{n}</p> })}
            {events}
            <div class="ev-actions">
                <button type="button" class="ev-button" aria-describedby=shown_id.clone() on:click=copy_defanged>
                    "Copy defanged"
                </button>
                <button type="button" class="ev-button" aria-describedby=shown_id.clone() on:click=copy_raw>
                    "Copy raw"
                </button>
                {button}
            </div>
            <p class="ioc-copied" role="status">{move || feedback.get()}</p>
            {move || {
                let manual_id = manual_id.clone();
                manual
                    .get()
                    .map(|text| {
                        view! {
                            <div class="ev-field ioc-manual">
                                <label for=manual_id.clone()>"Copy it from here"</label>
                                <input id=manual_id type="text" readonly prop:value=text/>
                            </div>
                        }
                    })
            }}
            {fields}
        </li>
    }
}

/// The fields of one indicator, each written when it changes.
fn indicator_editor(
    id: &str,
    indicator: &incident::Indicator,
    incident_tlp: Tlp,
    zone: &str,
    open: OpenIncident,
    memory: RowMemory,
    close: Callback<()>,
) -> impl IntoView {
    let dom = format!("i-{id}");
    let id = id.to_string();
    let value = {
        let open = open.clone();
        let id = id.clone();
        TextField {
            value: defang(&indicator.value, indicator.kind),
            class: "ev-grow",
            exact: true,
            memory: Some(memory),
            commit: Some(Callback::new(move |typed: String| {
                let new_id = open
                    .incident
                    .correct_indicator_value(&id, &typed)
                    .map_err(|e| sentence(&e.to_string()))?;
                if new_id != id {
                    memory.set_open(&id, false);
                    memory.set_open(&new_id, true);
                    memory.will_focus(format!("i-{new_id}-value"));
                }
                Ok(())
            })),
            ..TextField::new(format!("{dom}-value"), "Value")
        }
    };
    let kind = {
        let open = open.clone();
        let id = id.clone();
        SelectField {
            id: format!("{dom}-kind"),
            label: "Type",
            lead: None,
            options: kind_options(),
            selected: indicator.kind.key().to_string(),
            commit: Some(Callback::new(move |value: String| {
                if let Some(kind) = IndicatorKind::from_key(&value) {
                    open.incident.set_indicator_kind(&id, kind);
                }
            })),
        }
    };
    let tlp = {
        let open = open.clone();
        let id = id.clone();
        SelectField {
            id: format!("{dom}-tlp"),
            label: "TLP",
            lead: Some(Signal::stored(format!(
                "Incident TLP ({})",
                incident_tlp.as_str()
            ))),
            options: Tlp::ALL
                .into_iter()
                .map(|l| (l.as_str(), l.as_str()))
                .collect(),
            selected: indicator.tlp.map_or("", Tlp::as_str).to_string(),
            commit: Some(Callback::new(move |value: String| {
                open.incident.set_indicator_tlp(&id, Tlp::parse(&value));
            })),
        }
    };
    // First seen, last seen: typed times, like the timeline's.
    let seen = |name: &str, label: &'static str, stored: &Option<String>, field: IndicatorField| {
        let open = open.clone();
        let id = id.clone();
        let zone = zone.to_string();
        text_field(TextField {
            value: stored
                .as_deref()
                .map(|s| editable_time(s, &zone))
                .unwrap_or_default(),
            placeholder: "e.g. 2026-11-22 03:14",
            class: "ev-time",
            memory: Some(memory),
            commit: Some(Callback::new(move |typed: String| {
                let at = read_optional_time(&typed, &zone)?;
                open.incident
                    .set_indicator_field(&id, field, at.as_deref().unwrap_or(""));
                Ok(())
            })),
            ..TextField::new(format!("{dom}-{name}"), label)
        })
    };
    let sightings = {
        let open = open.clone();
        let id = id.clone();
        TextField {
            value: indicator.sightings.to_string(),
            class: "ev-narrow",
            kind: "number",
            commit: Some(Callback::new(move |typed: String| {
                let n = typed
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| "Sightings is a whole number, 0 or more.".to_string())?;
                open.incident.set_indicator_sightings(&id, n);
                Ok(())
            })),
            ..TextField::new(format!("{dom}-sightings"), "Sightings")
        }
    };
    let note = {
        let open = open.clone();
        let id = id.clone();
        TextField {
            value: indicator.note.clone(),
            class: "ev-grow",
            kind: "textarea",
            memory: Some(memory),
            commit: Some(Callback::new(move |value: String| {
                open.incident
                    .set_indicator_field(&id, IndicatorField::Note, &value);
                Ok(())
            })),
            ..TextField::new(format!("{dom}-note"), "Note")
        }
    };
    let first = seen(
        "first",
        "First seen",
        &indicator.first_seen,
        IndicatorField::FirstSeen,
    );
    let last = seen(
        "last",
        "Last seen",
        &indicator.last_seen,
        IndicatorField::LastSeen,
    );
    let delete = Callback::new(move |()| {
        memory.set_open(&id, false);
        open.incident.remove_indicator(&id);
    });
    view! {
        <div class="ev-editor" role="group" aria-label="Correct this indicator">
            <div class="ev-fields">
                {text_field(value)}
                {select_field(kind)}
                {select_field(tlp)}
                {first}
                {last}
                {text_field(sightings)}
                {text_field(note)}
            </div>
            <div class="ev-actions">
                <button type="button" class="ev-button" on:click=move |_| close.run(())>
                    "Done"
                </button>
                {confirm_delete("indicator", format!("{dom}-delete"), delete)}
            </div>
        </div>
    }
}
