//! C ABI of the window rate limiters (`rsl_window_limiter_*`), over
//! `core::window_limiter`.

use super::criticality::{level, rsl_criticality};
use super::{enum_field, rsl_error, with_handle_at};
use super::{
    guard, opaque, out_ref, read_versioned, rsl_status, store_handle, write_versioned, Failure,
    FfiResult, Handle, VersionedStruct,
};
use crate::core::clock::now_ns;
use crate::core::window_limiter::{
    Mode, Reserve, WindowDecision, WindowLimiter, WindowLimiterConfig, WindowMetrics, WindowPreset,
    WindowReservation,
};
use std::ffi::c_char;

/// A window rate limiter: at most `limit` permits per `window_ns`. Create
/// with `rsl_window_limiter_new`, destroy with `rsl_window_limiter_free`.
/// Reference counted (`rsl_window_limiter_retain`, `_release` = `_free`).
/// Every function may be called from any thread concurrently.
pub struct rsl_window_limiter(Handle<WindowLimiter>);
opaque!(rsl_window_limiter, WindowLimiter);

/// One epoch-aligned window: the count resets at every multiple of `window_ns`.
pub const RSL_WINDOW_LIMITER_FIXED: u32 = 1;
/// `buckets` epoch-aligned buckets; the window is the current bucket and
/// the `buckets - 1` before it.
pub const RSL_WINDOW_LIMITER_SLIDING_BUCKETS: u32 = 2;
/// The weighted two-window estimate
/// `previous * (window_ns - elapsed) / window_ns + current`.
pub const RSL_WINDOW_LIMITER_SLIDING_WEIGHTED: u32 = 3;

/// Preset: the defaults (100 per second, 10 sliding buckets).
pub const RSL_WINDOW_LIMITER_PRESET_DEFAULT: u32 = 0;
/// Preset: Sentinel's QPS flow rule (2 buckets over 1 s).
pub const RSL_WINDOW_LIMITER_PRESET_SENTINEL: u32 = 1;
/// Preset: Resilience4j `RateLimiterConfig.ofDefaults()` (50 per 500 ns,
/// fixed, `max_reservations` 65536: R4j reserves without a bound).
pub const RSL_WINDOW_LIMITER_PRESET_RESILIENCE4J: u32 = 2;

/// Window limiter configuration; fill it with `rsl_window_limiter_config_init`
/// or `_config_preset`, then change fields. A request of level L is granted
/// while the window's count (or weighted estimate) plus its permits stays
/// within `floor(limit * share_L / 1000)`; CRITICAL_PLUS's share is 1000.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_window_limiter_config {
    /// `sizeof(rsl_window_limiter_config)`; set by _init.
    pub struct_size: u32,
    /// `RSL_WINDOW_LIMITER_FIXED`, `_SLIDING_BUCKETS` or `_SLIDING_WEIGHTED`.
    /// Default SLIDING_BUCKETS.
    pub mode: u32,
    /// Window length (> 0). Default 1 s.
    pub window_ns: i64,
    /// Permits per window (>= 1). Default 100.
    pub limit: u32,
    /// SLIDING_BUCKETS only (ignored otherwise): buckets per window,
    /// 1..=65536, dividing `window_ns`. Default 10.
    pub buckets: u32,
    /// Share of `limit` SHEDDABLE requests may fill, permille 0..=1000
    /// (<= sheddable_plus_share_permille). Default 1000.
    pub sheddable_share_permille: u32,
    /// Share for SHEDDABLE_PLUS, permille (<= critical_share_permille). Default 1000.
    pub sheddable_plus_share_permille: u32,
    /// Share for CRITICAL, permille 0..=1000. Default 1000.
    pub critical_share_permille: u32,
    /// Reservations (`rsl_window_limiter_reserve_at`) that may be pending at
    /// once, 0..=65536; 0 = none: a timed acquisition grants what fits now
    /// and refuses the rest. Default 0.
    pub max_reservations: u32,
}

impl VersionedStruct for rsl_window_limiter_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<WindowLimiterConfig> for rsl_window_limiter_config {
    fn from(c: WindowLimiterConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            mode: c.mode as u32,
            window_ns: c.window_ns,
            limit: c.limit,
            buckets: c.buckets,
            sheddable_share_permille: c.sheddable_share_permille,
            sheddable_plus_share_permille: c.sheddable_plus_share_permille,
            critical_share_permille: c.critical_share_permille,
            max_reservations: c.max_reservations,
        };
        out.stamp();
        out
    }
}

