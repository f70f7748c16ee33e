//! Conformance runner for `adaptive_throttle` scenarios.

use super::*;
use resilience::ffi::adaptive_throttle::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

const THROTTLE_PRESETS: &[(&str, u32)] = &[
    ("sre_book", RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK),
    ("kratos", RSL_ADAPTIVE_THROTTLE_PRESET_KRATOS),
    ("go_zero", RSL_ADAPTIVE_THROTTLE_PRESET_GO_ZERO),
];

const ENUMS: &[(&str, &str, u32)] = &[
    ("accounting", "on_admit", RSL_ACCOUNTING_ON_ADMIT),
    ("accounting", "on_completion", RSL_ACCOUNTING_ON_COMPLETION),
];

fn throttle_slot<'a>(c: &'a mut rsl_adaptive_throttle_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "accounting" => Slot::U32(&mut c.accounting),
        "k" => Slot::F64(&mut c.k),
        "window_ns" => Slot::I64(&mut c.window_ns),
        "buckets" => Slot::U32(&mut c.buckets),
        "min_requests" => Slot::U32(&mut c.min_requests),
        "request_offset" => Slot::U32(&mut c.request_offset),
        "count_local_rejections" => Slot::U32(&mut c.count_local_rejections),
        "max_drop_probability" => Slot::F64(&mut c.max_drop_probability),
        "seed" => Slot::U64(&mut c.seed),
        _ => return Err(format!("unknown adaptive_throttle config field {f}")),
    })
}

pub fn run(s: &Map<String, Value>) -> Res {
    let mut cfg = rsl_adaptive_throttle_config::from(resilience::ThrottleConfig::default());
    let preset = match s.get("preset") {
        Some(p) => lookup(THROTTLE_PRESETS, p, "preset")?,
        None => RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK,
    };
    if s.contains_key("created_at_ns") {
        return Err("created_at_ns: the adaptive throttle has no creation time".into());
    }
    if unsafe { rsl_adaptive_throttle_config_preset(&mut cfg, preset, std::ptr::null_mut()) }
        != RSL_OK
    {
        return Err("config_preset failed".into());
    }
    if let Some(fields) = s.get("config").and_then(Value::as_object) {
        for (k, v) in fields {
            set_field(k, throttle_slot(&mut cfg, k)?, v, ENUMS)?;
        }
    }
    let mut h: *mut rsl_adaptive_throttle = std::ptr::null_mut();
    let st = unsafe { rsl_adaptive_throttle_new(&cfg, &mut h, std::ptr::null_mut()) };
    if !check_creation(s, st)? {
        return Ok(());
    }
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
