//! Leaky bucket benchmarks. Every variant hands its decision (a bool, or
//! the permit time) to `black_box`, as the reference returns only that.
//!
//! GCRA meter `check` against governor 0.10 (`check()` of a
//! `RateLimiter::direct_with_clock` on its `FakeRelativeClock`, and of a
//! `RateLimiter::direct` on its quanta clock) and against a minimal lock-free GCRA written here (one
//! `AtomicI64` TAT, a CAS loop, a bool answer, nothing else). Virtual-time
//! variants all advance a shared atomic clock by 500 ns with the same CAS
//! loop governor's `FakeRelativeClock::advance` uses, then check: the same
//! operation for each. Quota: 1e6 cells/s (T = 1 µs), burst 100, so about
//! half the checks conform. Then the pacer's `take`.
//!
//! Run: `cargo bench --bench leaky_bucket -- --warm-up-time 1 --measurement-time 2`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, unsafe_code)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};
use resilience::ffi::leaky_bucket::*;
use resilience::ffi::RSL_OK;
use resilience::{LeakyBucket, LeakyConfig, LeakyMode};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const RATE: u32 = 1_000_000;
const BURST: u32 = 100;
const STEP: u64 = 500;

/// The reference: the smallest correct lock-free GCRA.
struct RefGcra {
    tat: AtomicI64,
    t: i64,
    tau: i64,
}

impl RefGcra {
    fn new() -> Self {
        Self {
            tat: AtomicI64::new(i64::MIN / 2),
            t: 1_000,
            tau: 1_000 * (i64::from(BURST) - 1),
        }
    }

    fn check(&self, now: i64) -> bool {
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            if now < tat - self.tau {
                return false;
            }
            let next = tat.max(now) + self.t;
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => tat = actual,
            }
        }
    }
}

/// A virtual clock on a cache line of its own, so that advancing it does
/// not falsely share a line with the limiter under test.
#[repr(align(128))]
struct VClock(AtomicU64);

impl VClock {
    fn new() -> Self {
        Self(AtomicU64::new(0))
    }
}

/// governor's `FakeRelativeClock::advance`, for our variants' clocks.
fn advance(clock: &VClock, by: u64) -> i64 {
    let clock = &clock.0;
    let mut prev = clock.load(Ordering::Acquire);
    let mut next = prev + by;
    while let Err(p) = clock.compare_exchange_weak(prev, next, Ordering::Release, Ordering::Relaxed)
    {
        prev = p;
        next = prev + by;
    }
    next as i64
}

fn meter_config() -> LeakyConfig {
    LeakyConfig {
        mode: LeakyMode::Meter,
        rate: RATE,
        burst: BURST,
        ..LeakyConfig::default()
    }
}

struct Handle(*mut rsl_leaky_bucket);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}
impl Handle {
    fn get(&self) -> *mut rsl_leaky_bucket {
        self.0
    }
}

