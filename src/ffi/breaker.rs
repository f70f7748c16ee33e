//! C ABI of the circuit breaker (`rsl_breaker_*`), over `core::breaker`.

use super::{enum_field, reserved_zero, rsl_error, with_handle_at};
use super::{
    flag, guard, in_ref, opaque, out_ref, outcome, read_versioned, rsl_outcome, rsl_status,
    store_handle, with_handle, write_versioned, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::breaker::{
    Acquire, Breaker, Config, Counts, Event, HalfOpenMode, Metrics, Permit, Policy, Preset, Record,
    State, WindowKind,
};
use crate::core::clock::now_ns;
use std::ffi::c_char;

/// A circuit breaker. Create with `rsl_breaker_new`, destroy with
/// `rsl_breaker_free`. Every function may be called from any thread
/// concurrently, except `rsl_breaker_free`.
pub struct rsl_breaker(Handle<Breaker>);
opaque!(rsl_breaker, Breaker);

/// Breaker state (`RSL_BREAKER_CLOSED` …).
pub type rsl_breaker_state = u32;
/// Calls go through and are counted.
pub const RSL_BREAKER_CLOSED: rsl_breaker_state = 0;
/// Calls are rejected until the wait duration has passed.
pub const RSL_BREAKER_OPEN: rsl_breaker_state = 1;
/// A limited number of trial calls go through.
pub const RSL_BREAKER_HALF_OPEN: rsl_breaker_state = 2;
/// Manually opened: every call is rejected until a manual transition.
pub const RSL_BREAKER_FORCED_OPEN: rsl_breaker_state = 3;
/// Manually disabled: every call goes through, nothing is counted.
pub const RSL_BREAKER_DISABLED: rsl_breaker_state = 4;

/// Trip when `consecutive_failures` failures follow one another.
pub const RSL_BREAKER_POLICY_CONSECUTIVE: u32 = 1;
/// Trip on failure rate, slow-call rate or failure count over a window.
pub const RSL_BREAKER_POLICY_RATE: u32 = 2;
/// Never trip by itself: the caller decides with `rsl_breaker_trip_at`.
pub const RSL_BREAKER_POLICY_EXTERNAL: u32 = 3;

/// Rate window over the last `window_size` calls.
pub const RSL_WINDOW_COUNT: u32 = 1;
/// Rate window over the last `window_ns`, in `window_size` buckets.
pub const RSL_WINDOW_TIME: u32 = 2;

/// Half-open closes after `half_open_success_threshold` successful trials
/// and reopens after `half_open_failure_threshold` failed ones.
pub const RSL_HALF_OPEN_SUCCESSES: u32 = 1;
/// Half-open judges the trials by the rate thresholds (Resilience4j).
pub const RSL_HALF_OPEN_RATE: u32 = 2;

/// Rejected: the breaker is open.
pub const RSL_BREAKER_REJECT_OPEN: u32 = 1;
/// Rejected: the breaker is forced open.
pub const RSL_BREAKER_REJECT_FORCED_OPEN: u32 = 2;
/// Rejected: half-open and every trial slot is taken.
pub const RSL_BREAKER_REJECT_HALF_OPEN_FULL: u32 = 3;

/// Transition reason: consecutive failures reached the threshold.
pub const RSL_BREAKER_REASON_CONSECUTIVE_FAILURES: u32 = 1;
/// Transition reason: failure rate reached the threshold.
pub const RSL_BREAKER_REASON_FAILURE_RATE: u32 = 2;
/// Transition reason: slow-call rate reached the threshold.
pub const RSL_BREAKER_REASON_SLOW_CALL_RATE: u32 = 3;
/// Transition reason: failure count reached the threshold.
pub const RSL_BREAKER_REASON_FAILURE_COUNT: u32 = 4;
/// Transition reason: `rsl_breaker_trip_at`.
pub const RSL_BREAKER_REASON_EXTERNAL_TRIP: u32 = 5;
/// Transition reason: the open wait elapsed.
pub const RSL_BREAKER_REASON_WAIT_ELAPSED: u32 = 6;
/// Transition reason: enough trials succeeded.
pub const RSL_BREAKER_REASON_TRIALS_SUCCEEDED: u32 = 7;
/// Transition reason: enough trials failed.
pub const RSL_BREAKER_REASON_TRIALS_FAILED: u32 = 8;
/// Transition reason: every trial slot was used without a decision.
pub const RSL_BREAKER_REASON_TRIALS_EXHAUSTED: u32 = 9;
/// Transition reason: `rsl_breaker_transition_at`.
pub const RSL_BREAKER_REASON_MANUAL: u32 = 10;
/// Transition reason: `rsl_breaker_reset_at`.
pub const RSL_BREAKER_REASON_RESET: u32 = 11;

/// Preset: the library's defaults (what `rsl_breaker_config_init` gives).
pub const RSL_BREAKER_PRESET_DEFAULT: u32 = 0;
/// Preset: Resilience4j `CircuitBreakerConfig.ofDefaults()`.
pub const RSL_BREAKER_PRESET_RESILIENCE4J: u32 = 1;
/// Preset: Polly v8 `CircuitBreakerStrategyOptions` defaults.
pub const RSL_BREAKER_PRESET_POLLY_V8: u32 = 2;
/// Preset: sony/gobreaker `Settings{}` defaults.
pub const RSL_BREAKER_PRESET_GOBREAKER: u32 = 3;
/// Preset: afex/hystrix-go defaults.
pub const RSL_BREAKER_PRESET_HYSTRIX: u32 = 4;
/// Preset: Sentinel `ErrorRatio` rule.
pub const RSL_BREAKER_PRESET_SENTINEL_ERROR_RATIO: u32 = 5;
/// Preset: Sentinel `ErrorCount` rule.
pub const RSL_BREAKER_PRESET_SENTINEL_ERROR_COUNT: u32 = 6;
/// Preset: Sentinel `SlowRequestRatio` rule.
pub const RSL_BREAKER_PRESET_SENTINEL_SLOW_REQUEST_RATIO: u32 = 7;

/// Breaker configuration. Fill it with `rsl_breaker_config_init` (or
/// `rsl_breaker_config_preset`), then change fields. Units are in the names;
/// "0 disables" is stated where it applies. See docs/semantics.md.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_breaker_config {
    /// `sizeof(rsl_breaker_config)` as the caller was compiled; set by _init.
    pub struct_size: u32,
    /// `RSL_BREAKER_POLICY_*`. Default CONSECUTIVE.
    pub policy: u32,
    /// CONSECUTIVE: trip when this many failures follow one another (>= 1). Default 5.
    pub consecutive_failures: u32,
    /// RATE: `RSL_WINDOW_COUNT` or `RSL_WINDOW_TIME`. Default COUNT.
    pub window_kind: u32,
    /// RATE: calls (COUNT) or buckets (TIME), 1..=1048576. Default 100.
    pub window_size: u32,
    /// RATE: no decision while the window holds fewer calls (>= 1). Default 100.
    pub minimum_calls: u32,
    /// RATE + TIME: window length, a multiple of window_size. Default 60 s.
    pub window_ns: i64,
    /// RATE: trip when failures/calls >= this, in [0, 1]; 0 disables. Default 0.5.
    pub failure_rate_threshold: f64,
    /// RATE: trip when slow/calls >= this, in [0, 1]; 0 disables. Default 1.0.
    pub slow_call_rate_threshold: f64,
    /// A call lasting strictly longer is slow; 0 disables slow tracking. Default 60 s.
    pub slow_call_duration_ns: i64,
    /// RATE: trip when failures in the window reach this; 0 disables. Default 0.
    pub failure_count_threshold: u32,
    /// RATE: 1 = evaluate thresholds only after a failure (Polly); 0 = after every call.
    pub evaluate_on_failure_only: u32,
    /// CLOSED: start a new generation with cleared counts every interval; 0 never.
    pub closed_reset_interval_ns: i64,
    /// OPEN: time before half-open (> 0). Default 60 s.
    pub wait_duration_ns: i64,
    /// Each consecutive open waits this many times longer than the last (>= 1). Default 1.
    pub wait_duration_multiplier: f64,
    /// Cap on the grown wait (>= wait_duration_ns). Default 60 s.
    pub max_wait_duration_ns: i64,
    /// `RSL_HALF_OPEN_SUCCESSES` or `RSL_HALF_OPEN_RATE`. Default SUCCESSES.
    pub half_open_mode: u32,
    /// Trial calls admitted per half-open period, 1..=65536. Default 1.
    pub half_open_max_calls: u32,
    /// SUCCESSES: successful trials that close, 1..=half_open_max_calls. Default 1.
    pub half_open_success_threshold: u32,
    /// SUCCESSES: failed trials that reopen, 1..=half_open_max_calls. Default 1.
    pub half_open_failure_threshold: u32,
    /// A trial permit not recorded within this lease is reclaimed (> 0). Default 60 s.
    pub permit_lease_ns: i64,
    /// Transition events kept for `rsl_breaker_drain_events`, 0..=65536. Default 64.
    pub event_capacity: u32,
    /// Must be zero.
    pub reserved0: u32,
}

