//! The questions that will be asked (by executives, Legal, the press) and the post-mortem
//! questions: each with a status and a short answer, kept current as the response goes on.

use incident::{AnswerStatus, Question, QuestionList};
use leptos::prelude::*;

use super::choice::options;
use crate::prefs;
use crate::session::use_incident;

#[component]
pub fn QuestionsAsked() -> impl IntoView {
    view! {
        <section class="questions card" aria-labelledby="h-questions">
            <h2 id="h-questions">"Questions that will be asked"</h2>
            <p class="hint">
                "Someone will ask these within the hour. Keep an answer ready, even if it is \"unknown yet\"."
            </p>
            <QuestionItems list=QuestionList::WillBeAsked/>
        </section>
    }
}

#[component]
pub fn PostMortem() -> impl IntoView {
    view! {
        <section class="questions card" aria-labelledby="h-postmortem">
            <h2 id="h-postmortem">"Post-mortem"</h2>
            <p class="hint">
                "Once it is over: what let it happen, and what we do differently. No blame, only causes."
            </p>
            <QuestionItems list=QuestionList::PostMortem/>
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
    let revision = open.revision;
    let answer = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.answer(question)
        })
    };
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
    view! {
        <li class="question" data-testid="question" data-question=key data-status=move || status.get().key()>
            <h3 id=format!("q-{key}")>{question.text}</h3>
            <div class="fields">
                <div class="field">
                    <label for=format!("q-{key}-status")>"Status"</label>
                    <select
                        id=format!("q-{key}-status")
                        aria-describedby=format!("q-{key}")
                        on:change:target=move |ev| set_status(ev.target().value())
                    >
                        {options(AnswerStatus::ALL, AnswerStatus::key, AnswerStatus::label, status)}
                    </select>
                </div>
                <div class="field grow">
                    <label for=format!("q-{key}-answer")>"Answer"</label>
                    <textarea
                        id=format!("q-{key}-answer")
                        class="short"
                        rows="2"
                        aria-describedby=format!("q-{key}")
                        prop:value=text
                        on:change:target=move |ev| set_text(ev.target().value())
                    ></textarea>
                </div>
            </div>
            {move || {
                let by = answer.get().by;
                (!by.trim().is_empty()).then(|| view! { <p class="hint">"Last answered by " {by}</p> })
            }}
        </li>
    }
}
