//! What the browser provides that plain Rust cannot on wasm32: the clock, randomness,
//! and the window's document.

use wasm_bindgen::JsCast;

/// "Now" as an RFC 3339 UTC timestamp, e.g. `2024-05-01T09:30:00.000Z`.
/// (`SystemTime::now()` panics on wasm32-unknown-unknown.)
pub fn now_rfc3339() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// Sixteen bytes from the browser's cryptographic random source.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        // crypto.getRandomValues exists in every browser we support; fall back to
        // Math.random rather than refusing to create an incident.
        log_error(&format!("no cryptographic random source: {e}"));
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

/// A fresh 26-character incident or device id.
pub fn new_id() -> String {
    incident::new_id(random_bytes())
}

/// Tells the page's boot script that an incident is shown: the service worker may now copy
/// the app for offline use without taking a slow network's bandwidth from the first visit
/// (`firebreak:shown`, public/boot.js).
pub fn page_shown() {
    if let Ok(event) = web_sys::Event::new("firebreak:shown") {
        let _ = window().dispatch_event(&event);
    }
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("the app runs in a browser window")
}

pub fn document() -> web_sys::Document {
    window().document().expect("a window has a document")
}

/// The element with this id, if it exists and has the expected type.
pub fn element_by_id<T: JsCast>(id: &str) -> Option<T> {
    document().get_element_by_id(id)?.dyn_into::<T>().ok()
}

/// Writes to the browser console; for errors that are also shown in the page.
pub fn log_error(message: &str) {
    web_sys::console::error_1(&message.into());
}

/// The message of a JavaScript error value, for showing to a person.
/// The text of a file the person picked; the browser's reason when it cannot be read.
pub async fn file_text(file: &web_sys::File) -> Result<String, String> {
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map(|text| text.as_string().unwrap_or_default())
        .map_err(|e| js_error_text(&e))
}

pub fn js_error_text(value: &wasm_bindgen::JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(e) = value.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    value
        .as_string()
        .unwrap_or_else(|| "unknown browser error".to_string())
}

/// A stored timestamp shown to people: `2024-05-01 09:30 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(0..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// Resolves after `ms` milliseconds (the browser's timer).
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Err(e) = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
        {
            log_error(&js_error_text(&e));
        }
    });
    if let Err(e) = wasm_bindgen_futures::JsFuture::from(promise).await {
        log_error(&js_error_text(&e));
    }
}
