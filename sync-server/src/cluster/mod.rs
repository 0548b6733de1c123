//! Several relays on one PostgreSQL (`--redis-url`): Redis pub/sub carries what one relay
//! stored to the others that have the incident loaded, as a fast path only. PostgreSQL stays
//! the truth: a relay acknowledges and publishes an update only after storing it, applies
//! what it receives without storing it again, never publishes what it received, and catches
//! a room up from storage whenever it may have missed something (a gap in an origin's
//! numbering, a message too big or dropped, Redis lost and back).
//!
//! Channels: `firebreak:incident:{id}` per incident, subscribed while this relay has the
//! room loaded (so a relay only hears about the incidents it serves), and
//! `firebreak:control` for heartbeats and access changes (revocations, role changes,
//! deletions), which every relay follows.
//!
//! Two Redis connections per relay: one multiplexed for `PUBLISH`, one for subscriptions.
//! Either failing marks Redis down (`/healthz`, `firebreak_redis_up`); the relay keeps
//! serving its own connections and storing their writes, reconnects with backoff, then
//! subscribes again and catches every loaded room up from storage.

pub mod message;

use std::collections::HashMap;
use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{Relaxed, SeqCst},
};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::access::gate::Gate;
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::registry::Registry;
pub use message::{AccessEvent, Control, ControlEvent, Remote};

/// Messages waiting to be published; past it a message is dropped (the receivers see a gap
/// in the numbering and catch up from storage).
pub const OUTBOX_MESSAGES: usize = 4096;

/// Largest message published by default (`--redis-max-message-bytes`): a bigger batch is
/// announced without its bytes and the other relays read it from storage.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// How often a relay says it is alive on the control channel.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// A relay not heard from for this long is gone: its peers' presence is dropped everywhere.
pub const NODE_TTL: Duration = Duration::from_secs(5);

/// How long a room being loaded waits for its channel's subscription before it reads
/// storage anyway (and catches up once the subscription is confirmed).
pub const SUBSCRIBE_WAIT: Duration = Duration::from_secs(1);

/// Reconnection backoff: from the first delay, doubling up to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Most relays tracked as alive; heartbeats from further ids are ignored.
const MAX_NODES: usize = 1024;

/// Most messages one `PUBLISH` pipeline carries.
const PIPELINE: usize = 64;

const CONTROL_CHANNEL: &str = "firebreak:control";
const INCIDENT_PREFIX: &str = "firebreak:incident:";

fn channel_of(incident: &IncidentId) -> String {
    format!("{INCIDENT_PREFIX}{incident}")
}

