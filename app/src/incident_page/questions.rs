//! The questions that will be asked (by executives, Legal, the press) and the post-mortem
//! questions: each with a status and a short answer, kept current as the response goes on.

use incident::playbook::ExtraQuestion;
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
    let open = use_incident();
    // The questions a playbook added, after the template's own.
    let extra = watch(&open, move |incident| match list {
        QuestionList::WillBeAsked => incident.extra_questions(),
        QuestionList::PostMortem => Vec::new(),
    });
    view! {
        <ol class="question-list">
            {Question::of(list).map(|question| view! { <QuestionItem question=question/> }).collect_view()}
            <For
                each=move || extra.get()
                key=|q| (q.id.clone(), q.text.clone(), format!("{:?}", q.answer))
                children=|q| view! { <ExtraItem question=q/> }
            />
        </ol>
    }
}

/// A question a playbook added: answered like the template's own.
#[component]
fn ExtraItem(question: ExtraQuestion) -> impl IntoView {
    let open = use_incident();
    let id = question.id.clone();
    let set_status = {
        let (open, id) = (open.clone(), id.clone());
        move |value: String| {
            if let Some(status) = AnswerStatus::from_key(&value) {
                open.incident
                    .set_extra_answer_status(&id, status, &prefs::display_name());
            }
        }
    };
    let set_text = {
        let id = id.clone();
        move |value: String| {
            open.incident
                .set_extra_answer_text(&id, value.trim(), &prefs::display_name());
        }
    };
    let dom = format!("q-extra-{id}");
    let statuses = AnswerStatus::ALL.into_iter().map(|s| (s.key(), s.label()));
    let by = question.answer.by.clone();
    view! {
        <li class="question" data-testid="question" data-question=format!("extra-{id}") data-status=question.answer.status.key()>
            <h3 id=dom.clone()>{question.text.clone()}</h3>
            <div class="fields">
                {Field::new(format!("{dom}-status"), "Status")
                    .wrap("field")
                    .select(None, statuses.collect())
                    .described_by(dom.clone())
                    .value(question.answer.status.key())
                    .on_change(set_status)
                    .view()}
                {Field::new(format!("{dom}-answer"), "Answer")
                    .wrap("field grow")
                    .textarea("2")
                    .class("short")
                    .described_by(dom.clone())
                    .value(&question.answer.answer)
                    .on_change(set_text)
                    .view()}
            </div>
            {(!by.trim().is_empty()).then(|| view! { <p class="hint">"Last answered by " {by}</p> })}
        </li>
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
