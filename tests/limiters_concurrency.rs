//! Threads hammering one window limiter or one adaptive limiter through the
//! C ABI: permits are counted and the invariants checked exactly (no timing).
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    missing_docs,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use resilience::ffi::adaptive_limiter::*;
use resilience::ffi::criticality::*;
use resilience::ffi::window_limiter::*;
use resilience::ffi::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

const THREADS: usize = 4;

struct Shared<T>(*mut T);
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

fn window_limiter(
    mode: u32,
    limit: u32,
    window_ns: i64,
    buckets: u32,
) -> Shared<rsl_window_limiter> {
    let mut cfg = rsl_window_limiter_config::from(resilience::WindowLimiterConfig::default());
    assert_eq!(
        unsafe { rsl_window_limiter_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    cfg.mode = mode;
    cfg.limit = limit;
    cfg.window_ns = window_ns;
    cfg.buckets = buckets;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_window_limiter_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Shared(h)
}

/// Every thread asks for `n` permits `per_window` times in each of `windows`
/// windows (all at the window's start); exactly `limit / n` requests per
/// window may win, whoever they are.
fn hammer_window(mode: u32, buckets: u32) {
    const LIMIT: u32 = 1000;
    const WINDOW: i64 = 1_000_000_000;
    const WINDOWS: i64 = 20;
    const PER_WINDOW: usize = 600;
    let h = window_limiter(mode, LIMIT, WINDOW, buckets);
    let granted: Vec<AtomicU64> = (0..WINDOWS).map(|_| AtomicU64::new(0)).collect();
    let denied = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (h, granted, denied, barrier) = (&h, &granted, &denied, &barrier);
            s.spawn(move || {
                for w in 0..WINDOWS {
                    // Every thread finishes a window before any starts the
                    // next (an earlier timestamp would count in the later
                    // window). Two windows apart, so the weighted mode's previous
                    // window is always empty and every mode grants `limit`.
                    let now = 2 * w * WINDOW;
                    barrier.wait();
                    for i in 0..PER_WINDOW {
                        let n = if (i + t) % 2 == 0 { 1 } else { 3 };
                        let mut d = rsl_window_limiter_decision::default();
                        let st = unsafe {
                            rsl_window_limiter_try_acquire_at(
                                h.0,
                                now,
                                n,
                                RSL_CRITICALITY_CRITICAL,
                                &mut d,
                                std::ptr::null_mut(),
                            )
                        };
                        assert_eq!(st, RSL_OK);
                        if d.allowed == 1 {
                            granted[w as usize].fetch_add(u64::from(n), Ordering::Relaxed);
                        } else {
                            assert!(d.retry_after_ns >= 1);
                            denied.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    // 4 threads x 600 requests, half of 1 and half of 3 permits, per window.
    // Whatever the interleaving a window never exceeds the limit, and it
    // ends exactly full: a 1-permit request is denied only when the window
    // is full, and the 1200 of them could fill it alone.
    let mut total = 0;
    for (w, g) in granted.iter().enumerate() {
        let g = g.load(Ordering::Relaxed);
        assert!(g <= u64::from(LIMIT), "window {w}: {g}");
        assert_eq!(g, u64::from(LIMIT), "window {w}: {g}");
        total += g;
    }
    let mut m = rsl_window_limiter_metrics {
        struct_size: u32::try_from(std::mem::size_of::<rsl_window_limiter_metrics>()).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        unsafe {
            rsl_window_limiter_get_metrics_at(
                h.0,
                2 * WINDOWS * WINDOW,
                &mut m,
                std::ptr::null_mut(),
            )
        },
        RSL_OK
    );
    assert_eq!(m.admitted_total, total);
    assert_eq!(m.rejected_total, denied.load(Ordering::Relaxed));
    unsafe { rsl_window_limiter_free(h.0) };
}

#[test]
fn fixed_window_grants_exactly_the_limit_under_contention() {
    hammer_window(RSL_WINDOW_LIMITER_FIXED, 1);
}

#[test]
fn sliding_buckets_grant_exactly_the_limit_under_contention() {
    hammer_window(RSL_WINDOW_LIMITER_SLIDING_BUCKETS, 10);
}

#[test]
fn sliding_weighted_grants_exactly_the_limit_under_contention() {
    hammer_window(RSL_WINDOW_LIMITER_SLIDING_WEIGHTED, 1);
}

fn adaptive_limiter() -> Shared<rsl_adaptive_limiter> {
    let mut cfg = rsl_adaptive_limiter_config::from(resilience::AdaptiveLimiterConfig::default());
    assert_eq!(
        unsafe { rsl_adaptive_limiter_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    cfg.cpu_source = RSL_CPU_SOURCE_MANUAL;
    cfg.window_ns = 1_000_000_000;
    cfg.buckets = 10;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_adaptive_limiter_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Shared(h)
}

fn metrics(h: &Shared<rsl_adaptive_limiter>, now: i64) -> rsl_adaptive_limiter_metrics {
    let mut m = rsl_adaptive_limiter_metrics {
        struct_size: u32::try_from(std::mem::size_of::<rsl_adaptive_limiter_metrics>()).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        unsafe { rsl_adaptive_limiter_get_metrics_at(h.0, now, &mut m, std::ptr::null_mut()) },
        RSL_OK
    );
    m
}

/// Overloaded with an empty window (every limit 0), the rule admits a
/// request only while at most one is in flight: at most 2 requests are ever
/// in flight at once, however the threads interleave.
#[test]
fn adaptive_limiter_never_exceeds_its_limit_under_contention() {
    const ROUNDS: usize = 20_000;
    let h = adaptive_limiter();
    assert_eq!(
        unsafe { rsl_adaptive_limiter_set_cpu(h.0, 1000, std::ptr::null_mut()) },
        RSL_OK
    );
    let in_flight = AtomicU64::new(0);
    let max_seen = AtomicU64::new(0);
    let allowed = AtomicU64::new(0);
    let dropped = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (h, in_flight, max_seen, allowed, dropped, barrier) =
                (&h, &in_flight, &max_seen, &allowed, &dropped, &barrier);
            s.spawn(move || {
                barrier.wait();
                let level = [
                    RSL_CRITICALITY_SHEDDABLE,
                    RSL_CRITICALITY_CRITICAL,
                    RSL_CRITICALITY_CRITICAL_PLUS,
                ][t % 3];
                for _ in 0..ROUNDS {
                    let mut d = rsl_adaptive_limiter_decision::default();
                    let st = unsafe {
                        rsl_adaptive_limiter_acquire_at(h.0, 0, level, &mut d, std::ptr::null_mut())
                    };
                    assert_eq!(st, RSL_OK);
                    if d.allowed == 0 {
                        assert!(d.inflight >= 2);
                        dropped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    assert!(d.inflight <= 1);
                    allowed.fetch_add(1, Ordering::Relaxed);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_seen.fetch_max(now, Ordering::SeqCst);
                    // Stay in flight a little, so the other threads meet it.
                    std::thread::yield_now();
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let st = unsafe {
                        rsl_adaptive_limiter_record_at(
                            h.0,
                            0,
                            &d.token,
                            RSL_OUTCOME_IGNORED,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                        )
                    };
                    assert_eq!(st, RSL_OK);
                }
            });
        }
    });
    assert!(max_seen.load(Ordering::SeqCst) <= 2);
    let m = metrics(&h, 0);
    assert_eq!(m.inflight, 0);
    assert_eq!(m.allowed_total, allowed.load(Ordering::Relaxed));
    let dropped_total = m.dropped_sheddable
        + m.dropped_sheddable_plus
        + m.dropped_critical
        + m.dropped_critical_plus;
    assert_eq!(dropped_total, dropped.load(Ordering::Relaxed));
    assert_eq!(m.allowed_total + dropped_total, (THREADS * ROUNDS) as u64);
    unsafe { rsl_adaptive_limiter_free(h.0) };
}

/// Not overloaded, every request passes; every success lands in bucket 0,
/// so once it is complete max_pass is exactly the number of releases.
#[test]
fn adaptive_limiter_counts_every_pass_under_contention() {
    const ROUNDS: u64 = 10_000;
    let h = adaptive_limiter();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let h = &h;
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let mut d = rsl_adaptive_limiter_decision::default();
                    let now = i64::try_from(i).unwrap() * 1000;
                    let st = unsafe {
                        rsl_adaptive_limiter_acquire_at(
                            h.0,
                            now,
                            RSL_CRITICALITY_DEFAULT,
                            &mut d,
                            std::ptr::null_mut(),
                        )
                    };
                    assert_eq!(st, RSL_OK);
                    assert_eq!(d.allowed, 1);
                    let st = unsafe {
                        rsl_adaptive_limiter_record_at(
                            h.0,
                            now + 2_000_000,
                            &d.token,
                            RSL_OUTCOME_SUCCESS,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                        )
                    };
                    assert_eq!(st, RSL_OK);
                }
            });
        }
    });
    let m = metrics(&h, 100_000_000);
    assert_eq!(m.inflight, 0);
    assert_eq!(m.allowed_total, THREADS as u64 * ROUNDS);
    assert_eq!(m.max_pass, THREADS as u64 * ROUNDS);
    assert_eq!(m.min_rt_ms, 2);
    unsafe { rsl_adaptive_limiter_free(h.0) };
}
