//! Window rate limiters: at most `limit` permits per `window_ns`, counted in
//! a fixed window, a sliding window of buckets, or the weighted two-window
//! approximation of a sliding window. Windows are epoch-aligned. Rules in
//! `docs/semantics.md` ("Window limiter"); scenarios in
//! `tests/conformance/window_limiter/`.

use super::criticality::Criticality;
use super::error::{check, Error, ErrorKind, Result};
use super::window::TimeWindow;
use parking_lot::Mutex;

/// How permits are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One epoch-aligned window of `window_ns`: the count resets at every
    /// multiple of `window_ns` (go-zero `PeriodLimit`, Resilience4j cycles).
    Fixed = 1,
    /// `buckets` epoch-aligned buckets of `window_ns / buckets`; the window
    /// is the current bucket and the `buckets − 1` before it (Sentinel's
    /// leap array, .NET `SlidingWindowRateLimiter`).
    SlidingBuckets = 2,
    /// Two epoch-aligned windows of `window_ns`; the estimate is
    /// `previous · (window_ns − elapsed) / window_ns + current`.
    SlidingWeighted = 3,
}

impl Mode {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Fixed,
            2 => Self::SlidingBuckets,
            3 => Self::SlidingWeighted,
            _ => return None,
        })
    }
}

/// Named presets (`RSL_WINDOW_LIMITER_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowPreset {
    /// The library's defaults: 100 per second over 10 sliding buckets.
    Default = 0,
    /// Sentinel's QPS flow rule: 2 buckets over 1 s (`limit` is the rule's
    /// `Threshold`, which has no default; ours is kept).
    Sentinel = 1,
    /// Resilience4j `RateLimiterConfig.ofDefaults()`: 50 per 500 ns, fixed.
    Resilience4j = 2,
}

impl WindowPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Sentinel,
            2 => Self::Resilience4j,
            _ => return None,
        })
    }
}

/// Largest bucket count of a sliding-buckets window.
pub(crate) const MAX_WINDOW_BUCKETS: u32 = 1 << 16;
/// Shares are in permille of `limit`.
const PERMILLE: u64 = 1000;
const SECOND: i64 = 1_000_000_000;

/// Window limiter configuration (see `rsl_window_limiter_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimiterConfig {
    /// How permits are counted.
    pub mode: Mode,
    /// Permits per window (>= 1).
    pub limit: u32,
    /// Window length (> 0).
    pub window_ns: i64,
    /// SlidingBuckets only: buckets per window, `window_ns` a multiple of it.
    pub buckets: u32,
    /// Share of `limit` SHEDDABLE requests may fill, in permille.
    pub sheddable_share_permille: u32,
    /// Share of `limit` SHEDDABLE_PLUS requests may fill, in permille.
    pub sheddable_plus_share_permille: u32,
    /// Share of `limit` CRITICAL requests may fill, in permille.
    pub critical_share_permille: u32,
}

impl Default for WindowLimiterConfig {
    fn default() -> Self {
        Self::preset(WindowPreset::Default)
    }
}

