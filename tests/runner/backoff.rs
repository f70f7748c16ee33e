//! Conformance runner for `backoff` scenarios.

use super::*;
use resilience::ffi::backoff::*;
use serde_json::{Map, Value};

pub const BACKOFF_PRESETS: &[(&str, u32)] = &[
    ("default", RSL_BACKOFF_PRESET_DEFAULT),
    ("seeds_jitter", RSL_BACKOFF_PRESET_SEEDS_JITTER),
    ("seeds_fixed", RSL_BACKOFF_PRESET_SEEDS_FIXED),
    ("grpc_connection", RSL_BACKOFF_PRESET_GRPC_CONNECTION),
    ("grpc_retry", RSL_BACKOFF_PRESET_GRPC_RETRY),
    (
        "grpc_retry_full_jitter",
        RSL_BACKOFF_PRESET_GRPC_RETRY_FULL_JITTER,
    ),
    ("aws_standard", RSL_BACKOFF_PRESET_AWS_STANDARD),
    ("aws_full_jitter", RSL_BACKOFF_PRESET_AWS_FULL_JITTER),
    ("aws_equal_jitter", RSL_BACKOFF_PRESET_AWS_EQUAL_JITTER),
    ("aws_decorrelated", RSL_BACKOFF_PRESET_AWS_DECORRELATED),
    ("polly_v8", RSL_BACKOFF_PRESET_POLLY_V8),
    (
        "polly_v8_decorrelated_jitter",
        RSL_BACKOFF_PRESET_POLLY_V8_DECORRELATED_JITTER,
    ),
    ("resilience4j", RSL_BACKOFF_PRESET_RESILIENCE4J),
    (
        "resilience4j_exponential_random",
        RSL_BACKOFF_PRESET_RESILIENCE4J_EXPONENTIAL_RANDOM,
    ),
];

pub const BACKOFF_ENUMS: &[(&str, &str, u32)] = &[
    ("kind", "fixed", RSL_BACKOFF_FIXED),
    ("kind", "linear", RSL_BACKOFF_LINEAR),
    ("kind", "exponential", RSL_BACKOFF_EXPONENTIAL),
    ("kind", "grpc_connection", RSL_BACKOFF_GRPC_CONNECTION),
    ("kind", "aws_full_jitter", RSL_BACKOFF_AWS_FULL_JITTER),
    ("kind", "aws_equal_jitter", RSL_BACKOFF_AWS_EQUAL_JITTER),
    ("kind", "aws_decorrelated", RSL_BACKOFF_AWS_DECORRELATED),
    ("kind", "aws_standard", RSL_BACKOFF_AWS_STANDARD),
    (
        "kind",
        "polly_decorrelated_v2",
        RSL_BACKOFF_POLLY_DECORRELATED_V2,
    ),
    (
        "kind",
        "r4j_exponential_random",
        RSL_BACKOFF_R4J_EXPONENTIAL_RANDOM,
    ),
    ("jitter", "none", RSL_JITTER_NONE),
    ("jitter", "proportional", RSL_JITTER_PROPORTIONAL),
    ("jitter", "symmetric", RSL_JITTER_SYMMETRIC),
    ("jitter", "full", RSL_JITTER_FULL),
    ("jitter", "equal", RSL_JITTER_EQUAL),
];

fn backoff_slot<'a>(c: &'a mut rsl_backoff_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "kind" => Slot::U32(&mut c.kind),
        "jitter" => Slot::U32(&mut c.jitter),
        "clamp_jittered" => Slot::U32(&mut c.clamp_jittered),
        "base_ns" => Slot::I64(&mut c.base_ns),
        "max_ns" => Slot::I64(&mut c.max_ns),
        "increment_ns" => Slot::I64(&mut c.increment_ns),
        "factor" => Slot::F64(&mut c.factor),
        "jitter_factor" => Slot::F64(&mut c.jitter_factor),
        "seed" => Slot::U64(&mut c.seed),
        _ => return Err(format!("unknown backoff config field {f}")),
    })
}

/// Builds a backoff config from an optional preset name and field overrides
/// (a `preset` key inside `fields` is also accepted).
pub fn backoff_config(
    preset: Option<&Value>,
    fields: Option<&Map<String, Value>>,
    start: Option<rsl_backoff_config>,
) -> Res<rsl_backoff_config> {
    let mut cfg = match start {
        Some(c) => c,
        None => {
            let mut c = rsl_backoff_config {
                struct_size: 0,
                kind: 0,
                jitter: 0,
                clamp_jittered: 0,
                base_ns: 0,
                max_ns: 0,
                increment_ns: 0,
                factor: 0.0,
                jitter_factor: 0.0,
                seed: 0,
            };
            if unsafe { rsl_backoff_config_init(&mut c, std::ptr::null_mut()) } != RSL_OK {
                return Err("backoff config_init failed".into());
            }
            c
        }
    };
    let inner_preset = fields.and_then(|f| f.get("preset"));
    if let Some(p) = preset.or(inner_preset) {
        let p = lookup(BACKOFF_PRESETS, p, "backoff preset")?;
        if unsafe { rsl_backoff_config_preset(&mut cfg, p, std::ptr::null_mut()) } != RSL_OK {
            return Err("backoff config_preset failed".into());
        }
    }
    if let Some(fields) = fields {
        for (k, v) in fields {
            if k == "preset" {
                continue;
            }
            if k == "max_ns" && v.as_str() == Some("no_max") {
                cfg.max_ns = RSL_BACKOFF_NO_MAX;
                continue;
            }
            set_field(k, backoff_slot(&mut cfg, k)?, v, BACKOFF_ENUMS)?;
        }
    }
    Ok(cfg)
}

fn attempt_arg(step: &Map<String, Value>) -> Res<u32> {
    let a = int_arg(step, "attempt", -1)?;
    u32::try_from(a).map_err(|_| format!("attempt: bad value {a}"))
}

pub fn run(s: &Map<String, Value>) -> Res {
    let cfg = backoff_config(
        s.get("preset"),
        s.get("config").and_then(Value::as_object),
        None,
    )?;
    let mut h: *mut rsl_backoff = std::ptr::null_mut();
    let st = unsafe { rsl_backoff_new(&cfg, &mut h, std::ptr::null_mut()) };
    if !check_creation(s, st)? {
        // The pure entry point must refuse the same config the same way.
        let mut d = 0i64;
        let mut state = rsl_backoff_state::default();
        let st2 = unsafe {
            rsl_backoff_delay_with_u(&cfg, 1, 0.0, &mut state, &mut d, std::ptr::null_mut())
        };
        check_creation(s, st2).map_err(|e| format!("delay_with_u: {e}"))?;
        return Ok(());
    }
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
