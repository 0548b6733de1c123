//! What only an incident's owner can do to the incident itself, end to end against the relay
//! binary: delete it (every connection closed with 4404, nothing of it left in the database,
//! every later call refused) and rotate their own token (the old one refused with 4410 and
//! its connections closed). Also how the relay starts on a reachable address, the invite
//! links a forged `Host` cannot redirect, and storage failures logged without a flood.

mod common;

use std::time::Duration;

use common::{db_counts, Client, Relay};
use serde_json::{json, Value};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

fn grant_rows(data: &std::path::Path, incident: &str) -> i64 {
    let conn = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    conn.query_row(
        "SELECT COUNT(*) FROM incident_grant WHERE incident = ?1",
        [incident],
        |r| r.get(0),
    )
    .expect("count grants")
}

fn error_of(body: &str) -> String {
    serde_json::from_str::<Value>(body).expect("JSON error")["error"]
        .as_str()
        .expect("error text")
        .to_owned()
}

#[tokio::test]
async fn the_owner_deletes_an_incident_its_connections_close_with_4404_and_nothing_of_it_stays() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner_token = relay.owner_token("inc-delete");
    let editor = relay.invite("inc-delete", "Eddie", "editor");
    let editor_token = editor["token"].as_str().unwrap().to_owned();
    let viewer = relay.invite("inc-delete", "Vera", "viewer");
    let viewer_token = viewer["token"].as_str().unwrap().to_owned();
    // Another incident, to show it is untouched.
    let mut bystander = Client::connect_synced(&relay, "inc-other").await;
    bystander.type_text("still here").await;

    let mut owner = Client::connect_synced(&relay, "inc-delete").await;
    owner.type_text("secret timeline").await;
    let mut eddie = Client::connect_with(&relay, "inc-delete", Some(&editor_token)).await;
    eddie.pump_until(|c| c.summary() == "secret timeline").await;
    let mut vera = Client::connect_with(&relay, "inc-delete", Some(&viewer_token)).await;
    vera.pump_until(|c| c.summary() == "secret timeline").await;

    // Nobody but the owner may delete it.
    for (token, status) in [
        (None, 401),
        (Some(editor_token.as_str()), 403),
        (Some(viewer_token.as_str()), 403),
    ] {
        let (got, _, body) = relay.request("DELETE", "/api/incidents/inc-delete", token, None);
        assert_eq!(got, status, "{body}");
    }
    let (_, snapshots_before) = db_counts(&data, "inc-delete");
    let (log_before, _) = db_counts(&data, "inc-delete");
    assert!(log_before + snapshots_before > 0);

    let started = std::time::Instant::now();
    let (status, _, body) = relay.request(
        "DELETE",
        "/api/incidents/inc-delete",
        Some(&owner_token),
        None,
    );
    let took = started.elapsed();
    assert_eq!(status, 204, "{body}");
    println!("DELETE answered in {took:?}");

    for client in [&mut owner, &mut eddie, &mut vera] {
        let closed = client.expect_closed().await;
        assert_eq!(closed.code, 4404, "{closed:?}");
        assert_eq!(closed.reason, "this incident was deleted by its owner");
    }
    assert_eq!(db_counts(&data, "inc-delete"), (0, 0));
    assert_eq!(grant_rows(&data, "inc-delete"), 0);

    // Every later connection and call is refused, whoever holds which token; nothing of
    // the document is sent and nothing is stored.
    for token in [&owner_token, &editor_token, &viewer_token] {
        let mut late = Client::connect_with(&relay, "inc-delete", Some(token)).await;
        late.type_text_offline_ok("written after deletion").await;
        let closed = late.expect_closed().await;
        assert_eq!(closed.code, 4404, "{closed:?}");
        assert_eq!(late.frames_received, 0);
        let (status, _, body) =
            relay.request("GET", "/api/incidents/inc-delete/me", Some(token), None);
        assert_eq!(status, 404, "{body}");
        assert_eq!(error_of(&body), "this incident was deleted by its owner");
    }
    let (status, _, _) = relay.request(
        "GET",
        "/api/incidents/inc-delete/invites",
        Some(&owner_token),
        None,
    );
    assert_eq!(status, 404);
    let (status, _, _) = relay.request(
        "DELETE",
        "/api/incidents/inc-delete",
        Some(&owner_token),
        None,
    );
    assert_eq!(status, 404);
    // Its id cannot be taken again (a stale copy re-published would bring it back).
    let (status, body) = relay.post_json(
        "/api/incidents",
        None,
        &json!({ "incident": "inc-delete", "name": "Mallory" }).to_string(),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(db_counts(&data, "inc-delete"), (0, 0));
    assert_eq!(grant_rows(&data, "inc-delete"), 0);

    // The other incident goes on.
    bystander.type_text(", and editable").await;
    let mut again = Client::connect_synced(&relay, "inc-other").await;
    again
        .pump_until(|c| c.summary() == "still here, and editable")
        .await;

    // After a restart too.
    drop(relay);
    let relay = Relay::start(&data, &dist);
    let mut late = Client::connect_with(&relay, "inc-delete", Some(&owner_token)).await;
    assert_eq!(late.expect_closed().await.code, 4404);
    assert_eq!(db_counts(&data, "inc-delete"), (0, 0));
}

