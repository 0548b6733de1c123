//! Restoring from the incident as it stood at a time: an entry deleted since comes back, a
//! changed one gets its old fields, a prose section its old text, each as a normal new edit
//! that the relay records as one more record (the past is never rewritten), and that merges
//! with what another person does at the same time without losing it.
//!
//! As in `history.rs`: each device is an `Incident` with its own client id whose committed
//! changes queue up and are sent to a relay document that records each one it accepts; past
//! states are rebuilt from that record.

mod common;

use common::{Device, Relay};
use incident::history::{
    can_restore, changes, restore, ChangeKind, Place, Record, RestoreError, Restored,
};
use incident::{
    Entry, Indicator, NextStep, ProseSection, StepField, StepStatus, TimelineEvent, TimelineField,
    Tlp,
};

const CREATED: &str = "2026-11-30T01:00:00Z";

/// Ana creates the incident (received at 1,000 ms) with an event, an indicator and a step,
/// and a summary; Bo's device has it all.
fn two_people() -> (Relay, Device, Device) {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1);
    ana.incident.initialize("Phished finance laptop", CREATED);
    ana.incident.add_timeline_event(
        "ev1",
        &TimelineEvent {
            occurred_at: "2026-11-30T00:40:00Z".into(),
            what: "Invoice mail opened".into(),
            source: "Mail gateway".into(),
            author: "Ana".into(),
            indicators: vec!["ioc-x".into()],
            ..Default::default()
        },
    );
    ana.incident
        .add_indicator("evil.example", None, "Ana", CREATED)
        .unwrap();
    ana.incident.add_next_step(
        "st1",
        &NextStep {
            title: "Reset the clerk's password".into(),
            owner: "Bo".into(),
            created_by: "Ana".into(),
            created_at: CREATED.into(),
            ..Default::default()
        },
    );
    ana.incident
        .edit_section(ProseSection::Summary, "A clerk opened a fake invoice.");
    ana.send(&mut relay, 1_000);
    let bo = Device::new("Bo", 2);
    bo.receive(&relay);
    (relay, ana, bo)
}

fn place(section: &'static str, id: &str) -> Place {
    Place::entry(section, id)
}

#[test]
fn an_event_deleted_since_comes_back_whole_under_its_old_id_as_a_new_record() {
    let (mut relay, ana, bo) = two_people();
    let before = ana.incident.timeline_event("ev1").unwrap();
    ana.incident.remove_timeline_event("ev1");
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    assert_eq!(bo.incident.timeline_event("ev1"), None);

    // Bo looks at the incident as of 1,500 ms: the event is there, and deleted since.
    let then = relay.then(1_500);
    let since = changes(&then, &bo.incident);
    let deleted = since
        .iter()
        .find(|c| c.kind == ChangeKind::Deleted)
        .expect("the deletion is listed");
    assert_eq!(deleted.place, place(TimelineEvent::ROOT, "ev1"));
    assert!(can_restore(deleted));

    let records_before = relay.records.len();
    assert_eq!(
        restore(&then, &bo.incident, &deleted.place),
        Ok(Restored::Recreated)
    );
    assert_eq!(bo.incident.timeline_event("ev1"), Some(before.clone()));
    // One new edit, sent and recorded like any other; the records before it are untouched.
    assert_eq!(bo.pending(), 1);
    let kept: Vec<Record> = relay.records.clone();
    bo.send(&mut relay, 3_000);
    assert_eq!(relay.records.len(), records_before + 1);
    assert_eq!(relay.records[..records_before], kept[..]);
    assert_eq!(relay.records.last().unwrap().by, "Bo");

    // Everyone has it back, and the past still reads as it was at each time.
    ana.receive(&relay);
    assert_eq!(ana.incident.timeline_event("ev1"), Some(before.clone()));
    assert_eq!(relay.then(2_500).timeline_event("ev1"), None);
    assert_eq!(relay.then(3_000).timeline_event("ev1"), Some(before));
    // Restoring again changes nothing and sends nothing.
    assert_eq!(
        restore(&then, &bo.incident, &deleted.place),
        Ok(Restored::Unchanged)
    );
    assert_eq!(bo.pending(), 0);
}

#[test]
fn a_deleted_indicator_comes_back_under_its_hash_so_it_stays_one_entry() {
    let (mut relay, ana, bo) = two_people();
    let (id, indicator) = ana.incident.indicators().remove(0);
    ana.incident.remove_indicator(&id);
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    let then = relay.then(1_000);
    assert_eq!(
        restore(&then, &bo.incident, &place(Indicator::ROOT, &id)),
        Ok(Restored::Recreated)
    );
    assert_eq!(bo.incident.indicator(&id), Some(indicator));
    // Adding the same IOC again finds it there: no second entry.
    assert!(bo
        .incident
        .add_indicator("evil[.]example", None, "Bo", CREATED)
        .is_err());
    assert_eq!(bo.incident.indicators().len(), 1);
}

#[test]
fn a_changed_entry_gets_back_only_the_fields_that_differ() {
    let (mut relay, ana, bo) = two_people();
    ana.incident
        .set_timeline_field("ev1", TimelineField::What, "Zip file opened");
    ana.incident.set_next_step_status("st1", StepStatus::Done);
    ana.incident
        .set_next_step_field("st1", StepField::Owner, "Cy");
    ana.send(&mut relay, 2_000);
    let then = relay.then(1_000);

    let since = changes(&then, &ana.incident);
    let step_changes: Vec<_> = since
        .iter()
        .filter(|c| c.place == place(NextStep::ROOT, "st1"))
        .collect();
    assert!(step_changes.len() >= 2, "{step_changes:?}");
    assert!(step_changes.iter().all(|c| can_restore(c)));

    assert_eq!(
        restore(&then, &ana.incident, &place(TimelineEvent::ROOT, "ev1")),
        Ok(Restored::Fields(vec!["What happened".to_string()]))
    );
    assert_eq!(
        restore(&then, &ana.incident, &place(NextStep::ROOT, "st1")),
        Ok(Restored::Fields(vec!["Owner".into(), "Status".into()]))
    );
    ana.send(&mut relay, 3_000);
    bo.receive(&relay);
    let step = bo.incident.next_steps().remove(0).1;
    assert_eq!((step.owner.as_str(), step.status), ("Bo", StepStatus::Open));
    assert_eq!(
        bo.incident.timeline_event("ev1").unwrap().what,
        "Invoice mail opened"
    );
}

