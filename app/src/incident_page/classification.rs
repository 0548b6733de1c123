//! Data classification: the handling label and the TLP 2.0 level, shown as a coloured banner
//! so everyone brought in knows how to treat what they read.

use incident::Tlp;
use leptos::prelude::*;

use super::choice::options;
use crate::session::use_incident;

#[component]
pub fn Classification() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let tlp = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.tlp()
        })
    };
    let label = {
        let open = open.clone();
        move || {
            revision.track();
            open.incident.classification()
        }
    };
    let set_label = {
        let open = open.clone();
        move |value: String| open.incident.set_classification(&value)
    };
    let set_tlp = move |value: String| match Tlp::parse(&value) {
        Some(level) => open.incident.set_tlp(level),
        None => crate::platform::log_error(&format!("unknown TLP level {value}")),
    };
    view! {
        <section class="classification" aria-labelledby="h-classification">
            <h2 id="h-classification">"Data classification"</h2>
            <p class="hint">
                "Agree on this first: everyone you bring in, from Legal to an outside contractor, reads it before anything else."
            </p>
            <div class="fields">
                <div class="field grow">
                    <label for="classification-label">"Handling label"</label>
                    <input
                        id="classification-label"
                        type="text"
                        autocomplete="off"
                        prop:value=label
                        on:input:target=move |ev| set_label(ev.target().value())
                    />
                </div>
                <div class="field">
                    <label for="tlp">"TLP"</label>
                    <select id="tlp" on:change:target=move |ev| set_tlp(ev.target().value())>
                        {options(Tlp::ALL, Tlp::as_str, Tlp::as_str, tlp)}
                    </select>
                </div>
            </div>
            <p
                id="tlp-banner"
                class=move || format!("tlp-banner {}", tlp.get().css_class())
                data-tlp=move || tlp.get().as_str()
            >
                <strong>"TLP:" {move || tlp.get().as_str()}</strong>
                " — "
                {move || tlp.get().meaning()}
            </p>
        </section>
    }
}
