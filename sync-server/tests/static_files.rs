//! The built app as the relay serves it: `sync-server precompress` writes brotli and gzip
//! copies, the real relay binary picks one by `Accept-Encoding` over real HTTP, and every
//! body is decoded with real decoders and compared with the file itself. Cache headers,
//! ETag revalidation, ranges, HEAD, and copies that are missing, stale or damaged.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use common::{Relay, TIMEOUT};

const WASM: &str = "app-0123456789abcdef_bg.wasm";
const JS: &str = "app-0123456789abcdef.js";
const CSS: &str = "style-fedcba9876543210.css";

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The body decoded as its `Content-Encoding` says, with the real decoders.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            None => out.clone_from(&self.body),
            Some("br") => {
                brotli::Decompressor::new(&self.body[..], 4096)
                    .read_to_end(&mut out)
                    .expect("a valid brotli stream");
            }
            Some("gzip") => {
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .expect("a valid gzip stream");
            }
            Some(other) => panic!("unexpected content-encoding {other}"),
        }
        out
    }
}

/// One HTTP/1.1 request with extra headers; the body as bytes.
fn fetch(relay: &Relay, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect(&relay.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        relay.addr
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
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
    assert!(
        !headers.contains_key("transfer-encoding"),
        "static files are sent with a length: {headers:?}"
    );
    if method != "HEAD" && status != 304 {
        let length: usize = headers["content-length"].parse().expect("content-length");
        assert_eq!(body.len(), length, "{path}: the whole body arrived");
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn get(relay: &Relay, path: &str, accept_encoding: Option<&str>) -> Answer {
    match accept_encoding {
        Some(ae) => fetch(relay, "GET", path, &[("Accept-Encoding", ae)]),
        None => fetch(relay, "GET", path, &[]),
    }
}

/// Bytes that compress the way a real wasm file does: repetitive, with some noise.
fn wasm_like(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        if state.is_multiple_of(4) {
            out.push((state >> 8) as u8);
        } else {
            out.extend_from_slice(b"\x20\x00\x41\x01\x6a\x21\x01");
        }
    }
    out.truncate(len);
    out
}

fn index_html() -> String {
    format!(
        "<!DOCTYPE html><html><head><title>Firebreak</title>\
         <script type=\"module\" id=\"firebreak-boot\" src=\"/boot.js\" data-js=\"/{JS}\" \
         data-wasm=\"/{WASM}\"></script><link rel=\"stylesheet\" href=\"/{CSS}\"></head>\
         <body>{}</body></html>",
        "<p>Firebreak: a shared, offline-capable security incident document.</p>".repeat(20)
    )
}

/// A dist like trunk's, in `dist`: hashed wasm/js/css, the page, sw.js, manifest, an icon.
fn write_dist(dist: &Path) -> HashMap<&'static str, Vec<u8>> {
    std::fs::create_dir_all(dist).unwrap();
    let files: HashMap<&'static str, Vec<u8>> = [
        ("index.html", index_html().into_bytes()),
        (WASM, wasm_like(300_000)),
        (
            JS,
            "export function start(){console.log('firebreak');}\n"
                .repeat(400)
                .into_bytes(),
        ),
        (
            CSS,
            "body { margin: 0; color: #1f2933; }\n"
                .repeat(200)
                .into_bytes(),
        ),
        (
            "sw.js",
            "self.addEventListener('fetch', () => {});\n"
                .repeat(30)
                .into_bytes(),
        ),
        (
            "manifest.webmanifest",
            format!(
                "{{\"name\":\"Firebreak\",\"icons\":[{}]}}",
                "{\"src\":\"/icon-192.png\",\"sizes\":\"192x192\"},".repeat(10)
            )
            .into_bytes(),
        ),
        // PNG bytes are compressed already: no copies for them.
        ("icon-192.png", wasm_like(4_000)),
    ]
    .into_iter()
    .collect();
    for (name, bytes) in &files {
        std::fs::write(dist.join(name), bytes).unwrap();
    }
    files
}

