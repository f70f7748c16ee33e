//! The outcome of a protected call, shared by every primitive that records one.

/// What happened to a call that was let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded (for an adaptive throttle: the backend accepted it).
    Success,
    /// The call failed in a way that counts against the dependency.
    Failure,
    /// Neither: a cancellation, a client error, anything that says nothing
    /// about the dependency's health. Ignored outcomes give back any permit.
    Ignored,
}

impl Outcome {
    /// The C ABI value (`RSL_OUTCOME_*`).
    #[must_use]
    pub fn to_raw(self) -> u32 {
        match self {
            Self::Success => 1,
            Self::Failure => 2,
            Self::Ignored => 3,
        }
    }

    /// Parses the C ABI value.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(Self::Success),
            2 => Some(Self::Failure),
            3 => Some(Self::Ignored),
            _ => None,
        }
    }
}
