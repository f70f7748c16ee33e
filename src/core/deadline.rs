//! Deadlines: a request's time budget, kept as an absolute instant on the
//! caller's `now_ns` clock, shrunk for each outgoing call and carried to the
//! next service as a *relative* timeout (`grpc-timeout`, or milliseconds in
//! an HTTP header), so no clock synchronisation is needed between services.
//! The rules are stated in `docs/semantics.md` ("Deadlines") and pinned by
//! `tests/conformance/deadline/`.
//!
//! Everything here is a pure function of its arguments, except the
//! [`Policy`], which only holds a validated configuration (the seeds' "kit
//! default" guard: a default per-call timeout and bounds on configured ones).

use super::error::{check, Error, Result};

/// "No deadline": `remaining` is always `NONE`, it never expires.
///
/// cbindgen:ignore
pub const NONE: i64 = i64::MAX;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000_000_000;

/// The deadline `timeout_ns` after `now`. A deadline that would lie beyond
/// `i64::MAX` is [`NONE`]. Errors: `timeout_ns < 0`.
pub fn from_timeout_at(now: i64, timeout_ns: i64) -> Result<i64> {
    if timeout_ns < 0 {
        return Err(Error::argument(
            "timeout_ns",
            format!("must be >= 0 ns, got {timeout_ns}"),
        ));
    }
    Ok(now.saturating_add(timeout_ns))
}

/// Time left until `deadline` at `now`: negative once it has passed
/// (saturating, never wrapping); [`NONE`] for [`NONE`].
#[must_use]
pub fn remaining_at(deadline: i64, now: i64) -> i64 {
    if deadline == NONE {
        NONE
    } else {
        deadline.saturating_sub(now)
    }
}

/// True once `now >= deadline` (remaining <= 0): deadlines are inclusive.
/// [`NONE`] never expires.
#[must_use]
pub fn expired_at(deadline: i64, now: i64) -> bool {
    deadline != NONE && now >= deadline
}

/// The timeout of one outgoing call: the smaller of the request's
/// `remaining` budget and the call's own timeout. Errors:
/// `per_call_timeout_ns <= 0`.
pub fn shrink(remaining: i64, per_call_timeout_ns: i64) -> Result<i64> {
    if per_call_timeout_ns <= 0 {
        return Err(Error::argument(
            "per_call_timeout_ns",
            format!("must be > 0 ns, got {per_call_timeout_ns}"),
        ));
    }
    Ok(remaining.min(per_call_timeout_ns))
}

/// A timeout as header text (ASCII, at most 20 bytes), without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text {
    buf: [u8; 24],
    len: u8,
}

