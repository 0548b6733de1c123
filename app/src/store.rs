//! This device's copy of every incident, in IndexedDB.
//!
//! Database `firebreak`, object store `updates` (auto-increment keys, an index on
//! `incident`); each record is `{incident, bytes: Uint8Array, origin}`: one Yjs v1 update.
//! Updates are only ever appended; [`Store::compact`] replaces an incident's records with one
//! snapshot in a single transaction, so a crash mid-way leaves the old records in place.
//!
//! Object store `marks` (since version 2; keys: the incident's id) holds each incident's read
//! mark for "Since you were last here": `{at, state: Uint8Array}` (see
//! `incident_page::catch_up`). Removing an incident removes its mark in the same transaction.
//!
//! Object store `blobs` (since version 3; keys: `{incident}/{sha256}`, an index on
//! `incident`) holds the bytes of the incident's evidence attachments this device has:
//! `{incident, sha256, bytes: Uint8Array, content_type, state, message}`, `state` being
//! `pending` (attached here, not on the relay yet), `uploaded` (on the relay too: attached
//! here, or downloaded and verified) or `refused` (the relay said no, `message` says why;
//! never retried). Removing an incident removes its files in the same transaction.
//!
//! The database's version is the schema's. A newer app that changes the schema raises it; an
//! older app still open (another tab, a page the service worker kept) then finds a database
//! newer than it knows: it opens it read-only (so the incidents still show) and never writes
//! into it. An open database is closed as soon as another tab asks to upgrade it, and the
//! page is told, so an old app never holds up or fights a new one.

use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbIndexParameters, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

use crate::platform;

const DB_NAME: &str = "firebreak";
const DB_VERSION: u32 = 3;
const UPDATES: &str = "updates";
const MARKS: &str = "marks";
const BLOBS: &str = "blobs";
const BY_INCIDENT: &str = "incident";

/// What the database says while the page is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreNotice {
    /// Another tab is upgrading the database to a newer schema: this page closed it.
    Replaced,
    /// Upgrading waits for other tabs (an older Firebreak) to close the database.
    Blocked,
}

/// Why this device could not read or write its copy.
#[derive(Clone, Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<JsValue> for StoreError {
    fn from(value: JsValue) -> Self {
        StoreError(platform::js_error_text(&value))
    }
}

/// The key of one stored record (an IndexedDB key, kept opaque).
pub type RecordKey = JsValue;

/// One stored update of an incident.
pub struct StoredUpdate {
    pub key: RecordKey,
    pub bytes: Vec<u8>,
}

/// A read mark as stored: when (RFC 3339 UTC), and the incident's encoded state then (empty
/// when it was over the bound).
pub struct StoredMark {
    pub at: String,
    pub state: Vec<u8>,
}

/// Where an attachment's bytes kept on this device stand with the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobState {
    /// Attached here; to upload.
    Pending,
    /// On the relay as well.
    Uploaded,
    /// The relay refused it (why); not retried.
    Refused(String),
}

/// One attachment's bytes as this device keeps them. The bytes stay a JavaScript array:
/// hashing, uploading and showing them never copies them into the app's memory.
#[derive(Clone, Debug)]
pub struct LocalBlob {
    pub sha256: String,
    pub bytes: Uint8Array,
    pub content_type: String,
    pub state: BlobState,
}

fn blob_key(incident: &str, sha256: &str) -> JsValue {
    JsValue::from_str(&format!("{incident}/{sha256}"))
}

fn blob_record(incident: &str, blob: &LocalBlob) -> Result<JsValue, StoreError> {
    let obj = Object::new();
    let (state, message) = match &blob.state {
        BlobState::Pending => ("pending", ""),
        BlobState::Uploaded => ("uploaded", ""),
        BlobState::Refused(why) => ("refused", why.as_str()),
    };
    Reflect::set(&obj, &"incident".into(), &incident.into())?;
    Reflect::set(&obj, &"sha256".into(), &blob.sha256.as_str().into())?;
    Reflect::set(&obj, &"bytes".into(), &blob.bytes)?;
    Reflect::set(
        &obj,
        &"content_type".into(),
        &blob.content_type.as_str().into(),
    )?;
    Reflect::set(&obj, &"state".into(), &state.into())?;
    Reflect::set(&obj, &"message".into(), &message.into())?;
    Ok(obj.into())
}

