//! The report as blocks: headings, paragraphs, facts and tables in reading order. The
//! Markdown export writes these blocks as CommonMark; the app's print view draws the same
//! blocks as a page. Text in blocks is plain text, never markup.

use super::{Audience, Snapshot};
use crate::indicator_value::defang;
use crate::{Incident, ProseSection, QuestionList, StepStatus};

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// Everything, in reading order.
    Full,
    /// One page for executives: where it stands, the summary, who runs it, what is open and
    /// the answers to the questions that will be asked.
    Executive,
}

/// One piece of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A section heading (level 2; the report's title is level 1).
    Heading(String),
    /// Prose as written: lines kept, blank lines between paragraphs.
    Text(String),
    /// A label and its value, such as "Status: Open".
    Facts(Vec<(String, String)>),
    /// A table; every row has as many cells as there are headers.
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A remark about the report itself (what was left out, which zone times are in).
    Note(String),
}

/// A report: its title, the marking it carries and its blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub title: String,
    /// "TLP:AMBER", printed at the top of every page.
    pub marking: String,
    /// The incident's handling label, when the audience may see it.
    pub classification: Option<String>,
    pub blocks: Vec<Block>,
}

/// The report of `incident` for `audience`.
pub fn report(incident: &Incident, audience: &Audience<'_>, kind: ReportKind) -> Report {
    let snapshot = Snapshot::read(incident, audience);
    match kind {
        ReportKind::Full => full(&snapshot),
        ReportKind::Executive => executive(&snapshot),
    }
}

fn header(s: &Snapshot) -> (Report, Vec<Block>) {
    let report = Report {
        title: s.display_title(),
        marking: format!("TLP:{}", s.marking().as_str()),
        classification: s.classification.clone(),
        blocks: Vec::new(),
    };
    let mut facts = vec![
        ("Marking".to_string(), report.marking.clone()),
        ("Status".to_string(), s.status.label().to_string()),
    ];
    if s.drill {
        facts.insert(
            0,
            (
                crate::DRILL_LABEL.to_string(),
                crate::DRILL_MEANING.to_string(),
            ),
        );
    }
    if s.content_allowed {
        facts.push((
            "Severity".to_string(),
            s.severity.map_or("Not set".to_string(), |sev| {
                format!("{} — {}", sev.label(), sev.meaning())
            }),
        ));
        facts.push((
            "Type".to_string(),
            s.incident_type.map_or("Not set", |t| t.label()).to_string(),
        ));
    }
    if let Some(classification) = &s.classification {
        facts.push(("Classification".to_string(), classification.clone()));
    }
    if let Some(created) = &s.created_at {
        facts.push(("Opened".to_string(), s.local_time(created)));
    }
    facts.push(("Exported".to_string(), s.local_time(&s.now)));
    facts.push(("Times shown in".to_string(), s.zone.clone()));
    let mut blocks = vec![Block::Facts(facts)];
    blocks.push(Block::Note(format!(
        "Prepared for readers cleared for TLP:{}.",
        s.audience.as_str()
    )));
    if let Some(left_out) = s.left_out.describe() {
        blocks.push(Block::Note(format!(
            "Left out because marked above TLP:{}: {left_out}.",
            s.audience.as_str()
        )));
    }
    (report, blocks)
}

fn prose(s: &Snapshot, section: ProseSection, blocks: &mut Vec<Block>) {
    if let Some((_, text, _)) = s.sections.iter().find(|(sec, _, _)| *sec == section) {
        blocks.push(Block::Heading(section.title().to_string()));
        blocks.push(Block::Text(text.trim_end().to_string()));
    }
}

fn roles(s: &Snapshot, blocks: &mut Vec<Block>) {
    if s.roles.is_empty() {
        return;
    }
    blocks.push(Block::Heading("Roles".to_string()));
    blocks.push(Block::Table {
        headers: vec!["Role".into(), "Held by".into(), "Since".into()],
        rows: s
            .roles
            .iter()
            .map(|(role, holder)| {
                vec![
                    role.label().to_string(),
                    holder.name.clone(),
                    s.local_time(&holder.since),
                ]
            })
            .collect(),
    });
}

