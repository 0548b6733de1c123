//! Evidence attachments (`/api/incidents/{id}/blobs/{sha256}`) against the real relay
//! binary and its SQLite file, over real HTTP: who may upload and download, the hash, size
//! and type checks, and what deleting the incident does.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::raw_http::{self, sha256_hex, Answer};
use common::{device_for, Relay};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// How a request's body is sent.
enum Send<'a> {
    None,
    /// With its Content-Length.
    Sized(&'a [u8]),
    /// Only a Content-Length header announcing this many bytes, and no body.
    Announced(u64),
    /// `Transfer-Encoding: chunked`, `total` bytes in 64 KiB chunks, until the relay stops
    /// reading.
    Chunked {
        total: usize,
    },
}

/// One HTTP/1.1 request by hand, `Connection: close`, with the token and the device id of
/// `token` (if any). Reads whatever the relay answers, even if it closed before reading
/// everything sent.
fn call(
    relay: &Relay,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Send<'_>,
) -> Answer {
    let mut stream = TcpStream::connect(&relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        relay.addr
    );
    if let Some(token) = token {
        head.push_str(&format!(
            "Authorization: Bearer {token}\r\nX-Firebreak-Device: {}\r\n",
            device_for(token)
        ));
    }
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    match &body {
        Send::None => head.push_str("Content-Length: 0\r\n"),
        Send::Sized(bytes) => head.push_str(&format!("Content-Length: {}\r\n", bytes.len())),
        Send::Announced(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Send::Chunked { .. } => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send head");
    match body {
        Send::None | Send::Announced(_) => {}
        Send::Sized(bytes) => {
            let _ = stream.write_all(bytes);
        }
        Send::Chunked { total } => {
            let chunk = vec![0x41u8; 64 * 1024];
            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
            framed.extend_from_slice(&chunk);
            framed.extend_from_slice(b"\r\n");
            let mut sent = 0;
            while sent < total && stream.write_all(&framed).is_ok() {
                sent += chunk.len();
            }
            let _ = stream.write_all(b"0\r\n\r\n");
        }
    }
    raw_http::parse(&raw_http::read_all(&mut stream, false))
}

fn blob_path(incident: &str, hash: &str) -> String {
    format!("/api/incidents/{incident}/blobs/{hash}")
}

fn upload(relay: &Relay, incident: &str, token: &str, content_type: &str, bytes: &[u8]) -> Answer {
    call(
        relay,
        "PUT",
        &blob_path(incident, &sha256_hex(bytes)),
        Some(token),
        Some(content_type),
        Send::Sized(bytes),
    )
}

fn download(relay: &Relay, incident: &str, token: &str, hash: &str) -> Answer {
    call(
        relay,
        "GET",
        &blob_path(incident, hash),
        Some(token),
        None,
        Send::None,
    )
}

fn token_of(invite: &serde_json::Value) -> String {
    invite["token"].as_str().expect("invite token").to_owned()
}

/// A small real PNG's first bytes and some more: what a screenshot starts with.
fn png_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..20_000u32).map(|i| (i * 7 % 256) as u8));
    bytes
}

#[test]
fn an_editor_uploads_and_a_viewer_downloads_the_identical_bytes_as_a_download() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let editor = token_of(&relay.invite("inc-files", "Ed", "editor"));
    let viewer = token_of(&relay.invite("inc-files", "Vi", "viewer"));
    let png = png_bytes();
    let hash = sha256_hex(&png);

    let first = upload(&relay, "inc-files", &editor, "image/png", &png);
    assert_eq!(first.status, 201, "{}", first.text());
    let shown: serde_json::Value = serde_json::from_slice(&first.body).expect("JSON answer");
    assert_eq!(shown["sha256"], hash);
    assert_eq!(shown["size"], png.len());
    assert_eq!(shown["content_type"], "image/png");
    assert_eq!(shown["added_by"], "Ed");

    // The same hash again: fine, nothing new.
    let again = upload(&relay, "inc-files", &editor, "image/png", &png);
    assert_eq!(again.status, 200, "{}", again.text());

    let got = download(&relay, "inc-files", &viewer, &hash);
    assert_eq!(got.status, 200, "{}", got.text());
    assert!(got.body == png, "the viewer gets the identical bytes");
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-disposition").starts_with("attachment"));
    assert_eq!(
        got.header("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(got.header("etag"), format!("\"{hash}\""));
    assert_eq!(
        got.header("cache-control"),
        "private, max-age=31536000, immutable"
    );
    assert_eq!(got.header("content-length"), png.len().to_string());

    let head = call(
        &relay,
        "HEAD",
        &blob_path("inc-files", &hash),
        Some(&viewer),
        None,
        Send::None,
    );
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), png.len().to_string());
    assert!(head.body.is_empty());

    // A type the browser could run is stored as a plain download.
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let stored = upload(&relay, "inc-files", &editor, "image/svg+xml", svg);
    assert_eq!(stored.status, 201, "{}", stored.text());
    let got = download(&relay, "inc-files", &viewer, &sha256_hex(svg));
    assert_eq!(got.header("content-type"), "application/octet-stream");
    assert!(got.header("content-disposition").starts_with("attachment"));

    // A viewer may not add one.
    let note = b"viewer's note";
    let refused = upload(&relay, "inc-files", &viewer, "text/plain", note);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused
        .text()
        .contains("viewers can download attachments but not add them"));
    assert_eq!(
        download(&relay, "inc-files", &viewer, &sha256_hex(note)).status,
        404
    );

    // No token, a wrong one, an invite without its device.
    let path = blob_path("inc-files", &hash);
    assert_eq!(
        call(&relay, "GET", &path, None, None, Send::None).status,
        401
    );
    let wrong = format!("{}.{}", "0".repeat(16), "0".repeat(32));
    assert_eq!(
        call(&relay, "GET", &path, Some(&wrong), None, Send::None).status,
        403
    );
    let mut stream = TcpStream::connect(&relay.addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {viewer}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 428"), "{answer}");
}

