//! The relay connection: one WebSocket per open incident, speaking the Yjs websocket protocol
//! (sync step 1 / step 2 / update, awareness) through `yrs::sync`.
//!
//! On every (re)connect the two sides exchange state vectors, so whatever the relay is missing
//! (edits made offline included) goes up and whatever this device missed comes down; there
//! is no separate offline queue. Knowing which local changes the relay has durably stored
//! uses the relay's ordering: it handles a connection's messages in order and stores each
//! update before the next message, so when its SyncStep2 answers one of our SyncStep1s,
//! every update we sent before that SyncStep1 is safe. Each SyncStep1 we send is such a
//! checkpoint and remembers how many unconfirmed local changes it covers.
//!
//! The relay lets in only holders of a token for the incident (`?token=`). When it refuses
//! (close codes 4401, 4403, 4405, 4410, 4411) the client stops for good and tells the replica
//! why; 4429 (too many failed attempts from this address) waits as long as the relay asks.
//! A replica that may not write (a viewer) never sends a local change: it answers the relay's
//! SyncStep1 with an empty update.
//!
//! This module knows nothing of Leptos or IndexedDB: it talks to the open incident through
//! the [`Replica`] trait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yrs::encoding::read::Cursor;
use yrs::sync::{Awareness, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::StateVector;

use crate::access::{self, Refusal};
use crate::platform;

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

/// Another responder who has the incident open right now.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub name: String,
    pub color: String,
}

/// The open incident as the sync client sees it.
pub trait Replica {
    /// This device's encoded state vector.
    fn state_vector(&self) -> Vec<u8>;
    /// What a peer with this encoded state vector is missing, as a v1 update.
    fn diff_for(&self, remote_state_vector: &[u8]) -> Result<Vec<u8>, String>;
    /// Applies an update received from the relay.
    fn receive(&self, update: &[u8]) -> Result<(), String>;
    /// How many local changes the relay has not confirmed yet.
    fn unconfirmed(&self) -> u32;
    /// The relay has durably stored `count` more local changes.
    fn confirmed(&self, count: u32);
    fn connection_changed(&self, state: Connection);
    fn presence_changed(&self, peers: Vec<Peer>);
    /// Something went wrong with the relay (`None` once it is fine again).
    fn problem(&self, message: Option<String>);
    /// False for a viewer: local changes are never sent.
    fn may_write(&self) -> bool;
    /// The relay refused this device; the client has stopped and will not reconnect.
    fn refused(&self, why: Refusal);
}

/// What to do after the socket closed.
enum Retry {
    Backoff,
    After(f64),
    Never,
}

/// The relay's close code for "too many failed attempts from this address".
const TOO_MANY_FAILURES: u16 = 4429;
const MIN_BACKOFF_MS: f64 = 500.0;
const MAX_BACKOFF_MS: f64 = 10_000.0;
/// Awareness states are renewed this often, and dropped when not renewed for `STALE_MS`.
const AWARENESS_RENEW_MS: i32 = 15_000;
const STALE_MS: u64 = 35_000;

struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    fn detach_and_close(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if let Err(e) = self.ws.close() {
            platform::log_error(&platform::js_error_text(&e));
        }
    }
}

struct Inner {
    url: String,
    replica: Weak<dyn Replica>,
    awareness: RefCell<Awareness>,
    socket: RefCell<Option<Socket>>,
    /// A socket whose handler is still on the stack when it closed; dropped on next connect.
    retired: RefCell<Option<Socket>>,
    /// For each SyncStep1 sent on this connection and not yet answered: how many local
    /// changes its answer confirms.
    checkpoints: RefCell<VecDeque<u32>>,
    synced: Cell<bool>,
    attempt: Cell<u32>,
    retry_timer: Cell<Option<i32>>,
    renew_timer: Cell<Option<i32>>,
    _renew: RefCell<Option<Closure<dyn FnMut()>>>,
    stopped: Cell<bool>,
    /// No connection before this time (ms since the epoch): the relay asked us to wait.
    not_before: Cell<f64>,
}

/// A live relay connection for one incident; reconnects by itself until [`SyncClient::stop`].
#[derive(Clone)]
pub struct SyncClient {
    inner: Rc<Inner>,
}

/// `ws(s)://{host}/sync/{incident}?token={token}` for the page's own origin.
pub fn relay_url(incident_id: &str, token: &str) -> String {
    let location = platform::window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    let token = String::from(js_sys::encode_uri_component(token));
    format!("{scheme}//{host}/sync/{incident_id}?token={token}")
}

