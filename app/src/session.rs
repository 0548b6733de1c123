//! The open incident: the CRDT document, its IndexedDB copy, the other tabs with it open and
//! its relay connection, wired together. How changes are stored and handed on is in
//! [`saving`].
//!
//! Before it syncs, the session settles this device's standing with the relay (see
//! [`standing`]): an incident made here is registered first, a token from an invite link is
//! checked, and a refusal stops the sync for good.
//!
//! Components reach the open incident through [`OpenIncident`] in Leptos context.

mod saving;
mod standing;

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::{Rc, Weak};

use incident::{Incident, Subscription, UpdateOrigin};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::access::FromLink;
use crate::store::{RecordKey, Store};
use crate::sync::{self, Connection, Peer, Replica, SyncClient};
use crate::tabs::TabLink;
use crate::{binding, platform, prefs};
pub use standing::Standing;

/// Compact an incident's stored records into one snapshot beyond this many.
const COMPACT_AFTER: usize = 200;

thread_local! {
    /// An incident created on the home page a moment ago: (id, title). The incident page
    /// initialises it after loading, so creation and storage take one path.
    static JUST_CREATED: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Hands a new incident's title to the incident page that is about to open it.
pub fn remember_created(id: &str, title: &str) {
    JUST_CREATED.with(|c| *c.borrow_mut() = Some((id.to_string(), title.to_string())));
}

fn take_created(id: &str) -> Option<String> {
    JUST_CREATED.with(|c| {
        let mut slot = c.borrow_mut();
        match slot.as_ref() {
            Some((created, _)) if created == id => slot.take().map(|(_, title)| title),
            _ => None,
        }
    })
}

fn origin_name(origin: UpdateOrigin) -> &'static str {
    match origin {
        UpdateOrigin::Local => "local",
        UpdateOrigin::Relay => "relay",
        UpdateOrigin::Storage => "storage",
        UpdateOrigin::OtherTab => "other-tab",
    }
}

/// One incident open on this page.
pub struct Session {
    pub id: String,
    pub incident: Incident,
    /// Bumped after every change to the document; what shows document fields tracks it.
    pub revision: RwSignal<u64>,
    /// True once this device's stored copy has been applied.
    pub loaded: RwSignal<bool>,
    pub connection: RwSignal<Connection>,
    /// Local changes not yet confirmed by the relay (shown; `unconfirmed` is the count).
    pub pending: RwSignal<u32>,
    unconfirmed: Cell<u32>,
    /// Why the last write to this device failed, until one succeeds.
    pub save_error: RwSignal<Option<String>>,
    pub sync_problem: RwSignal<Option<String>>,
    pub presence: RwSignal<Vec<Peer>>,
    /// What the relay lets this device do with the incident.
    pub standing: RwSignal<Standing>,
    /// True when this device holds a copy of the incident (stored, or just made here).
    pub has_copy: RwSignal<bool>,
    /// What the address bar held when the page opened (an invite link?).
    from_link: RefCell<FromLink>,
    /// A pending retry of registering the incident or checking the invite.
    access_retry: Cell<Option<TimeoutHandle>>,
    access_attempts: Cell<u32>,
    me: Weak<Session>,
    store: RefCell<Option<Store>>,
    stored_keys: RefCell<Vec<RecordKey>>,
    /// A write failed: the next successful write should be a full snapshot.
    needs_snapshot: Cell<bool>,
    /// A pending retry of a failed write, and how many retries came before it.
    save_retry: Cell<Option<TimeoutHandle>>,
    save_attempts: Cell<u32>,
    queue: RefCell<Vec<(Vec<u8>, UpdateOrigin)>>,
    writing: Cell<bool>,
    sync: RefCell<Option<SyncClient>>,
    subscription: RefCell<Option<Subscription>>,
    /// Other tabs of this browser with this incident open.
    tabs: RefCell<Option<TabLink>>,
    closed: Cell<bool>,
}

/// The open incident, as provided through context.
#[derive(Clone)]
pub struct OpenIncident(SendWrapper<Rc<Session>>);

