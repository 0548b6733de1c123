//! `sync-server verify --data DIR [--incident ID]`: walks each incident's record again
//! ([`crate::store::record`]) and reports the first record that was altered (its bytes or its
//! metadata), removed (a gap in the seqs, or a checkpoint past the last record) or reordered.
//! It opens the database read-only, so it can run beside a live relay.
//!
//! What it cannot see: records removed from the chain's end after the last checkpoint (the
//! chain is whole up to where it stops), and a record rewritten together with every chain
//! hash and checkpoint after it (anyone who can write the file can do that; copy checkpoint
//! heads elsewhere to pin them).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::incident_id::IncidentId;
use crate::store::record::{self, ChainHead};
use crate::store::{PostgresStore, SqliteStore, Store};

/// Records read at a time while walking.
const PAGE: usize = 1000;

/// `sync-server verify`'s flags.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "sync-server verify",
    about = "Walks each incident's hash-chained record and reports the first altered, removed or reordered record; exits 1 on any problem"
)]
pub struct VerifyArgs {
    /// The relay's data directory (holding `firebreak.sqlite3`).
    #[arg(long, env = "FIREBREAK_DATA", default_value = "./data")]
    pub data: PathBuf,

    /// Check only this incident.
    #[arg(long)]
    pub incident: Option<String>,

    /// Check the relay's PostgreSQL database (its `--database-url`) instead of the file in
    /// `--data`; read-only, in one snapshot.
    #[arg(long, env = "FIREBREAK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A chain that walked cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    /// Records present.
    pub records: u64,
    /// Where retention left the chain's start, if it dropped anything.
    pub base: Option<ChainHead>,
    /// The last record (or the base, if none is left).
    pub head: Option<ChainHead>,
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub what: String,
}

/// Walks the record of `incident`: `Ok(Err(problem))` for the first record that fails.
pub fn walk(store: &dyn Store, incident: &IncidentId) -> Result<Result<Walked, Problem>, Error> {
    let base = store.record_base(incident)?;
    let checkpoints: BTreeMap<u64, ChainHead> = store
        .checkpoints(incident)?
        .into_iter()
        .map(|c| (c.seq, c))
        .collect();
    let (mut expected, mut previous) = base.map_or((1, [0u8; 32]), |b| (b.seq + 1, b.chain_sha256));
    let mut head = base;
    if let Some(b) = base {
        if let Some(cp) = checkpoints.get(&b.seq) {
            if cp.chain_sha256 != b.chain_sha256 {
                return Ok(Err(Problem {
                    seq: b.seq,
                    what:
                        "the chain's base (where retention stopped) does not match its checkpoint"
                            .into(),
                }));
            }
        }
    }
    let mut count = 0u64;
    loop {
        let page = store.records(incident, expected - 1, PAGE)?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.seq != expected {
                return Ok(Err(Problem {
                    seq: expected,
                    what: format!("it is missing (the next stored record is {})", r.seq),
                }));
            }
            let update_sha256: [u8; 32] = Sha256::digest(&r.update).into();
            if update_sha256 != r.update_sha256 {
                return Ok(Err(Problem {
                    seq: r.seq,
                    what: "its update's bytes were changed (SHA-256 does not match)".into(),
                }));
            }
            let chain = record::chain_hash(
                &previous,
                r.seq,
                r.received_at_ms,
                r.invite.as_ref(),
                &update_sha256,
            );
            if chain != r.chain_sha256 {
                return Ok(Err(Problem {
                    seq: r.seq,
                    what: "its chain hash does not match: its metadata or an earlier record was changed, or records were removed or reordered".into(),
                }));
            }
            if let Some(cp) = checkpoints.get(&r.seq) {
                if cp.chain_sha256 != chain || cp.received_at_ms != r.received_at_ms {
                    return Ok(Err(Problem {
                        seq: r.seq,
                        what: "it does not match the checkpoint kept for it".into(),
                    }));
                }
            } else if record::is_checkpoint(r.seq) {
                return Ok(Err(Problem {
                    seq: r.seq,
                    what: "the checkpoint kept for it is missing".into(),
                }));
            }
            previous = chain;
            head = Some(r.head());
            expected = r.seq + 1;
            count += 1;
        }
    }
    if let Some((&seq, _)) = checkpoints.range(expected..).next() {
        return Ok(Err(Problem {
            seq: expected,
            what: format!(
                "it and the records after it are missing: a checkpoint names record {seq}"
            ),
        }));
    }
    Ok(Ok(Walked {
        records: count,
        base,
        head,
    }))
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The one-line summary of a chain that walked cleanly.
pub fn summary(incident: &IncidentId, walked: &Walked) -> String {
    let head = walked.head.map_or_else(
        || "none".to_owned(),
        |h| format!("{}…", &record::hex(&h.chain_sha256)[..12]),
    );
    let dropped = walked.base.map_or_else(String::new, |b| {
        format!(" (records 1–{} dropped by retention)", thousands(b.seq))
    });
    format!(
        "incident {incident}: {} records{dropped}, head {head}, ok",
        thousands(walked.records)
    )
}

