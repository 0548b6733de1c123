//! One prose section of the template: a heading, what belongs in it, and its shared text.

use incident::ProseSection;
use leptos::prelude::*;

use crate::binding::textarea_id;
use crate::form::Field;
use crate::session::use_incident;

#[component]
pub fn ProseField(section: ProseSection) -> impl IntoView {
    let open = use_incident();
    let key = section.key();
    // The textarea's initial value; from here on it is the editable copy and `binding`
    // writes remote changes into it directly.
    let initial = open.incident.section_text(section);
    view! {
        <section class="prose" aria-labelledby=format!("h-{key}")>
            <h2 id=format!("h-{key}")>{section.title()}</h2>
            <p class="hint" id=format!("hint-{key}")>{section.hint()}</p>
            {Field::new(textarea_id(section), "")
                .label(Signal::stored(format!("{} text", section.title())))
                .label_class("field-label")
                .textarea("6")
                .spellcheck()
                .described_by(format!("hint-{key}"))
                .value(initial)
                .on_input(move |value| open.incident.edit_section(section, &value))
                .view()}
        </section>
    }
}
