//! This device's standing with the relay for the open incident, settled before it syncs.
//!
//! - Made here and not yet registered: it is registered (`POST /api/incidents` under its
//!   local id) as soon as the device is online, which returns the owner's token; only then
//!   does the sync socket open, and it carries everything written in the meantime.
//! - Opened from an invite link: the token is stored, the relay is asked what it allows
//!   (`GET …/me`), a device with no display name is asked for one (also when the relay
//!   cannot be reached: the invite is checked once the name is given), then it syncs.
//! - Neither, and nothing of it on this device: an invite link is needed; nothing connects.
//! - A refusal (revoked, expired, unknown, a viewer's write, an id taken on the relay) stops
//!   every attempt; what is on this device stays here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;

use super::Session;
use crate::access::{self, ApiError, FromLink, Refusal};
use crate::platform;
use crate::prefs::{self, DeviceGrant};
use wire::Access;

/// Waits between attempts to reach the relay's API: 2 s, 4 s … up to a minute.
const FIRST_RETRY_MS: u64 = 2_000;
const LAST_RETRY_MS: u64 = 60_000;

/// How long a device let in with nothing of the incident waits for the relay's first answer
/// before it draws the (empty) editor anyway.
const AWAIT_DOCUMENT_MS: u64 = 3_000;

/// What the relay lets this device do with the incident.
#[derive(Clone, Debug, PartialEq)]
pub enum Standing {
    /// This device's copy is being read.
    Loading,
    /// Made on this device and not on the relay yet; published when online.
    Unpublished,
    /// Being registered on the relay right now.
    Publishing,
    /// The relay takes new incidents only with its creation secret (`--create-secret`), and
    /// this device has none, or a wrong one (`wrong`): the person is asked for it.
    NeedsCreationSecret { wrong: bool },
    /// A token from an invite link: asking the relay what it allows.
    Checking,
    /// Invited by a link this device has no copy of the incident for, or with no display
    /// name yet: the join screen comes first (what the invite opens, the name to show).
    Naming { invited: String },
    /// Syncing with the relay in this role.
    Member(Access),
    /// The relay will not share the incident with this device.
    Refused(Refusal),
}

impl Standing {
    /// Whether changes made here may go anywhere: owners and editors, and an incident that
    /// is this device's own until it is published (or could not be).
    pub fn may_edit(&self) -> bool {
        match self {
            Standing::Member(role) => role.may_write(),
            Standing::Unpublished
            | Standing::Publishing
            | Standing::NeedsCreationSecret { .. }
            | Standing::Refused(Refusal::Taken) => true,
            _ => false,
        }
    }
}

/// Settling the standing: what the address bar brought, and the retry of an API call.
pub(super) struct Admission {
    /// What the address bar held when the page opened (an invite link?); taken once.
    from_link: RefCell<FromLink>,
    /// A pending retry of registering the incident or checking the invite.
    retry: Cell<Option<TimeoutHandle>>,
    attempts: Cell<u32>,
    /// A link brought an invite this device had no copy of the incident for: the join screen
    /// (what the invite opens, the name to show) comes first even on a device with a name.
    welcome: Cell<bool>,
}

impl Admission {
    pub(super) fn new(from_link: FromLink) -> Admission {
        Admission {
            from_link: RefCell::new(from_link),
            retry: Cell::new(None),
            attempts: Cell::new(0),
            welcome: Cell::new(false),
        }
    }

    pub(super) fn cancel_retry(&self) {
        if let Some(handle) = self.retry.take() {
            handle.clear();
        }
    }
}

fn online() -> bool {
    platform::window().navigator().on_line()
}

impl Session {
    /// Decides how this device reaches the relay, once its copy has loaded.
    pub(super) fn settle_access(self: &Rc<Self>, has_copy: bool) {
        let from_link = std::mem::replace(
            &mut *self.admission.from_link.borrow_mut(),
            FromLink::Nothing,
        );
        let held = prefs::access(&self.id);
        match from_link {
            FromLink::Token(token) => match &held {
                Some(access) if access.role == Some(Access::Owner) && access.token != token => {
                    // An owner's token cannot be shown again: never trade it for an invite.
                    self.sync_problem.try_set(Some(
                        "This device already holds the incident commander's access to this incident, so the invite link was not used.".to_string(),
                    ));
                }
                Some(access) if access.token == token => {}
                _ => {
                    prefs::set_access(&self.id, &DeviceGrant::from_link(&token));
                    prefs::set_unpublished(&self.id, false);
                    self.admission.welcome.set(!has_copy);
                }
            },
            FromLink::Broken if held.is_none() => return self.refuse(Refusal::BrokenLink),
            FromLink::Broken => {
                self.sync_problem.try_set(Some(
                    "The invite link in the address was incomplete, so it was not used."
                        .to_string(),
                ));
            }
            FromLink::Nothing => {}
        }
        match prefs::access(&self.id) {
            Some(DeviceGrant {
                role: Some(role), ..
            }) => self.join(role),
            Some(_) => self.check_invite(),
            None if prefs::unpublished(&self.id) || has_copy => {
                // Made here; or kept here from before incidents were invite-only, when the
                // first device to register an id becomes its owner.
                prefs::set_unpublished(&self.id, true);
                self.publish();
            }
            None => self.refuse(Refusal::NeedInvite),
        }
    }

