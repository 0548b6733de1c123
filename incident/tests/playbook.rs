//! Playbooks: starting an incident from one, lessons flowing back, the playbook file, and
//! the starter set.

use incident::export::{incident_file, Audience};
use incident::playbook::{
    playbook_file, proposals, read_playbook_file, starter, starters, PlaybookLink, PlaybookStep,
    ProposalKind, MAX_PLAYBOOK_FILE_BYTES, STARTER_IDS,
};
use incident::playbook::{Playbook, PlaybookContents};
use incident::{
    AnswerStatus, Incident, IncidentType, ProseSection, Role, StepStatus, Tlp, UpdateOrigin,
};

const NOW: &str = "2026-11-30T09:00:00Z";
const LATER: &str = "2026-12-02T14:30:00Z";

/// Ids as a device would make them, numbered so a test can tell them apart.
fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id-{n:03}")
    }
}

fn sync_playbooks(from: &Playbook, to: &Playbook) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

fn sync_incidents(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

/// A copy of `playbook` on another device (its own client id).
fn replica(playbook: &Playbook, client_id: u64) -> Playbook {
    let copy = Playbook::with_client_id(client_id);
    copy.apply_update(&playbook.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    copy
}

fn ransomware() -> Playbook {
    starter("starter-ransomware").expect("the ransomware starter exists")
}

fn step_titled<'a>(
    steps: &'a [(String, incident::NextStep)],
    start: &str,
) -> &'a incident::NextStep {
    &steps
        .iter()
        .find(|(_, s)| s.title.starts_with(start))
        .unwrap_or_else(|| panic!("no step starting {start:?}"))
        .1
}

#[test]
fn an_incident_started_from_a_playbook_has_what_it_knows_and_records_its_version() {
    let playbook = ransomware();
    let c = playbook.contents();
    let incident = playbook.start_incident("Encrypted file shares", NOW, "Dana", &mut ids());

    assert_eq!(incident.title(), "Encrypted file shares");
    assert_eq!(incident.section_text(ProseSection::Summary), c.summary);
    assert!(incident
        .section_text(ProseSection::Summary)
        .contains("ransom note"));
    assert_eq!(incident.classification(), c.classification);
    assert_eq!(incident.tlp(), Tlp::AmberStrict);
    assert_eq!(incident.incident_type(), Some(IncidentType::Ransomware));

    let steps = incident.next_steps();
    assert_eq!(steps.len(), c.steps.len());
    let isolate = step_titled(&steps, "Isolate affected hosts");
    assert_eq!(isolate.owner_role, Some(Role::Commander));
    assert_eq!(isolate.due.as_deref(), Some("2026-11-30T09:15:00Z"));
    assert_eq!(isolate.status, StepStatus::Open);
    assert_eq!(isolate.created_by, "Dana");
    let restore = step_titled(&steps, "Restore from clean backups");
    assert_eq!(restore.due, None, "a step with no offset has no due time");

    let extra = incident.extra_questions();
    assert_eq!(extra.len(), c.questions.len());
    assert_eq!(extra[0].text, "Was data copied out before encryption?");
    incident.set_extra_answer_status(&extra[0].id, AnswerStatus::Partly, "Dana");
    incident.set_extra_answer_text(&extra[0].id, "Staging folder seen on FS01", "Dana");
    let answered = &incident.extra_questions()[0].answer;
    assert_eq!(answered.status, AnswerStatus::Partly);
    assert_eq!(answered.answer, "Staging folder seen on FS01");
    assert_eq!(answered.by, "Dana");

    let comms = incident.section_text(ProseSection::Comms);
    assert!(comms.contains("For Staff:"), "{comms}");
    assert!(comms.contains("Do not turn off or restart any computer"));
    let background = incident.section_text(ProseSection::Background);
    assert!(
        background.contains("https://www.nomoreransom.org/"),
        "{background}"
    );

    let from = incident.started_from().expect("records the playbook");
    assert_eq!(from.id, "starter-ransomware");
    assert_eq!(from.name, "Ransomware");
    assert_eq!(from.version, 1);
    assert_eq!(from.describe(), "Started from the Ransomware playbook (v1)");
    assert_eq!(Incident::create("blank", NOW).started_from(), None);

    // It survives the trip through the relay like anything else in the incident.
    let elsewhere = Incident::new();
    sync_incidents(&incident, &elsewhere);
    assert_eq!(elsewhere.started_from(), Some(from));
    assert_eq!(elsewhere.extra_questions(), incident.extra_questions());
}

