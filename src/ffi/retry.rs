//! C ABI of the retry policy (`rsl_retry_*`) and the retry wire values,
//! over `core::retry`.

use super::backoff::{rsl_backoff_config, rsl_backoff_state, to_core as backoff_to_core};
use super::retry_budget::{
    retry_outcome, rsl_retry_budget, rsl_retry_budget_ticket, ticket_from_c, ticket_to_c,
    timeout_flag,
};
use super::{
    flag, guard, opaque, out_ref, read_versioned, rsl_error, rsl_outcome, rsl_status, store_handle,
    with_handle_at, Failure, FfiResult, Handle, Opaque, VersionedStruct, RSL_ERR_CONFIG_SIZE,
    RSL_ERR_POISONED, RSL_MAX_STRUCT_SIZE,
};
use crate::core::backoff::BackoffConfig;
use crate::core::clock::now_ns;
use crate::core::json::{self, RetryPolicy};
use crate::core::retry::{
    format_retry_header, parse_grpc_pushback, parse_http_retry_after, parse_retry_header, Decision,
    Retry, RetryConfig, RetryPreset, RetryState,
};
use crate::core::retry_budget::RetryBudget;
use std::ffi::c_char;

/// A retry policy (limits + backoff + its PRNG), shared by every operation
/// it governs. Create with `rsl_retry_new`, destroy with `rsl_retry_free`.
/// Every function may be called from any thread concurrently, except _free;
/// each operation's `rsl_retry_state` belongs to the caller.
pub struct rsl_retry(Handle<Retry>);
opaque!(rsl_retry, Retry);

/// `retry_after_ns`: no server hint; the backoff decides (INT64_MIN).
pub const RSL_RETRY_AFTER_NONE: i64 = i64::MIN;
/// `retry_after_ns`: the server says do not retry (any other negative value
/// means the same).
pub const RSL_RETRY_AFTER_REFUSE: i64 = -1;
/// `deadline_ns`: no deadline (INT64_MAX).
pub const RSL_NO_DEADLINE: i64 = i64::MAX;

/// Reason: retry after `delay_ns`.
pub const RSL_RETRY_REASON_RETRY: u32 = 1;
/// Reason: the attempt succeeded.
pub const RSL_RETRY_REASON_SUCCESS: u32 = 2;
/// Reason: the outcome was `RSL_OUTCOME_IGNORED` (not retryable).
pub const RSL_RETRY_REASON_NOT_RETRYABLE: u32 = 3;
/// Reason: the dependency answered overloaded (`RSL_OUTCOME_OVERLOADED`).
pub const RSL_RETRY_REASON_OVERLOADED: u32 = 4;
/// Reason: `max_attempts` attempts were made.
pub const RSL_RETRY_REASON_MAX_ATTEMPTS: u32 = 5;
/// Reason: `max_elapsed_ns` passed since begin, or a server delay would pass it.
pub const RSL_RETRY_REASON_MAX_ELAPSED: u32 = 6;
/// Reason: the retry could not finish before the deadline.
pub const RSL_RETRY_REASON_DEADLINE: u32 = 7;
/// Reason: the server's pushback said do not retry.
pub const RSL_RETRY_REASON_SERVER_REFUSED: u32 = 8;
/// Reason: the retry budget is exhausted.
pub const RSL_RETRY_REASON_BUDGET: u32 = 9;

/// Preset: the seeds (3 attempts, exponential 1 s → 60 s). The default.
pub const RSL_RETRY_PRESET_DEFAULT: u32 = 0;
/// Preset: Resilience4j RetryConfig defaults (3 attempts, 500 ms fixed).
pub const RSL_RETRY_PRESET_RESILIENCE4J: u32 = 1;
/// Preset: Polly v8 defaults (3 retries = 4 attempts, constant 2 s).
pub const RSL_RETRY_PRESET_POLLY_V8: u32 = 2;
/// Preset: gRPC A6 example policy (4 attempts, 0.1 s ×2 → 1 s, ±20 %).
pub const RSL_RETRY_PRESET_GRPC: u32 = 3;
/// Preset: AWS SDK standard mode (3 attempts, standard backoff).
pub const RSL_RETRY_PRESET_AWS_STANDARD: u32 = 4;
/// Preset: failsafe-go defaults (2 retries = 3 attempts, no delay).
pub const RSL_RETRY_PRESET_FAILSAFE_GO: u32 = 5;

