//! "Since you were last here": what changed since this person's read mark on this device.
//!
//! The mark is kept per incident in this device's database (`store.rs`, object store
//! `marks`): its time and the incident's encoded state at that time. A state larger than
//! [`MARK_STATE_LIMIT`] is not kept: the mark then holds only its time, and the card says it
//! cannot list the changes. A mark an earlier Firebreak kept in localStorage
//! (`firebreak.mark.{id}`, hex) is read once, written to the database and then removed from
//! localStorage. Edits typed on this device are folded into the mark (in memory) as they are
//! made, so the card lists other people's changes, not one's own. Writing the mark back
//! encodes the whole incident (for a big one, a long task on a slow phone), so it is not done
//! while someone types: once typing has paused for [`SAVE_AFTER_PAUSE_MS`] (then when the
//! browser is idle), and at once when the page is hidden or left. Pure model, no relay: it
//! works offline for what the device has.
//!
//! Mentions of this device's person (`incident::mentions::unread`: places that mention them
//! now and did not at the mark, read against the incident's invited people) come first, as
//! "You were mentioned by Ana", each with a link to where and, for those who may write,
//! "Make this a next step for NAME" (a step owned by them, titled with the text).
//!
//! Comments, replies, resolves and reopens by others since the mark come next
//! (`incident::history::comment_catch_up`, which reads the `comments` root alone), one entry a
//! thread: what it is on (said removed when its item is gone), each action's who and when and
//! the start of its text; the thread's name goes to it (`go_to_thread.rs`). The summary line
//! counts the changes and the comment actions.
//!
//! Online, for owners and editors, each item also says who made the change and when, from
//! the relay's answer to "who wrote what" (fetched and kept by `attribution.rs`, shared with
//! its toggle). Offline and for viewers the card names no one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_storage::{LocalStorage, Storage};
use incident::history::{catch_up, comment_catch_up, CatchUpGroup, CommentCatchUp, Group};
use incident::mentions::Mention;
use incident::{CommentTarget, Incident, NextStep, RootSet, StepStatus, UpdateOrigin};
use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::Deserialize;
use sync_client::Connection;

use super::go_to_thread::{section_of, GoToThread};
use crate::session::{use_incident, OpenIncident, Standing};
use crate::store::{Store, StoredMark};
use crate::{mention_picker, people, platform};

/// Where an earlier Firebreak kept the mark (localStorage, the state in hex).
const LEGACY_PREFIX: &str = "firebreak.mark.";

/// The largest encoded state a mark keeps (bytes): the relay's largest websocket message,
/// so any incident a device can be sent whole gets a working catch-up.
pub const MARK_STATE_LIMIT: usize = 16 * 1024 * 1024;

/// How many changes of one part of the page the card lists before it counts the rest.
const PER_GROUP: usize = 8;

/// How long typing must have paused before the edits folded into the mark are written back
/// (then when the browser is idle; at once when the page is hidden or left).
const SAVE_AFTER_PAUSE_MS: u64 = 2000;

/// How long after opening a mark set on the first open is stored.
const SAVE_SOON_MS: u64 = 3000;

/// A mark as an earlier Firebreak kept it in localStorage.
#[derive(Deserialize)]
struct LegacyMark {
    /// RFC 3339 UTC.
    at: String,
    /// The encoded state in hex; empty when it was over that Firebreak's limit.
    state: String,
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// The reader's mark in memory: when, and the incident as it stood then (none when too big).
struct Mark {
    at: String,
    state: Option<Incident>,
}

impl Mark {
    fn from_stored(stored: StoredMark) -> Mark {
        Mark {
            at: stored.at,
            state: decoded(&stored.state, &[]),
        }
    }
}

/// The incident of an encoded state and the updates made after it (none when empty or refused).
fn decoded(state: &[u8], after: &[Vec<u8>]) -> Option<Incident> {
    if state.is_empty() {
        return None;
    }
    let incident = Incident::new();
    incident.apply_update(state, UpdateOrigin::Storage).ok()?;
    for update in after {
        incident.apply_update(update, UpdateOrigin::Local).ok()?;
    }
    Some(incident)
}

/// The mark the card works from. A mark set on this page (the first open on this device,
/// "Mark as read") is the open document itself until a change from elsewhere arrives: no copy
/// of it is made (for a big incident that was the costliest part of opening it) and nothing
/// is listed. Its encoded state is taken when it is saved, and decoded into a copy only when
/// someone else's change makes the card work out a difference.
enum Held {
    /// Read from this device (or made into a copy since): `state` as in [`Mark`].
    Kept(Mark),
    /// Set here at `at`; `base`: the document's encoded state when last saved (empty until the
    /// first save), `after`: this device's edits since; `in_step`: no change from elsewhere
    /// since, so the mark is the open document plus nothing.
    Live {
        at: String,
        base: Vec<u8>,
        after: Vec<Vec<u8>>,
        in_step: bool,
    },
}

impl Held {
    /// A mark set now on the open document.
    fn live(at: String) -> Held {
        Held::Live {
            at,
            base: Vec::new(),
            after: Vec::new(),
            in_step: true,
        }
    }

