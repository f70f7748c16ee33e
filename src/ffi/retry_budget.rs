//! C ABI of the retry budgets (`rsl_retry_budget_*`), over `core::retry_budget`.

use super::{enum_field, reserved_zero, rsl_error, with_handle_at};
use super::{
    guard, in_ref, opaque, out_ref, read_versioned, rsl_outcome, rsl_status, store_handle,
    write_versioned, Failure, FfiResult, Handle, VersionedStruct,
};
use crate::core::clock::now_ns;
use crate::core::retry::RetryOutcome;
use crate::core::retry_budget::{
    BudgetConfig, BudgetKind, BudgetMetrics, BudgetPreset, BudgetTicket, RetryBudget,
};
use std::ffi::c_char;

/// A retry budget shared by many operations. Create with
/// `rsl_retry_budget_new`, destroy with `rsl_retry_budget_free`. Every
/// function may be called from any thread concurrently, except _free.
pub struct rsl_retry_budget(Handle<RetryBudget>);
opaque!(rsl_retry_budget, RetryBudget);

/// Kind: retries <= ratio × requests + min_per_sec × window, over a rolling
/// window (tower TpsBudget, Finagle, the SRE book).
pub const RSL_RETRY_BUDGET_RATIO: u32 = 1;
/// Kind: gRPC retry throttling (gRFC A6 `retryThrottling`).
pub const RSL_RETRY_BUDGET_TOKENS: u32 = 2;
/// Kind: AWS SDK standard-mode retry quota.
pub const RSL_RETRY_BUDGET_QUOTA: u32 = 3;

/// Preset: tower `TpsBudget::default()` / Finagle: 20 %, 10 retries/s, 10 s. The default.
pub const RSL_RETRY_BUDGET_PRESET_TOWER: u32 = 0;
/// Preset: the SRE book's per-client budget: 10 %, no floor, 10 s.
pub const RSL_RETRY_BUDGET_PRESET_SRE: u32 = 1;
/// Preset: Envoy retry_budget numbers (20 %, minimum 3) as a ratio budget.
pub const RSL_RETRY_BUDGET_PRESET_ENVOY: u32 = 2;
/// Preset: failsafe-go budget numbers (0.2, minimum 3) as a ratio budget.
pub const RSL_RETRY_BUDGET_PRESET_FAILSAFE_GO: u32 = 3;
/// Preset: gRPC retryThrottling, A6 example (maxTokens 10, tokenRatio 0.1).
pub const RSL_RETRY_BUDGET_PRESET_GRPC: u32 = 4;
/// Preset: AWS standard mode (500 tokens, cost 5, timeout cost 10, +1).
pub const RSL_RETRY_BUDGET_PRESET_AWS_STANDARD: u32 = 5;

/// Flag of `_try_withdraw` and `rsl_retry_next`: the failed attempt timed
/// out (the AWS quota charges `timeout_cost`).
pub const RSL_RETRY_FLAG_TIMEOUT: u32 = 1;

/// Ticket kind: none (an empty ticket; recording it does nothing).
pub const RSL_RETRY_TICKET_NONE: u32 = 0;
/// Ticket kind: an original request (from a deposit).
pub const RSL_RETRY_TICKET_ORIGINAL: u32 = 1;
/// Ticket kind: a retry (from a granted withdrawal).
pub const RSL_RETRY_TICKET_RETRY: u32 = 2;

