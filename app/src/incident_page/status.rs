//! What the page says about itself: relay sync status, problems saving or syncing, and who
//! else is here.

use incident::Incident;
use leptos::prelude::*;

use crate::session::{use_incident, Standing};
use crate::sync::Connection;
use crate::{platform, prefs};

fn changes(n: u32) -> String {
    if n == 1 {
        "1 change".to_string()
    } else {
        format!("{n} changes")
    }
}

/// The sentence the sync status shows.
pub fn status_text(state: Connection, pending: u32) -> String {
    match (state, pending) {
        (Connection::Synced, 0) => "Synced".to_string(),
        (Connection::Synced, n) => format!("Sending {} to the relay…", changes(n)),
        (Connection::Connecting, 0) => "Connecting…".to_string(),
        (Connection::Connecting, n) => {
            format!("Connecting… — {} not on the relay yet", changes(n))
        }
        (Connection::Offline, 0) => "Offline — everything is saved on this device".to_string(),
        (Connection::Offline, n) => format!("Offline — {} not on the relay yet", changes(n)),
    }
}

/// What the sync status says while this device is not (or no longer) syncing, and its
/// `data-state`; `None` while it syncs as a member.
fn standing_text(standing: &Standing, playbook: bool) -> Option<(String, &'static str)> {
    let (text, state) = match standing {
        Standing::Member(_) => return None,
        Standing::Loading => ("Opening…".to_string(), "loading"),
        Standing::Unpublished => (
            "Not on the relay yet — it will be published when you are online. Everything is saved on this device.".to_string(),
            "unpublished",
        ),
        Standing::Publishing => ("Publishing to the relay…".to_string(), "publishing"),
        Standing::NeedsCreationSecret { .. } => (
            "Not on the relay yet — the relay asks for its creation secret first. Everything is saved on this device.".to_string(),
            "creation-secret",
        ),
        Standing::Checking => ("Checking your invite with the relay…".to_string(), "checking"),
        Standing::Naming { .. } => (
            format!(
                "Invite accepted — say who you are to open the {}.",
                if playbook { "playbook" } else { "incident" }
            ),
            "naming",
        ),
        Standing::Refused(why) => (why.message_for(playbook), "refused"),
    };
    Some((text, state))
}

/// How long before `now` the time `at` was (both RFC 3339), as the sync status says it:
/// "12 min ago", "3 h 5 min ago"; two days and more as the date.
fn ago(at: &str, now: &str) -> String {
    let elapsed = js_sys::Date::parse(now) - js_sys::Date::parse(at);
    if !elapsed.is_finite() {
        return platform::short_time(at);
    }
    let minutes = (elapsed / 60_000.0).floor().max(0.0) as i64;
    match minutes {
        0 => "less than a minute ago".to_string(),
        1..60 => format!("{minutes} min ago"),
        60..2880 if minutes % 60 == 0 => format!("{} h ago", minutes / 60),
        60..2880 => format!("{} h {} min ago", minutes / 60, minutes % 60),
        _ => format!("on {}", platform::short_time(at)),
    }
}

#[component]
pub fn SyncStatus() -> impl IntoView {
    let open = use_incident();
    let state = open.connection;
    let pending = open.pending;
    let standing = open.standing;
    let playbook = open.is_playbook();
    let apart = Memo::new(move |_| standing_text(&standing.get(), playbook));
    // When everything was last on the relay: kept per incident on this device, so a page
    // opened on a plane can still say how old its copy is.
    // Moved on while it stays in sync (every tick of the page's clock) and when the sync is
    // lost, so it is the last moment this device and the relay were known to agree.
    let last_synced = RwSignal::new(prefs::last_synced(&open.id));
    let id = open.id.clone();
    let clock = crate::clock::now();
    let ticks = clock.clone();
    Effect::new(move |was_synced: Option<bool>| {
        let synced = state.get() == Connection::Synced && pending.get() == 0;
        if synced {
            ticks.track();
        }
        if synced || was_synced == Some(true) {
            let now = platform::now_rfc3339();
            prefs::set_last_synced(&id, &now);
            last_synced.set(Some(now));
        }
        synced
    });
    let since = move || {
        let synced = state.get() == Connection::Synced && pending.get() == 0;
        match last_synced.get() {
            Some(at) if !synced => format!(" · last synced {}", ago(&at, &clock.get())),
            None if !synced => " · never synced from this device".to_string(),
            _ => String::new(),
        }
    };
    view! {
        <div
            id="sync-status"
            role="status"
            class="sync-status"
            data-state=move || match apart.get() {
                Some((_, key)) => key,
                None => state.get().as_str(),
            }
            data-refusal=move || match standing.get() {
                Standing::Refused(why) => Some(why.key()),
                _ => None,
            }
            data-pending=move || pending.get().to_string()
        >
            {move || match apart.get() {
                Some((text, _)) => text,
                None => status_text(state.get(), pending.get()),
            }}
            <span id="last-synced" data-at=move || last_synced.get()>{since}</span>
        </div>
    }
}

/// Red banners for anything that puts data at risk or blocks sync.
#[component]
pub fn Problems() -> impl IntoView {
    let open = use_incident();
    let save_error = open.save_error;
    let sync_problem = open.sync_problem;
    let loaded = open.loaded;
    let connection = open.connection;
    let pending = open.pending;
    let schema = move || {
        if !loaded.get() {
            return None;
        }
        open.read(Incident::check_schema).err().map(|e| {
            format!("This incident was written by a newer version of Firebreak ({e}). Reload the page to update before editing.")
        })
    };
    // Where the changes this device could not store are safe, so nobody closes the page on them.
    let kept = move || {
        if connection.get() == Connection::Synced && pending.get() == 0 {
            " The relay has every change, so nothing is lost; this device will store them again as soon as it can."
        } else {
            " Your changes are kept in this page until they are stored or reach the relay: keep it open."
        }
    };
    view! {
        {move || {
            save_error
                .get()
                .map(|message| {
                    view! {
                        <div id="save-error" class="banner error" role="alert">
                            <strong>{message}</strong>
                            {kept}
                        </div>
                    }
                })
        }}
        {move || {
            sync_problem
                .get()
                .map(|message| {
                    view! {
                        <div id="sync-problem" class="banner warning" role="alert">
                            {message}
                        </div>
                    }
                })
        }}
        {move || {
            schema()
                .map(|message| {
                    view! {
                        <div id="schema-problem" class="banner error" role="alert">
                            {message}
                        </div>
                    }
                })
        }}
    }
}

/// "Here now: Alice, Bob".
#[component]
pub fn Presence() -> impl IntoView {
    let open = use_incident();
    let presence = open.presence;
    view! {
        <p id="presence" class="presence" aria-live="polite">
            {move || {
                let peers = presence.get();
                if peers.is_empty() {
                    return None;
                }
                Some(
                    view! {
                        "Here now: "
                        {peers
                            .into_iter()
                            .enumerate()
                            .map(|(i, peer)| {
                                view! {
                                    {(i > 0).then_some(", ")}
                                    <span class="peer" style:border-color=peer.color>
                                        {peer.name}
                                    </span>
                                }
                            })
                            .collect_view()}
                    },
                )
            }}
        </p>
    }
}
