//! The bodies of the relay's HTTP API (`/api/incidents/…`), as both sides read and write
//! them. Times are milliseconds since the Unix epoch, as integers; a time that has not
//! happened (never expires, never revoked, never seen) is `null`, never left out.
//!
//! Fields are declared in alphabetical order. That is the order the relay wrote them in
//! before these types existed (it built `serde_json` maps, which sort their keys), so the
//! bytes on the wire did not change when they came; the tests below pin them.

use serde::{Deserialize, Serialize};

use crate::Access;

/// `POST /api/incidents`: register an incident. Both fields may be left out (an empty body
/// is the same as `{}`): the relay then picks an id, and the owner is named "Owner".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateIncident {
    /// The id to register: an incident made on a device is registered under its local id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The owner's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// 201 to [`CreateIncident`]: the owner's grant, and the only time its token is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentCreated {
    pub incident: String,
    pub invite: String,
    pub name: String,
    /// Always [`Access::Owner`].
    pub role: Access,
    pub token: String,
}

/// `POST /api/incidents/{id}/invites` (owner): invite a person by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateInvite {
    /// How long the invite works, in hours (above 0, at most 8784; fractions allowed).
    /// Left out: it works until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<f64>,
    pub name: String,
    /// `"editor"` or `"viewer"` (see [`Access::as_str`]). Text rather than an [`Access`] so
    /// that the relay, not the JSON parser, answers any other value, in its own words.
    pub role: String,
}

/// One grant as the owner's list shows it: never its secret. Also the answer to
/// `DELETE /api/incidents/{id}/invites/{invite}` (the revoked grant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// Connections open right now with this grant.
    pub connected: u32,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Wrong secrets that named this grant since the relay started: someone is guessing.
    #[serde(default)]
    pub failed_attempts: u32,
    /// The grant's public id (the part of its token before the dot).
    pub invite: String,
    pub last_seen_at: Option<i64>,
    pub name: String,
    /// Times another device than the one the invite is bound to tried to open it: the link
    /// was passed on (the owner can re-issue it).
    #[serde(default)]
    pub other_device_attempts: u32,
    /// When another device last tried it.
    #[serde(default)]
    pub other_device_last_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub role: Access,
}

/// 200 to `GET /api/incidents/{id}/invites` (owner): every grant, the owner's first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InviteList {
    pub invites: Vec<Invite>,
}

/// 201 to [`CreateInvite`]: the new grant as [`Invite`] shows it, plus its token and the
/// link that carries it; the only time either is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewInvite {
    pub connected: u32,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub failed_attempts: u32,
    pub invite: String,
    pub last_seen_at: Option<i64>,
    /// `{public url}/incident/{id}#invite={token}`; without a public URL, the relay's listen
    /// address, or just `/incident/{id}#invite={token}` when it listens on every address.
    pub link: String,
    pub name: String,
    #[serde(default)]
    pub other_device_attempts: u32,
    #[serde(default)]
    pub other_device_last_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub role: Access,
    pub token: String,
}

impl NewInvite {
    /// The answer for a grant just made.
    pub fn new(invite: Invite, token: String, link: String) -> NewInvite {
        let Invite {
            connected,
            created_at,
            expires_at,
            failed_attempts,
            invite,
            last_seen_at,
            name,
            other_device_attempts,
            other_device_last_at,
            revoked_at,
            role,
        } = invite;
        NewInvite {
            connected,
            created_at,
            expires_at,
            failed_attempts,
            invite,
            last_seen_at,
            link,
            name,
            other_device_attempts,
            other_device_last_at,
            revoked_at,
            role,
            token,
        }
    }
}

/// 200 to `GET /api/incidents/{id}/me` (any valid token): what the token is, and the
/// relay's largest attachment (`--max-attachment-bytes`; absent from a relay that predates
/// it, read as `None`: the app keeps the last value it was told, else 10 MiB).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub expires_at: Option<i64>,
    pub incident: String,
    pub invite: String,
    pub name: String,
    pub role: Access,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attachment_bytes: Option<u64>,
}

/// 200 to `GET /api/incidents/{id}/preview` (any valid token, an invite's on its own
/// device): what someone opening an invite link is shown before they open the incident, and
/// nothing more. `tlp` is the TLP 2.0 label (`"AMBER"`); `invited_by` is the name of the owner
/// who made the invite, `None` for an owner's own token and for invites made before the
/// relay recorded it. `drill`: the incident is a drill (a tabletop exercise); absent from a
/// relay that predates drills, read as false.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub classification: String,
    #[serde(default)]
    pub drill: bool,
    pub invited_by: Option<String>,
    pub role: Access,
    pub title: String,
    pub tlp: String,
}

