//! Starting an incident from a playbook, and what the incident keeps of it.
//!
//! [`Playbook::prefill`] writes what the playbook knows into a new incident: the summary
//! skeleton, classification and TLP, the incident type, next steps owned by roles (due
//! their offset after "now"), the extra questions, the comms drafts (into Comms), the useful
//! links and accepted lessons (into Background), and which playbook and version it started
//! from (`meta.playbook_id`, `playbook_name`, `playbook_version`). It copies content only: a
//! playbook holds no people or invites, and the steps it writes are owned by roles, resolved
//! to whoever holds the role when shown ([`Incident::next_steps`]).
//!
//! Extra questions live in the incident's `questions` map beside the template's, as flat keys
//! `extra-{id}.text`, `.status`, `.answer`, `.by`, so two first answers never overwrite each
//! other, as for the template's own questions.

use yrs::{Any, Map, Out, Transact};

use super::{whole_number, Playbook, PlaybookContents};
use crate::{Answer, AnswerStatus, Incident, NextStep, ProseSection, QuestionList, StepStatus};

const PLAYBOOK_ID: &str = "playbook_id";
const PLAYBOOK_NAME: &str = "playbook_name";
const PLAYBOOK_VERSION: &str = "playbook_version";

/// The prefix of an extra question's keys in the `questions` map.
const EXTRA: &str = "extra-";

/// Which playbook, and which version of it, an incident started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedFrom {
    pub id: String,
    pub name: String,
    pub version: u64,
}

impl StartedFrom {
    /// "Started from the Ransomware playbook (v1)".
    pub fn describe(&self) -> String {
        format!(
            "Started from the {} playbook (v{})",
            self.name.trim(),
            self.version
        )
    }
}

/// A question a playbook added to an incident, with its answer so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraQuestion {
    pub id: String,
    pub text: String,
    pub answer: Answer,
}

impl Playbook {
    /// Writes what the playbook knows into `incident` (a new one: text is added after
    /// whatever its sections already hold), as `by` at `now`; `fresh_id` gives each next
    /// step its id (see [`crate::new_id`]). Records the playbook and its version in the
    /// incident.
    pub fn prefill(
        &self,
        incident: &Incident,
        now: &str,
        by: &str,
        fresh_id: &mut dyn FnMut() -> String,
    ) {
        let from = StartedFrom {
            id: self.id(),
            name: self.name(),
            version: self.version(),
        };
        self.contents().prefill(incident, &from, now, by, fresh_id);
    }
}

impl PlaybookContents {
    /// What [`Playbook::prefill`] writes, from the playbook's contents as plain data: the
    /// app starts from a bundled starter this way without building its document.
    /// `from` is recorded in the incident as the playbook and version it started from.
    pub fn prefill(
        &self,
        incident: &Incident,
        from: &StartedFrom,
        now: &str,
        by: &str,
        fresh_id: &mut dyn FnMut() -> String,
    ) {
        let c = self;
        incident.set_classification(&c.classification);
        incident.set_tlp(c.tlp);
        if c.incident_type.is_some() {
            incident.set_incident_type(c.incident_type);
        }
        append(incident, ProseSection::Summary, &c.summary);

        for (_, step) in &c.steps {
            let due = step
                .due_after_minutes
                .and_then(|minutes| minutes_after(now, minutes));
            incident.add_next_step(
                &fresh_id(),
                &NextStep {
                    title: step.title.clone(),
                    owner_role: step.role,
                    status: StepStatus::Open,
                    due,
                    created_by: by.to_string(),
                    created_at: now.to_string(),
                    ..Default::default()
                },
            );
        }
        for (id, question) in &c.questions {
            incident.add_extra_question(id, &question.text);
        }

        if !c.comms.is_empty() {
            let mut comms = format!(
                "Drafts from the {} playbook: adapt each before it goes out, and note who \
                 signed it off.\n",
                c.name
            );
            for (_, draft) in &c.comms {
                comms.push_str(&format!(
                    "\nFor {}:\n{}\n",
                    draft.audience,
                    draft.text.trim_end()
                ));
            }
            append(incident, ProseSection::Comms, &comms);
        }
        let mut background = String::new();
        if !c.links.is_empty() {
            background.push_str(&format!("Useful links (from the {} playbook):\n", c.name));
            for (_, link) in &c.links {
                background.push_str(&format!("- {}: {}\n", link.title, link.url));
            }
        }
        if !c.lessons.is_empty() {
            if !background.is_empty() {
                background.push('\n');
            }
            background.push_str("Lessons from earlier incidents:\n");
            for (_, lesson) in &c.lessons {
                background.push_str(&format!(
                    "- {} (from \"{}\")\n",
                    lesson.text.trim(),
                    lesson.from.incident_title
                ));
            }
        }
        append(incident, ProseSection::Background, &background);

        let meta = incident.meta();
        let mut txn = incident.doc.transact_mut();
        meta.insert(&mut txn, PLAYBOOK_ID, from.id.as_str());
        meta.insert(&mut txn, PLAYBOOK_NAME, from.name.as_str());
        meta.insert(&mut txn, PLAYBOOK_VERSION, Any::from(from.version as f64));
    }
}