impl WindowLimiterConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: WindowPreset) -> Self {
        let base = Self {
            mode: Mode::SlidingBuckets,
            limit: 100,
            window_ns: SECOND,
            buckets: 10,
            sheddable_share_permille: 1000,
            sheddable_plus_share_permille: 1000,
            critical_share_permille: 1000,
        };
        match preset {
            WindowPreset::Default => base,
            WindowPreset::Sentinel => Self { buckets: 2, ..base },
            WindowPreset::Resilience4j => Self {
                mode: Mode::Fixed,
                limit: 50,
                window_ns: 500,
                buckets: 1,
                ..base
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        if self.limit == 0 {
            return Err(Error::config("limit", "must be >= 1, got 0"));
        }
        check::positive_ns("window_ns", self.window_ns)?;
        if self.mode == Mode::SlidingBuckets {
            check::count_in("buckets", self.buckets, 1, MAX_WINDOW_BUCKETS)?;
            if self.window_ns % i64::from(self.buckets) != 0 {
                return Err(Error::config(
                    "window_ns",
                    format!(
                        "must be a multiple of buckets ({}), got {}",
                        self.buckets, self.window_ns
                    ),
                ));
            }
        }
        let shares = [
            ("sheddable_share_permille", self.sheddable_share_permille),
            (
                "sheddable_plus_share_permille",
                self.sheddable_plus_share_permille,
            ),
            ("critical_share_permille", self.critical_share_permille),
        ];
        for (field, v) in shares {
            check::count_in(field, v, 0, 1000)?;
        }
        if self.sheddable_share_permille > self.sheddable_plus_share_permille {
            return Err(Error::config(
                "sheddable_share_permille",
                format!(
                    "must be <= sheddable_plus_share_permille ({}), got {}",
                    self.sheddable_plus_share_permille, self.sheddable_share_permille
                ),
            ));
        }
        if self.sheddable_plus_share_permille > self.critical_share_permille {
            return Err(Error::config(
                "sheddable_plus_share_permille",
                format!(
                    "must be <= critical_share_permille ({}), got {}",
                    self.critical_share_permille, self.sheddable_plus_share_permille
                ),
            ));
        }
        Ok(())
    }

    /// The permits a level may fill the window up to:
    /// `floor(limit · share / 1000)`, and `limit` for CRITICAL_PLUS.
    #[must_use]
    pub fn ceiling(&self, level: Criticality) -> u64 {
        let share = match level {
            Criticality::Sheddable => self.sheddable_share_permille,
            Criticality::SheddablePlus => self.sheddable_plus_share_permille,
            Criticality::Critical => self.critical_share_permille,
            Criticality::CriticalPlus => return u64::from(self.limit),
        };
        u64::from(self.limit) * u64::from(share) / PERMILLE
    }

    fn bucket_count(&self) -> u32 {
        match self.mode {
            Mode::Fixed => 1,
            Mode::SlidingBuckets => self.buckets,
            Mode::SlidingWeighted => 2,
        }
    }

    fn bucket_ns(&self) -> i64 {
        match self.mode {
            Mode::SlidingBuckets => self.window_ns / i64::from(self.buckets.max(1)),
            Mode::Fixed | Mode::SlidingWeighted => self.window_ns,
        }
    }
}

/// The answer to a try-acquire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowDecision {
    /// The permits were granted (and counted).
    pub allowed: bool,
    /// When denied: nanoseconds from `now` to the earliest instant at which
    /// the same request would be granted if nothing else were admitted
    /// meanwhile (always >= 1). 0 when allowed.
    pub retry_after_ns: i64,
    /// Permits counted in the window after the call (Fixed: the current
    /// window; SlidingBuckets: all its buckets; SlidingWeighted: the current
    /// window only).
    pub window_count: u64,
    /// SlidingWeighted: permits counted in the previous window; else 0.
    pub previous_count: u64,
    /// Permits this level could still take at this instant.
    pub remaining: u64,
    /// The level's ceiling (`limit` scaled by its share).
    pub level_limit: u64,
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowMetrics {
    /// As in [`WindowDecision::window_count`].
    pub window_count: u64,
    /// As in [`WindowDecision::previous_count`].
    pub previous_count: u64,
    /// Permits a CRITICAL_PLUS request could take now.
    pub remaining: u64,
    /// Permits granted over the limiter's life.
    pub admitted_total: u64,
    /// Requests denied over its life (counted once per call).
    pub rejected_total: u64,
}

#[derive(Debug)]
struct State {
    window: TimeWindow<u64>,
    /// The latest `now` seen: earlier timestamps are treated as this one.
    latest: Option<i64>,
    admitted_total: u64,
    rejected_total: u64,
}

/// A thread-safe window rate limiter.
#[derive(Debug)]
pub struct WindowLimiter {
    cfg: WindowLimiterConfig,
    state: Mutex<State>,
}

impl WindowLimiter {
    /// An empty limiter.
    pub fn new(cfg: WindowLimiterConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            state: Mutex::new(State {
                window: TimeWindow::new(cfg.bucket_count() as usize, cfg.bucket_ns()),
                latest: None,
                admitted_total: 0,
                rejected_total: 0,
            }),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> WindowLimiterConfig {
        self.cfg
    }

    /// Asks for `n` permits at `now` for a request of criticality `level`.
    ///
    /// Errors: `n == 0` (`InvalidArgument`); `n` above `limit`, or above the
    /// level's ceiling (`ExceedsCapacity`: it could never be granted).
    pub fn try_acquire_at(&self, now: i64, n: u32, level: Criticality) -> Result<WindowDecision> {
        if n == 0 {
            return Err(Error::argument("n", "must be >= 1, got 0"));
        }
        let ceiling = self.cfg.ceiling(level);
        if u64::from(n) > u64::from(self.cfg.limit) {
            return Err(exceeds(format!(
                "{n} permits exceed the limit of {} per window",
                self.cfg.limit
            )));
        }
        if u64::from(n) > ceiling {
            return Err(exceeds(format!(
                "{n} permits exceed the {ceiling} a {} request may use per window",
                level.name()
            )));
        }
        let mut s = self.state.lock();
        let eff = s.move_to(now);
        let n = u64::from(n);
        let view = self.view(&s, eff);
        let allowed = view.fits(n, ceiling);
        let mut retry_after_ns = 0;
        if allowed {
            s.window.add(eff, n);
            s.admitted_total = s.admitted_total.saturating_add(n);
        } else {
            s.rejected_total = s.rejected_total.saturating_add(1);
            retry_after_ns = self
                .earliest_grant(&s, eff, &view, n, ceiling)
                .saturating_sub(now)
                .max(1);
        }
        let after = self.view(&s, eff);
        Ok(WindowDecision {
            allowed,
            retry_after_ns,
            window_count: after.current,
            previous_count: after.previous,
            remaining: after.remaining(ceiling),
            level_limit: ceiling,
        })
    }

    /// A metrics snapshot at `now` (it moves the limiter's clock like any call).
    pub fn metrics_at(&self, now: i64) -> WindowMetrics {
        let mut s = self.state.lock();
        let eff = s.move_to(now);
        let view = self.view(&s, eff);
        WindowMetrics {
            window_count: view.current,
            previous_count: view.previous,
            remaining: view.remaining(u64::from(self.cfg.limit)),
            admitted_total: s.admitted_total,
            rejected_total: s.rejected_total,
        }
    }

    fn view(&self, s: &State, eff: i64) -> View {
        match self.cfg.mode {
            Mode::Fixed | Mode::SlidingBuckets => View {
                current: s.window.total(),
                previous: 0,
                weight_num: 0,
                window_ns: self.cfg.window_ns,
            },
            Mode::SlidingWeighted => {
                let head = s.window.head().unwrap_or(0);
                let elapsed = eff.rem_euclid(self.cfg.window_ns);
                View {
                    current: s.window.get(head),
                    previous: s.window.get(head.saturating_sub(1)),
                    weight_num: self.cfg.window_ns - elapsed,
                    window_ns: self.cfg.window_ns,
                }
            }
        }
    }

    /// The earliest instant at which `n` permits would fit under `ceiling`
    /// if nothing else were admitted meanwhile (`view` does not fit them now).
    fn earliest_grant(&self, s: &State, eff: i64, view: &View, n: u64, ceiling: u64) -> i64 {
        match self.cfg.mode {
            Mode::Fixed | Mode::SlidingBuckets => {
                // The oldest buckets leave the window one by one, at the
                // starts of the buckets after the current one.
                let b = self.cfg.bucket_ns();
                let start = eff - eff.rem_euclid(b);
                let head = s.window.head().unwrap_or(0);
                let len = i64::from(self.cfg.bucket_count());
                let mut freed = 0u64;
                for k in 1..=len {
                    freed = freed.saturating_add(s.window.get(head - len + k));
                    if view.current.saturating_sub(freed) + n <= ceiling {
                        return start.saturating_add(k.saturating_mul(b));
                    }
                }
                start.saturating_add(len.saturating_mul(b))
            }
            Mode::SlidingWeighted => {
                let w = i128::from(self.cfg.window_ns);
                let start = eff - eff.rem_euclid(self.cfg.window_ns);
                let (c, p) = (u128::from(view.current), u128::from(view.previous));
                let (n, cap) = (u128::from(n), u128::from(ceiling));
                // Solve prev · (W − e) <= room · W for the elapsed time e in a
                // window: e >= W − floor(room · W / prev).
                let first_e = |prev: u128, room: u128| -> i128 {
                    if prev == 0 {
                        return 0;
                    }
                    let fit = i128::try_from(room * w.unsigned_abs() / prev).unwrap_or(i128::MAX);
                    (w - fit.min(w)).max(0)
                };
                let at = if c + n <= cap {
                    i128::from(start) + first_e(p, cap - c - n)
                } else {
                    // Not in this window: in the next one the current count
                    // becomes the previous and the current starts at zero.
                    i128::from(start) + w + first_e(c, cap - n)
                };
                i64::try_from(at).unwrap_or(i64::MAX)
            }
        }
    }
}

fn exceeds(message: String) -> Error {
    Error {
        kind: ErrorKind::ExceedsCapacity,
        field: "n".into(),
        message,
    }
}

/// The counts a decision looks at.
struct View {
    current: u64,
    previous: u64,
    /// SlidingWeighted: `window_ns − elapsed` (the previous window's weight
    /// is `weight_num / window_ns`); 0 otherwise.
    weight_num: i64,
    window_ns: i64,
}

impl View {
    /// `previous · weight_num + (current + n) · W <= ceiling · W`, exactly.
    fn fits(&self, n: u64, ceiling: u64) -> bool {
        let w = u128::from(self.window_ns.unsigned_abs());
        let prev = u128::from(self.previous) * u128::from(self.weight_num.unsigned_abs());
        prev + (u128::from(self.current) + u128::from(n)) * w <= u128::from(ceiling) * w
    }

