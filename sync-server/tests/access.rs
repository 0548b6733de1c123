//! Invite-only access, end to end against the relay binary with a Rust Yjs client: every
//! refusal case with its close code or HTTP status, roles, revocation of live connections,
//! persistence of grants, and that secrets are stored only as hashes.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Relay};
use serde_json::{json, Value};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// Connects with `token` and expects to be closed with `code` before any frame arrives.
async fn expect_refused(relay: &Relay, incident: &str, token: Option<&str>, code: u16) -> String {
    let mut client = Client::connect_with(relay, incident, token).await;
    let closed = client.expect_closed().await;
    assert_eq!(
        closed.code, code,
        "close code for token {token:?}: {closed:?}"
    );
    assert_eq!(
        client.frames_received, 0,
        "nothing of the document was sent"
    );
    assert_eq!(client.summary(), "");
    closed.reason
}

#[tokio::test]
async fn refused_connections_get_a_close_code_and_not_a_byte_of_the_document() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, "inc-secret").await;
    owner.type_text("confidential: payroll export").await;
    let other = relay.owner_token("inc-other");
    let owner_token = relay.owner_token("inc-secret");
    let invite = owner_token.split('.').next().unwrap();

    let missing = expect_refused(&relay, "inc-secret", None, 4401).await;
    assert!(missing.contains("invite link"), "{missing}");
    for wrong in [
        format!("{invite}.{}", "0".repeat(32)),
        format!("{}.{}", "0".repeat(16), "0".repeat(32)),
        "not-a-token".to_owned(),
        other.clone(),
    ] {
        let reason = expect_refused(&relay, "inc-secret", Some(&wrong), 4403).await;
        assert_eq!(reason, "unknown secret for this incident");
    }
    // An incident nobody registered looks exactly like one with a wrong secret.
    expect_refused(&relay, "inc-nobody", Some(&other), 4403).await;

    // The owner saw none of it and goes on.
    owner.type_text("!").await;
    let mut check = Client::connect_synced(&relay, "inc-secret").await;
    check
        .pump_until(|c| c.summary() == "confidential: payroll export!")
        .await;
}

#[tokio::test]
async fn a_viewer_reads_live_but_its_write_is_refused_and_the_room_untouched() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, "inc-view").await;
    owner.type_text("beacon to 203.0.113.9").await;
    let viewer_token = relay.invite("inc-view", "Vic", "viewer")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let editor_token = relay.invite("inc-view", "Ed", "editor")["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut viewer = Client::connect_with(&relay, "inc-view", Some(&viewer_token)).await;
    viewer
        .pump_until(|c| c.summary() == "beacon to 203.0.113.9")
        .await;
    owner.type_text(" (C2)").await;
    viewer
        .pump_until(|c| c.summary() == "beacon to 203.0.113.9 (C2)")
        .await;
    // Presence is allowed.
    viewer.set_awareness(1, r#"{"user":{"name":"Vic"}}"#).await;
    owner
        .pump_until(|c| c.awareness.contains_key(&viewer.client_id().get()))
        .await;

    viewer.type_text(" -- viewer was here").await;
    let closed = viewer.expect_closed().await;
    assert_eq!(closed.code, 4405);
    assert_eq!(
        closed.reason,
        "read-only: viewers cannot change this incident"
    );

    let mut editor = Client::connect_with(&relay, "inc-view", Some(&editor_token)).await;
    editor.pump_until(|c| c.synced).await;
    editor.type_text(" confirmed").await;
    owner
        .pump_until(|c| c.summary() == "beacon to 203.0.113.9 (C2) confirmed")
        .await;
    let fresh = Client::connect_synced(&relay, "inc-view").await;
    assert_eq!(fresh.summary(), "beacon to 203.0.113.9 (C2) confirmed");
}

#[tokio::test]
async fn revoking_closes_the_live_connection_within_a_second_and_the_link_stays_dead() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, "inc-revoke").await;
    let bob = relay.invite("inc-revoke", "Bob", "editor");
    let bob_token = bob["token"].as_str().unwrap().to_owned();
    let bob_invite = bob["invite"].as_str().unwrap().to_owned();
    let mut bob_client = Client::connect_with(&relay, "inc-revoke", Some(&bob_token)).await;
    bob_client.pump_until(|c| c.synced).await;
    bob_client.type_text("bob's note").await;
    owner.pump_until(|c| c.summary() == "bob's note").await;

    let listed = list(&relay, "inc-revoke");
    let bob_listed = listed.iter().find(|i| i["name"] == "Bob").unwrap();
    assert_eq!(bob_listed["connected"], 1);

    let started = Instant::now();
    let (status, _, body) = relay.request(
        "DELETE",
        &format!("/api/incidents/inc-revoke/invites/{bob_invite}"),
        Some(&relay.owner_token("inc-revoke")),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let revoked: Value = serde_json::from_str(&body).unwrap();
    assert!(revoked["revoked_at"].is_i64());
    let closed = bob_client.expect_closed().await;
    let took = started.elapsed();
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (4410, "invite revoked by Owner")
    );
    assert!(took < Duration::from_secs(1), "closed after {took:?}");

    expect_refused(&relay, "inc-revoke", Some(&bob_token), 4410).await;
    // Repeating the revocation is harmless; the API refuses the revoked token too.
    let (status, _, _) = relay.request(
        "DELETE",
        &format!("/api/incidents/inc-revoke/invites/{bob_invite}"),
        Some(&relay.owner_token("inc-revoke")),
        None,
    );
    assert_eq!(status, 200);
    let (status, _, _) = relay.request(
        "GET",
        "/api/incidents/inc-revoke/me",
        Some(&bob_token),
        None,
    );
    assert_eq!(status, 410);
    let after = list(&relay, "inc-revoke");
    let bob_after = after.iter().find(|i| i["name"] == "Bob").unwrap();
    assert_eq!(bob_after["connected"], 0);
    assert!(bob_after["last_seen_at"].is_i64());
}

