//! What the record costs for a big incident: 5,000 timeline events and 20,000 edits in all
//! (the 5,000 that add the events, then 15,000 changes to events' text and the summary), each
//! edit stored as the relay stores one (`Store::append_recorded`, one transaction, SQLite in
//! a temporary directory) from one of four invites, one second apart; the created document
//! travels with the first edit. Prints the record's
//! size against the compacted document's, the time of `verify`'s walk, and the time to
//! rebuild the document as it stood in the middle, and to answer who wrote what.
//!
//!     cargo run --release -p sync-server --example record_bench

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use incident::{Incident, ProseSection, TimelineEvent, TimelineField as Field};
use sync_server::access::InviteId;
use sync_server::store::record::Sent;
use sync_server::store::{SqliteStore, Store};
use sync_server::IncidentId;

const EVENTS: usize = 5_000;
const EDITS: usize = 20_000;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("firebreak.sqlite3");
    let store = SqliteStore::open(&path).expect("open store");
    let id = IncidentId::parse("bench-record").expect("id");
    let invites: Vec<InviteId> = ["a1", "b2", "c3", "d4"]
        .iter()
        .map(|p| InviteId::parse(&p.repeat(8)).expect("invite id"))
        .collect();

    let doc = Incident::create("Big incident", "2026-11-01T00:00:00Z");
    let pending: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let _sub = {
        let pending = Rc::clone(&pending);
        doc.on_update(move |update, _| pending.borrow_mut().push(update.to_vec()))
    };
    // The created document (title, creation time) is the first record, as the app's first
    // sync sends it.
    pending.borrow_mut().clear();
    pending.borrow_mut().push(doc.encode_state());
    let start_ms = 1_790_000_000_000i64;
    let mut edits = 0usize;
    let mut update_bytes = 0usize;
    let mut store_time = Duration::ZERO;
    let mut batches: Vec<Vec<Sent>> = Vec::new();
    let mut store_edit = |doc_edit: &dyn Fn()| {
        doc_edit();
        let updates: Vec<Vec<u8>> = pending.borrow_mut().drain(..).collect();
        let sent: Vec<Sent> = updates
            .into_iter()
            .map(|update| Sent {
                update,
                invite: Some(invites[edits % invites.len()].clone()),
            })
            .collect();
        update_bytes += sent.iter().map(|s| s.update.len()).sum::<usize>();
        let started = Instant::now();
        store
            .append_recorded(&id, &sent, start_ms + 1000 * edits as i64)
            .expect("append");
        store_time += started.elapsed();
        batches.push(sent);
        edits += 1;
    };
    let started = Instant::now();
    for n in 0..EVENTS {
        // The first edit also carries the created document.
        store_edit(&|| {
            doc.add_timeline_event(
                &format!("ev{n:05}"),
                &TimelineEvent {
                    occurred_at: format!("2026-11-01T{:02}:{:02}:00Z", (n / 60) % 24, n % 60),
                    what: format!(
                        "Event {n}: process tree on host-{} spawned powershell",
                        n % 300
                    ),
                    source: "EDR".to_string(),
                    author: "Bench".to_string(),
                    include_in_report: true,
                    ..Default::default()
                },
            );
        });
    }
    for n in EVENTS..EDITS {
        if n % 10 == 0 {
            store_edit(&|| {
                doc.edit_section(
                    ProseSection::Summary,
                    &format!("Summary as of edit {n}: contained, {} hosts left.", n % 97),
                )
            });
        } else {
            let event = format!("ev{:05}", (n * 7919) % EVENTS);
            store_edit(&|| {
                doc.set_timeline_field(
                    &event,
                    Field::What,
                    &format!("Event rewritten at edit {n}: host-{} isolated", n % 300),
                );
            });
        }
    }
    let built = started.elapsed();
    let snapshot = doc.encode_state();
    store.compact(&id, &snapshot).expect("compact");

    let conn = rusqlite::Connection::open(&path).expect("open for sizes");
    let pages = |like: &str| -> i64 {
        conn.query_row(
            "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE ?1",
            [like],
            |r| r.get(0),
        )
        .expect("dbstat")
    };
    let record_on_disk = pages("incident_record%");
    let snapshot_on_disk = pages("incident_snapshot%");
    let records: i64 = conn
        .query_row("SELECT COUNT(*) FROM incident_record", [], |r| r.get(0))
        .expect("count");

    println!(
        "incident: {EVENTS} events, {edits} edits ({records} records), built and stored in {:.1} s (appends {:.1} s)",
        built.as_secs_f64(),
        store_time.as_secs_f64()
    );
    println!(
        "updates' bytes            {:>12}  ({:.0} B an edit)",
        update_bytes,
        update_bytes as f64 / edits as f64
    );
    println!(
        "record on disk            {:>12}  ({:.0} KiB per 1,000 edits, pages of the record's tables and index)",
        record_on_disk,
        record_on_disk as f64 / 1024.0 / (edits as f64 / 1000.0)
    );
    println!("compacted document        {:>12}", snapshot.len());
    println!("snapshot on disk          {:>12}", snapshot_on_disk);
    println!(
        "record / compacted        {:>11.1}x",
        record_on_disk as f64 / snapshot.len() as f64
    );

    // The same edits again, into fresh files: as the relay appended before the record (one
    // transaction inserting into the live log only) and as it appends now.
    let log_only = {
        let path = dir.path().join("log-only.sqlite3");
        drop(SqliteStore::open(&path).expect("schema"));
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .expect("pragma");
        let started = Instant::now();
        for batch in &batches {
            let txn = conn.transaction().expect("txn");
            {
                let mut stmt = txn
                    .prepare_cached(
                        "INSERT INTO incident_update_log (incident, update_v1) SELECT ?1, ?2
                         WHERE NOT EXISTS (SELECT 1 FROM incident_deleted WHERE incident = ?1)",
                    )
                    .expect("prepare");
                for sent in batch {
                    stmt.execute(rusqlite::params![id.as_str(), sent.update])
                        .expect("insert");
                }
            }
            txn.commit().expect("commit");
        }
        started.elapsed()
    };
    let with_record = {
        let again = SqliteStore::open(&dir.path().join("again.sqlite3")).expect("open");
        let started = Instant::now();
        for (n, batch) in batches.iter().enumerate() {
            again
                .append_recorded(&id, batch, start_ms + 1000 * n as i64)
                .expect("append");
        }
        started.elapsed()
    };
    let per_edit = |d: Duration| d.as_secs_f64() * 1e6 / batches.len() as f64;
    println!(
        "append an edit            live log only (before the record) {:.0} µs, log + record {:.0} µs",
        per_edit(log_only),
        per_edit(with_record)
    );

    let time = |label: &str, f: &dyn Fn() -> String| {
        let mut times = Vec::new();
        let mut said = String::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            said = f();
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{label:<25} min {:>8.1} ms   median {:>8.1} ms   max {:>8.1} ms   ({said})",
            ms(times[0]),
            ms(times[RUNS / 2]),
            ms(times[RUNS - 1])
        );
    };
    let reader = SqliteStore::open_read_only(&path).expect("read-only");
    time("verify (walk the chain)", &|| {
        let walked = sync_server::verify::walk(&reader, &id)
            .expect("walk")
            .expect("whole chain");
        sync_server::verify::summary(&id, &walked)
    });
    let middle = start_ms + 1000 * (EDITS as i64 / 2);
    time("history/state at middle", &|| {
        let state = sync_server::http::history::rebuild(&reader, &id, middle).expect("rebuild");
        format!("{} bytes", state.len())
    });
    let end = start_ms + 1000 * EDITS as i64;
    time("history/state at end", &|| {
        let state = sync_server::http::history::rebuild(&reader, &id, end).expect("rebuild");
        format!("{} bytes", state.len())
    });
    let rebuilt = sync_server::http::history::rebuild(&reader, &id, end).expect("rebuild");
    println!(
        "state at the end is the live document: {}",
        if rebuilt == snapshot {
            "yes, byte for byte"
        } else {
            "NO"
        }
    );
    let names: std::collections::HashMap<String, String> = invites
        .iter()
        .zip(["Ana", "Ben", "Cy", "Dee"])
        .map(|(invite, name)| (invite.as_str().to_owned(), name.to_owned()))
        .collect();
    time("history/attribution", &|| {
        let answer = sync_server::http::attribution::attribute(&reader, &id, &names, 20_000)
            .expect("attribution");
        let json = serde_json::to_vec(&answer).expect("encodes");
        format!(
            "{} entries, {} bytes of JSON",
            answer.entries.len(),
            json.len()
        )
    });
    time("attribution kept: probe", &|| {
        // What a kept answer costs: is there a record after the last one replayed?
        let newer = reader
            .record_page(&id, i64::MIN, i64::MAX, EDITS as u64 + 1, 1)
            .expect("page");
        let base = reader.record_base(&id).expect("base");
        format!("{} newer, base {:?}", newer.len(), base.map(|b| b.seq))
    });
    time("history page (5,000)", &|| {
        let page = reader
            .record_page(&id, i64::MIN, i64::MAX, 0, 5_000)
            .expect("page");
        format!("{} records", page.len())
    });
}