impl Playbook {
    /// A new incident titled `title`, created at `now` by `by` and prefilled from the
    /// playbook ([`Playbook::prefill`]).
    pub fn start_incident(
        &self,
        title: &str,
        now: &str,
        by: &str,
        fresh_id: &mut dyn FnMut() -> String,
    ) -> Incident {
        let incident = Incident::create(title, now);
        self.prefill(&incident, now, by, fresh_id);
        incident
    }
}

/// Adds `text` after what the section holds (a blank line between).
fn append(incident: &Incident, section: ProseSection, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    let old = incident.section_text(section);
    let new = if old.trim().is_empty() {
        text.to_string()
    } else {
        format!("{}\n\n{text}", old.trim_end())
    };
    incident.edit_section(section, &new);
}

/// `now` plus `minutes`, stored form; `None` when `now` is unreadable.
fn minutes_after(now: &str, minutes: u32) -> Option<String> {
    let at = crate::when::parse_stored(now)? + chrono::Duration::minutes(i64::from(minutes));
    Some(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// An extra question's id as a key part: no `.` (it ends the id in a flat key) or `/`.
fn key_part(id: &str) -> String {
    id.chars()
        .map(|c| if c == '.' || c == '/' { '-' } else { c })
        .collect()
}

impl Incident {
    /// The playbook (and version) the incident started from, if it started from one.
    pub fn started_from(&self) -> Option<StartedFrom> {
        let id = self.meta_string(PLAYBOOK_ID).filter(|s| !s.is_empty())?;
        let txn = self.doc.transact();
        let version = match self.meta().get(&txn, PLAYBOOK_VERSION) {
            Some(Out::Any(value)) => whole_number(&value).unwrap_or(0),
            _ => 0,
        };
        drop(txn);
        Some(StartedFrom {
            id,
            name: self.meta_string(PLAYBOOK_NAME).unwrap_or_default(),
            version,
        })
    }

    /// Adds a question to answer beside the template's (a playbook's); one already there
    /// under `id` keeps its answer and takes the new text.
    pub fn add_extra_question(&self, id: &str, text: &str) {
        let map = self.root_map(QuestionList::WillBeAsked.root());
        let mut txn = self.doc.transact_mut();
        map.insert(&mut txn, format!("{EXTRA}{}.text", key_part(id)), text);
    }

    /// The extra questions, by id, with their answers.
    pub fn extra_questions(&self) -> Vec<ExtraQuestion> {
        let map = self.root_map(QuestionList::WillBeAsked.root());
        let txn = self.doc.transact();
        let field = |id: &str, name: &str| match map.get(&txn, &format!("{EXTRA}{id}.{name}")) {
            Some(Out::Any(Any::String(s))) => s.to_string(),
            _ => String::new(),
        };
        let mut ids: Vec<String> = map
            .keys(&txn)
            .filter_map(|key| key.strip_prefix(EXTRA)?.strip_suffix(".text"))
            .map(str::to_string)
            .collect();
        crate::sort::sort(&mut ids);
        ids.into_iter()
            .map(|id| ExtraQuestion {
                text: field(&id, "text"),
                answer: Answer {
                    status: AnswerStatus::from_key(&field(&id, "status")).unwrap_or_default(),
                    answer: field(&id, "answer"),
                    by: field(&id, "by"),
                },
                id,
            })
            .collect()
    }

    /// Sets an extra question's status, as `by`.
    pub fn set_extra_answer_status(&self, id: &str, status: AnswerStatus, by: &str) {
        self.set_extra_answer_field(id, "status", status.key(), by);
    }

    /// Sets an extra question's answer, as `by`.
    pub fn set_extra_answer_text(&self, id: &str, answer: &str, by: &str) {
        self.set_extra_answer_field(id, "answer", answer, by);
    }

    fn set_extra_answer_field(&self, id: &str, name: &str, value: &str, by: &str) {
        let id = key_part(id);
        let map = self.root_map(QuestionList::WillBeAsked.root());
        let key = format!("{EXTRA}{id}.{name}");
        let unchanged = matches!(
            map.get(&self.doc.transact(), &key),
            Some(Out::Any(Any::String(s))) if &*s == value
        );
        if unchanged {
            return;
        }
        let mut txn = self.doc.transact_mut();
        map.insert(&mut txn, key, value);
        map.insert(&mut txn, format!("{EXTRA}{id}.by"), by);
    }
}
