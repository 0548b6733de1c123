//! The relay's access API (invite-only incidents), as the app calls it: registering an
//! incident made here, asking what a token allows, and the owner's invites. Also the invite
//! link (`/incident/{id}#invite={token}`): the secret travels in the fragment, which never
//! reaches a server, and is taken out of the address bar as soon as the page has read it.
//!
//! Every answer from the relay is data: names are shown as text by whoever displays them.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};
use wire::api::{
    ChangeRole, CreateIncident, CreateInvite, CreateTeam, ErrorBody, IncidentCreated, InviteList,
    ShareWithTeam, TeamShares,
};
pub use wire::api::{Invite, NewInvite, People, Person, TeamCreated, TeamShare, TeamView};
use wire::{Access, Close};

use crate::platform;

const INVITE_FRAGMENT: &str = "#invite=";

/// Why a call to the relay did not succeed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No answer at all: no network, or the relay is down.
    Unreachable(String),
    /// The relay answered with an error status and its `{"error": …}` text.
    Refused {
        status: u16,
        message: String,
        /// Seconds to wait, from `Retry-After` (429).
        retry_after: Option<u32>,
    },
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unreachable(why) => write!(f, "the relay cannot be reached ({why})"),
            ApiError::Refused {
                status: 429,
                retry_after: Some(s),
                ..
            } => write!(
                f,
                "the relay is refusing this address for {s} s after too many failed attempts"
            ),
            ApiError::Refused {
                status, message, ..
            } => write!(f, "the relay said: {message} ({status})"),
        }
    }
}

/// A request body (one of [`wire::api`]'s) as JSON. These bodies always serialize.
fn json<B: Serialize>(body: &B) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

fn incident_path(id: &str, rest: &str) -> String {
    format!(
        "/api/incidents/{}{rest}",
        String::from(js_sys::encode_uri_component(id))
    )
}

