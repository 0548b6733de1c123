//! History as a responder would notice it: the incident rebuilt as it stood at a time from the
//! relay's record (text typed, deleted and retyped; a status changed twice; an entry deleted
//! and re-added; edits made offline that arrive late), what changed between two states, who
//! created and changed each entry, the "since you were last here" list and the hand-off note.
//!
//! Updates are made the way the app makes them: each device is an `Incident` with its own
//! client id whose committed changes are queued (`on_update`) and sent to a relay document,
//! which records each one it accepts; devices catch up from the relay by state vector.

mod common;

use common::{copy, Device, Relay};
use incident::history::{
    catch_up, changes, handoff_note, now_overdue, state_at, ChangeKind, Group, History, Place,
    Record, Replay, ReplayError,
};
use incident::{
    AnswerStatus, Entry, Incident, IncidentStatus, Indicator, NextStep, ProseSection, Role,
    StepField, StepStatus, TimelineEvent, TimelineField, Tlp, QUESTIONS,
};

const CREATED: &str = "2026-11-30T01:00:00Z";

/// Ana creates the incident (received at 1,000 ms) and Bo's device has it.
fn two_people() -> (Relay, Device, Device) {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1);
    ana.incident.initialize("Phished finance laptop", CREATED);
    ana.send(&mut relay, 1_000);
    let bo = Device::new("Bo", 2);
    bo.receive(&relay);
    (relay, ana, bo)
}

fn at(records: &[Record], ms: i64) -> Replay {
    state_at(records, ms).expect("the record replays")
}

fn event(what: &str, when: &str, author: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: when.to_string(),
        what: what.to_string(),
        author: author.to_string(),
        ..Default::default()
    }
}

fn step(title: &str, owner: &str, due: Option<&str>) -> NextStep {
    NextStep {
        title: title.to_string(),
        owner: owner.to_string(),
        due: due.map(str::to_string),
        created_by: "Ana".to_string(),
        created_at: CREATED.to_string(),
        ..Default::default()
    }
}

#[test]
fn text_typed_deleted_and_retyped_reads_as_it_was_at_each_step() {
    let (mut relay, ana, bo) = two_people();
    let typed = [
        (2_000, "Finance clerk opened a fake invoice."),
        (3_000, "Finance clerk opened"),
        (4_000, "Finance clerk opened a zip file from a supplier."),
        (5_000, ""),
        (6_000, "Two clerks opened it."),
    ];
    for (ms, text) in typed {
        ana.incident.edit_section(ProseSection::Summary, text);
        ana.send(&mut relay, ms);
    }
    bo.receive(&relay);
    assert_eq!(
        bo.incident.section_text(ProseSection::Summary),
        "Two clerks opened it."
    );
    assert_eq!(
        at(&relay.records, 1_500)
            .incident()
            .section_text(ProseSection::Summary),
        ""
    );
    for (ms, text) in typed {
        for probe in [ms, ms + 999] {
            let past = at(&relay.records, probe);
            assert_eq!(
                past.incident().section_text(ProseSection::Summary),
                text,
                "at {probe} ms"
            );
        }
    }
    // Stepping one replay forward gives the same states as fresh ones.
    let mut replay = Replay::new();
    for (ms, text) in typed {
        replay.advance_to(&relay.records, ms).unwrap();
        assert_eq!(replay.incident().section_text(ProseSection::Summary), text);
    }
    assert_eq!(replay.applied(), relay.records.len());
}

