//! Parts of the app kept out of the first download.
//!
//! A function declared with [`part!`] is cut out into its own wasm module by the build
//! (`scripts/split-wasm.sh`, run by Trunk after wasm-bindgen's input is linked); calling it
//! fetches that module the first time (from the service worker's copy when offline) and
//! returns a future. Used for what most visits never open: the playbook editor, a team's
//! page, the history panel, exports and the share panel.
//!
//! A module can fail to arrive: a device offline whose service worker has not kept it yet
//! (the first seconds of a first visit, or a browser that refused the worker), a relay that
//! cannot be reached, or a new version deployed since the page opened (the old hashed names
//! are gone). The call then gives [`NotHere`] instead of the part, and [`on_demand`] and
//! [`page`] show why in its place, with "Try again"; a part missing offline is asked again
//! by itself when the browser is back online, and one the relay could not give once the
//! relay answers again. Nothing is cached as failed: the split loader
//! and `wasm_split_helpers` keep only a module that arrived, so each try fetches again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::platform;

/// Declares functions cut out into their own wasm module, each called as
/// `async fn name(args) -> Result<Output, NotHere>` (see the module's docs).
///
/// Leptos' `#[lazy]` panics when a module does not arrive, and a panic aborts the whole
/// app (wasm traps; its task queue stays borrowed, so nothing async runs again). This asks
/// `wasm_split` for the `fallible` wrapper instead, which gives the failure back.
/// Each name is also its module's name: it must be unique in the app.
macro_rules! part {
    ($(
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty $body:block
    )*) => {$(
        $(#[$attr])*
        #[::leptos::wasm_split::wasm_split($name, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name($($arg: $ty),*) -> ::core::result::Result<$out, $crate::on_demand::NotHere> {
            ::core::result::Result::Ok($body)
        }
    )*};
}
pub(crate) use part;

/// A part's module did not arrive (why: [`NotHere::why`]).
#[derive(Clone, Copy, Debug)]
pub struct NotHere;

impl From<leptos::wasm_split::SplitLoaderError> for NotHere {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotHere
    }
}

impl NotHere {
    /// Why the module did not arrive, as far as the page can tell: offline, else what the
    /// relay's current page says.
    pub async fn why(self) -> Why {
        if !platform::window().navigator().on_line() {
            return Why::Offline;
        }
        relay_says().await
    }
}

/// Why a part is not here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The browser is offline.
    Offline,
    /// Online, and the relay is being asked.
    Checking,
    /// The relay cannot be reached.
    Unreachable,
    /// The relay serves a newer version: this page's modules are gone from it.
    Updated,
    /// The relay answered, with the same version, but not with the module.
    Refused,
}

impl Why {
    /// The `data-why` of the line shown in the part's place.
    fn key(self) -> &'static str {
        match self {
            Why::Offline => "offline",
            Why::Checking => "checking",
            Why::Unreachable => "unreachable",
            Why::Updated => "updated",
            Why::Refused => "refused",
        }
    }

    /// What a person reads in the part's place.
    pub fn text(self) -> &'static str {
        match self {
            Why::Offline => {
                "This part of Firebreak is not on this device yet. Connect once to open it: it opens by itself as soon as this device is back online."
            }
            Why::Checking => "This part of Firebreak could not be fetched. Checking why…",
            Why::Unreachable => {
                "This part of Firebreak is not on this device yet, and the relay cannot be reached to fetch it. It opens by itself as soon as the relay answers again."
            }
            Why::Updated => {
                "Firebreak was updated since this page was opened, and this part of the old version is no longer on the relay. Reload to get the new version: the incidents are saved on this device."
            }
            Why::Refused => {
                "This part of Firebreak could not be fetched: the relay answered with an error. Try again in a moment."
            }
        }
    }
}

/// A part's loader with its type erased: [`on_demand`] and [`page`] are called from a dozen
/// places, each with its own closure, and the views below are built once for all of them
/// instead of once per caller (each copy is code in the first download).
type Load =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<AnyView, NotHere>> + Send>> + Send + Sync>;

fn erase<F, Fut>(load: F) -> Load
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, NotHere>> + Send + 'static,
{
    Arc::new(move || Box::pin(load()))
}

/// Mounts the part `load` gives once `wanted` first turns true, and keeps it mounted after,
/// as if it had been there from the start (a panel closed and opened again keeps its state).
/// Nothing is fetched before. Nothing shows while its module arrives; if it does not, a line
/// says why in its place (see the module's docs).
pub fn on_demand<F, Fut>(wanted: impl Fn() -> bool + Send + Sync + 'static, load: F) -> AnyView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, NotHere>> + Send + 'static,
{
    mount_when(Box::new(wanted), erase(load))
}

fn mount_when(wanted: Box<dyn Fn() -> bool + Send + Sync>, load: Load) -> AnyView {
    let asked = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || wanted());
    (move || {
        let load = load.clone();
        asked.get().then(move || {
            view! {
                <Suspense fallback=|| ()>
                    {fetched(load, false)}
                </Suspense>
            }
        })
    })
    .into_any()
}

