//! Leaky bucket, in two modes, each lock-free on one atomic `i64`.
//!
//! - **Pacer** (`go.uber.org/ratelimit`, the atomic-int64 limiter, exactly):
//!   `take` hands out permission times spaced `per / rate` apart; the caller
//!   sleeps until its time. With `slack`, up to `slack` unused intervals are
//!   banked for a burst (`maxSlack = slack × perRequest`).
//! - **Meter** (GCRA with a tolerance, as governor implements it): `check`
//!   answers "conforms" or "not until t" and never queues. The state is the
//!   theoretical arrival time (TAT); a cell conforms at `t` iff
//!   `t >= TAT − τ`, with `T = per / rate` and `τ = T × (burst − 1)`.
//!
//! Rules and deviations in `docs/semantics.md` ("Leaky bucket"); scenarios in
//! `tests/conformance/leaky_bucket/`.

use super::error::{check, Error, ErrorKind, Result};
use std::sync::atomic::{AtomicI64, Ordering};

/// Which algorithm a leaky bucket runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakyMode {
    /// uber-go/ratelimit: `take` returns when the caller may proceed.
    Pacer = 1,
    /// GCRA meter: `check` allows or says "not until".
    Meter = 2,
}

impl LeakyMode {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(Self::Pacer),
            2 => Some(Self::Meter),
            _ => None,
        }
    }
}

const SECOND: i64 = 1_000_000_000;

/// Leaky bucket configuration (see `rsl_leaky_bucket_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakyConfig {
    /// Pacer or meter.
    pub mode: LeakyMode,
    /// Permits per `per_ns`, `>= 1`.
    pub rate: u32,
    /// The period `rate` is counted over, `> 0`; `per_ns / rate` (integer
    /// division, as uber and governor) is the interval, and must be `>= 1`.
    pub per_ns: i64,
    /// Pacer: intervals that may be banked for a burst (uber `WithSlack`);
    /// 0 = `WithoutSlack`. Ignored by the meter.
    pub slack: u32,
    /// Meter: cells that may conform back to back, `>= 1` (governor
    /// `max_burst`). Ignored by the pacer.
    pub burst: u32,
}

impl Default for LeakyConfig {
    /// uber's `New(100)`: 100 per second, slack 10; meter burst 1.
    fn default() -> Self {
        Self {
            mode: LeakyMode::Pacer,
            rate: 100,
            per_ns: SECOND,
            slack: 10,
            burst: 1,
        }
    }
}

/// The derived constants of a valid configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Derived {
    /// `per_ns / rate`: uber's `perRequest`, governor's `T`.
    interval: i64,
    /// Pacer: `slack × interval`. Meter: `τ = interval × (burst − 1)`.
    tolerance: i64,
}

impl LeakyConfig {
    fn derive(&self) -> Result<Derived> {
        if self.rate == 0 {
            return Err(Error::config("rate", "must be >= 1, got 0"));
        }
        check::positive_ns("per_ns", self.per_ns)?;
        let interval = self.per_ns / i64::from(self.rate);
        if interval < 1 {
            return Err(Error::config(
                "rate",
                format!(
                    "per_ns / rate = {} / {} is below 1 ns; lower the rate or lengthen per_ns",
                    self.per_ns, self.rate
                ),
            ));
        }
        let tolerance = match self.mode {
            LeakyMode::Pacer => interval
                .checked_mul(i64::from(self.slack))
                .filter(|s| s.checked_add(interval).is_some())
                .ok_or_else(|| {
                    Error::config(
                        "slack",
                        format!(
                            "slack × interval ({} × {interval} ns) overflows 64-bit nanoseconds",
                            self.slack
                        ),
                    )
                })?,
            LeakyMode::Meter => {
                if self.burst == 0 {
                    return Err(Error::config("burst", "must be >= 1, got 0"));
                }
                interval
                    .checked_mul(i64::from(self.burst - 1))
                    .filter(|t| t.checked_add(interval).is_some())
                    .ok_or_else(|| {
                        Error::config(
                            "burst",
                            format!(
                                "interval × (burst − 1) ({interval} ns × {}) overflows 64-bit nanoseconds",
                                self.burst - 1
                            ),
                        )
                    })?
            }
        };
        Ok(Derived {
            interval,
            tolerance,
        })
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        self.derive().map(|_| ())
    }
}

