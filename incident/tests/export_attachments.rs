//! Attachments in the exports, as their readers would notice: the report lists every file
//! still attached with its SHA-256, size, who added it when and to what (a hostile file name
//! stays text), leaves out what its audience may not see and says so, and never lists a
//! removed file; the whole-incident file lists them all, removed ones with who and when, and
//! can carry their bytes, each checked against its hash when the file is opened.
//! The Markdown is also rendered by a CommonMark renderer in `tests/export_attachments.spec.js`.

use base64::Engine;
use incident::export::{
    highest_marking, incident_file, incident_file_with_attachments, misp_event, read_incident_file,
    report, sha256_hex, to_markdown, AttachedFile, Audience, ReportKind, MAX_INCIDENT_FILE_BYTES,
};
use incident::{AttachTarget, Attachment, Incident, TimelineEvent, Tlp};

const NOW: &str = "2026-11-30T12:00:00Z";
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>|*x*](javascript:alert(2)).png";

fn audience(tlp: Tlp) -> Audience<'static> {
    Audience {
        incident_id: "01jdattach",
        tlp,
        now: NOW,
    }
}

/// The bytes of each sample file.
fn photo() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..204_800u32).map(|i| (i * 7 % 251) as u8));
    bytes
}

fn log_extract() -> Vec<u8> {
    b"2026-11-29T22:05:12Z sshd[812]: Accepted password for root from 203.0.113.7\n".to_vec()
}

fn memo() -> Vec<u8> {
    b"the first draft of the ransom note, wrong file".to_vec()
}

fn attach(incident: &Incident, id: &str, bytes: &[u8], name: &str, to: AttachTarget, at: &str) {
    incident
        .add_attachment(
            id,
            &Attachment {
                sha256: sha256_hex(bytes),
                name: name.to_string(),
                size: bytes.len() as u64,
                content_type: if name.ends_with(".png") {
                    "image/png"
                } else {
                    "text/plain"
                }
                .to_string(),
                added_by: "Dana".to_string(),
                added_by_invite: Some("inv-dana".to_string()),
                added_at: at.to_string(),
                attached_to: to,
                ..Default::default()
            },
        )
        .expect("attached");
}

/// An AMBER incident: a photo of the ransom note in the Appendix (with a hostile name), a
/// log extract on an event and on an indicator, a removed memo, and a photo on an event
/// marked RED.
fn sample() -> Incident {
    let incident = Incident::create("Ransom note on a kiosk", "2026-11-29T22:00:00Z");
    incident.set_tlp(Tlp::Amber);
    incident.set_display_zone("Europe/Berlin");
    incident
        .add_indicator("203.0.113.7", None, "Dana", "2026-11-29T22:30:00Z")
        .unwrap();
    let ip = incident.indicators()[0].0.clone();
    let event = |id: &str, at: &str, what: &str, tlp: Option<Tlp>| {
        incident.add_timeline_event(
            id,
            &TimelineEvent {
                occurred_at: at.to_string(),
                what: what.to_string(),
                source: "EDR".to_string(),
                author: "Dana".to_string(),
                include_in_report: true,
                tlp,
                ..Default::default()
            },
        );
    };
    event(
        "e1",
        "2026-11-29T22:05:00Z",
        "Root login from the internet",
        None,
    );
    event(
        "e2",
        "2026-11-29T23:00:00Z",
        "Kiosk shows a ransom note",
        Some(Tlp::Red),
    );
    attach(
        &incident,
        "a1",
        &photo(),
        HOSTILE_NAME,
        AttachTarget::Appendix,
        "2026-11-29T23:10:00Z",
    );
    attach(
        &incident,
        "a2",
        &log_extract(),
        "auth.log",
        AttachTarget::Event("e1".into()),
        "2026-11-29T23:20:00Z",
    );
    attach(
        &incident,
        "a3",
        &log_extract(),
        "auth.log",
        AttachTarget::Indicator(ip),
        "2026-11-29T23:21:00Z",
    );
    attach(
        &incident,
        "a4",
        &memo(),
        "draft.txt",
        AttachTarget::Appendix,
        "2026-11-29T23:30:00Z",
    );
    incident
        .remove_attachment("a4", "Sam", "2026-11-29T23:45:00Z")
        .unwrap();
    attach(
        &incident,
        "a5",
        &photo()[..1000],
        "kiosk-screen.png",
        AttachTarget::Event("e2".into()),
        "2026-11-29T23:40:00Z",
    );
    incident
}

