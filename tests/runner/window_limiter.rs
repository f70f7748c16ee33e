//! Conformance runner for `window_limiter` scenarios.

use super::criticality::level_arg;
use super::*;
use resilience::ffi::window_limiter::*;
use serde_json::{Map, Value};

const PRESETS: &[(&str, u32)] = &[
    ("default", RSL_WINDOW_LIMITER_PRESET_DEFAULT),
    ("sentinel", RSL_WINDOW_LIMITER_PRESET_SENTINEL),
    ("resilience4j", RSL_WINDOW_LIMITER_PRESET_RESILIENCE4J),
];

const ENUMS: &[(&str, &str, u32)] = &[
    ("mode", "fixed", RSL_WINDOW_LIMITER_FIXED),
    (
        "mode",
        "sliding_buckets",
        RSL_WINDOW_LIMITER_SLIDING_BUCKETS,
    ),
    (
        "mode",
        "sliding_weighted",
        RSL_WINDOW_LIMITER_SLIDING_WEIGHTED,
    ),
];

fn slot<'a>(c: &'a mut rsl_window_limiter_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "mode" => Slot::U32(&mut c.mode),
        "window_ns" => Slot::I64(&mut c.window_ns),
        "limit" => Slot::U32(&mut c.limit),
        "buckets" => Slot::U32(&mut c.buckets),
        "sheddable_share_permille" => Slot::U32(&mut c.sheddable_share_permille),
        "sheddable_plus_share_permille" => Slot::U32(&mut c.sheddable_plus_share_permille),
        "critical_share_permille" => Slot::U32(&mut c.critical_share_permille),
        "reserved0" => Slot::U32(&mut c.reserved0),
        _ => return Err(format!("unknown window_limiter config field {f}")),
    })
}

pub fn run(s: &Map<String, Value>) -> Res {
    let mut cfg = rsl_window_limiter_config::from(resilience::WindowLimiterConfig::default());
    let preset = match s.get("preset") {
        Some(p) => lookup(PRESETS, p, "preset")?,
        None => RSL_WINDOW_LIMITER_PRESET_DEFAULT,
    };
    if unsafe { rsl_window_limiter_config_preset(&mut cfg, preset, std::ptr::null_mut()) } != RSL_OK
    {
        return Err("config_preset failed".into());
    }
    if let Some(fields) = s.get("config").and_then(Value::as_object) {
        for (k, v) in fields {
            set_field(k, slot(&mut cfg, k)?, v, ENUMS)?;
        }
    }
    let mut h: *mut rsl_window_limiter = std::ptr::null_mut();
    let st = unsafe { rsl_window_limiter_new(&cfg, &mut h, std::ptr::null_mut()) };
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
