//! The incident as it stood at any time, who wrote what, and what changed between two times.
//!
//! Live documents run with yrs garbage collection on: deleted text and overwritten values are
//! discarded, so a past state cannot be read back from the current document. It is rebuilt
//! instead by replaying the relay's record (every accepted update, in order, with who sent it
//! and when) into a fresh document: [`Replay`] applies records one by one, so stepping forward
//! costs only the new records, and while it applies them it notes which entries each record
//! touched (a deep observer on every root, so the cost follows the size of the record, not of
//! the incident) and keeps for each entry and prose section who created and last changed it
//! ([`Attribution`]).
//!
//! The device's time of a change made offline travels in the document itself: a device that
//! is not in sync with the relay writes its clock for its own client id into the root map
//! `device_times` ([`Incident::note_device_time`]), which stock Yjs clients carry along and
//! never read. The record that brings a change of that map gives its stamps the device's
//! time ([`Stamp::written_at_ms`]); [`written_offline`] says when it is worth showing.
//!
//! [`changes`] compares two states entry by entry in a responder's words; [`catch_up`] turns
//! that into the short "since you were last here" list and [`handoff_note`] into a shift
//! hand-off note; [`comment_catch_up`] adds the comment threads others wrote in since the
//! mark, and the hand-off lists the threads still open and those resolved during the shift. [`restore`] puts back what an entry or a prose section held at an earlier
//! time as a new edit, and [`stops`] gives a slider's stops over the record. Everything here
//! is pure: callers pass the records, the states and "now".

mod changes;
mod digest;
mod discussion;
mod restore;
mod stops;
mod typist;

pub use changes::{changes, now_overdue, Change, ChangeKind, Group};
pub use digest::{
    catch_up, handoff_event, handoff_note, who_and_when, CatchUpGroup, CatchUpItem, HANDOFF_SOURCE,
};
pub use discussion::{
    comment_catch_up, latest_word, name_and_time, open_threads, place_of, resolved_since, start_of,
    time_in_zone, CommentAction, CommentCatchUp, CommentNews, ThreadNews, COMMENT_EXCERPT_CHARS,
};
pub use restore::{can_restore, restore, RestoreError, Restored};
pub use stops::{shown_time, stops, typed_time, utc_of, Grain, RecordMark, Stop};
pub use typist::mention_typist;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use yrs::types::text::YChange;
use yrs::types::{EntryChange, Event, PathSegment};
use yrs::{Any, ClientID, DeepObservable, Map, Out, ReadTxn, Snapshot, Text, Transact};

use crate::{Incident, ModelError, ProseSection, UpdateOrigin, MAP_ROOTS, META};

/// One accepted update as the relay recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The relay's sequence number; records are replayed in this order.
    pub seq: u64,
    /// When the relay received it (milliseconds since the Unix epoch).
    pub received_at_ms: i64,
    /// The name on the invite that sent it.
    pub by: String,
    /// When the device says it was written, for changes made offline (milliseconds).
    pub written_at_ms: Option<i64>,
    /// The Yjs v1 update.
    pub update: Vec<u8>,
}

/// Who made a change and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The record's sequence number.
    pub seq: u64,
    /// The invite's name.
    pub by: Arc<str>,
    /// The relay's receive time (ms).
    pub received_at_ms: i64,
    /// The device's time, when it gave one (ms): "written offline at …, synced at …".
    pub written_at_ms: Option<i64>,
}

/// Where in the incident something is: a root (a section's key, or `meta`) and, for
/// collections, the entry's id; for `meta` the field's key, for the question lists the
/// question's key, for a prose section nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub section: &'static str,
    pub id: Option<String>,
}

impl Place {
    /// An entry of a collection (or a field of `meta`, a question of a list).
    pub fn entry(section: &'static str, id: &str) -> Place {
        Place {
            section,
            id: Some(id.to_string()),
        }
    }

    /// A prose section as a whole.
    pub fn prose(section: ProseSection) -> Place {
        Place {
            section: section.key(),
            id: None,
        }
    }
}

/// A run of a prose section's text and who wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub by: Option<Arc<str>>,
}

/// Who created an entry (or first wrote in a prose section) and who last changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorship {
    pub created: Stamp,
    pub changed: Stamp,
    /// Set while the entry is deleted; a re-added entry starts over.
    pub deleted: Option<Stamp>,
}

/// The authorship of every entry and prose section touched so far in a replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    places: HashMap<Place, Authorship>,
}

impl Attribution {
    /// Who created and last changed the thing at `place`, if any record touched it.
    pub fn get(&self, place: &Place) -> Option<&Authorship> {
        self.places.get(place)
    }

