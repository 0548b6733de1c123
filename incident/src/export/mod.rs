//! What leaves Firebreak: the incident as a report (Markdown, or blocks the app prints), its
//! indicators for other tools (STIX 2.1, MISP, CSV) and its timeline as CSV.
//!
//! Every export is made for an audience: the highest TLP level its readers may receive.
//! Whatever is marked above it is left out, and the export says how much was. An indicator,
//! a timeline event and a prose section may carry their own level; everything else in an
//! incident (its title, classification, roles, next steps, answers) carries the incident's.
//! So a TLP:GREEN export of a TLP:AMBER incident holds only what someone marked GREEN or
//! CLEAR, and says that the rest was withheld. The export's own marking is the highest level
//! of what it holds.
//!
//! The same code runs in the browser app and in the relay, so a download and an API call
//! give the same bytes for the same document, audience and time.

mod csv;
mod file;
mod markdown;
mod misp;
mod report;
mod stix;

pub use csv::{
    import_timeline_csv, indicators_csv, timeline_csv, ImportedRow, RejectedRow, TimelineImport,
    MAX_TIMELINE_CSV_BYTES,
};
pub use file::{
    highest_marking, incident_file, incident_file_with_attachments, read_incident_file, sha256_hex,
    AttachedFile, OpenedFile, SavedFile, INCIDENT_FILE_FORMAT, INCIDENT_FILE_VERSION,
    MAX_INCIDENT_FILE_BYTES,
};
pub use markdown::to_markdown;
pub use misp::misp_event;
pub use report::{report, Block, Report, ReportKind};
pub use stix::{stix_bundle, TLP_MARKING_IDS};

use crate::indicator_value::defang;
use crate::{
    when, Answer, AttachTarget, Attachment, Incident, IncidentStatus, IncidentType, Indicator,
    NextStep, ProseSection, Question, QuestionList, Role, RoleHolder, Severity, TimelineEvent, Tlp,
    QUESTIONS,
};

/// For whom and when an export is made.
#[derive(Clone, Debug)]
pub struct Audience<'a> {
    /// The incident's id, as in its link; stable ids in STIX and MISP are derived from it.
    pub incident_id: &'a str,
    /// The highest TLP level the readers may receive.
    pub tlp: Tlp,
    /// When the export is made (RFC 3339 UTC).
    pub now: &'a str,
}

/// How much an export left out because it was marked above the audience's level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub indicators: usize,
    pub events: usize,
    pub sections: usize,
    pub next_steps: usize,
    pub answers: usize,
    /// Attachments (not removed) whose event, indicator or Appendix is marked above the
    /// audience.
    pub attachments: usize,
}

impl LeftOut {
    pub fn total(&self) -> usize {
        self.indicators
            + self.events
            + self.sections
            + self.next_steps
            + self.answers
            + self.attachments
    }

    /// "3 indicators and 1 section" — what was left out, in words; `None` when nothing was.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.indicators, "indicator", "indicators"),
            (self.events, "timeline event", "timeline events"),
            (self.sections, "section", "sections"),
            (self.next_steps, "next step", "next steps"),
            (self.answers, "answer", "answers"),
            (self.attachments, "attachment", "attachments"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        match parts.len() {
            0 => None,
            1 => Some(parts[0].clone()),
            n => Some(format!(
                "{} and {}",
                parts[..n - 1].join(", "),
                parts[n - 1]
            )),
        }
    }
}

