//! "Who wrote what": with the toggle on (a pressed button in the History panel, for owners and editors), every
//! timeline event, indicator and next step shows who added it and who last changed it, when
//! (the relay's receive time, in the incident's display zone), and "written offline at …,
//! synced at …" when the device's time of the change lies well before it; every prose section
//! shows which part each person wrote.
//!
//! It all comes from the relay (`GET …/history/attribution`, which replays the record): the
//! answer is fetched when the toggle is turned on, and again at most every
//! [`REFETCH_EVERY_MS`] while changes arrive or this device's own reach the relay. Offline it
//! says that it needs the relay and keeps the last answer on show. Viewers are not offered the
//! toggle (the relay answers them 403). Names and text are shown as text, never as markup.
//!
//! The same answer, fetched the same way, also names who made each change in "Since you
//! were last here" ([`for_catch_up`]): the card asks for it while it lists changes, for
//! owners and editors, with the toggle on or off.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use incident::history::{written_offline, Place};
use incident::{when, Entry, Incident, Indicator, NextStep, TimelineEvent};
use leptos::prelude::*;
use wire::api::{Attribution, ChangeStamp, EntryAuthorship, ProseAuthorship};

use crate::access::{self, ApiError};
use crate::on_demand::on_demand;
use crate::platform;
use crate::session::{use_incident, OpenIncident, Standing};

/// The least time between two asks while changes keep arriving.
const REFETCH_EVERY_MS: f64 = 10_000.0;

/// How many writers get a colour of their own in a prose section's view (then they repeat).
const COLOURS: usize = 6;

/// The relay's last answer, arranged for lookups.
struct Known {
    entries: HashMap<(String, String), EntryAuthorship>,
    prose: HashMap<String, ProseAuthorship>,
    /// Everyone named in the prose, in order of first appearance (their colour).
    writers: Vec<String>,
    /// The same answer as the model reads it, for the catch-up card.
    stamps: incident::history::Attribution,
}

impl Known {
    fn new(answer: Attribution) -> Known {
        let mut writers: Vec<String> = Vec::new();
        for run in answer.prose.iter().flat_map(|p| &p.runs) {
            if let Some(by) = &run.by {
                if !writers.contains(by) {
                    writers.push(by.clone());
                }
            }
        }
        let stamps = model_attribution(&answer);
        Known {
            stamps,
            entries: answer
                .entries
                .into_iter()
                .map(|e| ((e.section.clone(), e.id.clone()), e))
                .collect(),
            prose: answer
                .prose
                .into_iter()
                .map(|p| (p.section.clone(), p))
                .collect(),
            writers,
        }
    }

    fn colour(&self, by: Option<&str>) -> String {
        match by.and_then(|by| self.writers.iter().position(|w| w == by)) {
            Some(n) => format!("by-{}", n % COLOURS),
            None => "by-none".to_string(),
        }
    }
}

/// The relay's answer as the model's attribution: entries and prose sections of sections this
/// build knows, a stamp without a name as an empty name (shown as nobody).
fn model_attribution(answer: &Attribution) -> incident::history::Attribution {
    use incident::history::{Authorship, Stamp};
    let stamp = |s: &ChangeStamp| Stamp {
        seq: s.seq,
        by: Arc::from(s.name.as_deref().unwrap_or("")),
        received_at_ms: s.received_at,
        written_at_ms: s.written_at,
    };
    let mut out = incident::history::Attribution::default();
    for e in &answer.entries {
        if let Some(place) = Place::from_keys(&e.section, Some(&e.id)) {
            let authorship = Authorship {
                created: stamp(&e.created),
                changed: stamp(&e.changed),
                deleted: e.deleted.as_ref().map(stamp),
            };
            out.insert(place, authorship);
        }
    }
    for p in &answer.prose {
        if let Some(place) = Place::from_keys(&p.section, None) {
            let authorship = Authorship {
                created: stamp(&p.created),
                changed: stamp(&p.changed),
                deleted: None,
            };
            out.insert(place, authorship);
        }
    }
    out
}

