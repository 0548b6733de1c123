//! `/sync/{incident}`: the websocket endpoint. A thin shell around the room: frames read from
//! the socket go to the room in order; frames the room queues for this peer are written by a
//! separate task, so the room never waits on a socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use serde::Deserialize;

use super::listener::ConnectionPlace;
use super::{bearer, AppState, ClientAddr};
use crate::access::gate::now_ms;
use crate::access::Grant;
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::metrics::METRICS;
use crate::peer::{CloseSignal, PeerConn, QueueMeter, PEER_QUEUE_FRAMES};
use crate::registry::RoomLink;
use crate::room::Access;

/// Largest accepted message; bigger ones close the connection with 1009.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// What the socket itself reads before giving up. Messages between [`MAX_MESSAGE_BYTES`] and
/// this are read completely and refused with a clean 1009 close; beyond it the socket stops
/// reading mid-message, and the close frame may be lost to a TCP reset.
const SOCKET_READ_LIMIT: usize = 2 * MAX_MESSAGE_BYTES;

/// What a connection that was not let in may send before it is closed: room for a close
/// frame, nothing a document could travel in. A bigger frame ends the connection as soon as
/// its header is read, so a refused connection costs a few kilobytes however much it sends.
const REFUSED_READ_LIMIT: usize = 1024;

/// Most frames written to one socket before a flush.
const MAX_WRITE_BATCH: usize = 64;

/// Read buffer per connection: most of what an idle connection costs, so small (the figures
/// for each size tried are in docs/benchmarks.md). Bigger messages still arrive, in more reads.
const READ_BUFFER_BYTES: usize = 2 * 1024;

/// How long the writer may take to say goodbye once the connection is over.
const WRITER_GRACE: Duration = Duration::from_secs(5);

/// The secret as stock y-websocket clients send it: `?token=` (their `params: { token }`).
/// Kept for them; the app sends its secret as a subprotocol ([`TOKEN_PROTOCOL`]), which
/// proxies do not write to their access logs the way they write URLs.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    /// This device's id, for stock clients (the app sends [`DEVICE_PROTOCOL`]).
    device: Option<String>,
}

/// A subprotocol offering this device's id: `firebreak.device.{id}`.
const DEVICE_PROTOCOL: &str = wire::DEVICE_PROTOCOL_PREFIX;

/// The subprotocol the relay answers with when a client offers it: a browser that offers
/// subprotocols fails the connection unless the relay picks one of them.
const PROTOCOL: &str = wire::SYNC_PROTOCOL;

/// A subprotocol offering the token: `firebreak.token.{invite}.{secret}`.
const TOKEN_PROTOCOL: &str = wire::TOKEN_PROTOCOL_PREFIX;

/// The subprotocols the client offered, in order (`Sec-WebSocket-Protocol`, comma-separated,
/// possibly over several header lines).
fn offered_protocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
}

/// The value of the first offered subprotocol starting with `prefix`.
fn from_protocols<'a>(headers: &'a HeaderMap, prefix: &str) -> Option<&'a str> {
    offered_protocols(headers).find_map(|p| p.strip_prefix(prefix))
}

/// Validates the incident id (400 JSON before any upgrade), checks the secret, then
/// upgrades. A refused secret still gets the upgrade, then at once a close frame with the
/// refusal's code and reason (4401, 4403, 4409, 4410, 4411, 4428, 4429): browsers show websocket
/// clients a close code, never an HTTP status. Nothing of the document is sent, at most
/// [`REFUSED_READ_LIMIT`] bytes a message are read, and the connection keeps its place in its
/// address's count until it is gone.
pub async fn sync_socket(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    place: Option<Extension<ConnectionPlace>>,
    incident: Result<Path<String>, PathRejection>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let incident = match incident
        .map_err(|_| Error::InvalidIncidentId)
        .and_then(|Path(raw)| IncidentId::parse(&raw))
    {
        Ok(incident) => incident,
        Err(error) => return error.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return Error::NotWebSocket(rejection.body_text()).into_response(),
    };
    let (query_token, query_device) = match query {
        Ok(Query(q)) => (q.token, q.device),
        Err(_) => (None, None),
    };
    let device = from_protocols(&headers, DEVICE_PROTOCOL)
        .or_else(|| {
            headers
                .get(wire::DEVICE_HEADER)
                .and_then(|v| v.to_str().ok())
        })
        .or(query_device.as_deref());
    // The secret from wherever the client put it: a subprotocol (the app), an
    // `Authorization` header, or the query (stock clients). None of them is ever logged.
    let token = from_protocols(&headers, TOKEN_PROTOCOL)
        .or_else(|| bearer(&headers))
        .or(query_token.as_deref());
    // The connection's places (in the relay's count and in its address's) are held until
    // the socket is gone, refused or not.
    let place = place.map(|Extension(place)| place);
    let (access, slot) = match state.connections.take(addr) {
        Ok(slot) => {
            let admitted = match state.gate.authorize(&incident, token, addr).await {
                Ok(grant) => state.gate.bind(grant, device, true).await,
                Err(error) => Err(error),
            };
            (admitted, Some(slot))
        }
        Err(error) => (Err(error), None),
    };
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .protocols([PROTOCOL]);
    match access {
        Ok(grant) => upgrade
            .max_message_size(SOCKET_READ_LIMIT)
            .max_frame_size(SOCKET_READ_LIMIT)
            .on_upgrade(move |socket| async move {
                serve(socket, grant, state).await;
                drop((slot, place));
            }),
        Err(error) => {
            tracing::debug!(%incident, code = error.close_code(), reason = %error, "connection refused");
            upgrade
                .max_message_size(REFUSED_READ_LIMIT)
                .max_frame_size(REFUSED_READ_LIMIT)
                .on_upgrade(move |socket| async move {
                    refuse(socket, error).await;
                    drop((slot, place));
                })
        }
    }
}

