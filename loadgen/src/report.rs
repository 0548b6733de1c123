//! What a run found: one JSON object (`--json`) or a short table for people.

use serde::Serialize;

use crate::stats::Percentiles;

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub mode: String,
    pub label: String,
    pub url: String,
    pub framing: String,
    /// The load's parameters as given.
    pub params: serde_json::Value,
    /// No client failed, nothing was lost, every room converged.
    pub ok: bool,
    pub problems: Vec<String>,

    pub connections: usize,
    /// From the first connect to the last client synced.
    pub join_wall_s: f64,
    /// TCP + websocket upgrade.
    pub handshake: Percentiles,
    /// Connect until the server's sync step 2 arrived.
    pub join: Percentiles,

    pub updates_sent: u64,
    pub expected_deliveries: u64,
    /// Edits found in the other clients' final documents.
    pub deliveries: u64,
    pub lost: u64,
    /// Deliveries seen by the end of the sending, over the time they took.
    pub deliveries_per_s: f64,
    pub send_wall_s: f64,
    /// From a client's send to another client's receipt, over every delivery.
    pub latency: Percentiles,
    pub rooms: usize,
    pub rooms_diverged: usize,

    pub server: Option<ServerUse>,
    /// This process's CPU time over the measured part.
    pub loadgen_cpu_s: f64,
    pub late_join: Option<LateJoin>,
}

/// The server's own resource use, from `/proc/PID` (only with `--server-pid`).
#[derive(Debug, Default, Serialize)]
pub struct ServerUse {
    pub pid: u32,
    /// User + system CPU seconds over the measured part.
    pub cpu_s: f64,
    pub cpu_us_per_delivery: Option<f64>,
    pub rss_before_mb: f64,
    pub rss_after_mb: f64,
    pub rss_peak_mb: f64,
    /// (RSS with the connections open − RSS before) / connections.
    pub rss_per_connection_kb: Option<f64>,
    /// CPU while the connections sat idle, milliseconds per second.
    pub idle_cpu_ms_per_s: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct LateJoin {
    /// Size of the whole document encoded as one update.
    pub doc_bytes: usize,
    /// Timeline entries in it.
    pub entries: u32,
    /// The first client after the seeding one (also proves the server holds the document).
    pub first_join_ms: f64,
    pub joiners: usize,
    /// Groups of joiners, one after the other.
    pub rounds: usize,
    /// Connect until the frame that completed the document arrived.
    pub time_to_state: Percentiles,
    /// Bytes of document state each joiner received in sync step 2 (median).
    pub state_bytes: usize,
    /// Joins (of joiners × rounds) whose document matched the seed's.
    pub joiners_matching: usize,
}

impl Report {
    /// The table for people.
    pub fn human(&self) -> String {
        let mut lines = Vec::new();
        let verdict = if self.ok { "ok" } else { "PROBLEMS" };
        lines.push(format!(
            "loadgen {} — {} ({}, {}) — {verdict}",
            self.mode, self.label, self.url, self.framing
        ));
        lines.push(format!("  load         {}", self.params));
        lines.push(format!(
            "  connections  {} in {:.2} s; handshake p50 {} p99 {}; synced p50 {} p99 {} max {}",
            self.connections,
            self.join_wall_s,
            ms(self.handshake.p50_ms),
            ms(self.handshake.p99_ms),
            ms(self.join.p50_ms),
            ms(self.join.p99_ms),
            ms(self.join.max_ms),
        ));
        if self.updates_sent > 0 {
            lines.push(format!(
                "  updates      {} sent; {} of {} deliveries ({:.0}/s over {:.2} s); lost {}",
                self.updates_sent,
                self.deliveries,
                self.expected_deliveries,
                self.deliveries_per_s,
                self.send_wall_s,
                self.lost
            ));
            lines.push(format!(
                "  latency      p50 {} p99 {} max {} (send → receipt, {} samples)",
                ms(self.latency.p50_ms),
                ms(self.latency.p99_ms),
                ms(self.latency.max_ms),
                self.latency.count
            ));
        }
        if let Some(late) = &self.late_join {
            lines.push(format!(
                "  document     {:.2} MiB ({} timeline entries); first join {}",
                late.doc_bytes as f64 / 1_048_576.0,
                late.entries,
                ms(late.first_join_ms)
            ));
            lines.push(format!("  late joins   {} at once × {} rounds: full state p50 {} p99 {} max {}; {} of {} match the seed",
                late.joiners,
                late.rounds,
                ms(late.time_to_state.p50_ms),
                ms(late.time_to_state.p99_ms),
                ms(late.time_to_state.max_ms),
                late.joiners_matching,
                late.joiners * late.rounds
            ));
        }
        if let Some(server) = &self.server {
            let per = server
                .cpu_us_per_delivery
                .map(|us| format!(" = {us:.2} µs per delivery"))
                .unwrap_or_default();
            lines.push(format!(
                "  server CPU   {:.2} s{per}{}",
                server.cpu_s,
                server
                    .idle_cpu_ms_per_s
                    .map(|c| format!("; idle {c:.1} ms/s"))
                    .unwrap_or_default()
            ));
            lines.push(format!(
                "  server RSS   {:.1} MB before, {:.1} MB after, {:.1} MB peak{}",
                server.rss_before_mb,
                server.rss_after_mb,
                server.rss_peak_mb,
                server
                    .rss_per_connection_kb
                    .map(|kb| format!("; {kb:.1} KB per connection"))
                    .unwrap_or_default()
            ));
        }
        lines.push(format!("  loadgen CPU  {:.2} s", self.loadgen_cpu_s));
        if self.rooms > 0 {
            lines.push(format!(
                "  converged    {} of {} rooms",
                self.rooms - self.rooms_diverged,
                self.rooms
            ));
        }
        for problem in &self.problems {
            lines.push(format!("  problem      {problem}"));
        }
        lines.push(String::new());
        lines.join("\n")
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}
