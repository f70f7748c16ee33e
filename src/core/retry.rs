//! The retry policy: after each attempt, retry or give up, and after how long.
//!
//! A [`Retry`] is shared by every operation it governs (it holds the
//! configuration and the backoff PRNG); each operation owns a small
//! [`RetryState`] (no allocation per operation). `begin_at` starts an
//! operation, `next_at` is called after every attempt with its outcome.
//!
//! The overload rule of the seeds (retry only at the layer that failed;
//! when retrying still fails, answer "overloaded, do not retry" so no layer
//! above retries again) is the outcome [`RetryOutcome::Overloaded`], which
//! stops retries at once, and the wire value `x-rsl-retry: overloaded`
//! ([`RETRY_HEADER`]) that carries it between services.
//!
//! Rules and sources: `docs/semantics.md` ("Retry policy"); scenarios in
//! `tests/conformance/retry/`.

use super::backoff::{Backoff, BackoffConfig, BackoffState, Preset as BackoffPreset};
use super::clock::elapsed;
use super::error::{check, Error, Result};
use super::retry_budget::{BudgetTicket, RetryBudget};

/// `retry_after_ns` meaning "the server sent no retry hint".
pub const RETRY_AFTER_NONE: i64 = i64::MIN;
/// A `retry_after_ns` meaning "the server says do not retry" (any negative
/// value other than [`RETRY_AFTER_NONE`] means the same).
pub const RETRY_AFTER_REFUSE: i64 = -1;
/// `deadline_ns` meaning "no deadline".
pub const NO_DEADLINE: i64 = i64::MAX;
/// The response header (HTTP) / metadata key (gRPC) carrying the overload signal.
pub const RETRY_HEADER: &str = "x-rsl-retry";
/// Its value for [`RetryOutcome::Overloaded`].
pub const RETRY_HEADER_OVERLOADED: &str = "overloaded";

/// How an attempt ended, as far as retrying is concerned (`RSL_OUTCOME_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetryOutcome {
    /// It succeeded: stop.
    Success = 1,
    /// It failed in a retryable way.
    Failure = 2,
    /// Not retryable and not the dependency's fault (a client error, a
    /// cancellation): stop, report it as it is.
    Ignored = 3,
    /// The dependency answered "overloaded, do not retry": stop at every layer.
    Overloaded = 4,
}

impl RetryOutcome {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            1 => Self::Success,
            2 => Self::Failure,
            3 => Self::Ignored,
            4 => Self::Overloaded,
            _ => return None,
        })
    }
}

/// Why `next_at` decided as it did (`RSL_RETRY_REASON_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Retry after `delay_ns`.
    Retry = 1,
    /// The attempt succeeded.
    Success = 2,
    /// The outcome was `Ignored`: not retryable.
    NotRetryable = 3,
    /// The dependency said overloaded.
    Overloaded = 4,
    /// `max_attempts` attempts were made.
    MaxAttempts = 5,
    /// `max_elapsed_ns` has passed since `begin_at`, or a server delay would pass it.
    MaxElapsed = 6,
    /// The retry could not finish before the deadline.
    Deadline = 7,
    /// The server's pushback said do not retry.
    ServerRefused = 8,
    /// The retry budget is exhausted.
    Budget = 9,
}

/// Named presets (`RSL_RETRY_PRESET_*`), each with its backoff preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryPreset {
    /// The seeds: 3 attempts, exponential 1 s → 60 s.
    Default = 0,
    /// Resilience4j `RetryConfig` defaults: 3 attempts, 500 ms fixed.
    Resilience4j = 1,
    /// Polly v8 defaults: 3 retries (4 attempts), constant 2 s.
    PollyV8 = 2,
    /// gRPC A6 example policy: 4 attempts, 0.1 s ×2 → 1 s, ±20 %.
    Grpc = 3,
    /// AWS SDK standard mode: 3 attempts, standard backoff.
    AwsStandard = 4,
    /// failsafe-go defaults: 2 retries (3 attempts), no delay.
    FailsafeGo = 5,
}

impl RetryPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Resilience4j,
            2 => Self::PollyV8,
            3 => Self::Grpc,
            4 => Self::AwsStandard,
            5 => Self::FailsafeGo,
            _ => return None,
        })
    }
}

