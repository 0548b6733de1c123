//! Exports as a reader of each one would notice: what a TLP audience gets, formula cells
//! neutralised, a timeline file that comes back as it went out, a bad file that changes
//! nothing. The formats' own consumers (the STIX validator, PyMISP, a CommonMark renderer)
//! check the same exports in the browser suite (`tests/exports.spec.js`).
//!
//! With `FIREBREAK_EXPORT_DIR` set, the sample incident's exports are also written there.

use incident::export::{
    import_timeline_csv, incident_file, indicators_csv, misp_event, read_incident_file, report,
    stix_bundle, timeline_csv, to_markdown, Audience, ReportKind,
};
use incident::{
    AnswerStatus, Incident, IncidentStatus, IndicatorKind, KillChainPhase, NextStep, ProseSection,
    Role, StepStatus, TimelineEvent, Tlp, QUESTIONS,
};

const NOW: &str = "2026-11-30T12:00:00Z";
const XSS: &str =
    "<img src=x onerror=alert(1)> [x](javascript:alert(2)) =HYPERLINK(\"http://evil\")";

fn sample() -> Incident {
    let incident = Incident::create("Phishing → ransomware at ACME", "2026-11-29T22:10:00Z");
    incident.set_tlp(Tlp::Amber);
    incident.set_display_zone("Europe/Berlin");
    incident.edit_section(
        ProseSection::Summary,
        "At 23:05 a finance clerk opened a fake invoice.\nTwo file servers were encrypted.\n\nNo data left, as far as we know.",
    );
    incident.edit_section(ProseSection::Details, XSS);
    incident.edit_section(
        ProseSection::LessonsLearned,
        "# not a heading\n- not a list\n1. not a list",
    );
    incident.claim_role(Role::Commander, "Dana", "2026-11-29T22:15:00Z", "role1");
    let values = [
        ("203.0.113.7", None),
        ("2001:db8::66", None),
        ("evil-invoices.example", None),
        ("hxxps://evil-invoices[.]example/pay?id=1'2", None),
        ("billing@evil-invoices.example", None),
        ("44d88612fea8a8f36de82e1278abb02f", None),
        ("3395856ce81f2b7382dee72602f798b642f14140", None),
        (
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            None,
        ),
        ("invoice_2026.pdf.exe", Some(IndicatorKind::FileName)),
        ("svc-backup", Some(IndicatorKind::Account)),
        ("mutex Global\\xyz", Some(IndicatorKind::Other)),
        ("198.51.100.99", None),
    ];
    for (value, kind) in values {
        incident
            .add_indicator(value, kind, "Dana", "2026-11-29T23:40:00Z")
            .unwrap();
    }
    let ids: Vec<(String, String)> = incident
        .indicators()
        .into_iter()
        .map(|(id, i)| (i.value, id))
        .collect();
    let id_of = |value: &str| ids.iter().find(|(v, _)| v == value).unwrap().1.clone();
    incident.set_indicator_tlp(&id_of("198.51.100.99"), Some(Tlp::Red));
    incident.set_indicator_tlp(&id_of("203.0.113.7"), Some(Tlp::Green));
    incident.set_indicator_field(
        &id_of("203.0.113.7"),
        incident::IndicatorField::Note,
        "C2 server; seen from 3 hosts",
    );
    let events = [
        (
            "e1",
            "2026-11-29T22:05:00Z",
            "Clerk opens invoice.pdf.exe",
            Some(KillChainPhase::Delivery),
            vec![id_of("invoice_2026.pdf.exe")],
        ),
        (
            "e2",
            "2026-11-29T22:07:00Z",
            "-1 beacon to C2, \"quoted\", and a comma",
            Some(KillChainPhase::CommandAndControl),
            vec![id_of("203.0.113.7"), id_of("198.51.100.99")],
        ),
        (
            "e3",
            "2026-11-29T23:30:00Z",
            "=cmd|' /C calc'!A0",
            None,
            vec![],
        ),
        (
            "e4",
            "2026-11-30T01:00:00Z",
            "File servers encrypted\nsecond line",
            Some(KillChainPhase::ActionsOnObjectives),
            vec![],
        ),
    ];
    for (id, at, what, phase, indicators) in events {
        // The encryption event is for named people only.
        let tlp = (id == "e4").then_some(Tlp::Red);
        incident.add_timeline_event(
            id,
            &TimelineEvent {
                occurred_at: at.to_string(),
                occurred_zone: Some("Europe/Berlin".to_string()),
                occurred_original: Some(format!("typed {at}")),
                discovered_at: Some("2026-11-30T02:00:00Z".to_string()),
                what: what.to_string(),
                source: "EDR".to_string(),
                data_link: "https://siem.example/case/42".to_string(),
                phase,
                indicators,
                author: "Dana".to_string(),
                include_in_report: true,
                tlp,
                notes: None,
            },
        );
    }
    // The lessons are for the whole community.
    incident.set_section_tlp(ProseSection::LessonsLearned, Some(Tlp::Green));
    incident.add_next_step(
        "s1",
        &NextStep {
            title: "Reset the clerk's password".to_string(),
            owner: "Sam".to_string(),
            owner_invite: String::new(),
            owner_role: None,
            status: StepStatus::Open,
            due: Some("2026-11-30T06:00:00Z".to_string()),
            created_by: "Dana".to_string(),
            created_at: "2026-11-29T23:00:00Z".to_string(),
        },
    );
    incident.set_answer_status(QUESTIONS[1], AnswerStatus::No, "Dana");
    incident.set_answer_text(QUESTIONS[1], "No sign of exfiltration so far", "Dana");
    incident
}

