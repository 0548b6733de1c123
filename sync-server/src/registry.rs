//! The registry of open rooms: which incidents have a room, starting one (its actor, see
//! [`actor`]) on the first join, forgetting it when it stops, and the limit on documents held
//! in memory.
//!
//! yrs's `Awareness` is not `Send`, so room actors are tasks of a `LocalSet` on a "room
//! worker": a single-threaded runtime; an incident always goes to the same worker. The relay
//! binary runs one worker on its only thread ([`Registry::on_this_thread`]), so sockets and
//! rooms share that thread and no message crosses threads on its way through: under load the
//! relay's CPU went mostly to waking threads, and this is what cut it (the runs before and
//! after are in `docs/benchmarks.md`). Heavy work is the exception: a big frame is decoded
//! and applied, and big appends and snapshots are written, on blocking threads while its
//! room waits (see [`actor`]), so one incident's large paste does not hold up the others.
//! [`Registry::new`] starts worker threads of their own instead, for use inside any runtime.
//!
//! At most `max_in_memory` documents are held at once. Loading one more asks the least
//! recently active other room to sleep: it compacts its document and drops it from memory
//! but keeps its peers and their presence ([`Dormant`](crate::room::Dormant)); the next
//! message for it loads the document again before it is handled. Nobody is refused or
//! disconnected, and nothing is lost: messages wait in the room's mailbox, in order, while it
//! sleeps or wakes.

mod actor;

