//! The token bucket config as JSON (`rsl_token_bucket_config`'s field names).

use super::{unreadable, Field, JsonConfig, Writer};
use crate::core::error::Result;
use crate::core::token_bucket::{TokenBucketConfig, INF};

/// `"inf"` is `RSL_TOKEN_BUCKET_INF` (DBL_MAX), x/time/rate's `Inf`.
const RATE_NAMES: &[(&str, f64)] = &[("inf", INF)];

impl JsonConfig for TokenBucketConfig {
    const WHAT: &'static str = "token bucket";
    type Preset = ();
    const PRESETS: &'static [(&'static str, ())] = &[];

    fn start(_preset: Option<()>) -> Self {
        Self::default()
    }

    fn set(&mut self, f: &Field<'_>) -> Result<()> {
        match f.name() {
            "rate_per_sec" => self.rate_per_sec = f.f64_with(RATE_NAMES)?,
            "burst" => self.burst = f.i64()?,
            _ => return Err(unreadable(f)),
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            rate_per_sec,
            burst,
        } = *self;
        w.f64_with("rate_per_sec", rate_per_sec, RATE_NAMES);
        w.i64("burst", burst);
    }

    fn check(&self) -> Result<()> {
        self.validate()
    }
}

json_methods!(TokenBucketConfig);

#[cfg(test)]
mod tests {
    use super::super::tests::{error_of, round_trip};
    use super::*;

    #[test]
    fn round_trips_and_inf_is_a_name() {
        round_trip(&TokenBucketConfig::default());
        round_trip(&TokenBucketConfig {
            rate_per_sec: 0.1,
            burst: i64::MAX,
        });
        let inf = TokenBucketConfig {
            rate_per_sec: INF,
            burst: 1,
        };
        round_trip(&inf);
        assert_eq!(inf.to_json(), r#"{"rate_per_sec":"inf","burst":1}"#);
        assert_eq!(
            TokenBucketConfig::from_json(r#"{"rate_per_sec": 1.7976931348623157e308, "burst": 1}"#),
            Ok(inf)
        );
        assert_eq!(
            TokenBucketConfig {
                rate_per_sec: 10.0,
                burst: 1 << 60
            }
            .to_json(),
            r#"{"rate_per_sec":10.0,"burst":"1152921504606846976"}"#
        );
    }

    #[test]
    fn errors_name_the_key() {
        let field = |t: &str| error_of::<TokenBucketConfig>(t).0;
        assert_eq!(field(r#"{"rate_per_sec": "+inf"}"#), "rate_per_sec");
        assert_eq!(field(r#"{"rate_per_sec": "nan"}"#), "rate_per_sec");
        assert_eq!(field(r#"{"rate_per_sec": "fast"}"#), "rate_per_sec");
        assert_eq!(field(r#"{"burst": -1}"#), "burst");
        assert_eq!(field(r#"{"burst": 1.5}"#), "burst");
        let (f, m) = error_of::<TokenBucketConfig>(r#"{"preset": "default"}"#);
        assert_eq!(
            (f.as_str(), m.as_str()),
            ("preset", "a token bucket config has no presets")
        );
    }
}
