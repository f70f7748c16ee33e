//! Semaphore isolation in virtual time (the seeds' 信号量隔离: when
//! `maxConcurrentRequests` is reached, further requests go to the fallback
//! at once): a bulkhead of 2, a third caller refused, a slot freed and
//! reused, a double exit refused, and a leaked permit showing in metrics.
//!
//! Run: `cargo run --example bulkhead`.

use resilience::core::bulkhead::{Bulkhead, Config};
use std::error::Error;

const MS: i64 = 1_000_000;

fn ensure(ok: bool, what: &str) -> Result<(), Box<dyn Error>> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let b = Bulkhead::new(Config {
        max_concurrent: 2,
        max_hold_ns: 1_000 * MS,
        ..Config::default()
    })?;
    let r1 = b.try_enter_at(0).ok_or("r1 refused")?;
    println!("t=   0 ms  request 1 enters (1/2 in use)");
    let r2 = b.try_enter_at(MS).ok_or("r2 refused")?;
    println!("t=   1 ms  request 2 enters (2/2 in use)");
    let r3 = b.try_enter_at(2 * MS);
    println!(
        "t=   2 ms  request 3: {} -> fallback, no waiting",
        if r3.is_some() { "entered" } else { "full" }
    );
    ensure(r3.is_none(), "request 3 refused")?;
    let held = b.exit_at(5 * MS, r1)?.held_ns;
    println!(
        "t=   5 ms  request 1 done after {} ms; a slot is free",
        held / MS
    );
    let r4 = b.try_enter_at(5 * MS).ok_or("r4 refused")?;
    println!("t=   5 ms  request 4 enters");
    let again = b.exit_at(6 * MS, r1).map(|x| x.held_ns);
    println!(
        "t=   6 ms  request 1 exits again -> {}",
        again
            .as_ref()
            .map_or_else(ToString::to_string, |h| format!("held {h}"))
    );
    ensure(again.is_err(), "double exit refused")?;
    let _ = b.exit_at(10 * MS, r4)?;
    // Request 2 never exits: at t = 2 s the leak shows.
    let m = b.metrics_at(2_000 * MS);
    println!(
        "t=2000 ms  in_use {} peak {} rejected {} oldest held {} ms overdue {}",
        m.in_use,
        m.peak_in_use,
        m.rejected_total,
        m.oldest_held_ns / MS,
        m.overdue_in_use
    );
    ensure(
        m.in_use == 1 && m.overdue_in_use == 1 && m.oldest_held_ns == 1_999 * MS,
        "leak visible",
    )?;
    let _ = b.exit_at(2_000 * MS, r2)?;
    let m = b.metrics_at(2_000 * MS);
    println!(
        "t=2000 ms  request 2 finally exits: in_use {}, entered {}, exited {}, overdue exits {}",
        m.in_use, m.entered_total, m.exited_total, m.overdue_exits_total
    );
    ensure(m.in_use == 0 && m.overdue_exits_total == 1, "all returned")?;
    Ok(())
}
