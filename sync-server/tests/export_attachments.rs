//! The relay's incident file with the attachments' bytes
//! (`GET …/export/incident?attachments=include`), against the real relay binary: a device
//! attaches files in the document and uploads their bytes, and the file the relay makes
//! carries the uploaded ones, which `read_incident_file` checks against their hashes; a file
//! not uploaded yet is named as left out. Bad values of the parameter are refused.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{device_for, Client, Relay};
use incident::export::{read_incident_file, sha256_hex};
use incident::{AttachTarget, Attachment, Incident};
use yrs::sync::{Message, SyncMessage};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// `PUT …/blobs/{sha256}` with the bytes; the status.
fn upload(relay: &Relay, incident: &str, token: &str, content_type: &str, bytes: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(&relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let head = format!(
        "PUT /api/incidents/{incident}/blobs/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        sha256_hex(bytes),
        device_for(token),
        bytes.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(bytes).expect("body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status")
}

fn attachment(bytes: &[u8], name: &str, content_type: &str, at: &str) -> Attachment {
    Attachment {
        sha256: sha256_hex(bytes),
        name: name.into(),
        size: bytes.len() as u64,
        content_type: content_type.into(),
        added_by: "Owner".into(),
        added_at: at.into(),
        attached_to: AttachTarget::Appendix,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_relay_s_incident_file_carries_the_uploaded_attachments_checked() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let id = "inc-file-bytes";
    let owner = relay.owner_token(id);

    let photo: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
        .iter()
        .copied()
        .chain((0..300_000u32).map(|i| (i * 13 % 251) as u8))
        .collect();
    let log = b"2026-11-29T22:05:12Z sshd: Accepted password for root\n".to_vec();
    let pending = b"still on the phone that attached it".to_vec();

    // The device writes the attachments into the document and sends it.
    let mut client = Client::connect_with(&relay, id, Some(&owner)).await;
    client.pump_until(|c| c.synced).await;
    let doc = Incident::with_client_id(77);
    doc.initialize("Ransom note on a kiosk", "2026-11-29T22:00:00Z");
    for (n, (bytes, name, kind)) in [
        (&photo, "note.png", "image/png"),
        (&log, "auth.log", "text/plain"),
        (&pending, "later.txt", "text/plain"),
    ]
    .into_iter()
    .enumerate()
    {
        doc.add_attachment(
            &format!("a{n}"),
            &attachment(bytes, name, kind, &format!("2026-11-29T23:0{n}:00Z")),
        )
        .expect("attached");
    }
    client
        .send_message(Message::Sync(SyncMessage::Update(doc.encode_state())))
        .await;
    // Two of the three files are uploaded; the third is not yet.
    assert_eq!(upload(&relay, id, &owner, "image/png", &photo), 201);
    assert_eq!(upload(&relay, id, &owner, "text/plain", &log), 201);

    let path = |query: &str| {
        format!(
            "/api/incidents/{id}/export/incident?device={}&{query}",
            device_for(&owner)
        )
    };
    // The document reaches the relay's store through the room; ask until it lists all three.
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let file = loop {
        let (status, _, body) =
            relay.request("GET", &path("attachments=include"), Some(&owner), None);
        assert_eq!(status, 200, "{body}");
        if body.contains("later.txt") {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the document never arrived"
        );
        client.pump_for(std::time::Duration::from_millis(100)).await;
    };
    let value: serde_json::Value = serde_json::from_str(&file).expect("JSON");
    assert_eq!(
        value["attachments_left_out"],
        serde_json::json!([sha256_hex(&pending)])
    );
    let opened = read_incident_file(&file).expect("the file opens");
    assert_eq!(opened.attachments.len(), 2);
    let carried_photo = opened
        .attachments
        .iter()
        .find(|a| a.sha256 == sha256_hex(&photo))
        .expect("the photo is carried");
    assert!(carried_photo.bytes == photo);
    assert_eq!(carried_photo.content_type, "image/png");
    assert!(opened.attachments.iter().any(|a| a.bytes == log));

    // Without the parameter: the file lists them and carries none.
    let (status, _, plain) = relay.request("GET", &path(""), Some(&owner), None);
    assert_eq!(status, 200);
    assert!(read_incident_file(&plain).unwrap().attachments.is_empty());
    assert!(plain.len() < file.len() / 10);

    // Bad values say why.
    let (status, _, body) = relay.request("GET", &path("attachments=all"), Some(&owner), None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("neither \\\"include\\\""), "{body}");
    let (status, _, body) = relay.request(
        "GET",
        &format!(
            "/api/incidents/{id}/export/markdown?device={}&attachments=include",
            device_for(&owner)
        ),
        Some(&owner),
        None,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("only the incident file"), "{body}");
    client.close().await;
}
