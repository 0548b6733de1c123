//! The incident page: one incident's template, edited together.

mod as_of;
mod attachments;
mod attribution;
mod catch_up;
mod classification;
mod clipboard;
mod comments;
mod drill;
mod export;
mod go_to_thread;
mod handover;
mod indicators;
mod joining;
mod mention_actions;
mod navigation;
mod next_steps;
mod overview;
mod owner_actions;
mod playbook_page;
mod proposing;
mod prose;
mod publishing;
mod questions;
mod roles;
mod share;
mod status;
mod team_share;
mod timeline;
mod title;
mod triage;
mod windowed;

use incident::{Incident, ProseSection};
use leptos::ev;
use leptos::prelude::*;

use crate::on_demand::on_demand;
use crate::session::{use_incident, OpenIncident, Standing};
use as_of::{AsOf, AsOfView, HistoryButton, HistoryPanel};
use classification::Classification;
use export::{ExportButton, ExportPanel, Printing, ReportView};
use indicators::Indicators;
use joining::{JoinName, NoAccess, ReadOnlyNote};
use next_steps::NextSteps;
use owner_actions::DeletedNotice;
use prose::ProseField;
use publishing::CreationSecret;
use questions::{PostMortem, QuestionsAsked};
use roles::Roles;
use share::{ShareButton, SharePanel};
use status::{Presence, Problems, SyncStatus};
use timeline::{KillChainByPhase, Timeline};
use title::TitleField;

pub use playbook_page::PlaybookPage;

/// Opens the incident `id` for as long as the page is shown.
#[component]
pub fn IncidentPage(id: String) -> impl IntoView {
    // An invite link's secret is taken out of the address bar before anything else runs.
    let from_link = crate::access::take_invite_from_address();
    let open = OpenIncident::open(&id, from_link);
    provide_context(open.clone());
    attribution::provide(&open);
    comments::provide(&open);
    crate::people::provide();
    windowed::ViewerFind::provide();
    go_to_thread::provide();

    let back_online = {
        let open = open.clone();
        window_event_listener(ev::online, move |_| open.back_online())
    };
    // Another invite link pasted into this page's address bar: open it afresh.
    let new_link = window_event_listener(ev::hashchange, move |_| {
        let location = crate::platform::window().location();
        if location.hash().unwrap_or_default().starts_with("#invite=") {
            if let Err(e) = location.reload() {
                crate::platform::log_error(&crate::platform::js_error_text(&e));
            }
        }
    });
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
        new_link.remove();
        closing.close();
    });

    let loaded = open.loaded;
    let standing = open.standing;
    let revision = open.revision;
    let has_copy = open.has_copy;
    let awaiting = open.awaiting_document;
    // What is on this device is shown whatever the relay says; an incident that is not here
    // yet only once the relay lets this device in, and has sent it (or could not): drawn
    // empty first, the whole editor would be drawn a second time when the incident came.
    let shows_editor = {
        let open = open.clone();
        Memo::new(move |_| {
            if !loaded.get() {
                return false;
            }
            revision.track();
            (matches!(standing.get(), Standing::Member(_)) && !awaiting.get())
                || has_copy.get()
                || open.incident.schema_version().is_some()
        })
    };
    let read_only = Memo::new(move |_| !standing.get().may_edit());
    let sharing = RwSignal::new(false);
    let exporting = RwSignal::new(false);
    let printing = RwSignal::new(None::<Printing>);
    let history = RwSignal::new(false);
    let as_of = RwSignal::new(None::<AsOf>);
    view! {
        <Show when=move || printing.get().is_some()>
            <main class="page report-page">
                {on_demand(move || printing.with(Option::is_some), move || report_view(printing))}
            </main>
        </Show>
        <main
            class="page incident-page"
            class:hidden-for-report=move || printing.get().is_some()
            data-access=move || access_key(&standing.get())
        >
            <div class="incident-bar">
                <nav class="top-nav" aria-label="Incident">
                    <a href="/">"← All incidents"</a>
                </nav>
                <Show when=move || shows_editor.get()>
                    <ExportButton exporting=exporting/>
                    <HistoryButton open_panel=history/>
                </Show>
                <ShareButton sharing=sharing/>
            </div>
            <SyncStatus/>
            <Problems/>
            {on_demand(move || sharing.get(), move || share_panel(sharing))}
            {on_demand(move || exporting.get(), move || export_panel(exporting, printing))}
            {on_demand(move || history.get(), move || history_panel(history, as_of))}
            <DeletedNotice/>
            <CreationSecret/>
            <JoinName/>
            <Show
                when=move || shows_editor.get()
                fallback=move || {
                    view! {
                        <NoAccess/>
                        <Show when=move || {
                            !loaded.get() || standing.get() == Standing::Checking || awaiting.get()
                        }>
                            <p class="loading">"Opening the incident…"</p>
                        </Show>
                    }
                }
            >
                <ReadOnlyNote/>
                <drill::DrillBanner/>
                {on_demand(move || as_of.with(Option::is_some), move || as_of_view(as_of))}
                <windowed::ViewerFindSlots/>
                // Native: a disabled fieldset disables every control inside it.
                <fieldset
                    class="incident-body"
                    class:hidden-for-report=move || as_of.with(Option::is_some)
                    prop:disabled=move || read_only.get()
                >
                    <IncidentEditor/>
                    <comments::RemovedItemComments/>
                </fieldset>
            </Show>
        </main>
    }
}

// What most visits never open is cut out of the first download (`crate::on_demand`): the
// share panel (with its QR encoder), exports and the printed report, history.