#[test]
fn a_role_owned_step_shows_whoever_holds_the_role_and_follows_a_hand_off() {
    let incident = ransomware().start_incident("Encrypted shares", NOW, "Dana", &mut ids());
    let brief = |inc: &Incident| step_titled(&inc.next_steps(), "Brief leadership").clone();

    let unheld = brief(&incident);
    assert_eq!(unheld.owner_role, Some(Role::CommsLiaison));
    assert_eq!(unheld.owner, "");
    assert_eq!(unheld.shown_owner(), "Comms liaison (nobody yet)");

    incident.assign_role(
        Role::CommsLiaison,
        "Ana",
        "aaaa000000000001",
        "Dana",
        NOW,
        "e1",
    );
    let held = brief(&incident);
    assert_eq!(held.owner, "Ana");
    assert_eq!(held.owner_invite, "aaaa000000000001");
    assert_eq!(held.shown_owner(), "Ana (Comms liaison)");
    assert!(held.is_owned_by_person("Ana", "aaaa000000000001"));

    // A hand-off on another device: the step follows it once the devices merge.
    let other = Incident::new();
    sync_incidents(&incident, &other);
    other.claim_role(Role::CommsLiaison, "Bo", LATER, "e2");
    sync_incidents(&other, &incident);
    let handed = brief(&incident);
    assert_eq!(handed.owner, "Bo");
    assert_eq!(handed.owner_invite, "");
    assert!(!handed.is_owned_by_person("Ana", "aaaa000000000001"));
    // The other steps follow their own roles.
    let isolate = step_titled(&incident.next_steps(), "Isolate affected hosts").clone();
    assert_eq!(isolate.shown_owner(), "Incident commander (nobody yet)");

    // Given to a person, the step leaves its role.
    let id = incident
        .next_steps()
        .into_iter()
        .find(|(_, s)| s.title.starts_with("Brief leadership"))
        .unwrap()
        .0;
    assert!(incident.set_next_step_owner(&id, "Cy", ""));
    incident.claim_role(Role::CommsLiaison, "Di", LATER, "e3");
    let given = brief(&incident);
    assert_eq!((given.owner.as_str(), given.owner_role), ("Cy", None));
    assert!(incident.set_next_step_role(&id, Role::CommsLiaison));
    assert_eq!(brief(&incident).owner, "Di");
}

#[test]
fn starting_from_a_playbook_brings_no_people_and_no_invites() {
    // A playbook that has learned from an incident whose step was given to an invited
    // person: what comes back is the step and its role, never the person or the invite.
    let playbook = ransomware();
    let first = playbook.start_incident("First", NOW, "Dana", &mut ids());
    first.assign_role(
        Role::Commander,
        "Ana Invited",
        "feed000000000042",
        "Dana",
        NOW,
        "e1",
    );
    let step_id = "id-900";
    first.add_next_step(
        step_id,
        &incident::NextStep {
            title: "Check the backup vault's access log".into(),
            owner: "Ana Invited".into(),
            owner_invite: "feed000000000042".into(),
            owner_role: Some(Role::Deputy),
            ..Default::default()
        },
    );
    assert!(first.propose_next_step(step_id, "Ana Invited", LATER));
    let proposed = proposals(&first);
    let (entry, proposal) = &proposed.items[0];
    assert!(playbook.accept("inc-first", "First", entry, proposal, "Dana", LATER));

    let file = playbook_file(&playbook, LATER);
    assert!(!file.contains("feed000000000042"));
    let accepted = playbook
        .items::<PlaybookStep>()
        .into_iter()
        .find(|(_, s)| s.from.is_some())
        .unwrap()
        .1;
    assert_eq!(accepted.role, Some(Role::Deputy));

    let second = playbook.start_incident("Second", LATER, "Eve", &mut ids());
    for role in Role::ALL {
        assert_eq!(second.role_holder(role), None, "{role:?}");
    }
    for (_, step) in second.next_steps() {
        assert_eq!((step.owner.as_str(), step.owner_invite.as_str()), ("", ""));
        assert!(step.owner_role.is_some(), "{}", step.title);
    }
    let whole = incident_file(
        &second,
        &Audience {
            incident_id: "inc-second",
            tlp: Tlp::Red,
            now: LATER,
        },
    )
    .unwrap();
    assert!(!whole.contains("feed000000000042"));
    assert!(!whole.contains("Ana Invited"));
}