/// Converts and validates a caller's config.
fn to_core(c: &rsl_window_limiter_config) -> FfiResult<WindowLimiterConfig> {
    let mode = enum_field("mode", c.mode, Mode::from_raw)?;
    let cfg = WindowLimiterConfig {
        mode,
        limit: c.limit,
        window_ns: c.window_ns,
        buckets: c.buckets,
        sheddable_share_permille: c.sheddable_share_permille,
        sheddable_plus_share_permille: c.sheddable_plus_share_permille,
        critical_share_permille: c.critical_share_permille,
        max_reservations: c.max_reservations,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The answer to `rsl_window_limiter_try_acquire_at`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_window_limiter_decision {
    /// 1 if the permits were granted (and counted), 0 if denied.
    pub allowed: u32,
    /// Always zero.
    pub reserved0: u32,
    /// When denied: nanoseconds from now_ns to the earliest instant at which
    /// the same request would be granted if nothing else were granted
    /// meanwhile, behind any pending reservations (>= 1); 0 when allowed.
    /// See docs/semantics.md.
    pub retry_after_ns: i64,
    /// Permits counted after the call: FIXED the current window,
    /// SLIDING_BUCKETS all its buckets, SLIDING_WEIGHTED the current window.
    pub window_count: u64,
    /// SLIDING_WEIGHTED: permits counted in the previous window; else 0.
    pub previous_count: u64,
    /// Permits this level could still be granted at this instant (0 while
    /// reservations are pending: nobody overtakes them).
    pub remaining: u64,
    /// This level's ceiling: `floor(limit * share / 1000)`.
    pub level_limit: u64,
}

/// A reservation's ticket: one opaque 64-bit value, never 0 (a plain
/// integer for every binding). Cancel it with `rsl_window_limiter_cancel_at`
/// if the caller gives up before its instant; answered once: any later
/// cancel is `RSL_ERR_INVALID_ARGUMENT` naming `reservation`.
pub type rsl_window_limiter_reservation = u64;

/// `rsl_window_limiter_reserve_result.outcome`: granted now (counted at
/// `now_ns`); go.
pub const RSL_WINDOW_LIMITER_GRANTED: u32 = 1;
/// `rsl_window_limiter_reserve_result.outcome`: reserved at `ready_at_ns`;
/// wait `wait_ns`, then go (no second call). `reservation` is the ticket.
pub const RSL_WINDOW_LIMITER_RESERVED: u32 = 2;
/// `rsl_window_limiter_reserve_result.outcome`: refused, nothing reserved:
/// the wait (`wait_ns`) would exceed `max_wait_ns`.
pub const RSL_WINDOW_LIMITER_TOO_LONG: u32 = 3;
/// `rsl_window_limiter_reserve_result.outcome`: refused, nothing reserved:
/// the wait (`wait_ns`) fits, but `max_reservations` are already pending
/// (or `max_reservations == 0`).
pub const RSL_WINDOW_LIMITER_QUEUE_FULL: u32 = 4;

/// The answer to `rsl_window_limiter_reserve_at`. Frozen layout: this struct
/// never changes; a future change would be a new struct and a new
/// `RSL_ABI_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_window_limiter_reserve_result {
    /// `RSL_WINDOW_LIMITER_GRANTED`, `_RESERVED`, `_TOO_LONG` or `_QUEUE_FULL`.
    pub outcome: u32,
    /// Always zero.
    pub reserved0: u32,
    /// RESERVED: nanoseconds from `now_ns` to `ready_at_ns` (>= 1); TOO_LONG
    /// and QUEUE_FULL: the wait it would have needed (a `Retry-After`);
    /// GRANTED: 0.
    pub wait_ns: i64,
    /// RESERVED: the instant the permits are counted at (on the limiter's
    /// timeline: a `now_ns` earlier than one seen counts as that one); else 0.
    pub ready_at_ns: i64,
    /// RESERVED: the ticket; else 0.
    pub reservation: rsl_window_limiter_reservation,
}

impl From<Reserve> for rsl_window_limiter_reserve_result {
    fn from(r: Reserve) -> Self {
        let (outcome, wait_ns, ready_at_ns, reservation) = match r {
            Reserve::Granted => (RSL_WINDOW_LIMITER_GRANTED, 0, 0, 0),
            Reserve::Reserved {
                reservation,
                wait_ns,
                ready_at_ns,
            } => (
                RSL_WINDOW_LIMITER_RESERVED,
                wait_ns,
                ready_at_ns,
                reservation.raw(),
            ),
            Reserve::TooLong { wait_ns } => (RSL_WINDOW_LIMITER_TOO_LONG, wait_ns, 0, 0),
            Reserve::QueueFull { wait_ns } => (RSL_WINDOW_LIMITER_QUEUE_FULL, wait_ns, 0, 0),
        };
        Self {
            outcome,
            reserved0: 0,
            wait_ns,
            ready_at_ns,
            reservation,
        }
    }
}

impl From<WindowDecision> for rsl_window_limiter_decision {
    fn from(d: WindowDecision) -> Self {
        Self {
            allowed: u32::from(d.allowed),
            reserved0: 0,
            retry_after_ns: d.retry_after_ns,
            window_count: d.window_count,
            previous_count: d.previous_count,
            remaining: d.remaining,
            level_limit: d.level_limit,
        }
    }
}

/// A metrics snapshot; set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_window_limiter_metrics {
    /// Set by the caller to `sizeof(rsl_window_limiter_metrics)`.
    pub struct_size: u32,
    /// Always zero.
    pub reserved0: u32,
    /// As in `rsl_window_limiter_decision.window_count`.
    pub window_count: u64,
    /// As in `rsl_window_limiter_decision.previous_count`.
    pub previous_count: u64,
    /// Permits a CRITICAL_PLUS request could be granted now.
    pub remaining: u64,
    /// Permits granted over the limiter's life (a reservation's when its
    /// instant comes).
    pub admitted_total: u64,
    /// Requests denied over its life (one per denied call, a refused
    /// `rsl_window_limiter_reserve_at` included).
    pub rejected_total: u64,
    /// Permits of the pending reservations.
    pub reserved: u64,
    /// Reservations made over the limiter's life.
    pub reserved_total: u64,
    /// Reservations cancelled before their instant.
    pub cancelled_total: u64,
    /// Reservations pending now.
    pub reservations: u32,
    /// Always zero.
    pub reserved1: u32,
}

