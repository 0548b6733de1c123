//! Evidence attachments over HTTP ([`crate::store::blobs`]):
//!
//! - `PUT /api/incidents/{id}/blobs/{sha256}` (owner, editor): the body is the file. The
//!   relay hashes it as it reads, holds at most `--max-attachment-bytes` of it, and stores it
//!   only if its SHA-256 is the one in the path, an image type's claim matches the bytes'
//!   signature, and the incident's files stay within `--max-attachment-bytes-per-incident`.
//!   201 when stored, 200 when the incident had it already; the answer is the file's
//!   metadata as JSON.
//! - `GET` (any member) answers the bytes with the stored type, as a download the browser
//!   never runs or sniffs; `HEAD` the same headers without the bytes.
//!
//! An upload's body must arrive within `--attachment-upload-timeout` of its taking one of the
//! [`UPLOADS_AT_ONCE`] reading places (else 408, nothing stored), and an upload waits at most
//! `--attachment-wait-timeout` for a place (else 503 with `Retry-After`): a client that
//! sends a head and then trickles or stops holds a place for a bounded time, and uploads
//! that queue behind such clients are told to come back rather than wait without end. A
//! `GET` whose `If-None-Match` names the file's hash is answered 304 from its metadata,
//! without reading the bytes. A download's bytes are held until the client has taken them,
//! by at most `--max-attachment-downloads` answers at once (one more gets 503 with
//! `Retry-After`), and for `--attachment-download-timeout` at most: then its connection is
//! cut ([`super::listener::ConnectionCut`]) and the bytes freed.
//!
//! Neither pool can be taken by one client: a client, counted both by the invite whose token
//! asks and by the address it asks from (behind a `--trusted-proxy`, the real client's;
//! IPv6 by its /64), holds at most `--max-attachment-downloads-per-client` of the download
//! places and `--max-attachment-uploads-per-client` of the reading places ([`Shares`]). One
//! more from it is refused at once with 503 and `Retry-After`, saying how many it holds,
//! while every other client still finds places. A share is given back with its place, when
//! the answer is sent, cut, timed out or dropped with its connection.
//!
//! Token, device and failure counting are those of every incident API call
//! ([`super::api::Caller`]); the device id is required (an attachment is part of the
//! document), by header or, for a download, `?device=`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use wire::api::ErrorBody;

use super::api::Caller;
use super::client_addr::budget_key;
use super::listener::ConnectionCut;
use super::{AppState, ClientAddr};
use crate::access::gate::now_ms;
use crate::access::{Grant, InviteId};
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::store::blobs::{self, BlobMeta, Put};
use crate::store::record::hex;
use crate::store::Store;

/// Default largest attachment (`--max-attachment-bytes`): 10 MiB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// Default most bytes of attachments per incident (`--max-attachment-bytes-per-incident`).
pub const DEFAULT_MAX_ATTACHMENT_BYTES_PER_INCIDENT: u64 = 512 * 1024 * 1024;

/// Uploads read at the same time; each holds up to one attachment in memory.
pub const UPLOADS_AT_ONCE: usize = 4;

/// Downloads read from the store at the same time.
pub const DOWNLOADS_AT_ONCE: usize = 4;

/// Default seconds an upload's body has to arrive once it is being read
/// (`--attachment-upload-timeout`): a 10 MiB file at 0.7 Mbit/s.
pub const DEFAULT_UPLOAD_TIMEOUT_SECS: u64 = 120;

/// Default seconds an upload waits for one of the [`UPLOADS_AT_ONCE`] places
/// (`--attachment-wait-timeout`).
pub const DEFAULT_UPLOAD_WAIT_SECS: u64 = 30;

/// Default seconds a download's whole answer has to be taken by the client
/// (`--attachment-download-timeout`): a 10 MiB file at 0.7 Mbit/s.
pub const DEFAULT_DOWNLOAD_TIMEOUT_SECS: u64 = 120;

