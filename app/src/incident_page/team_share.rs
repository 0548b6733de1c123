//! "Share with team", on a playbook's page for its owner: one grant shares the playbook with
//! everyone on a team this device is on (their team links open it, in their team role), and
//! stopping closes it for all of them at once. Incidents have no such card: teams are for
//! playbooks only, and the relay refuses anything else.

use leptos::prelude::*;
use wire::Access;

use crate::access::{self, TeamShare};
use crate::prefs;
use crate::session::{use_incident, Standing};

#[component]
pub fn ShareWithTeam() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let id = open.id.clone();
    let owner = Memo::new(move |_| standing.get() == Standing::Member(Access::Owner));
    move || owner.get().then(|| view! { <Card id=id.clone()/> })
}

#[component]
fn Card(id: String) -> impl IntoView {
    // Teams this device may share with: its owner's or an editor member's token.
    let teams: Vec<prefs::KnownTeam> = prefs::known_teams()
        .into_iter()
        .filter(|t| t.role != Some(Access::Viewer))
        .collect();
    let token = prefs::access(&id).map(|a| a.token).unwrap_or_default();
    let chosen = RwSignal::new(teams.first().map(|t| t.id.clone()).unwrap_or_default());
    let shares = RwSignal::new(Vec::<TeamShare>::new());
    let note = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let refresh = {
        let (id, token) = (id.clone(), token.clone());
        move || {
            let (id, token) = (id.clone(), token.clone());
            leptos::task::spawn_local(async move {
                if let Ok(list) = access::team_shares(&id, &token).await {
                    shares.try_set(list);
                }
            });
        }
    };
    refresh();
    let share = {
        let (id, token, teams, refresh) =
            (id.clone(), token.clone(), teams.clone(), refresh.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(team) = teams
                .iter()
                .find(|t| t.id == chosen.get_untracked())
                .cloned()
            else {
                return;
            };
            problem.set(None);
            note.set(None);
            let (id, token, refresh) = (id.clone(), token.clone(), refresh.clone());
            leptos::task::spawn_local(async move {
                match access::share_with_team(&id, &token, &team.id, &team.token).await {
                    Ok(shared) => {
                        note.try_set(Some(format!(
                            "Shared with {}: everyone on the team can open this playbook with their team link.",
                            shared.team_name
                        )));
                        refresh();
                    }
                    Err(e) => {
                        problem.try_set(Some(format!("Not shared: {e}.")));
                    }
                }
            });
        }
    };
    let has_teams = !teams.is_empty();
    let list = {
        let (id, token) = (id.clone(), token.clone());
        move || {
            shares
                .get()
                .into_iter()
                .map(|shared| {
                    let (id, token, refresh) = (id.clone(), token.clone(), refresh.clone());
                    let team = shared.team.clone();
                    let label = format!("Stop sharing with {}", shared.team_name);
                    let stop = move |_| {
                        let (id, token, team, refresh) =
                            (id.clone(), token.clone(), team.clone(), refresh.clone());
                        leptos::task::spawn_local(async move {
                            match access::unshare_from_team(&id, &token, &team).await {
                                Ok(()) => {
                                    note.try_set(Some(
                                        "No longer shared with that team.".to_string(),
                                    ));
                                }
                                Err(e) => {
                                    problem.try_set(Some(format!("Still shared: {e}.")));
                                }
                            }
                            refresh();
                        });
                    };
                    view! {
                        <li data-testid="team-share">
                            <span class="name">{shared.team_name.clone()}</span>
                            <button type="button" class="secondary" aria-label=label on:click=stop>
                                "Stop sharing"
                            </button>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <section class="card team-share" aria-labelledby="h-team-share">
            <h2 id="h-team-share">"Share with team"</h2>
            {if has_teams {
                view! {
                    <form class="team-share-form" on:submit=share>
                        <label for="team-share-select">"Team"</label>
                        <select id="team-share-select" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {teams
                                .iter()
                                .map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> })
                                .collect_view()}
                        </select>
                        <button type="submit">"Share with team"</button>
                    </form>
                }
                .into_any()
            } else {
                view! {
                    <p class="hint">
                        "Make a team on the " <a href="/playbooks">"Playbooks"</a>
                        " page to share this playbook with everyone on it at once."
                    </p>
                }
                .into_any()
            }}
            {move || note.get().map(|n| view! { <p class="hint" role="status" id="team-share-note">{n}</p> })}
            {move || problem.get().map(|p| view! { <p class="problem" role="alert">{p}</p> })}
            <ul class="invite-list" aria-label="Shared with teams">{list}</ul>
        </section>
    }
}
