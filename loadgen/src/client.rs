//! One simulated editor: a websocket to one room, a yrs document kept in step with it, and the
//! sync handshake (step 1 / step 2, awareness, Hocuspocus's auth) that a stock provider does.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Text, TextRef, Transact, Update};

use crate::target::Room;
use crate::wire::{Framing, Incoming, Wire};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The shared text every client edits.
pub const TEXT: &str = "loadgen";

/// How often a y-protocols client renews its awareness state (half its 30 s timeout).
pub const AWARENESS_RENEWAL: Duration = Duration::from_secs(15);

/// What joining cost.
#[derive(Clone, Copy, Debug)]
pub struct JoinTiming {
    /// TCP connect + websocket upgrade.
    pub handshake: Duration,
    /// From the start of the connect until the server's sync step 2 (the answer to ours)
    /// arrived.
    pub synced: Duration,
    /// Bytes of that sync step 2.
    pub state_bytes: usize,
}

/// A connected, synced client.
pub struct Peer {
    pub socket: Socket,
    pub wire: Wire,
    pub doc: Doc,
    pub text: TextRef,
    pub client_id: u64,
    pub timing: JoinTiming,
    /// State received while joining and not yet applied.
    pending: Vec<Vec<u8>>,
    /// Our awareness clock: each announcement must carry a higher one to count.
    awareness_clock: u32,
}

/// What a frame did to the client.
#[derive(Default)]
pub struct Processed {
    /// The document received something (it may or may not have been new).
    pub updated: bool,
    /// Frames to send back (sync step 2 for the server's step 1, pongs).
    pub replies: Vec<Vec<u8>>,
}

impl Peer {
    /// Connects, authenticates where the framing needs it, and syncs: returns once the
    /// server's sync step 2 (the answer to ours) has arrived. The timing is taken at the
    /// arrival of that frame, before decoding and applying it. With `defer_apply` the state is
    /// not applied at all but kept for [`Peer::apply_pending`]: on a big document applying
    /// is costly, and many joiners applying at once would slow each other's reading and make
    /// the server look slower than it is.
    pub async fn join(
        room: &Room,
        framing: Framing,
        client_id: u64,
        awareness: bool,
        defer_apply: bool,
        timeout: Duration,
    ) -> Result<Peer> {
        tokio::time::timeout(
            timeout,
            Self::join_inner(room, framing, client_id, awareness, defer_apply),
        )
        .await
        .map_err(|_| anyhow!("room {}: not synced within {timeout:?}", room.name))?
    }

    async fn join_inner(
        room: &Room,
        framing: Framing,
        client_id: u64,
        awareness: bool,
        defer_apply: bool,
    ) -> Result<Peer> {
        let start = Instant::now();
        // A small read buffer (it grows for big frames): a thousand clients in this process
        // should not take tungstenite's default 128 KiB each.
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .max_message_size(Some(256 << 20))
            .max_frame_size(Some(256 << 20));
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(room.url.as_str(), Some(config), true)
                .await
                .with_context(|| format!("connecting to room {}", room.name))?;
        let handshake = start.elapsed();
        let wire = room.wire(framing);
        let doc = Doc::with_client_id(client_id);
        let text = doc.get_or_insert_text(TEXT);
        let mut peer = Peer {
            socket,
            wire,
            doc,
            text,
            client_id,
            timing: JoinTiming {
                handshake,
                synced: Duration::ZERO,
                state_bytes: 0,
            },
            pending: Vec::new(),
            awareness_clock: 0,
        };
        let mut hello = Vec::new();
        if framing == Framing::Hocuspocus {
            hello.push(peer.wire.hocuspocus_auth(&room.token));
        }
        let sv = peer.doc.transact().state_vector();
        hello.push(peer.wire.encode(&Message::Sync(SyncMessage::SyncStep1(sv))));
        if awareness {
            hello.push(peer.awareness_message());
        }
        for frame in hello {
            peer.send(frame).await?;
        }
        loop {
            let frame = peer.next_binary().await?;
            let arrived = start.elapsed();
            let mut synced = false;
            for incoming in peer.wire.decode(&frame)? {
                match incoming {
                    Incoming::SyncStep2(update) => {
                        synced = true;
                        peer.timing.state_bytes += update.len();
                        peer.pending.push(update);
                    }
                    Incoming::Update(update) => peer.pending.push(update),
                    other => {
                        for reply in peer.answer(other)? {
                            peer.send(reply).await?;
                        }
                    }
                }
            }
            if synced {
                peer.timing.synced = arrived;
                if !defer_apply {
                    peer.apply_pending()?;
                }
                return Ok(peer);
            }
        }
    }

