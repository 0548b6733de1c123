//! The app's one set of form fields. Every labelled text input, textarea and select of every
//! section (title, classification, roles, timeline, indicators, next steps, questions,
//! sharing, joining) is a [`Field`], every checkbox a [`check`], and every "Delete this …?
//! Yes / No" a [`confirm`]; a row of a list that opens its fields for correcting uses
//! [`Opening`] and [`row_editor`]. Each kind of field is one piece of code however many forms
//! use it: view code is most of the app's size, and the app's size is budgeted. The classes,
//! ids and texts each place had are kept; they are parameters here.

use std::collections::{HashMap, HashSet};

use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use crate::platform;

/// Builder setters, each putting its argument (as given) into one field of `self`.
macro_rules! set {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $t:ty)?) => $field:ident = $value:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $($arg: $t)?) -> Self {
                self.0.$field = $value;
                self
            }
        )*
    };
}

/// What is written when a field changes (on leaving it): `Err` is shown under the field.
pub type Commit = Callback<String, Result<(), String>>;

/// Which control a [`Field`] is.
pub enum Control {
    /// An `<input>` of this type ("text", "number").
    Input(&'static str),
    /// A `<textarea>` of this many rows.
    TextArea(&'static str),
    /// A `<select>`: an optional first option valued "" (none, automatic), then
    /// (value, text) options; the one equal to the field's value is selected.
    Select(Option<Signal<String>>, Vec<(&'static str, &'static str)>),
}

/// A labelled control: its label, the control, an optional hint under it, and the reason
/// what was typed was refused. Built with [`Field::new`] (the plain look of the template's
/// sections) or [`Field::ev`] (the timeline's and indicators' look), then the setters, then
/// [`Field::view`].
pub struct Field(Box<Parts>);

/// What a [`Field`] is built from (boxed: a builder moves only a pointer).
struct Parts {
    id: String,
    label: Signal<String>,
    label_class: Option<&'static str>,
    /// The class of a `<div>` around the label, control, hint and error; none: no `<div>`.
    wrap: Option<&'static str>,
    control: Control,
    class: Option<Signal<String>>,
    value: Signal<String>,
    placeholder: Option<&'static str>,
    autocomplete: Option<&'static str>,
    autocapitalize: Option<&'static str>,
    spellcheck: Option<&'static str>,
    maxlength: Option<&'static str>,
    readonly: bool,
    /// The id of a `<datalist>` of suggestions for a text input.
    list: Option<&'static str>,
    /// The id of what else describes the control (a heading, a hint placed above).
    described_by: Option<String>,
    hint: Option<String>,
    hint_class: &'static str,
    error_class: &'static str,
    /// The error has an id, describes the control and marks it invalid.
    tied: bool,
    /// Why what was typed was refused; shown under the control.
    problem: RwSignal<Option<String>>,
    memory: Option<RowMemory>,
    on_input: Option<Callback<String>>,
    commit: Option<Commit>,
}

impl Field {
    /// A text input in the sections' plain look: errors in `field-error`, hints in `hint`.
    pub fn new(id: impl Into<String>, label: &'static str) -> Self {
        Field(Box::new(Parts {
            id: id.into(),
            label: Signal::stored(label.to_string()),
            label_class: None,
            wrap: None,
            control: Control::Input("text"),
            class: None,
            value: Signal::stored(String::new()),
            placeholder: None,
            autocomplete: None,
            autocapitalize: None,
            spellcheck: None,
            maxlength: None,
            readonly: false,
            list: None,
            described_by: None,
            hint: None,
            hint_class: "hint",
            error_class: "field-error",
            tied: false,
            problem: RwSignal::new(None),
            memory: None,
            on_input: None,
            commit: None,
        }))
    }

    /// A text input in the timeline's and indicators' look (`ev-field`), its error tied to it.
    pub fn ev(id: impl Into<String>, label: &'static str) -> Self {
        let mut f = Field::new(id, label);
        let p = &mut f.0;
        p.wrap = Some("ev-field");
        (p.autocomplete, p.autocapitalize, p.spellcheck) =
            (Some("off"), Some("sentences"), Some("true"));
        (p.hint_class, p.error_class, p.tied) = ("ev-hint", "ev-error", true);
        f
    }

    /// Why what was typed was refused; shown under the control.
    pub fn problem(&self) -> RwSignal<Option<String>> {
        self.0.problem
    }

    set! {
        /// A label that changes (one naming the display zone).
        label(label: Signal<String>) => label = label;
        label_class(class: &'static str) => label_class = Some(class);
        wrap(class: &'static str) => wrap = Some(class);
        class(class: &'static str) => class = Some(Signal::stored(class.to_string()));
        /// A class of the control that changes with what it holds.
        class_signal(class: Signal<String>) => class = Some(class);
        /// What the control holds at first (and, for a select, which option is selected).
        value(value: impl Into<String>) => value = Signal::stored(value.into());
        /// What the control holds, following the signal as it changes.
        bind(value: Signal<String>) => value = value;
        placeholder(text: &'static str) => placeholder = Some(text);
        autocomplete(value: &'static str) => autocomplete = Some(value);
        maxlength(n: &'static str) => maxlength = Some(n);
        readonly() => readonly = true;
        /// Suggestions from the `<datalist>` with this id; anything else may still be typed.
        list(id: &'static str) => list = Some(id);
        number() => control = Control::Input("number");
        spellcheck() => spellcheck = Some("true");
        /// What else describes the control (a heading, a hint placed above it).
        described_by(id: String) => described_by = Some(id);
        /// A hint under the control (id `{id}-hint`) that describes it.
        hint(text: impl Into<String>) => hint = Some(text.into());
        hint_class(class: &'static str) => hint_class = class;
        /// Keeps text typed but not committed, and the last refusal, across the row being
        /// rebuilt.
        memory(memory: RowMemory) => memory = Some(memory);
        /// Runs when the value changes (on leaving the field): an `Err` is shown under it.
        commit(f: Commit) => commit = Some(f);
    }

    /// A textarea; in the timeline's look with the note's class and no typing hints.
    pub fn textarea(mut self, rows: &'static str) -> Self {
        self.0.control = Control::TextArea(rows);
        if self.0.tied {
            self.0.class = Some(Signal::stored("ev-note".to_string()));
            (
                self.0.autocomplete,
                self.0.autocapitalize,
                self.0.spellcheck,
            ) = (None, None, None);
        }
        self
    }

    pub fn select(
        mut self,
        lead: Option<Signal<String>>,
        options: Vec<(&'static str, &'static str)>,
    ) -> Self {
        self.0.control = Control::Select(lead, options);
        (
            self.0.autocomplete,
            self.0.autocapitalize,
            self.0.spellcheck,
        ) = (None, None, None);
        self.0.tied = false;
        self
    }

    /// A value typed exactly (an indicator, a zone): no spelling help, no capitals.
    pub fn exact(mut self) -> Self {
        if self.0.autocapitalize.is_some() {
            self.0.autocapitalize = Some("off");
        }
        self.0.spellcheck = Some("false");
        self
    }

    /// No capitals and no spelling help, whatever the look.
    pub fn raw(mut self) -> Self {
        (self.0.autocapitalize, self.0.spellcheck) = (Some("off"), Some("false"));
        self
    }

    /// Runs on every keystroke.
    pub fn on_input(mut self, f: impl Fn(String) + Send + Sync + 'static) -> Self {
        self.0.on_input = Some(Callback::new(f));
        self
    }

    /// Writes what is typed into `signal` on every keystroke, and shows it when it changes.
    pub fn two_way(self, signal: RwSignal<String>) -> Self {
        self.bind(signal.into()).on_input(move |v| signal.set(v))
    }

    /// Runs when the value changes (on leaving the field, or choosing an option).
    pub fn on_change(self, f: impl Fn(String) + Send + Sync + 'static) -> Self {
        self.commit(Callback::new(move |v| {
            f(v);
            Ok(())
        }))
    }

    pub fn view(self) -> impl IntoView {
        let Parts {
            id,
            label,
            label_class,
            wrap,
            control,
            class,
            value,
            placeholder,
            autocomplete,
            autocapitalize,
            spellcheck,
            maxlength,
            readonly,
            list,
            described_by,
            hint,
            hint_class,
            error_class,
            tied,
            problem,
            memory,
            on_input,
            commit,
        } = *self.0;
        let value = match memory {
            Some(m) => {
                if let Some(refused) = m.problem(&id) {
                    problem.set(Some(refused));
                }
                Signal::stored(m.value_or_draft(&id, value.get_untracked()))
            }
            None => value,
        };
        let hint_id = format!("{id}-hint");
        let error_id = tied.then(|| format!("{id}-error"));
        let described = [
            described_by,
            hint.is_some().then(|| hint_id.clone()),
            error_id.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let described = (!described.is_empty()).then_some(described);
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
        let invalid = move || (tied && problem.with(Option::is_some)).then_some("true");
        let class = move || class.map(|c| c.get());
        let control = match control {
            Control::Input(kind) => Either::Left(view! {
                <input
                    id=id.clone()
                    class=class
                    type=kind
                    min=(kind == "number").then_some("0")
                    autocomplete=autocomplete
                    autocapitalize=autocapitalize
                    spellcheck=spellcheck
                    maxlength=maxlength
                    readonly=readonly
                    list=list
                    placeholder=placeholder
                    aria-describedby=described
                    aria-invalid=invalid
                    prop:value=value
                    on:input:target=move |ev| typed(ev.target().value())
                    on:change:target=move |ev| changed(ev.target().value())
                />
            }),
            Control::TextArea(rows) => Either::Right(Either::Left(view! {
                <textarea
                    id=id.clone()
                    class=class
                    rows=rows
                    autocomplete=autocomplete
                    autocapitalize=autocapitalize
                    spellcheck=spellcheck
                    placeholder=placeholder
                    aria-describedby=described
                    aria-invalid=invalid
                    prop:value=value
                    on:input:target=move |ev| typed(ev.target().value())
                    on:change:target=move |ev| changed(ev.target().value())
                ></textarea>
            })),
            Control::Select(lead, options) => {
                let lead = lead.map(|lead| {
                    view! {
                        <option value="" prop:selected=move || value.with(String::is_empty)>
                            {move || lead.get()}
                        </option>
                    }
                });
                let options = options
                    .into_iter()
                    .map(|(key, text)| {
                        view! {
                            <option value=key prop:selected=move || value.with(|v| v == key)>
                                {text}
                            </option>
                        }
                    })
                    .collect_view();
                Either::Right(Either::Right(view! {
                    <select
                        id=id.clone()
                        class=class
                        aria-describedby=described
                        on:change:target=move |ev| changed(ev.target().value())
                    >
                        {lead}
                        {options}
                    </select>
                }))
            }
        };
        let parts = view! {
            <label class=label_class for=id>
                {move || label.get()}
            </label>
            {control}
            {hint.map(|h| view! { <p class=hint_class id=hint_id>{h}</p> })}
            {move || {
                problem
                    .get()
                    .map(|m| view! { <p class=error_class id=error_id.clone() role="alert">{m}</p> })
            }}
        };
        match wrap {
            Some(class) => Either::Left(view! { <div class=class>{parts}</div> }),
            None => Either::Right(parts),
        }
    }
}

/// A checkbox with its label beside it, in a `<label>` of class `class`.
pub fn check(
    id: String,
    label: &'static str,
    class: &'static str,
    checked: Signal<bool>,
    on_change: Option<Callback<bool>>,
) -> impl IntoView {
    view! {
        <label class=class>
            <input
                id=id
                type="checkbox"
                prop:checked=checked
                on:change:target=move |ev| {
                    if let Some(f) = on_change {
                        f.run(ev.target().checked());
                    }
                }
            />
            {label}
        </label>
    }
}

/// A button that asks before it acts, in the page: "Delete" turns into the question with
/// a yes and a no button. Texts and classes are the caller's: (text, class) of each button.
pub struct Confirm {
    pub asking: Signal<bool>,
    pub set_asking: Callback<bool>,
    pub ask: (&'static str, &'static str),
    pub question: String,
    pub question_class: &'static str,
    /// Some(label): the question and its answers stand in a `<div role="group">` of that
    /// label (the question a paragraph in it); none: the question is a `<span>` beside them.
    pub group: Option<&'static str>,
    pub yes: (&'static str, &'static str),
    pub no: (&'static str, &'static str),
    /// The ask button's id: with it, the question describes the answers and focus moves
    /// to "yes" on asking and back on "no".
    pub id: Option<String>,
    pub on_yes: Callback<()>,
}

/// A [`Confirm`] asking on a local signal of its own.
pub fn asking_here() -> (Signal<bool>, Callback<bool>) {
    let asking = RwSignal::new(false);
    (asking.into(), Callback::new(move |on| asking.set(on)))
}

pub fn confirm(c: Confirm) -> impl IntoView {
    let Confirm {
        asking,
        set_asking,
        ask,
        question,
        question_class,
        group,
        yes,
        no,
        id,
        on_yes,
    } = c;
    let question_id = id.as_ref().map(|id| format!("{id}-question"));
    let yes_id = id.as_ref().map(|id| format!("{id}-yes"));
    let focus = move |target: &Option<String>| {
        if let Some(target) = target {
            focus_soon(target.clone());
        }
    };
    move || {
        if asking.get() {
            let back = id.clone();
            let answers = view! {
                <button
                    type="button"
                    class=yes.1
                    id=yes_id.clone()
                    aria-describedby=question_id.clone()
                    on:click=move |_| on_yes.run(())
                >
                    {yes.0}
                </button>
                <button
                    type="button"
                    class=no.1
                    aria-describedby=question_id.clone()
                    on:click=move |_| {
                        set_asking.run(false);
                        focus(&back);
                    }
                >
                    {no.0}
                </button>
            };
            let question = question.clone();
            Either::Left(match group {
                Some(label) => Either::Left(view! {
                    <div class=question_class role="group" aria-label=label>
                        <p>{question}</p>
                        {answers}
                    </div>
                }),
                None => Either::Right(view! {
                    <span class=question_class id=question_id.clone()>
                        {question}
                    </span>
                    {answers}
                }),
            })
        } else {
            let yes_id = yes_id.clone();
            Either::Right(view! {
                <button
                    type="button"
                    class=ask.1
                    id=id.clone()
                    on:click=move |_| {
                        set_asking.run(true);
                        focus(&yes_id);
                    }
                >
                    {ask.0}
                </button>
            })
        }
    }
}

/// The timeline's and indicators' Delete button: "Delete this {what}? Yes / No".
pub fn confirm_delete(what: &'static str, id: String, on_delete: Callback<()>) -> impl IntoView {
    let (asking, set_asking) = asking_here();
    let confirm = confirm(Confirm {
        asking,
        set_asking,
        ask: ("Delete", "ev-button ev-danger-outline"),
        question: format!("Delete this {what}?"),
        question_class: "ev-question",
        group: None,
        yes: ("Yes", "ev-button ev-danger"),
        no: ("No", "ev-button"),
        id: Some(id),
        on_yes: on_delete,
    });
    view! { <div class="ev-confirm">{confirm}</div> }
}

/// Whether a row of a list has its fields open for correcting, remembered in the list's
/// [`RowMemory`] across the row being rebuilt. Opening focuses the first field (`{dom}-{first}`),
/// closing the Edit button (`{dom}-edit`).
#[derive(Clone)]
pub struct Opening {
    id: String,
    dom: String,
    first: &'static str,
    memory: RowMemory,
    pub editing: RwSignal<bool>,
}

impl Opening {
    pub fn new(memory: RowMemory, id: &str, dom: &str, first: &'static str) -> Self {
        memory.restore_focus(&format!("{dom}-"));
        Opening {
            id: id.to_string(),
            dom: dom.to_string(),
            first,
            memory,
            editing: RwSignal::new(memory.is_open(id)),
        }
    }

    pub fn set(&self, open: bool) {
        self.memory.set_open(&self.id, open);
        self.editing.set(open);
        let target = if open { self.first } else { "edit" };
        focus_soon(format!("{}-{target}", self.dom));
    }

    /// The row's Edit / Close button (id `{dom}-edit`) as the row is now, described by
    /// `described`: drawn in a closure, it is drawn again when the row opens or closes.
    pub fn button(&self, class: &'static str, described: String) -> impl IntoView {
        let open = self.editing.get();
        let opening = self.clone();
        view! {
            <button
                type="button"
                class=class
                id=format!("{}-edit", self.dom)
                aria-expanded=if open { "true" } else { "false" }
                aria-describedby=described
                on:click=move |_| opening.set(!open)
            >
                {if open { "Close" } else { "Edit" }}
            </button>
        }
    }

    /// Closes the row (its editor's Done).
    pub fn closer(&self) -> Callback<()> {
        let opening = self.clone();
        Callback::new(move |()| opening.set(false))
    }
}

/// The open fields of a row: a group labelled `label` with the fields, what follows them,
/// and Done and Delete (asking first; `{dom}-delete`).
pub fn row_editor(
    label: &'static str,
    what: &'static str,
    dom: &str,
    fields: impl IntoView,
    after: impl IntoView,
    close: Callback<()>,
    delete: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="ev-editor" role="group" aria-label=label>
            <div class="ev-fields">{fields}</div>
            {after}
            <div class="ev-actions">
                <button type="button" class="ev-button" on:click=move |_| close.run(())>
                    "Done"
                </button>
                {confirm_delete(what, format!("{dom}-delete"), delete)}
            </div>
        </div>
    }
}

/// Moves focus to the element with this id once it is on the page.
pub fn focus_soon(id: String) {
    request_animation_frame(move || {
        if let Some(el) = platform::element_by_id::<web_sys::HtmlElement>(&id) {
            let _ = el.focus();
        }
    });
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

/// What a list remembers across re-rendering one of its rows: which field had focus, and text
/// typed into a field but not committed yet. A row is rebuilt when its content changes
/// (someone else's edit, or this person's own commit of another field); with this, the
/// person typing keeps their place and their words.
#[derive(Clone, Copy)]
pub struct RowMemory {
    /// Rows whose fields are open for correcting.
    open: StoredValue<HashSet<String>>,
    focused: StoredValue<Option<String>>,
    drafts: StoredValue<HashMap<String, String>>,
    problems: StoredValue<HashMap<String, String>>,
}

impl RowMemory {
    pub fn new() -> Self {
        RowMemory {
            open: StoredValue::new(HashSet::new()),
            focused: StoredValue::new(None),
            drafts: StoredValue::new(HashMap::new()),
            problems: StoredValue::new(HashMap::new()),
        }
    }

    /// Whether the row `id` has its fields open.
    pub fn is_open(&self, id: &str) -> bool {
        self.open.with_value(|o| o.contains(id))
    }

    pub fn set_open(&self, id: &str, open: bool) {
        self.open.update_value(|o| {
            if open {
                o.insert(id.to_string());
            } else {
                o.remove(id);
            }
        });
    }

    /// For the list's `focusin`: remembers the focused field.
    pub fn focus_in(&self, ev: &web_sys::Event) {
        let id = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|el| el.id())
            .filter(|id| !id.is_empty());
        if id.is_some() {
            self.focused.set_value(id);
        }
    }

    /// Points the focus memory at a field (a row about to be rebuilt under a new id).
    pub fn will_focus(&self, id: String) {
        self.focused.set_value(Some(id));
    }

    /// Text typed into the field `id` and not committed yet.
    pub fn draft(&self, id: &str) -> Option<String> {
        self.drafts.with_value(|d| d.get(id).cloned())
    }

    pub fn set_draft(&self, id: &str, value: String) {
        self.drafts.update_value(|d| {
            d.insert(id.to_string(), value);
        });
    }

    pub fn clear_draft(&self, id: &str) {
        self.drafts.update_value(|d| {
            d.remove(id);
        });
    }

    /// Why the value typed into the field `id` was refused, if it was.
    pub fn problem(&self, id: &str) -> Option<String> {
        self.problems.with_value(|p| p.get(id).cloned())
    }

    /// Remembers (or forgets) why the text in the field `id` was refused.
    pub fn note_problem(&self, id: &str, problem: Option<String>) {
        self.problems.update_value(|p| match problem {
            Some(message) => {
                p.insert(id.to_string(), message);
            }
            None => {
                p.remove(id);
            }
        });
    }

    /// The value a field of a freshly built row starts with: a draft, else the stored one.
    pub fn value_or_draft(&self, id: &str, stored: String) -> String {
        self.draft(id).unwrap_or(stored)
    }

    /// Called when a row is built: if the field that had focus belongs to this row (ids
    /// starting with `prefix`) and focus fell to the page, puts it back.
    pub fn restore_focus(&self, prefix: &str) {
        let mine = self
            .focused
            .with_value(|f| f.as_deref().is_some_and(|id| id.starts_with(prefix)));
        if !mine {
            return;
        }
        let focused = self.focused;
        request_animation_frame(move || {
            let document = platform::document();
            let lost = match document.active_element() {
                None => true,
                Some(active) => document.body().is_some_and(|body| {
                    let body: &web_sys::Element = body.as_ref();
                    *body == active
                }),
            };
            if !lost {
                return;
            }
            if let Some(id) = focused.get_value() {
                if let Some(el) = platform::element_by_id::<web_sys::HtmlElement>(&id) {
                    let _ = el.focus();
                }
            }
        });
    }
}