impl VersionedStruct for rsl_breaker_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<Config> for rsl_breaker_config {
    fn from(c: Config) -> Self {
        let mut out = Self {
            struct_size: 0,
            policy: c.policy as u32,
            consecutive_failures: c.consecutive_failures,
            window_kind: c.window_kind as u32,
            window_size: c.window_size,
            minimum_calls: c.minimum_calls,
            window_ns: c.window_ns,
            failure_rate_threshold: c.failure_rate_threshold,
            slow_call_rate_threshold: c.slow_call_rate_threshold,
            slow_call_duration_ns: c.slow_call_duration_ns,
            failure_count_threshold: c.failure_count_threshold,
            evaluate_on_failure_only: u32::from(c.evaluate_on_failure_only),
            closed_reset_interval_ns: c.closed_reset_interval_ns,
            wait_duration_ns: c.wait_duration_ns,
            wait_duration_multiplier: c.wait_duration_multiplier,
            max_wait_duration_ns: c.max_wait_duration_ns,
            half_open_mode: c.half_open_mode as u32,
            half_open_max_calls: c.half_open_max_calls,
            half_open_success_threshold: c.half_open_success_threshold,
            half_open_failure_threshold: c.half_open_failure_threshold,
            permit_lease_ns: c.permit_lease_ns,
            event_capacity: c.event_capacity,
            reserved0: 0,
        };
        out.stamp();
        out
    }
}

