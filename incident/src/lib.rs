//! The incident model: one security incident as one Yjs-compatible CRDT document.
//!
//! This crate is the only place that knows how an incident is laid out inside the yrs
//! document (which root holds the summary, how a timeline event is keyed). The browser app,
//! the relay's tools and the tests all go through its typed accessors. It is plain Rust: no
//! browser, no network, no clock and no random source of its own — callers pass in "now" and
//! fresh ids, so the same code runs in wasm32 and in host unit tests.
//!
//! It is not a sync engine or a store: it turns edits into Yjs v1 updates and applies the
//! updates it is given.

mod attachments;
mod comments;
mod drill;
mod entries;
mod error;
pub mod export;
pub mod history;
mod ids;
pub mod indicator_value;
mod indicators;
pub mod mentions;
mod next_steps;
pub mod playbook;
mod questions;
mod roles;
mod roots;
mod sections;
pub mod sort;
mod text_diff;
mod timeline;
mod triage;
pub mod when;

pub use attachments::{
    clean_content_type, clean_file_name, is_thumbnail_type, normalize_sha256, AttachTarget,
    Attachment, AttachmentError, AttachmentField, MAX_NAME_CHARS, OCTET_STREAM,
};
pub use comments::{
    Comment, CommentError, CommentKind, CommentOn, CommentTarget, Passage, Resolution, Thread,
    MAX_COMMENT_CHARS, MAX_MENTIONS, MAX_QUOTE_CHARS,
};
pub use drill::{DRILL_LABEL, DRILL_MEANING};
pub use entries::{EditableField, Entry, FieldLabel, Fields, Stored};
pub use error::ModelError;
pub use ids::new_id;
pub use indicator_value::IndicatorKind;
pub use indicators::{indicator_id, Indicator, IndicatorError, IndicatorField, PasteResult};
pub use next_steps::{NextStep, StepField, StepStatus};
pub use questions::{Answer, AnswerStatus, Question, QuestionList, QUESTIONS};
pub use roles::{Role, RoleHolder};
pub use roots::{reading, roots, Root, RootKind, RootSet, RootVersions};
pub use sections::{IncidentStatus, ProseSection, Tlp};
pub use text_diff::{splice_between, utf16_len, Splice};
pub use timeline::{Field as TimelineField, KillChainPhase, TimelineEvent};
pub use triage::{IncidentType, Severity};
pub use when::TypedTime;

use roots::RootRefs;
use std::sync::atomic::{AtomicU64, Ordering};
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Assoc, Doc, GetString, IndexedSequence, Map, MapRef, OffsetKind, Options, Origin, Out,
    ReadTxn, StateVector, StickyIndex, Text, TextRef, Transact, TransactionMut, Update,
};

/// The schema version this build writes. Stored in `meta.schema`.
pub const SCHEMA_VERSION: u32 = 1;

/// The handling label a new incident starts with.
pub const DEFAULT_CLASSIFICATION: &str = "Confidential – specific individuals only";

/// Where a change to the document came from. Local edits are the ones to send to the relay;
/// the others are already somewhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateOrigin {
    /// Typed on this device, through this crate's setters.
    Local,
    /// Received from the relay.
    Relay,
    /// Loaded from this device's own storage.
    Storage,
    /// Broadcast by another tab of the same browser.
    OtherTab,
}

impl UpdateOrigin {
    fn tag(self) -> &'static str {
        match self {
            UpdateOrigin::Local => "local",
            UpdateOrigin::Relay => "relay",
            UpdateOrigin::Storage => "storage",
            UpdateOrigin::OtherTab => "other-tab",
        }
    }

    fn from_origin(origin: Option<&Origin>) -> UpdateOrigin {
        let Some(origin) = origin else {
            return UpdateOrigin::Local;
        };
        [
            UpdateOrigin::Relay,
            UpdateOrigin::Storage,
            UpdateOrigin::OtherTab,
        ]
        .into_iter()
        .find(|o| origin.as_ref() == o.tag().as_bytes())
        .unwrap_or(UpdateOrigin::Local)
    }
}

