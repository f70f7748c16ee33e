//! Retry budgets: a shared account that many retrying operations draw on, so
//! that retries stay a bounded share of the traffic.
//!
//! Three kinds:
//! - **ratio** (tower `TpsBudget`, Finagle `RetryBudget`, the SRE book):
//!   retries ≤ `ratio` × requests + `min_per_sec` × window over a rolling
//!   window, counted exactly in integers;
//! - **tokens** (gRPC `retryThrottling`, gRFC A6): a token count in
//!   milli-tokens, −1 per failure, +`token_ratio` per success, retries only
//!   while the count is above half of `max_tokens`;
//! - **quota** (AWS SDK standard mode): a bucket of 500 tokens, a retry costs
//!   5 (10 after a timeout), a successful retry refunds its cost, a success on
//!   the first attempt adds 1.
//!
//! Every kind speaks the same protocol: `deposit_at` per original request,
//! `try_withdraw_at` per retry, `record_at` per finished attempt. Rules and
//! sources: `docs/semantics.md` ("Retry budget"); scenarios in
//! `tests/conformance/retry_budget/`.

use super::error::{check, Error, Result};
use super::retry::RetryOutcome;
use super::window::TimeWindow;
use parking_lot::Mutex;
use std::ops::{AddAssign, SubAssign};

/// Largest bucket count of a ratio window.
pub const MAX_BUCKETS: u32 = 1 << 16;
/// Largest `ratio` (tower accepts up to 1000).
pub const MAX_RATIO: f64 = 1000.0;
/// Largest gRPC `maxTokens` (A6: in (0, 1000]).
pub const MAX_TOKENS: u32 = 1000;

const SECOND: i64 = 1_000_000_000;
/// One retry, in the ratio kind's micro-retries.
const MICRO: i128 = 1_000_000;
/// One token, in the tokens kind's milli-tokens.
const MILLI: i64 = 1_000;

/// The kind of budget (`RSL_RETRY_BUDGET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetKind {
    /// Retries per requests over a rolling window, with a floor per second.
    Ratio = 1,
    /// gRPC retry throttling.
    Tokens = 2,
    /// AWS standard-mode retry quota.
    Quota = 3,
}

impl BudgetKind {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Ratio,
            2 => Self::Tokens,
            3 => Self::Quota,
            _ => return None,
        })
    }
}

/// Named presets (`RSL_RETRY_BUDGET_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetPreset {
    /// tower `TpsBudget::default()` (= Finagle): 20 %, 10 retries/s, 10 s.
    Tower = 0,
    /// The SRE book's per-client budget: 10 %, no floor.
    Sre = 1,
    /// Envoy `retry_budget` numbers (20 %, 3) over a 10 s window.
    Envoy = 2,
    /// failsafe-go `budget` numbers (0.2, 3) over a 10 s window.
    FailsafeGo = 3,
    /// gRPC `retryThrottling` from the A6 example: 10 tokens, ratio 0.1.
    Grpc = 4,
    /// AWS standard mode: 500 tokens, cost 5 / 10, +1.
    AwsStandard = 5,
}

impl BudgetPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Tower,
            1 => Self::Sre,
            2 => Self::Envoy,
            3 => Self::FailsafeGo,
            4 => Self::Grpc,
            5 => Self::AwsStandard,
            _ => return None,
        })
    }
}

/// Retry budget configuration (see `rsl_retry_budget_config`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetConfig {
    /// The kind.
    pub kind: BudgetKind,
    /// Ratio: retries allowed per request, in [0, 1000] (read to 6 decimals).
    pub ratio: f64,
    /// Ratio: window length.
    pub window_ns: i64,
    /// Ratio: buckets in the window (window_ns must be a multiple).
    pub buckets: u32,
    /// Ratio: retries per second always allowed (tower's `min_per_sec`).
    pub min_per_sec: u32,
    /// Tokens: gRPC `maxTokens`, 1..=1000.
    pub max_tokens: u32,
    /// Tokens: gRPC `tokenRatio` (> 0; decimals beyond 3 ignored).
    pub token_ratio: f64,
    /// Quota: bucket size (and start), AWS 500.
    pub quota_capacity: u32,
    /// Quota: cost of a retry, AWS 5.
    pub retry_cost: u32,
    /// Quota: cost of a retry after a timeout, AWS 10.
    pub timeout_cost: u32,
    /// Quota: added when a first attempt succeeds, AWS 1.
    pub success_increment: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self::preset(BudgetPreset::Tower)
    }
}