/// Converts and validates a caller's config.
fn to_core(c: &rsl_breaker_config) -> FfiResult<Config> {
    {
        reserved_zero("reserved0", c.reserved0)?;
        let cfg = Config {
            policy: enum_field("policy", c.policy, |v| match v {
                1 => Some(Policy::Consecutive),
                2 => Some(Policy::Rate),
                3 => Some(Policy::External),
                _ => None,
            })?,
            consecutive_failures: c.consecutive_failures,
            window_kind: enum_field("window_kind", c.window_kind, |v| match v {
                1 => Some(WindowKind::Count),
                2 => Some(WindowKind::Time),
                _ => None,
            })?,
            window_size: c.window_size,
            window_ns: c.window_ns,
            minimum_calls: c.minimum_calls,
            failure_rate_threshold: c.failure_rate_threshold,
            slow_call_rate_threshold: c.slow_call_rate_threshold,
            slow_call_duration_ns: c.slow_call_duration_ns,
            failure_count_threshold: c.failure_count_threshold,
            evaluate_on_failure_only: flag("evaluate_on_failure_only", c.evaluate_on_failure_only)?,
            closed_reset_interval_ns: c.closed_reset_interval_ns,
            wait_duration_ns: c.wait_duration_ns,
            wait_duration_multiplier: c.wait_duration_multiplier,
            max_wait_duration_ns: c.max_wait_duration_ns,
            half_open_mode: enum_field("half_open_mode", c.half_open_mode, |v| match v {
                1 => Some(HalfOpenMode::Successes),
                2 => Some(HalfOpenMode::Rate),
                _ => None,
            })?,
            half_open_max_calls: c.half_open_max_calls,
            half_open_success_threshold: c.half_open_success_threshold,
            half_open_failure_threshold: c.half_open_failure_threshold,
            permit_lease_ns: c.permit_lease_ns,
            event_capacity: c.event_capacity,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// An admitted call's permit. Pass it, unchanged, to `rsl_breaker_record_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_permit {
    /// The generation (state period) it was issued in.
    pub generation: u64,
    /// Unique per breaker.
    pub id: u64,
    /// When it was issued; the call's duration is measured from here.
    pub start_ns: i64,
}

/// The answer to `rsl_breaker_acquire_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_acquire_result {
    /// 1 if the call may go through (then `permit` is valid), else 0.
    pub admitted: u32,
    /// State after the call (`RSL_BREAKER_*`).
    pub state: rsl_breaker_state,
    /// When rejected: `RSL_BREAKER_REJECT_*`; 0 when admitted.
    pub reject_reason: u32,
    /// Always zero.
    pub reserved0: u32,
    /// When rejected: nanoseconds until a call could be admitted at the
    /// earliest (the open wait's end, or the first trial lease's expiry);
    /// 0 when unknown (forced open) or admitted.
    pub retry_after_ns: i64,
    /// The permit, when admitted.
    pub permit: rsl_breaker_permit,
}

/// The gobreaker counts of the current generation.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_counts {
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

/// The answer to `rsl_breaker_record_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_record_result {
    /// 1 if the outcome counted; 0 if it was dropped (its generation is
    /// over, its trial lease expired, or the breaker is disabled).
    pub counted: u32,
    /// 1 if the call lasted longer than `slow_call_duration_ns`.
    pub slow: u32,
    /// State after the call.
    pub state: rsl_breaker_state,
    /// Always zero.
    pub reserved0: u32,
    /// Generation after the call: pass it to `rsl_breaker_trip_at`.
    pub generation: u64,
    /// Counts after the call: what a gobreaker `ReadyToTrip` would see. When
    /// this very call changed the state (say, it tripped a consecutive or rate
    /// policy), they are the new generation's, all zero.
    pub counts: rsl_breaker_counts,
}