#[test]
fn moving_back_and_forth_gives_the_same_states_as_fresh_replays() {
    let (mut relay, ana, bo) = two_people();
    for i in 0..12 {
        let who = if i % 3 == 0 { &bo } else { &ana };
        who.receive(&relay);
        let text = who.incident.section_text(ProseSection::Summary);
        let text = if i % 4 == 3 {
            text[..text.len() / 2].to_string()
        } else {
            format!("{text}{} wrote line {i}. ", who.name)
        };
        who.incident.edit_section(ProseSection::Summary, &text);
        who.incident
            .add_timeline_event(&format!("e{i}"), &event(&text, CREATED, who.name));
        who.send(&mut relay, 2_000 + 1_000 * i);
    }
    let mut history = History::new(relay.records.clone(), 3);
    for probe in [13_000, 5_500, 1_000, 9_000, 8_000, 2_000, 13_000, 0, 7_000] {
        let fresh = at(&relay.records, probe);
        let moved = history.state_at(probe).unwrap();
        assert_eq!(moved.applied(), fresh.applied(), "at {probe}");
        assert_eq!(
            moved.incident().section_text(ProseSection::Summary),
            fresh.incident().section_text(ProseSection::Summary),
            "at {probe}"
        );
        assert_eq!(moved.incident().timeline(), fresh.incident().timeline());
        assert_eq!(moved.attribution(), fresh.attribution(), "at {probe}");
        assert_eq!(
            moved.authorship(ProseSection::Summary),
            fresh.authorship(ProseSection::Summary)
        );
    }
    assert!(history.checkpoint_bytes() > 0);
}

#[test]
fn a_status_changed_twice_reads_as_it_was() {
    let (mut relay, ana, bo) = two_people();
    ana.incident.set_status(IncidentStatus::Contained);
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    bo.incident.set_status(IncidentStatus::Resolved);
    bo.send(&mut relay, 3_000);
    assert_eq!(
        at(&relay.records, 1_999).incident().status(),
        IncidentStatus::Open
    );
    assert_eq!(
        at(&relay.records, 2_500).incident().status(),
        IncidentStatus::Contained
    );
    assert_eq!(
        at(&relay.records, 3_000).incident().status(),
        IncidentStatus::Resolved
    );
    let replay = at(&relay.records, 3_000);
    let status = replay
        .attribution()
        .get(&Place::entry("meta", "status"))
        .unwrap();
    assert_eq!(&*status.created.by, "Ana");
    assert_eq!(&*status.changed.by, "Bo");
    assert_eq!(status.changed.received_at_ms, 3_000);
}

#[test]
fn an_entry_deleted_and_re_added_reads_as_it_was() {
    let (mut relay, ana, bo) = two_people();
    let when = "2026-11-30T00:50:00Z";
    ana.incident
        .add_timeline_event("e1", &event("Clerk opens invoice", when, "Ana"));
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    bo.incident.remove_timeline_event("e1");
    bo.send(&mut relay, 3_000);
    ana.receive(&relay);
    ana.incident
        .add_timeline_event("e1", &event("Clerk opens a zip file", when, "Ana"));
    ana.send(&mut relay, 4_000);

    let what = |ms| {
        at(&relay.records, ms)
            .incident()
            .timeline_event("e1")
            .map(|e| e.what)
    };
    assert_eq!(what(1_000), None);
    assert_eq!(what(2_000).as_deref(), Some("Clerk opens invoice"));
    assert_eq!(what(3_000), None);
    assert_eq!(what(4_000).as_deref(), Some("Clerk opens a zip file"));

    let place = Place::entry(TimelineEvent::ROOT, "e1");
    let deleted = at(&relay.records, 3_000);
    let gone = deleted.attribution().get(&place).unwrap();
    assert_eq!(gone.deleted.as_ref().map(|s| &*s.by), Some("Bo"));
    let again = at(&relay.records, 4_000);
    let back = again.attribution().get(&place).unwrap();
    assert_eq!(back.deleted, None);
    assert_eq!(back.created.received_at_ms, 4_000, "re-adding starts over");
}

