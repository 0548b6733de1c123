//! Secrets and invite links on the internet (issue 13, findings 5, 8 and 9), end to end
//! against the relay binary: where a token may travel and that it is never logged, that
//! someone else's guessing never locks out a valid token, and that an invite binds to the
//! first device that claims it.

mod common;

use common::{Client, Relay};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// The secret half of a token (`{invite}.{secret}`).
fn secret_of(token: &str) -> &str {
    token.split_once('.').expect("a token has a dot").1
}

/// A request for `incident`'s websocket with `headers` added.
fn request(relay: &Relay, incident: &str, query: &str, headers: &[(&str, &str)]) -> Request {
    let mut request = format!("{}{query}", relay.ws_url(incident))
        .into_client_request()
        .expect("valid request");
    for (name, value) in headers {
        request.headers_mut().append(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("header name"),
            value.parse().expect("header value"),
        );
    }
    request
}

/// The three ways a token may travel: the app's subprotocol, an `Authorization` header, and
/// stock clients' `?token=`.
fn carried(relay: &Relay, incident: &str, token: &str) -> Vec<(&'static str, Request)> {
    let protocols = format!("firebreak, firebreak.token.{token}");
    let bearer = format!("Bearer {token}");
    vec![
        (
            "subprotocol",
            request(
                relay,
                incident,
                "",
                &[("sec-websocket-protocol", &protocols)],
            ),
        ),
        (
            "header",
            request(relay, incident, "", &[("authorization", &bearer)]),
        ),
        (
            "query",
            request(relay, incident, &format!("?token={token}"), &[]),
        ),
    ]
}

#[tokio::test]
async fn the_token_may_travel_outside_the_url_and_is_never_logged() {
    let (tmp, data, dist) = dirs();
    let log = tmp.path().join("relay.log");
    // Everything the relay and its libraries log, at the finest level.
    let relay = Relay::start_logging_at(&data, &dist, &[], "trace", &log);
    let incident = "inc-tokens";
    let mut owner = Client::connect_synced(&relay, incident).await;
    owner.type_text("in the room").await;
    let token = relay.owner_token(incident);
    let wrong = format!("{}.{}", token.split('.').next().unwrap(), "7".repeat(32));

    for (how, request) in carried(&relay, incident, &token) {
        let offered_protocol = how == "subprotocol";
        let (mut client, response) = Client::connect_request(request).await;
        let picked = response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap().to_owned());
        if offered_protocol {
            // A browser fails the connection unless the relay picks one of the offered
            // subprotocols; it must pick the plain one, never echo the secret.
            assert_eq!(picked.as_deref(), Some("firebreak"), "{how}");
        } else {
            assert_eq!(picked, None, "{how}: nothing offered, nothing picked");
        }
        client.pump_until(|c| c.synced).await;
        assert_eq!(client.summary(), "in the room", "{how}");
        client.close().await;
    }
    for (how, request) in carried(&relay, incident, &wrong) {
        let (mut client, _) = Client::connect_request(request).await;
        let closed = client.expect_closed().await;
        assert_eq!(closed.code, 4403, "{how}: {closed:?}");
    }
    // Through the HTTP API too.
    let (status, _, _) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/me"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    owner.close().await;
    relay.terminate();

    let logged = std::fs::read_to_string(&log).expect("read the relay's log");
    if let Ok(copy) = std::env::var("FIREBREAK_KEEP_LOG") {
        std::fs::write(copy, &logged).expect("keep the log");
    }
    assert!(
        logged.lines().count() > 20,
        "the relay logged at trace level ({} lines)",
        logged.lines().count()
    );
    for secret in [secret_of(&token), secret_of(&wrong)] {
        assert!(
            !logged.contains(secret),
            "a secret appears in the relay's trace log"
        );
    }
    println!(
        "trace log: {} lines, {} bytes, no secret in it",
        logged.lines().count(),
        logged.len()
    );
}

#[tokio::test]
async fn a_client_offering_other_subprotocols_is_not_refused_for_it() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-protocols";
    let token = relay.owner_token(incident);
    // Several header lines, odd spacing, an unknown protocol first.
    let mut request = request(&relay, incident, "", &[]);
    let headers = request.headers_mut();
    headers.append(
        "sec-websocket-protocol",
        "chat.v2 ,  firebreak".parse().unwrap(),
    );
    headers.append(
        "sec-websocket-protocol",
        format!("firebreak.token.{token}").parse().unwrap(),
    );
    let (mut client, response) = Client::connect_request(request).await;
    assert_eq!(response.headers()["sec-websocket-protocol"], "firebreak");
    client.pump_until(|c| c.synced).await;
}

