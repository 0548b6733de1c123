//! The sans-IO room: one incident's merged document, its awareness (presence) states and the
//! set of connected peers. Bytes in, bytes out: no sockets, no database, no clock.
//!
//! Protocol decisions (matching the reference `y-websocket` server, so stock Yjs clients work):
//! - On [`Room::join`] the peer gets our SyncStep1 (state vector) and, if anyone is present,
//!   the current awareness states.
//! - SyncStep1 from a peer is answered with SyncStep2 (the diff it lacks). What that costs is
//!   bounded, since any viewer may ask: when the diff would be more than half the document
//!   (by the clocks of the state vectors), the whole document is sent instead, from one
//!   encoding shared by every peer until the document changes. And a peer has at most one
//!   answer on its way: while the previous one is unwritten (until the caller reports
//!   [`Room::answer_written`]), a SyncStep1 is answered with an empty SyncStep2, which is
//!   complete: the unwritten answer and the updates queued after it bring the peer
//!   everything the room has that the peer did not send itself.
//! - SyncStep2 and Update from a peer are decoded and applied; non-empty ones are returned as
//!   [`Outcome::store`] (to be stored durably by the caller) and as an Update broadcast to the
//!   other peers. They are not echoed to the sender.
//! - Awareness updates are applied and the changed entries are sent to every peer *including
//!   the sender*: `y-websocket` clients drop a connection that stays silent for 30 s, and their
//!   own awareness renewal (every 15 s) echoed back is what keeps a lone client connected.
//! - Awareness is bounded and owned (see [`Room::receive`]): a state (the JSON of one client
//!   id) must be `null` or a JSON object of at most [`MAX_AWARENESS_STATE_BYTES`], or the
//!   frame is a [`ProtocolError`]. A client id belongs to the connection that first announced
//!   it until that connection leaves; another connection's entry for it is dropped unapplied
//!   and unrelayed, as is a connection's entry for a new id past
//!   [`MAX_AWARENESS_CLIENTS_PER_PEER`], and a `null` for an id nobody here announced.
//! - Awareness queries are answered with all awareness states.
//! - Auth messages and unknown (custom) message types are ignored, like the reference server.
//! - A frame may hold several messages (yrs clients batch SyncStep1 + awareness). A frame
//!   that does not decode completely, or an update that does not decode or apply, is a
//!   [`ProtocolError`]; the caller closes that peer and everything else goes on.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::Bytes;
use yrs::encoding::read::Error as ReadError;
use yrs::sync::{Awareness, AwarenessUpdate, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update};

/// Identifies one connection inside a room. Chosen by the caller, unique per room.
pub type PeerId = u64;

/// The largest awareness state the room takes: the JSON of one client id, in bytes. A name,
/// a colour, a section and a cursor take a few hundred. A bigger state closes the connection
/// (a [`ProtocolError::Awareness`], 1003): no client of ours or of stock Yjs sends one, and
/// every joiner would be sent it.
pub const MAX_AWARENESS_STATE_BYTES: usize = 4 * 1024;

/// Awareness client ids one connection may announce. Stock y-websocket and our app use one
/// (the document's client id); a few leave room for a client that switches documents. Entries
/// for further ids are dropped, not relayed; the connection stays.
pub const MAX_AWARENESS_CLIENTS_PER_PEER: usize = 4;

/// Awareness client ids peers of other relays may have present in one room (see
/// [`Room::apply_remote_awareness`]); entries for further ids are dropped.
pub const MAX_REMOTE_AWARENESS_CLIENTS: usize = 4096;

/// A remote update that builds on something the room lacks: catch up from storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteGap;

/// The JSON of a removed awareness state.
const LEFT: &str = "null";

/// A SyncStep2 carrying an empty update (no clients, no deletions).
const EMPTY_SYNC_STEP2: &[u8] = &[0, 1, 2, 0, 0];

/// What the caller must do after [`Room::receive`], in this order: store `store` durably,
/// then send `reply` to the sender and `broadcast` to every other peer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Frames for the peer that sent the message. Shared bytes: the whole-state answer to a
    /// new joiner is encoded once and handed to every joiner.
    pub reply: Vec<Bytes>,
    /// Frames for every other peer in the room.
    pub broadcast: Vec<Vec<u8>>,
    /// A SyncStep2 answer is in `reply`: the peer gets no other until the caller reports it
    /// written ([`Room::answer_written`]).
    pub answered: bool,
    /// Yjs v1 updates that were applied and must be stored before anything is sent.
    pub store: Vec<Vec<u8>>,
}

/// Why a peer's frame was refused. The frame's peer should be disconnected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("malformed sync message: {0}")]
    Malformed(String),
    #[error("update rejected: {0}")]
    UpdateRejected(String),
    #[error("awareness update rejected: {0}")]
    Awareness(String),
    #[error("unknown peer {0}")]
    UnknownPeer(PeerId),
    /// A read-only peer sent something that would change the document.
    #[error("read-only: viewers cannot change this incident")]
    ReadOnly,
    /// Applying an update panicked inside yrs. The document may be half-changed, so the
    /// caller must drop this room (after storing what was applied before) and reload it.
    #[error("update crashed the document; the room must be reloaded")]
    Poisoned,
}

/// Stored state that could not be turned back into a document.
#[derive(Debug, thiserror::Error)]
#[error("stored {what} is corrupt: {reason}")]
pub struct LoadError {
    pub what: &'static str,
    pub reason: String,
}

/// What a peer may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads and changes the document.
    ReadWrite,
    /// Reads the document and shares presence; a message that would change the document is
    /// refused with [`ProtocolError::ReadOnly`] and nothing of it is applied.
    ReadOnly,
}

#[derive(Debug)]
struct PeerState {
    access: Access,
    /// The awareness client ids this peer announced, whether their state is still present or
    /// removed by this peer since: they are its own until it leaves, and count towards
    /// [`MAX_AWARENESS_CLIENTS_PER_PEER`].
    owned: HashSet<ClientID>,
    /// A SyncStep2 answer to this peer is not written yet.
    answering: bool,
}

/// One incident's live state. See the module documentation for the protocol it speaks.
pub struct Room {
    /// Holds only states of client ids some present peer owns: a leaving peer's are removed
    /// and then forgotten (see [`Room::leave`]).
    awareness: Awareness,
    peers: HashMap<PeerId, PeerState>,
    /// Which peer owns each announced awareness client id: the peers' `owned` sets, inverted.
    owners: HashMap<ClientID, PeerId>,
    poisoned: bool,
    /// The SyncStep2 answer for a peer that has nothing (a new joiner), kept until the
    /// document changes, so twenty people opening a large incident cost one encoding.
    whole_state: Option<Bytes>,
    /// Awareness client ids announced by peers of other relays (see `cluster`), with the
    /// relay that announced each: dropped when that relay says they left or is gone.
    remote: HashMap<ClientID, String>,
}

impl Default for Room {
    fn default() -> Self {
        Self::new()
    }
}

impl Room {
    /// An empty room.
    pub fn new() -> Self {
        Self::from_doc(Doc::new())
    }

    fn from_doc(doc: Doc) -> Self {
        // Awareness timestamps are never read by the relay; a constant clock keeps it pure.
        let awareness = Awareness::with_clock(doc, || 0);
        Self {
            awareness,
            peers: HashMap::new(),
            owners: HashMap::new(),
            poisoned: false,
            whole_state: None,
            remote: HashMap::new(),
        }
    }

    /// Rebuilds a room from a stored snapshot followed by the stored log of updates.
    pub fn load<'a>(
        snapshot: Option<&[u8]>,
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, LoadError> {
        let doc = Doc::new();
        let parts = snapshot
            .map(|s| ("snapshot", s))
            .into_iter()
            .chain(updates.into_iter().map(|u| ("update", u)));
        for (what, bytes) in parts {
            let update = Update::decode_v1(bytes).map_err(|e| LoadError {
                what,
                reason: e.to_string(),
            })?;
            // One transaction per update, as each was applied when it arrived: yrs collects
            // deleted items at the end of a transaction, and a later update may rely on that.
            doc.transact_mut()
                .apply_update(update)
                .map_err(|e| LoadError {
                    what,
                    reason: e.to_string(),
                })?;
        }
        Ok(Self::from_doc(doc))
    }

    /// Adds a peer that may change the document; see [`Room::join_with`].
    pub fn join(&mut self, peer: PeerId) -> Vec<Vec<u8>> {
        self.join_with(peer, Access::ReadWrite)
    }

    /// Adds a peer and returns the frames to send it first: our SyncStep1, then the
    /// awareness states of everyone present (if any).
    pub fn join_with(&mut self, peer: PeerId, access: Access) -> Vec<Vec<u8>> {
        self.peers.entry(peer).or_insert_with(|| PeerState {
            access,
            owned: HashSet::new(),
            answering: false,
        });
        let state_vector = self.awareness.doc().transact().state_vector();
        let mut frames = vec![Message::Sync(SyncMessage::SyncStep1(state_vector)).encode_v1()];
        if let Ok(update) = self.awareness.update() {
            if !update.clients.is_empty() {
                frames.push(Message::Awareness(update).encode_v1());
            }
        }
        frames
    }

    /// Handles one websocket frame from `peer`. On error nothing was applied from the
    /// failing message on; updates applied from earlier messages of the same frame are lost
    /// from the outcome, so the caller must treat the error as fatal for that peer only.
    ///
    /// Awareness states are checked before anything of the frame is applied: one over
    /// [`MAX_AWARENESS_STATE_BYTES`], or neither `null` nor a JSON object, refuses the frame
    /// ([`ProtocolError::Awareness`]). Entries the peer may not set (another peer's client id,
    /// an id past [`MAX_AWARENESS_CLIENTS_PER_PEER`], a `null` for an id nobody here
    /// announced) are dropped silently: a reconnecting tab may announce its id while the relay
    /// still holds its old connection, and is let in once that one is gone.
    pub fn receive(&mut self, peer: PeerId, frame: &[u8]) -> Result<Outcome, ProtocolError> {
        if self.poisoned {
            return Err(ProtocolError::Poisoned);
        }
        if !self.peers.contains_key(&peer) {
            return Err(ProtocolError::UnknownPeer(peer));
        }
        let messages = decode_checked(frame)?;
        // Every update of the frame is decoded before anything is applied, so a frame is
        // refused as a whole: never half applied with the applied half left unstored.
        let mut decoded = Vec::with_capacity(messages.len());
        for message in &messages {
            decoded.push(match message {
                Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => {
                    Some(decode_update(bytes)?)
                }
                _ => None,
            });
        }
        let mut outcome = Outcome::default();
        for (message, update) in messages.into_iter().zip(decoded) {
            self.handle(peer, message, update, &mut outcome)?;
        }
        Ok(outcome)
    }