impl Text {
    fn new() -> Self {
        Self {
            buf: [0; 24],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_decimal(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            if let Some(d) = digits.get_mut(n) {
                // v % 10 < 10, so the cast is exact.
                *d = b'0' + (v % 10) as u8;
            }
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in (0..n).rev() {
            self.push(digits.get(i).copied().unwrap_or(b'0'));
        }
    }

    /// The text's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoded header timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The timeout in ns, `>= 0`; `i64::MAX` when `saturated`.
    pub timeout_ns: i64,
    /// The value exceeded `i64::MAX` ns (about 292 years) and was
    /// saturated: treat it as "no deadline" ([`NONE`] once added to now).
    pub saturated: bool,
}

/// Largest `TimeoutValue`: "at most 8 digits".
///
/// cbindgen:ignore
pub const GRPC_MAX_VALUE: u64 = 99_999_999;

/// gRPC units, finest first: symbol and nanoseconds.
const GRPC_UNITS: [(u8, i64); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', MS),
    (b'S', SECOND),
    (b'M', 60 * SECOND),
    (b'H', 3_600 * SECOND),
];

fn div_ceil(t: i64, unit: i64) -> i64 {
    // t > 0 and unit > 0: no overflow, unlike (t + unit - 1) / unit.
    t / unit + i64::from(t % unit != 0)
}

/// Encodes a timeout as a `grpc-timeout` value (`TimeoutValue TimeoutUnit`,
/// gRPC over HTTP/2). The unit is the coarsest that represents the timeout
/// exactly in at most 8 digits (`1S`, not `1000m`); when none does, the
/// finest in which it fits, the value rounded *up* (grpc-go
/// `EncodeDuration`). The decoded value is the same as "the finest unit in
/// which it fits, rounded up". Errors: `timeout_ns <= 0` (the grammar's
/// TimeoutValue is positive; an expired deadline is not sent, the call
/// fails locally).
pub fn grpc_timeout_encode(timeout_ns: i64) -> Result<Text> {
    if timeout_ns <= 0 {
        return Err(Error::argument(
            "timeout_ns",
            format!(
                "must be > 0 ns, got {timeout_ns}; a deadline that has passed is not sent (fail the call with DEADLINE_EXCEEDED)"
            ),
        ));
    }
    let mut i = GRPC_UNITS.len() - 1;
    while i > 0 && GRPC_UNITS.get(i).is_some_and(|(_, u)| timeout_ns % u != 0) {
        i -= 1;
    }
    let (mut symbol, unit) = GRPC_UNITS.get(i).copied().unwrap_or((b'n', 1));
    let mut value = div_ceil(timeout_ns, unit);
    while u64::try_from(value).map_or(true, |v| v > GRPC_MAX_VALUE) {
        i += 1;
        let Some(&(s, u)) = GRPC_UNITS.get(i) else {
            break;
        };
        symbol = s;
        value = div_ceil(timeout_ns, u);
    }
    let mut text = Text::new();
    text.push_decimal(u64::try_from(value).unwrap_or(0));
    text.push(symbol);
    Ok(text)
}

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// Checks that `digits` are 1.. ASCII digits (no sign, no whitespace).
fn check_digits(digits: &[u8], what: &str) -> Result<()> {
    if digits.is_empty() {
        return Err(Error::argument("value", format!("no digits before {what}")));
    }
    for &b in digits {
        if b.is_ascii_digit() {
            continue;
        }
        let why = if b == b'+' || b == b'-' {
            format!("a sign ({}) is not allowed; only ASCII digits", shown(b))
        } else if b == b' ' || b == b'\t' || b.is_ascii_whitespace() {
            "whitespace is not allowed (strip the header value first)".to_owned()
        } else {
            format!("{} is not an ASCII digit", shown(b))
        };
        return Err(Error::argument("value", why));
    }
    Ok(())
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

fn scale(value: u64, unit: i64) -> Decoded {
    match i64::try_from(value).ok().and_then(|v| v.checked_mul(unit)) {
        Some(ns) => Decoded {
            timeout_ns: ns,
            saturated: false,
        },
        None => Decoded {
            timeout_ns: i64::MAX,
            saturated: true,
        },
    }
}

/// Decodes a `grpc-timeout` value: 1 to 8 ASCII digits then one of
/// `H M S m u n` (case matters), nothing else — no sign, no whitespace (strip
/// the header value before), no other unit. `0` is accepted (grpc-go sends
/// `0S` for a deadline already past) and decodes to an expired timeout. An
/// hour value beyond `i64::MAX` ns saturates, flagged in the result.
/// Errors: a message on `value` saying what is wrong.
pub fn grpc_timeout_decode(value: &[u8]) -> Result<Decoded> {
    let Some((&unit, digits)) = value.split_last() else {
        return Err(Error::argument(
            "value",
            "empty; expected 1 to 8 ASCII digits and a unit (H, M, S, m, u or n)",
        ));
    };
    if unit.is_ascii_whitespace() {
        return Err(Error::argument(
            "value",
            "whitespace is not allowed (strip the header value first)",
        ));
    }
    if unit.is_ascii_digit() {
        return Err(Error::argument(
            "value",
            "missing the unit: expected one of H, M, S, m, u, n after the digits",
        ));
    }
    let Some(&(_, ns)) = GRPC_UNITS.iter().find(|(s, _)| *s == unit) else {
        return Err(Error::argument(
            "value",
            format!(
                "unknown unit {}; expected one of H, M, S, m, u, n (case matters)",
                shown(unit)
            ),
        ));
    };
    check_digits(digits, "the unit")?;
    if digits.len() > 8 {
        return Err(Error::argument(
            "value",
            format!("{} digits; at most 8 are allowed", digits.len()),
        ));
    }
    let v = parse_decimal(digits).unwrap_or(0);
    Ok(scale(v, ns))
}

/// Encodes a timeout as whole milliseconds in decimal, rounded up (so a
/// positive budget never reads as 0): the value format of Envoy's
/// `x-envoy-expected-rq-timeout-ms`, carried in our `x-rsl-timeout-ms`.
/// Errors: `timeout_ns <= 0`.
pub fn http_timeout_encode(timeout_ns: i64) -> Result<Text> {
    if timeout_ns <= 0 {
        return Err(Error::argument(
            "timeout_ns",
            format!("must be > 0 ns, got {timeout_ns}; a deadline that has passed is not sent"),
        ));
    }
    let mut text = Text::new();
    text.push_decimal(u64::try_from(div_ceil(timeout_ns, MS)).unwrap_or(0));
    Ok(text)
}

/// Decodes a millisecond timeout header value: one or more ASCII digits,
/// nothing else. `0` decodes to an expired timeout; a value beyond
/// `i64::MAX` ns saturates, flagged. Errors: empty, a sign, whitespace, a
/// non-digit, or more than fits in 64 bits.
pub fn http_timeout_decode(value: &[u8]) -> Result<Decoded> {
    if value.is_empty() {
        return Err(Error::argument(
            "value",
            "empty; expected a whole number of milliseconds in ASCII digits",
        ));
    }
    check_digits(value, "the end")?;
    let v = parse_decimal(value).ok_or_else(|| {
        Error::argument("value", "does not fit in 64 bits; not a plausible timeout")
    })?;
    Ok(scale(v, MS))
}

/// Named presets for the deadline policy (`RSL_DEADLINE_PRESET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyPreset {
    /// The seeds' kit guard: default 100 ms, per-call timeouts in
    /// [1 ms, 10 s].
    Default = 0,
    /// Resilience4j `TimeLimiterConfig` default `timeoutDuration` 1 s.
    Resilience4j = 1,
    /// Polly v8 `TimeoutStrategyOptions`: 30 s, valid range [10 ms, 1 day].
    PollyV8 = 2,
    /// afex/hystrix-go `DefaultTimeout` 1000 ms.
    Hystrix = 3,
}

impl PolicyPreset {
    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Default,
            1 => Self::Resilience4j,
            2 => Self::PollyV8,
            3 => Self::Hystrix,
            _ => return None,
        })
    }
}

