//! Finding one's way on the incident page: the section bar (chips along the bottom of a
//! phone, an outline beside the page on a wide screen) with live counts, sections folded
//! away on this device, and deep links (`/incident/{id}#timeline`).
//!
//! A section is named by its key, the `h-{key}` id of its heading without the `h-`; the
//! address's fragment holds that key and nothing else. Invite links (`#invite=…`) are read
//! and removed by `crate::access` before this runs, and no key contains `=`, so the two never
//! meet.

use std::time::Duration;

use incident::{AnswerStatus, Incident, Question, QuestionList, Role, StepStatus, Tlp};
use leptos::ev;
use leptos::prelude::*;

use super::timeline::shared::{events_memo, indicators_memo, Events, Iocs};
use super::watch;
use crate::session::use_incident;
use crate::{platform, prefs};

/// Every place the bar leads to, in page order: (key, short name on the bar).
pub const SECTIONS: [(&str, &str); 17] = [
    ("overview", "Overview"),
    ("classification", "Classification"),
    ("roles", "Roles"),
    ("summary", "Summary"),
    ("timeline", "Timeline"),
    ("indicators", "Indicators"),
    ("details", "Details"),
    ("kill-chain", "Kill chain"),
    ("response", "Response"),
    ("next-steps", "Next steps"),
    ("theories", "Theories"),
    ("questions", "Questions"),
    ("lessons", "Lessons"),
    ("background", "Background"),
    ("comms", "Comms"),
    ("appendix", "Appendix"),
    ("postmortem", "Post-mortem"),
];

/// How long after a jump scrolling is taken as the jump's own.
const JUMP_SETTLES_MS: f64 = 500.0;

/// The section a fragment names (`#next-steps` → `next-steps`), if it names one.
fn section_of(hash: &str) -> Option<&'static str> {
    let key = hash.strip_prefix('#')?;
    SECTIONS.iter().map(|(k, _)| *k).find(|k| *k == key)
}

/// Open and late next steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepCounts {
    pub total: usize,
    pub open: usize,
    pub late: usize,
}

impl StepCounts {
    /// "3 open · 1 late", "2 open", "none yet".
    pub fn text(self) -> String {
        match (self.total, self.late) {
            (0, _) => "none yet".to_string(),
            (_, 0) => format!("{} open", self.open),
            (_, late) => format!("{} open · {late} late", self.open),
        }
    }
}

/// Questions with an answer or a status other than "unknown", of how many.
fn answered(incident: &Incident, list: QuestionList) -> (usize, usize) {
    let review = match list {
        QuestionList::PostMortem => incident.review_questions(),
        QuestionList::WillBeAsked => Vec::new(),
    };
    Question::of(list)
        .chain(review)
        .fold((0, 0), |(done, all), q| {
            let a = incident.answer(q);
            let has = a.status != AnswerStatus::Unknown || !a.answer.trim().is_empty();
            (done + usize::from(has), all + 1)
        })
}

/// The page's navigation state, shared by the bar, the headings and the overview.
#[derive(Clone, Copy)]
pub struct Nav {
    /// Keys of the sections folded on this device.
    folded: RwSignal<Vec<String>>,
    /// The section being read (marked on the bar).
    current: RwSignal<String>,
    /// Until when (ms since the epoch) scrolling leaves the mark alone: the scroll of a jump
    /// is not the reader moving on (the last sections never reach the top of the screen).
    settled_at: StoredValue<f64>,
    pub steps: Memo<StepCounts>,
    pub events: Memo<Events>,
    iocs: Memo<Iocs>,
    questions: Memo<(usize, usize)>,
    postmortem: Memo<(usize, usize)>,
    roles_held: Memo<usize>,
    tlp: Memo<Tlp>,
}

impl Nav {
    /// Made once per page, for the open incident; put in context for the headings.
    pub fn provide() -> Nav {
        let open = use_incident();
        let steps = watch(&open, Incident::next_steps);
        let now = crate::clock::now();
        let step_counts = Memo::new(move |_| {
            let now = now.get();
            steps.with(|steps| StepCounts {
                total: steps.len(),
                open: steps
                    .iter()
                    .filter(|(_, s)| s.status != StepStatus::Done)
                    .count(),
                late: steps.iter().filter(|(_, s)| s.is_overdue(&now)).count(),
            })
        });
        let nav = Nav {
            folded: RwSignal::new(prefs::folded_sections()),
            current: RwSignal::new("overview".to_string()),
            settled_at: StoredValue::new(0.0),
            steps: step_counts,
            events: events_memo(&open),
            iocs: indicators_memo(&open),
            questions: watch(&open, |i| answered(i, QuestionList::WillBeAsked)),
            postmortem: watch(&open, |i| answered(i, QuestionList::PostMortem)),
            roles_held: watch(&open, |i| {
                Role::ALL
                    .into_iter()
                    .filter(|r| i.role_holder(*r).is_some())
                    .count()
            }),
            tlp: watch(&open, Incident::tlp),
        };
        provide_context(nav);
        nav
    }