impl VersionedStruct for rsl_window_limiter_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<WindowMetrics> for rsl_window_limiter_metrics {
    fn from(m: WindowMetrics) -> Self {
        Self {
            struct_size: 0,
            reserved0: 0,
            window_count: m.window_count,
            previous_count: m.previous_count,
            remaining: m.remaining,
            admitted_total: m.admitted_total,
            rejected_total: m.rejected_total,
            reserved: m.reserved,
            reserved_total: m.reserved_total,
            cancelled_total: m.cancelled_total,
            reservations: m.reservations,
            reserved1: 0,
        }
    }
}

/// Fills `*cfg` with the defaults (SLIDING_BUCKETS, 100 per 1 s in 10
/// buckets, every share 1000, no reservations) and sets `struct_size`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_config_init(
    cfg: *mut rsl_window_limiter_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_window_limiter_config_preset(cfg, RSL_WINDOW_LIMITER_PRESET_DEFAULT, err) }
}

/// Fills `*cfg` with a preset (`RSL_WINDOW_LIMITER_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an
/// unknown preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_config_preset(
    cfg: *mut rsl_window_limiter_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = WindowPreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = WindowLimiterConfig::preset(preset).into();
        Ok(())
    })
}

/// Creates a window limiter with an empty window (`cfg` NULL = defaults;
/// copied, not retained). `*out` receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_new(
    cfg: *const rsl_window_limiter_config,
    out: *mut *mut rsl_window_limiter,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, WindowLimiterConfig::default().into(), "cfg")?;
        Ok(WindowLimiter::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `limiter` (the same as
/// `rsl_window_limiter_release`); the last reference destroys it. NULL is a no-
/// op. Safe while other threads that hold their own references
/// (`rsl_window_limiter_retain`) are inside calls on it; the caller must not
/// use its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_window_limiter_free(limiter: *mut rsl_window_limiter) {
    super::free_handle(limiter);
}

/// Takes one more reference to `limiter` and returns it (NULL if `limiter` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_window_limiter_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_window_limiter_retain(
    limiter: *mut rsl_window_limiter,
) -> *mut rsl_window_limiter {
    super::retain_handle(limiter)
}

/// Gives back one reference to `limiter`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_window_limiter_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_window_limiter_release(limiter: *mut rsl_window_limiter) {
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
pub unsafe extern "C" fn rsl_window_limiter_set_monotonic_time(
    limiter: *const rsl_window_limiter,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(limiter, enabled, err)
}

/// Asks at `now_ns` for `n` permits for a request of `criticality`
/// (`RSL_CRITICALITY_*`; pass `RSL_CRITICALITY_DEFAULT` if unknown). A
/// denial is a result (`out->allowed == 0`, with `retry_after_ns`). A
/// `now_ns` earlier than one already seen is treated as that one.
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` (`n == 0`,
/// unknown criticality); `RSL_ERR_EXCEEDS_CAPACITY` when `n` is above
/// `limit` or above the level's ceiling (it could never be granted);
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`. On error nothing is counted.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_try_acquire_at(
    limiter: *const rsl_window_limiter,
    now_ns: i64,
    n: u32,
    criticality: rsl_criticality,
    out: *mut rsl_window_limiter_decision,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        let out = out_ref(out, "out")?;
        let level = level("criticality", criticality)?;
        *out = l.try_acquire_at(now_ns, n, level)?.into();
        Ok(())
    })
}

