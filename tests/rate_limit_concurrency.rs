//! Threads hammering one token bucket or leaky bucket through the C ABI.
//! Every check counts permits exactly against the rate bound; none times
//! anything.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, missing_docs)]

use resilience::ffi::leaky_bucket::*;
use resilience::ffi::token_bucket::*;
use resilience::ffi::*;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

const THREADS: usize = 4;

struct Tb(*mut rsl_token_bucket);
// SAFETY: the handle is internally synchronised (header contract).
unsafe impl Send for Tb {}
unsafe impl Sync for Tb {}
impl Drop for Tb {
    fn drop(&mut self) {
        unsafe { rsl_token_bucket_free(self.0) };
    }
}

struct Lb(*mut rsl_leaky_bucket);
// SAFETY: as above.
unsafe impl Send for Lb {}
unsafe impl Sync for Lb {}
impl Drop for Lb {
    fn drop(&mut self) {
        unsafe { rsl_leaky_bucket_free(self.0) };
    }
}

fn token_bucket(rate: f64, burst: i64) -> Tb {
    let mut cfg = rsl_token_bucket_config {
        struct_size: 0,
        reserved0: 0,
        rate_per_sec: 0.0,
        burst: 0,
    };
    assert_eq!(
        unsafe { rsl_token_bucket_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    cfg.rate_per_sec = rate;
    cfg.burst = burst;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_token_bucket_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Tb(h)
}

fn leaky_bucket(mode: u32, rate: u32, slack: u32, burst: u32) -> Lb {
    let mut cfg = rsl_leaky_bucket_config {
        struct_size: 0,
        mode: 0,
        rate: 0,
        slack: 0,
        per_ns: 0,
        burst: 0,
        reserved0: 0,
    };
    assert_eq!(
        unsafe { rsl_leaky_bucket_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    cfg.mode = mode;
    cfg.rate = rate;
    cfg.slack = slack;
    cfg.burst = burst;
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_leaky_bucket_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Lb(h)
}

/// Virtual time in phases: every thread calls `allow_at` at the same instant,
/// then the clock moves on (by 0.7 ms: 0.7 tokens at 1000/s). At one instant
/// the grants are exactly the whole tokens available, whatever the
/// interleaving, so each phase must grant what a single-threaded replay
/// grants, and the total must stay within burst + rate × elapsed.
///
/// (A shared clock that threads read before calling cannot be used here:
/// x/time/rate credits a late caller's earlier timestamp as time going back.)
#[test]
fn token_bucket_phases_grant_exactly_the_sequential_count() {
    const PHASES: usize = 300;
    const CALLS: usize = 25;
    const STEP: i64 = 700_000;
    const RATE: f64 = 1000.0;
    const BURST: i64 = 40;
    let b = Arc::new(token_bucket(RATE, BURST));
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let per_phase: Arc<Vec<AtomicU64>> = Arc::new((0..PHASES).map(|_| AtomicU64::new(0)).collect());
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, barrier, per_phase) = (b.clone(), barrier.clone(), per_phase.clone());
            std::thread::spawn(move || {
                for (p, count) in per_phase.iter().enumerate() {
                    barrier.wait();
                    let now = 1_000_000_000 + p as i64 * STEP;
                    for _ in 0..CALLS {
                        let mut ok = 9;
                        assert_eq!(
                            unsafe {
                                rsl_token_bucket_allow_at(
                                    b.0,
                                    now,
                                    1,
                                    &mut ok,
                                    std::ptr::null_mut(),
                                )
                            },
                            RSL_OK
                        );
                        if ok == 1 {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    barrier.wait();
                }
            })
        })
        .collect();
    for _ in 0..PHASES {
        barrier.wait();
        barrier.wait();
    }
    for w in workers {
        w.join().unwrap();
    }
    // Single-threaded replay of the same calls.
    let model = token_bucket(RATE, BURST);
    let mut total = 0u64;
    for (p, count) in per_phase.iter().enumerate() {
        let now = 1_000_000_000 + p as i64 * STEP;
        let mut want = 0;
        for _ in 0..THREADS * CALLS {
            let mut ok = 0;
            assert_eq!(
                unsafe {
                    rsl_token_bucket_allow_at(model.0, now, 1, &mut ok, std::ptr::null_mut())
                },
                RSL_OK
            );
            want += u64::from(ok);
        }
        let got = count.load(Ordering::Relaxed);
        assert_eq!(got, want, "phase {p}");
        total += got;
    }
    // burst + rate × elapsed, in integers: 40 + 1000/s × 299 × 0.7 ms = 249.3.
    let elapsed_ns = (PHASES as i64 - 1) * STEP;
    assert!(
        total as i128 * 1_000_000_000
            <= i128::from(BURST) * 1_000_000_000 + 1000 * i128::from(elapsed_ns)
    );
    assert_eq!(
        total, 249,
        "40 at the start, then one per 1 ms over 209.3 ms"
    );
}

/// The real clock through the plain `rsl_token_bucket_allow`, which reads
/// it under the bucket's lock, so no caller's time is credited twice:
/// granted ≤ burst + rate × (t_end − t_start), counted exactly. The +1 ns
/// and the 1e-6 token margin cover x/time/rate's sub-nanosecond truncation
/// (a deficit worth less than 1 ns is granted and carried) and float sums;
/// neither is a timing allowance.
#[test]
fn token_bucket_real_clock_never_exceeds_the_rate() {
    const RATE: i64 = 200_000;
    const BURST: i64 = 100;
    const CALLS: usize = 100_000;
    #[allow(clippy::cast_precision_loss)]
    let b = Arc::new(token_bucket(RATE as f64, BURST));
    let granted = Arc::new(AtomicU64::new(0));
    let start = rsl_now_ns();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (b, granted) = (b.clone(), granted.clone());
            std::thread::spawn(move || {
                for _ in 0..CALLS {
                    let mut ok = 0;
                    assert_eq!(
                        unsafe { rsl_token_bucket_allow(b.0, 1, &mut ok, std::ptr::null_mut()) },
                        RSL_OK
                    );
                    granted.fetch_add(u64::from(ok), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let end = rsl_now_ns();
    let granted = granted.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let bound = BURST as f64 + RATE as f64 * (end - start + 1) as f64 / 1e9 + 1e-6;
    #[allow(clippy::cast_precision_loss)]
    let got = granted as f64;
    assert!(got <= bound, "granted {granted} > bound {bound}");
    assert!(granted >= BURST as u64, "the full bucket is granted first");
}

/// GCRA meter on a shared virtual clock that every call advances: the k-th
/// conforming cell needs now ≥ first + (k − 1)·T − τ, so whatever the order
/// of the times, granted ≤ burst + (t_max − t_min) / T, exactly.
#[test]
fn meter_virtual_clock_never_exceeds_the_rate() {
    const CALLS: usize = 50_000;
    const BURST: u32 = 20;
    let m = Arc::new(leaky_bucket(RSL_LEAKY_BUCKET_METER, 1000, 0, BURST)); // T = 1 ms
    let clock = Arc::new(AtomicI64::new(0));
    let granted = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let (m, clock, granted) = (m.clone(), clock.clone(), granted.clone());
            std::thread::spawn(move || {
                for k in 0..CALLS {
                    // Uneven steps: 1..=97 µs.
                    let step = 1_000 * (1 + ((k * 31 + i * 7) % 97) as i64);
                    let now = clock.fetch_add(step, Ordering::SeqCst) + step;
                    let mut v = rsl_leaky_bucket_verdict::default();
                    assert_eq!(
                        unsafe {
                            rsl_leaky_bucket_check_at(m.0, now, 1, &mut v, std::ptr::null_mut())
                        },
                        RSL_OK
                    );
                    granted.fetch_add(u64::from(v.allowed), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let t_max = clock.load(Ordering::SeqCst);
    let granted = granted.load(Ordering::Relaxed);
    let bound = u64::from(BURST) + u64::try_from(t_max / 1_000_000).unwrap();
    assert!(granted <= bound, "granted {granted} > bound {bound}");
    // Most checks come in order, so the meter is close to saturated.
    assert!(granted >= bound / 2, "granted {granted}, bound {bound}");
}

/// The meter on the real clock through the plain `rsl_leaky_bucket_check`.
#[test]
fn meter_real_clock_never_exceeds_the_rate() {
    const CALLS: usize = 100_000;
    const BURST: u32 = 50;
    let m = Arc::new(leaky_bucket(RSL_LEAKY_BUCKET_METER, 100_000, 0, BURST)); // T = 10 µs
    let granted = Arc::new(AtomicU64::new(0));
    let start = rsl_now_ns();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (m, granted) = (m.clone(), granted.clone());
            std::thread::spawn(move || {
                for _ in 0..CALLS {
                    let mut v = rsl_leaky_bucket_verdict::default();
                    assert_eq!(
                        unsafe { rsl_leaky_bucket_check(m.0, 1, &mut v, std::ptr::null_mut()) },
                        RSL_OK
                    );
                    granted.fetch_add(u64::from(v.allowed), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let end = rsl_now_ns();
    let granted = granted.load(Ordering::Relaxed);
    let bound = u64::from(BURST) + u64::try_from((end - start) / 10_000).unwrap();
    assert!(granted <= bound, "granted {granted} > bound {bound}");
    assert!(granted >= u64::from(BURST));
}

/// Pacer without slack: concurrent takes at one instant get distinct
/// permits, exactly now, now + T, now + 2T, … — none lost, none doubled.
#[test]
fn pacer_concurrent_takes_are_evenly_spaced() {
    const CALLS: usize = 5_000;
    const NOW: i64 = 1_700_000_000_000_000_000; // wall-clock nanoseconds
    let p = Arc::new(leaky_bucket(RSL_LEAKY_BUCKET_PACER, 1000, 0, 1)); // T = 1 ms
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || {
                (0..CALLS)
                    .map(|_| {
                        let mut out = rsl_leaky_bucket_permit::default();
                        assert_eq!(
                            unsafe {
                                rsl_leaky_bucket_take_at(p.0, NOW, &mut out, std::ptr::null_mut())
                            },
                            RSL_OK
                        );
                        assert_eq!(out.wait_ns, out.ready_at_ns - NOW);
                        out.ready_at_ns
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<i64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort_unstable();
    let want: Vec<i64> = (0..(THREADS * CALLS) as i64)
        .map(|i| NOW + i * 1_000_000)
        .collect();
    assert_eq!(all, want);
}

/// Concurrent reservations at one instant each claim their own slot: the
/// k-th token beyond the burst acts at exactly now + durationFromTokens(k),
/// so the multiset of times to act must equal a single-threaded replay's. A
/// lost update (two calls deciding on the same state) would repeat a time.
#[test]
fn token_bucket_concurrent_reservations_match_a_sequential_replay() {
    const CALLS: usize = 3_000;
    const NOW: i64 = 5_000_000_000;
    let b = Arc::new(token_bucket(1000.0, 10));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || {
                (0..CALLS)
                    .map(|_| {
                        let mut r = rsl_token_bucket_reservation::default();
                        let st = unsafe {
                            rsl_token_bucket_reserve_at(
                                b.0,
                                NOW,
                                1,
                                RSL_TOKEN_BUCKET_INF_DURATION,
                                &mut r,
                                std::ptr::null_mut(),
                            )
                        };
                        assert_eq!(st, RSL_OK);
                        assert_eq!(r.ok, 1);
                        r.time_to_act_ns
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut got: Vec<i64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    got.sort_unstable();
    let model = token_bucket(1000.0, 10);
    let want: Vec<i64> = (0..THREADS * CALLS)
        .map(|_| {
            let mut r = rsl_token_bucket_reservation::default();
            let st = unsafe {
                rsl_token_bucket_reserve_at(
                    model.0,
                    NOW,
                    1,
                    RSL_TOKEN_BUCKET_INF_DURATION,
                    &mut r,
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(st, RSL_OK);
            r.time_to_act_ns
        })
        .collect();
    assert_eq!(got, want);
    let (mut a, mut c) = (0.0, 0.0);
    assert_eq!(
        unsafe { rsl_token_bucket_tokens_at(b.0, NOW, &mut a, std::ptr::null_mut()) },
        RSL_OK
    );
    assert_eq!(
        unsafe { rsl_token_bucket_tokens_at(model.0, NOW, &mut c, std::ptr::null_mut()) },
        RSL_OK
    );
    assert_eq!(a.to_bits(), c.to_bits());
}
