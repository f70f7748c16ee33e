//! C ABI of the shared CPU sampler (`rsl_cpu_sampler_*`), over
//! `core::cpu_sampler`.

use super::{
    guard, rsl_error, write_versioned, Failure, VersionedStruct, RSL_ERR_INVALID_ARGUMENT,
};
use super::{rsl_status, FfiResult};
use crate::core::cpu_sampler::{self, SamplerStats};

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

/// Takes a reference on the process-wide CPU sampler, starting its
/// background thread on the first one (the average then starts at 0 and
/// takes a sample every 250 ms). Every `RSL_CPU_SOURCE_SAMPLER` limiter
/// holds one reference for its life; call this yourself to read
/// `rsl_cpu_sampler_get_stats` without a limiter. Thread-safe.
/// Errors: `RSL_ERR_INVALID_ARGUMENT` (message `sampler:`) if the thread
/// could not be spawned.
#[no_mangle]
#[must_use]
pub extern "C" fn rsl_cpu_sampler_start(err: *mut rsl_error) -> rsl_status {
    guard(err, || {
        cpu_sampler::start().map_err(|e| {
            Failure::new(
                RSL_ERR_INVALID_ARGUMENT,
                format!("sampler: could not start the thread: {e}"),
            )
        })
    })
}

/// Gives back a reference taken by `rsl_cpu_sampler_start`; when the last
/// reference goes the thread is stopped and joined before this returns.
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
/// Thread-safe. Errors: `RSL_ERR_NULL_ARGUMENT`, `RSL_ERR_CONFIG_SIZE`.
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
