//! Conformance runner for `window_limiter` scenarios.

use super::criticality::level_arg;
use super::*;
use resilience::ffi::window_limiter::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

const RESERVE_OUTCOMES: &[(&str, u32)] = &[
    ("granted", RSL_WINDOW_LIMITER_GRANTED),
    ("reserved", RSL_WINDOW_LIMITER_RESERVED),
    ("too_long", RSL_WINDOW_LIMITER_TOO_LONG),
    ("queue_full", RSL_WINDOW_LIMITER_QUEUE_FULL),
];

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], false)?;
    let (cfg, h) = match config::create(
        s,
        &doc,
        rsl_window_limiter_config_from_json,
        rsl_window_limiter_config_to_json,
        None,
        |cfg, out, err| unsafe { rsl_window_limiter_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_window_limiter_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_window_limiter_free,
    )? {
        config::Created::Made(cfg, h) => (cfg, h),
        config::Created::Failed(_) => return Ok(()),
    };
    let mut other: *mut rsl_window_limiter = std::ptr::null_mut();
    let mut tickets: HashMap<String, u64> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let null = std::ptr::null_mut();
        // "on": "other" runs the op on a second limiter built from the same
        // config (created on first use), to make foreign tickets.
        let h = match step.get("on").and_then(Value::as_str) {
            None | Some("self") => h,
            Some("other") => {
                if other.is_null() {
                    let st = unsafe { rsl_window_limiter_new(&cfg, &mut other, null) };
                    if st != RSL_OK {
                        return Err(format!("other limiter: status {st}"));
                    }
                }
                other
            }
            Some(o) => return Err(format!("unknown target {o}")),
        };
        match op {
            "acquire" => {
                check_step_keys(step, &["n", "criticality", "on"])?;
                ck.known(&[
                    "allowed",
                    "retry_after_ns",
                    "window_count",
                    "previous_count",
                    "remaining",
                    "level_limit",
                ]);
                let n = u32::try_from(int_arg(step, "n", 1)?).map_err(|e| e.to_string())?;
                let level = level_arg(step)?;
                let mut d = rsl_window_limiter_decision::default();
                let st =
                    unsafe { rsl_window_limiter_try_acquire_at(h, at, n, level, &mut d, null) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("allowed", d.allowed);
                ck.int("retry_after_ns", i128::from(d.retry_after_ns));
                ck.int("window_count", i128::from(d.window_count));
                ck.int("previous_count", i128::from(d.previous_count));
                ck.int("remaining", i128::from(d.remaining));
                ck.int("level_limit", i128::from(d.level_limit));
            }
            "reserve" => {
                check_step_keys(
                    step,
                    &["n", "criticality", "max_wait_ns", "reservation", "on"],
                )?;
                ck.known(&["outcome", "wait_ns", "ready_at_ns"]);
                let n = u32::try_from(int_arg(step, "n", 1)?).map_err(|e| e.to_string())?;
                let level = level_arg(step)?;
                let max_wait = int_arg(step, "max_wait_ns", 0)?;
                let garbage = rsl_window_limiter_reserve_result {
                    outcome: 0xabab,
                    reserved0: 0xabab,
                    wait_ns: -7,
                    ready_at_ns: -7,
                    reservation: 0xabab,
                };
                let mut r = garbage;
                let st = unsafe {
                    rsl_window_limiter_reserve_at(h, at, n, level, max_wait, &mut r, null)
                };
                if !check_status(step, st)? {
                    if (r.outcome, r.wait_ns, r.reservation) != (0xabab, -7, 0xabab) {
                        return Err("a failed reserve wrote its out struct".into());
                    }
                    return Ok(());
                }
                let consistent = r.reserved0 == 0
                    && match r.outcome {
                        RSL_WINDOW_LIMITER_GRANTED => {
                            (r.wait_ns, r.ready_at_ns, r.reservation) == (0, 0, 0)
                        }
                        RSL_WINDOW_LIMITER_RESERVED => {
                            r.wait_ns >= 1 && r.wait_ns <= max_wait && r.reservation != 0
                        }
                        RSL_WINDOW_LIMITER_TOO_LONG => {
                            r.wait_ns > max_wait && (r.ready_at_ns, r.reservation) == (0, 0)
                        }
                        RSL_WINDOW_LIMITER_QUEUE_FULL => {
                            r.wait_ns <= max_wait && (r.ready_at_ns, r.reservation) == (0, 0)
                        }
                        _ => false,
                    };
                if !consistent {
                    return Err(format!("inconsistent reserve result {r:?}"));
                }
                ck.named("outcome", RESERVE_OUTCOMES, r.outcome);
                ck.int("wait_ns", i128::from(r.wait_ns));
                ck.int("ready_at_ns", i128::from(r.ready_at_ns));
                if let Some(label) = step.get("reservation") {
                    let label = label.as_str().ok_or("reservation: not a label")?;
                    tickets.insert(label.to_owned(), r.reservation);
                }
            }
            "cancel" => {
                check_step_keys(step, &["reservation", "alter", "on"])?;
                ck.known(&["cancelled"]);
                let label = step
                    .get("reservation")
                    .and_then(Value::as_str)
                    .ok_or("missing reservation label")?;
                let t = *tickets
                    .get(label)
                    .ok_or_else(|| format!("unknown reservation {label}"))?;
                let t = super::bulkhead::alter_value(step, t)?;
                let mut cancelled = 0xabab_u32;
                let st = unsafe { rsl_window_limiter_cancel_at(h, at, t, &mut cancelled, null) };
                if !check_status(step, st)? {
                    if cancelled != 0xabab {
                        return Err("a failed cancel wrote out_cancelled".into());
                    }
                    return Ok(());
                }
                if cancelled > 1 {
                    return Err(format!("cancelled is {cancelled}, not 0 or 1"));
                }
                ck.boolean("cancelled", cancelled);
            }
            "metrics" => {
                check_step_keys(step, &["on"])?;
                let mut m = rsl_window_limiter_metrics {
                    struct_size: u32::try_from(std::mem::size_of::<rsl_window_limiter_metrics>())
                        .unwrap(),
                    ..Default::default()
                };
                let st = unsafe { rsl_window_limiter_get_metrics_at(h, at, &mut m, null) };
                if st != RSL_OK {
                    return Err(format!("metrics status {st}"));
                }
                let fields: [(&str, i128); 11] = [
                    ("window_count", m.window_count.into()),
                    ("previous_count", m.previous_count.into()),
                    ("remaining", m.remaining.into()),
                    ("admitted_total", m.admitted_total.into()),
                    ("rejected_total", m.rejected_total.into()),
                    ("reserved", m.reserved.into()),
                    ("reservations", m.reservations.into()),
                    ("reserved_total", m.reserved_total.into()),
                    ("cancelled_total", m.cancelled_total.into()),
                    ("reserved0", m.reserved0.into()),
                    ("reserved1", m.reserved1.into()),
                ];
                let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                ck.known(&names);
                for (n, v) in fields {
                    ck.int(n, v);
                }
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe {
        rsl_window_limiter_free(h);
        rsl_window_limiter_free(other);
    }
    result
}