fn precompress(dist: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("precompress")
        .arg(dist)
        .output()
        .expect("run sync-server precompress");
    assert!(
        out.status.success(),
        "precompress failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let dist = tmp.path().join("dist");
    (tmp, data, dist)
}

#[test]
fn precompress_writes_brotli_and_gzip_copies_that_decode_to_the_files() {
    let (_tmp, _data, dist) = dirs();
    let files = write_dist(&dist);
    // trunk's staging directory while it builds is not the app's.
    std::fs::create_dir_all(dist.join(".stage")).unwrap();
    std::fs::write(dist.join(".stage/index.html"), index_html()).unwrap();
    let table = precompress(&dist);
    assert!(!dist.join(".stage/index.html.br").exists());
    for name in ["index.html", WASM, JS, CSS, "sw.js", "manifest.webmanifest"] {
        let original = &files[name];
        let br = std::fs::read(dist.join(format!("{name}.br"))).expect(name);
        let gz = std::fs::read(dist.join(format!("{name}.gz"))).expect(name);
        assert!(
            br.len() < original.len() && gz.len() < original.len(),
            "{name}"
        );
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(&decoded, original, "{name}.br");
        decoded.clear();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(&decoded, original, "{name}.gz");
        assert!(table.contains(name), "{table}");
    }
    assert!(!dist.join("icon-192.png.br").exists());
    assert!(!dist.join("icon-192.png.gz").exists());

    // A copy whose file is gone (an older build's) is removed; a second run is harmless.
    std::fs::write(dist.join("app-1111111111111111_bg.wasm.br"), b"old").unwrap();
    precompress(&dist);
    assert!(!dist.join("app-1111111111111111_bg.wasm.br").exists());
    assert!(dist.join(format!("{WASM}.br")).exists());

    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .arg("precompress")
        .arg(dist.join("nowhere"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_file_is_served_in_the_encoding_the_browser_prefers() {
    let (_tmp, data, dist) = dirs();
    let files = write_dist(&dist);
    precompress(&dist);
    let relay = Relay::start(&data, &dist);
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("br"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("br;q=0, gzip"), Some("gzip")),
        (Some("gzip;q=1, br;q=0.5"), Some("gzip")),
        (Some("br;q=0, gzip;q=0"), None),
        (Some("identity"), None),
        (Some("deflate"), None),
        (Some("*"), Some("br")),
        (None, None),
    ];
    for name in ["index.html", WASM, JS, CSS, "sw.js", "manifest.webmanifest"] {
        for &(accept, expected) in cases {
            let answer = get(&relay, &format!("/{name}"), accept);
            assert_eq!(answer.status, 200, "{name} {accept:?}");
            assert_eq!(
                answer.header("content-encoding"),
                expected,
                "{name} with Accept-Encoding {accept:?}"
            );
            assert_eq!(
                answer.header("vary"),
                Some("Accept-Encoding"),
                "{name} {accept:?}"
            );
            assert_eq!(
                answer.decoded(),
                files[name],
                "{name} {accept:?}: the decoded body is the file"
            );
            if expected.is_some() {
                assert!(answer.body.len() < files[name].len(), "{name} is smaller");
            }
        }
    }
    // The content types stay what they were.
    let types = [
        ("", "text/html"),
        ("index.html", "text/html"),
        (WASM, "application/wasm"),
        (JS, "text/javascript"),
        (CSS, "text/css"),
        ("icon-192.png", "image/png"),
    ];
    for (name, kind) in types {
        let answer = get(&relay, &format!("/{name}"), Some("br, gzip"));
        assert!(
            answer.header("content-type").unwrap().starts_with(kind),
            "{name}: {:?}",
            answer.header("content-type")
        );
    }
    // An image has no copies: as it is, whatever is accepted.
    let icon = get(&relay, "/icon-192.png", Some("br, gzip"));
    assert_eq!(icon.header("content-encoding"), None);
    assert_eq!(icon.body, files["icon-192.png"]);

    // The app's own routes are the page, compressed and with its CSP.
    let page = get(&relay, "/incident/abc/timeline", Some("br"));
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-encoding"), Some("br"));
    assert_eq!(page.decoded(), files["index.html"]);
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self' 'wasm-unsafe-eval'"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(
        get(&relay, "/app-ffffffffffffffff_bg.wasm", Some("br")).status,
        404
    );
    assert_eq!(get(&relay, "/../Cargo.toml", None).status, 404);
    assert_eq!(get(&relay, "/%2e%2e/%2e%2e/etc/passwd", None).status, 404);
}

#[test]
fn hashed_files_are_kept_a_year_and_the_page_is_revalidated_by_etag() {
    let (_tmp, data, dist) = dirs();
    let files = write_dist(&dist);
    precompress(&dist);
    let relay = Relay::start(&data, &dist);
    for name in [WASM, JS, CSS] {
        let answer = get(&relay, &format!("/{name}"), Some("br"));
        assert_eq!(
            answer.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{name}"
        );
    }
    for path in [
        "/",
        "/index.html",
        "/sw.js",
        "/manifest.webmanifest",
        "/icon-192.png",
    ] {
        for accept in [Some("br, gzip"), Some("gzip"), None] {
            let answer = get(&relay, path, accept);
            assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
            let etag = answer.header("etag").expect("an ETag").to_owned();
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            let again = fetch(
                &relay,
                "GET",
                path,
                &[
                    ("If-None-Match", &etag),
                    ("Accept-Encoding", accept.unwrap_or("identity")),
                ],
            );
            assert_eq!(again.status, 304, "{path} {accept:?}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag"), Some(&etag[..]));
            assert_eq!(again.header("cache-control"), Some("no-cache"));
            // A validator of other content is not a match.
            let other = fetch(
                &relay,
                "GET",
                path,
                &[("If-None-Match", "\"0000000000000000\"")],
            );
            assert_eq!(other.status, 200);
        }
    }
    // The same content under another encoding still revalidates (a cache may hold either).
    let br_tag = get(&relay, "/index.html", Some("br"))
        .header("etag")
        .unwrap()
        .to_owned();
    let plain_tag = get(&relay, "/index.html", None)
        .header("etag")
        .unwrap()
        .to_owned();
    assert_ne!(br_tag, plain_tag, "each representation has its own tag");
    assert_eq!(
        fetch(&relay, "GET", "/", &[("If-None-Match", &br_tag)]).status,
        304
    );

    // A new deploy: the page changes, its old tag no longer matches, and the stale .br left
    // beside it is not served.
    let new_page = index_html().replace("Firebreak</title>", "Firebreak 2</title>");
    std::fs::write(dist.join("index.html"), &new_page).unwrap();
    for accept in [Some("br"), Some("gzip"), None] {
        let answer = fetch(
            &relay,
            "GET",
            "/",
            &[
                ("If-None-Match", &plain_tag),
                ("Accept-Encoding", accept.unwrap_or("identity")),
            ],
        );
        assert_eq!(answer.status, 200, "{accept:?}");
        assert_eq!(answer.header("content-encoding"), None, "{accept:?}");
        assert_eq!(answer.decoded(), new_page.as_bytes());
        assert_ne!(answer.header("etag"), Some(&plain_tag[..]));
    }
    drop(files);
}

#[test]
fn missing_stale_or_damaged_copies_fall_back_to_the_file_itself() {
    let (_tmp, data, dist) = dirs();
    let files = write_dist(&dist);

    // A dist built without the precompress step: served as it is, correctly.
    let relay = Relay::start(&data, &dist);
    for name in [WASM, "index.html"] {
        let answer = get(&relay, &format!("/{name}"), Some("br, gzip"));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-encoding"), None);
        assert_eq!(answer.body, files[name]);
    }

    precompress(&dist);
    // Now with copies (the relay sees them appear without a restart).
    assert_eq!(
        get(&relay, &format!("/{WASM}"), Some("br, gzip")).header("content-encoding"),
        Some("br")
    );

    // A damaged .br (truncated, then garbage): gzip instead, or the file.
    let br = dist.join(format!("{WASM}.br"));
    let good_br = std::fs::read(&br).unwrap();
    std::fs::write(&br, &good_br[..good_br.len() / 2]).unwrap();
    let answer = get(&relay, &format!("/{WASM}"), Some("br, gzip"));
    assert_eq!(answer.header("content-encoding"), Some("gzip"));
    assert_eq!(answer.decoded(), files[WASM]);
    let answer = get(&relay, &format!("/{WASM}"), Some("br"));
    assert_eq!(answer.header("content-encoding"), None);
    assert_eq!(answer.body, files[WASM]);

    // A valid brotli stream of other content (another file's .br copied over it).
    std::fs::copy(dist.join(format!("{JS}.br")), &br).unwrap();
    let answer = get(&relay, &format!("/{WASM}"), Some("br"));
    assert_eq!(answer.header("content-encoding"), None);
    assert_eq!(answer.body, files[WASM]);

    // Garbage in the .gz too, and a missing .br: the file as it is.
    std::fs::write(dist.join(format!("{WASM}.gz")), b"\x1f\x8bnot gzip").unwrap();
    std::fs::remove_file(&br).unwrap();
    let answer = get(&relay, &format!("/{WASM}"), Some("br, gzip"));
    assert_eq!(answer.header("content-encoding"), None);
    assert_eq!(answer.body, files[WASM]);

    // Put right again by the next precompress run, without restarting the relay.
    precompress(&dist);
    let answer = get(&relay, &format!("/{WASM}"), Some("br, gzip"));
    assert_eq!(answer.header("content-encoding"), Some("br"));
    assert_eq!(answer.decoded(), files[WASM]);
}

#[test]
fn head_and_ranges_still_work() {
    let (_tmp, data, dist) = dirs();
    let files = write_dist(&dist);
    precompress(&dist);
    let relay = Relay::start(&data, &dist);
    let wasm = &files[WASM];

    let head = fetch(
        &relay,
        "HEAD",
        &format!("/{WASM}"),
        &[("Accept-Encoding", "br")],
    );
    let full = get(&relay, &format!("/{WASM}"), Some("br"));
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-encoding"), Some("br"));
    assert_eq!(head.header("content-length"), full.header("content-length"));
    assert_eq!(head.header("etag"), full.header("etag"));

    // A range is of the file itself, even when compression is accepted.
    let part = fetch(
        &relay,
        "GET",
        &format!("/{WASM}"),
        &[("Accept-Encoding", "br, gzip"), ("Range", "bytes=100-1099")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-encoding"), None);
    assert_eq!(
        part.header("content-range"),
        Some(&format!("bytes 100-1099/{}", wasm.len())[..])
    );
    assert_eq!(part.body, wasm[100..1100]);
    let tail = fetch(
        &relay,
        "GET",
        &format!("/{WASM}"),
        &[("Range", "bytes=-10")],
    );
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, wasm[wasm.len() - 10..]);
    let beyond = fetch(
        &relay,
        "GET",
        &format!("/{WASM}"),
        &[("Range", &format!("bytes={}-", wasm.len())[..])],
    );
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("content-range"),
        Some(&format!("bytes */{}", wasm.len())[..])
    );
    // An If-Range of other content: the whole file.
    let stale = fetch(
        &relay,
        "GET",
        &format!("/{WASM}"),
        &[("Range", "bytes=0-9"), ("If-Range", "\"0000\"")],
    );
    assert_eq!(stale.status, 200);
    assert_eq!(&stale.body, wasm);

    let post = fetch(&relay, "POST", "/index.html", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);
}
