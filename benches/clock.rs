//! The clock read is most of the cost of a limiter decision. This measures
//! the candidates side by side: the library clock (`rsl_now_ns`, which is
//! `CLOCK_MONOTONIC` through the vDSO), a raw `clock_gettime` of the same
//! clock, `CLOCK_MONOTONIC_COARSE` (fast, but one tick is 1–4 ms), and a raw
//! TSC read (fast, but needs calibration and is not guaranteed to be
//! synchronised across sockets or stable across VM migration).
#![allow(missing_docs, unsafe_code)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn gettime(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

fn clocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock");
    g.bench_function("rsl_now_ns (CLOCK_MONOTONIC via Instant)", |b| {
        b.iter(|| black_box(resilience::ffi::rsl_now_ns()));
    });
    g.bench_function("clock_gettime(CLOCK_MONOTONIC)", |b| {
        b.iter(|| black_box(gettime(libc::CLOCK_MONOTONIC)));
    });
    g.bench_function("clock_gettime(CLOCK_MONOTONIC_COARSE)", |b| {
        b.iter(|| black_box(gettime(libc::CLOCK_MONOTONIC_COARSE)));
    });
    g.bench_function("clock_gettime(CLOCK_BOOTTIME)", |b| {
        b.iter(|| black_box(gettime(libc::CLOCK_BOOTTIME)));
    });
    #[cfg(target_arch = "x86_64")]
    {
        g.bench_function("rdtsc", |b| {
            // SAFETY: rdtsc has no preconditions on x86_64.
            b.iter(|| black_box(unsafe { core::arch::x86_64::_rdtsc() }));
        });
        g.bench_function("rdtscp", |b| {
            let mut aux = 0u32;
            // SAFETY: rdtscp has no preconditions on CPUs that list it.
            b.iter(|| black_box(unsafe { core::arch::x86_64::__rdtscp(&mut aux) }));
        });
    }
    g.finish();
}

criterion_group!(benches, clocks);
criterion_main!(benches);
