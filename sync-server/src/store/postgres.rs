//! A second [`Store`] and [`Grants`] backend: PostgreSQL, for `--database-url postgres://…`.
//!
//! The same tables as SQLite ([`super::sqlite`]), in PostgreSQL types (`BYTEA`, `BIGINT`),
//! and the same transactions, so it passes the same conformance suite
//! ([`super::conformance`]); the record's hash chain is computed by the same code
//! ([`super::record::next_records`]), so `verify`'s walk works on it unchanged.
//!
//! The crate is `postgres`, the synchronous client: the store's methods block and the relay
//! calls them from blocking threads (`spawn_blocking`, the room's sync thread), never on
//! the async runtime. It drives its connection on a small runtime of its own, which must not
//! be entered from a thread that is already inside an async task: [`PostgresStore::connect`]
//! is called through `spawn_blocking` too. Connections come from a small pool of its own
//! ([`Pool`], at most `--database-pool-size`), opened when first needed and opened again
//! after PostgreSQL went away and came back.
//!
//! Several relay processes may share one database and write the same incident at once.
//! Every transaction that writes an incident's log, record or snapshot first takes the
//! incident's advisory lock (`pg_advisory_xact_lock`, released by its commit or rollback,
//! or by PostgreSQL when the session dies: no lease to expire while it is held), so:
//! - appends are serial per incident: each reads the chain's head and writes the next seqs
//!   with no other append in between, and log rows are numbered in commit order;
//! - a compaction reads the stored snapshot and the log rows it folds, merges them with the
//!   snapshot it was given (another relay's rows and snapshot are not in this relay's
//!   document), and under the lock writes the result and deletes exactly those rows if
//!   nothing was compacted meanwhile (else it merges again under the lock): a row appended
//!   after it read the log's end, on any relay, stays.
//!
//! A connection that fails (PostgreSQL stopped, restarting, unreachable) makes the call fail
//! with [`Error::StorageUnavailable`]: the room closes its peers with 4503 and acknowledges
//! nothing; `/healthz` and the `firebreak_storage_up` gauge say so until a call succeeds.
//!
//! Schema migrations: [`MIGRATIONS`] in order, the applied count in `firebreak_schema`.
//! They run at start in one transaction that first takes an advisory lock and then locks
//! that table, so two relays starting at once on a new database create and migrate it once. A database whose version is newer than this relay knows is refused.

mod blobs;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, Config, GenericClient, NoTls, Row};

use super::record::{self, ChainHead, Record, RecordMeta, Sent};
use super::{Grants, Store, StoredIncident};
use crate::access::{Grant, InviteId, SecretHash, Team, TeamShare};
use crate::error::Error;
use crate::incident_id::IncidentId;
use wire::Access;

/// The schema, one step per version: version N is the first N steps applied. Steps are
/// only ever appended.
pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE incident_update_log (
    seq       BIGSERIAL PRIMARY KEY,
    incident  TEXT NOT NULL,
    update_v1 BYTEA NOT NULL
);
CREATE INDEX incident_update_log_by_incident ON incident_update_log (incident, seq);
CREATE TABLE incident_snapshot (
    incident     TEXT PRIMARY KEY,
    snapshot_v1  BYTEA NOT NULL,
    compacted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE incident_grant (
    id                      BIGSERIAL UNIQUE,
    invite                  TEXT PRIMARY KEY,
    incident                TEXT NOT NULL,
    name                    TEXT NOT NULL,
    role                    TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    secret_sha256           BYTEA NOT NULL,
    created_at_ms           BIGINT NOT NULL,
    expires_at_ms           BIGINT,
    revoked_at_ms           BIGINT,
    last_seen_at_ms         BIGINT,
    device_sha256           BYTEA,
    other_device_attempts   BIGINT NOT NULL DEFAULT 0,
    other_device_last_at_ms BIGINT,
    invited_by              TEXT,
    revoked_by              TEXT
);
CREATE INDEX incident_grant_by_incident ON incident_grant (incident, created_at_ms);
CREATE TABLE incident_deleted (
    incident      TEXT PRIMARY KEY,
    deleted_at_ms BIGINT NOT NULL
);
CREATE TABLE incident_record (
    incident       TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    invite         TEXT,
    update_v1      BYTEA NOT NULL,
    update_sha256  BYTEA NOT NULL,
    chain_sha256   BYTEA NOT NULL,
    PRIMARY KEY (incident, seq)
);
CREATE TABLE incident_record_checkpoint (
    incident       TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    chain_sha256   BYTEA NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (incident, seq)
);
CREATE TABLE incident_record_base (
    incident       TEXT PRIMARY KEY,
    seq            BIGINT NOT NULL,
    chain_sha256   BYTEA NOT NULL,
    received_at_ms BIGINT NOT NULL
);
",
    "
CREATE TABLE team (
    team          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE team_playbook (
    id            BIGSERIAL UNIQUE,
    playbook      TEXT NOT NULL,
    team          TEXT NOT NULL,
    playbook_name TEXT NOT NULL,
    shared_by     TEXT NOT NULL,
    shared_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (playbook, team)
);
CREATE INDEX team_playbook_by_team ON team_playbook (team, shared_at_ms);
",
    // 3: evidence attachments.
    blobs::MIGRATION,
];

const GRANT_COLUMNS: &str = "invite, incident, name, role, secret_sha256, created_at_ms, \
     expires_at_ms, revoked_at_ms, last_seen_at_ms, device_sha256, other_device_attempts, \
     other_device_last_at_ms, invited_by";

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        if is_unavailable(&e) {
            went_away(&e);
            Error::StorageUnavailable
        } else {
            match e.as_db_error() {
                Some(db) => Error::Storage(format!("postgresql: {db}")),
                None => Error::Storage(format!("postgresql: {e}")),
            }
        }
    }
}