/// Retry policy configuration (see `rsl_retry_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (>= 1).
    pub max_attempts: u32,
    /// Give up once this long has passed since `begin_at`; 0 = no limit.
    pub max_elapsed_ns: i64,
    /// A retry must end before the deadline: `now + delay + expected_attempt_ns < deadline`.
    pub expected_attempt_ns: i64,
    /// A server retry-after restarts the backoff progression (gRPC A6).
    pub retry_after_resets: bool,
    /// When giving up after a retryable failure, report `Overloaded` upward.
    pub overloaded_on_give_up: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::preset(RetryPreset::Default).0
    }
}

impl RetryConfig {
    /// A preset's retry configuration and its backoff.
    #[must_use]
    pub fn preset(preset: RetryPreset) -> (Self, BackoffConfig) {
        let base = Self {
            max_attempts: 3,
            max_elapsed_ns: 0,
            expected_attempt_ns: 0,
            retry_after_resets: true,
            overloaded_on_give_up: true,
        };
        let (cfg, backoff) = match preset {
            RetryPreset::Default => (base, BackoffPreset::Default),
            RetryPreset::Resilience4j => (base, BackoffPreset::Resilience4j),
            RetryPreset::PollyV8 => (
                Self {
                    max_attempts: 4,
                    ..base
                },
                BackoffPreset::PollyV8,
            ),
            RetryPreset::Grpc => (
                Self {
                    max_attempts: 4,
                    ..base
                },
                BackoffPreset::GrpcRetry,
            ),
            RetryPreset::AwsStandard => (base, BackoffPreset::AwsStandard),
            RetryPreset::FailsafeGo => {
                return (
                    base,
                    BackoffConfig {
                        base_ns: 0,
                        ..BackoffConfig::preset(BackoffPreset::SeedsFixed)
                    },
                )
            }
        };
        (cfg, BackoffConfig::preset(backoff))
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        check::count_in("max_attempts", self.max_attempts, 1, u32::MAX)?;
        check::non_negative_ns("max_elapsed_ns", self.max_elapsed_ns)?;
        check::non_negative_ns("expected_attempt_ns", self.expected_attempt_ns)?;
        Ok(())
    }
}

/// One operation's retry state, owned by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetryState {
    /// Attempts started so far (1 after `begin_at`; 0 = not begun).
    pub attempts: u32,
    /// Retries since the start or the last resetting server delay: the next
    /// computed backoff is for retry `backoff_index + 1`.
    pub backoff_index: u32,
    /// A decision ended the operation.
    pub finished: bool,
    /// When `begin_at` ran.
    pub started_at_ns: i64,
    /// The absolute deadline ([`NO_DEADLINE`] = none).
    pub deadline_ns: i64,
    /// The backoff's per-operation state.
    pub backoff: BackoffState,
    /// The budget ticket of the attempt in flight, if a budget is used.
    pub ticket: Option<BudgetTicket>,
}

/// The answer of `next_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Retry after `delay_ns`.
    pub retry: bool,
    /// Why.
    pub reason: Reason,
    /// The wait before the retry (0 when giving up).
    pub delay_ns: i64,
    /// `now + delay_ns`, saturating (`now` when giving up).
    pub retry_at_ns: i64,
    /// Retrying: the number of the attempt about to be made (2 = first
    /// retry). Giving up: the attempts made.
    pub attempt: u32,
    /// What this layer should report to its own caller.
    pub report: RetryOutcome,
}

/// A retry policy shared by many operations. Thread-safe.
#[derive(Debug)]
pub struct Retry {
    cfg: RetryConfig,
    backoff: Backoff,
}

