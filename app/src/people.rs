//! The people invited to the open incident, as every member may read them from the relay
//! (`GET …/people`: invite id, name and role each, no secrets), kept on the device so that
//! roles can be given and next steps' owners picked offline too.

use std::time::Duration;

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
pub use wire::api::Person;

use crate::session::{use_incident, Standing};
use crate::{access, platform, prefs};

const PEOPLE_PREFIX: &str = "firebreak.people.";

thread_local! {
    /// Moved on by this page's own changes to who is invited (the share panel), so the lists
    /// shown elsewhere on the page ask the relay again at once.
    static CHANGED: ArcRwSignal<u32> = ArcRwSignal::new(0);
}

/// Who is invited changed here (an invite, a role change, a revocation): ask again now.
pub fn changed() {
    CHANGED.with(|c| c.update(|n| *n = n.wrapping_add(1)));
}

/// How often an open page asks the relay again (an invite or a role change shows then).
const REFRESH: Duration = Duration::from_secs(30);

/// The list kept on this device for incident `id` (empty if it was never read).
pub fn kept(id: &str) -> Vec<Person> {
    LocalStorage::get(format!("{PEOPLE_PREFIX}{id}")).unwrap_or_default()
}

fn keep(id: &str, people: &[Person]) {
    if let Err(e) = LocalStorage::set(format!("{PEOPLE_PREFIX}{id}"), people) {
        platform::log_error(&format!("could not keep the invited people: {e}"));
    }
}

/// The one list of invited people an incident page holds, read by every part of it.
#[derive(Clone, Copy)]
struct PagePeople(ReadSignal<Vec<Person>>);

/// Starts the page's one poll of `GET …/people` (stopped when the page leaves); every
/// `use_people()` under it reads that list instead of asking on its own.
pub fn provide() {
    let people = poll();
    provide_context(PagePeople(people));
}

/// The people invited to the open incident: the list kept here at once, then the relay's,
/// asked again every 30 s while this device is a member. Under a page that called
/// [`provide`] this is the page's one list; elsewhere it asks for itself.
pub fn use_people() -> ReadSignal<Vec<Person>> {
    match use_context::<PagePeople>() {
        Some(PagePeople(people)) => people,
        None => poll(),
    }
}

fn poll() -> ReadSignal<Vec<Person>> {
    let open = use_incident();
    let id = open.id.clone();
    let standing = open.standing;
    let people = RwSignal::new(kept(&id));
    let ask = move || {
        if !matches!(standing.try_get_untracked(), Some(Standing::Member(_))) {
            return;
        }
        let Some(held) = prefs::access(&id) else {
            return;
        };
        let id = id.clone();
        leptos::task::spawn_local(async move {
            // Unreachable or refused: the kept list stays.
            if let Ok(list) = access::people(&id, &held.token).await {
                keep(&id, &list);
                if people.try_get_untracked().as_ref() != Some(&list) {
                    people.try_set(list);
                }
            }
        });
    };
    let bumped = CHANGED.with(ArcRwSignal::clone);
    Effect::new({
        let ask = ask.clone();
        move |_| {
            bumped.track();
            if matches!(standing.get(), Standing::Member(_)) {
                ask();
            }
        }
    });
    let poll = set_interval_with_handle(ask, REFRESH)
        .map_err(|e| platform::log_error(&platform::js_error_text(&e)))
        .ok();
    on_cleanup(move || {
        if let Some(handle) = poll {
            handle.clear();
        }
    });
    people.read_only()
}

/// This device's own invite id on incident `id` ("" while it has none).
pub fn my_invite(id: &str) -> String {
    prefs::access(id).map(|a| a.invite).unwrap_or_default()
}

/// The invited person a typed name stands for (same name, without case or surrounding
/// spaces), if exactly one has it.
pub fn named(people: &[Person], typed: &str) -> Option<Person> {
    let typed = typed.trim().to_lowercase();
    let mut found = people
        .iter()
        .filter(|p| !typed.is_empty() && p.name.trim().to_lowercase() == typed);
    match (found.next(), found.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}
