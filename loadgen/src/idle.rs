//! `idle`: many connections that mostly sit there (a team with the incident open in a tab);
//! measures the server's memory per connection and its CPU while idle, then has every client
//! make one edit to check that all of them are still live and converge.

use std::time::Duration;

use anyhow::Result;

use crate::report::{Report, ServerUse};
use crate::session::{Layout, Session};
use crate::stats::{self, mb, PeakRss, Percentiles};
use crate::Ctx;

#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct IdleArgs {
    /// Connections in all.
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// Rooms they are spread over (round robin).
    #[arg(long, default_value_t = 50)]
    pub rooms: usize,
    /// Seconds to hold the connections idle before measuring memory.
    #[arg(long, default_value_t = 10.0)]
    pub hold: f64,
    /// Seconds to wait for the final edits to arrive.
    #[arg(long, default_value_t = 10.0)]
    pub settle: f64,
}

pub async fn run(ctx: &Ctx, args: &IdleArgs) -> Result<Report> {
    anyhow::ensure!(
        args.rooms > 0 && args.connections >= args.rooms,
        "need connections ≥ rooms > 0"
    );
    let layout = Layout {
        rooms: (0..args.rooms)
            .map(|r| args.connections / args.rooms + usize::from(r < args.connections % args.rooms))
            .collect(),
        max_edits: 1,
        join_concurrency: ctx.join_concurrency,
        join_timeout: ctx.join_timeout,
        awareness: true,
    };
    let baseline = ctx.server_sample()?;
    let peak = ctx.server_pid.map(PeakRss::start);
    let own_before = stats::sample(None)?;
    let mut session = Session::connect(&ctx.target, &ctx.run_id, &layout).await?;
    let mut report = ctx.report("idle", serde_json::to_value(args)?);
    report.connections = session.clients();
    report.join_wall_s = session.join_wall.as_secs_f64();
    report.handshake = Percentiles::of_durations(
        &session
            .joins
            .iter()
            .map(|j| j.handshake)
            .collect::<Vec<_>>(),
    );
    report.join =
        Percentiles::of_durations(&session.joins.iter().map(|j| j.synced).collect::<Vec<_>>());
    report.rooms = args.rooms;

    let joined = ctx.server_sample()?;
    tokio::time::sleep(Duration::from_secs_f64(args.hold)).await;
    let held = ctx.server_sample()?;
    // Then one edit each, spread over a second: are they all still connected and in step?
    let phase = session
        .send(1, 1.0, Duration::from_secs_f64(args.settle))
        .await;
    let after = ctx.server_sample()?;
    let own_after = stats::sample(None)?;
    let peak = match peak {
        Some(peak) => peak.finish().await,
        None => 0,
    };
    let mut outcome = session.finish().await;

    report.updates_sent = phase.sent;
    report.expected_deliveries = phase.expected_deliveries;
    report.deliveries = outcome.delivered;
    report.lost = outcome.lost;
    report.send_wall_s = phase.wall.as_secs_f64();
    report.deliveries_per_s = phase.delivered as f64 / phase.wall.as_secs_f64().max(1e-9);
    report.latency = Percentiles::of_micros(&mut outcome.latencies_us);
    report.rooms_diverged = outcome.rooms_diverged;
    report.loadgen_cpu_s = own_after.cpu - own_before.cpu;
    if let (Some(pid), Some(baseline), Some(joined), Some(held), Some(after)) =
        (ctx.server_pid, baseline, joined, held, after)
    {
        let connections = report.connections.max(1) as f64;
        report.server = Some(ServerUse {
            pid,
            cpu_s: after.cpu - baseline.cpu,
            cpu_us_per_delivery: (phase.delivered > 0)
                .then(|| (after.cpu - held.cpu) * 1e6 / phase.delivered as f64),
            rss_before_mb: mb(baseline.rss),
            rss_after_mb: mb(held.rss),
            rss_peak_mb: mb(peak.max(after.rss)),
            rss_per_connection_kb: Some(
                (held.rss as f64 - baseline.rss as f64) / connections / 1024.0,
            ),
            idle_cpu_ms_per_s: Some((held.cpu - joined.cpu) * 1000.0 / args.hold.max(1e-9)),
        });
    }
    if !phase.complete {
        report.problems.push(format!(
            "only {} of {} deliveries of the final edits",
            phase.delivered, phase.expected_deliveries
        ));
    }
    ctx.conclude(
        &mut report,
        outcome.lost,
        outcome.rooms_diverged,
        outcome.errors,
    );
    Ok(report)
}
