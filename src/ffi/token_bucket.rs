//! C ABI of the token bucket (`rsl_token_bucket_*`), over
//! `core::token_bucket` (golang.org/x/time/rate semantics, bit for bit).

use super::{
    guard, in_ref, opaque, out_ref, read_versioned, rsl_error, rsl_status, store_handle,
    with_handle, with_handle_at, FfiResult, Handle, VersionedStruct,
};
use crate::core::clock::now_ns;
use crate::core::token_bucket::{self, Reservation, TokenBucket, TokenBucketConfig};
use std::ffi::c_char;

/// A token bucket with the semantics of Go's `golang.org/x/time/rate`
/// `Limiter`: `burst` float tokens, full at the start, refilled continuously
/// at `rate_per_sec`. Create with `rsl_token_bucket_new`, destroy with
/// `rsl_token_bucket_free`. Every function may be called from any thread
/// concurrently, except `rsl_token_bucket_free`.
pub struct rsl_token_bucket(Handle<TokenBucket>);
opaque!(rsl_token_bucket, TokenBucket);

/// The infinite rate (x/time/rate's `Inf`, which is `math.MaxFloat64`, i.e.
/// `DBL_MAX`, not IEEE infinity): everything is allowed and the burst is
/// ignored.
pub const RSL_TOKEN_BUCKET_INF: f64 = 1.797_693_134_862_315_7e308;

/// The largest duration, `INT64_MAX` ns (x/time/rate's `InfDuration`): the
/// wait of a reservation that is not OK, and "any wait" for `max_wait_ns`.
pub const RSL_TOKEN_BUCKET_INF_DURATION: i64 = 9_223_372_036_854_775_807;

/// Token bucket configuration. Fill it with `rsl_token_bucket_config_init`,
/// then set `rate_per_sec` and `burst`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_token_bucket_config {
    /// `sizeof(rsl_token_bucket_config)` as the caller was compiled; set by _init.
    pub struct_size: u32,
    /// Must be zero.
    pub reserved0: u32,
    /// Tokens added per second (x/time/rate's `Limit`): a finite number >= 0,
    /// or `RSL_TOKEN_BUCKET_INF`. 0 adds none. Default 0.
    pub rate_per_sec: f64,
    /// Bucket size (x/time/rate's burst; the seeds' capacity), >= 0: the
    /// tokens at the start and the most one call can take. Default 0.
    pub burst: i64,
}

impl VersionedStruct for rsl_token_bucket_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
    // x/time/rate's zero Limiter: rate 0, burst 0, the defaults.
    const ZERO_IS_DEFAULTS: bool = true;
}