/// `PATCH /api/incidents/{id}/invites/{invite}` (owner): give an invited person another
/// access level without re-inviting them. The answer is the grant as [`Invite`] shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeRole {
    /// `"owner"`, `"editor"` or `"viewer"`; text for the same reason as [`CreateInvite::role`].
    pub role: String,
}

/// One person invited to an incident, as every member may see them: no secret, no token,
/// no device or connection details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The grant's public id: what the incident's roles and next steps name them by.
    pub invite: String,
    pub name: String,
    pub role: Access,
}

/// 200 to `GET /api/incidents/{id}/people` (any member): the people who can open the
/// incident now (not revoked, not expired), owners first, then in invitation order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct People {
    pub people: Vec<Person>,
}

/// The body of every error answer, whatever its status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// One record of `GET /api/incidents/{id}/history`: an update the relay accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// The update's size.
    pub bytes: u64,
    /// The record's chain hash, hex.
    pub hash: String,
    /// The invite that sent it (`null` for none, e.g. an import).
    pub invite: Option<String>,
    /// That invite's name, as it was given (revoked or expired people keep theirs).
    pub name: Option<String>,
    /// When the relay received it.
    pub received_at: i64,
    /// 1, 2, 3… per incident.
    pub seq: u64,
    /// SHA-256 of the update's bytes, hex.
    pub update_sha256: String,
}

/// `GET /api/incidents/{id}/history`: one page of the record, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The last seq retention dropped, if it dropped any.
    pub dropped_through: Option<u64>,
    /// `?after=` for the next page; `null` on the last.
    pub next: Option<u64>,
    pub records: Vec<HistoryRecord>,
}

/// Who made a change and when, in `GET /api/incidents/{id}/history/attribution`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeStamp {
    /// The sending invite's name (revoked and expired people keep theirs); `null` for a
    /// record that came from no invite (an incident stored before the record existed).
    pub name: Option<String>,
    /// When the relay received it.
    pub received_at: i64,
    /// The record's seq.
    pub seq: u64,
    /// When the device says it was written, for changes made offline; `null` otherwise.
    pub written_at: Option<i64>,
}

/// Who created, last changed and (while it is deleted) deleted one entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryAuthorship {
    pub changed: ChangeStamp,
    pub created: ChangeStamp,
    pub deleted: Option<ChangeStamp>,
    /// The entry's id (for `meta`, the field's key; for a question list, the question's).
    pub id: String,
    /// The section's key: the document root (`timeline`, `indicators`, `next_steps`, …).
    pub section: String,
}

/// A run of a prose section's text and who typed it (`null`: the record does not say).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WrittenRun {
    pub by: Option<String>,
    pub text: String,
}

/// A prose section as it stands, in runs by who typed them; with who first wrote in it and
/// who last changed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProseAuthorship {
    pub changed: ChangeStamp,
    pub created: ChangeStamp,
    pub runs: Vec<WrittenRun>,
    /// The section's key (`summary`, `details`, …).
    pub section: String,
}

/// 200 to `GET /api/incidents/{id}/history/attribution` (owner and editors): who wrote
/// what, from the whole record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Entries, most recently changed first, at most the relay's bound.
    pub entries: Vec<EntryAuthorship>,
    /// How many entries the bound left out (the least recently changed).
    pub left_out: u64,
    pub prose: Vec<ProseAuthorship>,
    /// The last record replayed: the answer is as of it.
    pub through_seq: u64,
}

/// `POST /api/teams`: make a team, whose members open the playbooks shared with it. Needs
/// the relay's creation secret as the bearer token when it has one, like an incident.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateTeam {
    /// The team's name (1 to 80 characters).
    pub name: String,
    /// The owner's display name; left out: "Team owner".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
}

/// 201 to [`CreateTeam`]: the team owner's grant, and the only time its token is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamCreated {
    pub invite: String,
    /// The owner's name.
    pub name: String,
    /// Always [`Access::Owner`].
    pub role: Access,
    pub team: String,
    pub team_name: String,
    pub token: String,
}

