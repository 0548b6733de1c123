//! End-to-end tests of the relay binary: HTTP surface, sync between clients, bad input,
//! crash recovery and room unloading.

mod common;

use std::time::Duration;

use common::{db_counts, Client, Relay, TIMEOUT};
use yrs::sync::{Message, SyncMessage};
use yrs::{ReadTxn, Transact};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

#[test]
fn http_surface_health_static_app_csp_and_json_errors() {
    let (_tmp, data, dist) = dirs();
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Firebreak</title>",
    )
    .unwrap();
    std::fs::write(dist.join("app.js"), "console.log(1)").unwrap();
    let relay = Relay::start(&data, &dist);
    assert!(data.join("firebreak.sqlite3").is_file(), "database created");

    let (status, headers, body) = relay.get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(body.trim(), r#"{"status":"ok"}"#);
    assert!(headers["content-type"].starts_with("application/json"));

    for path in ["/", "/incident/abc", "/incident/abc/timeline"] {
        let (status, headers, body) = relay.get(path);
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("<title>Firebreak</title>"), "{path}");
        let csp = &headers["content-security-policy"];
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }

    let (status, headers, body) = relay.get("/app.js");
    assert_eq!(status, 200);
    assert_eq!(body, "console.log(1)");
    assert!(!headers.contains_key("content-security-policy"));
    assert_eq!(headers["x-content-type-options"], "nosniff");

    assert_eq!(relay.get("/missing-asset.wasm").0, 404);

    let (status, headers, body) = relay.get("/api/nothing-here");
    assert_eq!(status, 404);
    assert!(headers["content-type"].starts_with("application/json"));
    assert!(body.contains("\"error\""));

    for bad in [
        "/sync/bad%20id",
        "/sync/a/b",
        "/sync/",
        "/sync",
        "/sync/%3Cscript%3E",
    ] {
        let (status, _, body) = relay.get(bad);
        assert_eq!(status, 400, "{bad}");
        assert!(body.contains("invalid incident id"), "{bad}: {body}");
    }
    let long = format!("/sync/{}", "x".repeat(65));
    assert_eq!(relay.get(&long).0, 400);
    // A valid id without a websocket upgrade is refused, not served the app.
    assert_eq!(relay.get("/sync/inc-1").0, 426);
}

#[test]
fn missing_app_build_gives_503_but_the_relay_works() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let (status, _, body) = relay.get("/");
    assert_eq!(status, 503);
    assert!(body.contains("not built"), "{body}");
    assert_eq!(relay.get("/incident/abc").0, 503);
    assert_eq!(relay.get("/healthz").0, 200);
}

#[tokio::test]
async fn invalid_incident_id_is_refused_before_upgrade() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let url = format!("ws://{}/sync/not%20valid", relay.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400)
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
}

#[tokio::test]
async fn clients_sync_and_a_late_joiner_gets_the_full_state() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-sync").await;
    let mut bob = Client::connect_synced(&relay, "inc-sync").await;

    alice.type_text("Phishing mail reported. ").await;
    bob.pump_until(|b| b.summary() == "Phishing mail reported. ")
        .await;
    bob.type_text("Mailbox quarantined.").await;
    alice
        .pump_until(|a| a.summary() == "Phishing mail reported. Mailbox quarantined.")
        .await;

    let carol = Client::connect_synced(&relay, "inc-sync").await;
    assert_eq!(
        carol.summary(),
        "Phishing mail reported. Mailbox quarantined."
    );

    // Another incident is a separate room.
    let other = Client::connect_synced(&relay, "inc-other").await;
    assert_eq!(other.summary(), "");
}

#[tokio::test]
async fn offline_edits_flow_up_when_a_client_connects() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut watcher = Client::connect_synced(&relay, "inc-offline").await;

    // Edits made before connecting reach the relay through the answer to its SyncStep1.
    let mut offline = Client::connect(&relay, "inc-offline").await;
    {
        use yrs::Text;
        let summary = offline.doc.get_or_insert_text("summary");
        let mut txn = offline.doc.transact_mut();
        summary.insert(&mut txn, 0, "written on a plane");
    }
    offline.pump_until(|c| c.synced).await;
    watcher
        .pump_until(|w| w.summary() == "written on a plane")
        .await;
}

#[tokio::test]
async fn awareness_is_relayed_replayed_and_removed_when_a_peer_leaves() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-presence").await;
    let alice_id = alice.client_id().get();
    alice
        .set_awareness(1, r#"{"user":{"name":"Alice"},"section":"timeline"}"#)
        .await;
    // The sender gets its own awareness back (keeps y-websocket's 30 s liveness check happy).
    alice
        .pump_until(|a| {
            a.awareness
                .get(&alice_id)
                .is_some_and(|s| s.contains("Alice"))
        })
        .await;

    let mut bob = Client::connect_synced(&relay, "inc-presence").await;
    bob.pump_until(|b| {
        b.awareness
            .get(&alice_id)
            .is_some_and(|s| s.contains("Alice"))
    })
    .await;

    alice.close().await;
    bob.pump_until(|b| b.awareness.get(&alice_id).map(String::as_str) == Some("null"))
        .await;
}

