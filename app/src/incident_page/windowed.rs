//! Long lists drawn a window at a time: only the rows near the viewport are in the page.
//!
//! The timeline and the indicators can hold thousands of entries. A list keeps the ids it
//! shows (after its filter) in order; `range` is the slice of them in the page, and the list's
//! own padding above and below stands for the rows left out, from each row's height as last
//! measured (an estimate until a row has been drawn once). The window follows the page's
//! scrolling a frame at a time (a list of at most `WHOLE_UP_TO` rows is drawn whole), with `OVERSCAN_PX` of rows drawn beyond each edge of the
//! screen, so that Tab and the arrow keys always find the next row in the page and the focus
//! scrolls the window along. `reveal` brings any row in (a jump, the hand-over's new event)
//! before scrolling to it. A row drawn while the page is being scrolled is drawn light (its
//! text and its Edit button, `whole_row`) and made whole once the scrolling has settled, one
//! row a frame, the rows on screen first, or at once when something in it takes the focus. Rows are found by their attribute (`data-event-id`,
//! `data-indicator-id`) on the list's own children.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::platform;
use crate::session::Standing;

/// How far beyond each edge of the screen rows are drawn.
const OVERSCAN_PX: f64 = 800.0;
/// Rows drawn at least, wherever the list is (so Tab from above or below lands on rows).
const MIN_ROWS: usize = 12;
/// A list this short is drawn whole: cheap enough, and the browser's find-in-page sees it all.
const WHOLE_UP_TO: usize = 200;
/// While scrolling, the rows' heights and the list's place in the page are read again at
/// least this often (ms); in between the window follows the scroll position alone, without
/// asking the browser for a layout.
const REMEASURE_MS: f64 = 400.0;
/// The page counts as being scrolled until this long (ms) after its last scroll event: rows
/// drawn meanwhile are light, and made whole once it has passed.
const SETTLE_MS: f64 = 150.0;

/// One windowed list.
#[derive(Clone, Copy)]
pub struct Windowed {
    /// The ids of the rows the list shows, in order.
    pub ids: Memo<Arc<Vec<String>>>,
    /// The rows in the page: `[start, end)` of `ids`.
    pub range: RwSignal<(usize, usize)>,
    heights: StoredValue<HashMap<String, f64>>,
    /// Each shown row's place in `ids`.
    positions: Memo<Arc<HashMap<String, usize>>>,
    /// The offset of each row's top from the list's top, and the total at the end.
    offsets: Memo<Arc<Vec<f64>>>,
    /// Moves when a row's measured height changed.
    measured: RwSignal<u64>,
    /// The list element's DOM id.
    list: &'static str,
    /// The attribute naming a row's id.
    attribute: &'static str,
    scheduled: StoredValue<bool>,
    /// Rows were drawn or the list changed since the rows were last measured.
    fresh: StoredValue<bool>,
    /// The list's top in page coordinates, and when it was read (ms since the epoch).
    top_in_page: StoredValue<Option<(f64, f64)>>,
    /// When the page last scrolled (ms since the epoch).
    last_scroll: StoredValue<f64>,
    /// Rows drawn light, waiting to be made whole (see `whole_row`).
    light: StoredValue<Vec<(String, RwSignal<bool>)>>,
    settling: StoredValue<bool>,
}

impl Windowed {
    /// A window over `ids`, for the list element `list` whose rows carry `attribute`;
    /// `estimate` is a row's height (px) until it has been measured.
    pub fn new(
        ids: Memo<Arc<Vec<String>>>,
        list: &'static str,
        attribute: &'static str,
        estimate: f64,
    ) -> Self {
        let heights = StoredValue::new(HashMap::<String, f64>::new());
        let measured = RwSignal::new(0u64);
        let offsets = Memo::new(move |_| {
            measured.track();
            ids.with(|ids| {
                heights.with_value(|h| {
                    let mut at = 0.0;
                    let mut offsets = Vec::with_capacity(ids.len() + 1);
                    for id in ids.iter() {
                        offsets.push(at);
                        at += h.get(id).copied().unwrap_or(estimate);
                    }
                    offsets.push(at);
                    Arc::new(offsets)
                })
            })
        });
        let positions = Memo::new(move |_| {
            ids.with(|ids| {
                Arc::new(
                    ids.iter()
                        .enumerate()
                        .map(|(i, id)| (id.clone(), i))
                        .collect::<HashMap<_, _>>(),
                )
            })
        });
        let window = Windowed {
            ids,
            positions,
            range: RwSignal::new((0, MIN_ROWS)),
            heights,
            offsets,
            measured,
            list,
            attribute,
            scheduled: StoredValue::new(false),
            fresh: StoredValue::new(true),
            top_in_page: StoredValue::new(None),
            last_scroll: StoredValue::new(0.0),
            light: StoredValue::new(Vec::new()),
            settling: StoredValue::new(false),
        };
        // The page scrolled or was resized, the rows changed, or the window moved (its new
        // rows are measured once drawn).
        let on_scroll = window_event_listener(ev::scroll, move |_| {
            window.last_scroll.set_value(platform::now_millis());
            window.schedule();
        });
        let on_resize = window_event_listener(ev::resize, move |_| {
            window.fresh.set_value(true);
            window.schedule();
        });
        on_cleanup(move || {
            on_scroll.remove();
            on_resize.remove();
        });
        Effect::new(move |_| {
            ids.track();
            window.range.track();
            window.fresh.set_value(true);
            window.schedule();
        });
        window
    }

