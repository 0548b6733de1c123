//! Comments: anchored passages under concurrent edits, concurrent replies, and resolve /
//! reply races, each on two devices that converge.

use incident::{
    CommentError, CommentOn, CommentTarget, Incident, Passage, ProseSection, TimelineEvent,
    UpdateOrigin, MAX_COMMENT_CHARS,
};

const T0: &str = "2026-11-30T03:00:00.000Z";
const T1: &str = "2026-11-30T03:01:00.000Z";
const T2: &str = "2026-11-30T03:02:00.000Z";
const T3: &str = "2026-11-30T03:03:00.000Z";

fn sync(from: &Incident, to: &Incident) {
    let diff = from.encode_diff(&to.state_vector()).unwrap();
    to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
}

fn both_ways(a: &Incident, b: &Incident) {
    sync(a, b);
    sync(b, a);
}

/// Ana's and Ben's devices, holding the same incident with a summary.
fn pair(summary: &str) -> (Incident, Incident) {
    let ana = Incident::with_client_id(1);
    ana.initialize("Phished finance laptop", T0);
    ana.edit_section(ProseSection::Summary, summary);
    let ben = Incident::with_client_id(2);
    sync(&ana, &ben);
    (ana, ben)
}

fn utf16_index(text: &str, needle: &str) -> u32 {
    let at = text.find(needle).expect("the needle is in the text");
    text[..at].encode_utf16().count() as u32
}

/// Ana comments on `passage` of the summary as thread "c1".
fn comment_on_passage(ana: &Incident, passage: &str) {
    let text = ana.section_text(ProseSection::Summary);
    let start = utf16_index(&text, passage);
    let end = start + passage.encode_utf16().count() as u32;
    ana.add_comment(
        "c1",
        &CommentOn::Passage {
            section: ProseSection::Summary,
            start,
            end,
        },
        "Is this confirmed?",
        "Ana",
        "aaaaaaaaaaaaaaaa",
        &[],
        T1,
    )
    .unwrap();
}

fn passage_of(inc: &Incident) -> Passage {
    let threads = inc.threads_on(&CommentTarget::Prose(ProseSection::Summary));
    assert_eq!(threads.len(), 1);
    threads[0]
        .passage
        .clone()
        .expect("a prose thread has a passage")
}

fn passage_text(inc: &Incident) -> String {
    match passage_of(inc) {
        Passage::Here { text, start, end } => {
            let whole = inc.section_text(ProseSection::Summary);
            let units: Vec<u16> = whole.encode_utf16().collect();
            assert_eq!(
                String::from_utf16_lossy(&units[start as usize..end as usize]),
                text
            );
            text
        }
        Passage::Deleted => panic!("the passage should still be there"),
    }
}

#[test]
fn a_passage_follows_text_typed_before_it_and_inside_it_on_both_devices() {
    let (ana, ben) = pair("The laptop beaconed to evil.example at night.");
    comment_on_passage(&ana, "beaconed to evil.example");
    sync(&ana, &ben);
    // At once: Ben types before the passage, Ana inside it and right after it.
    ben.edit_section(
        ProseSection::Summary,
        "Overnight, the finance laptop beaconed to evil.example at night.",
    );
    ana.edit_section(
        ProseSection::Summary,
        "The laptop beaconed twice to evil.example at night.",
    );
    ana.edit_section(
        ProseSection::Summary,
        "The laptop beaconed twice to evil.example, then at night.",
    );
    both_ways(&ana, &ben);
    let text = ana.section_text(ProseSection::Summary);
    assert_eq!(text, ben.section_text(ProseSection::Summary));
    assert_eq!(
        text,
        "Overnight, the finance laptop beaconed twice to evil.example, then at night."
    );
    // The passage widened with what was typed inside it; ", then" typed right after it
    // stays out; the quote is the text as it was.
    assert_eq!(passage_text(&ana), "beaconed twice to evil.example");
    assert_eq!(passage_of(&ana), passage_of(&ben));
    assert_eq!(ana.threads()[0].quote, "beaconed to evil.example");
}

