//! The incident's title and status: short values, last writer wins.

use incident::IncidentStatus;
use leptos::prelude::*;

use super::choice::options;
use crate::session::use_incident;

#[component]
pub fn TitleField() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let current = {
        let open = open.clone();
        move || {
            revision.track();
            open.incident.title()
        }
    };
    let heading = {
        let current = current.clone();
        move || {
            let title = current();
            if title.trim().is_empty() {
                "Untitled incident".to_string()
            } else {
                title
            }
        }
    };
    view! {
        <header class="incident-header">
            <p class="kicker">"Security incident"</p>
            <h1 class="sr-only">{heading}</h1>
            <label for="incident-title">"Title"</label>
            <input
                id="incident-title"
                class="title-input"
                type="text"
                autocomplete="off"
                prop:value=current
                on:input:target={
                    let open = open.clone();
                    move |ev| open.incident.set_title(&ev.target().value())
                }
            />
            <div class="header-fields">
                <StatusField/>
                <ZoneField/>
            </div>
        </header>
    }
}

/// Where the response stands: open, contained, resolved, closed.
#[component]
fn StatusField() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let status = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.status()
        })
    };
    let set = move |value: String| {
        if let Some(status) = IncidentStatus::from_key(&value) {
            open.incident.set_status(status);
        }
    };
    view! {
        <div class="status-field">
            <label for="incident-status">"Status"</label>
            <select
                id="incident-status"
                class=move || format!("status-{}", status.get().key())
                on:change:target=move |ev| set(ev.target().value())
            >
                {options(IncidentStatus::ALL, IncidentStatus::key, IncidentStatus::label, status)}
            </select>
        </div>
    }
}

/// The one zone every time in the incident is shown in (UTC unless the team picks another).
#[component]
fn ZoneField() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let zone = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.display_zone()
        })
    };
    let problem = RwSignal::new(None::<String>);
    let set = move |typed: String| {
        let typed = typed.trim();
        let typed = if typed.is_empty() { "UTC" } else { typed };
        if open.incident.set_display_zone(typed) {
            problem.set(None);
        } else {
            problem.set(Some(format!(
                "“{typed}” is not a time zone this browser knows. Use a name like Europe/Berlin or UTC."
            )));
        }
    };
    view! {
        <div class="zone-field">
            <label for="incident-zone">"Times shown in"</label>
            <input
                id="incident-zone"
                type="text"
                autocomplete="off"
                spellcheck="false"
                aria-describedby="incident-zone-hint"
                prop:value=zone
                on:change:target=move |ev| set(ev.target().value())
            />
            <p class="hint" id="incident-zone-hint">"For everyone on this incident."</p>
            {move || problem.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
        </div>
    }
}
