//! Triage as a responder and a reader of the exports would notice it: severity and incident
//! type set, unset and merged from two devices; the new indicator kinds (CVE ids, registry
//! keys, paths, internal host names) detected, kept apart from lookalikes, and carried into
//! every export; both survive the incident file.
//!
//! With `FIREBREAK_PYTHON` set to a Python with stix2-validator and PyMISP (as for
//! `tests/exports.spec.js`), the STIX and MISP exports are also handed to
//! `tests/formats/check.py`.

use incident::export::{
    incident_file, indicators_csv, misp_event, read_incident_file, report, stix_bundle,
    to_markdown, Audience, ReportKind,
};
use incident::indicator_value::{canonical, defang, detect, refang};
use incident::{Incident, IncidentType, IndicatorKind, Severity, Tlp, UpdateOrigin};
use serde_json::Value;

const NOW: &str = "2026-11-30T12:00:00Z";

fn audience(tlp: Tlp) -> Audience<'static> {
    Audience {
        incident_id: "tri4ge",
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

#[test]
fn severity_and_type_start_unset_and_are_set_and_unset() {
    let incident = Incident::create("Ransom note on the file servers", NOW);
    assert_eq!(incident.severity(), None);
    assert_eq!(incident.incident_type(), None);

    incident.set_severity(Some(Severity::Sev1));
    incident.set_incident_type(Some(IncidentType::Ransomware));
    assert_eq!(incident.severity(), Some(Severity::Sev1));
    assert_eq!(incident.severity().unwrap().label(), "SEV1");
    assert!(incident
        .severity()
        .unwrap()
        .meaning()
        .starts_with("Critical"));
    assert_eq!(incident.incident_type(), Some(IncidentType::Ransomware));
    assert_eq!(incident.incident_type().unwrap().label(), "Ransomware");

    incident.set_severity(None);
    incident.set_incident_type(None);
    assert_eq!(incident.severity(), None);
    assert_eq!(incident.incident_type(), None);

    // Setting the same value again writes nothing to send.
    incident.set_severity(Some(Severity::Sev3));
    let before = incident.encode_state();
    incident.set_severity(Some(Severity::Sev3));
    assert_eq!(incident.encode_state(), before);
}

#[test]
fn every_severity_and_type_has_a_distinct_label() {
    let mut labels: Vec<&str> = Severity::ALL.iter().map(|s| s.label()).collect();
    labels.extend(IncidentType::ALL.iter().map(|t| t.label()));
    let count = labels.len();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), count);
    assert_eq!(
        IncidentType::ALL.map(|t| t.label()),
        [
            "Phishing",
            "Ransomware",
            "DDoS",
            "Data breach",
            "Leaked secret",
            "Compromised account",
            "Exploited web app",
            "Lost device",
            "Other"
        ]
    );
}

#[test]
fn concurrent_sets_converge_on_one_value() {
    let a = Incident::with_client_id(1);
    a.initialize("Two devices", NOW);
    let b = Incident::with_client_id(2);
    sync(&a, &b);

    a.set_severity(Some(Severity::Sev2));
    b.set_severity(Some(Severity::Sev4));
    a.set_incident_type(Some(IncidentType::Phishing));
    b.set_incident_type(None);
    sync(&a, &b);
    assert_eq!(a.severity(), b.severity());
    assert!(a.severity().is_some());
    assert_eq!(a.incident_type(), b.incident_type());

    // A later single change reaches the other device as it is.
    b.set_severity(Some(Severity::Sev1));
    b.set_incident_type(Some(IncidentType::DataBreach));
    sync(&a, &b);
    assert_eq!(a.severity(), Some(Severity::Sev1));
    assert_eq!(a.incident_type(), Some(IncidentType::DataBreach));
}

