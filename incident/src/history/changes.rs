//! What changed between two states of an incident, entry by entry, in a responder's words.

use std::collections::HashMap;

use yrs::{Any, Map, MapRef, Out, ReadTxn, Transact};

use super::Place;
use crate::entries::{self, Entry};
use crate::playbook::{Proposal, PLAYBOOK_REVIEW};
use crate::{
    when, Incident, IncidentStatus, Indicator, NextStep, ProseSection, Question, Role, RoleHolder,
    StepStatus, TimelineEvent, Tlp, META, QUESTIONS,
};

/// What happened to the thing at a [`Change`]'s place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// A timeline event, indicator or next step appeared.
    Added,
    /// Fields of an entry changed (their labels, as the page names them).
    Changed {
        fields: Vec<String>,
    },
    Deleted,
    StepDone,
    /// A done step is open again.
    StepReopened,
    /// The step's owner changed ("" is nobody).
    StepReassigned {
        from: String,
        to: String,
    },
    StepDueChanged {
        from: Option<String>,
        to: Option<String>,
    },
    /// The step's due time passed while it was not done.
    StepOverdue {
        due: String,
    },
    /// Someone took on, took over or gave up a role.
    RoleHandedOff {
        role: Role,
        from: Option<String>,
        to: Option<String>,
    },
    TitleChanged {
        from: String,
        to: String,
    },
    StatusChanged {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    ClassificationChanged {
        from: String,
        to: String,
    },
    TlpChanged {
        from: Tlp,
        to: Tlp,
    },
    ZoneChanged {
        from: String,
        to: String,
    },
    /// A prose section's own TLP level (`None`: the incident's).
    SectionTlpChanged {
        section: ProseSection,
        from: Option<Tlp>,
        to: Option<Tlp>,
    },
    /// A field of the incident this build has no words for.
    MetaChanged {
        key: String,
        from: String,
        to: String,
    },
    ProseChanged {
        section: ProseSection,
    },
    /// A question that had no answer has one.
    Answered {
        question: Question,
    },
    /// An answer (or its status) changed.
    AnswerChanged {
        question: Question,
    },
}

/// One change, where it happened, and what the entry is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub place: Place,
    pub kind: ChangeKind,
    /// What the entry says, for a list: an event's "what", an indicator's value, a step's
    /// title, a question; "" where the kind says it all.
    pub subject: String,
}

/// The part of the page a change belongs to, in the order a catch-up list shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Incident,
    Roles,
    NextSteps,
    Timeline,
    Indicators,
    Sections,
    Questions,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Incident,
        Group::Roles,
        Group::NextSteps,
        Group::Timeline,
        Group::Indicators,
        Group::Sections,
        Group::Questions,
    ];

    /// The heading of the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::Incident => "The incident",
            Group::Roles => "Roles",
            Group::NextSteps => "Next steps",
            Group::Timeline => "Timeline",
            Group::Indicators => "Indicators",
            Group::Sections => "Sections",
            Group::Questions => "Questions",
        }
    }

    fn of(section: &str) -> Group {
        match section {
            META => Group::Incident,
            s if s == RoleHolder::ROOT => Group::Roles,
            s if s == NextStep::ROOT => Group::NextSteps,
            s if s == TimelineEvent::ROOT => Group::Timeline,
            s if s == Indicator::ROOT => Group::Indicators,
            s if ProseSection::from_key(s).is_some() => Group::Sections,
            _ => Group::Questions,
        }
    }

    /// The roots whose changes the group lists (for [`Group::Questions`], the catch-all,
    /// every root not listed under another group).
    pub fn roots(self) -> crate::RootSet {
        crate::roots()
            .iter()
            .filter(|root| Group::of(root.name) == self)
            .fold(crate::RootSet::EMPTY, |set, root| {
                set.union(crate::RootSet::of(root.name))
            })
    }

    /// What one entry of the group is called.
    fn noun(self) -> &'static str {
        match self {
            Group::NextSteps => "Next step",
            Group::Timeline => "Timeline event",
            Group::Indicators => "Indicator",
            Group::Roles => "Role",
            Group::Questions => "Question",
            Group::Sections => "Section",
            Group::Incident => "Field",
        }
    }
}

