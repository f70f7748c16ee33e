//! The seeds' retry examples, step by step in virtual time (nothing sleeps):
//! 1. `retry(max_attempts = 3, ExponentialBackoffStrategy(1 s, 60 s))` on an
//!    operation that always fails ("connection failed");
//! 2. `JitterRetryStrategy(base 1 s, max 10 s)` with an on-retry hook that
//!    prints the attempt and the delay, on a Redis GET that fails twice;
//! 3. the rule against cascading retries: a lower layer that gives up answers
//!    "overloaded" (`x-rsl-retry: overloaded`) and the layer above does not retry;
//! 4. a gRPC retry-throttling budget shared by many operations.
//!
//! Run: `cargo run --example retry`.

use resilience::core::backoff::{BackoffConfig, Preset as BackoffPreset};
use resilience::core::retry::{
    format_retry_header, parse_retry_header, Retry, RetryConfig, RetryOutcome, RetryPreset,
    NO_DEADLINE, RETRY_AFTER_NONE, RETRY_HEADER,
};
use resilience::core::retry_budget::{BudgetConfig, BudgetPreset, RetryBudget};
use std::process::ExitCode;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000_000_000;
/// Each simulated attempt takes this long.
const ATTEMPT: i64 = 10 * MS;

fn secs(ns: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let s = ns as f64 / 1e9;
    s
}

