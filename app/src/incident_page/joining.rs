//! Joining from an invite link, and what a device that may not change the incident is told:
//! the name asked of someone invited, the page for someone with no (working) invite, and
//! the note above an incident that can only be read here.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::access::{self, Refusal};
use crate::form::Field;
use crate::prefs;
use crate::session::{use_incident, Standing};
use incident::Tlp;
use wire::api::Preview;
use wire::Access;

/// The join screen: shown when an invite link opens an incident this device has no copy of
/// (or on a device with no display name yet). It says what the invite opens and asks the
/// name to show, prefilled with this device's name, else the name the person was invited as.
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
        let known = crate::prefs::display_name();
        let typed = RwSignal::new(if known.trim().is_empty() {
            invited.clone()
        } else {
            known.trim().to_string()
        });
        let open = open.clone();
        let what = if open.is_playbook() {
            "playbook"
        } else {
            "incident"
        };
        let hint = if invited.trim().is_empty() {
            format!("The other responders see this name next to yours while you both have the {what} open.")
        } else {
            format!(
                "You were invited as “{invited}”. The other responders see this name next to yours while you both have the {what} open."
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
                <h1 id="h-join">"You are invited to this " {what}</h1>
                <InvitePreview />
                <form on:submit=submit>
                    {field.view()}
                    <button type="submit">"Open the " {what}</button>
                </form>
            </section>
        })
    }
}

/// What the invite opens, asked of the relay with the invite's token before the incident is
/// opened: title, handling label and TLP level, the role in words, who invited. Without the
/// relay the join screen works as before and says the preview is missing; a refused token
/// shows the page's usual refusal.
#[component]
fn InvitePreview() -> impl IntoView {
    let open = use_incident();
    let shown: RwSignal<Option<Result<Preview, String>>> = RwSignal::new(None);
    match prefs::access(&open.id) {
        Some(held) => {
            let open = open.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = access::preview(&open.id, &held.token).await;
                match result {
                    Ok(preview) => shown.try_set(Some(Ok(preview))),
                    Err(e) => match Refusal::from_api(&e) {
                        Some(why) => {
                            open.refused(why);
                            None
                        }
                        None => shown.try_set(Some(Err(e.to_string()))),
                    },
                };
            });
        }
        None => shown.set(Some(Err("this device holds no invite for it".to_string()))),
    }
    move || match shown.get() {
        None => view! {
            <p id="join-preview" class="join-preview" data-state="asking">
                "Asking the relay what this invite opens…"
            </p>
        }
        .into_any(),
        Some(Err(why)) => view! {
            <p id="join-preview" class="join-preview" data-state="unavailable" role="note">
                "What this invite opens cannot be shown right now ("
                {why}
                "). You can still open it; it syncs when the relay can be reached."
            </p>
        }
        .into_any(),
        Some(Ok(preview)) => preview_view(preview, open.is_playbook()).into_any(),
    }
}

fn preview_view(preview: Preview, playbook: bool) -> impl IntoView {
    let what = if playbook { "playbook" } else { "incident" };
    let title = match preview.title.trim() {
        "" => format!("Untitled {what}"),
        given => given.to_string(),
    };
    let tlp = Tlp::parse(&preview.tlp);
    let tlp_class = format!("tlp-banner {}", tlp.map_or("", |level| level.css_class()));
    let meaning = tlp.map_or("", |level| level.meaning());
    let role = match preview.role {
        Access::Owner => "You can edit and share it (owner).",
        Access::Editor => "You can edit it (editor).",
        Access::Viewer => "You can read it; only editors can change it (viewer).",
    };
    let inviter = match preview.invited_by {
        Some(name) => format!("Invited by {name}."),
        None => format!("Invited by the {what}'s owner."),
    };
    let label = preview.classification.trim().to_string();
    view! {
        <div id="join-preview" class="join-preview" data-state="shown" data-role=preview.role.as_str()>
            <p class="join-title"><strong>{title}</strong></p>
            {preview.drill.then(|| view! {
                <p id="join-drill" class="banner drill-banner" role="note">
                    <strong>{incident::DRILL_LABEL}</strong>
                    " — "
                    {incident::DRILL_MEANING}
                </p>
            })}
            <p class=tlp_class data-tlp=preview.tlp.clone()>
                <strong>"TLP:" {preview.tlp.clone()}</strong>
                {(!meaning.is_empty()).then(|| format!(" — {meaning}"))}
            </p>
            {(!label.is_empty()).then(|| view! { <p class="join-label">"Handling: " {label}</p> })}
            <p class="join-role">{role}</p>
            <p class="join-inviter">{inviter}</p>
        </div>
    }
}

/// In place of an incident this device has no copy of and may not open.
#[component]
pub fn NoAccess() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let playbook = open.is_playbook();
    let what = if playbook { "playbook" } else { "incident" };
    move || {
        let Standing::Refused(why) = standing.get() else {
            return None;
        };
        let heading = match why {
            Refusal::NeedInvite => format!("You need an invite link to open this {what}"),
            Refusal::BrokenLink => "This invite link is incomplete".to_string(),
            Refusal::InUseElsewhere => {
                "This invite is already in use on another device".to_string()
            }
            _ => format!("This {what} cannot be opened here"),
        };
        let (shared, back, home) = if playbook {
            (
                "Playbooks are shared only with the people their owner invites, each with their own link.",
                "Go to the playbooks on this device",
                "/playbooks",
            )
        } else {
            (
                "Incidents are shared only with the people their incident commander invites, each with their own link.",
                "Go to the incidents on this device",
                "/",
            )
        };
        Some(view! {
            <section class="card no-access" aria-labelledby="h-no-access">
                <h1 id="h-no-access">{heading}</h1>
                <p>{why.message_for(playbook)}</p>
                <p>{shared}</p>
                <p><a href=home>{back}</a></p>
            </section>
        })
    }
}

/// Above an incident that is shown but cannot be changed here.
#[component]
pub fn ReadOnlyNote() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let what = if open.is_playbook() {
        "playbook"
    } else {
        "incident"
    };
    let note = Memo::new(move |_| {
        match standing.get() {
        Standing::Member(Access::Viewer) => {
            Some(format!("You can read this {what}; only editors can change it. Changes others make show here as they happen."))
        }
        Standing::Refused(Refusal::Taken) | Standing::Member(_) => None,
        Standing::Refused(_) => {
            Some("This copy can only be read: it no longer syncs with the others.".to_string())
        }
        Standing::Checking | Standing::Naming { .. } | Standing::Loading => {
            Some(format!("You can read this {what} while the relay confirms your invite."))
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
