//! The circuit breaker: one state machine (CLOSED, OPEN, HALF_OPEN, plus
//! FORCED_OPEN and DISABLED for manual control) with a trip policy chosen in
//! the config. The rules are stated in `docs/semantics.md` ("Circuit
//! breaker") and pinned by `tests/conformance/breaker/`.

use super::clock::{elapsed, reached};
use super::error::{check, Error, Result};
use super::outcome::Outcome;
use super::window::{CallStats, CountWindow, TimeWindow};
use parking_lot::Mutex;
use std::collections::VecDeque;

/// Breaker states. The numbers are the C ABI values (`RSL_BREAKER_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls go through and are counted.
    Closed = 0,
    /// Calls are rejected until the wait duration has passed.
    Open = 1,
    /// A limited number of trial calls go through.
    HalfOpen = 2,
    /// Manually opened: every call is rejected until a manual transition.
    ForcedOpen = 3,
    /// Manually disabled: every call goes through and nothing is counted.
    Disabled = 4,
}

impl State {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Closed,
            1 => Self::Open,
            2 => Self::HalfOpen,
            3 => Self::ForcedOpen,
            4 => Self::Disabled,
            _ => return None,
        })
    }
}

/// What makes a closed breaker trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `consecutive_failures >= N`.
    Consecutive = 1,
    /// Failure rate, slow-call rate or failure count over a sliding window.
    Rate = 2,
    /// Never by itself: the caller decides with [`Breaker::trip_at`].
    External = 3,
}

/// The kind of sliding window of the rate policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// The last `window_size` calls.
    Count = 1,
    /// The last `window_ns`, in `window_size` buckets.
    Time = 2,
}

/// How half-open decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HalfOpenMode {
    /// Close after `half_open_success_threshold` successful trials; reopen
    /// after `half_open_failure_threshold` failed ones.
    Successes = 1,
    /// Resilience4j's model: once `min(minimum_calls, half_open_max_calls)`
    /// trials are recorded, reopen if a rate threshold is reached, else close.
    Rate = 2,
}

/// Why a transition happened (`RSL_BREAKER_REASON_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `consecutive_failures` reached.
    ConsecutiveFailures = 1,
    /// Failure rate reached.
    FailureRate = 2,
    /// Slow-call rate reached.
    SlowCallRate = 3,
    /// Failure count reached.
    FailureCount = 4,
    /// The caller tripped it ([`Breaker::trip_at`]).
    ExternalTrip = 5,
    /// The open wait elapsed.
    WaitElapsed = 6,
    /// Enough trials succeeded (or half-open rates stayed below thresholds).
    TrialsSucceeded = 7,
    /// Enough trials failed.
    TrialsFailed = 8,
    /// Every trial slot was used without reaching either threshold.
    TrialsExhausted = 9,
    /// A manual transition.
    Manual = 10,
    /// A reset.
    Reset = 11,
}

/// Why an acquire was rejected (`RSL_BREAKER_REJECT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// The breaker is open.
    Open = 1,
    /// The breaker is forced open.
    ForcedOpen = 2,
    /// Half-open and every trial slot is taken.
    HalfOpenFull = 3,
}

/// Named presets reproducing the anchors' defaults (`RSL_BREAKER_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The library's defaults (the seeds' example: 5 failures, 60 s).
    Default = 0,
    /// Resilience4j `CircuitBreakerConfig.ofDefaults()`.
    Resilience4j = 1,
    /// Polly v8 `CircuitBreakerStrategyOptions` defaults.
    PollyV8 = 2,
    /// sony/gobreaker `Settings{}` defaults.
    Gobreaker = 3,
    /// afex/hystrix-go defaults.
    Hystrix = 4,
    /// Sentinel `ErrorRatio` rule.
    SentinelErrorRatio = 5,
    /// Sentinel `ErrorCount` rule.
    SentinelErrorCount = 6,
    /// Sentinel `SlowRequestRatio` rule.
    SentinelSlowRequestRatio = 7,
}

impl Preset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Resilience4j,
            2 => Self::PollyV8,
            3 => Self::Gobreaker,
            4 => Self::Hystrix,
            5 => Self::SentinelErrorRatio,
            6 => Self::SentinelErrorCount,
            7 => Self::SentinelSlowRequestRatio,
            _ => return None,
        })
    }
}

/// Largest `half_open_max_calls`: trial slots are preallocated.
pub const MAX_HALF_OPEN_CALLS: u32 = 65_536;
/// Largest `window_size` (calls or buckets): windows are preallocated.
pub const MAX_WINDOW_SIZE: u32 = 1 << 20;
/// Largest `event_capacity`.
pub const MAX_EVENT_CAPACITY: u32 = 65_536;

const SECOND: i64 = 1_000_000_000;