/// Default downloads whose bytes the relay holds at once, across all clients
/// (`--max-attachment-downloads`): at most this many times `--max-attachment-bytes` in
/// memory for answers being sent.
pub const DEFAULT_MAX_DOWNLOADS_HELD: u64 = 16;

/// Default download places one client may hold at once
/// (`--max-attachment-downloads-per-client`): a member, or an address, that asks and never
/// reads keeps 4 of the 16 at most, and the other 12 stay for everyone else.
pub const DEFAULT_MAX_DOWNLOADS_PER_CLIENT: u64 = 4;

/// Default reading places, of the [`UPLOADS_AT_ONCE`], one client may hold at once
/// (`--max-attachment-uploads-per-client`).
pub const DEFAULT_MAX_UPLOADS_PER_CLIENT: u64 = 2;

/// How much of a download is handed to the connection at a time.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

/// The `Retry-After` of an upload that found no place in time: a place is taken for at most
/// the upload timeout, so some are usually free again within seconds.
pub const BUSY_RETRY_AFTER_SECS: u64 = 10;

struct Limits {
    per_file: u64,
    per_incident: u64,
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

struct Timeouts {
    upload: Duration,
    wait: Duration,
}

struct DownloadBounds {
    timeout: Duration,
    held: Arc<Semaphore>,
    most: usize,
}

static DOWNLOAD_BOUNDS: OnceLock<DownloadBounds> = OnceLock::new();

/// Sets how long a download's answer may take to be taken and how many are held at once
/// (`--attachment-download-timeout`, `--max-attachment-downloads`); once, at start.
pub fn set_download_bounds(timeout: Duration, most: usize) {
    let _ = DOWNLOAD_BOUNDS.set(DownloadBounds {
        timeout,
        held: Arc::new(Semaphore::new(most)),
        most,
    });
}

fn download_bounds() -> &'static DownloadBounds {
    DOWNLOAD_BOUNDS.get_or_init(|| {
        let most = DEFAULT_MAX_DOWNLOADS_HELD as usize;
        DownloadBounds {
            timeout: Duration::from_secs(DEFAULT_DOWNLOAD_TIMEOUT_SECS),
            held: Arc::new(Semaphore::new(most)),
            most,
        }
    })
}

static TIMEOUTS: OnceLock<Timeouts> = OnceLock::new();

/// Sets how long an upload's body may take and how long an upload waits for a place
/// (`--attachment-upload-timeout`, `--attachment-wait-timeout`); once, at start.
pub fn set_timeouts(upload: Duration, wait: Duration) {
    let _ = TIMEOUTS.set(Timeouts { upload, wait });
}

fn timeouts() -> &'static Timeouts {
    TIMEOUTS.get_or_init(|| Timeouts {
        upload: Duration::from_secs(DEFAULT_UPLOAD_TIMEOUT_SECS),
        wait: Duration::from_secs(DEFAULT_UPLOAD_WAIT_SECS),
    })
}

/// Sets the limits (`--max-attachment-bytes`, `--max-attachment-bytes-per-incident`); once,
/// at start.
pub fn set_limits(per_file: u64, per_incident: u64) {
    let _ = LIMITS.set(Limits {
        per_file,
        per_incident,
    });
}

fn limits() -> &'static Limits {
    LIMITS.get_or_init(|| Limits {
        per_file: DEFAULT_MAX_ATTACHMENT_BYTES,
        per_incident: DEFAULT_MAX_ATTACHMENT_BYTES_PER_INCIDENT,
    })
}

/// The largest attachment this relay takes (`--max-attachment-bytes`), told to the app in
/// `GET …/me` so it refuses a bigger file before reading it.
pub fn max_attachment_bytes() -> u64 {
    limits().per_file
}

fn uploads() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(UPLOADS_AT_ONCE)))
}

fn downloads() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(DOWNLOADS_AT_ONCE)))
}

