//! Errors: bad arguments, bad configurations and requests that can never
//! succeed. A decision (denied, open, wait) is never an error.

use std::borrow::Cow;
use std::fmt;

/// Which group of `rsl_status` an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An argument of a call is out of its domain.
    InvalidArgument,
    /// A configuration field is out of its domain or contradicts another.
    InvalidConfig,
    /// The request exceeds what the primitive could ever grant.
    ExceedsCapacity,
}

/// An error naming the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The group.
    pub kind: ErrorKind,
    /// The field or argument at fault, as spelled in the C header; a field
    /// of a nested JSON object by its full path (`backoff.factor`), an
    /// unknown JSON key by its own name.
    pub field: Cow<'static, str>,
    /// What is wrong with it.
    pub message: String,
}

impl Error {
    /// A configuration error on `field`.
    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidConfig,
            field: Cow::Borrowed(field),
            message: message.into(),
        }
    }

    /// An argument error on `field`.
    pub fn argument(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidArgument,
            field: Cow::Borrowed(field),
            message: message.into(),
        }
    }
}

impl Error {
    /// A configuration error on a field named at run time (a JSON key, a
    /// nested path).
    pub fn config_at(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidConfig,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error on a field of a nested object: `factor` becomes
    /// `backoff.factor` under the prefix `backoff`.
    #[must_use]
    pub fn nested(mut self, prefix: &str) -> Self {
        self.field = Cow::Owned(format!("{prefix}.{}", self.field));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Error {}

/// Result type of the core.
pub type Result<T> = std::result::Result<T, Error>;

/// Field validators shared by every config, so every message reads alike.
pub mod check {
    use super::{Error, Result};

    /// `value > 0`.
    pub fn positive_ns(field: &'static str, value: i64) -> Result<()> {
        if value > 0 {
            Ok(())
        } else {
            Err(Error::config(field, format!("must be > 0 ns, got {value}")))
        }
    }

    /// `value >= 0`.
    pub fn non_negative_ns(field: &'static str, value: i64) -> Result<()> {
        if value >= 0 {
            Ok(())
        } else {
            Err(Error::config(
                field,
                format!("must be >= 0 ns, got {value}"),
            ))
        }
    }

    /// `lo <= value <= hi`.
    pub fn count_in(field: &'static str, value: u32, lo: u32, hi: u32) -> Result<()> {
        if (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(Error::config(
                field,
                format!("must be in [{lo}, {hi}], got {value}"),
            ))
        }
    }

    /// A finite ratio in `[0, 1]`.
    pub fn ratio(field: &'static str, value: f64) -> Result<()> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(Error::config(
                field,
                format!("must be a ratio in [0, 1], got {value}"),
            ))
        }
    }
}
