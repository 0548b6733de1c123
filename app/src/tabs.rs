//! Other tabs of this browser with the same incident open. Every local change is posted to
//! them over a BroadcastChannel once it is stored, so tabs stay in step with no relay at all
//! (offline, on a plane). Each tab stores only its own changes; the others apply them.

use js_sys::Uint8Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::platform;

/// This tab's end of the channel for one incident. Closed when dropped.
pub struct TabLink {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl TabLink {
    /// Joins the incident's channel; `receive` gets each update another tab posts. `None`
    /// where the browser has no BroadcastChannel: tabs then meet only through the relay.
    pub fn open(incident_id: &str, receive: impl Fn(&[u8]) + 'static) -> Option<TabLink> {
        let channel = BroadcastChannel::new(&format!("firebreak.incident.{incident_id}"))
            .map_err(|e| platform::log_error(&platform::js_error_text(&e)))
            .ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            match event.data().dyn_into::<Uint8Array>() {
                Ok(bytes) => receive(&bytes.to_vec()),
                Err(_) => platform::log_error("another tab sent something that is not an update"),
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(TabLink {
            channel,
            _on_message: on_message,
        })
    }

    /// Posts this tab's stored local changes to the other tabs.
    pub fn post(&self, updates: &[Vec<u8>]) {
        for update in updates {
            let bytes = Uint8Array::from(update.as_slice());
            if let Err(e) = self.channel.post_message(&bytes) {
                platform::log_error(&format!(
                    "could not reach the other tabs: {}",
                    platform::js_error_text(&e)
                ));
            }
        }
    }
}

impl Drop for TabLink {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
