//! Lessons flowing back: in an incident, a lesson learned or a next step is proposed for the
//! playbook; accepting the proposal adds it to the playbook as an ordinary change that
//! records where it came from.
//!
//! Proposals are the incident's `proposals` map, keyed by the entry proposed: a next step's
//! own id (proposing it twice is one proposal), or a fresh id for a lesson. Accepting writes
//! the playbook item under `{incident id}/{entry id}`, a key every device derives alike, so
//! two people accepting the same proposal at once add it once when their changes merge.

use yrs::{Map, ReadTxn, Transact};

use super::items::accepted_key;
use super::{AcceptedLesson, FromIncident, Playbook, PlaybookStep, StartedFrom};
use crate::entries::{self, Entry, FieldLabel, Fields, Stored};
use crate::{Incident, NextStep, Question, QuestionList, Role};

/// What is proposed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProposalKind {
    /// A lesson learned, for the playbook's lessons.
    #[default]
    Lesson,
    /// A next step, for the playbook's steps (owned by its role, if it had one).
    NextStep,
}

impl ProposalKind {
    pub fn key(self) -> &'static str {
        match self {
            ProposalKind::Lesson => "lesson",
            ProposalKind::NextStep => "next_step",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProposalKind::Lesson => "Lesson learned",
            ProposalKind::NextStep => "Next step",
        }
    }

    pub fn from_key(key: &str) -> Option<ProposalKind> {
        [ProposalKind::Lesson, ProposalKind::NextStep]
            .into_iter()
            .find(|k| k.key() == key)
    }
}

/// Something in an incident proposed for its playbook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proposal {
    pub kind: ProposalKind,
    /// The lesson, or the step's title, as proposed.
    pub text: String,
    /// The role that owned the step, if any (never a person: people stay in the incident).
    pub role: Option<Role>,
    pub proposed_by: String,
    pub proposed_at: String,
}

impl Entry for Proposal {
    const ROOT: &'static str = "proposals";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("kind", "Proposed"),
        FieldLabel::new("text", "Text"),
        FieldLabel::new("role", "Owned by the role"),
        FieldLabel::new("proposed_by", "Proposed by"),
        FieldLabel::new("proposed_at", "Proposed at"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("kind", self.kind.key())
            .text("text", &self.text)
            .text("role", self.role.map_or("", Role::key))
            .text("proposed_by", &self.proposed_by)
            .text("proposed_at", &self.proposed_at)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        Proposal {
            kind: ProposalKind::from_key(&stored.text("kind")).unwrap_or_default(),
            text: stored.text("text"),
            role: Role::from_key(&stored.text("role")),
            proposed_by: stored.text("proposed_by"),
            proposed_at: stored.text("proposed_at"),
        }
    }

    /// In the order proposed.
    fn sort(items: &mut [(String, Self)]) {
        crate::sort::sort_by(items, |(a_id, a), (b_id, b)| {
            (&a.proposed_at, a_id).cmp(&(&b.proposed_at, b_id))
        });
    }
}

/// An incident's proposals, with the playbook it started from (where they would go).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposals {
    pub playbook: Option<StartedFrom>,
    /// By entry id, in the order proposed.
    pub items: Vec<(String, Proposal)>,
}

/// The post-mortem's questions about the playbook an incident started from. Stored like
/// the template's post-mortem questions (flat keys `{key}.status`, `.answer`, `.by` of the
/// `postmortem` map), read and answered with [`Incident::answer`] and its setters.
pub const PLAYBOOK_REVIEW: [Question; 2] = [
    Question {
        list: QuestionList::PostMortem,
        key: "playbook_appropriate",
        text: "Was the playbook appropriate?",
    },
    Question {
        list: QuestionList::PostMortem,
        key: "playbook_adjustments",
        text: "What adjustments need to be made?",
    },
];

/// What `incident` proposes for its playbook, and which playbook that is (`None` for an
/// incident started blank: its proposals wait for someone to choose one).
pub fn proposals(incident: &Incident) -> Proposals {
    Proposals {
        playbook: incident.started_from(),
        items: incident.entries::<Proposal>(),
    }
}

