//! What the history tests share: a relay that keeps a record of every update it accepts (as
//! the real relay's record does), and devices whose committed changes wait in an outbox until
//! sent. Each device is an `Incident` with its own client id; past states are rebuilt from
//! the record.
#![allow(dead_code)] // each test file uses its own part of this

use std::cell::RefCell;
use std::rc::Rc;

use incident::history::{state_at, Record};
use incident::{Incident, Subscription, UpdateOrigin};

/// The relay: its live document and the record of every update it accepted.
pub struct Relay {
    pub doc: Incident,
    pub records: Vec<Record>,
}

impl Relay {
    pub fn new() -> Relay {
        Relay {
            doc: Incident::with_client_id(999),
            records: Vec::new(),
        }
    }

    /// Applies `update` and records it as sent by `by`, received at `at_ms`, written on the
    /// device at `written_at_ms` when that is known.
    pub fn accept(&mut self, update: Vec<u8>, by: &str, at_ms: i64, written_at_ms: Option<i64>) {
        self.doc
            .apply_update(&update, UpdateOrigin::Relay)
            .expect("a good update");
        self.records.push(Record {
            seq: self.records.len() as u64 + 1,
            received_at_ms: at_ms,
            by: by.to_string(),
            written_at_ms,
            update,
        });
    }

    /// The incident as it stood at `ms`, rebuilt from the record.
    pub fn then(&self, ms: i64) -> Incident {
        let replay = state_at(&self.records, ms).expect("the record replays");
        copy(replay.incident())
    }
}

/// One person's device: an incident whose local changes wait in an outbox until sent.
pub struct Device {
    pub name: &'static str,
    pub incident: Incident,
    outbox: Rc<RefCell<Vec<Vec<u8>>>>,
    _sub: Subscription,
}

impl Device {
    pub fn new(name: &'static str, client_id: u64) -> Device {
        let incident = Incident::with_client_id(client_id);
        let outbox: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
        let queue = Rc::clone(&outbox);
        let sub = incident.on_update(move |update, origin| {
            if origin == UpdateOrigin::Local {
                queue.borrow_mut().push(update.to_vec());
            }
        });
        Device {
            name,
            incident,
            outbox,
            _sub: sub,
        }
    }

    /// Sends every queued change; the relay receives them at `at_ms`.
    pub fn send(&self, relay: &mut Relay, at_ms: i64) {
        self.send_as(relay, self.name, at_ms);
    }

    /// Sends every queued change under the invite name `by`.
    pub fn send_as(&self, relay: &mut Relay, by: &str, at_ms: i64) {
        for update in self.outbox.borrow_mut().drain(..) {
            relay.accept(update, by, at_ms, None);
        }
    }

    /// Sends changes made offline at `written_at_ms`, arriving at `at_ms`.
    pub fn send_late(&self, relay: &mut Relay, written_at_ms: i64, at_ms: i64) {
        for update in self.outbox.borrow_mut().drain(..) {
            relay.accept(update, self.name, at_ms, Some(written_at_ms));
        }
    }

    /// Fetches what the relay has and this device lacks.
    pub fn receive(&self, relay: &Relay) {
        let diff = relay
            .doc
            .encode_diff(&self.incident.state_vector())
            .unwrap();
        self.incident
            .apply_update(&diff, UpdateOrigin::Relay)
            .unwrap();
    }

    /// How many changes wait to be sent.
    pub fn pending(&self) -> usize {
        self.outbox.borrow().len()
    }
}

/// A separate copy of `incident` as it is now.
pub fn copy(incident: &Incident) -> Incident {
    let copy = Incident::new();
    copy.apply_update(&incident.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    copy
}
