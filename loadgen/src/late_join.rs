//! `late-join`: one client writes a big incident (a long timeline, several MiB encoded) and
//! stays; then a group of responders opens it at once. Measures how long each waits for the
//! full state, and what serving it costs the server in CPU and memory.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use yrs::updates::decoder::Decode;
use yrs::{Array, Doc, In, MapPrelim, ReadTxn, StateVector, Transact};

use crate::client::{covers, Peer};
use crate::report::{LateJoin, Report, ServerUse};
use crate::stats::{self, mb, PeakRss, Percentiles};
use crate::Ctx;

#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct LateJoinArgs {
    /// Size of the document, MiB (encoded as one update).
    #[arg(long, default_value_t = 5.0)]
    pub doc_mib: f64,
    /// Clients that join it at once.
    #[arg(long, default_value_t = 20)]
    pub joiners: usize,
    /// Times the group joins (one after the other, each leaving before the next): more
    /// samples for the percentiles.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// The seeding client's id; joiners take the ones after it.
const SEED_ID: u64 = 1;

pub async fn run(ctx: &Ctx, args: &LateJoinArgs) -> Result<Report> {
    let mut report = ctx.report("late-join", serde_json::to_value(args)?);
    let framing = ctx.target.framing;
    let room = ctx.target.room(&format!("{}-doc", ctx.run_id)).await?;
    let mut seed = Peer::join(&room, framing, SEED_ID, false, false, ctx.join_timeout).await?;
    let target_bytes = (args.doc_mib * 1_048_576.0) as usize;
    let (state, entries) = build_document(&seed.doc, target_bytes);
    let seed_sv = seed.state_vector();
    seed.send(seed.wire.update(state.clone()))
        .await
        .context("sending the document")?;
    // The seed stays in the room (a server may drop a room nobody is in) and keeps reading,
    // so that what the server sends it does not pile up.
    let (stop_seed, mut seed_stopped) = tokio::sync::watch::channel(false);
    let seed_task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = seed_stopped.changed() => break,
                frame = seed.next_binary() => {
                    let processed = match frame.and_then(|f| seed.process(&f)) {
                        Ok(processed) => processed,
                        Err(error) => return Err(error),
                    };
                    for reply in processed.replies {
                        seed.send(reply).await?;
                    }
                }
            }
        }
        seed.close().await;
        anyhow::Ok(())
    });

    // The first joiner proves the server holds the whole document (retrying while it is
    // still taking it in).
    let began = Instant::now();
    let first_join = loop {
        let probe = Peer::join(&room, framing, SEED_ID + 1, false, false, ctx.join_timeout).await?;
        let synced = probe.timing.synced;
        let complete = covers(&probe.state_vector(), &seed_sv);
        probe.close().await;
        if complete {
            break synced;
        }
        if began.elapsed() > ctx.join_timeout {
            bail!("the server never served the whole document");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let server_before = ctx.server_sample()?;
    let peak = ctx.server_pid.map(PeakRss::start);
    let own_before = stats::sample(None)?;
    let mut timings = Vec::new();
    let mut matching = 0;
    let mut join_wall = Duration::ZERO;
    let mut with_joiners = None;
    for round in 0..args.rounds.max(1) {
        let began = Instant::now();
        let joiners: Vec<_> = (0..args.joiners)
            .map(|i| {
                let room = room.clone();
                let timeout = ctx.join_timeout;
                let id = SEED_ID + 2 + (round * args.joiners + i) as u64;
                tokio::spawn(
                    async move { Peer::join(&room, framing, id, true, true, timeout).await },
                )
            })
            .collect();
        let mut peers = Vec::new();
        for joiner in joiners {
            match joiner.await {
                Ok(Ok(peer)) => peers.push(peer),
                Ok(Err(error)) => report.problems.push(format!("joiner failed: {error:#}")),
                Err(error) => report.problems.push(format!("joiner task failed: {error}")),
            }
        }
        join_wall = join_wall.max(began.elapsed());
        if round == 0 {
            // Memory while the first group is in the room.
            with_joiners = ctx.server_sample()?;
        }
        // Now, with the clock stopped, check what each received.
        timings.extend(peers.iter().map(|p| p.timing));
        for peer in &mut peers {
            peer.apply_pending()?;
            let sv = peer.state_vector();
            if covers(&sv, &seed_sv) && covers(&seed_sv, &sv) {
                matching += 1;
            }
        }
        for peer in peers {
            peer.close().await;
        }
    }
    let server_after = ctx.server_sample()?;
    let own_after = stats::sample(None)?;
    let peak = match peak {
        Some(peak) => peak.finish().await,
        None => 0,
    };
    stop_seed.send_replace(true);
    match seed_task.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => report.problems.push(format!("seeding client: {error:#}")),
        Err(error) => report
            .problems
            .push(format!("seeding client task: {error}")),
    }

    report.connections = timings.len();
    report.join_wall_s = join_wall.as_secs_f64();
    report.handshake =
        Percentiles::of_durations(&timings.iter().map(|t| t.handshake).collect::<Vec<_>>());
    report.join = Percentiles::of_durations(&timings.iter().map(|t| t.synced).collect::<Vec<_>>());
    let mut state_bytes: Vec<usize> = timings.iter().map(|t| t.state_bytes).collect();
    state_bytes.sort_unstable();
    report.late_join = Some(LateJoin {
        doc_bytes: state.len(),
        entries,
        first_join_ms: first_join.as_secs_f64() * 1000.0,
        joiners: args.joiners,
        rounds: args.rounds.max(1),
        time_to_state: report.join,
        state_bytes: state_bytes.get(state_bytes.len() / 2).copied().unwrap_or(0),
        joiners_matching: matching,
    });
    report.loadgen_cpu_s = own_after.cpu - own_before.cpu;
    if let (Some(pid), Some(before), Some(with), Some(after)) =
        (ctx.server_pid, server_before, with_joiners, server_after)
    {
        report.server = Some(ServerUse {
            pid,
            cpu_s: after.cpu - before.cpu,
            rss_before_mb: mb(before.rss),
            rss_after_mb: mb(with.rss),
            rss_peak_mb: mb(peak.max(with.rss)),
            ..ServerUse::default()
        });
    }
    let expected = args.joiners * args.rounds.max(1);
    if matching < expected {
        report.problems.push(format!(
            "{} of {expected} joins did not receive the whole document",
            expected - matching
        ));
    }
    ctx.conclude(&mut report, 0, 0, Vec::new());
    Ok(report)
}

