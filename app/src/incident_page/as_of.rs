//! The incident as it stood at a time: the relay rebuilds it from its record
//! (`GET …/history/state?at=`, owner and editors), the page shows it read-only as the print
//! view renders a report, with what changed since then, or between it and a second time.
//! The past states are documents of their own, never merged into the live one; "Restore
//! this" writes an old value into the live incident as a normal new edit
//! (`incident::history::restore`).
//!
//! The time is typed in the incident's display zone, or picked with a slider over the
//! record: its metadata (`GET …/history`, pages read as needed, at most [`SLIDER_RECORDS`]
//! records) gives the stops (`incident::history::stops`, at most [`SLIDER_STOPS`]). Moving
//! the slider shows the incident there once it rests for [`SLIDER_PAUSE`], and at once on
//! release; the typed field follows it.

use std::sync::Arc;
use std::time::Duration;

use incident::export::{self, Audience, Report, ReportKind};
use incident::history::{
    can_restore, changes, restore, stops, typed_time, ChangeKind, Grain, Place, RecordMark,
    Restored, Stop,
};
use incident::{when, Incident, ProseSection, Tlp, UpdateOrigin};
use leptos::prelude::*;

use super::catch_up::link_of;
use super::export::report_view;
use crate::access::{self, ApiError};
use crate::form::Field;
use crate::platform;
use crate::session::{use_incident, OpenIncident, Standing};

/// The most records of the record the slider reads (the relay sends them in pages of
/// `--history-page-size`); past them it says to type a later time.
pub const SLIDER_RECORDS: usize = 100_000;

/// The most stops the slider has (see `incident::history::stops`).
pub const SLIDER_STOPS: usize = 500;

/// How many changes the view lists before "Show all N changes": thousands of lines (an
/// early time against a long incident) took most of the time to show the view.
const CHANGES_AT_FIRST: usize = 200;

/// How long the slider rests before the incident at its place is asked for.
const SLIDER_PAUSE: Duration = Duration::from_millis(300);

/// One change on show: its line, the section it links to, whether it was an addition, a
/// change or a deletion, and what "Restore this" puts back, when it is offered.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownChange {
    pub line: String,
    pub key: &'static str,
    /// "added", "changed" or "deleted".
    pub mark: &'static str,
    pub restore: Option<(Place, String)>,
}

/// A past state on show.
#[derive(Clone, Debug, PartialEq)]
pub struct AsOf {
    /// "2026-11-30 03:00 UTC" (with seconds when asked for), in the incident's display zone.
    pub shown_time: String,
    /// When comparing: the second time, shown the same way; the changes are from the first
    /// to it, not to now.
    pub compared_with: Option<String>,
    pub report: Report,
    pub changes: Vec<ShownChange>,
    /// What the last "Restore this" did.
    pub restored: Option<String>,
    at_ms: i64,
    /// The past state (Yjs v1), for restoring from it.
    then: Arc<Vec<u8>>,
}

/// "History", in the incident's header bar.
#[component]
pub fn HistoryButton(open_panel: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            type="button"
            id="history-button"
            class="share-button"
            aria-controls="history-panel"
            aria-expanded=move || open_panel.get().to_string()
            on:click=move |_| open_panel.update(|o| *o = !*o)
        >
            "History"
        </button>
    }
}

/// A time picked by a field and a slider.
#[derive(Clone, Copy)]
struct Picker {
    typed: RwSignal<String>,
    /// The slider's stop.
    position: RwSignal<usize>,
    /// The text the slider last wrote into the field and the exact time it stands for.
    from_slider: StoredValue<Option<(String, i64)>>,
}

impl Picker {
    fn new() -> Picker {
        Picker {
            typed: RwSignal::new(String::new()),
            position: RwSignal::new(0),
            from_slider: StoredValue::new(None),
        }
    }
}

/// What has been read of the record's metadata.
#[derive(Default)]
struct RecordRead {
    marks: Vec<RecordMark>,
    after: u64,
    loading: bool,
}

