//! C ABI of deadlines (`rsl_deadline_*`), over `core::deadline`: pure
//! functions on plain `int64_t` instants plus the `rsl_deadline_policy`
//! handle (the default and bounds of per-call timeouts).

use super::reserved_zero;
use super::{
    guard, opaque, out_ref, read_versioned, rsl_error, rsl_status, store_handle, with_handle_at,
    Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::clock::now_ns;
use crate::core::deadline::{self, CallPlan, Decoded, Policy, PolicyConfig, PolicyPreset, Text};
use std::ffi::c_char;

/// A deadline meaning "none": it never expires and its remaining time is
/// always `RSL_DEADLINE_NONE` (INT64_MAX).
pub const RSL_DEADLINE_NONE: i64 = i64::MAX;

/// A buffer of this many bytes holds any text the `_encode` functions
/// write, with its NUL (a grpc-timeout is at most 9 characters, a
/// millisecond value at most 13).
pub const RSL_DEADLINE_TEXT_BUF_LEN: u32 = 16;

/// Decision: make the call with `timeout_ns` and propagate it.
pub const RSL_DEADLINE_CALL_PROCEED: u32 = 1;
/// Decision: the request's deadline has passed; fail with DEADLINE_EXCEEDED
/// without calling.
pub const RSL_DEADLINE_CALL_EXPIRED: u32 = 2;
/// Decision: less than `min_budget_ns` is left; do not start the call.
pub const RSL_DEADLINE_CALL_INSUFFICIENT: u32 = 3;
/// Decision: the per-call timeout exceeds `max_timeout_ns` (a
/// misconfiguration, refused rather than clamped).
pub const RSL_DEADLINE_CALL_ABOVE_MAX: u32 = 4;
/// Decision: the per-call timeout is below `min_timeout_ns` (a
/// misconfiguration, often a unit slip, refused rather than raised).
pub const RSL_DEADLINE_CALL_BELOW_MIN: u32 = 5;

/// Not proceeding: no bound applies.
pub const RSL_DEADLINE_LIMIT_NONE: u32 = 0;
/// The per-call (or default) timeout set the call's timeout.
pub const RSL_DEADLINE_LIMIT_CALL_TIMEOUT: u32 = 1;
/// The request's remaining budget (strictly smaller) set it.
pub const RSL_DEADLINE_LIMIT_DEADLINE: u32 = 2;

/// Preset: the seeds' kit guard (default 100 ms; per-call timeouts in
/// [1 ms, 10 s]); what `rsl_deadline_policy_config_init` gives.
pub const RSL_DEADLINE_PRESET_DEFAULT: u32 = 0;
/// Preset: Resilience4j `TimeLimiterConfig` (`timeoutDuration` 1 s).
pub const RSL_DEADLINE_PRESET_RESILIENCE4J: u32 = 1;
/// Preset: Polly v8 `TimeoutStrategyOptions` (30 s, within [10 ms, 1 day]).
pub const RSL_DEADLINE_PRESET_POLLY_V8: u32 = 2;
/// Preset: afex/hystrix-go (`DefaultTimeout` 1000 ms).
pub const RSL_DEADLINE_PRESET_HYSTRIX: u32 = 3;

/// A decoded header timeout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_deadline_decoded {
    /// The timeout in ns (>= 0; 0 = already expired); INT64_MAX when
    /// `saturated`. Rebuild the deadline on your clock with
    /// `rsl_deadline_from_timeout_at`.
    pub timeout_ns: i64,
    /// 1 if the value exceeded INT64_MAX ns (about 292 years) and was
    /// saturated: treat it as no deadline. Never silent.
    pub saturated: u32,
    /// Always zero.
    pub reserved0: u32,
}

impl From<Decoded> for rsl_deadline_decoded {
    fn from(d: Decoded) -> Self {
        Self {
            timeout_ns: d.timeout_ns,
            saturated: u32::from(d.saturated),
            reserved0: 0,
        }
    }
}

/// The deadline at `now_ns + timeout_ns` into `*out_deadline_ns`; a sum
/// beyond INT64_MAX is `RSL_DEADLINE_NONE`. A timeout of 0 gives a deadline
/// already expired. Pure.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`timeout_ns < 0`),
/// `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_from_timeout_at(
    now_ns: i64,
    timeout_ns: i64,
    out_deadline_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out_deadline_ns, "out_deadline_ns")?;
        *out = deadline::from_timeout_at(now_ns, timeout_ns)?;
        Ok(())
    })
}

/// `rsl_deadline_from_timeout_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_from_timeout(
    timeout_ns: i64,
    out_deadline_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_deadline_from_timeout_at(now_ns(), timeout_ns, out_deadline_ns, err) }
}