/// `GET /api/incidents/{incident}/me` with `token`, forwarded for `client` (the relay believes
/// it only with `--trusted-proxy 127.0.0.1`): the status.
fn me_status(relay: &Relay, incident: &str, token: &str, client: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let forwarded = client
        .map(|c| format!("X-Forwarded-For: {c}\r\n"))
        .unwrap_or_default();
    write!(
        socket,
        "GET /api/incidents/{incident}/me HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         {forwarded}Connection: close\r\n\r\n",
        relay.addr
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

/// A wrong secret naming `token`'s invite.
fn wrong_for(token: &str, n: u32) -> String {
    format!("{}.{n:032x}", token.split('.').next().unwrap())
}

#[tokio::test]
async fn someone_elses_guessing_never_locks_out_a_valid_token() {
    // Behind a proxy the relay is not told about, everyone shares one address: the issue's
    // "12 wrong secrets and then the valid owner token gets 429 for a minute".
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-shared-address";
    let mut owner = Client::connect_synced(&relay, incident).await;
    owner.type_text("still here").await;
    let token = relay.owner_token(incident);
    let codes: Vec<u16> = {
        let mut codes = Vec::new();
        for n in 0..12 {
            let wrong = wrong_for(&token, n);
            let mut guesser = Client::connect_with(&relay, incident, Some(&wrong)).await;
            codes.push(guesser.expect_closed().await.code);
        }
        codes
    };
    assert_eq!(&codes[..10], &[4403; 10]);
    assert_eq!(&codes[10..], &[4429, 4429], "the guesser is told to wait");
    let mut guesser = Client::connect_with(&relay, incident, Some(&wrong_for(&token, 77))).await;
    let slowed = guesser.expect_closed().await;
    assert!(
        slowed.reason.starts_with("too many failed attempts; wait "),
        "{slowed:?}"
    );
    assert_eq!(guesser.frames_received, 0);

    // The owner, from the same address, opens the incident at once, over both routes.
    let started = std::time::Instant::now();
    let mut again = Client::connect_with(&relay, incident, Some(&token)).await;
    again.pump_until(|c| c.synced).await;
    assert_eq!(again.summary(), "still here");
    println!(
        "valid token after 13 wrong ones from its address: synced in {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(me_status(&relay, incident, &token, None), 200);
    assert_eq!(
        me_status(&relay, incident, &wrong_for(&token, 78), None),
        429
    );
}

#[tokio::test]
async fn a_guess_spread_over_many_addresses_is_slowed_per_invite_and_shown_to_the_owner() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--max-failures-per-invite",
            "5",
        ],
    );
    let incident = "inc-spread";
    let owner = relay.owner_token(incident);
    let bob = relay.invite(incident, "Bob", "editor");
    let bob_token = bob["token"].as_str().unwrap();
    let carol = relay.invite(incident, "Carol", "viewer");
    let carol_token = carol["token"].as_str().unwrap();

    // Seven wrong secrets for Bob's invite, each from its own address.
    let statuses: Vec<u16> = (0..7)
        .map(|n| {
            let client = format!("203.0.113.{}", n + 1);
            me_status(&relay, incident, &wrong_for(bob_token, n), Some(&client))
        })
        .collect();
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429, 429]);
    // Bob is let in, from anywhere; a wrong secret for Carol's invite is merely wrong.
    assert_eq!(
        me_status(&relay, incident, bob_token, Some("203.0.113.1")),
        200
    );
    assert_eq!(
        me_status(
            &relay,
            incident,
            &wrong_for(carol_token, 1),
            Some("198.51.100.1")
        ),
        403
    );
    assert_eq!(
        me_status(&relay, incident, carol_token, Some("198.51.100.1")),
        200
    );
    // And on the websocket.
    let mut bob_client = Client::connect_with(&relay, incident, Some(bob_token)).await;
    bob_client.pump_until(|c| c.synced).await;
    let mut guesser = Client::connect_with(&relay, incident, Some(&wrong_for(bob_token, 99))).await;
    assert_eq!(guesser.expect_closed().await.code, 4429);

    // The owner sees who is being guessed at.
    let (status, _, body) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/invites"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let failed: Vec<(String, u64)> = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_owned(),
                i["failed_attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("Owner".to_owned(), 0),
            ("Bob".to_owned(), 8),
            ("Carol".to_owned(), 1)
        ]
    );
}

/// The sync websocket of `incident` with `token` and this `device` id, each sent the way the
/// app sends them (subprotocols).
fn app_request(relay: &Relay, incident: &str, token: &str, device: Option<&str>) -> Request {
    let mut protocols = format!("firebreak, firebreak.token.{token}");
    if let Some(device) = device {
        protocols.push_str(&format!(", firebreak.device.{device}"));
    }
    request(
        relay,
        incident,
        "",
        &[("sec-websocket-protocol", &protocols)],
    )
}

