//! `loadgen`: a load generator for Yjs websocket servers — Firebreak's relay, the y-websocket
//! reference server, Hocuspocus, y-sweet — so they can be measured side by side under the
//! very same load. Every simulated client is a real protocol client (yrs documents, the
//! y-protocols sync and awareness messages, Hocuspocus's framing where asked), all in this
//! one process so one clock times every delivery.
//!
//! It measures, per load: deliveries per second, send-to-receipt latency, connection set-up
//! time, and with `--server-pid` the server's CPU time and resident memory from `/proc`; at
//! the end it checks that every client of a room holds the same document and counts lost
//! edits. It is not a test: it prints numbers (`--json` for scripts; `bench/compare.mjs` runs
//! it against every server) and exits 2 when something was lost or diverged.

mod client;
mod fanout;
mod idle;
mod late_join;
mod report;
mod session;
mod stats;
mod target;
mod wire;

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::report::Report;
use crate::stats::ProcSample;
use crate::target::Target;
use crate::wire::Framing;

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Load generator for Yjs websocket servers"
)]
struct Cli {
    /// Websocket base address; each room is appended as `/ROOM`, or replaces `{room}`
    /// (y-sweet: `ws://127.0.0.1:PORT/d/{room}/ws/{room}`).
    #[arg(long, global = true, default_value = "ws://127.0.0.1:8787/sync")]
    url: String,
    /// Another websocket base address of the same service (repeat for more): clients are
    /// spread over `--url` and these in turn, one client to the next, so a room's clients sit
    /// on different relays of one cluster. Rooms are still created through `--firebreak-api`.
    #[arg(long, global = true)]
    also_url: Vec<String>,
    /// How messages are framed: plain y-protocols, or Hocuspocus's (document name first).
    #[arg(long, global = true, value_enum, default_value_t = Framing::Plain)]
    framing: Framing,
    /// Firebreak's HTTP address (`http://HOST:PORT`): each room is created with
    /// `POST /api/incidents` and joined with the owner's token.
    #[arg(long, global = true)]
    firebreak_api: Option<String>,
    /// y-sweet's HTTP address (`http://HOST:PORT`): each room is created with
    /// `POST /doc/new` before anyone joins, as y-sweet's SDK does.
    #[arg(long, global = true)]
    ysweet_api: Option<String>,
    /// The server's process id: report its CPU time and memory from /proc.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// Name to print for the server.
    #[arg(long, global = true, default_value = "server")]
    label: String,
    /// Print one JSON object instead of the table.
    #[arg(long, global = true)]
    json: bool,
    /// Connections being set up at once.
    #[arg(long, global = true, default_value_t = 32)]
    join_concurrency: usize,
    /// Seconds a client may take to connect and sync.
    #[arg(long, global = true, default_value_t = 60.0)]
    join_timeout: f64,
    #[command(subcommand)]
    load: Load,
}

#[derive(Subcommand, Debug)]
enum Load {
    /// N rooms × M clients, each sending small edits at a set rate.
    Fanout(fanout::FanoutArgs),
    /// Many mostly idle connections: memory per connection.
    Idle(idle::IdleArgs),
    /// A big document joined by several clients at once.
    LateJoin(late_join::LateJoinArgs),
}

/// What every load needs: the target and how to measure it.
pub struct Ctx {
    pub target: Target,
    pub server_pid: Option<u32>,
    pub label: String,
    /// Prefix of this run's room names, so runs never share a room.
    pub run_id: String,
    pub join_concurrency: usize,
    pub join_timeout: Duration,
}

impl Ctx {
    /// The server's memory and CPU now (none without `--server-pid`).
    pub fn server_sample(&self) -> Result<Option<ProcSample>> {
        self.server_pid
            .map(|pid| stats::sample(Some(pid)))
            .transpose()
    }

    pub fn report(&self, mode: &str, params: serde_json::Value) -> Report {
        Report {
            mode: mode.to_owned(),
            label: self.label.clone(),
            url: self.target.url.clone(),
            framing: format!("{:?}", self.target.framing).to_lowercase(),
            params,
            ..Report::default()
        }
    }

    /// Records losses, divergence and client errors, and decides `ok`.
    pub fn conclude(&self, report: &mut Report, lost: u64, diverged: usize, errors: Vec<String>) {
        if lost > 0 {
            report.problems.push(format!("{lost} deliveries lost"));
        }
        if diverged > 0 {
            report
                .problems
                .push(format!("{diverged} rooms did not converge"));
        }
        let shown = 5;
        let more = errors.len().saturating_sub(shown);
        report.problems.extend(errors.into_iter().take(shown));
        if more > 0 {
            report
                .problems
                .push(format!("… and {more} more client errors"));
        }
        report.ok = report.problems.is_empty();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok((report, json)) => {
            if json {
                match serde_json::to_string(&report) {
                    Ok(line) => println!("{line}"),
                    Err(error) => {
                        eprintln!("loadgen: {error}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                println!("{}", report.human());
            }
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Err(error) => {
            eprintln!("loadgen: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(Report, bool)> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let ctx = Ctx {
        target: Target {
            url: cli.url,
            also_urls: cli.also_url,
            framing: cli.framing,
            firebreak_api: cli.firebreak_api,
            ysweet_api: cli.ysweet_api,
        },
        server_pid: cli.server_pid,
        label: cli.label,
        run_id: format!("lg{:x}", nanos % (1 << 40)),
        join_concurrency: cli.join_concurrency,
        join_timeout: Duration::from_secs_f64(cli.join_timeout),
    };
    if let Some(pid) = ctx.server_pid {
        stats::sample(Some(pid))?;
    }
    let report = match &cli.load {
        Load::Fanout(args) => fanout::run(&ctx, args).await?,
        Load::Idle(args) => idle::run(&ctx, args).await?,
        Load::LateJoin(args) => late_join::run(&ctx, args).await?,
    };
    Ok((report, cli.json))
}
