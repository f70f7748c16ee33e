//! The adaptive throttle config as JSON (`rsl_adaptive_throttle_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::adaptive_throttle::{Accounting, ThrottleConfig, ThrottlePreset};
use crate::core::error::Result;

const PRESETS: &[(&str, ThrottlePreset)] = &[
    ("sre_book", ThrottlePreset::SreBook),
    ("kratos", ThrottlePreset::Kratos),
    ("go_zero", ThrottlePreset::GoZero),
];
const ACCOUNTINGS: &[(&str, Accounting)] = &[
    ("on_admit", Accounting::OnAdmit),
    ("on_completion", Accounting::OnCompletion),
];

impl JsonConfig for ThrottleConfig {
    const WHAT: &'static str = "adaptive throttle";
    type Preset = ThrottlePreset;
    const PRESETS: &'static [(&'static str, ThrottlePreset)] = PRESETS;

    fn start(preset: Option<ThrottlePreset>) -> Self {
        Self::preset(preset.unwrap_or(ThrottlePreset::SreBook))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "accounting" => self.accounting = f.choice(ACCOUNTINGS)?,
            "k" => self.k = f.f64()?,
            "window_ns" => self.window_ns = f.duration()?,
            "buckets" => self.buckets = f.u32()?,
            "min_requests" => self.min_requests = f.u32()?,
            "request_offset" => self.request_offset = f.u32()?,
            "count_local_rejections" => self.count_local_rejections = f.bool()?,
            "max_drop_probability" => self.max_drop_probability = f.f64()?,
            "seed" => self.seed = f.u64()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            accounting,
            k,
            window_ns,
            buckets,
            min_requests,
            request_offset,
            count_local_rejections,
            max_drop_probability,
            seed,
        } = *self;
        w.choice("accounting", ACCOUNTINGS, accounting);
        w.f64("k", k);
        w.duration("window_ns", window_ns);
        w.u32("buckets", buckets);
        w.u32("min_requests", min_requests);
        w.u32("request_offset", request_offset);
        w.bool("count_local_rejections", count_local_rejections);
        w.f64("max_drop_probability", max_drop_probability);
        w.u64("seed", seed);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(ThrottleConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&ThrottleConfig::preset(*p));
        }
        round_trip(&ThrottleConfig {
            seed: u64::MAX,
            count_local_rejections: false,
            ..ThrottleConfig::default()
        });
    }

    #[test]
    fn reads_names_units_and_big_seeds() {
        let c = ThrottleConfig::from_json(
            r#"{"preset": "kratos", "accounting": "on_admit", "window": "2s", "seed": "18446744073709551615"}"#,
        );
        assert_eq!(
            c,
            Ok(ThrottleConfig {
                accounting: Accounting::OnAdmit,
                window_ns: 2_000_000_000,
                seed: u64::MAX,
                ..ThrottleConfig::preset(ThrottlePreset::Kratos)
            })
        );
        assert!(ThrottleConfig::default()
            .to_json()
            .contains(r#""count_local_rejections":true"#));
        let big = ThrottleConfig {
            seed: 1 << 60,
            ..ThrottleConfig::default()
        };
        assert!(big.to_json().contains(r#""seed":"1152921504606846976""#));
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<ThrottleConfig>(t).0;
        assert_eq!(field(r#"{"accounting": "sometimes"}"#), "accounting");
        assert_eq!(field(r#"{"preset": "default"}"#), "preset");
        assert_eq!(
            field(r#"{"count_local_rejections": 0}"#),
            "count_local_rejections"
        );
        assert_eq!(field(r#"{"k": 0.5}"#), "k");
        assert_eq!(field(r#"{"window": "1 fortnight"}"#), "window");
        assert_eq!(field(r#"{"seed": -1}"#), "seed");
    }
}
