//! The questions that will be asked (by executives, Legal, the press) and the post-mortem
//! questions: each with a status and a short answer, kept current as the response goes on.

use incident::{AnswerStatus, Question, QuestionList};
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
            <QuestionItems list=list/>
        </section>
    }
}

#[component]
fn QuestionItems(list: QuestionList) -> impl IntoView {
    view! {
        <ol class="question-list">
            {Question::of(list).map(|question| view! { <QuestionItem question=question/> }).collect_view()}
        </ol>
    }
}

#[component]
fn QuestionItem(question: Question) -> impl IntoView {
    let open = use_incident();
    let answer = watch(&open, move |incident| incident.answer(question));
    let status = Memo::new(move |_| answer.get().status);
    let text = Memo::new(move |_| answer.get().answer);
    let set_status = {
        let open = open.clone();
        move |value: String| {
            if let Some(status) = AnswerStatus::from_key(&value) {
                open.incident
                    .set_answer_status(question, status, &prefs::display_name());
            }
        }
    };
    let set_text = move |value: String| {
        open.incident
            .set_answer_text(question, value.trim(), &prefs::display_name());
    };
    let key = question.key;
    let statuses = AnswerStatus::ALL.into_iter().map(|s| (s.key(), s.label()));
    view! {
        <li class="question" data-testid="question" data-question=key data-status=move || status.get().key()>
            <h3 id=format!("q-{key}")>{question.text}</h3>
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