    /// Stops for good: the relay refused this device.
    pub(super) fn refuse(&self, why: Refusal) {
        self.admission.cancel_retry();
        // Stopped, not dropped: this may run inside the client's own close handler.
        self.relay.stop();
        self.connection.try_set(crate::sync::Connection::Offline);
        self.awaiting_document.try_set(false);
        self.sync_problem.try_set(None);
        self.standing.try_set(Standing::Refused(why));
    }

    /// Syncs in `role`.
    pub(super) fn join(self: &Rc<Self>, role: Access) {
        self.admission.cancel_retry();
        self.admission.attempts.set(0);
        let nothing_here = !self.has_content()
            && !self.view.has_copy.try_get_untracked().unwrap_or(true)
            && self.relay.client().is_none();
        if nothing_here {
            self.await_document();
        }
        self.standing.try_set(Standing::Member(role));
        self.start_sync();
    }

    /// Holds the editor back until the relay's first answer (see `View::awaiting_document`),
    /// at most [`AWAIT_DOCUMENT_MS`].
    fn await_document(&self) {
        let awaiting = self.view.awaiting_document;
        awaiting.try_set(true);
        set_timeout(
            move || {
                awaiting.try_set(false);
            },
            Duration::from_millis(AWAIT_DOCUMENT_MS),
        );
    }

    /// The browser is online again: publish or check now rather than at the next retry.
    pub fn back_online(self: &Rc<Self>) {
        match self.standing.get_untracked() {
            Standing::Unpublished => {
                self.admission.cancel_retry();
                self.publish();
            }
            Standing::Checking => {
                self.admission.cancel_retry();
                self.check_invite();
            }
            _ => {
                if let Some(sync) = self.relay.client() {
                    sync.reconnect_now();
                }
            }
        }
    }

    /// The invited person typed a name: remembered on this device, then the incident syncs.
    pub fn named(self: &Rc<Self>, name: &str) {
        prefs::set_display_name(name.trim());
        // The join screen has been passed: the invite check that follows opens the incident.
        self.admission.welcome.set(false);
        let role = prefs::access(&self.id).and_then(|a| a.role);
        match role {
            Some(role) => self.join(role),
            None => self.check_invite(),
        }
    }

    /// The person typed the relay's creation secret: kept on this device, and the incident
    /// is published with it.
    pub fn creation_secret_given(self: &Rc<Self>, secret: &str) {
        prefs::set_create_secret(secret.trim());
        self.admission.cancel_retry();
        self.publish();
    }

