//! The relay on the internet, tried as an attacker would: what connections that are never let
//! in, never finish a request, or come in floods can make it spend. Against the real binary,
//! with its memory read from `/proc`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Client, Relay};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// Opens a websocket to `path` by hand (no token) and returns the socket once the relay has
/// answered the upgrade.
fn raw_websocket(relay: &Relay, path: &str) -> TcpStream {
    let mut socket = TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("read timeout");
    write!(
        socket,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        relay.addr
    )
    .expect("send upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).expect("read upgrade answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "upgrade answered {head}");
    socket
}

/// The start of a masked binary frame announcing `len` bytes of payload.
fn frame_header(len: u64) -> Vec<u8> {
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    header
}

/// Reads until the relay closes the socket (or `within` passes); true if it closed.
fn closed_by_relay(socket: &mut TcpStream, within: Duration) -> bool {
    socket.set_read_timeout(Some(within)).expect("read timeout");
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn connections_without_a_token_cannot_make_the_relay_hold_what_they_send() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    // Warm the relay up (one real incident), then take its peak memory as the baseline.
    relay.owner_token("inc-real");
    let before = relay.memory_kb("VmHWM");

    const ATTACKERS: usize = 100;
    const SENT: usize = 2 * 1024 * 1024;
    let chunk = vec![0x5au8; 64 * 1024];
    let mut sockets = Vec::new();
    for _ in 0..ATTACKERS {
        let mut socket = raw_websocket(&relay, "/sync/inc-real");
        // A 31 MB message announced; 2 MiB of it sent. The relay may cut us off early.
        let mut sent = socket.write_all(&frame_header(31_000_000)).is_ok();
        let mut total = 0;
        while sent && total < SENT {
            sent = socket.write_all(&chunk).is_ok();
            total += chunk.len();
        }
        sockets.push(socket);
    }
    for socket in &mut sockets {
        assert!(
            closed_by_relay(socket, Duration::from_secs(10)),
            "a refused connection is closed by the relay"
        );
    }
    let grown_kb = relay.memory_kb("VmHWM").saturating_sub(before);
    let per_connection_kb = grown_kb / ATTACKERS as u64;
    println!("{ATTACKERS} refused connections each sending 2 MiB: peak memory +{grown_kb} kB ({per_connection_kb} kB each)");
    assert!(
        per_connection_kb <= 64,
        "a refused connection cost {per_connection_kb} kB at the relay's peak (limit 64 kB)"
    );
}

#[tokio::test]
async fn a_refused_connection_keeps_its_place_in_its_address_count_until_it_is_gone() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-connections-per-address", "3"]);
    let token = relay.owner_token("inc-places");
    // Three tokenless sockets that never answer the relay's close frame.
    let refused: Vec<TcpStream> = (0..3)
        .map(|_| raw_websocket(&relay, "/sync/inc-places"))
        .collect();
    let mut valid = Client::connect_with(&relay, "inc-places", Some(&token)).await;
    let closed = valid.expect_closed().await;
    assert_eq!(closed.code, 1008, "the address's places are taken");
    drop(refused);
    // Once they are gone, the valid token gets in.
    let deadline = Instant::now() + common::TIMEOUT;
    loop {
        let mut client = Client::connect_with(&relay, "inc-places", Some(&token)).await;
        client.pump_for(Duration::from_millis(300)).await;
        if client.closed.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "the places are given back");
    }
}

#[test]
fn a_request_that_never_finishes_its_headers_is_closed_after_the_timeout() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--request-header-timeout", "1"]);
    let started = Instant::now();
    let mut slow = TcpStream::connect(&relay.addr).expect("connect");
    write!(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("send half a head");
    let mut silent = TcpStream::connect(&relay.addr).expect("connect");
    assert!(closed_by_relay(&mut slow, Duration::from_secs(5)));
    assert!(closed_by_relay(&mut silent, Duration::from_secs(5)));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "closed only once the timeout passed ({took:?})"
    );
    assert_eq!(relay.get("/healthz").0, 200);
}

