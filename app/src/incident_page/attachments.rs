//! Evidence attachments on the page: a file, a photo or a pasted screenshot attached to the
//! Appendix, a timeline event or an indicator.
//!
//! Attaching hashes the file (WebCrypto), keeps its bytes on this device (IndexedDB `blobs`,
//! marked pending) and writes the entry into the document at once, so it syncs and shows
//! offline; [`Evidence`] then uploads what is pending whenever the relay can be reached
//! (backing off while it cannot; a refusal is shown on the file and never retried). Images
//! of the four types a browser cannot run script from show as thumbnails made from bytes
//! whose SHA-256 was checked; a download is checked the same way before it is offered.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use incident::{is_thumbnail_type, AttachTarget, Attachment};
use js_sys::Uint8Array;
use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::evidence::{self, Download, Upload};
use crate::incident_page::clipboard;
use crate::session::{use_incident, OpenIncident, Standing};
use crate::store::{BlobState, LocalBlob, Store};
use crate::{people, platform, prefs};

/// Waits between upload attempts while the relay cannot be reached: 2 s, doubling, at most
/// a minute.
const FIRST_RETRY_MS: u32 = 2_000;
const LAST_RETRY_MS: u32 = 60_000;

/// What a phone's picker offers (its camera, photos, text files); a computer's takes any.
const PHONE_ACCEPT: &str = "image/*,text/plain,.txt,.log,.csv,.json,.pdf,.zip";

/// Where one file's bytes stand, as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Local {
    /// Kept here, not on the relay yet.
    Pending,
    /// Being sent now.
    Uploading,
    /// On the relay (and here).
    Uploaded,
    /// The relay refused it; why.
    Refused(String),
    /// Not here, and not on the relay yet (the device that attached it has not sent it).
    NotYet,
}

impl Local {
    fn key(&self) -> &'static str {
        match self {
            Local::Pending => "pending",
            Local::Uploading => "uploading",
            Local::Uploaded => "uploaded",
            Local::Refused(_) => "refused",
            Local::NotYet => "not-uploaded",
        }
    }

    fn text(&self, online: bool) -> String {
        match self {
            Local::Pending if online => "waiting to upload".to_string(),
            Local::Pending => "waiting for connection".to_string(),
            Local::Uploading => "uploading…".to_string(),
            Local::Uploaded => "uploaded".to_string(),
            Local::Refused(why) => format!("not uploaded: {why}"),
            Local::NotYet => {
                "not on the relay yet (the device that attached it is offline)".to_string()
            }
        }
    }
}

struct Inner {
    open: OpenIncident,
    /// By SHA-256.
    states: RwSignal<HashMap<String, Local>>,
    /// Thumbnails (`blob:` addresses of checked bytes), by SHA-256.
    urls: RwSignal<HashMap<String, String>>,
    /// The last problem with a file (a failed check, a download that could not be made).
    problems: RwSignal<HashMap<String, String>>,
    /// Every attachment of the incident, read again only when one changes.
    all: Memo<Vec<(String, Attachment)>>,
    /// Images shown on the page whose thumbnail is not made yet.
    wanted: RefCell<HashSet<String>>,
    running: Cell<bool>,
    again: Cell<bool>,
    backoff: Cell<u32>,
    retry: Cell<Option<TimeoutHandle>>,
    closed: Cell<bool>,
}

/// The open incident's attachments: their bytes on this device and on the relay.
#[derive(Clone)]
pub struct Evidence(SendWrapper<Rc<Inner>>);

/// The [`Evidence`] of the incident page.
pub fn use_evidence() -> Evidence {
    expect_context::<Evidence>()
}

