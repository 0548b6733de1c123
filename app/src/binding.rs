//! Textareas bound to the incident's shared texts.
//!
//! The DOM textarea is the only editable copy of a section; the CRDT text is the source of
//! truth. Typing calls `edit_section` with the textarea's whole value (the model computes the
//! minimal splice). Changes from elsewhere are applied through [`apply_remote`], which keeps
//! the focused textarea's selection attached to the characters around it.

use incident::{Anchor, Incident, ModelError, ProseSection, UpdateOrigin};
use web_sys::HtmlTextAreaElement;

use crate::platform;

/// The id of a section's textarea: `text-{key}`.
pub fn textarea_id(section: ProseSection) -> String {
    format!("text-{}", section.key())
}

fn textarea(section: ProseSection) -> Option<HtmlTextAreaElement> {
    platform::element_by_id(&textarea_id(section))
}

/// The caret (or selection) in the focused section.
struct Caret {
    section: ProseSection,
    start: Anchor,
    end: Anchor,
    direction: String,
}

fn focused_section() -> Option<(ProseSection, HtmlTextAreaElement)> {
    let active = platform::document().active_element()?;
    let key = active.id().strip_prefix("text-")?.to_string();
    let section = ProseSection::from_key(&key)?;
    Some((section, textarea(section)?))
}

fn pin_caret(incident: &Incident) -> Option<Caret> {
    let (section, area) = focused_section()?;
    // Whatever is in the textarea is already in the document (every input event is applied
    // at once); if not, the textarea wins so nothing typed is lost.
    let value = area.value();
    if value != incident.section_text(section) {
        incident.edit_section(section, &value);
    }
    let start = area.selection_start().ok().flatten().unwrap_or(0);
    let end = area.selection_end().ok().flatten().unwrap_or(start);
    Some(Caret {
        section,
        start: incident.anchor(section, start),
        end: incident.anchor(section, end),
        direction: area
            .selection_direction()
            .ok()
            .flatten()
            .unwrap_or_else(|| "none".to_string()),
    })
}

/// Applies an update that did not come from this page's inputs, then brings every section's
/// textarea up to date without moving the caret of the person typing.
pub fn apply_remote(
    incident: &Incident,
    update: &[u8],
    origin: UpdateOrigin,
) -> Result<(), ModelError> {
    let caret = pin_caret(incident);
    let result = incident.apply_update(update, origin);
    refresh_textareas(incident, caret.as_ref());
    result
}

fn refresh_textareas(incident: &Incident, caret: Option<&Caret>) {
    for section in ProseSection::ALL {
        let Some(area) = textarea(section) else {
            continue;
        };
        let text = incident.section_text(section);
        if area.value() == text {
            continue;
        }
        area.set_value(&text);
        if let Some(caret) = caret.filter(|c| c.section == section) {
            let start = incident.resolve(&caret.start);
            let end = incident.resolve(&caret.end).max(start);
            if let Err(e) = area.set_selection_range_with_direction(start, end, &caret.direction) {
                platform::log_error(&platform::js_error_text(&e));
            }
        }
    }
}
