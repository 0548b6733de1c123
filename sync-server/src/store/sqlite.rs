//! The embedded default [`Store`]: one SQLite file, `firebreak.sqlite3` in the data directory.
//!
//! Tables: `incident_update_log` (append log, one row per update, in arrival order),
//! `incident_snapshot` (one compacted snapshot per incident) and `incident_grant` (who may
//! open which incident: the owner and each invite, with only a SHA-256 of each secret), and
//! `incident_deleted` (the ids of incidents their owners deleted, and when: nothing else of
//! them is kept). The record ([`super::record`]) is `incident_record` (one row per accepted
//! update, never touched by compaction), `incident_record_checkpoint` (the chain head every
//! [`super::record::CHECKPOINT_EVERY`] records) and `incident_record_base` (where retention
//! left the chain's start). Teams are `team` (id, name; its members are grants of its id)
//! and `team_playbook` (which playbook is shared with which team, by whom, when).
//!
//! Durability: WAL journal with `synchronous=NORMAL`. A committed transaction is in the WAL
//! file before `commit` returns, so it survives the relay being killed (even `kill -9`); only
//! an OS crash or power loss can lose the last transactions before a checkpoint. Switch to
//! `synchronous=FULL` (see [`SYNCHRONOUS`]) to survive power loss at one fsync per batch.

mod blobs;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::record::{self, ChainHead, Record, RecordMeta, Sent};
use super::{Grants, Store, StoredIncident};
use crate::access::{Grant, InviteId, SecretHash, Team, TeamShare};
use crate::error::Error;
use crate::incident_id::IncidentId;
use wire::Access;

/// The `synchronous` pragma; see the module documentation.
pub const SYNCHRONOUS: &str = "NORMAL";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS incident_update_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    incident  TEXT NOT NULL,
    update_v1 BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_update_log_by_incident
    ON incident_update_log (incident, seq);