impl Evidence {
    /// Starts keeping the open incident's attachments for as long as the page shows it.
    pub fn provide(open: &OpenIncident) -> Evidence {
        let version = super::watch(open, |i| i.attachments_version());
        let all = {
            let open = open.clone();
            // `get`, not `track`: a memo only learns it changed when it is read.
            Memo::new(move |_| {
                version.get();
                open.incident.attachments()
            })
        };
        let inner = Rc::new(Inner {
            open: open.clone(),
            states: RwSignal::new(HashMap::new()),
            urls: RwSignal::new(HashMap::new()),
            problems: RwSignal::new(HashMap::new()),
            all,
            wanted: RefCell::new(HashSet::new()),
            running: Cell::new(false),
            again: Cell::new(false),
            backoff: Cell::new(FIRST_RETRY_MS),
            retry: Cell::new(None),
            closed: Cell::new(false),
        });
        let evidence = Evidence(SendWrapper::new(inner));
        provide_context(evidence.clone());

        // Whenever this device's standing, its connection or the attachments change.
        let (standing, connection) = (open.standing, open.connection);
        let kick = evidence.clone();
        Effect::new(move |_| {
            standing.track();
            connection.track();
            version.get();
            kick.kick();
        });
        let back = evidence.clone();
        let online = window_event_listener(ev::online, move |_| {
            back.0.backoff.set(FIRST_RETRY_MS);
            back.kick();
        });
        let closing = evidence.clone();
        on_cleanup(move || {
            online.remove();
            closing.0.closed.set(true);
            if let Some(handle) = closing.0.retry.take() {
                handle.clear();
            }
            for url in closing
                .0
                .urls
                .try_get_untracked()
                .unwrap_or_default()
                .values()
            {
                let _ = web_sys::Url::revoke_object_url(url);
            }
        });
        evidence
    }

    fn open(&self) -> &OpenIncident {
        &self.0.open
    }

    /// This device's token, when the relay lets it in. (A pass still running after the page
    /// left reads the page's signals as gone: no token, nothing more is sent.)
    fn token(&self) -> Option<String> {
        match self.open().standing.try_get_untracked()? {
            Standing::Member(_) => prefs::access(&self.open().id).map(|a| a.token),
            _ => None,
        }
    }

    fn may_upload(&self) -> bool {
        matches!(
            self.open().standing.try_get_untracked(),
            Some(Standing::Member(role)) if role.may_write()
        )
    }

    fn set_state(&self, sha256: &str, state: Local) {
        self.0.states.try_update(|s| {
            s.insert(sha256.to_string(), state);
        });
    }

    fn set_problem(&self, sha256: &str, problem: Option<String>) {
        self.0.problems.try_update(|p| match problem {
            Some(why) => {
                p.insert(sha256.to_string(), why);
            }
            None => {
                p.remove(sha256);
            }
        });
    }

    /// An image on the page wants its thumbnail.
    fn want(&self, sha256: &str) {
        if self.0.urls.with_untracked(|u| u.contains_key(sha256)) {
            return;
        }
        self.0.wanted.borrow_mut().insert(sha256.to_string());
        self.kick();
    }

