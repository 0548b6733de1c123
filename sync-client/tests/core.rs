//! The machine's decisions, driven with bytes and a fake clock.

mod common;

use common::*;
use sync_client::{Action, Close, Connection, Event, Peer, MAX_BACKOFF_MS, RENEW_MS, STALE_MS};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Text, Transact};

fn step1s(actions: &[Action]) -> usize {
    sent(actions)
        .iter()
        .filter(|m| matches!(m, Message::Sync(SyncMessage::SyncStep1(_))))
        .count()
}

fn updates(actions: &[Action]) -> usize {
    sent(actions)
        .iter()
        .filter(|m| matches!(m, Message::Sync(SyncMessage::Update(_))))
        .count()
}

/// The relay's SyncStep2 answering a checkpoint (nothing new for us).
fn ack() -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(yrs::Update::new().encode_v1())).encode_v1()
}

#[test]
fn starting_connects_and_the_first_exchange_confirms_nothing() {
    let mut h = Harness::new(1, true);
    let start = h.on(Event::Start);
    assert_eq!(
        start,
        vec![
            Action::Connection(Connection::Connecting),
            Action::Connect,
            Action::Timer(Some(RENEW_MS)),
        ]
    );
    let opened = h.on(Event::Opened);
    let messages = sent(&opened);
    assert!(matches!(
        messages[0],
        Message::Sync(SyncMessage::SyncStep1(_))
    ));
    assert!(matches!(messages[1], Message::Awareness(_)));
    assert_eq!(messages.len(), 2);

    // The relay greets with its state vector, then answers ours.
    let relay = Doc::new();
    let answer = h.on(Event::Received(&step1(&relay)));
    // Nothing of ours to confirm: no second SyncStep1, which the relay would answer with the
    // whole document again (our state vector is still empty while its first answer is on
    // the way).
    assert_eq!(
        step1s(&answer),
        0,
        "no checkpoint when nothing is unconfirmed"
    );
    let synced = h.on(Event::Received(&step2(&relay, &h.device.doc)));
    assert!(synced.contains(&Action::Connection(Connection::Synced)));
    assert!(synced.contains(&Action::Problem(None)));
    assert!(!synced.iter().any(|a| matches!(a, Action::Confirmed(_))));
}

#[test]
fn each_answer_confirms_the_changes_sent_before_its_step1() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    assert_eq!(h.confirmed, 0);

    let first = [h.device.edit("a"), h.device.edit("b")];
    let actions = h.on(Event::LocalChanges(&first));
    assert_eq!(updates(&actions), 2);
    assert_eq!(step1s(&actions), 1);
    // One more change goes out before the relay answered the first checkpoint.
    let second = [h.device.edit("c")];
    let actions = h.on(Event::LocalChanges(&second));
    assert_eq!((updates(&actions), step1s(&actions)), (1, 1));
    assert_eq!(h.device.unconfirmed.get(), 3);

    // The answer to the first checkpoint confirms only the two sent before it.
    let answer = h.on(Event::Received(&ack()));
    assert!(answer.contains(&Action::Confirmed(2)));
    assert_eq!(h.device.unconfirmed.get(), 1);
    let answer = h.on(Event::Received(&ack()));
    assert!(answer.contains(&Action::Confirmed(1)));
    assert_eq!((h.confirmed, h.device.unconfirmed.get()), (3, 0));
    // An answer with no checkpoint left confirms nothing more.
    let extra = h.on(Event::Received(&ack()));
    assert!(!extra.iter().any(|a| matches!(a, Action::Confirmed(_))));
}

