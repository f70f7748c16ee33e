//! Conformance runner for `criticality` scenarios: pure-function vectors for
//! `rsl_criticality_parse`, `rsl_criticality_name` and `rsl_criticality_header`.

use super::*;
use resilience::ffi::criticality::*;
use serde_json::{Map, Value};
use std::ffi::CStr;

/// Level names as the corpus spells them (lower case), and their values.
pub const LEVELS: &[(&str, u32)] = &[
    ("sheddable", RSL_CRITICALITY_SHEDDABLE),
    ("sheddable_plus", RSL_CRITICALITY_SHEDDABLE_PLUS),
    ("critical", RSL_CRITICALITY_CRITICAL),
    ("critical_plus", RSL_CRITICALITY_CRITICAL_PLUS),
];

/// The `criticality` argument of a limiter step (default `critical`).
pub fn level_arg(step: &Map<String, Value>) -> Res<u32> {
    match step.get("criticality") {
        None => Ok(RSL_CRITICALITY_DEFAULT),
        Some(v) => lookup(LEVELS, v, "criticality"),
    }
}

fn c_str(p: *const std::ffi::c_char) -> Option<String> {
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn run_step(step: &Map<String, Value>) -> Res {
    let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
    let mut ck = Checker {
        expect: step.get("expect").and_then(Value::as_object),
        errors: Vec::new(),
    };
    match op {
        "parse" => {
            check_step_keys(step, &["value", "len"])?;
            ck.known(&["level"]);
            let mut level: u32 = 0xdead;
            let st = match step.get("value") {
                Some(Value::String(s)) => unsafe {
                    rsl_criticality_parse(
                        s.as_ptr().cast(),
                        s.len(),
                        &mut level,
                        std::ptr::null_mut(),
                    )
                },
                Some(Value::Null) => {
                    let len =
                        usize::try_from(int_arg(step, "len", 0)?).map_err(|e| e.to_string())?;
                    unsafe {
                        rsl_criticality_parse(
                            std::ptr::null(),
                            len,
                            &mut level,
                            std::ptr::null_mut(),
                        )
                    }
                }
                _ => return Err("parse: value must be a string or null".into()),
            };
            if !check_status(step, st)? {
                if level != 0xdead {
                    return Err(format!("out_level written on error: {level}"));
                }
                return Ok(());
            }
            ck.named("level", LEVELS, level);
        }
        "name" => {
            check_step_keys(step, &["level"])?;
            ck.known(&["name"]);
            let level = lookup(LEVELS, step.get("level").ok_or("missing level")?, "level")?;
            let got = c_str(rsl_criticality_name(level));
            if let Some(want) = ck.expect.and_then(|e| e.get("name")) {
                if want.as_str().map(str::to_owned) != got {
                    ck.errors.push(format!("name: got {got:?}, want {want}"));
                }
            }
        }
        "header" => {
            check_step_keys(step, &[])?;
            ck.known(&["name"]);
            let got = c_str(rsl_criticality_header());
            if let Some(want) = ck.expect.and_then(|e| e.get("name")) {
                if want.as_str().map(str::to_owned) != got {
                    ck.errors.push(format!("name: got {got:?}, want {want}"));
                }
            }
        }
        other => return Err(format!("unknown op {other}")),
    }
    if ck.errors.is_empty() {
        Ok(())
    } else {
        Err(ck.errors.join("; "))
    }
}

pub fn run(s: &Map<String, Value>) -> Res {
    if s.contains_key("config") || s.contains_key("preset") || s.contains_key("expect_status") {
        return Err("criticality scenarios have no config".into());
    }
    let steps = s
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("missing steps")?;
    for (i, step) in steps.iter().enumerate() {
        let step = step
            .as_object()
            .ok_or_else(|| format!("step {i}: not an object"))?;
        run_step(step).map_err(|e| format!("step {i}: {e}"))?;
    }
    Ok(())
}
