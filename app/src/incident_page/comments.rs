//! Comments on the page: threads beside a timeline event, an indicator, a next step or a
//! passage of a prose section (under it on a phone), with replies, Resolve and Reopen.
//!
//! Each row renders one `<Comments target=…/>` (a prose section `<ProseComments/>`), which
//! reads the threads from one context holding the model's `threads()` for the whole page, so
//! a row adds no read of the document of its own. Owners and editors get a "Comment" button
//! and reply boxes; viewers see the threads only (the relay refuses their writes anyway).
//! Resolved threads are folded into "1 resolved comment". Names and bodies are text, never
//! markup. Everything is an edit of the document: it works offline and syncs like the rest.

use std::collections::HashMap;
use std::sync::Arc;

use incident::{
    when, CommentOn, CommentTarget, Incident, Passage, ProseSection, Thread, MAX_COMMENT_CHARS,
};
use leptos::prelude::*;

use super::windowed::Windowed;
use crate::binding::textarea_id;
use crate::mention_picker::{self, MentionPicker};
use crate::session::{use_incident, OpenIncident};
use crate::{people, platform, prefs};

/// The page's threads, its display zone, and whether this device may comment.
#[derive(Clone, Copy)]
struct Threads {
    all: Memo<Arc<Vec<Thread>>>,
    zone: Memo<String>,
    may_comment: Memo<bool>,
    /// What is typed in each comment box not sent yet, by the box's id: kept by the page,
    /// so a row drawn again (someone changed the item, or it scrolled out of a windowed
    /// list and back) gives the box back its text.
    drafts: StoredValue<HashMap<String, String>>,
}

/// Reads the threads once per change of the incident, for every row of the page.
pub fn provide(open: &OpenIncident) {
    let all = super::watch(open, |i: &Incident| Arc::new(i.threads()));
    let zone = super::watch(open, Incident::display_zone);
    let standing = open.standing;
    let may_comment = Memo::new(move |_| standing.get().may_edit());
    provide_context(Threads {
        all,
        zone,
        may_comment,
        drafts: StoredValue::new(HashMap::new()),
    });
}

/// "03:12 UTC" today, "2026-11-29 03:12 UTC" another day, in the incident's display zone.
fn shown_when(utc: &str, zone: &str) -> String {
    let at = when::format_in_zone(utc, zone);
    let today = when::format_in_zone(&platform::now_rfc3339(), zone);
    match (at.get(..11), today.get(..11)) {
        (Some(day), Some(this_day)) if day == this_day => at[11..].to_string(),
        _ => at,
    }
}

/// "1 resolved comment", "3 resolved comments".
fn resolved_label(n: usize) -> String {
    if n == 1 {
        "1 resolved comment".to_string()
    } else {
        format!("{n} resolved comments")
    }
}

/// The box a comment is typed in, in the `@` mention picker; `mentions` holds the invite ids
/// of the invited people its text mentions.
pub fn comment_input(
    id: String,
    label: &'static str,
    body: RwSignal<String>,
    mentions: RwSignal<Vec<String>>,
) -> impl IntoView {
    // The `@` picker offers the invited people; `mentions` follows the text, so a mention
    // deleted before sending is not stored (`mention_picker::mentioned`).
    let invited = people::use_people();
    let label_for = id.clone();
    view! {
        <label class="comment-label" for=label_for>{label}</label>
        <MentionPicker people=invited>
            <textarea
                id=id
                class="comment-input"
                data-testid="comment-input"
                rows="3"
                maxlength=MAX_COMMENT_CHARS.to_string()
                prop:value=move || body.get()
                on:input:target=move |ev| {
                    let text = ev.target().value();
                    mentions.set(invited.with_untracked(|list| mention_picker::mentioned(&text, list)));
                    body.set(text);
                }
            ></textarea>
        </MentionPicker>
    }
}

