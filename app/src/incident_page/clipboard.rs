//! Writing to the system clipboard (navigator.clipboard).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::platform;

/// Puts `text` on the clipboard; says why not when the browser refuses (no permission, not a
/// secure page, an old browser).
pub async fn write_text(text: &str) -> Result<(), String> {
    let navigator = platform::window().navigator();
    let clipboard = js_sys::Reflect::get(navigator.as_ref(), &JsValue::from_str("clipboard"))
        .map_err(|e| platform::js_error_text(&e))?;
    if clipboard.is_undefined() || clipboard.is_null() {
        return Err("this browser gives the page no clipboard".to_string());
    }
    let clipboard: web_sys::Clipboard = clipboard.unchecked_into();
    JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(|e| platform::js_error_text(&e))
}
