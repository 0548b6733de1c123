//! Indicators as a STIX 2.1 bundle.
//!
//! The bundle holds: an identity for whoever produced it, the TLP 2.0 marking definitions it
//! uses (the published objects, so every consumer knows them by id), one `indicator` per IOC
//! with a STIX pattern, and a `grouping` of them while the incident is open — a `report` once
//! it is closed. Ids are UUIDv5 of the incident and indicator ids, so exporting again gives
//! the same ids and a consumer updates what it has instead of adding copies; `modified` is the
//! time of the export. Indicators of kind "Other" have no STIX pattern and are left out (the
//! grouping's description says how many). A CVE id becomes a `vulnerability` (named by the
//! id, with the CVE list as external reference) in the grouping; a registry key a
//! `windows-registry-key` pattern with the hive written out; a path a `file` pattern (name
//! and folder) or, for a folder or share, a `directory` one. STIX has no host name object,
//! so host names (internal ones included) are `domain-name` patterns. The severity and the
//! incident type are the grouping's (or report's) `labels`: `severity:SEV1`,
//! `incident-type:ransomware`. A drill's grouping or report and each of its indicators are
//! labelled `drill`, and its name starts with "DRILL — ".

use serde_json::{json, Value};
use uuid::Uuid;

use super::{Audience, Snapshot};
use crate::indicator_value::IndicatorKind;
use crate::{Incident, IncidentStatus, ProseSection, Tlp};

/// Firebreak's namespace for the UUIDv5 ids of the objects it exports.
const NAMESPACE: Uuid = Uuid::from_u128(0x4764_dcd3_220b_4f7f_8d09_b37a_f148_c536);

/// The ids of the TLP 2.0 marking definitions as published by the OASIS CTI TC.
pub const TLP_MARKING_IDS: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The extension that defines TLP 2.0 markings in STIX 2.1.
const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The label of a drill's grouping or report and of each of its indicators.
const DRILL_STIX_LABEL: &str = "drill";

fn marking_id(tlp: Tlp) -> &'static str {
    TLP_MARKING_IDS
        .iter()
        .find(|(t, _)| *t == tlp)
        .map(|(_, id)| *id)
        .unwrap_or(TLP_MARKING_IDS[4].1)
}

fn marking_definition(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", tlp.as_str()),
        "extensions": {
            TLP_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.as_str().to_ascii_lowercase(),
            }
        }
    })
}

/// A stable id: the UUIDv5 of `name` with its version and variant bits set as a UUIDv4's,
/// which STIX asks for in domain objects. The same name always gives the same id.
fn stable_id(kind: &str, name: &str) -> String {
    let bytes = Uuid::new_v5(&NAMESPACE, name.as_bytes()).into_bytes();
    format!(
        "{kind}--{}",
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    )
}

/// A STIX pattern string literal: `'` and `\` escaped.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The pattern that matches `value` of `kind`; `None` for kinds STIX has no object for.
pub fn pattern(kind: IndicatorKind, value: &str) -> Option<String> {
    let path = match kind {
        IndicatorKind::Ipv4 => "ipv4-addr:value",
        IndicatorKind::Ipv6 => "ipv6-addr:value",
        IndicatorKind::Domain | IndicatorKind::Hostname => "domain-name:value",
        IndicatorKind::Url => "url:value",
        IndicatorKind::Email => "email-addr:value",
        IndicatorKind::Md5 => "file:hashes.MD5",
        IndicatorKind::Sha1 => "file:hashes.'SHA-1'",
        IndicatorKind::Sha256 => "file:hashes.'SHA-256'",
        IndicatorKind::FileName => "file:name",
        IndicatorKind::Account => "user-account:account_login",
        IndicatorKind::RegistryKey => {
            let key = crate::indicator_value::full_registry_key(value)
                .unwrap_or_else(|| value.to_string());
            return Some(format!("[windows-registry-key:key = {}]", literal(&key)));
        }
        IndicatorKind::FilePath => return Some(path_pattern(value)),
        // A CVE id is a vulnerability object, not something a pattern matches.
        IndicatorKind::Cve | IndicatorKind::Other => return None,
    };
    Some(format!("[{path} = {}]", literal(value)))
}

