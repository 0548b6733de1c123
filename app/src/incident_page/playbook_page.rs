//! A team's playbook (`/playbook/{id}`): a document saved, shared and synced exactly like an
//! incident (the same session, store, relay link and share panel), edited together here:
//! its name, summary skeleton, classification and TLP, steps, questions, comms drafts and
//! links; the proposals it holds and those of the incidents on this device, to accept; and
//! its `firebreak-playbook` file, saved and merged back.

use incident::playbook::{
    playbook_file, CommsDraft, PendingProposal, Playbook, PlaybookLink, PlaybookQuestion,
    PlaybookStep, Proposal,
};
use incident::{Role, Tlp};
use leptos::ev;
use leptos::prelude::*;

use super::joining::{JoinName, NoAccess, ReadOnlyNote};
use super::publishing::CreationSecret;
use super::share::{ShareButton, SharePanel};
use super::status::{Problems, SyncStatus};
use crate::playbooks::{self, FromIncident};
use crate::session::{use_incident, OpenIncident, Standing};
use crate::{platform, prefs};

/// Opens the playbook `id` for as long as the page is shown.
#[component]
pub fn PlaybookPage(id: String) -> impl IntoView {
    let from_link = crate::access::take_invite_from_address();
    let open = OpenIncident::open_playbook(&id, from_link);
    provide_context(open.clone());
    let back_online = {
        let open = open.clone();
        window_event_listener(ev::online, move |_| open.back_online())
    };
    let gone_offline = {
        let open = open.clone();
        window_event_listener(ev::offline, move |_| {
            if let Some(sync) = open.sync_client() {
                sync.network_lost();
            }
        })
    };
    let closing = open.clone();
    on_cleanup(move || {
        back_online.remove();
        gone_offline.remove();
        closing.close();
    });
    let (loaded, standing, revision, has_copy) =
        (open.loaded, open.standing, open.revision, open.has_copy);
    let shows_editor = {
        let open = open.clone();
        Memo::new(move |_| {
            if !loaded.get() {
                return false;
            }
            revision.track();
            matches!(standing.get(), Standing::Member(_))
                || has_copy.get()
                || pb(&open).is_playbook()
        })
    };
    let read_only = Memo::new(move |_| !standing.get().may_edit());
    let sharing = RwSignal::new(false);
    view! {
        <main class="page incident-page playbook-page" data-access=move || super::access_key(&standing.get())>
            <div class="incident-bar">
                <nav class="top-nav" aria-label="Playbook">
                    <a href="/playbooks">"← Playbooks"</a>
                </nav>
                <ShareButton sharing=sharing/>
            </div>
            <SyncStatus/>
            <Problems/>
            <ImportAsCopy/>
            <SharePanel sharing=sharing/>
            <CreationSecret/>
            <JoinName/>
            <Show
                when=move || shows_editor.get()
                fallback=move || {
                    view! {
                        <NoAccess/>
                        <Show when=move || !loaded.get() || standing.get() == Standing::Checking>
                            <p class="loading">"Opening the playbook…"</p>
                        </Show>
                    }
                }
            >
                <ReadOnlyNote/>
                <fieldset class="incident-body" prop:disabled=move || read_only.get()>
                    <PlaybookEditor/>
                </fieldset>
                <super::team_share::ShareWithTeam/>
                <PlaybookFile/>
            </Show>
        </main>
    }
}

