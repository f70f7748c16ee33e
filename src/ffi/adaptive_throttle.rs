//! C ABI of the adaptive throttle (`rsl_adaptive_throttle_*`), over
//! `core::adaptive_throttle`.

use super::enum_field;
use super::{
    flag, guard, in_ref, opaque, out_ref, outcome, read_versioned, rsl_error, rsl_outcome,
    rsl_status, store_handle, with_handle_at, write_versioned, Failure, FfiResult, Handle,
    VersionedStruct,
};
use crate::core::adaptive_throttle::{
    Accounting, AdaptiveThrottle, Allow, ThrottleConfig, ThrottleMetrics, ThrottlePreset, Ticket,
};
use crate::core::clock::now_ns;
use std::ffi::c_char;

/// Client-side adaptive throttling (Google SRE). Create with
/// `rsl_adaptive_throttle_new`, destroy with `rsl_adaptive_throttle_free`.
/// Every function may be called from any thread concurrently, except _free.
pub struct rsl_adaptive_throttle(Handle<AdaptiveThrottle>);
opaque!(rsl_adaptive_throttle, AdaptiveThrottle);

/// Requests are counted when admitted (the SRE book).
pub const RSL_ACCOUNTING_ON_ADMIT: u32 = 1;
/// Requests are counted when their outcome is recorded (Kratos, go-zero).
pub const RSL_ACCOUNTING_ON_COMPLETION: u32 = 2;

/// Preset: the SRE book (K = 2, two minutes).
pub const RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK: u32 = 0;
/// Preset: go-kratos/aegis `sre.Breaker` defaults.
pub const RSL_ADAPTIVE_THROTTLE_PRESET_KRATOS: u32 = 1;
/// Preset: go-zero `googleBreaker` (dynamic parts fixed; see docs).
pub const RSL_ADAPTIVE_THROTTLE_PRESET_GO_ZERO: u32 = 2;

/// Adaptive throttle configuration; fill it with
/// `rsl_adaptive_throttle_config_init` or `_config_preset`.
/// `p = min(max_drop_probability, max(0, (requests - request_offset -
/// k * accepts) / (requests + 1)))` over the window, 0 below `min_requests`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_adaptive_throttle_config {
    /// `sizeof(rsl_adaptive_throttle_config)`; set by _init.
    pub struct_size: u32,
    /// `RSL_ACCOUNTING_*`. Default ON_ADMIT.
    pub accounting: u32,
    /// K, finite and >= 1. Default 2.
    pub k: f64,
    /// Window length, a multiple of `buckets` (> 0). Default 120 s.
    pub window_ns: i64,
    /// Buckets in the window, 1..=65536. Default 120.
    pub buckets: u32,
    /// No throttling while the window holds fewer requests. Default 0.
    pub min_requests: u32,
    /// Subtracted from requests in the numerator (go-zero's 5). Default 0.
    pub request_offset: u32,
    /// 1 = local rejections count as requests (SRE book, go-zero). Default 1.
    pub count_local_rejections: u32,
    /// Cap on the drop probability, in (0, 1]. Default 1.
    pub max_drop_probability: f64,
    /// PRNG seed for the drop draws; 0 = from entropy. Default 0.
    pub seed: u64,
}

impl VersionedStruct for rsl_adaptive_throttle_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<ThrottleConfig> for rsl_adaptive_throttle_config {
    fn from(c: ThrottleConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            accounting: c.accounting as u32,
            k: c.k,
            window_ns: c.window_ns,
            buckets: c.buckets,
            min_requests: c.min_requests,
            request_offset: c.request_offset,
            count_local_rejections: u32::from(c.count_local_rejections),
            max_drop_probability: c.max_drop_probability,
            seed: c.seed,
        };
        out.stamp();
        out
    }
}

/// Converts and validates a caller's config.
fn to_core(c: &rsl_adaptive_throttle_config) -> FfiResult<ThrottleConfig> {
    {
        let accounting = enum_field("accounting", c.accounting, |v| match v {
            1 => Some(Accounting::OnAdmit),
            2 => Some(Accounting::OnCompletion),
            _ => None,
        })?;
        let cfg = ThrottleConfig {
            k: c.k,
            window_ns: c.window_ns,
            buckets: c.buckets,
            min_requests: c.min_requests,
            request_offset: c.request_offset,
            count_local_rejections: flag("count_local_rejections", c.count_local_rejections)?,
            accounting,
            max_drop_probability: c.max_drop_probability,
            seed: c.seed,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Handed back with an allowed request; pass it to `_record_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_throttle_ticket {
    /// When the request was admitted.
    pub admitted_at_ns: i64,
}

/// The answer to `rsl_adaptive_throttle_allow_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_throttle_decision {
    /// 1 if the request may go to the backend, 0 if rejected locally.
    pub allowed: u32,
    /// Always zero.
    pub reserved0: u32,
    /// The drop probability the decision was drawn against.
    pub drop_probability: f64,
    /// Requests in the window after the call.
    pub requests: u64,
    /// Accepts in the window after the call.
    pub accepts: u64,
    /// Pass to `_record_at` when allowed.
    pub ticket: rsl_adaptive_throttle_ticket,
}

/// A metrics snapshot; set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_throttle_metrics {
    /// Set by the caller to `sizeof(rsl_adaptive_throttle_metrics)`.
    pub struct_size: u32,
    /// Always zero.
    pub reserved0: u32,
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

impl VersionedStruct for rsl_adaptive_throttle_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<Allow> for rsl_adaptive_throttle_decision {
    fn from(a: Allow) -> Self {
        Self {
            allowed: u32::from(a.allowed),
            reserved0: 0,
            drop_probability: a.drop_probability,
            requests: a.requests,
            accepts: a.accepts,
            ticket: rsl_adaptive_throttle_ticket {
                admitted_at_ns: a.ticket.admitted_at_ns,
            },
        }
    }
}

impl From<ThrottleMetrics> for rsl_adaptive_throttle_metrics {
    fn from(m: ThrottleMetrics) -> Self {
        Self {
            struct_size: 0,
            reserved0: 0,
            requests: m.requests,
            accepts: m.accepts,
            drop_probability: m.drop_probability,
            allowed_total: m.allowed_total,
            rejected_total: m.rejected_total,
        }
    }
}

/// Fills `*cfg` with the defaults (the SRE book preset) and sets struct_size.
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_config_init(
    cfg: *mut rsl_adaptive_throttle_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_throttle_config_preset(cfg, RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK, err) }
}

/// Fills `*cfg` with a preset (`RSL_ADAPTIVE_THROTTLE_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_config_preset(
    cfg: *mut rsl_adaptive_throttle_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = ThrottlePreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = ThrottleConfig::preset(preset).into();
        Ok(())
    })
}

