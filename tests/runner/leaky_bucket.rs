//! Conformance runner for `leaky_bucket` scenarios (pacer and meter).

use super::token_bucket::{int64_arg, int64_expect};
use super::*;
use resilience::ffi::leaky_bucket::*;
use serde_json::{Map, Value};

const ENUMS: &[(&str, &str, u32)] = &[
    ("mode", "pacer", RSL_LEAKY_BUCKET_PACER),
    ("mode", "meter", RSL_LEAKY_BUCKET_METER),
];

fn slot<'a>(c: &'a mut rsl_leaky_bucket_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "mode" => Slot::U32(&mut c.mode),
        "rate" => Slot::U32(&mut c.rate),
        "slack" => Slot::U32(&mut c.slack),
        "per_ns" => Slot::I64(&mut c.per_ns),
        "burst" => Slot::U32(&mut c.burst),
        "reserved0" => Slot::U32(&mut c.reserved0),
        _ => return Err(format!("unknown leaky_bucket config field {f}")),
    })
}

pub fn run(s: &Map<String, Value>) -> Res {
    if s.contains_key("preset") {
        return Err("leaky_bucket has no presets".into());
    }
    let mut cfg = rsl_leaky_bucket_config {
        struct_size: 0,
        mode: 0,
        rate: 0,
        slack: 0,
        per_ns: 0,
        burst: 0,
        reserved0: 0,
    };
    if unsafe { rsl_leaky_bucket_config_init(&mut cfg, std::ptr::null_mut()) } != RSL_OK {
        return Err("config_init failed".into());
    }
    if let Some(fields) = s.get("config").and_then(Value::as_object) {
        for (k, v) in fields {
            set_field(k, slot(&mut cfg, k)?, v, ENUMS)?;
        }
    }
    let mut h: *mut rsl_leaky_bucket = std::ptr::null_mut();
    let st = unsafe { rsl_leaky_bucket_new(&cfg, &mut h, std::ptr::null_mut()) };
    if !check_creation(s, st)? {
        return Ok(());
    }
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "take" | "try_take" => {
                if op == "take" {
                    check_step_keys(step, &[])?;
                } else {
                    check_step_keys(step, &["max_wait_ns"])?;
                }
                ck.known(&["taken", "ready_at_ns", "wait_ns"]);
                let mut p = rsl_leaky_bucket_permit::default();
                let st = if op == "take" {
                    unsafe { rsl_leaky_bucket_take_at(h, at, &mut p, std::ptr::null_mut()) }
                } else {
                    let max = int64_arg(step, "max_wait_ns", i64::MAX)?;
                    unsafe {
                        rsl_leaky_bucket_try_take_at(h, at, max, &mut p, std::ptr::null_mut())
                    }
                };
                if check_status(step, st)? {
                    ck.boolean("taken", p.taken);
                    int64_expect(&mut ck, "ready_at_ns", p.ready_at_ns);
                    int64_expect(&mut ck, "wait_ns", p.wait_ns);
                }
            }
            "check" => {
                check_step_keys(step, &["n"])?;
                ck.known(&["allowed", "remaining", "retry_at_ns", "wait_ns"]);
                let n = u32::try_from(int_arg(step, "n", 1)?).map_err(|e| format!("n: {e}"))?;
                let mut v = rsl_leaky_bucket_verdict::default();
                if check_status(step, unsafe {
                    rsl_leaky_bucket_check_at(h, at, n, &mut v, std::ptr::null_mut())
                })? {
                    ck.boolean("allowed", v.allowed);
                    ck.int("remaining", i128::from(v.remaining));
                    int64_expect(&mut ck, "retry_at_ns", v.retry_at_ns);
                    int64_expect(&mut ck, "wait_ns", v.wait_ns);
                }
            }
            "interval" => {
                check_step_keys(step, &[])?;
                ck.known(&["interval_ns"]);
                let mut i = 0;
                if check_status(step, unsafe {
                    rsl_leaky_bucket_get_interval(h, &mut i, std::ptr::null_mut())
                })? {
                    ck.int("interval_ns", i128::from(i));
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
    unsafe { rsl_leaky_bucket_free(h) };
    result
}
