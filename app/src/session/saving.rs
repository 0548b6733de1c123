//! Saving the open incident on this device, and handing its changes on.
//!
//! Every committed change is queued by the document's update listener; one writer drains the
//! queue: it appends the changes to IndexedDB, and only then posts this tab's own changes to
//! the other tabs and sends them to the relay. A change another tab made arrives already
//! stored there; it is counted and sent to the relay from here too, so every tab's count of
//! "changes not on the relay yet" is the whole device's, and its own confirmations cover it.
//!
//! When a write fails (the storage quota is used up, a newer Firebreak took the database)
//! the page says so loudly, keeps every change in memory, goes on syncing, and tries again
//! with a growing wait. The next write after a failure is a snapshot of the whole document,
//! so nothing that failed in between is lost.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use incident::UpdateOrigin;
use leptos::prelude::*;

use super::{origin_name, Session, COMPACT_AFTER};
use crate::platform;
use crate::store::{RecordKey, Store, StoreError, StoreNotice};
use crate::sync::Connection;

const FIRST_SAVE_RETRY_MS: u64 = 1_000;
const LAST_SAVE_RETRY_MS: u64 = 30_000;

/// The incident's copy on this device: the database, the records of it, and the changes
/// waiting to be written.
pub(super) struct Saving {
    store: RefCell<Option<Store>>,
    stored_keys: RefCell<Vec<RecordKey>>,
    /// A write failed: the next successful write should be a full snapshot.
    needs_snapshot: Cell<bool>,
    /// A pending retry of a failed write, and how many retries came before it.
    retry: Cell<Option<TimeoutHandle>>,
    attempts: Cell<u32>,
    queue: RefCell<Vec<(Vec<u8>, UpdateOrigin)>>,
    writing: Cell<bool>,
    /// The incident is being removed from this device.
    pub(super) removed: Cell<bool>,
}

impl Saving {
    pub(super) fn new() -> Saving {
        Saving {
            store: RefCell::new(None),
            stored_keys: RefCell::new(Vec::new()),
            needs_snapshot: Cell::new(false),
            retry: Cell::new(None),
            attempts: Cell::new(0),
            queue: RefCell::new(Vec::new()),
            writing: Cell::new(false),
            removed: Cell::new(false),
        }
    }

    /// A committed change, to be written (and handed on) by the writer.
    pub(super) fn queue(&self, update: Vec<u8>, origin: UpdateOrigin) {
        self.queue.borrow_mut().push((update, origin));
    }

    pub(super) fn cancel_retry(&self) {
        if let Some(handle) = self.retry.take() {
            handle.clear();
        }
    }

