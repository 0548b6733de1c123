//! Documents and edits made by stock JavaScript Yjs (recorded under `tests/fixtures/`) read
//! correctly through the incident model: compatibility as a unit test.

use incident::{Incident, ProseSection, Tlp, UpdateOrigin};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn a_whole_incident_written_by_yjs_reads_through_the_typed_accessors() {
    let inc = Incident::new();
    inc.apply_update(&fixture("state_full.bin"), UpdateOrigin::Relay)
        .unwrap();
    assert_eq!(inc.schema_version(), Some(1));
    assert!(inc.check_schema().is_ok());
    assert_eq!(inc.title(), "Payroll credential phishing");
    assert_eq!(inc.tlp(), Tlp::AmberStrict);
    assert_eq!(
        inc.classification(),
        "Confidential \u{2013} specific individuals only"
    );
    assert_eq!(
        inc.section_text(ProseSection::Summary),
        "On 2024-03-01 ACME was notified that it had suffered a ransomware incident \
         resulting in access to the payroll system."
    );
    let timeline = inc.timeline();
    assert_eq!(timeline.len(), 1);
    let (id, event) = &timeline[0];
    assert_eq!(id, "ev-7f3a9c");
    assert_eq!(event.occurred_at, "2024-03-01T07:58:00Z");
    assert_eq!(event.what, "Phishing mail delivered to 14 mailboxes");
    assert!(!event.include_in_report);
}

#[test]
fn yjs_text_offsets_in_utf16_line_up_with_ours() {
    let inc = Incident::new();
    inc.apply_update(&fixture("update_text_unicode.bin"), UpdateOrigin::Relay)
        .unwrap();
    let text = inc.section_text(ProseSection::Details);
    assert_eq!(text, "Café ☕ — IOC hxxps://exämple[.]com 🔥🧯 done");
    // Typing after the two emoji (each two UTF-16 units) lands where a browser puts it.
    let before_done = incident::utf16_len("Café ☕ — IOC hxxps://exämple[.]com 🔥🧯 ");
    let caret = inc.anchor(ProseSection::Details, before_done);
    inc.edit_section(ProseSection::Details, &text.replace(" done", " all done"));
    assert_eq!(
        inc.section_text(ProseSection::Details),
        "Café ☕ — IOC hxxps://exämple[.]com 🔥🧯 all done"
    );
    assert!(inc.resolve(&caret) >= before_done);
}

#[test]
fn incremental_yjs_updates_apply_in_order_and_out_of_order() {
    let insert = fixture("update_text_insert.bin");
    let edit = fixture("update_text_edit.bin");
    let expected = "On 2024-03-01 ACME was notified that it had suffered a ransomware \
                    incident resulting in access to the payroll system.";
    let in_order = Incident::new();
    in_order.apply_update(&insert, UpdateOrigin::Relay).unwrap();
    in_order.apply_update(&edit, UpdateOrigin::Relay).unwrap();
    assert_eq!(in_order.section_text(ProseSection::Summary), expected);

    // The edit arrives first (a reconnect can do that): it waits, then both apply.
    let reversed = Incident::new();
    reversed.apply_update(&edit, UpdateOrigin::Relay).unwrap();
    reversed.apply_update(&insert, UpdateOrigin::Relay).unwrap();
    assert_eq!(reversed.section_text(ProseSection::Summary), expected);
}

#[test]
fn our_state_vector_matches_what_yjs_encodes() {
    let inc = Incident::new();
    inc.apply_update(&fixture("state_full.bin"), UpdateOrigin::Relay)
        .unwrap();
    // Same clocks per client; the encoding's client order may differ, so compare decoded.
    use yrs::updates::decoder::Decode;
    let ours = yrs::StateVector::decode_v1(&inc.state_vector()).unwrap();
    let theirs = yrs::StateVector::decode_v1(&fixture("state_vector_full.bin")).unwrap();
    assert_eq!(ours, theirs);
}
