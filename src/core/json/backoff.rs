//! The backoff config as JSON (`rsl_backoff_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::backoff::{BackoffConfig, Jitter, Kind, Preset};
use crate::core::error::Result;

const PRESETS: &[(&str, Preset)] = &[
    ("default", Preset::Default),
    ("seeds_jitter", Preset::SeedsJitter),
    ("seeds_fixed", Preset::SeedsFixed),
    ("grpc_connection", Preset::GrpcConnection),
    ("grpc_retry", Preset::GrpcRetry),
    ("grpc_retry_full_jitter", Preset::GrpcRetryFullJitter),
    ("aws_standard", Preset::AwsStandard),
    ("aws_full_jitter", Preset::AwsFullJitter),
    ("aws_equal_jitter", Preset::AwsEqualJitter),
    ("aws_decorrelated", Preset::AwsDecorrelated),
    ("polly_v8", Preset::PollyV8),
    (
        "polly_v8_decorrelated_jitter",
        Preset::PollyV8DecorrelatedJitter,
    ),
    ("resilience4j", Preset::Resilience4j),
    (
        "resilience4j_exponential_random",
        Preset::Resilience4jExponentialRandom,
    ),
];
const KINDS: &[(&str, Kind)] = &[
    ("fixed", Kind::Fixed),
    ("linear", Kind::Linear),
    ("exponential", Kind::Exponential),
    ("grpc_connection", Kind::GrpcConnection),
    ("aws_full_jitter", Kind::AwsFullJitter),
    ("aws_equal_jitter", Kind::AwsEqualJitter),
    ("aws_decorrelated", Kind::AwsDecorrelated),
    ("aws_standard", Kind::AwsStandard),
    ("polly_decorrelated_v2", Kind::PollyDecorrelatedV2),
    ("r4j_exponential_random", Kind::R4jExponentialRandom),
];
const JITTERS: &[(&str, Jitter)] = &[
    ("none", Jitter::None),
    ("proportional", Jitter::Proportional),
    ("symmetric", Jitter::Symmetric),
    ("full", Jitter::Full),
    ("equal", Jitter::Equal),
];

impl JsonConfig for BackoffConfig {
    const WHAT: &'static str = "backoff";
    type Preset = Preset;
    const PRESETS: &'static [(&'static str, Preset)] = PRESETS;

    fn start(preset: Option<Preset>) -> Self {
        Self::preset(preset.unwrap_or(Preset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "kind" => self.kind = f.choice(KINDS)?,
            "jitter" => self.jitter = f.choice(JITTERS)?,
            "clamp_jittered" => self.clamp_jittered = f.bool()?,
            "base_ns" => self.base_ns = f.duration()?,
            "max_ns" => self.max_ns = f.duration()?,
            "increment_ns" => self.increment_ns = f.duration()?,
            "factor" => self.factor = f.f64()?,
            "jitter_factor" => self.jitter_factor = f.f64()?,
            "seed" => self.seed = f.u64()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            kind,
            jitter,
            clamp_jittered,
            base_ns,
            max_ns,
            increment_ns,
            factor,
            jitter_factor,
            seed,
        } = *self;
        w.choice("kind", KINDS, kind);
        w.choice("jitter", JITTERS, jitter);
        w.bool("clamp_jittered", clamp_jittered);
        w.duration("base_ns", base_ns);
        w.duration("max_ns", max_ns);
        w.duration("increment_ns", increment_ns);
        w.f64("factor", factor);
        w.f64("jitter_factor", jitter_factor);
        w.u64("seed", seed);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(BackoffConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&BackoffConfig::preset(*p));
        }
        round_trip(&BackoffConfig {
            max_ns: i64::MAX,
            seed: 42,
            jitter: Jitter::Symmetric,
            jitter_factor: 0.25,
            clamp_jittered: true,
            ..BackoffConfig::default()
        });
    }

    #[test]
    fn no_max_is_int64_max_as_a_string() {
        let c = BackoffConfig {
            max_ns: i64::MAX,
            ..BackoffConfig::default()
        };
        assert!(c.to_json().contains(r#""max_ns":"9223372036854775807""#));
        assert_eq!(
            BackoffConfig::from_json(r#"{"max_ns": "9223372036854775807"}"#),
            Ok(c)
        );
        assert_eq!(
            BackoffConfig::from_json(r#"{"kind": "linear", "base": "100ms", "increment": "50ms"}"#)
                .map(|c| (c.kind, c.base_ns, c.increment_ns)),
            Ok((Kind::Linear, 100_000_000, 50_000_000))
        );
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<BackoffConfig>(t).0;
        assert_eq!(field(r#"{"kind": 99}"#), "kind");
        assert_eq!(field(r#"{"jitter": "some"}"#), "jitter");
        assert_eq!(field(r#"{"clamp_jittered": 2}"#), "clamp_jittered");
        assert_eq!(
            field(r#"{"factor": 1.000001, "max_ns": "9223372036854775807"}"#),
            "factor"
        );
        assert_eq!(field(r#"{"preset": "exponential"}"#), "preset");
        assert_eq!(field(r#"{"max": "no_max"}"#), "max");
    }
}
