//! Evidence attachments: a screenshot, a log extract or a small file attached to the
//! appendix, a timeline event or an indicator. The document holds each file's SHA-256 and
//! what a reader needs to trust it (name, size, type, who and when); the bytes live on the
//! device that attached it and in the relay's content-addressed store, found by the hash.
//!
//! Each attachment is an entry of its own under a fresh id, so the same file attached in two
//! places is two entries sharing a hash, and two devices attaching at once both keep theirs.
//! Removing one is a tombstone: the entry stays with who removed it and when, so the record
//! keeps that; the page hides removed ones.

use yrs::{Any, ReadTxn, Transact};

use crate::entries::{self, editable_fields, Entry, FieldLabel, Fields, Stored};
use crate::{Incident, Indicator, TimelineEvent};

/// The content type stored when the file's own is missing or unreadable.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The longest file name kept (in characters); longer ones are cut, keeping the extension.
pub const MAX_NAME_CHARS: usize = 200;

/// Where an attachment is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum AttachTarget {
    /// The Appendix section.
    #[default]
    Appendix,
    /// A timeline event, by its id.
    Event(String),
    /// An indicator, by its id.
    Indicator(String),
}

impl AttachTarget {
    /// The stored value: `appendix`, `timeline:{event id}` or `indicator:{indicator id}`.
    pub fn key(&self) -> String {
        match self {
            AttachTarget::Appendix => "appendix".to_string(),
            AttachTarget::Event(id) => format!("timeline:{id}"),
            AttachTarget::Indicator(id) => format!("indicator:{id}"),
        }
    }

    /// Reads a stored value; `None` for anything else.
    pub fn parse(key: &str) -> Option<AttachTarget> {
        if key == "appendix" {
            return Some(AttachTarget::Appendix);
        }
        let (kind, id) = key.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        match kind {
            "timeline" => Some(AttachTarget::Event(id.to_string())),
            "indicator" => Some(AttachTarget::Indicator(id.to_string())),
            _ => None,
        }
    }
}

/// Why an attachment was refused or could not be changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("the file's SHA-256 must be 64 hexadecimal characters; got {0:?}")]
    BadHash(String),
    #[error("the file has no name (after removing folders and control characters)")]
    EmptyName,
    #[error("an attachment with id {0} is already in the incident")]
    Duplicate(String),
    #[error("what the file was to be attached to no longer exists ({0})")]
    TargetGone(String),
    #[error("that attachment no longer exists")]
    Gone,
}

/// One attached file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// The SHA-256 of the bytes, 64 lowercase hex characters: the relay's name for them.
    pub sha256: String,
    /// The file's name, as plain text (a base name: no folders, no control characters).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type as the device saw it, e.g. `image/png`.
    pub content_type: String,
    /// The display name of whoever attached it.
    pub added_by: String,
    /// Their invite id (the relay's public id of their grant), when known.
    pub added_by_invite: Option<String>,
    /// When it was attached (RFC 3339 UTC).
    pub added_at: String,
    /// Where it is shown.
    pub attached_to: AttachTarget,
    /// Who removed it, once someone has; the entry stays as the record of that.
    pub removed_by: Option<String>,
    /// When it was removed (RFC 3339 UTC).
    pub removed_at: Option<String>,
}

impl Attachment {
    /// Whether someone removed it (the page hides it; the record keeps it).
    pub fn is_removed(&self) -> bool {
        self.removed_at.is_some() || self.removed_by.is_some()
    }

    /// Whether it is an image type a browser may show as a thumbnail (never SVG).
    pub fn is_image(&self) -> bool {
        is_thumbnail_type(&self.content_type)
    }
}

/// The image types shown as thumbnails: the relay checks each one's signature, and none of
/// them can carry script (SVG can, so it is a plain download).
pub fn is_thumbnail_type(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// A SHA-256 in the stored form (64 lowercase hex characters), or the refusal.
pub fn normalize_sha256(sha256: &str) -> Result<String, AttachmentError> {
    let hash = sha256.trim().to_ascii_lowercase();
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hash)
    } else {
        Err(AttachmentError::BadHash(sha256.chars().take(80).collect()))
    }
}