#[test]
fn edits_made_offline_appear_only_once_they_arrive() {
    let (mut relay, ana, bo) = two_people();
    // Bo is offline from here: he writes at 1,500 ms; it reaches the relay at 9,000 ms.
    bo.incident.add_timeline_event(
        "offline",
        &event("Bo pulls the laptop's network cable", CREATED, "Bo"),
    );
    bo.incident
        .edit_section(ProseSection::Response, "Laptop isolated.");
    ana.incident
        .edit_section(ProseSection::Response, "Mail blocked.");
    ana.incident
        .add_timeline_event("online", &event("Ana blocks the sender", CREATED, "Ana"));
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    bo.send_late(&mut relay, 1_500, 9_000);
    ana.receive(&relay);

    let before = at(&relay.records, 8_999);
    assert!(before.incident().timeline_event("offline").is_none());
    assert!(before.incident().timeline_event("online").is_some());
    assert_eq!(
        before.incident().section_text(ProseSection::Response),
        "Mail blocked."
    );
    let after = at(&relay.records, 9_000);
    assert!(after.incident().timeline_event("offline").is_some());
    let merged = ana.incident.section_text(ProseSection::Response);
    assert_eq!(
        after.incident().section_text(ProseSection::Response),
        merged
    );
    assert!(merged.contains("Laptop isolated.") && merged.contains("Mail blocked."));

    let written: Vec<(String, String)> = after
        .authorship(ProseSection::Response)
        .into_iter()
        .map(|w| (w.text, w.by.unwrap().to_string()))
        .collect();
    let mut by_person: Vec<String> = written
        .iter()
        .map(|(text, by)| format!("{by}: {text}"))
        .collect();
    by_person.sort();
    assert_eq!(
        by_person,
        vec!["Ana: Mail blocked.", "Bo: Laptop isolated."]
    );
    let stamp = &after
        .attribution()
        .get(&Place::entry(TimelineEvent::ROOT, "offline"))
        .unwrap()
        .created;
    assert_eq!(&*stamp.by, "Bo");
    assert_eq!(stamp.written_at_ms, Some(1_500));
    assert_eq!(stamp.received_at_ms, 9_000);
    // The whole replay is the relay's document.
    assert_eq!(
        after.incident().timeline(),
        relay.doc.timeline(),
        "replaying the record gives the live state"
    );
}

#[test]
fn an_offline_edit_of_an_entry_deleted_meanwhile_leaves_it_deleted() {
    let (mut relay, ana, bo) = two_people();
    ana.incident
        .add_timeline_event("e1", &event("Alert", CREATED, "Ana"));
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    bo.incident
        .set_timeline_field("e1", TimelineField::What, "Alert on FIN-07");
    ana.incident.remove_timeline_event("e1");
    ana.send(&mut relay, 3_000);
    bo.send_late(&mut relay, 2_500, 4_000);
    bo.receive(&relay);

    let end = at(&relay.records, 4_000);
    assert_eq!(end.incident().timeline_event("e1"), None);
    assert_eq!(bo.incident.timeline_event("e1"), None);
    let place = Place::entry(TimelineEvent::ROOT, "e1");
    let gone = end.attribution().get(&place).unwrap();
    assert_eq!(gone.deleted.as_ref().map(|s| &*s.by), Some("Ana"));
    assert_eq!(
        at(&relay.records, 2_999)
            .incident()
            .timeline_event("e1")
            .map(|e| e.what)
            .as_deref(),
        Some("Alert")
    );
}

