//! The incident's title: a short value, last writer wins.

use leptos::prelude::*;

use crate::session::use_incident;

#[component]
pub fn TitleField() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let current = {
        let open = open.clone();
        move || {
            revision.track();
            open.incident.title()
        }
    };
    let heading = {
        let current = current.clone();
        move || {
            let title = current();
            if title.trim().is_empty() {
                "Untitled incident".to_string()
            } else {
                title
            }
        }
    };
    view! {
        <header class="incident-header">
            <p class="kicker">"Security incident"</p>
            <h1 class="sr-only">{heading}</h1>
            <label for="incident-title">"Title"</label>
            <input
                id="incident-title"
                class="title-input"
                type="text"
                autocomplete="off"
                prop:value=current
                on:input:target=move |ev| open.incident.set_title(&ev.target().value())
            />
        </header>
    }
}
