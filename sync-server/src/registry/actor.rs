//! A room actor: the task that owns one incident's [`Room`] while it has peers.
//!
//! It handles its mailbox in batches: it runs every queued command through the room, stores
//! all updates of the batch in one transaction, and only after that commit hands the batch's
//! frames to the peers' queues. Commands from one connection are handled in the order they
//! were sent, so a SyncStep2 reply to a connection's SyncStep1 is sent only after every
//! earlier update of that connection is committed.
//!
//! Appending a batch of updates (one short SQLite transaction, WAL without fsync) runs on the
//! room worker itself: handing it to a blocking thread and back cost more than the append
//! (measured in `docs/benchmarks.md`). Loading and compacting, which can take long, run on
//! blocking threads.
//!
//! Heavy work leaves the room worker, which serves every incident on its thread: a frame of
//! [`HEAVY_FRAME_BYTES`] or more is decoded and checked on a blocking thread, and each of its
//! updates judged and applied to the document there ([`room::judge_and_apply`]) while this
//! actor waits, so nothing else touches the document meanwhile and the order of the room's
//! commands is kept. An append or a snapshot of that size is written on a blocking thread
//! too; while one is, every room's appends go to blocking threads, rather than wait on the
//! room worker for the store's one connection.
//!
//! When the last peer leaves, the actor compacts the incident (the whole document as one
//! snapshot, the log emptied) and drops the room, unless a new peer is already on its way.
//! While peers stay, it compacts too, once the log has grown by so many rows (the registry's
//! `compact_after_updates`) or by as many bytes as the last snapshot (at least
//! [`MIN_COMPACT_BYTES`]): the log's end ([`Store::log_end`]) is read and the snapshot taken
//! while the room waits (only this room appends to its log), then written on a blocking
//! thread while the room goes on; the rows appended meanwhile stay in the log
//! ([`Store::compact_through`]; with several relays on one PostgreSQL other relays append
//! too, and that store folds their rows and snapshot into the one written). One such
//! compaction runs at
//! a time, and any other compaction waits for it, so an older snapshot never replaces a newer
//! one.
//! Asked to sleep (see the registry's limit on documents in memory), it compacts and drops
//! the document but keeps its peers ([`Dormant`]), and wakes it for the next message that
//! needs it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use tokio::sync::mpsc;

use super::{Inner, RoomStatus};
use crate::cluster::{Cluster, Remote};
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::metrics::METRICS;
use crate::peer::{CloseReason, Offer, PeerConn};
use crate::room::{self, Dormant, Outcome, PeerId, ProtocolError, Room, HEAVY_FRAME_BYTES};
use crate::store::record::Sent;
use crate::store::{Store, StoredIncident};

/// Most commands handled (and updates stored) in one batch.
const MAX_BATCH: usize = 256;

/// Log bytes that, grown past the last snapshot's size too, make a room with peers compact.
pub const MIN_COMPACT_BYTES: usize = 1024 * 1024;

/// What a room's mailbox carries.
pub(super) enum Command {
    Join {
        peer: PeerId,
        conn: PeerConn,
    },
    Frame {
        peer: PeerId,
        bytes: Bytes,
    },
    Leave {
        peer: PeerId,
    },
    /// Make space: drop the document from memory, keep the peers.
    Sleep,
    /// What another relay published on this incident's channel.
    Remote(Remote),
    /// Read storage for what this room may have missed from the other relays.
    CatchUp,
    /// Another relay is gone: drop the presence its peers announced.
    NodeGone(String),
}

/// What a room worker is handed to start a room's actor.
pub(super) struct SpawnRoom {
    pub(super) incident: IncidentId,
    pub(super) generation: u64,
    pub(super) mailbox: mpsc::Receiver<Command>,
    pub(super) registry: Arc<Inner>,
    pub(super) status: Arc<RoomStatus>,
}

async fn blocking<T, F>(store: &Arc<dyn Store>, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, Error> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| Error::Storage(format!("storage task failed: {e}")))?
}

/// Marks a big write to the store in progress (see [`Inner::heavy_writing`]) until dropped.
struct HeavyWrite(Arc<Inner>);

impl HeavyWrite {
    fn new(registry: &Arc<Inner>) -> Self {
        registry.heavy_writes.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(registry))
    }
}

