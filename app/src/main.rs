//! Firebreak's browser app: a Leptos (client-side rendered) page per incident, where
//! responders edit the incident template together and keep editing with no network.
//!
//! The incident itself lives in the `incident` crate (a yrs CRDT document); this crate only
//! shows it, keeps every change in IndexedDB ([`store`]), and exchanges changes with the relay
//! over the Yjs websocket protocol ([`sync`], around the sans-IO `sync_client` crate). It holds no second copy of any section: the
//! document is the source of truth and the textareas are bound to it ([`binding`]).
//! It is not a server and enforces no access control itself: the relay does. The app holds
//! this device's token for each incident ([`access`]), joins from invite links, and lets an
//! incident's owner invite and revoke people.

mod access;
mod app;
mod binding;
mod clock;
mod evidence;
mod form;
mod incident_page;
mod mention_picker;
mod on_demand;
mod pages;
mod people;
mod platform;
mod playbooks;
mod prefs;
mod router;
mod session;
mod store;
mod sync;
mod tabs;
mod zones;

fn main() {
    console_error_panic_hook::set_once();
    zones::install();
    leptos::mount::mount_to_body(app::App);
}
