//! Co-owners and role changes, end to end against the relay binary: an owner makes an
//! invited person owner (who can then invite and revoke), changes anyone's role without a
//! new link (the open connections come back in the new role: a viewer's next write is
//! refused), never leaves the incident without an owner, and a revocation names who did it.
//! Also the list of people every member may read (no secrets).

mod common;

use std::io::{Read, Write};

use common::{device_for, Client, Relay};
use serde_json::{json, Value};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// An API call as the app makes it: the token, and the device id its holder uses (none for
/// the creator's owner token, which is bound to no device). Returns (status, JSON body).
fn call(relay: &Relay, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut socket = std::net::TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        socket,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         X-Firebreak-Device: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        relay.addr,
        device_for(token),
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let (_, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
    // The API's bodies are small: one chunk when chunked.
    let body = match body.split_once("\r\n") {
        Some((size, rest)) if u64::from_str_radix(size.trim(), 16).is_ok() => {
            rest.rsplit_once("\r\n0\r\n").map_or(rest, |(b, _)| b)
        }
        _ => body,
    };
    (
        status,
        serde_json::from_str(body.trim()).unwrap_or(Value::Null),
    )
}

fn set_role(relay: &Relay, incident: &str, by: &str, invite: &str, role: &str) -> (u16, Value) {
    call(
        relay,
        "PATCH",
        &format!("/api/incidents/{incident}/invites/{invite}"),
        by,
        Some(json!({ "role": role })),
    )
}

fn token_of(invite: &Value) -> String {
    invite["token"].as_str().expect("token").to_owned()
}

fn id_of(invite: &Value) -> String {
    invite["invite"].as_str().expect("invite id").to_owned()
}

/// Opens the invite on its holder's device once (binding it), as the app does on joining.
fn open_on_device(relay: &Relay, incident: &str, token: &str) {
    let (status, me) = call(
        relay,
        "GET",
        &format!("/api/incidents/{incident}/me"),
        token,
        None,
    );
    assert_eq!(status, 200, "{me}");
}

#[tokio::test]
async fn an_invited_editor_made_owner_invites_and_revokes_and_the_revoked_hear_their_name() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let inc = "inc-coowner";
    let owner = relay.owner_token(inc);
    let bob = relay.invite(inc, "Bob Second", "editor");
    let bob_token = token_of(&bob);
    let carol = relay.invite(inc, "Carol", "viewer");
    let carol_token = token_of(&carol);

    // Not opened yet: an owner's link must stay on one device, so it waits for that.
    let (status, body) = set_role(&relay, inc, &owner, &id_of(&bob), "owner");
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("opened"), "{body}");

    // Bob, an editor, may not invite yet.
    let (status, _) = call(
        &relay,
        "POST",
        &format!("/api/incidents/{inc}/invites"),
        &bob_token,
        Some(json!({ "name": "Dave", "role": "viewer" })),
    );
    assert_eq!(status, 403);
    // Nor make himself owner.
    assert_eq!(
        set_role(&relay, inc, &bob_token, &id_of(&bob), "owner").0,
        403
    );

    open_on_device(&relay, inc, &bob_token);
    let mut bob_client = Client::connect_with(&relay, inc, Some(&bob_token)).await;
    bob_client.pump_until(|c| c.synced).await;
    let started = std::time::Instant::now();
    let (status, promoted) = set_role(&relay, inc, &owner, &id_of(&bob), "owner");
    assert_eq!(status, 200, "{promoted}");
    assert_eq!(promoted["role"], "owner");
    assert!(promoted.get("token").is_none(), "no secret in the answer");
    // His open connection is told its role changed, and comes back as an owner.
    let closed = bob_client.expect_closed().await;
    assert_eq!(closed.code, 4412, "{closed:?}");
    println!(
        "role change to the holder's connection closed: {:?}",
        started.elapsed()
    );
    let mut bob_client = Client::connect_with(&relay, inc, Some(&bob_token)).await;
    bob_client.pump_until(|c| c.synced).await;
    bob_client.type_text("bob writes as owner").await;

    // As an owner his link works only from his device: without its id, no owner call.
    let (status, _, _) = relay.request(
        "GET",
        &format!("/api/incidents/{inc}/invites"),
        Some(&bob_token),
        None,
    );
    assert_eq!(status, 428);

    // Bob now invites, lists and revokes.
    let (status, dave) = call(
        &relay,
        "POST",
        &format!("/api/incidents/{inc}/invites"),
        &bob_token,
        Some(json!({ "name": "Dave", "role": "editor" })),
    );
    assert_eq!(status, 201, "{dave}");
    let (status, list) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{inc}/invites"),
        &bob_token,
        None,
    );
    assert_eq!(status, 200);
    let names: Vec<&str> = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Owner", "Bob Second", "Carol", "Dave"]);

    let mut carol_client = Client::connect_with(&relay, inc, Some(&carol_token)).await;
    carol_client.pump_until(|c| c.synced).await;
    let (status, revoked) = call(
        &relay,
        "DELETE",
        &format!("/api/incidents/{inc}/invites/{}", id_of(&carol)),
        &bob_token,
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    let closed = carol_client.expect_closed().await;
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (4410, "invite revoked by Bob Second")
    );
    // Asking again (the app does, after the close) tells the name too.
    let (status, body) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{inc}/me"),
        &carol_token,
        None,
    );
    assert_eq!(status, 410);
    assert_eq!(body["error"], "invite revoked by Bob Second");
    // Kept by no browser: a cached refusal would answer the next link's call on this page.
    let (_, headers, _) = relay.request(
        "GET",
        &format!("/api/incidents/{inc}/me"),
        Some(&carol_token),
        None,
    );
    assert_eq!(
        headers.get("cache-control").map(String::as_str),
        Some("no-store")
    );
    let again = Client::connect_with(&relay, inc, Some(&carol_token))
        .await
        .expect_closed()
        .await;
    assert_eq!(again.code, 4410);
    assert_eq!(again.reason, "invite revoked by Bob Second");

    // A co-owner can be revoked by another owner; the creator's revocation of Bob names them.
    let (status, _) = call(
        &relay,
        "DELETE",
        &format!("/api/incidents/{inc}/invites/{}", id_of(&bob)),
        &owner,
        None,
    );
    assert_eq!(status, 200);
    let closed = bob_client.expect_closed().await;
    assert_eq!(closed.reason, "invite revoked by Owner");
}