    /// Every place known, with its authorship, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Place, &Authorship)> {
        self.places.iter()
    }

    /// How many places are known.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    fn note(&mut self, place: Place, touch: Touch, stamp: &Stamp) {
        match (touch, self.places.get_mut(&place)) {
            (Touch::Created, _) | (Touch::Changed, None) => {
                self.places.insert(
                    place,
                    Authorship {
                        created: stamp.clone(),
                        changed: stamp.clone(),
                        deleted: None,
                    },
                );
            }
            // A late edit of an entry someone deleted meanwhile leaves it deleted.
            (Touch::Changed, Some(a)) => a.changed = stamp.clone(),
            (Touch::Deleted, Some(a)) => a.deleted = Some(stamp.clone()),
            (Touch::Deleted, None) => {}
        }
    }
}

/// What a record did to one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Touch {
    Created,
    Changed,
    Deleted,
}

/// Why a record could not be replayed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    #[error("record {seq}: {error}")]
    BadRecord { seq: u64, error: ModelError },
    #[error("record {seq} comes after record {after}: records must be replayed in order")]
    OutOfOrder { seq: u64, after: u64 },
}

type Touches = Arc<Mutex<Vec<(Place, Touch)>>>;

/// The root map of device times: client id (decimal) → the device's clock (ms) at its last
/// change made while it was not in sync with the relay.
pub(crate) const DEVICE_TIMES: &str = "device_times";

/// How far the device's time must lie before the relay's receive time to be shown:
/// closer than this, the change was made online (or the clocks differ a little).
pub const OFFLINE_GAP_MS: i64 = 120_000;

/// The device's time of a change worth showing as "written offline at …, synced at …": only
/// when it is more than [`OFFLINE_GAP_MS`] before the relay received it.
pub fn written_offline(received_at_ms: i64, written_at_ms: Option<i64>) -> Option<i64> {
    written_at_ms.filter(|w| received_at_ms.saturating_sub(*w) > OFFLINE_GAP_MS)
}

impl Incident {
    /// Notes this device's clock (`now_ms`) for its own client id, in a change of its own:
    /// a device that is not in sync with the relay calls it beside its edits, so that the
    /// record bringing them up says when they were written. Stock Yjs clients carry it and
    /// ignore it.
    pub fn note_device_time(&self, now_ms: i64) {
        let times = self.doc.get_or_insert_map(DEVICE_TIMES);
        let client = self.doc.client_id().to_string();
        let mut txn = self.doc.transact_mut();
        times.insert(&mut txn, client, Any::from(now_ms));
    }
}

/// A fresh document that the relay's records are applied to in order: the incident as it
/// stood after the records applied so far, and who wrote what.
pub struct Replay {
    incident: Incident,
    touches: Touches,
    /// Device times the record being applied wrote.
    device_times: Arc<Mutex<Vec<i64>>>,
    attribution: Attribution,
    /// The names seen so far, shared by every stamp that carries them.
    names: Vec<Arc<str>>,
    /// Whose device writes under each client id: the name on the first record that
    /// brought changes from it.
    clients: HashMap<ClientID, Arc<str>>,
    applied: usize,
    last: Option<Stamp>,
}

impl Default for Replay {
    fn default() -> Self {
        Self::new()
    }
}

impl Replay {
    /// An empty incident, before the first record.
    pub fn new() -> Replay {
        let incident = Incident::new();
        let touches: Touches = Arc::default();
        for &root in MAP_ROOTS {
            let sink = Arc::clone(&touches);
            incident
                .root_map(root)
                .observe_deep("firebreak-history", move |txn, events| {
                    let mut sink = sink.lock().expect("not poisoned");
                    for event in events.iter() {
                        note_map_event(root, txn, event, &mut sink);
                    }
                });
        }
        for section in ProseSection::ALL {
            let sink = Arc::clone(&touches);
            incident
                .text(section)
                .observe_deep("firebreak-history", move |_, _| {
                    sink.lock()
                        .expect("not poisoned")
                        .push((Place::prose(section), Touch::Changed));
                });
        }
        let device_times: Arc<Mutex<Vec<i64>>> = Arc::default();
        let sink = Arc::clone(&device_times);
        incident.doc.get_or_insert_map(DEVICE_TIMES).observe_deep(
            "firebreak-history",
            move |txn, events| {
                let mut sink = sink.lock().expect("not poisoned");
                for event in events.iter() {
                    let Event::Map(event) = event else {
                        continue;
                    };
                    for change in event.keys(txn).values() {
                        if let EntryChange::Inserted(Out::Any(Any::Number(ms)))
                        | EntryChange::Updated(_, Out::Any(Any::Number(ms))) = change
                        {
                            sink.extend(ms.as_i64());
                        }
                    }
                }
            },
        );
        Replay {
            incident,
            touches,
            device_times,
            attribution: Attribution::default(),
            names: Vec::new(),
            clients: HashMap::new(),
            applied: 0,
            last: None,
        }
    }