    /// What the bar and the heading say after a section's name; `(text, late)`.
    pub fn count(self, key: &str) -> Option<(String, bool)> {
        let of = |(done, all): (usize, usize)| format!("{done}/{all} answered");
        Some(match key {
            "classification" => (format!("TLP:{}", self.tlp.get().as_str()), false),
            "roles" => (
                format!("{}/{} held", self.roles_held.get(), Role::ALL.len()),
                false,
            ),
            "timeline" => (self.events.with(|e| e.len()).to_string(), false),
            "indicators" => (self.iocs.with(|i| i.len()).to_string(), false),
            "next-steps" => {
                let steps = self.steps.get();
                (steps.text(), steps.late > 0)
            }
            "questions" => (of(self.questions.get()), false),
            "postmortem" => (of(self.postmortem.get()), false),
            _ => return None,
        })
    }

    pub fn is_folded(self, key: &str) -> bool {
        self.folded.with(|f| f.iter().any(|k| k == key))
    }

    /// Folds or unfolds a section, and remembers it on this device.
    pub fn set_folded(self, key: &str, fold: bool) {
        if self.is_folded(key) == fold {
            return;
        }
        self.folded.update(|f| {
            f.retain(|k| k != key);
            if fold {
                f.push(key.to_string());
            }
        });
        self.folded
            .with_untracked(|f| prefs::set_folded_sections(f));
    }

    /// Opens a section (unfolding it), brings its heading to the top of the screen and gives
    /// it the keyboard focus; `address` also puts the section in the address bar.
    pub fn jump(self, key: &str, address: bool) {
        self.set_folded(key, false);
        self.current.set(key.to_string());
        self.settled_at
            .set_value(platform::now_millis() + JUMP_SETTLES_MS);
        if address {
            let location = platform::window().location();
            let path = location.pathname().unwrap_or_default();
            let search = location.search().unwrap_or_default();
            let replaced = platform::window().history().and_then(|h| {
                h.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&format!("{path}{search}#{key}")),
                )
            });
            if let Err(e) = replaced {
                platform::log_error(&platform::js_error_text(&e));
            }
        }
        // After the unfolded section is drawn.
        let id = format!("h-{key}");
        request_animation_frame(move || {
            if let Some(heading) = platform::element_by_id::<web_sys::HtmlElement>(&id) {
                if let Err(e) = heading.focus() {
                    platform::log_error(&platform::js_error_text(&e));
                }
                heading.scroll_into_view();
                settle_on(heading, 3);
            }
        });
    }
}

/// Scrolls `heading` into view again at each of the next `frames` frames: the sections
/// around it that were off screen are drawn only once near (`content-visibility: auto`,
/// navigation.css), and their real height may move it.
fn settle_on(heading: web_sys::HtmlElement, frames: u32) {
    if frames == 0 {
        return;
    }
    request_animation_frame(move || {
        heading.scroll_into_view();
        settle_on(heading, frames - 1);
    });
}

/// What a plain click on a link to `key` does: jump there. A click with a modifier (a new
/// tab or window) is left to the browser, which opens the deep link.
fn on_jump(key: &'static str) -> impl Fn(ev::MouseEvent) + 'static {
    let nav = use_context::<Nav>();
    move |ev: ev::MouseEvent| {
        if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
            return;
        }
        if let Some(nav) = nav {
            ev.prevent_default();
            nav.jump(key, true);
        }
    }
}

/// A link to a section that jumps there.
pub fn jump_link(key: &'static str, class: &'static str, content: Signal<String>) -> impl IntoView {
    view! {
        <a href=format!("#{key}") class=class on:click=on_jump(key)>
            {content}
        </a>
    }
}

