//! Timeline events: what happened when, keyed by random id so concurrent additions never
//! collide. Each field of an event merges on its own.

use yrs::{Any, ReadTxn};

use crate::entries::{self, editable_fields, Entry, FieldLabel, Fields, Stored};
use crate::{when, Incident, Tlp, TypedTime};

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

editable_fields! {
    /// A text field of a timeline event that can be corrected on its own.
    pub enum Field of TimelineEvent {
        DiscoveredAt => "discovered_at",
        What => "what",
        Source => "source",
        DataLink => "data_link",
        Phase => "phase",
        Author => "author",
        /// A TLP level (`Tlp::as_str`), or "" for the incident's own.
        Tlp => "tlp",
        /// Longer text, lines kept (a shift hand-off's note); "" for none.
        Notes => "notes",
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
    /// Its own TLP level; `None` means the incident's. Exports for readers cleared below it
    /// leave the event out.
    pub tlp: Option<Tlp>,
    /// Longer text under the one line of `what`, lines kept (a shift hand-off's note).
    /// Optional and written only when there is some, so events from older builds and from
    /// peers that do not know it read as having none.
    pub notes: Option<String>,
}

impl Entry for TimelineEvent {
    const ROOT: &'static str = "timeline";

    const FIELDS: &'static [FieldLabel] = &[
        FieldLabel::new("occurred_at", "When (UTC)"),
        FieldLabel::new("occurred_zone", "Zone typed in"),
        FieldLabel::new("occurred_original", "When, as typed"),
        FieldLabel::new("discovered_at", "Discovered"),
        FieldLabel::new("what", "What happened"),
        FieldLabel::new("source", "Source"),
        FieldLabel::new("data_link", "Evidence"),
        FieldLabel::new("phase", "Kill-chain phase"),
        FieldLabel::new("indicators", "Indicators"),
        FieldLabel::new("author", "Added by"),
        FieldLabel::new("include_in_report", "In the report"),
        FieldLabel::new("tlp", "TLP"),
        FieldLabel::new("notes", "Notes"),
    ];

    fn to_fields(&self) -> Fields {
        Fields::new()
            .text("occurred_at", &self.occurred_at)
            .text("what", &self.what)
            .text("source", &self.source)
            .text("data_link", &self.data_link)
            .text("author", &self.author)
            .flag("include_in_report", self.include_in_report)
            .optional_text("occurred_zone", self.occurred_zone.as_deref())
            .optional_text("occurred_original", self.occurred_original.as_deref())
            .optional_text("discovered_at", self.discovered_at.as_deref())
            .optional_text("phase", self.phase.map(KillChainPhase::key))
            .optional_list("indicators", &self.indicators)
            .optional_text("tlp", self.tlp.map(Tlp::as_str))
            .optional_text("notes", self.notes.as_deref())
    }

    fn read<T: ReadTxn>(stored: &Stored<'_, T>) -> TimelineEvent {
        TimelineEvent {
            occurred_at: stored.text("occurred_at"),
            occurred_zone: stored.optional_text("occurred_zone"),
            occurred_original: stored.optional_text("occurred_original"),
            discovered_at: stored.optional_text("discovered_at"),
            what: stored.text("what"),
            source: stored.text("source"),
            data_link: stored.text("data_link"),
            phase: KillChainPhase::from_key(&stored.text("phase")),
            indicators: stored.list("indicators"),
            author: stored.text("author"),
            include_in_report: stored.flag("include_in_report"),
            tlp: Tlp::parse(&stored.text("tlp")),
            notes: stored.optional_text("notes"),
        }
    }

    /// By when it happened, then by id. Events whose time cannot be read come last.
    fn sort(events: &mut [(String, Self)]) {
        crate::sort::sort_by_cached_key(events, |(id, event)| {
            let at = when::parse_stored(&event.occurred_at);
            (at.is_none(), at, id.clone())
        });
    }
}

impl Incident {
    /// A number that changes whenever the timeline changes (and only then).
    pub fn timeline_version(&self) -> u64 {
        self.version::<TimelineEvent>()
    }

    /// Adds a timeline event under a caller-chosen id (see [`crate::new_id`]).
    pub fn add_timeline_event(&self, id: &str, event: &TimelineEvent) {
        self.add_entry(id, event);
    }

    /// Removes a timeline event. Removing one that is already gone is not an error.
    pub fn remove_timeline_event(&self, id: &str) {
        self.remove_entry::<TimelineEvent>(id);
    }

    /// Every timeline event, in display order: by when it happened, then by id. Events
    /// whose time cannot be read come last.
    pub fn timeline(&self) -> Vec<(String, TimelineEvent)> {
        self.entries()
    }

    /// One timeline event, if it exists.
    pub fn timeline_event(&self, id: &str) -> Option<TimelineEvent> {
        self.entry(id)
    }

    /// Changes one text field of a timeline event; the other fields merge on their own.
    /// Returns false when the event no longer exists (someone deleted it).
    pub fn set_timeline_field(&self, id: &str, field: Field, value: &str) -> bool {
        self.set_field(id, field, value)
    }

    /// Corrects when an event happened: the UTC time, the zone and the text as typed change
    /// together. False when the event no longer exists.
    pub fn set_timeline_time(&self, id: &str, time: &TypedTime) -> bool {
        let fields = [
            ("occurred_at", time.utc.as_str()),
            ("occurred_zone", time.zone.as_deref().unwrap_or("")),
            ("occurred_original", time.original.as_str()),
        ];
        self.set_values::<TimelineEvent>(id, fields.map(|(key, value)| (key, Any::from(value))))
    }

    /// Whether the event goes into the report. False when the event no longer exists.
    pub fn set_timeline_in_report(&self, id: &str, include: bool) -> bool {
        self.set_values::<TimelineEvent>(id, [("include_in_report", Any::Bool(include))])
    }

    /// The indicators an event involves. False when the event no longer exists.
    pub fn set_timeline_indicators(&self, id: &str, indicators: &[String]) -> bool {
        let value = entries::string_list(indicators);
        self.set_values::<TimelineEvent>(id, [("indicators", value)])
    }
}
