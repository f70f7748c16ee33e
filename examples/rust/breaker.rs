//! The seeds' breaker usage with the Rust API, step by step in virtual time:
//! a protected call that fails five times opens the breaker; calls are
//! rejected while it is open; after the 60 s timeout trial calls go through
//! and two successes close it.

use resilience::core::breaker::{Breaker, Config, Event, State};
use resilience::Outcome;

const S: i64 = 1_000_000_000;

/// The protected operation: a Redis GET that fails while the server is down.
fn redis_get(key: &str, server_up: bool) -> Result<String, String> {
    if server_up {
        Ok(format!("value_{key}"))
    } else {
        Err("Redis connection failed".to_owned())
    }
}

/// Runs `op` under the breaker at `now`, as an `execute` helper would.
fn call(b: &Breaker, now: i64, server_up: bool) -> Result<String, String> {
    let acquired = b.acquire_at(now);
    let permit = match acquired.decision {
        Ok(p) => p,
        Err(why) => {
            return Err(format!(
                "rejected ({why:?}), retry in {:.1} s",
                acquired.retry_after_ns as f64 / S as f64
            ))
        }
    };
    let result = redis_get("key1", server_up);
    let outcome = if result.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    b.record_at(now, &permit, outcome);
    result
}

fn show(b: &Breaker, now: i64, what: &str, result: &Result<String, String>) {
    let state = b.state_at(now);
    println!(
        "t={:>5.1}s  {what:<28} -> {result:<45?} state {state:?}",
        now as f64 / S as f64
    );
}

fn main() -> Result<(), resilience::Error> {
    // failure_threshold=5, timeout=60 s, half_open_max_calls=3, success_threshold=2
    let cfg = Config {
        consecutive_failures: 5,
        wait_duration_ns: 60 * S,
        max_wait_duration_ns: 60 * S,
        half_open_max_calls: 3,
        half_open_success_threshold: 2,
        ..Config::default()
    };
    let breaker = Breaker::new(cfg, 0)?;
    for i in 0..5 {
        let now = i * S;
        let r = call(&breaker, now, false);
        show(&breaker, now, "server down", &r);
    }
    assert_eq!(breaker.state_at(5 * S), State::Open);
    let r = call(&breaker, 30 * S, true);
    show(&breaker, 30 * S, "server back, breaker open", &r);
    for (k, now) in [(1, 64 * S), (2, 65 * S)] {
        let r = call(&breaker, now, true);
        show(&breaker, now, &format!("trial call {k}"), &r);
    }
    assert_eq!(breaker.state_at(65 * S), State::Closed);

    let mut events = [Event {
        seq: 0,
        at_ns: 0,
        from: State::Closed,
        to: State::Closed,
        reason: resilience::core::breaker::Reason::Manual,
        generation: 0,
    }; 8];
    let n = breaker.drain_events(&mut events);
    println!("transitions:");
    for e in events.iter().take(n) {
        println!(
            "  #{} t={:.1}s {:?} -> {:?} ({:?})",
            e.seq,
            e.at_ns as f64 / S as f64,
            e.from,
            e.to,
            e.reason
        );
    }
    Ok(())
}