use std::collections::hash_map::{DefaultHasher, Entry as MapEntry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::cluster::{Cluster, Remote};
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::peer::PeerConn;
use crate::room::PeerId;
use crate::store::Store;
use actor::{Command, SpawnRoom};

/// How many commands may wait in a room's mailbox; senders wait when it is full, which slows
/// a flooding client down instead of growing memory.
pub const ROOM_MAILBOX: usize = 1024;

/// Documents held in memory at once unless configured otherwise.
pub const DEFAULT_MAX_IN_MEMORY: usize = 1000;

/// Log rows after which a room with peers compacts, unless configured otherwise.
pub const DEFAULT_COMPACT_AFTER_UPDATES: usize = 1000;

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
    /// Log rows after which a room with peers compacts.
    compact_after_updates: AtomicUsize,
    /// Big writes to the store (appends and snapshots of [`crate::room::HEAVY_FRAME_BYTES`]
    /// or more) in progress on blocking threads.
    heavy_writes: AtomicUsize,
    /// The other relays (`--redis-url`), once wired in.
    cluster: OnceLock<Cluster>,
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
    /// A message from another relay could not be queued (the mailbox was full): the room
    /// catches up from storage after its current batch.
    behind: AtomicBool,
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
                compact_after_updates: AtomicUsize::new(DEFAULT_COMPACT_AFTER_UPDATES),
                heavy_writes: AtomicUsize::new(0),
                cluster: OnceLock::new(),
            }),
        }
    }

    /// The store rooms load from and write to (for readers of whole documents, such as
    /// exports: everything acknowledged to a client is in it).
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
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

    /// Makes a room with peers compact once its log has grown by `rows` updates (at least 1)
    /// since its last compaction; see [`actor`].
    pub fn set_compact_after_updates(&self, rows: usize) {
        self.inner
            .compact_after_updates
            .store(rows.max(1), Ordering::Relaxed);
    }

    /// Wires in the other relays (once, at start): rooms subscribe to their incident's
    /// channel, publish what they store, and take what the others stored.
    pub fn set_cluster(&self, cluster: Cluster) {
        let _ = self.inner.cluster.set(cluster);
    }

    /// The other relays, if `--redis-url` is set.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.inner.cluster.get()
    }

    /// Hands a message of another relay to `incident`'s room, if it is open here. Never
    /// waits: a full mailbox makes the room catch up from storage instead.
    pub fn remote(&self, incident: &IncidentId, message: Remote) {
        let rooms = self.inner.rooms();
        if let Some(entry) = rooms.get(incident) {
            if entry.mailbox.try_send(Command::Remote(message)).is_err() {
                entry.status.behind.store(true, Ordering::Release);
            }
        }
    }

    /// Makes `incident`'s room, if open here, catch up from storage.
    pub fn catch_up(&self, incident: &IncidentId) {
        let rooms = self.inner.rooms();
        if let Some(entry) = rooms.get(incident) {
            if entry.mailbox.try_send(Command::CatchUp).is_err() {
                entry.status.behind.store(true, Ordering::Release);
            }
        }
    }

    /// Makes every open room catch up from storage (Redis is back).
    pub fn catch_up_all(&self) {
        for entry in self.inner.rooms().values() {
            if entry.mailbox.try_send(Command::CatchUp).is_err() {
                entry.status.behind.store(true, Ordering::Release);
            }
        }
    }

    /// Relay `node` is gone: every room drops the presence its peers announced.
    pub fn node_gone(&self, node: &str) {
        let mailboxes: Vec<mpsc::Sender<Command>> = self
            .inner
            .rooms()
            .values()
            .map(|e| e.mailbox.clone())
            .collect();
        for mailbox in mailboxes {
            let command = Command::NodeGone(node.to_owned());
            if let Err(mpsc::error::TrySendError::Full(command)) = mailbox.try_send(command) {
                tokio::spawn(async move {
                    let _ = mailbox.send(command).await;
                });
            }
        }
    }

    /// Number of rooms open (with peers, or on their way out), asleep or not.
    pub fn open_rooms(&self) -> usize {
        self.inner.rooms().len()
    }

    /// Number of documents in memory.
    pub fn rooms_in_memory(&self) -> usize {
        self.inner.in_memory.load(Ordering::Relaxed)
    }

    /// Waits until `incident`'s room has stopped (its peers gone, its last write done), or
    /// `limit` has passed. Returns whether it is gone. Deleting an incident closes its
    /// connections, then waits here before its rows leave the store.
    pub async fn wait_room_gone(&self, incident: &IncidentId, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.inner.rooms().contains_key(incident) {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
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
    /// Whether a big write holds the store: a room worker's own append would wait for it
    /// (the SQLite store has one connection), so rooms append on blocking threads meanwhile.
    fn heavy_writing(&self) -> bool {
        self.heavy_writes.load(Ordering::Acquire) > 0
    }

    fn cluster(&self) -> Option<&Cluster> {
        self.cluster.get()
    }

    fn compact_after_updates(&self) -> usize {
        self.compact_after_updates.load(Ordering::Relaxed)
    }

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
        tokio::task::spawn_local(actor::run_room(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::{CloseReason, CloseSignal};
    use crate::store::MemoryStore;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, Text, Transact};

    pub(super) const WAIT: Duration = Duration::from_secs(5);

    pub(super) fn incident(raw: &str) -> IncidentId {
        IncidentId::parse(raw).unwrap()
    }

    pub(super) fn peer(capacity: usize) -> (PeerConn, mpsc::Receiver<Bytes>, Arc<CloseSignal>) {
        let (frames, rx) = mpsc::channel(capacity);
        let close = Arc::new(CloseSignal::new());
        let conn = PeerConn {
            frames,
            meter: Arc::new(crate::peer::QueueMeter::new(usize::MAX / 2)),
            close: Arc::clone(&close),
            access: crate::room::Access::ReadWrite,
            invite: None,
        };
        (conn, rx, close)
    }

    pub(super) fn edit(doc: &Doc, text: &str) -> Bytes {
        let summary = doc.get_or_insert_text("summary");
        let mut txn = doc.transact_mut();
        summary.push(&mut txn, text);
        Message::Sync(SyncMessage::Update(txn.encode_update_v1()))
            .encode_v1()
            .into()
    }

    pub(super) async fn next_update(rx: &mut mpsc::Receiver<Bytes>) -> Vec<u8> {
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

    pub(super) async fn wait_closed(close: &CloseSignal) -> CloseReason {
        tokio::time::timeout(WAIT, close.closed())
            .await
            .expect("closed in time");
        close.reason().expect("closed with a reason")
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
