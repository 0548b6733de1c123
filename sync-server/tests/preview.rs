//! The invite preview (issue 15, item 6) against the relay binary: `GET …/preview` tells the
//! person opening an invite link the incident's title, handling label, TLP level, their role
//! and who invited them, and nothing else; it is refused like every other token route, binds
//! the invite to the device that asks, and wrong secrets count against the invite's budget.

mod common;

use std::io::{Read, Write};

use common::{device_for, Client, Relay};
use incident::{Incident, ProseSection, Tlp};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use yrs::sync::{Message, SyncMessage};

/// What the document says beyond the preview's fields: never in a preview.
const SUMMARY: &str = "The attacker read the CFO's mailbox from 198.51.100.7";

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// `GET /api/incidents/{incident}/preview` with `token` as bearer, `device` as the device id
/// and `client` as the forwarded address: (status, body).
fn preview(
    relay: &Relay,
    incident: &str,
    token: &str,
    device: Option<&str>,
    client: Option<&str>,
) -> (u16, String) {
    let mut socket = std::net::TcpStream::connect(&relay.addr).expect("connect");
    socket
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("timeout");
    let device = device
        .map(|d| format!("{}: {d}\r\n", wire::DEVICE_HEADER))
        .unwrap_or_default();
    let forwarded = client
        .map(|c| format!("X-Forwarded-For: {c}\r\n"))
        .unwrap_or_default();
    write!(
        socket,
        "GET /api/incidents/{incident}/preview HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         {device}{forwarded}Connection: close\r\n\r\n",
        relay.addr
    )
    .expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).expect("read answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {body:?}"))
}

/// A wrong secret naming `token`'s invite.
fn wrong_for(token: &str, n: u32) -> String {
    format!("{}.{n:032x}", token.split('.').next().unwrap())
}

/// The owner writes a document with this title, handling label and TLP level, and it is on
/// the relay (the preview of the owner's token shows the title).
async fn write_incident(relay: &Relay, incident: &str, title: &str, label: &str, tlp: Tlp) {
    let doc = Incident::new();
    doc.set_title(title);
    doc.set_classification(label);
    doc.set_tlp(tlp);
    doc.edit_section(ProseSection::Summary, SUMMARY);
    let mut owner = Client::connect_synced(relay, incident).await;
    owner
        .send_message(Message::Sync(SyncMessage::Update(doc.encode_state())))
        .await;
    let token = relay.owner_token(incident);
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    loop {
        let (status, body) = preview(relay, incident, &token, None, None);
        if status == 200 && json(&body)["title"] == title {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the title never reached the relay: {status} {body}"
        );
        owner.pump_for(std::time::Duration::from_millis(50)).await;
    }
    owner.close().await;
}