    /// Runs a pass now, or once the running one ends.
    fn kick(&self) {
        if self.0.closed.get() {
            return;
        }
        if self.0.running.get() {
            self.0.again.set(true);
            return;
        }
        self.0.running.set(true);
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                me.0.again.set(false);
                me.pass().await;
                if !me.0.again.get() || me.0.closed.get() {
                    break;
                }
            }
            me.0.running.set(false);
        });
    }

    /// Tries again after the current wait, doubling it (`wait_s`: what the relay asked).
    fn later(&self, wait_s: Option<u32>) {
        let wait = wait_s.map_or(self.0.backoff.get(), |s| s.saturating_mul(1000));
        self.0
            .backoff
            .set((self.0.backoff.get() * 2).min(LAST_RETRY_MS));
        if let Some(handle) = self.0.retry.take() {
            handle.clear();
        }
        let me = self.clone();
        match set_timeout_with_handle(move || me.kick(), Duration::from_millis(wait.into())) {
            Ok(handle) => self.0.retry.set(Some(handle)),
            Err(e) => platform::log_error(&platform::js_error_text(&e)),
        }
    }

    /// One round: what this device keeps, the uploads it owes, the thumbnails wanted.
    async fn pass(&self) {
        let store = match Store::open(|_| {}).await {
            Ok(store) => store,
            Err(e) => {
                platform::log_error(&format!("attachments: {e}"));
                return;
            }
        };
        self.pass_with(&store).await;
        store.close();
    }

    async fn pass_with(&self, store: &Store) {
        let id = self.open().id.clone();
        let kept = match store.blobs(&id).await {
            Ok(kept) => kept,
            Err(e) => {
                platform::log_error(&format!("attachments: {e}"));
                return;
            }
        };
        for blob in &kept {
            let state = match &blob.state {
                BlobState::Pending => Local::Pending,
                BlobState::Uploaded => Local::Uploaded,
                BlobState::Refused(why) => Local::Refused(why.clone()),
            };
            self.set_state(&blob.sha256, state);
        }
        let token = self.token();
        let mut waiting = false;
        if let (true, Some(token)) = (self.may_upload(), token.as_deref()) {
            for blob in kept.iter().filter(|b| b.state == BlobState::Pending) {
                if self.0.closed.get() {
                    return;
                }
                self.set_state(&blob.sha256, Local::Uploading);
                let sent =
                    evidence::upload(&id, token, &blob.sha256, &blob.content_type, &blob.bytes)
                        .await;
                let state = match sent {
                    Upload::Stored => BlobState::Uploaded,
                    Upload::Refused(why) => BlobState::Refused(why),
                    Upload::Later(why, wait) => {
                        platform::log_error(&format!("attachment upload: {why}"));
                        self.set_state(&blob.sha256, Local::Pending);
                        self.later(wait);
                        waiting = true;
                        break;
                    }
                };
                self.0.backoff.set(FIRST_RETRY_MS);
                if let Err(e) = store.set_blob_state(&id, &blob.sha256, &state).await {
                    platform::log_error(&format!("attachments: {e}"));
                }
                self.set_state(
                    &blob.sha256,
                    match state {
                        BlobState::Refused(why) => Local::Refused(why),
                        _ => Local::Uploaded,
                    },
                );
            }
        }
        // Thumbnails of images shown on the page.
        let wanted: Vec<String> = self.0.wanted.borrow().iter().cloned().collect();
        for sha256 in wanted {
            if self.0.closed.get() {
                return;
            }
            let Some(content_type) = self.image_type(&sha256) else {
                self.0.wanted.borrow_mut().remove(&sha256);
                continue;
            };
            match self.verified(store, &sha256).await {
                Ok(bytes) => {
                    self.0.wanted.borrow_mut().remove(&sha256);
                    self.set_problem(&sha256, None);
                    match evidence::object_url(&bytes, &content_type) {
                        Ok(url) => {
                            self.0.urls.try_update(|u| {
                                u.insert(sha256.clone(), url);
                            });
                        }
                        Err(e) => self.set_problem(&sha256, Some(e)),
                    }
                }
                Err(Fetch::NotYet) => {
                    self.set_state(&sha256, Local::NotYet);
                    if !waiting {
                        self.later(None);
                        waiting = true;
                    }
                }
                Err(Fetch::Unreachable(_)) => {
                    if !waiting && token.is_some() {
                        self.later(None);
                        waiting = true;
                    }
                }
                Err(Fetch::Failed(why)) => {
                    self.0.wanted.borrow_mut().remove(&sha256);
                    self.set_problem(&sha256, Some(why));
                }
            }
        }
    }

    /// The content type an attachment with this hash was attached with.
    fn content_type(&self, sha256: &str) -> String {
        self.0
            .all
            .try_with_untracked(|all| {
                all.iter()
                    .map(|(_, a)| a)
                    .find(|a| a.sha256 == sha256)
                    .map(|a| a.content_type.clone())
            })
            .flatten()
            .unwrap_or_else(|| incident::OCTET_STREAM.to_string())
    }

    /// The content type of an image attachment with this hash, if one is a thumbnail type.
    fn image_type(&self, sha256: &str) -> Option<String> {
        self.0
            .all
            .try_with_untracked(|all| {
                all.iter()
                    .map(|(_, a)| a)
                    .find(|a| a.sha256 == sha256 && a.is_image())
                    .map(|a| a.content_type.clone())
            })
            .flatten()
    }

    /// The file's bytes, checked against its SHA-256: this device's copy, else the relay's
    /// (kept here afterwards, so it shows offline too).
    async fn verified(&self, store: &Store, sha256: &str) -> Result<Uint8Array, Fetch> {
        let id = &self.open().id;
        let mut mismatch = None;
        match store.blob(id, sha256).await {
            Ok(Some(blob)) => match evidence::verify(&blob.bytes, sha256).await {
                Ok(()) => return Ok(blob.bytes),
                Err(why) => mismatch = Some(format!("The copy on this device is damaged: {why}")),
            },
            Ok(None) => {}
            Err(e) => platform::log_error(&format!("attachments: {e}")),
        }
        let fail = |why: String| Fetch::Failed(mismatch.clone().unwrap_or(why));
        let Some(token) = self.token() else {
            return Err(match &mismatch {
                Some(why) => Fetch::Failed(why.clone()),
                None => Fetch::Unreachable("this device is not let in by the relay yet".into()),
            });
        };
        match evidence::download(id, &token, sha256).await {
            Download::Bytes(bytes) => {
                if let Err(why) = evidence::verify(&bytes, sha256).await {
                    return Err(Fetch::Failed(format!("The relay sent other bytes: {why}")));
                }
                if mismatch.is_none() {
                    let blob = LocalBlob {
                        sha256: sha256.to_string(),
                        bytes: bytes.clone(),
                        content_type: self.content_type(sha256),
                        state: BlobState::Uploaded,
                    };
                    if let Err(e) = store.put_blob(id, &blob).await {
                        platform::log_error(&format!("attachments: keeping a copy: {e}"));
                    }
                    self.set_state(sha256, Local::Uploaded);
                }
                Ok(bytes)
            }
            Download::NotThere if mismatch.is_some() => Err(fail(String::new())),
            Download::NotThere => Err(Fetch::NotYet),
            Download::Unreachable(_) if mismatch.is_some() => Err(fail(String::new())),
            Download::Unreachable(why) => Err(Fetch::Unreachable(why)),
            Download::Refused(why) => Err(fail(format!("The relay refused the download: {why}"))),
        }
    }

    /// Offers the file to save, once its bytes are checked; otherwise says why not.
    fn download(&self, sha256: String, name: String) {
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let store = match Store::open(|_| {}).await {
                Ok(store) => store,
                Err(e) => {
                    me.set_problem(&sha256, Some(e.to_string()));
                    return;
                }
            };
            let result = me.verified(&store, &sha256).await;
            store.close();
            let problem = match result {
                Ok(bytes) => evidence::save_as(&bytes, &name).err(),
                Err(Fetch::NotYet) => Some(
                    "The file is not on the relay yet: the device that attached it has not uploaded it. Try again later."
                        .to_string(),
                ),
                Err(Fetch::Unreachable(why)) => Some(format!(
                    "This device has no copy and cannot reach the relay ({why}): try again when online."
                )),
                Err(Fetch::Failed(why)) => Some(why),
            };
            me.set_problem(&sha256, problem);
        });
    }

    /// Attaches `files` to `target`: each hashed, kept here, written into the document, then
    /// uploaded when it can be. Problems are told through `notice`.
    pub fn attach(
        &self,
        files: Vec<web_sys::File>,
        target: AttachTarget,
        notice: RwSignal<String>,
    ) {
        if files.is_empty() {
            return;
        }
        let me = self.clone();
        notice.set(String::new());
        wasm_bindgen_futures::spawn_local(async move {
            let mut problems = Vec::new();
            let store = match Store::open(|_| {}).await {
                Ok(store) => Some(store),
                Err(e) => {
                    problems.push(format!("This device cannot keep files: {e}"));
                    None
                }
            };
            if let Some(store) = &store {
                let token = me.token();
                let limit = evidence::attachment_limit(&me.open().id, token.as_deref()).await;
                for file in files {
                    if let Err(why) = me.attach_one(store, &file, &target, limit).await {
                        problems.push(why);
                    }
                }
                store.close();
            }
            notice.try_set(problems.join(" "));
            me.kick();
        });
    }

    async fn attach_one(
        &self,
        store: &Store,
        file: &web_sys::File,
        target: &AttachTarget,
        limit: f64,
    ) -> Result<(), String> {
        let shown = file.name();
        if file.size() > limit {
            return Err(format!(
                "“{shown}” is {}, over the relay's limit of {} a file; nothing was attached.",
                evidence::shown_size(file.size() as u64),
                evidence::shown_size(limit as u64),
            ));
        }
        let bytes = evidence::file_bytes(file)
            .await
            .map_err(|e| format!("“{shown}” could not be read: {e}."))?;
        let sha256 = evidence::sha256_hex(&bytes).await?;
        let content_type = incident::clean_content_type(&file.type_());
        let name = if file.name().trim().is_empty() {
            let ext = content_type.rsplit('/').next().unwrap_or("bin");
            format!("pasted-{}.{ext}", platform::now_rfc3339().replace(':', "-"))
        } else {
            file.name()
        };
        let id = &self.open().id;
        // The same file kept already (attached twice): its bytes and state stay.
        let kept = store.blob(id, &sha256).await.ok().flatten();
        if kept.is_none() {
            let blob = LocalBlob {
                sha256: sha256.clone(),
                bytes,
                content_type: content_type.clone(),
                state: BlobState::Pending,
            };
            store
                .put_blob(id, &blob)
                .await
                .map_err(|e| format!("“{shown}” could not be kept on this device: {e}."))?;
            self.set_state(&sha256, Local::Pending);
        }
        let attachment = Attachment {
            sha256,
            name,
            size: file.size() as u64,
            content_type,
            added_by: prefs::display_name(),
            added_by_invite: Some(people::my_invite(id)).filter(|i| !i.is_empty()),
            added_at: platform::now_rfc3339(),
            attached_to: target.clone(),
            removed_by: None,
            removed_at: None,
        };
        self.open()
            .incident
            .add_attachment(&platform::new_id(), &attachment)
            .map(|_| ())
            .map_err(|e| format!("“{shown}” was not attached: {e}."))
    }
}