    /// Starts handling a frame checked elsewhere ([`decode_checked`], on any thread), for a
    /// caller that decodes and applies updates off the room's thread: then each message goes
    /// to [`Room::step`].
    pub fn begin(&self, peer: PeerId) -> Result<(), ProtocolError> {
        if self.poisoned {
            return Err(ProtocolError::Poisoned);
        }
        if !self.peers.contains_key(&peer) {
            return Err(ProtocolError::UnknownPeer(peer));
        }
        Ok(())
    }

    /// Handles one message of a checked frame as [`Room::receive`] would, except a document
    /// update: that is handed back, to be judged and applied with [`judge_and_apply`] (on any
    /// thread, with [`Room::doc`], the room left alone meanwhile) and finished with
    /// [`Room::finish`].
    pub fn step(
        &mut self,
        peer: PeerId,
        message: Message,
        outcome: &mut Outcome,
    ) -> Result<Option<HeavyUpdate>, ProtocolError> {
        let read_only = self.is_read_only(peer);
        match message {
            Message::Sync(SyncMessage::SyncStep2(bytes)) => Ok(Some(HeavyUpdate {
                bytes,
                is_update: false,
                read_only,
            })),
            Message::Sync(SyncMessage::Update(bytes)) => Ok(Some(HeavyUpdate {
                bytes,
                is_update: true,
                read_only,
            })),
            other => self.handle(peer, other, None, outcome).map(|()| None),
        }
    }

    /// Marks the room broken (applying an update crashed beyond catching): it must be
    /// dropped and reloaded.
    pub fn poison(&mut self) {
        self.poisoned = true;
    }

    /// The document, for [`judge_and_apply`].
    pub fn doc(&self) -> Doc {
        self.awareness.doc().clone()
    }

    /// Finishes an update [`Room::step`] handed back, with what [`judge_and_apply`] made of
    /// it.
    pub fn finish(
        &mut self,
        bytes: Vec<u8>,
        judged: Result<Judged, ProtocolError>,
        outcome: &mut Outcome,
    ) -> Result<(), ProtocolError> {
        self.settle(bytes, judged?, outcome)
    }

    fn is_read_only(&self, peer: PeerId) -> bool {
        self.peers.get(&peer).map(|p| p.access) == Some(Access::ReadOnly)
    }

    /// Acts on what was decided about (and done with) one update of the peer's.
    fn settle(
        &mut self,
        bytes: Vec<u8>,
        judged: Judged,
        outcome: &mut Outcome,
    ) -> Result<(), ProtocolError> {
        match judged.verdict {
            Verdict::Nothing => Ok(()),
            Verdict::ReadOnly => Err(ProtocolError::ReadOnly),
            Verdict::Gap => Err(ProtocolError::Malformed(
                "changes arrived without the changes they build on".to_owned(),
            )),
            Verdict::AskSync => {
                let state_vector = self.state_vector();
                outcome.reply.push(
                    Message::Sync(SyncMessage::SyncStep1(state_vector))
                        .encode_v1()
                        .into(),
                );
                Ok(())
            }
            Verdict::Apply => {
                self.whole_state = None;
                self.after_apply(judged.applied.unwrap_or_else(Applied::crashed))?;
                let frame = judged.frame.unwrap_or_else(|| {
                    Message::Sync(SyncMessage::Update(bytes.clone())).encode_v1()
                });
                outcome.broadcast.push(frame);
                outcome.store.push(bytes);
                Ok(())
            }
        }
    }

    /// Handles one message; `update` is the decoded update of a SyncStep2 or Update.
    fn handle(
        &mut self,
        peer: PeerId,
        message: Message,
        update: Option<Update>,
        outcome: &mut Outcome,
    ) -> Result<(), ProtocolError> {
        let is_update = matches!(message, Message::Sync(SyncMessage::Update(_)));
        match message {
            Message::Sync(SyncMessage::SyncStep1(state_vector)) => {
                let Some(state) = self.peers.get_mut(&peer) else {
                    return Err(ProtocolError::UnknownPeer(peer));
                };
                if state.answering {
                    outcome.reply.push(Bytes::from_static(EMPTY_SYNC_STEP2));
                    return Ok(());
                }
                state.answering = true;
                outcome.answered = true;
                let whole = self.mostly_missing(&state_vector);
                if let (true, Some(cached)) = (whole, &self.whole_state) {
                    outcome.reply.push(cached.clone());
                    return Ok(());
                }
                let state_vector = if whole {
                    StateVector::default()
                } else {
                    state_vector
                };
                // With pending parts, yrs may panic encoding some diffs (see `still_encodes`).
                let doc = self.awareness.doc();
                let diff = catch_unwind(AssertUnwindSafe(|| {
                    doc.transact().encode_state_as_update_v1(&state_vector)
                }))
                .map_err(|_| {
                    self.poisoned = true;
                    ProtocolError::Poisoned
                })?;
                let frame = Bytes::from(Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1());
                if whole {
                    self.whole_state = Some(frame.clone());
                }
                outcome.reply.push(frame);
            }
            Message::Sync(SyncMessage::SyncStep2(bytes))
            | Message::Sync(SyncMessage::Update(bytes)) => {
                let update = match update {
                    Some(update) => update,
                    None => decode_update(&bytes)?,
                };
                let doc = self.awareness.doc();
                let verdict = judge(doc, self.is_read_only(peer), is_update, &update);
                let applied = (verdict == Verdict::Apply).then(|| apply_to(doc, update));
                let judged = Judged {
                    verdict,
                    applied,
                    frame: None,
                };
                self.settle(bytes, judged, outcome)?;
            }
            Message::Awareness(update) => {
                let update = self.own_awareness(peer, update);
                if update.clients.is_empty() {
                    return Ok(());
                }
                let summary = self
                    .awareness
                    .apply_update_summary(update)
                    .map_err(|e| ProtocolError::Awareness(e.to_string()))?;
                if let Some(summary) = summary {
                    let changed = self
                        .awareness
                        .update_with_clients(summary.all_changes())
                        .map_err(|e| ProtocolError::Awareness(e.to_string()))?;
                    let frame = Message::Awareness(changed).encode_v1();
                    outcome.reply.push(Bytes::from(frame.clone()));
                    outcome.broadcast.push(frame);
                }
            }
            Message::AwarenessQuery => {
                let all = self
                    .awareness
                    .update()
                    .map_err(|e| ProtocolError::Awareness(e.to_string()))?;
                outcome
                    .reply
                    .push(Message::Awareness(all).encode_v1().into());
            }
            // Auth is server-to-client only; custom message types are not ours. Ignored, as
            // the reference y-websocket server does.
            Message::Auth(_) | Message::Custom(_, _) => {}
        }
        Ok(())
    }

    /// The entries of `update` that `peer` may set: those of client ids it owns, and of new
    /// ids (which it then owns) while it owns fewer than [`MAX_AWARENESS_CLIENTS_PER_PEER`].
    /// A `null` for an id nobody owns is dropped too: there is nothing to remove, and yrs
    /// would keep an entry for it.
    fn own_awareness(&mut self, peer: PeerId, mut update: AwarenessUpdate) -> AwarenessUpdate {
        let Some(state) = self.peers.get_mut(&peer) else {
            return AwarenessUpdate {
                clients: HashMap::new(),
            };
        };
        let (owners, remote) = (&mut self.owners, &self.remote);
        update.clients.retain(|id, entry| match owners.get(id) {
            Some(owner) => *owner == peer,
            // Another relay's peer announced it: a stock client echoes every state it
            // hears, and would take it over. A tab that moved relays is let in once its
            // old relay says it left (or is gone).
            None if remote.contains_key(id) => false,
            None if &*entry.json == LEFT => false,
            None if state.owned.len() >= MAX_AWARENESS_CLIENTS_PER_PEER => false,
            None => {
                owners.insert(*id, peer);
                state.owned.insert(*id);
                true
            }
        });
        update
    }

    /// What applying an update left behind: the room is poisoned unless it went in whole.
    fn after_apply(&mut self, applied: Applied) -> Result<(), ProtocolError> {
        match applied.0 {
            Ok(Ok(())) if !self.has_pending() => Ok(()),
            // It depended on something the room does not have (an origin of another client,
            // say). A room with pending parts is not kept: yrs 0.28 can fail to encode it again
            // (found by fuzzing) and uses freed memory when a later update meets them (found
            // with valgrind). The update is not stored; the room reloads from storage without
            // it, and its peers resync.
            Ok(Ok(())) => {
                self.poisoned = true;
                Err(ProtocolError::Poisoned)
            }
            // The update may have been integrated halfway: the in-memory document no longer
            // matches storage, so the room must be reloaded as well.
            Ok(Err(e)) => {
                self.poisoned = true;
                Err(ProtocolError::UpdateRejected(e))
            }
            Err(()) => {
                self.poisoned = true;
                Err(ProtocolError::Poisoned)
            }
        }
    }

    /// Whether a peer with `state_vector` lacks more than half of the document, counted in
    /// the clocks of its clients: then the whole document, encoded once for everyone, is
    /// hardly bigger than its diff.
    fn mostly_missing(&self, state_vector: &StateVector) -> bool {
        if state_vector.is_empty() {
            return true;
        }
        let ours = self.state_vector();
        let (mut total, mut missing) = (0u64, 0u64);
        for (client, &clock) in ours.iter() {
            total += u64::from(clock);
            missing += u64::from(clock.saturating_sub(state_vector.get(client)));
        }
        missing * 2 > total
    }

    /// The answer to `peer`'s SyncStep1 has been written to it (or given up on): its next
    /// SyncStep1 gets an answer of its own again.
    pub fn answer_written(&mut self, peer: PeerId) {
        if let Some(state) = self.peers.get_mut(&peer) {
            state.answering = false;
        }
    }

