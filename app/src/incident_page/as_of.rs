//! The incident as it stood at a time: the relay rebuilds it from its record
//! (`GET …/history/state?at=`, owner and editors), the page shows it read-only as the print
//! view renders a report, with what changed since then. The past state is its own document,
//! never merged into the live one.

use incident::export::{self, Audience, Report, ReportKind};
use incident::history::changes;
use incident::{when, Incident, Tlp, UpdateOrigin};
use leptos::prelude::*;

use super::catch_up::link_of;
use super::export::report_view;
use crate::access::{self, ApiError};
use crate::form::Field;
use crate::platform;
use crate::session::{use_incident, Standing};

/// A past state on show.
#[derive(Clone, Debug, PartialEq)]
pub struct AsOf {
    /// "2026-11-30 03:00 UTC" (with seconds when asked for), in the incident's display zone.
    pub shown_time: String,
    pub report: Report,
    /// Each change since then: its line and the section it links to.
    pub changes: Vec<(String, &'static str)>,
}

/// "History", in the incident's header bar.
#[component]
pub fn HistoryButton(open_panel: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            type="button"
            id="history-button"
            class="share-button"
            aria-controls="history-panel"
            aria-expanded=move || open_panel.get().to_string()
            on:click=move |_| open_panel.update(|o| *o = !*o)
        >
            "History"
        </button>
    }
}

/// The panel: a time in the incident's display zone and "Show".
#[component]
pub fn HistoryPanel(open_panel: RwSignal<bool>, as_of: RwSignal<Option<AsOf>>) -> impl IntoView {
    let open = use_incident();
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let zone = super::watch(&open, Incident::display_zone);
    let show = {
        let open = open.clone();
        move |_| {
            problem.set(None);
            if let Standing::Member(role) = open.standing.get_untracked() {
                if !role.may_write() {
                    problem.set(Some(
                        "The incident's history is for its owner and editors.".to_string(),
                    ));
                    return;
                }
            }
            let Some(held) = crate::prefs::access(&open.id) else {
                problem.set(Some(
                    "The history is kept by the relay, and this incident is not on it yet."
                        .to_string(),
                ));
                return;
            };
            let zone = open.incident.display_zone();
            let now = when::parse_stored(&platform::now_rfc3339()).unwrap_or_default();
            let at = match when::parse_time(&typed.get_untracked(), &zone, now) {
                Ok(t) => t.utc,
                Err(e) => {
                    problem.set(Some(format!("Not a time: {e}.")));
                    return;
                }
            };
            let Some(at_ms) = when::parse_stored(&at).map(|t| t.timestamp_millis()) else {
                problem.set(Some("Not a time.".to_string()));
                return;
            };
            if !platform::window().navigator().on_line() {
                problem.set(Some(
                    "Showing a past state needs the relay: this device is offline.".to_string(),
                ));
                return;
            }
            busy.set(true);
            let open = open.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = access::state_at(&open.id, &held.token, at_ms).await;
                busy.set(false);
                match result {
                    Ok(bytes) => match build(&open.id, &open.incident, &bytes, &at, &zone) {
                        Ok(shown) => as_of.set(Some(shown)),
                        Err(why) => problem.set(Some(why)),
                    },
                    Err(ApiError::Unreachable(_)) => problem.set(Some(
                        "Showing a past state needs the relay, and it cannot be reached.".into(),
                    )),
                    Err(ApiError::Refused { status: 403, .. }) => problem.set(Some(
                        "The incident's history is for its owner and editors.".to_string(),
                    )),
                    Err(e) => problem.set(Some(format!("No past state: {e}."))),
                }
            });
        }
    };
    move || {
        open_panel.get().then(|| {
            let show = show.clone();
            view! {
                <section id="history-panel" class="share-panel history-panel" aria-labelledby="h-history">
                    <h2 id="h-history">"History"</h2>
                    <p class="hint">
                        "See the incident as it stood at a time, read-only, and what changed since. The relay rebuilds it from its record, for owners and editors."
                    </p>
                    {Field::new("history-at", "")
                        .label(Signal::derive(move || format!("Time ({})", zone.get())))
                        .wrap("field")
                        .placeholder("2026-11-30 03:00")
                        .two_way(typed)
                        .view()}
                    <div class="export-actions">
                        <button type="button" id="history-show" on:click=show prop:disabled=move || busy.get()>
                            "Show"
                        </button>
                    </div>
                    {move || problem.get().map(|p| view! { <p id="history-problem" class="problem" role="alert">{p}</p> })}
                    <super::attribution::WhoWroteToggle/>
                </section>
            }
        })
    }
}

/// The past state as a report (full audience) and the changes from it to now.
fn build(
    id: &str,
    now_incident: &Incident,
    bytes: &[u8],
    at: &str,
    zone: &str,
) -> Result<AsOf, String> {
    let then = Incident::new();
    then.apply_update(bytes, UpdateOrigin::Relay)
        .map_err(|e| format!("The relay's past state could not be read: {e}."))?;
    let now = platform::now_rfc3339();
    let audience = Audience {
        incident_id: id,
        tlp: Tlp::Red,
        now: &now,
    };
    let report = export::report(&then, &audience, ReportKind::Full);
    let changes = changes(&then, now_incident)
        .into_iter()
        .map(|c| (c.describe(zone), link_of(c.group(), c.place.section)))
        .collect();
    Ok(AsOf {
        shown_time: shown_time(at, zone),
        report,
        changes,
    })
}

/// `at` in `zone` as the page shows times (to the minute), with the seconds when the time
/// asked for has them: "2026-11-30 03:00:42 UTC".
fn shown_time(at: &str, zone: &str) -> String {
    use chrono::Timelike;
    let shown = when::format_in_zone(at, zone);
    let seconds = when::parse_stored(at).map_or(0, |t| t.second());
    match shown.get(..16) {
        Some(minute) if seconds != 0 && shown.is_char_boundary(16) => {
            format!("{minute}:{seconds:02}{}", &shown[16..])
        }
        _ => shown,
    }
}

/// The past state on show, in place of the editor.
#[component]
pub fn AsOfView(as_of: RwSignal<Option<AsOf>>) -> impl IntoView {
    move || {
        as_of.get().map(|shown| {
            let changes = if shown.changes.is_empty() {
                view! { <p class="hint">"Nothing has changed since then."</p> }.into_any()
            } else {
                let items = shown
                    .changes
                    .iter()
                    .map(|(line, key)| {
                        let back = move |_| as_of.set(None);
                        view! { <li><a href=format!("#{key}") on:click=back>{line.clone()}</a></li> }
                    })
                    .collect_view();
                view! { <ul class="catch-up-list">{items}</ul> }.into_any()
            };
            view! {
                <section id="as-of" class="as-of" aria-labelledby="h-as-of">
                    <h2 id="h-as-of">{format!("As it stood at {} — read-only", shown.shown_time)}</h2>
                    <div class="export-actions">
                        <button type="button" id="as-of-back" on:click=move |_| as_of.set(None)>"Back to now"</button>
                    </div>
                    <section id="as-of-changes" aria-labelledby="h-as-of-changes">
                        <h3 id="h-as-of-changes">"Changes since then"</h3>
                        {changes}
                    </section>
                    <div id="as-of-report">{report_view(&shown.report)}</div>
                </section>
            }
        })
    }
}
