//! Failures that repeat as fast as clients retry are logged without a flood. When the disk is
//! full, every reconnecting client fails the same write again, a few times a second: the
//! first failure is logged at ERROR, then at most one line per [`STORAGE_LOG_EVERY`], saying
//! how many failures were not logged in between.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;

/// At most one storage-failure line per this long, after the first.
pub const STORAGE_LOG_EVERY: Duration = Duration::from_secs(60);

/// Decides which of a repeating failure's occurrences are logged.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    pub const fn new(every: Duration) -> Self {
        Throttle {
            every,
            state: Mutex::new(State {
                last_logged: None,
                suppressed: 0,
            }),
        }
    }

    /// One occurrence at `now`: `Some(n)` if it is to be logged, `n` occurrences having gone
    /// unlogged since the last line; `None` if it is to be counted only.
    pub fn occurred(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let due = state
            .last_logged
            .is_none_or(|at| now.saturating_duration_since(at) >= self.every);
        if due {
            state.last_logged = Some(now);
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed += 1;
            None
        }
    }
}

static STORAGE: Throttle = Throttle::new(STORAGE_LOG_EVERY);

/// A write to storage failed (`what` it was, for which incident or invite): logged at ERROR,
/// throttled with every other storage failure.
pub fn storage_failed(what: &str, of: &dyn std::fmt::Display, error: &Error) {
    if let Some(suppressed) = STORAGE.occurred(Instant::now()) {
        tracing::error!(
            %of,
            %error,
            suppressed,
            every_secs = STORAGE_LOG_EVERY.as_secs(),
            "{what} (storage failures are logged at most once a minute; `suppressed` were not logged since the last line)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_logged_then_one_a_window_with_the_count_left_out() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // A failure every 200 ms for five minutes: 1,500 of them.
        let logged: Vec<(u64, u64)> = (0..1_500u64)
            .filter_map(|i| throttle.occurred(at(i * 200)).map(|n| (i * 200, n)))
            .collect();
        assert_eq!(
            logged,
            [
                (0, 0),
                (60_000, 299),
                (120_000, 299),
                (180_000, 299),
                (240_000, 299)
            ]
        );
        // After a quiet spell the next failure is logged at once, with what was left.
        assert_eq!(throttle.occurred(at(400_000)), Some(299));
        assert_eq!(throttle.occurred(at(400_001)), None);
    }
}
