//! Comment threads in "since you were last here" and in the shift hand-off.
//!
//! Every comment, reply, resolve and reopen is its own entry of the `comments` root, never
//! rewritten but for an edit or a deletion of a body, so what others said since the reader's
//! mark is the entries the mark's copy does not hold. [`comment_catch_up`] finds them by
//! walking the `comments` root alone (a key lookup in the mark's copy per entry) and reads
//! whole only the new ones and the other entries of the threads they are in: no pass over the
//! timeline, the indicators or the prose. [`open_threads`] and [`resolved_since`] give the
//! hand-off its threads still open (with their latest word) and those resolved during the
//! shift.

use std::collections::{HashMap, HashSet};

use yrs::Transact;

use crate::comments::{resolution, Comment, CommentKind, CommentTarget, Thread};
use crate::entries::{self, Entry};
use crate::{when, Incident, Indicator, NextStep, ProseSection, TimelineEvent};

/// How many characters of a comment's text a line shows.
pub const COMMENT_EXCERPT_CHARS: usize = 120;

/// How many characters of an item's name or a passage a thread's heading shows.
const LABEL_CHARS: usize = 80;

/// What someone did in a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentAction {
    /// Started the thread.
    Commented,
    Replied,
    Resolved,
    Reopened,
}

impl CommentAction {
    /// "commented", "replied", "resolved the thread", "reopened the thread".
    pub fn verb(self) -> &'static str {
        match self {
            CommentAction::Commented => "commented",
            CommentAction::Replied => "replied",
            CommentAction::Resolved => "resolved the thread",
            CommentAction::Reopened => "reopened the thread",
        }
    }
}

/// One comment, reply, resolve or reopen someone else made since the mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentNews {
    /// The entry's id (a comment's id is its DOM `data-comment-id`).
    pub id: String,
    pub action: CommentAction,
    /// The author's name, as the entry says.
    pub by: String,
    /// When the author's device says it was written (RFC 3339 UTC).
    pub at: String,
    /// "Ana, 03:40 UTC" in the incident's display zone (the date too when not today).
    pub who: String,
    /// "03:40 UTC", the same time without the name.
    pub when: String,
    /// The start of the text on one line (at most [`COMMENT_EXCERPT_CHARS`]); "" for a
    /// resolve or a reopen.
    pub excerpt: String,
}

impl CommentNews {
    /// "Ana replied", "Ana resolved the thread".
    pub fn line(&self) -> String {
        format!("{} {}", self.by, self.action.verb())
    }
}

/// A thread with something new in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadNews {
    /// The thread's id (its first comment's).
    pub thread: String,
    pub target: CommentTarget,
    /// What it is on: "Timeline event “Ransom note found”", "Summary: “two servers”",
    /// "Next step (removed): “Call the bank”".
    pub on: String,
    /// The item the thread is on was removed since.
    pub removed: bool,
    /// Resolved now (its latest action is a resolve).
    pub resolved: bool,
    /// What others did in it since the mark, oldest first (the latest few).
    pub items: Vec<CommentNews>,
    /// How many earlier ones `items` leaves out.
    pub earlier: usize,
}

/// The comment part of "since you were last here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommentCatchUp {
    /// Threads with news, the one with the latest news first.
    pub threads: Vec<ThreadNews>,
    /// Threads with news that `threads` leaves out.
    pub more_threads: usize,
    /// Every comment, reply, resolve and reopen by others since the mark.
    pub count: usize,
}

