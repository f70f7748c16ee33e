//! Retry hot paths: the next delay of each backoff strategy, a retry
//! decision, and the budget checks, single-threaded and with 2 threads on
//! one handle, beside the `backoff` crate's ExponentialBackoff and tower's
//! retry `TpsBudget` (peers).
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use backoff::backoff::Backoff as _;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use resilience::core::backoff::{Backoff, BackoffConfig, BackoffState, Preset};
use resilience::core::retry::{
    Retry, RetryConfig, RetryOutcome, RetryPreset, NO_DEADLINE, RETRY_AFTER_NONE,
};
use resilience::core::retry_budget::{BudgetConfig, BudgetPreset, RetryBudget};
use resilience::ffi::backoff::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::retry::budget::{Budget as _, TpsBudget};

const PRESETS: &[(&str, Preset)] = &[
    ("exponential (seeds)", Preset::Default),
    (
        "exponential + proportional jitter (seeds)",
        Preset::SeedsJitter,
    ),
    ("gRPC connection", Preset::GrpcConnection),
    ("gRPC A6 retry", Preset::GrpcRetry),
    ("AWS full jitter", Preset::AwsFullJitter),
    ("AWS decorrelated", Preset::AwsDecorrelated),
    ("AWS standard", Preset::AwsStandard),
    (
        "Polly DecorrelatedJitterV2",
        Preset::PollyV8DecorrelatedJitter,
    ),
    (
        "Resilience4j exponential random",
        Preset::Resilience4jExponentialRandom,
    ),
];