#[test]
fn new_indicator_kinds_are_detected_and_lookalikes_are_not() {
    use IndicatorKind::*;
    let cases: &[(&str, IndicatorKind)] = &[
        // CVE ids
        ("CVE-2024-3094", Cve),
        ("cve-2021-44228", Cve),
        ("CVE-2023-1234567", Cve),
        ("CVE-2024-123", Other),
        ("CVE-24-3094", Other),
        ("CVE-2024-30x4", Other),
        ("CVE 2024 3094", Other),
        // registry keys
        (
            "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            RegistryKey,
        ),
        (
            "HKEY_CURRENT_USER\\Software\\Classes\\ms-settings\\Shell\\Open\\command",
            RegistryKey,
        ),
        ("hkcu\\Environment", RegistryKey),
        (
            "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\evilsvc",
            RegistryKey,
        ),
        (
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
            RegistryKey,
        ),
        ("HKLM", Other),
        ("HKLM\\", Other),
        ("HKXX\\Software", Account),
        // file paths
        ("C:\\ProgramData\\svchost", FilePath),
        ("C:\\Program Files (x86)\\Vendor", FilePath),
        ("c:/Users/Public/Downloads", FilePath),
        ("\\\\fs01\\finance$", FilePath),
        ("\\\\fs01.corp.local\\share\\drop", FilePath),
        ("/usr/lib/.cache/kworker", FilePath),
        ("/etc/cron.d/backdoor", FilePath),
        ("C:\\Users\\Public\\evil.ps1", FileName),
        ("/tmp/.x/miner.sh", FileName),
        ("/tmp", Other),
        ("//evil.example/x", Other),
        ("C:", Other),
        ("C:\\", Other),
        ("\\\\fs01", Other),
        ("/a/<b>", Other),
        // accounts and emails stay as they were
        ("CORP\\jdoe", Account),
        ("jdoe@corp.example.com", Email),
        // host names
        ("fileserver.local", Hostname),
        ("ws-0231.corp", Hostname),
        ("dc01.ad.internal", Hostname),
        ("printer.home.arpa", Hostname),
        ("nas.lan", Hostname),
        ("mail.evil.example", Hostname),
        ("evil.example", Domain),
        ("example.co.uk", Domain),
        ("WS-0231", Other),
        ("localhost", Other),
    ];
    let mut wrong = Vec::new();
    for (value, kind) in cases {
        if detect(value) != *kind {
            wrong.push(format!("{value}: {:?}, expected {kind:?}", detect(value)));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    for kind in [Cve, RegistryKey, FilePath, Hostname] {
        assert!(
            cases.iter().any(|(_, k)| *k == kind),
            "no positive case for {kind:?}"
        );
        assert_eq!(IndicatorKind::from_key(kind.key()), Some(kind));
    }
    assert_eq!(Cve.label(), "CVE");
    assert_eq!(RegistryKey.label(), "Registry key");
    assert_eq!(FilePath.label(), "File path");
}

#[test]
fn new_kinds_canonicalise_and_defang() {
    use IndicatorKind::*;
    assert_eq!(canonical("cve-2024-3094", Cve), "CVE-2024-3094");
    assert_eq!(
        canonical("HKLM\\Software\\Evil\\", RegistryKey),
        "HKLM\\Software\\Evil"
    );
    assert_eq!(
        canonical("C:\\ProgramData\\x", FilePath),
        "C:\\ProgramData\\x"
    );
    assert_eq!(
        canonical("FileServer.Corp.LOCAL", Hostname),
        "fileserver.corp.local"
    );
    // Internal host names are defanged like domains; a one-word host has nothing to defang.
    assert_eq!(defang("fs01.corp.local", Hostname), "fs01[.]corp[.]local");
    assert_eq!(defang("WS-0231", Hostname), "WS-0231");
    for value in [
        "CVE-2024-3094",
        "HKLM\\Software\\Run",
        "C:\\ProgramData\\x",
        "\\\\fs01\\finance$",
        "/usr/lib/.cache/kworker",
        "fs01.corp.local",
    ] {
        let kind = detect(value);
        assert_eq!(refang(value), value);
        assert_eq!(refang(&defang(value, kind)), value, "{value}");
    }
    // Two spellings of a CVE id are one indicator.
    let incident = Incident::create("Dedupe", NOW);
    let first = incident
        .add_indicator("CVE-2024-3094", None, "A", NOW)
        .unwrap();
    let again = incident.add_indicator("cve-2024-3094", None, "B", NOW);
    assert!(again.is_err() || again.unwrap() == first);
    assert_eq!(incident.indicators().len(), 1);
}

/// An incident with every new kind, a severity and a type.
fn triaged() -> Incident {
    let incident = Incident::create("Ransomware at the file servers", "2026-11-29T22:10:00Z");
    incident.set_tlp(Tlp::Amber);
    incident.set_severity(Some(Severity::Sev1));
    incident.set_incident_type(Some(IncidentType::Ransomware));
    for value in [
        "CVE-2024-3094",
        "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater",
        "C:\\ProgramData\\updater",
        "\\\\fs01\\finance$",
        "/usr/lib/.cache/kworker",
        "fs01.corp.local",
        "CORP\\svc-backup",
        "203.0.113.7",
    ] {
        incident
            .add_indicator(value, None, "Dana", "2026-11-29T23:40:00Z")
            .unwrap();
    }
    incident
        .add_indicator("WS-0231", Some(IndicatorKind::Hostname), "Dana", NOW)
        .unwrap();
    incident
}

#[test]
fn reports_say_severity_and_type() {
    let incident = triaged();
    for kind in [ReportKind::Full, ReportKind::Executive] {
        let markdown = to_markdown(&report(&incident, &audience(Tlp::Amber), kind));
        assert!(markdown.contains("SEV1"), "{markdown}");
        assert!(markdown.contains(Severity::Sev1.meaning()), "{markdown}");
        assert!(markdown.contains("Ransomware"), "{markdown}");
    }
    let unset = Incident::create("Unsorted", NOW);
    let markdown = to_markdown(&report(&unset, &audience(Tlp::Amber), ReportKind::Full));
    assert!(markdown.contains("Not set"), "{markdown}");
    // Readers below the incident's level get neither (they come with its content).
    let green = to_markdown(&report(&incident, &audience(Tlp::Green), ReportKind::Full));
    assert!(
        !green.contains("SEV1") && !green.contains("Ransomware"),
        "{green}"
    );
}

#[test]
fn misp_event_carries_threat_level_type_tag_and_new_attribute_types() {
    let incident = triaged();
    let event: Value = serde_json::from_str(&misp_event(&incident, &audience(Tlp::Amber))).unwrap();
    let event = &event["Event"];
    assert_eq!(event["threat_level_id"], "1");
    let tags: Vec<&str> = event["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"firebreak:incident-type=\"ransomware\""),
        "{tags:?}"
    );
    let type_of = |value: &str| {
        event["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["value"] == value)
            .map(|a| {
                (
                    a["type"].as_str().unwrap().to_string(),
                    a["category"].clone(),
                )
            })
            .unwrap_or_else(|| panic!("{value} missing"))
    };
    assert_eq!(type_of("CVE-2024-3094").0, "vulnerability");
    assert_eq!(
        type_of("HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater").0,
        "regkey"
    );
    assert_eq!(type_of("C:\\ProgramData\\updater").0, "filename");
    assert_eq!(type_of("fs01.corp.local").0, "hostname");
    assert_eq!(type_of("ws-0231").0, "hostname");
    assert_eq!(type_of("CORP\\svc-backup").0, "target-user");

    for (severity, level) in [
        (Some(Severity::Sev2), "1"),
        (Some(Severity::Sev3), "2"),
        (Some(Severity::Sev4), "3"),
        (None, "4"),
    ] {
        incident.set_severity(severity);
        let event: Value =
            serde_json::from_str(&misp_event(&incident, &audience(Tlp::Amber))).unwrap();
        assert_eq!(event["Event"]["threat_level_id"], level, "{severity:?}");
    }
}

#[test]
fn stix_bundle_has_vulnerability_registry_key_path_and_labels() {
    let incident = triaged();
    let bundle: Value =
        serde_json::from_str(&stix_bundle(&incident, &audience(Tlp::Amber))).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let vulnerability = objects
        .iter()
        .find(|o| o["type"] == "vulnerability")
        .expect("a vulnerability");
    assert_eq!(vulnerability["name"], "CVE-2024-3094");
    assert_eq!(
        vulnerability["external_references"][0]["external_id"],
        "CVE-2024-3094"
    );
    assert_eq!(
        vulnerability["external_references"][0]["source_name"],
        "cve"
    );
    let patterns: Vec<&str> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    let has = |p: &str| patterns.contains(&p);
    assert!(
        has("[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\updater']"),
        "{patterns:#?}"
    );
    assert!(
        has("[file:name = 'updater' AND file:parent_directory_ref.path = 'C:\\\\ProgramData']"),
        "{patterns:#?}"
    );
    assert!(
        has("[directory:path = '\\\\\\\\fs01\\\\finance$']"),
        "{patterns:#?}"
    );
    assert!(
        has("[file:name = 'kworker' AND file:parent_directory_ref.path = '/usr/lib/.cache']"),
        "{patterns:#?}"
    );
    assert!(
        has("[domain-name:value = 'fs01.corp.local']"),
        "{patterns:#?}"
    );
    let grouping = objects.iter().find(|o| o["type"] == "grouping").unwrap();
    assert_eq!(
        grouping["labels"],
        serde_json::json!(["severity:SEV1", "incident-type:ransomware"])
    );
    assert!(grouping["object_refs"]
        .as_array()
        .unwrap()
        .contains(&vulnerability["id"]));
    check_with_consumers(&incident);

    // Closed, it is a report: the labels move with it and the consumers still accept it.
    incident.set_status(incident::IncidentStatus::Closed);
    let bundle: Value =
        serde_json::from_str(&stix_bundle(&incident, &audience(Tlp::Amber))).unwrap();
    let report = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "report")
        .expect("a report once closed");
    assert_eq!(
        report["labels"],
        serde_json::json!(["severity:SEV1", "incident-type:ransomware"])
    );
    check_with_consumers(&incident);
}

#[test]
fn csv_lists_new_kinds_by_key() {
    let csv = indicators_csv(&triaged(), &audience(Tlp::Amber));
    for row in [
        "\ncve,CVE-2024-3094,",
        "\nregistry_key,HKLM\\Software\\Microsoft",
        "\nfile_path,C:\\ProgramData\\updater,",
        "\nhostname,fs01.corp.local,",
    ] {
        assert!(csv.contains(row), "{row} missing in\n{csv}");
    }
}

#[test]
fn the_incident_file_keeps_severity_type_and_kinds() {
    let incident = triaged();
    let file = incident_file(&incident, &audience(Tlp::Red)).unwrap();
    let readable: Value = serde_json::from_str(&file).unwrap();
    let text = readable.to_string();
    assert!(text.contains("\"severity\":\"sev1\""), "{text}");
    assert!(text.contains("\"incident_type\":\"ransomware\""), "{text}");
    let opened = read_incident_file(&file).unwrap();
    let copy = Incident::new();
    copy.apply_update(&opened.state, UpdateOrigin::Storage)
        .unwrap();
    assert_eq!(copy.severity(), Some(Severity::Sev1));
    assert_eq!(copy.incident_type(), Some(IncidentType::Ransomware));
    let kinds: Vec<IndicatorKind> = copy.indicators().into_iter().map(|(_, i)| i.kind).collect();
    for kind in [
        IndicatorKind::Cve,
        IndicatorKind::RegistryKey,
        IndicatorKind::FilePath,
        IndicatorKind::Hostname,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} lost: {kinds:?}");
    }
}