/// A state transition, as drained by `rsl_breaker_drain_events`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_event {
    /// 1, 2, 3… per breaker; a gap means older events were dropped.
    pub seq: u64,
    /// When it happened (the now_ns of the call that caused it).
    pub at_ns: i64,
    /// The generation the new state started.
    pub generation: u64,
    /// Previous state.
    pub from: rsl_breaker_state,
    /// New state.
    pub to: rsl_breaker_state,
    /// `RSL_BREAKER_REASON_*`.
    pub reason: u32,
    /// Always zero.
    pub reserved0: u32,
}

/// A metrics snapshot. Set `struct_size = sizeof(rsl_breaker_metrics)`
/// before passing it to `rsl_breaker_get_metrics_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_breaker_metrics {
    /// Set by the caller to `sizeof(rsl_breaker_metrics)`.
    pub struct_size: u32,
    /// Current state.
    pub state: rsl_breaker_state,
    /// Current generation.
    pub generation: u64,
    /// Counts of the current generation.
    pub counts: rsl_breaker_counts,
    /// Calls in the rate window (CLOSED) or trials recorded (HALF_OPEN).
    pub window_calls: u64,
    /// Failures among them.
    pub window_failures: u64,
    /// Slow calls among them.
    pub window_slow_calls: u64,
    /// window_failures / window_calls (0 when empty).
    pub failure_rate: f64,
    /// window_slow_calls / window_calls (0 when empty).
    pub slow_call_rate: f64,
    /// Time since the current state was entered (never negative).
    pub time_in_state_ns: i64,
    /// OPEN: when half-open begins; 0 in other states.
    pub open_until_ns: i64,
    /// Opens since the breaker last closed.
    pub consecutive_opens: u32,
    /// HALF_OPEN: trial permits out and not yet recorded.
    pub half_open_in_flight: u32,
    /// Calls rejected over the breaker's life.
    pub rejected_total: u64,
    /// Trial permits reclaimed after their lease expired, over its life.
    pub leases_expired_total: u64,
    /// Events dropped because they were not drained in time.
    pub events_dropped_total: u64,
}