#[test]
fn a_passage_deleted_on_one_device_while_the_other_comments_reads_as_deleted() {
    let (ana, ben) = pair("Keep this. Remove this sentence. Keep that.");
    comment_on_passage(&ana, "Remove this sentence.");
    // Ben deletes the sentence before he has Ana's comment.
    ben.edit_section(ProseSection::Summary, "Keep this. Keep that.");
    both_ways(&ana, &ben);
    assert_eq!(passage_of(&ana), Passage::Deleted);
    assert_eq!(passage_of(&ben), Passage::Deleted);
    let thread = &ben.threads()[0];
    assert_eq!(thread.quote, "Remove this sentence.");
    assert_eq!(thread.first().body, "Is this confirmed?");
}

#[test]
fn a_passage_partly_deleted_keeps_what_is_left() {
    let (ana, ben) = pair("Ransom note found on FS01 and FS02.");
    comment_on_passage(&ana, "FS01 and FS02");
    sync(&ana, &ben);
    ben.edit_section(ProseSection::Summary, "Ransom note found on FS02.");
    both_ways(&ana, &ben);
    assert_eq!(passage_text(&ana), "FS02");
    assert_eq!(passage_text(&ben), "FS02");
}

#[test]
fn concurrent_replies_are_all_kept_in_the_same_order_on_both_devices() {
    let (ana, ben) = pair("");
    let target = CommentTarget::Timeline("e1".into());
    ana.add_entry("e1", &TimelineEvent::default());
    ana.add_comment(
        "c1",
        &CommentOn::Item(target.clone()),
        "Who saw this first?",
        "Ana",
        "",
        &[],
        T0,
    )
    .unwrap();
    sync(&ana, &ben);
    // Offline, both reply; two replies each.
    ana.reply("r-a1", "c1", "Not me", "Ana", "", &[], T2)
        .unwrap();
    ben.reply("r-b1", "c1", "The SOC", "Ben", "", &[], T1)
        .unwrap();
    ben.reply("r-b2", "c1", "At 02:10", "Ben", "", &[], T3)
        .unwrap();
    ana.reply("r-a2", "c1", "Same time", "Ana", "", &[], T3)
        .unwrap();
    both_ways(&ana, &ben);
    let ids = |inc: &Incident| -> Vec<String> {
        inc.threads_on(&target)[0]
            .comments
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    };
    // By time, a tie by id.
    assert_eq!(ids(&ana), ["c1", "r-b1", "r-a1", "r-a2", "r-b2"]);
    assert_eq!(ids(&ana), ids(&ben));
    assert_eq!(ana.threads(), ben.threads());
    assert!(ana
        .threads_on(&CommentTarget::Indicator("e1".into()))
        .is_empty());
}

fn thread_on_step(ana: &Incident, ben: &Incident) -> CommentTarget {
    let target = CommentTarget::NextStep("s1".into());
    ana.add_comment(
        "c1",
        &CommentOn::Item(target.clone()),
        "Done?",
        "Ana",
        "",
        &[],
        T0,
    )
    .unwrap();
    sync(ana, ben);
    target
}

#[test]
fn a_reply_after_a_concurrent_resolve_reopens_the_thread_on_both_devices() {
    let (ana, ben) = pair("");
    let target = thread_on_step(&ana, &ben);
    ana.resolve_thread("x1", "c1", "Ana", "", T1).unwrap();
    assert!(ana.threads()[0].is_resolved());
    ben.reply(
        "r1",
        "c1",
        "Not yet: the key is still live",
        "Ben",
        "",
        &[],
        T2,
    )
    .unwrap();
    both_ways(&ana, &ben);
    for inc in [&ana, &ben] {
        let thread = &inc.threads_on(&target)[0];
        assert!(!thread.is_resolved(), "a later reply reopens");
        assert_eq!(thread.replies().len(), 1);
        assert_eq!(thread.actions.len(), 1);
    }
    assert_eq!(ana.threads(), ben.threads());
}

