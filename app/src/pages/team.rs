//! Teams (`/team/{id}`, and the Team area of the playbooks page): one grant shares a
//! playbook with everyone on a team. The team's owner makes the team and invites members,
//! each by their own link (`/team/{id}#invite=…`, the token in the fragment as for an
//! incident); a member opening it sees the playbooks shared with the team and opens each
//! with the team token, in their team role. The relay enforces all of it; this page only
//! asks and shows.

use leptos::prelude::*;
use wire::Access;

use crate::access::{self, ApiError, FromLink, Invite};
use crate::platform;
use crate::prefs::{self, DeviceGrant, KnownTeam};
use crate::router::{playbook_path, team_path, use_router};

/// Longest team and member name the relay takes.
const MAX_NAME: usize = 80;

fn role_text(role: Option<Access>) -> &'static str {
    match role {
        Some(Access::Owner) => "owner",
        Some(Access::Editor) => "editor",
        Some(Access::Viewer) => "viewer",
        None => "member",
    }
}

/// What a refused team call means for the person.
fn refusal_text(error: &ApiError) -> String {
    match error {
        ApiError::Refused {
            status: 410,
            message,
            ..
        } => match message.strip_prefix("invite revoked by ") {
            Some(by) => format!("Your place on this team was revoked by {}.", by.trim()),
            None if message.contains("expired") => "Your team link has expired. Ask the team's owner for a new one.".to_string(),
            None => "Your place on this team was revoked.".to_string(),
        },
        ApiError::Refused { status: 403, .. } | ApiError::Refused { status: 404, .. } => {
            "The relay does not know this team link. Ask the team's owner for a new one.".to_string()
        }
        ApiError::Refused { status: 409, .. } => {
            "This team link is already in use on another device — ask the team's owner for your own link.".to_string()
        }
        other => format!("Could not reach the team: {other}."),
    }
}

/// A team's page: who this device is on it, and the playbooks shared with it.
#[component]
pub fn TeamPage(id: String) -> impl IntoView {
    platform::document().set_title("Team — Firebreak");
    let problem = RwSignal::new(None::<String>);
    match access::take_invite_from_address() {
        FromLink::Token(token) => {
            // A member's new link replaces what this device held, but never the owner's token.
            let keep_owner = prefs::team(&id).is_some_and(|t| t.role == Some(Access::Owner));
            if !keep_owner {
                prefs::remember_team(&KnownTeam {
                    id: id.clone(),
                    name: prefs::team(&id).map(|t| t.name).unwrap_or_default(),
                    token,
                    role: None,
                });
            }
        }
        FromLink::Broken => problem.set(Some(
            "This team link is incomplete. Copy the whole link again, or ask the team's owner for a new one.".to_string(),
        )),
        FromLink::Nothing => {}
    }
    let view_of = RwSignal::new(None::<wire::api::TeamView>);
    let held = prefs::team(&id);
    if held.is_none() && problem.get_untracked().is_none() {
        problem.set(Some(
            "This device is not on this team. Open the link the team's owner sent you.".to_string(),
        ));
    }
    if let Some(held) = held.clone() {
        leptos::task::spawn_local(async move {
            match access::team(&held.id, &held.token).await {
                Ok(view) => {
                    prefs::remember_team(&KnownTeam {
                        name: view.name.clone(),
                        role: Some(view.role),
                        ..held
                    });
                    platform::document().set_title(&format!("{} — Firebreak", view.name));
                    view_of.try_set(Some(view));
                }
                Err(e) => {
                    problem.try_set(Some(refusal_text(&e)));
                }
            }
        });
    }
    let token = held.map(|t| t.token).unwrap_or_default();
    view! {
        <main class="page home team-page">
            <nav class="top-nav" aria-label="Team">
                <a href="/playbooks">"← Playbooks"</a>
            </nav>
            <header class="app-header">
                <h1 id="team-name">{move || view_of.get().map(|v| v.name).unwrap_or_else(|| "Team".to_string())}</h1>
                {move || view_of.get().map(|v| view! {
                    <p class="tagline" id="team-me">
                        {format!("You are on this team as {} ({}).", v.member_name, role_text(Some(v.role)))}
                    </p>
                })}
            </header>
            {move || problem.get().map(|p| view! { <p id="team-problem" class="problem" role="alert">{p}</p> })}
            {move || view_of.get().map(|v| {
                let token = token.clone();
                view! { <TeamPlaybooks view=v token=token/> }
            })}
        </main>
    }
}

