//! The team's playbooks on this device, read from the same IndexedDB store as incidents (a
//! playbook is a document kept and synced like one): to start an incident from one, and to
//! find the proposals of the incidents here that started from a playbook.

use incident::playbook::{proposals, Playbook, Proposals};
use incident::{Incident, UpdateOrigin};

use crate::prefs;
use crate::store::Store;

/// Every stored update of document `id`, in order; empty when there is none or the store
/// cannot be read.
async fn stored(id: &str) -> Vec<Vec<u8>> {
    let Ok(store) = Store::open(|_| {}).await else {
        return Vec::new();
    };
    match store.load(id).await {
        Ok(records) => records.into_iter().map(|r| r.bytes).collect(),
        Err(_) => Vec::new(),
    }
}

/// The playbook `id` as stored on this device, if it is one.
pub async fn load(id: &str) -> Option<Playbook> {
    let playbook = Playbook::new();
    for update in stored(id).await {
        // A record that cannot be read is skipped, as the playbook's own page does.
        let _ = playbook.apply_update(&update, UpdateOrigin::Storage);
    }
    playbook.is_playbook().then_some(playbook)
}

/// One incident on this device that started from a playbook, with what it proposes.
#[derive(Clone, PartialEq)]
pub struct FromIncident {
    pub id: String,
    pub title: String,
    pub proposals: Proposals,
}

/// The incidents on this device that started from the playbook `id`, with their proposals
/// (incidents with none are left out).
pub async fn proposals_for(id: &str) -> Vec<FromIncident> {
    let mut found = Vec::new();
    for known in prefs::known_incidents() {
        if known.playbook != id {
            continue;
        }
        let incident = Incident::new();
        for update in stored(&known.id).await {
            let _ = incident.apply_update(&update, UpdateOrigin::Storage);
        }
        let proposals = proposals(&incident);
        let from_here = proposals.playbook.as_ref().is_some_and(|p| p.id == id);
        if from_here && !proposals.items.is_empty() {
            found.push(FromIncident {
                id: known.id,
                title: incident.title(),
                proposals,
            });
        }
    }
    found
}