/// Whether `e` says the server is gone (the connection closed or broke, the server shutting
/// down or starting) rather than refusing one statement.
fn is_unavailable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    if e.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if inner.is::<std::io::Error>() {
            return true;
        }
        source = inner.source();
    }
    e.code().is_some_and(|code| {
        code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
            ]
            .contains(code)
    })
}

/// Bumped at every failure that says the server went away: idle connections opened before
/// it are dropped rather than tried (after a restart every one of them is dead).
static OUTAGES: AtomicU64 = AtomicU64::new(0);

/// A connection failed: the storage is marked down (logged once per outage).
fn went_away(cause: &dyn std::fmt::Display) {
    OUTAGES.fetch_add(1, Ordering::AcqRel);
    if crate::metrics::METRICS.storage_down() {
        tracing::error!(
            %cause,
            "PostgreSQL is not answering: changes are refused (close 4503) until it is back"
        );
    }
}

/// Default for `--database-pool-size`: connections one relay keeps to PostgreSQL at most.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// How long a call waits for a connection when all of the pool's are in use.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// How long opening a connection may take before the server counts as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL database holding every incident, through a pool of connections.
pub struct PostgresStore {
    connection: Connection,
}

/// The pool; the trait methods below do the work, [`PostgresStore`] moves each call off the
/// async runtime.
struct Connection {
    pool: Pool,
}

/// At most `max` connections, opened when needed, kept while they work.
struct Pool {
    /// Where to open more; `None` for the read-only store's one connection, never reopened.
    config: Option<Config>,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Client>,
    /// Connections open, idle or in use.
    open: usize,
    /// [`OUTAGES`] when the idle ones were last known good.
    outages: u64,
}

/// A connection taken from the pool, given back when dropped (unless it broke).
struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled connection until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a pooled connection until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let mut state = self.pool.lock();
        // A dropped transaction rolled back, so a working connection is clean to reuse.
        if client.is_closed() || state.outages != OUTAGES.load(Ordering::Acquire) {
            state.open -= 1;
            crate::metrics::METRICS.database_connections(state.open);
            drop(state);
            drop(client);
        } else {
            state.idle.push(client);
        }
        self.pool.freed.notify_one();
    }
}

impl Pool {
    fn new(config: Option<Config>, max: usize, first: Option<Client>) -> Self {
        let open = usize::from(first.is_some());
        crate::metrics::METRICS.database_connections(open);
        Self {
            config,
            max: max.max(1),
            state: Mutex::new(PoolState {
                idle: first.into_iter().collect(),
                open,
                outages: OUTAGES.load(Ordering::Acquire),
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // Nothing is left half-done under this lock: a poisoned one is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An idle connection, else a new one while fewer than `max` are open, else the first
    /// one given back within [`POOL_WAIT`].
    fn get(&self) -> Result<Pooled<'_>, Error> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut state = self.lock();
        loop {
            let outages = OUTAGES.load(Ordering::Acquire);
            if state.outages != outages && self.config.is_some() {
                // Opened before the server went away: dead, whatever they say.
                state.open -= state.idle.len();
                let stale = std::mem::take(&mut state.idle);
                state.outages = outages;
                crate::metrics::METRICS.database_connections(state.open);
                drop(stale);
            }
            while let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    crate::metrics::METRICS.database_connections(state.open);
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.max {
                let Some(config) = &self.config else {
                    return Err(Error::StorageUnavailable);
                };
                state.open += 1;
                drop(state);
                return match config.connect(NoTls) {
                    Ok(client) => {
                        crate::metrics::METRICS.database_connections(self.lock().open);
                        Ok(Pooled {
                            pool: self,
                            client: Some(client),
                        })
                    }
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e.into())
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Storage(format!(
                    "all {} PostgreSQL connections (--database-pool-size) stayed in use for {} s",
                    self.max,
                    POOL_WAIT.as_secs()
                )));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, or `host=/socket/dir …`) and
    /// brings its schema to this relay's version, with a pool of at most
    /// [`DEFAULT_POOL_SIZE`] connections. Blocks: call it off the async runtime.
    pub fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_pooled(url, DEFAULT_POOL_SIZE)
    }

    /// [`PostgresStore::connect`] with at most `pool_size` connections open at once.
    pub fn connect_pooled(url: &str, pool_size: usize) -> Result<Self, Error> {
        let unreachable = |e: &dyn std::fmt::Display| {
            Error::Storage(format!(
                "could not connect to PostgreSQL at {}: {e}",
                redact(url)
            ))
        };
        let mut config: Config = url.parse().map_err(|e| unreachable(&e))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        let mut client = config.connect(NoTls).map_err(|e| unreachable(&e))?;
        migrate(&mut client)?;
        Ok(Self {
            connection: Connection {
                pool: Pool::new(Some(config), pool_size, Some(client)),
            },
        })
    }

    /// Runs a store call off the async runtime; a call that worked says the storage is up.
    fn run<T: Send>(&self, f: impl FnOnce() -> Result<T, Error> + Send) -> Result<T, Error> {
        let done = off_runtime(f);
        if done.is_ok() && !crate::metrics::METRICS.storage_is_up() {
            crate::metrics::METRICS.storage_up();
            tracing::info!("PostgreSQL answers again: changes are taken");
        }
        done
    }
}

impl PostgresStore {
    /// Connects for `sync-server verify`: nothing is created or migrated, and every read
    /// sees one snapshot (a read-only repeatable-read transaction held until the store is
    /// dropped), so a live relay may go on writing. Only the record's read methods work.
    pub fn open_read_only(url: &str) -> Result<Self, Error> {
        let mut client = Client::connect(url, NoTls).map_err(|e| {
            Error::Storage(format!(
                "could not connect to PostgreSQL at {}: {e}",
                redact(url)
            ))
        })?;
        client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let version: Option<i64> = client
            .query_one("SELECT to_regclass('firebreak_schema') IS NOT NULL", &[])?
            .get::<_, bool>(0)
            .then(|| client.query_opt("SELECT version FROM firebreak_schema", &[]))
            .transpose()?
            .flatten()
            .map(|row| row.get(0));
        match version {
            None => Err(Error::Storage(
                "this database has no Firebreak schema: a relay started with \
                 --database-url creates it"
                    .into(),
            )),
            Some(v) if v > MIGRATIONS.len() as i64 => Err(Error::Storage(format!(
                "the database's schema is version {v}, newer than this relay knows \
                 (version {}): verify with that relay's version",
                MIGRATIONS.len()
            ))),
            Some(_) => Ok(Self {
                connection: Connection {
                    pool: Pool::new(None, 1, Some(client)),
                },
            }),
        }
    }
}

/// Runs `f` where the client's own runtime may block: on this thread if it is not inside
/// an async runtime, else on a short-lived thread of its own. The room actors append
/// small batches on their own async thread (cheap for SQLite); the `postgres` client would
/// panic there, since it drives its connection with `block_on`.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

impl Connection {
    fn client(&self) -> Result<Pooled<'_>, Error> {
        self.pool.get()
    }
}

/// Takes the incident's advisory lock until the transaction ends: every transaction that
/// writes an incident's log, record or snapshot holds it, on every relay.
fn lock_incident(client: &mut impl GenericClient, incident: &IncidentId) -> Result<(), Error> {
    client.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&incident.as_str()],
    )?;
    Ok(())
}