#[tokio::test]
async fn a_demoted_editor_is_a_viewer_at_once_and_the_last_owner_stays() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let inc = "inc-demote";
    let owner = relay.owner_token(inc);
    let eve = relay.invite(inc, "Eve", "editor");
    let eve_token = token_of(&eve);
    let mut watcher = Client::connect_synced(&relay, inc).await;

    let mut eve_client = Client::connect_with(&relay, inc, Some(&eve_token)).await;
    eve_client.pump_until(|c| c.synced).await;
    eve_client.type_text("before ").await;
    watcher.pump_until(|c| c.summary() == "before ").await;

    let (status, body) = set_role(&relay, inc, &owner, &id_of(&eve), "viewer");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "viewer");
    assert_eq!(eve_client.expect_closed().await.code, 4412);
    // Back with the same link, as a viewer: her next write is refused and not applied.
    let mut eve_client = Client::connect_with(&relay, inc, Some(&eve_token)).await;
    eve_client.pump_until(|c| c.synced).await;
    eve_client.type_text("after").await;
    let closed = eve_client.expect_closed().await;
    assert_eq!(closed.code, 4405, "{closed:?}");
    watcher
        .pump_for(std::time::Duration::from_millis(300))
        .await;
    assert_eq!(watcher.summary(), "before ");
    let (_, me) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{inc}/me"),
        &eve_token,
        None,
    );
    assert_eq!(me["role"], "viewer");

    // The only owner cannot demote themselves; with a co-owner they can.
    let (status, body) = set_role(
        &relay,
        inc,
        &owner,
        &owner_invite(&relay, inc, &owner),
        "editor",
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("last owner"),
        "{body}"
    );
    open_on_device(&relay, inc, &eve_token);
    assert_eq!(set_role(&relay, inc, &owner, &id_of(&eve), "owner").0, 200);
    let (status, body) = set_role(
        &relay,
        inc,
        &eve_token,
        &owner_invite(&relay, inc, &owner),
        "editor",
    );
    assert_eq!(status, 200, "{body}");
    // Now Eve is the last owner: she cannot step down.
    let (status, _) = set_role(&relay, inc, &eve_token, &id_of(&eve), "viewer");
    assert_eq!(status, 409);
    // And the former owner, an editor now, changes nobody's role.
    assert_eq!(set_role(&relay, inc, &owner, &id_of(&eve), "viewer").0, 403);
}

