//! Teams over HTTP: make a team, invite and revoke its members, see its playbooks, and
//! share a playbook with it or stop. The rules are the gate's ([`crate::access::gate`]);
//! this file reads and writes [`wire::api`]'s bodies.
//!
//! A team's members are invited, listed and revoked exactly as an incident's invites (the
//! same bodies), with links to `/team/{id}#invite={token}`. Sharing reads the document once,
//! off the sync thread, to refuse anything that is not a playbook: teams are for playbooks
//! only, and an incident is shared invite by invite.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use wire::api::{
    CreateInvite, CreateTeam, Invite, InviteList, NewInvite, ShareWithTeam, TeamCreated,
    TeamShares, TeamView,
};
use wire::Access;

use super::api::{parse_json, require_json, shown, Caller};
use super::{bearer, AppState, ClientAddr};
use crate::access::gate::{Listed, Target};
use crate::access::{Grant, InviteId, Team, TeamShare};
use crate::error::Error;
use crate::incident_id::IncidentId;

/// The grant of whoever calls an `/api/teams/{team}/…` route: a member of that team.
pub struct TeamCaller(pub Grant);

impl FromRequestParts<AppState> for TeamCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::UnknownTeam)?;
        let raw = params
            .iter()
            .find_map(|(key, value)| (key == "team").then_some(value))
            .ok_or(Error::UnknownTeam)?;
        let team = IncidentId::parse(raw).map_err(|_| Error::UnknownTeam)?;
        let ClientAddr(addr) = match ClientAddr::from_request_parts(parts, state).await {
            Ok(addr) => addr,
            Err(never) => match never {},
        };
        let grant = state
            .gate
            .authorize_for(Target::Team, &team, bearer(&parts.headers), addr)
            .await?;
        let device = super::device(&parts.headers, None);
        state.gate.bind(grant, device, false).await.map(TeamCaller)
    }
}

/// An incident route's "only the owner" said for a team.
fn team_owner_only(error: Error) -> Error {
    match error {
        Error::NotOwner => Error::NotTeamOwner,
        other => other,
    }
}

