//! C ABI of the bulkhead (`rsl_bulkhead_*`), over `core::bulkhead`.

use super::{
    flag, guard, opaque, out_ref, read_versioned, rsl_error, rsl_status, store_handle, with_handle,
    with_handle_at, write_versioned, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::bulkhead::{
    Bulkhead, Cancel, Config, Entry, Exit, Handover, Metrics, Permit, Preset, Waiter,
};
use crate::core::clock::now_ns;
use std::ffi::c_char;

/// A bulkhead: caps how many calls run at once, with a FIFO wait queue
/// decided in the library (`rsl_bulkhead_enqueue_at`, hand-over in
/// `rsl_bulkhead_exit_at`, `rsl_bulkhead_cancel_wait`). Create with
/// `rsl_bulkhead_new`; reference counted (`rsl_bulkhead_retain`,
/// `rsl_bulkhead_release` = `rsl_bulkhead_free`). Every function may be
/// called from any thread concurrently.
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
    /// The queue's order, always FIFO with hand-off (a freed slot goes to
    /// the oldest waiter; nobody overtakes a waiter): 1, or 0 only without a
    /// queue (`max_waiters == 0`, as in the Hystrix preset; 0 with a queue
    /// is `RSL_ERR_INVALID_CONFIG` naming `fair`). Default 1.
    pub fair: u32,
    /// Waiters that may be queued at once, 0..=65536: tickets from
    /// `rsl_bulkhead_enqueue_at` and threads blocked in
    /// `rsl_bulkhead_enter_wait`, one queue. 0 = no queue (fail fast).
    /// Default 0.
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

/// An admitted call's permit: one opaque 64-bit value, never 0. Pass it,
/// unchanged, to `rsl_bulkhead_exit_at` exactly once. Copy it freely (it is
/// a plain integer, e.g. a `long` in Java, an `int` in Python); only one
/// exit of it is ever accepted: a second exit, a stale copy, another
/// bulkhead's permit or any other value is `RSL_ERR_INVALID_ARGUMENT`
/// naming `permit`, and releases nothing. 0 means "no permit".
pub type rsl_bulkhead_permit = u64;

/// A queued waiter's ticket: one opaque 64-bit value, never 0. An exit that
/// hands this waiter a slot names it (`rsl_bulkhead_exit_result.waiter`);
/// `rsl_bulkhead_cancel_wait` removes it. Settled once: any later cancel is
/// `RSL_ERR_INVALID_ARGUMENT` naming `waiter`. 0 means "no ticket".
pub type rsl_bulkhead_waiter = u64;

/// `rsl_bulkhead_entry.outcome`: a slot was free and nobody was queued;
/// `permit` is set: run the call, then exit the permit.
pub const RSL_BULKHEAD_ENTERED: u32 = 1;
/// `rsl_bulkhead_entry.outcome`: queued; `waiter` and `position` are set.
/// An exit will hand this waiter a slot (`RSL_BULKHEAD_HANDED_WAITER`), or
/// the caller cancels it with `rsl_bulkhead_cancel_wait`.
pub const RSL_BULKHEAD_QUEUED: u32 = 2;
/// `rsl_bulkhead_entry.outcome`: no slot, and the queue is full (or there
/// is none, `max_waiters == 0`): run the fallback.
pub const RSL_BULKHEAD_FULL: u32 = 3;

/// `rsl_bulkhead_exit_result.handed_to`: nobody was queued; the slot is
/// free again.
pub const RSL_BULKHEAD_HANDED_NONE: u32 = 0;
/// `rsl_bulkhead_exit_result.handed_to`: the slot went to the oldest waiter,
/// a ticket holder (`waiter`), whose new permit is `permit`: complete that
/// waiter's future / channel / Task with it.
pub const RSL_BULKHEAD_HANDED_WAITER: u32 = 1;
/// `rsl_bulkhead_exit_result.handed_to`: the slot went to the oldest waiter,
/// a thread blocked in `rsl_bulkhead_enter_wait`, which has been woken with
/// its permit; nothing to do.
pub const RSL_BULKHEAD_HANDED_THREAD: u32 = 2;

/// The answer to `rsl_bulkhead_enqueue_at`. Frozen layout: this struct never
/// changes; a future change would be a new struct and a new
/// `RSL_ABI_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_bulkhead_entry {
    /// `RSL_BULKHEAD_ENTERED`, `RSL_BULKHEAD_QUEUED` or `RSL_BULKHEAD_FULL`.
    pub outcome: u32,
    /// QUEUED: the waiter's place when it joined, 1 = the next served; else 0.
    pub position: u32,
    /// ENTERED: the permit; else 0.
    pub permit: rsl_bulkhead_permit,
    /// QUEUED: the waiter's ticket; else 0.
    pub waiter: rsl_bulkhead_waiter,
}

impl From<Entry> for rsl_bulkhead_entry {
    fn from(e: Entry) -> Self {
        match e {
            Entry::Entered(p) => Self {
                outcome: RSL_BULKHEAD_ENTERED,
                permit: p.raw(),
                ..Self::default()
            },
            Entry::Queued { waiter, position } => Self {
                outcome: RSL_BULKHEAD_QUEUED,
                position,
                waiter: waiter.raw(),
                ..Self::default()
            },
            Entry::Full => Self {
                outcome: RSL_BULKHEAD_FULL,
                ..Self::default()
            },
        }
    }
}

