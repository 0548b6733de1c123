//! Which roots a change touched and which roots a read looked at: the page re-reads a part of
//! the incident only after a change to the roots that part was read from
//! (`Incident::root_versions`, `incident::reading`). A remote change must reach every view of
//! what it changed, and a keystroke in one section must not make the others read again.

use incident::{
    reading, Entry, Incident, Indicator, ProseSection, RootSet, TimelineEvent, TimelineField,
    UpdateOrigin,
};

fn event(what: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: "2026-11-30T01:00:00Z".into(),
        what: what.into(),
        ..Default::default()
    }
}

/// Two devices with the same incident: `ana` writes, `ben` receives her changes as the relay
/// would deliver them.
fn two_devices() -> (Incident, Incident) {
    let ana = Incident::with_client_id(1);
    ana.initialize("Phishing", "2026-11-30T00:00:00Z");
    ana.add_timeline_event("ev1", &event("mail reached 40 inboxes"));
    let ben = Incident::with_client_id(2);
    ben.apply_update(&ana.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    (ana, ben)
}

/// Applies what `to` lacks of `from`, as the relay's update.
fn deliver(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

#[test]
fn a_remote_edit_to_an_event_touches_the_timeline_and_not_the_summary() {
    let (ana, ben) = two_devices();
    let before = ben.root_versions();
    ana.set_timeline_field("ev1", TimelineField::What, "mail reached 41 inboxes");
    deliver(&ana, &ben);
    let touched = ben.root_versions().touched_since(&before);
    assert_eq!(touched, RootSet::of(TimelineEvent::ROOT));
    assert!(touched.contains(TimelineEvent::ROOT));
    assert!(!touched.contains(ProseSection::Summary.key()));
    assert!(!touched.contains("meta"));
    assert_eq!(
        ben.timeline_event("ev1").unwrap().what,
        "mail reached 41 inboxes"
    );
}

#[test]
fn typing_in_the_summary_touches_the_summary_alone_here_and_on_the_receiving_device() {
    let (ana, ben) = two_devices();
    let (here, there) = (ana.root_versions(), ben.root_versions());
    ana.edit_section(ProseSection::Summary, "Credential phishing");
    assert_eq!(
        ana.root_versions().touched_since(&here),
        RootSet::of(ProseSection::Summary.key())
    );
    deliver(&ana, &ben);
    let touched = ben.root_versions().touched_since(&there);
    assert_eq!(touched, RootSet::of(ProseSection::Summary.key()));
    assert!(!touched.contains(TimelineEvent::ROOT));
    assert!(!touched.contains(ProseSection::Details.key()));
}

#[test]
fn one_update_touching_several_roots_names_each_of_them() {
    let (ana, ben) = two_devices();
    let before = ben.root_versions();
    ana.set_title("Phishing, 40 inboxes");
    ana.edit_section(ProseSection::Details, "From a lookalike domain");
    ana.add_timeline_event("ev2", &event("domain blocked"));
    deliver(&ana, &ben);
    let touched = ben.root_versions().touched_since(&before);
    assert_eq!(
        touched.names(),
        vec!["meta", TimelineEvent::ROOT, ProseSection::Details.key()]
    );
    assert!(!touched.contains(Indicator::ROOT));
}

#[test]
fn an_update_that_brings_nothing_new_touches_nothing() {
    let (ana, ben) = two_devices();
    let before = ben.root_versions();
    deliver(&ana, &ben);
    ben.apply_update(&ana.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    assert!(ben.root_versions().touched_since(&before).is_empty());
}

#[test]
fn a_read_names_the_roots_it_looked_at() {
    let (ana, _) = two_devices();
    let (title, looked) = reading(|| ana.title());
    assert_eq!(title, "Phishing");
    assert_eq!(looked, RootSet::of("meta"));
    let (_, looked) = reading(|| ana.section_text(ProseSection::Summary));
    assert_eq!(looked, RootSet::of(ProseSection::Summary.key()));
    let (events, looked) = reading(|| ana.timeline());
    assert_eq!(events.len(), 1);
    assert_eq!(looked, RootSet::of(TimelineEvent::ROOT));
    assert!(!looked.contains(ProseSection::Summary.key()));
    // A change counter is a read of its root too.
    let (_, looked) = reading(|| ana.timeline_version());
    assert_eq!(looked, RootSet::of(TimelineEvent::ROOT));
}

#[test]
fn reads_nest_and_the_outer_read_counts_the_inner_ones_roots() {
    let (ana, _) = two_devices();
    let ((_, inner), outer) = reading(|| {
        let _ = ana.title();
        reading(|| ana.timeline())
    });
    assert_eq!(inner, RootSet::of(TimelineEvent::ROOT));
    assert_eq!(outer, RootSet::of("meta").union(inner));
    // Outside any read nothing is kept.
    let _ = ana.indicators();
    let (_, looked) = reading(|| ());
    assert!(looked.is_empty());
}

#[test]
fn the_first_comparison_counts_every_root_as_touched() {
    let (ana, _) = two_devices();
    let touched = ana
        .root_versions()
        .touched_since(&incident::RootVersions::default());
    assert_eq!(touched, RootSet::all());
    assert_eq!(touched.names().len(), incident::roots().len());
}

#[test]
fn versions_restricted_to_some_roots_move_only_with_those_roots() {
    let (ana, _) = two_devices();
    let timeline = RootSet::of(TimelineEvent::ROOT);
    let before = ana.root_versions().restricted_to(timeline);
    ana.edit_section(ProseSection::Summary, "typed");
    assert_eq!(ana.root_versions().restricted_to(timeline), before);
    ana.set_timeline_field("ev1", TimelineField::What, "changed");
    assert_ne!(ana.root_versions().restricted_to(timeline), before);
}

#[test]
fn each_catch_up_group_names_the_roots_it_lists_and_every_root_has_one_group() {
    use incident::history::Group;
    assert_eq!(Group::Timeline.roots(), RootSet::of(TimelineEvent::ROOT));
    assert_eq!(Group::Incident.roots(), RootSet::of("meta"));
    let prose = ProseSection::ALL
        .into_iter()
        .fold(RootSet::EMPTY, |set, s| set.union(RootSet::of(s.key())));
    assert_eq!(Group::Sections.roots(), prose);
    assert!(Group::Questions.roots().contains("comments"));
    assert!(!Group::Questions.roots().contains(TimelineEvent::ROOT));
    let every = Group::ALL
        .into_iter()
        .fold(RootSet::EMPTY, |set, g| set.union(g.roots()));
    assert_eq!(every, RootSet::all());
}
