//! The bytes on the socket: y-protocols messages (encoded and decoded with yrs's
//! `yrs::sync` types), either plain (y-websocket, Firebreak, y-sweet) or in Hocuspocus's
//! framing, where every message starts with the document name as a lib0 var-string and a
//! few message types of its own (auth, sync reply, sync status, close) exist.

use anyhow::{anyhow, bail, Context, Result};
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::protocol::{MessageReader, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::StateVector;

/// How messages are framed on the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// The standard Yjs websocket protocol: one y-protocols message per frame.
    Plain,
    /// Hocuspocus: `varString(documentName)` before each message, and its auth handshake.
    Hocuspocus,
}

// Hocuspocus's own message types (`@hocuspocus/server` `types.ts`), beside y-protocols'
// sync (0), awareness (1) and query-awareness (3).
const HP_AUTH: u8 = 2;
const HP_SYNC_REPLY: u8 = 4;
const HP_STATELESS: u8 = 5;
const HP_CLOSE: u8 = 7;
const HP_SYNC_STATUS: u8 = 8;
const HP_PING: u8 = 9;
const HP_PONG: u8 = 10;
// Sub-types of HP_AUTH (`@hocuspocus/common` `auth.ts`).
const HP_AUTH_TOKEN: u8 = 0;
const HP_AUTH_PERMISSION_DENIED: u8 = 1;
const HP_AUTH_AUTHENTICATED: u8 = 2;
/// Sent after the token, as `@hocuspocus/provider` 4.x does.
const HP_PROVIDER_VERSION: &str = "4.7.0";

/// What arrived, as far as a load-generating client cares.
#[derive(Debug)]
pub enum Incoming {
    /// The server asks for what it is missing.
    SyncStep1(StateVector),
    /// The answer to our step 1: everything we were missing.
    SyncStep2(Vec<u8>),
    /// Someone's change, relayed.
    Update(Vec<u8>),
    /// Presence; counted, not interpreted.
    Awareness,
    /// The server asks for our awareness state.
    QueryAwareness,
    /// Hocuspocus: the token was accepted.
    Authenticated,
    /// Refused (y-protocols auth message or Hocuspocus permission-denied).
    Denied(String),
    /// Hocuspocus: the server closes this document.
    Closed(String),
    /// Hocuspocus: answer with a pong.
    Ping,
    /// Anything else (Hocuspocus sync status, stateless, pong).
    Other,
}

/// Encodes and decodes the messages of one document (room).
#[derive(Clone, Debug)]
pub struct Wire {
    framing: Framing,
    room: String,
    /// The var-string document name Hocuspocus puts before every message; empty for plain.
    prefix: Vec<u8>,
}

