//! What a playbook lists: next steps owned by roles, extra questions, comms drafts, useful
//! links and accepted lessons. Each is a collection keyed by id, stored like an incident's
//! (`crate::entries`): every field merges on its own. What was accepted from an incident
//! keeps where it came from ([`FromIncident`]) under the key `{incident id}/{entry id}`, so
//! the same proposal accepted twice, even at once on two devices, is one item.

use yrs::ReadTxn;

use crate::entries::{Entry, FieldLabel, Fields, Stored};
use crate::Role;

/// Where an accepted item came from: the incident, the entry in it, and who accepted it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FromIncident {
    pub incident_id: String,
    /// The incident's title when the item was accepted.
    pub incident_title: String,
    /// The proposal's id in the incident (a next step's id, or the lesson's).
    pub entry_id: String,
    pub accepted_by: String,
    pub accepted_at: String,
}

impl FromIncident {
    /// The key an accepted item is stored under.
    pub fn key(&self) -> String {
        accepted_key(&self.incident_id, &self.entry_id)
    }

    fn write(from: Option<&FromIncident>, fields: Fields) -> Fields {
        match from {
            None => fields,
            Some(from) => fields
                .text("from_incident", &from.incident_id)
                .text("from_title", &from.incident_title)
                .text("from_entry", &from.entry_id)
                .text("accepted_by", &from.accepted_by)
                .text("accepted_at", &from.accepted_at),
        }
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Option<FromIncident> {
        Some(FromIncident {
            incident_id: stored.optional_text("from_incident")?,
            incident_title: stored.text("from_title"),
            entry_id: stored.text("from_entry"),
            accepted_by: stored.text("accepted_by"),
            accepted_at: stored.text("accepted_at"),
        })
    }
}

/// The key of what was accepted from entry `entry_id` of incident `incident_id`.
pub(crate) fn accepted_key(incident_id: &str, entry_id: &str) -> String {
    format!("{incident_id}/{entry_id}")
}

const FROM_FIELDS: [FieldLabel; 5] = [
    FieldLabel::new("from_incident", "From incident"),
    FieldLabel::new("from_title", "Incident title"),
    FieldLabel::new("from_entry", "Entry in the incident"),
    FieldLabel::new("accepted_by", "Accepted by"),
    FieldLabel::new("accepted_at", "Accepted at"),
];

/// A next step the playbook starts an incident with, owned by a role rather than a person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlaybookStep {
    pub title: String,
    /// The role that owns it in the incident (`None`: nobody until someone takes it).
    pub role: Option<Role>,
    /// Due this many minutes after the incident starts (`None`: no due time).
    pub due_after_minutes: Option<u32>,
    /// Set when it was accepted from an incident.
    pub from: Option<FromIncident>,
}

impl Entry for PlaybookStep {
    const ROOT: &'static str = "steps";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("title", "Next step"),
        FieldLabel::new("role", "Owned by the role"),
        FieldLabel::new("due_after_minutes", "Due after (minutes)"),
        FROM_FIELDS[0],
        FROM_FIELDS[1],
        FROM_FIELDS[2],
        FROM_FIELDS[3],
        FROM_FIELDS[4],
    ];

    fn to_fields(&self) -> Fields {
        let fields = Fields::new()
            .text("title", &self.title)
            .text("role", self.role.map_or("", Role::key))
            .count("due_after_minutes", self.due_after_minutes.unwrap_or(0));
        FromIncident::write(self.from.as_ref(), fields)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        PlaybookStep {
            title: stored.text("title"),
            role: Role::from_key(&stored.text("role")),
            due_after_minutes: Some(stored.count("due_after_minutes")).filter(|&m| m > 0),
            from: FromIncident::read(stored),
        }
    }

    /// The playbook's own steps by id, then the accepted ones in the order accepted.
    fn sort(items: &mut [(String, Self)]) {
        crate::sort::sort_by(items, |(a_id, a), (b_id, b)| {
            let key = |s: &PlaybookStep| {
                (
                    s.from.is_some(),
                    s.from.as_ref().map(|f| f.accepted_at.clone()),
                )
            };
            (key(a), a_id).cmp(&(key(b), b_id))
        });
    }
}

