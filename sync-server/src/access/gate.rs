//! The access service the HTTP handlers use: checks tokens against stored grants, creates
//! incidents and invites, and keeps track of open connections per grant so a revocation
//! closes them at once.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::limiter::{Creations, Limiter};

mod teams;

/// Incidents one address may create an hour, unless `--max-incidents-per-hour` says otherwise.
pub const DEFAULT_INCIDENTS_PER_HOUR: u32 = 60;
use super::{check, clean_name, same_secret, DeviceId, Grant, InviteId, Token};
use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::peer::CloseSignal;
use crate::store::Grants;
use subtle::ConstantTimeEq;
use wire::Access;

/// Longest invite lifetime that can be asked for: one year.
pub const MAX_EXPIRY_HOURS: f64 = 24.0 * 366.0;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Cheap to clone; one per relay.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Grants>,
    /// When set, creating an incident needs this secret.
    create_secret: Option<String>,
    limiter: Mutex<Limiter>,
    creations: Mutex<Creations>,
    live: Mutex<Live>,
    next_connection: AtomicU64,
    /// Where access changes go for the other relays (`--redis-url`), once wired in.
    announce: std::sync::OnceLock<tokio::sync::mpsc::Sender<crate::cluster::AccessEvent>>,
}

#[derive(Default)]
struct Live {
    /// Open connections by grant: each one's document (a team member's grant opens every
    /// playbook of the team) and its close signal.
    connections: HashMap<InviteId, HashMap<u64, (IncidentId, Arc<CloseSignal>)>>,
    /// Invites revoked while this process runs: a connection that was let in just before
    /// its revocation is closed when it registers.
    revoked: HashSet<InviteId>,
    /// Incidents deleted (or being deleted) while this process runs: likewise.
    deleted: HashSet<IncidentId>,
    /// (playbook, team) shares ended while this process runs: likewise for a team member
    /// let in just before. Sharing again removes the pair.
    unshared: HashSet<(IncidentId, IncidentId)>,
}

/// What the grant a token names is, next to the document or team asked for.
enum Named {
    /// No grant has the token's id.
    Nothing,
    /// A grant of the document (or team) asked for; `team`: the id is a team's.
    Own { team: bool },
    /// A member of a team, asking for another id: the team's share of it, if any.
    TeamMember(Option<super::TeamShare>),
    /// A grant of some other incident.
    Elsewhere,
}

/// What a token is checked for: a document (the sync socket and the incident routes) or a
/// team (the team routes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Document,
    Team,
}

/// An open connection's registration; dropping it unregisters the connection.
pub struct Connected {
    gate: Gate,
    invite: InviteId,
    id: u64,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut live = self.gate.inner.live();
        if let Some(open) = live.connections.get_mut(&self.invite) {
            open.remove(&self.id);
            if open.is_empty() {
                live.connections.remove(&self.invite);
            }
        }
        drop(live);
        self.gate.touch(&self.invite);
    }
}

/// One grant as the owner's list shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub grant: Grant,
    /// Connections open right now with this grant.
    pub connected: usize,
    /// Wrong secrets that named this grant since the relay started.
    pub failed_attempts: u64,
}

