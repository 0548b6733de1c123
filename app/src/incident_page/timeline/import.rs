//! Reading a timeline CSV into the incident: Firebreak's own export (from this or another
//! incident) or a spreadsheet someone kept before the incident had a document. Every good row
//! becomes an event, every bad row is listed with its line and reason, and a file that is
//! not a timeline changes nothing. Made on the device, offline too; the events sync like
//! typed ones.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::session::OpenIncident;
use crate::{platform, prefs};

/// What the last import did, as shown under the control.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Done {
        added: usize,
        indicators: usize,
        rejected: Vec<(usize, String)>,
        ignored: Vec<String>,
    },
    Refused(String),
}

pub(super) fn import_timeline(open: OpenIncident) -> impl IntoView {
    let outcome = RwSignal::new(None::<Outcome>);
    let chosen = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        let open = open.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let limit = incident::export::MAX_TIMELINE_CSV_BYTES;
            if file.size() > limit as f64 {
                outcome.set(Some(Outcome::Refused(format!(
                    "{} is too big: a timeline file may be at most {} MB.",
                    file.name(),
                    limit / (1024 * 1024)
                ))));
                return;
            }
            let text = match platform::file_text(&file).await {
                Ok(text) => text,
                Err(e) => {
                    outcome.set(Some(Outcome::Refused(e)));
                    return;
                }
            };
            let read = match read_into(open, text, file.name()).await {
                Ok(read) => read,
                Err(not_here) => Outcome::Refused(format!(
                    "{} was not imported. {}",
                    file.name(),
                    not_here.why().await.text()
                )),
            };
            outcome.try_set(Some(read));
        });
    };
    view! {
        <details class="tl-import">
            <summary>"Import events from a CSV file"</summary>
            <label for="tl-import-file">"Timeline file (CSV, as Firebreak exports it)"</label>
            <input id="tl-import-file" type="file" accept=".csv,text/csv" on:change=chosen/>
            <p class="hint">
                "Columns are found by name: occurred_at and what are needed; phase, source, data_link, indicators, discovered_at, author, in_report, tlp and notes are read when there. Times without a zone are in the incident's display zone."
            </p>
            {move || outcome.get().map(outcome_view)}
        </details>
    }
}

crate::on_demand::part! {
    /// Reads the CSV `text` into the incident. The CSV reader is in its own module
    /// (`crate::on_demand`), fetched the first time a file is imported (kept by the service
    /// worker after the first visit, so it works offline).
    fn read_into(open: OpenIncident, text: String, file_name: String) -> Outcome {
        import_now(open, text, file_name)
    }
}

/// What `read_into` does, in its module.
fn import_now(open: OpenIncident, text: String, file_name: String) -> Outcome {
    let now = platform::now_rfc3339();
    let result = incident::export::import_timeline_csv(
        &open.incident,
        &text,
        &prefs::display_name(),
        &now,
        platform::new_id,
    );
    match result {
        Ok(done) => Outcome::Done {
            added: done.added,
            indicators: done.indicators_added,
            rejected: done
                .rejected
                .into_iter()
                .map(|r| (r.line, r.reason))
                .collect(),
            ignored: done.ignored_columns,
        },
        Err(reason) => Outcome::Refused(format!("{file_name} was not imported: {reason}.")),
    }
}

fn outcome_view(outcome: Outcome) -> AnyView {
    match outcome {
        Outcome::Refused(reason) => {
            view! { <p id="tl-import-result" class="problem" role="alert">{reason}</p> }.into_any()
        }
        Outcome::Done {
            added,
            indicators,
            rejected,
            ignored,
        } => {
            let mut summary = format!("Added {added} event{}", if added == 1 { "" } else { "s" });
            if indicators > 0 {
                summary.push_str(&format!(
                    " and {indicators} new indicator{}",
                    if indicators == 1 { "" } else { "s" }
                ));
            }
            summary.push('.');
            if !rejected.is_empty() {
                summary.push_str(&format!(
                    " {} row{} not imported:",
                    rejected.len(),
                    if rejected.len() == 1 {
                        " was"
                    } else {
                        "s were"
                    }
                ));
            }
            let rows = rejected
                .into_iter()
                .map(|(line, reason)| view! { <li>{format!("Line {line}: {reason}")}</li> })
                .collect_view();
            let ignored = (!ignored.is_empty()).then(|| {
                view! { <p class="hint">{format!("Columns not read: {}.", ignored.join(", "))}</p> }
            });
            view! {
                <div id="tl-import-result" role="status">
                    <p>{summary}</p>
                    <ul class="tl-import-rejected">{rows}</ul>
                    {ignored}
                </div>
            }
            .into_any()
        }
    }
}