    /// Removes every record of `incident` from this device; nothing is written after.
    pub(super) async fn remove(&self, incident: &str) -> Result<(), String> {
        self.removed.set(true);
        self.queue.borrow_mut().clear();
        let store = self.store.borrow_mut().take();
        match store {
            Some(store) => store.remove(incident).await.map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

impl Session {
    /// Opens the database and applies this device's copy; true if it held any records.
    pub(super) async fn load_stored(&self) -> bool {
        let me = self.me.clone();
        let opened = Store::open(move |notice| {
            if let Some(session) = me.upgrade() {
                session.store_notice(notice);
            }
        })
        .await;
        let saving = &self.saving;
        match opened {
            Ok(store) => match store.load(&self.id).await {
                Ok(records) => {
                    let mut unreadable = 0;
                    for record in &records {
                        if self
                            .apply_to_document(&record.bytes, UpdateOrigin::Storage)
                            .is_err()
                        {
                            unreadable += 1;
                        }
                    }
                    if unreadable > 0 {
                        self.view.report_save_error(
                            "Some changes stored on this device could not be read",
                            format!("{unreadable} skipped"),
                        );
                    }
                    *saving.stored_keys.borrow_mut() = records.into_iter().map(|r| r.key).collect();
                    if let Some(version) = store.newer_version() {
                        self.view.report_save_error(
                            "This page cannot save on this device",
                            format!("a newer Firebreak stored its data here (format {version}); reload the page to update. Until then, changes stay in this page and still go to the relay."),
                        );
                    } else {
                        self.view.save_error.try_set(None);
                    }
                    *saving.store.borrow_mut() = Some(store);
                }
                Err(e) => {
                    self.view
                        .report_save_error("Could not read this device's copy", e);
                    *saving.store.borrow_mut() = Some(store);
                }
            },
            Err(e) => self
                .view
                .report_save_error("Could not save to this device", e),
        }
        !saving.stored_keys.borrow().is_empty()
    }

    pub(super) fn schedule_write(&self) {
        if self.saving.writing.get() {
            return;
        }
        if let Some(session) = self.rc() {
            wasm_bindgen_futures::spawn_local(session.write());
        }
    }

    /// Drains the queue: store first, then send. Only one runs at a time.
    pub(super) async fn write(self: Rc<Self>) {
        if self.saving.writing.replace(true) {
            return;
        }
        loop {
            let mut batch = std::mem::take(&mut *self.saving.queue.borrow_mut());
            if batch.is_empty() {
                break;
            }
            self.note_device_time(&mut batch);
            // Made here, or in another tab of this browser: the relay may not have them yet.
            let outgoing: Vec<Vec<u8>> = batch
                .iter()
                .filter(|(_, o)| matches!(o, UpdateOrigin::Local | UpdateOrigin::OtherTab))
                .map(|(u, _)| u.clone())
                .collect();
            if !outgoing.is_empty() {
                let count = self.relay.unconfirmed();
                self.set_pending(count.saturating_add(outgoing.len() as u32));
            }
            // What came from storage is there already; another tab stored its own changes.
            let to_store: Vec<(&[u8], &str)> = batch
                .iter()
                .filter(|(_, o)| !matches!(o, UpdateOrigin::Storage | UpdateOrigin::OtherTab))
                .map(|(u, o)| (u.as_slice(), origin_name(*o)))
                .collect();
            let store = self.saving.store.borrow().clone();
            match store {
                // Read-only: a newer Firebreak's data (the page said so when it loaded).
                Some(store) if store.newer_version().is_some() => {
                    self.saving.needs_snapshot.set(true)
                }
                Some(store) if !to_store.is_empty() => {
                    if self.saving.needs_snapshot.get() {
                        self.compact(&store).await;
                    } else {
                        match store.append(&self.id, &to_store).await {
                            Ok(keys) => {
                                self.saving.stored_keys.borrow_mut().extend(keys);
                                self.saved();
                            }
                            Err(e) => self.save_failed(&store, e),
                        }
                    }
                    if !self.saving.needs_snapshot.get()
                        && self.saving.stored_keys.borrow().len() > COMPACT_AFTER
                    {
                        self.compact(&store).await;
                    }
                }
                Some(_) => {}
                None if !to_store.is_empty() => {
                    self.saving.needs_snapshot.set(true);
                    if self.view.save_error.try_get_untracked().flatten().is_none() {
                        self.view.report_save_error(
                            "Could not save to this device",
                            "its storage (IndexedDB) is not available; changes are kept in memory only",
                        );
                    }
                }
                None => {}
            }
            let own: Vec<Vec<u8>> = batch
                .iter()
                .filter(|(_, o)| *o == UpdateOrigin::Local)
                .map(|(u, _)| u.clone())
                .collect();
            if !own.is_empty() {
                if let Some(tabs) = self.tabs.borrow().as_ref() {
                    tabs.post(&own);
                }
            }
            if !outgoing.is_empty() {
                // A viewer's client sends nothing (see `sync`).
                if let Some(sync) = self.relay.client() {
                    sync.send_local(&outgoing);
                }
                self.remember_summary(true);
                self.view.changed(&self.incident);
            }
        }
        self.saving.writing.set(false);
    }

    /// Changes made here while this device is not in sync with the relay carry its clock
    /// (`Incident::note_device_time`), merged into the batch's last own change, so that the
    /// record bringing them up says when they were written ("written offline at …").
    fn note_device_time(&self, batch: &mut Vec<(Vec<u8>, UpdateOrigin)>) {
        // A playbook keeps no device times: the history views are an incident's.
        if self.is_playbook()
            || self
                .view
                .connection
                .try_get_untracked()
                .is_none_or(|c| c == Connection::Synced)
        {
            return;
        }
        let Some(last) = batch.iter().rposition(|(_, o)| *o == UpdateOrigin::Local) else {
            return;
        };
        self.incident
            .note_device_time(platform::now_millis() as i64);
        // The stamp's own change was queued as it committed.
        let stamps = std::mem::take(&mut *self.saving.queue.borrow_mut());
        for (stamp, _) in stamps {
            let merged = yrs::merge_updates_v1([batch[last].0.as_slice(), stamp.as_slice()]);
            match merged {
                Ok(merged) => batch[last].0 = merged,
                // Sent on its own then (the page counts one change more).
                Err(e) => {
                    platform::log_error(&format!("device time kept apart: {e}"));
                    batch.push((stamp, UpdateOrigin::Local));
                }
            }
        }
    }

    /// Replaces the incident's stored records with one snapshot of the whole document.
    async fn compact(&self, store: &Store) {
        let state = self.document_state();
        let old = self.saving.stored_keys.borrow().clone();
        match store.compact(&self.id, &state, &old).await {
            Ok(key) => {
                let mut keys = self.saving.stored_keys.borrow_mut();
                keys.retain(|k| !old.iter().any(|o| o == k));
                keys.insert(0, key);
                drop(keys);
                self.saved();
            }
            Err(e) => self.save_failed(store, e),
        }
    }

    /// Everything so far is stored.
    fn saved(&self) {
        self.saving.needs_snapshot.set(false);
        self.saving.attempts.set(0);
        if let Some(handle) = self.saving.retry.take() {
            handle.clear();
        }
        self.view.save_error.try_set(None);
    }

    /// A write failed: say so, and store a snapshot later.
    fn save_failed(&self, store: &Store, error: StoreError) {
        self.saving.needs_snapshot.set(true);
        self.view
            .report_save_error("Could not save to this device", error);
        // A database in a newer format stays read-only until the page is reloaded.
        if store.newer_version().is_none() {
            self.retry_save_later();
        }
    }

    fn retry_save_later(&self) {
        if self.closed.get() || self.saving.retry.get().is_some() {
            return;
        }
        let attempt = self.saving.attempts.get();
        self.saving.attempts.set(attempt.saturating_add(1));
        let wait = (FIRST_SAVE_RETRY_MS << attempt.min(5)).min(LAST_SAVE_RETRY_MS);
        let me = self.me.clone();
        let handle = set_timeout_with_handle(
            move || {
                if let Some(session) = me.upgrade() {
                    session.saving.retry.set(None);
                    wasm_bindgen_futures::spawn_local(session.save_again());
                }
            },
            Duration::from_millis(wait),
        );
        match handle {
            Ok(handle) => self.saving.retry.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }

    /// Tries to store the whole document again after a failed write.
    async fn save_again(self: Rc<Self>) {
        if self.closed.get()
            || !self.saving.needs_snapshot.get()
            || self.saving.writing.replace(true)
        {
            // The writer that is running stores a snapshot with its next batch.
            return;
        }
        let store = self.saving.store.borrow().clone();
        if let Some(store) = store {
            self.compact(&store).await;
        }
        self.saving.writing.set(false);
        if !self.saving.queue.borrow().is_empty() {
            self.schedule_write();
        }
    }

    /// What the database says while the page is open.
    pub(super) fn store_notice(&self, notice: StoreNotice) {
        match notice {
            StoreNotice::Replaced => {
                // Another tab runs a newer Firebreak and upgraded the database: this page
                // must not write into it any more.
                self.saving.store.borrow_mut().take();
                self.saving.needs_snapshot.set(true);
                self.view.report_save_error(
                    "Firebreak was updated in another tab",
                    "reload this page to keep saving on this device. Until then, changes stay in this page and still go to the relay.",
                );
            }
            StoreNotice::Blocked => self.view.report_save_error(
                "This device's data is being updated",
                "close the other Firebreak tabs (an older version) to go on.",
            ),
        }
    }
}