#[test]
fn a_resolve_after_a_concurrent_reply_keeps_the_thread_resolved_on_both_devices() {
    let (ana, ben) = pair("");
    thread_on_step(&ana, &ben);
    ben.reply("r1", "c1", "Done, rotated", "Ben", "", &[], T1)
        .unwrap();
    ana.resolve_thread("x1", "c1", "Ana", "aaaaaaaaaaaaaaaa", T2)
        .unwrap();
    both_ways(&ana, &ben);
    for inc in [&ana, &ben] {
        let resolved = inc.threads()[0].resolved.clone().expect("resolved");
        assert_eq!(resolved.by, "Ana");
        assert_eq!(resolved.at, T2);
    }
    // Then a reopen and a resolve race: the later one wins everywhere.
    ben.reopen_thread("x2", "c1", "Ben", "", T3).unwrap();
    ana.resolve_thread("x3", "c1", "Ana", "", T2).unwrap();
    both_ways(&ana, &ben);
    assert!(!ana.threads()[0].is_resolved());
    assert_eq!(ana.threads(), ben.threads());
    assert_eq!(ana.threads()[0].actions.len(), 3);
}

#[test]
fn bad_comments_are_refused_with_a_reason_and_write_nothing() {
    let (ana, _) = pair("Some text");
    let on = CommentOn::Item(CommentTarget::Indicator("i1".into()));
    assert_eq!(
        ana.add_comment("c", &on, "  \n", "Ana", "", &[], T0),
        Err(CommentError::Empty)
    );
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    let err = ana
        .add_comment("c", &on, &long, "Ana", "", &[], T0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a comment is at most 10000 characters; this one is 10001"
    );
    let empty = CommentOn::Passage {
        section: ProseSection::Summary,
        start: 4,
        end: 4,
    };
    assert_eq!(
        ana.add_comment("c", &empty, "Hm", "Ana", "", &[], T0),
        Err(CommentError::EmptyPassage)
    );
    let prose = CommentOn::Item(CommentTarget::Prose(ProseSection::Summary));
    assert_eq!(
        ana.add_comment("c", &prose, "Hm", "Ana", "", &[], T0),
        Err(CommentError::ProseWithoutPassage)
    );
    assert_eq!(
        ana.reply("r", "nope", "Hm", "Ana", "", &[], T0),
        Err(CommentError::NoSuchThread)
    );
    assert_eq!(
        ana.resolve_thread("x", "nope", "Ana", "", T0),
        Err(CommentError::NoSuchThread)
    );
    assert!(ana.threads().is_empty());
    // A body of exactly the limit is fine.
    let max = "x".repeat(MAX_COMMENT_CHARS);
    ana.add_comment("c", &on, &max, "Ana", "", &[], T0).unwrap();
    assert_eq!(ana.threads().len(), 1);
}

#[test]
fn mentions_and_edits_are_stored_and_read_back() {
    let (ana, ben) = pair("");
    let mentions = vec!["bbbbbbbbbbbbbbbb".to_string()];
    ana.add_comment(
        "c1",
        &CommentOn::Item(CommentTarget::Timeline("e1".into())),
        "@Ben can you look?",
        "Ana",
        "aaaaaaaaaaaaaaaa",
        &mentions,
        T0,
    )
    .unwrap();
    ana.edit_comment("c1", "@Ben can you look now?", T1)
        .unwrap();
    sync(&ana, &ben);
    let thread = &ben.threads()[0];
    let first = thread.first();
    assert_eq!(first.mentions(), mentions.as_slice());
    assert_eq!(first.body, "@Ben can you look now?");
    assert_eq!(first.edited_at.as_deref(), Some(T1));
    assert_eq!(first.author_invite, "aaaaaaaaaaaaaaaa");
    assert_eq!(
        ben.edit_comment("nope", "x", T1),
        Err(CommentError::NoSuchComment)
    );
}

