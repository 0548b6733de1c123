//! Writes the seed corpus for `room_frames`: real protocol traffic, so the fuzzer starts
//! from valid sync, update and awareness messages instead of discovering them.
//! `cargo run --manifest-path sync-server/fuzz/Cargo.toml --example seeds -- DIR`

use std::collections::HashMap;

use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, Map, ReadTxn, StateVector, Text, Transact};

/// One record of the fuzz input: `[peer, length (u16 LE), frame]`.
fn record(peer: u8, frame: &[u8]) -> Vec<u8> {
    let len = u16::try_from(frame.len()).expect("seed frames are small");
    let mut out = vec![peer];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(frame);
    out
}

fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

fn awareness(client: u64, clock: u32, json: &str) -> Vec<u8> {
    let mut clients = HashMap::new();
    clients.insert(
        ClientID::new(client),
        AwarenessUpdateEntry {
            clock,
            json: json.into(),
        },
    );
    Message::Awareness(AwarenessUpdate { clients }).encode_v1()
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: seeds DIR");
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    let editor = Doc::with_client_id(1);
    let viewer = Doc::with_client_id(2);
    let step1 = |doc: &Doc| {
        Message::Sync(SyncMessage::SyncStep1(doc.transact().state_vector())).encode_v1()
    };

    let typed = {
        let text = editor.get_or_insert_text("summary");
        let mut txn = editor.transact_mut();
        text.insert(&mut txn, 0, "Phishing wave against finance");
        txn.encode_update_v1()
    };
    let deleted = {
        let text = editor.get_or_insert_text("summary");
        let mut txn = editor.transact_mut();
        text.remove_range(&mut txn, 0, 9);
        txn.encode_update_v1()
    };
    let event = {
        let timeline = editor.get_or_insert_map("timeline");
        let mut txn = editor.transact_mut();
        timeline.insert(&mut txn, "ev-1", "beacon to 203.0.113.9");
        txn.encode_update_v1()
    };
    let whole = editor
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let viewer_write = {
        let text = viewer.get_or_insert_text("summary");
        let mut txn = viewer.transact_mut();
        text.insert(&mut txn, 0, "viewer");
        txn.encode_update_v1()
    };
    let mut batched = step1(&editor);
    batched.extend(awareness(1, 1, r#"{"user":{"name":"Ann"}}"#));

    let seeds: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "sync-handshake",
            vec![record(0, &step1(&editor)), record(1, &step1(&viewer))],
        ),
        (
            "edit-and-delete",
            vec![
                record(0, &update(typed.clone())),
                record(0, &update(deleted.clone())),
                record(1, &step1(&viewer)),
            ],
        ),
        ("timeline-event", vec![record(1, &update(event))]),
        (
            "step2-whole-state",
            vec![record(
                0,
                &Message::Sync(SyncMessage::SyncStep2(whole.clone())).encode_v1(),
            )],
        ),
        (
            "viewer-echo-then-write",
            vec![
                record(0, &update(whole.clone())),
                record(2, &Message::Sync(SyncMessage::SyncStep2(whole)).encode_v1()),
                record(2, &update(viewer_write)),
            ],
        ),
        (
            "awareness-and-query",
            vec![
                record(1, &awareness(7, 1, r#"{"user":{"name":"Bo"}}"#)),
                record(1, &awareness(7, 2, "null")),
                record(2, &Message::AwarenessQuery.encode_v1()),
            ],
        ),
        ("batched-frame", vec![record(0, &batched)]),
        (
            "out-of-order",
            vec![record(1, &update(deleted)), record(0, &update(typed))],
        ),
    ];
    for (name, records) in seeds {
        let bytes: Vec<u8> = records.concat();
        std::fs::write(format!("{dir}/{name}"), bytes).expect("write seed");
    }
    // Sanity: the editor's document is what the seeds describe.
    let summary = editor.get_or_insert_text("summary");
    assert_eq!(
        summary.get_string(&editor.transact()),
        "wave against finance"
    );
}