/// The snapshot a compaction writes: `given` (this relay's document) merged with what the
/// database holds for the incident (its snapshot and the log rows being folded), which may
/// hold other relays' updates. Pieces that are not Yjs updates (the conformance suite's
/// opaque bytes) cannot be merged: then `given` is written as it is, as a single relay does.
fn merged_snapshot(stored: Option<Vec<u8>>, rows: Vec<Vec<u8>>, given: &[u8]) -> Vec<u8> {
    if stored.is_none() && rows.is_empty() {
        return given.to_vec();
    }
    // This relay's document first: it usually holds most of the rest already, and applying
    // what a document has is skipping it, while integrating concurrent text is the costly
    // part of applying.
    let pieces = stored.iter().chain(&rows).map(Vec::as_slice);
    match crate::room::Room::load(Some(given), pieces) {
        Ok(room) => room.snapshot(),
        Err(error) => {
            tracing::debug!(%error, "stored pieces are not Yjs updates; not merged");
            given.to_vec()
        }
    }
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:…{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Applies the [`MIGRATIONS`] the database lacks, in one transaction; refuses a database
/// whose schema is newer than this relay knows.
fn migrate(client: &mut Client) -> Result<(), Error> {
    let mut txn = client.transaction()?;
    // Relays starting at once on a new database: `CREATE TABLE IF NOT EXISTS` is not safe
    // against itself (both may try, one fails on PostgreSQL's catalog), so one lock first
    // (the two-key form: a key space apart from the incidents' one-key locks).
    txn.batch_execute(
        "SELECT pg_advisory_xact_lock(17986, 1);
         CREATE TABLE IF NOT EXISTS firebreak_schema (version BIGINT NOT NULL);
         LOCK TABLE firebreak_schema IN EXCLUSIVE MODE;",
    )?;
    let version: Option<i64> = txn
        .query_opt("SELECT version FROM firebreak_schema", &[])?
        .map(|row| row.get(0));
    let known = MIGRATIONS.len() as i64;
    let current = version.unwrap_or(0);
    if current > known {
        return Err(Error::Storage(format!(
            "the database's schema is version {current}, newer than this relay knows \
             (version {known}): it was written by a newer relay; run that version, \
             or a newer one, not this one"
        )));
    }
    for step in &MIGRATIONS[current.max(0) as usize..] {
        txn.batch_execute(step)?;
    }
    if version.is_none() {
        txn.execute(
            "INSERT INTO firebreak_schema (version) VALUES ($1)",
            &[&known],
        )?;
    } else {
        txn.execute("UPDATE firebreak_schema SET version = $1", &[&known])?;
    }
    txn.commit()?;
    Ok(())
}

fn storage(what: &str) -> Error {
    Error::Storage(format!("PostgreSQL holds an invalid {what}"))
}

fn hash(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], Error> {
    bytes.try_into().map_err(|_| storage(what))
}

fn grant_from_row(row: &Row) -> Result<Grant, Error> {
    let invite: String = row.get(0);
    let incident: String = row.get(1);
    let role: String = row.get(3);
    Ok(Grant {
        invite: InviteId::parse(&invite).ok_or_else(|| storage("invite id"))?,
        incident: IncidentId::parse(&incident).map_err(|_| storage("incident id"))?,
        name: row.get(2),
        role: Access::parse(&role).ok_or_else(|| storage("role"))?,
        secret_hash: hash(row.get(4), "secret hash")?,
        created_at_ms: row.get(5),
        expires_at_ms: row.get(6),
        revoked_at_ms: row.get(7),
        last_seen_at_ms: row.get(8),
        device_hash: row
            .get::<_, Option<Vec<u8>>>(9)
            .map(|h| hash(h, "device hash"))
            .transpose()?,
        other_device_attempts: u32::try_from(row.get::<_, i64>(10)).unwrap_or(u32::MAX),
        other_device_last_at_ms: row.get(11),
        invited_by: row.get(12),
        via_team: None,
    })
}

const SHARE_COLUMNS: &str = "playbook, team, playbook_name, shared_by, shared_at_ms";

fn share_from_row(row: &Row) -> Result<TeamShare, Error> {
    let id = |index: usize| {
        IncidentId::parse(row.get::<_, &str>(index)).map_err(|_| storage("team or playbook id"))
    };
    Ok(TeamShare {
        playbook: id(0)?,
        team: id(1)?,
        playbook_name: row.get(2),
        shared_by: row.get(3),
        shared_at_ms: row.get(4),
    })
}

fn insert_grant(client: &mut impl GenericClient, grant: &Grant) -> Result<(), Error> {
    client.execute(
        &format!(
            "INSERT INTO incident_grant ({GRANT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        &[
            &grant.invite.as_str(),
            &grant.incident.as_str(),
            &grant.name,
            &grant.role.as_str(),
            &&grant.secret_hash[..],
            &grant.created_at_ms,
            &grant.expires_at_ms,
            &grant.revoked_at_ms,
            &grant.last_seen_at_ms,
            &grant.device_hash.as_ref().map(|h| &h[..]),
            &i64::from(grant.other_device_attempts),
            &grant.other_device_last_at_ms,
            &grant.invited_by,
        ],
    )?;
    Ok(())
}

fn seq_value(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn head_from_row(row: &Row) -> Result<ChainHead, Error> {
    Ok(ChainHead {
        seq: row.get::<_, i64>(0).max(0) as u64,
        chain_sha256: hash(row.get(1), "chain hash")?,
        received_at_ms: row.get(2),
    })
}

fn invite_from(raw: Option<String>) -> Result<Option<InviteId>, Error> {
    raw.map(|raw| InviteId::parse(&raw).ok_or_else(|| storage("record's invite id")))
        .transpose()
}

fn deleted_at(
    client: &mut impl GenericClient,
    incident: &IncidentId,
) -> Result<Option<i64>, Error> {
    Ok(client
        .query_opt(
            "SELECT deleted_at_ms FROM incident_deleted WHERE incident = $1",
            &[&incident.as_str()],
        )?
        .map(|row| row.get(0)))
}

fn record_base(
    client: &mut impl GenericClient,
    incident: &IncidentId,
) -> Result<Option<ChainHead>, Error> {
    client
        .query_opt(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record_base
             WHERE incident = $1",
            &[&incident.as_str()],
        )?
        .map(|row| head_from_row(&row))
        .transpose()
}

/// The record's last record, or its base if retention dropped every record.
fn chain_head(
    client: &mut impl GenericClient,
    incident: &IncidentId,
) -> Result<Option<ChainHead>, Error> {
    let last = client
        .query_opt(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record
             WHERE incident = $1 ORDER BY seq DESC LIMIT 1",
            &[&incident.as_str()],
        )?
        .map(|row| head_from_row(&row))
        .transpose()?;
    match last {
        Some(head) => Ok(Some(head)),
        None => record_base(client, incident),
    }
}

impl Store for Connection {
    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        let mut client = self.client()?;
        let mut txn = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()?;
        let id = incident.as_str();
        let snapshot = txn
            .query_opt(
                "SELECT snapshot_v1 FROM incident_snapshot WHERE incident = $1",
                &[&id],
            )?
            .map(|row| row.get::<_, Vec<u8>>(0));
        let updates = txn
            .query(
                "SELECT update_v1 FROM incident_update_log WHERE incident = $1 ORDER BY seq",
                &[&id],
            )?
            .iter()
            .map(|row| row.get::<_, Vec<u8>>(0))
            .collect();
        txn.commit()?;
        Ok(StoredIncident { snapshot, updates })
    }

    fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error> {
        let sent: Vec<Sent> = updates
            .iter()
            .map(|u| Sent {
                update: u.clone(),
                invite: None,
            })
            .collect();
        self.append_recorded(incident, &sent, crate::access::gate::now_ms())
    }

    fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error> {
        self.compact_through(incident, snapshot, u64::MAX)
    }

    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
        // Seqs come from one sequence for every incident: a row appended later gets a
        // larger seq than any before it, even after compaction emptied the log.
        let end: i64 = self
            .client()?
            .query_one(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_update_log WHERE incident = $1",
                &[&incident.as_str()],
            )?
            .get(0);
        Ok(u64::try_from(end).unwrap_or(0))
    }

    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error> {
        let end = seq_value(end);
        let id = incident.as_str();
        // Merging costs a document's worth of work: it is done first without the lock, from
        // one consistent read, so other relays' appends do not wait for it. Log rows are
        // numbered in commit order (appends hold the lock), so the rows up to the last one
        // read can afterwards only be fewer (another compaction), never more.
        let (stored_md5, rows_read, last_read, merged) = {
            let mut client = self.client()?;
            let mut txn = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let stored = txn
                .query_opt(
                    "SELECT snapshot_v1, md5(snapshot_v1) FROM incident_snapshot
                     WHERE incident = $1",
                    &[&id],
                )?
                .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, String>(1)));
            let rows = txn.query(
                "SELECT seq, update_v1 FROM incident_update_log WHERE incident = $1 AND seq < $2
                 ORDER BY seq",
                &[&id, &end],
            )?;
            txn.commit()?;
            drop(client);
            let last_read: i64 = rows.last().map_or(0, |row| row.get(0));
            let (stored, md5) = stored.unzip();
            let updates = rows.iter().map(|row| row.get(1)).collect();
            (
                md5,
                rows.len() as i64,
                last_read,
                merged_snapshot(stored, updates, snapshot),
            )
        };
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        lock_incident(&mut txn, incident)?;
        let stored_now: Option<String> = txn
            .query_opt(
                "SELECT md5(snapshot_v1) FROM incident_snapshot WHERE incident = $1",
                &[&id],
            )?
            .map(|row| row.get(0));
        let rows_now: i64 = txn
            .query_one(
                "SELECT COUNT(*) FROM incident_update_log WHERE incident = $1 AND seq <= $2",
                &[&id, &last_read],
            )?
            .get(0);
        let (merged, through) = if stored_now == stored_md5 && rows_now == rows_read {
            (merged, last_read + 1)
        } else {
            // Another relay compacted meanwhile: merge again, under the lock this time (no
            // append is half-done then, and the rows read are exactly the rows deleted).
            let stored = txn
                .query_opt(
                    "SELECT snapshot_v1 FROM incident_snapshot WHERE incident = $1",
                    &[&id],
                )?
                .map(|row| row.get::<_, Vec<u8>>(0));
            let rows: Vec<Vec<u8>> = txn
                .query(
                    "SELECT update_v1 FROM incident_update_log WHERE incident = $1 AND seq < $2
                     ORDER BY seq",
                    &[&id, &end],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect();
            (merged_snapshot(stored, rows, snapshot), end)
        };
        txn.execute(
            "INSERT INTO incident_snapshot (incident, snapshot_v1) SELECT $1, $2
             WHERE NOT EXISTS (SELECT 1 FROM incident_deleted WHERE incident = $1)
             ON CONFLICT (incident) DO UPDATE SET
                snapshot_v1 = excluded.snapshot_v1, compacted_at = now()",
            &[&id, &merged],
        )?;
        txn.execute(
            "DELETE FROM incident_update_log WHERE incident = $1 AND seq < $2",
            &[&id, &through],
        )?;
        txn.commit()?;
        Ok(())
    }

    fn append_recorded(
        &self,
        incident: &IncidentId,
        sent: &[Sent],
        received_at_ms: i64,
    ) -> Result<(), Error> {
        if sent.is_empty() {
            return Ok(());
        }
        let id = incident.as_str();
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        // Another relay may append to this incident at the same moment: the lock makes the
        // head read below the last one, and the log's seqs follow commit order.
        lock_incident(&mut txn, incident)?;
        if deleted_at(&mut txn, incident)?.is_some() {
            return Ok(());
        }
        let head = chain_head(&mut txn, incident)?;
        // An incident stored before its record began: what it held then becomes its first
        // records (as in SQLite).
        let mut earlier: Vec<Sent> = Vec::new();
        if head.is_none() {
            if let Some(row) = txn.query_opt(
                "SELECT snapshot_v1 FROM incident_snapshot WHERE incident = $1",
                &[&id],
            )? {
                earlier.push(Sent {
                    update: row.get(0),
                    invite: None,
                });
            }
            for row in txn.query(
                "SELECT update_v1 FROM incident_update_log WHERE incident = $1 ORDER BY seq",
                &[&id],
            )? {
                earlier.push(Sent {
                    update: row.get(0),
                    invite: None,
                });
            }
        }
        let log =
            txn.prepare("INSERT INTO incident_update_log (incident, update_v1) VALUES ($1, $2)")?;
        for s in sent {
            txn.execute(&log, &[&id, &s.update])?;
        }
        let all: Vec<&Sent> = earlier.iter().chain(sent).collect();
        let insert = txn.prepare(
            "INSERT INTO incident_record (incident, seq, received_at_ms, invite, update_v1,
                update_sha256, chain_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )?;
        let checkpoint = txn.prepare(
            "INSERT INTO incident_record_checkpoint (incident, seq, chain_sha256, received_at_ms)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (incident, seq) DO UPDATE SET chain_sha256 = excluded.chain_sha256,
                received_at_ms = excluded.received_at_ms",
        )?;
        for (r, s) in record::next_records(head, all.iter().copied(), received_at_ms)
            .into_iter()
            .zip(all)
        {
            txn.execute(
                &insert,
                &[
                    &id,
                    &seq_value(r.seq),
                    &r.received_at_ms,
                    &r.invite.as_ref().map(InviteId::as_str),
                    &s.update,
                    &&r.update_sha256[..],
                    &&r.chain_sha256[..],
                ],
            )?;
            if record::is_checkpoint(r.seq) {
                txn.execute(
                    &checkpoint,
                    &[
                        &id,
                        &seq_value(r.seq),
                        &&r.chain_sha256[..],
                        &r.received_at_ms,
                    ],
                )?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        let rows = self.client()?.query(
            "SELECT incident FROM incident_record
             UNION SELECT incident FROM incident_record_base ORDER BY 1",
            &[],
        )?;
        rows.iter()
            .map(|row| {
                let raw: String = row.get(0);
                IncidentId::parse(&raw).map_err(|_| {
                    Error::Storage(format!("the record holds an invalid incident id {raw:?}"))
                })
            })
            .collect()
    }

    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        record_base(&mut *self.client()?, incident)
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        let rows = self.client()?.query(
            "SELECT seq, received_at_ms, invite, update_v1, update_sha256, chain_sha256
             FROM incident_record WHERE incident = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[
                &incident.as_str(),
                &seq_value(after_seq),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter()
            .map(|row| {
                Ok(Record {
                    seq: row.get::<_, i64>(0).max(0) as u64,
                    received_at_ms: row.get(1),
                    invite: invite_from(row.get(2))?,
                    update: row.get(3),
                    update_sha256: hash(row.get(4), "update hash")?,
                    chain_sha256: hash(row.get(5), "chain hash")?,
                })
            })
            .collect()
    }

    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        let rows = self.client()?.query(
            "SELECT seq, received_at_ms, invite, octet_length(update_v1)::BIGINT,
                update_sha256, chain_sha256
             FROM incident_record WHERE incident = $1 AND seq > $2
                AND received_at_ms >= $3 AND received_at_ms <= $4
             ORDER BY seq LIMIT $5",
            &[
                &incident.as_str(),
                &seq_value(after_seq),
                &since_ms,
                &until_ms,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter()
            .map(|row| {
                Ok(RecordMeta {
                    seq: row.get::<_, i64>(0).max(0) as u64,
                    received_at_ms: row.get(1),
                    invite: invite_from(row.get(2))?,
                    size: row.get::<_, i64>(3).max(0) as u64,
                    update_sha256: hash(row.get(4), "update hash")?,
                    chain_sha256: hash(row.get(5), "chain hash")?,
                })
            })
            .collect()
    }

    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        let rows = self.client()?.query(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record_checkpoint
             WHERE incident = $1 ORDER BY seq",
            &[&incident.as_str()],
        )?;
        rows.iter().map(head_from_row).collect()
    }

    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let mut dropped = 0;
        for incident in self.recorded_incidents()? {
            let id = incident.as_str();
            let keep_from: Option<i64> = self
                .client()?
                .query_one(
                    "SELECT MIN(seq) FROM incident_record
                     WHERE incident = $1 AND received_at_ms >= $2",
                    &[&id, &cutoff_ms],
                )?
                .get(0);
            let keep_from = keep_from.unwrap_or(i64::MAX);
            // At most RETENTION_CHUNK records a transaction, the connection let go between.
            loop {
                let mut client = self.client()?;
                let mut txn = client.transaction()?;
                lock_incident(&mut txn, &incident)?;
                let last_dropped = txn
                    .query_opt(
                        "SELECT seq, chain_sha256, received_at_ms FROM (
                            SELECT seq, chain_sha256, received_at_ms FROM incident_record
                            WHERE incident = $1 AND seq < $2 ORDER BY seq LIMIT $3) AS start
                         ORDER BY seq DESC LIMIT 1",
                        &[&id, &keep_from, &RETENTION_CHUNK],
                    )?
                    .map(|row| head_from_row(&row))
                    .transpose()?;
                let Some(base) = last_dropped else {
                    break;
                };
                txn.execute(
                    "INSERT INTO incident_record_base (incident, seq, chain_sha256, received_at_ms)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (incident) DO UPDATE SET seq = excluded.seq,
                        chain_sha256 = excluded.chain_sha256,
                        received_at_ms = excluded.received_at_ms",
                    &[
                        &id,
                        &seq_value(base.seq),
                        &&base.chain_sha256[..],
                        &base.received_at_ms,
                    ],
                )?;
                dropped += txn.execute(
                    "DELETE FROM incident_record WHERE incident = $1 AND seq <= $2",
                    &[&id, &seq_value(base.seq)],
                )?;
                txn.commit()?;
            }
        }
        Ok(dropped)
    }
}

/// Most records retention drops in one transaction.
const RETENTION_CHUNK: i64 = 5000;

impl Grants for Connection {
    fn register_incident(&self, owner: &Grant) -> Result<(), Error> {
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        // Two relays registering one id at once: the lock orders them, the second sees the
        // first's grant.
        txn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&owner.incident.as_str()],
        )?;
        let taken = txn
            .query_opt(
                "SELECT 1 FROM incident_grant WHERE incident = $1 LIMIT 1",
                &[&owner.incident.as_str()],
            )?
            .is_some();
        if taken {
            return Err(Error::IncidentExists);
        }
        if deleted_at(&mut txn, &owner.incident)?.is_some() {
            return Err(Error::IncidentDeleted);
        }
        insert_grant(&mut txn, owner)?;
        txn.commit()?;
        Ok(())
    }

    fn add_grant(&self, grant: &Grant) -> Result<(), Error> {
        insert_grant(&mut *self.client()?, grant)
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        self.client()?
            .query_opt(
                &format!("SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = $1"),
                &[&invite.as_str()],
            )?
            .map(|row| grant_from_row(&row))
            .transpose()
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        self.client()?
            .query(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE incident = $1
                     ORDER BY role != 'owner', created_at_ms, id"
                ),
                &[&incident.as_str()],
            )?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        self.client()?
            .query_opt(
                &format!(
                    "UPDATE incident_grant SET revoked_at_ms = COALESCE(revoked_at_ms, $3)
                     WHERE invite = $1 AND incident = $2 RETURNING {GRANT_COLUMNS}"
                ),
                &[&invite.as_str(), &incident.as_str(), &now_ms],
            )?
            .map(|row| grant_from_row(&row))
            .transpose()
    }

    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.client()?.execute(
            "UPDATE incident_grant SET last_seen_at_ms = $2 WHERE invite = $1",
            &[&invite.as_str(), &now_ms],
        )?;
        Ok(())
    }

    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error> {
        // One statement: the row lock makes check and write one step.
        let bound = self.client()?.query_opt(
            "UPDATE incident_grant SET device_sha256 = COALESCE(device_sha256, $2)
             WHERE invite = $1 RETURNING device_sha256",
            &[&invite.as_str(), &&device_hash[..]],
        )?;
        bound
            .map(|row| {
                row.get::<_, Option<Vec<u8>>>(0)
                    .ok_or_else(|| storage("device hash"))
                    .and_then(|h| hash(h, "device hash"))
            })
            .transpose()
    }

    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.client()?.execute(
            "UPDATE incident_grant
             SET other_device_attempts = other_device_attempts + 1, other_device_last_at_ms = $2
             WHERE invite = $1",
            &[&invite.as_str(), &now_ms],
        )?;
        Ok(())
    }

    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        let id = incident.as_str();
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        // No append or compaction of another relay lands between the mark and the deletes.
        lock_incident(&mut txn, incident)?;
        txn.execute(
            "INSERT INTO incident_deleted (incident, deleted_at_ms) VALUES ($1, $2)
             ON CONFLICT (incident) DO NOTHING",
            &[&id, &now_ms],
        )?;
        txn.execute("DELETE FROM team_playbook WHERE playbook = $1", &[&id])?;
        for table in [
            "incident_grant",
            "incident_update_log",
            "incident_snapshot",
            "incident_record",
            "incident_record_checkpoint",
            "incident_record_base",
            "incident_blob",
        ] {
            txn.execute(&format!("DELETE FROM {table} WHERE incident = $1"), &[&id])?;
        }
        txn.commit()?;
        Ok(())
    }

    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error> {
        deleted_at(&mut *self.client()?, incident)
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        self.client()?.execute(
            "UPDATE incident_grant SET revoked_by = $2 WHERE invite = $1",
            &[&invite.as_str(), &name],
        )?;
        Ok(())
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT revoked_by FROM incident_grant WHERE invite = $1",
                &[&invite.as_str()],
            )?
            .and_then(|row| row.get(0)))
    }

    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        // The incident's grants locked: two demotions at once cannot both see another owner.
        let locked = txn.query(
            "SELECT invite FROM incident_grant WHERE incident = $1 FOR UPDATE",
            &[&incident.as_str()],
        )?;
        drop(locked);
        let select = format!(
            "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = $1 AND incident = $2"
        );
        let Some(current) = txn
            .query_opt(&select, &[&invite.as_str(), &incident.as_str()])?
            .map(|row| grant_from_row(&row))
            .transpose()?
        else {
            return Ok(None);
        };
        if current.role == Access::Owner && role != Access::Owner {
            let other_owners: i64 = txn
                .query_one(
                    "SELECT COUNT(*) FROM incident_grant
                     WHERE incident = $2 AND invite != $1 AND role = 'owner'
                       AND revoked_at_ms IS NULL
                       AND (expires_at_ms IS NULL OR expires_at_ms > $3)",
                    &[&invite.as_str(), &incident.as_str(), &now_ms],
                )?
                .get(0);
            if other_owners == 0 {
                return Err(Error::LastOwner);
            }
        }
        let changed = txn
            .query_opt(
                &format!(
                    "UPDATE incident_grant SET role = $3 WHERE invite = $1 AND incident = $2
                     RETURNING {GRANT_COLUMNS}"
                ),
                &[&invite.as_str(), &incident.as_str(), &role.as_str()],
            )?
            .map(|row| grant_from_row(&row))
            .transpose()?;
        txn.commit()?;
        Ok(changed)
    }

    fn register_team(&self, team: &Team, owner: &Grant) -> Result<(), Error> {
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        // The same lock as registering an incident: an id is taken once, by either.
        txn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&team.id.as_str()],
        )?;
        let taken = txn
            .query_opt(
                "SELECT 1 FROM incident_grant WHERE incident = $1
                 UNION ALL SELECT 1 FROM team WHERE team = $1
                 UNION ALL SELECT 1 FROM incident_deleted WHERE incident = $1 LIMIT 1",
                &[&team.id.as_str()],
            )?
            .is_some();
        if taken {
            return Err(Error::IncidentExists);
        }
        txn.execute(
            "INSERT INTO team (team, name, created_at_ms) VALUES ($1, $2, $3)",
            &[&team.id.as_str(), &team.name, &team.created_at_ms],
        )?;
        insert_grant(&mut txn, owner)?;
        txn.commit()?;
        Ok(())
    }

    fn team(&self, team: &IncidentId) -> Result<Option<Team>, Error> {
        self.client()?
            .query_opt(
                "SELECT team, name, created_at_ms FROM team WHERE team = $1",
                &[&team.as_str()],
            )?
            .map(|row| {
                Ok(Team {
                    id: IncidentId::parse(row.get::<_, &str>(0)).map_err(|_| storage("team id"))?,
                    name: row.get(1),
                    created_at_ms: row.get(2),
                })
            })
            .transpose()
    }

    fn share_with_team(&self, share: &TeamShare) -> Result<(), Error> {
        self.client()?.execute(
            "INSERT INTO team_playbook (playbook, team, playbook_name, shared_by, shared_at_ms)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (playbook, team) DO UPDATE SET playbook_name = excluded.playbook_name,
                 shared_by = excluded.shared_by, shared_at_ms = excluded.shared_at_ms",
            &[
                &share.playbook.as_str(),
                &share.team.as_str(),
                &share.playbook_name,
                &share.shared_by,
                &share.shared_at_ms,
            ],
        )?;
        Ok(())
    }

    fn unshare_from_team(&self, playbook: &IncidentId, team: &IncidentId) -> Result<bool, Error> {
        let removed = self.client()?.execute(
            "DELETE FROM team_playbook WHERE playbook = $1 AND team = $2",
            &[&playbook.as_str(), &team.as_str()],
        )?;
        Ok(removed > 0)
    }

    fn team_share(
        &self,
        playbook: &IncidentId,
        team: &IncidentId,
    ) -> Result<Option<TeamShare>, Error> {
        self.client()?
            .query_opt(
                &format!(
                    "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE playbook = $1 AND team = $2"
                ),
                &[&playbook.as_str(), &team.as_str()],
            )?
            .map(|row| share_from_row(&row))
            .transpose()
    }

    fn shares_of_playbook(&self, playbook: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        self.client()?
            .query(
                &format!(
                    "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE playbook = $1
                     ORDER BY shared_at_ms, id"
                ),
                &[&playbook.as_str()],
            )?
            .iter()
            .map(share_from_row)
            .collect()
    }

    fn playbooks_of_team(&self, team: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        self.client()?
            .query(
                &format!(
                    "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE team = $1
                     ORDER BY shared_at_ms, id"
                ),
                &[&team.as_str()],
            )?
            .iter()
            .map(share_from_row)
            .collect()
    }
}

