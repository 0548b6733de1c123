//! Lessons flowing back to the playbook an incident started from: a lesson proposed from the
//! Lessons learned section, a next step proposed from its row, and the post-mortem's list of
//! what was proposed, with the playbook it goes to. Accepting happens on the playbook's page
//! (`playbook_page.rs`). An incident started blank has none of this.

use incident::playbook::{proposals, ProposalKind};
use leptos::prelude::*;

use super::watch;
use crate::session::use_incident;
use crate::{platform, prefs};

/// "Propose a lesson for the playbook", under the Lessons learned text.
#[component]
pub fn ProposeLesson() -> impl IntoView {
    let open = use_incident();
    let playbook = watch(&open, |i| i.started_from().map(|p| p.name));
    let lessons = watch(&open, |i| {
        proposals(i)
            .items
            .into_iter()
            .filter(|(_, p)| p.kind == ProposalKind::Lesson)
            .map(|(_, p)| p.text)
            .collect::<Vec<_>>()
    });
    let text = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = text.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        open.incident.propose_lesson(
            &platform::new_id(),
            typed.trim(),
            &prefs::display_name(),
            &platform::now_rfc3339(),
        );
        text.set(String::new());
    };
    move || {
        let name = playbook.get()?;
        Some(view! {
            <form class="propose-lesson" on:submit=submit.clone()>
                <label for="propose-lesson">{format!("Propose a lesson for the {name} playbook")}</label>
                <input
                    id="propose-lesson"
                    type="text"
                    autocomplete="off"
                    prop:value=move || text.get()
                    on:input:target=move |ev| text.set(ev.target().value())
                />
                <button type="submit">"Propose lesson"</button>
            </form>
            <ul class="proposed-lessons" aria-label="Lessons proposed for the playbook">
                {move || {
                    lessons
                        .get()
                        .into_iter()
                        .map(|l| view! { <li data-testid="proposed-lesson">{l}</li> })
                        .collect_view()
                }}
            </ul>
        })
    }
}

/// "Propose for playbook" on a next step of an incident started from a playbook; once
/// proposed, it says so.
#[component]
pub fn ProposeStep(id: String) -> impl IntoView {
    let open = use_incident();
    let from_playbook = watch(&open, |i| i.started_from().is_some());
    let proposed = {
        let id = id.clone();
        watch(&open, move |i| {
            proposals(i).items.iter().any(|(entry, _)| *entry == id)
        })
    };
    move || {
        if !from_playbook.get() {
            return None;
        }
        if proposed.get() {
            return Some(view! { <span class="proposed" data-testid="step-proposed">"Proposed for the playbook"</span> }.into_any());
        }
        let (open, id) = (open.clone(), id.clone());
        Some(
            view! {
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| {
                        open.incident.propose_next_step(&id, &prefs::display_name(), &platform::now_rfc3339());
                    }
                >
                    "Propose for playbook"
                </button>
            }
            .into_any(),
        )
    }
}

/// In the post-mortem: what this incident proposed, and for which playbook.
#[component]
pub fn ProposalsReview() -> impl IntoView {
    let open = use_incident();
    let found = watch(&open, proposals);
    move || {
        let found = found.get();
        let playbook = found.playbook?;
        Some(view! {
            <div class="proposals-review" data-testid="proposals-review">
                <h3>{playbook.describe()}</h3>
                {if found.items.is_empty() {
                    view! { <p class="empty">"Nothing proposed for the playbook yet."</p> }.into_any()
                } else {
                    view! {
                        <ul aria-label="Proposed for the playbook">
                            {found
                                .items
                                .into_iter()
                                .map(|(_, p)| {
                                    view! {
                                        <li data-testid="review-proposal">
                                            {format!("{}: {} (proposed by {})", p.kind.label(), p.text, p.proposed_by)}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </div>
        })
    }
}
