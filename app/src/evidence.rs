//! Evidence files in the browser: their SHA-256 (WebCrypto), and moving their bytes to and
//! from the relay's store (`PUT`/`GET /api/incidents/{id}/blobs/{sha256}`) with this
//! device's token. The bytes stay JavaScript arrays throughout, never copied into the app.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, Headers, RequestInit, Response};

use crate::platform;

/// The largest file attached when the relay has never said (its `--max-attachment-bytes`
/// default). A relay set otherwise says so in `GET …/me`; a bigger file is refused with 413,
/// and its message is shown.
pub const MAX_ATTACHMENT_BYTES: f64 = 10.0 * 1024.0 * 1024.0;

/// The largest file to attach now: the relay's `--max-attachment-bytes` as it says it
/// (asked with `token`, and kept on this device), else as it last said, else 10 MiB.
pub async fn attachment_limit(incident: &str, token: Option<&str>) -> f64 {
    if let Some(token) = token {
        if let Ok(me) = crate::access::me(incident, token).await {
            if let Some(limit) = me.max_attachment_bytes.filter(|n| *n > 0) {
                crate::prefs::set_attachment_limit(limit);
            }
        }
    }
    crate::prefs::attachment_limit().map_or(MAX_ATTACHMENT_BYTES, |n| n as f64)
}

/// What became of an upload.
#[derive(Clone, Debug, PartialEq)]
pub enum Upload {
    /// The relay has the file (just stored, or had it already).
    Stored,
    /// The relay said no for good (a viewer, too big, not its hash, not the image it
    /// claims): its message. Not retried.
    Refused(String),
    /// Not now (no network, the relay busy or down): try again later, after the relay's
    /// `Retry-After` seconds if it said.
    Later(String, Option<u32>),
}

/// What became of a download.
#[derive(Clone, Debug)]
pub enum Download {
    Bytes(Uint8Array),
    /// The relay does not have it (yet: the device that attached it may still be offline).
    NotThere,
    /// The relay refused this device (its message).
    Refused(String),
    /// No answer: offline, or the relay is down.
    Unreachable(String),
}

fn js(e: JsValue) -> String {
    platform::js_error_text(&e)
}

/// The SHA-256 of `bytes`, as 64 lowercase hex characters.
pub async fn sha256_hex(bytes: &Uint8Array) -> Result<String, String> {
    let crypto = platform::window().crypto().map_err(js)?;
    let subtle = crypto.subtle();
    if subtle.is_undefined() {
        return Err(
            "this page cannot compute SHA-256 (WebCrypto needs https); open Firebreak over https"
                .to_string(),
        );
    }
    let digest = JsFuture::from(
        subtle
            .digest_with_str_and_buffer_source("SHA-256", bytes)
            .map_err(js)?,
    )
    .await
    .map_err(js)?;
    let digest = Uint8Array::new(&digest).to_vec();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `bytes` are the ones named `expected`: `Ok` when their SHA-256 is it, else the
/// message to show (nothing is offered).
pub async fn verify(bytes: &Uint8Array, expected: &str) -> Result<(), String> {
    let actual = sha256_hex(bytes).await?;
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(format!(
            "these bytes are not the attached file: their SHA-256 is {actual}, the file's is {expected}; nothing was saved"
        ))
    }
}

/// A file's bytes, as the browser reads them.
pub async fn file_bytes(file: &web_sys::File) -> Result<Uint8Array, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(js)?;
    Ok(Uint8Array::new(&buffer))
}

fn blob_path(incident: &str, sha256: &str) -> String {
    format!(
        "/api/incidents/{}/blobs/{sha256}",
        String::from(js_sys::encode_uri_component(incident))
    )
}

fn headers(token: &str) -> Result<Headers, String> {
    let headers = Headers::new().map_err(js)?;
    headers
        .set("authorization", &format!("Bearer {token}"))
        .map_err(js)?;
    headers
        .set(wire::DEVICE_HEADER, &crate::prefs::device_id())
        .map_err(js)?;
    Ok(headers)
}

async fn fetch(path: &str, init: &RequestInit) -> Result<Response, String> {
    let response = JsFuture::from(platform::window().fetch_with_str_and_init(path, init))
        .await
        .map_err(js)?;
    response.dyn_into().map_err(|_| "no response".to_string())
}

/// The relay's reason (its JSON `error`), else the status text.
async fn reason(response: &Response) -> String {
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    serde_json::from_str::<wire::api::ErrorBody>(&text)
        .map(|body| body.error)
        .unwrap_or_else(|_| format!("{} {}", response.status(), response.status_text()))
}

/// Sends one file to the relay.
pub async fn upload(
    incident: &str,
    token: &str,
    sha256: &str,
    content_type: &str,
    bytes: &Uint8Array,
) -> Upload {
    let init = RequestInit::new();
    init.set_method("PUT");
    match headers(token) {
        Ok(headers) => {
            let _ = headers.set("content-type", content_type);
            init.set_headers(&headers);
        }
        Err(e) => return Upload::Later(e, None),
    }
    init.set_body(bytes);
    let response = match fetch(&blob_path(incident, sha256), &init).await {
        Ok(response) => response,
        Err(e) => return Upload::Later(e, None),
    };
    match response.status() {
        200 | 201 => Upload::Stored,
        // Another try may do: too many at once, the relay busy or restarting.
        408 | 429 | 500..=599 => {
            let wait = response
                .headers()
                .get("retry-after")
                .ok()
                .flatten()
                .and_then(|s| s.trim().parse().ok());
            Upload::Later(reason(&response).await, wait)
        }
        _ => Upload::Refused(reason(&response).await),
    }
}

/// Fetches one file from the relay (not checked: see [`verify`]).
pub async fn download(incident: &str, token: &str, sha256: &str) -> Download {
    let init = RequestInit::new();
    init.set_method("GET");
    match headers(token) {
        Ok(headers) => init.set_headers(&headers),
        Err(e) => return Download::Unreachable(e),
    }
    let response = match fetch(&blob_path(incident, sha256), &init).await {
        Ok(response) => response,
        Err(e) => return Download::Unreachable(e),
    };
    match response.status() {
        200 => match response.array_buffer() {
            Ok(promise) => match JsFuture::from(promise).await {
                Ok(buffer) => Download::Bytes(Uint8Array::new(&buffer)),
                Err(e) => Download::Unreachable(js(e)),
            },
            Err(e) => Download::Unreachable(js(e)),
        },
        404 => Download::NotThere,
        429 | 500..=599 => Download::Unreachable(reason(&response).await),
        _ => Download::Refused(reason(&response).await),
    }
}

/// A `blob:` address for the bytes, typed `content_type` (revoke it when done).
pub fn object_url(bytes: &Uint8Array, content_type: &str) -> Result<String, String> {
    let parts = js_sys::Array::of1(bytes);
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js)
}

/// Offers the bytes as a file called `name` to save (a download, never shown as a page).
pub fn save_as(bytes: &Uint8Array, name: &str) -> Result<(), String> {
    let url = object_url(bytes, "application/octet-stream")?;
    let document = platform::document();
    let link: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(js)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.set_rel("noopener");
    link.click();
    // The browser has taken the file by the time a minute has passed.
    let revoke = Promise::new(&mut |resolve, _| {
        let _ = platform::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 60_000);
    });
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(revoke).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}

/// A size for people: `812 B`, `200.0 KB`, `5.0 MB` (powers of 1024, as the limit is).
pub fn shown_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}