    /// Applies the state a deferred join received.
    pub fn apply_pending(&mut self) -> Result<()> {
        for update in std::mem::take(&mut self.pending) {
            self.apply(&update)?;
        }
        Ok(())
    }

    /// The next binary frame; pings are answered by tungstenite, text frames ignored.
    pub async fn next_binary(&mut self) -> Result<Vec<u8>> {
        loop {
            match self.socket.next().await {
                Some(Ok(WsMessage::Binary(bytes))) => return Ok(bytes.into()),
                Some(Ok(WsMessage::Close(frame))) => {
                    let why = frame
                        .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                        .unwrap_or_else(|| "no close frame".into());
                    bail!("server closed the connection: {why}")
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => bail!("websocket error: {e}"),
                None => bail!("connection ended"),
            }
        }
    }

    pub async fn send(&mut self, frame: Vec<u8>) -> Result<()> {
        self.socket
            .send(WsMessage::Binary(frame.into()))
            .await
            .context("sending")
    }

    /// Handles one frame that arrived after the join.
    pub fn process(&mut self, frame: &[u8]) -> Result<Processed> {
        let mut processed = Processed::default();
        for incoming in self.wire.decode(frame)? {
            match incoming {
                Incoming::SyncStep2(update) | Incoming::Update(update) => {
                    self.apply(&update)?;
                    processed.updated = true;
                }
                other => processed.replies.extend(self.answer(other)?),
            }
        }
        Ok(processed)
    }

    /// Replies to everything but document state.
    fn answer(&mut self, incoming: Incoming) -> Result<Vec<Vec<u8>>> {
        Ok(match incoming {
            Incoming::SyncStep1(sv) => {
                let update = self.doc.transact().encode_state_as_update_v1(&sv);
                vec![self
                    .wire
                    .encode(&Message::Sync(SyncMessage::SyncStep2(update)))]
            }
            Incoming::QueryAwareness => vec![self.awareness_message()],
            Incoming::Ping => vec![self.wire.hocuspocus_pong()],
            Incoming::Denied(reason) => bail!("permission denied: {reason}"),
            Incoming::Closed(reason) => bail!("server closed the document: {reason}"),
            Incoming::SyncStep2(_)
            | Incoming::Update(_)
            | Incoming::Awareness
            | Incoming::Authenticated
            | Incoming::Other => Vec::new(),
        })
    }

    pub fn apply(&self, update: &[u8]) -> Result<()> {
        let update = Update::decode_v1(update).context("undecodable update")?;
        self.doc
            .transact_mut()
            .apply_update(update)
            .context("update did not apply")
    }

    /// Inserts `chunk` at the start of the shared text; returns the update to send.
    /// (The start, not the end: finding the end of a long text is the costly part for a
    /// client, and the load generator must not be the bottleneck.)
    pub fn edit(&self, chunk: &str) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        self.text.insert(&mut txn, 0, chunk);
        self.wire.update(txn.encode_update_v1())
    }

    /// Presence as a provider announces it: on connect, and again every
    /// [`AWARENESS_RENEWAL`] so that others (and Hocuspocus's idle timeout) know it is alive.
    pub fn awareness_message(&mut self) -> Vec<u8> {
        self.awareness_clock += 1;
        let json = format!(
            r##"{{"user":{{"name":"loadgen {}","color":"#30bced"}}}}"##,
            self.client_id
        );
        let entry = AwarenessUpdateEntry {
            clock: self.awareness_clock,
            json: json.into(),
        };
        let update = AwarenessUpdate {
            clients: [(ClientID::new(self.client_id), entry)]
                .into_iter()
                .collect(),
        };
        self.wire.encode(&Message::Awareness(update))
    }

    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    pub fn text(&self) -> String {
        yrs::GetString::get_string(&self.text, &self.doc.transact())
    }

    pub async fn close(mut self) {
        // Best effort: the measurement is over; a server that already left is fine.
        if self.socket.close(None).await.is_err() {
            return;
        }
        // Read until the server's close arrives, for at most 2 s; then the socket is dropped.
        let drain = async { while let Some(Ok(_)) = self.socket.next().await {} };
        tokio::time::timeout(Duration::from_secs(2), drain)
            .await
            .unwrap_or(());
    }
}

/// `have` has at least everything in `want`.
pub fn covers(have: &StateVector, want: &StateVector) -> bool {
    want.iter()
        .all(|(client, clock)| have.get(client) >= *clock)
}
