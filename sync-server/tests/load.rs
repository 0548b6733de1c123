//! What one client can make the relay spend: a viewer asking for the whole document again and
//! again without reading, a peer that stops reading while others write, one big edit in
//! another incident, and the update log of an incident somebody never leaves. Against the
//! real binary, with its memory read from `/proc`; figures are printed, bounds are generous.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Relay};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Text, Transact};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// Asks the relay for what it lacks and waits for the answer: everything sent before is
/// stored once it comes.
async fn confirm(client: &mut Client) {
    client.synced = false;
    let sv = client.doc.transact().state_vector();
    client
        .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
        .await;
    client.pump_until(|c| c.synced).await;
}

/// Types into `incident` as its owner until it holds about `megabytes` MB, in edits of 10 MB.
async fn big_incident(relay: &Relay, incident: &str, megabytes: usize) -> Client {
    let mut editor = Client::connect_synced(relay, incident).await;
    let chunk = "0123456789".repeat(100_000);
    for _ in 0..megabytes {
        editor.type_text(&chunk).await;
    }
    confirm(&mut editor).await;
    editor
}

/// Time for an edit of `from` to reach `to` in another incident.
async fn round_trip(from: &mut Client, to: &mut Client, n: usize) -> Duration {
    let marker = format!("<{n}>");
    let started = Instant::now();
    from.type_text(&marker).await;
    to.pump_until(|c| c.summary().ends_with(&marker)).await;
    started.elapsed()
}

/// Round trips in `incident` for `during`; returns the slowest.
async fn slowest_round_trip(a: &mut Client, b: &mut Client, during: Duration) -> Duration {
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    while started.elapsed() < during {
        n += 1;
        slowest = slowest.max(round_trip(a, b, n).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    slowest
}

/// A SyncStep1 naming one client the relay never saw: not empty, so not a plain joiner's.
fn odd_sync_step1() -> Vec<u8> {
    let doc = Doc::new();
    let text = doc.get_or_insert_text("summary");
    text.push(&mut doc.transact_mut(), "x");
    let sv = doc.transact().state_vector();
    Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
}

#[tokio::test]
async fn a_viewer_that_asks_for_the_document_again_and_again_without_reading_costs_one_copy() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    // The test client reads messages of up to 16 MiB; the relay sends the whole document as one.
    const MEGABYTES: usize = 14;
    let mut editor = big_incident(&relay, "inc-big", MEGABYTES).await;
    let mut a = Client::connect_synced(&relay, "inc-other").await;
    let mut b = Client::connect_synced(&relay, "inc-other").await;
    let quiet = slowest_round_trip(&mut a, &mut b, Duration::from_secs(1)).await;
    let before = relay.memory_kb("VmHWM");

    const ASKS: usize = 40;
    let viewer = relay.invite("inc-big", "Vic", "viewer");
    let token = viewer["token"].as_str().expect("viewer token");
    let mut attacker = Client::connect_with(&relay, "inc-big", Some(token)).await;
    let ask = odd_sync_step1();
    for _ in 0..ASKS {
        attacker.send_raw(ask.clone()).await;
    }
    // The attacker never reads. Meanwhile another incident goes on.
    let attacked = slowest_round_trip(&mut a, &mut b, Duration::from_secs(3)).await;
    let grown_mb = relay.memory_kb("VmHWM").saturating_sub(before) / 1024;
    println!(
        "{ASKS} SyncStep1s ({} bytes each) from a viewer that does not read, on a {MEGABYTES} MB \
         incident: peak memory {} MB -> +{grown_mb} MB; another incident's slowest round trip \
         {quiet:?} quiet, {attacked:?} meanwhile",
        ask.len(),
        before / 1024
    );
    assert!(
        grown_mb < 5 * MEGABYTES as u64,
        "{ASKS} asks made the relay hold {grown_mb} MB more"
    );

    // The editor still works, and the viewer, once it reads, has the whole incident.
    editor.type_text("!").await;
    confirm(&mut editor).await;
    attacker.pump_until(|c| c.summary().ends_with('!')).await;
    assert_eq!(attacker.summary().len(), MEGABYTES * 1_000_000 + 1);
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_closed_as_lagging_and_gets_everything_on_reconnect() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &["--max-queued-bytes-per-connection", "1048576"],
    );
    let mut editor = Client::connect_synced(&relay, "inc-lag").await;
    let mut slow = Client::connect_synced(&relay, "inc-lag").await;
    // The slow one stops reading; the editor writes far more than its queue and the socket
    // buffers hold.
    let chunk = "abcdefgh".repeat(64 * 1024);
    for _ in 0..28 {
        editor.type_text(&chunk).await;
    }
    confirm(&mut editor).await;
    let closed = slow.expect_closed().await;
    assert_eq!(closed.code, 1013, "{closed:?}");
    assert_eq!(closed.reason, "lagging; reconnect to resync");

    slow.reconnect(&relay, "inc-lag").await;
    let expected = editor.summary();
    slow.pump_until(|c| c.summary() == expected).await;
    assert_eq!(slow.summary().len(), 28 * chunk.len());
}

