//! The incident page: one incident's template, edited together.

mod classification;
mod prose;
mod status;
mod title;

use incident::ProseSection;
use leptos::ev;
use leptos::prelude::*;

use crate::session::{use_incident, OpenIncident};
use classification::Classification;
use prose::ProseField;
use status::{Presence, Problems, SyncStatus};
use title::TitleField;

/// Opens the incident `id` for as long as the page is shown.
#[component]
pub fn IncidentPage(id: String) -> impl IntoView {
    let open = OpenIncident::open(&id);
    provide_context(open.clone());

    let back_online = {
        let open = open.clone();
        window_event_listener(ev::online, move |_| {
            if let Some(sync) = open.sync_client() {
                sync.reconnect_now();
            }
        })
    };
    let gone_offline = {
        let open = open.clone();
        window_event_listener(ev::offline, move |_| {
            if let Some(sync) = open.sync_client() {
                sync.network_lost();
            }
        })
    };
    let closing = open.clone();
    on_cleanup(move || {
        back_online.remove();
        gone_offline.remove();
        closing.close();
    });

    let loaded = open.loaded;
    view! {
        <main class="page incident-page">
            <nav class="top-nav" aria-label="Incident">
                <a href="/">"← All incidents"</a>
            </nav>
            <SyncStatus/>
            <Problems/>
            <Show
                when=move || loaded.get()
                fallback=|| view! { <p class="loading">"Opening the incident…"</p> }
            >
                <IncidentEditor/>
            </Show>
        </main>
    }
}

/// Every part of the template, once this device's copy has loaded.
#[component]
fn IncidentEditor() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    Effect::new(move |_| {
        revision.track();
        let title = open.incident.title();
        let title = if title.trim().is_empty() {
            "Incident".to_string()
        } else {
            title
        };
        crate::platform::document().set_title(&format!("{title} — Firebreak"));
    });
    view! {
        <TitleField/>
        <Presence/>
        <Classification/>
        {ProseSection::ALL
            .into_iter()
            .map(|section| view! { <ProseField section=section/> })
            .collect_view()}
    }
}
