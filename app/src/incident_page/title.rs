//! The incident's title, status, severity and type: short values, last writer wins.

use incident::{Incident, IncidentStatus};
use leptos::prelude::*;

use super::triage::{SeverityField, TriageBanner, TypeField};
use super::watch;
use crate::form::Field;
use crate::session::use_incident;

#[component]
pub fn TitleField() -> impl IntoView {
    let open = use_incident();
    let current = watch(&open, Incident::title);
    let heading = move || {
        let title = current.get();
        if title.trim().is_empty() {
            "Untitled incident".to_string()
        } else {
            title
        }
    };
    view! {
        <header class="incident-header">
            <p class="kicker">"Security incident"</p>
            <h1 class="sr-only">{heading}</h1>
            {Field::new("incident-title", "Title")
                .class("title-input")
                .autocomplete("off")
                .bind(current.into())
                .on_input(move |value| open.incident.set_title(&value))
                .view()}
            <TriageBanner/>
            <div class="header-fields">
                <StatusField/>
                <SeverityField/>
                <TypeField/>
                <ZoneField/>
            </div>
        </header>
    }
}

/// Where the response stands: open, contained, resolved, closed.
#[component]
fn StatusField() -> impl IntoView {
    let open = use_incident();
    let status = watch(&open, Incident::status);
    let set = move |value: String| {
        if let Some(status) = IncidentStatus::from_key(&value) {
            open.incident.set_status(status);
        }
    };
    let statuses = IncidentStatus::ALL
        .into_iter()
        .map(|s| (s.key(), s.label()));
    Field::new("incident-status", "Status")
        .wrap("status-field")
        .select(None, statuses.collect())
        .class_signal(Signal::derive(move || {
            format!("status-{}", status.get().key())
        }))
        .bind(Signal::derive(move || status.get().key().to_string()))
        .on_change(set)
        .view()
}

/// The one zone every time in the incident is shown in (UTC unless the team picks another).
#[component]
fn ZoneField() -> impl IntoView {
    let open = use_incident();
    let zone = watch(&open, Incident::display_zone);
    let commit = Callback::new(move |typed: String| {
        let typed = typed.trim();
        let typed = if typed.is_empty() { "UTC" } else { typed };
        if open.incident.set_display_zone(typed) {
            Ok(())
        } else {
            Err(format!(
                "“{typed}” is not a time zone this browser knows. Use a name like Europe/Berlin or UTC."
            ))
        }
    });
    Field::new("incident-zone", "Times shown in")
        .wrap("zone-field")
        .autocomplete("off")
        .exact()
        .hint("For everyone on this incident.")
        .bind(zone.into())
        .commit(commit)
        .view()
}