/// A breaker configuration. Field meanings and units match
/// `rsl_breaker_config` in the C header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Trip policy.
    pub policy: Policy,
    /// Consecutive policy: trip when consecutive failures reach this.
    pub consecutive_failures: u32,
    /// Rate policy: window kind.
    pub window_kind: WindowKind,
    /// Count window: calls; time window: buckets.
    pub window_size: u32,
    /// Time window: its length.
    pub window_ns: i64,
    /// Rate policy: no decision below this many calls in the window.
    pub minimum_calls: u32,
    /// Trip when failures/calls >= this; 0 disables.
    pub failure_rate_threshold: f64,
    /// Trip when slow/calls >= this; 0 disables.
    pub slow_call_rate_threshold: f64,
    /// A call is slow when its duration is strictly greater; 0 disables.
    pub slow_call_duration_ns: i64,
    /// Trip when failures in the window reach this; 0 disables.
    pub failure_count_threshold: u32,
    /// Rate policy: evaluate only after a failure (Polly), not after every call.
    pub evaluate_on_failure_only: bool,
    /// Closed: clear the counts every interval (gobreaker `Interval`); 0 never.
    pub closed_reset_interval_ns: i64,
    /// Open: how long before half-open.
    pub wait_duration_ns: i64,
    /// Each consecutive open waits this many times longer (>= 1).
    pub wait_duration_multiplier: f64,
    /// Cap on the grown wait.
    pub max_wait_duration_ns: i64,
    /// Half-open decision model.
    pub half_open_mode: HalfOpenMode,
    /// Trial calls admitted per half-open period.
    pub half_open_max_calls: u32,
    /// Successful trials that close (successes mode).
    pub half_open_success_threshold: u32,
    /// Failed trials that reopen (successes mode).
    pub half_open_failure_threshold: u32,
    /// A trial permit not recorded within this lease is reclaimed.
    pub permit_lease_ns: i64,
    /// Transition events kept for draining; the oldest are dropped beyond it.
    pub event_capacity: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self::preset(Preset::Default)
    }
}