impl Drop for HeavyWrite {
    fn drop(&mut self) {
        self.0.heavy_writes.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Loads the incident and runs its actor until the room stops.
pub(super) async fn run_room(job: SpawnRoom) {
    let SpawnRoom {
        incident,
        generation,
        mut mailbox,
        registry,
        status,
    } = job;
    // Subscribed before storage is read: whatever another relay stores later is heard of,
    // whatever it stored earlier is read. A subscription slower than this is followed by a
    // catch-up once it is confirmed.
    let _watch = registry.cluster().cloned().map(|cluster| {
        let subscribed = cluster.watch(&incident);
        (Watch(cluster, incident.clone()), subscribed)
    });
    let _watch = match _watch {
        Some((watch, subscribed)) => {
            let _ = tokio::time::timeout(crate::cluster::SUBSCRIBE_WAIT, subscribed).await;
            Some(watch)
        }
        None => None,
    };
    let loaded = {
        let id = incident.clone();
        blocking(&registry.store, move |store| store.load(&id)).await
    };
    let mut stored_rows = 0;
    let mut stored_bytes = 0;
    let mut snapshot_bytes = 0;
    let room = loaded.and_then(|stored: StoredIncident| {
        let has_log = !stored.updates.is_empty();
        stored_rows = stored.updates.len();
        stored_bytes = stored.updates.iter().map(Vec::len).sum();
        snapshot_bytes = stored.snapshot.as_ref().map_or(0, Vec::len);
        Room::load(
            stored.snapshot.as_deref(),
            stored.updates.iter().map(Vec::as_slice),
        )
        .map(|room| (room, has_log))
        .map_err(|e| Error::Load(e.to_string()))
    });
    let (room, has_log) = match room {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%incident, %error, "could not load incident");
            registry.unregister(&incident, generation);
            refuse_remaining(&mut mailbox, (&error).into()).await;
            return;
        }
    };
    tracing::debug!(%incident, "room loaded");
    registry.loaded(&incident, &status);
    let mut actor = RoomActor {
        incident,
        generation,
        room: Some(room),
        dormant: None,
        peers: HashMap::new(),
        answers: HashMap::new(),
        joins_handled: 0,
        dirty: has_log,
        log: LogGrowth {
            rows: stored_rows,
            bytes: stored_bytes,
            snapshot_bytes,
        },
        compacting: None,
        registry,
        status,
        epoch: crate::cluster::random_u64().max(1),
        published: 0,
        seen: HashMap::new(),
        presence_out: Vec::new(),
    };
    if let Some(cluster) = actor.registry.cluster() {
        cluster.query_presence(&actor.incident);
    }
    actor.run(mailbox).await;
    actor.registry.released(&actor.status);
}

/// This relay wants an incident's channel until dropped (the room stopped).
struct Watch(Cluster, IncidentId);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.unwatch(&self.1);
    }
}

/// Closes every connection still trying to join a room that has stopped.
async fn refuse_remaining(mailbox: &mut mpsc::Receiver<Command>, reason: CloseReason) {
    mailbox.close();
    while let Some(command) = mailbox.recv().await {
        if let Command::Join { conn, .. } = command {
            conn.close.close(reason.clone());
        }
    }
}

/// What the stored log holds beyond the snapshot, as far as this room knows.
#[derive(Default)]
struct LogGrowth {
    rows: usize,
    bytes: usize,
    snapshot_bytes: usize,
}

enum Target {
    Peer(PeerId),
    Others(PeerId),
    All,
}

#[derive(Default)]
struct Batch {
    commands: usize,
    /// Updates to store, each with the invite of the connection that sent it.
    store: Vec<Sent>,
    deliveries: Vec<(Target, Bytes)>,
    /// Peers whose SyncStep1 was answered in this batch.
    answered: Vec<PeerId>,
    /// Another relay's message showed this room may lack something: read storage.
    catch_up: bool,
}

struct RoomActor {
    incident: IncidentId,
    generation: u64,
    /// The document, while in memory; otherwise `dormant` holds the peers' room state.
    room: Option<Room>,
    dormant: Option<Dormant>,
    peers: HashMap<PeerId, PeerConn>,
    /// Peers with a SyncStep2 answer on its way: written once their queue has written this
    /// many frames (see [`Room::answer_written`]).
    answers: HashMap<PeerId, u64>,
    joins_handled: u64,
    /// The store holds log rows that compaction would fold into the snapshot.
    dirty: bool,
    /// How much the log grew since the last compaction.
    log: LogGrowth,
    /// A compaction with peers connected, being written.
    compacting: Option<tokio::task::JoinHandle<Result<(), Error>>>,
    registry: Arc<Inner>,
    status: Arc<RoomStatus>,
    /// This room's numbering of the batches it publishes (see `cluster`): a random epoch,
    /// and how many batches it published.
    epoch: u64,
    published: u64,
    /// The last batch heard from each other relay: its room's epoch and number.
    seen: HashMap<String, (u64, u64)>,
    /// Awareness frames of this relay's peers, to publish for the other relays.
    presence_out: Vec<Vec<u8>>,
}

