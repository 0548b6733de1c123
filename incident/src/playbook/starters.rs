//! The starter set: eight short playbooks for the kinds of incident most teams meet first,
//! written from common public incident-response practice. Each is plain data here and is
//! built into a playbook document by [`starter`].
//!
//! A starter is built with one fixed client id, so every device builds the very same
//! document (same ids, same clocks): two teams' copies of "Ransomware" merge without
//! doubling anything. The playbook handed out is a fresh document holding that state, so
//! each device's own edits carry its own client id.

use super::{
    CommsDraft, Playbook, PlaybookContents, PlaybookLink, PlaybookQuestion, PlaybookStep,
    StartedFrom,
};
use crate::{IncidentType, Role, Tlp, UpdateOrigin, DEFAULT_CLASSIFICATION};

/// The client id the starter documents are written with.
const STARTER_CLIENT_ID: u64 = 0x0f1b_5eed;

const C: Option<Role> = Some(Role::Commander);
const D: Option<Role> = Some(Role::Deputy);
const S: Option<Role> = Some(Role::Scribe);
const L: Option<Role> = Some(Role::CommsLiaison);

/// One starter playbook as data. A step is (owning role, due after minutes or 0, title).
struct Starter {
    kind: IncidentType,
    tlp: Tlp,
    summary: &'static str,
    steps: &'static [(Option<Role>, u32, &'static str)],
    questions: &'static [&'static str],
    comms: &'static [(&'static str, &'static str)],
    links: &'static [(&'static str, &'static str)],
}