impl Config {
    /// The configuration of a named preset.
    #[must_use]
    pub fn preset(preset: Preset) -> Self {
        let base = Self {
            policy: Policy::Consecutive,
            consecutive_failures: 5,
            window_kind: WindowKind::Count,
            window_size: 100,
            window_ns: 60 * SECOND,
            minimum_calls: 100,
            failure_rate_threshold: 0.5,
            slow_call_rate_threshold: 1.0,
            slow_call_duration_ns: 60 * SECOND,
            failure_count_threshold: 0,
            evaluate_on_failure_only: false,
            closed_reset_interval_ns: 0,
            wait_duration_ns: 60 * SECOND,
            wait_duration_multiplier: 1.0,
            max_wait_duration_ns: 60 * SECOND,
            half_open_mode: HalfOpenMode::Successes,
            half_open_max_calls: 1,
            half_open_success_threshold: 1,
            half_open_failure_threshold: 1,
            permit_lease_ns: 60 * SECOND,
            event_capacity: 64,
        };
        match preset {
            Preset::Default => base,
            // Strict `isAfter(retryAfter)`: half-open 1 ns after the wait.
            Preset::Resilience4j => Self {
                policy: Policy::Rate,
                wait_duration_ns: 60 * SECOND + 1,
                max_wait_duration_ns: 60 * SECOND + 1,
                half_open_mode: HalfOpenMode::Rate,
                half_open_max_calls: 10,
                ..base
            },
            Preset::PollyV8 => Self {
                policy: Policy::Rate,
                window_kind: WindowKind::Time,
                window_size: 10,
                window_ns: 30 * SECOND,
                minimum_calls: 100,
                failure_rate_threshold: 0.1,
                slow_call_rate_threshold: 0.0,
                slow_call_duration_ns: 0,
                evaluate_on_failure_only: true,
                wait_duration_ns: 5 * SECOND,
                max_wait_duration_ns: 5 * SECOND,
                // One probe per BreakDuration: a hung probe lets the next one
                // through after another BreakDuration, exactly a lease.
                permit_lease_ns: 5 * SECOND,
                ..base
            },
            // ReadyToTrip `ConsecutiveFailures > 5`; expiry `Before(now)`.
            Preset::Gobreaker => Self {
                consecutive_failures: 6,
                slow_call_rate_threshold: 0.0,
                slow_call_duration_ns: 0,
                wait_duration_ns: 60 * SECOND + 1,
                max_wait_duration_ns: 60 * SECOND + 1,
                ..base
            },
            // ErrorPercent = int(100·e/r + 0.5) >= 50  <=>  e/r >= 0.495.
            Preset::Hystrix => Self {
                policy: Policy::Rate,
                window_kind: WindowKind::Time,
                window_size: 10,
                window_ns: 10 * SECOND,
                minimum_calls: 20,
                failure_rate_threshold: 0.495,
                slow_call_rate_threshold: 0.0,
                slow_call_duration_ns: 0,
                wait_duration_ns: 5 * SECOND + 1,
                max_wait_duration_ns: 5 * SECOND + 1,
                permit_lease_ns: 5 * SECOND,
                ..base
            },
            Preset::SentinelErrorRatio
            | Preset::SentinelErrorCount
            | Preset::SentinelSlowRequestRatio => {
                let sentinel = Self {
                    policy: Policy::Rate,
                    window_kind: WindowKind::Time,
                    window_size: 1,
                    window_ns: SECOND,
                    minimum_calls: 5,
                    failure_rate_threshold: 0.0,
                    slow_call_rate_threshold: 0.0,
                    slow_call_duration_ns: 0,
                    failure_count_threshold: 0,
                    wait_duration_ns: 10 * SECOND,
                    max_wait_duration_ns: 10 * SECOND,
                    permit_lease_ns: 10 * SECOND,
                    ..base
                };
                match preset {
                    Preset::SentinelErrorRatio => Self {
                        failure_rate_threshold: 0.5,
                        ..sentinel
                    },
                    Preset::SentinelErrorCount => Self {
                        failure_count_threshold: 5,
                        ..sentinel
                    },
                    _ => Self {
                        slow_call_rate_threshold: 1.0,
                        slow_call_duration_ns: SECOND,
                        ..sentinel
                    },
                }
            }
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        match self.policy {
            Policy::Consecutive => {
                check::count_in(
                    "consecutive_failures",
                    self.consecutive_failures,
                    1,
                    u32::MAX,
                )?;
            }
            Policy::Rate => self.validate_rate()?,
            Policy::External => {}
        }
        check::ratio("failure_rate_threshold", self.failure_rate_threshold)?;
        check::ratio("slow_call_rate_threshold", self.slow_call_rate_threshold)?;
        check::non_negative_ns("slow_call_duration_ns", self.slow_call_duration_ns)?;
        if self.slow_call_rate_threshold > 0.0 && self.slow_call_duration_ns == 0 {
            return Err(Error::config(
                "slow_call_duration_ns",
                "must be > 0 when slow_call_rate_threshold is set",
            ));
        }
        check::non_negative_ns("closed_reset_interval_ns", self.closed_reset_interval_ns)?;
        check::positive_ns("wait_duration_ns", self.wait_duration_ns)?;
        if !(self.wait_duration_multiplier.is_finite() && self.wait_duration_multiplier >= 1.0) {
            return Err(Error::config(
                "wait_duration_multiplier",
                format!(
                    "must be a finite number >= 1, got {}",
                    self.wait_duration_multiplier
                ),
            ));
        }
        if self.max_wait_duration_ns < self.wait_duration_ns {
            return Err(Error::config(
                "max_wait_duration_ns",
                format!(
                    "must be >= wait_duration_ns ({}), got {}",
                    self.wait_duration_ns, self.max_wait_duration_ns
                ),
            ));
        }
        check::count_in(
            "half_open_max_calls",
            self.half_open_max_calls,
            1,
            MAX_HALF_OPEN_CALLS,
        )?;
        match self.half_open_mode {
            HalfOpenMode::Successes => {
                check::count_in(
                    "half_open_success_threshold",
                    self.half_open_success_threshold,
                    1,
                    self.half_open_max_calls,
                )?;
                check::count_in(
                    "half_open_failure_threshold",
                    self.half_open_failure_threshold,
                    1,
                    self.half_open_max_calls,
                )?;
            }
            HalfOpenMode::Rate => {
                if self.policy != Policy::Rate {
                    return Err(Error::config(
                        "half_open_mode",
                        "the rate half-open mode needs the rate policy's thresholds",
                    ));
                }
            }
        }
        check::positive_ns("permit_lease_ns", self.permit_lease_ns)?;
        check::count_in("event_capacity", self.event_capacity, 0, MAX_EVENT_CAPACITY)?;
        Ok(())
    }

    fn validate_rate(&self) -> Result<()> {
        check::count_in("window_size", self.window_size, 1, MAX_WINDOW_SIZE)?;
        check::count_in("minimum_calls", self.minimum_calls, 1, u32::MAX)?;
        match self.window_kind {
            WindowKind::Count => {
                if self.minimum_calls > self.window_size {
                    return Err(Error::config(
                        "minimum_calls",
                        format!(
                            "a count window of {} calls never holds {} calls",
                            self.window_size, self.minimum_calls
                        ),
                    ));
                }
            }
            WindowKind::Time => {
                check::positive_ns("window_ns", self.window_ns)?;
                if self.window_ns % i64::from(self.window_size) != 0 {
                    return Err(Error::config(
                        "window_ns",
                        format!(
                            "must be a multiple of window_size ({} buckets), got {}",
                            self.window_size, self.window_ns
                        ),
                    ));
                }
            }
        }
        if self.failure_rate_threshold == 0.0
            && self.slow_call_rate_threshold == 0.0
            && self.failure_count_threshold == 0
        {
            return Err(Error::config(
                "failure_rate_threshold",
                "the rate policy needs failure_rate_threshold, slow_call_rate_threshold or failure_count_threshold",
            ));
        }
        Ok(())
    }

    fn slow_tracking(&self) -> bool {
        self.slow_call_duration_ns > 0
    }
}

/// The gobreaker counts of the current generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls admitted.
    pub requests: u64,
    /// Successes recorded.
    pub total_successes: u64,
    /// Failures recorded.
    pub total_failures: u64,
    /// Ignored outcomes recorded.
    pub total_exclusions: u64,
    /// Successes since the last failure.
    pub consecutive_successes: u64,
    /// Failures since the last success.
    pub consecutive_failures: u64,
}

