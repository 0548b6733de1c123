//! Comments: responders discussing a timeline event, an indicator, a next step or a passage
//! of a prose section, in threads they reply to, resolve and reopen.
//!
//! Every comment, and every resolve or reopen, is its own entry of the `comments` root (a
//! fresh id each), so nothing two people write at once overwrites the other: concurrent
//! replies are all kept, in the order of their times (then ids), the same on every device.
//! A thread's first comment carries its anchor; the others name it in `thread`.
//!
//! **Where a passage is.** A comment on a prose section stores the passage as two yrs sticky
//! indices (encoded, base64): the start sticks to the passage's first character and the end
//! to its last, so text typed before the passage moves both, text typed inside it widens it,
//! text typed right after it stays out, and a passage deleted whole collapses to nothing
//! ([`Passage::Deleted`]). The quoted text at the time is kept beside them.
//!
//! **Resolved or open.** A thread's state is its latest action by time (ties by id): a
//! resolve resolves it, a reopen or a reply reopens it. So a resolve racing a reply made at
//! a later time ends open on every device (the reply would otherwise go unseen in a
//! collapsed thread), and one made before the resolve's time ends resolved; every action is
//! kept, so the thread says who resolved or reopened it and when.

use base64::Engine;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Assoc, GetString, IndexedSequence, ReadTxn, StickyIndex, Text, Transact};

use crate::entries::{Entry, FieldLabel, Fields, Stored};
use crate::{Incident, ProseSection};

/// The longest comment body, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// The longest quote kept with a comment on a passage, in characters; a longer passage is
/// still anchored whole, its quote cut with "…".
pub const MAX_QUOTE_CHARS: usize = 500;

/// The most people one comment mentions.
pub const MAX_MENTIONS: usize = 50;

/// What a thread is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommentTarget {
    /// A timeline event, by id.
    Timeline(String),
    /// An indicator, by id.
    Indicator(String),
    /// A next step, by id.
    NextStep(String),
    /// A passage of a prose section (where exactly is the thread's [`Passage`]).
    Prose(ProseSection),
}

impl CommentTarget {
    /// The stored form: `timeline:{id}`, `indicator:{id}`, `next_step:{id}`, `prose:{section}`.
    pub fn key(&self) -> String {
        match self {
            CommentTarget::Timeline(id) => format!("timeline:{id}"),
            CommentTarget::Indicator(id) => format!("indicator:{id}"),
            CommentTarget::NextStep(id) => format!("next_step:{id}"),
            CommentTarget::Prose(section) => format!("prose:{}", section.key()),
        }
    }

    /// Reads the stored form back; `None` for one this build does not know.
    pub fn parse(key: &str) -> Option<CommentTarget> {
        let (kind, rest) = key.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        Some(match kind {
            "timeline" => CommentTarget::Timeline(rest.to_string()),
            "indicator" => CommentTarget::Indicator(rest.to_string()),
            "next_step" => CommentTarget::NextStep(rest.to_string()),
            "prose" => CommentTarget::Prose(ProseSection::from_key(rest)?),
            _ => return None,
        })
    }
}

/// Where a new thread goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommentOn {
    /// A timeline event, an indicator or a next step (not a prose section: use `Passage`).
    Item(CommentTarget),
    /// The characters `start..end` (UTF-16 units, as a textarea's selection) of a section.
    Passage {
        section: ProseSection,
        start: u32,
        end: u32,
    },
}

/// What kind of action an entry of the `comments` root is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommentKind {
    /// A comment: a thread's first or a reply.
    #[default]
    Comment,
    /// Someone resolved the thread.
    Resolve,
    /// Someone reopened the thread.
    Reopen,
}

impl CommentKind {
    fn key(self) -> &'static str {
        match self {
            CommentKind::Comment => "comment",
            CommentKind::Resolve => "resolve",
            CommentKind::Reopen => "reopen",
        }
    }

    fn from_key(key: &str) -> CommentKind {
        match key {
            "resolve" => CommentKind::Resolve,
            "reopen" => CommentKind::Reopen,
            _ => CommentKind::Comment,
        }
    }
}

