//! The `@` picker: wrapped around a text field, typing `@` and the start of a name offers the
//! people invited to the incident (the list kept on the device, so offline too), narrowed as
//! one types. ↑ ↓ move, Enter or Tab picks, Escape closes; a tap picks on a phone. Picking
//! puts `@Name ` in the field (`incident::mentions::token`) and tells `on_pick`.
//!
//! How to use it (any `<input>` or `<textarea>`, controlled by a signal or not):
//!
//! ```ignore
//! let invited = people::use_people();
//! view! {
//!     <MentionPicker people=invited>
//!         {Field::new("comment-body", "Comment").textarea("3").two_way(body).view()}
//!     </MentionPicker>
//! }
//! // When saving: the invite ids the text mentions, only ever people on the list.
//! let ids = mention_picker::mentioned(&body.get_untracked(), &invited.get_untracked());
//! ```
//!
//! The picker writes the new text into the field itself and sends the field an `input` event,
//! so a `two_way` signal follows. Only people from `people` are ever offered, and
//! [`mentioned`] reads only them back: a name not on the list stays plain text.

use incident::mentions::{self, Invitee};
use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};

use crate::people::Person;

/// The most names the list shows at once.
const SHOWN: usize = 8;

/// The people as the model's mentions read them.
pub fn invitees(people: &[Person]) -> Vec<Invitee> {
    people
        .iter()
        .map(|p| Invitee::new(&p.invite, &p.name))
        .collect()
}

/// The invite ids `text` mentions (each once), read against `people`: what a comment stores
/// as its `mentions` when it is saved.
pub fn mentioned(text: &str, people: &[Person]) -> Vec<String> {
    mentions::mentioned(text, &invitees(people))
}

/// A text field's value and caret, whichever kind it is.
#[derive(Clone)]
enum TextField {
    Input(HtmlInputElement),
    Area(HtmlTextAreaElement),
}

impl TextField {
    fn of(target: Option<web_sys::EventTarget>) -> Option<TextField> {
        let target = target?;
        if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
            return Some(TextField::Input(input.clone()));
        }
        target
            .dyn_ref::<HtmlTextAreaElement>()
            .map(|a| TextField::Area(a.clone()))
    }

    fn value(&self) -> String {
        match self {
            TextField::Input(i) => i.value(),
            TextField::Area(a) => a.value(),
        }
    }

    /// The caret, in UTF-16 units as the DOM counts.
    fn caret(&self) -> Option<u32> {
        match self {
            TextField::Input(i) => i.selection_end().ok().flatten(),
            TextField::Area(a) => a.selection_end().ok().flatten(),
        }
    }

    fn set(&self, value: &str, caret: u32) {
        match self {
            TextField::Input(i) => {
                i.set_value(value);
                let _ = i.set_selection_range(caret, caret);
            }
            TextField::Area(a) => {
                a.set_value(value);
                let _ = a.set_selection_range(caret, caret);
            }
        }
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        if let Ok(event) = web_sys::Event::new_with_event_init_dict("input", &init) {
            let _ = self.element().dispatch_event(&event);
        }
    }

    fn element(&self) -> HtmlElement {
        match self {
            TextField::Input(i) => i.clone().unchecked_into(),
            TextField::Area(a) => a.clone().unchecked_into(),
        }
    }
}

/// The byte offset of UTF-16 offset `units` in `text`.
fn byte_offset(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16() as u32;
    }
    text.len()
}

/// An open list: where the `@` is (bytes), the caret (bytes), and who is offered.
#[derive(Clone, PartialEq)]
struct Offer {
    at: usize,
    caret: usize,
    people: Vec<Person>,
}

