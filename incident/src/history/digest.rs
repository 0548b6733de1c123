//! Short readings of a list of changes: "since you were last here" and the shift hand-off.

use std::cmp::Reverse;
use std::collections::HashSet;

use super::discussion::{latest_word, name_and_time, open_threads, place_of, resolved_since};
use super::{
    changes, now_overdue, Attribution, Authorship, Change, ChangeKind, Group, Place, Stamp,
};
use crate::{
    when, AnswerStatus, Incident, NextStep, ProseSection, QuestionList, Role, Thread,
    TimelineEvent, MAP_ROOTS, QUESTIONS,
};

/// One line of a catch-up list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatchUpItem {
    pub change: Change,
    /// Who made it and when, when the record is known.
    pub stamp: Option<Stamp>,
    /// The line to show, times in the incident's display zone.
    pub line: String,
    /// Who made it and when, to show after the line ("Ben, 03:40 UTC"; the date too when
    /// not the day of `now`): only for a stamp that names someone and that the relay
    /// received at or after the mark, so an answer older than the change says nothing.
    pub who: Option<String>,
}

/// The changes of one part of the page, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatchUpGroup {
    pub group: Group,
    pub items: Vec<CatchUpItem>,
    /// How many more changes there were than `items` shows.
    pub more: usize,
}

/// "Since you were last here": what differs between `before` (the incident at the reader's
/// mark, taken at `since`) and `after` (now), plus the next steps that turned late since then,
/// grouped by part of the page (in page order, empty groups left out), each group newest
/// first and at most `per_group` long. `attribution`, when the record is at hand, says who
/// made each change and when; without it items keep the page's order.
pub fn catch_up(
    before: &Incident,
    after: &Incident,
    attribution: Option<&Attribution>,
    since: &str,
    now: &str,
    per_group: usize,
) -> Vec<CatchUpGroup> {
    let zone = after.display_zone();
    let since_ms = when::parse_stored(since).map(|t| t.timestamp_millis());
    let mut all = changes(before, after);
    let late = now_overdue(after, since, now);
    // A step added already late is listed once, as late.
    let late_places: HashSet<&Place> = late.iter().map(|c| &c.place).collect();
    all.retain(|c| !(c.kind == ChangeKind::Added && late_places.contains(&c.place)));
    all.extend(late);
    let mut groups = Vec::new();
    for group in Group::ALL {
        let mut items: Vec<(Option<i64>, CatchUpItem)> = all
            .iter()
            .filter(|c| c.group() == group)
            .map(|change| {
                let stamp = attribution.and_then(|a| stamp_of(a, change));
                let at = match &change.kind {
                    ChangeKind::StepOverdue { due } => {
                        when::parse_stored(due).map(|t| t.timestamp_millis())
                    }
                    _ => stamp.as_ref().map(|s| s.received_at_ms),
                };
                let line = change.describe(&zone);
                let who = stamp
                    .as_ref()
                    .filter(|s| !s.by.trim().is_empty())
                    .filter(|s| since_ms.is_some_and(|since| s.received_at_ms >= since))
                    .map(|s| who_and_when(s, &zone, now));
                let item = CatchUpItem {
                    change: change.clone(),
                    stamp,
                    line,
                    who,
                };
                (at, item)
            })
            .collect();
        if items.is_empty() {
            continue;
        }
        crate::sort::sort_by_key(&mut items, |(at, _)| Reverse(*at));
        let more = items.len().saturating_sub(per_group);
        items.truncate(per_group);
        groups.push(CatchUpGroup {
            group,
            items: items.into_iter().map(|(_, item)| item).collect(),
            more,
        });
    }
    groups
}

/// The stamp that goes with a change: its creation for an addition, its deletion for a
/// deletion, its last change otherwise.
fn stamp_of(attribution: &Attribution, change: &Change) -> Option<Stamp> {
    let authorship = attribution.get(&change.place)?;
    Some(match change.kind {
        ChangeKind::Added => authorship.created.clone(),
        ChangeKind::Deleted => authorship
            .deleted
            .clone()
            .unwrap_or_else(|| authorship.changed.clone()),
        _ => authorship.changed.clone(),
    })
}

/// "Ben, 03:40 UTC": the stamp's name and the relay's receive time in `zone`, with the date
/// when it is not the day of `now` (RFC 3339 UTC) there.
pub fn who_and_when(stamp: &Stamp, zone: &str, now: &str) -> String {
    let at = when::format_in_zone(
        &when::utc_from_unix_seconds(stamp.received_at_ms.div_euclid(1000)),
        zone,
    );
    let today = when::format_in_zone(now, zone);
    let shown = match (at.get(..11), today.get(..11)) {
        (Some(day), Some(this_day)) if day == this_day => &at[11..],
        _ => &at[..],
    };
    format!("{}, {shown}", stamp.by)
}

