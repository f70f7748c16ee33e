//! Conformance runner for `retry` scenarios (the policy, optionally with a
//! shared budget, and the wire-value parsers).

use super::retry_budget::{check_metrics, flags_arg, METRIC_KEYS, RETRY_OUTCOMES};
use super::*;
use resilience::ffi::backoff::rsl_backoff_config;
use resilience::ffi::json::RSL_CONFIG_JSON_BUF_LEN;
use resilience::ffi::retry::*;
use resilience::ffi::retry_budget::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ffi::CStr;

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

/// The retry policy of a scenario: its config document (backoff nested)
/// through `rsl_retry_config_from_json`, round trip and `struct_size`
/// override, then `rsl_retry_new`; `rsl_retry_new_from_json` must agree.
/// `None` when creation failed as the scenario expects.
fn create(s: &Map<String, Value>, doc: &config::ConfigDoc) -> Res<Option<*mut rsl_retry>> {
    let mut cfg: rsl_retry_config = config::sized();
    let mut bcfg: rsl_backoff_config = config::sized();
    let mut err = config::no_error();
    let mut h: *mut rsl_retry = std::ptr::null_mut();
    let json = &doc.json;
    let mut st = unsafe {
        rsl_retry_config_from_json(
            json.as_ptr().cast(),
            json.len(),
            &mut cfg,
            &mut bcfg,
            &mut err,
        )
    };
    if st == RSL_OK {
        let mut buf = vec![0 as std::ffi::c_char; RSL_CONFIG_JSON_BUF_LEN];
        let mut len = 0usize;
        if unsafe {
            rsl_retry_config_to_json(&cfg, &bcfg, buf.as_mut_ptr(), buf.len(), &mut len, &mut err)
        } != RSL_OK
        {
            return Err(format!("to_json failed: {}", config::error_message(&err)));
        }
        let (mut c2, mut b2): (rsl_retry_config, rsl_backoff_config) =
            (config::sized(), config::sized());
        let again =
            unsafe { rsl_retry_config_from_json(buf.as_ptr(), len, &mut c2, &mut b2, &mut err) };
        if again != RSL_OK || format!("{c2:?}{b2:?}") != format!("{cfg:?}{bcfg:?}") {
            return Err("the config does not round-trip through its JSON".into());
        }
        if let Some(size) = doc.struct_size {
            cfg.struct_size = size;
        }
        st = unsafe { rsl_retry_new(&cfg, &bcfg, &mut h, &mut err) };
    }
    if !doc.overrides_struct() {
        let mut h2: *mut rsl_retry = std::ptr::null_mut();
        let mut err2 = config::no_error();
        let st2 = unsafe {
            rsl_retry_new_from_json(json.as_ptr().cast(), json.len(), &mut h2, &mut err2)
        };
        unsafe { rsl_retry_free(h2) };
        if st2 != st || (st != RSL_OK && config::error_field(&err2) != config::error_field(&err)) {
            unsafe { rsl_retry_free(h) };
            return Err(format!(
                "new_from_json disagrees: status {st2} ({}) vs {st} ({})",
                config::error_message(&err2),
                config::error_message(&err)
            ));
        }
    }
    match config::check_created(s, st, &err) {
        Ok(true) => Ok(Some(h)),
        Ok(false) => Ok(None),
        Err(e) => {
            unsafe { rsl_retry_free(h) };
            Err(e)
        }
    }
}

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &["budget"], false)?;
    let Some(h) = create(s, &doc)? else {
        return Ok(());
    };
    let mut budget: *mut rsl_retry_budget = std::ptr::null_mut();
    if let Some(b) = doc.runner_keys.get("budget") {
        if !b.is_object() {
            unsafe { rsl_retry_free(h) };
            return Err(format!("config.budget: expected an object, got {b}"));
        }
        let json = b.to_string();
        let mut err = config::no_error();
        let st = unsafe {
            rsl_retry_budget_new_from_json(json.as_ptr().cast(), json.len(), &mut budget, &mut err)
        };
        if st != RSL_OK {
            unsafe { rsl_retry_free(h) };
            return Err(format!(
                "config.budget: status {st}: {}",
                config::error_message(&err)
            ));
        }
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