fn audience(tlp: Tlp) -> Audience<'static> {
    Audience {
        incident_id: "01jd8example",
        tlp,
        now: NOW,
    }
}

#[test]
fn a_green_export_holds_no_amber_or_red_content_and_says_so() {
    let incident = sample();
    let green = audience(Tlp::Green);
    let markdown = to_markdown(&report(&incident, &green, ReportKind::Full));
    assert!(
        !markdown.contains("Phishing"),
        "the AMBER title is withheld"
    );
    assert!(!markdown.contains("finance clerk"));
    assert!(
        markdown.contains(r"203\[.\]0\[.\]113\[.\]7"),
        "the GREEN indicator is in, defanged"
    );
    assert!(!markdown.contains("198[.]51"), "the RED indicator is out");
    assert!(markdown.contains("TLP:GREEN"));
    assert!(markdown.contains("left out") || markdown.contains("Left out"));

    for text in [
        stix_bundle(&incident, &green),
        misp_event(&incident, &green),
        indicators_csv(&incident, &green),
        timeline_csv(&incident, &green),
    ] {
        assert!(!text.contains("198.51.100.99"), "RED leaked into {text}");
        assert!(
            !text.contains("evil-invoices.example"),
            "AMBER leaked into {text}"
        );
    }
    assert!(indicators_csv(&incident, &green).contains("203.0.113.7"));

    assert!(
        markdown.contains(r"\# not a heading"),
        "the GREEN section is in: {markdown}"
    );
    assert!(!markdown.contains("File servers encrypted"));

    let amber = audience(Tlp::Amber);
    let markdown = to_markdown(&report(&incident, &amber, ReportKind::Full));
    assert!(markdown.contains("Phishing"));
    assert!(
        !markdown.contains("File servers encrypted"),
        "the RED event stays out"
    );
    assert!(!timeline_csv(&incident, &amber).contains("File servers encrypted"));
    assert!(timeline_csv(&incident, &audience(Tlp::Red)).contains("File servers encrypted"));
    assert!(
        !markdown.contains("198[.]51"),
        "RED stays out of an AMBER export"
    );
    assert!(timeline_csv(&incident, &amber).contains("203.0.113.7"));
    assert!(!timeline_csv(&incident, &amber).contains("198.51.100.99"));
    let red = audience(Tlp::Red);
    assert!(stix_bundle(&incident, &red).contains("198.51.100.99"));
}

#[test]
fn machine_formats_hold_real_values_and_the_report_defanged_ones() {
    let incident = sample();
    let amber = audience(Tlp::Amber);
    let stix = stix_bundle(&incident, &amber);
    assert!(
        stix.contains("[url:value = 'https://evil-invoices.example/pay?id=1\\\\'2']"),
        "{stix}"
    );
    assert!(!stix.contains("[.]") && !stix.contains("hxxp"));
    let misp = misp_event(&incident, &amber);
    assert!(misp.contains("\"evil-invoices.example\"") && !misp.contains("[.]"));
    let markdown = to_markdown(&report(&incident, &amber, ReportKind::Full));
    assert!(
        markdown.contains("hxxps://evil-invoices\\[.\\]example"),
        "{markdown}"
    );
}

