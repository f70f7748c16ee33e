//! The Rust conformance runner: replays every scenario under
//! `tests/conformance/` through the C ABI (the same functions every binding
//! calls), per the format in `tests/conformance/README.md`.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::too_many_lines, missing_docs)]

use resilience::ffi::adaptive_throttle::*;
use resilience::ffi::breaker::*;
use resilience::ffi::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

type Res<T = ()> = Result<T, String>;

fn status_by_name(name: &str) -> Res<rsl_status> {
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

const STATES: &[(&str, u32)] = &[
    ("closed", RSL_BREAKER_CLOSED),
    ("open", RSL_BREAKER_OPEN),
    ("half_open", RSL_BREAKER_HALF_OPEN),
    ("forced_open", RSL_BREAKER_FORCED_OPEN),
    ("disabled", RSL_BREAKER_DISABLED),
];
const OUTCOMES: &[(&str, u32)] = &[
    ("success", RSL_OUTCOME_SUCCESS),
    ("failure", RSL_OUTCOME_FAILURE),
    ("ignored", RSL_OUTCOME_IGNORED),
];
const REJECTS: &[(&str, u32)] = &[
    ("none", 0),
    ("open", RSL_BREAKER_REJECT_OPEN),
    ("forced_open", RSL_BREAKER_REJECT_FORCED_OPEN),
    ("half_open_full", RSL_BREAKER_REJECT_HALF_OPEN_FULL),
];
const REASONS: &[(&str, u32)] = &[
    ("consecutive_failures", RSL_BREAKER_REASON_CONSECUTIVE_FAILURES),
    ("failure_rate", RSL_BREAKER_REASON_FAILURE_RATE),
    ("slow_call_rate", RSL_BREAKER_REASON_SLOW_CALL_RATE),
    ("failure_count", RSL_BREAKER_REASON_FAILURE_COUNT),
    ("external_trip", RSL_BREAKER_REASON_EXTERNAL_TRIP),
    ("wait_elapsed", RSL_BREAKER_REASON_WAIT_ELAPSED),
    ("trials_succeeded", RSL_BREAKER_REASON_TRIALS_SUCCEEDED),
    ("trials_failed", RSL_BREAKER_REASON_TRIALS_FAILED),
    ("trials_exhausted", RSL_BREAKER_REASON_TRIALS_EXHAUSTED),
    ("manual", RSL_BREAKER_REASON_MANUAL),
    ("reset", RSL_BREAKER_REASON_RESET),
];
const BREAKER_PRESETS: &[(&str, u32)] = &[
    ("default", RSL_BREAKER_PRESET_DEFAULT),
    ("resilience4j", RSL_BREAKER_PRESET_RESILIENCE4J),
    ("polly_v8", RSL_BREAKER_PRESET_POLLY_V8),
    ("gobreaker", RSL_BREAKER_PRESET_GOBREAKER),
    ("hystrix", RSL_BREAKER_PRESET_HYSTRIX),
    ("sentinel_error_ratio", RSL_BREAKER_PRESET_SENTINEL_ERROR_RATIO),
    ("sentinel_error_count", RSL_BREAKER_PRESET_SENTINEL_ERROR_COUNT),
    ("sentinel_slow_request_ratio", RSL_BREAKER_PRESET_SENTINEL_SLOW_REQUEST_RATIO),
];
const THROTTLE_PRESETS: &[(&str, u32)] = &[
    ("sre_book", RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK),
    ("kratos", RSL_ADAPTIVE_THROTTLE_PRESET_KRATOS),
    ("go_zero", RSL_ADAPTIVE_THROTTLE_PRESET_GO_ZERO),
];
const CONFIG_ENUMS: &[(&str, &str, u32)] = &[
    ("policy", "consecutive", RSL_BREAKER_POLICY_CONSECUTIVE),
    ("policy", "rate", RSL_BREAKER_POLICY_RATE),
    ("policy", "external", RSL_BREAKER_POLICY_EXTERNAL),
    ("window_kind", "count", RSL_WINDOW_COUNT),
    ("window_kind", "time", RSL_WINDOW_TIME),
    ("half_open_mode", "successes", RSL_HALF_OPEN_SUCCESSES),
    ("half_open_mode", "rate", RSL_HALF_OPEN_RATE),
    ("accounting", "on_admit", RSL_ACCOUNTING_ON_ADMIT),
    ("accounting", "on_completion", RSL_ACCOUNTING_ON_COMPLETION),
];

fn lookup(table: &[(&str, u32)], v: &Value, what: &str) -> Res<u32> {
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

fn name_of(table: &[(&str, u32)], v: u32) -> String {
    table
        .iter()
        .find(|(_, x)| *x == v)
        .map_or_else(|| v.to_string(), |(n, _)| (*n).to_string())
}

/// A config field slot: where to store a JSON value.
enum Slot<'a> {
    U32(&'a mut u32),
    I64(&'a mut i64),
    U64(&'a mut u64),
    F64(&'a mut f64),
}

fn set_field(field: &str, slot: Slot<'_>, v: &Value) -> Res {
    let int = || -> Res<i128> {
        match v {
            Value::Bool(b) => Ok(i128::from(*b)),
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .ok_or_else(|| format!("{field}: not an integer: {n}")),
            Value::String(s) => CONFIG_ENUMS
                .iter()
                .find(|(f, n, _)| *f == field && n == s)
                .map(|(_, _, x)| i128::from(*x))
                .ok_or_else(|| format!("{field}: unknown name {s}")),
            _ => Err(format!("{field}: bad value {v}")),
        }
    };
    match slot {
        Slot::U32(p) => *p = u32::try_from(int()?).map_err(|e| format!("{field}: {e}"))?,
        Slot::I64(p) => *p = i64::try_from(int()?).map_err(|e| format!("{field}: {e}"))?,
        Slot::U64(p) => *p = u64::try_from(int()?).map_err(|e| format!("{field}: {e}"))?,
        Slot::F64(p) => *p = v.as_f64().ok_or_else(|| format!("{field}: not a number"))?,
    }
    Ok(())
}

fn breaker_slot<'a>(c: &'a mut rsl_breaker_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "policy" => Slot::U32(&mut c.policy),
        "consecutive_failures" => Slot::U32(&mut c.consecutive_failures),
        "window_kind" => Slot::U32(&mut c.window_kind),
        "window_size" => Slot::U32(&mut c.window_size),
        "minimum_calls" => Slot::U32(&mut c.minimum_calls),
        "window_ns" => Slot::I64(&mut c.window_ns),
        "failure_rate_threshold" => Slot::F64(&mut c.failure_rate_threshold),
        "slow_call_rate_threshold" => Slot::F64(&mut c.slow_call_rate_threshold),
        "slow_call_duration_ns" => Slot::I64(&mut c.slow_call_duration_ns),
        "failure_count_threshold" => Slot::U32(&mut c.failure_count_threshold),
        "evaluate_on_failure_only" => Slot::U32(&mut c.evaluate_on_failure_only),
        "closed_reset_interval_ns" => Slot::I64(&mut c.closed_reset_interval_ns),
        "wait_duration_ns" => Slot::I64(&mut c.wait_duration_ns),
        "wait_duration_multiplier" => Slot::F64(&mut c.wait_duration_multiplier),
        "max_wait_duration_ns" => Slot::I64(&mut c.max_wait_duration_ns),
        "half_open_mode" => Slot::U32(&mut c.half_open_mode),
        "half_open_max_calls" => Slot::U32(&mut c.half_open_max_calls),
        "half_open_success_threshold" => Slot::U32(&mut c.half_open_success_threshold),
        "half_open_failure_threshold" => Slot::U32(&mut c.half_open_failure_threshold),
        "permit_lease_ns" => Slot::I64(&mut c.permit_lease_ns),
        "event_capacity" => Slot::U32(&mut c.event_capacity),
        "reserved0" => Slot::U32(&mut c.reserved0),
        _ => return Err(format!("unknown breaker config field {f}")),
    })
}

fn throttle_slot<'a>(c: &'a mut rsl_adaptive_throttle_config, f: &str) -> Res<Slot<'a>> {
    Ok(match f {
        "struct_size" => Slot::U32(&mut c.struct_size),
        "accounting" => Slot::U32(&mut c.accounting),
        "k" => Slot::F64(&mut c.k),
        "window_ns" => Slot::I64(&mut c.window_ns),
        "buckets" => Slot::U32(&mut c.buckets),
        "min_requests" => Slot::U32(&mut c.min_requests),
        "request_offset" => Slot::U32(&mut c.request_offset),
        "count_local_rejections" => Slot::U32(&mut c.count_local_rejections),
        "max_drop_probability" => Slot::F64(&mut c.max_drop_probability),
        "seed" => Slot::U64(&mut c.seed),
        _ => return Err(format!("unknown adaptive_throttle config field {f}")),
    })
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(rsl_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Checks a created-or-failed handle against `expect_status` / `expect_error_field`.
fn check_creation(s: &Map<String, Value>, status: rsl_status) -> Res<bool> {
    match s.get("expect_status").and_then(Value::as_str) {
        Some(name) => {
            let want = status_by_name(name)?;
            if status != want {
                return Err(format!("creation: status {status}, want {name} ({want})"));
            }
            if let Some(field) = s.get("expect_error_field").and_then(Value::as_str) {
                let msg = last_error();
                if !msg.starts_with(&format!("{field}:")) {
                    return Err(format!("creation: message {msg:?} does not name {field}"));
                }
            }
            Ok(false)
        }
        None if status != RSL_OK => Err(format!(
            "creation failed: status {status}: {}",
            last_error()
        )),
        None => Ok(true),
    }
}

struct Checker<'a> {
    expect: Option<&'a Map<String, Value>>,
    errors: Vec<String>,
}

impl Checker<'_> {
    fn int(&mut self, key: &str, got: i128) {
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
    fn boolean(&mut self, key: &str, got: u32) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            if v.as_bool() != Some(got != 0) {
                self.errors.push(format!("{key}: got {got}, want {v}"));
            }
        }
    }
    fn float(&mut self, key: &str, got: f64) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            match v.as_f64() {
                Some(w) if (w - got).abs() <= 1e-9 => {}
                _ => self.errors.push(format!("{key}: got {got}, want {v}")),
            }
        }
    }
    fn named(&mut self, key: &str, table: &[(&str, u32)], got: u32) {
        if let Some(v) = self.expect.and_then(|e| e.get(key)) {
            if lookup(table, v, key).ok() != Some(got) {
                self.errors
                    .push(format!("{key}: got {}, want {v}", name_of(table, got)));
            }
        }
    }
    fn counts(&mut self, got: &rsl_breaker_counts) {
        let Some(c) = self.expect.and_then(|e| e.get("counts")).and_then(Value::as_object) else {
            return;
        };
        let mut sub = Checker {
            expect: Some(c),
            errors: Vec::new(),
        };
        for key in c.keys() {
            let value = match key.as_str() {
                "requests" => got.requests,
                "total_successes" => got.total_successes,
                "total_failures" => got.total_failures,
                "total_exclusions" => got.total_exclusions,
                "consecutive_successes" => got.consecutive_successes,
                "consecutive_failures" => got.consecutive_failures,
                other => {
                    sub.errors.push(format!("unknown counts key {other}"));
                    continue;
                }
            };
            sub.int(key, i128::from(value));
        }
        self.errors
            .extend(sub.errors.into_iter().map(|e| format!("counts.{e}")));
    }
    fn known(&mut self, allowed: &[&str]) {
        if let Some(e) = self.expect {
            for k in e.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.errors.push(format!("unknown expect key {k}"));
                }
            }
        }
    }
}

