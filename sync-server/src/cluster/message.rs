//! What relays tell each other over Redis, in bytes.
//!
//! An incident's channel carries [`Remote`] messages in a small binary form: a kind byte,
//! the origin relay's id, then the kind's fields (integers little-endian, byte strings
//! length-prefixed with a u32). The control channel carries [`Control`] messages as JSON
//! (small, rare).

use serde::{Deserialize, Serialize};

use crate::access::InviteId;
use crate::incident_id::IncidentId;

const UPDATES: u8 = 1;
const CHANGED: u8 = 2;
const PRESENCE: u8 = 3;
const PRESENCE_QUERY: u8 = 4;

/// One message on an incident's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// Updates the origin relay stored (in this order), the `counter`th batch its room
    /// `epoch` published: receivers apply them without storing them again.
    Updates {
        node: String,
        epoch: u64,
        counter: u64,
        updates: Vec<Vec<u8>>,
    },
    /// The origin stored a batch too big to publish: receivers catch up from storage.
    Changed {
        node: String,
        epoch: u64,
        counter: u64,
    },
    /// An awareness frame of the origin's peers (changed or removed entries).
    Presence { node: String, frame: Vec<u8> },
    /// The origin (just loaded the room, or back from a Redis outage) asks the others for
    /// their peers' presence.
    PresenceQuery { node: String },
}

impl Remote {
    pub fn node(&self) -> &str {
        match self {
            Remote::Updates { node, .. }
            | Remote::Changed { node, .. }
            | Remote::Presence { node, .. }
            | Remote::PresenceQuery { node } => node,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put_node = |out: &mut Vec<u8>, kind: u8, node: &str| {
            out.push(kind);
            out.push(node.len().min(255) as u8);
            out.extend_from_slice(&node.as_bytes()[..node.len().min(255)]);
        };
        match self {
            Remote::Updates {
                node,
                epoch,
                counter,
                updates,
            } => {
                put_node(&mut out, UPDATES, node);
                out.extend_from_slice(&epoch.to_le_bytes());
                out.extend_from_slice(&counter.to_le_bytes());
                out.extend_from_slice(&(updates.len() as u32).to_le_bytes());
                for update in updates {
                    out.extend_from_slice(&(update.len() as u32).to_le_bytes());
                    out.extend_from_slice(update);
                }
            }
            Remote::Changed {
                node,
                epoch,
                counter,
            } => {
                put_node(&mut out, CHANGED, node);
                out.extend_from_slice(&epoch.to_le_bytes());
                out.extend_from_slice(&counter.to_le_bytes());
            }
            Remote::Presence { node, frame } => {
                put_node(&mut out, PRESENCE, node);
                out.extend_from_slice(frame);
            }
            Remote::PresenceQuery { node } => put_node(&mut out, PRESENCE_QUERY, node),
        }
        out
    }

    /// `None` for anything that does not decode completely.
    pub fn decode(bytes: &[u8]) -> Option<Remote> {
        let mut reader = Reader(bytes);
        let kind = reader.u8()?;
        let len = reader.u8()? as usize;
        let node = std::str::from_utf8(reader.take(len)?).ok()?.to_owned();
        let message = match kind {
            UPDATES => {
                let epoch = reader.u64()?;
                let counter = reader.u64()?;
                let count = reader.u32()? as usize;
                // Each update takes at least its 4-byte length: a count the bytes cannot
                // hold is refused before anything is allocated for it.
                if count > reader.0.len() / 4 {
                    return None;
                }
                let mut updates = Vec::with_capacity(count);
                for _ in 0..count {
                    let len = reader.u32()? as usize;
                    updates.push(reader.take(len)?.to_vec());
                }
                Remote::Updates {
                    node,
                    epoch,
                    counter,
                    updates,
                }
            }
            CHANGED => Remote::Changed {
                node,
                epoch: reader.u64()?,
                counter: reader.u64()?,
            },
            PRESENCE_QUERY => Remote::PresenceQuery { node },
            PRESENCE => {
                let frame = std::mem::take(&mut reader.0).to_vec();
                return Some(Remote::Presence { node, frame });
            }
            _ => return None,
        };
        reader.0.is_empty().then_some(message)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }
}

/// One message on the control channel, which every relay follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub node: String,
    #[serde(flatten)]
    pub event: ControlEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ControlEvent {
    /// The relay is alive (sent every [`super::HEARTBEAT`]).
    Heartbeat,
    /// The relay is shutting down: drop its presence now.
    Leaving,
    /// Access changed: every relay closes the matching connections.
    Access(AccessEvent),
}

/// A change of access that closes connections on every relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AccessEvent {
    /// Closed with 4410 (naming who revoked it, if known).
    Revoked { invite: String, by: Option<String> },
    /// Closed with 4412.
    RoleChanged { invite: String },
    /// The incident is being deleted: its invites' connections are closed with 4404 and
    /// nobody is let in any more.
    Deleted {
        incident: String,
        invites: Vec<String>,
    },
    /// A playbook no longer shared with a team: the connections of the team's members
    /// (`invites`) to it are closed with 4410 (naming who unshared it), and a member let in
    /// just before is closed as it registers.
    Unshared {
        playbook: String,
        team: String,
        by: String,
        invites: Vec<String>,
    },
    /// A playbook shared (again) with a team: an earlier unsharing no longer closes the
    /// members let in from now on.
    Shared { playbook: String, team: String },
}