/// A path as a pattern: a UNC share root or a path ending in a separator is a directory;
/// anything else a file (its name and the path of the folder it is in).
fn path_pattern(value: &str) -> String {
    let is_unc_root = value
        .strip_prefix("\\\\")
        .is_some_and(|rest| rest.trim_end_matches('\\').matches('\\').count() <= 1);
    let trimmed = value.trim_end_matches(['\\', '/']);
    let split = trimmed.rfind(['\\', '/']);
    match split {
        Some(at) if !is_unc_root && trimmed.len() == value.len() && at > 0 => {
            let (folder, name) = (&trimmed[..at], &trimmed[at + 1..]);
            // `C:` alone is the drive's root folder.
            let folder = if folder.len() == 2 && folder.ends_with(':') {
                &trimmed[..at + 1]
            } else {
                folder
            };
            format!(
                "[file:name = {} AND file:parent_directory_ref.path = {}]",
                literal(name),
                literal(folder)
            )
        }
        _ => format!("[directory:path = {}]", literal(trimmed)),
    }
}

/// A CVE id as a STIX `vulnerability`, with the CVE list as its external reference.
fn vulnerability(
    id: &str,
    cve: &str,
    created: &str,
    modified: &str,
    tlp: Tlp,
    identity: &str,
) -> Value {
    json!({
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": id,
        "created_by_ref": identity,
        "created": created,
        "modified": modified,
        "name": cve,
        "external_references": [{
            "source_name": "cve",
            "external_id": cve,
        }],
        "object_marking_refs": [marking_id(tlp)],
    })
}

/// A time as STIX writes it (RFC 3339 UTC with milliseconds); `fallback` when unreadable.
fn timestamp(value: &str, fallback: &str) -> String {
    crate::when::parse_stored(value)
        .or_else(|| crate::when::parse_stored(fallback))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_string())
}