/// An admitted call's permit: pass it back to [`Breaker::record_at`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permit {
    /// Generation (state period) it was issued in.
    pub generation: u64,
    /// Unique per breaker.
    pub id: u64,
    /// When it was issued; the call's duration is measured from here.
    pub start_ns: i64,
}

/// The answer to an acquire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acquire {
    /// `Ok(permit)` or why not.
    pub decision: std::result::Result<Permit, Reject>,
    /// State after the call.
    pub state: State,
    /// When rejected: how long until a retry could be admitted (0 = unknown).
    pub retry_after_ns: i64,
}

/// The answer to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// False when the outcome was dropped (stale generation, expired lease,
    /// or a disabled breaker).
    pub counted: bool,
    /// The call was slower than `slow_call_duration_ns`.
    pub slow: bool,
    /// State after the call.
    pub state: State,
    /// Generation after the call (pass it to [`Breaker::trip_at`]).
    pub generation: u64,
    /// Counts after the call.
    pub counts: Counts,
}

/// A state transition, as drained from the event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// 1, 2, 3… per breaker; a gap means events were dropped.
    pub seq: u64,
    /// When the transition happened (the `now` of the call that caused it).
    pub at_ns: i64,
    /// Previous state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
    /// The generation the new state started.
    pub generation: u64,
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// Current state.
    pub state: State,
    /// Current generation.
    pub generation: u64,
    /// Counts of the current generation.
    pub counts: Counts,
    /// Calls in the rate window (closed) or trial calls recorded (half-open).
    pub window_calls: u64,
    /// Failures among them.
    pub window_failures: u64,
    /// Slow calls among them.
    pub window_slow_calls: u64,
    /// `window_failures / window_calls` (0 when empty).
    pub failure_rate: f64,
    /// `window_slow_calls / window_calls` (0 when empty).
    pub slow_call_rate: f64,
    /// Time since the current state was entered (never negative).
    pub time_in_state_ns: i64,
    /// Open: when half-open begins.
    pub open_until_ns: i64,
    /// Opens since the breaker last closed.
    pub consecutive_opens: u32,
    /// Half-open: trial permits out and not yet recorded.
    pub half_open_in_flight: u32,
    /// Calls rejected over the breaker's life.
    pub rejected_total: u64,
    /// Trial permits reclaimed after their lease expired, over the breaker's life.
    pub leases_expired_total: u64,
    /// Events dropped because nobody drained them in time.
    pub events_dropped_total: u64,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    id: u64,
    lease_until: i64,
}

#[derive(Debug)]
enum RateWindow {
    None,
    Count(CountWindow),
    Time(TimeWindow<CallStats>),
}

impl RateWindow {
    fn new(cfg: &Config) -> Self {
        if cfg.policy != Policy::Rate {
            return Self::None;
        }
        let size = cfg.window_size as usize;
        match cfg.window_kind {
            WindowKind::Count => Self::Count(CountWindow::new(size)),
            WindowKind::Time => Self::Time(TimeWindow::new(
                size,
                cfg.window_ns / i64::from(cfg.window_size),
            )),
        }
    }

    fn add(&mut self, now: i64, call: CallStats) -> CallStats {
        match self {
            Self::None => CallStats::default(),
            Self::Count(w) => {
                w.add(call);
                w.total()
            }
            Self::Time(w) => {
                w.add(now, call);
                w.total()
            }
        }
    }

    fn total(&mut self, now: i64) -> CallStats {
        match self {
            Self::None => CallStats::default(),
            Self::Count(w) => w.total(),
            Self::Time(w) => w.total_at(now),
        }
    }

    fn clear(&mut self) {
        match self {
            Self::None => {}
            Self::Count(w) => w.clear(),
            Self::Time(w) => w.clear(),
        }
    }
}

