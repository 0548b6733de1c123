//! Indicators and the timeline as CSV (RFC 4180: comma-separated, fields quoted when they
//! hold a comma, a quote or a line break, CRLF between records), and the timeline read back.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//! as a formula (CSV injection). Such a cell is written with a `'` in front, which
//! spreadsheets show as text; a cell that already starts with `'` before one of those gets one
//! more. Reading takes exactly one `'` off again, so export → import → export is identical.

use super::{Audience, Snapshot};
use crate::indicator_value::{canonical, detect, refang};
use crate::{indicator_id, when, Incident, KillChainPhase, TimelineEvent};
use std::collections::{HashMap, HashSet};

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The indicators the audience may receive, one per row, with their real values.
pub fn indicators_csv(incident: &Incident, audience: &Audience<'_>) -> String {
    let s = Snapshot::read(incident, audience);
    let mut out = String::new();
    record(
        &mut out,
        &[
            "type",
            "value",
            "tlp",
            "first_seen",
            "last_seen",
            "sightings",
            "note",
            "added_by",
            "added_at",
            "id",
        ],
        drill_cell(s.drill, true),
    );
    for (id, i, tlp) in &s.indicators {
        record(
            &mut out,
            &[
                i.kind.key(),
                &i.value,
                tlp.as_str(),
                i.first_seen.as_deref().unwrap_or(""),
                i.last_seen.as_deref().unwrap_or(""),
                &i.sightings.to_string(),
                &i.note,
                &i.added_by,
                &i.added_at,
                id,
            ],
            drill_cell(s.drill, false),
        );
    }
    out
}

/// The timeline columns, in the order written. Reading finds them by name in any order.
const TIMELINE_COLUMNS: [&str; 14] = [
    "occurred_at",
    "occurred_original",
    "occurred_zone",
    "discovered_at",
    "phase",
    "what",
    "source",
    "data_link",
    "indicators",
    "author",
    "in_report",
    "tlp",
    "id",
    "notes",
];

/// Every timeline event (the report's and the rest), in time order. `occurred_at` and
/// `discovered_at` are UTC; `occurred_original` is the time as typed, in `occurred_zone`.
/// `indicators` holds the real values of the event's indicators, one per line, only those
/// the audience may receive.
pub fn timeline_csv(incident: &Incident, audience: &Audience<'_>) -> String {
    let s = Snapshot::read(incident, audience);
    let values: HashMap<&str, &str> = s
        .indicators
        .iter()
        .map(|(id, i, _)| (id.as_str(), i.value.as_str()))
        .collect();
    let mut out = String::new();
    record(&mut out, &TIMELINE_COLUMNS, drill_cell(s.drill, true));
    for (id, e, _) in &s.timeline {
        let linked: Vec<&str> = e
            .indicators
            .iter()
            .filter_map(|i| values.get(i.as_str()).copied())
            .collect();
        record(
            &mut out,
            &[
                &e.occurred_at,
                e.occurred_original.as_deref().unwrap_or(""),
                e.occurred_zone.as_deref().unwrap_or(""),
                e.discovered_at.as_deref().unwrap_or(""),
                e.phase.map(KillChainPhase::key).unwrap_or(""),
                &e.what,
                &e.source,
                &e.data_link,
                &linked.join("\n"),
                &e.author,
                if e.include_in_report { "yes" } else { "no" },
                e.tlp.map_or("", crate::Tlp::as_str),
                id,
                e.notes.as_deref().unwrap_or(""),
            ],
            drill_cell(s.drill, false),
        );
    }
    out
}

/// The column a drill's CSV files end with: its name in the header, `DRILL_VALUE` on every
/// row. A real incident's files have no such column. Reading a timeline file skips it.
const DRILL_COLUMN: &str = "drill";
const DRILL_VALUE: &str = "yes";

/// The drill column's cell of a drill's header (`header`) or row; none for a real incident.
fn drill_cell(drill: bool, header: bool) -> Option<&'static str> {
    drill.then_some(if header { DRILL_COLUMN } else { DRILL_VALUE })
}

/// One record, ending with `last` when there is one (the drill column).
fn record(out: &mut String, cells: &[&str], last: Option<&str>) {
    for (n, cell) in cells.iter().chain(last.as_ref()).enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&quote(&neutralise(cell)));
    }
    out.push_str("\r\n");
}