/// Creates an adaptive throttle (`cfg` NULL = defaults; copied). `*out`
/// receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_new(
    cfg: *const rsl_adaptive_throttle_config,
    out: *mut *mut rsl_adaptive_throttle,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, ThrottleConfig::default().into(), "cfg")?;
        Ok(AdaptiveThrottle::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `throttle` (the same as
/// `rsl_adaptive_throttle_release`); the last reference destroys it. NULL is a
/// no-op. Safe while other threads that hold their own references
/// (`rsl_adaptive_throttle_retain`) are inside calls on it; the caller must not
/// use its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_throttle_free(throttle: *mut rsl_adaptive_throttle) {
    super::free_handle(throttle);
}

/// Takes one more reference to `throttle` and returns it (NULL if `throttle` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_adaptive_throttle_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_throttle_retain(
    throttle: *mut rsl_adaptive_throttle,
) -> *mut rsl_adaptive_throttle {
    super::retain_handle(throttle)
}

/// Gives back one reference to `throttle`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_adaptive_throttle_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_throttle_release(throttle: *mut rsl_adaptive_throttle) {
    super::free_handle(throttle);
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
pub unsafe extern "C" fn rsl_adaptive_throttle_set_monotonic_time(
    throttle: *const rsl_adaptive_throttle,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(throttle, enabled, err)
}

/// Decides at `now_ns` whether a request may go to the backend. A local
/// rejection is a result (`out->allowed == 0`), not an error. When allowed,
/// record the backend's answer with `_record_at`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_allow_at(
    throttle: *const rsl_adaptive_throttle,
    now_ns: i64,
    out: *mut rsl_adaptive_throttle_decision,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(throttle, now_ns, err, |t, now_ns| {
        let out = out_ref(out, "out")?;
        *out = t.allow_at(now_ns).into();
        Ok(())
    })
}

/// `rsl_adaptive_throttle_allow_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_allow(
    throttle: *const rsl_adaptive_throttle,
    out: *mut rsl_adaptive_throttle_decision,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_throttle_allow_at(throttle, now_ns(), out, err) }
}

/// Records at `now_ns` what the backend did with an allowed request:
/// `RSL_OUTCOME_SUCCESS` (accepted), `_FAILURE` (rejected: overloaded or
/// failed), `_IGNORED` (neither; the request leaves the window).
/// Errors: `RSL_ERR_NULL_ARGUMENT` (ticket), `RSL_ERR_INVALID_ARGUMENT`
/// (outcome), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_record_at(
    throttle: *const rsl_adaptive_throttle,
    now_ns: i64,
    ticket: *const rsl_adaptive_throttle_ticket,
    outcome_: rsl_outcome,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(throttle, now_ns, err, |t, now_ns| {
        let ticket = in_ref(ticket, "ticket")?;
        let outcome = outcome(outcome_)?;
        t.record_at(
            now_ns,
            &Ticket {
                admitted_at_ns: ticket.admitted_at_ns,
            },
            outcome,
        );
        Ok(())
    })
}

/// `rsl_adaptive_throttle_record_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_record(
    throttle: *const rsl_adaptive_throttle,
    ticket: *const rsl_adaptive_throttle_ticket,
    outcome: rsl_outcome,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_throttle_record_at(throttle, now_ns(), ticket, outcome, err) }
}

/// A metrics snapshot at `now_ns` into `*out` (set `out->struct_size` first).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`, `RSL_ERR_POISONED`,
/// `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_get_metrics_at(
    throttle: *const rsl_adaptive_throttle,
    now_ns: i64,
    out: *mut rsl_adaptive_throttle_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(throttle, now_ns, err, |t, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, t.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_adaptive_throttle_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_get_metrics(
    throttle: *const rsl_adaptive_throttle,
    out: *mut rsl_adaptive_throttle_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_throttle_get_metrics_at(throttle, now_ns(), out, err) }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_adaptive_throttle_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_adaptive_throttle_new` would. Set `out->struct_size` first (`rsl_adaptive_throttle_config_init`
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
pub unsafe extern "C" fn rsl_adaptive_throttle_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_adaptive_throttle_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<ThrottleConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_adaptive_throttle_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_adaptive_throttle_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_config_to_json(
    cfg: *const rsl_adaptive_throttle_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            ThrottleConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates an adaptive throttle from a JSON config (as `rsl_adaptive_throttle_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_throttle_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_adaptive_throttle,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: ThrottleConfig = super::json::read(json, json_len)?;
        Ok(AdaptiveThrottle::new(cfg)?)
    })
}
