//! The incident list's count of unread mentions: for each incident on this device, how many
//! places mention this device's person now and did not at their read mark
//! (`incident::mentions::unread`), worked out from what the device stores (its updates and
//! its mark in IndexedDB, the people list kept in localStorage), so offline too.
//!
//! Each incident counted is read whole from IndexedDB and rebuilt, so the cost grows with
//! the incidents' sizes: only the [`COUNTED`] most recently opened are counted, one after
//! another, after the list is drawn. An incident with no mark yet, with a mark too large to
//! keep a copy, or with no invite on this device shows no count.

use std::collections::HashMap;

use incident::{Incident, UpdateOrigin};
use leptos::prelude::*;

use crate::mention_picker::invitees;
use crate::prefs::KnownIncident;
use crate::store::Store;
use crate::{people, platform};

/// How many incidents (most recently opened first) the list counts mentions for.
pub const COUNTED: usize = 20;

/// Unread mentions per incident id, filled in as they are counted.
pub fn unread_mentions(known: &[KnownIncident]) -> ReadSignal<HashMap<String, usize>> {
    let counts = RwSignal::new(HashMap::new());
    let ids: Vec<String> = known.iter().take(COUNTED).map(|k| k.id.clone()).collect();
    leptos::task::spawn_local(async move {
        let store = match Store::open(|_| {}).await {
            Ok(store) => store,
            Err(e) => {
                platform::log_error(&format!("mentions were not counted: {e}"));
                return;
            }
        };
        let started = platform::now_millis();
        for id in &ids {
            if let Some(count) = count(&store, id).await {
                if counts.try_update(|c| c.insert(id.clone(), count)).is_none() {
                    break;
                }
            }
        }
        store.close();
        web_sys::console::log_1(
            &format!(
                "mention counts for {} incidents in {:.0} ms",
                ids.len(),
                platform::now_millis() - started
            )
            .into(),
        );
    });
    counts.read_only()
}

/// The unread mentions of this device's person on incident `id`, when it can tell.
async fn count(store: &Store, id: &str) -> Option<usize> {
    let mine = people::my_invite(id);
    let invited = invitees(&people::kept(id));
    if mine.is_empty() || invited.is_empty() {
        return None;
    }
    let mark = store.mark(id).await.ok()??;
    if mark.state.is_empty() {
        return None;
    }
    let before = Incident::new();
    before
        .apply_update(&mark.state, UpdateOrigin::Storage)
        .ok()?;
    let now = Incident::new();
    for record in store.load(id).await.ok()? {
        // An unreadable record is reported where the incident is opened.
        let _ = now.apply_update(&record.bytes, UpdateOrigin::Storage);
    }
    Some(incident::mentions::unread(&before, &now, &mine, &invited).len())
}