/// Runs `sync-server verify`: prints one line per incident, and returns whether every chain
/// is whole.
pub fn run(args: &VerifyArgs) -> Result<bool, Error> {
    let store: Box<dyn Store> = match args.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Box::new(PostgresStore::open_read_only(url)?),
        None => {
            let store = SqliteStore::open_read_only(&args.data.join(crate::config::DATABASE_FILE))?;
            store.hold_snapshot()?;
            Box::new(store)
        }
    };
    let store = store.as_ref();
    let incidents = match &args.incident {
        Some(raw) => vec![IncidentId::parse(raw)?],
        None => store.recorded_incidents()?,
    };
    let mut whole = true;
    for incident in &incidents {
        match walk(store, incident)? {
            Ok(walked) => println!("{}", summary(incident, &walked)),
            Err(problem) => {
                whole = false;
                println!(
                    "incident {incident}: record {}: {}",
                    problem.seq, problem.what
                );
            }
        }
    }
    if incidents.is_empty() {
        println!("no incident has a record yet");
    }
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::{Sent, CHECKPOINT_EVERY};

    fn chain_of(records: u64) -> (tempfile::TempDir, std::path::PathBuf, IncidentId) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firebreak.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        let id = IncidentId::parse("walked").unwrap();
        let sent: Vec<Sent> = (0..records)
            .map(|n| Sent {
                update: n.to_be_bytes().to_vec(),
                invite: None,
            })
            .collect();
        store.append_recorded(&id, &sent, 5).unwrap();
        (dir, path, id)
    }

    fn problem(path: &std::path::Path, id: &IncidentId) -> Option<Problem> {
        let store = SqliteStore::open_read_only(path).unwrap();
        store.hold_snapshot().unwrap();
        walk(&store, id).unwrap().err()
    }

    #[test]
    fn a_clean_chain_walks_and_says_so_in_one_line() {
        let (_dir, path, id) = chain_of(CHECKPOINT_EVERY + 5);
        let store = SqliteStore::open_read_only(&path).unwrap();
        let walked = walk(&store, &id).unwrap().unwrap();
        assert_eq!(walked.records, CHECKPOINT_EVERY + 5);
        let line = summary(&id, &walked);
        assert!(
            line.starts_with("incident walked: 1,005 records, head "),
            "{line}"
        );
        assert!(line.ends_with("…, ok"), "{line}");
    }

    #[test]
    fn records_cut_from_the_end_before_a_checkpoint_are_found() {
        let (_dir, path, id) = chain_of(CHECKPOINT_EVERY + 5);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("DELETE FROM incident_record WHERE seq >= 990", [])
            .unwrap();
        let found = problem(&path, &id).unwrap();
        assert_eq!(found.seq, 990);
        assert!(found.what.contains("missing"), "{found:?}");
    }

    #[test]
    fn a_changed_or_missing_checkpoint_is_found() {
        let (_dir, path, id) = chain_of(CHECKPOINT_EVERY + 5);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE incident_record_checkpoint SET received_at_ms = 6",
            [],
        )
        .unwrap();
        assert_eq!(problem(&path, &id).unwrap().seq, CHECKPOINT_EVERY);
        conn.execute("DELETE FROM incident_record_checkpoint", [])
            .unwrap();
        let found = problem(&path, &id).unwrap();
        assert_eq!(found.seq, CHECKPOINT_EVERY);
        assert!(found.what.contains("checkpoint"), "{found:?}");
    }

    #[test]
    fn a_changed_invite_is_found_at_its_record() {
        let (_dir, path, id) = chain_of(10);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE incident_record SET invite = 'aaaaaaaaaaaaaaaa' WHERE seq = 7",
            [],
        )
        .unwrap();
        assert_eq!(problem(&path, &id).unwrap().seq, 7);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