#[test]
fn the_report_lists_each_attached_file_with_its_hash_and_never_a_removed_one() {
    let incident = sample();
    let markdown = to_markdown(&report(&incident, &audience(Tlp::Red), ReportKind::Full));
    let section = &markdown[markdown
        .find("## Attachments")
        .expect("an Attachments section")..];
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    assert_eq!(rows.len(), 4, "four files still attached:\n{section}");
    assert!(section.contains("| File | Size | SHA-256 | Added by | Added | Attached to |"));
    assert!(section.contains(&sha256_hex(&photo())));
    assert!(section.contains(&sha256_hex(&log_extract())));
    assert!(section.contains("200 KiB (204,816 bytes)"), "{section}");
    assert!(section.contains("76 bytes"), "{section}");
    assert!(
        section.contains("2026-11-30 00:10 CET"),
        "added, in the incident's zone"
    );
    assert!(
        section.contains("Timeline: 2026-11-29 23:05 CET — Root login from the internet"),
        "{section}"
    );
    assert!(
        section.contains("Indicator: IPv4 203\\[.\\]0\\[.\\]113\\[.\\]7"),
        "the indicator defanged, as in the report's table: {section}"
    );
    // A removed file is not in the report at all.
    assert!(!markdown.contains("draft.txt"));
    assert!(!markdown.contains(&sha256_hex(&memo())));
    // The hostile name is text: every character that would be a tag, a link or emphasis is
    // escaped (a CommonMark renderer checks the result in the browser suite).
    assert!(
        section.contains("\\<img src=x onerror=alert(1)\\>\\|\\*x\\*\\](javascript:alert(2)).png"),
        "{section}"
    );
    assert!(!markdown.contains(" <img"), "{section}");
    let photo_row = rows
        .iter()
        .find(|r| r.contains(&sha256_hex(&photo())))
        .unwrap();
    assert!(
        photo_row.contains("\\|"),
        "the name's | is escaped: {photo_row}"
    );
    assert!(photo_row.contains("Appendix"));
}

#[test]
fn a_file_on_something_withheld_is_withheld_with_it_and_counted() {
    let incident = sample();
    let amber = to_markdown(&report(&incident, &audience(Tlp::Amber), ReportKind::Full));
    assert!(amber.contains(&sha256_hex(&log_extract())));
    assert!(
        !amber.contains("kiosk-screen.png"),
        "the photo on the RED event stays out"
    );
    assert!(
        amber.contains(
            "Left out because marked above TLP:AMBER: 1 timeline event and 1 attachment."
        ),
        "{amber}"
    );
    let green = to_markdown(&report(&incident, &audience(Tlp::Green), ReportKind::Full));
    assert!(!green.contains("## Attachments"), "{green}");
    assert!(!green.contains(&sha256_hex(&photo())));
    assert!(green.contains("4 attachments"), "{green}");
    // The executive summary does not list files.
    let summary = to_markdown(&report(
        &incident,
        &audience(Tlp::Red),
        ReportKind::Executive,
    ));
    assert!(!summary.contains("## Attachments"));
}