    /// Tries `again` later: after the relay's `Retry-After`, or with a growing wait.
    fn retry_access(self: &Rc<Self>, error: &ApiError, again: fn(&Rc<Session>)) {
        self.admission.cancel_retry();
        let attempt = self.admission.attempts.get();
        self.admission.attempts.set(attempt.saturating_add(1));
        let wait = match error {
            ApiError::Refused {
                retry_after: Some(s),
                ..
            } => u64::from(*s) * 1000,
            _ => (FIRST_RETRY_MS << attempt.min(5)).min(LAST_RETRY_MS),
        };
        let me = Rc::downgrade(self);
        let handle = set_timeout_with_handle(
            move || {
                if let Some(session) = me.upgrade() {
                    session.admission.retry.set(None);
                    if !session.closed.get() {
                        again(&session);
                    }
                }
            },
            Duration::from_millis(wait),
        );
        match handle {
            Ok(handle) => self.admission.retry.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }

    /// Registers the incident made here under its own id, when online.
    fn publish(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        if !online() {
            // The page's `online` listener calls `back_online`.
            self.standing.try_set(Standing::Unpublished);
            return;
        }
        self.standing.try_set(Standing::Publishing);
        let session = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = access::register(&session.id, &prefs::display_name()).await;
            if session.closed.get() {
                return;
            }
            match result {
                Ok(owner) => {
                    prefs::set_access(
                        &session.id,
                        &DeviceGrant {
                            token: owner.token,
                            role: Some(Access::Owner),
                            invite: owner.invite,
                            name: owner.name,
                        },
                    );
                    prefs::set_unpublished(&session.id, false);
                    session.sync_problem.try_set(None);
                    session.join(Access::Owner);
                }
                Err(ApiError::Refused { status: 409, .. }) => {
                    // Another tab of this browser may have registered it a moment ago.
                    match prefs::access(&session.id).and_then(|a| a.role) {
                        Some(role) => session.join(role),
                        None => session.refuse(Refusal::Taken),
                    }
                }
                Err(ApiError::Refused { status: 401, .. }) => {
                    session.admission.cancel_retry();
                    session.sync_problem.try_set(None);
                    session.standing.try_set(Standing::NeedsCreationSecret {
                        wrong: prefs::create_secret().is_some(),
                    });
                }
                Err(e) if Refusal::from_api(&e) == Some(Refusal::Deleted) => {
                    session.refuse(Refusal::Deleted);
                }
                Err(e) => {
                    session.standing.try_set(Standing::Unpublished);
                    if matches!(e, ApiError::Refused { status, .. } if status < 500 && status != 429)
                    {
                        session.sync_problem.try_set(Some(format!(
                            "The relay did not accept this incident: {e}."
                        )));
                        return;
                    }
                    if !matches!(e, ApiError::Unreachable(_)) {
                        session
                            .sync_problem
                            .try_set(Some(format!("Could not publish this incident: {e}.")));
                    }
                    session.retry_access(&e, |s| s.publish());
                }
            }
        });
    }

    /// Refuses with `why`; a revocation first asks the relay who revoked this device's
    /// invite, so the person is told their name (the relay says it to the token's holder).
    pub(super) fn refuse_naming_revoker(self: &Rc<Self>, why: Refusal) {
        let Some(held) = prefs::access(&self.id).filter(|_| why == Refusal::Revoked(None)) else {
            return self.refuse(why);
        };
        let session = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let named = match access::me(&session.id, &held.token).await {
                Err(e) => match Refusal::from_api(&e) {
                    Some(named @ Refusal::Revoked(Some(_))) => named,
                    _ => why,
                },
                Ok(_) => why,
            };
            if !session.closed.get() {
                session.refuse(named);
            }
        });
    }

    /// Asks the relay what this device's token allows (a token just taken from a link, or
    /// one whose role an owner changed).
    pub(super) fn check_invite(self: &Rc<Self>) {
        let Some(held) = prefs::access(&self.id) else {
            return self.refuse(Refusal::NeedInvite);
        };
        self.standing.try_set(Standing::Checking);
        let session = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = access::me(&session.id, &held.token).await;
            if session.closed.get() {
                return;
            }
            match result {
                Ok(me) => {
                    let role = me.role;
                    if let Some(limit) = me.max_attachment_bytes.filter(|n| *n > 0) {
                        prefs::set_attachment_limit(limit);
                    }
                    prefs::set_access(
                        &session.id,
                        &DeviceGrant {
                            token: held.token,
                            role: Some(role),
                            invite: me.invite,
                            name: me.name.clone(),
                        },
                    );
                    session.sync_problem.try_set(None);
                    prefs::mark_opened(&session.id);
                    let welcome = session.admission.welcome.replace(false);
                    if welcome || prefs::display_name().trim().is_empty() {
                        session.admission.cancel_retry();
                        session
                            .standing
                            .try_set(Standing::Naming { invited: me.name });
                    } else {
                        session.join(role);
                    }
                }
                Err(e) => match Refusal::from_api(&e) {
                    Some(why) => session.refuse(why),
                    None if matches!(e, ApiError::Unreachable(_))
                        && prefs::display_name().trim().is_empty() =>
                    {
                        // No relay: the name is asked for all the same (the join screen says
                        // it cannot show what the invite opens); the invite is checked again
                        // once the name is given.
                        session.admission.cancel_retry();
                        session.sync_problem.try_set(None);
                        session.standing.try_set(Standing::Naming {
                            invited: String::new(),
                        });
                    }
                    None => {
                        session.sync_problem.try_set(Some(format!(
                            "Could not check your invite: {e}. Trying again…"
                        )));
                        session.retry_access(&e, |s| s.check_invite());
                    }
                },
            }
        });
    }
}
