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