impl Deref for OpenIncident {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

/// The open incident from context. Only call under an incident page.
pub fn use_incident() -> OpenIncident {
    expect_context::<OpenIncident>()
}

impl OpenIncident {
    /// Opens the incident: loads this device's copy, settles access (`from_link`: what the
    /// address bar held), then connects to the relay.
    pub fn open(id: &str, from_link: FromLink) -> OpenIncident {
        let pending = prefs::pending(id);
        let session = Rc::new_cyclic(|me: &Weak<Session>| Session {
            id: id.to_string(),
            incident: Incident::new(),
            revision: RwSignal::new(0),
            loaded: RwSignal::new(false),
            connection: RwSignal::new(Connection::Offline),
            pending: RwSignal::new(pending),
            unconfirmed: Cell::new(pending),
            save_error: RwSignal::new(None),
            sync_problem: RwSignal::new(None),
            presence: RwSignal::new(Vec::new()),
            standing: RwSignal::new(Standing::Loading),
            has_copy: RwSignal::new(false),
            from_link: RefCell::new(from_link),
            access_retry: Cell::new(None),
            access_attempts: Cell::new(0),
            me: me.clone(),
            store: RefCell::new(None),
            stored_keys: RefCell::new(Vec::new()),
            needs_snapshot: Cell::new(false),
            save_retry: Cell::new(None),
            save_attempts: Cell::new(0),
            queue: RefCell::new(Vec::new()),
            writing: Cell::new(false),
            sync: RefCell::new(None),
            subscription: RefCell::new(None),
            tabs: RefCell::new(None),
            closed: Cell::new(false),
        });
        let me = Rc::downgrade(&session);
        let subscription = session.incident.on_update(move |update, origin| {
            // Runs inside the commit: only queue, never touch the document here.
            if let Some(session) = me.upgrade() {
                session.queue.borrow_mut().push((update.to_vec(), origin));
                session.schedule_write();
            }
        });
        *session.subscription.borrow_mut() = Some(subscription);
        let me = Rc::downgrade(&session);
        *session.tabs.borrow_mut() = TabLink::open(id, move |update| {
            if let Some(session) = me.upgrade() {
                session.receive_from_tab(update);
            }
        });
        let loading = session.clone();
        wasm_bindgen_futures::spawn_local(async move { loading.load().await });
        OpenIncident(SendWrapper::new(session))
    }

    /// Closes the relay connection and stops listening; the page is going away.
    pub fn close(&self) {
        self.closed.set(true);
        self.cancel_access_retry();
        if let Some(handle) = self.save_retry.take() {
            handle.clear();
        }
        if let Some(sync) = self.sync.borrow_mut().take() {
            sync.stop();
        }
        self.subscription.borrow_mut().take();
        self.tabs.borrow_mut().take();
    }

    pub fn sync_client(&self) -> Option<SyncClient> {
        self.sync.borrow().clone()
    }

    /// The browser is online again: publish, check the invite or reconnect now.
    pub fn back_online(&self) {
        self.0.back_online();
    }

    /// The invited person gave their name; the incident opens and syncs.
    pub fn named(&self, name: &str) {
        self.0.named(name);
    }
}

impl Session {
    fn rc(&self) -> Option<Rc<Session>> {
        self.me.upgrade()
    }

    /// A change another tab of this browser made and stored.
    fn receive_from_tab(&self, update: &[u8]) {
        if let Err(e) = binding::apply_remote(&self.incident, update, UpdateOrigin::OtherTab) {
            platform::log_error(&format!("a change from another tab was refused: {e}"));
            return;
        }
        self.remember_summary(true);
        self.changed();
    }

    /// Something changed the document outside a field's own input handler: re-render.
    pub fn changed(&self) {
        self.revision.try_update(|r| *r += 1);
    }

    fn report_save_error(&self, what: &str, error: impl std::fmt::Display) {
        let message = format!("{what}: {error}");
        platform::log_error(&message);
        self.save_error.try_set(Some(message));
    }