/// Time left until `deadline_ns` at `now_ns`: `deadline_ns - now_ns`,
/// saturating (never wrapping), negative once passed;
/// `RSL_DEADLINE_NONE` for `RSL_DEADLINE_NONE`. Pure, infallible.
#[no_mangle]
pub extern "C" fn rsl_deadline_remaining_at(deadline_ns: i64, now_ns: i64) -> i64 {
    deadline::remaining_at(deadline_ns, now_ns)
}

/// `rsl_deadline_remaining_at` at `rsl_now_ns()`.
#[no_mangle]
pub extern "C" fn rsl_deadline_remaining(deadline_ns: i64) -> i64 {
    deadline::remaining_at(deadline_ns, now_ns())
}

/// 1 once `now_ns >= deadline_ns` (the remaining time is <= 0; deadlines
/// are inclusive), else 0. `RSL_DEADLINE_NONE` never expires. Pure.
#[no_mangle]
pub extern "C" fn rsl_deadline_expired_at(deadline_ns: i64, now_ns: i64) -> u32 {
    u32::from(deadline::expired_at(deadline_ns, now_ns))
}

/// `rsl_deadline_expired_at` at `rsl_now_ns()`.
#[no_mangle]
pub extern "C" fn rsl_deadline_expired(deadline_ns: i64) -> u32 {
    u32::from(deadline::expired_at(deadline_ns, now_ns()))
}

/// The timeout of one outgoing call, `min(remaining_ns,
/// per_call_timeout_ns)`, into `*out_timeout_ns` (the seeds'
/// `shrinkDeadline`). A result <= 0 means no time is left. Pure; see
/// `rsl_deadline_policy_call_at` for the checked, defaulted form.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`per_call_timeout_ns <= 0`),
/// `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_shrink(
    remaining_ns: i64,
    per_call_timeout_ns: i64,
    out_timeout_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out_timeout_ns, "out_timeout_ns")?;
        *out = deadline::shrink(remaining_ns, per_call_timeout_ns)?;
        Ok(())
    })
}