/// (what, path, bearer, JSON body, expected status)
type ApiCase<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, u16);

fn list(relay: &Relay, incident: &str) -> Vec<Value> {
    let (status, _, body) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/invites"),
        Some(&relay.owner_token(incident)),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let parsed: Value = serde_json::from_str(&body).unwrap();
    parsed["invites"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_api_refuses_clearly_and_never_shows_a_secret_twice() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-api");
    let invite = relay.invite("inc-api", "Ann <script>", "editor");
    let ann = invite["token"].as_str().unwrap().to_owned();
    assert_eq!(invite["role"], "editor");
    assert_eq!(invite["name"], "Ann <script>");
    assert_eq!(
        invite["link"],
        format!("http://{}/incident/inc-api#invite={ann}", relay.addr)
    );

    let (status, _, body) =
        relay.request("GET", "/api/incidents/inc-api/invites", Some(&owner), None);
    assert_eq!(status, 200);
    for secret in [&owner, &ann] {
        let hidden = secret.split('.').nth(1).unwrap();
        assert!(!body.contains(hidden), "no secret in the list: {body}");
    }
    let names: Vec<Value> = serde_json::from_str::<Value>(&body).unwrap()["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!([i["name"], i["role"]]))
        .collect();
    assert_eq!(
        names,
        [json!(["Owner", "owner"]), json!(["Ann <script>", "editor"])]
    );

    let (status, _, body) = relay.request("GET", "/api/incidents/inc-api/me", Some(&ann), None);
    assert_eq!(status, 200);
    let me: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (me["role"].as_str(), me["name"].as_str()),
        (Some("editor"), Some("Ann <script>"))
    );

    let invites = "/api/incidents/inc-api/invites";
    let ok_body = r#"{"name":"Bo","role":"viewer"}"#;
    let cases: Vec<ApiCase> = vec![
        ("no bearer", invites, None, Some(ok_body), 401),
        ("an editor invites", invites, Some(&ann), Some(ok_body), 403),
        (
            "wrong secret",
            invites,
            Some("0123456789abcdef.00112233445566778899aabbccddeeff"),
            Some(ok_body),
            403,
        ),
        ("bad JSON", invites, Some(&owner), Some("{name"), 400),
        (
            "no name",
            invites,
            Some(&owner),
            Some(r#"{"name":" ","role":"viewer"}"#),
            400,
        ),
        (
            "owner role",
            invites,
            Some(&owner),
            Some(r#"{"name":"X","role":"owner"}"#),
            400,
        ),
        (
            "unknown role",
            invites,
            Some(&owner),
            Some(r#"{"name":"X","role":"admin"}"#),
            400,
        ),
        (
            "expiry in the past",
            invites,
            Some(&owner),
            Some(r#"{"name":"X","role":"viewer","expires_in_hours":-1}"#),
            400,
        ),
        (
            "incident taken",
            "/api/incidents",
            None,
            Some(r#"{"incident":"inc-api"}"#),
            409,
        ),
        (
            "bad incident id",
            "/api/incidents",
            None,
            Some(r#"{"incident":"a/b"}"#),
            400,
        ),
    ];
    for (what, path, bearer, body, expected) in cases {
        let (status, headers, text) = relay.request("POST", path, bearer, body);
        assert_eq!(status, expected, "{what}: {text}");
        assert!(
            headers["content-type"].starts_with("application/json"),
            "{what}"
        );
        let error: Value = serde_json::from_str(&text).unwrap();
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}"
        );
    }
    let owner_invite = owner.split('.').next().unwrap();
    let (status, _, _) = relay.request(
        "DELETE",
        &format!("/api/incidents/inc-api/invites/{owner_invite}"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 409, "the owner's own access cannot be revoked");
    let (status, _, _) = relay.request(
        "DELETE",
        "/api/incidents/inc-api/invites/0123456789abcdef",
        Some(&owner),
        None,
    );
    assert_eq!(status, 404);
    // A relay-chosen id when none is given.
    let (status, created) = relay.post_json("/api/incidents", None, "");
    assert_eq!(status, 201);
    assert_eq!(created["incident"].as_str().map(str::len), Some(48));
}

#[tokio::test]
async fn grants_survive_a_restart_and_secrets_are_stored_only_as_hashes() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, "inc-keep").await;
    owner.type_text("kept").await;
    let ed = relay.invite("inc-keep", "Ed", "editor")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = relay.invite("inc-keep", "Gone", "editor");
    let gone_token = gone["token"].as_str().unwrap().to_owned();
    let (status, _, _) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/inc-keep/invites/{}",
            gone["invite"].as_str().unwrap()
        ),
        Some(&relay.owner_token("inc-keep")),
        None,
    );
    assert_eq!(status, 200);
    let mut ed_client = Client::connect_with(&relay, "inc-keep", Some(&ed)).await;
    ed_client.pump_until(|c| c.summary() == "kept").await;
    drop(owner);
    drop(ed_client);
    relay.terminate();

    let mut everything = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        everything.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&everything);
    for token in [&ed, &gone_token] {
        let (invite, secret) = token.split_once('.').unwrap();
        assert!(stored.contains(invite), "the public invite id is stored");
        assert!(!stored.contains(secret), "the secret is not stored");
    }

    let relay = Relay::start(&data, &dist);
    let mut ed_again = Client::connect_with(&relay, "inc-keep", Some(&ed)).await;
    ed_again.pump_until(|c| c.summary() == "kept").await;
    expect_refused(&relay, "inc-keep", Some(&gone_token), 4410).await;
}

#[tokio::test]
async fn the_secret_may_come_in_an_authorization_header() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let mut owner = Client::connect_synced(&relay, "inc-header").await;
    owner.type_text("via header").await;
    let token = relay.owner_token("inc-header");
    let mut request = relay.ws_url("inc-header").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    use futures_util::StreamExt;
    let first = tokio::time::timeout(common::TIMEOUT, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        first.is_binary(),
        "the relay greets with its state vector: {first:?}"
    );
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_slowed_down() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let token = relay.owner_token("inc-guess");
    let invite = token.split('.').next().unwrap();
    for attempt in 0..10 {
        let guess = format!("{invite}.{:032x}", attempt);
        expect_refused(&relay, "inc-guess", Some(&guess), 4403).await;
    }
    let guess = format!("{invite}.{:032x}", 99);
    let reason = expect_refused(&relay, "inc-guess", Some(&guess), 4429).await;
    assert!(
        reason.starts_with("too many failed attempts; wait "),
        "{reason}"
    );
    let (status, headers, _) =
        relay.request("GET", "/api/incidents/inc-guess/me", Some(&guess), None);
    assert_eq!(status, 429);
    assert!(headers["retry-after"].parse::<u64>().unwrap() >= 1);
    // The right secret from the same address is let in all along (tokens.rs has more).
    let (status, _, _) = relay.request("GET", "/api/incidents/inc-guess/me", Some(&token), None);
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_creation_secret_guards_incident_creation() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(&data, &dist, &["--create-secret", "correct horse"]);
    let body = r#"{"incident":"inc-guarded"}"#;
    let (status, _, _) = relay.request("POST", "/api/incidents", None, Some(body));
    assert_eq!(status, 401);
    let (status, _, _) = relay.request("POST", "/api/incidents", Some("wrong horse"), Some(body));
    assert_eq!(status, 401);
    let (status, created) = relay.post_json("/api/incidents", Some("correct horse"), body);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["incident"], "inc-guarded");
}