impl Store for PostgresStore {
    fn blobs(&self) -> Option<&dyn super::blobs::Blobs> {
        Some(self)
    }

    /// Round trips to the server: the room appends on a blocking thread, never holding
    /// up the relay's one async thread.
    fn appends_are_quick(&self) -> bool {
        false
    }

    /// One round trip on a pooled connection.
    fn ping(&self) -> Result<(), Error> {
        self.run(|| -> Result<(), Error> {
            self.connection.client()?.batch_execute("SELECT 1")?;
            Ok(())
        })
    }

    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        self.run(|| self.connection.load(incident))
    }

    fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error> {
        self.run(|| self.connection.append(incident, updates))
    }

    fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error> {
        self.run(|| self.connection.compact(incident, snapshot))
    }

    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
        self.run(|| self.connection.log_end(incident))
    }

    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error> {
        self.run(|| self.connection.compact_through(incident, snapshot, end))
    }

    fn append_recorded(
        &self,
        incident: &IncidentId,
        sent: &[Sent],
        received_at_ms: i64,
    ) -> Result<(), Error> {
        self.run(|| {
            self.connection
                .append_recorded(incident, sent, received_at_ms)
        })
    }

    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        self.run(|| self.connection.recorded_incidents())
    }

    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        self.run(|| Store::record_base(&self.connection, incident))
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        self.run(|| self.connection.records(incident, after_seq, limit))
    }

    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        self.run(|| {
            self.connection
                .record_page(incident, since_ms, until_ms, after_seq, limit)
        })
    }

    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        self.run(|| self.connection.checkpoints(incident))
    }

    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        self.run(|| self.connection.drop_records_before(cutoff_ms))
    }
}

