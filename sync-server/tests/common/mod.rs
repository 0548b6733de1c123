//! Test harness: starts the real `sync-server` binary on a free port and talks to it with a
//! websocket client that speaks the Yjs sync protocol through yrs.

#![allow(dead_code)]

pub mod raw_http;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream as AsyncTcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, Text, Transact, Update};

pub const TIMEOUT: Duration = Duration::from_secs(15);

/// A running relay process. Killed (SIGKILL) when dropped.
pub struct Relay {
    child: Child,
    pub addr: String,
    pub data: PathBuf,
    pub dist: PathBuf,
}

impl Relay {
    pub fn start(data: &Path, dist: &Path) -> Relay {
        Relay::start_with(data, dist, &[])
    }

    /// Starts the relay with extra command-line flags.
    pub fn start_with(data: &Path, dist: &Path, flags: &[&str]) -> Relay {
        Relay::spawn(data, dist, flags, "warn", Stdio::inherit())
    }

    /// Starts the relay logging everything (`RUST_LOG=debug`) into the file `log`.
    pub fn start_logging_to(data: &Path, dist: &Path, log: &Path) -> Relay {
        let file = std::fs::File::create(log).expect("create log file");
        Relay::spawn(data, dist, &[], "debug", Stdio::from(file))
    }

    /// Starts the relay with `flags`, logging at `level` (`RUST_LOG`) into the file `log`.
    pub fn start_logging_at(
        data: &Path,
        dist: &Path,
        flags: &[&str],
        level: &str,
        log: &Path,
    ) -> Relay {
        let file = std::fs::File::create(log).expect("create log file");
        Relay::spawn(data, dist, flags, level, Stdio::from(file))
    }

    fn spawn(data: &Path, dist: &Path, flags: &[&str], log_level: &str, stderr: Stdio) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--dist")
            .arg(dist)
            .args(flags)
            .env("RUST_LOG", log_level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("relay binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    if tx.send(addr.to_owned()).is_err() {
                        return;
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(TIMEOUT)
            .expect("relay prints `listening on http://ADDR`");
        Relay {
            child,
            addr,
            data: data.to_owned(),
            dist: dist.to_owned(),
        }
    }

    /// The relay's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of the relay's `/proc/PID/status` in kB (`VmRSS`, `VmHWM`: resident memory now
    /// and at its peak).
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill relay");
        self.child.wait().expect("reap relay");
    }

    /// SIGTERM and wait; returns the exit status code.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait relay") {
                return status.code();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "relay did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn ws_url(&self, incident: &str) -> String {
        format!("ws://{}/sync/{incident}", self.addr)
    }

    /// A plain HTTP/1.1 GET: (status, lower-cased headers, body).
    pub fn get(&self, path: &str) -> (u16, HashMap<String, String>, String) {
        self.request("GET", path, None, None)
    }

    /// A plain HTTP/1.1 request with an optional bearer token and JSON body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        json: Option<&str>,
    ) -> (u16, HashMap<String, String>, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(token) = bearer {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = json.unwrap_or("");
        if json.is_some() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .expect("send request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read response");
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").expect("complete response");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        // Responses without a length come chunked; the API's bodies are small single chunks.
        let body = if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, headers, body)
    }

    /// `POST` a JSON body; returns (status, parsed JSON body).
    pub fn post_json(
        &self,
        path: &str,
        bearer: Option<&str>,
        json: &str,
    ) -> (u16, serde_json::Value) {
        let (status, _, body) = self.request("POST", path, bearer, Some(json));
        (status, serde_json::from_str(&body).expect("JSON response"))
    }

    /// The owner token of `incident`, registering the incident on first use. Kept per data
    /// directory, so a restarted relay on the same data gets the same token.
    pub fn owner_token(&self, incident: &str) -> String {
        let key = (self.data.clone(), incident.to_owned());
        let mut tokens = OWNER_TOKENS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = tokens.get(&key) {
            return token.clone();
        }
        let (status, body) = self.post_json(
            "/api/incidents",
            None,
            &serde_json::json!({ "incident": incident, "name": "Owner" }).to_string(),
        );
        assert_eq!(status, 201, "incident registered: {body}");
        let token = body["token"].as_str().expect("owner token").to_owned();
        tokens.insert(key, token.clone());
        token
    }

    /// Invites `name` with `role` ("editor" or "viewer"); returns the invite's JSON (with
    /// its `token`).
    pub fn invite(&self, incident: &str, name: &str, role: &str) -> serde_json::Value {
        let owner = self.owner_token(incident);
        let (status, body) = self.post_json(
            &format!("/api/incidents/{incident}/invites"),
            Some(&owner),
            &serde_json::json!({ "name": name, "role": role }).to_string(),
        );
        assert_eq!(status, 201, "invite created: {body}");
        body
    }
}

