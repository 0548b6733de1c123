//! The relay connection's I/O: one WebSocket per open incident and one timer, around the
//! sans-IO [`sync_client::SyncCore`], which makes every protocol decision (what to send, which
//! local changes the relay has confirmed, when to reconnect after which close, presence).
//! This module feeds it the socket's events and the time, and carries out its actions.
//!
//! It knows nothing of Leptos or IndexedDB: it talks to the open incident through [`Host`].

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Uint8Array};
use sync_client::{Action, Config, Event, SyncCore};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::access::Refusal;
use crate::platform;
pub use sync_client::{Connection, Peer};

/// The open incident as the sync client sees it: what the core reads
/// ([`sync_client::Replica`]) and where its actions land.
pub trait Host: sync_client::Replica {
    /// Applies an update received from the relay.
    fn receive(&self, update: &[u8]) -> Result<(), String>;
    /// The relay has durably stored `count` more local changes.
    fn confirmed(&self, count: u32);
    fn connection_changed(&self, state: Connection);
    fn presence_changed(&self, peers: Vec<Peer>);
    /// Something went wrong with the relay (`None` once it is fine again).
    fn problem(&self, message: Option<String>);
    /// The relay refused this device; the client has stopped and will not reconnect.
    fn refused(&self, why: Refusal);
    /// An owner changed this device's role (4412); the client has stopped: the host learns
    /// the new role and connects again.
    fn role_changed(&self);
}

/// What the person is told about a refusing close.
fn refusal_for(close: wire::Close) -> Refusal {
    Refusal::from_close(close).unwrap_or(Refusal::Unknown)
}

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
    /// The subprotocols offered on every connection (see [`relay_protocols`]).
    protocols: Vec<String>,
    host: Weak<dyn Host>,
    core: RefCell<SyncCore>,
    socket: RefCell<Option<Socket>>,
    /// A socket whose handler is still on the stack when it closed; dropped on next connect.
    retired: RefCell<Option<Socket>>,
    timer: Cell<Option<i32>>,
    on_timer: RefCell<Option<Closure<dyn FnMut()>>>,
}

/// A live relay connection for one incident; reconnects by itself until [`SyncClient::stop`].
#[derive(Clone)]
pub struct SyncClient {
    inner: Rc<Inner>,
}

/// `ws(s)://{host}/sync/{incident}` for the page's own origin. The token is not in it:
/// proxies write URLs to their access logs ([`relay_protocols`] carries it instead).
pub fn relay_url(incident_id: &str) -> String {
    let location = platform::window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    let incident_id = String::from(js_sys::encode_uri_component(incident_id));
    format!("{scheme}//{host}/sync/{incident_id}")
}

/// The subprotocols the app offers: `firebreak`, which the relay picks (a browser fails a
/// connection whose relay picks none of those offered), `firebreak.token.{token}`, which
/// carries the secret in a header proxies do not log, and `firebreak.device.{device}`, this
/// device's id, which an invite is bound to. A value with a character a subprotocol cannot
/// hold is not one the relay issued or accepts; it is left out, and the relay says why.
pub fn relay_protocols(token: &str, device: &str) -> Vec<String> {
    let mut protocols = vec![wire::SYNC_PROTOCOL.to_string()];
    for (prefix, value) in [
        (wire::TOKEN_PROTOCOL_PREFIX, token),
        (wire::DEVICE_PROTOCOL_PREFIX, device),
    ] {
        if !value.is_empty() && value.bytes().all(is_protocol_char) {
            protocols.push(format!("{prefix}{value}"));
        }
    }
    protocols
}

/// What a subprotocol name may hold (RFC 6455 4.1: an RFC 2616 token).
fn is_protocol_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl SyncClient {
    /// Starts connecting. `client_id` is the document's; `user` is this responder's presence
    /// state (`{"user":{"name":..,"color":..}}`).
    pub fn start(
        url: String,
        protocols: Vec<String>,
        client_id: yrs::ClientID,
        host: Weak<dyn Host>,
        user: serde_json::Value,
    ) -> SyncClient {
        let seed = u64::from_le_bytes(platform::random_bytes()[..8].try_into().unwrap_or([1; 8]));
        let core = SyncCore::new(Config {
            client_id,
            user,
            seed,
        });
        let inner = Rc::new(Inner {
            url,
            protocols,
            host,
            core: RefCell::new(core),
            socket: RefCell::new(None),
            retired: RefCell::new(None),
            timer: Cell::new(None),
            on_timer: RefCell::new(None),
        });
        let weak = Rc::downgrade(&inner);
        let on_timer = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.timer.set(None);
                Inner::handle(&inner, Event::Tick);
            }
        });
        *inner.on_timer.borrow_mut() = Some(on_timer);
        Inner::handle(&inner, Event::Start);
        SyncClient { inner }
    }

    /// Sends local changes (already stored on this device and counted as unconfirmed) if
    /// connected; otherwise the next connection's state exchange carries them.
    pub fn send_local(&self, updates: &[Vec<u8>]) {
        Inner::handle(&self.inner, Event::LocalChanges(updates));
    }

    /// Connects at once (the browser says the network is back).
    pub fn reconnect_now(&self) {
        Inner::handle(&self.inner, Event::NetworkBack);
    }

    /// The browser says the network is gone: drop the connection and wait for `online`.
    pub fn network_lost(&self) {
        Inner::handle(&self.inner, Event::NetworkLost);
    }

    /// Announces our departure and closes for good.
    pub fn stop(&self) {
        Inner::handle(&self.inner, Event::Stop);
    }
}