#[test]
fn a_long_passage_is_anchored_whole_with_its_quote_cut() {
    let long = "word ".repeat(400);
    let (ana, _) = pair(&long);
    let end = long.encode_utf16().count() as u32;
    ana.add_comment(
        "c1",
        &CommentOn::Passage {
            section: ProseSection::Summary,
            start: 0,
            end,
        },
        "All of it",
        "Ana",
        "",
        &[],
        T0,
    )
    .unwrap();
    let thread = &ana.threads()[0];
    assert_eq!(thread.quote.chars().count(), incident::MAX_QUOTE_CHARS);
    assert!(thread.quote.ends_with('…'));
    assert_eq!(
        thread.passage,
        Some(Passage::Here {
            start: 0,
            end,
            text: long.clone()
        })
    );
}

#[test]
fn a_passage_reads_the_same_on_a_device_that_loads_the_incident_afresh() {
    let (ana, ben) = pair("Ransom note found on FS01 and FS02.");
    comment_on_passage(&ana, "FS01 and FS02");
    sync(&ana, &ben);
    ben.edit_section(ProseSection::Summary, "Ransom note found on FS02.");
    both_ways(&ana, &ben);
    // A third device opens the incident from its stored state (deleted text garbage
    // collected as a live document would have it).
    let cy = Incident::with_client_id(3);
    cy.apply_update(&ben.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    assert_eq!(passage_text(&cy), "FS02");
    assert_eq!(cy.threads(), ben.threads());
}

/// Ana (with an invite id) starts thread "c1" on an event and Ben (without one) replies "r1";
/// both devices hold both.
fn ana_comments_ben_replies() -> (Incident, Incident) {
    let (ana, ben) = pair("");
    ana.add_comment(
        "c1",
        &CommentOn::Item(CommentTarget::Timeline("e1".into())),
        "Which share was it on?",
        "Ana",
        "aaaaaaaaaaaaaaaa",
        &[],
        T0,
    )
    .unwrap();
    sync(&ana, &ben);
    ben.reply("r1", "c1", "FS02, I think", "Ben", "", &[], T1)
        .unwrap();
    both_ways(&ana, &ben);
    (ana, ben)
}

#[test]
fn only_the_author_edits_or_deletes_a_comment() {
    let (ana, ben) = ana_comments_ben_replies();
    let not_ana = Err(CommentError::NotYourComment {
        author: "Ana".into(),
    });
    // Same name, another invite id: not Ana.
    assert_eq!(
        ben.edit_own_comment("c1", "Hijacked", "Ana", "bbbbbbbbbbbbbbbb", T2),
        not_ana
    );
    assert_eq!(
        ben.delete_own_comment("c1", "Ben", "bbbbbbbbbbbbbbbb", T2),
        not_ana
    );
    // A comment with no invite id is its author's by name, for someone with no invite id:
    // an invited person taking the name is not the author.
    assert_eq!(
        ana.edit_own_comment("r1", "Hijacked", "Ben", "aaaaaaaaaaaaaaaa", T2),
        Err(CommentError::NotYourComment {
            author: "Ben".into()
        })
    );
    assert_eq!(
        ana.edit_own_comment("r1", "Hijacked", "Ana", "aaaaaaaaaaaaaaaa", T2),
        Err(CommentError::NotYourComment {
            author: "Ben".into()
        })
    );
    assert_eq!(
        CommentError::NotYourComment {
            author: "Ana".into()
        }
        .to_string(),
        "only Ana, who wrote this comment, can edit or delete it"
    );
    // Nothing was written.
    both_ways(&ana, &ben);
    let thread = &ana.threads()[0];
    assert_eq!(thread.comments[0].1.body, "Which share was it on?");
    assert_eq!(thread.comments[1].1.body, "FS02, I think");
    assert!(thread.comments.iter().all(|(_, c)| c.edited_at.is_none()));

    // The authors may.
    ana.edit_own_comment(
        "c1",
        "Which share, and which host?",
        "Ana",
        "aaaaaaaaaaaaaaaa",
        T2,
    )
    .unwrap();
    ben.edit_own_comment("r1", "FS02\\finance", "Ben", "", T2)
        .unwrap();
    both_ways(&ana, &ben);
    for device in [&ana, &ben] {
        let thread = &device.threads()[0];
        assert_eq!(thread.comments[0].1.body, "Which share, and which host?");
        assert_eq!(thread.comments[0].1.edited_at.as_deref(), Some(T2));
        assert_eq!(thread.comments[1].1.body, "FS02\\finance");
    }
}

#[test]
fn a_deleted_comment_is_a_tombstone_that_keeps_its_thread_and_its_record() {
    let (ana, ben) = ana_comments_ben_replies();
    ana.delete_own_comment("c1", "Ana", "aaaaaaaaaaaaaaaa", T2)
        .unwrap();
    sync(&ana, &ben);
    let thread = &ben.threads()[0];
    assert_eq!(thread.id, "c1", "the thread stays, with Ben's reply");
    assert_eq!(thread.comments.len(), 2);
    let first = thread.first();
    assert!(first.is_deleted());
    assert_eq!(first.deleted_by.as_deref(), Some("Ana"));
    assert_eq!(first.deleted_at.as_deref(), Some(T2));
    // The record keeps the text; only the view drops it.
    assert_eq!(first.body, "Which share was it on?");
    assert_eq!(thread.comments[1].1.body, "FS02, I think");
    // A deleted comment is neither edited nor deleted again.
    assert_eq!(
        ana.edit_own_comment("c1", "Back", "Ana", "aaaaaaaaaaaaaaaa", T3),
        Err(CommentError::CommentDeleted)
    );
    assert_eq!(
        ana.delete_own_comment("c1", "Ana", "aaaaaaaaaaaaaaaa", T3),
        Err(CommentError::CommentDeleted)
    );
    assert_eq!(
        ana.delete_own_comment("nope", "Ana", "aaaaaaaaaaaaaaaa", T3),
        Err(CommentError::NoSuchComment)
    );
    // Replying to a thread whose first comment was deleted still works.
    ben.reply("r2", "c1", "Still need the host", "Ben", "", &[], T3)
        .unwrap();
    // A device loading the incident afresh reads the same tombstone.
    let fresh = Incident::with_client_id(3);
    sync(&ben, &fresh);
    let thread = &fresh.threads()[0];
    assert!(thread.first().is_deleted());
    assert_eq!(thread.comments.len(), 3);
}

#[test]
fn threads_on_a_removed_item_are_listed_with_the_item_label() {
    let (ana, ben) = pair("");
    ana.add_timeline_event(
        "e1",
        &TimelineEvent {
            what: "Ransom note found on FS02".into(),
            ..Default::default()
        },
    );
    let on_event = CommentTarget::Timeline("e1".into());
    ana.add_comment(
        "c1",
        &CommentOn::Item(on_event.clone()),
        "Which share?",
        "Ana",
        "",
        &[],
        T1,
    )
    .unwrap();
    sync(&ana, &ben);
    assert!(ben.comment_target_exists(&on_event));
    assert!(ben.threads_on_removed_items().is_empty());
    assert_eq!(ben.threads()[0].quote, "Ransom note found on FS02");

    ben.remove_timeline_event("e1");
    both_ways(&ana, &ben);
    for device in [&ana, &ben] {
        assert!(!device.comment_target_exists(&on_event));
        let removed = device.threads_on_removed_items();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].target, on_event);
        assert_eq!(removed[0].quote, "Ransom note found on FS02");
        assert_eq!(removed[0].first().body, "Which share?");
    }
    // A prose section is never removed.
    assert!(ana.comment_target_exists(&CommentTarget::Prose(ProseSection::Summary)));
}