/// The position of a level in TLP's order, from CLEAR (anyone) to RED (named people only).
pub fn tlp_rank(tlp: Tlp) -> u8 {
    match tlp {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

/// Whether something marked `marking` may go to readers cleared for `audience`.
pub fn may_receive(audience: Tlp, marking: Tlp) -> bool {
    tlp_rank(marking) <= tlp_rank(audience)
}

/// The incident as one export sees it: read once from the document, filtered for the
/// audience. Formats are written from this, never from the document directly.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub incident_id: String,
    pub now: String,
    pub audience: Tlp,
    /// The incident's own level.
    pub incident_tlp: Tlp,
    /// Whether the incident's own content (title, sections, timeline…) may be included.
    pub content_allowed: bool,
    /// `None` when withheld for the audience.
    pub title: Option<String>,
    pub classification: Option<String>,
    pub status: IncidentStatus,
    /// `None` when not set or withheld for the audience (it comes with the title).
    pub severity: Option<Severity>,
    /// `None` when not set or withheld for the audience (it comes with the title).
    pub incident_type: Option<IncidentType>,
    pub created_at: Option<String>,
    /// Whether the incident is a drill: carried to every audience (`crate::drill`).
    pub drill: bool,
    pub zone: String,
    /// Non-empty prose sections the audience may receive, in the page's order, with the
    /// level each is marked at.
    pub sections: Vec<(ProseSection, String, Tlp)>,
    pub roles: Vec<(Role, RoleHolder)>,
    /// Timeline events the audience may receive, in time order, with their levels.
    pub timeline: Vec<(String, TimelineEvent, Tlp)>,
    /// Indicators the audience may receive, with the level each is marked at.
    pub indicators: Vec<(String, Indicator, Tlp)>,
    pub next_steps: Vec<(String, NextStep)>,
    /// Answered questions (status or text set), in the template's order.
    pub answers: Vec<(Question, Answer)>,
    /// Attachments the audience may receive, removed ones included (each format decides
    /// whether to show those), in the order they were attached.
    pub attachments: Vec<ExportedAttachment>,
    pub left_out: LeftOut,
}

/// An attachment as an export lists it: the file's metadata (never its bytes), the marking
/// it carries — that of what it is attached to — and what that is, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedAttachment {
    pub id: String,
    pub attachment: Attachment,
    pub marking: Tlp,
    /// "Appendix", "Timeline: 2026-11-29 23:05 CET — Clerk opens invoice", "Indicator: IPv4
    /// address 203[.]0[.]113[.]7" (defanged), or "Appendix (its timeline event was
    /// removed)".
    pub attached_to: String,
}

impl Snapshot {
    /// Reads `incident` for `audience`.
    pub fn read(incident: &Incident, audience: &Audience<'_>) -> Snapshot {
        let incident_tlp = incident.tlp();
        let content_allowed = may_receive(audience.tlp, incident_tlp);
        let mut left_out = LeftOut::default();

        let zone = incident.display_zone();
        // What an attachment can be attached to: its marking and its name in words.
        let mut targets: std::collections::HashMap<AttachTarget, (Tlp, String)> =
            std::collections::HashMap::new();
        let mut indicators = Vec::new();
        for (id, indicator) in incident.indicators() {
            let marking = indicator.tlp.unwrap_or(incident_tlp);
            targets.insert(
                AttachTarget::Indicator(id.clone()),
                (
                    marking,
                    format!(
                        "Indicator: {} {}",
                        indicator.kind.label(),
                        defang(&indicator.value, indicator.kind)
                    ),
                ),
            );
            if may_receive(audience.tlp, marking) {
                indicators.push((id, indicator, marking));
            } else {
                left_out.indicators += 1;
            }
        }

        let mut sections = Vec::new();
        for section in ProseSection::ALL {
            let text = incident.section_text(section);
            if text.trim().is_empty() {
                continue;
            }
            let marking = incident.section_tlp(section).unwrap_or(incident_tlp);
            if may_receive(audience.tlp, marking) {
                sections.push((section, text, marking));
            } else {
                left_out.sections += 1;
            }
        }
        let mut timeline = Vec::new();
        for (id, event) in incident.timeline() {
            let marking = event.tlp.unwrap_or(incident_tlp);
            targets.insert(
                AttachTarget::Event(id.clone()),
                (
                    marking,
                    format!(
                        "Timeline: {} — {}",
                        when::format_in_zone(&event.occurred_at, &zone),
                        event.what.trim()
                    ),
                ),
            );
            if may_receive(audience.tlp, marking) {
                timeline.push((id, event, marking));
            } else {
                left_out.events += 1;
            }
        }
        // The Appendix's marking also covers attachments whose event or indicator is gone:
        // the page shows them there.
        let appendix_tlp = incident
            .section_tlp(ProseSection::Appendix)
            .unwrap_or(incident_tlp);
        let mut attachments = Vec::new();
        for (id, attachment) in incident.attachments() {
            let (marking, attached_to) = match (
                &attachment.attached_to,
                targets.get(&attachment.attached_to),
            ) {
                (AttachTarget::Appendix, _) => (appendix_tlp, "Appendix".to_string()),
                (_, Some((marking, words))) => (*marking, words.clone()),
                (AttachTarget::Event(_), None) => (
                    appendix_tlp,
                    "Appendix (its timeline event was removed)".to_string(),
                ),
                (AttachTarget::Indicator(_), None) => (
                    appendix_tlp,
                    "Appendix (its indicator was removed)".to_string(),
                ),
            };
            if may_receive(audience.tlp, marking) {
                attachments.push(ExportedAttachment {
                    id,
                    attachment,
                    marking,
                    attached_to,
                });
            } else if !attachment.is_removed() {
                left_out.attachments += 1;
            }
        }
        let next_steps = incident.next_steps();
        let answers: Vec<(Question, Answer)> = QUESTIONS
            .into_iter()
            .chain(incident.review_questions())
            .map(|q| (q, incident.answer(q)))
            .filter(|(_, a)| !a.answer.trim().is_empty() || a.status != Default::default())
            .collect();
        let roles: Vec<(Role, RoleHolder)> = Role::ALL
            .into_iter()
            .filter_map(|r| incident.role_holder(r).map(|h| (r, h)))
            .collect();

        let (next_steps, answers, roles) = if content_allowed {
            (next_steps, answers, roles)
        } else {
            left_out.next_steps = next_steps.len();
            left_out.answers = answers.len();
            Default::default()
        };

        Snapshot {
            incident_id: audience.incident_id.to_string(),
            now: audience.now.to_string(),
            audience: audience.tlp,
            incident_tlp,
            content_allowed,
            title: content_allowed.then(|| incident.title()),
            classification: content_allowed.then(|| incident.classification()),
            status: incident.status(),
            severity: incident.severity().filter(|_| content_allowed),
            incident_type: incident.incident_type().filter(|_| content_allowed),
            created_at: incident.created_at(),
            drill: incident.is_drill(),
            zone,
            sections,
            roles,
            timeline,
            indicators,
            next_steps,
            answers,
            attachments,
            left_out,
        }
    }

