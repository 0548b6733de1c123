//! Slows down guessing: an address with too many failed attempts in a window gets "slow
//! down" (4429 / 429) instead of "unknown secret" for every wrong secret until the window
//! ends, and so does an invite whose id too many wrong secrets named (a guess spread over
//! many addresses).
//!
//! An IPv6 client is counted by its /64 ([`budget_key`]).
//!
//! Only failures count, and a right secret is always let in, even from an address or for an
//! invite over its budget: checking it is one hash compare, and with 128-bit secrets telling
//! a guesser "right" costs nothing, while refusing it would let anyone lock out a valid link
//! by guessing from the same proxy or NAT, or by naming its invite id. Times are passed in,
//! so the rules are tested without waiting.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::InviteId;
use crate::http::client_addr::budget_key;

/// Failed attempts an address may make per window.
pub const MAX_FAILURES: u32 = 10;
/// Wrong secrets naming one invite per window, from any number of addresses, unless
/// `--max-failures-per-invite` says otherwise.
pub const DEFAULT_MAX_FAILURES_PER_INVITE: u32 = 20;
/// Length of the window that failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Beyond this many tracked addresses, expired entries are swept.
const SWEEP_ABOVE: usize = 10_000;

/// Events per key (an address by its [`budget_key`], or an invite) in fixed windows that open
/// with a key's first event: what the budgets below count.
#[derive(Debug)]
struct Counts<K = IpAddr> {
    window: Duration,
    by_address: HashMap<K, (u32, Instant)>,
}

impl<K: Hash + Eq> Counts<K> {
    fn new(window: Duration) -> Self {
        Counts {
            window,
            by_address: HashMap::new(),
        }
    }

    /// `Some(seconds until its window ends)` while `key` has `max` or more events in it.
    fn over_key(&self, key: &K, max: u32, now: Instant) -> Option<u64> {
        let (count, since) = *self.by_address.get(key)?;
        let ends = since + self.window;
        (count >= max && now < ends).then(|| ends.duration_since(now).as_secs().max(1))
    }

    /// Counts one event of `key`.
    fn count_key(&mut self, key: K, now: Instant) {
        let window = self.window;
        if self.by_address.len() > SWEEP_ABOVE {
            self.by_address
                .retain(|_, (_, since)| now < *since + window);
        }
        let entry = self.by_address.entry(key).or_insert((0, now));
        if now >= entry.1 + window {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }
}

impl Counts<IpAddr> {
    fn over(&self, addr: IpAddr, max: u32, now: Instant) -> Option<u64> {
        self.over_key(&budget_key(addr), max, now)
    }

    fn count(&mut self, addr: IpAddr, now: Instant) {
        self.count_key(budget_key(addr), now);
    }
}

/// Failed attempts per address, and wrong secrets per invite.
#[derive(Debug)]
pub struct Limiter {
    failures: Counts,
    by_invite: Counts<InviteId>,
    per_invite: u32,
    /// Wrong secrets that named each invite since the relay started, for the owner's list.
    /// Only invites that exist are counted, so this grows with the invites, not the guesses.
    invite_totals: HashMap<InviteId, u64>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            failures: Counts::new(WINDOW),
            by_invite: Counts::new(WINDOW),
            per_invite: DEFAULT_MAX_FAILURES_PER_INVITE,
            invite_totals: HashMap::new(),
        }
    }
}

impl Limiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wrong secrets one invite may be named with per window (0: no limit).
    pub fn with_invite_budget(per_invite: u32) -> Self {
        Limiter {
            per_invite,
            ..Self::default()
        }
    }

    /// `Some(seconds to wait)` while `addr` is over its budget.
    pub fn blocked(&self, addr: IpAddr, now: Instant) -> Option<u64> {
        self.failures.over(addr, MAX_FAILURES, now)
    }

    /// Counts one failed attempt from `addr`.
    pub fn failed(&mut self, addr: IpAddr, now: Instant) {
        self.failures.count(addr, now);
    }

    /// `Some(seconds to wait)` while wrong secrets for `invite` are over its budget.
    pub fn invite_blocked(&self, invite: &InviteId, now: Instant) -> Option<u64> {
        if self.per_invite == 0 {
            return None;
        }
        self.by_invite.over_key(invite, self.per_invite, now)
    }

    /// Counts one wrong secret for `invite`, an invite that exists.
    pub fn invite_failed(&mut self, invite: &InviteId, now: Instant) {
        self.by_invite.count_key(invite.clone(), now);
        *self.invite_totals.entry(invite.clone()).or_insert(0) += 1;
    }

    /// Wrong secrets that named `invite` since the relay started.
    pub fn invite_failures(&self, invite: &InviteId) -> u64 {
        self.invite_totals.get(invite).copied().unwrap_or(0)
    }

    pub fn tracked(&self) -> usize {
        self.failures.by_address.len()
    }
}

/// How long the incidents an address created count against it.
pub const CREATION_WINDOW: Duration = Duration::from_secs(3600);

/// Incidents created per address and window: every new incident takes disk space for good,
/// so an address may create at most so many an hour (`--max-incidents-per-hour`).
#[derive(Debug)]
pub struct Creations {
    per_window: u32,
    created: Counts,
}

impl Creations {
    /// `per_window` incidents per address and hour; 0 for no limit.
    pub fn new(per_window: u32) -> Self {
        Creations {
            per_window,
            created: Counts::new(CREATION_WINDOW),
        }
    }

    /// Counts one incident about to be created by `addr`, or says how many seconds it must
    /// wait for its window to end.
    pub fn create(&mut self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_window == 0 {
            return Ok(());
        }
        if let Some(wait) = self.created.over(addr, self.per_window, now) {
            return Err(wait);
        }
        self.created.count(addr, now);
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
    fn wrong_secrets_for_one_invite_from_anywhere_use_up_its_budget() {
        let mut limiter = Limiter::with_invite_budget(3);
        let target = InviteId::parse("0123456789abcdef").unwrap();
        let other = InviteId::parse("fedcba9876543210").unwrap();
        let now = Instant::now();
        for i in 0..3 {
            assert_eq!(limiter.invite_blocked(&target, now), None, "after {i}");
            limiter.invite_failed(&target, now);
        }
        assert_eq!(limiter.invite_blocked(&target, now), Some(60));
        assert_eq!(limiter.invite_blocked(&other, now), None);
        assert_eq!(limiter.invite_blocked(&target, now + WINDOW), None);
        assert_eq!(limiter.invite_failures(&target), 3);
        assert_eq!(limiter.invite_failures(&other), 0);
        let mut unlimited = Limiter::with_invite_budget(0);
        for _ in 0..100 {
            unlimited.invite_failed(&target, now);
        }
        assert_eq!(unlimited.invite_blocked(&target, now), None);
        assert_eq!(unlimited.invite_failures(&target), 100);
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
