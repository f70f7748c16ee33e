//! "10 requests per second", three ways, with the Rust API in virtual time:
//! the fixed window's boundary burst against the two sliding windows.
//!
//! Three limiters get the same traffic: bursts of 12 requests at 0.95 s,
//! 1.00 s, 1.50 s and 2.00 s. The fixed window grants 10 at 0.95 s and 10
//! more at 1.00 s — 20 within 50 ms (Resilience4j #1356). The sliding
//! buckets (10 x 100 ms) grant nothing more until the 0.95 s bucket leaves at
//! 1.9 s. The weighted estimate refuses the burst at 1.00 s but, assuming
//! the previous window's 10 were spread evenly, grants 5 at 1.50 s: 15
//! within 550 ms. Each denial says when to retry.
//! `examples/c/window_limiter.c` is the same program through the C ABI.
#![allow(clippy::indexing_slicing)] // a demo: fixed-size tables indexed by constants

use resilience::{Criticality, WindowLimiter, WindowLimiterConfig, WindowMode};

const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const BURST: usize = 12;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let modes = [
        ("fixed", WindowMode::Fixed),
        ("sliding buckets", WindowMode::SlidingBuckets),
        ("sliding weighted", WindowMode::SlidingWeighted),
    ];
    let limiters = modes
        .iter()
        .map(|(_, mode)| {
            WindowLimiter::new(WindowLimiterConfig {
                mode: *mode,
                limit: 10,
                window_ns: S,
                buckets: 10,
                ..WindowLimiterConfig::default()
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Hand-computed: (granted, first denial's retry in ms) per burst and mode.
    let bursts: [(i64, [(usize, i64); 3]); 4] = [
        (950, [(10, 50), (10, 950), (10, 150)]),
        (1000, [(10, 1000), (0, 900), (0, 100)]),
        (1500, [(0, 500), (0, 400), (5, 100)]),
        (2000, [(10, 1000), (10, 1000), (5, 200)]),
    ];
    let mut grants: [Vec<i64>; 3] = Default::default();
    println!("limit: 10 per second; bursts of {BURST} requests; retry = the first denial's retry_after_ns\n");
    println!(" time   {:<27}{:<27}{}", modes[0].0, modes[1].0, modes[2].0);
    let mut unexpected = Vec::new();
    for (at_ms, want) in bursts {
        let now = at_ms * MS;
        print!("{:5.2}s ", now as f64 / S as f64);
        for (m, limiter) in limiters.iter().enumerate() {
            let (mut granted, mut retry) = (0, 0);
            for _ in 0..BURST {
                let d = limiter.try_acquire_at(now, 1, Criticality::DEFAULT)?;
                if d.allowed {
                    granted += 1;
                    grants[m].push(now);
                } else if retry == 0 {
                    retry = d.retry_after_ns;
                }
            }
            let cell = format!("{granted:2} granted, retry {:4} ms", retry / MS);
            print!("  {cell:<25}");
            if want[m] != (granted, retry / MS) || retry % MS != 0 {
                unexpected.push(format!(
                    "{} at {at_ms} ms: {granted}, {retry} ns",
                    modes[m].0
                ));
            }
        }
        println!();
    }
    println!("\nmost permits granted within any 1 s:");
    for (m, g) in grants.iter().enumerate() {
        let best = g
            .iter()
            .map(|start| {
                g.iter()
                    .filter(|t| **t >= *start && **t < start + S)
                    .count()
            })
            .max()
            .unwrap_or(0);
        let note = if best > 10 {
            "  (more than the limit)"
        } else {
            ""
        };
        println!("  {:<17} {best:2}{note}", modes[m].0);
        if best != [20, 10, 15][m] {
            unexpected.push(format!("{}: {best} in one second", modes[m].0));
        }
    }
    if unexpected.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected: {}", unexpected.join("; ")).into())
    }
}