const STARTERS: [Starter; 8] = [
    Starter {
        kind: IncidentType::Phishing,
        tlp: Tlp::Amber,
        summary: "On [date, time, zone] [who] reported a phishing message sent to [how many] \
                  people, pretending to be [sender]. [Number] people clicked and [number] \
                  entered credentials. Impact so far: [none known / accounts at risk].",
        steps: &[
            (C, 15, "Get the full message with headers from the reporter; do not forward it as an attachment to everyone"),
            (D, 30, "Search the mail system for every copy and remove or quarantine them"),
            (D, 30, "Block the sender, the links and their domains at the mail gateway and proxy"),
            (C, 60, "Find who clicked or replied; reset their passwords and end their sessions"),
            (S, 60, "Put the sender, links, domains and attachment hashes under Indicators"),
            (L, 120, "Tell staff what the message looks like and how to report it"),
        ],
        questions: &[
            "Did anyone enter a password or approve a login prompt?",
            "Was any attachment opened, and on which devices?",
        ],
        comms: &[(
            "Staff",
            "A phishing email pretending to be [sender] reached some of us today. If you \
             clicked its link or entered your password, tell [contact] now: that is the \
             right thing to do and nobody will blame you. Delete it otherwise.",
        )],
        links: &[(
            "NCSC: phishing guidance",
            "https://www.ncsc.gov.uk/collection/phishing-scams",
        )],
    },
    Starter {
        kind: IncidentType::Ransomware,
        tlp: Tlp::AmberStrict,
        summary: "On [date, time, zone] [who] found files encrypted on [systems], with a \
                  ransom note from [group, if named]. Services down: [list]. Backups: \
                  [status]. Data taken before encryption: [unknown / yes / no].",
        steps: &[
            (C, 15, "Isolate affected hosts from the network (pull the cable, keep them powered on)"),
            (D, 30, "Disable the accounts the attacker used and any remote access they came in through"),
            (C, 60, "Check that backups are intact and offline before anyone touches them"),
            (S, 30, "Photograph the ransom note; record first sightings and encrypted file names on the timeline"),
            (L, 60, "Brief leadership and legal: decisions on paying, insurers and police are theirs to make with you"),
            (D, 240, "Identify the initial access (phishing, exposed remote desktop, unpatched VPN)"),
            (C, 0, "Restore from clean backups in priority order; rebuild rather than clean hosts"),
        ],
        questions: &[
            "Was data copied out before encryption?",
            "Which backups are known to be clean, and how old are they?",
            "Has the insurer been told within the policy's deadline?",
        ],
        comms: &[
            (
                "Staff",
                "Some of our systems are down because of a security incident. Do not turn \
                 off or restart any computer; unplug it from the network and call [contact] \
                 if you see a ransom note or files you cannot open.",
            ),
            (
                "Customers",
                "We are dealing with a security incident that has disrupted [services]. We \
                 are working to restore them and will update you by [time].",
            ),
        ],
        links: &[
            ("No More Ransom: free decryptors", "https://www.nomoreransom.org/"),
            (
                "CISA: ransomware guide",
                "https://www.cisa.gov/stopransomware/ransomware-guide",
            ),
        ],
    },
    Starter {
        kind: IncidentType::Ddos,
        tlp: Tlp::Amber,
        summary: "Since [date, time, zone] [service] has been slow or unreachable under a \
                  flood of [kind of traffic] at about [rate]. Customers affected: [who]. \
                  Mitigation: [provider / none yet].",
        steps: &[
            (C, 15, "Confirm it is an attack and not a release, an outage or a spike in real demand"),
            (D, 15, "Call the hosting or DDoS protection provider and switch mitigation on"),
            (D, 30, "Rate-limit or block the worst sources and protocols at the edge"),
            (S, 30, "Record traffic graphs, peak rates and source samples on the timeline"),
            (L, 30, "Post a status page update and tell support what to say"),
            (C, 0, "Watch for a second wave or an intrusion hidden behind the noise"),
        ],
        questions: &[
            "Was there a ransom demand or a warning before the attack?",
            "Is anything else happening behind the noise (logins, data access)?",
        ],
        comms: &[(
            "Customers",
            "[Service] is slow or unavailable because of a flood of traffic aimed at us. No \
             data is affected by this kind of attack. Next update by [time].",
        )],
        links: &[(
            "CISA: understanding and responding to DDoS attacks",
            "https://www.cisa.gov/resources-tools/resources/understanding-and-responding-distributed-denial-service-attacks",
        )],
    },
    Starter {
        kind: IncidentType::DataBreach,
        tlp: Tlp::Red,
        summary: "On [date, time, zone] we learned from [source] that [what data] about \
                  [how many] [customers / staff] may have been taken from [system] between \
                  [first] and [last]. Confirmed: [yes / not yet].",
        steps: &[
            (C, 30, "Stop the flow: close the access path, revoke the credentials or tokens used"),
            (D, 60, "Preserve logs and copies of the affected systems before anything is changed"),
            (D, 240, "Work out exactly which records and fields were taken, and whose"),
            (L, 60, "Bring in legal and the data protection officer: regulators may need telling within 72 hours"),
            (S, 60, "Keep the timeline of access precise: first and last sighting, volumes"),
            (L, 0, "Prepare the notice to the people affected, with what they should do"),
        ],
        questions: &[
            "Which regulators, customers or partners must be told, and by when?",
            "Was the data encrypted, and was the key taken too?",
        ],
        comms: &[(
            "People affected",
            "On [date] we found that [data] about you may have been accessed by someone \
             who should not have it. Here is what happened, what we have done, and what we \
             suggest you do: [steps]. Questions: [contact].",
        )],
        links: &[
            (
                "ICO: reporting a personal data breach",
                "https://ico.org.uk/for-organisations/report-a-breach/",
            ),
            (
                "FTC: data breach response guide",
                "https://www.ftc.gov/business-guidance/resources/data-breach-response-guide-business",
            ),
        ],
    },
    Starter {
        kind: IncidentType::LeakedSecret,
        tlp: Tlp::AmberStrict,
        summary: "On [date, time, zone] [who or what scanner] found a [key / token / \
                  password] for [system] exposed in [repository, log, chat, paste]. Exposed \
                  since: [when]. Used by anyone else: [unknown / yes / no].",
        steps: &[
            (C, 15, "Revoke or rotate the secret now; do not wait for the investigation"),
            (D, 30, "Deploy the new secret to everything that needs it and check nothing broke"),
            (D, 60, "Search the provider's access logs for use of the old secret since the exposure"),
            (S, 30, "Record where it was exposed, since when, and who could see it"),
            (C, 120, "Remove it from the exposed place (history included) once it is rotated"),
        ],
        questions: &[
            "Was the secret used by anyone else while exposed?",
            "Where else is the same secret used?",
        ],
        comms: &[(
            "Engineering",
            "The [secret] for [system] was exposed and has been rotated. If your service \
             uses it, fetch the new one from [vault]. Never paste secrets into [where it \
             leaked].",
        )],
        links: &[
            (
                "GitHub: removing sensitive data from a repository",
                "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/removing-sensitive-data-from-a-repository",
            ),
            (
                "OWASP: secrets management cheat sheet",
                "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
            ),
        ],
    },
    Starter {
        kind: IncidentType::CompromisedAccount,
        tlp: Tlp::AmberStrict,
        summary: "On [date, time, zone] [who or what alert] showed that the account of \
                  [person / service] was used by someone else from [where]. Access it has: \
                  [systems, data]. Misuse so far: [what].",
        steps: &[
            (C, 15, "Reset the password, end every session and revoke app tokens"),
            (D, 30, "Check and reset second factors; remove any the attacker enrolled"),
            (D, 60, "Look for mail forwarding rules, new keys or delegated access the attacker left"),
            (S, 60, "List what the account did while taken: sign-ins, files, messages, changes"),
            (C, 120, "Check whether the same password or device opened other accounts"),
            (L, 120, "Warn the people the account may have messaged"),
        ],
        questions: &[
            "How was the account taken (phishing, reused password, stolen session)?",
            "Did the attacker reach anything beyond this account?",
        ],
        comms: &[(
            "Contacts of the account",
            "Messages sent from [account] between [times] did not come from [person]. Do \
             not open their links or attachments; if you did, tell [contact].",
        )],
        links: &[(
            "Have I Been Pwned: check an address in known breaches",
            "https://haveibeenpwned.com/",
        )],
    },
    Starter {
        kind: IncidentType::ExploitedWebApp,
        tlp: Tlp::AmberStrict,
        summary: "On [date, time, zone] [who or what alert] showed that [application] was \
                  attacked through [flaw, if known]. What the attacker reached: [data, \
                  servers]. The application is [up / down / restricted].",
        steps: &[
            (C, 30, "Decide: take the application offline, restrict it, or keep it up while watching"),
            (D, 30, "Block the attack's requests at the firewall or WAF as a stopgap"),
            (D, 60, "Keep web, application and database logs before they roll over"),
            (D, 240, "Find and fix the flaw; check the same flaw elsewhere in the code"),
            (S, 60, "Put attacker addresses, payloads and user agents under Indicators"),
            (C, 0, "Look for web shells, new accounts or changed files left behind"),
        ],
        questions: &[
            "Was the flaw known (a published CVE) and left unpatched?",
            "Did the attacker reach the database or the servers behind the application?",
        ],
        comms: &[(
            "Customers",
            "We found and blocked an attack on [application] on [date]. [We have no sign \
             that your data was accessed / Here is what was affected]. Next update by \
             [time].",
        )],
        links: &[
            ("OWASP Top 10", "https://owasp.org/www-project-top-ten/"),
            (
                "CISA: known exploited vulnerabilities",
                "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
            ),
        ],
    },
    Starter {
        kind: IncidentType::LostDevice,
        tlp: Tlp::Amber,
        summary: "On [date, time, zone] [person] reported their [laptop / phone] [lost / \
                  stolen] in [place]. Encrypted: [yes / no / unknown]. Data on it: [what]. \
                  Last seen online: [when].",
        steps: &[
            (C, 15, "Lock the device remotely; wipe it if it cannot be recovered soon"),
            (D, 30, "End its sessions and revoke its certificates, tokens and saved passwords"),
            (D, 60, "Confirm from device management whether disk encryption was on"),
            (S, 30, "Record when and where it was last seen and when it last checked in"),
            (L, 120, "If personal data was on it unencrypted, bring in the data protection officer"),
        ],
        questions: &[
            "Was the disk encrypted and the device locked?",
            "Has it been reported to the police (if stolen)?",
        ],
        comms: &[(
            "The person who lost it",
            "Thank you for telling us quickly. We have locked the device and ended its \
             sessions. Please change your password on a trusted device, and tell us if \
             you remember anything that was on it outside our systems.",
        )],
        links: &[(
            "NCSC: device security guidance",
            "https://www.ncsc.gov.uk/collection/device-security-guidance",
        )],
    },
];