/// A playbook opened from a file whose id the relay already has under someone else (the
/// publish was refused as taken): "Import as a copy" makes a new playbook of its content
/// under a fresh id, recording where it was copied from, removes the refused copy from this
/// device and opens the new one, which is published as this device's own.
#[component]
fn ImportAsCopy() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let taken =
        Memo::new(move |_| standing.get() == Standing::Refused(crate::access::Refusal::Taken));
    let problem = RwSignal::new(None::<String>);
    let router = crate::router::use_router();
    let import = move |_| {
        let open = open.clone();
        leptos::task::spawn_local(async move {
            let id = platform::new_id();
            let copy = pb(&open).copy_as(&id);
            let state = copy.encode_state();
            if let Err(e) = open.remove_from_device().await {
                problem.try_set(Some(format!("The refused copy could not be removed: {e}.")));
                return;
            }
            crate::session::remember_opened_file(&id, state);
            prefs::set_unpublished(&id, true);
            prefs::remember_playbook(&id, &copy.name(), copy.version());
            router.navigate(&crate::router::playbook_path(&id));
        });
    };
    move || {
        taken.get().then(|| {
            let import = import.clone();
            view! {
                <section class="card import-copy" id="import-copy" aria-labelledby="h-import-copy">
                    <h2 id="h-import-copy">"This playbook is someone else's on the relay"</h2>
                    <p>
                        "The relay already has a playbook with this file's id, and this device has no access to it. Import the file as a copy: a new playbook of your own with the same content, recording which playbook it was copied from."
                    </p>
                    <button type="button" on:click=import>"Import as a copy"</button>
                    {move || problem.get().map(|p| view! { <p class="problem" role="alert">{p}</p> })}
                </section>
            }
        })
    }
}

/// The open playbook (a playbook page's session always has one).
fn pb(open: &OpenIncident) -> &Playbook {
    open.playbook.as_ref().expect("a playbook page's session")
}

/// One read of the open playbook, made again at each change of it.
fn watch<T>(open: &OpenIncident, read: impl Fn(&Playbook) -> T + Send + Sync + 'static) -> Memo<T>
where
    T: PartialEq + Send + Sync + 'static,
{
    let open = open.clone();
    Memo::new(move |_| {
        open.revision.track();
        read(pb(&open))
    })
}

/// Runs `edit` on the open playbook.
fn edit(open: &OpenIncident, edit: impl Fn(&Playbook)) {
    edit(pb(open));
}

fn role_options() -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", "Nobody (whoever takes it)"))
        .chain(Role::ALL.into_iter().map(|r| (r.key(), r.label())))
        .collect()
}

