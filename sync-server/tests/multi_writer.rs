//! Several relay processes on one PostgreSQL, writing the same incident at once: appends
//! from every relay chain into one record (`verify` walks it), and compaction, triggered
//! often and on every relay, never drops an update another relay stored. A private
//! PostgreSQL is started by the test (see `deployment/mod.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
mod deployment;

use common::{Client, Relay};
use deployment::{off_runtime, verify, Postgres};
use sync_server::incident_id::IncidentId;
use sync_server::store::record::Sent;
use sync_server::store::{PostgresStore, Store};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

/// Every `<…>` marker in `text`.
fn markers(text: &str) -> BTreeSet<String> {
    text.split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(m, _)| m.to_owned()))
        .collect()
}

/// Sends SyncStep1 and waits for the relay's SyncStep2: every update sent before is stored.
async fn acknowledged(client: &mut Client) {
    client.synced = false;
    let sv = client.doc.transact().state_vector();
    client
        .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
        .await;
    client.pump_until(|c| c.synced).await;
}

/// Two relay processes' worth of stores on one database (two pools), each with its own
/// document, as two relays that never see each other's updates live (no Redis): both
/// append, both compact with a snapshot of only their own document, over and over. What is
/// stored afterwards holds every update of both.
#[test]
fn compaction_on_one_relay_keeps_what_another_relay_appended() {
    const UPDATES: usize = 150;
    let pg = Postgres::start();
    let url = pg.database("two_stores");
    let stores: Vec<Arc<PostgresStore>> = (0..2)
        .map(|_| {
            let url = url.clone();
            Arc::new(off_runtime(move || PostgresStore::connect(&url).unwrap()))
        })
        .collect();
    let incident = IncidentId::parse("shared-store").unwrap();
    let writers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let store = Arc::clone(store);
            let incident = incident.clone();
            std::thread::spawn(move || {
                let doc = Doc::new();
                let text = doc.get_or_insert_text("summary");
                for k in 0..UPDATES {
                    let update = {
                        let mut txn = doc.transact_mut();
                        let len = text.len(&txn);
                        text.insert(&mut txn, len, &format!("<s{n}.{k}>"));
                        txn.encode_update_v1()
                    };
                    let sent = [Sent {
                        update,
                        invite: None,
                    }];
                    store.append_recorded(&incident, &sent, k as i64).unwrap();
                    if k % 7 == 3 {
                        // This relay's document only: the other's updates are not in it.
                        let end = store.log_end(&incident).unwrap();
                        let snapshot = doc
                            .transact()
                            .encode_state_as_update_v1(&StateVector::default());
                        store.compact_through(&incident, &snapshot, end).unwrap();
                    }
                    if k % 31 == 30 {
                        let snapshot = doc
                            .transact()
                            .encode_state_as_update_v1(&StateVector::default());
                        store.compact(&incident, &snapshot).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let stored = stores[0].load(&incident).unwrap();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("summary");
    for piece in stored.snapshot.iter().chain(&stored.updates) {
        doc.transact_mut()
            .apply_update(Update::decode_v1(piece).unwrap())
            .unwrap();
    }
    let found = markers(&text.get_string(&doc.transact()));
    let expected: BTreeSet<String> = (0..2)
        .flat_map(|n| (0..UPDATES).map(move |k| format!("s{n}.{k}")))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "{} of {} updates lost by compaction, e.g. {:?}",
        missing.len(),
        expected.len(),
        &missing[..missing.len().min(5)]
    );
    let records = stores[0].records(&incident, 0, 10 * UPDATES).unwrap();
    assert_eq!(records.len(), 2 * UPDATES, "one record per append");
    let (code, said) = verify(&url);
    assert_eq!(code, Some(0), "{said}");
}

/// Three relay processes on one PostgreSQL, compacting every 3 updates: two writers on each
/// of two relays and one on the third that leaves and comes back every 10 updates (so that
/// relay's room unloads, compacting the whole log each time). Every writer waits for the
/// relay's acknowledgement now and then. Afterwards `verify` passes, and a fresh relay loads
/// a document holding every update any writer was acknowledged for and everything any
/// writer saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_relays_writing_one_incident_lose_nothing_and_keep_one_chain() {
    const UPDATES: usize = 60;
    let pg = Postgres::start();
    let url = pg.database("multi");
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let flags = ["--database-url", &url, "--compact-after-updates", "3"];
    let relays: Vec<Arc<Relay>> = (0..3)
        .map(|_| Arc::new(Relay::start_with(&data, &dist, &flags)))
        .collect();
    let incident = "shared-by-three";
    // The owner's token, kept per data directory: every relay's clients use it.
    let _ = relays[0].owner_token(incident);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (node, writers) in [(0, 2), (1, 2), (2, 1)] {
        for w in 0..writers {
            let relay = Arc::clone(&relays[node]);
            tasks.push(tokio::spawn(async move {
                let mut client = Client::connect_synced(&relay, incident).await;
                let mut acked = BTreeSet::new();
                let mut sent = Vec::new();
                for k in 0..UPDATES {
                    let marker = format!("n{node}.w{w}.{k}");
                    client.type_text(&format!("<{marker}>")).await;
                    sent.push(marker);
                    if k % 5 == 4 {
                        acknowledged(&mut client).await;
                        acked.extend(sent.drain(..));
                    }
                    if node == 2 && k % 10 == 9 {
                        // Leave (the room unloads and compacts) and come back.
                        client.reconnect(&relay, incident).await;
                        client.pump_until(|c| c.synced).await;
                    }
                }
                acknowledged(&mut client).await;
                acked.extend(sent.drain(..));
                (acked, markers(&client.summary()))
            }));
        }
    }
    let mut acked = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for task in tasks {
        let (a, s) = task.await.unwrap();
        acked.extend(a);
        seen.extend(s);
    }
    let took = started.elapsed();
    assert_eq!(acked.len(), 5 * UPDATES);

    // A fourth relay, started now, loads what PostgreSQL holds.
    let fresh = Relay::start_with(&data, &dist, &flags);
    let reader = Client::connect_synced(&fresh, incident).await;
    let stored = markers(&reader.summary());
    let lost_acked: Vec<_> = acked.difference(&stored).collect();
    let lost_seen: Vec<_> = seen.difference(&stored).collect();
    assert!(
        lost_acked.is_empty() && lost_seen.is_empty(),
        "acknowledged but not stored: {} (e.g. {:?}); seen by a writer but not stored: {}",
        lost_acked.len(),
        &lost_acked[..lost_acked.len().min(5)],
        lost_seen.len()
    );
    // Each marker once: no update was stored twice in a way that shows.
    let summary = reader.summary();
    for m in &acked {
        assert_eq!(summary.matches(&format!("<{m}>")).count(), 1, "{m} twice");
    }
    drop(reader);
    drop(fresh);
    for relay in relays {
        Arc::try_unwrap(relay).ok().unwrap().kill_9();
    }
    let records = pg.number(
        "multi",
        "SELECT COUNT(*) FROM incident_record WHERE incident = 'shared-by-three'",
    );
    let log_rows = pg.number(
        "multi",
        "SELECT COUNT(*) FROM incident_update_log WHERE incident = 'shared-by-three'",
    );
    assert!(records >= 5 * UPDATES as i64, "{records} records");
    let (code, said) = verify(&url);
    assert_eq!(code, Some(0), "verify: {said}");
    println!(
        "3 relays, 5 writers, {} updates acknowledged in {:.1} s, compacting every 3: \
         {records} records in one chain (verify ok), {log_rows} log rows left, 0 lost",
        acked.len(),
        took.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Two relays starting at once on a new database (its schema is created once) and then
/// compacting one incident after every update, each with only its own document (made large,
/// so that merging takes a while): one relay's compaction often lands while the other is
/// merging what it read, and the later one must not write a merge that misses what the
/// earlier one folded in.
#[test]
fn compactions_racing_on_two_relays_keep_both_relays_updates() {
    const UPDATES: usize = 120;
    let pg = Postgres::start();
    let url = pg.database("racing");
    let incident = IncidentId::parse("raced").unwrap();
    let threads: Vec<_> = (0..2)
        .map(|n| {
            let url = url.clone();
            let incident = incident.clone();
            std::thread::spawn(move || {
                let store = PostgresStore::connect(&url).unwrap();
                let doc = Doc::new();
                let text = doc.get_or_insert_text("summary");
                let filler = "x".repeat(200 * 1024);
                for k in 0..UPDATES {
                    let update = {
                        let mut txn = doc.transact_mut();
                        let len = text.len(&txn);
                        let piece = if k == 0 {
                            format!("<r{n}.{k}>{filler}")
                        } else {
                            format!("<r{n}.{k}>")
                        };
                        text.insert(&mut txn, len, &piece);
                        txn.encode_update_v1()
                    };
                    let sent = [Sent {
                        update,
                        invite: None,
                    }];
                    store.append_recorded(&incident, &sent, k as i64).unwrap();
                    let end = store.log_end(&incident).unwrap();
                    let snapshot = doc
                        .transact()
                        .encode_state_as_update_v1(&StateVector::default());
                    store.compact_through(&incident, &snapshot, end).unwrap();
                }
                store
            })
        })
        .collect();
    let stores: Vec<PostgresStore> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let stored = stores[0].load(&incident).unwrap();
    let doc = Doc::new();
    let text = doc.get_or_insert_text("summary");
    for piece in stored.snapshot.iter().chain(&stored.updates) {
        doc.transact_mut()
            .apply_update(Update::decode_v1(piece).unwrap())
            .unwrap();
    }
    let found = markers(&text.get_string(&doc.transact()));
    let missing: Vec<String> = (0..2)
        .flat_map(|n| (0..UPDATES).map(move |k| format!("r{n}.{k}")))
        .filter(|m| !found.contains(m))
        .collect();
    assert!(
        missing.is_empty(),
        "{} updates lost by racing compactions, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}
