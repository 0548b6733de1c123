//! The relay is `kill -9`ed again and again while clients write without pause. Whatever any
//! client received from another (so the relay had broadcast it) must be in the relay's
//! stored state after the last restart, and once the clients reconnect every document
//! converges, with every client's own edits.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Client, Relay};

const WRITERS: usize = 3;
const CRASHES: usize = 4;
const INCIDENT: &str = "inc-crashes";

/// The words `w{writer}-{n};` in a summary that another writer typed.
fn words_from_others(summary: &str, me: usize) -> BTreeSet<String> {
    summary
        .split_inclusive(';')
        .filter(|w| w.ends_with(';') && !w.starts_with(&format!("w{me}-")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn no_delivered_update_is_lost_across_repeated_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let mut relay = Relay::start(&data, &dist);
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        writers.push(Client::connect_synced(&relay, INCIDENT).await);
    }
    let mut delivered = BTreeSet::new();
    let mut typed = 0usize;

    for crash in 0..=CRASHES {
        // Write for a while: every writer types, then everyone reads what arrived.
        for round in 0..40 {
            for (i, writer) in writers.iter_mut().enumerate() {
                writer
                    .type_text_offline_ok(&format!("w{i}-{crash}.{round};"))
                    .await;
                typed += 1;
            }
            for writer in writers.iter_mut() {
                writer.pump_for(Duration::from_millis(2)).await;
            }
        }
        // Right in the middle of the traffic: what each writer has from the others was
        // delivered by the relay, so it must have been stored first.
        for (i, writer) in writers.iter().enumerate() {
            delivered.extend(words_from_others(&writer.summary(), i));
        }
        relay.kill_9();
        relay = Relay::start(&data, &dist);
        if crash < CRASHES {
            for writer in writers.iter_mut() {
                writer.reconnect(&relay, INCIDENT).await;
            }
        }
    }

    // Before any writer is back: the relay's stored state alone has every delivered word.
    let stored = Client::connect_synced(&relay, INCIDENT).await.summary();
    let missing: Vec<_> = delivered
        .iter()
        .filter(|w| !stored.contains(w.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} delivered words lost: {missing:?}",
        missing.len(),
        delivered.len()
    );
    assert!(
        delivered.len() > WRITERS * 40,
        "the writers did see each other"
    );

    // The writers come back with their own unsent edits; all converge on everything typed.
    for writer in writers.iter_mut() {
        writer.reconnect(&relay, INCIDENT).await;
        writer.pump_until(|c| c.synced).await;
    }
    let mut reader = Client::connect_synced(&relay, INCIDENT).await;
    reader
        .pump_until(|c| c.summary().matches(';').count() == typed)
        .await;
    let expected = reader.summary();
    for writer in writers.iter_mut() {
        writer.pump_until(|c| c.summary() == expected).await;
    }
}