impl Change {
    /// The part of the page it belongs to.
    pub fn group(&self) -> Group {
        Group::of(self.place.section)
    }

    /// One line for a person, times shown in `zone`.
    pub fn describe(&self, zone: &str) -> String {
        let noun = self.group().noun();
        let subject = short(&self.subject);
        let time = |t: &str| when::format_in_zone(t, zone);
        let or_nobody = |s: &str| {
            if s.trim().is_empty() {
                "nobody".to_string()
            } else {
                s.to_string()
            }
        };
        if self.place.section == Proposal::ROOT {
            return match &self.kind {
                ChangeKind::Added => format!("Proposed for the playbook: {subject}"),
                ChangeKind::Deleted => format!("Proposal for the playbook withdrawn: {subject}"),
                _ => format!("Proposal for the playbook changed: {subject}"),
            };
        }
        match &self.kind {
            ChangeKind::Added => format!("{noun} added: {subject}"),
            ChangeKind::Changed { fields } => {
                format!("{noun} changed ({}): {subject}", fields.join(", "))
            }
            ChangeKind::Deleted => format!("{noun} deleted: {subject}"),
            ChangeKind::StepDone => format!("Done: {subject}"),
            ChangeKind::StepReopened => format!("Reopened: {subject}"),
            ChangeKind::StepReassigned { from, to } => format!(
                "Handed from {} to {}: {subject}",
                or_nobody(from),
                or_nobody(to)
            ),
            ChangeKind::StepDueChanged { to: Some(to), .. } => {
                format!("Now due {}: {subject}", time(to))
            }
            ChangeKind::StepDueChanged { to: None, .. } => format!("No due time now: {subject}"),
            ChangeKind::StepOverdue { due } => format!("Late since {}: {subject}", time(due)),
            ChangeKind::RoleHandedOff { role, from, to } => match (from, to) {
                (Some(from), Some(to)) => format!("{to} took over as {} from {from}", role.label()),
                (None, Some(to)) => format!("{to} took on the role of {}", role.label()),
                (Some(from), None) => format!("{from} stepped down as {}", role.label()),
                (None, None) => format!("{} unchanged", role.label()),
            },
            ChangeKind::TitleChanged { from, to } => {
                format!("Title changed from “{}” to “{}”", short(from), short(to))
            }
            ChangeKind::StatusChanged { from, to } => {
                format!("Status changed from {} to {}", from.label(), to.label())
            }
            ChangeKind::ClassificationChanged { from, to } => {
                format!("Classification changed from “{from}” to “{to}”")
            }
            ChangeKind::TlpChanged { from, to } => {
                format!("TLP changed from {} to {}", from.as_str(), to.as_str())
            }
            ChangeKind::ZoneChanged { from, to } => {
                format!("Display zone changed from {from} to {to}")
            }
            ChangeKind::SectionTlpChanged { section, to, .. } => match to {
                Some(tlp) => format!("{} marked TLP:{}", section.title(), tlp.as_str()),
                None => format!("{} marked with the incident's TLP again", section.title()),
            },
            ChangeKind::MetaChanged { key, to, .. } if key == "drill" => match to.as_str() {
                "yes" => "Marked as a drill".to_string(),
                _ => "Marked as a real incident, not a drill".to_string(),
            },
            ChangeKind::MetaChanged { key, to, .. } if key == "severity" => {
                match crate::Severity::from_key(to) {
                    Some(severity) => format!("Severity set to {}", severity.label()),
                    None => "Severity cleared".to_string(),
                }
            }
            ChangeKind::MetaChanged { key, to, .. } if key == "incident_type" => {
                match crate::IncidentType::from_key(to) {
                    Some(kind) => format!("Incident type set to {}", kind.label()),
                    None => "Incident type cleared".to_string(),
                }
            }
            ChangeKind::MetaChanged { key, to, .. } if key == "playbook_name" => {
                format!("Started from the {} playbook", short(to))
            }
            ChangeKind::MetaChanged { key, from, to } => {
                format!("{key} changed from “{}” to “{}”", short(from), short(to))
            }
            ChangeKind::ProseChanged { section } => format!("{} changed", section.title()),
            ChangeKind::Answered { question } => format!("Answered: {}", question.text),
            ChangeKind::AnswerChanged { question } => {
                format!("Answer changed: {}", question.text)
            }
        }
    }
}

