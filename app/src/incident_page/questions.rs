//! The questions that will be asked (by executives, Legal, the press) and the post-mortem
//! questions: each with a status and a short answer, kept current as the response goes on.

use incident::{Answer, AnswerStatus, Incident, Question, QuestionList};
use leptos::prelude::*;

use super::{heading, watch};
use crate::form::Field;
use crate::prefs;
use crate::session::use_incident;

#[component]
pub fn QuestionsAsked() -> impl IntoView {
    let hint =
        "Someone will ask these within the hour. Keep an answer ready, even if it is \"unknown yet\".";
    questions(
        "questions",
        "Questions that will be asked",
        hint,
        QuestionList::WillBeAsked,
    )
}

#[component]
pub fn PostMortem() -> impl IntoView {
    let hint =
        "Once it is over: what let it happen, and what we do differently. No blame, only causes.";
    questions("postmortem", "Post-mortem", hint, QuestionList::PostMortem)
}

/// A section of questions: its heading and hint, then every question of `list`.
fn questions(
    key: &'static str,
    title: &'static str,
    hint: &'static str,
    list: QuestionList,
) -> impl IntoView {
    view! {
        <section class="questions card" aria-labelledby=format!("h-{key}")>
            {heading(key, title, hint)}
            {(list == QuestionList::PostMortem)
                .then(|| view! { <super::proposing::ProposalsReview/> })}
            <QuestionItems list=list/>
        </section>
    }
}

#[component]
fn QuestionItems(list: QuestionList) -> impl IntoView {
    let open = use_incident();
    // The questions a playbook added, after the template's own.
    let extra = watch(&open, move |incident| match list {
        QuestionList::WillBeAsked => incident.extra_questions(),
        QuestionList::PostMortem => Vec::new(),
    });
    // The post-mortem's questions about the playbook, for an incident started from one.
    let review = watch(&open, move |incident| match list {
        QuestionList::PostMortem => incident.review_questions(),
        QuestionList::WillBeAsked => Vec::new(),
    });
    view! {
        <ol class="question-list">
            {Question::of(list).map(|question| view! { <QuestionItem which=Which::Template(question)/> }).collect_view()}
            <For
                each=move || review.get()
                key=|q| q.key
                children=|q| view! { <QuestionItem which=Which::Template(q)/> }
            />
            <For
                each=move || extra.get()
                key=|q| (q.id.clone(), q.text.clone())
                children=|q| view! { <QuestionItem which=Which::Extra(q.id, q.text)/> }
            />
        </ol>
    }
}

/// A question of the template, or one a playbook added (its id and text).
#[derive(Clone)]
enum Which {
    Template(Question),
    Extra(String, String),
}

impl Which {
    fn key(&self) -> String {
        match self {
            Which::Template(q) => q.key.to_string(),
            Which::Extra(id, _) => format!("extra-{id}"),
        }
    }

    fn text(&self) -> String {
        match self {
            Which::Template(q) => q.text.to_string(),
            Which::Extra(_, text) => text.clone(),
        }
    }

    fn answer(&self, incident: &Incident) -> Answer {
        match self {
            Which::Template(q) => incident.answer(*q),
            Which::Extra(id, _) => incident
                .extra_questions()
                .into_iter()
                .find(|q| &q.id == id)
                .map(|q| q.answer)
                .unwrap_or_default(),
        }
    }

    fn set_status(&self, incident: &Incident, status: AnswerStatus, by: &str) {
        match self {
            Which::Template(q) => incident.set_answer_status(*q, status, by),
            Which::Extra(id, _) => incident.set_extra_answer_status(id, status, by),
        }
    }

    fn set_answer(&self, incident: &Incident, answer: &str, by: &str) {
        match self {
            Which::Template(q) => incident.set_answer_text(*q, answer, by),
            Which::Extra(id, _) => incident.set_extra_answer_text(id, answer, by),
        }
    }
}

#[component]
fn QuestionItem(which: Which) -> impl IntoView {
    let open = use_incident();
    let answer = {
        let which = which.clone();
        watch(&open, move |incident| which.answer(incident))
    };
    let status = Memo::new(move |_| answer.get().status);
    let text = Memo::new(move |_| answer.get().answer);
    let set_status = {
        let (open, which) = (open.clone(), which.clone());
        move |value: String| {
            if let Some(status) = AnswerStatus::from_key(&value) {
                which.set_status(&open.incident, status, &prefs::display_name());
            }
        }
    };
    let set_text = {
        let which = which.clone();
        move |value: String| {
            which.set_answer(&open.incident, value.trim(), &prefs::display_name());
        }
    };
    let key = which.key();
    let statuses = AnswerStatus::ALL.into_iter().map(|s| (s.key(), s.label()));
    view! {
        <li class="question" data-testid="question" data-question=key.clone() data-status=move || status.get().key()>
            <h3 id=format!("q-{key}")>{which.text()}</h3>
            <div class="fields">
                {Field::new(format!("q-{key}-status"), "Status")
                    .wrap("field")
                    .select(None, statuses.collect())
                    .described_by(format!("q-{key}"))
                    .bind(Signal::derive(move || status.get().key().to_string()))
                    .on_change(set_status)
                    .view()}
                {Field::new(format!("q-{key}-answer"), "Answer")
                    .wrap("field grow")
                    .textarea("2")
                    .class("short")
                    .described_by(format!("q-{key}"))
                    .bind(text.into())
                    .on_change(set_text)
                    .view()}
            </div>
            {move || {
                let by = answer.get().by;
                (!by.trim().is_empty()).then(|| view! { <p class="hint">"Last answered by " {by}</p> })
            }}
        </li>
    }
}
