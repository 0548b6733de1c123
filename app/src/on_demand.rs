//! Parts of the app kept out of the first download.
//!
//! A function marked `#[lazy]` is cut out into its own wasm module by the build
//! (`scripts/split-wasm.sh`, run by Trunk after wasm-bindgen's input is linked); calling it
//! fetches that module the first time (from the service worker's copy when offline) and
//! returns a future. Used for what most visits never open: the playbook editor, a team's
//! page, the history panel, exports and the share panel.

use std::future::Future;

use leptos::prelude::*;

/// Mounts the part `load` gives once `wanted` first turns true, and keeps it mounted after,
/// as if it had been there from the start (a panel closed and opened again keeps its state).
/// Nothing is fetched before.
pub fn on_demand<F, Fut>(
    wanted: impl Fn() -> bool + Send + Sync + 'static,
    load: F,
) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AnyView> + Send + 'static,
{
    let asked = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || wanted());
    move || {
        let load = load.clone();
        asked.get().then(move || {
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(load())}
                </Suspense>
            }
        })
    }
}

/// A whole page in its own module, with a line to read while it arrives.
pub fn page<F, Fut>(loading: &'static str, load: F) -> AnyView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AnyView> + Send + 'static,
{
    view! {
        <Suspense fallback=move || view! { <main class="page"><p class="loading">{loading}</p></main> }>
            {move || Suspend::new(load())}
        </Suspense>
    }
    .into_any()
}