/// Deadline policy configuration (see `rsl_deadline_policy_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyConfig {
    /// The per-call timeout when the caller gives none (> 0).
    pub default_timeout_ns: i64,
    /// Configured per-call timeouts below this are refused; 0 = no floor.
    pub min_timeout_ns: i64,
    /// Configured per-call timeouts above this are refused; 0 = no ceiling.
    pub max_timeout_ns: i64,
    /// A call is not started with less of the request's budget left; 0 =
    /// only an expired deadline stops it.
    pub min_budget_ns: i64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self::preset(PolicyPreset::Default)
    }
}

impl PolicyConfig {
    /// The configuration of a named preset.
    #[must_use]
    pub fn preset(preset: PolicyPreset) -> Self {
        let none = Self {
            default_timeout_ns: SECOND,
            min_timeout_ns: 0,
            max_timeout_ns: 0,
            min_budget_ns: 0,
        };
        match preset {
            PolicyPreset::Default => Self {
                default_timeout_ns: 100 * MS,
                min_timeout_ns: MS,
                max_timeout_ns: 10 * SECOND,
                min_budget_ns: 0,
            },
            PolicyPreset::Resilience4j | PolicyPreset::Hystrix => none,
            PolicyPreset::PollyV8 => Self {
                default_timeout_ns: 30 * SECOND,
                min_timeout_ns: 10 * MS,
                max_timeout_ns: 86_400 * SECOND,
                min_budget_ns: 0,
            },
        }
    }

    /// Checks every field; the error names the first offending one.
    pub fn validate(&self) -> Result<()> {
        check::positive_ns("default_timeout_ns", self.default_timeout_ns)?;
        check::non_negative_ns("min_timeout_ns", self.min_timeout_ns)?;
        check::non_negative_ns("max_timeout_ns", self.max_timeout_ns)?;
        check::non_negative_ns("min_budget_ns", self.min_budget_ns)?;
        if self.max_timeout_ns > 0 && self.max_timeout_ns < self.min_timeout_ns {
            return Err(Error::config(
                "max_timeout_ns",
                format!(
                    "must be 0 (no ceiling) or >= min_timeout_ns ({}), got {}",
                    self.min_timeout_ns, self.max_timeout_ns
                ),
            ));
        }
        if self.default_timeout_ns < self.min_timeout_ns
            || (self.max_timeout_ns > 0 && self.default_timeout_ns > self.max_timeout_ns)
        {
            return Err(Error::config(
                "default_timeout_ns",
                format!(
                    "{} lies outside [min_timeout_ns, max_timeout_ns] = [{}, {}]",
                    self.default_timeout_ns,
                    self.min_timeout_ns,
                    if self.max_timeout_ns == 0 {
                        "none".to_owned()
                    } else {
                        self.max_timeout_ns.to_string()
                    }
                ),
            ));
        }
        Ok(())
    }
}