#[tokio::test]
async fn secrets_never_reach_the_log_even_at_debug_level() {
    let (tmp, data, dist) = dirs();
    let log = tmp.path().join("relay.log");
    let relay = Relay::start_logging_to(&data, &dist, &log);
    let owner = relay.owner_token("inc-log");
    let viewer = relay.invite("inc-log", "Val", "viewer")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut client = Client::connect_with(&relay, "inc-log", Some(&viewer)).await;
    client.pump_until(|c| c.synced).await;
    let wrong = format!("{}.{}", owner.split('.').next().unwrap(), "f".repeat(32));
    expect_refused(&relay, "inc-log", Some(&wrong), 4403).await;
    relay.request("GET", "/api/incidents/inc-log/invites", Some(&owner), None);
    drop(client);
    relay.terminate();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("connection refused"),
        "the log is written: {logged}"
    );
    for token in [&owner, &viewer, &wrong] {
        let secret = token.split_once('.').unwrap().1;
        assert!(
            !logged.contains(secret),
            "secret {secret} in the log:\n{logged}"
        );
    }
}

#[tokio::test]
async fn an_open_connection_is_closed_when_its_invite_expires() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let owner = relay.owner_token("inc-expire");
    let (status, invite) = relay.post_json(
        "/api/incidents/inc-expire/invites",
        Some(&owner),
        r#"{"name":"Temp","role":"editor","expires_in_hours":0.0005}"#,
    );
    assert_eq!(status, 201, "{invite}");
    let token = invite["token"].as_str().unwrap().to_owned();
    let mut temp = Client::connect_with(&relay, "inc-expire", Some(&token)).await;
    temp.pump_until(|c| c.synced).await;
    let closed = temp.expect_closed().await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (4411, "invite expired")
    );
    expect_refused(&relay, "inc-expire", Some(&token), 4411).await;
}