/// Who a share of places is counted for: the invite whose token asks, and the address it
/// asks from ([`budget_key`]: IPv6 by its /64, as every per-address budget).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Client {
    Invite(IncidentId, InviteId),
    Address(IpAddr),
}

impl Client {
    /// The invite of `grant` and the address `addr` (none when the server has no connect
    /// info, in router tests).
    fn both(grant: &Grant, addr: Option<IpAddr>) -> Vec<Client> {
        let mut clients = vec![Client::Invite(grant.incident.clone(), grant.invite.clone())];
        clients.extend(addr.map(|addr| Client::Address(budget_key(addr))));
        clients
    }

    /// How the client is named to itself in a refusal.
    fn described(&self) -> String {
        match self {
            Client::Invite(..) => "this invite".to_owned(),
            Client::Address(IpAddr::V4(addr)) => format!("this client address ({addr})"),
            Client::Address(IpAddr::V6(addr)) => format!("this client address ({addr}/64)"),
        }
    }
}

/// One pool's places held by each client (download places, upload reading places), so that
/// no client can take them all: each holds at most `most`. A client has an entry only while
/// it holds a place, and a place is taken only with one of the pool's own (bounded) places,
/// so the map has at most two entries (invite, address) per place of the pool.
struct Shares {
    /// Places one client may hold; 0: no share, only the pool's own bound.
    most: usize,
    held: Mutex<HashMap<Client, usize>>,
}

impl Shares {
    fn new(most: usize) -> Shares {
        Shares {
            most,
            held: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Client, usize>> {
        // Nothing under the lock can panic halfway through a change of the counts.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The one of `clients` that holds its whole share in `held`, if any.
    fn over<'a>(&self, held: &HashMap<Client, usize>, clients: &'a [Client]) -> Option<&'a Client> {
        clients
            .iter()
            .find(|client| held.get(*client).is_some_and(|n| *n >= self.most))
    }

    /// The one of `clients` that already holds its whole share, if any.
    fn full(&self, clients: &[Client]) -> Option<Client> {
        if self.most == 0 {
            return None;
        }
        self.over(&self.lock(), clients).cloned()
    }

    /// One place for each of `clients` at once, or the one that already holds its share
    /// (then nothing is taken).
    fn take(&'static self, clients: Vec<Client>) -> Result<Share, Client> {
        if self.most == 0 {
            return Ok(Share {
                shares: self,
                clients: Vec::new(),
            });
        }
        let mut held = self.lock();
        if let Some(full) = self.over(&held, &clients) {
            return Err(full.clone());
        }
        for client in &clients {
            *held.entry(client.clone()).or_insert(0) += 1;
        }
        drop(held);
        Ok(Share {
            shares: self,
            clients,
        })
    }
}

/// A place taken in the shares of a request's clients; given back when dropped, however the
/// request ends (answered, refused, timed out, its connection cut or gone).
struct Share {
    shares: &'static Shares,
    clients: Vec<Client>,
}

impl Drop for Share {
    fn drop(&mut self) {
        if self.clients.is_empty() {
            return;
        }
        let mut held = self.shares.lock();
        for client in &self.clients {
            if let Some(n) = held.get_mut(client) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.remove(client);
                }
            }
        }
    }
}

struct ClientShares {
    downloads: Shares,
    uploads: Shares,
}

static SHARES: OnceLock<ClientShares> = OnceLock::new();

/// Sets how many download places and upload reading places one client may hold at once
/// (`--max-attachment-downloads-per-client`, `--max-attachment-uploads-per-client`; 0 for
/// no share); once, at start.
pub fn set_client_shares(downloads: usize, uploads: usize) {
    let _ = SHARES.set(ClientShares {
        downloads: Shares::new(downloads),
        uploads: Shares::new(uploads),
    });
}