/// The page's "who wrote what" state, shared by the toggle and every byline.
#[derive(Clone, Copy)]
struct WhoWrote {
    on: RwSignal<bool>,
    /// The catch-up card lists changes and would name who made them.
    wanted: RwSignal<bool>,
    known: RwSignal<Option<Arc<Known>>>,
    status: RwSignal<Option<String>>,
    last_ask: StoredValue<f64>,
    timer: StoredValue<bool>,
    asking: StoredValue<bool>,
    /// The incident's display zone, read once for every byline.
    zone: Memo<String>,
}

/// Sets up "who wrote what" for the incident page (off until the toggle is turned on).
pub fn provide(open: &OpenIncident) {
    let who = WhoWrote {
        on: RwSignal::new(false),
        wanted: RwSignal::new(false),
        known: RwSignal::new(None),
        status: RwSignal::new(None),
        last_ask: StoredValue::new(f64::MIN),
        timer: StoredValue::new(false),
        asking: StoredValue::new(false),
        zone: super::watch(open, Incident::display_zone),
    };
    provide_context(who);
    let open = open.clone();
    Effect::new(move |was: Option<(bool, bool)>| {
        let now = (who.on.get(), who.wanted.get());
        // Anything that may have changed the relay's answer: a change here or from others,
        // this device's changes reaching the relay, the connection coming back.
        open.revision.track();
        open.pending.track();
        open.connection.track();
        let (was_on, was_wanted) = was.unwrap_or_default();
        if (now.0 && !was_on) || (now.1 && !was_wanted) {
            // Just turned on (the toggle, or the catch-up card): the answer kept from
            // before may be old, so the relay is asked now rather than after the wait.
            who.ask(open.clone());
        } else if now.0 || now.1 {
            who.soon(&open);
        }
        now
    });
}

impl WhoWrote {
    /// The toggle is on or the catch-up card wants names (untracked).
    fn active(self) -> bool {
        self.on.try_get_untracked() == Some(true) || self.wanted.try_get_untracked() == Some(true)
    }

    /// Asks the relay now if the last ask is old enough, else once the wait is over.
    fn soon(self, open: &OpenIncident) {
        if self.timer.get_value() {
            return;
        }
        let first = self.known.with_untracked(Option::is_none);
        let wait = if first {
            0.0
        } else {
            (self.last_ask.get_value() + REFETCH_EVERY_MS - platform::now_millis()).max(0.0)
        };
        self.timer.set_value(true);
        let open = open.clone();
        set_timeout(
            move || {
                self.timer.try_set_value(false);
                if self.active() {
                    self.ask(open);
                }
            },
            Duration::from_millis(wait as u64),
        );
    }

    fn ask(self, open: OpenIncident) {
        if self.asking.get_value() {
            return;
        }
        let Some(held) = crate::prefs::access(&open.id) else {
            self.status.set(Some(
                "Who wrote what is kept by the relay, and this incident is not on it yet."
                    .to_string(),
            ));
            return;
        };
        if !platform::window().navigator().on_line() {
            self.status.set(Some(
                "Who wrote what needs the relay: this device is offline.".to_string(),
            ));
            return;
        }
        if self.known.with_untracked(Option::is_none) {
            self.status.set(Some("Asking the relay…".to_string()));
        }
        self.asking.set_value(true);
        self.last_ask.set_value(platform::now_millis());
        let revision = open.revision.get_untracked();
        let pending = open.pending.get_untracked();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match access::attribution(&open.id, &held.token).await {
                Ok(text) => match read_answer(text).await {
                    Ok(read) => read,
                    Err(not_here) => {
                        // Its module did not arrive: say why, as any part on demand does.
                        let why = not_here.why().await;
                        self.asking.try_set_value(false);
                        self.status.try_set(Some(why.text().to_string()));
                        return;
                    }
                },
                Err(e) => Err(e),
            };
            self.asking.try_set_value(false);
            let problem = match result {
                Ok(known) => {
                    self.known.try_set(Some(known));
                    None
                }
                Err(ApiError::Unreachable(_)) => {
                    Some("Who wrote what needs the relay, and it cannot be reached.".to_string())
                }
                Err(ApiError::Refused { status: 403, .. }) => {
                    Some("Who wrote what is for the incident's owner and editors.".to_string())
                }
                Err(e) => Some(format!("Who wrote what could not be read: {e}.")),
            };
            self.status.try_set(problem);
            // Something changed while the relay was asked: ask again (after the wait).
            let moved = open.revision.try_get_untracked() != Some(revision)
                || open.pending.try_get_untracked() != Some(pending);
            if moved && self.active() {
                self.soon(&open);
            }
        });
    }
}

