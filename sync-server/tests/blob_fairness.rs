//! One client cannot take every attachment place on the relay, against the real relay binary
//! and its SQLite file over raw TCP: a member whose token (or whose address) already holds
//! `--max-attachment-downloads-per-client` downloads it never reads is refused the next one
//! at once (503, `Retry-After`, a message saying how many it holds), while another member's
//! download on the same incident and on another one goes through at once; its places come
//! back when its connections are dropped and when its downloads time out. Uploads the same
//! with `--max-attachment-uploads-per-client` of the reading places.
//!
//! Every client is given its own address the way a reverse proxy does: the relay trusts
//! 127.0.0.1 (`--trusted-proxy`) and reads the client from `X-Forwarded-For`.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::raw_http::{blob_path, parse, read_all, reluctant_reader, sha256_hex, Answer};
use common::{device_for, Relay};

/// Bigger than the kernel's buffers on both ends of a loopback connection and hyper's
/// together (up to 4 MiB sent, 512 KiB received, some in hyper): a client that does not read
/// cannot let the relay finish its answer.
const FILE_BYTES: u32 = 8_000_000;

/// Addresses the clients ask from.
const MALLORY_AT: &str = "203.0.113.66";
const MALLORY_ELSEWHERE: &str = "203.0.113.67";
const ANN_AT: &str = "198.51.100.7";
const BO_AT: &str = "198.51.100.8";
const OWNER_AT: &str = "192.0.2.1";

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    (tmp, data, dist)
}

fn token_of(invite: &serde_json::Value) -> String {
    invite["token"].as_str().expect("invite token").to_owned()
}

/// A file's bytes, different for each `seed`.
fn file(seed: u32, len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

/// Opens a connection with a small receive buffer (so that the kernel cannot take a file off
/// the relay's hands for a client that does not read) and sends one request head from the
/// client at `from`, announcing `length` bytes of body and sending none.
fn send_head(
    relay: &Relay,
    method: &str,
    path: &str,
    token: &str,
    from: &str,
    length: usize,
) -> TcpStream {
    let stream = reluctant_reader(&relay.addr);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\nX-Forwarded-For: {from}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n",
        relay.addr,
        device_for(token)
    );
    (&stream).write_all(head.as_bytes()).expect("send head");
    stream
}

fn upload(relay: &Relay, incident: &str, token: &str, from: &str, bytes: &[u8]) -> Answer {
    let path = blob_path(incident, &sha256_hex(bytes));
    let mut stream = send_head(relay, "PUT", &path, token, from, bytes.len());
    let _ = stream.write_all(bytes);
    parse(&read_all(&mut stream, true))
}

fn download(relay: &Relay, incident: &str, token: &str, from: &str, hash: &str) -> Answer {
    let mut stream = send_head(relay, "GET", &blob_path(incident, hash), token, from, 0);
    parse(&read_all(&mut stream, true))
}

/// Asks for the file and reads only the status line. A 200 is held by the relay until the
/// client reads or goes: its connection is returned. Anything else is read whole.
fn stalled_download(
    relay: &Relay,
    incident: &str,
    token: &str,
    from: &str,
    hash: &str,
) -> Result<TcpStream, Answer> {
    let mut stream = send_head(relay, "GET", &blob_path(incident, hash), token, from, 0);
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).expect("status line");
    if &status_line[9..12] == b"200" {
        return Ok(stream);
    }
    let mut raw = status_line.to_vec();
    raw.extend(read_all(&mut stream, true));
    Err(parse(&raw))
}

/// Asserts a refusal for a client over its share: 503, `Retry-After: 10`, and a message
/// naming `who` and `holding`.
fn assert_over_share(answer: &Answer, who: &str, holding: &str, flag: &str) {
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert_eq!(answer.header("retry-after"), "10");
    let text = answer.text();
    assert!(
        text.contains(&format!("{who} is already {holding}")) && text.contains(flag),
        "{text}"
    );
}

