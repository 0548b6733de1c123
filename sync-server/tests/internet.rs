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

/// Sends one raw HTTP/1.1 request (`head` without its final blank line, then `body`) and
/// returns the answer's status.
fn status_of(relay: &Relay, head: &str, body: &str) -> u16 {
    let mut socket = TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    write!(
        socket,
        "{head}Host: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        relay.addr,
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {answer:?}"))
}

/// `GET /api/incidents/{incident}/me` with `token`, as if forwarded for `client`.
fn me_status(relay: &Relay, incident: &str, token: &str, client: &str) -> u16 {
    let head = format!(
        "GET /api/incidents/{incident}/me HTTP/1.1\r\nAuthorization: Bearer {token}\r\n\
         X-Forwarded-For: {client}\r\n"
    );
    status_of(relay, &head, "")
}

fn wrong_secret(token: &str) -> String {
    let invite = token.split('.').next().expect("an invite id");
    format!("{invite}.{}", "0".repeat(32))
}

#[test]
fn behind_a_trusted_proxy_one_clients_guessing_does_not_lock_out_another() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--trusted-proxy", "127.0.0.1"]);
    let token = relay.owner_token("inc-proxy");
    let wrong = wrong_secret(&token);
    let guesses: Vec<u16> = (0..12)
        .map(|_| me_status(&relay, "inc-proxy", &wrong, "203.0.113.5"))
        .collect();
    assert_eq!(&guesses[..10], &[403; 10]);
    assert_eq!(&guesses[10..], &[429, 429], "the guesser waits");
    // The owner, another client behind the same proxy, is let in.
    assert_eq!(me_status(&relay, "inc-proxy", &token, "198.51.100.7"), 200);
    // An IPv6 guesser cannot start afresh by changing the low bits of its address. (Its
    // guesses name no invite, so only its address's budget is spent.)
    let unknown = format!("{}.{}", "0".repeat(16), "0".repeat(32));
    for i in 0..10 {
        me_status(
            &relay,
            "inc-proxy",
            &unknown,
            &format!("2001:db8:5:5::{}", i + 1),
        );
    }
    assert_eq!(
        me_status(&relay, "inc-proxy", &unknown, "2001:db8:5:5::99"),
        429
    );
    assert_eq!(
        me_status(&relay, "inc-proxy", &unknown, "2001:db8:5:6::1"),
        403
    );
    // A right secret is let in even from a blocked /64.
    assert_eq!(
        me_status(&relay, "inc-proxy", &token, "2001:db8:5:5::99"),
        200
    );
}

#[test]
fn without_a_trusted_proxy_a_forwarded_address_is_ignored() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let token = relay.owner_token("inc-direct");
    let wrong = wrong_secret(&token);
    // A guesser cannot spread its failures over made-up addresses.
    for i in 0..10 {
        let made_up = format!("203.0.113.{}", i + 1);
        assert_eq!(me_status(&relay, "inc-direct", &wrong, &made_up), 403);
    }
    assert_eq!(me_status(&relay, "inc-direct", &wrong, "203.0.113.99"), 429);
}

/// `POST /api/incidents` with `body` of `content_type`, forwarded for `client`: the status.
fn create_status(relay: &Relay, content_type: Option<&str>, body: &str, client: &str) -> u16 {
    let content_type = content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    let head =
        format!("POST /api/incidents HTTP/1.1\r\n{content_type}X-Forwarded-For: {client}\r\n");
    status_of(relay, &head, body)
}

fn incidents_stored(data: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    db.query_row(
        "SELECT COUNT(DISTINCT incident) FROM incident_grant",
        [],
        |row| row.get(0),
    )
    .expect("count incidents")
}

#[test]
fn another_websites_page_cannot_create_incidents_through_a_visitors_browser() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    // What a cross-site form or a no-CORS fetch can send without asking the relay first.
    for simple in [
        None,
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        assert_eq!(
            create_status(&relay, simple, r#"{"name":"Mallory"}"#, "192.0.2.1"),
            415,
            "{simple:?}"
        );
    }
    assert_eq!(incidents_stored(&data), 0, "nothing was created");
    assert_eq!(
        create_status(&relay, Some("application/json"), "{}", "192.0.2.1"),
        201
    );
    assert_eq!(
        create_status(
            &relay,
            Some("Application/JSON; charset=utf-8"),
            "",
            "192.0.2.1"
        ),
        201
    );
    assert_eq!(incidents_stored(&data), 2);
}

#[test]
fn one_address_creates_at_most_so_many_incidents_an_hour() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &[
            "--max-incidents-per-hour",
            "3",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    let json = Some("application/json");
    for _ in 0..3 {
        assert_eq!(create_status(&relay, json, "{}", "203.0.113.8"), 201);
    }
    assert_eq!(create_status(&relay, json, "{}", "203.0.113.8"), 429);
    assert_eq!(
        create_status(&relay, json, "{}", "198.51.100.2"),
        201,
        "others are not held up"
    );
    assert_eq!(incidents_stored(&data), 4);
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
    // Warm up a viewer's path (a connection, one refused 10 MB state: the frame buffers one
    // such message needs), then take the baseline. What is measured is whether the peak
    // grows with the number of such viewers, not the one frame every relay must read.
    let huge = format!(r#"{{"user":{{"name":"{}"}}}}"#, "V".repeat(10_000_000));
    let mut warm = Client::connect_with(&relay, incident, Some(&viewer_token)).await;
    warm.set_awareness(1, &huge).await;
    assert_eq!(warm.expect_closed().await.code, 1003);
    let before = relay.memory_kb("VmHWM");

    // Ten viewers, one after another, each announcing a 10 MB state: each is closed, 1003.
    const VIEWERS: usize = 10;
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

/// `GET path` with extra header lines: the status.
fn get_status(relay: &Relay, path: &str, extra: &str) -> u16 {
    status_of(relay, &format!("GET {path} HTTP/1.1\r\n{extra}"), "")
}

#[test]
fn metrics_are_for_this_machine_or_the_holder_of_the_metrics_token() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--trusted-proxy", "127.0.0.1"]);
    assert_eq!(get_status(&relay, "/metrics", ""), 200, "this machine");
    let remote = "X-Forwarded-For: 203.0.113.4\r\n";
    assert_eq!(
        get_status(&relay, "/metrics", remote),
        403,
        "a client through the proxy"
    );
    assert_eq!(get_status(&relay, "/healthz", remote), 200);
    drop(relay);

    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--metrics-token",
            "m-secret",
        ],
    );
    assert_eq!(
        get_status(&relay, "/metrics", ""),
        403,
        "the token is needed"
    );
    let with = "Authorization: Bearer m-secret\r\n";
    assert_eq!(get_status(&relay, "/metrics", with), 200);
    assert_eq!(
        get_status(&relay, "/metrics", &format!("{with}{remote}")),
        200
    );
    let wrong = "Authorization: Bearer m-secreT\r\n";
    assert_eq!(get_status(&relay, "/metrics", wrong), 403);
}