    async fn load(self: Rc<Self>) {
        let me = self.me.clone();
        let opened = Store::open(move |notice| {
            if let Some(session) = me.upgrade() {
                session.store_notice(notice);
            }
        })
        .await;
        match opened {
            Ok(store) => match store.load(&self.id).await {
                Ok(records) => {
                    let mut unreadable = 0;
                    for record in &records {
                        if self
                            .incident
                            .apply_update(&record.bytes, UpdateOrigin::Storage)
                            .is_err()
                        {
                            unreadable += 1;
                        }
                    }
                    if unreadable > 0 {
                        self.report_save_error(
                            "Some changes stored on this device could not be read",
                            format!("{unreadable} skipped"),
                        );
                    }
                    *self.stored_keys.borrow_mut() = records.into_iter().map(|r| r.key).collect();
                    if let Some(version) = store.newer_version() {
                        self.report_save_error(
                            "This page cannot save on this device",
                            format!("a newer Firebreak stored its data here (format {version}); reload the page to update. Until then, changes stay in this page and still go to the relay."),
                        );
                    } else {
                        self.save_error.try_set(None);
                    }
                    *self.store.borrow_mut() = Some(store);
                }
                Err(e) => {
                    self.report_save_error("Could not read this device's copy", e);
                    *self.store.borrow_mut() = Some(store);
                }
            },
            Err(e) => self.report_save_error("Could not save to this device", e),
        }
        if self.closed.get() {
            return;
        }
        if let Some(title) = take_created(&self.id) {
            if self.incident.schema_version().is_none() {
                self.incident.initialize(&title, &platform::now_rfc3339());
            }
        }
        let has_copy =
            !self.stored_keys.borrow().is_empty() || self.incident.schema_version().is_some();
        self.has_copy.try_set(has_copy);
        self.settle_access(has_copy);
        // Listed on the home page once it is here, or the relay has let this device in (an
        // invite still being checked is listed when the relay answers).
        if has_copy || prefs::access(&self.id).is_some_and(|a| a.role.is_some()) {
            prefs::mark_opened(&self.id);
            self.remember_summary(false);
        }
        self.loaded.try_set(true);
        self.changed();
    }

    fn start_sync(self: &Rc<Self>) {
        if self.closed.get() || self.sync.borrow().is_some() {
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
        let me: Rc<dyn Replica> = self.clone();
        let replica = Rc::downgrade(&me);
        let client = SyncClient::start(
            sync::relay_url(&self.id, &access.token),
            self.incident.doc().clone(),
            replica,
            user,
        );
        *self.sync.borrow_mut() = Some(client);
    }

    /// Keeps the home page's copy of this incident current; `changed`: it changed just now.
    fn remember_summary(&self, changed: bool) {
        let incident = &self.incident;
        let commander = incident
            .role_holder(incident::Role::Commander)
            .map(|holder| holder.name)
            .unwrap_or_default();
        prefs::remember_summary(
            &self.id,
            &prefs::Summary {
                title: &incident.title(),
                tlp: incident.tlp().as_str(),
                status: incident.status().key(),
                commander: &commander,
            },
            changed,
        );
    }
}

impl Replica for Session {
    fn state_vector(&self) -> Vec<u8> {
        self.incident.state_vector()
    }

    fn diff_for(&self, remote_state_vector: &[u8]) -> Result<Vec<u8>, String> {
        self.incident
            .encode_diff(remote_state_vector)
            .map_err(|e| format!("The relay asked for changes in a form we cannot read: {e}"))
    }

    fn receive(&self, update: &[u8]) -> Result<(), String> {
        let result = binding::apply_remote(&self.incident, update, UpdateOrigin::Relay)
            .map_err(|e| format!("A change from the relay was refused: {e}"));
        self.remember_summary(true);
        self.changed();
        result
    }

    fn unconfirmed(&self) -> u32 {
        self.unconfirmed.get()
    }

    fn confirmed(&self, count: u32) {
        self.set_pending(self.unconfirmed.get().saturating_sub(count));
    }

    fn connection_changed(&self, state: Connection) {
        self.connection.try_set(state);
    }

    fn presence_changed(&self, peers: Vec<Peer>) {
        self.presence.try_set(peers);
    }

    fn problem(&self, message: Option<String>) {
        if let Some(m) = &message {
            platform::log_error(m);
        }
        self.sync_problem.try_set(message);
    }

    fn may_write(&self) -> bool {
        self.standing
            .try_get_untracked()
            .is_some_and(|s| s.may_edit())
    }

    fn refused(&self, why: crate::access::Refusal) {
        self.refuse(why);
    }
}
