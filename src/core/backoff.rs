//! Backoff: how long to wait before retry number `attempt`.
//!
//! Every strategy is a pure function of `(config, attempt, u, state)`, where
//! `u ∈ [0, 1)` is one uniform draw and `state` is the small per-operation
//! [`BackoffState`] that only the decorrelated strategies read. A [`Backoff`]
//! handle adds the seeded PRNG that supplies `u`.
//!
//! **Attempt numbering, for every strategy:** `attempt` is the 1-based
//! number of the retry about to be made. `attempt = 1` is the wait after the
//! first (original) call failed and before the first retry. The anchors'
//! numberings map onto ours in `docs/semantics.md` ("Retry and backoff").
//!
//! Rules, defaults and sources: `docs/semantics.md`; scenarios in
//! `tests/conformance/backoff/`.

use super::error::{check, Error, Result};
use super::rng::Rng;
use parking_lot::Mutex;

/// "No cap": the default `max_ns` of the strategies that do not need one.
pub const NO_MAX: i64 = i64::MAX;

/// Largest number of multiplications an exponential strategy may need before
/// its value reaches the cap (or, for Resilience4j, stops changing). Configs
/// that need more are rejected, so every delay costs a bounded loop.
pub const MAX_GROWTH_STEPS: u32 = 10_000;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000_000_000;

/// The strategy (`RSL_BACKOFF_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `base`.
    Fixed = 1,
    /// `base + (attempt − 1)·increment`.
    Linear = 2,
    /// `base·factor^(attempt − 1)`, by repeated multiplication, stopping at the cap.
    Exponential = 3,
    /// gRPC connection backoff (grpc-go `backoff`): attempt 1 is `base`
    /// unjittered, then `×factor` up to `max`, then `×(1 + j·(2u − 1))`.
    GrpcConnection = 4,
    /// AWS blog full jitter: `U(0, min(max, base·2^attempt))`.
    AwsFullJitter = 5,
    /// AWS blog equal jitter: `v/2 + U(0, v/2)`, `v = min(max, base·2^attempt)`.
    AwsEqualJitter = 6,
    /// AWS blog decorrelated jitter: `sleep = min(max, U(base, 3·sleep))`.
    AwsDecorrelated = 7,
    /// AWS SDK standard mode (aws-sdk-go-v2 `ExponentialJitterBackoff`).
    AwsStandard = 8,
    /// Polly v8 `DecorrelatedJitterBackoffV2` (exponential + `UseJitter`).
    PollyDecorrelatedV2 = 9,
    /// Resilience4j `IntervalFunction.ofExponentialRandomBackoff`, in whole ms.
    R4jExponentialRandom = 10,
}

impl Kind {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Fixed,
            2 => Self::Linear,
            3 => Self::Exponential,
            4 => Self::GrpcConnection,
            5 => Self::AwsFullJitter,
            6 => Self::AwsEqualJitter,
            7 => Self::AwsDecorrelated,
            8 => Self::AwsStandard,
            9 => Self::PollyDecorrelatedV2,
            10 => Self::R4jExponentialRandom,
            _ => return None,
        })
    }

    /// True for the strategies whose delays depend on [`BackoffState`].
    #[must_use]
    pub fn is_stateful(self) -> bool {
        matches!(self, Self::AwsDecorrelated | Self::PollyDecorrelatedV2)
    }

    /// True for the strategies that take a [`Jitter`] mode.
    #[must_use]
    pub fn takes_jitter_mode(self) -> bool {
        matches!(self, Self::Fixed | Self::Linear | Self::Exponential)
    }
}

/// Jitter applied to the capped value `e` of the fixed, linear and
/// exponential strategies (`RSL_JITTER_*`); `u` is the draw, `j` the
/// `jitter_factor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// `e` (no draw).
    None = 0,
    /// `e + e·j·u` ∈ `[e, e·(1 + j))`: the seeds' `JitterRetryStrategy`.
    Proportional = 1,
    /// `e·(1 + j·(2u − 1))` ∈ `[e·(1 − j), e·(1 + j))`: gRPC ±20 %, Polly ±25 %.
    Symmetric = 2,
    /// `e·u` ∈ `[0, e)`: full jitter.
    Full = 3,
    /// `e/2 + (e/2)·u` ∈ `[e/2, e)`: equal jitter.
    Equal = 4,
}

impl Jitter {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::None,
            1 => Self::Proportional,
            2 => Self::Symmetric,
            3 => Self::Full,
            4 => Self::Equal,
            _ => return None,
        })
    }
}

