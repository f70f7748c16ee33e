//! Request criticality: the four classes of the Google SRE book ("Handling
//! Overload"), as Stubby/gRPC name them, with one wire encoding shared by
//! every language. Rules in `docs/semantics.md` ("Criticality"); vectors in
//! `tests/conformance/criticality/`.

use super::error::{Error, Result};

/// How much a request matters when the service must shed load. Higher is
/// more critical; the numeric values are the wire's numeric form (the
/// values bilibili's Kratos v1 `criticality` package gave them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criticality {
    /// Frequent partial and occasional full unavailability is expected.
    Sheddable = 10,
    /// Partial unavailability is expected (the default for batch jobs).
    SheddablePlus = 20,
    /// The default for production requests: rejecting them is user-visible.
    Critical = 30,
    /// Reserved for the most critical requests; shed last.
    CriticalPlus = 40,
}

impl Default for Criticality {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Criticality {
    /// The level of a request that carries none: `CRITICAL` (the SRE book's
    /// default for production traffic, Kratos v1's `_defaultCriticality`).
    pub const DEFAULT: Self = Self::Critical;

    /// The header that carries a level between services (lower case, as
    /// HTTP/2 requires); its value is [`Criticality::name`].
    pub const HEADER: &'static str = "x-rsl-criticality";

    /// Every level, from the first shed to the last.
    pub const ALL: [Self; 4] = [
        Self::Sheddable,
        Self::SheddablePlus,
        Self::Critical,
        Self::CriticalPlus,
    ];

    /// The numeric form (10, 20, 30, 40), also the C ABI value.
    #[must_use]
    pub fn to_raw(self) -> u32 {
        self as u32
    }

    /// Parses the numeric form; `None` for any other number.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            10 => Self::Sheddable,
            20 => Self::SheddablePlus,
            30 => Self::Critical,
            40 => Self::CriticalPlus,
            _ => return None,
        })
    }

    /// 0 for SHEDDABLE … 3 for CRITICAL_PLUS (index into per-level tables).
    #[must_use]
    pub fn rank(self) -> usize {
        match self {
            Self::Sheddable => 0,
            Self::SheddablePlus => 1,
            Self::Critical => 2,
            Self::CriticalPlus => 3,
        }
    }

    /// The canonical text token, exactly as Stubby/gRPC spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sheddable => "SHEDDABLE",
            Self::SheddablePlus => "SHEDDABLE_PLUS",
            Self::Critical => "CRITICAL",
            Self::CriticalPlus => "CRITICAL_PLUS",
        }
    }

    /// Parses a header value. Leading and trailing spaces and tabs (HTTP
    /// optional whitespace) are ignored; an empty value means "absent" and
    /// gives [`Criticality::DEFAULT`]; a name matches ASCII
    /// case-insensitively; the numeric form is exactly `10`, `20`, `30` or
    /// `40`. Anything else is an `InvalidArgument` error on `value`.
    pub fn parse(value: &[u8]) -> Result<Self> {
        let trimmed = trim_ows(value);
        if trimmed.is_empty() {
            return Ok(Self::DEFAULT);
        }
        for level in Self::ALL {
            if trimmed.eq_ignore_ascii_case(level.name().as_bytes())
                || trimmed == level_number(level).as_bytes()
            {
                return Ok(level);
            }
        }
        Err(Error::argument(
            "value",
            format!(
                "unknown criticality \"{}\"; expected CRITICAL_PLUS, CRITICAL, SHEDDABLE_PLUS, SHEDDABLE (any case) or 40, 30, 20, 10",
                shown(trimmed)
            ),
        ))
    }
}

fn level_number(level: Criticality) -> &'static str {
    match level {
        Criticality::Sheddable => "10",
        Criticality::SheddablePlus => "20",
        Criticality::Critical => "30",
        Criticality::CriticalPlus => "40",
    }
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// At most 40 bytes of the value, escaped, for an error message.
fn shown(v: &[u8]) -> String {
    let head = v.get(..40).unwrap_or(v);
    let mut s = head.escape_ascii().to_string();
    if head.len() < v.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        for level in Criticality::ALL {
            assert_eq!(Criticality::parse(level.name().as_bytes()), Ok(level));
            assert_eq!(Criticality::from_raw(level.to_raw()), Some(level));
        }
        assert!(Criticality::Sheddable < Criticality::CriticalPlus);
        assert_eq!(Criticality::default(), Criticality::Critical);
    }

    #[test]
    fn parse_rules() {
        assert_eq!(
            Criticality::parse(b" \tcritical_plus\t "),
            Ok(Criticality::CriticalPlus)
        );
        assert_eq!(Criticality::parse(b"20"), Ok(Criticality::SheddablePlus));
        assert_eq!(Criticality::parse(b""), Ok(Criticality::Critical));
        assert_eq!(Criticality::parse(b"   "), Ok(Criticality::Critical));
        for bad in [
            &b"CRITICAL PLUS"[..],
            b"020",
            b"+10",
            b"15",
            b"CRITICAL\n",
            b"\xff",
        ] {
            let e = Criticality::parse(bad).err();
            assert!(e.is_some_and(|e| e.field == "value"), "{bad:?}");
        }
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = vec![b'x'; 100];
        let msg = Criticality::parse(&long).err().map(|e| e.to_string());
        assert!(msg.is_some_and(|m| m.contains('…') && m.len() < 200));
    }
}