#[tokio::test]
async fn the_preview_is_title_label_tlp_role_and_inviter_and_nothing_else() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-preview";
    let title = "Payroll phishing at ACME";
    write_incident(&relay, incident, title, "Confidential — HR", Tlp::Red).await;
    let dana = relay.invite(incident, "Dana", "viewer");
    let dana_token = dana["token"].as_str().unwrap();
    let erin = relay.invite(incident, "Erin", "editor");
    let erin_token = erin["token"].as_str().unwrap();

    let (status, body) = preview(
        &relay,
        incident,
        dana_token,
        Some(&device_for(dana_token)),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let shown = json(&body);
    let mut keys: Vec<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "classification",
            "drill",
            "invited_by",
            "role",
            "title",
            "tlp"
        ]
    );
    assert_eq!(shown["drill"], false);
    assert_eq!(shown["title"], title);
    assert_eq!(shown["classification"], "Confidential — HR");
    assert_eq!(shown["tlp"], "RED");
    assert_eq!(shown["role"], "viewer");
    // The test harness registers every incident with the owner's name "Owner".
    assert_eq!(shown["invited_by"], "Owner");
    assert!(
        !body.contains("CFO") && !body.contains("198.51.100.7"),
        "{body}"
    );
    assert!(
        !body.contains(dana_token.split('.').nth(1).unwrap()),
        "no secret echoed"
    );

    let (status, body) = preview(
        &relay,
        incident,
        erin_token,
        Some(&device_for(erin_token)),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["role"], "editor");

    // The owner's own token: no inviter.
    let owner = relay.owner_token(incident);
    let (status, body) = preview(&relay, incident, &owner, None, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["role"], "owner");
    assert_eq!(json(&body)["invited_by"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_incident_with_nothing_written_yet_previews_empty() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-empty-preview";
    let dana = relay.invite(incident, "Dana", "viewer");
    let token = dana["token"].as_str().unwrap();
    let (status, body) = preview(&relay, incident, token, Some(&device_for(token)), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["title"], "");
    assert_eq!(json(&body)["tlp"], "AMBER", "the model's default level");
}

#[tokio::test]
async fn refused_tokens_get_the_usual_answers() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start(&data, &dist);
    let incident = "inc-preview-refused";
    write_incident(&relay, incident, "Refusals", "", Tlp::Amber).await;
    let owner = relay.owner_token(incident);
    let dana = relay.invite(incident, "Dana", "viewer");
    let token = dana["token"].as_str().unwrap().to_owned();
    let device = device_for(&token);

    // Unknown: a wrong secret, an invite id that does not exist, a token of another incident.
    assert_eq!(
        preview(&relay, incident, &wrong_for(&token, 1), Some(&device), None).0,
        403
    );
    assert_eq!(
        preview(
            &relay,
            incident,
            &format!("0123456789abcdef.{:032x}", 9),
            Some(&device),
            None
        )
        .0,
        403
    );
    let other = relay.invite("inc-other", "Dana", "viewer");
    let other_token = other["token"].as_str().unwrap();
    assert_eq!(
        preview(
            &relay,
            incident,
            other_token,
            Some(&device_for(other_token)),
            None
        )
        .0,
        403
    );
    assert_eq!(preview(&relay, incident, "", Some(&device), None).0, 401);

    // An invite needs its device id; the first device to ask is the one it belongs to.
    let (status, body) = preview(&relay, incident, &token, None, None);
    assert_eq!(status, 428, "{body}");
    assert_eq!(
        preview(&relay, incident, &token, Some(&device), None).0,
        200
    );
    let (status, body) = preview(
        &relay,
        incident,
        &token,
        Some("another-device-0000000001"),
        None,
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        !body.contains("Refusals"),
        "another device learns nothing: {body}"
    );
    // The preview bound the invite: another device cannot sync with it either.
    let url = format!(
        "{}?token={token}&device=another-device-0000000001",
        relay.ws_url(incident)
    );
    let (mut thief, _) = Client::connect_request(url.into_client_request().unwrap()).await;
    assert_eq!(thief.expect_closed().await.code, 4409);
    let (_, _, list) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/invites"),
        Some(&owner),
        None,
    );
    let list = json(&list);
    let listed = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Dana")
        .unwrap()
        .clone();
    assert_eq!(listed["other_device_attempts"], 2, "{listed}");

    // Revoked: 410, and nothing of the incident.
    let invite = dana["invite"].as_str().unwrap();
    let (status, _, _) = relay.request(
        "DELETE",
        &format!("/api/incidents/{incident}/invites/{invite}"),
        Some(&owner),
        None,
    );
    assert_eq!(status, 200);
    let (status, body) = preview(&relay, incident, &token, Some(&device), None);
    assert_eq!(status, 410, "{body}");
    assert!(!body.contains("Refusals"), "{body}");

    // Expired: 410 too.
    let (status, quick) = relay.post_json(
        &format!("/api/incidents/{incident}/invites"),
        Some(&owner),
        r#"{"name":"Fay","role":"editor","expires_in_hours":0.0000003}"#,
    );
    assert_eq!(status, 201, "{quick}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let quick = quick["token"].as_str().unwrap();
    assert_eq!(
        preview(&relay, incident, quick, Some(&device_for(quick)), None).0,
        410
    );
}

#[tokio::test]
async fn wrong_secrets_on_the_preview_count_toward_the_invites_limit() {
    let (_tmp, data, dist) = dirs();
    let relay = Relay::start_with(
        &data,
        &dist,
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--max-failures-per-invite",
            "4",
        ],
    );
    let incident = "inc-preview-guessing";
    write_incident(&relay, incident, "Guessed at", "", Tlp::Green).await;
    let owner = relay.owner_token(incident);
    let dana = relay.invite(incident, "Dana", "viewer");
    let token = dana["token"].as_str().unwrap();
    let device = device_for(token);

    // Each wrong secret from its own address, so only the invite's budget is spent.
    let statuses: Vec<u16> = (0..6)
        .map(|n| {
            let client = format!("203.0.113.{}", n + 1);
            preview(
                &relay,
                incident,
                &wrong_for(token, n),
                Some(&device),
                Some(&client),
            )
            .0
        })
        .collect();
    assert_eq!(statuses, [403, 403, 403, 403, 429, 429]);
    // The same budget as every other route: `me` with a wrong secret is told to wait too.
    let (status, _, _) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/me"),
        Some(&wrong_for(token, 99)),
        None,
    );
    assert_eq!(status, 429);
    // The owner sees the attempts; the right secret is still let in.
    let (_, _, list) = relay.request(
        "GET",
        &format!("/api/incidents/{incident}/invites"),
        Some(&owner),
        None,
    );
    let list = json(&list);
    let listed = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Dana")
        .unwrap()
        .clone();
    assert!(listed["failed_attempts"].as_u64().unwrap() >= 6, "{listed}");
    let (status, body) = preview(&relay, incident, token, Some(&device), Some("198.51.100.1"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["title"], "Guessed at");
}
