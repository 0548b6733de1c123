//! Proposals travelling in the playbook itself: whoever has the playbook sees what incidents
//! proposed and accepts it without having the incident; and the history's list of changes
//! names proposals and the playbook review in words.

use incident::playbook::{Playbook, PlaybookContents, PlaybookStep};
use incident::{Incident, Role, UpdateOrigin};

const NOW: &str = "2026-11-30T09:00:00Z";
const LATER: &str = "2026-12-02T14:30:00Z";

fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id-{n:03}")
    }
}

fn sync(from: &Playbook, to: &Playbook) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

fn replica(playbook: &Playbook, client_id: u64) -> Playbook {
    let copy = Playbook::with_client_id(client_id);
    copy.apply_update(&playbook.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    copy
}

/// A team's playbook, and an incident started from it on Alice's device.
fn team_playbook() -> (Playbook, Incident) {
    let contents = PlaybookContents {
        name: "Phishing (ours)".into(),
        steps: vec![(
            "s1".into(),
            PlaybookStep {
                title: "Pull the mail from every inbox".into(),
                role: Some(Role::Deputy),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    let playbook = Playbook::create_with_client_id("pb-phish", &contents, 1);
    let incident = playbook.start_incident("Fake invoice mail", NOW, "Alice", &mut ids());
    (playbook, incident)
}

#[test]
fn a_proposal_reaches_someone_with_the_playbook_but_not_the_incident() {
    let (alice, incident) = team_playbook();
    let bob = replica(&alice, 2);
    incident.propose_lesson("l1", "Report button in the mail client", "Alice", LATER);
    let version = alice.version();

    assert!(alice.carry_proposals("inc-1", &incident));
    assert_eq!(
        alice.version(),
        version,
        "a proposal is not the playbook's content"
    );
    assert!(!alice.carry_proposals("inc-1", &incident), "nothing new");
    sync(&alice, &bob);

    // Bob has only the playbook.
    let pending = bob.pending_proposals();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].incident_id, "inc-1");
    assert_eq!(pending[0].incident_title, "Fake invoice mail");
    assert_eq!(pending[0].proposal.text, "Report button in the mail client");
    assert_eq!(pending[0].proposal.proposed_by, "Alice");
    assert!(bob.accept_pending(&pending[0], "Bob", LATER));
    assert!(bob.pending_proposals().is_empty());
    assert_eq!(bob.held_proposals().len(), 1, "kept, marked accepted");
    let lessons = bob.contents().lessons;
    assert_eq!(lessons.len(), 1);
    assert_eq!(lessons[0].0, "inc-1/l1");
    assert_eq!(lessons[0].1.from.accepted_by, "Bob");
}

#[test]
fn two_replicas_accepting_the_same_held_proposal_at_once_add_one_item() {
    let (alice, incident) = team_playbook();
    incident.add_next_step(
        "step-9",
        &incident::NextStep {
            title: "Block the sender's domain".into(),
            owner_role: Some(Role::Deputy),
            owner: "Mallory Owner".into(),
            ..Default::default()
        },
    );
    assert!(incident.propose_next_step("step-9", "Alice", LATER));
    alice.carry_proposals("inc-1", &incident);
    let (bob, carol) = (replica(&alice, 2), replica(&alice, 3));
    let (b, c) = (&bob.pending_proposals()[0], &carol.pending_proposals()[0]);
    assert!(bob.accept_pending(b, "Bob", LATER));
    assert!(carol.accept_pending(c, "Carol", LATER));
    sync(&bob, &carol);
    sync(&carol, &bob);
    assert_eq!(bob.contents(), carol.contents());
    let accepted: Vec<_> = bob
        .items::<PlaybookStep>()
        .into_iter()
        .filter(|(_, s)| s.from.is_some())
        .collect();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0].0, "inc-1/step-9");
    assert_eq!(accepted[0].1.role, Some(Role::Deputy));
    assert!(bob.pending_proposals().is_empty() && carol.pending_proposals().is_empty());
    // The playbook holds the step's role, never the person who owned it.
    let state = String::from_utf8_lossy(&bob.encode_state()).to_string();
    assert!(!state.contains("Mallory Owner"));
}

#[test]
fn a_proposal_made_offline_arrives_later_and_a_withdrawn_one_disappears() {
    let (alice, incident) = team_playbook();
    let bob = replica(&alice, 2);
    // Offline: proposed and carried into Alice's copy, which reaches Bob later.
    incident.propose_lesson("l1", "Check the DMARC reports weekly", "Alice", NOW);
    incident.propose_lesson("l2", "Second thoughts", "Alice", NOW);
    alice.carry_proposals("inc-1", &incident);
    assert!(bob.pending_proposals().is_empty());
    // Meanwhile Bob edits the playbook.
    bob.set_name("Phishing (team)");
    sync(&alice, &bob);
    sync(&bob, &alice);
    assert_eq!(bob.pending_proposals().len(), 2);
    assert_eq!(alice.name(), "Phishing (team)");

    incident.withdraw_proposal("l2");
    assert!(alice.carry_proposals("inc-1", &incident));
    sync(&alice, &bob);
    let texts: Vec<_> = bob
        .pending_proposals()
        .into_iter()
        .map(|p| p.proposal.text)
        .collect();
    assert_eq!(texts, ["Check the DMARC reports weekly"]);
}

#[test]
fn an_incident_from_another_playbook_carries_nothing() {
    let (_, incident) = team_playbook();
    let other = Playbook::create_with_client_id(
        "pb-other",
        &PlaybookContents {
            name: "Other".into(),
            ..Default::default()
        },
        5,
    );
    incident.propose_lesson("l1", "Anything", "Alice", NOW);
    assert!(!other.carry_proposals("inc-1", &incident));
    assert!(other.held_proposals().is_empty());
    let blank = Incident::new();
    blank.initialize("Blank", NOW);
    blank.propose_lesson("l1", "Anything", "Alice", NOW);
    assert!(!other.carry_proposals("inc-2", &blank));
}

/// The lines the history's list of changes shows between two states of `incident`.
fn described(before: &Incident, after: &Incident) -> Vec<String> {
    incident::history::changes(before, after)
        .iter()
        .map(|c| c.describe("UTC"))
        .collect()
}

fn copy_of(incident: &Incident) -> Incident {
    let copy = Incident::new();
    copy.apply_update(&incident.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    copy
}

#[test]
fn the_list_of_changes_names_proposals_and_the_playbook_review_in_words() {
    let (_, incident) = team_playbook();
    let before = copy_of(&incident);
    incident.propose_lesson("l1", "Report button in the mail client", "Alice", LATER);
    incident.propose_lesson("l2", "Second thoughts", "Alice", LATER);
    let question = incident::playbook::PLAYBOOK_REVIEW[0];
    incident.set_answer_status(question, incident::AnswerStatus::Partly, "Alice");
    incident.set_severity(Some(incident::Severity::Sev2));
    incident.set_incident_type(Some(incident::IncidentType::Phishing));
    let lines = described(&before, &incident);
    for expected in [
        "Proposed for the playbook: Report button in the mail client",
        "Proposed for the playbook: Second thoughts",
        "Answered: Was the playbook appropriate?",
        "Severity set to SEV2",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
    // The starter set the type already; a change of it reads in words too.
    let middle = copy_of(&incident);
    incident.withdraw_proposal("l2");
    incident.set_incident_type(Some(incident::IncidentType::DataBreach));
    incident.set_severity(None);
    let lines = described(&middle, &incident);
    for expected in [
        "Proposal for the playbook withdrawn: Second thoughts",
        "Incident type set to Data breach",
        "Severity cleared",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
    let raw = [
        "proposals",
        "playbook_appropriate",
        "severity",
        "incident_type",
        "sev2",
    ];
    for line in described(&before, &incident) {
        for key in raw {
            assert!(!line.contains(key), "{line:?} shows the key {key:?}");
        }
    }
}

#[test]
fn starting_from_a_playbook_reads_as_one_line() {
    let blank = Incident::new();
    let (_, incident) = team_playbook();
    let lines = described(&blank, &incident);
    assert!(
        lines
            .iter()
            .any(|l| l == "Started from the Phishing (ours) playbook"),
        "{lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("playbook_id") || l.contains("playbook_version")),
        "{lines:?}"
    );
}

#[test]
fn a_playbook_imported_as_a_copy_keeps_its_content_under_a_fresh_id() {
    let (original, incident) = team_playbook();
    original.edit_summary("Sender: [address]\nReported by: [name]");
    incident.propose_lesson("l1", "Held by the original only", "Alice", NOW);
    original.carry_proposals("inc-1", &incident);
    let file = incident::playbook::playbook_file(&original, LATER);

    let opened = Playbook::open_file(&file).unwrap();
    let copy = opened.copy_as("pb-copy");
    assert_eq!(copy.id(), "pb-copy");
    assert_eq!(copy.contents(), original.contents());
    assert_eq!(copy.version(), 1);
    let from = copy.copied_from().expect("records where it came from");
    assert_eq!(
        (from.id.as_str(), from.name.as_str(), from.version),
        ("pb-phish", "Phishing (ours)", original.version())
    );
    assert!(copy.held_proposals().is_empty());
    assert!(original.copied_from().is_none());
    // No shared history: the original's file is another playbook to the copy.
    assert!(copy.merge_file(&file).is_err());
    // The copy's own file reads back as itself.
    let again =
        incident::playbook::read_playbook_file(&incident::playbook::playbook_file(&copy, LATER))
            .unwrap();
    assert_eq!(again.id, "pb-copy");
}