fn ffi(cfg: LeakyConfig) -> Handle {
    let raw = rsl_leaky_bucket_config::from(cfg);
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_leaky_bucket_new(&raw, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Handle(h)
}

fn quota() -> Quota {
    Quota::per_second(NonZeroU32::new(RATE).unwrap()).allow_burst(NonZeroU32::new(BURST).unwrap())
}

fn gcra_single(c: &mut Criterion) {
    let mut g = c.benchmark_group("gcra/check/1 thread");
    let m = LeakyBucket::new(meter_config()).unwrap();
    let clock = VClock::new();
    g.bench_function("libresilience core LeakyBucket::check_at", |b| {
        b.iter(|| {
            let now = advance(&clock, STEP);
            black_box(m.check_at(black_box(now), 1).unwrap().allowed)
        });
    });
    let h = ffi(meter_config());
    let clock = VClock::new();
    g.bench_function("libresilience C ABI rsl_leaky_bucket_check_at", |b| {
        b.iter(|| {
            let now = advance(&clock, STEP);
            let mut v = rsl_leaky_bucket_verdict::default();
            assert_eq!(
                unsafe {
                    rsl_leaky_bucket_check_at(
                        h.get(),
                        black_box(now),
                        1,
                        &mut v,
                        std::ptr::null_mut(),
                    )
                },
                resilience::ffi::RSL_OK
            );
            black_box(v.allowed)
        });
    });
    let r = RefGcra::new();
    let clock = VClock::new();
    g.bench_function("reference lock-free GCRA", |b| {
        b.iter(|| {
            let now = advance(&clock, STEP);
            black_box(r.check(black_box(now)))
        });
    });
    let fake = FakeRelativeClock::default();
    let gov = RateLimiter::direct_with_clock(quota(), fake.clone());
    g.bench_function("governor 0.10 check (FakeRelativeClock)", |b| {
        b.iter(|| {
            fake.advance(Duration::from_nanos(STEP));
            black_box(gov.check().is_ok())
        });
    });
    // Real clocks: ours reads CLOCK_MONOTONIC (vDSO), governor quanta's TSC.
    g.bench_function(
        "libresilience C ABI rsl_leaky_bucket_check (real clock, std::ptr::null_mut())",
        |b| {
            b.iter(|| {
                let mut v = rsl_leaky_bucket_verdict::default();
                assert_eq!(
                    unsafe { rsl_leaky_bucket_check(h.get(), 1, &mut v, std::ptr::null_mut()) },
                    resilience::ffi::RSL_OK
                );
                black_box(v.allowed)
            });
        },
    );
    let gov_q = RateLimiter::direct(quota());
    g.bench_function("governor 0.10 check (quanta clock)", |b| {
        b.iter(|| black_box(gov_q.check().is_ok()));
    });
    g.finish();
    unsafe { rsl_leaky_bucket_free(h.0) };
}

/// Runs `op(i)` `iters` times on each of 2 threads at once; per iteration =
/// one call on each thread.
fn two_threads(iters: u64, op: &(dyn Fn(u64) + Sync)) -> Duration {
    let barrier = Barrier::new(3);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for i in 0..iters {
                    op(i);
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

fn gcra_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("gcra/check/2 threads");
    let m = LeakyBucket::new(meter_config()).unwrap();
    let clock = VClock::new();
    g.bench_function("libresilience core LeakyBucket::check_at", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|_| {
                let now = advance(&clock, STEP);
                black_box(m.check_at(now, 1).unwrap().allowed);
            })
        });
    });
    let r = RefGcra::new();
    let clock = VClock::new();
    g.bench_function("reference lock-free GCRA", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|_| {
                let now = advance(&clock, STEP);
                black_box(r.check(now));
            })
        });
    });
    let fake = FakeRelativeClock::default();
    let gov = RateLimiter::direct_with_clock(quota(), fake.clone());
    g.bench_function("governor 0.10 check (FakeRelativeClock)", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|_| {
                fake.advance(Duration::from_nanos(STEP));
                black_box(gov.check().is_ok());
            })
        });
    });
    let h = ffi(meter_config());
    g.bench_function(
        "libresilience C ABI rsl_leaky_bucket_check (real clock, std::ptr::null_mut())",
        |b| {
            b.iter_custom(|iters| {
                two_threads(iters, &|_| {
                    let mut v = rsl_leaky_bucket_verdict::default();
                    assert_eq!(
                        unsafe { rsl_leaky_bucket_check(h.get(), 1, &mut v, std::ptr::null_mut()) },
                        resilience::ffi::RSL_OK
                    );
                    black_box(v);
                })
            });
        },
    );
    let gov_q = RateLimiter::direct(quota());
    g.bench_function("governor 0.10 check (quanta clock)", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|_| {
                black_box(gov_q.check().is_ok());
            })
        });
    });
    g.finish();
    unsafe { rsl_leaky_bucket_free(h.0) };
}

fn pacer(c: &mut Criterion) {
    let cfg = LeakyConfig {
        rate: RATE,
        slack: 10,
        ..LeakyConfig::default()
    };
    let mut g = c.benchmark_group("pacer/take");
    let p = LeakyBucket::new(cfg).unwrap();
    let clock = VClock::new();
    g.bench_function("1 thread: libresilience core LeakyBucket::take_at", |b| {
        b.iter(|| {
            let now = advance(&clock, STEP);
            black_box(p.take_at(black_box(now)).unwrap().ready_at_ns)
        });
    });
    let h = ffi(cfg);
    let clock = VClock::new();
    g.bench_function(
        "1 thread: libresilience C ABI rsl_leaky_bucket_take_at",
        |b| {
            b.iter(|| {
                let now = advance(&clock, STEP);
                let mut out = rsl_leaky_bucket_permit::default();
                assert_eq!(
                    unsafe {
                        rsl_leaky_bucket_take_at(
                            h.get(),
                            black_box(now),
                            &mut out,
                            std::ptr::null_mut(),
                        )
                    },
                    resilience::ffi::RSL_OK
                );
                black_box(out)
            });
        },
    );
    let clock = VClock::new();
    g.bench_function("2 threads: libresilience core LeakyBucket::take_at", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|_| {
                let now = advance(&clock, STEP);
                black_box(p.take_at(now).unwrap().ready_at_ns);
            })
        });
    });
    g.finish();
    unsafe { rsl_leaky_bucket_free(h.0) };
}

criterion_group!(benches, gcra_single, gcra_contended, pacer);
criterion_main!(benches);