crate::on_demand::part! {
    /// Reads the relay's answer (JSON text) and arranges it for lookups. In its own wasm module
    /// with the bylines' drawing (`crate::on_demand`): fetched when "who wrote what" is first
    /// wanted, kept by the service worker.
    fn read_answer(text: String) -> Result<Arc<Known>, ApiError> {
        arrange_answer(text)
    }
}

/// What `read_answer` does, in its module.
fn arrange_answer(text: String) -> Result<Arc<Known>, ApiError> {
    match serde_json::from_str::<Attribution>(&text) {
        Ok(answer) => Ok(Arc::new(Known::new(answer))),
        Err(e) => Err(ApiError::Refused {
            status: 200,
            message: format!("an answer we cannot read: {e}"),
            retry_after: None,
        }),
    }
}

/// The toggle, with what it needs said under it; nothing for viewers.
#[component]
pub fn WhoWroteToggle() -> impl IntoView {
    let open = use_incident();
    let who = use_context::<WhoWrote>();
    let standing = open.standing;
    move || {
        let who = who?;
        if matches!(standing.get(), Standing::Member(role) if !role.may_write()) {
            return None;
        }
        Some(view! {
            <div class="who-wrote">
                <div class="export-actions">
                    <button
                        type="button"
                        id="who-wrote"
                        aria-pressed=move || who.on.get().to_string()
                        on:click=move |_| who.on.update(|on| *on = !*on)
                    >
                        "Who wrote what"
                    </button>
                </div>
                <p class="hint">
                    "Shows on every entry who added and last changed it, and in each written section who wrote which part, from the relay's record."
                </p>
                {move || who.status.get().filter(|_| who.on.get()).map(|s| view! { <p id="who-wrote-status" class="hint" role="status">{s}</p> })}
            </div>
        })
    }
}

/// A timeline event's place, for its byline.
pub fn event(id: &str) -> Place {
    Place::entry(TimelineEvent::ROOT, id)
}

/// An indicator's place.
pub fn indicator(id: &str) -> Place {
    Place::entry(Indicator::ROOT, id)
}

/// A next step's place.
pub fn step(id: &str) -> Place {
    Place::entry(NextStep::ROOT, id)
}

/// Who added and changed the thing at `place` (for a prose section, also who wrote which
/// part); nothing while the toggle is off or the relay has not said.
#[component]
pub fn Byline(place: Place) -> impl IntoView {
    // Nothing is drawn (nor its code fetched) before the toggle is on and the relay answered.
    use_context::<WhoWrote>().map(|who| {
        let shown = move || who.on.get() && who.known.with(Option::is_some);
        on_demand(shown, move || draw_byline(who, place.clone()))
    })
}

crate::on_demand::part! {
    /// A byline as `Byline` shows it, in the module of "who wrote what" (`crate::on_demand`).
    fn draw_byline(who: WhoWrote, place: Place) -> AnyView {
        byline_view(who, place)
    }
}

/// What `draw_byline` draws, in its module.
fn byline_view(who: WhoWrote, place: Place) -> AnyView {
    (move || {
        if !who.on.get() {
            return None;
        }
        let known = who.known.get()?;
        let zone = who.zone.get();
        let now = platform::now_millis() as i64;
        match &place.id {
            Some(id) => {
                let entry = known
                    .entries
                    .get(&(place.section.to_string(), id.clone()))?;
                let line = byline(&entry.created, &entry.changed, "Added", &zone, now);
                Some(view! { <p class="byline" data-testid="byline">{line}</p> }.into_any())
            }
            None => {
                let prose = known.prose.get(place.section)?;
                let line = byline(&prose.created, &prose.changed, "Started", &zone, now);
                let legend = known
                    .writers
                    .iter()
                    .filter(|w| prose.runs.iter().any(|r| r.by.as_ref() == Some(*w)))
                    .map(|w| {
                        let class = format!("writer {}", known.colour(Some(w)));
                        view! { <span class=class>{w.clone()}</span> }
                    })
                    .collect_view();
                let runs = prose
                    .runs
                    .iter()
                    .map(|run| {
                        let by = run.by.clone().unwrap_or_else(|| "not named".to_string());
                        let class = format!("run {}", known.colour(run.by.as_deref()));
                        view! { <span class=class title=format!("Written by {by}") data-by=by>{run.text.clone()}</span> }
                    })
                    .collect_view();
                Some(
                    view! {
                        <div class="authorship" data-testid="authorship">
                            <p class="byline" data-testid="byline">{line}</p>
                            <p class="authorship-legend">"Who wrote which part, as on the relay: " {legend}</p>
                            <p class="authorship-text">{runs}</p>
                        </div>
                    }
                    .into_any(),
                )
            }
        }
    })
    .into_any()
}

