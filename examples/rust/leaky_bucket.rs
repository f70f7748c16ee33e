//! The leaky bucket both ways with the Rust API, in virtual time: uber-go's
//! pacer without and with slack (evenly spaced permits; banked intervals
//! after an idle spell; giving up at a deadline with `try_take_at`), then
//! the leaky bucket as a meter (GCRA, governor's semantics), which answers
//! "not until" and never queues. `examples/c/leaky_bucket.c` is the same
//! program through the C ABI and prints the same lines.
#![allow(clippy::indexing_slicing)] // a demo: a 4-element vector indexed by a constant

use resilience::{LeakyBucket, LeakyConfig, LeakyMode};

const MS: i64 = 1_000_000;

fn seconds(ns: i64) -> f64 {
    ns as f64 / 1e9
}

fn bucket(mode: LeakyMode, rate: u32, slack: u32, burst: u32) -> resilience::Result<LeakyBucket> {
    LeakyBucket::new(LeakyConfig {
        mode,
        rate,
        slack,
        burst,
        ..LeakyConfig::default()
    })
}

/// A caller arriving at `now`: prints when it proceeds.
fn take(b: &LeakyBucket, now: i64) -> resilience::Result<resilience::core::leaky_bucket::Permit> {
    let p = b.take_at(now)?;
    println!(
        "  caller at t={:.3}s: proceeds at t={:.3}s (sleeps {} ms)",
        seconds(now),
        seconds(p.ready_at_ns),
        p.wait_ns / MS
    );
    Ok(p)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut surprises = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            surprises.push(what.to_owned());
        }
    };

    println!("1. Pacer, 10 per second, without slack (one permit per 100 ms):");
    let pacer = bucket(LeakyMode::Pacer, 10, 0, 1)?;
    for i in 0..5 {
        let p = take(&pacer, 0)?;
        expect(p.ready_at_ns == i * 100 * MS, "evenly spaced permits");
    }
    let p = take(&pacer, 1000 * MS)?;
    expect(p.wait_ns == 0, "after an idle spell: at once");

    println!("\n2. Pacer, 10 per second, slack 10 (uber's default):");
    let pacer = bucket(LeakyMode::Pacer, 10, 10, 1)?;
    take(&pacer, 0)?;
    let t = 2000 * MS;
    let mut at_once = 0;
    for _ in 0..11 {
        at_once += usize::from(pacer.take_at(t)?.wait_ns == 0);
    }
    println!(
        "  11 callers at t={:.3}s: {at_once} proceed at once (banked slack)",
        seconds(t)
    );
    expect(at_once == 11, "slack banks 10 intervals");
    let p = take(&pacer, t)?;
    expect(p.wait_ns == 100 * MS, "the 12th waits one interval");
    let p = pacer.try_take_at(t, 150 * MS)?;
    println!(
        "  caller at t={:.3}s with a 150 ms deadline: {} (its permit would be at t={:.3}s)",
        seconds(t),
        if p.taken { "proceeds" } else { "gives up" },
        seconds(p.ready_at_ns)
    );
    expect(
        !p.taken && p.ready_at_ns == t + 200 * MS,
        "try_take refuses past the deadline",
    );

    println!("\n3. Meter (GCRA), 5 per second, burst 3 (T = 200 ms, tolerance 400 ms):");
    let meter = bucket(LeakyMode::Meter, 5, 0, 3)?;
    let verdicts = (0..4)
        .map(|_| meter.check_at(0, 1))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, v) in verdicts.iter().enumerate() {
        if v.allowed {
            println!(
                "  request at t=0.000s: allowed, {} more could pass now",
                v.remaining
            );
        } else {
            println!(
                "  request at t=0.000s: denied, not until t={:.3}s",
                seconds(v.retry_at_ns)
            );
        }
        expect((i < 3) == v.allowed, "three pass together");
    }
    let mut last = verdicts[3];
    expect(
        last.retry_at_ns == 200 * MS,
        "the fourth may retry at 200 ms",
    );
    for t in [200 * MS, 300 * MS] {
        last = meter.check_at(t, 1)?;
        if last.allowed {
            println!("  request at t={:.3}s: allowed", seconds(t));
        } else {
            println!(
                "  request at t={:.3}s: denied, not until t={:.3}s",
                seconds(t),
                seconds(last.retry_at_ns)
            );
        }
    }
    expect(
        !last.allowed && last.retry_at_ns == 400 * MS,
        "one cell per 200 ms afterwards",
    );

    if surprises.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected: {surprises:?}").into())
    }
}
