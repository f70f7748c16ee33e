//! The breaker config as JSON (`rsl_breaker_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::breaker::{Config, HalfOpenMode, Policy, Preset, WindowKind};
use crate::core::error::Result;

const PRESETS: &[(&str, Preset)] = &[
    ("default", Preset::Default),
    ("resilience4j", Preset::Resilience4j),
    ("polly_v8", Preset::PollyV8),
    ("gobreaker", Preset::Gobreaker),
    ("hystrix", Preset::Hystrix),
    ("sentinel_error_ratio", Preset::SentinelErrorRatio),
    ("sentinel_error_count", Preset::SentinelErrorCount),
    (
        "sentinel_slow_request_ratio",
        Preset::SentinelSlowRequestRatio,
    ),
];
const POLICIES: &[(&str, Policy)] = &[
    ("consecutive", Policy::Consecutive),
    ("rate", Policy::Rate),
    ("external", Policy::External),
];
const WINDOW_KINDS: &[(&str, WindowKind)] =
    &[("count", WindowKind::Count), ("time", WindowKind::Time)];
const HALF_OPEN_MODES: &[(&str, HalfOpenMode)] = &[
    ("successes", HalfOpenMode::Successes),
    ("rate", HalfOpenMode::Rate),
];

impl JsonConfig for Config {
    const WHAT: &'static str = "breaker";
    type Preset = Preset;
    const PRESETS: &'static [(&'static str, Preset)] = PRESETS;

    fn start(preset: Option<Preset>) -> Self {
        Self::preset(preset.unwrap_or(Preset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "policy" => self.policy = f.choice(POLICIES)?,
            "consecutive_failures" => self.consecutive_failures = f.u32()?,
            "window_kind" => self.window_kind = f.choice(WINDOW_KINDS)?,
            "window_size" => self.window_size = f.u32()?,
            "minimum_calls" => self.minimum_calls = f.u32()?,
            "window_ns" => self.window_ns = f.duration()?,
            "failure_rate_threshold" => self.failure_rate_threshold = f.f64()?,
            "slow_call_rate_threshold" => self.slow_call_rate_threshold = f.f64()?,
            "slow_call_duration_ns" => self.slow_call_duration_ns = f.duration()?,
            "failure_count_threshold" => self.failure_count_threshold = f.u32()?,
            "evaluate_on_failure_only" => self.evaluate_on_failure_only = f.bool()?,
            "closed_reset_interval_ns" => self.closed_reset_interval_ns = f.duration()?,
            "wait_duration_ns" => self.wait_duration_ns = f.duration()?,
            "wait_duration_multiplier" => self.wait_duration_multiplier = f.f64()?,
            "max_wait_duration_ns" => self.max_wait_duration_ns = f.duration()?,
            "half_open_mode" => self.half_open_mode = f.choice(HALF_OPEN_MODES)?,
            "half_open_max_calls" => self.half_open_max_calls = f.u32()?,
            "half_open_success_threshold" => self.half_open_success_threshold = f.u32()?,
            "half_open_failure_threshold" => self.half_open_failure_threshold = f.u32()?,
            "permit_lease_ns" => self.permit_lease_ns = f.duration()?,
            "event_capacity" => self.event_capacity = f.u32()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            policy,
            consecutive_failures,
            window_kind,
            window_size,
            window_ns,
            minimum_calls,
            failure_rate_threshold,
            slow_call_rate_threshold,
            slow_call_duration_ns,
            failure_count_threshold,
            evaluate_on_failure_only,
            closed_reset_interval_ns,
            wait_duration_ns,
            wait_duration_multiplier,
            max_wait_duration_ns,
            half_open_mode,
            half_open_max_calls,
            half_open_success_threshold,
            half_open_failure_threshold,
            permit_lease_ns,
            event_capacity,
        } = *self;
        w.choice("policy", POLICIES, policy);
        w.u32("consecutive_failures", consecutive_failures);
        w.choice("window_kind", WINDOW_KINDS, window_kind);
        w.u32("window_size", window_size);
        w.u32("minimum_calls", minimum_calls);
        w.duration("window_ns", window_ns);
        w.f64("failure_rate_threshold", failure_rate_threshold);
        w.f64("slow_call_rate_threshold", slow_call_rate_threshold);
        w.duration("slow_call_duration_ns", slow_call_duration_ns);
        w.u32("failure_count_threshold", failure_count_threshold);
        w.bool("evaluate_on_failure_only", evaluate_on_failure_only);
        w.duration("closed_reset_interval_ns", closed_reset_interval_ns);
        w.duration("wait_duration_ns", wait_duration_ns);
        w.f64("wait_duration_multiplier", wait_duration_multiplier);
        w.duration("max_wait_duration_ns", max_wait_duration_ns);
        w.choice("half_open_mode", HALF_OPEN_MODES, half_open_mode);
        w.u32("half_open_max_calls", half_open_max_calls);
        w.u32("half_open_success_threshold", half_open_success_threshold);
        w.u32("half_open_failure_threshold", half_open_failure_threshold);
        w.duration("permit_lease_ns", permit_lease_ns);
        w.u32("event_capacity", event_capacity);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(Config);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&Config::preset(*p));
        }
        round_trip(&Config {
            evaluate_on_failure_only: true,
            failure_rate_threshold: 0.1 + 0.2,
            wait_duration_multiplier: 1.5,
            ..Config::default()
        });
    }

    #[test]
    fn missing_keys_keep_the_defaults_and_presets_start_the_config() {
        assert_eq!(Config::from_json("{}"), Ok(Config::default()));
        assert_eq!(
            Config::from_json(r#"{"preset": "gobreaker"}"#),
            Ok(Config::preset(Preset::Gobreaker))
        );
        let c = Config::from_json(
            r#"{"consecutive_failures": 3, "preset": "gobreaker", "wait_duration": "1.5s"}"#,
        );
        assert_eq!(
            c,
            Ok(Config {
                consecutive_failures: 3,
                wait_duration_ns: 1_500_000_000,
                ..Config::preset(Preset::Gobreaker)
            })
        );
        assert_eq!(
            Config::from_json(r#"{"wait_duration": "60s", "max_wait_duration": "2m"}"#),
            Config::from_json(
                r#"{"wait_duration_ns": 60000000000, "max_wait_duration_ns": 120000000000}"#
            )
        );
        assert_eq!(
            Config::from_json(r#"{"policy": "rate", "window_kind": "time", "half_open_mode": "rate", "evaluate_on_failure_only": true}"#)
                .map(|c| (c.policy, c.window_kind, c.half_open_mode, c.evaluate_on_failure_only)),
            Ok((Policy::Rate, WindowKind::Time, HalfOpenMode::Rate, true))
        );
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<Config>(t).0;
        assert_eq!(field(r#"{"bogus": 1}"#), "bogus");
        assert_eq!(
            error_of::<Config>(r#"{"bogus": 1}"#).1,
            "unknown key in a breaker config (to_json writes every key)"
        );
        assert_eq!(
            error_of::<Config>(r#"{"wait_duraton": "1s"}"#).1,
            "unknown key in a breaker config; did you mean \"wait_duration\"?"
        );
        assert_eq!(
            error_of::<Config>(r#"{"consecutive_failure": 1}"#).1,
            "unknown key in a breaker config; did you mean \"consecutive_failures\"?"
        );
        assert_eq!(field(r#"{"reserved0": 0}"#), "reserved0");
        assert_eq!(field(r#"{"struct_size": 184}"#), "struct_size");
        assert_eq!(field(r#"{"policy": "sometimes"}"#), "policy");
        assert_eq!(field(r#"{"policy": 1}"#), "policy");
        assert_eq!(field(r#"{"preset": "netflix"}"#), "preset");
        assert_eq!(field(r#"{"preset": 3}"#), "preset");
        assert_eq!(
            field(r#"{"consecutive_failures": "many"}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"consecutive_failures": 2.5}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"consecutive_failures": 3e0}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"consecutive_failures": -1}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"consecutive_failures": 4294967296}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"consecutive_failures": null}"#),
            "consecutive_failures"
        );
        assert_eq!(
            field(r#"{"evaluate_on_failure_only": 1}"#),
            "evaluate_on_failure_only"
        );
        assert_eq!(
            field(r#"{"failure_rate_threshold": "half"}"#),
            "failure_rate_threshold"
        );
        assert_eq!(field(r#"{"wait_duration": "60 parsecs"}"#), "wait_duration");
        assert_eq!(field(r#"{"wait_duration": "60"}"#), "wait_duration");
        assert_eq!(field(r#"{"wait_duration": 60}"#), "wait_duration");
        assert_eq!(field(r#"{"wait_duration_ns": "60s"}"#), "wait_duration_ns");
        assert_eq!(field(r#"{"wait_duration_ns": 1.5e9}"#), "wait_duration_ns");
        assert_eq!(
            field(r#"{"wait_duration_ns": 60000000000, "wait_duration": "60s"}"#),
            "wait_duration"
        );
        assert_eq!(
            field(r#"{"wait_duration": "60s", "wait_duration_ns": 60000000000}"#),
            "wait_duration"
        );
        assert_eq!(
            field(r#"{"window_size": 1, "window_size": 2}"#),
            "window_size"
        );
        assert_eq!(field(r#"{"policy": "consecutive"} x"#), "json");
        // Validation is the breaker's own, on the merged config.
        assert_eq!(
            field(r#"{"consecutive_failures": 0}"#),
            "consecutive_failures"
        );
        assert_eq!(field(r#"{"wait_duration": "0s"}"#), "wait_duration_ns");
        assert_eq!(
            field(r#"{"failure_rate_threshold": "nan", "policy": "rate"}"#),
            "failure_rate_threshold"
        );
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let message = |t: &str| {
            let (f, m) = error_of::<Config>(t);
            format!("{f}: {m}")
        };
        assert_eq!(
            message(r#"{"policy": "sometimes"}"#),
            r#"policy: unknown name "sometimes"; one of "consecutive", "rate", "external""#
        );
        assert_eq!(
            message(r#"{"wait_duration": "60 parsecs"}"#),
            r#"wait_duration: "60 parsecs" is not a duration: unknown unit " parsecs" (use ns, us, ms, s, m or h)"#
        );
        assert_eq!(
            message(r#"{"wait_duration": "60s", "wait_duration_ns": 1}"#),
            "wait_duration: given together with wait_duration_ns; give one of them"
        );
        assert!(message(r#"{"preset": "netflix"}"#).starts_with(
            r#"preset: unknown breaker preset "netflix"; one of "default", "resilience4j""#
        ));
        assert_eq!(
            message(r#"{"evaluate_on_failure_only": 1}"#),
            "evaluate_on_failure_only: must be true or false, got 1"
        );
    }

    #[test]
    fn canonical_form() {
        let text = Config::default().to_json();
        assert!(text.starts_with(r#"{"policy":"consecutive","consecutive_failures":5,"window_kind":"count","window_size":100,"minimum_calls":100,"window_ns":60000000000,"failure_rate_threshold":0.5,"#), "{text}");
        assert!(
            text.ends_with(r#""permit_lease_ns":60000000000,"event_capacity":64}"#),
            "{text}"
        );
    }
}
