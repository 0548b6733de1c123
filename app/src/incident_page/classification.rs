//! Data classification: the handling label and the TLP 2.0 level, shown as a coloured banner
//! so everyone brought in knows how to treat what they read.

use incident::{Incident, Tlp};
use leptos::prelude::*;

use super::{heading, watch};
use crate::form::Field;
use crate::session::use_incident;

#[component]
pub fn Classification() -> impl IntoView {
    let open = use_incident();
    let tlp = watch(&open, Incident::tlp);
    let label = watch(&open, Incident::classification);
    let set_label = {
        let open = open.clone();
        move |value: String| open.incident.set_classification(&value)
    };
    let set_tlp = move |value: String| match Tlp::parse(&value) {
        Some(level) => open.incident.set_tlp(level),
        None => crate::platform::log_error(&format!("unknown TLP level {value}")),
    };
    let levels = Tlp::ALL.into_iter().map(|l| (l.as_str(), l.as_str()));
    view! {
        <section class="classification" aria-labelledby="h-classification">
            {heading("classification", "Data classification", "Agree on this first: everyone you bring in, from Legal to an outside contractor, reads it before anything else.")}
            <div class="fields">
                {Field::new("classification-label", "Handling label")
                    .wrap("field grow")
                    .autocomplete("off")
                    .bind(label.into())
                    .on_input(set_label)
                    .view()}
                {Field::new("tlp", "TLP")
                    .wrap("field")
                    .select(None, levels.collect())
                    .bind(Signal::derive(move || tlp.get().as_str().to_string()))
                    .on_change(set_tlp)
                    .view()}
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
            <super::drill::DrillToggle/>
        </section>
    }
}
