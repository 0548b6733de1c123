//! A replica and a driver for the tests: a real yrs document that counts its unconfirmed
//! local changes, and a harness that feeds events to the machine at a fake `now` and does
//! what the app does with the actions (apply updates, count confirmations, keep the timer).

#![allow(dead_code)]

use std::cell::Cell;

use sync_client::{Action, Config, Connection, Event, Peer, Replica, SyncCore};
use yrs::encoding::read::Cursor;
use yrs::sync::{Message, MessageReader};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

pub struct Device {
    pub doc: Doc,
    pub unconfirmed: Cell<u32>,
    pub may_write: bool,
}

impl Device {
    pub fn new(client_id: u64, may_write: bool) -> Device {
        Device {
            doc: Doc::with_client_id(client_id),
            unconfirmed: Cell::new(0),
            may_write,
        }
    }

    /// Types `text` at the end of the summary: one local change, counted as unconfirmed.
    pub fn edit(&self, text: &str) -> Vec<u8> {
        let summary = self.doc.get_or_insert_text("summary");
        let mut txn = self.doc.transact_mut();
        let len = summary.len(&txn);
        summary.insert(&mut txn, len, text);
        let update = txn.encode_update_v1();
        drop(txn);
        self.unconfirmed.set(self.unconfirmed.get() + 1);
        update
    }

    pub fn summary(&self) -> String {
        let summary = self.doc.get_or_insert_text("summary");
        let text = summary.get_string(&self.doc.transact());
        text
    }

    pub fn apply(&self, update: &[u8]) {
        let update = Update::decode_v1(update).expect("the relay's update decodes");
        self.doc
            .transact_mut()
            .apply_update(update)
            .expect("the relay's update applies");
    }
}

impl Replica for Device {
    fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    fn diff_for(&self, remote_state_vector: &[u8]) -> Result<Vec<u8>, String> {
        let sv = StateVector::decode_v1(remote_state_vector).map_err(|e| e.to_string())?;
        Ok(self.doc.transact().encode_state_as_update_v1(&sv))
    }

    fn unconfirmed(&self) -> u32 {
        self.unconfirmed.get()
    }

    fn may_write(&self) -> bool {
        self.may_write
    }
}

/// The machine, its device and a fake clock, wired up as the app wires them.
pub struct Harness {
    pub core: SyncCore,
    pub device: Device,
    pub now: u64,
    /// When the app's timer would fire.
    pub timer: Option<u64>,
    pub confirmed: u32,
    pub connection: Connection,
    pub presence: Vec<Peer>,
    pub problem: Option<String>,
}

pub const T0: u64 = 1_700_000_000_000;

impl Harness {
    pub fn new(client_id: u64, may_write: bool) -> Harness {
        let user = serde_json::json!({"user": {"name": "Ada", "color": "#123456"}});
        Harness {
            core: SyncCore::new(Config {
                client_id: ClientID::new(client_id),
                user,
                seed: 42,
            }),
            device: Device::new(client_id, may_write),
            now: T0,
            timer: None,
            confirmed: 0,
            connection: Connection::Offline,
            presence: Vec::new(),
            problem: None,
        }
    }

    /// Hands `event` to the machine at the current time and carries out what it says.
    pub fn on(&mut self, event: Event<'_>) -> Vec<Action> {
        let actions = self.core.handle(self.now, event, &self.device);
        for action in &actions {
            match action {
                Action::Apply(update) => self.device.apply(update),
                Action::Confirmed(n) => {
                    self.confirmed += n;
                    let left = self.device.unconfirmed.get().saturating_sub(*n);
                    self.device.unconfirmed.set(left);
                }
                Action::Timer(ms) => self.timer = ms.map(|ms| self.now + ms),
                Action::Connection(c) => self.connection = *c,
                Action::Presence(p) => self.presence = p.clone(),
                Action::Problem(p) => self.problem = p.clone(),
                _ => {}
            }
        }
        actions
    }

    /// Moves the clock to `at` and fires the timer if it is due by then.
    pub fn advance_to(&mut self, at: u64) -> Vec<Action> {
        self.now = at;
        match self.timer {
            Some(due) if due <= at => {
                self.timer = None;
                self.on(Event::Tick)
            }
            _ => Vec::new(),
        }
    }

    /// Lets timers fire, one after the other, until the machine asks to connect; returns
    /// how long that took. Panics if nothing would ever connect.
    pub fn wait_for_connect(&mut self) -> u64 {
        let start = self.now;
        for _ in 0..100 {
            let due = self
                .timer
                .expect("a timer is set while waiting to reconnect");
            if self.advance_to(due).contains(&Action::Connect) {
                return self.now - start;
            }
        }
        panic!("never reconnected");
    }

    /// Start, opened, and the relay's SyncStep1 + SyncStep2 answered: synced.
    pub fn connect_and_sync(&mut self) {
        self.on(Event::Start);
        self.open_and_sync();
    }

    pub fn open_and_sync(&mut self) {
        self.on(Event::Opened);
        let relay = Doc::new();
        // The relay's greeting (its state vector), then its answer to our SyncStep1.
        self.on(Event::Received(&step1(&relay)));
        self.on(Event::Received(&step2(&relay, &self.device.doc)));
        assert_eq!(self.connection, Connection::Synced);
    }
}

/// What the machine asked to send, decoded.
pub fn sent(actions: &[Action]) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(frame) => Some(frame),
            _ => None,
        })
        .flat_map(|frame| decode(frame))
        .collect()
}

pub fn decode(frame: &[u8]) -> Vec<Message> {
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    MessageReader::new(&mut decoder)
        .collect::<Result<Vec<_>, _>>()
        .expect("frames decode")
}

/// A relay's SyncStep1: its state vector.
pub fn step1(relay: &Doc) -> Vec<u8> {
    let sv = relay.transact().state_vector();
    Message::Sync(yrs::sync::SyncMessage::SyncStep1(sv)).encode_v1()
}

/// A relay's SyncStep2 answering `device`: what the device lacks.
pub fn step2(relay: &Doc, device: &Doc) -> Vec<u8> {
    let sv = device.transact().state_vector();
    let diff = relay.transact().encode_state_as_update_v1(&sv);
    Message::Sync(yrs::sync::SyncMessage::SyncStep2(diff)).encode_v1()
}

pub fn awareness(client: u64, clock: u32, json: &str) -> Vec<u8> {
    let entry = yrs::sync::awareness::AwarenessUpdateEntry {
        clock,
        json: json.to_string().into(),
    };
    let clients = [(ClientID::new(client), entry)].into_iter().collect();
    Message::Awareness(yrs::sync::AwarenessUpdate { clients }).encode_v1()
}

pub fn user(name: &str) -> String {
    format!(r##"{{"user":{{"name":"{name}","color":"#abcdef"}}}}"##)
}
