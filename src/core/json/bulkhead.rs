//! The bulkhead config as JSON (`rsl_bulkhead_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::bulkhead::{Config, Preset};
use crate::core::error::Result;

const PRESETS: &[(&str, Preset)] = &[
    ("default", Preset::Default),
    ("resilience4j", Preset::Resilience4j),
    ("hystrix", Preset::Hystrix),
    ("failsafe_go", Preset::FailsafeGo),
    ("polly_v8", Preset::PollyV8),
];

impl JsonConfig for Config {
    const WHAT: &'static str = "bulkhead";
    type Preset = Preset;
    const PRESETS: &'static [(&'static str, Preset)] = PRESETS;

    fn start(preset: Option<Preset>) -> Self {
        Self::preset(preset.unwrap_or(Preset::Default))
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "max_concurrent" => self.max_concurrent = f.u32()?,
            "fair" => self.fair = f.bool()?,
            "max_waiters" => self.max_waiters = f.u32()?,
            "max_hold_ns" => self.max_hold_ns = f.duration()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            max_concurrent,
            fair,
            max_waiters,
            max_hold_ns,
        } = *self;
        w.u32("max_concurrent", max_concurrent);
        w.bool("fair", fair);
        w.u32("max_waiters", max_waiters);
        w.duration("max_hold_ns", max_hold_ns);
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
            max_hold_ns: 30_000_000_000,
            max_waiters: 5,
            ..Config::default()
        });
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<Config>(t).0;
        assert_eq!(field(r#"{"fair": 2}"#), "fair");
        assert_eq!(field(r#"{"fair": "yes"}"#), "fair");
        assert_eq!(field(r#"{"max_concurrent": 0}"#), "max_concurrent");
        assert_eq!(
            field(r#"{"max_hold": "30s", "max_hold_ns": 1}"#),
            "max_hold"
        );
        assert_eq!(
            Config::from_json(r#"{"max_hold": "30s"}"#).map(|c| c.max_hold_ns),
            Ok(30_000_000_000)
        );
    }
}