    /// A row's `aria-posinset` (counted from 1).
    pub fn position(self, id: String) -> impl Fn() -> Option<String> + Send + Sync + 'static {
        move || {
            self.positions
                .with(|p| p.get(&id).map(|i| (i + 1).to_string()))
        }
    }

    /// The rows' `aria-setsize`: how many the list shows in all, drawn or not.
    pub fn size(self) -> impl Fn() -> String + Send + Sync + 'static {
        move || self.ids.with(|i| i.len()).to_string()
    }

    /// The padding standing for the rows above the window.
    pub fn space_above(&self) -> String {
        let start = self.shown().start;
        self.offsets
            .with(|o| format!("{}px", o.get(start).copied().unwrap_or(0.0)))
    }

    /// The padding standing for the rows below the window.
    pub fn space_below(&self) -> String {
        let end = self.shown().end;
        self.offsets.with(|o| {
            let total = o.last().copied().unwrap_or(0.0);
            let at = o.get(end).copied().unwrap_or(total);
            format!("{}px", (total - at).max(0.0))
        })
    }

    /// Whether the row `id`, being drawn now, is drawn whole (true) or light (false, until
    /// it is set). A row drawn while the page is being scrolled (a fling draws a few rows
    /// every frame) is light: building a whole row (its comments, its attachments, who wrote
    /// it) for every row that flies past made the frames long on a phone. Once the
    /// scrolling has settled for `SETTLE_MS` the light rows still drawn are made whole, one a
    /// frame, the one nearest the middle of the screen first. A row sets it itself when
    /// something in it takes the focus, or when it is opened for editing.
    pub fn whole_row(self, id: &str) -> RwSignal<bool> {
        let now = platform::now_millis();
        if now - self.last_scroll.get_value() >= SETTLE_MS {
            return RwSignal::new(true);
        }
        let whole = RwSignal::new(false);
        self.light.update_value(|l| l.push((id.to_string(), whole)));
        if !self.settling.get_value() {
            self.settling.set_value(true);
            self.settle_in(SETTLE_MS);
        }
        whole
    }

    fn settle_in(self, ms: f64) {
        set_timeout(
            move || self.settle(),
            std::time::Duration::from_millis(ms.max(1.0) as u64),
        );
    }

    /// Makes the light row nearest the middle of the screen whole, and the next one at the
    /// next frame, once the page has not scrolled for `SETTLE_MS`.
    fn settle(self) {
        let Some(last) = self.last_scroll.try_get_value() else {
            return;
        };
        let idle = platform::now_millis() - last;
        if idle < SETTLE_MS {
            self.settle_in(SETTLE_MS - idle);
            return;
        }
        // The row at the middle of the screen, by the offsets known.
        let middle = self.top_in_page.get_value().map(|(top_in_page, _)| {
            let window = platform::window();
            let scrolled = window.scroll_y().unwrap_or(0.0);
            let screen = window
                .inner_height()
                .ok()
                .and_then(|h| h.as_f64())
                .unwrap_or(800.0);
            let y = scrolled + screen / 2.0 - top_in_page;
            self.offsets
                .with_untracked(|o| o[1..].partition_point(|&end| end <= y))
        });
        let next = self.light.try_update_value(|light| {
            // Rows that left the page since are gone.
            light.retain(|(_, whole)| whole.try_get_untracked() == Some(false));
            let at = |id: &String| {
                self.positions
                    .with_untracked(|p| p.get(id).copied())
                    .unwrap_or(usize::MAX)
            };
            let nearest = (0..light.len()).min_by_key(|&i| match middle {
                Some(m) => at(&light[i].0).abs_diff(m),
                None => i,
            })?;
            Some(light.swap_remove(nearest).1)
        });
        match next.flatten() {
            Some(whole) => {
                whole.set(true);
                // Its height changes: measured again at the next frame.
                self.fresh.set_value(true);
                self.schedule();
                request_animation_frame(move || self.settle());
            }
            None => {
                self.settling.try_set_value(false);
            }
        }
    }

    /// The rows in the page, as indices into `ids` (clamped to what `ids` holds now).
    pub fn shown(&self) -> std::ops::Range<usize> {
        let (start, end) = self.range.get();
        let len = self.ids.with(|i| i.len());
        if len <= WHOLE_UP_TO {
            return 0..len;
        }
        start.min(len)..end.min(len)
    }

    /// The window follows the page at the next frame (once per frame however often asked).
    pub fn schedule(self) {
        if self.scheduled.try_get_value() != Some(false) {
            return;
        }
        self.scheduled.set_value(true);
        request_animation_frame(move || {
            if self.scheduled.try_set_value(false).is_none() {
                self.update();
            }
        });
    }

    fn list_element(&self) -> Option<web_sys::HtmlElement> {
        platform::element_by_id::<web_sys::HtmlElement>(self.list)
    }

    /// Moves the window to what the screen shows. After rows were drawn (and every
    /// `REMEASURE_MS` while scrolling) the rows in the page are measured and the list's place
    /// read, which makes the browser lay the page out; otherwise the list's place is worked
    /// out from the scroll position, which does not (a scroll frame without new rows then
    /// costs no layout).
    fn update(self) {
        let window = platform::window();
        let scrolled = window.scroll_y().unwrap_or(0.0);
        let now = platform::now_millis();
        let known = self
            .top_in_page
            .get_value()
            .filter(|(_, at)| !self.fresh.get_value() && now - at < REMEASURE_MS);
        let top = match known {
            Some((top_in_page, _)) => top_in_page - scrolled,
            None => {
                let Some(list) = self.list_element() else {
                    return;
                };
                self.fresh.set_value(false);
                self.measure(&list);
                let top = list.get_bounding_client_rect().top();
                self.top_in_page.set_value(Some((top + scrolled, now)));
                top
            }
        };
        let screen = window
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        // The screen in the list's own coordinates, widened by the overscan.
        let low = -top - OVERSCAN_PX;
        let high = -top + screen + OVERSCAN_PX;
        let wanted = self.offsets.with_untracked(|o| span_of(o, low, high));
        if self.range.get_untracked() != wanted {
            self.range.set(wanted);
        }
    }

    /// Notes the height of every row in the page; the offsets move when one changed.
    fn measure(&self, list: &web_sys::HtmlElement) {
        let children = list.children();
        let mut changed = false;
        self.heights.update_value(|heights| {
            for i in 0..children.length() {
                let Some(row) = children.item(i) else {
                    continue;
                };
                let Some(id) = row.get_attribute(self.attribute) else {
                    continue;
                };
                let height = row.get_bounding_client_rect().height();
                if height <= 0.0 {
                    // Not laid out (a folded section): keep what was known.
                    continue;
                }
                let known = heights.insert(id, height);
                if known.is_none_or(|k| (k - height).abs() > 0.5) {
                    changed = true;
                }
            }
        });
        if changed {
            self.measured.update(|n| *n += 1);
        }
    }

    /// Brings the row `id` into the page, scrolls it into view and gives it to `then` once
    /// drawn. False when the list does not show it (filtered out, or gone).
    pub fn reveal(self, id: &str, then: impl FnOnce(web_sys::HtmlElement) + 'static) -> bool {
        let Some(index) = self
            .ids
            .with_untracked(|ids| ids.iter().position(|i| i == id))
        else {
            return false;
        };
        let len = self.ids.with_untracked(|i| i.len());
        let start = index.saturating_sub(MIN_ROWS / 2);
        let end = (index + MIN_ROWS).min(len);
        self.range.set((start, end));
        // Scrolled near it now (by the offsets known), exactly once it is drawn.
        if let Some(list) = self.list_element() {
            let top = list.get_bounding_client_rect().top();
            let offset = self
                .offsets
                .with_untracked(|o| o.get(index).copied().unwrap_or(0.0));
            let y = platform::window().scroll_y().unwrap_or(0.0);
            platform::window().scroll_to_with_x_and_y(0.0, (y + top + offset - 80.0).max(0.0));
        }
        let id = id.to_string();
        self.when_drawn(id, 20, 0, Box::new(then));
        true
    }

    /// Waits for the row to be drawn, scrolls it into view, lets the window follow that
    /// scroll for a few frames (rows drawn around it may be moved in the page, which takes
    /// the focus away), then scrolls to it again and hands it over.
    fn when_drawn(
        self,
        id: String,
        tries: u32,
        seen: u32,
        then: Box<dyn FnOnce(web_sys::HtmlElement)>,
    ) {
        request_animation_frame(move || match self.row(&id) {
            Some(row) if seen >= 3 => {
                row.scroll_into_view_with_bool(true);
                then(row);
            }
            Some(row) => {
                if seen == 0 {
                    row.scroll_into_view_with_bool(true);
                }
                self.when_drawn(id, tries, seen + 1, then);
            }
            None if tries > 0 => self.when_drawn(id, tries - 1, seen, then),
            None => {}
        });
    }

    /// The row `id` if it is in the page.
    pub fn row(&self, id: &str) -> Option<web_sys::HtmlElement> {
        let list = self.list_element()?;
        let children = list.children();
        (0..children.length())
            .filter_map(|i| children.item(i))
            .find(|row| row.get_attribute(self.attribute).as_deref() == Some(id))
            .and_then(|row| row.dyn_into().ok())
    }

    /// The keys that move between rows, for the list's `keydown`: ↓ and ↑ the next and the
    /// previous row, Home and End the first and the last (brought into the page first). Keys
    /// typed into a field are left alone.
    pub fn on_key(self, ev: &ev::KeyboardEvent) {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") {
            return;
        }
        let current = target
            .closest(&format!("[{}]", self.attribute))
            .ok()
            .flatten()
            .and_then(|row| row.get_attribute(self.attribute));
        let len = self.ids.with_untracked(|i| i.len());
        if len == 0 {
            return;
        }
        let index = current.and_then(|c| {
            self.ids
                .with_untracked(|ids| ids.iter().position(|i| *i == c))
        });
        let to = match (ev.key().as_str(), index) {
            ("ArrowDown", Some(i)) => (i + 1).min(len - 1),
            ("ArrowUp", Some(i)) => i.saturating_sub(1),
            ("Home", _) => 0,
            ("End", _) => len - 1,
            _ => return,
        };
        ev.prevent_default();
        let id = self.ids.with_untracked(|ids| ids[to].clone());
        self.reveal(&id, |row| {
            let _ = row.focus();
        });
    }
}