static OWNER_TOKENS: std::sync::Mutex<BTreeMap<(PathBuf, String), String>> =
    std::sync::Mutex::new(BTreeMap::new());

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Err(error) = self.child.kill() {
                eprintln!("could not kill relay: {error}");
            }
            if let Err(error) = self.child.wait() {
                eprintln!("could not reap relay: {error}");
            }
        }
    }
}

/// Count rows in the relay's database (read-only; the relay may be running).
pub fn db_counts(data: &Path, incident: &str) -> (i64, i64) {
    let conn = rusqlite::Connection::open(data.join("firebreak.sqlite3")).expect("open db");
    let log: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM incident_update_log WHERE incident = ?1",
            [incident],
            |r| r.get(0),
        )
        .expect("count log");
    let snapshots: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM incident_snapshot WHERE incident = ?1",
            [incident],
            |r| r.get(0),
        )
        .expect("count snapshots");
    (log, snapshots)
}

type Socket = WebSocketStream<MaybeTlsStream<AsyncTcpStream>>;

/// Opens a websocket without Nagle's delay, as browsers do.
async fn open_socket(
    url: String,
) -> (
    Socket,
    tokio_tungstenite::tungstenite::handshake::client::Response,
) {
    tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .expect("websocket connects")
}

/// The device id the test clients holding `token` use: made of its invite id, never its secret.
pub fn device_for(token: &str) -> String {
    let invite: String = token
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("test-device-{invite}")
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// A Yjs client: a yrs document synced over one websocket, editing the text "summary".
pub struct Client {
    pub doc: Doc,
    socket: Socket,
    pub synced: bool,
    pub closed: Option<Closed>,
    /// Awareness states seen: client id → JSON ("null" once removed).
    pub awareness: HashMap<u64, String>,
    pub frames_received: usize,
}

impl Client {
    /// Connects as the incident's owner (registering the incident on first use) and sends
    /// SyncStep1, like y-websocket does on open.
    pub async fn connect(relay: &Relay, incident: &str) -> Client {
        let token = relay.owner_token(incident);
        Client::connect_with(relay, incident, Some(&token)).await
    }

    /// Connects with `token` in the query (or none) and sends SyncStep1. An invite is opened
    /// on one device (its id in `?device=`): one made of the token's invite id, so every
    /// client with the same token is the same device.
    pub async fn connect_with(relay: &Relay, incident: &str, token: Option<&str>) -> Client {
        let url = match token {
            Some(token) => format!(
                "{}?token={token}&device={}",
                relay.ws_url(incident),
                device_for(token)
            ),
            None => relay.ws_url(incident),
        };
        let (socket, _) = open_socket(url).await;
        let mut client = Client {
            doc: Doc::new(),
            socket,
            synced: false,
            closed: None,
            awareness: HashMap::new(),
            frames_received: 0,
        };
        let sv = client.doc.transact().state_vector();
        client
            .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await;
        client
    }

    /// Connects with a request of the caller's making (headers, subprotocols) and sends
    /// SyncStep1; also returns the relay's handshake answer.
    pub async fn connect_request(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> (
        Client,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ) {
        let (socket, response) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .expect("websocket connects");
        let mut client = Client {
            doc: Doc::new(),
            socket,
            synced: false,
            closed: None,
            awareness: HashMap::new(),
            frames_received: 0,
        };
        let sv = client.doc.transact().state_vector();
        client
            .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await;
        (client, response)
    }

    /// Connects and waits for the relay's SyncStep2 (the y-websocket "synced" event).
    pub async fn connect_synced(relay: &Relay, incident: &str) -> Client {
        let mut client = Client::connect(relay, incident).await;
        client.pump_until(|c| c.synced).await;
        client
    }

    pub async fn send_message(&mut self, message: Message) {
        self.send_raw(message.encode_v1()).await;
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        self.socket
            .send(WsMessage::Binary(bytes.into()))
            .await
            .expect("send frame");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(WsMessage::Text(text.into()))
            .await
            .expect("send text");
    }

    /// Appends `text` to the summary and sends the update.
    pub async fn type_text(&mut self, text: &str) {
        let update = self.append_locally(text);
        self.send_message(Message::Sync(SyncMessage::Update(update)))
            .await;
    }

    /// Appends `text` to the summary of the local document; returns the update.
    fn append_locally(&mut self, text: &str) -> Vec<u8> {
        let summary = self.doc.get_or_insert_text("summary");
        let mut txn = self.doc.transact_mut();
        let len = summary.len(&txn);
        summary.insert(&mut txn, len, text);
        txn.encode_update_v1()
    }

    pub async fn set_awareness(&mut self, clock: u32, json: &str) {
        let mut clients = HashMap::new();
        clients.insert(
            self.doc.client_id(),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        self.send_message(Message::Awareness(AwarenessUpdate { clients }))
            .await;
    }

    pub fn summary(&self) -> String {
        let summary = self.doc.get_or_insert_text("summary");
        summary.get_string(&self.doc.transact())
    }

    /// Reads and handles frames until `done` holds; panics after [`TIMEOUT`].
    pub async fn pump_until(&mut self, mut done: impl FnMut(&Client) -> bool) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while !done(self) {
            assert!(
                self.closed.is_none(),
                "connection closed while waiting: {:?}",
                self.closed
            );
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out; summary is {:?}, synced {}",
                        self.summary(),
                        self.synced
                    )
                });
            self.handle(next).await;
        }
    }

    /// Appends `text` to the summary and tries to send it; a dead connection is fine (the
    /// edit stays in the document and goes up on the next connect).
    pub async fn type_text_offline_ok(&mut self, text: &str) {
        let update = self.append_locally(text);
        if self.closed.is_none() {
            let frame = Message::Sync(SyncMessage::Update(update)).encode_v1();
            if self
                .socket
                .send(WsMessage::Binary(frame.into()))
                .await
                .is_err()
            {
                self.closed = Some(Closed {
                    code: 1006,
                    reason: "send failed".into(),
                });
            }
        }
    }

    /// Handles whatever arrives within `wait`, without failing on a closed connection.
    pub async fn pump_for(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while self.closed.is_none() {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(next) => self.handle(next).await,
                Err(_) => return,
            }
        }
    }

    /// Connects this client's document to `relay` again (after a relay restart), as the
    /// owner, and sends SyncStep1; the relay's SyncStep1 is answered with what it lacks.
    pub async fn reconnect(&mut self, relay: &Relay, incident: &str) {
        let token = relay.owner_token(incident);
        let url = format!("{}?token={token}", relay.ws_url(incident));
        let (socket, _) = open_socket(url).await;
        self.socket = socket;
        self.closed = None;
        self.synced = false;
        let sv = self.doc.transact().state_vector();
        self.send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await;
    }

    /// Reads and handles one websocket message (or the end of the stream).
    pub async fn pump_once(&mut self) {
        let next = self.socket.next().await;
        self.handle(next).await;
    }

    /// Waits for the relay to close this connection and returns its code and reason.
    pub async fn expect_closed(&mut self) -> Closed {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        while self.closed.is_none() {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("relay closes the connection in time");
            self.handle(next).await;
        }
        self.closed.clone().expect("closed")
    }

    async fn handle(
        &mut self,
        next: Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>,
    ) {
        match next {
            Some(Ok(WsMessage::Binary(bytes))) => {
                self.frames_received += 1;
                self.handle_frame(&bytes).await;
            }
            Some(Ok(WsMessage::Close(frame))) => {
                self.closed = Some(match frame {
                    Some(frame) => Closed {
                        code: u16::from(frame.code),
                        reason: frame.reason.to_string(),
                    },
                    None => Closed {
                        code: u16::from(CloseCode::Status),
                        reason: String::new(),
                    },
                });
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                self.closed = Some(Closed {
                    code: 1006,
                    reason: error.to_string(),
                })
            }
            None => {
                self.closed.get_or_insert(Closed {
                    code: 1006,
                    reason: "stream ended".into(),
                });
            }
        }
    }

    async fn handle_frame(&mut self, bytes: &[u8]) {
        let mut decoder = DecoderV1::from(bytes);
        let messages: Vec<Message> = MessageReader::new(&mut decoder)
            .collect::<Result<_, _>>()
            .expect("relay frames decode");
        for message in messages {
            match message {
                Message::Sync(SyncMessage::SyncStep1(sv)) => {
                    let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                    self.send_message(Message::Sync(SyncMessage::SyncStep2(diff)))
                        .await;
                }
                Message::Sync(SyncMessage::SyncStep2(update)) => {
                    self.apply(&update);
                    self.synced = true;
                }
                Message::Sync(SyncMessage::Update(update)) => self.apply(&update),
                Message::Awareness(update) => {
                    for (id, entry) in update.clients {
                        self.awareness.insert(id.get(), entry.json.to_string());
                    }
                }
                other => panic!("unexpected message from relay: {other:?}"),
            }
        }
    }

    fn apply(&mut self, update: &[u8]) {
        let update = Update::decode_v1(update).expect("relay update decodes");
        self.doc
            .transact_mut()
            .apply_update(update)
            .expect("relay update applies");
    }

    pub fn client_id(&self) -> ClientID {
        self.doc.client_id()
    }

    pub async fn close(mut self) {
        if let Err(error) = self.socket.close(None).await {
            eprintln!("close failed: {error}");
        }
        // Drain until the relay answers the close (or give up: the test goes on either way).
        let drained = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
        if drained.is_err() {
            eprintln!("relay did not answer the close in time");
        }
    }
}
