//! The CPU sampler across fork(), in its own test binary (a forked child
//! holds only the forking thread, so nothing else may run in this process).
//! One test, in phases, because the first must run before anything
//! registers the library's atfork handlers:
//!
//! 1. the core API alone (no handler registered): in the child the
//!    parent's thread is noticed by process id, set aside (never joined),
//!    and replaced; samples advance; the last reference stops the new one;
//! 2. the atfork handlers without a fork: prepare stops the thread, parent
//!    restarts it, and the counts carry on;
//! 3. the C ABI (which registers the handlers): the child's first acquire
//!    starts its thread, samples advance, free gives back the reference;
//!    the parent's thread was restarted and keeps sampling.
//!
//! A child reports through its exit status (no output: the test harness
//! captures it) and counts every panic, caught or not, with its own hook.
//! No timing assertion: waits poll for up to 30 s.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use resilience::core::cpu_sampler::{self, SamplerGuard, SourceKind};
use resilience::ffi::adaptive_limiter::*;
use resilience::ffi::cpu_sampler::*;
use resilience::ffi::criticality::RSL_CRITICALITY_DEFAULT;
use resilience::ffi::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static CHILD_PANICS: AtomicU32 = AtomicU32::new(0);

/// Polls until more than `than` samples were taken (or 30 s passed).
fn samples_above(than: u64) -> u64 {
    let mut seen = cpu_sampler::stats().samples;
    for _ in 0..600 {
        if seen > than {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        seen = cpu_sampler::stats().samples;
    }
    seen
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// Forks; the child runs `child` and exits with what it returns (0 = every
/// check passed), the parent gets the child's exit status back.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the test binary runs this one test; the child only uses the
    // library and std, then leaves with _exit (no harness code in it).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        std::panic::set_hook(Box::new(|_| {
            CHILD_PANICS.fetch_add(1, Ordering::Relaxed);
        }));
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(90);
        let code = if code == 0 && CHILD_PANICS.load(Ordering::Relaxed) > 0 {
            91
        } else {
            code
        };
        // SAFETY: ends the child without running the parent's atexit work.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
    libc::WEXITSTATUS(status)
}

fn sampling() -> bool {
    cpu_sampler::stats().source != SourceKind::None
}

#[test]
fn the_sampler_survives_fork() {
    // 1. No atfork handler: the child notices the process id changed.
    let guard = SamplerGuard::acquire().unwrap();
    let live = sampling();
    if live {
        assert!(samples_above(0) > 0);
    }
    let code = in_child(|| {
        let s = cpu_sampler::stats(); // notices the fork, starts a thread
        if s.refs != 1 {
            return 1;
        }
        if live && samples_above(s.samples + 1) <= s.samples + 1 {
            return 2;
        }
        if threads() != 2 {
            return 3; // this thread and the new sampler
        }
        drop(SamplerGuard::acquire().unwrap());
        if !cpu_sampler::stop() {
            return 4; // the inherited reference
        }
        if cpu_sampler::stats().refs != 0 || threads() != 1 {
            return 5; // the child's own thread was stopped and joined
        }
        0
    });
    assert_eq!(code, 0, "child without atfork handlers");
    assert_eq!(cpu_sampler::stats().refs, 1);
    if live {
        let before = cpu_sampler::stats().samples;
        assert!(samples_above(before) > before, "the parent kept sampling");
    }

    // 2. The handlers around a fork that is not there: stop, then restart.
    let before = threads();
    cpu_sampler::atfork_prepare();
    cpu_sampler::atfork_parent();
    assert_eq!(threads(), before, "the parent handler restarted the thread");
    if live {
        let n = cpu_sampler::stats().samples;
        assert!(samples_above(n) > n, "and it samples");
    }
    drop(guard);
    assert_eq!(cpu_sampler::stats().refs, 0);

    // 3. Through the C ABI, which registers the handlers.
    let mut cfg = rsl_adaptive_limiter_config::from(resilience::AdaptiveLimiterConfig::default());
    assert_eq!(
        unsafe { rsl_adaptive_limiter_config_init(&mut cfg, std::ptr::null_mut()) },
        RSL_OK
    );
    let mut limiter: *mut rsl_adaptive_limiter = std::ptr::null_mut();
    assert_eq!(
        unsafe { rsl_adaptive_limiter_new(&cfg, &mut limiter, std::ptr::null_mut()) },
        RSL_OK
    );
    let limiter_addr = limiter as usize;
    let acquire_once = move || {
        let mut d = rsl_adaptive_limiter_decision::default();
        let l = limiter_addr as *const rsl_adaptive_limiter;
        let st = unsafe {
            rsl_adaptive_limiter_acquire(l, RSL_CRITICALITY_DEFAULT, &mut d, std::ptr::null_mut())
        };
        if st != RSL_OK {
            return false;
        }
        d.allowed == 0
            || unsafe {
                rsl_adaptive_limiter_record(
                    l,
                    &d.token,
                    RSL_OUTCOME_SUCCESS,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            } == RSL_OK
    };
    if live {
        assert!(samples_above(0) > 0);
    }
    let parent_threads = threads();
    let code = in_child(|| {
        if threads() != 1 {
            return 10; // fork copied this thread only
        }
        if !acquire_once() {
            return 11;
        }
        if threads() != 2 {
            return 12; // the acquire started the child's sampler
        }
        let s = cpu_sampler::stats();
        if s.refs != 1 {
            return 13;
        }
        if live && samples_above(s.samples + 1) <= s.samples + 1 {
            return 14;
        }
        if rsl_after_fork_child(std::ptr::null_mut()) != RSL_OK || threads() != 2 {
            return 15; // nothing left to do
        }
        unsafe { rsl_adaptive_limiter_free(limiter_addr as *mut rsl_adaptive_limiter) };
        if cpu_sampler::stats().refs != 0 || threads() != 1 {
            return 16;
        }
        0
    });
    assert_eq!(code, 0, "child with atfork handlers");
    assert_eq!(
        threads(),
        parent_threads,
        "the parent's thread was restarted"
    );
    assert!(acquire_once());
    if live {
        let n = cpu_sampler::stats().samples;
        assert!(samples_above(n) > n, "the parent kept sampling");
    }
    assert_eq!(rsl_after_fork_child(std::ptr::null_mut()), RSL_OK);
    unsafe { rsl_adaptive_limiter_free(limiter) };
    assert_eq!(cpu_sampler::stats().refs, 0);
}
