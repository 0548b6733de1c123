//! Three relays on one PostgreSQL behind HAProxy running `deploy/haproxy.cfg` (the file the
//! README shows, only its addresses filled in and its TLS certificate left out), writers
//! connected through HAProxy, and the relay serving them killed with SIGKILL in the middle.
//! The writers reconnect through HAProxy to a survivor, exchange state vectors, and nothing
//! any of them was acknowledged for, or saw from another, is lost: it is in PostgreSQL (a
//! fresh relay loads it) and in every writer's final document.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
mod deployment;

use common::Relay;
use deployment::{verify, HaProxy, Nginx, Postgres};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::{Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, Text, Transact, Update};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Every `<…>` marker in `text`.
fn markers(text: &str) -> BTreeSet<String> {
    text.split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(m, _)| m.to_owned()))
        .collect()
}

/// A stock-protocol Yjs client that survives its connection dying: every failure is a
/// `false`, and the document (with what was not acknowledged) stays.
struct Writer {
    doc: Doc,
    url: String,
    socket: Option<Socket>,
}

const WAIT: Duration = Duration::from_secs(10);

impl Writer {
    fn summary(&self) -> String {
        let text = self.doc.get_or_insert_text("summary");
        text.get_string(&self.doc.transact())
    }

    async fn send(&mut self, message: Message) -> bool {
        let Some(socket) = self.socket.as_mut() else {
            return false;
        };
        let sent = socket
            .send(WsMessage::Binary(message.encode_v1().into()))
            .await;
        if sent.is_err() {
            self.socket = None;
        }
        sent.is_ok()
    }

    /// Handles frames until a SyncStep2 arrives (true), or the connection ends or goes
    /// quiet for [`WAIT`] (false).
    async fn until_sync_step2(&mut self) -> bool {
        loop {
            let Some(socket) = self.socket.as_mut() else {
                return false;
            };
            let next = match tokio::time::timeout(WAIT, socket.next()).await {
                Ok(Some(Ok(WsMessage::Binary(bytes)))) => bytes,
                Ok(Some(Ok(WsMessage::Close(_)) | Err(_)) | None) | Err(_) => {
                    self.socket = None;
                    return false;
                }
                Ok(Some(Ok(_))) => continue,
            };
            let mut decoder = DecoderV1::from(next.as_ref());
            let messages: Vec<Message> = match MessageReader::new(&mut decoder).collect() {
                Ok(m) => m,
                Err(_) => continue,
            };
            let mut step2 = false;
            for message in messages {
                match message {
                    Message::Sync(SyncMessage::SyncStep1(sv)) => {
                        let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                        if !self.send(Message::Sync(SyncMessage::SyncStep2(diff))).await {
                            return false;
                        }
                    }
                    Message::Sync(SyncMessage::SyncStep2(update)) => {
                        self.apply(&update);
                        step2 = true;
                    }
                    Message::Sync(SyncMessage::Update(update)) => self.apply(&update),
                    _ => {}
                }
            }
            if step2 {
                return true;
            }
        }
    }

    fn apply(&self, update: &[u8]) {
        let update = Update::decode_v1(update).expect("relay update decodes");
        self.doc
            .transact_mut()
            .apply_update(update)
            .expect("relay update applies");
    }

    /// Connects (through HAProxy) and exchanges state vectors: what the relay lacks goes up
    /// in the answer to its SyncStep1, what this lacks comes down.
    async fn connect(&mut self) -> bool {
        let opened = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(&self.url)).await;
        let Ok(Ok((socket, _))) = opened else {
            return false;
        };
        self.socket = Some(socket);
        let sv = self.doc.transact().state_vector();
        self.send(Message::Sync(SyncMessage::SyncStep1(sv))).await && self.until_sync_step2().await
    }

    /// SyncStep1, then the relay's SyncStep2: every update sent before it is stored.
    async fn acknowledged(&mut self) -> bool {
        let sv = self.doc.transact().state_vector();
        self.send(Message::Sync(SyncMessage::SyncStep1(sv))).await && self.until_sync_step2().await
    }

    async fn type_marker(&mut self, marker: &str) -> bool {
        let update = {
            let text = self.doc.get_or_insert_text("summary");
            let mut txn = self.doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, &format!("<{marker}>"));
            txn.encode_update_v1()
        };
        self.send(Message::Sync(SyncMessage::Update(update))).await
    }
}