fn read_blob(value: &JsValue) -> Option<LocalBlob> {
    let text = |key: &str| {
        Reflect::get(value, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let bytes = Reflect::get(value, &"bytes".into())
        .ok()?
        .dyn_into::<Uint8Array>()
        .ok()?;
    let state = match text("state").as_str() {
        "uploaded" => BlobState::Uploaded,
        "refused" => BlobState::Refused(text("message")),
        _ => BlobState::Pending,
    };
    Some(LocalBlob {
        sha256: text("sha256"),
        bytes,
        content_type: text("content_type"),
        state,
    })
}

/// An open `firebreak` database.
#[derive(Clone)]
pub struct Store {
    db: IdbDatabase,
    /// The database's schema version when it is newer than this app's: read-only.
    newer: Option<u32>,
}

fn call(f: &js_sys::Function, value: &JsValue) {
    if let Err(e) = f.call1(&JsValue::NULL, value) {
        platform::log_error(&platform::js_error_text(&e));
    }
}

/// Resolves with the request's result once it succeeds.
async fn request_done(request: &IdbRequest) -> Result<JsValue, StoreError> {
    Ok(request_outcome(request).await?)
}

/// The request's result, or the error it failed with (a `DOMException`).
async fn request_outcome(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let req = request.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let ok_req = req.clone();
        let on_ok = Closure::once_into_js(move |_: web_sys::Event| {
            call(&resolve, &ok_req.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err_req = req.clone();
        let on_err = Closure::once_into_js(move |_: web_sys::Event| {
            let error = match err_req.error() {
                Ok(Some(e)) => JsValue::from(e),
                _ => JsValue::from_str("the request failed"),
            };
            call(&reject, &error);
        });
        req.set_onsuccess(Some(on_ok.unchecked_ref()));
        req.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Resolves once the transaction has committed; fails if it aborted.
async fn transaction_done(tx: &IdbTransaction) -> Result<(), StoreError> {
    let t = tx.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move |_: web_sys::Event| {
            call(&resolve, &JsValue::UNDEFINED);
        });
        let err_tx = t.clone();
        let reject_abort = reject.clone();
        let abort_tx = t.clone();
        let on_error = Closure::once_into_js(move |_: web_sys::Event| {
            let error = err_tx
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the transaction failed"));
            call(&reject, &error);
        });
        let on_abort = Closure::once_into_js(move |_: web_sys::Event| {
            let error = abort_tx
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| JsValue::from_str("the transaction was aborted"));
            call(&reject_abort, &error);
        });
        t.set_oncomplete(Some(on_complete.unchecked_ref()));
        t.set_onerror(Some(on_error.unchecked_ref()));
        t.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise).await?;
    Ok(())
}

fn record(incident: &str, bytes: &[u8], origin: &str) -> Result<JsValue, StoreError> {
    let obj = Object::new();
    Reflect::set(&obj, &"incident".into(), &incident.into())?;
    Reflect::set(&obj, &"bytes".into(), &Uint8Array::from(bytes).into())?;
    Reflect::set(&obj, &"origin".into(), &origin.into())?;
    Ok(obj.into())
}

impl Store {
    /// Opens (creating or upgrading on first use) this device's database; `notice` hears
    /// what happens to it while the page is open.
    pub async fn open(notice: impl Fn(StoreNotice) + 'static) -> Result<Store, StoreError> {
        let factory = platform::window()
            .indexed_db()?
            .ok_or_else(|| StoreError("this browser has no IndexedDB (private mode?)".into()))?;
        let notice: Rc<dyn Fn(StoreNotice)> = Rc::new(notice);
        let request: IdbOpenDbRequest = factory.open_with_u32(DB_NAME, DB_VERSION)?;
        let upgrade_req = request.clone();
        let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
            if let Err(e) = create_schema(&upgrade_req) {
                platform::log_error(&format!("could not create the local database: {e}"));
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let blocked = notice.clone();
        let on_blocked =
            Closure::once_into_js(move |_: web_sys::Event| blocked(StoreNotice::Blocked));
        request.set_onblocked(Some(on_blocked.unchecked_ref()));
        let (db, newer) = match request_outcome(&request).await {
            Ok(db) => (db, None),
            Err(e) if error_name(&e).as_deref() == Some("VersionError") => {
                // A newer Firebreak upgraded the schema: read what is there, write nothing.
                let reopen: IdbOpenDbRequest = factory.open(DB_NAME)?;
                let db = request_done(&reopen).await?;
                let version = Reflect::get(&db, &"version".into())
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0);
                (db, Some(version as u32))
            }
            Err(e) => return Err(e.into()),
        };
        let db: IdbDatabase = db
            .dyn_into()
            .map_err(|_| StoreError("the local database did not open".into()))?;
        let closing = db.clone();
        let on_versionchange = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            closing.close();
            notice(StoreNotice::Replaced);
        });
        db.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
        // Lives as long as the database object does (until the page goes).
        on_versionchange.forget();
        Ok(Store { db, newer })
    }

    /// Closes this connection once its transactions are done (one opened for a while only).
    pub fn close(&self) {
        self.db.close();
    }

    /// The schema version of the database when a newer Firebreak wrote it (read-only here).
    pub fn newer_version(&self) -> Option<u32> {
        self.newer
    }

    fn writable(&self) -> Result<(), StoreError> {
        match self.newer {
            Some(version) => Err(StoreError(format!(
                "this device's data is in a newer format (version {version}) than this page understands; reload the page to update Firebreak"
            ))),
            None => Ok(()),
        }
    }

    fn transaction(&self, mode: IdbTransactionMode) -> Result<IdbTransaction, StoreError> {
        Ok(self.db.transaction_with_str_and_mode(UPDATES, mode)?)
    }

    /// Every stored update of the incident, oldest first.
    pub async fn load(&self, incident: &str) -> Result<Vec<StoredUpdate>, StoreError> {
        let tx = self.transaction(IdbTransactionMode::Readonly)?;
        let index = tx.object_store(UPDATES)?.index(BY_INCIDENT)?;
        let key = JsValue::from_str(incident);
        let values = index.get_all_with_key(&key)?;
        let keys = index.get_all_keys_with_key(&key)?;
        let values: Array = request_done(&values).await?.unchecked_into();
        let keys: Array = request_done(&keys).await?.unchecked_into();
        let mut out = Vec::with_capacity(values.length() as usize);
        for (value, key) in values.iter().zip(keys.iter()) {
            let bytes = Reflect::get(&value, &"bytes".into())?;
            match bytes.dyn_into::<Uint8Array>() {
                Ok(bytes) => out.push(StoredUpdate {
                    key,
                    bytes: bytes.to_vec(),
                }),
                Err(_) => platform::log_error("skipped a stored record with no update bytes"),
            }
        }
        Ok(out)
    }

    /// Appends updates of one incident in one transaction; returns their keys once committed.
    pub async fn append(
        &self,
        incident: &str,
        updates: &[(&[u8], &str)],
    ) -> Result<Vec<RecordKey>, StoreError> {
        self.writable()?;
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(UPDATES)?;
        let mut requests = Vec::with_capacity(updates.len());
        for (bytes, origin) in updates {
            requests.push(store.add(&record(incident, bytes, origin)?)?);
        }
        transaction_done(&tx).await?;
        requests.iter().map(|r| Ok(r.result()?)).collect()
    }

    /// Replaces the records `old` with one record holding `state`, atomically.
    pub async fn compact(
        &self,
        incident: &str,
        state: &[u8],
        old: &[RecordKey],
    ) -> Result<RecordKey, StoreError> {
        self.writable()?;
        let tx = self.transaction(IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(UPDATES)?;
        let added = store.add(&record(incident, state, "snapshot")?)?;
        for key in old {
            store.delete(key)?;
        }
        transaction_done(&tx).await?;
        Ok(added.result()?)
    }

    /// The incident's read mark, if this device keeps one.
    pub async fn mark(&self, incident: &str) -> Result<Option<StoredMark>, StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(MARKS, IdbTransactionMode::Readonly)?;
        let value = request_done(&tx.object_store(MARKS)?.get(&incident.into())?).await?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        let at = Reflect::get(&value, &"at".into())?
            .as_string()
            .ok_or_else(|| StoreError("a stored read mark has no time".into()))?;
        let state = Reflect::get(&value, &"state".into())?
            .dyn_into::<Uint8Array>()
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Ok(Some(StoredMark { at, state }))
    }

    /// Keeps `mark` as the incident's read mark (replacing the last), once committed.
    pub async fn set_mark(&self, incident: &str, mark: &StoredMark) -> Result<(), StoreError> {
        self.writable()?;
        let tx = self
            .db
            .transaction_with_str_and_mode(MARKS, IdbTransactionMode::Readwrite)?;
        let obj = Object::new();
        Reflect::set(&obj, &"at".into(), &mark.at.as_str().into())?;
        Reflect::set(
            &obj,
            &"state".into(),
            &Uint8Array::from(mark.state.as_slice()).into(),
        )?;
        tx.object_store(MARKS)?
            .put_with_key(&obj, &incident.into())?;
        transaction_done(&tx).await
    }

    /// The bytes of one attachment, if this device has them.
    pub async fn blob(
        &self,
        incident: &str,
        sha256: &str,
    ) -> Result<Option<LocalBlob>, StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(BLOBS, IdbTransactionMode::Readonly)?;
        let value =
            request_done(&tx.object_store(BLOBS)?.get(&blob_key(incident, sha256))?).await?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        Ok(read_blob(&value))
    }

    /// Every attachment's bytes this device has of the incident.
    pub async fn blobs(&self, incident: &str) -> Result<Vec<LocalBlob>, StoreError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(BLOBS, IdbTransactionMode::Readonly)?;
        let values = tx
            .object_store(BLOBS)?
            .index(BY_INCIDENT)?
            .get_all_with_key(&JsValue::from_str(incident))?;
        let values: Array = request_done(&values).await?.unchecked_into();
        Ok(values.iter().filter_map(|v| read_blob(&v)).collect())
    }

    /// Keeps an attachment's bytes (replacing what was kept under its hash), once committed.
    pub async fn put_blob(&self, incident: &str, blob: &LocalBlob) -> Result<(), StoreError> {
        self.writable()?;
        let tx = self
            .db
            .transaction_with_str_and_mode(BLOBS, IdbTransactionMode::Readwrite)?;
        tx.object_store(BLOBS)?.put_with_key(
            &blob_record(incident, blob)?,
            &blob_key(incident, &blob.sha256),
        )?;
        transaction_done(&tx).await
    }

    /// Records where a kept attachment stands with the relay; nothing when it is not kept.
    pub async fn set_blob_state(
        &self,
        incident: &str,
        sha256: &str,
        state: &BlobState,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let tx = self
            .db
            .transaction_with_str_and_mode(BLOBS, IdbTransactionMode::Readwrite)?;
        let store = tx.object_store(BLOBS)?;
        let key = blob_key(incident, sha256);
        let value = request_done(&store.get(&key)?).await?;
        if let Some(mut blob) = read_blob(&value) {
            blob.state = state.clone();
            store.put_with_key(&blob_record(incident, &blob)?, &key)?;
        }
        transaction_done(&tx).await
    }

    /// Removes every record of the incident, its read mark and its attachments' bytes from
    /// this device, in one transaction.
    pub async fn remove(&self, incident: &str) -> Result<(), StoreError> {
        self.writable()?;
        let stores = Array::of3(&UPDATES.into(), &MARKS.into(), &BLOBS.into());
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite)?;
        tx.object_store(MARKS)?.delete(&incident.into())?;
        let blobs = tx.object_store(BLOBS)?;
        let blob_keys = blobs
            .index(BY_INCIDENT)?
            .get_all_keys_with_key(&JsValue::from_str(incident))?;
        let blob_keys: Array = request_done(&blob_keys).await?.unchecked_into();
        for key in blob_keys.iter() {
            blobs.delete(&key)?;
        }
        let store = tx.object_store(UPDATES)?;
        let keys = store
            .index(BY_INCIDENT)?
            .get_all_keys_with_key(&JsValue::from_str(incident))?;
        let keys: Array = request_done(&keys).await?.unchecked_into();
        for key in keys.iter() {
            store.delete(&key)?;
        }
        transaction_done(&tx).await
    }
}