#[test]
fn exporting_again_keeps_the_ids() {
    let incident = sample();
    let ids = |text: String| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] != "bundle")
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = ids(stix_bundle(&incident, &audience(Tlp::Amber)));
    let later = Audience {
        now: "2026-12-01T09:00:00Z",
        ..audience(Tlp::Amber)
    };
    assert_eq!(first, ids(stix_bundle(&incident, &later)));
    incident.set_status(IncidentStatus::Closed);
    let closed = stix_bundle(&incident, &audience(Tlp::Amber));
    assert!(closed.contains("\"type\": \"report\"") && !closed.contains("\"type\": \"grouping\""));
}

#[test]
fn csv_cells_that_would_be_formulas_are_neutralised() {
    let csv = timeline_csv(&sample(), &audience(Tlp::Amber));
    assert!(csv.contains(",'=cmd|"), "{csv}");
    assert!(
        csv.contains(",\"'-1 beacon to C2, \"\"quoted\"\", and a comma\","),
        "{csv}"
    );
    for line in csv.lines() {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '@']), "{cell} in {line}");
        }
    }
}

#[test]
fn a_timeline_file_comes_back_as_it_went_out() {
    let original = sample();
    let amber = audience(Tlp::Red);
    let csv = timeline_csv(&original, &amber);
    let copy = Incident::create("Copy", NOW);
    copy.set_display_zone("Europe/Berlin");
    let mut n = 0;
    let result = import_timeline_csv(&copy, &csv, "Importer", NOW, || {
        n += 1;
        format!("new{n}")
    })
    .unwrap();
    assert!(result.rejected.is_empty(), "{:?}", result.rejected);
    assert_eq!(result.added, original.timeline().len());
    assert_eq!(timeline_csv(&copy, &amber), csv);
    // Importing the same file again keeps both copies apart: the ids are taken, new ones are made.
    let again = import_timeline_csv(&copy, &csv, "Importer", NOW, || {
        n += 1;
        format!("new{n}")
    })
    .unwrap();
    assert_eq!(again.added, original.timeline().len());
    assert_eq!(copy.timeline().len(), 2 * original.timeline().len());
}

#[test]
fn a_spreadsheet_edited_file_imports_what_it_can_and_lists_the_rest() {
    let incident = Incident::create("Target", NOW);
    incident.set_display_zone("Europe/Berlin");
    let csv = "What,Occurred At,Analyst notes,phase\r\n\
               Login from new country,2026-11-30 03:00,checked,delivery\r\n\
               ,2026-11-30 03:10,no text,\r\n\
               Odd time,yesterday-ish,,\r\n\
               Bad phase,2026-11-30 04:00,,lateral movement\r\n\
               '=SUM(A1),2026-11-30T04:30:00Z,,\r\n";
    let mut n = 0;
    let result = import_timeline_csv(&incident, csv, "Importer", NOW, || {
        n += 1;
        format!("id{n}")
    })
    .unwrap();
    assert_eq!(result.added, 2);
    assert_eq!(result.ignored_columns, vec!["analyst_notes".to_string()]);
    let lines: Vec<usize> = result.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5], "{:?}", result.rejected);
    assert!(result.rejected[0].reason.contains("what"));
    assert!(result.rejected[2].reason.contains("lateral movement"));
    let timeline = incident.timeline();
    let login = &timeline
        .iter()
        .find(|(_, e)| e.what == "Login from new country")
        .unwrap()
        .1;
    assert_eq!(
        login.occurred_at, "2026-11-30T02:00:00Z",
        "03:00 Berlin is 02:00 UTC"
    );
    assert_eq!(login.author, "Importer");
    assert!(timeline.iter().any(|(_, e)| e.what == "=SUM(A1)"));
}

#[test]
fn a_file_that_is_not_a_timeline_changes_nothing() {
    let incident = Incident::create("Target", NOW);
    let before = incident.encode_state();
    for (bad, expect) in [
        ("", "empty"),
        ("name,value\r\na,b\r\n", "occurred_at"),
        (
            "occurred_at,what\r\n\"2026-11-30T04:30:00Z,cut short",
            "never closed",
        ),
    ] {
        let error = import_timeline_csv(&incident, bad, "x", NOW, || "id".into()).unwrap_err();
        assert!(error.contains(expect), "{error}");
    }
    assert_eq!(incident.encode_state(), before);
}