/// A file name as stored: the part after the last `/` or `\`, without control characters,
/// trimmed, at most [`MAX_NAME_CHARS`] (cut before the extension). `None` when nothing is
/// left (or only `.`/`..`).
pub fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return None;
    }
    let chars: Vec<char> = cleaned.chars().collect();
    if chars.len() <= MAX_NAME_CHARS {
        return Some(cleaned.to_string());
    }
    let ext: Vec<char> = match cleaned.rfind('.') {
        Some(dot) if cleaned.len() - dot <= 16 => cleaned[dot..].chars().collect(),
        _ => Vec::new(),
    };
    let keep = MAX_NAME_CHARS - ext.len();
    Some(chars[..keep].iter().chain(ext.iter()).collect())
}

/// A content type as stored: lowercase, without parameters; [`OCTET_STREAM`] when empty or
/// not of the form `type/subtype`.
pub fn clean_content_type(content_type: &str) -> String {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let well_formed = essence.split_once('/').is_some_and(|(t, s)| {
        let ok = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        ok(t) && ok(s)
    });
    if well_formed {
        essence
    } else {
        OCTET_STREAM.to_string()
    }
}

editable_fields! {
    /// A field of an attachment that can be changed on its own.
    pub enum AttachmentField of Attachment {
        /// The shown file name (cleaned as when attached).
        Name => "name",
    }
}

impl Entry for Attachment {
    const ROOT: &'static str = "attachments";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("name", "File"),
        FieldLabel::new("sha256", "SHA-256"),
        FieldLabel::new("size", "Size (bytes)"),
        FieldLabel::new("content_type", "Type"),
        FieldLabel::new("attached_to", "Attached to"),
        FieldLabel::new("added_by", "Added by"),
        FieldLabel::new("added_by_invite", "Added by (invite)"),
        FieldLabel::new("added_at", "Added at"),
        FieldLabel::new("removed_by", "Removed by"),
        FieldLabel::new("removed_at", "Removed at"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("name", &self.name)
            .text("sha256", &self.sha256)
            .size("size", self.size)
            .text("content_type", &self.content_type)
            .text("attached_to", &self.attached_to.key())
            .text("added_by", &self.added_by)
            .optional_text("added_by_invite", self.added_by_invite.as_deref())
            .text("added_at", &self.added_at)
            .optional_text("removed_by", self.removed_by.as_deref())
            .optional_text("removed_at", self.removed_at.as_deref())
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Attachment {
        Attachment {
            sha256: stored.text("sha256"),
            name: stored.text("name"),
            size: stored.size("size"),
            content_type: stored
                .optional_text("content_type")
                .unwrap_or_else(|| OCTET_STREAM.to_string()),
            added_by: stored.text("added_by"),
            added_by_invite: stored.optional_text("added_by_invite"),
            added_at: stored.text("added_at"),
            // An unreadable target shows in the Appendix rather than nowhere.
            attached_to: AttachTarget::parse(&stored.text("attached_to")).unwrap_or_default(),
            removed_by: stored.optional_text("removed_by"),
            removed_at: stored.optional_text("removed_at"),
        }
    }

    /// In the order they were attached (then by id).
    fn sort(entries: &mut [(String, Self)]) {
        crate::sort::sort_by(entries, |(a_id, a), (b_id, b)| {
            (&a.added_at, a_id).cmp(&(&b.added_at, b_id))
        });
    }
}

impl Incident {
    /// Attaches a file under a caller-chosen fresh id (see [`crate::new_id`]) and returns the
    /// id. The hash must be a SHA-256 in hex; the name is cut to its base name without
    /// control characters; the content type is normalized (see [`clean_content_type`]); a
    /// removal in `attachment` is ignored. Refused, changing nothing, when the hash or name
    /// is unusable, the id is taken, or the event or indicator it is for is gone.
    pub fn add_attachment(
        &self,
        id: &str,
        attachment: &Attachment,
    ) -> Result<String, AttachmentError> {
        let sha256 = normalize_sha256(&attachment.sha256)?;
        let name = clean_file_name(&attachment.name).ok_or(AttachmentError::EmptyName)?;
        let stored = Attachment {
            sha256,
            name,
            content_type: clean_content_type(&attachment.content_type),
            added_by: attachment.added_by.trim().to_string(),
            added_by_invite: attachment.added_by_invite.clone().filter(|i| !i.is_empty()),
            removed_by: None,
            removed_at: None,
            ..attachment.clone()
        };
        let mut txn = self.doc.transact_mut();
        let target_exists = match &stored.attached_to {
            AttachTarget::Appendix => true,
            AttachTarget::Event(event) => {
                entries::get(self.collection::<TimelineEvent>(), &txn, event).is_some()
            }
            AttachTarget::Indicator(ioc) => {
                entries::get(self.collection::<Indicator>(), &txn, ioc).is_some()
            }
        };
        if !target_exists {
            return Err(AttachmentError::TargetGone(stored.attached_to.key()));
        }
        let collection = self.collection::<Attachment>();
        if entries::get(collection, &txn, id).is_some() {
            return Err(AttachmentError::Duplicate(id.to_string()));
        }
        entries::insert(collection, &mut txn, id, stored.to_fields());
        Ok(id.to_string())
    }

