//! Triage beside the title: how bad it is (SEV1–SEV4) and what kind of incident it is. Both
//! start "Not set"; the last writer wins, like the status. The banner under the title says
//! both in words, so someone opening the incident knows at once what they are looking at.

use incident::{Incident, IncidentType, Severity};
use leptos::prelude::*;

use super::watch;
use crate::form::Field;
use crate::session::use_incident;

/// The option standing for "not set".
const NOT_SET: (&str, &str) = ("", "Not set");

/// The severity select.
#[component]
pub fn SeverityField() -> impl IntoView {
    let open = use_incident();
    let severity = watch(&open, Incident::severity);
    let set = move |value: String| open.incident.set_severity(Severity::from_key(&value));
    let options = std::iter::once(NOT_SET)
        .chain(Severity::ALL.into_iter().map(|s| (s.key(), s.label())))
        .collect();
    Field::new("incident-severity", "Severity")
        .wrap("severity-field")
        .select(None, options)
        .class_signal(Signal::derive(move || {
            format!("severity-{}", severity.get().map_or("unset", Severity::key))
        }))
        .bind(Signal::derive(move || {
            severity.get().map_or("", Severity::key).to_string()
        }))
        .on_change(set)
        .view()
}

/// The incident type select.
#[component]
pub fn TypeField() -> impl IntoView {
    let open = use_incident();
    let kind = watch(&open, Incident::incident_type);
    let set = move |value: String| {
        open.incident
            .set_incident_type(IncidentType::from_key(&value))
    };
    let options = std::iter::once(NOT_SET)
        .chain(IncidentType::ALL.into_iter().map(|t| (t.key(), t.label())))
        .collect();
    Field::new("incident-type", "Incident type")
        .wrap("type-field")
        .select(None, options)
        .bind(Signal::derive(move || {
            kind.get().map_or("", IncidentType::key).to_string()
        }))
        .on_change(set)
        .view()
}

/// "SEV1 — Critical: … · Ransomware", or what is still to be decided.
#[component]
pub fn TriageBanner() -> impl IntoView {
    let open = use_incident();
    let severity = watch(&open, Incident::severity);
    let kind = watch(&open, Incident::incident_type);
    view! {
        <p
            id="triage-banner"
            class=move || {
                format!(
                    "triage-banner severity-{}",
                    severity.get().map_or("unset", Severity::key),
                )
            }
            data-severity=move || severity.get().map_or("", Severity::key)
            data-type=move || kind.get().map_or("", IncidentType::key)
        >
            <strong class="triage-severity">
                {move || severity.get().map_or("Severity not set", Severity::label)}
            </strong>
            {move || severity.get().map(|s| format!(" — {}", s.meaning()))}
            " · "
            <span class="triage-type">
                {move || kind.get().map_or("Type not set", IncidentType::label)}
            </span>
        </p>
    }
}