#[tokio::test]
async fn a_rotated_owner_token_is_refused_with_4410_and_the_new_one_works() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let old = relay.owner_token("inc-rotate");
    let bob = relay.invite("inc-rotate", "Bob", "editor");
    let bob_token = bob["token"].as_str().unwrap().to_owned();
    let mut owner = Client::connect_synced(&relay, "inc-rotate").await;
    owner.type_text("before rotation").await;
    let mut bob_client = Client::connect_with(&relay, "inc-rotate", Some(&bob_token)).await;
    bob_client
        .pump_until(|c| c.summary() == "before rotation")
        .await;

    // Other methods on the owner's paths: the JSON 404 of any unknown API path.
    for (method, path) in [
        ("GET", "/api/incidents/inc-rotate"),
        ("GET", "/api/incidents/inc-rotate/owner-token"),
    ] {
        let (status, _, body) = relay.request(method, path, Some(&old), None);
        assert_eq!((status, error_of(&body).as_str()), (404, "not found"));
    }
    let (status, _) = relay.post_json(
        "/api/incidents/inc-rotate/owner-token",
        Some(&bob_token),
        "{}",
    );
    assert_eq!(status, 403, "an editor cannot take the owner's place");

    let (status, rotated) =
        relay.post_json("/api/incidents/inc-rotate/owner-token", Some(&old), "{}");
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(rotated["role"], "owner");
    assert_eq!(rotated["name"], "Owner");
    let new = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    let closed = owner.expect_closed().await;
    assert_eq!(closed.code, 4410, "{closed:?}");
    let mut stale = Client::connect_with(&relay, "inc-rotate", Some(&old)).await;
    assert_eq!(stale.expect_closed().await.code, 4410);
    assert_eq!(stale.frames_received, 0);
    let (status, _, _) = relay.request("GET", "/api/incidents/inc-rotate/me", Some(&old), None);
    assert_eq!(status, 410);
    let (status, _) = relay.post_json("/api/incidents/inc-rotate/owner-token", Some(&old), "{}");
    assert_eq!(status, 410, "the old token cannot rotate again");

    // The new token is the owner: it syncs, lists (the replaced link is not listed), invites.
    let mut owner = Client::connect_with(&relay, "inc-rotate", Some(&new)).await;
    owner.pump_until(|c| c.summary() == "before rotation").await;
    owner.type_text(", after").await;
    bob_client
        .pump_until(|c| c.summary() == "before rotation, after")
        .await;
    let (status, _, body) =
        relay.request("GET", "/api/incidents/inc-rotate/invites", Some(&new), None);
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<(&str, &str)> = listed["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["role"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("Owner", "owner"), ("Bob", "editor")]);
    assert!(!body.contains(old.split('.').next().unwrap()));
    let (status, _) = relay.post_json(
        "/api/incidents/inc-rotate/invites",
        Some(&new),
        &json!({ "name": "Carol", "role": "viewer" }).to_string(),
    );
    assert_eq!(status, 201);
    // Bob was never disconnected.
    assert!(bob_client.closed.is_none());
    bob_client.pump_for(Duration::from_millis(100)).await;
    assert!(bob_client.closed.is_none());
}

