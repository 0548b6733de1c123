//! The playbooks page (`/playbooks`): the team's playbooks on this device, the starters to
//! adopt one from, and a playbook file to open. A playbook is a document like an incident:
//! adopting or opening one hands its state to the playbook's page, which saves it here and
//! puts it on the relay when online, invite-only.

use leptos::prelude::*;

use crate::prefs;
use crate::router::{playbook_path, use_router};
use crate::{platform, session};

#[component]
pub fn PlaybooksPage() -> impl IntoView {
    platform::document().set_title("Playbooks — Firebreak");
    view! {
        <main class="page home playbooks">
            <nav class="top-nav" aria-label="Playbooks">
                <a href="/">"← All incidents"</a>
            </nav>
            <header class="app-header">
                <h1>"Playbooks"</h1>
                <p class="tagline">
                    "What your team already knows about one kind of incident, ready to start the next one from, and growing from every incident worked with it."
                </p>
            </header>
            <TeamPlaybooks/>
            <super::team::TeamArea/>
            <Starters/>
            <OpenPlaybookFile/>
        </main>
    }
}

#[component]
fn TeamPlaybooks() -> impl IntoView {
    let known = prefs::known_playbooks();
    let body = if known.is_empty() {
        view! { <p class="empty">"No playbooks on this device yet: adopt a starter below."</p> }
            .into_any()
    } else {
        view! {
            <ul class="incident-list" aria-label="Playbooks on this device">
                {known
                    .into_iter()
                    .map(|k| {
                        let name = if k.name.trim().is_empty() {
                            "Untitled playbook".to_string()
                        } else {
                            k.name
                        };
                        view! {
                            <li data-testid="known-playbook">
                                <a href=playbook_path(&k.id)>{name}</a>
                                <span class="meta">{format!("Version {}", k.version)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-team-playbooks">
            <h2 id="h-team-playbooks">"Your team's playbooks"</h2>
            {body}
        </section>
    }
}

/// Hands a playbook's state to its page, which stores it on this device and publishes it.
fn open_new(id: &str, name: &str, version: u64, state: Vec<u8>) {
    session::remember_opened_file(id, state);
    if prefs::access(id).is_none() {
        prefs::set_unpublished(id, true);
    }
    prefs::remember_playbook(id, name, version);
    use_router().navigate(&playbook_path(id));
}

#[component]
fn Starters() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="h-starters">
            <h2 id="h-starters">"Starters"</h2>
            <p class="hint">
                "Adopting a starter makes your team's own playbook from it, to edit together and share with your team's invites. The starter itself never changes."
            </p>
            <ul class="starter-list" aria-label="Starters">
                {incident::playbook::starter_choices()
                    .into_iter()
                    .map(|(starter, name)| {
                        let adopt = move |_| {
                            let id = platform::new_id();
                            if let Some(playbook) = incident::playbook::Playbook::adopt(&id, starter) {
                                open_new(&id, &playbook.name(), playbook.version(), playbook.encode_state());
                            }
                        };
                        view! {
                            <li data-testid="starter">
                                <span>{name}</span>
                                <button
                                    type="button"
                                    aria-label=format!("Adopt the {name} starter")
                                    on:click=adopt
                                >
                                    "Adopt"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// Opens a `firebreak-playbook` file: checked whole before anything changes; a playbook this
/// device has is merged with it, another becomes one of this device's playbooks.
#[component]
fn OpenPlaybookFile() -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let router = use_router();
    let chosen = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        problem.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            if file.size() > incident::playbook::MAX_PLAYBOOK_FILE_BYTES as f64 {
                problem.set(Some(format!(
                    "{} was not opened: a playbook file may be at most {} MB.",
                    file.name(),
                    incident::playbook::MAX_PLAYBOOK_FILE_BYTES / (1024 * 1024)
                )));
                return;
            }
            let text = match platform::file_text(&file).await {
                Ok(text) => text,
                Err(e) => {
                    problem.set(Some(format!("{} could not be read: {e}", file.name())));
                    return;
                }
            };
            match incident::playbook::read_playbook_file(&text) {
                Ok(opened) => {
                    session::remember_opened_file(&opened.id, opened.state);
                    if prefs::access(&opened.id).is_none() {
                        prefs::set_unpublished(&opened.id, true);
                    }
                    prefs::remember_playbook(&opened.id, &opened.name, opened.version);
                    router.navigate(&playbook_path(&opened.id));
                }
                Err(reason) => {
                    problem.set(Some(format!("{} was not opened: {reason}.", file.name())))
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="h-open-playbook">
            <h2 id="h-open-playbook">"Open a playbook file"</h2>
            <label for="open-playbook-file">"Playbook file (.json)"</label>
            <input id="open-playbook-file" type="file" accept=".json,application/json" on:change=chosen/>
            <p class="hint">
                "A file saved from any Firebreak's playbook page. A playbook already on this device takes in its changes; another becomes one of your playbooks."
            </p>
            {move || problem.get().map(|p| view! { <p id="open-playbook-problem" class="problem" role="alert">{p}</p> })}
        </section>
    }
}