/// The comments, replies, resolves and reopens in `after` that `before` (the incident at the
/// reader's mark) does not hold, written by someone other than `me` (name) / `my_invite`
/// ("" if none; see [`Comment::is_by`]), grouped by thread. A comment deleted since is left
/// out (its author took it back). At most `max_threads` threads and, in each, the latest
/// `per_thread` actions; `now` (RFC 3339 UTC) decides whether a time shows its date.
pub fn comment_catch_up(
    before: &Incident,
    after: &Incident,
    me: &str,
    my_invite: &str,
    now: &str,
    max_threads: usize,
    per_thread: usize,
) -> CommentCatchUp {
    let zone = after.display_zone();
    let (old_txn, new_txn) = (before.doc.transact(), after.doc.transact());
    let (old_root, new_root) = (
        before.collection::<Comment>(),
        after.collection::<Comment>(),
    );
    let stored = entries::all(new_root, &new_txn);
    // The new entries by others, by thread.
    let mut news: HashMap<String, Vec<(String, Comment)>> = HashMap::new();
    for (id, entry) in &stored {
        if entries::get(old_root, &old_txn, id).is_some() {
            continue;
        }
        let comment: Comment = entries::read(entry, &new_txn);
        if comment.is_by(me, my_invite) || comment.is_deleted() {
            continue;
        }
        let thread = if comment.thread.is_empty() {
            id.clone()
        } else {
            comment.thread.clone()
        };
        news.entry(thread).or_default().push((id.clone(), comment));
    }
    if news.is_empty() {
        return CommentCatchUp::default();
    }
    // The rest of those threads, for where they are and whether they are resolved now.
    let mut members: HashMap<String, Vec<(String, Comment)>> = HashMap::new();
    for (id, entry) in &stored {
        let thread = entries::text_of(entry, &new_txn, "thread");
        let key = if thread.is_empty() {
            id.clone()
        } else {
            thread
        };
        if news.contains_key(&key) {
            members
                .entry(key)
                .or_default()
                .push((id.clone(), entries::read(entry, &new_txn)));
        }
    }
    drop((old_txn, new_txn));
    let mut threads: Vec<(Option<i64>, ThreadNews)> = Vec::new();
    let mut count = 0;
    for (thread_id, mut new) in news {
        let Some(thread) = members
            .remove(&thread_id)
            .and_then(|all| thread_of(&thread_id, all))
        else {
            // A reply to a thread whose first comment this copy does not hold.
            continue;
        };
        Comment::sort(&mut new);
        count += new.len();
        let latest = new
            .iter()
            .filter_map(|(_, c)| when::parse_stored(&c.created_at))
            .map(|t| t.timestamp_millis())
            .max();
        let earlier = new.len().saturating_sub(per_thread);
        let items = new
            .into_iter()
            .skip(earlier)
            .map(|(id, c)| news_of(&thread.id, id, c, &zone, now))
            .collect();
        let (on, removed) = place_of(after, &thread);
        threads.push((
            latest,
            ThreadNews {
                thread: thread.id.clone(),
                target: thread.target.clone(),
                on,
                removed,
                resolved: thread.is_resolved(),
                items,
                earlier,
            },
        ));
    }
    crate::sort::sort_by(&mut threads, |a, b| {
        b.0.cmp(&a.0).then_with(|| a.1.thread.cmp(&b.1.thread))
    });
    let more_threads = threads.len().saturating_sub(max_threads);
    threads.truncate(max_threads);
    CommentCatchUp {
        threads: threads.into_iter().map(|(_, t)| t).collect(),
        more_threads,
        count,
    }
}

/// A thread made of its entries (any order); `None` without its first comment.
fn thread_of(id: &str, entries: Vec<(String, Comment)>) -> Option<Thread> {
    let mut comments = Vec::new();
    let mut actions = Vec::new();
    let mut first = None;
    for (entry_id, comment) in entries {
        if entry_id == id {
            if comment.kind != CommentKind::Comment || !comment.thread.is_empty() {
                return None;
            }
            first = Some((entry_id, comment));
        } else if comment.kind == CommentKind::Comment {
            comments.push((entry_id, comment));
        } else {
            actions.push((entry_id, comment));
        }
    }
    let (first_id, first) = first?;
    let target = first.target()?;
    Comment::sort(&mut comments);
    Comment::sort(&mut actions);
    let quote = first.quote.clone();
    comments.insert(0, (first_id, first));
    let mut thread = Thread {
        id: id.to_string(),
        target,
        comments,
        actions,
        resolved: None,
        passage: None,
        quote,
    };
    thread.resolved = resolution(&thread);
    Some(thread)
}

fn news_of(thread: &str, id: String, comment: Comment, zone: &str, now: &str) -> CommentNews {
    let action = match comment.kind {
        CommentKind::Comment if id == thread => CommentAction::Commented,
        CommentKind::Comment => CommentAction::Replied,
        CommentKind::Resolve => CommentAction::Resolved,
        CommentKind::Reopen => CommentAction::Reopened,
    };
    let excerpt = if comment.kind == CommentKind::Comment {
        start_of(&comment.body, COMMENT_EXCERPT_CHARS)
    } else {
        String::new()
    };
    CommentNews {
        id,
        action,
        who: name_and_time(&comment.author, &comment.created_at, zone, now),
        when: time_in_zone(&comment.created_at, zone, now),
        by: comment.author,
        at: comment.created_at,
        excerpt,
    }
}

