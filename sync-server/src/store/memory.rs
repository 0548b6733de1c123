//! An in-memory [`Store`] for tests and throwaway relays. Nothing survives the process.

mod blobs;

use std::collections::HashMap;
use std::sync::Mutex;

use super::record::{self, ChainHead, Record, RecordMeta, Sent};
use super::{Grants, Store, StoredIncident};
use crate::access::{Grant, InviteId, SecretHash, Team, TeamShare};
use crate::error::Error;
use crate::incident_id::IncidentId;
use wire::Access;

#[derive(Default)]
pub struct MemoryStore {
    incidents: Mutex<HashMap<IncidentId, StoredIncident>>,
    /// Log rows of each incident ever compacted away: the position of its first kept row.
    dropped: Mutex<HashMap<IncidentId, u64>>,
    /// Grants in creation order.
    grants: Mutex<Vec<Grant>>,
    /// Deleted incidents, and when.
    deleted: Mutex<HashMap<IncidentId, i64>>,
    /// Who revoked each revoked invite, when recorded.
    revokers: Mutex<HashMap<InviteId, String>>,
    /// The record of each incident.
    records: Mutex<HashMap<IncidentId, Chain>>,
    /// Teams, and the playbooks shared with them in sharing order.
    teams: Mutex<Vec<Team>>,
    shares: Mutex<Vec<TeamShare>>,
    /// The attachments of each incident ([`super::blobs`]).
    files: Mutex<HashMap<IncidentId, Vec<blobs::File>>>,
}

