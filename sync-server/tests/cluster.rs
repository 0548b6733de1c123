//! Three relays on one PostgreSQL, sharing incidents through Redis (`--redis-url`): a
//! private PostgreSQL (`tests/deployment/`'s) and a private `redis-server`, each on a free
//! 127.0.0.1 port with a temporary directory, stopped when the test ends, panics included;
//! the relays are real `sync-server` processes.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
mod deployment;

use common::{Client, Relay};
use deployment::{free_port, Postgres};

/// A private `redis-server` (no persistence); killed when dropped.
struct Redis {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    fn start() -> Self {
        let mut redis = Redis {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("/usr/bin/redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir.path().to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/setup.sh installs Debian's redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Cluster {
    relays: Vec<Relay>,
    _tmp: tempfile::TempDir,
    redis: Redis,
    _pg: Postgres,
}

/// PostgreSQL, Redis and three relays on them. The relays share one `--data` path, so the
/// test harness registers each incident once (its owner token is kept per data path).
fn cluster() -> Cluster {
    cluster_with(&[])
}

/// As [`cluster`], every relay started with `extra` flags too.
fn cluster_with(extra: &[&str]) -> Cluster {
    let pg = Postgres::start();
    let redis = Redis::start();
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let (pg_url, redis_url) = (pg.url("postgres"), redis.url());
    let relays = ["a", "b", "c"]
        .iter()
        .map(|node| {
            let mut flags = vec![
                "--database-url",
                &pg_url,
                "--redis-url",
                &redis_url,
                "--node-id",
                node,
            ];
            flags.extend_from_slice(extra);
            Relay::start_with(&data, &dist, &flags)
        })
        .collect::<Vec<_>>();
    let cluster = Cluster {
        relays,
        _tmp: tmp,
        redis,
        _pg: pg,
    };
    for relay in &cluster.relays {
        wait_health(relay, |h| h["redis"] == "up" && h["other_nodes"] == 2);
    }
    cluster
}

fn health(relay: &Relay) -> serde_json::Value {
    let (status, _, body) = relay.get("/healthz");
    assert_eq!(status, 200, "healthz answers 200: {body}");
    serde_json::from_str(&body).expect("health JSON")
}

fn wait_health(relay: &Relay, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = health(relay);
        if done(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "health never got there: {h}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn metric(relay: &Relay, name: &str) -> u64 {
    let (status, _, body) = relay.get("/metrics");
    assert_eq!(status, 200);
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// Types `texts[n]` on `clients[n]` (connected to `relays[n]`), all at once, and waits
/// until every relay has stored what its own client typed.
async fn write_all_stored(clients: &mut [Client], relays: &[Relay], texts: &[String]) {
    let stored = |relay: &Relay| metric(relay, "firebreak_updates_stored_total");
    let before: Vec<u64> = relays.iter().map(stored).collect();
    for (client, text) in clients.iter_mut().zip(texts) {
        client.type_text(text).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while relays.iter().zip(&before).any(|(r, b)| stored(r) == *b) {
        assert!(Instant::now() < deadline, "{texts:?} stored in time");
        for client in clients.iter_mut() {
            client.pump_for(Duration::from_millis(5)).await;
        }
    }
}

#[test]
fn redis_without_a_database_url_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(tmp.path())
        .args(["--redis-url", "redis://127.0.0.1:1"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--redis-url needs --database-url"),
        "clear error: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_relays_share_edits_presence_and_revocations_live() {
    let cluster = cluster();
    let [a, b, c] = &cluster.relays[..] else {
        unreachable!()
    };
    let incident = "cluster-live";

    // (1) One writer on each relay; everyone ends with everything.
    let mut on_a = Client::connect_synced(a, incident).await;
    let mut on_b = Client::connect_synced(b, incident).await;
    let mut on_c = Client::connect_synced(c, incident).await;
    on_a.type_text("from A;").await;
    on_b.pump_until(|c| c.summary().contains("from A;")).await;
    on_b.type_text("from B;").await;
    on_c.pump_until(|c| c.summary().contains("from B;")).await;
    on_c.type_text("from C;").await;
    let all = |c: &Client| {
        ["from A;", "from B;", "from C;"]
            .iter()
            .all(|t| c.summary().contains(t))
    };
    on_a.pump_until(all).await;
    on_b.pump_until(all).await;
    assert_eq!(on_a.summary(), on_b.summary());
    assert_eq!(on_a.summary(), on_c.summary());

    // Cross-relay delivery: typed on A, seen on B, one update at a time.
    let mut took = Vec::with_capacity(1000);
    for i in 0..1000 {
        let text = format!("<{i}>");
        let start = Instant::now();
        on_a.type_text(&text).await;
        on_b.pump_until(|c| c.summary().ends_with(&text)).await;
        took.push(start.elapsed());
    }
    took.sort();
    let published_a = metric(a, "firebreak_redis_published_total");
    println!(
        "cross-relay delivery (A -> Redis -> B), 1000 updates: median {:.2} ms, p99 {:.2} ms, max {:.2} ms; relay A published {} Redis messages so far (heartbeats included)",
        took[500].as_secs_f64() * 1e3,
        took[990].as_secs_f64() * 1e3,
        took[999].as_secs_f64() * 1e3,
        published_a
    );
    on_c.pump_until(|c| c.summary().ends_with("<999>")).await;

    // (2) Presence from A shows on B and C, and goes when A's client leaves.
    let mut presence = Client::connect_synced(a, incident).await;
    presence
        .set_awareness(1, r#"{"user":{"name":"Ana on A"}}"#)
        .await;
    let id = presence.client_id().get();
    let shown = |c: &Client| c.awareness.get(&id).is_some_and(|j| j.contains("Ana on A"));
    on_b.pump_until(shown).await;
    on_c.pump_until(shown).await;
    presence.close().await;
    let gone = |c: &Client| c.awareness.get(&id).is_some_and(|j| j == "null");
    on_b.pump_until(gone).await;
    on_c.pump_until(gone).await;

    // (3) Revoked on A: the invite's connection on B closes with 4410 within a second.
    let invite = a.invite(incident, "Ben", "editor");
    let token = invite["token"].as_str().unwrap();
    let invite_id = invite["invite"].as_str().unwrap().to_owned();
    let mut ben = Client::connect_with(b, incident, Some(token)).await;
    ben.pump_until(|c| c.synced).await;
    let owner = a.owner_token(incident);
    let started = Instant::now();
    let (status, _, body) = a.request(
        "DELETE",
        &format!("/api/incidents/{incident}/invites/{invite_id}"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200, "revoked: {body}");
    let closed = ben.expect_closed().await;
    let after = started.elapsed();
    assert_eq!(closed.code, 4410, "closed as revoked: {closed:?}");
    println!(
        "revocation on A closed the connection on B after {:.1} ms",
        after.as_secs_f64() * 1e3
    );
    assert!(
        after < Duration::from_secs(3),
        "revocation crossed relays in {after:?}"
    );

    // A role changed on A closes that person's connection on C with 4412.
    let cleo = a.invite(incident, "Cleo", "editor");
    let mut on_c_cleo = Client::connect_with(c, incident, cleo["token"].as_str()).await;
    on_c_cleo.pump_until(|c| c.synced).await;
    let (status, _, body) = a.request(
        "PATCH",
        &format!(
            "/api/incidents/{incident}/invites/{}",
            cleo["invite"].as_str().unwrap()
        ),
        Some(&owner),
        Some(r#"{"role":"viewer"}"#),
    );
    assert_eq!(status, 200, "role changed: {body}");
    assert_eq!(on_c_cleo.expect_closed().await.code, 4412);

    // A presence already on A shows to someone who opens the incident on B later (B asks
    // the others when it loads the room), without A's client sending anything again.
    let late = "cluster-late-presence";
    let mut early = Client::connect_synced(a, late).await;
    early
        .set_awareness(1, r#"{"user":{"name":"early on A"}}"#)
        .await;
    early.pump_for(Duration::from_millis(200)).await;
    let early_id = early.client_id().get();
    let mut later = Client::connect_synced(b, late).await;
    later
        .pump_until(|c| {
            c.awareness
                .get(&early_id)
                .is_some_and(|j| j.contains("early on A"))
        })
        .await;

    // A room unloaded on B and loaded again still hears A (it subscribes again).
    later.close().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = Client::connect_synced(b, late).await;
    early.type_text("after B reloaded;").await;
    again
        .pump_until(|c| c.summary().contains("after B reloaded;"))
        .await;

    // Deleting the incident on A closes its connections on B and C with 4404.
    let (status, _, body) = a.request(
        "DELETE",
        &format!("/api/incidents/{incident}"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 204, "deleted: {body}");
    assert_eq!(on_b.expect_closed().await.code, 4404);
    assert_eq!(on_c.expect_closed().await.code, 4404);
    assert_eq!(on_a.expect_closed().await.code, 4404);
}

/// A JSON request to `relay`: (status, parsed body, `null` for none).
fn call(
    relay: &Relay,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let text = body.map(|b| b.to_string());
    let (status, _, answer) = relay.request(method, path, bearer, text.as_deref());
    (
        status,
        serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null),
    )
}

/// Puts a starter playbook named `name` on `relay` under `id` as its owner's first state,
/// and waits until the relay has stored it.
async fn publish_playbook(relay: &Relay, id: &str, name: &str) -> Client {
    use yrs::sync::{Message, SyncMessage};
    let playbook = incident::playbook::Playbook::adopt(id, "starter-phishing").expect("a starter");
    playbook.set_name(name);
    let mut owner = Client::connect_synced(relay, id).await;
    let before = metric(relay, "firebreak_updates_stored_total");
    owner
        .send_message(Message::Sync(SyncMessage::Update(playbook.encode_state())))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while metric(relay, "firebreak_updates_stored_total") == before {
        assert!(Instant::now() < deadline, "the playbook was stored in time");
        owner.pump_for(Duration::from_millis(5)).await;
    }
    owner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_members_revocation_and_an_unsharing_close_connections_on_other_relays() {
    use serde_json::json;
    let cluster = cluster();
    let [a, b, c] = &cluster.relays[..] else {
        unreachable!()
    };
    let id = "pb-cluster-team";
    let _owner = publish_playbook(a, id, "Shared runbook").await;
    let playbook_owner = a.owner_token(id);
    let (status, team) = call(
        a,
        "POST",
        "/api/teams",
        None,
        Some(json!({ "name": "IR", "owner_name": "Alice" })),
    );
    assert_eq!(status, 201, "team created: {team}");
    let team_id = team["team"].as_str().unwrap().to_owned();
    let team_owner = team["token"].as_str().unwrap().to_owned();
    let member = |name: &str| {
        let (status, body) = call(
            a,
            "POST",
            &format!("/api/teams/{team_id}/members"),
            Some(&team_owner),
            Some(json!({ "name": name, "role": "editor" })),
        );
        assert_eq!(status, 201, "member added: {body}");
        body
    };
    let (erin, lou) = (member("Erin"), member("Lou"));
    let share = || {
        let (status, body) = call(
            a,
            "POST",
            &format!("/api/incidents/{id}/teams"),
            Some(&playbook_owner),
            Some(json!({ "team": team_id, "team_token": team_owner })),
        );
        assert_eq!(status, 201, "shared: {body}");
    };
    share();
    let mut erin_on_b = Client::connect_with(b, id, erin["token"].as_str()).await;
    erin_on_b.pump_until(|c| c.synced).await;
    let mut lou_on_c = Client::connect_with(c, id, lou["token"].as_str()).await;
    lou_on_c.pump_until(|c| c.synced).await;

    // Erin revoked through A: her connection on B closes with 4410, Lou's on C stays.
    let started = Instant::now();
    let (status, body) = call(
        a,
        "DELETE",
        &format!(
            "/api/teams/{team_id}/members/{}",
            erin["invite"].as_str().unwrap()
        ),
        Some(&team_owner),
        None,
    );
    assert_eq!(status, 200, "revoked: {body}");
    let closed = erin_on_b.expect_closed().await;
    let revoked_after = started.elapsed();
    assert_eq!(closed.code, 4410, "{closed:?}");
    assert!(closed.reason.contains("revoked by Alice"), "{closed:?}");
    lou_on_c.pump_for(Duration::from_millis(300)).await;
    assert!(lou_on_c.closed.is_none(), "{:?}", lou_on_c.closed);

    // Unshared through A: Lou's connection on C closes with 4410, naming who.
    let started = Instant::now();
    let (status, body) = call(
        a,
        "DELETE",
        &format!("/api/incidents/{id}/teams/{team_id}"),
        Some(&playbook_owner),
        None,
    );
    assert_eq!(status, 204, "unshared: {body}");
    let closed = lou_on_c.expect_closed().await;
    let unshared_after = started.elapsed();
    assert_eq!(closed.code, 4410, "{closed:?}");
    assert!(closed.reason.contains("unshared by"), "{closed:?}");
    println!(
        "through relay A: a team member's revocation closed their connection on B after {:.1} ms, an unsharing the member's connection on C after {:.1} ms",
        revoked_after.as_secs_f64() * 1e3,
        unshared_after.as_secs_f64() * 1e3
    );
    for after in [revoked_after, unshared_after] {
        assert!(
            after < Duration::from_secs(3),
            "crossed relays in {after:?}"
        );
    }

    // Shared again through A: Lou gets in on C and stays, once C has heard of it (without
    // the news, C would close him with 4403 for the ended share it remembers).
    share();
    let deadline = Instant::now() + Duration::from_secs(5);
    let lou_again = loop {
        let mut lou_again = Client::connect_with(c, id, lou["token"].as_str()).await;
        lou_again.pump_for(Duration::from_millis(300)).await;
        match &lou_again.closed {
            Some(closed) if closed.code == 4403 && Instant::now() < deadline => {}
            _ => break lou_again,
        }
    };
    assert!(lou_again.closed.is_none(), "{:?}", lou_again.closed);
    assert!(lou_again.synced, "synced again after the new sharing");
    assert!(lou_again.closed.is_none(), "{:?}", lou_again.closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relays_presence_goes_from_the_others_after_the_node_ttl() {
    let mut cluster = cluster();
    let incident = "cluster-killed";
    let mut watcher = Client::connect_synced(&cluster.relays[0], incident).await;
    let doomed_relay = cluster.relays.pop().unwrap();
    let mut doomed = Client::connect_synced(&doomed_relay, incident).await;
    doomed.set_awareness(1, r#"{"user":{"name":"on C"}}"#).await;
    let id = doomed.client_id().get();
    watcher
        .pump_until(|c| c.awareness.get(&id).is_some_and(|j| j.contains("on C")))
        .await;
    let killed = Instant::now();
    doomed_relay.kill_9();
    watcher
        .pump_until(|c| c.awareness.get(&id).is_some_and(|j| j == "null"))
        .await;
    println!(
        "presence of a relay killed with -9 left the others after {:.1} s",
        killed.elapsed().as_secs_f64()
    );
    wait_health(&cluster.relays[0], |h| h["other_nodes"] == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_on_every_relay_converge_after_redis_is_down_for_ten_seconds() {
    let mut cluster = cluster();
    let incident = "cluster-outage";
    let mut clients = Vec::new();
    for relay in &cluster.relays {
        clients.push(Client::connect_synced(relay, incident).await);
    }
    // Every relay's writer types at the same instant, so the three relays append to the
    // incident's record in PostgreSQL concurrently (the store's per-incident advisory lock
    // orders them).
    let before: Vec<String> = (0..3).map(|n| format!("[before {n}]")).collect();
    write_all_stored(&mut clients, &cluster.relays, &before).await;

    cluster.redis.stop();
    for relay in &cluster.relays {
        wait_health(relay, |h| h["redis"] == "down");
        assert_eq!(metric(relay, "firebreak_redis_up"), 0);
    }
    // Ten seconds of writers on all three relays, Redis down.
    let outage = Instant::now();
    let mut round = 0;
    while outage.elapsed() < Duration::from_secs(10) {
        let texts: Vec<String> = (0..3).map(|n| format!("[{n}.{round}]")).collect();
        write_all_stored(&mut clients, &cluster.relays, &texts).await;
        for client in clients.iter_mut() {
            client.pump_for(Duration::from_millis(20)).await;
        }
        round += 1;
    }
    for relay in &cluster.relays {
        assert_eq!(health(relay)["redis"], "down");
    }
    cluster.redis.restart();
    for relay in &cluster.relays {
        wait_health(relay, |h| h["redis"] == "up");
    }
    let last: Vec<String> = (0..3).map(|n| format!("[{n}.{}]", round - 1)).collect();
    let everything = |c: &Client| last.iter().all(|t| c.summary().contains(t.as_str()));
    for client in clients.iter_mut() {
        client.pump_until(everything).await;
    }
    let summary = clients[0].summary();
    for client in &clients {
        assert_eq!(
            client.summary(),
            summary,
            "every client has the same document"
        );
    }
    for n in 0..3 {
        for r in 0..round {
            assert!(summary.contains(&format!("[{n}.{r}]")), "[{n}.{r}] kept");
        }
    }
    // And it is what PostgreSQL holds.
    let url = cluster._pg.url("postgres");
    let stored = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                use sync_server::store::{PostgresStore, Store};
                let store = PostgresStore::connect(&url).unwrap();
                let id = sync_server::incident_id::IncidentId::parse(incident).unwrap();
                store.load(&id).unwrap()
            })
            .join()
            .unwrap()
    });
    let room = sync_server::room::Room::load(
        stored.snapshot.as_deref(),
        stored.updates.iter().map(Vec::as_slice),
    )
    .unwrap();
    let doc = room.doc();
    let in_postgres = {
        use yrs::{GetString, Transact};
        let text = doc.get_or_insert_text("summary");
        let txn = doc.transact();
        text.get_string(&txn)
    };
    assert_eq!(
        in_postgres, summary,
        "PostgreSQL holds what every client has"
    );
    let catch_ups: u64 = cluster
        .relays
        .iter()
        .map(|r| metric(r, "firebreak_redis_catch_ups_total"))
        .sum();
    println!(
        "Redis down 10 s with {} writes on 3 relays: all converged after its restart ({catch_ups} room catch-ups from PostgreSQL)",
        round * 3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_redis_message_limit_reaches_the_other_relays_from_postgresql() {
    let cluster = cluster_with(&["--redis-max-message-bytes", "1024"]);
    let [a, b, _] = &cluster.relays[..] else {
        unreachable!()
    };
    let incident = "cluster-big";
    let mut on_a = Client::connect_synced(a, incident).await;
    let mut on_b = Client::connect_synced(b, incident).await;
    on_a.type_text("small;").await;
    on_b.pump_until(|c| c.summary() == "small;").await;
    let before = metric(b, "firebreak_redis_catch_ups_total");
    // Over the 1 KiB limit: published without its bytes, read from PostgreSQL by B.
    let big = "x".repeat(8 * 1024);
    on_a.type_text(&big).await;
    on_b.pump_until(|c| c.summary().len() == 6 + big.len())
        .await;
    assert_eq!(on_b.summary(), format!("small;{big}"));
    assert!(
        metric(b, "firebreak_redis_catch_ups_total") > before,
        "B caught up from PostgreSQL"
    );
    // And the small ones after it still go through Redis, in order.
    on_a.type_text("after;").await;
    on_b.pump_until(|c| c.summary().ends_with("after;")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_given_the_same_node_id_still_share_edits() {
    let pg = Postgres::start();
    let redis = Redis::start();
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let (pg_url, redis_url) = (pg.url("postgres"), redis.url());
    let flags = [
        "--database-url",
        &pg_url,
        "--redis-url",
        &redis_url,
        "--node-id",
        "same",
    ];
    let a = Relay::start_with(&data, &dist, &flags);
    let b = Relay::start_with(&data, &dist, &flags);
    for relay in [&a, &b] {
        wait_health(relay, |h| h["node"] == "same" && h["other_nodes"] == 1);
    }
    let mut on_a = Client::connect_synced(&a, "cluster-same-id").await;
    let mut on_b = Client::connect_synced(&b, "cluster-same-id").await;
    on_a.type_text("typed on one;").await;
    on_b.pump_until(|c| c.summary() == "typed on one;").await;
}
