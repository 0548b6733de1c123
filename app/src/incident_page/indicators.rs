//! Indicators of compromise: typed, refanged on entry, shown defanged.
//!
//! Values are shown as text only (never markup) and defanged, so nobody clicks one by
//! accident; the real value is one "Copy raw" away.

mod row;

use std::collections::HashMap;

use incident::indicator_value::{detect, refang};
use incident::{Incident, Indicator, IndicatorKind, Tlp};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::timeline::shared::{events_memo, fingerprint, indicators_memo, sentence};
use super::{heading, watch};
use crate::form::{focus_soon, set_value_of, value_of, Field, RowMemory};
use crate::session::{use_incident, OpenIncident};
use crate::{platform, prefs};
use row::IndicatorRow;

/// The events that link an indicator: (event id, what happened).
pub(super) type Links = Vec<(String, String)>;

/// What a row is drawn from: the indicator, the events that link it, the display zone and
/// the incident's TLP level (all part of the row's key).
#[derive(Clone)]
struct Item {
    id: String,
    indicator: Indicator,
    links: Links,
    zone: String,
    incident_tlp: Tlp,
}

impl Item {
    fn key(&self) -> (String, u64) {
        let i = &self.indicator;
        let print = fingerprint((
            &i.value,
            i.kind,
            i.tlp,
            &i.first_seen,
            &i.last_seen,
            i.sightings,
            &i.note,
            &i.added_by,
            &i.added_at,
            &self.links,
            &self.zone,
            self.incident_tlp,
        ));
        (self.id.clone(), print)
    }
}

/// A type select; `lead` names a first option, "" (automatic).
fn kind_field(id: String, lead: Option<Signal<String>>) -> Field {
    let options = IndicatorKind::ALL.into_iter().map(|k| (k.key(), k.label()));
    Field::ev(id, "Type").select(lead, options.collect())
}

#[component]
pub fn Indicators() -> impl IntoView {
    let open = use_incident();
    let indicators = indicators_memo(&open);
    let events = events_memo(&open);
    let zone = watch(&open, Incident::display_zone);
    let incident_tlp = watch(&open, Incident::tlp);
    // Which events link each indicator, from the one timeline read (rather than one timeline
    // read per indicator).
    let links = Memo::new(move |_| {
        events.with(|all| {
            let mut links: HashMap<String, Links> = HashMap::new();
            for (event_id, event) in all.iter() {
                for ioc in &event.indicators {
                    let list = links.entry(ioc.clone()).or_default();
                    if !list.iter().any(|(e, _)| e == event_id) {
                        list.push((event_id.clone(), event.what.clone()));
                    }
                }
            }
            links
        })
    });
    let memory = RowMemory::new();
    let count = move || indicators.with(|i| i.len());
    let each = move || {
        let all = indicators.get();
        let zone = zone.get();
        let incident_tlp = incident_tlp.get();
        links.with(|links| {
            all.iter()
                .map(|(id, indicator)| Item {
                    id: id.clone(),
                    indicator: indicator.clone(),
                    links: links.get(id).cloned().unwrap_or_default(),
                    zone: zone.clone(),
                    incident_tlp,
                })
                .collect::<Vec<_>>()
        })
    };
    let rows = {
        let open = open.clone();
        move |item: Item| view! { <IndicatorRow item=item open=open.clone() memory=memory/> }
    };
    view! {
        <section class="indicators card" aria-labelledby="h-indicators">
            {heading("indicators", "Indicators of compromise", "Add them as you find them, defanged or not. They are stored as the real value and shown defanged, so nobody opens one by accident.")}
            {add_indicator(open.clone())}
            {paste_indicators(open.clone())}
            <ul class="ioc-list" aria-label="Indicators" on:focusin=move |ev| memory.focus_in(&ev)>
                <For each=each key=Item::key children=rows/>
            </ul>
            {move || (count() == 0).then(|| view! { <p class="empty">"No indicators yet."</p> })}
        </section>
    }
}

/// One indicator: a value, its type detected as it is typed (or chosen).
fn add_indicator(open: OpenIncident) -> impl IntoView {
    let detected = RwSignal::new(None::<IndicatorKind>);
    let value = Field::ev("ioc-new-value", "Indicator")
        .placeholder("e.g. hxxps://evil[.]example/login")
        .wrap("ev-field ev-grow")
        .exact()
        .on_input(move |typed| {
            let real = refang(&typed);
            detected.set((!real.is_empty()).then(|| detect(&real)));
        });
    let problem = value.problem();
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let chosen = IndicatorKind::from_key(&value_of("ioc-new-kind"));
        let result = open.incident.add_indicator(
            &value_of("ioc-new-value"),
            chosen,
            prefs::display_name().trim(),
            &platform::now_rfc3339(),
        );
        match result {
            Ok(_) => {
                set_value_of("ioc-new-value", "");
                set_value_of("ioc-new-kind", "");
                detected.set(None);
                problem.set(None);
            }
            Err(e) => problem.set(Some(sentence(&e.to_string()))),
        }
        focus_soon("ioc-new-value".to_string());
    };
    let detected_text = move || match detected.get() {
        Some(k) => format!("Detected: {}", k.label()),
        None => "The type is detected as you type.".to_string(),
    };
    let automatic = Signal::derive(move || match detected.get() {
        Some(k) => format!("Automatic ({})", k.label()),
        None => "Automatic".to_string(),
    });
    view! {
        <form class="ioc-add" on:submit=add aria-label="Add an indicator">
            <div class="ev-fields">
                {value.view()}
                {kind_field("ioc-new-kind".into(), Some(automatic)).view()}
            </div>
            <p class="ev-hint" id="ioc-new-detected" aria-live="polite">{detected_text}</p>
            <button type="submit" class="ev-add">"Add indicator"</button>
        </form>
    }
}

/// Many indicators at once, one per line (commas and spaces separate them too).
fn paste_indicators(open: OpenIncident) -> impl IntoView {
    let result = RwSignal::new(String::new());
    let paste = move |ev: SubmitEvent| {
        ev.prevent_default();
        let pasted = value_of("ioc-paste");
        if pasted.trim().is_empty() {
            result.set("Nothing to add: paste indicators first.".to_string());
            return;
        }
        let r = open.incident.paste_indicators(
            &pasted,
            prefs::display_name().trim(),
            &platform::now_rfc3339(),
        );
        result.set(format!(
            "Added {}, already known {}",
            r.added.len(),
            r.already_known.len()
        ));
        set_value_of("ioc-paste", "");
    };
    view! {
        <form class="ioc-paste" on:submit=paste aria-label="Paste indicators">
            {Field::new("ioc-paste", "Paste indicators, one per line")
                .textarea("4")
                .class("ioc-paste-text")
                .raw()
                .hint("Defanged is fine (hxxp, [.]); lines starting with # are skipped; known ones are not added twice.")
                .hint_class("ev-hint")
                .view()}
            <button type="submit" class="ev-add">"Add pasted indicators"</button>
            <p class="ioc-paste-result" id="ioc-paste-result" role="status">
                {move || result.get()}
            </p>
        </form>
    }
}
