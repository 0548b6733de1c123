//! Teams on the relay binary (SQLite): one grant shares a playbook with everyone on a team.
//! A member syncs the playbook in their team role (a viewer's write is refused with 4405),
//! a member invited after the sharing gets in, revoking a member or unsharing the playbook
//! closes their live connection at once, a team token opens no incident, and bad input
//! (wrong tokens, someone else's playbook, an incident, over-long names) changes nothing.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Relay};
use incident::playbook::Playbook;
use serde_json::{json, Value};
use yrs::sync::{Message, SyncMessage};

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// A request with a JSON body (or none): (status, parsed body, `null` for none).
fn call(
    relay: &Relay,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let text = body.map(|b| b.to_string());
    let (status, _, answer) = relay.request(method, path, bearer, text.as_deref());
    let parsed = serde_json::from_str(&answer).unwrap_or(Value::Null);
    (status, parsed)
}

/// Puts a playbook named `name` on the relay under `id` as its owner's first state.
async fn publish_playbook(relay: &Relay, id: &str, name: &str) -> (Client, Playbook) {
    let playbook = Playbook::adopt(id, "starter-phishing").expect("a starter");
    playbook.set_name(name);
    let mut owner = Client::connect_synced(relay, id).await;
    {
        use yrs::updates::decoder::Decode;
        use yrs::Transact;
        let state = yrs::Update::decode_v1(&playbook.encode_state()).expect("a state");
        owner
            .doc
            .transact_mut()
            .apply_update(state)
            .expect("the owner's copy");
    }
    owner
        .send_message(Message::Sync(SyncMessage::Update(playbook.encode_state())))
        .await;
    // Stored once the relay answers a fresh SyncStep1 with it.
    let mut check = Client::connect_synced(relay, id).await;
    let deadline = Instant::now() + common::TIMEOUT;
    while playbook_name_of(&check) != name {
        assert!(
            Instant::now() < deadline,
            "the playbook never reached the relay"
        );
        owner.pump_for(Duration::from_millis(50)).await;
        check.close().await;
        check = Client::connect_synced(relay, id).await;
    }
    check.close().await;
    (owner, playbook)
}

fn playbook_name_of(client: &Client) -> String {
    use yrs::{Map, Transact};
    let meta = client.doc.get_or_insert_map("meta");
    let txn = client.doc.transact();
    meta.get(&txn, "name")
        .map(|v| v.to_string(&txn))
        .unwrap_or_default()
}

fn create_team(relay: &Relay, name: &str) -> Value {
    let (status, body) = call(
        relay,
        "POST",
        "/api/teams",
        None,
        Some(json!({ "name": name, "owner_name": "Alice" })),
    );
    assert_eq!(status, 201, "team created: {body}");
    body
}

fn add_member(relay: &Relay, team: &str, owner: &str, name: &str, role: &str) -> Value {
    let (status, body) = call(
        relay,
        "POST",
        &format!("/api/teams/{team}/members"),
        Some(owner),
        Some(json!({ "name": name, "role": role })),
    );
    assert_eq!(status, 201, "member added: {body}");
    body
}

