//! Roles: who runs the response. Anyone may take an open role or take one over, and the
//! incident commander or an owner may give any role to a person invited to the incident
//! (who then sees their name on it); the model writes every hand-off on the timeline.
//! Giving roles is the app's rule, not the relay's: roles grant nothing there.

use incident::{Role, RoleHolder};
use leptos::prelude::*;
use wire::Access;

use super::{heading, watch};
use crate::form::Field;
use crate::people::{self, Person};
use crate::session::{use_incident, Standing};
use crate::{platform, prefs};

/// Whether the holder is the person at this device: by invite when the role was given to an
/// invited person, else by name.
fn held_here(holder: &RoleHolder, my_name: &str, my_invite: &str) -> bool {
    if !holder.invite.is_empty() && !my_invite.is_empty() {
        holder.invite == my_invite
    } else {
        !my_name.trim().is_empty() && holder.name == my_name.trim()
    }
}

#[component]
pub fn Roles() -> impl IntoView {
    let name = RwSignal::new(prefs::display_name());
    let open = use_incident();
    let invited = people::use_people();
    let my_invite = people::my_invite(&open.id);
    let commander = watch(&open, |incident| incident.role_holder(Role::Commander));
    let standing = open.standing;
    // The commander and the incident's owners hand roles out.
    let may_give = Memo::new(move |_| {
        let standing = standing.get();
        standing == Standing::Member(Access::Owner)
            || standing.may_edit()
                && commander
                    .get()
                    .is_some_and(|c| held_here(&c, &name.get(), &my_invite))
    });
    view! {
        <section class="roles card" aria-labelledby="h-roles">
            {heading("roles", "Roles", "One person commands and keeps this document true. Taking a role over is written on the timeline.")}
            <Show when=move || name.get().trim().is_empty()>
                {Field::new("roles-your-name", "Your name (needed to take a role)")
                    .wrap("field")
                    .autocomplete("name")
                    .on_change(move |typed| {
                        prefs::set_display_name(typed.trim());
                        name.set(typed.trim().to_string());
                    })
                    .view()}
            </Show>
            <ul class="role-list">
                {Role::ALL
                    .into_iter()
                    .map(|role| view! { <RoleRow role=role name=name may_give=may_give invited=invited/> })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn RoleRow(
    role: Role,
    name: RwSignal<String>,
    may_give: Memo<bool>,
    invited: ReadSignal<Vec<Person>>,
) -> impl IntoView {
    let open = use_incident();
    let holder = watch(&open, move |incident| incident.role_holder(role));
    let my_invite = people::my_invite(&open.id);
    let mine = move || {
        let me = name.get();
        holder.get().is_some_and(|h| held_here(&h, &me, &my_invite))
    };
    let give = {
        let open = open.clone();
        move |invite: String| {
            let Some(person) =
                invited.with_untracked(|list| list.iter().find(|p| p.invite == invite).cloned())
            else {
                return;
            };
            let by = match name.get_untracked().trim() {
                "" => prefs::access(&open.id).map(|a| a.name).unwrap_or_default(),
                me => me.to_string(),
            };
            open.incident.assign_role(
                role,
                &person.name,
                &person.invite,
                &by,
                &platform::now_rfc3339(),
                &platform::new_id(),
            );
        }
    };
    let key = role.key();
    let giving = move || {
        (may_give.get() && !invited.with(Vec::is_empty)).then(|| {
            let give = give.clone();
            let options = invited
                .get()
                .into_iter()
                .map(|p| view! { <option value=p.invite.clone()>{p.name.clone()}</option> })
                .collect_view();
            // Named "Give the role to Deputy" from what shows: this label and the role's heading.
            view! {
                <label class="role-give-label" id=format!("role-give-{key}") for=format!("role-give-{key}-to")>
                    "Give the role to"
                </label>
                <select
                    class="role-give"
                    id=format!("role-give-{key}-to")
                    data-testid="role-give"
                    aria-labelledby=format!("role-give-{key} role-{key}")
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev);
                        if !chosen.is_empty() {
                            give(chosen);
                        }
                        // Back to the prompt: the holder shows above.
                        if let Some(select) = ev
                            .target()
                            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlSelectElement>(t).ok())
                        {
                            select.set_value("");
                        }
                    }
                >
                    <option value="" selected=true>"Give to…"</option>
                    {options}
                </select>
            }
        })
    };
    let claim = {
        let open = open.clone();
        move |_| {
            let me = name.get_untracked();
            if me.trim().is_empty() {
                return;
            }
            open.incident
                .claim_role(role, &me, &platform::now_rfc3339(), &platform::new_id());
        }
    };
    let release = move |_| {
        open.incident
            .release_role(role, &platform::now_rfc3339(), &platform::new_id());
    };
    view! {
        <li class="role" data-testid="role" data-role=key>
            <div class="role-text">
                <h3 id=format!("role-{key}")>{role.label()}</h3>
                <p class="hint">{role.duty()}</p>
            </div>
            <p class="role-holder" data-testid="role-holder">
                {move || match holder.get() {
                    Some(h) => {
                        format!("{} — since {}", h.name, platform::short_time(&h.since))
                    }
                    None => "Open".to_string(),
                }}
            </p>
            {giving}
            <Show
                when=mine
                fallback=move || {
                    let claim = claim.clone();
                    view! {
                        <button
                            type="button"
                            class="secondary"
                            aria-describedby=format!("role-{key}")
                            prop:disabled=move || name.get().trim().is_empty()
                            on:click=claim
                        >
                            {move || {
                                if holder.get().is_some() { "Take over" } else { "Take this role" }
                            }}
                        </button>
                    }
                }
            >
                <button
                    type="button"
                    class="secondary"
                    aria-describedby=format!("role-{key}")
                    on:click=release.clone()
                >
                    "Step down"
                </button>
            </Show>
        </li>
    }
}