impl BudgetConfig {
    /// A preset's configuration.
    #[must_use]
    pub fn preset(preset: BudgetPreset) -> Self {
        let tower = Self {
            kind: BudgetKind::Ratio,
            ratio: 0.2,
            window_ns: 10 * SECOND,
            buckets: 10,
            min_per_sec: 10,
            max_tokens: 10,
            token_ratio: 0.1,
            quota_capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            success_increment: 1,
        };
        match preset {
            BudgetPreset::Tower => tower,
            BudgetPreset::Sre => Self {
                ratio: 0.1,
                min_per_sec: 0,
                ..tower
            },
            BudgetPreset::Envoy | BudgetPreset::FailsafeGo => Self {
                min_per_sec: 3,
                ..tower
            },
            BudgetPreset::Grpc => Self {
                kind: BudgetKind::Tokens,
                ..tower
            },
            BudgetPreset::AwsStandard => Self {
                kind: BudgetKind::Quota,
                ..tower
            },
        }
    }

    /// Checks the fields the kind uses; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        match self.kind {
            BudgetKind::Ratio => {
                if !(self.ratio.is_finite() && (0.0..=MAX_RATIO).contains(&self.ratio)) {
                    return Err(Error::config(
                        "ratio",
                        format!(
                            "must be a finite number in [0, {MAX_RATIO}], got {}",
                            self.ratio
                        ),
                    ));
                }
                check::positive_ns("window_ns", self.window_ns)?;
                check::count_in("buckets", self.buckets, 1, MAX_BUCKETS)?;
                if self.window_ns % i64::from(self.buckets) != 0 {
                    return Err(Error::config(
                        "window_ns",
                        format!(
                            "must be a multiple of buckets ({}), got {}",
                            self.buckets, self.window_ns
                        ),
                    ));
                }
            }
            BudgetKind::Tokens => {
                check::count_in("max_tokens", self.max_tokens, 1, MAX_TOKENS)?;
                if !(self.token_ratio.is_finite() && self.token_ratio > 0.0) {
                    return Err(Error::config(
                        "token_ratio",
                        format!("must be a finite number > 0, got {}", self.token_ratio),
                    ));
                }
                if milli_ratio(self.token_ratio) == 0 {
                    return Err(Error::config(
                        "token_ratio",
                        format!(
                            "{} is 0 once decimals beyond 3 are dropped (gRFC A6); use >= 0.001",
                            self.token_ratio
                        ),
                    ));
                }
            }
            BudgetKind::Quota => {
                check::count_in("quota_capacity", self.quota_capacity, 1, u32::MAX)?;
                check::count_in("retry_cost", self.retry_cost, 1, self.quota_capacity)?;
                check::count_in("timeout_cost", self.timeout_cost, 1, self.quota_capacity)?;
                check::count_in(
                    "success_increment",
                    self.success_increment,
                    0,
                    self.quota_capacity,
                )?;
            }
        }
        Ok(())
    }
}

/// gRPC's `tokenRatio` in milli-tokens: read to 6 decimals (rounded, to undo
/// the binary representation of a decimal), then truncated to 3 (A6).
fn milli_ratio(token_ratio: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let micro = (token_ratio * 1e6).round().min(1e15) as i64;
    micro / 1_000
}

/// Ratio: retries per request in micro-retries, read to 6 decimals.
fn micro_ratio(ratio: f64) -> i128 {
    #[allow(clippy::cast_possible_truncation)]
    let micro = (ratio * 1e6).round() as i64;
    i128::from(micro)
}

/// What a deposit or a granted withdrawal hands back; pass it to `record_at`
/// when the attempt it stands for finishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetTicket {
    /// When it was issued.
    pub at_ns: i64,
    /// Quota tokens taken (0 for a deposit and for the other kinds).
    pub cost: u32,
    /// True for a retry (withdrawal), false for an original request.
    pub retry: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    requests: u64,
    retries: u64,
}

impl AddAssign for Tally {
    fn add_assign(&mut self, o: Self) {
        self.requests += o.requests;
        self.retries += o.retries;
    }
}