/// What to do about an outgoing call (`RSL_DEADLINE_CALL_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Make the call with `timeout_ns` and propagate it.
    Proceed = 1,
    /// The request's deadline has passed: fail with DEADLINE_EXCEEDED.
    Expired = 2,
    /// Less than `min_budget_ns` is left: do not start the call.
    Insufficient = 3,
    /// The per-call timeout exceeds `max_timeout_ns`: a misconfiguration,
    /// refused rather than clamped.
    AboveMax = 4,
    /// The per-call timeout is below `min_timeout_ns`: a misconfiguration
    /// (often a unit slip), refused rather than raised.
    BelowMin = 5,
}

/// Which bound set the call's timeout (`RSL_DEADLINE_LIMIT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Not proceeding.
    None = 0,
    /// The per-call (or default) timeout was the smaller.
    CallTimeout = 1,
    /// The request's remaining budget was strictly smaller.
    Deadline = 2,
}

/// The plan for one outgoing call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallPlan {
    /// What to do.
    pub decision: Decision,
    /// Which bound won (`Proceed` only).
    pub limited_by: Limit,
    /// `Proceed`: the call's timeout, `min(requested, remaining)`; else 0.
    pub timeout_ns: i64,
    /// `Proceed`: the call's own deadline, `now + timeout_ns`; else 0.
    pub deadline_ns: i64,
    /// The request's remaining budget at `now` ([`NONE`] without deadline).
    pub remaining_ns: i64,
    /// The per-call timeout considered: the caller's, or the default.
    pub requested_timeout_ns: i64,
}

/// A validated deadline policy. Immutable: share it freely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    cfg: PolicyConfig,
}

