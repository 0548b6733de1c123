//! Attachment downloads against clients that ask and never read, with the real relay binary
//! over raw TCP: the relay holds at most `--max-attachment-downloads` answers in memory
//! (one more gets 503 with `Retry-After`), cuts a connection whose answer has not been taken
//! within `--attachment-download-timeout`, and a real download completes beside them.
//! Also: `deploy/haproxy.cfg` passes a 5 MB attachment, and one sent slower than its
//! `timeout http-request`, to the relay whole.

mod common;
mod deployment;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::raw_http::{blob_path, parse, read_all, reluctant_reader, sha256_hex, Answer};
use common::{device_for, Relay};

const FILE_BYTES: u32 = 5_000_000;

fn send_head(relay: &Relay, method: &str, path: &str, token: &str, length: usize) -> TcpStream {
    send_head_to(&relay.addr, method, path, token, length)
}

fn send_head_to(addr: &str, method: &str, path: &str, token: &str, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n",
        device_for(token)
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream
}

fn download(relay: &Relay, incident: &str, token: &str, hash: &str) -> Answer {
    let mut stream = send_head(relay, "GET", &blob_path(incident, hash), token, 0);
    parse(&read_all(&mut stream, true))
}

/// A client that asks for the file and reads only its status line: a small receive buffer,
/// so the kernel cannot take the file off the relay's hands either.
fn stalled_download(relay: &Relay, incident: &str, token: &str, hash: &str) -> (TcpStream, u16) {
    let mut stream = reluctant_reader(&relay.addr);
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\n\r\n",
        blob_path(incident, hash),
        relay.addr,
        device_for(token)
    );
    stream.write_all(head.as_bytes()).expect("send head");
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).expect("status line");
    let status = String::from_utf8_lossy(&status_line[9..12])
        .parse()
        .expect("status code");
    (stream, status)
}

