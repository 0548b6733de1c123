//! The registry of open rooms: one actor task per incident that has peers.
//!
//! A room actor owns its [`Room`] and handles its mailbox in batches: it runs every queued
//! command through the room, stores all updates of the batch in one transaction, and only
//! after that commit hands the batch's frames to the peers' queues. Commands from one
//! connection are handled in the order they were sent, so a SyncStep2 reply to a connection's
//! SyncStep1 is sent only after every earlier update of that connection is committed.
//!
//! yrs's `Awareness` is not `Send`, so room actors are tasks of a `LocalSet` on a "room
//! worker": a single-threaded runtime; an incident always goes to the same worker. The relay
//! binary runs one worker on its only thread ([`Registry::on_this_thread`]), so sockets and
//! rooms share that thread and no message crosses threads on its way through: the load was
//! dominated by waking threads (50 rooms × 10 clients: 15.1 → 9.6 µs of relay CPU per
//! delivery, against a multi-threaded runtime plus two worker threads). [`Registry::new`]
//! starts worker threads of their own instead, for use inside any runtime.
//!
//! Appending a batch of updates (one short SQLite transaction, WAL without fsync) runs on the
//! worker itself: handing it to a blocking thread and back cost more than it took (13.7 →
//! 12.4 µs per delivery). Loading and compacting, which can take long, run on blocking
//! threads.
//!
//! When the last peer leaves, the actor compacts the incident (the whole document as one
//! snapshot, the log emptied) and drops the room, unless a new peer is already on its way.
//!
//! At most `max_in_memory` documents are held at once. Loading one more asks the least
//! recently active other room to sleep: it compacts its document and drops it from memory
//! but keeps its peers and their presence ([`Dormant`]); the next message for it loads the
//! document again before it is handled. Nobody is refused or disconnected, and nothing is
//! lost: messages wait in the room's mailbox, in order, while it sleeps or wakes.

use std::collections::hash_map::{DefaultHasher, Entry as MapEntry};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::metrics::METRICS;
use crate::peer::{CloseReason, Offer, PeerConn};
use crate::room::{Dormant, PeerId, Room};
use crate::store::{Store, StoredIncident};

/// How many commands may wait in a room's mailbox; senders wait when it is full, which slows
/// a flooding client down instead of growing memory.
pub const ROOM_MAILBOX: usize = 1024;

/// Most commands handled (and updates stored) in one batch.
const MAX_BATCH: usize = 256;

/// Documents held in memory at once unless configured otherwise.
pub const DEFAULT_MAX_IN_MEMORY: usize = 1000;

enum Command {
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
}

/// Shared handle to every open room. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    rooms: Mutex<HashMap<IncidentId, Entry>>,
    store: Arc<dyn Store>,
    workers: Vec<mpsc::UnboundedSender<SpawnRoom>>,
    next_peer: AtomicU64,
    next_generation: AtomicU64,
    /// Most documents in memory at once.
    max_in_memory: usize,
    /// Documents in memory now.
    in_memory: AtomicUsize,
    /// Counts handled batches: a room's last one orders rooms by recent activity.
    tick: AtomicU64,
}

struct Entry {
    mailbox: mpsc::Sender<Command>,
    generation: u64,
    /// Joins announced for this room; the actor may only unload once it has handled them all.
    announced_joins: u64,
    status: Arc<RoomStatus>,
}

/// What the registry knows of a room's document without asking its actor.
#[derive(Default)]
struct RoomStatus {
    in_memory: AtomicBool,
    /// Asked to sleep and not yet done with it.
    asked_to_sleep: AtomicBool,
    /// The registry's tick at the room's last handled batch.
    last_active: AtomicU64,
}

struct SpawnRoom {
    incident: IncidentId,
    generation: u64,
    mailbox: mpsc::Receiver<Command>,
    registry: Arc<Inner>,
    status: Arc<RoomStatus>,
}

