//! The document's roots, checked in as `tests/fixtures/roots.json` so the JavaScript tests
//! and tools read the model's own list instead of keeping a copy: this test fails when the
//! file is out of date, and writes it when run with `FIREBREAK_WRITE_FIXTURES=1`.

use incident::roots;
use std::path::PathBuf;

/// The list as JSON: one `{ "name", "kind" }` object per root, in the model's order.
fn roots_json() -> String {
    let rows: Vec<String> = roots()
        .iter()
        .map(|root| {
            assert!(
                root.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "root names are plain keys: {:?}",
                root.name
            );
            format!(
                "  {{ \"name\": \"{}\", \"kind\": \"{}\" }}",
                root.name,
                root.kind.key()
            )
        })
        .collect();
    format!("[\n{}\n]\n", rows.join(",\n"))
}

#[test]
fn the_checked_in_list_of_roots_is_the_models() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roots.json");
    let expected = roots_json();
    if std::env::var_os("FIREBREAK_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "{} is out of date; write it again with \
         `FIREBREAK_WRITE_FIXTURES=1 cargo test -p incident --test roots` and commit it.\n\
         expected:\n{expected}",
        path.display()
    );
}