#[test]
fn changes_made_offline_are_confirmed_by_the_next_connections_exchange() {
    let mut h = Harness::new(1, true);
    h.on(Event::Start);
    let offline = [h.device.edit("x"), h.device.edit("y"), h.device.edit("z")];
    assert!(h.on(Event::LocalChanges(&offline)).is_empty(), "not open");

    h.on(Event::Opened);
    let relay = Doc::new();
    let answer = h.on(Event::Received(&step1(&relay)));
    let diff = sent(&answer)
        .into_iter()
        .find_map(|m| match m {
            Message::Sync(SyncMessage::SyncStep2(diff)) => Some(diff),
            _ => None,
        })
        .expect("our diff");
    relay
        .transact_mut()
        .apply_update(yrs::Update::decode_v1(&diff).unwrap())
        .unwrap();
    assert_eq!(
        relay.get_or_insert_text("summary").len(&relay.transact()),
        3
    );

    // First answer: to the connection's opening SyncStep1, sent before the diff.
    let first = h.on(Event::Received(&ack()));
    assert!(!first.iter().any(|a| matches!(a, Action::Confirmed(_))));
    assert_eq!(h.connection, Connection::Synced);
    let second = h.on(Event::Received(&ack()));
    assert!(second.contains(&Action::Confirmed(3)));
    assert_eq!(h.device.unconfirmed.get(), 0);
}

#[test]
fn a_reconnect_forgets_unanswered_checkpoints_and_counts_each_change_once() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    h.on(Event::Received(&ack()));
    let changes = [h.device.edit("a"), h.device.edit("b")];
    h.on(Event::LocalChanges(&changes));
    // Cut before the relay answered.
    h.on(Event::Closed {
        code: 1006,
        reason: "",
    });
    assert_eq!(h.connection, Connection::Offline);
    let more = [h.device.edit("c")];
    assert!(h.on(Event::LocalChanges(&more)).is_empty());
    h.wait_for_connect();

    h.on(Event::Opened);
    let relay = Doc::new();
    h.on(Event::Received(&step1(&relay)));
    h.on(Event::Received(&ack()));
    assert_eq!(h.confirmed, 0);
    let answer = h.on(Event::Received(&ack()));
    assert!(answer.contains(&Action::Confirmed(3)));
    assert_eq!((h.confirmed, h.device.unconfirmed.get()), (3, 0));
}

