//! The leaky bucket config as JSON (`rsl_leaky_bucket_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::error::Result;
use crate::core::leaky_bucket::{LeakyConfig, LeakyMode};

const MODES: &[(&str, LeakyMode)] = &[("pacer", LeakyMode::Pacer), ("meter", LeakyMode::Meter)];

impl JsonConfig for LeakyConfig {
    const WHAT: &'static str = "leaky bucket";
    type Preset = ();
    const PRESETS: &'static [(&'static str, ())] = &[];

    fn start(_preset: Option<()>) -> Self {
        Self::default()
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "mode" => self.mode = f.choice(MODES)?,
            "rate" => self.rate = f.u32()?,
            "slack" => self.slack = f.u32()?,
            "per_ns" => self.per_ns = f.duration()?,
            "burst" => self.burst = f.u32()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            mode,
            rate,
            slack,
            per_ns,
            burst,
        } = *self;
        w.choice("mode", MODES, mode);
        w.u32("rate", rate);
        w.u32("slack", slack);
        w.duration("per_ns", per_ns);
        w.u32("burst", burst);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(LeakyConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn round_trips() {
        round_trip(&LeakyConfig::default());
        round_trip(&LeakyConfig {
            mode: LeakyMode::Meter,
            rate: 3,
            per_ns: 7_000_000_000_000_000_001,
            slack: 0,
            burst: 2,
        });
        assert_eq!(
            LeakyConfig::from_json(r#"{"mode": "meter", "rate": 10, "per": "100ms"}"#),
            Ok(LeakyConfig {
                mode: LeakyMode::Meter,
                rate: 10,
                per_ns: 100_000_000,
                ..LeakyConfig::default()
            })
        );
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<LeakyConfig>(t).0;
        assert_eq!(field(r#"{"mode": 3}"#), "mode");
        assert_eq!(field(r#"{"mode": "drip"}"#), "mode");
        assert_eq!(field(r#"{"per": "1"}"#), "per");
        assert_eq!(field(r#"{"rate": 0}"#), "rate");
        assert_eq!(field(r#"{"preset": "uber"}"#), "preset");
    }
}