/// Starts the relay binary on `listen` with `flags` and `env`; returns (exit code if it
/// exited within 3 s, everything it wrote to stderr, the listening line if any).
fn start_on(listen: &str, flags: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--listen", listen, "--data"])
        .arg(tmp.path().join("data"))
        .arg("--dist")
        .arg(tmp.path().join("dist"))
        .args(flags)
        .env_remove("FIREBREAK_CREATE_SECRET")
        .env_remove("FIREBREAK_OPEN_CREATION")
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("relay binary starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    (code, stderr, stdout)
}

#[test]
fn a_relay_other_machines_can_reach_needs_a_creation_secret_or_says_creation_is_open() {
    let (code, stderr, stdout) = start_on("0.0.0.0:0", &[], &[]);
    assert!(
        matches!(code, Some(c) if c != 0),
        "refuses to start: {code:?}"
    );
    assert!(!stdout.contains("listening on"), "{stdout}");
    for named in [
        "--create-secret",
        "FIREBREAK_CREATE_SECRET",
        "--open-creation",
        "FIREBREAK_OPEN_CREATION",
    ] {
        assert!(stderr.contains(named), "the error names {named}: {stderr}");
    }
    // An empty secret is no secret.
    let (code, _, _) = start_on("0.0.0.0:0", &["--create-secret", ""], &[]);
    assert!(matches!(code, Some(c) if c != 0));

    // Told so, it starts (and keeps running until killed: no exit code).
    for (flags, env) in [
        (&["--create-secret", "s3cret"][..], &[][..]),
        (&["--open-creation"][..], &[][..]),
        (&[][..], &[("FIREBREAK_OPEN_CREATION", "true")][..]),
        (&[][..], &[("FIREBREAK_CREATE_SECRET", "s3cret")][..]),
    ] {
        let (code, stderr, stdout) = start_on("0.0.0.0:0", flags, env);
        assert_eq!(code, None, "{flags:?} {env:?} starts: {stderr}");
        assert!(stdout.contains("listening on http://0.0.0.0:"), "{stdout}");
    }
    // On loopback nothing is needed.
    let (code, stderr, stdout) = start_on("127.0.0.1:0", &[], &[]);
    assert_eq!(code, None, "{stderr}");
    assert!(stdout.contains("listening on http://127.0.0.1:"));
}

/// Starts the relay binary through `sh -c "{shell} exec relay …"`, listening on `listen`
/// with `flags`. Returns the child, its address, and its stderr lines as they come.
fn spawn_relay(
    shell: &str,
    listen: &str,
    flags: &[&str],
    data: &std::path::Path,
    dist: &std::path::Path,
) -> (
    std::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let script = format!(r#"{shell} exec "$0" "$@""#);
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .arg(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--listen", listen, "--data"])
        .arg(data)
        .arg("--dist")
        .arg(dist)
        .args(flags)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("relay starts");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = std::sync::Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            sink.lock().unwrap().push(line);
        }
    });
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("listening line: {first:?}"))
        .to_owned();
    (child, addr, lines)
}

