//! The window limiter config as JSON (`rsl_window_limiter_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::error::Result;
use crate::core::window_limiter::{Mode, WindowLimiterConfig, WindowPreset};

const PRESETS: &[(&str, WindowPreset)] = &[
    ("default", WindowPreset::Default),
    ("sentinel", WindowPreset::Sentinel),
    ("resilience4j", WindowPreset::Resilience4j),
];
const MODES: &[(&str, Mode)] = &[
    ("fixed", Mode::Fixed),
    ("sliding_buckets", Mode::SlidingBuckets),
    ("sliding_weighted", Mode::SlidingWeighted),
];

impl JsonConfig for WindowLimiterConfig {
    const WHAT: &'static str = "window limiter";
    type Preset = WindowPreset;
    const PRESETS: &'static [(&'static str, WindowPreset)] = PRESETS;

    fn start(preset: Option<WindowPreset>) -> Self {
        Self::preset(preset.unwrap_or(WindowPreset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "mode" => self.mode = f.choice(MODES)?,
            "window_ns" => self.window_ns = f.duration()?,
            "limit" => self.limit = f.u32()?,
            "buckets" => self.buckets = f.u32()?,
            "sheddable_share_permille" => self.sheddable_share_permille = f.u32()?,
            "sheddable_plus_share_permille" => self.sheddable_plus_share_permille = f.u32()?,
            "critical_share_permille" => self.critical_share_permille = f.u32()?,
            "max_reservations" => self.max_reservations = f.u32()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            mode,
            window_ns,
            limit,
            buckets,
            sheddable_share_permille,
            sheddable_plus_share_permille,
            critical_share_permille,
            max_reservations,
        } = *self;
        w.choice("mode", MODES, mode);
        w.duration("window_ns", window_ns);
        w.u32("limit", limit);
        w.u32("buckets", buckets);
        w.u32("sheddable_share_permille", sheddable_share_permille);
        w.u32(
            "sheddable_plus_share_permille",
            sheddable_plus_share_permille,
        );
        w.u32("critical_share_permille", critical_share_permille);
        w.u32("max_reservations", max_reservations);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(WindowLimiterConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn every_preset_round_trips() {
        for (_, p) in PRESETS {
            round_trip(&WindowLimiterConfig::preset(*p));
        }
        for (_, m) in MODES {
            round_trip(&WindowLimiterConfig {
                mode: *m,
                ..WindowLimiterConfig::default()
            });
        }
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<WindowLimiterConfig>(t).0;
        assert_eq!(field(r#"{"mode": "sliding"}"#), "mode");
        assert_eq!(field(r#"{"window": "0s"}"#), "window_ns");
        assert_eq!(field(r#"{"limit": true}"#), "limit");
        assert_eq!(
            WindowLimiterConfig::from_json(r#"{"preset": "sentinel", "limit": 7}"#)
                .map(|c| c.limit),
            Ok(7)
        );
    }
}