impl From<TokenBucketConfig> for rsl_token_bucket_config {
    fn from(c: TokenBucketConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            reserved0: 0,
            rate_per_sec: c.rate_per_sec,
            burst: c.burst,
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_token_bucket_config) -> FfiResult<TokenBucketConfig> {
    if c.reserved0 != 0 {
        return Err(super::Failure::new(
            super::RSL_ERR_INVALID_CONFIG,
            format!("reserved0: must be 0, got {}", c.reserved0),
        ));
    }
    let cfg = TokenBucketConfig {
        rate_per_sec: c.rate_per_sec,
        burst: c.burst,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// A reservation: a plain value the caller keeps (no pointers). Pass it to
/// `rsl_token_bucket_cancel_at` if the reserved action will not happen.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_token_bucket_reservation {
    /// 1 if the tokens were granted within the maximum wait, else 0 (then
    /// nothing changed in the bucket and cancelling does nothing).
    pub ok: u32,
    /// 0; set to 1 by `rsl_token_bucket_cancel_at`, after which cancelling
    /// it again does nothing.
    pub cancelled: u32,
    /// Tokens reserved (0 when not OK).
    pub tokens: i64,
    /// When the caller may act (INT64_MIN when not OK).
    pub time_to_act_ns: i64,
    /// How long to wait from the reservation's `now_ns` (0 = act now;
    /// `RSL_TOKEN_BUCKET_INF_DURATION` when not OK).
    pub wait_ns: i64,
    /// The limit in force at the reservation, used by cancel (0 when the
    /// limit was `RSL_TOKEN_BUCKET_INF`, as upstream).
    pub limit: f64,
    /// The bucket that made it; cancelling on another one is an error.
    pub bucket_id: u64,
}

impl rsl_token_bucket_reservation {
    fn from_core(r: &Reservation, now: i64) -> Self {
        Self {
            ok: u32::from(r.ok),
            cancelled: u32::from(r.cancelled),
            tokens: r.tokens,
            time_to_act_ns: r.time_to_act_ns,
            wait_ns: r.delay_from(now),
            limit: r.limit,
            bucket_id: r.bucket_id,
        }
    }

    fn to_core(self) -> Reservation {
        Reservation {
            ok: self.ok != 0,
            tokens: self.tokens,
            time_to_act_ns: self.time_to_act_ns,
            limit: self.limit,
            bucket_id: self.bucket_id,
            cancelled: self.cancelled != 0,
        }
    }
}

/// Fills `*cfg` with the defaults and sets struct_size. The defaults are
/// x/time/rate's zero `Limiter` (rate 0, burst 0), which rejects everything:
/// set `rate_per_sec` and `burst`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_config_init(
    cfg: *mut rsl_token_bucket_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        *out = TokenBucketConfig::default().into();
        Ok(())
    })
}

/// Creates a full token bucket (`cfg` NULL = the defaults; copied). `*out`
/// receives the owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field:
/// `rate_per_sec` NaN, IEEE infinite or negative; `burst` negative).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_new(
    cfg: *const rsl_token_bucket_config,
    out: *mut *mut rsl_token_bucket,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, TokenBucketConfig::default().into(), "cfg")?;
        Ok(TokenBucket::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `bucket` (the same as
/// `rsl_token_bucket_release`); the last reference destroys it. NULL is a no-
/// op. Safe while other threads that hold their own references
/// (`rsl_token_bucket_retain`) are inside calls on it; the caller must not use
/// its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_token_bucket_free(bucket: *mut rsl_token_bucket) {
    super::free_handle(bucket);
}

/// Takes one more reference to `bucket` and returns it (NULL if `bucket` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_token_bucket_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_token_bucket_retain(
    bucket: *mut rsl_token_bucket,
) -> *mut rsl_token_bucket {
    super::retain_handle(bucket)
}

/// Gives back one reference to `bucket`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_token_bucket_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_token_bucket_release(bucket: *mut rsl_token_bucket) {
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
pub unsafe extern "C" fn rsl_token_bucket_set_monotonic_time(
    bucket: *const rsl_token_bucket,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(bucket, enabled, err)
}

/// Whether `n` tokens may be taken at `now_ns` (x/time/rate's `AllowN`): if
/// so they are taken and `*allowed` is 1, else nothing changes and it is 0.
/// A refusal is a decision: `n` above the burst is simply 0.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT` (`n` < 0),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_allow_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    n: i64,
    allowed: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(allowed, "allowed")?;
        *out = u32::from(b.allow_at(now_ns, n)?);
        Ok(())
    })
}

/// `rsl_token_bucket_allow_at` on the library clock, read after the call
/// has its snapshot of the bucket (and again if it must retry), so that
/// concurrent callers' times reach the bucket in order and none is credited
/// twice.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_allow(
    bucket: *const rsl_token_bucket,
    n: i64,
    allowed: *mut u32,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(allowed, "allowed")?;
        *out = u32::from(b.allow_now(now_ns, n)?);
        Ok(())
    })
}