#[test]
fn attribution_tells_creation_from_the_last_change() {
    let (mut relay, ana, bo) = two_people();
    ana.incident
        .add_timeline_event("e1", &event("Alert fires", CREATED, "Ana"));
    ana.incident
        .edit_section(ProseSection::Summary, "An alert fired.");
    ana.incident
        .add_next_step("s1", &step("Reset passwords", "Ana", None));
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    bo.incident
        .set_timeline_field("e1", TimelineField::What, "EDR alert fires on FIN-07");
    bo.incident
        .edit_section(ProseSection::Summary, "An EDR alert fired.");
    bo.send(&mut relay, 3_000);

    let replay = at(&relay.records, i64::MAX);
    let who = |place: Place| {
        let a = replay.attribution().get(&place).unwrap();
        (
            a.created.by.to_string(),
            a.created.received_at_ms,
            a.changed.by.to_string(),
            a.changed.received_at_ms,
        )
    };
    let both = ("Ana".to_string(), 2_000, "Bo".to_string(), 3_000);
    assert_eq!(who(Place::entry(TimelineEvent::ROOT, "e1")), both);
    assert_eq!(who(Place::prose(ProseSection::Summary)), both);
    let only_ana = ("Ana".to_string(), 2_000, "Ana".to_string(), 2_000);
    assert_eq!(who(Place::entry(NextStep::ROOT, "s1")), only_ana);
    assert!(replay
        .attribution()
        .get(&Place::prose(ProseSection::Details))
        .is_none());

    // A prose section by who typed each part of it.
    let runs: Vec<(String, Option<String>)> = replay
        .authorship(ProseSection::Summary)
        .into_iter()
        .map(|w| (w.text, w.by.map(|b| b.to_string())))
        .collect();
    let run = |text: &str, by: &str| (text.to_string(), Some(by.to_string()));
    assert_eq!(
        runs,
        vec![
            run("An ", "Ana"),
            run("EDR ", "Bo"),
            run("alert fired.", "Ana")
        ]
    );
    assert!(replay.authorship(ProseSection::Details).is_empty());

    // The places each record touched, as it is applied.
    let mut replay = Replay::new();
    let touched: Vec<Vec<Place>> = relay
        .records
        .iter()
        .map(|r| replay.apply(r).unwrap())
        .collect();
    let last = touched.last().unwrap();
    assert!(last.contains(&Place::prose(ProseSection::Summary)));
    assert!(
        touched
            .iter()
            .any(|t| t.contains(&Place::entry(TimelineEvent::ROOT, "e1"))),
        "{touched:?}"
    );
}

#[test]
fn a_record_out_of_order_or_unreadable_is_refused() {
    let (mut relay, ana, _) = two_people();
    ana.incident.set_title("Renamed");
    ana.send(&mut relay, 2_000);
    let mut replay = Replay::new();
    replay.apply(&relay.records[1]).unwrap();
    assert_eq!(
        replay.apply(&relay.records[0]),
        Err(ReplayError::OutOfOrder { seq: 1, after: 2 })
    );
    assert!(
        replay.incomplete(),
        "the title's change waits for the incident's creation"
    );
    assert_eq!(replay.incident().title(), "");
    let whole = at(&relay.records, i64::MAX);
    assert!(!whole.incomplete());
    assert_eq!(whole.incident().title(), "Renamed");
    let mut bad = relay.records[1].clone();
    bad.seq = 3;
    bad.update = vec![0xff, 0xff, 0xff];
    assert!(matches!(
        replay.apply(&bad),
        Err(ReplayError::BadRecord { seq: 3, .. })
    ));
}

/// The kinds of change found for the entry `id` of `section`.
fn kinds_of(list: &[incident::history::Change], section: &str, id: &str) -> Vec<ChangeKind> {
    list.iter()
        .filter(|c| c.place.section == section && c.place.id.as_deref() == Some(id))
        .map(|c| c.kind.clone())
        .collect()
}

