//! The open incident's link to the relay: the sync client (once this device's standing lets
//! it sync) and the count of local changes the relay has not confirmed yet, which is kept on
//! the device (`prefs`) so that a reload still knows it. The session is the client's
//! [`Host`]: the client reads the document through it and reports back into the view.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use incident::UpdateOrigin;
use leptos::prelude::*;

use super::Session;
use crate::access::Refusal;
use crate::sync::{self, Connection, Host, Peer, SyncClient};
use crate::{platform, prefs};

/// The relay connection and what it has not confirmed yet.
pub(super) struct RelayLink {
    client: RefCell<Option<SyncClient>>,
    /// Local changes the relay has not confirmed (shown as the view's `pending`).
    unconfirmed: Cell<u32>,
    /// The token the client connects with.
    token: RefCell<String>,
}

/// How often, and how far apart, a tab cut off with the owner's old token looks for the new
/// one (a rotation in another tab) before it says the link was revoked.
const ROTATION_LOOKS: u32 = 10;
const ROTATION_LOOK_MS: i32 = 500;

impl RelayLink {
    pub(super) fn new(unconfirmed: u32) -> RelayLink {
        RelayLink {
            client: RefCell::new(None),
            unconfirmed: Cell::new(unconfirmed),
            token: RefCell::new(String::new()),
        }
    }

    pub(super) fn client(&self) -> Option<SyncClient> {
        self.client.borrow().clone()
    }

    pub(super) fn unconfirmed(&self) -> u32 {
        self.unconfirmed.get()
    }

    /// Stops the client for good (it stays, stopped: this may run inside its own handler).
    pub(super) fn stop(&self) {
        if let Some(client) = self.client() {
            client.stop();
        }
    }

    /// Stops and drops the client: the page is going away.
    pub(super) fn close(&self) {
        if let Some(client) = self.client.borrow_mut().take() {
            client.stop();
        }
    }
}

impl Session {
    /// Connects to the relay with this device's token, once.
    pub(super) fn start_sync(self: &Rc<Self>) {
        if self.closed.get() || self.relay.client.borrow().is_some() {
            return;
        }
        let Some(access) = prefs::access(&self.id) else {
            return;
        };
        let name = prefs::display_name();
        let name = if name.trim().is_empty() {
            "Anonymous responder".to_string()
        } else {
            name
        };
        let user = serde_json::json!({"user": {"name": name, "color": prefs::presence_color()}});
        let me: Rc<dyn Host> = self.clone();
        let client = SyncClient::start(
            sync::relay_url(&self.id),
            sync::relay_protocols(&access.token, &prefs::device_id()),
            self.document_client_id(),
            Rc::downgrade(&me),
            user,
        );
        *self.relay.client.borrow_mut() = Some(client);
        *self.relay.token.borrow_mut() = access.token;
    }

    /// Sets the count of local changes the relay has not confirmed.
    pub(super) fn set_pending(&self, count: u32) {
        self.relay.unconfirmed.set(count);
        prefs::set_pending(&self.id, count);
        self.view.pending.try_set(count);
    }
}

impl sync_client::Replica for Session {
    fn state_vector(&self) -> Vec<u8> {
        self.document_state_vector()
    }

    fn diff_for(&self, remote_state_vector: &[u8]) -> Result<Vec<u8>, String> {
        self.document_diff(remote_state_vector)
            .map_err(|e| format!("The relay asked for changes in a form we cannot read: {e}"))
    }

    fn unconfirmed(&self) -> u32 {
        self.relay.unconfirmed()
    }

    fn may_write(&self) -> bool {
        self.view
            .standing
            .try_get_untracked()
            .is_some_and(|s| s.may_edit())
    }
}

impl Host for Session {
    fn receive(&self, update: &[u8]) -> Result<(), String> {
        let commits = self.commits.get();
        let result = self
            .apply_remote(update, UpdateOrigin::Relay)
            .map_err(|e| format!("A change from the relay was refused: {e}"));
        if result.is_ok() && self.commits.get() == commits {
            // Nothing changed (an answer confirming this device's own changes, or a change
            // still waiting for an earlier one): nothing on the page to read again.
            return result;
        }
        self.remember_summary(true);
        self.view.changed(&self.incident);
        result
    }

    fn confirmed(&self, count: u32) {
        self.set_pending(self.relay.unconfirmed().saturating_sub(count));
    }

    fn connection_changed(&self, state: Connection) {
        self.view.connection.try_set(state);
        // Synced: the relay's first answer has been applied (it comes before this); or the
        // connection failed. Either way the editor is drawn now.
        if state != Connection::Connecting {
            self.view.awaiting_document.try_set(false);
        }
    }

    fn presence_changed(&self, peers: Vec<Peer>) {
        self.view.presence.try_set(peers);
    }

    fn problem(&self, message: Option<String>) {
        if let Some(m) = &message {
            platform::log_error(m);
        }
        self.view.sync_problem.try_set(message);
    }

    fn refused(&self, why: Refusal) {
        // The owner's link may have been rotated in another tab of this browser: this tab's
        // token is the old one, and the new one is on the device already, or arrives there a
        // moment after the relay cut this tab off (the rotating tab stores it when the
        // relay's answer reaches it). Look for it for a few seconds before giving up.
        let owner_here = why == Refusal::Revoked(None)
            && prefs::access(&self.id).is_some_and(|held| held.role == Some(wire::Access::Owner));
        if let (true, Some(me)) = (owner_here, self.rc()) {
            self.relay.stop();
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..ROTATION_LOOKS {
                    let rotated = prefs::access(&me.id).is_some_and(|held| {
                        held.role == Some(wire::Access::Owner)
                            && held.token != *me.relay.token.borrow()
                    });
                    if rotated {
                        me.relay.close();
                        me.join(wire::Access::Owner);
                        return;
                    }
                    if me.closed.get() {
                        return;
                    }
                    platform::sleep_ms(ROTATION_LOOK_MS).await;
                }
                me.refuse_naming_revoker(why);
            });
            return;
        }
        match (why, self.rc()) {
            (Refusal::Revoked(None), Some(me)) => me.refuse_naming_revoker(Refusal::Revoked(None)),
            (why, _) => self.refuse(why),
        }
    }

    fn role_changed(&self) {
        // The token still works, in another role: forget the role held here, ask the relay
        // for the new one, and connect again in it (a viewer's page turns read-only).
        let Some(me) = self.rc() else {
            return;
        };
        self.relay.stop();
        if let Some(mut held) = prefs::access(&self.id) {
            held.role = None;
            prefs::set_access(&self.id, &held);
        }
        wasm_bindgen_futures::spawn_local(async move {
            me.relay.close();
            if !me.closed.get() {
                me.check_invite();
            }
        });
    }
}
