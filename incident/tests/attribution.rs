//! The device's time of changes made offline, as a responder reading "who wrote what" would
//! notice it: an edit made offline that reaches the relay hours later says when it was
//! written; an edit made online says nothing more than the relay's receive time.
//!
//! Devices send the way the app does: while online, each committed change as it is made;
//! after being offline, everything the relay lacks as ONE update (the answer to the relay's
//! state vector), with `note_device_time` written beside the edits while out of sync.

use incident::history::{
    changes, state_at, written_offline, History, Place, Record, Replay, OFFLINE_GAP_MS,
};
use incident::{Entry, Incident, ProseSection, TimelineEvent, TimelineField, UpdateOrigin};

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;
/// 2026-11-30 00:00 UTC.
const MIDNIGHT: i64 = 1_764_460_800_000;

/// The relay: its document and the record of what it accepted.
struct Relay {
    doc: Incident,
    records: Vec<Record>,
}

impl Relay {
    fn new() -> Relay {
        Relay {
            doc: Incident::with_client_id(900),
            records: Vec::new(),
        }
    }

    /// Accepts an update from `by`, received at `at_ms` (the relay fills in no device time).
    fn accept(&mut self, update: Vec<u8>, by: &str, at_ms: i64) {
        self.doc
            .apply_update(&update, UpdateOrigin::Relay)
            .expect("a good update");
        self.records.push(Record {
            seq: self.records.len() as u64 + 1,
            received_at_ms: at_ms,
            by: by.to_string(),
            written_at_ms: None,
            update,
        });
    }
}

/// A person's device with what the relay has of it.
struct Device {
    name: &'static str,
    incident: Incident,
}

impl Device {
    fn new(name: &'static str, client_id: u64, relay: &Relay) -> Device {
        let device = Device {
            name,
            incident: Incident::with_client_id(client_id),
        };
        device.catch_up(relay);
        device
    }

    fn catch_up(&self, relay: &Relay) {
        let diff = relay
            .doc
            .encode_diff(&self.incident.state_vector())
            .unwrap();
        self.incident
            .apply_update(&diff, UpdateOrigin::Relay)
            .unwrap();
    }

    /// Sends what the relay lacks as one update (a reconnect's exchange), received at `at_ms`.
    fn sync(&self, relay: &mut Relay, at_ms: i64) {
        let diff = self
            .incident
            .encode_diff(&relay.doc.state_vector())
            .unwrap();
        relay.accept(diff, self.name, at_ms);
        self.catch_up(relay);
    }
}

fn event(what: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: "2026-11-30T01:00:00Z".into(),
        what: what.into(),
        ..Default::default()
    }
}

fn replay(relay: &Relay) -> Replay {
    state_at(&relay.records, i64::MAX).expect("the record replays")
}

fn timeline(id: &str) -> Place {
    Place::entry(TimelineEvent::ROOT, id)
}

#[test]
fn edits_made_offline_reach_the_relay_late_with_the_device_time() {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1, &relay);
    ana.incident
        .initialize("Phished laptop", "2026-11-30T00:00:00Z");
    ana.sync(&mut relay, MIDNIGHT);
    let ben = Device::new("Ben", 2, &relay);

    // Ben's laptop is offline on a train: an event at 01:00, the summary at 01:10, both
    // stamped with his clock as he goes.
    ben.incident
        .add_timeline_event("ev-train", &event("Ben saw the alert"));
    ben.incident.note_device_time(MIDNIGHT + HOUR);
    ben.incident
        .edit_section(ProseSection::Summary, "Seen from the train.");
    ben.incident.note_device_time(MIDNIGHT + HOUR + 10 * MINUTE);
    // Online meanwhile, Ana adds an event at 01:30: no device time.
    ana.incident
        .add_timeline_event("ev-desk", &event("Ana isolated the laptop"));
    ana.sync(&mut relay, MIDNIGHT + HOUR + 30 * MINUTE);
    // Ben reconnects at 03:00: everything goes up as one update.
    ben.sync(&mut relay, MIDNIGHT + 3 * HOUR);

    let replay = replay(&relay);
    let who = replay.attribution();
    let train = who.get(&timeline("ev-train")).expect("Ben's event");
    assert_eq!(&*train.created.by, "Ben");
    assert_eq!(train.created.received_at_ms, MIDNIGHT + 3 * HOUR);
    // The device's time of the last change made offline before it synced.
    assert_eq!(
        train.created.written_at_ms,
        Some(MIDNIGHT + HOUR + 10 * MINUTE)
    );
    assert_eq!(
        written_offline(train.created.received_at_ms, train.created.written_at_ms),
        Some(MIDNIGHT + HOUR + 10 * MINUTE),
        "shown as written offline"
    );
    let summary = who
        .get(&Place::prose(ProseSection::Summary))
        .expect("the summary");
    assert_eq!(&*summary.changed.by, "Ben");
    assert_eq!(
        summary.changed.written_at_ms,
        Some(MIDNIGHT + HOUR + 10 * MINUTE)
    );
    let desk = who.get(&timeline("ev-desk")).expect("Ana's event");
    assert_eq!(&*desk.created.by, "Ana");
    assert_eq!(desk.created.written_at_ms, None, "made online");
    // The incident itself is the same as without the stamps.
    assert_eq!(
        replay.incident().section_text(ProseSection::Summary),
        "Seen from the train."
    );
}

