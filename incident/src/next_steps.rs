//! Next steps: what someone said they would do, who, and by when.

use yrs::{Any, ReadTxn};

use crate::entries::{editable_fields, Entry, FieldLabel, Fields, Stored};
use crate::{Incident, Role};

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
    /// The owner's invite id (the relay's public id of their grant) when they were picked
    /// from the people invited to the incident; "" for a name typed by hand (someone
    /// outside Firebreak) and for steps written before.
    pub owner_invite: String,
    /// The role that owns it, for a step that follows a role rather than a person (a
    /// playbook's steps): [`Incident::next_steps`] shows whoever holds the role then, so the
    /// step follows every hand-off. Giving the step to a person clears it.
    pub owner_role: Option<Role>,
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

    /// Whole minutes until it is due (rounded up, so "due in 1 min" until the due time
    /// passes), when it is due within `within_minutes` of `now` and not done; `None` when it
    /// is done, has no due time, is late, or is due later.
    pub fn due_soon(&self, now: &str, within_minutes: i64) -> Option<i64> {
        if self.status == StepStatus::Done {
            return None;
        }
        let due = crate::when::parse_stored(self.due.as_deref()?)?;
        let now = crate::when::parse_stored(now)?;
        let left_ms = (due - now).num_milliseconds();
        if left_ms < 0 || left_ms > within_minutes * 60_000 {
            return None;
        }
        Some((left_ms + 59_999) / 60_000)
    }

    /// Whether `name` owns it (names compare without case or surrounding spaces).
    pub fn is_owned_by(&self, name: &str) -> bool {
        let name = name.trim();
        !name.is_empty() && self.owner.trim().to_lowercase() == name.to_lowercase()
    }

    /// Who it is shown as owned by: the owner's name, with the role for a step that follows
    /// a role ("Ana (Comms liaison)", or "Comms liaison (nobody yet)" while nobody holds
    /// it); "" when nobody has taken it on.
    pub fn shown_owner(&self) -> String {
        match (self.owner_role, self.owner.trim()) {
            (Some(role), "") => format!("{} (nobody yet)", role.label()),
            (Some(role), name) => format!("{name} ({})", role.label()),
            (None, name) => name.to_string(),
        }
    }

    /// Whether the person holding invite `invite` (and showing as `name`) owns it: a step
    /// given to an invited person follows their invite, whatever name either shows; a step
    /// with only a name (typed by hand, or written before) matches by name.
    pub fn is_owned_by_person(&self, name: &str, invite: &str) -> bool {
        if self.owner_invite.is_empty() || invite.is_empty() {
            self.is_owned_by(name)
        } else {
            self.owner_invite == invite
        }
    }
}

editable_fields! {
    /// A field of a next step that can be changed on its own.
    pub enum StepField of NextStep {
        Title => "title",
        Owner => "owner",
        /// RFC 3339 UTC, or "" for no due time.
        Due => "due",
    }
}

impl Entry for NextStep {
    const ROOT: &'static str = "next_steps";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("title", "Next step"),
        FieldLabel::new("owner", "Owner"),
        FieldLabel::new("owner_invite", "Owner's invite"),
        FieldLabel::new("owner_role", "Owner's role"),
        FieldLabel::new("status", "Status"),
        FieldLabel::new("due", "Due"),
        FieldLabel::new("created_by", "Added by"),
        FieldLabel::new("created_at", "Added at"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("title", &self.title)
            .text("owner", &self.owner)
            .text("owner_invite", &self.owner_invite)
            .optional_text("owner_role", self.owner_role.map(Role::key))
            .text("status", self.status.key())
            .text("due", self.due.as_deref().unwrap_or(""))
            .text("created_by", &self.created_by)
            .text("created_at", &self.created_at)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> NextStep {
        NextStep {
            title: stored.text("title"),
            owner: stored.text("owner"),
            owner_invite: stored.text("owner_invite"),
            owner_role: stored
                .optional_text("owner_role")
                .and_then(|key| Role::from_key(&key)),
            status: StepStatus::from_key(&stored.text("status")).unwrap_or_default(),
            due: stored.optional_text("due"),
            created_by: stored.text("created_by"),
            created_at: stored.text("created_at"),
        }
    }

    /// Not done before done, then by due time (steps with no due time last), then by when
    /// they were added.
    fn sort(steps: &mut [(String, Self)]) {
        crate::sort::sort_by(steps, |(a_id, a), (b_id, b)| {
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
    }
}

impl Incident {
    /// Adds a next step under a caller-chosen id (see [`crate::new_id`]).
    pub fn add_next_step(&self, id: &str, step: &NextStep) {
        self.add_entry(id, step);
    }

    /// Every next step, in display order: not done before done, then by due time (steps
    /// with no due time last), then by when they were added. A step owned by a role shows
    /// whoever holds the role now (their name and invite; none while nobody holds it).
    pub fn next_steps(&self) -> Vec<(String, NextStep)> {
        let mut steps: Vec<(String, NextStep)> = self.entries();
        for (_, step) in &mut steps {
            if let Some(role) = step.owner_role {
                let holder = self.role_holder(role);
                step.owner = holder.as_ref().map(|h| h.name.clone()).unwrap_or_default();
                step.owner_invite = holder.map(|h| h.invite).unwrap_or_default();
            }
        }
        steps
    }

    /// Changes a text field of a next step; a new owner typed by hand takes the step from
    /// its role. False when it no longer exists.
    pub fn set_next_step_field(&self, id: &str, field: StepField, value: &str) -> bool {
        if field == StepField::Owner {
            let mut values = vec![("owner", Any::from(value))];
            values.extend(self.role_cleared(id));
            return self.set_values::<NextStep>(id, values);
        }
        self.set_field(id, field, value)
    }

    /// Gives a next step to `name`, picked from the invited people as `invite` ("" for a
    /// name typed by hand), taking it from its role if it had one; all change in one step.
    /// False when it no longer exists.
    pub fn set_next_step_owner(&self, id: &str, name: &str, invite: &str) -> bool {
        let mut values = vec![
            ("owner", Any::from(name.trim())),
            ("owner_invite", Any::from(invite)),
        ];
        values.extend(self.role_cleared(id));
        self.set_values::<NextStep>(id, values)
    }

    /// The stored value that takes step `id` from its role, if it has one (a step that
    /// never had a role is left without the key).
    fn role_cleared(&self, id: &str) -> Option<(&'static str, Any)> {
        self.entry::<NextStep>(id)
            .filter(|step| step.owner_role.is_some())
            .map(|_| ("owner_role", Any::from("")))
    }

    /// Gives a next step to a role: it then shows whoever holds the role, and follows every
    /// hand-off. False when it no longer exists.
    pub fn set_next_step_role(&self, id: &str, role: Role) -> bool {
        self.set_values::<NextStep>(
            id,
            [
                ("owner", Any::from("")),
                ("owner_invite", Any::from("")),
                ("owner_role", Any::from(role.key())),
            ],
        )
    }

    /// Moves a next step to `status`. False when it no longer exists.
    pub fn set_next_step_status(&self, id: &str, status: StepStatus) -> bool {
        self.set_values::<NextStep>(id, [("status", Any::from(status.key()))])
    }

    /// Removes a next step. Removing one that is already gone is not an error.
    pub fn remove_next_step(&self, id: &str) {
        self.remove_entry::<NextStep>(id);
    }
}