/// The answer to a pacer take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit {
    /// A permission was issued (always for `take`; for `try_take`, only when
    /// the wait fits in the maximum).
    pub taken: bool,
    /// When the caller may proceed: the permission time if it is after `now`,
    /// else `now` (what uber's `Take` returns). When not taken, when it would
    /// have been.
    pub ready_at_ns: i64,
    /// `ready_at_ns − now`, `>= 0`: how long to sleep.
    pub wait_ns: i64,
}

/// The answer to a meter check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The cells conform and were counted.
    pub allowed: bool,
    /// When allowed, `now`; else the earliest time the same check could
    /// conform (governor's `NotUntil::earliest_possible`).
    pub retry_at_ns: i64,
    /// `retry_at_ns − now`, `>= 0` (governor's `wait_time_from(now)`).
    pub wait_ns: i64,
    /// When allowed, the cells that could still conform at `now` right after
    /// (governor's `remaining_burst_capacity`); 0 when denied.
    pub remaining: u32,
}

/// "No permission issued yet". Stored states are kept above it (a state of
/// exactly `i64::MIN` is stored as `i64::MIN + 1`), so it never collides.
const NEVER: i64 = i64::MIN;

/// A cache line of its own for the contended word, as uber pads its state.
#[derive(Debug)]
#[repr(align(64))]
struct Padded(AtomicI64);

/// A thread-safe, lock-free leaky bucket.
#[derive(Debug)]
pub struct LeakyBucket {
    state: Padded,
    cfg: LeakyConfig,
    interval: i64,
    tolerance: i64,
    /// `floor(2^64 / interval)`, to divide by the interval without a
    /// hardware division on the hot path (see [`Self::cells_in`]).
    reciprocal: u64,
}

#[cold]
#[inline(never)]
fn cold_wrong_mode(what: &str, mode: LeakyMode) -> Error {
    wrong_mode(what, mode)
}

fn wrong_mode(what: &str, mode: LeakyMode) -> Error {
    Error::argument(
        "handle",
        format!("{what} needs a {} bucket; this one is a {mode:?}", {
            match mode {
                LeakyMode::Pacer => "Meter",
                LeakyMode::Meter => "Pacer",
            }
        }),
    )
}