/// Retry policy configuration; fill it with `rsl_retry_config_init` or
/// `rsl_retry_config_preset`. The backoff has its own `rsl_backoff_config`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_retry_config {
    /// `sizeof(rsl_retry_config)`; set by _init.
    pub struct_size: u32,
    /// Attempts in all, the first included, >= 1 (1 = never retry). Default 3.
    pub max_attempts: u32,
    /// Give up once more than this has passed since begin; a computed delay
    /// is shortened to fit, a server delay that does not fit gives up.
    /// 0 = no limit. Default 0.
    pub max_elapsed_ns: i64,
    /// Expected duration of an attempt, >= 0: a retry is made only if
    /// `now + delay + expected_attempt_ns < deadline`. Default 0.
    pub expected_attempt_ns: i64,
    /// 1 = a server retry-after restarts the backoff progression (gRPC A6).
    /// Default 1.
    pub retry_after_resets: u32,
    /// 1 = when giving up after a retryable failure, report
    /// `RSL_OUTCOME_OVERLOADED` upward (the seeds' rule against cascading
    /// retries). Default 1.
    pub overloaded_on_give_up: u32,
}

impl VersionedStruct for rsl_retry_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<RetryConfig> for rsl_retry_config {
    fn from(c: RetryConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            max_attempts: c.max_attempts,
            max_elapsed_ns: c.max_elapsed_ns,
            expected_attempt_ns: c.expected_attempt_ns,
            retry_after_resets: u32::from(c.retry_after_resets),
            overloaded_on_give_up: u32::from(c.overloaded_on_give_up),
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_retry_config) -> FfiResult<RetryConfig> {
    let cfg = RetryConfig {
        max_attempts: c.max_attempts,
        max_elapsed_ns: c.max_elapsed_ns,
        expected_attempt_ns: c.expected_attempt_ns,
        retry_after_resets: flag("retry_after_resets", c.retry_after_resets)?,
        overloaded_on_give_up: flag("overloaded_on_give_up", c.overloaded_on_give_up)?,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// One operation's retry state, owned by the caller (on the stack is fine):
/// set `struct_size` to `sizeof(rsl_retry_state)`, then `rsl_retry_begin`
/// fills the rest. Treat the other fields as read-only.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_retry_state {
    /// Set by the caller to `sizeof(rsl_retry_state)` before begin.
    pub struct_size: u32,
    /// Attempts started so far (1 after begin; 0 = not begun).
    pub attempts: u32,
    /// Retries since begin or the last resetting server delay.
    pub backoff_index: u32,
    /// 1 once a decision ended the operation.
    pub finished: u32,
    /// When begin ran.
    pub started_at_ns: i64,
    /// The deadline (`RSL_NO_DEADLINE` = none).
    pub deadline_ns: i64,
    /// The backoff's per-operation state.
    pub backoff: rsl_backoff_state,
    /// The budget ticket of the attempt in flight (empty without a budget).
    pub ticket: rsl_retry_budget_ticket,
}

impl rsl_retry_state {
    fn to_core(self) -> FfiResult<RetryState> {
        Ok(RetryState {
            attempts: self.attempts,
            backoff_index: self.backoff_index,
            finished: self.finished != 0,
            started_at_ns: self.started_at_ns,
            deadline_ns: self.deadline_ns,
            backoff: self.backoff.into(),
            ticket: ticket_from_c(&self.ticket)?,
        })
    }

    fn store(&mut self, s: &RetryState) {
        self.attempts = s.attempts;
        self.backoff_index = s.backoff_index;
        self.finished = u32::from(s.finished);
        self.started_at_ns = s.started_at_ns;
        self.deadline_ns = s.deadline_ns;
        self.backoff = s.backoff.into();
        self.ticket = ticket_to_c(s.ticket);
    }
}

/// The caller's state, checked for its `struct_size`.
fn state_ref<'a>(state: *mut rsl_retry_state) -> FfiResult<&'a mut rsl_retry_state> {
    let s = out_ref(state, "state")?;
    let size = s.struct_size as usize;
    if size != std::mem::size_of::<rsl_retry_state>() || size > RSL_MAX_STRUCT_SIZE as usize {
        return Err(Failure::new(
            RSL_ERR_CONFIG_SIZE,
            format!(
                "state.struct_size: set it to sizeof(rsl_retry_state) ({}) before begin, got {size}",
                std::mem::size_of::<rsl_retry_state>()
            ),
        ));
    }
    Ok(s)
}

/// The answer of `rsl_retry_next_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_retry_decision {
    /// 1 = retry after `delay_ns`; 0 = stop.
    pub retry: u32,
    /// `RSL_RETRY_REASON_*`.
    pub reason: u32,
    /// The wait before the retry (0 when stopping).
    pub delay_ns: i64,
    /// `now_ns + delay_ns` (saturating); `now_ns` when stopping.
    pub retry_at_ns: i64,
    /// Retrying: the number of the attempt about to be made (2 = first
    /// retry). Stopping: the attempts made.
    pub attempt: u32,
    /// `RSL_OUTCOME_*` this layer should report to its own caller: SUCCESS,
    /// IGNORED, or — after a retryable failure — OVERLOADED (with
    /// `overloaded_on_give_up`) or FAILURE.
    pub report_outcome: u32,
}

impl From<Decision> for rsl_retry_decision {
    fn from(d: Decision) -> Self {
        Self {
            retry: u32::from(d.retry),
            reason: d.reason as u32,
            delay_ns: d.delay_ns,
            retry_at_ns: d.retry_at_ns,
            attempt: d.attempt,
            report_outcome: d.report as u32,
        }
    }
}

/// The optional budget behind a nullable pointer (refused if poisoned).
fn budget_ref<'a>(budget: *const rsl_retry_budget) -> FfiResult<Option<&'a RetryBudget>> {
    // SAFETY: NULL or a live handle from rsl_retry_budget_new (contract).
    let Some(b) = (unsafe { budget.as_ref() }) else {
        return Ok(None);
    };
    let handle = b.handle();
    if handle.poisoned.load(std::sync::atomic::Ordering::Acquire) {
        return Err(Failure::new(
            RSL_ERR_POISONED,
            "budget: poisoned by an earlier internal error; free it",
        ));
    }
    Ok(Some(&handle.inner))
}

/// Fills `*cfg` with the defaults (`RSL_RETRY_PRESET_DEFAULT`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_config_init(
    cfg: *mut rsl_retry_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_config_preset(cfg, std::ptr::null_mut(), RSL_RETRY_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a preset (`RSL_RETRY_PRESET_*`) and, when `backoff` is
/// not NULL, `*backoff` with the preset's backoff.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg); `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then nothing is written).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_config_preset(
    cfg: *mut rsl_retry_config,
    backoff: *mut rsl_backoff_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = RetryPreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        let (retry, b) = RetryConfig::preset(preset);
        *out = retry.into();
        if !backoff.is_null() {
            *out_ref(backoff, "backoff")? = b.into();
        }
        Ok(())
    })
}