fn check_status(step: &Map<String, Value>, status: rsl_status) -> Res<bool> {
    match step.get("expect_status").and_then(Value::as_str) {
        Some(name) => {
            let want = status_by_name(name)?;
            if status == want {
                Ok(false)
            } else {
                Err(format!("status {status}, want {name}"))
            }
        }
        None if status == RSL_OK => Ok(true),
        None => Err(format!("status {status}: {}", last_error())),
    }
}

fn int_arg(step: &Map<String, Value>, key: &str, default: i64) -> Res<i64> {
    match step.get(key) {
        None => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| format!("{key}: not an integer")),
    }
}

fn outcome_arg(step: &Map<String, Value>) -> Res<u32> {
    lookup(
        OUTCOMES,
        step.get("outcome").ok_or("missing outcome")?,
        "outcome",
    )
}

struct BreakerRun {
    h: *mut rsl_breaker,
    permits: HashMap<String, rsl_breaker_permit>,
    last_generation: u64,
}

impl BreakerRun {
    fn step(&mut self, at: i64, step: &Map<String, Value>) -> Res {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let h = self.h;
        match op {
            "acquire" | "call" => {
                let mut a = rsl_breaker_acquire_result::default();
                if !check_status(step, unsafe { rsl_breaker_acquire_at(h, at, &mut a) })? {
                    return Ok(());
                }
                ck.boolean("admitted", a.admitted);
                ck.named("reject_reason", REJECTS, a.reject_reason);
                ck.int("retry_after_ns", i128::from(a.retry_after_ns));
                if op == "acquire" {
                    ck.known(&["admitted", "state", "reject_reason", "retry_after_ns"]);
                    ck.named("state", STATES, a.state);
                    if let Some(label) = step.get("permit").and_then(Value::as_str) {
                        self.permits.insert(label.to_owned(), a.permit);
                    }
                } else {
                    ck.known(&[
                        "admitted",
                        "state",
                        "reject_reason",
                        "retry_after_ns",
                        "counted",
                        "slow",
                        "counts",
                    ]);
                    if a.admitted == 0 {
                        ck.named("state", STATES, a.state);
                    } else {
                        let end = at + int_arg(step, "duration_ns", 0)?;
                        let mut r = rsl_breaker_record_result::default();
                        let st = unsafe {
                            rsl_breaker_record_at(h, end, &a.permit, outcome_arg(step)?, &mut r)
                        };
                        if st != RSL_OK {
                            return Err(format!("record status {st}: {}", last_error()));
                        }
                        self.last_generation = r.generation;
                        ck.boolean("counted", r.counted);
                        ck.boolean("slow", r.slow);
                        ck.named("state", STATES, r.state);
                        ck.counts(&r.counts);
                    }
                }
            }
            "record" => {
                ck.known(&["counted", "slow", "state", "generation", "counts"]);
                let label = step.get("permit").and_then(Value::as_str).ok_or("missing permit")?;
                let permit = *self
                    .permits
                    .get(label)
                    .ok_or_else(|| format!("unknown permit {label}"))?;
                let mut r = rsl_breaker_record_result::default();
                let st = unsafe { rsl_breaker_record_at(h, at, &permit, outcome_arg(step)?, &mut r) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                self.last_generation = r.generation;
                ck.boolean("counted", r.counted);
                ck.boolean("slow", r.slow);
                ck.named("state", STATES, r.state);
                ck.int("generation", i128::from(r.generation));
                ck.counts(&r.counts);
            }
            "trip" => {
                ck.known(&["tripped", "state"]);
                let generation = match step.get("generation") {
                    Some(Value::String(s)) if s == "last" => self.last_generation,
                    Some(v) => v.as_u64().ok_or("generation: not an integer")?,
                    None => return Err("missing generation".into()),
                };
                let mut tripped = 0u32;
                if !check_status(step, unsafe { rsl_breaker_trip_at(h, at, generation, &mut tripped) })? {
                    return Ok(());
                }
                ck.boolean("tripped", tripped);
                self.check_state(at, &mut ck)?;
            }
            "transition" => {
                ck.known(&["state"]);
                let to = lookup(STATES, step.get("to").ok_or("missing to")?, "state")?;
                if !check_status(step, unsafe { rsl_breaker_transition_at(h, at, to) })? {
                    return Ok(());
                }
                self.check_state(at, &mut ck)?;
            }
            "reset" => {
                ck.known(&["state"]);
                if !check_status(step, unsafe { rsl_breaker_reset_at(h, at) })? {
                    return Ok(());
                }
                self.check_state(at, &mut ck)?;
            }
            "state" => {
                ck.known(&["state"]);
                self.check_state(at, &mut ck)?;
            }
            "metrics" => self.metrics(at, &mut ck)?,
            "drain_events" => self.drain(step, &mut ck)?,
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    }

    fn check_state(&self, at: i64, ck: &mut Checker<'_>) -> Res {
        let mut s = 0u32;
        let st = unsafe { rsl_breaker_get_state_at(self.h, at, &mut s) };
        if st != RSL_OK {
            return Err(format!("get_state status {st}"));
        }
        ck.named("state", STATES, s);
        Ok(())
    }

    fn metrics(&self, at: i64, ck: &mut Checker<'_>) -> Res {
        let mut m = rsl_breaker_metrics {
            struct_size: u32::try_from(std::mem::size_of::<rsl_breaker_metrics>()).unwrap(),
            ..Default::default()
        };
        let st = unsafe { rsl_breaker_get_metrics_at(self.h, at, &mut m) };
        if st != RSL_OK {
            return Err(format!("metrics status {st}"));
        }
        ck.known(&[
            "state",
            "generation",
            "counts",
            "window_calls",
            "window_failures",
            "window_slow_calls",
            "failure_rate",
            "slow_call_rate",
            "time_in_state_ns",
            "open_until_ns",
            "consecutive_opens",
            "half_open_in_flight",
            "rejected_total",
            "leases_expired_total",
            "events_dropped_total",
        ]);
        ck.named("state", STATES, m.state);
        ck.int("generation", i128::from(m.generation));
        ck.counts(&m.counts);
        ck.int("window_calls", i128::from(m.window_calls));
        ck.int("window_failures", i128::from(m.window_failures));
        ck.int("window_slow_calls", i128::from(m.window_slow_calls));
        ck.float("failure_rate", m.failure_rate);
        ck.float("slow_call_rate", m.slow_call_rate);
        ck.int("time_in_state_ns", i128::from(m.time_in_state_ns));
        ck.int("open_until_ns", i128::from(m.open_until_ns));
        ck.int("consecutive_opens", i128::from(m.consecutive_opens));
        ck.int("half_open_in_flight", i128::from(m.half_open_in_flight));
        ck.int("rejected_total", i128::from(m.rejected_total));
        ck.int("leases_expired_total", i128::from(m.leases_expired_total));
        ck.int("events_dropped_total", i128::from(m.events_dropped_total));
        Ok(())
    }

    fn drain(&self, step: &Map<String, Value>, ck: &mut Checker<'_>) -> Res {
        ck.known(&["events"]);
        let max = usize::try_from(int_arg(step, "max", 64)?).map_err(|e| e.to_string())?;
        let mut buf = vec![rsl_breaker_event::default(); max];
        let mut n = 0usize;
        let st = unsafe { rsl_breaker_drain_events(self.h, buf.as_mut_ptr(), max, &mut n) };
        if st != RSL_OK {
            return Err(format!("drain status {st}"));
        }
        let Some(want) = ck.expect.and_then(|e| e.get("events")).and_then(Value::as_array) else {
            return Ok(());
        };
        if want.len() != n {
            ck.errors
                .push(format!("events: drained {n}, want {}", want.len()));
            return Ok(());
        }
        for (i, (w, got)) in want.iter().zip(&buf).enumerate() {
            let mut sub = Checker {
                expect: w.as_object(),
                errors: Vec::new(),
            };
            sub.known(&["seq", "at_ns", "from", "to", "reason", "generation"]);
            sub.int("seq", i128::from(got.seq));
            sub.int("at_ns", i128::from(got.at_ns));
            sub.int("generation", i128::from(got.generation));
            sub.named("from", STATES, got.from);
            sub.named("to", STATES, got.to);
            sub.named("reason", REASONS, got.reason);
            ck.errors
                .extend(sub.errors.into_iter().map(|e| format!("events[{i}].{e}")));
        }
        Ok(())
    }
}

fn run_breaker(s: &Map<String, Value>) -> Res {
    let mut cfg = rsl_breaker_config::from(resilience::BreakerConfig::default());
    let preset = match s.get("preset") {
        Some(p) => lookup(BREAKER_PRESETS, p, "preset")?,
        None => RSL_BREAKER_PRESET_DEFAULT,
    };
    if unsafe { rsl_breaker_config_preset(&mut cfg, preset) } != RSL_OK {
        return Err("config_preset failed".into());
    }
    if let Some(fields) = s.get("config").and_then(Value::as_object) {
        for (k, v) in fields {
            set_field(k, breaker_slot(&mut cfg, k)?, v)?;
        }
    }
    let created = int_arg(s, "created_at_ns", 0)?;
    let mut h: *mut rsl_breaker = std::ptr::null_mut();
    let st = unsafe { rsl_breaker_new_at(&cfg, created, &mut h) };
    if !check_creation(s, st)? {
        return Ok(());
    }
    let mut run = BreakerRun {
        h,
        permits: HashMap::new(),
        last_generation: 0,
    };
    let result = for_each_step(s, |at, step| run.step(at, step));
    unsafe { rsl_breaker_free(h) };
    result
}

fn run_throttle(s: &Map<String, Value>) -> Res {
    let mut cfg = rsl_adaptive_throttle_config::from(resilience::ThrottleConfig::default());
    let preset = match s.get("preset") {
        Some(p) => lookup(THROTTLE_PRESETS, p, "preset")?,
        None => RSL_ADAPTIVE_THROTTLE_PRESET_SRE_BOOK,
    };
    if unsafe { rsl_adaptive_throttle_config_preset(&mut cfg, preset) } != RSL_OK {
        return Err("config_preset failed".into());
    }
    if let Some(fields) = s.get("config").and_then(Value::as_object) {
        for (k, v) in fields {
            set_field(k, throttle_slot(&mut cfg, k)?, v)?;
        }
    }
    let mut h: *mut rsl_adaptive_throttle = std::ptr::null_mut();
    let st = unsafe { rsl_adaptive_throttle_new(&cfg, &mut h) };
    if !check_creation(s, st)? {
        return Ok(());
    }
    let mut tickets: HashMap<String, rsl_adaptive_throttle_ticket> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "allow" | "call" => {
                ck.known(&["allowed", "drop_probability", "requests", "accepts"]);
                let mut d = rsl_adaptive_throttle_decision::default();
                if !check_status(step, unsafe { rsl_adaptive_throttle_allow_at(h, at, &mut d) })? {
                    return Ok(());
                }
                ck.boolean("allowed", d.allowed);
                ck.float("drop_probability", d.drop_probability);
                ck.int("requests", i128::from(d.requests));
                ck.int("accepts", i128::from(d.accepts));
                if op == "allow" {
                    if let Some(label) = step.get("ticket").and_then(Value::as_str) {
                        tickets.insert(label.to_owned(), d.ticket);
                    }
                } else if d.allowed != 0 {
                    let st = unsafe {
                        rsl_adaptive_throttle_record_at(h, at, &d.ticket, outcome_arg(step)?)
                    };
                    if st != RSL_OK {
                        return Err(format!("record status {st}: {}", last_error()));
                    }
                }
            }
            "record" => {
                ck.known(&[]);
                let label = step.get("ticket").and_then(Value::as_str).ok_or("missing ticket")?;
                let t = *tickets
                    .get(label)
                    .ok_or_else(|| format!("unknown ticket {label}"))?;
                let st = unsafe { rsl_adaptive_throttle_record_at(h, at, &t, outcome_arg(step)?) };
                check_status(step, st)?;
            }
            "metrics" => {
                ck.known(&[
                    "requests",
                    "accepts",
                    "drop_probability",
                    "allowed_total",
                    "rejected_total",
                ]);
                let mut m = rsl_adaptive_throttle_metrics {
                    struct_size: u32::try_from(std::mem::size_of::<rsl_adaptive_throttle_metrics>())
                        .unwrap(),
                    ..Default::default()
                };
                let st = unsafe { rsl_adaptive_throttle_get_metrics_at(h, at, &mut m) };
                if st != RSL_OK {
                    return Err(format!("metrics status {st}"));
                }
                ck.int("requests", i128::from(m.requests));
                ck.int("accepts", i128::from(m.accepts));
                ck.float("drop_probability", m.drop_probability);
                ck.int("allowed_total", i128::from(m.allowed_total));
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
    unsafe { rsl_adaptive_throttle_free(h) };
    result
}

fn for_each_step(
    s: &Map<String, Value>,
    mut run: impl FnMut(i64, &Map<String, Value>) -> Res,
) -> Res {
    let steps = s.get("steps").and_then(Value::as_array).ok_or("missing steps")?;
    for (i, step) in steps.iter().enumerate() {
        let step = step.as_object().ok_or_else(|| format!("step {i}: not an object"))?;
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

fn scenarios(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenarios(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn run_file(path: &Path) -> Res {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("bad JSON: {e}"))?;
    let s = v.as_object().ok_or("not an object")?;
    for key in s.keys() {
        if ![
            "primitive",
            "description",
            "preset",
            "config",
            "created_at_ns",
            "expect_status",
            "expect_error_field",
            "steps",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown top-level key {key}"));
        }
    }
    if s.get("description").and_then(Value::as_str).is_none() {
        return Err("missing description".into());
    }
    match s.get("primitive").and_then(Value::as_str) {
        Some("breaker") => run_breaker(s),
        Some("adaptive_throttle") => run_throttle(s),
        other => Err(format!("unknown primitive {other:?}")),
    }
}

#[test]
fn conformance_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files = Vec::new();
    scenarios(&root, &mut files);
    let mut failed = Vec::new();
    let mut per_primitive: HashMap<String, usize> = HashMap::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        *per_primitive
            .entry(rel.split('/').next().unwrap_or("").to_owned())
            .or_default() += 1;
        if let Err(e) = run_file(f) {
            failed.push(format!("{rel}: {e}"));
        }
    }
    for f in &failed {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "conformance: {} scenarios {per_primitive:?}, {} failed",
        files.len(),
        failed.len()
    );
    assert!(!files.is_empty(), "no scenarios found");
    assert!(failed.is_empty(), "{} scenario(s) failed", failed.len());
}