/// Reserves `n` tokens at `now_ns` (x/time/rate's `reserveN`): granted
/// (`out->ok` = 1) when the wait until enough tokens exist is at most
/// `max_wait_ns` (`RSL_TOKEN_BUCKET_INF_DURATION` = any wait, as `ReserveN`;
/// 0 = none, as `AllowN`; negative = not even zero). The tokens may go
/// negative. A reservation that is not OK changes nothing. Sleep
/// `out->wait_ns`, then act; or call `rsl_token_bucket_cancel_at`.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT` (`n` < 0),
/// `RSL_ERR_EXCEEDS_CAPACITY` when `n` > burst and the rate is not
/// `RSL_TOKEN_BUCKET_INF` (no wait can grant it; `*out` is then a not-OK
/// reservation), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_reserve_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    n: i64,
    max_wait_ns: i64,
    out: *mut rsl_token_bucket_reservation,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(out, "out")?;
        reserve(b, out, now_ns, |b| b.reserve_at(now_ns, n, max_wait_ns))
    })
}

fn reserve(
    b: &TokenBucket,
    out: &mut rsl_token_bucket_reservation,
    now: i64,
    f: impl FnOnce(&TokenBucket) -> crate::core::error::Result<Reservation>,
) -> FfiResult {
    match f(b) {
        Ok(r) => {
            *out = rsl_token_bucket_reservation::from_core(&r, now);
            Ok(())
        }
        Err(e) => {
            *out = rsl_token_bucket_reservation {
                ok: 0,
                cancelled: 0,
                tokens: 0,
                time_to_act_ns: i64::MIN,
                wait_ns: token_bucket::INF_DURATION,
                limit: b.limit(),
                bucket_id: b.id(),
            };
            Err(e.into())
        }
    }
}

/// `rsl_token_bucket_reserve_at` on the library clock, read as for
/// `rsl_token_bucket_allow`; `out->wait_ns` counts from that reading.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_reserve(
    bucket: *const rsl_token_bucket,
    n: i64,
    max_wait_ns: i64,
    out: *mut rsl_token_bucket_reservation,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(out, "out")?;
        let mut at = 0;
        let clock = || {
            at = now_ns();
            at
        };
        match b.reserve_now(clock, n, max_wait_ns) {
            Ok(r) => {
                *out = rsl_token_bucket_reservation::from_core(&r, at);
                Ok(())
            }
            Err(e) => reserve(b, out, at, |_| Err(e)),
        }
    })
}

/// Cancels a reservation at `now_ns` (x/time/rate's `CancelAt`): gives back
/// its tokens, minus those that reservations made after it already count on,
/// unless it is not OK, the rate is `RSL_TOKEN_BUCKET_INF`, it reserved 0
/// tokens, or its `time_to_act_ns` is before `now_ns` (at exactly that time
/// it still counts). Sets `reservation->cancelled`, so a second cancel does
/// nothing (upstream would give the tokens back again).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_INVALID_ARGUMENT`
/// (`reservation` made by another bucket, or its `limit`/`tokens` corrupt),
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_cancel_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    reservation: *mut rsl_token_bucket_reservation,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let r = out_ref(reservation, "reservation")?;
        let mut core = r.to_core();
        b.cancel_at(now_ns, &mut core)?;
        r.cancelled = u32::from(core.cancelled);
        Ok(())
    })
}

/// `rsl_token_bucket_cancel_at` on the library clock, read as for
/// `rsl_token_bucket_allow`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_cancel(
    bucket: *const rsl_token_bucket,
    reservation: *mut rsl_token_bucket_reservation,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let r = out_ref(reservation, "reservation")?;
        let mut core = r.to_core();
        b.cancel_now(now_ns, &mut core)?;
        r.cancelled = u32::from(core.cancelled);
        Ok(())
    })
}

/// The tokens available at `now_ns` into `*tokens` (x/time/rate's
/// `TokensAt`; negative while reservations are outstanding). Changes nothing.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_tokens_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    tokens: *mut f64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        let out = out_ref(tokens, "tokens")?;
        *out = b.tokens_at(now_ns);
        Ok(())
    })
}

