//! Client-side adaptive throttling (Google SRE book, "Handling Overload",
//! eq. 21-1): reject locally with probability
//! `p = max(0, (requests − offset − K·accepts) / (requests + 1))`, capped at
//! `max_drop_probability`, over a rolling window. Rules in
//! `docs/semantics.md` ("Adaptive throttle"); scenarios in
//! `tests/conformance/adaptive_throttle/`.

use super::error::{check, Error, Result};
use super::outcome::Outcome;
use super::rng::Rng;
use super::window::TimeWindow;
use parking_lot::Mutex;
use std::ops::{AddAssign, SubAssign};

/// When a request enters `requests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accounting {
    /// When it is let through (the SRE book's "requests attempted").
    OnAdmit = 1,
    /// When its outcome is recorded (Kratos, go-zero).
    OnCompletion = 2,
}

/// Named presets (`RSL_ADAPTIVE_THROTTLE_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottlePreset {
    /// The SRE book: K = 2 over the last two minutes.
    SreBook = 0,
    /// go-kratos/aegis `sre.Breaker` defaults.
    Kratos = 1,
    /// go-zero `googleBreaker`, with its dynamic parts fixed (see docs).
    GoZero = 2,
}

impl ThrottlePreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::SreBook,
            1 => Self::Kratos,
            2 => Self::GoZero,
            _ => return None,
        })
    }
}

/// Largest bucket count.
pub const MAX_BUCKETS: u32 = 1 << 16;

const SECOND: i64 = 1_000_000_000;

/// Adaptive throttle configuration (see `rsl_adaptive_throttle_config`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleConfig {
    /// The multiplier K (>= 1): accepts are worth K requests.
    pub k: f64,
    /// Window length.
    pub window_ns: i64,
    /// Buckets in the window (window_ns must be a multiple).
    pub buckets: u32,
    /// No throttling while the window holds fewer requests.
    pub min_requests: u32,
    /// Subtracted from requests in the numerator (go-zero's `protection`).
    pub request_offset: u32,
    /// Local rejections count as requests (the SRE book, go-zero).
    pub count_local_rejections: bool,
    /// When admitted requests are counted.
    pub accounting: Accounting,
    /// Cap on the drop probability, in (0, 1].
    pub max_drop_probability: f64,
    /// PRNG seed; 0 = from entropy.
    pub seed: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self::preset(ThrottlePreset::SreBook)
    }
}

