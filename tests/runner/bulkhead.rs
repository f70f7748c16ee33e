//! Conformance runner for `bulkhead` scenarios.

use super::*;
use resilience::ffi::bulkhead::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

struct BulkheadRun {
    h: *mut rsl_bulkhead,
    cfg: rsl_bulkhead_config,
    other: *mut rsl_bulkhead,
    /// Permits and waiter tickets by label (both plain u64 values).
    values: HashMap<String, u64>,
}

const OUTCOMES: &[(&str, u32)] = &[
    ("entered", RSL_BULKHEAD_ENTERED),
    ("queued", RSL_BULKHEAD_QUEUED),
    ("full", RSL_BULKHEAD_FULL),
];

const HANDED: &[(&str, u32)] = &[
    ("none", RSL_BULKHEAD_HANDED_NONE),
    ("waiter", RSL_BULKHEAD_HANDED_WAITER),
    ("thread", RSL_BULKHEAD_HANDED_THREAD),
];

/// Applies a step's `alter` object to a stored value: `add` (wrapping, may
/// be negative), `flip_bit` (0..=63), `zero`, `all_ones`.
pub fn alter_value(step: &Map<String, Value>, mut v: u64) -> Res<u64> {
    let Some(alter) = step.get("alter") else {
        return Ok(v);
    };
    let alter = alter.as_object().ok_or("alter: not an object")?;
    for (k, a) in alter {
        match k.as_str() {
            "add" => {
                v = v.wrapping_add_signed(a.as_i64().ok_or("alter.add: not an integer")?);
            }
            "flip_bit" => {
                let bit = a
                    .as_u64()
                    .filter(|b| *b < 64)
                    .ok_or("alter.flip_bit: not in 0..=63")?;
                v ^= 1 << bit;
            }
            "zero" if a.as_bool() == Some(true) => v = 0,
            "all_ones" if a.as_bool() == Some(true) => v = u64::MAX,
            _ => return Err(format!("unknown alter key {k} (or bad value {a})")),
        }
    }
    Ok(v)
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

    /// The value under the step's `key` label, altered as the step says.
    fn value(&self, step: &Map<String, Value>, key: &str) -> Res<u64> {
        let label = step
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("missing {key} label"))?;
        let v = *self
            .values
            .get(label)
            .ok_or_else(|| format!("unknown label {label}"))?;
        alter_value(step, v)
    }

    fn keep(&mut self, step: &Map<String, Value>, key: &str, v: u64) -> Res {
        match step.get(key) {
            None => Ok(()),
            Some(Value::String(label)) => {
                self.values.insert(label.clone(), v);
                Ok(())
            }
            Some(other) => Err(format!("{key}: not a label: {other}")),
        }
    }

    /// The label a value was kept under (a waiter named by an exit).
    fn label_of(&self, v: u64) -> Option<&str> {
        self.values
            .iter()
            .find(|(_, x)| **x == v && v != 0)
            .map(|(k, _)| k.as_str())
    }

    fn step(&mut self, at: i64, step: &Map<String, Value>) -> Res {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let null = std::ptr::null_mut();
        match op {
            "try_enter" | "enter_wait" => {
                if op == "try_enter" {
                    check_step_keys(step, &["permit", "on"])?;
                } else {
                    check_step_keys(step, &["permit", "on", "timeout_ns"])?;
                }
                ck.known(&["entered"]);
                let h = self.target(step)?;
                // Garbage in: a refused entry must write 0.
                let mut permit: rsl_bulkhead_permit = 0xabab_abab_abab_abab;
                let st = if op == "try_enter" {
                    unsafe { rsl_bulkhead_try_enter_at(h, at, &mut permit, null) }
                } else {
                    let timeout = int_arg(step, "timeout_ns", 0)?;
                    unsafe { rsl_bulkhead_enter_wait(h, timeout, &mut permit, null) }
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("entered", u32::from(permit != 0));
                self.keep(step, "permit", permit)?;
            }
            "enqueue" => {
                check_step_keys(step, &["permit", "waiter", "on"])?;
                ck.known(&["outcome", "position"]);
                let h = self.target(step)?;
                let mut e = rsl_bulkhead_entry {
                    outcome: 0xabab,
                    position: 0xabab,
                    permit: 0xabab,
                    waiter: 0xabab,
                };
                if !check_status(step, unsafe {
                    rsl_bulkhead_enqueue_at(h, at, &mut e, null)
                })? {
                    return Ok(());
                }
                let consistent = match e.outcome {
                    RSL_BULKHEAD_ENTERED => e.permit != 0 && e.waiter == 0 && e.position == 0,
                    RSL_BULKHEAD_QUEUED => e.permit == 0 && e.waiter != 0 && e.position >= 1,
                    RSL_BULKHEAD_FULL => e.permit == 0 && e.waiter == 0 && e.position == 0,
                    _ => false,
                };
                if !consistent {
                    return Err(format!("inconsistent entry {e:?}"));
                }
                ck.named("outcome", OUTCOMES, e.outcome);
                ck.int("position", e.position.into());
                self.keep(step, "permit", e.permit)?;
                self.keep(step, "waiter", e.waiter)?;
            }
            "exit" => {
                check_step_keys(step, &["permit", "on", "alter", "handed_permit"])?;
                ck.known(&["held_ns", "handed_to", "waiter"]);
                let h = self.target(step)?;
                let permit = self.value(step, "permit")?;
                let mut x = rsl_bulkhead_exit_result {
                    held_ns: -7,
                    handed_to: 0xabab,
                    reserved0: 0xabab,
                    waiter: 0xabab,
                    permit: 0xabab,
                };
                let before = x;
                let st = unsafe { rsl_bulkhead_exit_at(h, at, permit, &mut x, null) };
                if !check_status(step, st)? {
                    if (x.held_ns, x.handed_to, x.waiter, x.permit)
                        != (
                            before.held_ns,
                            before.handed_to,
                            before.waiter,
                            before.permit,
                        )
                    {
                        return Err("a failed exit wrote its out struct".into());
                    }
                    return Ok(());
                }
                let consistent = x.reserved0 == 0
                    && match x.handed_to {
                        RSL_BULKHEAD_HANDED_WAITER => x.waiter != 0 && x.permit != 0,
                        RSL_BULKHEAD_HANDED_NONE | RSL_BULKHEAD_HANDED_THREAD => {
                            x.waiter == 0 && x.permit == 0
                        }
                        _ => false,
                    };
                if !consistent {
                    return Err(format!("inconsistent exit result {x:?}"));
                }
                ck.int("held_ns", i128::from(x.held_ns));
                ck.named("handed_to", HANDED, x.handed_to);
                if let Some(want) = ck.expect.and_then(|e| e.get("waiter")) {
                    let got = self.label_of(x.waiter);
                    if want.as_str() != got {
                        ck.errors.push(format!("waiter: got {got:?}, want {want}"));
                    }
                }
                if step.contains_key("handed_permit") {
                    if x.handed_to != RSL_BULKHEAD_HANDED_WAITER {
                        return Err("handed_permit: nothing was handed to a waiter".into());
                    }
                    self.keep(step, "handed_permit", x.permit)?;
                }
            }
            "cancel_wait" => {
                check_step_keys(step, &["waiter", "on", "alter", "permit"])?;
                ck.known(&["cancelled", "same_as"]);
                let h = self.target(step)?;
                let waiter = self.value(step, "waiter")?;
                let mut c = rsl_bulkhead_cancel_result {
                    cancelled: 0xabab,
                    reserved0: 0xabab,
                    permit: 0xabab,
                };
                let st = unsafe { rsl_bulkhead_cancel_wait(h, waiter, &mut c, null) };
                if !check_status(step, st)? {
                    if (c.cancelled, c.reserved0, c.permit) != (0xabab, 0xabab, 0xabab) {
                        return Err("a failed cancel wrote its out struct".into());
                    }
                    return Ok(());
                }
                let consistent = c.reserved0 == 0
                    && match c.cancelled {
                        1 => c.permit == 0,
                        0 => c.permit != 0,
                        _ => false,
                    };
                if !consistent {
                    return Err(format!("inconsistent cancel result {c:?}"));
                }
                ck.boolean("cancelled", c.cancelled);
                if let Some(want) = ck.expect.and_then(|e| e.get("same_as")) {
                    let want = want.as_str().ok_or("same_as: not a label")?;
                    if self.values.get(want) != Some(&c.permit) {
                        ck.errors
                            .push(format!("same_as: the permit is not the one kept as {want}"));
                    }
                }
                self.keep(step, "permit", c.permit)?;
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
                    rsl_bulkhead_get_metrics_at(h, at, &mut m, null)
                })? {
                    return Ok(());
                }
                let fields: [(&str, i128); 16] = [
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
                    ("queued_total", m.queued_total.into()),
                    ("handed_over_total", m.handed_over_total.into()),
                    ("cancelled_total", m.cancelled_total.into()),
                    ("reserved0", m.reserved0.into()),
                ];
                // The queue's books always balance.
                if m.queued_total != m.handed_over_total + m.cancelled_total + u64::from(m.waiting)
                {
                    return Err(format!("queue totals do not balance: {m:?}"));
                }
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
        values: HashMap::new(),
    };
    let result = for_each_step(s, |at, step| run.step(at, step));
    unsafe {
        rsl_bulkhead_free(run.h);
        rsl_bulkhead_free(run.other);
    }
    result
}
