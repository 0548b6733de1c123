//! Lessons flowing back to the playbook an incident started from: a lesson proposed from the
//! Lessons learned section, a next step proposed from its row, and the post-mortem's list of
//! what was proposed, with the playbook it goes to. Accepting happens on the playbook's page
//! (`playbook_page.rs`). An incident started blank has none of this.
//!
//! When this device has the team's playbook the incident started from, its proposals are
//! also carried into the playbook document ([`CarryProposals`]), so that whoever has the
//! playbook sees them without having the incident.

use incident::playbook::{proposals, ProposalKind};
use leptos::prelude::*;

use super::watch;
use crate::access::FromLink;
use crate::session::{use_incident, OpenIncident};
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

/// Carries the incident's proposals into the playbook it started from, when that playbook is
/// on this device: the playbook is opened beside the incident (its own session: stored here,
/// synced with the relay, as its page would), and `Playbook::carry_proposals` writes what is
/// new, changed or withdrawn. Opened only once the incident proposes something; shows nothing.
#[component]
pub fn CarryProposals() -> impl IntoView {
    let open = use_incident();
    let owner = Owner::current();
    let carrier = StoredValue::new(None::<OpenIncident>);
    let wanted = watch(&open, |i| {
        (
            i.started_from().map(|p| p.id),
            i.title(),
            proposals(i).items,
        )
    });
    let loaded = open.loaded;
    Effect::new(move |_| {
        let (Some(playbook_id), _, items) = wanted.get() else {
            return;
        };
        if !loaded.get() {
            return;
        }
        if carrier.with_value(Option::is_none) {
            let on_device = prefs::known_playbooks().iter().any(|k| k.id == playbook_id);
            if items.is_empty() || !on_device {
                return;
            }
            let opened = match &owner {
                Some(owner) => {
                    owner.with(|| OpenIncident::open_playbook(&playbook_id, FromLink::Nothing))
                }
                None => return,
            };
            carrier.set_value(Some(opened));
        }
        carrier.with_value(|c| {
            let Some(c) = c else { return };
            if !c.loaded.get() {
                return;
            }
            if let Some(playbook) = &c.playbook {
                playbook.carry_proposals(&open.id, &open.incident);
            }
        });
    });
    on_cleanup(move || {
        carrier.with_value(|c| {
            if let Some(c) = c {
                c.close();
            }
        })
    });
}