#[tokio::test]
async fn malformed_message_closes_only_that_connection() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-bad").await;
    let mut bob = Client::connect_synced(&relay, "inc-bad").await;
    alice.type_text("before ").await;
    bob.pump_until(|b| b.summary() == "before ").await;

    let mut mallory = Client::connect_synced(&relay, "inc-bad").await;
    // Sync message with an unknown step type.
    mallory.send_raw(vec![0, 9, 1, 0]).await;
    let closed = mallory.expect_closed().await;
    assert_eq!(closed.code, 1003, "{closed:?}");
    assert!(
        closed.reason.starts_with("malformed sync message: "),
        "{closed:?}"
    );

    // An update whose bytes do not decode.
    let mut eve = Client::connect_synced(&relay, "inc-bad").await;
    eve.send_message(Message::Sync(SyncMessage::Update(vec![
        0xff, 0xff, 0xff, 0xff, 0xff,
    ])))
    .await;
    let closed = eve.expect_closed().await;
    assert_eq!(closed.code, 1003, "{closed:?}");
    assert!(
        closed.reason.contains("update does not decode"),
        "{closed:?}"
    );

    // Text frames are refused.
    let mut texter = Client::connect_synced(&relay, "inc-bad").await;
    texter.send_text("hello").await;
    let closed = texter.expect_closed().await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (1003, "binary frames only")
    );

    // Everyone else goes on syncing.
    bob.type_text("after").await;
    alice.pump_until(|a| a.summary() == "before after").await;
    let late = Client::connect_synced(&relay, "inc-bad").await;
    assert_eq!(late.summary(), "before after");

    // And the stored document is intact across a restart.
    drop((alice, bob, late));
    relay.kill_9();
    let relay = Relay::start(&data, &dist);
    let restarted = Client::connect_synced(&relay, "inc-bad").await;
    assert_eq!(restarted.summary(), "before after");
}

#[tokio::test]
async fn oversized_message_is_closed_with_1009() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut big = Client::connect_synced(&relay, "inc-big").await;
    big.send_raw(vec![0u8; 16 * 1024 * 1024 + 1]).await;
    let closed = big.expect_closed().await;
    assert_eq!(closed.code, 1009, "{closed:?}");

    let ok = Client::connect_synced(&relay, "inc-big").await;
    assert!(ok.synced);
}

#[tokio::test]
async fn updates_survive_kill_9_once_another_client_has_them() {
    const N: usize = 60;
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut writer = Client::connect_synced(&relay, "inc-crash").await;
    let mut reader = Client::connect_synced(&relay, "inc-crash").await;
    let mut expected = String::new();
    for i in 0..N {
        let word = format!("u{i} ");
        expected.push_str(&word);
        writer.type_text(&word).await;
    }
    reader.pump_until(|r| r.summary() == expected).await;

    relay.kill_9();
    let relay = Relay::start(&data, &dist);
    let fresh = Client::connect_synced(&relay, "inc-crash").await;
    assert_eq!(fresh.summary(), expected);
}

#[tokio::test]
async fn a_sync_step1_round_trip_acknowledges_earlier_updates_as_durable() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut writer = Client::connect_synced(&relay, "inc-ack").await;
    let mut expected = String::new();
    for i in 0..40 {
        let word = format!("w{i} ");
        expected.push_str(&word);
        writer.type_text(&word).await;
    }
    // The relay answers this SyncStep1 only after the updates above are committed.
    writer.synced = false;
    let sv = writer.doc.transact().state_vector();
    writer
        .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
        .await;
    writer.pump_until(|w| w.synced).await;

    relay.kill_9();
    let relay = Relay::start(&data, &dist);
    let fresh = Client::connect_synced(&relay, "inc-ack").await;
    assert_eq!(fresh.summary(), expected);
}

#[tokio::test]
async fn an_empty_room_is_compacted_unloaded_and_reloaded_from_the_snapshot() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-unload").await;
    let mut bob = Client::connect_synced(&relay, "inc-unload").await;
    alice.type_text("one ").await;
    bob.type_text("two ").await;
    alice.pump_until(|a| a.summary().len() == 8).await;
    bob.pump_until(|b| b.summary().len() == 8).await;
    let expected = alice.summary();
    assert!(db_counts(&data, "inc-unload").0 >= 2, "updates are logged");

    alice.close().await;
    bob.close().await;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while db_counts(&data, "inc-unload") != (0, 1) {
        assert!(
            std::time::Instant::now() < deadline,
            "room was not compacted: {:?}",
            db_counts(&data, "inc-unload")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut carol = Client::connect_synced(&relay, "inc-unload").await;
    assert_eq!(carol.summary(), expected);
    carol.type_text("three").await;
    // Carol's frame and the late joiner's arrive on different sockets: the late joiner gets
    // "three" either in its initial state or right after, as a broadcast.
    let mut late = Client::connect_synced(&relay, "inc-unload").await;
    let with_three = format!("{expected}three");
    late.pump_until(|l| l.summary() == with_three).await;

    // The snapshot plus the new log survive a crash too.
    drop((carol, late));
    relay.kill_9();
    let relay = Relay::start(&data, &dist);
    let after_crash = Client::connect_synced(&relay, "inc-unload").await;
    assert_eq!(after_crash.summary(), with_three);
}

#[tokio::test]
async fn sigterm_closes_connections_with_1001_stores_rooms_and_exits_0() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-term").await;
    alice.type_text("kept").await;
    let mut bob = Client::connect_synced(&relay, "inc-term").await;
    bob.pump_until(|b| b.summary() == "kept").await;

    let addr = relay.addr.clone();
    let exit = tokio::task::spawn_blocking(move || relay.terminate());
    let closed = bob.expect_closed().await;
    assert_eq!(closed.code, 1001, "{closed:?}");
    assert_eq!(exit.await.unwrap(), Some(0));
    assert_eq!(
        db_counts(&data, "inc-term"),
        (0, 1),
        "compacted on shutdown"
    );
    drop(alice);

    let relay = Relay::start(&data, &dist);
    assert_ne!(relay.addr, "", "restarted on {addr}");
    let fresh = Client::connect_synced(&relay, "inc-term").await;
    assert_eq!(fresh.summary(), "kept");
}