fn shares() -> &'static ClientShares {
    SHARES.get_or_init(|| ClientShares {
        downloads: Shares::new(DEFAULT_MAX_DOWNLOADS_PER_CLIENT as usize),
        uploads: Shares::new(DEFAULT_MAX_UPLOADS_PER_CLIENT as usize),
    })
}

#[derive(Deserialize)]
pub struct BlobQuery {
    device: Option<String>,
}

fn refused(status: StatusCode, message: impl Into<String>) -> Error {
    Error::Attachment(status, message.into())
}

fn too_big(limit: u64) -> Error {
    refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("this attachment is over the relay's limit of {limit} bytes a file (--max-attachment-bytes)"),
    )
}

fn hash_in_path(raw: &str) -> Result<[u8; 32], Error> {
    blobs::parse_sha256(raw).ok_or_else(|| {
        Error::BadRequest(format!(
            "{raw:?} is not a SHA-256: name an attachment by the 64 hex digits of its bytes' SHA-256"
        ))
    })
}

/// The caller's grant on its own device.
async fn member(
    state: &AppState,
    grant: Grant,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Grant, Error> {
    let device = super::device(headers, query);
    state.gate.bind(grant, device, true).await
}

fn store_blobs(store: &dyn Store) -> Result<&dyn blobs::Blobs, Error> {
    store
        .blobs()
        .ok_or_else(|| Error::Storage("this storage backend keeps no attachments".into()))
}

fn shown(meta: &BlobMeta) -> serde_json::Value {
    serde_json::json!({
        "sha256": hex(&meta.sha256),
        "size": meta.size,
        "content_type": meta.content_type,
        "added_by": meta.added_by,
        "added_at": meta.added_at_ms,
    })
}

/// `PUT /api/incidents/{id}/blobs/{sha256}`.
pub async fn upload(
    State(state): State<AppState>,
    Caller(grant): Caller,
    ClientAddr(addr): ClientAddr,
    Path((_, raw_hash)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let expected = hash_in_path(&raw_hash)?;
    let grant = member(&state, grant, &headers, None).await?;
    if !grant.role.may_write() {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "viewers can download attachments but not add them: ask an owner to make you an editor",
        ));
    }
    let limits = limits();
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limits.per_file) {
        return Err(too_big(limits.per_file));
    }
    let content_type = blobs::sanitised_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    // A client already reading its share of places is told at once, not queued; its place
    // in its share is taken with the reading place (so only while it holds one).
    let clients = Client::both(&grant, addr);
    let shares = &shares().uploads;
    if let Some(client) = shares.full(&clients) {
        return Ok(uploads_over_share(&client, shares.most));
    }
    let timeouts = timeouts();
    let _slot = match tokio::time::timeout(timeouts.wait, uploads().acquire()).await {
        Ok(slot) => slot.map_err(|_| Error::ShuttingDown)?,
        Err(_) => return Ok(busy(timeouts.wait)),
    };
    let _share = match shares.take(clients) {
        Ok(share) => share,
        Err(client) => return Ok(uploads_over_share(&client, shares.most)),
    };

    // Read, hashing as the bytes come, never holding more than the limit, for at most the
    // upload timeout.
    let capacity = announced.unwrap_or(0).min(limits.per_file);
    let read = tokio::time::timeout(timeouts.upload, read_body(body, capacity, limits.per_file));
    let (bytes, hasher) = match read.await {
        Ok(read) => read?,
        Err(_) => {
            return Err(refused(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the attachment's body did not arrive within the relay's {} s (--attachment-upload-timeout); nothing was stored: try again on a better connection",
                    timeouts.upload.as_secs()
                ),
            ))
        }
    };
    let actual: [u8; 32] = hasher.finalize().into();
    if actual != expected {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the bytes' SHA-256 is {} not {}: the file changed on the way, or the name is not its hash; nothing was stored",
                hex(&actual),
                hex(&expected)
            ),
        ));
    }
    if let Err(format) = blobs::check_signature(content_type, &bytes) {
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("this attachment claims {content_type} but is not a {format} image; nothing was stored"),
        ));
    }
    let meta = BlobMeta {
        sha256: actual,
        content_type: content_type.to_owned(),
        size: bytes.len() as u64,
        added_by: grant.name.clone(),
        added_at_ms: now_ms(),
    };
    let store = state.registry.store();
    let incident = grant.incident.clone();
    let per_incident = limits.per_incident;
    let (put, stored) = tokio::task::spawn_blocking(move || {
        let blobs = store_blobs(store.as_ref())?;
        let put = blobs.put_blob(&incident, &meta, &bytes, per_incident)?;
        let stored = blobs.blob_meta(&incident, &meta.sha256)?;
        Ok::<_, Error>((put, stored))
    })
    .await
    .map_err(|e| Error::Storage(format!("storing the attachment stopped: {e}")))??;
    let status = match put {
        Put::Added => StatusCode::CREATED,
        Put::AlreadyThere => StatusCode::OK,
        Put::IncidentDeleted => return Err(Error::IncidentDeleted),
        Put::OverIncidentLimit { stored } => {
            return Err(refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "this incident's attachments already take {stored} bytes; this one would pass the relay's limit of {per_incident} bytes an incident (--max-attachment-bytes-per-incident); nothing was stored"
                ),
            ))
        }
    };
    let stored = stored.ok_or_else(|| Error::Storage("the stored attachment is missing".into()))?;
    Ok((status, Json(shown(&stored))).into_response())
}