    /// Every attachment, removed ones included (they carry who removed them and when), in
    /// the order they were attached.
    pub fn attachments(&self) -> Vec<(String, Attachment)> {
        self.entries()
    }

    /// The attachments shown on `target`: not removed, in the order they were attached.
    pub fn attachments_on(&self, target: &AttachTarget) -> Vec<(String, Attachment)> {
        self.attachments()
            .into_iter()
            .filter(|(_, a)| &a.attached_to == target && !a.is_removed())
            .collect()
    }

    /// Attachments not removed whose event or indicator has since been removed: the page
    /// shows them in the Appendix so the evidence is not lost from view.
    pub fn orphaned_attachments(&self) -> Vec<(String, Attachment)> {
        let txn = self.doc.transact();
        let exists = |target: &AttachTarget| match target {
            AttachTarget::Appendix => true,
            AttachTarget::Event(id) => {
                entries::get(self.collection::<TimelineEvent>(), &txn, id).is_some()
            }
            AttachTarget::Indicator(id) => {
                entries::get(self.collection::<Indicator>(), &txn, id).is_some()
            }
        };
        let mut orphans: Vec<(String, Attachment)> =
            entries::all(self.collection::<Attachment>(), &txn)
                .into_iter()
                .map(|(id, entry)| (id, entries::read::<Attachment, _>(&entry, &txn)))
                .filter(|(_, a)| !a.is_removed() && !exists(&a.attached_to))
                .collect();
        Attachment::sort(&mut orphans);
        orphans
    }

    /// One attachment, removed or not.
    pub fn attachment(&self, id: &str) -> Option<Attachment> {
        self.entry(id)
    }

    /// Renames an attachment (the name cleaned as when attached).
    pub fn rename_attachment(&self, id: &str, name: &str) -> Result<(), AttachmentError> {
        let name = clean_file_name(name).ok_or(AttachmentError::EmptyName)?;
        if self.set_field(id, AttachmentField::Name, &name) {
            Ok(())
        } else {
            Err(AttachmentError::Gone)
        }
    }

    /// Removes an attachment from view, recording who and when. Removing one already
    /// removed keeps the first record.
    pub fn remove_attachment(&self, id: &str, by: &str, at: &str) -> Result<(), AttachmentError> {
        let current = self.attachment(id).ok_or(AttachmentError::Gone)?;
        if current.is_removed() {
            return Ok(());
        }
        if self.set_values::<Attachment>(
            id,
            [
                ("removed_by", Any::from(by.trim())),
                ("removed_at", Any::from(at)),
            ],
        ) {
            Ok(())
        } else {
            Err(AttachmentError::Gone)
        }
    }

