//! One prose section of the template: a heading, what belongs in it, and its shared text.

use incident::{ProseSection, Tlp};
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
    let marking = super::watch(&open, move |i| i.section_tlp(section));
    let set_marking = {
        let open = open.clone();
        move |value: String| open.incident.set_section_tlp(section, Tlp::parse(&value))
    };
    let appendix = section == ProseSection::Appendix && !open.is_playbook();
    // The Appendix takes files, and a pasted screenshot.
    let evidence = appendix.then(super::attachments::use_evidence);
    let attach_notice = RwSignal::new(String::new());
    let levels = Tlp::ALL.into_iter().map(|t| (t.as_str(), t.as_str()));
    view! {
        <section
            class="prose"
            aria-labelledby=format!("h-{key}")
            on:paste=move |ev| {
                if let Some(evidence) = &evidence {
                    super::attachments::pasted(evidence, &ev, attach_notice);
                }
            }
        >
            {super::navigation::section_head(key, section.title())}
            <p class="hint" id=format!("hint-{key}")>{section.hint()}</p>
            {Field::new(format!("tlp-{key}"), "Marking")
                .wrap("field prose-tlp")
                .select(Some(Signal::stored("Incident's level".to_string())), levels.collect())
                .bind(Signal::derive(move || marking.get().map_or("", Tlp::as_str).to_string()))
                .on_change(set_marking)
                .view()}
            {Field::new(textarea_id(section), "")
                .label(Signal::stored(format!("{} text", section.title())))
                .label_class("field-label")
                .textarea("6")
                .spellcheck()
                .described_by(format!("hint-{key}"))
                .value(initial)
                .on_input(move |value| open.incident.edit_section(section, &value))
                .view()}
            {appendix.then(|| view! { <super::attachments::AppendixAttachments notice=attach_notice/> })}
            <super::attribution::Byline place=incident::history::Place::prose(section)/>
            <super::comments::ProseComments section=section/>
            {(section == ProseSection::LessonsLearned)
                .then(|| view! { <super::proposing::ProposeLesson/> <super::proposing::CarryProposals/> })}
        </section>
    }
}
