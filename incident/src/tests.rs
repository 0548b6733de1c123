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