/// A `DOMException`'s name (`VersionError`, `QuotaExceededError` …).
fn error_name(error: &JsValue) -> Option<String> {
    Reflect::get(error, &"name".into()).ok()?.as_string()
}

fn create_schema(request: &IdbOpenDbRequest) -> Result<(), StoreError> {
    let db: IdbDatabase = request.result()?.unchecked_into();
    if !db.object_store_names().contains(UPDATES) {
        let params = IdbObjectStoreParameters::new();
        params.set_auto_increment(true);
        let store = db.create_object_store_with_optional_parameters(UPDATES, &params)?;
        store.create_index_with_str_and_optional_parameters(
            BY_INCIDENT,
            BY_INCIDENT,
            &IdbIndexParameters::new(),
        )?;
    }
    // Version 2: read marks, keyed by the incident's id.
    if !db.object_store_names().contains(MARKS) {
        db.create_object_store(MARKS)?;
    }
    // Version 3: attachments' bytes, keyed by `{incident}/{sha256}`.
    if !db.object_store_names().contains(BLOBS) {
        let store = db.create_object_store(BLOBS)?;
        store.create_index_with_str_and_optional_parameters(
            BY_INCIDENT,
            BY_INCIDENT,
            &IdbIndexParameters::new(),
        )?;
    }
    Ok(())
}
