//! Who may open an incident: invite-only access.
//!
//! Every incident has one owner grant (created with the incident) and any number of invites,
//! each a [`Grant`] with a role (a [`wire::Access`]). A person holds a [`Token`]: the grant's public id and a
//! 128-bit secret. The relay keeps only the secret's SHA-256 and compares hashes in constant
//! time. This module is pure (no I/O, no clock: times are passed in); [`gate`] is the
//! service the HTTP handlers use, and [`limiter`] slows down repeated failures.

pub mod gate;
pub mod limiter;

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wire::Access;

use crate::error::Error;
use crate::incident_id::IncidentId;

/// Bytes of randomness in an invite id (public) and in a secret.
const INVITE_ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 16;

/// Longest invited name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// The public id of a grant: 16 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InviteId(String);

impl InviteId {
    pub fn parse(raw: &str) -> Option<InviteId> {
        is_hex(raw, INVITE_ID_BYTES * 2).then(|| InviteId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InviteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The SHA-256 of a secret: all the relay stores.
pub type SecretHash = [u8; 32];

/// What a person holds: `{invite}.{secret}`, the secret 32 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub invite: InviteId,
    secret: [u8; SECRET_BYTES],
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret, not even in a debug log.
        write!(f, "Token({}.…)", self.invite)
    }
}

impl Token {
    /// A fresh grant id and secret from the operating system's random source.
    pub fn generate() -> Result<Token, Error> {
        let mut id = [0u8; INVITE_ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut id)
            .and_then(|()| getrandom::fill(&mut secret))
            .map_err(|e| Error::Storage(format!("no random source for secrets: {e}")))?;
        Ok(Token {
            invite: InviteId(hex(&id)),
            secret,
        })
    }

    /// Parses `{invite}.{secret}`; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Token> {
        let (invite, secret) = raw.trim().split_once('.')?;
        let invite = InviteId::parse(invite)?;
        if !is_hex(secret, SECRET_BYTES * 2) {
            return None;
        }
        let mut bytes = [0u8; SECRET_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&secret[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Token {
            invite,
            secret: bytes,
        })
    }

    /// The token as the holder sees it. Only ever shown once, when it is created.
    pub fn reveal(&self) -> String {
        format!("{}.{}", self.invite, hex(&self.secret))
    }

    pub fn secret_hash(&self) -> SecretHash {
        Sha256::digest(self.secret).into()
    }
}

/// A device's id as the app sends it: 16 to 64 of `A-Za-z0-9_-` (the app's is 26 characters
/// of 128 random bits). The relay keeps only its SHA-256 ([`DeviceId::hash`]).
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceId(String);

/// Shortest and longest device id accepted.
pub const DEVICE_ID_CHARS: std::ops::RangeInclusive<usize> = 16..=64;

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A device id works like a second secret for its invite: never printed.
        f.write_str("DeviceId(…)")
    }
}

impl DeviceId {
    pub fn parse(raw: &str) -> Result<DeviceId, Error> {
        let raw = raw.trim();
        let valid = DEVICE_ID_CHARS.contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(DeviceId(raw.to_owned()))
        } else {
            Err(Error::DeviceRequired)
        }
    }

    pub fn hash(&self) -> SecretHash {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// A role on one incident, given to one named person (or the owner's device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub invite: InviteId,
    pub incident: IncidentId,
    pub name: String,
    pub role: Access,
    pub secret_hash: SecretHash,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub last_seen_at_ms: Option<i64>,
    /// The SHA-256 of the id of the device that first opened this invite: only that device
    /// may use it. The creator's owner grant (and its rotations) is never bound; an invite
    /// made owner keeps its device.
    pub device_hash: Option<SecretHash>,
    /// How often another device tried to open this invite, and when it last did.
    pub other_device_attempts: u32,
    pub other_device_last_at_ms: Option<i64>,
    /// The name on the owner grant that made this invite (shown on the invited person's
    /// join screen); `None` for owner grants and for invites made before it was recorded.
    pub invited_by: Option<String>,
    /// Set only on a grant [`gate::Gate::authorize`] made for a team member opening a
    /// playbook shared with their team: which team, and the member's role on it. Never stored.
    pub via_team: Option<ViaTeam>,
}

/// How a team member reaches a playbook: through this team, where they hold this role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaTeam {
    pub team: IncidentId,
    pub role: Access,
}

