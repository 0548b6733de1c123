//! One prose section of the template: a heading, what belongs in it, and its shared text.

use incident::ProseSection;
use leptos::prelude::*;

use crate::binding::textarea_id;
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
            <label class="field-label" for=textarea_id(section)>
                {format!("{} text", section.title())}
            </label>
            <textarea
                id=textarea_id(section)
                aria-describedby=format!("hint-{key}")
                rows="6"
                spellcheck="true"
                prop:value=initial
                on:input:target=move |ev| open.incident.edit_section(section, &ev.target().value())
            ></textarea>
        </section>
    }
}