/// Why the bytes of a file are not at hand.
enum Fetch {
    /// Not on the relay yet.
    NotYet,
    /// Neither here nor reachable now (why).
    Unreachable(String),
    /// The bytes did not match, or the relay refused: the message.
    Failed(String),
}

/// The files of a file input (or a paste).
fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

/// Whether this is a phone (a coarse pointer): its picker offers the camera and photos.
fn is_phone() -> bool {
    platform::window()
        .match_media("(pointer: coarse)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// An image pasted into the Appendix (a screenshot) is attached to it; a paste that also
/// carries text stays a paste of text. What happened is told through `notice`.
pub fn pasted(evidence: &Evidence, event: &web_sys::ClipboardEvent, notice: RwSignal<String>) {
    if !evidence.open().standing.get_untracked().may_edit() {
        return;
    }
    let Some(data) = event.clipboard_data() else {
        return;
    };
    let files = files_of(data.files());
    let has_text = data
        .get_data("text/plain")
        .is_ok_and(|t| !t.trim().is_empty());
    if files.is_empty() || has_text {
        return;
    }
    event.prevent_default();
    evidence.attach(files, AttachTarget::Appendix, notice);
}

/// The Appendix's message line, for what a paste or a pick did.
#[derive(Clone, Copy)]
struct AppendixNotice(RwSignal<String>);

/// The attach controls: a file picker, and on a phone the camera.
#[component]
fn AttachControls(target: AttachTarget, notice: RwSignal<String>) -> impl IntoView {
    let evidence = use_evidence();
    let dom = match &target {
        AttachTarget::Appendix => "att-appendix".to_string(),
        AttachTarget::Event(id) => format!("att-ev-{id}"),
        AttachTarget::Indicator(id) => format!("att-i-{id}"),
    };
    let phone = is_phone();
    let picked = {
        let (evidence, target) = (evidence.clone(), target.clone());
        move |ev: ev::Event| {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            let files = files_of(input.files());
            input.set_value("");
            evidence.attach(files, target.clone(), notice);
        }
    };
    let camera = {
        let picked = picked.clone();
        let id = format!("{dom}-camera");
        phone.then(|| {
            view! {
                <label class="att-pick att-camera" for=id.clone()>
                    "Take photo"
                    <input
                        id=id.clone()
                        type="file"
                        class="att-input"
                        accept="image/*"
                        capture="environment"
                        data-testid="attach-camera"
                        on:change=picked
                    />
                </label>
            }
        })
    };
    let file_id = format!("{dom}-file");
    view! {
        <div class="att-controls">
            <label class="att-pick" for=file_id.clone()>
                "Attach a file"
                <input
                    id=file_id.clone()
                    type="file"
                    class="att-input"
                    multiple=true
                    accept=phone.then_some(PHONE_ACCEPT)
                    data-testid="attach-file"
                    on:change=picked
                />
            </label>
            {camera}
        </div>
    }
}

/// The attachments shown on `target`, with the attach controls while `controls` says so
/// (and this device may edit).
#[component]
pub fn AttachmentsOn(target: AttachTarget, #[prop(into)] controls: Signal<bool>) -> impl IntoView {
    let evidence = use_evidence();
    let open = use_incident();
    let all = evidence.0.all;
    let shown = {
        let target = target.clone();
        Memo::new(move |_| {
            all.with(|all| {
                all.iter()
                    .filter(|(_, a)| a.attached_to == target && !a.is_removed())
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    let standing = open.standing;
    let may_edit = Memo::new(move |_| standing.get().may_edit());
    let notice = match (&target, use_context::<AppendixNotice>()) {
        (AttachTarget::Appendix, Some(n)) => n.0,
        _ => RwSignal::new(String::new()),
    };
    let with_controls = move || controls.get() && may_edit.get();
    let list_target = target.key();
    view! {
        <div class="attachments" data-testid="attachments" data-target=list_target>
            <ul class="att-list">
                <For
                    each=move || shown.get()
                    key=|(id, a)| (id.clone(), a.name.clone())
                    children=move |(id, attachment)| {
                        view! { <AttachmentItem id=id attachment=attachment may_edit=may_edit/> }
                    }
                />
            </ul>
            <Show when=with_controls>
                <AttachControls target=target.clone() notice=notice/>
            </Show>
            <p class="att-notice" role="alert" data-testid="attach-notice">{move || notice.get()}</p>
        </div>
    }
}

/// The Appendix's attachments (and orphans: files whose event or indicator was removed),
/// with the controls and paste.
#[component]
pub fn AppendixAttachments(notice: RwSignal<String>) -> impl IntoView {
    provide_context(AppendixNotice(notice));
    let open = use_incident();
    // Read again when an attachment, an event or an indicator changes (one goes away).
    let versions = super::watch(&open, |i| {
        (
            i.attachments_version(),
            i.timeline_version(),
            i.indicators_version(),
        )
    });
    let orphans = {
        let open = open.clone();
        Memo::new(move |_| {
            versions.get();
            open.incident.orphaned_attachments()
        })
    };
    let standing = open.standing;
    let may_edit = Memo::new(move |_| standing.get().may_edit());
    view! {
        <div class="att-appendix">
            <h3 class="att-heading">"Attached files"</h3>
            <Show when=move || may_edit.get()>
                <p class="hint">"Attach screenshots, photos, log extracts or small files (up to 10 MB each); paste a screenshot here. Kept on this device and uploaded when online."</p>
            </Show>
            <AttachmentsOn target=AttachTarget::Appendix controls=true/>
            <Show when=move || !orphans.with(Vec::is_empty)>
                <p class="hint">"Attached to an event or indicator since removed:"</p>
                <ul class="att-list" data-testid="orphaned-attachments">
                    <For
                        each=move || orphans.get()
                        key=|(id, a)| (id.clone(), a.name.clone())
                        children=move |(id, attachment)| {
                            view! { <AttachmentItem id=id attachment=attachment may_edit=may_edit/> }
                        }
                    />
                </ul>
            </Show>
        </div>
    }
}

/// An item's IntersectionObserver and its callback, kept until the item goes.
type Watch = SendWrapper<
    Rc<
        RefCell<
            Option<(
                web_sys::IntersectionObserver,
                Closure<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>,
            )>,
        >,
    >,
>;

/// Calls `near` once, when `element` first comes within a screen's height of the viewport
/// (at once in a browser without IntersectionObserver).
fn when_near(watch: &Watch, element: web_sys::Element, near: impl FnOnce() + 'static) {
    let near = Rc::new(RefCell::new(Some(near)));
    let fire = near.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>::new(
        move |entries: js_sys::Array, observer: web_sys::IntersectionObserver| {
            let seen = entries.iter().any(|entry| {
                entry
                    .unchecked_into::<web_sys::IntersectionObserverEntry>()
                    .is_intersecting()
            });
            if seen {
                observer.disconnect();
                if let Some(near) = fire.borrow_mut().take() {
                    near();
                }
            }
        },
    );
    let init = web_sys::IntersectionObserverInit::new();
    init.set_root_margin("100% 0px");
    match web_sys::IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init)
    {
        Ok(observer) => {
            observer.observe(&element);
            *watch.borrow_mut() = Some((observer, callback));
        }
        Err(_) => {
            if let Some(near) = near.borrow_mut().take() {
                near();
            }
        }
    }
}

/// One attached file: its name (as text), size, hash, who and when, where its bytes stand, a
/// thumbnail for a safe image type (read once the item nears the screen), and Download /
/// Remove.
#[component]
fn AttachmentItem(id: String, attachment: Attachment, may_edit: Memo<bool>) -> impl IntoView {
    let evidence = use_evidence();
    let sha256 = attachment.sha256.clone();
    // An image's thumbnail is read (from this device, else the relay) only once its item
    // comes near the screen: a long Appendix does not fetch every picture on opening.
    let row = NodeRef::<leptos::html::Li>::new();
    if attachment.is_image() {
        let watch: Watch = SendWrapper::new(Rc::new(RefCell::new(None)));
        let (kept, evidence, sha256) = (watch.clone(), evidence.clone(), sha256.clone());
        row.on_load(move |li| {
            when_near(&kept, li.into(), move || evidence.want(&sha256));
        });
        on_cleanup(move || {
            if let Some((observer, _)) = watch.borrow_mut().take() {
                observer.disconnect();
            }
        });
    }
    let (states, urls, problems) = (evidence.0.states, evidence.0.urls, evidence.0.problems);
    let state = {
        let sha256 = sha256.clone();
        Memo::new(move |_| states.with(|s| s.get(&sha256).cloned()))
    };
    let connection = evidence.open().connection;
    let online = move || {
        connection.track();
        platform::window().navigator().on_line()
    };
    let state_text = move || state.get().map(|s| s.text(online())).unwrap_or_default();
    let state_key = move || state.get().map_or("", |s| s.key());
    let thumb = {
        let (sha256, name) = (sha256.clone(), attachment.name.clone());
        let image = attachment.is_image() && is_thumbnail_type(&attachment.content_type);
        move || {
            let url = urls.with(|u| u.get(&sha256).cloned())?;
            // The relay found it is not the image it claims: no picture of it.
            let refused = matches!(state.get(), Some(Local::Refused(_)));
            (image && !refused).then(|| {
                view! {
                    <img
                        class="att-thumb"
                        src=url
                        alt=format!("Thumbnail of {name}")
                        data-testid="attachment-thumb"
                    />
                }
            })
        }
    };
    let problem = {
        let sha256 = sha256.clone();
        move || {
            problems
                .with(|p| p.get(&sha256).cloned())
                .unwrap_or_default()
        }
    };
    let download = {
        let (evidence, sha256, name) = (evidence.clone(), sha256.clone(), attachment.name.clone());
        move |ev: ev::MouseEvent| {
            ev.prevent_default();
            evidence.download(sha256.clone(), name.clone());
        }
    };
    let copied = RwSignal::new(false);
    let copy_hash = {
        let sha256 = sha256.clone();
        move |ev: ev::MouseEvent| {
            ev.prevent_default();
            let sha256 = sha256.clone();
            leptos::task::spawn_local(async move {
                if clipboard::write_text(&sha256).await.is_ok() {
                    copied.try_set(true);
                    set_timeout(
                        move || {
                            copied.try_set(false);
                        },
                        Duration::from_secs(3),
                    );
                }
            });
        }
    };
    let confirming = RwSignal::new(false);
    let remove = {
        let (open, id) = (evidence.open().clone(), id.clone());
        Callback::new(move |()| {
            if let Err(e) = open.incident.remove_attachment(
                &id,
                prefs::display_name().trim(),
                &platform::now_rfc3339(),
            ) {
                platform::log_error(&e.to_string());
            }
        })
    };
    let dom = format!("att-{id}");
    let short = format!("{}…", sha256.get(..12).unwrap_or(&sha256));
    let who = if attachment.added_by.trim().is_empty() {
        "someone".to_string()
    } else {
        attachment.added_by.clone()
    };
    let meta = format!(
        "{} · added by {who} · {}",
        evidence::shown_size(attachment.size),
        platform::short_time(&attachment.added_at)
    );
    view! {
        <li class="att" node_ref=row id=dom.clone() data-testid="attachment" data-sha256=sha256.clone() data-state=state_key>
            {thumb}
            <div class="att-body">
                <p class="att-name" data-testid="attachment-name">{attachment.name.clone()}</p>
                <p class="att-meta">
                    {meta}
                    " · SHA-256 "
                    <code class="att-hash" title=sha256.clone() data-testid="attachment-hash">{short}</code>
                    " "
                    <a href=format!("#{dom}") class="att-link" role="button" on:click=copy_hash>
                        {move || if copied.get() { "copied" } else { "copy" }}
                    </a>
                </p>
                <p class="att-state" data-testid="attachment-state">{state_text}</p>
                <p class="att-problem" role="alert" data-testid="attachment-problem">{problem}</p>
                <div class="att-actions">
                    // A link, not a button: viewers download too, in a page whose controls
                    // are disabled for them.
                    <a href=format!("#{dom}") class="att-download" role="button" data-testid="attachment-download" on:click=download>
                        "Download"
                    </a>
                    <Show when=move || may_edit.get()>
                        <Show
                            when=move || confirming.get()
                            fallback=move || view! {
                                <button type="button" class="att-remove" on:click=move |_| confirming.set(true)>"Remove"</button>
                            }
                        >
                            <span class="att-confirm">"Remove it from the incident? The record keeps who removed it and when. "</span>
                            <button type="button" class="att-remove" data-testid="attachment-remove-confirm" on:click=move |_| remove.run(())>"Remove"</button>
                            <button type="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                        </Show>
                    </Show>
                </div>
            </div>
        </li>
    }
}