/// Sends one request to the relay's API with this device's token and id (when a token is
/// given) and an optional JSON body; the answer whatever its status.
async fn send(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<Response, ApiError> {
    let headers = Headers::new().map_err(unreachable)?;
    if let Some(token) = token {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .map_err(unreachable)?;
        // An invite answers only on the device it is bound to (the first that opened it).
        headers
            .set(wire::DEVICE_HEADER, &crate::prefs::device_id())
            .map_err(unreachable)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers
            .set("content-type", "application/json")
            .map_err(unreachable)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response = JsFuture::from(platform::window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(unreachable)?;
    response
        .dyn_into()
        .map_err(|_| ApiError::Unreachable("no response".to_string()))
}

fn unreachable(e: JsValue) -> ApiError {
    ApiError::Unreachable(platform::js_error_text(&e))
}

/// The answer's body as text.
async fn text_of(response: &Response) -> Result<String, ApiError> {
    match response.text() {
        Ok(promise) => Ok(JsFuture::from(promise)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default()),
        Err(e) => Err(unreachable(e)),
    }
}

/// An answer that is not the one expected, with the relay's reason (its JSON `error`, else
/// the status text) and how long it asks to wait.
fn refused(response: &Response, text: &str) -> ApiError {
    let message = serde_json::from_str::<ErrorBody>(text)
        .map(|body| body.error)
        .unwrap_or_else(|_| response.status_text());
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse().ok());
    ApiError::Refused {
        status: response.status(),
        message,
        retry_after,
    }
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
    expected: u16,
) -> Result<T, ApiError> {
    let response = send(method, path, token, body).await?;
    let text = text_of(&response).await?;
    let status = response.status();
    if status != expected {
        return Err(refused(&response, &text));
    }
    serde_json::from_str(&text).map_err(|e| ApiError::Refused {
        status,
        message: format!("an answer we cannot read: {e}"),
        retry_after: None,
    })
}

/// Registers an incident made on this device under its own id; `name` is the owner's
/// display name. 409: the id is taken on the relay; 401: the relay wants its creation secret
/// (sent when this device has one).
pub async fn register(id: &str, name: &str) -> Result<IncidentCreated, ApiError> {
    let name = name.trim();
    let body = CreateIncident {
        incident: Some(id.to_string()),
        name: (!name.is_empty()).then(|| name.to_string()),
    };
    // The relay's creation secret, if it asked for one before (401 without it).
    let secret = crate::prefs::create_secret();
    call(
        "POST",
        "/api/incidents",
        secret.as_deref(),
        Some(json(&body)),
        201,
    )
    .await
}

/// What `token` is on the incident.
pub async fn me(id: &str, token: &str) -> Result<wire::api::Me, ApiError> {
    call("GET", &incident_path(id, "/me"), Some(token), None, 200).await
}

/// What an invite link opens, before it is opened: the incident's title, label and TLP
/// level, the role and who invited (binds the invite to this device, as joining does).
pub async fn preview(id: &str, token: &str) -> Result<wire::api::Preview, ApiError> {
    call(
        "GET",
        &incident_path(id, "/preview"),
        Some(token),
        None,
        200,
    )
    .await
}

/// Invites a person by name with a role (owner only).
pub async fn invite(
    id: &str,
    token: &str,
    name: &str,
    role: Access,
) -> Result<NewInvite, ApiError> {
    create_invite(&incident_path(id, "/invites"), token, name, role).await
}

/// `POST path` with a new invite's name and role: an incident's invite or a team's member.
async fn create_invite(
    path: &str,
    token: &str,
    name: &str,
    role: Access,
) -> Result<NewInvite, ApiError> {
    let body = CreateInvite {
        expires_in_hours: None,
        name: name.to_string(),
        role: role.as_str().to_string(),
    };
    call("POST", path, Some(token), Some(json(&body)), 201).await
}

/// Every grant of the incident, owner first (owner only).
pub async fn invites(id: &str, token: &str) -> Result<Vec<Invite>, ApiError> {
    let list: InviteList = call(
        "GET",
        &incident_path(id, "/invites"),
        Some(token),
        None,
        200,
    )
    .await?;
    Ok(list.invites)
}

/// Revokes an invite (owner only); its open connections are closed at once.
pub async fn revoke(id: &str, token: &str, invite: &str) -> Result<Invite, ApiError> {
    let path = incident_path(
        id,
        &format!(
            "/invites/{}",
            String::from(js_sys::encode_uri_component(invite))
        ),
    );
    call("DELETE", &path, Some(token), None, 200).await
}

/// Gives an invited person another role (owner only); their open connections come back in it.
pub async fn change_role(
    id: &str,
    token: &str,
    invite: &str,
    role: Access,
) -> Result<Invite, ApiError> {
    let path = incident_path(
        id,
        &format!(
            "/invites/{}",
            String::from(js_sys::encode_uri_component(invite))
        ),
    );
    let body = ChangeRole {
        role: role.as_str().to_string(),
    };
    call("PATCH", &path, Some(token), Some(json(&body)), 200).await
}

/// Who can open the incident now: invite id, name and role (any member).
pub async fn people(id: &str, token: &str) -> Result<Vec<Person>, ApiError> {
    let answer: People = call("GET", &incident_path(id, "/people"), Some(token), None, 200).await?;
    Ok(answer.people)
}

/// Deletes the incident on the relay (owner only): everyone connected is disconnected, and
/// nothing of it stays there.
pub async fn delete_incident(id: &str, token: &str) -> Result<(), ApiError> {
    call_no_body("DELETE", &incident_path(id, ""), Some(token), 204).await
}

/// A new owner token in place of `token` (owner only); `token` stops working at once.
pub async fn rotate_owner(id: &str, token: &str) -> Result<IncidentCreated, ApiError> {
    call(
        "POST",
        &incident_path(id, "/owner-token"),
        Some(token),
        Some("{}".to_string()),
        201,
    )
    .await
}

fn team_path(id: &str, rest: &str) -> String {
    format!(
        "/api/teams/{}{rest}",
        String::from(js_sys::encode_uri_component(id))
    )
}

/// Makes a team named `name` on the relay, this device's `owner_name` its owner (sends the
/// relay's creation secret when this device has one, as registering an incident does).
pub async fn create_team(name: &str, owner_name: &str) -> Result<TeamCreated, ApiError> {
    let owner_name = owner_name.trim();
    let body = CreateTeam {
        name: name.to_string(),
        owner_name: (!owner_name.is_empty()).then(|| owner_name.to_string()),
    };
    let secret = crate::prefs::create_secret();
    call(
        "POST",
        "/api/teams",
        secret.as_deref(),
        Some(json(&body)),
        201,
    )
    .await
}

/// The team, this token's place on it, and the playbooks shared with it (any member).
pub async fn team(id: &str, token: &str) -> Result<TeamView, ApiError> {
    call("GET", &team_path(id, ""), Some(token), None, 200).await
}

/// Invites a member to the team (its owner only); the link is the team page's.
pub async fn add_member(
    id: &str,
    token: &str,
    name: &str,
    role: Access,
) -> Result<NewInvite, ApiError> {
    create_invite(&team_path(id, "/members"), token, name, role).await
}

/// The team's members, its owner first (its owner only).
pub async fn members(id: &str, token: &str) -> Result<Vec<Invite>, ApiError> {
    let list: InviteList = call("GET", &team_path(id, "/members"), Some(token), None, 200).await?;
    Ok(list.invites)
}

/// Revokes a member (the team's owner only): their connections to every playbook of the
/// team are closed at once.
pub async fn revoke_member(id: &str, token: &str, invite: &str) -> Result<Invite, ApiError> {
    let path = team_path(
        id,
        &format!(
            "/members/{}",
            String::from(js_sys::encode_uri_component(invite))
        ),
    );
    call("DELETE", &path, Some(token), None, 200).await
}

/// Shares the playbook `id` (this device its owner, `token`) with a team this device is on.
pub async fn share_with_team(
    id: &str,
    token: &str,
    team: &str,
    team_token: &str,
) -> Result<TeamShare, ApiError> {
    let body = ShareWithTeam {
        team: team.to_string(),
        team_token: team_token.to_string(),
    };
    call(
        "POST",
        &incident_path(id, "/teams"),
        Some(token),
        Some(json(&body)),
        201,
    )
    .await
}

/// The teams the playbook `id` is shared with (its owner only).
pub async fn team_shares(id: &str, token: &str) -> Result<Vec<TeamShare>, ApiError> {
    let list: TeamShares =
        call("GET", &incident_path(id, "/teams"), Some(token), None, 200).await?;
    Ok(list.shares)
}

/// Stops sharing the playbook `id` with `team` (its owner only).
pub async fn unshare_from_team(id: &str, token: &str, team: &str) -> Result<(), ApiError> {
    let path = incident_path(
        id,
        &format!(
            "/teams/{}",
            String::from(js_sys::encode_uri_component(team))
        ),
    );
    call_no_body("DELETE", &path, Some(token), 204).await
}

/// [`call`] for an answer with no body.
async fn call_no_body(
    method: &str,
    path: &str,
    token: Option<&str>,
    expected: u16,
) -> Result<(), ApiError> {
    match call::<serde_json::Value>(method, path, token, None, expected).await {
        Ok(_) => Ok(()),
        // The expected status with an empty body: not JSON, and fine.
        Err(ApiError::Refused { status, .. }) if status == expected => Ok(()),
        Err(e) => Err(e),
    }
}

/// The link a person opens to join: this page's origin, the document's page (`page`:
/// `/incident/{id}` or `/playbook/{id}`), the token in the fragment (for an incident the
/// same form as the relay's `link`).
pub fn invite_link(page: &str, token: &str) -> String {
    let origin = platform::window().location().origin().unwrap_or_default();
    format!("{origin}{page}{INVITE_FRAGMENT}{token}")
}

/// A token `{16 hex}.{32 hex}`, or nothing: whatever else a fragment holds is not kept.
fn well_formed(token: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match token.split_once('.') {
        Some((invite, secret)) => hex(invite, 16) && hex(secret, 32),
        None => false,
    }
}

/// What the address bar's fragment held when the page opened.
#[derive(Clone, Debug, PartialEq)]
pub enum FromLink {
    /// No invite in the address.
    Nothing,
    /// A well-formed invite token.
    Token(String),
    /// `#invite=` with something that is not a whole token (a link cut short when copied).
    Broken,
}

/// Takes an invite token out of the address bar, if the page was opened from a link.
/// The fragment is removed either way, so the secret does not stay on screen, in the
/// history, or in a bookmark.
pub fn take_invite_from_address() -> FromLink {
    let window = platform::window();
    let location = window.location();
    let hash = location.hash().unwrap_or_default();
    let Some(token) = hash.strip_prefix(INVITE_FRAGMENT) else {
        return FromLink::Nothing;
    };
    let token = token.trim().to_ascii_lowercase();
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let replaced = window.history().and_then(|h| {
        h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{search}")))
    });
    if let Err(e) = replaced {
        platform::log_error(&platform::js_error_text(&e));
    }
    if well_formed(&token) {
        FromLink::Token(token)
    } else {
        FromLink::Broken
    }
}

/// Why the relay will not (or will no longer) share the incident with this device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No token here for an incident not made here (4401).
    NeedInvite,
    /// The link in the address was cut short.
    BrokenLink,
    /// The relay does not know this token for this incident (4403).
    Unknown,
    /// An owner revoked this device's invite (4410): who did, once the relay has said.
    Revoked(Option<String>),
    /// The invite's time ran out (4411).
    Expired,
    /// This device, a viewer, sent a change (4405).
    ReadOnly,
    /// The incident made here could not be registered: its id is taken on the relay (409).
    Taken,
    /// The invite was first opened on another device, and is bound to it (4409, 409).
    InUseElsewhere,
    /// The owner deleted the incident (4404, 404).
    Deleted,
}

impl Refusal {
    /// The refusal a close of the relay's stands for: each close after which a client stops
    /// ([`AfterClose::Stop`]). `None` for any close after which it reconnects.
    pub fn from_close(close: Close) -> Option<Refusal> {
        match close {
            Close::MissingSecret => Some(Refusal::NeedInvite),
            Close::UnknownSecret => Some(Refusal::Unknown),
            Close::ReadOnly => Some(Refusal::ReadOnly),
            Close::Revoked => Some(Refusal::Revoked(None)),
            Close::Expired => Some(Refusal::Expired),
            Close::InUseElsewhere => Some(Refusal::InUseElsewhere),
            // The app always sends its device id; a relay asking for one does not know it.
            Close::DeviceRequired => Some(Refusal::Unknown),
            Close::Deleted => Some(Refusal::Deleted),
            Close::GoingAway
            | Close::UnsupportedData
            | Close::PolicyViolation
            | Close::MessageTooBig
            | Close::InternalError
            | Close::TryAgainLater
            | Close::SlowDown
            | Close::RoleChanged
            | Close::StorageUnavailable => None,
        }
    }

    /// The refusal an API error stands for; `None` when it is not about access. (Only asking
    /// what a token is, or what an invite opens, comes here: a 409 there is an invite bound
    /// to another device.)
    pub fn from_api(error: &ApiError) -> Option<Refusal> {
        match error {
            ApiError::Refused { status: 401, .. } => Some(Refusal::NeedInvite),
            // A playbook its owner stopped sharing with this device's team.
            ApiError::Refused {
                status: 403,
                message,
                ..
            } if message.contains("not shared with your team") => Some(Refusal::Revoked(None)),
            ApiError::Refused { status: 403, .. } => Some(Refusal::Unknown),
            ApiError::Refused {
                status: 410,
                message,
                ..
            } if message.contains("expired") => Some(Refusal::Expired),
            ApiError::Refused {
                status: 410,
                message,
                ..
            } => Some(Refusal::Revoked(
                message
                    .strip_prefix("invite revoked by ")
                    .map(|by| by.trim().to_string())
                    .filter(|by| !by.is_empty()),
            )),
            ApiError::Refused { status: 409, .. } => Some(Refusal::InUseElsewhere),
            ApiError::Refused {
                status: 404,
                message,
                ..
            } if message.contains("deleted") => Some(Refusal::Deleted),
            _ => None,
        }
    }

    /// What the person is told, in the sync status.
    pub fn message(&self) -> String {
        if let Refusal::Revoked(Some(by)) = self {
            return format!("Your access was revoked by {by}. What is on this device stays here; nothing more will sync.");
        }
        let text = match self {
            Refusal::NeedInvite => "You need an invite link to open this incident. Ask its incident commander for one.",
            Refusal::BrokenLink => "This invite link is incomplete. Copy the whole link again, or ask the incident commander for a new one.",
            Refusal::Unknown => "The relay does not know this device's invite for this incident. Ask the incident commander for a new link. What is on this device stays here; nothing more will sync.",
            Refusal::Revoked(_) => "Your access was revoked by an owner of this incident. What is on this device stays here; nothing more will sync.",
            Refusal::Expired => "Your invite has expired. Ask the incident commander for a new link. What is on this device stays here; nothing more will sync.",
            Refusal::ReadOnly => "The relay refused a change from this device: you can read this incident but not change it. Nothing more will sync; reload the page to see it as it is.",
            Refusal::InUseElsewhere => "This invite is already in use on another device — ask for your own link. Each link works only on the first device that opens it; the incident commander has been shown this attempt and can send you one.",
            Refusal::Taken => "This incident could not be published: the relay already has an incident with its id, and this device has no access to it. What you wrote is saved on this device only.",
            Refusal::Deleted => "This incident was deleted by its owner. Nothing of it is on the relay any more; the copy on this device stays until you remove it.",
        };
        text.to_string()
    }

    /// [`Refusal::message`] for the open document: a playbook's says "playbook" and names
    /// its owner, not an incident commander.
    pub fn message_for(&self, playbook: bool) -> String {
        let text = self.message();
        if !playbook {
            return text;
        }
        text.replace("its incident commander", "its owner")
            .replace("the incident commander", "the playbook's owner")
            .replace("an incident with its id", "a document with its id")
            .replace("incident", "playbook")
    }

    /// The value of the sync status's `data-state`.
    pub fn key(&self) -> &'static str {
        match self {
            Refusal::NeedInvite | Refusal::BrokenLink => "no-access",
            Refusal::Unknown => "unknown",
            Refusal::Revoked(_) => "revoked",
            Refusal::Expired => "expired",
            Refusal::ReadOnly => "read-only",
            Refusal::Taken => "taken",
            Refusal::InUseElsewhere => "in-use-elsewhere",
            Refusal::Deleted => "deleted",
        }
    }
}

