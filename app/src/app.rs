//! The app shell: picks the page for the current path.

use leptos::prelude::*;

use crate::incident_page::{IncidentPage, PlaybookPage};
use crate::on_demand;
use crate::pages::{HomePage, NotFound, PlaybooksPage, TeamPage};
use crate::router::{provide_router, Route};

#[component]
pub fn App() -> impl IntoView {
    let router = provide_router();
    // Only a change of page re-renders; a repeated navigation to the same page does not.
    let route = Memo::new(move |_| router.route());
    move || match route.get() {
        Route::Home => on_demand::page("Opening your incidents…", home_page),
        Route::Incident(id) => view! { <IncidentPage id=id/> }.into_any(),
        Route::Playbooks => on_demand::page("Opening the playbooks…", playbooks_page),
        Route::Playbook(id) => {
            on_demand::page("Opening the playbook…", move || playbook_page(id.clone()))
        }
        Route::Team(id) => on_demand::page("Opening the team…", move || team_page(id.clone())),
        Route::NotFound => view! { <NotFound/> }.into_any(),
    }
}

// Only the incident page is in the first download: an invite link, the way most people
// first reach Firebreak, opens one. The list of this device's incidents (and starting a new
// one), the playbooks and their editor, and a team's page are fetched on first use, then
// kept by the service worker.

on_demand::part! {
    /// The list of this device's incidents, in its own wasm module (`on_demand`).
    fn home_page() -> AnyView {
        view! { <HomePage/> }.into_any()
    }

    /// The playbooks and teams on this device, in its own wasm module (`on_demand`).
    fn playbooks_page() -> AnyView {
        view! { <PlaybooksPage/> }.into_any()
    }

    /// The playbook editor, in its own wasm module (`on_demand`).
    fn playbook_page(id: String) -> AnyView {
        view! { <PlaybookPage id=id/> }.into_any()
    }

    /// A team's page, in its own wasm module (`on_demand`).
    fn team_page(id: String) -> AnyView {
        view! { <TeamPage id=id/> }.into_any()
    }
}
