//! What the owner does to the incident itself, in the share panel: give their own link a new
//! token ("Rotate owner link": the old one stops working, on every device that holds it), and
//! delete the incident for everyone. Also what every other device then shows: that the
//! incident was deleted, and a way to remove its copy from the device.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::access::{self, Refusal};
use crate::form::{asking_here, confirm, Confirm, Field};
use crate::platform;
use crate::prefs;
use crate::router::use_router;
use crate::session::{use_incident, Standing};

/// What the open document is, in the page's words.
fn what(open: &crate::session::OpenIncident) -> &'static str {
    if open.is_playbook() {
        "playbook"
    } else {
        "incident"
    }
}

fn online() -> bool {
    platform::window().navigator().on_line()
}

/// The owner's own link and the incident's end, at the foot of the share panel.
#[component]
pub fn OwnerActions(id: String) -> impl IntoView {
    let what = what(&use_incident());
    view! {
        <h3 id="h-owner-actions">{format!("Your owner link and this {what}")}</h3>
        <RotateOwner id=id.clone()/>
        <DeleteIncident id=id/>
    }
}

/// "Rotate owner link": a new owner token replaces this device's; any other device holding
/// the old one is disconnected and refused from then on.
#[component]
fn RotateOwner(id: String) -> impl IntoView {
    let open = use_incident();
    let what = what(&open);
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let (asking, set_asking) = asking_here();
    let rotate = Callback::new(move |()| {
        set_asking.run(false);
        if !online() {
            problem.set(Some(
                "You are offline: rotating the owner link needs the relay.".to_string(),
            ));
            return;
        }
        let Some(held) = prefs::access(&id) else {
            return;
        };
        let (id, open) = (id.clone(), open.clone());
        problem.set(None);
        leptos::task::spawn_local(async move {
            match access::rotate_owner(&id, &held.token).await {
                Ok(owner) => {
                    open.rotated(owner);
                    done.try_set(true);
                }
                Err(e) => {
                    problem.try_set(Some(format!("Could not rotate the owner link: {e}.")));
                }
            }
        });
    });
    let ask = confirm(Confirm {
        asking,
        set_asking,
        ask: ("Rotate owner link", "secondary"),
        question: format!("Give this device a new owner link? The old one stops working at once: any other device or person holding it is disconnected and can no longer open the {what} as its owner."),
        question_class: "confirm-rotate",
        group: Some("Confirm rotating the owner link"),
        yes: ("Rotate it", "danger"),
        no: ("Cancel", "secondary"),
        id: Some("rotate-owner".to_string()),
        on_yes: rotate,
    });
    view! {
        <div class="owner-action" data-testid="rotate-owner">
            <p class="hint">
                {format!("If the owner link may have been seen by someone else (a shared screen, a lost device), rotate it: this device keeps the {what} with a new one.")}
            </p>
            {ask}
            {move || done.get().then(|| view! { <p class="hint" role="status">"Owner link rotated: the old one no longer works."</p> })}
            {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}

/// "Delete incident": typed confirmation (the incident's title, or DELETE), online only.
#[component]
fn DeleteIncident(id: String) -> impl IntoView {
    let open = use_incident();
    let what = what(&open);
    let (home, title_word) = if open.is_playbook() {
        ("/playbooks", "name")
    } else {
        ("/", "title")
    };
    let router = use_router();
    let asking = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let title = {
        let open = open.clone();
        let revision = open.revision;
        Memo::new(move |_| {
            revision.track();
            match &open.playbook {
                Some(playbook) => playbook.name(),
                None => open.incident.title(),
            }
        })
    };
    let matches = move || {
        let typed = typed.get();
        let typed = typed.trim();
        !typed.is_empty() && (typed == "DELETE" || typed == title.get().trim())
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !matches() {
            problem.set(Some(format!(
                "Type the {what}'s {title_word}, or DELETE, to confirm."
            )));
            return;
        }
        if !online() {
            problem.set(Some(format!(
                "You are offline: deleting the {what} needs the relay. Nothing was deleted."
            )));
            return;
        }
        let Some(held) = prefs::access(&id) else {
            return;
        };
        let (id, open) = (id.clone(), open.clone());
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match access::delete_incident(&id, &held.token).await {
                Ok(()) => {
                    if let Err(e) = open.remove_from_device().await {
                        platform::log_error(&format!(
                            "the {what} was deleted, but its copy here could not be removed: {e}"
                        ));
                    }
                    router.navigate(home);
                }
                Err(e) => {
                    busy.try_set(false);
                    problem.try_set(Some(format!("Could not delete the {what}: {e}.")));
                }
            }
        });
    };
    let form = move || {
        let submit = submit.clone();
        asking.get().then(move || {
            let field = Field::new(
                "delete-confirm",
                if what == "playbook" {
                    "Type the playbook's name, or DELETE"
                } else {
                    "Type the incident's title, or DELETE"
                },
            )
                .autocomplete("off")
                .two_way(typed);
            view! {
                <form class="delete-incident" on:submit=submit>
                    <p class="confirm-delete-incident" id="delete-incident-question">
                        {format!("Delete this {what} for everyone? Everyone connected is disconnected, the relay keeps nothing of it, and nobody can open it again, not even with their link. Copies already on other devices stay there until their holders remove them.")}
                    </p>
                    {field.view()}
                    <button
                        type="submit"
                        class="danger"
                        id="delete-incident-yes"
                        prop:disabled=move || busy.get() || !matches()
                    >
                        "Delete for everyone"
                    </button>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| {
                            asking.set(false);
                            typed.set(String::new());
                            problem.set(None);
                        }
                    >
                        "Cancel"
                    </button>
                </form>
            }
        })
    };
    view! {
        <div class="owner-action" data-testid="delete-incident">
            <Show when=move || !asking.get()>
                <button type="button" class="secondary danger-outline" id="delete-incident" on:click=move |_| asking.set(true)>
                    {if what == "playbook" { "Delete playbook" } else { "Delete incident" }}
                </button>
            </Show>
            {form}
            {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}

/// On a device that finds the incident deleted by its owner: says so, and offers to remove
/// the copy kept here (which stays until its holder chooses).
#[component]
pub fn DeletedNotice() -> impl IntoView {
    let open = use_incident();
    let what = what(&open);
    let router = use_router();
    let standing = open.standing;
    let deleted = Memo::new(move |_| standing.get() == Standing::Refused(Refusal::Deleted));
    let problem = RwSignal::new(None::<String>);
    let (asking, set_asking) = asking_here();
    let remove = Callback::new(move |()| {
        let open = open.clone();
        leptos::task::spawn_local(async move {
            match open.remove_from_device().await {
                Ok(()) => router.navigate("/"),
                Err(e) => {
                    problem.try_set(Some(format!("Could not remove the copy: {e}.")));
                }
            }
        });
    });
    move || {
        deleted.get().then(|| {
            let ask = confirm(Confirm {
                asking,
                set_asking,
                ask: ("Remove from this device", "danger"),
                question: format!("Remove this {what} from this device? What is here is the last copy this device has; it cannot be brought back."),
                question_class: "confirm-remove-local",
                group: Some(if what == "playbook" {
                    "Confirm removing the playbook from this device"
                } else {
                    "Confirm removing the incident from this device"
                }),
                yes: ("Remove it", "danger"),
                no: ("Keep it", "secondary"),
                id: Some("remove-local".to_string()),
                on_yes: remove,
            });
            view! {
                <section class="card deleted-notice" id="deleted-notice" role="alert" aria-labelledby="h-deleted">
                    <h2 id="h-deleted">{format!("This {what} was deleted by its owner")}</h2>
                    <p>
                        "Nothing of it is on the relay any more, and nothing more will sync. The copy on this device stays, read-only, until you remove it."
                    </p>
                    {ask}
                    {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </section>
            }
        })
    }
}
