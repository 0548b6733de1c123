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
//! is called through `spawn_blocking` too. One connection behind a mutex, like SQLite's:
//! one relay process writes each incident, and the transactions are short.
//!
//! Schema migrations: [`MIGRATIONS`] in order, the applied count in `firebreak_schema`.
//! They run at start in one transaction that first locks that table, so two relays starting
//! at once migrate once. A database whose version is newer than this relay knows is refused.

mod blobs;

use std::sync::{Mutex, MutexGuard};

use postgres::{Client, GenericClient, NoTls, Row};

use super::record::{self, ChainHead, Record, RecordMeta, Sent};
use super::{Grants, Store, StoredIncident};
use crate::access::{Grant, InviteId, SecretHash};
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
    // 2: left for the teams branch's migration (renumber at the merge).
    "SELECT 1",
    // 3: evidence attachments.
    blobs::MIGRATION,
];

const GRANT_COLUMNS: &str = "invite, incident, name, role, secret_sha256, created_at_ms, \
     expires_at_ms, revoked_at_ms, last_seen_at_ms, device_sha256, other_device_attempts, \
     other_device_last_at_ms, invited_by";

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Storage(format!("postgresql: {e}"))
    }
}

/// A PostgreSQL database holding every incident. One connection, one thread at a time.
pub struct PostgresStore {
    connection: Connection,
}

/// The connection; the trait methods below do the work, [`PostgresStore`] moves each call
/// off the async runtime.
struct Connection {
    client: Mutex<Client>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, or `host=/socket/dir …`) and
    /// brings its schema to this relay's version. Blocks: call it off the async runtime.
    pub fn connect(url: &str) -> Result<Self, Error> {
        let mut client = Client::connect(url, NoTls).map_err(|e| {
            Error::Storage(format!(
                "could not connect to PostgreSQL at {}: {e}",
                redact(url)
            ))
        })?;
        migrate(&mut client)?;
        Ok(Self {
            connection: Connection {
                client: Mutex::new(client),
            },
        })
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
                    client: Mutex::new(client),
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
    fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while holding the lock leaves no open transaction behind (a dropped
        // transaction rolls back), so the connection is still usable.
        self.client
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    txn.batch_execute(
        "CREATE TABLE IF NOT EXISTS firebreak_schema (version BIGINT NOT NULL);
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
        let mut client = self.client();
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
            .client()
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
        let mut client = self.client();
        let mut txn = client.transaction()?;
        txn.execute(
            "INSERT INTO incident_snapshot (incident, snapshot_v1) SELECT $1, $2
             WHERE NOT EXISTS (SELECT 1 FROM incident_deleted WHERE incident = $1)
             ON CONFLICT (incident) DO UPDATE SET
                snapshot_v1 = excluded.snapshot_v1, compacted_at = now()",
            &[&id, &snapshot],
        )?;
        txn.execute(
            "DELETE FROM incident_update_log WHERE incident = $1 AND seq < $2",
            &[&id, &end],
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
        let mut client = self.client();
        let mut txn = client.transaction()?;
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
        let rows = self.client().query(
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
        record_base(&mut *self.client(), incident)
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        let rows = self.client().query(
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
        let rows = self.client().query(
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
        let rows = self.client().query(
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
                .client()
                .query_one(
                    "SELECT MIN(seq) FROM incident_record
                     WHERE incident = $1 AND received_at_ms >= $2",
                    &[&id, &cutoff_ms],
                )?
                .get(0);
            let keep_from = keep_from.unwrap_or(i64::MAX);
            // At most RETENTION_CHUNK records a transaction, the connection let go between.
            loop {
                let mut client = self.client();
                let mut txn = client.transaction()?;
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
        let mut client = self.client();
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
        insert_grant(&mut *self.client(), grant)
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        self.client()
            .query_opt(
                &format!("SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = $1"),
                &[&invite.as_str()],
            )?
            .map(|row| grant_from_row(&row))
            .transpose()
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        self.client()
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
        self.client()
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
        self.client().execute(
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
        let bound = self.client().query_opt(
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
        self.client().execute(
            "UPDATE incident_grant
             SET other_device_attempts = other_device_attempts + 1, other_device_last_at_ms = $2
             WHERE invite = $1",
            &[&invite.as_str(), &now_ms],
        )?;
        Ok(())
    }

    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        let id = incident.as_str();
        let mut client = self.client();
        let mut txn = client.transaction()?;
        txn.execute(
            "INSERT INTO incident_deleted (incident, deleted_at_ms) VALUES ($1, $2)
             ON CONFLICT (incident) DO NOTHING",
            &[&id, &now_ms],
        )?;
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
        deleted_at(&mut *self.client(), incident)
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        self.client().execute(
            "UPDATE incident_grant SET revoked_by = $2 WHERE invite = $1",
            &[&invite.as_str(), &name],
        )?;
        Ok(())
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        Ok(self
            .client()
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
        let mut client = self.client();
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

    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        off_runtime(|| self.connection.load(incident))
    }

    fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error> {
        off_runtime(|| self.connection.append(incident, updates))
    }

    fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error> {
        off_runtime(|| self.connection.compact(incident, snapshot))
    }

    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
        off_runtime(|| self.connection.log_end(incident))
    }

    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error> {
        off_runtime(|| self.connection.compact_through(incident, snapshot, end))
    }

    fn append_recorded(
        &self,
        incident: &IncidentId,
        sent: &[Sent],
        received_at_ms: i64,
    ) -> Result<(), Error> {
        off_runtime(|| {
            self.connection
                .append_recorded(incident, sent, received_at_ms)
        })
    }

    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        off_runtime(|| self.connection.recorded_incidents())
    }

    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        off_runtime(|| Store::record_base(&self.connection, incident))
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        off_runtime(|| self.connection.records(incident, after_seq, limit))
    }

    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        off_runtime(|| {
            self.connection
                .record_page(incident, since_ms, until_ms, after_seq, limit)
        })
    }

    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        off_runtime(|| self.connection.checkpoints(incident))
    }

    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        off_runtime(|| self.connection.drop_records_before(cutoff_ms))
    }
}

impl Grants for PostgresStore {
    fn register_incident(&self, owner: &Grant) -> Result<(), Error> {
        off_runtime(|| self.connection.register_incident(owner))
    }

    fn add_grant(&self, grant: &Grant) -> Result<(), Error> {
        off_runtime(|| self.connection.add_grant(grant))
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        off_runtime(|| self.connection.grant(invite))
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        off_runtime(|| self.connection.grants(incident))
    }

    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        off_runtime(|| self.connection.revoke(incident, invite, now_ms))
    }

    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        off_runtime(|| self.connection.touch(invite, now_ms))
    }

    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error> {
        off_runtime(|| self.connection.bind_device(invite, device_hash))
    }

    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        off_runtime(|| self.connection.other_device_tried(invite, now_ms))
    }

    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        off_runtime(|| self.connection.delete_incident(incident, now_ms))
    }

    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error> {
        off_runtime(|| Grants::deleted_at(&self.connection, incident))
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        off_runtime(|| self.connection.set_revoked_by(invite, name))
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        off_runtime(|| self.connection.revoked_by(invite))
    }

    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        off_runtime(|| self.connection.set_role(incident, invite, role, now_ms))
    }
}