fn select(
    id: String,
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
    value: impl Fn() -> String + Send + Sync + 'static,
    on_change: impl Fn(String) + 'static,
) -> impl IntoView {
    let value = Memo::new(move |_| value());
    view! {
        <label for=id.clone()>{label}</label>
        <select id=id on:change:target=move |ev| on_change(ev.target().value())>
            {options
                .into_iter()
                .map(|(key, text)| {
                    view! { <option value=key selected=move || value.get() == key>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}

fn text_input(
    id: String,
    label: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    on_change: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label for=id.clone()>{label}</label>
        <input id=id type="text" prop:value=value on:change:target=move |ev| on_change(ev.target().value())/>
    }
}

#[component]
fn PlaybookEditor() -> impl IntoView {
    let open = use_incident();
    let name = watch(&open, Playbook::name);
    Effect::new(move |_| {
        let name = name.get();
        let name = if name.trim().is_empty() {
            "Playbook".to_string()
        } else {
            name
        };
        platform::document().set_title(&format!("{name} — Firebreak"));
    });
    let version = watch(&open, Playbook::version);
    let adopted = watch(&open, |p| {
        let adopted = p
            .adopted_from()
            .map(|from| {
                format!(
                    "Adopted from the {} starter (v{}). ",
                    from.name, from.version
                )
            })
            .unwrap_or_default();
        let copied = p
            .copied_from()
            .map(|from| {
                format!(
                    "Copied from the playbook “{}” (v{}).",
                    from.name, from.version
                )
            })
            .unwrap_or_default();
        format!("{adopted}{copied}")
    });
    let summary = watch(&open, Playbook::summary);
    let classification = watch(&open, Playbook::classification);
    let tlp = watch(&open, |p| p.tlp().as_str().to_string());
    // Another person's edit is written into the textarea around the caret of whoever is
    // typing here, so it stays between the same characters.
    Effect::new(move |_| keep_caret("pb-summary", &summary.get()));
    let (o1, o2, o3, o4) = (open.clone(), open.clone(), open.clone(), open.clone());
    view! {
        <section class="card" aria-labelledby="h-playbook">
            <h1 id="h-playbook">"Playbook"</h1>
            <p class="hint" id="playbook-version" data-version=move || version.get().to_string()>
                {move || format!("Version {}. ", version.get())}
                {move || adopted.get()}
            </p>
            {text_input("pb-name".into(), "Name", move || name.get(), move |v| edit(&o1, |p| p.set_name(&v)))}
            <label for="pb-summary">"Summary skeleton"</label>
            <textarea
                id="pb-summary"
                rows="6"
                prop:value=summary.get_untracked()
                on:input:target=move |ev| edit(&o2, |p| p.edit_summary(&ev.target().value()))
            ></textarea>
            <p class="hint">"A new incident's summary starts with this; put blanks in [brackets]."</p>
            {text_input(
                "pb-classification".into(),
                "Default classification",
                move || classification.get(),
                move |v| edit(&o3, |p| p.set_classification(&v)),
            )}
            {select(
                "pb-tlp".into(),
                "Default TLP",
                Tlp::ALL.into_iter().map(|t| (t.as_str(), t.as_str())).collect(),
                move || tlp.get(),
                move |v| {
                    if let Some(t) = Tlp::parse(&v) {
                        edit(&o4, |p| p.set_tlp(t))
                    }
                },
            )}
        </section>
        <Steps/>
        <Questions/>
        <Comms/>
        <Links/>
        <Lessons/>
        <IncomingProposals/>
    }
}

#[component]
fn Steps() -> impl IntoView {
    let open = use_incident();
    let steps = watch(&open, |p| p.items::<PlaybookStep>());
    let add_open = open.clone();
    let title = RwSignal::new(String::new());
    let add = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let typed = title.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        let role = Role::from_key(&crate::form::value_of("pb-new-step-role"));
        let due = crate::form::value_of("pb-new-step-due")
            .trim()
            .parse::<u32>()
            .ok();
        let step = PlaybookStep {
            title: typed.trim().to_string(),
            role,
            due_after_minutes: due.filter(|m| *m > 0),
            from: None,
        };
        edit(&add_open, |p| p.add(&platform::new_id(), &step));
        title.set(String::new());
    };
    view! {
        <section class="card" aria-labelledby="h-pb-steps">
            <h2 id="h-pb-steps">"Next steps"</h2>
            <p class="hint">"Each is owned by a role, not a person: in an incident it goes to whoever holds the role."</p>
            <ul class="pb-items" aria-label="Steps">
                <For each=move || steps.get() key=|(id, step)| format!("{id}|{step:?}") let:item>
                    <StepRow id=item.0 step=item.1/>
                </For>
            </ul>
            <form class="pb-add" on:submit=add>
                <label for="pb-new-step">"New step"</label>
                <input id="pb-new-step" type="text" prop:value=move || title.get() on:input:target=move |ev| title.set(ev.target().value())/>
                {select("pb-new-step-role".into(), "Owned by", role_options(), String::new, |_| {})}
                <label for="pb-new-step-due">"Due after (minutes)"</label>
                <input id="pb-new-step-due" type="number" min="0" inputmode="numeric"/>
                <button type="submit">"Add step"</button>
            </form>
        </section>
    }
}

#[component]
fn StepRow(id: String, step: PlaybookStep) -> impl IntoView {
    let open = use_incident();
    let dom = format!("pb-step-{}", id.replace('/', "-"));
    let (o1, o2, o3, o4) = (open.clone(), open.clone(), open.clone(), open.clone());
    let (i1, i2, i3, i4) = (id.clone(), id.clone(), id.clone(), id.clone());
    let s1 = step.clone();
    let s2 = step.clone();
    let s3 = step.clone();
    let title = step.title.clone();
    let role = step.role.map_or("", Role::key).to_string();
    let due = step
        .due_after_minutes
        .map(|m| m.to_string())
        .unwrap_or_default();
    let from = step
        .from
        .as_ref()
        .map(|f| format!("Accepted from “{}”.", f.incident_title));
    view! {
        <li class="pb-item" data-testid="pb-step">
            {text_input(format!("{dom}-title"), "Step", move || title.clone(), move |v| {
                let mut s = s1.clone();
                s.title = v.trim().to_string();
                edit(&o1, |p| p.add(&i1, &s));
            })}
            {select(format!("{dom}-role"), "Owned by", role_options(), move || role.clone(), move |v| {
                let mut s = s2.clone();
                s.role = Role::from_key(&v);
                edit(&o2, |p| p.add(&i2, &s));
            })}
            {text_input(format!("{dom}-due"), "Due after (minutes)", move || due.clone(), move |v| {
                let mut s = s3.clone();
                s.due_after_minutes = v.trim().parse::<u32>().ok().filter(|m| *m > 0);
                edit(&o3, |p| p.add(&i3, &s));
            })}
            {from.map(|f| view! { <p class="hint">{f}</p> })}
            <button type="button" class="secondary" on:click=move |_| edit(&o4, |p| p.remove::<PlaybookStep>(&i4))>
                "Remove step"
            </button>
        </li>
    }
}

#[component]
fn Questions() -> impl IntoView {
    let open = use_incident();
    let items = watch(&open, |p| p.items::<PlaybookQuestion>());
    let add_open = open.clone();
    let text = RwSignal::new(String::new());
    let add = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let typed = text.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        let q = PlaybookQuestion {
            text: typed.trim().to_string(),
        };
        edit(&add_open, |p| p.add(&platform::new_id(), &q));
        text.set(String::new());
    };
    view! {
        <section class="card" aria-labelledby="h-pb-questions">
            <h2 id="h-pb-questions">"Questions to answer"</h2>
            <ul class="pb-items" aria-label="Questions">
                <For each=move || items.get() key=|(id, item)| format!("{id}|{item:?}") let:item>
                    {
                        let (o1, o2) = (open.clone(), open.clone());
                        let (i1, i2) = (item.0.clone(), item.0.clone());
                        let text = item.1.text.clone();
                        view! {
                            <li class="pb-item" data-testid="pb-question">
                                {text_input(format!("pb-q-{}", item.0), "Question", move || text.clone(), move |v| {
                                    edit(&o1, |p| p.add(&i1, &PlaybookQuestion { text: v.trim().to_string() }))
                                })}
                                <button type="button" class="secondary" on:click=move |_| edit(&o2, |p| p.remove::<PlaybookQuestion>(&i2))>
                                    "Remove question"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="pb-add" on:submit=add>
                <label for="pb-new-question">"New question"</label>
                <input id="pb-new-question" type="text" prop:value=move || text.get() on:input:target=move |ev| text.set(ev.target().value())/>
                <button type="submit">"Add question"</button>
            </form>
        </section>
    }
}

#[component]
fn Comms() -> impl IntoView {
    let open = use_incident();
    let items = watch(&open, |p| p.items::<CommsDraft>());
    let add_open = open.clone();
    let add = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let audience = crate::form::value_of("pb-new-comms-for");
        let text = crate::form::value_of("pb-new-comms-text");
        if audience.trim().is_empty() && text.trim().is_empty() {
            return;
        }
        let draft = CommsDraft {
            audience: audience.trim().to_string(),
            text,
        };
        edit(&add_open, |p| p.add(&platform::new_id(), &draft));
        crate::form::set_value_of("pb-new-comms-for", "");
        crate::form::set_value_of("pb-new-comms-text", "");
    };
    view! {
        <section class="card" aria-labelledby="h-pb-comms">
            <h2 id="h-pb-comms">"Comms drafts"</h2>
            <ul class="pb-items" aria-label="Comms drafts">
                <For each=move || items.get() key=|(id, item)| format!("{id}|{item:?}") let:item>
                    {
                        let (o1, o2, o3) = (open.clone(), open.clone(), open.clone());
                        let (i1, i2, i3) = (item.0.clone(), item.0.clone(), item.0.clone());
                        let (d1, d2) = (item.1.clone(), item.1.clone());
                        let (audience, text) = (item.1.audience.clone(), item.1.text.clone());
                        view! {
                            <li class="pb-item" data-testid="pb-comms">
                                {text_input(format!("pb-c-{}-for", item.0), "For", move || audience.clone(), move |v| {
                                    let mut d = d1.clone();
                                    d.audience = v.trim().to_string();
                                    edit(&o1, |p| p.add(&i1, &d))
                                })}
                                <label for=format!("pb-c-{}-text", item.0)>"Draft"</label>
                                <textarea id=format!("pb-c-{}-text", item.0) rows="4" prop:value=text
                                    on:change:target=move |ev| {
                                        let mut d = d2.clone();
                                        d.text = ev.target().value();
                                        edit(&o2, |p| p.add(&i2, &d))
                                    }
                                ></textarea>
                                <button type="button" class="secondary" on:click=move |_| edit(&o3, |p| p.remove::<CommsDraft>(&i3))>
                                    "Remove draft"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="pb-add" on:submit=add>
                <label for="pb-new-comms-for">"New draft for"</label>
                <input id="pb-new-comms-for" type="text"/>
                <label for="pb-new-comms-text">"Draft"</label>
                <textarea id="pb-new-comms-text" rows="3"></textarea>
                <button type="submit">"Add draft"</button>
            </form>
        </section>
    }
}

#[component]
fn Links() -> impl IntoView {
    let open = use_incident();
    let items = watch(&open, |p| p.items::<PlaybookLink>());
    let add_open = open.clone();
    let add = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let title = crate::form::value_of("pb-new-link-title");
        let url = crate::form::value_of("pb-new-link-url");
        if url.trim().is_empty() {
            return;
        }
        let link = PlaybookLink {
            title: title.trim().to_string(),
            url: url.trim().to_string(),
        };
        edit(&add_open, |p| p.add(&platform::new_id(), &link));
        crate::form::set_value_of("pb-new-link-title", "");
        crate::form::set_value_of("pb-new-link-url", "");
    };
    view! {
        <section class="card" aria-labelledby="h-pb-links">
            <h2 id="h-pb-links">"Useful links"</h2>
            <ul class="pb-items" aria-label="Links">
                <For each=move || items.get() key=|(id, item)| format!("{id}|{item:?}") let:item>
                    {
                        let (o1, o2, o3) = (open.clone(), open.clone(), open.clone());
                        let (i1, i2, i3) = (item.0.clone(), item.0.clone(), item.0.clone());
                        let (l1, l2) = (item.1.clone(), item.1.clone());
                        let (title, url) = (item.1.title.clone(), item.1.url.clone());
                        view! {
                            <li class="pb-item" data-testid="pb-link">
                                {text_input(format!("pb-l-{}-title", item.0), "Link", move || title.clone(), move |v| {
                                    let mut l = l1.clone();
                                    l.title = v.trim().to_string();
                                    edit(&o1, |p| p.add(&i1, &l))
                                })}
                                {text_input(format!("pb-l-{}-url", item.0), "Address", move || url.clone(), move |v| {
                                    let mut l = l2.clone();
                                    l.url = v.trim().to_string();
                                    edit(&o2, |p| p.add(&i2, &l))
                                })}
                                <button type="button" class="secondary" on:click=move |_| edit(&o3, |p| p.remove::<PlaybookLink>(&i3))>
                                    "Remove link"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="pb-add" on:submit=add>
                <label for="pb-new-link-title">"New link"</label>
                <input id="pb-new-link-title" type="text"/>
                <label for="pb-new-link-url">"Address"</label>
                <input id="pb-new-link-url" type="url" inputmode="url"/>
                <button type="submit">"Add link"</button>
            </form>
        </section>
    }
}

/// The lessons accepted from incidents, each naming the incident it came from.
#[component]
fn Lessons() -> impl IntoView {
    let open = use_incident();
    let lessons = watch(&open, |p| p.items::<incident::playbook::AcceptedLesson>());
    view! {
        <section class="card" aria-labelledby="h-pb-lessons">
            <h2 id="h-pb-lessons">"Lessons learned"</h2>
            {move || {
                let lessons = lessons.get();
                if lessons.is_empty() {
                    return view! { <p class="empty">"No lessons accepted yet."</p> }.into_any();
                }
                view! {
                    <ul class="pb-lessons" aria-label="Accepted lessons">
                        {lessons
                            .into_iter()
                            .map(|(_, l)| {
                                view! {
                                    <li data-testid="pb-lesson">
                                        {l.text} " "
                                        <span class="hint">
                                            {format!("(from “{}”, accepted by {})", l.from.incident_title, l.from.accepted_by)}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// The proposals waiting for this playbook, each with "Accept" (an ordinary change of the
/// playbook, keyed by incident and entry, so accepting it twice or on two devices at once
/// adds it once): those the playbook holds (carried in from the incidents' devices, so this
/// needs no copy of the incident), and those of the incidents on this device that started
/// from it and are not held yet. A withdrawn proposal is in neither.
#[component]
fn IncomingProposals() -> impl IntoView {
    let open = use_incident();
    let local = RwSignal::new(None::<Vec<FromIncident>>);
    let id = open.id.clone();
    leptos::task::spawn_local(async move {
        local.try_set(Some(playbooks::proposals_for(&id).await));
    });
    let held = watch(&open, Playbook::held_proposals);
    let rows = Memo::new(move |_| {
        let mut rows: Vec<PendingProposal> = held.get();
        for from in local.get().unwrap_or_default() {
            for (entry_id, proposal) in from.proposals.items {
                let pending = PendingProposal {
                    incident_id: from.id.clone(),
                    incident_title: from.title.clone(),
                    entry_id,
                    proposal,
                };
                if !rows.iter().any(|r| r.key() == pending.key()) {
                    rows.push(pending);
                }
            }
        }
        rows
    });
    view! {
        <section class="card" aria-labelledby="h-pb-proposals" id="pb-proposals">
            <h2 id="h-pb-proposals">"Proposed by incidents"</h2>
            <p class="hint">
                "Lessons and next steps proposed in incidents started from this playbook."
            </p>
            {move || {
                let list = rows.get();
                if list.is_empty() {
                    return view! { <p class="empty">"Nothing proposed yet."</p> }.into_any();
                }
                view! {
                    <ul class="pb-proposals" aria-label="Proposals">
                        {list
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <ProposalRow
                                        incident_id=p.incident_id
                                        title=p.incident_title
                                        entry=p.entry_id
                                        proposal=p.proposal
                                    />
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn ProposalRow(
    incident_id: String,
    title: String,
    entry: String,
    proposal: Proposal,
) -> impl IntoView {
    let open = use_incident();
    let (i1, e1) = (incident_id.clone(), entry.clone());
    let accepted = watch(&open, move |p| p.is_accepted(&i1, &e1));
    let label = format!("Accept “{}”", proposal.text);
    let describe = format!(
        "{}: {} (from “{}”, proposed by {})",
        proposal.kind.label(),
        proposal.text,
        title,
        proposal.proposed_by
    );
    let accept = move |_| {
        let by = prefs::display_name();
        let now = platform::now_rfc3339();
        edit(&open, |p| {
            p.accept(&incident_id, &title, &entry, &proposal, &by, &now);
        });
    };
    view! {
        <li data-testid="pb-proposal" data-accepted=move || accepted.get().to_string()>
            <span>{describe}</span>
            {move || {
                if accepted.get() {
                    view! { <span class="accepted">"Accepted"</span> }.into_any()
                } else {
                    view! {
                        <button type="button" aria-label=label.clone() on:click=accept.clone()>"Accept"</button>
                    }
                    .into_any()
                }
            }}
        </li>
    }
}

/// The playbook's file: saved from this copy (offline too), and another copy of the same
/// playbook merged in; a file that is not ours, too large, newer or of another playbook is
/// refused with the reason and changes nothing.
#[component]
fn PlaybookFile() -> impl IntoView {
    let open = use_incident();
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let save_open = open.clone();
    let save = move |_| {
        let playbook = pb(&save_open);
        let text = playbook_file(playbook, &platform::now_rfc3339());
        let name = format!("{}.firebreak-playbook.json", slug(&playbook.name()));
        if let Err(e) = super::export::save(&name, "application/json", &text) {
            problem.set(Some(platform::js_error_text(&e)));
        }
    };
    let chosen = move |e: ev::Event| {
        let Some(input) = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        input.set_value("");
        problem.set(None);
        done.set(None);
        let open = open.clone();
        leptos::task::spawn_local(async move {
            let text = match platform::file_text(&file).await {
                Ok(text) => text,
                Err(e) => {
                    problem.set(Some(format!("{} could not be read: {e}", file.name())));
                    return;
                }
            };
            match pb(&open).merge_file(&text) {
                Ok(()) => done.set(Some(format!(
                    "{} was merged into this playbook.",
                    file.name()
                ))),
                Err(reason) => {
                    problem.set(Some(format!("{} was not opened: {reason}.", file.name())))
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="h-pb-file">
            <h2 id="h-pb-file">"Playbook file"</h2>
            <button type="button" class="secondary" on:click=save>"Save playbook file"</button>
            <label for="pb-merge-file">"Merge a copy of this playbook (.json)"</label>
            <input id="pb-merge-file" type="file" accept=".json,application/json" on:change=chosen/>
            {move || done.get().map(|d| view! { <p class="hint" role="status">{d}</p> })}
            {move || problem.get().map(|p| view! { <p id="pb-file-problem" class="problem" role="alert">{p}</p> })}
        </section>
    }
}

/// A file name's stem from the playbook's name: its letters and digits, lower case.
fn slug(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    match words.join("-").chars().take(60).collect::<String>() {
        stem if stem.is_empty() => "playbook".to_string(),
        stem => stem,
    }
}

/// Shows `text` in the textarea `id`; a focused one keeps its selection where it was in the
/// text around it (the change is one splice, as the model computes it).
fn keep_caret(id: &str, text: &str) {
    let Some(area) = platform::element_by_id::<web_sys::HtmlTextAreaElement>(id) else {
        return;
    };
    let old = area.value();
    let Some(splice) = incident::splice_between(&old, text) else {
        return;
    };
    let focused = platform::document()
        .active_element()
        .is_some_and(|e| e.id() == id);
    let start = area.selection_start().ok().flatten().unwrap_or(0);
    let end = area.selection_end().ok().flatten().unwrap_or(start);
    area.set_value(text);
    if !focused {
        return;
    }
    let inserted = incident::utf16_len(&splice.insert);
    let moved = |at: u32| {
        if at <= splice.index {
            at
        } else if at >= splice.index + splice.delete {
            at - splice.delete + inserted
        } else {
            splice.index + inserted
        }
    };
    let _ = area.set_selection_range(moved(start), moved(end));
}
