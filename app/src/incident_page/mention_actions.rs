//! What can be done with a mention where it is read: in a comment thread, a comment that
//! mentions invited people offers owners and editors "Make this a next step for NAME" for
//! each of them — a new open next step titled with the comment's text (one line, at most
//! 200 characters) and owned by that person's invite, so it is in their "Only mine". Once
//! such a step exists the button says "Made a next step". Viewers see nothing here.

use incident::mentions::{comment_mentions, step_title};
use incident::{Comment, Incident, NextStep, StepStatus};
use leptos::prelude::*;

use crate::session::{use_incident, Standing};
use crate::{mention_picker, people, platform};

/// The "Make this a next step for NAME" buttons of one comment (nothing when it mentions
/// no one invited, or this device may not write).
pub fn for_comment(comment: &Comment) -> Option<impl IntoView> {
    // Most comments mention no one: they watch nothing.
    if !comment.body.contains('@') && comment.mentions().is_empty() {
        return None;
    }
    let open = use_incident();
    let standing = open.standing;
    let invited = people::use_people();
    let steps = super::watch(&open, Incident::next_steps);
    let title = step_title(&comment.body);
    let comment = comment.clone();
    let mentioned = Memo::new(move |_| {
        invited.with(|list| comment_mentions(&comment, &mention_picker::invitees(list)))
    });
    Some(move || {
        let may_write = matches!(standing.get(), Standing::Member(role) if role.may_write());
        let people = mentioned.get();
        (may_write && !people.is_empty() && !title.is_empty()).then(|| {
            let buttons = people
                .into_iter()
                .map(|person| {
                    let made = {
                        let (title, invite) = (title.clone(), person.invite.clone());
                        move || {
                            steps.with(|list| {
                                list.iter()
                                    .any(|(_, s)| s.title == title && s.owner_invite == invite)
                            })
                        }
                    };
                    let label = made.clone();
                    let name = person.name.clone();
                    let make = {
                        let (open, title) = (open.clone(), title.clone());
                        move |_| {
                            open.incident.add_next_step(
                                &platform::new_id(),
                                &NextStep {
                                    title: title.clone(),
                                    owner: person.name.clone(),
                                    owner_invite: person.invite.clone(),
                                    owner_role: None,
                                    status: StepStatus::Open,
                                    due: None,
                                    created_by: crate::prefs::display_name(),
                                    created_at: platform::now_rfc3339(),
                                },
                            );
                        }
                    };
                    view! {
                        <button
                            type="button"
                            class="mention-make-step"
                            data-testid="comment-make-step"
                            disabled=made
                            on:click=make
                        >
                            {move || if label() {
                                "Made a next step".to_string()
                            } else {
                                format!("Make this a next step for {name}")
                            }}
                        </button>
                    }
                })
                .collect_view();
            view! { <p class="comment-mention-actions">{buttons}</p> }
        })
    })
}
