//! Concurrency tests of the bulkhead: threads hammer one bulkhead (through
//! the Rust API and through the C ABI) and the invariants are checked
//! exactly: never more than `max_concurrent` callers inside at once, every
//! permit exits exactly once, the counts add up, `in_use` returns to 0.
//! The blocking wait is tested with real threads but only on outcomes,
//! never on durations.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, missing_docs)]

use resilience::core::bulkhead::{Bulkhead, Config, Permit};
use resilience::ffi::bulkhead::*;
use resilience::ffi::RSL_OK;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

/// Long enough never to expire on a loaded machine; a lost wake-up would
/// show as a waiter that did not enter.
const LONG_NS: i64 = 120_000_000_000;

fn bulkhead(max: u32, fair: bool, waiters: u32) -> Arc<Bulkhead> {
    Arc::new(
        Bulkhead::new(Config {
            max_concurrent: max,
            fair,
            max_waiters: waiters,
            max_hold_ns: 0,
        })
        .unwrap(),
    )
}

fn wait_until_waiting(b: &Bulkhead, n: u32) {
    while b.metrics_at(0).waiting != n {
        thread::yield_now();
    }
}

/// Tracks how many callers are inside at once and the most ever seen.
#[derive(Default)]
struct Inside {
    now: AtomicU32,
    max: AtomicU32,
}

