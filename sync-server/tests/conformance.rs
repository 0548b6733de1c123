//! The storage conformance suite through the crate's public API, as another backend's tests
//! would run it: on SQLite, a fresh file per case.

use sync_server::store::{conformance, SqliteStore};

#[test]
fn sqlite_passes_the_conformance_suite_through_the_public_api() {
    let dir = tempfile::tempdir().unwrap();
    conformance::run_all(|case| {
        SqliteStore::open(&dir.path().join(format!("{case}.sqlite3"))).unwrap()
    });
}