impl VersionedStruct for rsl_breaker_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<Counts> for rsl_breaker_counts {
    fn from(c: Counts) -> Self {
        Self {
            requests: c.requests,
            total_successes: c.total_successes,
            total_failures: c.total_failures,
            total_exclusions: c.total_exclusions,
            consecutive_successes: c.consecutive_successes,
            consecutive_failures: c.consecutive_failures,
        }
    }
}

impl From<Acquire> for rsl_breaker_acquire_result {
    fn from(a: Acquire) -> Self {
        let (admitted, reject_reason, permit) = match a.decision {
            Ok(p) => (1, 0, p),
            Err(why) => (0, why as u32, Permit::default()),
        };
        Self {
            admitted,
            state: a.state as u32,
            reject_reason,
            reserved0: 0,
            retry_after_ns: a.retry_after_ns,
            permit: rsl_breaker_permit {
                generation: permit.generation,
                id: permit.id,
                start_ns: permit.start_ns,
            },
        }
    }
}

impl From<Record> for rsl_breaker_record_result {
    fn from(r: Record) -> Self {
        Self {
            counted: u32::from(r.counted),
            slow: u32::from(r.slow),
            state: r.state as u32,
            reserved0: 0,
            generation: r.generation,
            counts: r.counts.into(),
        }
    }
}

impl From<Event> for rsl_breaker_event {
    fn from(e: Event) -> Self {
        Self {
            seq: e.seq,
            at_ns: e.at_ns,
            generation: e.generation,
            from: e.from as u32,
            to: e.to as u32,
            reason: e.reason as u32,
            reserved0: 0,
        }
    }
}

impl From<Metrics> for rsl_breaker_metrics {
    fn from(m: Metrics) -> Self {
        Self {
            struct_size: 0,
            state: m.state as u32,
            generation: m.generation,
            counts: m.counts.into(),
            window_calls: m.window_calls,
            window_failures: m.window_failures,
            window_slow_calls: m.window_slow_calls,
            failure_rate: m.failure_rate,
            slow_call_rate: m.slow_call_rate,
            time_in_state_ns: m.time_in_state_ns,
            open_until_ns: m.open_until_ns,
            consecutive_opens: m.consecutive_opens,
            half_open_in_flight: m.half_open_in_flight,
            rejected_total: m.rejected_total,
            leases_expired_total: m.leases_expired_total,
            events_dropped_total: m.events_dropped_total,
        }
    }
}

/// Fills `*cfg` with the defaults (policy CONSECUTIVE, 5 failures, 60 s
/// wait, one trial call) and sets `struct_size`.
/// Errors: `RSL_ERR_NULL_ARGUMENT` if `cfg` is NULL.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_config_init(
    cfg: *mut rsl_breaker_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_config_preset(cfg, RSL_BREAKER_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a named preset (`RSL_BREAKER_PRESET_*`); see
/// docs/semantics.md for each preset's source values.
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_config_preset(
    cfg: *mut rsl_breaker_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = Preset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = Config::preset(preset).into();
        Ok(())
    })
}

/// Creates a closed breaker whose first generation starts at `now_ns`.
/// `cfg` may be NULL for the defaults; it is copied, not retained. On
/// success `*out` receives a handle the caller owns (free it with
/// `rsl_breaker_free`); on error `*out` is untouched.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (the message names
/// the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_new_at(
    cfg: *const rsl_breaker_config,
    now_ns: i64,
    out: *mut *mut rsl_breaker,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, Config::default().into(), "cfg")?;
        Ok(Breaker::new(to_core(&raw)?, now_ns)?)
    })
}

/// `rsl_breaker_new_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_new(
    cfg: *const rsl_breaker_config,
    out: *mut *mut rsl_breaker,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_new_at(cfg, now_ns(), out, err) }
}

/// Gives back the caller's reference to `breaker` (the same as
/// `rsl_breaker_release`); the last reference destroys it. NULL is a no-op.
/// Safe while other threads that hold their own references
/// (`rsl_breaker_retain`) are inside calls on it; the caller must not use its
/// pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_breaker_free(breaker: *mut rsl_breaker) {
    super::free_handle(breaker);
}