impl Inside {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(n, Ordering::SeqCst);
        for _ in 0..16 {
            std::hint::spin_loop();
        }
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn try_enter_never_admits_more_than_the_limit() {
    const LIMIT: u32 = 3;
    const THREADS: usize = 8;
    const ITERS: u64 = 20_000;
    for fair in [false, true] {
        let b = bulkhead(LIMIT, fair, 0);
        let inside = Arc::new(Inside::default());
        let entered = Arc::new(AtomicU64::new(0));
        let rejected = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (b, inside, entered, rejected) =
                    (b.clone(), inside.clone(), entered.clone(), rejected.clone());
                thread::spawn(move || {
                    for i in 0..ITERS {
                        let now = i64::try_from(i).unwrap();
                        match b.try_enter_at(now) {
                            Some(p) => {
                                entered.fetch_add(1, Ordering::Relaxed);
                                inside.enter();
                                inside.leave();
                                b.exit_at(now + 1, &p).unwrap();
                            }
                            None => {
                                rejected.fetch_add(1, Ordering::Relaxed);
                                if t % 2 == 0 {
                                    thread::yield_now();
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let m = b.metrics_at(0);
        assert!(inside.max.load(Ordering::SeqCst) <= LIMIT, "fair={fair}");
        assert!(m.peak_in_use <= LIMIT);
        assert_eq!(m.in_use, 0);
        assert_eq!(m.available, LIMIT);
        let e = entered.load(Ordering::Relaxed);
        assert_eq!(m.entered_total, e);
        assert_eq!(m.exited_total, e);
        assert_eq!(m.rejected_total, rejected.load(Ordering::Relaxed));
        assert_eq!(e + m.rejected_total, THREADS as u64 * ITERS);
    }
}

/// A raw handle shared between threads (the C ABI is thread-safe).
#[derive(Clone, Copy)]
struct Shared(*mut rsl_bulkhead);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

#[test]
fn c_abi_never_admits_more_than_the_limit() {
    const LIMIT: u32 = 2;
    let mut cfg = rsl_bulkhead_config::from(Config::default());
    assert_eq!(
        unsafe { rsl_bulkhead_config_init(&mut cfg, std::ptr::null_mut()) },
        resilience::ffi::RSL_OK
    );
    cfg.max_concurrent = LIMIT;
    cfg.max_waiters = 4;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_bulkhead_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    let shared = Shared(h);
    let inside = Arc::new(Inside::default());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let inside = inside.clone();
            thread::spawn(move || {
                let h = shared;
                let mut entered = 0u64;
                for i in 0..10_000i64 {
                    let mut p = rsl_bulkhead_permit::default();
                    let mut ok = 0u32;
                    // Half the threads wait (thread-per-request), half fail fast.
                    let st = if t % 2 == 0 {
                        unsafe {
                            rsl_bulkhead_try_enter_at(h.0, i, &mut p, &mut ok, std::ptr::null_mut())
                        }
                    } else {
                        unsafe {
                            rsl_bulkhead_enter_wait(
                                h.0,
                                LONG_NS,
                                &mut p,
                                &mut ok,
                                std::ptr::null_mut(),
                            )
                        }
                    };
                    assert_eq!(st, RSL_OK);
                    if t % 2 == 1 {
                        assert_eq!(ok, 1, "a waiter was not woken");
                    }
                    if ok == 1 {
                        entered += 1;
                        inside.enter();
                        inside.leave();
                        let mut held = -1;
                        assert_eq!(
                            unsafe {
                                rsl_bulkhead_exit_at(h.0, i, &p, &mut held, std::ptr::null_mut())
                            },
                            RSL_OK
                        );
                        // A second exit of the same permit is always refused.
                        assert_ne!(
                            unsafe {
                                rsl_bulkhead_exit_at(
                                    h.0,
                                    i,
                                    &p,
                                    std::ptr::null_mut(),
                                    std::ptr::null_mut(),
                                )
                            },
                            RSL_OK
                        );
                    }
                }
                entered
            })
        })
        .collect();
    let entered: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let mut m = rsl_bulkhead_metrics {
        struct_size: u32::try_from(std::mem::size_of::<rsl_bulkhead_metrics>()).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        unsafe { rsl_bulkhead_get_metrics_at(h, 0, &mut m, std::ptr::null_mut()) },
        RSL_OK
    );
    unsafe { rsl_bulkhead_free(h) };
    assert!(inside.max.load(Ordering::SeqCst) <= LIMIT);
    assert!(m.peak_in_use <= LIMIT);
    assert_eq!(m.in_use, 0);
    assert_eq!(m.waiting, 0);
    assert_eq!(m.entered_total, entered);
    assert_eq!(m.exited_total, entered);
}

#[test]
fn racing_exits_of_one_permit_release_it_once() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let b = bulkhead(1, false, 0);
    let permit = Arc::new(Mutex::new(Permit::default()));
    let ok = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(THREADS + 1));
    let done = Arc::new(Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, permit, ok, start, done) = (
                b.clone(),
                permit.clone(),
                ok.clone(),
                start.clone(),
                done.clone(),
            );
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    start.wait();
                    let p = *permit.lock().unwrap();
                    if b.exit_at(1, &p).is_ok() {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    done.wait();
                }
            })
        })
        .collect();
    for round in 0..ROUNDS {
        *permit.lock().unwrap() = b.try_enter_at(0).expect("the slot must be free");
        start.wait();
        done.wait();
        assert_eq!(ok.swap(0, Ordering::SeqCst), 1, "round {round}");
        assert_eq!(b.metrics_at(0).in_use, 0);
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(b.metrics_at(0).exited_total, ROUNDS as u64);
}

#[test]
fn a_waiter_is_released_by_an_exit() {
    for fair in [false, true] {
        let b = bulkhead(1, fair, 1);
        let p = b.try_enter_at(0).unwrap();
        let w = {
            let b = b.clone();
            thread::spawn(move || b.enter_wait(LONG_NS).unwrap())
        };
        wait_until_waiting(&b, 1);
        b.exit_at(1, &p).unwrap();
        let got = w.join().unwrap().expect("the waiter must enter");
        let m = b.metrics_at(0);
        assert_eq!(
            (m.in_use, m.waiting, m.rejected_total),
            (1, 0, 0),
            "fair={fair}"
        );
        b.exit_at(2, &got).unwrap();
        assert_eq!(b.metrics_at(0).in_use, 0);
    }
}

