//! Durable storage of incidents behind one small trait, so SQLite (the embedded default) and
//! later PostgreSQL pass the same conformance suite.
//!
//! An incident is stored as an optional compacted snapshot (the whole document as one Yjs v1
//! update) plus an append log of the updates received since. Loading applies the snapshot,
//! then the log, to a fresh document. The relay runs at most one room per incident in a
//! process, and only that room writes the incident, so `compact` may drop the whole log.
//!
//! The methods block; the relay calls them from a blocking thread, never on the async runtime.

pub mod memory;
pub mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::error::Error;
use crate::incident_id::IncidentId;

/// What is stored for one incident.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    /// The last compacted state, if the incident was ever compacted.
    pub snapshot: Option<Vec<u8>>,
    /// Updates appended since that snapshot, oldest first.
    pub updates: Vec<Vec<u8>>,
}

impl StoredIncident {
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.updates.is_empty()
    }
}

/// A storage backend. Every method is atomic: it happens completely or not at all, and once
/// it returns `Ok` the change survives a crash of the relay process.
pub trait Store: Send + Sync + 'static {
    /// The snapshot and the log of `incident` (empty if it was never written).
    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error>;

    /// Appends `updates` (in order) to the log of `incident`, all in one transaction.
    fn append(&self, incident: &IncidentId, updates: &[Vec<u8>]) -> Result<(), Error>;

    /// Replaces the snapshot of `incident` with `snapshot` and empties its log, atomically.
    /// `snapshot` must contain everything the old snapshot and log contained.
    fn compact(&self, incident: &IncidentId, snapshot: &[u8]) -> Result<(), Error>;
}

/// The conformance suite every backend must pass. Each backend's tests call [`run`].
#[cfg(test)]
pub(crate) mod conformance {
    use super::*;

    fn id(raw: &str) -> IncidentId {
        IncidentId::parse(raw).expect("valid test id")
    }

    pub fn run(store: &dyn Store) {
        unknown_incident_is_empty(store);
        append_keeps_order(store);
        incidents_are_isolated(store);
        compact_replaces_snapshot_and_empties_log(store);
        append_after_compact_goes_to_the_log(store);
        large_updates_round_trip(store);
        empty_append_is_a_no_op(store);
    }

    fn unknown_incident_is_empty(store: &dyn Store) {
        assert_eq!(
            store.load(&id("never-written")).unwrap(),
            StoredIncident::default()
        );
    }

    fn append_keeps_order(store: &dyn Store) {
        let inc = id("order");
        store.append(&inc, &[vec![1], vec![2, 2]]).unwrap();
        store.append(&inc, &[vec![3]]).unwrap();
        let loaded = store.load(&inc).unwrap();
        assert_eq!(loaded.snapshot, None);
        assert_eq!(loaded.updates, vec![vec![1], vec![2, 2], vec![3]]);
    }

    fn incidents_are_isolated(store: &dyn Store) {
        store.append(&id("iso-a"), &[vec![10]]).unwrap();
        store.append(&id("iso-b"), &[vec![20]]).unwrap();
        store.compact(&id("iso-a"), &[11]).unwrap();
        assert_eq!(store.load(&id("iso-b")).unwrap().updates, vec![vec![20]]);
        assert_eq!(store.load(&id("iso-b")).unwrap().snapshot, None);
        assert_eq!(store.load(&id("iso-a")).unwrap().snapshot, Some(vec![11]));
    }

    fn compact_replaces_snapshot_and_empties_log(store: &dyn Store) {
        let inc = id("compact");
        store.append(&inc, &[vec![1], vec![2]]).unwrap();
        store.compact(&inc, &[1, 2]).unwrap();
        assert_eq!(
            store.load(&inc).unwrap(),
            StoredIncident {
                snapshot: Some(vec![1, 2]),
                updates: vec![]
            }
        );
        store.compact(&inc, &[1, 2, 3]).unwrap();
        assert_eq!(store.load(&inc).unwrap().snapshot, Some(vec![1, 2, 3]));
    }

    fn append_after_compact_goes_to_the_log(store: &dyn Store) {
        let inc = id("after-compact");
        store.compact(&inc, &[9]).unwrap();
        store.append(&inc, &[vec![10]]).unwrap();
        let loaded = store.load(&inc).unwrap();
        assert_eq!(loaded.snapshot, Some(vec![9]));
        assert_eq!(loaded.updates, vec![vec![10]]);
    }

    fn large_updates_round_trip(store: &dyn Store) {
        let inc = id("large");
        let big: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        store.append(&inc, std::slice::from_ref(&big)).unwrap();
        assert_eq!(store.load(&inc).unwrap().updates, vec![big]);
    }

    fn empty_append_is_a_no_op(store: &dyn Store) {
        let inc = id("empty-append");
        store.append(&inc, &[]).unwrap();
        assert!(store.load(&inc).unwrap().is_empty());
    }
}
