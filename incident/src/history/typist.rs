//! Who typed a mention in a prose section.
//!
//! The document does not say who wrote which characters of a prose section; the relay's
//! record does (`Replay::authorship`, the who-wrote-what answer: the section's text as runs,
//! each with the invite name that typed it). A mention's line is found in that text and the
//! characters of `@Name` in it are read off the runs.

use super::Written;

/// Who typed `@name` (case-insensitive) in `line` of a prose section whose text, as the
/// record has it, is `runs`: the one person who typed every character of it. `None` when
/// that is not certain: the line is not in that text (the record is behind the device, or
/// the line changed since), `@name` is not in the line, the line is there more than once
/// with different typists, or its characters were typed by more than one person or by
/// someone the record does not name.
pub fn mention_typist(runs: &[Written], line: &str, name: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || name.trim().is_empty() {
        return None;
    }
    let needle = format!("@{}", name.trim()).to_lowercase();
    let at = line.to_lowercase().find(&needle)?;
    // (Lower-casing may change byte lengths; then the offsets below would not hold.)
    if line.to_lowercase().len() != line.len() {
        return None;
    }
    let text: String = runs.iter().map(|r| r.text.as_str()).collect();
    let mut typist: Option<String> = None;
    let mut found = false;
    for (start, _) in text.match_indices(line) {
        found = true;
        let from = start + at;
        let to = from + needle.len();
        let who = typed_by(runs, from, to)?;
        match &typist {
            Some(seen) if *seen != who => return None,
            _ => typist = Some(who),
        }
    }
    if !found {
        return None;
    }
    typist
}

/// The one name that typed every byte of `from..to` of the runs' text.
fn typed_by(runs: &[Written], from: usize, to: usize) -> Option<String> {
    let mut offset = 0;
    let mut who: Option<&str> = None;
    for run in runs {
        let (start, end) = (offset, offset + run.text.len());
        offset = end;
        if end <= from || start >= to {
            continue;
        }
        let by = run.by.as_deref().filter(|b| !b.trim().is_empty())?;
        match who {
            Some(seen) if seen != by => return None,
            _ => who = Some(by),
        }
    }
    who.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(text: &str, by: Option<&str>) -> Written {
        Written {
            text: text.to_string(),
            by: by.map(Arc::from),
        }
    }

    #[test]
    fn the_person_who_typed_the_at_name_is_named_only_when_certain() {
        let runs = [
            run("Two servers down.\n", Some("Bob")),
            run("@ben please check the backups", Some("Ana")),
        ];
        let line = "@ben please check the backups";
        assert_eq!(mention_typist(&runs, line, "Ben").as_deref(), Some("Ana"));
        // Not in the record's text (not synced yet): nobody.
        assert_eq!(mention_typist(&runs, "@Ben call me", "Ben"), None);
        // Typed by two people.
        let mixed = [run("@b", Some("Ana")), run("en call me", Some("Cy"))];
        assert_eq!(mention_typist(&mixed, "@ben call me", "Ben"), None);
        // Only the mention's characters count.
        let edited = [run("@Ben ", Some("Ana")), run("call me", Some("Cy"))];
        assert_eq!(
            mention_typist(&edited, "@Ben call me", "Ben").as_deref(),
            Some("Ana")
        );
        // Unnamed writer.
        let unnamed = [run("@Ben call me", None)];
        assert_eq!(mention_typist(&unnamed, "@Ben call me", "Ben"), None);
        // The same line twice, by different people.
        let twice = [run("@Ben go\n", Some("Ana")), run("@Ben go", Some("Cy"))];
        assert_eq!(mention_typist(&twice, "@Ben go", "Ben"), None);
    }
}