impl Wire {
    pub fn new(framing: Framing, room: &str) -> Self {
        let prefix = match framing {
            Framing::Plain => Vec::new(),
            Framing::Hocuspocus => {
                let mut encoder = EncoderV1::new();
                encoder.write_string(room);
                encoder.to_vec()
            }
        };
        Self {
            framing,
            room: room.to_owned(),
            prefix,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// One message as it goes on the socket.
    pub fn encode(&self, message: &Message) -> Vec<u8> {
        let mut encoder = EncoderV1::new();
        encoder.write_all(&self.prefix);
        message.encode(&mut encoder);
        encoder.to_vec()
    }

    /// A document update (`messageYjsUpdate`).
    pub fn update(&self, update: Vec<u8>) -> Vec<u8> {
        self.encode(&Message::Sync(SyncMessage::Update(update)))
    }

    /// Hocuspocus's first message on a document: the token (any string when the server has
    /// no `onAuthenticate` hook) and the provider version.
    pub fn hocuspocus_auth(&self, token: &str) -> Vec<u8> {
        let mut encoder = EncoderV1::new();
        encoder.write_all(&self.prefix);
        encoder.write_var(HP_AUTH);
        encoder.write_var(HP_AUTH_TOKEN);
        encoder.write_string(token);
        encoder.write_string(HP_PROVIDER_VERSION);
        encoder.to_vec()
    }

    /// Hocuspocus's answer to a ping.
    pub fn hocuspocus_pong(&self) -> Vec<u8> {
        let mut encoder = EncoderV1::new();
        encoder.write_all(&self.prefix);
        encoder.write_var(HP_PONG);
        encoder.to_vec()
    }

    /// Every message in one binary frame.
    pub fn decode(&self, frame: &[u8]) -> Result<Vec<Incoming>> {
        match self.framing {
            Framing::Plain => decode_plain(frame),
            Framing::Hocuspocus => self.decode_hocuspocus(frame),
        }
    }

    fn decode_hocuspocus(&self, frame: &[u8]) -> Result<Vec<Incoming>> {
        let mut cursor = Cursor::new(frame);
        let name = cursor
            .read_string()
            .context("hocuspocus frame without a document name")?;
        if name != self.room {
            bail!(
                "hocuspocus frame for document {name:?}, expected {:?}",
                self.room
            );
        }
        let tag: u8 = cursor.read_var()?;
        let rest = &frame[cursor.next..];
        let mut decoder = DecoderV1::new(Cursor::new(rest));
        let incoming = match tag {
            MSG_SYNC | HP_SYNC_REPLY => sync_incoming(SyncMessage::decode(&mut decoder)?),
            MSG_AWARENESS | MSG_QUERY_AWARENESS => {
                // Same bytes as a plain message once the tag is put back.
                let mut plain = Vec::with_capacity(rest.len() + 1);
                plain.push(tag);
                plain.extend_from_slice(rest);
                return decode_plain(&plain);
            }
            HP_AUTH => {
                let mut cursor = Cursor::new(rest);
                match cursor.read_var::<u8>()? {
                    HP_AUTH_AUTHENTICATED => Incoming::Authenticated,
                    HP_AUTH_PERMISSION_DENIED => Incoming::Denied(cursor.read_string()?.into()),
                    // A token request: only sent when a server wants a fresh token.
                    HP_AUTH_TOKEN => Incoming::Other,
                    other => bail!("unknown hocuspocus auth message {other}"),
                }
            }
            HP_CLOSE => Incoming::Closed(Cursor::new(rest).read_string().unwrap_or("").into()),
            HP_PING => Incoming::Ping,
            HP_SYNC_STATUS | HP_STATELESS | HP_PONG => Incoming::Other,
            other => bail!("unknown hocuspocus message type {other}"),
        };
        Ok(vec![incoming])
    }
}

fn sync_incoming(message: SyncMessage) -> Incoming {
    match message {
        SyncMessage::SyncStep1(sv) => Incoming::SyncStep1(sv),
        SyncMessage::SyncStep2(update) => Incoming::SyncStep2(update),
        SyncMessage::Update(update) => Incoming::Update(update),
    }
}

fn decode_plain(frame: &[u8]) -> Result<Vec<Incoming>> {
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    let mut incoming = Vec::with_capacity(1);
    for message in MessageReader::new(&mut decoder) {
        let message = message.map_err(|e| anyhow!("undecodable message: {e}"))?;
        incoming.push(match message {
            Message::Sync(sync) => sync_incoming(sync),
            Message::Awareness(_) => Incoming::Awareness,
            Message::AwarenessQuery => Incoming::QueryAwareness,
            Message::Auth(Some(reason)) => Incoming::Denied(reason),
            Message::Auth(None) | Message::Custom(..) => Incoming::Other,
        });
    }
    Ok(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_update_round_trips() {
        let wire = Wire::new(Framing::Plain, "room");
        let frame = wire.update(vec![1, 2, 3]);
        assert_eq!(frame, [0, 2, 3, 1, 2, 3]);
        match wire.decode(&frame).unwrap().as_slice() {
            [Incoming::Update(u)] => assert_eq!(u, &[1, 2, 3]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hocuspocus_prefixes_the_document_name() {
        let wire = Wire::new(Framing::Hocuspocus, "doc");
        let frame = wire.update(vec![9]);
        assert_eq!(frame, [3, b'd', b'o', b'c', 0, 2, 1, 9]);
        match wire.decode(&frame).unwrap().as_slice() {
            [Incoming::Update(u)] => assert_eq!(u, &[9]),
            other => panic!("{other:?}"),
        }
        // Sync reply (4) is a sync message that does not ask for another step 1.
        let reply = [3, b'd', b'o', b'c', 4, 1, 2, 0, 0];
        assert!(matches!(
            wire.decode(&reply).unwrap().as_slice(),
            [Incoming::SyncStep2(u)] if u == &[0, 0]
        ));
    }

    #[test]
    fn hocuspocus_auth_matches_the_provider() {
        let wire = Wire::new(Framing::Hocuspocus, "d");
        let auth = wire.hocuspocus_auth("t");
        let mut expected = vec![1, b'd', 2, 0, 1, b't', 5];
        expected.extend_from_slice(b"4.7.0");
        assert_eq!(auth, expected);
        let ok = [
            1, b'd', 2, 2, 10, b'r', b'e', b'a', b'd', b'-', b'w', b'r', b'i', b't', b'e',
        ];
        assert!(matches!(
            wire.decode(&ok).unwrap().as_slice(),
            [Incoming::Authenticated]
        ));
        let denied = [1, b'd', 2, 1, 2, b'n', b'o'];
        assert!(matches!(
            wire.decode(&denied).unwrap().as_slice(),
            [Incoming::Denied(r)] if r == "no"
        ));
    }

    #[test]
    fn plain_frames_may_hold_several_messages() {
        let wire = Wire::new(Framing::Plain, "room");
        let mut frame = wire.update(vec![1]);
        frame.extend(wire.encode(&Message::Sync(SyncMessage::SyncStep2(vec![2]))));
        assert_eq!(wire.decode(&frame).unwrap().len(), 2);
    }
}
