//! Mentions: `@Name` in what people write, for a person invited to the incident.
//!
//! A mention is read from the text whenever it is shown, against the incident's own list of
//! invited people (the relay's `GET …/people`, kept on the device): `@` at the start of a
//! word, then an invited person's name (case-insensitive, spaces allowed, the longest name
//! that fits, and not followed by a letter or digit). A name that is not on the list is plain
//! text, so a mention can only ever point at someone who can already open the incident, and
//! nothing is stored or sent for it beyond the text itself. Two invited people with the same
//! name are both mentioned by it.
//!
//! Where mentions are read: a comment (its stored `mentions`, the invite ids the picker
//! reported, that are still invited, and any `@Name` in its body), a timeline event's "what
//! happened" and its notes, a next step's title, and the prose sections (summary, response,
//! …; the line the mention is on is its text, and who wrote it is not known from the
//! document alone, so `by` is empty there: the app says "someone"). Pure, like the rest of the model: the picker's helpers ([`query_at`],
//! [`matching`], [`insert`]) are here too so they can be tested on the host.

use yrs::Transact;

use crate::entries;
use crate::{Comment, CommentTarget};
use crate::{Incident, NextStep, ProseSection, TimelineEvent};

/// Someone invited to the incident, as a mention can name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitee {
    /// Their grant's public id (`wire::api::Person::invite`).
    pub invite: String,
    pub name: String,
}

impl Invitee {
    pub fn new(invite: &str, name: &str) -> Invitee {
        Invitee {
            invite: invite.to_string(),
            name: name.to_string(),
        }
    }
}

/// The text a picker inserts for `name`: `@Name` and a space.
pub fn token(name: &str) -> String {
    format!("@{} ", name.trim())
}

/// One `@Name` found in a text: its byte range (the `@` included) and who it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub invites: Vec<String>,
}

/// Whether `c` continues a word (an `@` after one is an e-mail address, a name followed by
/// one is a longer word).
fn wordy(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// How many bytes of `text` spell `name` (ignoring case), if it starts with it.
fn starts_with_name(text: &str, name: &str) -> Option<usize> {
    let mut rest = text.char_indices();
    let mut used = 0;
    for n in name.chars() {
        let (i, t) = rest.next()?;
        if !t.to_lowercase().eq(n.to_lowercase()) {
            return None;
        }
        used = i + t.len_utf8();
    }
    Some(used)
}

/// Every mention in `text` of someone in `people`, in order.
pub fn parse(text: &str, people: &[Invitee]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut skip_to = 0;
    for (at, c) in text.char_indices() {
        let before = previous.replace(c);
        if at < skip_to || c != '@' || before.is_some_and(wordy) {
            continue;
        }
        let after = &text[at + 1..];
        let mut best: Option<(usize, Vec<String>)> = None;
        for person in people {
            let name = person.name.trim();
            if name.is_empty() {
                continue;
            }
            let Some(len) = starts_with_name(after, name) else {
                continue;
            };
            if after[len..].chars().next().is_some_and(wordy) {
                continue;
            }
            match &mut best {
                Some((best_len, invites)) if *best_len == len => {
                    if !invites.contains(&person.invite) {
                        invites.push(person.invite.clone());
                    }
                }
                Some((best_len, _)) if *best_len > len => {}
                _ => best = Some((len, vec![person.invite.clone()])),
            }
        }
        if let Some((len, invites)) = best {
            let end = at + 1 + len;
            skip_to = end;
            found.push(Found {
                start: at,
                end,
                invites,
            });
        }
    }
    found
}

/// The invite ids `text` mentions, each once, in order.
pub fn mentioned(text: &str, people: &[Invitee]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for invite in parse(text, people).into_iter().flat_map(|f| f.invites) {
        if !out.contains(&invite) {
            out.push(invite);
        }
    }
    out
}

/// The longest name a picker's query may grow to before it stops looking (characters).
pub const QUERY_MAX: usize = 64;

/// What is being typed after an `@` just before `cursor` (a byte offset): the `@`'s byte
/// offset and the text typed since (spaces allowed, for names with spaces; no line break, at
/// most [`QUERY_MAX`] characters). `None` when the cursor is not in such a word.
pub fn query_at(text: &str, cursor: usize) -> Option<(usize, String)> {
    let before = text.get(..cursor)?;
    let at = before.rfind('@')?;
    let query = &before[at + 1..];
    if query.contains(['\n', '\r', '@']) || query.chars().count() > QUERY_MAX {
        return None;
    }
    if before[..at].chars().next_back().is_some_and(wordy) {
        return None;
    }
    Some((at, query.to_string()))
}

/// The people whose name starts with `query` (ignoring case and leading spaces), or has a
/// word that does, those whose name starts with it first; in the list's order otherwise.
pub fn matching<'a>(people: &'a [Invitee], query: &str) -> Vec<&'a Invitee> {
    let query = query.trim_start().to_lowercase();
    let mut first = Vec::new();
    let mut then = Vec::new();
    for person in people {
        let name = person.name.trim().to_lowercase();
        if name.is_empty() {
            continue;
        }
        if name.starts_with(&query) {
            first.push(person);
        } else if name.split_whitespace().any(|word| word.starts_with(&query)) {
            then.push(person);
        }
    }
    first.extend(then);
    first
}

