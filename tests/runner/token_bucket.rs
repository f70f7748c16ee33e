//! Conformance runner for `token_bucket` scenarios. Token counts and limits
//! compare exactly (x/time/rate's tests compare them with `!=`).

use super::*;
use resilience::ffi::token_bucket::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A double from the corpus: a JSON number, or `"inf"` (the
/// `RSL_TOKEN_BUCKET_INF` sentinel, DBL_MAX), `"+inf"`/`"-inf"` (IEEE
/// infinities) or `"nan"`, which JSON cannot spell.
pub fn double(v: &Value, what: &str) -> Res<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{what}: bad number")),
        Value::String(s) => match s.as_str() {
            "inf" => Ok(RSL_TOKEN_BUCKET_INF),
            "+inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(format!("{what}: unknown name {s}")),
        },
        _ => Err(format!("{what}: bad value {v}")),
    }
}

/// An `int64_t` from the corpus: a JSON integer, or `"int64_max"` /
/// `"int64_min"` (beyond the corpus's 2^53 range).
pub fn int64(v: &Value, what: &str) -> Res<i64> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("{what}: not an int64")),
        Value::String(s) if s == "int64_max" => Ok(i64::MAX),
        Value::String(s) if s == "int64_min" => Ok(i64::MIN),
        _ => Err(format!("{what}: bad value {v}")),
    }
}

pub fn int64_arg(step: &Map<String, Value>, key: &str, default: i64) -> Res<i64> {
    step.get(key).map_or(Ok(default), |v| int64(v, key))
}

/// Checks an exact double (bit for bit, NaN equal to NaN).
pub fn exact(ck: &mut Checker<'_>, key: &str, got: f64) {
    if let Some(v) = ck.expect.and_then(|e| e.get(key)) {
        match double(v, key) {
            Ok(w) if w.to_bits() == got.to_bits() || (w.is_nan() && got.is_nan()) => {}
            _ => ck.errors.push(format!("{key}: got {got:?}, want {v}")),
        }
    }
}

/// Checks an `int64_t` that may be spelled `"int64_max"` / `"int64_min"`.
pub fn int64_expect(ck: &mut Checker<'_>, key: &str, got: i64) {
    if let Some(v) = ck.expect.and_then(|e| e.get(key)) {
        if int64(v, key).ok() != Some(got) {
            ck.errors.push(format!("{key}: got {got}, want {v}"));
        }
    }
}

fn reservation_keys(ck: &mut Checker<'_>, r: &rsl_token_bucket_reservation) {
    ck.boolean("ok", r.ok);
    ck.boolean("cancelled", r.cancelled);
    ck.int("tokens", i128::from(r.tokens));
    int64_expect(ck, "time_to_act_ns", r.time_to_act_ns);
    int64_expect(ck, "wait_ns", r.wait_ns);
    exact(ck, "limit", r.limit);
}

