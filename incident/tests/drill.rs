//! Drills as a responder and a reader of the exports would notice them: an incident marked
//! as a drill (and unmarked) from two devices, an incident without the mark being a real one,
//! and the mark on every export — the report's title and facts, the CSV files' drill column,
//! STIX labels, the MISP tag (with no attribute feeding detection), the file names and the
//! incident file — even for an audience that may see nothing else of the incident.
//!
//! With `FIREBREAK_PYTHON` set to a Python with stix2-validator and PyMISP (as for
//! `tests/exports.spec.js`), a drill's STIX and MISP exports are also handed to
//! `tests/formats/check.py`.

use incident::export::{
    file_stem, import_timeline_csv, incident_file, indicators_csv, misp_event, report, stix_bundle,
    timeline_csv, to_markdown, Audience, ReportKind,
};
use incident::{Incident, TimelineEvent, Tlp, UpdateOrigin, DRILL_LABEL, DRILL_MEANING};
use serde_json::Value;

const NOW: &str = "2026-11-30T12:00:00Z";

fn audience(tlp: Tlp) -> Audience<'static> {
    Audience {
        incident_id: "dr1ll",
        tlp,
        now: NOW,
    }
}

fn sync(a: &Incident, b: &Incident) {
    b.apply_update(&a.encode_state(), UpdateOrigin::Relay)
        .unwrap();
    a.apply_update(&b.encode_state(), UpdateOrigin::Relay)
        .unwrap();
}

/// A tabletop ransomware exercise with an indicator and an event, marked AMBER.
fn exercise() -> Incident {
    let incident = Incident::create("Ransomware tabletop", NOW);
    incident.set_tlp(Tlp::Amber);
    incident.set_drill(true);
    incident
        .add_indicator("203.0.113.7", None, "Dana", NOW)
        .unwrap();
    incident.add_timeline_event(
        "e1",
        &TimelineEvent {
            occurred_at: "2026-11-30T10:00:00Z".into(),
            what: "Inject 1: the ransom note".into(),
            author: "Dana".into(),
            include_in_report: true,
            ..Default::default()
        },
    );
    incident
}

#[test]
fn an_incident_is_real_until_marked_and_the_mark_merges() {
    let a = Incident::with_client_id(1);
    a.initialize("Exercise", NOW);
    assert!(!a.is_drill(), "no mark: a real incident");
    // Unmarking what was never marked writes nothing.
    let before = a.state_vector();
    a.set_drill(false);
    assert_eq!(a.state_vector(), before);

    let b = Incident::with_client_id(2);
    sync(&a, &b);
    b.set_drill(true);
    sync(&a, &b);
    assert!(a.is_drill() && b.is_drill());

    // Unmarked on one device while marked again on the other: both settle on one answer.
    a.set_drill(false);
    b.set_drill(true);
    sync(&a, &b);
    assert_eq!(a.is_drill(), b.is_drill());
    a.set_drill(false);
    sync(&a, &b);
    assert!(!a.is_drill() && !b.is_drill());
}