/// A section's heading row: the heading (id `h-{key}`, what the section is labelled by; the
/// target of a jump), its count, and the control that folds the section away. Folded, the
/// row stays; the stylesheet hides the rest of the section. The control is a button by role:
/// a viewer's disabled fieldset would disable a `<button>`, and folding changes nothing.
pub fn section_head(key: &str, title: &'static str) -> impl IntoView {
    let nav = use_context::<Nav>();
    let key = key.to_string();
    let count = {
        let key = key.clone();
        move || nav.and_then(|n| n.count(&key))
    };
    let expanded = {
        let key = key.clone();
        move || !nav.is_some_and(|n| n.is_folded(&key))
    };
    let toggle = {
        let key = key.clone();
        move || {
            if let Some(n) = nav {
                n.set_folded(&key, !n.is_folded(&key));
            }
        }
    };
    let on_key = {
        let toggle = toggle.clone();
        move |ev: ev::KeyboardEvent| {
            if ev.key() == "Enter" || ev.key() == " " {
                ev.prevent_default();
                toggle();
            }
        }
    };
    let count_class = {
        let count = count.clone();
        move || {
            if count().is_some_and(|(_, late)| late) {
                "section-count late"
            } else {
                "section-count"
            }
        }
    };
    view! {
        <div class="section-head">
            <h2 id=format!("h-{key}") tabindex="-1">{title}</h2>
            <span class=count_class data-testid="section-count">
                {move || count().map(|(text, _)| text)}
            </span>
            <span
                role="button"
                tabindex="0"
                class="fold"
                data-testid="fold"
                aria-expanded=move || expanded().to_string()
                on:click=move |_| toggle()
                on:keydown=on_key
            >
                <span class="fold-mark" aria-hidden="true"></span>
                <span class="sr-only">{title}</span>
            </span>
        </div>
    }
}

/// The bar: one entry per section with its count; the one being read is marked.
#[component]
pub fn SectionBar(nav: Nav) -> impl IntoView {
    let current = nav.current;
    let settled_at = nav.settled_at;
    // The section being read: the last heading above the upper third of the screen. Read at
    // most every 150 ms while scrolling.
    let scheduled = StoredValue::new(false);
    let on_scroll = window_event_listener(ev::scroll, move |_| {
        if scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        set_timeout(
            move || {
                scheduled.try_set_value(false);
                if settled_at
                    .try_get_value()
                    .is_none_or(|t| platform::now_millis() < t)
                {
                    return;
                }
                if let Some(key) = section_in_view() {
                    if current.try_get_untracked().is_some_and(|c| c != key) {
                        current.try_set(key.to_string());
                    }
                }
            },
            Duration::from_millis(150),
        );
    });
    // A section's key typed into the address bar (or a link to one followed) on this page.
    let on_hash = window_event_listener(ev::hashchange, move |_| {
        let hash = platform::window().location().hash().unwrap_or_default();
        if let Some(key) = section_of(&hash) {
            nav.jump(key, false);
        }
    });
    on_cleanup(move || {
        on_scroll.remove();
        on_hash.remove();
    });
    // Opened with a section in the address (a deep link, or a reload after a jump).
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            let hash = platform::window().location().hash().unwrap_or_default();
            if let Some(key) = section_of(&hash) {
                nav.jump(key, false);
            }
        }
    });
    // On a phone the chips scroll sideways: keep the marked one in sight.
    Effect::new(move |_| {
        let key = current.get();
        let (Some(bar), Some(chip)) = (
            platform::element_by_id::<web_sys::HtmlElement>("section-bar"),
            platform::element_by_id::<web_sys::HtmlElement>(&format!("nav-{key}")),
        ) else {
            return;
        };
        if bar.scroll_width() > bar.client_width() {
            let left = chip.offset_left() - bar.client_width() / 3;
            bar.set_scroll_left(left.max(0));
        }
    });
    let entries = SECTIONS.map(|(key, name)| {
        let count = move || nav.count(key);
        view! {
            <li>
                <a
                    id=format!("nav-{key}")
                    href=format!("#{key}")
                    data-section=key
                    aria-current=move || current.with(|c| c.as_str() == key).then_some("location")
                    on:click=on_jump(key)
                >
                    <span class="nav-name">{name}</span>
                    " "
                    <span class="nav-count" class:late=move || count().is_some_and(|(_, late)| late)>
                        {move || count().map(|(text, _)| text)}
                    </span>
                </a>
            </li>
        }
    });
    view! {
        <nav id="section-bar" class="section-bar" aria-label="Sections">
            <ol>{entries.into_iter().collect_view()}</ol>
        </nav>
    }
}

/// The last section whose heading is above the upper third of the screen; the last section
/// once the page is scrolled to its end.
fn section_in_view() -> Option<&'static str> {
    let window = platform::window();
    let height = window.inner_height().ok()?.as_f64()?;
    let scrolled = window.scroll_y().ok()?;
    let end = f64::from(platform::document().document_element()?.scroll_height());
    if scrolled + height >= end - 2.0 {
        return SECTIONS.last().map(|(key, _)| *key);
    }
    let line = height / 3.0;
    let mut found = None;
    for (key, _) in SECTIONS {
        let Some(heading) = platform::document().get_element_by_id(&format!("h-{key}")) else {
            continue;
        };
        if heading.get_bounding_client_rect().top() <= line {
            found = Some(key);
        } else {
            break;
        }
    }
    found.or(Some("overview"))
}