/// A relay time (milliseconds since the epoch) as people read it: `2024-05-01 09:30 UTC`.
pub fn shown_time(ms: i64) -> String {
    let iso = String::from(js_sys::Date::new(&JsValue::from_f64(ms as f64)).to_iso_string());
    platform::short_time(&iso)
}

/// The incident as it stood at `at_ms` (ms since 1970, UTC), rebuilt by the relay from its
/// record: one Yjs v1 update (owner and editors; viewers get 403).
pub async fn state_at(id: &str, token: &str, at_ms: i64) -> Result<Vec<u8>, ApiError> {
    let path = incident_path(id, &format!("/history/state?at={at_ms}"));
    let response = send("GET", &path, Some(token), None).await?;
    if response.status() != 200 {
        let text = text_of(&response).await?;
        return Err(refused(&response, &text));
    }
    let buffer = match response.array_buffer() {
        Ok(promise) => JsFuture::from(promise).await.map_err(unreachable)?,
        Err(e) => return Err(unreachable(e)),
    };
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Who wrote what in the incident (owner and editors; 403 to viewers): the relay replays its
/// record (`GET …/history/attribution`).
///
/// The answer is the relay's JSON text, unread: what reads it is in the on-demand module of
/// "who wrote what" (`incident_page::attribution`), not in the first download.
pub async fn attribution(id: &str, token: &str) -> Result<String, ApiError> {
    let path = incident_path(id, "/history/attribution");
    let response = send("GET", &path, Some(token), None).await?;
    let text = text_of(&response).await?;
    if response.status() != 200 {
        return Err(refused(&response, &text));
    }
    Ok(text)
}

/// One page of the incident's record (`GET …/history`), oldest first, after the record `after`
/// (owner and editors; viewers get 403).
pub async fn history_page(
    id: &str,
    token: &str,
    after: u64,
) -> Result<wire::api::HistoryPage, ApiError> {
    let path = incident_path(id, &format!("/history?after={after}"));
    call("GET", &path, Some(token), None, 200).await
}
