//! Small per-device preferences in localStorage: the responder's display name, this device's
//! id, the incidents opened here, how many local changes each has not yet seen confirmed by
//! the relay, and this device's access to each (its token from the relay, or that it was
//! created here and is not on the relay yet). Documents themselves never go here (see `store`;
//! read marks too, which an earlier Firebreak kept here, see `incident_page::catch_up`).

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::platform;

const NAME_KEY: &str = "firebreak.name";
const DEVICE_KEY: &str = "firebreak.device";
const INCIDENTS_KEY: &str = "firebreak.incidents";
const PENDING_PREFIX: &str = "firebreak.pending.";
const SYNCED_PREFIX: &str = "firebreak.synced.";
const ACCESS_PREFIX: &str = "firebreak.access.";
const UNPUBLISHED_PREFIX: &str = "firebreak.unpublished.";
const CREATE_SECRET_KEY: &str = "firebreak.create_secret";
const HANDOFFS_KEY: &str = "firebreak.show_role_handoffs";
const FOLDED_KEY: &str = "firebreak.folded";
const PLAYBOOKS_KEY: &str = "firebreak.playbooks";
const TEAMS_KEY: &str = "firebreak.teams";
const FILTERS_PREFIX: &str = "firebreak.filters.";
const ATTACHMENT_LIMIT_KEY: &str = "firebreak.max_attachment_bytes";

/// This device's grant on one incident: the token it shows the relay (`{invite}.{secret}`)
/// and, once the relay has said so, the role and the name the invite was made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub token: String,
    /// Stored as `"owner"`, `"editor"` or `"viewer"`.
    #[serde(default)]
    pub role: Option<wire::Access>,
    #[serde(default)]
    pub invite: String,
    #[serde(default)]
    pub name: String,
}

impl DeviceGrant {
    /// A token just taken from an invite link; the relay has not yet said what it allows.
    pub fn from_link(token: &str) -> DeviceGrant {
        DeviceGrant {
            token: token.to_string(),
            role: None,
            invite: token.split('.').next().unwrap_or_default().to_string(),
            name: String::new(),
        }
    }
}

/// An incident this device has opened, as shown on the home page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnownIncident {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub tlp: String,
    /// The incident's status key (open, contained, resolved, closed).
    #[serde(default)]
    pub status: String,
    /// Who is incident commander, as last seen here.
    #[serde(default)]
    pub commander: String,
    pub last_opened: String,
    /// When this device last saw the incident change (its own edits or others').
    #[serde(default)]
    pub last_change: String,
    /// The severity key (`sev1`…), empty when not set.
    #[serde(default)]
    pub severity: String,
    /// The incident type key (`ransomware`…), empty when not set.
    #[serde(default)]
    pub incident_type: String,
    /// Whether it is a drill (a tabletop exercise); absent in lists from before drills.
    #[serde(default)]
    pub drill: bool,
    /// The id of the playbook it started from, empty for a blank one.
    #[serde(default)]
    pub playbook: String,
}

/// A team's playbook on this device, as the playbooks page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnownPlaybook {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub version: u64,
}

/// A team this device is on: its token (the owner's, or a member's from a team link) and
/// what the relay last said of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnownTeam {
    pub id: String,
    pub name: String,
    pub token: String,
    #[serde(default)]
    pub role: Option<wire::Access>,
}

/// What the home page shows of an incident, read from its document.
pub struct Summary<'a> {
    pub title: &'a str,
    pub tlp: &'a str,
    pub status: &'a str,
    pub commander: &'a str,
    pub drill: bool,
    /// The severity's and the type's keys; empty: not set.
    pub severity: &'a str,
    pub incident_type: &'a str,
    /// The playbook it started from (`None` keeps what is kept), so a playbook's page finds
    /// the proposals of the incidents on this device that started from it.
    pub started_from: Option<&'a str>,
}

impl<'a> Summary<'a> {
    /// A new incident's, before its document says more: open, the default TLP, nobody
    /// commanding, no severity or type.
    pub fn fresh(title: &'a str, drill: bool) -> Self {
        Summary {
            title,
            tlp: incident::Tlp::default().as_str(),
            status: incident::IncidentStatus::Open.key(),
            commander: "",
            drill,
            severity: "",
            incident_type: "",
            started_from: None,
        }
    }
}

fn save<T: Serialize>(key: &str, value: &T) {
    if let Err(e) = LocalStorage::set(key, value) {
        platform::log_error(&format!("could not save preference {key}: {e}"));
    }
}

/// The name other responders see; empty until the person types one.
pub fn display_name() -> String {
    LocalStorage::get::<String>(NAME_KEY).unwrap_or_default()
}

pub fn set_display_name(name: &str) {
    save(NAME_KEY, &name);
}