fn timeline(s: &Snapshot, blocks: &mut Vec<Block>) {
    let events: Vec<_> = s
        .timeline
        .iter()
        .filter(|(_, e, _)| e.include_in_report)
        .collect();
    if events.is_empty() {
        return;
    }
    blocks.push(Block::Heading("Timeline".to_string()));
    blocks.push(Block::Note(format!("Times in {}.", s.zone)));
    let noted: Vec<Block> = events
        .iter()
        .filter_map(|(_, e, _)| {
            let notes = e.notes.as_deref()?.trim_end();
            (!notes.trim().is_empty()).then(|| {
                Block::Text(format!(
                    "{} — {}:\n{notes}",
                    s.local_time(&e.occurred_at),
                    e.what.trim()
                ))
            })
        })
        .collect();
    blocks.push(Block::Table {
        headers: vec![
            "When".into(),
            "Phase".into(),
            "What happened".into(),
            "Source".into(),
            "Discovered".into(),
        ],
        rows: events
            .into_iter()
            .map(|(_, e, _)| {
                vec![
                    s.local_time(&e.occurred_at),
                    e.phase.map(|p| p.label().to_string()).unwrap_or_default(),
                    e.what.clone(),
                    e.source.clone(),
                    e.discovered_at
                        .as_deref()
                        .map(|d| s.local_time(d))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    });
    // Notes keep their lines, which a table cell cannot: each follows the table as its own
    // paragraph, opened by the event it belongs to.
    if !noted.is_empty() {
        blocks.push(Block::Heading("Timeline notes".to_string()));
        blocks.extend(noted);
    }
}

fn indicators(s: &Snapshot, blocks: &mut Vec<Block>) {
    if s.indicators.is_empty() {
        return;
    }
    blocks.push(Block::Heading("Indicators".to_string()));
    blocks.push(Block::Note(
        "Values are defanged so that nobody opens them by accident.".to_string(),
    ));
    blocks.push(Block::Table {
        headers: vec![
            "Type".into(),
            "Value".into(),
            "TLP".into(),
            "Sightings".into(),
            "Note".into(),
        ],
        rows: s
            .indicators
            .iter()
            .map(|(_, i, tlp)| {
                vec![
                    i.kind.label().to_string(),
                    defang(&i.value, i.kind),
                    tlp.as_str().to_string(),
                    i.sightings.to_string(),
                    i.note.clone(),
                ]
            })
            .collect(),
    });
}

fn next_steps(s: &Snapshot, blocks: &mut Vec<Block>, open_only: bool) {
    let steps: Vec<_> = s
        .next_steps
        .iter()
        .filter(|(_, step)| !open_only || step.status != StepStatus::Done)
        .collect();
    if steps.is_empty() {
        return;
    }
    blocks.push(Block::Heading(
        if open_only {
            "Open next steps"
        } else {
            "Next steps"
        }
        .to_string(),
    ));
    blocks.push(Block::Table {
        headers: vec!["Step".into(), "Owner".into(), "Status".into(), "Due".into()],
        rows: steps
            .into_iter()
            .map(|(_, step)| {
                let mut status = step.status.label().to_string();
                if step.is_overdue(&s.now) {
                    status.push_str(" (overdue)");
                }
                vec![
                    step.title.clone(),
                    step.owner.clone(),
                    status,
                    step.due
                        .as_deref()
                        .map(|d| s.local_time(d))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    });
}

fn answers(s: &Snapshot, list: QuestionList, title: &str, blocks: &mut Vec<Block>) {
    let answered: Vec<_> = s.answers_in(list).collect();
    if answered.is_empty() {
        return;
    }
    blocks.push(Block::Heading(title.to_string()));
    blocks.push(Block::Table {
        headers: vec!["Question".into(), "Answer".into(), "Details".into()],
        rows: answered
            .into_iter()
            .map(|(q, a)| {
                vec![
                    q.text.to_string(),
                    a.status.label().to_string(),
                    a.answer.clone(),
                ]
            })
            .collect(),
    });
}

/// The evidence attached to the incident, removed files left out: each file's name, size,
/// SHA-256 (so a reader can check a copy), who attached it when, and to what.
fn attachments(s: &Snapshot, blocks: &mut Vec<Block>) {
    let shown: Vec<_> = s
        .attachments
        .iter()
        .filter(|a| !a.attachment.is_removed())
        .collect();
    if shown.is_empty() {
        return;
    }
    blocks.push(Block::Heading("Attachments".to_string()));
    blocks.push(Block::Note(
        "The files are kept with the incident, named by the SHA-256 of their bytes: a copy whose SHA-256 differs is not the file attached.".to_string(),
    ));
    blocks.push(Block::Table {
        headers: vec![
            "File".into(),
            "Size".into(),
            "SHA-256".into(),
            "Added by".into(),
            "Added".into(),
            "Attached to".into(),
        ],
        rows: shown
            .into_iter()
            .map(|a| {
                let file = &a.attachment;
                vec![
                    file.name.clone(),
                    size_in_words(file.size),
                    file.sha256.clone(),
                    file.added_by.clone(),
                    s.local_time(&file.added_at),
                    a.attached_to.clone(),
                ]
            })
            .collect(),
    });
}

/// "812 bytes", "200 KiB (204,800 bytes)", "4.8 MiB (5,000,000 bytes)".
pub(super) fn size_in_words(bytes: u64) -> String {
    let exact = {
        let digits = bytes.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    };
    if bytes < 1024 {
        return format!("{exact} bytes");
    }
    let (value, unit) = if bytes < 1024 * 1024 {
        (bytes as f64 / 1024.0, "KiB")
    } else {
        (bytes as f64 / (1024.0 * 1024.0), "MiB")
    };
    let rounded = if value >= 100.0 || value.fract() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    format!("{rounded} {unit} ({exact} bytes)")
}

fn full(s: &Snapshot) -> Report {
    let (mut report, mut blocks) = header(s);
    prose(s, ProseSection::Summary, &mut blocks);
    roles(s, &mut blocks);
    timeline(s, &mut blocks);
    indicators(s, &mut blocks);
    prose(s, ProseSection::Details, &mut blocks);
    prose(s, ProseSection::Response, &mut blocks);
    next_steps(s, &mut blocks, false);
    prose(s, ProseSection::Theories, &mut blocks);
    prose(s, ProseSection::LessonsLearned, &mut blocks);
    answers(
        s,
        QuestionList::WillBeAsked,
        "Questions that will be asked",
        &mut blocks,
    );
    answers(s, QuestionList::PostMortem, "Post-mortem", &mut blocks);
    prose(s, ProseSection::Background, &mut blocks);
    prose(s, ProseSection::Comms, &mut blocks);
    prose(s, ProseSection::Appendix, &mut blocks);
    attachments(s, &mut blocks);
    report.blocks = blocks;
    report
}

fn executive(s: &Snapshot) -> Report {
    let (mut report, mut blocks) = header(s);
    let open_steps = s
        .next_steps
        .iter()
        .filter(|(_, step)| step.status != StepStatus::Done)
        .count();
    let overdue = s
        .next_steps
        .iter()
        .filter(|(_, step)| step.is_overdue(&s.now))
        .count();
    if s.content_allowed {
        let mut facts = vec![
            ("Timeline events".to_string(), s.timeline.len().to_string()),
            ("Indicators".to_string(), s.indicators.len().to_string()),
            (
                "Next steps open".to_string(),
                format!("{open_steps} ({overdue} overdue)"),
            ),
        ];
        if let Some((_, commander)) = s
            .roles
            .iter()
            .find(|(role, _)| *role == crate::Role::Commander)
        {
            facts.insert(
                0,
                ("Incident commander".to_string(), commander.name.clone()),
            );
        }
        blocks.push(Block::Facts(facts));
    }
    prose(s, ProseSection::Summary, &mut blocks);
    answers(
        s,
        QuestionList::WillBeAsked,
        "Questions that will be asked",
        &mut blocks,
    );
    next_steps(s, &mut blocks, true);
    report.blocks = blocks;
    report
}