fn metric(relay: &Relay, name: &str) -> u64 {
    let (_, _, body) = relay.get("/metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The README shows the files these tests run, byte for byte.
#[test]
fn the_readme_shows_the_load_balancer_configs_these_tests_run() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for (opening, first_line, file) in [
        ("```haproxy\n", "", deployment::haproxy_config_path()),
        ("```nginx\n", "upstream", deployment::nginx_config_path()),
    ] {
        let at = readme
            .match_indices(opening)
            .map(|(i, _)| i + opening.len())
            .find(|&i| readme[i..].starts_with(first_line))
            .unwrap_or_else(|| panic!("README.md has a {opening:?} block"));
        let shown = &readme[at..at + readme[at..].find("```").unwrap()];
        let wanted = std::fs::read_to_string(&file).unwrap();
        assert_eq!(shown, wanted, "README.md and {} differ", file.display());
    }
}

struct Outcome {
    acked: BTreeSet<String>,
    /// Updates sent but not yet acknowledged when the connection died.
    in_flight: usize,
    reconnects: Vec<Duration>,
    writer: Writer,
}

/// The load balancer in front of the relays.
enum Balancer {
    HaProxy(HaProxy),
    Nginx(Nginx),
}

impl Balancer {
    fn addr(&self) -> &str {
        match self {
            Balancer::HaProxy(h) => &h.addr,
            Balancer::Nginx(n) => &n.addr,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_relay_behind_haproxy_loses_nothing_acknowledged_or_seen() {
    killing_a_relay_behind(
        |relays| Balancer::HaProxy(HaProxy::start(relays)),
        "HAProxy",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_relay_behind_nginx_loses_nothing_acknowledged_or_seen() {
    killing_a_relay_behind(|relays| Balancer::Nginx(Nginx::start(relays)), "nginx").await;
}

async fn killing_a_relay_behind(start: impl FnOnce([&str; 3]) -> Balancer, name: &str) {
    const WRITERS: usize = 4;
    const UPDATES: usize = 80;
    let pg = Postgres::start();
    let url = pg.database("failover");
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let flags = [
        "--database-url",
        url.as_str(),
        "--trusted-proxy",
        "127.0.0.1",
        "--compact-after-updates",
        "10",
    ];
    let mut relays: Vec<Option<Relay>> = (0..3)
        .map(|_| Some(Relay::start_with(&data, &dist, &flags)))
        .collect();
    let addrs: Vec<String> = relays
        .iter()
        .map(|r| r.as_ref().unwrap().addr.clone())
        .collect();
    let haproxy = start([&addrs[0], &addrs[1], &addrs[2]]);
    let incident = "failover";
    let token = relays[0].as_ref().unwrap().owner_token(incident);
    let ws = format!("ws://{}/sync/{incident}?token={token}", haproxy.addr());

    let killed_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let ws = ws.clone();
        let killed_at = Arc::clone(&killed_at);
        tasks.push(tokio::spawn(async move {
            let mut writer = Writer {
                doc: Doc::new(),
                url: ws,
                socket: None,
            };
            assert!(
                writer.connect().await,
                "writer {w} connects through haproxy"
            );
            let mut acked = BTreeSet::new();
            let mut pending = Vec::new();
            let mut reconnects = Vec::new();
            let mut in_flight = 0;
            for k in 0..UPDATES {
                let marker = format!("w{w}.{k}");
                let mut up = writer.type_marker(&marker).await;
                pending.push(marker);
                if up && k % 5 == 4 {
                    up = writer.acknowledged().await;
                    if up {
                        acked.extend(pending.drain(..));
                    }
                }
                if !up {
                    // The relay went away: through HAProxy again, until a survivor answers.
                    in_flight += pending.len();
                    let noticed = Instant::now();
                    let deadline = noticed + Duration::from_secs(60);
                    while !writer.connect().await {
                        assert!(Instant::now() < deadline, "writer {w} found no relay");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    let since = killed_at.lock().unwrap().unwrap_or(noticed);
                    reconnects.push(since.elapsed());
                    assert!(writer.acknowledged().await, "writer {w} acknowledged");
                    acked.extend(pending.drain(..));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(writer.acknowledged().await);
            acked.extend(pending.drain(..));
            Outcome {
                acked,
                in_flight,
                reconnects,
                writer,
            }
        }));
    }

    // Mid-stream: the relay holding the writers' connections is killed.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let serving = (0..3)
        .max_by_key(|&i| metric(relays[i].as_ref().unwrap(), "firebreak_connections_open"))
        .unwrap();
    let open = metric(
        relays[serving].as_ref().unwrap(),
        "firebreak_connections_open",
    );
    assert!(
        open >= WRITERS as u64,
        "one relay serves the incident's writers ({open} open)"
    );
    *killed_at.lock().unwrap() = Some(Instant::now());
    relays[serving].take().unwrap().kill_9();

    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    // A final resync for everyone, after the last writer's last update.
    for o in &mut outcomes {
        assert!(o.writer.connect().await, "final resync");
    }
    let acked: BTreeSet<String> = outcomes.iter().flat_map(|o| o.acked.clone()).collect();
    assert_eq!(acked.len(), WRITERS * UPDATES);

    // What PostgreSQL holds, loaded by a relay started now.
    let fresh = Relay::start_with(&data, &dist, &flags);
    let mut reader = Writer {
        doc: Doc::new(),
        url: fresh.ws_url(incident) + &format!("?token={token}"),
        socket: None,
    };
    assert!(reader.connect().await);
    let stored = markers(&reader.summary());
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged updates lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    for (w, o) in outcomes.iter().enumerate() {
        let has = markers(&o.writer.summary());
        assert!(
            has.is_subset(&stored),
            "writer {w} saw updates PostgreSQL lacks"
        );
        assert_eq!(
            has, stored,
            "writer {w}'s final document differs from PostgreSQL's"
        );
    }
    let reconnected = outcomes.iter().filter(|o| !o.reconnects.is_empty()).count();
    assert_eq!(reconnected, WRITERS, "every writer was on the killed relay");
    drop(haproxy);
    drop(fresh);
    drop(relays);
    let (code, said) = verify(&url);
    assert_eq!(code, Some(0), "verify: {said}");

    let in_flight: usize = outcomes.iter().map(|o| o.in_flight).sum();
    let mut times: Vec<Duration> = outcomes.iter().flat_map(|o| o.reconnects.clone()).collect();
    times.sort();
    println!(
        "kill -9 of the relay serving {WRITERS} writers behind {name}: reconnected to a \
         survivor after median {} ms, max {} ms (from the kill); {in_flight} updates in \
         flight at the kill sent again, 0 lost; {} updates acknowledged, all in PostgreSQL; \
         every writer's document equals PostgreSQL's; verify ok",
        times[times.len() / 2].as_millis(),
        times.last().unwrap().as_millis(),
        acked.len()
    );
}
