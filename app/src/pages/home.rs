//! The home page: who you are, a new incident, and the incidents this device knows.

use leptos::prelude::*;

use crate::form::{check, checked, Field};
use crate::prefs::{self, KnownIncident};
use crate::router::{incident_path, use_router};
use crate::{platform, session};

#[component]
pub fn HomePage() -> impl IntoView {
    platform::document().set_title("Firebreak");
    view! {
        <main class="page home">
            <header class="app-header">
                <h1>"Firebreak"</h1>
                <p class="tagline">
                    "One living document per security incident, written together, on any device, with or without a network."
                </p>
            </header>
            <DisplayName/>
            <NewIncident/>
            <OpenFile/>
            <IncidentList/>
        </main>
    }
}

#[component]
fn DisplayName() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="h-you">
            <h2 id="h-you">"You"</h2>
            <label for="display-name">"Your name"</label>
            <input
                id="display-name"
                type="text"
                autocomplete="name"
                aria-describedby="display-name-hint"
                prop:value=prefs::display_name()
                on:input:target=move |ev| prefs::set_display_name(&ev.target().value())
            />
            <p class="hint" id="display-name-hint">
                "The other responders see this name next to yours while you both have an incident open."
            </p>
        </section>
    }
}

#[component]
fn NewIncident() -> impl IntoView {
    let router = use_router();
    let title = RwSignal::new(String::new());
    // "" for a blank incident, else the id of the team's playbook on this device or of a
    // starter (bundled in the app).
    let playbook = RwSignal::new(String::new());
    // Leaked once per visit of the home page: a select's options are `&'static str`.
    let team: Vec<(&'static str, &'static str)> = prefs::known_playbooks()
        .into_iter()
        .map(|k| -> (&'static str, &'static str) { (k.id.leak(), k.name.leak()) })
        .collect();
    let choices: Vec<(&'static str, &'static str)> = team
        .iter()
        .copied()
        .chain(incident::playbook::starter_choices())
        .collect();
    let options: Vec<(&'static str, &'static str)> = std::iter::once(("", "Blank"))
        .chain(choices.iter().copied())
        .collect();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = title.get_untracked();
        let chosen = playbook.get_untracked();
        let from = choices.iter().find(|(id, _)| *id == chosen);
        let name = match (typed.trim(), from) {
            ("", Some((_, playbook))) => format!("{playbook} incident"),
            ("", None) => "Untitled incident".to_string(),
            (typed, _) => typed.to_string(),
        };
        let name = name.as_str();
        let id = platform::new_id();
        let drill = checked("new-drill");
        // The incident page creates and stores it; this works with no network at all. It is
        // registered on the relay (and this device becomes its owner) once online.
        session::remember_created(&id, name, from.map(|(id, _)| *id), drill);
        prefs::set_unpublished(&id, true);
        prefs::remember_summary(&id, &prefs::Summary::fresh(name, drill), true);
        router.navigate(&incident_path(&id));
    };
    view! {
        <section class="card" aria-labelledby="h-new">
            <h2 id="h-new">"Start an incident"</h2>
            <form class="new-incident" on:submit=create>
                {Field::new("new-title", "Incident title")
                    .autocomplete("off")
                    .placeholder("e.g. Phishing wave against finance")
                    .on_input(move |v| title.set(v))
                    .view()}
                {Field::new("new-playbook", "Start from")
                    .select(None, options)
                    .on_change(move |v| playbook.set(v))
                    .view()}
                {check("new-drill".into(), "This is a drill (tabletop exercise)", "drill-check", Signal::stored(false), None)}
                <button type="submit">"Create incident"</button>
            </form>
            <p class="hint">
                "It is saved on this device first, so this works offline, and put on the relay whenever you are online. Only the people you invite can open it."
            </p>
            <p class="hint">
                "A playbook fills in what we already know about that kind of incident: a summary to complete, next steps for each role, questions to answer, draft messages and links. "
                <a href="/playbooks">"Your team's playbooks"</a>
            </p>
        </section>
    }
}

