//! A team's playbook on the relay binary: stored and merged like an incident, with the same
//! tokens; the invite preview shows the playbook's name, label and TLP level, and the
//! incident exports refuse it with a clear 400 instead of an empty incident.

mod common;

use common::{device_for, Client, Relay};
use incident::playbook::Playbook;
use incident::{Tlp, UpdateOrigin};
use yrs::sync::{Message, SyncMessage};
use yrs::{ReadTxn, StateVector, Transact};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// A request with a bearer token and a device id: (status, body).
fn call(relay: &Relay, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n{}: {}\r\nConnection: close\r\n\r\n",
        relay.addr,
        wire::DEVICE_HEADER,
        device_for(token)
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_playbook_syncs_previews_by_its_name_and_is_no_incident_export() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let id = "team-ransomware";
    let playbook = Playbook::adopt(id, "starter-ransomware").unwrap();
    playbook.set_name("Ransomware (ours)");
    playbook.set_classification("Internal — IR team");
    playbook.set_tlp(Tlp::Green);

    // The owner puts it on the relay like an incident's first state.
    let mut owner = Client::connect_synced(&relay, id).await;
    owner
        .send_message(Message::Sync(SyncMessage::Update(playbook.encode_state())))
        .await;
    let dana = relay.invite(id, "Dana", "editor");
    let token = dana["token"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let shown = loop {
        let (status, body) = call(&relay, &format!("/api/incidents/{id}/preview"), &token);
        assert_eq!(status, 200, "{body}");
        let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
        if shown["title"] != "" {
            break shown;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the playbook never reached the relay: {body}"
        );
        owner.pump_for(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(shown["title"], "Ransomware (ours)");
    assert_eq!(shown["classification"], "Internal — IR team");
    assert_eq!(shown["tlp"], "GREEN");
    assert_eq!(shown["role"], "editor");

    // An invited editor's copy, merged by the relay, is the whole playbook.
    let mut editor = Client::connect_with(&relay, id, Some(&token)).await;
    editor.pump_until(|c| c.synced).await;
    let state = editor
        .doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let copy = Playbook::new();
    copy.apply_update(&state, UpdateOrigin::Relay).unwrap();
    assert_eq!(copy.contents(), playbook.contents());
    assert_eq!(copy.version(), playbook.version());

    // The incident exports say what it is rather than serve an empty incident.
    for format in ["markdown", "incident", "stix"] {
        let (status, body) = call(
            &relay,
            &format!("/api/incidents/{id}/export/{format}"),
            &token,
        );
        assert_eq!(status, 400, "{format}: {body}");
        assert!(body.contains("is a playbook, not an incident"), "{body}");
    }
    owner.close().await;
    editor.close().await;
}
