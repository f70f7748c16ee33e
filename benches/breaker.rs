//! Breaker hot path: acquire + record in the closed state, through the Rust
//! API and through the C ABI, single-threaded and with 2 threads contending,
//! beside failsafe-rs (a Rust circuit breaker) and a minimal mutex-protected
//! consecutive-failure counter (the floor for a locked design).
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use failsafe::CircuitBreaker as _;
use parking_lot::Mutex;
use resilience::core::breaker::{Breaker, Config, Policy};
use resilience::ffi::breaker::*;
use resilience::Outcome;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config() -> Config {
    Config {
        policy: Policy::Consecutive,
        ..Config::default()
    }
}

/// The floor: a consecutive-failure counter under a mutex.
struct MutexBreaker {
    state: Mutex<(u32, bool)>,
}

impl MutexBreaker {
    fn acquire(&self) -> bool {
        !self.state.lock().1
    }
    fn record(&self, ok: bool) {
        let mut s = self.state.lock();
        if ok {
            s.0 = 0;
        } else {
            s.0 += 1;
            if s.0 >= 5 {
                s.1 = true;
            }
        }
    }
}

/// Runs `op` on `threads` threads, `iters` times each, returning the wall
/// time divided so criterion reports the cost of one operation per thread.
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
    let mut g = c.benchmark_group("breaker acquire+record (1 thread)");
    let b = Breaker::new(config(), 0).unwrap();
    let mut t = 0i64;
    g.bench_function("libresilience Rust API, virtual time", |bn| {
        bn.iter(|| {
            t += 1;
            let p = b.acquire_at(t).decision.unwrap();
            black_box(b.record_at(t, &p, Outcome::Success));
        });
    });
    g.bench_function("libresilience Rust API, library clock", |bn| {
        bn.iter(|| {
            let p = b.acquire_at(resilience::now_ns()).decision.unwrap();
            black_box(b.record_at(resilience::now_ns(), &p, Outcome::Success));
        });
    });
    let mut h: *mut rsl_breaker = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_breaker_new_at(std::ptr::null(), 0, &mut h, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    g.bench_function("libresilience C ABI, library clock", |bn| {
        bn.iter(|| unsafe {
            let mut a = rsl_breaker_acquire_result::default();
            assert_eq!(
                rsl_breaker_acquire(h, &mut a, std::ptr::null_mut()),
                resilience::ffi::RSL_OK
            );
            black_box(rsl_breaker_record(
                h,
                &a.permit,
                resilience::ffi::RSL_OUTCOME_SUCCESS,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            ));
        });
    });
    unsafe { rsl_breaker_free(h) };
    let fs = failsafe::Config::new().build();
    g.bench_function("failsafe-rs call (peer)", |bn| {
        bn.iter(|| black_box(fs.call(|| Ok::<(), ()>(()))));
    });
    let m = MutexBreaker {
        state: Mutex::new((0, false)),
    };
    g.bench_function("mutex counter (floor)", |bn| {
        bn.iter(|| {
            if m.acquire() {
                m.record(true);
            }
        });
    });
    g.finish();
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker acquire+record (2 threads, one handle)");
    let b = Arc::new(Breaker::new(config(), 0).unwrap());
    g.bench_function("libresilience Rust API, library clock", |bn| {
        bn.iter_custom(|iters| {
            let b = Arc::clone(&b);
            contended(2, iters, move || {
                let p = b.acquire_at(resilience::now_ns()).decision.unwrap();
                black_box(b.record_at(resilience::now_ns(), &p, Outcome::Success));
            })
        });
    });
    let fs = Arc::new(failsafe::Config::new().build());
    g.bench_function("failsafe-rs call (peer)", |bn| {
        bn.iter_custom(|iters| {
            let fs = Arc::clone(&fs);
            contended(2, iters, move || {
                black_box(fs.call(|| Ok::<(), ()>(())).ok());
            })
        });
    });
    let m = Arc::new(MutexBreaker {
        state: Mutex::new((0, false)),
    });
    g.bench_function("mutex counter (floor)", |bn| {
        bn.iter_custom(|iters| {
            let m = Arc::clone(&m);
            contended(2, iters, move || {
                if m.acquire() {
                    m.record(true);
                }
            })
        });
    });
    g.finish();
}

criterion_group!(benches, single, two_threads);
criterion_main!(benches);