impl Retry {
    /// A validated policy.
    pub fn new(cfg: RetryConfig, backoff: BackoffConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            backoff: Backoff::new(backoff)?,
        })
    }

    /// The retry configuration.
    #[must_use]
    pub fn config(&self) -> RetryConfig {
        self.cfg
    }

    /// The backoff strategy.
    #[must_use]
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Starts an operation at `now` whose first attempt is about to be made.
    /// With a budget, deposits one request.
    #[must_use]
    pub fn begin_at(&self, now: i64, deadline_ns: i64, budget: Option<&RetryBudget>) -> RetryState {
        RetryState {
            attempts: 1,
            backoff_index: 0,
            finished: false,
            started_at_ns: now,
            deadline_ns,
            backoff: BackoffState::default(),
            ticket: budget.map(|b| b.deposit_at(now)),
        }
    }

    /// Decides at `now`, after an attempt ended with `outcome`, whether to
    /// retry. `timeout`: the attempt timed out (AWS quota cost).
    /// `retry_after_ns`: the server's delay ([`RETRY_AFTER_NONE`] = none,
    /// negative = do not retry, else the exact delay). Checks run in the
    /// order documented in `docs/semantics.md`.
    #[allow(clippy::too_many_arguments)]
    pub fn next_at(
        &self,
        state: &mut RetryState,
        now: i64,
        outcome: RetryOutcome,
        timeout: bool,
        retry_after_ns: i64,
        budget: Option<&RetryBudget>,
    ) -> Result<Decision> {
        if state.attempts == 0 {
            return Err(Error::argument("state", "not begun: call begin first"));
        }
        if state.finished {
            return Err(Error::argument(
                "state",
                "the operation already finished: begin a new one",
            ));
        }
        if let (Some(b), Some(t)) = (budget, state.ticket.take()) {
            b.record_at(now, &t, outcome);
        }
        let give_up = |state: &mut RetryState, reason: Reason, report: RetryOutcome| {
            state.finished = true;
            Decision {
                retry: false,
                reason,
                delay_ns: 0,
                retry_at_ns: now,
                attempt: state.attempts,
                report,
            }
        };
        let failed = if self.cfg.overloaded_on_give_up {
            RetryOutcome::Overloaded
        } else {
            RetryOutcome::Failure
        };
        match outcome {
            RetryOutcome::Success => {
                return Ok(give_up(state, Reason::Success, RetryOutcome::Success))
            }
            RetryOutcome::Ignored => {
                return Ok(give_up(state, Reason::NotRetryable, RetryOutcome::Ignored))
            }
            RetryOutcome::Overloaded => {
                return Ok(give_up(state, Reason::Overloaded, RetryOutcome::Overloaded))
            }
            RetryOutcome::Failure => {}
        }
        let pushback = retry_after_ns != RETRY_AFTER_NONE;
        if pushback && retry_after_ns < 0 {
            return Ok(give_up(state, Reason::ServerRefused, failed));
        }
        if state.attempts >= self.cfg.max_attempts {
            return Ok(give_up(state, Reason::MaxAttempts, failed));
        }
        let spent = elapsed(now, state.started_at_ns);
        let limit = self.cfg.max_elapsed_ns;
        if limit > 0 && spent > limit {
            return Ok(give_up(state, Reason::MaxElapsed, failed));
        }
        let mut delay = if pushback {
            retry_after_ns
        } else {
            self.backoff
                .next(state.backoff_index.saturating_add(1), &mut state.backoff)?
        };
        if limit > 0 {
            let left = limit.saturating_sub(spent.max(0));
            if pushback && delay > left {
                return Ok(give_up(state, Reason::MaxElapsed, failed));
            }
            delay = delay.min(left);
        }
        let retry_at = now.saturating_add(delay);
        if state.deadline_ns != NO_DEADLINE
            && retry_at.saturating_add(self.cfg.expected_attempt_ns) >= state.deadline_ns
        {
            return Ok(give_up(state, Reason::Deadline, failed));
        }
        if let Some(b) = budget {
            match b.try_withdraw_at(now, timeout) {
                Some(t) => state.ticket = Some(t),
                None => return Ok(give_up(state, Reason::Budget, failed)),
            }
        }
        if pushback && self.cfg.retry_after_resets {
            state.backoff_index = 0;
            state.backoff = BackoffState::default();
        } else {
            // A server delay that does not reset still counts as a step.
            state.backoff_index = state.backoff_index.saturating_add(1);
        }
        state.attempts = state.attempts.saturating_add(1);
        Ok(Decision {
            retry: true,
            reason: Reason::Retry,
            delay_ns: delay,
            retry_at_ns: retry_at,
            attempt: state.attempts,
            report: failed,
        })
    }
}

/// Trims HTTP optional whitespace (SP / HTAB) at both ends.
fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(start, |p| p + 1);
    v.get(start..end).unwrap_or(&[])
}