#[derive(Debug)]
// Field order matters under contention: what a closed-state acquire and
// record touch comes first, next to the lock, in as few cache lines as
// possible (measured in benches/breaker.rs).
#[repr(C)]
struct Machine {
    state: State,
    generation: u64,
    next_permit_id: u64,
    counts: Counts,
    closed_until: Option<i64>,
    cfg: Config,
    entered_at: i64,
    open_until: i64,
    consecutive_opens: u32,
    window: RateWindow,
    /// Half-open: permits out, with their leases.
    slots: Vec<Slot>,
    trials: CallStats,
    trial_successes: u32,
    trial_failures: u32,
    events: VecDeque<Event>,
    next_event_seq: u64,
    events_dropped: u64,
    rejected_total: u64,
    leases_expired: u64,
}

impl Machine {
    fn new(cfg: Config, now: i64) -> Self {
        let mut m = Self {
            cfg,
            state: State::Closed,
            generation: 1,
            entered_at: now,
            open_until: now,
            closed_until: None,
            consecutive_opens: 0,
            counts: Counts::default(),
            window: RateWindow::new(&cfg),
            slots: Vec::with_capacity(cfg.half_open_max_calls as usize),
            trials: CallStats::default(),
            trial_successes: 0,
            trial_failures: 0,
            next_permit_id: 1,
            events: VecDeque::with_capacity(cfg.event_capacity as usize),
            next_event_seq: 1,
            events_dropped: 0,
            rejected_total: 0,
            leases_expired: 0,
        };
        m.arm_closed_interval(now);
        m
    }

    fn arm_closed_interval(&mut self, now: i64) {
        self.closed_until = (self.cfg.closed_reset_interval_ns > 0)
            .then(|| now.saturating_add(self.cfg.closed_reset_interval_ns));
    }

    /// Applies the transitions that time alone causes.
    fn refresh(&mut self, now: i64) {
        match self.state {
            State::Open if reached(now, self.open_until) => {
                self.enter(State::HalfOpen, now, Reason::WaitElapsed);
            }
            State::Closed => {
                if let Some(until) = self.closed_until {
                    if reached(now, until) {
                        // A new generation with fresh counts, like gobreaker's Interval.
                        self.generation += 1;
                        self.counts = Counts::default();
                        self.window.clear();
                        self.arm_closed_interval(now);
                    }
                }
            }
            State::HalfOpen => {
                let before = self.slots.len();
                self.slots.retain(|s| !reached(now, s.lease_until));
                self.leases_expired += (before - self.slots.len()) as u64;
            }
            _ => {}
        }
    }

    fn open_wait(&self) -> i64 {
        let cfg = &self.cfg;
        let exponent = i32::try_from(self.consecutive_opens.saturating_sub(1)).unwrap_or(i32::MAX);
        #[allow(clippy::cast_precision_loss)]
        let grown = cfg.wait_duration_ns as f64 * cfg.wait_duration_multiplier.powi(exponent);
        #[allow(clippy::cast_precision_loss)]
        if grown >= cfg.max_wait_duration_ns as f64 {
            cfg.max_wait_duration_ns
        } else {
            #[allow(clippy::cast_possible_truncation)]
            let wait = grown as i64;
            wait
        }
    }

    fn enter(&mut self, to: State, now: i64, reason: Reason) {
        let from = self.state;
        self.state = to;
        self.generation += 1;
        self.entered_at = now;
        self.counts = Counts::default();
        self.slots.clear();
        self.trials = CallStats::default();
        self.trial_successes = 0;
        self.trial_failures = 0;
        self.closed_until = None;
        match to {
            State::Closed => {
                self.consecutive_opens = 0;
                self.window.clear();
                self.arm_closed_interval(now);
            }
            State::Open => {
                self.consecutive_opens = self.consecutive_opens.saturating_add(1);
                self.open_until = now.saturating_add(self.open_wait());
            }
            State::HalfOpen | State::ForcedOpen | State::Disabled => {}
        }
        self.push_event(Event {
            seq: 0,
            at_ns: now,
            from,
            to,
            reason,
            generation: self.generation,
        });
    }