    /// A number that changes whenever any attachment changes.
    pub fn attachments_version(&self) -> u64 {
        self.version::<Attachment>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UpdateOrigin;

    const NOW: &str = "2026-11-22T03:14:00Z";
    const LATER: &str = "2026-11-22T04:00:00Z";
    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn sync(from: &Incident, to: &Incident) {
        let diff = from.encode_diff(&to.state_vector()).unwrap();
        to.apply_update(&diff, UpdateOrigin::Relay).unwrap();
    }

    fn pair() -> (Incident, Incident) {
        let a = Incident::with_client_id(1);
        a.initialize("Ransom note on a kiosk", NOW);
        let b = Incident::with_client_id(2);
        sync(&a, &b);
        (a, b)
    }

    fn photo(by: &str, target: AttachTarget) -> Attachment {
        Attachment {
            sha256: HASH.to_uppercase(),
            name: "IMG_0001.png".into(),
            size: 204_800,
            content_type: "image/PNG".into(),
            added_by: by.into(),
            added_by_invite: Some("0123456789abcdef".into()),
            added_at: NOW.into(),
            attached_to: target,
            ..Default::default()
        }
    }

    #[test]
    fn every_field_is_described() {
        let sample = Attachment {
            removed_by: Some("Bo".into()),
            removed_at: Some(LATER.into()),
            ..photo("Ana", AttachTarget::Event("e1".into()))
        };
        entries::assert_described(&sample, AttachmentField::ALL);
    }

    #[test]
    fn an_attachment_reads_back_normalized() {
        let inc = Incident::create("x", NOW);
        let id = inc
            .add_attachment("a1", &photo("Ana", AttachTarget::Appendix))
            .unwrap();
        assert_eq!(id, "a1");
        let stored = inc.attachment("a1").unwrap();
        assert_eq!(stored.sha256, HASH);
        assert_eq!(stored.content_type, "image/png");
        assert!(stored.is_image());
        assert_eq!(stored.size, 204_800);
        assert_eq!(stored.added_by_invite.as_deref(), Some("0123456789abcdef"));
        assert_eq!(inc.attachments_on(&AttachTarget::Appendix).len(), 1);
        assert!(inc
            .attachments_on(&AttachTarget::Event("e1".into()))
            .is_empty());
        // A size past 4 GiB survives (stored as a JavaScript number).
        let big = Attachment {
            size: 5_000_000_000,
            ..photo("Ana", AttachTarget::Appendix)
        };
        inc.add_attachment("a2", &big).unwrap();
        assert_eq!(inc.attachment("a2").unwrap().size, 5_000_000_000);
    }

    #[test]
    fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
        let inc = Incident::create("x", NOW);
        let before = inc.attachments_version();
        for bad in ["", "abc", &HASH[..63], &format!("{}g", &HASH[..63])] {
            let a = Attachment {
                sha256: bad.into(),
                ..photo("Ana", AttachTarget::Appendix)
            };
            let err = inc.add_attachment("a1", &a).unwrap_err();
            assert!(matches!(err, AttachmentError::BadHash(_)), "{bad}");
            assert!(err.to_string().contains("64 hexadecimal"));
        }
        for bad in ["", "   ", "folder/", "..", "\u{7}\u{1b}", "C:\\Users\\"] {
            let a = Attachment {
                name: bad.into(),
                ..photo("Ana", AttachTarget::Appendix)
            };
            assert_eq!(
                inc.add_attachment("a1", &a),
                Err(AttachmentError::EmptyName),
                "{bad:?}"
            );
        }
        let on_gone_event = photo("Ana", AttachTarget::Event("nope".into()));
        let err = inc.add_attachment("a1", &on_gone_event).unwrap_err();
        assert_eq!(err, AttachmentError::TargetGone("timeline:nope".into()));
        assert_eq!(inc.attachments_version(), before);
        assert!(inc.attachments().is_empty());

        inc.add_attachment("a1", &photo("Ana", AttachTarget::Appendix))
            .unwrap();
        assert_eq!(
            inc.add_attachment("a1", &photo("Bo", AttachTarget::Appendix)),
            Err(AttachmentError::Duplicate("a1".into()))
        );
        assert_eq!(inc.attachment("a1").unwrap().added_by, "Ana");
        assert_eq!(
            inc.remove_attachment("zz", "Bo", LATER),
            Err(AttachmentError::Gone)
        );
    }