/// The first time and the second, if comparing (ms).
type Times = (i64, Option<i64>);

/// Everything the panel and its slider share.
#[derive(Clone)]
struct History {
    open: OpenIncident,
    as_of: RwSignal<Option<AsOf>>,
    zone: Memo<String>,
    problem: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    first: Picker,
    second: Picker,
    comparing: RwSignal<bool>,
    stops: RwSignal<(Grain, Vec<Stop>)>,
    record_note: RwSignal<Option<String>>,
    record: StoredValue<RecordRead>,
    /// The request whose answer is wanted, and the times it asked for.
    asked: StoredValue<(u64, Option<Times>)>,
    pause: StoredValue<Option<TimeoutHandle>>,
}

fn not_for_viewers() -> String {
    "The incident's history is for its owner and editors.".to_string()
}

fn said(e: ApiError) -> String {
    match e {
        ApiError::Unreachable(_) => {
            "Showing a past state needs the relay, and it cannot be reached.".into()
        }
        ApiError::Refused { status: 403, .. } => not_for_viewers(),
        e => format!("No past state: {e}."),
    }
}

impl History {
    /// This device's token, if it may ask the relay for the history now; else why not.
    fn token(&self) -> Result<String, String> {
        if let Standing::Member(role) = self.open.standing.get_untracked() {
            if !role.may_write() {
                return Err(not_for_viewers());
            }
        }
        let Some(held) = crate::prefs::access(&self.open.id) else {
            return Err(
                "The history is kept by the relay, and this incident is not on it yet.".into(),
            );
        };
        if !platform::window().navigator().on_line() {
            return Err("Showing a past state needs the relay: this device is offline.".into());
        }
        Ok(held.token)
    }