/// `POST /api/teams` (the creation secret as bearer, when the relay has one) → 201
/// [`TeamCreated`], the owner's token shown this once.
pub async fn create_team(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_json(&headers)?;
    let request: CreateTeam = parse_json(&body)?;
    let (team, owner, token) = state
        .gate
        .create_team(
            &request.name,
            request.owner_name.as_deref().unwrap_or(""),
            bearer(&headers),
            addr,
        )
        .await?;
    let body = TeamCreated {
        invite: owner.invite.as_str().to_owned(),
        name: owner.name,
        role: owner.role,
        team: team.id.as_str().to_owned(),
        team_name: team.name,
        token: token.reveal(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/teams/{team}` (any member) → [`TeamView`]: the team and its playbooks.
pub async fn team(
    State(state): State<AppState>,
    TeamCaller(member): TeamCaller,
) -> Result<Json<TeamView>, Error> {
    let (team, shares) = state.gate.team_view(&member).await?;
    Ok(Json(TeamView {
        invite: member.invite.as_str().to_owned(),
        member_name: member.name,
        name: team.name.clone(),
        playbooks: shares.iter().map(|s| shown_share(s, &team)).collect(),
        role: member.role,
        team: team.id.as_str().to_owned(),
    }))
}

/// `POST /api/teams/{team}/members` (the team's owner) → 201 [`NewInvite`], the link to
/// `/team/{team}#invite=…`.
pub async fn add_member(
    State(state): State<AppState>,
    TeamCaller(owner): TeamCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_json(&headers)?;
    let request: CreateInvite = parse_json(&body)?;
    let role = Access::parse(&request.role)
        .ok_or_else(|| Error::BadRequest("role: a member is \"editor\" or \"viewer\"".into()))?;
    let (grant, token) = state
        .gate
        .invite(&owner, &request.name, role, request.expires_in_hours)
        .await
        .map_err(team_owner_only)?;
    let base = state.public_url.as_deref().unwrap_or("");
    let link = format!("{base}/team/{}#invite={}", owner.incident, token.reveal());
    let listed = Listed {
        grant,
        connected: 0,
        failed_attempts: 0,
    };
    let body = NewInvite::new(shown(&listed), token.reveal(), link);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/teams/{team}/members` (the team's owner) → every member, the owner first;
/// `connected` counts their connections to all the team's playbooks.
pub async fn members(
    State(state): State<AppState>,
    TeamCaller(owner): TeamCaller,
) -> Result<Json<InviteList>, Error> {
    let listed = state.gate.list(&owner).await.map_err(team_owner_only)?;
    Ok(Json(InviteList {
        invites: listed.iter().map(shown).collect(),
    }))
}

/// `DELETE /api/teams/{team}/members/{invite}` (the team's owner) → the revoked member.
/// Their open connections to every playbook of the team are closed with 4410 at once.
pub async fn revoke_member(
    State(state): State<AppState>,
    TeamCaller(owner): TeamCaller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Invite>, Error> {
    let Path((_, invite)) = path.map_err(|_| Error::UnknownInvite)?;
    let invite = InviteId::parse(&invite).ok_or(Error::UnknownInvite)?;
    let revoked = state
        .gate
        .revoke(&owner, &invite)
        .await
        .map_err(team_owner_only)?;
    Ok(Json(shown(&revoked)))
}

/// `POST /api/incidents/{playbook}/teams` (the playbook's owner) with [`ShareWithTeam`] →
/// 201 the share. Refused for anything that is not a playbook.
pub async fn share(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Caller(owner): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_json(&headers)?;
    let request: ShareWithTeam = parse_json(&body)?;
    if owner.role != Access::Owner || owner.via_team.is_some() {
        return Err(Error::NotPlaybookOwner);
    }
    let team = IncidentId::parse(request.team.trim()).map_err(|_| Error::UnknownTeam)?;
    let device = super::device(&headers, None);
    let sharer = state
        .gate
        .team_sharer(&team, &request.team_token, device, addr)
        .await?;
    let name = playbook_name(&state, &owner.incident).await?;
    let share = state.gate.share_with_team(&owner, &sharer, &name).await?;
    let names = state.gate.team_names(vec![share.team.clone()]).await?;
    let team = names.first().ok_or(Error::UnknownTeam)?;
    Ok((StatusCode::CREATED, Json(shown_share(&share, team))).into_response())
}

/// `GET /api/incidents/{playbook}/teams` (the playbook's owner) → the teams it is shared with.
pub async fn shares(
    State(state): State<AppState>,
    Caller(owner): Caller,
) -> Result<Json<TeamShares>, Error> {
    let shares = state.gate.shares_of(&owner).await?;
    let teams = state
        .gate
        .team_names(shares.iter().map(|s| s.team.clone()).collect())
        .await?;
    Ok(Json(TeamShares {
        shares: shares
            .iter()
            .filter_map(|s| {
                let team = teams.iter().find(|t| t.id == s.team)?;
                Some(shown_share(s, team))
            })
            .collect(),
    }))
}

/// `DELETE /api/incidents/{playbook}/teams/{team}` (the playbook's owner) → 204; the team's
/// members' open connections to the playbook are closed with 4410.
pub async fn unshare(
    State(state): State<AppState>,
    Caller(owner): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, Error> {
    let Path((_, team)) = path.map_err(|_| Error::UnknownTeam)?;
    let team = IncidentId::parse(&team).map_err(|_| Error::UnknownTeam)?;
    state.gate.unshare_from_team(&owner, &team).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stored document's playbook name, or [`Error::TeamsForPlaybooksOnly`] when it is no
/// playbook (an incident, or nothing yet). Read off the sync thread, in the exports' slots.
async fn playbook_name(state: &AppState, id: &IncidentId) -> Result<String, Error> {
    let _slot = super::export::running()
        .acquire()
        .await
        .map_err(|_| Error::ShuttingDown)?;
    let store = state.registry.store();
    let id = id.clone();
    tokio::task::spawn_blocking(move || {
        let stored = store.load(&id)?;
        match super::preview::read_playbook(&stored)? {
            Some(playbook) => Ok(playbook.name()),
            None => Err(Error::TeamsForPlaybooksOnly),
        }
    })
    .await
    .map_err(|e| Error::Load(format!("reading the playbook stopped: {e}")))?
}

fn shown_share(share: &TeamShare, team: &Team) -> wire::api::TeamShare {
    wire::api::TeamShare {
        playbook: share.playbook.as_str().to_owned(),
        playbook_name: share.playbook_name.clone(),
        shared_at: share.shared_at_ms,
        shared_by: share.shared_by.clone(),
        team: team.id.as_str().to_owned(),
        team_name: team.name.clone(),
    }
}
