//! What an invite lets its holder do on one incident.
//!
//! Not to be confused with the incident's own roles (incident commander, deputy, scribe,
//! comms liaison: `incident::Role`), which say who does what in the response, not who may
//! read or change the document.

use serde::{Deserialize, Serialize};

/// The access level an invite grants. Written in JSON as `"owner"`, `"editor"`, `"viewer"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Reads, writes, invites, revokes and changes roles. Whoever created the incident is its
    /// first owner; any owner can make an invited person owner too (co-owners). The last
    /// owner cannot be demoted or revoked.
    Owner,
    /// Reads and writes.
    Editor,
    /// Reads only; a change sent by a viewer is refused (close code 4405).
    Viewer,
}

impl Access {
    pub const ALL: [Access; 3] = [Access::Owner, Access::Editor, Access::Viewer];

    /// The name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Owner => "owner",
            Access::Editor => "editor",
            Access::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// Owners and editors change the incident; viewers only read it.
    pub fn may_write(self) -> bool {
        self != Access::Viewer
    }

    /// Only owners invite, list, revoke and change roles.
    pub fn may_invite(self) -> bool {
        self == Access::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_viewers_cannot_write() {
        for access in Access::ALL {
            assert_eq!(Access::parse(access.as_str()), Some(access));
        }
        assert_eq!(Access::parse("admin"), None);
        assert_eq!(Access::parse("Owner"), None);
        assert!(Access::Owner.may_write() && Access::Editor.may_write());
        assert!(!Access::Viewer.may_write());
        assert!(Access::Owner.may_invite() && !Access::Editor.may_invite());
    }
}
