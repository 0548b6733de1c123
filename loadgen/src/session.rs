//! Many clients in many rooms, all in this process: they join, wait for a common start, send
//! small text edits at a set rate, and record for every edit of every other client in their
//! room when it arrived. One clock serves all of them.
//!
//! How an arrival is recognised without trusting the server to keep messages apart (Hocuspocus
//! merges the updates of one event-loop turn into one): every edit inserts exactly
//! [`EDIT_CHARS`] ASCII characters, so a sender's Yjs clock after its n-th edit is
//! `n * EDIT_CHARS`. After applying a frame, a receiver reads its document's state vector; a
//! sender's clock that moved from `a` to `b` means edits `a / EDIT_CHARS .. b / EDIT_CHARS`
//! arrived now. Their send times are in the sender's log, written just before the send.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use yrs::{ClientID, StateVector};

use crate::client::{JoinTiming, Peer, AWARENESS_RENEWAL};
use crate::target::{Room, Target};
use crate::wire::Framing;

/// Characters each edit inserts (seven digits of its sequence number and a space).
pub const EDIT_CHARS: u32 = 8;

/// Nanoseconds since the first call, plus one (0 means "not sent").
fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let base = *BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
}

/// One client's sent edits, readable by every other client of its room.
struct SenderLog {
    client_id: ClientID,
    /// Send time of edit n (from [`now_ns`]), 0 until sent.
    sent_at: Box<[AtomicU64]>,
    sent: AtomicU32,
}

struct RoomState {
    senders: Vec<SenderLog>,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    delivered: AtomicU64,
    last_delivery_ns: AtomicU64,
}

/// When and how fast to send.
#[derive(Clone, Copy, Debug)]
struct Plan {
    start: Instant,
    period: Duration,
    count: u32,
    /// Sending stops here even if the count was not reached (an overloaded generator).
    send_until: Instant,
}

/// What each client hands back at the end.
struct ClientResult {
    room: usize,
    index: usize,
    latencies_us: Vec<u32>,
    final_state: Option<(StateVector, String)>,
    error: Option<String>,
}

/// How the clients are laid out.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Clients in each room.
    pub rooms: Vec<usize>,
    /// Most edits any client will send (sizes the logs).
    pub max_edits: u32,
    /// Joins in flight at once.
    pub join_concurrency: usize,
    pub join_timeout: Duration,
    /// Announce presence on join, as providers do.
    pub awareness: bool,
}

/// All clients joined and waiting.
pub struct Session {
    rooms: Vec<Arc<RoomState>>,
    tasks: Vec<JoinHandle<ClientResult>>,
    start: watch::Sender<Option<Plan>>,
    stop: watch::Sender<bool>,
    counters: Arc<Counters>,
    pub joins: Vec<JoinTiming>,
    /// From the first connect to the last client synced.
    pub join_wall: Duration,
}

/// How the sending went.
#[derive(Debug)]
pub struct SendPhase {
    pub sent: u64,
    pub expected_deliveries: u64,
    /// Seen by the deadline (the final count, from the documents, is in [`Outcome`]).
    pub delivered: u64,
    /// From the start to the last delivery (or to the deadline, when incomplete).
    pub wall: Duration,
    pub complete: bool,
}

/// The end of a session: latencies, losses, convergence.
#[derive(Debug)]
pub struct Outcome {
    pub latencies_us: Vec<u32>,
    /// Deliveries found in the final documents.
    pub delivered: u64,
    pub lost: u64,
    pub rooms_diverged: usize,
    pub errors: Vec<String>,
}

