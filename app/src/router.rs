//! Path routing without a router crate: `/` is the incident list, `/incident/{id}` one
//! incident, `/playbooks` the team's playbooks, `/playbook/{id}` one playbook, `/team/{id}` a team's playbooks. The URL fragment is left alone (it will carry invite secrets).

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::platform;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Home,
    Incident(String),
    /// The team's playbooks on this device, and the starters.
    Playbooks,
    Playbook(String),
    /// A team this device is on (or is joining from a team link): its playbooks.
    Team(String),
    NotFound,
}

impl Route {
    pub fn parse(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Route::Home;
        }
        if path == "/playbooks" {
            return Route::Playbooks;
        }
        if let Some(id) = path.strip_prefix("/playbook/") {
            return match is_incident_id(id) {
                true => Route::Playbook(id.to_string()),
                false => Route::NotFound,
            };
        }
        if let Some(id) = path.strip_prefix("/team/") {
            return match is_incident_id(id) {
                true => Route::Team(id.to_string()),
                false => Route::NotFound,
            };
        }
        match path.strip_prefix("/incident/") {
            Some(id) if is_incident_id(id) => Route::Incident(id.to_string()),
            _ => Route::NotFound,
        }
    }
}

fn is_incident_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The path of an incident's page.
pub fn incident_path(id: &str) -> String {
    format!("/incident/{id}")
}

/// The path of a playbook's page (a playbook's id is of the same form as an incident's).
pub fn playbook_path(id: &str) -> String {
    format!("/playbook/{id}")
}

/// The path of a team's page.
pub fn team_path(id: &str) -> String {
    format!("/team/{id}")
}

/// The current route, and a way to change it; provided through context.
#[derive(Clone, Copy)]
pub struct Router {
    route: RwSignal<Route>,
}

impl Router {
    pub fn route(&self) -> Route {
        self.route.get()
    }

    /// Goes to `path` within the app, adding a history entry.
    pub fn navigate(&self, path: &str) {
        let pushed = platform::window()
            .history()
            .and_then(|h| h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path)));
        if let Err(e) = pushed {
            platform::log_error(&platform::js_error_text(&e));
        }
        self.route.set(Route::parse(path));
        platform::window().scroll_to_with_x_and_y(0.0, 0.0);
    }
}

pub fn use_router() -> Router {
    expect_context::<Router>()
}

fn current_path() -> String {
    platform::window().location().pathname().unwrap_or_default()
}

/// Starts routing: follows the back/forward buttons and turns clicks on same-origin links
/// into in-app navigation.
pub fn provide_router() -> Router {
    let router = Router {
        route: RwSignal::new(Route::parse(&current_path())),
    };
    provide_context(router);

    let on_pop = window_event_listener(ev::popstate, move |_| {
        router.route.set(Route::parse(&current_path()));
    });
    let on_click = window_event_listener(ev::click, move |ev| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Ok(Some(link)) = target.closest("a[href]") else {
            return;
        };
        if link.has_attribute("target") || link.has_attribute("download") {
            return;
        }
        let Some(href) = link.get_attribute("href") else {
            return;
        };
        if href.starts_with('/') && !href.starts_with("//") {
            ev.prevent_default();
            router.navigate(&href);
        }
    });
    // The app lives as long as the page; these listeners do too.
    std::mem::forget(on_pop);
    std::mem::forget(on_click);
    router
}
