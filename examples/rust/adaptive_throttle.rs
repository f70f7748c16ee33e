//! Client-side adaptive throttling with the Rust API, in virtual time: a
//! backend that rejects 80 % of requests from t = 10 s to t = 30 s. The
//! client sheds locally while accepts are scarce and recovers after.

use resilience::{AdaptiveThrottle, Outcome, ThrottleConfig};

const S: i64 = 1_000_000_000;

fn main() -> Result<(), resilience::Error> {
    let throttle = AdaptiveThrottle::new(ThrottleConfig {
        window_ns: 10 * S,
        buckets: 10,
        seed: 2026,
        ..ThrottleConfig::default()
    })?;
    let mut backend_calls = 0u64;
    println!("  t   sent  shed  backend-accepted  p(drop)");
    for second in 0..50 {
        let (mut sent, mut shed, mut accepted) = (0, 0, 0);
        for i in 0..100 {
            let now = second * S + i * (S / 100);
            let decision = throttle.allow_at(now);
            if !decision.allowed {
                shed += 1;
                continue;
            }
            sent += 1;
            backend_calls += 1;
            // The backend rejects four requests in five while degraded.
            let degraded = (10..30).contains(&second) && backend_calls % 5 != 0;
            let outcome = if degraded {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            if outcome == Outcome::Success {
                accepted += 1;
            }
            throttle.record_at(now, &decision.ticket, outcome);
        }
        if second % 5 == 4 || (9..13).contains(&second) {
            let p = throttle.metrics_at((second + 1) * S).drop_probability;
            println!("{second:>3}s  {sent:>4}  {shed:>4}  {accepted:>16}  {p:.3}");
        }
    }
    let m = throttle.metrics_at(50 * S);
    println!(
        "lifetime: {} allowed, {} shed locally",
        m.allowed_total, m.rejected_total
    );
    Ok(())
}