/// `rsl_token_bucket_tokens_at` on the library clock.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_tokens(
    bucket: *const rsl_token_bucket,
    tokens: *mut f64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(tokens, "tokens")?;
        *out = b.tokens_now(now_ns);
        Ok(())
    })
}

/// Sets the rate at `now_ns` (x/time/rate's `SetLimitAt`): the tokens are
/// first brought up to `now_ns` at the old rate. Outstanding reservations
/// keep the rate they were made under.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`limit` NaN, IEEE infinite or
/// negative), `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_set_limit_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    limit: f64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        Ok(b.set_limit_at(now_ns, limit)?)
    })
}

/// `rsl_token_bucket_set_limit_at` on the library clock, read as for
/// `rsl_token_bucket_allow`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_set_limit(
    bucket: *const rsl_token_bucket,
    limit: f64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| Ok(b.set_limit_now(now_ns, limit)?))
}

/// Sets the burst at `now_ns` (x/time/rate's `SetBurstAt`): the tokens are
/// first brought up to `now_ns` under the old burst; a lower burst caps them
/// from the next computation on.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (`burst` < 0), `RSL_ERR_NULL_ARGUMENT`,
/// `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_set_burst_at(
    bucket: *const rsl_token_bucket,
    now_ns: i64,
    burst: i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(bucket, now_ns, err, |b, now_ns| {
        Ok(b.set_burst_at(now_ns, burst)?)
    })
}

/// `rsl_token_bucket_set_burst_at` on the library clock, read as for
/// `rsl_token_bucket_allow`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_set_burst(
    bucket: *const rsl_token_bucket,
    burst: i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| Ok(b.set_burst_now(now_ns, burst)?))
}

/// The current rate into `*limit` (x/time/rate's `Limit()`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_get_limit(
    bucket: *const rsl_token_bucket,
    limit: *mut f64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(limit, "limit")?;
        *out = b.limit();
        Ok(())
    })
}

/// The current burst into `*burst` (x/time/rate's `Burst()`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_get_burst(
    bucket: *const rsl_token_bucket,
    burst: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle(bucket, err, |b| {
        let out = out_ref(burst, "burst")?;
        *out = b.burst();
        Ok(())
    })
}

/// How long after `now_ns` the holder of `reservation` must wait into
/// `*wait_ns` (x/time/rate's `DelayFrom`): 0 = act now,
/// `RSL_TOKEN_BUCKET_INF_DURATION` if it is not OK. Pure; thread-safe.
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_reservation_delay_at(
    reservation: *const rsl_token_bucket_reservation,
    now_ns: i64,
    wait_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let r = in_ref(reservation, "reservation")?;
        let out = out_ref(wait_ns, "wait_ns")?;
        *out = r.to_core().delay_from(now_ns);
        Ok(())
    })
}

/// `rsl_token_bucket_reservation_delay_at` from the library clock.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_reservation_delay(
    reservation: *const rsl_token_bucket_reservation,
    wait_ns: *mut i64,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_token_bucket_reservation_delay_at(reservation, now_ns(), wait_ns, err) }
}

/// The rate of one token per `interval_ns` (x/time/rate's `Every`:
/// `1 / interval.Seconds()`, so every binding gets the same double);
/// `RSL_TOKEN_BUCKET_INF` when `interval_ns` <= 0. Pure; thread-safe.
#[no_mangle]
pub extern "C" fn rsl_token_bucket_every(interval_ns: i64) -> f64 {
    token_bucket::every(interval_ns)
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_token_bucket_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_token_bucket_new` would. Set `out->struct_size` first (`rsl_token_bucket_config_init`
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
pub unsafe extern "C" fn rsl_token_bucket_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_token_bucket_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<TokenBucketConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_token_bucket_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_token_bucket_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_config_to_json(
    cfg: *const rsl_token_bucket_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            TokenBucketConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a token bucket from a JSON config (as `rsl_token_bucket_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_token_bucket_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_token_bucket,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: TokenBucketConfig = super::json::read(json, json_len)?;
        Ok(TokenBucket::new(cfg)?)
    })
}