/// Fills `doc` with timeline entries (each a map with a time and ~200 characters of text,
/// inserted at the front so each is its own block, as entries typed over days are) until the
/// whole state encodes to at least `target_bytes`. Returns that state and the entry count.
pub fn build_document(doc: &Doc, target_bytes: usize) -> (Vec<u8>, u32) {
    const WORDS: &[&str] = &[
        "host",
        "beacon",
        "lateral",
        "movement",
        "credential",
        "phishing",
        "payload",
        "c2",
        "domain",
        "hash",
        "isolated",
        "contained",
        "analyst",
        "escalated",
        "firewall",
        "egress",
        "ticket",
        "malware",
        "persistence",
        "registry",
        "service",
        "account",
        "reset",
        "token",
        "alert",
        "triage",
        "exfiltration",
        "archive",
        "vpn",
        "endpoint",
        "quarantine",
        "log",
    ];
    let timeline = doc.get_or_insert_array("timeline");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64: fixed sequence, so every run builds the same document.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut entries = 0u32;
    loop {
        {
            let mut txn = doc.transact_mut();
            for _ in 0..1000 {
                let mut text = String::with_capacity(240);
                while text.len() < 200 {
                    text.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
                    text.push(' ');
                }
                let at = 1_700_000_000_000.0 + f64::from(entries) * 60_000.0;
                let entry = MapPrelim::from([("at", In::from(at)), ("text", In::from(text))]);
                timeline.insert(&mut txn, 0, entry);
                entries += 1;
            }
        }
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        if state.len() >= target_bytes {
            debug_assert!(yrs::Update::decode_v1(&state).is_ok());
            return (state, entries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_document_of_the_asked_size() {
        let doc = Doc::with_client_id(1);
        let (state, entries) = build_document(&doc, 300_000);
        assert!(
            state.len() >= 300_000 && state.len() < 600_000,
            "{}",
            state.len()
        );
        assert_eq!(
            doc.get_or_insert_array("timeline").len(&doc.transact()),
            entries
        );
    }
}
