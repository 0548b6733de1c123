//! Figures for docs/benchmarks.md: replaying the record of an incident with 5,000 timeline
//! events and 20,000 edits, the incident as of the middle, `changes` between two states of
//! 5,000 events, a replay's memory, and what keeping history in the live document
//! (`skip_gc`) would cost instead.
//!
//! `cargo run --release -p incident --example history_bench`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use incident::history::{catch_up, changes, handoff_note, state_at, History, Record, Replay};
use incident::{
    Incident, IndicatorField, NextStep, ProseSection, StepStatus, TimelineEvent, TimelineField,
    UpdateOrigin,
};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Options, ReadTxn, StateVector, Transact, Update};

/// Counts the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

const EVENTS: usize = 5_000;
const EDITS: usize = 20_000;
const PEOPLE: [&str; 4] = ["Ana", "Bo", "Cy", "Dana"];
const START_MS: i64 = 1_796_000_000_000;

/// A small deterministic generator, so every run makes the same record.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn utc(minute: usize) -> String {
    incident::when::utc_from_unix_seconds(1_796_000_000 + 60 * minute as i64)
}

/// The record of one incident: created, 5,000 events added, then edits of every kind (event
/// fields corrected, prose typed and cut, next steps added and moved, indicator notes) until
/// there are 20,000 records, one update each, received a second apart.
fn make_record() -> Vec<Record> {
    let writer = Incident::with_client_id(7);
    let queue: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let sink = Rc::clone(&queue);
    let _sub = writer.on_update(move |update, _| sink.borrow_mut().push(update.to_vec()));
    let mut records = Vec::with_capacity(EDITS);
    let push = |records: &mut Vec<Record>| {
        for update in queue.borrow_mut().drain(..) {
            let seq = records.len() as u64 + 1;
            records.push(Record {
                seq,
                received_at_ms: START_MS + 1_000 * seq as i64,
                by: PEOPLE[seq as usize % PEOPLE.len()].to_string(),
                written_at_ms: None,
                update,
            });
        }
    };
    writer.initialize("Ransomware at the Hamburg plant", &utc(0));
    push(&mut records);
    let mut rng = Lcg(16);
    for i in 0..EVENTS {
        let event = TimelineEvent {
            occurred_at: utc(i),
            what: format!("Host FIN-{i:04} beacons to 203.0.113.{}", i % 250),
            source: "EDR".into(),
            author: PEOPLE[i % PEOPLE.len()].into(),
            ..Default::default()
        };
        writer.add_timeline_event(&format!("ev-{i:05}"), &event);
        push(&mut records);
    }
    let mut steps = 0;
    let mut ioc = Vec::new();
    while records.len() < EDITS {
        let n = records.len();
        match rng.below(6) {
            0 | 1 => {
                let id = format!("ev-{:05}", rng.below(EVENTS));
                writer.set_timeline_field(
                    &id,
                    TimelineField::What,
                    &format!("Host beacons (checked by {})", PEOPLE[n % 4]),
                );
            }
            2 => {
                let mut text = writer.section_text(ProseSection::Details);
                if text.len() > 4_000 {
                    // Someone tidies up: the first half goes.
                    let cut = text.len() / 2;
                    let cut = (cut..text.len())
                        .find(|&c| text.is_char_boundary(c))
                        .unwrap();
                    text.replace_range(..cut, "");
                } else {
                    text.push_str(&format!("Finding {n}: lateral movement via SMB. "));
                }
                writer.edit_section(ProseSection::Details, &text);
            }
            3 => {
                let mut text = writer.section_text(ProseSection::Summary);
                text.push_str(&format!("Update {n}. "));
                if text.len() > 600 {
                    text = text.split_off(text.len() / 3);
                }
                writer.edit_section(ProseSection::Summary, &text);
            }
            4 => {
                if steps > 0 && rng.below(2) == 0 {
                    let id = format!("st-{}", rng.below(steps));
                    let status = [StepStatus::Open, StepStatus::Doing, StepStatus::Done][n % 3];
                    writer.set_next_step_status(&id, status);
                } else {
                    writer.add_next_step(
                        &format!("st-{steps}"),
                        &NextStep {
                            title: format!("Reimage host {n}"),
                            owner: PEOPLE[n % 4].into(),
                            due: Some(utc(n)),
                            created_by: PEOPLE[n % 4].into(),
                            created_at: utc(n),
                            ..Default::default()
                        },
                    );
                    steps += 1;
                }
            }
            _ => {
                if ioc.len() < 500 || rng.below(2) == 0 {
                    let value = format!("198.51.{}.{}", ioc.len() / 250, ioc.len() % 250);
                    if let Ok(id) = writer.add_indicator(&value, None, PEOPLE[n % 4], &utc(n)) {
                        ioc.push(id);
                    }
                } else {
                    let id = &ioc[rng.below(ioc.len())];
                    writer.set_indicator_field(id, IndicatorField::Note, &format!("seen {n}"));
                }
            }
        }
        push(&mut records);
    }
    records.truncate(EDITS);
    records
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1_000.0
}

/// A plain yrs document (`skip_gc` on or off) with every record applied: its encoded size
/// and the bytes it holds in memory.
fn plain_doc(records: &[Record], skip_gc: bool) -> (usize, usize) {
    let before = live();
    let doc = Doc::with_options(Options {
        skip_gc,
        ..Options::default()
    });
    for root in incident::roots() {
        match root.kind {
            incident::RootKind::Map => drop(doc.get_or_insert_map(root.name)),
            incident::RootKind::Text => drop(doc.get_or_insert_text(root.name)),
        }
    }
    for record in records {
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&record.update).unwrap())
            .unwrap();
    }
    let held = live() - before;
    let encoded = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
        .len();
    (encoded, held)
}

