//! The BBR adaptive limiter (Kratos's rule) shedding SHEDDABLE traffic
//! before CRITICAL traffic during a CPU spike, with the Rust API, in virtual
//! time and with manual CPU (so the run is the same every time).
//!
//! A server receives 2 CRITICAL and 2 SHEDDABLE requests per millisecond,
//! each taking 20 ms (longer when more than 100 are in flight), at 40 % CPU.
//! From 1 s a CPU spike puts it at 95 % while the load rises to 3 + 3 per
//! ms, and from 3 s to 5 + 5 per ms; at 4 s everything is back to normal.
//! The limiter has learnt from the traffic before the spike that 400
//! requests pass per 100 ms bucket at a 20 ms minimum latency: its CRITICAL
//! limit is 400 · 20 · 10 / 1000 = 80 in flight, SHEDDABLE's half of that
//! (the default ladder). From 1 s to 3 s the CRITICAL requests alone keep 60
//! in flight: every SHEDDABLE request is shed and no CRITICAL one. From 3 s
//! to 4 s CRITICAL alone would need 100: SHEDDABLE is still shed entirely and
//! CRITICAL only down to its limit of 80 (which creeps up: the busier buckets
//! raise max_pass — BBR probing for more capacity). Printed per 100 ms.
//! `examples/c/adaptive_limiter.c` is the same simulation through the C ABI.
#![allow(clippy::indexing_slicing)] // a demo: fixed-size tables indexed by constants

use resilience::{AdaptiveLimiter, AdaptiveLimiterConfig, CpuSource, Criticality, Outcome};
use std::collections::VecDeque;

const MS: i64 = 1_000_000;

/// The phases: (from ms, CPU permille, requests per ms per level, name).
const PHASES: [(i64, u32, usize, &str); 4] = [
    (0, 400, 2, "calm"),
    (1000, 950, 3, "spike"),
    (3000, 950, 5, "heavy spike"),
    (4000, 400, 2, "calm again"),
];
const END_MS: i64 = 5000;

/// The phase at millisecond `t`.
fn phase(t_ms: i64) -> usize {
    PHASES.iter().rposition(|p| p.0 <= t_ms).unwrap_or(0)
}

/// Service time of a request admitted with `inflight` already running.
fn service_ms(inflight: usize) -> i64 {
    20 * (inflight.max(100) as i64) / 100
}

#[derive(Default, Clone, Copy)]
struct Tally {
    admitted: [u64; 2],
    dropped: [u64; 2],
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let limiter = AdaptiveLimiter::new(AdaptiveLimiterConfig {
        cpu_source: CpuSource::Manual,
        ..AdaptiveLimiterConfig::default()
    })?;
    // (finish time, token) of every admitted request, in admission order.
    let mut running: VecDeque<(i64, resilience::core::adaptive_limiter::Token)> = VecDeque::new();
    let mut totals = [Tally::default(); 4];
    let levels = [Criticality::Sheddable, Criticality::Critical];
    println!("time    cpu  inflight  limit(S/C)  SHEDDABLE adm/drop  CRITICAL adm/drop");
    let mut period = Tally::default();
    for t_ms in 0..END_MS {
        let now = t_ms * MS;
        let (_, cpu, per_level, _) = PHASES[phase(t_ms)];
        limiter.set_cpu(cpu)?;
        // Completions first (service times grow with load, so finish times
        // are not in admission order: scan them all).
        let mut i = 0;
        while i < running.len() {
            if running.get(i).is_some_and(|(end, _)| *end <= now) {
                if let Some((_, token)) = running.remove(i) {
                    limiter.release_at(now, &token, Outcome::Success);
                }
            } else {
                i += 1;
            }
        }
        // Arrivals, interleaved: SHEDDABLE, CRITICAL, SHEDDABLE, CRITICAL…
        for _ in 0..per_level {
            for (k, level) in levels.iter().enumerate() {
                let d = limiter.acquire_at(now, *level);
                if d.allowed {
                    period.admitted[k] += 1;
                    running.push_back((now + service_ms(running.len()) * MS, d.token));
                } else {
                    period.dropped[k] += 1;
                }
            }
        }
        if t_ms % 100 == 99 {
            let m = limiter.metrics_at(now);
            let limits = format!("{}/{}", m.limits[0], m.limits[2]);
            println!(
                "{:>4.1}s  {:>4}  {:>8}  {:>10}  {:>9}/{:<8}  {:>8}/{}",
                (t_ms + 1) as f64 / 1000.0,
                m.cpu_permille,
                m.inflight,
                limits,
                period.admitted[0],
                period.dropped[0],
                period.admitted[1],
                period.dropped[1]
            );
            let total = &mut totals[phase(t_ms)];
            for k in 0..2 {
                total.admitted[k] += period.admitted[k];
                total.dropped[k] += period.dropped[k];
            }
            period = Tally::default();
        }
    }
    for (p, t) in PHASES.iter().zip(&totals) {
        println!(
            "{:<11}  SHEDDABLE {:>5} admitted {:>5} shed   CRITICAL {:>5} admitted {:>5} shed",
            p.3, t.admitted[0], t.dropped[0], t.admitted[1], t.dropped[1]
        );
    }
    // What the demo shows, checked: nothing shed when calm; during the
    // spike only SHEDDABLE; in the heavy spike all SHEDDABLE and the
    // CRITICAL excess only.
    let [calm, spike, heavy, after] = totals;
    let ok = calm.dropped == [0, 0]
        && after.dropped == [0, 0]
        && spike.admitted[0] * 100 < spike.dropped[0]
        && spike.dropped[1] == 0
        && heavy.admitted[0] == 0
        && heavy.dropped[1] > 0
        && heavy.dropped[1] < heavy.admitted[1];
    if !ok {
        return Err("expected SHEDDABLE to be shed before CRITICAL".into());
    }
    Ok(())
}