impl AccessEvent {
    pub fn revoked(invite: &InviteId, by: Option<&str>) -> Self {
        AccessEvent::Revoked {
            invite: invite.to_string(),
            by: by.map(str::to_owned),
        }
    }
    pub fn role_changed(invite: &InviteId) -> Self {
        AccessEvent::RoleChanged {
            invite: invite.to_string(),
        }
    }
    pub fn deleted(incident: &IncidentId, invites: &[InviteId]) -> Self {
        AccessEvent::Deleted {
            incident: incident.to_string(),
            invites: invites.iter().map(ToString::to_string).collect(),
        }
    }
    pub fn unshared(
        playbook: &IncidentId,
        team: &IncidentId,
        by: &str,
        invites: &[InviteId],
    ) -> Self {
        AccessEvent::Unshared {
            playbook: playbook.to_string(),
            team: team.to_string(),
            by: by.to_owned(),
            invites: invites.iter().map(ToString::to_string).collect(),
        }
    }
    pub fn shared(playbook: &IncidentId, team: &IncidentId) -> Self {
        AccessEvent::Shared {
            playbook: playbook.to_string(),
            team: team.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_messages_round_trip_and_truncated_ones_are_refused() {
        let messages = [
            Remote::Updates {
                node: "node-a".into(),
                epoch: 7,
                counter: 42,
                updates: vec![vec![1, 2, 3], vec![], vec![9; 300]],
            },
            Remote::Changed {
                node: "b".into(),
                epoch: u64::MAX,
                counter: 1,
            },
            Remote::Presence {
                node: "c".into(),
                frame: vec![1, 0, 5],
            },
            Remote::PresenceQuery { node: "d".into() },
        ];
        for message in messages {
            let bytes = message.encode();
            assert_eq!(Remote::decode(&bytes), Some(message.clone()));
            if !matches!(message, Remote::Presence { .. }) {
                for cut in 0..bytes.len() {
                    assert_eq!(Remote::decode(&bytes[..cut]), None, "cut at {cut}");
                }
                let mut longer = bytes.clone();
                longer.push(0);
                assert_eq!(Remote::decode(&longer), None);
            }
        }
        // A count of updates the bytes cannot hold allocates nothing.
        let mut huge = vec![UPDATES, 1, b'x'];
        huge.extend_from_slice(&[0; 16]);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Remote::decode(&huge), None);
        assert_eq!(Remote::decode(&[9, 0]), None);
    }

    #[test]
    fn control_messages_are_json() {
        let control = Control {
            node: "a".into(),
            event: ControlEvent::Access(AccessEvent::Revoked {
                invite: "inv".into(),
                by: Some("Alice".into()),
            }),
        };
        let json = serde_json::to_string(&control).unwrap();
        assert_eq!(serde_json::from_str::<Control>(&json).unwrap(), control);
        let beat: Control = serde_json::from_str(r#"{"node":"b","kind":"heartbeat"}"#).unwrap();
        assert_eq!(beat.event, ControlEvent::Heartbeat);
    }
}