    fn at(&self) -> &str {
        match self {
            Held::Kept(m) => &m.at,
            Held::Live { at, .. } => at,
        }
    }

    /// An edit typed here: folded into the mark.
    fn fold_local(&mut self, update: &[u8]) -> bool {
        match self {
            Held::Kept(Mark {
                state: Some(state), ..
            }) => state.apply_update(update, UpdateOrigin::Local).is_ok(),
            Held::Kept(_) => false,
            Held::Live { after, .. } => {
                after.push(update.to_vec());
                true
            }
        }
    }

    /// A change from elsewhere reached the open document: a live mark is no longer it.
    fn out_of_step(&mut self) {
        if let Held::Live { in_step, .. } = self {
            *in_step = false;
        }
    }

    /// Nothing but this device's own edits since the mark: nothing to list.
    fn in_step(&self) -> bool {
        matches!(self, Held::Live { in_step: true, .. })
    }

    /// A live mark that fell out of step before its state was first taken has nothing to
    /// compare with: it starts again now (the change came while the page was opening).
    fn restart_if_unsaved(&mut self) -> bool {
        if let Held::Live {
            at,
            base,
            after,
            in_step,
        } = self
        {
            if base.is_empty() && !*in_step {
                *at = platform::now_rfc3339();
                after.clear();
                *in_step = true;
                return true;
            }
        }
        false
    }

    /// The state to store for this mark (the open document's own while it is the mark).
    fn encode(&mut self, open: &Incident) -> Vec<u8> {
        match self {
            Held::Kept(m) => m
                .state
                .as_ref()
                .map(Incident::encode_state)
                .unwrap_or_default(),
            Held::Live {
                base,
                after,
                in_step: true,
                ..
            } => {
                *base = open.encode_state();
                after.clear();
                base.clone()
            }
            Held::Live { .. } => {
                if !self.restart_if_unsaved() {
                    self.decode();
                }
                self.encode(open)
            }
        }
    }