    fn push_event(&mut self, mut event: Event) {
        event.seq = self.next_event_seq;
        self.next_event_seq += 1;
        if self.cfg.event_capacity == 0 {
            self.events_dropped += 1;
            return;
        }
        if self.events.len() >= self.cfg.event_capacity as usize {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(event);
    }

    fn permit(&mut self, now: i64) -> Permit {
        let id = self.next_permit_id;
        self.next_permit_id += 1;
        Permit {
            generation: self.generation,
            id,
            start_ns: now,
        }
    }

    fn acquire(&mut self, now: i64) -> Acquire {
        self.refresh(now);
        let reject = |m: &mut Self, why: Reject, retry_after_ns: i64| {
            m.rejected_total += 1;
            Acquire {
                decision: Err(why),
                state: m.state,
                retry_after_ns,
            }
        };
        let decision = match self.state {
            State::Closed => {
                self.counts.requests += 1;
                Ok(self.permit(now))
            }
            State::Disabled => Ok(self.permit(now)),
            State::Open => {
                let wait = elapsed(self.open_until, now).max(1);
                return reject(self, Reject::Open, wait);
            }
            State::ForcedOpen => return reject(self, Reject::ForcedOpen, 0),
            State::HalfOpen => {
                let used = self.slots.len() as u64
                    + u64::from(self.trial_successes)
                    + u64::from(self.trial_failures)
                    + self.trials_in_rate_mode();
                if used >= u64::from(self.cfg.half_open_max_calls) {
                    let next_lease = self.slots.iter().map(|s| s.lease_until).min();
                    let wait = next_lease.map_or(0, |t| elapsed(t, now).max(1));
                    return reject(self, Reject::HalfOpenFull, wait);
                }
                self.counts.requests += 1;
                let permit = self.permit(now);
                self.slots.push(Slot {
                    id: permit.id,
                    lease_until: now.saturating_add(self.cfg.permit_lease_ns),
                });
                Ok(permit)
            }
        };
        Acquire {
            decision,
            state: self.state,
            retry_after_ns: 0,
        }
    }

    /// In rate mode trial outcomes are kept in `trials`, not in the
    /// success/failure counters; they occupy slots all the same.
    fn trials_in_rate_mode(&self) -> u64 {
        if self.cfg.half_open_mode == HalfOpenMode::Rate {
            self.trials.calls
        } else {
            0
        }
    }

    fn record(&mut self, now: i64, permit: &Permit, outcome: Outcome) -> Record {
        self.refresh(now);
        let duration = elapsed(now, permit.start_ns).max(0);
        let slow = self.cfg.slow_tracking() && duration > self.cfg.slow_call_duration_ns;
        let counted = permit.generation == self.generation
            && match self.state {
                State::Closed => {
                    self.record_closed(now, outcome, slow);
                    true
                }
                State::HalfOpen => self.record_half_open(now, permit, outcome, slow),
                _ => false,
            };
        Record {
            counted,
            slow,
            state: self.state,
            generation: self.generation,
            counts: self.counts,
        }
    }

    fn count(&mut self, outcome: Outcome) {
        let c = &mut self.counts;
        match outcome {
            Outcome::Success => {
                c.total_successes += 1;
                c.consecutive_successes += 1;
                c.consecutive_failures = 0;
            }
            Outcome::Failure => {
                c.total_failures += 1;
                c.consecutive_failures += 1;
                c.consecutive_successes = 0;
            }
            Outcome::Ignored => c.total_exclusions += 1,
        }
    }

    fn record_closed(&mut self, now: i64, outcome: Outcome, slow: bool) {
        self.count(outcome);
        let failed = outcome == Outcome::Failure;
        match self.cfg.policy {
            Policy::Consecutive => {
                if failed
                    && self.counts.consecutive_failures >= u64::from(self.cfg.consecutive_failures)
                {
                    self.enter(State::Open, now, Reason::ConsecutiveFailures);
                }
            }
            Policy::Rate => {
                if outcome == Outcome::Ignored {
                    return;
                }
                let stats = self.window.add(now, CallStats::one(failed, slow));
                if self.cfg.evaluate_on_failure_only && !failed {
                    return;
                }
                if let Some(reason) = self.rate_exceeded(&stats, self.cfg.minimum_calls) {
                    self.enter(State::Open, now, reason);
                }
            }
            Policy::External => {}
        }
    }

    /// The first threshold reached by `stats`, once it holds `minimum` calls.
    fn rate_exceeded(&self, stats: &CallStats, minimum: u32) -> Option<Reason> {
        let cfg = &self.cfg;
        if stats.calls == 0 || stats.calls < u64::from(minimum) {
            return None;
        }
        if cfg.failure_rate_threshold > 0.0 && stats.failure_rate() >= cfg.failure_rate_threshold {
            return Some(Reason::FailureRate);
        }
        if cfg.slow_call_rate_threshold > 0.0 && stats.slow_rate() >= cfg.slow_call_rate_threshold {
            return Some(Reason::SlowCallRate);
        }
        if cfg.failure_count_threshold > 0
            && stats.failures >= u64::from(cfg.failure_count_threshold)
        {
            return Some(Reason::FailureCount);
        }
        None
    }

    fn record_half_open(
        &mut self,
        now: i64,
        permit: &Permit,
        outcome: Outcome,
        slow: bool,
    ) -> bool {
        let Some(pos) = self.slots.iter().position(|s| s.id == permit.id) else {
            return false; // lease expired and reclaimed, or already recorded
        };
        self.slots.swap_remove(pos);
        self.count(outcome);
        if outcome == Outcome::Ignored {
            return true; // the slot goes back to the pool
        }
        let failed = outcome == Outcome::Failure;
        match self.cfg.half_open_mode {
            HalfOpenMode::Successes => {
                // A breaker that watches slowness treats a slow trial as failed.
                let bad = failed || (slow && self.cfg.slow_call_rate_threshold > 0.0);
                if bad {
                    self.trial_failures += 1;
                    if self.trial_failures >= self.cfg.half_open_failure_threshold {
                        self.enter(State::Open, now, Reason::TrialsFailed);
                        return true;
                    }
                } else {
                    self.trial_successes += 1;
                    if self.trial_successes >= self.cfg.half_open_success_threshold {
                        self.enter(State::Closed, now, Reason::TrialsSucceeded);
                        return true;
                    }
                }
                let decided = self.trial_successes + self.trial_failures;
                if decided >= self.cfg.half_open_max_calls && self.slots.is_empty() {
                    self.enter(State::Open, now, Reason::TrialsExhausted);
                }
            }
            HalfOpenMode::Rate => {
                self.trials += CallStats::one(failed, slow);
                let minimum = self.cfg.minimum_calls.min(self.cfg.half_open_max_calls);
                let trials = self.trials;
                if trials.calls >= u64::from(minimum) {
                    match self.rate_exceeded(&trials, minimum) {
                        Some(_) => self.enter(State::Open, now, Reason::TrialsFailed),
                        None => self.enter(State::Closed, now, Reason::TrialsSucceeded),
                    }
                }
            }
        }
        true
    }

    fn metrics(&mut self, now: i64) -> Metrics {
        self.refresh(now);
        let stats = if self.state == State::HalfOpen {
            let mut t = self.trials;
            if self.cfg.half_open_mode == HalfOpenMode::Successes {
                t = CallStats {
                    calls: u64::from(self.trial_successes + self.trial_failures),
                    failures: u64::from(self.trial_failures),
                    slow: 0,
                };
            }
            t
        } else {
            self.window.total(now)
        };
        Metrics {
            state: self.state,
            generation: self.generation,
            counts: self.counts,
            window_calls: stats.calls,
            window_failures: stats.failures,
            window_slow_calls: stats.slow,
            failure_rate: stats.failure_rate(),
            slow_call_rate: stats.slow_rate(),
            time_in_state_ns: elapsed(now, self.entered_at).max(0),
            open_until_ns: if self.state == State::Open {
                self.open_until
            } else {
                0
            },
            consecutive_opens: self.consecutive_opens,
            half_open_in_flight: u32::try_from(self.slots.len()).unwrap_or(u32::MAX),
            rejected_total: self.rejected_total,
            leases_expired_total: self.leases_expired,
            events_dropped_total: self.events_dropped,
        }
    }
}

/// Why [`Breaker::execute`] returned no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker did not let the call run.
    Rejected {
        /// Why.
        reason: Reject,
        /// How long until a call could be admitted (0 = unknown).
        retry_after_ns: i64,
    },
    /// The call ran and failed with this error.
    Failed(E),
}