/// One stored entry of the `comments` root: a comment, or a resolve or reopen of a thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comment {
    pub kind: CommentKind,
    /// The thread's first comment's id; "" for that first comment itself.
    pub thread: String,
    /// What the thread is about ([`CommentTarget::key`]); a thread's first comment only.
    pub target: String,
    /// A passage's start and end as encoded sticky indices (base64); "" otherwise.
    pub start: String,
    pub end: String,
    /// The passage's text when the comment was made (at most [`MAX_QUOTE_CHARS`]); for a
    /// thread on an item, the item's label then (kept to show if the item is removed).
    pub quote: String,
    pub body: String,
    /// The author's display name.
    pub author: String,
    /// The author's invite id, when known.
    pub author_invite: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The invite ids of the people mentioned.
    pub mentions: Vec<String>,
    /// When the body was last changed (RFC 3339 UTC), if ever.
    pub edited_at: Option<String>,
    /// Who deleted the comment (its author), if it was: the view shows "Comment deleted by
    /// NAME" instead of the body, which the record and the document's history keep.
    pub deleted_by: Option<String>,
    /// When it was deleted (RFC 3339 UTC).
    pub deleted_at: Option<String>,
}

impl Comment {
    /// The invite ids this comment mentions.
    pub fn mentions(&self) -> &[String] {
        &self.mentions
    }

    /// What the thread is about, for a thread's first comment.
    pub fn target(&self) -> Option<CommentTarget> {
        CommentTarget::parse(&self.target)
    }

    /// Whether its author deleted it.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether `name` with invite id `invite` ("" if none) wrote this comment: the same
    /// invite id when the comment has one, else the same name and no invite id either (so
    /// an invited person who renames themself does not become the owner).
    pub fn is_by(&self, name: &str, invite: &str) -> bool {
        if self.author_invite.is_empty() {
            invite.is_empty() && !name.is_empty() && self.author == name
        } else {
            self.author_invite == invite
        }
    }

    fn is_root(&self) -> bool {
        self.kind == CommentKind::Comment && self.thread.is_empty()
    }
}

impl Entry for Comment {
    const ROOT: &'static str = "comments";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("kind", "Kind"),
        FieldLabel::new("thread", "Thread"),
        FieldLabel::new("anchor", "On"),
        FieldLabel::new("anchor_start", "Passage start"),
        FieldLabel::new("anchor_end", "Passage end"),
        FieldLabel::new("quote", "Quoted text"),
        FieldLabel::new("body", "Comment"),
        FieldLabel::new("author", "Author"),
        FieldLabel::new("author_invite", "Author's invite"),
        FieldLabel::new("created_at", "Written at"),
        FieldLabel::new("mentions", "Mentions"),
        FieldLabel::new("edited_at", "Edited at"),
        FieldLabel::new("deleted_by", "Deleted by"),
        FieldLabel::new("deleted_at", "Deleted at"),
    ];

    fn to_fields(&self) -> Fields {
        let fields = Fields::new()
            .text("kind", self.kind.key())
            .text("thread", &self.thread)
            .text("author", &self.author)
            .text("author_invite", &self.author_invite)
            .text("created_at", &self.created_at)
            .optional_text("edited_at", self.edited_at.as_deref())
            .optional_text("deleted_by", self.deleted_by.as_deref())
            .optional_text("deleted_at", self.deleted_at.as_deref());
        if self.kind != CommentKind::Comment {
            return fields;
        }
        let fields = fields
            .text("body", &self.body)
            .optional_list("mentions", &self.mentions);
        if !self.thread.is_empty() {
            return fields;
        }
        let fields = fields.text("anchor", &self.target);
        if self.start.is_empty() {
            // An item's label when the thread started, if any.
            return if self.quote.is_empty() {
                fields
            } else {
                fields.text("quote", &self.quote)
            };
        }
        fields
            .text("anchor_start", &self.start)
            .text("anchor_end", &self.end)
            .text("quote", &self.quote)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        Comment {
            kind: CommentKind::from_key(&stored.text("kind")),
            thread: stored.text("thread"),
            target: stored.text("anchor"),
            start: stored.text("anchor_start"),
            end: stored.text("anchor_end"),
            quote: stored.text("quote"),
            body: stored.text("body"),
            author: stored.text("author"),
            author_invite: stored.text("author_invite"),
            created_at: stored.text("created_at"),
            mentions: stored.list("mentions"),
            edited_at: stored.optional_text("edited_at"),
            deleted_by: stored.optional_text("deleted_by"),
            deleted_at: stored.optional_text("deleted_at"),
        }
    }

    /// By time, then id: the same order on every device.
    fn sort(entries: &mut [(String, Self)]) {
        crate::sort::sort_by(entries, |a, b| order(&a.1, &a.0, &b.1, &b.0));
    }
}