impl SyncClient {
    /// Starts connecting. `user` is this responder's awareness state
    /// (`{"user":{"name":..,"color":..}}`).
    pub fn start(
        url: String,
        doc: yrs::Doc,
        replica: Weak<dyn Replica>,
        user: serde_json::Value,
    ) -> SyncClient {
        let mut awareness =
            Awareness::with_clock(doc, || platform::now_millis() as yrs::sync::Timestamp);
        if let Err(e) = awareness.set_local_state(user) {
            platform::log_error(&format!("presence state not set: {e}"));
        }
        let inner = Rc::new(Inner {
            url,
            replica,
            awareness: RefCell::new(awareness),
            socket: RefCell::new(None),
            retired: RefCell::new(None),
            checkpoints: RefCell::new(VecDeque::new()),
            synced: Cell::new(false),
            attempt: Cell::new(0),
            retry_timer: Cell::new(None),
            renew_timer: Cell::new(None),
            _renew: RefCell::new(None),
            stopped: Cell::new(false),
            not_before: Cell::new(0.0),
        });
        let weak = Rc::downgrade(&inner);
        let renew = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.renew_presence();
            }
        });
        match platform::window().set_interval_with_callback_and_timeout_and_arguments_0(
            renew.as_ref().unchecked_ref(),
            AWARENESS_RENEW_MS,
        ) {
            Ok(handle) => inner.renew_timer.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
        *inner._renew.borrow_mut() = Some(renew);
        Inner::connect(&inner);
        SyncClient { inner }
    }

    /// Sends local changes (already stored on this device) if connected; otherwise the next
    /// connection's state exchange carries them.
    pub fn send_local(&self, updates: &[Vec<u8>]) {
        let inner = &self.inner;
        let may_write = inner.replica().is_some_and(|r| r.may_write());
        if !inner.is_open() || updates.is_empty() || !may_write {
            return;
        }
        for update in updates {
            inner.send(&Message::Sync(SyncMessage::Update(update.clone())));
        }
        inner.send_checkpoint();
    }

    /// Connects at once (the browser says the network is back).
    pub fn reconnect_now(&self) {
        let inner = &self.inner;
        if inner.stopped.get()
            || inner.socket.borrow().is_some()
            || platform::now_millis() < inner.not_before.get()
        {
            return;
        }
        inner.clear_retry();
        inner.attempt.set(0);
        Inner::connect(inner);
    }

    /// The browser says the network is gone: drop the connection and wait for `online`.
    pub fn network_lost(&self) {
        let inner = &self.inner;
        inner.clear_retry();
        if let Some(socket) = inner.socket.borrow_mut().take() {
            socket.detach_and_close();
        }
        inner.connection_lost();
        // `online` normally brings us back at once; retry slowly in case it never fires.
        inner.attempt.set(inner.attempt.get().max(5));
        Inner::schedule_retry(inner);
    }

    /// Announces our departure and closes for good.
    pub fn stop(&self) {
        let inner = &self.inner;
        inner.stopped.set(true);
        inner.clear_retry();
        if let Some(handle) = inner.renew_timer.take() {
            platform::window().clear_interval_with_handle(handle);
        }
        if inner.is_open() {
            let mut awareness = inner.awareness.borrow_mut();
            awareness.clean_local_state();
            let me = awareness.client_id();
            if let Ok(update) = awareness.update_with_clients([me]) {
                drop(awareness);
                inner.send(&Message::Awareness(update));
            }
        }
        if let Some(socket) = inner.socket.borrow_mut().take() {
            socket.detach_and_close();
        }
    }
}

impl Inner {
    fn replica(&self) -> Option<Rc<dyn Replica>> {
        self.replica.upgrade()
    }

    fn is_open(&self) -> bool {
        self.socket
            .borrow()
            .as_ref()
            .is_some_and(|s| s.ws.ready_state() == WebSocket::OPEN)
    }