    /// The largest `n` that [`View::fits`] at this instant.
    fn remaining(&self, ceiling: u64) -> u64 {
        let w = u128::from(self.window_ns.unsigned_abs());
        let prev = u128::from(self.previous) * u128::from(self.weight_num.unsigned_abs());
        let room = (u128::from(ceiling) * w).saturating_sub(prev) / w;
        u64::try_from(room.saturating_sub(u128::from(self.current))).unwrap_or(u64::MAX)
    }
}

impl State {
    /// Moves to `max(now, latest)` and returns it.
    fn move_to(&mut self, now: i64) -> i64 {
        let eff = self.latest.map_or(now, |l| l.max(now));
        self.latest = Some(eff);
        self.window.advance(eff);
        eff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(mode: Mode, limit: u32, window_ns: i64, buckets: u32) -> WindowLimiter {
        WindowLimiter::new(WindowLimiterConfig {
            mode,
            limit,
            window_ns,
            buckets,
            ..WindowLimiterConfig::default()
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn take(l: &WindowLimiter, now: i64, n: u32) -> WindowDecision {
        l.try_acquire_at(now, n, Criticality::Critical)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn presets_validate() {
        for raw in 0..3 {
            let p = WindowPreset::from_raw(raw).unwrap_or(WindowPreset::Default);
            assert_eq!(WindowLimiterConfig::preset(p).validate(), Ok(()));
        }
    }

    #[test]
    fn fixed_window_boundary_burst() {
        let l = limiter(Mode::Fixed, 3, 1000, 1);
        for _ in 0..3 {
            assert!(take(&l, 999, 1).allowed);
        }
        let d = take(&l, 999, 1);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_ns, 1);
        for _ in 0..3 {
            assert!(take(&l, 1000, 1).allowed);
        }
    }

    #[test]
    fn sliding_buckets_retry_is_when_enough_leaves() {
        let l = limiter(Mode::SlidingBuckets, 4, 1000, 4);
        assert!(take(&l, 0, 1).allowed); // bucket 0
        assert!(take(&l, 250, 2).allowed); // bucket 1
        assert!(take(&l, 600, 1).allowed); // bucket 2
        let d = take(&l, 700, 3);
        assert!(!d.allowed);
        // Bucket 0 leaves at 1000 (3 left, room 1), bucket 1 at 1250 (room 3).
        assert_eq!(d.retry_after_ns, 550);
        assert!(!take(&l, 1249, 3).allowed);
        assert!(take(&l, 1250, 3).allowed);
    }

    #[test]
    fn weighted_retry_solves_the_estimate() {
        let l = limiter(Mode::SlidingWeighted, 10, 1000, 1);
        assert!(take(&l, 500, 10).allowed);
        // At 1250: 10 · 750/1000 = 7.5, room 2.
        let d = take(&l, 1250, 3);
        assert!(!d.allowed);
        // Need 10 · (1000 − e) <= 7 · 1000 → e >= 300: instant 1300.
        assert_eq!(d.retry_after_ns, 50);
        assert!(!take(&l, 1299, 3).allowed);
        assert!(take(&l, 1300, 3).allowed);
    }

    #[test]
    fn weighted_next_window_when_current_is_full() {
        let l = limiter(Mode::SlidingWeighted, 10, 1000, 1);
        assert!(take(&l, 0, 10).allowed);
        assert!(take(&l, 1999, 1).allowed); // prev weight 1/1000: 0.01 + 1
        assert!(take(&l, 1999, 8).allowed); // 0.01 + 9 <= 10
        let d = take(&l, 1999, 2);
        assert!(!d.allowed);
        // Current 9 + 2 > 10: next window, prev 9 · (1000 − e) <= 8000 → e >= 112.
        assert_eq!(d.retry_after_ns, 1 + 112);
    }

    #[test]
    fn errors_name_n() {
        let l = limiter(Mode::Fixed, 3, 1000, 1);
        let e = l.try_acquire_at(0, 4, Criticality::CriticalPlus).err();
        assert!(e.is_some_and(|e| e.kind == ErrorKind::ExceedsCapacity && e.field == "n"));
        let e = l.try_acquire_at(0, 0, Criticality::CriticalPlus).err();
        assert!(e.is_some_and(|e| e.kind == ErrorKind::InvalidArgument));
    }
}
