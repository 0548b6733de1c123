//! Sharing, for the incident's owners (on whichever device each holds their own link):
//! invite a person by name with a role, hand them their own link (copy it, or let them scan
//! its QR code), see who is invited, when they were last here and when their link expires
//! (kept current by the page's clock), change anyone's role (make them owner too), and revoke
//! anyone. Every name comes from the relay and is shown as text.

mod qr;

use std::time::Duration;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::clipboard;
use crate::access::{self, Invite};
use crate::form::{confirm, Confirm, Field};
use crate::platform;
use crate::prefs;
use crate::session::{use_incident, Standing};
use qr::QrCodeSvg;
use wire::Access;

/// How often the open panel refreshes who is connected.
const REFRESH: Duration = Duration::from_secs(4);
const MAX_NAME: usize = 80;

/// "Share", in the incident's header bar; every owner's device has it.
#[component]
pub fn ShareButton(sharing: RwSignal<bool>) -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let owner = Memo::new(move |_| standing.get() == Standing::Member(Access::Owner));
    move || {
        owner.get().then(|| {
            view! {
                <button
                    type="button"
                    id="share-button"
                    class="share-button"
                    aria-controls="share-panel"
                    aria-expanded=move || sharing.get().to_string()
                    on:click=move |_| sharing.update(|s| *s = !*s)
                >
                    "Share"
                </button>
            }
        })
    }
}

/// A link made a moment ago: the only time its token is seen.
#[derive(Clone, PartialEq)]
struct Made {
    name: String,
    role: Access,
    link: String,
}

/// The owner's panel: invite, the new link, and everyone invited.
#[component]
pub fn SharePanel(sharing: RwSignal<bool>) -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let shown =
        Memo::new(move |_| sharing.get() && standing.get() == Standing::Member(Access::Owner));
    let id = open.id.clone();
    move || {
        shown
            .get()
            .then(|| view! { <Panel id=id.clone() sharing=sharing/> })
    }
}

#[component]
fn Panel(id: String, sharing: RwSignal<bool>) -> impl IntoView {
    let what = if use_incident().is_playbook() {
        "playbook"
    } else {
        "incident"
    };
    let held = prefs::access(&id);
    let mine = held.as_ref().map(|a| a.invite.clone()).unwrap_or_default();
    let token = held.map(|a| a.token).unwrap_or_default();
    let invites = RwSignal::new(None::<Result<Vec<Invite>, String>>);
    let made = RwSignal::new(None::<Made>);
    let refresh = {
        let (id, token) = (id.clone(), token.clone());
        move || {
            let (id, token) = (id.clone(), token.clone());
            leptos::task::spawn_local(async move {
                let answer = access::invites(&id, &token)
                    .await
                    .map_err(|e| format!("Could not load who is invited: {e}."));
                // Unchanged: leave the list (and a focused button in it) alone.
                if invites.try_get_untracked().flatten().as_ref() != Some(&answer) {
                    if invites.try_get_untracked().flatten().is_some() {
                        crate::people::changed();
                    }
                    invites.try_set(Some(answer));
                }
            });
        }
    };
    refresh();
    let poll = set_interval_with_handle(refresh.clone(), REFRESH)
        .map_err(|e| platform::log_error(&platform::js_error_text(&e)))
        .ok();
    on_cleanup(move || {
        if let Some(handle) = poll {
            handle.clear();
        }
    });
    view! {
        <section id="share-panel" class="card share-panel" aria-labelledby="h-share">
            <div class="share-head">
                <h2 id="h-share">"Share this " {what}</h2>
                <button type="button" class="secondary" on:click=move |_| sharing.set(false)>
                    "Close"
                </button>
            </div>
            <p class="hint">
                "Only the people you invite can open this " {what} ". Each gets their own link: send it to that person only."
            </p>
            <InviteForm id=id.clone() token=token.clone() made=made on_made=refresh.clone()/>
            {move || made.get().map(|made| view! { <NewLink made=made/> })}
            <h3 id="h-invited">"Invited"</h3>
            <p class="hint" id="revoke-note">
                "Revoking a link stops it at once and disconnects that person. What they already saw, or kept on their device, cannot be un-seen."
            </p>
            <InviteList
                id=id.clone()
                token=token
                mine=mine
                invites=invites
                made=made
                on_change=refresh
            />
            <super::owner_actions::OwnerActions id=id/>
        </section>
    }
}

