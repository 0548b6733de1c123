//! The shift hand-off as the app writes it: one timeline event whose notes hold the roles, the
//! open threads, the open next steps by owner (late first) and what another person changed
//! during the shift; and the timeline's notes field that carries it, in every export that
//! carries the timeline, read back from a timeline file, and absent from older documents.

use incident::export::{
    import_timeline_csv, incident_file, read_incident_file, report, timeline_csv, to_markdown,
    Audience, ReportKind,
};
use incident::history::{handoff_event, HANDOFF_SOURCE};
use incident::{
    AnswerStatus, Incident, NextStep, Role, StepStatus, TimelineEvent, TimelineField, Tlp,
    UpdateOrigin, QUESTIONS,
};

const CREATED: &str = "2026-11-30T01:00:00Z";
const NOW: &str = "2026-11-30T10:00:00Z";

fn copy(incident: &Incident) -> Incident {
    let copy = Incident::new();
    copy.apply_update(&incident.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    copy
}

/// Brings `to` up to date with `from`, as the relay would.
fn sync(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
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

fn audience(tlp: Tlp) -> Audience<'static> {
    Audience {
        incident_id: "inc-handover",
        tlp,
        now: NOW,
    }
}

/// Ana's incident at the start of her shift, Bo's device with a copy, and the incident as it
/// stood then.
fn a_shift() -> (Incident, Incident, Incident) {
    let ana = Incident::with_client_id(1);
    ana.initialize("Ransomware on the file servers", CREATED);
    ana.claim_role(Role::Commander, "Ana", CREATED, "r1");
    ana.add_next_step("old", &step("Call the insurer", "Ana", None));
    let bo = Incident::with_client_id(2);
    sync(&ana, &bo);
    let start = copy(&ana);
    (ana, bo, start)
}

#[test]
fn the_hand_off_event_lists_open_steps_by_owner_late_first_and_the_open_questions() {
    let (ana, _bo, start) = a_shift();
    ana.add_next_step(
        "a-later",
        &step(
            "Restore the payroll share",
            "Ana",
            Some("2026-11-30T18:00:00Z"),
        ),
    );
    ana.add_next_step(
        "a-late",
        &step("Isolate backup server", "Ana", Some("2026-11-30T06:00:00Z")),
    );
    ana.add_next_step("c1", &step("Brief the board", "Cy", None));
    ana.add_next_step("done", &step("Pull the network cable", "Cy", None));
    ana.set_next_step_status("done", StepStatus::Done);
    ana.set_answer_text(QUESTIONS[0], "Payroll and HR shares", "Ana");
    ana.set_answer_status(QUESTIONS[1], AnswerStatus::Yes, "Ana");

    let event = handoff_event(&ana, Some(&start), "Ana", NOW);
    assert_eq!(event.what, "Shift hand-off — Ana");
    assert_eq!(event.occurred_at, NOW);
    assert_eq!(event.author, "Ana");
    assert_eq!(event.source, HANDOFF_SOURCE);
    assert!(event.include_in_report);
    assert!(!event.is_role_handoff(), "drawn in full and editable");
    let note = event.notes.expect("a note");
    assert!(
        note.starts_with("Shift hand-off, 2026-11-30 10:00 UTC\n"),
        "{note}"
    );
    assert!(!note.ends_with('\n'), "stored trimmed: {note:?}");
    assert!(note.contains("- Incident commander: Ana\n"), "{note}");

    // Ana's steps: the late one first, then by due time, then those without one.
    let ana_steps = &note[note.find("\nAna:\n").expect(&note)..note.find("\nCy:\n").expect(&note)];
    let late = ana_steps
        .find("- Isolate backup server (LATE, due 2026-11-30 06:00 UTC)")
        .expect(ana_steps);
    let later = ana_steps
        .find("- Restore the payroll share (due 2026-11-30 18:00 UTC)")
        .expect(ana_steps);
    let undated = ana_steps.find("- Call the insurer").expect(ana_steps);
    assert!(late < later && later < undated, "{ana_steps}");
    assert!(note.contains("\nCy:\n- Brief the board\n"), "{note}");
    let by_owner =
        &note[note.find("Next steps by owner").unwrap()..note.find("What changed").unwrap()];
    assert!(!by_owner.contains("Pull the network cable"), "{note}");

    // Unanswered questions are open threads, with what is known so far; answered ones are not.
    let threads =
        &note[note.find("Open threads").unwrap()..note.find("Next steps by owner").unwrap()];
    assert!(
        threads.contains(&format!(
            "- {} (so far: Payroll and HR shares)",
            QUESTIONS[0].text
        )),
        "{threads}"
    );
    assert!(!threads.contains(QUESTIONS[1].text), "answered: {threads}");
    assert!(
        threads.contains(&format!("- {} (no answer yet)", QUESTIONS[2].text)),
        "{threads}"
    );
}

#[test]
fn what_another_person_changed_during_the_shift_is_in_the_note() {
    let (ana, bo, start) = a_shift();
    // Bo works during Ana's shift; Ana's device receives it.
    bo.add_next_step("b1", &step("Rotate the domain admin passwords", "Bo", None));
    bo.add_timeline_event(
        "t1",
        &TimelineEvent {
            occurred_at: "2026-11-30T04:00:00Z".into(),
            what: "Ransom note found on FS02".into(),
            author: "Bo".into(),
            include_in_report: true,
            ..Default::default()
        },
    );
    bo.set_next_step_status("old", StepStatus::Done);
    sync(&bo, &ana);

    let note = handoff_event(&ana, Some(&start), "Ana", NOW).notes.unwrap();
    let changed = &note[note.find("What changed during the shift").expect(&note)..];
    assert!(
        changed.contains("Next step added: Rotate the domain admin passwords"),
        "{changed}"
    );
    assert!(changed.contains("Ransom note found on FS02"), "{changed}");
    assert!(
        changed.contains("Call the insurer"),
        "the step Bo closed: {changed}"
    );
    assert!(!changed.contains("- Nothing."), "{changed}");

    // Without a copy from the shift's start the note does not claim that nothing changed.
    let unknown = handoff_event(&ana, None, "Ana", NOW).notes.unwrap();
    assert!(
        unknown.ends_with(
            "- Not known here: there is no copy of the incident from the shift's start."
        ),
        "{unknown}"
    );
    // A shift in which nothing changed says so.
    let quiet = handoff_event(&ana, Some(&copy(&ana)), " Ana ", NOW);
    assert!(quiet
        .notes
        .unwrap()
        .ends_with("What changed during the shift\n- Nothing."));
    assert_eq!(quiet.what, "Shift hand-off — Ana");
}

#[test]
fn the_hand_off_is_a_timeline_event_that_merges_and_can_be_edited() {
    let (ana, bo, start) = a_shift();
    let event = handoff_event(&ana, Some(&start), "Ana", NOW);
    ana.add_timeline_event("h1", &event);
    sync(&ana, &bo);
    assert_eq!(bo.timeline_event("h1").unwrap(), event);

    // Bo adds a line to the note while Ana corrects the headline: both edits stay.
    let edited = format!(
        "{}\nBo: the backup server is isolated now.",
        event.notes.as_deref().unwrap()
    );
    assert!(bo.set_timeline_field("h1", TimelineField::Notes, &edited));
    assert!(ana.set_timeline_field("h1", TimelineField::What, "Night shift hand-off — Ana"));
    sync(&bo, &ana);
    sync(&ana, &bo);
    for device in [&ana, &bo] {
        let merged = device.timeline_event("h1").unwrap();
        assert_eq!(merged.what, "Night shift hand-off — Ana");
        assert_eq!(merged.notes.as_deref(), Some(edited.as_str()));
    }
    // Emptied, the notes read as none.
    assert!(ana.set_timeline_field("h1", TimelineField::Notes, ""));
    assert_eq!(ana.timeline_event("h1").unwrap().notes, None);
}

#[test]
fn notes_go_into_every_export_that_carries_the_timeline() {
    let (ana, _bo, start) = a_shift();
    let event = handoff_event(&ana, Some(&start), "Ana", NOW);
    ana.add_timeline_event("h1", &event);
    let note = event.notes.clone().unwrap();
    let amber = audience(Tlp::Amber);

    // The report: the table keeps one line per event, the notes follow with their lines.
    let markdown = to_markdown(&report(&ana, &amber, ReportKind::Full));
    assert!(markdown.contains("## Timeline notes"), "{markdown}");
    assert!(
        markdown.contains(
            "2026-11-30 10:00 UTC — Shift hand-off — Ana:\\\nShift hand-off, 2026-11-30 10:00 UTC"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("Incident commander: Ana"), "{markdown}");
    // Left out of the report when the event is.
    ana.set_timeline_in_report("h1", false);
    let without = to_markdown(&report(&ana, &amber, ReportKind::Full));
    assert!(!without.contains("Timeline notes"), "{without}");
    ana.set_timeline_in_report("h1", true);

    // The timeline CSV has a notes column, and a file read back keeps the lines.
    let csv = timeline_csv(&ana, &amber);
    assert!(csv.starts_with("occurred_at,"), "{csv}");
    assert!(csv.lines().next().unwrap().ends_with(",id,notes"), "{csv}");
    let other = Incident::with_client_id(9);
    other.initialize("Copy", CREATED);
    let imported = import_timeline_csv(&other, &csv, "Importer", NOW, || "x".into()).unwrap();
    assert_eq!(
        imported.added,
        ana.timeline().len(),
        "{:?}",
        imported.rejected
    );
    let back = other.timeline_event("h1").expect("the id is kept");
    assert_eq!(back.notes.as_deref(), Some(note.as_str()));
    assert_eq!(timeline_csv(&other, &amber), csv);

    // The incident file's readable copy carries them too.
    let file = incident_file(&ana, &audience(Tlp::Red)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&file).unwrap();
    let events = value["incident"]["timeline"].as_array().unwrap();
    let written = events.iter().find(|e| e["id"] == "h1").unwrap();
    assert_eq!(written["notes"], serde_json::Value::from(note.as_str()));
    let opened = read_incident_file(&file).unwrap();
    let copy = Incident::new();
    copy.apply_update(&opened.state, UpdateOrigin::Storage)
        .unwrap();
    assert_eq!(
        copy.timeline_event("h1").unwrap().notes.as_deref(),
        Some(note.as_str())
    );
}

#[test]
fn events_without_notes_stay_as_they_were() {
    let inc = Incident::with_client_id(1);
    inc.initialize("Old", CREATED);
    inc.add_timeline_event(
        "e1",
        &TimelineEvent {
            occurred_at: CREATED.into(),
            what: "Mail reached 40 inboxes".into(),
            ..Default::default()
        },
    );
    let event = inc.timeline_event("e1").unwrap();
    assert_eq!(event.notes, None);
    // Nothing is written for notes that are not there: the stored entry keeps the keys an
    // older build wrote, and the report has no notes part.
    let markdown = to_markdown(&report(&inc, &audience(Tlp::Amber), ReportKind::Full));
    assert!(!markdown.contains("Timeline notes"), "{markdown}");
    let csv = timeline_csv(&inc, &audience(Tlp::Amber));
    assert!(csv.lines().nth(1).unwrap().ends_with(",e1,"), "{csv}");
}