fn contended(threads: usize, iters: u64, op: impl Fn() + Send + Sync + 'static) -> Duration {
    let op = Arc::new(op);
    let barrier = Arc::new(std::sync::Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let op = Arc::clone(&op);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..iters {
                    op();
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    start.elapsed()
}

fn seeded(p: Preset) -> BackoffConfig {
    BackoffConfig {
        seed: 1,
        ..BackoffConfig::preset(p)
    }
}

fn backoff_single(c: &mut Criterion) {
    let mut g = c.benchmark_group("backoff next delay (1 thread, attempts 1..=8)");
    for (name, p) in PRESETS {
        let cfg = seeded(*p);
        let mut n = 0u32;
        let mut st = BackoffState::default();
        g.bench_function(format!("{name}: pure, u given"), |bn| {
            bn.iter(|| {
                n = n % 8 + 1;
                black_box(cfg.delay_with_u(black_box(n), 0.37, &mut st).unwrap())
            });
        });
        let b = Backoff::new(cfg).unwrap();
        g.bench_function(format!("{name}: handle PRNG"), |bn| {
            bn.iter(|| {
                n = n % 8 + 1;
                black_box(b.next(black_box(n), &mut st).unwrap())
            });
        });
    }
    let cfg = rsl_backoff_config::from(seeded(Preset::GrpcConnection));
    let mut h: *mut rsl_backoff = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_backoff_new(&cfg, &mut h, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    let mut n = 0u32;
    let mut st = rsl_backoff_state::default();
    g.bench_function("gRPC connection: C ABI rsl_backoff_next", |bn| {
        bn.iter(|| unsafe {
            n = n % 8 + 1;
            let mut d = 0i64;
            assert_eq!(
                rsl_backoff_next(h, n, &mut st, &mut d, std::ptr::null_mut()),
                resilience::ffi::RSL_OK
            );
            black_box(d)
        });
    });
    unsafe { rsl_backoff_free(h) };
    let mut peer = backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_secs(1))
        .with_multiplier(1.6)
        .with_randomization_factor(0.2)
        .with_max_interval(Duration::from_secs(120))
        .with_max_elapsed_time(None)
        .build();
    let mut k = 0u32;
    g.bench_function(
        "backoff crate ExponentialBackoff::next_backoff (peer)",
        |bn| {
            bn.iter(|| {
                k += 1;
                if k % 8 == 0 {
                    peer.reset();
                }
                black_box(peer.next_backoff())
            });
        },
    );
    g.finish();
}

fn retry_single(c: &mut Criterion) {
    let mut g = c.benchmark_group("retry decision (1 thread)");
    let (cfg, b) = RetryConfig::preset(RetryPreset::Grpc);
    let policy = Retry::new(cfg, BackoffConfig { seed: 1, ..b }).unwrap();
    let mut t = 0i64;
    g.bench_function("begin + next(failure) -> retry, gRPC preset", |bn| {
        bn.iter(|| {
            t += 1;
            let mut st = policy.begin_at(t, NO_DEADLINE, None);
            black_box(
                policy
                    .next_at(
                        &mut st,
                        t,
                        RetryOutcome::Failure,
                        false,
                        RETRY_AFTER_NONE,
                        None,
                    )
                    .unwrap(),
            )
        });
    });
    let budget = RetryBudget::new(BudgetConfig::preset(BudgetPreset::Grpc)).unwrap();
    g.bench_function("begin + next(success), gRPC throttling budget", |bn| {
        bn.iter(|| {
            t += 1;
            let mut st = policy.begin_at(t, NO_DEADLINE, Some(&budget));
            black_box(
                policy
                    .next_at(
                        &mut st,
                        t,
                        RetryOutcome::Success,
                        false,
                        RETRY_AFTER_NONE,
                        Some(&budget),
                    )
                    .unwrap(),
            )
        });
    });
    g.finish();
}

fn budgets() -> Vec<(&'static str, BudgetPreset)> {
    vec![
        ("ratio (tower preset)", BudgetPreset::Tower),
        ("tokens (gRPC)", BudgetPreset::Grpc),
        ("quota (AWS)", BudgetPreset::AwsStandard),
    ]
}

/// One request and one retry check: deposit, withdraw, record success.
fn budget_cycle(b: &RetryBudget, t: i64) {
    let d = b.deposit_at(t);
    b.record_at(t, &d, RetryOutcome::Success);
    if let Some(r) = b.try_withdraw_at(t, false) {
        b.record_at(t, &r, RetryOutcome::Success);
    }
}

fn budget_single(c: &mut Criterion) {
    let mut g = c.benchmark_group("budget deposit + withdraw (1 thread)");
    for (name, p) in budgets() {
        let b = RetryBudget::new(BudgetConfig::preset(p)).unwrap();
        let mut t = 0i64;
        g.bench_function(format!("{name}, virtual time"), |bn| {
            bn.iter(|| {
                t += 1_000;
                budget_cycle(&b, t);
            });
        });
    }
    let b = RetryBudget::new(BudgetConfig::preset(BudgetPreset::Tower)).unwrap();
    g.bench_function("ratio (tower preset), library clock", |bn| {
        bn.iter(|| budget_cycle(&b, resilience::now_ns()));
    });
    let tower = TpsBudget::default();
    g.bench_function("tower TpsBudget deposit + withdraw (peer)", |bn| {
        bn.iter(|| {
            tower.deposit();
            black_box(tower.withdraw())
        });
    });
    g.finish();
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("2 threads, one handle");
    let b = Arc::new(Backoff::new(seeded(Preset::GrpcConnection)).unwrap());
    g.bench_function("backoff next, gRPC connection, handle PRNG", |bn| {
        bn.iter_custom(|iters| {
            let b = Arc::clone(&b);
            contended(2, iters, move || {
                let mut st = BackoffState::default();
                black_box(b.next(5, &mut st).unwrap());
            })
        });
    });
    let cfg = seeded(Preset::GrpcConnection);
    g.bench_function(
        "backoff delay, gRPC connection, pure (no shared state)",
        |bn| {
            bn.iter_custom(|iters| {
                contended(2, iters, move || {
                    let mut st = BackoffState::default();
                    black_box(cfg.delay_with_u(5, 0.37, &mut st).unwrap());
                })
            });
        },
    );
    for (name, p) in budgets() {
        let b = Arc::new(RetryBudget::new(BudgetConfig::preset(p)).unwrap());
        g.bench_function(format!("budget {name}, library clock"), |bn| {
            bn.iter_custom(|iters| {
                let b = Arc::clone(&b);
                contended(2, iters, move || budget_cycle(&b, resilience::now_ns()))
            });
        });
    }
    let tower = Arc::new(TpsBudget::default());
    g.bench_function("tower TpsBudget deposit + withdraw (peer)", |bn| {
        bn.iter_custom(|iters| {
            let t = Arc::clone(&tower);
            contended(2, iters, move || {
                t.deposit();
                black_box(t.withdraw());
            })
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    backoff_single,
    retry_single,
    budget_single,
    two_threads
);
criterion_main!(benches);
