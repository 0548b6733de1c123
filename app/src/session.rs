//! The open incident: the CRDT document, its IndexedDB copy, the other tabs with it open and
//! its relay connection, wired together. Each has its own part: [`view`] (the signals the page
//! reads), [`saving`] (the copy on this device, and how changes are stored and handed on),
//! [`relay`] (the sync client and what it has not confirmed).
//!
//! Before it syncs, the session settles this device's standing with the relay (see
//! [`standing`]): an incident made here is registered first, a token from an invite link is
//! checked, and a refusal stops the sync for good.
//!
//! Components reach the open incident through [`OpenIncident`] in Leptos context.
//!
//! A playbook is a document too, saved, shared and synced exactly like an incident: a
//! session opened with [`OpenIncident::open_playbook`] holds a [`Playbook`] and hands its
//! changes through the same parts (its `incident` stays empty and unused).

mod ending;
mod relay;
mod saving;
mod standing;
mod view;

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::{Rc, Weak};

use incident::playbook::Playbook;
use incident::{Incident, ModelError, Subscription, UpdateOrigin};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::access::FromLink;
use crate::sync::SyncClient;
use crate::tabs::TabLink;
use crate::{binding, platform, prefs};
use relay::RelayLink;
use saving::Saving;
use standing::Admission;
pub use standing::Standing;
pub use view::View;

/// Compact an incident's stored records into one snapshot beyond this many.
const COMPACT_AFTER: usize = 200;

/// An incident created on the home page a moment ago: its id, title, and the starter
/// playbook it starts from, if any.
type Created = (String, String, Option<String>, bool);

thread_local! {
    /// An incident created on the home page a moment ago. The incident page initialises it
    /// after loading, so creation and storage take one path.
    static JUST_CREATED: RefCell<Option<Created>> = const { RefCell::new(None) };
}

/// Hands a new incident's title, the starter playbook it starts from if any (one of
/// `incident::playbook::STARTER_IDS`) and whether it is a drill to the incident page that is
/// about to open it.
pub fn remember_created(id: &str, title: &str, playbook: Option<&str>, drill: bool) {
    JUST_CREATED.with(|c| {
        *c.borrow_mut() = Some((
            id.to_string(),
            title.to_string(),
            playbook.map(str::to_string),
            drill,
        ))
    });
}