    fn connect(this: &Rc<Inner>) {
        if this.stopped.get() {
            return;
        }
        this.retired.borrow_mut().take();
        if let Some(r) = this.replica() {
            r.connection_changed(Connection::Connecting);
        }
        let ws = match WebSocket::new(&this.url) {
            Ok(ws) => ws,
            Err(e) => {
                if let Some(r) = this.replica() {
                    r.problem(Some(format!(
                        "Cannot reach the relay: {}",
                        platform::js_error_text(&e)
                    )));
                }
                Inner::schedule_retry(this);
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.opened();
            }
        });
        let weak = Rc::downgrade(this);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                match ev.data().dyn_into::<ArrayBuffer>() {
                    Ok(buf) => inner.received(&Uint8Array::new(&buf).to_vec()),
                    Err(_) => platform::log_error("ignored a text frame from the relay"),
                }
            }
        });
        let weak = Rc::downgrade(this);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                match inner.closed(&ev) {
                    Retry::Backoff => Inner::schedule_retry(&inner),
                    Retry::After(ms) => Inner::retry_in(&inner, ms),
                    Retry::Never => {}
                }
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *this.socket.borrow_mut() = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn send(&self, message: &Message) {
        let socket = self.socket.borrow();
        let Some(socket) = socket.as_ref() else {
            return;
        };
        if let Err(e) = socket.ws.send_with_u8_array(&message.encode_v1()) {
            platform::log_error(&format!(
                "could not send to the relay: {}",
                platform::js_error_text(&e)
            ));
        }
    }

    fn state_vector(&self) -> Option<StateVector> {
        let replica = self.replica()?;
        match StateVector::decode_v1(&replica.state_vector()) {
            Ok(sv) => Some(sv),
            Err(e) => {
                platform::log_error(&format!("own state vector unreadable: {e}"));
                None
            }
        }
    }

    /// Sends a SyncStep1 whose answer confirms every local change sent before it.
    fn send_checkpoint(&self) {
        let Some(replica) = self.replica() else {
            return;
        };
        let Some(sv) = self.state_vector() else {
            return;
        };
        let mut checkpoints = self.checkpoints.borrow_mut();
        let covered: u32 = checkpoints.iter().sum();
        checkpoints.push_back(replica.unconfirmed().saturating_sub(covered));
        drop(checkpoints);
        self.send(&Message::Sync(SyncMessage::SyncStep1(sv)));
    }

    fn opened(&self) {
        self.checkpoints.borrow_mut().clear();
        self.synced.set(false);
        if let Some(sv) = self.state_vector() {
            // Nothing of ours has gone up on this connection yet: this answer confirms none.
            self.checkpoints.borrow_mut().push_back(0);
            self.send(&Message::Sync(SyncMessage::SyncStep1(sv)));
        }
        self.send_own_presence();
    }

    fn send_own_presence(&self) {
        let awareness = self.awareness.borrow();
        let me = awareness.client_id();
        match awareness.update_with_clients([me]) {
            Ok(update) => {
                drop(awareness);
                self.send(&Message::Awareness(update));
            }
            Err(e) => platform::log_error(&format!("presence not encoded: {e}")),
        }
    }

    fn renew_presence(&self) {
        if self.is_open() {
            self.send_own_presence();
        }
        self.report_presence();
    }

    fn report_presence(&self) {
        let Some(replica) = self.replica() else {
            return;
        };
        let awareness = self.awareness.borrow();
        let me = awareness.client_id();
        let now = platform::now_millis() as u64;
        let mut peers: Vec<Peer> = awareness
            .iter()
            .filter(|(id, state)| *id != me && now.saturating_sub(state.last_updated) < STALE_MS)
            .filter_map(|(_, state)| {
                let json: serde_json::Value = serde_json::from_str(state.data.as_deref()?).ok()?;
                let user = json.get("user")?;
                Some(Peer {
                    name: user.get("name")?.as_str()?.to_string(),
                    color: user
                        .get("color")
                        .and_then(|c| c.as_str())
                        .unwrap_or("#555")
                        .to_string(),
                })
            })
            .collect();
        drop(awareness);
        peers.sort_by(|a, b| a.name.cmp(&b.name));
        replica.presence_changed(peers);
    }

    fn received(&self, bytes: &[u8]) {
        let Some(replica) = self.replica() else {
            return;
        };
        let mut decoder = DecoderV1::new(Cursor::new(bytes));
        for message in MessageReader::new(&mut decoder) {
            match message {
                Ok(message) => self.handle(&*replica, message),
                Err(e) => {
                    replica.problem(Some(format!(
                        "The relay sent a message we cannot read: {e}"
                    )));
                    return;
                }
            }
        }
    }

    fn handle(&self, replica: &dyn Replica, message: Message) {
        match message {
            Message::Sync(SyncMessage::SyncStep1(remote)) => {
                if !replica.may_write() {
                    // A viewer adds nothing: whatever this device has that the relay lacks
                    // stays here.
                    let nothing = yrs::Update::new().encode_v1();
                    self.send(&Message::Sync(SyncMessage::SyncStep2(nothing)));
                    return;
                }
                match replica.diff_for(&remote.encode_v1()) {
                    Ok(diff) => self.send(&Message::Sync(SyncMessage::SyncStep2(diff))),
                    Err(e) => replica.problem(Some(e)),
                }
                // Everything the relay lacked is now on its way: ask for confirmation.
                self.send_checkpoint();
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                if let Err(e) = replica.receive(&update) {
                    replica.problem(Some(e));
                }
                let confirmed = self.checkpoints.borrow_mut().pop_front().unwrap_or(0);
                if confirmed > 0 {
                    replica.confirmed(confirmed);
                }
                if !self.synced.replace(true) {
                    self.attempt.set(0);
                    replica.problem(None);
                    replica.connection_changed(Connection::Synced);
                }
            }
            Message::Sync(SyncMessage::Update(update)) => {
                if let Err(e) = replica.receive(&update) {
                    replica.problem(Some(e));
                }
            }
            Message::Awareness(update) => {
                let applied = self.awareness.borrow_mut().apply_update(update);
                match applied {
                    Ok(()) => self.report_presence(),
                    Err(e) => platform::log_error(&format!("presence update refused: {e}")),
                }
            }
            Message::AwarenessQuery => self.send_own_presence(),
            Message::Auth(Some(reason)) => {
                replica.problem(Some(format!("The relay refused access: {reason}")));
            }
            Message::Auth(None) | Message::Custom(..) => {}
        }
    }

    /// The socket closed: says why where it matters and whether to try again.
    fn closed(&self, event: &CloseEvent) -> Retry {
        if let Some(socket) = self.socket.borrow_mut().take() {
            // Its close handler is running right now; drop it later.
            *self.retired.borrow_mut() = Some(socket);
        }
        self.connection_lost();
        let Some(replica) = self.replica() else {
            return Retry::Never;
        };
        let reason = event.reason();
        if let Some(why) = Refusal::from_close_code(event.code()) {
            self.stopped.set(true);
            self.clear_retry();
            replica.refused(why);
            return Retry::Never;
        }
        if event.code() == TOO_MANY_FAILURES {
            let seconds = access::wait_seconds(&reason).unwrap_or(60).clamp(1, 3600);
            replica.problem(Some(format!(
                "The relay is refusing connections from this address for {seconds} s after too many failed attempts; trying again then."
            )));
            let wait = f64::from(seconds) * 1000.0 + 1000.0 * platform::jitter();
            self.not_before.set(platform::now_millis() + wait);
            return Retry::After(wait);
        }
        if !reason.is_empty() {
            replica.problem(Some(format!("The relay closed the connection: {reason}")));
        }
        Retry::Backoff
    }

    fn connection_lost(&self) {
        self.checkpoints.borrow_mut().clear();
        self.synced.set(false);
        {
            let mut awareness = self.awareness.borrow_mut();
            let me = awareness.client_id();
            let others: Vec<_> = awareness
                .iter()
                .map(|(id, _)| id)
                .filter(|id| *id != me)
                .collect();
            for id in others {
                awareness.remove_state(id);
            }
        }
        self.report_presence();
        if let Some(replica) = self.replica() {
            replica.connection_changed(Connection::Offline);
        }
    }

    fn clear_retry(&self) {
        if let Some(handle) = self.retry_timer.take() {
            platform::window().clear_timeout_with_handle(handle);
        }
    }

    /// Exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to 10 s.
    fn schedule_retry(this: &Rc<Inner>) {
        let attempt = this.attempt.get();
        this.attempt.set(attempt.saturating_add(1));
        let base = (MIN_BACKOFF_MS * 2f64.powi(attempt.min(10) as i32)).min(MAX_BACKOFF_MS);
        Inner::retry_in(this, base * (0.5 + 0.5 * platform::jitter()));
    }

    fn retry_in(this: &Rc<Inner>, delay: f64) {
        if this.stopped.get() {
            return;
        }
        this.clear_retry();
        let weak = Rc::downgrade(this);
        let retry = Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                inner.retry_timer.set(None);
                if inner.socket.borrow().is_none() {
                    Inner::connect(&inner);
                }
            }
        });
        match platform::window().set_timeout_with_callback_and_timeout_and_arguments_0(
            retry.unchecked_ref(),
            delay as i32,
        ) {
            Ok(handle) => this.retry_timer.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }
}