/// This browser's stable id, created on first use.
pub fn device_id() -> String {
    match LocalStorage::get::<String>(DEVICE_KEY) {
        Ok(id) if !id.is_empty() => id,
        _ => {
            let id = platform::new_id();
            save(DEVICE_KEY, &id);
            id
        }
    }
}

/// Incidents opened on this device, most recently opened first.
pub fn known_incidents() -> Vec<KnownIncident> {
    let mut list = LocalStorage::get::<Vec<KnownIncident>>(INCIDENTS_KEY).unwrap_or_default();
    incident::sort::sort_by(&mut list, |a, b| b.last_opened.cmp(&a.last_opened));
    list
}

fn update_known(id: &str, f: impl FnOnce(&mut KnownIncident)) {
    let mut list = known_incidents();
    let index = match list.iter().position(|k| k.id == id) {
        Some(i) => i,
        None => {
            list.push(KnownIncident {
                id: id.to_string(),
                title: String::new(),
                tlp: String::new(),
                status: String::new(),
                commander: String::new(),
                last_opened: platform::now_rfc3339(),
                last_change: String::new(),
                severity: String::new(),
                incident_type: String::new(),
                drill: false,
                playbook: String::new(),
            });
            list.len() - 1
        }
    };
    let before = list[index].clone();
    f(&mut list[index]);
    if list[index] != before {
        save(INCIDENTS_KEY, &list);
    }
}

/// Remembers that the incident was opened now.
pub fn mark_opened(id: &str) {
    let now = platform::now_rfc3339();
    update_known(id, |k| k.last_opened = now);
}

/// Keeps the home page's copy of the incident current; `changed` also records that the
/// incident changed just now. The home page shows minutes, so the time is kept to the minute:
/// a stream of remote keystrokes rewrites the list at most once a minute, not per keystroke.
pub fn remember_summary(id: &str, summary: &Summary, changed: bool) {
    let now = changed.then(|| {
        let now = platform::now_rfc3339();
        match now.get(..16) {
            Some(minute) => format!("{minute}:00Z"),
            None => now,
        }
    });
    // One read of the list, and a write only when something differs: this runs at every
    // change of the incident, each keystroke included.
    update_known(id, |k| {
        k.title = summary.title.to_string();
        k.tlp = summary.tlp.to_string();
        k.status = summary.status.to_string();
        k.commander = summary.commander.to_string();
        k.drill = summary.drill;
        k.severity = summary.severity.to_string();
        k.incident_type = summary.incident_type.to_string();
        if let Some(playbook) = summary.started_from {
            k.playbook = playbook.to_string();
        }
        if let Some(now) = now {
            k.last_change = now;
        }
    });
}

/// The team's playbooks on this device, by name.
pub fn known_playbooks() -> Vec<KnownPlaybook> {
    let mut list = LocalStorage::get::<Vec<KnownPlaybook>>(PLAYBOOKS_KEY).unwrap_or_default();
    incident::sort::sort_by_key(&mut list, |a| a.name.to_lowercase());
    list
}

/// Lists the playbook `id` on this device under its current name and version.
pub fn remember_playbook(id: &str, name: &str, version: u64) {
    let mut list = known_playbooks();
    let known = KnownPlaybook {
        id: id.to_string(),
        name: name.to_string(),
        version,
    };
    match list.iter_mut().find(|k| k.id == id) {
        Some(k) if *k == known => return,
        Some(k) => *k = known,
        None => list.push(known),
    }
    save(PLAYBOOKS_KEY, &list);
}

/// The teams this device is on, by name.
pub fn known_teams() -> Vec<KnownTeam> {
    let mut list = LocalStorage::get::<Vec<KnownTeam>>(TEAMS_KEY).unwrap_or_default();
    list.sort_by_key(|t| t.name.to_lowercase());
    list
}

/// The team `id` as this device holds it.
pub fn team(id: &str) -> Option<KnownTeam> {
    known_teams().into_iter().find(|t| t.id == id)
}

/// Keeps `team` on this device (replacing what was kept for its id).
pub fn remember_team(team: &KnownTeam) {
    let mut list: Vec<KnownTeam> = known_teams()
        .into_iter()
        .filter(|t| t.id != team.id)
        .collect();
    list.push(team.clone());
    save(TEAMS_KEY, &list);
}

/// Local changes to the incident the relay has not confirmed yet.
pub fn pending(id: &str) -> u32 {
    LocalStorage::get::<u32>(&format!("{PENDING_PREFIX}{id}")).unwrap_or(0)
}

pub fn set_pending(id: &str, count: u32) {
    save(&format!("{PENDING_PREFIX}{id}"), &count);
}

/// A colour for this device's presence marker, stable per device.
pub fn presence_color() -> &'static str {
    const PALETTE: [&str; 8] = [
        "#c2185b", "#7b1fa2", "#303f9f", "#0277bd", "#00796b", "#558b2f", "#ef6c00", "#5d4037",
    ];
    let sum: usize = device_id().bytes().map(usize::from).sum();
    PALETTE[sum % PALETTE.len()]
}

