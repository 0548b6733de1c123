//! What leaves the app: the report to print or save as PDF, and files for other tools, all
//! made on this device from its copy of the incident (offline too) by the model's exporter,
//! the same code the relay's export API runs. Every export is for an audience: the TLP level
//! its readers may receive; what is marked above it is left out and the export says so.

use incident::export::{self, Audience, Block, Report, ReportKind};
use incident::{Incident, Tlp};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::watch;
use crate::evidence;
use crate::form::Field;
use crate::session::{use_incident, Standing};
use crate::store::{BlobState, LocalBlob, Store};
use crate::{platform, prefs};

/// "Export", in the incident's header bar; every member has it, viewers too.
#[component]
pub fn ExportButton(exporting: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            type="button"
            id="export-button"
            class="share-button"
            aria-controls="export-panel"
            aria-expanded=move || exporting.get().to_string()
            on:click=move |_| exporting.update(|e| *e = !*e)
        >
            "Export"
        </button>
    }
}

/// A file the panel offers: its button, the format's name for the file and how it is made.
struct Download {
    id: &'static str,
    label: &'static str,
    suffix: &'static str,
    media_type: &'static str,
    make: fn(&Incident, &Audience<'_>) -> String,
}

const DOWNLOADS: [Download; 6] = [
    Download {
        id: "export-markdown",
        label: "Report (Markdown)",
        suffix: ".md",
        media_type: "text/markdown",
        make: |i, a| export::to_markdown(&export::report(i, a, ReportKind::Full)),
    },
    Download {
        id: "export-summary",
        label: "Executive summary (Markdown)",
        suffix: "-summary.md",
        media_type: "text/markdown",
        make: |i, a| export::to_markdown(&export::report(i, a, ReportKind::Executive)),
    },
    Download {
        id: "export-stix",
        label: "Indicators (STIX 2.1)",
        suffix: ".stix.json",
        media_type: "application/json",
        make: export::stix_bundle,
    },
    Download {
        id: "export-misp",
        label: "Indicators (MISP event)",
        suffix: ".misp.json",
        media_type: "application/json",
        make: export::misp_event,
    },
    Download {
        id: "export-indicators-csv",
        label: "Indicators (CSV)",
        suffix: "-indicators.csv",
        media_type: "text/csv",
        make: export::indicators_csv,
    },
    Download {
        id: "export-timeline-csv",
        label: "Timeline (CSV)",
        suffix: "-timeline.csv",
        media_type: "text/csv",
        make: export::timeline_csv,
    },
];

/// The export panel: the audience, the report to print, the files to download.
#[component]
pub fn ExportPanel(
    exporting: RwSignal<bool>,
    printing: RwSignal<Option<Printing>>,
) -> impl IntoView {
    let open = use_incident();
    let own_level = watch(&open, Incident::tlp);
    // None: the incident's own level, followed as it changes.
    let chosen = RwSignal::new(None::<Tlp>);
    let audience = Memo::new(move |_| chosen.get().unwrap_or_else(|| own_level.get()));
    let left_out = {
        let open = open.clone();
        Memo::new(move |_| {
            open.revision.track();
            let now = platform::now_rfc3339();
            let audience = Audience {
                incident_id: &open.id,
                tlp: audience.get(),
                now: &now,
            };
            export::Snapshot::read(&open.incident, &audience)
                .left_out
                .describe()
        })
    };
    let levels = Tlp::ALL.into_iter().map(|l| (l.as_str(), l.as_str()));
    let file_problem = RwSignal::new(None::<String>);
    move || {
        exporting.get().then(|| {
            let downloads = download_buttons(&open, audience);
            view! {
                <section id="export-panel" class="share-panel export-panel" aria-labelledby="h-export">
                    <h2 id="h-export">"Export"</h2>
                    <p class="hint">
                        "Made on this device from what it holds, online or not. Choose who it is for: anything marked above that level is left out."
                    </p>
                    {Field::new("export-tlp", "For readers cleared for")
                        .wrap("field")
                        .select(None, levels.clone().collect())
                        .bind(Signal::derive(move || audience.get().as_str().to_string()))
                        .on_change(move |value: String| chosen.set(Tlp::parse(&value)))
                        .view()}
                    <p id="export-left-out" class="hint">
                        {move || match left_out.get() {
                            Some(what) => format!("Left out for TLP:{}: {what}.", audience.get().as_str()),
                            None => format!("Nothing is marked above TLP:{}.", audience.get().as_str()),
                        }}
                    </p>
                    <div class="export-actions">
                        {print_button("export-print", "Print / Save as PDF", ReportKind::Full, audience, printing)}
                        {print_button("export-print-summary", "Print executive summary", ReportKind::Executive, audience, printing)}
                        {downloads}
                        {file_button(&open, audience, file_problem)}
                    </div>
                    {move || file_problem.get().map(|p| view! { <p id="export-file-problem" class="problem" role="alert">{p}</p> })}
                </section>
            }
        })
    }
}

/// A button that shows the report of `kind` for the chosen audience, ready to print.
fn print_button(
    id: &'static str,
    label: &'static str,
    kind: ReportKind,
    audience: Memo<Tlp>,
    printing: RwSignal<Option<Printing>>,
) -> impl IntoView {
    let show = move |_| {
        printing.set(Some(Printing {
            kind,
            tlp: audience.get_untracked(),
        }))
    };
    view! { <button type="button" id=id on:click=show>{label}</button> }
}

/// One button a file, each making its file when pressed.
fn download_buttons(open: &crate::session::OpenIncident, audience: Memo<Tlp>) -> impl IntoView {
    DOWNLOADS
        .iter()
        .map(|d| {
            let open = open.clone();
            let click = move |_| {
                let now = platform::now_rfc3339();
                let audience = Audience {
                    incident_id: &open.id,
                    tlp: audience.get_untracked(),
                    now: &now,
                };
                let stem = export::file_stem(&open.incident, &audience);
                let text = (d.make)(&open.incident, &audience);
                if let Err(e) = save(&format!("{stem}{}", d.suffix), d.media_type, &text) {
                    platform::log_error(&platform::js_error_text(&e));
                }
            };
            view! { <button type="button" id=d.id on:click=click>{d.label}</button> }
        })
        .collect_view()
}

/// "Save incident file": the whole incident, for readers cleared for everything in it; with
/// "With attachments" ticked, it carries the attached files' bytes too.
fn file_button(
    open: &crate::session::OpenIncident,
    audience: Memo<Tlp>,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let open = open.clone();
    let with_files = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let told = RwSignal::new(None::<String>);
    let click = move |_| {
        let now = platform::now_rfc3339();
        let tlp = audience.get_untracked();
        told.set(None);
        if !with_files.get_untracked() {
            let audience = Audience {
                incident_id: &open.id,
                tlp,
                now: &now,
            };
            match export::incident_file(&open.incident, &audience) {
                Ok(text) => {
                    problem.set(None);
                    let stem = export::file_stem(&open.incident, &audience);
                    if let Err(e) =
                        save(&format!("{stem}.firebreak.json"), "application/json", &text)
                    {
                        platform::log_error(&platform::js_error_text(&e));
                    }
                }
                Err(reason) => problem.set(Some(format!("Not saved: {reason}."))),
            }
            return;
        }
        let open = open.clone();
        busy.set(true);
        wasm_bindgen_futures::spawn_local(async move {
            let (files, unavailable) = attachments_at_hand(&open).await;
            let audience = Audience {
                incident_id: &open.id,
                tlp,
                now: &now,
            };
            match export::incident_file_with_attachments(&open.incident, &audience, &files) {
                Ok(saved) => {
                    problem.try_set(None);
                    let stem = export::file_stem(&open.incident, &audience);
                    if let Err(e) = save(
                        &format!("{stem}.firebreak.json"),
                        "application/json",
                        &saved.text,
                    ) {
                        platform::log_error(&platform::js_error_text(&e));
                    }
                    told.try_set(left_out_text(&open, &saved, &unavailable));
                }
                Err(reason) => {
                    problem.try_set(Some(format!("Not saved: {reason}.")));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <span class="export-file">
            <button type="button" id="export-incident-file" on:click=click disabled=move || busy.get()>
                {move || if busy.get() { "Saving incident file…" } else { "Save incident file" }}
            </button>
            <label class="check">
                <input
                    type="checkbox"
                    id="export-with-attachments"
                    prop:checked=move || with_files.get()
                    on:change=move |ev| with_files.set(event_target_checked(&ev))
                />
                " With attachments"
            </label>
        </span>
        {move || told.get().map(|t| view! { <p id="export-file-left-out" class="hint" role="status">{t}</p> })}
    }
}

/// The bytes of every file the incident lists, checked against their SHA-256: this device's
/// copies, and what it lacks fetched from the relay (and kept here) when it can be. Also
/// the hashes of the files that could not be had.
async fn attachments_at_hand(
    open: &crate::session::OpenIncident,
) -> (Vec<export::AttachedFile>, Vec<String>) {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (_, a) in open.incident.attachments() {
        if a.removed_at.is_none() && !wanted.iter().any(|(h, _)| *h == a.sha256) {
            wanted.push((a.sha256.clone(), a.content_type.clone()));
        }
    }
    let mut files = Vec::new();
    let mut unavailable = Vec::new();
    let store = match Store::open(|_| {}).await {
        Ok(store) => Some(store),
        Err(e) => {
            platform::log_error(&format!("export: {e}"));
            None
        }
    };
    let token = match open.standing.get_untracked() {
        Standing::Member(_) => prefs::access(&open.id).map(|a| a.token),
        _ => None,
    };
    for (sha256, content_type) in wanted {
        let mut bytes = None;
        if let Some(store) = &store {
            if let Ok(Some(blob)) = store.blob(&open.id, &sha256).await {
                if evidence::verify(&blob.bytes, &sha256).await.is_ok() {
                    bytes = Some(blob.bytes);
                }
            }
        }
        if bytes.is_none() {
            if let Some(token) = token.as_deref() {
                if let evidence::Download::Bytes(got) =
                    evidence::download(&open.id, token, &sha256).await
                {
                    if evidence::verify(&got, &sha256).await.is_ok() {
                        if let Some(store) = &store {
                            let blob = LocalBlob {
                                sha256: sha256.clone(),
                                bytes: got.clone(),
                                content_type: content_type.clone(),
                                state: BlobState::Uploaded,
                            };
                            if let Err(e) = store.put_blob(&open.id, &blob).await {
                                platform::log_error(&format!("export: keeping a copy: {e}"));
                            }
                        }
                        bytes = Some(got);
                    }
                }
            }
        }
        match bytes {
            Some(bytes) => files.push(export::AttachedFile {
                sha256,
                content_type,
                bytes: bytes.to_vec(),
            }),
            None => unavailable.push(sha256),
        }
    }
    if let Some(store) = store {
        store.close();
    }
    (files, unavailable)
}

/// Which files the saved file does not carry, by name, and why; `None` when it carries all.
fn left_out_text(
    open: &crate::session::OpenIncident,
    saved: &export::SavedFile,
    unavailable: &[String],
) -> Option<String> {
    let all = open.incident.attachments();
    let names = |hashes: &[String]| {
        hashes
            .iter()
            .map(|h| {
                all.iter()
                    .find(|(_, a)| a.sha256 == *h)
                    .map_or_else(|| h.clone(), |(_, a)| format!("“{}”", a.name))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unavailable: Vec<String> = saved
        .not_given
        .iter()
        .filter(|h| unavailable.contains(h))
        .cloned()
        .collect();
    let mut parts = Vec::new();
    if !saved.too_big.is_empty() {
        parts.push(format!(
            "too big for an incident file ({} MB at most): {}",
            export::MAX_INCIDENT_FILE_BYTES / (1024 * 1024),
            names(&saved.too_big)
        ));
    }
    if !unavailable.is_empty() {
        parts.push(format!(
            "not on this device and not to be had from the relay now (offline, or not uploaded yet): {}",
            names(&unavailable)
        ));
    }
    (!parts.is_empty()).then(|| format!("Saved without {}.", parts.join("; and ")))
}

/// Which report is shown for printing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Printing {
    pub kind: ReportKind,
    pub tlp: Tlp,
}

/// The report as pages: shown instead of the editor, with the marking at the top and bottom
/// of every printed page and page numbers (CSS page margin boxes).
#[component]
pub fn ReportView(printing: RwSignal<Option<Printing>>) -> impl IntoView {
    let open = use_incident();
    let report = Memo::new(move |_| {
        open.revision.track();
        let chosen = printing.get()?;
        let now = platform::now_rfc3339();
        let audience = Audience {
            incident_id: &open.id,
            tlp: chosen.tlp,
            now: &now,
        };
        Some(export::report(&open.incident, &audience, chosen.kind))
    });
    // The page rules go into the app's own report stylesheet through the CSSOM: the page's
    // Content-Security-Policy (style-src 'self') refuses a <style> element, rightly.
    let installed = StoredValue::new(None::<PageRule>);
    Effect::new(move |_| {
        let rule = report.get().map(|r| page_style(&r));
        installed.update_value(|current| {
            if let Some(old) = current.take() {
                old.remove();
            }
            *current = rule.and_then(|rule| PageRule::install(&rule));
        });
    });
    on_cleanup(move || {
        installed.update_value(|current| {
            if let Some(old) = current.take() {
                old.remove();
            }
        })
    });
    move || {
        report.get().map(|report| {
            view! {
                <div class="report-actions no-print">
                    <button type="button" id="report-print" on:click=|_| {
                        if let Err(e) = platform::window().print() {
                            platform::log_error(&platform::js_error_text(&e));
                        }
                    }>"Print / Save as PDF"</button>
                    <button type="button" id="report-close" on:click=move |_| printing.set(None)>
                        "Back to the incident"
                    </button>
                </div>
                {report_view(&report)}
            }
        })
    }
}

pub(super) fn report_view(report: &Report) -> impl IntoView {
    let marking = report.marking.clone();
    let blocks = report.blocks.iter().map(block_view).collect_view();
    view! {
        <article class="report" data-marking=marking.clone()>
            <p class="report-marking">{marking.clone()}</p>
            {report.classification.clone().map(|c| view! { <p class="report-classification">{c}</p> })}
            <h1>{report.title.clone()}</h1>
            {blocks}
        </article>
    }
}

fn block_view(block: &Block) -> AnyView {
    match block {
        Block::Heading(text) => view! { <h2>{text.clone()}</h2> }.into_any(),
        Block::Text(text) => {
            let paragraphs = text
                .split("\n\n")
                .filter(|p| !p.trim().is_empty())
                .map(|p| view! { <p class="report-text">{p.to_string()}</p> })
                .collect_view();
            paragraphs.into_any()
        }
        Block::Facts(facts) => {
            let rows = facts
                .iter()
                .map(|(label, value)| view! { <dt>{label.clone()}</dt><dd>{value.clone()}</dd> })
                .collect_view();
            view! { <dl class="report-facts">{rows}</dl> }.into_any()
        }
        Block::Table { headers, rows } => {
            let head = headers
                .iter()
                .map(|h| view! { <th scope="col">{h.clone()}</th> })
                .collect_view();
            let body = rows
                .iter()
                .map(|row| {
                    let cells = row
                        .iter()
                        .map(|c| view! { <td>{c.clone()}</td> })
                        .collect_view();
                    view! { <tr>{cells}</tr> }
                })
                .collect_view();
            view! { <table class="report-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table> }.into_any()
        }
        Block::Note(text) => view! { <p class="report-note">{text.clone()}</p> }.into_any(),
    }
}

/// `@page` rules that print the marking (and the classification) at the top and bottom of
/// every page and "Page N of M" at the bottom. Text from the incident is written as CSS
/// escapes, so it can never end the string it is in.
fn page_style(report: &Report) -> String {
    let marking = css_string(&report.marking);
    let classification = css_string(report.classification.as_deref().unwrap_or(""));
    format!(
        "@page {{ size: auto; margin: 18mm 14mm; \
         @top-left {{ content: {marking}; font: bold 10pt sans-serif; }} \
         @top-right {{ content: {classification}; font: 9pt sans-serif; }} \
         @bottom-left {{ content: {marking}; font: bold 10pt sans-serif; }} \
         @bottom-right {{ content: \"Page \" counter(page) \" of \" counter(pages); font: 9pt sans-serif; }} }}"
    )
}

/// An `@page` rule added to the report stylesheet, removed again with [`PageRule::remove`].
struct PageRule(send_wrapper::SendWrapper<web_sys::CssStyleSheet>);

impl PageRule {
    /// Appends `rule` to the stylesheet whose file name starts with `report`.
    fn install(rule: &str) -> Option<PageRule> {
        let sheets = platform::document().style_sheets();
        let sheet = (0..sheets.length())
            .filter_map(|i| sheets.item(i))
            .find(|s| {
                s.href()
                    .ok()
                    .flatten()
                    .and_then(|h| h.rsplit('/').next().map(|f| f.starts_with("report")))
                    .unwrap_or(false)
            })?
            .unchecked_into::<web_sys::CssStyleSheet>();
        let at = sheet.css_rules().ok()?.length();
        match sheet.insert_rule_with_index(rule, at) {
            Ok(_) => Some(PageRule(send_wrapper::SendWrapper::new(sheet))),
            Err(e) => {
                platform::log_error(&platform::js_error_text(&e));
                None
            }
        }
    }

    /// Removes the last `@page` rule of the sheet (the one [`PageRule::install`] added).
    fn remove(self) {
        let Ok(rules) = self.0.css_rules() else {
            return;
        };
        let last = rules.length().checked_sub(1);
        if let Some(at) = last.filter(|&at| rules.item(at).is_some_and(|r| r.type_() == 6)) {
            let _ = self.0.delete_rule(at);
        }
    }
}

fn css_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars().take(200) {
        if c.is_ascii_alphanumeric() || c == ' ' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", c as u32));
        }
    }
    out.push('"');
    out
}

/// Hands `text` to the browser as a download named `name`.
pub(super) fn save(name: &str, media_type: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&format!("{media_type};charset=utf-8"));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlAnchorElement =
        platform::document().create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
