//! Conformance runner for `deadline` scenarios: the pure deadline functions,
//! the `grpc-timeout` and millisecond header codecs, and the policy.

use super::*;
use resilience::ffi::deadline::*;
use serde_json::{Map, Value};

const DECISIONS: &[(&str, u32)] = &[
    ("proceed", RSL_DEADLINE_CALL_PROCEED),
    ("expired", RSL_DEADLINE_CALL_EXPIRED),
    ("insufficient", RSL_DEADLINE_CALL_INSUFFICIENT),
    ("above_max", RSL_DEADLINE_CALL_ABOVE_MAX),
    ("below_min", RSL_DEADLINE_CALL_BELOW_MIN),
];

const LIMITS: &[(&str, u32)] = &[
    ("none", RSL_DEADLINE_LIMIT_NONE),
    ("call_timeout", RSL_DEADLINE_LIMIT_CALL_TIMEOUT),
    ("deadline", RSL_DEADLINE_LIMIT_DEADLINE),
];

/// An integer that may be written as a JSON number, a decimal string (for
/// values at or above 2^53), `"INT64_MAX"`, `"INT64_MIN"` or `"none"`
/// (`RSL_DEADLINE_NONE`).
fn big(v: &Value) -> Res<i64> {
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(|| format!("not an i64: {n}")),
        Value::String(s) => match s.as_str() {
            "INT64_MAX" | "none" => Ok(i64::MAX),
            "INT64_MIN" => Ok(i64::MIN),
            _ => s.parse::<i64>().map_err(|e| format!("{s:?}: {e}")),
        },
        _ => Err(format!("not an integer: {v}")),
    }
}

fn big_arg(step: &Map<String, Value>, key: &str, default: Option<i64>) -> Res<i64> {
    match step.get(key) {
        Some(v) => big(v).map_err(|e| format!("{key}: {e}")),
        None => default.ok_or_else(|| format!("missing {key}")),
    }
}

fn check_big(ck: &mut Checker<'_>, key: &str, got: i64) {
    if let Some(v) = ck.expect.and_then(|e| e.get(key)) {
        match big(v) {
            Ok(want) if want == got => {}
            _ => ck.errors.push(format!("{key}: got {got}, want {v}")),
        }
    }
}

/// The bytes of a header value: `value` (a string) or `value_bytes` (an
/// array of byte values, for non-ASCII input).
fn value_arg(step: &Map<String, Value>) -> Res<Vec<u8>> {
    if step.contains_key("value") == step.contains_key("value_bytes") {
        return Err("exactly one of value and value_bytes is needed".into());
    }
    if let Some(v) = step.get("value") {
        return v
            .as_str()
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| "value: not a string".to_owned());
    }
    let bytes = step
        .get("value_bytes")
        .and_then(Value::as_array)
        .ok_or("missing value or value_bytes")?;
    bytes
        .iter()
        .map(|b| {
            b.as_u64()
                .and_then(|x| u8::try_from(x).ok())
                .ok_or_else(|| format!("bad byte {b}"))
        })
        .collect()
}

