//! Websocket close codes the relay ends a sync connection with (RFC 6455 section 7.4.1 for
//! the 1xxx codes; the 44xx codes mirror the HTTP status of the same refusal), and what a
//! client should do after each.

/// Every close code the relay sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Close {
    /// 1001: the relay is shutting down, or the connection was silent too long.
    GoingAway,
    /// 1003: the message was not understood (text frame, malformed sync message, rejected update).
    UnsupportedData,
    /// 1008: too many connections from one address.
    PolicyViolation,
    /// 1009: the message is larger than the relay accepts.
    MessageTooBig,
    /// 1011: the relay failed (storage, load, room reset); reconnecting resyncs.
    InternalError,
    /// 1013: the peer fell too far behind the room; reconnecting resyncs.
    TryAgainLater,
    /// 4401: no secret was given: the incident is invite-only.
    MissingSecret,
    /// 4403: the secret is not valid for this incident (wrong, unknown, or another incident's;
    /// a team's token on a playbook not shared with the team, on an incident, or on the team).
    UnknownSecret,
    /// 4405: a viewer sent a change; it was not applied.
    ReadOnly,
    /// 4410: the invite was revoked (also sent to its open connections when it is revoked;
    /// also to a team member's connections to a playbook unshared from the team).
    Revoked,
    /// 4411: the invite has expired.
    Expired,
    /// 4429: too many failed attempts from this address; the reason says how long to wait.
    SlowDown,
    /// 4409: the invite is bound to another device (the first that opened it); the attempt
    /// is shown to the owner, who can re-issue the link.
    InUseElsewhere,
    /// 4428: an invite was opened without a device id (`?device=`, or the app's subprotocol).
    DeviceRequired,
    /// 4404: the incident was deleted by its owner (also sent to its open connections when
    /// it is deleted). Nothing of it is on the relay any more.
    Deleted,
    /// 4412: an owner changed this invite's access level (say, editor to viewer). Not a
    /// refusal: the app asks the relay what its token is now and reconnects in the new
    /// role; a stock client reconnects, and the relay applies the new role.
    RoleChanged,
    /// 4503: the relay's storage (PostgreSQL) is not answering, so it takes no changes:
    /// nothing that was confirmed is lost, and what was not confirmed is still on the
    /// device. Reconnect with the usual backoff; the state-vector exchange sends it again.
    StorageUnavailable,
}

/// What a client does once the relay closed its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterClose {
    /// Reconnect with the usual backoff; the state-vector exchange on reconnect resyncs.
    Reconnect,
    /// Reconnect no sooner than this many seconds from now.
    ReconnectAfter { seconds: u32 },
    /// Stop for good: the relay refused this device; reconnecting would be refused again.
    /// Also after [`Close::RoleChanged`], for a client that can ask what its token is now
    /// before it connects again (the app); see [`Close::after`].
    Stop(Close),
}

impl Close {
    pub const ALL: [Close; 17] = [
        Close::GoingAway,
        Close::UnsupportedData,
        Close::PolicyViolation,
        Close::MessageTooBig,
        Close::InternalError,
        Close::TryAgainLater,
        Close::MissingSecret,
        Close::UnknownSecret,
        Close::ReadOnly,
        Close::Revoked,
        Close::Expired,
        Close::SlowDown,
        Close::InUseElsewhere,
        Close::DeviceRequired,
        Close::Deleted,
        Close::RoleChanged,
        Close::StorageUnavailable,
    ];

    /// The numeric code on the wire.
    pub fn code(self) -> u16 {
        match self {
            Close::GoingAway => 1001,
            Close::UnsupportedData => 1003,
            Close::PolicyViolation => 1008,
            Close::MessageTooBig => 1009,
            Close::InternalError => 1011,
            Close::TryAgainLater => 1013,
            Close::MissingSecret => 4401,
            Close::UnknownSecret => 4403,
            Close::ReadOnly => 4405,
            Close::Revoked => 4410,
            Close::Expired => 4411,
            Close::SlowDown => 4429,
            Close::InUseElsewhere => 4409,
            Close::DeviceRequired => 4428,
            Close::Deleted => 4404,
            Close::RoleChanged => 4412,
            Close::StorageUnavailable => 4503,
        }
    }

    /// The close with this numeric code, if the relay sends it.
    pub fn from_code(code: u16) -> Option<Close> {
        Close::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether this close is a refusal of the device's access: reconnecting with the same
    /// token would be refused again, so a client stops.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Close::MissingSecret
                | Close::UnknownSecret
                | Close::ReadOnly
                | Close::Revoked
                | Close::Expired
                | Close::InUseElsewhere
                | Close::DeviceRequired
                | Close::Deleted
        )
    }

    /// What a client does after the relay closed with `code` and `reason`. Codes the relay
    /// does not send (a proxy's, the browser's 1006 for a cut connection) reconnect.
    pub fn after(code: u16, reason: &str) -> AfterClose {
        match Close::from_code(code) {
            Some(close) if close.is_refusal() => AfterClose::Stop(close),
            // The token still works, in another role: stop, learn the role, connect again.
            Some(Close::RoleChanged) => AfterClose::Stop(Close::RoleChanged),
            Some(Close::SlowDown) => match wait_seconds(reason) {
                Some(seconds) => AfterClose::ReconnectAfter { seconds },
                None => AfterClose::Reconnect,
            },
            _ => AfterClose::Reconnect,
        }
    }
}

/// The seconds a 4429 close reason ("… wait N s") asks to wait.
pub fn wait_seconds(reason: &str) -> Option<u32> {
    let after = &reason[reason.find("wait")? + 4..];
    let digits: String = after
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for close in Close::ALL {
            assert_eq!(Close::from_code(close.code()), Some(close));
        }
        let mut codes: Vec<u16> = Close::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Close::ALL.len());
        assert_eq!(Close::from_code(1006), None);
    }

    #[test]
    fn refusals_stop_and_everything_else_reconnects() {
        for code in [4401, 4403, 4404, 4405, 4409, 4410, 4411, 4428] {
            assert!(matches!(Close::after(code, ""), AfterClose::Stop(c) if c.code() == code));
        }
        assert!(!Close::RoleChanged.is_refusal());
        assert_eq!(Close::after(4412, ""), AfterClose::Stop(Close::RoleChanged));
        for code in [1000, 1001, 1003, 1006, 1008, 1009, 1011, 1013, 4000, 4503] {
            assert_eq!(Close::after(code, "whatever"), AfterClose::Reconnect);
        }
    }

    #[test]
    fn slow_down_waits_as_long_as_the_reason_asks() {
        assert_eq!(
            Close::after(4429, "too many failed attempts; wait 37 s"),
            AfterClose::ReconnectAfter { seconds: 37 }
        );
        assert_eq!(Close::after(4429, "slow down"), AfterClose::Reconnect);
        assert_eq!(wait_seconds("wait 5 s"), Some(5));
        assert_eq!(wait_seconds("no number"), None);
    }
}
