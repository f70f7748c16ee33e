//! Conformance runner for `leaky_bucket` scenarios (pacer and meter).

use super::token_bucket::{int64_arg, int64_expect};
use super::*;
use resilience::ffi::leaky_bucket::*;
use serde_json::{Map, Value};

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_leaky_bucket_config_from_json,
        rsl_leaky_bucket_config_to_json,
        Some(|c: &mut rsl_leaky_bucket_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_leaky_bucket_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_leaky_bucket_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_leaky_bucket_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
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