impl Session {
    /// Creates the rooms, joins every client, and returns once all are synced.
    pub async fn connect(target: &Target, run_id: &str, layout: &Layout) -> Result<Session> {
        let total: usize = layout.rooms.iter().sum();
        let (start_tx, start_rx) = watch::channel(None);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, mut ready_rx) = mpsc::channel(total.max(1));
        let counters = Arc::new(Counters::default());
        let joins_allowed = Arc::new(Semaphore::new(layout.join_concurrency.max(1)));
        let mut rooms = Vec::new();
        let mut tasks = Vec::new();
        let mut next_id = 1000u64;
        let began = Instant::now();
        for (r, &clients) in layout.rooms.iter().enumerate() {
            let room = target.room(&format!("{run_id}-r{r}")).await?;
            let first_id = next_id;
            next_id += clients as u64;
            let state = Arc::new(RoomState {
                senders: (0..clients)
                    .map(|i| SenderLog {
                        client_id: ClientID::new(first_id + i as u64),
                        sent_at: (0..layout.max_edits).map(|_| AtomicU64::new(0)).collect(),
                        sent: AtomicU32::new(0),
                    })
                    .collect(),
            });
            rooms.push(Arc::clone(&state));
            for index in 0..clients {
                let client = Client {
                    room: r,
                    index,
                    global: tasks.len(),
                    total,
                    state: Arc::clone(&state),
                    counters: Arc::clone(&counters),
                    seen: vec![0; clients],
                    latencies_us: Vec::new(),
                    awareness: layout.awareness,
                };
                tasks.push(tokio::spawn(client.run(
                    room.for_client(tasks.len()),
                    target.framing,
                    layout.clone(),
                    Arc::clone(&joins_allowed),
                    ready_tx.clone(),
                    start_rx.clone(),
                    stop_rx.clone(),
                )));
            }
        }
        drop(ready_tx);
        let mut joins = Vec::with_capacity(total);
        let mut failures = Vec::new();
        while let Some(ready) = ready_rx.recv().await {
            match ready {
                Ok(timing) => joins.push(timing),
                Err(error) => failures.push(error),
            }
        }
        let join_wall = began.elapsed();
        let session = Session {
            rooms,
            tasks,
            start: start_tx,
            stop: stop_tx,
            counters,
            joins,
            join_wall,
        };
        if !failures.is_empty() {
            let first = failures[0].clone();
            let n = failures.len();
            session.finish().await;
            bail!("{n} of {total} clients could not join; first: {first}");
        }
        Ok(session)
    }

    pub fn clients(&self) -> usize {
        self.joins.len()
    }

    /// Every client sends `count` edits, `rate` a second, starting together (spread evenly
    /// over one period so they do not all fire at once). Returns when every edit reached every
    /// other client of its room, or `settle` after the sending should have ended.
    pub async fn send(&mut self, count: u32, rate: f64, settle: Duration) -> SendPhase {
        let period = Duration::from_secs_f64(1.0 / rate);
        let nominal = period.mul_f64(f64::from(count));
        let start = Instant::now() + Duration::from_millis(50);
        let plan = Plan {
            start,
            period,
            count,
            // Generous: a saturated generator sends late rather than not at all.
            send_until: start + nominal * 3 + period,
        };
        self.start.send_replace(Some(plan));
        let sent_target: u64 = self
            .rooms
            .iter()
            .map(|r| r.senders.len() as u64)
            .sum::<u64>()
            * u64::from(count);
        let expected: u64 = self
            .rooms
            .iter()
            .map(|r| {
                let n = r.senders.len() as u64;
                n * n.saturating_sub(1) * u64::from(count)
            })
            .sum();
        let deadline = plan.send_until + settle;
        let done = |c: &Counters| {
            c.sent.load(Ordering::Acquire) >= sent_target
                && c.delivered.load(Ordering::Acquire) >= expected
        };
        let mut complete = false;
        let mut all_sent_at = None;
        loop {
            if done(&self.counters) {
                complete = true;
                break;
            }
            // Everything sent and nothing arrived for `settle` since: stop waiting.
            if all_sent_at.is_none() && self.counters.sent.load(Ordering::Acquire) >= sent_target {
                all_sent_at = Some(now_ns());
            }
            let quiet_since = self
                .counters
                .last_delivery_ns
                .load(Ordering::Acquire)
                .max(all_sent_at.unwrap_or(u64::MAX));
            if Instant::now() >= deadline
                || (all_sent_at.is_some()
                    && now_ns().saturating_sub(quiet_since) > settle.as_nanos() as u64)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let wall = if complete {
            let last = self.counters.last_delivery_ns.load(Ordering::Acquire);
            let start_ns = now_ns().saturating_sub(start.elapsed().as_nanos() as u64);
            Duration::from_nanos(last.saturating_sub(start_ns))
        } else {
            start.elapsed()
        };
        SendPhase {
            sent: self.counters.sent.load(Ordering::Acquire),
            expected_deliveries: expected,
            delivered: self.counters.delivered.load(Ordering::Acquire),
            wall,
            complete,
        }
    }

    /// Stops every client, collects latencies and final documents, and checks that each
    /// room's clients hold the same document with every edit in it.
    pub async fn finish(self) -> Outcome {
        self.stop.send_replace(true);
        let mut results = Vec::with_capacity(self.tasks.len());
        let mut errors = Vec::new();
        for task in self.tasks {
            match task.await {
                Ok(result) => results.push(result),
                Err(error) => errors.push(format!("client task failed: {error}")),
            }
        }
        let mut latencies_us = Vec::new();
        let (mut delivered, mut lost, mut rooms_diverged) = (0u64, 0u64, 0usize);
        for (r, room) in self.rooms.iter().enumerate() {
            let members: Vec<&ClientResult> = results.iter().filter(|c| c.room == r).collect();
            let mut reference: Option<&(StateVector, String)> = None;
            let mut diverged = false;
            for client in &members {
                if let Some(error) = &client.error {
                    errors.push(format!("room {r} client {}: {error}", client.index));
                }
                let Some(state) = &client.final_state else {
                    diverged = true;
                    continue;
                };
                for (s, sender) in room.senders.iter().enumerate() {
                    if s == client.index {
                        continue;
                    }
                    let sent = sender.sent.load(Ordering::Acquire);
                    let got = (state.0.get(&sender.client_id) / EDIT_CHARS).min(sent);
                    delivered += u64::from(got);
                    lost += u64::from(sent - got);
                }
                match reference {
                    None => reference = Some(state),
                    Some(first) => {
                        let same_sv = crate::client::covers(&first.0, &state.0)
                            && crate::client::covers(&state.0, &first.0);
                        if !same_sv || first.1 != state.1 {
                            diverged = true;
                        }
                    }
                }
            }
            if diverged {
                rooms_diverged += 1;
            }
        }
        for result in &mut results {
            latencies_us.append(&mut result.latencies_us);
        }
        Outcome {
            latencies_us,
            delivered,
            lost,
            rooms_diverged,
            errors,
        }
    }
}