/// Cuts a subject to one short line.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(80).collect();
    if out.len() < line.len() || text.trim().lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

/// Everything that differs between `before` and `after`, entry by entry: the incident's
/// fields first, then roles, next steps, the timeline, indicators, prose sections and
/// questions, each in the page's order (deleted entries after the others).
pub fn changes(before: &Incident, after: &Incident) -> Vec<Change> {
    let mut out = Vec::new();
    meta_changes(before, after, &mut out);
    for role in Role::ALL {
        let name = |inc: &Incident| inc.role_holder(role).map(|h| h.name);
        let (from, to) = (name(before), name(after));
        if from != to {
            out.push(Change {
                place: Place::entry(RoleHolder::ROOT, role.key()),
                kind: ChangeKind::RoleHandedOff { role, from, to },
                subject: role.label().to_string(),
            });
        }
    }
    entry_changes::<NextStep>(before, after, |s| s.title.clone(), step_kinds, &mut out);
    entry_changes::<TimelineEvent>(before, after, |e| e.what.clone(), generic, &mut out);
    entry_changes::<Indicator>(before, after, |i| i.value.clone(), generic, &mut out);
    for section in ProseSection::ALL {
        if before.section_text(section) != after.section_text(section) {
            out.push(Change {
                place: Place::prose(section),
                kind: ChangeKind::ProseChanged { section },
                subject: String::new(),
            });
        }
    }
    for question in QUESTIONS.into_iter().chain(PLAYBOOK_REVIEW) {
        let (was, is) = (before.answer(question), after.answer(question));
        if was == is || (was.status == is.status && was.answer == is.answer) {
            continue;
        }
        let unanswered = was.status == crate::AnswerStatus::Unknown && was.answer.is_empty();
        out.push(Change {
            place: Place::entry(question.list.root(), question.key),
            kind: if unanswered {
                ChangeKind::Answered { question }
            } else {
                ChangeKind::AnswerChanged { question }
            },
            subject: question.text.to_string(),
        });
    }
    entry_changes::<Proposal>(before, after, |p| p.text.clone(), generic, &mut out);
    out
}

/// The next steps of `after` that turned late between `since` and `now` (RFC 3339 UTC): due
/// in that span and not done.
pub fn now_overdue(after: &Incident, since: &str, now: &str) -> Vec<Change> {
    let (Some(since), Some(now)) = (when::parse_stored(since), when::parse_stored(now)) else {
        return Vec::new();
    };
    after
        .next_steps()
        .into_iter()
        .filter(|(_, step)| step.status != StepStatus::Done)
        .filter_map(|(id, step)| {
            let due = step.due.clone()?;
            let at = when::parse_stored(&due)?;
            (since < at && at <= now).then(|| Change {
                place: Place::entry(NextStep::ROOT, &id),
                kind: ChangeKind::StepOverdue { due },
                subject: step.title,
            })
        })
        .collect()
}

