//! Shared pieces of the conformance runners: name tables, config field
//! setting, expectation checking and step iteration.
#![allow(dead_code)]

use resilience::ffi::*;
use serde_json::{Map, Value};
use std::ffi::CStr;

pub type Res<T = ()> = Result<T, String>;

pub fn status_by_name(name: &str) -> Res<rsl_status> {
    Ok(match name {
        "RSL_OK" => RSL_OK,
        "RSL_ERR_NULL_ARGUMENT" => RSL_ERR_NULL_ARGUMENT,
        "RSL_ERR_INVALID_ARGUMENT" => RSL_ERR_INVALID_ARGUMENT,
        "RSL_ERR_INVALID_CONFIG" => RSL_ERR_INVALID_CONFIG,
        "RSL_ERR_CONFIG_SIZE" => RSL_ERR_CONFIG_SIZE,
        "RSL_ERR_CONFIG_UNSUPPORTED" => RSL_ERR_CONFIG_UNSUPPORTED,
        "RSL_ERR_EXCEEDS_CAPACITY" => RSL_ERR_EXCEEDS_CAPACITY,
        "RSL_ERR_PANIC" => RSL_ERR_PANIC,
        "RSL_ERR_POISONED" => RSL_ERR_POISONED,
        _ => return Err(format!("unknown status name {name}")),
    })
}

pub const OUTCOMES: &[(&str, u32)] = &[
    ("success", RSL_OUTCOME_SUCCESS),
    ("failure", RSL_OUTCOME_FAILURE),
    ("ignored", RSL_OUTCOME_IGNORED),
    ("overloaded", RSL_OUTCOME_OVERLOADED),
];

pub fn lookup(table: &[(&str, u32)], v: &Value, what: &str) -> Res<u32> {
    match v {
        Value::String(s) => table
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, x)| *x)
            .ok_or_else(|| format!("unknown {what} {s}")),
        Value::Number(n) => n
            .as_u64()
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| format!("bad {what} {n}")),
        _ => Err(format!("bad {what} {v}")),
    }
}

pub fn name_of(table: &[(&str, u32)], v: u32) -> String {
    table
        .iter()
        .find(|(_, x)| *x == v)
        .map_or_else(|| v.to_string(), |(n, _)| (*n).to_string())
}