#[component]
fn InviteForm(
    id: String,
    token: String,
    made: RwSignal<Option<Made>>,
    on_made: impl Fn() + Clone + 'static,
) -> impl IntoView {
    let page = use_incident().page_path();
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Access::Editor);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = name.get_untracked().trim().to_string();
        if typed.is_empty() {
            problem.set(Some("Type the name of the person to invite.".to_string()));
            return;
        }
        if typed.chars().count() > MAX_NAME {
            problem.set(Some(format!("A name is at most {MAX_NAME} characters.")));
            return;
        }
        let chosen = role.get_untracked();
        let (id, token, on_made) = (id.clone(), token.clone(), on_made.clone());
        let page = page.clone();
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let answer = access::invite(&id, &token, &typed, chosen).await;
            busy.try_set(false);
            match answer {
                Ok(new) => {
                    made.try_set(Some(Made {
                        link: access::invite_link(&page, &new.token),
                        name: new.name,
                        role: new.role,
                    }));
                    name.try_set(String::new());
                    crate::people::changed();
                    on_made();
                }
                Err(e) => {
                    problem.try_set(Some(format!("Could not create the invite: {e}.")));
                }
            }
        });
    };
    view! {
        <form class="invite-form" on:submit=submit>
            <div class="invite-fields">
                {Field::new("invite-name", "Name of the person")
                    .wrap("invite-field grow")
                    .autocomplete("off")
                    .maxlength("80")
                    .two_way(name)
                    .view()}
                {Field::new("invite-role", "Role")
                    .wrap("invite-field")
                    .select(
                        None,
                        vec![
                            ("editor", "Editor — reads and changes everything"),
                            ("viewer", "Viewer — reads only"),
                        ],
                    )
                    .bind(Signal::derive(move || role.get().as_str().to_string()))
                    .on_change(move |v| role.set(Access::parse(&v).unwrap_or(Access::Viewer)))
                    .view()}
            </div>
            {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <button type="submit" prop:disabled=move || busy.get()>
                "Create invite link"
            </button>
        </form>
    }
}

/// The link just made, its copy button and its QR code.
#[component]
fn NewLink(made: Made) -> impl IntoView {
    let Made { name, role, link } = made;
    let feedback = RwSignal::new(None::<String>);
    let copy = {
        let link = link.clone();
        move |_| {
            let link = link.clone();
            leptos::task::spawn_local(async move {
                match clipboard::write_text(&link).await {
                    Ok(()) => {
                        feedback.try_set(Some("Copied the link.".to_string()));
                    }
                    Err(why) => {
                        feedback.try_set(Some(format!(
                            "Could not copy ({why}). The link is selected above: copy it by hand."
                        )));
                        request_animation_frame(|| {
                            if let Some(input) =
                                platform::element_by_id::<web_sys::HtmlInputElement>("invite-link")
                            {
                                if let Err(e) = input.focus() {
                                    platform::log_error(&platform::js_error_text(&e));
                                }
                                input.select();
                            }
                        });
                    }
                }
            });
        }
    };
    let label = format!("QR code of the invite link for {name}");
    view! {
        <div class="new-link" data-testid="new-invite">
            <p class="new-link-for">
                "Link for " <strong>{name}</strong> " (" {role.as_str()} ")"
            </p>
            {Field::new("invite-link", "Invite link").value(link.clone()).readonly().view()}
            <button type="button" on:click=copy>"Copy link"</button>
            <p class="hint" role="status">{move || feedback.get()}</p>
            <QrCodeSvg text=link label=label/>
            <p class="hint">
                "This link is shown only now. Send it, or let them scan the code; if it is lost, revoke it and invite them again."
            </p>
        </div>
    }
}

/// One line about when someone was last here.
fn seen(invite: &Invite, now: f64) -> String {
    if let Some(at) = invite.revoked_at {
        return format!("revoked {}", access::shown_time(at));
    }
    if let Some(at) = invite.expires_at.filter(|at| *at as f64 <= now) {
        return format!("expired {}", access::shown_time(at));
    }
    let seen = if invite.connected > 0 {
        "connected now".to_string()
    } else {
        match invite.last_seen_at {
            Some(at) => format!("last connected {}", access::shown_time(at)),
            None => "never connected".to_string(),
        }
    };
    match invite.expires_at {
        Some(at) => format!("{seen} · expires in {}", time_left(at as f64 - now)),
        None => seen,
    }
}

