//! C ABI of the leaky bucket (`rsl_leaky_bucket_*`), over
//! `core::leaky_bucket`: a pacer (go.uber.org/ratelimit) or a GCRA meter
//! (governor), each lock-free on one atomic word.

use super::{enum_field, reserved_zero, rsl_error, with_handle_at};
use super::{
    guard, opaque, out_ref, read_versioned, rsl_status, store_handle, with_handle, FfiResult,
    Handle, VersionedStruct,
};
use crate::core::clock::now_ns;
use crate::core::leaky_bucket::{LeakyBucket, LeakyConfig, LeakyMode, Permit, Verdict};
use std::ffi::c_char;

/// A leaky bucket. Create with `rsl_leaky_bucket_new`, destroy with
/// `rsl_leaky_bucket_free`. Every function may be called from any thread
/// concurrently, except `rsl_leaky_bucket_free`.
pub struct rsl_leaky_bucket(Handle<LeakyBucket>);
opaque!(rsl_leaky_bucket, LeakyBucket);

/// Mode: go.uber.org/ratelimit. `rsl_leaky_bucket_take_at` returns when the
/// caller may proceed; permits are spaced `per_ns / rate` apart, with up to
/// `slack` unused intervals banked for a burst.
pub const RSL_LEAKY_BUCKET_PACER: u32 = 1;
/// Mode: the leaky bucket as a meter (GCRA, as governor).
/// `rsl_leaky_bucket_check_at` allows or answers "not until"; never queues.
pub const RSL_LEAKY_BUCKET_METER: u32 = 2;

/// Leaky bucket configuration. Fill it with `rsl_leaky_bucket_config_init`,
/// then change fields. The interval between permits is `per_ns / rate`
/// (integer division, as uber's `perRequest` and governor's quota).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_leaky_bucket_config {
    /// `sizeof(rsl_leaky_bucket_config)` as the caller was compiled; set by _init.
    pub struct_size: u32,
    /// `RSL_LEAKY_BUCKET_PACER` or `RSL_LEAKY_BUCKET_METER`. Default PACER.
    pub mode: u32,
    /// Permits per `per_ns`, >= 1, with `per_ns / rate` >= 1 ns. Default 100.
    pub rate: u32,
    /// PACER: unused intervals banked for a burst (uber `WithSlack`);
    /// 0 = uber `WithoutSlack`. Ignored by METER. Default 10 (uber's).
    pub slack: u32,
    /// The period `rate` counts over (uber `Per`), > 0. Default 1 s.
    pub per_ns: i64,
    /// METER: cells that may conform back to back (governor's burst), >= 1;
    /// the tolerance is `(burst - 1)` intervals. Ignored by PACER. Default 1.
    pub burst: u32,
    /// Must be zero.
    pub reserved0: u32,
}

impl VersionedStruct for rsl_leaky_bucket_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<LeakyConfig> for rsl_leaky_bucket_config {
    fn from(c: LeakyConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            mode: c.mode as u32,
            rate: c.rate,
            slack: c.slack,
            per_ns: c.per_ns,
            burst: c.burst,
            reserved0: 0,
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_leaky_bucket_config) -> FfiResult<LeakyConfig> {
    let mode = enum_field("mode", c.mode, LeakyMode::from_raw)?;
    reserved_zero("reserved0", c.reserved0)?;
    let cfg = LeakyConfig {
        mode,
        rate: c.rate,
        per_ns: c.per_ns,
        slack: c.slack,
        burst: c.burst,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The answer to a PACER take.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_leaky_bucket_permit {
    /// 1 if a permission was issued (always for `_take_at`; for
    /// `_try_take_at` only when the wait fits), else 0 (nothing changed).
    pub taken: u32,
    /// Always zero.
    pub reserved0: u32,
    /// When the caller may proceed: the permission time if it is after
    /// `now_ns`, else `now_ns` (what uber's `Take` returns). When not taken,
    /// when it would have been.
    pub ready_at_ns: i64,
    /// `ready_at_ns - now_ns` (>= 0): how long to sleep before proceeding.
    pub wait_ns: i64,
}

impl From<Permit> for rsl_leaky_bucket_permit {
    fn from(p: Permit) -> Self {
        Self {
            taken: u32::from(p.taken),
            reserved0: 0,
            ready_at_ns: p.ready_at_ns,
            wait_ns: p.wait_ns,
        }
    }
}

/// The answer to a METER check.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_leaky_bucket_verdict {
    /// 1 if the cells conform (and were counted), else 0 (nothing changed).
    pub allowed: u32,
    /// When allowed, the cells that could still conform at the same instant
    /// (governor's `remaining_burst_capacity`); 0 when denied.
    pub remaining: u32,
    /// `now_ns` when allowed; else the earliest instant the same check could
    /// conform (governor's `NotUntil::earliest_possible`).
    pub retry_at_ns: i64,
    /// `retry_at_ns - now_ns` (>= 0).
    pub wait_ns: i64,
}

impl From<Verdict> for rsl_leaky_bucket_verdict {
    fn from(v: Verdict) -> Self {
        Self {
            allowed: u32::from(v.allowed),
            remaining: v.remaining,
            retry_at_ns: v.retry_at_ns,
            wait_ns: v.wait_ns,
        }
    }
}

/// Fills `*cfg` with the defaults (PACER, uber's `New(100)`: rate 100 per
/// second, slack 10; METER burst 1) and sets struct_size.
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_config_init(
    cfg: *mut rsl_leaky_bucket_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        *out = LeakyConfig::default().into();
        Ok(())
    })
}

