//! Durable storage of incidents behind one small trait, so SQLite (the embedded default) and
//! PostgreSQL ([`postgres`], `--database-url`) pass the same conformance suite
//! (`conformance.rs`).
//!
//! An incident is stored as an optional compacted snapshot (the whole document as one Yjs v1
//! update) plus an append log of the updates received since. Loading applies the snapshot,
//! then the log, to a fresh document. The relay runs at most one room per incident in a
//! process, and only that room writes the incident, so `compact` may drop the whole log.
//! Several relay processes on one PostgreSQL write the same incident at once: that backend
//! serialises each incident's writes and merges what the others stored into a compaction's
//! snapshot ([`postgres`]).
//! While people stay connected the room compacts with `compact_through`: the snapshot covers
//! the log up to a position read when it was taken, and rows appended since stay.
//!
//! Beside the live log, every accepted update is kept in the incident's record ([`record`]):
//! numbered, attributed, hash-chained, and never touched by compaction.
//!
//! The methods block; the relay calls them from a blocking thread, never on the async runtime.

pub mod blobs;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod memory;
pub mod postgres;
pub mod record;
pub mod sqlite;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::access::{Grant, InviteId, SecretHash, Team, TeamShare};
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

    /// Whether an append is quick enough (a local file, no network round trip) for the
    /// room to make it on its own async thread; `false` sends every append to a blocking
    /// thread, as for big ones.
    fn appends_are_quick(&self) -> bool {
        true
    }

    /// Checks that the storage answers (a round trip for a server; nothing for a file). A
    /// working call marks it up again after it was down (`/healthz`, `firebreak_storage_up`).
    fn ping(&self) -> Result<(), Error> {
        Ok(())
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

    /// The backend's store of evidence attachments ([`blobs`]), if it keeps them.
    fn blobs(&self) -> Option<&dyn blobs::Blobs> {
        None
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
    /// log go (and, for a playbook, its sharing with teams), and its id is remembered as
    /// deleted at `now_ms`. From then on the incident
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

    /// Records `team` with `owner` as its owner grant (whose `incident` is the team's id),
    /// in one transaction, unless the id is taken by a team, an incident's grants or a
    /// deleted incident ([`Error::IncidentExists`]).
    fn register_team(&self, team: &Team, owner: &Grant) -> Result<(), Error>;

    /// The team with this id, if there is one.
    fn team(&self, team: &IncidentId) -> Result<Option<Team>, Error>;

    /// Shares a playbook with a team; sharing it again replaces who shared it, when, and
    /// the name.
    fn share_with_team(&self, share: &TeamShare) -> Result<(), Error>;

    /// Stops sharing `playbook` with `team`; whether it was shared.
    fn unshare_from_team(&self, playbook: &IncidentId, team: &IncidentId) -> Result<bool, Error>;

    /// The share of `playbook` with `team`, if it is shared with it.
    fn team_share(
        &self,
        playbook: &IncidentId,
        team: &IncidentId,
    ) -> Result<Option<TeamShare>, Error>;

    /// The teams `playbook` is shared with, in the order it was shared.
    fn shares_of_playbook(&self, playbook: &IncidentId) -> Result<Vec<TeamShare>, Error>;

    /// The playbooks shared with `team`, in the order they were shared.
    fn playbooks_of_team(&self, team: &IncidentId) -> Result<Vec<TeamShare>, Error>;
}
