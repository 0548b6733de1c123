//! [`Blobs`] in memory, for tests.

use super::MemoryStore;
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::store::blobs::{BlobMeta, Blobs, Put};

/// A stored file: what is kept about it, and its bytes.
pub(super) type File = (BlobMeta, Vec<u8>);

impl Blobs for MemoryStore {
    fn put_blob(
        &self,
        incident: &IncidentId,
        meta: &BlobMeta,
        bytes: &[u8],
        incident_limit: u64,
    ) -> Result<Put, Error> {
        if self.is_deleted(incident) {
            return Ok(Put::IncidentDeleted);
        }
        let mut files = self.files();
        let of_incident = files.entry(incident.clone()).or_default();
        if of_incident.iter().any(|(m, _)| m.sha256 == meta.sha256) {
            return Ok(Put::AlreadyThere);
        }
        let stored: u64 = of_incident.iter().map(|(m, _)| m.size).sum();
        if stored.saturating_add(meta.size) > incident_limit {
            return Ok(Put::OverIncidentLimit { stored });
        }
        of_incident.push((meta.clone(), bytes.to_vec()));
        Ok(Put::Added)
    }

    fn blob_meta(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<BlobMeta>, Error> {
        Ok(self.blob(incident, sha256)?.map(|(meta, _)| meta))
    }

    fn blob(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<(BlobMeta, Vec<u8>)>, Error> {
        Ok(self
            .files()
            .get(incident)
            .and_then(|files| files.iter().find(|(m, _)| &m.sha256 == sha256))
            .cloned())
    }

    fn blob_bytes(&self, incident: &IncidentId) -> Result<u64, Error> {
        Ok(self
            .files()
            .get(incident)
            .map_or(0, |files| files.iter().map(|(m, _)| m.size).sum()))
    }
}
