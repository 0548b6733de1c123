//! The overview at the top of the incident: what someone joining at 3 a.m. reads first —
//! where the response stands, who commands it, what is open and late, the summary's first
//! lines and the latest events, each a jump to its section.

use incident::{Incident, ProseSection, Role};
use leptos::prelude::*;

use super::navigation::{jump_link, Nav};
use super::timeline::shared::shown_time;
use super::watch;
use crate::session::use_incident;

/// How much of the summary the overview shows.
const SUMMARY_LINES: usize = 3;
const SUMMARY_CHARS: usize = 320;
/// How many of the latest events.
const LATEST_EVENTS: usize = 3;

/// The summary's first non-empty lines, cut with "…" where there is more.
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut shown = lines
        .iter()
        .take(SUMMARY_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let mut cut = lines.len() > SUMMARY_LINES;
    if let Some((at, _)) = shown.char_indices().nth(SUMMARY_CHARS) {
        shown.truncate(at);
        cut = true;
    }
    if cut {
        shown.push('…');
    }
    shown
}

#[component]
pub fn Overview(nav: Nav) -> impl IntoView {
    let open = use_incident();
    let status = watch(&open, Incident::status);
    let severity = watch(&open, Incident::severity);
    let kind = watch(&open, Incident::incident_type);
    let started_from = watch(&open, Incident::started_from);
    let commander = watch(&open, |i| i.role_holder(Role::Commander));
    let summary = watch(&open, |i| {
        first_lines(&i.section_text(ProseSection::Summary))
    });
    let zone = watch(&open, Incident::display_zone);
    let steps = nav.steps;
    let events = nav.events;
    let latest = Memo::new(move |_| {
        let zone = zone.get();
        events.with(|all| {
            all.iter()
                .rev()
                .take(LATEST_EVENTS)
                .map(|(id, e)| {
                    (
                        id.clone(),
                        shown_time(&e.occurred_at, &zone),
                        e.what.clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let event_count = move || events.with(|e| e.len());
    view! {
        <section class="overview card" aria-labelledby="h-overview" data-testid="overview">
            <h2 id="h-overview" tabindex="-1">"Overview"</h2>
            {move || started_from.get().map(|from| view! { <p class="started-from" data-testid="started-from">{from.describe()}</p> })}
            <dl class="overview-facts">
                <div>
                    <dt>"Status"</dt>
                    <dd
                        data-testid="overview-status"
                        class=move || format!("status-{}", status.get().key())
                    >
                        {move || status.get().label()}
                    </dd>
                </div>
                <div>
                    <dt>"Severity"</dt>
                    <dd
                        data-testid="overview-severity"
                        class=move || severity.get().map_or(String::new(), |s| format!("severity-{}", s.key()))
                        title=move || severity.get().map_or("", |s| s.meaning())
                    >
                        {move || match (severity.get(), kind.get()) {
                            (None, None) => "Not set".to_string(),
                            (Some(s), None) => s.label().to_string(),
                            (None, Some(k)) => k.label().to_string(),
                            (Some(s), Some(k)) => format!("{} · {}", s.label(), k.label()),
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Commander"</dt>
                    <dd data-testid="overview-commander">
                        {move || match commander.get() {
                            Some(h) => h.name,
                            None => "Nobody yet".to_string(),
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Next steps"</dt>
                    <dd
                        data-testid="overview-steps"
                        class:late=move || { steps.get().late > 0 }
                    >
                        {move || steps.get().text()}
                    </dd>
                </div>
            </dl>
            <h3>"Summary"</h3>
            <p class="overview-summary" data-testid="overview-summary">
                {move || {
                    let text = summary.get();
                    if text.is_empty() { "No summary yet.".to_string() } else { text }
                }}
            </p>
            <h3>"Latest events"</h3>
            <ol class="overview-events" data-testid="overview-events">
                <For
                    each=move || latest.get()
                    key=|row| row.clone()
                    children=|(_, when, what)| {
                        view! {
                            <li>
                                <span class="overview-when">{when}</span>
                                " "
                                <span class="overview-what">{what}</span>
                            </li>
                        }
                    }
                />
            </ol>
            {move || (event_count() == 0).then(|| view! { <p class="empty">"Nothing on the timeline yet."</p> })}
            <p class="overview-links">
                {jump_link("timeline", "overview-link", Signal::derive(move || format!("Timeline ({})", event_count())))}
                {jump_link("next-steps", "overview-link", Signal::stored("Next steps".to_string()))}
                {jump_link("roles", "overview-link", Signal::stored("Roles".to_string()))}
                {jump_link("summary", "overview-link", Signal::stored("Edit the summary".to_string()))}
            </p>
        </section>
    }
}