/// A caret position that stays attached to the characters around it while others edit.
#[derive(Clone, Debug)]
pub struct Anchor {
    section: ProseSection,
    index: Option<StickyIndex>,
    fallback: u32,
}

/// Keeps an update listener alive; dropping it stops the listener.
pub struct Subscription {
    doc: Doc,
    key: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Fails only while a transaction is open on this very document; the listener then
        // stays until the document itself is dropped, which is harmless.
        if self.doc.unobserve_update_v1(self.key.as_str()).is_err() {
            debug_assert!(false, "update listener dropped during a transaction");
        }
    }
}

static NEXT_SUBSCRIPTION: AtomicU64 = AtomicU64::new(0);

/// Calls `f` with every committed change of `doc` (an incident's or a playbook's) as a Yjs
/// v1 update, until the subscription is dropped.
pub(crate) fn subscribe_updates(
    doc: &Doc,
    f: impl Fn(&[u8], UpdateOrigin) + 'static,
) -> Subscription {
    let key = format!(
        "firebreak-{}",
        NEXT_SUBSCRIPTION.fetch_add(1, Ordering::Relaxed)
    );
    doc.observe_update_v1(key.as_str(), move |txn, event| {
        f(&event.update, UpdateOrigin::from_origin(txn.origin()))
    })
    .expect("no transaction is open while subscribing");
    Subscription {
        doc: doc.clone(),
        key,
    }
}

/// The incident's metadata: title, classification, TLP, status, severity, type, zone, schema
/// version.
const META: &str = "meta";

/// The map roots of the document: the metadata, then one per structured section (its
/// [`Entry::ROOT`]). A new structured section registers its root here; the prose sections'
/// text roots come from [`ProseSection::ALL`].
const MAP_ROOTS: &[&str] = &[
    META,
    TimelineEvent::ROOT,
    Indicator::ROOT,
    NextStep::ROOT,
    RoleHolder::ROOT,
    QuestionList::WillBeAsked.root(),
    QuestionList::PostMortem.root(),
    playbook::Proposal::ROOT,
    Attachment::ROOT,
    Comment::ROOT,
];

/// One incident: the shared document and handles on each of its roots.
pub struct Incident {
    doc: Doc,
    roots: RootRefs,
}

impl Default for Incident {
    fn default() -> Self {
        Self::new()
    }
}

