//! Arbitrary frames from three peers (one of them a viewer) into one room: no panic escapes
//! the room, a refused frame stores nothing, and whatever was stored always reloads. See
//! `sync_server::room::fuzz_frames` for the input format.
//!
//! yrs asserts on some invalid input instead of returning an error, and the room catches
//! those panics on purpose (the frame is refused, the peer closed). libFuzzer's default panic
//! hook would abort on them anyway, so this target keeps the last panic's message quietly
//! and aborts, printing it, only when a panic escapes the room.
#![no_main]

use std::cell::RefCell;
use std::panic;
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let message = format!("{info}\n{}", std::backtrace::Backtrace::force_capture());
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
        }));
    });
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    quiet_panics();
    if panic::catch_unwind(|| sync_server::room::fuzz_frames(data)).is_err() {
        let message = LAST_PANIC.with(|last| last.borrow_mut().take());
        eprintln!(
            "panic escaped the room: {}",
            message.unwrap_or_else(|| "no message".into())
        );
        std::process::abort();
    }
});