/// Longest team name, in characters.
pub const MAX_TEAM_NAME_CHARS: usize = 80;

/// Longest playbook name a team's list keeps (the name when it was shared, cut to this).
pub const MAX_SHARED_NAME_CHARS: usize = 120;

/// A team: a name and its members, who are grants whose `incident` is the team's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: IncidentId,
    pub name: String,
    pub created_at_ms: i64,
}

/// A playbook shared with a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamShare {
    pub playbook: IncidentId,
    pub team: IncidentId,
    /// The playbook's name when it was shared.
    pub playbook_name: String,
    /// The name of the playbook owner who shared it.
    pub shared_by: String,
    pub shared_at_ms: i64,
}

/// The role a team member has on a playbook shared with the team: never more than their
/// role on the team, and never owner (the team's owner edits the team's playbooks).
pub fn team_role_on_playbook(team_role: Access) -> Access {
    match team_role {
        Access::Owner | Access::Editor => Access::Editor,
        Access::Viewer => Access::Viewer,
    }
}

impl Grant {
    /// A new grant for `token`'s id and secret.
    pub fn new(
        token: &Token,
        incident: &IncidentId,
        name: &str,
        role: Access,
        now_ms: i64,
    ) -> Self {
        Grant {
            invite: token.invite.clone(),
            incident: incident.clone(),
            name: name.to_owned(),
            role,
            secret_hash: token.secret_hash(),
            created_at_ms: now_ms,
            expires_at_ms: None,
            revoked_at_ms: None,
            last_seen_at_ms: None,
            device_hash: None,
            other_device_attempts: 0,
            other_device_last_at_ms: None,
            invited_by: None,
            via_team: None,
        }
    }
}

/// Decides whether `token` opens `incident`, given the stored grant with the token's id.
///
/// The secret is checked first (in constant time), so "revoked" and "expired" are only ever
/// told to someone who holds the real secret; everyone else learns only "unknown".
pub fn check(
    stored: Option<Grant>,
    token: &Token,
    incident: &IncidentId,
    now_ms: i64,
) -> Result<Grant, Error> {
    let Some(grant) = stored else {
        // Hash anyway, so an unknown id takes as long as a wrong secret.
        let _ = token.secret_hash().ct_eq(&[0u8; 32]);
        return Err(Error::UnknownSecret);
    };
    let secret_matches: bool = token.secret_hash().ct_eq(&grant.secret_hash).into();
    if !secret_matches || &grant.incident != incident {
        return Err(Error::UnknownSecret);
    }
    if grant.revoked_at_ms.is_some() {
        return Err(Error::Revoked);
    }
    if grant.expires_at_ms.is_some_and(|at| now_ms >= at) {
        return Err(Error::Expired);
    }
    Ok(grant)
}

/// Trims and checks an invited person's name.
pub fn clean_name(raw: &str) -> Result<String, Error> {
    clean_text(raw, "name", "the invited person's name", MAX_NAME_CHARS)
}

/// Trims and checks a team's name, by the same rules as a person's.
pub fn clean_team_name(raw: &str) -> Result<String, Error> {
    clean_text(raw, "name", "the team's name", MAX_TEAM_NAME_CHARS)
}