/// Retry budget configuration; fill it with `rsl_retry_budget_config_init`
/// or `_config_preset`. Fields other kinds use are ignored.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rsl_retry_budget_config {
    /// `sizeof(rsl_retry_budget_config)`; set by _init.
    pub struct_size: u32,
    /// `RSL_RETRY_BUDGET_*` kind. Default RATIO.
    pub kind: u32,
    /// RATIO: retries allowed per original request, in [0, 1000], read to 6
    /// decimals. Default 0.2.
    pub ratio: f64,
    /// RATIO: window length, > 0, a multiple of `buckets`. Default 10 s.
    pub window_ns: i64,
    /// RATIO: buckets in the window, 1..=65536. Default 10.
    pub buckets: u32,
    /// RATIO: retries per second always allowed (× the window). Default 10.
    pub min_per_sec: u32,
    /// TOKENS: gRPC maxTokens, 1..=1000. Default 10.
    pub max_tokens: u32,
    /// QUOTA: bucket size (and initial content), >= 1. Default 500.
    pub quota_capacity: u32,
    /// TOKENS: gRPC tokenRatio, > 0; decimals beyond 3 are dropped (A6), so
    /// >= 0.001. Default 0.1.
    pub token_ratio: f64,
    /// QUOTA: tokens a retry costs, 1..=quota_capacity. Default 5.
    pub retry_cost: u32,
    /// QUOTA: tokens a retry after a timeout costs, 1..=quota_capacity. Default 10.
    pub timeout_cost: u32,
    /// QUOTA: tokens a successful first attempt adds, 0..=quota_capacity. Default 1.
    pub success_increment: u32,
    /// Always zero.
    pub reserved0: u32,
}

impl VersionedStruct for rsl_retry_budget_config {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<BudgetConfig> for rsl_retry_budget_config {
    fn from(c: BudgetConfig) -> Self {
        let mut out = Self {
            struct_size: 0,
            kind: c.kind as u32,
            ratio: c.ratio,
            window_ns: c.window_ns,
            buckets: c.buckets,
            min_per_sec: c.min_per_sec,
            max_tokens: c.max_tokens,
            quota_capacity: c.quota_capacity,
            token_ratio: c.token_ratio,
            retry_cost: c.retry_cost,
            timeout_cost: c.timeout_cost,
            success_increment: c.success_increment,
            reserved0: 0,
        };
        out.stamp();
        out
    }
}

fn to_core(c: &rsl_retry_budget_config) -> FfiResult<BudgetConfig> {
    let kind = enum_field("kind", c.kind, BudgetKind::from_raw)?;
    reserved_zero("reserved0", c.reserved0)?;
    let cfg = BudgetConfig {
        kind,
        ratio: c.ratio,
        window_ns: c.window_ns,
        buckets: c.buckets,
        min_per_sec: c.min_per_sec,
        max_tokens: c.max_tokens,
        token_ratio: c.token_ratio,
        quota_capacity: c.quota_capacity,
        retry_cost: c.retry_cost,
        timeout_cost: c.timeout_cost,
        success_increment: c.success_increment,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Handed back by a deposit or a granted withdrawal; pass it to
/// `rsl_retry_budget_record_at` when that attempt finishes. Plain data, owned
/// by the caller.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_retry_budget_ticket {
    /// When it was issued.
    pub at_ns: i64,
    /// QUOTA: tokens taken (0 otherwise).
    pub cost: u32,
    /// `RSL_RETRY_TICKET_*`.
    pub kind: u32,
}

impl From<BudgetTicket> for rsl_retry_budget_ticket {
    fn from(t: BudgetTicket) -> Self {
        Self {
            at_ns: t.at_ns,
            cost: t.cost,
            kind: if t.retry {
                RSL_RETRY_TICKET_RETRY
            } else {
                RSL_RETRY_TICKET_ORIGINAL
            },
        }
    }
}

/// The core ticket of a C ticket; `None` for an empty one.
pub(crate) fn ticket_from_c(t: &rsl_retry_budget_ticket) -> FfiResult<Option<BudgetTicket>> {
    let retry = match t.kind {
        RSL_RETRY_TICKET_NONE => return Ok(None),
        RSL_RETRY_TICKET_ORIGINAL => false,
        RSL_RETRY_TICKET_RETRY => true,
        k => {
            return Err(Failure::argument(
                "ticket",
                format!("unknown ticket kind {k}"),
            ))
        }
    };
    Ok(Some(BudgetTicket {
        at_ns: t.at_ns,
        cost: t.cost,
        retry,
    }))
}

/// The C ticket of a core ticket; empty for `None`.
pub(crate) fn ticket_to_c(t: Option<BudgetTicket>) -> rsl_retry_budget_ticket {
    t.map_or_else(rsl_retry_budget_ticket::default, Into::into)
}

/// A metrics snapshot; set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_retry_budget_metrics {
    /// Set by the caller to `sizeof(rsl_retry_budget_metrics)`.
    pub struct_size: u32,
    /// Always zero.
    pub reserved0: u32,
    /// RATIO: original requests in the window (0 for other kinds).
    pub requests: u64,
    /// RATIO: retries granted in the window (0 for other kinds).
    pub retries: u64,
    /// RATIO: retries a withdrawal could still take now; TOKENS: 1 if a
    /// retry would be allowed, else 0; QUOTA: retries of `retry_cost` left.
    pub available: u64,
    /// TOKENS: the token count in milli-tokens; QUOTA: tokens in the bucket.
    pub tokens: u64,
    /// Deposits over the budget's life.
    pub deposits_total: u64,
    /// Withdrawals granted over its life.
    pub granted_total: u64,
    /// Withdrawals denied over its life.
    pub denied_total: u64,
}

impl VersionedStruct for rsl_retry_budget_metrics {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<BudgetMetrics> for rsl_retry_budget_metrics {
    fn from(m: BudgetMetrics) -> Self {
        Self {
            struct_size: 0,
            reserved0: 0,
            requests: m.requests,
            retries: m.retries,
            available: m.available,
            tokens: m.tokens,
            deposits_total: m.deposits_total,
            granted_total: m.granted_total,
            denied_total: m.denied_total,
        }
    }
}

/// Parses a retry outcome (`RSL_OUTCOME_SUCCESS` … `_OVERLOADED`).
pub(crate) fn retry_outcome(raw: rsl_outcome) -> FfiResult<RetryOutcome> {
    RetryOutcome::from_raw(raw).ok_or_else(|| {
        Failure::argument(
            "outcome",
            format!("must be RSL_OUTCOME_SUCCESS, _FAILURE, _IGNORED or _OVERLOADED, got {raw}"),
        )
    })
}

/// Checks the flags of a retry call (only `RSL_RETRY_FLAG_TIMEOUT` is known).
pub(crate) fn timeout_flag(flags: u32) -> FfiResult<bool> {
    if flags & !RSL_RETRY_FLAG_TIMEOUT != 0 {
        return Err(Failure::argument(
            "flags",
            format!("unknown bits in {flags:#x}"),
        ));
    }
    Ok(flags & RSL_RETRY_FLAG_TIMEOUT != 0)
}

/// Fills `*cfg` with the defaults (`RSL_RETRY_BUDGET_PRESET_TOWER`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_config_init(
    cfg: *mut rsl_retry_budget_config,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_budget_config_preset(cfg, RSL_RETRY_BUDGET_PRESET_TOWER, err) }
}

