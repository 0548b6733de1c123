//! The storage conformance suite: the behaviour every backend ([`Store`] and [`Grants`])
//! must show, written once. A backend's tests call [`run_all`] with a factory that makes a
//! fresh, empty backend for each case (SQLite: a new file; PostgreSQL: a new database), so
//! cases never see each other's rows. The groups ([`run`], [`run_record`], [`run_grants`],
//! [`run_deletion`]) run several cases on one backend, for a backend that cannot be made
//! afresh cheaply.
//!
//! Built for the crate's own tests, and for integration tests and other crates with the
//! `conformance` feature.

use super::record::{Sent, CHECKPOINT_EVERY};
use super::*;
use crate::access::{Team, TeamShare, Token};
use wire::Access;

fn id(raw: &str) -> IncidentId {
    IncidentId::parse(raw).expect("valid test id")
}

pub fn run(store: &dyn Store) {
    unknown_incident_is_empty(store);
    append_keeps_order(store);
    incidents_are_isolated(store);
    compact_replaces_snapshot_and_empties_log(store);
    append_after_compact_goes_to_the_log(store);
    large_updates_round_trip(store);
    empty_append_is_a_no_op(store);
    compacting_through_a_position_keeps_the_rows_after_it(store);
    the_log_end_moves_past_every_append_even_after_compaction(store);
    attachments_are_kept_once_per_hash_within_the_incident_total(store);
}

