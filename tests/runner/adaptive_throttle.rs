//! Conformance runner for `adaptive_throttle` scenarios.

use super::*;
use resilience::ffi::adaptive_throttle::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub fn run(s: &Map<String, Value>) -> Res {
    if s.contains_key("created_at_ns") {
        return Err("created_at_ns: the adaptive throttle has no creation time".into());
    }
    let doc = config::config_doc(s, &[], false)?;
    let h = match config::create(
        s,
        &doc,
        rsl_adaptive_throttle_config_from_json,
        rsl_adaptive_throttle_config_to_json,
        None,
        |cfg, out, err| unsafe { rsl_adaptive_throttle_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_adaptive_throttle_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_adaptive_throttle_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let mut tickets: HashMap<String, rsl_adaptive_throttle_ticket> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "allow" | "call" => {
                check_step_keys(
                    step,
                    if op == "allow" {
                        &["ticket"]
                    } else {
                        &["outcome"]
                    },
                )?;
                ck.known(&["allowed", "drop_probability", "requests", "accepts"]);
                let mut d = rsl_adaptive_throttle_decision::default();
                let st =
                    unsafe { rsl_adaptive_throttle_allow_at(h, at, &mut d, std::ptr::null_mut()) };
                // In a call, expect_status belongs to the record.
                if op == "call" && st != RSL_OK {
                    return Err(format!("allow status {st}: {}", last_error()));
                }
                if op == "allow" && !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("allowed", d.allowed);
                ck.float("drop_probability", d.drop_probability);
                ck.int("requests", i128::from(d.requests));
                ck.int("accepts", i128::from(d.accepts));
                if op == "allow" {
                    if let Some(label) = step.get("ticket").and_then(Value::as_str) {
                        tickets.insert(label.to_owned(), d.ticket);
                    }
                } else if d.allowed != 0 {
                    let st = unsafe {
                        rsl_adaptive_throttle_record_at(
                            h,
                            at,
                            &d.ticket,
                            outcome_arg(step)?,
                            std::ptr::null_mut(),
                        )
                    };
                    check_status(step, st)?;
                }
            }
            "record" => {
                check_step_keys(step, &["ticket", "outcome"])?;
                ck.known(&[]);
                let label = step
                    .get("ticket")
                    .and_then(Value::as_str)
                    .ok_or("missing ticket")?;
                let t = *tickets
                    .get(label)
                    .ok_or_else(|| format!("unknown ticket {label}"))?;
                let st = unsafe {
                    rsl_adaptive_throttle_record_at(
                        h,
                        at,
                        &t,
                        outcome_arg(step)?,
                        std::ptr::null_mut(),
                    )
                };
                check_status(step, st)?;
            }
            "metrics" => {
                check_step_keys(step, &[])?;
                ck.known(&[
                    "requests",
                    "accepts",
                    "drop_probability",
                    "allowed_total",
                    "rejected_total",
                ]);
                let mut m = rsl_adaptive_throttle_metrics {
                    struct_size:
                        u32::try_from(std::mem::size_of::<rsl_adaptive_throttle_metrics>()).unwrap(),
                    ..Default::default()
                };
                let st = unsafe {
                    rsl_adaptive_throttle_get_metrics_at(h, at, &mut m, std::ptr::null_mut())
                };
                if st != RSL_OK {
                    return Err(format!("metrics status {st}"));
                }
                ck.int("requests", i128::from(m.requests));
                ck.int("accepts", i128::from(m.accepts));
                ck.float("drop_probability", m.drop_probability);
                ck.int("allowed_total", i128::from(m.allowed_total));
                ck.int("rejected_total", i128::from(m.rejected_total));
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe { rsl_adaptive_throttle_free(h) };
    result
}
