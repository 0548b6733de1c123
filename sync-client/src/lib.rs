//! Firebreak's sync client without I/O: every decision the app's relay connection makes, as
//! a state machine that takes [`Event`]s (with `now` in milliseconds) and returns
//! [`Action`]s. The app owns the WebSocket and the timer and executes the actions; tests
//! drive the same machine with bytes and a fake clock. It speaks the standard Yjs websocket
//! protocol (sync step 1 / step 2 / update, awareness).
//!
//! On every (re)connect the two sides exchange state vectors, so whatever the relay is missing
//! (edits made offline included) goes up and whatever this device missed comes down; there
//! is no separate offline queue. Knowing which local changes the relay has durably stored
//! uses the relay's ordering: it handles a connection's messages in order and stores each
//! update before the next message, so when its SyncStep2 answers one of our SyncStep1s,
//! every update we sent before that SyncStep1 is safe. Each SyncStep1 we send is such a
//! checkpoint and remembers how many unconfirmed local changes it covers; a closed
//! connection forgets its checkpoints (the next one's exchange covers everything again).
//!
//! After the relay closes the connection, [`wire::Close::after`] decides: a refusal (4401,
//! 4403, 4405, 4410, 4411) stops for good; 4429 waits as long as the relay asks; anything
//! else reconnects after 0.5 s, 1 s, 2 s … up to 10 s (with jitter). A replica that may not
//! write (a viewer) never sends a local change: it answers the relay's SyncStep1 with an
//! empty update. Presence is renewed every 15 s; others' not renewed for 35 s is dropped.
//!
//! The document stays with the app: the machine reads it through [`Replica`] and hands
//! what the relay sent back as [`Action::Apply`].

mod presence;

use std::collections::VecDeque;

use wire::AfterClose;
/// The relay's close codes, as [`Action::Refused`] reports them.
pub use wire::Close;
use yrs::encoding::read::Cursor;
use yrs::sync::{Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, StateVector};

use presence::Presence;
pub use presence::{Peer, RENEW_MS, STALE_MS};

/// The first wait before reconnecting after a connection was lost.
pub const MIN_BACKOFF_MS: u64 = 500;
/// The longest wait between reconnection attempts.
pub const MAX_BACKOFF_MS: u64 = 10_000;
/// The attempt reconnection goes on from after the browser reported the network gone (its
/// `online` event normally brings us back at once; this is in case it never fires).
const OFFLINE_ATTEMPT: u32 = 5;
/// Bounds on a 4429 wait, whatever the reason says.
const MIN_WAIT_S: u32 = 1;
const MAX_WAIT_S: u32 = 3600;

/// How this device is connected to the relay, as the sync status shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// No connection (no network, relay down, or waiting to retry).
    Offline,
    /// A connection is being opened or the first exchange is under way.
    Connecting,
    /// Connected, and the first state exchange has completed.
    Synced,
}

impl Connection {
    /// The value of the status element's `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Offline => "offline",
            Connection::Connecting => "connecting",
            Connection::Synced => "synced",
        }
    }
}

/// The open incident, as far as the machine needs to read it.
pub trait Replica {
    /// This device's encoded (v1) state vector.
    fn state_vector(&self) -> Vec<u8>;
    /// What a peer with this encoded state vector is missing, as a v1 update.
    fn diff_for(&self, remote_state_vector: &[u8]) -> Result<Vec<u8>, String>;
    /// How many local changes the relay has not confirmed yet (this device's whole count,
    /// changes made before this connection or in other tabs included).
    fn unconfirmed(&self) -> u32;
    /// False for a viewer: local changes are never sent.
    fn may_write(&self) -> bool;
}

