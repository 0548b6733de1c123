//! The record, end to end against the relay binary: every accepted update is kept, numbered
//! and hash-chained per incident with the invite that sent it, whatever compaction and
//! restarts do to the live log; `GET …/history` lists it for the owner and editors (never
//! viewers); `GET …/history/state?at=` rebuilds the document as it stood, deleted text and
//! all; `sync-server verify` finds a changed byte, a deleted row and a swapped pair in the
//! SQLite file; `--record-retention-days` trims the chain's start and it still verifies.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{db_counts, device_for, Client, Relay};
use serde_json::Value;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Text, Transact, Update};

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// `?device=` for an invite's token; nothing for the owner's.
fn device_query(token: &str, owner: bool) -> String {
    if owner {
        String::new()
    } else {
        format!("device={}&", device_for(token))
    }
}

/// `GET …/history` as `token`: (status, JSON body).
fn history(relay: &Relay, incident: &str, token: &str, owner: bool, query: &str) -> (u16, Value) {
    let path = format!(
        "/api/incidents/{incident}/history?{}{query}",
        device_query(token, owner)
    );
    let (status, _, body) = relay.request("GET", &path, Some(token), None);
    (status, serde_json::from_str(&body).expect("JSON body"))
}

/// The records listed for the owner, all pages (following `next`).
fn records(relay: &Relay, incident: &str) -> Vec<Value> {
    let owner = relay.owner_token(incident);
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = history(relay, incident, &owner, true, &format!("after={after}"));
        assert_eq!(status, 200, "history: {body}");
        all.extend(body["records"].as_array().expect("records").iter().cloned());
        match body["next"].as_u64() {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// Waits until the record of `incident` holds `count` records.
async fn wait_for_records(relay: &Relay, incident: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    loop {
        let found = records(relay, incident);
        if found.len() >= count {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} records expected, have {}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A raw GET with the body as bytes: (status, body).
fn get_bytes(relay: &Relay, path: &str, token: &str) -> (u16, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(&relay.addr).expect("connect");
    stream.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        relay.addr
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete response");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "a sized body: {head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    (status, raw[split + 4..].to_vec())
}

/// The summary text of a Yjs v1 update applied to a fresh document.
fn summary_of(update: &[u8]) -> String {
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(Update::decode_v1(update).expect("a Yjs v1 update"))
        .expect("applies");
    let summary = doc.get_or_insert_text("summary");
    let text = summary.get_string(&doc.transact());
    text
}

/// Runs `sync-server verify --data DATA [more]`: (exit code, stdout).
fn verify(data: &Path, more: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("verify")
        .arg("--data")
        .arg(data)
        .args(more)
        .env("RUST_LOG", "warn")
        .output()
        .expect("verify runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn names(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn history_lists_every_edit_in_order_with_its_sender_through_compaction_and_a_restart() {
    let (_tmp, data, dist) = dirs();
    let incident = "recorded";
    let relay = Relay::start_with(&data, &dist, &["--compact-after-updates", "2"]);
    let mut owner = Client::connect_synced(&relay, incident).await;
    let alice = relay.invite(incident, "Alice", "editor");
    let alice_token = alice["token"].as_str().unwrap().to_owned();
    let viewer = relay.invite(incident, "Vera", "viewer");
    let viewer_token = viewer["token"].as_str().unwrap().to_owned();

    owner.type_text("one ").await;
    wait_for_records(&relay, incident, 1).await;
    let mut editor = Client::connect_with(&relay, incident, Some(&alice_token)).await;
    editor
        .pump_until(|c| c.synced && c.summary() == "one ")
        .await;
    editor.type_text("two ").await;
    owner.pump_until(|c| c.summary() == "one two ").await;
    for word in ["three ", "four ", "five "] {
        owner.type_text(word).await;
    }
    editor
        .pump_until(|c| c.summary() == "one two three four five ")
        .await;
    let listed = wait_for_records(&relay, incident, 5).await;
    assert_eq!(listed.len(), 5, "one record per edit: {listed:?}");
    assert_eq!(
        names(&listed),
        vec!["Owner", "Alice", "Owner", "Owner", "Owner"]
    );
    let seqs: Vec<u64> = listed.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    let times: Vec<i64> = listed
        .iter()
        .map(|r| r["received_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(listed.iter().all(|r| r["bytes"].as_u64().unwrap() > 0));
    // Compaction folded the live log into a snapshot; the record kept every update.
    let (log_rows, snapshots) = db_counts(&data, incident);
    assert_eq!(snapshots, 1, "the live log was compacted");
    assert!(log_rows < 5, "the live log holds {log_rows} rows");

    // Editors read the history too; viewers never, and are told why.
    let (status, body) = history(&relay, incident, &alice_token, false, "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"].as_array().unwrap().len(), 5);
    let (status, body) = history(&relay, incident, &viewer_token, false, "");
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("viewers"),
        "{body}"
    );
    let state_path = format!(
        "/api/incidents/{incident}/history/state?{}at={}",
        device_query(&viewer_token, false),
        times[4]
    );
    assert_eq!(get_bytes(&relay, &state_path, &viewer_token).0, 403);
    // A wrong token gets nothing.
    let (status, _) = history(&relay, incident, "nope.nope", true, "");
    assert!((400..500).contains(&status), "{status}");
    // since/until select by receive time; a bad number is a clear 400.
    let (status, body) = history(
        &relay,
        incident,
        &relay.owner_token(incident),
        true,
        &format!("since={}&until={}", times[1], times[1]),
    );
    assert_eq!(status, 200);
    assert!(body["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["received_at"].as_i64() == Some(times[1])));
    let (status, body) = history(
        &relay,
        incident,
        &relay.owner_token(incident),
        true,
        "since=yesterday",
    );
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("since"), "{body}");

    // Revoking Alice keeps her name on her edit.
    let (status, _, _) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/{incident}/invites/{}",
            alice["invite"].as_str().unwrap()
        ),
        Some(&relay.owner_token(incident)),
        None,
    );
    assert_eq!(status, 200);
    editor.close().await;
    owner.close().await;
    assert_eq!(relay.terminate(), Some(0));

    // After a restart the chain goes on from where it was. Pages of 4: `next` leads on.
    let relay = Relay::start_with(&data, &dist, &["--history-page-size", "4"]);
    let (_, first_page) = history(&relay, incident, &relay.owner_token(incident), true, "");
    assert_eq!(first_page["records"].as_array().unwrap().len(), 4);
    assert_eq!(first_page["next"].as_u64(), Some(4));
    let mut owner = Client::connect_synced(&relay, incident).await;
    assert_eq!(owner.summary(), "one two three four five ");
    owner.type_text("six").await;
    let listed = wait_for_records(&relay, incident, 6).await;
    assert_eq!(
        names(&listed),
        vec!["Owner", "Alice", "Owner", "Owner", "Owner", "Owner"]
    );
    assert_eq!(listed[5]["seq"].as_u64(), Some(6));

    // verify runs beside the live relay, read-only.
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("incident recorded: 6 records, head ") && out.contains(", ok"),
        "{out}"
    );
}

#[tokio::test]
async fn the_state_at_a_time_between_two_edits_is_the_first_edit_with_text_deleted_later() {
    let (_tmp, data, dist) = dirs();
    let incident = "as-of";
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, incident).await;
    owner.type_text("secret plan").await;
    let first = wait_for_records(&relay, incident, 1).await;
    let first_at = first[0]["received_at"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    // Delete "secret " and add more: the live document discards the deleted text.
    let update = {
        let summary = owner.doc.get_or_insert_text("summary");
        let mut txn = owner.doc.transact_mut();
        summary.remove_range(&mut txn, 0, 7);
        summary.push(&mut txn, " revised");
        txn.encode_update_v1()
    };
    owner
        .send_message(Message::Sync(SyncMessage::Update(update)))
        .await;
    let both = wait_for_records(&relay, incident, 2).await;
    let second_at = both[1]["received_at"].as_i64().unwrap();
    assert!(second_at > first_at);
    owner.close().await;

    let token = relay.owner_token(incident);
    let at = |ms: i64| format!("/api/incidents/{incident}/history/state?at={ms}");
    let (status, then) = get_bytes(&relay, &at(first_at), &token);
    assert_eq!(status, 200);
    assert_eq!(summary_of(&then), "secret plan");
    let (status, between) = get_bytes(&relay, &at(second_at - 1), &token);
    assert_eq!(status, 200);
    assert_eq!(summary_of(&between), "secret plan");
    let (_, now) = get_bytes(&relay, &at(second_at), &token);
    assert_eq!(summary_of(&now), "plan revised");
    let (_, before) = get_bytes(&relay, &at(first_at - 1), &token);
    assert_eq!(summary_of(&before), "");
    let (status, _) = get_bytes(
        &relay,
        &format!("/api/incidents/{incident}/history/state"),
        &token,
    );
    assert_eq!(status, 400, "`at` is required");

    // An editor rebuilds it too.
    let editor = relay.invite(incident, "Ed", "editor");
    let editor_token = editor["token"].as_str().unwrap();
    let (status, body) = get_bytes(
        &relay,
        &format!(
            "/api/incidents/{incident}/history/state?{}at={first_at}",
            device_query(editor_token, false)
        ),
        editor_token,
    );
    assert_eq!(status, 200);
    assert_eq!(summary_of(&body), "secret plan");
}

/// Copies the relay's database (and its WAL, if any) into a fresh data directory.
fn copy_data(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in ["firebreak.sqlite3", "firebreak.sqlite3-wal"] {
        let source = from.join(file);
        if source.exists() {
            std::fs::copy(&source, to.join(file)).unwrap();
        }
    }
}

/// Changes one byte of a record's update, in place.
fn flip_a_byte(data: &Path, incident: &str, seq: i64) {
    let conn = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    let mut update: Vec<u8> = conn
        .query_row(
            "SELECT update_v1 FROM incident_record WHERE incident = ?1 AND seq = ?2",
            rusqlite::params![incident, seq],
            |r| r.get(0),
        )
        .expect("the record");
    let last = update.len() - 1;
    update[last] ^= 0x01;
    conn.execute(
        "UPDATE incident_record SET update_v1 = ?3 WHERE incident = ?1 AND seq = ?2",
        rusqlite::params![incident, seq, update],
    )
    .expect("tamper");
}

fn tamper(data: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    conn.execute_batch(sql).expect("tamper");
}

#[tokio::test]
async fn verify_names_the_incident_and_record_of_a_changed_byte_a_deleted_row_and_a_swapped_pair() {
    let (tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    for incident in ["clean-one", "tampered"] {
        let mut owner = Client::connect_synced(&relay, incident).await;
        for (i, word) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            owner.type_text(word).await;
            wait_for_records(&relay, incident, i + 1).await;
        }
        owner.close().await;
    }
    assert_eq!(relay.terminate(), Some(0));
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("incident clean-one: 5 records"), "{out}");
    assert!(out.contains("incident tampered: 5 records"), "{out}");

    let cases = [
        ("changed-byte", "", "incident tampered: record 3:"),
        (
            "deleted-row",
            "DELETE FROM incident_record WHERE incident = 'tampered' AND seq = 3",
            "incident tampered: record 3: it is missing",
        ),
        (
            "swapped-pair",
            "UPDATE incident_record SET seq = -2 WHERE incident = 'tampered' AND seq = 2;
             UPDATE incident_record SET seq = 2 WHERE incident = 'tampered' AND seq = 3;
             UPDATE incident_record SET seq = 3 WHERE incident = 'tampered' AND seq = -2;",
            "incident tampered: record 2:",
        ),
        (
            "changed-time",
            "UPDATE incident_record SET received_at_ms = received_at_ms - 60000
             WHERE incident = 'tampered' AND seq = 4",
            "incident tampered: record 4:",
        ),
    ];
    for (name, sql, expected) in cases {
        let copy = tmp.path().join(name);
        copy_data(&data, &copy);
        if sql.is_empty() {
            flip_a_byte(&copy, "tampered", 3);
        } else {
            tamper(&copy, sql);
        }
        let (code, out) = verify(&copy, &[]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains(expected), "{name}: {out}");
        assert!(out.contains("incident clean-one: 5 records"), "{out}");
        let (code, out) = verify(&copy, &["--incident", "clean-one"]);
        assert_eq!(code, 0, "{name}: only the clean incident: {out}");
    }

    // The changed byte is caught as the bytes, not the chain.
    let copy = tmp.path().join("changed-byte");
    let (_, out) = verify(&copy, &["--incident", "tampered"]);
    assert!(out.contains("bytes were changed"), "{out}");
    // A missing file is a clear error, not an empty success.
    let (code, _) = verify(&tmp.path().join("nowhere"), &[]);
    assert_ne!(code, 0);
}

#[tokio::test]
async fn retention_drops_the_oldest_records_and_the_rest_still_verifies() {
    let (_tmp, data, dist) = dirs();
    let incident = "kept-a-while";
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, incident).await;
    for (i, word) in ["old1 ", "old2 ", "old3 "].iter().enumerate() {
        owner.type_text(word).await;
        wait_for_records(&relay, incident, i + 1).await;
    }
    // The old records age past the limit below (3.5 s); the new ones stay well within it.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for (i, word) in ["new4 ", "new5 "].iter().enumerate() {
        owner.type_text(word).await;
        wait_for_records(&relay, incident, i + 4).await;
    }
    owner.close().await;
    assert_eq!(relay.terminate(), Some(0));

    // 0.00004 days is 3.456 s; retention runs at start.
    let relay = Relay::start_with(&data, &dist, &["--record-retention-days", "0.00004"]);
    let owner_token = relay.owner_token(incident);
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let body = loop {
        let (status, body) = history(&relay, incident, &owner_token, true, "");
        assert_eq!(status, 200);
        if body["dropped_through"].as_u64() == Some(3) {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seqs: Vec<u64> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![4, 5]);
    // The live document is untouched by retention.
    let mut owner = Client::connect_synced(&relay, incident).await;
    assert_eq!(owner.summary(), "old1 old2 old3 new4 new5 ");
    owner.type_text("six").await;
    let listed = wait_for_records(&relay, incident, 3).await;
    assert_eq!(listed.last().unwrap()["seq"].as_u64(), Some(6));
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("incident kept-a-while: 3 records (records 1–3 dropped by retention)"),
        "{out}"
    );
    // Past states cannot be rebuilt without the dropped start: a clear 410.
    let (status, _) = get_bytes(
        &relay,
        &format!("/api/incidents/{incident}/history/state?at=0"),
        &owner_token,
    );
    assert_eq!(status, 410);
    owner.close().await;
    // A bad value is refused at start with a clear message.
    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--record-retention-days", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("number of days"));
}