/// Fields of the incident itself: title, status, classification, TLP, zone, the prose
/// sections' own levels, and any other stored field by its key.
fn meta_changes(before: &Incident, after: &Incident, out: &mut Vec<Change>) {
    let (old, new) = (meta_values(before), meta_values(after));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    crate::sort::sort_by_key(&mut keys, |k| meta_rank(k));
    keys.dedup();
    for key in keys {
        let (from, to) = (
            old.get(key).cloned().unwrap_or_default(),
            new.get(key).cloned().unwrap_or_default(),
        );
        // The playbook's id and version go with its name, said once.
        if from == to || matches!(key.as_str(), "schema" | "playbook_id" | "playbook_version") {
            continue;
        }
        let kind = match key.as_str() {
            "title" => ChangeKind::TitleChanged { from, to },
            "status" => ChangeKind::StatusChanged {
                from: before.status(),
                to: after.status(),
            },
            "classification" => ChangeKind::ClassificationChanged { from, to },
            "tlp" => ChangeKind::TlpChanged {
                from: before.tlp(),
                to: after.tlp(),
            },
            "zone" => ChangeKind::ZoneChanged {
                from: before.display_zone(),
                to: after.display_zone(),
            },
            other => match other.strip_prefix("tlp.").and_then(ProseSection::from_key) {
                Some(section) => ChangeKind::SectionTlpChanged {
                    section,
                    from: before.section_tlp(section),
                    to: after.section_tlp(section),
                },
                None => ChangeKind::MetaChanged {
                    key: other.to_string(),
                    from,
                    to,
                },
            },
        };
        // Two stored values may read the same (an unknown level reads as AMBER).
        let same = match &kind {
            ChangeKind::StatusChanged { from, to } => from == to,
            ChangeKind::TlpChanged { from, to } => from == to,
            ChangeKind::ZoneChanged { from, to } => from == to,
            ChangeKind::SectionTlpChanged { from, to, .. } => from == to,
            _ => false,
        };
        if !same {
            out.push(Change {
                place: Place::entry(META, key),
                kind,
                subject: String::new(),
            });
        }
    }
}

/// The order the incident's own fields are listed in.
fn meta_rank(key: &str) -> (usize, &str) {
    let known = ["title", "status", "classification", "tlp", "zone"];
    (
        known.iter().position(|k| *k == key).unwrap_or(known.len()),
        key,
    )
}

fn meta_values(incident: &Incident) -> HashMap<String, String> {
    let txn = incident.doc.transact();
    incident
        .root_map(META)
        .iter(&txn)
        .filter_map(|(key, value)| match value {
            Out::Any(Any::String(s)) => Some((key.to_string(), s.to_string())),
            Out::Any(other) => Some((key.to_string(), other.to_string())),
            _ => None,
        })
        .collect()
}

/// The kinds of change for an entry present in both states; `fields` are the labels of the
/// stored fields that differ.
type Kinds<E> = fn(&E, &E, Vec<(&str, String)>) -> Vec<ChangeKind>;