/// "Ana, 03:40 UTC": a name and a stored time in `zone`, with the date when it is not the day
/// of `now` there. A name left empty reads "Someone".
pub fn name_and_time(name: &str, at: &str, zone: &str, now: &str) -> String {
    let name = if name.trim().is_empty() {
        "Someone"
    } else {
        name.trim()
    };
    format!("{name}, {}", time_in_zone(at, zone, now))
}

/// "03:40 UTC": a stored time in `zone`, with the date when it is not the day of `now` there.
pub fn time_in_zone(at: &str, zone: &str, now: &str) -> String {
    let shown = when::format_in_zone(at, zone);
    let today = when::format_in_zone(now, zone);
    match (shown.get(..11), today.get(..11)) {
        (Some(day), Some(this_day)) if day == this_day => shown[11..].to_string(),
        _ => shown,
    }
}

/// The start of `text` on one line, at most `max` characters, "…" where it was cut.
pub fn start_of(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut = cut.trim_end().to_string();
    cut.push('…');
    cut
}

/// What a thread is on, in words, and whether that item was removed: "Timeline event
/// “Ransom note found”", "Indicator “203.0.113.7”", "Next step (removed): “Call the bank”",
/// "Summary: “two servers”" (the passage as quoted when the thread started).
pub fn place_of(incident: &Incident, thread: &Thread) -> (String, bool) {
    let label = |kind: &str, now: Option<String>| match now {
        Some(label) if label.trim().is_empty() => (kind.to_string(), false),
        Some(label) => (format!("{kind} “{}”", start_of(&label, LABEL_CHARS)), false),
        None if thread.quote.trim().is_empty() => (format!("{kind} (removed)"), true),
        None => (
            format!(
                "{kind} (removed): “{}”",
                start_of(&thread.quote, LABEL_CHARS)
            ),
            true,
        ),
    };
    match &thread.target {
        CommentTarget::Timeline(id) => label(
            "Timeline event",
            incident.entry::<TimelineEvent>(id).map(|e| e.what),
        ),
        CommentTarget::Indicator(id) => label(
            "Indicator",
            incident.entry::<Indicator>(id).map(|i| i.value),
        ),
        CommentTarget::NextStep(id) => {
            label("Next step", incident.entry::<NextStep>(id).map(|s| s.title))
        }
        CommentTarget::Prose(section) => (prose_label(*section, &thread.quote), false),
    }
}

fn prose_label(section: ProseSection, quote: &str) -> String {
    if quote.trim().is_empty() {
        section.title().to_string()
    } else {
        format!("{}: “{}”", section.title(), start_of(quote, LABEL_CHARS))
    }
}

/// A thread's latest word: its last comment not deleted (who, when, the start of its text).
pub fn latest_word(thread: &Thread, zone: &str, now: &str) -> Option<String> {
    let (_, last) = thread
        .comments
        .iter()
        .rev()
        .find(|(_, c)| !c.is_deleted())?;
    Some(format!(
        "{}: “{}”",
        name_and_time(&last.author, &last.created_at, zone, now),
        start_of(&last.body, COMMENT_EXCERPT_CHARS)
    ))
}

/// The threads not resolved, oldest first.
pub fn open_threads(incident: &Incident) -> Vec<Thread> {
    incident
        .threads()
        .into_iter()
        .filter(|t| !t.is_resolved())
        .collect()
}

/// The threads resolved now whose resolve `start` (the incident when the shift began) does
/// not hold: resolved during the shift, by their resolve's time.
pub fn resolved_since(start: &Incident, now: &Incident) -> Vec<Thread> {
    let had: HashSet<String> = {
        let txn = start.doc.transact();
        entries::all(start.collection::<Comment>(), &txn)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    let mut resolved: Vec<Thread> = now
        .threads()
        .into_iter()
        .filter(|t| {
            t.resolved.is_some()
                && t.actions
                    .last()
                    .is_some_and(|(id, c)| c.kind == CommentKind::Resolve && !had.contains(id))
        })
        .collect();
    crate::sort::sort_by_key(&mut resolved, |t| {
        t.resolved
            .as_ref()
            .and_then(|r| when::parse_stored(&r.at))
            .map(|t| t.timestamp_millis())
    });
    resolved
}
