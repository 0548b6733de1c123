//! Next steps: who does what by when. Late ones stand out; "only mine" shows what the person
//! at the keyboard promised. Owners are picked from the people invited to the incident (a
//! suggestion list; a name typed by hand still works, for someone outside Firebreak), and a
//! step given to an invited person follows their invite, whatever name they show.

use incident::when::format_in_zone;
use incident::{Incident, NextStep, StepField, StepStatus};
use leptos::prelude::*;

use super::timeline::shared::read_optional_time;
use super::timeline::zone_label;
use super::{heading, watch};
use crate::form::{asking_here, check, confirm, Confirm, Field};
use crate::mention_picker::MentionPicker;
use crate::people::{self, Person};
use crate::session::use_incident;
use crate::{platform, prefs};

/// The id of the `<datalist>` of invited people's names that owner fields suggest from.
const PEOPLE_LIST: &str = "invited-people";

#[component]
pub fn NextSteps() -> impl IntoView {
    let open = use_incident();
    let only_mine = RwSignal::new(false);
    let steps = watch(&open, Incident::next_steps);
    let zone = watch(&open, Incident::display_zone);
    let invited = people::use_people();
    let mine = people::my_invite(&open.id);
    let shown = move || {
        let me = prefs::display_name();
        steps
            .get()
            .into_iter()
            .filter(|(_, step)| !only_mine.get() || step.is_owned_by_person(&me, &mine))
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
            let due_at = match read_optional_time(&due.get_untracked(), &zone.get_untracked()) {
                Ok(at) => at,
                Err(message) => {
                    problem.set(Some(message));
                    return;
                }
            };
            let me = prefs::display_name();
            let typed_owner = owner.get_untracked().trim().to_string();
            let picked = invited.with_untracked(|list| people::named(list, &typed_owner));
            open.incident.add_next_step(
                &platform::new_id(),
                &NextStep {
                    title: text.trim().to_string(),
                    owner: typed_owner,
                    owner_invite: picked.map(|p| p.invite).unwrap_or_default(),
                    owner_role: None,
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
            {heading("next-steps", "Next steps", "Every promise gets an owner and, if it matters, a due time. Late ones turn red.")}
            <form class="add-step" on:submit=add>
                <MentionPicker people=invited class="grow">
                    {Field::new("step-new-title", "What needs doing")
                        .wrap("field grow")
                        .autocomplete("off")
                        .two_way(title)
                        .view()}
                </MentionPicker>
                {Field::new("step-new-owner", "Owner")
                    .wrap("field")
                    .autocomplete("off")
                    .placeholder("Name")
                    .list(PEOPLE_LIST)
                    .two_way(owner)
                    .view()}
                {Field::new("step-new-due", "")
                    .label(zone_label("Due", zone))
                    .wrap("field")
                    .autocomplete("off")
                    .placeholder("e.g. 18:00 or 2026-11-23 09:00")
                    .two_way(due)
                    .view()}
                <button type="submit">"Add step"</button>
            </form>
            <datalist id=PEOPLE_LIST>
                {move || {
                    invited
                        .get()
                        .into_iter()
                        .map(|p: Person| view! { <option value=p.name></option> })
                        .collect_view()
                }}
            </datalist>
            {move || problem.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            {check("steps-only-mine".into(), "Only mine", "check", only_mine.into(), Some(Callback::new(move |on| only_mine.set(on))))}
            <ul class="step-list" aria-label="Next steps">
                <For
                    each=shown.clone()
                    key=|(id, step)| (id.clone(), format!("{step:?}"))
                    children=move |(id, step)| {
                        view! { <StepRow id=id step=step zone=zone invited=invited/> }
                    }
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

/// Minutes before its due time a step shows "due in N min".
const DUE_SOON_MINUTES: i64 = 15;

fn due_in(minutes: i64) -> String {
    match minutes {
        0 => "Due now".to_string(),
        n => format!("Due in {n} min"),
    }
}

#[component]
fn StepRow(
    id: String,
    step: NextStep,
    zone: Memo<String>,
    invited: ReadSignal<Vec<Person>>,
) -> impl IntoView {
    let open = use_incident();
    // Late as soon as the due time passes, while the page is open.
    let overdue = {
        let step = step.clone();
        let now = crate::clock::now();
        Memo::new(move |_| step.is_overdue(&now.get()))
    };
    // "Due in N min" for the last quarter of an hour before the due time, also live.
    let due_soon = {
        let step = step.clone();
        let now = crate::clock::now();
        Memo::new(move |_| step.due_soon(&now.get(), DUE_SOON_MINUTES))
    };
    let problem = RwSignal::new(None::<String>);
    let shown_due = step
        .due
        .as_deref()
        .map(|d| format_in_zone(d, &zone.get_untracked()))
        .unwrap_or_default();
    // Writes the step's `field` with what was typed, trimmed.
    let write = |field: StepField| {
        let (open, id) = (open.clone(), id.clone());
        move |value: String| {
            // A title is one line: line breaks pasted into its box become spaces.
            let value = value.replace(['\r', '\n'], " ");
            open.incident.set_next_step_field(&id, field, value.trim());
        }
    };
    let set_due = {
        let write = write(StepField::Due);
        move |typed: String| match read_optional_time(&typed, &zone.get_untracked()) {
            Ok(at) => {
                problem.set(None);
                write(at.unwrap_or_default());
            }
            Err(message) => problem.set(Some(message)),
        }
    };
    let dom = format!("step-{id}");
    // A text field of the step, written when it changes.
    let text = |name: &str, label: &'static str, value: &str, field: StepField| {
        Field::new(format!("{dom}-{name}"), label)
            .wrap("field")
            .autocomplete("off")
            .value(value)
            .on_change(write(field))
    };
    // An owner typed or picked: an invited person's name brings their invite along.
    let set_owner = {
        let (open, id) = (open.clone(), id.clone());
        move |typed: String| {
            let picked = invited.with_untracked(|list| people::named(list, &typed));
            let invite = picked.map(|p| p.invite).unwrap_or_default();
            open.incident
                .set_next_step_owner(&id, typed.trim(), &invite);
        }
    };
    let set_status = {
        let (open, id) = (open.clone(), id.clone());
        move |value: String| {
            if let Some(status) = StepStatus::from_key(&value) {
                open.incident.set_next_step_status(&id, status);
            }
        }
    };
    let remove = {
        let (open, id) = (open.clone(), id.clone());
        Callback::new(move |()| open.incident.remove_next_step(&id))
    };
    let (asking, set_asking) = asking_here();
    let delete = confirm(Confirm {
        asking,
        set_asking,
        ask: ("Delete", "secondary"),
        question: "Delete this step?".to_string(),
        question_class: "confirm-text",
        group: None,
        yes: ("Yes, delete", "danger"),
        no: ("No", "secondary"),
        id: None,
        on_yes: remove,
    });
    let status = step.status;
    let class = move || match (overdue.get(), status) {
        (true, _) => "step overdue",
        (false, _) if due_soon.get().is_some() => "step due-soon",
        (false, StepStatus::Done) => "step done",
        _ => "step",
    };
    let title_enter = |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Enter" || ev.is_composing() {
            return;
        }
        ev.prevent_default();
        if let Some(target) = ev.target() {
            if let Ok(change) = web_sys::Event::new("change") {
                let _ = target.dispatch_event(&change);
            }
        }
    };
    let statuses = StepStatus::ALL.into_iter().map(|s| (s.key(), s.label()));
    view! {
        <li
            class=class
            data-testid="next-step"
            data-step-id=id.clone()
            data-title=step.title.clone()
            data-status=step.status.key()
        >
            // A textarea one line high that grows, so a long title wraps on a phone instead
            // of running off; Enter writes it (as in a one-line field) rather than breaking it.
            <div class="step-title-box" on:keydown=title_enter>
                {text("title", "Step", &step.title, StepField::Title)
                    .textarea("1")
                    .class("step-title")
                    .wrap("field grow")
                    .view()}
            </div>
            {text("owner", "Owner", &step.owner, StepField::Owner)
                .list(PEOPLE_LIST)
                .on_change(set_owner)
                .view()}
            {step.owner_role.map(|role| {
                let holder = if step.owner.is_empty() { "nobody yet".to_string() } else { step.owner.clone() };
                view! {
                    <p class="step-role" data-testid="step-role">
                        {format!("Follows the role of {}: {holder}", role.label())}
                    </p>
                }
            })}
            {Field::new(format!("{dom}-status"), "Status")
                .wrap("field")
                .select(None, statuses.collect())
                .value(step.status.key())
                .on_change(set_status)
                .view()}
            {text("due", "Due", &shown_due, StepField::Due).on_change(set_due).view()}
            {move || overdue.get().then(|| view! { <p class="overdue-flag">"Overdue"</p> })}
            {move || due_soon.get().map(|minutes| view! { <p class="due-soon-flag">{due_in(minutes)}</p> })}
            {move || problem.get().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            <super::attribution::Byline place=super::attribution::step(&id)/>
            <div class="row-actions">
                <super::proposing::ProposeStep id=id.clone()/>
                {delete}
            </div>
            <super::comments::Comments target=incident::CommentTarget::NextStep(id.clone())/>
        </li>
    }
}
