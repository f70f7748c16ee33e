//! C ABI of the backoff strategies (`rsl_backoff_*`), over `core::backoff`.

use super::enum_field;
use super::{
    flag, guard, in_ref, opaque, out_ref, read_versioned, rsl_error, rsl_status, store_handle,
    with_handle, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::backoff::{Backoff, BackoffConfig, BackoffState, Jitter, Kind, Preset};
use std::ffi::c_char;

/// A backoff strategy with its seeded PRNG. Create with `rsl_backoff_new`,
/// destroy with `rsl_backoff_free`. Every function may be called from any
/// thread concurrently, except `rsl_backoff_free`; the per-operation
/// `rsl_backoff_state` belongs to the caller.
pub struct rsl_backoff(Handle<Backoff>);
opaque!(rsl_backoff, Backoff);

/// `max_ns` value meaning "no cap" (INT64_MAX).
pub const RSL_BACKOFF_NO_MAX: i64 = i64::MAX;

/// Kind: `base_ns` every time.
pub const RSL_BACKOFF_FIXED: u32 = 1;
/// Kind: `base_ns + (attempt - 1) * increment_ns`, capped at `max_ns`.
pub const RSL_BACKOFF_LINEAR: u32 = 2;
/// Kind: `base_ns * factor^(attempt - 1)` (repeated multiplication that
/// stops at `max_ns`), capped at `max_ns`.
pub const RSL_BACKOFF_EXPONENTIAL: u32 = 3;
/// Kind: gRPC connection backoff: attempt 1 waits `base_ns` unjittered; then
/// `×factor` while below `max_ns`, capped, then `×(1 + jitter_factor·(2u − 1))`.
pub const RSL_BACKOFF_GRPC_CONNECTION: u32 = 4;
/// Kind: AWS full jitter: `u · min(max_ns, base_ns · 2^attempt)`.
pub const RSL_BACKOFF_AWS_FULL_JITTER: u32 = 5;
/// Kind: AWS equal jitter: `v/2 + (v/2)·u`, `v = min(max_ns, base_ns · 2^attempt)`.
pub const RSL_BACKOFF_AWS_EQUAL_JITTER: u32 = 6;
/// Kind: AWS decorrelated jitter: `sleep = min(max_ns, base + (3·sleep − base)·u)`,
/// `sleep` starting at `base_ns` (stateful).
pub const RSL_BACKOFF_AWS_DECORRELATED: u32 = 7;
/// Kind: AWS SDK standard mode: `max_ns` exactly once `attempt > floor(log2(max_ns /
/// base_ns))`, else `u · 2^attempt · base_ns`.
pub const RSL_BACKOFF_AWS_STANDARD: u32 = 8;
/// Kind: Polly v8 DecorrelatedJitterV2 (exponential with `UseJitter`), capped
/// at `max_ns` (stateful).
pub const RSL_BACKOFF_POLLY_DECORRELATED_V2: u32 = 9;
/// Kind: Resilience4j `ofExponentialRandomBackoff`, in whole milliseconds.
pub const RSL_BACKOFF_R4J_EXPONENTIAL_RANDOM: u32 = 10;

/// Jitter (fixed, linear, exponential): none, no draw.
pub const RSL_JITTER_NONE: u32 = 0;
/// Jitter: `e + e·jitter_factor·u` (the seeds' JitterRetryStrategy).
pub const RSL_JITTER_PROPORTIONAL: u32 = 1;
/// Jitter: `e·(1 + jitter_factor·(2u − 1))` (gRPC ±20 %, Polly ±25 %).
pub const RSL_JITTER_SYMMETRIC: u32 = 2;
/// Jitter: `e·u` (full jitter).
pub const RSL_JITTER_FULL: u32 = 3;
/// Jitter: `e/2 + (e/2)·u` (equal jitter).
pub const RSL_JITTER_EQUAL: u32 = 4;

/// Preset: the seeds' ExponentialBackoffStrategy (1 s doubling, max 60 s). The default.
pub const RSL_BACKOFF_PRESET_DEFAULT: u32 = 0;
/// Preset: the seeds' JitterRetryStrategy (default + 10 % proportional jitter).
pub const RSL_BACKOFF_PRESET_SEEDS_JITTER: u32 = 1;
/// Preset: the seeds' FixedRetryStrategy (1 s).
pub const RSL_BACKOFF_PRESET_SEEDS_FIXED: u32 = 2;
/// Preset: gRPC connection backoff (1 s, ×1.6, jitter 0.2, max 120 s).
pub const RSL_BACKOFF_PRESET_GRPC_CONNECTION: u32 = 3;
/// Preset: gRPC A6 retry backoff, A6 example values (0.1 s, ×2, max 1 s, ±20 %).
pub const RSL_BACKOFF_PRESET_GRPC_RETRY: u32 = 4;
/// Preset: gRPC A6 retry backoff as specified before 2024 (full jitter).
pub const RSL_BACKOFF_PRESET_GRPC_RETRY_FULL_JITTER: u32 = 5;
/// Preset: AWS SDK standard mode (base 1 s, max 20 s).
pub const RSL_BACKOFF_PRESET_AWS_STANDARD: u32 = 6;
/// Preset: AWS blog full jitter (base 5 ms, cap 2 s, the blog's simulation).
pub const RSL_BACKOFF_PRESET_AWS_FULL_JITTER: u32 = 7;
/// Preset: AWS blog equal jitter (base 5 ms, cap 2 s).
pub const RSL_BACKOFF_PRESET_AWS_EQUAL_JITTER: u32 = 8;
/// Preset: AWS blog decorrelated jitter (base 5 ms, cap 2 s).
pub const RSL_BACKOFF_PRESET_AWS_DECORRELATED: u32 = 9;
/// Preset: Polly v8 retry defaults (constant 2 s).
pub const RSL_BACKOFF_PRESET_POLLY_V8: u32 = 10;
/// Preset: Polly v8 exponential with UseJitter (DecorrelatedJitterV2, 2 s, no max).
pub const RSL_BACKOFF_PRESET_POLLY_V8_DECORRELATED_JITTER: u32 = 11;
/// Preset: Resilience4j Retry default interval (fixed 500 ms).
pub const RSL_BACKOFF_PRESET_RESILIENCE4J: u32 = 12;
/// Preset: Resilience4j `ofExponentialRandomBackoff()` (500 ms, ×1.5, ±0.5, no max).
pub const RSL_BACKOFF_PRESET_RESILIENCE4J_EXPONENTIAL_RANDOM: u32 = 13;

/// Backoff configuration; fill it with `rsl_backoff_config_init` or
/// `rsl_backoff_config_preset`. Fields a kind does not use are ignored
/// (except `jitter`, which must be `RSL_JITTER_NONE` for kinds with built-in
/// jitter). Delays are truncated toward zero to whole ns and saturate at
/// INT64_MAX.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_backoff_config {
    /// `sizeof(rsl_backoff_config)`; set by _init.
    pub struct_size: u32,
    /// `RSL_BACKOFF_*` kind. Default EXPONENTIAL.
    pub kind: u32,
    /// `RSL_JITTER_*` (FIXED, LINEAR, EXPONENTIAL only). Default NONE.
    pub jitter: u32,
    /// 1 = also clamp the jittered delay to `max_ns` (Polly); 0 = the cap
    /// applies before the jitter only (gRPC, the seeds). Default 0.
    pub clamp_jittered: u32,
    /// The first delay / unit of the formula, >= 0 (> 0 for GRPC_CONNECTION,
    /// AWS_*, R4J; a whole number of ms >= 1 ms for R4J). Default 1 s.
    pub base_ns: i64,
    /// The cap, >= 0; `RSL_BACKOFF_NO_MAX` = none. Default 60 s.
    pub max_ns: i64,
    /// LINEAR step, >= 0. Default 0.
    pub increment_ns: i64,
    /// Multiplier of EXPONENTIAL, GRPC_CONNECTION, R4J: finite, >= 1, and
    /// reaching `max_ns` within 10000 multiplications. Default 2.
    pub factor: f64,
    /// PROPORTIONAL: >= 0; SYMMETRIC, GRPC_CONNECTION, R4J (randomization
    /// factor): in [0, 1]. Default 0.
    pub jitter_factor: f64,
    /// PRNG seed of a handle made from this config; 0 = from entropy. Default 0.
    pub seed: u64,
}