    /// Whether the document holds parts waiting for something it does not have.
    fn has_pending(&self) -> bool {
        self.awareness.doc().transact().has_missing_updates()
    }

    /// Removes a peer and returns the frames telling everyone else that the awareness
    /// states it announced are gone. Its client ids are then forgotten: the room takes them
    /// again from anyone (the same tab reconnected, even with its clock started over).
    pub fn leave(&mut self, peer: PeerId) -> Vec<Vec<u8>> {
        let Some(PeerState { owned, .. }) = self.peers.remove(&peer) else {
            return Vec::new();
        };
        if owned.is_empty() {
            return Vec::new();
        }
        for id in &owned {
            self.owners.remove(id);
        }
        let present: Vec<ClientID> = self
            .awareness
            .iter()
            .filter(|(id, state)| state.data.is_some() && owned.contains(id))
            .map(|(id, _)| id)
            .collect();
        for id in &present {
            self.awareness.remove_state(*id);
        }
        let removal = match self.awareness.update_with_clients(present) {
            Ok(update) if !update.clients.is_empty() => {
                vec![Message::Awareness(update).encode_v1()]
            }
            _ => Vec::new(),
        };
        self.forget(&owned);
        removal
    }

    /// Drops every trace of the client ids `gone` from the awareness states. yrs keeps the
    /// entry (the clock) of a removed state for good, so a room that outlives many
    /// connections would keep one for every id ever announced in it; it has no call to drop
    /// one, so the states are rebuilt without them.
    fn forget(&mut self, gone: &HashSet<ClientID>) {
        let kept: Vec<ClientID> = self
            .awareness
            .iter()
            .map(|(id, _)| id)
            .filter(|id| !gone.contains(id))
            .collect();
        let Ok(kept) = self.awareness.update_with_clients(kept) else {
            return;
        };
        // A removed state of a peer still here comes back as a "null" entry with its clock.
        let mut fresh = Awareness::with_clock(self.awareness.doc().clone(), || 0);
        if fresh.apply_update(kept).is_ok() {
            self.awareness = fresh;
        }
    }

    /// How many client ids the awareness states hold an entry for, removed ones included.
    #[cfg(test)]
    fn awareness_entries(&self) -> usize {
        self.awareness.iter().count()
    }

    /// True once an update broke the document; the room must be dropped and reloaded.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    pub fn has_peer(&self, peer: PeerId) -> bool {
        self.peers.contains_key(&peer)
    }

    /// The whole document as one Yjs v1 update: what compaction stores.
    pub fn snapshot(&self) -> Vec<u8> {
        snapshot_of(self.awareness.doc())
    }

    pub fn state_vector(&self) -> StateVector {
        self.awareness.doc().transact().state_vector()
    }

    /// Applies an update another relay stored (or the stored document's diff, when catching
    /// up): not stored again, not published again. Returns the Update frame for this room's
    /// peers, or `None` if it brings nothing new. [`RemoteGap`] if it builds on something
    /// this room lacks (a message missed): the caller catches up from storage.
    pub fn apply_remote(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, RemoteGap> {
        if self.poisoned {
            return Err(RemoteGap);
        }
        let update = decode_update(bytes).map_err(|_| RemoteGap)?;
        let doc = self.awareness.doc();
        if lacks_predecessors(doc, &update) {
            return Err(RemoteGap);
        }
        if !adds_anything(doc, &update) {
            return Ok(None);
        }
        let applied = apply_to(doc, update);
        self.whole_state = None;
        self.after_apply(applied).map_err(|_| RemoteGap)?;
        Ok(Some(
            Message::Sync(SyncMessage::Update(bytes.to_vec())).encode_v1(),
        ))
    }

    /// Applies awareness entries a peer of relay `node` announced (an awareness frame that
    /// relay published). Entries for ids a peer here owns are dropped, and new ids past
    /// [`MAX_REMOTE_AWARENESS_CLIENTS`]; a removed state is forgotten. Returns the frame of
    /// the changed entries for this room's peers.
    pub fn apply_remote_awareness(&mut self, node: &str, frame: &[u8]) -> Option<Vec<u8>> {
        let messages = decode_checked(frame).ok()?;
        let mut changed_all: Vec<ClientID> = Vec::new();
        let mut gone = HashSet::new();
        for message in messages {
            let Message::Awareness(mut update) = message else {
                continue;
            };
            let (owners, remote) = (&self.owners, &mut self.remote);
            update.clients.retain(|id, entry| {
                if owners.contains_key(id) {
                    return false;
                }
                if &*entry.json == LEFT {
                    return remote.get(id).is_some_and(|n| n == node);
                }
                if !remote.contains_key(id) && remote.len() >= MAX_REMOTE_AWARENESS_CLIENTS {
                    return false;
                }
                remote.insert(*id, node.to_owned());
                true
            });
            for (id, entry) in &update.clients {
                if &*entry.json == LEFT {
                    gone.insert(*id);
                }
            }
            if update.clients.is_empty() {
                continue;
            }
            if let Ok(Some(summary)) = self.awareness.apply_update_summary(update) {
                changed_all.extend(summary.all_changes());
            }
        }
        if changed_all.is_empty() {
            return None;
        }
        let frame = self
            .awareness
            .update_with_clients(changed_all)
            .ok()
            .filter(|u| !u.clients.is_empty())
            .map(|u| Message::Awareness(u).encode_v1());
        if !gone.is_empty() {
            for id in &gone {
                self.remote.remove(id);
            }
            self.forget(&gone);
        }
        frame
    }

    /// The presence of this room's own peers (not the other relays'), as one awareness
    /// frame, for a relay that asks.
    pub fn local_awareness(&self) -> Option<Vec<u8>> {
        let ids: Vec<ClientID> = self
            .awareness
            .iter()
            .filter(|(id, state)| state.data.is_some() && self.owners.contains_key(id))
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return None;
        }
        self.awareness
            .update_with_clients(ids)
            .ok()
            .map(|u| Message::Awareness(u).encode_v1())
    }

    /// Removes the presence of every client relay `node` announced (it is gone, or its
    /// messages could not be followed) and returns the frame telling this room's peers.
    pub fn drop_remote_node(&mut self, node: &str) -> Option<Vec<u8>> {
        let gone: HashSet<ClientID> = self
            .remote
            .iter()
            .filter(|(_, n)| n.as_str() == node)
            .map(|(id, _)| *id)
            .collect();
        if gone.is_empty() {
            return None;
        }
        self.remote.retain(|id, _| !gone.contains(id));
        let present: Vec<ClientID> = self
            .awareness
            .iter()
            .filter(|(id, state)| state.data.is_some() && gone.contains(id))
            .map(|(id, _)| id)
            .collect();
        for id in &present {
            self.awareness.remove_state(*id);
        }
        let frame = self
            .awareness
            .update_with_clients(present)
            .ok()
            .filter(|u| !u.clients.is_empty())
            .map(|u| Message::Awareness(u).encode_v1());
        self.forget(&gone);
        frame
    }

    /// Drops the document from memory, keeping who is connected and their presence, so the
    /// room can be woken with [`Room::wake`] without anyone noticing. The caller stores
    /// [`Room::snapshot`] first.
    pub fn into_dormant(self) -> Dormant {
        Dormant {
            peers: self.peers,
            presence: self.awareness.update().ok(),
            remote: self.remote,
        }
    }

    /// Reloads a dormant room's document from storage (as [`Room::load`]) and gives it back
    /// its peers and their presence.
    pub fn wake<'a>(
        dormant: Dormant,
        snapshot: Option<&[u8]>,
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, LoadError> {
        let mut room = Self::load(snapshot, updates)?;
        room.peers = dormant.peers;
        room.remote = dormant.remote;
        room.owners = room
            .peers
            .iter()
            .flat_map(|(peer, state)| state.owned.iter().map(move |id| (*id, *peer)))
            .collect();
        if let Some(presence) = dormant.presence {
            // Presence only: should it not apply, clients renew theirs within seconds.
            let _ = room.awareness.apply_update(presence);
        }
        Ok(room)
    }
}

/// Frames at least this big are decoded and applied off the room's thread by the relay (see
/// `registry/actor.rs`): a 15 MB paste takes the better part of a second to apply, and the
/// thread that runs rooms serves every incident.
pub const HEAVY_FRAME_BYTES: usize = 256 * 1024;

/// Decodes a frame and checks it whole: every update in it decodes, every awareness state is
/// within bounds. Changes nothing, needs no room: runs on any thread.
pub fn decode_checked(frame: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    // yrs asserts on some invalid input (e.g. client ids over 53 bits) instead of returning
    // an error. Decoding changes no state, so a panic here is just bad input.
    let messages = catch_unwind(|| decode_frame(frame))
        .map_err(|_| ProtocolError::Malformed("message crashed the decoder".to_owned()))??;
    for message in &messages {
        if let Message::Awareness(update) = message {
            check_awareness(update)?;
        }
    }
    Ok(messages)
}

/// The whole of `doc` as one Yjs v1 update ([`Room::snapshot`] of [`Room::doc`], on any
/// thread while the room is left alone).
pub fn snapshot_of(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

/// Checks that an update decodes. Changes nothing, needs no room: runs on any thread.
pub fn check_update(bytes: &[u8]) -> Result<(), ProtocolError> {
    decode_update(bytes).map(drop)
}

/// What to do with one update of a peer's, decided from the document alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// It carries nothing new (an empty SyncStep2, a viewer echoing what it got).
    Nothing,
    /// A viewer's change: refused before anything of it is applied.
    ReadOnly,
    /// A SyncStep2 with a gap: refused, so the peer is not left believing the relay has it.
    Gap,
    /// An Update out of order: not applied; the peer is sent our state vector, and its
    /// SyncStep2 brings everything in order.
    AskSync,
    Apply,
}