/// `rsl_window_limiter_try_acquire_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_try_acquire(
    limiter: *const rsl_window_limiter,
    n: u32,
    criticality: rsl_criticality,
    out: *mut rsl_window_limiter_decision,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_window_limiter_try_acquire_at(limiter, now_ns(), n, criticality, out, err) }
}

/// Timed acquisition (Resilience4j's `acquirePermission` with a timeout) at
/// `now_ns` of `n` permits for a request of `criticality`, waiting at most
/// `max_wait_ns`, into `*out` (see `rsl_window_limiter_reserve_result`):
/// GRANTED if they fit now and no reservation is pending; RESERVED if they
/// would fit at an instant within `max_wait_ns` (inclusive) behind the
/// pending reservations (FIFO; nobody overtakes a pending reservation) —
/// they are then counted at `ready_at_ns`, and the caller waits `wait_ns`
/// on its own timer and goes, or cancels; otherwise TOO_LONG or QUEUE_FULL,
/// reserving nothing (counted in `rejected_total`). `max_wait_ns == 0` is a
/// plain try-acquire. The library never waits. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out`); `RSL_ERR_INVALID_ARGUMENT`
/// (`n == 0`, unknown criticality, `max_wait_ns < 0`);
/// `RSL_ERR_EXCEEDS_CAPACITY` (`n` above `limit` or the level's ceiling);
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`. On error nothing is counted or
/// reserved and `*out` is untouched.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_reserve_at(
    limiter: *const rsl_window_limiter,
    now_ns: i64,
    n: u32,
    criticality: rsl_criticality,
    max_wait_ns: i64,
    out: *mut rsl_window_limiter_reserve_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        let out = out_ref(out, "out")?;
        let level = level("criticality", criticality)?;
        *out = l.reserve_at(now_ns, n, level, max_wait_ns)?.into();
        Ok(())
    })
}

/// `rsl_window_limiter_reserve_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_reserve(
    limiter: *const rsl_window_limiter,
    n: u32,
    criticality: rsl_criticality,
    max_wait_ns: i64,
    out: *mut rsl_window_limiter_reserve_result,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe {
        rsl_window_limiter_reserve_at(limiter, now_ns(), n, criticality, max_wait_ns, out, err)
    }
}

/// Cancels a reservation at `now_ns`: `*out_cancelled = 1` if its instant is
/// still after `now_ns` — its permits are no longer counted, and the later
/// reservations keep their instants; `0` if it is too late — the instant has
/// come, the permits were granted and stay counted. A ticket is answered
/// once: a second cancel, another limiter's ticket, 0 or any altered value
/// is `RSL_ERR_INVALID_ARGUMENT` naming `reservation` (so is a ticket
/// settled before the last `max_reservations` settled ones), nothing
/// changes and `*out_cancelled` is untouched. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out_cancelled`),
/// `RSL_ERR_INVALID_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_cancel_at(
    limiter: *const rsl_window_limiter,
    now_ns: i64,
    reservation: rsl_window_limiter_reservation,
    out_cancelled: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        let out = out_ref(out_cancelled, "out_cancelled")?;
        *out = u32::from(l.cancel_at(now_ns, WindowReservation::from_raw(reservation))?);
        Ok(())
    })
}

/// `rsl_window_limiter_cancel_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_cancel(
    limiter: *const rsl_window_limiter,
    reservation: rsl_window_limiter_reservation,
    out_cancelled: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_window_limiter_cancel_at(limiter, now_ns(), reservation, out_cancelled, err) }
}

/// A metrics snapshot at `now_ns` into `*out` (set `out->struct_size` first).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`, `RSL_ERR_POISONED`,
/// `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_get_metrics_at(
    limiter: *const rsl_window_limiter,
    now_ns: i64,
    out: *mut rsl_window_limiter_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(limiter, now_ns, err, |l, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, l.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_window_limiter_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_get_metrics(
    limiter: *const rsl_window_limiter,
    out: *mut rsl_window_limiter_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_window_limiter_get_metrics_at(limiter, now_ns(), out, err) }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_window_limiter_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_window_limiter_new` would. Set `out->struct_size` first (`rsl_window_limiter_config_init`
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
pub unsafe extern "C" fn rsl_window_limiter_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_window_limiter_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<WindowLimiterConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_window_limiter_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_window_limiter_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_config_to_json(
    cfg: *const rsl_window_limiter_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            WindowLimiterConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a window limiter from a JSON config (as `rsl_window_limiter_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_window_limiter_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_window_limiter,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: WindowLimiterConfig = super::json::read(json, json_len)?;
        Ok(WindowLimiter::new(cfg)?)
    })
}