    /// The time `picker` names (ms): the slider's exact time when the field still shows
    /// what the slider wrote, else the typed time in the display zone.
    fn time_of(&self, picker: Picker) -> Result<i64, String> {
        let typed = picker.typed.get_untracked();
        if let Some((text, ms)) = picker.from_slider.get_value() {
            if text == typed {
                return Ok(ms);
            }
        }
        let zone = self.open.incident.display_zone();
        let now = when::parse_stored(&platform::now_rfc3339()).unwrap_or_default();
        let at = when::parse_time(&typed, &zone, now).map_err(|e| format!("Not a time: {e}."))?;
        let ms = when::parse_stored(&at.utc)
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| "Not a time.".to_string())?;
        // The slider goes to the last stop at or before it.
        self.stops.with_untracked(|(_, stops)| {
            let at = stops.iter().rposition(|s| s.at_ms <= ms).unwrap_or(0);
            if !stops.is_empty() && picker.position.get_untracked() != at {
                picker.position.set(at);
            }
        });
        Ok(ms)
    }

    /// Shows the first time (compared with the second when comparing). `again`: even when
    /// that is what is on show or on its way.
    fn go(&self, again: bool) {
        self.problem.set(None);
        let times = self.time_of(self.first).and_then(|a| {
            if self.comparing.get_untracked() {
                self.time_of(self.second).map(|b| (a, Some(b)))
            } else {
                Ok((a, None))
            }
        });
        let token = times.and_then(|times| self.token().map(|token| (times, token)));
        let ((a, b), token) = match token {
            Ok(ok) => ok,
            Err(why) => {
                self.problem.set(Some(why));
                return;
            }
        };
        let (generation, last) = self.asked.get_value();
        if !again
            && last == Some((a, b))
            && (self.busy.get_untracked() || self.as_of.with_untracked(Option::is_some))
        {
            return;
        }
        let generation = generation + 1;
        self.asked.set_value((generation, Some((a, b))));
        self.busy.set(true);
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let then = access::state_at(&me.open.id, &token, a).await;
            let other = match (&then, b) {
                (Ok(_), Some(b)) => Some(access::state_at(&me.open.id, &token, b).await),
                _ => None,
            };
            if me.asked.try_get_value().map(|(g, _)| g) != Some(generation) {
                return;
            }
            me.busy.set(false);
            let result = match (then, other) {
                (Ok(then), None) => build(&me.open, Arc::new(then), a, None),
                (Ok(then), Some(Ok(other))) => {
                    build(&me.open, Arc::new(then), a, Some((&other, b.unwrap_or(a))))
                }
                (Err(e), _) | (_, Some(Err(e))) => Err(said(e)),
            };
            match result {
                Ok(shown) => me.as_of.set(Some(shown)),
                Err(why) => me.problem.set(Some(why)),
            }
        });
    }

    /// The slider of `picker` moved to stop `index`; `released`: let go of, or stepped by key.
    fn slid(&self, picker: Picker, index: usize, released: bool) {
        let Some(at_ms) = self
            .stops
            .with_untracked(|(_, stops)| stops.get(index).map(|s| s.at_ms))
        else {
            return;
        };
        picker.position.set(index);
        let text = typed_time(at_ms, &self.zone.get_untracked());
        picker.from_slider.set_value(Some((text.clone(), at_ms)));
        picker.typed.set(text);
        if let Some(waiting) = self.pause.get_value() {
            waiting.clear();
        }
        self.pause.set_value(None);
        if released {
            self.go(false);
            return;
        }
        let me = self.clone();
        match set_timeout_with_handle(
            move || {
                me.pause.set_value(None);
                me.go(false);
            },
            SLIDER_PAUSE,
        ) {
            Ok(handle) => self.pause.set_value(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }

    /// Reads the record's metadata the slider has not seen yet, page by page.
    async fn read_record(self) {
        let token = match self.token() {
            Ok(token) => token,
            Err(_) => return,
        };
        let after = {
            let mut start = None;
            self.record.update_value(|r| {
                if !r.loading && r.marks.len() < SLIDER_RECORDS {
                    r.loading = true;
                    start = Some(r.after);
                }
            });
            match start {
                Some(after) => after,
                None => return,
            }
        };
        if self.stops.with_untracked(|(_, s)| s.is_empty()) {
            self.record_note.set(Some("Reading the record…".into()));
        }
        let mut after = after;
        let mut note = None;
        loop {
            let page = match access::history_page(&self.open.id, &token, after).await {
                Ok(page) => page,
                Err(ApiError::Refused { status: 403, .. }) => {
                    note = Some(not_for_viewers());
                    break;
                }
                Err(e) => {
                    note = Some(format!("The slider could not read the record: {e}."));
                    break;
                }
            };
            if page.dropped_through.is_some() {
                note = Some(
                    "The relay no longer keeps the start of the record, so past states cannot be rebuilt."
                        .into(),
                );
            }
            let count = page.records.len();
            let mut total = 0;
            self.record.update_value(|r| {
                r.marks.extend(page.records.into_iter().map(|h| RecordMark {
                    seq: h.seq,
                    received_at_ms: h.received_at,
                    by: h.name,
                }));
                r.after = r.marks.last().map_or(r.after, |m| m.seq);
                total = r.marks.len();
                after = r.after;
            });
            if total >= SLIDER_RECORDS && page.next.is_some() {
                note = Some(format!(
                    "The slider covers the first {total} records; type a later time to see past them."
                ));
                break;
            }
            if page.next.is_none() || count == 0 {
                break;
            }
        }
        let built = self.record.with_value(|r| stops(&r.marks, SLIDER_STOPS));
        let old_len = self.stops.with_untracked(|(_, s)| s.len());
        let new_len = built.1.len();
        self.stops.set(built);
        // A slider at "now" stays at now; one moved elsewhere stays on its time.
        for picker in [self.first, self.second] {
            let at = picker.position.get_untracked();
            if old_len == 0 || at + 1 >= old_len {
                picker.position.set(new_len.saturating_sub(1));
            }
        }
        self.record_note.set(note);
        self.record.update_value(|r| r.loading = false);
    }

    /// The field and the slider of `picker`.
    fn picker_view(&self, picker: Picker, id: &'static str, label: &'static str) -> impl IntoView {
        let zone = self.zone;
        let field = Field::new(format!("{id}-at"), "")
            .label(Signal::derive(move || format!("{label} ({})", zone.get())))
            .wrap("field")
            .placeholder("2026-11-30 03:00")
            .two_way(picker.typed)
            .view();
        let stops = self.stops;
        let me = self.clone();
        let slider = move || {
            let len = stops.with(|(_, s)| s.len());
            (len > 0).then(|| {
                let text = move || {
                    let at = picker.position.get();
                    stops.with(|(grain, s)| {
                        s.get(at)
                            .map(|stop| stop.describe(&zone.get(), *grain))
                            .unwrap_or_default()
                    })
                };
                let at_ms = move || {
                    let at = picker.position.get();
                    stops.with(|(_, s)| s.get(at).map(|stop| stop.at_ms.to_string()))
                };
                let (moving, released) = (me.clone(), me.clone());
                view! {
                    <div class="field history-slider">
                        <label for=format!("{id}-slider")>{format!("{label}: move through the record")}</label>
                        <input
                            type="range"
                            id=format!("{id}-slider")
                            min="0"
                            max=(len - 1).to_string()
                            step="1"
                            prop:value=move || picker.position.get().to_string()
                            aria-valuetext=text
                            data-at=at_ms
                            on:input:target=move |ev| {
                                if let Ok(i) = ev.target().value().parse() {
                                    moving.slid(picker, i, false);
                                }
                            }
                            on:change:target=move |ev| {
                                if let Ok(i) = ev.target().value().parse() {
                                    released.slid(picker, i, true);
                                }
                            }
                        />
                        <p class="hint slider-at" id=format!("{id}-slider-at")>{text}</p>
                    </div>
                }
            })
        };
        view! {
            {field}
            {slider}
        }
    }
}

/// The panel: a time in the incident's display zone (typed, or picked on the slider),
/// "Show", and "Compare with…" a second time.
#[component]
pub fn HistoryPanel(open_panel: RwSignal<bool>, as_of: RwSignal<Option<AsOf>>) -> impl IntoView {
    let open = use_incident();
    let zone = super::watch(&open, Incident::display_zone);
    let history = History {
        open,
        as_of,
        zone,
        problem: RwSignal::new(None),
        busy: RwSignal::new(false),
        first: Picker::new(),
        second: Picker::new(),
        comparing: RwSignal::new(false),
        stops: RwSignal::new((Grain::Second, Vec::new())),
        record_note: RwSignal::new(None),
        record: StoredValue::new(RecordRead::default()),
        asked: StoredValue::new((0, None)),
        pause: StoredValue::new(None),
    };
    let reader = history.clone();
    Effect::new(move |_| {
        if open_panel.get() {
            wasm_bindgen_futures::spawn_local(reader.clone().read_record());
        }
    });
    let (problem, busy, comparing, record_note) = (
        history.problem,
        history.busy,
        history.comparing,
        history.record_note,
    );
    move || {
        open_panel.get().then(|| {
            let h = history.clone();
            let (show, compare) = (h.clone(), h.clone());
            let second = h.clone();
            view! {
                <section id="history-panel" class="share-panel history-panel" aria-labelledby="h-history">
                    <h2 id="h-history">"History"</h2>
                    <p class="hint">
                        "See the incident as it stood at a time, read-only, and what changed since. The relay rebuilds it from its record, for owners and editors."
                    </p>
                    {h.picker_view(h.first, "history", "Time")}
                    <div class="export-actions">
                        <button type="button" id="history-show" on:click=move |_| show.go(true) prop:disabled=move || busy.get()>
                            "Show"
                        </button>
                        <button
                            type="button"
                            id="history-compare-open"
                            aria-expanded=move || comparing.get().to_string()
                            on:click=move |_| comparing.update(|c| *c = !*c)
                        >
                            "Compare with…"
                        </button>
                    </div>
                    {move || comparing.get().then(|| {
                        let compare = compare.clone();
                        view! {
                            <div class="history-compare">
                                {second.picker_view(second.second, "history-compare", "Compare with")}
                                <div class="export-actions">
                                    <button type="button" id="history-compare" on:click=move |_| compare.go(true) prop:disabled=move || busy.get()>
                                        "Compare"
                                    </button>
                                </div>
                            </div>
                        }
                    })}
                    {move || record_note.get().map(|n| view! { <p id="history-record-note" class="hint">{n}</p> })}
                    {move || problem.get().map(|p| view! { <p id="history-problem" class="problem" role="alert">{p}</p> })}
                    <super::attribution::WhoWroteToggle/>
                </section>
            }
        })
    }
}

/// The past state at `at_ms` (`then`) as a report (full audience) and the changes from it to
/// `other` (the state at a second time) or, without one, to now.
fn build(
    open: &OpenIncident,
    then_bytes: Arc<Vec<u8>>,
    at_ms: i64,
    other: Option<(&[u8], i64)>,
) -> Result<AsOf, String> {
    let read = |bytes: &[u8]| {
        let state = Incident::new();
        state
            .apply_update(bytes, UpdateOrigin::Relay)
            .map_err(|e| format!("The relay's past state could not be read: {e}."))?;
        Ok::<_, String>(state)
    };
    let then = read(&then_bytes)?;
    let zone = open.incident.display_zone();
    let now = platform::now_rfc3339();
    let audience = Audience {
        incident_id: &open.id,
        tlp: Tlp::Red,
        now: &now,
    };
    let report = export::report(&then, &audience, ReportKind::Full);
    let (list, compared_with) = match other {
        Some((bytes, ms)) => (changes(&then, &read(bytes)?), Some(heading_time(ms, &zone))),
        None => (changes(&then, &open.incident), None),
    };
    let mut offered: Vec<Place> = Vec::new();
    let changes =
        list.into_iter()
            .map(|c| {
                let restore =
                    (compared_with.is_none() && can_restore(&c) && !offered.contains(&c.place))
                        .then(|| {
                            offered.push(c.place.clone());
                            let what = match ProseSection::from_key(c.place.section) {
                                Some(section) => section.title().to_string(),
                                None => format!("“{}”", c.subject.lines().next().unwrap_or("")),
                            };
                            (c.place.clone(), what)
                        });
                ShownChange {
                    line: c.describe(&zone),
                    key: link_of(c.group(), c.place.section),
                    mark: match c.kind {
                        ChangeKind::Added => "added",
                        ChangeKind::Deleted => "deleted",
                        _ => "changed",
                    },
                    restore,
                }
            })
            .collect();
    Ok(AsOf {
        shown_time: heading_time(at_ms, &zone),
        compared_with,
        report,
        changes,
        restored: None,
        at_ms,
        then: then_bytes,
    })
}

/// `ms` in `zone` as the page shows times (to the minute), with the seconds when it has
/// them: "2026-11-30 03:00:42 UTC".
fn heading_time(ms: i64, zone: &str) -> String {
    let seconds = ms.div_euclid(1000).rem_euclid(60) != 0;
    incident::history::shown_time(ms, zone, seconds)
}

/// "Restore this": `place` as it was in the state on show, written into the live incident
/// as a new edit; the list is made again against now.
fn restore_from(open: &OpenIncident, as_of: RwSignal<Option<AsOf>>, place: &Place, what: &str) {
    let Some(shown) = as_of.get_untracked() else {
        return;
    };
    if !open.standing.get_untracked().may_edit() {
        return;
    }
    let then = Incident::new();
    let note = match then.apply_update(&shown.then, UpdateOrigin::Relay) {
        Err(e) => format!("Not restored: the past state could not be read ({e})."),
        Ok(()) => match restore(&then, &open.incident, place) {
            Ok(Restored::Unchanged) => format!("{what} already holds what it held then."),
            Ok(_) => format!(
                "Restored {what} as it was at {}. It is a new change, shared like any other.",
                shown.shown_time
            ),
            Err(e) => format!("Not restored: {e}."),
        },
    };
    match build(open, Arc::clone(&shown.then), shown.at_ms, None) {
        Ok(mut again) => {
            again.restored = Some(note);
            as_of.set(Some(again));
        }
        Err(why) => as_of.update(|a| {
            if let Some(a) = a {
                a.restored = Some(why);
            }
        }),
    }
}

/// One line of the changes: what happened to it in a word, the line (a link to its
/// section), and "Restore this" where it is offered and this device may edit.
fn change_view(
    open: &OpenIncident,
    as_of: RwSignal<Option<AsOf>>,
    standing: RwSignal<Standing>,
    i: usize,
    change: &ShownChange,
) -> impl IntoView {
    let back = move |_| as_of.set(None);
    let line_id = format!("as-of-change-{i}");
    let restore = change
        .restore
        .clone()
        .filter(|_| standing.get_untracked().may_edit())
        .map(|(place, what)| {
            let open = open.clone();
            view! {
                <button type="button" class="as-of-restore" aria-describedby=line_id.clone() on:click=move |_| restore_from(&open, as_of, &place, &what)>
                    "Restore this"
                </button>
            }
        });
    view! {
        <li class=format!("as-of-change change-{}", change.mark)>
            <span class="change-mark">{change.mark}</span>
            <a id=line_id href=format!("#{}", change.key) on:click=back>{change.line.clone()}</a>
            {restore}
        </li>
    }
}

/// The past state on show, in place of the editor.
#[component]
pub fn AsOfView(as_of: RwSignal<Option<AsOf>>) -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    move || {
        as_of.get().map(|shown| {
            let changes = if shown.changes.is_empty() {
                let none = if shown.compared_with.is_some() {
                    "Nothing changed between the two times."
                } else {
                    "Nothing has changed since then."
                };
                view! { <p class="hint">{none}</p> }.into_any()
            } else {
                let list = Arc::new(shown.changes.clone());
                let all = RwSignal::new(list.len() <= CHANGES_AT_FIRST);
                let open = open.clone();
                let items = move || {
                    let shown_count = if all.get() { list.len() } else { CHANGES_AT_FIRST };
                    list.iter()
                        .take(shown_count)
                        .enumerate()
                        .map(|(i, change)| change_view(&open, as_of, standing, i, change))
                        .collect_view()
                };
                let total = shown.changes.len();
                let more = move || {
                    (!all.get()).then(|| {
                        view! {
                            <button type="button" id="as-of-all-changes" on:click=move |_| all.set(true)>
                                {format!("Show all {total} changes")}
                            </button>
                        }
                    })
                };
                view! {
                    <ul class="catch-up-list as-of-list">{items}</ul>
                    {more}
                }
                .into_any()
            };
            let heading = match &shown.compared_with {
                Some(other) => format!("Changes from {} to {other}", shown.shown_time),
                None => "Changes since then".to_string(),
            };
            view! {
                <section id="as-of" class="as-of" aria-labelledby="h-as-of">
                    <h2 id="h-as-of">{format!("As it stood at {} — read-only", shown.shown_time)}</h2>
                    <div class="export-actions">
                        <button type="button" id="as-of-back" on:click=move |_| as_of.set(None)>"Back to now"</button>
                    </div>
                    {shown.restored.clone().map(|note| view! { <p id="as-of-restored" role="status">{note}</p> })}
                    <section id="as-of-changes" aria-labelledby="h-as-of-changes">
                        <h3 id="h-as-of-changes">{heading}</h3>
                        {changes}
                    </section>
                    <div id="as-of-report">{report_view(&shown.report)}</div>
                </section>
            }
        })
    }
}