/// Orders two actions by time (parsed, so any RFC 3339 form compares right), then id.
fn order(a: &Comment, a_id: &str, b: &Comment, b_id: &str) -> std::cmp::Ordering {
    let time = |c: &Comment| crate::when::parse_stored(&c.created_at);
    time(a)
        .cmp(&time(b))
        .then_with(|| a.created_at.cmp(&b.created_at))
        .then_with(|| a_id.cmp(b_id))
}

/// Why a comment was not written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommentError {
    #[error("a comment needs some text")]
    Empty,
    #[error("a comment is at most {max} characters; this one is {chars}")]
    TooLong { chars: usize, max: usize },
    #[error("a comment mentions at most {max} people; this one mentions {count}")]
    TooManyMentions { count: usize, max: usize },
    #[error("select some text of the section to comment on")]
    EmptyPassage,
    #[error("comment on a passage of a prose section by selecting it")]
    ProseWithoutPassage,
    #[error("that thread does not exist (any more)")]
    NoSuchThread,
    #[error("that comment does not exist (any more)")]
    NoSuchComment,
    #[error("only {author}, who wrote this comment, can edit or delete it")]
    NotYourComment { author: String },
    #[error("that comment was deleted")]
    CommentDeleted,
}

/// Where a thread's passage is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Passage {
    /// The passage's characters `start..end` (UTF-16 units) of the section now, and their
    /// text (which may differ from the quote after edits).
    Here { start: u32, end: u32, text: String },
    /// Every character of the passage was deleted.
    Deleted,
}

/// Who resolved a thread, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub by: String,
    pub by_invite: String,
    pub at: String,
}

/// One thread: its first comment, the replies in order, and whether it is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread {
    /// The first comment's id, which names the thread.
    pub id: String,
    pub target: CommentTarget,
    /// The first comment, then the replies, by time then id: `(id, comment)`.
    pub comments: Vec<(String, Comment)>,
    /// Every resolve and reopen, by time then id.
    pub actions: Vec<(String, Comment)>,
    /// Set while the thread's latest action is a resolve.
    pub resolved: Option<Resolution>,
    /// For a thread on a prose section: where its passage is now.
    pub passage: Option<Passage>,
    /// The passage's text when the thread was started; for an item, its label then.
    pub quote: String,
}

impl Thread {
    /// The first comment.
    pub fn first(&self) -> &Comment {
        &self.comments[0].1
    }

    /// The replies after the first comment.
    pub fn replies(&self) -> &[(String, Comment)] {
        &self.comments[1..]
    }

    pub fn is_resolved(&self) -> bool {
        self.resolved.is_some()
    }
}

fn check_body(body: &str, mentions: &[String]) -> Result<(), CommentError> {
    if body.trim().is_empty() {
        return Err(CommentError::Empty);
    }
    let chars = body.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(CommentError::TooLong {
            chars,
            max: MAX_COMMENT_CHARS,
        });
    }
    if mentions.len() > MAX_MENTIONS {
        return Err(CommentError::TooManyMentions {
            count: mentions.len(),
            max: MAX_MENTIONS,
        });
    }
    Ok(())
}

fn encode_index(index: &StickyIndex) -> String {
    base64::engine::general_purpose::STANDARD.encode(index.encode_v1())
}

fn decode_index(stored: &str) -> Option<StickyIndex> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .ok()?;
    StickyIndex::decode_v1(&bytes).ok()
}