fn s(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

#[tokio::test]
async fn a_team_shares_a_playbook_with_every_member_in_their_team_role() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let id = "pb-team-phishing";
    let (mut owner, _) = publish_playbook(&relay, id, "Phishing (ours)").await;
    let playbook_owner = relay.owner_token(id);

    let team = create_team(&relay, "IR team");
    assert_eq!(team["role"], "owner");
    assert_eq!(team["team_name"], "IR team");
    let (team_id, team_owner) = (s(&team["team"]), s(&team["token"]));
    let erin = add_member(&relay, &team_id, &team_owner, "Erin", "editor");
    let vic = add_member(&relay, &team_id, &team_owner, "Vic", "viewer");
    assert!(
        s(&erin["link"]).ends_with(&format!("/team/{team_id}#invite={}", s(&erin["token"]))),
        "{erin}"
    );
    let (erin_token, vic_token) = (s(&erin["token"]), s(&vic["token"]));

    // Before sharing, a member's token opens nothing of the playbook.
    let mut early = Client::connect_with(&relay, id, Some(&erin_token)).await;
    let closed = early.expect_closed().await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    assert!(
        closed.reason.contains("not shared with your team"),
        "{closed:?}"
    );
    let (status, view) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&erin_token),
        None,
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["playbooks"], json!([]));
    assert_eq!(view["role"], "editor");
    assert_eq!(view["name"], "IR team");

    // The playbook's owner shares it, showing a token of the team.
    let (status, shared) = call(
        &relay,
        "POST",
        &format!("/api/incidents/{id}/teams"),
        Some(&playbook_owner),
        Some(json!({ "team": team_id, "team_token": team_owner })),
    );
    assert_eq!(status, 201, "{shared}");
    assert_eq!(shared["playbook_name"], "Phishing (ours)");
    assert_eq!(shared["team_name"], "IR team");
    let (status, view) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&vic_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(view["playbooks"][0]["playbook"], id);
    assert_eq!(view["playbooks"][0]["playbook_name"], "Phishing (ours)");
    let (status, shares) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/teams"),
        Some(&playbook_owner),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(shares["shares"][0]["team"], team_id.as_str());

    // The editor member syncs the playbook and edits it live, as an editor.
    let mut erin_doc = Client::connect_with(&relay, id, Some(&erin_token)).await;
    erin_doc.pump_until(|c| c.synced).await;
    assert_eq!(playbook_name_of(&erin_doc), "Phishing (ours)");
    let (status, me) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/me"),
        Some(&erin_token),
        None,
    );
    assert_eq!((status, &me["role"]), (200, &json!("editor")), "{me}");
    erin_doc.type_text(" -- checked by Erin").await;
    owner
        .pump_until(|c| c.summary().contains("checked by Erin"))
        .await;
    // The record names her, as it names an invited person.
    let (status, history) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/history"),
        Some(&playbook_owner),
        None,
    );
    assert_eq!(status, 200, "{history}");
    let by_erin = history["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["invite"] == erin["invite"])
        .collect::<Vec<_>>();
    assert!(!by_erin.is_empty(), "{history}");
    assert!(by_erin.iter().all(|r| r["name"] == "Erin"), "{history}");

    // The team's owner opens it as an editor too, never as the playbook's owner.
    let (status, me) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/me"),
        Some(&team_owner),
        None,
    );
    assert_eq!((status, &me["role"]), (200, &json!("editor")), "{me}");
    let (status, _) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/invites"),
        Some(&team_owner),
        None,
    );
    assert_eq!(
        status, 403,
        "a team member manages no invites of the playbook"
    );

    // The viewer member reads it, and a write is refused with 4405 and not applied.
    let mut vic_doc = Client::connect_with(&relay, id, Some(&vic_token)).await;
    vic_doc.pump_until(|c| c.synced).await;
    assert!(vic_doc.summary().contains("checked by Erin"));
    vic_doc.type_text(" -- viewer was here").await;
    let closed = vic_doc.expect_closed().await;
    assert_eq!(closed.code, 4405, "{closed:?}");
    owner.pump_for(Duration::from_millis(300)).await;
    assert!(!owner.summary().contains("viewer was here"));

    // A member invited after the sharing gets in.
    let late = add_member(&relay, &team_id, &team_owner, "Lou", "editor");
    let mut lou_doc = Client::connect_with(&relay, id, Some(&s(&late["token"]))).await;
    lou_doc.pump_until(|c| c.synced).await;
    assert!(lou_doc.summary().contains("checked by Erin"));

    // Revoking Erin closes her live connection at once, with who did it; then 410.
    let revoked_at = Instant::now();
    let (status, revoked) = call(
        &relay,
        "DELETE",
        &format!("/api/teams/{team_id}/members/{}", s(&erin["invite"])),
        Some(&team_owner),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    let closed = erin_doc.expect_closed().await;
    let took = revoked_at.elapsed();
    println!(
        "revoked team member's connection closed {} ms after the revocation was asked",
        took.as_millis()
    );
    assert_eq!(closed.code, 4410, "{closed:?}");
    assert!(closed.reason.contains("revoked by Alice"), "{closed:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (status, body) = call(
        &relay,
        "GET",
        &format!("/api/incidents/{id}/me"),
        Some(&erin_token),
        None,
    );
    assert_eq!(status, 410, "{body}");
    let mut again = Client::connect_with(&relay, id, Some(&erin_token)).await;
    assert_eq!(again.expect_closed().await.code, 4410);
    let (status, _) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&erin_token),
        None,
    );
    assert_eq!(status, 410);

    // Unsharing closes the other members' connections to it, and lets them in no more.
    let unshared_at = Instant::now();
    let (status, _) = call(
        &relay,
        "DELETE",
        &format!("/api/incidents/{id}/teams/{team_id}"),
        Some(&playbook_owner),
        None,
    );
    assert_eq!(status, 204);
    let closed = lou_doc.expect_closed().await;
    println!(
        "team member's connection closed {} ms after the unsharing was asked",
        unshared_at.elapsed().as_millis()
    );
    assert_eq!(closed.code, 4410, "{closed:?}");
    assert!(closed.reason.contains("unshared by Owner"), "{closed:?}");
    let mut after = Client::connect_with(&relay, id, Some(&s(&late["token"]))).await;
    assert_eq!(after.expect_closed().await.code, 4403);
    let (status, view) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&vic_token),
        None,
    );
    assert_eq!((status, view["playbooks"].clone()), (200, json!([])));
    // The owner's own connection stayed.
    owner.type_text(" -- still mine").await;
    owner.pump_for(Duration::from_millis(100)).await;
    assert!(owner.closed.is_none(), "{:?}", owner.closed);
    owner.close().await;
}