/// Takes one more reference to `breaker` and returns it (NULL if `breaker` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_breaker_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_breaker_retain(breaker: *mut rsl_breaker) -> *mut rsl_breaker {
    super::retain_handle(breaker)
}

/// Gives back one reference to `breaker`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_breaker_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_breaker_release(breaker: *mut rsl_breaker) {
    super::free_handle(breaker);
}

/// Opt-in monotonic time for the `_at` calls on this handle: with `enabled`
/// 1, a `now_ns` earlier than the latest one this handle has seen is treated
/// as that latest one (for callers that read their clock before they queue
/// for the handle); 0 (the default) takes every `now_ns` as given, so time
/// going back keeps the primitive's own meaning (see docs/semantics.md, "The
/// clock"). Turning it on forgets earlier readings. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_CONFIG` (`enabled` not
/// 0 or 1).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_set_monotonic_time(
    breaker: *const rsl_breaker,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(breaker, enabled, err)
}

/// Asks to let a call through at `now_ns`. On admission, do the call and
/// then record its outcome with the permit in `out->permit`; a trial permit
/// (half-open) not recorded within `permit_lease_ns` is reclaimed.
/// A rejection is a result (`out->admitted == 0`), not an error.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_acquire_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    out: *mut rsl_breaker_acquire_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.acquire_at(now_ns).into();
        Ok(())
    })
}

/// `rsl_breaker_acquire_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_acquire(
    breaker: *const rsl_breaker,
    out: *mut rsl_breaker_acquire_result,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_acquire_at(breaker, now_ns(), out, err) }
}

/// Records the outcome (`RSL_OUTCOME_*`) of the call holding `*permit`,
/// finished at `now_ns` (its duration is `now_ns - permit->start_ns`).
/// An outcome from an older generation or an expired trial lease is dropped
/// (`out->counted == 0`). `out` may be NULL.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (permit), `RSL_ERR_INVALID_ARGUMENT`
/// (outcome), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_record_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    permit: *const rsl_breaker_permit,
    outcome_: rsl_outcome,
    out: *mut rsl_breaker_record_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        let p = in_ref(permit, "permit")?;
        let outcome = outcome(outcome_)?;
        let permit = Permit {
            generation: p.generation,
            id: p.id,
            start_ns: p.start_ns,
        };
        let result = b.record_at(now_ns, &permit, outcome);
        if !out.is_null() {
            *out_ref(out, "out")? = result.into();
        }
        Ok(())
    })
}

/// `rsl_breaker_record_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_record(
    breaker: *const rsl_breaker,
    permit: *const rsl_breaker_permit,
    outcome: rsl_outcome,
    out: *mut rsl_breaker_record_result,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_record_at(breaker, now_ns(), permit, outcome, out, err) }
}

/// Second phase of a trip decided outside the core (a user predicate on
/// the counts returned by `rsl_breaker_record_at`): opens the breaker only if
/// it is still CLOSED in `generation`, so a concurrent transition is never
/// overridden. `*out_tripped` (may be NULL) receives 1 if it tripped.
/// Errors: `RSL_ERR_POISONED`, `RSL_ERR_PANIC`, `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_trip_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    generation: u64,
    out_tripped: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        let tripped = b.trip_at(now_ns, generation);
        if !out_tripped.is_null() {
            *out_ref(out_tripped, "out_tripped")? = u32::from(tripped);
        }
        Ok(())
    })
}

/// `rsl_breaker_trip_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_trip(
    breaker: *const rsl_breaker,
    generation: u64,
    out_tripped: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_trip_at(breaker, now_ns(), generation, out_tripped, err) }
}

/// Moves the breaker to `state` (`RSL_BREAKER_*`) at `now_ns`: OPEN waits as
/// after a trip; FORCED_OPEN and DISABLED hold until the next manual call.
/// A new generation starts even if the state is unchanged.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (state), `RSL_ERR_NULL_ARGUMENT`,
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_transition_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    state: rsl_breaker_state,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        let to = State::from_raw(state)
            .ok_or_else(|| Failure::argument("state", format!("unknown state {state}")))?;
        b.transition_at(now_ns, to);
        Ok(())
    })
}

