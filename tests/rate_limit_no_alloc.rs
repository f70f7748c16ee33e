//! The hot paths of the token bucket and the leaky bucket do not allocate:
//! a counting global allocator watches this thread while it calls them
//! through the C ABI (decisions only; errors may allocate their message).
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use resilience::ffi::leaky_bucket::*;
use resilience::ffi::token_bucket::*;
use resilience::ffi::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn watched<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    WATCHED.with(|w| w.set(true));
    let r = f();
    WATCHED.with(|w| w.set(false));
    (r, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

#[test]
fn decisions_do_not_allocate() {
    let mut tb_cfg = rsl_token_bucket_config {
        struct_size: 0,
        reserved0: 0,
        rate_per_sec: 0.0,
        burst: 0,
    };
    assert_eq!(
        unsafe { rsl_token_bucket_config_init(&mut tb_cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    tb_cfg.rate_per_sec = 1000.0;
    tb_cfg.burst = 10;
    let mut tb = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_token_bucket_new(&tb_cfg, &mut tb, std::ptr::null_mut()) },
        RSL_OK
    );

    let mut lb_cfg = rsl_leaky_bucket_config {
        struct_size: 0,
        mode: 0,
        rate: 0,
        slack: 0,
        per_ns: 0,
        burst: 0,
        reserved0: 0,
    };
    assert_eq!(
        unsafe { rsl_leaky_bucket_config_init(&mut lb_cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    let mut pacer = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_leaky_bucket_new(&lb_cfg, &mut pacer, std::ptr::null_mut()) },
        RSL_OK
    );
    lb_cfg.mode = RSL_LEAKY_BUCKET_METER;
    lb_cfg.burst = 5;
    let mut meter = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_leaky_bucket_new(&lb_cfg, &mut meter, std::ptr::null_mut()) },
        RSL_OK
    );
    // Warm up the clock and anything lazily initialised.
    let _ = rsl_now_ns();

    let (granted, allocations) = watched(|| {
        let mut granted = 0u64;
        for i in 0..20_000i64 {
            let now = i * 300_000;
            let mut ok = 0;
            assert_eq!(
                unsafe { rsl_token_bucket_allow_at(tb, now, 1, &mut ok, std::ptr::null_mut()) },
                RSL_OK
            );
            granted += u64::from(ok);
            assert_eq!(
                unsafe { rsl_token_bucket_allow(tb, 1, &mut ok, std::ptr::null_mut()) },
                RSL_OK
            );
            let mut r = rsl_token_bucket_reservation::default();
            assert_eq!(
                unsafe {
                    rsl_token_bucket_reserve_at(tb, now, 2, 1_000_000, &mut r, std::ptr::null_mut())
                },
                RSL_OK
            );
            assert_eq!(
                unsafe { rsl_token_bucket_cancel_at(tb, now, &mut r, std::ptr::null_mut()) },
                RSL_OK
            );
            let mut t = 0.0;
            assert_eq!(
                unsafe { rsl_token_bucket_tokens_at(tb, now, &mut t, std::ptr::null_mut()) },
                RSL_OK
            );
            let mut p = rsl_leaky_bucket_permit::default();
            assert_eq!(
                unsafe { rsl_leaky_bucket_take_at(pacer, now, &mut p, std::ptr::null_mut()) },
                RSL_OK
            );
            assert_eq!(
                unsafe {
                    rsl_leaky_bucket_try_take_at(pacer, now, 0, &mut p, std::ptr::null_mut())
                },
                RSL_OK
            );
            assert_eq!(
                unsafe { rsl_leaky_bucket_take(pacer, &mut p, std::ptr::null_mut()) },
                RSL_OK
            );
            let mut v = rsl_leaky_bucket_verdict::default();
            assert_eq!(
                unsafe { rsl_leaky_bucket_check_at(meter, now, 1, &mut v, std::ptr::null_mut()) },
                RSL_OK
            );
            assert_eq!(
                unsafe { rsl_leaky_bucket_check(meter, 1, &mut v, std::ptr::null_mut()) },
                RSL_OK
            );
        }
        granted
    });
    assert!(granted > 0);
    assert_eq!(
        allocations, 0,
        "the hot paths allocated {allocations} times"
    );

    // The counter itself works: an error message allocates.
    let (_, allocations) = watched(|| {
        let mut ok = 0;
        assert_eq!(
            unsafe { rsl_token_bucket_allow_at(tb, 0, -1, &mut ok, std::ptr::null_mut()) },
            RSL_ERR_INVALID_ARGUMENT
        );
    });
    assert!(allocations > 0);

    unsafe {
        rsl_token_bucket_free(tb);
        rsl_leaky_bucket_free(pacer);
        rsl_leaky_bucket_free(meter);
    }
}