/// Fills `*cfg` with a preset (`RSL_RETRY_BUDGET_PRESET_*`).
/// Errors: `RSL_ERR_NULL_ARGUMENT`; `RSL_ERR_INVALID_ARGUMENT` for an unknown
/// preset (then `*cfg` is untouched).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_config_preset(
    cfg: *mut rsl_retry_budget_config,
    preset: u32,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(cfg, "cfg")?;
        let preset = BudgetPreset::from_raw(preset)
            .ok_or_else(|| Failure::argument("preset", format!("unknown preset {preset}")))?;
        *out = BudgetConfig::preset(preset).into();
        Ok(())
    })
}

/// Creates a full budget (`cfg` NULL = defaults; copied). `*out` receives the
/// owned handle only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (out), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_new(
    cfg: *const rsl_retry_budget_config,
    out: *mut *mut rsl_retry_budget,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let raw = read_versioned(cfg, BudgetConfig::default().into(), "cfg")?;
        Ok(RetryBudget::new(to_core(&raw)?)?)
    })
}

/// Gives back the caller's reference to `budget` (the same as
/// `rsl_retry_budget_release`); the last reference destroys it. NULL is a no-
/// op. Safe while other threads that hold their own references
/// (`rsl_retry_budget_retain`) are inside calls on it; the caller must not use
/// its pointer afterwards.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_budget_free(budget: *mut rsl_retry_budget) {
    super::free_handle(budget);
}