#[test]
fn marking_and_unmarking_read_as_changes_in_words() {
    use incident::history::changes;
    let incident = Incident::create("Exercise", NOW);
    let before = Incident::new();
    before
        .apply_update(&incident.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    incident.set_drill(true);
    let zone = incident.display_zone();
    let lines: Vec<String> = changes(&before, &incident)
        .iter()
        .map(|c| c.describe(&zone))
        .collect();
    assert_eq!(lines, ["Marked as a drill"]);
    let marked = Incident::new();
    marked
        .apply_update(&incident.encode_state(), UpdateOrigin::Storage)
        .unwrap();
    incident.set_drill(false);
    let lines: Vec<String> = changes(&marked, &incident)
        .iter()
        .map(|c| c.describe(&zone))
        .collect();
    assert_eq!(lines, ["Marked as a real incident, not a drill"]);
}

#[test]
fn the_report_says_drill_in_its_title_and_first_fact_for_every_audience() {
    let incident = exercise();
    let full = report(&incident, &audience(Tlp::Amber), ReportKind::Full);
    assert_eq!(full.title, "DRILL — Ransomware tabletop");
    let markdown = to_markdown(&full);
    assert!(
        markdown.contains("# DRILL — Ransomware tabletop\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("- **{DRILL_LABEL}:** {DRILL_MEANING}\n")),
        "{markdown}"
    );
    let executive = to_markdown(&report(
        &incident,
        &audience(Tlp::Amber),
        ReportKind::Executive,
    ));
    assert!(executive.contains("# DRILL — "), "{executive}");

    // A GREEN reader sees nothing of the AMBER incident, but still that it is a drill.
    let green = to_markdown(&report(&incident, &audience(Tlp::Green), ReportKind::Full));
    assert!(!green.contains("Ransomware tabletop"), "{green}");
    assert!(green.contains("# DRILL — Incident dr1ll\n"), "{green}");
    assert!(green.contains(DRILL_MEANING), "{green}");

    // A real incident's report has none of it.
    incident.set_drill(false);
    let real = to_markdown(&report(&incident, &audience(Tlp::Amber), ReportKind::Full));
    assert!(real.contains("# Ransomware tabletop\n"), "{real}");
    assert!(!real.contains("DRILL"), "{real}");
}

#[test]
fn a_drills_csv_files_end_with_a_drill_column_and_read_back_without_it() {
    let incident = exercise();
    let amber = audience(Tlp::Amber);
    for csv in [
        indicators_csv(&incident, &amber),
        timeline_csv(&incident, &amber),
    ] {
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().ends_with(",drill"), "{csv}");
        let rows: Vec<&str> = lines.collect();
        assert!(!rows.is_empty(), "{csv}");
        assert!(rows.iter().all(|row| row.ends_with(",yes")), "{csv}");
    }

    // A drill's timeline read into a real incident: the column is known, and does not make
    // the incident a drill (that is its owner's call).
    let real = Incident::create("Real one", NOW);
    let imported = import_timeline_csv(&real, &timeline_csv(&incident, &amber), "Eve", NOW, || {
        "x".into()
    })
    .unwrap();
    assert_eq!(imported.added, 1, "{:?}", imported.rejected);
    assert_eq!(imported.ignored_columns, Vec::<String>::new());
    assert!(!real.is_drill());
    for csv in [indicators_csv(&real, &amber), timeline_csv(&real, &amber)] {
        assert!(!csv.contains("drill"), "a real incident's CSV: {csv}");
    }
}

#[test]
fn stix_and_misp_label_a_drill_and_nothing_of_it_feeds_detection() {
    let incident = exercise();
    for tlp in [Tlp::Amber, Tlp::Green] {
        let stix: Value = serde_json::from_str(&stix_bundle(&incident, &audience(tlp))).unwrap();
        let objects = stix["objects"].as_array().unwrap();
        let container = objects
            .iter()
            .find(|o| o["type"] == "grouping")
            .expect("a grouping");
        assert!(
            container["labels"]
                .as_array()
                .unwrap()
                .contains(&Value::from("drill")),
            "{tlp:?}: {container}"
        );
        assert!(container["name"].as_str().unwrap().starts_with("DRILL — "));
        for indicator in objects.iter().filter(|o| o["type"] == "indicator") {
            assert_eq!(
                indicator["labels"],
                serde_json::json!(["drill"]),
                "{indicator}"
            );
        }

        let misp: Value = serde_json::from_str(&misp_event(&incident, &audience(tlp))).unwrap();
        let event = &misp["Event"];
        let tags: Vec<&str> = event["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"firebreak:drill=\"yes\""),
            "{tlp:?}: {tags:?}"
        );
        assert!(event["info"].as_str().unwrap().starts_with("DRILL — "));
        for attribute in event["Attribute"].as_array().unwrap() {
            assert_eq!(attribute["to_ids"], false, "{attribute}");
        }
    }
    check_with_consumers(&incident);

    // A real incident's indicators do feed detection, and carry no drill label.
    incident.set_drill(false);
    let misp: Value = serde_json::from_str(&misp_event(&incident, &audience(Tlp::Amber))).unwrap();
    assert_eq!(misp["Event"]["Attribute"][0]["to_ids"], true);
    assert!(!stix_bundle(&incident, &audience(Tlp::Amber)).contains("drill"));
}

#[test]
fn file_names_and_the_incident_file_say_drill() {
    let incident = exercise();
    assert_eq!(
        file_stem(&incident, &audience(Tlp::Amber)),
        "drill-ransomware-tabletop"
    );
    assert_eq!(
        file_stem(&incident, &audience(Tlp::Green)),
        "drill-incident-dr1ll"
    );
    let file: Value =
        serde_json::from_str(&incident_file(&incident, &audience(Tlp::Red)).unwrap()).unwrap();
    assert_eq!(file["incident"]["drill"], true);
    incident.set_drill(false);
    assert_eq!(
        file_stem(&incident, &audience(Tlp::Amber)),
        "ransomware-tabletop"
    );
}

/// Hands the exports to the STIX validator and PyMISP when a Python with them is named.
fn check_with_consumers(incident: &Incident) {
    let Ok(python) = std::env::var("FIREBREAK_PYTHON") else {
        println!("FIREBREAK_PYTHON not set: the STIX and MISP consumers are not run here");
        return;
    };
    let dir = std::env::temp_dir().join(format!("firebreak-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stix = dir.join("drill.stix.json");
    let misp = dir.join("drill.misp.json");
    std::fs::write(&stix, stix_bundle(incident, &audience(Tlp::Amber))).unwrap();
    std::fs::write(&misp, misp_event(incident, &audience(Tlp::Amber))).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/formats/check.py");
    for (kind, file) in [("stix", &stix), ("misp", &misp)] {
        let out = std::process::Command::new(&python)
            .arg(script)
            .arg(kind)
            .arg(file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let result: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
            panic!(
                "{kind}: {e}: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(
            result["problems"],
            serde_json::json!([]),
            "{kind}: {result}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