    /// Makes the copy of a live mark that has fallen out of step; the kept mark.
    fn decode(&mut self) -> &Mark {
        if let Held::Live {
            at, base, after, ..
        } = self
        {
            let state = decoded(base, after);
            *self = Held::Kept(Mark {
                at: std::mem::take(at),
                state,
            });
        }
        match self {
            Held::Kept(m) => m,
            Held::Live { .. } => unreachable!("decoded above"),
        }
    }
}

/// This device's edits from the moment the incident page opened until the card has read
/// its mark: the card starts after the first screen (and its module may still be on the
/// way), so what was typed before would otherwise be missing from a kept mark and listed as
/// news on the next visit.
#[derive(Clone)]
pub struct EarlyEdits(SendWrapper<Rc<RefCell<Option<EarlyBuffer>>>>);

struct EarlyBuffer {
    edits: Vec<Vec<u8>>,
    _subscription: incident::Subscription,
}

impl EarlyEdits {
    /// Starts keeping this device's edits to the open incident, for the card to take.
    pub fn provide(open: &OpenIncident) {
        let shared: Rc<RefCell<Option<EarlyBuffer>>> = Rc::new(RefCell::new(None));
        let subscription = {
            let shared = shared.clone();
            open.incident.on_update(move |update, origin| {
                if origin != UpdateOrigin::Local {
                    return;
                }
                if let Some(buffer) = shared.borrow_mut().as_mut() {
                    buffer.edits.push(update.to_vec());
                }
            })
        };
        *shared.borrow_mut() = Some(EarlyBuffer {
            edits: Vec::new(),
            _subscription: subscription,
        });
        let edits = EarlyEdits(SendWrapper::new(shared));
        {
            let edits = edits.clone();
            on_cleanup(move || drop(edits.0.borrow_mut().take()));
        }
        provide_context(edits);
    }
}

/// This device's read mark for the incident `id` as last written: its time and, when it was
/// kept, the incident as it stood then (the shift hand-off counts from it offline).
pub async fn read_mark(id: &str) -> Option<(String, Option<Incident>)> {
    load(id).await.1.map(|m| (m.at, m.state))
}

/// Opens this device's database and reads the incident's mark, moving one kept the old way.
async fn load(id: &str) -> (Option<Store>, Option<Mark>) {
    let store = match Store::open(|_| {}).await {
        Ok(store) => Some(store),
        Err(e) => {
            platform::log_error(&format!("the read mark cannot be read: {e}"));
            None
        }
    };
    let stored = match &store {
        Some(store) => store.mark(id).await.unwrap_or_else(|e| {
            platform::log_error(&format!("the read mark cannot be read: {e}"));
            None
        }),
        None => None,
    };
    let stored = match stored {
        Some(mark) => Some(mark),
        None => moved_from_local_storage(store.as_ref(), id).await,
    };
    (store, stored.map(Mark::from_stored))
}

/// A mark an earlier Firebreak kept in localStorage: read, written to the database, and
/// removed from localStorage once the database holds it.
async fn moved_from_local_storage(store: Option<&Store>, id: &str) -> Option<StoredMark> {
    let key = format!("{LEGACY_PREFIX}{id}");
    let legacy = LocalStorage::get::<LegacyMark>(&key).ok()?;
    let mark = StoredMark {
        at: legacy.at,
        state: unhex(&legacy.state).unwrap_or_default(),
    };
    if let Some(store) = store {
        match store.set_mark(id, &mark).await {
            Ok(()) => LocalStorage::delete(&key),
            Err(e) => platform::log_error(&format!("the read mark was not moved: {e}")),
        }
    }
    Some(mark)
}

/// The mark as stored: the state left out when over [`MARK_STATE_LIMIT`].
fn stored(at: &str, bytes: Vec<u8>) -> StoredMark {
    StoredMark {
        at: at.to_string(),
        state: if bytes.len() > MARK_STATE_LIMIT {
            Vec::new()
        } else {
            bytes
        },
    }
}

/// Writes the mark to the database (in the order asked), if it is open and the incident is
/// not being removed from this device.
fn save(open: &OpenIncident, store: &RefCell<Option<Store>>, held: &mut Held) {
    if open.removed_from_device() {
        return;
    }
    let Some(store) = store.borrow().clone() else {
        return;
    };
    let bytes = held.encode(&open.incident);
    let mark = stored(held.at(), bytes);
    let id = open.id.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = store.set_mark(&id, &mark).await {
            platform::log_error(&format!("the read mark was not saved: {e}"));
        }
    });
}

/// What plans the mark's write-back after an edit ([`after_typing_pauses`]).
type Plan = Rc<dyn Fn()>;

/// `write_back`, planned after each edit folded into the mark: it runs once no other edit has
/// come for [`SAVE_AFTER_PAUSE_MS`], when the browser is next idle, so the encode of the whole
/// incident never lands between two keystrokes. `typed` counts the edits.
fn after_typing_pauses(
    typed: Rc<Cell<u64>>,
    write_back: &(impl Fn() + Clone + 'static),
) -> impl Fn() + 'static {
    let write_back = SendWrapper::new(write_back.clone());
    move || {
        let edit = typed.get() + 1;
        typed.set(edit);
        let (typed, write_back) = (SendWrapper::new(typed.clone()), write_back.clone());
        set_timeout(
            move || {
                if typed.get() == edit {
                    request_idle_callback(move || (*write_back)());
                }
            },
            std::time::Duration::from_millis(SAVE_AFTER_PAUSE_MS),
        );
    }
}