fn clean_text(raw: &str, field: &str, what: &str, max_chars: usize) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::BadRequest(format!("{field}: give {what}")));
    }
    if name.chars().count() > max_chars {
        return Err(Error::BadRequest(format!(
            "{field}: at most {max_chars} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!("{field}: no control characters")));
    }
    if name.chars().any(is_invisible) {
        return Err(Error::BadRequest(format!(
            "{field}: no invisible or text-direction characters"
        )));
    }
    Ok(name.to_owned())
}

/// Characters that show nothing, or turn the text around them: a name made with them can
/// pass for someone else's ("Alice" and "Al\u{200B}ice" look the same; a right-to-left
/// override makes "Bob\u{202E}rotide" read "Bobeditor").
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Constant-time equality of two secrets given as text (the relay's creation secret).
pub fn same_secret(given: &str, expected: &str) -> bool {
    let given: SecretHash = Sha256::digest(given.as_bytes()).into();
    let expected: SecretHash = Sha256::digest(expected.as_bytes()).into();
    given.ct_eq(&expected).into()
}

fn is_hex(raw: &str, len: usize) -> bool {
    raw.len() == len
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(raw: &str) -> IncidentId {
        IncidentId::parse(raw).unwrap()
    }

    #[test]
    fn tokens_round_trip_and_are_random() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_ne!(a.reveal(), b.reveal());
        assert_eq!(Token::parse(&a.reveal()), Some(a.clone()));
        let shown = a.reveal();
        assert_eq!(shown.len(), 16 + 1 + 32);
        assert!(
            !format!("{a:?}").contains(&shown[17..]),
            "debug hides the secret"
        );
    }

    #[test]
    fn malformed_tokens_are_not_parsed() {
        for bad in [
            "",
            "abc",
            "0123456789abcdef",
            "0123456789abcdef.",
            "0123456789abcdef.0123",
            "0123456789ABCDEF.00112233445566778899aabbccddeeff",
            "0123456789abcdeg.00112233445566778899aabbccddeeff",
            "0123456789abcdef.00112233445566778899aabbccddeeff.00",
            "0123456789abcdef:00112233445566778899aabbccddeeff",
        ] {
            assert_eq!(Token::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn check_tells_revoked_and_expired_only_to_holders_of_the_secret() {
        let inc = incident("inc-a");
        let token = Token::generate().unwrap();
        let grant = Grant::new(&token, &inc, "Bob", Access::Editor, 1_000);
        let ok = check(Some(grant.clone()), &token, &inc, 2_000).unwrap();
        assert_eq!(ok.role, Access::Editor);

        let wrong = Token::parse(&format!("{}.{}", token.invite, "0".repeat(32))).unwrap();
        let other_incident = incident("inc-b");
        let revoked = Grant {
            revoked_at_ms: Some(1_500),
            ..grant.clone()
        };
        let expired = Grant {
            expires_at_ms: Some(2_000),
            ..grant.clone()
        };
        let cases = [
            (None, &token, &inc, "unknown"),
            (Some(grant.clone()), &wrong, &inc, "unknown"),
            (Some(grant.clone()), &token, &other_incident, "unknown"),
            (Some(revoked.clone()), &wrong, &inc, "unknown"),
            (Some(expired.clone()), &wrong, &inc, "unknown"),
            (Some(revoked), &token, &inc, "revoked"),
            (Some(expired), &token, &inc, "expired"),
        ];
        for (stored, given, at, expected) in cases {
            let got = match check(stored, given, at, 2_000) {
                Err(Error::UnknownSecret) => "unknown",
                Err(Error::Revoked) => "revoked",
                Err(Error::Expired) => "expired",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(got, expected);
        }
        assert!(check(Some(grant), &token, &inc, 1_999).is_ok());
    }

    #[test]
    fn device_ids_are_checked_and_never_printed() {
        let id = DeviceId::parse("0123456789abcdefghjkmnpqrs").unwrap();
        assert!(!format!("{id:?}").contains("0123"));
        assert_eq!(
            id.hash(),
            DeviceId::parse(" 0123456789abcdefghjkmnpqrs ")
                .unwrap()
                .hash()
        );
        assert_ne!(
            id.hash(),
            DeviceId::parse("0123456789abcdefghjkmnpqrt")
                .unwrap()
                .hash()
        );
        for bad in [
            "",
            "short",
            &"x".repeat(65),
            "0123456789abcdef ghij",
            "0123456789abcdef.ghij",
        ] {
            assert!(
                matches!(DeviceId::parse(bad), Err(Error::DeviceRequired)),
                "{bad:?}"
            );
        }
        assert!(DeviceId::parse("Stock_client-0001").is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Bob  ").unwrap(), "Bob");
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(clean_name("a\u{7}b").is_err());
        assert!(clean_name(&"é".repeat(MAX_NAME_CHARS)).is_ok());
        for spoof in [
            "Al\u{200B}ice",
            "Bob\u{202E}rotide",
            "\u{2066}Carol\u{2069}",
            "Dave\u{FEFF}",
            "E\u{00AD}ve",
            "\u{E0041}Mallory",
            "Line\u{2028}break",
        ] {
            assert!(
                matches!(clean_name(spoof), Err(Error::BadRequest(ref m)) if m.contains("invisible")),
                "{spoof:?} is refused"
            );
        }
        for fine in ["José Müller", "李小龍", "Zoë O'Brien-Smith", "محمد"] {
            assert_eq!(clean_name(fine).unwrap(), fine);
        }
    }

    #[test]
    fn creation_secret_comparison() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret ", "s3cret"));
        assert!(!same_secret("", "s3cret"));
    }
}