/// Hands the exports to the STIX validator and PyMISP when a Python with them is named.
fn check_with_consumers(incident: &Incident) {
    let Ok(python) = std::env::var("FIREBREAK_PYTHON") else {
        println!("FIREBREAK_PYTHON not set: the STIX and MISP consumers are checked by tests/triage.spec.js");
        return;
    };
    let dir = std::env::temp_dir().join(format!("firebreak-triage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stix = dir.join("triage.stix.json");
    let misp = dir.join("triage.misp.json");
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

#[test]
fn role_handoffs_are_told_from_evidence() {
    use incident::{KillChainPhase, Role, TimelineEvent};
    let incident = Incident::create("Hand-offs", NOW);
    incident.claim_role(Role::Commander, "Alice", "2026-11-30T10:00:00Z", "h1");
    incident.claim_role(Role::Commander, "Bob", "2026-11-30T10:05:00Z", "h2");
    incident.release_role(Role::Commander, "2026-11-30T10:10:00Z", "h3");
    let evidence = TimelineEvent {
        occurred_at: "2026-11-30T09:00:00Z".into(),
        what: "Phishing mail reached 40 inboxes".into(),
        source: "mail gateway".into(),
        include_in_report: true,
        ..Default::default()
    };
    incident.add_timeline_event("e1", &evidence);
    // Someone typed "Roles" as the source of a real finding and linked evidence to it.
    let typed = TimelineEvent {
        occurred_at: "2026-11-30T09:30:00Z".into(),
        what: "The roles spreadsheet was shared publicly".into(),
        source: "Roles".into(),
        phase: Some(KillChainPhase::Reconnaissance),
        ..Default::default()
    };
    incident.add_timeline_event("e2", &typed);
    let handoffs: Vec<String> = incident
        .timeline()
        .into_iter()
        .filter(|(_, e)| e.is_role_handoff())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(handoffs, ["h1", "h2", "h3"]);
    // Putting one in the report makes it an ordinary event again; it is never lost.
    incident.set_timeline_in_report("h2", true);
    assert!(!incident.timeline_event("h2").unwrap().is_role_handoff());
    assert_eq!(incident.timeline().len(), 5);
}
