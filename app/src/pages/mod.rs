//! Pages that are not an open document: the incident list, the playbooks and "not found".

mod home;
mod mention_counts;
mod playbooks;
mod team;

pub use home::HomePage;
pub use playbooks::PlaybooksPage;
pub use team::TeamPage;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Incident links look like /incident/ followed by an id."</p>
            <p><a href="/">"Go to the incidents on this device"</a></p>
        </main>
    }
}