impl RoomActor {
    async fn run(&mut self, mut mailbox: mpsc::Receiver<Command>) {
        while let Some(first) = mailbox.recv().await {
            let mut batch = Batch::default();
            let mut sleep = false;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                if matches!(command, Command::Sleep) {
                    sleep = true;
                    batch.commands += 1;
                } else {
                    if self.must_wake_for(&command) {
                        if let Err(error) = self.wake().await {
                            tracing::error!(incident = %self.incident, %error, "could not load incident again");
                            self.stop(&mut mailbox, &error).await;
                            return;
                        }
                    }
                    match command {
                        Command::Frame { peer, bytes } if bytes.len() >= HEAVY_FRAME_BYTES => {
                            self.handle_heavy(peer, bytes, &mut batch).await;
                        }
                        command => self.handle(command, &mut batch),
                    }
                }
                if batch.commands < MAX_BATCH {
                    next = mailbox.try_recv().ok();
                }
            }
            let tick = self.registry.tick.fetch_add(1, Ordering::Relaxed);
            self.status.last_active.store(tick, Ordering::Relaxed);

            if !batch.store.is_empty() {
                let updates = std::mem::take(&mut batch.store);
                let count = updates.len();
                let bytes: usize = updates.iter().map(|s| s.update.len()).sum();
                let received_at_ms = crate::access::gate::now_ms();
                self.log.rows += count;
                self.log.bytes += bytes;
                let started = std::time::Instant::now();
                let stored: Result<Vec<Sent>, Error> = if bytes >= HEAVY_FRAME_BYTES
                    || self.registry.heavy_writing()
                    || !self.registry.store.appends_are_quick()
                {
                    // A big append goes to a blocking thread, and so does any while one is
                    // being written (they share the database's one connection), and every
                    // append to a store across the network (PostgreSQL).
                    let _heavy =
                        (bytes >= HEAVY_FRAME_BYTES).then(|| HeavyWrite::new(&self.registry));
                    let id = self.incident.clone();
                    blocking(&self.registry.store, move |s| {
                        s.append_recorded(&id, &updates, received_at_ms)
                            .map(|()| updates)
                    })
                    .await
                } else {
                    // On this room worker's own thread: an append is one short SQLite
                    // transaction (WAL, no fsync), cheaper than handing it to another thread
                    // and back for every batch (see the module documentation).
                    self.registry
                        .store
                        .append_recorded(&self.incident, &updates, received_at_ms)
                        .map(|()| updates)
                };
                if let Ok(updates) = &stored {
                    METRICS.stored(count, started.elapsed());
                    // Stored, so published: the other relays' rooms take it from here.
                    if let Some(cluster) = self.registry.cluster() {
                        self.published += 1;
                        cluster.publish_updates(
                            &self.incident,
                            self.epoch,
                            self.published,
                            updates.iter().map(|s| s.update.clone()).collect(),
                        );
                    }
                }
                if let Err(error) = stored {
                    crate::log_limit::storage_failed(
                        "could not store updates; dropping the room",
                        &self.incident,
                        &error,
                    );
                    // Nothing of the batch was acknowledged or relayed; with the storage
                    // server away the peers are told to come back later (4503).
                    let closing = match error {
                        Error::StorageUnavailable => Error::StorageUnavailable,
                        _ => Error::StoreFailed,
                    };
                    self.stop(&mut mailbox, &closing).await;
                    return;
                }
                self.dirty = true;
            }
            self.deliver(batch.deliveries);
            self.publish_presence();
            if batch.catch_up || self.status.behind.swap(false, Ordering::AcqRel) {
                self.catch_up().await;
            }
            for peer in batch.answered {
                if let Some(conn) = self.peers.get(&peer) {
                    self.answers.insert(peer, conn.meter.queued_count());
                }
            }

            if self.room.as_ref().is_some_and(Room::is_poisoned) {
                tracing::error!(incident = %self.incident, "an update broke the room; reloading it from storage");
                self.stop(&mut mailbox, &Error::RoomReset).await;
                return;
            }
            if self.peers.is_empty() {
                if self.unload().await {
                    return;
                }
            } else if sleep {
                self.sleep().await;
            } else {
                self.status.asked_to_sleep.store(false, Ordering::Release);
                self.compact_if_grown().await;
            }
        }
    }

    /// Whether `command` needs the document while it is not in memory. A leaving peer
    /// needs it only if others must be told its presence is gone.
    fn must_wake_for(&mut self, command: &Command) -> bool {
        let Some(dormant) = self.dormant.as_mut() else {
            return false;
        };
        match command {
            Command::Join { .. }
            | Command::Frame { .. }
            | Command::Remote(_)
            | Command::CatchUp
            | Command::NodeGone(_) => true,
            Command::Leave { peer } if self.peers.len() <= 1 => {
                dormant.remove(*peer);
                false
            }
            Command::Leave { .. } => true,
            Command::Sleep => false,
        }
    }

    /// Drops the document from memory (stored compactly first), keeping the peers.
    async fn sleep(&mut self) {
        // Should compaction fail, the log is still complete: waking replays it.
        self.compact().await;
        let Some(room) = self.room.take() else {
            return;
        };
        self.dormant = Some(room.into_dormant());
        self.registry.released(&self.status);
        METRICS.room_slept();
        tracing::debug!(incident = %self.incident, "room asleep to make space");
    }

    /// Loads the document of a sleeping room again, with its peers and presence.
    async fn wake(&mut self) -> Result<(), Error> {
        let id = self.incident.clone();
        let stored: StoredIncident = blocking(&self.registry.store, move |s| s.load(&id)).await?;
        let Some(dormant) = self.dormant.take() else {
            return Ok(());
        };
        let room = Room::wake(
            dormant,
            stored.snapshot.as_deref(),
            stored.updates.iter().map(Vec::as_slice),
        )
        .map_err(|e| Error::Load(e.to_string()))?;
        self.dirty = !stored.updates.is_empty();
        self.log = LogGrowth {
            rows: stored.updates.len(),
            bytes: stored.updates.iter().map(Vec::len).sum(),
            snapshot_bytes: stored.snapshot.as_ref().map_or(0, Vec::len),
        };
        self.room = Some(room);
        METRICS.room_woken();
        self.registry.loaded(&self.incident, &self.status);
        Ok(())
    }

    fn handle(&mut self, command: Command, batch: &mut Batch) {
        batch.commands += 1;
        match command {
            Command::Join { peer, conn } => {
                self.joins_handled += 1;
                let Some(room) = self.room.as_mut().filter(|r| !r.is_poisoned()) else {
                    conn.close.close_with(&Error::RoomReset);
                    return;
                };
                let greeting = room.join_with(peer, conn.access);
                self.peers.insert(peer, conn);
                batch
                    .deliveries
                    .extend(greeting.into_iter().map(|f| (Target::Peer(peer), f.into())));
            }
            Command::Frame { peer, bytes } => {
                let Some(room) = self.ready_for(peer) else {
                    return;
                };
                let outcome = room.receive(peer, &bytes);
                self.take_outcome(peer, outcome, batch);
            }
            Command::Leave { peer } => {
                self.answers.remove(&peer);
                if self.peers.remove(&peer).is_some() {
                    if let Some(room) = self.room.as_mut() {
                        let removal = room.leave(peer);
                        self.presence_out.extend(removal.iter().cloned());
                        batch
                            .deliveries
                            .extend(removal.into_iter().map(|f| (Target::All, f.into())));
                    }
                }
            }
            Command::Sleep => {}
            Command::Remote(message) => self.take_remote(message, batch),
            Command::CatchUp => {
                // Asked by the registry (Redis back, or a late subscription): the other
                // relays' presence may have been dropped meanwhile too.
                batch.catch_up = true;
                if let Some(cluster) = self.registry.cluster() {
                    cluster.query_presence(&self.incident);
                }
            }
            Command::NodeGone(node) => {
                self.seen.remove(&node);
                if let Some(frame) = self.room.as_mut().and_then(|r| r.drop_remote_node(&node)) {
                    batch.deliveries.push((Target::All, frame.into()));
                }
            }
        }
    }

    /// The room, if `peer` is in it and a frame of it can be handled; notes first whether the
    /// peer's last SyncStep1 answer has been written.
    fn ready_for(&mut self, peer: PeerId) -> Option<&mut Room> {
        let room = self.room.as_mut().filter(|r| !r.is_poisoned())?;
        let conn = self.peers.get(&peer)?;
        if let Some(&count) = self.answers.get(&peer) {
            if conn.has_written(count) {
                self.answers.remove(&peer);
                room.answer_written(peer);
            }
        }
        Some(room)
    }

    /// Adds what the room made of `peer`'s frame to the batch, or closes the peer.
    fn take_outcome(
        &mut self,
        peer: PeerId,
        outcome: Result<Outcome, ProtocolError>,
        batch: &mut Batch,
    ) {
        match outcome {
            Ok(outcome) => {
                if outcome.answered {
                    batch.answered.push(peer);
                }
                let invite = self.peers.get(&peer).and_then(|c| c.invite.clone());
                batch
                    .store
                    .extend(outcome.store.into_iter().map(|update| Sent {
                        update,
                        invite: invite.clone(),
                    }));
                let reply = outcome.reply.into_iter();
                batch
                    .deliveries
                    .extend(reply.map(|f| (Target::Peer(peer), f)));
                if self.registry.cluster().is_some() {
                    // Awareness frames (message type 1) go to the other relays too.
                    self.presence_out.extend(
                        outcome
                            .broadcast
                            .iter()
                            .filter(|f| f.first() == Some(&1))
                            .cloned(),
                    );
                }
                let broadcast = outcome.broadcast.into_iter();
                batch
                    .deliveries
                    .extend(broadcast.map(|f| (Target::Others(peer), f.into())));
            }
            Err(error) => {
                tracing::info!(incident = %self.incident, peer, %error, "closing peer after a bad message");
                let error = Error::Protocol(error);
                self.drop_peer(peer, &error, &mut batch.deliveries);
            }
        }
    }

    /// A frame of at least [`HEAVY_FRAME_BYTES`]: handled as [`Room::receive`] would, but
    /// decoded and applied on blocking threads, so that the thread running the rooms goes on
    /// serving the other incidents. This room waits meanwhile; its order is kept.
    async fn handle_heavy(&mut self, peer: PeerId, bytes: Bytes, batch: &mut Batch) {
        batch.commands += 1;
        if self.ready_for(peer).is_none() {
            return;
        }
        let decoded = tokio::task::spawn_blocking(move || room::decode_checked(&bytes))
            .await
            .unwrap_or_else(|_| {
                Err(ProtocolError::Malformed(
                    "message crashed the decoder".to_owned(),
                ))
            });
        let outcome = self.apply_heavy(peer, decoded).await;
        self.take_outcome(peer, outcome, batch);
    }

    async fn apply_heavy(
        &mut self,
        peer: PeerId,
        messages: Result<Vec<yrs::sync::Message>, ProtocolError>,
    ) -> Result<Outcome, ProtocolError> {
        let messages = messages?;
        let mut outcome = Outcome::default();
        let Some(room) = self.room.as_mut() else {
            return Ok(outcome);
        };
        room.begin(peer)?;
        // Every update is decoded once before any is applied, so a frame is refused whole.
        let updates: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| match m {
                yrs::sync::Message::Sync(
                    yrs::sync::SyncMessage::Update(bytes)
                    | yrs::sync::SyncMessage::SyncStep2(bytes),
                ) => Some(bytes.clone()),
                _ => None,
            })
            .collect();
        if messages.len() > 1 && !updates.is_empty() {
            tokio::task::spawn_blocking(move || {
                updates.iter().try_for_each(|u| room::check_update(u))
            })
            .await
            .unwrap_or_else(|_| {
                Err(ProtocolError::Malformed(
                    "message crashed the decoder".to_owned(),
                ))
            })?;
        }
        for message in messages {
            let Some(heavy) = room.step(peer, message, &mut outcome)? else {
                continue;
            };
            let doc = room.doc();
            // The room is not touched until the update is in: this task waits for it.
            let (bytes, judged) =
                tokio::task::spawn_blocking(move || room::judge_and_apply(&doc, heavy))
                    .await
                    .map_err(|_| {
                        room.poison();
                        ProtocolError::Poisoned
                    })?;
            room.finish(bytes, judged, &mut outcome)?;
        }
        Ok(outcome)
    }

    /// Closes `peer` with `error` and tells the others its presence is gone.
    fn drop_peer(
        &mut self,
        peer: PeerId,
        error: &Error,
        deliveries: &mut impl Extend<(Target, Bytes)>,
    ) {
        self.answers.remove(&peer);
        if let Some(conn) = self.peers.remove(&peer) {
            conn.close.close_with(error);
        }
        if let Some(room) = self.room.as_mut() {
            let removal = room.leave(peer);
            self.presence_out.extend(removal.iter().cloned());
            deliveries.extend(removal.into_iter().map(|f| (Target::All, f.into())));
        }
    }

    /// Takes a message another relay published: its stored updates are applied (not stored
    /// again, not published again) and sent to this room's peers, unless one is missing
    /// before them (a gap in the origin's numbering, or an update that builds on something
    /// this room lacks): then the room catches up from storage.
    fn take_remote(&mut self, message: Remote, batch: &mut Batch) {
        let Some(room) = self.room.as_mut().filter(|r| !r.is_poisoned()) else {
            return;
        };
        match message {
            Remote::Updates {
                node,
                epoch,
                counter,
                updates,
            } => {
                let follows = match self.seen.get(&node) {
                    Some(&(e, c)) if e == epoch => counter == c + 1,
                    _ => counter == 1,
                };
                self.seen.insert(node, (epoch, counter));
                if !follows {
                    batch.catch_up = true;
                }
                for update in &updates {
                    match room.apply_remote(update) {
                        Ok(Some(frame)) => batch.deliveries.push((Target::All, frame.into())),
                        Ok(None) => {}
                        Err(_) => {
                            batch.catch_up = true;
                            break;
                        }
                    }
                }
            }
            Remote::Changed {
                node,
                epoch,
                counter,
            } => {
                if epoch != 0 {
                    self.seen.insert(node, (epoch, counter));
                }
                batch.catch_up = true;
            }
            Remote::Presence { node, frame } => {
                if let Some(frame) = room.apply_remote_awareness(&node, &frame) {
                    batch.deliveries.push((Target::All, frame.into()));
                }
            }
            Remote::PresenceQuery { .. } => {
                self.presence_out.extend(room.local_awareness());
            }
        }
    }

    /// Publishes the awareness frames of this relay's peers for the other relays.
    fn publish_presence(&mut self) {
        if self.presence_out.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.presence_out);
        if let Some(cluster) = self.registry.cluster() {
            for frame in frames {
                cluster.publish_presence(&self.incident, frame);
            }
        }
    }

    /// Reads the incident from storage and applies what this room lacks of it (what other
    /// relays stored while a message of theirs was missed), then sends that to the peers.
    async fn catch_up(&mut self) {
        let Some(state_vector) = self.room.as_ref().map(Room::state_vector) else {
            return;
        };
        let id = self.incident.clone();
        let diff = blocking(&self.registry.store, move |s| {
            let stored = s.load(&id)?;
            let fresh = Room::load(
                stored.snapshot.as_deref(),
                stored.updates.iter().map(Vec::as_slice),
            )
            .map_err(|e| Error::Load(e.to_string()))?;
            let doc = fresh.doc();
            let diff = yrs::ReadTxn::encode_state_as_update_v1(
                &yrs::Transact::transact(&doc),
                &state_vector,
            );
            Ok(diff)
        })
        .await;
        if let Some(cluster) = self.registry.cluster() {
            cluster.caught_up();
        }
        let diff = match diff {
            Ok(diff) => diff,
            Err(error) => {
                tracing::warn!(incident = %self.incident, %error, "could not catch up from storage");
                return;
            }
        };
        let Some(room) = self.room.as_mut() else {
            return;
        };
        match room.apply_remote(&diff) {
            Ok(Some(frame)) => self.deliver(vec![(Target::All, frame.into())]),
            Ok(None) => {}
            Err(_) => {
                tracing::warn!(incident = %self.incident, "stored state did not apply while catching up")
            }
        }
    }

    /// Hands frames to the peers' queues; a peer whose queue is full is disconnected.
    fn deliver(&mut self, deliveries: Vec<(Target, Bytes)>) {
        let mut queue = VecDeque::from(deliveries);
        let mut lagging = Vec::new();
        while let Some((target, frame)) = queue.pop_front() {
            match target {
                Target::Peer(peer) => {
                    if let Some(conn) = self.peers.get(&peer) {
                        if conn.offer(frame) == Offer::Full {
                            lagging.push(peer);
                        }
                    }
                }
                Target::Others(sender) => {
                    for (&peer, conn) in &self.peers {
                        if peer != sender && conn.offer(frame.clone()) == Offer::Full {
                            lagging.push(peer);
                        }
                    }
                }
                Target::All => {
                    for (&peer, conn) in &self.peers {
                        if conn.offer(frame.clone()) == Offer::Full {
                            lagging.push(peer);
                        }
                    }
                }
            }
            for peer in lagging.drain(..) {
                tracing::warn!(incident = %self.incident, peer, "peer is lagging; disconnecting it");
                self.drop_peer(peer, &Error::Lagging, &mut queue);
            }
        }
    }

    /// Stores the document in memory as one snapshot, if the log has anything since the last.
    /// On failure the log is still complete, so nothing is lost; it is retried next time.
    async fn compact(&mut self) {
        self.finish_compacting().await;
        if !self.dirty {
            return;
        }
        let Some(snapshot) = self.encode_snapshot().await else {
            return;
        };
        let snapshot_bytes = snapshot.len();
        let id = self.incident.clone();
        let _heavy = (snapshot_bytes >= HEAVY_FRAME_BYTES).then(|| HeavyWrite::new(&self.registry));
        match blocking(&self.registry.store, move |s| s.compact(&id, &snapshot)).await {
            Ok(()) => {
                self.dirty = false;
                self.log = LogGrowth {
                    snapshot_bytes,
                    ..LogGrowth::default()
                };
            }
            Err(error) => crate::log_limit::storage_failed(
                "could not compact incident",
                &self.incident,
                &error,
            ),
        }
    }

    /// The whole document as one update. A big one is encoded on a blocking thread while the
    /// room waits, so the rooms' thread goes on serving the other incidents.
    async fn encode_snapshot(&self) -> Option<Vec<u8>> {
        let room = self.room.as_ref()?;
        if self.log.snapshot_bytes + self.log.bytes < HEAVY_FRAME_BYTES {
            return Some(room.snapshot());
        }
        let doc = room.doc();
        tokio::task::spawn_blocking(move || room::snapshot_of(&doc))
            .await
            .ok()
    }

    /// With peers connected: once the log has grown enough, starts writing a snapshot of the
    /// document now, covering the log up to now; the room goes on meanwhile.
    async fn compact_if_grown(&mut self) {
        let rows_due = self.log.rows >= self.registry.compact_after_updates();
        let bytes_due = self.log.bytes >= self.log.snapshot_bytes.max(MIN_COMPACT_BYTES);
        if !(rows_due || bytes_due) {
            return;
        }
        if let Some(running) = self.compacting.take() {
            if !running.is_finished() {
                self.compacting = Some(running);
                return;
            }
            self.compacted(running.now_or_never());
        }
        // Read while this room waits, and only it appends: every row before `end` is in the
        // snapshot, every row appended after it stays in the log.
        let id = self.incident.clone();
        let end = match blocking(&self.registry.store, move |s| s.log_end(&id)).await {
            Ok(end) => end,
            Err(error) => {
                tracing::error!(incident = %self.incident, %error, "could not read the log's end");
                return;
            }
        };
        let Some(snapshot) = self.encode_snapshot().await else {
            return;
        };
        self.log = LogGrowth {
            snapshot_bytes: snapshot.len(),
            ..LogGrowth::default()
        };
        let store = Arc::clone(&self.registry.store);
        let id = self.incident.clone();
        let heavy = (snapshot.len() >= HEAVY_FRAME_BYTES).then(|| HeavyWrite::new(&self.registry));
        self.compacting = Some(tokio::task::spawn_blocking(move || {
            let _heavy = heavy;
            store.compact_through(&id, &snapshot, end)
        }));
    }

    /// Waits for a compaction started with peers connected, if one is being written.
    async fn finish_compacting(&mut self) {
        if let Some(running) = self.compacting.take() {
            let done = running.await;
            self.compacted(Some(done));
        }
    }

    fn compacted(&self, done: Option<Result<Result<(), Error>, tokio::task::JoinError>>) {
        match done {
            Some(Ok(Ok(()))) | None => {}
            Some(Ok(Err(error))) => {
                tracing::error!(incident = %self.incident, %error, "could not compact incident")
            }
            Some(Err(error)) => {
                tracing::error!(incident = %self.incident, %error, "compaction task failed")
            }
        }
    }

    /// Compacts the incident and unloads the room unless a peer is on its way.
    /// Returns whether the actor should stop.
    async fn unload(&mut self) -> bool {
        self.compact().await;
        let stop =
            self.registry
                .try_unregister(&self.incident, self.generation, self.joins_handled);
        if stop {
            tracing::debug!(incident = %self.incident, "room unloaded");
        }
        stop
    }

    /// Stops the room after a failure: every peer is closed with `error`, and the next
    /// connection reloads the incident from storage.
    async fn stop(&mut self, mailbox: &mut mpsc::Receiver<Command>, error: &Error) {
        // The next room for this incident must not see this one's snapshot land after its own.
        self.finish_compacting().await;
        for conn in self.peers.values() {
            conn.close.close_with(error);
        }
        self.peers.clear();
        self.registry.unregister(&self.incident, self.generation);
        refuse_remaining(mailbox, error.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;
    use std::sync::Mutex;
    use std::time::Duration;

    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::Doc;

    use super::super::tests::{edit, incident, next_update, peer, wait_closed, WAIT};
    use super::super::Registry;
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_peer_whose_queue_is_full_is_closed_with_1013_and_the_others_go_on() {
        let registry = Registry::new(Arc::new(MemoryStore::new())).unwrap();
        let inc = incident("lagging");
        let (slow, _never_read, slow_close) = peer(2);
        let (fast, mut fast_rx, fast_close) = peer(64);
        let (writer, _writer_rx, _) = peer(64);
        let _slow = registry.join(&inc, slow).await.unwrap();
        let _fast = registry.join(&inc, fast).await.unwrap();
        let writer = registry.join(&inc, writer).await.unwrap();

        let doc = Doc::new();
        for i in 0..5 {
            writer
                .send_frame(edit(&doc, &format!("{i}")))
                .await
                .unwrap();
        }
        let reason = wait_closed(&slow_close).await;
        assert_eq!(reason.code, 1013);
        assert_eq!(reason.reason, "lagging; reconnect to resync");
        for _ in 0..5 {
            next_update(&mut fast_rx).await;
        }
        assert!(!fast_close.is_closed());
    }

    /// Lets a test hold `append` until it says so.
    struct GateStore {
        inner: MemoryStore,
        entered: Mutex<std_mpsc::Sender<()>>,
        release: Mutex<std_mpsc::Receiver<()>>,
    }

    impl Store for GateStore {
        fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
            self.inner.load(incident)
        }
        fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error> {
            self.entered.lock().unwrap().send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
            self.inner.append(incident, updates)
        }
        fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error> {
            self.inner.compact(incident, snapshot)
        }
        fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
            self.inner.log_end(incident)
        }
        fn compact_through(
            &self,
            incident: &IncidentId,
            snapshot: &[u8],
            end: u64,
        ) -> Result<(), Error> {
            self.inner.compact_through(incident, snapshot, end)
        }
    }

    #[tokio::test]
    async fn nothing_is_broadcast_before_the_update_is_stored() {
        let (entered_tx, entered) = std_mpsc::channel();
        let (release, release_rx) = std_mpsc::channel();
        let store = Arc::new(GateStore {
            inner: MemoryStore::new(),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        });
        let registry = Registry::new(store.clone()).unwrap();
        let inc = incident("gate");
        let (reader, mut reader_rx, _) = peer(64);
        let (writer, _writer_rx, _) = peer(64);
        let _reader = registry.join(&inc, reader).await.unwrap();
        let writer = registry.join(&inc, writer).await.unwrap();

        let doc = Doc::new();
        writer.send_frame(edit(&doc, "ioc")).await.unwrap();
        tokio::task::spawn_blocking(move || entered.recv_timeout(WAIT))
            .await
            .unwrap()
            .expect("append started");
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(frame) = reader_rx.try_recv() {
            assert!(
                !matches!(
                    Message::decode_v1(&frame),
                    Ok(Message::Sync(SyncMessage::Update(_)))
                ),
                "update broadcast before it was stored"
            );
        }
        assert!(store.inner.load(&inc).unwrap().updates.is_empty());
        release.send(()).unwrap();
        let update = next_update(&mut reader_rx).await;
        assert_eq!(store.inner.load(&inc).unwrap().updates, vec![update]);
    }

    struct FailingStore;

    impl Store for FailingStore {
        fn load(&self, _: &IncidentId) -> Result<StoredIncident, Error> {
            Ok(StoredIncident::default())
        }
        fn append(&self, _: &IncidentId, _: &[Vec<u8>]) -> Result<(), Error> {
            Err(Error::Storage("disk full".into()))
        }
        fn compact(&self, _: &IncidentId, _: &[u8]) -> Result<(), Error> {
            Err(Error::Storage("disk full".into()))
        }
        fn log_end(&self, _: &IncidentId) -> Result<u64, Error> {
            Ok(0)
        }
        fn compact_through(&self, _: &IncidentId, _: &[u8], _: u64) -> Result<(), Error> {
            Err(Error::Storage("disk full".into()))
        }
    }

    #[tokio::test]
    async fn a_failed_write_closes_the_room_with_1011_and_broadcasts_nothing() {
        let registry = Registry::new(Arc::new(FailingStore)).unwrap();
        let inc = incident("disk-full");
        let (reader, mut reader_rx, reader_close) = peer(64);
        let (writer, _writer_rx, writer_close) = peer(64);
        let _reader = registry.join(&inc, reader).await.unwrap();
        let writer = registry.join(&inc, writer).await.unwrap();
        writer.send_frame(edit(&Doc::new(), "lost?")).await.unwrap();

        for close in [&reader_close, &writer_close] {
            let reason = wait_closed(close).await;
            assert_eq!(reason.code, 1011);
            assert_eq!(reason.reason, "could not store update; reconnect to resync");
        }
        while let Ok(frame) = reader_rx.try_recv() {
            assert!(!matches!(
                Message::decode_v1(&frame),
                Ok(Message::Sync(SyncMessage::Update(_)))
            ));
        }
        assert!(registry.wait_until_empty(WAIT).await, "room dropped");
    }

    #[tokio::test]
    async fn the_room_unloads_after_the_last_peer_and_compacts() {
        let store = Arc::new(MemoryStore::new());
        let registry = Registry::new(store.clone()).unwrap();
        let inc = incident("unload");
        let (writer, _rx, _) = peer(64);
        let writer = registry.join(&inc, writer).await.unwrap();
        writer.send_frame(edit(&Doc::new(), "x")).await.unwrap();
        writer.leave().await;
        assert!(registry.wait_until_empty(WAIT).await);
        let stored = store.load(&inc).unwrap();
        assert!(stored.updates.is_empty());
        let snapshot = stored.snapshot.expect("compacted");
        let room = Room::load(Some(&snapshot), []).unwrap();
        assert_eq!(room.snapshot(), snapshot);
        yrs::Update::decode_v1(&snapshot).unwrap();
    }
}
