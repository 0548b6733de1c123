//! The people running the response. Anyone may claim a role; every hand-off is written on
//! the timeline in the same change, so the record of who was in charge when is never lost.

use yrs::{Any, Transact};

use crate::entries;
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

/// Who holds a role and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleHolder {
    pub name: String,
    pub since: String,
}

impl Incident {
    /// Who holds `role`, if anyone.
    pub fn role_holder(&self, role: Role) -> Option<RoleHolder> {
        let txn = self.doc.transact();
        let entry = entries::get(&self.roles, &txn, role.key())?;
        let name = entries::string(&entry, &txn, "holder").filter(|n| !n.trim().is_empty())?;
        Some(RoleHolder {
            name,
            since: entries::string(&entry, &txn, "since").unwrap_or_default(),
        })
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
        self.record_role_change(role, name, now, event_id, what);
        previous
    }

    /// The holder gives `role` up; recorded on the timeline as event `event_id`.
    pub fn release_role(&self, role: Role, now: &str, event_id: &str) {
        if let Some(previous) = self.role_holder(role) {
            let what = format!("{} stepped down as {}", previous.name, role.label());
            self.record_role_change(role, "", now, event_id, what);
        }
    }

    fn record_role_change(&self, role: Role, name: &str, now: &str, event_id: &str, what: String) {
        let author = if name.is_empty() {
            self.role_holder(role).map(|p| p.name).unwrap_or_default()
        } else {
            name.to_string()
        };
        let event = TimelineEvent {
            occurred_at: now.to_string(),
            what,
            source: "Roles".to_string(),
            author,
            ..Default::default()
        };
        let mut txn = self.doc.transact_mut();
        // One entry per role, replaced whole: a claim is one decision, not two fields.
        entries::insert(
            &self.roles,
            &mut txn,
            role.key(),
            vec![("holder", Any::from(name)), ("since", Any::from(now))],
        );
        entries::insert(&self.timeline, &mut txn, event_id, event.to_fields());
    }
}
