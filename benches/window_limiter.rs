//! Window limiter hot path: one try-acquire of 1 permit, in each mode,
//! through the Rust API (virtual time) and the C ABI (library clock),
//! single-threaded and with 2 threads contending on one handle, beside a
//! minimal mutex-protected fixed-window counter (the floor of a locked
//! design).
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use parking_lot::Mutex;
use resilience::core::window_limiter::{Mode, WindowLimiter, WindowLimiterConfig};
use resilience::ffi::criticality::RSL_CRITICALITY_CRITICAL;
use resilience::ffi::window_limiter::*;
use resilience::Criticality;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECOND: i64 = 1_000_000_000;

fn limiter(mode: Mode, limit: u32) -> WindowLimiter {
    WindowLimiter::new(WindowLimiterConfig {
        mode,
        limit,
        window_ns: SECOND,
        buckets: 10,
        ..WindowLimiterConfig::default()
    })
    .unwrap()
}

const MODES: [(&str, Mode); 3] = [
    ("fixed", Mode::Fixed),
    ("sliding buckets (10)", Mode::SlidingBuckets),
    ("sliding weighted", Mode::SlidingWeighted),
];

/// The floor: a fixed-window counter under a mutex.
struct MutexWindow {
    state: Mutex<(i64, u64)>,
    limit: u64,
}

impl MutexWindow {
    fn try_acquire(&self, now: i64) -> bool {
        let mut s = self.state.lock();
        let w = now.div_euclid(SECOND);
        if w != s.0 {
            *s = (w, 0);
        }
        if s.1 < self.limit {
            s.1 += 1;
            true
        } else {
            false
        }
    }
}

/// Runs `op` on `threads` threads, `iters` times each; the wall time is the
/// cost of one operation per thread.
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

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("window limiter try_acquire (1 thread)");
    for (name, mode) in MODES {
        // Always granted: a limit no run reaches, virtual time 1 us a call.
        let l = limiter(mode, u32::MAX);
        let mut t = 0i64;
        g.bench_function(
            format!("libresilience {name}, granted, virtual time"),
            |b| {
                b.iter(|| {
                    t += 1000;
                    black_box(l.try_acquire_at(t, 1, Criticality::Critical).unwrap())
                });
            },
        );
        // Always denied: the window is full, so each call also computes its
        // retry_after_ns (sliding buckets scans the buckets).
        let full = limiter(mode, 10);
        for k in 0..10 {
            full.try_acquire_at(k * 100_000_000, 1, Criticality::Critical)
                .unwrap();
        }
        let at = 950_000_000;
        g.bench_function(format!("libresilience {name}, denied"), |b| {
            b.iter(|| black_box(full.try_acquire_at(at, 1, Criticality::Critical).unwrap()));
        });
    }
    let l = limiter(Mode::SlidingBuckets, u32::MAX);
    g.bench_function(
        "libresilience sliding buckets, Rust API, library clock",
        |b| {
            b.iter(|| {
                black_box(
                    l.try_acquire_at(resilience::now_ns(), 1, Criticality::Critical)
                        .unwrap(),
                )
            });
        },
    );
    let mut cfg = rsl_window_limiter_config::from(WindowLimiterConfig::default());
    cfg.limit = u32::MAX;
    let mut h: *mut rsl_window_limiter = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_window_limiter_new(&cfg, &mut h, std::ptr::null_mut()) },
        0
    );
    g.bench_function("libresilience sliding buckets, C ABI, library clock", |b| {
        b.iter(|| unsafe {
            let mut d = rsl_window_limiter_decision::default();
            black_box(rsl_window_limiter_try_acquire(
                h,
                1,
                RSL_CRITICALITY_CRITICAL,
                &mut d,
                std::ptr::null_mut(),
            ));
            black_box(d)
        });
    });
    unsafe { rsl_window_limiter_free(h) };
    let m = MutexWindow {
        state: Mutex::new((0, 0)),
        limit: u64::MAX,
    };
    let mut t = 0i64;
    g.bench_function("mutex fixed-window counter (floor), virtual time", |b| {
        b.iter(|| {
            t += 1000;
            black_box(m.try_acquire(t))
        });
    });
    g.finish();
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("window limiter try_acquire (2 threads, one handle)");
    for (name, mode) in MODES {
        let l = Arc::new(limiter(mode, u32::MAX));
        let clock = Arc::new(AtomicI64::new(0));
        g.bench_function(format!("libresilience {name}, virtual time"), |b| {
            b.iter_custom(|iters| {
                let (l, clock) = (Arc::clone(&l), Arc::clone(&clock));
                contended(2, iters, move || {
                    let t = clock.fetch_add(1000, Ordering::Relaxed);
                    black_box(l.try_acquire_at(t, 1, Criticality::Critical).unwrap());
                })
            });
        });
    }
    let m = Arc::new(MutexWindow {
        state: Mutex::new((0, 0)),
        limit: u64::MAX,
    });
    let clock = Arc::new(AtomicI64::new(0));
    g.bench_function("mutex fixed-window counter (floor), virtual time", |b| {
        b.iter_custom(|iters| {
            let (m, clock) = (Arc::clone(&m), Arc::clone(&clock));
            contended(2, iters, move || {
                let t = clock.fetch_add(1000, Ordering::Relaxed);
                black_box(m.try_acquire(t));
            })
        });
    });
    g.finish();
}

criterion_group!(benches, single, two_threads);
criterion_main!(benches);
