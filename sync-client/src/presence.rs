//! Presence: who else has the incident open, over the Yjs awareness protocol. Each client
//! announces a JSON state (`{"user":{"name":..,"color":..}}`) under its client id with a
//! clock that grows with every announcement; a newer clock replaces the older state, a
//! `null` state means the client left. States not renewed for [`STALE_MS`] are dropped: their
//! client went away without saying so.

use std::collections::HashMap;

use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message};
use yrs::updates::encoder::Encode;
use yrs::ClientID;

/// Our own state is announced again this often, so that others keep it.
pub const RENEW_MS: u64 = 15_000;
/// Another client's state not renewed for this long is dropped.
pub const STALE_MS: u64 = 35_000;

const LEFT: &str = "null";

/// Another responder who has the incident open right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub name: String,
    pub color: String,
}

struct Seen {
    clock: u32,
    peer: Option<Peer>,
    /// When its state was last renewed (ms).
    at: u64,
}

pub(crate) struct Presence {
    me: ClientID,
    clock: u32,
    state: String,
    others: HashMap<ClientID, Seen>,
    /// The list last reported, so that only changes are.
    reported: Vec<Peer>,
}

impl Presence {
    pub(crate) fn new(me: ClientID, state: String) -> Presence {
        Presence {
            me,
            clock: 0,
            state,
            others: HashMap::new(),
            reported: Vec::new(),
        }
    }

    /// A frame announcing our state with a newer clock.
    pub(crate) fn announce(&mut self) -> Vec<u8> {
        let state = self.state.clone();
        self.frame(state)
    }

    /// A frame saying we are leaving.
    pub(crate) fn leave(&mut self) -> Vec<u8> {
        self.frame(LEFT.to_string())
    }

    fn frame(&mut self, json: String) -> Vec<u8> {
        self.clock = self.clock.wrapping_add(1);
        let entry = AwarenessUpdateEntry {
            clock: self.clock,
            json: json.into(),
        };
        let clients = [(self.me, entry)].into_iter().collect();
        Message::Awareness(AwarenessUpdate { clients }).encode_v1()
    }

    /// Takes in the states of an awareness update received at `now`.
    pub(crate) fn apply(&mut self, now: u64, update: AwarenessUpdate) {
        for (client, entry) in update.clients {
            if client == self.me {
                // The relay echoes our own announcements back.
                continue;
            }
            let json: &str = entry.json.as_ref();
            let left = json == LEFT;
            let newer = match self.others.get(&client) {
                Some(seen) => entry.clock > seen.clock || (entry.clock == seen.clock && left),
                None => !left,
            };
            if !newer {
                continue;
            }
            if left {
                self.others.remove(&client);
            } else {
                let seen = Seen {
                    clock: entry.clock,
                    peer: peer_of(json),
                    at: now,
                };
                self.others.insert(client, seen);
            }
        }
    }

    /// Drops the states not renewed for [`STALE_MS`].
    pub(crate) fn drop_stale(&mut self, now: u64) {
        self.others
            .retain(|_, seen| now.saturating_sub(seen.at) < STALE_MS);
    }

    /// Forgets everyone: the connection is gone, and with it what we knew.
    pub(crate) fn clear(&mut self) {
        self.others.clear();
    }

    /// Who is here, sorted by name, if that changed since it was last reported.
    pub(crate) fn report(&mut self) -> Option<Vec<Peer>> {
        let mut peers: Vec<Peer> = self
            .others
            .values()
            .filter_map(|seen| seen.peer.clone())
            .collect();
        peers.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.color.cmp(&b.color)));
        if peers == self.reported {
            return None;
        }
        self.reported = peers.clone();
        Some(peers)
    }
}

/// The responder in a state `{"user":{"name":..,"color":..}}`; states without a name (other
/// kinds of clients) are kept for their clock but not shown.
fn peer_of(json: &str) -> Option<Peer> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let user = value.get("user")?;
    Some(Peer {
        name: user.get("name")?.as_str()?.to_string(),
        color: user
            .get("color")
            .and_then(|c| c.as_str())
            .unwrap_or("#555")
            .to_string(),
    })
}
