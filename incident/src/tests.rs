//! Behaviour of the whole model: convergence, schema, unknown fields.

use super::*;
use std::cell::RefCell;
use std::rc::Rc;
use yrs::WriteTxn;

const NOW: &str = "2026-11-22T03:14:00Z";

/// Sends everything `from` has that `to` lacks, as a relay would.
fn sync(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

fn pair() -> (Incident, Incident) {
    let a = Incident::with_client_id(1);
    a.initialize("Phished finance laptop", NOW);
    let b = Incident::with_client_id(2);
    b.apply_update(&a.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    (a, b)
}

#[test]
fn a_new_incident_carries_its_schema_and_defaults() {
    let inc = Incident::create("Leaked API key", NOW);
    assert_eq!(inc.schema_version(), Some(SCHEMA_VERSION));
    assert_eq!(inc.title(), "Leaked API key");
    assert_eq!(inc.created_at().as_deref(), Some(NOW));
    assert_eq!(inc.classification(), DEFAULT_CLASSIFICATION);
    assert_eq!(inc.tlp(), Tlp::Amber);
    assert!(inc.check_schema().is_ok());
}

#[test]
fn concurrent_typing_in_one_section_keeps_both_peoples_words() {
    let (a, b) = pair();
    a.edit_section(ProseSection::Summary, "On Monday we were notified.");
    sync(&a, &b);
    // Both type at once, at different places, without seeing each other.
    a.edit_section(ProseSection::Summary, "On Monday 22 Nov we were notified.");
    b.edit_section(
        ProseSection::Summary,
        "On Monday we were notified by a customer.",
    );
    sync(&a, &b);
    sync(&b, &a);
    let text = a.section_text(ProseSection::Summary);
    assert_eq!(text, b.section_text(ProseSection::Summary));
    assert_eq!(text, "On Monday 22 Nov we were notified by a customer.");
}

#[test]
fn concurrent_edits_in_every_section_converge_in_any_order() {
    let (a, b) = pair();
    let c = Incident::with_client_id(3);
    c.apply_update(&a.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    for (i, s) in ProseSection::ALL.into_iter().enumerate() {
        a.edit_section(s, &format!("a{i}"));
        b.edit_section(s, &format!("b{i}"));
        c.edit_section(s, &format!("c{i}"));
    }
    a.set_title("title from a");
    b.set_title("title from b");
    // Deliver in different orders to each replica.
    sync(&a, &b);
    sync(&c, &b);
    sync(&b, &a);
    sync(&b, &c);
    sync(&c, &a);
    for s in ProseSection::ALL {
        let text = a.section_text(s);
        assert_eq!(text, b.section_text(s));
        assert_eq!(text, c.section_text(s));
        assert_eq!(text.len(), 6, "{text:?} keeps all three writers' words");
    }
    assert_eq!(a.title(), b.title());
    assert_eq!(a.title(), c.title());
    assert_eq!(a.encode_state().len(), c.encode_state().len());
}

#[test]
fn a_field_this_build_does_not_know_survives_editing_and_a_round_trip() {
    let (a, b) = pair();
    // A future version writes a field and a whole new section this build has never heard of.
    {
        let mut txn = a.doc().transact_mut();
        let meta = txn.get_or_insert_map("meta");
        meta.insert(&mut txn, "severity", "SEV-1");
        let future = txn.get_or_insert_text("future_section");
        future.insert(&mut txn, 0, "from the future");
    }
    sync(&a, &b);
    // This build edits around them.
    b.set_title("renamed");
    b.set_tlp(Tlp::Red);
    b.edit_section(ProseSection::Response, "isolated the host");
    let c = Incident::with_client_id(3);
    c.apply_update(&b.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    let txn = c.doc().transact();
    let meta = txn.get_map("meta").unwrap();
    assert_eq!(meta.get(&txn, "severity").unwrap().to_string(&txn), "SEV-1");
    let future = txn.get_text("future_section").unwrap();
    assert_eq!(future.get_string(&txn), "from the future");
}

#[test]
fn a_document_from_a_newer_schema_is_refused_and_an_older_one_opens() {
    let inc = Incident::create("x", NOW);
    {
        let mut txn = inc.doc().transact_mut();
        let meta = txn.get_or_insert_map("meta");
        meta.insert(&mut txn, "schema", Any::from(2i64));
    }
    assert_eq!(
        inc.check_schema(),
        Err(ModelError::NewerSchema {
            found: 2,
            supported: SCHEMA_VERSION
        })
    );
    // A document whose metadata has not arrived yet is not refused.
    assert!(Incident::new().check_schema().is_ok());
}

#[test]
fn a_malformed_update_is_refused_and_changes_nothing() {
    let (a, _) = pair();
    a.edit_section(ProseSection::Summary, "intact");
    let before = a.encode_state();
    let err = a
        .apply_update(&[0xff, 0xff, 0xff, 0x01, 0x02], UpdateOrigin::Relay)
        .unwrap_err();
    assert!(matches!(err, ModelError::BadUpdate(_)));
    assert_eq!(a.section_text(ProseSection::Summary), "intact");
    assert_eq!(a.encode_state(), before);
}

#[test]
fn listeners_tell_local_edits_from_remote_ones() {
    let (a, b) = pair();
    let seen: Rc<RefCell<Vec<UpdateOrigin>>> = Rc::default();
    let sink = seen.clone();
    let sub = b.on_update(move |update, origin| {
        assert!(!update.is_empty());
        sink.borrow_mut().push(origin);
    });
    b.edit_section(ProseSection::Theories, "insider?");
    a.edit_section(ProseSection::Theories, "credential stuffing");
    sync(&a, &b);
    assert_eq!(
        *seen.borrow(),
        vec![UpdateOrigin::Local, UpdateOrigin::Relay]
    );
    drop(sub);
    b.edit_section(ProseSection::Theories, "neither");
    assert_eq!(
        seen.borrow().len(),
        2,
        "no calls after the subscription is dropped"
    );
}

#[test]
fn setting_a_field_to_its_current_value_sends_nothing() {
    let inc = Incident::create("same", NOW);
    let count = Rc::new(RefCell::new(0));
    let sink = count.clone();
    let _sub = inc.on_update(move |_, _| *sink.borrow_mut() += 1);
    inc.set_title("same");
    inc.edit_section(ProseSection::Summary, "");
    assert_eq!(*count.borrow(), 0);
    inc.set_title("changed");
    assert_eq!(*count.borrow(), 1);
}

#[test]
fn a_caret_stays_with_its_characters_when_others_type_before_it() {
    let (a, b) = pair();
    a.edit_section(ProseSection::Details, "attacker used VPN");
    sync(&a, &b);
    // B's caret sits before "VPN".
    let caret = b.anchor(ProseSection::Details, 14);
    a.edit_section(ProseSection::Details, "the attacker used VPN");
    sync(&a, &b);
    let at = b.resolve(&caret) as usize;
    assert_eq!(&b.section_text(ProseSection::Details)[at..], "VPN");
}

#[test]
fn concurrent_timeline_additions_are_all_kept_and_sorted_by_time() {
    let (a, b) = pair();
    let event = |at: &str, what: &str| TimelineEvent {
        occurred_at: at.into(),
        what: what.into(),
        author: "test".into(),
        ..Default::default()
    };
    a.add_timeline_event("id-a", &event("2026-11-22T02:00:00Z", "alert fired"));
    b.add_timeline_event(
        "id-b",
        &event("2026-11-22T01:00:00Z", "phishing mail opened"),
    );
    sync(&a, &b);
    sync(&b, &a);
    let whats: Vec<_> = a.timeline().into_iter().map(|(_, e)| e.what).collect();
    assert_eq!(whats, ["phishing mail opened", "alert fired"]);
    assert_eq!(a.timeline(), b.timeline());
}

#[test]
fn editing_an_event_someone_deleted_ends_the_same_everywhere() {
    let (a, b) = pair();
    a.add_timeline_event(
        "e1",
        &TimelineEvent {
            occurred_at: NOW.into(),
            what: "first".into(),
            ..Default::default()
        },
    );
    sync(&a, &b);
    a.remove_timeline_event("e1");
    assert!(b.set_timeline_field("e1", TimelineField::What, "corrected"));
    sync(&a, &b);
    sync(&b, &a);
    assert_eq!(a.timeline(), b.timeline());
    assert!(a.timeline().is_empty());
    assert!(!a.set_timeline_field("e1", TimelineField::What, "too late"));
}

#[test]
fn a_caret_at_the_end_stays_at_the_end_when_others_type_before_it() {
    let (a, b) = pair();
    a.edit_section(ProseSection::Summary, "phishing");
    sync(&a, &b);
    let caret = b.anchor(ProseSection::Summary, 8);
    a.edit_section(ProseSection::Summary, "targeted phishing");
    sync(&a, &b);
    assert_eq!(b.resolve(&caret), 17);
}

#[test]
fn text_inserted_exactly_at_a_caret_lands_after_it() {
    let (a, b) = pair();
    a.edit_section(ProseSection::Summary, "ab");
    sync(&a, &b);
    let caret = b.anchor(ProseSection::Summary, 1);
    let start = b.anchor(ProseSection::Summary, 0);
    a.edit_section(ProseSection::Summary, "aXb");
    sync(&a, &b);
    assert_eq!(b.resolve(&caret), 1);
    assert_eq!(b.resolve(&start), 0);
}

#[test]
fn a_caret_whose_left_character_is_deleted_stays_where_it_was() {
    let (a, b) = pair();
    a.edit_section(ProseSection::Summary, "abcd");
    sync(&a, &b);
    let caret = b.anchor(ProseSection::Summary, 2);
    a.edit_section(ProseSection::Summary, "acd");
    sync(&a, &b);
    assert_eq!(b.resolve(&caret), 1);
}

// --- The structured parts: indicators, next steps, roles, questions ---

#[test]
fn the_same_indicator_pasted_on_two_devices_offline_is_one_entry_after_merging() {
    let (a, b) = pair();
    let pa = a.paste_indicators("hxxp://evil[.]example[.]com/x\n10.0.0.1\n", "ann", NOW);
    let pb = b.paste_indicators("10[.]0[.]0[.]1\nEVIL.example.net", "bob", NOW);
    assert_eq!((pa.added.len(), pb.added.len()), (2, 2));
    sync(&a, &b);
    sync(&b, &a);
    let values: Vec<String> = a.indicators().into_iter().map(|(_, i)| i.value).collect();
    assert_eq!(values.len(), 3, "{values:?}");
    assert!(values.contains(&"10.0.0.1".to_string()));
    assert!(values.contains(&"evil.example.net".to_string()));
    assert_eq!(a.indicators(), b.indicators());
}

#[test]
fn pasting_an_indicator_already_present_reports_it_instead_of_adding_it() {
    let inc = Incident::create("t", NOW);
    let first = inc.paste_indicators("evil.example.com", "ann", NOW);
    let again = inc.paste_indicators("evil[.]example[.]com\nEvil.Example.com\n", "bob", NOW);
    assert!(again.added.is_empty());
    assert_eq!(again.already_known, first.added);
    assert_eq!(inc.indicators().len(), 1);
    assert_eq!(
        inc.add_indicator("evil(.)example(.)com", None, "c", NOW),
        Err(IndicatorError::Duplicate {
            id: first.added[0].clone()
        })
    );
}

#[test]
fn concurrent_changes_to_one_indicator_field_end_with_one_value_everywhere() {
    let (a, b) = pair();
    let id = a.add_indicator("198.51.100.7", None, "ann", NOW).unwrap();
    sync(&a, &b);
    a.set_indicator_field(&id, IndicatorField::Note, "C2 server");
    b.set_indicator_field(&id, IndicatorField::Note, "scanner");
    b.set_indicator_tlp(&id, Some(Tlp::Red));
    sync(&a, &b);
    sync(&b, &a);
    let (ia, ib) = (a.indicator(&id).unwrap(), b.indicator(&id).unwrap());
    assert_eq!(ia, ib);
    assert!(["C2 server", "scanner"].contains(&ia.note.as_str()));
    assert_eq!(
        ia.tlp,
        Some(Tlp::Red),
        "a different field merges on its own"
    );
}

#[test]
fn correcting_an_indicator_value_keeps_its_fields_and_event_links() {
    let inc = Incident::create("t", NOW);
    let id = inc
        .add_indicator("evil.exmaple.com", None, "ann", NOW)
        .unwrap();
    inc.set_indicator_field(&id, IndicatorField::Note, "typo in the first report");
    inc.add_timeline_event(
        "e1",
        &TimelineEvent {
            occurred_at: NOW.into(),
            what: "beacon".into(),
            indicators: vec![id.clone()],
            ..Default::default()
        },
    );
    let fixed = inc
        .correct_indicator_value(&id, "evil[.]example[.]com")
        .unwrap();
    assert_ne!(fixed, id);
    assert!(inc.indicator(&id).is_none());
    let now = inc.indicator(&fixed).unwrap();
    assert_eq!(now.value, "evil.example.com");
    assert_eq!(now.note, "typo in the first report");
    assert_eq!(inc.indicator_events(&fixed), ["e1"]);
}

#[test]
fn deleting_an_indicator_while_another_edits_it_ends_the_same_everywhere() {
    let (a, b) = pair();
    let id = a
        .add_indicator("d41d8cd98f00b204e9800998ecf8427e", None, "ann", NOW)
        .unwrap();
    sync(&a, &b);
    a.remove_indicator(&id);
    assert!(b.set_indicator_field(&id, IndicatorField::Note, "empty file"));
    sync(&a, &b);
    sync(&b, &a);
    assert_eq!(a.indicators(), b.indicators());
    assert!(a.indicators().is_empty());
}

#[test]
fn next_steps_sort_open_before_done_and_by_due_time_and_know_when_they_are_late() {
    let inc = Incident::create("t", NOW);
    let step = |title: &str, due: Option<&str>, status| NextStep {
        title: title.into(),
        owner: "Ann".into(),
        owner_invite: String::new(),
        owner_role: None,
        status,
        due: due.map(Into::into),
        created_by: "ann".into(),
        created_at: NOW.into(),
    };
    inc.add_next_step("s1", &step("rotate keys", None, StepStatus::Open));
    inc.add_next_step(
        "s2",
        &step(
            "image laptop",
            Some("2026-11-22T02:00:00Z"),
            StepStatus::Doing,
        ),
    );
    inc.add_next_step(
        "s3",
        &step("call legal", Some("2026-11-22T01:00:00Z"), StepStatus::Done),
    );
    inc.add_next_step(
        "s4",
        &step(
            "block domain",
            Some("2026-11-23T09:00:00Z"),
            StepStatus::Open,
        ),
    );
    let titles: Vec<String> = inc.next_steps().into_iter().map(|(_, s)| s.title).collect();
    assert_eq!(
        titles,
        ["image laptop", "block domain", "rotate keys", "call legal"]
    );
    let steps = inc.next_steps();
    let late: Vec<&str> = steps
        .iter()
        .filter(|(_, s)| s.is_overdue(NOW))
        .map(|(_, s)| s.title.as_str())
        .collect();
    assert_eq!(late, ["image laptop"], "done steps are never late");
    assert!(steps[0].1.is_owned_by(" ann "));
}

#[test]
fn a_step_given_to_an_invited_person_follows_their_invite_not_a_typed_name() {
    let inc = Incident::create("t", NOW);
    let step = NextStep {
        title: "call the bank".into(),
        owner: "Ann".into(),
        ..Default::default()
    };
    inc.add_next_step("s1", &step);
    // Written by name only: matched by name, as before.
    let read = |inc: &Incident| inc.next_steps().remove(0).1;
    assert!(read(&inc).is_owned_by_person("ann", "aaaa000000000001"));
    assert!(inc.set_next_step_owner("s1", " Ann Lee ", "aaaa000000000001"));
    let given = read(&inc);
    assert_eq!(
        (given.owner.as_str(), given.owner_invite.as_str()),
        ("Ann Lee", "aaaa000000000001")
    );
    assert!(given.is_owned_by_person("someone else", "aaaa000000000001"));
    assert!(!given.is_owned_by_person("Ann Lee", "bbbb000000000002"));
    // A device with no invite (made here, not yet published) goes by name.
    assert!(given.is_owned_by_person("ann lee", ""));
    // Typed by hand again: the invite goes with the old owner.
    assert!(inc.set_next_step_owner("s1", "Outside Vendor", ""));
    assert!(read(&inc).is_owned_by_person("outside vendor", "aaaa000000000001"));
    assert!(!inc.set_next_step_owner("gone", "Ann", ""));
}

#[test]
fn concurrent_next_steps_are_all_kept_and_a_status_race_settles_on_one_value() {
    let (a, b) = pair();
    let step = NextStep {
        title: "reset passwords".into(),
        ..Default::default()
    };
    a.add_next_step("sa", &step);
    b.add_next_step("sb", &step);
    sync(&a, &b);
    sync(&b, &a);
    assert_eq!(a.next_steps().len(), 2);
    a.set_next_step_status("sa", StepStatus::Done);
    b.set_next_step_status("sa", StepStatus::Doing);
    b.set_next_step_field("sa", StepField::Owner, "Bob");
    sync(&a, &b);
    sync(&b, &a);
    assert_eq!(a.next_steps(), b.next_steps());
    let (_, sa) = a
        .next_steps()
        .into_iter()
        .find(|(id, _)| id == "sa")
        .unwrap();
    assert_eq!(sa.owner, "Bob");
}

#[test]
fn claiming_a_role_records_the_hand_off_on_the_timeline() {
    let inc = Incident::create("t", NOW);
    assert_eq!(inc.role_holder(Role::Commander), None);
    inc.claim_role(Role::Commander, "Ann", "2026-11-22T03:00:00Z", "r1");
    let previous = inc.claim_role(Role::Commander, "Bob", "2026-11-22T04:00:00Z", "r2");
    assert_eq!(previous.map(|p| p.name).as_deref(), Some("Ann"));
    assert_eq!(inc.role_holder(Role::Commander).unwrap().name, "Bob");
    let whats: Vec<String> = inc.timeline().into_iter().map(|(_, e)| e.what).collect();
    assert_eq!(
        whats,
        [
            "Ann took on the role of Incident commander",
            "Bob took over as Incident commander from Ann"
        ]
    );
    // Claiming again what one already holds writes nothing.
    inc.claim_role(Role::Commander, "Bob", "2026-11-22T05:00:00Z", "r3");
    assert_eq!(inc.timeline().len(), 2);
    inc.release_role(Role::Commander, "2026-11-22T06:00:00Z", "r4");
    assert_eq!(inc.role_holder(Role::Commander), None);
    assert_eq!(
        inc.timeline()[2].1.what,
        "Bob stepped down as Incident commander"
    );
}

#[test]
fn the_commander_gives_a_role_to_an_invited_person_and_the_hand_off_is_recorded() {
    let inc = Incident::create("t", NOW);
    inc.claim_role(Role::Commander, "Ann", "2026-11-22T03:00:00Z", "r1");
    inc.assign_role(
        Role::Deputy,
        "Bob",
        "bbbb000000000002",
        "Ann",
        "2026-11-22T04:00:00Z",
        "r2",
    );
    let deputy = inc.role_holder(Role::Deputy).unwrap();
    assert_eq!(
        (deputy.name.as_str(), deputy.invite.as_str()),
        ("Bob", "bbbb000000000002")
    );
    inc.assign_role(
        Role::Deputy,
        "Cy",
        "cccc000000000003",
        "Ann",
        "2026-11-22T05:00:00Z",
        "r3",
    );
    // Giving it to whoever has it already writes nothing.
    inc.assign_role(
        Role::Deputy,
        "Cy",
        "cccc000000000003",
        "Ann",
        "2026-11-22T06:00:00Z",
        "r4",
    );
    let events: Vec<(String, String)> = inc
        .timeline()
        .into_iter()
        .map(|(_, e)| (e.what, e.author))
        .collect();
    assert_eq!(
        events[1..],
        [
            (
                "Ann gave the role of Deputy to Bob".to_string(),
                "Ann".to_string()
            ),
            (
                "Ann gave the role of Deputy to Cy (was Bob)".to_string(),
                "Ann".to_string()
            ),
        ]
    );
    // A claim keeps no invite; the claimer holds it by name.
    inc.claim_role(Role::Deputy, "Dee", "2026-11-22T07:00:00Z", "r5");
    assert_eq!(inc.role_holder(Role::Deputy).unwrap().invite, "");
}

#[test]
fn two_people_claiming_one_role_at_once_agree_on_one_holder_and_both_claims_are_recorded() {
    let (a, b) = pair();
    a.claim_role(Role::Scribe, "Ann", NOW, "ra");
    b.claim_role(Role::Scribe, "Bob", NOW, "rb");
    sync(&a, &b);
    sync(&b, &a);
    assert_eq!(a.role_holder(Role::Scribe), b.role_holder(Role::Scribe));
    assert_eq!(a.timeline().len(), 2);
}

#[test]
fn first_answers_to_an_untouched_question_from_two_people_both_survive() {
    let (a, b) = pair();
    let q = Question::from_key("breach").unwrap();
    a.set_answer_status(q, AnswerStatus::Partly, "Ann");
    b.set_answer_text(q, "Only hashed passwords left the building.", "Bob");
    sync(&a, &b);
    sync(&b, &a);
    let answer = a.answer(q);
    assert_eq!(answer.status, AnswerStatus::Partly);
    assert_eq!(answer.answer, "Only hashed passwords left the building.");
    assert_eq!(answer, b.answer(q));
    assert_eq!(Question::of(QuestionList::WillBeAsked).count(), 8);
    assert_eq!(Question::of(QuestionList::PostMortem).count(), 5);
}

#[test]
#[cfg(feature = "bundled-tz")] // named zones need a zone database
fn incident_status_and_display_zone_are_kept_and_unknown_zones_refused() {
    let inc = Incident::create("t", NOW);
    assert_eq!(inc.status(), IncidentStatus::Open);
    assert_eq!(inc.display_zone(), "UTC");
    inc.set_status(IncidentStatus::Contained);
    assert!(inc.set_display_zone("europe/berlin"));
    assert!(!inc.set_display_zone("Mars/Olympus"));
    assert_eq!(inc.status(), IncidentStatus::Contained);
    assert_eq!(inc.display_zone(), "Europe/Berlin");
}

#[test]
#[cfg(feature = "bundled-tz")] // named zones need a zone database
fn correcting_an_event_time_keeps_zone_and_typed_text_together_and_resorts() {
    let inc = Incident::create("t", NOW);
    let ev = |at: &str, what: &str| TimelineEvent {
        occurred_at: at.into(),
        what: what.into(),
        ..Default::default()
    };
    inc.add_timeline_event("a", &ev("2026-11-22T01:00:00Z", "first"));
    inc.add_timeline_event("b", &ev("2026-11-22T02:00:00Z", "second"));
    let typed = when::parse_time(
        "2026-11-22 01:30 Europe/Berlin",
        "UTC",
        when::parse_stored(NOW).unwrap(),
    )
    .unwrap();
    assert!(inc.set_timeline_time("b", &typed));
    let events = inc.timeline();
    assert_eq!(events[0].1.what, "second");
    assert_eq!(events[0].1.occurred_at, "2026-11-22T00:30:00Z");
    assert_eq!(events[0].1.occurred_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        events[0].1.occurred_original.as_deref(),
        Some("2026-11-22 01:30 Europe/Berlin")
    );
}

#[test]
fn collection_versions_move_only_when_that_collection_changes_here_or_elsewhere() {
    let (a, b) = pair();
    let (t0, i0) = (b.timeline_version(), b.indicators_version());
    a.edit_section(ProseSection::Summary, "typing elsewhere");
    sync(&a, &b);
    assert_eq!((b.timeline_version(), b.indicators_version()), (t0, i0));
    a.add_timeline_event("e1", &TimelineEvent::default());
    sync(&a, &b);
    let t1 = b.timeline_version();
    assert_ne!(t1, t0);
    assert_eq!(b.indicators_version(), i0);
    // A change inside an entry counts too.
    a.set_timeline_field("e1", TimelineField::What, "beacon");
    sync(&a, &b);
    assert_ne!(b.timeline_version(), t1);
    b.add_indicator("evil.example.com", None, "bob", NOW)
        .unwrap();
    assert_ne!(b.indicators_version(), i0);
}

#[test]
fn every_structured_section_has_a_version_of_its_own() {
    let (a, b) = pair();
    let before = (b.version::<NextStep>(), b.version::<RoleHolder>());
    a.add_next_step("s1", &NextStep::default());
    sync(&a, &b);
    assert_ne!(b.version::<NextStep>(), before.0);
    assert_eq!(b.version::<RoleHolder>(), before.1);
    let steps = b.version::<NextStep>();
    a.claim_role(Role::Scribe, "Ana", NOW, "e1");
    sync(&a, &b);
    assert_ne!(b.version::<RoleHolder>(), before.1);
    assert_eq!(b.version::<NextStep>(), steps);
}

#[test]
fn every_section_root_is_a_registered_map_and_every_prose_section_a_text() {
    let all = roots();
    let kind = |name: &str| all.iter().find(|r| r.name == name).map(|r| r.kind);
    let sections = [TimelineEvent::ROOT, Indicator::ROOT, NextStep::ROOT];
    let lists = QUESTIONS.map(|q| q.list.root());
    for name in sections.into_iter().chain(lists).chain([RoleHolder::ROOT]) {
        assert_eq!(kind(name), Some(RootKind::Map), "{name}");
    }
    for section in ProseSection::ALL {
        assert_eq!(kind(section.key()), Some(RootKind::Text));
    }
}
