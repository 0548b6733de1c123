//! Drills on the incident page: a banner that no one can miss while the incident is a drill
//! (a tabletop exercise), above everything else, the past-state view included; and for the
//! incident's owners, a checkbox in the classification card to mark it a drill or a real
//! incident again.

use incident::{Incident, DRILL_LABEL, DRILL_MEANING};
use leptos::prelude::*;
use wire::Access;

use super::watch;
use crate::form::check;
use crate::session::{use_incident, Standing};

/// Whether this device holds the incident as its owner (or as its creator, before the relay
/// has it).
fn owns(standing: &Standing) -> bool {
    matches!(
        standing,
        Standing::Member(Access::Owner)
            | Standing::Unpublished
            | Standing::Publishing
            | Standing::NeedsCreationSecret { .. }
    )
}

/// "DRILL — This is a drill …", shown while the incident is one.
#[component]
pub fn DrillBanner() -> impl IntoView {
    let open = use_incident();
    let drill = watch(&open, Incident::is_drill);
    move || {
        drill.get().then(|| {
            view! {
                <p id="drill-banner" class="banner drill-banner" role="note">
                    <strong>{DRILL_LABEL}</strong>
                    " — "
                    {DRILL_MEANING}
                </p>
            }
        })
    }
}

/// "This is a drill (tabletop exercise)", for owners.
#[component]
pub fn DrillToggle() -> impl IntoView {
    let open = use_incident();
    let drill = watch(&open, Incident::is_drill);
    let standing = open.standing;
    let set = Callback::new(move |on: bool| open.incident.set_drill(on));
    move || {
        owns(&standing.get()).then(|| {
            view! {
                <div class="drill-toggle">
                    {check(
                        "incident-drill".into(),
                        "This is a drill (tabletop exercise)",
                        "ev-check",
                        drill.into(),
                        Some(set),
                    )}
                    <p class="hint">
                        "Labelled on every screen and export, and left out of the incident list unless drills are shown."
                    </p>
                </div>
            }
        })
    }
}