/// Creates a retry policy from `cfg` (NULL = defaults) and `backoff` (NULL =
/// the default backoff); both are copied. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_new(
    cfg: *const rsl_retry_config,
    backoff: *const rsl_backoff_config,
    out: *mut *mut rsl_retry,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, RetryConfig::default().into(), "cfg")?;
        let b = read_versioned(backoff, BackoffConfig::default().into(), "backoff")?;
        let backoff = backoff_to_core(&b).map_err(backoff_field)?;
        Ok(Retry::new(to_core(&raw)?, backoff)?)
    })
}

/// Gives back the caller's reference to `retry` (the same as
/// `rsl_retry_release`); the last reference destroys it. NULL is a no-op. Safe
/// while other threads that hold their own references (`rsl_retry_retain`) are
/// inside calls on it; the caller must not use its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_free(retry: *mut rsl_retry) {
    super::free_handle(retry);
}

/// Takes one more reference to `retry` and returns it (NULL if `retry` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_retry_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_retain(retry: *mut rsl_retry) -> *mut rsl_retry {
    super::retain_handle(retry)
}

/// Gives back one reference to `retry`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_retry_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_release(retry: *mut rsl_retry) {
    super::free_handle(retry);
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
pub unsafe extern "C" fn rsl_retry_set_monotonic_time(
    retry: *const rsl_retry,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(retry, enabled, err)
}

/// Starts an operation at `now_ns`, its first attempt about to be made,
/// with an absolute `deadline_ns` (`RSL_NO_DEADLINE` = none). `budget` (may
/// be NULL): a shared budget to deposit the request in; pass the same
/// pointer (or NULL) to every `rsl_retry_next_at` of the operation.
/// `state->struct_size` must be set; the rest is written.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE` (state.struct_size),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_begin_at(
    retry: *const rsl_retry,
    budget: *const rsl_retry_budget,
    now_ns: i64,
    deadline_ns: i64,
    state: *mut rsl_retry_state,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(retry, now_ns, err, |r, now_ns| {
        let s = state_ref(state)?;
        let core = r.begin_at(now_ns, deadline_ns, budget_ref(budget)?);
        s.store(&core);
        Ok(())
    })
}

/// `rsl_retry_begin_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_begin(
    retry: *const rsl_retry,
    budget: *const rsl_retry_budget,
    deadline_ns: i64,
    state: *mut rsl_retry_state,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_begin_at(retry, budget, now_ns(), deadline_ns, state, err) }
}