impl<E: std::fmt::Display> std::fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected {
                reason,
                retry_after_ns,
            } => write!(
                f,
                "circuit breaker rejected the call ({reason:?}); retry after {retry_after_ns} ns"
            ),
            Self::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for CallError<E> {}

/// A thread-safe circuit breaker.
#[derive(Debug)]
pub struct Breaker {
    machine: Mutex<Machine>,
}

impl Breaker {
    /// A closed breaker; `now` starts its first generation.
    pub fn new(cfg: Config, now: i64) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            machine: Mutex::new(Machine::new(cfg, now)),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> Config {
        self.machine.lock().cfg
    }

    /// Asks to let a call through at `now`.
    pub fn acquire_at(&self, now: i64) -> Acquire {
        self.machine.lock().acquire(now)
    }

    /// Records the outcome of the call holding `permit`, finished at `now`.
    pub fn record_at(&self, now: i64, permit: &Permit, outcome: Outcome) -> Record {
        self.machine.lock().record(now, permit, outcome)
    }

    /// Second phase of an externally decided trip: opens the breaker if it
    /// is still closed in `generation` (as returned by [`Self::record_at`]).
    /// Returns whether it tripped.
    pub fn trip_at(&self, now: i64, generation: u64) -> bool {
        let mut m = self.machine.lock();
        m.refresh(now);
        if m.state == State::Closed && m.generation == generation {
            m.enter(State::Open, now, Reason::ExternalTrip);
            true
        } else {
            false
        }
    }

    /// Moves to `to` whatever the current state (a new generation starts,
    /// even for the same state).
    pub fn transition_at(&self, now: i64, to: State) {
        let mut m = self.machine.lock();
        m.refresh(now);
        m.enter(to, now, Reason::Manual);
    }

    /// Back to a fresh closed breaker (consecutive opens forgotten).
    pub fn reset_at(&self, now: i64) {
        let mut m = self.machine.lock();
        m.consecutive_opens = 0;
        m.enter(State::Closed, now, Reason::Reset);
    }

    /// The state at `now` (applying any transition that time alone causes).
    pub fn state_at(&self, now: i64) -> State {
        let mut m = self.machine.lock();
        m.refresh(now);
        m.state
    }