/// Decides what to do with `update`. Out of order (typed while the connection was still
/// syncing, say), yrs would keep it pending, and its pending path uses freed memory on
/// crafted input (yrs 0.28), so it is never applied.
fn judge(doc: &Doc, read_only: bool, is_update: bool, update: &Update) -> Verdict {
    if read_only {
        return if adds_anything(doc, update) {
            Verdict::ReadOnly
        } else {
            Verdict::Nothing
        };
    }
    if lacks_predecessors(doc, update) {
        return if is_update {
            Verdict::AskSync
        } else {
            Verdict::Gap
        };
    }
    if update.is_empty() {
        return Verdict::Nothing;
    }
    // A reconnecting peer's answer always carries its whole delete set, so most answers of
    // a peer that wrote nothing while away are deletions the room already has. Applying and
    // keeping them would add a record (and a history stop) per visit for no change. A live
    // Update is never checked: a client sends one only for a change, and the check reads
    // the document's whole delete set.
    if !is_update && !adds_anything(doc, update) {
        return Verdict::Nothing;
    }
    Verdict::Apply
}

/// What was decided about one update, and what applying it did if it was applied.
pub struct Judged {
    verdict: Verdict,
    applied: Option<Applied>,
    /// The Update frame for the other peers, if already encoded.
    frame: Option<Vec<u8>>,
}

/// A document update of a peer's, handed back by [`Room::step`].
pub struct HeavyUpdate {
    bytes: Vec<u8>,
    is_update: bool,
    read_only: bool,
}

/// Decodes, judges and (if it should be) applies a [`HeavyUpdate`] to the room's document
/// ([`Room::doc`]). Runs on any thread; the room must not be used until it returns. Gives
/// back the update's bytes for [`Room::finish`].
pub fn judge_and_apply(doc: &Doc, heavy: HeavyUpdate) -> (Vec<u8>, Result<Judged, ProtocolError>) {
    let judged = decode_update(&heavy.bytes).map(|update| {
        let verdict = judge(doc, heavy.read_only, heavy.is_update, &update);
        let applied = (verdict == Verdict::Apply).then(|| apply_to(doc, update));
        let frame = applied
            .is_some()
            .then(|| Message::Sync(SyncMessage::Update(heavy.bytes.clone())).encode_v1());
        Judged {
            verdict,
            applied,
            frame,
        }
    });
    (heavy.bytes, judged)
}

/// What applying an update did: an error, or a panic inside yrs.
struct Applied(Result<Result<(), String>, ()>);

impl Applied {
    fn crashed() -> Self {
        Self(Err(()))
    }
}

/// Applies an update to the document, in one transaction.
fn apply_to(doc: &Doc, update: Update) -> Applied {
    let applied = catch_unwind(AssertUnwindSafe(|| {
        let mut txn = doc.transact_mut();
        txn.apply_update(update).map_err(|e| e.to_string())
    }));
    Applied(applied.map_err(|_| ()))
}

/// Whether `update` starts past what the room has of one of its clients, or deletes
/// something the room has not seen: applying it would leave it pending.
fn lacks_predecessors(doc: &Doc, update: &Update) -> bool {
    let mut known = doc.transact().state_vector();
    let starts_late = update
        .state_vector_lower()
        .iter()
        .any(|(client, &clock)| clock > known.get(client));
    if starts_late {
        return true;
    }
    // It may delete what it inserts itself (typed, then erased, while offline).
    for (client, ranges) in update.insertions(true).iter() {
        if let Some(end) = ranges.iter().map(|r| r.end).max() {
            known.set_max(*client, end);
        }
    }
    update
        .delete_set()
        .iter()
        .any(|(client, ranges)| ranges.iter().any(|r| r.end > known.get(client)))
}

/// Whether applying `bytes` would change the document: an insertion it does not have, or
/// a deletion of something not yet deleted. Changes nothing.
fn adds_anything(doc: &Doc, update: &Update) -> bool {
    if update.is_empty() {
        return false;
    }
    let txn = doc.transact();
    let known = txn.state_vector();
    let inserts_new = update
        .insertions(true)
        .iter()
        .any(|(client, ranges)| ranges.iter().any(|r| r.end > known.get(client)));
    if inserts_new {
        return true;
    }
    if update.delete_set().is_empty() {
        return false;
    }
    let deleted = txn.snapshot().delete_set;
    for (client, ranges) in update.delete_set().iter() {
        let mut have: Vec<(u32, u32)> = deleted
            .iter()
            .filter(|(c, _)| *c == client)
            .flat_map(|(_, r)| r.iter().map(|r| (r.start, r.end)).collect::<Vec<_>>())
            .collect();
        have.sort_unstable();
        for wanted in ranges.iter() {
            if !covered(&have, wanted.start, wanted.end) {
                return true;
            }
        }
    }
    false
}

/// A room whose document is not in memory: its peers and their presence. See
/// [`Room::into_dormant`].
pub struct Dormant {
    peers: HashMap<PeerId, PeerState>,
    presence: Option<yrs::sync::AwarenessUpdate>,
    remote: HashMap<ClientID, String>,
}

impl Dormant {
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Forgets a peer and its presence (the last one, leaving: nobody needs telling).
    pub fn remove(&mut self, peer: PeerId) {
        let Some(state) = self.peers.remove(&peer) else {
            return;
        };
        if let Some(presence) = &mut self.presence {
            presence.clients.retain(|id, _| !state.owned.contains(id));
        }
    }
}

/// Decodes a Yjs v1 update. yrs asserts on some invalid input (client ids over 53 bits)
/// instead of returning an error; decoding changes no state, so a panic is just bad input.
///
/// An update that lists one client in more than one section is refused too: its blocks can
/// overlap, and yrs 0.28 frees an item still in use when it integrates such an update (a
/// use-after-free found with valgrind on the fuzz corpus). Yjs and yrs never write a client
/// twice, so only a hostile or broken client sends one.
fn decode_update(bytes: &[u8]) -> Result<Update, ProtocolError> {
    let update = catch_unwind(|| Update::decode_v1(bytes))
        .map_err(|_| ProtocolError::Malformed("update crashed the decoder".to_owned()))?
        .map_err(|e| ProtocolError::Malformed(format!("update does not decode: {e}")))?;
    let sections = leading_var(bytes);
    // One section cannot repeat a client; only then is the re-encoding needed to count them.
    let distinct = || catch_unwind(AssertUnwindSafe(|| leading_var(&update.encode_v1())));
    if sections > 1 && distinct().map_or(true, |distinct| distinct < sections) {
        return Err(ProtocolError::Malformed(
            "update lists a client more than once".to_owned(),
        ));
    }
    Ok(update)
}

/// Refuses an awareness update carrying a state that is too big, or that is neither `null`
/// nor a JSON object: stock Yjs clients parse every state they are sent, and one that does
/// not parse breaks them.
fn check_awareness(update: &AwarenessUpdate) -> Result<(), ProtocolError> {
    for (id, entry) in &update.clients {
        let json: &str = &entry.json;
        if json.len() > MAX_AWARENESS_STATE_BYTES {
            return Err(ProtocolError::Awareness(format!(
                "state of {id} is {} bytes, over {MAX_AWARENESS_STATE_BYTES}",
                json.len()
            )));
        }
        let object = json.trim_start().starts_with('{')
            && serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok();
        if json != LEFT && !object {
            return Err(ProtocolError::Awareness(format!(
                "state of {id} is not a JSON object"
            )));
        }
    }
    Ok(())
}

/// The unsigned varint an encoded update starts with: its number of client sections.
fn leading_var(bytes: &[u8]) -> u64 {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

/// Whether the sorted ranges `have` cover `start..end` completely.
fn covered(have: &[(u32, u32)], start: u32, end: u32) -> bool {
    let mut reached = start;
    for &(from, to) in have {
        if reached >= end {
            break;
        }
        if from <= reached && to > reached {
            reached = to;
        }
    }
    reached >= end
}

/// Decodes every message in a frame. yrs's [`MessageReader`] stops silently at a truncated
/// message, so the decoded messages are re-encoded and must account for every byte of the
/// frame; lib0 encodings are canonical, so anything left over is a truncated or padded frame.
fn decode_frame(frame: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    let mut decoder = DecoderV1::from(frame);
    let mut messages = Vec::new();
    let mut consumed = 0usize;
    for message in MessageReader::new(&mut decoder) {
        let message = message.map_err(|e| ProtocolError::Malformed(describe(&e)))?;
        consumed += encoded_len(&message);
        messages.push(message);
    }
    if consumed != frame.len() {
        return Err(ProtocolError::Malformed(format!(
            "{} of {} bytes do not form a complete message",
            frame.len().saturating_sub(consumed),
            frame.len()
        )));
    }
    Ok(messages)
}

/// The length of `message` encoded (lib0 v1). Updates and awareness states are counted, not
/// re-encoded: a joining client's SyncStep2 may hold a whole large incident, and an awareness
/// message may be as big as a websocket message before its states are checked.
fn encoded_len(message: &Message) -> usize {
    match message {
        Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
            // message type, sync step type, then the update as length-prefixed bytes
            2 + varuint_len(update.len() as u64) + update.len()
        }
        Message::Awareness(update) => {
            // the number of entries, then per entry the client id, the clock and the JSON
            // as a length-prefixed string; all that as length-prefixed bytes after the type
            let entries: usize = update
                .clients
                .iter()
                .map(|(id, entry)| {
                    let json = entry.json.len();
                    varuint_len(id.get())
                        + varuint_len(entry.clock.into())
                        + varuint_len(json as u64)
                        + json
                })
                .sum();
            let body = varuint_len(update.clients.len() as u64) + entries;
            1 + varuint_len(body as u64) + body
        }
        other => other.encode_v1().len(),
    }
}

/// Bytes of `value` as a lib0 variable-length unsigned integer (7 bits per byte).
fn varuint_len(value: u64) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    (bits.max(1) as usize).div_ceil(7)
}

fn describe(error: &ReadError) -> String {
    match error {
        ReadError::UnexpectedValue => "unknown message or sync step type".to_owned(),
        other => other.to_string(),
    }
}

