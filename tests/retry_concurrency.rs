//! Threads drawing on one retry budget through the C ABI never overspend:
//! the grants are counted exactly, never timed.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use resilience::ffi::retry::*;
use resilience::ffi::retry_budget::*;
use resilience::ffi::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

struct Budget(*mut rsl_retry_budget);
unsafe impl Send for Budget {}
unsafe impl Sync for Budget {}
impl Budget {
    fn p(&self) -> *mut rsl_retry_budget {
        self.0
    }
}

fn budget(preset: u32, edit: impl FnOnce(&mut rsl_retry_budget_config)) -> Budget {
    let mut cfg =
        rsl_retry_budget_config::from(resilience::core::retry_budget::BudgetConfig::default());
    assert_eq!(
        unsafe { rsl_retry_budget_config_preset(&mut cfg, preset, std::ptr::null_mut()) },
        RSL_OK
    );
    edit(&mut cfg);
    let mut h = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_retry_budget_new(&cfg, &mut h, std::ptr::null_mut()) },
        RSL_OK
    );
    Budget(h)
}

fn metrics(b: &Budget) -> rsl_retry_budget_metrics {
    let mut m = rsl_retry_budget_metrics {
        struct_size: u32::try_from(std::mem::size_of::<rsl_retry_budget_metrics>()).unwrap(),
        ..Default::default()
    };
    assert_eq!(
        unsafe { rsl_retry_budget_get_metrics_at(b.p(), 0, &mut m, std::ptr::null_mut()) },
        RSL_OK
    );
    m
}

const THREADS: usize = 4;

/// Each thread withdraws `tries` times at `now`; returns the grants.
fn hammer_withdraw(b: &Budget, tries: usize, flags: u32) -> u64 {
    let granted = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..tries {
                    let mut g = 0u32;
                    let st = unsafe {
                        rsl_retry_budget_try_withdraw_at(
                            b.p(),
                            0,
                            flags,
                            &mut g,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                        )
                    };
                    assert_eq!(st, RSL_OK);
                    granted.fetch_add(u64::from(g), Ordering::Relaxed);
                }
            });
        }
    });
    granted.into_inner()
}

#[test]
fn quota_never_overspends() {
    let b = budget(RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, |_| {});
    // 500 tokens / 5 per retry = exactly 100 grants among 4000 attempts.
    assert_eq!(hammer_withdraw(&b, 1000, 0), 100);
    let m = metrics(&b);
    assert_eq!((m.tokens, m.granted_total, m.denied_total), (0, 100, 3900));
    unsafe { rsl_retry_budget_free(b.p()) };
}

#[test]
fn ratio_grants_exactly_reserve_plus_share() {
    let b = budget(RSL_RETRY_BUDGET_PRESET_TOWER, |_| {});
    // Phase 1: 4 threads deposit 250 requests each at t = 0.
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..250 {
                    assert_eq!(
                        unsafe {
                            rsl_retry_budget_deposit_at(
                                b.p(),
                                0,
                                std::ptr::null_mut(),
                                std::ptr::null_mut(),
                            )
                        },
                        RSL_OK
                    );
                }
            });
        }
    });
    // Phase 2: reserve 10/s * 10 s = 100, plus 20 % of 1000 = 200: exactly 300.
    assert_eq!(hammer_withdraw(&b, 200, 0), 300);
    let m = metrics(&b);
    assert_eq!((m.requests, m.retries, m.available), (1000, 300, 0));
    unsafe { rsl_retry_budget_free(b.p()) };
}

#[test]
fn tokens_count_every_outcome() {
    let b = budget(RSL_RETRY_BUDGET_PRESET_GRPC, |c| c.max_tokens = 1000);
    let ticket = rsl_retry_budget_ticket {
        at_ns: 0,
        cost: 0,
        kind: RSL_RETRY_TICKET_ORIGINAL,
    };
    let record = |outcome: u32, n: usize| {
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..n {
                        assert_eq!(
                            unsafe {
                                rsl_retry_budget_record_at(
                                    b.p(),
                                    0,
                                    &ticket,
                                    outcome,
                                    std::ptr::null_mut(),
                                )
                            },
                            RSL_OK
                        );
                    }
                });
            }
        });
    };
    // 4 × 100 failures: 1000 − 400 = 600 tokens, in milli-tokens.
    record(RSL_OUTCOME_FAILURE, 100);
    assert_eq!(metrics(&b).tokens, 600_000);
    // 4 × 250 successes of 0.1: +100 tokens exactly.
    record(RSL_OUTCOME_SUCCESS, 250);
    assert_eq!(metrics(&b).tokens, 700_000);
    // Withdrawals are checked, not charged.
    assert_eq!(hammer_withdraw(&b, 100, 0), 400);
    assert_eq!(metrics(&b).tokens, 700_000);
    unsafe { rsl_retry_budget_free(b.p()) };
}

struct Policy(*mut rsl_retry);
unsafe impl Send for Policy {}
unsafe impl Sync for Policy {}
impl Policy {
    fn p(&self) -> *mut rsl_retry {
        self.0
    }
}

#[test]
fn retry_policies_share_one_budget_exactly() {
    // A 50-token quota at 5 per retry: exactly 10 retries in all, however
    // the threads interleave their always-failing operations.
    let b = budget(RSL_RETRY_BUDGET_PRESET_AWS_STANDARD, |c| {
        c.quota_capacity = 50;
        c.timeout_cost = 50;
    });
    let mut cfg = rsl_retry_config {
        struct_size: 0,
        max_attempts: 0,
        max_elapsed_ns: 0,
        expected_attempt_ns: 0,
        retry_after_resets: 0,
        overloaded_on_give_up: 0,
    };
    assert_eq!(
        unsafe { rsl_retry_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    let mut p = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_retry_new(&cfg, std::ptr::null(), &mut p, std::ptr::null_mut()) },
        RSL_OK
    );
    let policy = Policy(p);
    let retries = AtomicU64::new(0);
    let budget_refusals = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                for _ in 0..50 {
                    let mut st = rsl_retry_state {
                        struct_size: u32::try_from(std::mem::size_of::<rsl_retry_state>()).unwrap(),
                        ..Default::default()
                    };
                    assert_eq!(
                        unsafe {
                            rsl_retry_begin_at(
                                policy.p(),
                                b.p(),
                                0,
                                RSL_NO_DEADLINE,
                                &mut st,
                                std::ptr::null_mut(),
                            )
                        },
                        RSL_OK
                    );
                    loop {
                        let mut d = rsl_retry_decision::default();
                        let s = unsafe {
                            rsl_retry_next_at(
                                policy.p(),
                                b.p(),
                                &mut st,
                                0,
                                RSL_OUTCOME_FAILURE,
                                0,
                                RSL_RETRY_AFTER_NONE,
                                &mut d,
                                std::ptr::null_mut(),
                            )
                        };
                        assert_eq!(s, RSL_OK);
                        if d.retry == 0 {
                            if d.reason == RSL_RETRY_REASON_BUDGET {
                                budget_refusals.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(retries.into_inner(), 10);
    // 200 operations: those that got no retry at all stopped on the budget.
    let m = metrics(&b);
    assert_eq!((m.tokens, m.granted_total, m.deposits_total), (0, 10, 200));
    assert_eq!(budget_refusals.into_inner(), m.denied_total);
    unsafe {
        rsl_retry_free(policy.p());
        rsl_retry_budget_free(b.p());
    }
}