/// `POST /api/incidents/{playbook}/teams` (the playbook's owner): share the playbook with a
/// team. `team_token` is a token of that team (its owner's or an editor member's): whoever
/// shares must be on the team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareWithTeam {
    pub team: String,
    pub team_token: String,
}

/// A playbook shared with a team: its name when it was shared, who shared it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamShare {
    pub playbook: String,
    pub playbook_name: String,
    pub shared_at: i64,
    pub shared_by: String,
    pub team: String,
    pub team_name: String,
}

/// 200 to `GET /api/incidents/{playbook}/teams` (the playbook's owner).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamShares {
    pub shares: Vec<TeamShare>,
}

/// 200 to `GET /api/teams/{team}` (any member): the team, the caller's place on it and the
/// playbooks shared with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    pub invite: String,
    /// The caller's name on the team.
    pub member_name: String,
    pub name: String,
    pub playbooks: Vec<TeamShare>,
    pub role: Access,
    pub team: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` serializes to exactly `json`, and `json` reads back as `value`.
    fn pinned<T>(value: &T, json: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(value).unwrap(), json);
        assert_eq!(&serde_json::from_str::<T>(json).unwrap(), value);
    }

    fn bob() -> Invite {
        Invite {
            connected: 2,
            created_at: 1_764_000_000_000,
            expires_at: None,
            failed_attempts: 3,
            invite: "0123456789abcdef".into(),
            last_seen_at: Some(1_764_000_360_000),
            name: "Bob".into(),
            other_device_attempts: 2,
            other_device_last_at: Some(1_764_000_720_000),
            revoked_at: None,
            role: Access::Editor,
        }
    }

    #[test]
    fn create_incident_leaves_out_what_is_not_given() {
        pinned(&CreateIncident::default(), "{}");
        pinned(
            &CreateIncident {
                incident: Some("inc-1".into()),
                name: Some("Alice".into()),
            },
            r#"{"incident":"inc-1","name":"Alice"}"#,
        );
        let null: CreateIncident = serde_json::from_str(r#"{"incident":null}"#).unwrap();
        assert_eq!(null, CreateIncident::default());
        pinned(
            &IncidentCreated {
                incident: "inc-1".into(),
                invite: "00112233aabbccdd".into(),
                name: "Alice".into(),
                role: Access::Owner,
                token: "00112233aabbccdd.ff".into(),
            },
            r#"{"incident":"inc-1","invite":"00112233aabbccdd","name":"Alice","role":"owner","token":"00112233aabbccdd.ff"}"#,
        );
    }

    #[test]
    fn create_invite_has_an_optional_lifetime_in_hours() {
        pinned(
            &CreateInvite {
                expires_in_hours: None,
                name: "Bob".into(),
                role: "editor".into(),
            },
            r#"{"name":"Bob","role":"editor"}"#,
        );
        pinned(
            &CreateInvite {
                expires_in_hours: Some(0.5),
                name: "Carol".into(),
                role: "viewer".into(),
            },
            r#"{"expires_in_hours":0.5,"name":"Carol","role":"viewer"}"#,
        );
        let whole: CreateInvite =
            serde_json::from_str(r#"{"name":"C","role":"viewer","expires_in_hours":72}"#).unwrap();
        assert_eq!(whole.expires_in_hours, Some(72.0));
        assert!(serde_json::from_str::<CreateInvite>(r#"{"role":"viewer"}"#).is_err());
    }

    #[test]
    fn invites_show_times_as_integers_and_unset_times_as_null() {
        pinned(
            &bob(),
            r#"{"connected":2,"created_at":1764000000000,"expires_at":null,"failed_attempts":3,"invite":"0123456789abcdef","last_seen_at":1764000360000,"name":"Bob","other_device_attempts":2,"other_device_last_at":1764000720000,"revoked_at":null,"role":"editor"}"#,
        );
        pinned(
            &InviteList {
                invites: vec![bob()],
            },
            &format!(
                r#"{{"invites":[{}]}}"#,
                serde_json::to_string(&bob()).unwrap()
            ),
        );
        pinned(&InviteList { invites: vec![] }, r#"{"invites":[]}"#);
    }

    #[test]
    fn a_new_invite_is_the_invite_with_its_token_and_link() {
        let new = NewInvite::new(
            Invite {
                connected: 0,
                failed_attempts: 0,
                last_seen_at: None,
                other_device_attempts: 0,
                other_device_last_at: None,
                expires_at: Some(1_764_259_200_000),
                ..bob()
            },
            "0123456789abcdef.00".into(),
            "http://h/incident/inc-1#invite=0123456789abcdef.00".into(),
        );
        pinned(
            &new,
            r#"{"connected":0,"created_at":1764000000000,"expires_at":1764259200000,"failed_attempts":0,"invite":"0123456789abcdef","last_seen_at":null,"link":"http://h/incident/inc-1#invite=0123456789abcdef.00","name":"Bob","other_device_attempts":0,"other_device_last_at":null,"revoked_at":null,"role":"editor","token":"0123456789abcdef.00"}"#,
        );
    }

    #[test]
    fn me_and_errors() {
        pinned(
            &Me {
                expires_at: None,
                incident: "inc-1".into(),
                invite: "0123456789abcdef".into(),
                name: "Val".into(),
                role: Access::Viewer,
                max_attachment_bytes: None,
            },
            r#"{"expires_at":null,"incident":"inc-1","invite":"0123456789abcdef","name":"Val","role":"viewer"}"#,
        );
        pinned(
            &Me {
                expires_at: None,
                incident: "inc-1".into(),
                invite: "0123456789abcdef".into(),
                name: "Val".into(),
                role: Access::Viewer,
                max_attachment_bytes: Some(1_048_576),
            },
            r#"{"expires_at":null,"incident":"inc-1","invite":"0123456789abcdef","name":"Val","role":"viewer","max_attachment_bytes":1048576}"#,
        );
        pinned(
            &ErrorBody {
                error: "invite revoked".into(),
            },
            r#"{"error":"invite revoked"}"#,
        );
        assert!(serde_json::from_str::<Me>(
            r#"{"expires_at":null,"incident":"i","invite":"x","name":"","role":"admin"}"#
        )
        .is_err());
    }

    #[test]
    fn preview_is_the_six_fields() {
        pinned(
            &Preview {
                classification: "Confidential".into(),
                drill: true,
                invited_by: Some("Alice".into()),
                role: Access::Viewer,
                title: "Payroll phishing".into(),
                tlp: "AMBER".into(),
            },
            r#"{"classification":"Confidential","drill":true,"invited_by":"Alice","role":"viewer","title":"Payroll phishing","tlp":"AMBER"}"#,
        );
        // From a relay that predates drills: a real incident.
        let old: Preview = serde_json::from_str(
            r#"{"classification":"C","invited_by":null,"role":"editor","title":"T","tlp":"AMBER"}"#,
        )
        .unwrap();
        assert!(!old.drill);
    }

    #[test]
    fn people_show_no_secrets_and_roles_change_by_name() {
        pinned(
            &People {
                people: vec![Person {
                    invite: "0123456789abcdef".into(),
                    name: "Bob".into(),
                    role: Access::Editor,
                }],
            },
            r#"{"people":[{"invite":"0123456789abcdef","name":"Bob","role":"editor"}]}"#,
        );
        pinned(
            &ChangeRole {
                role: "owner".into(),
            },
            r#"{"role":"owner"}"#,
        );
    }

    #[test]
    fn attribution_names_who_and_when() {
        let stamp = ChangeStamp {
            name: Some("Ana".into()),
            received_at: 1_764_000_000_000,
            seq: 3,
            written_at: None,
        };
        pinned(
            &Attribution {
                entries: vec![EntryAuthorship {
                    changed: stamp.clone(),
                    created: stamp.clone(),
                    deleted: None,
                    id: "e1".into(),
                    section: "timeline".into(),
                }],
                left_out: 0,
                prose: vec![ProseAuthorship {
                    changed: stamp.clone(),
                    created: stamp,
                    runs: vec![WrittenRun {
                        by: None,
                        text: "Hi".into(),
                    }],
                    section: "summary".into(),
                }],
                through_seq: 3,
            },
            r#"{"entries":[{"changed":{"name":"Ana","received_at":1764000000000,"seq":3,"written_at":null},"created":{"name":"Ana","received_at":1764000000000,"seq":3,"written_at":null},"deleted":null,"id":"e1","section":"timeline"}],"left_out":0,"prose":[{"changed":{"name":"Ana","received_at":1764000000000,"seq":3,"written_at":null},"created":{"name":"Ana","received_at":1764000000000,"seq":3,"written_at":null},"runs":[{"by":null,"text":"Hi"}],"section":"summary"}],"through_seq":3}"#,
        );
    }
}