/// One client's task state.
struct Client {
    room: usize,
    index: usize,
    global: usize,
    total: usize,
    state: Arc<RoomState>,
    counters: Arc<Counters>,
    /// Edits seen from each sender of the room.
    seen: Vec<u32>,
    latencies_us: Vec<u32>,
    /// Announces and renews presence.
    awareness: bool,
}

impl Client {
    #[allow(clippy::too_many_arguments)]
    async fn run(
        mut self,
        room: Room,
        framing: Framing,
        layout: Layout,
        joins_allowed: Arc<Semaphore>,
        ready: mpsc::Sender<Result<JoinTiming, String>>,
        start: watch::Receiver<Option<Plan>>,
        stop: watch::Receiver<bool>,
    ) -> ClientResult {
        let id = self.state.senders[self.index].client_id.get();
        let joined = {
            let _permit = joins_allowed.acquire().await;
            Peer::join(
                &room,
                framing,
                id,
                layout.awareness,
                false,
                layout.join_timeout,
            )
            .await
        };
        let mut peer = match joined {
            Ok(peer) => peer,
            Err(error) => {
                // The receiver is gone only if the session was dropped; nothing to tell then.
                ready.send(Err(format!("{error:#}"))).await.ok();
                return self.result(None, Some(format!("{error:#}")));
            }
        };
        if ready.send(Ok(peer.timing)).await.is_err() {
            return self.result(None, None);
        }
        drop(ready);
        let error = self.drive(&mut peer, start, stop).await.err();
        let final_state = Some((peer.state_vector(), peer.text()));
        peer.close().await;
        self.result(final_state, error.map(|e| format!("{e:#}")))
    }