fn main() {
    let started = Instant::now();
    let records = make_record();
    let record_bytes: usize = records.iter().map(|r| r.update.len()).sum();
    println!(
        "record: {} updates, {} bytes of updates ({:.1} KB per 1,000), made in {:.0} ms",
        records.len(),
        record_bytes,
        record_bytes as f64 / records.len() as f64,
        ms(started)
    );

    // A plain incident without observers, for the cost of noting who touched what.
    let started = Instant::now();
    let plain = Incident::new();
    for record in &records {
        plain
            .apply_update(&record.update, UpdateOrigin::Relay)
            .unwrap();
    }
    let plain_ms = ms(started);

    let before = live();
    let started = Instant::now();
    let mut replay = Replay::new();
    let half = records.len() / 2;
    for record in &records[..half] {
        replay.apply(record).unwrap();
    }
    let first_half_ms = ms(started);
    for record in &records[half..] {
        replay.apply(record).unwrap();
    }
    let total_ms = ms(started);
    let replay_bytes = live() - before;
    let timeline = replay.incident().timeline().len();
    println!(
        "replay of {} records ({} events at the end): {:.0} ms, {:.1} µs per update \
         (first half {:.1} µs, second half {:.1} µs); without attribution {:.0} ms",
        records.len(),
        timeline,
        total_ms,
        total_ms * 1_000.0 / records.len() as f64,
        first_half_ms * 1_000.0 / half as f64,
        (total_ms - first_half_ms) * 1_000.0 / (records.len() - half) as f64,
        plain_ms
    );
    println!(
        "a replay held in memory: {:.1} MB ({} places attributed); its encoded state {} bytes",
        replay_bytes as f64 / 1e6,
        replay.attribution().len(),
        replay.incident().encode_state().len()
    );

    let started = Instant::now();
    let runs = replay.authorship(ProseSection::Details);
    println!(
        "authorship of Details ({} characters): {} runs in {:.2} ms",
        replay.incident().section_text(ProseSection::Details).len(),
        runs.len(),
        ms(started)
    );

    let middle = records[half].received_at_ms;
    let started = Instant::now();
    let past = state_at(&records, middle).unwrap();
    println!(
        "state_at the middle ({} records, {} events): {:.0} ms",
        past.applied(),
        past.incident().timeline().len(),
        ms(started)
    );
    let started = Instant::now();
    let mut stepping = state_at(&records, middle).unwrap();
    let build_ms = ms(started);
    let started = Instant::now();
    stepping.advance_to(&records, middle + 100_000).unwrap();
    println!(
        "stepping that replay 100 records forward: {:.2} ms (built in {:.0} ms)",
        ms(started),
        build_ms
    );

    // A time slider: checkpoints every 2,000 records, taken on the first pass to the end.
    let before = live();
    let mut history = History::new(records.clone(), 2_000);
    let started = Instant::now();
    history.state_at(i64::MAX).unwrap();
    let first_pass_ms = ms(started);
    let held = live() - before;
    let started = Instant::now();
    history.state_at(middle).unwrap();
    let back_ms = ms(started);
    let started = Instant::now();
    history.state_at(middle - 100_000).unwrap();
    let back_100_ms = ms(started);
    println!(
        "History with a checkpoint every 2,000 records: to the end {:.0} ms; back to the \
         middle {:.0} ms; 100 records further back {:.0} ms; checkpoints {:.1} MB encoded, \
         history with its replay {:.1} MB in memory",
        first_pass_ms,
        back_ms,
        back_100_ms,
        history.checkpoint_bytes() as f64 / 1e6,
        held as f64 / 1e6
    );

    // Two states of 5,000 events: just after the last event was added, and the end.
    let at_events = records[EVENTS].received_at_ms;
    let early = state_at(&records, at_events).unwrap();
    let started = Instant::now();
    let list = changes(early.incident(), replay.incident());
    let changes_ms = ms(started);
    println!(
        "changes() between {} and {} events: {} changes in {:.0} ms",
        early.incident().timeline().len(),
        timeline,
        list.len(),
        changes_ms
    );
    let recent = state_at(&records, records[records.len() - 101].received_at_ms).unwrap();
    let started = Instant::now();
    let few = changes(recent.incident(), replay.incident());
    println!(
        "changes() over the last 100 records (5,000 events each side): {} changes in {:.1} ms",
        few.len(),
        ms(started)
    );
    let started = Instant::now();
    let groups = catch_up(
        early.incident(),
        replay.incident(),
        Some(replay.attribution()),
        &utc(0),
        &utc(EDITS),
        10,
    );
    let catch_up_ms = ms(started);
    let started = Instant::now();
    let note = handoff_note(replay.incident(), &list, &utc(EDITS));
    println!(
        "catch_up: {} groups in {:.0} ms; handoff_note: {} bytes in {:.0} ms",
        groups.len(),
        catch_up_ms,
        note.len(),
        ms(started)
    );

    let (gc_encoded, gc_held) = plain_doc(&records, false);
    let (skip_encoded, skip_held) = plain_doc(&records, true);
    println!(
        "the same {} updates in one document: GC on {} bytes encoded, {:.1} MB in memory; \
         skip_gc {} bytes encoded ({:.1}×), {:.1} MB in memory ({:.1}×)",
        records.len(),
        gc_encoded,
        gc_held as f64 / 1e6,
        skip_encoded,
        skip_encoded as f64 / gc_encoded as f64,
        skip_held as f64 / 1e6,
        skip_held as f64 / gc_held as f64
    );
}