#[test]
fn a_field_the_entry_did_not_have_then_is_removed() {
    let (mut relay, ana, _bo) = two_people();
    assert!(ana
        .incident
        .set_timeline_field("ev1", TimelineField::Tlp, Tlp::Red.as_str()));
    ana.send(&mut relay, 2_000);
    let then = relay.then(1_000);
    assert_eq!(
        restore(&then, &ana.incident, &place(TimelineEvent::ROOT, "ev1")),
        Ok(Restored::Fields(vec!["TLP".into()]))
    );
    assert_eq!(ana.incident.timeline_event("ev1").unwrap().tlp, None);
}

#[test]
fn a_restore_and_another_persons_edit_of_the_same_entry_both_survive() {
    let (mut relay, ana, bo) = two_people();
    ana.incident
        .set_timeline_field("ev1", TimelineField::What, "Zip file opened");
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    let then = relay.then(1_000);

    // At the same time, offline from each other: Bo restores the old "what", Ana corrects
    // the source of the same event.
    restore(&then, &bo.incident, &place(TimelineEvent::ROOT, "ev1")).unwrap();
    ana.incident
        .set_timeline_field("ev1", TimelineField::Source, "Clerk's report");
    bo.send(&mut relay, 3_000);
    ana.send(&mut relay, 3_000);
    ana.receive(&relay);
    bo.receive(&relay);

    for device in [&ana, &bo] {
        let event = device.incident.timeline_event("ev1").unwrap();
        assert_eq!(event.what, "Invoice mail opened", "{}", device.name);
        assert_eq!(event.source, "Clerk's report", "{}", device.name);
    }
    assert_eq!(ana.incident.encode_state(), bo.incident.encode_state());
}

#[test]
fn two_people_restoring_the_same_deleted_step_at_once_get_one_step() {
    let (mut relay, ana, bo) = two_people();
    ana.incident.remove_next_step("st1");
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    let then = relay.then(1_000);
    let key = place(NextStep::ROOT, "st1");
    assert_eq!(restore(&then, &ana.incident, &key), Ok(Restored::Recreated));
    assert_eq!(restore(&then, &bo.incident, &key), Ok(Restored::Recreated));
    ana.send(&mut relay, 3_000);
    bo.send(&mut relay, 3_000);
    ana.receive(&relay);
    bo.receive(&relay);
    let steps = ana.incident.next_steps();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].1.title, "Reset the clerk's password");
    assert_eq!(steps, bo.incident.next_steps());
}

#[test]
fn a_prose_section_gets_its_old_text_and_keeps_what_someone_types_meanwhile() {
    let (mut relay, ana, bo) = two_people();
    ana.incident.edit_section(
        ProseSection::Summary,
        "A clerk opened a zip file. Finance was told.",
    );
    ana.send(&mut relay, 2_000);
    bo.receive(&relay);
    let then = relay.then(1_000);

    let records_before = relay.records.len();
    assert_eq!(
        restore(&then, &bo.incident, &Place::prose(ProseSection::Summary)),
        Ok(Restored::Text)
    );
    assert_eq!(
        bo.incident.section_text(ProseSection::Summary),
        "A clerk opened a fake invoice."
    );
    // Meanwhile Ana adds a sentence at the start; both edits merge.
    ana.incident.edit_section(
        ProseSection::Summary,
        "Monday. A clerk opened a zip file. Finance was told.",
    );
    bo.send(&mut relay, 3_000);
    ana.send(&mut relay, 3_000);
    assert_eq!(relay.records.len(), records_before + 2);
    ana.receive(&relay);
    bo.receive(&relay);
    let merged = ana.incident.section_text(ProseSection::Summary);
    assert_eq!(merged, "Monday. A clerk opened a fake invoice.");
    assert_eq!(bo.incident.section_text(ProseSection::Summary), merged);
}

#[test]
fn what_cannot_be_restored_says_why() {
    let (mut relay, ana, _bo) = two_people();
    ana.incident.add_timeline_event(
        "ev2",
        &TimelineEvent {
            occurred_at: "2026-11-30T01:30:00Z".into(),
            what: "Laptop isolated".into(),
            ..Default::default()
        },
    );
    ana.incident.set_title("Phished finance laptop, contained");
    ana.send(&mut relay, 2_000);
    let then = relay.then(1_000);
    let since = changes(&then, &ana.incident);
    let added = since
        .iter()
        .find(|c| c.kind == ChangeKind::Added)
        .expect("the new event is listed");
    assert!(!can_restore(added));
    let title = since
        .iter()
        .find(|c| matches!(c.kind, ChangeKind::TitleChanged { .. }))
        .unwrap();
    assert!(!can_restore(title));
    assert_eq!(
        restore(&then, &ana.incident, &place(TimelineEvent::ROOT, "ev2")),
        Err(RestoreError::NotThen)
    );
    assert_eq!(
        restore(&then, &ana.incident, &title.place),
        Err(RestoreError::NotRestorable)
    );
    assert!(ana.incident.timeline_event("ev2").is_some());
    assert_eq!(ana.pending(), 0);
}
