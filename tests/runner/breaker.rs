//! Conformance runner for `breaker` scenarios.

use super::*;
use resilience::ffi::breaker::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

const STATES: &[(&str, u32)] = &[
    ("closed", RSL_BREAKER_CLOSED),
    ("open", RSL_BREAKER_OPEN),
    ("half_open", RSL_BREAKER_HALF_OPEN),
    ("forced_open", RSL_BREAKER_FORCED_OPEN),
    ("disabled", RSL_BREAKER_DISABLED),
];

const REJECTS: &[(&str, u32)] = &[
    ("none", 0),
    ("open", RSL_BREAKER_REJECT_OPEN),
    ("forced_open", RSL_BREAKER_REJECT_FORCED_OPEN),
    ("half_open_full", RSL_BREAKER_REJECT_HALF_OPEN_FULL),
];

const REASONS: &[(&str, u32)] = &[
    (
        "consecutive_failures",
        RSL_BREAKER_REASON_CONSECUTIVE_FAILURES,
    ),
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

fn check_counts(ck: &mut Checker<'_>, got: &rsl_breaker_counts) {
    let Some(c) = ck
        .expect
        .and_then(|e| e.get("counts"))
        .and_then(Value::as_object)
    else {
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
    ck.errors
        .extend(sub.errors.into_iter().map(|e| format!("counts.{e}")));
}

struct BreakerRun {
    h: *mut rsl_breaker,
    permits: HashMap<String, rsl_breaker_permit>,
    last_generation: Option<u64>,
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
            "acquire" => {
                check_step_keys(step, &["permit"])?;
                ck.known(&["admitted", "state", "reject_reason", "retry_after_ns"]);
                let mut a = rsl_breaker_acquire_result::default();
                if !check_status(step, unsafe {
                    rsl_breaker_acquire_at(h, at, &mut a, std::ptr::null_mut())
                })? {
                    return Ok(());
                }
                ck.boolean("admitted", a.admitted);
                ck.named("reject_reason", REJECTS, a.reject_reason);
                ck.int("retry_after_ns", i128::from(a.retry_after_ns));
                ck.named("state", STATES, a.state);
                if let Some(label) = step.get("permit").and_then(Value::as_str) {
                    self.permits.insert(label.to_owned(), a.permit);
                }
            }
            "call" => {
                check_step_keys(step, &["outcome", "duration_ns"])?;
                ck.known(&[
                    "admitted",
                    "state",
                    "reject_reason",
                    "retry_after_ns",
                    "counted",
                    "slow",
                    "counts",
                ]);
                // expect_status belongs to the record: only it can fail on
                // the scenario's input (the outcome).
                let mut a = rsl_breaker_acquire_result::default();
                let st = unsafe { rsl_breaker_acquire_at(h, at, &mut a, std::ptr::null_mut()) };
                if st != RSL_OK {
                    return Err(format!("acquire status {st}: {}", last_error()));
                }
                ck.boolean("admitted", a.admitted);
                ck.named("reject_reason", REJECTS, a.reject_reason);
                ck.int("retry_after_ns", i128::from(a.retry_after_ns));
                if a.admitted == 0 {
                    // No record happened: nothing counted, nothing slow, and
                    // the counts are the breaker's at `at`.
                    ck.boolean("counted", 0);
                    ck.boolean("slow", 0);
                    ck.named("state", STATES, a.state);
                    if ck.expect.is_some_and(|e| e.contains_key("counts")) {
                        let m = self.snapshot(at)?;
                        check_counts(&mut ck, &m.counts);
                    }
                } else {
                    let end = at + int_arg(step, "duration_ns", 0)?;
                    let mut r = rsl_breaker_record_result::default();
                    let st = unsafe {
                        rsl_breaker_record_at(
                            h,
                            end,
                            &a.permit,
                            outcome_arg(step)?,
                            &mut r,
                            std::ptr::null_mut(),
                        )
                    };
                    if !check_status(step, st)? {
                        return Ok(());
                    }
                    self.last_generation = Some(r.generation);
                    ck.boolean("counted", r.counted);
                    ck.boolean("slow", r.slow);
                    ck.named("state", STATES, r.state);
                    check_counts(&mut ck, &r.counts);
                }
            }
            "record" => {
                check_step_keys(step, &["permit", "outcome"])?;
                ck.known(&["counted", "slow", "state", "generation", "counts"]);
                let label = step
                    .get("permit")
                    .and_then(Value::as_str)
                    .ok_or("missing permit")?;
                let permit = *self
                    .permits
                    .get(label)
                    .ok_or_else(|| format!("unknown permit {label}"))?;
                let mut r = rsl_breaker_record_result::default();
                let st = unsafe {
                    rsl_breaker_record_at(
                        h,
                        at,
                        &permit,
                        outcome_arg(step)?,
                        &mut r,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                self.last_generation = Some(r.generation);
                ck.boolean("counted", r.counted);
                ck.boolean("slow", r.slow);
                ck.named("state", STATES, r.state);
                ck.int("generation", i128::from(r.generation));
                check_counts(&mut ck, &r.counts);
            }
            "trip" => {
                check_step_keys(step, &["generation"])?;
                ck.known(&["tripped", "state"]);
                let generation = match step.get("generation") {
                    Some(Value::String(s)) if s == "last" => self
                        .last_generation
                        .ok_or("generation \"last\" before any record")?,
                    Some(v) => v.as_u64().ok_or("generation: not an integer")?,
                    None => return Err("missing generation".into()),
                };
                let mut tripped = 0u32;
                if !check_status(step, unsafe {
                    rsl_breaker_trip_at(h, at, generation, &mut tripped, std::ptr::null_mut())
                })? {
                    return Ok(());
                }
                ck.boolean("tripped", tripped);
                self.check_state(at, &mut ck)?;
            }
            "transition" => {
                check_step_keys(step, &["to"])?;
                ck.known(&["state"]);
                let to = lookup(STATES, step.get("to").ok_or("missing to")?, "state")?;
                if !check_status(step, unsafe {
                    rsl_breaker_transition_at(h, at, to, std::ptr::null_mut())
                })? {
                    return Ok(());
                }
                self.check_state(at, &mut ck)?;
            }
            "reset" => {
                check_step_keys(step, &[])?;
                ck.known(&["state"]);
                if !check_status(step, unsafe {
                    rsl_breaker_reset_at(h, at, std::ptr::null_mut())
                })? {
                    return Ok(());
                }
                self.check_state(at, &mut ck)?;
            }
            "state" => {
                check_step_keys(step, &[])?;
                ck.known(&["state"]);
                self.check_state(at, &mut ck)?;
            }
            "metrics" => {
                check_step_keys(step, &[])?;
                self.metrics(at, &mut ck)?;
            }
            "drain_events" => {
                check_step_keys(step, &["max"])?;
                self.drain(step, &mut ck)?;
            }
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
        let st = unsafe { rsl_breaker_get_state_at(self.h, at, &mut s, std::ptr::null_mut()) };
        if st != RSL_OK {
            return Err(format!("get_state status {st}"));
        }
        ck.named("state", STATES, s);
        Ok(())
    }

    fn snapshot(&self, at: i64) -> Res<rsl_breaker_metrics> {
        let mut m = rsl_breaker_metrics {
            struct_size: u32::try_from(std::mem::size_of::<rsl_breaker_metrics>()).unwrap(),
            ..Default::default()
        };
        let st = unsafe { rsl_breaker_get_metrics_at(self.h, at, &mut m, std::ptr::null_mut()) };
        if st != RSL_OK {
            return Err(format!("metrics status {st}"));
        }
        Ok(m)
    }

    fn metrics(&self, at: i64, ck: &mut Checker<'_>) -> Res {
        let m = self.snapshot(at)?;
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
        check_counts(ck, &m.counts);
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
        let st = unsafe {
            rsl_breaker_drain_events(self.h, buf.as_mut_ptr(), max, &mut n, std::ptr::null_mut())
        };
        if st != RSL_OK {
            return Err(format!("drain status {st}"));
        }
        let Some(want) = ck
            .expect
            .and_then(|e| e.get("events"))
            .and_then(Value::as_array)
        else {
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

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let created = int_arg(s, "created_at_ns", 0)?;
    let h = match config::create(
        s,
        &doc,
        rsl_breaker_config_from_json,
        rsl_breaker_config_to_json,
        Some(|c: &mut rsl_breaker_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_breaker_new_at(cfg, created, out, err) },
        |json, out, err| unsafe {
            rsl_breaker_new_from_json_at(json.as_ptr().cast(), json.len(), created, out, err)
        },
        rsl_breaker_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let mut run = BreakerRun {
        h,
        permits: HashMap::new(),
        last_generation: None,
    };
    let result = for_each_step(s, |at, step| run.step(at, step));
    unsafe { rsl_breaker_free(h) };
    result
}