#[test]
fn a_checkpoint_covers_only_what_earlier_checkpoints_do_not() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    // Two batches, the first one's checkpoint still unanswered when the second goes out.
    let one = [h.device.edit("a")];
    h.on(Event::LocalChanges(&one));
    let two = [h.device.edit("b"), h.device.edit("c")];
    h.on(Event::LocalChanges(&two));
    let counts: Vec<u32> = (0..2)
        .map(|_| {
            h.on(Event::Received(&ack()))
                .iter()
                .find_map(|a| match a {
                    Action::Confirmed(n) => Some(*n),
                    _ => None,
                })
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(counts, vec![1, 2]);
}

#[test]
fn reconnects_back_off_from_half_a_second_doubling_to_ten() {
    let mut h = Harness::new(1, true);
    h.on(Event::Start);
    let mut waits = Vec::new();
    for _ in 0..8 {
        h.on(Event::Closed {
            code: 1006,
            reason: "",
        });
        waits.push(h.wait_for_connect());
    }
    let bases = [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000];
    for (wait, base) in waits.iter().zip(bases) {
        assert!(
            (base / 2..=base).contains(wait),
            "waited {wait} ms where the backoff is {base} ms: {waits:?}"
        );
    }
    assert!(waits.iter().all(|w| *w <= MAX_BACKOFF_MS));

    // Once synced, the next loss starts again from half a second.
    h.open_and_sync();
    h.on(Event::Closed {
        code: 1006,
        reason: "",
    });
    assert!(h.wait_for_connect() <= 500);
}

#[test]
fn every_close_that_is_not_a_refusal_reconnects() {
    for code in [1000, 1001, 1003, 1006, 1008, 1009, 1011, 1013, 4000] {
        let mut h = Harness::new(1, true);
        h.connect_and_sync();
        let closed = h.on(Event::Closed {
            code,
            reason: "going away",
        });
        assert!(!closed.iter().any(|a| matches!(a, Action::Refused(_))));
        assert_eq!(
            h.problem.as_deref(),
            Some("The relay closed the connection: going away")
        );
        assert!(h.wait_for_connect() <= 500, "code {code}");
        assert!(!h.core.is_stopped());
    }
    // A cut with no reason says nothing more than "offline".
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    h.on(Event::Closed {
        code: 1006,
        reason: "",
    });
    assert_eq!(h.problem, None);
}

#[test]
fn too_many_failures_waits_as_long_as_the_relay_asks() {
    let mut h = Harness::new(1, true);
    h.on(Event::Start);
    let closed_at = h.now;
    h.on(Event::Closed {
        code: 4429,
        reason: "too many failed attempts; wait 37 s",
    });
    assert!(h.problem.as_deref().unwrap().contains("37 s"));
    // The network coming back does not hurry it.
    h.now += 30_000;
    assert!(!h.on(Event::NetworkBack).contains(&Action::Connect));
    let waited = h.wait_for_connect() + 30_000;
    assert!(
        (37_000..38_000).contains(&waited),
        "reconnected after {waited} ms"
    );
    assert_eq!(h.now - closed_at, waited);

    // A reason without a number falls back on the usual backoff.
    let mut h = Harness::new(1, true);
    h.on(Event::Start);
    h.on(Event::Closed {
        code: 4429,
        reason: "slow down",
    });
    assert!(h.wait_for_connect() <= 500);
}

#[test]
fn a_refusal_stops_for_good() {
    let refusals = [
        (4401, Close::MissingSecret),
        (4403, Close::UnknownSecret),
        (4405, Close::ReadOnly),
        (4410, Close::Revoked),
        (4411, Close::Expired),
    ];
    for (code, close) in refusals {
        let mut h = Harness::new(1, true);
        h.connect_and_sync();
        let closed = h.on(Event::Closed { code, reason: "" });
        assert!(closed.contains(&Action::Refused(close)));
        assert!(closed.contains(&Action::Connection(Connection::Offline)));
        assert!(closed.contains(&Action::Timer(None)), "no timer left");
        assert!(h.core.is_stopped());
        // Nothing brings it back.
        let change = [h.device.edit("late")];
        for event in [
            Event::Tick,
            Event::NetworkBack,
            Event::NetworkLost,
            Event::Opened,
            Event::LocalChanges(&change),
            Event::Start,
        ] {
            h.now += 3_600_000;
            assert_eq!(h.on(event), vec![], "{event:?} after {code}");
        }
    }
}

#[test]
fn losing_the_network_closes_at_once_and_its_return_reconnects_at_once() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    h.on(Event::Received(&awareness(7, 1, &user("Bo"))));
    assert_eq!(h.presence.len(), 1);
    let lost = h.on(Event::NetworkLost);
    assert!(lost.contains(&Action::CloseSocket));
    assert!(lost.contains(&Action::Connection(Connection::Offline)));
    assert!(lost.contains(&Action::Presence(vec![])));
    // In case the browser never says it is back, it still retries, slowly.
    let timer = h.timer.unwrap() - h.now;
    assert!((5_000..=10_000).contains(&timer), "{timer}");
    h.now += 1_000;
    let back = h.on(Event::NetworkBack);
    assert_eq!(
        back[..2],
        [Action::Connection(Connection::Connecting), Action::Connect]
    );
    // Already connecting: nothing more.
    assert!(!h.on(Event::NetworkBack).contains(&Action::Connect));
}

