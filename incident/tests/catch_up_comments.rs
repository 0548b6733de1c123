//! Comments in "since you were last here" and in the shift hand-off: what others wrote,
//! replied, resolved and reopened since the reader's mark, grouped by thread, with who and
//! when, what each thread is on (removed items said so) and the start of the text; one's own
//! left out. The hand-off lists the threads still open with their latest word and those
//! resolved during the shift, and hostile text stays text in the Markdown export. Also
//! prints what the comparison costs on a 5,000-event incident.

use std::time::Instant;

use incident::export::{report, to_markdown, Audience, ReportKind};
use incident::history::{catch_up, comment_catch_up, handoff_event, CommentAction};
use incident::{
    CommentOn, CommentTarget, Incident, NextStep, ProseSection, TimelineEvent, Tlp, UpdateOrigin,
};

const T0: &str = "2026-11-30T01:00:00Z";
const MARK: &str = "2026-11-30T01:30:00Z";
const NOW: &str = "2026-11-30T02:00:00Z";

fn at(minute: u32) -> String {
    format!("2026-11-30T01:{minute:02}:00Z")
}

fn sync(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

fn copy(incident: &Incident) -> Incident {
    let copy = Incident::new();
    copy.apply_update(&incident.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    copy
}

fn event(what: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: T0.into(),
        what: what.into(),
        author: "Ana".into(),
        ..Default::default()
    }
}

fn step(title: &str) -> NextStep {
    NextStep {
        title: title.into(),
        created_by: "Ana".into(),
        created_at: T0.into(),
        ..Default::default()
    }
}

/// Ana's device and Bob's, the same incident: an event, a next step and a summary, and a
/// thread Bob started on the event before he left. Bob's mark is his copy then.
fn night() -> (Incident, Incident, Incident) {
    let ana = Incident::with_client_id(1);
    ana.initialize("Ransomware on FS02", T0);
    ana.add_timeline_event("e1", &event("Ransom note found on FS02"));
    ana.add_next_step("s1", &step("Call the insurer"));
    ana.edit_section(
        ProseSection::Summary,
        "Two file servers encrypted overnight.",
    );
    let bob = Incident::with_client_id(2);
    sync(&ana, &bob);
    bob.add_comment(
        "b-thread",
        &CommentOn::Item(CommentTarget::Timeline("e1".into())),
        "Who found it?",
        "Bob",
        "i-bob",
        &[],
        &at(10),
    )
    .unwrap();
    sync(&bob, &ana);
    let mark = copy(&bob);
    (ana, bob, mark)
}

#[test]
fn others_comments_replies_and_resolves_since_the_mark_are_listed_by_thread() {
    let (ana, bob, mark) = night();
    // While Bob is away: Ana answers his thread and resolves it, and starts two threads of
    // her own, one on a passage of the summary.
    ana.reply(
        "a-r1",
        "b-thread",
        "The night operator, at 00:40.\nShe called the SOC.",
        "Ana",
        "i-ana",
        &[],
        &at(35),
    )
    .unwrap();
    ana.resolve_thread("a-res", "b-thread", "Ana", "i-ana", &at(36))
        .unwrap();
    ana.add_comment(
        "a-step",
        &CommentOn::Item(CommentTarget::NextStep("s1".into())),
        "Policy number is in the safe.",
        "Ana",
        "i-ana",
        &[],
        &at(40),
    )
    .unwrap();
    let text = ana.section_text(ProseSection::Summary);
    let start = text.find("encrypted").unwrap() as u32;
    ana.add_comment(
        "a-passage",
        &CommentOn::Passage {
            section: ProseSection::Summary,
            start,
            end: start + "encrypted".len() as u32,
        },
        "Only FS02 is confirmed.",
        "Ana",
        "i-ana",
        &[],
        &at(45),
    )
    .unwrap();
    sync(&ana, &bob);

    let news = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 8, 5);
    assert_eq!(news.count, 4, "{news:#?}");
    assert_eq!(news.more_threads, 0);
    let order: Vec<&str> = news.threads.iter().map(|t| t.thread.as_str()).collect();
    assert_eq!(
        order,
        ["a-passage", "a-step", "b-thread"],
        "latest news first"
    );

    let passage = &news.threads[0];
    assert_eq!(passage.on, "Summary: “encrypted”");
    assert_eq!(passage.target, CommentTarget::Prose(ProseSection::Summary));
    assert_eq!(passage.items[0].action, CommentAction::Commented);
    assert_eq!(passage.items[0].line(), "Ana commented");
    assert_eq!(passage.items[0].who, "Ana, 01:45 UTC");
    assert_eq!(passage.items[0].when, "01:45 UTC");
    assert_eq!(passage.items[0].excerpt, "Only FS02 is confirmed.");

    assert_eq!(news.threads[1].on, "Next step “Call the insurer”");
    assert!(!news.threads[1].removed && !news.threads[1].resolved);

    // Bob's own first comment is not news; Ana's reply (on one line) and resolve are, in
    // order, and the thread is resolved now.
    let bobs = &news.threads[2];
    assert_eq!(bobs.on, "Timeline event “Ransom note found on FS02”");
    assert!(bobs.resolved);
    let lines: Vec<(String, &str)> = bobs
        .items
        .iter()
        .map(|i| (i.line(), i.excerpt.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "Ana replied".to_string(),
                "The night operator, at 00:40. She called the SOC."
            ),
            ("Ana resolved the thread".to_string(), ""),
        ]
    );
    assert_eq!(bobs.items[0].id, "a-r1");

    // Reopened later: listed as such, and open now.
    ana.reopen_thread("a-reopen", "b-thread", "Ana", "i-ana", &at(50))
        .unwrap();
    sync(&ana, &bob);
    let news = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 8, 5);
    let bobs = &news.threads[0];
    assert_eq!(bobs.thread, "b-thread");
    assert!(!bobs.resolved);
    assert_eq!(bobs.items.last().unwrap().line(), "Ana reopened the thread");
}