/// The ids of the starter playbooks, in the order they are offered.
pub const STARTER_IDS: [&str; 8] = [
    "starter-phishing",
    "starter-ransomware",
    "starter-ddos",
    "starter-data-breach",
    "starter-leaked-secret",
    "starter-compromised-account",
    "starter-exploited-web-app",
    "starter-lost-device",
];

fn id_of(kind: IncidentType) -> String {
    format!("starter-{}", kind.key())
}

fn contents(s: &Starter) -> PlaybookContents {
    let numbered = |i: usize| format!("{:02}", i + 1);
    PlaybookContents {
        name: s.kind.label().to_string(),
        incident_type: Some(s.kind),
        summary: s.summary.to_string(),
        classification: DEFAULT_CLASSIFICATION.to_string(),
        tlp: s.tlp,
        steps: s
            .steps
            .iter()
            .enumerate()
            .map(|(i, &(role, minutes, title))| {
                let step = PlaybookStep {
                    title: title.to_string(),
                    role,
                    due_after_minutes: Some(minutes).filter(|&m| m > 0),
                    from: None,
                };
                (numbered(i), step)
            })
            .collect(),
        questions: s
            .questions
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let text = text.to_string();
                (numbered(i), PlaybookQuestion { text })
            })
            .collect(),
        comms: s
            .comms
            .iter()
            .enumerate()
            .map(|(i, &(audience, text))| {
                let draft = CommsDraft {
                    audience: audience.to_string(),
                    text: text.to_string(),
                };
                (numbered(i), draft)
            })
            .collect(),
        links: s
            .links
            .iter()
            .enumerate()
            .map(|(i, &(title, url))| {
                let link = PlaybookLink {
                    title: title.to_string(),
                    url: url.to_string(),
                };
                (numbered(i), link)
            })
            .collect(),
        lessons: Vec::new(),
    }
}

