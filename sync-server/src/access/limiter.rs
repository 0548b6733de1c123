//! Slows down guessing: an address with too many failed attempts in a window is refused
//! without its secret being checked, until the window ends.
//!
//! An IPv6 client is counted by its /64 ([`budget_key`]).
//!
//! Only failures count: people behind one NAT who open valid links never use up the budget.
//! Once an address is blocked, though, everyone behind it waits out the window, valid link
//! or not (checking the secret would tell a guesser when it is right). Times are passed in,
//! so the rules are tested without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::http::client_addr::budget_key;

/// Failed attempts an address may make per window.
pub const MAX_FAILURES: u32 = 10;
/// Length of the window that failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Beyond this many tracked addresses, expired entries are swept.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Failed attempts per address.
#[derive(Debug, Default)]
pub struct Limiter {
    failures: HashMap<IpAddr, Failures>,
}

impl Limiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Some(seconds to wait)` while `addr` is over its budget.
    pub fn blocked(&self, addr: IpAddr, now: Instant) -> Option<u64> {
        let entry = self.failures.get(&budget_key(addr))?;
        let ends = entry.since + WINDOW;
        (entry.count >= MAX_FAILURES && now < ends)
            .then(|| ends.duration_since(now).as_secs().max(1))
    }

    /// Counts one failed attempt from `addr`.
    pub fn failed(&mut self, addr: IpAddr, now: Instant) {
        if self.failures.len() > SWEEP_ABOVE {
            self.failures.retain(|_, f| now < f.since + WINDOW);
        }
        let entry = self.failures.entry(budget_key(addr)).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now >= entry.since + WINDOW {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    pub fn tracked(&self) -> usize {
        self.failures.len()
    }
}

/// How long the incidents an address created count against it.
pub const CREATION_WINDOW: Duration = Duration::from_secs(3600);

/// Incidents created per address and window: every new incident takes disk space for good,
/// so an address may create at most so many an hour (`--max-incidents-per-hour`).
#[derive(Debug)]
pub struct Creations {
    per_window: u32,
    created: HashMap<IpAddr, Failures>,
}

impl Creations {
    /// `per_window` incidents per address and hour; 0 for no limit.
    pub fn new(per_window: u32) -> Self {
        Creations {
            per_window,
            created: HashMap::new(),
        }
    }

    /// Counts one incident about to be created by `addr`, or says how many seconds it must
    /// wait for its window to end.
    pub fn create(&mut self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_window == 0 {
            return Ok(());
        }
        if self.created.len() > SWEEP_ABOVE {
            self.created.retain(|_, c| now < c.since + CREATION_WINDOW);
        }
        let entry = self.created.entry(budget_key(addr)).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now >= entry.since + CREATION_WINDOW {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        if entry.count >= self.per_window {
            let ends = entry.since + CREATION_WINDOW;
            return Err(ends.duration_since(now).as_secs().max(1));
        }
        entry.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_too_many_failures_until_the_window_ends() {
        let mut limiter = Limiter::new();
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let bystander: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(limiter.blocked(attacker, start), None, "after {i} failures");
            limiter.failed(attacker, start + Duration::from_secs(1));
        }
        // The window opened with the first failure, at start + 1 s.
        let wait = limiter.blocked(attacker, start + Duration::from_secs(2));
        assert_eq!(wait, Some(59));
        assert_eq!(limiter.blocked(bystander, start), None);
        let after = start + Duration::from_secs(1) + WINDOW;
        assert_eq!(
            limiter.blocked(attacker, after - Duration::from_millis(1)),
            Some(1)
        );
        assert_eq!(limiter.blocked(attacker, after), None);
        limiter.failed(attacker, after);
        assert_eq!(
            limiter.blocked(attacker, after + Duration::from_secs(1)),
            None,
            "a new window starts from zero"
        );
    }

    #[test]
    fn an_ipv6_client_cannot_start_afresh_within_its_64() {
        let mut limiter = Limiter::new();
        let now = Instant::now();
        for i in 0..MAX_FAILURES {
            let hopping: IpAddr = format!("2001:db8:7:7::{:x}", i + 1).parse().unwrap();
            limiter.failed(hopping, now);
        }
        assert!(limiter
            .blocked("2001:db8:7:7::ffff".parse().unwrap(), now)
            .is_some());
        assert_eq!(
            limiter.blocked("2001:db8:7:8::1".parse().unwrap(), now),
            None
        );
    }

    #[test]
    fn an_address_creates_at_most_so_many_incidents_an_hour() {
        let mut creations = Creations::new(3);
        let now = Instant::now();
        let busy: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(creations.create(busy, now), Ok(()));
        }
        assert_eq!(
            creations.create(busy, now + Duration::from_secs(600)),
            Err(3000)
        );
        assert_eq!(creations.create("192.0.2.2".parse().unwrap(), now), Ok(()));
        assert_eq!(creations.create(busy, now + CREATION_WINDOW), Ok(()));
        let mut unlimited = Creations::new(0);
        for _ in 0..1000 {
            assert_eq!(unlimited.create(busy, now), Ok(()));
        }
    }

    #[test]
    fn old_entries_are_swept_when_many_addresses_are_tracked() {
        let mut limiter = Limiter::new();
        let start = Instant::now();
        for i in 0..=SWEEP_ABOVE as u32 {
            limiter.failed(IpAddr::from(i.to_be_bytes()), start);
        }
        limiter.failed("198.51.100.7".parse().unwrap(), start + WINDOW);
        assert_eq!(limiter.tracked(), 1);
    }
}