impl SubAssign for Tally {
    fn sub_assign(&mut self, o: Self) {
        self.requests = self.requests.saturating_sub(o.requests);
        self.retries = self.retries.saturating_sub(o.retries);
    }
}

/// A metrics snapshot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetMetrics {
    /// Ratio: original requests in the window.
    pub requests: u64,
    /// Ratio: retries granted in the window.
    pub retries: u64,
    /// Ratio: retries a withdrawal could still take now.
    /// Tokens: 1 if a retry would be allowed, else 0. Quota: retries of
    /// `retry_cost` the bucket still holds.
    pub available: u64,
    /// Tokens: the token count in milli-tokens. Quota: tokens in the bucket.
    pub tokens: u64,
    /// Deposits over the budget's life.
    pub deposits_total: u64,
    /// Withdrawals granted over its life.
    pub granted_total: u64,
    /// Withdrawals denied over its life.
    pub denied_total: u64,
}

#[derive(Debug)]
struct State {
    window: TimeWindow<Tally>,
    /// Tokens: milli-tokens; quota: tokens.
    tokens: i64,
    deposits_total: u64,
    granted_total: u64,
    denied_total: u64,
}

/// A thread-safe retry budget shared by many operations.
#[derive(Debug)]
pub struct RetryBudget {
    cfg: BudgetConfig,
    per_request: i128,
    reserve: i128,
    max_milli: i64,
    token_step: i64,
    state: Mutex<State>,
}

impl RetryBudget {
    /// A full budget.
    pub fn new(cfg: BudgetConfig) -> Result<Self> {
        cfg.validate()?;
        let (buckets, bucket_ns) = match cfg.kind {
            BudgetKind::Ratio => (cfg.buckets as usize, cfg.window_ns / i64::from(cfg.buckets)),
            _ => (1, 1),
        };
        let max_milli = i64::from(cfg.max_tokens) * MILLI;
        let tokens = match cfg.kind {
            BudgetKind::Ratio => 0,
            BudgetKind::Tokens => max_milli,
            BudgetKind::Quota => i64::from(cfg.quota_capacity),
        };
        Ok(Self {
            cfg,
            per_request: micro_ratio(cfg.ratio),
            // min_per_sec × window seconds, in micro-retries (floor).
            reserve: i128::from(cfg.min_per_sec) * i128::from(cfg.window_ns) * MICRO
                / i128::from(SECOND),
            max_milli,
            token_step: milli_ratio(cfg.token_ratio),
            state: Mutex::new(State {
                window: TimeWindow::new(buckets, bucket_ns),
                tokens,
                deposits_total: 0,
                granted_total: 0,
                denied_total: 0,
            }),
        })
    }

    /// The configuration it was built with.
    #[must_use]
    pub fn config(&self) -> BudgetConfig {
        self.cfg
    }

    /// An original request starts at `now` (ratio: counts it).
    pub fn deposit_at(&self, now: i64) -> BudgetTicket {
        let mut s = self.state.lock();
        s.deposits_total += 1;
        if self.cfg.kind == BudgetKind::Ratio {
            s.window.add(
                now,
                Tally {
                    requests: 1,
                    retries: 0,
                },
            );
        }
        BudgetTicket {
            at_ns: now,
            cost: 0,
            retry: false,
        }
    }

    /// Asks for one retry at `now`; `timeout` = the failed attempt timed out
    /// (quota: costs `timeout_cost`). `None` = denied (nothing changes
    /// except the denied count).
    pub fn try_withdraw_at(&self, now: i64, timeout: bool) -> Option<BudgetTicket> {
        let mut s = self.state.lock();
        let granted = match self.cfg.kind {
            BudgetKind::Ratio => {
                let t = s.window.total_at(now);
                let ok = self.ratio_room(t) >= MICRO;
                if ok {
                    s.window.add(
                        now,
                        Tally {
                            requests: 0,
                            retries: 1,
                        },
                    );
                }
                ok.then_some(0)
            }
            BudgetKind::Tokens => (s.tokens > self.max_milli / 2).then_some(0),
            BudgetKind::Quota => {
                let cost = if timeout {
                    self.cfg.timeout_cost
                } else {
                    self.cfg.retry_cost
                };
                let ok = s.tokens >= i64::from(cost);
                if ok {
                    s.tokens -= i64::from(cost);
                }
                ok.then_some(cost)
            }
        };
        match granted {
            Some(cost) => {
                s.granted_total += 1;
                Some(BudgetTicket {
                    at_ns: now,
                    cost,
                    retry: true,
                })
            }
            None => {
                s.denied_total += 1;
                None
            }
        }
    }

