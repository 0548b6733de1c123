//! Timeline events: what happened when, keyed by random id so concurrent additions never
//! collide. The full editing experience (zones, linking indicators) builds on this shape.

use std::collections::HashMap;
use yrs::{Any, Map, MapRef, Out, ReadTxn};

/// The seven phases of the Lockheed Martin intrusion kill chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KillChainPhase {
    Reconnaissance,
    Weaponization,
    Delivery,
    Exploitation,
    Installation,
    CommandAndControl,
    ActionsOnObjectives,
}

impl KillChainPhase {
    pub const ALL: [KillChainPhase; 7] = [
        KillChainPhase::Reconnaissance,
        KillChainPhase::Weaponization,
        KillChainPhase::Delivery,
        KillChainPhase::Exploitation,
        KillChainPhase::Installation,
        KillChainPhase::CommandAndControl,
        KillChainPhase::ActionsOnObjectives,
    ];

    /// The stored value.
    pub fn key(self) -> &'static str {
        match self {
            KillChainPhase::Reconnaissance => "reconnaissance",
            KillChainPhase::Weaponization => "weaponization",
            KillChainPhase::Delivery => "delivery",
            KillChainPhase::Exploitation => "exploitation",
            KillChainPhase::Installation => "installation",
            KillChainPhase::CommandAndControl => "command_and_control",
            KillChainPhase::ActionsOnObjectives => "actions_on_objectives",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KillChainPhase::Reconnaissance => "Reconnaissance",
            KillChainPhase::Weaponization => "Weaponization",
            KillChainPhase::Delivery => "Delivery",
            KillChainPhase::Exploitation => "Exploitation",
            KillChainPhase::Installation => "Installation",
            KillChainPhase::CommandAndControl => "Command and control",
            KillChainPhase::ActionsOnObjectives => "Actions on objectives",
        }
    }

    pub fn from_key(key: &str) -> Option<KillChainPhase> {
        KillChainPhase::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// A text field of a timeline event that can be corrected on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    OccurredAt,
    OccurredZone,
    DiscoveredAt,
    What,
    Source,
    DataLink,
    Phase,
    Author,
}

impl Field {
    pub fn key(self) -> &'static str {
        match self {
            Field::OccurredAt => "occurred_at",
            Field::OccurredZone => "occurred_zone",
            Field::DiscoveredAt => "discovered_at",
            Field::What => "what",
            Field::Source => "source",
            Field::DataLink => "data_link",
            Field::Phase => "phase",
            Field::Author => "author",
        }
    }
}

/// One event on the timeline. Times are RFC 3339 UTC strings; `occurred_zone` keeps the
/// zone the responder typed the time in, when it was not UTC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineEvent {
    pub occurred_at: String,
    pub occurred_zone: Option<String>,
    pub discovered_at: Option<String>,
    pub what: String,
    pub source: String,
    pub data_link: String,
    pub phase: Option<KillChainPhase>,
    pub author: String,
    pub include_in_report: bool,
}

impl TimelineEvent {
    pub(crate) fn to_fields(&self) -> HashMap<String, Any> {
        let mut fields: HashMap<String, Any> = HashMap::new();
        let mut put = |field: Field, value: &str| {
            fields.insert(field.key().to_string(), Any::from(value));
        };
        put(Field::OccurredAt, &self.occurred_at);
        if let Some(zone) = &self.occurred_zone {
            put(Field::OccurredZone, zone);
        }
        if let Some(discovered) = &self.discovered_at {
            put(Field::DiscoveredAt, discovered);
        }
        put(Field::What, &self.what);
        put(Field::Source, &self.source);
        put(Field::DataLink, &self.data_link);
        if let Some(phase) = self.phase {
            put(Field::Phase, phase.key());
        }
        put(Field::Author, &self.author);
        fields.insert(
            "include_in_report".to_string(),
            Any::Bool(self.include_in_report),
        );
        fields
    }

    pub(crate) fn read<T: ReadTxn>(entry: &MapRef, txn: &T) -> TimelineEvent {
        let text = |field: Field| match entry.get(txn, field.key()) {
            Some(Out::Any(Any::String(s))) => Some(s.to_string()),
            _ => None,
        };
        TimelineEvent {
            occurred_at: text(Field::OccurredAt).unwrap_or_default(),
            occurred_zone: text(Field::OccurredZone),
            discovered_at: text(Field::DiscoveredAt),
            what: text(Field::What).unwrap_or_default(),
            source: text(Field::Source).unwrap_or_default(),
            data_link: text(Field::DataLink).unwrap_or_default(),
            phase: text(Field::Phase).and_then(|p| KillChainPhase::from_key(&p)),
            author: text(Field::Author).unwrap_or_default(),
            include_in_report: matches!(
                entry.get(txn, "include_in_report"),
                Some(Out::Any(Any::Bool(true)))
            ),
        }
    }
}