/// When this device last had everything of the incident on the relay (RFC 3339), if ever.
pub fn last_synced(id: &str) -> Option<String> {
    LocalStorage::get::<String>(&format!("{SYNCED_PREFIX}{id}")).ok()
}

pub fn set_last_synced(id: &str, at: &str) {
    save(&format!("{SYNCED_PREFIX}{id}"), &at);
}

/// The relay's largest attachment, as it last said (`GET …/me`), if it ever did.
pub fn attachment_limit() -> Option<u64> {
    LocalStorage::get::<u64>(ATTACHMENT_LIMIT_KEY)
        .ok()
        .filter(|n| *n > 0)
}

pub fn set_attachment_limit(bytes: u64) {
    save(ATTACHMENT_LIMIT_KEY, &bytes);
}

/// This device's access to the incident, if it holds a token for it.
pub fn access(id: &str) -> Option<DeviceGrant> {
    LocalStorage::get::<DeviceGrant>(&format!("{ACCESS_PREFIX}{id}"))
        .ok()
        .filter(|a| !a.token.is_empty())
}

pub fn set_access(id: &str, access: &DeviceGrant) {
    save(&format!("{ACCESS_PREFIX}{id}"), access);
}

/// True while an incident made on this device waits to be registered on the relay.
pub fn unpublished(id: &str) -> bool {
    LocalStorage::get::<bool>(&format!("{UNPUBLISHED_PREFIX}{id}")).unwrap_or(false)
}

pub fn set_unpublished(id: &str, waiting: bool) {
    let key = format!("{UNPUBLISHED_PREFIX}{id}");
    if waiting {
        save(&key, &true);
    } else {
        LocalStorage::delete(&key);
    }
}

/// Forgets everything this device kept about the incident: it leaves the home page's list,
/// and its token, counts and flags go.
pub fn forget(id: &str) {
    let list: Vec<KnownIncident> = known_incidents()
        .into_iter()
        .filter(|k| k.id != id)
        .collect();
    save(INCIDENTS_KEY, &list);
    // A playbook is forgotten the same way (its id is never an incident's).
    let playbooks = known_playbooks();
    if playbooks.iter().any(|k| k.id == id) {
        let rest: Vec<KnownPlaybook> = playbooks.into_iter().filter(|k| k.id != id).collect();
        save(PLAYBOOKS_KEY, &rest);
    }
    for prefix in [
        PENDING_PREFIX,
        SYNCED_PREFIX,
        ACCESS_PREFIX,
        UNPUBLISHED_PREFIX,
        FILTERS_PREFIX,
    ] {
        LocalStorage::delete(format!("{prefix}{id}"));
    }
}

/// The relay's creation secret, as typed here once the relay asked for it (a relay run with
/// `--create-secret` takes new incidents only from holders of it).
pub fn create_secret() -> Option<String> {
    LocalStorage::get::<String>(CREATE_SECRET_KEY)
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn set_create_secret(secret: &str) {
    save(CREATE_SECRET_KEY, &secret);
}

/// Whether the timeline view shows role hand-offs (this device's choice; shown unless hidden).
pub fn show_role_handoffs() -> bool {
    LocalStorage::get::<bool>(HANDOFFS_KEY).unwrap_or(true)
}

pub fn set_show_role_handoffs(show: bool) {
    save(HANDOFFS_KEY, &show);
}

/// The incident page's sections folded on this device (their keys, e.g. `"background"`): one
/// list for every incident, since what a person keeps out of sight is about their job and
/// their screen, not about one incident.
pub fn folded_sections() -> Vec<String> {
    LocalStorage::get::<Vec<String>>(FOLDED_KEY).unwrap_or_default()
}

pub fn set_folded_sections(keys: &[String]) {
    save(FOLDED_KEY, &keys);
}

/// What the timeline and the indicators are filtered by on this device, for one incident
/// (empty: everything). Kept here, not in the document: what one person looks for is theirs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListFilters {
    #[serde(default)]
    pub timeline_text: String,
    /// A kill-chain phase's key.
    #[serde(default)]
    pub timeline_phase: String,
    #[serde(default)]
    pub indicator_text: String,
    /// An indicator type's key.
    #[serde(default)]
    pub indicator_kind: String,
    /// A TLP level (`"AMBER"`).
    #[serde(default)]
    pub indicator_tlp: String,
}

pub fn list_filters(id: &str) -> ListFilters {
    LocalStorage::get::<ListFilters>(&format!("{FILTERS_PREFIX}{id}")).unwrap_or_default()
}

pub fn set_list_filters(id: &str, filters: &ListFilters) {
    let key = format!("{FILTERS_PREFIX}{id}");
    if *filters == ListFilters::default() {
        LocalStorage::delete(&key);
    } else {
        save(&key, filters);
    }
}
