//! The machine against the relay's real room (`sync_server::room::Room`, sans-IO as well):
//! frames go back and forth in memory until both sides are quiet.

mod common;

use common::*;
use sync_client::{Action, Connection, Event};
use sync_server::room::{Access, PeerId, Room};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Transact, Update};

/// Each client's peer id in the room is its index.
struct Net {
    room: Room,
    clients: Vec<Harness>,
}

impl Net {
    /// Carries `actions` of client `from` out, and everything that follows, until quiet.
    fn run(&mut self, from: usize, actions: Vec<Action>) {
        let mut to_room: Vec<(usize, Vec<u8>)> =
            frames(&actions).into_iter().map(|f| (from, f)).collect();
        while !to_room.is_empty() {
            let mut to_clients: Vec<(usize, Vec<u8>)> = Vec::new();
            for (peer, frame) in to_room.drain(..) {
                let outcome = self
                    .room
                    .receive(peer as PeerId, &frame)
                    .expect("the room accepts every frame the client sends");
                to_clients.extend(outcome.reply.into_iter().map(|f| (peer, f.to_vec())));
                for other in 0..self.clients.len() {
                    if other != peer && self.room.has_peer(other as PeerId) {
                        to_clients.extend(outcome.broadcast.iter().map(|f| (other, f.clone())));
                    }
                }
            }
            for (client, frame) in to_clients {
                let actions = self.clients[client].on(Event::Received(&frame));
                to_room.extend(frames(&actions).into_iter().map(|f| (client, f)));
            }
        }
    }

    /// Client `index` connects: the socket opens and the room takes it in.
    fn join(&mut self, index: usize, access: Access) {
        let opened = self.clients[index].on(Event::Opened);
        let greeting = self.room.join_with(index as PeerId, access);
        self.run(index, opened);
        for frame in greeting {
            let actions = self.clients[index].on(Event::Received(&frame));
            self.run(index, actions);
        }
    }

    fn room_summary(&self) -> String {
        let doc = Doc::new();
        let update = Update::decode_v1(&self.room.snapshot()).unwrap();
        doc.transact_mut().apply_update(update).unwrap();
        let summary = doc.get_or_insert_text("summary");
        let text = summary.get_string(&doc.transact());
        text
    }
}

fn frames(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(frame) => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn changes_reach_the_room_are_confirmed_and_reach_a_viewer() {
    let mut net = Net {
        room: Room::new(),
        clients: vec![Harness::new(11, true), Harness::new(22, false)],
    };
    // The writer types before it is connected, then joins.
    net.clients[0].on(Event::Start);
    let offline = [
        net.clients[0].device.edit("Phishing "),
        net.clients[0].device.edit("wave"),
    ];
    net.clients[0].on(Event::LocalChanges(&offline));
    net.join(0, Access::ReadWrite);
    assert_eq!(net.clients[0].connection, Connection::Synced);
    assert_eq!(net.room_summary(), "Phishing wave");
    assert_eq!(net.clients[0].confirmed, 2);
    assert_eq!(net.clients[0].device.unconfirmed.get(), 0);

    // A viewer with something of its own joins: the room refuses nothing and gets none of it.
    net.clients[1].on(Event::Start);
    let mine = [net.clients[1].device.edit("viewer scribble")];
    assert!(net.clients[1].on(Event::LocalChanges(&mine)).is_empty());
    net.join(1, Access::ReadOnly);
    assert_eq!(net.clients[1].connection, Connection::Synced);
    assert_eq!(net.room_summary(), "Phishing wave");
    assert!(net.clients[1].device.summary().contains("Phishing wave"));
    // Each sees the other.
    assert_eq!(net.clients[0].presence.len(), 1);
    assert_eq!(net.clients[1].presence.len(), 1);

    // Live changes, two batches before any answer: confirmed in full, seen by the viewer.
    let a = [net.clients[0].device.edit(" hits")];
    let first = net.clients[0].on(Event::LocalChanges(&a));
    let b = [net.clients[0].device.edit(" finance")];
    let second = net.clients[0].on(Event::LocalChanges(&b));
    net.run(0, first);
    net.run(0, second);
    assert_eq!(net.clients[0].confirmed, 4);
    assert_eq!(net.clients[0].device.unconfirmed.get(), 0);
    assert!(net.clients[1]
        .device
        .summary()
        .contains("Phishing wave hits finance"));
}

#[test]
fn changes_made_while_cut_off_are_confirmed_after_the_reconnect() {
    let mut net = Net {
        room: Room::new(),
        clients: vec![Harness::new(11, true)],
    };
    net.clients[0].on(Event::Start);
    net.join(0, Access::ReadWrite);
    let sent = [net.clients[0].device.edit("before")];
    // Sent, but the connection drops before the room saw it.
    net.clients[0].on(Event::LocalChanges(&sent));
    net.room.leave(0);
    net.clients[0].on(Event::Closed {
        code: 1006,
        reason: "",
    });
    let later = [net.clients[0].device.edit(" and after")];
    net.clients[0].on(Event::LocalChanges(&later));
    assert_eq!(net.clients[0].device.unconfirmed.get(), 2);

    net.clients[0].wait_for_connect();
    net.join(0, Access::ReadWrite);
    assert_eq!(net.room_summary(), "before and after");
    assert_eq!(net.clients[0].confirmed, 2);
    assert_eq!(net.clients[0].device.unconfirmed.get(), 0);
}

#[test]
fn renewed_presence_outlives_the_staleness_limit_through_the_room() {
    let mut net = Net {
        room: Room::new(),
        clients: vec![Harness::new(11, true), Harness::new(22, true)],
    };
    for index in 0..2 {
        net.clients[index].on(Event::Start);
        net.join(index, Access::ReadWrite);
    }
    assert_eq!(net.clients[0].presence.len(), 1);
    // A minute passes; each renews every 15 s. The room passes a renewal on only when its
    // clock is newer, and each side drops what is not renewed within 35 s.
    for second in 1..=60 {
        for index in 0..2 {
            let at = T0 + second * 1000;
            let actions = net.clients[index].advance_to(at);
            net.run(index, actions);
        }
    }
    assert_eq!(net.clients[0].presence.len(), 1, "still sees the other");
    assert_eq!(net.clients[1].presence.len(), 1, "still sees the other");

    // One leaves without a word (its socket is cut): the other drops it within 35 s + 15 s.
    net.room.leave(1);
    for second in 61..=111 {
        let actions = net.clients[0].advance_to(T0 + second * 1000);
        net.run(0, actions);
    }
    assert_eq!(net.clients[0].presence, vec![]);
}