impl Gate {
    pub fn new(store: Arc<dyn Grants>, create_secret: Option<String>) -> Self {
        Gate {
            inner: Arc::new(Inner {
                store,
                create_secret: create_secret.filter(|s| !s.is_empty()),
                limiter: Mutex::new(Limiter::new()),
                creations: Mutex::new(Creations::new(DEFAULT_INCIDENTS_PER_HOUR)),
                live: Mutex::new(Live::default()),
                next_connection: AtomicU64::new(1),
                announce: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Limits the incidents one address may create to `per_hour` (0: no limit).
    pub fn limit_creations(&self, per_hour: u32) {
        *self
            .inner
            .creations
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Creations::new(per_hour);
    }

    /// Whether `token` (absent, or as given) opens `incident`. A right secret is always let
    /// in. A wrong one is counted against its address and, when it names an invite that
    /// exists, against that invite; while either is over its budget, wrong secrets (and
    /// missing ones from such an address) get "slow down" instead of "unknown".
    pub async fn authorize(
        &self,
        incident: &IncidentId,
        token: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<Grant, Error> {
        self.authorize_for(Target::Document, incident, token, addr)
            .await
    }

    /// [`Gate::authorize`] for a document or for a team. A team member's token opens a
    /// playbook shared with the team, in the role [`super::team_role_on_playbook`] gives,
    /// and nothing else; a team's id is no document, and a document's id no team.
    pub async fn authorize_for(
        &self,
        target: Target,
        incident: &IncidentId,
        token: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<Grant, Error> {
        let address_wait = addr.and_then(|a| self.inner.limiter().blocked(a, Instant::now()));
        let token = match token.map(str::trim) {
            None | Some("") => {
                return Err(match address_wait {
                    Some(retry_after_secs) => Error::SlowDown { retry_after_secs },
                    None => Error::MissingSecret,
                })
            }
            Some(raw) => Token::parse(raw),
        };
        let (named, result) = match token {
            None => (None, Err(Error::UnknownSecret)),
            Some(_) if self.inner.live().deleted.contains(incident) => {
                (None, Err(Error::IncidentDeleted))
            }
            Some(token) => {
                let invite = token.invite.clone();
                let id = incident.clone();
                let (deleted, stored, what) = self
                    .blocking(move |s| {
                        let deleted = s.deleted_at(&id)?;
                        let stored = s.grant(&invite)?;
                        let what = match &stored {
                            None => Named::Nothing,
                            Some(g) if g.incident == id => Named::Own {
                                team: s.team(&id)?.is_some(),
                            },
                            Some(g) => match s.team(&g.incident)? {
                                Some(_) => Named::TeamMember(s.team_share(&id, &g.incident)?),
                                None => Named::Elsewhere,
                            },
                        };
                        Ok((deleted, stored, what))
                    })
                    .await?;
                let named = stored.as_ref().map(|g| g.invite.clone());
                let now = now_ms();
                let result = match (deleted, what, target) {
                    (Some(_), _, _) => Err(Error::IncidentDeleted),
                    (None, Named::Own { team }, _) => {
                        let checked = check(stored, &token, incident, now);
                        match (checked, team, target) {
                            (Ok(_), true, Target::Document) => Err(Error::TeamNotADocument),
                            (Ok(_), false, Target::Team) => Err(Error::UnknownTeam),
                            (other, _, _) => other,
                        }
                    }
                    (None, Named::TeamMember(share), Target::Document) => {
                        let team = stored.as_ref().map(|g| g.incident.clone());
                        match (team, share) {
                            (Some(team), Some(_)) => check(stored, &token, &team, now).map(|g| {
                                let role = super::team_role_on_playbook(g.role);
                                Grant {
                                    incident: incident.clone(),
                                    via_team: Some(super::ViaTeam { team, role: g.role }),
                                    role,
                                    ..g
                                }
                            }),
                            (Some(team), None) => {
                                check(stored, &token, &team, now).and(Err(Error::NotSharedWithTeam))
                            }
                            (None, _) => Err(Error::UnknownSecret),
                        }
                    }
                    (None, _, _) => check(stored, &token, incident, now),
                };
                (named, result)
            }
        };
        // Only the holder of the right secret hears "revoked": tell them by whom.
        let result = match result {
            Err(Error::Revoked) => {
                let invite = named.clone().ok_or(Error::Revoked)?;
                match self.blocking(move |s| s.revoked_by(&invite)).await? {
                    Some(name) => Err(Error::RevokedBy(name)),
                    None => Err(Error::Revoked),
                }
            }
            other => other,
        };
        if let Err(Error::UnknownSecret) = result {
            let now = Instant::now();
            let mut limiter = self.inner.limiter();
            let invite_wait = named
                .as_ref()
                .and_then(|invite| limiter.invite_blocked(invite, now));
            if let Some(addr) = addr {
                limiter.failed(addr, now);
            }
            if let Some(invite) = &named {
                limiter.invite_failed(invite, now);
            }
            if let Some(retry_after_secs) = address_wait.max(invite_wait) {
                return Err(Error::SlowDown { retry_after_secs });
            }
        }
        result
    }

    /// Admits `grant`'s holder on this device. An invite (not the owner's grant) belongs to
    /// the first device that opens it with its id: that device is recorded (the id's hash),
    /// and any other device is refused with [`Error::InUseElsewhere`], the attempt counted
    /// for the owner's list. Without a device id, an invite is refused with
    /// [`Error::DeviceRequired`] when `required` (a sync connection, which reaches the
    /// document), and let through unbound otherwise (the API's `me`, which reaches nothing).
    pub async fn bind(
        &self,
        grant: Grant,
        device: Option<&str>,
        required: bool,
    ) -> Result<Grant, Error> {
        // The creator's owner grant (and its rotations) is never bound; an invite made owner
        // later was bound when its holder opened it, and stays on that device.
        // So is a team's owner's, which opens the team's playbooks as an editor.
        let owner_role = grant.role == Access::Owner
            || grant
                .via_team
                .as_ref()
                .is_some_and(|via| via.role == Access::Owner);
        if owner_role && grant.device_hash.is_none() {
            return Ok(grant);
        }
        let device = match device.map(str::trim).filter(|d| !d.is_empty()) {
            Some(raw) => DeviceId::parse(raw)?,
            // An invite made owner acts on the incident only from its own device.
            None if required || grant.role == Access::Owner => return Err(Error::DeviceRequired),
            None => return Ok(grant),
        };
        let hash = device.hash();
        let bound = match grant.device_hash {
            Some(bound) => bound,
            None => {
                let invite = grant.invite.clone();
                let bound = self
                    .blocking(move |s| s.bind_device(&invite, &hash))
                    .await?
                    .ok_or(Error::UnknownSecret)?;
                if bound == hash {
                    tracing::info!(incident = %grant.incident, invite = %grant.invite, "invite bound to the device that opened it");
                }
                bound
            }
        };
        if bound.ct_eq(&hash).into() {
            return Ok(Grant {
                device_hash: Some(bound),
                ..grant
            });
        }
        let invite = grant.invite.clone();
        let now = now_ms();
        self.blocking(move |s| s.other_device_tried(&invite, now))
            .await?;
        tracing::info!(incident = %grant.incident, invite = %grant.invite, "invite refused to another device");
        Err(Error::InUseElsewhere)
    }

    /// Wrong secrets one invite may be named with per minute before they get "slow down"
    /// (`--max-failures-per-invite`; 0: no limit).
    pub fn limit_invite_failures(&self, per_minute: u32) {
        *self.inner.limiter() = Limiter::with_invite_budget(per_minute);
    }

    /// Counts a failed attempt that never reached [`Gate::authorize`] (a wrong creation
    /// secret), or tells how long `addr` must wait.
    pub fn check_budget(&self, addr: Option<IpAddr>) -> Result<(), Error> {
        match addr.and_then(|a| self.inner.limiter().blocked(a, Instant::now())) {
            Some(retry_after_secs) => Err(Error::SlowDown { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Registers an incident with a new owner grant. `incident` is the id the creating
    /// device already uses (an incident made offline), or `None` for a random one.
    pub async fn create_incident(
        &self,
        incident: Option<IncidentId>,
        owner_name: &str,
        create_secret: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<(Grant, Token), Error> {
        self.may_create(create_secret, addr)?;
        let incident = match incident {
            Some(id) => id,
            None => IncidentId::parse(&Token::generate()?.reveal().replace('.', ""))?,
        };
        let name = match owner_name.trim() {
            "" => "Incident commander".to_owned(),
            given => clean_name(given)?,
        };
        let token = Token::generate()?;
        let owner = Grant::new(&token, &incident, &name, Access::Owner, now_ms());
        let stored = owner.clone();
        self.blocking(move |s| s.register_incident(&stored)).await?;
        tracing::info!(%incident, "incident registered");
        Ok((owner, token))
    }

    /// The rules for creating an incident or a team: the relay's creation secret when it
    /// has one, and the address's hourly budget (`--max-incidents-per-hour`, shared by both).
    fn may_create(&self, create_secret: Option<&str>, addr: Option<IpAddr>) -> Result<(), Error> {
        if let Some(expected) = &self.inner.create_secret {
            self.check_budget(addr)?;
            if !create_secret.is_some_and(|given| same_secret(given, expected)) {
                if let Some(addr) = addr {
                    self.inner.limiter().failed(addr, Instant::now());
                }
                return Err(Error::CreateSecretRequired);
            }
        }
        if let Some(addr) = addr {
            let counted = self
                .inner
                .creations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .create(addr, Instant::now());
            if let Err(retry_after_secs) = counted {
                return Err(Error::TooManyIncidents { retry_after_secs });
            }
        }
        Ok(())
    }

    /// A new invite on the owner's incident.
    pub async fn invite(
        &self,
        owner: &Grant,
        name: &str,
        role: Access,
        expires_in_hours: Option<f64>,
    ) -> Result<(Grant, Token), Error> {
        require_owner(owner)?;
        if role == Access::Owner {
            return Err(Error::BadRequest(
                "role: an invite is \"editor\" or \"viewer\"".into(),
            ));
        }
        let name = clean_name(name)?;
        let now = now_ms();
        let expires_at_ms = match expires_in_hours {
            None => None,
            Some(hours) if hours > 0.0 && hours <= MAX_EXPIRY_HOURS => {
                Some(now + (hours * 3_600_000.0).round().max(1.0) as i64)
            }
            Some(_) => {
                return Err(Error::BadRequest(format!(
                    "expires_in_hours: a number of hours above 0 and at most {MAX_EXPIRY_HOURS}"
                )))
            }
        };
        let token = Token::generate()?;
        let grant = Grant {
            expires_at_ms,
            invited_by: Some(owner.name.clone()),
            ..Grant::new(&token, &owner.incident, &name, role, now)
        };
        let stored = grant.clone();
        self.blocking(move |s| s.add_grant(&stored)).await?;
        tracing::info!(incident = %owner.incident, invite = %grant.invite, role = role.as_str(), "invite created");
        Ok((grant, token))
    }

    /// Every grant of the owner's incident, with how many connections each has open.
    pub async fn list(&self, owner: &Grant) -> Result<Vec<Listed>, Error> {
        require_owner(owner)?;
        let incident = owner.incident.clone();
        let grants = self.blocking(move |s| s.grants(&incident)).await?;
        let live = self.inner.live();
        let limiter = self.inner.limiter();
        Ok(grants
            .into_iter()
            // An owner link replaced by a newer one is nobody to manage: it is not listed.
            .filter(|grant| !(grant.role == Access::Owner && grant.revoked_at_ms.is_some()))
            .map(|grant| Listed {
                connected: live.connections.get(&grant.invite).map_or(0, HashMap::len),
                failed_attempts: limiter.invite_failures(&grant.invite),
                grant,
            })
            .collect())
    }

    /// The name of every grant the incident ever had (revoked and expired ones too; names are
    /// never rewritten), by invite id: authorship in the record's history.
    /// A playbook's include the members of the teams it is shared with now.
    pub async fn names(&self, incident: &IncidentId) -> Result<Vec<(String, String)>, Error> {
        let incident = incident.clone();
        let grants = self
            .blocking(move |s| {
                let mut grants = s.grants(&incident)?;
                for share in s.shares_of_playbook(&incident)? {
                    grants.extend(s.grants(&share.team)?);
                }
                Ok(grants)
            })
            .await?;
        Ok(grants
            .into_iter()
            .map(|g| (g.invite.as_str().to_owned(), g.name))
            .collect())
    }

    /// Revokes an invite of the owner's incident and closes its open connections with 4410.
    pub async fn revoke(&self, owner: &Grant, invite: &InviteId) -> Result<Listed, Error> {
        require_owner(owner)?;
        if invite == &owner.invite {
            return Err(Error::OwnerNotRevocable);
        }
        let target = invite.clone();
        let found = {
            let target = target.clone();
            let incident = owner.incident.clone();
            self.blocking(move |s| {
                s.grant(&target)
                    .map(|g| g.filter(|g| g.incident == incident))
            })
            .await?
        };
        if found.is_none() {
            return Err(Error::UnknownInvite);
        }
        // Another owner may be revoked: the one revoking stays, so the incident keeps one.
        let incident = owner.incident.clone();
        let by = owner.name.clone();
        let revoked = self
            .blocking(move |s| {
                s.set_revoked_by(&target, &by)?;
                s.revoke(&incident, &target, now_ms())
            })
            .await?
            .ok_or(Error::UnknownInvite)?;
        let closed = {
            let mut live = self.inner.live();
            live.revoked.insert(invite.clone());
            let open = live.connections.remove(invite).unwrap_or_default();
            for (_, signal) in open.values() {
                signal.close_with(&Error::RevokedBy(owner.name.clone()));
            }
            open.len()
        };
        self.announce(crate::cluster::AccessEvent::revoked(
            invite,
            Some(&owner.name),
        ));
        tracing::info!(incident = %owner.incident, %invite, closed, "invite revoked");
        let failed_attempts = self.inner.limiter().invite_failures(invite);
        Ok(Listed {
            grant: revoked,
            connected: 0,
            failed_attempts,
        })
    }

    /// Gives an invite of the owner's incident another role, without a new link. Its open
    /// connections are closed with 4412 ([`Error::RoleChanged`]): the app asks what its
    /// token is now and reconnects in the new role, so a viewer's next write is refused.
    /// The incident's last owner cannot be demoted ([`Error::LastOwner`]); an invite becomes
    /// owner only once it is bound to its holder's device ([`Error::NotOpenedYet`]).
    pub async fn set_role(
        &self,
        owner: &Grant,
        invite: &InviteId,
        role: Access,
    ) -> Result<Listed, Error> {
        require_owner(owner)?;
        let found = {
            let (target, incident) = (invite.clone(), owner.incident.clone());
            self.blocking(move |s| {
                s.grant(&target)
                    .map(|g| g.filter(|g| g.incident == incident))
            })
            .await?
        }
        .ok_or(Error::UnknownInvite)?;
        if found.revoked_at_ms.is_some() {
            return Err(Error::BadRequest(
                "this invite was revoked: invite the person again".into(),
            ));
        }
        if role == Access::Owner && found.role != Access::Owner && found.device_hash.is_none() {
            return Err(Error::NotOpenedYet);
        }
        let failed_attempts = self.inner.limiter().invite_failures(invite);
        if found.role == role {
            let connected = self
                .inner
                .live()
                .connections
                .get(invite)
                .map_or(0, HashMap::len);
            return Ok(Listed {
                grant: found,
                connected,
                failed_attempts,
            });
        }
        let changed = {
            let (target, incident) = (invite.clone(), owner.incident.clone());
            self.blocking(move |s| s.set_role(&incident, &target, role, now_ms()))
                .await?
                .ok_or(Error::UnknownInvite)?
        };
        let closed = {
            let open = self
                .inner
                .live()
                .connections
                .remove(invite)
                .unwrap_or_default();
            for (_, signal) in open.values() {
                signal.close_with(&Error::RoleChanged);
            }
            open.len()
        };
        self.announce(crate::cluster::AccessEvent::role_changed(invite));
        tracing::info!(incident = %owner.incident, %invite, from = found.role.as_str(), to = role.as_str(), closed, "role changed");
        Ok(Listed {
            grant: changed,
            connected: 0,
            failed_attempts,
        })
    }

    /// The people who can open `member`'s incident now (not revoked, not expired), for any
    /// member: names and roles only.
    pub async fn people(&self, member: &Grant) -> Result<Vec<Grant>, Error> {
        let incident = member.incident.clone();
        let now = now_ms();
        let grants = self.blocking(move |s| s.grants(&incident)).await?;
        Ok(grants
            .into_iter()
            .filter(|g| g.revoked_at_ms.is_none() && g.expires_at_ms.is_none_or(|at| at > now))
            .collect())
    }

    /// Registers an open connection of `grant`; a revocation closes it through `close`.
    /// If the grant was revoked since it was checked, `close` is closed at once.
    pub fn connected(&self, grant: &Grant, close: Arc<CloseSignal>) -> Connected {
        let id = self.inner.next_connection.fetch_add(1, Ordering::Relaxed);
        {
            let mut live = self.inner.live();
            let unshared = grant.via_team.as_ref().is_some_and(|via| {
                live.unshared
                    .contains(&(grant.incident.clone(), via.team.clone()))
            });
            if live.deleted.contains(&grant.incident) {
                close.close_with(&Error::IncidentDeleted);
            } else if live.revoked.contains(&grant.invite) {
                close.close_with(&Error::Revoked);
            } else if unshared {
                close.close_with(&Error::NotSharedWithTeam);
            } else {
                live.connections
                    .entry(grant.invite.clone())
                    .or_default()
                    .insert(id, (grant.incident.clone(), close));
            }
        }
        self.touch(&grant.invite);
        Connected {
            gate: self.clone(),
            invite: grant.invite.clone(),
            id,
        }
    }

    /// The first half of deleting the owner's incident: from now on this process lets
    /// nobody in to it, and every open connection of it is closed with 4404. The caller
    /// then waits for its room to stop and calls [`Gate::finish_delete`].
    pub async fn begin_delete(&self, owner: &Grant) -> Result<usize, Error> {
        require_owner(owner)?;
        let incident = owner.incident.clone();
        let grants = {
            let incident = incident.clone();
            self.blocking(move |s| s.grants(&incident)).await?
        };
        let invites: Vec<InviteId> = grants.iter().map(|g| g.invite.clone()).collect();
        self.announce(crate::cluster::AccessEvent::deleted(&incident, &invites));
        let mut live = self.inner.live();
        let mut closed = 0;
        for grant in &grants {
            for (_, signal) in live
                .connections
                .remove(&grant.invite)
                .unwrap_or_default()
                .values()
            {
                signal.close_with(&Error::IncidentDeleted);
                closed += 1;
            }
        }
        // Team members reach a playbook with their team's grants: closed by the document.
        closed += live.close_where(|open| open == &incident, &Error::IncidentDeleted);
        live.deleted.insert(incident);
        Ok(closed)
    }

    /// The second half of deleting an incident: its grants, document and log leave the
    /// store, and its id is remembered as deleted.
    pub async fn finish_delete(&self, owner: &Grant) -> Result<(), Error> {
        require_owner(owner)?;
        let incident = owner.incident.clone();
        self.blocking(move |s| s.delete_incident(&incident, now_ms()))
            .await?;
        tracing::info!(incident = %owner.incident, "incident deleted by its owner");
        Ok(())
    }

    /// Gives the owner a new token in place of theirs: a new owner grant (same name), the
    /// old one revoked, so the old token is refused with 4410 and its open connections are
    /// closed with it.
    pub async fn rotate_owner(&self, owner: &Grant) -> Result<(Grant, Token), Error> {
        require_owner(owner)?;
        let token = Token::generate()?;
        let grant = Grant {
            // An owner who was invited keeps their link on their own device.
            device_hash: owner.device_hash,
            ..Grant::new(
                &token,
                &owner.incident,
                &owner.name,
                Access::Owner,
                now_ms(),
            )
        };
        let stored = grant.clone();
        self.blocking(move |s| s.add_grant(&stored)).await?;
        let (incident, old) = (owner.incident.clone(), owner.invite.clone());
        self.blocking(move |s| s.revoke(&incident, &old, now_ms()))
            .await?;
        let closed = {
            let mut live = self.inner.live();
            live.revoked.insert(owner.invite.clone());
            let open = live.connections.remove(&owner.invite).unwrap_or_default();
            for (_, signal) in open.values() {
                signal.close_with(&Error::Revoked);
            }
            open.len()
        };
        self.announce(crate::cluster::AccessEvent::revoked(&owner.invite, None));
        tracing::info!(incident = %owner.incident, old = %owner.invite, new = %grant.invite, closed, "owner token rotated");
        Ok((grant, token))
    }

    /// Sends this relay's access changes to the other relays through `to` (see `cluster`).
    pub fn announce_to(&self, to: tokio::sync::mpsc::Sender<crate::cluster::AccessEvent>) {
        let _ = self.inner.announce.set(to);
    }

    fn announce(&self, event: crate::cluster::AccessEvent) {
        if let Some(to) = self.inner.announce.get() {
            if to.try_send(event).is_err() {
                tracing::warn!("access change not announced to the other relays: queue full");
            }
        }
    }

    /// An access change another relay made: its connections here close with the same codes
    /// as on that relay, and nobody is let in with what it took away.
    pub fn apply_remote(&self, event: &crate::cluster::AccessEvent) {
        use crate::cluster::AccessEvent;
        let mut live = self.inner.live();
        match event {
            AccessEvent::Revoked { invite, by } => {
                let Some(invite) = InviteId::parse(invite) else {
                    return;
                };
                live.revoked.insert(invite.clone());
                let error = match by {
                    Some(name) => Error::RevokedBy(name.clone()),
                    None => Error::Revoked,
                };
                for (_, signal) in live
                    .connections
                    .remove(&invite)
                    .unwrap_or_default()
                    .values()
                {
                    signal.close_with(&error);
                }
            }
            AccessEvent::RoleChanged { invite } => {
                let Some(invite) = InviteId::parse(invite) else {
                    return;
                };
                for (_, signal) in live
                    .connections
                    .remove(&invite)
                    .unwrap_or_default()
                    .values()
                {
                    signal.close_with(&Error::RoleChanged);
                }
            }
            AccessEvent::Deleted { incident, invites } => {
                let Ok(incident) = IncidentId::parse(incident) else {
                    return;
                };
                live.deleted.insert(incident);
                for invite in invites.iter().filter_map(|i| InviteId::parse(i)) {
                    for (_, signal) in live
                        .connections
                        .remove(&invite)
                        .unwrap_or_default()
                        .values()
                    {
                        signal.close_with(&Error::IncidentDeleted);
                    }
                }
            }
            AccessEvent::Unshared {
                playbook,
                team,
                by,
                invites,
            } => {
                let (Ok(playbook), Ok(team)) =
                    (IncidentId::parse(playbook), IncidentId::parse(team))
                else {
                    return;
                };
                let invites: Vec<_> = invites.iter().filter_map(|i| InviteId::parse(i)).collect();
                live.end_share(&playbook, &team, &invites, &Error::UnsharedBy(by.clone()));
            }
            AccessEvent::Shared { playbook, team } => {
                if let (Ok(playbook), Ok(team)) =
                    (IncidentId::parse(playbook), IncidentId::parse(team))
                {
                    live.unshared.remove(&(playbook, team));
                }
            }
        }
    }

    /// Records "last connected now" for a grant, in the background.
    fn touch(&self, invite: &InviteId) {
        let store = Arc::clone(&self.inner.store);
        let invite = invite.clone();
        let now = now_ms();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(move || {
                if let Err(error) = store.touch(&invite, now) {
                    crate::log_limit::storage_failed(
                        "could not record when an invite was last connected",
                        &invite,
                        &error,
                    );
                }
            });
        }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Grants) -> Result<T, Error> + Send + 'static,
    {
        let store = Arc::clone(&self.inner.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Error::Storage(format!("storage task failed: {e}")))?
    }
}

impl Live {
    /// Ends the sharing of `playbook` with `team`: its members' (`invites`) connections to
    /// it are closed with `error`, and a member let in before is closed as it registers.
    /// How many closed.
    fn end_share(
        &mut self,
        playbook: &IncidentId,
        team: &IncidentId,
        invites: &[InviteId],
        error: &Error,
    ) -> usize {
        self.unshared.insert((playbook.clone(), team.clone()));
        let mut closed = 0;
        for invite in invites {
            if let Some(open) = self.connections.get_mut(invite) {
                open.retain(|_, (incident, signal)| {
                    let close = incident == playbook;
                    if close {
                        signal.close_with(error);
                        closed += 1;
                    }
                    !close
                });
                if open.is_empty() {
                    self.connections.remove(invite);
                }
            }
        }
        closed
    }

    /// Closes every open connection whose document `matches`, with `error`; how many.
    fn close_where(&mut self, matches: impl Fn(&IncidentId) -> bool, error: &Error) -> usize {
        let mut closed = 0;
        self.connections.retain(|_, open| {
            open.retain(|_, (incident, signal)| {
                let close = matches(incident);
                if close {
                    signal.close_with(error);
                    closed += 1;
                }
                !close
            });
            !open.is_empty()
        });
        closed
    }
}

impl Inner {
    fn limiter(&self) -> MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn require_owner(grant: &Grant) -> Result<(), Error> {
    if grant.role == Access::Owner {
        Ok(())
    } else {
        Err(Error::NotOwner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn gate() -> Gate {
        Gate::new(Arc::new(MemoryStore::new()), None)
    }

    fn incident(raw: &str) -> IncidentId {
        IncidentId::parse(raw).unwrap()
    }

    #[tokio::test]
    async fn revoking_closes_open_connections_and_refuses_the_token_afterwards() {
        let gate = gate();
        let inc = incident("inc-revoke");
        let (owner, _) = gate
            .create_incident(Some(inc.clone()), "Alice", None, None)
            .await
            .unwrap();
        let (bob, bob_token) = gate
            .invite(&owner, "Bob", Access::Editor, None)
            .await
            .unwrap();
        let shown = bob_token.reveal();
        let checked = gate.authorize(&inc, Some(&shown), None).await.unwrap();
        let signal = Arc::new(CloseSignal::new());
        let registration = gate.connected(&checked, Arc::clone(&signal));
        let listed = gate.list(&owner).await.unwrap();
        assert_eq!(
            listed.iter().map(|l| l.connected).collect::<Vec<_>>(),
            [0, 1]
        );

        gate.revoke(&owner, &bob.invite).await.unwrap();
        assert_eq!(signal.reason().map(|r| r.code), Some(4410));
        assert!(matches!(
            gate.authorize(&inc, Some(&shown), None).await,
            Err(Error::RevokedBy(by)) if by == "Alice"
        ));
        drop(registration);

        // Let in just before the revocation, registered just after: closed at once.
        let late = Arc::new(CloseSignal::new());
        let _late = gate.connected(&checked, Arc::clone(&late));
        assert_eq!(late.reason().map(|r| r.code), Some(4410));
    }

    #[tokio::test]
    async fn only_the_owner_invites_lists_and_revokes() {
        let gate = gate();
        let (owner, _) = gate.create_incident(None, "", None, None).await.unwrap();
        assert_eq!(owner.name, "Incident commander");
        let (editor, _) = gate
            .invite(&owner, "Eve", Access::Editor, None)
            .await
            .unwrap();
        assert!(matches!(
            gate.invite(&editor, "Mallory", Access::Editor, None).await,
            Err(Error::NotOwner)
        ));
        assert!(matches!(gate.list(&editor).await, Err(Error::NotOwner)));
        assert!(matches!(
            gate.revoke(&editor, &owner.invite).await,
            Err(Error::NotOwner)
        ));
        assert!(matches!(
            gate.revoke(&owner, &owner.invite).await,
            Err(Error::OwnerNotRevocable)
        ));
        assert!(matches!(
            gate.invite(&owner, "Eve", Access::Owner, None).await,
            Err(Error::BadRequest(_))
        ));
        for hours in [0.0, -1.0, MAX_EXPIRY_HOURS + 1.0, f64::NAN] {
            assert!(matches!(
                gate.invite(&owner, "Eve", Access::Viewer, Some(hours))
                    .await,
                Err(Error::BadRequest(_))
            ));
        }
    }

    #[tokio::test]
    async fn an_expired_invite_is_refused() {
        let gate = gate();
        let inc = incident("inc-expiry");
        let (owner, _) = gate
            .create_incident(Some(inc.clone()), "A", None, None)
            .await
            .unwrap();
        let (_, token) = gate
            .invite(&owner, "Brief", Access::Viewer, Some(0.1 / 3600.0))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert!(matches!(
            gate.authorize(&inc, Some(&token.reveal()), None).await,
            Err(Error::Expired)
        ));
    }

    #[tokio::test]
    async fn guessing_from_one_address_is_slowed_down() {
        let gate = gate();
        let inc = incident("inc-guess");
        let (_, owner_token) = gate
            .create_incident(Some(inc.clone()), "A", None, None)
            .await
            .unwrap();
        let addr: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..super::super::limiter::MAX_FAILURES {
            let guess = Token::generate().unwrap().reveal();
            assert!(matches!(
                gate.authorize(&inc, Some(&guess), Some(addr)).await,
                Err(Error::UnknownSecret)
            ));
        }
        // Wrong secrets from it now get "slow down"; the right one is still let in.
        let guess = Token::generate().unwrap().reveal();
        assert!(matches!(
            gate.authorize(&inc, Some(&guess), Some(addr)).await,
            Err(Error::SlowDown { .. })
        ));
        assert!(matches!(
            gate.authorize(&inc, None, Some(addr)).await,
            Err(Error::SlowDown { .. })
        ));
        assert!(gate
            .authorize(&inc, Some(&owner_token.reveal()), Some(addr))
            .await
            .is_ok());
        let elsewhere: IpAddr = "192.0.2.10".parse().unwrap();
        assert!(gate
            .authorize(&inc, Some(&owner_token.reveal()), Some(elsewhere))
            .await
            .is_ok());
        assert!(matches!(
            gate.authorize(&inc, None, Some(elsewhere)).await,
            Err(Error::MissingSecret)
        ));
    }

    #[tokio::test]
    async fn guessing_one_invite_from_many_addresses_is_slowed_down_and_listed() {
        let gate = gate();
        gate.limit_invite_failures(5);
        let inc = incident("inc-spread");
        let (owner, owner_token) = gate
            .create_incident(Some(inc.clone()), "A", None, None)
            .await
            .unwrap();
        let (bob, bob_token) = gate
            .invite(&owner, "Bob", Access::Editor, None)
            .await
            .unwrap();
        let wrong = format!("{}.{}", bob.invite, "0".repeat(32));
        for i in 0..5u8 {
            let addr = IpAddr::from([198, 51, 100, i]);
            assert!(matches!(
                gate.authorize(&inc, Some(&wrong), Some(addr)).await,
                Err(Error::UnknownSecret)
            ));
        }
        let fresh: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(matches!(
            gate.authorize(&inc, Some(&wrong), Some(fresh)).await,
            Err(Error::SlowDown { .. })
        ));
        // Bob, and the owner, are let in all along.
        assert!(gate
            .authorize(&inc, Some(&bob_token.reveal()), Some(fresh))
            .await
            .is_ok());
        assert!(gate
            .authorize(&inc, Some(&owner_token.reveal()), Some(fresh))
            .await
            .is_ok());
        let listed = gate.list(&owner).await.unwrap();
        assert_eq!(
            listed.iter().map(|l| l.failed_attempts).collect::<Vec<_>>(),
            [0, 6]
        );
    }

    #[tokio::test]
    async fn an_invite_belongs_to_the_first_device_that_opens_it() {
        let gate = gate();
        let inc = incident("inc-bind");
        let (owner, owner_token) = gate
            .create_incident(Some(inc.clone()), "A", None, None)
            .await
            .unwrap();
        let (_, bob_token) = gate
            .invite(&owner, "Bob", Access::Editor, None)
            .await
            .unwrap();
        let laptop = "laptop0000000000000000000a";
        let phone = "phone00000000000000000000b";
        let admit = |device: Option<&'static str>, required: bool| {
            let gate = gate.clone();
            let (inc, token) = (inc.clone(), bob_token.reveal());
            async move {
                let grant = gate.authorize(&inc, Some(&token), None).await?;
                gate.bind(grant, device, required).await
            }
        };
        assert!(matches!(
            admit(None, true).await,
            Err(Error::DeviceRequired)
        ));
        assert!(matches!(
            admit(Some("bad id"), false).await,
            Err(Error::DeviceRequired)
        ));
        // `me` without a device id: answered, nothing bound.
        assert_eq!(admit(None, false).await.unwrap().device_hash, None);
        assert!(admit(Some(laptop), true).await.is_ok());
        assert!(admit(Some(laptop), true).await.is_ok());
        assert!(matches!(
            admit(Some(phone), true).await,
            Err(Error::InUseElsewhere)
        ));
        assert!(matches!(
            admit(Some(phone), false).await,
            Err(Error::InUseElsewhere)
        ));
        let listed = gate.list(&owner).await.unwrap();
        assert_eq!(listed[1].grant.other_device_attempts, 2);
        assert!(listed[1].grant.other_device_last_at_ms.is_some());
        // The owner's grant is never bound.
        for device in [Some(laptop), Some(phone), None] {
            let grant = gate
                .authorize(&inc, Some(&owner_token.reveal()), None)
                .await
                .unwrap();
            assert!(gate.bind(grant, device, true).await.is_ok());
        }
    }

    #[tokio::test]
    async fn a_creation_secret_guards_creation() {
        let gate = Gate::new(Arc::new(MemoryStore::new()), Some("open sesame".into()));
        assert!(matches!(
            gate.create_incident(None, "A", None, None).await,
            Err(Error::CreateSecretRequired)
        ));
        assert!(matches!(
            gate.create_incident(None, "A", Some("open sesam"), None)
                .await,
            Err(Error::CreateSecretRequired)
        ));
        assert!(gate
            .create_incident(None, "A", Some("open sesame"), None)
            .await
            .is_ok());
    }
}