pub fn last_error() -> String {
    unsafe { CStr::from_ptr(rsl_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Checks `status` against the object's `expect_status` / `expect_error_field`
/// (a step, or the scenario for creation). `Ok(true)` = go on (status OK and
/// none expected), `Ok(false)` = the expected error happened.
pub fn check_status(obj: &Map<String, Value>, status: rsl_status) -> Res<bool> {
    let field = obj.get("expect_error_field");
    match obj.get("expect_status") {
        Some(name) => {
            let name = name.as_str().ok_or("expect_status: not a string")?;
            let want = status_by_name(name)?;
            if status != want {
                return Err(format!(
                    "status {status}, want {name} ({want}): {}",
                    last_error()
                ));
            }
            if want == RSL_OK {
                if field.is_some() {
                    return Err("expect_error_field needs a failing expect_status".into());
                }
                return Ok(true);
            }
            if obj.contains_key("expect") {
                return Err("expect is not allowed with a failing expect_status".into());
            }
            if let Some(field) = field {
                let field = field.as_str().ok_or("expect_error_field: not a string")?;
                let msg = last_error();
                if !msg.starts_with(&format!("{field}:")) {
                    return Err(format!("message {msg:?} does not name {field}"));
                }
            }
            Ok(false)
        }
        None if field.is_some() => Err("expect_error_field needs a failing expect_status".into()),
        None if status == RSL_OK => Ok(true),
        None => Err(format!("status {status}: {}", last_error())),
    }
}

/// Fails on a step key that is neither common to every step nor one of the
/// op's own arguments (a typo must not silently become a default).
pub fn check_step_keys(step: &Map<String, Value>, op_args: &[&str]) -> Res {
    const COMMON: &[&str] = &[
        "at",
        "op",
        "expect",
        "expect_status",
        "expect_error_field",
        "repeat",
        "step_ns",
    ];
    match step
        .keys()
        .find(|k| !COMMON.contains(&k.as_str()) && !op_args.contains(&k.as_str()))
    {
        Some(k) => Err(format!("unknown step key {k}")),
        None => Ok(()),
    }
}

pub fn int_arg(step: &Map<String, Value>, key: &str, default: i64) -> Res<i64> {
    match step.get(key) {
        None => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| format!("{key}: not an integer")),
    }
}

pub fn outcome_arg(step: &Map<String, Value>) -> Res<u32> {
    lookup(
        OUTCOMES,
        step.get("outcome").ok_or("missing outcome")?,
        "outcome",
    )
}

pub fn for_each_step(
    s: &Map<String, Value>,
    mut run: impl FnMut(i64, &Map<String, Value>) -> Res,
) -> Res {
    let steps = s
        .get("steps")
        .and_then(Value::as_array)
        .ok_or("missing steps")?;
    for (i, step) in steps.iter().enumerate() {
        let step = step
            .as_object()
            .ok_or_else(|| format!("step {i}: not an object"))?;
        let mut at = step
            .get("at")
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("step {i}: missing at"))?;
        let repeat = int_arg(step, "repeat", 1).map_err(|e| format!("step {i}: {e}"))?;
        let step_ns = int_arg(step, "step_ns", 0).map_err(|e| format!("step {i}: {e}"))?;
        for r in 0..repeat {
            run(at, step).map_err(|e| format!("step {i} (repetition {r}, at {at}): {e}"))?;
            at += step_ns;
        }
    }
    Ok(())
}

/// Checks a created-or-failed handle against the scenario's
/// `expect_status` / `expect_error_field`; a scenario whose creation must
/// fail has no steps.
pub fn check_creation(s: &Map<String, Value>, status: rsl_status) -> Res<bool> {
    let go_on = check_status(s, status).map_err(|e| format!("creation: {e}"))?;
    if !go_on
        && s.get("steps")
            .and_then(Value::as_array)
            .is_some_and(|v| !v.is_empty())
    {
        return Err("a scenario whose creation fails must have no steps".into());
    }
    Ok(go_on)
}

pub struct Checker<'a> {
    pub expect: Option<&'a Map<String, Value>>,
    pub errors: Vec<String>,
}

impl Checker<'_> {
    pub fn int(&mut self, key: &str, got: i128) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            let want = v
                .as_i64()
                .map(i128::from)
                .or_else(|| v.as_u64().map(i128::from))
                .or_else(|| v.as_bool().map(i128::from));
            if want != Some(got) {
                self.errors.push(format!("{key}: got {got}, want {v}"));
            }
        }
    }
    pub fn boolean(&mut self, key: &str, got: u32) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            if v.as_bool() != Some(got != 0) {
                self.errors.push(format!("{key}: got {got}, want {v}"));
            }
        }
    }
    pub fn float(&mut self, key: &str, got: f64) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            match v.as_f64() {
                Some(w) if (w - got).abs() <= 1e-9 => {}
                _ => self.errors.push(format!("{key}: got {got}, want {v}")),
            }
        }
    }
    pub fn named(&mut self, key: &str, table: &[(&str, u32)], got: u32) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            if lookup(table, v, key).ok() != Some(got) {
                self.errors
                    .push(format!("{key}: got {}, want {v}", name_of(table, got)));
            }
        }
    }
    pub fn known(&mut self, allowed: &[&str]) {
        if let Some(e) = self.expect {
            for k in e.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.errors.push(format!("unknown expect key {k}"));
                }
            }
        }
    }
}

pub mod adaptive_limiter;
pub mod adaptive_throttle;
pub mod backoff;
pub mod breaker;
pub mod bulkhead;
pub mod config;
pub mod criticality;
pub mod deadline;
pub mod leaky_bucket;
pub mod retry;
pub mod retry_budget;
pub mod token_bucket;
pub mod window_limiter;