#[test]
fn ones_own_comments_deleted_ones_and_a_quiet_night_are_not_news() {
    let (ana, bob, mark) = night();
    assert_eq!(
        comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 8, 5),
        Default::default()
    );
    // Bob replying from another copy (his phone, same invite) is still Bob.
    let phone = copy(&bob);
    phone
        .reply(
            "b-r",
            "b-thread",
            "Found it myself.",
            "Bob",
            "i-bob",
            &[],
            &at(40),
        )
        .unwrap();
    // Ana writes something and takes it back.
    ana.reply(
        "a-oops",
        "b-thread",
        "wrong thread",
        "Ana",
        "i-ana",
        &[],
        &at(41),
    )
    .unwrap();
    ana.delete_own_comment("a-oops", "Ana", "i-ana", &at(42))
        .unwrap();
    sync(&phone, &bob);
    sync(&ana, &bob);
    let news = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 8, 5);
    assert_eq!(news.count, 0, "{news:#?}");
    assert!(news.threads.is_empty());

    // The owner has no invite id: their own comments are told by name alone.
    let owner = comment_catch_up(&mark, &bob, "Ana", "", NOW, 8, 5);
    assert_eq!(owner.count, 1, "Bob's reply: {owner:#?}");
}

#[test]
fn a_thread_on_a_removed_item_says_so_and_long_lists_are_cut() {
    let (ana, bob, mark) = night();
    for n in 0..7 {
        ana.reply(
            &format!("a-{n}"),
            "b-thread",
            &format!("Update {n}: {}", "x".repeat(200)),
            "Ana",
            "i-ana",
            &[],
            &at(31 + n),
        )
        .unwrap();
    }
    for n in 0..3 {
        let id = format!("e-{n}");
        ana.add_timeline_event(&id, &event(&format!("Event {n}")));
        ana.add_comment(
            &format!("c-{n}"),
            &CommentOn::Item(CommentTarget::Timeline(id)),
            "Look",
            "Ana",
            "i-ana",
            &[],
            &at(45 + n),
        )
        .unwrap();
    }
    ana.remove_timeline_event("e1");
    sync(&ana, &bob);

    let news = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 2, 3);
    assert_eq!(news.count, 10);
    assert_eq!(news.threads.len(), 2);
    assert_eq!(news.more_threads, 2);
    let all = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 10, 3);
    let removed = all.threads.iter().find(|t| t.thread == "b-thread").unwrap();
    assert!(removed.removed);
    assert_eq!(
        removed.on,
        "Timeline event (removed): “Ransom note found on FS02”"
    );
    assert_eq!(removed.earlier, 4);
    let ids: Vec<&str> = removed.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["a-4", "a-5", "a-6"], "the latest three, oldest first");
    assert!(removed.items[0].excerpt.chars().count() <= 120);
    assert!(removed.items[0].excerpt.ends_with('…'));
}