#[test]
fn zero_timeout_returns_full_at_once() {
    let b = bulkhead(1, true, 8);
    let p = b.try_enter_at(0).unwrap();
    assert!(b.enter_wait(0).unwrap().is_none());
    assert_eq!(b.metrics_at(0).waiting, 0);
    b.exit_at(0, &p).unwrap();
}

#[test]
fn a_waiter_times_out_when_nothing_exits() {
    let b = bulkhead(1, true, 1);
    let p = b.try_enter_at(0).unwrap();
    let w = {
        let b = b.clone();
        thread::spawn(move || b.enter_wait(2_000_000).unwrap())
    };
    assert!(w.join().unwrap().is_none());
    let m = b.metrics_at(0);
    assert_eq!((m.waiting, m.rejected_total, m.in_use), (0, 1, 1));
    // The slot is still the holder's and is released normally.
    b.exit_at(0, &p).unwrap();
    assert!(b.try_enter_at(0).is_some());
}

#[test]
fn a_full_wait_queue_refuses_more_waiters() {
    let b = bulkhead(1, true, 1);
    let p = b.try_enter_at(0).unwrap();
    let w = {
        let b = b.clone();
        thread::spawn(move || b.enter_wait(LONG_NS).unwrap())
    };
    wait_until_waiting(&b, 1);
    // max_waiters = 1 is reached: refused without joining the queue.
    assert!(b.enter_wait(LONG_NS).unwrap().is_none());
    assert_eq!(b.metrics_at(0).waiting, 1);
    assert_eq!(b.metrics_at(0).rejected_total, 1);
    b.exit_at(1, &p).unwrap();
    let got = w.join().unwrap().expect("the queued waiter enters");
    b.exit_at(2, &got).unwrap();
}

#[test]
fn fair_waiters_are_served_in_arrival_order() {
    const WAITERS: usize = 4;
    let b = bulkhead(1, true, WAITERS as u32);
    let p = b.try_enter_at(0).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for i in 0..WAITERS {
        let (b2, order) = (b.clone(), order.clone());
        handles.push(thread::spawn(move || {
            let got = b2.enter_wait(LONG_NS).unwrap().expect("entered");
            order.lock().unwrap().push(i);
            b2.exit_at(0, &got).unwrap();
        }));
        // Queue them one at a time so the arrival order is known.
        wait_until_waiting(&b, u32::try_from(i + 1).unwrap());
    }
    b.exit_at(0, &p).unwrap();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..WAITERS).collect::<Vec<_>>());
    let m = b.metrics_at(0);
    assert_eq!(
        (m.in_use, m.waiting, m.entered_total, m.exited_total),
        (0, 0, 5, 5)
    );
}

#[test]
fn waiters_and_fail_fast_callers_mixed() {
    const LIMIT: u32 = 2;
    for fair in [false, true] {
        let b = bulkhead(LIMIT, fair, 8);
        let inside = Arc::new(Inside::default());
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let (b, inside) = (b.clone(), inside.clone());
                thread::spawn(move || {
                    let mut waited = 0u64;
                    for i in 0..3_000i64 {
                        let entry = if t < 4 {
                            waited += 1;
                            let e = b.enter_wait(LONG_NS).unwrap();
                            assert!(e.is_some(), "a waiter was not woken (fair={fair})");
                            e
                        } else {
                            b.try_enter_at(i)
                        };
                        if let Some(p) = entry {
                            inside.enter();
                            inside.leave();
                            b.exit_at(i, &p).unwrap();
                        }
                    }
                    waited
                })
            })
            .collect();
        let waited: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let m = b.metrics_at(0);
        assert!(inside.max.load(Ordering::SeqCst) <= LIMIT);
        assert!(m.peak_in_use <= LIMIT);
        assert_eq!((m.in_use, m.waiting), (0, 0));
        assert_eq!(m.entered_total, m.exited_total);
        assert!(m.entered_total >= waited);
    }
}