#[test]
fn a_proposal_accepted_by_two_people_at_once_is_added_once() {
    let playbook = ransomware();
    let incident = playbook.start_incident("Shares encrypted", NOW, "Dana", &mut ids());
    incident.propose_lesson(
        "lesson-1",
        "Keep one backup copy offline: the online one was encrypted too",
        "Dana",
        LATER,
    );
    let proposed = proposals(&incident);
    assert_eq!(proposed.items.len(), 1);
    let (entry, proposal) = &proposed.items[0];

    let (a, b) = (replica(&playbook, 11), replica(&playbook, 12));
    assert!(a.accept("inc-1", "Shares encrypted", entry, proposal, "Ana", LATER));
    assert!(b.accept("inc-1", "Shares encrypted", entry, proposal, "Bo", LATER));
    sync_playbooks(&a, &b);
    sync_playbooks(&b, &a);

    assert_eq!(a.contents(), b.contents());
    let lessons = a.contents().lessons;
    assert_eq!(lessons.len(), 1, "{lessons:?}");
    assert_eq!(lessons[0].0, "inc-1/lesson-1");
    assert_eq!(lessons[0].1.from.incident_id, "inc-1");
    assert_eq!(lessons[0].1.from.entry_id, "lesson-1");
    assert_eq!(a.version(), 2);
    assert_eq!(b.version(), 2);
    // Accepting again once merged changes nothing.
    assert!(!a.accept("inc-1", "Shares encrypted", entry, proposal, "Ana", LATER));
    assert_eq!(a.version(), 2);
    assert!(a.is_accepted("inc-1", "lesson-1"));
}

#[test]
fn the_next_incident_from_the_playbook_has_what_was_accepted() {
    let playbook = ransomware();
    let first = playbook.start_incident("Payroll encrypted", NOW, "Dana", &mut ids());
    first.propose_lesson(
        "lesson-1",
        "The NAS admin page was reachable from the guest Wi-Fi",
        "Dana",
        LATER,
    );
    first.add_next_step(
        "step-x",
        &incident::NextStep {
            title: "Ask the insurer for their approved forensics firm".into(),
            owner_role: Some(Role::CommsLiaison),
            ..Default::default()
        },
    );
    assert!(first.propose_next_step("step-x", "Dana", LATER));
    assert!(!first.propose_next_step("no-such-step", "Dana", LATER));
    first.propose_lesson("lesson-2", "Withdrawn on second thought", "Dana", LATER);
    first.withdraw_proposal("lesson-2");

    let proposed = proposals(&first);
    assert_eq!(proposed.playbook.as_ref().unwrap().name, "Ransomware");
    let kinds: Vec<_> = proposed.items.iter().map(|(_, p)| p.kind).collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&ProposalKind::Lesson) && kinds.contains(&ProposalKind::NextStep));
    for (entry, proposal) in &proposed.items {
        assert!(playbook.accept("inc-payroll", &first.title(), entry, proposal, "Ana", LATER));
    }
    assert_eq!(playbook.version(), 3);

    let next = playbook.start_incident("Second wave", LATER, "Eve", &mut ids());
    let background = next.section_text(ProseSection::Background);
    assert!(
        background.contains(
            "- The NAS admin page was reachable from the guest Wi-Fi (from \"Payroll encrypted\")"
        ),
        "{background}"
    );
    let forensics = step_titled(&next.next_steps(), "Ask the insurer").clone();
    assert_eq!(forensics.owner_role, Some(Role::CommsLiaison));
    assert_eq!(next.started_from().unwrap().version, 3);
    // The first incident still says which version it started from.
    assert_eq!(first.started_from().unwrap().version, 1);
}

#[test]
fn every_change_to_a_playbook_grows_its_version() {
    let playbook = Playbook::create(
        "pb-1",
        &PlaybookContents {
            name: "Vendor breach".into(),
            ..Default::default()
        },
    );
    assert_eq!(playbook.version(), 1);
    playbook.set_name("Supplier breach");
    playbook.set_name("Supplier breach");
    assert_eq!(
        playbook.version(),
        2,
        "a change to the same value is no change"
    );
    playbook.edit_summary("On [date] [supplier] told us that …");
    playbook.set_tlp(Tlp::Red);
    playbook.set_incident_type(Some(IncidentType::DataBreach));
    playbook.add(
        "l1",
        &PlaybookLink {
            title: "Supplier contacts".into(),
            url: "https://intranet.example/suppliers".into(),
        },
    );
    playbook.remove::<PlaybookLink>("l1");
    playbook.remove::<PlaybookLink>("l1");
    assert_eq!(playbook.version(), 7);
    let incident = playbook.start_incident("Acme breach", NOW, "Dana", &mut ids());
    assert_eq!(
        incident.started_from().unwrap().describe(),
        "Started from the Supplier breach playbook (v7)"
    );
    assert_eq!(incident.tlp(), Tlp::Red);
}