    /// Applies the next record and returns the places it touched.
    pub fn apply(&mut self, record: &Record) -> Result<Vec<Place>, ReplayError> {
        if let Some(last) = &self.last {
            if record.seq <= last.seq {
                return Err(ReplayError::OutOfOrder {
                    seq: record.seq,
                    after: last.seq,
                });
            }
        }
        // Only this record's changes count (reading authorship opens a transaction too).
        self.touches.lock().expect("not poisoned").clear();
        self.device_times.lock().expect("not poisoned").clear();
        let known = self.incident.doc.transact().state_vector();
        self.incident
            .apply_update(&record.update, UpdateOrigin::Relay)
            .map_err(|error| ReplayError::BadRecord {
                seq: record.seq,
                error,
            })?;
        let stamp = Stamp {
            seq: record.seq,
            by: self.name(&record.by),
            received_at_ms: record.received_at_ms,
            // The record's own, else the latest device time it brought.
            written_at_ms: record.written_at_ms.or_else(|| {
                let times = std::mem::take(&mut *self.device_times.lock().expect("not poisoned"));
                times.into_iter().max()
            }),
        };
        for (client, clock) in self.incident.doc.transact().state_vector().iter() {
            if *clock > known.get(client) {
                self.clients
                    .entry(*client)
                    .or_insert_with(|| Arc::clone(&stamp.by));
            }
        }
        let touches = std::mem::take(&mut *self.touches.lock().expect("not poisoned"));
        let mut places = Vec::with_capacity(touches.len());
        for (place, touch) in touches {
            if !places.contains(&place) {
                places.push(place.clone());
            }
            self.attribution.note(place, touch, &stamp);
        }
        self.applied += 1;
        self.last = Some(stamp);
        Ok(places)
    }

    /// Applies the records after the ones already applied, up to and including the last one
    /// received at or before `until_ms`. Returns how many it applied.
    pub fn advance_to(&mut self, records: &[Record], until_ms: i64) -> Result<usize, ReplayError> {
        let mut count = 0;
        for record in records.iter().skip(self.applied) {
            if record.received_at_ms > until_ms {
                break;
            }
            self.apply(record)?;
            count += 1;
        }
        Ok(count)
    }

    /// The incident as it stands after the records applied so far. Read it; edits to it are
    /// not part of the record.
    pub fn incident(&self) -> &Incident {
        &self.incident
    }

    /// Who created and last changed each entry, as of the records applied so far.
    pub fn attribution(&self) -> &Attribution {
        &self.attribution
    }

    /// True while some applied record's changes wait for changes no applied record brought:
    /// a record is missing from the history (or the records were not all given), so the
    /// state shown lacks them.
    pub fn incomplete(&self) -> bool {
        self.incident.doc.transact().has_missing_updates()
    }

    /// How many records have been applied.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// The last record applied.
    pub fn last(&self) -> Option<&Stamp> {
        self.last.as_ref()
    }

    /// Who wrote each part of a prose section as it stands now: runs of text, each with the
    /// name of the person whose device typed it (`None` for text whose writer the records
    /// applied so far do not name). Together the runs are the section's text.
    pub fn authorship(&self, section: ProseSection) -> Vec<Written> {
        let text = self.incident.text(section);
        let mut txn = self.incident.doc.transact_mut();
        let now = txn.snapshot();
        // Against an empty snapshot every visible character is "added", with its item's id.
        let runs = text.diff_range(
            &mut txn,
            Some(&now),
            Some(&Snapshot::default()),
            |change: YChange| change.id.client,
        );
        let mut out: Vec<Written> = Vec::new();
        for run in runs {
            let Out::Any(Any::String(piece)) = run.insert else {
                continue;
            };
            let by = run
                .ychange
                .and_then(|client| self.clients.get(&client).cloned());
            match out.last_mut() {
                Some(last) if last.by == by => last.text.push_str(&piece),
                _ => out.push(Written {
                    text: piece.to_string(),
                    by,
                }),
            }
        }
        out
    }

    fn name(&mut self, by: &str) -> Arc<str> {
        if let Some(name) = self.names.iter().find(|n| &***n == by) {
            return Arc::clone(name);
        }
        let name: Arc<str> = Arc::from(by);
        self.names.push(Arc::clone(&name));
        name
    }
}

