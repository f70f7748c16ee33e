//! C ABI of the shared CPU sampler (`rsl_cpu_sampler_*`), over
//! `core::cpu_sampler`.

use super::{
    guard, rsl_error, write_versioned, Failure, VersionedStruct, RSL_ERR_INVALID_ARGUMENT,
};
use super::{rsl_status, FfiResult};
use crate::core::cpu_sampler::{self, SamplerStats};
use std::sync::Once;

/// The sampler found nothing to read (not Linux, or /proc and /sys hidden):
/// it reports 0.
pub const RSL_CPU_SAMPLER_SOURCE_NONE: u32 = 0;
/// The process's cgroup v2 (`cpu.stat` usage_usec, limit from `cpu.max`).
pub const RSL_CPU_SAMPLER_SOURCE_CGROUP_V2: u32 = 1;
/// The process's cgroup v1 (`cpuacct.usage`, limit from `cpu.cfs_quota_us`
/// / `cpu.cfs_period_us`).
pub const RSL_CPU_SAMPLER_SOURCE_CGROUP_V1: u32 = 2;
/// The host's `/proc/stat`.
pub const RSL_CPU_SAMPLER_SOURCE_PROC_STAT: u32 = 3;

/// A snapshot of the sampler; set `struct_size` before the call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rsl_cpu_sampler_stats {
    /// Set by the caller to `sizeof(rsl_cpu_sampler_stats)`.
    pub struct_size: u32,
    /// `RSL_CPU_SAMPLER_SOURCE_*` detected by the running (or last) thread.
    pub source: u32,
    /// The moving average, permille 0..=1000 (what limiters read).
    pub cpu_permille: u32,
    /// The last raw sample, permille, clamped to 1000.
    pub last_sample_permille: u32,
    /// References held: 0 means stopped.
    pub refs: u64,
    /// Samples taken since the thread last started.
    pub samples: u64,
}

impl VersionedStruct for rsl_cpu_sampler_stats {
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
    fn stamp(&mut self) {
        self.struct_size = u32::try_from(std::mem::size_of::<Self>()).unwrap_or(0);
    }
}

impl From<SamplerStats> for rsl_cpu_sampler_stats {
    fn from(s: SamplerStats) -> Self {
        Self {
            struct_size: 0,
            source: s.source as u32,
            cpu_permille: s.cpu_permille,
            last_sample_permille: s.last_sample_permille,
            refs: s.refs,
            samples: s.samples,
        }
    }
}

extern "C" fn sampler_atfork_prepare() {
    cpu_sampler::atfork_prepare();
}

extern "C" fn sampler_atfork_parent() {
    cpu_sampler::atfork_parent();
}

extern "C" fn sampler_atfork_child() {
    cpu_sampler::atfork_child();
}

/// Registers, once per process, `pthread_atfork` handlers that stop the
/// sampler thread before fork(), restart it in the parent, and restart it
/// in the child at its next use (docs/semantics.md, "CPU sampler"). Run by
/// the core just before it starts a sampler thread (the boundary's first
/// call hands it over: `core::cpu_sampler::set_before_thread_start`), so
/// only processes that use the sampler have them. glibc unregisters them
/// if the library is unloaded (`dlclose`).
pub(crate) fn watch_fork() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: plain extern "C" functions without arguments; they only
        // lock the sampler's control mutex and stop or mark its thread.
        // A failure (ENOMEM) leaves the checks by process id in
        // start/stop/stats and rsl_after_fork_child.
        let _ = unsafe {
            libc::pthread_atfork(
                Some(sampler_atfork_prepare),
                Some(sampler_atfork_parent),
                Some(sampler_atfork_child),
            )
        };
    });
}

fn spawn_failure(e: &std::io::Error) -> Failure {
    Failure::new(
        RSL_ERR_INVALID_ARGUMENT,
        format!("sampler: could not start the thread: {e}"),
    )
}

/// Takes a reference on the process-wide CPU sampler, starting its
/// background thread on the first one (the average then starts at 0 and
/// takes a sample every 250 ms; the source is detected before this
/// returns). Every `RSL_CPU_SOURCE_SAMPLER` limiter holds one reference for
/// its life; call this yourself to read `rsl_cpu_sampler_get_stats` without
/// a limiter. Thread-safe. Survives fork(): see `rsl_after_fork_child`.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (message `sampler:`) if the thread
/// could not be spawned.
#[no_mangle]
#[must_use]
pub extern "C" fn rsl_cpu_sampler_start(err: *mut rsl_error) -> rsl_status {
    guard(err, || cpu_sampler::start().map_err(|e| spawn_failure(&e)))
}

/// Starts, now, the CPU sampler thread in a child made by fork() (only the
/// forking thread is copied into a child, so the parent's sampler thread is
/// not there); the child keeps the inherited average and sample count, and
/// its limiters keep their references. Calling it is optional: the first
/// time the sampler is used the library registers `pthread_atfork`
/// handlers that stop the thread before fork(), restart it in the parent
/// at once, and in the child at its first use of the sampler (a `SAMPLER`
/// limiter's acquire or metrics, its free, any `rsl_cpu_sampler_*` call).
/// Call this to have the thread running before the first request, or after
/// a fork that runs no atfork handlers (a raw `clone` system call). A no-op
/// (RSL_OK) when nothing needs starting; idempotent. Call it from the
/// child's only thread, before other threads use the library.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (message `sampler:`) if the thread
/// could not be spawned (the next sampler call retries).
#[no_mangle]
#[must_use]
pub extern "C" fn rsl_after_fork_child(err: *mut rsl_error) -> rsl_status {
    guard(err, || {
        cpu_sampler::after_fork_child().map_err(|e| spawn_failure(&e))
    })
}

/// Gives back a reference taken by `rsl_cpu_sampler_start`; when the last
/// reference goes the thread is stopped and joined before this returns (in
/// a forked child, the parent's thread is never joined: it is not there).
/// Thread-safe. Errors: `RSL_ERR_INVALID_ARGUMENT` (message `sampler:`)
/// when no reference is held.
#[no_mangle]
#[must_use]
pub extern "C" fn rsl_cpu_sampler_stop(err: *mut rsl_error) -> rsl_status {
    guard(err, || -> FfiResult {
        if cpu_sampler::stop() {
            Ok(())
        } else {
            Err(Failure::new(
                RSL_ERR_INVALID_ARGUMENT,
                "sampler: stop without a matching start",
            ))
        }
    })
}

/// A snapshot of the sampler into `*out` (set `out->struct_size` first).
/// In a forked child it first restarts the sampler thread (see
/// `rsl_after_fork_child`). Thread-safe. Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_cpu_sampler_get_stats(
    out: *mut rsl_cpu_sampler_stats,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        write_versioned(out, cpu_sampler::stats().into(), "out")
    })
}