thread_local! {
    /// An incident file opened on the home page a moment ago: (new id, its document).
    static JUST_OPENED: RefCell<Option<(String, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Hands an opened incident file's document to the incident page about to open it as the
/// new incident `id`: it becomes this device's local copy (saved, then put on the relay like
/// an incident created offline).
pub fn remember_opened_file(id: &str, state: Vec<u8>) {
    JUST_OPENED.with(|c| *c.borrow_mut() = Some((id.to_string(), state)));
}

fn take_opened_file(id: &str) -> Option<Vec<u8>> {
    JUST_OPENED.with(|c| {
        let mut slot = c.borrow_mut();
        match slot.as_ref() {
            Some((opened, _)) if opened == id => slot.take().map(|(_, state)| state),
            _ => None,
        }
    })
}

fn take_created(id: &str) -> Option<(String, Option<String>, bool)> {
    JUST_CREATED.with(|c| {
        let mut slot = c.borrow_mut();
        match slot.as_ref() {
            Some((created, _, _, _)) if created == id => slot
                .take()
                .map(|(_, title, playbook, drill)| (title, playbook, drill)),
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

/// One incident open on this page. Each part owns one thing: [`View`] the signals the page
/// reads (reached as if they were the session's own fields: `session.revision`), [`Saving`]
/// the copy on this device, [`RelayLink`] the relay connection, [`Admission`] the settling of
/// this device's standing; the session holds the document and the other tabs, and wires the
/// parts together.
pub struct Session {
    pub id: String,
    pub incident: Incident,
    /// Set when the open document is a playbook (`/playbook/{id}`), not an incident.
    pub playbook: Option<Playbook>,
    view: View,
    saving: Saving,
    relay: RelayLink,
    admission: Admission,
    me: Weak<Session>,
    subscription: RefCell<Option<Subscription>>,
    /// Other tabs of this browser with this incident open.
    tabs: RefCell<Option<TabLink>>,
    closed: Cell<bool>,
    /// Transactions that changed the document, counted by its update listener: an update
    /// from the relay that changed nothing (the answer to a checkpoint after each of this
    /// device's own changes) need not make the page read the incident again.
    commits: Cell<u64>,
}

impl Deref for Session {
    type Target = View;
    fn deref(&self) -> &View {
        &self.view
    }
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
        Self::open_document(id, from_link, None)
    }

    /// Opens the playbook `id` the same way: this device's copy, its standing, the relay.
    pub fn open_playbook(id: &str, from_link: FromLink) -> OpenIncident {
        Self::open_document(id, from_link, Some(Playbook::new()))
    }

    fn open_document(id: &str, from_link: FromLink, playbook: Option<Playbook>) -> OpenIncident {
        let pending = prefs::pending(id);
        let session = Rc::new_cyclic(|me: &Weak<Session>| Session {
            id: id.to_string(),
            incident: Incident::new(),
            playbook,
            view: View::new(pending),
            saving: Saving::new(),
            relay: RelayLink::new(pending),
            admission: Admission::new(from_link),
            me: me.clone(),
            subscription: RefCell::new(None),
            tabs: RefCell::new(None),
            closed: Cell::new(false),
            commits: Cell::new(0),
        });
        let me = Rc::downgrade(&session);
        let queue = move |update: &[u8], origin| {
            // Runs inside the commit: only queue, never touch the document here.
            if let Some(session) = me.upgrade() {
                session.commits.set(session.commits.get().wrapping_add(1));
                session.saving.queue(update.to_vec(), origin);
                session.schedule_write();
            }
        };
        let subscription = match &session.playbook {
            Some(playbook) => playbook.on_update(queue),
            None => session.incident.on_update(queue),
        };
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
        self.admission.cancel_retry();
        self.saving.cancel_retry();
        self.relay.close();
        self.subscription.borrow_mut().take();
        self.tabs.borrow_mut().take();
    }

    pub fn sync_client(&self) -> Option<SyncClient> {
        self.relay.client()
    }

    /// The browser is online again: publish, check the invite or reconnect now.
    pub fn back_online(&self) {
        self.0.back_online();
    }

    /// The invited person gave their name; the incident opens and syncs.
    pub fn named(&self, name: &str) {
        self.0.named(name);
    }

    /// The relay refused this device's token (asked for the invite's preview): stops, as
    /// any refusal does.
    pub fn refused(&self, why: crate::access::Refusal) {
        self.0.refuse(why);
    }

    /// The person typed the relay's creation secret; the incident is published with it.
    pub fn creation_secret_given(&self, secret: &str) {
        self.0.creation_secret_given(secret);
    }

    /// The owner's token was replaced: the new one is kept here and the sync uses it.
    pub fn rotated(&self, owner: wire::api::IncidentCreated) {
        self.0.rotated(owner);
    }

    /// Removes the incident from this device (it was deleted on the relay); the page
    /// should leave it afterwards.
    pub async fn remove_from_device(&self) -> Result<(), String> {
        self.0.remove_from_device().await
    }

    /// True once the incident is being removed from this device: nothing more of it is
    /// to be written here (its read mark included).
    pub fn removed_from_device(&self) -> bool {
        self.0.saving.removed.get()
    }
}

impl Session {
    fn rc(&self) -> Option<Rc<Session>> {
        self.me.upgrade()
    }

    /// A read of part of the open incident, in a view: tracks the signals of the roots the
    /// read looked at (`incident::reading`), so the view runs again only after a change to
    /// one of them, not after every keystroke elsewhere.
    pub fn read<T>(&self, read: impl FnOnce(&Incident) -> T) -> T {
        let (value, looked) = incident::reading(|| read(&self.incident));
        self.view.track_read(looked);
        value
    }

    /// Whether the open document is a playbook.
    pub fn is_playbook(&self) -> bool {
        self.playbook.is_some()
    }

    /// The page of the open document: `/incident/{id}` or `/playbook/{id}`.
    pub fn page_path(&self) -> String {
        if self.is_playbook() {
            crate::router::playbook_path(&self.id)
        } else {
            crate::router::incident_path(&self.id)
        }
    }

    /// Whether the document's content has arrived (its schema is written).
    fn has_content(&self) -> bool {
        match &self.playbook {
            Some(playbook) => playbook.schema_version().is_some(),
            None => self.incident.schema_version().is_some(),
        }
    }

    /// Applies an update to the open document, whichever it is.
    fn apply_to_document(&self, update: &[u8], origin: UpdateOrigin) -> Result<(), ModelError> {
        match &self.playbook {
            Some(playbook) => playbook.apply_update(update, origin),
            None => self.incident.apply_update(update, origin),
        }
    }

    /// An update from elsewhere (the relay, another tab): an incident's keeps the caret of
    /// the person typing where it was.
    fn apply_remote(&self, update: &[u8], origin: UpdateOrigin) -> Result<(), ModelError> {
        match &self.playbook {
            Some(playbook) => playbook.apply_update(update, origin),
            None => binding::apply_remote(&self.incident, update, origin),
        }
    }

    fn document_client_id(&self) -> yrs::ClientID {
        match &self.playbook {
            Some(playbook) => playbook.doc().client_id(),
            None => self.incident.doc().client_id(),
        }
    }

    fn document_state_vector(&self) -> Vec<u8> {
        match &self.playbook {
            Some(playbook) => playbook.state_vector(),
            None => self.incident.state_vector(),
        }
    }

    fn document_diff(&self, remote: &[u8]) -> Result<Vec<u8>, ModelError> {
        match &self.playbook {
            Some(playbook) => playbook.encode_diff(remote),
            None => self.incident.encode_diff(remote),
        }
    }

    fn document_state(&self) -> Vec<u8> {
        match &self.playbook {
            Some(playbook) => playbook.encode_state(),
            None => self.incident.encode_state(),
        }
    }

    /// A change another tab of this browser made and stored.
    fn receive_from_tab(&self, update: &[u8]) {
        if let Err(e) = self.apply_remote(update, UpdateOrigin::OtherTab) {
            platform::log_error(&format!("a change from another tab was refused: {e}"));
            return;
        }
        self.remember_summary(true);
        self.view.changed(&self.incident);
    }

    async fn load(self: Rc<Self>) {
        let stored = self.load_stored().await;
        if self.closed.get() {
            return;
        }
        if let Some((title, playbook, drill)) = take_created(&self.id) {
            if !self.has_content() {
                let now = platform::now_rfc3339();
                // A starter is bundled in the app, a team's playbook is on this device: this
                // works offline too.
                let from = match playbook {
                    Some(id) => match incident::playbook::starter_contents(&id) {
                        Some(starter) => Some(starter),
                        None => crate::playbooks::load(&id).await.map(|p| {
                            let from = incident::playbook::StartedFrom {
                                id: p.id(),
                                name: p.name(),
                                version: p.version(),
                            };
                            (p.contents(), from)
                        }),
                    },
                    None => None,
                };
                self.incident.initialize(&title, &now);
                self.incident.set_drill(drill);
                if let Some((contents, from)) = from {
                    let by = prefs::display_name();
                    contents.prefill(&self.incident, &from, &now, &by, &mut platform::new_id);
                }
            }
        }
        if let Some(state) = take_opened_file(&self.id) {
            // A local edit: saved on this device and sent to the relay once it is there. A
            // playbook file of one this device has merges into it.
            if !self.has_content() || self.is_playbook() {
                if let Err(e) = self.apply_to_document(&state, UpdateOrigin::Local) {
                    platform::log_error(&format!("the opened file: {e}"));
                }
            }
        }
        let has_copy = stored || self.has_content();
        self.view.has_copy.try_set(has_copy);
        self.settle_access(has_copy);
        // Listed on the home page once it is here, or the relay has let this device in (an
        // invite still being checked is listed when the relay answers).
        if has_copy || prefs::access(&self.id).is_some_and(|a| a.role.is_some()) {
            if !self.is_playbook() {
                prefs::mark_opened(&self.id);
            }
            self.remember_summary(false);
        }
        self.view.loaded.try_set(true);
        self.view.changed(&self.incident);
    }

    /// Keeps the home page's copy of this incident current; `changed`: it changed just now.
    fn remember_summary(&self, changed: bool) {
        if let Some(playbook) = &self.playbook {
            prefs::remember_playbook(&self.id, &playbook.name(), playbook.version());
            return;
        }
        let incident = &self.incident;
        let commander = incident
            .role_holder(incident::Role::Commander)
            .map(|holder| holder.name)
            .unwrap_or_default();
        let started_from = incident.started_from();
        prefs::remember_summary(
            &self.id,
            &prefs::Summary {
                title: &incident.title(),
                tlp: incident.tlp().as_str(),
                status: incident.status().key(),
                commander: &commander,
                drill: incident.is_drill(),
                severity: incident.severity().map_or("", incident::Severity::key),
                incident_type: incident
                    .incident_type()
                    .map_or("", incident::IncidentType::key),
                started_from: started_from.as_ref().map(|from| from.id.as_str()),
            },
            changed,
        );
    }
}