impl Incident {
    /// The post-mortem asks [`PLAYBOOK_REVIEW`] of an incident started from a playbook, and
    /// of one already answered (so an answer is never hidden); nothing of the others.
    pub fn review_questions(&self) -> Vec<Question> {
        if self.started_from().is_some() {
            return PLAYBOOK_REVIEW.to_vec();
        }
        PLAYBOOK_REVIEW
            .into_iter()
            .filter(|q| self.answer(*q) != Default::default())
            .collect()
    }

    /// Proposes a lesson learned (`text`) for the playbook, under a fresh id.
    pub fn propose_lesson(&self, id: &str, text: &str, by: &str, now: &str) {
        self.add_entry(
            id,
            &Proposal {
                kind: ProposalKind::Lesson,
                text: text.trim().to_string(),
                role: None,
                proposed_by: by.to_string(),
                proposed_at: now.to_string(),
            },
        );
    }

    /// Proposes the next step `step_id` (its title and role, never its owner) for the
    /// playbook. False when the step no longer exists.
    pub fn propose_next_step(&self, step_id: &str, by: &str, now: &str) -> bool {
        let Some(step) = self.entry::<NextStep>(step_id) else {
            return false;
        };
        self.add_entry(
            step_id,
            &Proposal {
                kind: ProposalKind::NextStep,
                text: step.title.trim().to_string(),
                role: step.owner_role,
                proposed_by: by.to_string(),
                proposed_at: now.to_string(),
            },
        );
        true
    }

    /// Takes a proposal back; one already gone is not an error.
    pub fn withdraw_proposal(&self, id: &str) {
        self.remove_entry::<Proposal>(id);
    }
}

impl Playbook {
    /// Adds proposal `entry_id` of incident `incident_id` (titled `incident_title`) to the
    /// playbook, as `by` at `now`: a lesson to the lessons, a next step to the steps. The
    /// item is keyed `{incident_id}/{entry_id}`, so accepting it again, here or on another
    /// device at the same time, adds nothing more. False when it was already there.
    pub fn accept(
        &self,
        incident_id: &str,
        incident_title: &str,
        entry_id: &str,
        proposal: &Proposal,
        by: &str,
        now: &str,
    ) -> bool {
        if self.is_accepted(incident_id, entry_id) {
            return false;
        }
        let from = FromIncident {
            incident_id: incident_id.to_string(),
            incident_title: incident_title.to_string(),
            entry_id: entry_id.to_string(),
            accepted_by: by.to_string(),
            accepted_at: now.to_string(),
        };
        let key = from.key();
        self.change(|txn| match proposal.kind {
            ProposalKind::Lesson => {
                let lesson = AcceptedLesson {
                    text: proposal.text.clone(),
                    from,
                };
                entries::insert(
                    self.map(AcceptedLesson::ROOT),
                    txn,
                    &key,
                    lesson.to_fields(),
                );
            }
            ProposalKind::NextStep => {
                let step = PlaybookStep {
                    title: proposal.text.clone(),
                    role: proposal.role,
                    due_after_minutes: None,
                    from: Some(from),
                };
                entries::insert(self.map(PlaybookStep::ROOT), txn, &key, step.to_fields());
            }
        });
        true
    }

    /// Whether proposal `entry_id` of incident `incident_id` is in the playbook.
    pub fn is_accepted(&self, incident_id: &str, entry_id: &str) -> bool {
        let key = accepted_key(incident_id, entry_id);
        let txn = self.doc.transact();
        [AcceptedLesson::ROOT, PlaybookStep::ROOT]
            .iter()
            .any(|root| self.map(root).get(&txn, &key).is_some())
    }
}

/// A proposal as the playbook holds it (its `proposals` map, keyed `{incident}/{entry}`), so
/// that whoever has the playbook sees it and can accept it without having the incident. It
/// carries what accepting needs and nothing of the incident's people or access: the text,
/// what it is, the step's role, the incident's id and title, who proposed it and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingProposal {
    pub incident_id: String,
    pub incident_title: String,
    /// The proposal's id in the incident.
    pub entry_id: String,
    pub proposal: Proposal,
}

impl PendingProposal {
    /// The key it is held under, the same as the item accepting it writes.
    pub fn key(&self) -> String {
        accepted_key(&self.incident_id, &self.entry_id)
    }
}