#[test]
fn the_executive_summary_is_short() {
    let incident = sample();
    let markdown = to_markdown(&report(
        &incident,
        &audience(Tlp::Amber),
        ReportKind::Executive,
    ));
    assert!(markdown.contains("finance clerk"));
    assert!(markdown.contains("Incident commander"));
    assert!(markdown.contains("Reset the clerk"));
    assert!(
        !markdown.contains("Clerk opens invoice"),
        "no timeline in the summary"
    );
    assert!(markdown.lines().count() < 60, "{markdown}");
}

#[test]
fn write_the_sample_exports_for_the_format_checkers() {
    let Ok(dir) = std::env::var("FIREBREAK_EXPORT_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let incident = sample();
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::Red] {
        let a = audience(tlp);
        let name = tlp.as_str().to_ascii_lowercase().replace('+', "-");
        let write = |file: String, text: String| std::fs::write(dir.join(file), text).unwrap();
        write(
            format!("report-{name}.md"),
            to_markdown(&report(&incident, &a, ReportKind::Full)),
        );
        write(
            format!("summary-{name}.md"),
            to_markdown(&report(&incident, &a, ReportKind::Executive)),
        );
        write(format!("stix-{name}.json"), stix_bundle(&incident, &a));
        write(format!("misp-{name}.json"), misp_event(&incident, &a));
        write(
            format!("indicators-{name}.csv"),
            indicators_csv(&incident, &a),
        );
        write(format!("timeline-{name}.csv"), timeline_csv(&incident, &a));
    }
    incident.set_status(IncidentStatus::Closed);
    std::fs::write(
        dir.join("stix-closed.json"),
        stix_bundle(&incident, &audience(Tlp::Amber)),
    )
    .unwrap();
}

#[test]
fn an_incident_file_opens_as_the_same_incident() {
    let original = sample();
    let red = audience(Tlp::Red);
    let file = incident_file(&original, &red).unwrap();
    let value: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(value["format"], "firebreak-incident");
    assert_eq!(value["incident"]["title"], "Phishing → ransomware at ACME");
    assert_eq!(value["incident"]["timeline"].as_array().unwrap().len(), 5);
    let opened = read_incident_file(&file).unwrap();
    assert_eq!(opened.title, "Phishing → ransomware at ACME");
    let copy = Incident::new();
    copy.apply_update(&opened.state, incident::UpdateOrigin::Local)
        .unwrap();
    assert_eq!(copy.timeline(), original.timeline());
    assert_eq!(copy.indicators(), original.indicators());
    assert_eq!(copy.section_text(ProseSection::Details), XSS);
    assert_eq!(timeline_csv(&copy, &red), timeline_csv(&original, &red));
}

#[test]
fn an_incident_file_is_only_made_for_readers_cleared_for_everything_in_it() {
    let error = incident_file(&sample(), &audience(Tlp::Amber)).unwrap_err();
    assert!(error.contains("TLP:RED"), "{error}");
}

#[test]
fn a_bad_incident_file_is_refused_with_its_reason() {
    let file = incident_file(&sample(), &audience(Tlp::Red)).unwrap();
    let newer = file.replace("\"version\": 1", "\"version\": 7");
    let empty_state = {
        let mut v: serde_json::Value = serde_json::from_str(&file).unwrap();
        v["state"] = serde_json::Value::String("AAA=".into());
        v.to_string()
    };
    let garbage_state = {
        let mut v: serde_json::Value = serde_json::from_str(&file).unwrap();
        v["state"] = serde_json::Value::String("AQID/////w==".into());
        v.to_string()
    };
    for (text, expect) in [
        (&file[..file.len() / 2], "cut short"),
        ("name,value\n", "not JSON"),
        (
            "{\"format\": \"something-else\"}",
            "not a Firebreak incident file",
        ),
        (newer.as_str(), "newer Firebreak"),
        (empty_state.as_str(), "not a Firebreak incident"),
        (garbage_state.as_str(), "damaged"),
    ] {
        let error = read_incident_file(text).unwrap_err();
        assert!(error.contains(expect), "{expect}: {error}");
    }
}