/// Fuzz entry point: feeds arbitrary bytes to a room shared by three peers and checks the
/// invariants (no panic; a refused frame changes nothing stored; the snapshot always reloads).
///
/// `data` is read as a sequence of `[peer (1 byte), length (2 bytes LE), frame...]` records.
pub fn fuzz_frames(data: &[u8]) {
    // Peer 2 is a viewer: its frames exercise the read-only checks.
    let access = |peer: PeerId| {
        if peer == 2 {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        }
    };
    let mut room = Room::new();
    for peer in 0..3 {
        room.join_with(peer, access(peer));
    }
    let mut stored: Vec<Vec<u8>> = Vec::new();
    let mut rest = data;
    while rest.len() >= 3 {
        let peer = PeerId::from(rest[0] % 3);
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let (frame, tail) = rest[3..].split_at(len);
        rest = tail;
        if !room.has_peer(peer) {
            room.join_with(peer, access(peer));
        }
        match room.receive(peer, frame) {
            Ok(outcome) => stored.extend(outcome.store),
            Err(_) if room.is_poisoned() => return,
            Err(_) => {
                room.leave(peer);
            }
        }
    }
    // The stored updates rebuild the same document: the same items, the same deletions.
    // (The bytes may differ: yrs merges blocks applied in one transaction.)
    let reloaded = Room::load(None, stored.iter().map(Vec::as_slice))
        .expect("every stored update was applied once, so it must reload");
    let live = room.awareness.doc().transact().snapshot();
    let again = reloaded.awareness.doc().transact().snapshot();
    assert_eq!(live, again, "the stored updates rebuild the live document");
    // Both still encode (compaction would store this).
    room.snapshot();
    reloaded.snapshot();
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, Text};

    /// A client-side document that edits the shared text "summary".
    struct Client {
        doc: Doc,
    }

    impl Client {
        fn new() -> Self {
            Self { doc: Doc::new() }
        }

        fn type_text(&self, text: &str) -> Vec<u8> {
            let summary = self.doc.get_or_insert_text("summary");
            let mut txn = self.doc.transact_mut();
            let len = summary.len(&txn);
            summary.insert(&mut txn, len, text);
            txn.encode_update_v1()
        }

        fn summary(&self) -> String {
            let summary = self.doc.get_or_insert_text("summary");
            summary.get_string(&self.doc.transact())
        }

        /// Applies every sync frame; returns replies it would send.
        fn apply_frames(&self, frames: &[impl AsRef<[u8]>]) {
            for frame in frames {
                for message in decode_frame(frame.as_ref()).expect("relay frames decode") {
                    if let Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) =
                        message
                    {
                        let update = Update::decode_v1(&u).expect("relay updates decode");
                        self.doc
                            .transact_mut()
                            .apply_update(update)
                            .expect("relay updates apply");
                    }
                }
            }
        }

        fn sync_step1(&self) -> Vec<u8> {
            let sv = self.doc.transact().state_vector();
            Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
        }
    }

    fn update_frame(update: Vec<u8>) -> Vec<u8> {
        Message::Sync(SyncMessage::Update(update)).encode_v1()
    }

    fn awareness_frame(client: u64, clock: u32, json: &str) -> Vec<u8> {
        let mut clients = HashMap::new();
        clients.insert(
            ClientID::new(client),
            yrs::sync::awareness::AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        Message::Awareness(AwarenessUpdate { clients }).encode_v1()
    }

    fn decode_one(frame: &[u8]) -> Message {
        let mut messages = decode_frame(frame).expect("decodes");
        assert_eq!(messages.len(), 1);
        messages.remove(0)
    }

    #[test]
    fn a_viewer_reads_and_shares_presence_but_its_changes_are_refused() {
        let mut room = Room::new();
        let editor = Client::new();
        room.join(1);
        let frames = room.join_with(2, Access::ReadOnly);
        assert_eq!(frames.len(), 1);
        let typed = editor.type_text("phishing wave");
        room.receive(1, &update_frame(typed)).unwrap();
        // Delete something too, so the room's delete set is not empty.
        let removed = {
            let summary = editor.doc.get_or_insert_text("summary");
            let mut txn = editor.doc.transact_mut();
            summary.remove_range(&mut txn, 0, 9);
            txn.encode_update_v1()
        };
        room.receive(1, &update_frame(removed)).unwrap();

        // The viewer catches up and answers with everything it has: nothing new, accepted.
        let viewer = Client::new();
        let step2 = room.receive(2, &viewer.sync_step1()).unwrap();
        viewer.apply_frames(&step2.reply);
        assert_eq!(viewer.summary(), "wave");
        let echo = viewer
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let outcome = room
            .receive(2, &Message::Sync(SyncMessage::SyncStep2(echo)).encode_v1())
            .unwrap();
        assert_eq!(outcome, Outcome::default());

        // Presence is fine.
        let presence = room
            .receive(2, &awareness_frame(77, 1, r#"{"name":"Vic"}"#))
            .unwrap();
        assert_eq!(presence.broadcast.len(), 1);

        // A new insertion, a new deletion, or a SyncStep2 carrying either: refused, unapplied.
        let snapshot = room.snapshot();
        let insertion = viewer.type_text(" (viewer)");
        let deletion = {
            let summary = viewer.doc.get_or_insert_text("summary");
            let mut txn = viewer.doc.transact_mut();
            summary.remove_range(&mut txn, 0, 1);
            txn.encode_update_v1()
        };
        let everything = viewer
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        for frame in [
            update_frame(insertion),
            update_frame(deletion),
            Message::Sync(SyncMessage::SyncStep2(everything)).encode_v1(),
        ] {
            assert_eq!(room.receive(2, &frame), Err(ProtocolError::ReadOnly));
            assert_eq!(room.snapshot(), snapshot, "the room is untouched");
        }
        assert!(!room.is_poisoned());
    }

    #[test]
    fn an_update_that_would_break_encoding_resets_the_room_instead_of_crashing_it() {
        // Found by the fuzzer: frames whose pending parts yrs cannot encode again. Before
        // the check, the next SyncStep1 answer or compaction panicked.
        let input = include_bytes!("../fuzz/regressions/pending-update-breaks-encoding");
        fuzz_frames(input);
    }

    #[test]
    fn a_frame_with_one_bad_update_is_refused_whole_and_applies_nothing() {
        // Found by the fuzzer: a good SyncStep2 followed, in the same frame, by an update
        // that does not decode. The good half used to be applied but never stored.
        let mut room = Room::new();
        room.join(1);
        let good = Client::new().type_text("applied?");
        let mut frame = Message::Sync(SyncMessage::SyncStep2(good)).encode_v1();
        frame.extend(update_frame(vec![]));
        let before = room.snapshot();
        assert!(matches!(
            room.receive(1, &frame),
            Err(ProtocolError::Malformed(_))
        ));
        assert_eq!(room.snapshot(), before);
        fuzz_frames(include_bytes!("../fuzz/regressions/reload-differs"));
        fuzz_frames(include_bytes!("../fuzz/regressions/reload-differs-2"));
        fuzz_frames(include_bytes!("../fuzz/regressions/full-encoding-panics"));
    }

    #[test]
    fn counted_lengths_match_the_encoding() {
        for len in [0usize, 1, 127, 128, 16_383, 16_384, 300_000] {
            let message = Message::Sync(SyncMessage::Update(vec![7; len]));
            assert_eq!(encoded_len(&message), message.encode_v1().len(), "{len}");
            let step2 = Message::Sync(SyncMessage::SyncStep2(vec![1; len]));
            assert_eq!(encoded_len(&step2), step2.encode_v1().len(), "{len}");
            let mut clients = HashMap::new();
            for (id, clock) in [(0, 0), (1 << 52, u32::MAX), (len as u64, len as u32)] {
                let json = "x".repeat(len % 1000 + id as usize % 300).into();
                let entry = yrs::sync::awareness::AwarenessUpdateEntry { clock, json };
                clients.insert(ClientID::new(id), entry);
            }
            let awareness = Message::Awareness(AwarenessUpdate { clients });
            assert_eq!(
                encoded_len(&awareness),
                awareness.encode_v1().len(),
                "{len}"
            );
        }
    }

    #[test]
    fn new_joiners_share_one_encoding_until_the_document_changes() {
        let mut room = Room::new();
        let editor = Client::new();
        let ask = Client::new().sync_step1();
        room.join(1);
        // The editor joins an empty room first: the kept answer is the empty document.
        room.receive(1, &ask).unwrap();
        room.receive(1, &update_frame(editor.type_text("first")))
            .unwrap();
        room.join(2);
        room.join(3);
        let a = room.receive(2, &ask).unwrap().reply.remove(0);
        let b = room.receive(3, &ask).unwrap().reply.remove(0);
        assert_eq!(
            a.as_ptr(),
            b.as_ptr(),
            "the same bytes, not a second encoding"
        );

        room.receive(1, &update_frame(editor.type_text(" second")))
            .unwrap();
        room.join(4);
        let late = Client::new();
        late.apply_frames(&room.receive(4, &ask).unwrap().reply);
        assert_eq!(
            late.summary(),
            "first second",
            "a change drops the kept answer"
        );
    }

    #[test]
    fn a_peer_has_one_answer_on_its_way_and_later_asks_get_an_empty_one() {
        assert_eq!(
            EMPTY_SYNC_STEP2,
            Message::Sync(SyncMessage::SyncStep2(Update::new().encode_v1())).encode_v1()
        );
        let mut room = Room::new();
        let editor = Client::new();
        room.join(1);
        room.receive(1, &update_frame(editor.type_text("whole incident")))
            .unwrap();
        room.join_with(2, Access::ReadOnly);
        let viewer = Client::new();
        let first = room.receive(2, &viewer.sync_step1()).unwrap();
        assert!(first.answered);
        for _ in 0..40 {
            let again = room.receive(2, &viewer.sync_step1()).unwrap();
            assert!(!again.answered);
            assert_eq!(again.reply, vec![Bytes::from_static(EMPTY_SYNC_STEP2)]);
        }
        viewer.apply_frames(&first.reply);
        assert_eq!(viewer.summary(), "whole incident");

        room.answer_written(2);
        room.receive(1, &update_frame(editor.type_text(", more")))
            .unwrap();
        let fresh = Client::new();
        let next = room.receive(2, &fresh.sync_step1()).unwrap();
        assert!(next.answered);
        fresh.apply_frames(&next.reply);
        assert_eq!(fresh.summary(), "whole incident, more");
    }

    #[test]
    fn an_answer_that_would_be_most_of_the_document_is_the_shared_whole_one() {
        let mut room = Room::new();
        let editor = Client::new();
        room.join(1);
        let report = "a long incident report. ".repeat(40);
        room.receive(1, &update_frame(editor.type_text(&report)))
            .unwrap();
        // A state vector naming a client the room never saw: the diff is everything.
        let stranger = Client::new();
        stranger.type_text("x");
        room.join(2);
        room.join(3);
        let whole = room.receive(2, &Client::new().sync_step1()).unwrap().reply;
        let partial = room.receive(3, &stranger.sync_step1()).unwrap().reply;
        assert_eq!(
            whole[0].as_ptr(),
            partial[0].as_ptr(),
            "one shared encoding"
        );
        stranger.apply_frames(&partial);
        let merged = stranger.summary();
        assert!(merged.contains(&report) && merged.len() == report.len() + 1);

        // A peer that has nearly everything gets only what it lacks.
        let close = Client::new();
        close.apply_frames(&whole);
        let tail = editor.type_text("!");
        room.receive(1, &update_frame(tail)).unwrap();
        room.join(4);
        let diff = room.receive(4, &close.sync_step1()).unwrap().reply;
        assert!(
            diff[0].len() < whole[0].len() / 2,
            "{} bytes",
            diff[0].len()
        );
        close.apply_frames(&diff);
        assert_eq!(close.summary(), format!("{report}!"));
    }

    /// What the relay does with a heavy frame: checked, then each update judged and applied
    /// on another thread while the room waits.
    fn receive_in_steps(
        room: &mut Room,
        peer: PeerId,
        frame: &[u8],
    ) -> Result<Outcome, ProtocolError> {
        let owned = frame.to_vec();
        let messages = std::thread::spawn(move || decode_checked(&owned))
            .join()
            .unwrap()?;
        room.begin(peer)?;
        let mut outcome = Outcome::default();
        for message in messages {
            if let Some(heavy) = room.step(peer, message, &mut outcome)? {
                let doc = room.doc();
                let (bytes, judged) = std::thread::spawn(move || judge_and_apply(&doc, heavy))
                    .join()
                    .unwrap();
                room.finish(bytes, judged, &mut outcome)?;
            }
        }
        Ok(outcome)
    }

    #[test]
    fn updates_applied_on_another_thread_go_as_they_do_on_the_rooms() {
        let mut inline = Room::new();
        let mut stepped = Room::new();
        for room in [&mut inline, &mut stepped] {
            room.join(1);
            room.join(2);
            room.join_with(3, Access::ReadOnly);
        }
        let alice = Client::new();
        let first = update_frame(alice.type_text("first"));
        let second = update_frame(alice.type_text(" second"));
        // In order, out of order (answered with our state vector), a viewer's change.
        let a = inline.receive(1, &first).unwrap();
        let b = receive_in_steps(&mut stepped, 1, &first).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.store.len(), 1);
        let gap = update_frame(Client::new().type_text("x"));
        let later = Client::new();
        later.type_text("y");
        let orphan = update_frame(later.type_text("z"));
        let asked = receive_in_steps(&mut stepped, 2, &orphan).unwrap();
        assert_eq!(inline.receive(2, &orphan).unwrap(), asked);
        assert!(matches!(
            decode_one(&asked.reply[0]),
            Message::Sync(SyncMessage::SyncStep1(_))
        ));
        assert!(asked.store.is_empty());
        assert_eq!(
            inline.receive(3, &gap),
            receive_in_steps(&mut stepped, 3, &gap)
        );
        assert_eq!(
            receive_in_steps(&mut stepped, 3, &gap),
            Err(ProtocolError::ReadOnly)
        );
        assert_eq!(
            inline.receive(1, &second).unwrap(),
            receive_in_steps(&mut stepped, 1, &second).unwrap()
        );
        assert_eq!(inline.snapshot(), stepped.snapshot());
        assert_eq!(
            receive_in_steps(&mut stepped, 1, &[0, 0, 5, 1]).map(|_| ()),
            inline.receive(1, &[0, 0, 5, 1]).map(|_| ())
        );
    }

    #[test]
    fn covered_ranges() {
        assert!(covered(&[(0, 5), (5, 9)], 2, 9));
        assert!(covered(&[(0, 3), (1, 9)], 0, 9));
        assert!(!covered(&[(0, 3), (4, 9)], 0, 9));
        assert!(!covered(&[], 0, 1));
        assert!(covered(&[(4, 6)], 4, 6));
    }

    #[test]
    fn join_sends_state_vector_then_nothing_else_when_nobody_is_present() {
        let mut room = Room::new();
        let frames = room.join(1);
        assert_eq!(frames.len(), 1);
        assert!(matches!(
            decode_one(&frames[0]),
            Message::Sync(SyncMessage::SyncStep1(_))
        ));
    }

    #[test]
    fn update_is_stored_and_broadcast_but_not_echoed() {
        let mut room = Room::new();
        room.join(1);
        room.join(2);
        let alice = Client::new();
        let update = alice.type_text("phishing mail reported");
        let outcome = room.receive(1, &update_frame(update.clone())).unwrap();
        assert_eq!(outcome.store, vec![update.clone()]);
        assert_eq!(outcome.broadcast, vec![update_frame(update)]);
        assert!(outcome.reply.is_empty());
    }

    #[test]
    fn sync_step1_is_answered_with_the_missing_diff() {
        let mut room = Room::new();
        room.join(1);
        let alice = Client::new();
        room.receive(1, &update_frame(alice.type_text("C2 at 203.0.113.7")))
            .unwrap();

        room.join(2);
        let bob = Client::new();
        let outcome = room.receive(2, &bob.sync_step1()).unwrap();
        assert_eq!(outcome.reply.len(), 1);
        assert!(matches!(
            decode_one(&outcome.reply[0]),
            Message::Sync(SyncMessage::SyncStep2(_))
        ));
        bob.apply_frames(&outcome.reply);
        assert_eq!(bob.summary(), "C2 at 203.0.113.7");
        assert!(outcome.store.is_empty() && outcome.broadcast.is_empty());
    }

    /// Peer 1 answers the room's SyncStep1 with everything of `doc` the room lacks; the
    /// room must store it as one update.
    fn answer_sync(room: &mut Room, doc: &Doc) {
        let diff = doc
            .transact()
            .encode_state_as_update_v1(&room.state_vector());
        let frame = Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1();
        assert_eq!(room.receive(1, &frame).unwrap().store.len(), 1);
    }

    fn summary_in(room: &Room) -> String {
        let summary = room.awareness.doc().get_or_insert_text("summary");
        summary.get_string(&room.awareness.doc().transact())
    }

    #[test]
    fn an_update_out_of_order_is_not_applied_and_the_peer_is_asked_to_sync_instead() {
        let mut room = Room::new();
        room.join(1);
        let doc = Doc::with_client_id(5);
        let text = doc.get_or_insert_text("summary");
        text.push(&mut doc.transact_mut(), "typed offline. ");
        let before_second = doc.transact().state_vector();
        text.push(&mut doc.transact_mut(), "typed while connecting");
        let second = doc.transact().encode_state_as_update_v1(&before_second);

        // The second change arrives before the first: nothing applied, nothing stored,
        // and the answer is the room's state vector.
        let frame = Message::Sync(SyncMessage::Update(second)).encode_v1();
        let outcome = room.receive(1, &frame).unwrap();
        assert!(outcome.store.is_empty() && outcome.broadcast.is_empty());
        assert_eq!(
            outcome
                .reply
                .iter()
                .map(|f| Message::decode_v1(f).unwrap())
                .collect::<Vec<_>>(),
            vec![Message::Sync(
                SyncMessage::SyncStep1(StateVector::default())
            )]
        );
        assert!(!room.is_poisoned());

        // The peer answers with everything the room lacks, in order.
        answer_sync(&mut room, &doc);
        assert_eq!(summary_in(&room), "typed offline. typed while connecting");
    }

    #[test]
    fn a_sync_answer_that_erases_what_it_adds_is_applied() {
        let mut room = Room::new();
        room.join(1);
        let doc = Doc::with_client_id(6);
        let text = doc.get_or_insert_text("summary");
        text.push(&mut doc.transact_mut(), "typed and partly erased");
        text.remove_range(&mut doc.transact_mut(), 5, 4);
        answer_sync(&mut room, &doc);
        assert_eq!(summary_in(&room), "typed partly erased");
    }

    #[test]
    fn an_update_listing_a_client_twice_is_refused_before_it_touches_the_document() {
        // Found by fuzzing: client 1 in several sections with overlapping clocks. yrs 0.28
        // used freed memory integrating it.
        let crafted: &[u8] = &[
            9, 3, 1, 0, 1, 1, 1, 1, 254, 254, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 33, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 1, 1, 1, 0, 9, 0, 0,
            0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 91, 0, 0, 0, 0, 41, 1, 6, 161, 0, 1, 1, 1, 1,
        ];
        assert!(Update::decode_v1(crafted).is_ok(), "yrs itself decodes it");
        let mut room = Room::new();
        room.join(1);
        let before = room.state_vector();
        let frame = Message::Sync(SyncMessage::Update(crafted.to_vec())).encode_v1();
        match room.receive(1, &frame) {
            Err(ProtocolError::Malformed(reason)) => {
                assert_eq!(reason, "update lists a client more than once")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(room.state_vector(), before);
        assert!(!room.is_poisoned());

        // A real multi-client update (two writers merged) still goes through.
        let (a, b) = (Doc::with_client_id(7), Doc::with_client_id(8));
        for (doc, text) in [(&a, "from a"), (&b, "from b")] {
            let t = doc.get_or_insert_text("summary");
            t.push(&mut doc.transact_mut(), text);
        }
        let merged = Update::merge_updates([
            Update::decode_v1(
                &a.transact()
                    .encode_state_as_update_v1(&StateVector::default()),
            )
            .unwrap(),
            Update::decode_v1(
                &b.transact()
                    .encode_state_as_update_v1(&StateVector::default()),
            )
            .unwrap(),
        ])
        .encode_v1();
        assert_eq!(leading_var(&merged), 2);
        let frame = Message::Sync(SyncMessage::Update(merged)).encode_v1();
        assert_eq!(room.receive(1, &frame).map(|o| o.store.len()), Ok(1));
    }

    #[test]
    fn a_sync_answer_that_only_repeats_known_deletions_is_neither_stored_nor_broadcast() {
        let mut room = Room::new();
        room.join(1);
        let doc = Doc::with_client_id(9);
        let text = doc.get_or_insert_text("summary");
        text.push(&mut doc.transact_mut(), "typed then partly erased");
        answer_sync(&mut room, &doc);
        text.remove_range(&mut doc.transact_mut(), 5, 5);
        answer_sync(&mut room, &doc);
        assert_eq!(summary_in(&room), "typed partly erased");

        // Back after a reload with nothing new: its answer is the delete set alone.
        let diff = doc
            .transact()
            .encode_state_as_update_v1(&room.state_vector());
        assert!(!Update::decode_v1(&diff).unwrap().delete_set().is_empty());
        let frame = Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1();
        assert_eq!(room.receive(1, &frame).unwrap(), Outcome::default());
        assert_eq!(summary_in(&room), "typed partly erased");
    }

    #[test]
    fn empty_sync_step2_is_neither_stored_nor_broadcast() {
        let mut room = Room::new();
        room.join(1);
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let frame = Message::Sync(SyncMessage::SyncStep2(empty)).encode_v1();
        assert_eq!(room.receive(1, &frame).unwrap(), Outcome::default());
    }

    #[test]
    fn several_messages_in_one_frame_are_all_handled() {
        let mut room = Room::new();
        room.join(1);
        let alice = Client::new();
        let mut frame = alice.sync_step1();
        frame.extend(update_frame(alice.type_text("a")));
        frame.extend(awareness_frame(7, 1, r#"{"name":"alice"}"#));
        let outcome = room.receive(1, &frame).unwrap();
        assert_eq!(outcome.store.len(), 1);
        assert_eq!(outcome.reply.len(), 2, "step2 + awareness echo");
    }

    #[test]
    fn garbage_is_refused_and_changes_nothing() {
        let mut room = Room::new();
        room.join(1);
        let before = room.snapshot();
        let cases: Vec<Vec<u8>> = vec![
            vec![0, 9, 1, 0],                            // unknown sync step
            vec![0, 2, 5, 0xff, 0xff, 0xff, 0xff, 0xff], // update that does not decode
            vec![0, 1, 200, 1, 2, 3],                    // truncated step2
            vec![
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            b"not a yjs message".to_vec(),
        ];
        for frame in cases {
            let err = room.receive(1, &frame).unwrap_err();
            assert!(
                matches!(err, ProtocolError::Malformed(_)),
                "{frame:?} gave {err:?}"
            );
            assert!(err.to_string().starts_with("malformed sync message: "));
        }
        assert_eq!(room.snapshot(), before);
        assert!(!room.is_poisoned());
    }

    #[test]
    fn trailing_bytes_after_a_valid_message_are_refused() {
        let mut room = Room::new();
        room.join(1);
        let mut frame = Client::new().sync_step1();
        frame.push(0);
        assert!(matches!(
            room.receive(1, &frame),
            Err(ProtocolError::Malformed(_))
        ));
    }

    #[test]
    fn ignored_message_types_are_harmless() {
        let mut room = Room::new();
        room.join(1);
        let auth = Message::Auth(Some("nope".into())).encode_v1();
        let custom = Message::Custom(42, vec![1, 2, 3]).encode_v1();
        assert_eq!(room.receive(1, &auth).unwrap(), Outcome::default());
        assert_eq!(room.receive(1, &custom).unwrap(), Outcome::default());
        assert_eq!(room.receive(1, &[]).unwrap(), Outcome::default());
    }

    #[test]
    fn unknown_peer_is_refused() {
        let mut room = Room::new();
        assert_eq!(
            room.receive(3, &Client::new().sync_step1()),
            Err(ProtocolError::UnknownPeer(3))
        );
    }

    #[test]
    fn awareness_is_echoed_broadcast_replayed_to_joiners_and_removed_on_leave() {
        let mut room = Room::new();
        room.join(1);
        room.join(2);
        let frame = awareness_frame(77, 1, r#"{"user":{"name":"alice"}}"#);
        let outcome = room.receive(1, &frame).unwrap();
        assert_eq!(outcome.reply, vec![Bytes::from(frame.clone())]);
        assert_eq!(outcome.broadcast, vec![frame.clone()]);

        // a stale (same clock) awareness update changes nothing and is not relayed
        let outcome = room.receive(1, &frame).unwrap();
        assert_eq!(outcome, Outcome::default());

        let join_frames = room.join(3);
        assert_eq!(join_frames.len(), 2);
        assert_eq!(join_frames[1], frame);

        let removal = room.leave(1);
        assert_eq!(removal.len(), 1);
        let Message::Awareness(update) = decode_one(&removal[0]) else {
            panic!("expected awareness removal");
        };
        let entry = &update.clients[&ClientID::new(77)];
        assert_eq!(&*entry.json, "null");
        assert_eq!(entry.clock, 2);
        assert_eq!(room.join(4).len(), 1, "nobody present any more");
        assert!(room.leave(1).is_empty(), "leaving twice is a no-op");
    }

    /// One awareness message setting every `(client, clock, json)`.
    #[test]
    fn another_relays_presence_is_shown_updated_and_removed_and_goes_with_its_relay() {
        let mut room = Room::new();
        room.join(1);
        let shown = room
            .apply_remote_awareness("a", &awareness_frame_of(&[(77, 0, "{}")]))
            .expect("shown");
        assert_eq!(states_in(&shown), vec![(77, "{}".to_owned())]);
        let updated = room
            .apply_remote_awareness("a", &awareness_frame_of(&[(77, 1, r#"{"n":1}"#)]))
            .expect("updated");
        assert_eq!(states_in(&updated), vec![(77, r#"{"n":1}"#.to_owned())]);
        // A stock client here echoes the state it was sent: that does not make it its own.
        room.receive(1, &awareness_frame_of(&[(77, 1, r#"{"n":1}"#)]))
            .unwrap();
        // Another relay cannot remove it; its own relay can.
        assert_eq!(
            room.apply_remote_awareness("b", &awareness_frame_of(&[(77, 1, "null")])),
            None
        );
        // y-websocket removes its own state with the clock it had.
        let removed = room
            .apply_remote_awareness("a", &awareness_frame_of(&[(77, 1, "null")]))
            .expect("removed");
        assert_eq!(states_in(&removed), vec![(77, "null".to_owned())]);
        assert_eq!(room.awareness_entries(), 0);

        // A relay gone takes its peers' presence with it; this room's own stay.
        room.receive(1, &awareness_frame_of(&[(5, 0, "{}")]))
            .unwrap();
        room.apply_remote_awareness("b", &awareness_frame_of(&[(88, 3, "{}")]))
            .expect("shown");
        let gone = room.drop_remote_node("b").expect("removal");
        assert_eq!(states_in(&gone), vec![(88, "null".to_owned())]);
        assert_eq!(room.awareness_entries(), 1);
        assert_eq!(
            states_in(&room.local_awareness().expect("own presence")),
            vec![(5, "{}".to_owned())]
        );
    }

    fn awareness_frame_of(entries: &[(u64, u32, &str)]) -> Vec<u8> {
        let clients = entries
            .iter()
            .map(|&(client, clock, json)| {
                let entry = yrs::sync::awareness::AwarenessUpdateEntry {
                    clock,
                    json: json.into(),
                };
                (ClientID::new(client), entry)
            })
            .collect();
        Message::Awareness(AwarenessUpdate { clients }).encode_v1()
    }

    /// The client ids and states an outgoing awareness frame carries, sorted by id.
    fn states_in(frame: &[u8]) -> Vec<(u64, String)> {
        let Message::Awareness(update) = decode_one(frame) else {
            panic!("expected an awareness message");
        };
        let mut states: Vec<(u64, String)> = update
            .clients
            .into_iter()
            .map(|(id, entry)| (id.get(), entry.json.to_string()))
            .collect();
        states.sort();
        states
    }

    /// The presence a new joiner is sent (empty when nobody is present).
    fn presence_for_joiner(room: &mut Room, joiner: PeerId) -> Vec<(u64, String)> {
        let frames = room.join(joiner);
        let states = frames.get(1).map(|f| states_in(f)).unwrap_or_default();
        room.leave(joiner);
        states
    }

    #[test]
    fn an_awareness_state_over_the_limit_refuses_the_frame_and_applies_none_of_it() {
        let mut room = Room::new();
        room.join(1);
        room.join(2);
        // Exactly the limit is taken.
        let pad = MAX_AWARENESS_STATE_BYTES - r#"{"n":""}"#.len();
        let largest = format!(r#"{{"n":"{}"}}"#, "a".repeat(pad));
        assert_eq!(largest.len(), MAX_AWARENESS_STATE_BYTES);
        let outcome = room.receive(1, &awareness_frame(7, 1, &largest)).unwrap();
        assert_eq!(outcome.broadcast.len(), 1);

        // One byte more, behind an update in the same frame: nothing of the frame is applied.
        let bigger = format!(r#"{{"n":"{}"}}"#, "a".repeat(pad + 1));
        let before = room.snapshot();
        let mut frame = update_frame(Client::new().type_text("not applied"));
        frame.extend(awareness_frame(7, 2, &bigger));
        match room.receive(1, &frame) {
            Err(ProtocolError::Awareness(reason)) => {
                assert_eq!(reason, "state of 7 is 4097 bytes, over 4096")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(room.snapshot(), before);
        assert_eq!(presence_for_joiner(&mut room, 9), vec![(7, largest)]);

        // Ten megabytes: refused, not kept, not relayed.
        let huge = format!(r#"{{"n":"{}"}}"#, "a".repeat(10 << 20));
        assert!(matches!(
            room.receive(2, &awareness_frame(8, 1, &huge)),
            Err(ProtocolError::Awareness(_))
        ));
        assert_eq!(room.awareness_entries(), 1);
    }

    #[test]
    fn an_awareness_state_that_is_not_a_json_object_is_refused() {
        let mut room = Room::new();
        room.join(1);
        for json in [
            "",
            "not json",
            "{",
            r#"{"a":1} trailing"#,
            r#"{"a":1}{"b":2}"#,
            "[1,2]",
            r#""text""#,
            "42",
            "true",
            " null",
            "NULL",
        ] {
            match room.receive(1, &awareness_frame(5, 1, json)) {
                Err(ProtocolError::Awareness(reason)) => {
                    assert_eq!(reason, "state of 5 is not a JSON object", "{json:?}")
                }
                other => panic!("{json:?} gave {other:?}"),
            }
        }
        assert_eq!(room.awareness_entries(), 0, "none was kept");
        // Objects with space around them are JSON objects; `null` removes a state.
        for (clock, json) in [(1, r#" {"user":{"name":"Ann"}} "#), (2, "null")] {
            let outcome = room.receive(1, &awareness_frame(5, clock, json)).unwrap();
            assert_eq!(states_in(&outcome.broadcast[0]), vec![(5, json.to_owned())]);
        }
    }

    #[test]
    fn a_peer_cannot_set_or_remove_a_client_id_another_peer_announced() {
        let mut room = Room::new();
        room.join(1);
        room.join_with(2, Access::ReadOnly);
        room.receive(1, &awareness_frame(77, 1, r#"{"name":"alice"}"#))
            .unwrap();

        // Alice's id with a newer clock, or her removal: dropped, relayed to nobody.
        for json in [r#"{"name":"mallory"}"#, "null"] {
            let outcome = room.receive(2, &awareness_frame(77, 9, json)).unwrap();
            assert_eq!(outcome, Outcome::default(), "{json}");
        }
        // In one message with the viewer's own id: only its own goes through.
        let frame = awareness_frame_of(&[(77, 10, r#"{"name":"mallory"}"#), (78, 1, "{}")]);
        let outcome = room.receive(2, &frame).unwrap();
        assert_eq!(
            states_in(&outcome.broadcast[0]),
            vec![(78, "{}".to_owned())]
        );
        assert_eq!(
            outcome.reply,
            vec![Bytes::from(outcome.broadcast[0].clone())]
        );
        assert_eq!(
            presence_for_joiner(&mut room, 9),
            vec![
                (77, r#"{"name":"alice"}"#.to_owned()),
                (78, "{}".to_owned())
            ]
        );
        // Alice still renews hers.
        let outcome = room
            .receive(1, &awareness_frame(77, 2, r#"{"name":"alice"}"#))
            .unwrap();
        assert_eq!(outcome.broadcast.len(), 1);

        // Once she has left, her id is free.
        room.leave(1);
        let outcome = room
            .receive(2, &awareness_frame(77, 1, r#"{"name":"alice, again"}"#))
            .unwrap();
        assert_eq!(outcome.broadcast.len(), 1);
    }

    #[test]
    fn a_peer_announces_at_most_a_few_client_ids() {
        let mut room = Room::new();
        room.join(1);
        let ten: Vec<(u64, u32, &str)> = (100..110).map(|id| (id, 1, "{}")).collect();
        let outcome = room.receive(1, &awareness_frame_of(&ten)).unwrap();
        let relayed = states_in(&outcome.broadcast[0]);
        assert_eq!(relayed.len(), MAX_AWARENESS_CLIENTS_PER_PEER);
        assert_eq!(room.awareness_entries(), MAX_AWARENESS_CLIENTS_PER_PEER);

        // A fifth id later: dropped. Its own ids still renew.
        let fifth = (100..110)
            .find(|id| !relayed.iter().any(|(r, _)| r == id))
            .unwrap();
        let outcome = room.receive(1, &awareness_frame(fifth, 1, "{}")).unwrap();
        assert_eq!(outcome, Outcome::default());
        let (kept, _) = relayed[0];
        let outcome = room.receive(1, &awareness_frame(kept, 2, "{}")).unwrap();
        assert_eq!(outcome.broadcast.len(), 1);

        // Removing one of its states does not free its place: the id stays its own.
        let outcome = room.receive(1, &awareness_frame(kept, 3, "null")).unwrap();
        assert_eq!(outcome.broadcast.len(), 1);
        let outcome = room.receive(1, &awareness_frame(fifth, 2, "{}")).unwrap();
        assert_eq!(outcome, Outcome::default());
        let outcome = room.receive(1, &awareness_frame(kept, 4, "{}")).unwrap();
        assert_eq!(outcome.broadcast.len(), 1);

        // Another peer has places of its own.
        room.join(2);
        let outcome = room.receive(2, &awareness_frame(fifth, 1, "{}")).unwrap();
        assert_eq!(outcome.broadcast.len(), 1);
    }

    #[test]
    fn removing_client_ids_nobody_announced_leaves_nothing_behind() {
        let mut room = Room::new();
        room.join(1);
        let removals: Vec<(u64, u32, &str)> = (0..1000).map(|id| (id, 1, "null")).collect();
        let outcome = room.receive(1, &awareness_frame_of(&removals)).unwrap();
        assert_eq!(outcome, Outcome::default());
        assert_eq!(room.awareness_entries(), 0);
    }

    #[test]
    fn a_leaving_peers_client_ids_are_forgotten_so_a_reconnected_tab_is_seen_again() {
        let mut room = Room::new();
        room.join(1);
        room.join(2);
        room.receive(2, &awareness_frame(5, 1, r#"{"name":"bob"}"#))
            .unwrap();
        room.receive(2, &awareness_frame(5, 2, "null")).unwrap();
        // The old connection of Ann's tab, far along in its clock.
        room.receive(1, &awareness_frame(77, 40, r#"{"name":"ann"}"#))
            .unwrap();
        let removal = room.leave(1);
        assert_eq!(states_in(&removal[0]), vec![(77, "null".to_owned())]);
        // Only Bob's removed state (its clock) is still held.
        assert_eq!(room.awareness_entries(), 1);
        let outcome = room.receive(2, &awareness_frame(5, 1, "{}")).unwrap();
        assert_eq!(outcome, Outcome::default(), "Bob's clock was kept");

        // The tab reconnects with its clock started over: it is relayed, not taken as stale.
        room.join(3);
        let outcome = room
            .receive(3, &awareness_frame(77, 1, r#"{"name":"ann"}"#))
            .unwrap();
        assert_eq!(outcome.broadcast.len(), 1);
        // Many connections coming and going leave nothing behind.
        for peer in 10..110 {
            room.join(peer);
            room.receive(peer, &awareness_frame(peer, 1, "{}")).unwrap();
            room.leave(peer);
        }
        assert_eq!(room.awareness_entries(), 2);
    }

    #[test]
    fn ownership_survives_a_room_sleeping_and_waking() {
        let mut room = Room::new();
        room.join(1);
        room.join(2);
        room.join(3);
        room.receive(1, &awareness_frame(77, 1, r#"{"name":"ann"}"#))
            .unwrap();
        room.receive(3, &awareness_frame(99, 1, r#"{"name":"cy"}"#))
            .unwrap();
        let snapshot = room.snapshot();
        let mut dormant = room.into_dormant();
        // Cy leaves while the room sleeps: its presence goes with it.
        dormant.remove(3);
        let mut room = Room::wake(dormant, Some(&snapshot), []).unwrap();
        let outcome = room
            .receive(2, &awareness_frame(77, 5, r#"{"name":"mallory"}"#))
            .unwrap();
        assert_eq!(outcome, Outcome::default());
        assert_eq!(
            presence_for_joiner(&mut room, 9),
            vec![(77, r#"{"name":"ann"}"#.to_owned())]
        );
        assert_eq!(states_in(&room.leave(1)[0]), vec![(77, "null".to_owned())]);
    }

    #[test]
    fn awareness_query_returns_everyone() {
        let mut room = Room::new();
        room.join(1);
        room.receive(1, &awareness_frame(5, 1, r#"{"a":1}"#))
            .unwrap();
        let outcome = room
            .receive(1, &Message::AwarenessQuery.encode_v1())
            .unwrap();
        assert_eq!(outcome.reply.len(), 1);
        assert!(matches!(
            decode_one(&outcome.reply[0]),
            Message::Awareness(u) if u.clients.len() == 1
        ));
    }

    #[test]
    fn stored_updates_and_snapshot_rebuild_the_document() {
        let mut room = Room::new();
        room.join(1);
        let alice = Client::new();
        let mut stored = Vec::new();
        for word in ["contain ", "eradicate ", "recover"] {
            let outcome = room
                .receive(1, &update_frame(alice.type_text(word)))
                .unwrap();
            stored.extend(outcome.store);
        }
        let from_log = Room::load(None, stored.iter().map(Vec::as_slice)).unwrap();
        let snapshot = room.snapshot();
        let from_snapshot = Room::load(Some(&snapshot), []).unwrap();
        for mut reloaded in [from_log, from_snapshot] {
            reloaded.join(9);
            let bob = Client::new();
            bob.apply_frames(&reloaded.receive(9, &bob.sync_step1()).unwrap().reply);
            assert_eq!(bob.summary(), "contain eradicate recover");
        }
    }

    #[test]
    fn corrupt_storage_is_reported() {
        let err = Room::load(Some(&[1, 2, 3]), []).err().expect("must fail");
        assert_eq!(err.what, "snapshot");
    }

    /// Mutated real frames and random bytes, from a fixed seed: a smoke test of
    /// [`fuzz_frames`] until a cargo-fuzz target runs it for real.
    #[test]
    fn fuzz_entry_survives_mutated_frames() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alice = Client::new();
        let valid: Vec<Vec<u8>> = (0..8)
            .map(|i| update_frame(alice.type_text(&format!("event {i} "))))
            .chain([alice.sync_step1(), awareness_frame(3, 1, r#"{"n":1}"#)])
            .collect();
        for _ in 0..3000 {
            let mut data = Vec::new();
            for _ in 0..(next() % 6) {
                let mut frame = valid[(next() % valid.len() as u64) as usize].clone();
                match next() % 4 {
                    0 => {}
                    1 => {
                        let at = (next() % frame.len() as u64) as usize;
                        frame[at] = next() as u8;
                    }
                    2 => frame.truncate((next() % frame.len() as u64) as usize),
                    _ => frame = (0..next() % 40).map(|_| next() as u8).collect(),
                }
                data.push(next() as u8);
                data.extend((frame.len() as u16).to_le_bytes());
                data.extend(frame);
            }
            fuzz_frames(&data);
        }
    }

    #[test]
    fn fuzz_entry_survives_simple_inputs() {
        let alice = Client::new();
        let mut data = Vec::new();
        for frame in [
            update_frame(alice.type_text("x")),
            vec![0, 9],
            awareness_frame(1, 1, "{}"),
        ] {
            data.push(1);
            data.extend((frame.len() as u16).to_le_bytes());
            data.extend(frame);
        }
        fuzz_frames(&data);
        fuzz_frames(&[]);
        fuzz_frames(&[0, 255, 255, 1, 2, 3]);
    }
}
