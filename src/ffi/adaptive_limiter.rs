//! C ABI of the adaptive (BBR) limiter (`rsl_adaptive_limiter_*`), over
//! `core::adaptive_limiter`.

use super::criticality::{level, rsl_criticality};
use super::{enum_field, reserved_zero, rsl_error, with_handle_at};
use super::{
    flag, guard, in_ref, opaque, out_ref, outcome, read_versioned, rsl_outcome, rsl_status,
    store_handle, with_handle, write_versioned, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::adaptive_limiter::{
    AdaptiveLimiter, AdaptiveLimiterConfig, CpuSource, LimiterDecision, LimiterMetrics,
    LimiterPreset, LimiterRelease, Token,
};
use crate::core::clock::now_ns;
use std::ffi::c_char;

/// An adaptive limiter after go-kratos/aegis BBR: sheds requests while the
/// CPU is overloaded and more are in flight than the recent throughput and
/// latency can carry. Create with `rsl_adaptive_limiter_new`, destroy with
/// `rsl_adaptive_limiter_free`. Every function may be called from any
/// thread concurrently, except _free.
pub struct rsl_adaptive_limiter(Handle<AdaptiveLimiter>);
opaque!(rsl_adaptive_limiter, AdaptiveLimiter);

/// CPU usage is set by the caller with `rsl_adaptive_limiter_set_cpu`.
pub const RSL_CPU_SOURCE_MANUAL: u32 = 1;
/// CPU usage comes from the shared background sampler (`rsl_cpu_sampler_*`).
pub const RSL_CPU_SOURCE_SAMPLER: u32 = 2;

/// Preset: Kratos's window, threshold and cooldown; passes count successes;
/// the criticality ladder 500/750/1000/1250 permille.
pub const RSL_ADAPTIVE_LIMITER_PRESET_DEFAULT: u32 = 0;
/// Preset: go-kratos/aegis `bbr.NewLimiter()` exactly (every completion is
/// a pass, every level gets the same limit).
pub const RSL_ADAPTIVE_LIMITER_PRESET_KRATOS: u32 = 1;

/// Adaptive limiter configuration; fill it with
/// `rsl_adaptive_limiter_config_init` or `_config_preset`. A request of
/// level L is dropped when `(cpu >= cpu_threshold_permille OR now -
/// drop_start <= cooldown_ns) AND inflight > 1 AND inflight > floor(max_pass
/// * min_rt_ms * buckets_per_second * L_permille / 1000000)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_adaptive_limiter_config {
    /// `sizeof(rsl_adaptive_limiter_config)`; set by _init.
    pub struct_size: u32,
    /// `RSL_CPU_SOURCE_MANUAL` or `RSL_CPU_SOURCE_SAMPLER`. Default SAMPLER.
    pub cpu_source: u32,
    /// Window over which passes and rt are kept (> 0). Default 10 s.
    pub window_ns: i64,
    /// Buckets in the window, 2..=65536, dividing `window_ns`, each at most
    /// 1 s long. Default 100.
    pub buckets: u32,
    /// CPU at or above this is overload, permille 0..=1000. Default 800.
    pub cpu_threshold_permille: u32,
    /// After the first drop of an episode, the inflight test keeps applying
    /// this long even if CPU fell (>= 0). Default 1 s.
    pub cooldown_ns: i64,
    /// 1 = a failed call counts as a pass like a success (Kratos); 0 = only
    /// successes. Default 0.
    pub count_failures: u32,
    /// SHEDDABLE's limit, permille of the estimated capacity. Default 500.
    pub sheddable_permille: u32,
    /// SHEDDABLE_PLUS's limit, permille. Default 750.
    pub sheddable_plus_permille: u32,
    /// CRITICAL's limit, permille. Default 1000.
    pub critical_permille: u32,
    /// CRITICAL_PLUS's limit, permille. Default 1250. The four are
    /// non-decreasing in this order, each 0..=100000.
    pub critical_plus_permille: u32,
    /// Must be zero.
    pub reserved0: u32,
}