/// Opens an incident file (saved from any Firebreak) as a new incident on this device.
#[component]
fn OpenFile() -> impl IntoView {
    let router = use_router();
    let problem = RwSignal::new(None::<String>);
    let chosen = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        problem.set(None);
        wasm_bindgen_futures::spawn_local(async move {
            if file.size() > incident::export::MAX_INCIDENT_FILE_BYTES as f64 {
                problem.set(Some(format!(
                    "{} is too big: an incident file may be at most {} MB.",
                    file.name(),
                    incident::export::MAX_INCIDENT_FILE_BYTES / (1024 * 1024)
                )));
                return;
            }
            let text = match platform::file_text(&file).await {
                Ok(text) => text,
                Err(e) => {
                    problem.set(Some(format!("{} could not be read: {e}", file.name())));
                    return;
                }
            };
            match incident::export::read_incident_file(&text) {
                Ok(opened) => {
                    let id = platform::new_id();
                    if let Err(why) = keep_carried(&id, &opened.attachments).await {
                        problem.set(Some(format!("{} was not opened: {why}.", file.name())));
                        return;
                    }
                    session::remember_opened_file(&id, opened.state);
                    prefs::set_unpublished(&id, true);
                    prefs::remember_summary(
                        &id,
                        &prefs::Summary::fresh(&opened.title, false),
                        true,
                    );
                    router.navigate(&incident_path(&id));
                }
                Err(reason) => {
                    problem.set(Some(format!("{} was not opened: {reason}.", file.name())))
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="h-open-file">
            <h2 id="h-open-file">"Open an incident file"</h2>
            <label for="open-file">"Incident file (.firebreak.json)"</label>
            <input id="open-file" type="file" accept=".json,application/json" on:change=chosen/>
            <p class="hint">
                "A file saved from any Firebreak opens here as a new incident, offline too, with everything it held. It goes on the relay when you are online, and only the people you invite can open it."
            </p>
            {move || problem.get().map(|p| view! { <p id="open-file-problem" class="problem" role="alert">{p}</p> })}
        </section>
    }
}

/// Keeps the attachments an opened incident file carries on this device under the new
/// incident, marked pending: the incident page uploads them once it is on the relay.
async fn keep_carried(id: &str, files: &[incident::export::AttachedFile]) -> Result<(), String> {
    if files.is_empty() {
        return Ok(());
    }
    let store = crate::store::Store::open(|_| {})
        .await
        .map_err(|e| format!("this device cannot keep its attachments ({e})"))?;
    let mut result = Ok(());
    for file in files {
        let blob = crate::store::LocalBlob {
            sha256: file.sha256.clone(),
            bytes: js_sys::Uint8Array::from(&file.bytes[..]),
            content_type: file.content_type.clone(),
            state: crate::store::BlobState::Pending,
        };
        if let Err(e) = store.put_blob(id, &blob).await {
            result = Err(format!("this device cannot keep its attachments ({e})"));
            break;
        }
    }
    store.close();
    result
}

/// The incidents on this device; drills (tabletop exercises) only when asked for.
#[component]
fn IncidentList() -> impl IntoView {
    let incidents = prefs::known_incidents();
    let drills = incidents.iter().filter(|k| k.drill).count();
    let real = incidents.len() - drills;
    let show_drills = RwSignal::new(false);
    let mentions = super::mention_counts::unread_mentions(&incidents);
    let list = move || {
        let shown: Vec<KnownIncident> = incidents
            .iter()
            .filter(|k| show_drills.get() || !k.drill)
            .cloned()
            .collect();
        if shown.is_empty() {
            let empty = if drills > 0 {
                "No incidents on this device yet, only drills."
            } else {
                "No incidents on this device yet."
            };
            return view! { <p class="empty">{empty}</p> }.into_any();
        }
        view! {
            <ul class="incident-list" aria-label="Incidents on this device">
                {shown
                    .into_iter()
                    .map(|known| {
                        let id = known.id.clone();
                        let mentioned = Signal::derive(move || mentions.with(|m| m.get(&id).copied()));
                        view! { <IncidentListItem known=known mentioned=mentioned/> }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let toggle = (drills > 0).then(|| {
        view! {
            <button
                type="button"
                id="show-drills"
                class="drill-filter"
                aria-pressed=move || show_drills.get().to_string()
                on:click=move |_| show_drills.update(|s| *s = !*s)
            >
                {move || if show_drills.get() {
                    format!("Hide drills ({drills})")
                } else {
                    format!("Show drills ({drills})")
                }}
            </button>
        }
    });
    view! {
        <section class="card" aria-labelledby="h-list" data-real=real data-drills=drills>
            <h2 id="h-list">"Incidents on this device"</h2>
            {list}
            {toggle}
        </section>
    }
}

#[component]
fn IncidentListItem(
    known: KnownIncident,
    /// Unread mentions of this device's person, once counted.
    mentioned: Signal<Option<usize>>,
) -> impl IntoView {
    let title = if known.title.trim().is_empty() {
        "Untitled incident".to_string()
    } else {
        known.title.clone()
    };
    let tlp = incident::Tlp::parse(&known.tlp);
    let status = incident::IncidentStatus::from_key(&known.status).unwrap_or_default();
    let commander = if known.commander.trim().is_empty() {
        "No commander yet".to_string()
    } else {
        format!("Commander: {}", known.commander)
    };
    let changed = if known.last_change.is_empty() {
        format!("Opened {}", platform::short_time(&known.last_opened))
    } else {
        format!("Changed {}", platform::short_time(&known.last_change))
    };
    view! {
        <li data-testid="known-incident" data-drill=known.drill.to_string()>
            <a href=incident_path(&known.id)>{title}</a>
            <span class="meta">
                {known.drill.then(|| view! {
                    <span class="drill-chip" title=incident::DRILL_MEANING>{incident::DRILL_LABEL}</span>
                })}
                {move || mentioned.get().filter(|n| *n > 0).map(|n| {
                    let words = if n == 1 { "1 mention".to_string() } else { format!("{n} mentions") };
                    view! {
                        <span class="mention-count" data-testid="mention-count" title="Places that mention you since you last marked this incident as read">
                            {format!("@ {words}")}
                        </span>
                    }
                })}
                <span class=format!("status-chip status-{}", status.key())>{status.label()}</span>
                {tlp
                    .map(|t| {
                        view! {
                            <span class=format!("tlp-chip {}", t.css_class())>
                                "TLP:" {t.as_str()}
                            </span>
                        }
                    })}
                {incident::Severity::from_key(&known.severity)
                    .map(|s| {
                        view! {
                            <span
                                class=format!("severity-chip severity-{}", s.key())
                                title=s.meaning()
                            >
                                {s.label()}
                            </span>
                        }
                    })}
                {incident::IncidentType::from_key(&known.incident_type)
                    .map(|t| view! { <span class="type-chip">{t.label()}</span> })}
                <span class="commander">{commander}</span>
                <span class="when">{changed}</span>
            </span>
        </li>
    }
}