/// What the starter playbook `id` (one of [`STARTER_IDS`]) says, with where an incident
/// started from it comes from (its id, name and version 1), as plain data: enough to start
/// an incident ([`PlaybookContents::prefill`]) without building the playbook's document.
pub fn starter_contents(id: &str) -> Option<(PlaybookContents, StartedFrom)> {
    let s = STARTERS.iter().find(|s| id_of(s.kind) == id)?;
    let from = StartedFrom {
        id: id.to_string(),
        name: s.kind.label().to_string(),
        version: 1,
    };
    Some((contents(s), from))
}

/// The starter playbook `id` (one of [`STARTER_IDS`]), version 1, as a fresh document.
pub fn starter(id: &str) -> Option<Playbook> {
    let s = STARTERS.iter().find(|s| id_of(s.kind) == id)?;
    let built = Playbook::create_with_client_id(id, &contents(s), STARTER_CLIENT_ID);
    let playbook = Playbook::new();
    playbook
        .apply_update(&built.encode_state(), UpdateOrigin::Storage)
        .expect("a starter's own state applies");
    Some(playbook)
}

/// The starter playbooks to offer, as (id, name), without building their documents.
pub fn starter_choices() -> Vec<(&'static str, &'static str)> {
    STARTER_IDS
        .into_iter()
        .zip(STARTERS.iter().map(|s| s.kind.label()))
        .collect()
}

/// Every starter playbook, in the order they are offered.
pub fn starters() -> Vec<Playbook> {
    STARTER_IDS.iter().filter_map(|id| starter(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_list_every_starter_once() {
        let ids: Vec<String> = STARTERS.iter().map(|s| id_of(s.kind)).collect();
        assert_eq!(ids, STARTER_IDS.map(String::from).to_vec());
        for (id, name) in starter_choices() {
            let playbook = starter(id).unwrap();
            assert_eq!(playbook.name(), name);
            let (contents, from) = starter_contents(id).unwrap();
            assert_eq!(contents, playbook.contents());
            assert_eq!((from.id.as_str(), from.name.as_str()), (id, name));
            assert_eq!(from.version, playbook.version());
        }
    }

    #[test]
    fn two_builds_of_a_starter_merge_without_doubling() {
        let a = starter("starter-ransomware").unwrap();
        let b = starter("starter-ransomware").unwrap();
        b.apply_update(&a.encode_state(), UpdateOrigin::Relay)
            .unwrap();
        assert_eq!(b.contents(), a.contents());
        assert_eq!(b.summary(), a.summary());
        assert_eq!(b.version(), 1);
    }
}
