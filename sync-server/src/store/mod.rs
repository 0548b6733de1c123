//! Durable storage of incidents behind one small trait, so SQLite (the embedded default) and
//! later PostgreSQL pass the same conformance suite.
//!
//! An incident is stored as an optional compacted snapshot (the whole document as one Yjs v1
//! update) plus an append log of the updates received since. Loading applies the snapshot,
//! then the log, to a fresh document. The relay runs at most one room per incident in a
//! process, and only that room writes the incident, so `compact` may drop the whole log.
//! While people stay connected the room compacts with `compact_through`: the snapshot covers
//! the log up to a position read when it was taken, and rows appended since stay.
//!
//! Beside the live log, every accepted update is kept in the incident's record ([`record`]):
//! numbered, attributed, hash-chained, and never touched by compaction.
//!
//! The methods block; the relay calls them from a blocking thread, never on the async runtime.

pub mod memory;
pub mod record;
pub mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use crate::access::{Grant, InviteId, SecretHash};
use crate::error::Error;
use crate::incident_id::IncidentId;
use record::{ChainHead, Record, RecordMeta, Sent};
use wire::Access;

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

    /// The log's end: a position every row appended so far lies before, and every row
    /// appended later does not.
    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error>;

    /// Replaces the snapshot of `incident` with `snapshot` and drops the log rows before
    /// `end` (a [`Store::log_end`]), atomically; rows appended after `end` was read stay.
    /// `snapshot` must contain the old snapshot and every row before `end`.
    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error>;

    /// Appends `sent` to the log of `incident` and, in the same transaction, to its record
    /// ([`record`]): the next seqs, received at `received_at_ms`, chained to the record's
    /// last hash. Compaction never touches the record. Backends that keep a record override
    /// this; the default only appends to the log.
    fn append_recorded(
        &self,
        incident: &IncidentId,
        sent: &[Sent],
        received_at_ms: i64,
    ) -> Result<(), Error> {
        let _ = received_at_ms;
        let updates: Vec<Vec<u8>> = sent.iter().map(|s| s.update.clone()).collect();
        self.append(incident, &updates)
    }

    /// Every incident that has a record (or a record's base), in id order.
    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        Ok(Vec::new())
    }

    /// Where the record of `incident` starts when retention dropped its first records: the
    /// last dropped record's head. `None` if nothing was dropped.
    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        let _ = incident;
        Ok(None)
    }

    /// Up to `limit` records of `incident` with seq greater than `after_seq`, in seq order.
    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        let _ = (incident, after_seq, limit);
        Ok(Vec::new())
    }

    /// Up to `limit` records' metadata of `incident` with seq greater than `after_seq` and
    /// received in `since_ms..=until_ms`, in seq order.
    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        let _ = (incident, since_ms, until_ms, after_seq, limit);
        Ok(Vec::new())
    }

    /// The checkpoints of the chain of `incident`, in seq order.
    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        let _ = incident;
        Ok(Vec::new())
    }

    /// Drops, for every incident, the records received before `cutoff_ms` from the start of
    /// its chain, keeping the last dropped record's head as the chain's base, in one
    /// transaction per incident. Returns how many records went.
    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let _ = cutoff_ms;
        Ok(0)
    }
}

