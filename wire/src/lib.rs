//! The contract between Firebreak's app and its relay, written once: what an invite lets its
//! holder do ([`Access`]), the websocket close codes the relay ends a connection with and what
//! a client does about each ([`Close`]), and the bodies of the HTTP API ([`api`]).
//!
//! Both sides compile this crate (the relay on the host, the app for wasm32), so a code or a
//! field cannot mean one thing to one side and another to the other. It is plain data and
//! serde derives: no I/O, no runtime, nothing that weighs in the app's download.

mod access;
pub mod api;
mod close;
mod protocol;

pub use access::Access;
pub use close::{wait_seconds, AfterClose, Close};
pub use protocol::{DEVICE_HEADER, DEVICE_PROTOCOL_PREFIX, SYNC_PROTOCOL, TOKEN_PROTOCOL_PREFIX};