#[tokio::test]
async fn the_log_of_an_incident_somebody_never_leaves_stays_short_and_nothing_is_lost() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--compact-after-updates", "100"]);
    let mut editor = Client::connect_synced(&relay, "inc-stay").await;
    const EDITS: usize = 2_000;
    let mut most_rows = 0;
    for i in 0..EDITS {
        editor.type_text(&format!("{i},")).await;
        if i % 37 == 36 {
            confirm(&mut editor).await;
            most_rows = most_rows.max(common::db_counts(&data, "inc-stay").0);
        }
    }
    confirm(&mut editor).await;
    let (rows, snapshots) = common::db_counts(&data, "inc-stay");
    println!(
        "{EDITS} edits from one editor who stays: at most {most_rows} log rows seen, {rows} at \
         the end, {snapshots} snapshot"
    );
    assert!(
        most_rows <= 300,
        "the log grew to {most_rows} rows while the editor stayed"
    );
    assert_eq!(snapshots, 1);

    // Someone opening it now gets everything, while the editor is still there.
    let reader = Client::connect_synced(&relay, "inc-stay").await;
    assert_eq!(reader.summary(), editor.summary());
    let expected: String = (0..EDITS).map(|i| format!("{i},")).collect();
    assert_eq!(reader.summary(), expected);

    // And so does a relay started again on the same data.
    drop(reader);
    relay.kill_9();
    let relay = Relay::start(&data, &dist);
    let again = Client::connect_synced(&relay, "inc-stay").await;
    assert_eq!(again.summary(), expected);
}

/// One update of about `megabytes` MB made of many small entries (a big paste into the
/// timeline), made in `doc`: what makes decoding and applying it slow.
fn many_entries_update(doc: &Doc, megabytes: usize) -> Vec<u8> {
    let timeline = doc.get_or_insert_map("timeline");
    let mut txn = doc.transact_mut();
    let entry = "x".repeat(90);
    for i in 0..megabytes * 9_000 {
        yrs::Map::insert(&timeline, &mut txn, format!("{i:08}"), entry.as_str());
    }
    txn.encode_update_v1()
}

#[tokio::test]
async fn a_big_edit_in_one_incident_does_not_hold_up_another() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut editor = Client::connect_synced(&relay, "inc-heavy").await;
    let _watcher = Client::connect_synced(&relay, "inc-heavy").await;
    let mut a = Client::connect_synced(&relay, "inc-light").await;
    let mut b = Client::connect_synced(&relay, "inc-light").await;
    let quiet = slowest_round_trip(&mut a, &mut b, Duration::from_secs(1)).await;

    const MEGABYTES: usize = 15;
    let update = many_entries_update(&editor.doc, MEGABYTES);
    let size = update.len();
    // The paste, then a SyncStep1: its answer comes once the paste is applied and stored.
    let started = Instant::now();
    editor
        .send_message(Message::Sync(SyncMessage::Update(update)))
        .await;
    editor.synced = false;
    let sv = editor.doc.transact().state_vector();
    editor
        .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
        .await;
    let done = std::cell::Cell::new(false);
    let heavy = async {
        editor.pump_until(|c| c.synced).await;
        done.set(true);
        started.elapsed()
    };
    let light = async {
        let (mut slowest, mut trips) = (Duration::ZERO, 0);
        while !done.get() {
            trips += 1;
            slowest = slowest.max(round_trip(&mut a, &mut b, trips).await);
        }
        (slowest, trips)
    };
    let (took, (slowest, trips)) = tokio::join!(heavy, light);
    println!(
        "a {:.1} MB update ({} entries) in one incident, applied and stored in {took:?}: another \
         incident's slowest round trip {quiet:?} quiet, {slowest:?} meanwhile ({trips} round \
         trips)",
        size as f64 / 1e6,
        MEGABYTES * 9_000
    );
    // Held up behind the paste, the other incident would wait about as long as the paste.
    assert!(
        slowest * 2 < took,
        "another incident waited {slowest:?} while the paste took {took:?}"
    );

    // Applied whole: whoever opens the incident now gets every entry.
    let reader = Client::connect_synced(&relay, "inc-heavy").await;
    let entries = {
        let timeline = reader.doc.get_or_insert_map("timeline");
        yrs::Map::len(&timeline, &reader.doc.transact())
    };
    assert_eq!(entries as usize, MEGABYTES * 9_000);

    // A viewer's big change goes the same way, and is refused all the same.
    let viewer = relay.invite("inc-heavy", "Vic", "viewer");
    let token = viewer["token"].as_str().expect("viewer token");
    let mut intruder = Client::connect_with(&relay, "inc-heavy", Some(token)).await;
    intruder.pump_until(|c| c.synced).await;
    let (rows_before, _) = common::db_counts(&data, "inc-heavy");
    intruder
        .send_message(Message::Sync(SyncMessage::Update(many_entries_update(
            &Doc::new(),
            1,
        ))))
        .await;
    assert_eq!(intruder.expect_closed().await.code, 4405);
    assert_eq!(common::db_counts(&data, "inc-heavy").0, rows_before);
}