/// Named presets (`RSL_BACKOFF_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The seeds' `ExponentialBackoffStrategy`: 1 s doubling, capped at 60 s.
    Default = 0,
    /// The seeds' `JitterRetryStrategy`: as default plus `delay·0.1·u`.
    SeedsJitter = 1,
    /// The seeds' `FixedRetryStrategy`: 1 s.
    SeedsFixed = 2,
    /// gRPC connection backoff: 1 s, ×1.6, jitter 0.2, max 120 s.
    GrpcConnection = 3,
    /// gRPC retry (gRFC A6 as amended in 2024): the A6 example policy
    /// (0.1 s, ×2, max 1 s) with ±20 % jitter.
    GrpcRetry = 4,
    /// gRPC retry as A6 read before its 2024 amendment: full jitter.
    GrpcRetryFullJitter = 5,
    /// AWS SDK standard mode: base 1 s, max 20 s.
    AwsStandard = 6,
    /// AWS blog full jitter with the blog simulation's base 5 ms, cap 2 s.
    AwsFullJitter = 7,
    /// AWS blog equal jitter, base 5 ms, cap 2 s.
    AwsEqualJitter = 8,
    /// AWS blog decorrelated jitter, base 5 ms, cap 2 s.
    AwsDecorrelated = 9,
    /// Polly v8 retry defaults: constant 2 s, no jitter.
    PollyV8 = 10,
    /// Polly v8 exponential with `UseJitter`: DecorrelatedJitterV2, 2 s, no max.
    PollyV8DecorrelatedJitter = 11,
    /// Resilience4j `Retry` default interval: fixed 500 ms.
    Resilience4j = 12,
    /// Resilience4j `ofExponentialRandomBackoff()` defaults: 500 ms, ×1.5, ±0.5, no max.
    Resilience4jExponentialRandom = 13,
}

impl Preset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::SeedsJitter,
            2 => Self::SeedsFixed,
            3 => Self::GrpcConnection,
            4 => Self::GrpcRetry,
            5 => Self::GrpcRetryFullJitter,
            6 => Self::AwsStandard,
            7 => Self::AwsFullJitter,
            8 => Self::AwsEqualJitter,
            9 => Self::AwsDecorrelated,
            10 => Self::PollyV8,
            11 => Self::PollyV8DecorrelatedJitter,
            12 => Self::Resilience4j,
            13 => Self::Resilience4jExponentialRandom,
            _ => return None,
        })
    }
}

/// Backoff configuration (see `rsl_backoff_config`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    /// The strategy.
    pub kind: Kind,
    /// Jitter mode (fixed, linear and exponential only; else `None`).
    pub jitter: Jitter,
    /// The first delay / the unit of the formula.
    pub base_ns: i64,
    /// The cap ([`NO_MAX`] = none).
    pub max_ns: i64,
    /// Linear step.
    pub increment_ns: i64,
    /// Exponential multiplier (>= 1).
    pub factor: f64,
    /// Jitter / randomization factor.
    pub jitter_factor: f64,
    /// Clamp the jittered delay to `max_ns` too (fixed/linear/exponential).
    pub clamp_jittered: bool,
    /// PRNG seed of a [`Backoff`] handle; 0 = from entropy.
    pub seed: u64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self::preset(Preset::Default)
    }
}