    /// A metrics snapshot at `now`.
    pub fn metrics_at(&self, now: i64) -> Metrics {
        self.machine.lock().metrics(now)
    }

    /// Runs `op` under the breaker on the library clock: rejected calls never
    /// run; an `Ok` is recorded as a success and an `Err` as a failure.
    pub fn execute<T, E>(
        &self,
        op: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, CallError<E>> {
        self.execute_classified(op, |r| {
            if r.is_ok() {
                Outcome::Success
            } else {
                Outcome::Failure
            }
        })
    }

    /// Like [`Self::execute`], with the outcome decided by `classify` (say,
    /// a cancellation is [`Outcome::Ignored`], a 404 a success).
    pub fn execute_classified<T, E>(
        &self,
        op: impl FnOnce() -> std::result::Result<T, E>,
        classify: impl FnOnce(&std::result::Result<T, E>) -> Outcome,
    ) -> std::result::Result<T, CallError<E>> {
        let acquired = self.acquire_at(super::clock::now_ns());
        let permit = acquired.decision.map_err(|reason| CallError::Rejected {
            reason,
            retry_after_ns: acquired.retry_after_ns,
        })?;
        let result = op();
        self.record_at(super::clock::now_ns(), &permit, classify(&result));
        result.map_err(CallError::Failed)
    }

    /// Moves up to `out.len()` of the oldest undrained events into `out`,
    /// returning how many.
    pub fn drain_events(&self, out: &mut [Event]) -> usize {
        let mut n = 0;
        self.drain_events_with(out.len(), |i, e| {
            if let Some(slot) = out.get_mut(i) {
                *slot = e;
                n += 1;
            }
        });
        n
    }

    /// Hands up to `max` of the oldest undrained events to `sink(index,
    /// event)`, in order, without allocating; returns how many.
    pub fn drain_events_with(&self, max: usize, mut sink: impl FnMut(usize, Event)) -> usize {
        let mut m = self.machine.lock();
        let n = max.min(m.events.len());
        for (i, e) in m.events.drain(..n).enumerate() {
            sink(i, e);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(b: &Breaker, t: i64) -> Record {
        let a = b.acquire_at(t);
        let p = a.decision.unwrap_or_default();
        b.record_at(t, &p, Outcome::Failure)
    }

    #[test]
    fn every_preset_validates() {
        for raw in 0..8 {
            let p = Preset::from_raw(raw).unwrap_or(Preset::Default);
            assert_eq!(Config::preset(p).validate(), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn consecutive_failures_open_then_half_open() {
        let b = Breaker::new(Config::default(), 0).unwrap_or_else(|e| unreachable!("{e}"));
        for i in 0..4 {
            assert_eq!(fail(&b, i).state, State::Closed);
        }
        assert_eq!(fail(&b, 4).state, State::Open);
        assert_eq!(b.state_at(4 + 60 * SECOND - 1), State::Open);
        assert_eq!(b.state_at(4 + 60 * SECOND), State::HalfOpen);
    }

    #[test]
    fn execute_records_and_rejects() {
        let cfg = Config {
            consecutive_failures: 2,
            ..Config::default()
        };
        let b =
            Breaker::new(cfg, crate::core::clock::now_ns()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(b.execute(|| Ok::<_, &str>(1)), Ok(1));
        assert_eq!(
            b.execute(|| Err::<i32, _>("x")),
            Err(CallError::Failed("x"))
        );
        let ignored = b.execute_classified(|| Err::<i32, _>("cancelled"), |_| Outcome::Ignored);
        assert_eq!(ignored, Err(CallError::Failed("cancelled")));
        assert_eq!(
            b.execute(|| Err::<i32, _>("y")),
            Err(CallError::Failed("y"))
        );
        let mut ran = false;
        let r = b.execute(|| {
            ran = true;
            Ok::<_, &str>(3)
        });
        assert!(
            matches!(r, Err(CallError::Rejected { reason: Reject::Open, retry_after_ns }) if retry_after_ns > 0)
        );
        assert!(!ran);
    }

    #[test]
    fn wait_grows_and_caps() {
        let cfg = Config {
            consecutive_failures: 1,
            wait_duration_ns: 10,
            wait_duration_multiplier: 2.0,
            max_wait_duration_ns: 30,
            ..Config::default()
        };
        let b = Breaker::new(cfg, 0).unwrap_or_else(|e| unreachable!("{e}"));
        fail(&b, 0);
        assert_eq!(b.metrics_at(0).open_until_ns, 10);
        let a = b.acquire_at(10);
        let p = a.decision.unwrap_or_default();
        b.record_at(10, &p, Outcome::Failure);
        assert_eq!(b.metrics_at(10).open_until_ns, 30);
        let p = b.acquire_at(30).decision.unwrap_or_default();
        b.record_at(30, &p, Outcome::Failure);
        assert_eq!(b.metrics_at(30).open_until_ns, 60);
    }
}
