//! C ABI of the bulkhead (`rsl_bulkhead_*`), over `core::bulkhead`.

use super::{
    flag, guard, in_ref, opaque, out_ref, read_versioned, rsl_error, rsl_status, store_handle,
    with_handle, with_handle_at, write_versioned, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::bulkhead::{Bulkhead, Config, Metrics, Permit, Preset};
use crate::core::clock::now_ns;
use std::ffi::c_char;

/// A bulkhead: caps how many calls run at once. Create with
/// `rsl_bulkhead_new`, destroy with `rsl_bulkhead_free`. Every function may
/// be called from any thread concurrently, except `rsl_bulkhead_free` (which
/// must not race any call, including a blocked `rsl_bulkhead_enter_wait`).
pub struct rsl_bulkhead(Handle<Bulkhead>);
opaque!(rsl_bulkhead, Bulkhead);

/// Preset: the library's defaults (the seeds' Hystrix semaphore: 10 calls,
/// fail fast, fair); what `rsl_bulkhead_config_init` gives.
pub const RSL_BULKHEAD_PRESET_DEFAULT: u32 = 0;
/// Preset: Resilience4j `BulkheadConfig.ofDefaults()` (25 calls,
/// `maxWaitDuration` 0, fair).
pub const RSL_BULKHEAD_PRESET_RESILIENCE4J: u32 = 1;
/// Preset: afex/hystrix-go (`DefaultMaxConcurrent` 10, fail fast).
pub const RSL_BULKHEAD_PRESET_HYSTRIX: u32 = 2;
/// Preset: failsafe-go `bulkhead` (`maxWaitTime` 0, FIFO; set
/// `max_concurrent`, which failsafe-go requires and has no default for).
pub const RSL_BULKHEAD_PRESET_FAILSAFE_GO: u32 = 3;
/// Preset: Polly v8 default `ConcurrencyLimiter` (1000 permits, no queue).
pub const RSL_BULKHEAD_PRESET_POLLY_V8: u32 = 4;

/// Bulkhead configuration. Fill it with `rsl_bulkhead_config_init` (or
/// `rsl_bulkhead_config_preset`), then change fields. See docs/semantics.md.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_bulkhead_config {
    /// `sizeof(rsl_bulkhead_config)` as the caller was compiled; set by _init.
    pub struct_size: u32,
    /// Calls admitted at once, 1..=65536. Default 10.
    pub max_concurrent: u32,
    /// 1 = waiters get freed slots in arrival order and `try_enter` does not
    /// overtake them; 0 = an exit wakes the oldest waiter, which competes
    /// with other callers. Default 1.
    pub fair: u32,
    /// Callers that may block in `rsl_bulkhead_enter_wait` at once,
    /// 0..=65536; 0 = no waiting (fail fast). Default 0.
    pub max_waiters: u32,
    /// A permit held this long or longer counts as overdue in the metrics
    /// (a leak shows); 0 = never. Overdue permits are never reclaimed.
    /// Default 0.
    pub max_hold_ns: i64,
}

