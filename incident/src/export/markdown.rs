//! A report as CommonMark (with a GitHub-style table for tabular parts), for pasting into a
//! ticket, a wiki or a mail.
//!
//! Everything taken from the incident is text, never markup: characters that Markdown would
//! read as formatting, links, HTML or entities are escaped with a backslash, and a line that
//! would start a heading, a list, a quote or a code block is escaped at its start. So
//! `<img src=x onerror=…>` typed into a section shows as those characters on GitHub, GitLab
//! or any CommonMark renderer.

use super::report::{Block, Report};

/// `report` as a CommonMark document.
pub fn to_markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!("**{}**\n\n", inline(&report.marking)));
    out.push_str(&format!("# {}\n\n", inline(&report.title)));
    for block in &report.blocks {
        match block {
            Block::Heading(text) => out.push_str(&format!("## {}\n\n", inline(text))),
            Block::Text(text) => out.push_str(&paragraphs(text)),
            Block::Facts(facts) => {
                for (label, value) in facts {
                    out.push_str(&format!("- **{}:** {}\n", inline(label), inline(value)));
                }
                out.push('\n');
            }
            Block::Table { headers, rows } => out.push_str(&table(headers, rows)),
            Block::Note(text) => out.push_str(&format!("*{}*\n\n", inline(text))),
        }
    }
    out.push_str(&format!("---\n\n**{}**\n", inline(&report.marking)));
    out
}

/// Characters escaped wherever they appear: emphasis, code, links and images, raw HTML,
/// entities, GitHub tables and strikethrough, and the backslash itself.
fn escapes_anywhere(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~'
    )
}

/// One line of text as inline Markdown that shows exactly these characters.
fn inline(text: &str) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            c if escapes_anywhere(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    escape_line_start(out)
}

/// Escapes what would make a line a heading, quote, list item, thematic break or setext
/// underline. `line` has already had its inline characters escaped.
fn escape_line_start(line: String) -> String {
    let first = line.chars().next();
    match first {
        Some('#' | '+' | '-' | '=' | '>') => format!("\\{line}"),
        Some(c) if c.is_ascii_digit() => {
            // "1." or "1)" starts an ordered list.
            let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
            match line[digits..].chars().next() {
                Some('.') | Some(')') => format!("{}\\{}", &line[..digits], &line[digits..]),
                _ => line,
            }
        }
        _ => line,
    }
}

/// Prose: blank lines separate paragraphs; inside one, every line break is kept.
fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<String> = Vec::new();
    let flush = |paragraph: &mut Vec<String>, out: &mut String| {
        if !paragraph.is_empty() {
            out.push_str(&paragraph.join("\\\n"));
            out.push_str("\n\n");
            paragraph.clear();
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
        } else {
            paragraph.push(inline(line));
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

fn cell(text: &str) -> String {
    let joined: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    inline(&joined.join(" / "))
}

fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    out.push_str(&line(headers.iter().map(|h| cell(h)).collect()));
    out.push_str(&line(headers.iter().map(|_| "---".to_string()).collect()));
    for row in rows {
        out.push_str(&line(row.iter().map(|c| cell(c)).collect()));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            inline("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert(1)\\>"
        );
        assert_eq!(
            inline("[click](javascript:alert(1))"),
            "\\[click\\](javascript:alert(1))"
        );
        assert_eq!(inline("# not a heading"), "\\# not a heading");
        assert_eq!(inline("1. not a list"), "1\\. not a list");
        assert_eq!(inline("a | b"), "a \\| b");
        assert_eq!(inline("&lt;"), "\\&lt;");
    }

    #[test]
    fn prose_keeps_lines_and_paragraphs() {
        assert_eq!(paragraphs("one\ntwo\n\nthree"), "one\\\ntwo\n\nthree\n\n");
    }
}