    /// The marking the export carries: the highest level of what it holds (CLEAR when it
    /// holds nothing marked).
    pub fn marking(&self) -> Tlp {
        let mut marking = Tlp::Clear;
        let mut raise = |tlp: Tlp| {
            if tlp_rank(tlp) > tlp_rank(marking) {
                marking = tlp;
            }
        };
        // The title and classification come with the incident's own content.
        if self.content_allowed {
            raise(self.incident_tlp);
        }
        for (_, _, tlp) in &self.indicators {
            raise(*tlp);
        }
        for (_, _, tlp) in &self.sections {
            raise(*tlp);
        }
        for (_, _, tlp) in &self.timeline {
            raise(*tlp);
        }
        for shown in self
            .attachments
            .iter()
            .filter(|a| !a.attachment.is_removed())
        {
            raise(shown.marking);
        }
        marking
    }

    /// The title to print: the incident's, or a neutral one when it is withheld; a drill's
    /// starts with "DRILL — " either way.
    pub fn display_title(&self) -> String {
        let title = self.bare_title();
        if self.drill {
            format!("{} — {title}", crate::DRILL_LABEL)
        } else {
            title
        }
    }

    fn bare_title(&self) -> String {
        match &self.title {
            Some(title) if !title.trim().is_empty() => title.trim().to_string(),
            Some(_) => "Untitled incident".to_string(),
            None => format!("Incident {}", self.incident_id),
        }
    }

    /// A stored UTC time in the incident's display zone ("2026-11-30 03:00 CET").
    pub fn local_time(&self, utc: &str) -> String {
        when::format_in_zone(utc, &self.zone)
    }

    /// The questions of one list that have answers.
    pub fn answers_in(&self, list: QuestionList) -> impl Iterator<Item = &(Question, Answer)> {
        self.answers.iter().filter(move |(q, _)| q.list == list)
    }
}

/// The file name (without extension) of an export of `incident` for `audience`: the title's
/// letters and digits when the audience may see the title, else the incident id. Reads only
/// the title, not the whole document. A drill's starts with `drill-`.
pub fn file_stem(incident: &Incident, audience: &Audience<'_>) -> String {
    let title = may_receive(audience.tlp, incident.tlp()).then(|| incident.title());
    let stem = stem_of(title.as_deref(), audience.incident_id);
    if incident.is_drill() {
        format!("drill-{stem}")
    } else {
        stem
    }
}

fn stem_of(title: Option<&str>, incident_id: &str) -> String {
    let from_title: String = title
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let words: Vec<&str> = from_title.split('-').filter(|w| !w.is_empty()).collect();
    let stem: String = words.join("-").chars().take(60).collect();
    if stem.is_empty() {
        format!("incident-{incident_id}")
    } else {
        stem
    }
}