/// `rsl_breaker_transition_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_transition(
    breaker: *const rsl_breaker,
    state: rsl_breaker_state,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_transition_at(breaker, now_ns(), state, err) }
}

/// Resets to a fresh CLOSED breaker at `now_ns` (counts cleared, the
/// consecutive-open count forgotten, a new generation).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_reset_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        b.reset_at(now_ns);
        Ok(())
    })
}

/// `rsl_breaker_reset_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_reset(
    breaker: *const rsl_breaker,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_reset_at(breaker, now_ns(), err) }
}

/// The state at `now_ns` into `*out_state`, applying the transitions that
/// time alone causes (OPEN becomes HALF_OPEN once the wait is over).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_get_state_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    out_state: *mut rsl_breaker_state,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        let out = out_ref(out_state, "out_state")?;
        *out = b.state_at(now_ns) as u32;
        Ok(())
    })
}

/// `rsl_breaker_get_state_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_get_state(
    breaker: *const rsl_breaker,
    out_state: *mut rsl_breaker_state,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_get_state_at(breaker, now_ns(), out_state, err) }
}

/// A metrics snapshot at `now_ns` into `*out`, whose `struct_size` the
/// caller sets first (the library writes no more than that).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE` (struct_size not
/// set), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_get_metrics_at(
    breaker: *const rsl_breaker,
    now_ns: i64,
    out: *mut rsl_breaker_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(breaker, now_ns, err, |b, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, b.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_breaker_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_get_metrics(
    breaker: *const rsl_breaker,
    out: *mut rsl_breaker_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_get_metrics_at(breaker, now_ns(), out, err) }
}

/// Moves up to `capacity` of the oldest undrained transition events into
/// `events[0..*out_count]`. Events are kept (up to `event_capacity`, oldest
/// dropped first) until drained; `seq` gaps show drops. `events` may be
/// NULL only when `capacity` is 0.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_drain_events(
    breaker: *const rsl_breaker,
    events: *mut rsl_breaker_event,
    capacity: usize,
    out_count: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(breaker, err, |b| {
        let count = out_ref(out_count, "out_count")?;
        if capacity == 0 {
            *count = 0;
            return Ok(());
        }
        if events.is_null() {
            return Err(Failure::null("events"));
        }
        // SAFETY: `events` holds `capacity` writable elements (contract).
        let dst = unsafe { std::slice::from_raw_parts_mut(events, capacity) };
        let n = b.drain_events_with(capacity, |i, e| {
            if let Some(d) = dst.get_mut(i) {
                *d = e.into();
            }
        });
        *count = n;
        Ok(())
    })
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_breaker_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_breaker_new` would. Set `out->struct_size` first (`rsl_breaker_config_init`
/// does); `*out` is written only on success. Pure, thread-safe; keeps no
/// pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_CONFIG_SIZE`
/// (out.struct_size), `RSL_ERR_INVALID_ARGUMENT` (`json_len` above
/// `RSL_CONFIG_JSON_MAX_LEN`), `RSL_ERR_INVALID_CONFIG` naming the key (an
/// unknown key, a wrong type or unit, an unknown name, a value the config's
/// validation refuses) or `json` for the text as a whole (a syntax error,
/// with its line and column; not UTF-8; not an object).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_breaker_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<Config, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_breaker_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_breaker_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_config_to_json(
    cfg: *const rsl_breaker_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            Config::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a breaker from a JSON config (as `rsl_breaker_config_from_json`
/// reads it) at `now_ns`, without a config struct. `*out` receives the
/// owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_new_from_json_at(
    json: *const c_char,
    json_len: usize,
    now_ns: i64,
    out: *mut *mut rsl_breaker,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: Config = super::json::read(json, json_len)?;
        Ok(Breaker::new(cfg, now_ns)?)
    })
}

/// `rsl_breaker_new_from_json_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_breaker_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_breaker,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_breaker_new_from_json_at(json, json_len, now_ns(), out, err) }
}
