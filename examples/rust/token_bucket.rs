//! The seeds' token bucket (capacity 100, 10 tokens per second, acquire 1)
//! with the Rust API, then the same bucket step by step in virtual time:
//! refill, the burst cap, a reservation and its cancellation. The semantics
//! are golang.org/x/time/rate's (docs/semantics.md, "Token bucket").
//! `examples/c/token_bucket.c` is the same program through the C ABI and
//! prints the same lines.

use resilience::core::token_bucket::INF_DURATION;
use resilience::{now_ns, ErrorKind, TokenBucket, TokenBucketConfig};

const MS: i64 = 1_000_000;

fn seconds(ns: i64) -> f64 {
    ns as f64 / 1e9
}

fn allow_many(b: &TokenBucket, now: i64, n: usize) -> Result<usize, resilience::Error> {
    let mut passed = 0;
    for _ in 0..n {
        passed += usize::from(b.allow_at(now, 1)?);
    }
    Ok(passed)
}

#[allow(clippy::float_cmp)] // the token counts are exact (x/time/rate's formulas)
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut surprises = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            surprises.push(what.to_owned());
        }
    };
    let cfg = TokenBucketConfig {
        burst: 100,         // capacity
        rate_per_sec: 10.0, // 10 tokens per second
    };

    // The seeds' example, on the library clock.
    let limiter = TokenBucket::new(cfg)?;
    println!("TokenBucket(capacity=100, rate=10) on the library clock:");
    let allowed = limiter.allow_now(now_ns, 1)?;
    println!(
        "  acquire(1): {}",
        if allowed {
            "Request allowed"
        } else {
            "Request rate limited"
        }
    );
    expect(allowed, "a full bucket grants the first request");

    // The same bucket in virtual time.
    let limiter = TokenBucket::new(cfg)?;
    println!("\nThe same bucket in virtual time:");

    let t = 0;
    let passed = allow_many(&limiter, t, 120)?;
    let tokens = limiter.tokens_at(t);
    println!(
        "  t={:6.3}s  120 requests: {passed} allowed, {} limited; tokens {tokens:.3}",
        seconds(t),
        120 - passed
    );
    expect(passed == 100 && tokens == 0.0, "100 of 120 at t=0");

    let t = 100 * MS;
    let tokens = limiter.tokens_at(t);
    let passed = allow_many(&limiter, t, 1)?;
    println!(
        "  t={:6.3}s  tokens {tokens:.3}; 1 request: {}",
        seconds(t),
        if passed == 1 { "allowed" } else { "limited" }
    );
    expect(tokens == 1.0 && passed == 1, "one token back after 100 ms");

    let t = 550 * MS;
    let tokens = limiter.tokens_at(t);
    let passed = allow_many(&limiter, t, 5)?;
    println!(
        "  t={:6.3}s  tokens {tokens:.3}; 5 requests: {passed} allowed, {} limited",
        seconds(t),
        5 - passed
    );
    expect(tokens == 4.5 && passed == 4, "4.5 tokens grant 4");

    let t = 10_550 * MS;
    let tokens = limiter.tokens_at(t);
    println!(
        "  t={:6.3}s  tokens {tokens:.3} (capped at the capacity)",
        seconds(t)
    );
    expect(tokens == 100.0, "full again");

    match limiter.reserve_at(t, 105, INF_DURATION) {
        Err(e) if e.kind == ErrorKind::ExceedsCapacity => {
            println!(
                "  t={:6.3}s  reserve 105: RSL_ERR_EXCEEDS_CAPACITY ({e})",
                seconds(t)
            );
        }
        other => expect(
            false,
            &format!("105 > capacity can never succeed: {other:?}"),
        ),
    }

    let allowed = limiter.allow_at(t, 100)?;
    let mut r = limiter.reserve_at(t, 5, INF_DURATION)?;
    let tokens = limiter.tokens_at(t);
    println!(
        "  t={:6.3}s  take 100, reserve 5: act at t={:.3}s (wait {} ms); tokens {tokens:.3}",
        seconds(t),
        seconds(r.time_to_act_ns),
        r.delay_from(t) / MS
    );
    expect(
        allowed && r.ok && r.time_to_act_ns == 11_050 * MS && tokens == -5.0,
        "5 more act 500 ms later",
    );

    let t = 10_800 * MS;
    limiter.cancel_at(t, &mut r)?;
    let tokens = limiter.tokens_at(t);
    println!(
        "  t={:6.3}s  cancel it: tokens {tokens:.3} (-5 + 2.5 earned + 5 given back)",
        seconds(t)
    );
    expect(
        r.cancelled && tokens == 2.5,
        "the reservation's tokens come back",
    );

    let r = limiter.reserve_at(t, 5, 100 * MS)?;
    println!(
        "  t={:6.3}s  reserve 5 waiting at most 100 ms: {}",
        seconds(t),
        if r.ok {
            "granted"
        } else {
            "refused (it would wait 250 ms); nothing changed"
        }
    );
    expect(
        !r.ok && limiter.tokens_at(t) == 2.5,
        "a refused reservation changes nothing",
    );

    if surprises.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected: {surprises:?}").into())
    }
}