fn cut_quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_QUOTE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The UTF-16 range `start..end` of `text` as a string (clamped to the text).
fn utf16_slice(text: &str, start: u32, end: u32) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let end = (end as usize).min(units.len());
    let start = (start as usize).min(end);
    String::from_utf16_lossy(&units[start..end])
}

impl Incident {
    /// Starts a thread on an item or a passage, as comment `id` (a fresh id, see
    /// [`crate::new_id`]). `mentions` are invite ids; `invite` is the author's, "" if none.
    #[allow(clippy::too_many_arguments)]
    pub fn add_comment(
        &self,
        id: &str,
        on: &CommentOn,
        body: &str,
        author: &str,
        invite: &str,
        mentions: &[String],
        now: &str,
    ) -> Result<(), CommentError> {
        check_body(body, mentions)?;
        let mut comment = Comment {
            body: body.to_string(),
            author: author.to_string(),
            author_invite: invite.to_string(),
            created_at: now.to_string(),
            mentions: mentions.to_vec(),
            ..Default::default()
        };
        match on {
            CommentOn::Item(CommentTarget::Prose(_)) => {
                return Err(CommentError::ProseWithoutPassage)
            }
            CommentOn::Item(target) => {
                comment.target = target.key();
                comment.quote = cut_quote(&self.item_label(target));
            }
            CommentOn::Passage {
                section,
                start,
                end,
            } => {
                let text = self.text(*section);
                let txn = self.doc.transact();
                let whole = text.get_string(&txn);
                let len = text.len(&txn);
                let (start, end) = ((*start).min(len), (*end).min(len));
                if start >= end {
                    return Err(CommentError::EmptyPassage);
                }
                let first = text.sticky_index(&txn, start, Assoc::After);
                let last = text.sticky_index(&txn, end, Assoc::Before);
                let (Some(first), Some(last)) = (first, last) else {
                    return Err(CommentError::EmptyPassage);
                };
                comment.target = CommentTarget::Prose(*section).key();
                comment.start = encode_index(&first);
                comment.end = encode_index(&last);
                comment.quote = cut_quote(&utf16_slice(&whole, start, end));
            }
        }
        self.add_entry(id, &comment);
        Ok(())
    }

    /// Replies to `thread` (its first comment's id) as comment `id`. A reply made after the
    /// thread was resolved reopens it (see the module's rule).
    #[allow(clippy::too_many_arguments)]
    pub fn reply(
        &self,
        id: &str,
        thread: &str,
        body: &str,
        author: &str,
        invite: &str,
        mentions: &[String],
        now: &str,
    ) -> Result<(), CommentError> {
        check_body(body, mentions)?;
        self.thread_root(thread)?;
        self.add_entry(
            id,
            &Comment {
                thread: thread.to_string(),
                body: body.to_string(),
                author: author.to_string(),
                author_invite: invite.to_string(),
                created_at: now.to_string(),
                mentions: mentions.to_vec(),
                ..Default::default()
            },
        );
        Ok(())
    }

    /// Resolves `thread`, as action `id`.
    pub fn resolve_thread(
        &self,
        id: &str,
        thread: &str,
        by: &str,
        invite: &str,
        now: &str,
    ) -> Result<(), CommentError> {
        self.thread_action(id, thread, CommentKind::Resolve, by, invite, now)
    }

    /// Reopens `thread`, as action `id`.
    pub fn reopen_thread(
        &self,
        id: &str,
        thread: &str,
        by: &str,
        invite: &str,
        now: &str,
    ) -> Result<(), CommentError> {
        self.thread_action(id, thread, CommentKind::Reopen, by, invite, now)
    }

    /// Changes the body of comment `id` (the app lets only its author do so).
    pub fn edit_comment(&self, id: &str, body: &str, now: &str) -> Result<(), CommentError> {
        check_body(body, &[])?;
        match self.entry::<Comment>(id) {
            Some(c) if c.kind == CommentKind::Comment => {}
            _ => return Err(CommentError::NoSuchComment),
        }
        let changed = self.set_values::<Comment>(
            id,
            [
                ("body", yrs::Any::from(body)),
                ("edited_at", yrs::Any::from(now)),
            ],
        );
        if changed {
            Ok(())
        } else {
            Err(CommentError::NoSuchComment)
        }
    }

