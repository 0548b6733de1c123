//! Who wrote what, end to end against the relay binary and its SQLite file:
//! `GET …/history/attribution` names each invite for the entries and the text it wrote,
//! keeps a revoked person's name (also after a restart, when the answer is rebuilt from the
//! record), follows new edits, and tells viewers no (403).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{device_for, Client, Relay};
use incident::{Incident, ProseSection, TimelineEvent, TimelineField};
use serde_json::Value;
use yrs::sync::{Message, SyncMessage};

fn dirs() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

/// `GET …/history/attribution` as an invite (with its device id): (status, JSON body).
fn attribution(relay: &Relay, incident: &str, token: &str) -> (u16, Value) {
    let path = format!(
        "/api/incidents/{incident}/history/attribution?device={}",
        device_for(token)
    );
    let (status, _, body) = relay.request("GET", &path, Some(token), None);
    (status, serde_json::from_str(&body).expect("JSON body"))
}

/// Asks as `token` until `done` holds for the answer; panics after the common timeout.
async fn attribution_until(
    relay: &Relay,
    incident: &str,
    token: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    loop {
        let (status, body) = attribution(relay, incident, token);
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the attribution never got there: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn entry<'a>(answer: &'a Value, section: &str, id: &str) -> Option<&'a Value> {
    answer["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["section"] == section && e["id"] == id)
}

/// The summary's runs as (who, text).
fn summary_runs(answer: &Value) -> Vec<(String, String)> {
    answer["prose"]
        .as_array()
        .expect("prose")
        .iter()
        .find(|p| p["section"] == "summary")
        .map(|p| {
            p["runs"]
                .as_array()
                .expect("runs")
                .iter()
                .map(|r| {
                    (
                        r["by"].as_str().unwrap_or("?").to_owned(),
                        r["text"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One person's device: the model's incident, and a connection to the relay with their
/// invite. `send` carries what changed since the last send, as the app would.
struct Person {
    incident: Incident,
    client: Client,
    sent: Vec<u8>,
}

impl Person {
    async fn join(relay: &Relay, incident: &str, token: &str, client_id: u64) -> Person {
        let mut client = Client::connect_with(relay, incident, Some(token)).await;
        client.pump_until(|c| c.synced).await;
        let incident = Incident::with_client_id(client_id);
        let sent = incident.state_vector();
        Person {
            incident,
            client,
            sent,
        }
    }

    /// Sends this device's changes since the last send; returns them (for the others).
    async fn send(&mut self) -> Vec<u8> {
        let update = self.incident.encode_diff(&self.sent).expect("a diff");
        self.sent = self.incident.state_vector();
        self.client
            .send_message(Message::Sync(SyncMessage::Update(update.clone())))
            .await;
        update
    }

    fn receive(&mut self, update: &[u8]) {
        self.incident
            .apply_update(update, incident::UpdateOrigin::Relay)
            .expect("applies");
        self.sent = self.incident.state_vector();
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

fn event(what: &str) -> TimelineEvent {
    TimelineEvent {
        occurred_at: "2026-11-30T03:00:00Z".into(),
        what: what.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_invite_is_named_for_what_it_wrote_a_revoked_one_keeps_the_name_and_viewers_get_403() {
    let (_tmp, data, dist) = dirs();
    let incident = "attributed";
    let relay = Relay::start(&data, &dist);
    let ana = relay.invite(incident, "Ana", "editor");
    let ana_token = ana["token"].as_str().unwrap().to_owned();
    let ben_token = relay.invite(incident, "Ben", "editor")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let vera_token = relay.invite(incident, "Vera", "viewer")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = now_ms();

    let mut a = Person::join(&relay, incident, &ana_token, 11).await;
    let mut b = Person::join(&relay, incident, &ben_token, 22).await;

    // Ana writes the summary's first sentence and an event.
    a.incident
        .edit_section(ProseSection::Summary, "Payroll mail was phished. ");
    a.incident
        .add_timeline_event("ev-ana", &event("First report"));
    let from_ana = a.send().await;
    // Ben's device has it as the relay does: his edits below build on Ana's, and the relay
    // answers an update that comes before what it builds on with a sync request (which this
    // test's client does not answer), so Ana's must be stored first.
    attribution_until(&relay, incident, &ben_token, |a| {
        entry(a, "timeline", "ev-ana").is_some()
    })
    .await;
    b.receive(&from_ana);
    // Ben adds an event, a sentence, and corrects Ana's event.
    b.incident
        .add_timeline_event("ev-ben", &event("Mailbox locked"));
    b.incident.edit_section(
        ProseSection::Summary,
        "Payroll mail was phished. Two accounts are locked.",
    );
    assert!(b.incident.set_timeline_field(
        "ev-ana",
        TimelineField::What,
        "First report (helpdesk)"
    ));
    b.send().await;

    let answer = attribution_until(&relay, incident, &ben_token, |a| {
        entry(a, "timeline", "ev-ben").is_some()
            && entry(a, "timeline", "ev-ana").is_some_and(|e| e["changed"]["name"] == "Ben")
    })
    .await;
    let ev_ana = entry(&answer, "timeline", "ev-ana").unwrap();
    assert_eq!(ev_ana["created"]["name"], "Ana", "{answer}");
    assert_eq!(ev_ana["changed"]["name"], "Ben", "{answer}");
    assert!(ev_ana["deleted"].is_null());
    let created_at = ev_ana["created"]["received_at"].as_i64().unwrap();
    assert!(
        created_at >= started && created_at <= now_ms(),
        "the relay's receive time: {created_at}"
    );
    // Sent online by a stock client: no device time is claimed.
    assert!(ev_ana["created"]["written_at"].is_null(), "{answer}");
    let ev_ben = entry(&answer, "timeline", "ev-ben").unwrap();
    assert_eq!(ev_ben["created"]["name"], "Ben");
    assert_eq!(ev_ben["changed"]["name"], "Ben");
    assert_eq!(
        summary_runs(&answer),
        vec![
            ("Ana".to_owned(), "Payroll mail was phished. ".to_owned()),
            ("Ben".to_owned(), "Two accounts are locked.".to_owned()),
        ],
        "{answer}"
    );
    assert_eq!(answer["left_out"], 0);

    // Asked again with nothing new: the same answer. A new edit shows at once.
    let (status, again) = attribution(&relay, incident, &ana_token);
    assert_eq!(status, 200);
    assert_eq!(again, answer);
    b.incident.remove_entry::<TimelineEvent>("ev-ana");
    b.send().await;
    let answer = attribution_until(&relay, incident, &ana_token, |a| {
        entry(a, "timeline", "ev-ana").is_some_and(|e| !e["deleted"].is_null())
    })
    .await;
    assert_eq!(
        entry(&answer, "timeline", "ev-ana").unwrap()["deleted"]["name"],
        "Ben"
    );

    // Viewers see nothing of who wrote what, and are told why; a wrong token gets nothing.
    let (status, body) = attribution(&relay, incident, &vera_token);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("viewers"),
        "{body}"
    );
    let (status, _) = attribution(&relay, incident, "0123456789abcdef.00");
    assert!((400..500).contains(&status), "{status}");

    // Ana is revoked: her name stays on what she wrote, now and after a restart (which
    // rebuilds the answer from the record).
    let (status, _, _) = relay.request(
        "DELETE",
        &format!(
            "/api/incidents/{incident}/invites/{}",
            ana["invite"].as_str().unwrap()
        ),
        Some(&relay.owner_token(incident)),
        None,
    );
    assert_eq!(status, 200);
    let (status, after_revoke) = attribution(&relay, incident, &ben_token);
    assert_eq!(status, 200);
    assert_eq!(
        entry(&after_revoke, "timeline", "ev-ana").unwrap()["created"]["name"],
        "Ana"
    );
    // Revoked, Ana herself gets nothing.
    assert_eq!(attribution(&relay, incident, &ana_token).0, 410);
    a.client.close().await;
    b.client.close().await;
    assert_eq!(relay.terminate(), Some(0));

    let relay = Relay::start(&data, &dist);
    let (status, rebuilt) = attribution(&relay, incident, &ben_token);
    assert_eq!(status, 200, "{rebuilt}");
    assert_eq!(rebuilt, after_revoke, "the same answer from the record");
    assert_eq!(
        summary_runs(&rebuilt)[0],
        ("Ana".to_owned(), "Payroll mail was phished. ".to_owned())
    );
}

#[tokio::test]
async fn the_answer_lists_at_most_the_bound_most_recently_changed_first() {
    let (_tmp, data, dist) = dirs();
    let incident = "bounded";
    let relay = Relay::start_with(&data, &dist, &["--attribution-max-entries", "3"]);
    let token = relay.invite(incident, "Ana", "editor")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut a = Person::join(&relay, incident, &token, 33).await;
    for n in 0..5 {
        a.incident
            .add_timeline_event(&format!("ev-{n}"), &event(&format!("Event {n}")));
        a.send().await;
    }
    let answer = attribution_until(&relay, incident, &token, |a| {
        a["left_out"].as_u64().unwrap_or(0) > 0 && entry(a, "timeline", "ev-4").is_some()
    })
    .await;
    let ids: Vec<&str> = answer["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{answer}");
    assert_eq!(ids[0], "ev-4", "the newest first: {answer}");
    assert!(!ids.contains(&"ev-0"), "{answer}");
    // Five events and the incident's own fields (meta) are more than three.
    assert!(answer["left_out"].as_u64().unwrap() >= 2, "{answer}");
    a.client.close().await;
}

#[tokio::test]
async fn once_retention_dropped_the_start_the_answer_is_a_clear_410() {
    let (_tmp, data, dist) = dirs();
    let incident = "trimmed";
    let relay = Relay::start(&data, &dist);
    let token = relay.invite(incident, "Ana", "editor")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut a = Person::join(&relay, incident, &token, 44).await;
    a.incident.add_timeline_event("ev-old", &event("Old"));
    a.send().await;
    attribution_until(&relay, incident, &token, |a| {
        entry(a, "timeline", "ev-old").is_some()
    })
    .await;
    a.client.close().await;
    // The record ages past the limit below (3.5 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(relay.terminate(), Some(0));

    // 0.00004 days is 3.456 s; retention runs at start.
    let relay = Relay::start_with(&data, &dist, &["--record-retention-days", "0.00004"]);
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let body = loop {
        let (status, body) = attribution(&relay, incident, &token);
        if status == 410 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        assert!(std::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        body["error"].as_str().unwrap().contains("retention"),
        "{body}"
    );
}