/// A question to answer in an incident of this kind, beside the template's own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlaybookQuestion {
    pub text: String,
}

impl Entry for PlaybookQuestion {
    const ROOT: &'static str = "questions";

    const FIELDS: &'static [FieldLabel] = &[FieldLabel::new("text", "Question")];

    fn to_fields(&self) -> Fields {
        Fields::new().text("text", &self.text)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        PlaybookQuestion {
            text: stored.text("text"),
        }
    }
}

/// A message drafted in advance, for an audience, to adapt in the incident's Comms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommsDraft {
    /// Who it is for ("Staff", "Customers").
    pub audience: String,
    pub text: String,
}

impl Entry for CommsDraft {
    const ROOT: &'static str = "comms";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("audience", "For"),
        FieldLabel::new("text", "Draft"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("audience", &self.audience)
            .text("text", &self.text)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        CommsDraft {
            audience: stored.text("audience"),
            text: stored.text("text"),
        }
    }
}

/// A link worth having at hand: a guide, a contact page, an internal runbook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlaybookLink {
    pub title: String,
    pub url: String,
}

impl Entry for PlaybookLink {
    const ROOT: &'static str = "links";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("title", "Link"),
        FieldLabel::new("url", "Address"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("title", &self.title)
            .text("url", &self.url)
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        PlaybookLink {
            title: stored.text("title"),
            url: stored.text("url"),
        }
    }
}

/// A lesson learned in an incident and accepted into the playbook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceptedLesson {
    pub text: String,
    pub from: FromIncident,
}

impl Entry for AcceptedLesson {
    const ROOT: &'static str = "lessons";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("text", "Lesson"),
        FROM_FIELDS[0],
        FROM_FIELDS[1],
        FROM_FIELDS[2],
        FROM_FIELDS[3],
        FROM_FIELDS[4],
    ];

    fn to_fields(&self) -> Fields {
        FromIncident::write(Some(&self.from), Fields::new().text("text", &self.text))
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> Self {
        AcceptedLesson {
            text: stored.text("text"),
            from: FromIncident::read(stored).unwrap_or_default(),
        }
    }

    /// In the order accepted.
    fn sort(items: &mut [(String, Self)]) {
        crate::sort::sort_by(items, |(a_id, a), (b_id, b)| {
            (&a.from.accepted_at, a_id).cmp(&(&b.from.accepted_at, b_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::{assert_described, EditableField};

    /// Stands in for "no editable fields" in [`assert_described`].
    struct NoField<E>(std::marker::PhantomData<fn() -> E>);

    impl<E> Clone for NoField<E> {
        fn clone(&self) -> Self {
            *self
        }
    }

    impl<E> Copy for NoField<E> {}

    impl<E: Entry> EditableField for NoField<E> {
        type Entry = E;
        fn key(self) -> &'static str {
            unreachable!()
        }
    }

    #[test]
    fn every_playbook_item_describes_every_field_it_writes() {
        let from = FromIncident {
            incident_id: "i".into(),
            incident_title: "t".into(),
            entry_id: "e".into(),
            accepted_by: "a".into(),
            accepted_at: "b".into(),
        };
        let step = PlaybookStep {
            title: "x".into(),
            role: Some(Role::Scribe),
            due_after_minutes: Some(30),
            from: Some(from.clone()),
        };
        assert_described::<_, NoField<PlaybookStep>>(&step, &[]);
        assert_described::<_, NoField<PlaybookQuestion>>(&PlaybookQuestion::default(), &[]);
        assert_described::<_, NoField<CommsDraft>>(&CommsDraft::default(), &[]);
        assert_described::<_, NoField<PlaybookLink>>(&PlaybookLink::default(), &[]);
        let lesson = AcceptedLesson {
            text: "l".into(),
            from,
        };
        assert_described::<_, NoField<AcceptedLesson>>(&lesson, &[]);
    }
}
