//! The time model: signed 64-bit nanoseconds from an arbitrary epoch.
//!
//! The library clock is `CLOCK_MONOTONIC` read through the vDSO (what
//! `std::time::Instant` uses on Linux), offset so that the process's first
//! reading is close to zero. Why this clock and not a raw TSC read or
//! `CLOCK_MONOTONIC_COARSE` is measured in `benches/clock.rs` and argued in
//! `docs/semantics.md` ("The clock").

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds on the library's monotonic clock. Never decreases within a
/// process; its epoch is arbitrary (about the first call).
#[must_use]
pub fn now_ns() -> i64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    let since = Instant::now().saturating_duration_since(epoch);
    // Seconds and nanoseconds separately: cheaper than a u128 as_nanos().
    // An i64 of nanoseconds lasts 292 years; saturate rather than wrap.
    i64::try_from(since.as_secs())
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(since.subsec_nanos()))
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
    fn elapsed_saturates() {
        assert_eq!(elapsed(i64::MIN, 1), i64::MIN);
        assert_eq!(elapsed(i64::MAX, -1), i64::MAX);
        assert_eq!(elapsed(5, 7), -2);
    }
}
