//! Conformance runner for `window_limiter` scenarios.

use super::criticality::level_arg;
use super::*;
use resilience::ffi::window_limiter::*;
use serde_json::{Map, Value};

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_window_limiter_config_from_json,
        rsl_window_limiter_config_to_json,
        Some(|c: &mut rsl_window_limiter_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_window_limiter_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_window_limiter_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_window_limiter_free,
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
            "acquire" => {
                check_step_keys(step, &["n", "criticality"])?;
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
                let st = unsafe {
                    rsl_window_limiter_try_acquire_at(h, at, n, level, &mut d, std::ptr::null_mut())
                };
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
            "metrics" => {
                check_step_keys(step, &[])?;
                ck.known(&[
                    "window_count",
                    "previous_count",
                    "remaining",
                    "admitted_total",
                    "rejected_total",
                ]);
                let mut m = rsl_window_limiter_metrics {
                    struct_size: u32::try_from(std::mem::size_of::<rsl_window_limiter_metrics>())
                        .unwrap(),
                    ..Default::default()
                };
                let st = unsafe {
                    rsl_window_limiter_get_metrics_at(h, at, &mut m, std::ptr::null_mut())
                };
                if st != RSL_OK {
                    return Err(format!("metrics status {st}"));
                }
                ck.int("window_count", i128::from(m.window_count));
                ck.int("previous_count", i128::from(m.previous_count));
                ck.int("remaining", i128::from(m.remaining));
                ck.int("admitted_total", i128::from(m.admitted_total));
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
    unsafe { rsl_window_limiter_free(h) };
    result
}
