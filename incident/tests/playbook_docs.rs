//! A playbook as a document the app saves and syncs like an incident: its changes reach a
//! listener as updates another copy applies, and a starter adopted by a team is its own
//! playbook that remembers where it came from.

use std::cell::RefCell;
use std::rc::Rc;

use incident::playbook::{Playbook, PlaybookStep};
use incident::{Role, UpdateOrigin};

/// The updates a listener was handed, with their origins.
type Sent = Rc<RefCell<Vec<(Vec<u8>, UpdateOrigin)>>>;

#[test]
fn every_change_reaches_a_listener_as_an_update_another_copy_applies() {
    let here = Playbook::adopt("team-ransomware", "starter-ransomware").expect("a starter");
    let there = Playbook::new();
    there
        .apply_update(&here.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    let sent: Sent = Rc::default();
    let sink = sent.clone();
    let subscription = here.on_update(move |update, origin| {
        sink.borrow_mut().push((update.to_vec(), origin));
    });
    here.set_name("Ransomware (ours)");
    here.edit_summary("Who noticed: [name]");
    assert_eq!(sent.borrow().len(), 2);
    assert!(sent.borrow().iter().all(|(_, o)| *o == UpdateOrigin::Local));
    for (update, _) in sent.borrow().iter() {
        there.apply_update(update, UpdateOrigin::Relay).unwrap();
    }
    assert_eq!(there.name(), "Ransomware (ours)");
    assert_eq!(there.summary(), "Who noticed: [name]");
    assert_eq!(there.version(), here.version());

    // Dropped: no more updates are handed on.
    drop(subscription);
    here.set_name("Ransomware");
    assert_eq!(sent.borrow().len(), 2);
}

#[test]
fn an_adopted_starter_is_a_new_playbook_recording_its_starter() {
    let ours = Playbook::adopt("team-1", "starter-ransomware").expect("a starter");
    assert_eq!(ours.id(), "team-1");
    assert_eq!(ours.version(), 1);
    assert!(ours.is_playbook());
    let from = ours.adopted_from().expect("adopted");
    assert_eq!(from.id, "starter-ransomware");
    assert_eq!(from.version, 1);
    assert_eq!(from.name, ours.name());
    let starter = incident::playbook::starter("starter-ransomware").unwrap();
    assert_eq!(ours.contents(), starter.contents());
    assert!(starter.adopted_from().is_none());

    // The team's edits are its own: the starter is unchanged, and a second adoption is a
    // separate playbook.
    ours.add(
        "s-extra",
        &PlaybookStep {
            title: "Call the insurer".into(),
            role: Some(Role::CommsLiaison),
            due_after_minutes: Some(60),
            from: None,
        },
    );
    assert_eq!(ours.version(), 2);
    let again = Playbook::adopt("team-2", "starter-ransomware").unwrap();
    assert!(again.item::<PlaybookStep>("s-extra").is_none());
    assert_eq!(again.id(), "team-2");

    assert!(Playbook::adopt("team-3", "no-such-starter").is_none());
}

#[test]
fn the_post_mortem_asks_about_the_playbook_only_of_an_incident_started_from_one() {
    use incident::export::{report, to_markdown, Audience, ReportKind};
    use incident::playbook::PLAYBOOK_REVIEW;
    use incident::{AnswerStatus, Incident, Tlp};

    let now = "2026-11-30T09:00:00Z";
    let blank = Incident::create("Blank", now);
    assert!(blank.review_questions().is_empty());

    let playbook = Playbook::adopt("team-1", "starter-ransomware").unwrap();
    let mut n = 0;
    let incident = playbook.start_incident("Locked file shares", now, "Ana", &mut || {
        n += 1;
        format!("id-{n}")
    });
    let asked = incident.review_questions();
    assert_eq!(asked, PLAYBOOK_REVIEW.to_vec());
    assert_eq!(asked[0].text, "Was the playbook appropriate?");
    assert_eq!(asked[1].text, "What adjustments need to be made?");

    incident.set_answer_status(asked[0], AnswerStatus::Partly, "Ana");
    incident.set_answer_text(asked[1], "Call the insurer before the press line", "Ana");
    assert_eq!(incident.answer(asked[0]).status, AnswerStatus::Partly);

    // The answers travel with the incident and are in its report's post-mortem.
    let copy = Incident::new();
    copy.apply_update(&incident.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    assert_eq!(
        copy.answer(asked[1]).answer,
        "Call the insurer before the press line"
    );
    let audience = Audience {
        incident_id: "inc-1",
        tlp: Tlp::Red,
        now,
    };
    let markdown = to_markdown(&report(&copy, &audience, ReportKind::Full));
    assert!(
        markdown.contains("Was the playbook appropriate?"),
        "{markdown}"
    );
    assert!(markdown.contains("Call the insurer before the press line"));

    // A blank incident's report has no such rows.
    let markdown = to_markdown(&report(&blank, &audience, ReportKind::Full));
    assert!(!markdown.contains("Was the playbook appropriate?"));
}
