//! The BBR-style adaptive limiter of go-kratos/aegis (`ratelimit/bbr`),
//! following its code: drop when
//! `(cpu >= threshold OR now − drop_start <= cooldown) AND inflight > 1 AND
//! inflight > floor(max_pass · min_rt_ms · buckets_per_sec / 1000)`,
//! with the limit scaled per criticality. Rules in `docs/semantics.md`
//! ("Adaptive limiter"); scenarios in `tests/conformance/adaptive_limiter/`.

use super::clock::elapsed;
use super::cpu_sampler::{self, SamplerGuard};
use super::criticality::Criticality;
use super::error::{check, Error, Result};
use super::outcome::Outcome;
use super::window::TimeWindow;
use parking_lot::Mutex;
use std::ops::{AddAssign, SubAssign};

/// Where the limiter's CPU usage comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuSource {
    /// Set by the caller (`set_cpu`); starts at 0. Deterministic: for tests,
    /// simulations, and hosts that measure CPU themselves.
    Manual = 1,
    /// The shared background sampler (`cpu_sampler`), started when the
    /// limiter is created and released when it is dropped.
    Sampler = 2,
}

impl CpuSource {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Manual,
            2 => Self::Sampler,
            _ => return None,
        })
    }
}

/// Named presets (`RSL_ADAPTIVE_LIMITER_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimiterPreset {
    /// Kratos's window, threshold and cooldown; pass counts successes only;
    /// the criticality ladder 500/750/1000/1250 permille.
    Default = 0,
    /// go-kratos/aegis `bbr.NewLimiter()` exactly: every completion counts
    /// as a pass, and every level gets the same limit.
    Kratos = 1,
}

impl LimiterPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Kratos,
            _ => return None,
        })
    }
}

const SECOND: i64 = 1_000_000_000;
const MILLISECOND: i64 = 1_000_000;
pub(crate) const MAX_LIMITER_BUCKETS: u32 = 1 << 16;
/// Largest per-level factor: 100 times the estimated capacity.
pub(crate) const MAX_LEVEL_PERMILLE: u32 = 100_000;

/// Adaptive limiter configuration (see `rsl_adaptive_limiter_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveLimiterConfig {
    /// Where CPU usage comes from.
    pub cpu_source: CpuSource,
    /// Window over which pass and rt are kept (Kratos `Window`, 10 s).
    pub window_ns: i64,
    /// Buckets in the window (Kratos `Bucket`, 100), 2..=65536; each bucket
    /// at most 1 s long.
    pub buckets: u32,
    /// CPU at or above this (permille) means overloaded (Kratos 800).
    pub cpu_threshold_permille: u32,
    /// After the first drop of an episode, keep applying the inflight test
    /// for this long even if CPU fell (Kratos: 1 s, hard-coded).
    pub cooldown_ns: i64,
    /// A failed call counts as a pass (and its rt) like a success. Kratos
    /// counts every completion; our default counts successes only.
    pub count_failures: bool,
    /// Per-level limit factors, permille of the estimated capacity, indexed
    /// by [`Criticality::rank`]; non-decreasing.
    pub level_permille: [u32; 4],
}

impl Default for AdaptiveLimiterConfig {
    fn default() -> Self {
        Self::preset(LimiterPreset::Default)
    }
}