    #[test]
    fn names_are_base_names_of_plain_text() {
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_file_name("C:\\Users\\ana\\Desktop\\note.txt").as_deref(),
            Some("note.txt")
        );
        assert_eq!(
            clean_file_name("ev\u{0}il\r\n.png\u{202e}").as_deref(),
            Some("evil.png\u{202e}")
        );
        assert_eq!(
            clean_file_name("<img src=x onerror=alert(1)>.png").as_deref(),
            Some("<img src=x onerror=alert(1)>.png"),
            "markup stays text; the page never renders a name as HTML"
        );
        let long = format!("{}.log", "a".repeat(500));
        let cut = clean_file_name(&long).unwrap();
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with(".log"));
        assert_eq!(clean_content_type("Image/PNG; charset=x"), "image/png");
        assert_eq!(clean_content_type(""), OCTET_STREAM);
        assert_eq!(clean_content_type("text/html\"><x"), OCTET_STREAM);
        assert!(!is_thumbnail_type("image/svg+xml"));
    }

    #[test]
    fn targets_round_trip() {
        for target in [
            AttachTarget::Appendix,
            AttachTarget::Event("e1".into()),
            AttachTarget::Indicator("ioc-00ff".into()),
        ] {
            assert_eq!(AttachTarget::parse(&target.key()), Some(target));
        }
        assert_eq!(AttachTarget::parse("timeline:"), None);
        assert_eq!(AttachTarget::parse("comment:1"), None);
    }

    #[test]
    fn two_devices_attaching_at_once_both_keep_theirs_even_the_same_file() {
        let (a, b) = pair();
        a.add_attachment("a1", &photo("Ana", AttachTarget::Appendix))
            .unwrap();
        b.add_attachment(
            "b1",
            &Attachment {
                added_at: LATER.into(),
                ..photo("Bo", AttachTarget::Appendix)
            },
        )
        .unwrap();
        sync(&a, &b);
        sync(&b, &a);
        let on_a = a.attachments();
        assert_eq!(on_a, b.attachments());
        let ids: Vec<&str> = on_a.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a1", "b1"], "in the order attached");
        assert!(on_a.iter().all(|(_, x)| x.sha256 == HASH));
    }

    #[test]
    fn a_removal_racing_a_rename_keeps_both_and_the_record() {
        let (a, b) = pair();
        a.add_attachment("a1", &photo("Ana", AttachTarget::Appendix))
            .unwrap();
        sync(&a, &b);
        a.remove_attachment("a1", "Ana", LATER).unwrap();
        b.rename_attachment("a1", "ransom-note.png").unwrap();
        sync(&a, &b);
        sync(&b, &a);
        let (x, y) = (a.attachment("a1").unwrap(), b.attachment("a1").unwrap());
        assert_eq!(x, y);
        assert_eq!(x.name, "ransom-note.png");
        assert!(x.is_removed());
        assert_eq!(x.removed_by.as_deref(), Some("Ana"));
        assert_eq!(x.removed_at.as_deref(), Some(LATER));
        assert!(a.attachments_on(&AttachTarget::Appendix).is_empty());
        assert_eq!(a.attachments().len(), 1, "the record keeps it");
        // Removing again keeps the first record.
        a.remove_attachment("a1", "Cy", "2026-11-23T00:00:00Z")
            .unwrap();
        assert_eq!(
            a.attachment("a1").unwrap().removed_by.as_deref(),
            Some("Ana")
        );
    }

    #[test]
    fn an_attachment_whose_event_is_removed_meanwhile_shows_as_orphaned() {
        let (a, b) = pair();
        a.add_timeline_event(
            "e1",
            &TimelineEvent {
                what: "Ransom note on screen".into(),
                ..Default::default()
            },
        );
        sync(&a, &b);
        b.add_attachment("b1", &photo("Bo", AttachTarget::Event("e1".into())))
            .unwrap();
        a.remove_timeline_event("e1");
        sync(&a, &b);
        sync(&b, &a);
        for inc in [&a, &b] {
            assert_eq!(inc.attachments().len(), 1);
            let orphans = inc.orphaned_attachments();
            assert_eq!(orphans.len(), 1);
            assert_eq!(orphans[0].0, "b1");
        }
        a.remove_attachment("b1", "Ana", LATER).unwrap();
        assert!(a.orphaned_attachments().is_empty());
    }
}