#[test]
fn the_hand_off_lists_open_threads_with_their_latest_word_and_those_resolved_in_the_shift() {
    let (ana, _bob, _mark) = night();
    let start = copy(&ana);
    ana.reply(
        "a-r1",
        "b-thread",
        "The night operator.",
        "Ana",
        "i-ana",
        &[],
        &at(35),
    )
    .unwrap();
    ana.resolve_thread("a-res", "b-thread", "Ana", "i-ana", &at(36))
        .unwrap();
    let hostile = "<img src=x onerror=alert(1)> [click](javascript:alert(2)) *bold*\n# heading";
    ana.add_comment(
        "a-step",
        &CommentOn::Item(CommentTarget::NextStep("s1".into())),
        "Who has the policy number?",
        "Ana",
        "i-ana",
        &[],
        &at(40),
    )
    .unwrap();
    ana.reply("c-r", "a-step", hostile, "Cy", "i-cy", &[], &at(41))
        .unwrap();

    let event = handoff_event(&ana, Some(&start), "Ana", NOW);
    let note = event.notes.clone().unwrap();
    let open = &note[note.find("Open comment threads\n").expect(&note)
        ..note
            .find("Comment threads resolved during the shift")
            .expect(&note)];
    assert!(
        open.contains("- On Next step “Call the insurer” — Cy, 01:41 UTC: “<img src=x onerror=alert(1)> [click](javascript:alert(2)) *bold* # heading”"),
        "{open}"
    );
    assert!(!open.contains("Ransom note"), "resolved: {open}");
    let resolved = &note[note
        .find("Comment threads resolved during the shift")
        .unwrap()..note.find("What changed during the shift").unwrap()];
    assert!(
        resolved.contains("- On Timeline event “Ransom note found on FS02” — Ana, 01:35 UTC: “The night operator.” (resolved by Ana, 01:36 UTC)"),
        "{resolved}"
    );
    // Resolved before the shift: not the shift's.
    let later = handoff_event(&ana, Some(&copy(&ana)), "Ana", NOW);
    assert!(later
        .notes
        .unwrap()
        .contains("Comment threads resolved during the shift\n- None.\n"));
    // Without the shift's start, no claim about what was resolved in it.
    let unknown = handoff_event(&ana, None, "Ana", NOW).notes.unwrap();
    assert!(unknown.contains("Open comment threads\n- On Next step"));
    assert!(!unknown.contains("resolved during the shift"), "{unknown}");

    // In the Markdown export the comment's text is escaped, not markup.
    ana.add_timeline_event("handoff", &event);
    let md = to_markdown(&report(
        &ana,
        &Audience {
            incident_id: "inc-night",
            tlp: Tlp::Red,
            now: NOW,
        },
        ReportKind::Full,
    ));
    assert!(md.contains("Open comment threads"), "{md}");
    // (The browser spec renders it with a CommonMark renderer: catch_up_comments.spec.js.)
    assert!(md.contains(r"\<img src=x onerror=alert(1)\>"), "{md}");
    assert!(md.contains(r"\[click\](javascript"), "{md}");
}

/// Not an assertion of speed: prints what the comparison costs with 5,000 events and 300
/// comments (run with `--release --nocapture` for the figure).
#[test]
fn cost_with_five_thousand_events() {
    let ana = Incident::with_client_id(1);
    ana.initialize("Big one", T0);
    for n in 0..5000 {
        ana.add_timeline_event(&format!("e{n}"), &event(&format!("Event {n}")));
    }
    for n in 0..270 {
        ana.add_comment(
            &format!("c{n}"),
            &CommentOn::Item(CommentTarget::Timeline(format!("e{}", n * 17))),
            "Looked at it",
            "Ana",
            "i-ana",
            &[],
            &at(10),
        )
        .unwrap();
    }
    let bob = copy(&ana);
    let mark = copy(&bob);
    for n in 0..30 {
        ana.reply(
            &format!("r{n}"),
            &format!("c{n}"),
            "And again",
            "Ana",
            "i-ana",
            &[],
            &at(40),
        )
        .unwrap();
    }
    ana.add_timeline_event("late", &event("One more"));
    sync(&ana, &bob);
    let started = Instant::now();
    let groups = catch_up(&mark, &bob, None, MARK, NOW, 8);
    let changes_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let news = comment_catch_up(&mark, &bob, "Bob", "i-bob", NOW, 8, 5);
    let comments_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(news.count, 30);
    assert!(!groups.is_empty());
    println!(
        "5,000 events, 300 comments (30 new): catch_up {changes_ms:.1} ms, comment_catch_up {comments_ms:.1} ms"
    );
}