/// Takes one more reference to `budget` and returns it (NULL if `budget` is
/// NULL, or if the count is at its maximum). Each reference is given back
/// with `rsl_retry_budget_release` (or `_free`); the handle lives until the last one.
/// Any thread may retain and release concurrently with calls.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_budget_retain(
    budget: *mut rsl_retry_budget,
) -> *mut rsl_retry_budget {
    super::retain_handle(budget)
}

/// Gives back one reference to `budget`; the last one destroys it. NULL is a
/// no-op. The same function as `rsl_retry_budget_free`.
#[no_mangle]
pub unsafe extern "C" fn rsl_retry_budget_release(budget: *mut rsl_retry_budget) {
    super::free_handle(budget);
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
pub unsafe extern "C" fn rsl_retry_budget_set_monotonic_time(
    budget: *const rsl_retry_budget,
    enabled: u32,
    err: *mut rsl_error,
) -> rsl_status {
    super::set_monotonic(budget, enabled, err)
}

/// An original request starts at `now_ns` (RATIO: it counts toward the
/// ratio). `*out_ticket` (may be NULL) receives its ticket.
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_deposit_at(
    budget: *const rsl_retry_budget,
    now_ns: i64,
    out_ticket: *mut rsl_retry_budget_ticket,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(budget, now_ns, err, |b, now_ns| {
        let t = b.deposit_at(now_ns);
        if !out_ticket.is_null() {
            *out_ref(out_ticket, "out_ticket")? = t.into();
        }
        Ok(())
    })
}

/// `rsl_retry_budget_deposit_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_deposit(
    budget: *const rsl_retry_budget,
    out_ticket: *mut rsl_retry_budget_ticket,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_budget_deposit_at(budget, now_ns(), out_ticket, err) }
}

/// Asks at `now_ns` for one retry. `flags`: `RSL_RETRY_FLAG_TIMEOUT` when
/// the failed attempt timed out. `*out_granted` = 1 if granted (the budget is
/// charged and `*out_ticket`, which may be NULL, receives the retry's
/// ticket), 0 if denied (a result, not an error; the ticket is emptied).
/// Never blocks. Errors: `RSL_ERR_NULL_ARGUMENT` (out_granted),
/// `RSL_ERR_INVALID_ARGUMENT` (flags), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_try_withdraw_at(
    budget: *const rsl_retry_budget,
    now_ns: i64,
    flags: u32,
    out_granted: *mut u32,
    out_ticket: *mut rsl_retry_budget_ticket,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(budget, now_ns, err, |b, now_ns| {
        let granted = out_ref(out_granted, "out_granted")?;
        let timeout = timeout_flag(flags)?;
        let t = b.try_withdraw_at(now_ns, timeout);
        *granted = u32::from(t.is_some());
        if !out_ticket.is_null() {
            *out_ref(out_ticket, "out_ticket")? = ticket_to_c(t);
        }
        Ok(())
    })
}

/// `rsl_retry_budget_try_withdraw_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_try_withdraw(
    budget: *const rsl_retry_budget,
    flags: u32,
    out_granted: *mut u32,
    out_ticket: *mut rsl_retry_budget_ticket,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe {
        rsl_retry_budget_try_withdraw_at(budget, now_ns(), flags, out_granted, out_ticket, err)
    }
}

/// Records at `now_ns` how the attempt behind `*ticket` ended
/// (`RSL_OUTCOME_*`, OVERLOADED included). TOKENS: success adds
/// token_ratio, failure/overloaded takes one token, ignored nothing. QUOTA:
/// success refunds a retry's cost or adds `success_increment` for an
/// original request. RATIO: nothing. An empty ticket does nothing.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (ticket), `RSL_ERR_INVALID_ARGUMENT`
/// (outcome, ticket kind), `RSL_ERR_POISONED`, `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_record_at(
    budget: *const rsl_retry_budget,
    now_ns: i64,
    ticket: *const rsl_retry_budget_ticket,
    outcome: rsl_outcome,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(budget, now_ns, err, |b, now_ns| {
        let t = ticket_from_c(in_ref(ticket, "ticket")?)?;
        let outcome = retry_outcome(outcome)?;
        if let Some(t) = t {
            b.record_at(now_ns, &t, outcome);
        }
        Ok(())
    })
}