impl Place {
    /// The place a section's key and an entry's id name, as the relay's answer spells them
    /// (`timeline` and an event's id; `summary` and none): `None` for a section this build
    /// does not know.
    pub fn from_keys(section: &str, id: Option<&str>) -> Option<Place> {
        let section = match id {
            Some(_) => *MAP_ROOTS.iter().find(|root| **root == section)?,
            None => ProseSection::from_key(section)?.key(),
        };
        Some(Place {
            section,
            id: id.map(str::to_string),
        })
    }
}

impl Attribution {
    /// Sets who created and last changed the thing at `place`: an attribution read back from
    /// the relay's answer (`GET …/history/attribution`) rather than replayed here.
    pub fn insert(&mut self, place: Place, authorship: Authorship) {
        self.places.insert(place, authorship);
    }
}

/// How many lines of "what changed" a hand-off note lists before it counts the rest.
const HANDOFF_CHANGES: usize = 25;

/// How many open next steps of one owner a hand-off note lists (late ones first) before it
/// counts the rest.
const HANDOFF_STEPS_PER_OWNER: usize = 20;

/// A shift hand-off note, plain text, ready to be a timeline event's description: who holds
/// which role, the open threads (questions without an answer, theories not yet confirmed),
/// the next steps not done by owner (late ones first), the comment threads still open with
/// their latest word (and, from [`handoff_event`] with the shift's start, those resolved
/// during the shift), and `shift_changes` (what changed
/// during the shift, from [`changes`]). Times are shown in the incident's display zone;
/// `now` is RFC 3339 UTC.
pub fn handoff_note(incident: &Incident, shift_changes: &[Change], now: &str) -> String {
    note(incident, shift_changes, None, now)
}

/// How many comment threads of one kind (open, resolved during the shift) a hand-off note
/// lists before it counts the rest.
const HANDOFF_THREADS: usize = 20;

/// [`handoff_note`], with the comment threads resolved since `shift_start` when it is known.
fn note(
    incident: &Incident,
    shift_changes: &[Change],
    shift_start: Option<&Incident>,
    now: &str,
) -> String {
    let zone = incident.display_zone();
    let time = |t: &str| when::format_in_zone(t, &zone);
    let mut note = format!("Shift hand-off, {}\n", time(now));

    let roles: Vec<String> = Role::ALL
        .into_iter()
        .filter_map(|role| {
            incident
                .role_holder(role)
                .map(|h| format!("{}: {}", role.label(), h.name))
        })
        .collect();
    note.push_str("\nRoles\n");
    if roles.is_empty() {
        note.push_str("- Nobody holds a role.\n");
    }
    for line in roles {
        note.push_str(&format!("- {line}\n"));
    }

    note.push_str("\nOpen threads\n");
    let mut open = 0;
    let post_mortem = matches!(
        incident.status(),
        crate::IncidentStatus::Resolved | crate::IncidentStatus::Closed
    );
    for question in QUESTIONS {
        if question.list == QuestionList::PostMortem && !post_mortem {
            continue;
        }
        let answer = incident.answer(question);
        if answer.status == AnswerStatus::Unknown {
            let so_far = if answer.answer.trim().is_empty() {
                String::from("no answer yet")
            } else {
                format!("so far: {}", one_line(&answer.answer))
            };
            note.push_str(&format!("- {} ({so_far})\n", question.text));
            open += 1;
        }
    }
    for theory in incident
        .section_text(ProseSection::Theories)
        .lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty())
    {
        note.push_str(&format!("- Theory: {}\n", one_line(theory)));
        open += 1;
    }
    if open == 0 {
        note.push_str("- None.\n");
    }

    note.push_str("\nNext steps by owner\n");
    let steps: Vec<(String, NextStep)> = incident
        .next_steps()
        .into_iter()
        .filter(|(_, s)| s.status != crate::StepStatus::Done)
        .collect();
    if steps.is_empty() {
        note.push_str("- None open.\n");
    }
    let mut owners: Vec<String> = steps
        .iter()
        .map(|(_, s)| s.owner.trim().to_string())
        .collect();
    crate::sort::sort_by_key(&mut owners, |o| (o.is_empty(), o.to_lowercase()));
    owners.dedup_by(|a, b| a.to_lowercase() == b.to_lowercase());
    for owner in owners {
        let mut mine: Vec<&NextStep> = steps
            .iter()
            .map(|(_, s)| s)
            .filter(|s| s.owner.trim().to_lowercase() == owner.to_lowercase())
            .collect();
        // Late first, then by due time (none last), as the page orders them.
        crate::sort::sort_by_key(&mut mine, |s| {
            (!s.is_overdue(now), s.due.is_none(), s.due.clone())
        });
        let heading = if owner.is_empty() {
            "Nobody yet"
        } else {
            &owner
        };
        note.push_str(&format!("{heading}:\n"));
        let more = mine.len().saturating_sub(HANDOFF_STEPS_PER_OWNER);
        mine.truncate(HANDOFF_STEPS_PER_OWNER);
        for step in mine {
            let status = if step.status == crate::StepStatus::Doing {
                " [doing]"
            } else {
                ""
            };
            let due = match &step.due {
                Some(due) if step.is_overdue(now) => format!(" (LATE, due {})", time(due)),
                Some(due) => format!(" (due {})", time(due)),
                None => String::new(),
            };
            note.push_str(&format!("- {}{status}{due}\n", one_line(&step.title)));
        }
        if more > 0 {
            note.push_str(&format!("- … and {more} more.\n"));
        }
    }

    threads_note(incident, shift_start, &zone, now, &mut note);

    note.push_str("\nWhat changed during the shift\n");
    if shift_changes.is_empty() {
        note.push_str("- Nothing.\n");
    }
    for change in shift_changes.iter().take(HANDOFF_CHANGES) {
        note.push_str(&format!("- {}\n", change.describe(&zone)));
    }
    if shift_changes.len() > HANDOFF_CHANGES {
        note.push_str(&format!(
            "- … and {} more changes.\n",
            shift_changes.len() - HANDOFF_CHANGES
        ));
    }
    note
}

