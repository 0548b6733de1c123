//! The built app (`--dist`), served as files with a fallback to `index.html` for the app's
//! own routes (`/incident/abc`), and the security headers every response carries.
//!
//! Each file goes out in the best encoding the browser accepts (`Accept-Encoding`, q-values
//! honoured) among those made at build time beside it by `sync-server precompress DIST`
//! (`app.wasm.br`, `app.wasm.gz`); a file without them goes out as it is. A precompressed
//! copy is used only after it has been decoded once and found equal to the file itself, so a
//! stale or damaged `.br` left by an older build is never served: the plain file is. Files
//! with a content hash in their name are cached for a year (`immutable`); the page, the
//! service worker and the manifest are revalidated on every visit (`no-cache` with an ETag).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The Content-Security-Policy of every HTML response. `'wasm-unsafe-eval'` lets the page
/// compile its WebAssembly; nothing else may run inline or come from another origin, and the
/// page may connect only to its own origin (`'self'` covers its own `ws:`/`wss:` too).
/// Images may also be `blob:` addresses the page made itself: the thumbnails of attached
/// PNG, JPEG, GIF and WebP files, from bytes whose SHA-256 it checked (never SVG).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; \
img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// `Cache-Control` of a file whose name carries its content hash (`app-1a2b…_bg.wasm`).
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else (the page, `sw.js`, the manifest, icons): kept, but
/// asked about again (`If-None-Match`) before each use.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// A content coding the relay can serve from a precompressed file beside the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// In order of preference when the browser accepts both equally.
    pub const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    /// The name in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// The file name suffix of the precompressed copy.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
        }
    }

    /// Decodes `encoded`, or `None` if it is not a valid stream of this coding.
    pub fn decode(self, encoded: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let ok = match self {
            Coding::Brotli => brotli::Decompressor::new(encoded, 64 * 1024)
                .read_to_end(&mut out)
                .is_ok(),
            Coding::Gzip => flate2::read::GzDecoder::new(encoded)
                .read_to_end(&mut out)
                .is_ok(),
        };
        ok.then_some(out)
    }
}

/// The coding to answer with for this `Accept-Encoding`, among those `available` (in
/// preference order); `None` means the file as it is. Highest q-value wins, ties go to the
/// earlier of `available`; `q=0` refuses a coding, `*` stands for any coding not named, and
/// identity (always acceptable as the last resort) wins only when named with a higher q.
/// With no `Accept-Encoding` at all, identity.
pub fn choose_coding(accept_encoding: Option<&str>, available: &[Coding]) -> Option<Coding> {
    let accept = accept_encoding?;
    let mut named: Vec<(String, f32)> = Vec::new();
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let mut q = 1.0_f32;
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    // A malformed q-value refuses the coding rather than guessing.
                    q = value
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
        }
        named.push((name, q));
    }
    let q_of = |token: &str| -> Option<f32> {
        named
            .iter()
            .find(|(name, _)| name == token || (token == "gzip" && name == "x-gzip"))
            .or_else(|| named.iter().find(|(name, _)| name == "*"))
            .map(|(_, q)| *q)
    };
    let mut best: Option<(Coding, f32)> = None;
    for &coding in available {
        let q = q_of(coding.token()).unwrap_or(0.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((coding, q));
        }
    }
    let (coding, q) = best?;
    // The file as it is wins only when the browser names it and prefers it outright.
    let identity = named
        .iter()
        .find(|(name, _)| name == "identity")
        .map(|(_, q)| *q);
    identity
        .is_none_or(|identity| q >= identity)
        .then_some(coding)
}