/// Counts open connections per client address and refuses more than the limit.
#[derive(Clone)]
pub struct AddressLimit {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection's place in its address's count; dropping it frees the place.
pub struct Slot {
    limit: AddressLimit,
    addr: Option<IpAddr>,
}

impl AddressLimit {
    /// `limit` connections per address; 0 for no limit.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    fn open(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a place for a connection from `addr`, or refuses it.
    pub fn take(&self, addr: Option<IpAddr>) -> Result<Slot, Error> {
        let counted = addr
            .filter(|_| self.limit > 0)
            .map(super::client_addr::budget_key);
        if let Some(addr) = counted {
            let mut open = self.open();
            let count = open.entry(addr).or_insert(0);
            if *count >= self.limit {
                return Err(Error::TooManyConnections { limit: self.limit });
            }
            *count += 1;
        }
        Ok(Slot {
            limit: self.clone(),
            addr: counted,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(addr) = self.addr {
            let mut open = self.limit.open();
            if let Some(count) = open.get_mut(&addr) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&addr);
                }
            }
        }
    }
}

/// Closes a connection that was not let in: only the close frame is ever sent.
async fn refuse(mut socket: WebSocket, error: Error) {
    METRICS.closed_with(error.close_code());
    let frame = CloseFrame {
        code: error.close_code(),
        reason: error.close_reason().into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    // Wait briefly for the client's close reply so the close frame is not lost to a reset.
    let reply = async { while let Some(Ok(_)) = socket.next().await {} };
    let _ = tokio::time::timeout(WRITER_GRACE, reply).await;
}

/// Runs one connection until the peer leaves, is closed by the room, is revoked, or the
/// relay stops.
pub async fn serve(socket: WebSocket, grant: Grant, state: AppState) {
    let _open = METRICS.connection_opened();
    let incident = grant.incident.clone();
    let (sink, mut stream) = socket.split();
    let (frames, queued) = mpsc::channel(PEER_QUEUE_FRAMES);
    let meter = Arc::new(QueueMeter::new(state.max_queued_bytes));
    let close = Arc::new(CloseSignal::new());
    // Pings every third of the idle time; browsers and stock clients answer with a pong. A
    // connection silent for the whole idle time (a phone that lost its network leaves a
    // half-open socket) is closed, so such sockets do not pile up.
    let idle_after = state.idle_after;
    let mut writer = tokio::spawn(write_frames(
        sink,
        queued,
        Arc::clone(&meter),
        Arc::clone(&close),
        idle_after / 3,
    ));
    // Revoking the grant closes this connection through `close`; so does its expiry.
    let _connected = state.gate.connected(&grant, Arc::clone(&close));
    let expiry = grant.expires_at_ms.map(|at| {
        let left = Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0));
        let close = Arc::clone(&close);
        tokio::spawn(async move {
            tokio::time::sleep(left).await;
            close.close_with(&Error::Expired);
        })
    });
    let (registry, shutdown) = (&state.registry, &state.shutdown);

    let conn = PeerConn {
        frames,
        meter,
        close: Arc::clone(&close),
        access: if grant.role.may_write() {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        },
        invite: Some(grant.invite.clone()),
    };
    match registry.join(&incident, conn).await {
        Ok(link) => {
            tracing::debug!(%incident, peer = link.peer(), "peer joined");
            read_frames(&mut stream, &link, &close, shutdown, idle_after).await;
            tracing::debug!(%incident, peer = link.peer(), "peer left");
            link.leave().await;
        }
        Err(error) => {
            tracing::warn!(%incident, %error, "could not join room");
            close.close_with(&error);
        }
    }
    if let Some(expiry) = expiry {
        expiry.abort();
    }
    close.finish();
    // Keep reading (and discarding) while the writer says goodbye: a socket closed with
    // unread bytes in it is reset, and the peer would never see the close code and reason.
    let drain = async { while let Some(Ok(_)) = stream.next().await {} };
    let goodbye = async { tokio::join!(&mut writer, drain).0 };
    match tokio::time::timeout(WRITER_GRACE, goodbye).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "websocket writer failed"),
        // A peer that stopped reading keeps the write blocked: drop its socket.
        Err(_) => {
            tracing::debug!("websocket writer did not finish in time; dropping the socket");
            writer.abort();
        }
    }
}