/// `GET /api/incidents/{incident}/me` with `token`, and a device id if given: the status.
fn me_on(relay: &Relay, incident: &str, token: &str, device: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let device = device
        .map(|d| format!("X-Firebreak-Device: {d}\r\n"))
        .unwrap_or_default();
    write!(
        socket,
        "GET /api/incidents/{incident}/me HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         {device}Connection: close\r\n\r\n",
        relay.addr
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

fn invites(relay: &Relay, incident: &str) -> Vec<serde_json::Value> {
    let owner = relay.owner_token(incident);
    let (status, _, body) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/invites"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    list["invites"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_forwarded_invite_link_works_only_on_the_device_that_first_opened_it() {
    let (tmp, data, dist) = dirs();
    let log = tmp.path().join("relay.log");
    let relay = Relay::start_logging_at(&data, &dist, &[], "debug", &log);
    let incident = "inc-forwarded";
    let mut owner = Client::connect_synced(&relay, incident).await;
    owner.type_text("for Bob only").await;
    let bob = relay.invite(incident, "Bob", "editor");
    let bob_token = bob["token"].as_str().unwrap();
    let bobs_laptop = "bobslaptop0000000000000001";
    let someone_else = "otherphone0000000000000002";

    // Bob opens his link: his device is bound to it.
    let (mut laptop, _) =
        Client::connect_request(app_request(&relay, incident, bob_token, Some(bobs_laptop))).await;
    laptop.pump_until(|c| c.synced).await;
    assert_eq!(laptop.summary(), "for Bob only");

    // The link, forwarded, opened on another device: refused before a byte of the document.
    let (mut forwarded, _) =
        Client::connect_request(app_request(&relay, incident, bob_token, Some(someone_else))).await;
    let closed = forwarded.expect_closed().await;
    assert_eq!(closed.code, 4409, "{closed:?}");
    assert_eq!(
        closed.reason,
        "this invite is already in use on another device; ask for your own link"
    );
    assert_eq!(forwarded.frames_received, 0);
    assert_eq!(forwarded.summary(), "");
    // Through the API too, and the same for a stock client's `?device=`.
    assert_eq!(me_on(&relay, incident, bob_token, Some(someone_else)), 409);
    let stock = request(
        &relay,
        incident,
        &format!("?token={bob_token}&device={someone_else}"),
        &[],
    );
    let (mut stock, _) = Client::connect_request(stock).await;
    assert_eq!(stock.expect_closed().await.code, 4409);
    // Without any device id, an invite does not open the incident at all.
    let (mut anonymous, _) =
        Client::connect_request(app_request(&relay, incident, bob_token, None)).await;
    let closed = anonymous.expect_closed().await;
    assert_eq!(closed.code, 4428, "{closed:?}");
    assert!(closed.reason.contains("?device="), "{closed:?}");
    // `me` without one tells who the link is for, and reaches nothing else.
    assert_eq!(me_on(&relay, incident, bob_token, None), 200);

    // Bob, meanwhile, is undisturbed and can reconnect.
    assert_eq!(me_on(&relay, incident, bob_token, Some(bobs_laptop)), 200);
    let (mut again, _) =
        Client::connect_request(app_request(&relay, incident, bob_token, Some(bobs_laptop))).await;
    again.pump_until(|c| c.synced).await;
    laptop.type_text(" (Bob)").await;
    owner
        .pump_until(|c| c.summary() == "for Bob only (Bob)")
        .await;

    // The owner sees the attempts, and re-issues Bob's link: revoke and invite again.
    let listed = invites(&relay, incident);
    let bob_row = listed.iter().find(|i| i["name"] == "Bob").unwrap();
    assert_eq!(bob_row["other_device_attempts"], 3, "{bob_row}");
    assert!(bob_row["other_device_last_at"].as_i64().unwrap() > 0);
    let owner_token = relay.owner_token(incident);
    let (status, _, _) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/{incident}/invites/{}",
            bob["invite"].as_str().unwrap()
        ),
        Some(&owner_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(laptop.expect_closed().await.code, 4410);
    let reissued = relay.invite(incident, "Bob", "editor");
    let new_token = reissued["token"].as_str().unwrap();
    // The new link is a new invite: whichever device opens it first has it.
    let (mut phone, _) =
        Client::connect_request(app_request(&relay, incident, new_token, Some(someone_else))).await;
    phone.pump_until(|c| c.synced).await;
    assert_eq!(me_on(&relay, incident, new_token, Some(bobs_laptop)), 409);

    // The owner's own grant is not bound: it opens the incident from any device.
    for device in [bobs_laptop, someone_else] {
        let (mut client, _) =
            Client::connect_request(app_request(&relay, incident, &owner_token, Some(device)))
                .await;
        client.pump_until(|c| c.synced).await;
    }
    owner.close().await;
    relay.terminate();

    // The relay keeps only hashes of device ids, and logs none.
    let db = rusqlite::Connection::open(data.join("firebreak.sqlite3")).unwrap();
    let stored: Vec<Vec<u8>> = db
        .prepare("SELECT device_sha256 FROM incident_grant WHERE device_sha256 IS NOT NULL")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    use sha2::{Digest, Sha256};
    let mut expected: Vec<Vec<u8>> = [bobs_laptop, someone_else]
        .iter()
        .map(|d| Sha256::digest(d.as_bytes()).to_vec())
        .collect();
    let mut stored = stored;
    stored.sort();
    expected.sort();
    assert_eq!(
        stored, expected,
        "Bob's old invite and the re-issued one, by hash"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    for device in [bobs_laptop, someone_else] {
        assert!(!logged.contains(device), "a device id in the log");
    }
}