crate::on_demand::part! {
    fn share_panel(sharing: RwSignal<bool>) -> AnyView {
        view! { <SharePanel sharing=sharing/> }.into_any()
    }

    fn export_panel(exporting: RwSignal<bool>, printing: RwSignal<Option<Printing>>) -> AnyView {
        view! { <ExportPanel exporting=exporting printing=printing/> }.into_any()
    }

    fn report_view(printing: RwSignal<Option<Printing>>) -> AnyView {
        view! { <ReportView printing=printing/> }.into_any()
    }

    fn history_panel(open_panel: RwSignal<bool>, as_of: RwSignal<Option<AsOf>>) -> AnyView {
        view! { <HistoryPanel open_panel=open_panel as_of=as_of/> }.into_any()
    }

    fn as_of_view(as_of: RwSignal<Option<AsOf>>) -> AnyView {
        view! { <AsOfView as_of=as_of/> }.into_any()
    }
}

/// The catch-up card, once the incident's document is here (at once when this device has a
/// copy). On a first visit through an invite link the editor shows before the relay's
/// document arrives; the card's modules (a dozen small files, a round trip each, six at a
/// time) are fetched after it, not in front of the websocket.
/// It starts once the first screen is `settled` too; what this device types before then is
/// kept for its read mark ([`catch_up::EarlyEdits`]), so it is never listed as news.
fn catch_up_when_loaded(settled: ReadSignal<bool>) -> impl IntoView {
    let open = use_incident();
    catch_up::EarlyEdits::provide(&open);
    let revision = open.revision;
    let loaded = move || {
        revision.track();
        settled.get() && open.incident.schema_version().is_some()
    };
    on_demand(loaded, catch_up_card)
}

// Drawn once the editor is: the catch-up card and what it compares (the read mark against
// the document, `incident::history`) are shared with the history panel, not with the first
// screen. Until its module is here (from the service worker's copy after the first visit),
// nothing shows in its place; if it cannot come, a line says why (`crate::on_demand`).
crate::on_demand::part! {
    fn catch_up_card() -> AnyView {
        view! { <catch_up::CatchUpCard/> }.into_any()
    }
}

/// One read of the open incident, made again after each change to the roots it looked at
/// (`Session::read`); what shows it re-renders only when the read's result changes.
fn watch<T>(open: &OpenIncident, read: impl Fn(&Incident) -> T + Send + Sync + 'static) -> Memo<T>
where
    T: PartialEq + Send + Sync + 'static,
{
    let open = open.clone();
    Memo::new(move |_| open.read(&read))
}

/// A section's heading row (the heading has id `h-{key}`, what the section is labelled by;
/// see `navigation::section_head`) and the hint under it.
fn heading(key: &str, title: &'static str, hint: &'static str) -> impl IntoView {
    view! {
        {navigation::section_head(key, title)}
        <p class="hint">{hint}</p>
    }
}

/// The page's `data-access`: where this device stands with the relay.
fn access_key(standing: &Standing) -> String {
    match standing {
        Standing::Loading => "loading".to_string(),
        Standing::Unpublished => "unpublished".to_string(),
        Standing::Publishing => "publishing".to_string(),
        Standing::NeedsCreationSecret { .. } => "creation-secret".to_string(),
        Standing::Checking => "checking".to_string(),
        Standing::Naming { .. } => "naming".to_string(),
        Standing::Member(role) => role.as_str().to_string(),
        Standing::Refused(why) => format!("refused-{}", why.key()),
    }
}

/// Every part of the template, once this device's copy has loaded.
#[component]
fn IncidentEditor() -> impl IntoView {
    let open = use_incident();
    attachments::Evidence::provide(&open);
    Effect::new(move |_| {
        let (title, drill) = open.read(|i| (i.title(), i.is_drill()));
        let title = if title.trim().is_empty() {
            "Incident".to_string()
        } else {
            title
        };
        let drill = if drill { "DRILL — " } else { "" };
        crate::platform::document().set_title(&format!("{drill}{title} — Firebreak"));
    });
    // Runs once, after the editor is first drawn.
    Effect::new(|_| crate::platform::page_shown());
    let nav = navigation::Nav::provide();
    // The bar comes first for keyboards and screen readers; the stylesheet puts it beside
    // the page on a wide screen, along the bottom on a phone.
    view! {
        <div class="incident-layout">
            <navigation::SectionBar nav=nav/>
            <div class="incident-main">{sections(nav)}</div>
        </div>
    }
}

/// True once the page's first screen has been drawn and the browser has been idle since:
/// what is not needed to read and type starts then, so that opening a big incident shows
/// its rows and takes keystrokes before it.
fn after_first_screen() -> ReadSignal<bool> {
    let ready = RwSignal::new(false);
    request_animation_frame(move || {
        request_idle_callback(move || {
            ready.try_set(true);
        });
    });
    ready.read_only()
}

/// Every part of the incident, the overview right under the title.
fn sections(nav: navigation::Nav) -> impl IntoView {
    // The catch-up card compares this device's read mark with the incident: for a big
    // incident a few hundred milliseconds, which waits until the first screen is up.
    let settled = after_first_screen();
    // The template's order: what everyone needs first, the working sections, then what is
    // written for later readers.
    view! {
        <TitleField/>
        <Presence/>
        <overview::Overview nav=nav/>
        {catch_up_when_loaded(settled)}
        <Classification/>
        <Roles/>
        <ProseField section=ProseSection::Summary/>
        <Timeline/>
        <Indicators/>
        <ProseField section=ProseSection::Details/>
        <KillChainByPhase/>
        <ProseField section=ProseSection::Response/>
        <NextSteps/>
        <ProseField section=ProseSection::Theories/>
        <QuestionsAsked/>
        <ProseField section=ProseSection::LessonsLearned/>
        <ProseField section=ProseSection::Background/>
        <ProseField section=ProseSection::Comms/>
        <ProseField section=ProseSection::Appendix/>
        <PostMortem/>
    }
}
