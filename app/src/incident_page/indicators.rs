//! Indicators of compromise: typed, refanged on entry, shown defanged.
//!
//! Values are shown as text only (never markup) and defanged, so nobody clicks one by
//! accident; the real value is one "Copy raw" away. Only the rows near the screen are in the
//! page (`super::windowed`); a filter on the model (text, type, TLP level; this device's
//! choice) stands in for the browser's find-in-page.

mod row;

use std::collections::HashMap;
use std::sync::Arc;

use incident::indicator_value::{defang, detect, refang};
use incident::{Incident, Indicator, IndicatorKind, Tlp};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::timeline::shared::{events_memo, fingerprint, indicators_memo, sentence};
use super::windowed::{thousands, ViewerFind, Windowed};
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
    window: Windowed,
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
    let has_indicators = Memo::new(move |_| count() > 0);
    // The filter, this device's (kept per incident in localStorage).
    let saved = prefs::list_filters(&open.id);
    let text = RwSignal::new(saved.indicator_text);
    let kind = RwSignal::new(saved.indicator_kind);
    let tlp = RwSignal::new(saved.indicator_tlp);
    {
        let id = open.id.clone();
        Effect::new(move |first: Option<()>| {
            let (t, k, l) = (text.get(), kind.get(), tlp.get());
            if first.is_some() {
                let mut filters = prefs::list_filters(&id);
                filters.indicator_text = t;
                filters.indicator_kind = k;
                filters.indicator_tlp = l;
                prefs::set_list_filters(&id, &filters);
            }
        });
    }
    // Each indicator's searched text, made once per change of the indicators.
    let haystacks = Memo::new(move |_| {
        indicators.with(|all| {
            Arc::new(
                all.iter()
                    .map(|(_, i)| searched_text(i))
                    .collect::<Vec<_>>(),
            )
        })
    });
    // The indicators the list shows (indices into `indicators`).
    let filtered = Memo::new(move |_| {
        let needle = text.with(|t| t.trim().to_lowercase());
        let kind = kind.with(|k| IndicatorKind::from_key(k));
        let level = tlp.with(|l| Tlp::parse(l));
        let incident_tlp = incident_tlp.get();
        let texts = (!needle.is_empty()).then(|| haystacks.get());
        indicators.with(|all| {
            Arc::new(
                all.iter()
                    .enumerate()
                    .filter(|(_, (_, i))| kind.is_none_or(|k| i.kind == k))
                    .filter(|(_, (_, i))| level.is_none_or(|l| i.tlp.unwrap_or(incident_tlp) == l))
                    .filter(|(n, _)| texts.as_ref().is_none_or(|t| t[*n].contains(&needle)))
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
        })
    });
    let ids = Memo::new(move |_| {
        filtered.with(|f| {
            indicators.with(|all| Arc::new(f.iter().map(|&n| all[n].0.clone()).collect()))
        })
    });
    let window = Windowed::new(ids, "indicator-list", "data-indicator-id", 130.0);
    super::go_to_thread::place_indicators(window);
    let each = move || {
        // The snapshots first (see the timeline's rows).
        indicators.track();
        links.track();
        let zone = zone.get();
        let incident_tlp = incident_tlp.get();
        let range = window.shown();
        filtered.with(|f| {
            indicators.with(|all| {
                links.with(|links| {
                    f[range]
                        .iter()
                        .map(|&n| {
                            let (id, indicator) = &all[n];
                            Item {
                                id: id.clone(),
                                indicator: indicator.clone(),
                                links: links.get(id).cloned().unwrap_or_default(),
                                zone: zone.clone(),
                                incident_tlp,
                                window,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
        })
    };
    let rows = {
        let open = open.clone();
        move |item: Item| view! { <IndicatorRow item=item open=open.clone() memory=memory/> }
    };
    let filter_here = ViewerFind::place(
        ViewerFind::INDICATORS,
        has_indicators,
        open.standing,
        ViewFn::from(move || indicator_filter(text, kind, tlp, filtered, indicators)),
    );
    let list_label = move || {
        let n = filtered.with(|f| f.len());
        let all = count();
        if n == all {
            format!("Indicators — {}", thousands(n))
        } else {
            format!("Indicators — {} of {}", thousands(n), thousands(all))
        }
    };
    view! {
        <section class="indicators card" aria-labelledby="h-indicators">
            {heading("indicators", "Indicators of compromise", "Add them as you find them, defanged or not. They are stored as the real value and shown defanged, so nobody opens one by accident.")}
            {add_indicator(open.clone())}
            {paste_indicators(open.clone())}
            {move || filter_here.get().then(|| indicator_filter(text, kind, tlp, filtered, indicators))}
            <ul
                id="indicator-list"
                class="ioc-list"
                role="list"
                data-windowed="true"
                aria-label=list_label
                style:padding-top=move || window.space_above()
                style:padding-bottom=move || window.space_below()
                on:focusin=move |ev| memory.focus_in(&ev)
                on:keydown=move |ev| window.on_key(&ev)
            >
                <For each=each key=Item::key children=rows/>
            </ul>
            {move || (!has_indicators.get()).then(|| view! { <p class="empty">"No indicators yet."</p> })}
        </section>
    }
}

/// What the text filter looks in: an indicator's value (as stored and defanged), its note and
/// who added it, in lower case, one line each.
fn searched_text(indicator: &Indicator) -> String {
    [
        indicator.value.as_str(),
        &defang(&indicator.value, indicator.kind),
        &indicator.note,
        &indicator.added_by,
    ]
    .join("\n")
    .to_lowercase()
}

/// The indicators' filter: text, type and TLP level, on the model.
fn indicator_filter(
    text: RwSignal<String>,
    kind: RwSignal<String>,
    tlp: RwSignal<String>,
    filtered: Memo<Arc<Vec<usize>>>,
    indicators: Memo<super::timeline::shared::Iocs>,
) -> impl IntoView {
    let kinds = IndicatorKind::ALL.into_iter().map(|k| {
        let key = k.key();
        view! { <option value=key selected=move || kind.with(|s| s == key)>{k.label()}</option> }
    });
    let levels = Tlp::ALL.into_iter().map(|l| {
        let key = l.as_str();
        view! { <option value=key selected=move || tlp.with(|s| s == key)>{format!("TLP:{key}")}</option> }
    });
    let filtering = move || {
        !text.with(String::is_empty) || !kind.with(String::is_empty) || !tlp.with(String::is_empty)
    };
    let shown = move || {
        let (n, all) = (filtered.with(|f| f.len()), indicators.with(|i| i.len()));
        if !filtering() {
            String::new()
        } else if n == 0 {
            format!("No indicator of {} matches.", thousands(all))
        } else {
            format!("Showing {} of {} indicators.", thousands(n), thousands(all))
        }
    };
    view! {
        <div class="list-filter" role="search" aria-label="Find in the indicators">
            <div class="ev-fields">
                <div class="ev-field ev-grow">
                    <label for="ioc-filter-text">"Find"</label>
                    <input
                        id="ioc-filter-text"
                        type="search"
                        autocomplete="off"
                        placeholder="part of a value, a note…"
                        prop:value=move || text.get()
                        on:input:target=move |ev| text.set(ev.target().value())
                    />
                </div>
                <div class="ev-field">
                    <label for="ioc-filter-kind">"Type"</label>
                    <select id="ioc-filter-kind" on:change:target=move |ev| kind.set(ev.target().value())>
                        <option value="" selected=move || kind.with(String::is_empty)>"Any type"</option>
                        {kinds.collect_view()}
                    </select>
                </div>
                <div class="ev-field">
                    <label for="ioc-filter-tlp">"TLP"</label>
                    <select id="ioc-filter-tlp" on:change:target=move |ev| tlp.set(ev.target().value())>
                        <option value="" selected=move || tlp.with(String::is_empty)>"Any level"</option>
                        {levels.collect_view()}
                    </select>
                </div>
            </div>
            <p class="list-filter-count" id="ioc-filter-count" role="status">
                {shown}
                {move || filtering().then(|| view! {
                    " "
                    <button type="button" class="ev-button" id="ioc-filter-clear" on:click=move |_| {
                        text.set(String::new());
                        kind.set(String::new());
                        tlp.set(String::new());
                    }>"Show all"</button>
                })}
            </p>
        </div>
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