impl VersionedStruct for rsl_bulkhead_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<Config> for rsl_bulkhead_config {
    fn from(c: Config) -> Self {
        let mut out = Self {
            struct_size: 0,
            max_concurrent: c.max_concurrent,
            fair: u32::from(c.fair),
            max_waiters: c.max_waiters,
            max_hold_ns: c.max_hold_ns,
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_bulkhead_config) -> FfiResult<Config> {
    let cfg = Config {
        max_concurrent: c.max_concurrent,
        fair: flag("fair", c.fair)?,
        max_waiters: c.max_waiters,
        max_hold_ns: c.max_hold_ns,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// An admitted call's permit. Pass it, unchanged, to `rsl_bulkhead_exit_at`
/// exactly once. Plain data: copy it freely; only one copy can be exited.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_bulkhead_permit {
    /// The bulkhead that issued it (unique in the process).
    pub owner: u64,
    /// The slot's use count when issued (odd).
    pub id: u64,
    /// The slot it holds.
    pub slot: u32,
    /// Always zero.
    pub reserved0: u32,
    /// When it was issued (the `now_ns` of the enter, or the library clock
    /// for `rsl_bulkhead_enter_wait`).
    pub entered_at_ns: i64,
}

impl From<Permit> for rsl_bulkhead_permit {
    fn from(p: Permit) -> Self {
        Self {
            owner: p.owner,
            id: p.id,
            slot: p.slot,
            reserved0: 0,
            entered_at_ns: p.entered_at_ns,
        }
    }
}

/// A metrics snapshot. Set `struct_size = sizeof(rsl_bulkhead_metrics)`
/// before passing it to `rsl_bulkhead_get_metrics_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_bulkhead_metrics {
    /// Set by the caller to `sizeof(rsl_bulkhead_metrics)`.
    pub struct_size: u32,
    /// The configured cap.
    pub max_concurrent: u32,
    /// Permits out now.
    pub in_use: u32,
    /// `max_concurrent - in_use`.
    pub available: u32,
    /// Most permits ever out at once.
    pub peak_in_use: u32,
    /// Callers blocked in `rsl_bulkhead_enter_wait` now.
    pub waiting: u32,
    /// Permits issued over the bulkhead's life.
    pub entered_total: u64,
    /// Permits returned over its life.
    pub exited_total: u64,
    /// Entries refused (full, wait queue full, or wait timed out).
    pub rejected_total: u64,
    /// The oldest permit still out: when it was issued; 0 when none is out.
    pub oldest_entered_at_ns: i64,
    /// Its age at the snapshot (never negative); 0 when none is out. A
    /// permit that is never exited shows here as an ever-growing age.
    pub oldest_held_ns: i64,
    /// Permits out for `max_hold_ns` or longer (0 when `max_hold_ns` is 0).
    pub overdue_in_use: u32,
    /// Always zero.
    pub reserved0: u32,
    /// Permits exited after being held `max_hold_ns` or longer.
    pub overdue_exits_total: u64,
}

impl VersionedStruct for rsl_bulkhead_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<Metrics> for rsl_bulkhead_metrics {
    fn from(m: Metrics) -> Self {
        Self {
            struct_size: 0,
            max_concurrent: m.max_concurrent,
            in_use: m.in_use,
            available: m.available,
            peak_in_use: m.peak_in_use,
            waiting: m.waiting,
            entered_total: m.entered_total,
            exited_total: m.exited_total,
            rejected_total: m.rejected_total,
            oldest_entered_at_ns: m.oldest_entered_at_ns,
            oldest_held_ns: m.oldest_held_ns,
            overdue_in_use: m.overdue_in_use,
            reserved0: 0,
            overdue_exits_total: m.overdue_exits_total,
        }
    }
}

/// Fills `*cfg` with the defaults (10 calls, fair, no waiting, no hold
/// limit) and sets `struct_size`.
/// Errors: `RSL_ERR_NULL_ARGUMENT` if `cfg` is NULL.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_config_init(
    cfg: *mut rsl_bulkhead_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_config_preset(cfg, RSL_BULKHEAD_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a named preset (`RSL_BULKHEAD_PRESET_*`); see
/// docs/semantics.md for each preset's source values.
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_config_preset(
    cfg: *mut rsl_bulkhead_config,
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

/// Creates a bulkhead with every slot free. `cfg` may be NULL for the
/// defaults; it is copied, not retained. On success `*out` receives a handle
/// the caller owns (free it with `rsl_bulkhead_free`); on error `*out` is
/// untouched. It allocates `max_concurrent` slots of 64 bytes.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (the message names
/// the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_new(
    cfg: *const rsl_bulkhead_config,
    out: *mut *mut rsl_bulkhead,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, Config::default().into(), "cfg")?;
        Ok(Bulkhead::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `bulkhead` (the same as
/// `rsl_bulkhead_release`); the last reference destroys it. NULL is a no-op.
/// Safe while other threads that hold their own references
/// (`rsl_bulkhead_retain`) are inside calls on it; the caller must not use its
/// pointer afterwards. Permits still out become meaningless.
#[no_mangle]
pub unsafe extern "C" fn rsl_bulkhead_free(bulkhead: *mut rsl_bulkhead) {
    super::free_handle(bulkhead);
}

/// Takes one more reference to `bulkhead` and returns it (NULL if `bulkhead` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_bulkhead_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_bulkhead_retain(bulkhead: *mut rsl_bulkhead) -> *mut rsl_bulkhead {
    super::retain_handle(bulkhead)
}

/// Gives back one reference to `bulkhead`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_bulkhead_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_bulkhead_release(bulkhead: *mut rsl_bulkhead) {
    super::free_handle(bulkhead);
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
pub unsafe extern "C" fn rsl_bulkhead_set_monotonic_time(
    bulkhead: *const rsl_bulkhead,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(bulkhead, enabled, err)
}

fn write_entry(
    entry: Option<Permit>,
    out_permit: *mut rsl_bulkhead_permit,
    out_entered: *mut u32,
) -> FfiResult {
    let entered = out_ref(out_entered, "out_entered")?;
    let permit = out_ref(out_permit, "out_permit")?;
    *permit = entry.map(Into::into).unwrap_or_default();
    *entered = u32::from(entry.is_some());
    Ok(())
}

/// Tries to enter at `now_ns` without waiting. If a slot is free,
/// `*out_entered = 1` and `*out_permit` is the permit to pass to
/// `rsl_bulkhead_exit_at` when the call is done; if not (or, with `fair`,
/// while callers are queued in `rsl_bulkhead_enter_wait`),
/// `*out_entered = 0` at once (fail fast: run the fallback) and
/// `*out_permit` is zeroed. Full is a result, not an error. Lock-free.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (a NULL out pointer; nothing entered),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_try_enter_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    out_permit: *mut rsl_bulkhead_permit,
    out_entered: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        if out_permit.is_null() {
            return Err(Failure::null("out_permit"));
        }
        if out_entered.is_null() {
            return Err(Failure::null("out_entered"));
        }
        write_entry(b.try_enter_at(now_ns), out_permit, out_entered)
    })
}

/// `rsl_bulkhead_try_enter_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_try_enter(
    bulkhead: *const rsl_bulkhead,
    out_permit: *mut rsl_bulkhead_permit,
    out_entered: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_try_enter_at(bulkhead, now_ns(), out_permit, out_entered, err) }
}