#[test]
fn the_incident_file_lists_every_attachment_removed_ones_with_who_and_when() {
    let incident = sample();
    let file = incident_file(&incident, &audience(Tlp::Red)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&file).unwrap();
    let listed = value["incident"]["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 5);
    let removed = listed.iter().find(|a| a["id"] == "a4").unwrap();
    assert_eq!(removed["name"], "draft.txt");
    assert_eq!(removed["removed_by"], "Sam");
    assert_eq!(removed["removed_at"], "2026-11-29T23:45:00Z");
    assert_eq!(removed["sha256"], sha256_hex(&memo()));
    let on_event = listed.iter().find(|a| a["id"] == "a2").unwrap();
    assert_eq!(on_event["attached_to"], "timeline:e1");
    assert_eq!(on_event["size"], 76);
    assert_eq!(on_event["added_by"], "Dana");
    assert_eq!(on_event["added_by_invite"], "inv-dana");
    assert_eq!(on_event["removed_by"], serde_json::Value::Null);
    // Without the bytes: none carried, every listed file named as left out, once.
    assert!(value.get("attachments").is_none());
    assert_eq!(value["attachments_left_out"].as_array().unwrap().len(), 4);

    // The RED event (and the file on it) make the whole file RED-only.
    let refused = incident_file(&incident, &audience(Tlp::Amber)).unwrap_err();
    assert!(refused.contains("TLP:RED"), "{refused}");
    assert_eq!(highest_marking(&incident), Tlp::Red);
}

fn given(bytes: &[u8], content_type: &str) -> AttachedFile {
    AttachedFile {
        sha256: sha256_hex(bytes),
        content_type: content_type.to_string(),
        bytes: bytes.to_vec(),
    }
}

#[test]
fn an_incident_file_carries_the_bytes_and_opens_with_them_checked() {
    let incident = sample();
    let red = audience(Tlp::Red);
    let stranger = b"not attached to this incident".to_vec();
    let saved = incident_file_with_attachments(
        &incident,
        &red,
        &[
            given(&photo(), "image/png"),
            given(&log_extract(), "text/plain; charset=utf-8"),
            given(&stranger, "text/plain"),
        ],
    )
    .unwrap();
    assert!(saved.too_big.is_empty());
    let mut missing = saved.not_given.clone();
    missing.sort();
    let mut expected = vec![sha256_hex(&memo()), sha256_hex(&photo()[..1000])];
    expected.sort();
    assert_eq!(
        missing, expected,
        "the memo and the kiosk photo were not given"
    );
    assert!(
        !saved
            .text
            .contains(&base64::engine::general_purpose::STANDARD.encode(&stranger)),
        "a file the incident does not list is not carried"
    );

    let opened = read_incident_file(&saved.text).unwrap();
    assert_eq!(opened.attachments.len(), 2);
    let log = opened
        .attachments
        .iter()
        .find(|a| a.sha256 == sha256_hex(&log_extract()))
        .unwrap();
    assert_eq!(log.bytes, log_extract());
    assert_eq!(log.content_type, "text/plain");
    assert!(opened.attachments.iter().any(|a| a.bytes == photo()));
    let copy = Incident::new();
    copy.apply_update(&opened.state, incident::UpdateOrigin::Local)
        .unwrap();
    assert_eq!(copy.attachments(), incident.attachments());

    // Bytes given that are not the file their hash names: no file is made.
    let mut wrong = given(&photo(), "image/png");
    wrong.bytes[20] ^= 1;
    let error = incident_file_with_attachments(&incident, &red, &[wrong]).unwrap_err();
    assert!(error.contains("are not that file"), "{error}");
}

#[test]
fn a_file_whose_carried_bytes_were_altered_or_added_is_refused_with_its_reason() {
    let incident = sample();
    let saved = incident_file_with_attachments(
        &incident,
        &audience(Tlp::Red),
        &[given(&log_extract(), "text/plain")],
    )
    .unwrap();
    let value: serde_json::Value = serde_json::from_str(&saved.text).unwrap();
    let altered = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        change(&mut v);
        v.to_string()
    };
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let other_bytes = altered(&|v| {
        v["attachments"][0]["data"] = b64(b"2026-11-29T22:05:12Z nothing happened\n").into()
    });
    let not_base64 = altered(&|v| v["attachments"][0]["data"] = "@@@".into());
    let bad_hash = altered(&|v| v["attachments"][0]["sha256"] = "evidence.txt".into());
    let stranger = b"a file smuggled in";
    let unlisted = altered(&|v| {
        v["attachments"][0]["sha256"] = sha256_hex(stranger).into();
        v["attachments"][0]["data"] = b64(stranger).into();
    });
    let not_a_list = altered(&|v| v["attachments"] = "everything".into());
    let no_data = altered(&|v| {
        v["attachments"][0].as_object_mut().unwrap().remove("data");
    });
    for (text, expect) in [
        (
            other_bytes,
            "\"auth.log\" in the file is damaged: its bytes' SHA-256 is",
        ),
        (not_base64, "not base64"),
        (bad_hash, "must be 64 hexadecimal characters"),
        (unlisted, "does not list"),
        (not_a_list, "not a list of files"),
        (no_data, "no \"data\""),
    ] {
        let error = read_incident_file(&text).unwrap_err();
        assert!(error.contains(expect), "{expect}: {error}");
    }
    // Untouched, it opens; an older file without the list opens with none.
    assert_eq!(
        read_incident_file(&saved.text).unwrap().attachments.len(),
        1
    );
    let older = altered(&|v| {
        v.as_object_mut().unwrap().remove("attachments");
    });
    assert!(read_incident_file(&older).unwrap().attachments.is_empty());
}

