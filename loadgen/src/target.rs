//! The server under load: where each room's websocket is, how messages are framed, and (for
//! Firebreak, which is invite-only) how a room is created and which token opens it.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::{Framing, Wire};

/// A server to load, as given on the command line.
#[derive(Clone, Debug)]
pub struct Target {
    /// `ws://HOST:PORT/PATH`; the room is appended as `/ROOM`, or replaces `{room}`.
    pub url: String,
    /// More websocket base addresses of the same service (other relays of one cluster):
    /// clients are spread over `url` and these in turn, one client to the next.
    pub also_urls: Vec<String>,
    pub framing: Framing,
    /// Firebreak's HTTP address: rooms are created with `POST /api/incidents` first.
    pub firebreak_api: Option<String>,
    /// y-sweet's HTTP address: rooms are created with `POST /doc/new` first, as its SDK does
    /// (y-sweet 0.9 creates a document on first connect too, but two clients connecting at
    /// once to a new document can each get their own copy, never to meet).
    pub ysweet_api: Option<String>,
}

/// One room (document) on the server, ready to be joined.
#[derive(Clone, Debug)]
pub struct Room {
    pub name: String,
    /// The websocket address, token included.
    pub url: String,
    /// The same room's address at each of `Target::also_urls`, token included.
    pub also_urls: Vec<String>,
    /// The token Hocuspocus's auth message carries (Firebreak's token goes in the URL).
    pub token: String,
}

impl Room {
    pub fn wire(&self, framing: Framing) -> Wire {
        Wire::new(framing, &self.name)
    }

    /// The room as the `n`th client joins it: at the `n`th address, in turn.
    pub fn for_client(&self, n: usize) -> Room {
        let mut room = self.clone();
        let slot = n % (1 + self.also_urls.len());
        if slot > 0 {
            room.url = self.also_urls[slot - 1].clone();
        }
        room
    }
}

impl Target {
    /// Makes the room ready to join: creates it first where the server needs that.
    pub async fn room(&self, name: &str) -> Result<Room> {
        let at = |base: &str| {
            if base.contains("{room}") {
                base.replace("{room}", name)
            } else {
                format!("{}/{name}", base.trim_end_matches('/'))
            }
        };
        let mut url = at(&self.url);
        let mut also_urls: Vec<String> = self.also_urls.iter().map(|u| at(u)).collect();
        let token = match &self.firebreak_api {
            Some(api) => {
                let token = create_firebreak_incident(api, name).await?;
                for url in std::iter::once(&mut url).chain(also_urls.iter_mut()) {
                    let sep = if url.contains('?') { '&' } else { '?' };
                    *url = format!("{url}{sep}token={token}");
                }
                token
            }
            None => "loadgen".to_owned(),
        };
        if let Some(api) = &self.ysweet_api {
            create_ysweet_doc(api, name).await?;
        }
        Ok(Room {
            name: name.to_owned(),
            url,
            also_urls,
            token,
        })
    }
}

/// `POST /api/incidents {"incident": NAME}` → the owner's token.
async fn create_firebreak_incident(api: &str, incident: &str) -> Result<String> {
    let body = serde_json::json!({ "incident": incident, "name": "loadgen" }).to_string();
    let (status, answer) = http_post(api, "/api/incidents", &body)
        .await
        .with_context(|| format!("creating incident {incident} at {api}"))?;
    if status != 201 {
        bail!("creating incident {incident}: HTTP {status}: {answer}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&answer).with_context(|| format!("answer {answer:?}"))?;
    json["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no token in {answer}"))
}

/// `POST /doc/new {"docId": NAME}` (y-sweet without `--auth`).
async fn create_ysweet_doc(api: &str, doc: &str) -> Result<()> {
    let body = serde_json::json!({ "docId": doc }).to_string();
    let (status, answer) = http_post(api, "/doc/new", &body)
        .await
        .with_context(|| format!("creating document {doc} at {api}"))?;
    if status != 200 {
        bail!("creating document {doc}: HTTP {status}: {answer}");
    }
    Ok(())
}

/// A minimal HTTP/1.1 POST of JSON over plain TCP (loopback only): status and body.
async fn http_post(base: &str, path: &str, body: &str) -> Result<(u16, String)> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("the API address must be http://HOST:PORT, not {base}"))?
        .trim_end_matches('/');
    let exchange = async {
        let mut stream = TcpStream::connect(host).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map_err(|_| anyhow!("no answer within 30 s"))??;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("truncated HTTP answer"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line in {head:?}"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body
            .split_once("\r\n")
            .ok_or_else(|| anyhow!("bad chunk"))?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or_else(|| anyhow!("short chunk"))?);
        body = rest.get(size + 2..).unwrap_or("");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn room_url_appends_or_substitutes() {
        let plain = Target {
            url: "ws://127.0.0.1:1/sync/".into(),
            also_urls: Vec::new(),
            framing: Framing::Plain,
            firebreak_api: None,
            ysweet_api: None,
        };
        assert_eq!(
            plain.room("r1").await.unwrap().url,
            "ws://127.0.0.1:1/sync/r1"
        );
        let sweet = Target {
            url: "ws://127.0.0.1:1/d/{room}/ws/{room}".into(),
            also_urls: Vec::new(),
            ..plain
        };
        assert_eq!(
            sweet.room("r").await.unwrap().url,
            "ws://127.0.0.1:1/d/r/ws/r"
        );
    }

    #[tokio::test]
    async fn clients_take_each_address_in_turn() {
        let cluster = Target {
            url: "ws://127.0.0.1:1/sync".into(),
            also_urls: vec![
                "ws://127.0.0.1:2/sync".into(),
                "ws://127.0.0.1:3/sync".into(),
            ],
            framing: Framing::Plain,
            firebreak_api: None,
            ysweet_api: None,
        };
        let room = cluster.room("r").await.unwrap();
        let urls: Vec<String> = (0..5).map(|n| room.for_client(n).url).collect();
        assert_eq!(
            urls,
            [
                "ws://127.0.0.1:1/sync/r",
                "ws://127.0.0.1:2/sync/r",
                "ws://127.0.0.1:3/sync/r",
                "ws://127.0.0.1:1/sync/r",
                "ws://127.0.0.1:2/sync/r",
            ]
        );
    }

    #[test]
    fn parses_plain_and_chunked_answers() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain).unwrap(), (201, "{}".into()));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (200, "abcde".into()));
    }
}
