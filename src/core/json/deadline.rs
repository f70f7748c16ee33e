//! The deadline policy config as JSON (`rsl_deadline_policy_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::deadline::{PolicyConfig, PolicyPreset};
use crate::core::error::Result;

const PRESETS: &[(&str, PolicyPreset)] = &[
    ("default", PolicyPreset::Default),
    ("resilience4j", PolicyPreset::Resilience4j),
    ("polly_v8", PolicyPreset::PollyV8),
    ("hystrix", PolicyPreset::Hystrix),
];

impl JsonConfig for PolicyConfig {
    const WHAT: &'static str = "deadline policy";
    type Preset = PolicyPreset;
    const PRESETS: &'static [(&'static str, PolicyPreset)] = PRESETS;

    fn start(preset: Option<PolicyPreset>) -> Self {
        Self::preset(preset.unwrap_or(PolicyPreset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "default_timeout_ns" => self.default_timeout_ns = f.duration()?,
            "min_timeout_ns" => self.min_timeout_ns = f.duration()?,
            "max_timeout_ns" => self.max_timeout_ns = f.duration()?,
            "min_budget_ns" => self.min_budget_ns = f.duration()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            default_timeout_ns,
            min_timeout_ns,
            max_timeout_ns,
            min_budget_ns,
        } = *self;
        w.duration("default_timeout_ns", default_timeout_ns);
        w.duration("min_timeout_ns", min_timeout_ns);
        w.duration("max_timeout_ns", max_timeout_ns);
        w.duration("min_budget_ns", min_budget_ns);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(PolicyConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&PolicyConfig::preset(*p));
        }
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<PolicyConfig>(t).0;
        assert_eq!(field(r#"{"default_timeout": "0s"}"#), "default_timeout_ns");
        assert_eq!(field(r#"{"default_timeout": "100"}"#), "default_timeout");
        assert_eq!(field(r#"{"preset": "grpc"}"#), "preset");
        assert_eq!(field(r#"{"reserved0": 1}"#), "reserved0");
        assert_eq!(
            PolicyConfig::from_json(r#"{"default_timeout": "250ms"}"#)
                .map(|c| c.default_timeout_ns),
            Ok(250_000_000)
        );
    }
}
