//! The incident page: one incident's template, edited together.

mod choice;
mod classification;
mod indicators;
mod next_steps;
mod prose;
mod questions;
mod roles;
mod status;
mod timeline;
mod title;

use incident::ProseSection;
use leptos::ev;
use leptos::prelude::*;

use crate::session::{use_incident, OpenIncident};
use classification::Classification;
use indicators::Indicators;
use next_steps::NextSteps;
use prose::ProseField;
use questions::{PostMortem, QuestionsAsked};
use roles::Roles;
use status::{Presence, Problems, SyncStatus};
use timeline::{KillChainByPhase, Timeline};
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
    // The template's order: what everyone needs first, the working sections, then what is
    // written for later readers.
    view! {
        <TitleField/>
        <Presence/>
        <Classification/>
        <Roles/>
        <ProseField section=ProseSection::Summary/>
        <Timeline/>
        <Indicators/>
        <ProseField section=ProseSection::Details/>
        <KillChainByPhase/>
        <ProseField section=ProseSection::Response/>
        <NextSteps/>
        <ProseField section=ProseSection::Theories/>
        <QuestionsAsked/>
        <ProseField section=ProseSection::LessonsLearned/>
        <ProseField section=ProseSection::Background/>
        <ProseField section=ProseSection::Comms/>
        <ProseField section=ProseSection::Appendix/>
        <PostMortem/>
    }
}
