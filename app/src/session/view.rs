//! What the page shows of the open incident: the Leptos signals components read. Each
//! other part of the session writes its own: saving writes `save_error`, the relay link
//! `connection`, `pending`, `presence` and `sync_problem`, standing `standing`.
//!
//! A change to the document moves `revision` (what shows the whole incident, such as the
//! catch-up card, tracks it) and the signal of each root the change touched: a view of part of
//! the incident reads it through [`View::track_read`] (`Session::read`), which tracks only the
//! roots that read looked at, so a keystroke in the summary does not make the timeline, the
//! indicators or the other sections read the incident again.

use incident::{Incident, RootSet, RootVersions};
use leptos::prelude::*;

use super::Standing;
use crate::platform;
use crate::sync::{Connection, Peer};

/// The open incident's view state. Signals are handles: copies share the same values.
#[derive(Clone, Copy)]
pub struct View {
    /// Bumped after every change to the document; what shows the whole document tracks it
    /// (a view of part of it tracks only the roots it read: [`View::track_read`]).
    pub revision: RwSignal<u64>,
    /// One signal per root of the incident, in the order of `incident::roots()`: notified
    /// after a change that touched that root.
    roots: StoredValue<Vec<Trigger>>,
    /// The roots' change counters when the page last heard of a change.
    seen: StoredValue<RootVersions>,
    /// True once this device's stored copy has been applied.
    pub loaded: RwSignal<bool>,
    pub connection: RwSignal<Connection>,
    /// Local changes not yet confirmed by the relay.
    pub pending: RwSignal<u32>,
    /// Why the last write to this device failed, until one succeeds.
    pub save_error: RwSignal<Option<String>>,
    pub sync_problem: RwSignal<Option<String>>,
    pub presence: RwSignal<Vec<Peer>>,
    /// What the relay lets this device do with the incident.
    pub standing: RwSignal<Standing>,
    /// True when this device holds a copy of the incident (stored, or just made here).
    pub has_copy: RwSignal<bool>,
    /// Let in with nothing of the incident on this device: the relay's first answer is on
    /// its way (until it has come, the connection failed, or 3 s have passed). The page
    /// draws the editor once, with the incident, instead of empty first.
    pub awaiting_document: RwSignal<bool>,
}

impl View {
    /// `pending`: the changes this device counted as not on the relay when it last ran.
    pub(super) fn new(pending: u32) -> View {
        View {
            revision: RwSignal::new(0),
            roots: StoredValue::new(incident::roots().iter().map(|_| Trigger::new()).collect()),
            seen: StoredValue::new(RootVersions::default()),
            loaded: RwSignal::new(false),
            connection: RwSignal::new(Connection::Offline),
            pending: RwSignal::new(pending),
            save_error: RwSignal::new(None),
            sync_problem: RwSignal::new(None),
            presence: RwSignal::new(Vec::new()),
            standing: RwSignal::new(Standing::Loading),
            has_copy: RwSignal::new(false),
            awaiting_document: RwSignal::new(false),
        }
    }

    /// Something changed the document outside a field's own input handler: what shows the
    /// roots it touched (and the whole document) re-renders.
    pub fn changed(&self, incident: &Incident) {
        let now = incident.root_versions();
        let touched = self
            .seen
            .try_update_value(|seen| {
                let touched = now.touched_since(seen);
                *seen = now;
                touched
            })
            .unwrap_or_default();
        self.roots.try_with_value(|roots| {
            for i in touched.indices() {
                if let Some(root) = roots.get(i) {
                    root.notify();
                }
            }
        });
        self.revision.try_update(|r| *r += 1);
    }

    /// Tracks the signals of the roots `looked` (what a read looked at, `incident::reading`):
    /// the running view re-runs after a change to one of them.
    pub fn track_read(&self, looked: RootSet) {
        self.roots.try_with_value(|roots| {
            for i in looked.indices() {
                if let Some(root) = roots.get(i) {
                    root.track();
                }
            }
        });
    }

    /// A write to this device failed: logged, and shown until one succeeds.
    pub(super) fn report_save_error(&self, what: &str, error: impl std::fmt::Display) {
        let message = format!("{what}: {error}");
        platform::log_error(&message);
        self.save_error.try_set(Some(message));
    }
}
