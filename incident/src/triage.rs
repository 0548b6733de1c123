//! Triage: how bad the incident is (severity) and what kind of incident it is (type).
//!
//! Both are short values in the `meta` map (`severity`, `incident_type`), set from a list and
//! merged like the status: the last writer wins. Both start unset ("Not set"); unsetting one
//! writes an empty value rather than removing the key, so an unset and a concurrent set merge
//! the same way two sets do. A stored value this build does not know reads as unset and is
//! left as it is until someone picks another.
//!
//! It also tells role hand-offs on the timeline from the evidence
//! ([`TimelineEvent::is_role_handoff`]), so the timeline view can keep them out of the way.

use crate::{Incident, TimelineEvent};

/// The meta key of the severity.
const SEVERITY_KEY: &str = "severity";
/// The meta key of the incident type.
const TYPE_KEY: &str = "incident_type";

/// How bad it is, SEV1 (worst) to SEV4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    /// Every level, worst first.
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    /// The value stored in the document.
    pub fn key(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// The short name shown everywhere ("SEV1").
    pub fn label(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// What the level means, in one line a responder can pick by.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::Sev1 => {
                "Critical: the business has stopped or many people's data is out; all hands, now."
            }
            Severity::Sev2 => {
                "High: a key service or sensitive data is at risk; work on it now, around the clock."
            }
            Severity::Sev3 => {
                "Moderate: contained to a few systems or people; work on it today, in office hours."
            }
            Severity::Sev4 => "Low: little or no impact so far; handle it in the normal queue.",
        }
    }

    /// The level stored as `key`, if it is one of [`Severity::key`]'s values.
    pub fn from_key(key: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// What kind of incident it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IncidentType {
    Phishing,
    Ransomware,
    Ddos,
    DataBreach,
    LeakedSecret,
    CompromisedAccount,
    ExploitedWebApp,
    LostDevice,
    Other,
}

impl IncidentType {
    /// Every type, in the order the page lists them.
    pub const ALL: [IncidentType; 9] = [
        IncidentType::Phishing,
        IncidentType::Ransomware,
        IncidentType::Ddos,
        IncidentType::DataBreach,
        IncidentType::LeakedSecret,
        IncidentType::CompromisedAccount,
        IncidentType::ExploitedWebApp,
        IncidentType::LostDevice,
        IncidentType::Other,
    ];

    /// The value stored in the document; also the last part of the MISP tag.
    pub fn key(self) -> &'static str {
        match self {
            IncidentType::Phishing => "phishing",
            IncidentType::Ransomware => "ransomware",
            IncidentType::Ddos => "ddos",
            IncidentType::DataBreach => "data-breach",
            IncidentType::LeakedSecret => "leaked-secret",
            IncidentType::CompromisedAccount => "compromised-account",
            IncidentType::ExploitedWebApp => "exploited-web-app",
            IncidentType::LostDevice => "lost-device",
            IncidentType::Other => "other",
        }
    }

    /// The name shown to responders.
    pub fn label(self) -> &'static str {
        match self {
            IncidentType::Phishing => "Phishing",
            IncidentType::Ransomware => "Ransomware",
            IncidentType::Ddos => "DDoS",
            IncidentType::DataBreach => "Data breach",
            IncidentType::LeakedSecret => "Leaked secret",
            IncidentType::CompromisedAccount => "Compromised account",
            IncidentType::ExploitedWebApp => "Exploited web app",
            IncidentType::LostDevice => "Lost device",
            IncidentType::Other => "Other",
        }
    }

    /// The type stored as `key`, if it is one of [`IncidentType::key`]'s values.
    pub fn from_key(key: &str) -> Option<IncidentType> {
        IncidentType::ALL.into_iter().find(|t| t.key() == key)
    }
}

impl Incident {
    /// How bad the incident is; `None` until someone sets it.
    pub fn severity(&self) -> Option<Severity> {
        self.meta_string(SEVERITY_KEY)
            .and_then(|s| Severity::from_key(&s))
    }

    /// Sets the severity, or (`None`) marks it not set again.
    pub fn set_severity(&self, severity: Option<Severity>) {
        if severity.is_none() && self.meta_string(SEVERITY_KEY).is_none() {
            return;
        }
        self.set_meta_string(SEVERITY_KEY, severity.map_or("", Severity::key));
    }

    /// What kind of incident it is; `None` until someone sets it.
    pub fn incident_type(&self) -> Option<IncidentType> {
        self.meta_string(TYPE_KEY)
            .and_then(|s| IncidentType::from_key(&s))
    }

    /// Sets the type, or (`None`) marks it not set again.
    pub fn set_incident_type(&self, kind: Option<IncidentType>) {
        if kind.is_none() && self.meta_string(TYPE_KEY).is_none() {
            return;
        }
        self.set_meta_string(TYPE_KEY, kind.map_or("", IncidentType::key));
    }
}

/// The source the roles section writes on the hand-off events it records
/// (`Incident::claim_role`, `release_role`).
const ROLE_HANDOFF_SOURCE: &str = "Roles";

impl TimelineEvent {
    /// Whether this event is a role hand-off as the roles section records it ("Bob took over
    /// as Incident commander from Alice"): source "Roles", not in the report, and nothing
    /// added to it since (no evidence link, phase or indicator). The timeline view draws
    /// these as one compact line and can hide them; they stay recorded and exported. One a
    /// responder has put in the report or given evidence is an ordinary event again.
    pub fn is_role_handoff(&self) -> bool {
        self.source == ROLE_HANDOFF_SOURCE
            && !self.include_in_report
            && self.data_link.trim().is_empty()
            && self.phase.is_none()
            && self.indicators.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for s in Severity::ALL {
            assert_eq!(Severity::from_key(s.key()), Some(s));
            assert!(!s.meaning().is_empty());
        }
        for t in IncidentType::ALL {
            assert_eq!(IncidentType::from_key(t.key()), Some(t));
        }
        let mut keys: Vec<_> = IncidentType::ALL.iter().map(|t| t.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), IncidentType::ALL.len());
        assert_eq!(Severity::from_key("SEV1"), None);
    }
}
