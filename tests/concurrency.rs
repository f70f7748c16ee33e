//! Many threads on one handle: the counters stay exact and half-open never
//! admits more trials than configured. No timing is asserted.
#![allow(missing_docs)]

use resilience::core::breaker::{Breaker, Config, Policy, State};
use resilience::{AdaptiveThrottle, Outcome, ThrottleConfig};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

const THREADS: usize = 4;
const ITERS: u64 = 20_000;

#[test]
fn breaker_counts_stay_exact_under_contention() {
    let cfg = Config {
        policy: Policy::External,
        ..Config::default()
    };
    let b = Arc::new(Breaker::new(cfg, 0).unwrap());
    let clock = Arc::new(AtomicI64::new(0));
    let admitted = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, clock, admitted) = (Arc::clone(&b), Arc::clone(&clock), Arc::clone(&admitted));
            std::thread::spawn(move || {
                for i in 0..ITERS {
                    let now = clock.fetch_add(1, Ordering::Relaxed);
                    let a = b.acquire_at(now);
                    let p = a.decision.unwrap();
                    admitted.fetch_add(1, Ordering::Relaxed);
                    let outcome = match (i + t as u64) % 3 {
                        0 => Outcome::Success,
                        1 => Outcome::Failure,
                        _ => Outcome::Ignored,
                    };
                    assert!(b.record_at(now, &p, outcome).counted);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = b.metrics_at(clock.load(Ordering::Relaxed));
    let total = THREADS as u64 * ITERS;
    assert_eq!(m.counts.requests, total);
    assert_eq!(admitted.load(Ordering::Relaxed), total);
    assert_eq!(
        m.counts.total_successes + m.counts.total_failures + m.counts.total_exclusions,
        total
    );
    assert_eq!(m.state, State::Closed);
}

#[test]
fn half_open_admits_exactly_its_trials_under_contention() {
    let cfg = Config {
        half_open_max_calls: 3,
        half_open_success_threshold: 3,
        ..Config::default()
    };
    let b = Arc::new(Breaker::new(cfg, 0).unwrap());
    b.transition_at(0, State::HalfOpen);
    let admitted = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, admitted) = (Arc::clone(&b), Arc::clone(&admitted));
            std::thread::spawn(move || {
                for _ in 0..ITERS / 10 {
                    if b.acquire_at(1).decision.is_ok() {
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(admitted.load(Ordering::Relaxed), 3);
    let m = b.metrics_at(1);
    assert_eq!(m.half_open_in_flight, 3);
    assert_eq!(m.rejected_total, THREADS as u64 * ITERS / 10 - 3);
}

#[test]
fn throttle_totals_stay_exact_under_contention() {
    let t = Arc::new(
        AdaptiveThrottle::new(ThrottleConfig {
            seed: 17,
            ..ThrottleConfig::default()
        })
        .unwrap(),
    );
    let threads: Vec<_> = (0..THREADS)
        .map(|k| {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                for i in 0..ITERS {
                    let now = i64::try_from(i).unwrap();
                    let a = t.allow_at(now);
                    if a.allowed {
                        let outcome = if (i + k as u64) % 4 == 0 {
                            Outcome::Success
                        } else {
                            Outcome::Failure
                        };
                        t.record_at(now, &a.ticket, outcome);
                    }
                }
            })
        })
        .collect();
    for h in threads {
        h.join().unwrap();
    }
    let m = t.metrics_at(i64::try_from(ITERS).unwrap());
    assert_eq!(m.allowed_total + m.rejected_total, THREADS as u64 * ITERS);
    assert!(m.rejected_total > 0, "a 25% accept rate must be throttled");
}
