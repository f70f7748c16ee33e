//! Bulkhead and deadline benchmarks.
//!
//! Enter + exit of one permit, single-threaded and with 2 threads contending
//! on one bulkhead, beside two minimal semaphores written here as the floor
//! (an atomic counter with no permit identity, and a counter under a
//! `parking_lot::Mutex`) and a mutex implementation of the same contract
//! (slot table, exactly-once exit); then the `grpc-timeout` and millisecond header
//! codecs and the deadline policy. Run:
//! `cargo bench --bench bulkhead -- --warm-up-time 1 --measurement-time 2`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use resilience::core::bulkhead::{Bulkhead, Config};
use resilience::core::deadline::{self, Policy, PolicyConfig};
use resilience::ffi::bulkhead::*;
use resilience::ffi::deadline::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The floor: a counting semaphore in one atomic, no permit identity (so no
/// double-exit detection, no metrics).
struct AtomicSemaphore {
    in_use: AtomicU32,
    max: u32,
}

impl AtomicSemaphore {
    fn try_acquire(&self) -> bool {
        let mut cur = self.in_use.load(Ordering::Relaxed);
        loop {
            if cur >= self.max {
                return false;
            }
            match self.in_use.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(c) => cur = c,
            }
        }
    }
    fn release(&self) {
        self.in_use.fetch_sub(1, Ordering::Release);
    }
}

/// A counter under a mutex: what "just use a lock" costs.
struct MutexSemaphore {
    in_use: parking_lot::Mutex<u32>,
    max: u32,
}

impl MutexSemaphore {
    fn try_acquire(&self) -> bool {
        let mut n = self.in_use.lock();
        if *n >= self.max {
            return false;
        }
        *n += 1;
        true
    }
    fn release(&self) {
        *self.in_use.lock() -= 1;
    }
}

/// The same contract as `rsl_bulkhead` (a slot per permit, an exit that
/// succeeds once) under one `parking_lot::Mutex`: what the lock-free path
/// is measured against.
struct MutexSlotBulkhead {
    inner: parking_lot::Mutex<SlotTable>,
}

struct SlotTable {
    free: Vec<u32>,
    state: Vec<u64>,
}

impl MutexSlotBulkhead {
    fn new(max: u32) -> Self {
        Self {
            inner: parking_lot::Mutex::new(SlotTable {
                free: (0..max).rev().collect(),
                state: vec![0; max as usize],
            }),
        }
    }
    fn try_enter(&self) -> Option<(u32, u64)> {
        let mut t = self.inner.lock();
        let slot = t.free.pop()?;
        let s = t.state.get_mut(slot as usize)?;
        *s += 1;
        Some((slot, *s))
    }
    fn exit(&self, (slot, id): (u32, u64)) -> bool {
        let mut t = self.inner.lock();
        match t.state.get_mut(slot as usize) {
            Some(s) if *s == id => {
                *s += 1;
                t.free.push(slot);
                true
            }
            _ => false,
        }
    }
}

const MAX: u32 = 16;

struct CHandle(*mut rsl_bulkhead);
unsafe impl Send for CHandle {}
unsafe impl Sync for CHandle {}
impl Drop for CHandle {
    fn drop(&mut self) {
        unsafe { rsl_bulkhead_free(self.0) };
    }
}