fn neutralise(cell: &str) -> String {
    let after_quotes = cell.trim_start_matches('\'');
    if after_quotes.starts_with(TRIGGERS) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

fn restore(cell: &str) -> String {
    let after_quotes = cell.trim_start_matches('\'');
    if after_quotes.len() < cell.len() && after_quotes.starts_with(TRIGGERS) {
        cell[1..].to_string()
    } else {
        cell.to_string()
    }
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// Splits CSV text into records of fields (RFC 4180, also accepting bare LF line ends and a
/// UTF-8 byte order mark). Each record comes with the line it starts on. `Err` on a quote
/// that is never closed.
fn parse(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut record_line = 1;
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].is_empty()) {
                    records.push((record_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                record_line = line;
                at_field_start = true;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err(format!(
            "a quoted field that starts on line {record_line} is never closed (is the file cut short?)"
        ));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

/// An event read from a timeline file, ready to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedRow {
    /// The id to add it under: the file's when it is a free, well-formed id, else a new one.
    pub id: String,
    pub event: TimelineEvent,
    /// Real values of the indicators it names; missing ones are added with it.
    pub indicators: Vec<String>,
}

/// A row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// What importing a timeline file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineImport {
    pub added: usize,
    /// Indicators named by events that were not in the incident yet and were added.
    pub indicators_added: usize,
    pub rejected: Vec<RejectedRow>,
    /// Columns the file has that Firebreak does not read.
    pub ignored_columns: Vec<String>,
}

/// Largest timeline file read, in bytes.
pub const MAX_TIMELINE_CSV_BYTES: usize = 8 * 1024 * 1024;

/// Reads a timeline CSV (as [`timeline_csv`] writes it, or edited in a spreadsheet) into
/// `incident`: every good row becomes an event, every bad one is listed with its reason.
/// `occurred_at` and `what` are required columns; the others are optional and extra ones are
/// ignored. A time without a zone is read in the incident's display zone. `new_id` gives ids
/// for rows without a usable one; `author` is used where a row names nobody; `now` is the
/// importer's time (RFC 3339 UTC). `Err` (and nothing changed) when the file as a whole
/// cannot be read.
pub fn import_timeline_csv(
    incident: &Incident,
    text: &str,
    author: &str,
    now: &str,
    mut new_id: impl FnMut() -> String,
) -> Result<TimelineImport, String> {
    if text.len() > MAX_TIMELINE_CSV_BYTES {
        return Err(format!(
            "the file is {} MB; a timeline file may be at most {} MB",
            text.len().div_ceil(1024 * 1024),
            MAX_TIMELINE_CSV_BYTES / (1024 * 1024)
        ));
    }
    let records = parse(text)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err("the file is empty".to_string());
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase().replace(' ', "_"))
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    for required in ["occurred_at", "what"] {
        if column(required).is_none() {
            return Err(format!(
                "this is not a Firebreak timeline file: it has no “{required}” column \
                 (the first line must name the columns)"
            ));
        }
    }
    let ignored_columns = header
        .iter()
        .filter(|h| {
            !h.is_empty() && !TIMELINE_COLUMNS.contains(&h.as_str()) && h.as_str() != DRILL_COLUMN
        })
        .cloned()
        .collect();
    let now_time = when::parse_stored(now).unwrap_or_default();
    let zone = incident.display_zone();
    let mut taken: HashSet<String> = incident.timeline().into_iter().map(|(id, _)| id).collect();

    let mut imported = Vec::new();
    let mut rejected = Vec::new();
    for (line, row) in rows {
        let get = |name: &str| {
            column(name)
                .and_then(|i| row.get(i))
                .map(|v| restore(v.trim()))
                .unwrap_or_default()
        };
        match read_row(&get, &zone, now_time, author) {
            Ok((event, indicators)) => {
                let wanted = get("id");
                let id = if well_formed_id(&wanted) && !taken.contains(&wanted) {
                    wanted
                } else {
                    new_id()
                };
                taken.insert(id.clone());
                imported.push(ImportedRow {
                    id,
                    event,
                    indicators,
                });
            }
            Err(reason) => rejected.push(RejectedRow {
                line: *line,
                reason,
            }),
        }
    }

    let mut result = TimelineImport {
        rejected,
        ignored_columns,
        ..Default::default()
    };
    for mut row in imported {
        for value in &row.indicators {
            let kind = detect(value);
            let id = indicator_id(&canonical(value, kind));
            if incident.indicator(&id).is_none()
                && incident
                    .add_indicator(value, Some(kind), author, now)
                    .is_ok()
            {
                result.indicators_added += 1;
            }
            if !row.event.indicators.contains(&id) {
                row.event.indicators.push(id);
            }
        }
        incident.add_timeline_event(&row.id, &row.event);
        result.added += 1;
    }
    Ok(result)
}

fn well_formed_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn read_row(
    get: &dyn Fn(&str) -> String,
    zone: &str,
    now: chrono::DateTime<chrono::Utc>,
    author: &str,
) -> Result<(TimelineEvent, Vec<String>), String> {
    let what = get("what");
    if what.is_empty() {
        return Err("“what” is empty: an event needs to say what happened".to_string());
    }
    let at = get("occurred_at");
    if at.is_empty() {
        return Err("“occurred_at” is empty: an event needs a time".to_string());
    }
    let mut event = TimelineEvent {
        what,
        source: get("source"),
        data_link: get("data_link"),
        notes: Some(get("notes")).filter(|n| !n.is_empty()),
        author: Some(get("author"))
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| author.to_string()),
        include_in_report: !matches!(
            get("in_report").to_ascii_lowercase().as_str(),
            "no" | "false" | "0"
        ),
        ..Default::default()
    };
    if when::parse_stored(&at).is_some() && at.ends_with('Z') {
        event.occurred_at = at;
        event.occurred_zone = Some(get("occurred_zone")).filter(|z| !z.is_empty());
        event.occurred_original = Some(get("occurred_original")).filter(|o| !o.is_empty());
    } else {
        let typed_zone = Some(get("occurred_zone")).filter(|z| !z.is_empty());
        let time = when::parse_time(&at, typed_zone.as_deref().unwrap_or(zone), now)
            .map_err(|e| format!("occurred_at: {e}"))?;
        event.occurred_at = time.utc;
        event.occurred_zone = time.zone;
        event.occurred_original = Some(time.original);
    }
    let discovered = get("discovered_at");
    if !discovered.is_empty() {
        event.discovered_at = Some(if when::parse_stored(&discovered).is_some() {
            discovered
        } else {
            when::parse_time(&discovered, zone, now)
                .map_err(|e| format!("discovered_at: {e}"))?
                .utc
        });
    }
    let tlp = get("tlp");
    if !tlp.is_empty() {
        event.tlp = Some(crate::Tlp::parse(&tlp).ok_or_else(|| {
            format!("“{tlp}” is not a TLP level (use CLEAR, GREEN, AMBER, AMBER+STRICT or RED)")
        })?);
    }
    let phase = get("phase");
    if !phase.is_empty() {
        let found = KillChainPhase::from_key(&phase).or_else(|| {
            KillChainPhase::ALL
                .into_iter()
                .find(|p| p.label().eq_ignore_ascii_case(&phase))
        });
        event.phase = Some(found.ok_or_else(|| {
            format!("“{phase}” is not a kill-chain phase (use one of: reconnaissance, weaponization, delivery, exploitation, installation, command_and_control, actions_on_objectives)")
        })?);
    }
    let indicators = get("indicators")
        .lines()
        .map(refang)
        .filter(|v| !v.is_empty())
        .collect();
    Ok((event, indicators))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_restored() {
        for cell in [
            "=1+2", "+x", "-x", "@SUM(A1)", "\tx", "'=x", "''@x", "plain", "'quoted",
        ] {
            let written = neutralise(cell);
            assert!(
                !written.starts_with(TRIGGERS),
                "{cell:?} written as {written:?}"
            );
            assert_eq!(restore(&written), cell);
        }
    }

    #[test]
    fn quoted_fields_with_commas_quotes_and_lines_parse() {
        let mut out = String::new();
        record(&mut out, &["a,b", "say \"hi\"", "two\nlines", ""], None);
        let parsed = parse(&out).unwrap();
        assert_eq!(
            parsed,
            vec![(
                1,
                vec![
                    "a,b".to_string(),
                    "say \"hi\"".into(),
                    "two\nlines".into(),
                    "".into()
                ]
            )]
        );
        assert!(parse("\"never closed").is_err());
    }
}