fn write_text(text: &Text, buf: *mut c_char, buf_len: usize, out_len: *mut usize) -> FfiResult {
    if buf.is_null() {
        return Err(Failure::null("buf"));
    }
    let bytes = text.as_bytes();
    if buf_len <= bytes.len() {
        return Err(Failure::argument(
            "buf_len",
            format!(
                "{buf_len} bytes cannot hold \"{text}\" and its NUL; pass at least {} (RSL_DEADLINE_TEXT_BUF_LEN always suffices)",
                bytes.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` holds `buf_len > bytes.len()` writable bytes (contract).
    let dst = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), bytes.len() + 1) };
    for (d, s) in dst.iter_mut().zip(bytes.iter().chain(std::iter::once(&0))) {
        *d = *s;
    }
    if !out_len.is_null() {
        *out_ref(out_len, "out_len")? = bytes.len();
    }
    Ok(())
}

fn read_value<'a>(value: *const c_char, len: usize) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if value.is_null() {
        return Err(Failure::null("value"));
    }
    // SAFETY: `value` holds `len` readable bytes (contract).
    Ok(unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) })
}

/// Encodes `timeout_ns` as a `grpc-timeout` header value (gRPC over HTTP/2:
/// 1 to 8 ASCII digits and a unit `H M S m u n`) into `buf`, NUL-terminated;
/// `*out_len` (may be NULL) receives its length without the NUL. The unit is
/// the coarsest that holds the value exactly in 8 digits (`1S`, `500m`);
/// failing that, the finest it fits in, rounded up (grpc-go): the receiver
/// never gets less time than was sent, at most one unit more. Pure.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`timeout_ns <= 0`: an expired
/// deadline is not sent; or `buf_len` too small, then `buf` is untouched),
/// `RSL_ERR_NULL_ARGUMENT` (buf).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_grpc_timeout_encode(
    timeout_ns: i64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let text = deadline::grpc_timeout_encode(timeout_ns)?;
        write_text(&text, buf, buf_len, out_len)
    })
}

/// Decodes the `len` bytes at `value` (no NUL needed) as a `grpc-timeout`
/// header value into `*out`. Accepted: 1 to 8 ASCII digits then exactly one
/// of `H M S m u n` (case matters); `0` is accepted as "already expired".
/// Refused with `RSL_ERR_INVALID_ARGUMENT` and a message starting "value:":
/// empty, more than 8 digits, a sign, whitespace anywhere (strip the header
/// first), any other character, a missing or unknown unit. Hours beyond
/// INT64_MAX ns saturate with `out->saturated = 1`. Pure.
/// Errors: `RSL_ERR_INVALID_ARGUMENT`, `RSL_ERR_NULL_ARGUMENT` (out, or
/// value with `len > 0`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_grpc_timeout_decode(
    value: *const c_char,
    len: usize,
    out: *mut rsl_deadline_decoded,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out, "out")?;
        *out = deadline::grpc_timeout_decode(read_value(value, len)?)?.into();
        Ok(())
    })
}

/// Encodes `timeout_ns` as whole milliseconds in ASCII decimal, rounded up,
/// into `buf` (NUL-terminated; `*out_len`, may be NULL, gets the length):
/// the value of the `x-rsl-timeout-ms` header for services that do not speak
/// gRPC (the format of Envoy's `x-envoy-expected-rq-timeout-ms`). Pure.
/// Errors: as `rsl_deadline_grpc_timeout_encode`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_http_timeout_encode(
    timeout_ns: i64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let text = deadline::http_timeout_encode(timeout_ns)?;
        write_text(&text, buf, buf_len, out_len)
    })
}

/// Decodes the `len` bytes at `value` as a millisecond timeout (one or more
/// ASCII digits, nothing else; `0` = already expired) into `*out`. Refused
/// with a message starting "value:": empty, a sign, whitespace, any
/// non-digit, a number beyond 64 bits. Beyond INT64_MAX ns saturates with
/// `out->saturated = 1`. Pure.
/// Errors: `RSL_ERR_INVALID_ARGUMENT`, `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_http_timeout_decode(
    value: *const c_char,
    len: usize,
    out: *mut rsl_deadline_decoded,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out, "out")?;
        *out = deadline::http_timeout_decode(read_value(value, len)?)?.into();
        Ok(())
    })
}

/// A deadline policy: the kit guard for per-call timeouts (a default, and
/// bounds that refuse misconfigured ones) and the minimum budget to start a
/// call. Immutable after creation. Create with `rsl_deadline_policy_new`,
/// destroy with `rsl_deadline_policy_free`; any thread may use it at once.
pub struct rsl_deadline_policy(Handle<Policy>);
opaque!(rsl_deadline_policy, Policy);

/// Deadline policy configuration. Fill it with
/// `rsl_deadline_policy_config_init` (or `_config_preset`), then change
/// fields. See docs/semantics.md ("Deadlines").
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_deadline_policy_config {
    /// `sizeof(rsl_deadline_policy_config)`; set by _init.
    pub struct_size: u32,
    /// Must be zero.
    pub reserved0: u32,
    /// The per-call timeout when a call gives none (> 0, within the
    /// bounds). Default 100 ms.
    pub default_timeout_ns: i64,
    /// Per-call timeouts below this are refused (`_BELOW_MIN`); 0 = no
    /// floor. Default 1 ms.
    pub min_timeout_ns: i64,
    /// Per-call timeouts above this are refused (`_ABOVE_MAX`); 0 = no
    /// ceiling. Default 10 s.
    pub max_timeout_ns: i64,
    /// A call is not started with less of the request's budget left
    /// (`_INSUFFICIENT`); 0 = only an expired deadline stops it. Default 0.
    pub min_budget_ns: i64,
}

impl VersionedStruct for rsl_deadline_policy_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<PolicyConfig> for rsl_deadline_policy_config {
    fn from(c: PolicyConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            reserved0: 0,
            default_timeout_ns: c.default_timeout_ns,
            min_timeout_ns: c.min_timeout_ns,
            max_timeout_ns: c.max_timeout_ns,
            min_budget_ns: c.min_budget_ns,
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_deadline_policy_config) -> FfiResult<PolicyConfig> {
    reserved_zero("reserved0", c.reserved0)?;
    let cfg = PolicyConfig {
        default_timeout_ns: c.default_timeout_ns,
        min_timeout_ns: c.min_timeout_ns,
        max_timeout_ns: c.max_timeout_ns,
        min_budget_ns: c.min_budget_ns,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The plan for one outgoing call (`rsl_deadline_policy_call_at`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_deadline_call_plan {
    /// `RSL_DEADLINE_CALL_*`.
    pub decision: u32,
    /// `RSL_DEADLINE_LIMIT_*`: which bound set `timeout_ns`.
    pub limited_by: u32,
    /// PROCEED: the call's timeout, `min(requested, remaining)`: encode it
    /// in the outgoing header. Otherwise 0.
    pub timeout_ns: i64,
    /// PROCEED: the call's own deadline, `now_ns + timeout_ns`. Otherwise 0.
    pub deadline_ns: i64,
    /// The request's remaining budget at `now_ns` (`RSL_DEADLINE_NONE`
    /// without a deadline; negative once passed).
    pub remaining_ns: i64,
    /// The per-call timeout considered: the caller's, or the default.
    pub requested_timeout_ns: i64,
}

impl From<CallPlan> for rsl_deadline_call_plan {
    fn from(p: CallPlan) -> Self {
        Self {
            decision: p.decision as u32,
            limited_by: p.limited_by as u32,
            timeout_ns: p.timeout_ns,
            deadline_ns: p.deadline_ns,
            remaining_ns: p.remaining_ns,
            requested_timeout_ns: p.requested_timeout_ns,
        }
    }
}

/// Fills `*cfg` with the defaults (the seeds' kit guard) and sets
/// `struct_size`.
/// Errors: `RSL_ERR_NULL_ARGUMENT` if `cfg` is NULL.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_config_init(
    cfg: *mut rsl_deadline_policy_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_deadline_policy_config_preset(cfg, RSL_DEADLINE_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a named preset (`RSL_DEADLINE_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_config_preset(
    cfg: *mut rsl_deadline_policy_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = PolicyPreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = PolicyConfig::preset(preset).into();
        Ok(())
    })
}

/// Creates a policy. `cfg` may be NULL for the defaults; it is copied. On
/// success `*out` receives a handle the caller owns (free it with
/// `rsl_deadline_policy_free`); on error `*out` is untouched.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_new(
    cfg: *const rsl_deadline_policy_config,
    out: *mut *mut rsl_deadline_policy,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, PolicyConfig::default().into(), "cfg")?;
        Ok(Policy::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `policy` (the same as
/// `rsl_deadline_policy_release`); the last reference destroys it. NULL is a
/// no-op. Safe while other threads that hold their own references
/// (`rsl_deadline_policy_retain`) are inside calls on it; the caller must not
/// use its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_deadline_policy_free(policy: *mut rsl_deadline_policy) {
    super::free_handle(policy);
}

/// Takes one more reference to `policy` and returns it (NULL if `policy` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_deadline_policy_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_deadline_policy_retain(
    policy: *mut rsl_deadline_policy,
) -> *mut rsl_deadline_policy {
    super::retain_handle(policy)
}

/// Gives back one reference to `policy`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_deadline_policy_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_deadline_policy_release(policy: *mut rsl_deadline_policy) {
    super::free_handle(policy);
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
pub unsafe extern "C" fn rsl_deadline_policy_set_monotonic_time(
    policy: *const rsl_deadline_policy,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(policy, enabled, err)
}

/// Plans an outgoing call at `now_ns` for a request whose deadline is
/// `deadline_ns` (`RSL_DEADLINE_NONE` if it has none), the call's own
/// timeout being `per_call_timeout_ns` (0 = the policy's default). Checks in
/// order: the timeout's bounds (`_ABOVE_MAX`, `_BELOW_MIN`: a
/// misconfiguration is reported whatever the time, never clamped), expiry
/// (`_EXPIRED`), the minimum budget (`_INSUFFICIENT`); else `_PROCEED` with
/// `out->timeout_ns = min(requested, remaining)`. Every decision is a
/// result, not an error.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`per_call_timeout_ns < 0`),
/// `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_call_at(
    policy: *const rsl_deadline_policy,
    now_ns: i64,
    deadline_ns: i64,
    per_call_timeout_ns: i64,
    out: *mut rsl_deadline_call_plan,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(policy, now_ns, err, |p, now_ns| {
        let out = out_ref(out, "out")?;
        *out = p.call_at(now_ns, deadline_ns, per_call_timeout_ns)?.into();
        Ok(())
    })
}

/// `rsl_deadline_policy_call_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_call(
    policy: *const rsl_deadline_policy,
    deadline_ns: i64,
    per_call_timeout_ns: i64,
    out: *mut rsl_deadline_call_plan,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe {
        rsl_deadline_policy_call_at(policy, now_ns(), deadline_ns, per_call_timeout_ns, out, err)
    }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_deadline_policy_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_deadline_policy_new` would. Set `out->struct_size` first (`rsl_deadline_policy_config_init`
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
pub unsafe extern "C" fn rsl_deadline_policy_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_deadline_policy_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<PolicyConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_deadline_policy_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_deadline_policy_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_config_to_json(
    cfg: *const rsl_deadline_policy_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            PolicyConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a deadline policy from a JSON config (as `rsl_deadline_policy_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_deadline_policy_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_deadline_policy,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: PolicyConfig = super::json::read(json, json_len)?;
        Ok(Policy::new(cfg)?)
    })
}
