//! HTTP/1.1 by hand, for tests that must behave as an attacker's client would (stall, send
//! a head and nothing more, never read): reading what the relay sends until it closes, and
//! splitting it into status, headers and body. Also the names attachments are filed under.

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// A status, lower-cased headers and the body's bytes.
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Everything the relay sends until it closes the connection. A reset after some bytes (the
/// relay closing before it read all that was sent) ends the answer; one before any byte
/// when `reset_is_end` is false fails the test.
pub fn read_all(stream: &mut TcpStream, reset_is_end: bool) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionReset
                    && (reset_is_end || !raw.is_empty()) =>
            {
                break
            }
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
    raw
}

/// A whole answer as read by [`read_all`].
pub fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The lower-case hex SHA-256 an attachment is named by.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where an incident's attachment named `hash` is uploaded and downloaded.
pub fn blob_path(incident: &str, hash: &str) -> String {
    format!("/api/incidents/{incident}/blobs/{hash}")
}

/// A connection to `addr` with a small receive buffer (so the kernel cannot take a file off
/// the relay's hands for a client that does not read) and a 60 s read timeout.
pub fn reluctant_reader(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    let small: libc::c_int = 256 * 1024;
    // SAFETY: a valid socket and a c_int option value of the size given.
    let set = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            std::ptr::addr_of!(small).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_RCVBUF");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    stream
}
