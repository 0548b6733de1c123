//! The access API (JSON): create an incident, invite people to it, list and revoke invites,
//! and ask what one's own token allows. Every body, in and out, is one of [`wire::api`]'s;
//! errors are `{"error": "..."}` with the status [`Error::status`] gives. Times are milliseconds since the Unix epoch.
//! Secrets appear in exactly two answers: the owner token when an incident is created, and
//! an invite's token when it is created. They are never logged.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use wire::api::{
    ChangeRole, CreateIncident, CreateInvite, IncidentCreated, Invite, InviteList, Me, NewInvite,
    People, Person,
};
use wire::Access;

use super::{bearer, AppState, ClientAddr};
use crate::access::gate::Listed;
use crate::access::{Grant, InviteId, Token};
use crate::error::Error;
use crate::incident_id::IncidentId;

/// Refuses a body not marked `Content-Type: application/json`. Another website's page can
/// make a visitor's browser send a plain-text or form body to the relay without asking first;
/// a JSON body it can only send after a CORS check, which the relay never passes.
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), Error> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match media_type {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(Error::NotJson),
    }
}

/// Largest accepted request body.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /api/incidents` → 201 `{"incident", "token", "invite", "role": "owner"}`.
pub async fn create_incident(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_json(&headers)?;
    let request: CreateIncident = if body.iter().all(u8::is_ascii_whitespace) {
        CreateIncident::default()
    } else {
        parse_json(&body)?
    };
    let incident = request
        .incident
        .as_deref()
        .map(IncidentId::parse)
        .transpose()?;
    let (owner, token) = state
        .gate
        .create_incident(
            incident,
            request.name.as_deref().unwrap_or(""),
            bearer(&headers),
            addr,
        )
        .await?;
    let body = IncidentCreated {
        incident: owner.incident.as_str().to_owned(),
        invite: owner.invite.as_str().to_owned(),
        name: owner.name,
        role: owner.role,
        token: token.reveal(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /api/incidents/{id}/invites` (owner) → 201 with the invite, its token and link.
pub async fn create_invite(
    State(state): State<AppState>,
    Caller(owner): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_json(&headers)?;
    let request: CreateInvite = parse_json(&body)?;
    let role = Access::parse(&request.role)
        .ok_or_else(|| Error::BadRequest("role: an invite is \"editor\" or \"viewer\"".into()))?;
    let (grant, token) = state
        .gate
        .invite(&owner, &request.name, role, request.expires_in_hours)
        .await?;
    let link = invite_link(&state, &owner.incident, &token);
    let listed = Listed {
        grant,
        connected: 0,
        failed_attempts: 0,
    };
    let body = NewInvite::new(shown(&listed), token.reveal(), link);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/incidents/{id}/invites` (owner) → `{"invites": [...]}`, no secrets.
pub async fn list_invites(
    State(state): State<AppState>,
    Caller(owner): Caller,
) -> Result<Json<InviteList>, Error> {
    let listed = state.gate.list(&owner).await?;
    let invites = listed.iter().map(shown).collect();
    Ok(Json(InviteList { invites }))
}

/// `DELETE /api/incidents/{id}/invites/{invite}` (owner) → the revoked invite.
pub async fn revoke_invite(
    State(state): State<AppState>,
    Caller(owner): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Invite>, Error> {
    let Path((_, invite)) = path.map_err(|_| Error::UnknownInvite)?;
    let invite = InviteId::parse(&invite).ok_or(Error::UnknownInvite)?;
    let revoked = state.gate.revoke(&owner, &invite).await?;
    Ok(Json(shown(&revoked)))
}

/// `PATCH /api/incidents/{id}/invites/{invite}` (owner) with `{"role": …}` → the invite in
/// its new role. Its open connections are closed with 4412 and come back in the new role.
pub async fn change_role(
    State(state): State<AppState>,
    Caller(owner): Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Invite>, Error> {
    require_json(&headers)?;
    let Path((_, invite)) = path.map_err(|_| Error::UnknownInvite)?;
    let invite = InviteId::parse(&invite).ok_or(Error::UnknownInvite)?;
    let request: ChangeRole = parse_json(&body)?;
    let role = Access::parse(&request.role)
        .ok_or_else(|| Error::BadRequest("role: \"owner\", \"editor\" or \"viewer\"".into()))?;
    let changed = state.gate.set_role(&owner, &invite, role).await?;
    Ok(Json(shown(&changed)))
}

/// `GET /api/incidents/{id}/people` (any member) → who can open the incident now: invite
/// id, name and role each, nothing else. Editors pick roles' holders and next steps'
/// owners from it.
pub async fn people(
    State(state): State<AppState>,
    Caller(member): Caller,
    headers: HeaderMap,
) -> Result<Json<People>, Error> {
    // Names reach only a device the invite is bound to (the creator's grant is bound to none).
    let creator = member.role == Access::Owner && member.device_hash.is_none();
    if !creator && !headers.contains_key(wire::DEVICE_HEADER) {
        return Err(Error::DeviceRequired);
    }
    let people = state
        .gate
        .people(&member)
        .await?
        .into_iter()
        .map(|grant| Person {
            invite: grant.invite.as_str().to_owned(),
            name: grant.name,
            role: grant.role,
        })
        .collect();
    Ok(Json(People { people }))
}

/// `GET /api/incidents/{id}/me` (any valid token) → the holder's role and invited name.
pub async fn me(Caller(grant): Caller) -> Result<Json<Me>, Error> {
    Ok(Json(Me {
        expires_at: grant.expires_at_ms,
        incident: grant.incident.as_str().to_owned(),
        invite: grant.invite.as_str().to_owned(),
        name: grant.name,
        role: grant.role,
        max_attachment_bytes: Some(super::blobs::max_attachment_bytes()),
    }))
}

/// The grant of whoever calls an `/api/incidents/{incident}/…` route, from the bearer
/// token: the route's incident must be the token's.
pub struct Caller(pub Grant);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::InvalidIncidentId)?;
        let raw = params
            .iter()
            .find_map(|(key, value)| (key == "incident").then_some(value))
            .ok_or(Error::InvalidIncidentId)?;
        let incident = IncidentId::parse(raw)?;
        let ClientAddr(addr) = match ClientAddr::from_request_parts(parts, state).await {
            Ok(addr) => addr,
            Err(never) => match never {},
        };
        let token = bearer(&parts.headers);
        let grant = state.gate.authorize(&incident, token, addr).await?;
        // An invite answers only on its own device; a call without a device id reaches
        // no document (`me`, or an owner route the creator's grant is not bound for; an
        // invite made owner is refused without it).
        let device = super::device(&parts.headers, None);
        state.gate.bind(grant, device, false).await.map(Caller)
    }
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::BadRequest(format!(
            "request body too large: at most {MAX_BODY_BYTES} bytes"
        )));
    }
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))
}