impl BackoffConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: Preset) -> Self {
        let base = Self {
            kind: Kind::Exponential,
            jitter: Jitter::None,
            base_ns: SECOND,
            max_ns: 60 * SECOND,
            increment_ns: 0,
            factor: 2.0,
            jitter_factor: 0.0,
            clamp_jittered: false,
            seed: 0,
        };
        let aws_blog = |kind| Self {
            kind,
            base_ns: 5 * MS,
            max_ns: 2 * SECOND,
            ..base
        };
        match preset {
            Preset::Default => base,
            Preset::SeedsJitter => Self {
                jitter: Jitter::Proportional,
                jitter_factor: 0.1,
                ..base
            },
            Preset::SeedsFixed => Self {
                kind: Kind::Fixed,
                max_ns: NO_MAX,
                factor: 1.0,
                ..base
            },
            Preset::GrpcConnection => Self {
                kind: Kind::GrpcConnection,
                max_ns: 120 * SECOND,
                factor: 1.6,
                jitter_factor: 0.2,
                ..base
            },
            Preset::GrpcRetry => Self {
                jitter: Jitter::Symmetric,
                base_ns: 100 * MS,
                max_ns: SECOND,
                jitter_factor: 0.2,
                ..base
            },
            Preset::GrpcRetryFullJitter => Self {
                jitter: Jitter::Full,
                base_ns: 100 * MS,
                max_ns: SECOND,
                ..base
            },
            Preset::AwsStandard => Self {
                kind: Kind::AwsStandard,
                max_ns: 20 * SECOND,
                ..base
            },
            Preset::AwsFullJitter => aws_blog(Kind::AwsFullJitter),
            Preset::AwsEqualJitter => aws_blog(Kind::AwsEqualJitter),
            Preset::AwsDecorrelated => aws_blog(Kind::AwsDecorrelated),
            Preset::PollyV8 => Self {
                kind: Kind::Fixed,
                base_ns: 2 * SECOND,
                max_ns: NO_MAX,
                factor: 1.0,
                ..base
            },
            Preset::PollyV8DecorrelatedJitter => Self {
                kind: Kind::PollyDecorrelatedV2,
                base_ns: 2 * SECOND,
                max_ns: NO_MAX,
                ..base
            },
            Preset::Resilience4j => Self {
                kind: Kind::Fixed,
                base_ns: 500 * MS,
                max_ns: NO_MAX,
                factor: 1.0,
                ..base
            },
            Preset::Resilience4jExponentialRandom => Self {
                kind: Kind::R4jExponentialRandom,
                base_ns: 500 * MS,
                max_ns: NO_MAX,
                factor: 1.5,
                jitter_factor: 0.5,
                ..base
            },
        }
    }

    /// Checks every field the strategy uses; the error names the first
    /// offending one. Fields a strategy does not use are ignored, except
    /// `jitter`, which must be `None` for strategies with built-in jitter.
    pub fn validate(&self) -> Result<()> {
        let kind = self.kind;
        if !kind.takes_jitter_mode() && self.jitter != Jitter::None {
            return Err(Error::config(
                "jitter",
                "must be RSL_JITTER_NONE for this kind, whose jitter is built in",
            ));
        }
        match kind {
            Kind::Fixed | Kind::Linear | Kind::Exponential | Kind::PollyDecorrelatedV2 => {
                check::non_negative_ns("base_ns", self.base_ns)?;
            }
            _ => check::positive_ns("base_ns", self.base_ns)?,
        }
        check::non_negative_ns("max_ns", self.max_ns)?;
        match kind {
            Kind::Linear => check::non_negative_ns("increment_ns", self.increment_ns)?,
            Kind::GrpcConnection | Kind::AwsStandard => check::positive_ns("max_ns", self.max_ns)?,
            Kind::AwsDecorrelated if self.max_ns < self.base_ns => {
                return Err(Error::config(
                    "max_ns",
                    format!(
                        "must be >= base_ns ({}) for decorrelated jitter, got {}",
                        self.base_ns, self.max_ns
                    ),
                ));
            }
            Kind::R4jExponentialRandom => {
                whole_ms("base_ns", self.base_ns)?;
                if self.max_ns != NO_MAX {
                    whole_ms("max_ns", self.max_ns)?;
                }
            }
            _ => {}
        }
        if matches!(
            kind,
            Kind::Exponential | Kind::GrpcConnection | Kind::R4jExponentialRandom
        ) {
            if !(self.factor.is_finite() && self.factor >= 1.0) {
                return Err(Error::config(
                    "factor",
                    format!("must be a finite number >= 1, got {}", self.factor),
                ));
            }
            let steps = if kind == Kind::R4jExponentialRandom {
                r4j_steps_to_fixed_point(self.base_ns / MS, self.factor)
            } else {
                growth_steps_to_cap(self.base_ns, self.factor, self.max_ns)
            };
            if steps > MAX_GROWTH_STEPS {
                return Err(Error::config(
                    "factor",
                    format!(
                        "{} needs more than {MAX_GROWTH_STEPS} multiplications to reach the cap; raise factor or lower max_ns",
                        self.factor
                    ),
                ));
            }
        }
        let jf = self.jitter_factor;
        let unit = || check::ratio("jitter_factor", jf);
        match (kind, self.jitter) {
            (Kind::GrpcConnection | Kind::R4jExponentialRandom, _)
            | (Kind::Fixed | Kind::Linear | Kind::Exponential, Jitter::Symmetric) => unit()?,
            (Kind::Fixed | Kind::Linear | Kind::Exponential, Jitter::Proportional)
                if !(jf.is_finite() && jf >= 0.0) =>
            {
                return Err(Error::config(
                    "jitter_factor",
                    format!("must be a finite number >= 0, got {jf}"),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// How many uniform draws the delay before retry `attempt` consumes
    /// (0 or 1); `attempt` must be >= 1.
    #[must_use]
    pub fn draws(&self, attempt: u32) -> u32 {
        let n = attempt.max(1);
        let one = match self.kind {
            Kind::Fixed | Kind::Linear | Kind::Exponential => self.jitter != Jitter::None,
            Kind::GrpcConnection => n > 1,
            Kind::AwsFullJitter | Kind::AwsEqualJitter | Kind::AwsDecorrelated => true,
            Kind::AwsStandard => aws_standard_jittered(self.base_ns, self.max_ns, n),
            Kind::PollyDecorrelatedV2 => self.base_ns != 0,
            Kind::R4jExponentialRandom => true,
        };
        u32::from(one)
    }

    /// The delay in ns before retry `attempt` given the draw `u ∈ [0, 1)`
    /// (ignored when [`Self::draws`] is 0). Stateful strategies read and
    /// update `state`. The config must be valid (see [`Self::validate`]).
    pub fn delay_with_u(&self, attempt: u32, u: f64, state: &mut BackoffState) -> Result<i64> {
        if attempt == 0 {
            return Err(Error::argument(
                "attempt",
                "must be >= 1 (the wait before the first retry is attempt 1)",
            ));
        }
        if !(u.is_finite() && (0.0..1.0).contains(&u)) {
            return Err(Error::argument("u", format!("must be in [0, 1), got {u}")));
        }
        Ok(self.compute(attempt, u, state))
    }

    fn compute(&self, n: u32, u: f64, state: &mut BackoffState) -> i64 {
        let max = self.max_ns;
        #[allow(clippy::cast_precision_loss)]
        let (base_f, max_f) = (self.base_ns as f64, max as f64);
        match self.kind {
            Kind::Fixed => self.jittered(self.base_ns.min(max) as f64, u),
            Kind::Linear => {
                let steps = i128::from(n - 1) * i128::from(self.increment_ns);
                let e = (i128::from(self.base_ns) + steps).min(i128::from(max));
                #[allow(clippy::cast_precision_loss)]
                self.jittered(e as f64, u)
            }
            Kind::Exponential => self.jittered(grow(base_f, self.factor, n - 1, max_f), u),
            Kind::GrpcConnection => {
                if n == 1 {
                    return self.base_ns;
                }
                let capped = grow(base_f, self.factor, n - 1, max_f);
                to_ns(capped * (1.0 + self.jitter_factor * (u * 2.0 - 1.0)))
            }
            Kind::AwsFullJitter => to_ns(grow(base_f, 2.0, n, max_f) * u),
            Kind::AwsEqualJitter => {
                let v = grow(base_f, 2.0, n, max_f);
                to_ns(v / 2.0 + (v / 2.0) * u)
            }
            Kind::AwsDecorrelated => {
                #[allow(clippy::cast_precision_loss)]
                let sleep = if state.prev_delay_ns > 0 {
                    state.prev_delay_ns as f64
                } else {
                    base_f
                };
                let d = to_ns((base_f + (sleep * 3.0 - base_f) * u).min(max_f));
                state.prev_delay_ns = d;
                d
            }
            Kind::AwsStandard => {
                if !aws_standard_jittered(self.base_ns, max, n) {
                    return max;
                }
                // u · 2^n, then scaled by the base (aws-sdk-go-v2: seconds).
                to_ns(u * grow(1.0, 2.0, n, f64::INFINITY) * base_f)
            }
            Kind::PollyDecorrelatedV2 => {
                if self.base_ns == 0 {
                    return 0;
                }
                polly_v2(n, u, base_f, state).min(max)
            }
            Kind::R4jExponentialRandom => {
                let interval = r4j_interval(self.base_ns / MS, self.factor, n);
                #[allow(clippy::cast_precision_loss)]
                let current = interval as f64;
                let delta = self.jitter_factor * current;
                let (lo, hi) = (current - delta, current + delta);
                #[allow(clippy::cast_possible_truncation)]
                let mut ms = (lo + u * (hi - lo)) as i64;
                if max != NO_MAX {
                    ms = ms.min(max / MS);
                }
                ms.saturating_mul(MS)
            }
        }
    }

    fn jittered(&self, e: f64, u: f64) -> i64 {
        let j = self.jitter_factor;
        let d = match self.jitter {
            Jitter::None => e,
            Jitter::Proportional => e + e * j * u,
            Jitter::Symmetric => e * (1.0 + j * (u * 2.0 - 1.0)),
            Jitter::Full => e * u,
            Jitter::Equal => e / 2.0 + (e / 2.0) * u,
        };
        let d = to_ns(d);
        if self.clamp_jittered {
            d.min(self.max_ns)
        } else {
            d
        }
    }
}

fn whole_ms(field: &'static str, value: i64) -> Result<()> {
    if value >= MS && value % MS == 0 {
        Ok(())
    } else {
        Err(Error::config(
            field,
            format!("must be a whole number of milliseconds >= 1 ms (Resilience4j works in ms), got {value} ns"),
        ))
    }
}

/// Truncates toward zero to whole ns; negative and NaN become 0, values past
/// `i64::MAX` saturate.
#[allow(clippy::cast_possible_truncation)]
fn to_ns(x: f64) -> i64 {
    if x > 0.0 {
        x as i64
    } else {
        0
    }
}

/// `x = base; repeat steps times while x < cap: x *= factor; min(x, cap)` —
/// the grpc-go loop. Exact for factor 2; O(steps to reach the cap).
fn grow(base: f64, factor: f64, steps: u32, cap: f64) -> f64 {
    let mut x = base;
    if factor > 1.0 && x > 0.0 {
        let mut k = steps;
        while x < cap && k > 0 {
            x *= factor;
            k -= 1;
        }
    }
    x.min(cap)
}

/// Multiplications `grow` performs at most before reaching `cap`
/// (`MAX_GROWTH_STEPS + 1` when it takes longer).
fn growth_steps_to_cap(base: i64, factor: f64, cap: i64) -> u32 {
    if factor <= 1.0 || base <= 0 {
        return 0;
    }
    #[allow(clippy::cast_precision_loss)]
    let (mut x, cap) = (base as f64, cap as f64);
    let mut steps = 0;
    while x < cap && steps <= MAX_GROWTH_STEPS {
        x *= factor;
        steps += 1;
    }
    steps
}

/// True when AWS standard mode draws for `attempt`: aws-sdk-go-v2 returns
/// `max` exactly once `attempt > floor(log2(max / base))`.
fn aws_standard_jittered(base: i64, max: i64, attempt: u32) -> bool {
    if base <= 0 || base > max {
        return false;
    }
    // The largest k with base·2^k <= max, by exact integer doubling.
    let mut k = 0u32;
    let mut v = i128::from(base);
    while v * 2 <= i128::from(max) {
        v *= 2;
        k += 1;
    }
    attempt <= k
}

/// Polly's `DecorrelatedJitterBackoffV2` with the 0-based Polly attempt
/// `n − 1`, in ns (Polly works in 100-ns ticks).
fn polly_v2(n: u32, u: f64, base: f64, state: &mut BackoffState) -> i64 {
    const P_FACTOR: f64 = 4.0;
    const RP_SCALING_FACTOR: f64 = 1.0 / 1.4;
    #[allow(clippy::cast_precision_loss)]
    const MAX_NS: f64 = i64::MAX as f64 - 1_000.0;
    let t = f64::from(n - 1) + u;
    let next = 2f64.powf(t) * (P_FACTOR * t).sqrt().tanh();
    if next.is_infinite() {
        state.prev = next;
        return i64::MAX;
    }
    let intrinsic = next - state.prev;
    state.prev = next;
    to_ns((intrinsic * RP_SCALING_FACTOR * base).min(MAX_NS))
}

/// Resilience4j's exponential interval in ms: `i(1) = initial`,
/// `i(k) = (long)(i(k−1)·multiplier)`; stops early at a fixed point.
fn r4j_interval(initial_ms: i64, factor: f64, attempt: u32) -> i64 {
    let mut i = initial_ms;
    for _ in 1..attempt {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let next = (i as f64 * factor) as i64;
        if next == i {
            break;
        }
        i = next;
    }
    i
}

/// Steps until Resilience4j's interval stops changing (saturation at
/// `i64::MAX` or truncation back to the same value).
fn r4j_steps_to_fixed_point(initial_ms: i64, factor: f64) -> u32 {
    let mut i = initial_ms;
    let mut steps = 0;
    while steps <= MAX_GROWTH_STEPS {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let next = (i as f64 * factor) as i64;
        if next == i {
            break;
        }
        i = next;
        steps += 1;
    }
    steps
}

/// Per-operation state of the decorrelated strategies; all zero = fresh.
/// Owned by the caller (one per operation), so one [`Backoff`] serves many
/// concurrent operations without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BackoffState {
    /// AWS decorrelated: the previous delay in ns (0 = none yet: use `base`).
    pub prev_delay_ns: i64,
    /// Polly DecorrelatedJitterV2: the previous formula value (0 = fresh).
    pub prev: f64,
}

/// A backoff strategy with its seeded PRNG. Thread-safe: the PRNG is behind
/// a lock; the per-operation state is the caller's.
#[derive(Debug)]
pub struct Backoff {
    cfg: BackoffConfig,
    rng: Mutex<Rng>,
}

impl Backoff {
    /// A validated strategy.
    pub fn new(cfg: BackoffConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            rng: Mutex::new(Rng::new(cfg.seed)),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> &BackoffConfig {
        &self.cfg
    }

    /// The delay before retry `attempt`, drawing from the handle's PRNG
    /// exactly [`BackoffConfig::draws`] times.
    pub fn next(&self, attempt: u32, state: &mut BackoffState) -> Result<i64> {
        if attempt == 0 {
            return Err(Error::argument(
                "attempt",
                "must be >= 1 (the wait before the first retry is attempt 1)",
            ));
        }
        let u = if self.cfg.draws(attempt) == 1 {
            self.rng.lock().next_f64()
        } else {
            0.0
        };
        Ok(self.cfg.compute(attempt, u, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(preset: Preset) -> BackoffConfig {
        BackoffConfig::preset(preset)
    }

    fn d(c: &BackoffConfig, n: u32, u: f64) -> i64 {
        c.delay_with_u(n, u, &mut BackoffState::default())
            .unwrap_or(-1)
    }

    #[test]
    fn presets_validate() {
        for raw in 0..14 {
            let p = Preset::from_raw(raw).unwrap_or(Preset::Default);
            assert_eq!(cfg(p).validate(), Ok(()), "{p:?}");
        }
        assert!(Preset::from_raw(14).is_none());
    }

    #[test]
    fn seeds_exponential() {
        let c = cfg(Preset::Default);
        let got: Vec<i64> = (1..=8).map(|n| d(&c, n, 0.0)).collect();
        let want = [1, 2, 4, 8, 16, 32, 60, 60].map(|s| s * SECOND);
        assert_eq!(got, want);
        assert_eq!(d(&c, u32::MAX, 0.0), 60 * SECOND);
    }

    #[test]
    fn grpc_connection_table() {
        // peer-semantics §4, jitter 0 (u = 0.5 gives factor exactly 1).
        let c = cfg(Preset::GrpcConnection);
        let want = [
            1_000_000_000,
            1_600_000_000,
            2_560_000_000,
            4_096_000_000,
            6_553_600_000,
            10_485_760_000,
            16_777_216_000,
            26_843_545_600,
            42_949_672_960,
            68_719_476_736,
            109_951_162_777,
            120_000_000_000,
        ];
        for (i, w) in want.iter().enumerate() {
            let n = u32::try_from(i).unwrap_or(0) + 1;
            assert_eq!(d(&c, n, 0.5), *w, "attempt {n}");
        }
        assert_eq!(c.draws(1), 0);
        assert_eq!(c.draws(2), 1);
    }

    #[test]
    fn r4j_truncates_per_step() {
        let c = BackoffConfig {
            jitter_factor: 0.0,
            ..cfg(Preset::Resilience4jExponentialRandom)
        };
        let got: Vec<i64> = (1..=5).map(|n| d(&c, n, 0.3) / MS).collect();
        assert_eq!(got, [500, 750, 1125, 1687, 2530]);
    }

    #[test]
    fn aws_standard_caps_exactly() {
        let c = cfg(Preset::AwsStandard);
        assert_eq!(c.draws(4), 1);
        assert_eq!(c.draws(5), 0);
        assert_eq!(d(&c, 5, 0.9), 20 * SECOND);
        assert_eq!(d(&c, 1, 0.5), SECOND);
        assert_eq!(d(&c, 4, 0.5), 8 * SECOND);
    }

    #[test]
    fn bad_factor_needs_too_many_steps() {
        let c = BackoffConfig {
            factor: 1.000_001,
            max_ns: NO_MAX,
            ..cfg(Preset::Default)
        };
        assert_eq!(c.validate().map_err(|e| e.field), Err("factor".into()));
    }
}