CREATE TABLE IF NOT EXISTS incident_snapshot (
    incident     TEXT PRIMARY KEY,
    snapshot_v1  BLOB NOT NULL,
    compacted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS incident_grant (
    invite          TEXT PRIMARY KEY,
    incident        TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    secret_sha256   BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER,
    revoked_at_ms   INTEGER,
    last_seen_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS incident_grant_by_incident
    ON incident_grant (incident, created_at_ms);
CREATE TABLE IF NOT EXISTS incident_deleted (
    incident      TEXT PRIMARY KEY,
    deleted_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS incident_record (
    incident       TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    invite         TEXT,
    update_v1      BLOB NOT NULL,
    update_sha256  BLOB NOT NULL,
    chain_sha256   BLOB NOT NULL,
    UNIQUE (incident, seq)
);
CREATE TABLE IF NOT EXISTS incident_record_checkpoint (
    incident       TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    chain_sha256   BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incident_record_base (
    incident       TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL,
    chain_sha256   BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS team (
    team          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS team_playbook (
    playbook      TEXT NOT NULL,
    team          TEXT NOT NULL,
    playbook_name TEXT NOT NULL,
    shared_by     TEXT NOT NULL,
    shared_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (playbook, team)
);
CREATE INDEX IF NOT EXISTS team_playbook_by_team ON team_playbook (team, shared_at_ms);
";

const GRANT_COLUMNS: &str = "invite, incident, name, role, secret_sha256, created_at_ms, \
     expires_at_ms, revoked_at_ms, last_seen_at_ms, device_sha256, other_device_attempts, \
     other_device_last_at_ms, invited_by";

/// Columns added to `incident_grant` after its first release, each with the `ALTER TABLE`
/// clause that adds it to a database made before: an invite's device binding (the SHA-256
/// of the first device's id), the attempts of other devices, the name of the owner who
/// made the invite, and who revoked it.
const ADDED_GRANT_COLUMNS: [(&str, &str); 5] = [
    ("device_sha256", "device_sha256 BLOB"),
    (
        "other_device_attempts",
        "other_device_attempts INTEGER NOT NULL DEFAULT 0",
    ),
    ("other_device_last_at_ms", "other_device_last_at_ms INTEGER"),
    ("invited_by", "invited_by TEXT"),
    ("revoked_by", "revoked_by TEXT"),
];

/// Adds the [`ADDED_GRANT_COLUMNS`] a database does not have yet, in one transaction.
fn add_grant_columns(conn: &mut Connection) -> rusqlite::Result<()> {
    let txn = conn.transaction()?;
    let present: Vec<String> = {
        let mut stmt = txn.prepare("SELECT name FROM pragma_table_info('incident_grant')")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for (name, definition) in ADDED_GRANT_COLUMNS {
        if !present.iter().any(|p| p == name) {
            txn.execute_batch(&format!(
                "ALTER TABLE incident_grant ADD COLUMN {definition}"
            ))?;
        }
    }
    txn.commit()
}

fn grant_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Grant> {
    let bad = |index: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("stored grant has an invalid {what}").into(),
        )
    };
    let invite: String = row.get(0)?;
    let incident: String = row.get(1)?;
    let role: String = row.get(3)?;
    let hash: Vec<u8> = row.get(4)?;
    Ok(Grant {
        invite: InviteId::parse(&invite).ok_or_else(|| bad(0, "invite id"))?,
        incident: IncidentId::parse(&incident).map_err(|_| bad(1, "incident id"))?,
        name: row.get(2)?,
        role: Access::parse(&role).ok_or_else(|| bad(3, "role"))?,
        secret_hash: hash.try_into().map_err(|_| bad(4, "secret hash"))?,
        created_at_ms: row.get(5)?,
        expires_at_ms: row.get(6)?,
        revoked_at_ms: row.get(7)?,
        last_seen_at_ms: row.get(8)?,
        device_hash: row
            .get::<_, Option<Vec<u8>>>(9)?
            .map(|h| h.try_into().map_err(|_| bad(9, "device hash")))
            .transpose()?,
        other_device_attempts: row.get(10)?,
        other_device_last_at_ms: row.get(11)?,
        invited_by: row.get(12)?,
        via_team: None,
    })
}

fn insert_grant(conn: &Connection, grant: &Grant) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO incident_grant ({GRANT_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        grant.invite.as_str(),
        grant.incident.as_str(),
        grant.name,
        grant.role.as_str(),
        &grant.secret_hash[..],
        grant.created_at_ms,
        grant.expires_at_ms,
        grant.revoked_at_ms,
        grant.last_seen_at_ms,
        grant.device_hash.as_ref().map(|h| &h[..]),
        grant.other_device_attempts,
        grant.other_device_last_at_ms,
        grant.invited_by,
    ])?;
    Ok(())
}

/// A SQLite file holding every incident. One connection, used by one thread at a time.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and its tables.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::io(
                    format!("could not create data directory {}", dir.display()),
                    e,
                )
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "could not switch {} to WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(blobs::SCHEMA)?;
        let mut conn = conn;
        add_grant_columns(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing database file read-only (for `sync-server verify`, beside a running
    /// relay): nothing is created, migrated or written.
    pub fn open_read_only(path: &Path) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::Storage(format!(
                "no database at {}: point --data at the relay's data directory",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let has_record = conn
            .query_row(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'incident_record'",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !has_record {
            return Err(Error::Storage(format!(
                "{} has no record yet: a relay of this version adds it when it starts",
                path.display()
            )));
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// From now on every read sees the database as it is now (one read transaction held
    /// until the store is dropped): `verify` walks one consistent state of a file a live
    /// relay goes on writing. Only for stores opened with [`SqliteStore::open_read_only`].
    pub fn hold_snapshot(&self) -> Result<(), Error> {
        let conn = self.conn();
        conn.execute_batch("BEGIN")?;
        // The snapshot starts at the first read.
        conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |_| Ok(()))?;
        Ok(())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done transaction behind (rusqlite
        // rolls back on drop), so the connection is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for SqliteStore {
    fn blobs(&self) -> Option<&dyn super::blobs::Blobs> {
        Some(self)
    }

    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        let snapshot = txn
            .query_row(
                "SELECT snapshot_v1 FROM incident_snapshot WHERE incident = ?1",
                params![incident.as_str()],
                |row| row.get::<_, Vec<u8>>(0),
            )
            .optional()?;
        let updates = {
            let mut stmt = txn.prepare_cached(
                "SELECT update_v1 FROM incident_update_log WHERE incident = ?1 ORDER BY seq",
            )?;
            let rows =
                stmt.query_map(params![incident.as_str()], |row| row.get::<_, Vec<u8>>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
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
        // Through every row there is and ever will be: the whole log goes.
        self.compact_through(incident, snapshot, u64::MAX)
    }

    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
        let end: i64 = self.conn().query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_update_log WHERE incident = ?1",
            params![incident.as_str()],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(end).unwrap_or(0))
    }

    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error> {
        let end = i64::try_from(end).unwrap_or(i64::MAX);
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        // Nothing is written for a deleted incident (a compaction that outlived its room).
        txn.execute(
            "INSERT INTO incident_snapshot (incident, snapshot_v1) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM incident_deleted WHERE incident = ?1)
             ON CONFLICT (incident) DO UPDATE SET
                snapshot_v1 = excluded.snapshot_v1,
                compacted_at = excluded.compacted_at",
            params![incident.as_str(), snapshot],
        )?;
        txn.execute(
            "DELETE FROM incident_update_log WHERE incident = ?1 AND seq < ?2",
            params![incident.as_str(), end],
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
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        // Nothing is written for a deleted incident (a room that had not stopped yet).
        if deleted_at(&txn, incident)?.is_some() {
            return Ok(());
        }
        let id = incident.as_str();
        let head = chain_head(&txn, incident)?;
        // An incident stored before the record existed: what it held then (its snapshot and
        // log, from no invite) becomes its first records, so past states start from it.
        let earlier: Vec<Sent> = if head.is_none() {
            let snapshot = txn
                .query_row(
                    "SELECT snapshot_v1 FROM incident_snapshot WHERE incident = ?1",
                    params![id],
                    |row| row.get::<_, Vec<u8>>(0),
                )
                .optional()?;
            let mut stmt = txn.prepare_cached(
                "SELECT update_v1 FROM incident_update_log WHERE incident = ?1 ORDER BY seq",
            )?;
            let log = stmt.query_map(params![id], |row| row.get::<_, Vec<u8>>(0))?;
            let mut earlier: Vec<Sent> = snapshot
                .into_iter()
                .map(|update| Sent {
                    update,
                    invite: None,
                })
                .collect();
            for update in log {
                earlier.push(Sent {
                    update: update?,
                    invite: None,
                });
            }
            earlier
        } else {
            Vec::new()
        };
        {
            let mut stmt = txn.prepare_cached(
                "INSERT INTO incident_update_log (incident, update_v1) VALUES (?1, ?2)",
            )?;
            for s in sent {
                stmt.execute(params![id, s.update])?;
            }
        }
        let sent: Vec<&Sent> = earlier.iter().chain(sent).collect();
        {
            let mut stmt = txn.prepare_cached(
                "INSERT INTO incident_record (incident, seq, received_at_ms, invite, update_v1,
                    update_sha256, chain_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut checkpoint = txn.prepare_cached(
                "INSERT OR REPLACE INTO incident_record_checkpoint
                    (incident, seq, chain_sha256, received_at_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (r, s) in record::next_records(head, sent.iter().copied(), received_at_ms)
                .into_iter()
                .zip(sent)
            {
                stmt.execute(params![
                    id,
                    seq_value(r.seq),
                    r.received_at_ms,
                    r.invite.as_ref().map(InviteId::as_str),
                    s.update,
                    &r.update_sha256[..],
                    &r.chain_sha256[..],
                ])?;
                if record::is_checkpoint(r.seq) {
                    checkpoint.execute(params![
                        id,
                        seq_value(r.seq),
                        &r.chain_sha256[..],
                        r.received_at_ms
                    ])?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT incident FROM incident_record
             UNION SELECT incident FROM incident_record_base ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let mut found = Vec::new();
        for raw in rows {
            let raw = raw?;
            found.push(IncidentId::parse(&raw).map_err(|_| {
                Error::Storage(format!("the record holds an invalid incident id {raw:?}"))
            })?);
        }
        Ok(found)
    }

    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        record_base(&self.conn(), incident)
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, received_at_ms, invite, update_v1, update_sha256, chain_sha256
             FROM incident_record WHERE incident = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                incident.as_str(),
                seq_value(after_seq),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |row| {
                Ok(Record {
                    seq: row.get::<_, i64>(0)?.max(0) as u64,
                    received_at_ms: row.get(1)?,
                    invite: invite_from(row, 2)?,
                    update: row.get(3)?,
                    update_sha256: hash_from(row, 4)?,
                    chain_sha256: hash_from(row, 5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, received_at_ms, invite, length(update_v1), update_sha256, chain_sha256
             FROM incident_record WHERE incident = ?1 AND seq > ?2
                AND received_at_ms >= ?3 AND received_at_ms <= ?4
             ORDER BY seq LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![
                incident.as_str(),
                seq_value(after_seq),
                since_ms,
                until_ms,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |row| {
                Ok(RecordMeta {
                    seq: row.get::<_, i64>(0)?.max(0) as u64,
                    received_at_ms: row.get(1)?,
                    invite: invite_from(row, 2)?,
                    size: row.get::<_, i64>(3)?.max(0) as u64,
                    update_sha256: hash_from(row, 4)?,
                    chain_sha256: hash_from(row, 5)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record_checkpoint
             WHERE incident = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![incident.as_str()], head_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let incidents = self.recorded_incidents()?;
        let mut dropped = 0;
        for incident in incidents {
            let id = incident.as_str();
            // The chain's start up to (not including) its first record received since the
            // cutoff; all of it if there is none. Records appended meanwhile come later.
            let keep_from: Option<i64> = self.conn().query_row(
                "SELECT MIN(seq) FROM incident_record WHERE incident = ?1 AND received_at_ms >= ?2",
                params![id, cutoff_ms],
                |row| row.get(0),
            )?;
            let keep_from = keep_from.unwrap_or(i64::MAX);
            // At most RETENTION_CHUNK records a transaction, the connection let go between
            // them: rooms append on the sync thread through this same connection.
            loop {
                let mut conn = self.conn();
                let txn = conn.transaction()?;
                let last_dropped = txn
                    .query_row(
                        "SELECT seq, chain_sha256, received_at_ms FROM (
                            SELECT seq, chain_sha256, received_at_ms FROM incident_record
                            WHERE incident = ?1 AND seq < ?2 ORDER BY seq LIMIT ?3)
                         ORDER BY seq DESC LIMIT 1",
                        params![id, keep_from, RETENTION_CHUNK],
                        head_from_row,
                    )
                    .optional()?;
                let Some(base) = last_dropped else {
                    break;
                };
                txn.execute(
                    "INSERT INTO incident_record_base (incident, seq, chain_sha256, received_at_ms)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (incident) DO UPDATE SET seq = excluded.seq,
                        chain_sha256 = excluded.chain_sha256,
                        received_at_ms = excluded.received_at_ms",
                    params![
                        id,
                        seq_value(base.seq),
                        &base.chain_sha256[..],
                        base.received_at_ms
                    ],
                )?;
                dropped += txn.execute(
                    "DELETE FROM incident_record WHERE incident = ?1 AND seq <= ?2",
                    params![id, seq_value(base.seq)],
                )? as u64;
                txn.commit()?;
            }
        }
        Ok(dropped)
    }
}

/// Most records retention drops in one transaction.
const RETENTION_CHUNK: i64 = 5000;

fn seq_value(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn hash_from(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<[u8; 32]> {
    row.get::<_, Vec<u8>>(index)?.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            "stored record has a hash that is not 32 bytes".into(),
        )
    })
}

fn invite_from(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<InviteId>> {
    row.get::<_, Option<String>>(index)?
        .map(|raw| {
            InviteId::parse(&raw).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Text,
                    "stored record has an invalid invite id".into(),
                )
            })
        })
        .transpose()
}

fn head_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChainHead> {
    Ok(ChainHead {
        seq: row.get::<_, i64>(0)?.max(0) as u64,
        chain_sha256: hash_from(row, 1)?,
        received_at_ms: row.get(2)?,
    })
}

fn record_base(conn: &Connection, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record_base WHERE incident = ?1",
        )?
        .query_row(params![incident.as_str()], head_from_row)
        .optional()?)
}

/// The record's last record, or its base if retention dropped every record.
fn chain_head(conn: &Connection, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
    let last = conn
        .prepare_cached(
            "SELECT seq, chain_sha256, received_at_ms FROM incident_record
             WHERE incident = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![incident.as_str()], head_from_row)
        .optional()?;
    match last {
        Some(head) => Ok(Some(head)),
        None => record_base(conn, incident),
    }
}

impl Grants for SqliteStore {
    fn register_incident(&self, owner: &Grant) -> Result<(), Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        let taken = txn
            .query_row(
                "SELECT 1 FROM incident_grant WHERE incident = ?1 LIMIT 1",
                params![owner.incident.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if taken {
            return Err(Error::IncidentExists);
        }
        if deleted_at(&txn, &owner.incident)?.is_some() {
            return Err(Error::IncidentDeleted);
        }
        insert_grant(&txn, owner)?;
        txn.commit()?;
        Ok(())
    }

    fn add_grant(&self, grant: &Grant) -> Result<(), Error> {
        insert_grant(&self.conn(), grant)?;
        Ok(())
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = ?1"
        ))?;
        Ok(stmt
            .query_row(params![invite.as_str()], grant_from_row)
            .optional()?)
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE incident = ?1
             ORDER BY role != 'owner', created_at_ms, rowid"
        ))?;
        let rows = stmt.query_map(params![incident.as_str()], grant_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        txn.execute(
            "UPDATE incident_grant SET revoked_at_ms = COALESCE(revoked_at_ms, ?3)
             WHERE invite = ?1 AND incident = ?2",
            params![invite.as_str(), incident.as_str(), now_ms],
        )?;
        let grant = txn
            .query_row(
                &format!(
                    "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = ?1 AND incident = ?2"
                ),
                params![invite.as_str(), incident.as_str()],
                grant_from_row,
            )
            .optional()?;
        txn.commit()?;
        Ok(grant)
    }

    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE incident_grant SET last_seen_at_ms = ?2 WHERE invite = ?1",
            params![invite.as_str(), now_ms],
        )?;
        Ok(())
    }

    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        txn.execute(
            "UPDATE incident_grant SET device_sha256 = ?2
             WHERE invite = ?1 AND device_sha256 IS NULL",
            params![invite.as_str(), &device_hash[..]],
        )?;
        let bound: Option<Option<Vec<u8>>> = txn
            .query_row(
                "SELECT device_sha256 FROM incident_grant WHERE invite = ?1",
                params![invite.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        txn.commit()?;
        bound
            .map(|hash| {
                hash.and_then(|h| h.try_into().ok())
                    .ok_or_else(|| Error::Storage("stored grant has an invalid device hash".into()))
            })
            .transpose()
    }

    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE incident_grant
             SET other_device_attempts = other_device_attempts + 1, other_device_last_at_ms = ?2
             WHERE invite = ?1",
            params![invite.as_str(), now_ms],
        )?;
        Ok(())
    }
    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        let id = incident.as_str();
        txn.execute(
            "INSERT INTO incident_deleted (incident, deleted_at_ms) VALUES (?1, ?2)
             ON CONFLICT (incident) DO NOTHING",
            params![id, now_ms],
        )?;
        txn.execute(
            "DELETE FROM incident_grant WHERE incident = ?1",
            params![id],
        )?;
        txn.execute("DELETE FROM team_playbook WHERE playbook = ?1", params![id])?;
        txn.execute(
            "DELETE FROM incident_update_log WHERE incident = ?1",
            params![id],
        )?;
        txn.execute(
            "DELETE FROM incident_snapshot WHERE incident = ?1",
            params![id],
        )?;
        for table in [
            "incident_record",
            "incident_record_checkpoint",
            "incident_record_base",
            "incident_blob",
        ] {
            txn.execute(
                &format!("DELETE FROM {table} WHERE incident = ?1"),
                params![id],
            )?;
        }
        txn.commit()?;
        Ok(())
    }

    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error> {
        deleted_at(&self.conn(), incident)
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        self.conn().execute(
            "UPDATE incident_grant SET revoked_by = ?2 WHERE invite = ?1",
            params![invite.as_str(), name],
        )?;
        Ok(())
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        Ok(self
            .conn()
            .prepare_cached("SELECT revoked_by FROM incident_grant WHERE invite = ?1")?
            .query_row(params![invite.as_str()], |row| row.get(0))
            .optional()?
            .flatten())
    }

    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        let select = format!(
            "SELECT {GRANT_COLUMNS} FROM incident_grant WHERE invite = ?1 AND incident = ?2"
        );
        let key = params![invite.as_str(), incident.as_str()];
        let Some(current) = txn.query_row(&select, key, grant_from_row).optional()? else {
            return Ok(None);
        };
        if current.role == Access::Owner && role != Access::Owner {
            let other_owners: i64 = txn.query_row(
                "SELECT COUNT(*) FROM incident_grant
                 WHERE incident = ?2 AND invite != ?1 AND role = 'owner'
                   AND revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > ?3)",
                params![invite.as_str(), incident.as_str(), now_ms],
                |row| row.get(0),
            )?;
            if other_owners == 0 {
                return Err(Error::LastOwner);
            }
        }
        txn.execute(
            "UPDATE incident_grant SET role = ?3 WHERE invite = ?1 AND incident = ?2",
            params![invite.as_str(), incident.as_str(), role.as_str()],
        )?;
        let changed = txn.query_row(&select, key, grant_from_row).optional()?;
        txn.commit()?;
        Ok(changed)
    }

    fn register_team(&self, team: &Team, owner: &Grant) -> Result<(), Error> {
        let mut conn = self.conn();
        let txn = conn.transaction()?;
        let taken = txn
            .query_row(
                "SELECT 1 FROM incident_grant WHERE incident = ?1
                 UNION ALL SELECT 1 FROM team WHERE team = ?1
                 UNION ALL SELECT 1 FROM incident_deleted WHERE incident = ?1 LIMIT 1",
                params![team.id.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if taken {
            return Err(Error::IncidentExists);
        }
        txn.execute(
            "INSERT INTO team (team, name, created_at_ms) VALUES (?1, ?2, ?3)",
            params![team.id.as_str(), team.name, team.created_at_ms],
        )?;
        insert_grant(&txn, owner)?;
        txn.commit()?;
        Ok(())
    }

    fn team(&self, team: &IncidentId) -> Result<Option<Team>, Error> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT team, name, created_at_ms FROM team WHERE team = ?1")?;
        Ok(stmt
            .query_row(params![team.as_str()], |row| {
                Ok(Team {
                    id: id_from(row, 0)?,
                    name: row.get(1)?,
                    created_at_ms: row.get(2)?,
                })
            })
            .optional()?)
    }

    fn share_with_team(&self, share: &TeamShare) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO team_playbook (playbook, team, playbook_name, shared_by, shared_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (playbook, team) DO UPDATE SET playbook_name = excluded.playbook_name,
                 shared_by = excluded.shared_by, shared_at_ms = excluded.shared_at_ms",
            params![
                share.playbook.as_str(),
                share.team.as_str(),
                share.playbook_name,
                share.shared_by,
                share.shared_at_ms
            ],
        )?;
        Ok(())
    }

    fn unshare_from_team(&self, playbook: &IncidentId, team: &IncidentId) -> Result<bool, Error> {
        let removed = self.conn().execute(
            "DELETE FROM team_playbook WHERE playbook = ?1 AND team = ?2",
            params![playbook.as_str(), team.as_str()],
        )?;
        Ok(removed > 0)
    }

    fn team_share(
        &self,
        playbook: &IncidentId,
        team: &IncidentId,
    ) -> Result<Option<TeamShare>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE playbook = ?1 AND team = ?2"
        ))?;
        Ok(stmt
            .query_row(params![playbook.as_str(), team.as_str()], share_from_row)
            .optional()?)
    }

    fn shares_of_playbook(&self, playbook: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE playbook = ?1
             ORDER BY shared_at_ms, rowid"
        ))?;
        let rows = stmt.query_map(params![playbook.as_str()], share_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn playbooks_of_team(&self, team: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM team_playbook WHERE team = ?1
             ORDER BY shared_at_ms, rowid"
        ))?;
        let rows = stmt.query_map(params![team.as_str()], share_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

const SHARE_COLUMNS: &str = "playbook, team, playbook_name, shared_by, shared_at_ms";

fn id_from(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<IncidentId> {
    let raw: String = row.get(index)?;
    IncidentId::parse(&raw).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            "stored team or playbook has an invalid id".into(),
        )
    })
}

fn share_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TeamShare> {
    Ok(TeamShare {
        playbook: id_from(row, 0)?,
        team: id_from(row, 1)?,
        playbook_name: row.get(2)?,
        shared_by: row.get(3)?,
        shared_at_ms: row.get(4)?,
    })
}

fn deleted_at(conn: &Connection, incident: &IncidentId) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached("SELECT deleted_at_ms FROM incident_deleted WHERE incident = ?1")?
        .query_row(params![incident.as_str()], |row| row.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        crate::store::conformance::run_all(|case| {
            SqliteStore::open(&dir.path().join(format!("{case}.sqlite3"))).unwrap()
        });
    }

    #[test]
    fn passes_the_conformance_groups_on_one_file() {
        // The groups share one file: cases must not disturb each other's incidents.
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("firebreak.sqlite3")).unwrap();
        crate::store::conformance::run(&store);
        crate::store::conformance::run_record(&store);
        crate::store::conformance::run_grants(&store);
        crate::store::conformance::run_deletion(&store);
    }

    #[test]
    fn an_incident_from_before_the_record_is_recorded_from_its_stored_state() {
        use crate::store::record::Sent;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firebreak.sqlite3");
        let inc = IncidentId::parse("upgraded").unwrap();
        {
            // Written by a relay without the record: a snapshot and two log rows.
            let store = SqliteStore::open(&path).unwrap();
            let conn = store.conn();
            conn.execute_batch(
                "INSERT INTO incident_snapshot (incident, snapshot_v1) VALUES ('upgraded', x'01');
                 INSERT INTO incident_update_log (incident, update_v1) VALUES ('upgraded', x'02');
                 INSERT INTO incident_update_log (incident, update_v1) VALUES ('upgraded', x'03');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let new = Sent {
            update: vec![4],
            invite: None,
        };
        store.append_recorded(&inc, &[new], 9).unwrap();
        let updates: Vec<Vec<u8>> = store
            .records(&inc, 0, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.update)
            .collect();
        assert_eq!(updates, vec![vec![1], vec![2], vec![3], vec![4]]);
        assert_eq!(store.load(&inc).unwrap().updates.len(), 3);
        assert!(crate::verify::walk(&store, &inc).unwrap().is_ok());
    }

    #[test]
    fn retention_drops_a_long_start_in_chunks_and_the_chain_still_walks() {
        use crate::store::record::Sent;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("firebreak.sqlite3")).unwrap();
        let inc = IncidentId::parse("long").unwrap();
        let sent = |n: usize| -> Vec<Sent> {
            (0..n)
                .map(|i| Sent {
                    update: (i as u32).to_be_bytes().to_vec(),
                    invite: None,
                })
                .collect()
        };
        let old = RETENTION_CHUNK as usize * 2 + 17;
        store.append_recorded(&inc, &sent(old), 10).unwrap();
        store.append_recorded(&inc, &sent(3), 20).unwrap();
        assert_eq!(store.drop_records_before(15).unwrap(), old as u64);
        assert_eq!(store.record_base(&inc).unwrap().unwrap().seq, old as u64);
        let walked = crate::verify::walk(&store, &inc).unwrap().unwrap();
        assert_eq!(walked.records, 3);
        assert_eq!(store.drop_records_before(15).unwrap(), 0);
        // Everything old: the chain is all base, and goes on from it.
        assert_eq!(store.drop_records_before(30).unwrap(), 3);
        store.append_recorded(&inc, &sent(1), 40).unwrap();
        let walked = crate::verify::walk(&store, &inc).unwrap().unwrap();
        assert_eq!(
            (walked.records, walked.head.unwrap().seq),
            (1, old as u64 + 4)
        );
    }

    #[test]
    fn data_survives_reopening_and_the_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("firebreak.sqlite3");
        let inc = IncidentId::parse("reopen").unwrap();
        {
            let store = SqliteStore::open(&path).unwrap();
            store.append(&inc, &[vec![1, 2, 3]]).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.load(&inc).unwrap().updates, vec![vec![1, 2, 3]]);
    }

    #[test]
    fn grants_from_before_device_binding_are_kept_and_can_be_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firebreak.sqlite3");
        {
            // The grant table as the first release made it, with one invite in it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE incident_grant (
                    invite TEXT PRIMARY KEY, incident TEXT NOT NULL, name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
                    secret_sha256 BLOB NOT NULL, created_at_ms INTEGER NOT NULL,
                    expires_at_ms INTEGER, revoked_at_ms INTEGER, last_seen_at_ms INTEGER);
                 INSERT INTO incident_grant VALUES
                    ('0123456789abcdef', 'old-inc', 'Bob', 'editor', zeroblob(32), 5, NULL, NULL, 6);",
            )
            .unwrap();
        }
        let invite = InviteId::parse("0123456789abcdef").unwrap();
        for _ in 0..2 {
            // Opening twice: the columns are added once.
            let store = SqliteStore::open(&path).unwrap();
            let bob = store.grant(&invite).unwrap().unwrap();
            assert_eq!((bob.name.as_str(), bob.last_seen_at_ms), ("Bob", Some(6)));
            assert_eq!(bob.invited_by, None, "an old invite names no inviter");
            assert_eq!(store.bind_device(&invite, &[4; 32]).unwrap(), Some([4; 32]));
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.grant(&invite).unwrap().unwrap().device_hash,
            Some([4; 32])
        );
    }
}