/// The rows whose extent meets `[low, high)` (list coordinates), at least `MIN_ROWS` of them.
fn span_of(offsets: &[f64], low: f64, high: f64) -> (usize, usize) {
    let len = offsets.len().saturating_sub(1);
    if len <= WHOLE_UP_TO {
        return (0, len);
    }
    // The first row ending after `low`, the first row starting at or after `high`.
    let start = offsets[1..].partition_point(|&end| end <= low).min(len);
    let end = offsets[..len].partition_point(|&top| top < high).max(start);
    if end - start >= MIN_ROWS.min(len) {
        return (start, end);
    }
    let end = (start + MIN_ROWS).min(len);
    (end.saturating_sub(MIN_ROWS), end)
}

/// "5,000": a count with thousands separated.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where a viewer's list filters are drawn: outside the incident's body, whose disabled
/// fieldset would disable them. Finding and "Go to" change nothing, so viewers may use them.
/// One slot per list, in the page's order (`ViewerFind::TIMELINE`, `ViewerFind::INDICATORS`).
#[derive(Clone, Copy)]
pub struct ViewerFind([RwSignal<Option<ViewFn>>; 2]);

impl ViewerFind {
    pub const TIMELINE: usize = 0;
    pub const INDICATORS: usize = 1;

    /// Made once per incident page, above both the slots and the lists.
    pub fn provide() {
        provide_context(ViewerFind([RwSignal::new(None), RwSignal::new(None)]));
    }