/// Tries `again` until it answers `status` (a place given back is seen a moment after the
/// connection goes); the answer and how long it took.
fn until_status(status: u16, mut again: impl FnMut() -> Answer) -> (Answer, Duration) {
    let started = Instant::now();
    loop {
        let answer = again();
        if answer.status == status || started.elapsed() > Duration::from_secs(30) {
            return (answer, started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The relay with the owner's file in `inc-a` and another in `inc-b`; the invites' tokens:
/// Mallory twice on `inc-a` (two links, one attacker), Ann on `inc-a`, Bo on `inc-b`.
struct Setup {
    relay: Relay,
    mallory: String,
    mallory_again: String,
    ann: String,
    bo: String,
    a: (Vec<u8>, String),
    b: (Vec<u8>, String),
}

fn setup(data: &std::path::Path, dist: &std::path::Path, flags: &[&str], role: &str) -> Setup {
    let mut all = vec!["--trusted-proxy", "127.0.0.1"];
    all.extend_from_slice(flags);
    let relay = Relay::start_with(data, dist, &all);
    let mallory = token_of(&relay.invite("inc-a", "Mallory", role));
    let mallory_again = token_of(&relay.invite("inc-a", "Mallory (laptop)", role));
    let ann = token_of(&relay.invite("inc-a", "Ann", role));
    let bo = token_of(&relay.invite("inc-b", "Bo", role));
    let mut files = Vec::new();
    for (seed, incident) in [(1, "inc-a"), (2, "inc-b")] {
        let bytes = file(seed, FILE_BYTES);
        let owner = relay.owner_token(incident);
        let stored = upload(&relay, incident, &owner, OWNER_AT, &bytes);
        assert_eq!(stored.status, 201, "{}", stored.text());
        let hash = sha256_hex(&bytes);
        files.push((bytes, hash));
    }
    let b = files.pop().expect("file b");
    let a = files.pop().expect("file a");
    Setup {
        relay,
        mallory,
        mallory_again,
        ann,
        bo,
        a,
        b,
    }
}

#[test]
fn a_member_asking_16_downloads_and_reading_none_holds_4_and_the_others_download_at_once() {
    let (_tmp, data, dist) = dirs();
    // The defaults: 16 downloads held, 4 per client, each for 120 s at most.
    let s = setup(&data, &dist, &[], "viewer");
    let relay = &s.relay;
    let (a, a_hash) = (&s.a.0, &s.a.1);
    let (b, b_hash) = (&s.b.0, &s.b.1);

    // Mallory asks for the file 16 times and reads none of it: 4 are held, 12 refused.
    let mut held = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..16 {
        match stalled_download(relay, "inc-a", &s.mallory, MALLORY_AT, a_hash) {
            Ok(stream) => held.push(stream),
            Err(answer) => refused.push(answer),
        }
    }
    assert_eq!(held.len(), 4, "one client holds 4 downloads at most");
    assert_eq!(refused.len(), 12);
    for answer in &refused {
        assert_over_share(
            answer,
            "this invite",
            "downloading 4 attachments",
            "--max-attachment-downloads-per-client",
        );
    }

    // Ann on the same incident and Bo on another download at once, whole.
    let started = Instant::now();
    let ann = download(relay, "inc-a", &s.ann, ANN_AT, a_hash);
    let ann_took = started.elapsed();
    assert_eq!(ann.status, 200, "{}", ann.text());
    assert!(ann.body == *a, "Ann's download is whole");
    let started = Instant::now();
    let bo = download(relay, "inc-b", &s.bo, BO_AT, b_hash);
    let bo_took = started.elapsed();
    assert_eq!(bo.status, 200, "{}", bo.text());
    assert!(bo.body == *b, "Bo's download is whole");

    // Mallory's token from another address is still over its share, and so is Mallory's
    // address with another token.
    let elsewhere = download(relay, "inc-a", &s.mallory, MALLORY_ELSEWHERE, a_hash);
    assert_over_share(
        &elsewhere,
        "this invite",
        "downloading 4 attachments",
        "--max-attachment-downloads-per-client",
    );
    let other_token = download(relay, "inc-a", &s.mallory_again, MALLORY_AT, a_hash);
    assert_over_share(
        &other_token,
        &format!("this client address ({MALLORY_AT})"),
        "downloading 4 attachments",
        "--max-attachment-downloads-per-client",
    );

    // Mallory goes: its places come back.
    let held_count = held.len();
    drop(held);
    let (back, after) = until_status(200, || {
        download(relay, "inc-a", &s.mallory, MALLORY_AT, a_hash)
    });
    assert_eq!(back.status, 200, "{}", back.text());
    assert!(
        back.body == *a,
        "Mallory's download after its connections went is whole"
    );
    // All 4 of the address's places (each given back as its connection's end is seen).
    let asked = Instant::now();
    let again = loop {
        let again: Vec<_> = (0..4)
            .map(|_| stalled_download(relay, "inc-a", &s.mallory_again, MALLORY_AT, a_hash))
            .collect();
        if again.iter().all(Result::is_ok) || asked.elapsed() > Duration::from_secs(30) {
            break again;
        }
        drop(again);
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        again.iter().all(Result::is_ok),
        "the address's 4 places are all free again"
    );
    println!(
        "8 MB file, defaults (16 downloads, 4 per client): a member asking 16 and reading none held {} and was refused {}; beside them Ann (same incident) downloaded in {ann_took:?}, Bo (another incident) in {bo_took:?}; its places were back {after:?} after its connections were dropped",
        held_count,
        refused.len()
    );
}

#[test]
fn places_of_downloads_that_time_out_come_back() {
    let (_tmp, data, dist) = dirs();
    let timeout = Duration::from_secs(3);
    let s = setup(
        &data,
        &dist,
        &[
            "--attachment-download-timeout",
            "3",
            "--max-attachment-downloads-per-client",
            "2",
        ],
        "viewer",
    );
    let relay = &s.relay;
    let (a, a_hash) = (&s.a.0, &s.a.1);

    for round in 0..2 {
        let asked = Instant::now();
        let held: Vec<TcpStream> = (0..2)
            .map(|_| {
                stalled_download(relay, "inc-a", &s.mallory, MALLORY_AT, a_hash)
                    .unwrap_or_else(|a| panic!("round {round}: {} {}", a.status, a.text()))
            })
            .collect();
        let over = stalled_download(relay, "inc-a", &s.mallory, MALLORY_AT, a_hash)
            .expect_err("a third download is over the share");
        assert_over_share(
            &over,
            "this invite",
            "downloading 2 attachments",
            "--max-attachment-downloads-per-client",
        );
        let ann = download(relay, "inc-a", &s.ann, ANN_AT, a_hash);
        assert_eq!(ann.status, 200, "{}", ann.text());
        assert!(ann.body == *a);

        // Never read, each is cut at the timeout with its answer unfinished.
        std::thread::sleep(
            (asked + timeout + Duration::from_millis(1500))
                .saturating_duration_since(Instant::now()),
        );
        for mut stream in held {
            let got = read_all(&mut stream, true).len() + 12;
            assert!(got < a.len(), "a stalled client got its whole answer");
        }
        let cut_after = asked.elapsed();
        assert!(cut_after >= timeout, "cut before its time: {cut_after:?}");
        // The next round takes both places again: the cut gave them back.
        println!("round {round}: Mallory's 2 unread downloads were cut after {cut_after:?}");
    }
    let (back, after) = until_status(200, || {
        download(relay, "inc-a", &s.mallory, MALLORY_AT, a_hash)
    });
    assert_eq!(back.status, 200, "{}", back.text());
    assert!(back.body == *a);
    println!("after the second cut Mallory downloaded again within {after:?}");
}

#[test]
fn an_editor_stalling_uploads_holds_2_reading_places_and_the_others_upload_at_once() {
    let (_tmp, data, dist) = dirs();
    // Uploads are cut after 60 s, and wait 5 s for a place: long enough that a refusal
    // within the test is the share's, not a timeout's.
    let s = setup(
        &data,
        &dist,
        &[
            "--attachment-upload-timeout",
            "60",
            "--attachment-wait-timeout",
            "5",
        ],
        "editor",
    );
    let relay = &s.relay;
    // Each device is bound before the test starts.
    for (token, incident, from, seed) in [
        (&s.mallory, "inc-a", MALLORY_AT, 10),
        (&s.mallory_again, "inc-a", MALLORY_AT, 11),
        (&s.ann, "inc-a", ANN_AT, 12),
        (&s.bo, "inc-b", BO_AT, 13),
    ] {
        let stored = upload(
            relay,
            incident,
            token,
            from,
            format!("bind {seed}").as_bytes(),
        );
        assert_eq!(stored.status, 201, "{}", stored.text());
    }

    // Mallory sends the heads of 4 uploads and none of their bodies (all 4 reading places,
    // without the share): 2 are read (and wait for their bodies), 2 refused at once.
    let (answers, answered) = mpsc::channel();
    let mut stalled = Vec::new();
    for n in 0..4u32 {
        let bytes = file(100 + n, 1_000_000);
        let path = blob_path("inc-a", &sha256_hex(&bytes));
        let mut stream = send_head(relay, "PUT", &path, &s.mallory, MALLORY_AT, bytes.len());
        stalled.push(stream.try_clone().expect("clone socket"));
        let answers = answers.clone();
        std::thread::spawn(move || {
            // Nothing at all once the test has closed the connection itself.
            let raw = read_all(&mut stream, true);
            if !raw.is_empty() {
                let _ = answers.send(parse(&raw));
            }
        });
    }
    for _ in 0..2 {
        let refused = answered
            .recv_timeout(Duration::from_secs(20))
            .expect("2 of Mallory's 4 uploads are refused at once");
        assert_over_share(
            &refused,
            "this invite",
            "sending 2 attachments",
            "--max-attachment-uploads-per-client",
        );
        assert!(refused.text().contains("nothing was stored"));
    }

    // Ann (same incident) and Bo (another) upload at once, beside Mallory's 2.
    let ann_file = file(20, 1_000_000);
    let started = Instant::now();
    let ann = upload(relay, "inc-a", &s.ann, ANN_AT, &ann_file);
    let ann_took = started.elapsed();
    assert_eq!(ann.status, 201, "{}", ann.text());
    let started = Instant::now();
    let bo = upload(relay, "inc-b", &s.bo, BO_AT, &file(21, 1_000_000));
    let bo_took = started.elapsed();
    assert_eq!(bo.status, 201, "{}", bo.text());
    assert!(
        download(relay, "inc-a", &s.ann, ANN_AT, &sha256_hex(&ann_file)).body == ann_file,
        "Ann's file is stored whole"
    );

    // Mallory's token elsewhere, and Mallory's address with its other token: over the share.
    let other_file = file(30, 1_000);
    let elsewhere = upload(relay, "inc-a", &s.mallory, MALLORY_ELSEWHERE, &other_file);
    assert_over_share(
        &elsewhere,
        "this invite",
        "sending 2 attachments",
        "--max-attachment-uploads-per-client",
    );
    let other_token = upload(relay, "inc-a", &s.mallory_again, MALLORY_AT, &other_file);
    assert_over_share(
        &other_token,
        &format!("this client address ({MALLORY_AT})"),
        "sending 2 attachments",
        "--max-attachment-uploads-per-client",
    );
    assert_eq!(
        download(relay, "inc-a", &s.ann, ANN_AT, &sha256_hex(&other_file)).status,
        404,
        "nothing of a refused upload is stored"
    );

    // Mallory's connections go: its reading places come back.
    for stream in &stalled {
        let _ = stream.shutdown(Shutdown::Both);
    }
    drop(stalled);
    let (back, after) = until_status(201, || {
        upload(relay, "inc-a", &s.mallory, MALLORY_AT, &other_file)
    });
    assert_eq!(back.status, 201, "{}", back.text());
    println!(
        "4 upload places, 2 per client: an editor sending 4 heads and no bodies held 2; beside them a 1 MB upload took {ann_took:?} (same incident) and {bo_took:?} (another); its places were back {after:?} after its connections were dropped"
    );
}