#[test]
fn a_revoked_invite_cannot_download_and_another_incident_cannot_reach_the_file() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-a");
    let gone = relay.invite("inc-a", "Gone", "viewer");
    let gone_token = token_of(&gone);
    let log = b"2026-11-30T22:00:00Z sshd: accepted password for root from 203.0.113.9\n";
    let hash = sha256_hex(log);
    assert_eq!(
        upload(&relay, "inc-a", &owner, "text/plain", log).status,
        201
    );
    assert_eq!(download(&relay, "inc-a", &gone_token, &hash).status, 200);

    let (status, _, body) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/inc-a/invites/{}",
            gone["invite"].as_str().unwrap()
        ),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let refused = download(&relay, "inc-a", &gone_token, &hash);
    assert_eq!(refused.status, 410, "{}", refused.text());
    assert!(refused.body != log);

    // The owner of another incident knows the hash: its token does not open this incident,
    // and in its own incident there is no such file.
    let other = relay.owner_token("inc-b");
    let across = download(&relay, "inc-a", &other, &hash);
    assert_eq!(across.status, 403, "{}", across.text());
    assert!(across.body != log);
    let own = download(&relay, "inc-b", &other, &hash);
    assert_eq!(own.status, 404, "{}", own.text());
    assert!(own.body != log);
}

#[test]
fn bad_uploads_are_refused_and_store_nothing() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let editor = token_of(&relay.invite("inc-bad", "Ed", "editor"));

    // Bytes whose hash is not the one named.
    let bytes = b"what was sent";
    let named = sha256_hex(b"what was meant");
    let put = call(
        &relay,
        "PUT",
        &blob_path("inc-bad", &named),
        Some(&editor),
        Some("text/plain"),
        Send::Sized(bytes),
    );
    assert_eq!(put.status, 422, "{}", put.text());
    assert!(
        put.text().contains(&format!(
            "the bytes' SHA-256 is {} not {named}",
            sha256_hex(bytes)
        )),
        "{}",
        put.text()
    );
    assert_eq!(download(&relay, "inc-bad", &editor, &named).status, 404);
    assert_eq!(
        download(&relay, "inc-bad", &editor, &sha256_hex(bytes)).status,
        404
    );

    // A claimed PNG that is not one.
    let fake = b"<html><script>alert(1)</script></html>";
    let put = upload(&relay, "inc-bad", &editor, "image/png", fake);
    assert_eq!(put.status, 415, "{}", put.text());
    assert!(
        put.text()
            .contains("claims image/png but is not a PNG image"),
        "{}",
        put.text()
    );
    assert_eq!(
        download(&relay, "inc-bad", &editor, &sha256_hex(fake)).status,
        404
    );

    // Not a hash at all.
    let put = call(
        &relay,
        "PUT",
        &blob_path("inc-bad", "evidence.png"),
        Some(&editor),
        Some("text/plain"),
        Send::Sized(bytes),
    );
    assert_eq!(put.status, 400, "{}", put.text());

    // Over 10 MiB announced: refused at once, without the body ever being sent.
    let put = call(
        &relay,
        "PUT",
        &blob_path("inc-bad", &named),
        Some(&editor),
        Some("text/plain"),
        Send::Announced(10_485_761),
    );
    assert_eq!(put.status, 413, "{}", put.text());
    assert!(
        put.text().contains("limit of 10485760 bytes"),
        "{}",
        put.text()
    );
}