#[test]
fn changes_name_every_kind_of_change() {
    let inc = Incident::with_client_id(1);
    inc.initialize("Phish", CREATED);
    inc.add_timeline_event("keep", &event("Alert", CREATED, "Ana"));
    inc.add_timeline_event("edit", &event("Clerk clicks", CREATED, "Ana"));
    inc.add_timeline_event("drop", &event("Wrong event", CREATED, "Ana"));
    inc.add_indicator("203.0.113.7", None, "Ana", CREATED)
        .unwrap();
    inc.add_indicator("evil.example", None, "Ana", CREATED)
        .unwrap();
    inc.add_next_step("done", &step("Block sender", "Ana", None));
    inc.add_next_step("reopen", &step("Wipe laptop", "Ana", None));
    inc.set_next_step_status("reopen", StepStatus::Done);
    inc.add_next_step("give", &step("Call the bank", "Ana", None));
    inc.add_next_step(
        "due",
        &step("Tell legal", "Ana", Some("2026-11-30T09:00:00Z")),
    );
    inc.add_next_step("rename", &step("Check backups", "Ana", None));
    inc.add_next_step("gone", &step("Duplicate", "Ana", None));
    inc.claim_role(Role::Commander, "Ana", CREATED, "r1");
    inc.edit_section(ProseSection::Summary, "A clerk was phished.");
    inc.set_answer_status(QUESTIONS[1], AnswerStatus::Partly, "Ana");
    let before = copy(&inc);

    inc.set_title("Phish → ransomware");
    inc.set_status(IncidentStatus::Contained);
    inc.set_classification("Internal");
    inc.set_tlp(Tlp::Red);
    inc.set_section_tlp(ProseSection::Details, Some(Tlp::Red));
    inc.set_timeline_field("edit", TimelineField::What, "Clerk clicks the link");
    inc.set_timeline_field("edit", TimelineField::Source, "Proxy log");
    inc.remove_timeline_event("drop");
    inc.add_timeline_event("new", &event("Encryption starts", CREATED, "Bo"));
    inc.add_indicator("198.51.100.9", None, "Bo", CREATED)
        .unwrap();
    let ioc = incident::indicator_id("203.0.113.7");
    inc.set_indicator_field(&ioc, incident::IndicatorField::Note, "C2");
    inc.remove_indicator(&incident::indicator_id("evil.example"));
    inc.set_next_step_status("done", StepStatus::Done);
    inc.set_next_step_status("reopen", StepStatus::Open);
    inc.set_next_step_field("give", StepField::Owner, "Bo");
    inc.set_next_step_field("due", StepField::Due, "2026-11-30T12:00:00Z");
    inc.set_next_step_field("rename", StepField::Title, "Check the offline backups");
    inc.remove_next_step("gone");
    inc.add_next_step("added", &step("Rotate keys", "Bo", None));
    inc.claim_role(Role::Commander, "Bo", CREATED, "r2");
    inc.claim_role(Role::Scribe, "Cy", CREATED, "r3");
    inc.edit_section(ProseSection::Summary, "A clerk was phished; two servers.");
    inc.edit_section(ProseSection::Theories, "Maybe the supplier was breached.");
    inc.set_answer_text(QUESTIONS[0], "Yes, payroll data.", "Bo");
    inc.set_answer_status(QUESTIONS[1], AnswerStatus::Yes, "Bo");

    let list = changes(&before, &inc);
    let meta = |key| kinds_of(&list, "meta", key);
    assert_eq!(
        meta("title"),
        vec![ChangeKind::TitleChanged {
            from: "Phish".into(),
            to: "Phish → ransomware".into()
        }]
    );
    assert_eq!(
        meta("status"),
        vec![ChangeKind::StatusChanged {
            from: IncidentStatus::Open,
            to: IncidentStatus::Contained
        }]
    );
    assert!(matches!(
        meta("classification")[..],
        [ChangeKind::ClassificationChanged { .. }]
    ));
    assert_eq!(
        meta("tlp"),
        vec![ChangeKind::TlpChanged {
            from: Tlp::Amber,
            to: Tlp::Red
        }]
    );
    assert!(matches!(
        meta("tlp.details")[..],
        [ChangeKind::SectionTlpChanged {
            section: ProseSection::Details,
            from: None,
            to: Some(Tlp::Red)
        }]
    ));

    let timeline = |id| kinds_of(&list, TimelineEvent::ROOT, id);
    assert_eq!(timeline("keep"), vec![]);
    assert_eq!(
        timeline("edit"),
        vec![ChangeKind::Changed {
            fields: vec!["What happened".into(), "Source".into()]
        }]
    );
    assert_eq!(timeline("drop"), vec![ChangeKind::Deleted]);
    assert_eq!(timeline("new"), vec![ChangeKind::Added]);
    assert_eq!(
        timeline("r2"),
        vec![ChangeKind::Added],
        "the hand-off's event"
    );

    let indicators = |value| kinds_of(&list, Indicator::ROOT, &incident::indicator_id(value));
    assert_eq!(indicators("198.51.100.9"), vec![ChangeKind::Added]);
    assert_eq!(
        indicators("203.0.113.7"),
        vec![ChangeKind::Changed {
            fields: vec!["Note".into()]
        }]
    );
    assert_eq!(indicators("evil.example"), vec![ChangeKind::Deleted]);

    let steps = |id| kinds_of(&list, NextStep::ROOT, id);
    assert_eq!(steps("done"), vec![ChangeKind::StepDone]);
    assert_eq!(steps("reopen"), vec![ChangeKind::StepReopened]);
    assert_eq!(
        steps("give"),
        vec![ChangeKind::StepReassigned {
            from: "Ana".into(),
            to: "Bo".into()
        }]
    );
    assert_eq!(
        steps("due"),
        vec![ChangeKind::StepDueChanged {
            from: Some("2026-11-30T09:00:00Z".into()),
            to: Some("2026-11-30T12:00:00Z".into())
        }]
    );
    assert_eq!(
        steps("rename"),
        vec![ChangeKind::Changed {
            fields: vec!["Next step".into()]
        }]
    );
    assert_eq!(steps("gone"), vec![ChangeKind::Deleted]);
    assert_eq!(steps("added"), vec![ChangeKind::Added]);

    let roles = |role: Role| kinds_of(&list, RoleHolder_ROOT, role.key());
    assert_eq!(
        roles(Role::Commander),
        vec![ChangeKind::RoleHandedOff {
            role: Role::Commander,
            from: Some("Ana".into()),
            to: Some("Bo".into())
        }]
    );
    assert_eq!(
        roles(Role::Scribe),
        vec![ChangeKind::RoleHandedOff {
            role: Role::Scribe,
            from: None,
            to: Some("Cy".into())
        }]
    );

    let prose: Vec<_> = list
        .iter()
        .filter_map(|c| match c.kind {
            ChangeKind::ProseChanged { section } => Some(section),
            _ => None,
        })
        .collect();
    assert_eq!(
        prose,
        vec![ProseSection::Summary, ProseSection::Theories],
        "and no other section"
    );
    assert_eq!(
        kinds_of(&list, "questions", QUESTIONS[0].key),
        vec![ChangeKind::Answered {
            question: QUESTIONS[0]
        }]
    );
    assert_eq!(
        kinds_of(&list, "questions", QUESTIONS[1].key),
        vec![ChangeKind::AnswerChanged {
            question: QUESTIONS[1]
        }]
    );
    // Nothing else, and nothing at all between a state and itself.
    assert_eq!(
        timeline("r3"),
        vec![ChangeKind::Added],
        "Cy's hand-off event"
    );
    assert_eq!(list.len(), 26, "{list:#?}");
    assert!(changes(&inc, &copy(&inc)).is_empty());
    assert!(changes(&inc, &inc).is_empty());
    // Each reads as a line a person understands.
    let lines: Vec<String> = list.iter().map(|c| c.describe("UTC")).collect();
    assert!(lines.contains(&"Handed from Ana to Bo: Call the bank".to_string()));
    assert!(lines.contains(&"Bo took over as Incident commander from Ana".to_string()));
    assert!(lines.contains(&"Status changed from Open to Contained".to_string()));
    assert!(lines.contains(&"Timeline event deleted: Wrong event".to_string()));
}