#[test]
fn downloads_never_read_are_held_a_bounded_number_for_a_bounded_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let timeout = Duration::from_secs(4);
    let relay = Relay::start_logging_at(
        &data,
        &dist,
        &[
            "--attachment-download-timeout",
            "4",
            "--max-attachment-downloads",
            "4",
        ],
        "sync_server=debug",
        std::path::Path::new("/tmp/blobx2-relay.log"),
    );
    let token = relay.invite("inc-read", "Mallory", "editor")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let bytes: Vec<u8> = (0..FILE_BYTES)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let hash = sha256_hex(&bytes);
    let mut put = send_head(
        &relay,
        "PUT",
        &blob_path("inc-read", &hash),
        &token,
        bytes.len(),
    );
    put.write_all(&bytes).expect("upload");
    assert_eq!(parse(&read_all(&mut put, true)).status, 201);
    assert!(download(&relay, "inc-read", &token, &hash).body == bytes);
    let before = relay.memory_kb("VmRSS");

    // Three clients that ask and never read, then a real download beside them.
    let mut held = Vec::new();
    for _ in 0..3 {
        let (stream, status) = stalled_download(&relay, "inc-read", &token, &hash);
        assert_eq!(status, 200);
        held.push((stream, Instant::now()));
    }
    let beside = download(&relay, "inc-read", &token, &hash);
    assert_eq!(beside.status, 200);
    assert!(beside.body == bytes, "the real download is whole");

    // Twenty-one more: one takes the last place, twenty are told to come back.
    let mut refused = 0;
    for _ in 0..21 {
        let (mut stream, status) = stalled_download(&relay, "inc-read", &token, &hash);
        if status == 200 {
            held.push((stream, Instant::now()));
        } else {
            assert_eq!(status, 503);
            let mut rest = b"HTTP/1.1 503".to_vec();
            rest.extend(read_all(&mut stream, true));
            let answer = parse(&rest);
            assert_eq!(
                answer.headers.get("retry-after").map(String::as_str),
                Some("10")
            );
            assert!(
                String::from_utf8_lossy(&answer.body).contains("--max-attachment-downloads"),
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            refused += 1;
        }
    }
    assert_eq!(held.len(), 4, "the relay holds 4 answers at most");
    assert_eq!(refused, 20);
    std::thread::sleep(Duration::from_millis(500));
    let during = relay.memory_kb("VmRSS");
    let grown_mb = during.saturating_sub(before) / 1024;
    // 24 clients that never read would hold 120 MB without the bound; 4 hold 20 MB (and
    // the allocator may keep the real download's 5 MB).
    assert!(
        grown_mb < 60,
        "24 downloads never read grew the relay by {grown_mb} MB"
    );
    let refused_now = download(&relay, "inc-read", &token, &hash);
    assert_eq!(refused_now.status, 503);

    // Past the timeout each stalled connection is closed with its answer unfinished.
    let last = held.iter().map(|(_, asked)| *asked).max().expect("held");
    std::thread::sleep(
        (last + timeout + Duration::from_millis(1500)).saturating_duration_since(Instant::now()),
    );
    let mut cut_after = Vec::new();
    for (mut stream, asked) in held {
        let got = read_all(&mut stream, true).len() + 12;
        let after = asked.elapsed();
        assert!(
            got < bytes.len(),
            "a stalled client still got its whole answer ({got} bytes)"
        );
        assert!(after >= timeout, "cut before its time: {after:?}");
        cut_after.push(after);
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = relay.memory_kb("VmRSS");
    let again = download(&relay, "inc-read", &token, &hash);
    assert_eq!(again.status, 200);
    assert!(again.body == bytes, "a download after the cut is whole");
    println!(
        "5 MB file, --max-attachment-downloads 4, --attachment-download-timeout 4: VmRSS {before} kB before, {during} kB with 4 held and 20 refused (+{grown_mb} MB), {after} kB after the cut; stalled connections closed after {cut_after:?}"
    );
}

#[test]
fn haproxy_passes_a_5_mb_attachment_and_a_slow_one_whole() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let relay = Relay::start_with(&data, &dist, &["--trusted-proxy", "127.0.0.1"]);
    // The README's file, all three servers this one relay.
    let haproxy = deployment::HaProxy::start([&relay.addr, &relay.addr, &relay.addr]);
    let token = relay.invite("inc-lb", "Ed", "editor")["token"]
        .as_str()
        .expect("token")
        .to_owned();

    // 5 MB at full speed, up and down.
    let bytes: Vec<u8> = (0..FILE_BYTES)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let hash = sha256_hex(&bytes);
    let path = blob_path("inc-lb", &hash);
    let started = Instant::now();
    let mut put = send_head_to(&haproxy.addr, "PUT", &path, &token, bytes.len());
    put.write_all(&bytes).expect("upload");
    let stored = parse(&read_all(&mut put, true));
    let up = started.elapsed();
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    let started = Instant::now();
    let mut get = send_head_to(&haproxy.addr, "GET", &path, &token, 0);
    let fetched = parse(&read_all(&mut get, true));
    let down = started.elapsed();
    assert_eq!(fetched.status, 200);
    assert!(
        fetched.body == bytes,
        "the download through HAProxy is whole"
    );

    // 1 MB in 64 KiB pieces 0.75 s apart: 12 s, past `timeout http-request 10s`.
    let slow: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(40_503) >> 7) as u8)
        .collect();
    let slow_hash = sha256_hex(&slow);
    let started = Instant::now();
    let mut put = send_head_to(
        &haproxy.addr,
        "PUT",
        &blob_path("inc-lb", &slow_hash),
        &token,
        slow.len(),
    );
    for piece in slow.chunks(64 * 1024) {
        std::thread::sleep(Duration::from_millis(750));
        put.write_all(piece).expect("a piece of the slow upload");
    }
    let stored = parse(&read_all(&mut put, true));
    let slow_up = started.elapsed();
    assert_eq!(
        stored.status,
        201,
        "{}",
        String::from_utf8_lossy(&stored.body)
    );
    assert!(slow_up > Duration::from_secs(10), "{slow_up:?}");
    let mut get = send_head_to(
        &haproxy.addr,
        "GET",
        &blob_path("inc-lb", &slow_hash),
        &token,
        0,
    );
    assert!(parse(&read_all(&mut get, true)).body == slow);
    println!(
        "through deploy/haproxy.cfg: 5 MB up in {up:?}, down in {down:?}; 1 MB sent over {slow_up:?} stored whole"
    );
}