/// One grant as the API shows it: never its secret or hash.
pub(super) fn shown(listed: &Listed) -> Invite {
    let grant: &Grant = &listed.grant;
    Invite {
        connected: u32::try_from(listed.connected).unwrap_or(u32::MAX),
        created_at: grant.created_at_ms,
        expires_at: grant.expires_at_ms,
        failed_attempts: u32::try_from(listed.failed_attempts).unwrap_or(u32::MAX),
        invite: grant.invite.as_str().to_owned(),
        last_seen_at: grant.last_seen_at_ms,
        name: grant.name.clone(),
        other_device_attempts: grant.other_device_attempts,
        other_device_last_at: grant.other_device_last_at_ms,
        revoked_at: grant.revoked_at_ms,
        role: grant.role,
    }
}

/// `{base}/incident/{id}#invite={token}`: the app reads the token from the fragment, which
/// browsers never send to a server. The base is set at start (see `server::link_base`):
/// `--public-url` or the relay's listen address, or nothing (a link relative to the site).
/// Never the request's `Host`, which whoever sends the request chooses.
fn invite_link(state: &AppState, incident: &IncidentId, token: &Token) -> String {
    let base = state.public_url.as_deref().unwrap_or("");
    format!("{base}/incident/{incident}#invite={}", token.reveal())
}

/// How long deleting an incident waits for its room to stop (its peers closed, its last
/// write done) before it deletes the rows anyway; a write after that finds the incident
/// deleted and writes nothing.
const DELETE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `DELETE /api/incidents/{id}` (owner) → 204. Every open connection of the incident is
/// closed with 4404, its room stops, and its document, log, grants and invites leave the
/// store; every later call or connection for it is refused with 404 / 4404.
pub async fn delete_incident(
    State(state): State<AppState>,
    Caller(owner): Caller,
) -> Result<StatusCode, Error> {
    let closed = state.gate.begin_delete(&owner).await?;
    if !state
        .registry
        .wait_room_gone(&owner.incident, DELETE_WAIT)
        .await
    {
        tracing::warn!(incident = %owner.incident, "room still open after the incident's connections were closed; deleting anyway");
    }
    state.gate.finish_delete(&owner).await?;
    tracing::debug!(incident = %owner.incident, closed, "deleted incident's connections closed");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/incidents/{id}/owner-token` (owner) → 201 with a new owner token, in the
/// shape of [`IncidentCreated`]. The token the call was made with is revoked: refused with
/// 410 / 4410 from now on, and its open connections are closed.
pub async fn rotate_owner_token(
    State(state): State<AppState>,
    Caller(owner): Caller,
) -> Result<Response, Error> {
    let (grant, token) = state.gate.rotate_owner(&owner).await?;
    let body = IncidentCreated {
        incident: grant.incident.as_str().to_owned(),
        invite: grant.invite.as_str().to_owned(),
        name: grant.name,
        role: grant.role,
        token: token.reveal(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