/// The source a shift hand-off event carries (not the roles section's, so it is an ordinary
/// event: drawn in full, editable, in the report).
pub const HANDOFF_SOURCE: &str = "Shift hand-off";

/// The timeline event a shift hand-off writes: "Shift hand-off — `by`" at `now`, by `by`, in
/// the report, its notes [`handoff_note`] with what changed from `shift_start` (the incident
/// as it stood when the shift began) to `incident`. Without `shift_start` the note says what
/// changed is not known rather than "nothing".
pub fn handoff_event(
    incident: &Incident,
    shift_start: Option<&Incident>,
    by: &str,
    now: &str,
) -> TimelineEvent {
    let by = by.trim();
    let note = match shift_start {
        Some(start) => note(incident, &changes(start, incident), Some(start), now),
        None => {
            let note = handoff_note(incident, &[], now);
            let nothing = "- Nothing.\n";
            let kept = note.strip_suffix(nothing).unwrap_or(&note);
            format!("{kept}- Not known here: there is no copy of the incident from the shift's start.\n")
        }
    };
    TimelineEvent {
        occurred_at: now.to_string(),
        what: if by.is_empty() {
            "Shift hand-off".to_string()
        } else {
            format!("Shift hand-off — {by}")
        },
        source: HANDOFF_SOURCE.to_string(),
        author: by.to_string(),
        include_in_report: true,
        notes: Some(note.trim_end().to_string()),
        ..Default::default()
    }
}

/// The comment threads still open, each with what it is on and its latest word, and, when
/// the shift's start is known, the threads resolved during the shift.
fn threads_note(
    incident: &Incident,
    shift_start: Option<&Incident>,
    zone: &str,
    now: &str,
    note: &mut String,
) {
    let line = |thread: &Thread| {
        let (on, _) = place_of(incident, thread);
        match latest_word(thread, zone, now) {
            Some(word) => format!("- On {on} — {word}\n"),
            None => format!("- On {on} — every comment deleted\n"),
        }
    };
    let list = |threads: Vec<Thread>, note: &mut String, extra: &dyn Fn(&Thread) -> String| {
        if threads.is_empty() {
            note.push_str("- None.\n");
        }
        let more = threads.len().saturating_sub(HANDOFF_THREADS);
        for thread in threads.iter().take(HANDOFF_THREADS) {
            let mut text = line(thread);
            text.insert_str(text.len() - 1, &extra(thread));
            note.push_str(&text);
        }
        if more > 0 {
            note.push_str(&format!("- … and {more} more threads.\n"));
        }
    };
    note.push_str("\nOpen comment threads\n");
    list(open_threads(incident), note, &|_| String::new());
    if let Some(start) = shift_start {
        note.push_str("\nComment threads resolved during the shift\n");
        list(resolved_since(start, incident), note, &|thread| {
            thread
                .resolved
                .as_ref()
                .map(|r| format!(" (resolved by {})", name_and_time(&r.by, &r.at, zone, now)))
                .unwrap_or_default()
        });
    }
}

fn one_line(text: &str) -> String {
    let mut lines = text.trim().lines();
    let first = lines.next().unwrap_or("").trim().to_string();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}