/// Forwards binary frames to the room in order until the connection ends.
async fn read_frames(
    stream: &mut SplitStream<WebSocket>,
    link: &RoomLink,
    close: &CloseSignal,
    shutdown: &CancellationToken,
    idle_after: Duration,
) {
    loop {
        let message = tokio::select! {
            biased;
            () = close.closed() => return,
            () = shutdown.cancelled() => {
                close.close_with(&Error::ShuttingDown);
                return;
            }
            message = tokio::time::timeout(idle_after, stream.next()) => match message {
                Ok(message) => message,
                Err(_) => {
                    close.close_with(&Error::Idle { seconds: idle_after.as_secs() });
                    return;
                }
            },
        };
        match message {
            Some(Ok(Message::Binary(bytes))) => {
                METRICS.frame_in(bytes.len());
                if bytes.len() > MAX_MESSAGE_BYTES {
                    close.close_with(&Error::MessageTooBig {
                        limit: MAX_MESSAGE_BYTES,
                    });
                    return;
                }
                tokio::select! {
                    biased;
                    () = close.closed() => return,
                    sent = link.send_frame(bytes) => {
                        if let Err(error) = sent {
                            close.close_with(&error);
                            return;
                        }
                    }
                }
            }
            Some(Ok(Message::Text(_))) => {
                close.close_with(&Error::TextFrame);
                return;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(_))) | None => return,
            Some(Err(error)) => {
                if is_too_big(error) {
                    close.close_with(&Error::MessageTooBig {
                        limit: MAX_MESSAGE_BYTES,
                    });
                } else {
                    tracing::debug!("websocket read failed; dropping the connection");
                }
                return;
            }
        }
    }
}

fn is_too_big(error: axum::Error) -> bool {
    let inner = error.into_inner();
    matches!(
        inner.downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Writes the room's frames to the socket, telling `meter` what went out once flushed; on
/// close, sends the close frame with its reason.
async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut queued: mpsc::Receiver<Bytes>,
    meter: Arc<QueueMeter>,
    close: Arc<CloseSignal>,
    ping_every: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    loop {
        tokio::select! {
            biased;
            () = close.closed() => break,
            _ = ping.tick() => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    close.finish();
                    return;
                }
            }
            frame = queued.recv() => match frame {
                Some(frame) => {
                    // Everything already queued goes out in one flush: one write, one
                    // wake-up of the peer, however many updates the room sent meanwhile.
                    let mut lengths = Vec::with_capacity(MAX_WRITE_BATCH);
                    let batch = async {
                        METRICS.frame_out(frame.len());
                        lengths.push(frame.len());
                        sink.feed(Message::Binary(frame)).await?;
                        for _ in 1..MAX_WRITE_BATCH {
                            let Ok(frame) = queued.try_recv() else { break };
                            METRICS.frame_out(frame.len());
                            lengths.push(frame.len());
                            sink.feed(Message::Binary(frame)).await?;
                        }
                        sink.flush().await
                    };
                    tokio::select! {
                        biased;
                        () = close.closed() => break,
                        sent = batch => {
                            if sent.is_err() {
                                close.finish();
                                return;
                            }
                            for len in lengths.drain(..) {
                                meter.written(len);
                            }
                        }
                    }
                }
                None => break,
            },
        }
    }
    if let Some(reason) = close.reason() {
        METRICS.closed_with(reason.code);
        let frame = CloseFrame {
            code: reason.code,
            reason: reason.reason.into(),
        };
        if let Err(error) = sink.send(Message::Close(Some(frame))).await {
            tracing::debug!(%error, "could not send close frame");
        }
    }
    if let Err(error) = sink.close().await {
        tracing::debug!(%error, "could not close websocket");
    }
}