#[test]
fn presence_is_renewed_every_15_s_and_others_dropped_after_35_s() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    let bo = h.on(Event::Received(&awareness(7, 1, &user("Bo"))));
    let peer = |name: &str| Peer {
        name: name.to_string(),
        color: "#abcdef".to_string(),
    };
    assert!(bo.contains(&Action::Presence(vec![peer("Bo")])));
    // Our own state echoed back is not someone else.
    assert!(h
        .on(Event::Received(&awareness(1, 5, &user("Ada"))))
        .is_empty());

    // Renewals: our state goes out again with a growing clock.
    let mut clocks = Vec::new();
    for _ in 0..2 {
        let due = h.timer.unwrap();
        let renewed = h.advance_to(due);
        for message in sent(&renewed) {
            if let Message::Awareness(update) = message {
                clocks.extend(update.clients.values().map(|e| e.clock));
            }
        }
    }
    assert_eq!(clocks.len(), 2);
    assert!(clocks[0] < clocks[1]);
    assert_eq!(h.now, T0 + 2 * RENEW_MS);

    // Al arrives at 30 s, Bo (last heard at 0 s) never renews.
    h.on(Event::Received(&awareness(8, 1, &user("Al"))));
    assert_eq!(h.presence, vec![peer("Al"), peer("Bo")]);
    let due = h.timer.unwrap();
    h.advance_to(due); // 45 s: Bo is 45 s old.
    assert!(h.now - T0 >= STALE_MS);
    assert_eq!(h.presence, vec![peer("Al")]);
    // An older clock of Al's changes nothing; its leaving does.
    assert!(h
        .on(Event::Received(&awareness(8, 0, &user("Alan"))))
        .is_empty());
    h.on(Event::Received(&awareness(8, 2, "null")));
    assert_eq!(h.presence, vec![]);
}

#[test]
fn a_viewer_never_sends_a_change() {
    let mut h = Harness::new(1, false);
    h.connect_and_sync();
    let change = [h.device.edit("nope")];
    assert!(h.on(Event::LocalChanges(&change)).is_empty());

    // The relay's SyncStep1 gets an empty answer and no checkpoint, whatever is here.
    let relay = Doc::new();
    let answer = h.on(Event::Received(&step1(&relay)));
    let messages = sent(&answer);
    assert_eq!(messages.len(), 1);
    match &messages[0] {
        Message::Sync(SyncMessage::SyncStep2(update)) => {
            let update = yrs::Update::decode_v1(update).unwrap();
            assert!(update.state_vector().is_empty());
        }
        other => panic!("expected an empty SyncStep2, got {other:?}"),
    }
    // What the relay sends still arrives.
    let writer = Doc::with_client_id(9);
    writer
        .get_or_insert_text("summary")
        .insert(&mut writer.transact_mut(), 0, "from the relay");
    h.on(Event::Received(&step2(&writer, &Doc::new())));
    assert!(h.device.summary().contains("from the relay"));
}

#[test]
fn stopping_says_goodbye_and_cancels_every_timer() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    let stop = h.on(Event::Stop);
    let messages = sent(&stop);
    match &messages[..] {
        [Message::Awareness(update)] => {
            let entry = update.clients.values().next().unwrap();
            let json: &str = entry.json.as_ref();
            assert_eq!(json, "null");
        }
        other => panic!("expected a goodbye, got {other:?}"),
    }
    assert!(stop.contains(&Action::CloseSocket));
    assert!(stop.contains(&Action::Timer(None)));
    assert!(h.on(Event::Tick).is_empty());
}

#[test]
fn an_unreadable_frame_is_a_problem_and_the_connection_goes_on() {
    let mut h = Harness::new(1, true);
    h.connect_and_sync();
    let bad = h.on(Event::Received(&[0, 9, 200]));
    assert!(matches!(&bad[..], [Action::Problem(Some(m))] if m.contains("cannot read")));
    assert_eq!(h.connection, Connection::Synced);
}

#[test]
fn a_socket_that_cannot_be_made_is_retried() {
    let mut h = Harness::new(1, true);
    h.on(Event::Start);
    h.on(Event::ConnectFailed("bad url"));
    assert_eq!(
        h.problem.as_deref(),
        Some("Cannot reach the relay: bad url")
    );
    assert!(h.wait_for_connect() <= 500);
}
