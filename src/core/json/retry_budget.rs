//! The retry budget config as JSON (`rsl_retry_budget_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::error::Result;
use crate::core::retry_budget::{BudgetConfig, BudgetKind, BudgetPreset};

const PRESETS: &[(&str, BudgetPreset)] = &[
    ("tower", BudgetPreset::Tower),
    ("sre", BudgetPreset::Sre),
    ("envoy", BudgetPreset::Envoy),
    ("failsafe_go", BudgetPreset::FailsafeGo),
    ("grpc", BudgetPreset::Grpc),
    ("aws_standard", BudgetPreset::AwsStandard),
];
const KINDS: &[(&str, BudgetKind)] = &[
    ("ratio", BudgetKind::Ratio),
    ("tokens", BudgetKind::Tokens),
    ("quota", BudgetKind::Quota),
];

impl JsonConfig for BudgetConfig {
    const WHAT: &'static str = "retry budget";
    type Preset = BudgetPreset;
    const PRESETS: &'static [(&'static str, BudgetPreset)] = PRESETS;

    fn start(preset: Option<BudgetPreset>) -> Self {
        Self::preset(preset.unwrap_or(BudgetPreset::Tower))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "kind" => self.kind = f.choice(KINDS)?,
            "ratio" => self.ratio = f.f64()?,
            "window_ns" => self.window_ns = f.duration()?,
            "buckets" => self.buckets = f.u32()?,
            "min_per_sec" => self.min_per_sec = f.u32()?,
            "max_tokens" => self.max_tokens = f.u32()?,
            "quota_capacity" => self.quota_capacity = f.u32()?,
            "token_ratio" => self.token_ratio = f.f64()?,
            "retry_cost" => self.retry_cost = f.u32()?,
            "timeout_cost" => self.timeout_cost = f.u32()?,
            "success_increment" => self.success_increment = f.u32()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            kind,
            ratio,
            window_ns,
            buckets,
            min_per_sec,
            max_tokens,
            quota_capacity,
            token_ratio,
            retry_cost,
            timeout_cost,
            success_increment,
        } = *self;
        w.choice("kind", KINDS, kind);
        w.f64("ratio", ratio);
        w.duration("window_ns", window_ns);
        w.u32("buckets", buckets);
        w.u32("min_per_sec", min_per_sec);
        w.u32("max_tokens", max_tokens);
        w.u32("quota_capacity", quota_capacity);
        w.f64("token_ratio", token_ratio);
        w.u32("retry_cost", retry_cost);
        w.u32("timeout_cost", timeout_cost);
        w.u32("success_increment", success_increment);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(BudgetConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&BudgetConfig::preset(*p));
        }
        round_trip(&BudgetConfig {
            ratio: 0.333_333,
            token_ratio: 0.001,
            ..BudgetConfig::default()
        });
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<BudgetConfig>(t).0;
        assert_eq!(field(r#"{"kind": 9}"#), "kind");
        assert_eq!(field(r#"{"kind": "leaky"}"#), "kind");
        assert_eq!(field(r#"{"preset": "finagle"}"#), "preset");
        assert_eq!(field(r#"{"window": "10 s"}"#), "window");
        assert_eq!(
            BudgetConfig::from_json(r#"{"preset": "grpc", "max_tokens": 5}"#)
                .map(|c| (c.kind, c.max_tokens)),
            Ok((BudgetKind::Tokens, 5))
        );
    }
}
