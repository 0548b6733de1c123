//! "Since you were last here" with who and when: the catch-up list read with an attribution
//! the app rebuilt from the relay's answer (sections and ids as strings, `Place::from_keys`,
//! `Attribution::insert`) says the same as one replayed here, each item naming who made the
//! change and when in the incident's display zone ("Ben, 03:40 UTC", the date when not
//! today). An answer older than the change (a stamp from before the mark) and a record with
//! no name say nothing, and without an answer nothing is named.

mod common;

use common::{copy, Device, Relay};
use incident::history::{catch_up, state_at, Attribution, Place};
use incident::{Entry, Incident, TimelineEvent};

const CREATED: &str = "2026-11-30T01:00:00Z";
/// 2026-11-30T01:00:00Z in ms.
const T0: i64 = 1_796_000_400_000;
const MINUTE: i64 = 60_000;

fn ms_rfc3339(ms: i64) -> String {
    incident::when::utc_from_unix_seconds(ms / 1000)
}

fn event(what: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: CREATED.to_string(),
        what: what.to_string(),
        author: "Ana".to_string(),
        ..Default::default()
    }
}

/// The attribution as the app gets it: every place spelled as strings, read back.
fn through_strings(attribution: &Attribution) -> Attribution {
    let mut back = Attribution::default();
    for (place, authorship) in attribution.iter() {
        let section = place.section.to_string();
        let id = place.id.clone();
        let place = Place::from_keys(&section, id.as_deref()).expect("a known section");
        back.insert(place, authorship.clone());
    }
    back
}

/// Ana starts the incident at T0; Ben's device has it and sets his mark at T0 + 10 min;
/// Ana adds an event at 03:40 and changes the summary at 03:45 (UTC).
fn ana_and_ben() -> (Relay, Device, Incident, String) {
    let mut relay = Relay::new();
    let ana = Device::new("Ana", 1);
    ana.incident.initialize("Phished finance laptop", CREATED);
    ana.send(&mut relay, T0);
    let ben = Device::new("Ben", 2);
    ben.receive(&relay);
    let mark = copy(&ben.incident);
    let since = ms_rfc3339(T0 + 10 * MINUTE);
    ana.incident
        .add_timeline_event("e1", &event("Mailbox rule found"));
    ana.send(&mut relay, T0 + 160 * MINUTE);
    ana.incident
        .edit_section(incident::ProseSection::Summary, "A mailbox rule.");
    ana.send(&mut relay, T0 + 165 * MINUTE);
    ben.receive(&relay);
    (relay, ben, mark, since)
}

#[test]
fn each_item_names_who_made_the_change_and_when_from_the_relays_answer() {
    let (relay, ben, mark, since) = ana_and_ben();
    let replay = state_at(&relay.records, i64::MAX).unwrap();
    let answer = through_strings(replay.attribution());
    let now = ms_rfc3339(T0 + 170 * MINUTE);
    let groups = catch_up(&mark, &ben.incident, Some(&answer), &since, &now, 8);
    let replayed = catch_up(
        &mark,
        &ben.incident,
        Some(replay.attribution()),
        &since,
        &now,
        8,
    );
    assert_eq!(groups, replayed, "read back from strings, the same list");
    let items: Vec<(&str, Option<&str>)> = groups
        .iter()
        .flat_map(|g| &g.items)
        .map(|i| (i.line.as_str(), i.who.as_deref()))
        .collect();
    assert_eq!(
        items,
        vec![
            (
                "Timeline event added: Mailbox rule found",
                Some("Ana, 03:40 UTC")
            ),
            ("Summary changed", Some("Ana, 03:45 UTC")),
        ]
    );

    // In the incident's display zone, and with the date on another day. (Ben's own zone
    // change is listed too, with nobody named: the answer has no record of it.)
    assert!(ben.incident.set_display_zone("Europe/Berlin"));
    let tomorrow = ms_rfc3339(T0 + 30 * 60 * MINUTE);
    let groups = catch_up(&mark, &ben.incident, Some(&answer), &since, &tomorrow, 8);
    let who: Vec<(&str, Option<&str>)> = groups
        .iter()
        .flat_map(|g| &g.items)
        .map(|i| (i.line.as_str(), i.who.as_deref()))
        .filter(|(line, _)| !line.starts_with("Summary"))
        .collect();
    assert_eq!(
        who,
        vec![
            ("Display zone changed from UTC to Europe/Berlin", None),
            (
                "Timeline event added: Mailbox rule found",
                Some("Ana, 2026-11-30 04:40 CET")
            ),
        ]
    );
}

#[test]
fn an_answer_older_than_the_change_or_without_a_name_says_nothing() {
    let (relay, ben, mark, since) = ana_and_ben();
    let now = ms_rfc3339(T0 + 170 * MINUTE);
    // The relay's answer from before Ana's summary: the summary's stamp is missing, and the
    // event's "last change" is older than the mark when the answer is older still.
    let before_event = state_at(&relay.records, T0 + 100 * MINUTE).unwrap();
    let groups = catch_up(
        &mark,
        &ben.incident,
        Some(before_event.attribution()),
        &since,
        &now,
        8,
    );
    assert!(groups
        .iter()
        .flat_map(|g| &g.items)
        .all(|i| i.who.is_none()));

    // A mark later than the stamps (another device's clock, or a stale answer): no names.
    let replay = state_at(&relay.records, i64::MAX).unwrap();
    let late_mark = ms_rfc3339(T0 + 166 * MINUTE);
    let groups = catch_up(
        &mark,
        &ben.incident,
        Some(replay.attribution()),
        &late_mark,
        &now,
        8,
    );
    assert!(groups
        .iter()
        .flat_map(|g| &g.items)
        .all(|i| i.who.is_none()));
    assert_eq!(groups.iter().map(|g| g.items.len()).sum::<usize>(), 2);

    // A record that came from no invite (stored before the record existed): no name.
    let mut records = relay.records.clone();
    for r in &mut records {
        r.by = String::new();
    }
    let nameless = state_at(&records, i64::MAX).unwrap();
    let groups = catch_up(
        &mark,
        &ben.incident,
        Some(nameless.attribution()),
        &since,
        &now,
        8,
    );
    assert!(groups
        .iter()
        .flat_map(|g| &g.items)
        .all(|i| i.who.is_none()));

    // Offline, without an answer: the same changes, nobody named.
    let groups = catch_up(&mark, &ben.incident, None, &since, &now, 8);
    assert_eq!(groups.iter().map(|g| g.items.len()).sum::<usize>(), 2);
    assert!(groups
        .iter()
        .flat_map(|g| &g.items)
        .all(|i| i.who.is_none()));
}

#[test]
fn places_are_read_back_only_for_sections_this_build_knows() {
    assert_eq!(
        Place::from_keys("timeline", Some("e1")),
        Some(Place::entry(TimelineEvent::ROOT, "e1"))
    );
    assert_eq!(
        Place::from_keys("summary", None),
        Some(Place::prose(incident::ProseSection::Summary))
    );
    assert_eq!(
        Place::from_keys("meta", Some("title")).map(|p| p.section),
        Some("meta")
    );
    assert_eq!(Place::from_keys("a_future_section", Some("x")), None);
    assert_eq!(Place::from_keys("summary", Some("x")), None);
    assert_eq!(Place::from_keys("timeline", None), None);
}