/// Who may open which incident: the owner grant and the invites of each incident. The same
/// backends implement it (SQLite keeps grants in the incidents' file), with the same
/// guarantees as [`Store`].
pub trait Grants: Send + Sync + 'static {
    /// Records `owner` as the owner grant of its incident, unless the incident already has
    /// grants ([`Error::IncidentExists`]). Check and insert are one transaction.
    fn register_incident(&self, owner: &Grant) -> Result<(), Error>;

    /// Adds an invite to an incident.
    fn add_grant(&self, grant: &Grant) -> Result<(), Error>;

    /// The grant with this id, on any incident.
    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error>;

    /// Every grant of `incident`: the owner first, then invites in creation order.
    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error>;

    /// Marks an invite of `incident` revoked at `now_ms` (keeping an earlier revocation time)
    /// and returns it; `None` if `incident` has no such invite.
    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error>;

    /// Records that the grant's holder was connected at `now_ms`.
    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error>;

    /// Binds the invite to the device with this id hash unless it is bound already (check
    /// and write are one step): the hash it is bound to afterwards, `None` if no such invite.
    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error>;

    /// Records that another device tried to open the invite at `now_ms`.
    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error>;
    /// Deletes `incident` for good, in one transaction: its grants, its snapshot and its
    /// log go, and its id is remembered as deleted at `now_ms`. From then on the incident
    /// cannot be registered again ([`Error::IncidentDeleted`]), and [`Store::append`] and
    /// [`Store::compact`] write nothing for it. Deleting it again keeps the first time.
    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error>;

    /// When `incident` was deleted, if it was.
    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error>;

    /// Records who revoked an invite (the revoking owner's invited name), told to its holder.
    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error>;

    /// Who revoked an invite, if that was recorded.
    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error>;

    /// Gives an invite of `incident` another role and returns it; `None` if `incident` has
    /// no such invite. Refuses with [`Error::LastOwner`] to leave the incident without an
    /// owner who can still open it (not revoked, not expired at `now_ms`); check and write
    /// are one transaction.
    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error>;
}

