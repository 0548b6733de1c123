//! The relay's limits and its `/metrics`, end to end against the binary: connections per
//! address, idle connections, documents in memory, and the Prometheus counters an operator
//! watches.

mod common;

use std::time::Duration;

use common::{Client, Relay};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

fn metric(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{body}"))
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn connections_beyond_the_per_address_limit_are_closed_with_1008() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-connections-per-address", "2"]);
    let mut first = Client::connect_synced(&relay, "inc-limit").await;
    let second = Client::connect_synced(&relay, "inc-limit").await;
    let token = relay.owner_token("inc-limit");
    let mut third = Client::connect_with(&relay, "inc-limit", Some(&token)).await;
    let closed = third.expect_closed().await;
    assert_eq!(closed.code, 1008);
    assert_eq!(
        closed.reason,
        "too many connections from this address (limit 2)"
    );
    assert_eq!(third.frames_received, 0);

    // A place frees up when a connection ends.
    second.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = Client::connect_synced(&relay, "inc-limit").await;
    first.type_text("still here").await;
    fourth.pump_until(|c| c.summary() == "still here").await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_but_one_that_answers_pings_stays() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--idle-timeout", "3"]);
    let mut silent = Client::connect_synced(&relay, "inc-idle").await;
    let mut alive = Client::connect_synced(&relay, "inc-idle").await;
    // `alive` keeps reading (so its websocket library answers pings) without sending data.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let pumping = async {
        while tokio::time::Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(200), alive.pump_once()).await;
        }
    };
    // Meanwhile `silent` reads nothing, so it never answers a ping.
    pumping.await;
    let closed = silent.expect_closed().await;
    assert_eq!(closed.code, 1001);
    assert_eq!(closed.reason, "idle: no answer to pings for 3 s");
    assert!(alive.closed.is_none(), "{:?}", alive.closed);
    alive.type_text("still connected").await;
    let mut check = Client::connect_synced(&relay, "inc-idle").await;
    check.pump_until(|c| c.summary() == "still connected").await;
}

#[tokio::test]
async fn metrics_count_connections_updates_refusals_and_storage_writes() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut alice = Client::connect_synced(&relay, "inc-metrics").await;
    let mut bob = Client::connect_synced(&relay, "inc-metrics").await;
    alice.type_text("one").await;
    bob.pump_until(|c| c.summary() == "one").await;
    let mut refused = Client::connect_with(&relay, "inc-metrics", None).await;
    refused.expect_closed().await;

    let (status, headers, body) = relay.get("/metrics");
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("text/plain; version=0.0.4"));
    assert_eq!(metric(&body, "firebreak_connections_open"), 2.0);
    assert_eq!(metric(&body, "firebreak_rooms_open"), 1.0);
    assert!(metric(&body, "firebreak_updates_stored_total") >= 1.0);
    assert!(metric(&body, "firebreak_frames_in_total") >= 3.0);
    assert!(metric(&body, "firebreak_bytes_out_total") > 0.0);
    assert_eq!(metric(&body, "firebreak_closes_total{code=\"4401\"}"), 1.0);
    assert!(metric(&body, "firebreak_store_write_seconds_count") >= 1.0);
    assert!(!body.contains("inc-metrics"), "no incident ids in metrics");
}

#[tokio::test]
async fn past_the_rooms_in_memory_limit_idle_incidents_sleep_and_everyone_keeps_every_edit() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-rooms-in-memory", "2"]);
    let incidents = ["inc-mem-a", "inc-mem-b", "inc-mem-c", "inc-mem-d"];
    // Two people on each of four incidents, all connected the whole time.
    let mut pairs = Vec::new();
    for incident in incidents {
        let writer = Client::connect_synced(&relay, incident).await;
        let reader = Client::connect_synced(&relay, incident).await;
        pairs.push((incident, writer, reader));
    }
    // Three rounds of edits on every incident, in turn: each round wakes every incident once.
    for round in 0..3 {
        for (incident, writer, reader) in &mut pairs {
            writer
                .type_text(&format!("{incident} round {round}. "))
                .await;
            let expected = (0..=round)
                .map(|r| format!("{incident} round {r}. "))
                .collect::<String>();
            reader.pump_until(|c| c.summary() == expected).await;
        }
    }

    // The last wake-up's sleeper may still be storing its document: give it a moment.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let body = loop {
        let (_, _, body) = relay.get("/metrics");
        if metric(&body, "firebreak_rooms_in_memory") <= 2.0
            || tokio::time::Instant::now() > deadline
        {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(metric(&body, "firebreak_rooms_in_memory") <= 2.0, "{body}");
    assert_eq!(metric(&body, "firebreak_rooms_open"), 4.0);
    assert!(
        metric(&body, "firebreak_rooms_slept_total") >= 6.0,
        "{body}"
    );
    assert!(
        metric(&body, "firebreak_rooms_woken_total") >= 6.0,
        "{body}"
    );
    assert_eq!(metric(&body, "firebreak_connections_open"), 8.0);
    // Nobody was refused or disconnected to make space.
    for code in ["1008", "1011", "1013"] {
        let name = format!("firebreak_closes_total{{code=\"{code}\"}}");
        assert_eq!(metric(&body, &name), 0.0, "{name}");
    }

    // A late joiner on each incident gets the whole document, woken from storage.
    for (incident, writer, reader) in &mut pairs {
        let expected = (0..3)
            .map(|r| format!("{incident} round {r}. "))
            .collect::<String>();
        let mut late = Client::connect_synced(&relay, incident).await;
        late.pump_until(|c| c.summary() == expected).await;
        writer.pump_until(|c| c.summary() == expected).await;
        assert!(reader.closed.is_none());
    }
}