/// A relay's id (`--node-id`): 1 to 64 of `A-Z a-z 0-9 - _ .`.
pub fn check_node_id(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "{raw:?} is not a node id: 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A random relay id, for when `--node-id` is not given.
pub fn random_node_id() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number (a room's publishing epoch).
pub fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

enum Outgoing {
    Incident(IncidentId, Vec<u8>),
    Control(Vec<u8>),
}

enum Subscription {
    Subscribe(IncidentId, oneshot::Sender<()>),
    Unsubscribe(IncidentId),
}

/// Shared handle to this relay's place in the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    /// `--node-id` (or a random one), as `/healthz` shows it.
    name: String,
    /// What this relay signs its messages with: the name and a random suffix of this
    /// process, so two relays given the same `--node-id` by mistake still hear each other
    /// (each drops what carries its own).
    node: String,
    /// The subscription connection is up.
    up: AtomicBool,
    /// The publishing connection is up.
    publishing: AtomicBool,
    /// Incidents a message of which was dropped while Redis was up (the queue was full):
    /// announced again as changed once there is room, so the others do not wait for the
    /// incident's next message to notice. At most one entry per loaded room.
    owed: Mutex<std::collections::HashSet<IncidentId>>,
    outbox: mpsc::Sender<Outgoing>,
    /// Carries at most one command per room load or unload.
    subscriptions: mpsc::UnboundedSender<Subscription>,
    /// Incidents whose channel this relay wants, with how many rooms want each (an old room
    /// may still be unloading while a new one loads).
    wanted: Mutex<HashMap<IncidentId, usize>>,
    nodes: Mutex<HashMap<String, Instant>>,
    max_message: usize,
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    catch_ups: AtomicU64,
    reconnects: AtomicU64,
}

/// What the tasks started by [`Cluster::start`] need.
struct Wiring {
    url: String,
    registry: Registry,
    gate: Gate,
}

impl Cluster {
    /// Checks the URL, starts the Redis tasks (they connect, and reconnect, on their own) and
    /// wires the cluster into the registry and the gate.
    pub fn start(
        url: &str,
        node: String,
        max_message: usize,
        registry: &Registry,
        gate: &Gate,
    ) -> Result<Cluster, Error> {
        redis::Client::open(url).map_err(|e| Error::BadRequest(format!("--redis-url: {e}")))?;
        let (outbox, outgoing) = mpsc::channel(OUTBOX_MESSAGES);
        let (subscriptions, commands) = mpsc::unbounded_channel();
        let cluster = Cluster {
            inner: Arc::new(Inner {
                node: format!("{node}/{:08x}", random_u64() as u32),
                name: node,
                up: AtomicBool::new(false),
                publishing: AtomicBool::new(false),
                owed: Mutex::new(std::collections::HashSet::new()),
                outbox,
                subscriptions,
                wanted: Mutex::new(HashMap::new()),
                nodes: Mutex::new(HashMap::new()),
                max_message: max_message.max(1),
                published: AtomicU64::new(0),
                received: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                catch_ups: AtomicU64::new(0),
                reconnects: AtomicU64::new(0),
            }),
        };
        let (access_tx, access_rx) = mpsc::channel(OUTBOX_MESSAGES);
        gate.announce_to(access_tx);
        registry.set_cluster(cluster.clone());
        let wiring = Arc::new(Wiring {
            url: url.to_owned(),
            registry: registry.clone(),
            gate: gate.clone(),
        });
        tokio::spawn(publish_loop(cluster.clone(), wiring.clone(), outgoing));
        tokio::spawn(subscribe_loop(cluster.clone(), wiring.clone(), commands));
        tokio::spawn(heartbeat_loop(cluster.clone(), wiring, access_rx));
        Ok(cluster)
    }

    pub fn node(&self) -> &str {
        &self.inner.node
    }

    pub fn is_up(&self) -> bool {
        self.inner.up.load(Relaxed) && self.inner.publishing.load(Relaxed)
    }

    /// Largest message this relay publishes or takes.
    pub fn max_message(&self) -> usize {
        self.inner.max_message
    }

    /// A room wants `incident`'s messages. The receiver resolves once the subscription is
    /// confirmed (at once if Redis is down: the room then catches up when it is back).
    pub fn watch(&self, incident: &IncidentId) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut wanted = self.inner.wanted();
            let count = wanted.entry(incident.clone()).or_default();
            *count += 1;
            *count == 1
        };
        // Subscribed or not, the room reads storage after this; while Redis is down it
        // catches up when Redis is back (every room does then).
        if first && self.inner.up.load(SeqCst) {
            let _ = self
                .inner
                .subscriptions
                .send(Subscription::Subscribe(incident.clone(), tx));
        } else {
            let _ = tx.send(());
        }
        rx
    }

    /// A room no longer wants `incident`'s messages (it unloaded).
    pub fn unwatch(&self, incident: &IncidentId) {
        let last = {
            let mut wanted = self.inner.wanted();
            match wanted.get_mut(incident) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    wanted.remove(incident);
                    true
                }
                None => false,
            }
        };
        if last {
            let _ = self
                .inner
                .subscriptions
                .send(Subscription::Unsubscribe(incident.clone()));
        }
    }

    /// Publishes a batch of stored updates of `incident`: the `counter`th of room `epoch`.
    /// A batch bigger than the largest message is announced without its bytes.
    pub fn publish_updates(
        &self,
        incident: &IncidentId,
        epoch: u64,
        counter: u64,
        updates: Vec<Vec<u8>>,
    ) {
        let node = self.inner.node.clone();
        let size: usize = updates.iter().map(|u| u.len() + 4).sum();
        let message = if size + 64 > self.inner.max_message {
            Remote::Changed {
                node,
                epoch,
                counter,
            }
        } else {
            Remote::Updates {
                node,
                epoch,
                counter,
                updates,
            }
        };
        self.send(Outgoing::Incident(incident.clone(), message.encode()));
    }

    /// Publishes an awareness frame of this relay's peers in `incident`.
    pub fn publish_presence(&self, incident: &IncidentId, frame: Vec<u8>) {
        if frame.len() + 64 > self.inner.max_message {
            self.inner.dropped.fetch_add(1, Relaxed);
            return;
        }
        let message = Remote::Presence {
            node: self.inner.node.clone(),
            frame,
        };
        self.send(Outgoing::Incident(incident.clone(), message.encode()));
    }

    /// Asks the other relays for their peers' presence in `incident`.
    pub fn query_presence(&self, incident: &IncidentId) {
        let message = Remote::PresenceQuery {
            node: self.inner.node.clone(),
        };
        if let Some(tx) = self.is_up().then_some(&self.inner.outbox) {
            if tx
                .try_send(Outgoing::Incident(incident.clone(), message.encode()))
                .is_err()
            {
                self.inner.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    fn send(&self, message: Outgoing) {
        let refused = if self.is_up() {
            self.inner
                .outbox
                .try_send(message)
                .err()
                .map(|e| e.into_inner())
        } else {
            Some(message)
        };
        if let Some(message) = refused {
            // Redis is down or behind: the others catch up from storage (when it is back,
            // or when this incident is announced again as changed).
            self.inner.dropped.fetch_add(1, Relaxed);
            if let Outgoing::Incident(incident, _) = message {
                self.inner.owed().insert(incident);
            }
        }
    }

    /// Announces again, as changed, the incidents a message of which was dropped.
    fn pay_owed(&self) {
        let owed: Vec<IncidentId> = self.inner.owed().drain().collect();
        for incident in owed {
            let message = Remote::Changed {
                node: self.inner.node.clone(),
                epoch: 0,
                counter: 0,
            };
            self.send(Outgoing::Incident(incident, message.encode()));
        }
    }

    fn publish_control(&self, event: ControlEvent) {
        let control = Control {
            node: self.inner.node.clone(),
            event,
        };
        if let Ok(json) = serde_json::to_vec(&control) {
            self.send(Outgoing::Control(json));
        }
    }

    /// A room caught up from storage (counted for `/metrics`).
    pub fn caught_up(&self) {
        self.inner.catch_ups.fetch_add(1, Relaxed);
    }

    /// Relays heard from within [`NODE_TTL`], this one excluded.
    pub fn live_nodes(&self) -> usize {
        self.inner.nodes().len()
    }

    /// The `/healthz` fields.
    pub fn health(&self) -> serde_json::Value {
        serde_json::json!({
            "node": self.inner.name,
            "redis": if self.is_up() { "up" } else { "down" },
            "other_nodes": self.live_nodes(),
        })
    }

    /// The `/metrics` lines.
    pub fn render(&self) -> String {
        let i = &self.inner;
        let mut out = String::new();
        let mut line = |name: &str, kind: &str, help: &str, value: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        line(
            "firebreak_redis_up",
            "gauge",
            "1 while both Redis connections are up.",
            u64::from(self.is_up()),
        );
        line(
            "firebreak_cluster_nodes",
            "gauge",
            "Other relays heard from within the node TTL.",
            self.live_nodes() as u64,
        );
        line(
            "firebreak_redis_published_total",
            "counter",
            "Messages published to Redis.",
            i.published.load(Relaxed),
        );
        line(
            "firebreak_redis_received_total",
            "counter",
            "Messages received from other relays through Redis.",
            i.received.load(Relaxed),
        );
        line(
            "firebreak_redis_dropped_total",
            "counter",
            "Messages not published or not taken (Redis down, queue full, too big, undecodable).",
            i.dropped.load(Relaxed),
        );
        line(
            "firebreak_redis_catch_ups_total",
            "counter",
            "Rooms caught up from storage after a possible gap.",
            i.catch_ups.load(Relaxed),
        );
        line(
            "firebreak_redis_reconnects_total",
            "counter",
            "Connections to Redis made again after one was lost.",
            i.reconnects.load(Relaxed),
        );
        out
    }

    fn heard_from(&self, node: &str) {
        if node == self.inner.node {
            return;
        }
        let mut nodes = self.inner.nodes();
        if nodes.len() < MAX_NODES || nodes.contains_key(node) {
            nodes.insert(node.to_owned(), Instant::now());
        }
    }
}

impl Inner {
    fn wanted(&self) -> MutexGuard<'_, HashMap<IncidentId, usize>> {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn owed(&self) -> MutexGuard<'_, std::collections::HashSet<IncidentId>> {
        self.owed.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn nodes(&self) -> MutexGuard<'_, HashMap<String, Instant>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Publishes what the outbox holds, a pipeline at a time, on one multiplexed connection.
async fn publish_loop(
    cluster: Cluster,
    wiring: Arc<Wiring>,
    mut outgoing: mpsc::Receiver<Outgoing>,
) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        let connection = match redis::Client::open(wiring.url.as_str()) {
            Ok(client) => client.get_multiplexed_async_connection().await,
            Err(e) => Err(e),
        };
        let mut connection = match connection {
            Ok(c) => {
                backoff = BACKOFF_FIRST;
                cluster.inner.publishing.store(true, Relaxed);
                c
            }
            Err(error) => {
                tracing::debug!(%error, "could not connect to Redis to publish");
                // Nothing can be published meanwhile: what waits is dropped (the others
                // catch up from storage when Redis is back).
                while outgoing.try_recv().is_ok() {
                    cluster.inner.dropped.fetch_add(1, Relaxed);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let mut batch = Vec::with_capacity(PIPELINE);
        loop {
            let Some(first) = outgoing.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < PIPELINE {
                match outgoing.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            let mut pipe = redis::pipe();
            for message in &batch {
                match message {
                    Outgoing::Incident(incident, bytes) => {
                        pipe.publish(channel_of(incident), bytes.as_slice())
                            .ignore();
                    }
                    Outgoing::Control(bytes) => {
                        pipe.publish(CONTROL_CHANNEL, bytes.as_slice()).ignore();
                    }
                }
            }
            let sent: redis::RedisResult<()> = pipe.query_async(&mut connection).await;
            let count = batch.len() as u64;
            batch.clear();
            match sent {
                Ok(()) => {
                    cluster.inner.published.fetch_add(count, Relaxed);
                }
                Err(error) => {
                    cluster.inner.dropped.fetch_add(count, Relaxed);
                    tracing::warn!(%error, "could not publish to Redis; reconnecting");
                    cluster.inner.publishing.store(false, Relaxed);
                    break;
                }
            }
        }
    }
}

/// Keeps the subscriptions: connects (again), subscribes to the control channel and every
/// wanted incident, catches every loaded room up, then hands each message on.
async fn subscribe_loop(
    cluster: Cluster,
    wiring: Arc<Wiring>,
    mut commands: mpsc::UnboundedReceiver<Subscription>,
) {
    let mut backoff = BACKOFF_FIRST;
    let mut first = true;
    loop {
        let pubsub = match redis::Client::open(wiring.url.as_str()) {
            Ok(client) => client.get_async_pubsub().await,
            Err(e) => Err(e),
        };
        let mut pubsub = match pubsub {
            Ok(p) => p,
            Err(error) => {
                if first {
                    tracing::warn!(%error, "could not connect to Redis; serving this relay's own connections until it is reachable");
                    first = false;
                }
                drain_commands(&mut commands);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if pubsub.subscribe(CONTROL_CHANNEL).await.is_err() {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        }
        // Up before the wanted incidents are read: a room that starts wanting one after
        // this read sees it up and asks for its subscription (handled below, in order).
        cluster.inner.up.store(true, SeqCst);
        let wanted: Vec<IncidentId> = cluster.inner.wanted().keys().cloned().collect();
        let mut failed = false;
        for incident in &wanted {
            if pubsub.subscribe(channel_of(incident)).await.is_err() {
                failed = true;
                break;
            }
        }
        if failed {
            cluster.inner.up.store(false, SeqCst);
            drain_commands(&mut commands);
            continue;
        }
        let (mut sink, mut stream) = pubsub.split();
        backoff = BACKOFF_FIRST;
        if !first {
            cluster.inner.reconnects.fetch_add(1, Relaxed);
        }
        first = false;
        tracing::info!(node = %cluster.node(), "connected to Redis");
        // Whatever was published while this relay was not subscribed is in storage.
        wiring.registry.catch_up_all();
        loop {
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else { break };
                    handle_message(&cluster, &wiring, &message);
                }
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    let ok = match command {
                        Subscription::Subscribe(incident, done) => {
                            let ok = sink.subscribe(channel_of(&incident)).await.is_ok();
                            if ok && done.send(()).is_err() {
                                // The room stopped waiting and read storage before this
                                // subscription: it may have missed something.
                                wiring.registry.catch_up(&incident);
                            }
                            ok
                        }
                        Subscription::Unsubscribe(incident) => {
                            let still = cluster.inner.wanted().contains_key(&incident);
                            still || sink.unsubscribe(channel_of(&incident)).await.is_ok()
                        }
                    };
                    if !ok {
                        break;
                    }
                }
            }
        }
        cluster.inner.up.store(false, SeqCst);
        drain_commands(&mut commands);
        tracing::warn!(
            "lost the Redis subscription; reconnecting (rooms catch up from storage once back)"
        );
    }
}

/// While not subscribed: subscription commands are moot (the next connection subscribes to
/// every wanted incident); waiting rooms are let go at once.
fn drain_commands(commands: &mut mpsc::UnboundedReceiver<Subscription>) {
    while let Ok(command) = commands.try_recv() {
        if let Subscription::Subscribe(_, done) = command {
            let _ = done.send(());
        }
    }
}

fn handle_message(cluster: &Cluster, wiring: &Wiring, message: &redis::Msg) {
    let channel = message.get_channel_name();
    let payload = message.get_payload_bytes();
    if channel == CONTROL_CHANNEL {
        let Ok(control) = serde_json::from_slice::<Control>(payload) else {
            cluster.inner.dropped.fetch_add(1, Relaxed);
            return;
        };
        if control.node == cluster.inner.node {
            return;
        }
        match control.event {
            ControlEvent::Heartbeat => cluster.heard_from(&control.node),
            ControlEvent::Leaving => {
                cluster.inner.nodes().remove(&control.node);
                wiring.registry.node_gone(&control.node);
            }
            ControlEvent::Access(event) => {
                cluster.heard_from(&control.node);
                cluster.inner.received.fetch_add(1, Relaxed);
                wiring.gate.apply_remote(&event);
            }
        }
        return;
    }
    let Some(incident) = channel
        .strip_prefix(INCIDENT_PREFIX)
        .and_then(|raw| IncidentId::parse(raw).ok())
    else {
        return;
    };
    if payload.len() > cluster.inner.max_message {
        // Not ours to take whole: storage has it.
        cluster.inner.dropped.fetch_add(1, Relaxed);
        wiring.registry.catch_up(&incident);
        return;
    }
    let Some(remote) = Remote::decode(payload) else {
        cluster.inner.dropped.fetch_add(1, Relaxed);
        wiring.registry.catch_up(&incident);
        return;
    };
    if remote.node() == cluster.inner.node {
        // Our own message, back from Redis: never applied or published again.
        return;
    }
    cluster.heard_from(remote.node());
    cluster.inner.received.fetch_add(1, Relaxed);
    wiring.registry.remote(&incident, remote);
}

/// Says this relay is alive every [`HEARTBEAT`], forgets relays silent for [`NODE_TTL`]
/// (dropping their presence everywhere), and publishes the gate's access changes.
async fn heartbeat_loop(
    cluster: Cluster,
    wiring: Arc<Wiring>,
    mut access: mpsc::Receiver<AccessEvent>,
) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                cluster.publish_control(ControlEvent::Heartbeat);
                cluster.pay_owed();
                let gone: Vec<String> = {
                    let mut nodes = cluster.inner.nodes();
                    let now = Instant::now();
                    let gone = nodes
                        .iter()
                        .filter(|(_, seen)| now.duration_since(**seen) > NODE_TTL)
                        .map(|(node, _)| node.clone())
                        .collect::<Vec<_>>();
                    for node in &gone {
                        nodes.remove(node);
                    }
                    gone
                };
                for node in gone {
                    tracing::info!(%node, "relay not heard from; dropping its presence");
                    wiring.registry.node_gone(&node);
                }
            }
            event = access.recv() => {
                let Some(event) = event else { return };
                cluster.publish_control(ControlEvent::Access(event));
            }
        }
    }
}

/// Tells the other relays this one is leaving (its presence goes at once, not after the
/// TTL). Best effort, at shutdown.
pub fn announce_leaving(cluster: &Cluster) {
    cluster.publish_control(ControlEvent::Leaving);
}