impl VersionedStruct for rsl_backoff_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<BackoffConfig> for rsl_backoff_config {
    fn from(c: BackoffConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            kind: c.kind as u32,
            jitter: c.jitter as u32,
            clamp_jittered: u32::from(c.clamp_jittered),
            base_ns: c.base_ns,
            max_ns: c.max_ns,
            increment_ns: c.increment_ns,
            factor: c.factor,
            jitter_factor: c.jitter_factor,
            seed: c.seed,
        };
        out.stamp();
        out
    }
}

/// Converts and validates a caller's config.
pub(crate) fn to_core(c: &rsl_backoff_config) -> FfiResult<BackoffConfig> {
    let kind = enum_field("kind", c.kind, Kind::from_raw)?;
    let jitter = enum_field("jitter", c.jitter, Jitter::from_raw)?;
    let cfg = BackoffConfig {
        kind,
        jitter,
        base_ns: c.base_ns,
        max_ns: c.max_ns,
        increment_ns: c.increment_ns,
        factor: c.factor,
        jitter_factor: c.jitter_factor,
        clamp_jittered: flag("clamp_jittered", c.clamp_jittered)?,
        seed: c.seed,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Per-operation state of the decorrelated kinds (AWS_DECORRELATED,
/// POLLY_DECORRELATED_V2), owned by the caller: one per operation, all zero
/// (or `rsl_backoff_state_init`) = fresh. Other kinds never read it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_backoff_state {
    /// AWS decorrelated: the previous delay in ns (0 = none yet).
    pub prev_delay_ns: i64,
    /// Polly DecorrelatedJitterV2: the previous formula value (0 = fresh).
    pub prev: f64,
}

impl From<rsl_backoff_state> for BackoffState {
    fn from(s: rsl_backoff_state) -> Self {
        Self {
            prev_delay_ns: s.prev_delay_ns,
            prev: s.prev,
        }
    }
}

impl From<BackoffState> for rsl_backoff_state {
    fn from(s: BackoffState) -> Self {
        Self {
            prev_delay_ns: s.prev_delay_ns,
            prev: s.prev,
        }
    }
}

/// Runs `f` on the caller's state, or on a fresh one when the kind is
/// stateless and the pointer NULL.
fn with_state<T>(
    kind: Kind,
    state: *mut rsl_backoff_state,
    f: impl FnOnce(&mut BackoffState) -> FfiResult<T>,
) -> FfiResult<T> {
    if state.is_null() {
        if kind.is_stateful() {
            return Err(Failure::null("state"));
        }
        return f(&mut BackoffState::default());
    }
    let slot = out_ref(state, "state")?;
    let mut s = BackoffState::from(*slot);
    let out = f(&mut s)?;
    *slot = s.into();
    Ok(out)
}

/// Fills `*cfg` with the defaults (`RSL_BACKOFF_PRESET_DEFAULT`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_config_init(
    cfg: *mut rsl_backoff_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_backoff_config_preset(cfg, RSL_BACKOFF_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a preset (`RSL_BACKOFF_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an unknown
/// preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_config_preset(
    cfg: *mut rsl_backoff_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = Preset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = BackoffConfig::preset(preset).into();
        Ok(())
    })
}

/// Sets `*state` to fresh (all zero). Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_state_init(
    state: *mut rsl_backoff_state,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        *out_ref(state, "state")? = rsl_backoff_state::default();
        Ok(())
    })
}

/// Creates a backoff strategy (`cfg` NULL = defaults; copied). `*out`
/// receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_new(
    cfg: *const rsl_backoff_config,
    out: *mut *mut rsl_backoff,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, BackoffConfig::default().into(), "cfg")?;
        Ok(Backoff::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `backoff` (the same as
/// `rsl_backoff_release`); the last reference destroys it. NULL is a no-op.
/// Safe while other threads that hold their own references
/// (`rsl_backoff_retain`) are inside calls on it; the caller must not use its
/// pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_backoff_free(backoff: *mut rsl_backoff) {
    super::free_handle(backoff);
}

/// Takes one more reference to `backoff` and returns it (NULL if `backoff` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_backoff_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_backoff_retain(backoff: *mut rsl_backoff) -> *mut rsl_backoff {
    super::retain_handle(backoff)
}

/// Gives back one reference to `backoff`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_backoff_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_backoff_release(backoff: *mut rsl_backoff) {
    super::free_handle(backoff);
}

/// The delay before retry `attempt` (1 = the first retry) into
/// `*out_delay_ns`, drawing from the handle's PRNG exactly as many times as
/// `rsl_backoff_draws` says. `state`: the operation's state, read and updated
/// by the decorrelated kinds (required for them; may be NULL otherwise).
/// Not time-dependent. Errors: `RSL_ERR_NULL_ARGUMENT`,
/// `RSL_ERR_INVALID_ARGUMENT` (attempt 0), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_next(
    backoff: *const rsl_backoff,
    attempt: u32,
    state: *mut rsl_backoff_state,
    out_delay_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(backoff, err, |b| {
        let out = out_ref(out_delay_ns, "out_delay_ns")?;
        *out = with_state(b.config().kind, state, |s| Ok(b.next(attempt, s)?))?;
        Ok(())
    })
}

/// The pure form: the delay before retry `attempt` given the uniform draw
/// `u` in [0, 1) (ignored when the strategy draws nothing for this attempt),
/// without any PRNG, so test vectors are exact. `cfg` is validated on every
/// call (its `seed` is ignored). `state` as in `rsl_backoff_next`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG`,
/// `RSL_ERR_INVALID_ARGUMENT` (attempt 0, u outside [0, 1)).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_delay_with_u(
    cfg: *const rsl_backoff_config,
    attempt: u32,
    u: f64,
    state: *mut rsl_backoff_state,
    out_delay_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        in_ref(cfg, "cfg")?;
        let out = out_ref(out_delay_ns, "out_delay_ns")?;
        let c = to_core(&read_versioned(
            cfg,
            BackoffConfig::default().into(),
            "cfg",
        )?)?;
        *out = with_state(c.kind, state, |s| Ok(c.delay_with_u(attempt, u, s)?))?;
        Ok(())
    })
}

/// How many uniform draws (0 or 1) the delay before retry `attempt`
/// consumes under `cfg`, into `*out_draws`. Errors: as
/// `rsl_backoff_delay_with_u`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_draws(
    cfg: *const rsl_backoff_config,
    attempt: u32,
    out_draws: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        in_ref(cfg, "cfg")?;
        let out = out_ref(out_draws, "out_draws")?;
        let c = to_core(&read_versioned(
            cfg,
            BackoffConfig::default().into(),
            "cfg",
        )?)?;
        if attempt == 0 {
            return Err(Failure::argument(
                "attempt",
                "must be >= 1 (the wait before the first retry is attempt 1)",
            ));
        }
        *out = c.draws(attempt);
        Ok(())
    })
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_backoff_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_backoff_new` would. Set `out->struct_size` first (`rsl_backoff_config_init`
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
pub unsafe extern "C" fn rsl_backoff_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_backoff_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<BackoffConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_backoff_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_backoff_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_config_to_json(
    cfg: *const rsl_backoff_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            BackoffConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a backoff from a JSON config (as `rsl_backoff_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_backoff_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_backoff,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: BackoffConfig = super::json::read(json, json_len)?;
        Ok(Backoff::new(cfg)?)
    })
}
