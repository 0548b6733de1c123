//! The registry of open rooms: one actor task per incident that has peers.
//!
//! A room actor owns its [`Room`] and handles its mailbox in batches: it runs every queued
//! command through the room, stores all updates of the batch in one transaction, and only
//! after that commit hands the batch's frames to the peers' queues. Commands from one
//! connection are handled in the order they were sent, so a SyncStep2 reply to a connection's
//! SyncStep1 is sent only after every earlier update of that connection is committed.
//!
//! yrs's `Awareness` is not `Send`, so room actors live on a few "room worker" threads, each
//! a single-threaded runtime; an incident always goes to the same worker. Storage calls run
//! on blocking threads, never on a worker's event loop.
//!
//! When the last peer leaves, the actor compacts the incident (the whole document as one
//! snapshot, the log emptied) and drops the room, unless a new peer is already on its way.

use std::collections::hash_map::{DefaultHasher, Entry as MapEntry};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::metrics::METRICS;
use crate::peer::{CloseReason, Offer, PeerConn};
use crate::room::{PeerId, Room};
use crate::store::{Store, StoredIncident};

/// How many commands may wait in a room's mailbox; senders wait when it is full, which slows
/// a flooding client down instead of growing memory.
pub const ROOM_MAILBOX: usize = 1024;

/// Most commands handled (and updates stored) in one batch.
const MAX_BATCH: usize = 256;

enum Command {
    Join { peer: PeerId, conn: PeerConn },
    Frame { peer: PeerId, bytes: Bytes },
    Leave { peer: PeerId },
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
}

struct Entry {
    mailbox: mpsc::Sender<Command>,
    generation: u64,
    /// Joins announced for this room; the actor may only unload once it has handled them all.
    announced_joins: u64,
}

struct SpawnRoom {
    incident: IncidentId,
    generation: u64,
    mailbox: mpsc::Receiver<Command>,
    registry: Arc<Inner>,
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
    /// Starts the room worker threads.
    pub fn new(store: Arc<dyn Store>) -> Result<Self, Error> {
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
                .spawn(move || run_worker(runtime, rx))
                .map_err(|e| Error::io("could not start a room worker thread", e))?;
            workers.push(tx);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                store,
                workers,
                next_peer: AtomicU64::new(1),
                next_generation: AtomicU64::new(1),
            }),
        })
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
                    self.inner.spawn_room(SpawnRoom {
                        incident: incident.clone(),
                        generation,
                        mailbox: rx,
                        registry: Arc::clone(&self.inner),
                    })?;
                    vacant.insert(Entry {
                        mailbox: tx,
                        generation,
                        announced_joins: 0,
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

    /// Number of rooms in memory.
    pub fn open_rooms(&self) -> usize {
        self.inner.rooms().len()
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

fn run_worker(runtime: tokio::runtime::Runtime, mut jobs: mpsc::UnboundedReceiver<SpawnRoom>) {
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        while let Some(job) = jobs.recv().await {
            tokio::task::spawn_local(run_room(job));
        }
    });
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
    let mut actor = RoomActor {
        incident,
        generation,
        room,
        peers: HashMap::new(),
        joins_handled: 0,
        dirty: has_log,
        registry,
    };
    actor.run(mailbox).await;
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
    room: Room,
    peers: HashMap<PeerId, PeerConn>,
    joins_handled: u64,
    /// The store holds log rows that compaction would fold into the snapshot.
    dirty: bool,
    registry: Arc<Inner>,
}

impl RoomActor {
    async fn run(&mut self, mut mailbox: mpsc::Receiver<Command>) {
        while let Some(first) = mailbox.recv().await {
            let mut batch = Batch::default();
            self.handle(first, &mut batch);
            while batch.commands < MAX_BATCH {
                match mailbox.try_recv() {
                    Ok(command) => self.handle(command, &mut batch),
                    Err(_) => break,
                }
            }

            if !batch.store.is_empty() {
                let updates = std::mem::take(&mut batch.store);
                let count = updates.len();
                let id = self.incident.clone();
                let started = std::time::Instant::now();
                let stored = blocking(&self.registry.store, move |s| s.append(&id, &updates)).await;
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

            if self.room.is_poisoned() {
                tracing::error!(incident = %self.incident, "an update broke the room; reloading it from storage");
                self.stop(&mut mailbox, &Error::RoomReset).await;
                return;
            }
            if self.peers.is_empty() && self.unload().await {
                return;
            }
        }
    }

    fn handle(&mut self, command: Command, batch: &mut Batch) {
        batch.commands += 1;
        match command {
            Command::Join { peer, conn } => {
                self.joins_handled += 1;
                if self.room.is_poisoned() {
                    conn.close.close_with(&Error::RoomReset);
                    return;
                }
                let greeting = self.room.join_with(peer, conn.access);
                self.peers.insert(peer, conn);
                batch
                    .deliveries
                    .extend(greeting.into_iter().map(|f| (Target::Peer(peer), f.into())));
            }
            Command::Frame { peer, bytes } => {
                if !self.peers.contains_key(&peer) || self.room.is_poisoned() {
                    return;
                }
                match self.room.receive(peer, &bytes) {
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
                    let removal = self.room.leave(peer);
                    batch
                        .deliveries
                        .extend(removal.into_iter().map(|f| (Target::All, f.into())));
                }
            }
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
        let removal = self.room.leave(peer);
        deliveries.extend(removal.into_iter().map(|f| (Target::All, f.into())));
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

    /// Compacts the incident and unloads the room unless a peer is on its way.
    /// Returns whether the actor should stop.
    async fn unload(&mut self) -> bool {
        if self.dirty {
            let snapshot = self.room.snapshot();
            let id = self.incident.clone();
            match blocking(&self.registry.store, move |s| s.compact(&id, &snapshot)).await {
                Ok(()) => self.dirty = false,
                // The log is still complete, so nothing is lost; compaction is retried next time.
                Err(error) => {
                    tracing::error!(incident = %self.incident, %error, "could not compact incident")
                }
            }
        }
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
    use yrs::{Doc, Text, Transact};

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
}
