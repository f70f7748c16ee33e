//! Semaphore isolation in virtual time (the seeds' 信号量隔离: when
//! `maxConcurrentRequests` is reached, further requests go to the fallback
//! at once): a bulkhead of 2, a third caller refused, a slot freed and
//! reused, a double exit refused, and a leaked permit showing in metrics.
//! Then the non-blocking FIFO queue: two waiters queue, an exit hands the
//! slot to the first, the second gives up, and a cancel after the hand-over
//! is "too late" and returns the permit to exit.
//!
//! Run: `cargo run --example bulkhead`.

use resilience::core::bulkhead::{Bulkhead, Cancel, Config, Entry, Handover};
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

    println!("-- a bulkhead of 1 with a queue of 2");
    let b = Bulkhead::new(Config {
        max_concurrent: 1,
        max_waiters: 2,
        ..Config::default()
    })?;
    let holder = b.try_enter_at(0).ok_or("holder refused")?;
    let (
        Entry::Queued {
            waiter: a,
            position: pa,
        },
        Entry::Queued {
            waiter: w2,
            position: pb,
        },
    ) = (b.enqueue_at(MS), b.enqueue_at(2 * MS))
    else {
        return Err("both should queue".into());
    };
    println!("t=   2 ms  A queues at place {pa}, B at place {pb}");
    let Handover::Waiter { waiter, permit } = b.exit_at(10 * MS, holder)?.handover else {
        return Err("the slot should be handed over".into());
    };
    ensure(waiter == a, "A is served first")?;
    println!(
        "t=  10 ms  the holder exits: the slot goes to A (complete its future with the permit)"
    );
    ensure(b.cancel_wait(w2)? == Cancel::Removed, "B removed")?;
    println!("t=  12 ms  B's timer fires: cancel -> left the queue");
    let Cancel::TooLate(late) = b.cancel_wait(a)? else {
        return Err("A's cancel should be too late".into());
    };
    ensure(late == permit, "the handed permit comes back")?;
    println!("t=  13 ms  A's timer fires after the hand-over: cancel -> too late, the permit comes back to exit");
    let _ = b.exit_at(14 * MS, late)?;
    let m = b.metrics_at(14 * MS);
    println!(
        "t=  14 ms  queued {}, handed over {}, cancelled {}, in_use {}",
        m.queued_total, m.handed_over_total, m.cancelled_total, m.in_use
    );
    ensure(
        m.queued_total == 2 && m.handed_over_total == 1 && m.cancelled_total == 1 && m.in_use == 0,
        "queue counts",
    )?;
    Ok(())
}