#[component]
fn TeamPlaybooks(view: wire::api::TeamView, token: String) -> impl IntoView {
    let router = use_router();
    let body = if view.playbooks.is_empty() {
        view! { <p class="empty">"No playbooks are shared with this team yet."</p> }.into_any()
    } else {
        view! {
            <ul class="incident-list" aria-label="The team's playbooks">
                {view
                    .playbooks
                    .into_iter()
                    .map(|shared| {
                        let token = token.clone();
                        let name = if shared.playbook_name.trim().is_empty() {
                            "Untitled playbook".to_string()
                        } else {
                            shared.playbook_name.clone()
                        };
                        let label = name.clone();
                        let href = playbook_path(&shared.playbook);
                        let open = move |ev: leptos::ev::MouseEvent| {
                            ev.prevent_default();
                            // The team token opens the playbook, unless this device has its own.
                            if prefs::access(&shared.playbook).is_none() {
                                prefs::set_access(&shared.playbook, &DeviceGrant::from_link(&token));
                            }
                            prefs::remember_playbook(&shared.playbook, &label, 0);
                            router.navigate(&playbook_path(&shared.playbook));
                        };
                        view! {
                            <li data-testid="team-playbook">
                                <a href=href on:click=open>{name}</a>
                                <span class="meta">{format!("Shared by {}", shared.shared_by)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-team-playbooks">
            <h2 id="h-team-playbooks">"The team's playbooks"</h2>
            <p class="hint">
                {format!("Everyone on the team opens these with their team link, as {}.", match view.role {
                    Access::Viewer => "readers",
                    _ => "editors",
                })}
            </p>
            {body}
        </section>
    }
}

/// The playbooks page's Team area: the teams on this device, a new team, and for a team's
/// owner its members (invite, list, revoke).
#[component]
pub fn TeamArea() -> impl IntoView {
    let teams = RwSignal::new(prefs::known_teams());
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = name.get_untracked();
        if wanted.trim().is_empty() {
            problem.set(Some("Give the team a name.".to_string()));
            return;
        }
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match access::create_team(&wanted, &prefs::display_name()).await {
                Ok(made) => {
                    prefs::remember_team(&KnownTeam {
                        id: made.team,
                        name: made.team_name,
                        token: made.token,
                        role: Some(Access::Owner),
                    });
                    name.try_set(String::new());
                    teams.try_set(prefs::known_teams());
                }
                Err(ApiError::Refused { status: 401, .. }) => {
                    problem.try_set(Some("This relay makes teams only for holders of its creation secret: publish an incident or playbook first and give the secret when asked.".to_string()));
                }
                Err(e) => {
                    problem.try_set(Some(format!("The team was not made: {e}.")));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <section class="card team-area" aria-labelledby="h-team">
            <h2 id="h-team">"Team"</h2>
            <p class="hint">
                "Share a playbook with everyone on your team at once: each member gets their own team link, and opens every playbook shared with the team. Revoking a member closes all of them for that person."
            </p>
            {move || {
                teams
                    .get()
                    .into_iter()
                    .map(|team| view! { <TeamCard team=team/> })
                    .collect_view()
            }}
            <form class="team-create" on:submit=create>
                <label for="team-name-input">"New team's name"</label>
                <input
                    type="text"
                    id="team-name-input"
                    maxlength=MAX_NAME.to_string()
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
                <button type="submit" prop:disabled=move || busy.get()>"Create team"</button>
            </form>
            {move || problem.get().map(|p| view! { <p id="team-area-problem" class="problem" role="alert">{p}</p> })}
        </section>
    }
}

#[component]
fn TeamCard(team: KnownTeam) -> impl IntoView {
    let owner = team.role == Some(Access::Owner);
    let heading = format!("{} ({})", team.name, role_text(team.role));
    view! {
        <div class="team-card" data-testid="team">
            <h3>{heading}</h3>
            <p><a href=team_path(&team.id)>"The team's playbooks"</a></p>
            {owner.then(|| view! { <Members team=team.clone()/> })}
        </div>
    }
}

/// The team owner's members: invite one, the new link, everyone invited with "Revoke".
#[component]
fn Members(team: KnownTeam) -> impl IntoView {
    let members = RwSignal::new(None::<Result<Vec<Invite>, String>>);
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Access::Editor);
    let made = RwSignal::new(None::<(String, String)>);
    let problem = RwSignal::new(None::<String>);
    let refresh = {
        let (id, token) = (team.id.clone(), team.token.clone());
        move || {
            let (id, token) = (id.clone(), token.clone());
            leptos::task::spawn_local(async move {
                let answer = access::members(&id, &token)
                    .await
                    .map_err(|e| format!("Could not load the members: {e}."));
                members.try_set(Some(answer));
            });
        }
    };
    refresh();
    let invite = {
        let (id, token, refresh) = (team.id.clone(), team.token.clone(), refresh.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let who = name.get_untracked();
            if who.trim().is_empty() {
                problem.set(Some("Give the member's name.".to_string()));
                return;
            }
            problem.set(None);
            let (id, token, refresh) = (id.clone(), token.clone(), refresh.clone());
            leptos::task::spawn_local(async move {
                match access::add_member(&id, &token, &who, role.get_untracked()).await {
                    Ok(new) => {
                        let link = access::invite_link(&team_path(&id), &new.token);
                        made.try_set(Some((new.name, link)));
                        name.try_set(String::new());
                        refresh();
                    }
                    Err(e) => {
                        problem.try_set(Some(format!("The member was not invited: {e}.")));
                    }
                }
            });
        }
    };
    let input_id = format!("team-member-{}", team.id);
    let role_id = format!("team-role-{}", team.id);
    let list = {
        let (id, token) = (team.id.clone(), team.token.clone());
        move || {
            match members.get() {
            None => view! { <p class="loading">"Loading the members…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="problem">{e}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <ul class="invite-list" aria-label="Members">
                    {list
                        .into_iter()
                        .map(|member| {
                            let (id, token, refresh) = (id.clone(), token.clone(), refresh.clone());
                            let revoked = member.revoked_at.is_some();
                            let is_owner = member.role == Access::Owner;
                            let label = format!("Revoke {}", member.name);
                            let invite = member.invite.clone();
                            let revoke = move |_| {
                                let (id, token, invite, refresh) =
                                    (id.clone(), token.clone(), invite.clone(), refresh.clone());
                                leptos::task::spawn_local(async move {
                                    if let Err(e) = access::revoke_member(&id, &token, &invite).await {
                                        problem.try_set(Some(format!("Not revoked: {e}.")));
                                    }
                                    refresh();
                                });
                            };
                            view! {
                                <li data-testid="team-member">
                                    <span class="name">{member.name.clone()}</span>
                                    <span class="meta">
                                        {format!(
                                            "{}{}",
                                            role_text(Some(member.role)),
                                            if revoked { " · revoked" } else { "" },
                                        )}
                                    </span>
                                    {(!revoked && !is_owner).then(|| view! {
                                        <button type="button" class="secondary" aria-label=label on:click=revoke>
                                            "Revoke"
                                        </button>
                                    })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        }
        }
    };
    view! {
        <form class="team-invite" on:submit=invite>
            <label for=input_id.clone()>"Member's name"</label>
            <input
                type="text"
                id=input_id
                maxlength=MAX_NAME.to_string()
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <label for=role_id.clone()>"Role"</label>
            <select
                id=role_id
                on:change=move |ev| {
                    role.set(if event_target_value(&ev) == "viewer" { Access::Viewer } else { Access::Editor })
                }
            >
                <option value="editor" selected=true>"Editor: reads and edits the team's playbooks"</option>
                <option value="viewer">"Viewer: reads them"</option>
            </select>
            <button type="submit">"Invite to team"</button>
        </form>
        {move || made.get().map(|(who, link)| view! {
            <div class="new-link" role="status">
                <p>{format!("Team link for {who} — send it to them only:")}</p>
                <input type="text" readonly class="team-link" data-testid="team-link" prop:value=link/>
            </div>
        })}
        {move || problem.get().map(|p| view! { <p class="problem" role="alert">{p}</p> })}
        {list}
    }
}