#[test]
fn files_that_would_pass_the_size_bound_are_left_out_and_the_file_still_opens() {
    let incident = Incident::create("Big evidence", "2026-11-29T22:00:00Z");
    let big: Vec<Vec<u8>> = (0..3u8)
        .map(|n| {
            (0..20_000_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8 ^ n)
                .collect()
        })
        .collect();
    for (n, bytes) in big.iter().enumerate() {
        attach(
            &incident,
            &format!("big{n}"),
            bytes,
            &format!("disk-{n}.img"),
            AttachTarget::Appendix,
            &format!("2026-11-29T23:0{n}:00Z"),
        );
    }
    let files: Vec<AttachedFile> = big
        .iter()
        .map(|b| given(b, "application/octet-stream"))
        .collect();
    let saved = incident_file_with_attachments(&incident, &audience(Tlp::Red), &files).unwrap();
    println!(
        "three 20,000,000-byte files: {} carried in a file of {} bytes (bound {MAX_INCIDENT_FILE_BYTES}), {} left out",
        3 - saved.too_big.len(),
        saved.text.len(),
        saved.too_big.len()
    );
    assert!(saved.text.len() <= MAX_INCIDENT_FILE_BYTES);
    assert_eq!(
        saved.too_big,
        vec![sha256_hex(&big[2])],
        "the last one attached does not fit"
    );
    let value: serde_json::Value = serde_json::from_str(&saved.text).unwrap();
    assert_eq!(
        value["attachments_left_out"],
        serde_json::json!([sha256_hex(&big[2])])
    );
    let opened = read_incident_file(&saved.text).unwrap();
    assert_eq!(opened.attachments.len(), 2);
    assert!(opened.attachments[0].bytes == big[0]);
    assert!(opened.attachments[1].bytes == big[1]);
}

#[test]
fn a_file_on_an_indicator_is_a_misp_filename_and_sha256_attribute_never_to_ids() {
    let incident = sample();
    let event: serde_json::Value =
        serde_json::from_str(&misp_event(&incident, &audience(Tlp::Amber))).unwrap();
    let evidence: Vec<&serde_json::Value> = event["Event"]["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "filename|sha256")
        .collect();
    assert_eq!(
        evidence.len(),
        1,
        "only the file on the indicator: {evidence:?}"
    );
    assert_eq!(
        evidence[0]["value"],
        format!("auth.log|{}", sha256_hex(&log_extract()))
    );
    assert_eq!(evidence[0]["category"], "External analysis");
    assert_eq!(evidence[0]["to_ids"], false);
    assert_eq!(evidence[0]["Tag"][0]["name"], "tlp:amber");
    // For GREEN readers the AMBER indicator is withheld, and so is its file.
    let green = misp_event(&incident, &audience(Tlp::Green));
    assert!(!green.contains(&sha256_hex(&log_extract())));
}