#[test]
fn past_the_connection_limit_new_connections_are_closed_at_once_and_the_relay_recovers() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &["--max-connections", "20", "--request-header-timeout", "2"],
    );
    // Twenty connections that never send a request take every place.
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&relay.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut one_more = TcpStream::connect(&relay.addr).expect("the kernel still accepts");
    let started = Instant::now();
    assert!(closed_by_relay(&mut one_more, Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "closed on arrival, not after the header timeout"
    );
    // The idle ones are closed by the header timeout, and the relay answers again.
    let deadline = Instant::now() + common::TIMEOUT;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let mut probe = TcpStream::connect(&relay.addr).expect("connect");
        probe
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let answered = write!(
            probe,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .is_ok()
            && {
                let mut answer = String::new();
                probe.read_to_string(&mut answer).is_ok() && answer.starts_with("HTTP/1.1 200")
            };
        if answered {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz answers once places free up"
        );
    }
    drop(idle);
    let (_, _, metrics) = relay.get("/metrics");
    let over: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("firebreak_connections_over_limit_total "))
        .expect("the over-limit counter")
        .parse()
        .expect("a number");
    assert!(over >= 1.0, "the refused arrival is counted");
}

#[tokio::test]
async fn viewers_cannot_make_the_relay_hold_or_pass_on_big_invalid_or_borrowed_presence() {
    use yrs::sync::awareness::AwarenessUpdateEntry;
    use yrs::sync::{AwarenessUpdate, Message};

    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-presence";
    let mut ann = Client::connect_synced(&relay, incident).await;
    ann.set_awareness(1, r#"{"user":{"name":"Ann"}}"#).await;
    ann.pump_until(|c| c.awareness.len() == 1).await;
    let viewer_token = relay.invite(incident, "Vic", "viewer")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Warm up a viewer's path (a connection, a refused state), then take the baseline.
    let mut warm = Client::connect_with(&relay, incident, Some(&viewer_token)).await;
    warm.set_awareness(1, "not json").await;
    assert_eq!(warm.expect_closed().await.code, 1003);
    let before = relay.memory_kb("VmHWM");

    // Ten viewers, one after another, each announcing a 10 MB state: each is closed, 1003.
    const VIEWERS: usize = 10;
    let huge = format!(r#"{{"user":{{"name":"{}"}}}}"#, "V".repeat(10_000_000));
    for _ in 0..VIEWERS {
        let mut viewer = Client::connect_with(&relay, incident, Some(&viewer_token)).await;
        viewer.set_awareness(1, &huge).await;
        let closed = viewer.expect_closed().await;
        assert_eq!(closed.code, 1003, "{closed:?}");
        assert_eq!(
            closed.reason,
            format!(
                "awareness update rejected: state of {} is 10000020 bytes, over 4096",
                viewer.client_id()
            )
        );
    }
    let grown_kb = relay.memory_kb("VmHWM").saturating_sub(before);
    println!("{VIEWERS} viewers each sending a 10 MB presence state: peak memory +{grown_kb} kB");
    assert!(
        grown_kb < 48 * 1024,
        "refused 10 MB states took the relay's peak up by {grown_kb} kB (limit 48 MiB)"
    );

    // A state that is not JSON: closed, never passed on.
    let mut broken = Client::connect_with(&relay, incident, Some(&viewer_token)).await;
    broken.set_awareness(1, r#"{"user":"#).await;
    assert_eq!(broken.expect_closed().await.code, 1003);

    // A viewer announcing Ann's client id under another name, and removing it: dropped, and
    // the viewer's own state in the same message goes through.
    let mut mallory = Client::connect_with(&relay, incident, Some(&viewer_token)).await;
    mallory.pump_until(|c| c.awareness.len() == 1).await;
    for json in [r#"{"user":{"name":"Mallory"}}"#, "null"] {
        let clients = [
            (
                ann.client_id(),
                AwarenessUpdateEntry {
                    clock: 1000,
                    json: json.into(),
                },
            ),
            (
                mallory.client_id(),
                AwarenessUpdateEntry {
                    clock: 1,
                    json: r#"{"user":{"name":"Vic"}}"#.into(),
                },
            ),
        ]
        .into_iter()
        .collect();
        mallory
            .send_message(Message::Awareness(AwarenessUpdate { clients }))
            .await;
    }

    // A new joiner sees Ann as Ann, and Vic; nothing big, broken or borrowed reached anyone.
    let mut late = Client::connect_synced(&relay, incident).await;
    late.pump_until(|c| c.awareness.len() == 2).await;
    ann.pump_until(|c| c.awareness.len() == 2).await;
    late.pump_for(Duration::from_millis(300)).await;
    ann.pump_for(Duration::from_millis(300)).await;
    for (who, client) in [("Ann", &ann), ("a new joiner", &late)] {
        let mut seen: Vec<&str> = client.awareness.values().map(String::as_str).collect();
        seen.sort();
        assert_eq!(
            seen,
            [r#"{"user":{"name":"Ann"}}"#, r#"{"user":{"name":"Vic"}}"#],
            "{who} sees"
        );
    }
    assert!(ann.closed.is_none() && mallory.closed.is_none());
}
