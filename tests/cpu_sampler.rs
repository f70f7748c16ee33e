//! The CPU sampler's source detection and parsing, on fixture trees under
//! `tests/fixtures/cpu/` (each a fake root with `proc/` and `sys/`, read at
//! two instants `t0` and `t1`), and a smoke test of the live sampler thread
//! through the C ABI.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    missing_docs,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use resilience::core::cpu_sampler::{usage_permille, Probe, Reading, SourceKind};
use resilience::ffi::cpu_sampler::*;
use resilience::ffi::*;
use std::path::{Path, PathBuf};

const WALL_250MS: i64 = 250_000_000;

fn fixture(name: &str, t: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cpu")
        .join(name)
        .join(t)
}

/// Detects the source at t0 and t1 and reads both.
fn two_readings(name: &str) -> (Probe, Reading, Reading) {
    let p0 = Probe::detect(&fixture(name, "t0"));
    let p1 = Probe::detect(&fixture(name, "t1"));
    assert_eq!(p0.kind(), p1.kind());
    let r0 = p0.read().expect("t0 reading");
    let r1 = p1.read().expect("t1 reading");
    (p0, r0, r1)
}

#[test]
fn cgroup_v2_nested_with_quota() {
    let (probe, r0, r1) = two_readings("cgroup_v2");
    assert_eq!(probe.kind(), SourceKind::CgroupV2);
    match &probe {
        Probe::CgroupV2 { stat, max } => {
            assert!(stat.ends_with("sys/fs/cgroup/system.slice/app.service/cpu.stat"));
            assert!(max.ends_with("sys/fs/cgroup/system.slice/app.service/cpu.max"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r0,
        Reading::Cgroup {
            usage_ns: 5_000_000_000,
            limit_cores: Some(1.5)
        }
    );
    // 300 ms of CPU in 250 ms on a 1.5-core quota: 300 / 375 = 0.8.
    assert_eq!(usage_permille(&r0, &r1, WALL_250MS, 8.0), Some(800));
    // Fewer CPUs than the quota: the CPUs bound it (300 / 250 = 1.2, unclamped).
    assert_eq!(usage_permille(&r0, &r1, WALL_250MS, 1.0), Some(1200));
}

#[test]
fn cgroup_v2_container_root_without_quota() {
    let (probe, r0, r1) = two_readings("cgroup_v2_container");
    assert_eq!(probe.kind(), SourceKind::CgroupV2);
    assert_eq!(
        r1,
        Reading::Cgroup {
            usage_ns: 501_000_000,
            limit_cores: None
        }
    );
    // 500 ms of CPU in 250 ms over 4 CPUs: 0.5.
    assert_eq!(usage_permille(&r0, &r1, WALL_250MS, 4.0), Some(500));
}

#[test]
fn cgroup_v1_combined_hierarchy_with_quota() {
    let (probe, r0, r1) = two_readings("cgroup_v1");
    // A hybrid host: the unified mount is under sys/fs/cgroup/unified, so v1.
    assert_eq!(probe.kind(), SourceKind::CgroupV1);
    match &probe {
        Probe::CgroupV1 {
            usage,
            quota,
            period,
        } => {
            assert!(usage.ends_with("cpu,cpuacct/docker/4f1e/cpuacct.usage"));
            assert!(quota.ends_with("cpu,cpuacct/docker/4f1e/cpu.cfs_quota_us"));
            assert!(period.ends_with("cpu,cpuacct/docker/4f1e/cpu.cfs_period_us"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r0,
        Reading::Cgroup {
            usage_ns: 123_000_000_000,
            limit_cores: Some(2.0)
        }
    );
    // 250 ms of CPU in 250 ms on a 2-core quota: 0.5.
    assert_eq!(usage_permille(&r0, &r1, WALL_250MS, 16.0), Some(500));
}

#[test]
fn cgroup_v1_container_separate_mounts_unlimited() {
    let (probe, r0, r1) = two_readings("cgroup_v1_container");
    assert_eq!(probe.kind(), SourceKind::CgroupV1);
    match &probe {
        // The cgroup path does not exist inside the container's namespace:
        // the files are read at the mount root.
        Probe::CgroupV1 { usage, quota, .. } => {
            assert!(usage.ends_with("sys/fs/cgroup/cpuacct/cpuacct.usage"));
            assert!(quota.ends_with("sys/fs/cgroup/cpu/cpu.cfs_quota_us"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r1,
        Reading::Cgroup {
            usage_ns: 750_000_000,
            limit_cores: None
        }
    );
    // cfs_quota_us = -1: the 3 CPUs bound it; 750 / (250 * 3) = 1.0.
    assert_eq!(usage_permille(&r0, &r1, WALL_250MS, 3.0), Some(1000));
}

#[test]
fn proc_stat_busy_over_total() {
    let (probe, r0, r1) = two_readings("proc_stat");
    assert_eq!(probe.kind(), SourceKind::ProcStat);
    // t0: total 94850, idle + iowait 81000; t1: total 96350, idle + iowait 81550.
    assert_eq!(
        r0,
        Reading::ProcStat {
            busy: 13_850,
            total: 94_850
        }
    );
    assert_eq!(
        r1,
        Reading::ProcStat {
            busy: 14_800,
            total: 96_350
        }
    );
    // 950 busy of 1500 jiffies: 633.3 -> 633 (the wall time is not used).
    assert_eq!(usage_permille(&r0, &r1, 1, 1.0), Some(633));
}

#[test]
fn nothing_readable() {
    let probe = Probe::detect(&fixture("empty", ""));
    assert_eq!(probe, Probe::None);
    assert_eq!(probe.read(), None);
}

#[test]
fn live_sampler_smoke() {
    let size = u32::try_from(std::mem::size_of::<rsl_cpu_sampler_stats>()).unwrap();
    let stats = || {
        let mut s = rsl_cpu_sampler_stats {
            struct_size: size,
            ..Default::default()
        };
        assert_eq!(
            unsafe { rsl_cpu_sampler_get_stats(&mut s, std::ptr::null_mut()) },
            RSL_OK
        );
        s
    };
    assert_eq!(
        rsl_cpu_sampler_stop(std::ptr::null_mut()),
        RSL_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { rsl_cpu_sampler_get_stats(std::ptr::null_mut(), std::ptr::null_mut()) },
        RSL_ERR_NULL_ARGUMENT
    );
    assert_eq!(rsl_cpu_sampler_start(std::ptr::null_mut()), RSL_OK);
    assert_eq!(rsl_cpu_sampler_start(std::ptr::null_mut()), RSL_OK);
    assert_eq!(stats().refs, 2);
    // Wait (not a timing assertion) for two samples, up to 20 s.
    let mut waited = 0;
    while stats().samples < 2 && waited < 200 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let s = stats();
    if s.source != RSL_CPU_SAMPLER_SOURCE_NONE {
        assert!(s.samples >= 2, "{s:?}");
    }
    assert!(s.cpu_permille <= 1000, "{s:?}");
    assert!(s.last_sample_permille <= 1000, "{s:?}");
    assert_eq!(rsl_cpu_sampler_stop(std::ptr::null_mut()), RSL_OK);
    assert_eq!(stats().refs, 1);
    assert_eq!(rsl_cpu_sampler_stop(std::ptr::null_mut()), RSL_OK);
    assert_eq!(stats().refs, 0);
    assert_eq!(
        rsl_cpu_sampler_stop(std::ptr::null_mut()),
        RSL_ERR_INVALID_ARGUMENT
    );
}