/// The indicators of `incident` the audience may receive, as a STIX 2.1 bundle (JSON).
pub fn stix_bundle(incident: &Incident, audience: &Audience<'_>) -> String {
    let s = Snapshot::read(incident, audience);
    let now = timestamp(&s.now, &s.now);
    let identity_id = stable_id("identity", "firebreak");
    let opened = timestamp(s.created_at.as_deref().unwrap_or(&s.now), &s.now);
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Firebreak",
        "identity_class": "system",
        "description": "The incident response workspace this bundle was exported from.",
    })];
    let mut used = vec![s.marking()];
    let mut refs = Vec::new();
    let mut without_pattern = 0;
    for (id, indicator, tlp) in &s.indicators {
        if indicator.kind == IndicatorKind::Cve {
            if !used.contains(tlp) {
                used.push(*tlp);
            }
            let created = timestamp(&indicator.added_at, &s.now);
            let object_id = stable_id("vulnerability", &format!("{}/{id}", s.incident_id));
            let modified = now.clone().max(created.clone());
            let cve = indicator.value.to_ascii_uppercase();
            objects.push(vulnerability(
                &object_id,
                &cve,
                &created,
                &modified,
                *tlp,
                &identity_id,
            ));
            refs.push(Value::String(object_id));
            continue;
        }
        let Some(pattern) = pattern(indicator.kind, &indicator.value) else {
            without_pattern += 1;
            continue;
        };
        if !used.contains(tlp) {
            used.push(*tlp);
        }
        let created = timestamp(&indicator.added_at, &s.now);
        let valid_from = timestamp(
            indicator
                .first_seen
                .as_deref()
                .unwrap_or(&indicator.added_at),
            &indicator.added_at,
        );
        let object_id = stable_id("indicator", &format!("{}/{id}", s.incident_id));
        let mut object = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": identity_id,
            "created": created,
            "modified": now.clone().max(created.clone()),
            "name": format!("{}: {}", indicator.kind.label(), indicator.value),
            "indicator_types": ["malicious-activity"],
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": valid_from,
            "object_marking_refs": [marking_id(*tlp)],
        });
        if s.drill {
            object["labels"] = json!([DRILL_STIX_LABEL]);
        }
        object["description"] = Value::String(if indicator.note.trim().is_empty() {
            format!(
                "{} seen in this incident; added by {} at {}.",
                indicator.kind.label(),
                if indicator.added_by.trim().is_empty() {
                    "a responder"
                } else {
                    indicator.added_by.trim()
                },
                indicator.added_at
            )
        } else {
            indicator.note.clone()
        });
        refs.push(Value::String(object_id));
        objects.push(object);
    }
    let mut description = String::new();
    if let Some((_, summary, _)) = s
        .sections
        .iter()
        .find(|(sec, _, _)| *sec == ProseSection::Summary)
    {
        description.push_str(summary.trim());
    }
    let mut remarks = Vec::new();
    if without_pattern > 0 {
        remarks.push(format!(
            "{without_pattern} indicator(s) of type Other have no STIX pattern and are not included."
        ));
    }
    if let Some(left_out) = s.left_out.describe() {
        remarks.push(format!(
            "Left out because marked above TLP:{}: {left_out}.",
            s.audience.as_str()
        ));
    }
    if !remarks.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&remarks.join(" "));
    }
    if refs.is_empty() {
        refs.push(Value::String(identity_id.clone()));
    }
    let closed = s.status == IncidentStatus::Closed;
    let container_kind = if closed { "report" } else { "grouping" };
    let mut container = json!({
        "type": container_kind,
        "spec_version": "2.1",
        "id": stable_id(container_kind, &s.incident_id),
        "created_by_ref": identity_id,
        "created": opened,
        "modified": now.clone().max(opened.clone()),
        "name": s.display_title(),
        "object_refs": refs,
        "object_marking_refs": [marking_id(s.marking())],
    });
    if closed {
        container["report_types"] = json!(["threat-report"]);
        container["published"] = Value::String(now.clone().max(opened));
    } else {
        container["context"] = Value::String("suspicious-activity".to_string());
    }
    if !description.is_empty() {
        container["description"] = Value::String(description);
    }
    let mut labels = Vec::new();
    if s.drill {
        labels.push(DRILL_STIX_LABEL.to_string());
    }
    if let Some(severity) = s.severity {
        labels.push(format!("severity:{}", severity.label()));
    }
    if let Some(kind) = s.incident_type {
        labels.push(format!("incident-type:{}", kind.key()));
    }
    if !labels.is_empty() {
        container["labels"] = json!(labels);
    }
    objects.push(container);
    crate::sort::sort_by_key(&mut used, |t| super::tlp_rank(*t));
    for tlp in used {
        objects.push(marking_definition(tlp));
    }
    let bundle = json!({
        "type": "bundle",
        "id": stable_id("bundle", &format!("{}/{}", s.incident_id, s.now)),
        "objects": objects,
    });
    serde_json::to_string_pretty(&bundle).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_literals_escape_quotes_and_backslashes() {
        assert_eq!(
            pattern(IndicatorKind::FileName, r"it's C:\evil.exe").unwrap(),
            r"[file:name = 'it\'s C:\\evil.exe']"
        );
        assert_eq!(pattern(IndicatorKind::Other, "x"), None);
    }

    #[test]
    fn tlp_marking_ids_are_the_published_ones() {
        // TLP 2.0 marking definitions as published by the OASIS CTI TC.
        let ids: Vec<&str> = TLP_MARKING_IDS.iter().map(|(_, id)| *id).collect();
        assert_eq!(
            ids,
            [
                "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
            ]
        );
    }
}