fn step(policy: *mut rsl_deadline_policy, at: i64, step: &Map<String, Value>) -> Res {
    let op = step.get("op").and_then(Value::as_str).ok_or("missing op")?;
    let mut ck = Checker {
        expect: step.get("expect").and_then(Value::as_object),
        errors: Vec::new(),
    };
    match op {
        "from_timeout" => {
            check_step_keys(step, &["timeout_ns"])?;
            ck.known(&["deadline_ns"]);
            let mut d = 0i64;
            let st = unsafe {
                rsl_deadline_from_timeout_at(
                    at,
                    big_arg(step, "timeout_ns", None)?,
                    &mut d,
                    std::ptr::null_mut(),
                )
            };
            if !check_status(step, st)? {
                return Ok(());
            }
            check_big(&mut ck, "deadline_ns", d);
        }
        "remaining" => {
            check_step_keys(step, &["deadline_ns"])?;
            ck.known(&["remaining_ns", "expired"]);
            if step.contains_key("expect_status") {
                return Err("remaining cannot fail: no expect_status".into());
            }
            let d = big_arg(step, "deadline_ns", None)?;
            check_big(&mut ck, "remaining_ns", rsl_deadline_remaining_at(d, at));
            ck.boolean("expired", rsl_deadline_expired_at(d, at));
        }
        "shrink" => {
            check_step_keys(step, &["remaining_ns", "per_call_timeout_ns"])?;
            ck.known(&["timeout_ns"]);
            let mut t = 0i64;
            let st = unsafe {
                rsl_deadline_shrink(
                    big_arg(step, "remaining_ns", None)?,
                    big_arg(step, "per_call_timeout_ns", None)?,
                    &mut t,
                    std::ptr::null_mut(),
                )
            };
            if !check_status(step, st)? {
                return Ok(());
            }
            check_big(&mut ck, "timeout_ns", t);
        }
        "call" => {
            check_step_keys(step, &["deadline_ns", "per_call_timeout_ns"])?;
            ck.known(&[
                "decision",
                "limited_by",
                "timeout_ns",
                "deadline_ns",
                "remaining_ns",
                "requested_timeout_ns",
            ]);
            let mut plan = rsl_deadline_call_plan::default();
            let st = unsafe {
                rsl_deadline_policy_call_at(
                    policy,
                    at,
                    big_arg(step, "deadline_ns", Some(RSL_DEADLINE_NONE))?,
                    big_arg(step, "per_call_timeout_ns", Some(0))?,
                    &mut plan,
                    std::ptr::null_mut(),
                )
            };
            if !check_status(step, st)? {
                return Ok(());
            }
            ck.named("decision", DECISIONS, plan.decision);
            ck.named("limited_by", LIMITS, plan.limited_by);
            check_big(&mut ck, "timeout_ns", plan.timeout_ns);
            check_big(&mut ck, "deadline_ns", plan.deadline_ns);
            check_big(&mut ck, "remaining_ns", plan.remaining_ns);
            check_big(&mut ck, "requested_timeout_ns", plan.requested_timeout_ns);
        }
        "grpc_encode" | "http_encode" => {
            check_step_keys(step, &["timeout_ns", "buf_len"])?;
            ck.known(&["text"]);
            let timeout = big_arg(step, "timeout_ns", None)?;
            let buf_len = usize::try_from(int_arg(
                step,
                "buf_len",
                i64::from(RSL_DEADLINE_TEXT_BUF_LEN),
            )?)
            .map_err(|e| e.to_string())?;
            let mut buf = vec![b'#'; buf_len + 4];
            let mut len = usize::MAX;
            let st = unsafe {
                if op == "grpc_encode" {
                    rsl_deadline_grpc_timeout_encode(
                        timeout,
                        buf.as_mut_ptr().cast(),
                        buf_len,
                        &mut len,
                        std::ptr::null_mut(),
                    )
                } else {
                    rsl_deadline_http_timeout_encode(
                        timeout,
                        buf.as_mut_ptr().cast(),
                        buf_len,
                        &mut len,
                        std::ptr::null_mut(),
                    )
                }
            };
            if !check_status(step, st)? {
                if buf.iter().any(|b| *b != b'#') {
                    return Err("a failed encode wrote into the buffer".into());
                }
                return Ok(());
            }
            let text = buf.get(..len).ok_or("out_len beyond the buffer")?;
            if buf.get(len) != Some(&0) {
                return Err("the text is not NUL-terminated".into());
            }
            if buf
                .get(len + 1..)
                .is_some_and(|rest| rest.iter().any(|b| *b != b'#'))
            {
                return Err("encode wrote past the NUL".into());
            }
            let text = String::from_utf8_lossy(text).into_owned();
            if let Some(want) = ck.expect.and_then(|e| e.get("text")) {
                if want.as_str() != Some(text.as_str()) {
                    ck.errors.push(format!("text: got {text:?}, want {want}"));
                }
            }
        }
        "grpc_decode" | "http_decode" => {
            check_step_keys(step, &["value", "value_bytes"])?;
            ck.known(&["timeout_ns", "saturated"]);
            let bytes = value_arg(step)?;
            let mut d = rsl_deadline_decoded {
                timeout_ns: -7,
                saturated: 7,
                reserved0: 7,
            };
            let st = unsafe {
                if op == "grpc_decode" {
                    rsl_deadline_grpc_timeout_decode(
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        &mut d,
                        std::ptr::null_mut(),
                    )
                } else {
                    rsl_deadline_http_timeout_decode(
                        bytes.as_ptr().cast(),
                        bytes.len(),
                        &mut d,
                        std::ptr::null_mut(),
                    )
                }
            };
            if !check_status(step, st)? {
                if (d.timeout_ns, d.saturated) != (-7, 7) {
                    return Err("a failed decode wrote its out struct".into());
                }
                return Ok(());
            }
            check_big(&mut ck, "timeout_ns", d.timeout_ns);
            ck.boolean("saturated", d.saturated);
            if d.reserved0 != 0 {
                ck.errors.push("reserved0 not zero".into());
            }
        }
        other => return Err(format!("unknown deadline op {other}")),
    }
    if ck.errors.is_empty() {
        Ok(())
    } else {
        Err(ck.errors.join("; "))
    }
}

pub fn run(s: &Map<String, Value>) -> Res {
    let doc = config::config_doc(s, &[], true)?;
    let h = match config::create(
        s,
        &doc,
        rsl_deadline_policy_config_from_json,
        rsl_deadline_policy_config_to_json,
        Some(|c: &mut rsl_deadline_policy_config| &mut c.reserved0),
        |cfg, out, err| unsafe { rsl_deadline_policy_new(cfg, out, err) },
        |json, out, err| unsafe {
            rsl_deadline_policy_new_from_json(json.as_ptr().cast(), json.len(), out, err)
        },
        rsl_deadline_policy_free,
    )? {
        config::Created::Made(_, h) => h,
        config::Created::Failed(_) => return Ok(()),
    };
    let result = for_each_step(s, |at, st| step(h, at, st));
    unsafe { rsl_deadline_policy_free(h) };
    result
}
