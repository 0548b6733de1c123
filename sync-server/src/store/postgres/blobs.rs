//! [`Blobs`] in PostgreSQL: the table `incident_blob` (migration [`MIGRATION`]), the bytes in
//! a `BYTEA` column. An upload locks its incident's files for the length of its transaction
//! (an advisory lock), so two relays storing files of one incident at once cannot both
//! pass its total.

use postgres::GenericClient;

use super::{off_runtime, storage, Connection, PostgresStore};
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::store::blobs::{BlobMeta, Blobs, Put};

/// The table, as a migration step. `IF NOT EXISTS`, so it may be renumbered at a merge.
pub(super) const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS incident_blob (
    incident     TEXT NOT NULL,
    sha256       BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    added_by     TEXT NOT NULL,
    added_at_ms  BIGINT NOT NULL,
    bytes        BYTEA NOT NULL,
    PRIMARY KEY (incident, sha256)
);
";

/// The first key of the advisory locks of uploads (`blob` in ASCII); the second is the
/// incident id's `hashtext`. Two-key locks never meet one-key (`bigint`) locks.
const LOCK_CLASS: i32 = 0x626c_6f62;

const META: &str = "sha256, content_type, size, added_by, added_at_ms";

fn meta_from_row(row: &postgres::Row) -> Result<BlobMeta, Error> {
    Ok(BlobMeta {
        sha256: super::hash(row.get(0), "attachment hash")?,
        content_type: row.get(1),
        size: u64::try_from(row.get::<_, i64>(2)).map_err(|_| storage("attachment size"))?,
        added_by: row.get(3),
        added_at_ms: row.get(4),
    })
}

fn total(client: &mut impl GenericClient, incident: &IncidentId) -> Result<u64, Error> {
    let sum: i64 = client
        .query_one(
            "SELECT COALESCE(SUM(size), 0)::BIGINT FROM incident_blob WHERE incident = $1",
            &[&incident.as_str()],
        )?
        .get(0);
    Ok(sum.max(0) as u64)
}

impl Blobs for Connection {
    fn put_blob(
        &self,
        incident: &IncidentId,
        meta: &BlobMeta,
        bytes: &[u8],
        incident_limit: u64,
    ) -> Result<Put, Error> {
        let id = incident.as_str();
        let mut client = self.client()?;
        let mut txn = client.transaction()?;
        txn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_CLASS, &id],
        )?;
        if super::deleted_at(&mut txn, incident)?.is_some() {
            return Ok(Put::IncidentDeleted);
        }
        let there = txn
            .query_opt(
                "SELECT 1 FROM incident_blob WHERE incident = $1 AND sha256 = $2",
                &[&id, &&meta.sha256[..]],
            )?
            .is_some();
        if there {
            return Ok(Put::AlreadyThere);
        }
        let stored = total(&mut txn, incident)?;
        if stored.saturating_add(meta.size) > incident_limit {
            return Ok(Put::OverIncidentLimit { stored });
        }
        txn.execute(
            "INSERT INTO incident_blob
                 (incident, sha256, content_type, size, added_by, added_at_ms, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &&meta.sha256[..],
                &meta.content_type,
                &i64::try_from(meta.size).unwrap_or(i64::MAX),
                &meta.added_by,
                &meta.added_at_ms,
                &bytes,
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
        self.client()?
            .query_opt(
                &format!("SELECT {META} FROM incident_blob WHERE incident = $1 AND sha256 = $2"),
                &[&incident.as_str(), &&sha256[..]],
            )?
            .map(|row| meta_from_row(&row))
            .transpose()
    }

    fn blob(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<(BlobMeta, Vec<u8>)>, Error> {
        self.client()?
            .query_opt(
                &format!(
                    "SELECT {META}, bytes FROM incident_blob WHERE incident = $1 AND sha256 = $2"
                ),
                &[&incident.as_str(), &&sha256[..]],
            )?
            .map(|row| Ok((meta_from_row(&row)?, row.get(5))))
            .transpose()
    }

    fn blob_bytes(&self, incident: &IncidentId) -> Result<u64, Error> {
        total(&mut *self.client()?, incident)
    }
}

impl Blobs for PostgresStore {
    fn put_blob(
        &self,
        incident: &IncidentId,
        meta: &BlobMeta,
        bytes: &[u8],
        incident_limit: u64,
    ) -> Result<Put, Error> {
        off_runtime(|| {
            self.connection
                .put_blob(incident, meta, bytes, incident_limit)
        })
    }

    fn blob_meta(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<BlobMeta>, Error> {
        off_runtime(|| self.connection.blob_meta(incident, sha256))
    }

    fn blob(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<(BlobMeta, Vec<u8>)>, Error> {
        off_runtime(|| self.connection.blob(incident, sha256))
    }

    fn blob_bytes(&self, incident: &IncidentId) -> Result<u64, Error> {
        off_runtime(|| self.connection.blob_bytes(incident))
    }
}