/// Stored fields that differ: `(key, label)`.
type Differing = Vec<(&'static str, String)>;

fn generic<E>(_: &E, _: &E, fields: Vec<(&str, String)>) -> Vec<ChangeKind> {
    vec![ChangeKind::Changed {
        fields: fields.into_iter().map(|(_, label)| label).collect(),
    }]
}

fn step_kinds(old: &NextStep, new: &NextStep, fields: Vec<(&str, String)>) -> Vec<ChangeKind> {
    let mut kinds = Vec::new();
    let was_done = old.status == StepStatus::Done;
    let is_done = new.status == StepStatus::Done;
    if !was_done && is_done {
        kinds.push(ChangeKind::StepDone);
    } else if was_done && !is_done {
        kinds.push(ChangeKind::StepReopened);
    }
    if old.owner.trim() != new.owner.trim() {
        kinds.push(ChangeKind::StepReassigned {
            from: old.owner.clone(),
            to: new.owner.clone(),
        });
    }
    if old.due != new.due {
        kinds.push(ChangeKind::StepDueChanged {
            from: old.due.clone(),
            to: new.due.clone(),
        });
    }
    let rest: Vec<String> = fields
        .into_iter()
        .filter(|(key, _)| match *key {
            "owner" | "due" => false,
            "status" => was_done == is_done,
            _ => true,
        })
        .map(|(_, label)| label)
        .collect();
    if !rest.is_empty() {
        kinds.push(ChangeKind::Changed { fields: rest });
    }
    kinds
}

/// A stored field's value, if it is a plain value.
fn value<T: ReadTxn>(entry: &MapRef, txn: &T, key: &str) -> Option<Any> {
    match entry.get(txn, key)? {
        Out::Any(any) => Some(any),
        _ => None,
    }
}

/// The stored fields that differ between two versions of an entry: `(key, label)`, the
/// described fields first (in `E::FIELDS` order), then any field this build does not know
/// (key "", labelled by its stored key).
fn differing<E: Entry, A: ReadTxn, B: ReadTxn>(
    old: &MapRef,
    old_txn: &A,
    new: &MapRef,
    new_txn: &B,
) -> Differing {
    let mut out: Differing = E::FIELDS
        .iter()
        .filter(|f| value(old, old_txn, f.key) != value(new, new_txn, f.key))
        .map(|f| (f.key, f.label.to_string()))
        .collect();
    let described = |key: &str| E::FIELDS.iter().any(|f| f.key == key);
    let mut unknown: Vec<String> = old
        .keys(old_txn)
        .chain(new.keys(new_txn))
        .filter(|key| !described(key))
        .map(str::to_string)
        .collect();
    crate::sort::sort(&mut unknown);
    unknown.dedup();
    for key in unknown {
        if value(old, old_txn, &key) != value(new, new_txn, &key) {
            out.push(("", key));
        }
    }
    out
}

/// Compares one collection entry by entry. Entries are read whole only where they differ,
/// so two large states that differ in a few entries compare quickly.
fn entry_changes<E: Entry>(
    before: &Incident,
    after: &Incident,
    subject: impl Fn(&E) -> String,
    kinds: Kinds<E>,
    out: &mut Vec<Change>,
) {
    let (old_txn, new_txn) = (before.doc.transact(), after.doc.transact());
    let (old_root, new_root) = (before.collection::<E>(), after.collection::<E>());
    // Entries added or changed, as they are now; for the changed, as they were and which
    // fields differ.
    let mut present: Vec<(String, E)> = Vec::new();
    let mut was: HashMap<String, (E, Differing)> = HashMap::new();
    for (id, new) in entries::all(new_root, &new_txn) {
        match entries::get(old_root, &old_txn, &id) {
            None => present.push((id, entries::read::<E, _>(&new, &new_txn))),
            Some(old) => {
                let fields = differing::<E, _, _>(&old, &old_txn, &new, &new_txn);
                if !fields.is_empty() {
                    let old = entries::read::<E, _>(&old, &old_txn);
                    was.insert(id.clone(), (old, fields));
                    present.push((id, entries::read::<E, _>(&new, &new_txn)));
                }
            }
        }
    }
    E::sort(&mut present);
    for (id, entry) in present {
        let place = Place::entry(E::ROOT, &id);
        match was.remove(&id) {
            None => out.push(Change {
                place,
                kind: ChangeKind::Added,
                subject: subject(&entry),
            }),
            Some((old, fields)) => {
                for kind in kinds(&old, &entry, fields) {
                    out.push(Change {
                        place: place.clone(),
                        kind,
                        subject: subject(&entry),
                    });
                }
            }
        }
    }
    let mut gone: Vec<(String, E)> = entries::all(old_root, &old_txn)
        .into_iter()
        .filter(|(id, _)| entries::get(new_root, &new_txn, id).is_none())
        .map(|(id, old)| (id, entries::read::<E, _>(&old, &old_txn)))
        .collect();
    E::sort(&mut gone);
    for (id, entry) in gone {
        out.push(Change {
            place: Place::entry(E::ROOT, &id),
            kind: ChangeKind::Deleted,
            subject: subject(&entry),
        });
    }
}