/// "Added by Ana 03:12 UTC · changed by Ben 03:40 UTC · written offline at 02:10 UTC, synced
/// at 03:40 UTC" (the offline part for the last change made offline, when there is one).
fn byline(
    created: &ChangeStamp,
    changed: &ChangeStamp,
    added: &str,
    zone: &str,
    now: i64,
) -> String {
    let mut line = format!(
        "{added} by {} {}",
        name(created),
        shown(created.received_at, zone, now)
    );
    if changed.seq != created.seq {
        line.push_str(&format!(
            " · changed by {} {}",
            name(changed),
            shown(changed.received_at, zone, now)
        ));
    }
    let offline = [changed, created]
        .into_iter()
        .find_map(|s| written_offline(s.received_at, s.written_at).map(|w| (w, s.received_at)));
    if let Some((written, synced)) = offline {
        line.push_str(&format!(
            " · written offline at {}, synced at {}",
            shown(written, zone, now),
            shown(synced, zone, now)
        ));
    }
    line
}

fn name(stamp: &ChangeStamp) -> &str {
    stamp
        .name
        .as_deref()
        .unwrap_or("someone the record does not name")
}

/// A time (ms) in the display zone: "03:12 UTC" today, "2026-11-29 03:12 UTC" otherwise.
fn shown(ms: i64, zone: &str, now: i64) -> String {
    let at =
        |ms: i64| when::format_in_zone(&when::utc_from_unix_seconds(ms.div_euclid(1000)), zone);
    let full = at(ms);
    let today = at(now);
    match (full.get(..11), today.get(..11)) {
        (Some(day), Some(this_day)) if day == this_day => full[11..].to_string(),
        _ => full,
    }
}

/// The relay's answer for "Since you were last here": the card says while it lists changes
/// ([`ForCatchUp::want`]), and the answer is fetched and refetched as for the toggle.
#[derive(Clone, Copy)]
pub struct ForCatchUp(WhoWrote);

/// The shared answer, under the incident page.
pub fn for_catch_up() -> Option<ForCatchUp> {
    use_context::<WhoWrote>().map(ForCatchUp)
}

impl ForCatchUp {
    /// Whether the card lists changes and would name who made them.
    pub fn want(self, wanted: bool) {
        // (try_: the page's state may already be gone when the card is cleaned up.)
        if self.0.wanted.try_get_untracked() == Some(!wanted) {
            self.0.wanted.try_set(wanted);
        }
    }

    /// Who typed `@name` in `line` of the prose section `section` (its key), by the last
    /// answer's runs of that section (`incident::history::mention_typist`: only when
    /// certain); tracked.
    pub fn typist(self, section: &str, line: &str, name: &str) -> Option<String> {
        self.0.known.with(|known| {
            let prose = known.as_ref()?.prose.get(section)?;
            let runs: Vec<incident::history::Written> = prose
                .runs
                .iter()
                .map(|r| incident::history::Written {
                    text: r.text.clone(),
                    by: r.by.as_deref().map(Arc::from),
                })
                .collect();
            incident::history::mention_typist(&runs, line, name)
        })
    }

    /// `f` of the last answer as the model reads it (`None` before the first); tracked.
    pub fn with<R>(self, f: impl FnOnce(Option<&incident::history::Attribution>) -> R) -> R {
        self.0
            .known
            .with(|known| f(known.as_ref().map(|k| &k.stamps)))
    }
}
