//! The retry policy config as JSON: `rsl_retry_config`'s field names plus a
//! nested `backoff` object (an `rsl_backoff_config`, read over the retry
//! preset's backoff, or over its own `preset`).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::backoff::BackoffConfig;
use crate::core::error::Result;
use crate::core::retry::{RetryConfig, RetryPreset};

const PRESETS: &[(&str, RetryPreset)] = &[
    ("default", RetryPreset::Default),
    ("resilience4j", RetryPreset::Resilience4j),
    ("polly_v8", RetryPreset::PollyV8),
    ("grpc", RetryPreset::Grpc),
    ("aws_standard", RetryPreset::AwsStandard),
    ("failsafe_go", RetryPreset::FailsafeGo),
];

/// A retry policy's whole config: its limits and its backoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RetryPolicy {
    pub(crate) retry: RetryConfig,
    pub(crate) backoff: BackoffConfig,
}

impl JsonConfig for RetryPolicy {
    const WHAT: &'static str = "retry";
    type Preset = RetryPreset;
    const PRESETS: &'static [(&'static str, RetryPreset)] = PRESETS;

    fn start(preset: Option<RetryPreset>) -> Self {
        let (retry, backoff) = RetryConfig::preset(preset.unwrap_or(RetryPreset::Default));
        Self { retry, backoff }
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        let r = &mut self.retry;
        match f.name() {
            "max_attempts" => r.max_attempts = f.u32()?,
            "max_elapsed_ns" => r.max_elapsed_ns = f.duration()?,
            "expected_attempt_ns" => r.expected_attempt_ns = f.duration()?,
            "retry_after_resets" => r.retry_after_resets = f.bool()?,
            "overloaded_on_give_up" => r.overloaded_on_give_up = f.bool()?,
            "backoff" => self.backoff = f.nested(self.backoff)?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            retry:
                RetryConfig {
                    max_attempts,
                    max_elapsed_ns,
                    expected_attempt_ns,
                    retry_after_resets,
                    overloaded_on_give_up,
                },
            backoff,
        } = *self;
        w.u32("max_attempts", max_attempts);
        w.duration("max_elapsed_ns", max_elapsed_ns);
        w.duration("expected_attempt_ns", expected_attempt_ns);
        w.bool("retry_after_resets", retry_after_resets);
        w.bool("overloaded_on_give_up", overloaded_on_give_up);
        w.nested("backoff", &backoff);
    }

    fn check(&self) -> Result<()> {
        self.retry.validate()?;
        self.backoff.validate().map_err(|e| e.nested("backoff"))
    }
}

impl RetryConfig {
    /// Reads a retry policy's config and its backoff from their JSON form
    /// (docs/semantics.md, "Configs as JSON"), and validates both.
    ///
    /// # Errors
    /// `InvalidConfig` naming the key (backoff keys as `backoff.<key>`), or
    /// `json` for the text as a whole.
    pub fn from_json(text: &str) -> Result<(Self, BackoffConfig)> {
        let p: RetryPolicy = super::from_json(text)?;
        Ok((p.retry, p.backoff))
    }

    /// The canonical JSON form of this config with `backoff` nested.
    #[must_use]
    pub fn to_json(&self, backoff: &BackoffConfig) -> String {
        super::to_json(&RetryPolicy {
            retry: *self,
            backoff: *backoff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;
    use crate::core::backoff::{Kind, Preset as BackoffPreset};

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&RetryPolicy::start(Some(*p)));
        }
        let (retry, backoff) = RetryConfig::preset(RetryPreset::Grpc);
        let text = retry.to_json(&backoff);
        assert_eq!(RetryConfig::from_json(&text), Ok((retry, backoff)));
    }

    #[test]
    fn the_backoff_starts_from_the_retry_preset_or_its_own() {
        let (retry, backoff) = RetryConfig::preset(RetryPreset::PollyV8);
        assert_eq!(
            RetryConfig::from_json(r#"{"preset": "polly_v8", "backoff": {"seed": 7}}"#),
            Ok((retry, BackoffConfig { seed: 7, ..backoff }))
        );
        assert_eq!(
            RetryConfig::from_json(
                r#"{"preset": "polly_v8", "backoff": {"preset": "seeds_fixed", "base": "10ms"}}"#
            ),
            Ok((
                retry,
                BackoffConfig {
                    base_ns: 10_000_000,
                    ..BackoffConfig::preset(BackoffPreset::SeedsFixed)
                }
            ))
        );
        assert_eq!(
            RetryConfig::from_json(r#"{"max_elapsed": "1m", "expected_attempt": "250ms"}"#)
                .map(|(r, _)| (r.max_elapsed_ns, r.expected_attempt_ns)),
            Ok((60_000_000_000, 250_000_000))
        );
        assert_eq!(
            RetryConfig::from_json(r#"{"backoff": {"kind": "fixed"}}"#).map(|(_, b)| b.kind),
            Ok(Kind::Fixed)
        );
    }

    #[test]
    fn nested_errors_name_the_full_path() {
        let field = |t: &str| error_of::<RetryPolicy>(t).0;
        assert_eq!(field(r#"{"backoff": {"kind": 42}}"#), "backoff.kind");
        assert_eq!(field(r#"{"backoff": {"bogus": 1}}"#), "backoff.bogus");
        assert_eq!(field(r#"{"backoff": {"factor": 0.5}}"#), "backoff.factor");
        assert_eq!(
            field(r#"{"backoff": {"base": "1", "base_ns": 1}}"#),
            "backoff.base"
        );
        assert_eq!(
            field(r#"{"backoff": {"preset": "grpc"}}"#),
            "backoff.preset"
        );
        assert_eq!(field(r#"{"backoff": 3}"#), "backoff");
        assert_eq!(field(r#"{"budget": {}}"#), "budget");
        assert_eq!(field(r#"{"max_attempts": 0}"#), "max_attempts");
        assert_eq!(field(r#"{"retry_after_resets": 2}"#), "retry_after_resets");
    }
}
