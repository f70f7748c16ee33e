//! Concurrency tests of the bulkhead: threads hammer one bulkhead (through
//! the Rust API and through the C ABI) and the invariants are checked
//! exactly: never more than `max_concurrent` callers inside at once, every
//! permit exits exactly once, the counts add up, `in_use` returns to 0.
//! The blocking wait is tested with real threads but only on outcomes,
//! never on durations. The non-blocking queue (enqueue / exit hand-over /
//! cancel) is driven the way a binding drives it — a future per ticket,
//! completed by whichever thread settles it first — and checked exactly:
//! every waiter gets one slot or one cancellation, the cap holds, and the
//! slots go out in arrival order.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, missing_docs)]

use resilience::core::bulkhead::{Bulkhead, Cancel, Config, Entry, Handover, Permit, Waiter};
use resilience::ffi::bulkhead::*;
use resilience::ffi::RSL_OK;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

/// Long enough never to expire on a loaded machine; a lost wake-up would
/// show as a waiter that did not enter.
const LONG_NS: i64 = 120_000_000_000;

fn bulkhead(max: u32, fair: bool, waiters: u32) -> Arc<Bulkhead> {
    Arc::new(
        Bulkhead::new(Config {
            max_concurrent: max,
            // The queue is always FIFO: `fair = false` is only valid without one.
            fair: fair || waiters > 0,
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
                                let _ = b.exit_at(now + 1, p).unwrap();
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

/// Exits `p` through the C ABI; a slot handed to a ticket is delivered
/// into `mailbox` (ticket -> permit).
fn c_exit(h: Shared, now: i64, p: rsl_bulkhead_permit, mailbox: &Mutex<HashMap<u64, u64>>) {
    let mut x = rsl_bulkhead_exit_result::default();
    assert_eq!(
        unsafe { rsl_bulkhead_exit_at(h.0, now, p, &mut x, std::ptr::null_mut()) },
        RSL_OK
    );
    if x.handed_to == RSL_BULKHEAD_HANDED_WAITER {
        assert!(mailbox.lock().unwrap().insert(x.waiter, x.permit).is_none());
    }
    // A second exit of the same permit is always refused.
    let mut again = rsl_bulkhead_exit_result::default();
    assert_eq!(
        unsafe { rsl_bulkhead_exit_at(h.0, now, p, &mut again, std::ptr::null_mut()) },
        resilience::ffi::RSL_ERR_INVALID_ARGUMENT
    );
}

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
    let mailbox = Arc::new(Mutex::new(HashMap::new()));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (inside, mailbox) = (inside.clone(), mailbox.clone());
            thread::spawn(move || {
                let h = shared;
                let null = std::ptr::null_mut();
                let mut entered = 0u64;
                for i in 0..10_000i64 {
                    let mut p: rsl_bulkhead_permit = 0;
                    // Thread 0 fails fast, thread 1 blocks (thread-per-request),
                    // threads 2 and 3 queue tickets and wait for the hand-over.
                    match t {
                        0 => assert_eq!(
                            unsafe { rsl_bulkhead_try_enter_at(h.0, i, &mut p, null) },
                            RSL_OK
                        ),
                        1 => {
                            let st = unsafe { rsl_bulkhead_enter_wait(h.0, LONG_NS, &mut p, null) };
                            assert_eq!(st, RSL_OK);
                            assert_ne!(p, 0, "a blocked waiter was not woken");
                        }
                        _ => {
                            let mut e = rsl_bulkhead_entry::default();
                            assert_eq!(
                                unsafe { rsl_bulkhead_enqueue_at(h.0, i, &mut e, null) },
                                RSL_OK
                            );
                            p = match e.outcome {
                                RSL_BULKHEAD_ENTERED => e.permit,
                                RSL_BULKHEAD_QUEUED => loop {
                                    if let Some(p) = mailbox.lock().unwrap().remove(&e.waiter) {
                                        break p;
                                    }
                                    thread::yield_now();
                                },
                                other => panic!("a queue of 4 for 3 waiters was full: {other}"),
                            };
                        }
                    }
                    if p != 0 {
                        entered += 1;
                        inside.enter();
                        inside.leave();
                        c_exit(h, i, p, &mailbox);
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
    assert_eq!((m.in_use, m.waiting), (0, 0));
    assert!(mailbox.lock().unwrap().is_empty());
    assert_eq!(m.entered_total, entered);
    assert_eq!(m.exited_total, entered);
    assert_eq!(m.queued_total, m.handed_over_total);
}

#[test]
fn racing_exits_of_one_permit_release_it_once() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let b = bulkhead(1, false, 0);
    let permit = Arc::new(Mutex::new(Permit::from_raw(0)));
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
                    if b.exit_at(1, p).is_ok() {
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
    {
        let b = bulkhead(1, true, 1);
        let p = b.try_enter_at(0).unwrap();
        let w = {
            let b = b.clone();
            thread::spawn(move || b.enter_wait(LONG_NS).unwrap())
        };
        wait_until_waiting(&b, 1);
        let _ = b.exit_at(1, p).unwrap();
        let got = w.join().unwrap().expect("the waiter must enter");
        let m = b.metrics_at(0);
        assert_eq!((m.in_use, m.waiting, m.rejected_total), (1, 0, 0));
        let _ = b.exit_at(2, got).unwrap();
        assert_eq!(b.metrics_at(0).in_use, 0);
    }
}

#[test]
fn zero_timeout_returns_full_at_once() {
    let b = bulkhead(1, true, 8);
    let p = b.try_enter_at(0).unwrap();
    assert!(b.enter_wait(0).unwrap().is_none());
    assert_eq!(b.metrics_at(0).waiting, 0);
    let _ = b.exit_at(0, p).unwrap();
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
    assert_eq!((m.waiting, m.rejected_total, m.in_use), (0, 0, 1));
    assert_eq!(m.cancelled_total, 1);
    // The slot is still the holder's and is released normally.
    let _ = b.exit_at(0, p).unwrap();
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
    let _ = b.exit_at(1, p).unwrap();
    let got = w.join().unwrap().expect("the queued waiter enters");
    let _ = b.exit_at(2, got).unwrap();
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
            let _ = b2.exit_at(0, got).unwrap();
        }));
        // Queue them one at a time so the arrival order is known.
        wait_until_waiting(&b, u32::try_from(i + 1).unwrap());
    }
    let _ = b.exit_at(0, p).unwrap();
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
    {
        let b = bulkhead(LIMIT, true, 8);
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
                            assert!(e.is_some(), "a waiter was not woken");
                            e
                        } else {
                            b.try_enter_at(i)
                        };
                        if let Some(p) = entry {
                            inside.enter();
                            inside.leave();
                            let _ = b.exit_at(i, p).unwrap();
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

/// What a binding keeps per waiter ticket (a `CompletableFuture`, a
/// buffered channel): absent while pending; `Completed` once an exit handed
/// the waiter its permit; `Abandoned` once the waiter gave up first — it
/// then cancels, and if the cancel comes too late it owns (and exits) the
/// permit the cancel returns, while the exit that handed it over drops it.
enum Fut {
    Completed(Permit),
    Abandoned,
}

#[derive(Default)]
struct Futures {
    map: Mutex<HashMap<u64, Fut>>,
    cv: std::sync::Condvar,
}

impl Futures {
    /// Exits `p` and delivers the slot to the waiter it was handed to.
    fn exit(&self, b: &Bulkhead, now: i64, p: Permit) {
        let x = b.exit_at(now, p).unwrap();
        if let Handover::Waiter { waiter, permit } = x.handover {
            let mut m = self.map.lock().unwrap();
            match m.remove(&waiter.raw()) {
                None => {
                    m.insert(waiter.raw(), Fut::Completed(permit));
                    self.cv.notify_all();
                }
                // The waiter gave up; its cancel returns this permit to it.
                Some(Fut::Abandoned) => {}
                Some(Fut::Completed(_)) => panic!("one ticket handed two slots"),
            }
        }
    }

    /// Waits for the ticket's permit (a lost hand-over shows as a panic
    /// after a minute, never as a timing assertion).
    fn wait(&self, w: Waiter) -> Permit {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut m = self.map.lock().unwrap();
        loop {
            if let Some(Fut::Completed(p)) = m.remove(&w.raw()) {
                return p;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "a waiter was never served"
            );
            m = self
                .cv
                .wait_timeout(m, std::time::Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    /// The waiter's timer fired: `Ok(p)` if it holds a slot after all (served
    /// first, or cancelled too late), `Err(())` if it left the queue.
    fn give_up(&self, b: &Bulkhead, w: Waiter) -> Result<(Permit, bool), ()> {
        {
            let mut m = self.map.lock().unwrap();
            if let Some(Fut::Completed(p)) = m.remove(&w.raw()) {
                return Ok((p, false));
            }
            m.insert(w.raw(), Fut::Abandoned);
        }
        match b.cancel_wait(w).unwrap() {
            Cancel::Removed => {
                // No exit will ever name this ticket.
                self.map.lock().unwrap().remove(&w.raw());
                Err(())
            }
            Cancel::TooLate(p) => {
                // Cancelling again is refused: the ticket is settled.
                assert!(b.cancel_wait(w).is_err());
                Ok((p, true))
            }
        }
    }
}

#[test]
fn nonblocking_queue_under_contention() {
    const LIMIT: u32 = 2;
    const THREADS: usize = 6;
    const ITERS: i64 = 4_000;
    let b = bulkhead(LIMIT, true, 8);
    let futs = Arc::new(Futures::default());
    let inside = Arc::new(Inside::default());
    #[derive(Default)]
    struct Tally {
        entered: AtomicU64,
        served: AtomicU64,
        removed: AtomicU64,
        too_late: AtomicU64,
        full: AtomicU64,
        blocked: AtomicU64,
    }
    let tally = Arc::new(Tally::default());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (b, futs, inside, tally) = (b.clone(), futs.clone(), inside.clone(), tally.clone());
            thread::spawn(move || {
                for i in 0..ITERS {
                    // Thread 5 is a thread-per-request caller in the same queue.
                    let held = if t == 5 {
                        let p = b
                            .enter_wait(LONG_NS)
                            .unwrap()
                            .expect("a blocked waiter was not woken");
                        tally.blocked.fetch_add(1, Ordering::Relaxed);
                        Some(p)
                    } else {
                        match b.enqueue_at(i) {
                            Entry::Entered(p) => {
                                tally.entered.fetch_add(1, Ordering::Relaxed);
                                Some(p)
                            }
                            Entry::Queued { waiter, position } => {
                                assert!((1..=8).contains(&position));
                                // Every third waiter "times out" at once.
                                if (i + t as i64) % 3 == 0 {
                                    match futs.give_up(&b, waiter) {
                                        Ok((p, late)) => {
                                            let c =
                                                if late { &tally.too_late } else { &tally.served };
                                            c.fetch_add(1, Ordering::Relaxed);
                                            Some(p)
                                        }
                                        Err(()) => {
                                            tally.removed.fetch_add(1, Ordering::Relaxed);
                                            None
                                        }
                                    }
                                } else {
                                    tally.served.fetch_add(1, Ordering::Relaxed);
                                    Some(futs.wait(waiter))
                                }
                            }
                            Entry::Full => {
                                tally.full.fetch_add(1, Ordering::Relaxed);
                                thread::yield_now();
                                None
                            }
                        }
                    };
                    if let Some(p) = held {
                        inside.enter();
                        inside.leave();
                        futs.exit(&b, i, p);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let m = b.metrics_at(0);
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    assert!(inside.max.load(Ordering::SeqCst) <= LIMIT);
    assert!(m.peak_in_use <= LIMIT);
    assert_eq!((m.in_use, m.waiting), (0, 0));
    assert!(
        futs.map.lock().unwrap().is_empty(),
        "an undelivered hand-over"
    );
    // Every queued ticket got exactly one slot or one cancellation; the
    // blocked thread's waits are in the same totals.
    let handed = get(&tally.served) + get(&tally.too_late);
    assert_eq!(m.cancelled_total, get(&tally.removed));
    assert!(m.handed_over_total >= handed);
    assert_eq!(m.queued_total, m.handed_over_total + m.cancelled_total);
    assert_eq!(m.rejected_total, get(&tally.full));
    let held = get(&tally.entered) + handed + get(&tally.blocked);
    assert_eq!((m.entered_total, m.exited_total), (held, held));
    assert_eq!(
        get(&tally.entered)
            + get(&tally.served)
            + get(&tally.too_late)
            + get(&tally.removed)
            + get(&tally.full),
        (THREADS as u64 - 1) * ITERS as u64
    );
}

#[test]
fn tickets_are_served_in_arrival_order_while_some_cancel() {
    const WAITERS: usize = 24;
    for round in 0..20 {
        let b = bulkhead(1, true, WAITERS as u32);
        let futs = Arc::new(Futures::default());
        let holder = match b.enqueue_at(0) {
            Entry::Entered(p) => p,
            other => panic!("{other:?}"),
        };
        // One thread enqueues them all: the arrival order is known.
        let tickets: Vec<Waiter> = (0..WAITERS)
            .map(|i| match b.enqueue_at(0) {
                Entry::Queued { waiter, position } => {
                    assert_eq!(position as usize, i + 1);
                    waiter
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let order = Arc::new(Mutex::new(Vec::new()));
        let removed = Arc::new(Mutex::new(Vec::new()));
        let go = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = tickets
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let (b, futs, order, removed, go) = (
                    b.clone(),
                    futs.clone(),
                    order.clone(),
                    removed.clone(),
                    go.clone(),
                );
                thread::spawn(move || {
                    let cancels = (i + round) % 3 == 0;
                    let p = if cancels {
                        while !go.load(Ordering::Acquire) {
                            thread::yield_now();
                        }
                        for _ in 0..(i * 37 + round * 11) % 200 {
                            std::hint::spin_loop();
                        }
                        match futs.give_up(&b, w) {
                            Ok((p, _)) => p,
                            Err(()) => {
                                removed.lock().unwrap().push(i);
                                return;
                            }
                        }
                    } else {
                        futs.wait(w)
                    };
                    // One slot: holdings are sequential, so this is the
                    // hand-over order.
                    order.lock().unwrap().push(i);
                    futs.exit(&b, 1, p);
                })
            })
            .collect();
        go.store(true, Ordering::Release);
        futs.exit(&b, 1, holder);
        for h in handles {
            h.join().unwrap();
        }
        let order = order.lock().unwrap().clone();
        let removed = removed.lock().unwrap().clone();
        assert!(order.windows(2).all(|p| p[0] < p[1]), "not FIFO: {order:?}");
        assert_eq!(order.len() + removed.len(), WAITERS);
        for i in 0..WAITERS {
            if (i + round) % 3 != 0 {
                assert!(order.contains(&i), "waiter {i} never served: {order:?}");
            }
        }
        let m = b.metrics_at(1);
        assert_eq!((m.in_use, m.waiting), (0, 0));
        assert_eq!(m.cancelled_total as usize, removed.len());
        assert_eq!(m.handed_over_total as usize, order.len());
    }
}
