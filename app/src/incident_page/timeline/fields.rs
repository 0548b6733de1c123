//! Labelled fields for the timeline's and the indicators' forms. Every text field, select and
//! checkbox of those forms is built by one of the three functions here, so each kind of field
//! is one piece of code in the app however many forms use it (the app's size is budgeted).

use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use super::shared::RowMemory;
use crate::platform;

/// A labelled text input (or textarea). With `commit`, what is typed is written when it
/// changes (on leaving the field) and a refusal is shown under it; with `memory`, text not
/// written yet and the last refusal survive the row being rebuilt.
pub struct TextField {
    pub id: String,
    pub label: Signal<String>,
    pub value: String,
    pub placeholder: &'static str,
    /// Extra class of the wrapper: "ev-grow", "ev-time", "ev-narrow" or "".
    pub class: &'static str,
    /// "text", "number" or "textarea".
    pub kind: &'static str,
    /// A value typed exactly (an indicator): no spelling help, no capitals.
    pub exact: bool,
    pub hint: Option<&'static str>,
    pub problem: RwSignal<Option<String>>,
    pub memory: Option<RowMemory>,
    pub on_input: Option<Callback<String>>,
    pub commit: Option<Callback<String, Result<(), String>>>,
}

impl TextField {
    pub fn new(id: String, label: &'static str) -> Self {
        TextField {
            id,
            label: Signal::stored(label.to_string()),
            value: String::new(),
            placeholder: "",
            class: "",
            kind: "text",
            exact: false,
            hint: None,
            problem: RwSignal::new(None),
            memory: None,
            on_input: None,
            commit: None,
        }
    }
}

pub fn text_field(f: TextField) -> impl IntoView {
    let TextField {
        id,
        label,
        value,
        placeholder,
        class,
        kind,
        exact,
        hint,
        problem,
        memory,
        on_input,
        commit,
    } = f;
    let initial = match memory {
        Some(m) => {
            if let Some(refused) = m.problem(&id) {
                problem.set(Some(refused));
            }
            m.value_or_draft(&id, value)
        }
        None => value,
    };
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = if hint.is_some() {
        format!("{hint_id} {error_id}")
    } else {
        error_id.clone()
    };
    let typed = {
        let id = id.clone();
        move |value: String| {
            if let Some(m) = memory {
                m.set_draft(&id, value.clone());
            }
            if let Some(f) = on_input {
                f.run(value);
            }
        }
    };
    let changed = {
        let id = id.clone();
        move |value: String| {
            let Some(commit) = commit else {
                return;
            };
            let result = commit.run(value).err();
            if let Some(m) = memory {
                if result.is_none() {
                    m.clear_draft(&id);
                }
                m.note_problem(&id, result.clone());
            }
            problem.try_set(result);
        }
    };
    let invalid = move || problem.with(Option::is_some).then_some("true");
    let input = if kind == "textarea" {
        Either::Left(view! {
            <textarea
                id=id.clone()
                class="ev-note"
                rows="2"
                placeholder=placeholder
                aria-describedby=described
                aria-invalid=invalid
                prop:value=initial
                on:input:target=move |ev| typed(ev.target().value())
                on:change:target=move |ev| changed(ev.target().value())
            ></textarea>
        })
    } else {
        Either::Right(view! {
            <input
                id=id.clone()
                type=kind
                min=(kind == "number").then_some("0")
                autocomplete="off"
                autocapitalize=if exact { "off" } else { "sentences" }
                spellcheck=if exact { "false" } else { "true" }
                placeholder=placeholder
                aria-describedby=described
                aria-invalid=invalid
                prop:value=initial
                on:input:target=move |ev| typed(ev.target().value())
                on:change:target=move |ev| changed(ev.target().value())
            />
        })
    };
    view! {
        <div class=format!("ev-field {class}")>
            <label for=id>{move || label.get()}</label>
            {input}
            {hint.map(|h| view! { <p class="ev-hint" id=hint_id>{h}</p> })}
            {move || {
                problem
                    .get()
                    .map(|m| view! { <p class="ev-error" id=error_id.clone() role="alert">{m}</p> })
            }}
        </div>
    }
}

/// A labelled select. `lead` is the label of a first option with the value "" (none,
/// automatic, the incident's); `commit` gets the chosen value.
pub struct SelectField {
    pub id: String,
    pub label: &'static str,
    pub lead: Option<Signal<String>>,
    pub options: Vec<(&'static str, &'static str)>,
    pub selected: String,
    pub commit: Option<Callback<String>>,
}

pub fn select_field(f: SelectField) -> impl IntoView {
    let SelectField {
        id,
        label,
        lead,
        options,
        selected,
        commit,
    } = f;
    let lead = lead.map(|lead| {
        let chosen = selected.is_empty();
        view! { <option value="" selected=chosen>{move || lead.get()}</option> }
    });
    let options = options
        .into_iter()
        .map(|(value, text)| {
            view! {
                <option value=value selected=value == selected>
                    {text}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="ev-field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                on:change:target=move |ev| {
                    if let Some(f) = commit {
                        f.run(ev.target().value());
                    }
                }
            >
                {lead}
                {options}
            </select>
        </div>
    }
}

/// A checkbox with its label beside it.
pub fn check_field(
    id: String,
    label: &'static str,
    checked: bool,
    commit: Option<Callback<bool>>,
) -> impl IntoView {
    view! {
        <label class="ev-check">
            <input
                id=id
                type="checkbox"
                prop:checked=checked
                on:change:target=move |ev| {
                    if let Some(f) = commit {
                        f.run(ev.target().checked());
                    }
                }
            />
            {label}
        </label>
    }
}

/// What a form field on the page holds now ("" when it is not there).
pub fn value_of(id: &str) -> String {
    let Some(el) = platform::document().get_element_by_id(id) else {
        return String::new();
    };
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        input.value()
    } else if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
        select.value()
    } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        area.value()
    } else {
        String::new()
    }
}

/// Sets what a form field on the page holds (a checkbox: "" unchecks, anything else checks).
pub fn set_value_of(id: &str, value: &str) {
    let Some(el) = platform::document().get_element_by_id(id) else {
        return;
    };
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        if input.type_() == "checkbox" {
            input.set_checked(!value.is_empty());
        } else {
            input.set_value(value);
        }
    } else if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
        select.set_value(value);
    } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    }
}

/// Whether a checkbox on the page is checked.
pub fn checked(id: &str) -> bool {
    platform::element_by_id::<HtmlInputElement>(id).is_some_and(|input| input.checked())
}