/// Reads an upload's body, hashing it, refusing it once it passes `limit`.
async fn read_body(body: Body, capacity: u64, limit: u64) -> Result<(Vec<u8>, Sha256), Error> {
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut hasher = Sha256::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Error::BadRequest(format!("the attachment's body could not be read: {e}"))
        })?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_big(limit));
        }
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, hasher))
}

/// 503 for an upload that found every reading place taken for `waited`: nothing was read,
/// nothing is stored, and the client is told when to come back. Not logged as a failure:
/// it is the bound working.
fn busy(waited: Duration) -> Response {
    unavailable(format!(
        "the relay is reading {UPLOADS_AT_ONCE} other attachments and none finished within {} s (--attachment-wait-timeout); nothing was stored: retry in {BUSY_RETRY_AFTER_SECS} s",
        waited.as_secs()
    ))
}

/// 503 for an upload from a client already sending its share of attachments: nothing read,
/// nothing stored; the other clients' uploads go on.
fn uploads_over_share(client: &Client, most: usize) -> Response {
    unavailable(format!(
        "{} is already sending {most} attachments, the most one client may at once (--max-attachment-uploads-per-client); nothing was stored: retry in {BUSY_RETRY_AFTER_SECS} s, once those are done",
        client.described()
    ))
}

/// 503 with `Retry-After` and `error` as the reason. Not logged as a failure: it is a bound
/// working.
fn unavailable(error: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(
            header::RETRY_AFTER,
            HeaderValue::from(BUSY_RETRY_AFTER_SECS),
        )],
        Json(ErrorBody { error }),
    )
        .into_response()
}

fn not_here() -> Error {
    refused(
        StatusCode::NOT_FOUND,
        "this incident has no attachment with that SHA-256",
    )
}

/// The headers of a download: the stored type, never sniffed, never shown as a page of the
/// relay's site, cached by the one browser for good (the bytes never change under a hash).
fn download_headers(meta: &BlobMeta, headers: &mut HeaderMap) {
    let hash = hex(&meta.sha256);
    let set = |headers: &mut HeaderMap, name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_TYPE, meta.content_type.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(
        headers,
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{hash}\""),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    set(headers, header::ETAG, format!("\"{hash}\""));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
}

