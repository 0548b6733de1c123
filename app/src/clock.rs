//! "Now" as a signal that moves on by itself, for what changes with time alone while a page
//! stays open: a next step that becomes late turns red without a reload.

use std::cell::OnceCell;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::platform;

/// How often the clock moves on; what it drives is shown to the minute.
const TICK_MS: i32 = 15_000;

thread_local! {
    /// Reference-counted, not owned by whichever view asked first: it outlives every view.
    static NOW: OnceCell<ArcRwSignal<String>> = const { OnceCell::new() };
}

/// The current time (RFC 3339 UTC), updated every [`TICK_MS`] by one page-wide timer.
pub fn now() -> ArcRwSignal<String> {
    NOW.with(|cell| {
        cell.get_or_init(|| {
            let now = ArcRwSignal::new(platform::now_rfc3339());
            let ticking = now.clone();
            let tick = Closure::<dyn Fn()>::new(move || ticking.set(platform::now_rfc3339()));
            if let Err(e) = platform::window()
                .set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    TICK_MS,
                )
            {
                platform::log_error(&platform::js_error_text(&e));
            }
            // The timer lives as long as the page.
            tick.forget();
            now
        })
        .clone()
    })
}