/// The conformance suite every backend must pass. Each backend's tests call [`run`].
#[cfg(test)]
pub(crate) mod conformance {
    use super::*;
    use crate::access::Token;
    use wire::Access;

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
        compacting_through_a_position_keeps_the_rows_after_it(store);
        the_log_end_moves_past_every_append_even_after_compaction(store);
    }

    /// The record: seqs, authors and chain, untouched by compaction, trimmed by retention
    /// from the start only, and deleted with its incident.
    pub fn run_record(store: &dyn Store) {
        use super::record::{Sent, CHECKPOINT_EVERY};
        let inc = id("recorded");
        let alice = crate::access::InviteId::parse("aaaaaaaaaaaaaaaa");
        assert!(alice.is_some(), "test invite id parses");
        let sent = |bytes: Vec<u8>| Sent {
            update: bytes,
            invite: alice.clone(),
        };
        store
            .append_recorded(&inc, &[sent(vec![1]), sent(vec![2])], 100)
            .unwrap();
        store.compact(&inc, &[1, 2]).unwrap();
        store.append(&inc, &[vec![3]]).unwrap();
        let records = store.records(&inc, 0, 10).unwrap();
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(records[0].invite, alice);
        assert_eq!(records[2].invite, None);
        assert_eq!(records[1].update, vec![2]);
        assert_eq!(records[1].received_at_ms, 100);
        let page = store.record_page(&inc, 0, 100, 1, 10).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!((page[0].seq, page[0].size), (2, 1));
        let walked = crate::verify::walk(store, &inc).unwrap().unwrap();
        assert_eq!(walked.records, 3);

        // A checkpoint every CHECKPOINT_EVERY records.
        let many: Vec<Sent> = (0..CHECKPOINT_EVERY).map(|i| sent(vec![i as u8])).collect();
        store.append_recorded(&inc, &many, 200).unwrap();
        let checkpoints = store.checkpoints(&inc).unwrap();
        assert_eq!(checkpoints.len(), 1);
        assert_eq!(checkpoints[0].seq, CHECKPOINT_EVERY);

        // Retention drops the start; the rest still walks, and the chain goes on from it.
        assert_eq!(store.drop_records_before(150).unwrap(), 2);
        assert_eq!(store.record_base(&inc).unwrap().unwrap().seq, 2);
        store.append_recorded(&inc, &[sent(vec![9])], 300).unwrap();
        let walked = crate::verify::walk(store, &inc).unwrap().unwrap();
        assert_eq!(walked.records, CHECKPOINT_EVERY + 2);
        assert_eq!(walked.head.unwrap().seq, CHECKPOINT_EVERY + 4);
        assert!(store.recorded_incidents().unwrap().contains(&inc));

        // An incident stored before the record existed starts its record with what it held.
        let older = id("from-before-the-record");
        store.compact(&older, &[7, 7]).unwrap();
        store
            .append_recorded(&older, &[sent(vec![8])], 500)
            .unwrap();
        let records = store.records(&older, 0, 10).unwrap();
        assert_eq!(
            records
                .iter()
                .map(|r| (r.seq, r.invite.clone(), r.update.clone()))
                .collect::<Vec<_>>(),
            vec![(1, None, vec![7, 7]), (2, alice.clone(), vec![8])]
        );
    }

    /// The conformance suite for [`Grants`] backends.
    pub fn run_grants(store: &dyn Grants) {
        roles_change_and_the_last_owner_stays(store);
        grants_round_trip(store);
        an_incident_is_registered_once(store);
        revoking_keeps_the_first_time_and_stays_in_its_incident(store);
        an_invite_binds_to_its_first_device(store);
    }

    fn roles_change_and_the_last_owner_stays(store: &dyn Grants) {
        let inc = id("coowners");
        let alice = Grant::new(&token(), &inc, "Alice", Access::Owner, 1);
        let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 2);
        store.register_incident(&alice).unwrap();
        store.add_grant(&bob).unwrap();
        assert!(matches!(
            store.set_role(&inc, &alice.invite, Access::Viewer, 5),
            Err(Error::LastOwner)
        ));
        let promoted = store
            .set_role(&inc, &bob.invite, Access::Owner, 5)
            .unwrap()
            .unwrap();
        assert_eq!(promoted.role, Access::Owner);
        let demoted = store
            .set_role(&inc, &alice.invite, Access::Editor, 6)
            .unwrap()
            .unwrap();
        assert_eq!(demoted.role, Access::Editor);
        assert!(matches!(
            store.set_role(&inc, &bob.invite, Access::Editor, 7),
            Err(Error::LastOwner)
        ));
        // A revoked owner is no owner: Bob stays the last one.
        store
            .set_role(&inc, &alice.invite, Access::Owner, 8)
            .unwrap();
        store.revoke(&inc, &alice.invite, 9).unwrap();
        assert!(matches!(
            store.set_role(&inc, &bob.invite, Access::Viewer, 10),
            Err(Error::LastOwner)
        ));
        assert_eq!(
            store
                .set_role(&id("elsewhere"), &bob.invite, Access::Viewer, 10)
                .unwrap(),
            None
        );
        assert_eq!(store.revoked_by(&alice.invite).unwrap(), None);
        store.set_revoked_by(&alice.invite, "Bob").unwrap();
        assert_eq!(
            store.revoked_by(&alice.invite).unwrap().as_deref(),
            Some("Bob")
        );
    }

    fn an_invite_binds_to_its_first_device(store: &dyn Grants) {
        let inc = id("bind");
        let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 1);
        store.add_grant(&bob).unwrap();
        assert_eq!(store.grant(&bob.invite).unwrap().unwrap().device_hash, None);
        let (first, second) = ([1u8; 32], [2u8; 32]);
        assert_eq!(store.bind_device(&bob.invite, &first).unwrap(), Some(first));
        assert_eq!(
            store.bind_device(&bob.invite, &second).unwrap(),
            Some(first)
        );
        assert_eq!(store.bind_device(&token().invite, &first).unwrap(), None);
        store.other_device_tried(&bob.invite, 7).unwrap();
        store.other_device_tried(&bob.invite, 9).unwrap();
        let stored = store.grant(&bob.invite).unwrap().unwrap();
        assert_eq!(stored.device_hash, Some(first));
        assert_eq!(stored.other_device_attempts, 2);
        assert_eq!(stored.other_device_last_at_ms, Some(9));
        assert_eq!(store.grants(&inc).unwrap(), vec![stored]);
    }

    /// For backends that hold documents and grants together: deleting an incident takes
    /// everything of it, touches nothing of another, and nothing can bring it back.
    pub fn run_deletion<S: Store + Grants>(store: &S) {
        let gone = id("deleted-one");
        let kept = id("kept-one");
        let owner = Grant::new(&token(), &gone, "A", Access::Owner, 1);
        let bob = Grant::new(&token(), &gone, "Bob", Access::Editor, 2);
        let other = Grant::new(&token(), &kept, "C", Access::Owner, 3);
        store.register_incident(&owner).unwrap();
        store.add_grant(&bob).unwrap();
        store.register_incident(&other).unwrap();
        store.append(&gone, &[vec![1]]).unwrap();
        store.compact(&gone, &[1, 2]).unwrap();
        store.append(&gone, &[vec![3]]).unwrap();
        store.append(&kept, &[vec![9]]).unwrap();
        assert_eq!(store.deleted_at(&gone).unwrap(), None);

        store.delete_incident(&gone, 50).unwrap();
        assert!(store.load(&gone).unwrap().is_empty());
        assert_eq!(store.grants(&gone).unwrap(), vec![]);
        assert_eq!(store.grant(&bob.invite).unwrap(), None);
        assert_eq!(store.deleted_at(&gone).unwrap(), Some(50));
        store.delete_incident(&gone, 60).unwrap();
        assert_eq!(store.deleted_at(&gone).unwrap(), Some(50));

        // A room that had not stopped yet writes nothing; the id cannot be registered again.
        store.append(&gone, &[vec![4]]).unwrap();
        store.compact(&gone, &[1, 2, 3, 4]).unwrap();
        assert!(store.load(&gone).unwrap().is_empty());
        let again = Grant::new(&token(), &gone, "Mallory", Access::Owner, 70);
        assert!(matches!(
            store.register_incident(&again),
            Err(Error::IncidentDeleted)
        ));
        assert_eq!(store.grants(&gone).unwrap(), vec![]);

        assert_eq!(store.records(&gone, 0, 10).unwrap(), vec![]);
        let recorded = store.recorded_incidents().unwrap();
        assert!(recorded.contains(&kept) && !recorded.contains(&gone));
        assert_eq!(store.load(&kept).unwrap().updates, vec![vec![9]]);
        assert_eq!(store.grants(&kept).unwrap(), vec![other]);
        assert_eq!(store.deleted_at(&kept).unwrap(), None);
    }

    fn token() -> Token {
        Token::generate().expect("random source")
    }

    fn grants_round_trip(store: &dyn Grants) {
        let inc = id("grants");
        let owner = Grant::new(&token(), &inc, "Alice", Access::Owner, 10);
        let bob = Grant {
            expires_at_ms: Some(99),
            invited_by: Some("Alice".into()),
            ..Grant::new(&token(), &inc, "Bob", Access::Viewer, 20)
        };
        let carol = Grant::new(&token(), &inc, "Carol", Access::Editor, 30);
        store.register_incident(&owner).unwrap();
        store.add_grant(&bob).unwrap();
        store.add_grant(&carol).unwrap();
        store
            .add_grant(&Grant::new(
                &token(),
                &id("other"),
                "Dan",
                Access::Editor,
                5,
            ))
            .unwrap();
        assert_eq!(store.grant(&bob.invite).unwrap(), Some(bob.clone()));
        assert_eq!(store.grant(&token().invite).unwrap(), None);
        assert_eq!(
            store.grants(&inc).unwrap(),
            vec![owner.clone(), bob.clone(), carol]
        );
        store.touch(&bob.invite, 40).unwrap();
        assert_eq!(
            store.grant(&bob.invite).unwrap().unwrap().last_seen_at_ms,
            Some(40)
        );
    }

    fn an_incident_is_registered_once(store: &dyn Grants) {
        let inc = id("register-once");
        store
            .register_incident(&Grant::new(&token(), &inc, "A", Access::Owner, 1))
            .unwrap();
        let again = store.register_incident(&Grant::new(&token(), &inc, "B", Access::Owner, 2));
        assert!(matches!(again, Err(Error::IncidentExists)));
        assert_eq!(store.grants(&inc).unwrap().len(), 1);
    }

    fn revoking_keeps_the_first_time_and_stays_in_its_incident(store: &dyn Grants) {
        let inc = id("revoke");
        let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 1);
        store.add_grant(&bob).unwrap();
        assert_eq!(
            store.revoke(&id("elsewhere"), &bob.invite, 5).unwrap(),
            None
        );
        assert_eq!(
            store.grant(&bob.invite).unwrap().unwrap().revoked_at_ms,
            None
        );
        let revoked = store.revoke(&inc, &bob.invite, 5).unwrap().unwrap();
        assert_eq!(revoked.revoked_at_ms, Some(5));
        let again = store.revoke(&inc, &bob.invite, 9).unwrap().unwrap();
        assert_eq!(again.revoked_at_ms, Some(5));
        assert_eq!(store.revoke(&inc, &token().invite, 9).unwrap(), None);
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

    fn compacting_through_a_position_keeps_the_rows_after_it(store: &dyn Store) {
        let inc = id("compact-through");
        store.append(&inc, &[vec![1], vec![2]]).unwrap();
        let end = store.log_end(&inc).unwrap();
        // Appended while the snapshot of [1, 2] was being written.
        store.append(&inc, &[vec![3]]).unwrap();
        store.append(&inc, &[vec![4]]).unwrap();
        store.compact_through(&inc, &[1, 2], end).unwrap();
        assert_eq!(
            store.load(&inc).unwrap(),
            StoredIncident {
                snapshot: Some(vec![1, 2]),
                updates: vec![vec![3], vec![4]]
            }
        );
        // Again, through everything: the log empties.
        let end = store.log_end(&inc).unwrap();
        store.compact_through(&inc, &[1, 2, 3, 4], end).unwrap();
        assert_eq!(store.load(&inc).unwrap().updates, Vec::<Vec<u8>>::new());
        // A stale position drops nothing new.
        store.append(&inc, &[vec![5]]).unwrap();
        store.compact_through(&inc, &[1, 2, 3, 4], end).unwrap();
        assert_eq!(store.load(&inc).unwrap().updates, vec![vec![5]]);
        // Other incidents keep their logs.
        store
            .append(&id("compact-through-other"), &[vec![9]])
            .unwrap();
        let end = store.log_end(&inc).unwrap();
        store.compact_through(&inc, &[1, 2, 3, 4, 5], end).unwrap();
        assert_eq!(
            store.load(&id("compact-through-other")).unwrap().updates,
            vec![vec![9]]
        );
    }

    fn the_log_end_moves_past_every_append_even_after_compaction(store: &dyn Store) {
        let inc = id("log-end");
        let empty = store.log_end(&inc).unwrap();
        store.append(&inc, &[vec![1]]).unwrap();
        let one = store.log_end(&inc).unwrap();
        assert!(one > empty);
        store.compact(&inc, &[1]).unwrap();
        store.append(&inc, &[vec![2]]).unwrap();
        let two = store.log_end(&inc).unwrap();
        assert!(two > one);
        // A position read before compaction still keeps what came after it.
        store.append(&inc, &[vec![3]]).unwrap();
        store.compact_through(&inc, &[1, 2], two).unwrap();
        assert_eq!(store.load(&inc).unwrap().updates, vec![vec![3]]);
    }

    fn empty_append_is_a_no_op(store: &dyn Store) {
        let inc = id("empty-append");
        store.append(&inc, &[]).unwrap();
        assert!(store.load(&inc).unwrap().is_empty());
    }
}