const RESERVATION_KEYS: &[&str] = &[
    "ok",
    "cancelled",
    "tokens",
    "time_to_act_ns",
    "wait_ns",
    "limit",
];

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_token_bucket_config_from_json,
        rsl_token_bucket_config_to_json,
        Some(|c: &mut rsl_token_bucket_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_token_bucket_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_token_bucket_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_token_bucket_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let mut held: HashMap<String, rsl_token_bucket_reservation> = HashMap::new();
    let result = for_each_step(s, |at, step| {
        let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
        let mut ck = Checker {
            expect: step.get("expect").and_then(Value::as_object),
            errors: Vec::new(),
        };
        let label = step.get("reservation").and_then(Value::as_str);
        match op {
            "allow" => {
                check_step_keys(step, &["n"])?;
                ck.known(&["allowed"]);
                let n = int64_arg(step, "n", 1)?;
                let mut allowed = 7;
                if check_status(step, unsafe {
                    rsl_token_bucket_allow_at(h, at, n, &mut allowed, std::ptr::null_mut())
                })? {
                    ck.boolean("allowed", allowed);
                }
            }
            "reserve" => {
                check_step_keys(step, &["n", "max_wait_ns", "reservation"])?;
                ck.known(RESERVATION_KEYS);
                let n = int64_arg(step, "n", 1)?;
                let max_wait = int64_arg(step, "max_wait_ns", RSL_TOKEN_BUCKET_INF_DURATION)?;
                let mut r = rsl_token_bucket_reservation::default();
                let st = unsafe {
                    rsl_token_bucket_reserve_at(h, at, n, max_wait, &mut r, std::ptr::null_mut())
                };
                // On RSL_ERR_EXCEEDS_CAPACITY `r` is a not-OK reservation,
                // kept under its label like any other.
                if check_status(step, st)? || st == RSL_ERR_EXCEEDS_CAPACITY {
                    if st == RSL_ERR_EXCEEDS_CAPACITY && r.ok != 0 {
                        return Err("RSL_ERR_EXCEEDS_CAPACITY with an OK reservation".into());
                    }
                    reservation_keys(&mut ck, &r);
                    if let Some(l) = label {
                        held.insert(l.to_owned(), r);
                    }
                }
            }
            "cancel" => {
                check_step_keys(step, &["reservation", "foreign", "limit", "tokens"])?;
                ck.known(&["cancelled"]);
                let l = label.ok_or("cancel: missing reservation")?;
                let mut r = *held
                    .get(l)
                    .ok_or_else(|| format!("unknown reservation {l}"))?;
                // Tampering, to provoke the argument checks.
                if step.get("foreign").and_then(Value::as_bool) == Some(true) {
                    r.bucket_id ^= 0x5555_0000_0000_0000;
                }
                if let Some(v) = step.get("limit") {
                    r.limit = double(v, "limit")?;
                }
                if let Some(v) = step.get("tokens") {
                    r.tokens = int64(v, "tokens")?;
                }
                let st = unsafe { rsl_token_bucket_cancel_at(h, at, &mut r, std::ptr::null_mut()) };
                if !check_status(step, st)? {
                    return Ok(());
                }
                ck.boolean("cancelled", r.cancelled);
                if let Some(kept) = held.get_mut(l) {
                    kept.cancelled = r.cancelled;
                }
            }
            "delay" => {
                check_step_keys(step, &["reservation"])?;
                ck.known(&["wait_ns"]);
                let l = label.ok_or("delay: missing reservation")?;
                let r = *held
                    .get(l)
                    .ok_or_else(|| format!("unknown reservation {l}"))?;
                let mut w = 0;
                let st = unsafe {
                    rsl_token_bucket_reservation_delay_at(&r, at, &mut w, std::ptr::null_mut())
                };
                if check_status(step, st)? {
                    int64_expect(&mut ck, "wait_ns", w);
                }
            }
            "tokens" => {
                check_step_keys(step, &[])?;
                ck.known(&["tokens"]);
                let mut t = f64::NAN;
                if check_status(step, unsafe {
                    rsl_token_bucket_tokens_at(h, at, &mut t, std::ptr::null_mut())
                })? {
                    exact(&mut ck, "tokens", t);
                }
            }
            "set_limit" => {
                check_step_keys(step, &["limit"])?;
                ck.known(&[]);
                let v = double(
                    step.get("limit").ok_or("set_limit: missing limit")?,
                    "limit",
                )?;
                check_status(step, unsafe {
                    rsl_token_bucket_set_limit_at(h, at, v, std::ptr::null_mut())
                })?;
            }
            "set_burst" => {
                check_step_keys(step, &["burst"])?;
                ck.known(&[]);
                let b = int64(
                    step.get("burst").ok_or("set_burst: missing burst")?,
                    "burst",
                )?;
                check_status(step, unsafe {
                    rsl_token_bucket_set_burst_at(h, at, b, std::ptr::null_mut())
                })?;
            }
            "settings" => {
                check_step_keys(step, &[])?;
                ck.known(&["limit", "burst"]);
                let (mut l, mut b) = (f64::NAN, -1);
                if unsafe { rsl_token_bucket_get_limit(h, &mut l, std::ptr::null_mut()) } != RSL_OK
                    || unsafe { rsl_token_bucket_get_burst(h, &mut b, std::ptr::null_mut()) }
                        != RSL_OK
                {
                    return Err("settings: status not OK".into());
                }
                exact(&mut ck, "limit", l);
                ck.int("burst", i128::from(b));
            }
            "every" => {
                check_step_keys(step, &["interval_ns"])?;
                ck.known(&["limit"]);
                let i = int64_arg(step, "interval_ns", 0)?;
                exact(&mut ck, "limit", rsl_token_bucket_every(i));
            }
            other => return Err(format!("unknown op {other}")),
        }
        if ck.errors.is_empty() {
            Ok(())
        } else {
            Err(ck.errors.join("; "))
        }
    });
    unsafe { rsl_token_bucket_free(h) };
    result
}
