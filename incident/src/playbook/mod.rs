//! Playbooks: what a team already knows about one kind of incident, ready to start the next
//! one from, and growing from every incident worked with it.
//!
//! The incident template is a process; a playbook is the plan for one kind of incident that
//! the process produces. Each is its own yrs document, laid out like an incident (a `meta`
//! map, collections as maps keyed by id, the summary skeleton as a text), so it can be
//! edited together and merged through the same relay, invite-only, like an incident. It
//! holds: a name, the incident type it fits, a version that grows with each change, a
//! summary skeleton, the default classification and TLP, next steps each owned by a role
//! (with an optional due offset), extra questions to answer, comms drafts, useful links and
//! the lessons accepted from incidents (each naming the incident it came from).
//!
//! - [`Playbook::prefill`] starts an incident from it (`start.rs`): pure model, so it works
//!   offline; it copies content, never access (a playbook holds no invites, and none of an
//!   incident's people or invites go back into one).
//! - [`proposals`] and [`Playbook::accept`] let lessons flow back (`proposals.rs`).
//! - [`playbook_file`] / [`read_playbook_file`] are its file (`file.rs`).
//! - [`starters`] are the eight playbooks a new team starts with (`starters.rs`).
//!
//! Like the rest of the crate: no clock, no randomness; callers pass "now" and fresh ids.

mod file;
mod items;
mod proposals;
mod start;
mod starters;

pub use file::{
    playbook_file, read_playbook_file, OpenedPlaybook, MAX_PLAYBOOK_FILE_BYTES,
    PLAYBOOK_FILE_FORMAT, PLAYBOOK_FILE_VERSION,
};
pub use items::{
    AcceptedLesson, CommsDraft, FromIncident, PlaybookLink, PlaybookQuestion, PlaybookStep,
};
pub use proposals::{
    proposals, PendingProposal, Proposal, ProposalKind, Proposals, PLAYBOOK_REVIEW,
};
pub use start::{ExtraQuestion, StartedFrom};
pub use starters::{starter, starter_choices, starter_contents, starters, STARTER_IDS};

use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, GetString, Map, MapRef, OffsetKind, Options, Out, ReadTxn, StateVector, Text,
    TextRef, Transact, TransactionMut, Update,
};

use crate::entries::{self, Entry};
use crate::{splice_between, IncidentType, ModelError, Tlp, UpdateOrigin, DEFAULT_CLASSIFICATION};

/// The playbook schema this build writes, in `meta.schema`.
pub const PLAYBOOK_SCHEMA: u32 = 1;

/// What `meta.kind` holds in a playbook document, telling it from an incident's.
const KIND: &str = "firebreak-playbook";

const META: &str = "meta";
/// The summary skeleton: a text, merged character by character.
const SUMMARY: &str = "summary";

/// The map roots of a playbook document.
const MAP_ROOTS: &[&str] = &[
    META,
    PlaybookStep::ROOT,
    PlaybookQuestion::ROOT,
    CommsDraft::ROOT,
    PlaybookLink::ROOT,
    AcceptedLesson::ROOT,
    PendingProposal::ROOT,
];

/// Everything a playbook says, as plain data: what the starter set is written as, what a
/// new playbook is built from in one change, and what [`Playbook::contents`] reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlaybookContents {
    pub name: String,
    /// The incident type it fits (`None`: any).
    pub incident_type: Option<IncidentType>,
    /// The summary a new incident starts with, blanks to fill in.
    pub summary: String,
    pub classification: String,
    pub tlp: Tlp,
    /// By id, in playbook order.
    pub steps: Vec<(String, PlaybookStep)>,
    pub questions: Vec<(String, PlaybookQuestion)>,
    pub comms: Vec<(String, CommsDraft)>,
    pub links: Vec<(String, PlaybookLink)>,
    pub lessons: Vec<(String, AcceptedLesson)>,
}