/// Decides at `now_ns`, after an attempt ended with `outcome`
/// (`RSL_OUTCOME_*`, OVERLOADED included), whether to retry, into `*out`.
/// Call it after every attempt, success included, so a budget sees every
/// outcome; to abandon an operation pass `RSL_OUTCOME_IGNORED`.
/// `flags`: `RSL_RETRY_FLAG_TIMEOUT` if the attempt timed out.
/// `retry_after_ns`: the server's delay (`RSL_RETRY_AFTER_NONE` = none,
/// negative = do not retry, else the exact delay; see
/// `rsl_retry_pushback_parse`). `budget`: as passed to begin (may be NULL).
/// Stopping is a result (`out->retry == 0`), not an error.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE` (state.struct_size),
/// `RSL_ERR_INVALID_ARGUMENT` (outcome, flags, a state not begun or already
/// finished), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rsl_retry_next_at(
    retry: *const rsl_retry,
    budget: *const rsl_retry_budget,
    state: *mut rsl_retry_state,
    now_ns: i64,
    outcome: rsl_outcome,
    flags: u32,
    retry_after_ns: i64,
    out: *mut rsl_retry_decision,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(retry, now_ns, err, |r, now_ns| {
        let s = state_ref(state)?;
        let out = out_ref(out, "out")?;
        let outcome = retry_outcome(outcome)?;
        let timeout = timeout_flag(flags)?;
        let mut core = s.to_core()?;
        let d = r.next_at(
            &mut core,
            now_ns,
            outcome,
            timeout,
            retry_after_ns,
            budget_ref(budget)?,
        )?;
        s.store(&core);
        *out = d.into();
        Ok(())
    })
}

/// `rsl_retry_next_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rsl_retry_next(
    retry: *const rsl_retry,
    budget: *const rsl_retry_budget,
    state: *mut rsl_retry_state,
    outcome: rsl_outcome,
    flags: u32,
    retry_after_ns: i64,
    out: *mut rsl_retry_decision,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe {
        rsl_retry_next_at(
            retry,
            budget,
            state,
            now_ns(),
            outcome,
            flags,
            retry_after_ns,
            out,
            err,
        )
    }
}

/// The bytes of a (pointer, length) header value; NULL = absent.
fn header_bytes<'a>(value: *const c_char, len: usize) -> Option<&'a [u8]> {
    if value.is_null() {
        return None;
    }
    // SAFETY: a non-NULL value points to `len` readable bytes (contract).
    Some(unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) })
}

/// The name of the response header (HTTP) / metadata key (gRPC) that
/// carries the overload signal between services: the static, lower-case
/// string "x-rsl-retry" (never NULL, never freed). Its only defined value
/// today is "overloaded" (`RSL_OUTCOME_OVERLOADED`: do not retry, at any
/// layer); see `rsl_retry_header_format` and `rsl_retry_header_parse`.
#[no_mangle]
pub extern "C" fn rsl_retry_header_name() -> *const c_char {
    c"x-rsl-retry".as_ptr()
}

/// Reads an `x-rsl-retry` header value (`value`, `len` bytes, not
/// NUL-terminated; NULL = header absent) into `*out_outcome`:
/// `RSL_OUTCOME_OVERLOADED` if it holds the token `overloaded` (ASCII
/// case-insensitive, comma-separated list, whitespace around ignored), else
/// `RSL_OUTCOME_FAILURE`. Use it on failed responses. Errors:
/// `RSL_ERR_NULL_ARGUMENT` (out_outcome).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_header_parse(
    value: *const c_char,
    len: usize,
    out_outcome: *mut rsl_outcome,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out_outcome, "out_outcome")?;
        *out = parse_retry_header(header_bytes(value, len)) as u32;
        Ok(())
    })
}

/// The `x-rsl-retry` value to send with a response whose outcome is
/// `outcome` into `*out_value`: the static string "overloaded" for
/// `RSL_OUTCOME_OVERLOADED`, NULL (send no header) for the others. A gRPC
/// server should also send `grpc-retry-pushback-ms: -1` so that gRPC's own
/// retries stop. Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT`
/// (outcome).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_header_format(
    outcome: rsl_outcome,
    out_value: *mut *const c_char,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out_value, "out_value")?;
        let o = retry_outcome(outcome)?;
        *out = match format_retry_header(o) {
            Some(_) => c"overloaded".as_ptr(),
            None => std::ptr::null(),
        };
        Ok(())
    })
}

