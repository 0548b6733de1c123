//! Numbers: latency percentiles, and a process's memory and CPU time from `/proc`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde::Serialize;

/// p50 / p99 / max of a set of durations, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    /// From microseconds; sorts in place.
    pub fn of_micros(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            // Nearest rank.
            let rank = (q * samples.len() as f64).ceil() as usize;
            f64::from(samples[rank.clamp(1, samples.len()) - 1]) / 1000.0
        };
        Self {
            count: samples.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: f64::from(samples[samples.len() - 1]) / 1000.0,
        }
    }

    pub fn of_durations(samples: &[Duration]) -> Self {
        let mut micros: Vec<u32> = samples.iter().map(|d| micros(*d)).collect();
        Self::of_micros(&mut micros)
    }
}

pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Linux reports CPU times in `/proc/PID/stat` in USER_HZ ticks, 100 a second on every
/// architecture Linux exposes to userspace.
const TICKS_PER_SECOND: f64 = 100.0;

/// A process's resource use at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    /// Resident memory, bytes (`VmRSS`).
    pub rss: u64,
    /// User + system CPU time, seconds.
    pub cpu: f64,
}

/// Reads `/proc/PID/status` and `/proc/PID/stat` (`pid` `None`: this process).
pub fn sample(pid: Option<u32>) -> Result<ProcSample> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    };
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("reading {dir}/status (is the server running?)"))?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in {dir}/status"))?;
    let stat = std::fs::read_to_string(format!("{dir}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .map(|t| t as f64 / TICKS_PER_SECOND)
            .ok_or_else(|| anyhow!("bad {dir}/stat"))
    };
    Ok(ProcSample {
        rss: rss_kb * 1024,
        cpu: ticks(11)? + ticks(12)?,
    })
}

/// Watches a process's resident memory in the background and keeps the peak.
pub struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    pub fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(s) = sample(Some(pid)) {
                        peak.fetch_max(s.rss, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
        Self { peak, stop, task }
    }

    /// Stops watching; the peak seen, bytes.
    pub async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Err(error) = self.task.await {
            eprintln!("loadgen: the memory sampler failed ({error}); peak as sampled so far");
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Bytes as MB with one decimal (10^6, like `ps` prints nothing else; stated in the output).
pub fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e6 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        let p = Percentiles::of_micros(&mut samples);
        assert_eq!(
            (p.p50_ms, p.p99_ms, p.max_ms, p.count),
            (50.0, 99.0, 100.0, 100)
        );
        let one = Percentiles::of_micros(&mut [1500]);
        assert_eq!((one.p50_ms, one.p99_ms), (1.5, 1.5));
        assert_eq!(Percentiles::of_micros(&mut []).count, 0);
    }

    #[test]
    fn reads_this_process() {
        let s = sample(None).unwrap();
        assert!(s.rss > 0 && s.cpu >= 0.0);
    }
}