/// The answer to `rsl_bulkhead_exit_at`. Frozen layout: this struct never
/// changes; a future change would be a new struct and a new
/// `RSL_ABI_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_bulkhead_exit_result {
    /// How long the exited permit was held (never negative).
    pub held_ns: i64,
    /// Where the slot went: `RSL_BULKHEAD_HANDED_NONE`, `_WAITER` or
    /// `_THREAD`.
    pub handed_to: u32,
    /// Always zero.
    pub reserved0: u32,
    /// HANDED_WAITER: the ticket of the waiter that now holds the slot; else 0.
    pub waiter: rsl_bulkhead_waiter,
    /// HANDED_WAITER: that waiter's permit (timed from this exit's `now_ns`);
    /// else 0. Whoever completes the waiter's future passes it on; if the
    /// waiter already gave up, its too-late cancel returns this same permit
    /// to it, and the completer drops it (see docs/semantics.md, "How a
    /// binding waits").
    pub permit: rsl_bulkhead_permit,
}

impl From<Exit> for rsl_bulkhead_exit_result {
    fn from(x: Exit) -> Self {
        let (handed_to, waiter, permit) = match x.handover {
            Handover::None => (RSL_BULKHEAD_HANDED_NONE, 0, 0),
            Handover::Waiter { waiter, permit } => {
                (RSL_BULKHEAD_HANDED_WAITER, waiter.raw(), permit.raw())
            }
            Handover::Thread => (RSL_BULKHEAD_HANDED_THREAD, 0, 0),
        };
        Self {
            held_ns: x.held_ns,
            handed_to,
            reserved0: 0,
            waiter,
            permit,
        }
    }
}

/// The answer to `rsl_bulkhead_cancel_wait`. Frozen layout: this struct
/// never changes; a future change would be a new struct and a new
/// `RSL_ABI_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_bulkhead_cancel_result {
    /// 1: the waiter was still queued and has left; it holds nothing.
    /// 0: too late — an exit had already handed it a slot: see `permit`.
    pub cancelled: u32,
    /// Always zero.
    pub reserved0: u32,
    /// Too late: the permit the exit handed the waiter (the value that
    /// exit's result named). The caller now owns it and must exit it (or run
    /// the call with it). 0 when cancelled.
    pub permit: rsl_bulkhead_permit,
}

impl From<Cancel> for rsl_bulkhead_cancel_result {
    fn from(c: Cancel) -> Self {
        match c {
            Cancel::Removed => Self {
                cancelled: 1,
                ..Self::default()
            },
            Cancel::TooLate(p) => Self {
                cancelled: 0,
                reserved0: 0,
                permit: p.raw(),
            },
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
    /// Waiters queued now (tickets and blocked threads).
    pub waiting: u32,
    /// Permits issued over the bulkhead's life (slots handed over included).
    pub entered_total: u64,
    /// Permits returned over its life.
    pub exited_total: u64,
    /// Entries refused without waiting: no slot, and no room in the queue
    /// (or no queue).
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
    /// Waiters ever queued.
    pub queued_total: u64,
    /// Slots an exit handed to a waiter.
    pub handed_over_total: u64,
    /// Waiters that left the queue without a slot (a cancel that removed,
    /// an `rsl_bulkhead_enter_wait` timeout). Always `queued_total =
    /// handed_over_total + cancelled_total + waiting`.
    pub cancelled_total: u64,
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
            queued_total: m.queued_total,
            handed_over_total: m.handed_over_total,
            cancelled_total: m.cancelled_total,
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
/// untouched. It allocates `max_concurrent` slots of 64 bytes, and with a
/// queue 8 bytes per possible waiter (`max_waiters + max_concurrent`); the
/// waiter records (about 40 bytes each) are allocated as waiters arrive.
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
/// pointer afterwards. Permits and tickets still out become meaningless.
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

/// Tries to enter at `now_ns` without waiting: `*out_permit` is the permit
/// to pass to `rsl_bulkhead_exit_at` when the call is done, or 0 at once
/// when no slot is free or anyone is queued (fail fast: run the fallback; a
/// queued waiter is never overtaken). Full is a result, not an error.
/// Lock-free. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out_permit`; nothing entered),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_try_enter_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    out_permit: *mut rsl_bulkhead_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        let out = out_ref(out_permit, "out_permit")?;
        *out = b.try_enter_at(now_ns).map_or(0, Permit::raw);
        Ok(())
    })
}

/// `rsl_bulkhead_try_enter_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_try_enter(
    bulkhead: *const rsl_bulkhead,
    out_permit: *mut rsl_bulkhead_permit,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_try_enter_at(bulkhead, now_ns(), out_permit, err) }
}