/// Reads gRPC's `grpc-retry-pushback-ms` value (`value`, `len` bytes; NULL =
/// absent) into `*out_retry_after_ns`, ready for `rsl_retry_next_at`:
/// absent ⇒ `RSL_RETRY_AFTER_NONE`; a decimal in the signed 32-bit range
/// (optional sign, leading zeros accepted, as grpc-go parses it) ⇒ that many
/// ms in ns when >= 0; negative or unparsable ⇒ `RSL_RETRY_AFTER_REFUSE`
/// (do not retry), per gRFC A6.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out_retry_after_ns).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_pushback_parse(
    value: *const c_char,
    len: usize,
    out_retry_after_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        *out_ref(out_retry_after_ns, "out_retry_after_ns")? =
            parse_grpc_pushback(header_bytes(value, len));
        Ok(())
    })
}

/// Reads an HTTP `Retry-After` value (`value`, `len` bytes; NULL = absent)
/// into `*out_retry_after_ns`: delay-seconds (`1*DIGIT`, whitespace around
/// ignored) ⇒ that many seconds in ns (saturating); absent, malformed or an
/// HTTP-date ⇒ `RSL_RETRY_AFTER_NONE` (dates need the wall clock: convert
/// them yourself). Errors: `RSL_ERR_NULL_ARGUMENT` (out_retry_after_ns).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_after_parse_http(
    value: *const c_char,
    len: usize,
    out_retry_after_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        *out_ref(out_retry_after_ns, "out_retry_after_ns")? =
            parse_http_retry_after(header_bytes(value, len));
        Ok(())
    })
}

/// A backoff config's failure, its field named as the `backoff` argument's
/// (`backoff.kind`), as the JSON form names it.
fn backoff_field(f: Failure) -> Failure {
    Failure::new(f.status, format!("backoff.{}", f.message))
}

/// Fills `*cfg` and `*backoff` from a JSON retry config: the `json_len`
/// bytes at `json` (UTF-8, no NUL needed), an object whose keys are
/// `rsl_retry_config`'s field names plus `"backoff"`, a nested object of
/// `rsl_backoff_config`'s (durations also with units, `"250ms"`; presets by
/// name; see docs/semantics.md, "Configs as JSON"). Missing keys keep the
/// defaults or the `"preset"`'s values; the nested backoff starts from the
/// retry preset's backoff, or from its own `"preset"`. Both are validated as
/// `rsl_retry_new` would. Set both `struct_size`s first (the `_config_init`s
/// do); nothing is written unless the call succeeds. Pure, thread-safe;
/// keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, cfg, backoff), `RSL_ERR_CONFIG_SIZE`
/// (cfg.struct_size, backoff.struct_size), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len` above `RSL_CONFIG_JSON_MAX_LEN`), `RSL_ERR_INVALID_CONFIG`
/// naming the key (backoff keys by their full path, `backoff.factor`) or
/// `json` for the text as a whole (a syntax error, with its line and column;
/// not UTF-8; not an object).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_config_from_json(
    json: *const c_char,
    json_len: usize,
    cfg: *mut rsl_retry_config,
    backoff: *mut rsl_backoff_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::check_out(cfg, "cfg")?;
        super::json::check_out(backoff, "backoff")?;
        let policy: RetryPolicy = super::json::read(json, json_len)?;
        super::write_versioned(cfg, policy.retry.into(), "cfg")?;
        super::write_versioned(backoff, policy.backoff.into(), "backoff")
    })
}

/// Writes the canonical JSON of `*cfg` with `*backoff` nested under
/// `"backoff"` (`rsl_retry_config_from_json` reads it back to the same
/// structs) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. Both structs are read and
/// validated as `rsl_retry_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg, backoff; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_config_to_json(
    cfg: *const rsl_retry_config,
    backoff: *const rsl_backoff_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        if cfg.is_null() {
            return Err(Failure::null("cfg"));
        }
        if backoff.is_null() {
            return Err(Failure::null("backoff"));
        }
        let raw = read_versioned(cfg, RetryConfig::default().into(), "cfg")?;
        let b = read_versioned(backoff, BackoffConfig::default().into(), "backoff")?;
        let policy = RetryPolicy {
            retry: to_core(&raw)?,
            backoff: backoff_to_core(&b).map_err(backoff_field)?,
        };
        super::json::write_text(&json::to_json(&policy), buf, buf_len, out_len)
    })
}

/// Creates a retry policy from a JSON retry config (as
/// `rsl_retry_config_from_json` reads it, backoff included), without config
/// structs. `*out` receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_retry,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let policy: RetryPolicy = super::json::read(json, json_len)?;
        Ok(Retry::new(policy.retry, policy.backoff)?)
    })
}
