//! Conformance runner for `bulkhead` scenarios.

use super::*;
use resilience::ffi::bulkhead::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

struct BulkheadRun {
    h: *mut rsl_bulkhead,
    cfg: rsl_bulkhead_config,
    other: *mut rsl_bulkhead,
    permits: HashMap<String, rsl_bulkhead_permit>,
}

impl BulkheadRun {
    fn target(&mut self, step: &Map<String, Value>) -> Res<*mut rsl_bulkhead> {
        match step.get("on").and_then(Value::as_str) {
            None | Some("self") => Ok(self.h),
            Some("other") => {
                if self.other.is_null() {
                    let st = unsafe {
                        rsl_bulkhead_new(&self.cfg, &mut self.other, std::ptr::null_mut())
                    };
                    if st != RSL_OK {
                        return Err(format!("other bulkhead: status {st}"));
                    }
                }
                Ok(self.other)
            }
            Some(o) => Err(format!("unknown target {o}")),
        }
    }

    fn permit(&self, step: &Map<String, Value>) -> Res<Option<rsl_bulkhead_permit>> {
        match step.get("permit") {
            Some(Value::Null) => Ok(None),
            Some(Value::String(label)) => {
                let mut p = *self
                    .permits
                    .get(label)
                    .ok_or_else(|| format!("unknown permit {label}"))?;
                if let Some(alter) = step.get("alter").and_then(Value::as_object) {
                    for (k, v) in alter {
                        let n = v
                            .as_i64()
                            .ok_or_else(|| format!("alter.{k}: not an integer"))?;
                        match k.as_str() {
                            "slot" => p.slot = u32::try_from(n).map_err(|e| e.to_string())?,
                            "reserved0" => {
                                p.reserved0 = u32::try_from(n).map_err(|e| e.to_string())?;
                            }
                            "id_delta" => p.id = p.id.wrapping_add_signed(n),
                            "owner_delta" => p.owner = p.owner.wrapping_add_signed(n),
                            "zero" => p = rsl_bulkhead_permit::default(),
                            _ => return Err(format!("unknown alter key {k}")),
                        }
                    }
                }
                Ok(Some(p))
            }
            _ => Err("missing permit".into()),
        }
    }

    fn step(&mut self, at: i64, step: &Map<String, Value>) -> Res {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        match op {
            "try_enter" | "enter_wait" => {
                if op == "try_enter" {
                    check_step_keys(step, &["permit", "on"])?;
                } else {
                    check_step_keys(step, &["permit", "on", "timeout_ns"])?;
                }
                ck.known(&["entered", "entered_at_ns"]);
                let h = self.target(step)?;
                // Garbage in: a refused entry must zero the permit.
                let mut permit = rsl_bulkhead_permit {
                    owner: 0xabab_abab_abab_abab,
                    id: 0xabab_abab_abab_abab,
                    slot: 0xabab_abab,
                    reserved0: 0xabab_abab,
                    entered_at_ns: 0x2bab_abab_abab_abab,
                };
                let mut entered = 7u32;
                let st = if op == "try_enter" {
                    unsafe {
                        rsl_bulkhead_try_enter_at(
                            h,
                            at,
                            &mut permit,
                            &mut entered,
                            std::ptr::null_mut(),
                        )
                    }
                } else {
                    let timeout = int_arg(step, "timeout_ns", 0)?;
                    unsafe {
                        rsl_bulkhead_enter_wait(
                            h,
                            timeout,
                            &mut permit,
                            &mut entered,
                            std::ptr::null_mut(),
                        )
                    }
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                if entered > 1 {
                    return Err(format!("entered is {entered}, not 0 or 1"));
                }
                ck.boolean("entered", entered);
                ck.int("entered_at_ns", i128::from(permit.entered_at_ns));
                if entered == 0
                    && (
                        permit.owner,
                        permit.id,
                        permit.slot,
                        permit.reserved0,
                        permit.entered_at_ns,
                    ) != (0, 0, 0, 0, 0)
                {
                    ck.errors
                        .push("a refused entry left a non-zero permit".into());
                }
                if let Some(label) = step.get("permit").and_then(Value::as_str) {
                    self.permits.insert(label.to_owned(), permit);
                }
            }
            "exit" => {
                check_step_keys(step, &["permit", "on", "alter"])?;
                ck.known(&["held_ns"]);
                let h = self.target(step)?;
                let permit = self.permit(step)?;
                let ptr = permit.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
                let mut held = -1i64;
                let st =
                    unsafe { rsl_bulkhead_exit_at(h, at, ptr, &mut held, std::ptr::null_mut()) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("held_ns", i128::from(held));
            }
            "metrics" => {
                check_step_keys(step, &["on"])?;
                let h = self.target(step)?;
                let mut m = rsl_bulkhead_metrics {
                    struct_size: u32::try_from(std::mem::size_of::<rsl_bulkhead_metrics>())
                        .unwrap(),
                    ..Default::default()
                };
                if !check_status(step, unsafe {
                    rsl_bulkhead_get_metrics_at(h, at, &mut m, std::ptr::null_mut())
                })? {
                    return Ok(());
                }
                let fields: [(&str, i128); 13] = [
                    ("max_concurrent", m.max_concurrent.into()),
                    ("in_use", m.in_use.into()),
                    ("available", m.available.into()),
                    ("peak_in_use", m.peak_in_use.into()),
                    ("waiting", m.waiting.into()),
                    ("entered_total", m.entered_total.into()),
                    ("exited_total", m.exited_total.into()),
                    ("rejected_total", m.rejected_total.into()),
                    ("oldest_entered_at_ns", m.oldest_entered_at_ns.into()),
                    ("oldest_held_ns", m.oldest_held_ns.into()),
                    ("overdue_in_use", m.overdue_in_use.into()),
                    ("overdue_exits_total", m.overdue_exits_total.into()),
                    ("reserved0", m.reserved0.into()),
                ];
                let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                ck.known(&names);
                for (n, v) in fields {
                    ck.int(n, v);
                }
            }
            other => return Err(format!("unknown bulkhead op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    }
}

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], false)?;
    let (cfg, h) = match config::create(
        s,
        &doc,
        rsl_bulkhead_config_from_json,
        rsl_bulkhead_config_to_json,
        None,
        |cfg, out, err| unsafe { rsl_bulkhead_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_bulkhead_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_bulkhead_free,
    )? {
        config::Created::Made(cfg, h) => (cfg, h),
        config::Created::Failed(_) => return Ok(()),
    };
    let mut run = BulkheadRun {
        h,
        cfg,
        other: std::ptr::null_mut(),
        permits: HashMap::new(),
    };
    let result = for_each_step(s, |at, step| run.step(at, step));
    unsafe {
        rsl_bulkhead_free(run.h);
        rsl_bulkhead_free(run.other);
    }
    result
}