/// A whole page in its own module, with a line to read while it arrives (and in its place,
/// why, if it does not).
pub fn page<F, Fut>(loading: &'static str, load: F) -> AnyView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, NotHere>> + Send + 'static,
{
    whole_page(loading, erase(load))
}

fn whole_page(loading: &'static str, load: Load) -> AnyView {
    view! {
        <Suspense fallback=move || view! { <main class="page"><p class="loading">{loading}</p></main> }>
            {fetched(load, true)}
        </Suspense>
    }
    .into_any()
}

/// The part `load` gives, or the line saying why it is not here; asked again on "Try again"
/// and when the browser comes back online.
fn fetched(load: Load, whole_page: bool) -> impl IntoView {
    let tries = RwSignal::new(0u32);
    move || {
        tries.track();
        let attempt = load();
        Suspend::new(async move {
            match attempt.await {
                Ok(part) => part,
                Err(not_here) => missing(not_here, tries, whole_page),
            }
        })
    }
}

/// What shows in place of a part whose module did not arrive.
fn missing(not_here: NotHere, tries: RwSignal<u32>, whole_page: bool) -> AnyView {
    let offline = !platform::window().navigator().on_line();
    let why = RwSignal::new(if offline { Why::Offline } else { Why::Checking });
    // Only while this line is shown: once asked again, a later `online` event must not
    // mount the part anew (it would lose what it holds).
    let failed_at = tries.get_untracked();
    let shown = move || tries.try_get_untracked() == Some(failed_at);
    let again = move || {
        if shown() {
            tries.try_update(|n| *n += 1);
        }
    };
    if !offline {
        wasm_bindgen_futures::spawn_local(async move {
            let found = not_here.why().await;
            if why.try_set(found).is_none()
                && found == Why::Unreachable
                && wait_for_relay(shown).await
            {
                again();
            }
        });
    }
    // Back online: ask again (this line is replaced by the part, or by a new line).
    let back_online = window_event_listener(ev::online, move |_| again());
    on_cleanup(move || back_online.remove());
    let action = move || {
        if why.get() == Why::Updated {
            view! {
                <button type="button" on:click=|_| reload()>
                    "Reload now"
                </button>
            }
            .into_any()
        } else {
            view! {
                <button type="button" on:click=move |_| again()>
                    "Try again"
                </button>
            }
            .into_any()
        }
    };
    let line = view! {
        <div class="part-missing banner warning" role="status" data-why=move || why.get().key()>
            <p>{move || why.get().text()}</p>
            {action}
        </div>
    };
    if whole_page {
        view! { <main class="page">{line}</main> }.into_any()
    } else {
        line.into_any()
    }
}

/// The first wait before asking an unreachable relay again, and the longest (it doubles).
const RELAY_PROBE_FIRST_MS: i32 = 5_000;
const RELAY_PROBE_LONGEST_MS: i32 = 60_000;

/// True once the relay answers again (asked only while online: offline, the browser's
/// `online` event asks again instead); false once the line is gone (`shown` false: asked
/// again by hand, or its page left). One small request for the page at a time, the waits
/// doubling from 5 s to a minute: a relay restarting is back within seconds, and a long
/// outage costs a request a minute.
async fn wait_for_relay(shown: impl Fn() -> bool) -> bool {
    let mut wait = RELAY_PROBE_FIRST_MS;
    loop {
        platform::sleep_ms(wait).await;
        if !shown() {
            return false;
        }
        wait = (wait * 2).min(RELAY_PROBE_LONGEST_MS);
        if platform::window().navigator().on_line() && relay_says().await != Why::Unreachable {
            return shown();
        }
    }
}

fn reload() {
    let _ = platform::window().location().reload();
}

/// Asks the relay for its current page (not a kept copy) and compares the main wasm file it
/// names with this page's: a new build renames every hashed file, the on-demand modules
/// included, and the relay serves only the newest.
async fn relay_says() -> Why {
    let ours = platform::document()
        .get_element_by_id("firebreak-boot")
        .and_then(|boot| boot.get_attribute("data-wasm"));
    let init = web_sys::RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoStore);
    let Ok(response) = JsFuture::from(platform::window().fetch_with_str_and_init("/", &init)).await
    else {
        return Why::Unreachable;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return Why::Unreachable;
    };
    if !response.ok() {
        return Why::Refused;
    }
    let Ok(text) = response.text() else {
        return Why::Unreachable;
    };
    let Ok(html) = JsFuture::from(text).await else {
        return Why::Unreachable;
    };
    let html = html.as_string().unwrap_or_default();
    let theirs = html
        .split("data-wasm=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next());
    match (ours.as_deref(), theirs) {
        (Some(ours), Some(theirs)) if ours != theirs => Why::Updated,
        _ => Why::Refused,
    }
}