#[allow(non_upper_case_globals)]
const RoleHolder_ROOT: &str = <incident::RoleHolder as Entry>::ROOT;

#[test]
fn steps_that_turned_late_are_found_between_two_times() {
    let inc = Incident::with_client_id(1);
    inc.initialize("Phish", CREATED);
    inc.add_next_step(
        "old",
        &step("Late before", "Ana", Some("2026-11-30T02:00:00Z")),
    );
    inc.add_next_step(
        "new",
        &step("Late since", "Ana", Some("2026-11-30T05:00:00Z")),
    );
    inc.add_next_step(
        "later",
        &step("Not yet", "Ana", Some("2026-11-30T09:00:00Z")),
    );
    inc.add_next_step("done", &step("Done", "Ana", Some("2026-11-30T05:00:00Z")));
    inc.set_next_step_status("done", StepStatus::Done);
    let late = now_overdue(&inc, "2026-11-30T03:00:00Z", "2026-11-30T06:00:00Z");
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].place, Place::entry(NextStep::ROOT, "new"));
}

#[test]
fn catch_up_lists_what_changed_newest_first_with_who_and_when() {
    let (mut relay, ana, bo) = two_people();
    ana.incident.add_next_step(
        "s1",
        &step("Reset passwords", "Ana", Some("2026-11-30T04:00:00Z")),
    );
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    // Bo's mark: what his device had when he last read it.
    let mark = copy(&bo.incident);
    ana.incident
        .add_timeline_event("e1", &event("Alert", CREATED, "Ana"));
    ana.send(&mut relay, 3_000);
    ana.incident
        .add_timeline_event("e2", &event("Second alert", CREATED, "Ana"));
    ana.send(&mut relay, 4_000);
    ana.incident
        .claim_role(Role::Commander, "Ana", CREATED, "e3");
    ana.send(&mut relay, 5_000);
    ana.incident.edit_section(ProseSection::Summary, "Phished.");
    ana.send(&mut relay, 6_000);
    bo.receive(&relay);

    let replay = at(&relay.records, i64::MAX);
    let groups = catch_up(
        &mark,
        &bo.incident,
        Some(replay.attribution()),
        "2026-11-30T03:00:00Z",
        "2026-11-30T06:00:00Z",
        2,
    );
    let titles: Vec<Group> = groups.iter().map(|g| g.group).collect();
    assert_eq!(
        titles,
        vec![
            Group::Roles,
            Group::NextSteps,
            Group::Timeline,
            Group::Sections
        ]
    );
    let timeline = &groups[2];
    let ids: Vec<_> = timeline
        .items
        .iter()
        .map(|i| i.change.place.id.clone().unwrap())
        .collect();
    assert_eq!(ids, vec!["e3", "e2"], "newest first, two per group");
    assert_eq!(timeline.more, 1);
    let first = &timeline.items[0];
    assert_eq!(first.stamp.as_ref().map(|s| &*s.by), Some("Ana"));
    assert_eq!(first.stamp.as_ref().map(|s| s.received_at_ms), Some(5_000));
    let steps = &groups[1];
    assert!(matches!(
        steps.items[0].change.kind,
        ChangeKind::StepOverdue { .. }
    ));
    assert_eq!(
        steps.items[0].line,
        "Late since 2026-11-30 04:00 UTC: Reset passwords"
    );
    assert_eq!(groups[3].items[0].line, "Summary changed");

    // Offline, without the record: the same list in the page's order, no names.
    let offline = catch_up(
        &mark,
        &bo.incident,
        None,
        "2026-11-30T03:00:00Z",
        "2026-11-30T06:00:00Z",
        10,
    );
    assert_eq!(offline[2].items.len(), 3);
    assert!(offline
        .iter()
        .flat_map(|g| &g.items)
        .all(|i| i.stamp.is_none()));
}

