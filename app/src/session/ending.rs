//! What the owner does to the incident itself, and its end on a device: the owner's token
//! replaced by a new one (the sync reconnects with it), and the incident's copy removed from
//! this device, after the owner deleted it (on every device, when its holder chooses).
//!
//! A device that finds the incident deleted keeps its copy until its holder removes it: the
//! relay cannot reach into a device, and what was written there (perhaps the only record of
//! what happened) is the holder's to keep or drop, not the relay's.

use std::rc::Rc;

use wire::api::IncidentCreated;
use wire::Access;

use super::Session;
use crate::prefs::{self, DeviceGrant};

impl Session {
    /// The relay gave the owner a new token: stored on this device, and the sync starts
    /// again with it (the old token's connection is closed by the relay).
    pub(super) fn rotated(self: &Rc<Self>, owner: IncidentCreated) {
        prefs::set_access(
            &self.id,
            &DeviceGrant {
                token: owner.token,
                role: Some(Access::Owner),
                invite: owner.invite,
                name: owner.name,
            },
        );
        self.relay.close();
        self.join(Access::Owner);
    }

    /// Stops everything and removes the incident from this device: its records in
    /// IndexedDB and what the preferences keep of it.
    pub(super) async fn remove_from_device(&self) -> Result<(), String> {
        self.closed.set(true);
        self.admission.cancel_retry();
        self.saving.cancel_retry();
        self.relay.close();
        self.subscription.borrow_mut().take();
        self.tabs.borrow_mut().take();
        let removed = self.saving.remove(&self.id).await;
        prefs::forget(&self.id);
        removed
    }
}
