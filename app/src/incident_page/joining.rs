//! Joining from an invite link, and what a device that may not change the incident is told:
//! the name asked of someone invited, the page for someone with no (working) invite, and
//! the note above an incident that can only be read here.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::access::Refusal;
use crate::form::Field;
use crate::session::{use_incident, Standing};
use wire::Access;

/// Asked once, of a person who opened an invite link on a device with no display name yet.
#[component]
pub fn JoinName() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let invited = Memo::new(move |_| match standing.get() {
        Standing::Naming { invited } => Some(invited),
        _ => None,
    });
    move || {
        let invited = invited.get()?;
        let typed = RwSignal::new(invited.clone());
        let open = open.clone();
        let hint = if invited.trim().is_empty() {
            "The other responders see this name next to yours while you both have the incident open.".to_string()
        } else {
            format!(
                "You were invited as “{invited}”. The other responders see this name next to yours while you both have the incident open."
            )
        };
        let field = Field::new("join-name", "Your name")
            .autocomplete("name")
            .maxlength("80")
            .hint(hint)
            .two_way(typed);
        let problem = field.problem();
        let submit = move |ev: SubmitEvent| {
            ev.prevent_default();
            let name = typed.get_untracked();
            if name.trim().is_empty() {
                problem.set(Some(
                    "Type the name the other responders will see.".to_string(),
                ));
                return;
            }
            open.named(&name);
        };
        Some(view! {
            <section class="card join" aria-labelledby="h-join">
                <h1 id="h-join">"You are invited to this incident"</h1>
                <form on:submit=submit>
                    {field.view()}
                    <button type="submit">"Open the incident"</button>
                </form>
            </section>
        })
    }
}

/// In place of an incident this device has no copy of and may not open.
#[component]
pub fn NoAccess() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    move || {
        let Standing::Refused(why) = standing.get() else {
            return None;
        };
        let heading = match why {
            Refusal::NeedInvite => "You need an invite link to open this incident",
            Refusal::BrokenLink => "This invite link is incomplete",
            Refusal::InUseElsewhere => "This invite is already in use on another device",
            _ => "This incident cannot be opened here",
        };
        Some(view! {
            <section class="card no-access" aria-labelledby="h-no-access">
                <h1 id="h-no-access">{heading}</h1>
                <p>{why.message()}</p>
                <p>
                    "Incidents are shared only with the people their incident commander invites, each with their own link."
                </p>
                <p><a href="/">"Go to the incidents on this device"</a></p>
            </section>
        })
    }
}

/// Above an incident that is shown but cannot be changed here.
#[component]
pub fn ReadOnlyNote() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let note = Memo::new(move |_| {
        match standing.get() {
        Standing::Member(Access::Viewer) => {
            Some("You can read this incident; only editors can change it. Changes others make show here as they happen.")
        }
        Standing::Refused(Refusal::Taken) | Standing::Member(_) => None,
        Standing::Refused(_) => {
            Some("This copy can only be read: it no longer syncs with the others.")
        }
        Standing::Checking | Standing::Naming { .. } | Standing::Loading => {
            Some("You can read this incident while the relay confirms your invite.")
        }
        Standing::Unpublished | Standing::Publishing | Standing::NeedsCreationSecret { .. } => {
            None
        }
    }
    });
    move || {
        note.get().map(
            |text| view! { <p id="read-only-note" class="banner read-only" role="note">{text}</p> },
        )
    }
}
