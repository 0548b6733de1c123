//! The Firebreak relay: one process that serves the built app, holds one room per open
//! incident and relays edits between responders over the standard Yjs websocket protocol
//! (y-protocols sync + awareness), so the Firebreak app and stock `y-websocket` clients can
//! edit the same incident. Every document update is validated, applied and durably stored in
//! SQLite before it is broadcast; a room with no peers is compacted and dropped from memory.
//!
//! It is not the incident model (that lives in the `incident` crate) and it does not look inside
//! documents: it only merges and stores opaque Yjs updates. Incidents are invite-only: every
//! connection and API call carries a token whose grant ([`access`]) says who may read, write
//! or share.
//!
//! Layout: [`room`] is the sans-IO protocol core (bytes in, bytes out), [`registry`] runs one
//! room actor per open incident, [`store`] is the storage trait and its SQLite backend,
//! [`access`] the grants and tokens, [`http`] is the axum surface (health, static app,
//! access API, websocket), [`config`] the flags.

pub mod access;
pub mod cluster;
pub mod config;
pub mod error;
pub mod http;
pub mod incident_id;
pub mod log_limit;
pub mod metrics;
pub mod peer;
pub mod precompress;
pub mod registry;
pub mod room;
pub mod server;
pub mod store;
pub mod verify;

pub use config::Config;
pub use error::Error;
pub use http::{app, AppState};
pub use incident_id::IncidentId;
pub use server::run;