/// Reads an `x-rsl-retry` header value: `Overloaded` when it holds the token
/// `overloaded` (ASCII case-insensitive, in a comma-separated list, optional
/// whitespace around), else `Failure` (absent, empty or unknown tokens:
/// forward compatible).
#[must_use]
pub fn parse_retry_header(value: Option<&[u8]>) -> RetryOutcome {
    let Some(v) = value else {
        return RetryOutcome::Failure;
    };
    let overloaded = v
        .split(|b| *b == b',')
        .any(|tok| trim_ows(tok).eq_ignore_ascii_case(RETRY_HEADER_OVERLOADED.as_bytes()));
    if overloaded {
        RetryOutcome::Overloaded
    } else {
        RetryOutcome::Failure
    }
}

/// The `x-rsl-retry` value to send for `outcome`: `Some("overloaded")` for
/// `Overloaded`, `None` (send no header) otherwise.
#[must_use]
pub fn format_retry_header(outcome: RetryOutcome) -> Option<&'static str> {
    (outcome == RetryOutcome::Overloaded).then_some(RETRY_HEADER_OVERLOADED)
}

/// Reads gRPC's `grpc-retry-pushback-ms` (gRFC A6: an ASCII signed 32-bit
/// decimal, in ms). Parsed like grpc-go's `strconv.Atoi` (optional `+`/`-`,
/// leading zeros accepted) within the signed 32-bit range of A6. Absent ⇒
/// [`RETRY_AFTER_NONE`]; negative, out of range or unparsable ⇒
/// [`RETRY_AFTER_REFUSE`] (do not retry); else the delay in ns.
#[must_use]
pub fn parse_grpc_pushback(value: Option<&[u8]>) -> i64 {
    let Some(v) = value else {
        return RETRY_AFTER_NONE;
    };
    let (negative, digits) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return RETRY_AFTER_REFUSE;
    }
    let mut ms: i64 = 0;
    for d in digits {
        ms = ms * 10 + i64::from(d - b'0');
        if ms > i64::from(i32::MAX) + 1 {
            return RETRY_AFTER_REFUSE;
        }
    }
    if (negative && ms > 0) || ms > i64::from(i32::MAX) {
        return RETRY_AFTER_REFUSE;
    }
    ms * 1_000_000
}

/// Reads an HTTP `Retry-After` in its delay-seconds form (RFC 9110:
/// `1*DIGIT`, optional whitespace around) as ns, saturating. Absent,
/// malformed or an HTTP-date (which needs the wall clock) ⇒
/// [`RETRY_AFTER_NONE`]: no hint, the backoff decides.
#[must_use]
pub fn parse_http_retry_after(value: Option<&[u8]>) -> i64 {
    let Some(v) = value else {
        return RETRY_AFTER_NONE;
    };
    let v = trim_ows(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return RETRY_AFTER_NONE;
    }
    let mut secs: i64 = 0;
    for d in v {
        secs = secs.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    secs.saturating_mul(1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushback_grammar() {
        assert_eq!(parse_grpc_pushback(None), RETRY_AFTER_NONE);
        assert_eq!(parse_grpc_pushback(Some(b"0")), 0);
        assert_eq!(parse_grpc_pushback(Some(b"250")), 250_000_000);
        assert_eq!(
            parse_grpc_pushback(Some(b"2147483647")),
            2_147_483_647_000_000
        );
        assert_eq!(parse_grpc_pushback(Some(b"-0")), 0);
        assert_eq!(parse_grpc_pushback(Some(b"+007")), 7_000_000);
        for bad in [&b""[..], b"-1", b"-", b"1.5", b" 1", b"2147483648", b"abc"] {
            assert_eq!(
                parse_grpc_pushback(Some(bad)),
                RETRY_AFTER_REFUSE,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_tokens() {
        assert_eq!(
            parse_retry_header(Some(b" Overloaded ")),
            RetryOutcome::Overloaded
        );
        assert_eq!(
            parse_retry_header(Some(b"x, overloaded")),
            RetryOutcome::Overloaded
        );
        assert_eq!(
            parse_retry_header(Some(b"overloadedx")),
            RetryOutcome::Failure
        );
        assert_eq!(parse_retry_header(None), RetryOutcome::Failure);
    }

    #[test]
    fn http_retry_after() {
        assert_eq!(parse_http_retry_after(Some(b" 120 ")), 120_000_000_000);
        assert_eq!(
            parse_http_retry_after(Some(b"Fri, 31 Dec 1999 23:59:59 GMT")),
            RETRY_AFTER_NONE
        );
        assert_eq!(
            parse_http_retry_after(Some(b"99999999999999999999")),
            i64::MAX
        );
    }
}
