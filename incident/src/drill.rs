//! Drills: an incident can be marked as a tabletop exercise, so that nobody takes it for a
//! real one. The mark is a short value in the `meta` map (`drill`: "yes", or empty for a
//! real incident), merged like the status: the last writer wins; unmarking writes an empty
//! value rather than removing the key, so an unmark and a concurrent mark merge the same way
//! two marks do. A document without the key (every incident from before drills, and any
//! peer that never writes it) is a real incident.
//!
//! Unlike the severity, the mark is not part of the incident's content: every export carries
//! it whatever its audience, since a drill's indicators and timeline must never be mistaken
//! for a real incident's, least of all by a reader who sees little else of it.

use crate::Incident;

/// The meta key of the drill mark.
const DRILL_KEY: &str = "drill";
/// The stored value of a drill.
const DRILL_VALUE: &str = "yes";

/// The short label every screen and export shows for a drill.
pub const DRILL_LABEL: &str = "DRILL";

/// What the label means, in one sentence.
pub const DRILL_MEANING: &str = "This is a drill (a tabletop exercise), not a real incident.";

impl Incident {
    /// Whether the incident is a drill (a tabletop exercise).
    pub fn is_drill(&self) -> bool {
        self.meta_string(DRILL_KEY).as_deref() == Some(DRILL_VALUE)
    }

    /// Marks the incident as a drill, or as a real incident again.
    pub fn set_drill(&self, drill: bool) {
        if !drill && self.meta_string(DRILL_KEY).is_none() {
            return;
        }
        self.set_meta_string(DRILL_KEY, if drill { DRILL_VALUE } else { "" });
    }
}