/// Enters at `now_ns`, or joins the bulkhead's FIFO queue **without
/// blocking**, or says full, into `*out` (see `rsl_bulkhead_entry`):
/// ENTERED with a permit (a slot was free and nobody queued), QUEUED with a
/// waiter ticket and its position, or FULL (no slot, and `max_waiters`
/// already queued, or `max_waiters == 0`). A queued waiter waits in the
/// caller's idiom — a Go channel with a timer and a context, a
/// `CompletableFuture`, a `Task`, an asyncio future — until an exit hands it
/// a slot (`RSL_BULKHEAD_HANDED_WAITER` names its ticket, with its permit)
/// or its own timer fires and it calls `rsl_bulkhead_cancel_wait`; the
/// library never waits. Lock-free when a slot is free; a short internal
/// lock when queueing. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out`; nothing entered or queued),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_enqueue_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    out: *mut rsl_bulkhead_entry,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.enqueue_at(now_ns).into();
        Ok(())
    })
}

/// `rsl_bulkhead_enqueue_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_enqueue(
    bulkhead: *const rsl_bulkhead,
    out: *mut rsl_bulkhead_entry,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_enqueue_at(bulkhead, now_ns(), out, err) }
}

/// Enters, **blocking the calling thread** up to `timeout_ns` for a slot:
/// the only call of the library that blocks (a condition variable per
/// waiter; no spinning), for thread-per-request C callers. Bindings with
/// their own scheduler use `rsl_bulkhead_enqueue_at` instead. It joins the
/// same FIFO queue as tickets (one order for both) and is handed a slot the
/// same way. `*out_permit` is the permit, or 0: no slot in time (then it
/// left the queue: `cancelled_total`), `timeout_ns == 0`, `max_waiters ==
/// 0`, or the queue full. `timeout_ns` beyond what the clock can represent
/// (e.g. INT64_MAX) waits without limit. It has no `_at` twin: the wait is
/// real time (the library clock), which no virtual `now_ns` can shorten;
/// virtual-time callers use `rsl_bulkhead_enqueue_at`. Thread-safe (the
/// caller's reference keeps the handle alive while it waits).
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`timeout_ns < 0`),
/// `RSL_ERR_NULL_ARGUMENT` (`out_permit`), `RSL_ERR_POISONED`,
/// `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_enter_wait(
    bulkhead: *const rsl_bulkhead,
    timeout_ns: i64,
    out_permit: *mut rsl_bulkhead_permit,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bulkhead, err, |b| {
        let out = out_ref(out_permit, "out_permit")?;
        *out = b.enter_wait(timeout_ns)?.map_or(0, Permit::raw);
        Ok(())
    })
}

/// Returns `permit` at `now_ns` into `*out` (required: a slot handed to a
/// waiter must not be lost): `held_ns`, and where the slot went — free again
/// (`RSL_BULKHEAD_HANDED_NONE`), to the oldest waiter, a ticket
/// (`RSL_BULKHEAD_HANDED_WAITER`: complete that `waiter`'s future with
/// `permit`), or to a blocked thread (`RSL_BULKHEAD_HANDED_THREAD`, already
/// woken). A permit is accepted exactly once: exiting it again, a stale
/// copy, another bulkhead's permit, a waiter ticket, 0 or any altered value
/// is `RSL_ERR_INVALID_ARGUMENT` naming `permit`, nothing is released and
/// `*out` is untouched. Lock-free unless callers are queued. Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out`; nothing released),
/// `RSL_ERR_INVALID_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_exit_at(
    bulkhead: *const rsl_bulkhead,
    now_ns: i64,
    permit: rsl_bulkhead_permit,
    out: *mut rsl_bulkhead_exit_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bulkhead, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        *out = b.exit_at(now_ns, Permit::from_raw(permit))?.into();
        Ok(())
    })
}

/// `rsl_bulkhead_exit_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_exit(
    bulkhead: *const rsl_bulkhead,
    permit: rsl_bulkhead_permit,
    out: *mut rsl_bulkhead_exit_result,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_bulkhead_exit_at(bulkhead, now_ns(), permit, out, err) }
}

/// Removes a queued waiter — its timeout fired, or its caller gave up (the
/// waiter's timeout is the caller's timer) — into `*out` (required):
/// `cancelled = 1`, it has left the queue and holds nothing; or
/// `cancelled = 0`, too late: an exit had already handed it a slot, and
/// `permit` is that slot's permit, which the caller now owns and must exit.
/// Cancelling the head or a waiter in the middle keeps the others' order.
/// A ticket is settled once: cancelling it again, after its permit was
/// exited, another bulkhead's ticket, a permit, 0 or any altered value is
/// `RSL_ERR_INVALID_ARGUMENT` naming `waiter`, nothing changes and `*out`
/// is untouched. Takes no time argument: nothing in it depends on the time.
/// Thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out`), `RSL_ERR_INVALID_ARGUMENT`,
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_bulkhead_cancel_wait(
    bulkhead: *const rsl_bulkhead,
    waiter: rsl_bulkhead_waiter,
    out: *mut rsl_bulkhead_cancel_result,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bulkhead, err, |b| {
        let out = out_ref(out, "out")?;
        *out = b.cancel_wait(Waiter::from_raw(waiter))?.into();
        Ok(())
    })
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