impl Grants for PostgresStore {
    fn register_incident(&self, owner: &Grant) -> Result<(), Error> {
        self.run(|| self.connection.register_incident(owner))
    }

    fn add_grant(&self, grant: &Grant) -> Result<(), Error> {
        self.run(|| self.connection.add_grant(grant))
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        self.run(|| self.connection.grant(invite))
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        self.run(|| self.connection.grants(incident))
    }

    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        self.run(|| self.connection.revoke(incident, invite, now_ms))
    }

    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.run(|| self.connection.touch(invite, now_ms))
    }

    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error> {
        self.run(|| self.connection.bind_device(invite, device_hash))
    }

    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.run(|| self.connection.other_device_tried(invite, now_ms))
    }

    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        self.run(|| self.connection.delete_incident(incident, now_ms))
    }

    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error> {
        self.run(|| Grants::deleted_at(&self.connection, incident))
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        self.run(|| self.connection.set_revoked_by(invite, name))
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        self.run(|| self.connection.revoked_by(invite))
    }

    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        self.run(|| self.connection.set_role(incident, invite, role, now_ms))
    }

    fn register_team(&self, team: &Team, owner: &Grant) -> Result<(), Error> {
        off_runtime(|| self.connection.register_team(team, owner))
    }

    fn team(&self, team: &IncidentId) -> Result<Option<Team>, Error> {
        off_runtime(|| self.connection.team(team))
    }

    fn share_with_team(&self, share: &TeamShare) -> Result<(), Error> {
        off_runtime(|| self.connection.share_with_team(share))
    }

    fn unshare_from_team(&self, playbook: &IncidentId, team: &IncidentId) -> Result<bool, Error> {
        off_runtime(|| self.connection.unshare_from_team(playbook, team))
    }

    fn team_share(
        &self,
        playbook: &IncidentId,
        team: &IncidentId,
    ) -> Result<Option<TeamShare>, Error> {
        off_runtime(|| self.connection.team_share(playbook, team))
    }

    fn shares_of_playbook(&self, playbook: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        off_runtime(|| self.connection.shares_of_playbook(playbook))
    }

    fn playbooks_of_team(&self, team: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        off_runtime(|| self.connection.playbooks_of_team(team))
    }
}