/// Creates a leaky bucket that has issued nothing (`cfg` NULL = defaults;
/// copied). `*out` receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field:
/// `mode`, `rate`, `per_ns`, `slack`, `burst`, `reserved0`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_new(
    cfg: *const rsl_leaky_bucket_config,
    out: *mut *mut rsl_leaky_bucket,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, LeakyConfig::default().into(), "cfg")?;
        Ok(LeakyBucket::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `bucket` (the same as
/// `rsl_leaky_bucket_release`); the last reference destroys it. NULL is a no-
/// op. Safe while other threads that hold their own references
/// (`rsl_leaky_bucket_retain`) are inside calls on it; the caller must not use
/// its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_leaky_bucket_free(bucket: *mut rsl_leaky_bucket) {
    super::free_handle(bucket);
}

/// Takes one more reference to `bucket` and returns it (NULL if `bucket` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_leaky_bucket_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_leaky_bucket_retain(
    bucket: *mut rsl_leaky_bucket,
) -> *mut rsl_leaky_bucket {
    super::retain_handle(bucket)
}

/// Gives back one reference to `bucket`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_leaky_bucket_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_leaky_bucket_release(bucket: *mut rsl_leaky_bucket) {
    super::free_handle(bucket);
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
pub unsafe extern "C" fn rsl_leaky_bucket_set_monotonic_time(
    bucket: *const rsl_leaky_bucket,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(bucket, enabled, err)
}

/// PACER: issues the next permission at `now_ns` (uber's `Take`, without
/// the sleep): sleep `out->wait_ns`, then proceed. The first take is issued
/// at `now_ns`; each next one `per_ns / rate` after the previous, or at
/// `now_ns` (without slack) / `now_ns - slack intervals` (with slack) when
/// the bucket has been idle longer. Lock-free.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT` (a METER
/// bucket), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_take_at(
    bucket: *const rsl_leaky_bucket,
    now_ns: i64,
    out: *mut rsl_leaky_bucket_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.take_at(now_ns)?.into();
        Ok(())
    })
}

/// `rsl_leaky_bucket_take_at` on the library clock (re-read when another
/// thread wins the race, as uber does).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_take(
    bucket: *const rsl_leaky_bucket,
    out: *mut rsl_leaky_bucket_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(out, "out")?;
        *out = b.try_take_now(now_ns, i64::MAX)?.into();
        Ok(())
    })
}

/// PACER: `rsl_leaky_bucket_take_at`, but only if the wait is at most
/// `max_wait_ns` (INT64_MAX = any, 0 = none, negative = never); otherwise
/// nothing changes, `out->taken` is 0 and `out->ready_at_ns` says when the
/// permission would have been issued. For a caller with a deadline.
/// Errors: as `rsl_leaky_bucket_take_at`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_try_take_at(
    bucket: *const rsl_leaky_bucket,
    now_ns: i64,
    max_wait_ns: i64,
    out: *mut rsl_leaky_bucket_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.try_take_at(now_ns, max_wait_ns)?.into();
        Ok(())
    })
}

/// `rsl_leaky_bucket_try_take_at` on the library clock.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_try_take(
    bucket: *const rsl_leaky_bucket,
    max_wait_ns: i64,
    out: *mut rsl_leaky_bucket_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(out, "out")?;
        *out = b.try_take_now(now_ns, max_wait_ns)?.into();
        Ok(())
    })
}

/// METER: whether `n` cells conform at `now_ns` (GCRA): they do when
/// `now_ns >= TAT + (n - 1) * interval - (burst - 1) * interval`, and are
/// then counted (`TAT = max(TAT, now_ns) + n * interval`); otherwise nothing
/// changes and `out->retry_at_ns` says when they would. Lock-free.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT` (`n` == 0, or
/// a PACER bucket), `RSL_ERR_EXCEEDS_CAPACITY` (`n` > burst: it could never
/// conform), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_check_at(
    bucket: *const rsl_leaky_bucket,
    now_ns: i64,
    n: u32,
    out: *mut rsl_leaky_bucket_verdict,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.check_at(now_ns, n)?.into();
        Ok(())
    })
}

/// `rsl_leaky_bucket_check_at` on the library clock.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_check(
    bucket: *const rsl_leaky_bucket,
    n: u32,
    out: *mut rsl_leaky_bucket_verdict,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(out, "out")?;
        *out = b.check_now(now_ns, n)?.into();
        Ok(())
    })
}

/// The interval between permits, `per_ns / rate`, into `*interval_ns`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_get_interval(
    bucket: *const rsl_leaky_bucket,
    interval_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(interval_ns, "interval_ns")?;
        *out = b.interval_ns();
        Ok(())
    })
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_leaky_bucket_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_leaky_bucket_new` would. Set `out->struct_size` first (`rsl_leaky_bucket_config_init`
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
pub unsafe extern "C" fn rsl_leaky_bucket_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_leaky_bucket_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<LeakyConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_leaky_bucket_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_leaky_bucket_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_config_to_json(
    cfg: *const rsl_leaky_bucket_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            LeakyConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a leaky bucket from a JSON config (as `rsl_leaky_bucket_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_leaky_bucket_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_leaky_bucket,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: LeakyConfig = super::json::read(json, json_len)?;
        Ok(LeakyBucket::new(cfg)?)
    })
}
