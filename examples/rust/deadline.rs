//! Deadline propagation in virtual time (the seeds' 超时传递): a request
//! arrives at service A with `grpc-timeout: 1S`; A spends 200 ms, then calls
//! B with B's 500 ms per-call timeout shrunk to what is left, encodes it in
//! the outgoing header, and B rebuilds the deadline on its own clock. Later
//! calls are bounded by the request's deadline, one is not started because
//! too little is left, and a misconfigured 60 s timeout is refused.
//!
//! Run: `cargo run --example deadline`.

use resilience::core::deadline::{self, Decision, Limit, Policy, PolicyConfig};
use std::error::Error;

const MS: i64 = 1_000_000;

fn ms(ns: i64) -> String {
    if ns == deadline::NONE {
        "none".to_owned()
    } else {
        format!("{} ms", ns as f64 / MS as f64)
    }
}

fn ensure(ok: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // The kit guard (seeds): 100 ms default, per-call timeouts within
    // [1 ms, 10 s]; and do not start a call with less than 100 ms left.
    let policy = Policy::new(PolicyConfig {
        min_budget_ns: 100 * MS,
        ..PolicyConfig::default()
    })?;

    // t = 0 on A's clock: the request arrives.
    let a_now = 0;
    let incoming = deadline::grpc_timeout_decode(b"1S")?;
    let a_deadline = deadline::from_timeout_at(a_now, incoming.timeout_ns)?;
    println!(
        "A  t={:>7}  request in, grpc-timeout: 1S -> {} budget, deadline {} on A's clock",
        ms(a_now),
        ms(incoming.timeout_ns),
        ms(a_deadline)
    );
    ensure(a_deadline == 1_000 * MS, "A's deadline")?;

    // A works 200 ms, then calls B (B's per-call timeout: 500 ms).
    let a_now = 200 * MS;
    let plan = policy.call_at(a_now, a_deadline, 500 * MS)?;
    let header = deadline::grpc_timeout_encode(plan.timeout_ns)?;
    println!(
        "A  t={:>7}  {} left; call B with min(500 ms, {}) = {} ({:?}) -> grpc-timeout: {header}",
        ms(a_now),
        ms(plan.remaining_ns),
        ms(plan.remaining_ns),
        ms(plan.timeout_ns),
        plan.limited_by
    );
    ensure(
        plan.decision == Decision::Proceed && plan.limited_by == Limit::CallTimeout,
        "call to B",
    )?;
    ensure(header.as_str() == "500m", "header to B")?;

    // B's clock has another epoch: it reads 7 s when the request arrives.
    let b_now = 7_000 * MS;
    let at_b = deadline::grpc_timeout_decode(header.as_bytes())?;
    let b_deadline = deadline::from_timeout_at(b_now, at_b.timeout_ns)?;
    println!(
        "B  t={:>7}  grpc-timeout: {header} -> {} budget, deadline {} on B's clock",
        ms(b_now),
        ms(at_b.timeout_ns),
        ms(b_deadline)
    );
    ensure(b_deadline == 7_500 * MS, "B's deadline")?;
    let b_done = b_now + 450 * MS;
    println!(
        "B  t={:>7}  replies after 450 ms, {} of its budget left",
        ms(b_done),
        ms(deadline::remaining_at(b_deadline, b_done))
    );

    // Back at A (t = 650 ms): call C with 500 ms; only 350 ms are left.
    let a_now = 650 * MS;
    let plan = policy.call_at(a_now, a_deadline, 500 * MS)?;
    let header = deadline::grpc_timeout_encode(plan.timeout_ns)?;
    let http = deadline::http_timeout_encode(plan.timeout_ns)?;
    println!("A  t={:>7}  {} left; call C with min(500 ms, {}) = {} ({:?}) -> grpc-timeout: {header} / x-rsl-timeout-ms: {http}",
        ms(a_now), ms(plan.remaining_ns), ms(plan.remaining_ns), ms(plan.timeout_ns), plan.limited_by);
    ensure(
        plan.limited_by == Limit::Deadline && header.as_str() == "350m" && http.as_str() == "350",
        "call to C",
    )?;

    // t = 920 ms: 80 ms left, under the 100 ms minimum budget: skip D.
    let a_now = 920 * MS;
    let plan = policy.call_at(a_now, a_deadline, 0)?;
    println!(
        "A  t={:>7}  {} left < 100 ms minimum: call to D not started ({:?})",
        ms(a_now),
        ms(plan.remaining_ns),
        plan.decision
    );
    ensure(plan.decision == Decision::Insufficient, "call to D")?;

    // t = 1000 ms: the deadline is reached (inclusive).
    let a_now = 1_000 * MS;
    let plan = policy.call_at(a_now, a_deadline, 0)?;
    println!(
        "A  t={:>7}  expired={} -> fail with DEADLINE_EXCEEDED ({:?})",
        ms(a_now),
        deadline::expired_at(a_deadline, a_now),
        plan.decision
    );
    ensure(plan.decision == Decision::Expired, "expiry")?;

    // The kit guard: a 60 s per-call timeout is refused, never clamped.
    let plan = policy.call_at(0, deadline::NONE, 60_000 * MS)?;
    println!(
        "kit guard: per-call timeout 60 s -> {:?} (max_timeout_ns = {})",
        plan.decision,
        ms(policy.config().max_timeout_ns)
    );
    ensure(plan.decision == Decision::AboveMax, "kit guard")?;

    // A malformed incoming header is an error naming the value.
    let bad = deadline::grpc_timeout_decode(b"1s");
    println!(
        "grpc-timeout: 1s -> {}",
        bad.as_ref()
            .map_or_else(ToString::to_string, |d| format!("{d:?}"))
    );
    ensure(bad.is_err(), "lower-case s refused")?;
    Ok(())
}