/// A comment box with its button: `send` gets the body and the mentions and says what went
/// wrong, if anything; the box empties when it went through.
fn composer(
    id: String,
    label: &'static str,
    button: &'static str,
    send: impl Fn(&str, &[String]) -> Result<(), String> + 'static,
    cancel: Option<Callback<()>>,
) -> impl IntoView {
    let drafts = use_context::<Threads>().map(|t| t.drafts);
    let kept = drafts
        .and_then(|d| d.with_value(|d| d.get(&id).cloned()))
        .unwrap_or_default();
    let body = RwSignal::new(kept);
    if let Some(drafts) = drafts {
        let id = id.clone();
        Effect::new(move |_| {
            let text = body.get();
            drafts.update_value(|d| {
                if text.is_empty() {
                    d.remove(&id);
                } else {
                    d.insert(id.clone(), text);
                }
            });
        });
    }
    let mentions = RwSignal::new(Vec::<String>::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = body.get_untracked();
        match send(&text, &mentions.get_untracked()) {
            Ok(()) => {
                body.set(String::new());
                mentions.set(Vec::new());
                problem.set(None);
            }
            Err(message) => problem.set(Some(message)),
        }
    };
    view! {
        <form class="comment-form" on:submit=submit>
            {comment_input(id, label, body, mentions)}
            {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <div class="comment-buttons">
                <button type="submit" data-testid="comment-send">{button}</button>
                {cancel.map(|cancel| view! {
                    <button type="button" class="secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
                })}
            </div>
        </form>
    }
}

/// Who and when, and the body, of one comment.
fn comment_view(id: String, comment: incident::Comment, zone: &str) -> impl IntoView {
    if comment.is_deleted() {
        return deleted_comment_view(id, comment, zone).into_any();
    }
    let at = shown_when(&comment.created_at, zone);
    let edited = comment
        .edited_at
        .as_ref()
        .map(|t| format!(" (edited {})", shown_when(t, zone)));
    let tools = own_comment_tools(id.clone(), &comment);
    view! {
        <li class="comment" data-testid="comment" data-comment-id=id>
            {super::mention_actions::for_comment(&comment)}
            <p class="comment-by">
                <strong data-testid="comment-author">{comment.author}</strong>
                " "
                <time datetime=comment.created_at.clone()>{at}</time>
                {edited}
            </p>
            <p class="comment-body" data-testid="comment-body">{comment.body}</p>
            {tools}
        </li>
    }
    .into_any()
}

/// "Comment deleted by Ana at 03:12" in place of a deleted comment (its text is not shown).
fn deleted_comment_view(id: String, comment: incident::Comment, zone: &str) -> impl IntoView {
    let by = comment.deleted_by.unwrap_or(comment.author);
    let at = shown_when(comment.deleted_at.as_deref().unwrap_or_default(), zone);
    view! {
        <li class="comment deleted" data-testid="comment" data-comment-id=id data-deleted="true">
            <p class="comment-by comment-deleted" data-testid="comment-deleted">
                {format!("Comment deleted by {by} at {at}")}
            </p>
        </li>
    }
}

/// Edit and Delete for the author of a comment (same invite id, or same name when it has
/// none), on a device that may comment; the model refuses anyone else too.
fn own_comment_tools(id: String, comment: &incident::Comment) -> Option<impl IntoView> {
    let ctx = use_context::<Threads>()?;
    let open = use_incident();
    let me = prefs::display_name();
    let invite = people::my_invite(&open.id);
    if !ctx.may_comment.get_untracked() || !comment.is_by(&me, &invite) {
        return None;
    }
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let body = RwSignal::new(comment.body.clone());
    let problem = RwSignal::new(None::<String>);
    let save = {
        let (open, id, me, invite) = (open.clone(), id.clone(), me.clone(), invite.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let done = open.incident.edit_own_comment(
                &id,
                &body.get_untracked(),
                &me,
                &invite,
                &platform::now_rfc3339(),
            );
            match done {
                Ok(()) => {
                    problem.set(None);
                    editing.set(false);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        }
    };
    let delete = move |_| {
        let done = open
            .incident
            .delete_own_comment(&id, &me, &invite, &platform::now_rfc3339());
        if let Err(e) = done {
            problem.set(Some(e.to_string()));
        }
    };
    let edit_id = format!("edit-{}", platform::new_id());
    let label_for = edit_id.clone();
    Some(view! {
        <Show when=move || editing.get()>
            <form class="comment-form" data-testid="comment-edit-form" on:submit=save.clone()>
                <label class="comment-label" for=label_for.clone()>"Edit comment"</label>
                <textarea id=edit_id.clone() class="comment-input" data-testid="comment-edit-input"
                    rows="3" maxlength=MAX_COMMENT_CHARS.to_string()
                    prop:value=move || body.get()
                    on:input:target=move |ev| body.set(ev.target().value())></textarea>
                <div class="comment-buttons">
                    <button type="submit" data-testid="comment-save">"Save"</button>
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
        {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        <div class="comment-own" data-testid="comment-own">
            <Show when=move || !editing.get() && !confirming.get()>
                <button type="button" class="link" data-testid="comment-edit"
                    on:click=move |_| editing.set(true)>"Edit"</button>
                <button type="button" class="link" data-testid="comment-delete"
                    on:click=move |_| confirming.set(true)>"Delete"</button>
            </Show>
            <Show when=move || confirming.get()>
                <span>"Delete this comment? "</span>
                <button type="button" class="link danger" data-testid="comment-delete-confirm"
                    on:click=delete.clone()>"Delete comment"</button>
                <button type="button" class="link" on:click=move |_| confirming.set(false)>"Keep it"</button>
            </Show>
        </div>
    })
}

/// One thread: its passage (for a prose section), its comments, its state, and for those who
/// may comment a reply box and Resolve or Reopen. Drawn once per thread: what changes (a
/// reply arriving, the passage moving) redraws only its own part, so a reply being typed
/// keeps its text and its focus.
fn thread_view(id: String, ctx: Threads, mine: Memo<Vec<Thread>>) -> impl IntoView {
    let open = use_incident();
    let this = {
        let id = id.clone();
        Memo::new(move |_| mine.with(|all| all.iter().find(|t| t.id == id).cloned()))
    };
    let passage = move || {
        let thread = this.get()?;
        let passage = thread.passage.clone()?;
        let quote = thread.quote.clone();
        Some(match (passage, thread.target.clone()) {
            (Passage::Here { start, end, text }, CommentTarget::Prose(section)) => {
                let show = move |_| select_passage(section, start, end);
                view! {
                    <button type="button" class="comment-quote link" data-testid="comment-quote"
                        title="Select this passage in the text" on:click=show>
                        {format!("“{text}”")}
                    </button>
                }
                .into_any()
            }
            _ => view! {
                <p class="comment-quote gone" data-testid="comment-passage-deleted">
                    {format!("The passage was deleted: “{quote}”")}
                </p>
            }
            .into_any(),
        })
    };
    let comments =
        move || this.with(|t| t.as_ref().map(|t| t.comments.clone()).unwrap_or_default());
    let list = view! {
        <For
            each=comments
            key=|(id, c)| (id.clone(), c.body.clone(), c.edited_at.clone(), c.deleted_at.clone())
            children=move |(id, c)| comment_view(id, c, &ctx.zone.get_untracked())
        />
    };
    let resolved = Memo::new(move |_| this.with(|t| t.as_ref().is_some_and(Thread::is_resolved)));
    let state = move || {
        let thread = this.get()?;
        let r = thread.resolved?;
        let zone = ctx.zone.get();
        Some(view! {
            <p class="comment-state" data-testid="comment-resolved-by">
                {format!("Resolved by {}, {}", r.by, shown_when(&r.at, &zone))}
            </p>
        })
    };
    let reply_box = format!("reply-{id}");
    let controls = {
        let (open, id) = (open.clone(), id.clone());
        let reply = {
            let (open, id) = (open.clone(), id.clone());
            move |body: &str, mentions: &[String]| {
                open.incident
                    .reply(
                        &platform::new_id(),
                        &id,
                        body,
                        &prefs::display_name(),
                        &people::my_invite(&open.id),
                        mentions,
                        &platform::now_rfc3339(),
                    )
                    .map_err(|e| e.to_string())
            }
        };
        let toggle = move |_| {
            let me = prefs::display_name();
            let invite = people::my_invite(&open.id);
            let now = platform::now_rfc3339();
            let done = if resolved.get_untracked() {
                open.incident
                    .reopen_thread(&platform::new_id(), &id, &me, &invite, &now)
            } else {
                open.incident
                    .resolve_thread(&platform::new_id(), &id, &me, &invite, &now)
            };
            if let Err(e) = done {
                platform::log_error(&e.to_string());
            }
        };
        view! {
            <Show when=move || ctx.may_comment.get()>
                <div class="comment-controls">
                    {composer(reply_box.clone(), "Reply", "Reply", reply.clone(), None)}
                    <button type="button" class="secondary comment-toggle" data-testid="comment-resolve"
                        on:click=toggle.clone()>
                        {move || if resolved.get() { "Reopen" } else { "Resolve" }}
                    </button>
                </div>
            </Show>
        }
    };
    view! {
        <div class="comment-thread" data-testid="comment-thread" id=format!("thread-{id}")
            tabindex="-1" data-thread-id=id data-resolved=move || resolved.get().to_string()>
            {passage}
            <ol class="comment-list">{list}</ol>
            {state}
            {controls}
        </div>
    }
}

/// Open threads, then the resolved ones folded ("2 resolved comments").
fn thread_list(ctx: Threads, mine: Memo<Vec<Thread>>) -> impl IntoView {
    let ids = move |resolved: bool| {
        move || {
            mine.with(|all| {
                all.iter()
                    .filter(|t| t.is_resolved() == resolved)
                    .map(|t| t.id.clone())
                    .collect::<Vec<_>>()
            })
        }
    };
    let count = Memo::new(move |_| mine.with(|all| all.iter().filter(|t| t.is_resolved()).count()));
    view! {
        <For each=ids(false) key=|id| id.clone() children=move |id| thread_view(id, ctx, mine)/>
        <Show when=move || { count.get() > 0 }>
            <details class="resolved-threads" data-testid="resolved-threads">
                <summary>{move || resolved_label(count.get())}</summary>
                <For each=ids(true) key=|id| id.clone() children=move |id| thread_view(id, ctx, mine)/>
            </details>
        </Show>
    }
}

/// The threads on a timeline event, an indicator or a next step, and its Comment button.
/// `window` is the windowed list the row is in, told when the row's height changes.
#[component]
pub fn Comments(
    target: CommentTarget,
    #[prop(optional)] window: Option<Windowed>,
) -> impl IntoView {
    let ctx = use_context::<Threads>()?;
    let open = use_incident();
    // A comment started before the row was drawn again is still being written.
    let draft_id = format!("{}-comment", dom_id(&target));
    let composing = RwSignal::new(ctx.drafts.with_value(|d| d.contains_key(&draft_id)));
    let mine = {
        let target = target.clone();
        Memo::new(move |_| {
            ctx.all.with(|all| {
                all.iter()
                    .filter(|t| t.target == target)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    };
    if let Some(window) = window {
        Effect::new(move |_| {
            mine.track();
            composing.track();
            window.schedule();
        });
    }
    let dom = dom_id(&target);
    let start = {
        let dom = dom.clone();
        move || {
            composing.get().then(|| {
                let open = open.clone();
                let target = target.clone();
                let send = move |body: &str, mentions: &[String]| {
                    let done =
                        start_thread(&open, &CommentOn::Item(target.clone()), body, mentions);
                    if done.is_ok() {
                        composing.set(false);
                    }
                    done
                };
                let draft_id = draft_id.clone();
                let cancel = Callback::new(move |()| {
                    ctx.drafts.update_value(|d| {
                        d.remove(&draft_id);
                    });
                    composing.set(false);
                });
                composer(
                    format!("{dom}-comment"),
                    "Comment",
                    "Comment",
                    send,
                    Some(cancel),
                )
            })
        }
    };
    let button = move || {
        (ctx.may_comment.get() && !composing.get()).then(|| {
            view! {
                <button type="button" class="secondary comment-button" data-testid="comment-button"
                    on:click=move |_| composing.set(true)>
                    "Comment"
                </button>
            }
        })
    };
    let aside = view! {
        <Show when=move || composing.get() || mine.with(|m| !m.is_empty())>
            <aside class="comment-aside" aria-label="Comments" data-testid="comments">
                {thread_list(ctx, mine)}
                {start.clone()}
            </aside>
        </Show>
    };
    Some(view! {
        {button}
        {aside}
    })
}

/// The DOM id prefix of an item's parts.
/// Starts a thread on `on` as this device's person, now.
fn start_thread(
    open: &OpenIncident,
    on: &CommentOn,
    body: &str,
    mentions: &[String],
) -> Result<(), String> {
    open.incident
        .add_comment(
            &platform::new_id(),
            on,
            body,
            &prefs::display_name(),
            &people::my_invite(&open.id),
            mentions,
            &platform::now_rfc3339(),
        )
        .map_err(|e| e.to_string())
}

fn dom_id(target: &CommentTarget) -> String {
    match target {
        CommentTarget::Timeline(id) => format!("ev-{id}"),
        CommentTarget::Indicator(id) => format!("ioc-{id}"),
        CommentTarget::NextStep(id) => format!("step-{id}"),
        CommentTarget::Prose(section) => format!("prose-{}", section.key()),
    }
}

/// Selects the characters `start..end` of a section's text, as the passage a thread is on.
fn select_passage(section: ProseSection, start: u32, end: u32) {
    let Some(area) = platform::element_by_id::<web_sys::HtmlTextAreaElement>(&textarea_id(section))
    else {
        return;
    };
    let _ = area.focus();
    if let Err(e) = area.set_selection_range(start, end) {
        platform::log_error(&platform::js_error_text(&e));
    }
}

/// A prose section's threads and "Comment on the selection": select text in the section,
/// then comment; the thread is anchored to that passage and follows later edits.
#[component]
pub fn ProseComments(section: ProseSection) -> impl IntoView {
    let ctx = use_context::<Threads>()?;
    let open = use_incident();
    let target = CommentTarget::Prose(section);
    let mine = Memo::new(move |_| {
        ctx.all.with(|all| {
            all.iter()
                .filter(|t| t.target == target)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    // The passage being commented on: its range and its text then.
    let pending = RwSignal::new(None::<(u32, u32, String)>);
    let problem = RwSignal::new(None::<String>);
    let pick = move |_| {
        let Some(area) =
            platform::element_by_id::<web_sys::HtmlTextAreaElement>(&textarea_id(section))
        else {
            return;
        };
        let start = area.selection_start().ok().flatten().unwrap_or(0);
        let end = area.selection_end().ok().flatten().unwrap_or(start);
        if start >= end {
            problem.set(Some(
                "Select some text of the section first, then press Comment.".to_string(),
            ));
            return;
        }
        let value = area.value();
        let units: Vec<u16> = value.encode_utf16().collect();
        let (s, e) = (
            (start as usize).min(units.len()),
            (end as usize).min(units.len()),
        );
        let quote = String::from_utf16_lossy(&units[s..e]);
        problem.set(None);
        pending.set(Some((start, end, quote)));
    };
    let key = section.key();
    let start = move || {
        pending.get().map(|(start, end, quote)| {
            let open = open.clone();
            let send = move |body: &str, mentions: &[String]| {
                let on = CommentOn::Passage {
                    section,
                    start,
                    end,
                };
                let done = start_thread(&open, &on, body, mentions);
                if done.is_ok() {
                    pending.set(None);
                }
                done
            };
            let cancel = Callback::new(move |()| {
                ctx.drafts.update_value(|d| {
                    d.remove(&format!("prose-{key}-comment"));
                });
                pending.set(None);
            });
            view! {
                <p class="comment-quote" data-testid="comment-new-quote">{format!("“{quote}”")}</p>
                {composer(format!("prose-{key}-comment"), "Comment on this passage", "Comment", send, Some(cancel))}
            }
        })
    };
    let button = move || {
        ctx.may_comment.get().then(|| {
            view! {
                <button type="button" class="secondary comment-button" data-testid="comment-button"
                    title="Select text in the section, then comment on it" on:click=pick>
                    "Comment on selection"
                </button>
                {move || problem.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            }
        })
    };
    let aside = view! {
        <Show when=move || pending.with(Option::is_some) || mine.with(|m| !m.is_empty())>
            <aside class="comment-aside" aria-label="Comments" data-testid="comments">
                {thread_list(ctx, mine)}
                {start.clone()}
            </aside>
        </Show>
    };
    Some(view! {
        {button}
        {aside}
    })
}

/// "Timeline event", "Indicator", "Next step": what kind of item a thread was on.
fn item_kind(target: &CommentTarget) -> &'static str {
    match target {
        CommentTarget::Timeline(_) => "Timeline event",
        CommentTarget::Indicator(_) => "Indicator",
        CommentTarget::NextStep(_) => "Next step",
        CommentTarget::Prose(_) => "Section",
    }
}

/// At the end of the page, folded: the threads on events, indicators and next steps that were
/// removed since, each under the item's label when the thread started, so no discussion
/// disappears with its item.
#[component]
pub fn RemovedItemComments() -> impl IntoView {
    let ctx = use_context::<Threads>()?;
    let open = use_incident();
    let removed = Memo::new(move |_| {
        ctx.all.with(|all| {
            open.read(|incident| {
                all.iter()
                    .filter(|t| !incident.comment_target_exists(&t.target))
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    });
    let ids = move || removed.with(|all| all.iter().map(|t| t.id.clone()).collect::<Vec<_>>());
    let heading = move |id: &str| {
        removed.with(|all| {
            all.iter().find(|t| t.id == id).map(|t| {
                let kind = item_kind(&t.target);
                if t.quote.is_empty() {
                    format!("{kind} (removed)")
                } else {
                    format!("{kind} (removed): “{}”", t.quote)
                }
            })
        })
    };
    Some(view! {
        <Show when=move || removed.with(|r| !r.is_empty())>
            <details class="removed-item-comments" data-testid="removed-item-comments">
                <summary>{move || format!("Comments on removed items ({})", removed.with(Vec::len))}</summary>
                <For each=ids key=|id| id.clone() children=move |id| {
                    let label = heading(&id);
                    view! {
                        <div class="removed-item" data-testid="removed-item">
                            <p class="removed-item-label" data-testid="removed-item-label">{label}</p>
                            {thread_view(id, ctx, removed)}
                        </div>
                    }
                }/>
            </details>
        </Show>
    })
}
