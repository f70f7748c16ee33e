//! Conformance runner for `retry_budget` scenarios.

use super::*;
use resilience::ffi::retry_budget::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Outcomes a retry policy or budget accepts.
pub const RETRY_OUTCOMES: &[(&str, u32)] = &[
    ("success", RSL_OUTCOME_SUCCESS),
    ("failure", RSL_OUTCOME_FAILURE),
    ("ignored", RSL_OUTCOME_IGNORED),
    ("overloaded", RSL_OUTCOME_OVERLOADED),
];

pub fn flags_arg(step: &Map<String, Value>) -> Res<u32> {
    if let Some(f) = step.get("flags") {
        return f
            .as_u64()
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| format!("bad flags {f}"));
    }
    Ok(match step.get("timeout").and_then(Value::as_bool) {
        Some(true) => RSL_RETRY_FLAG_TIMEOUT,
        _ => 0,
    })
}

/// Checks budget metrics against an `expect` object.
pub fn check_metrics(ck: &mut Checker<'_>, b: *const rsl_retry_budget, at: i64) -> Res {
    let mut m = rsl_retry_budget_metrics {
        struct_size: u32::try_from(std::mem::size_of::<rsl_retry_budget_metrics>()).unwrap(),
        ..Default::default()
    };
    let st = unsafe { rsl_retry_budget_get_metrics_at(b, at, &mut m, std::ptr::null_mut()) };
    if st != RSL_OK {
        return Err(format!("metrics status {st}"));
    }
    ck.int("requests", i128::from(m.requests));
    ck.int("retries", i128::from(m.retries));
    ck.int("available", i128::from(m.available));
    ck.int("tokens", i128::from(m.tokens));
    ck.int("deposits_total", i128::from(m.deposits_total));
    ck.int("granted_total", i128::from(m.granted_total));
    ck.int("denied_total", i128::from(m.denied_total));
    Ok(())
}

pub const METRIC_KEYS: &[&str] = &[
    "requests",
    "retries",
    "available",
    "tokens",
    "deposits_total",
    "granted_total",
    "denied_total",
];

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_retry_budget_config_from_json,
        rsl_retry_budget_config_to_json,
        Some(|c: &mut rsl_retry_budget_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_retry_budget_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_retry_budget_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_retry_budget_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let mut tickets: HashMap<String, rsl_retry_budget_ticket> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let label = step.get("ticket").and_then(Value::as_str);
        match op {
            "deposit" => {
                check_step_keys(step, &["ticket"])?;
                ck.known(&["ticket_kind"]);
                let mut t = rsl_retry_budget_ticket::default();
                let st =
                    unsafe { rsl_retry_budget_deposit_at(h, at, &mut t, std::ptr::null_mut()) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.int("ticket_kind", i128::from(t.kind));
                if let Some(l) = label {
                    tickets.insert(l.to_owned(), t);
                }
            }
            "withdraw" => {
                check_step_keys(step, &["ticket", "timeout", "flags"])?;
                ck.known(&["granted", "cost", "ticket_kind"]);
                let mut granted = 99u32;
                let mut t = rsl_retry_budget_ticket::default();
                let st = unsafe {
                    rsl_retry_budget_try_withdraw_at(
                        h,
                        at,
                        flags_arg(step)?,
                        &mut granted,
                        &mut t,
                        std::ptr::null_mut(),
                    )
                };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("granted", granted);
                ck.int("cost", i128::from(t.cost));
                ck.int("ticket_kind", i128::from(t.kind));
                if let Some(l) = label {
                    tickets.insert(l.to_owned(), t);
                }
            }
            "record" => {
                check_step_keys(step, &["ticket", "outcome"])?;
                ck.known(&[]);
                let l = label.ok_or("record: missing ticket")?;
                let t = *tickets
                    .get(l)
                    .ok_or_else(|| format!("unknown ticket {l}"))?;
                let o = lookup(
                    RETRY_OUTCOMES,
                    step.get("outcome").ok_or("missing outcome")?,
                    "outcome",
                )?;
                let st = unsafe { rsl_retry_budget_record_at(h, at, &t, o, std::ptr::null_mut()) };
                check_status(step, st)?;
            }
            "metrics" => {
                check_step_keys(step, &[])?;
                ck.known(METRIC_KEYS);
                check_metrics(&mut ck, h, at)?;
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe { rsl_retry_budget_free(h) };
    result
}
