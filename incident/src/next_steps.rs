//! Next steps: what someone said they would do, who, and by when.

use yrs::{Any, Map, Transact};

use crate::entries;
use crate::Incident;

/// Where a next step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum StepStatus {
    #[default]
    Open,
    Doing,
    Done,
}

impl StepStatus {
    pub const ALL: [StepStatus; 3] = [StepStatus::Open, StepStatus::Doing, StepStatus::Done];

    pub fn key(self) -> &'static str {
        match self {
            StepStatus::Open => "open",
            StepStatus::Doing => "doing",
            StepStatus::Done => "done",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Open => "Open",
            StepStatus::Doing => "Doing",
            StepStatus::Done => "Done",
        }
    }

    pub fn from_key(key: &str) -> Option<StepStatus> {
        StepStatus::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// One next step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NextStep {
    pub title: String,
    /// The display name of whoever took it on ("" while nobody has).
    pub owner: String,
    pub status: StepStatus,
    /// When it is due (RFC 3339 UTC), if anyone said.
    pub due: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl NextStep {
    /// Due before `now` (RFC 3339 UTC) and not done.
    pub fn is_overdue(&self, now: &str) -> bool {
        self.status != StepStatus::Done
            && self.due.as_deref().is_some_and(|due| {
                match (
                    crate::when::parse_stored(due),
                    crate::when::parse_stored(now),
                ) {
                    (Some(due), Some(now)) => due < now,
                    _ => false,
                }
            })
    }

    /// Whether `name` owns it (names compare without case or surrounding spaces).
    pub fn is_owned_by(&self, name: &str) -> bool {
        let name = name.trim();
        !name.is_empty() && self.owner.trim().to_lowercase() == name.to_lowercase()
    }
}

/// A field of a next step that can be changed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepField {
    Title,
    Owner,
    /// RFC 3339 UTC, or "" for no due time.
    Due,
}

impl StepField {
    fn key(self) -> &'static str {
        match self {
            StepField::Title => "title",
            StepField::Owner => "owner",
            StepField::Due => "due",
        }
    }
}

fn read(entry: &yrs::MapRef, txn: &impl yrs::ReadTxn) -> NextStep {
    let text = |key| entries::string(entry, txn, key);
    NextStep {
        title: text("title").unwrap_or_default(),
        owner: text("owner").unwrap_or_default(),
        status: text("status")
            .and_then(|s| StepStatus::from_key(&s))
            .unwrap_or_default(),
        due: text("due").filter(|d| !d.is_empty()),
        created_by: text("created_by").unwrap_or_default(),
        created_at: text("created_at").unwrap_or_default(),
    }
}

impl Incident {
    /// Adds a next step under a caller-chosen id (see [`crate::new_id`]).
    pub fn add_next_step(&self, id: &str, step: &NextStep) {
        let mut txn = self.doc.transact_mut();
        entries::insert(
            &self.next_steps,
            &mut txn,
            id,
            vec![
                ("title", Any::from(step.title.as_str())),
                ("owner", Any::from(step.owner.as_str())),
                ("status", Any::from(step.status.key())),
                ("due", Any::from(step.due.as_deref().unwrap_or(""))),
                ("created_by", Any::from(step.created_by.as_str())),
                ("created_at", Any::from(step.created_at.as_str())),
            ],
        );
    }

    /// Every next step, in display order: not done before done, then by due time (steps
    /// with no due time last), then by when they were added.
    pub fn next_steps(&self) -> Vec<(String, NextStep)> {
        let txn = self.doc.transact();
        let mut steps: Vec<(String, NextStep)> = entries::all(&self.next_steps, &txn)
            .into_iter()
            .map(|(id, entry)| (id, read(&entry, &txn)))
            .collect();
        steps.sort_by(|(a_id, a), (b_id, b)| {
            let key = |s: &NextStep| {
                (
                    s.status == StepStatus::Done,
                    s.due.is_none(),
                    s.due.clone(),
                    s.created_at.clone(),
                )
            };
            (key(a), a_id).cmp(&(key(b), b_id))
        });
        steps
    }

    /// Changes a text field of a next step. False when it no longer exists.
    pub fn set_next_step_field(&self, id: &str, field: StepField, value: &str) -> bool {
        let mut txn = self.doc.transact_mut();
        entries::set_field(
            &self.next_steps,
            &mut txn,
            id,
            field.key(),
            Any::from(value),
        )
    }

    /// Moves a next step to `status`. False when it no longer exists.
    pub fn set_next_step_status(&self, id: &str, status: StepStatus) -> bool {
        let mut txn = self.doc.transact_mut();
        entries::set_field(
            &self.next_steps,
            &mut txn,
            id,
            "status",
            Any::from(status.key()),
        )
    }

    /// Removes a next step. Removing one that is already gone is not an error.
    pub fn remove_next_step(&self, id: &str) {
        let mut txn = self.doc.transact_mut();
        self.next_steps.remove(&mut txn, id);
    }
}