/// One playbook: its document and handles on its roots.
pub struct Playbook {
    doc: Doc,
    maps: Vec<(&'static str, MapRef)>,
    summary: TextRef,
}

impl Default for Playbook {
    fn default() -> Self {
        Self::new()
    }
}

impl Playbook {
    /// An empty playbook document with a random client id, for content that will arrive
    /// from storage, the relay or a file.
    pub fn new() -> Self {
        Self::from_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        })
    }

    /// An empty playbook document with a chosen client id (tests, tools).
    pub fn with_client_id(client_id: u64) -> Self {
        let mut options = Options::with_client_id(yrs::ClientID::new(client_id));
        options.offset_kind = OffsetKind::Utf16;
        Self::from_options(options)
    }

    fn from_options(options: Options) -> Self {
        let doc = Doc::with_options(options);
        let maps = MAP_ROOTS
            .iter()
            .map(|&name| (name, doc.get_or_insert_map(name)))
            .collect();
        let summary = doc.get_or_insert_text(SUMMARY);
        Playbook { doc, maps, summary }
    }

    /// A new playbook `id` (see [`crate::new_id`]) holding `contents`, written as one change:
    /// version 1.
    pub fn create(id: &str, contents: &PlaybookContents) -> Self {
        let playbook = Self::new();
        playbook.write_new(id, contents);
        playbook
    }

    /// Like [`Playbook::create`], with a chosen client id (tests, tools).
    pub fn create_with_client_id(id: &str, contents: &PlaybookContents, client_id: u64) -> Self {
        let playbook = Self::with_client_id(client_id);
        playbook.write_new(id, contents);
        playbook
    }

    fn write_new(&self, id: &str, c: &PlaybookContents) {
        let mut txn = self.doc.transact_mut();
        let meta = self.map(META);
        meta.insert(&mut txn, "schema", Any::from(PLAYBOOK_SCHEMA as i64));
        meta.insert(&mut txn, "kind", KIND);
        meta.insert(&mut txn, "id", id);
        meta.insert(&mut txn, "name", c.name.as_str());
        meta.insert(
            &mut txn,
            "incident_type",
            c.incident_type.map_or("", IncidentType::key),
        );
        let classification = if c.classification.trim().is_empty() {
            DEFAULT_CLASSIFICATION
        } else {
            c.classification.as_str()
        };
        meta.insert(&mut txn, "classification", classification);
        meta.insert(&mut txn, "tlp", c.tlp.as_str());
        meta.insert(&mut txn, "version", Any::from(1.0));
        if !c.summary.is_empty() {
            self.summary.insert(&mut txn, 0, &c.summary);
        }
        self.insert_all(&mut txn, &c.steps);
        self.insert_all(&mut txn, &c.questions);
        self.insert_all(&mut txn, &c.comms);
        self.insert_all(&mut txn, &c.links);
        self.insert_all(&mut txn, &c.lessons);
    }

    fn insert_all<E: Entry>(&self, txn: &mut TransactionMut, items: &[(String, E)]) {
        for (id, item) in items {
            entries::insert(self.map(E::ROOT), txn, id, item.to_fields());
        }
    }

    fn map(&self, name: &str) -> &MapRef {
        self.maps
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, map)| map)
            .unwrap_or_else(|| panic!("the playbook root {name:?} is not registered"))
    }

    /// The underlying document, for the sync protocol only.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Calls `f` with every committed change as a Yjs v1 update, as
    /// [`crate::Incident::on_update`] does: a playbook is saved and synced the same way.
    pub fn on_update(
        &self,
        f: impl Fn(&[u8], crate::UpdateOrigin) + 'static,
    ) -> crate::Subscription {
        crate::subscribe_updates(&self.doc, f)
    }

    /// A team's own playbook `id` made from the starter `starter_id` (one of
    /// [`STARTER_IDS`]): the starter's content under a fresh id, written in one change
    /// (version 1), recording which starter and which version of it it came from.
    pub fn adopt(id: &str, starter_id: &str) -> Option<Playbook> {
        let (contents, from) = starter_contents(starter_id)?;
        let playbook = Self::new();
        playbook.write_new(id, &contents);
        let mut txn = playbook.doc.transact_mut();
        let meta = playbook.map(META);
        meta.insert(&mut txn, "adopted_from", from.id.as_str());
        meta.insert(&mut txn, "adopted_from_name", from.name.as_str());
        meta.insert(
            &mut txn,
            "adopted_from_version",
            Any::from(from.version as f64),
        );
        drop(txn);
        Some(playbook)
    }

    /// The starter this playbook was adopted from, and that starter's version then.
    pub fn adopted_from(&self) -> Option<StartedFrom> {
        let id = self.meta_string("adopted_from").filter(|s| !s.is_empty())?;
        Some(StartedFrom {
            id,
            name: self.meta_string("adopted_from_name").unwrap_or_default(),
            version: self.meta_number("adopted_from_version").unwrap_or(1),
        })
    }

    /// A copy of this playbook under the fresh id `id`: its content (as [`Playbook::contents`]
    /// reads it) in a new document written in one change (version 1), recording which
    /// playbook and which version of it it was copied from ([`Playbook::copied_from`]). It
    /// shares no history with the original, so the two never merge; the proposals the
    /// original holds stay with it. For a playbook file whose id is someone else's on the
    /// relay.
    pub fn copy_as(&self, id: &str) -> Playbook {
        let copy = Self::new();
        copy.write_new(id, &self.contents());
        let mut txn = copy.doc.transact_mut();
        let meta = copy.map(META);
        meta.insert(&mut txn, "copied_from", self.id().as_str());
        meta.insert(&mut txn, "copied_from_name", self.name().as_str());
        meta.insert(
            &mut txn,
            "copied_from_version",
            Any::from(self.version() as f64),
        );
        if let Some(from) = self.adopted_from() {
            meta.insert(&mut txn, "adopted_from", from.id.as_str());
            meta.insert(&mut txn, "adopted_from_name", from.name.as_str());
            meta.insert(
                &mut txn,
                "adopted_from_version",
                Any::from(from.version as f64),
            );
        }
        drop(txn);
        copy
    }

    /// The playbook this one was copied from ([`Playbook::copy_as`]), and its version then.
    pub fn copied_from(&self) -> Option<StartedFrom> {
        let id = self.meta_string("copied_from").filter(|s| !s.is_empty())?;
        Some(StartedFrom {
            id,
            name: self.meta_string("copied_from_name").unwrap_or_default(),
            version: self.meta_number("copied_from_version").unwrap_or(1),
        })
    }

    /// Applies a Yjs v1 update received from `origin`; a malformed one is refused whole.
    pub fn apply_update(&self, update: &[u8], origin: UpdateOrigin) -> Result<(), ModelError> {
        let update = Update::decode_v1(update).map_err(|e| ModelError::BadUpdate(e.to_string()))?;
        let mut txn = self.doc.transact_mut_with(origin.tag());
        txn.apply_update(update)
            .map_err(|e| ModelError::BadUpdate(e.to_string()))
    }

    /// The whole playbook as one Yjs v1 update.
    pub fn encode_state(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// What a peer with the encoded state vector `remote` is missing, as a v1 update.
    pub fn encode_diff(&self, remote: &[u8]) -> Result<Vec<u8>, ModelError> {
        let sv =
            StateVector::decode_v1(remote).map_err(|e| ModelError::BadUpdate(e.to_string()))?;
        Ok(self.doc.transact().encode_state_as_update_v1(&sv))
    }

    /// What this device has, as an encoded Yjs state vector.
    pub fn state_vector(&self) -> Vec<u8> {
        use yrs::updates::encoder::Encode;
        self.doc.transact().state_vector().encode_v1()
    }

    fn meta_value(&self, key: &str) -> Option<Any> {
        let txn = self.doc.transact();
        match self.map(META).get(&txn, key)? {
            Out::Any(value) => Some(value),
            _ => None,
        }
    }

    fn meta_string(&self, key: &str) -> Option<String> {
        match self.meta_value(key)? {
            Any::String(s) => Some(s.to_string()),
            _ => None,
        }
    }

    fn meta_number(&self, key: &str) -> Option<u64> {
        self.meta_value(key).as_ref().and_then(whole_number)
    }

    /// Whether the document is a Firebreak playbook (its metadata says so).
    pub fn is_playbook(&self) -> bool {
        self.meta_string("kind").as_deref() == Some(KIND)
    }

    /// The schema version written in the document, if its metadata has arrived.
    pub fn schema_version(&self) -> Option<u32> {
        self.meta_number("schema")
            .and_then(|n| u32::try_from(n).ok())
    }

    /// Refuses a playbook written by a newer schema than this build knows.
    pub fn check_schema(&self) -> Result<(), ModelError> {
        match self.schema_version() {
            Some(found) if found > PLAYBOOK_SCHEMA => Err(ModelError::NewerSchema {
                found,
                supported: PLAYBOOK_SCHEMA,
            }),
            _ => Ok(()),
        }
    }

    /// The playbook's id (the name of its document, like an incident's id).
    pub fn id(&self) -> String {
        self.meta_string("id").unwrap_or_default()
    }

    pub fn name(&self) -> String {
        self.meta_string("name").unwrap_or_default()
    }

    /// The incident type it fits; `None` when it fits any (or the type is unknown here).
    pub fn incident_type(&self) -> Option<IncidentType> {
        self.meta_string("incident_type")
            .and_then(|s| IncidentType::from_key(&s))
    }

    pub fn classification(&self) -> String {
        self.meta_string("classification")
            .unwrap_or_else(|| DEFAULT_CLASSIFICATION.to_string())
    }

    pub fn tlp(&self) -> Tlp {
        self.meta_string("tlp")
            .and_then(|s| Tlp::parse(&s))
            .unwrap_or_default()
    }

    /// Grows by one with each change made here; two changes made at once on two devices
    /// may share a number once merged (the higher wins), so it never goes down.
    pub fn version(&self) -> u64 {
        self.meta_number("version").unwrap_or(0)
    }

    /// The summary skeleton.
    pub fn summary(&self) -> String {
        self.summary.get_string(&self.doc.transact())
    }

    /// Runs one change and counts it in the version, in the same transaction.
    fn change(&self, f: impl FnOnce(&mut TransactionMut)) {
        let mut txn = self.doc.transact_mut();
        f(&mut txn);
        let meta = self.map(META);
        let current = match meta.get(&txn, "version") {
            Some(Out::Any(value)) => whole_number(&value).unwrap_or(0),
            _ => 0,
        };
        meta.insert(&mut txn, "version", Any::from((current + 1) as f64));
    }

    fn set_meta_string(&self, key: &str, value: &str) {
        if self.meta_string(key).as_deref() == Some(value) {
            return;
        }
        self.change(|txn| {
            self.map(META).insert(txn, key, value);
        });
    }

    pub fn set_name(&self, name: &str) {
        self.set_meta_string("name", name.trim());
    }

    pub fn set_incident_type(&self, kind: Option<IncidentType>) {
        self.set_meta_string("incident_type", kind.map_or("", IncidentType::key));
    }

    pub fn set_classification(&self, label: &str) {
        self.set_meta_string("classification", label);
    }

    pub fn set_tlp(&self, tlp: Tlp) {
        self.set_meta_string("tlp", tlp.as_str());
    }

    /// Makes the summary skeleton read `new_value` with the smallest splice.
    pub fn edit_summary(&self, new_value: &str) {
        let old = self.summary();
        let Some(splice) = splice_between(&old, new_value) else {
            return;
        };
        self.change(|txn| {
            let len = self.summary.len(txn);
            let index = splice.index.min(len);
            let delete = splice.delete.min(len - index);
            if delete > 0 {
                self.summary.remove_range(txn, index, delete);
            }
            if !splice.insert.is_empty() {
                self.summary.insert(txn, index, &splice.insert);
            }
        });
    }

    /// Adds (or replaces whole) an item under a caller-chosen id: a step, a question, a
    /// comms draft, a link.
    pub fn add<E: Entry>(&self, id: &str, item: &E) {
        self.change(|txn| entries::insert(self.map(E::ROOT), txn, id, item.to_fields()));
    }

    /// Every item of one kind, in playbook order.
    pub fn items<E: Entry>(&self) -> Vec<(String, E)> {
        let txn = self.doc.transact();
        let mut items: Vec<(String, E)> = entries::all(self.map(E::ROOT), &txn)
            .into_iter()
            .map(|(id, entry)| (id, entries::read(&entry, &txn)))
            .collect();
        E::sort(&mut items);
        items
    }

    /// One item, if it exists.
    pub fn item<E: Entry>(&self, id: &str) -> Option<E> {
        let txn = self.doc.transact();
        entries::get(self.map(E::ROOT), &txn, id).map(|entry| entries::read(&entry, &txn))
    }

    /// Removes an item; removing one already gone changes nothing.
    pub fn remove<E: Entry>(&self, id: &str) {
        if self.item::<E>(id).is_none() {
            return;
        }
        self.change(|txn| {
            self.map(E::ROOT).remove(txn, id);
        });
    }

    /// Everything the playbook says, as plain data.
    pub fn contents(&self) -> PlaybookContents {
        PlaybookContents {
            name: self.name(),
            incident_type: self.incident_type(),
            summary: self.summary(),
            classification: self.classification(),
            tlp: self.tlp(),
            steps: self.items(),
            questions: self.items(),
            comms: self.items(),
            links: self.items(),
            lessons: self.items(),
        }
    }
}

/// A stored whole number (JavaScript writes numbers as floats), if it is one.
pub(crate) fn whole_number(value: &Any) -> Option<u64> {
    match value {
        Any::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .and_then(|n| u64::try_from(n).ok()),
        _ => None,
    }
}