fn owner_invite(relay: &Relay, incident: &str, owner: &str) -> String {
    let (status, me) = call(
        relay,
        "GET",
        &format!("/api/incidents/{incident}/me"),
        owner,
        None,
    );
    assert_eq!(status, 200, "{me}");
    me["invite"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn role_changes_refuse_bad_input_clearly_and_members_read_people_without_secrets() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let inc = "inc-people";
    let owner = relay.owner_token(inc);
    let vic = relay.invite(inc, "Vic", "viewer");
    let ed = relay.invite(inc, "Ed", "editor");
    let gone = relay.invite(inc, "Gone", "editor");
    assert_eq!(
        call(
            &relay,
            "DELETE",
            &format!("/api/incidents/{inc}/invites/{}", id_of(&gone)),
            &owner,
            None
        )
        .0,
        200
    );

    // A viewer or an editor changes no role.
    assert_eq!(
        set_role(&relay, inc, &token_of(&vic), &id_of(&ed), "viewer").0,
        403
    );
    assert_eq!(
        set_role(&relay, inc, &token_of(&ed), &id_of(&vic), "editor").0,
        403
    );
    // Unknown invite: a clear 404, the same for a malformed id.
    for invite in ["0123456789abcdef", "not-an-invite"] {
        let (status, body) = set_role(&relay, inc, &owner, invite, "viewer");
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"], "unknown invite");
    }
    let (status, body) = set_role(&relay, inc, &owner, &id_of(&ed), "admin");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("\"viewer\""),
        "{body}"
    );
    let (status, body) = set_role(&relay, inc, &owner, &id_of(&gone), "viewer");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    // Another incident's invite is unknown here.
    let other = relay.invite("inc-people-other", "Olga", "editor");
    assert_eq!(
        set_role(&relay, inc, &owner, &id_of(&other), "viewer").0,
        404
    );

    // Everyone who can open the incident, for any member: names, roles, ids; no secrets.
    for token in [owner.clone(), token_of(&vic), token_of(&ed)] {
        let (status, body) = call(
            &relay,
            "GET",
            &format!("/api/incidents/{inc}/people"),
            &token,
            None,
        );
        assert_eq!(status, 200, "{body}");
        let people = body["people"].as_array().unwrap();
        let shown: Vec<(&str, &str)> = people
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["role"].as_str().unwrap()))
            .collect();
        assert_eq!(
            shown,
            [("Owner", "owner"), ("Vic", "viewer"), ("Ed", "editor")]
        );
        for person in people {
            let keys: Vec<&String> = person.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["invite", "name", "role"]);
        }
    }
    // Without a token, or with a revoked one, nobody learns the names.
    let (status, _, _) = relay.request("GET", &format!("/api/incidents/{inc}/people"), None, None);
    assert_eq!(status, 401);
    let (status, _) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{inc}/people"),
        &token_of(&gone),
        None,
    );
    assert_eq!(status, 410);
    // An invite asks from its own device only.
    let (status, _, _) = relay.request(
        "GET",
        &format!("/api/incidents/{inc}/people"),
        Some(&token_of(&ed)),
        None,
    );
    assert_eq!(status, 428);
}
