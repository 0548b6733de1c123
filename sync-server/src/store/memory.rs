//! An in-memory [`Store`] for tests and throwaway relays. Nothing survives the process.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Store, StoredIncident};
use crate::error::Error;
use crate::incident_id::IncidentId;

#[derive(Default)]
pub struct MemoryStore {
    incidents: Mutex<HashMap<IncidentId, StoredIncident>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<IncidentId, StoredIncident>) -> T) -> T {
        let mut guard = self
            .incidents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

impl Store for MemoryStore {
    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        Ok(self.with(|all| all.get(incident).cloned().unwrap_or_default()))
    }

    fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error> {
        if !updates.is_empty() {
            self.with(|all| {
                all.entry(incident.clone())
                    .or_default()
                    .updates
                    .extend_from_slice(updates)
            });
        }
        Ok(())
    }

    fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error> {
        self.with(|all| {
            all.insert(
                incident.clone(),
                StoredIncident {
                    snapshot: Some(snapshot.to_vec()),
                    updates: Vec::new(),
                },
            )
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passes_the_conformance_suite() {
        super::super::conformance::run(&super::MemoryStore::new());
    }
}
