//! Next steps: who does what by when. Late ones stand out; "only mine" shows what the person
//! at the keyboard promised.

use incident::when::{format_in_zone, parse_stored, parse_time};
use incident::{NextStep, StepField, StepStatus};
use leptos::prelude::*;

use crate::session::use_incident;
use crate::{platform, prefs};

/// Reads a due time as typed ("" clears it) into the stored form, or says what is wrong.
fn read_due(typed: &str, zone: &str) -> Result<Option<String>, String> {
    if typed.trim().is_empty() {
        return Ok(None);
    }
    let now = parse_stored(&platform::now_rfc3339()).unwrap_or_default();
    parse_time(typed, zone, now)
        .map(|t| Some(t.utc))
        .map_err(|e| e.to_string())
}

#[component]
pub fn NextSteps() -> impl IntoView {
    let open = use_incident();
    let revision = open.revision;
    let only_mine = RwSignal::new(false);
    let steps = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.next_steps()
        })
    };
    let zone = {
        let open = open.clone();
        Memo::new(move |_| {
            revision.track();
            open.incident.display_zone()
        })
    };
    let shown = move || {
        let me = prefs::display_name();
        steps
            .get()
            .into_iter()
            .filter(|(_, step)| !only_mine.get() || step.is_owned_by(&me))
            .collect::<Vec<_>>()
    };

    let title = RwSignal::new(String::new());
    let owner = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let add = {
        let open = open.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = title.get_untracked();
            if text.trim().is_empty() {
                problem.set(Some("Say what needs doing first.".to_string()));
                return;
            }
            let due_at = match read_due(&due.get_untracked(), &zone.get_untracked()) {
                Ok(at) => at,
                Err(message) => {
                    problem.set(Some(message));
                    return;
                }
            };
            let me = prefs::display_name();
            open.incident.add_next_step(
                &platform::new_id(),
                &NextStep {
                    title: text.trim().to_string(),
                    owner: owner.get_untracked().trim().to_string(),
                    status: StepStatus::Open,
                    due: due_at,
                    created_by: me,
                    created_at: platform::now_rfc3339(),
                },
            );
            title.set(String::new());
            owner.set(String::new());
            due.set(String::new());
            problem.set(None);
        }
    };

    view! {
        <section class="next-steps card" aria-labelledby="h-next-steps">
            <h2 id="h-next-steps">"Next steps"</h2>
            <p class="hint">
                "Every promise gets an owner and, if it matters, a due time. Late ones turn red."
            </p>
            <form class="add-step" on:submit=add>
                <div class="field grow">
                    <label for="step-new-title">"What needs doing"</label>
                    <input
                        id="step-new-title"
                        type="text"
                        autocomplete="off"
                        prop:value=title
                        on:input:target=move |ev| title.set(ev.target().value())
                    />
                </div>
                <div class="field">
                    <label for="step-new-owner">"Owner"</label>
                    <input
                        id="step-new-owner"
                        type="text"
                        autocomplete="off"
                        placeholder="Name"
                        prop:value=owner
                        on:input:target=move |ev| owner.set(ev.target().value())
                    />
                </div>
                <div class="field">
                    <label for="step-new-due">{move || format!("Due ({})", zone.get())}</label>
                    <input
                        id="step-new-due"
                        type="text"
                        autocomplete="off"
                        placeholder="e.g. 18:00 or 2026-11-23 09:00"
                        prop:value=due
                        on:input:target=move |ev| due.set(ev.target().value())
                    />
                </div>
                <button type="submit">"Add step"</button>
            </form>
            {move || problem.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            <label class="check">
                <input
                    id="steps-only-mine"
                    type="checkbox"
                    prop:checked=only_mine
                    on:change:target=move |ev| only_mine.set(ev.target().checked())
                />
                "Only mine"
            </label>
            <ul class="step-list" aria-label="Next steps">
                <For
                    each=shown
                    key=|(id, step)| (id.clone(), format!("{step:?}"))
                    children=move |(id, step)| view! { <StepRow id=id step=step zone=zone/> }
                />
            </ul>
            <Show when=move || shown().is_empty()>
                <p class="empty">
                    {move || if only_mine.get() { "Nothing is yours yet." } else { "No next steps yet." }}
                </p>
            </Show>
        </section>
    }
}

#[component]
fn StepRow(id: String, step: NextStep, zone: Memo<String>) -> impl IntoView {
    let open = use_incident();
    let overdue = step.is_overdue(&platform::now_rfc3339());
    let problem = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let shown_due = step
        .due
        .as_deref()
        .map(|d| format_in_zone(d, &zone.get_untracked()))
        .unwrap_or_default();
    let field = {
        let open = open.clone();
        let id = id.clone();
        move |field: StepField, value: String| {
            open.incident.set_next_step_field(&id, field, value.trim());
        }
    };
    let set_title = field.clone();
    let set_owner = field.clone();
    let set_due = move |typed: String| match read_due(&typed, &zone.get_untracked()) {
        Ok(at) => {
            problem.set(None);
            field(StepField::Due, at.unwrap_or_default());
        }
        Err(message) => problem.set(Some(message)),
    };
    let set_status = {
        let open = open.clone();
        let id = id.clone();
        move |value: String| {
            if let Some(status) = StepStatus::from_key(&value) {
                open.incident.set_next_step_status(&id, status);
            }
        }
    };
    let remove = {
        let id = id.clone();
        move |_| open.incident.remove_next_step(&id)
    };
    let class = match (overdue, step.status) {
        (true, _) => "step overdue",
        (false, StepStatus::Done) => "step done",
        _ => "step",
    };
    let dom = format!("step-{id}");
    view! {
        <li
            class=class
            data-testid="next-step"
            data-step-id=id.clone()
            data-title=step.title.clone()
            data-status=step.status.key()
        >
            <div class="field grow">
                <label for=format!("{dom}-title")>"Step"</label>
                <input
                    id=format!("{dom}-title")
                    type="text"
                    autocomplete="off"
                    prop:value=step.title.clone()
                    on:change:target=move |ev| set_title(StepField::Title, ev.target().value())
                />
            </div>
            <div class="field">
                <label for=format!("{dom}-owner")>"Owner"</label>
                <input
                    id=format!("{dom}-owner")
                    type="text"
                    autocomplete="off"
                    prop:value=step.owner.clone()
                    on:change:target=move |ev| set_owner(StepField::Owner, ev.target().value())
                />
            </div>
            <div class="field">
                <label for=format!("{dom}-status")>"Status"</label>
                <select
                    id=format!("{dom}-status")
                    on:change:target=move |ev| set_status(ev.target().value())
                >
                    {StepStatus::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.key() selected=s == step.status>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=format!("{dom}-due")>"Due"</label>
                <input
                    id=format!("{dom}-due")
                    type="text"
                    autocomplete="off"
                    prop:value=shown_due
                    on:change:target=move |ev| set_due(ev.target().value())
                />
            </div>
            {overdue.then(|| view! { <p class="overdue-flag">"Overdue"</p> })}
            {move || problem.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            <div class="row-actions">
                <Show
                    when=move || confirming.get()
                    fallback=move || {
                        view! {
                            <button type="button" class="secondary" on:click=move |_| confirming.set(true)>
                                "Delete"
                            </button>
                        }
                    }
                >
                    <span class="confirm-text">"Delete this step?"</span>
                    <button type="button" class="danger" on:click=remove.clone()>"Yes, delete"</button>
                    <button type="button" class="secondary" on:click=move |_| confirming.set(false)>
                        "No"
                    </button>
                </Show>
            </div>
        </li>
    }
}
