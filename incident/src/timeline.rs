//! Timeline events: what happened when, keyed by random id so concurrent additions never
//! collide. Each field of an event merges on its own.

use yrs::{Any, MapRef, ReadTxn};

use crate::entries;

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
            Field::DiscoveredAt => "discovered_at",
            Field::What => "what",
            Field::Source => "source",
            Field::DataLink => "data_link",
            Field::Phase => "phase",
            Field::Author => "author",
        }
    }
}

/// One event on the timeline. Times are RFC 3339 UTC strings; when the responder typed the
/// time in another zone, `occurred_zone` keeps that zone and `occurred_original` the text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineEvent {
    pub occurred_at: String,
    pub occurred_zone: Option<String>,
    pub occurred_original: Option<String>,
    pub discovered_at: Option<String>,
    pub what: String,
    pub source: String,
    pub data_link: String,
    pub phase: Option<KillChainPhase>,
    /// Ids of the indicators this event involves.
    pub indicators: Vec<String>,
    pub author: String,
    pub include_in_report: bool,
}

impl TimelineEvent {
    pub(crate) fn to_fields(&self) -> Vec<(&'static str, Any)> {
        let mut fields = vec![
            ("occurred_at", Any::from(self.occurred_at.as_str())),
            ("what", Any::from(self.what.as_str())),
            ("source", Any::from(self.source.as_str())),
            ("data_link", Any::from(self.data_link.as_str())),
            ("author", Any::from(self.author.as_str())),
            ("include_in_report", Any::Bool(self.include_in_report)),
        ];
        let optional = [
            ("occurred_zone", self.occurred_zone.as_deref()),
            ("occurred_original", self.occurred_original.as_deref()),
            ("discovered_at", self.discovered_at.as_deref()),
            ("phase", self.phase.map(KillChainPhase::key)),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                fields.push((key, Any::from(value)));
            }
        }
        if !self.indicators.is_empty() {
            fields.push(("indicators", entries::string_list(&self.indicators)));
        }
        fields
    }

    pub(crate) fn read<T: ReadTxn>(entry: &MapRef, txn: &T) -> TimelineEvent {
        let text = |key| entries::string(entry, txn, key);
        let optional = |key| text(key).filter(|s: &String| !s.is_empty());
        TimelineEvent {
            occurred_at: text("occurred_at").unwrap_or_default(),
            occurred_zone: optional("occurred_zone"),
            occurred_original: optional("occurred_original"),
            discovered_at: optional("discovered_at"),
            what: text("what").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            data_link: text("data_link").unwrap_or_default(),
            phase: text("phase").and_then(|p| KillChainPhase::from_key(&p)),
            indicators: entries::strings(entry, txn, "indicators"),
            author: text("author").unwrap_or_default(),
            include_in_report: entries::flag(entry, txn, "include_in_report"),
        }
    }
}
