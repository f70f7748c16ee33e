//! The adaptive limiter config as JSON (`rsl_adaptive_limiter_config`'s
//! field names: the four level factors are separate fields in C).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::adaptive_limiter::{AdaptiveLimiterConfig, CpuSource, LimiterPreset};
use crate::core::error::Result;

const PRESETS: &[(&str, LimiterPreset)] = &[
    ("default", LimiterPreset::Default),
    ("kratos", LimiterPreset::Kratos),
];
const CPU_SOURCES: &[(&str, CpuSource)] = &[
    ("manual", CpuSource::Manual),
    ("sampler", CpuSource::Sampler),
];
/// `level_permille[i]`'s C name, lowest criticality first.
const LEVELS: [&str; 4] = [
    "sheddable_permille",
    "sheddable_plus_permille",
    "critical_permille",
    "critical_plus_permille",
];

impl JsonConfig for AdaptiveLimiterConfig {
    const WHAT: &'static str = "adaptive limiter";
    type Preset = LimiterPreset;
    const PRESETS: &'static [(&'static str, LimiterPreset)] = PRESETS;

    fn start(preset: Option<LimiterPreset>) -> Self {
        Self::preset(preset.unwrap_or(LimiterPreset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "cpu_source" => self.cpu_source = f.choice(CPU_SOURCES)?,
            "window_ns" => self.window_ns = f.duration()?,
            "buckets" => self.buckets = f.u32()?,
            "cpu_threshold_permille" => self.cpu_threshold_permille = f.u32()?,
            "cooldown_ns" => self.cooldown_ns = f.duration()?,
            "count_failures" => self.count_failures = f.bool()?,
            name => match LEVELS.iter().position(|l| *l == name) {
                Some(i) => {
                    let v = f.u32()?;
                    if let Some(slot) = self.level_permille.get_mut(i) {
                        *slot = v;
                    }
                }
                None => return Err(unreadable(f)),
            },
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            cpu_source,
            window_ns,
            buckets,
            cpu_threshold_permille,
            cooldown_ns,
            count_failures,
            level_permille,
        } = *self;
        w.choice("cpu_source", CPU_SOURCES, cpu_source);
        w.duration("window_ns", window_ns);
        w.u32("buckets", buckets);
        w.u32("cpu_threshold_permille", cpu_threshold_permille);
        w.duration("cooldown_ns", cooldown_ns);
        w.bool("count_failures", count_failures);
        for (name, v) in LEVELS.iter().zip(level_permille) {
            w.u32(name, v);
        }
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(AdaptiveLimiterConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&AdaptiveLimiterConfig::preset(*p));
        }
        round_trip(&AdaptiveLimiterConfig {
            cpu_source: CpuSource::Manual,
            level_permille: [1, 2, 3, 4],
            count_failures: true,
            ..AdaptiveLimiterConfig::default()
        });
    }

    #[test]
    fn levels_are_their_c_fields() {
        let c = AdaptiveLimiterConfig::from_json(
            r#"{"sheddable_permille": 100, "sheddable_plus_permille": 200, "critical_permille": 300, "critical_plus_permille": 400, "cooldown": "500ms"}"#,
        );
        assert_eq!(
            c.map(|c| (c.level_permille, c.cooldown_ns)),
            Ok(([100, 200, 300, 400], 500_000_000))
        );
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<AdaptiveLimiterConfig>(t).0;
        assert_eq!(field(r#"{"cpu_source": 0}"#), "cpu_source");
        assert_eq!(field(r#"{"cpu_source": "cgroup"}"#), "cpu_source");
        assert_eq!(field(r#"{"count_failures": 2}"#), "count_failures");
        assert_eq!(
            field(r#"{"level_permille": [1, 2, 3, 4]}"#),
            "level_permille"
        );
        assert_eq!(
            field(r#"{"sheddable_permille": 2000}"#),
            "sheddable_permille"
        );
    }
}