#[tokio::test]
async fn team_tokens_open_no_incident_and_bad_input_changes_nothing() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let playbook = "pb-team-ransomware";
    let (owner, _) = publish_playbook(&relay, playbook, "Ransomware (ours)").await;
    let playbook_owner = relay.owner_token(playbook);
    let incident = "inc-team-real";
    let mut incident_owner = Client::connect_synced(&relay, incident).await;
    incident_owner.type_text("a real incident").await;
    incident_owner.pump_for(Duration::from_millis(200)).await;
    let incident_token = relay.owner_token(incident);

    let team = create_team(&relay, "IR team");
    let (team_id, team_owner) = (s(&team["team"]), s(&team["token"]));
    let member = add_member(&relay, &team_id, &team_owner, "Erin", "editor");
    let viewer = add_member(&relay, &team_id, &team_owner, "Vic", "viewer");
    let member_token = s(&member["token"]);
    let share = |bearer: &str, id: &str, team: &str, team_token: &str| {
        call(
            &relay,
            "POST",
            &format!("/api/incidents/{id}/teams"),
            Some(bearer),
            Some(json!({ "team": team, "team_token": team_token })),
        )
    };

    // An incident is not shared with a team: refused, and said why.
    let (status, body) = share(&incident_token, incident, &team_id, &team_owner);
    assert_eq!(status, 400, "{body}");
    assert!(
        s(&body["error"]).contains("teams are for playbooks only"),
        "{body}"
    );
    // A team token opens no incident, and the team itself is no document.
    for id in [incident, team_id.as_str()] {
        for token in [&team_owner, &member_token] {
            let mut tried = Client::connect_with(&relay, id, Some(token)).await;
            let closed = tried.expect_closed().await;
            assert_eq!(closed.code, 4403, "{id}: {closed:?}");
            let (status, _) = call(
                &relay,
                "GET",
                &format!("/api/incidents/{id}/me"),
                Some(token),
                None,
            );
            assert_eq!(status, 403, "{id}");
        }
    }
    let (status, _) = call(
        &relay,
        "GET",
        &format!("/api/teams/{incident}"),
        Some(&incident_token),
        None,
    );
    assert_eq!(status, 404, "an incident is no team");

    // Someone else's playbook, a wrong team token, a viewer's token: refused.
    let (status, body) = share(&member_token, playbook, &team_id, &team_owner);
    assert_eq!(status, 403, "a team member cannot share a playbook: {body}");
    let wrong = format!("{}.{}", s(&team["invite"]), "0".repeat(32));
    let (status, body) = share(&playbook_owner, playbook, &team_id, &wrong);
    assert_eq!(status, 403, "{body}");
    let (status, body) = share(&playbook_owner, playbook, &team_id, &s(&viewer["token"]));
    assert_eq!(status, 403, "{body}");
    assert!(s(&body["error"]).contains("viewers cannot share"), "{body}");
    let other = create_team(&relay, "Other team");
    let (status, body) = share(&playbook_owner, playbook, &team_id, &s(&other["token"]));
    assert_eq!(status, 403, "another team's token: {body}");
    let (status, body) = share(&playbook_owner, playbook, "no-such-team", &team_owner);
    assert_eq!(status, 403, "{body}");
    let (status, view) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&team_owner),
        None,
    );
    assert_eq!(
        (status, view["playbooks"].clone()),
        (200, json!([])),
        "nothing was shared"
    );

    // Over-long and empty names, members added by a member: refused, nothing made.
    let (status, body) = call(
        &relay,
        "POST",
        "/api/teams",
        None,
        Some(json!({ "name": "x".repeat(81) })),
    );
    assert_eq!(status, 400, "{body}");
    assert!(s(&body["error"]).contains("at most 80"), "{body}");
    let (status, _) = call(
        &relay,
        "POST",
        "/api/teams",
        None,
        Some(json!({ "name": "  " })),
    );
    assert_eq!(status, 400);
    let (status, body) = call(
        &relay,
        "POST",
        &format!("/api/teams/{team_id}/members"),
        Some(&team_owner),
        Some(json!({ "name": "y".repeat(81), "role": "editor" })),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(
        &relay,
        "POST",
        &format!("/api/teams/{team_id}/members"),
        Some(&member_token),
        Some(json!({ "name": "Mallory", "role": "editor" })),
    );
    assert_eq!(status, 403, "{body}");
    assert!(s(&body["error"]).contains("team's owner"), "{body}");
    let (status, body) = call(
        &relay,
        "POST",
        &format!("/api/teams/{team_id}/members"),
        Some(&team_owner),
        Some(json!({ "name": "Oscar", "role": "owner" })),
    );
    assert_eq!(status, 400, "{body}");
    let (status, members) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}/members"),
        Some(&team_owner),
        None,
    );
    assert_eq!(status, 200);
    let names: Vec<&str> = members["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice", "Erin", "Vic"]);
    // A wrong secret for the team is refused like any token.
    let (status, _) = call(
        &relay,
        "GET",
        &format!("/api/teams/{team_id}"),
        Some(&wrong),
        None,
    );
    assert_eq!(status, 403);

    // Shared for real, a team member still opens no incident, and the incident's owner
    // can only ever share playbooks.
    let (status, body) = share(&playbook_owner, playbook, &team_id, &member_token);
    assert_eq!(
        status, 201,
        "an editor member may share with the team: {body}"
    );
    let mut tried = Client::connect_with(&relay, incident, Some(&member_token)).await;
    assert_eq!(tried.expect_closed().await.code, 4403);
    let mut opened = Client::connect_with(&relay, playbook, Some(&member_token)).await;
    opened.pump_until(|c| c.synced).await;
    opened.close().await;
    owner.close().await;
    incident_owner.close().await;
}