impl ThrottleConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: ThrottlePreset) -> Self {
        let book = Self {
            k: 2.0,
            window_ns: 120 * SECOND,
            buckets: 120,
            min_requests: 0,
            request_offset: 0,
            count_local_rejections: true,
            accounting: Accounting::OnAdmit,
            max_drop_probability: 1.0,
            seed: 0,
        };
        match preset {
            ThrottlePreset::SreBook => book,
            ThrottlePreset::Kratos => Self {
                k: 1.0 / 0.6,
                window_ns: 3 * SECOND,
                buckets: 10,
                min_requests: 100,
                accounting: Accounting::OnCompletion,
                ..book
            },
            ThrottlePreset::GoZero => Self {
                k: 1.5,
                window_ns: 10 * SECOND,
                buckets: 40,
                request_offset: 5,
                accounting: Accounting::OnCompletion,
                ..book
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        if !(self.k.is_finite() && self.k >= 1.0) {
            return Err(Error::config(
                "k",
                format!("must be a finite number >= 1, got {}", self.k),
            ));
        }
        check::positive_ns("window_ns", self.window_ns)?;
        check::count_in("buckets", self.buckets, 1, MAX_BUCKETS)?;
        if self.window_ns % i64::from(self.buckets) != 0 {
            return Err(Error::config(
                "window_ns",
                format!(
                    "must be a multiple of buckets ({}), got {}",
                    self.buckets, self.window_ns
                ),
            ));
        }
        check::ratio("max_drop_probability", self.max_drop_probability)?;
        if self.max_drop_probability == 0.0 {
            return Err(Error::config(
                "max_drop_probability",
                "must be > 0 (0 would never throttle)",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    requests: u64,
    accepts: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Self) {
        self.requests += o.requests;
        self.accepts += o.accepts;
    }
}

impl SubAssign for Tally {
    fn sub_assign(&mut self, o: Self) {
        self.requests = self.requests.saturating_sub(o.requests);
        self.accepts = self.accepts.saturating_sub(o.accepts);
    }
}

const REQUEST: Tally = Tally {
    requests: 1,
    accepts: 0,
};
const ACCEPT: Tally = Tally {
    requests: 0,
    accepts: 1,
};
const REQUEST_ACCEPTED: Tally = Tally {
    requests: 1,
    accepts: 1,
};

/// What `allow` hands back with an admitted request; pass it to `record`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ticket {
    /// When the request was admitted.
    pub admitted_at_ns: i64,
}

/// The answer to an allow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Allow {
    /// The request may go to the backend.
    pub allowed: bool,
    /// The drop probability the decision was drawn against.
    pub drop_probability: f64,
    /// Requests in the window after the call.
    pub requests: u64,
    /// Accepts in the window after the call.
    pub accepts: u64,
    /// The ticket, when allowed.
    pub ticket: Ticket,
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleMetrics {
    /// Requests in the window.
    pub requests: u64,
    /// Accepts in the window.
    pub accepts: u64,
    /// The drop probability an allow would use now.
    pub drop_probability: f64,
    /// Requests allowed over the throttle's life.
    pub allowed_total: u64,
    /// Requests rejected locally over its life.
    pub rejected_total: u64,
}

#[derive(Debug)]
struct State {
    cfg: ThrottleConfig,
    window: TimeWindow<Tally>,
    rng: Rng,
    allowed_total: u64,
    rejected_total: u64,
}

impl State {
    fn probability(&self, t: Tally) -> f64 {
        let cfg = &self.cfg;
        if t.requests < u64::from(cfg.min_requests) {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let (requests, accepts, offset) = (
            t.requests as f64,
            t.accepts as f64,
            f64::from(cfg.request_offset),
        );
        let p = (requests - offset - cfg.k * accepts) / (requests + 1.0);
        p.clamp(0.0, cfg.max_drop_probability)
    }
}

/// A thread-safe adaptive throttle.
#[derive(Debug)]
pub struct AdaptiveThrottle {
    state: Mutex<State>,
}

impl AdaptiveThrottle {
    /// An empty throttle.
    pub fn new(cfg: ThrottleConfig) -> Result<Self> {
        cfg.validate()?;
        let bucket_ns = cfg.window_ns / i64::from(cfg.buckets);
        Ok(Self {
            state: Mutex::new(State {
                cfg,
                window: TimeWindow::new(cfg.buckets as usize, bucket_ns),
                rng: Rng::new(cfg.seed),
                allowed_total: 0,
                rejected_total: 0,
            }),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> ThrottleConfig {
        self.state.lock().cfg
    }

    /// Decides whether a request may go to the backend at `now`. A random
    /// draw is consumed only when the drop probability is above zero.
    pub fn allow_at(&self, now: i64) -> Allow {
        let mut s = self.state.lock();
        let tally = s.window.total_at(now);
        let p = s.probability(tally);
        let allowed = !(p > 0.0 && s.rng.next_f64() < p);
        if allowed {
            s.allowed_total += 1;
            if s.cfg.accounting == Accounting::OnAdmit {
                s.window.add(now, REQUEST);
            }
        } else {
            s.rejected_total += 1;
            if s.cfg.count_local_rejections {
                s.window.add(now, REQUEST);
            }
        }
        let after = s.window.total();
        Allow {
            allowed,
            drop_probability: p,
            requests: after.requests,
            accepts: after.accepts,
            ticket: Ticket {
                admitted_at_ns: now,
            },
        }
    }

    /// Records what the backend did with an allowed request: `Success` = it
    /// accepted it, `Failure` = it rejected it (overload, error), `Ignored` =
    /// neither (the request is taken back out of the window if still in it).
    pub fn record_at(&self, now: i64, ticket: &Ticket, outcome: Outcome) {
        let mut s = self.state.lock();
        match (s.cfg.accounting, outcome) {
            (Accounting::OnAdmit, Outcome::Success) => s.window.add(now, ACCEPT),
            (Accounting::OnAdmit, Outcome::Failure) => s.window.advance(now),
            (Accounting::OnAdmit, Outcome::Ignored) => {
                s.window.remove(now, ticket.admitted_at_ns, REQUEST);
            }
            (Accounting::OnCompletion, Outcome::Success) => s.window.add(now, REQUEST_ACCEPTED),
            (Accounting::OnCompletion, Outcome::Failure) => s.window.add(now, REQUEST),
            (Accounting::OnCompletion, Outcome::Ignored) => s.window.advance(now),
        }
    }

    /// A metrics snapshot at `now`.
    pub fn metrics_at(&self, now: i64) -> ThrottleMetrics {
        let mut s = self.state.lock();
        let t = s.window.total_at(now);
        ThrottleMetrics {
            requests: t.requests,
            accepts: t.accepts,
            drop_probability: s.probability(t),
            allowed_total: s.allowed_total,
            rejected_total: s.rejected_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(cfg: ThrottleConfig) -> AdaptiveThrottle {
        AdaptiveThrottle::new(cfg).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn presets_validate() {
        for raw in 0..3 {
            let p = ThrottlePreset::from_raw(raw).unwrap_or(ThrottlePreset::SreBook);
            assert_eq!(ThrottleConfig::preset(p).validate(), Ok(()));
        }
    }

    #[test]
    fn drop_rate_converges_to_formula() {
        // All backend calls fail: accepts stay 0, so p = R/(R+1) -> ~1, capped.
        let t = throttle(ThrottleConfig {
            seed: 3,
            max_drop_probability: 0.5,
            ..ThrottleConfig::default()
        });
        let mut dropped = 0;
        for i in 0..20_000 {
            let a = t.allow_at(i);
            if a.allowed {
                t.record_at(i, &a.ticket, Outcome::Failure);
            } else {
                dropped += 1;
            }
        }
        // With p capped at 0.5 the drop share is close to one half.
        assert!((9_000..11_000).contains(&dropped), "{dropped}");
    }

    #[test]
    fn healthy_backend_is_never_throttled() {
        let t = throttle(ThrottleConfig {
            seed: 9,
            ..ThrottleConfig::default()
        });
        for i in 0..1_000 {
            let a = t.allow_at(i);
            assert!(a.allowed);
            t.record_at(i, &a.ticket, Outcome::Success);
        }
    }
}
