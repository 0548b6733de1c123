//! `fanout`: N rooms × M clients, each sending small edits at a set rate; measures what every
//! edit costs the server and how long it takes to reach the others.

use std::time::Duration;

use anyhow::Result;

use crate::report::{Report, ServerUse};
use crate::session::{Layout, Session};
use crate::stats::{self, mb, PeakRss, Percentiles};
use crate::Ctx;

#[derive(clap::Args, Clone, Debug, serde::Serialize)]
pub struct FanoutArgs {
    /// Rooms (documents).
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Clients in each room.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Edits each client sends per second.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds to wait for stragglers after the sending.
    #[arg(long, default_value_t = 10.0)]
    pub settle: f64,
}

pub async fn run(ctx: &Ctx, args: &FanoutArgs) -> Result<Report> {
    anyhow::ensure!(
        args.rate > 0.0 && args.duration > 0.0,
        "--rate and --duration must be > 0"
    );
    let count = (args.rate * args.duration).round().max(1.0) as u32;
    let layout = Layout {
        rooms: vec![args.clients; args.rooms],
        max_edits: count,
        join_concurrency: ctx.join_concurrency,
        join_timeout: ctx.join_timeout,
        awareness: true,
    };
    let mut session = Session::connect(&ctx.target, &ctx.run_id, &layout).await?;
    let mut report = ctx.report("fanout", serde_json::to_value(args)?);
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

    let server_before = ctx.server_sample()?;
    let peak = ctx.server_pid.map(PeakRss::start);
    let own_before = stats::sample(None)?;
    let phase = session
        .send(count, args.rate, Duration::from_secs_f64(args.settle))
        .await;
    let own_after = stats::sample(None)?;
    let server_after = ctx.server_sample()?;
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
    if let (Some(pid), Some(before), Some(after)) = (ctx.server_pid, server_before, server_after) {
        let cpu = after.cpu - before.cpu;
        report.server = Some(ServerUse {
            pid,
            cpu_s: cpu,
            cpu_us_per_delivery: (phase.delivered > 0).then(|| cpu * 1e6 / phase.delivered as f64),
            rss_before_mb: mb(before.rss),
            rss_after_mb: mb(after.rss),
            rss_peak_mb: mb(peak.max(after.rss)),
            ..ServerUse::default()
        });
    }
    if !phase.complete {
        report.problems.push(format!(
            "only {} of {} deliveries within the time allowed",
            phase.delivered, phase.expected_deliveries
        ));
    }
    if phase.sent < u64::from(count) * report.connections as u64 {
        report.problems.push(format!(
            "only {} of {} edits were sent in time (the load generator, or the server's reading, fell behind)",
            phase.sent,
            u64::from(count) * report.connections as u64
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