#[tokio::test]
async fn a_full_disk_is_logged_once_not_at_every_retry() {
    let (_tmp, data, dist) = dirs();
    // Files may not grow past about a megabyte (`ulimit -f`, the signal that would kill the
    // relay ignored): SQLite's writes past that fail as on a full disk.
    let (mut child, addr, lines) = spawn_relay(
        "trap '' XFSZ; ulimit -f 2048;",
        "127.0.0.1:0",
        &[],
        &data,
        &dist,
    );
    let relay_url =
        |incident: &str, token: &str| format!("ws://{addr}/sync/{incident}?token={token}");
    let token = register(&addr, "inc-full");

    // A client retrying a 2 MB update as fast as it is refused, ten times.
    let big = "x".repeat(2 * 1024 * 1024);
    let started = std::time::Instant::now();
    let mut failures = 0;
    while failures < 10 {
        assert_eq!(
            send_and_wait_for_close(&relay_url("inc-full", &token), &big).await,
            1011
        );
        failures += 1;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let lines = lines.lock().unwrap().clone();
    let errors: Vec<&String> = lines.iter().filter(|l| l.contains("ERROR")).collect();
    println!(
        "{failures} failed writes in {:?}: {} ERROR line(s) (one per failure before)",
        started.elapsed(),
        errors.len()
    );
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert!(
        errors[0].contains("could not store updates"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("suppressed=0"), "{}", errors[0]);
}

/// Connects, sends one update inserting `text`, and returns the close code the relay ends
/// the connection with.
async fn send_and_wait_for_close(url: &str, text: &str) -> u16 {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::encoder::Encode;
    use yrs::{Text, Transact};
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    let doc = yrs::Doc::new();
    let summary = doc.get_or_insert_text("summary");
    let update = {
        let mut txn = doc.transact_mut();
        summary.push(&mut txn, text);
        txn.encode_update_v1()
    };
    let frame = Message::Sync(SyncMessage::Update(update)).encode_v1();
    socket
        .send(WsMessage::Binary(frame.into()))
        .await
        .expect("sent");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(WsMessage::Close(Some(frame))))) => return u16::from(frame.code),
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame: {other:?}"),
        }
    }
}

/// Sends `POST /api/incidents/{incident}/invites` with a `Host` header of the sender's
/// choosing; returns the invite's link.
fn invite_link_with_host(addr: &str, incident: &str, owner: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let body = r#"{"name":"Bob","role":"editor"}"#;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/incidents/{incident}/invites HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {owner}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let json = &json[json.find('{').unwrap()..=json.rfind('}').unwrap()];
    serde_json::from_str::<Value>(json).unwrap()["link"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_forged_host_header_never_gets_into_an_invite_link() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-host");
    for host in ["evil.example", "evil.example:443", "127.0.0.1.evil.example"] {
        let link = invite_link_with_host(&relay.addr, "inc-host", &owner, host);
        assert!(
            link.starts_with(&format!("http://{}/incident/inc-host#invite=", relay.addr)),
            "{host}: {link}"
        );
        assert!(!link.contains("evil"), "{link}");
    }

    // With --public-url, that; listening on every address with neither, a link relative to
    // the site (the app makes it whole with its own address).
    let (_tmp2, data2, dist2) = dirs();
    let public = Relay::start_with(
        &data2,
        &dist2,
        &["--public-url", "https://firebreak.example.org/"],
    );
    let owner = public.owner_token("inc-host");
    let link = invite_link_with_host(&public.addr, "inc-host", &owner, "evil.example");
    assert!(
        link.starts_with("https://firebreak.example.org/incident/inc-host#invite="),
        "{link}"
    );

    let (_tmp3, data3, dist3) = dirs();
    let (mut everywhere, addr, _) =
        spawn_relay("", "0.0.0.0:0", &["--open-creation"], &data3, &dist3);
    let owner = register(&addr, "inc-host");
    let link = invite_link_with_host(&addr, "inc-host", &owner, "evil.example");
    everywhere.kill().unwrap();
    everywhere.wait().unwrap();
    assert!(link.starts_with("/incident/inc-host#invite="), "{link}");
}

/// Registers `incident` on the relay at `addr`; returns the owner token.
fn register(addr: &str, incident: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let body = format!(r#"{{"incident":"{incident}","name":"A"}}"#);
    write!(
        stream,
        "POST /api/incidents HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    answer
        .split("\"token\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned()
}