    fn result(
        self,
        final_state: Option<(StateVector, String)>,
        error: Option<String>,
    ) -> ClientResult {
        ClientResult {
            room: self.room,
            index: self.index,
            latencies_us: self.latencies_us,
            final_state,
            error,
        }
    }

    async fn drive(
        &mut self,
        peer: &mut Peer,
        mut start: watch::Receiver<Option<Plan>>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()> {
        let mut renew = tokio::time::interval_at(
            tokio::time::Instant::now() + AWARENESS_RENEWAL,
            AWARENESS_RENEWAL,
        );
        let plan = loop {
            if let Some(plan) = *start.borrow_and_update() {
                break plan;
            }
            tokio::select! {
                changed = start.changed() => if changed.is_err() { return Ok(()) },
                _ = stop.changed() => return Ok(()),
                frame = peer.next_binary() => self.receive(peer, &frame?).await?,
                _ = renew.tick(), if self.awareness => {
                    let presence = peer.awareness_message();
                    peer.send(presence).await?;
                }
            }
        };
        let offset = plan
            .period
            .mul_f64(self.global as f64 / self.total.max(1) as f64);
        let first = tokio::time::Instant::from_std(plan.start + offset);
        let mut ticker = tokio::time::interval_at(first, plan.period);
        let state = Arc::clone(&self.state);
        let log = &state.senders[self.index];
        let mut sent = 0u32;
        loop {
            let may_send = sent < plan.count && Instant::now() < plan.send_until;
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                frame = peer.next_binary() => self.receive(peer, &frame?).await?,
                _ = renew.tick(), if self.awareness => {
                    let presence = peer.awareness_message();
                    peer.send(presence).await?;
                }
                _ = ticker.tick(), if may_send => {
                    let frame = peer.edit(&format!("{:07} ", sent % 10_000_000));
                    log.sent_at[sent as usize].store(now_ns(), Ordering::Release);
                    peer.send(frame).await?;
                    sent += 1;
                    log.sent.store(sent, Ordering::Release);
                    self.counters.sent.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
    }

    async fn receive(&mut self, peer: &mut Peer, frame: &[u8]) -> Result<()> {
        let arrived = now_ns();
        let processed = peer.process(frame)?;
        for reply in processed.replies {
            peer.send(reply).await?;
        }
        if !processed.updated {
            return Ok(());
        }
        let sv = peer.state_vector();
        let mut new = 0u64;
        for (s, sender) in self.state.senders.iter().enumerate() {
            if s == self.index {
                continue;
            }
            let now_seen = sv.get(&sender.client_id) / EDIT_CHARS;
            let before = self.seen[s];
            if now_seen <= before {
                continue;
            }
            for n in before..now_seen {
                let sent_at = sender
                    .sent_at
                    .get(n as usize)
                    .map_or(0, |t| t.load(Ordering::Acquire));
                if sent_at != 0 {
                    let us = arrived.saturating_sub(sent_at) / 1000;
                    self.latencies_us
                        .push(u32::try_from(us).unwrap_or(u32::MAX));
                }
            }
            new += u64::from(now_seen - before);
            self.seen[s] = now_seen;
        }
        if new > 0 {
            self.counters.delivered.fetch_add(new, Ordering::AcqRel);
            self.counters
                .last_delivery_ns
                .fetch_max(arrived, Ordering::AcqRel);
        }
        Ok(())
    }
}