    /// Places list `which`'s filter (drawn by `filter`, wanted while `wanted`): in the
    /// viewer's slot when this device may not edit, else in the list. Returns whether the
    /// list draws it in place.
    pub fn place(
        which: usize,
        wanted: Memo<bool>,
        standing: RwSignal<Standing>,
        filter: ViewFn,
    ) -> Signal<bool> {
        let Some(ViewerFind(slots)) = use_context::<ViewerFind>() else {
            return wanted.into();
        };
        let slot = slots[which];
        let viewer = Memo::new(move |_| !standing.get().may_edit());
        Effect::new(move |_| slot.set((wanted.get() && viewer.get()).then(|| filter.clone())));
        on_cleanup(move || slot.set(None));
        Signal::derive(move || wanted.get() && !viewer.get())
    }
}

/// The viewer's filters (see `ViewerFind`), drawn above the incident's body.
#[component]
pub fn ViewerFindSlots() -> impl IntoView {
    let ViewerFind(slots) = expect_context::<ViewerFind>();
    let titles = ["Find in the timeline", "Find an indicator"];
    slots
        .into_iter()
        .zip(titles)
        .map(|(slot, title)| {
            move || {
                slot.get().map(|filter| {
                    view! {
                        <div class="viewer-find card">
                            <p class="viewer-find-title">{title}</p>
                            {filter.run()}
                        </div>
                    }
                })
            }
        })
        .collect_view()
}