impl VersionedStruct for rsl_adaptive_limiter_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<AdaptiveLimiterConfig> for rsl_adaptive_limiter_config {
    fn from(c: AdaptiveLimiterConfig) -> Self {
        let [s, sp, cr, cp] = c.level_permille;
        let mut out = Self {
            struct_size: 0,
            cpu_source: c.cpu_source as u32,
            window_ns: c.window_ns,
            buckets: c.buckets,
            cpu_threshold_permille: c.cpu_threshold_permille,
            cooldown_ns: c.cooldown_ns,
            count_failures: u32::from(c.count_failures),
            sheddable_permille: s,
            sheddable_plus_permille: sp,
            critical_permille: cr,
            critical_plus_permille: cp,
            reserved0: 0,
        };
        out.stamp();
        out
    }
}

/// Converts and validates a caller's config.
fn to_core(c: &rsl_adaptive_limiter_config) -> FfiResult<AdaptiveLimiterConfig> {
    reserved_zero("reserved0", c.reserved0)?;
    let cpu_source = enum_field("cpu_source", c.cpu_source, CpuSource::from_raw)?;
    let cfg = AdaptiveLimiterConfig {
        cpu_source,
        window_ns: c.window_ns,
        buckets: c.buckets,
        cpu_threshold_permille: c.cpu_threshold_permille,
        cooldown_ns: c.cooldown_ns,
        count_failures: flag("count_failures", c.count_failures)?,
        level_permille: [
            c.sheddable_permille,
            c.sheddable_plus_permille,
            c.critical_permille,
            c.critical_plus_permille,
        ],
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Handed out with an admitted request; pass it to `_record_at` exactly once.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_limiter_token {
    /// When the request was admitted; its latency is measured from here.
    pub acquired_at_ns: i64,
}

/// The answer to `rsl_adaptive_limiter_acquire_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_limiter_decision {
    /// 1 if the request may proceed (record `token` with `rsl_adaptive_limiter_record_at` when it completes), 0
    /// if it is dropped.
    pub allowed: u32,
    /// CPU usage the decision saw, permille.
    pub cpu_permille: u32,
    /// 1 if `cpu_permille >= cpu_threshold_permille`.
    pub overloaded: u32,
    /// 1 if not overloaded but inside the cooldown of a drop episode.
    pub cooling_down: u32,
    /// Requests in flight before this one (what the rule compares).
    pub inflight: u64,
    /// The inflight limit of this request's level.
    pub limit: u64,
    /// max_pass: most passes in one complete bucket (>= 1).
    pub max_pass: u64,
    /// min_rt: least average rt of a complete bucket, ms (>= 1).
    pub min_rt_ms: u64,
    /// Valid when allowed.
    pub token: rsl_adaptive_limiter_token,
}

impl From<LimiterDecision> for rsl_adaptive_limiter_decision {
    fn from(d: LimiterDecision) -> Self {
        Self {
            allowed: u32::from(d.allowed),
            cpu_permille: d.cpu_permille,
            overloaded: u32::from(d.overloaded),
            cooling_down: u32::from(d.cooling_down),
            inflight: d.inflight,
            limit: d.limit,
            max_pass: d.max_pass,
            min_rt_ms: d.min_rt_ms,
            token: rsl_adaptive_limiter_token {
                acquired_at_ns: d.token.acquired_at_ns,
            },
        }
    }
}

/// What `rsl_adaptive_limiter_record_at` recorded.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_limiter_record_result {
    /// 1 if the request counted as a pass.
    pub counted: u32,
    /// Always zero.
    pub reserved0: u32,
    /// The rt recorded, ms (`ceil(latency / 1 ms)`); 0 = none (not counted,
    /// or no time passed).
    pub rt_ms: u64,
}

impl From<LimiterRelease> for rsl_adaptive_limiter_record_result {
    fn from(r: LimiterRelease) -> Self {
        Self {
            counted: u32::from(r.counted),
            reserved0: 0,
            rt_ms: r.rt_ms,
        }
    }
}

