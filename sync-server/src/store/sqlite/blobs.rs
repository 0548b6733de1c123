//! [`Blobs`] in the SQLite file: the table `incident_blob`, one row per file of an incident.
//! The bytes are the last column, so reading a row's other columns (a `HEAD`, the incident's
//! total) never reads the file's overflow pages.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::store::blobs::{BlobMeta, Blobs, Put};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS incident_blob (
    incident     TEXT NOT NULL,
    sha256       BLOB NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    added_by     TEXT NOT NULL,
    added_at_ms  INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    UNIQUE (incident, sha256)
);
";

const META: &str = "sha256, content_type, size, added_by, added_at_ms";

fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<BlobMeta> {
    let hash: Vec<u8> = row.get(0)?;
    Ok(BlobMeta {
        sha256: hash.try_into().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Blob,
                "stored attachment has an invalid hash".into(),
            )
        })?,
        content_type: row.get(1)?,
        size: row.get::<_, i64>(2)?.max(0) as u64,
        added_by: row.get(3)?,
        added_at_ms: row.get(4)?,
    })
}

fn total(conn: &rusqlite::Connection, incident: &IncidentId) -> Result<u64, Error> {
    let sum: i64 = conn.query_row(
        "SELECT COALESCE(SUM(size), 0) FROM incident_blob WHERE incident = ?1",
        params![incident.as_str()],
        |row| row.get(0),
    )?;
    Ok(sum.max(0) as u64)
}

impl Blobs for SqliteStore {
    fn put_blob(
        &self,
        incident: &IncidentId,
        meta: &BlobMeta,
        bytes: &[u8],
        incident_limit: u64,
    ) -> Result<Put, Error> {
        let mut conn = self.conn();
        let txn = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if super::deleted_at(&txn, incident)?.is_some() {
            return Ok(Put::IncidentDeleted);
        }
        let there = txn
            .query_row(
                "SELECT 1 FROM incident_blob WHERE incident = ?1 AND sha256 = ?2",
                params![incident.as_str(), &meta.sha256[..]],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if there {
            return Ok(Put::AlreadyThere);
        }
        let stored = total(&txn, incident)?;
        if stored.saturating_add(meta.size) > incident_limit {
            return Ok(Put::OverIncidentLimit { stored });
        }
        txn.execute(
            "INSERT INTO incident_blob
                 (incident, sha256, content_type, size, added_by, added_at_ms, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                incident.as_str(),
                &meta.sha256[..],
                meta.content_type,
                i64::try_from(meta.size).unwrap_or(i64::MAX),
                meta.added_by,
                meta.added_at_ms,
                bytes,
            ],
        )?;
        txn.commit()?;
        Ok(Put::Added)
    }

    fn blob_meta(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<BlobMeta>, Error> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {META} FROM incident_blob WHERE incident = ?1 AND sha256 = ?2"),
                params![incident.as_str(), &sha256[..]],
                meta_from_row,
            )
            .optional()?)
    }

    fn blob(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<(BlobMeta, Vec<u8>)>, Error> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {META}, bytes FROM incident_blob WHERE incident = ?1 AND sha256 = ?2"
                ),
                params![incident.as_str(), &sha256[..]],
                |row| Ok((meta_from_row(row)?, row.get(5)?)),
            )
            .optional()?)
    }

    fn blob_bytes(&self, incident: &IncidentId) -> Result<u64, Error> {
        total(&self.conn(), incident)
    }
}