    /// Changes the body of comment `id` for `name` (invite id `invite`, "" if none), who
    /// must be its author ([`Comment::is_by`]); a deleted comment is not edited.
    pub fn edit_own_comment(
        &self,
        id: &str,
        body: &str,
        name: &str,
        invite: &str,
        now: &str,
    ) -> Result<(), CommentError> {
        self.own_comment(id, name, invite)?;
        self.edit_comment(id, body, now)
    }

    /// Deletes comment `id` for its author `name` (invite id `invite`): a tombstone, so the
    /// thread says "Comment deleted by NAME at TIME". The body stays in the record (and in
    /// the document's history); the view no longer shows it. A thread whose first comment
    /// is deleted keeps its replies.
    pub fn delete_own_comment(
        &self,
        id: &str,
        name: &str,
        invite: &str,
        now: &str,
    ) -> Result<(), CommentError> {
        let comment = self.own_comment(id, name, invite)?;
        let changed = self.set_values::<Comment>(
            id,
            [
                ("deleted_by", yrs::Any::from(comment.author.as_str())),
                ("deleted_at", yrs::Any::from(now)),
            ],
        );
        if changed {
            Ok(())
        } else {
            Err(CommentError::NoSuchComment)
        }
    }

    /// Comment `id`, if `name` / `invite` wrote it and it is not deleted.
    fn own_comment(&self, id: &str, name: &str, invite: &str) -> Result<Comment, CommentError> {
        let comment = self
            .entry::<Comment>(id)
            .filter(|c| c.kind == CommentKind::Comment)
            .ok_or(CommentError::NoSuchComment)?;
        if !comment.is_by(name, invite) {
            return Err(CommentError::NotYourComment {
                author: comment.author,
            });
        }
        if comment.is_deleted() {
            return Err(CommentError::CommentDeleted);
        }
        Ok(comment)
    }

    fn thread_root(&self, thread: &str) -> Result<Comment, CommentError> {
        self.entry::<Comment>(thread)
            .filter(Comment::is_root)
            .ok_or(CommentError::NoSuchThread)
    }

    fn thread_action(
        &self,
        id: &str,
        thread: &str,
        kind: CommentKind,
        by: &str,
        invite: &str,
        now: &str,
    ) -> Result<(), CommentError> {
        self.thread_root(thread)?;
        self.add_entry(
            id,
            &Comment {
                kind,
                thread: thread.to_string(),
                author: by.to_string(),
                author_invite: invite.to_string(),
                created_at: now.to_string(),
                ..Default::default()
            },
        );
        Ok(())
    }

    /// Every thread, oldest first, with its replies in order and its state.
    pub fn threads(&self) -> Vec<Thread> {
        let entries = self.entries::<Comment>();
        let mut threads: Vec<Thread> = Vec::new();
        for (id, comment) in &entries {
            if !comment.is_root() {
                continue;
            }
            let Some(target) = comment.target() else {
                continue;
            };
            let passage = match target {
                CommentTarget::Prose(section) => Some(self.passage(section, comment)),
                _ => None,
            };
            threads.push(Thread {
                id: id.clone(),
                target,
                comments: vec![(id.clone(), comment.clone())],
                actions: Vec::new(),
                resolved: None,
                passage,
                quote: comment.quote.clone(),
            });
        }
        // `entries` is in time order, so each thread's lists come out in order too.
        for (id, entry) in entries {
            if entry.thread.is_empty() {
                continue;
            }
            let Some(thread) = threads.iter_mut().find(|t| t.id == entry.thread) else {
                continue;
            };
            match entry.kind {
                CommentKind::Comment => thread.comments.push((id, entry)),
                _ => thread.actions.push((id, entry)),
            }
        }
        for thread in &mut threads {
            thread.resolved = resolution(thread);
        }
        threads
    }

    /// The threads on one item or section.
    pub fn threads_on(&self, target: &CommentTarget) -> Vec<Thread> {
        self.threads()
            .into_iter()
            .filter(|t| &t.target == target)
            .collect()
    }

