//! One indicator: shown defanged, copied either way, corrected field by field.

use std::time::Duration;

use incident::indicator_value::defang;
use incident::{IndicatorField, IndicatorKind, Tlp};
use leptos::either::Either;
use leptos::prelude::*;

use super::super::timeline::shared::{sentence, shown_time, time_field};
use super::{kind_field, Item};
use crate::form::{row_editor, Field, Opening, RowMemory};
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
        window,
    } = item;
    let (position, size) = (window.position(id.clone()), window.size());
    let dom = format!("i-{id}");
    let opening = Opening::new(memory, &id, &dom, "value");
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
        move || copy(text.clone(), "defanged")
    };
    let copy_raw = {
        let text = indicator.value.clone();
        move || copy(text.clone(), "raw")
    };
    let shown_id = format!("{dom}-shown");
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
        let (opening, described) = (opening.clone(), shown_id.clone());
        move || opening.button("ev-button", described.clone())
    };
    let editing = opening.editing;
    let attach_to = incident::AttachTarget::Indicator(id.clone());
    // Drawn light while the list is being scrolled (`Windowed::whole_row`): who added it,
    // its attachments and its comments come once it is made whole, and it stays whole.
    let set_whole = window.whole_row(&id);
    let whole = Memo::new(move |was: Option<&bool>| {
        was.copied().unwrap_or(false) || set_whole.get() || editing.get()
    });
    let may_edit = open.standing.get_untracked().may_edit();
    let comment_on = incident::CommentTarget::Indicator(id.clone());
    let place = super::super::attribution::indicator(&id);
    let fields = {
        let id = id.clone();
        move || {
            editing.get().then(|| {
                indicator_editor(
                    &id,
                    &indicator,
                    incident_tlp,
                    &zone,
                    open.clone(),
                    memory,
                    opening.closer(),
                )
            })
        }
    };
    view! {
        <li
            class="ioc"
            data-testid="indicator"
            data-indicator-id=id.clone()
            data-kind=kind.key()
            tabindex="-1"
            aria-posinset=position
            aria-setsize=size
            data-light=move || (!whole.get()).then_some("true")
            on:focusin=move |_| set_whole.set(true)
        >
            <p class="ioc-head">
                <span class="ioc-kind" data-testid="indicator-kind">{kind.label()}</span>
                <code class="ioc-value" id=shown_id.clone() data-testid="indicator-value">{defanged}</code>
                <span class=format!("tlp-chip {tlp_class}") data-testid="indicator-tlp">{tlp_text}</span>
            </p>
            <p class="tl-meta">{seen}</p>
            {note.map(|n| view! { <p class="ioc-note">{n}</p> })}
            {events}
            {move || {
                if whole.get() {
                    Either::Left(view! {
                        <super::super::attribution::Byline place=place.clone()/>
                        <super::super::attachments::AttachmentsOn target=attach_to.clone() controls=Signal::derive(move || editing.get())/>
                    })
                } else {
                    // As high as an empty attachment list.
                    Either::Right(view! { <div class="attachments" aria-hidden="true"></div> })
                }
            }}
            <div class="ev-actions">
                {copy_control("Copy defanged", shown_id.clone(), copy_defanged)}
                {copy_control("Copy raw", shown_id.clone(), copy_raw)}
                {button}
            </div>
            <p class="ioc-copied" role="status">{move || feedback.get()}</p>
            {move || {
                let manual_id = manual_id.clone();
                manual
                    .get()
                    .map(|text| {
                        Field::new(manual_id, "Copy it from here")
                            .wrap("ev-field ioc-manual")
                            .value(text)
                            .readonly()
                            .view()
                    })
            }}
            {fields}
            {move || {
                if whole.get() {
                    Either::Left(view! { <super::super::comments::Comments target=comment_on.clone() window=window/> })
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
    // Writes what was typed with `write`; its error is shown under the field.
    let commit = |write: fn(&OpenIncident, &str, String) -> Result<(), String>| {
        let (open, id) = (open.clone(), id.clone());
        Callback::new(move |typed: String| write(&open, &id, typed))
    };
    let value = Field::ev(format!("{dom}-value"), "Value")
        .value(defang(&indicator.value, indicator.kind))
        .wrap("ev-field ev-grow")
        .exact()
        .memory(memory)
        .commit({
            let (open, id) = (open.clone(), id.clone());
            Callback::new(move |typed: String| {
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
            })
        });
    let kind = kind_field(format!("{dom}-kind"), None)
        .value(indicator.kind.key())
        .commit(commit(|open, id, value| {
            if let Some(kind) = IndicatorKind::from_key(&value) {
                open.incident.set_indicator_kind(id, kind);
            }
            Ok(())
        }));
    let tlp = Field::ev(format!("{dom}-tlp"), "TLP")
        .select(
            Some(Signal::stored(format!(
                "Incident TLP ({})",
                incident_tlp.as_str()
            ))),
            Tlp::ALL
                .into_iter()
                .map(|l| (l.as_str(), l.as_str()))
                .collect(),
        )
        .value(indicator.tlp.map_or("", Tlp::as_str))
        .commit(commit(|open, id, value| {
            open.incident.set_indicator_tlp(id, Tlp::parse(&value));
            Ok(())
        }));
    // First seen, last seen: typed times, like the timeline's.
    let seen = |name: &str, label: &'static str, stored: &Option<String>, field: IndicatorField| {
        let (open, id) = (open.clone(), id.clone());
        let write = Callback::new(move |at: String| {
            open.incident.set_indicator_field(&id, field, &at);
        });
        let zone = Signal::stored(zone.to_string());
        time_field(
            format!("{dom}-{name}"),
            label,
            stored.as_deref(),
            zone,
            write,
        )
        .placeholder("e.g. 2026-11-22 03:14")
        .memory(memory)
        .view()
    };
    let sightings = Field::ev(format!("{dom}-sightings"), "Sightings")
        .value(indicator.sightings.to_string())
        .wrap("ev-field ev-narrow")
        .number()
        .commit(commit(|open, id, typed| {
            let n = typed
                .trim()
                .parse::<u32>()
                .map_err(|_| "Sightings is a whole number, 0 or more.".to_string())?;
            open.incident.set_indicator_sightings(id, n);
            Ok(())
        }));
    let note = Field::ev(format!("{dom}-note"), "Note")
        .value(indicator.note.clone())
        .wrap("ev-field ev-grow")
        .textarea("2")
        .memory(memory)
        .commit(commit(|open, id, value| {
            open.incident
                .set_indicator_field(id, IndicatorField::Note, &value);
            Ok(())
        }));
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
    let fields = view! {
        {value.view()}
        {kind.view()}
        {tlp.view()}
        {first}
        {last}
        {sightings.view()}
        {note.view()}
    };
    row_editor(
        "Correct this indicator",
        "indicator",
        &dom,
        fields,
        (),
        close,
        delete,
    )
}

/// A copy action that stays usable for viewers. The incident's body is a `<fieldset>` that is
/// disabled for them, and a disabled fieldset disables every `<button>` inside it; copying
/// changes nothing, so it is a button by role (clicked, or Enter / Space when focused)
/// rather than by element.
fn copy_control(
    label: &'static str,
    described_by: String,
    act: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let on_key = {
        let act = act.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" || ev.key() == " " {
                ev.prevent_default();
                act();
            }
        }
    };
    view! {
        <span
            role="button"
            tabindex="0"
            class="ev-button copy-button"
            aria-describedby=described_by
            on:click=move |_| act()
            on:keydown=on_key
        >
            {label}
        </span>
    }
}