/// Enters, **blocking the calling thread** up to `timeout_ns` for a slot:
/// the only call of the library that blocks (a timed condition variable; no
/// spinning). It is for thread-per-request callers; a binding with its own
/// scheduler should rather call `rsl_bulkhead_try_enter` and wait in its
/// idiom. It uses the library clock (`rsl_now_ns`): a blocking wait has no
/// `_at` twin, and its permit's `entered_at_ns` is on that clock.
/// `*out_entered` is 1 with `*out_permit` set, or 0 (full: no slot freed in
/// time, `timeout_ns == 0`, `max_waiters == 0`, or `max_waiters` callers
/// already waiting). With `fair`, waiters are served in arrival order.
/// `timeout_ns` beyond what the clock can represent (e.g. INT64_MAX) waits
/// without limit.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`timeout_ns < 0`),
/// `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_enter_wait(
    bulkhead: *const rsl_bulkhead,
    timeout_ns: i64,
    out_permit: *mut rsl_bulkhead_permit,
    out_entered: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bulkhead, err, |b| {
        if out_permit.is_null() {
            return Err(Failure::null("out_permit"));
        }
        if out_entered.is_null() {
            return Err(Failure::null("out_entered"));
        }
        write_entry(b.enter_wait(timeout_ns)?, out_permit, out_entered)
    })
}

/// Returns `*permit` at `now_ns`: the slot is free again (or handed to the
/// oldest waiter). `*out_held_ns` (may be NULL) receives how long it was
/// held (never negative). A permit is accepted exactly once: exiting it
/// again (or a stale copy, a permit of another bulkhead, a zeroed or
/// altered one) is `RSL_ERR_INVALID_ARGUMENT` with a message starting
/// "permit:", and nothing is released. Lock-free unless callers wait.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (permit), `RSL_ERR_INVALID_ARGUMENT`,
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_exit_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    permit: *const rsl_bulkhead_permit,
    out_held_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        let p = in_ref(permit, "permit")?;
        if p.reserved0 != 0 {
            return Err(Failure::argument(
                "permit",
                "reserved0 is not zero (a corrupted permit); nothing was released",
            ));
        }
        let held = b.exit_at(
            now_ns,
            &Permit {
                owner: p.owner,
                id: p.id,
                slot: p.slot,
                entered_at_ns: p.entered_at_ns,
            },
        )?;
        if !out_held_ns.is_null() {
            *out_ref(out_held_ns, "out_held_ns")? = held;
        }
        Ok(())
    })
}

/// `rsl_bulkhead_exit_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_exit(
    bulkhead: *const rsl_bulkhead,
    permit: *const rsl_bulkhead_permit,
    out_held_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_exit_at(bulkhead, now_ns(), permit, out_held_ns, err) }
}

/// A metrics snapshot at `now_ns` (ages and overdue counts are measured at
/// it) into `*out`, whose `struct_size` the caller sets first. It scans the
/// slot table (`max_concurrent` entries): call it for monitoring, not on
/// every request.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE` (struct_size not
/// set), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_get_metrics_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    out: *mut rsl_bulkhead_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, b.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_bulkhead_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_get_metrics(
    bulkhead: *const rsl_bulkhead,
    out: *mut rsl_bulkhead_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_get_metrics_at(bulkhead, now_ns(), out, err) }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_bulkhead_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_bulkhead_new` would. Set `out->struct_size` first (`rsl_bulkhead_config_init`
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
pub unsafe extern "C" fn rsl_bulkhead_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_bulkhead_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<Config, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_bulkhead_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_bulkhead_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_config_to_json(
    cfg: *const rsl_bulkhead_config,
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

/// Creates a bulkhead from a JSON config (as `rsl_bulkhead_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_bulkhead,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: Config = super::json::read(json, json_len)?;
        Ok(Bulkhead::new(cfg)?)
    })
}