    /// Whether the item a thread is on is still in the incident (a prose section always is).
    pub fn comment_target_exists(&self, target: &CommentTarget) -> bool {
        match target {
            CommentTarget::Timeline(id) => self.entry::<crate::TimelineEvent>(id).is_some(),
            CommentTarget::Indicator(id) => self.entry::<crate::Indicator>(id).is_some(),
            CommentTarget::NextStep(id) => self.entry::<crate::NextStep>(id).is_some(),
            CommentTarget::Prose(_) => true,
        }
    }

    /// The threads on events, indicators and next steps that were removed since, oldest
    /// first; each one's `quote` is the item's label when the thread started.
    pub fn threads_on_removed_items(&self) -> Vec<Thread> {
        self.threads()
            .into_iter()
            .filter(|t| !self.comment_target_exists(&t.target))
            .collect()
    }

    /// An item's label: an event's text, an indicator's value, a next step's title ("" for
    /// one that does not exist, or a prose section).
    fn item_label(&self, target: &CommentTarget) -> String {
        match target {
            CommentTarget::Timeline(id) => self
                .entry::<crate::TimelineEvent>(id)
                .map(|e| e.what)
                .unwrap_or_default(),
            CommentTarget::Indicator(id) => self
                .entry::<crate::Indicator>(id)
                .map(|i| i.value)
                .unwrap_or_default(),
            CommentTarget::NextStep(id) => self
                .entry::<crate::NextStep>(id)
                .map(|s| s.title)
                .unwrap_or_default(),
            CommentTarget::Prose(_) => String::new(),
        }
    }

    /// A number that changes whenever any comment does, for views that re-read threads.
    pub fn comments_version(&self) -> u64 {
        self.version::<Comment>()
    }

    fn passage(&self, section: ProseSection, comment: &Comment) -> Passage {
        let text = self.text(section);
        let txn = self.doc.transact();
        let at = |stored: &str| {
            decode_index(stored)
                .and_then(|i| i.get_offset(&txn))
                .map(|o| o.index)
        };
        match (at(&comment.start), at(&comment.end)) {
            (Some(start), Some(end)) if start < end => Passage::Here {
                start,
                end,
                text: utf16_slice(&text.get_string(&txn), start, end),
            },
            _ => Passage::Deleted,
        }
    }
}

/// The thread's latest action decides: resolved when it is a resolve.
pub(crate) fn resolution(thread: &Thread) -> Option<Resolution> {
    let latest_action = thread.actions.last()?;
    let latest_reply = thread
        .comments
        .last()
        .expect("a thread has its first comment");
    let action_wins = order(
        &latest_action.1,
        &latest_action.0,
        &latest_reply.1,
        &latest_reply.0,
    )
    .is_gt();
    (action_wins && latest_action.1.kind == CommentKind::Resolve).then(|| Resolution {
        by: latest_action.1.author.clone(),
        by_invite: latest_action.1.author_invite.clone(),
        at: latest_action.1.created_at.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for "no editable fields": a comment's body changes through `edit_comment`.
    #[derive(Clone, Copy)]
    struct NoField;

    impl crate::EditableField for NoField {
        type Entry = Comment;
        fn key(self) -> &'static str {
            unreachable!()
        }
    }

    #[test]
    fn every_field_a_comment_writes_is_described() {
        let comment = Comment {
            target: "prose:summary".into(),
            start: "a".into(),
            end: "b".into(),
            quote: "q".into(),
            body: "b".into(),
            mentions: vec!["m".into()],
            edited_at: Some("t".into()),
            deleted_by: Some("d".into()),
            deleted_at: Some("t".into()),
            ..Default::default()
        };
        crate::entries::assert_described::<_, NoField>(&comment, &[]);
        for target in [
            CommentTarget::Timeline("e1".into()),
            CommentTarget::Indicator("i:1".into()),
            CommentTarget::NextStep("s1".into()),
            CommentTarget::Prose(ProseSection::Details),
        ] {
            assert_eq!(CommentTarget::parse(&target.key()), Some(target));
        }
        assert_eq!(CommentTarget::parse("prose:nope"), None);
        assert_eq!(CommentTarget::parse("timeline:"), None);
    }
}
