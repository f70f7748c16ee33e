//! The time model: signed 64-bit nanoseconds from an arbitrary epoch.
//!
//! The library clock is the raw `CLOCK_MONOTONIC` value read through the
//! vDSO (rustix's safe `clock_gettime`), with no per-process epoch: the
//! same clock as Java's `System.nanoTime()`, Python's `time.monotonic_ns()`,
//! Go's monotonic clock and C++'s `steady_clock` on Linux, so readings taken
//! by a binding may be mixed with the library's, and two copies of the
//! library in one process agree. Why this clock and not a raw TSC read or
//! `CLOCK_MONOTONIC_COARSE` is measured in `benches/clock.rs` and argued in
//! `docs/semantics.md` ("The clock").

use rustix::time::{clock_gettime, ClockId};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Nanoseconds on `CLOCK_MONOTONIC` (time since boot on Linux). Never
/// decreases.
#[must_use]
#[inline]
pub fn now_ns() -> i64 {
    let t = clock_gettime(ClockId::Monotonic);
    // 292 years of nanoseconds fit an i64; saturate rather than wrap.
    t.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec)
}

/// An opt-in clamp that makes the times a handle sees monotonic: a reading
/// earlier than the latest one seen is treated as that latest one.
///
/// For callers that read the clock, then queue for the handle: with several
/// threads, a call can arrive with an older reading than the one before it.
/// Off by default, so that time going back keeps each primitive's own
/// meaning (x/time/rate earns tokens again).
#[derive(Debug)]
pub struct MonotonicClamp {
    enabled: AtomicBool,
    latest: AtomicI64,
}

impl Default for MonotonicClamp {
    fn default() -> Self {
        Self::new()
    }
}

impl MonotonicClamp {
    /// Disabled, with no reading seen.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            latest: AtomicI64::new(i64::MIN),
        }
    }

    /// Turns the clamp on or off. Turning it on starts from the readings
    /// seen after that.
    pub fn set_enabled(&self, on: bool) {
        if on && !self.enabled.load(Ordering::Relaxed) {
            self.latest.store(i64::MIN, Ordering::Relaxed);
        }
        self.enabled.store(on, Ordering::Release);
    }

    /// Whether the clamp is on.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// `now`, or the latest reading seen if that is later (when enabled).
    #[must_use]
    #[inline]
    pub fn apply(&self, now: i64) -> i64 {
        if !self.enabled.load(Ordering::Relaxed) {
            return now;
        }
        self.latest.fetch_max(now, Ordering::AcqRel).max(now)
    }
}

/// `a - b` for timestamps, saturating instead of overflowing.
#[must_use]
pub fn elapsed(now: i64, since: i64) -> i64 {
    now.saturating_sub(since)
}

/// True when the instant `deadline` has been reached at `now`. Every deadline
/// in the library is inclusive: the wait is over *at* the deadline.
#[must_use]
pub fn reached(now: i64, deadline: i64) -> bool {
    now >= deadline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
        assert!(a >= 0);
    }

    #[test]
    fn the_clamp_is_off_by_default_and_keeps_the_latest_reading_when_on() {
        let c = MonotonicClamp::new();
        assert_eq!(c.apply(10), 10);
        assert_eq!(c.apply(5), 5);
        c.set_enabled(true);
        assert!(c.enabled());
        assert_eq!(c.apply(10), 10);
        assert_eq!(c.apply(5), 10);
        assert_eq!(c.apply(i64::MIN), 10);
        assert_eq!(c.apply(11), 11);
        c.set_enabled(false);
        assert_eq!(c.apply(5), 5);
        c.set_enabled(true);
        assert_eq!(c.apply(5), 5, "re-enabling starts afresh");
    }

    #[test]
    fn elapsed_saturates() {
        assert_eq!(elapsed(i64::MIN, 1), i64::MIN);
        assert_eq!(elapsed(i64::MAX, -1), i64::MAX);
        assert_eq!(elapsed(5, 7), -2);
    }
}