/// Whether a file's name carries its content hash, as trunk names them
/// (`app-1a2b3c4d5e6f7a8b_bg.wasm`, `style-1a2b3c4d5e6f7a8b.css`); the same rule as the
/// service worker's `isHashed`.
pub fn is_hashed(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    (8..=16).contains(&hash.len()) && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Serves `dist`, falling back to `dist/index.html`, or a 503 if the app is not built.
pub fn router(dist: &Path) -> Router {
    let files = Arc::new(StaticFiles {
        dist: dist.to_owned(),
        loaded: Mutex::new(HashMap::new()),
    });
    Router::new().fallback(move |request: Request| {
        let files = files.clone();
        async move { files.serve(request).await }
    })
}

/// The files of `dist` read so far, with their checked precompressed copies.
struct StaticFiles {
    dist: PathBuf,
    loaded: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
}

/// Size and modification time: a file that changed on disk is read again.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        meta.is_file().then(|| Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// One file as read from disk.
struct Loaded {
    stamp: Stamp,
    /// The stamps of `FILE.br` and `FILE.gz` when read (`None`: absent).
    variant_stamps: [Option<Stamp>; 2],
    body: Bytes,
    /// Strong validator of the content: `"<first 16 bytes of SHA-256, hex>"`.
    etag: String,
    /// The precompressed copies that decode to `body` exactly, in `Coding::ALL` order.
    variants: Vec<(Coding, Bytes)>,
}

impl Loaded {
    fn read(path: &Path) -> Option<Loaded> {
        let stamp = Stamp::of(path)?;
        let body = Bytes::from(std::fs::read(path).ok()?);
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let mut variants = Vec::new();
        let mut variant_stamps = [None, None];
        for (i, coding) in Coding::ALL.into_iter().enumerate() {
            let variant = with_suffix(path, coding.suffix());
            variant_stamps[i] = Stamp::of(&variant);
            if variant_stamps[i].is_none() {
                continue;
            }
            let Ok(encoded) = std::fs::read(&variant) else {
                continue;
            };
            if coding.decode(&encoded).as_deref() == Some(&body[..]) {
                variants.push((coding, Bytes::from(encoded)));
            } else {
                tracing::warn!(
                    file = %variant.display(),
                    "precompressed copy does not match its file (stale or damaged); serving the \
                     file uncompressed. Run `sync-server precompress` on the dist again."
                );
            }
        }
        Some(Loaded {
            stamp,
            variant_stamps,
            body,
            etag,
            variants,
        })
    }

    fn is_current(&self, path: &Path) -> bool {
        Stamp::of(path) == Some(self.stamp)
            && Coding::ALL
                .into_iter()
                .zip(self.variant_stamps)
                .all(|(coding, stamp)| Stamp::of(&with_suffix(path, coding.suffix())) == stamp)
    }

    fn etag_of(&self, coding: Option<Coding>) -> String {
        match coding {
            None => self.etag.clone(),
            Some(c) => format!("{}-{}\"", self.etag.trim_end_matches('"'), c.token()),
        }
    }

    /// Whether an `If-None-Match` names this content (in any encoding: weak comparison).
    fn matches(&self, if_none_match: &str) -> bool {
        let plain = self.etag.trim_matches('"');
        if_none_match.split(',').any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"');
            tag == "*"
                || tag == plain
                || Coding::ALL
                    .iter()
                    .any(|c| tag.strip_suffix(c.token()) == Some(&format!("{plain}-")[..]))
        })
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl StaticFiles {
    async fn serve(self: Arc<Self>, request: Request) -> Response {
        let method = request.method().clone();
        if method != Method::GET && method != Method::HEAD {
            let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        let Some(relative) = relative_path(&path) else {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        };
        let mut file = self.dist.join(&relative);
        if path.ends_with('/') || file.is_dir() {
            file = file.join("index.html");
        }
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(loaded) = self.load(file).await {
            return respond(&method, &headers, &name, &loaded);
        }
        // A missing asset (`/app-1234.wasm`) must be a 404, not the app's HTML.
        let last_segment = path.rsplit('/').next().unwrap_or_default();
        if last_segment.contains('.') {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        let index = self.dist.join("index.html");
        match self.load(index.clone()).await {
            Some(loaded) => respond(&method, &headers, "index.html", &loaded),
            None => {
                let text = format!(
                    "The Firebreak app is not built: {} is missing.\n\
                     Build it with `trunk build --release` (or start the relay with --dist \
                     pointing at the built app). Sync and /healthz work without it.\n",
                    index.display()
                );
                (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
            }
        }
    }

    /// The file at `path`, from memory if it has not changed on disk since it was read.
    async fn load(self: &Arc<Self>, path: PathBuf) -> Option<Arc<Loaded>> {
        let this = self.clone();
        // Reading and checking a file (decoding its precompressed copies) is blocking work:
        // off the relay's one async thread.
        tokio::task::spawn_blocking(move || {
            let known = this.loaded.lock().unwrap().get(&path).cloned();
            if let Some(known) = known.filter(|k| k.is_current(&path)) {
                return Some(known);
            }
            match Loaded::read(&path) {
                Some(fresh) => {
                    let fresh = Arc::new(fresh);
                    this.loaded.lock().unwrap().insert(path, fresh.clone());
                    Some(fresh)
                }
                None => {
                    this.loaded.lock().unwrap().remove(&path);
                    None
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

/// The request path as a path under `dist`, or `None` if it tries to leave it.
fn relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut out = PathBuf::new();
    for part in decoded.split('/') {
        if part.is_empty() || part == "." {
            continue;
        }
        if part.contains('\\') || part.contains('\0') {
            return None;
        }
        let component = Path::new(part).components().next()?;
        match component {
            Component::Normal(name) => out.push(name),
            _ => return None,
        }
    }
    Some(out)
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The answer for the file called `name` (its type and cache lifetime go by the name).
fn respond(method: &Method, request: &HeaderMap, name: &str, file: &Loaded) -> Response {
    let available: Vec<Coding> = file.variants.iter().map(|(c, _)| *c).collect();
    // A range is of the file as it is: ranges are asked for by players and download
    // managers, not by the page, and the identity bytes are what they count in.
    let range = header_str(request, header::RANGE).filter(|_| {
        header_str(request, header::IF_RANGE).is_none_or(|tag| tag.trim() == file.etag)
    });
    let coding = if range.is_some() {
        None
    } else {
        choose_coding(header_str(request, header::ACCEPT_ENCODING), &available)
    };
    let mut builder = Response::builder()
        .header(
            header::CONTENT_TYPE,
            mime_guess::from_path(name)
                .first_or_octet_stream()
                .essence_str(),
        )
        .header(
            header::CACHE_CONTROL,
            if is_hashed(name) {
                CACHE_IMMUTABLE
            } else {
                CACHE_REVALIDATE
            },
        )
        .header(header::ETAG, file.etag_of(coding))
        .header(header::ACCEPT_RANGES, "bytes");
    if !available.is_empty() {
        builder = builder.header(header::VARY, "Accept-Encoding");
    }
    if let Some(modified) = file.stamp.modified {
        builder = builder.header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    }
    if header_str(request, header::IF_NONE_MATCH).is_some_and(|tags| file.matches(tags)) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid response");
    }
    let whole = match coding {
        Some(c) => {
            builder = builder.header(header::CONTENT_ENCODING, c.token());
            file.variants
                .iter()
                .find(|(v, _)| *v == c)
                .map(|(_, bytes)| bytes.clone())
                .expect("chosen among the variants")
        }
        None => file.body.clone(),
    };
    let total = whole.len() as u64;
    let (status, body) = match range.map(|r| parse_range(r, total)) {
        Some(RangeAsk::Unsatisfiable) => {
            return builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .body(Body::empty())
                .expect("valid response");
        }
        Some(RangeAsk::One(start, end)) => {
            builder = builder.header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            );
            (
                StatusCode::PARTIAL_CONTENT,
                whole.slice(start as usize..=end as usize),
            )
        }
        Some(RangeAsk::Whole) | None => (StatusCode::OK, whole),
    };
    builder = builder.header(header::CONTENT_LENGTH, body.len());
    let body = if *method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder.status(status).body(body).expect("valid response")
}

enum RangeAsk {
    /// No usable range (malformed or several ranges): the whole file, 200.
    Whole,
    One(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range of a file of `total` bytes (inclusive ends).
fn parse_range(value: &str, total: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = if first.is_empty() {
        match last.parse::<u64>() {
            Ok(0) => return RangeAsk::Unsatisfiable,
            Ok(n) => Some((total.saturating_sub(n), total.saturating_sub(1))),
            Err(_) => None,
        }
    } else {
        match (first.parse::<u64>(), last) {
            (Ok(a), "") => Some((a, total.saturating_sub(1))),
            (Ok(a), b) => match b.parse::<u64>() {
                Ok(b) if b >= a => Some((a, b.min(total.saturating_sub(1)))),
                _ => None,
            },
            _ => None,
        }
    };
    match parsed {
        None => RangeAsk::Whole,
        Some((a, _)) if total == 0 || a >= total => RangeAsk::Unsatisfiable,
        Some((a, b)) => RangeAsk::One(a, b),
    }
}

/// Adds the CSP to HTML responses and a few safe defaults to every response.
pub async fn security_headers(mut response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    // The API's answers (JSON, success or refusal) are about one token at one moment: a
    // browser that kept one would answer a later call (another token, after a revocation)
    // from it.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &[Coding] = &[Coding::Brotli, Coding::Gzip];

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        assert_eq!(choose_coding(None, BOTH), None);
        assert_eq!(choose_coding(Some(""), BOTH), None);
        assert_eq!(
            choose_coding(Some("gzip, deflate, br"), BOTH),
            Some(Coding::Brotli)
        );
        assert_eq!(choose_coding(Some("gzip"), BOTH), Some(Coding::Gzip));
        assert_eq!(
            choose_coding(Some("br;q=0, gzip"), BOTH),
            Some(Coding::Gzip)
        );
        assert_eq!(
            choose_coding(Some("br;q=0.5, gzip;q=0.8"), BOTH),
            Some(Coding::Gzip)
        );
        assert_eq!(choose_coding(Some("br;q=0, gzip;q=0"), BOTH), None);
        assert_eq!(choose_coding(Some("*"), BOTH), Some(Coding::Brotli));
        assert_eq!(choose_coding(Some("*;q=0, gzip"), BOTH), Some(Coding::Gzip));
        assert_eq!(choose_coding(Some("identity"), BOTH), None);
        assert_eq!(choose_coding(Some("br;q=0.5, identity"), BOTH), None);
        assert_eq!(
            choose_coding(Some("br, identity;q=0"), BOTH),
            Some(Coding::Brotli)
        );
        assert_eq!(choose_coding(Some("BR;Q=1"), BOTH), Some(Coding::Brotli));
        assert_eq!(
            choose_coding(Some("br;q=abc, gzip"), BOTH),
            Some(Coding::Gzip)
        );
        assert_eq!(choose_coding(Some("x-gzip"), BOTH), Some(Coding::Gzip));
        assert_eq!(choose_coding(Some("br"), &[Coding::Gzip]), None);
        assert_eq!(choose_coding(Some("br, gzip"), &[]), None);
    }

    #[test]
    fn hashed_names_are_those_trunk_writes() {
        assert!(is_hashed("app-eafa87e47c149f89_bg.wasm"));
        assert!(is_hashed("app-eafa87e47c149f89.js"));
        assert!(is_hashed("style-ddd4f2f195765bb8.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("sw.js"));
        assert!(!is_hashed("manifest.webmanifest"));
        assert!(!is_hashed("icon-192.png"));
        assert!(!is_hashed("icon-maskable-512.png"));
        assert!(!is_hashed("app-EAFA87E47C149F89.js"));
    }

    #[test]
    fn paths_stay_inside_dist() {
        assert_eq!(relative_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(relative_path("/../etc/passwd"), None);
        assert_eq!(relative_path("/%2e%2e/etc/passwd"), None);
        assert_eq!(relative_path("/a%5c..%5cb"), None);
        assert_eq!(relative_path("/a%00"), None);
        assert_eq!(relative_path("/bad%zz"), None);
    }

    #[test]
    fn ranges() {
        assert!(matches!(parse_range("bytes=0-9", 100), RangeAsk::One(0, 9)));
        assert!(matches!(
            parse_range("bytes=90-", 100),
            RangeAsk::One(90, 99)
        ));
        assert!(matches!(
            parse_range("bytes=-10", 100),
            RangeAsk::One(90, 99)
        ));
        assert!(matches!(
            parse_range("bytes=50-500", 100),
            RangeAsk::One(50, 99)
        ));
        assert!(matches!(
            parse_range("bytes=100-", 100),
            RangeAsk::Unsatisfiable
        ));
        assert!(matches!(parse_range("bytes=0-1,5-6", 100), RangeAsk::Whole));
        assert!(matches!(parse_range("items=0-1", 100), RangeAsk::Whole));
        assert!(matches!(parse_range("bytes=9-2", 100), RangeAsk::Whole));
    }
}