/// A connection's membership in a room.
pub struct RoomLink {
    mailbox: mpsc::Sender<Command>,
    peer: PeerId,
}

impl RoomLink {
    pub fn peer(&self) -> PeerId {
        self.peer
    }

    /// Queues one websocket frame for the room, waiting if its mailbox is full.
    pub async fn send_frame(&self, bytes: Bytes) -> Result<(), Error> {
        self.mailbox
            .send(Command::Frame {
                peer: self.peer,
                bytes,
            })
            .await
            .map_err(|_| Error::RoomGone)
    }

    /// Leaves the room (its awareness states are removed for everyone).
    pub async fn leave(self) {
        if self
            .mailbox
            .send(Command::Leave { peer: self.peer })
            .await
            .is_err()
        {
            tracing::debug!(peer = self.peer, "room already closed when leaving");
        }
    }
}

impl Registry {
    /// Starts the room worker threads, holding at most [`DEFAULT_MAX_IN_MEMORY`] documents.
    pub fn new(store: Arc<dyn Store>) -> Result<Self, Error> {
        Self::with_limit(store, DEFAULT_MAX_IN_MEMORY)
    }

    /// Starts the room worker threads, holding at most `max_in_memory` documents (at least 1).
    pub fn with_limit(store: Arc<dyn Store>, max_in_memory: usize) -> Result<Self, Error> {
        let count = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let mut workers = Vec::with_capacity(count);
        for index in 0..count {
            let (tx, rx) = mpsc::unbounded_channel();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::io("could not start a room worker", e))?;
            std::thread::Builder::new()
                .name(format!("room-worker-{index}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&runtime, run_worker(rx));
                })
                .map_err(|e| Error::io("could not start a room worker thread", e))?;
            workers.push(tx);
        }
        Ok(Self::from_workers(store, max_in_memory, workers))
    }

    /// A registry whose rooms run on the calling thread: the returned future runs them and
    /// must be spawned with `tokio::task::spawn_local` inside a `LocalSet` (on a
    /// single-threaded runtime, connections, rooms and sockets then share one thread and no
    /// message crosses threads on its way through the relay).
    pub fn on_this_thread(
        store: Arc<dyn Store>,
        max_in_memory: usize,
    ) -> (Self, impl std::future::Future<Output = ()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self::from_workers(store, max_in_memory, vec![tx]),
            run_worker(rx),
        )
    }

    fn from_workers(
        store: Arc<dyn Store>,
        max_in_memory: usize,
        workers: Vec<mpsc::UnboundedSender<SpawnRoom>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                store,
                workers,
                next_peer: AtomicU64::new(1),
                next_generation: AtomicU64::new(1),
                max_in_memory: max_in_memory.max(1),
                in_memory: AtomicUsize::new(0),
                tick: AtomicU64::new(0),
            }),
        }
    }

    /// Joins `incident`'s room (loading it if needed). The room sends its greeting frames to
    /// `conn.frames` and closes the connection through `conn.close` when it must.
    pub async fn join(&self, incident: &IncidentId, conn: PeerConn) -> Result<RoomLink, Error> {
        let peer = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        let (mailbox, generation) = {
            let mut rooms = self.inner.rooms();
            let entry = match rooms.entry(incident.clone()) {
                MapEntry::Occupied(entry) => entry.into_mut(),
                MapEntry::Vacant(vacant) => {
                    let (tx, rx) = mpsc::channel(ROOM_MAILBOX);
                    let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
                    let status = Arc::new(RoomStatus::default());
                    self.inner.spawn_room(SpawnRoom {
                        incident: incident.clone(),
                        generation,
                        mailbox: rx,
                        registry: Arc::clone(&self.inner),
                        status: Arc::clone(&status),
                    })?;
                    vacant.insert(Entry {
                        mailbox: tx,
                        generation,
                        announced_joins: 0,
                        status,
                    })
                }
            };
            entry.announced_joins += 1;
            (entry.mailbox.clone(), entry.generation)
        };
        if mailbox.send(Command::Join { peer, conn }).await.is_err() {
            self.inner.unregister(incident, generation);
            return Err(Error::RoomGone);
        }
        Ok(RoomLink { mailbox, peer })
    }

    /// Number of rooms open (with peers, or on their way out), asleep or not.
    pub fn open_rooms(&self) -> usize {
        self.inner.rooms().len()
    }

    /// Number of documents in memory.
    pub fn rooms_in_memory(&self) -> usize {
        self.inner.in_memory.load(Ordering::Relaxed)
    }

    /// Waits until every room has been compacted and unloaded, or `limit` has passed.
    /// Returns whether all rooms are gone.
    pub async fn wait_until_empty(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.open_rooms() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Inner {
    fn rooms(&self) -> MutexGuard<'_, HashMap<IncidentId, Entry>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn_room(&self, job: SpawnRoom) -> Result<(), Error> {
        let mut hasher = DefaultHasher::new();
        job.incident.hash(&mut hasher);
        let index = (hasher.finish() % self.workers.len() as u64) as usize;
        self.workers[index]
            .send(job)
            .map_err(|_| Error::Storage("room worker thread is gone".into()))
    }

    /// Forgets the room unconditionally (after a failure).
    fn unregister(&self, incident: &IncidentId, generation: u64) {
        let mut rooms = self.rooms();
        if rooms
            .get(incident)
            .is_some_and(|e| e.generation == generation)
        {
            rooms.remove(incident);
        }
    }

    /// A room's document is in memory (loaded or woken): if that is one too many, the least
    /// recently active other room is asked to sleep.
    fn loaded(&self, incident: &IncidentId, status: &RoomStatus) {
        if status.in_memory.swap(true, Ordering::AcqRel) {
            return;
        }
        let count = self.in_memory.fetch_add(1, Ordering::AcqRel) + 1;
        if count <= self.max_in_memory {
            return;
        }
        let rooms = self.rooms();
        let mut candidates: Vec<&Entry> = rooms
            .iter()
            .filter(|(id, e)| {
                *id != incident
                    && e.status.in_memory.load(Ordering::Acquire)
                    && !e.status.asked_to_sleep.load(Ordering::Acquire)
            })
            .map(|(_, e)| e)
            .collect();
        candidates.sort_by_key(|e| e.status.last_active.load(Ordering::Relaxed));
        let mut excess = count - self.max_in_memory;
        for entry in candidates {
            if excess == 0 {
                break;
            }
            entry.status.asked_to_sleep.store(true, Ordering::Release);
            // A room whose mailbox is full is busy, not idle: try the next one.
            if entry.mailbox.try_send(Command::Sleep).is_ok() {
                excess -= 1;
            } else {
                entry.status.asked_to_sleep.store(false, Ordering::Release);
            }
        }
    }

    /// A room's document left memory (asleep, unloaded or dropped after a failure).
    fn released(&self, status: &RoomStatus) {
        status.asked_to_sleep.store(false, Ordering::Release);
        if status.in_memory.swap(false, Ordering::AcqRel) {
            self.in_memory.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Forgets the room if no join is on its way. Returns whether the actor may stop.
    fn try_unregister(&self, incident: &IncidentId, generation: u64, joins_handled: u64) -> bool {
        let mut rooms = self.rooms();
        match rooms.get(incident) {
            Some(entry) if entry.generation == generation => {
                if entry.announced_joins == joins_handled {
                    rooms.remove(incident);
                    true
                } else {
                    false
                }
            }
            _ => true,
        }
    }
}

/// Starts each room it is handed as a task of the current `LocalSet`.
async fn run_worker(mut jobs: mpsc::UnboundedReceiver<SpawnRoom>) {
    while let Some(job) = jobs.recv().await {
        tokio::task::spawn_local(run_room(job));
    }
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

async fn run_room(job: SpawnRoom) {
    let SpawnRoom {
        incident,
        generation,
        mut mailbox,
        registry,
        status,
    } = job;
    let loaded = {
        let id = incident.clone();
        blocking(&registry.store, move |store| store.load(&id)).await
    };
    let room = loaded.and_then(|stored: StoredIncident| {
        let has_log = !stored.updates.is_empty();
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
        joins_handled: 0,
        dirty: has_log,
        registry,
        status,
    };
    actor.run(mailbox).await;
    actor.registry.released(&actor.status);
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

enum Target {
    Peer(PeerId),
    Others(PeerId),
    All,
}

#[derive(Default)]
struct Batch {
    commands: usize,
    store: Vec<Vec<u8>>,
    deliveries: Vec<(Target, Bytes)>,
}

struct RoomActor {
    incident: IncidentId,
    generation: u64,
    /// The document, while in memory; otherwise `dormant` holds the peers' room state.
    room: Option<Room>,
    dormant: Option<Dormant>,
    peers: HashMap<PeerId, PeerConn>,
    joins_handled: u64,
    /// The store holds log rows that compaction would fold into the snapshot.
    dirty: bool,
    registry: Arc<Inner>,
    status: Arc<RoomStatus>,
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
                    self.handle(command, &mut batch);
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
                let started = std::time::Instant::now();
                // On this room worker's own thread: an append is one short SQLite
                // transaction (WAL, no fsync), cheaper than handing it to another thread
                // and back for every batch (see the module documentation).
                let stored = self.registry.store.append(&self.incident, &updates);
                if stored.is_ok() {
                    METRICS.stored(count, started.elapsed());
                }
                if let Err(error) = stored {
                    tracing::error!(incident = %self.incident, %error, count, "could not store updates; dropping the room");
                    self.stop(&mut mailbox, &Error::StoreFailed).await;
                    return;
                }
                self.dirty = true;
            }
            self.deliver(batch.deliveries);

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
            Command::Join { .. } | Command::Frame { .. } => true,
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
                let Some(room) = self.room.as_mut() else {
                    return;
                };
                if !self.peers.contains_key(&peer) || room.is_poisoned() {
                    return;
                }
                match room.receive(peer, &bytes) {
                    Ok(outcome) => {
                        batch.store.extend(outcome.store);
                        let reply = outcome.reply.into_iter();
                        batch
                            .deliveries
                            .extend(reply.map(|f| (Target::Peer(peer), f)));
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
            Command::Leave { peer } => {
                if self.peers.remove(&peer).is_some() {
                    if let Some(room) = self.room.as_mut() {
                        let removal = room.leave(peer);
                        batch
                            .deliveries
                            .extend(removal.into_iter().map(|f| (Target::All, f.into())));
                    }
                }
            }
            Command::Sleep => {}
        }
    }

    /// Closes `peer` with `error` and tells the others its presence is gone.
    fn drop_peer(
        &mut self,
        peer: PeerId,
        error: &Error,
        deliveries: &mut impl Extend<(Target, Bytes)>,
    ) {
        if let Some(conn) = self.peers.remove(&peer) {
            conn.close.close_with(error);
        }
        if let Some(room) = self.room.as_mut() {
            let removal = room.leave(peer);
            deliveries.extend(removal.into_iter().map(|f| (Target::All, f.into())));
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
        let Some(room) = self.room.as_ref().filter(|_| self.dirty) else {
            return;
        };
        let snapshot = room.snapshot();
        let id = self.incident.clone();
        match blocking(&self.registry.store, move |s| s.compact(&id, &snapshot)).await {
            Ok(()) => self.dirty = false,
            Err(error) => {
                tracing::error!(incident = %self.incident, %error, "could not compact incident")
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
    use super::*;
    use crate::peer::CloseSignal;
    use crate::store::MemoryStore;
    use std::sync::mpsc as std_mpsc;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, Text, Transact};

    const WAIT: Duration = Duration::from_secs(5);

    fn incident(raw: &str) -> IncidentId {
        IncidentId::parse(raw).unwrap()
    }

    fn peer(capacity: usize) -> (PeerConn, mpsc::Receiver<Bytes>, Arc<CloseSignal>) {
        let (frames, rx) = mpsc::channel(capacity);
        let close = Arc::new(CloseSignal::new());
        let conn = PeerConn {
            frames,
            close: Arc::clone(&close),
            access: crate::room::Access::ReadWrite,
        };
        (conn, rx, close)
    }

    fn edit(doc: &Doc, text: &str) -> Bytes {
        let summary = doc.get_or_insert_text("summary");
        let mut txn = doc.transact_mut();
        summary.push(&mut txn, text);
        Message::Sync(SyncMessage::Update(txn.encode_update_v1()))
            .encode_v1()
            .into()
    }

    async fn next_update(rx: &mut mpsc::Receiver<Bytes>) -> Vec<u8> {
        loop {
            let frame = tokio::time::timeout(WAIT, rx.recv())
                .await
                .expect("frame in time")
                .expect("queue open");
            if let Ok(Message::Sync(SyncMessage::Update(update))) = Message::decode_v1(&frame) {
                return update;
            }
        }
    }

    async fn wait_closed(close: &CloseSignal) -> CloseReason {
        tokio::time::timeout(WAIT, close.closed())
            .await
            .expect("closed in time");
        close.reason().expect("closed with a reason")
    }

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

    async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !check() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn summary_of(updates: &[Vec<u8>]) -> String {
        let doc = Doc::new();
        let summary = doc.get_or_insert_text("summary");
        let mut txn = doc.transact_mut();
        for update in updates {
            txn.apply_update(yrs::Update::decode_v1(update).unwrap())
                .unwrap();
        }
        summary.get_string(&txn)
    }

    #[tokio::test]
    async fn past_the_limit_the_idlest_room_sleeps_and_wakes_for_its_next_message_with_nothing_lost(
    ) {
        let store = Arc::new(MemoryStore::new());
        let registry = Registry::with_limit(store.clone(), 1).unwrap();
        let (first, second) = (incident("first"), incident("second"));
        let (a, mut a_rx, a_close) = peer(64);
        let (a2, mut a2_rx, a2_close) = peer(64);
        let a = registry.join(&first, a).await.unwrap();
        let _a2 = registry.join(&first, a2).await.unwrap();
        let doc_a = Doc::new();
        a.send_frame(edit(&doc_a, "first edit. ")).await.unwrap();
        let earlier = next_update(&mut a2_rx).await;
        assert_eq!(registry.rooms_in_memory(), 1);

        // A second incident opens: the first one's document leaves memory, its people stay.
        let (b, _b_rx, _) = peer(64);
        let b = registry.join(&second, b).await.unwrap();
        let doc_b = Doc::new();
        b.send_frame(edit(&doc_b, "other incident")).await.unwrap();
        wait_for("the first room to sleep", || {
            store.load(&first).unwrap().snapshot.is_some() && registry.rooms_in_memory() == 1
        })
        .await;
        assert_eq!(registry.open_rooms(), 2);
        assert!(!a_close.is_closed() && !a2_close.is_closed());

        // Its next message wakes it: delivered, stored, and the other incident sleeps.
        a.send_frame(edit(&doc_a, "second edit.")).await.unwrap();
        let update = next_update(&mut a2_rx).await;
        assert_eq!(summary_of(&[earlier, update]), "first edit. second edit.");
        wait_for("the second room to sleep", || {
            store.load(&second).unwrap().snapshot.is_some() && registry.rooms_in_memory() == 1
        })
        .await;
        let stored = store.load(&first).unwrap();
        let mut all = stored.snapshot.into_iter().collect::<Vec<_>>();
        all.extend(stored.updates);
        assert_eq!(summary_of(&all), "first edit. second edit.");
        while a_rx.try_recv().is_ok() {}
        assert!(!a_close.is_closed());
    }
}