/// Something that happened, handed to [`SyncCore::handle`].
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Begin: connect, and start renewing presence.
    Start,
    /// The socket asked for by [`Action::Connect`] could not even be created.
    ConnectFailed(&'a str),
    /// The socket is open.
    Opened,
    /// A binary frame from the relay.
    Received(&'a [u8]),
    /// The socket closed, with the relay's (or the browser's) code and reason.
    Closed { code: u16, reason: &'a str },
    /// Local changes, already stored on this device, to send if connected; otherwise the next
    /// connection's state exchange carries them. Counted in [`Replica::unconfirmed`] already.
    LocalChanges(&'a [Vec<u8>]),
    /// The timer asked for by [`Action::Timer`] fired.
    Tick,
    /// The browser says the network is gone.
    NetworkLost,
    /// The browser says the network is back: connect now unless the relay asked us to wait.
    NetworkBack,
    /// Leave for good (the page is closing, or the device was refused).
    Stop,
}

/// What the app must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a socket to the relay.
    Connect,
    /// Send this binary frame on the open socket.
    Send(Vec<u8>),
    /// Close the socket without waiting for its close event (no [`Event::Closed`] follows).
    CloseSocket,
    /// Apply this v1 update from the relay to the replica.
    Apply(Vec<u8>),
    /// The relay has durably stored this many more local changes.
    Confirmed(u32),
    /// The connection state shown changed.
    Connection(Connection),
    /// Who else is here changed.
    Presence(Vec<Peer>),
    /// Something went wrong with the relay; `None` once it is fine again.
    Problem(Option<String>),
    /// The relay refused this device; the machine has stopped and will not reconnect.
    Refused(Close),
    /// Call [`Event::Tick`] in this many ms (replacing any earlier timer); `None`: no timer.
    Timer(Option<u64>),
    /// Worth a line in the console; nothing to show.
    Log(String),
}

/// What the machine needs to know from the start.
#[derive(Clone, Debug)]
pub struct Config {
    /// This device's awareness client id (the document's client id).
    pub client_id: ClientID,
    /// This responder's presence state, `{"user":{"name":..,"color":..}}`.
    pub user: serde_json::Value,
    /// Seeds the jitter of reconnection waits (any value; tests fix it).
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// No socket.
    Down,
    /// A socket was asked for and is not open yet.
    Connecting,
    /// The socket is open.
    Open,
}

/// The sync client's state for one incident. See the crate docs.
pub struct SyncCore {
    presence: Presence,
    link: Link,
    /// The first SyncStep2 of this connection has arrived.
    synced: bool,
    /// For each SyncStep1 sent on this connection and not yet answered: how many local
    /// changes its answer confirms.
    checkpoints: VecDeque<u32>,
    /// Reconnection attempts since the last successful exchange.
    attempt: u32,
    reconnect_at: Option<u64>,
    renew_at: Option<u64>,
    /// No connection before this time: the relay asked us to wait.
    not_before: u64,
    stopped: bool,
    /// The deadline the app's timer is set for.
    armed: Option<u64>,
    shown: Connection,
    rng: u64,
}

impl SyncCore {
    pub fn new(config: Config) -> SyncCore {
        SyncCore {
            presence: Presence::new(config.client_id, config.user.to_string()),
            link: Link::Down,
            synced: false,
            checkpoints: VecDeque::new(),
            attempt: 0,
            reconnect_at: None,
            renew_at: None,
            not_before: 0,
            stopped: false,
            armed: None,
            shown: Connection::Offline,
            // xorshift must not start at zero.
            rng: config.seed | 1,
        }
    }

    /// Whether the machine has stopped for good.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Handles one event at `now` (ms since the epoch) and says what to do about it.
    pub fn handle(&mut self, now: u64, event: Event<'_>, replica: &dyn Replica) -> Vec<Action> {
        let mut out = Vec::new();
        if self.stopped {
            return out;
        }
        match event {
            Event::Start => {
                self.renew_at = Some(now + RENEW_MS);
                self.connect(&mut out);
            }
            Event::ConnectFailed(error) => {
                self.link = Link::Down;
                out.push(Action::Problem(Some(format!(
                    "Cannot reach the relay: {error}"
                ))));
                self.back_off(now);
            }
            Event::Opened => self.opened(replica, &mut out),
            Event::Received(bytes) => self.received(now, bytes, replica, &mut out),
            Event::Closed { code, reason } => self.closed(now, code, reason, &mut out),
            Event::LocalChanges(updates) => {
                if self.link == Link::Open && !updates.is_empty() && replica.may_write() {
                    for update in updates {
                        out.push(Action::Send(
                            Message::Sync(SyncMessage::Update(update.clone())).encode_v1(),
                        ));
                    }
                    self.checkpoint(replica, &mut out);
                }
            }
            Event::Tick => {
                // The timer that fired is spent.
                self.armed = None;
                self.tick(now, &mut out);
            }
            Event::NetworkLost => {
                if self.link != Link::Down {
                    out.push(Action::CloseSocket);
                }
                self.lost(&mut out);
                self.attempt = self.attempt.max(OFFLINE_ATTEMPT);
                self.back_off(now);
            }
            Event::NetworkBack => {
                if self.link == Link::Down && now >= self.not_before {
                    self.attempt = 0;
                    self.connect(&mut out);
                }
            }
            Event::Stop => {
                self.stopped = true;
                self.reconnect_at = None;
                self.renew_at = None;
                if self.link == Link::Open {
                    out.push(Action::Send(self.presence.leave()));
                }
                if self.link != Link::Down {
                    out.push(Action::CloseSocket);
                }
                self.link = Link::Down;
            }
        }
        self.arm(now, &mut out);
        out
    }

    fn connect(&mut self, out: &mut Vec<Action>) {
        self.reconnect_at = None;
        self.link = Link::Connecting;
        self.show(Connection::Connecting, out);
        out.push(Action::Connect);
    }

    fn opened(&mut self, replica: &dyn Replica, out: &mut Vec<Action>) {
        self.link = Link::Open;
        self.checkpoints.clear();
        self.synced = false;
        if let Some(sv) = self.own_state_vector(replica, out) {
            // Nothing of ours has gone up on this connection yet: this answer confirms none.
            self.checkpoints.push_back(0);
            out.push(Action::Send(
                Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1(),
            ));
        }
        out.push(Action::Send(self.presence.announce()));
    }

    fn own_state_vector(
        &self,
        replica: &dyn Replica,
        out: &mut Vec<Action>,
    ) -> Option<StateVector> {
        match StateVector::decode_v1(&replica.state_vector()) {
            Ok(sv) => Some(sv),
            Err(e) => {
                out.push(Action::Log(format!("own state vector unreadable: {e}")));
                None
            }
        }
    }

    /// Sends a SyncStep1 whose answer confirms every local change sent before it.
    fn checkpoint(&mut self, replica: &dyn Replica, out: &mut Vec<Action>) {
        let Some(sv) = self.own_state_vector(replica, out) else {
            return;
        };
        let covered: u32 = self.checkpoints.iter().sum();
        self.checkpoints
            .push_back(replica.unconfirmed().saturating_sub(covered));
        out.push(Action::Send(
            Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1(),
        ));
    }

    fn received(&mut self, now: u64, bytes: &[u8], replica: &dyn Replica, out: &mut Vec<Action>) {
        if self.link != Link::Open {
            return;
        }
        let mut decoder = DecoderV1::new(Cursor::new(bytes));
        for message in MessageReader::new(&mut decoder) {
            match message {
                Ok(message) => self.message(now, message, replica, out),
                Err(e) => {
                    out.push(Action::Problem(Some(format!(
                        "The relay sent a message we cannot read: {e}"
                    ))));
                    return;
                }
            }
        }
    }

    fn message(
        &mut self,
        now: u64,
        message: Message,
        replica: &dyn Replica,
        out: &mut Vec<Action>,
    ) {
        match message {
            Message::Sync(SyncMessage::SyncStep1(remote)) => {
                if !replica.may_write() {
                    // A viewer adds nothing: whatever this device has that the relay lacks
                    // stays here.
                    let nothing = yrs::Update::new().encode_v1();
                    out.push(Action::Send(
                        Message::Sync(SyncMessage::SyncStep2(nothing)).encode_v1(),
                    ));
                    return;
                }
                match replica.diff_for(&remote.encode_v1()) {
                    Ok(diff) => out.push(Action::Send(
                        Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1(),
                    )),
                    Err(e) => out.push(Action::Problem(Some(e))),
                }
                // Everything the relay lacked is now on its way: ask for confirmation, if
                // there is anything the SyncStep1s already sent do not cover. (Otherwise the
                // relay would answer with the whole document a second time on a first open:
                // our state vector is still empty while its first answer is on the way.)
                let covered: u32 = self.checkpoints.iter().sum();
                if replica.unconfirmed() > covered {
                    self.checkpoint(replica, out);
                }
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                out.push(Action::Apply(update));
                let confirmed = self.checkpoints.pop_front().unwrap_or(0);
                if confirmed > 0 {
                    out.push(Action::Confirmed(confirmed));
                }
                if !self.synced {
                    self.synced = true;
                    self.attempt = 0;
                    out.push(Action::Problem(None));
                    self.show(Connection::Synced, out);
                }
            }
            Message::Sync(SyncMessage::Update(update)) => out.push(Action::Apply(update)),
            Message::Awareness(update) => {
                self.presence.apply(now, update);
                self.report_presence(out);
            }
            Message::AwarenessQuery => out.push(Action::Send(self.presence.announce())),
            Message::Auth(Some(reason)) => out.push(Action::Problem(Some(format!(
                "The relay refused access: {reason}"
            )))),
            Message::Auth(None) | Message::Custom(..) => {}
        }
    }

    fn closed(&mut self, now: u64, code: u16, reason: &str, out: &mut Vec<Action>) {
        self.lost(out);
        match Close::after(code, reason) {
            AfterClose::Stop(close) => {
                self.stopped = true;
                self.reconnect_at = None;
                self.renew_at = None;
                out.push(Action::Refused(close));
            }
            AfterClose::ReconnectAfter { seconds } => {
                let seconds = seconds.clamp(MIN_WAIT_S, MAX_WAIT_S);
                out.push(Action::Problem(Some(format!(
                    "The relay is refusing connections from this address for {seconds} s after too many failed attempts; trying again then."
                ))));
                let wait = u64::from(seconds) * 1000 + (self.jitter() * 1000.0) as u64;
                self.not_before = now + wait;
                self.reconnect_at = Some(now + wait);
            }
            AfterClose::Reconnect => {
                if !reason.is_empty() {
                    out.push(Action::Problem(Some(format!(
                        "The relay closed the connection: {reason}"
                    ))));
                }
                self.back_off(now);
            }
        }
    }

    /// The connection is gone: forget what belonged to it.
    fn lost(&mut self, out: &mut Vec<Action>) {
        self.link = Link::Down;
        self.checkpoints.clear();
        self.synced = false;
        self.presence.clear();
        self.report_presence(out);
        self.show(Connection::Offline, out);
    }

    /// Reconnects after 0.5 s, 1 s, 2 s … up to 10 s, each between half and all of it.
    fn back_off(&mut self, now: u64) {
        let base = (MIN_BACKOFF_MS << self.attempt.min(10)).min(MAX_BACKOFF_MS);
        self.attempt = self.attempt.saturating_add(1);
        let wait = base / 2 + (base as f64 / 2.0 * self.jitter()) as u64;
        self.reconnect_at = Some(now + wait);
    }

    fn tick(&mut self, now: u64, out: &mut Vec<Action>) {
        if self.reconnect_at.is_some_and(|at| now >= at) {
            self.reconnect_at = None;
            if self.link == Link::Down {
                self.connect(out);
            }
        }
        if self.renew_at.is_some_and(|at| now >= at) {
            self.renew_at = Some(now + RENEW_MS);
            if self.link == Link::Open {
                out.push(Action::Send(self.presence.announce()));
            }
            self.presence.drop_stale(now);
            self.report_presence(out);
        }
    }

    fn report_presence(&mut self, out: &mut Vec<Action>) {
        if let Some(peers) = self.presence.report() {
            out.push(Action::Presence(peers));
        }
    }

    fn show(&mut self, state: Connection, out: &mut Vec<Action>) {
        if self.shown != state {
            self.shown = state;
            out.push(Action::Connection(state));
        }
    }

    /// Asks for the timer the earliest deadline needs, when that changed.
    fn arm(&mut self, now: u64, out: &mut Vec<Action>) {
        let next = match (self.reconnect_at, self.renew_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if next != self.armed {
            self.armed = next;
            out.push(Action::Timer(next.map(|at| at.saturating_sub(now))));
        }
    }

    /// A number in [0, 1) (xorshift64*): spreads reconnections out; not for secrets.
    fn jitter(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}