/// What is left of an invite's time, as "40 min", "3 h", "2 days" ("1 min" at the end).
fn time_left(ms: f64) -> String {
    let minutes = (ms / 60_000.0).ceil().max(1.0) as u64;
    match minutes {
        1 => "1 min".to_string(),
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// A warning when wrong secrets named this link: someone is guessing at it. They cannot get
/// in (the secret is 128 random bits), and its holder is never locked out by it.
fn guessed(invite: &Invite) -> Option<impl IntoView> {
    let count = invite.failed_attempts;
    (count > 0).then(|| {
        let text = match count {
            1 => "1 wrong secret tried for this link".to_string(),
            n => format!("{n} wrong secrets tried for this link"),
        };
        view! { <span class="invite-warning" data-testid="failed-attempts">{text}</span> }
    })
}

/// When another device tried this link (it was passed on: a link works only on the first
/// device that opens it): how often and when last, and a button for a new link for the
/// same person and role (the old one revoked).
fn passed_on(
    invite: &Invite,
    reissue: impl Fn(Invite) + Clone + Send + Sync + 'static,
) -> Option<impl IntoView> {
    let revoked = invite.revoked_at.is_some();
    (invite.other_device_attempts > 0 && invite.role != Access::Owner).then(|| {
        let times = match invite.other_device_attempts {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        let last = invite
            .other_device_last_at
            .map(|at| format!(", last {}", access::shown_time(at)))
            .unwrap_or_default();
        let text = format!("Another device tried to open this link {times}{last}.");
        let old = invite.clone();
        let label = format!("Re-issue link for {}", invite.name);
        view! {
            <span class="invite-warning" data-testid="other-device">{text}</span>
            {(!revoked).then(|| view! {
                <button
                    type="button"
                    class="secondary reissue"
                    aria-label=label
                    on:click=move |_| reissue(old.clone())
                >
                    "Re-issue link"
                </button>
            })}
        }
    })
}

#[component]
fn InviteList(
    id: String,
    token: String,
    /// This device's own invite id: its row says "you".
    mine: String,
    invites: RwSignal<Option<Result<Vec<Invite>, String>>>,
    made: RwSignal<Option<Made>>,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let page = use_incident().page_path();
    let confirming = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    // A new link for the same person and role, the old one revoked: for a link passed on
    // to another device (or lost).
    let reissue = {
        let (id, token, on_change) = (id.clone(), token.clone(), on_change.clone());
        move |old: Invite| {
            let (id, token, on_change) = (id.clone(), token.clone(), on_change.clone());
            let page = page.clone();
            leptos::task::spawn_local(async move {
                let answer = match access::revoke(&id, &token, &old.invite).await {
                    Ok(_) => access::invite(&id, &token, &old.name, old.role).await,
                    Err(e) => Err(e),
                };
                match answer {
                    Ok(new) => {
                        made.try_set(Some(Made {
                            link: access::invite_link(&page, &new.token),
                            name: new.name,
                            role: new.role,
                        }));
                        problem.try_set(None);
                    }
                    Err(e) => {
                        problem.try_set(Some(format!("Could not re-issue the link: {e}.")));
                    }
                }
                on_change();
            });
        }
    };
    let change_role = {
        let (id, token, on_change) = (id.clone(), token.clone(), on_change.clone());
        move |invite: String, role: Access| {
            let (id, token, on_change) = (id.clone(), token.clone(), on_change.clone());
            leptos::task::spawn_local(async move {
                match access::change_role(&id, &token, &invite, role).await {
                    Ok(_) => {
                        crate::people::changed();
                        problem.try_set(None);
                    }
                    Err(e) => {
                        problem.try_set(Some(format!("Could not change the role: {e}.")));
                    }
                }
                on_change();
            });
        }
    };
    let revoke = move |invite: String| {
        let (id, token, on_change) = (id.clone(), token.clone(), on_change.clone());
        leptos::task::spawn_local(async move {
            match access::revoke(&id, &token, &invite).await {
                Ok(_) => {
                    crate::people::changed();
                    confirming.try_set(None);
                    problem.try_set(None);
                }
                Err(e) => {
                    problem.try_set(Some(format!("Could not revoke the link: {e}.")));
                }
            }
            on_change();
        });
    };
    let rows = move || match invites.get() {
        None => view! { <p class="loading">"Loading who is invited…"</p> }.into_any(),
        Some(Err(message)) => {
            view! { <p class="field-error" role="alert">{message}</p> }.into_any()
        }
        Some(Ok(list)) => {
            let revoke = revoke.clone();
            let reissue = reissue.clone();
            let change_role = change_role.clone();
            let mine = mine.clone();
            view! {
                <ul class="invite-list" aria-labelledby="h-invited">
                    {list
                        .into_iter()
                        .map(|invite| {
                            view! {
                                <InviteRow
                                    mine=invite.invite == mine
                                    invite=invite
                                    change_role=change_role.clone()
                                    confirming=confirming
                                    revoke=revoke.clone()
                                    reissue=reissue.clone()
                                />
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        {rows}
        {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
    }
}

#[component]
fn InviteRow(
    invite: Invite,
    /// This device's own link.
    mine: bool,
    change_role: impl Fn(String, Access) + Clone + Send + Sync + 'static,
    confirming: RwSignal<Option<String>>,
    revoke: impl Fn(String) + Clone + Send + Sync + 'static,
    reissue: impl Fn(Invite) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let passed_on = passed_on(&invite, reissue);
    let role = invite.role;
    let revoked = invite.revoked_at.is_some();
    let key = invite.invite.clone();
    let name = invite.name.clone();
    let role_text = match role {
        Access::Owner if mine => "owner (you)",
        _ => role.as_str(),
    };
    // "expires in 40 min" turns into "expired" while the panel stays open.
    let clock = crate::clock::now();
    let status = {
        let invite = invite.clone();
        move || {
            clock.track();
            seen(&invite, platform::now_millis())
        }
    };
    let name_id = format!("invite-name-{key}");
    let role_choice = (!mine && !revoked).then(|| {
        // Named "Access for Bob" from what shows (not "Role …": the invite form's own field
        // is labelled "Role").
        let label_id = format!("invite-access-{key}");
        let labelled = format!("{label_id} invite-name-{key}");
        let select_id = format!("{label_id}-choice");
        let key = key.clone();
        let options = Access::ALL.map(|a| {
            view! { <option value=a.as_str() selected=a == role>{a.as_str()}</option> }
        });
        view! {
            <label class="role-choice-label" id=label_id for=select_id.clone()>"Access for"</label>
            <select
                class="role-choice"
                id=select_id
                aria-labelledby=labelled
                data-testid="invite-role"
                on:change=move |ev| {
                    if let Some(chosen) = Access::parse(&event_target_value(&ev)) {
                        if chosen != role {
                            change_role(key.clone(), chosen);
                        }
                    }
                }
            >
                {options.into_iter().collect_view()}
            </select>
        }
    });
    let actions = (!mine && !revoked).then(|| {
        let asking = {
            let key = key.clone();
            Memo::new(move |_| confirming.get().as_deref() == Some(key.as_str())).into()
        };
        let set_asking = {
            let key = key.clone();
            Callback::new(move |on: bool| confirming.set(on.then(|| key.clone())))
        };
        let key = key.clone();
        confirm(Confirm {
            asking,
            set_asking,
            ask: ("Revoke", "secondary revoke"),
            question: format!(
                "Revoke {name}’s link? It stops working at once and {name} is disconnected. What {name} already saw, or kept on their device, cannot be un-seen."
            ),
            question_class: "confirm-revoke",
            group: Some("Confirm revoking"),
            yes: ("Revoke access", "danger"),
            no: ("Cancel", "secondary"),
            id: None,
            on_yes: Callback::new(move |()| revoke(key.clone())),
        })
    });
    view! {
        <li
            data-testid="invite"
            data-invite=key
            data-role=role.as_str()
            class:revoked=revoked
        >
            <span class="invite-name" id=name_id>{invite.name.clone()}</span>
            <span class="role-chip">{role_text}</span>
            {role_choice}
            <span class="invite-seen">{status}</span>
            {guessed(&invite)}
            {passed_on}
            {actions}
        </li>
    }
}