/// One case of the suite: its name and what it checks.
type Case<T> = (&'static str, fn(&T));

/// Every case of the suite, each on a fresh backend from `fresh` (given the case's name, to
/// name a file or a database after). Prints the name of each case before it runs, so a
/// failure says which behaviour broke.
pub fn run_all<S: Store + Grants>(mut fresh: impl FnMut(&str) -> S) {
    let stores: &[Case<dyn Store>] = &[
        ("unknown_incident_is_empty", unknown_incident_is_empty),
        ("append_keeps_order", append_keeps_order),
        ("incidents_are_isolated", incidents_are_isolated),
        (
            "compact_replaces_snapshot_and_empties_log",
            compact_replaces_snapshot_and_empties_log,
        ),
        (
            "append_after_compact_goes_to_the_log",
            append_after_compact_goes_to_the_log,
        ),
        ("large_updates_round_trip", large_updates_round_trip),
        ("empty_append_is_a_no_op", empty_append_is_a_no_op),
        (
            "compacting_through_a_position_keeps_the_rows_after_it",
            compacting_through_a_position_keeps_the_rows_after_it,
        ),
        (
            "the_log_end_moves_past_every_append_even_after_compaction",
            the_log_end_moves_past_every_append_even_after_compaction,
        ),
        ("run_record", run_record),
        (
            "history_pages_keep_to_their_time_window",
            history_pages_keep_to_their_time_window,
        ),
        (
            "records_of_incidents_stay_apart",
            records_of_incidents_stay_apart,
        ),
        (
            "attachments_are_kept_once_per_hash_within_the_incident_total",
            attachments_are_kept_once_per_hash_within_the_incident_total,
        ),
    ];
    let grants: &[Case<dyn Grants>] = &[
        (
            "roles_change_and_the_last_owner_stays",
            roles_change_and_the_last_owner_stays,
        ),
        ("grants_round_trip", grants_round_trip),
        (
            "an_incident_is_registered_once",
            an_incident_is_registered_once,
        ),
        (
            "revoking_keeps_the_first_time_and_stays_in_its_incident",
            revoking_keeps_the_first_time_and_stays_in_its_incident,
        ),
        (
            "an_invite_binds_to_its_first_device",
            an_invite_binds_to_its_first_device,
        ),
        (
            "a_team_is_registered_once_and_apart_from_incidents",
            a_team_is_registered_once_and_apart_from_incidents,
        ),
        (
            "playbooks_are_shared_with_teams_and_unshared",
            playbooks_are_shared_with_teams_and_unshared,
        ),
        (
            "deleting_a_playbook_ends_its_team_shares",
            deleting_a_playbook_ends_its_team_shares,
        ),
    ];
    for (name, case) in stores {
        eprintln!("conformance: {name}");
        case(&fresh(name));
    }
    for (name, case) in grants {
        eprintln!("conformance: {name}");
        case(&fresh(name));
    }
    eprintln!("conformance: run_deletion");
    run_deletion(&fresh("run_deletion"));
}

/// History pages hold only the records received in their window, in seq order, and a
/// page goes on after the last seq of the one before.
pub fn history_pages_keep_to_their_time_window(store: &dyn Store) {
    let inc = id("pages");
    let sent = |b: u8| Sent {
        update: vec![b; b as usize],
        invite: None,
    };
    store
        .append_recorded(&inc, &[sent(1), sent(2)], 10)
        .unwrap();
    store.append_recorded(&inc, &[sent(3)], 20).unwrap();
    store
        .append_recorded(&inc, &[sent(4), sent(5)], 30)
        .unwrap();
    let window = store.record_page(&inc, 20, 30, 0, 10).unwrap();
    assert_eq!(
        window
            .iter()
            .map(|m| (m.seq, m.received_at_ms, m.size))
            .collect::<Vec<_>>(),
        vec![(3, 20, 3), (4, 30, 4), (5, 30, 5)]
    );
    let first = store.record_page(&inc, 0, 100, 0, 2).unwrap();
    assert_eq!(first.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    let next = store.record_page(&inc, 0, 100, 2, 2).unwrap();
    assert_eq!(next.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert!(store.record_page(&inc, 31, 100, 0, 10).unwrap().is_empty());
    let records = store.records(&inc, 3, 10).unwrap();
    assert_eq!(
        records.iter().map(|r| r.update.clone()).collect::<Vec<_>>(),
        vec![vec![4; 4], vec![5; 5]]
    );
}

/// Each incident's record numbers and chains on its own; retention drops only old records.
pub fn records_of_incidents_stay_apart(store: &dyn Store) {
    let (a, b) = (id("record-a"), id("record-b"));
    let sent = |b: u8| Sent {
        update: vec![b],
        invite: None,
    };
    store.append_recorded(&a, &[sent(1), sent(2)], 10).unwrap();
    store.append_recorded(&b, &[sent(3)], 50).unwrap();
    assert_eq!(
        store
            .records(&b, 0, 10)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(store.drop_records_before(20).unwrap(), 2);
    assert_eq!(store.record_base(&a).unwrap().unwrap().seq, 2);
    assert_eq!(store.record_base(&b).unwrap(), None);
    assert_eq!(store.records(&b, 0, 10).unwrap().len(), 1);
    assert!(crate::verify::walk(store, &b).unwrap().is_ok());
    assert!(crate::verify::walk(store, &a).unwrap().is_ok());
    assert_eq!(store.recorded_incidents().unwrap(), vec![a, b]);
}

/// The record: seqs, authors and chain, untouched by compaction, trimmed by retention
/// from the start only, and deleted with its incident.
pub fn run_record(store: &dyn Store) {
    let inc = id("recorded");
    let alice = crate::access::InviteId::parse("aaaaaaaaaaaaaaaa");
    assert!(alice.is_some(), "test invite id parses");
    let sent = |bytes: Vec<u8>| Sent {
        update: bytes,
        invite: alice.clone(),
    };
    store
        .append_recorded(&inc, &[sent(vec![1]), sent(vec![2])], 100)
        .unwrap();
    store.compact(&inc, &[1, 2]).unwrap();
    store.append(&inc, &[vec![3]]).unwrap();
    let records = store.records(&inc, 0, 10).unwrap();
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(records[0].invite, alice);
    assert_eq!(records[2].invite, None);
    assert_eq!(records[1].update, vec![2]);
    assert_eq!(records[1].received_at_ms, 100);
    let page = store.record_page(&inc, 0, 100, 1, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!((page[0].seq, page[0].size), (2, 1));
    let walked = crate::verify::walk(store, &inc).unwrap().unwrap();
    assert_eq!(walked.records, 3);

    // A checkpoint every CHECKPOINT_EVERY records.
    let many: Vec<Sent> = (0..CHECKPOINT_EVERY).map(|i| sent(vec![i as u8])).collect();
    store.append_recorded(&inc, &many, 200).unwrap();
    let checkpoints = store.checkpoints(&inc).unwrap();
    assert_eq!(checkpoints.len(), 1);
    assert_eq!(checkpoints[0].seq, CHECKPOINT_EVERY);

    // Retention drops the start; the rest still walks, and the chain goes on from it.
    assert_eq!(store.drop_records_before(150).unwrap(), 2);
    assert_eq!(store.record_base(&inc).unwrap().unwrap().seq, 2);
    store.append_recorded(&inc, &[sent(vec![9])], 300).unwrap();
    let walked = crate::verify::walk(store, &inc).unwrap().unwrap();
    assert_eq!(walked.records, CHECKPOINT_EVERY + 2);
    assert_eq!(walked.head.unwrap().seq, CHECKPOINT_EVERY + 4);
    assert!(store.recorded_incidents().unwrap().contains(&inc));

    // An incident stored before the record existed starts its record with what it held.
    let older = id("from-before-the-record");
    store.compact(&older, &[7, 7]).unwrap();
    store
        .append_recorded(&older, &[sent(vec![8])], 500)
        .unwrap();
    let records = store.records(&older, 0, 10).unwrap();
    assert_eq!(
        records
            .iter()
            .map(|r| (r.seq, r.invite.clone(), r.update.clone()))
            .collect::<Vec<_>>(),
        vec![(1, None, vec![7, 7]), (2, alice.clone(), vec![8])]
    );
}

/// The conformance suite for [`Grants`] backends.
pub fn run_grants(store: &dyn Grants) {
    roles_change_and_the_last_owner_stays(store);
    grants_round_trip(store);
    an_incident_is_registered_once(store);
    revoking_keeps_the_first_time_and_stays_in_its_incident(store);
    an_invite_binds_to_its_first_device(store);
    a_team_is_registered_once_and_apart_from_incidents(store);
    playbooks_are_shared_with_teams_and_unshared(store);
    deleting_a_playbook_ends_its_team_shares(store);
}

fn team(raw: &str, name: &str, at: i64) -> Team {
    Team {
        id: id(raw),
        name: name.into(),
        created_at_ms: at,
    }
}

fn share(playbook: &str, team: &str, name: &str, at: i64) -> TeamShare {
    TeamShare {
        playbook: id(playbook),
        team: id(team),
        playbook_name: name.into(),
        shared_by: "Alice".into(),
        shared_at_ms: at,
    }
}

/// A team's id is taken once, by a team or an incident; its members are grants of its id.
pub fn a_team_is_registered_once_and_apart_from_incidents(store: &dyn Grants) {
    let ir = team("team-ir", "IR team", 5);
    let owner = Grant::new(&token(), &ir.id, "Alice", Access::Owner, 5);
    assert_eq!(store.team(&ir.id).unwrap(), None);
    store.register_team(&ir, &owner).unwrap();
    assert_eq!(store.team(&ir.id).unwrap(), Some(ir.clone()));
    assert_eq!(store.grants(&ir.id).unwrap(), vec![owner.clone()]);

    let again = Grant::new(&token(), &ir.id, "Mallory", Access::Owner, 6);
    assert!(matches!(
        store.register_team(&team("team-ir", "Other", 6), &again),
        Err(Error::IncidentExists)
    ));
    assert!(matches!(
        store.register_incident(&again),
        Err(Error::IncidentExists)
    ));
    assert_eq!(store.team(&ir.id).unwrap(), Some(ir.clone()));
    assert_eq!(store.grants(&ir.id).unwrap(), vec![owner]);

    // An incident's id (or a deleted one's) is no team's.
    let inc = id("team-clash");
    store
        .register_incident(&Grant::new(&token(), &inc, "Bob", Access::Owner, 7))
        .unwrap();
    let squatter = Grant::new(&token(), &inc, "Mallory", Access::Owner, 8);
    assert!(matches!(
        store.register_team(&team("team-clash", "Clash", 8), &squatter),
        Err(Error::IncidentExists)
    ));
    assert_eq!(store.team(&inc).unwrap(), None);
    assert_eq!(store.grants(&inc).unwrap().len(), 1);
    store.delete_incident(&inc, 9).unwrap();
    assert!(matches!(
        store.register_team(&team("team-clash", "Clash", 10), &squatter),
        Err(Error::IncidentExists)
    ));

    // Members are invited, bound and revoked as invites are.
    let dana = Grant::new(&token(), &ir.id, "Dana", Access::Viewer, 11);
    store.add_grant(&dana).unwrap();
    assert_eq!(store.grants(&ir.id).unwrap().len(), 2);
    let revoked = store.revoke(&ir.id, &dana.invite, 12).unwrap().unwrap();
    assert_eq!(revoked.revoked_at_ms, Some(12));
}

/// Sharing a playbook with a team is one row per (playbook, team): sharing again replaces
/// it, unsharing removes only it.
pub fn playbooks_are_shared_with_teams_and_unshared(store: &dyn Grants) {
    for (raw, name) in [("team-a", "A"), ("team-b", "B")] {
        let t = team(raw, name, 1);
        store
            .register_team(&t, &Grant::new(&token(), &t.id, "Alice", Access::Owner, 1))
            .unwrap();
    }
    let (a, b) = (id("team-a"), id("team-b"));
    let (p1, p2) = (id("playbook-1"), id("playbook-2"));
    assert_eq!(store.team_share(&p1, &a).unwrap(), None);
    store
        .share_with_team(&share("playbook-1", "team-a", "Ransomware", 10))
        .unwrap();
    store
        .share_with_team(&share("playbook-2", "team-a", "Phishing", 20))
        .unwrap();
    store
        .share_with_team(&share("playbook-1", "team-b", "Ransomware", 30))
        .unwrap();
    assert_eq!(
        store.team_share(&p1, &a).unwrap(),
        Some(share("playbook-1", "team-a", "Ransomware", 10))
    );
    assert_eq!(store.team_share(&p2, &b).unwrap(), None);
    let names = |shares: Vec<TeamShare>| {
        shares
            .into_iter()
            .map(|s| (s.playbook.as_str().to_owned(), s.team.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    let pair = |p: &str, t: &str| (p.to_owned(), t.to_owned());
    assert_eq!(
        names(store.playbooks_of_team(&a).unwrap()),
        vec![pair("playbook-1", "team-a"), pair("playbook-2", "team-a")]
    );
    assert_eq!(
        names(store.shares_of_playbook(&p1).unwrap()),
        vec![pair("playbook-1", "team-a"), pair("playbook-1", "team-b")]
    );

    // Shared again: one row, the new name and time.
    store
        .share_with_team(&share("playbook-1", "team-a", "Ransomware v2", 40))
        .unwrap();
    assert_eq!(
        names(store.playbooks_of_team(&a).unwrap()),
        vec![pair("playbook-2", "team-a"), pair("playbook-1", "team-a")]
    );
    assert_eq!(
        store.team_share(&p1, &a).unwrap().unwrap().playbook_name,
        "Ransomware v2"
    );

    assert!(store.unshare_from_team(&p1, &a).unwrap());
    assert!(!store.unshare_from_team(&p1, &a).unwrap());
    assert_eq!(store.team_share(&p1, &a).unwrap(), None);
    assert_eq!(
        names(store.shares_of_playbook(&p1).unwrap()),
        vec![pair("playbook-1", "team-b")]
    );
    assert_eq!(
        names(store.playbooks_of_team(&a).unwrap()),
        vec![pair("playbook-2", "team-a")]
    );
}

/// A deleted playbook is shared with nobody; the team stays.
pub fn deleting_a_playbook_ends_its_team_shares(store: &dyn Grants) {
    let t = team("team-del", "Del", 1);
    store
        .register_team(&t, &Grant::new(&token(), &t.id, "Alice", Access::Owner, 1))
        .unwrap();
    let (gone, kept) = (id("playbook-gone"), id("playbook-kept"));
    store
        .share_with_team(&share("playbook-gone", "team-del", "Gone", 2))
        .unwrap();
    store
        .share_with_team(&share("playbook-kept", "team-del", "Kept", 3))
        .unwrap();
    store.delete_incident(&gone, 4).unwrap();
    assert_eq!(store.team_share(&gone, &t.id).unwrap(), None);
    assert_eq!(store.shares_of_playbook(&gone).unwrap(), vec![]);
    assert_eq!(store.shares_of_playbook(&kept).unwrap().len(), 1);
    assert_eq!(
        store.playbooks_of_team(&t.id).unwrap(),
        vec![share("playbook-kept", "team-del", "Kept", 3)]
    );
    assert_eq!(store.team(&t.id).unwrap(), Some(t.clone()));
    assert_eq!(store.grants(&t.id).unwrap().len(), 1);
}

pub fn roles_change_and_the_last_owner_stays(store: &dyn Grants) {
    let inc = id("coowners");
    let alice = Grant::new(&token(), &inc, "Alice", Access::Owner, 1);
    let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 2);
    store.register_incident(&alice).unwrap();
    store.add_grant(&bob).unwrap();
    assert!(matches!(
        store.set_role(&inc, &alice.invite, Access::Viewer, 5),
        Err(Error::LastOwner)
    ));
    let promoted = store
        .set_role(&inc, &bob.invite, Access::Owner, 5)
        .unwrap()
        .unwrap();
    assert_eq!(promoted.role, Access::Owner);
    let demoted = store
        .set_role(&inc, &alice.invite, Access::Editor, 6)
        .unwrap()
        .unwrap();
    assert_eq!(demoted.role, Access::Editor);
    assert!(matches!(
        store.set_role(&inc, &bob.invite, Access::Editor, 7),
        Err(Error::LastOwner)
    ));
    // A revoked owner is no owner: Bob stays the last one.
    store
        .set_role(&inc, &alice.invite, Access::Owner, 8)
        .unwrap();
    store.revoke(&inc, &alice.invite, 9).unwrap();
    assert!(matches!(
        store.set_role(&inc, &bob.invite, Access::Viewer, 10),
        Err(Error::LastOwner)
    ));
    assert_eq!(
        store
            .set_role(&id("elsewhere"), &bob.invite, Access::Viewer, 10)
            .unwrap(),
        None
    );
    assert_eq!(store.revoked_by(&alice.invite).unwrap(), None);
    store.set_revoked_by(&alice.invite, "Bob").unwrap();
    assert_eq!(
        store.revoked_by(&alice.invite).unwrap().as_deref(),
        Some("Bob")
    );
}

pub fn an_invite_binds_to_its_first_device(store: &dyn Grants) {
    let inc = id("bind");
    let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 1);
    store.add_grant(&bob).unwrap();
    assert_eq!(store.grant(&bob.invite).unwrap().unwrap().device_hash, None);
    let (first, second) = ([1u8; 32], [2u8; 32]);
    assert_eq!(store.bind_device(&bob.invite, &first).unwrap(), Some(first));
    assert_eq!(
        store.bind_device(&bob.invite, &second).unwrap(),
        Some(first)
    );
    assert_eq!(store.bind_device(&token().invite, &first).unwrap(), None);
    store.other_device_tried(&bob.invite, 7).unwrap();
    store.other_device_tried(&bob.invite, 9).unwrap();
    let stored = store.grant(&bob.invite).unwrap().unwrap();
    assert_eq!(stored.device_hash, Some(first));
    assert_eq!(stored.other_device_attempts, 2);
    assert_eq!(stored.other_device_last_at_ms, Some(9));
    assert_eq!(store.grants(&inc).unwrap(), vec![stored]);
}

/// For backends that hold documents and grants together: deleting an incident takes
/// everything of it, touches nothing of another, and nothing can bring it back.
pub fn run_deletion<S: Store + Grants>(store: &S) {
    let gone = id("deleted-one");
    let kept = id("kept-one");
    let owner = Grant::new(&token(), &gone, "A", Access::Owner, 1);
    let bob = Grant::new(&token(), &gone, "Bob", Access::Editor, 2);
    let other = Grant::new(&token(), &kept, "C", Access::Owner, 3);
    store.register_incident(&owner).unwrap();
    store.add_grant(&bob).unwrap();
    store.register_incident(&other).unwrap();
    store.append(&gone, &[vec![1]]).unwrap();
    store.compact(&gone, &[1, 2]).unwrap();
    store.append(&gone, &[vec![3]]).unwrap();
    store.append(&kept, &[vec![9]]).unwrap();
    let file = attachment(b"evidence", "Bob");
    if let Some(files) = store.blobs() {
        for incident in [&gone, &kept] {
            let put = files.put_blob(incident, &file, b"evidence", 1000).unwrap();
            assert_eq!(put, blobs::Put::Added);
        }
    }
    assert_eq!(store.deleted_at(&gone).unwrap(), None);

    store.delete_incident(&gone, 50).unwrap();
    assert!(store.load(&gone).unwrap().is_empty());
    assert_eq!(store.grants(&gone).unwrap(), vec![]);
    assert_eq!(store.grant(&bob.invite).unwrap(), None);
    assert_eq!(store.deleted_at(&gone).unwrap(), Some(50));
    store.delete_incident(&gone, 60).unwrap();
    assert_eq!(store.deleted_at(&gone).unwrap(), Some(50));

    // A room that had not stopped yet writes nothing; the id cannot be registered again.
    store.append(&gone, &[vec![4]]).unwrap();
    store.compact(&gone, &[1, 2, 3, 4]).unwrap();
    assert!(store.load(&gone).unwrap().is_empty());
    let again = Grant::new(&token(), &gone, "Mallory", Access::Owner, 70);
    assert!(matches!(
        store.register_incident(&again),
        Err(Error::IncidentDeleted)
    ));
    assert_eq!(store.grants(&gone).unwrap(), vec![]);

    assert_eq!(store.records(&gone, 0, 10).unwrap(), vec![]);
    let recorded = store.recorded_incidents().unwrap();
    assert!(recorded.contains(&kept) && !recorded.contains(&gone));
    assert_eq!(store.load(&kept).unwrap().updates, vec![vec![9]]);
    assert_eq!(store.grants(&kept).unwrap(), vec![other]);
    assert_eq!(store.deleted_at(&kept).unwrap(), None);

    // The deleted incident's attachments went with it, and none can be added after.
    if let Some(files) = store.blobs() {
        assert_eq!(files.blob(&gone, &file.sha256).unwrap(), None);
        assert_eq!(files.blob_bytes(&gone).unwrap(), 0);
        let late = files.put_blob(&gone, &file, b"evidence", 1000).unwrap();
        assert_eq!(late, blobs::Put::IncidentDeleted);
        assert_eq!(files.blob(&gone, &file.sha256).unwrap(), None);
        let kept_file = files.blob(&kept, &file.sha256).unwrap();
        assert_eq!(kept_file, Some((file.clone(), b"evidence".to_vec())));
    }
}

/// An attachment's metadata as the relay makes it for `bytes`.
fn attachment(bytes: &[u8], by: &str) -> blobs::BlobMeta {
    use sha2::Digest;
    blobs::BlobMeta {
        sha256: sha2::Sha256::digest(bytes).into(),
        content_type: "text/plain".into(),
        size: bytes.len() as u64,
        added_by: by.into(),
        added_at_ms: 1_700_000_000_123,
    }
}

/// A backend that keeps attachments keeps each hash once per incident (the first upload's
/// metadata), returns the bytes exactly, keeps incidents apart, and refuses a file that
/// would take an incident past its total without storing anything.
pub fn attachments_are_kept_once_per_hash_within_the_incident_total(store: &dyn Store) {
    let Some(files) = store.blobs() else {
        return;
    };
    let inc = id("with-files");
    let other = id("other-files");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let first = attachment(&big, "Ana");
    assert_eq!(files.blob(&inc, &first.sha256).unwrap(), None);
    assert_eq!(files.blob_meta(&inc, &first.sha256).unwrap(), None);
    assert_eq!(
        files.put_blob(&inc, &first, &big, 4_000_000).unwrap(),
        blobs::Put::Added
    );
    let again = blobs::BlobMeta {
        added_by: "Ben".into(),
        added_at_ms: 1_800_000_000_000,
        ..first.clone()
    };
    assert_eq!(
        files.put_blob(&inc, &again, &big, 4_000_000).unwrap(),
        blobs::Put::AlreadyThere
    );
    assert_eq!(
        files.blob(&inc, &first.sha256).unwrap(),
        Some((first.clone(), big.clone()))
    );
    assert_eq!(
        files.blob_meta(&inc, &first.sha256).unwrap(),
        Some(first.clone())
    );
    assert_eq!(files.blob_bytes(&inc).unwrap(), 3_000_000);

    // Another incident does not see it, and has a total of its own.
    assert_eq!(files.blob(&other, &first.sha256).unwrap(), None);
    assert_eq!(files.blob_bytes(&other).unwrap(), 0);

    // 3 MB stored; 1.5 MB more would pass 4 MB: refused, nothing stored.
    let second_bytes = vec![7u8; 1_500_000];
    let second = attachment(&second_bytes, "Ana");
    assert_eq!(
        files
            .put_blob(&inc, &second, &second_bytes, 4_000_000)
            .unwrap(),
        blobs::Put::OverIncidentLimit { stored: 3_000_000 }
    );
    assert_eq!(files.blob_meta(&inc, &second.sha256).unwrap(), None);
    assert_eq!(files.blob_bytes(&inc).unwrap(), 3_000_000);
    assert_eq!(
        files
            .put_blob(&other, &second, &second_bytes, 4_000_000)
            .unwrap(),
        blobs::Put::Added
    );
}

fn token() -> Token {
    Token::generate().expect("random source")
}

pub fn grants_round_trip(store: &dyn Grants) {
    let inc = id("grants");
    let owner = Grant::new(&token(), &inc, "Alice", Access::Owner, 10);
    let bob = Grant {
        expires_at_ms: Some(99),
        invited_by: Some("Alice".into()),
        ..Grant::new(&token(), &inc, "Bob", Access::Viewer, 20)
    };
    let carol = Grant::new(&token(), &inc, "Carol", Access::Editor, 30);
    store.register_incident(&owner).unwrap();
    store.add_grant(&bob).unwrap();
    store.add_grant(&carol).unwrap();
    store
        .add_grant(&Grant::new(
            &token(),
            &id("other"),
            "Dan",
            Access::Editor,
            5,
        ))
        .unwrap();
    assert_eq!(store.grant(&bob.invite).unwrap(), Some(bob.clone()));
    assert_eq!(store.grant(&token().invite).unwrap(), None);
    assert_eq!(
        store.grants(&inc).unwrap(),
        vec![owner.clone(), bob.clone(), carol]
    );
    store.touch(&bob.invite, 40).unwrap();
    assert_eq!(
        store.grant(&bob.invite).unwrap().unwrap().last_seen_at_ms,
        Some(40)
    );
}

pub fn an_incident_is_registered_once(store: &dyn Grants) {
    let inc = id("register-once");
    store
        .register_incident(&Grant::new(&token(), &inc, "A", Access::Owner, 1))
        .unwrap();
    let again = store.register_incident(&Grant::new(&token(), &inc, "B", Access::Owner, 2));
    assert!(matches!(again, Err(Error::IncidentExists)));
    assert_eq!(store.grants(&inc).unwrap().len(), 1);
}

pub fn revoking_keeps_the_first_time_and_stays_in_its_incident(store: &dyn Grants) {
    let inc = id("revoke");
    let bob = Grant::new(&token(), &inc, "Bob", Access::Editor, 1);
    store.add_grant(&bob).unwrap();
    assert_eq!(
        store.revoke(&id("elsewhere"), &bob.invite, 5).unwrap(),
        None
    );
    assert_eq!(
        store.grant(&bob.invite).unwrap().unwrap().revoked_at_ms,
        None
    );
    let revoked = store.revoke(&inc, &bob.invite, 5).unwrap().unwrap();
    assert_eq!(revoked.revoked_at_ms, Some(5));
    let again = store.revoke(&inc, &bob.invite, 9).unwrap().unwrap();
    assert_eq!(again.revoked_at_ms, Some(5));
    assert_eq!(store.revoke(&inc, &token().invite, 9).unwrap(), None);
}

pub fn unknown_incident_is_empty(store: &dyn Store) {
    assert_eq!(
        store.load(&id("never-written")).unwrap(),
        StoredIncident::default()
    );
}

pub fn append_keeps_order(store: &dyn Store) {
    let inc = id("order");
    store.append(&inc, &[vec![1], vec![2, 2]]).unwrap();
    store.append(&inc, &[vec![3]]).unwrap();
    let loaded = store.load(&inc).unwrap();
    assert_eq!(loaded.snapshot, None);
    assert_eq!(loaded.updates, vec![vec![1], vec![2, 2], vec![3]]);
}

pub fn incidents_are_isolated(store: &dyn Store) {
    store.append(&id("iso-a"), &[vec![10]]).unwrap();
    store.append(&id("iso-b"), &[vec![20]]).unwrap();
    store.compact(&id("iso-a"), &[11]).unwrap();
    assert_eq!(store.load(&id("iso-b")).unwrap().updates, vec![vec![20]]);
    assert_eq!(store.load(&id("iso-b")).unwrap().snapshot, None);
    assert_eq!(store.load(&id("iso-a")).unwrap().snapshot, Some(vec![11]));
}

pub fn compact_replaces_snapshot_and_empties_log(store: &dyn Store) {
    let inc = id("compact");
    store.append(&inc, &[vec![1], vec![2]]).unwrap();
    store.compact(&inc, &[1, 2]).unwrap();
    assert_eq!(
        store.load(&inc).unwrap(),
        StoredIncident {
            snapshot: Some(vec![1, 2]),
            updates: vec![]
        }
    );
    store.compact(&inc, &[1, 2, 3]).unwrap();
    assert_eq!(store.load(&inc).unwrap().snapshot, Some(vec![1, 2, 3]));
}

pub fn append_after_compact_goes_to_the_log(store: &dyn Store) {
    let inc = id("after-compact");
    store.compact(&inc, &[9]).unwrap();
    store.append(&inc, &[vec![10]]).unwrap();
    let loaded = store.load(&inc).unwrap();
    assert_eq!(loaded.snapshot, Some(vec![9]));
    assert_eq!(loaded.updates, vec![vec![10]]);
}

pub fn large_updates_round_trip(store: &dyn Store) {
    let inc = id("large");
    let big: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    store.append(&inc, std::slice::from_ref(&big)).unwrap();
    assert_eq!(store.load(&inc).unwrap().updates, vec![big]);
}

pub fn compacting_through_a_position_keeps_the_rows_after_it(store: &dyn Store) {
    let inc = id("compact-through");
    store.append(&inc, &[vec![1], vec![2]]).unwrap();
    let end = store.log_end(&inc).unwrap();
    // Appended while the snapshot of [1, 2] was being written.
    store.append(&inc, &[vec![3]]).unwrap();
    store.append(&inc, &[vec![4]]).unwrap();
    store.compact_through(&inc, &[1, 2], end).unwrap();
    assert_eq!(
        store.load(&inc).unwrap(),
        StoredIncident {
            snapshot: Some(vec![1, 2]),
            updates: vec![vec![3], vec![4]]
        }
    );
    // Again, through everything: the log empties.
    let end = store.log_end(&inc).unwrap();
    store.compact_through(&inc, &[1, 2, 3, 4], end).unwrap();
    assert_eq!(store.load(&inc).unwrap().updates, Vec::<Vec<u8>>::new());
    // A stale position drops nothing new.
    store.append(&inc, &[vec![5]]).unwrap();
    store.compact_through(&inc, &[1, 2, 3, 4], end).unwrap();
    assert_eq!(store.load(&inc).unwrap().updates, vec![vec![5]]);
    // Other incidents keep their logs.
    store
        .append(&id("compact-through-other"), &[vec![9]])
        .unwrap();
    let end = store.log_end(&inc).unwrap();
    store.compact_through(&inc, &[1, 2, 3, 4, 5], end).unwrap();
    assert_eq!(
        store.load(&id("compact-through-other")).unwrap().updates,
        vec![vec![9]]
    );
}

pub fn the_log_end_moves_past_every_append_even_after_compaction(store: &dyn Store) {
    let inc = id("log-end");
    let empty = store.log_end(&inc).unwrap();
    store.append(&inc, &[vec![1]]).unwrap();
    let one = store.log_end(&inc).unwrap();
    assert!(one > empty);
    store.compact(&inc, &[1]).unwrap();
    store.append(&inc, &[vec![2]]).unwrap();
    let two = store.log_end(&inc).unwrap();
    assert!(two > one);
    // A position read before compaction still keeps what came after it.
    store.append(&inc, &[vec![3]]).unwrap();
    store.compact_through(&inc, &[1, 2], two).unwrap();
    assert_eq!(store.load(&inc).unwrap().updates, vec![vec![3]]);
}

pub fn empty_append_is_a_no_op(store: &dyn Store) {
    let inc = id("empty-append");
    store.append(&inc, &[]).unwrap();
    assert!(store.load(&inc).unwrap().is_empty());
}
