//! Conformance runner for `retry` scenarios (the policy, optionally with a
//! shared budget, and the wire-value parsers).

use super::backoff::backoff_config;
use super::retry_budget::{budget_config, check_metrics, flags_arg, METRIC_KEYS, RETRY_OUTCOMES};
use super::*;
use resilience::ffi::backoff::rsl_backoff_config;
use resilience::ffi::retry::*;
use resilience::ffi::retry_budget::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ffi::CStr;

const RETRY_PRESETS: &[(&str, u32)] = &[
    ("default", RSL_RETRY_PRESET_DEFAULT),
    ("resilience4j", RSL_RETRY_PRESET_RESILIENCE4J),
    ("polly_v8", RSL_RETRY_PRESET_POLLY_V8),
    ("grpc", RSL_RETRY_PRESET_GRPC),
    ("aws_standard", RSL_RETRY_PRESET_AWS_STANDARD),
    ("failsafe_go", RSL_RETRY_PRESET_FAILSAFE_GO),
];

const REASONS: &[(&str, u32)] = &[
    ("retry", RSL_RETRY_REASON_RETRY),
    ("success", RSL_RETRY_REASON_SUCCESS),
    ("not_retryable", RSL_RETRY_REASON_NOT_RETRYABLE),
    ("overloaded", RSL_RETRY_REASON_OVERLOADED),
    ("max_attempts", RSL_RETRY_REASON_MAX_ATTEMPTS),
    ("max_elapsed", RSL_RETRY_REASON_MAX_ELAPSED),
    ("deadline", RSL_RETRY_REASON_DEADLINE),
    ("server_refused", RSL_RETRY_REASON_SERVER_REFUSED),
    ("budget", RSL_RETRY_REASON_BUDGET),
];

fn retry_slot<'a>(c: &'a mut rsl_retry_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "max_attempts" => Slot::U32(&mut c.max_attempts),
        "max_elapsed_ns" => Slot::I64(&mut c.max_elapsed_ns),
        "expected_attempt_ns" => Slot::I64(&mut c.expected_attempt_ns),
        "retry_after_resets" => Slot::U32(&mut c.retry_after_resets),
        "overloaded_on_give_up" => Slot::U32(&mut c.overloaded_on_give_up),
        _ => return Err(format!("unknown retry config field {f}")),
    })
}

/// A JSON time value: an integer, or the names `none` (no deadline /
/// no retry-after) and `refuse`.
fn time_arg(step: &Map<String, Value>, key: &str, none: i64) -> Res<i64> {
    match step.get(key) {
        None => Ok(none),
        Some(Value::String(s)) if s == "none" => Ok(none),
        Some(Value::String(s)) if s == "refuse" => Ok(RSL_RETRY_AFTER_REFUSE),
        Some(v) => v.as_i64().ok_or_else(|| format!("{key}: bad value {v}")),
    }
}

/// A header value argument: a string, or null / absent = header absent.
fn header_arg(step: &Map<String, Value>) -> Res<Option<Vec<u8>>> {
    match step.get("value") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
        Some(v) => Err(format!("value: bad {v}")),
    }
}

fn fresh_state() -> rsl_retry_state {
    rsl_retry_state {
        struct_size: u32::try_from(std::mem::size_of::<rsl_retry_state>()).unwrap(),
        ..Default::default()
    }
}