/// Whether `If-None-Match` names the file `hash` (its ETag, weak or strong, or `*`).
fn names_hash(headers: &HeaderMap, hash: &[u8; 32]) -> bool {
    let ours = hex(hash);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| {
            tag == "*"
                || tag
                    .trim_start_matches("W/")
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .is_some_and(|t| t.eq_ignore_ascii_case(&ours))
        })
}

/// `GET /api/incidents/{id}/blobs/{sha256}`: the bytes, or 304 when `If-None-Match` names
/// them.
pub async fn download(
    State(state): State<AppState>,
    Caller(grant): Caller,
    ClientAddr(addr): ClientAddr,
    Path((_, raw_hash)): Path<(String, String)>,
    Query(query): Query<BlobQuery>,
    cut: Option<Extension<ConnectionCut>>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let cut = cut.map(|Extension(cut)| cut);
    let hash = hash_in_path(&raw_hash)?;
    let grant = member(&state, grant, &headers, query.device.as_deref()).await?;
    if names_hash(&headers, &hash) {
        // The client has these bytes: the bytes under a hash never change, so only the
        // metadata is read, to answer for a file this incident really has.
        let store = state.registry.store();
        let meta = tokio::task::spawn_blocking(move || {
            store_blobs(store.as_ref())?.blob_meta(&grant.incident, &hash)
        })
        .await
        .map_err(|e| Error::Storage(format!("reading the attachment stopped: {e}")))??
        .ok_or_else(not_here)?;
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        download_headers(&meta, response.headers_mut());
        response.headers_mut().remove(header::CONTENT_TYPE);
        return Ok(response);
    }
    // A place among the answers held in memory, and one in the client's share of them,
    // kept until the answer is sent or cut.
    let bounds = download_bounds();
    let Ok(held) = Arc::clone(&bounds.held).try_acquire_owned() else {
        return Ok(downloads_busy(bounds.most));
    };
    let shares = &shares().downloads;
    let share = match shares.take(Client::both(&grant, addr)) {
        Ok(share) => share,
        Err(client) => return Ok(downloads_over_share(&client, shares.most)),
    };
    let held = Held {
        _place: held,
        _share: share,
    };
    let slot = downloads()
        .acquire()
        .await
        .map_err(|_| Error::ShuttingDown)?;
    let store = state.registry.store();
    let (meta, bytes) = tokio::task::spawn_blocking(move || {
        store_blobs(store.as_ref())?.blob(&grant.incident, &hash)
    })
    .await
    .map_err(|e| Error::Storage(format!("reading the attachment stopped: {e}")))??
    .ok_or_else(not_here)?;
    drop(slot);
    let length = bytes.len();
    let mut response = timed_body(bytes.into(), held, cut, bounds.timeout).into_response();
    download_headers(&meta, response.headers_mut());
    // Sent as a length, not chunked, as when the answer was one piece.
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// A download's place among those held and in its client's share, given back together.
struct Held {
    _place: OwnedSemaphorePermit,
    _share: Share,
}

/// A download's answer: `bytes` in chunks, holding `held` until it is sent or dropped. If
/// the client has not taken all of it within `timeout`, its connection is cut, which drops
/// the answer and its bytes: a client that asks and never reads holds the file that long
/// at most.
fn timed_body(
    bytes: bytes::Bytes,
    held: Held,
    cut: Option<ConnectionCut>,
    timeout: Duration,
) -> Body {
    let sent = CancellationToken::new();
    if let Some(ConnectionCut(cut)) = cut {
        let sent = sent.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(timeout) => {
                    tracing::debug!("an attachment download was not taken in time; cutting its connection");
                    cut.cancel();
                }
                () = sent.cancelled() => {}
            }
        });
    }
    let done = sent.drop_guard();
    let chunks =
        futures_util::stream::unfold((bytes, held, done), |(mut rest, held, done)| async move {
            if rest.is_empty() {
                return None;
            }
            let chunk = rest.split_to(rest.len().min(DOWNLOAD_CHUNK));
            Some((Ok::<_, std::convert::Infallible>(chunk), (rest, held, done)))
        });
    Body::from_stream(chunks)
}

