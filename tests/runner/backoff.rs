//! Conformance runner for `backoff` scenarios.

use super::*;
use resilience::ffi::backoff::*;
use serde_json::{Map, Value};

fn attempt_arg(step: &Map<String, Value>) -> Res<u32> {
    let a = int_arg(step, "attempt", -1)?;
    u32::try_from(a).map_err(|_| format!("attempt: bad value {a}"))
}

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], false)?;
    let (cfg, h) = match config::create(
        s,
        &doc,
        rsl_backoff_config_from_json,
        rsl_backoff_config_to_json,
        None,
        |cfg, out, err| unsafe { rsl_backoff_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_backoff_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_backoff_free,
    )? {
        config::Created::Made(cfg, h) => (cfg, h),
        config::Created::Failed(None) => return Ok(()),
        config::Created::Failed(Some(cfg)) => {
            // The JSON was read and the struct refused: the pure entry point
            // must refuse the same struct the same way.
            let mut d = 0i64;
            let mut state = rsl_backoff_state::default();
            let mut err = config::no_error();
            let st2 =
                unsafe { rsl_backoff_delay_with_u(&cfg, 1, 0.0, &mut state, &mut d, &mut err) };
            config::check_created(s, st2, &err).map_err(|e| format!("delay_with_u: {e}"))?;
            return Ok(());
        }
    };
    let mut state = rsl_backoff_state::default();
    let result = for_each_step(s, |_at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "delay" | "next" => {
                if op == "delay" {
                    check_step_keys(step, &["attempt", "u"])?;
                } else {
                    check_step_keys(step, &["attempt"])?;
                }
                ck.known(&[
                    "delay_ns",
                    "min_delay_ns",
                    "below_delay_ns",
                    "prev_delay_ns",
                    "prev",
                ]);
                let attempt = attempt_arg(step)?;
                let mut d = -1i64;
                let st = if op == "delay" {
                    let u = step
                        .get("u")
                        .and_then(Value::as_f64)
                        .ok_or("delay: missing u")?;
                    unsafe {
                        rsl_backoff_delay_with_u(
                            &cfg,
                            attempt,
                            u,
                            &mut state,
                            &mut d,
                            std::ptr::null_mut(),
                        )
                    }
                } else {
                    unsafe {
                        rsl_backoff_next(h, attempt, &mut state, &mut d, std::ptr::null_mut())
                    }
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("delay_ns", i128::from(d));
                if let Some(lo) = ck
                    .expect
                    .and_then(|e| e.get("min_delay_ns"))
                    .and_then(Value::as_i64)
                {
                    if d < lo {
                        ck.errors.push(format!("delay {d} < min {lo}"));
                    }
                }
                if let Some(hi) = ck
                    .expect
                    .and_then(|e| e.get("below_delay_ns"))
                    .and_then(Value::as_i64)
                {
                    if d >= hi {
                        ck.errors.push(format!("delay {d} >= bound {hi}"));
                    }
                }
                ck.int("prev_delay_ns", i128::from(state.prev_delay_ns));
                ck.float("prev", state.prev);
            }
            "draws" => {
                check_step_keys(step, &["attempt"])?;
                ck.known(&["draws"]);
                let attempt = attempt_arg(step)?;
                let mut n = 99u32;
                let st = unsafe { rsl_backoff_draws(&cfg, attempt, &mut n, std::ptr::null_mut()) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("draws", i128::from(n));
            }
            "reset_state" => {
                check_step_keys(step, &[])?;
                ck.known(&[]);
                if unsafe { rsl_backoff_state_init(&mut state, std::ptr::null_mut()) } != RSL_OK {
                    return Err("state_init failed".into());
                }
            }
            "next_null_state" => {
                // rsl_backoff_next without a state: fine for stateless kinds.
                check_step_keys(step, &["attempt"])?;
                ck.known(&["delay_ns"]);
                let attempt = attempt_arg(step)?;
                let mut d = -1i64;
                let st = unsafe {
                    rsl_backoff_next(
                        h,
                        attempt,
                        std::ptr::null_mut(),
                        &mut d,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("delay_ns", i128::from(d));
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe { rsl_backoff_free(h) };
    result
}
