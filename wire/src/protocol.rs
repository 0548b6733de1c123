//! How a sync connection says who it is without putting a secret in its URL: websocket
//! subprotocols. Proxies write URLs to their access logs by default, and not this header.
//!
//! The app offers [`SYNC_PROTOCOL`] and `{TOKEN_PROTOCOL_PREFIX}{token}`; the relay answers
//! with [`SYNC_PROTOCOL`] (a browser fails a connection whose server picks none of the
//! subprotocols it offered). Stock y-websocket clients, which cannot offer subprotocols, keep
//! sending `?token=`.

/// The subprotocol the relay picks.
pub const SYNC_PROTOCOL: &str = "firebreak";

/// Followed by the token (`{invite}.{secret}`: hex and one dot, all allowed in a subprotocol).
pub const TOKEN_PROTOCOL_PREFIX: &str = "firebreak.token.";

/// Followed by this device's id: a random id (128 bits or more) the app makes once and keeps
/// with its preferences. An invite is bound to the first device that opens it with its id.
pub const DEVICE_PROTOCOL_PREFIX: &str = "firebreak.device.";

/// The header carrying the device id on API calls (stock clients may send `?device=` on the
/// websocket instead).
pub const DEVICE_HEADER: &str = "x-firebreak-device";
