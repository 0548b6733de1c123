//! Roles: who runs the response. Anyone may take an open role or take one over; the model
//! writes every hand-off on the timeline.

use incident::Role;
use leptos::prelude::*;

use super::{heading, watch};
use crate::form::Field;
use crate::session::use_incident;
use crate::{platform, prefs};

#[component]
pub fn Roles() -> impl IntoView {
    let name = RwSignal::new(prefs::display_name());
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
                {Role::ALL.into_iter().map(|role| view! { <RoleRow role=role name=name/> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn RoleRow(role: Role, name: RwSignal<String>) -> impl IntoView {
    let open = use_incident();
    let holder = watch(&open, move |incident| incident.role_holder(role));
    let mine = move || {
        let me = name.get();
        holder
            .get()
            .is_some_and(|h| !me.trim().is_empty() && h.name == me.trim())
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
    let key = role.key();
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