/// One incident's record.
#[derive(Default)]
struct Chain {
    base: Option<ChainHead>,
    records: Vec<Record>,
    checkpoints: Vec<ChainHead>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn dropped_before(&self, incident: &IncidentId) -> u64 {
        let dropped = self
            .dropped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        dropped.get(incident).copied().unwrap_or(0)
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<IncidentId, StoredIncident>) -> T) -> T {
        let mut guard = self
            .incidents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    fn with_grants<T>(&self, f: impl FnOnce(&mut Vec<Grant>) -> T) -> T {
        let mut guard = self
            .grants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    fn chains(&self) -> std::sync::MutexGuard<'_, HashMap<IncidentId, Chain>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn teams(&self) -> std::sync::MutexGuard<'_, Vec<Team>> {
        self.teams.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shares(&self) -> std::sync::MutexGuard<'_, Vec<TeamShare>> {
        self.shares.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<IncidentId, Vec<blobs::File>>> {
        self.files
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_deleted(&self, incident: &IncidentId) -> bool {
        self.deleted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(incident)
    }
}

impl Store for MemoryStore {
    fn blobs(&self) -> Option<&dyn super::blobs::Blobs> {
        Some(self)
    }

    fn load(&self, incident: &IncidentId) -> Result<StoredIncident, Error> {
        Ok(self.with(|all| all.get(incident).cloned().unwrap_or_default()))
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
        let end = self.log_end(incident)?;
        self.compact_through(incident, snapshot, end)
    }

    fn log_end(&self, incident: &IncidentId) -> Result<u64, Error> {
        let kept = self.with(|all| all.get(incident).map_or(0, |s| s.updates.len()));
        Ok(self.dropped_before(incident) + kept as u64)
    }

    fn compact_through(
        &self,
        incident: &IncidentId,
        snapshot: &[u8],
        end: u64,
    ) -> Result<(), Error> {
        if self.is_deleted(incident) {
            return Ok(());
        }
        let mut dropped = self
            .dropped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = dropped.entry(incident.clone()).or_insert(0);
        self.with(|all| {
            let stored = all.entry(incident.clone()).or_default();
            let drop = usize::try_from(end.saturating_sub(*first))
                .unwrap_or(usize::MAX)
                .min(stored.updates.len());
            stored.updates.drain(..drop);
            stored.snapshot = Some(snapshot.to_vec());
            *first += drop as u64;
        });
        Ok(())
    }

    fn append_recorded(
        &self,
        incident: &IncidentId,
        sent: &[Sent],
        received_at_ms: i64,
    ) -> Result<(), Error> {
        if sent.is_empty() || self.is_deleted(incident) {
            return Ok(());
        }
        let mut records = self.chains();
        let chain = records.entry(incident.clone()).or_default();
        let head = chain.records.last().map(Record::head).or(chain.base);
        // What was stored before the first record (see the SQLite backend) comes first.
        let earlier: Vec<Sent> = match head {
            Some(_) => Vec::new(),
            None => self.with(|all| {
                all.get(incident).map_or_else(Vec::new, |stored| {
                    stored
                        .snapshot
                        .iter()
                        .chain(&stored.updates)
                        .map(|update| Sent {
                            update: update.clone(),
                            invite: None,
                        })
                        .collect()
                })
            }),
        };
        let all_sent: Vec<&Sent> = earlier.iter().chain(sent).collect();
        for (r, s) in record::next_records(head, all_sent.iter().copied(), received_at_ms)
            .into_iter()
            .zip(all_sent)
        {
            if record::is_checkpoint(r.seq) {
                chain.checkpoints.push(r.head());
            }
            chain.records.push(r.with_update(s.update.clone()));
        }
        self.with(|all| {
            all.entry(incident.clone())
                .or_default()
                .updates
                .extend(sent.iter().map(|s| s.update.clone()))
        });
        Ok(())
    }

    fn recorded_incidents(&self) -> Result<Vec<IncidentId>, Error> {
        let mut found: Vec<IncidentId> = self.chains().keys().cloned().collect();
        found.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(found)
    }

    fn record_base(&self, incident: &IncidentId) -> Result<Option<ChainHead>, Error> {
        Ok(self.chains().get(incident).and_then(|c| c.base))
    }

    fn records(
        &self,
        incident: &IncidentId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<Record>, Error> {
        Ok(self.chains().get(incident).map_or_else(Vec::new, |c| {
            c.records
                .iter()
                .filter(|r| r.seq > after_seq)
                .take(limit)
                .cloned()
                .collect()
        }))
    }

    fn record_page(
        &self,
        incident: &IncidentId,
        since_ms: i64,
        until_ms: i64,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordMeta>, Error> {
        Ok(self.chains().get(incident).map_or_else(Vec::new, |c| {
            c.records
                .iter()
                .filter(|r| r.seq > after_seq && (since_ms..=until_ms).contains(&r.received_at_ms))
                .take(limit)
                .map(|r| RecordMeta {
                    seq: r.seq,
                    received_at_ms: r.received_at_ms,
                    invite: r.invite.clone(),
                    size: r.update.len() as u64,
                    update_sha256: r.update_sha256,
                    chain_sha256: r.chain_sha256,
                })
                .collect()
        }))
    }

    fn checkpoints(&self, incident: &IncidentId) -> Result<Vec<ChainHead>, Error> {
        Ok(self
            .chains()
            .get(incident)
            .map_or_else(Vec::new, |c| c.checkpoints.clone()))
    }

    fn drop_records_before(&self, cutoff_ms: i64) -> Result<u64, Error> {
        let mut dropped = 0;
        for chain in self.chains().values_mut() {
            let keep_from = chain
                .records
                .iter()
                .position(|r| r.received_at_ms >= cutoff_ms)
                .unwrap_or(chain.records.len());
            if keep_from > 0 {
                chain.base = Some(chain.records[keep_from - 1].head());
                chain.records.drain(..keep_from);
                dropped += keep_from as u64;
            }
        }
        Ok(dropped)
    }
}

impl Grants for MemoryStore {
    fn register_incident(&self, owner: &Grant) -> Result<(), Error> {
        self.with_grants(|grants| {
            if grants.iter().any(|g| g.incident == owner.incident) {
                return Err(Error::IncidentExists);
            }
            if self.is_deleted(&owner.incident) {
                return Err(Error::IncidentDeleted);
            }
            grants.push(owner.clone());
            Ok(())
        })
    }

    fn add_grant(&self, grant: &Grant) -> Result<(), Error> {
        self.with_grants(|grants| {
            if grants.iter().any(|g| g.invite == grant.invite) {
                return Err(Error::Storage("duplicate invite id".into()));
            }
            grants.push(grant.clone());
            Ok(())
        })
    }

    fn grant(&self, invite: &InviteId) -> Result<Option<Grant>, Error> {
        Ok(self.with_grants(|grants| grants.iter().find(|g| &g.invite == invite).cloned()))
    }

    fn grants(&self, incident: &IncidentId) -> Result<Vec<Grant>, Error> {
        let mut found: Vec<Grant> = self.with_grants(|grants| {
            grants
                .iter()
                .filter(|g| &g.incident == incident)
                .cloned()
                .collect()
        });
        found.sort_by_key(|g| g.role != Access::Owner);
        Ok(found)
    }

    fn revoke(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        Ok(self.with_grants(|grants| {
            let grant = grants
                .iter_mut()
                .find(|g| &g.invite == invite && &g.incident == incident)?;
            grant.revoked_at_ms.get_or_insert(now_ms);
            Some(grant.clone())
        }))
    }

    fn touch(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.with_grants(|grants| {
            if let Some(grant) = grants.iter_mut().find(|g| &g.invite == invite) {
                grant.last_seen_at_ms = Some(now_ms);
            }
        });
        Ok(())
    }

    fn bind_device(
        &self,
        invite: &InviteId,
        device_hash: &SecretHash,
    ) -> Result<Option<SecretHash>, Error> {
        Ok(self.with_grants(|grants| {
            let grant = grants.iter_mut().find(|g| &g.invite == invite)?;
            Some(*grant.device_hash.get_or_insert(*device_hash))
        }))
    }

    fn other_device_tried(&self, invite: &InviteId, now_ms: i64) -> Result<(), Error> {
        self.with_grants(|grants| {
            if let Some(grant) = grants.iter_mut().find(|g| &g.invite == invite) {
                grant.other_device_attempts = grant.other_device_attempts.saturating_add(1);
                grant.other_device_last_at_ms = Some(now_ms);
            }
        });
        Ok(())
    }

    fn delete_incident(&self, incident: &IncidentId, now_ms: i64) -> Result<(), Error> {
        self.deleted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(incident.clone())
            .or_insert(now_ms);
        self.with_grants(|grants| grants.retain(|g| &g.incident != incident));
        self.shares().retain(|s| &s.playbook != incident);
        self.with(|all| all.remove(incident));
        self.chains().remove(incident);
        self.files().remove(incident);
        Ok(())
    }

    fn deleted_at(&self, incident: &IncidentId) -> Result<Option<i64>, Error> {
        Ok(self
            .deleted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(incident)
            .copied())
    }

    fn set_revoked_by(&self, invite: &InviteId, name: &str) -> Result<(), Error> {
        self.revokers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(invite.clone(), name.to_owned());
        Ok(())
    }

    fn revoked_by(&self, invite: &InviteId) -> Result<Option<String>, Error> {
        Ok(self
            .revokers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(invite)
            .cloned())
    }

    fn set_role(
        &self,
        incident: &IncidentId,
        invite: &InviteId,
        role: Access,
        now_ms: i64,
    ) -> Result<Option<Grant>, Error> {
        self.with_grants(|grants| {
            let Some(at) = grants
                .iter()
                .position(|g| &g.invite == invite && &g.incident == incident)
            else {
                return Ok(None);
            };
            if grants[at].role == Access::Owner && role != Access::Owner {
                let other_owners = grants.iter().filter(|g| {
                    &g.incident == incident
                        && &g.invite != invite
                        && g.role == Access::Owner
                        && g.revoked_at_ms.is_none()
                        && g.expires_at_ms.is_none_or(|at| at > now_ms)
                });
                if other_owners.count() == 0 {
                    return Err(Error::LastOwner);
                }
            }
            grants[at].role = role;
            Ok(Some(grants[at].clone()))
        })
    }

    fn register_team(&self, team: &Team, owner: &Grant) -> Result<(), Error> {
        let mut teams = self.teams();
        self.with_grants(|grants| {
            if teams.iter().any(|t| t.id == team.id)
                || grants.iter().any(|g| g.incident == team.id)
                || self.is_deleted(&team.id)
            {
                return Err(Error::IncidentExists);
            }
            grants.push(owner.clone());
            teams.push(team.clone());
            Ok(())
        })
    }

    fn team(&self, team: &IncidentId) -> Result<Option<Team>, Error> {
        Ok(self.teams().iter().find(|t| &t.id == team).cloned())
    }

    fn share_with_team(&self, share: &TeamShare) -> Result<(), Error> {
        let mut shares = self.shares();
        match shares
            .iter_mut()
            .find(|s| s.playbook == share.playbook && s.team == share.team)
        {
            Some(kept) => *kept = share.clone(),
            None => shares.push(share.clone()),
        }
        Ok(())
    }

    fn unshare_from_team(&self, playbook: &IncidentId, team: &IncidentId) -> Result<bool, Error> {
        let mut shares = self.shares();
        let before = shares.len();
        shares.retain(|s| !(&s.playbook == playbook && &s.team == team));
        Ok(shares.len() != before)
    }

    fn team_share(
        &self,
        playbook: &IncidentId,
        team: &IncidentId,
    ) -> Result<Option<TeamShare>, Error> {
        Ok(self
            .shares()
            .iter()
            .find(|s| &s.playbook == playbook && &s.team == team)
            .cloned())
    }

    fn shares_of_playbook(&self, playbook: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        let mut found: Vec<TeamShare> = self
            .shares()
            .iter()
            .filter(|s| &s.playbook == playbook)
            .cloned()
            .collect();
        found.sort_by_key(|s| s.shared_at_ms);
        Ok(found)
    }

    fn playbooks_of_team(&self, team: &IncidentId) -> Result<Vec<TeamShare>, Error> {
        let mut found: Vec<TeamShare> = self
            .shares()
            .iter()
            .filter(|s| &s.team == team)
            .cloned()
            .collect();
        found.sort_by_key(|s| s.shared_at_ms);
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::conformance;

    #[test]
    fn passes_the_conformance_suite() {
        conformance::run_all(|_| super::MemoryStore::new());
    }

    #[test]
    fn passes_the_conformance_groups_on_one_store() {
        let store = super::MemoryStore::new();
        conformance::run(&store);
        conformance::run_record(&store);
        conformance::run_grants(&store);
        conformance::run_deletion(&store);
    }
}