#[test]
fn online_edits_carry_no_device_time_or_one_too_close_to_show() {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1, &relay);
    ana.incident
        .initialize("Phished laptop", "2026-11-30T00:00:00Z");
    ana.sync(&mut relay, MIDNIGHT);
    // In sync: no stamp at all.
    ana.incident.add_timeline_event("ev-1", &event("First"));
    ana.sync(&mut relay, MIDNIGHT + HOUR);
    // Connecting (not in sync yet): stamped, but it arrives seconds later.
    ana.incident.add_timeline_event("ev-2", &event("Second"));
    ana.incident.note_device_time(MIDNIGHT + 2 * HOUR - 5_000);
    ana.sync(&mut relay, MIDNIGHT + 2 * HOUR);
    // A device clock a minute fast is not "offline" either.
    ana.incident.add_timeline_event("ev-3", &event("Third"));
    ana.incident.note_device_time(MIDNIGHT + 3 * HOUR + MINUTE);
    ana.sync(&mut relay, MIDNIGHT + 3 * HOUR);

    let replay = replay(&relay);
    let who = replay.attribution();
    let first = who.get(&timeline("ev-1")).unwrap();
    assert_eq!(first.created.written_at_ms, None);
    let second = who.get(&timeline("ev-2")).unwrap();
    assert_eq!(
        second.created.written_at_ms,
        Some(MIDNIGHT + 2 * HOUR - 5_000)
    );
    assert_eq!(
        written_offline(second.created.received_at_ms, second.created.written_at_ms),
        None
    );
    let third = who.get(&timeline("ev-3")).unwrap();
    assert_eq!(
        written_offline(third.created.received_at_ms, third.created.written_at_ms),
        None
    );
    // Just over the gap is shown; exactly the gap is not.
    assert_eq!(
        written_offline(MIDNIGHT, Some(MIDNIGHT - OFFLINE_GAP_MS - 1)),
        Some(MIDNIGHT - OFFLINE_GAP_MS - 1)
    );
    assert_eq!(
        written_offline(MIDNIGHT, Some(MIDNIGHT - OFFLINE_GAP_MS)),
        None
    );
}

#[test]
fn each_record_keeps_its_own_device_time_and_a_later_online_change_has_none() {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1, &relay);
    ana.incident
        .initialize("Phished laptop", "2026-11-30T00:00:00Z");
    ana.sync(&mut relay, MIDNIGHT);
    let ben = Device::new("Ben", 2, &relay);
    let cy = Device::new("Cy", 3, &relay);
    // Both offline at once, at different times.
    ben.incident.add_timeline_event("ev-ben", &event("Ben's"));
    ben.incident.note_device_time(MIDNIGHT + HOUR);
    cy.incident.add_timeline_event("ev-cy", &event("Cy's"));
    cy.incident.note_device_time(MIDNIGHT + 2 * HOUR);
    cy.sync(&mut relay, MIDNIGHT + 4 * HOUR);
    ben.sync(&mut relay, MIDNIGHT + 5 * HOUR);
    // Ana, online, corrects Ben's event.
    ana.catch_up(&relay);
    assert!(ana
        .incident
        .set_timeline_field("ev-ben", TimelineField::What, "Ben's, corrected"));
    ana.sync(&mut relay, MIDNIGHT + 6 * HOUR);

    let replay = replay(&relay);
    let who = replay.attribution();
    let bens = who.get(&timeline("ev-ben")).unwrap();
    assert_eq!(bens.created.written_at_ms, Some(MIDNIGHT + HOUR));
    assert_eq!(&*bens.changed.by, "Ana");
    assert_eq!(bens.changed.written_at_ms, None);
    let cys = who.get(&timeline("ev-cy")).unwrap();
    assert_eq!(cys.created.written_at_ms, Some(MIDNIGHT + 2 * HOUR));
    assert_eq!(cys.created.received_at_ms, MIDNIGHT + 4 * HOUR);
}

#[test]
fn device_times_are_no_place_and_no_change_and_survive_moving_back_in_history() {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1, &relay);
    ana.incident
        .initialize("Phished laptop", "2026-11-30T00:00:00Z");
    ana.sync(&mut relay, MIDNIGHT);
    let before = Incident::new();
    before
        .apply_update(&relay.doc.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    // A stamp alone: nothing a reader sees changed.
    ana.incident.note_device_time(MIDNIGHT + HOUR);
    ana.sync(&mut relay, MIDNIGHT + 2 * HOUR);
    let mut replay = Replay::new();
    replay.apply(&relay.records[0]).unwrap();
    assert!(replay.apply(&relay.records[1]).unwrap().is_empty());
    assert!(changes(&before, &relay.doc).is_empty());

    // Later offline edits; a history moved forward, back and forward again gives the same
    // device times as a straight replay.
    for n in 0..6 {
        ana.incident
            .add_timeline_event(&format!("ev-{n}"), &event(&format!("Event {n}")));
        ana.incident
            .note_device_time(MIDNIGHT + 3 * HOUR + n * MINUTE);
        ana.sync(&mut relay, MIDNIGHT + 5 * HOUR + n * MINUTE);
    }
    let straight = replay_all(&relay.records);
    let mut history = History::new(relay.records.clone(), 2);
    history.state_at(i64::MAX).unwrap();
    history.state_at(MIDNIGHT + 5 * HOUR + 2 * MINUTE).unwrap();
    let moved = history.state_at(i64::MAX).unwrap();
    for n in 0..6 {
        let place = timeline(&format!("ev-{n}"));
        assert_eq!(
            moved
                .attribution()
                .get(&place)
                .unwrap()
                .created
                .written_at_ms,
            Some(MIDNIGHT + 3 * HOUR + n * MINUTE)
        );
        assert_eq!(
            moved.attribution().get(&place),
            straight.attribution().get(&place)
        );
    }
}

fn replay_all(records: &[Record]) -> Replay {
    state_at(records, i64::MAX).unwrap()
}