#[test]
fn the_hand_off_note_lists_late_steps_first_by_owner() {
    let inc = Incident::with_client_id(1);
    inc.initialize("Phish", CREATED);
    inc.claim_role(Role::Commander, "Dana", CREATED, "r1");
    let start = copy(&inc);
    inc.add_next_step(
        "a1",
        &step("Image the laptop", "Ana", Some("2026-11-30T20:00:00Z")),
    );
    inc.add_next_step(
        "a2",
        &step("Reset passwords", "Ana", Some("2026-11-30T04:00:00Z")),
    );
    inc.add_next_step("b1", &step("Call the bank", "Bo", None));
    inc.add_next_step("x1", &step("Write the press line", "", None));
    inc.add_next_step("d1", &step("Block sender", "Bo", None));
    inc.set_next_step_status("d1", StepStatus::Done);
    inc.set_answer_text(QUESTIONS[0], "Payroll, probably", "Ana");
    inc.set_answer_status(QUESTIONS[1], AnswerStatus::No, "Ana");
    inc.edit_section(
        ProseSection::Theories,
        "- The supplier's mailbox was taken over\n- An insider",
    );
    let shift = changes(&start, &inc);
    let note = handoff_note(&inc, &shift, "2026-11-30T07:00:00Z");

    assert!(
        note.starts_with("Shift hand-off, 2026-11-30 07:00 UTC\n"),
        "{note}"
    );
    assert!(note.contains("- Incident commander: Dana\n"), "{note}");
    let ana = note.find("Ana:\n").expect(&note);
    let late = note
        .find("- Reset passwords (LATE, due 2026-11-30 04:00 UTC)")
        .expect(&note);
    let not_late = note
        .find("- Image the laptop (due 2026-11-30 20:00 UTC)")
        .expect(&note);
    assert!(ana < late && late < not_late, "{note}");
    assert!(note.contains("Bo:\n- Call the bank\n"), "{note}");
    assert!(
        note.contains("Nobody yet:\n- Write the press line\n"),
        "{note}"
    );
    let by_owner =
        &note[note.find("Next steps by owner").unwrap()..note.find("What changed").unwrap()];
    assert!(
        !by_owner.contains("Block sender"),
        "done steps are not open: {note}"
    );
    assert!(
        note.contains("- Is it our data? (so far: Payroll, probably)"),
        "{note}"
    );
    let threads =
        &note[note.find("Open threads").unwrap()..note.find("Next steps by owner").unwrap()];
    assert!(!threads.contains("Is it a breach?"), "answered: {note}");
    assert!(
        note.contains("- Theory: The supplier's mailbox was taken over\n"),
        "{note}"
    );
    assert!(
        note.contains("- Next step added: Reset passwords\n"),
        "{note}"
    );
    assert!(note.contains("- Theories changed\n"), "{note}");
    // A long list is cut, late steps kept.
    for i in 0..30 {
        inc.add_next_step(
            &format!("many{i:02}"),
            &step(
                &format!("Reimage host {i:02}"),
                "Cy",
                Some("2026-11-30T21:00:00Z"),
            ),
        );
    }
    inc.add_next_step(
        "cy-late",
        &step(
            "Report to the regulator",
            "Cy",
            Some("2026-11-30T05:00:00Z"),
        ),
    );
    let long = handoff_note(&inc, &shift, "2026-11-30T07:00:00Z");
    let cy = &long[long.find("Cy:\n").unwrap()..long.find("Nobody yet:").unwrap()];
    assert!(
        cy.starts_with("Cy:\n- Report to the regulator (LATE"),
        "{cy}"
    );
    assert_eq!(cy.lines().count(), 1 + 20 + 1, "{cy}");
    assert!(cy.ends_with("- … and 11 more.\n"), "{cy}");

    // It is text a timeline event can hold.
    inc.add_timeline_event("handoff", &event(&note, "2026-11-30T07:00:00Z", "Dana"));
    assert_eq!(inc.timeline_event("handoff").unwrap().what, note);
}