impl Policy {
    /// A policy over a checked configuration.
    pub fn new(cfg: PolicyConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self { cfg })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }

    /// Plans an outgoing call at `now` under the request's `deadline`
    /// ([`NONE`] if it has none) with the call's own timeout
    /// (`per_call_timeout_ns`, 0 = the default). Checks, in order: the
    /// timeout's bounds (configuration defects, reported whatever the time),
    /// then expiry, then the minimum budget. Errors:
    /// `per_call_timeout_ns < 0`.
    pub fn call_at(&self, now: i64, deadline: i64, per_call_timeout_ns: i64) -> Result<CallPlan> {
        if per_call_timeout_ns < 0 {
            return Err(Error::argument(
                "per_call_timeout_ns",
                format!("must be >= 0 ns (0 = default_timeout_ns), got {per_call_timeout_ns}"),
            ));
        }
        let requested = if per_call_timeout_ns == 0 {
            self.cfg.default_timeout_ns
        } else {
            per_call_timeout_ns
        };
        let remaining = remaining_at(deadline, now);
        let refuse = |decision| CallPlan {
            decision,
            limited_by: Limit::None,
            timeout_ns: 0,
            deadline_ns: 0,
            remaining_ns: remaining,
            requested_timeout_ns: requested,
        };
        if self.cfg.max_timeout_ns > 0 && requested > self.cfg.max_timeout_ns {
            return Ok(refuse(Decision::AboveMax));
        }
        if requested < self.cfg.min_timeout_ns {
            return Ok(refuse(Decision::BelowMin));
        }
        if remaining <= 0 {
            return Ok(refuse(Decision::Expired));
        }
        if remaining < self.cfg.min_budget_ns {
            return Ok(refuse(Decision::Insufficient));
        }
        let (timeout, limited_by) = if remaining < requested {
            (remaining, Limit::Deadline)
        } else {
            (requested, Limit::CallTimeout)
        };
        Ok(CallPlan {
            decision: Decision::Proceed,
            limited_by,
            timeout_ns: timeout,
            deadline_ns: now.saturating_add(timeout),
            remaining_ns: remaining,
            requested_timeout_ns: requested,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn enc(t: i64) -> String {
        grpc_timeout_encode(t).unwrap().to_string()
    }

    fn dec(s: &str) -> Result<Decoded> {
        grpc_timeout_decode(s.as_bytes())
    }

    #[test]
    fn grpc_encode_matches_grpc_go() {
        assert_eq!(enc(1), "1n");
        assert_eq!(enc(SECOND), "1S");
        assert_eq!(enc(200 * MS), "200m");
        assert_eq!(enc(1_500 * MS), "1500m");
        assert_eq!(enc(99_999_999), "99999999n");
        assert_eq!(enc(100_000_001), "100001u");
        assert_eq!(enc(3_600 * SECOND), "1H");
        assert_eq!(enc(i64::MAX), "2562048H");
    }

    #[test]
    fn grpc_encode_value_equals_finest_fitting_unit_rounded_up() {
        for t in [
            1,
            7,
            999,
            1_000,
            123_456_789,
            99_999_999_001,
            4 * SECOND + 1,
            i64::MAX / 3,
        ] {
            let finest = GRPC_UNITS
                .iter()
                .map(|&(s, u)| (s, div_ceil(t, u)))
                .find(|&(_, v)| v <= 99_999_999)
                .unwrap();
            let d = dec(&enc(t)).unwrap();
            let unit = GRPC_UNITS.iter().find(|(s, _)| *s == finest.0).unwrap().1;
            assert_eq!(d.timeout_ns, finest.1 * unit, "{t}");
            assert!(d.timeout_ns >= t);
        }
    }

    #[test]
    fn grpc_decode_rejects_each_bad_value() {
        for (v, needle) in [
            ("", "empty"),
            ("123456789S", "9 digits"),
            ("1.5S", "'.' is not an ASCII digit"),
            ("1x", "unknown unit 'x'"),
            ("1s", "unknown unit 's'"),
            ("+1S", "sign"),
            ("-1S", "sign"),
            (" 1S", "whitespace"),
            ("1S ", "whitespace"),
            ("1 S", "whitespace"),
            ("S", "no digits"),
            ("100", "missing the unit"),
        ] {
            let e = dec(v).unwrap_err();
            assert_eq!(e.field, "value");
            assert!(e.message.contains(needle), "{v:?}: {e}");
        }
    }

    #[test]
    fn grpc_decode_saturates_hours() {
        let max_hours = i64::MAX / (3_600 * SECOND);
        assert_eq!(
            dec(&format!("{max_hours}H")).unwrap(),
            Decoded {
                timeout_ns: max_hours * 3_600 * SECOND,
                saturated: false
            }
        );
        assert!(dec(&format!("{}H", max_hours + 1)).unwrap().saturated);
        assert!(dec("99999999H").unwrap().saturated);
        assert!(!dec("99999999M").unwrap().saturated);
    }

    #[test]
    fn http_round_trip() {
        assert_eq!(http_timeout_encode(1).unwrap().as_str(), "1");
        assert_eq!(http_timeout_encode(1_500 * MS).unwrap().as_str(), "1500");
        assert_eq!(
            http_timeout_encode(i64::MAX).unwrap().as_str(),
            "9223372036855"
        );
        assert!(http_timeout_decode(b"9223372036855").unwrap().saturated);
        assert_eq!(
            http_timeout_decode(b"9223372036854").unwrap().timeout_ns,
            9_223_372_036_854 * MS
        );
        assert!(http_timeout_decode(b"99999999999999999999").is_err());
    }

    #[test]
    fn policy_orders_its_checks() {
        let p = Policy::new(PolicyConfig {
            min_budget_ns: 50 * MS,
            ..PolicyConfig::default()
        })
        .unwrap();
        let plan = p.call_at(200 * MS, SECOND, 500 * MS).unwrap();
        assert_eq!(
            (plan.decision, plan.limited_by, plan.timeout_ns),
            (Decision::Proceed, Limit::CallTimeout, 500 * MS)
        );
        let plan = p.call_at(700 * MS, SECOND, 500 * MS).unwrap();
        assert_eq!(
            (plan.limited_by, plan.timeout_ns, plan.deadline_ns),
            (Limit::Deadline, 300 * MS, SECOND)
        );
        assert_eq!(
            p.call_at(960 * MS, SECOND, 0).unwrap().decision,
            Decision::Insufficient
        );
        assert_eq!(
            p.call_at(SECOND, SECOND, 0).unwrap().decision,
            Decision::Expired
        );
        assert_eq!(
            p.call_at(SECOND, SECOND, 60 * SECOND).unwrap().decision,
            Decision::AboveMax
        );
        assert_eq!(
            p.call_at(0, NONE, 100).unwrap().decision,
            Decision::BelowMin
        );
        assert!(p.call_at(0, NONE, -1).is_err());
    }
}
