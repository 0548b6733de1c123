//! What an attacker holding an editor's link can make the attachment routes spend, against
//! the real relay binary over raw TCP: an upload that sends its head and then trickles or
//! stops is cut (408) within `--attachment-upload-timeout`, uploads queued behind such
//! clients are told to come back (503, `Retry-After`) after `--attachment-wait-timeout`
//! instead of waiting without end, and a download whose `If-None-Match` names the file is a
//! 304 without its bytes.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::raw_http::{self, blob_path, sha256_hex, Answer};
use common::{device_for, Relay};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

fn token_of(invite: &serde_json::Value) -> String {
    invite["token"].as_str().expect("invite token").to_owned()
}

/// Opens a connection and sends one request head (`Connection: close`) with the token and
/// its device, `extra` header lines, and `Content-Length: length`; no body.
fn send_head(
    relay: &Relay,
    method: &str,
    path: &str,
    token: &str,
    extra: &[&str],
    length: usize,
) -> TcpStream {
    let mut stream = TcpStream::connect(&relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\nContent-Length: {length}\r\n",
        relay.addr,
        device_for(token)
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send head");
    stream
}

/// Reads the relay's whole answer (it closes the connection after it).
fn read_answer(mut stream: TcpStream) -> Answer {
    raw_http::parse(&raw_http::read_all(&mut stream, false))
}

fn upload(relay: &Relay, incident: &str, token: &str, bytes: &[u8]) -> Answer {
    let mut stream = send_head(
        relay,
        "PUT",
        &blob_path(incident, &sha256_hex(bytes)),
        token,
        &["Content-Type: application/octet-stream"],
        bytes.len(),
    );
    let _ = stream.write_all(bytes);
    read_answer(stream)
}

fn get(relay: &Relay, incident: &str, token: &str, hash: &str, extra: &[&str]) -> Answer {
    read_answer(send_head(
        relay,
        "GET",
        &blob_path(incident, hash),
        token,
        extra,
        0,
    ))
}

/// A file's bytes, different for each `seed`.
fn file(seed: u32, len: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

#[test]
fn an_upload_that_stalls_or_trickles_is_cut_with_408_and_stores_nothing() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--attachment-upload-timeout", "2"]);
    let editor = token_of(&relay.invite("inc-slow", "Ed", "editor"));
    let bytes = file(1, 100_000);
    let hash = sha256_hex(&bytes);
    let path = blob_path("inc-slow", &hash);

    // Stops: the head and 10 bytes of 100,000, then nothing.
    let started = Instant::now();
    let mut stalled = send_head(&relay, "PUT", &path, &editor, &[], bytes.len());
    stalled.write_all(&bytes[..10]).expect("first bytes");
    let answer = read_answer(stalled);
    let stalled_after = started.elapsed();
    assert_eq!(answer.status, 408, "{}", answer.text());
    assert!(
        answer
            .text()
            .contains("did not arrive within the relay's 2 s")
            && answer.text().contains("--attachment-upload-timeout")
            && answer.text().contains("nothing was stored"),
        "{}",
        answer.text()
    );
    assert!(
        stalled_after >= Duration::from_secs(2),
        "cut before its time: {stalled_after:?}"
    );

    // Trickles: one byte every 50 ms, which would take 80 minutes for the whole file.
    let started = Instant::now();
    let trickle = send_head(&relay, "PUT", &path, &editor, &[], bytes.len());
    let mut writer = trickle.try_clone().expect("clone socket");
    let sending = bytes.clone();
    let trickler = std::thread::spawn(move || {
        let mut sent = 0;
        for byte in &sending {
            if writer.write_all(std::slice::from_ref(byte)).is_err() {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        sent
    });
    let answer = read_answer(trickle);
    let trickled_after = started.elapsed();
    assert_eq!(answer.status, 408, "{}", answer.text());
    let sent = trickler.join().expect("trickler");
    assert!(sent < bytes.len(), "the relay read the trickle to its end");
    println!(
        "--attachment-upload-timeout 2: a stalled upload got 408 after {stalled_after:?}, a trickling one (1 byte / 50 ms) after {trickled_after:?} and {sent} bytes"
    );

    // Nothing of either is stored; the places they held are free again.
    let missing = get(&relay, "inc-slow", &editor, &hash, &[]);
    assert_eq!(missing.status, 404, "{}", missing.text());
    let whole = upload(&relay, "inc-slow", &editor, &bytes);
    assert_eq!(whole.status, 201, "{}", whole.text());
    assert!(get(&relay, "inc-slow", &editor, &hash, &[]).body == bytes);
}

#[test]
fn five_stalled_uploads_cannot_keep_a_real_one_waiting_without_end() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &[
            "--attachment-upload-timeout",
            "6",
            "--attachment-wait-timeout",
            "1",
            // One client here takes all 4 places, to test the wait alone (one client's
            // share of them: tests/blob_fairness.rs).
            "--max-attachment-uploads-per-client",
            "0",
        ],
    );
    let attacker = token_of(&relay.invite("inc-busy", "Mallory", "editor"));
    let editor = token_of(&relay.invite("inc-busy", "Ed", "editor"));
    // Both devices are bound before the clock starts.
    assert_eq!(upload(&relay, "inc-busy", &attacker, b"a").status, 201);
    assert_eq!(upload(&relay, "inc-busy", &editor, b"e").status, 201);

    // Five uploads that send their head and never their body: four take the relay's
    // reading places, the fifth queues.
    let started = Instant::now();
    let stalled: Vec<_> = (0..5u32)
        .map(|n| {
            let bytes = file(100 + n, 1_000);
            let stream = send_head(
                &relay,
                "PUT",
                &blob_path("inc-busy", &sha256_hex(&bytes)),
                &attacker,
                &[],
                bytes.len(),
            );
            std::thread::spawn(move || {
                let answer = read_answer(stream);
                (answer.status, answer.header("retry-after").to_owned())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    // A real upload now: every place is taken, so it is told to come back.
    let evidence = file(7, 50_000);
    let queued_at = Instant::now();
    let refused = upload(&relay, "inc-busy", &editor, &evidence);
    let waited = queued_at.elapsed();
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("retry-after"), "10");
    assert!(
        refused.text().contains("--attachment-wait-timeout")
            && refused.text().contains("nothing was stored"),
        "{}",
        refused.text()
    );
    assert!(
        waited >= Duration::from_secs(1),
        "refused before its wait: {waited:?}"
    );
    assert_eq!(
        get(&relay, "inc-busy", &editor, &sha256_hex(&evidence), &[]).status,
        404
    );

    let mut statuses: Vec<(u16, String)> = stalled
        .into_iter()
        .map(|t| t.join().expect("stalled client"))
        .collect();
    let stalled_over = started.elapsed();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            (408, String::new()),
            (408, String::new()),
            (408, String::new()),
            (408, String::new()),
            (503, "10".to_owned())
        ],
        "four stalled uploads are cut, the queued one is sent away"
    );

    // Their places are free: the real upload goes through at its retry.
    let retried_at = Instant::now();
    let stored = upload(&relay, "inc-busy", &editor, &evidence);
    assert_eq!(stored.status, 201, "{}", stored.text());
    println!(
        "4 upload places, 5 stalled uploads (--attachment-upload-timeout 6, --attachment-wait-timeout 1): a real upload was refused with 503 after {waited:?}; all five stalled ones had their answers after {stalled_over:?}; the retry was stored in {:?}",
        retried_at.elapsed()
    );
}

#[test]
fn a_download_naming_the_file_in_if_none_match_is_a_304_without_its_bytes() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-etag");
    let viewer_invite = relay.invite("inc-etag", "Vi", "viewer");
    let viewer = token_of(&viewer_invite);
    let bytes = file(3, 10_000_000);
    let hash = sha256_hex(&bytes);
    assert_eq!(upload(&relay, "inc-etag", &owner, &bytes).status, 201);

    let whole = get(&relay, "inc-etag", &viewer, &hash, &[]);
    assert_eq!(whole.status, 200);
    assert!(whole.body == bytes);
    let etag = whole.header("etag").to_owned();
    assert_eq!(etag, format!("\"{hash}\""));

    let revalidate = format!("If-None-Match: {etag}");
    let mut not_modified = Vec::new();
    let mut full = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let answer = get(&relay, "inc-etag", &viewer, &hash, &[&revalidate]);
        not_modified.push(started.elapsed());
        assert_eq!(answer.status, 304, "{}", answer.text());
        assert!(answer.body.is_empty(), "a 304 carries no bytes");
        assert_eq!(answer.header("etag"), etag);
        assert_eq!(
            answer.header("cache-control"),
            "private, max-age=31536000, immutable"
        );
        let started = Instant::now();
        assert_eq!(
            get(&relay, "inc-etag", &viewer, &hash, &[]).body.len(),
            10_000_000
        );
        full.push(started.elapsed());
    }
    not_modified.sort();
    full.sort();
    println!(
        "a 10,000,000-byte attachment, median of 5: 304 revalidation {:?}, whole download {:?}",
        not_modified[2], full[2]
    );

    // A weak tag, a list, and `*` name it too; another hash does not.
    for tag in [
        format!("W/{etag}"),
        format!("\"{}\", {etag}", "0".repeat(64)),
        "*".to_owned(),
    ] {
        let answer = get(
            &relay,
            "inc-etag",
            &viewer,
            &hash,
            &[&format!("If-None-Match: {tag}")],
        );
        assert_eq!(answer.status, 304, "If-None-Match: {tag}");
    }
    let other = get(
        &relay,
        "inc-etag",
        &viewer,
        &hash,
        &[&format!("If-None-Match: \"{}\"", "0".repeat(64))],
    );
    assert_eq!(other.status, 200);
    assert!(other.body == bytes);

    // A file this incident does not have is not "unchanged": 404.
    let absent = "1".repeat(64);
    let answer = get(
        &relay,
        "inc-etag",
        &viewer,
        &absent,
        &[&format!("If-None-Match: \"{absent}\"")],
    );
    assert_eq!(answer.status, 404, "{}", answer.text());

    // Revoked, the viewer gets 410, not a 304 that would say the file is still there.
    let (status, _, body) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/inc-etag/invites/{}",
            viewer_invite["invite"].as_str().unwrap()
        ),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let answer = get(&relay, "inc-etag", &viewer, &hash, &[&revalidate]);
    assert_eq!(answer.status, 410, "{}", answer.text());
}