pub fn run(s: &Map<String, Value>) -> Res {
    let fields = s.get("config").and_then(Value::as_object);
    let mut cfg = rsl_retry_config {
        struct_size: 0,
        max_attempts: 0,
        max_elapsed_ns: 0,
        expected_attempt_ns: 0,
        retry_after_resets: 0,
        overloaded_on_give_up: 0,
    };
    let mut bcfg = backoff_config(None, None, None)?;
    let preset = match s.get("preset") {
        Some(p) => lookup(RETRY_PRESETS, p, "preset")?,
        None => RSL_RETRY_PRESET_DEFAULT,
    };
    if unsafe { rsl_retry_config_preset(&mut cfg, &mut bcfg, preset, std::ptr::null_mut()) }
        != RSL_OK
    {
        return Err("retry config_preset failed".into());
    }
    let mut budget_fields: Option<&Map<String, Value>> = None;
    if let Some(fields) = fields {
        for (k, v) in fields {
            match k.as_str() {
                "backoff" => {
                    bcfg = backoff_config(None, v.as_object(), Some(bcfg))?;
                }
                "budget" => budget_fields = v.as_object(),
                _ => set_field(k, retry_slot(&mut cfg, k)?, v, &[])?,
            }
        }
    }
    let mut budget: *mut rsl_retry_budget = std::ptr::null_mut();
    if let Some(bf) = budget_fields {
        let c = budget_config(None, Some(bf))?;
        let st = unsafe { rsl_retry_budget_new(&c, &mut budget, std::ptr::null_mut()) };
        if st != RSL_OK {
            return Err(format!("budget creation: status {st}: {}", last_error()));
        }
    }
    let mut h: *mut rsl_retry = std::ptr::null_mut();
    let st = unsafe {
        rsl_retry_new(
            &cfg,
            &bcfg as *const rsl_backoff_config,
            &mut h,
            std::ptr::null_mut(),
        )
    };
    if !check_creation(s, st)? {
        unsafe { rsl_retry_budget_free(budget) };
        return Ok(());
    }
    let mut states: HashMap<String, rsl_retry_state> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let id = step
            .get("operation")
            .and_then(Value::as_str)
            .unwrap_or("op")
            .to_owned();
        let b: *const rsl_retry_budget = budget;
        match op {
            "begin" => {
                check_step_keys(step, &["operation", "deadline_ns", "state_size"])?;
                ck.known(&["attempts"]);
                let mut state = fresh_state();
                if let Some(sz) = step.get("state_size").and_then(Value::as_u64) {
                    state.struct_size = u32::try_from(sz).unwrap();
                }
                let deadline = time_arg(step, "deadline_ns", RSL_NO_DEADLINE)?;
                let st = unsafe {
                    rsl_retry_begin_at(h, b, at, deadline, &mut state, std::ptr::null_mut())
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("attempts", i128::from(state.attempts));
                states.insert(id, state);
            }
            "next" => {
                check_step_keys(
                    step,
                    &["operation", "outcome", "retry_after_ns", "timeout", "flags"],
                )?;
                ck.known(&[
                    "retry",
                    "reason",
                    "delay_ns",
                    "retry_at_ns",
                    "attempt",
                    "report_outcome",
                    "min_delay_ns",
                    "below_delay_ns",
                ]);
                let mut fresh = fresh_state();
                let state = match states.get_mut(&id) {
                    Some(st) => st,
                    None => &mut fresh,
                };
                let outcome = lookup(
                    RETRY_OUTCOMES,
                    step.get("outcome").ok_or("missing outcome")?,
                    "outcome",
                )?;
                let retry_after = time_arg(step, "retry_after_ns", RSL_RETRY_AFTER_NONE)?;
                let mut d = rsl_retry_decision::default();
                let st = unsafe {
                    rsl_retry_next_at(
                        h,
                        b,
                        state,
                        at,
                        outcome,
                        flags_arg(step)?,
                        retry_after,
                        &mut d,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("retry", d.retry);
                ck.named("reason", REASONS, d.reason);
                ck.int("delay_ns", i128::from(d.delay_ns));
                ck.int("retry_at_ns", i128::from(d.retry_at_ns));
                ck.int("attempt", i128::from(d.attempt));
                ck.named("report_outcome", RETRY_OUTCOMES, d.report_outcome);
                if let Some(lo) = ck
                    .expect
                    .and_then(|e| e.get("min_delay_ns"))
                    .and_then(Value::as_i64)
                {
                    if d.delay_ns < lo {
                        ck.errors.push(format!("delay {} < min {lo}", d.delay_ns));
                    }
                }
                if let Some(hi) = ck
                    .expect
                    .and_then(|e| e.get("below_delay_ns"))
                    .and_then(Value::as_i64)
                {
                    if d.delay_ns >= hi {
                        ck.errors
                            .push(format!("delay {} >= bound {hi}", d.delay_ns));
                    }
                }
            }
            "budget_metrics" => {
                check_step_keys(step, &[])?;
                ck.known(METRIC_KEYS);
                if budget.is_null() {
                    return Err("budget_metrics without a budget".into());
                }
                check_metrics(&mut ck, budget, at)?;
            }
            "parse_header" => {
                check_step_keys(step, &["value"])?;
                ck.known(&["outcome"]);
                let v = header_arg(step)?;
                let mut o = 0u32;
                let st = unsafe {
                    rsl_retry_header_parse(
                        v.as_ref().map_or(std::ptr::null(), |b| b.as_ptr().cast()),
                        v.as_ref().map_or(0, Vec::len),
                        &mut o,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.named("outcome", RETRY_OUTCOMES, o);
            }
            "format_header" => {
                check_step_keys(step, &["outcome"])?;
                ck.known(&["value"]);
                let o = lookup(
                    RETRY_OUTCOMES,
                    step.get("outcome").ok_or("missing outcome")?,
                    "outcome",
                )?;
                let mut p: *const std::ffi::c_char = c"unset".as_ptr();
                let st = unsafe { rsl_retry_header_format(o, &mut p, std::ptr::null_mut()) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                let got = if p.is_null() {
                    Value::Null
                } else {
                    Value::String(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
                };
                if let Some(want) = ck.expect.and_then(|e| e.get("value")) {
                    if *want != got {
                        ck.errors.push(format!("value: got {got}, want {want}"));
                    }
                }
            }
            "header_name" => {
                check_step_keys(step, &[])?;
                ck.known(&["value"]);
                let got = unsafe { CStr::from_ptr(rsl_retry_header_name()) }
                    .to_string_lossy()
                    .into_owned();
                if let Some(want) = ck.expect.and_then(|e| e.get("value")) {
                    if want.as_str() != Some(got.as_str()) {
                        ck.errors.push(format!("value: got {got}, want {want}"));
                    }
                }
            }
            "parse_pushback" | "parse_http_retry_after" => {
                check_step_keys(step, &["value"])?;
                ck.known(&["retry_after_ns"]);
                let v = header_arg(step)?;
                let mut out = 12345i64;
                let (ptr, len) = (
                    v.as_ref().map_or(std::ptr::null(), |b| b.as_ptr().cast()),
                    v.as_ref().map_or(0, Vec::len),
                );
                let st = unsafe {
                    if op == "parse_pushback" {
                        rsl_retry_pushback_parse(ptr, len, &mut out, std::ptr::null_mut())
                    } else {
                        rsl_retry_after_parse_http(ptr, len, &mut out, std::ptr::null_mut())
                    }
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                if let Some(want) = ck.expect.and_then(|e| e.get("retry_after_ns")) {
                    let w = match want.as_str() {
                        Some("none") => Some(RSL_RETRY_AFTER_NONE),
                        Some("refuse") => Some(RSL_RETRY_AFTER_REFUSE),
                        _ => want.as_i64(),
                    };
                    if w != Some(out) {
                        ck.errors
                            .push(format!("retry_after_ns: got {out}, want {want}"));
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
    });
    unsafe {
        rsl_retry_free(h);
        rsl_retry_budget_free(budget);
    }
    result
}
