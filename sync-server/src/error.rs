//! The crate's one error type, and how it is shown at the edge: an HTTP status with a JSON
//! body `{"error": "..."}`, or a websocket close code with a reason.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use wire::api::ErrorBody;
use wire::Close;

use crate::room::ProtocolError;

/// Websocket close reasons may hold at most 123 bytes.
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid incident id: use 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'")]
    InvalidIncidentId,

    #[error("this endpoint only accepts websocket upgrades: {0}")]
    NotWebSocket(String),

    #[error("not found")]
    NotFound,

    #[error("{0}")]
    BadRequest(String),

    #[error("missing secret: open this incident from an invite link")]
    MissingSecret,

    #[error("unknown secret for this incident")]
    UnknownSecret,

    #[error("invite revoked")]
    Revoked,

    #[error("invite expired")]
    Expired,

    #[error("too many failed attempts; wait {retry_after_secs} s")]
    SlowDown { retry_after_secs: u64 },

    #[error("too many incidents created from this address; wait {retry_after_secs} s")]
    TooManyIncidents { retry_after_secs: u64 },

    #[error("send JSON, with Content-Type: application/json")]
    NotJson,

    #[error("metrics are served to this machine only, or with the relay's metrics token")]
    MetricsRefused,

    #[error("only the incident's owner can do this")]
    NotOwner,

    #[error("this relay only creates incidents for holders of its creation secret")]
    CreateSecretRequired,

    #[error("incident already exists")]
    IncidentExists,

    #[error("unknown invite")]
    UnknownInvite,

    #[error("the owner's own access cannot be revoked")]
    OwnerNotRevocable,

    #[error("this invite is already in use on another device; ask for your own link")]
    InUseElsewhere,

    #[error(
        "an invite is opened with this device's id: add ?device= and 16 to 64 of A-Z a-z 0-9 _ -"
    )]
    DeviceRequired,

    #[error(transparent)]
    Protocol(#[from] ProtocolError),

    #[error("binary frames only")]
    TextFrame,

    #[error("message too big: limit is {limit} bytes")]
    MessageTooBig { limit: usize },

    #[error("lagging; reconnect to resync")]
    Lagging,

    #[error("idle: no answer to pings for {seconds} s")]
    Idle { seconds: u64 },

    #[error("too many connections from this address (limit {limit})")]
    TooManyConnections { limit: usize },

    #[error("relay shutting down")]
    ShuttingDown,

    #[error("could not load incident: {0}")]
    Load(String),

    #[error("could not store update; reconnect to resync")]
    StoreFailed,

    #[error("room reset after an internal error; reconnect to resync")]
    RoomReset,

    #[error("room is gone; reconnect")]
    RoomGone,

    #[error("storage: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("storage: {0}")]
    Storage(String),

    /// The storage server (PostgreSQL) is not answering: nothing is taken until it is back.
    /// The cause is logged where it is seen, not sent to clients.
    #[error("storage unavailable, nothing was lost: retry")]
    StorageUnavailable,

    #[error("this incident was deleted by its owner")]
    IncidentDeleted,

    #[error("listening on {listen}, which other machines can reach, would let anyone create incidents: set --create-secret (FIREBREAK_CREATE_SECRET), or pass --open-creation (FIREBREAK_OPEN_CREATION=true) to allow that")]
    OpenCreation { listen: String },

    #[error("invite revoked by {0}")]
    RevokedBy(String),

    #[error(
        "the incident's last owner cannot be demoted or revoked: make someone else owner first"
    )]
    LastOwner,

    #[error("an invite becomes owner only once its holder has opened it (an owner's link then stays on their device)")]
    NotOpenedYet,

    #[error("your access to this incident was changed by an owner; reconnect")]
    RoleChanged,

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("viewers see neither who changed what nor past states: the history is for the owner and editors")]
    HistoryNotForViewers,

    #[error("{0}")]
    HistoryUnavailable(String),

    #[error("this playbook is not shared with your team")]
    NotSharedWithTeam,

    #[error("playbook no longer shared with your team: unshared by {0}")]
    UnsharedBy(String),

    #[error("a team is not a document: open the playbooks shared with it")]
    TeamNotADocument,

    #[error("teams are for playbooks only: an incident is shared invite by invite")]
    TeamsForPlaybooksOnly,

    #[error("unknown team")]
    UnknownTeam,

    #[error("only the team's owner can do this")]
    NotTeamOwner,

    #[error("only the playbook's owner can share it with a team or stop sharing it")]
    NotPlaybookOwner,

    #[error("a team's viewers cannot share playbooks with it: ask the team's owner")]
    TeamViewerCannotShare,

    /// An evidence attachment refused (`http/blobs.rs`), with its status.
    #[error("{1}")]
    Attachment(StatusCode, String),
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidIncidentId => StatusCode::BAD_REQUEST,
            Error::NotWebSocket(_) => StatusCode::UPGRADE_REQUIRED,
            Error::NotFound | Error::UnknownInvite | Error::IncidentDeleted => {
                StatusCode::NOT_FOUND
            }
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::MissingSecret | Error::CreateSecretRequired => StatusCode::UNAUTHORIZED,
            Error::UnknownSecret
            | Error::NotOwner
            | Error::MetricsRefused
            | Error::Protocol(ProtocolError::ReadOnly) => StatusCode::FORBIDDEN,
            Error::Revoked | Error::RevokedBy(_) | Error::Expired => StatusCode::GONE,
            Error::LastOwner | Error::NotOpenedYet => StatusCode::CONFLICT,
            Error::RoleChanged => StatusCode::PRECONDITION_FAILED,
            Error::SlowDown { .. } | Error::TooManyIncidents { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Error::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::IncidentExists | Error::OwnerNotRevocable => StatusCode::CONFLICT,
            Error::InUseElsewhere => StatusCode::CONFLICT,
            Error::DeviceRequired => StatusCode::PRECONDITION_REQUIRED,
            Error::Protocol(_) | Error::TextFrame => StatusCode::BAD_REQUEST,
            Error::MessageTooBig { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Lagging
            | Error::ShuttingDown
            | Error::RoomGone
            | Error::Idle { .. }
            | Error::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooManyConnections { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Load(_)
            | Error::StoreFailed
            | Error::RoomReset
            | Error::Sqlite(_)
            | Error::Storage(_)
            | Error::OpenCreation { .. }
            | Error::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Error::HistoryNotForViewers => StatusCode::FORBIDDEN,
            Error::HistoryUnavailable(_) => StatusCode::GONE,
            Error::NotSharedWithTeam
            | Error::TeamNotADocument
            | Error::NotTeamOwner
            | Error::NotPlaybookOwner
            | Error::TeamViewerCannotShare => StatusCode::FORBIDDEN,
            Error::UnsharedBy(_) => StatusCode::GONE,
            Error::TeamsForPlaybooksOnly => StatusCode::BAD_REQUEST,
            Error::UnknownTeam => StatusCode::NOT_FOUND,
            Error::Attachment(status, _) => *status,
        }
    }

    /// The websocket close this error closes a connection with.
    pub fn close(&self) -> Close {
        match self {
            Error::MissingSecret => Close::MissingSecret,
            Error::UnknownSecret | Error::NotOwner | Error::MetricsRefused => Close::UnknownSecret,
            Error::Protocol(ProtocolError::ReadOnly) => Close::ReadOnly,
            Error::Revoked | Error::RevokedBy(_) => Close::Revoked,
            Error::RoleChanged => Close::RoleChanged,
            Error::Expired => Close::Expired,
            Error::SlowDown { .. } => Close::SlowDown,
            Error::InUseElsewhere => Close::InUseElsewhere,
            Error::DeviceRequired => Close::DeviceRequired,
            Error::IncidentDeleted => Close::Deleted,
            Error::Protocol(_)
            | Error::TextFrame
            | Error::InvalidIncidentId
            | Error::BadRequest(_)
            | Error::NotJson => Close::UnsupportedData,
            Error::MessageTooBig { .. } => Close::MessageTooBig,
            Error::Lagging => Close::TryAgainLater,
            Error::Idle { .. } => Close::GoingAway,
            Error::TooManyConnections { .. } => Close::PolicyViolation,
            Error::TooManyIncidents { .. } => Close::SlowDown,
            Error::ShuttingDown | Error::RoomGone => Close::GoingAway,
            Error::NotWebSocket(_)
            | Error::NotFound
            | Error::CreateSecretRequired
            | Error::IncidentExists
            | Error::UnknownInvite
            | Error::OwnerNotRevocable
            | Error::LastOwner
            | Error::NotOpenedYet
            | Error::Load(_)
            | Error::StoreFailed
            | Error::RoomReset
            | Error::Sqlite(_)
            | Error::Storage(_)
            | Error::OpenCreation { .. }
            | Error::Io { .. } => Close::InternalError,
            Error::HistoryNotForViewers => Close::UnknownSecret,
            Error::HistoryUnavailable(_) => Close::InternalError,
            Error::NotSharedWithTeam
            | Error::TeamNotADocument
            | Error::NotTeamOwner
            | Error::NotPlaybookOwner
            | Error::TeamViewerCannotShare
            | Error::UnknownTeam => Close::UnknownSecret,
            Error::UnsharedBy(_) => Close::Revoked,
            Error::TeamsForPlaybooksOnly => Close::UnsupportedData,
            Error::StorageUnavailable => Close::StorageUnavailable,
            Error::Attachment(..) => Close::UnsupportedData,
        }
    }

    /// The websocket close code this error closes a connection with.
    pub fn close_code(&self) -> u16 {
        self.close().code()
    }

    /// The close reason: this error's message cut to the 123 bytes a close frame can carry.
    pub fn close_reason(&self) -> String {
        truncate_reason(self.to_string())
    }
}

/// Cuts `reason` to at most [`MAX_CLOSE_REASON_BYTES`] on a character boundary.
pub fn truncate_reason(mut reason: String) -> String {
    if reason.len() > MAX_CLOSE_REASON_BYTES {
        let mut end = MAX_CLOSE_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = Json(ErrorBody {
            error: self.to_string(),
        });
        let mut response = (status, body).into_response();
        if let Error::SlowDown { retry_after_secs } | Error::TooManyIncidents { retry_after_secs } =
            self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = Error::Load("é".repeat(200));
        let reason = long.close_reason();
        assert!(reason.len() <= MAX_CLOSE_REASON_BYTES);
        assert!(reason.starts_with("could not load incident: é"));
    }

    #[test]
    fn bad_input_maps_to_client_errors() {
        assert_eq!(Error::InvalidIncidentId.status(), StatusCode::BAD_REQUEST);
        assert_eq!(Error::TextFrame.close(), Close::UnsupportedData);
        assert_eq!(Error::Lagging.close_code(), 1013);
        assert_eq!(Error::MessageTooBig { limit: 1 }.close_code(), 1009);
    }
}
