//! Going to a comment thread from elsewhere on the page (the catch-up card): its section is
//! unfolded, a windowed list (timeline, indicators) brings the item's row into the page
//! first, a folded "resolved comments" or "Comments on removed items" is opened, and the
//! thread (`id="thread-{id}"`, drawn by `comments.rs`) is scrolled to and focused.
//!
//! The lists are not above the card, so they cannot be reached through the context the card
//! reads: each list puts its window into a page-level slot (`place_timeline`,
//! `place_indicators`) while it is drawn.

use incident::CommentTarget;
use leptos::prelude::*;

use super::navigation::Nav;
use super::timeline::RevealEvent;
use super::windowed::Windowed;
use crate::platform;

/// How many frames a thread is looked for once its row or section was brought in.
const TRIES: u32 = 60;

/// The page's windowed lists, while they are drawn.
#[derive(Clone, Copy)]
struct Lists {
    timeline: StoredValue<Option<RevealEvent>>,
    indicators: StoredValue<Option<Windowed>>,
}

/// Made once per incident page, above the card and the lists.
pub fn provide() {
    provide_context(Lists {
        timeline: StoredValue::new(None),
        indicators: StoredValue::new(None),
    });
}

/// The timeline's window, for going to a thread on one of its events.
pub fn place_timeline(reveal: RevealEvent) {
    if let Some(lists) = use_context::<Lists>() {
        lists.timeline.set_value(Some(reveal));
        on_cleanup(move || lists.timeline.set_value(None));
    }
}

/// The indicators' window, for going to a thread on one of them.
pub fn place_indicators(window: Windowed) {
    if let Some(lists) = use_context::<Lists>() {
        lists.indicators.set_value(Some(window));
        on_cleanup(move || lists.indicators.set_value(None));
    }
}

/// Goes to threads; taken where the page's context is at hand (a component's body).
#[derive(Clone, Copy)]
pub struct GoToThread {
    nav: Option<Nav>,
    lists: Option<Lists>,
}

/// The section a thread on `target` is in (its deep-link key).
pub fn section_of(target: &CommentTarget) -> &'static str {
    match target {
        CommentTarget::Timeline(_) => "timeline",
        CommentTarget::Indicator(_) => "indicators",
        CommentTarget::NextStep(_) => "next-steps",
        CommentTarget::Prose(section) => section.key(),
    }
}

impl GoToThread {
    pub fn new() -> GoToThread {
        GoToThread {
            nav: use_context::<Nav>(),
            lists: use_context::<Lists>(),
        }
    }

    /// Shows thread `thread` on `target` (`removed`: its item is gone, so the thread is in
    /// "Comments on removed items" at the page's end).
    pub fn go(self, thread: &str, target: &CommentTarget, removed: bool) {
        let thread = thread.to_string();
        if removed {
            if let Some(list) = platform::document()
                .query_selector("[data-testid=removed-item-comments]")
                .ok()
                .flatten()
            {
                let _ = list.set_attribute("open", "");
            }
            focus_when_drawn(thread, TRIES);
            return;
        }
        if let Some(nav) = self.nav {
            nav.set_folded(section_of(target), false);
        }
        let lists = self.lists;
        match target {
            CommentTarget::Timeline(id) => {
                if let Some(reveal) = lists.and_then(|l| l.timeline.get_value()) {
                    reveal.reveal(id, move |_| focus_when_drawn(thread, TRIES));
                    return;
                }
            }
            CommentTarget::Indicator(id) => {
                if let Some(window) = lists.and_then(|l| l.indicators.get_value()) {
                    let found = thread.clone();
                    if window.reveal(id, move |_| focus_when_drawn(found, TRIES)) {
                        return;
                    }
                }
            }
            _ => {}
        }
        focus_when_drawn(thread, TRIES);
    }
}

/// Waits for the thread to be in the page, opens the folded list it may be in, scrolls to it
/// and focuses it.
fn focus_when_drawn(thread: String, tries: u32) {
    request_animation_frame(move || {
        let Some(element) =
            platform::element_by_id::<web_sys::HtmlElement>(&format!("thread-{thread}"))
        else {
            if tries > 0 {
                focus_when_drawn(thread, tries - 1);
            }
            return;
        };
        if let Some(folded) = element.closest("details").ok().flatten() {
            let _ = folded.set_attribute("open", "");
        }
        element.scroll_into_view_with_bool(true);
        if let Err(e) = element.focus() {
            platform::log_error(&platform::js_error_text(&e));
        }
    });
}