/// `text` with the query started at byte `at` and typed up to byte `cursor` replaced by
/// [`token`]`(name)`; and the byte offset just after it, where the cursor goes.
pub fn insert(text: &str, at: usize, cursor: usize, name: &str) -> (String, usize) {
    let token = token(name);
    let rest = text.get(cursor..).unwrap_or("");
    // A space already after the cursor is not doubled.
    let token = if rest.starts_with(' ') {
        token.trim_end().to_string()
    } else {
        token
    };
    let head = text.get(..at).unwrap_or(text);
    let caret = head.len() + token.len();
    (format!("{head}{token}{rest}"), caret)
}

/// The invited people a comment mentions, each once: those its picker reported (while
/// they are still invited), then anyone else its body names with `@`.
pub fn comment_mentions(comment: &Comment, people: &[Invitee]) -> Vec<Invitee> {
    let mut out: Vec<Invitee> = Vec::new();
    let stored = comment.mentions().iter();
    for invite in stored.cloned().chain(mentioned(&comment.body, people)) {
        if out.iter().any(|p| p.invite == invite) {
            continue;
        }
        if let Some(person) = people.iter().find(|p| p.invite == invite) {
            out.push(person.clone());
        }
    }
    out
}

/// The title of a next step made from a mentioning text: on one line, at most
/// [`STEP_TITLE_CHARS`] characters ("…" where it was cut).
pub fn step_title(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > STEP_TITLE_CHARS {
        let cut: String = flat.chars().take(STEP_TITLE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The longest title [`step_title`] makes (characters).
pub const STEP_TITLE_CHARS: usize = 200;

/// Where a mention is: the part of the page (`"comments"`, `"timeline"`, `"next_steps"`,
/// `"prose"`), the entry's id (a prose section's key) and the field (`"text"` for prose).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MentionPlace {
    pub section: &'static str,
    pub id: String,
    pub field: &'static str,
}

/// A place where someone is mentioned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    pub place: MentionPlace,
    /// Who wrote it, as the entry says (a timeline event's author, a step's "added by").
    pub by: String,
    /// When it was written (RFC 3339 UTC), when the entry says (a next step's "added at";
    /// a timeline event keeps only when it happened, so none).
    pub at: Option<String>,
    /// The text around the mention, at most [`EXCERPT_CHARS`] characters.
    pub excerpt: String,
    /// The whole text it is in (what a next step made from it is titled).
    pub text: String,
    /// For a comment, what its thread is about.
    pub on: Option<CommentTarget>,
}

/// The longest excerpt (characters).
pub const EXCERPT_CHARS: usize = 120;

/// Up to [`EXCERPT_CHARS`] characters of `text` around byte `start`, on one line, with "…"
/// where it was cut.
pub fn excerpt(text: &str, start: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let total = flat.chars().count();
    if total <= EXCERPT_CHARS {
        return flat.trim().to_string();
    }
    let at_char = text.get(..start).map_or(0, |t| t.chars().count());
    let from = at_char
        .saturating_sub(EXCERPT_CHARS / 3)
        .min(total - EXCERPT_CHARS);
    let mut out: String = flat.chars().skip(from).take(EXCERPT_CHARS).collect();
    out = out.trim().to_string();
    if from > 0 {
        out.insert(0, '…');
    }
    if from + EXCERPT_CHARS < total {
        out.push('…');
    }
    out
}

impl Incident {
    /// Every place where the person holding `invite` is mentioned, read against `people`
    /// (the incident's invited people): none when `invite` is not among them. Comments
    /// first (thread by thread, oldest first), then timeline events by when they happened,
    /// then next steps by when they were added, then prose sections in the page's order
    /// (one mention a section: its first line that mentions them).
    pub fn mentions_of(&self, invite: &str, people: &[Invitee]) -> Vec<Mention> {
        if invite.is_empty() || !people.iter().any(|p| p.invite == invite) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for thread in self.threads() {
            for (id, comment) in &thread.comments {
                let stored = comment
                    .mentions()
                    .iter()
                    .any(|i| i == invite && people.iter().any(|p| p.invite == *i));
                let found = parse(&comment.body, people)
                    .into_iter()
                    .find(|f| f.invites.iter().any(|i| i == invite));
                if !stored && found.is_none() {
                    continue;
                }
                out.push(Mention {
                    place: MentionPlace {
                        section: "comments",
                        id: id.clone(),
                        field: "body",
                    },
                    by: comment.author.clone(),
                    at: (!comment.created_at.is_empty()).then(|| comment.created_at.clone()),
                    excerpt: excerpt(&comment.body, found.map_or(0, |f| f.start)),
                    text: comment.body.trim().to_string(),
                    on: Some(thread.target.clone()),
                });
            }
        }
        let mut look = |place: MentionPlace, text: &str, by: &str, at: Option<&str>| {
            if let Some(found) = parse(text, people)
                .into_iter()
                .find(|f| f.invites.iter().any(|i| i == invite))
            {
                out.push(Mention {
                    place,
                    by: by.to_string(),
                    at: at.map(str::to_string),
                    excerpt: excerpt(text, found.start),
                    text: text.trim().to_string(),
                    on: None,
                });
            }
        };
        // Only the fields a mention needs, entries unsorted (sorting a big timeline by
        // time costs more than finding its mentions), then ordered by their stored times.
        let txn = self.doc.transact();
        // A text without an `@` mentions no one: its other fields are not read.
        let mut events: Vec<(String, String, [String; 3])> =
            entries::all(self.collection::<TimelineEvent>(), &txn)
                .into_iter()
                .filter_map(|(id, entry)| {
                    let field = |key| entries::text_of(&entry, &txn, key);
                    let (what, notes) = (field("what"), field("notes"));
                    (what.contains('@') || notes.contains('@'))
                        .then(|| (field("occurred_at"), id, [what, notes, field("author")]))
                })
                .collect();
        events.sort();
        let mut steps: Vec<(String, String, [String; 2])> =
            entries::all(self.collection::<NextStep>(), &txn)
                .into_iter()
                .filter_map(|(id, entry)| {
                    let field = |key| entries::text_of(&entry, &txn, key);
                    let title = field("title");
                    title
                        .contains('@')
                        .then(|| (field("created_at"), id, [title, field("created_by")]))
                })
                .collect();
        drop(txn);
        steps.sort();
        for (_, id, [what, notes, author]) in events {
            let place = |field| MentionPlace {
                section: "timeline",
                id: id.clone(),
                field,
            };
            look(place("what"), &what, &author, None);
            look(place("notes"), &notes, &author, None);
        }
        for (created_at, id, [title, created_by]) in steps {
            let place = MentionPlace {
                section: "next_steps",
                id,
                field: "title",
            };
            let at = (!created_at.is_empty()).then_some(created_at.as_str());
            look(place, &title, &created_by, at);
        }
        for section in ProseSection::ALL {
            let text = self.section_text(section);
            if !text.contains('@') {
                continue;
            }
            let Some(found) = parse(&text, people)
                .into_iter()
                .find(|f| f.invites.iter().any(|i| i == invite))
            else {
                continue;
            };
            let line_start = text[..found.start].rfind('\n').map_or(0, |n| n + 1);
            let line_end = text[found.start..]
                .find('\n')
                .map_or(text.len(), |n| found.start + n);
            let line = &text[line_start..line_end];
            out.push(Mention {
                place: MentionPlace {
                    section: "prose",
                    id: section.key().to_string(),
                    field: "text",
                },
                by: String::new(),
                at: None,
                excerpt: excerpt(line, found.start - line_start),
                text: line.trim().to_string(),
                on: None,
            });
        }
        out
    }
}

/// The mentions of `invite` in `now` that were not in `before` (the reader's mark): a place
/// that mentioned them then and still does is not new, whatever else changed in its text.
pub fn unread(before: &Incident, now: &Incident, invite: &str, people: &[Invitee]) -> Vec<Mention> {
    let seen: Vec<MentionPlace> = before
        .mentions_of(invite, people)
        .into_iter()
        .map(|m| m.place)
        .collect();
    now.mentions_of(invite, people)
        .into_iter()
        .filter(|m| !seen.contains(&m.place))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NextStep, TimelineEvent};

    fn people() -> Vec<Invitee> {
        vec![
            Invitee::new("i-ana", "Ana"),
            Invitee::new("i-ben", "Ben"),
            Invitee::new("i-bens", "Ben Smith"),
            Invitee::new("i-zoe", "Zoë Ångström"),
        ]
    }

    #[test]
    fn a_name_is_matched_longest_first_and_without_case() {
        let p = people();
        assert_eq!(mentioned("ask @ben smith now", &p), vec!["i-bens"]);
        assert_eq!(mentioned("ask @Ben, then @ANA", &p), vec!["i-ben", "i-ana"]);
        assert_eq!(mentioned("@zoë ångström: look", &p), vec!["i-zoe"]);
        let found = parse("hi @Ben Smith.", &p);
        assert_eq!(found.len(), 1);
        assert_eq!(
            &"hi @Ben Smith."[found[0].start..found[0].end],
            "@Ben Smith"
        );
    }

    #[test]
    fn a_name_not_invited_is_plain_text() {
        let p = people();
        assert!(mentioned("@Mallory please look", &p).is_empty());
        assert!(mentioned("mail ana@ben.example", &p).is_empty());
        assert!(mentioned("@Benjamin is not Ben", &p).is_empty());
        assert!(mentioned("@ Ben", &p).is_empty());
        assert!(mentioned("@Ana", &[]).is_empty());
    }

    #[test]
    fn two_people_with_one_name_are_both_mentioned() {
        let p = vec![Invitee::new("a", "Sam"), Invitee::new("b", "sam")];
        assert_eq!(mentioned("@Sam", &p), vec!["a", "b"]);
    }

    #[test]
    fn the_picker_finds_the_query_and_inserts_the_token() {
        assert_eq!(query_at("call @Be", 8), Some((5, "Be".to_string())));
        assert_eq!(query_at("@", 1), Some((0, String::new())));
        assert_eq!(query_at("@Ben Sm", 7), Some((0, "Ben Sm".to_string())));
        assert_eq!(query_at("ana@ex", 6), None);
        assert_eq!(query_at("@Ben\nx", 6), None);
        assert_eq!(query_at("no at", 5), None);

        let p = people();
        let names = |q| {
            matching(&p, q)
                .iter()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("be"), vec!["Ben", "Ben Smith"]);
        assert_eq!(names("sm"), vec!["Ben Smith"]);
        assert_eq!(names(""), vec!["Ana", "Ben", "Ben Smith", "Zoë Ångström"]);
        assert!(names("x").is_empty());

        let (text, caret) = insert("call @Be now", 5, 8, "Ben");
        assert_eq!(text, "call @Ben now");
        assert_eq!(caret, 9);
        let (text, caret) = insert("call @Be", 5, 8, "Ben Smith");
        assert_eq!(text, "call @Ben Smith ");
        assert_eq!(caret, text.len());
        assert_eq!(mentioned(&text, &p), vec!["i-bens"]);
    }

    #[test]
    fn an_excerpt_is_short_and_on_one_line() {
        assert_eq!(excerpt("a\nb @Ben", 4), "a b @Ben");
        let long = format!("{} @Ben {}", "x".repeat(200), "y".repeat(200));
        let start = long.find('@').unwrap();
        let cut = excerpt(&long, start);
        assert!(cut.contains("@Ben"));
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert!(cut.chars().count() <= EXCERPT_CHARS + 2);
    }

    #[test]
    fn mentions_are_found_in_events_and_steps_and_only_new_ones_are_unread() {
        let p = people();
        let doc = Incident::create("Mentions", "2026-12-01T00:00:00Z");
        doc.add_timeline_event(
            "e1",
            &TimelineEvent {
                occurred_at: "2026-12-01T00:01:00Z".into(),
                what: "Ransom note found, @Ben check backups".into(),
                author: "Ana".into(),
                ..Default::default()
            },
        );
        let before = Incident::new();
        before
            .apply_update(&doc.encode_state(), crate::UpdateOrigin::Storage)
            .unwrap();
        doc.add_next_step(
            "s1",
            &NextStep {
                title: "@ben smith and @Ben: rotate keys".into(),
                created_by: "Ana".into(),
                created_at: "2026-12-01T00:02:00Z".into(),
                ..Default::default()
            },
        );
        doc.set_timeline_field("e1", crate::TimelineField::What, "Ransom note, @Ben look");

        let all = doc.mentions_of("i-ben", &p);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].place.section, "timeline");
        assert_eq!(all[0].by, "Ana");
        assert_eq!(all[0].excerpt, "Ransom note, @Ben look");
        assert_eq!(all[1].place.section, "next_steps");
        assert_eq!(all[1].at.as_deref(), Some("2026-12-01T00:02:00Z"));

        let new = unread(&before, &doc, "i-ben", &p);
        assert_eq!(new.len(), 1, "the event mentioned Ben before the mark");
        assert_eq!(new[0].place.id, "s1");
        assert_eq!(unread(&before, &doc, "i-bens", &p).len(), 1);
        assert!(unread(&before, &doc, "i-ana", &p).is_empty());

        // Someone not on the list is never found, even where their name is written.
        assert!(doc.mentions_of("i-mallory", &p).is_empty());
        let without_ben: Vec<Invitee> = p.into_iter().filter(|i| i.invite != "i-ben").collect();
        assert!(doc.mentions_of("i-ben", &without_ben).is_empty());
    }

    #[test]
    fn a_comment_mentions_whom_its_picker_reported_while_they_are_invited() {
        use crate::comments::{CommentOn, CommentTarget};
        let p = people();
        let doc = Incident::create("Comments", "2026-12-01T00:00:00Z");
        let on = CommentOn::Item(CommentTarget::Timeline("e1".into()));
        // Picked: the stored ids say who, whatever the body spells.
        doc.add_comment(
            "c1",
            &on,
            "can you look",
            "Ana",
            "i-ana",
            &["i-ben".into()],
            "2026-12-01T00:03:00Z",
        )
        .unwrap();
        // Typed by hand: read from the body.
        doc.add_comment(
            "c2",
            &on,
            "@Ana Lopez? no, @Ana",
            "Ben",
            "i-ben",
            &[],
            "2026-12-01T00:04:00Z",
        )
        .unwrap();
        // An id not on the list is never a mention, stored or not.
        doc.add_comment(
            "c3",
            &on,
            "@Mallory",
            "Ana",
            "i-ana",
            &["i-mallory".into()],
            "2026-12-01T00:05:00Z",
        )
        .unwrap();

        let ben = doc.mentions_of("i-ben", &p);
        assert_eq!(ben.len(), 1);
        assert_eq!(ben[0].place.id, "c1");
        assert_eq!(ben[0].by, "Ana");
        assert_eq!(ben[0].at.as_deref(), Some("2026-12-01T00:03:00Z"));
        assert_eq!(ben[0].on, Some(CommentTarget::Timeline("e1".into())));
        assert_eq!(ben[0].excerpt, "can you look");
        assert_eq!(doc.mentions_of("i-ana", &p).len(), 1);
        assert!(doc.mentions_of("i-mallory", &p).is_empty());
    }

    #[test]
    fn a_mention_in_a_prose_section_counts_with_its_line_and_no_writer() {
        let p = people();
        let doc = Incident::create("Prose", "2026-12-01T00:00:00Z");
        doc.edit_section(
            ProseSection::Response,
            "Isolated FS02.\nRestore from Tuesday's backup, @Ben Smith to check it.\n@Ana: comms",
        );
        doc.edit_section(
            ProseSection::Summary,
            "Nothing for @Mallory or ana@ben.example",
        );
        let before = Incident::new();
        before
            .apply_update(&doc.encode_state(), crate::UpdateOrigin::Storage)
            .unwrap();

        let bens = doc.mentions_of("i-bens", &p);
        assert_eq!(bens.len(), 1);
        assert_eq!(
            bens[0].place,
            MentionPlace {
                section: "prose",
                id: "response".into(),
                field: "text",
            }
        );
        assert_eq!(bens[0].by, "", "the document does not say who typed it");
        assert_eq!(bens[0].at, None);
        assert_eq!(
            bens[0].text,
            "Restore from Tuesday's backup, @Ben Smith to check it."
        );
        assert_eq!(bens[0].excerpt, bens[0].text);
        assert_eq!(doc.mentions_of("i-ana", &p)[0].text, "@Ana: comms");
        // "@Ben Smith" is Ben Smith, not Ben; the summary mentions no one invited.
        assert!(doc.mentions_of("i-ben", &p).is_empty());

        // A section that newly mentions someone is unread; one that already did is not.
        doc.edit_section(ProseSection::Summary, "Ransomware; @Ben leads recovery");
        let new = unread(&before, &doc, "i-ben", &p);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].place.id, "summary");
        assert!(unread(&before, &doc, "i-bens", &p).is_empty());
        // Taken out of the list, Ben is mentioned nowhere.
        let without_ben: Vec<Invitee> = p.into_iter().filter(|i| i.invite != "i-ben").collect();
        assert!(doc.mentions_of("i-ben", &without_ben).is_empty());
    }

    #[test]
    fn a_comment_names_whom_it_mentions_once_each_while_they_are_invited() {
        use crate::comments::{CommentOn, CommentTarget};
        let p = people();
        let doc = Incident::create("Actions", "2026-12-01T00:00:00Z");
        let on = CommentOn::Item(CommentTarget::Timeline("e1".into()));
        doc.add_comment(
            "c1",
            &on,
            "@Ben and @Ana Lopez?\nno, @ana, and @Ben again",
            "Zoë",
            "i-zoe",
            &["i-ben".into(), "i-gone".into()],
            "2026-12-01T00:03:00Z",
        )
        .unwrap();
        let thread = doc.threads().into_iter().next().unwrap();
        let (_, comment) = &thread.comments[0];
        let names: Vec<String> = comment_mentions(comment, &p)
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, vec!["Ben", "Ana"]);
        assert!(comment_mentions(comment, &[]).is_empty());
        assert_eq!(
            step_title(&comment.body),
            "@Ben and @Ana Lopez? no, @ana, and @Ben again"
        );
        let long = step_title(&"word ".repeat(100));
        assert_eq!(long.chars().count(), STEP_TITLE_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn timeline_mentions_come_in_the_order_things_happened() {
        let p = people();
        let doc = Incident::create("Order", "2026-12-01T00:00:00Z");
        for (id, at) in [
            ("a-late", "2026-12-01T05:00:00Z"),
            ("z-early", "2026-12-01T01:00:00Z"),
        ] {
            doc.add_timeline_event(
                id,
                &TimelineEvent {
                    occurred_at: at.into(),
                    what: format!("{id} @Ana"),
                    ..Default::default()
                },
            );
        }
        doc.add_timeline_event(
            "no-at",
            &TimelineEvent {
                occurred_at: "2026-12-01T00:00:00Z".into(),
                what: "Ana, no mention".into(),
                ..Default::default()
            },
        );
        let ids: Vec<String> = doc
            .mentions_of("i-ana", &p)
            .into_iter()
            .map(|m| m.place.id)
            .collect();
        assert_eq!(ids, vec!["z-early", "a-late"]);
    }
}