fn c_bulkhead() -> CHandle {
    let mut cfg = rsl_bulkhead_config::from(Config::default());
    assert_eq!(
        unsafe { rsl_bulkhead_config_init(&mut cfg, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    cfg.max_concurrent = MAX;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_bulkhead_new(&cfg, &mut h, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    CHandle(h)
}

fn core_bulkhead() -> Bulkhead {
    Bulkhead::new(Config {
        max_concurrent: MAX,
        ..Config::default()
    })
    .unwrap()
}

/// One enter + exit on each contender.
trait Contender: Send + Sync + 'static {
    fn cycle(&self);
}

impl Contender for Bulkhead {
    fn cycle(&self) {
        let p = self.try_enter_at(black_box(1)).unwrap();
        self.exit_at(black_box(2), &p).unwrap();
    }
}

impl Contender for CHandle {
    fn cycle(&self) {
        let mut p = rsl_bulkhead_permit::default();
        let mut ok = 0;
        unsafe {
            black_box(rsl_bulkhead_try_enter_at(
                self.0,
                black_box(1),
                &mut p,
                &mut ok,
                std::ptr::null_mut(),
            ));
            assert_eq!(
                rsl_bulkhead_exit_at(
                    self.0,
                    black_box(2),
                    &p,
                    std::ptr::null_mut(),
                    std::ptr::null_mut()
                ),
                resilience::ffi::RSL_OK
            );
        }
        black_box(ok);
    }
}

impl Contender for AtomicSemaphore {
    fn cycle(&self) {
        assert!(self.try_acquire());
        self.release();
    }
}

impl Contender for MutexSlotBulkhead {
    fn cycle(&self) {
        let p = self.try_enter().unwrap();
        assert!(self.exit(p));
    }
}

impl Contender for MutexSemaphore {
    fn cycle(&self) {
        assert!(self.try_acquire());
        self.release();
    }
}

fn contenders() -> Vec<(&'static str, Arc<dyn Contender>)> {
    vec![
        ("rsl_bulkhead (core)", Arc::new(core_bulkhead())),
        ("rsl_bulkhead (C ABI)", Arc::new(c_bulkhead())),
        (
            "atomic counter semaphore",
            Arc::new(AtomicSemaphore {
                in_use: AtomicU32::new(0),
                max: MAX,
            }),
        ),
        (
            "mutex slot table (same contract)",
            Arc::new(MutexSlotBulkhead::new(MAX)),
        ),
        (
            "mutex counter semaphore",
            Arc::new(MutexSemaphore {
                in_use: parking_lot::Mutex::new(0),
                max: MAX,
            }),
        ),
    ]
}

fn enter_exit(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulkhead/enter_exit_1_thread");
    for (name, sem) in contenders() {
        g.bench_function(name, |b| b.iter(|| sem.cycle()));
    }
    g.finish();

    // Two threads cycling on the same semaphore; the time is per cycle per
    // thread (wall time of `iters` cycles on each of the two threads).
    let mut g = c.benchmark_group("bulkhead/enter_exit_2_threads");
    for (name, sem) in contenders() {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let start = Arc::new(Barrier::new(3));
                let workers: Vec<_> = (0..2)
                    .map(|_| {
                        let (sem, start) = (sem.clone(), start.clone());
                        std::thread::spawn(move || {
                            start.wait();
                            for _ in 0..iters {
                                sem.cycle();
                            }
                        })
                    })
                    .collect();
                start.wait();
                let t0 = Instant::now();
                for w in workers {
                    w.join().unwrap();
                }
                t0.elapsed().max(Duration::from_nanos(1))
            });
        });
    }
    g.finish();
}

fn codecs(c: &mut Criterion) {
    let mut g = c.benchmark_group("deadline/grpc_timeout");
    for (label, t) in [
        ("encode 1S", 1_000_000_000i64),
        ("encode 1234568u (rounded)", 1_234_567_891),
    ] {
        g.bench_function(label, |b| {
            b.iter(|| deadline::grpc_timeout_encode(black_box(t)).unwrap())
        });
    }
    g.bench_function("encode 1S (C ABI)", |b| {
        let mut buf = [0 as std::ffi::c_char; 16];
        let mut len = 0usize;
        b.iter(|| unsafe {
            rsl_deadline_grpc_timeout_encode(
                black_box(1_000_000_000),
                buf.as_mut_ptr(),
                16,
                &mut len,
                std::ptr::null_mut(),
            )
        });
    });
    for v in ["1S", "99999999n", "2562048H"] {
        g.bench_function(format!("decode {v}"), |b| {
            b.iter(|| deadline::grpc_timeout_decode(black_box(v.as_bytes())).unwrap())
        });
    }
    g.bench_function("decode 1S (C ABI)", |b| {
        let mut d = rsl_deadline_decoded::default();
        b.iter(|| unsafe {
            rsl_deadline_grpc_timeout_decode(
                black_box(c"1S".as_ptr()),
                2,
                &mut d,
                std::ptr::null_mut(),
            )
        });
    });
    g.finish();

    let mut g = c.benchmark_group("deadline/http_timeout_ms");
    g.bench_function("encode 1500", |b| {
        b.iter(|| deadline::http_timeout_encode(black_box(1_500_000_000)).unwrap())
    });
    g.bench_function("decode 1500", |b| {
        b.iter(|| deadline::http_timeout_decode(black_box(b"1500")).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("deadline/policy");
    let policy = Policy::new(PolicyConfig::default()).unwrap();
    g.bench_function("call_at (core)", |b| {
        b.iter(|| {
            policy.call_at(
                black_box(200_000_000),
                black_box(1_000_000_000),
                500_000_000,
            )
        })
    });
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_deadline_policy_new(std::ptr::null(), &mut h, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    g.bench_function("call_at (C ABI)", |b| {
        let mut plan = rsl_deadline_call_plan::default();
        b.iter(|| unsafe {
            rsl_deadline_policy_call_at(
                h,
                black_box(200_000_000),
                black_box(1_000_000_000),
                500_000_000,
                &mut plan,
                std::ptr::null_mut(),
            )
        });
    });
    unsafe { rsl_deadline_policy_free(h) };
    g.finish();
}

criterion_group!(benches, enter_exit, codecs);
criterion_main!(benches);