/// Runs `write_back` after the page has had time to draw (a mark set while opening).
fn save_soon(write_back: &SendWrapper<impl Fn() + Clone + 'static>) {
    let write_back = SendWrapper::new((**write_back).clone());
    set_timeout(
        move || (*write_back)(),
        std::time::Duration::from_millis(SAVE_SOON_MS),
    );
}

/// Where a change of `group` (in `section`) is on the page: a section's deep-link key.
pub fn link_of(group: Group, section: &str) -> &'static str {
    match group {
        Group::Incident if section == "classification" => "classification",
        Group::Incident => "overview",
        Group::Roles => "roles",
        Group::NextSteps => "next-steps",
        Group::Timeline => "timeline",
        Group::Indicators => "indicators",
        Group::Sections => incident::ProseSection::from_key(section)
            .map(|s| s.key())
            .unwrap_or("summary"),
        Group::Questions => "questions",
    }
}

/// Where a mention is on the page: a section's deep-link key.
pub fn mention_link(mention: &Mention) -> &'static str {
    match (&mention.on, mention.place.section) {
        (Some(CommentTarget::Timeline(_)), _) | (None, "timeline") => "timeline",
        (None, "prose") => {
            incident::ProseSection::from_key(&mention.place.id).map_or("summary", |s| s.key())
        }
        (Some(CommentTarget::Indicator(_)), _) => "indicators",
        (Some(CommentTarget::NextStep(_)), _) | (None, _) => "next-steps",
        (Some(CommentTarget::Prose(section)), _) => section.key(),
    }
}