    /// Records at `now` how the attempt behind `ticket` ended. Tokens:
    /// success +`token_ratio` (capped), failure or overloaded −1 (floored at
    /// 0), ignored nothing. Quota: success refunds a retry's cost or adds
    /// `success_increment` for an original request (capped at the capacity);
    /// anything else nothing. Ratio: nothing (the window only advances).
    pub fn record_at(&self, now: i64, ticket: &BudgetTicket, outcome: RetryOutcome) {
        let mut s = self.state.lock();
        match self.cfg.kind {
            BudgetKind::Ratio => s.window.advance(now),
            BudgetKind::Tokens => match outcome {
                RetryOutcome::Success => {
                    s.tokens = (s.tokens + self.token_step).min(self.max_milli);
                }
                RetryOutcome::Failure | RetryOutcome::Overloaded => {
                    s.tokens = (s.tokens - MILLI).max(0);
                }
                RetryOutcome::Ignored => {}
            },
            BudgetKind::Quota => {
                if outcome == RetryOutcome::Success {
                    let add = if ticket.retry {
                        ticket.cost
                    } else {
                        self.cfg.success_increment
                    };
                    s.tokens = (s.tokens + i64::from(add)).min(i64::from(self.cfg.quota_capacity));
                }
            }
        }
    }

    /// Micro-retries the ratio window still has room for.
    fn ratio_room(&self, t: Tally) -> i128 {
        i128::from(t.requests) * self.per_request + self.reserve - i128::from(t.retries) * MICRO
    }

    /// A metrics snapshot at `now`.
    pub fn metrics_at(&self, now: i64) -> BudgetMetrics {
        let mut s = self.state.lock();
        let (requests, retries, available, tokens) = match self.cfg.kind {
            BudgetKind::Ratio => {
                let t = s.window.total_at(now);
                let room = (self.ratio_room(t) / MICRO).max(0);
                (
                    t.requests,
                    t.retries,
                    u64::try_from(room).unwrap_or(u64::MAX),
                    0,
                )
            }
            BudgetKind::Tokens => (
                0,
                0,
                u64::from(s.tokens > self.max_milli / 2),
                s.tokens.unsigned_abs(),
            ),
            BudgetKind::Quota => (
                0,
                0,
                s.tokens.unsigned_abs() / u64::from(self.cfg.retry_cost.max(1)),
                s.tokens.unsigned_abs(),
            ),
        };
        BudgetMetrics {
            requests,
            retries,
            available,
            tokens,
            deposits_total: s.deposits_total,
            granted_total: s.granted_total,
            denied_total: s.denied_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(cfg: BudgetConfig) -> RetryBudget {
        RetryBudget::new(cfg).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn presets_validate() {
        for raw in 0..6 {
            let p = BudgetPreset::from_raw(raw).unwrap_or(BudgetPreset::Tower);
            assert_eq!(BudgetConfig::preset(p).validate(), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn tower_reserve_is_min_per_sec_times_window() {
        let b = budget(BudgetConfig::default());
        let granted = (0..200)
            .filter(|_| b.try_withdraw_at(0, false).is_some())
            .count();
        assert_eq!(granted, 100);
    }

    #[test]
    fn milli_ratio_truncates_to_three_decimals() {
        assert_eq!(milli_ratio(0.5466), 546);
        assert_eq!(milli_ratio(0.1), 100);
        assert_eq!(milli_ratio(0.7), 700);
        assert_eq!(milli_ratio(0.0009), 0);
    }

    #[test]
    fn grpc_throttles_at_half() {
        let b = budget(BudgetConfig::preset(BudgetPreset::Grpc));
        let t = b.deposit_at(0);
        for _ in 0..4 {
            b.record_at(0, &t, RetryOutcome::Failure);
        }
        assert!(b.try_withdraw_at(0, false).is_some()); // 6 > 5
        b.record_at(0, &t, RetryOutcome::Failure);
        assert!(b.try_withdraw_at(0, false).is_none()); // 5 <= 5
    }
}