/// 503 for a download while `most` others are being sent: nothing read, come back later.
fn downloads_busy(most: usize) -> Response {
    unavailable(format!(
        "the relay is sending {most} other attachments (--max-attachment-downloads): retry in {BUSY_RETRY_AFTER_SECS} s"
    ))
}

/// 503 for a download by a client already being sent its share of attachments: the other
/// clients' downloads go on.
fn downloads_over_share(client: &Client, most: usize) -> Response {
    unavailable(format!(
        "{} is already downloading {most} attachments, the most one client may at once (--max-attachment-downloads-per-client): retry in {BUSY_RETRY_AFTER_SECS} s, once those are taken",
        client.described()
    ))
}

/// `HEAD /api/incidents/{id}/blobs/{sha256}`: a download's headers, without reading the bytes.
pub async fn head(
    State(state): State<AppState>,
    Caller(grant): Caller,
    Path((_, raw_hash)): Path<(String, String)>,
    Query(query): Query<BlobQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let hash = hash_in_path(&raw_hash)?;
    let grant = member(&state, grant, &headers, query.device.as_deref()).await?;
    let store = state.registry.store();
    let meta = tokio::task::spawn_blocking(move || {
        store_blobs(store.as_ref())?.blob_meta(&grant.incident, &hash)
    })
    .await
    .map_err(|e| Error::Storage(format!("reading the attachment stopped: {e}")))??
    .ok_or_else(not_here)?;
    let mut response = Body::empty().into_response();
    download_headers(&meta, response.headers_mut());
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(n: u8) -> Client {
        Client::Invite(
            IncidentId::parse("inc").expect("id"),
            InviteId::parse(&format!("{n:016x}")).expect("invite id"),
        )
    }

    fn address(raw: &str) -> Client {
        Client::Address(budget_key(raw.parse().expect("address")))
    }

    #[test]
    fn a_client_holds_its_share_and_gives_it_back_entry_and_all() {
        let shares: &'static Shares = Box::leak(Box::new(Shares::new(2)));
        let mallory = || vec![invite(1), address("203.0.113.66")];
        let first = shares.take(mallory()).expect("first place");
        let second = shares.take(mallory()).expect("second place");
        assert_eq!(shares.take(mallory()).err(), Some(invite(1)));
        assert_eq!(shares.full(&mallory()), Some(invite(1)));
        // Its address with another token, and its token from another address: over too.
        assert_eq!(
            shares.take(vec![invite(2), address("203.0.113.66")]).err(),
            Some(address("203.0.113.66"))
        );
        assert_eq!(
            shares.take(vec![invite(1), address("198.51.100.1")]).err(),
            Some(invite(1))
        );
        // A refusal takes nothing: another client still has its whole share.
        let ann = shares
            .take(vec![invite(3), address("198.51.100.7")])
            .expect("another client");
        assert_eq!(shares.lock().len(), 4);
        drop(first);
        assert!(shares.full(&mallory()).is_none());
        drop((second, ann));
        assert!(shares.lock().is_empty(), "no entry outlives its places");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_zero_means_no_share() {
        let shares: &'static Shares = Box::leak(Box::new(Shares::new(1)));
        let _held = shares
            .take(vec![invite(1), address("2001:db8:1:2::a")])
            .expect("place");
        let over = shares
            .take(vec![invite(2), address("2001:db8:1:2:ffff::9")])
            .err()
            .expect("the same /64");
        assert_eq!(over.described(), "this client address (2001:db8:1:2::/64)");
        let open: &'static Shares = Box::leak(Box::new(Shares::new(0)));
        let all: Vec<Share> = (0..100)
            .map(|_| open.take(vec![invite(1)]).expect("no share"))
            .collect();
        assert!(open.lock().is_empty(), "no share keeps no count");
        drop(all);
    }
}
