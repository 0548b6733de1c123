//! The PostgreSQL backend against a real PostgreSQL (15, Debian's `postgresql`), started by
//! the test (`deployment/mod.rs`): a temporary data directory, a private instance on a free
//! 127.0.0.1 port, stopped when the test ends, panics included.

use std::process::Command;

mod common;
mod deployment;

use common::{Client as SyncClient, Relay};
use deployment::Postgres;
use postgres::{Client, NoTls};
use sync_server::store::{conformance, PostgresStore, Store};

#[test]
fn postgres_passes_the_storage_conformance_suite() {
    let pg = Postgres::start();
    conformance::run_all(|case| PostgresStore::connect(&pg.database(case)).unwrap());
}

#[test]
fn a_schema_newer_than_the_relay_knows_is_refused_and_nothing_is_changed() {
    let pg = Postgres::start();
    let url = pg.database("newer");
    let incident = sync_server::incident_id::IncidentId::parse("kept").unwrap();
    {
        let store = PostgresStore::connect(&url).unwrap();
        store.append(&incident, &[vec![1, 2]]).unwrap();
    }
    // Connecting again migrates nothing and keeps the data.
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.load(&incident).unwrap().updates, vec![vec![1, 2]]);
    drop(store);
    let mut admin = Client::connect(&url, NoTls).unwrap();
    let version: i64 = admin
        .query_one("SELECT version FROM firebreak_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        version,
        sync_server::store::postgres::MIGRATIONS.len() as i64
    );
    admin
        .execute("UPDATE firebreak_schema SET version = version + 1", &[])
        .unwrap();
    let refused = PostgresStore::connect(&url)
        .err()
        .expect("a newer schema is refused");
    let message = refused.to_string();
    assert!(
        message.contains("newer than this relay knows"),
        "unclear refusal: {message}"
    );
    let after: i64 = admin
        .query_one("SELECT version FROM firebreak_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(after, version + 1, "the refused start changed the version");
}

#[test]
fn a_wrong_address_is_a_clear_error_without_the_password() {
    let refused = PostgresStore::connect("postgres://firebreak:hunter2@127.0.0.1:1/none")
        .err()
        .expect("nothing listens on port 1");
    let message = refused.to_string();
    assert!(
        message.contains("could not connect to PostgreSQL"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2"),
        "the password leaked: {message}"
    );
}

#[tokio::test]
async fn a_relay_on_postgres_keeps_a_document_across_a_kill_and_verify_walks_its_chain() {
    let pg = Postgres::start();
    let url = pg.database("relay");
    let tmp = tempfile::tempdir().unwrap();
    let (data, dist) = (tmp.path().join("data"), tmp.path().join("dist"));
    let relay = Relay::start_with(&data, &dist, &["--database-url", &url]);
    let mut writer = SyncClient::connect_synced(&relay, "pg-e2e").await;
    writer.type_text("stored in postgres;").await;
    writer.type_text(" and more").await;
    // A second client sees both: the relay has stored them (it stores, then forwards).
    let mut reader = SyncClient::connect_synced(&relay, "pg-e2e").await;
    reader
        .pump_until(|c| c.summary() == "stored in postgres; and more")
        .await;
    relay.kill_9();

    let relay = Relay::start_with(&data, &dist, &["--database-url", &url]);
    let back = SyncClient::connect_synced(&relay, "pg-e2e").await;
    assert_eq!(back.summary(), "stored in postgres; and more");
    assert!(
        !data.join("firebreak.sqlite3").exists(),
        "with --database-url nothing goes to the SQLite file"
    );
    // The record is in PostgreSQL too: two attributed rows, chained.
    let rows: i64 = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                Client::connect(&url, NoTls)
                    .unwrap()
                    .query_one(
                        "SELECT COUNT(*) FROM incident_record WHERE incident = 'pg-e2e'",
                        &[],
                    )
                    .unwrap()
                    .get(0)
            })
            .join()
            .unwrap()
    });
    assert_eq!(rows, 2);
    drop(relay);

    // `sync-server verify --database-url` walks the chain, and finds an altered record.
    let verify = |url: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
            .args(["verify", "--database-url", url])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, said) = verify(&url);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("incident pg-e2e: 2 records") && said.contains("ok"),
        "{said}"
    );
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                Client::connect(&url, NoTls)
                    .unwrap()
                    .execute(
                        "UPDATE incident_record SET update_v1 = '\\x00'::bytea
                         WHERE incident = 'pg-e2e' AND seq = 1",
                        &[],
                    )
                    .unwrap();
            })
            .join()
            .unwrap()
    });
    let (code, said) = verify(&url);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("incident pg-e2e: record 1"), "{said}");
    let (code, _) = verify(&pg.database("never-a-relay"));
    assert_eq!(
        code,
        Some(1),
        "verify on a database without the schema fails"
    );
}

/// Not a bound, a figure for the notes: the time of one `append_recorded` of one small
/// update (the room's common case), SQLite against PostgreSQL on this machine. Both
/// backends still store every update (checked), so the loop cannot pass by doing nothing.
#[test]
fn append_time_per_update_is_printed_for_sqlite_and_postgres() {
    use sync_server::incident_id::IncidentId;
    use sync_server::store::record::Sent;
    use sync_server::store::SqliteStore;
    const UPDATES: usize = 1000;
    fn time(store: &dyn Store) -> std::time::Duration {
        let incident = IncidentId::parse("timed").unwrap();
        let started = std::time::Instant::now();
        for i in 0..UPDATES {
            let sent = [Sent {
                update: (i as u32).to_be_bytes().to_vec(),
                invite: None,
            }];
            store.append_recorded(&incident, &sent, i as i64).unwrap();
        }
        let took = started.elapsed();
        assert_eq!(store.load(&incident).unwrap().updates.len(), UPDATES);
        assert_eq!(
            store.records(&incident, 0, UPDATES + 1).unwrap().len(),
            UPDATES
        );
        took
    }
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = time(&SqliteStore::open(&dir.path().join("timed.sqlite3")).unwrap());
    let postgres = time(&PostgresStore::connect(&pg.database("timed")).unwrap());
    println!(
        "append_recorded, one update, {UPDATES} in a row: SQLite {:.0} µs each, \
         PostgreSQL {:.0} µs each (fsync off in the test instance)",
        sqlite.as_secs_f64() * 1e6 / UPDATES as f64,
        postgres.as_secs_f64() * 1e6 / UPDATES as f64,
    );
}