/// Wraps a text field (its children) with the `@` picker. `on_pick` hears each person picked.
#[component]
pub fn MentionPicker(
    /// The people invited to the incident (`people::use_people()`).
    #[prop(into)]
    people: Signal<Vec<Person>>,
    #[prop(optional)] on_pick: Option<Callback<Person>>,
    /// More classes for the wrapper (it takes the field's place in a flex row).
    #[prop(optional, into)]
    class: String,
    children: Children,
) -> impl IntoView {
    let offer = RwSignal::new(None::<Offer>);
    let active = RwSignal::new(0usize);
    let field = StoredValue::new_local(None::<TextField>);
    // Set while the picker's own `input` event goes by, so it does not reopen the list.
    let writing = StoredValue::new(false);
    let list_id = format!("mention-list-{}", crate::platform::new_id());

    let look = move |target: Option<web_sys::EventTarget>| {
        let Some(text_field) = TextField::of(target) else {
            return;
        };
        let text = text_field.value();
        let caret = text_field
            .caret()
            .map_or(text.len(), |c| byte_offset(&text, c));
        field.set_value(Some(text_field));
        let found = mentions::query_at(&text, caret).and_then(|(at, query)| {
            let list = people.get_untracked();
            let invited = invitees(&list);
            let names: Vec<Person> = mentions::matching(&invited, &query)
                .into_iter()
                .take(SHOWN)
                .filter_map(|i| list.iter().find(|p| p.invite == i.invite).cloned())
                .collect();
            (!names.is_empty()).then_some(Offer {
                at,
                caret,
                people: names,
            })
        });
        let same = offer
            .with_untracked(|o| o.as_ref().map(|o| &o.people) == found.as_ref().map(|f| &f.people));
        if !same {
            active.set(0);
        }
        offer.set(found);
    };

    let pick = move |person: Person| {
        let Some(open) = offer.get_untracked() else {
            return;
        };
        offer.set(None);
        let Some(text_field) = field.get_value() else {
            return;
        };
        let text = text_field.value();
        let (new_text, caret) = mentions::insert(&text, open.at, open.caret, &person.name);
        let units = incident::utf16_len(&new_text[..caret]);
        writing.set_value(true);
        text_field.set(&new_text, units);
        writing.set_value(false);
        let _ = text_field.element().focus();
        if let Some(on_pick) = on_pick {
            on_pick.run(person);
        }
    };

    let on_input = move |ev: ev::Event| {
        if writing.get_value() {
            return;
        }
        look(ev.target());
    };
    let on_keydown = move |ev: ev::KeyboardEvent| {
        let Some(open) = offer.get_untracked() else {
            return;
        };
        let count = open.people.len();
        match ev.key().as_str() {
            "ArrowDown" => active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => active.update(|a| *a = (*a + count - 1) % count),
            "Enter" | "Tab" => {
                let chosen = open.people[active.get_untracked().min(count - 1)].clone();
                ev.prevent_default();
                ev.stop_propagation();
                pick(chosen);
                return;
            }
            "Escape" => offer.set(None),
            _ => return,
        }
        ev.prevent_default();
        ev.stop_propagation();
    };
    // Leaving the field closes the list (a tap on a name is taken before, on pointer down).
    let on_focusout = move |_: ev::FocusEvent| offer.set(None);
    let on_click = move |ev: ev::MouseEvent| {
        // A click in the field moves the caret: look again where it is now.
        if TextField::of(ev.target()).is_some() {
            look(ev.target());
        }
    };

    let list = {
        let list_id = list_id.clone();
        move || {
            offer.get().map(|open| {
                let options = open
                    .people
                    .into_iter()
                    .enumerate()
                    .map(|(i, person)| {
                        let name = person.name.clone();
                        let chosen = person.clone();
                        view! {
                            <li
                                role="option"
                                class="mention-option"
                                aria-selected=move || (active.get() == i).to_string()
                                on:pointerdown=move |ev: ev::PointerEvent| {
                                    ev.prevent_default();
                                    pick(chosen.clone());
                                }
                            >
                                {name}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <ul id=list_id.clone() class="mention-list" role="listbox" aria-label="People invited to this incident">
                        {options}
                    </ul>
                }
            })
        }
    };

    view! {
        <div
            class=format!("mention-picker {class}")
            on:input=on_input
            on:keydown=on_keydown
            on:focusout=on_focusout
            on:click=on_click
            data-mention-list=list_id
        >
            {children()}
            {list}
        </div>
    }
}