impl Entry for PendingProposal {
    const ROOT: &'static str = "proposals";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("incident_id", "From incident"),
        FieldLabel::new("incident_title", "Incident title"),
        FieldLabel::new("entry_id", "Entry in the incident"),
        FieldLabel::new("kind", "Proposed"),
        FieldLabel::new("text", "Text"),
        FieldLabel::new("role", "Owned by the role"),
        FieldLabel::new("proposed_by", "Proposed by"),
        FieldLabel::new("proposed_at", "Proposed at"),
    ];

    fn to_fields(&self) -> Fields {
        let p = &self.proposal;
        Fields::new()
            .text("incident_id", &self.incident_id)
            .text("incident_title", &self.incident_title)
            .text("entry_id", &self.entry_id)
            .text("kind", p.kind.key())
            .text("text", &p.text)
            .text("role", p.role.map_or("", Role::key))
            .text("proposed_by", &p.proposed_by)
            .text("proposed_at", &p.proposed_at)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        PendingProposal {
            incident_id: stored.text("incident_id"),
            incident_title: stored.text("incident_title"),
            entry_id: stored.text("entry_id"),
            proposal: Proposal::read(stored),
        }
    }

    /// In the order proposed.
    fn sort(items: &mut [(String, Self)]) {
        crate::sort::sort_by(items, |(a_id, a), (b_id, b)| {
            (&a.proposal.proposed_at, a_id).cmp(&(&b.proposal.proposed_at, b_id))
        });
    }
}

impl Playbook {
    /// Carries the proposals of incident `incident_id` (started from this playbook) into the
    /// playbook's own `proposals` map: each one new or changed is written, each of this
    /// incident's the incident no longer has (withdrawn) is removed. Proposals are not the
    /// playbook's content: the version stays. Call it with a current copy of the incident
    /// (the incident's open page does), as a stale one would take back what was proposed
    /// since. Returns whether anything was written; an incident from another playbook, or
    /// from none, writes nothing.
    pub fn carry_proposals(&self, incident_id: &str, incident: &Incident) -> bool {
        if incident_id.is_empty() || incident.started_from().is_none_or(|p| p.id != self.id()) {
            return false;
        }
        let title = incident.title();
        let wanted: Vec<PendingProposal> = incident
            .entries::<Proposal>()
            .into_iter()
            .map(|(entry_id, proposal)| PendingProposal {
                incident_id: incident_id.to_string(),
                incident_title: title.clone(),
                entry_id,
                proposal,
            })
            .collect();
        let held: Vec<(String, PendingProposal)> = self
            .items::<PendingProposal>()
            .into_iter()
            .filter(|(_, p)| p.incident_id == incident_id)
            .collect();
        let writes: Vec<&PendingProposal> = wanted
            .iter()
            .filter(|w| !held.iter().any(|(key, h)| *key == w.key() && h == *w))
            .collect();
        let removals: Vec<&String> = held
            .iter()
            .filter(|(key, _)| !wanted.iter().any(|w| w.key() == **key))
            .map(|(key, _)| key)
            .collect();
        if writes.is_empty() && removals.is_empty() {
            return false;
        }
        let mut txn = self.doc.transact_mut();
        let map = self.map(PendingProposal::ROOT);
        for pending in writes {
            entries::insert(map, &mut txn, &pending.key(), pending.to_fields());
        }
        for key in removals {
            map.remove(&mut txn, key);
        }
        true
    }

    /// The proposals the playbook holds (see [`Playbook::carry_proposals`]), accepted or
    /// not, in the order proposed.
    pub fn held_proposals(&self) -> Vec<PendingProposal> {
        self.items::<PendingProposal>()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The held proposals nobody has accepted yet.
    pub fn pending_proposals(&self) -> Vec<PendingProposal> {
        self.held_proposals()
            .into_iter()
            .filter(|p| !self.is_accepted(&p.incident_id, &p.entry_id))
            .collect()
    }

    /// Accepts a held proposal: [`Playbook::accept`], keyed alike.
    pub fn accept_pending(&self, pending: &PendingProposal, by: &str, now: &str) -> bool {
        self.accept(
            &pending.incident_id,
            &pending.incident_title,
            &pending.entry_id,
            &pending.proposal,
            by,
            now,
        )
    }
}