#[test]
fn a_chunked_body_is_cut_off_at_the_limit_without_the_relay_holding_it() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--max-attachment-bytes", "1048576"]);
    let editor = token_of(&relay.invite("inc-chunked", "Ed", "editor"));
    // Warm the relay up with one file just under the limit, then take its peak memory.
    let warm: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(
        upload(
            &relay,
            "inc-chunked",
            &editor,
            "application/octet-stream",
            &warm
        )
        .status,
        201
    );
    let before = relay.memory_kb("VmHWM");
    // Three bodies of 40 MB each, chunked (no length announced): each refused at 1 MiB.
    let hash = sha256_hex(b"never sent whole");
    for _ in 0..3 {
        let put = call(
            &relay,
            "PUT",
            &blob_path("inc-chunked", &hash),
            Some(&editor),
            Some("text/plain"),
            Send::Chunked { total: 40_000_000 },
        );
        assert_eq!(put.status, 413, "{}", put.text());
        assert!(
            put.text().contains("limit of 1048576 bytes"),
            "{}",
            put.text()
        );
    }
    let grown_kb = relay.memory_kb("VmHWM").saturating_sub(before);
    println!("three chunked 40 MB uploads refused at 1 MiB: relay peak memory +{grown_kb} kB");
    assert!(
        grown_kb < 12 * 1024,
        "refused 40 MB uploads took the relay's peak up by {grown_kb} kB (limit 12 MiB)"
    );
    assert_eq!(download(&relay, "inc-chunked", &editor, &hash).status, 404);
}

#[test]
fn an_incident_s_total_is_bounded_and_deleting_the_incident_deletes_its_files() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &["--max-attachment-bytes-per-incident", "12000000"],
    );
    let owner = relay.owner_token("inc-full");
    let first = vec![1u8; 8_000_000];
    let second = vec![2u8; 8_000_000];
    assert_eq!(
        upload(
            &relay,
            "inc-full",
            &owner,
            "application/octet-stream",
            &first
        )
        .status,
        201
    );
    let put = upload(
        &relay,
        "inc-full",
        &owner,
        "application/octet-stream",
        &second,
    );
    assert_eq!(put.status, 413, "{}", put.text());
    assert!(
        put.text().contains("already take 8000000 bytes") && put.text().contains("12000000"),
        "{}",
        put.text()
    );
    assert_eq!(
        download(&relay, "inc-full", &owner, &sha256_hex(&second)).status,
        404
    );
    // Storing the first again is still fine: it takes nothing more.
    assert_eq!(
        upload(
            &relay,
            "inc-full",
            &owner,
            "application/octet-stream",
            &first
        )
        .status,
        200
    );

    let (status, _, body) = relay.request("DELETE", "/api/incidents/inc-full", Some(&owner), None);
    assert_eq!(status, 204, "{body}");
    let after = download(&relay, "inc-full", &owner, &sha256_hex(&first));
    assert_eq!(after.status, 404, "{}", after.text());
    let conn = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    let rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM incident_blob WHERE incident = 'inc-full'",
            [],
            |r| r.get(0),
        )
        .expect("count files");
    assert_eq!(
        rows, 0,
        "the deleted incident's files are gone from the SQLite file"
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The SQLite file's size once its WAL is checkpointed into it.
fn database_bytes(data: &std::path::Path) -> u64 {
    let path = data.join("firebreak.sqlite3");
    let conn = rusqlite::Connection::open(&path).expect("open db");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::metadata(&path).expect("db file").len()
}

#[test]
fn a_5_mb_attachment_s_upload_and_download_time_and_storage_cost() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let editor = token_of(&relay.invite("inc-timed", "Ed", "editor"));
    let viewer = token_of(&relay.invite("inc-timed", "Vi", "viewer"));
    // Warm up: the invites are bound to their devices, the file exists.
    assert_eq!(
        upload(&relay, "inc-timed", &editor, "text/plain", b"warm").status,
        201
    );
    assert_eq!(
        download(&relay, "inc-timed", &viewer, &sha256_hex(b"warm")).status,
        200
    );
    let before = database_bytes(&data);
    let mut ups = Vec::new();
    let mut downs = Vec::new();
    for n in 0..5u32 {
        let file: Vec<u8> = (0..5_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(n) >> 13) as u8)
            .collect();
        let hash = sha256_hex(&file);
        let started = Instant::now();
        let put = upload(
            &relay,
            "inc-timed",
            &editor,
            "application/octet-stream",
            &file,
        );
        ups.push(started.elapsed());
        assert_eq!(put.status, 201, "{}", put.text());
        let started = Instant::now();
        let got = download(&relay, "inc-timed", &viewer, &hash);
        downs.push(started.elapsed());
        assert_eq!(got.status, 200);
        assert!(got.body == file, "downloaded bytes are the uploaded ones");
    }
    let per_file = (database_bytes(&data) - before) / 5;
    println!(
        "5 MB attachment (5000000 bytes), median of 5: upload {:?}, download {:?}; SQLite file +{per_file} bytes each",
        median(ups),
        median(downs)
    );
    assert!(per_file >= 5_000_000, "the bytes are in the SQLite file");
}
