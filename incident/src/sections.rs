//! The fixed parts of the template: prose sections and the TLP 2.0 levels.

/// A section of the incident written as free prose and merged character by character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProseSection {
    Summary,
    Details,
    Response,
    Theories,
    LessonsLearned,
    Background,
    Comms,
    Appendix,
}

impl ProseSection {
    /// Every prose section, in the order the incident page shows them.
    pub const ALL: [ProseSection; 8] = [
        ProseSection::Summary,
        ProseSection::Details,
        ProseSection::Response,
        ProseSection::Theories,
        ProseSection::LessonsLearned,
        ProseSection::Background,
        ProseSection::Comms,
        ProseSection::Appendix,
    ];

    /// The stable key of the section: its name in the stored document and in the page's ids.
    pub fn key(self) -> &'static str {
        match self {
            ProseSection::Summary => "summary",
            ProseSection::Details => "details",
            ProseSection::Response => "response",
            ProseSection::Theories => "theories",
            ProseSection::LessonsLearned => "lessons",
            ProseSection::Background => "background",
            ProseSection::Comms => "comms",
            ProseSection::Appendix => "appendix",
        }
    }

    /// The section's visible heading.
    pub fn title(self) -> &'static str {
        match self {
            ProseSection::Summary => "Summary",
            ProseSection::Details => "Details / kill chain",
            ProseSection::Response => "Response",
            ProseSection::Theories => "Theories",
            ProseSection::LessonsLearned => "Lessons learned",
            ProseSection::Background => "Background",
            ProseSection::Comms => "Comms",
            ProseSection::Appendix => "Appendix",
        }
    }

    /// One line telling a responder what belongs in the section.
    pub fn hint(self) -> &'static str {
        match self {
            ProseSection::Summary => {
                "Two or three plain sentences an executive can read cold: when we learned of it, \
                 what kind of incident it is, and what it does to the business."
            }
            ProseSection::Details => {
                "What we know to be true, as a narrative, phase by phase through the kill chain. \
                 Guesses go under Theories; to-dos go under Next steps."
            }
            ProseSection::Response => {
                "Every action already taken to contain and resolve it, and who took it."
            }
            ProseSection::Theories => {
                "Hunches and wild ideas, no judgement. Move one to Details once it is confirmed."
            }
            ProseSection::LessonsLearned => {
                "Write them down raw while they are fresh; refine them after the incident."
            }
            ProseSection::Background => {
                "Context for someone joining late: the systems, the people, the history."
            }
            ProseSection::Comms => {
                "Messages for PR, HR and Legal, internal and external, and who signed them off."
            }
            ProseSection::Appendix => {
                "Log extracts, references and anything too long for the sections above."
            }
        }
    }

    /// The section with this key, if any.
    pub fn from_key(key: &str) -> Option<ProseSection> {
        ProseSection::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Traffic Light Protocol 2.0: who may receive what is in the incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Tlp {
    Clear,
    Green,
    #[default]
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as TLP 2.0 writes it, which is also the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Reads a stored or typed label; accepts any case and the older "WHITE" for CLEAR.
    pub fn parse(value: &str) -> Option<Tlp> {
        let upper = value.trim().to_ascii_uppercase();
        let upper = upper.strip_prefix("TLP:").unwrap_or(&upper);
        match upper {
            "CLEAR" | "WHITE" => Some(Tlp::Clear),
            "GREEN" => Some(Tlp::Green),
            "AMBER" => Some(Tlp::Amber),
            "AMBER+STRICT" => Some(Tlp::AmberStrict),
            "RED" => Some(Tlp::Red),
            _ => None,
        }
    }

    /// The CSS class that colours a banner for this level.
    pub fn css_class(self) -> &'static str {
        match self {
            Tlp::Clear => "tlp-clear",
            Tlp::Green => "tlp-green",
            Tlp::Amber => "tlp-amber",
            Tlp::AmberStrict => "tlp-amber-strict",
            Tlp::Red => "tlp-red",
        }
    }

    /// Who may see the incident at this level, in a few words.
    pub fn meaning(self) -> &'static str {
        match self {
            Tlp::Clear => "No limit on disclosure.",
            Tlp::Green => "Within the community; not public.",
            Tlp::Amber => "Need-to-know within our organisation and its clients.",
            Tlp::AmberStrict => "Need-to-know within our organisation only.",
            Tlp::Red => "Named recipients only, no further.",
        }
    }
}

/// Where the response as a whole stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IncidentStatus {
    #[default]
    Open,
    Contained,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Open,
        IncidentStatus::Contained,
        IncidentStatus::Resolved,
        IncidentStatus::Closed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Contained => "contained",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Open => "Open",
            IncidentStatus::Contained => "Contained",
            IncidentStatus::Resolved => "Resolved",
            IncidentStatus::Closed => "Closed",
        }
    }

    pub fn from_key(key: &str) -> Option<IncidentStatus> {
        IncidentStatus::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_labels_round_trip() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::parse(tlp.as_str()), Some(tlp));
        }
        assert_eq!(Tlp::parse("tlp:amber+strict"), Some(Tlp::AmberStrict));
        assert_eq!(Tlp::parse("WHITE"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("purple"), None);
    }

    #[test]
    fn section_keys_are_unique_and_round_trip() {
        for s in ProseSection::ALL {
            assert_eq!(ProseSection::from_key(s.key()), Some(s));
        }
        let mut keys: Vec<_> = ProseSection::ALL.iter().map(|s| s.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ProseSection::ALL.len());
    }
}