impl Inner {
    /// Hands `event` to the core and carries out its actions. The core is not borrowed while
    /// they run, so an action may lead straight back here (a refusal stops the client).
    fn handle(this: &Rc<Inner>, event: Event<'_>) {
        let Some(host) = this.host.upgrade() else {
            return;
        };
        let now = platform::now_millis() as u64;
        let actions = this.core.borrow_mut().handle(now, event, &*host);
        for action in actions {
            Inner::execute(this, &*host, action);
        }
    }

    fn execute(this: &Rc<Inner>, host: &dyn Host, action: Action) {
        match action {
            Action::Connect => Inner::open_socket(this),
            Action::Send(frame) => this.send(&frame),
            Action::CloseSocket => {
                if let Some(socket) = this.socket.borrow_mut().take() {
                    socket.detach_and_close();
                }
            }
            Action::Apply(update) => {
                if let Err(e) = host.receive(&update) {
                    host.problem(Some(e));
                }
            }
            Action::Confirmed(count) => host.confirmed(count),
            Action::Connection(state) => host.connection_changed(state),
            Action::Presence(peers) => host.presence_changed(peers),
            Action::Problem(message) => host.problem(message),
            Action::Refused(wire::Close::RoleChanged) => host.role_changed(),
            Action::Refused(close) => host.refused(refusal_for(close)),
            Action::Timer(ms) => this.set_timer(ms),
            Action::Log(message) => platform::log_error(&message),
        }
    }

    fn open_socket(this: &Rc<Inner>) {
        this.retired.borrow_mut().take();
        let protocols: js_sys::Array = this
            .protocols
            .iter()
            .map(|p| JsValue::from_str(p))
            .collect();
        let ws = match WebSocket::new_with_str_sequence(&this.url, &protocols) {
            Ok(ws) => ws,
            Err(e) => {
                let error = platform::js_error_text(&e);
                Inner::handle(this, Event::ConnectFailed(&error));
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                Inner::handle(&inner, Event::Opened);
            }
        });
        let weak = Rc::downgrade(this);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(inner) = weak.upgrade() {
                match ev.data().dyn_into::<ArrayBuffer>() {
                    Ok(buf) => {
                        let bytes = Uint8Array::new(&buf).to_vec();
                        Inner::handle(&inner, Event::Received(&bytes));
                    }
                    Err(_) => platform::log_error("ignored a text frame from the relay"),
                }
            }
        });
        let weak = Rc::downgrade(this);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            if let Some(inner) = weak.upgrade() {
                if let Some(socket) = inner.socket.borrow_mut().take() {
                    // Its close handler is running right now; drop it later.
                    *inner.retired.borrow_mut() = Some(socket);
                }
                let reason = ev.reason();
                let closed = Event::Closed {
                    code: ev.code(),
                    reason: &reason,
                };
                Inner::handle(&inner, closed);
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

    fn send(&self, frame: &[u8]) {
        let socket = self.socket.borrow();
        let Some(socket) = socket.as_ref() else {
            return;
        };
        if socket.ws.ready_state() != WebSocket::OPEN {
            return;
        }
        if let Err(e) = socket.ws.send_with_u8_array(frame) {
            platform::log_error(&format!(
                "could not send to the relay: {}",
                platform::js_error_text(&e)
            ));
        }
    }

    /// Replaces the pending timer with one firing in `ms`, or with none.
    fn set_timer(&self, ms: Option<u64>) {
        let window = platform::window();
        if let Some(handle) = self.timer.take() {
            window.clear_timeout_with_handle(handle);
        }
        let Some(ms) = ms else {
            return;
        };
        let on_timer = self.on_timer.borrow();
        let Some(callback) = on_timer.as_ref() else {
            return;
        };
        let delay = i32::try_from(ms).unwrap_or(i32::MAX);
        match window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.as_ref().unchecked_ref(),
            delay,
        ) {
            Ok(handle) => self.timer.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }
}