impl Incident {
    /// An empty incident with a random client id: the right start for a document whose
    /// content will arrive from storage or the relay.
    pub fn new() -> Self {
        Self::from_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        })
    }

    /// An empty incident with a chosen client id (tests, tools).
    pub fn with_client_id(client_id: u64) -> Self {
        let mut options = Options::with_client_id(yrs::ClientID::new(client_id));
        options.offset_kind = OffsetKind::Utf16;
        Self::from_options(options)
    }

    fn from_options(options: Options) -> Self {
        let doc = Doc::with_options(options);
        let roots = RootRefs::create(&doc);
        Incident { doc, roots }
    }

    /// The root map called `name`, as registered in [`roots()`].
    pub(crate) fn root_map(&self, name: &str) -> &MapRef {
        self.roots.map(name)
    }

    /// The change counter of the root map called `name`.
    fn root_version(&self, name: &str) -> u64 {
        self.roots.version(name)
    }

    /// Every root's change counter now: compared with an earlier one
    /// ([`RootVersions::touched_since`]), which roots changed in between, by whom ever. With
    /// [`reading`] (which roots a read looked at) a view re-reads only after a change to what
    /// it shows.
    pub fn root_versions(&self) -> RootVersions {
        self.roots.versions()
    }

    fn meta(&self) -> &MapRef {
        self.root_map(META)
    }

    /// A new incident, titled and classified, created at `now` (RFC 3339, UTC).
    pub fn create(title: &str, now: &str) -> Self {
        let incident = Self::new();
        incident.initialize(title, now);
        incident
    }

    /// Writes the fields every new incident starts with.
    pub fn initialize(&self, title: &str, now: &str) {
        let meta = self.meta();
        let mut txn = self.doc.transact_mut();
        meta.insert(&mut txn, "schema", Any::from(SCHEMA_VERSION as i64));
        meta.insert(&mut txn, "title", title);
        meta.insert(&mut txn, "created_at", now);
        meta.insert(&mut txn, "classification", DEFAULT_CLASSIFICATION);
        meta.insert(&mut txn, "tlp", Tlp::default().as_str());
    }

    /// The underlying document, for the sync protocol only (state vectors, awareness).
    /// Content goes through the typed accessors.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Applies a Yjs v1 update received from `origin`. A malformed update is refused whole
    /// and leaves the document as it was.
    pub fn apply_update(&self, update: &[u8], origin: UpdateOrigin) -> Result<(), ModelError> {
        let update = Update::decode_v1(update).map_err(|e| ModelError::BadUpdate(e.to_string()))?;
        let mut txn = self.doc.transact_mut_with(origin.tag());
        txn.apply_update(update)
            .map_err(|e| ModelError::BadUpdate(e.to_string()))
    }

    /// Calls `f` with every committed change as a Yjs v1 update. `f` runs while the change
    /// is being committed: it must not read or write this incident (queue the work instead).
    pub fn on_update(&self, f: impl Fn(&[u8], UpdateOrigin) + 'static) -> Subscription {
        subscribe_updates(&self.doc, f)
    }

    /// The whole incident as one Yjs v1 update.
    pub fn encode_state(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// What this device has, as an encoded Yjs state vector.
    pub fn state_vector(&self) -> Vec<u8> {
        use yrs::updates::encoder::Encode;
        self.doc.transact().state_vector().encode_v1()
    }

    /// What a peer with the encoded state vector `remote` is missing, as a v1 update.
    pub fn encode_diff(&self, remote: &[u8]) -> Result<Vec<u8>, ModelError> {
        let sv =
            StateVector::decode_v1(remote).map_err(|e| ModelError::BadUpdate(e.to_string()))?;
        Ok(self.doc.transact().encode_state_as_update_v1(&sv))
    }

    /// The schema version written in the document, if any has arrived yet.
    pub fn schema_version(&self) -> Option<u32> {
        let txn = self.doc.transact();
        match self.meta().get(&txn, "schema")? {
            Out::Any(Any::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .and_then(|n| u32::try_from(n).ok()),
            _ => None,
        }
    }

    /// Refuses a document written by a newer schema than this build knows. Older documents
    /// (and documents whose metadata has not arrived yet) are fine.
    pub fn check_schema(&self) -> Result<(), ModelError> {
        match self.schema_version() {
            Some(found) if found > SCHEMA_VERSION => Err(ModelError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            }),
            _ => Ok(()),
        }
    }

    fn meta_string(&self, key: &str) -> Option<String> {
        let txn = self.doc.transact();
        match self.meta().get(&txn, key)? {
            Out::Any(Any::String(s)) => Some(s.to_string()),
            _ => None,
        }
    }

    fn set_meta_string(&self, key: &str, value: &str) {
        if self.meta_string(key).as_deref() == Some(value) {
            return;
        }
        let mut txn = self.doc.transact_mut();
        self.meta().insert(&mut txn, key, value);
    }

    /// The incident's title ("" until one is set or arrives).
    pub fn title(&self) -> String {
        self.meta_string("title").unwrap_or_default()
    }

    pub fn set_title(&self, title: &str) {
        self.set_meta_string("title", title);
    }

    /// When the incident was created (RFC 3339 UTC), if known.
    pub fn created_at(&self) -> Option<String> {
        self.meta_string("created_at")
    }

    /// The handling label, e.g. "Confidential – specific individuals only".
    pub fn classification(&self) -> String {
        self.meta_string("classification").unwrap_or_default()
    }

    pub fn set_classification(&self, label: &str) {
        self.set_meta_string("classification", label);
    }

    /// The TLP level; AMBER when none is set or the stored value is not one we know.
    pub fn tlp(&self) -> Tlp {
        self.meta_string("tlp")
            .and_then(|s| Tlp::parse(&s))
            .unwrap_or_default()
    }

    pub fn set_tlp(&self, tlp: Tlp) {
        self.set_meta_string("tlp", tlp.as_str());
    }

    /// Where the response stands; Open when none is set.
    pub fn status(&self) -> IncidentStatus {
        self.meta_string("status")
            .and_then(|s| IncidentStatus::from_key(&s))
            .unwrap_or_default()
    }

    pub fn set_status(&self, status: IncidentStatus) {
        self.set_meta_string("status", status.key());
    }

    /// A prose section's own TLP level; `None` means the incident's. Exports for readers
    /// cleared below it leave the section out.
    pub fn section_tlp(&self, section: ProseSection) -> Option<Tlp> {
        self.meta_string(&format!("tlp.{}", section.key()))
            .and_then(|s| Tlp::parse(&s))
    }

    /// Marks a prose section with its own TLP level, or (`None`) with the incident's again.
    pub fn set_section_tlp(&self, section: ProseSection, tlp: Option<Tlp>) {
        if tlp.is_none() && self.section_tlp(section).is_none() {
            return;
        }
        self.set_meta_string(
            &format!("tlp.{}", section.key()),
            tlp.map_or("", Tlp::as_str),
        );
    }

    /// The zone every time in the incident is shown in: an IANA name, "UTC" by default.
    pub fn display_zone(&self) -> String {
        self.meta_string("zone")
            .filter(|z| when::is_known_zone(z))
            .unwrap_or_else(|| "UTC".to_string())
    }

    /// Sets the display zone; refuses a zone this build does not know.
    pub fn set_display_zone(&self, zone: &str) -> bool {
        match when::canonical_zone(zone) {
            Some(zone) => {
                self.set_meta_string("zone", &zone);
                true
            }
            None => false,
        }
    }

    fn text(&self, section: ProseSection) -> &TextRef {
        self.roots.text(section.key())
    }

    /// The current text of a prose section.
    pub fn section_text(&self, section: ProseSection) -> String {
        self.text(section).get_string(&self.doc.transact())
    }

    /// Makes the section read `new_value` with the smallest splice, so characters others
    /// typed elsewhere in the section at the same time are kept.
    pub fn edit_section(&self, section: ProseSection, new_value: &str) {
        let text = self.text(section);
        let mut txn = self.doc.transact_mut();
        let old = text.get_string(&txn);
        if let Some(splice) = splice_between(&old, new_value) {
            apply_splice(text, &mut txn, &splice);
        }
    }

    /// Deletes `delete` UTF-16 units at `index` and inserts `insert` there.
    pub fn splice_section(&self, section: ProseSection, splice: &Splice) {
        let text = self.text(section);
        let mut txn = self.doc.transact_mut();
        apply_splice(text, &mut txn, splice);
    }

    /// Remembers a caret position (UTF-16 units) so it can be found again after remote
    /// changes arrive. The caret sticks to the character on its left: text someone else
    /// inserts exactly at the caret lands after it, so a typist's own run of characters stays
    /// together, and a caret at the end of the text stays after the last character.
    pub fn anchor(&self, section: ProseSection, position: u32) -> Anchor {
        let text = self.text(section);
        let txn = self.doc.transact();
        let position = position.min(text.len(&txn));
        Anchor {
            section,
            index: text.sticky_index(&txn, position, Assoc::Before),
            fallback: position,
        }
    }

    /// Where an anchored caret is now.
    pub fn resolve(&self, anchor: &Anchor) -> u32 {
        let txn = self.doc.transact();
        let len = self.text(anchor.section).len(&txn);
        anchor
            .index
            .as_ref()
            .and_then(|i| i.get_offset(&txn))
            .map(|o| o.index)
            .unwrap_or(anchor.fallback)
            .min(len)
    }
}

fn apply_splice(text: &TextRef, txn: &mut TransactionMut, splice: &Splice) {
    let len = text.len(txn);
    let index = splice.index.min(len);
    let delete = splice.delete.min(len - index);
    if delete > 0 {
        text.remove_range(txn, index, delete);
    }
    if !splice.insert.is_empty() {
        text.insert(txn, index, &splice.insert);
    }
}

#[cfg(test)]
mod tests;