fn run() -> Result<(), String> {
    // 1. The seeds' Go/Rust/Python usage: 3 attempts, exponential 1 s -> 60 s.
    println!("== retry(max_attempts=3, ExponentialBackoffStrategy(1s, 60s)) ==");
    let (cfg, backoff) = RetryConfig::preset(RetryPreset::Default);
    let policy = Retry::new(cfg, backoff).map_err(|e| e.to_string())?;
    let mut now = 0;
    let mut state = policy.begin_at(now, NO_DEADLINE, None);
    let mut delays = Vec::new();
    loop {
        now += ATTEMPT; // the operation runs and fails
        println!(
            "t={:>7.3}s attempt {} failed: connection failed",
            secs(now),
            state.attempts
        );
        let d = policy
            .next_at(
                &mut state,
                now,
                RetryOutcome::Failure,
                false,
                RETRY_AFTER_NONE,
                None,
            )
            .map_err(|e| e.to_string())?;
        if !d.retry {
            println!(
                "t={:>7.3}s give up after {} attempts ({:?}); report {:?} upward",
                secs(now),
                d.attempt,
                d.reason,
                d.report
            );
            break;
        }
        println!(
            "           wait {:.3}s, attempt {} at t={:.3}s",
            secs(d.delay_ns),
            d.attempt,
            secs(d.retry_at_ns)
        );
        delays.push(d.delay_ns);
        now = d.retry_at_ns;
    }
    if delays != [SECOND, 2 * SECOND] {
        return Err(format!("unexpected delays {delays:?}"));
    }

    // 2. JitterRetryStrategy(base_delay=1.0, max_delay=10.0) with on_retry.
    println!("\n== JitterRetryStrategy(base 1s, max 10s, jitter 10%), seed 42 ==");
    let backoff = BackoffConfig {
        max_ns: 10 * SECOND,
        seed: 42,
        ..BackoffConfig::preset(BackoffPreset::SeedsJitter)
    };
    let policy = Retry::new(cfg, backoff).map_err(|e| e.to_string())?;
    let on_retry = |attempt: u32, delay_ns: i64, err: &str| {
        println!("Retry {attempt} after {:.2}s: {err}", secs(delay_ns));
    };
    let mut now = 0;
    let mut state = policy.begin_at(now, NO_DEADLINE, None);
    // redis_get fails twice, then returns "value_key1".
    let outcomes = [
        Err("Redis connection failed"),
        Err("Redis connection failed"),
        Ok("value_key1"),
    ];
    let mut result = None;
    for outcome in outcomes {
        now += ATTEMPT;
        let (o, err) = match outcome {
            Ok(v) => {
                result = Some(v);
                (RetryOutcome::Success, "")
            }
            Err(e) => (RetryOutcome::Failure, e),
        };
        let d = policy
            .next_at(&mut state, now, o, false, RETRY_AFTER_NONE, None)
            .map_err(|e| e.to_string())?;
        if !d.retry {
            break;
        }
        // Attempt numbering of the seeds' hook: the attempt that failed.
        on_retry(d.attempt - 1, d.delay_ns, err);
        if !(SECOND << (d.attempt - 2)..=(SECOND << (d.attempt - 2)) * 11 / 10)
            .contains(&d.delay_ns)
        {
            return Err(format!("delay {} outside [e, 1.1e]", d.delay_ns));
        }
        now = d.retry_at_ns;
    }
    match result {
        Some(v) => println!("Success: {v} at t={:.3}s", secs(now)),
        None => return Err("redis_get should have succeeded".into()),
    }

    // 3. No cascading retries: the inner layer gives up and answers overloaded.
    println!("\n== two layers: only the failing layer retries ==");
    let (inner_cfg, inner_backoff) = RetryConfig::preset(RetryPreset::Default);
    let inner = Retry::new(inner_cfg, inner_backoff).map_err(|e| e.to_string())?;
    let outer = Retry::new(inner_cfg, inner_backoff).map_err(|e| e.to_string())?;
    let mut now = 0;
    let mut outer_state = outer.begin_at(now, NO_DEADLINE, None);
    let mut inner_state = inner.begin_at(now, NO_DEADLINE, None);
    let report = loop {
        now += ATTEMPT;
        let d = inner
            .next_at(
                &mut inner_state,
                now,
                RetryOutcome::Failure,
                false,
                RETRY_AFTER_NONE,
                None,
            )
            .map_err(|e| e.to_string())?;
        if !d.retry {
            break d.report;
        }
        println!(
            "inner: attempt {} failed, retry in {:.0}s",
            d.attempt - 1,
            secs(d.delay_ns)
        );
        now = d.retry_at_ns;
    };
    let header = format_retry_header(report).unwrap_or("");
    println!("inner gives up and answers {RETRY_HEADER}: {header}");
    let seen = parse_retry_header(Some(header.as_bytes()));
    let d = outer
        .next_at(&mut outer_state, now, seen, false, RETRY_AFTER_NONE, None)
        .map_err(|e| e.to_string())?;
    println!(
        "outer sees {seen:?}: retry = {}, reason {:?}",
        d.retry, d.reason
    );
    if d.retry || seen != RetryOutcome::Overloaded {
        return Err("the outer layer must not retry an overloaded answer".into());
    }

    // 4. gRPC retry throttling shared by operations (maxTokens 10, ratio 0.1).
    println!("\n== gRPC retryThrottling (maxTokens 10, tokenRatio 0.1) ==");
    let budget =
        RetryBudget::new(BudgetConfig::preset(BudgetPreset::Grpc)).map_err(|e| e.to_string())?;
    let (gcfg, gbackoff) = RetryConfig::preset(RetryPreset::Grpc);
    let grpc = Retry::new(
        gcfg,
        BackoffConfig {
            seed: 7,
            ..gbackoff
        },
    )
    .map_err(|e| e.to_string())?;
    let mut now = 0;
    let mut throttled = 0;
    for op in 1..=4 {
        let mut st = grpc.begin_at(now, NO_DEADLINE, Some(&budget));
        loop {
            now += ATTEMPT;
            let d = grpc
                .next_at(
                    &mut st,
                    now,
                    RetryOutcome::Failure,
                    false,
                    RETRY_AFTER_NONE,
                    Some(&budget),
                )
                .map_err(|e| e.to_string())?;
            let tokens = budget.metrics_at(now).tokens;
            if !d.retry {
                println!(
                    "op {op}: stop ({:?}) after {} attempts; tokens {:.1}",
                    d.reason,
                    d.attempt,
                    tokens as f64 / 1000.0
                );
                if d.reason == resilience::core::retry::Reason::Budget {
                    throttled += 1;
                }
                break;
            }
            println!(
                "op {op}: retry {} in {:.3}s; tokens {:.1}",
                d.attempt - 1,
                secs(d.delay_ns),
                tokens as f64 / 1000.0
            );
            now = d.retry_at_ns;
        }
    }
    if throttled == 0 {
        return Err("the throttle should have stopped retries".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
