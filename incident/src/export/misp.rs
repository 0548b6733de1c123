//! Indicators as a MISP event (the JSON MISP's "Add event from JSON" and PyMISP load).
//!
//! Each indicator becomes an attribute of the MISP type and category MISP defines for it;
//! values MISP would use to detect (addresses, domains, URLs, hashes, file names, mail
//! senders) are marked `to_ids`, context (accounts, other text) is not. TLP is written as
//! MISP's `tlp:` tags on the event (the export's marking) and on every attribute (its own).
//! The severity sets the event's `threat_level_id` ([`threat_level`]) and the incident type
//! is a machine tag `firebreak:incident-type="ransomware"`; both are left out (threat level
//! Undefined) when the audience may not see the incident's own content. A drill's event is
//! tagged `firebreak:drill="yes"` for every audience, its info starts with "DRILL — " and no
//! attribute is marked `to_ids`: an exercise's indicators never feed detection.
//! A file attached to an indicator (and not removed) is a `filename|sha256` attribute in
//! "External analysis", never `to_ids` (it is evidence about the indicator, not one), with
//! the indicator's TLP tag; the bytes stay out (a MISP `attachment` needs them).
//! The event and attribute UUIDs are derived from the incident and indicator ids, so importing
//! again updates the same event. The event is not published.

use serde_json::{json, Value};
use uuid::Uuid;

use super::{Audience, Snapshot};
use crate::indicator_value::IndicatorKind;
use crate::{AttachTarget, Incident, IncidentStatus, Severity, Tlp};

const NAMESPACE: Uuid = Uuid::from_u128(0x9a6c_0d2e_5f41_4c8b_a7e3_51d2_8e0f_6b19);

/// MISP's type, category and whether to use it for detection, for each kind.
pub fn misp_type(kind: IndicatorKind) -> (&'static str, &'static str, bool) {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => ("ip-dst", "Network activity", true),
        IndicatorKind::Domain => ("domain", "Network activity", true),
        IndicatorKind::Hostname => ("hostname", "Network activity", true),
        IndicatorKind::Url => ("url", "Network activity", true),
        IndicatorKind::Email => ("email-src", "Payload delivery", true),
        IndicatorKind::Md5 => ("md5", "Payload delivery", true),
        IndicatorKind::Sha1 => ("sha1", "Payload delivery", true),
        IndicatorKind::Sha256 => ("sha256", "Payload delivery", true),
        IndicatorKind::FileName => ("filename", "Payload delivery", true),
        IndicatorKind::Account => ("target-user", "Targeting data", false),
        IndicatorKind::FilePath => ("filename", "Artifacts dropped", true),
        IndicatorKind::RegistryKey => ("regkey", "Persistence mechanism", true),
        IndicatorKind::Cve => ("vulnerability", "External analysis", false),
        IndicatorKind::Other => ("text", "Other", false),
    }
}

/// MISP's threat level for a severity: SEV1 and SEV2 are High (1), SEV3 Medium (2), SEV4
/// Low (3); not set (or withheld) is Undefined (4).
pub fn threat_level(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Sev1 | Severity::Sev2) => "1",
        Some(Severity::Sev3) => "2",
        Some(Severity::Sev4) => "3",
        None => "4",
    }
}

fn tag(tlp: Tlp) -> Value {
    json!({ "name": format!("tlp:{}", tlp.as_str().to_ascii_lowercase()) })
}

fn seconds(value: &str, fallback: &str) -> i64 {
    crate::when::parse_stored(value)
        .or_else(|| crate::when::parse_stored(fallback))
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

fn iso(value: &str) -> Option<String> {
    crate::when::parse_stored(value).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string())
}

/// The indicators of `incident` the audience may receive, as a MISP event (JSON).
pub fn misp_event(incident: &Incident, audience: &Audience<'_>) -> String {
    let s = Snapshot::read(incident, audience);
    let now = seconds(&s.now, &s.now);
    let date = crate::when::parse_stored(s.created_at.as_deref().unwrap_or(&s.now))
        .or_else(|| crate::when::parse_stored(&s.now))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".to_string());
    let attributes: Vec<Value> = s
        .indicators
        .iter()
        .map(|(id, indicator, tlp)| {
            let (kind, category, to_ids) = misp_type(indicator.kind);
            // A drill's indicators never feed detection.
            let to_ids = to_ids && !s.drill;
            let mut attribute = json!({
                "uuid": Uuid::new_v5(&NAMESPACE, format!("{}/{id}", s.incident_id).as_bytes()).to_string(),
                "type": kind,
                "category": category,
                "value": indicator.value,
                "to_ids": to_ids,
                "comment": indicator.note,
                "distribution": "5",
                "timestamp": now.to_string(),
                "Tag": [tag(*tlp)],
            });
            if let Some(first) = indicator.first_seen.as_deref().and_then(iso) {
                attribute["first_seen"] = Value::String(first);
            }
            if let Some(last) = indicator.last_seen.as_deref().and_then(iso) {
                attribute["last_seen"] = Value::String(last);
            }
            attribute
        })
        .collect();
    // Evidence files on the indicators this event carries.
    let evidence = s.attachments.iter().filter_map(|shown| {
        let AttachTarget::Indicator(on) = &shown.attachment.attached_to else {
            return None;
        };
        if shown.attachment.is_removed() {
            return None;
        }
        let (_, indicator, _) = s.indicators.iter().find(|(id, _, _)| id == on)?;
        // `|` separates the two halves of MISP's composite value.
        let name = shown.attachment.name.replace('|', "_");
        Some(json!({
            "uuid": Uuid::new_v5(
                &NAMESPACE,
                format!("{}/attachment/{}", s.incident_id, shown.id).as_bytes(),
            )
            .to_string(),
            "type": "filename|sha256",
            "category": "External analysis",
            "value": format!("{name}|{}", shown.attachment.sha256),
            "to_ids": false,
            "comment": format!("Evidence attached to the indicator {}", indicator.value),
            "distribution": "5",
            "timestamp": now.to_string(),
            "Tag": [tag(shown.marking)],
        }))
    });
    let attributes: Vec<Value> = attributes.into_iter().chain(evidence).collect();
    let analysis = match s.status {
        IncidentStatus::Open | IncidentStatus::Contained => "1",
        IncidentStatus::Resolved | IncidentStatus::Closed => "2",
    };
    let mut event_tags = vec![tag(s.marking())];
    if s.drill {
        event_tags.push(json!({ "name": "firebreak:drill=\"yes\"" }));
    }
    if let Some(kind) = s.incident_type {
        event_tags.push(json!({ "name": format!("firebreak:incident-type=\"{}\"", kind.key()) }));
    }
    let event = json!({
        "Event": {
            "uuid": Uuid::new_v5(&NAMESPACE, s.incident_id.as_bytes()).to_string(),
            "info": s.display_title(),
            "date": date,
            "timestamp": now.to_string(),
            "published": false,
            "analysis": analysis,
            "threat_level_id": threat_level(s.severity),
            "distribution": "0",
            "Tag": event_tags,
            "Attribute": attributes,
        }
    });
    serde_json::to_string_pretty(&event).unwrap_or_default()
}