/// `rsl_retry_budget_record_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_record(
    budget: *const rsl_retry_budget,
    ticket: *const rsl_retry_budget_ticket,
    outcome: rsl_outcome,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_budget_record_at(budget, now_ns(), ticket, outcome, err) }
}

/// A metrics snapshot at `now_ns` into `*out` (set `out->struct_size` first).
/// Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`, `RSL_ERR_POISONED`,
/// `RSL_ERR_PANIC`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_get_metrics_at(
    budget: *const rsl_retry_budget,
    now_ns: i64,
    out: *mut rsl_retry_budget_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    with_handle_at(budget, now_ns, err, |b, now_ns| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        write_versioned(out, b.metrics_at(now_ns).into(), "out")
    })
}

/// `rsl_retry_budget_get_metrics_at` at `rsl_now_ns()`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_get_metrics(
    budget: *const rsl_retry_budget,
    out: *mut rsl_retry_budget_metrics,
    err: *mut rsl_error,
) -> rsl_status {
    unsafe { rsl_retry_budget_get_metrics_at(budget, now_ns(), out, err) }
}

/// Fills `*out` from a JSON config: the `json_len` bytes at `json` (UTF-8,
/// no NUL needed), an object whose keys are `rsl_retry_budget_config`'s field names
/// (durations also with units, `"60s"`; enums and presets by name; see
/// docs/semantics.md, "Configs as JSON"). Missing keys keep the defaults, or
/// the values of the `"preset"` it names. The config is validated as
/// `rsl_retry_budget_new` would. Set `out->struct_size` first (`rsl_retry_budget_config_init`
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
pub unsafe extern "C" fn rsl_retry_budget_config_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut rsl_retry_budget_config,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_from_json::<BudgetConfig, _>(json, json_len, out)
    })
}

/// Writes the canonical JSON of `*cfg` (every field, durations in `_ns`,
/// enums by name; `rsl_retry_budget_config_from_json` reads it back to the same
/// struct) and a NUL into `buf`. `*out_len` (may be NULL) always receives
/// the JSON's length without the NUL, even when `buf` is too small, so a
/// call with `buf` NULL and `buf_len` 0 asks for the size;
/// `RSL_CONFIG_JSON_BUF_LEN` bytes always suffice. `*cfg` is read and
/// validated as `rsl_retry_budget_new` would. Pure, thread-safe; keeps no pointer.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (cfg; buf with `buf_len` > 0),
/// `RSL_ERR_INVALID_ARGUMENT` (`buf_len` cannot hold the JSON and its NUL;
/// nothing is written to `buf`), `RSL_ERR_CONFIG_SIZE`,
/// `RSL_ERR_CONFIG_UNSUPPORTED`, `RSL_ERR_INVALID_CONFIG` (names the field).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_config_to_json(
    cfg: *const rsl_retry_budget_config,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        super::json::config_to_json(
            cfg,
            BudgetConfig::default().into(),
            to_core,
            buf,
            buf_len,
            out_len,
        )
    })
}

/// Creates a retry budget from a JSON config (as `rsl_retry_budget_config_from_json`
/// reads it), without a config struct. `*out` receives the owned handle
/// only on success.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (json, out), `RSL_ERR_INVALID_ARGUMENT`
/// (`json_len`), `RSL_ERR_INVALID_CONFIG` naming the key or `json`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_retry_budget_new_from_json(
    json: *const c_char,
    json_len: usize,
    out: *mut *mut rsl_retry_budget,
    err: *mut rsl_error,
) -> rsl_status {
    store_handle(out, err, || {
        let cfg: BudgetConfig = super::json::read(json, json_len)?;
        Ok(RetryBudget::new(cfg)?)
    })
}
