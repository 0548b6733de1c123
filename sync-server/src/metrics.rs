//! Process-wide counters, served at `/metrics` in the Prometheus text format. Only counts
//! and timings: never an incident id, a name or a secret.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use wire::Close;

/// Upper bounds (seconds) of the storage write latency histogram's buckets.
const WRITE_BUCKETS: [f64; 11] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Every close code the relay sends is counted separately, in the order of [`Close::ALL`].
const CLOSE_CODES: usize = Close::ALL.len();

pub struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    frames_in: AtomicU64,
    bytes_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    updates_stored: AtomicU64,
    rooms_slept: AtomicU64,
    rooms_woken: AtomicU64,
    over_limit: AtomicU64,
    closes: [AtomicU64; CLOSE_CODES],
    write_buckets: [AtomicU64; WRITE_BUCKETS.len()],
    write_count: AtomicU64,
    write_micros: AtomicU64,
    /// 0 while the storage server (PostgreSQL) is not answering; 1 otherwise.
    storage_up: AtomicU64,
    storage_outages: AtomicU64,
    database_connections: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);

/// The relay's one set of metrics.
pub static METRICS: Metrics = Metrics {
    connections_open: ZERO,
    connections_total: ZERO,
    frames_in: ZERO,
    bytes_in: ZERO,
    frames_out: ZERO,
    bytes_out: ZERO,
    updates_stored: ZERO,
    rooms_slept: ZERO,
    rooms_woken: ZERO,
    over_limit: ZERO,
    closes: [ZERO; CLOSE_CODES],
    write_buckets: [ZERO; WRITE_BUCKETS.len()],
    write_count: ZERO,
    write_micros: ZERO,
    storage_up: AtomicU64::new(1),
    storage_outages: ZERO,
    database_connections: ZERO,
};

/// Counts an open connection until dropped.
pub struct OpenConnection(());

impl Drop for OpenConnection {
    fn drop(&mut self) {
        METRICS.connections_open.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections_open.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
        OpenConnection(())
    }

    pub fn frame_in(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
    }

    pub fn frame_out(&self, bytes: usize) {
        self.frames_out.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    /// A connection closed (or refused) by the relay with `code`.
    pub fn closed_with(&self, code: u16) {
        if let Some(i) = Close::ALL.iter().position(|c| c.code() == code) {
            self.closes[i].fetch_add(1, Relaxed);
        }
    }

    /// One storage transaction of `updates` updates took `took`.
    pub fn stored(&self, updates: usize, took: Duration) {
        self.updates_stored.fetch_add(updates as u64, Relaxed);
        self.write_count.fetch_add(1, Relaxed);
        self.write_micros
            .fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
        let seconds = took.as_secs_f64();
        if let Some(i) = WRITE_BUCKETS.iter().position(|&b| seconds <= b) {
            self.write_buckets[i].fetch_add(1, Relaxed);
        }
    }

    /// The storage server stopped answering. Returns whether it was up until now.
    pub fn storage_down(&self) -> bool {
        let was_up = self.storage_up.swap(0, Relaxed) == 1;
        if was_up {
            self.storage_outages.fetch_add(1, Relaxed);
        }
        was_up
    }

    /// The storage server answers.
    pub fn storage_up(&self) {
        self.storage_up.store(1, Relaxed);
    }

    /// Whether the storage answered the last time it was asked.
    pub fn storage_is_up(&self) -> bool {
        self.storage_up.load(Relaxed) == 1
    }

    /// Connections open to PostgreSQL now (in the pool, idle or in use).
    pub fn database_connections(&self, open: usize) {
        self.database_connections.store(open as u64, Relaxed);
    }

    /// A connection was closed as soon as it was accepted: `--max-connections` were open.
    pub fn connection_over_limit(&self) {
        self.over_limit.fetch_add(1, Relaxed);
    }

    /// A room's document was dropped from memory to make space (its peers stay).
    pub fn room_slept(&self) {
        self.rooms_slept.fetch_add(1, Relaxed);
    }

    /// A sleeping room's document was loaded again.
    pub fn room_woken(&self) {
        self.rooms_woken.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition, with `rooms` open right now and `in_memory` of their
    /// documents in memory.
    pub fn render(&self, rooms: usize, in_memory: usize) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "firebreak_connections_open",
            "gauge",
            "Websocket connections open now.",
            self.connections_open.load(Relaxed),
        );
        metric(
            "firebreak_connections_total",
            "counter",
            "Websocket connections let in since start.",
            self.connections_total.load(Relaxed),
        );
        metric(
            "firebreak_connections_over_limit_total",
            "counter",
            "Connections closed on arrival because --max-connections were open.",
            self.over_limit.load(Relaxed),
        );
        metric(
            "firebreak_rooms_open",
            "gauge",
            "Incidents with people connected now (or being unloaded).",
            rooms as u64,
        );
        metric(
            "firebreak_rooms_in_memory",
            "gauge",
            "Incident documents held in memory now (at most --max-rooms-in-memory).",
            in_memory as u64,
        );
        metric(
            "firebreak_rooms_slept_total",
            "counter",
            "Documents dropped from memory to make space, their people still connected.",
            self.rooms_slept.load(Relaxed),
        );
        metric(
            "firebreak_rooms_woken_total",
            "counter",
            "Sleeping documents loaded again for a message.",
            self.rooms_woken.load(Relaxed),
        );
        metric(
            "firebreak_frames_in_total",
            "counter",
            "Websocket frames received.",
            self.frames_in.load(Relaxed),
        );
        metric(
            "firebreak_bytes_in_total",
            "counter",
            "Bytes of websocket frames received.",
            self.bytes_in.load(Relaxed),
        );
        metric(
            "firebreak_frames_out_total",
            "counter",
            "Websocket frames sent.",
            self.frames_out.load(Relaxed),
        );
        metric(
            "firebreak_bytes_out_total",
            "counter",
            "Bytes of websocket frames sent.",
            self.bytes_out.load(Relaxed),
        );
        metric(
            "firebreak_updates_stored_total",
            "counter",
            "Document updates stored durably.",
            self.updates_stored.load(Relaxed),
        );
        metric(
            "firebreak_storage_up",
            "gauge",
            "1 while storage answers; 0 while PostgreSQL does not (changes are refused with 4503).",
            self.storage_up.load(Relaxed),
        );
        metric(
            "firebreak_storage_outages_total",
            "counter",
            "Times storage stopped answering.",
            self.storage_outages.load(Relaxed),
        );
        metric(
            "firebreak_database_connections",
            "gauge",
            "Connections open to PostgreSQL (at most --database-pool-size); 0 on SQLite.",
            self.database_connections.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP firebreak_closes_total Connections closed or refused by the relay, by close code.\n\
             # TYPE firebreak_closes_total counter"
        );
        for (close, count) in Close::ALL.iter().zip(&self.closes) {
            let _ = writeln!(
                out,
                "firebreak_closes_total{{code=\"{}\"}} {}",
                close.code(),
                count.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP firebreak_store_write_seconds Time to store one batch of updates.\n\
             # TYPE firebreak_store_write_seconds histogram"
        );
        let mut cumulative = 0;
        for (bound, count) in WRITE_BUCKETS.iter().zip(&self.write_buckets) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(
                out,
                "firebreak_store_write_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.write_count.load(Relaxed);
        let _ = writeln!(
            out,
            "firebreak_store_write_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             firebreak_store_write_seconds_sum {}\n\
             firebreak_store_write_seconds_count {count}",
            self.write_micros.load(Relaxed) as f64 / 1e6
        );
        out
    }
}
