//! Adaptive (BBR) limiter hot path: acquire + release of a successful call,
//! through the Rust API (virtual time, manual CPU cool and hot) and the C
//! ABI (library clock), single-threaded and with 2 threads contending on one
//! handle, beside a minimal atomic in-flight counter (the floor: one
//! fetch_add and one fetch_sub, no statistics).
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use resilience::core::adaptive_limiter::{AdaptiveLimiter, AdaptiveLimiterConfig, CpuSource};
use resilience::ffi::adaptive_limiter::*;
use resilience::ffi::criticality::RSL_CRITICALITY_CRITICAL;
use resilience::ffi::RSL_OUTCOME_SUCCESS;
use resilience::{Criticality, Outcome};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn limiter(cpu: u32) -> AdaptiveLimiter {
    let l = AdaptiveLimiter::new(AdaptiveLimiterConfig {
        cpu_source: CpuSource::Manual,
        ..AdaptiveLimiterConfig::default()
    })
    .unwrap();
    l.set_cpu(cpu).unwrap();
    l
}

/// The floor: an in-flight counter checked against a fixed limit.
struct AtomicInflight {
    inflight: AtomicU64,
    limit: u64,
}

impl AtomicInflight {
    fn acquire(&self) -> bool {
        if self.inflight.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.inflight.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }
    fn release(&self) {
        self.inflight.fetch_sub(1, Ordering::AcqRel);
    }
}

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

fn call(l: &AdaptiveLimiter, t: i64) {
    let d = l.acquire_at(t, Criticality::Critical);
    if d.allowed {
        black_box(l.release_at(t + 2_000_000, &d.token, Outcome::Success));
    }
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("adaptive limiter acquire+release (1 thread)");
    for (name, cpu) in [("CPU below threshold", 100), ("CPU above threshold", 900)] {
        let l = limiter(cpu);
        let mut t = 0i64;
        g.bench_function(
            format!("libresilience Rust API, {name}, virtual time"),
            |b| {
                b.iter(|| {
                    t += 1000;
                    call(&l, t);
                });
            },
        );
    }
    let mut cfg = rsl_adaptive_limiter_config::from(AdaptiveLimiterConfig::default());
    cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
    let mut h: *mut rsl_adaptive_limiter = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_adaptive_limiter_new(&cfg, &mut h, std::ptr::null_mut()) },
        0
    );
    g.bench_function("libresilience C ABI, library clock", |b| {
        b.iter(|| unsafe {
            let mut d = rsl_adaptive_limiter_decision::default();
            assert_eq!(
                rsl_adaptive_limiter_acquire(
                    h,
                    RSL_CRITICALITY_CRITICAL,
                    &mut d,
                    std::ptr::null_mut()
                ),
                resilience::ffi::RSL_OK
            );
            black_box(rsl_adaptive_limiter_record(
                h,
                &d.token,
                RSL_OUTCOME_SUCCESS,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            ));
        });
    });
    unsafe { rsl_adaptive_limiter_free(h) };
    let a = AtomicInflight {
        inflight: AtomicU64::new(0),
        limit: 1000,
    };
    g.bench_function("atomic in-flight counter (floor)", |b| {
        b.iter(|| {
            if a.acquire() {
                a.release();
            }
        });
    });
    g.finish();
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("adaptive limiter acquire+release (2 threads, one handle)");
    let l = Arc::new(limiter(900));
    let clock = Arc::new(AtomicI64::new(0));
    g.bench_function(
        "libresilience Rust API, CPU above threshold, virtual time",
        |b| {
            b.iter_custom(|iters| {
                let (l, clock) = (Arc::clone(&l), Arc::clone(&clock));
                contended(2, iters, move || {
                    call(&l, clock.fetch_add(1000, Ordering::Relaxed));
                })
            });
        },
    );
    let a = Arc::new(AtomicInflight {
        inflight: AtomicU64::new(0),
        limit: 1000,
    });
    g.bench_function("atomic in-flight counter (floor)", |b| {
        b.iter_custom(|iters| {
            let a = Arc::clone(&a);
            contended(2, iters, move || {
                if a.acquire() {
                    a.release();
                }
            })
        });
    });
    g.finish();
}

criterion_group!(benches, single, two_threads);
criterion_main!(benches);
