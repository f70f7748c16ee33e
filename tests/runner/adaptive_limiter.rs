//! Conformance runner for `adaptive_limiter` scenarios (manual CPU only: a
//! scenario must set `"cpu_source": "manual"` to be deterministic).

use super::criticality::level_arg;
use super::*;
use resilience::ffi::adaptive_limiter::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

const ACQUIRE_KEYS: &[&str] = &[
    "allowed",
    "cpu_permille",
    "overloaded",
    "cooling_down",
    "inflight",
    "limit",
    "max_pass",
    "min_rt_ms",
];

fn check_decision(ck: &mut Checker<'_>, d: &rsl_adaptive_limiter_decision) {
    ck.boolean("allowed", d.allowed);
    ck.int("cpu_permille", i128::from(d.cpu_permille));
    ck.boolean("overloaded", d.overloaded);
    ck.boolean("cooling_down", d.cooling_down);
    ck.int("inflight", i128::from(d.inflight));
    ck.int("limit", i128::from(d.limit));
    ck.int("max_pass", i128::from(d.max_pass));
    ck.int("min_rt_ms", i128::from(d.min_rt_ms));
}

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_adaptive_limiter_config_from_json,
        rsl_adaptive_limiter_config_to_json,
        Some(|c: &mut rsl_adaptive_limiter_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_adaptive_limiter_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_adaptive_limiter_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_adaptive_limiter_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let mut tokens: HashMap<String, rsl_adaptive_limiter_token> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "set_cpu" => {
                check_step_keys(step, &["cpu_permille"])?;
                ck.known(&[]);
                let cpu = u32::try_from(int_arg(step, "cpu_permille", -1)?)
                    .map_err(|_| "set_cpu: missing or bad cpu_permille")?;
                check_status(step, unsafe {
                    rsl_adaptive_limiter_set_cpu(h, cpu, std::ptr::null_mut())
                })?;
            }
            "acquire" => {
                check_step_keys(step, &["criticality", "token"])?;
                ck.known(ACQUIRE_KEYS);
                let level = level_arg(step)?;
                let mut d = rsl_adaptive_limiter_decision::default();
                let st = unsafe {
                    rsl_adaptive_limiter_acquire_at(h, at, level, &mut d, std::ptr::null_mut())
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                check_decision(&mut ck, &d);
                if let Some(label) = step.get("token").and_then(Value::as_str) {
                    if d.allowed == 0 {
                        return Err(format!("token {label}: the acquire was dropped"));
                    }
                    tokens.insert(label.to_owned(), d.token);
                }
            }
            "release" => {
                check_step_keys(step, &["token", "outcome"])?;
                ck.known(&["counted", "rt_ms"]);
                let label = step
                    .get("token")
                    .and_then(Value::as_str)
                    .ok_or("missing token")?;
                let t = *tokens
                    .get(label)
                    .ok_or_else(|| format!("unknown token {label}"))?;
                let mut r = rsl_adaptive_limiter_record_result::default();
                let st = unsafe {
                    rsl_adaptive_limiter_record_at(
                        h,
                        at,
                        &t,
                        outcome_arg(step)?,
                        &mut r,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                tokens.remove(label);
                ck.boolean("counted", r.counted);
                ck.int("rt_ms", i128::from(r.rt_ms));
            }
            "call" => {
                check_step_keys(step, &["criticality", "outcome", "duration_ns"])?;
                let mut keys = ACQUIRE_KEYS.to_vec();
                keys.extend(["counted", "rt_ms"]);
                ck.known(&keys);
                let level = level_arg(step)?;
                let mut d = rsl_adaptive_limiter_decision::default();
                let st = unsafe {
                    rsl_adaptive_limiter_acquire_at(h, at, level, &mut d, std::ptr::null_mut())
                };
                if st != RSL_OK {
                    return Err(format!("acquire status {st}: {}", last_error()));
                }
                check_decision(&mut ck, &d);
                // Dropped: no release; counted is false and rt_ms 0.
                let mut r = rsl_adaptive_limiter_record_result::default();
                if d.allowed != 0 {
                    let done = at + int_arg(step, "duration_ns", 0)?;
                    let st = unsafe {
                        rsl_adaptive_limiter_record_at(
                            h,
                            done,
                            &d.token,
                            outcome_arg(step)?,
                            &mut r,
                            std::ptr::null_mut(),
                        )
                    };
                    // In a call, expect_status applies to the release.
                    if !check_status(step, st)? {
                        return Ok(());
                    }
                } else if step.contains_key("expect_status") {
                    return Err("the call was dropped, so its release never ran".into());
                }
                ck.boolean("counted", r.counted);
                ck.int("rt_ms", i128::from(r.rt_ms));
            }
            "metrics" => {
                check_step_keys(step, &[])?;
                ck.known(&[
                    "cpu_permille",
                    "inflight",
                    "max_pass",
                    "min_rt_ms",
                    "limit_sheddable",
                    "limit_sheddable_plus",
                    "limit_critical",
                    "limit_critical_plus",
                    "in_drop_episode",
                    "drop_started_ns",
                    "allowed_total",
                    "dropped_sheddable",
                    "dropped_sheddable_plus",
                    "dropped_critical",
                    "dropped_critical_plus",
                ]);
                let mut m = rsl_adaptive_limiter_metrics {
                    struct_size: u32::try_from(std::mem::size_of::<rsl_adaptive_limiter_metrics>())
                        .unwrap(),
                    ..Default::default()
                };
                let st = unsafe {
                    rsl_adaptive_limiter_get_metrics_at(h, at, &mut m, std::ptr::null_mut())
                };
                if st != RSL_OK {
                    return Err(format!("metrics status {st}"));
                }
                ck.int("cpu_permille", i128::from(m.cpu_permille));
                ck.int("inflight", i128::from(m.inflight));
                ck.int("max_pass", i128::from(m.max_pass));
                ck.int("min_rt_ms", i128::from(m.min_rt_ms));
                ck.int("limit_sheddable", i128::from(m.limit_sheddable));
                ck.int("limit_sheddable_plus", i128::from(m.limit_sheddable_plus));
                ck.int("limit_critical", i128::from(m.limit_critical));
                ck.int("limit_critical_plus", i128::from(m.limit_critical_plus));
                ck.boolean("in_drop_episode", m.in_drop_episode);
                ck.int("drop_started_ns", i128::from(m.drop_started_ns));
                ck.int("allowed_total", i128::from(m.allowed_total));
                ck.int("dropped_sheddable", i128::from(m.dropped_sheddable));
                ck.int(
                    "dropped_sheddable_plus",
                    i128::from(m.dropped_sheddable_plus),
                );
                ck.int("dropped_critical", i128::from(m.dropped_critical));
                ck.int("dropped_critical_plus", i128::from(m.dropped_critical_plus));
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe { rsl_adaptive_limiter_free(h) };
    result
}
