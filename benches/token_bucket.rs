//! Token bucket benchmarks: `allow` (x/time/rate semantics) against a plain
//! mutex-protected f64 bucket of the kind the seeds write, single-threaded
//! and with 2 threads contending on one bucket. Every variant advances a
//! virtual time by 500 ns per call at 1e6 tokens/s (half a token per call),
//! so about half the calls are granted, and pays the same clock cost.
//!
//! Run: `cargo bench --bench token_bucket -- --warm-up-time 1 --measurement-time 2`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use resilience::ffi::token_bucket::*;
use resilience::ffi::RSL_OK;
use resilience::{TokenBucket, TokenBucketConfig};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

const RATE: f64 = 1e6;
const BURST: i64 = 100;
const STEP: i64 = 500;

/// The reference: what one writes by hand (the seeds' TokenBucket), an f64
/// bucket behind `std::sync::Mutex`.
struct MutexBucket {
    state: Mutex<(f64, i64)>,
    capacity: f64,
    rate: f64,
}

impl MutexBucket {
    fn new(capacity: f64, rate: f64) -> Self {
        Self {
            state: Mutex::new((capacity, i64::MIN)),
            capacity,
            rate,
        }
    }

    fn acquire(&self, now: i64, n: f64) -> bool {
        let mut s = self.state.lock().unwrap();
        let elapsed = if s.1 == i64::MIN {
            0.0
        } else {
            (now - s.1).max(0) as f64 / 1e9
        };
        s.0 = (s.0 + elapsed * self.rate).min(self.capacity);
        s.1 = now;
        if s.0 >= n {
            s.0 -= n;
            true
        } else {
            false
        }
    }
}

fn ours() -> TokenBucket {
    TokenBucket::new(TokenBucketConfig {
        rate_per_sec: RATE,
        burst: BURST,
    })
    .unwrap()
}

struct Handle(*mut rsl_token_bucket);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}
impl Handle {
    fn get(&self) -> *mut rsl_token_bucket {
        self.0
    }
}

fn ffi() -> Handle {
    let cfg = rsl_token_bucket_config {
        struct_size: std::mem::size_of::<rsl_token_bucket_config>() as u32,
        reserved0: 0,
        rate_per_sec: RATE,
        burst: BURST,
    };
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_token_bucket_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Handle(h)
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_bucket/allow/1 thread");
    let b = ours();
    let mut now = 0i64;
    g.bench_function("libresilience core TokenBucket::allow_at", |bch| {
        bch.iter(|| {
            now += STEP;
            black_box(b.allow_at(black_box(now), 1).unwrap())
        });
    });
    let h = ffi();
    let mut now = 0i64;
    g.bench_function("libresilience C ABI rsl_token_bucket_allow_at", |bch| {
        bch.iter(|| {
            now += STEP;
            let mut ok = 0;
            assert_eq!(
                unsafe {
                    rsl_token_bucket_allow_at(
                        h.get(),
                        black_box(now),
                        1,
                        &mut ok,
                        std::ptr::null_mut(),
                    )
                },
                resilience::ffi::RSL_OK
            );
            black_box(ok)
        });
    });
    let r = MutexBucket::new(BURST as f64, RATE);
    let mut now = 0i64;
    g.bench_function("reference std Mutex<f64> bucket", |bch| {
        bch.iter(|| {
            now += STEP;
            black_box(r.acquire(black_box(now), 1.0))
        });
    });
    g.bench_function(
        "libresilience C ABI rsl_token_bucket_allow (real clock, std::ptr::null_mut())",
        |bch| {
            bch.iter(|| {
                let mut ok = 0;
                assert_eq!(
                    unsafe { rsl_token_bucket_allow(h.get(), 1, &mut ok, std::ptr::null_mut()) },
                    resilience::ffi::RSL_OK
                );
                black_box(ok)
            });
        },
    );
    g.finish();
    unsafe { rsl_token_bucket_free(h.0) };
}

/// Runs `op(thread, i)` `iters` times on each of 2 threads at once; the time
/// is the wall time of the run, so per iteration = one call on each thread.
fn two_threads(iters: u64, op: &(dyn Fn(usize, i64) + Sync)) -> Duration {
    let barrier = Barrier::new(3);
    std::thread::scope(|s| {
        for t in 0..2 {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for i in 0..iters as i64 {
                    op(t, i);
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("token_bucket/allow/2 threads");
    let b = ours();
    g.bench_function("libresilience core TokenBucket::allow_at", |bch| {
        bch.iter_custom(|iters| {
            two_threads(iters, &|_, i| {
                black_box(b.allow_at(i * STEP, 1).unwrap());
            })
        });
    });
    let h = ffi();
    g.bench_function("libresilience C ABI rsl_token_bucket_allow_at", |bch| {
        bch.iter_custom(|iters| {
            two_threads(iters, &|_, i| {
                let mut ok = 0;
                assert_eq!(
                    unsafe {
                        rsl_token_bucket_allow_at(
                            h.get(),
                            i * STEP,
                            1,
                            &mut ok,
                            std::ptr::null_mut(),
                        )
                    },
                    resilience::ffi::RSL_OK
                );
                black_box(ok);
            })
        });
    });
    let r = MutexBucket::new(BURST as f64, RATE);
    g.bench_function("reference std Mutex<f64> bucket", |bch| {
        bch.iter_custom(|iters| {
            two_threads(iters, &|_, i| {
                black_box(r.acquire(i * STEP, 1.0));
            })
        });
    });
    g.finish();
    unsafe { rsl_token_bucket_free(h.0) };
}

criterion_group!(benches, single, contended);
criterion_main!(benches);