impl AdaptiveLimiterConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: LimiterPreset) -> Self {
        let base = Self {
            cpu_source: CpuSource::Sampler,
            window_ns: 10 * SECOND,
            buckets: 100,
            cpu_threshold_permille: 800,
            cooldown_ns: SECOND,
            count_failures: false,
            level_permille: [500, 750, 1000, 1250],
        };
        match preset {
            LimiterPreset::Default => base,
            LimiterPreset::Kratos => Self {
                count_failures: true,
                level_permille: [1000; 4],
                ..base
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        check::positive_ns("window_ns", self.window_ns)?;
        check::count_in("buckets", self.buckets, 2, MAX_LIMITER_BUCKETS)?;
        if self.window_ns % i64::from(self.buckets) != 0 {
            return Err(Error::config(
                "window_ns",
                format!(
                    "must be a multiple of buckets ({}), got {}",
                    self.buckets, self.window_ns
                ),
            ));
        }
        let bucket_ns = self.window_ns / i64::from(self.buckets);
        if bucket_ns > SECOND {
            return Err(Error::config(
                "buckets",
                format!(
                    "buckets of {bucket_ns} ns are longer than 1 s (window_ns / buckets); the limit needs at least one bucket per second"
                ),
            ));
        }
        check::count_in(
            "cpu_threshold_permille",
            self.cpu_threshold_permille,
            0,
            1000,
        )?;
        check::non_negative_ns("cooldown_ns", self.cooldown_ns)?;
        let names = [
            "sheddable_permille",
            "sheddable_plus_permille",
            "critical_permille",
            "critical_plus_permille",
        ];
        for (name, v) in names.iter().zip(self.level_permille) {
            check::count_in(name, v, 0, MAX_LEVEL_PERMILLE)?;
        }
        for (i, pair) in self.level_permille.windows(2).enumerate() {
            if let ([lo, hi], (Some(lo_name), Some(hi_name))) =
                (pair, (names.get(i), names.get(i + 1)))
            {
                if lo > hi {
                    return Err(Error::config(
                        lo_name,
                        format!("must be <= {hi_name} ({hi}), got {lo}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn bucket_ns(&self) -> i64 {
        self.window_ns / i64::from(self.buckets.max(1))
    }
}

/// Per-bucket statistics: passes, and the rt samples (> 0 ms) among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stat {
    pass: u64,
    rt_sum_ms: u64,
    rt_count: u64,
}

impl AddAssign for Stat {
    fn add_assign(&mut self, o: Self) {
        self.pass = self.pass.saturating_add(o.pass);
        self.rt_sum_ms = self.rt_sum_ms.saturating_add(o.rt_sum_ms);
        self.rt_count = self.rt_count.saturating_add(o.rt_count);
    }
}

impl SubAssign for Stat {
    fn sub_assign(&mut self, o: Self) {
        self.pass = self.pass.saturating_sub(o.pass);
        self.rt_sum_ms = self.rt_sum_ms.saturating_sub(o.rt_sum_ms);
        self.rt_count = self.rt_count.saturating_sub(o.rt_count);
    }
}

/// Handed out with an admitted request; release it exactly once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Token {
    /// When the request was admitted; its rt is measured from here.
    pub acquired_at_ns: i64,
}

/// The answer to an acquire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterDecision {
    /// The request may proceed (then release `token` when it completes).
    pub allowed: bool,
    /// CPU usage the decision saw, permille.
    pub cpu_permille: u32,
    /// `cpu_permille >= cpu_threshold_permille`.
    pub overloaded: bool,
    /// Not overloaded, but inside the cooldown of a drop episode.
    pub cooling_down: bool,
    /// Requests in flight before this one (what the rule compares).
    pub inflight: u64,
    /// The limit for this request's level.
    pub limit: u64,
    /// max_pass used (per bucket).
    pub max_pass: u64,
    /// min_rt used (ms).
    pub min_rt_ms: u64,
    /// Pass to release, when allowed.
    pub token: Token,
}

/// What a release recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterRelease {
    /// It counted as a pass.
    pub counted: bool,
    /// The rt recorded, ms (`ceil(elapsed / 1 ms)`); 0 = none recorded.
    pub rt_ms: u64,
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterMetrics {
    /// CPU usage, permille.
    pub cpu_permille: u32,
    /// Requests in flight.
    pub inflight: u64,
    /// max_pass over the complete buckets (>= 1).
    pub max_pass: u64,
    /// min_rt over the complete buckets, ms (>= 1).
    pub min_rt_ms: u64,
    /// Limit per level, indexed by [`Criticality::rank`].
    pub limits: [u64; 4],
    /// When the current drop episode started, if one did.
    pub drop_started_ns: Option<i64>,
    /// Requests admitted over the limiter's life.
    pub allowed_total: u64,
    /// Requests dropped, per level, over its life.
    pub dropped: [u64; 4],
}

#[derive(Debug)]
struct State {
    window: TimeWindow<Stat>,
    inflight: u64,
    /// Kratos's `prevDropTime`: the first drop of the current episode.
    drop_started: Option<i64>,
    /// (head bucket, max_pass, min_rt_ms): the complete buckets change only
    /// when the head moves.
    cache: Option<(i64, u64, u64)>,
    manual_cpu: u32,
    allowed_total: u64,
    dropped: [u64; 4],
}

impl State {
    /// max_pass and min_rt over the complete buckets (every bucket of the
    /// window but the newest), after advancing to `now`.
    fn estimates(&mut self, now: i64) -> (u64, u64) {
        self.window.advance(now);
        let head = self.window.head().unwrap_or(0);
        if let Some((h, p, r)) = self.cache {
            if h == head {
                return (p, r);
            }
        }
        let n = self.window.len() as i64;
        let mut max_pass = 1u64;
        let mut min_rt: Option<u64> = None;
        for k in 1..n {
            let b = self.window.get(head - k);
            max_pass = max_pass.max(b.pass);
            if b.rt_count > 0 {
                let avg = b.rt_sum_ms.div_ceil(b.rt_count);
                min_rt = Some(min_rt.map_or(avg, |m| m.min(avg)));
            }
        }
        let min_rt = min_rt.unwrap_or(1).max(1);
        self.cache = Some((head, max_pass, min_rt));
        (max_pass, min_rt)
    }
}

/// A thread-safe adaptive (BBR) limiter.
#[derive(Debug)]
pub struct AdaptiveLimiter {
    cfg: AdaptiveLimiterConfig,
    buckets_per_sec: u64,
    state: Mutex<State>,
    _sampler: Option<SamplerGuard>,
}

impl AdaptiveLimiter {
    /// A limiter with an empty window. With `CpuSource::Sampler` it takes a
    /// reference on the shared sampler thread (starting it if needed); that
    /// can fail only if the thread cannot be spawned.
    pub fn new(cfg: AdaptiveLimiterConfig) -> Result<Self> {
        cfg.validate()?;
        let sampler = match cfg.cpu_source {
            CpuSource::Manual => None,
            CpuSource::Sampler => Some(SamplerGuard::acquire().map_err(|e| {
                Error::config(
                    "cpu_source",
                    format!("could not start the CPU sampler thread: {e}"),
                )
            })?),
        };
        let bucket_ns = cfg.bucket_ns();
        Ok(Self {
            cfg,
            buckets_per_sec: u64::try_from(SECOND / bucket_ns.max(1)).unwrap_or(1),
            state: Mutex::new(State {
                window: TimeWindow::new(cfg.buckets as usize, bucket_ns),
                inflight: 0,
                drop_started: None,
                cache: None,
                manual_cpu: 0,
                allowed_total: 0,
                dropped: [0; 4],
            }),
            _sampler: sampler,
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> AdaptiveLimiterConfig {
        self.cfg
    }

    /// Sets the CPU usage of a `Manual` limiter, permille in `0..=1000`.
    pub fn set_cpu(&self, cpu_permille: u32) -> Result<()> {
        if self.cfg.cpu_source != CpuSource::Manual {
            return Err(Error::argument(
                "cpu_source",
                "this limiter reads the shared sampler; set_cpu needs a MANUAL cpu_source",
            ));
        }
        if cpu_permille > 1000 {
            return Err(Error::argument(
                "cpu_permille",
                format!("must be in [0, 1000], got {cpu_permille}"),
            ));
        }
        self.state.lock().manual_cpu = cpu_permille;
        Ok(())
    }

    fn cpu(&self, s: &State) -> u32 {
        match self.cfg.cpu_source {
            CpuSource::Manual => s.manual_cpu,
            CpuSource::Sampler => cpu_sampler::current_permille(),
        }
    }

    /// The inflight limit of `level`:
    /// `floor(max_pass · min_rt · buckets_per_sec · factor / 1_000_000)`.
    fn limit(&self, max_pass: u64, min_rt: u64, level: Criticality) -> u64 {
        let factor = self
            .cfg
            .level_permille
            .get(level.rank())
            .copied()
            .unwrap_or(1000);
        let product = u128::from(max_pass)
            * u128::from(min_rt)
            * u128::from(self.buckets_per_sec)
            * u128::from(factor);
        u64::try_from(product / 1_000_000).unwrap_or(u64::MAX)
    }

    /// Decides at `now` whether a request of `level` may proceed; when it
    /// may, it is counted in flight until released.
    pub fn acquire_at(&self, now: i64, level: Criticality) -> LimiterDecision {
        let mut s = self.state.lock();
        let (max_pass, min_rt) = s.estimates(now);
        let cpu = self.cpu(&s);
        let limit = self.limit(max_pass, min_rt, level);
        let inflight = s.inflight;
        let over = inflight > 1 && inflight > limit;
        let overloaded = cpu >= self.cfg.cpu_threshold_permille;
        let mut cooling_down = false;
        let drop = if overloaded {
            if over && s.drop_started.is_none() {
                s.drop_started = Some(now);
            }
            over
        } else {
            match s.drop_started {
                None => false,
                Some(start) if elapsed(now, start) <= self.cfg.cooldown_ns => {
                    cooling_down = true;
                    over
                }
                Some(_) => {
                    s.drop_started = None;
                    false
                }
            }
        };
        if drop {
            if let Some(d) = s.dropped.get_mut(level.rank()) {
                *d = d.saturating_add(1);
            }
        } else {
            s.inflight = s.inflight.saturating_add(1);
            s.allowed_total = s.allowed_total.saturating_add(1);
        }
        LimiterDecision {
            allowed: !drop,
            cpu_permille: cpu,
            overloaded,
            cooling_down,
            inflight,
            limit,
            max_pass,
            min_rt_ms: min_rt,
            token: Token {
                acquired_at_ns: now,
            },
        }
    }

    /// Releases an admitted request that completed at `now` with `outcome`:
    /// it leaves the in-flight count; a success (and a failure when
    /// `count_failures`) adds a pass and, if its rt rounds up to at least
    /// 1 ms, an rt sample to the bucket of `now`. Ignored adds nothing.
    pub fn release_at(&self, now: i64, token: &Token, outcome: Outcome) -> LimiterRelease {
        let mut s = self.state.lock();
        s.inflight = s.inflight.saturating_sub(1);
        let counted = match outcome {
            Outcome::Success => true,
            Outcome::Failure => self.cfg.count_failures,
            Outcome::Ignored => false,
        };
        if !counted {
            s.window.advance(now);
            return LimiterRelease::default();
        }
        let rt_ms = rt_ms(elapsed(now, token.acquired_at_ns));
        s.window.add(
            now,
            Stat {
                pass: 1,
                rt_sum_ms: rt_ms,
                rt_count: u64::from(rt_ms > 0),
            },
        );
        LimiterRelease {
            counted: true,
            rt_ms,
        }
    }

    /// A metrics snapshot at `now`.
    pub fn metrics_at(&self, now: i64) -> LimiterMetrics {
        let mut s = self.state.lock();
        let (max_pass, min_rt) = s.estimates(now);
        let limits = Criticality::ALL.map(|l| self.limit(max_pass, min_rt, l));
        LimiterMetrics {
            cpu_permille: self.cpu(&s),
            inflight: s.inflight,
            max_pass,
            min_rt_ms: min_rt,
            limits,
            drop_started_ns: s.drop_started,
            allowed_total: s.allowed_total,
            dropped: s.dropped,
        }
    }
}

/// Kratos's rt: `ceil(elapsed / 1 ms)`; 0 when no time passed (or it went back).
fn rt_ms(elapsed_ns: i64) -> u64 {
    if elapsed_ns <= 0 {
        return 0;
    }
    elapsed_ns
        .unsigned_abs()
        .div_ceil(MILLISECOND.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual(cfg: AdaptiveLimiterConfig) -> AdaptiveLimiter {
        AdaptiveLimiter::new(AdaptiveLimiterConfig {
            cpu_source: CpuSource::Manual,
            ..cfg
        })
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn presets_validate() {
        for raw in 0..2 {
            let p = LimiterPreset::from_raw(raw).unwrap_or(LimiterPreset::Default);
            assert_eq!(AdaptiveLimiterConfig::preset(p).validate(), Ok(()));
        }
    }

    #[test]
    fn rt_rounds_up_to_ms() {
        assert_eq!(rt_ms(0), 0);
        assert_eq!(rt_ms(-5), 0);
        assert_eq!(rt_ms(1), 1);
        assert_eq!(rt_ms(1_000_000), 1);
        assert_eq!(rt_ms(1_000_001), 2);
    }

    #[test]
    fn empty_window_estimates_are_one() {
        let l = manual(AdaptiveLimiterConfig::default());
        let m = l.metrics_at(0);
        assert_eq!((m.max_pass, m.min_rt_ms), (1, 1));
        // 1 · 1 · 10 / 1000 = 0.01 → 0 for CRITICAL.
        assert_eq!(m.limits, [0, 0, 0, 0]);
    }

    #[test]
    fn drops_only_above_one_inflight_when_hot() {
        let l = manual(AdaptiveLimiterConfig::default());
        assert_eq!(l.set_cpu(900), Ok(()));
        assert!(l.acquire_at(0, Criticality::Critical).allowed); // inflight 0
        assert!(l.acquire_at(0, Criticality::Critical).allowed); // inflight 1
        let d = l.acquire_at(0, Criticality::Critical); // inflight 2 > 0
        assert!(!d.allowed);
        assert_eq!(l.metrics_at(0).drop_started_ns, Some(0));
    }

    #[test]
    fn set_cpu_checks() {
        let l = manual(AdaptiveLimiterConfig::default());
        assert!(l.set_cpu(1001).is_err());
    }
}
