//! The relay tells the app its largest attachment (`--max-attachment-bytes`) in
//! `GET /api/incidents/{id}/me`, so the app refuses a bigger file before reading it; the
//! number told is the one the relay enforces on upload.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{device_for, Relay};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

fn told_limit(relay: &Relay, incident: &str, token: &str) -> serde_json::Value {
    let (status, _, body) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/me"),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let me: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    me["max_attachment_bytes"].clone()
}

/// A `PUT` of a blob announcing `length` bytes and sending none: (status, body).
fn announce_upload(relay: &Relay, incident: &str, token: &str, length: u64) -> (u16, String) {
    let sha = "ab".repeat(32);
    let mut stream = TcpStream::connect(&relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let head = format!(
        "PUT /api/incidents/{incident}/blobs/{sha} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n",
        relay.addr,
        device_for(token)
    );
    stream.write_all(head.as_bytes()).expect("send head");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    (status, raw)
}

#[test]
fn me_tells_the_default_limit() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-default-limit");
    assert_eq!(
        told_limit(&relay, "inc-default-limit", &owner),
        serde_json::json!(10 * 1024 * 1024)
    );
}

#[test]
fn me_tells_a_lowered_limit_and_the_relay_enforces_that_number() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-attachment-bytes", "1048576"]);
    let incident = "inc-low-limit";
    let owner = relay.owner_token(incident);
    let viewer = relay.invite(incident, "Vi", "viewer")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let editor = relay.invite(incident, "Ed", "editor")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    for token in [&owner, &viewer, &editor] {
        assert_eq!(
            told_limit(&relay, incident, token),
            serde_json::json!(1_048_576)
        );
    }
    // One byte over what it told is refused before any body is read.
    let (status, body) = announce_upload(&relay, incident, &editor, 1_048_577);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("limit of 1048576 bytes"), "{body}");
}

#[test]
fn me_without_a_valid_token_tells_nothing() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-attachment-bytes", "1048576"]);
    relay.owner_token("inc-no-token");
    let (status, _, body) = relay.request("GET", "/api/incidents/inc-no-token/me", None, None);
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("1048576"), "{body}");
}
