//! PostgreSQL stops under a writer: the relay acknowledges nothing it could not store, closes
//! with 4503, says so on /healthz and /metrics, and takes the writer's changes again once
//! PostgreSQL is back. A private PostgreSQL is started (and stopped, and started again) by
//! the test (see `deployment/mod.rs`).

use std::time::{Duration, Instant};

mod common;
mod deployment;

use common::{Client, Relay};
use deployment::Postgres;
use yrs::sync::{Message, SyncMessage};
use yrs::ReadTxn;
use yrs::Transact;

/// Sends SyncStep1 and waits for the relay's SyncStep2: every update sent before is stored.
async fn acknowledged(client: &mut Client) {
    client.synced = false;
    let sv = client.doc.transact().state_vector();
    client
        .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
        .await;
    client.pump_until(|c| c.synced).await;
}

fn metric(relay: &Relay, name: &str) -> String {
    let (status, _, body) = relay.get("/metrics");
    assert_eq!(status, 200);
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopping_closes_writers_with_4503_and_they_resume_when_it_is_back() {
    let pg = Postgres::start();
    let url = pg.database("down");
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let flags = ["--database-url", url.as_str(), "--database-pool-size", "2"];
    let relay = Relay::start_with(&data, &dist, &flags);
    let incident = "outage";
    let mut writer = Client::connect_synced(&relay, incident).await;
    writer.type_text("before;").await;
    acknowledged(&mut writer).await;
    let (status, _, _) = relay.get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(metric(&relay, "firebreak_storage_up"), "1");

    // PostgreSQL stops; the writer goes on typing.
    pg.stop_fast();
    let stopped = Instant::now();
    writer.type_text_offline_ok("during;").await;
    let closed = writer.expect_closed().await;
    let closed_after = stopped.elapsed();
    assert_eq!(closed.code, 4503, "{closed:?}");
    assert!(closed.reason.contains("storage unavailable"), "{closed:?}");
    let (status, _, body) = relay.get("/healthz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage unavailable"), "{body}");
    assert_eq!(metric(&relay, "firebreak_storage_up"), "0");
    // Coming back while it is still down: refused the same way, nothing taken.
    let mut early =
        Client::connect_with(&relay, incident, Some(&relay.owner_token(incident))).await;
    assert_eq!(early.expect_closed().await.code, 4503);

    // PostgreSQL is back: /healthz says so within a few seconds, with no client asking.
    pg.start_again();
    let restarted = Instant::now();
    let deadline = restarted + Duration::from_secs(30);
    while relay.get("/healthz").0 != 200 {
        assert!(Instant::now() < deadline, "/healthz stayed 503");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healthy_after = restarted.elapsed();
    assert_eq!(metric(&relay, "firebreak_storage_up"), "1");
    // The writer reconnects; the state-vector exchange sends what was not acknowledged.
    writer.reconnect(&relay, incident).await;
    writer.pump_until(|c| c.synced).await;
    acknowledged(&mut writer).await;
    assert_eq!(writer.summary(), "before;during;");
    // The pool stayed within its bound (--database-pool-size 2) through it all.
    let open: u64 = metric(&relay, "firebreak_database_connections")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&open), "{open} connections open");

    // Stored in PostgreSQL: a new relay process loads both.
    relay.kill_9();
    let relay = Relay::start_with(&data, &dist, &flags);
    let reader = Client::connect_synced(&relay, incident).await;
    assert_eq!(reader.summary(), "before;during;");
    println!(
        "PostgreSQL stopped: writer closed with 4503 after {} ms; started again: /healthz 200 \
         after {} ms; the change typed during the outage stored after reconnecting",
        closed_after.as_millis(),
        healthy_after.as_millis()
    );
}

#[test]
fn a_pool_size_of_zero_is_refused_with_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--database-pool-size", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--database-pool-size") && said.contains("1..=1000"),
        "{said}"
    );
}
