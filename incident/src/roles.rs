//! The people running the response. Anyone may claim a role, and the commander or an owner
//! may give one to an invited person; every hand-off is written on the timeline in the same
//! change, so the record of who was in charge when is never lost.

use yrs::{ReadTxn, Transact};

use crate::entries::{self, Entry, FieldLabel, Fields, Stored};
use crate::{Incident, TimelineEvent};

/// A role in the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Owns the document and keeps it true.
    Commander,
    Deputy,
    Scribe,
    CommsLiaison,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Commander,
        Role::Deputy,
        Role::Scribe,
        Role::CommsLiaison,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Deputy => "deputy",
            Role::Scribe => "scribe",
            Role::CommsLiaison => "comms",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Commander => "Incident commander",
            Role::Deputy => "Deputy",
            Role::Scribe => "Scribe",
            Role::CommsLiaison => "Comms liaison",
        }
    }

    /// What the role is for, in one line.
    pub fn duty(self) -> &'static str {
        match self {
            Role::Commander => "Runs the response and keeps this document true.",
            Role::Deputy => "Stands in for the commander and chases next steps.",
            Role::Scribe => "Keeps the timeline complete as things happen.",
            Role::CommsLiaison => "Talks to PR, HR, Legal and anyone outside the team.",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// Who holds a role and since when. Stored under the role's key; a name of "" means the
/// role was given up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleHolder {
    pub name: String,
    /// The holder's invite id when the role was given to an invited person; "" for a claim
    /// (the holder is known by name).
    pub invite: String,
    pub since: String,
}

impl Entry for RoleHolder {
    const ROOT: &'static str = "roles";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("holder", "Held by"),
        FieldLabel::new("invite", "Holder's invite"),
        FieldLabel::new("since", "Since"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("holder", &self.name)
            .text("invite", &self.invite)
            .text("since", &self.since)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> RoleHolder {
        RoleHolder {
            name: stored.text("holder"),
            invite: stored.text("invite"),
            since: stored.text("since"),
        }
    }
}

impl Incident {
    /// Who holds `role`, if anyone.
    pub fn role_holder(&self, role: Role) -> Option<RoleHolder> {
        self.entry::<RoleHolder>(role.key())
            .filter(|holder| !holder.name.trim().is_empty())
    }

    /// `name` takes `role` at `now`; the hand-off goes on the timeline as event `event_id`.
    /// Claiming a role one already holds changes nothing. Returns the previous holder.
    pub fn claim_role(
        &self,
        role: Role,
        name: &str,
        now: &str,
        event_id: &str,
    ) -> Option<RoleHolder> {
        let name = name.trim();
        let previous = self.role_holder(role);
        if name.is_empty() || previous.as_ref().is_some_and(|p| p.name == name) {
            return previous;
        }
        let what = match &previous {
            Some(p) => format!("{name} took over as {} from {}", role.label(), p.name),
            None => format!("{name} took on the role of {}", role.label()),
        };
        self.record_role_change(role, name, "", name, now, event_id, what);
        previous
    }

    /// `by` (the commander, or an owner) gives `role` to the invited person `name`, whose
    /// invite id is `invite`, at `now`; the hand-off goes on the timeline as event
    /// `event_id`, written by `by`. Giving it to whoever holds it already changes nothing.
    /// Returns the previous holder.
    pub fn assign_role(
        &self,
        role: Role,
        name: &str,
        invite: &str,
        by: &str,
        now: &str,
        event_id: &str,
    ) -> Option<RoleHolder> {
        let (name, by) = (name.trim(), by.trim());
        let previous = self.role_holder(role);
        let same = |p: &RoleHolder| p.name == name && p.invite == invite;
        if name.is_empty() || previous.as_ref().is_some_and(same) {
            return previous;
        }
        let what = match &previous {
            Some(p) => format!(
                "{by} gave the role of {} to {name} (was {})",
                role.label(),
                p.name
            ),
            None => format!("{by} gave the role of {} to {name}", role.label()),
        };
        self.record_role_change(role, name, invite, by, now, event_id, what);
        previous
    }

    /// The holder gives `role` up; recorded on the timeline as event `event_id`.
    pub fn release_role(&self, role: Role, now: &str, event_id: &str) {
        if let Some(previous) = self.role_holder(role) {
            let what = format!("{} stepped down as {}", previous.name, role.label());
            self.record_role_change(role, "", "", &previous.name, now, event_id, what);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record_role_change(
        &self,
        role: Role,
        name: &str,
        invite: &str,
        author: &str,
        now: &str,
        event_id: &str,
        what: String,
    ) {
        let author = author.to_string();
        let event = TimelineEvent {
            occurred_at: now.to_string(),
            what,
            source: "Roles".to_string(),
            author,
            ..Default::default()
        };
        let holder = RoleHolder {
            name: name.to_string(),
            invite: invite.to_string(),
            since: now.to_string(),
        };
        let (roles, timeline) = (
            self.collection::<RoleHolder>(),
            self.collection::<TimelineEvent>(),
        );
        let mut txn = self.doc.transact_mut();
        // One entry per role, replaced whole: a claim is one decision, not two fields.
        entries::insert(roles, &mut txn, role.key(), holder.to_fields());
        entries::insert(timeline, &mut txn, event_id, event.to_fields());
    }
}