/// The title of a next step made from a mention: its text on one line, at most 200
/// characters.
fn step_title(mention: &Mention) -> String {
    let flat = mention
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() > 200 {
        let cut: String = flat.chars().take(199).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// How many threads with news the card lists before it counts the rest.
const THREADS: usize = 8;

/// How many actions of one thread the card lists (the latest) before it counts the rest.
const PER_THREAD: usize = 3;

/// What the card lists: the mark's time, the changes (or why not), the unread mentions, and
/// the comment threads others wrote in.
type Listed = (
    String,
    Result<Vec<CatchUpGroup>, String>,
    Vec<Mention>,
    CommentCatchUp,
);

/// "2 changes and 3 comment updates since your mark at 01:30 UTC, on this device."
fn summary_line(changes: Option<usize>, comments: usize, since: &str) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let comments = (comments > 0).then(|| plural(comments, "comment update", "comment updates"));
    let counted = match (changes.filter(|n| *n > 0), comments) {
        (Some(n), Some(c)) => format!("{} and {c}", plural(n, "change", "changes")),
        (Some(n), None) => plural(n, "change", "changes"),
        (None, Some(c)) => c,
        (None, None) => "Changes".to_string(),
    };
    format!("{counted} since your mark at {since}, on this device.")
}

/// The roots an edit typed here may change the card's list through: those of the groups it
/// lists (of the very prose sections when it lists them all), and the catch-all group's (an
/// attachment's change is listed with its item); every root once it lists a mention or a
/// comment (they name items anywhere). None when it lists nothing.
fn listed_roots(found: &Option<Listed>) -> RootSet {
    let Some((_, Ok(groups), mentioned, comments)) = found else {
        return RootSet::EMPTY;
    };
    if !mentioned.is_empty() || comments.count > 0 {
        return RootSet::all();
    }
    groups.iter().fold(Group::Questions.roots(), |set, group| {
        let sections = (group.group == Group::Sections && group.more == 0).then(|| {
            group.items.iter().fold(RootSet::EMPTY, |set, item| {
                set.union(RootSet::of(item.change.place.section))
            })
        });
        set.union(sections.unwrap_or_else(|| group.group.roots()))
    })
}

/// The card, under the overview; shown only when something changed since the mark.
#[component]
pub fn CatchUpCard() -> impl IntoView {
    let open = use_incident();
    let id = open.id.clone();
    let mark: Rc<RefCell<Option<Held>>> = Rc::new(RefCell::new(None));
    let store: Rc<RefCell<Option<Store>>> = Rc::new(RefCell::new(None));
    let dirty = Rc::new(Cell::new(false));
    // Counts this device's edits folded into the mark: a write-back planned after one runs
    // only if no other came since (typing has paused).
    let typed = Rc::new(Cell::new(0u64));
    // Changes from elsewhere (the relay, another tab, this device's storage), counted.
    let remote = Rc::new(Cell::new(0u64));
    // The roots of what the card lists (`listed_roots`), set each time it is worked out.
    let listed = StoredValue::new(RootSet::EMPTY);
    // The write-back, once made below, for the subscription to plan after each edit.
    let plan: Rc<RefCell<Option<Plan>>> = Rc::new(RefCell::new(None));
    // Set once the mark has been read from the database (or found missing).
    let loaded = RwSignal::new(false);
    // Bumped when the mark moves, so the card is worked out again.
    let moved = RwSignal::new(0u32);
    let who = super::attribution::for_catch_up();
    let invited = people::use_people();
    let mine = people::my_invite(&id);

    {
        let (mark, store, id, dirty) = (mark.clone(), store.clone(), id.clone(), dirty.clone());
        let plan = plan.clone();
        // Taken now, while the page's context is at hand; edits typed until the mark is read
        // keep going into it (the card's own subscription has no mark to fold them into).
        let early = use_context::<EarlyEdits>();
        wasm_bindgen_futures::spawn_local(async move {
            let (opened, found) = load(&id).await;
            *store.borrow_mut() = opened;
            let mut found = found.map(Held::Kept);
            let typed = early
                .and_then(|early| early.0.borrow_mut().take())
                .map(|buffer| buffer.edits)
                .unwrap_or_default();
            if let Some(held) = found.as_mut() {
                for update in &typed {
                    if held.fold_local(update) {
                        dirty.set(true);
                    }
                }
            }
            *mark.borrow_mut() = found;
            // What was typed before is written back like any edit, once typing pauses.
            if dirty.get() {
                if let Some(plan) = plan.borrow().as_ref() {
                    plan();
                }
            }
            loaded.try_set(true);
        });
    }

    // Edits typed here go into the mark as they are made; written back once typing pauses.
    let subscription = {
        let (mark, dirty, plan, remote) =
            (mark.clone(), dirty.clone(), plan.clone(), remote.clone());
        open.incident.on_update(move |update, origin| {
            if origin != UpdateOrigin::Local {
                remote.set(remote.get() + 1);
            }
            let mut mark = mark.borrow_mut();
            let Some(held) = mark.as_mut() else {
                return;
            };
            if origin != UpdateOrigin::Local {
                held.out_of_step();
            } else if held.fold_local(update) {
                dirty.set(true);
                // Only a timer is set here: the change is still being committed.
                if let Some(plan) = plan.borrow().as_ref() {
                    plan();
                }
            }
        })
    };
    let write_back = {
        let (mark, store, dirty, open) = (mark.clone(), store.clone(), dirty.clone(), open.clone());
        move || {
            if !dirty.replace(false) {
                return;
            }
            if let Some(held) = mark.borrow_mut().as_mut() {
                save(&open, &store, held);
            }
        }
    };
    *plan.borrow_mut() = Some(Rc::new(after_typing_pauses(typed, &write_back)));
    let leaving = {
        let write_back = SendWrapper::new(write_back.clone());
        window_event_listener(ev::pagehide, move |_| (*write_back)())
    };
    // A hidden page may be closed without another event (a phone's app switcher).
    let hidden = {
        let write_back = SendWrapper::new(write_back.clone());
        window_event_listener(ev::visibilitychange, move |_| {
            if platform::document().hidden() {
                (*write_back)();
            }
        })
    };
    {
        let write_back = SendWrapper::new(write_back.clone());
        let subscription = SendWrapper::new(subscription);
        let store = SendWrapper::new(store.clone());
        let plan = SendWrapper::new(plan.clone());
        on_cleanup(move || {
            (*write_back)();
            plan.borrow_mut().take();
            leaving.remove();
            hidden.remove();
            drop(subscription);
            // Closed once the writes asked for are done.
            if let Some(store) = store.borrow_mut().take() {
                wasm_bindgen_futures::spawn_local(async move { store.close() });
            }
        });
    }

    // What may change the list: a change from elsewhere (any root), or one typed here to a
    // root the card lists something of (one's own edits go into the mark too, so elsewhere
    // they change nothing the card compares). A keystroke in the summary while the card
    // lists a timeline change does not make it compare the whole incident again.
    let news = {
        let open = open.clone();
        let remote = SendWrapper::new(remote.clone());
        Memo::new(move |_| {
            open.revision.track();
            let versions = open.incident.root_versions();
            (remote.get(), versions.restricted_to(listed.get_value()))
        })
    };
    let groups = {
        let open = open.clone();
        let mark = SendWrapper::new(mark.clone());
        let dirty = SendWrapper::new(dirty);
        let write_back = SendWrapper::new(write_back);
        let id = id.clone();
        let mine = mine.clone();
        let work = move || -> Option<Listed> {
            moved.track();
            if !loaded.get() {
                return None;
            }
            open.incident.schema_version()?;
            let mut mark = mark.borrow_mut();
            let Some(held) = mark.as_mut() else {
                // First open on this device: the mark starts here, with nothing to catch
                // up on. It is stored a moment later, once the page has been drawn.
                *mark = Some(Held::live(platform::now_rfc3339()));
                dirty.set(true);
                save_soon(&write_back);
                return None;
            };
            if held.restart_if_unsaved() {
                dirty.set(true);
                save_soon(&write_back);
            }
            if held.in_step() {
                return None;
            }
            let m = held.decode();
            let now = platform::now_rfc3339();
            let Some(before) = &m.state else {
                // (A mark moved from localStorage kept no copy past 256 KB, so the
                // bound is not named: it may not be this one.)
                return Some((m.at.clone(), Err(
                    "This incident was too large for this device to keep a copy at your last mark, so what changed since cannot be listed here.".to_string()
                ), Vec::new(), CommentCatchUp::default()));
            };
            // Names only online, for owners and editors, from the relay's answer.
            let named = matches!(open.standing.get(), Standing::Member(role) if role.may_write())
                && open.connection.get() == Connection::Synced;
            let list = |attribution: Option<&incident::history::Attribution>| {
                catch_up(before, &open.incident, attribution, &m.at, &now, PER_GROUP)
            };
            let mut groups = match who.filter(|_| named) {
                Some(who) => who.with(list),
                None => list(None),
            };
            // One's own edits are folded into the mark, so a change listed is not one's
            // own: a stamp in one's own name is a later edit of the same entry, and
            // says nothing about the change listed.
            // (The record names people by their invite's name.)
            let me = crate::prefs::access(&id)
                .map(|grant| grant.name)
                .filter(|name| !name.is_empty())
                .unwrap_or_else(crate::prefs::display_name);
            for item in groups.iter_mut().flat_map(|g| &mut g.items) {
                if item.stamp.as_ref().is_some_and(|s| *s.by == *me) {
                    item.who = None;
                }
            }
            let people = invited.with(|list| mention_picker::invitees(list));
            let mut mentioned = incident::mentions::unread(before, &open.incident, &mine, &people);
            // A prose section does not say who typed a mention; the relay's record does,
            // for owners and editors online (the same answer as the changes' names).
            if let Some(who) = who.filter(|_| named) {
                let my_names: Vec<String> = people
                    .iter()
                    .filter(|p| p.invite == mine)
                    .map(|p| p.name.clone())
                    .collect();
                for m in mentioned
                    .iter_mut()
                    .filter(|m| m.place.section == "prose" && m.by.trim().is_empty())
                {
                    if let Some(by) = my_names
                        .iter()
                        .find_map(|name| who.typist(&m.place.id, &m.text, name))
                        .filter(|by| by != &me)
                    {
                        m.by = by;
                    }
                }
            }
            // Comments carry their author: told apart as they were written (the device's
            // name and invite), so offline and for viewers too.
            let comments = comment_catch_up(
                before,
                &open.incident,
                &crate::prefs::display_name(),
                &mine,
                &now,
                THREADS,
                PER_THREAD,
            );
            (!groups.is_empty() || !mentioned.is_empty() || comments.count > 0)
                .then(|| (m.at.clone(), Ok(groups), mentioned, comments))
        };
        Memo::new(move |_| {
            // Read, not only tracked: a memo nobody reads is never worked out, so it would
            // never hear of a change (a viewer's card, with nothing else moving it, stayed empty).
            news.with(|_| ());
            let found = work();
            listed.set_value(listed_roots(&found));
            found
        })
    };
    // While the card lists changes, an owner or editor has the relay asked who made them.
    if let Some(who) = who {
        let standing = open.standing;
        Effect::new(move |_| {
            let listing = groups.with(|g| matches!(g, Some((_, Ok(_), _, _))));
            let may_write = matches!(standing.get(), Standing::Member(role) if role.may_write());
            who.want(listing && may_write);
        });
        on_cleanup(move || who.want(false));
    }
    let mark_read = {
        let open = open.clone();
        let mark = SendWrapper::new(mark);
        let store = SendWrapper::new(store);
        move |_| {
            let mut held = Held::live(platform::now_rfc3339());
            save(&open, &store, &mut held);
            *mark.borrow_mut() = Some(held);
            moved.update(|n| *n += 1);
        }
    };
    let zone = super::watch(&open, Incident::display_zone);
    let go = GoToThread::new();
    let steps = super::watch(&open, Incident::next_steps);
    let may_write = {
        let standing = open.standing;
        move || matches!(standing.get(), Standing::Member(role) if role.may_write())
    };
    // This device's person as the people list names them (the grant's name otherwise).
    let me = {
        let (id, mine) = (id.clone(), mine.clone());
        Signal::derive(move || {
            invited
                .with(|list| {
                    list.iter()
                        .find(|p| p.invite == mine)
                        .map(|p| p.name.clone())
                })
                .or_else(|| crate::prefs::access(&id).map(|grant| grant.name))
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(crate::prefs::display_name)
        })
    };
    let make_step = {
        let open = open.clone();
        let mine = mine.clone();
        move |title: String| {
            open.incident.add_next_step(
                &platform::new_id(),
                &NextStep {
                    title,
                    owner: me.get_untracked(),
                    owner_invite: mine.clone(),
                    owner_role: None,
                    status: StepStatus::Open,
                    due: None,
                    created_by: crate::prefs::display_name(),
                    created_at: platform::now_rfc3339(),
                },
            );
        }
    };
    move || {
        groups.get().map(|(since, found, mentioned, comments)| {
            let since = incident::when::format_in_zone(&since, &zone.get());
            let changes = found
                .as_ref()
                .ok()
                .map(|groups| groups.iter().map(|g| g.items.len() + g.more).sum::<usize>());
            let summary = summary_line(changes, comments.count, &since);
            let threads = comment_view(comments, go);
            let mentions = (!mentioned.is_empty()).then(|| {
                let items = mentioned
                    .into_iter()
                    .map(|m| {
                        let key = mention_link(&m);
                        let by = if m.by.trim().is_empty() { "someone".to_string() } else { m.by.clone() };
                        // "… in the Summary" for a prose section.
                        let in_section = (m.place.section == "prose")
                            .then(|| incident::ProseSection::from_key(&m.place.id))
                            .flatten()
                            .map(|s| format!(" in the {}", s.title()))
                            .unwrap_or_default();
                        let when = m.at.as_ref().map(|at| {
                            view! { <span class="catch-up-who">{format!(" — {}", incident::when::format_in_zone(at, &zone.get_untracked()))}</span> }
                        });
                        let title = step_title(&m);
                        let made = {
                            let (title, mine) = (title.clone(), mine.clone());
                            move || steps.with(|list| list.iter().any(|(_, s)| s.title == title && s.owner_invite == mine))
                        };
                        let action = may_write().then(|| {
                            let make_step = make_step.clone();
                            let made_text = made.clone();
                            view! {
                                <button
                                    type="button"
                                    class="mention-make-step"
                                    disabled=made
                                    on:click=move |_| make_step(title.clone())
                                >
                                    {move || if made_text() {
                                        "Made a next step".to_string()
                                    } else {
                                        format!("Make this a next step for {}", me.get())
                                    }}
                                </button>
                            }
                        });
                        view! {
                            <li class="catch-up-mention">
                                <a href=format!("#{key}")>{format!("You were mentioned by {by}{in_section}")}</a>
                                {when}
                                <q class="mention-excerpt">{m.excerpt.clone()}</q>
                                {action}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <h3>"You were mentioned"</h3>
                    <ul class="catch-up-list catch-up-mentions">{items}</ul>
                }
            });
            let body = match found {
                Err(why) => view! { <p class="hint">{why}</p> }.into_any(),
                Ok(groups) => groups
                    .into_iter()
                    .map(|g| {
                        let items = g
                            .items
                            .into_iter()
                            .map(|item| {
                                let key = link_of(g.group, item.change.place.section);
                                let who = item.who.map(|who| view! { <span class="catch-up-who">{format!(" — {who}")}</span> });
                                view! { <li><a href=format!("#{key}")>{item.line}</a>{who}</li> }
                            })
                            .collect_view();
                        let more = (g.more > 0).then(|| view! { <li class="hint">{format!("and {} more", g.more)}</li> });
                        view! {
                            <h3>{g.group.title()}</h3>
                            <ul class="catch-up-list">{items}{more}</ul>
                        }
                    })
                    .collect_view()
                    .into_any(),
            };
            view! {
                <section id="catch-up" class="catch-up" aria-labelledby="h-catch-up">
                    <h2 id="h-catch-up">"Since you were last here"</h2>
                    <p class="hint" id="catch-up-summary">{summary}</p>
                    {mentions}
                    {threads}
                    {body}
                    <button type="button" id="catch-up-read" on:click=mark_read.clone()>"Mark as read"</button>
                </section>
            }
        })
    }
}

/// The threads others wrote in since the mark, each led by what it is on (a link that goes
/// to the thread), then each action: who did what, when, and the start of the text.
fn comment_view(comments: CommentCatchUp, go: GoToThread) -> Option<impl IntoView> {
    if comments.threads.is_empty() {
        return None;
    }
    let more = comments.more_threads;
    let threads = comments
        .threads
        .into_iter()
        .map(|thread| {
            let key = if thread.removed {
                "postmortem"
            } else {
                section_of(&thread.target)
            };
            let click = {
                let (id, target, removed) = (thread.thread.clone(), thread.target.clone(), thread.removed);
                move |ev: ev::MouseEvent| {
                    if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
                        return;
                    }
                    ev.prevent_default();
                    go.go(&id, &target, removed);
                }
            };
            let state = if thread.resolved { "resolved" } else { "open" };
            let earlier = (thread.earlier > 0).then(|| {
                view! { <li class="hint">{format!("and {} earlier", thread.earlier)}</li> }
            });
            let items = thread
                .items
                .into_iter()
                .map(|item| {
                    let excerpt = (!item.excerpt.is_empty())
                        .then(|| view! { <q class="catch-up-comment-text">{item.excerpt.clone()}</q> });
                    view! {
                        <li class="catch-up-comment" data-comment-id=item.id.clone()>
                            {item.line()}
                            <span class="catch-up-who">{format!(" — {}", item.when)}</span>
                            {excerpt}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <li class="catch-up-thread" data-thread-id=thread.thread.clone() data-resolved=thread.resolved.to_string()>
                    <a href=format!("#{key}") class="catch-up-thread-link" on:click=click>{thread.on}</a>
                    <span class="catch-up-thread-state">{format!(" ({state})")}</span>
                    <ul class="catch-up-comments">{earlier}{items}</ul>
                </li>
            }
        })
        .collect_view();
    let more =
        (more > 0).then(|| view! { <li class="hint">{format!("and {more} more threads")}</li> });
    Some(view! {
        <h3>"Comments"</h3>
        <ul class="catch-up-list catch-up-threads">{threads}{more}</ul>
    })
}