/// A metrics snapshot; set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_adaptive_limiter_metrics {
    /// Set by the caller to `sizeof(rsl_adaptive_limiter_metrics)`.
    pub struct_size: u32,
    /// CPU usage, permille.
    pub cpu_permille: u32,
    /// Requests in flight.
    pub inflight: u64,
    /// max_pass over the complete buckets (>= 1).
    pub max_pass: u64,
    /// min_rt over the complete buckets, ms (>= 1).
    pub min_rt_ms: u64,
    /// SHEDDABLE's inflight limit.
    pub limit_sheddable: u64,
    /// SHEDDABLE_PLUS's inflight limit.
    pub limit_sheddable_plus: u64,
    /// CRITICAL's inflight limit (Kratos's `MaxInFlight` with the defaults).
    pub limit_critical: u64,
    /// CRITICAL_PLUS's inflight limit.
    pub limit_critical_plus: u64,
    /// 1 if a drop episode is open (`drop_started_ns` is valid).
    pub in_drop_episode: u32,
    /// Always zero.
    pub reserved0: u32,
    /// When the open drop episode started (its first drop); 0 if none.
    pub drop_started_ns: i64,
    /// Requests admitted over the limiter's life.
    pub allowed_total: u64,
    /// SHEDDABLE requests dropped over its life.
    pub dropped_sheddable: u64,
    /// SHEDDABLE_PLUS requests dropped.
    pub dropped_sheddable_plus: u64,
    /// CRITICAL requests dropped.
    pub dropped_critical: u64,
    /// CRITICAL_PLUS requests dropped.
    pub dropped_critical_plus: u64,
}

impl VersionedStruct for rsl_adaptive_limiter_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<LimiterMetrics> for rsl_adaptive_limiter_metrics {
    fn from(m: LimiterMetrics) -> Self {
        let [ls, lsp, lc, lcp] = m.limits;
        let [ds, dsp, dc, dcp] = m.dropped;
        Self {
            struct_size: 0,
            cpu_permille: m.cpu_permille,
            inflight: m.inflight,
            max_pass: m.max_pass,
            min_rt_ms: m.min_rt_ms,
            limit_sheddable: ls,
            limit_sheddable_plus: lsp,
            limit_critical: lc,
            limit_critical_plus: lcp,
            in_drop_episode: u32::from(m.drop_started_ns.is_some()),
            reserved0: 0,
            drop_started_ns: m.drop_started_ns.unwrap_or(0),
            allowed_total: m.allowed_total,
            dropped_sheddable: ds,
            dropped_sheddable_plus: dsp,
            dropped_critical: dc,
            dropped_critical_plus: dcp,
        }
    }
}

/// Fills `*cfg` with the defaults (`RSL_ADAPTIVE_LIMITER_PRESET_DEFAULT`:
/// SAMPLER, 10 s in 100 buckets, threshold 800, cooldown 1 s) and sets
/// `struct_size`. Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_config_init(
    cfg: *mut rsl_adaptive_limiter_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_limiter_config_preset(cfg, RSL_ADAPTIVE_LIMITER_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a preset (`RSL_ADAPTIVE_LIMITER_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_config_preset(
    cfg: *mut rsl_adaptive_limiter_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = LimiterPreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = AdaptiveLimiterConfig::preset(preset).into();
        Ok(())
    })
}

/// Creates an adaptive limiter with an empty window and nothing in flight
/// (`cfg` NULL = defaults; copied). With `RSL_CPU_SOURCE_SAMPLER` it takes a
/// reference on the shared CPU sampler (starting its thread if needed),
/// given back by `_free`. `*out` receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field;
/// also `cpu_source:` if the sampler thread could not be started).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_new(
    cfg: *const rsl_adaptive_limiter_config,
    out: *mut *mut rsl_adaptive_limiter,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, AdaptiveLimiterConfig::default().into(), "cfg")?;
        Ok(AdaptiveLimiter::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `limiter` (the same as
/// `rsl_adaptive_limiter_release`); the last reference destroys it. The last
/// reference also gives back the shared CPU sampler reference (joining the
/// sampler thread if it was the last user). NULL is a no-op. Safe while other
/// threads that hold their own references (`rsl_adaptive_limiter_retain`) are
/// inside calls on it; the caller must not use its pointer afterwards.
/// Outstanding tokens become meaningless.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_limiter_free(limiter: *mut rsl_adaptive_limiter) {
    super::free_handle(limiter);
}

/// Takes one more reference to `limiter` and returns it (NULL if `limiter` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_adaptive_limiter_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_limiter_retain(
    limiter: *mut rsl_adaptive_limiter,
) -> *mut rsl_adaptive_limiter {
    super::retain_handle(limiter)
}

/// Gives back one reference to `limiter`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_adaptive_limiter_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_adaptive_limiter_release(limiter: *mut rsl_adaptive_limiter) {
    super::free_handle(limiter);
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
pub unsafe extern "C" fn rsl_adaptive_limiter_set_monotonic_time(
    limiter: *const rsl_adaptive_limiter,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(limiter, enabled, err)
}

/// Decides at `now_ns` whether a request of `criticality`
/// (`RSL_CRITICALITY_*`) may proceed. A drop is a result (`out->allowed ==
/// 0`), not an error. When allowed the request is in flight until
/// `_record_at` is called with `out->token`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT` (unknown
/// criticality), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_acquire_at(
    limiter: *const rsl_adaptive_limiter,
    now_ns: i64,
    criticality: rsl_criticality,
    out: *mut rsl_adaptive_limiter_decision,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        let out = out_ref(out, "out")?;
        let level = level("criticality", criticality)?;
        *out = l.acquire_at(now_ns, level).into();
        Ok(())
    })
}

