//! Teams: one grant shares a playbook with everyone on a team.
//!
//! A team is a name and members. Its members are grants like an incident's invites, whose
//! `incident` is the team's id (so tokens, hashing, device binding, expiry and revocation
//! are the invites' own code); the `team` table tells a team's id from a document's. A
//! playbook's owner shares the playbook with a team ([`Gate::share_with_team`]); a member's
//! token then opens it ([`Gate::authorize_for`]) in the member's team role, never owner, and
//! opens nothing else: no incident, no unshared playbook, not the team's id as a document.

use std::net::IpAddr;

use super::{now_ms, Gate, Target};
use crate::access::{
    clean_name, clean_team_name, Grant, Team, TeamShare, Token, MAX_SHARED_NAME_CHARS,
};
use crate::error::Error;
use crate::incident_id::IncidentId;
use wire::Access;

impl Gate {
    /// Makes a team with its owner's grant, by the rules of creating an incident (the
    /// creation secret, the address's hourly budget, shared with incidents).
    pub async fn create_team(
        &self,
        name: &str,
        owner_name: &str,
        create_secret: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<(Team, Grant, Token), Error> {
        let name = clean_team_name(name)?;
        let owner_name = match owner_name.trim() {
            "" => "Team owner".to_owned(),
            given => clean_name(given)?,
        };
        self.may_create(create_secret, addr)?;
        let id = IncidentId::parse(&Token::generate()?.reveal().replace('.', ""))?;
        let now = now_ms();
        let team = Team {
            id: id.clone(),
            name,
            created_at_ms: now,
        };
        let token = Token::generate()?;
        let owner = Grant::new(&token, &id, &owner_name, Access::Owner, now);
        let (stored_team, stored_owner) = (team.clone(), owner.clone());
        self.blocking(move |s| s.register_team(&stored_team, &stored_owner))
            .await?;
        tracing::info!(team = %id, "team registered");
        Ok((team, owner, token))
    }

    /// The team `member` is on, and the playbooks shared with it.
    pub async fn team_view(&self, member: &Grant) -> Result<(Team, Vec<TeamShare>), Error> {
        let id = member.incident.clone();
        self.blocking(move |s| {
            let team = s.team(&id)?.ok_or(Error::UnknownTeam)?;
            Ok((team, s.playbooks_of_team(&id)?))
        })
        .await
    }

    /// The name of each team in `ids` (unknown ones left out).
    pub async fn team_names(&self, ids: Vec<IncidentId>) -> Result<Vec<Team>, Error> {
        self.blocking(move |s| {
            let mut teams = Vec::new();
            for id in &ids {
                teams.extend(s.team(id)?);
            }
            Ok(teams)
        })
        .await
    }

    /// Checks `team_token` for `team` (wrong secrets counted like any other), as the person
    /// sharing a playbook with it: a member who is not a viewer.
    pub async fn team_sharer(
        &self,
        team: &IncidentId,
        team_token: &str,
        device: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<Grant, Error> {
        let member = self
            .authorize_for(Target::Team, team, Some(team_token), addr)
            .await?;
        let member = self.bind(member, device, false).await?;
        if member.role == Access::Viewer {
            return Err(Error::TeamViewerCannotShare);
        }
        Ok(member)
    }

    /// Shares `owner`'s playbook (the caller checked it is one, named `playbook_name`) with
    /// `sharer`'s team. Team members let in from now on open it; a share ended earlier in
    /// this process (or, announced, on another relay) no longer closes them.
    pub async fn share_with_team(
        &self,
        owner: &Grant,
        sharer: &Grant,
        playbook_name: &str,
    ) -> Result<TeamShare, Error> {
        require_playbook_owner(owner)?;
        let share = TeamShare {
            playbook: owner.incident.clone(),
            team: sharer.incident.clone(),
            playbook_name: playbook_name.chars().take(MAX_SHARED_NAME_CHARS).collect(),
            shared_by: owner.name.clone(),
            shared_at_ms: now_ms(),
        };
        let stored = share.clone();
        self.blocking(move |s| s.share_with_team(&stored)).await?;
        self.inner
            .live()
            .unshared
            .remove(&(share.playbook.clone(), share.team.clone()));
        self.announce(crate::cluster::AccessEvent::shared(
            &share.playbook,
            &share.team,
        ));
        tracing::info!(playbook = %share.playbook, team = %share.team, "playbook shared with a team");
        Ok(share)
    }

    /// Stops sharing `owner`'s playbook with `team`: its members' open connections to it
    /// are closed with 4410 (saying who), and their later attempts refused. How many closed.
    pub async fn unshare_from_team(
        &self,
        owner: &Grant,
        team: &IncidentId,
    ) -> Result<usize, Error> {
        require_playbook_owner(owner)?;
        let (playbook, id) = (owner.incident.clone(), team.clone());
        let members = self
            .blocking(move |s| {
                if !s.unshare_from_team(&playbook, &id)? {
                    return Err(Error::NotSharedWithTeam);
                }
                s.grants(&id)
            })
            .await?;
        let invites: Vec<_> = members.into_iter().map(|m| m.invite).collect();
        let closing = Error::UnsharedBy(owner.name.clone());
        let closed = self
            .inner
            .live()
            .end_share(&owner.incident, team, &invites, &closing);
        self.announce(crate::cluster::AccessEvent::unshared(
            &owner.incident,
            team,
            &owner.name,
            &invites,
        ));
        tracing::info!(playbook = %owner.incident, %team, closed, "playbook unshared from a team");
        Ok(closed)
    }

    /// The teams `owner`'s playbook is shared with.
    pub async fn shares_of(&self, owner: &Grant) -> Result<Vec<TeamShare>, Error> {
        require_playbook_owner(owner)?;
        let playbook = owner.incident.clone();
        self.blocking(move |s| s.shares_of_playbook(&playbook))
            .await
    }
}

/// Only a playbook's own owner shares it; a team member never holds more than editor on it.
fn require_playbook_owner(grant: &Grant) -> Result<(), Error> {
    if grant.role == Access::Owner && grant.via_team.is_none() {
        Ok(())
    } else {
        Err(Error::NotPlaybookOwner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::peer::CloseSignal;
    use crate::store::MemoryStore;

    async fn playbook(gate: &Gate, raw: &str) -> Grant {
        let id = IncidentId::parse(raw).unwrap();
        gate.create_incident(Some(id), "Pat", None, None)
            .await
            .unwrap()
            .0
    }

    #[tokio::test]
    async fn a_member_reaches_every_shared_playbook_and_loses_them_at_once() {
        let gate = Gate::new(Arc::new(MemoryStore::new()), None);
        let (team, owner, _) = gate.create_team("IR", "Alice", None, None).await.unwrap();
        let (_, viewer) = gate
            .invite(&owner, "Vic", Access::Viewer, None)
            .await
            .unwrap();
        let (p1, p2) = (
            playbook(&gate, "pb-one").await,
            playbook(&gate, "pb-two").await,
        );
        for p in [&p1, &p2] {
            gate.share_with_team(p, &owner, "Playbook").await.unwrap();
        }
        let shown = viewer.reveal();
        let mut signals = Vec::new();
        let mut registrations = Vec::new();
        for p in [&p1, &p2] {
            let grant = gate
                .authorize(&p.incident, Some(&shown), None)
                .await
                .unwrap();
            assert_eq!(grant.role, Access::Viewer);
            assert_eq!(grant.incident, p.incident);
            assert_eq!(grant.via_team.as_ref().map(|v| &v.team), Some(&team.id));
            let signal = Arc::new(CloseSignal::new());
            registrations.push(gate.connected(&grant, Arc::clone(&signal)));
            signals.push(signal);
        }
        // Unsharing one playbook closes the member's connection to it only.
        assert_eq!(gate.unshare_from_team(&p1, &team.id).await.unwrap(), 1);
        assert_eq!(signals[0].reason().map(|r| r.code), Some(4410));
        assert_eq!(signals[1].reason(), None);
        assert!(matches!(
            gate.authorize(&p1.incident, Some(&shown), None).await,
            Err(Error::NotSharedWithTeam)
        ));
        assert!(matches!(
            gate.unshare_from_team(&p1, &team.id).await,
            Err(Error::NotSharedWithTeam)
        ));
        // Let in just before the unsharing, registered after it: closed at once.
        let late = Grant {
            incident: p1.incident.clone(),
            via_team: Some(crate::access::ViaTeam {
                team: team.id.clone(),
                role: Access::Viewer,
            }),
            ..gate
                .authorize_for(Target::Team, &team.id, Some(&shown), None)
                .await
                .unwrap()
        };
        let late_signal = Arc::new(CloseSignal::new());
        let _late = gate.connected(&late, Arc::clone(&late_signal));
        assert_eq!(late_signal.reason().map(|r| r.code), Some(4403));

        // Revoking the member closes what is left, on every playbook.
        gate.revoke(&owner, &viewer.invite).await.unwrap();
        assert_eq!(signals[1].reason().map(|r| r.code), Some(4410));
        assert!(matches!(
            gate.authorize(&p2.incident, Some(&shown), None).await,
            Err(Error::RevokedBy(by)) if by == "Alice"
        ));
        drop(registrations);
    }

    #[tokio::test]
    async fn only_a_playbooks_own_owner_shares_it() {
        let gate = Gate::new(Arc::new(MemoryStore::new()), None);
        let (team, owner, owner_token) = gate.create_team("IR", "", None, None).await.unwrap();
        assert_eq!(owner.name, "Team owner");
        let p = playbook(&gate, "pb-own").await;
        gate.share_with_team(&p, &owner, "Playbook").await.unwrap();
        let as_member = gate
            .authorize(&p.incident, Some(&owner_token.reveal()), None)
            .await
            .unwrap();
        assert_eq!(
            as_member.role,
            Access::Editor,
            "a team's owner edits, never owns"
        );
        assert!(matches!(
            gate.share_with_team(&as_member, &owner, "Playbook").await,
            Err(Error::NotPlaybookOwner)
        ));
        assert!(matches!(
            gate.unshare_from_team(&as_member, &team.id).await,
            Err(Error::NotPlaybookOwner)
        ));
        assert!(matches!(
            gate.create_team(&"x".repeat(81), "A", None, None).await,
            Err(Error::BadRequest(_))
        ));
    }
}