#[test]
fn a_playbook_file_round_trips_and_merges_with_its_own_copies() {
    let playbook = ransomware();
    let incident = playbook.start_incident("x", NOW, "Dana", &mut ids());
    incident.propose_lesson("l1", "Test restores every quarter", "Dana", LATER);
    let (entry, proposal) = proposals(&incident).items.remove(0);
    playbook.accept("inc-x", "x", &entry, &proposal, "Dana", LATER);

    let file = playbook_file(&playbook, LATER);
    let json: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(json["format"], "firebreak-playbook");
    assert_eq!(json["version"], 1);
    assert_eq!(json["playbook"]["name"], "Ransomware");
    assert_eq!(json["playbook"]["lessons"][0]["from"]["incident"], "inc-x");

    let opened = read_playbook_file(&file).unwrap();
    assert_eq!(
        (opened.id.as_str(), opened.version),
        ("starter-ransomware", 2)
    );
    let copy = Playbook::open_file(&file).unwrap();
    assert_eq!(copy.contents(), playbook.contents());
    assert_eq!(copy.version(), playbook.version());
    assert_eq!(playbook_file(&copy, LATER), file);

    // Edits on the copy come back through a file of it.
    copy.set_name("Ransomware (EU offices)");
    playbook.merge_file(&playbook_file(&copy, LATER)).unwrap();
    assert_eq!(playbook.name(), "Ransomware (EU offices)");
    assert_eq!(playbook.version(), 3);
}

#[test]
fn a_bad_playbook_file_is_refused_with_a_reason_and_changes_nothing() {
    let playbook = ransomware();
    let before = playbook.encode_state();
    let good = playbook_file(&playbook, LATER);
    let with = |key: &str, value: serde_json::Value| {
        let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
        json[key] = value;
        json.to_string()
    };
    let incident = Incident::create("Not a playbook", NOW);
    let incident_state = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(incident.encode_state())
    };
    let an_incident_file = incident_file(
        &incident,
        &Audience {
            incident_id: "i",
            tlp: Tlp::Red,
            now: NOW,
        },
    )
    .unwrap();
    let other = starter("starter-ddos").unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "name,steps\nx,y".into(), "it is not JSON"),
        ("cut short", good[..good.len() / 2].to_string(), "cut short"),
        (
            "someone else's JSON",
            "{\"hello\": 1}".into(),
            "no \"format\": \"firebreak-playbook\"",
        ),
        (
            "an incident file",
            an_incident_file,
            "an incident file, not a playbook",
        ),
        (
            "a newer version",
            with("version", 2.into()),
            "newer Firebreak (format version 2",
        ),
        (
            "no version",
            with("version", serde_json::Value::Null),
            "no format version",
        ),
        ("state not base64", with("state", "!!".into()), "not base64"),
        ("state not Yjs", with("state", "/////w==".into()), "damaged"),
        (
            "an incident's state",
            with("state", incident_state.into()),
            "not a Firebreak playbook",
        ),
        (
            "too large",
            format!("{}{}", good, " ".repeat(MAX_PLAYBOOK_FILE_BYTES)),
            "at most 4 MB",
        ),
        (
            "another playbook",
            playbook_file(&other, LATER),
            "is the playbook \"DDoS\", not \"Ransomware\"",
        ),
    ];
    for (case, text, says) in cases {
        let err = playbook.merge_file(&text).unwrap_err();
        assert!(err.contains(says), "{case}: {err}");
        assert_eq!(
            playbook.encode_state(),
            before,
            "{case}: changed the playbook"
        );
        if case != "another playbook" {
            assert!(Playbook::open_file(&text).is_err(), "{case}");
        }
    }
}

#[test]
fn every_starter_playbook_builds_and_starts_an_incident() {
    let all = starters();
    assert_eq!(all.len(), 8);
    for (playbook, id) in all.iter().zip(STARTER_IDS) {
        let c = playbook.contents();
        assert_eq!(playbook.id(), id);
        assert_eq!(playbook.version(), 1, "{id}");
        let kind = c.incident_type.expect("each starter fits one type");
        assert_eq!(id, format!("starter-{}", kind.key()));
        assert_eq!(c.name, kind.label());
        assert!(
            c.summary.contains('['),
            "{id}: the summary has blanks to fill"
        );
        assert!(c.steps.len() >= 5, "{id}: {} steps", c.steps.len());
        assert!(c.steps.iter().all(|(_, s)| s.role.is_some()), "{id}");
        assert!(!c.questions.is_empty() && !c.comms.is_empty() && !c.links.is_empty());
        assert!(
            c.links.iter().all(|(_, l)| l.url.starts_with("https://")),
            "{id}"
        );

        let incident = playbook.start_incident(&format!("From {id}"), NOW, "Dana", &mut ids());
        assert_eq!(incident.next_steps().len(), c.steps.len(), "{id}");
        assert_eq!(incident.section_text(ProseSection::Summary), c.summary);
        assert_eq!(incident.extra_questions().len(), c.questions.len());
        assert_eq!(incident.incident_type(), Some(kind));
        assert_eq!(incident.started_from().unwrap().id, id);
        assert!(incident.check_schema().is_ok());
    }
    assert!(starter("starter-nope").is_none());
}