impl LeakyBucket {
    /// A bucket that has issued nothing yet.
    pub fn new(cfg: LeakyConfig) -> Result<Self> {
        let d = cfg.derive()?;
        Ok(Self {
            state: Padded(AtomicI64::new(NEVER)),
            cfg,
            interval: d.interval,
            tolerance: d.tolerance,
            // interval >= 1; for interval 1 the quotient 2^64 does not fit
            // and cells_in's correction step supplies the missing 1.
            reciprocal: u64::try_from((1u128 << 64) / d.interval.unsigned_abs() as u128)
                .unwrap_or(u64::MAX),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> LeakyConfig {
        self.cfg
    }

    /// `per_ns / rate`: the spacing of permits (uber `perRequest`, GCRA `T`).
    #[must_use]
    pub fn interval_ns(&self) -> i64 {
        self.interval
    }

    /// uber's next permission time after `prev` for a take at `now`.
    #[inline]
    fn next_issue(&self, prev: i64, now: i64) -> i64 {
        let per = self.interval;
        let slack = self.tolerance;
        if prev == NEVER {
            return now;
        }
        let since = now.saturating_sub(prev);
        if slack == 0 {
            if since > per {
                now
            } else {
                prev.saturating_add(per)
            }
        } else if since > slack + per {
            now.saturating_sub(slack)
        } else {
            prev.saturating_add(per)
        }
    }

    /// Why a check cannot be made (kept out of the hot path).
    #[cold]
    #[inline(never)]
    fn check_error(&self, n: u32) -> Error {
        if self.cfg.mode != LeakyMode::Meter {
            return wrong_mode("check", self.cfg.mode);
        }
        if n == 0 {
            return Error::argument("n", "must be >= 1, got 0");
        }
        Error {
            kind: ErrorKind::ExceedsCapacity,
            field: "n".into(),
            message: format!(
                "{n} cells exceed the burst {}; they can never conform",
                self.cfg.burst
            ),
        }
    }

    /// `room / interval` for `0 <= room`, exactly: the product with the
    /// reciprocal is low by at most 1 (for room < 2^63), which one
    /// multiplication corrects. A 64-bit division costs tens of cycles.
    #[inline]
    fn cells_in(&self, room: i64) -> u64 {
        let room = room.unsigned_abs();
        let t = self.interval.unsigned_abs();
        let q = ((u128::from(room) * u128::from(self.reciprocal)) >> 64) as u64;
        if (q + 1).saturating_mul(t) <= room {
            q + 1
        } else {
            q
        }
    }

    /// Pacer: issues the next permission at `now` (uber's `Take`). The
    /// caller sleeps `wait_ns`, then proceeds.
    /// Errors: a meter-mode bucket.
    #[inline]
    pub fn take_at(&self, now: i64) -> Result<Permit> {
        self.try_take_now(|| now, i64::MAX)
    }

    /// Pacer: like [`Self::take_at`], but only if the wait is at most
    /// `max_wait_ns` (negative = never); otherwise nothing changes and the
    /// answer says when the permission would have been issued.
    /// Errors: a meter-mode bucket.
    #[inline]
    pub fn try_take_at(&self, now: i64, max_wait_ns: i64) -> Result<Permit> {
        self.try_take_now(|| now, max_wait_ns)
    }

    /// [`Self::try_take_at`] reading the clock before each attempt, as uber
    /// re-reads it when its compare-and-swap loses a race.
    #[inline]
    pub fn try_take_now(&self, mut now: impl FnMut() -> i64, max_wait_ns: i64) -> Result<Permit> {
        if self.cfg.mode != LeakyMode::Pacer {
            return Err(cold_wrong_mode("take", self.cfg.mode));
        }
        let mut prev = self.state.0.load(Ordering::Acquire);
        loop {
            let t = now();
            let issue = self.next_issue(prev, t);
            let wait = issue.saturating_sub(t).max(0);
            let ready_at_ns = if wait > 0 { issue } else { t };
            if wait > max_wait_ns {
                return Ok(Permit {
                    taken: false,
                    ready_at_ns,
                    wait_ns: wait,
                });
            }
            let stored = issue.max(NEVER + 1);
            match self.state.0.compare_exchange_weak(
                prev,
                stored,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Ok(Permit {
                        taken: true,
                        ready_at_ns,
                        wait_ns: wait,
                    })
                }
                Err(actual) => prev = actual,
            }
        }
    }

    /// Meter: whether `n` cells conform at `now`; if so they are counted.
    /// Errors: a pacer-mode bucket; `n == 0`; `ExceedsCapacity` when
    /// `n > burst` (it could never conform).
    #[inline]
    pub fn check_at(&self, now: i64, n: u32) -> Result<Verdict> {
        self.check_now(|| now, n)
    }

    /// [`Self::check_at`] reading the clock before each attempt.
    #[inline]
    pub fn check_now(&self, mut now: impl FnMut() -> i64, n: u32) -> Result<Verdict> {
        if self.cfg.mode != LeakyMode::Meter || n == 0 || n > self.cfg.burst {
            return Err(self.check_error(n));
        }
        let t_cell = self.interval;
        let tau = self.tolerance;
        // n <= burst, so T × (n − 1) <= τ fits.
        let additional = t_cell * i64::from(n - 1);
        let mut tat = self.state.0.load(Ordering::Acquire);
        loop {
            let t0 = now();
            let earliest = tat.saturating_add(additional).saturating_sub(tau);
            if t0 < earliest {
                return Ok(Verdict {
                    allowed: false,
                    retry_at_ns: earliest,
                    wait_ns: earliest.saturating_sub(t0),
                    remaining: 0,
                });
            }
            let next = tat.max(t0).saturating_add(t_cell + additional);
            match self
                .state
                .0
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let cap = tau + t_cell;
                    let room = t0.saturating_add(cap).saturating_sub(next).clamp(0, cap);
                    let remaining = u32::try_from(self.cells_in(room)).unwrap_or(u32::MAX);
                    return Ok(Verdict {
                        allowed: true,
                        retry_at_ns: t0,
                        wait_ns: 0,
                        remaining,
                    });
                }
                Err(actual) => tat = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn pacer(rate: u32, slack: u32) -> LeakyBucket {
        LeakyBucket::new(LeakyConfig {
            rate,
            slack,
            ..LeakyConfig::default()
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn meter(rate: u32, burst: u32) -> LeakyBucket {
        LeakyBucket::new(LeakyConfig {
            mode: LeakyMode::Meter,
            rate,
            burst,
            ..LeakyConfig::default()
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn take(b: &LeakyBucket, now: i64) -> i64 {
        b.take_at(now)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .ready_at_ns
    }

    #[test]
    fn pacer_without_slack_spaces_evenly() {
        let b = pacer(100, 0);
        assert_eq!(take(&b, 0), 0);
        assert_eq!(take(&b, 0), 10 * MS);
        assert_eq!(take(&b, 0), 20 * MS);
        // Idle for long: the next permission is issued at now.
        assert_eq!(take(&b, 100 * MS), 100 * MS);
    }

    #[test]
    fn pacer_slack_banks_intervals() {
        let b = pacer(100, 10);
        assert_eq!(take(&b, 0), 0);
        // 1 s idle: state becomes now − 100 ms; 11 takes pass at once.
        for _ in 0..11 {
            assert_eq!(take(&b, 1_000 * MS), 1_000 * MS);
        }
        assert_eq!(take(&b, 1_000 * MS), 1_010 * MS);
    }

    #[test]
    fn pacer_works_at_wall_clock_nanoseconds() {
        let b = pacer(10, 0);
        let now = 1_700_000_000_000_000_000;
        assert_eq!(take(&b, now), now);
        assert_eq!(take(&b, now), now + 100 * MS);
    }

    #[test]
    fn sentinel_is_never_stored() {
        let b = pacer(1, 0);
        assert_eq!(take(&b, i64::MIN), i64::MIN);
        // The stored state is MIN + 1, so this is not a "first call".
        assert_eq!(take(&b, i64::MIN), i64::MIN + 1 + SECOND);
    }

    #[test]
    fn meter_burst_then_not_until() {
        let b = meter(5, 2); // T = 200 ms, τ = 200 ms
        let v = b.check_at(0, 1).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((v.allowed, v.remaining), (true, 1));
        let v = b.check_at(0, 1).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((v.allowed, v.remaining), (true, 0));
        let v = b.check_at(0, 1).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (v.allowed, v.retry_at_ns, v.wait_ns),
            (false, 200 * MS, 200 * MS)
        );
        assert_eq!(b.check_at(200 * MS, 1).map(|v| v.allowed), Ok(true));
    }

    #[test]
    fn cells_in_divides_exactly() {
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for interval in [
            1,
            2,
            3,
            7,
            999,
            1_000_000,
            333_333_333,
            i64::MAX / 3,
            i64::MAX,
        ] {
            let b = LeakyBucket::new(LeakyConfig {
                mode: LeakyMode::Meter,
                rate: 1,
                per_ns: interval,
                burst: 1,
                ..LeakyConfig::default()
            })
            .unwrap_or_else(|e| unreachable!("{e}"));
            for _ in 0..100_000 {
                let room = (next() >> 1) as i64 >> (next() % 63);
                assert_eq!(
                    b.cells_in(room),
                    room.unsigned_abs() / interval.unsigned_abs()
                );
            }
            for room in [
                0,
                1,
                interval - 1,
                interval,
                interval.saturating_add(1),
                i64::MAX,
            ] {
                let room = room.max(0);
                assert_eq!(
                    b.cells_in(room),
                    room.unsigned_abs() / interval.unsigned_abs()
                );
            }
        }
    }

    #[test]
    fn meter_rejects_what_can_never_conform() {
        let b = meter(5, 2);
        assert_eq!(
            b.check_at(0, 3).map_err(|e| e.kind),
            Err(ErrorKind::ExceedsCapacity)
        );
        assert_eq!(b.check_at(0, 0).map_err(|e| e.field), Err("n".into()));
        assert_eq!(b.take_at(0).map_err(|e| e.field), Err("handle".into()));
    }

    #[test]
    fn bad_configs_name_the_field() {
        let bad = |c: LeakyConfig| c.validate().map_err(|e| e.field);
        let d = LeakyConfig::default();
        assert_eq!(bad(LeakyConfig { rate: 0, ..d }), Err("rate".into()));
        assert_eq!(bad(LeakyConfig { per_ns: 0, ..d }), Err("per_ns".into()));
        assert_eq!(bad(LeakyConfig { per_ns: 99, ..d }), Err("rate".into()));
        assert_eq!(
            bad(LeakyConfig {
                slack: u32::MAX,
                per_ns: i64::MAX,
                rate: 1,
                ..d
            }),
            Err("slack".into())
        );
        assert_eq!(
            bad(LeakyConfig {
                mode: LeakyMode::Meter,
                burst: 0,
                ..d
            }),
            Err("burst".into())
        );
    }
}