/// `rsl_adaptive_limiter_acquire_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_acquire(
    limiter: *const rsl_adaptive_limiter,
    criticality: rsl_criticality,
    out: *mut rsl_adaptive_limiter_decision,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_limiter_acquire_at(limiter, now_ns(), criticality, out, err) }
}

/// Records the outcome of an admitted request that completed at `now_ns`
/// (`outcome`, `RSL_OUTCOME_*`): it leaves the in-flight count; SUCCESS (and FAILURE
/// when `count_failures`) adds a pass and its latency
/// `ceil((now_ns - token->acquired_at_ns) / 1 ms)` if that is >= 1;
/// IGNORED adds nothing. Record each token exactly once. `out` may be NULL.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (token), `RSL_ERR_INVALID_ARGUMENT`
/// (outcome), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_record_at(
    limiter: *const rsl_adaptive_limiter,
    now_ns: i64,
    token: *const rsl_adaptive_limiter_token,
    outcome_: rsl_outcome,
    out: *mut rsl_adaptive_limiter_record_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        let token = in_ref(token, "token")?;
        let outcome = outcome(outcome_)?;
        let r = l.release_at(
            now_ns,
            &Token {
                acquired_at_ns: token.acquired_at_ns,
            },
            outcome,
        );
        if !out.is_null() {
            *out_ref(out, "out")? = r.into();
        }
        Ok(())
    })
}

/// `rsl_adaptive_limiter_record_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_record(
    limiter: *const rsl_adaptive_limiter,
    token: *const rsl_adaptive_limiter_token,
    outcome: rsl_outcome,
    out: *mut rsl_adaptive_limiter_record_result,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_limiter_record_at(limiter, now_ns(), token, outcome, out, err) }
}

/// Sets the CPU usage (permille, 0..=1000) a `RSL_CPU_SOURCE_MANUAL` limiter
/// sees from now on. It is a value, not an event: it takes no time.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`cpu_permille` above 1000, or the
/// limiter reads the sampler: message `cpu_source:`), `RSL_ERR_NULL_ARGUMENT`,
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_set_cpu(
    limiter: *const rsl_adaptive_limiter,
    cpu_permille: u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(limiter, err, |l| Ok(l.set_cpu(cpu_permille)?))
}

/// A metrics snapshot at `now_ns` into `*out` (set `out->struct_size` first).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`, `RSL_ERR_POISONED`,
/// `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_get_metrics_at(
    limiter: *const rsl_adaptive_limiter,
    now_ns: i64,
    out: *mut rsl_adaptive_limiter_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, l.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_adaptive_limiter_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_get_metrics(
    limiter: *const rsl_adaptive_limiter,
    out: *mut rsl_adaptive_limiter_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_adaptive_limiter_get_metrics_at(limiter, now_ns(), out, err) }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_adaptive_limiter_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_adaptive_limiter_new` would. Set `out->struct_size` first (`rsl_adaptive_limiter_config_init`
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
pub unsafe extern "C" fn rsl_adaptive_limiter_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_adaptive_limiter_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<AdaptiveLimiterConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_adaptive_limiter_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_adaptive_limiter_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_config_to_json(
    cfg: *const rsl_adaptive_limiter_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            AdaptiveLimiterConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates an adaptive limiter from a JSON config (as `rsl_adaptive_limiter_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_adaptive_limiter_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_adaptive_limiter,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: AdaptiveLimiterConfig = super::json::read(json, json_len)?;
        Ok(AdaptiveLimiter::new(cfg)?)
    })
}