/// What a [`History`] keeps to start a replay part way through the record.
struct Checkpoint {
    applied: usize,
    state: Vec<u8>,
    attribution: Attribution,
    names: Vec<Arc<str>>,
    clients: HashMap<ClientID, Arc<str>>,
    last: Option<Stamp>,
}

/// An incident's record with checkpoints, for moving to any time in either direction: forward
/// it steps the replay on; backward it starts again from the last checkpoint before the time
/// (one every `checkpoint_every` records, taken as the replay first passes it) instead of from
/// the first record.
pub struct History {
    records: Vec<Record>,
    every: usize,
    checkpoints: Vec<Checkpoint>,
    replay: Replay,
}

impl History {
    /// The records in order; `checkpoint_every` of at least 1 (0 counts as 1).
    pub fn new(records: Vec<Record>, checkpoint_every: usize) -> History {
        History {
            records,
            every: checkpoint_every.max(1),
            checkpoints: Vec::new(),
            replay: Replay::new(),
        }
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The incident as it stood at `until_ms`: after every record up to the first one
    /// received later (as [`Replay::advance_to`] counts them).
    pub fn state_at(&mut self, until_ms: i64) -> Result<&Replay, ReplayError> {
        let target = self
            .records
            .iter()
            .position(|r| r.received_at_ms > until_ms)
            .unwrap_or(self.records.len());
        if target < self.replay.applied {
            self.replay = match self.checkpoints.iter().rev().find(|c| c.applied <= target) {
                Some(checkpoint) => Replay::restore(checkpoint)?,
                None => Replay::new(),
            };
        }
        while self.replay.applied < target {
            self.replay.apply(&self.records[self.replay.applied])?;
            let applied = self.replay.applied;
            if applied.is_multiple_of(self.every)
                && self.checkpoints.iter().all(|c| c.applied < applied)
            {
                self.checkpoints.push(self.replay.checkpoint());
            }
        }
        Ok(&self.replay)
    }

    /// The bytes the checkpoints' encoded states take.
    pub fn checkpoint_bytes(&self) -> usize {
        self.checkpoints.iter().map(|c| c.state.len()).sum()
    }
}

impl Replay {
    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            applied: self.applied,
            state: self.incident.encode_state(),
            attribution: self.attribution.clone(),
            names: self.names.clone(),
            clients: self.clients.clone(),
            last: self.last.clone(),
        }
    }

    fn restore(checkpoint: &Checkpoint) -> Result<Replay, ReplayError> {
        let mut replay = Replay::new();
        replay
            .incident
            .apply_update(&checkpoint.state, UpdateOrigin::Storage)
            .map_err(|error| ReplayError::BadRecord {
                seq: checkpoint.last.as_ref().map_or(0, |s| s.seq),
                error,
            })?;
        replay.touches.lock().expect("not poisoned").clear();
        replay.device_times.lock().expect("not poisoned").clear();
        replay.attribution = checkpoint.attribution.clone();
        replay.names = checkpoint.names.clone();
        replay.clients = checkpoint.clients.clone();
        replay.applied = checkpoint.applied;
        replay.last = checkpoint.last.clone();
        Ok(replay)
    }
}

/// The incident as it stood at `until_ms`: the records received by then, replayed into a
/// fresh document. The replay can then be stepped forward with [`Replay::advance_to`].
pub fn state_at(records: &[Record], until_ms: i64) -> Result<Replay, ReplayError> {
    let mut replay = Replay::new();
    replay.advance_to(records, until_ms)?;
    Ok(replay)
}

/// Turns one event under the map root `root` into the places it touched.
fn note_map_event(
    root: &'static str,
    txn: &yrs::TransactionMut,
    event: &Event,
    sink: &mut Vec<(Place, Touch)>,
) {
    let path = event.path();
    match path.front() {
        // A field of an entry (or deeper): the entry changed.
        Some(PathSegment::Key(id)) => sink.push((Place::entry(root, id), Touch::Changed)),
        Some(PathSegment::Index(_)) => {}
        // The root itself: entries (or meta fields, question keys) added, replaced, removed.
        None => {
            let Event::Map(event) = event else {
                return;
            };
            for (key, change) in event.keys(txn) {
                let flat = root == META || is_question_list(root);
                let id = if is_question_list(root) {
                    key.split_once('.').map_or(&**key, |(question, _)| question)
                } else {
                    key
                };
                let touch = match change {
                    EntryChange::Removed(_) if !flat => Touch::Deleted,
                    EntryChange::Inserted(_) if !flat => Touch::Created,
                    _ => Touch::Changed,
                };
                sink.push((Place::entry(root, id), touch));
            }
        }
    }
}

fn is_question_list(root: &str) -> bool {
    root == crate::QuestionList::WillBeAsked.root()
        || root == crate::QuestionList::PostMortem.root()
}
