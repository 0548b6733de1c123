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
        Route::Home => view! { <HomePage/> }.into_any(),
        Route::Incident(id) => view! { <IncidentPage id=id/> }.into_any(),
        Route::Playbooks => view! { <PlaybooksPage/> }.into_any(),
        Route::Playbook(id) => {
            on_demand::page("Opening the playbook…", move || playbook_page(id.clone()))
        }
        Route::Team(id) => on_demand::page("Opening the team…", move || team_page(id.clone())),
        Route::NotFound => view! { <NotFound/> }.into_any(),
    }
}

/// The playbook editor, in its own wasm module (`on_demand`).
#[lazy]
fn playbook_page(id: String) -> AnyView {
    view! { <PlaybookPage id=id/> }.into_any()
}

/// A team's page, in its own wasm module (`on_demand`).
#[lazy]
fn team_page(id: String) -> AnyView {
    view! { <TeamPage id=id/> }.into_any()
}
