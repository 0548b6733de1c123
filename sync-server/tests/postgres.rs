//! The PostgreSQL backend against a real PostgreSQL (15, Debian's `postgresql`), started by
//! the test: a temporary data directory, a private instance on a free 127.0.0.1 port (its
//! unix socket in the temporary directory too), stopped when the test ends, panics included.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{Client as SyncClient, Relay};
use postgres::{Client, NoTls};
use sync_server::store::{conformance, PostgresStore, Store};

/// A private PostgreSQL instance; stopped (`pg_ctl stop -m immediate`) when dropped.
struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
}

/// Where `initdb` and `pg_ctl` are: on PATH, else Debian's place for them.
fn tool(name: &str) -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(path) = on_path.filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    // Debian keeps them out of PATH, one directory per major version: the newest.
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.is_file());
    versions.sort_by_key(|p| {
        p.components()
            .nth(3)
            .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().unwrap_or_else(|| {
        panic!("no {name}: install PostgreSQL (scripts/setup.sh installs Debian's postgresql)")
    })
}

/// Runs `program args` as the `postgres` user when this is root (PostgreSQL refuses to run
/// as root), as this user otherwise.
fn run_as_owner(program: &Path, args: &[&str]) -> std::process::Output {
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if root {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or("runuser");
        let mut c = Command::new(runuser);
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()))
}

impl Postgres {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let owner = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .unwrap();
            let uid: u32 = String::from_utf8_lossy(&owner.stdout)
                .trim()
                .parse()
                .expect(
                "running as root needs a `postgres` user (Debian's postgresql package makes it)",
            );
            std::os::unix::fs::chown(dir.path(), Some(uid), None).unwrap();
        }
        let data = dir.path().join("data");
        let data_arg = data.to_str().unwrap();
        let out = run_as_owner(
            &tool("initdb"),
            &[
                "-D",
                data_arg,
                "-U",
                "firebreak",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let log = dir.path().join("postgres.log");
        let out = run_as_owner(
            &tool("pg_ctl"),
            &[
                "-D",
                data_arg,
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        let started = Postgres { dir, port };
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        started
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://firebreak@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database. (On a thread of its own: the `postgres` client cannot run
    /// inside an async test's runtime.)
    fn database(&self, name: &str) -> String {
        let admin_url = self.url("postgres");
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut admin = Client::connect(&admin_url, NoTls).unwrap();
                    admin
                        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                        .unwrap();
                })
                .join()
                .unwrap()
        });
        self.url(name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        run_as_owner(
            &tool("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

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
