//! C ABI of request criticality (`rsl_criticality_*`), over
//! `core::criticality`: the four SRE levels, their wire encoding, and the
//! argument the limiters take.

use super::{guard, out_ref, rsl_error, rsl_status, Failure, FfiResult};
use crate::core::criticality::Criticality;
use std::ffi::{c_char, CStr};

/// A request's criticality (`RSL_CRITICALITY_*`): higher is more critical.
/// The value is also the wire's numeric form.
pub type rsl_criticality = u32;
/// Shed first: frequent partial and occasional full unavailability is expected.
pub const RSL_CRITICALITY_SHEDDABLE: rsl_criticality = 10;
/// Partial unavailability is expected (the default for batch jobs).
pub const RSL_CRITICALITY_SHEDDABLE_PLUS: rsl_criticality = 20;
/// The default for production requests.
pub const RSL_CRITICALITY_CRITICAL: rsl_criticality = 30;
/// Shed last: the most critical requests.
pub const RSL_CRITICALITY_CRITICAL_PLUS: rsl_criticality = 40;
/// The level of a request that carries none (`RSL_CRITICALITY_CRITICAL`).
pub const RSL_CRITICALITY_DEFAULT: rsl_criticality = 30;
/// A level from its C value, or an `InvalidArgument` failure naming `field`.
pub(crate) fn level(field: &str, raw: rsl_criticality) -> FfiResult<Criticality> {
    Criticality::from_raw(raw).ok_or_else(|| {
        Failure::argument(
            field,
            format!("unknown level {raw}; use RSL_CRITICALITY_* (10, 20, 30, 40)"),
        )
    })
}

/// Parses a header value of `len` bytes at `value` (not necessarily
/// NUL-terminated) into `*out_level`: leading and trailing spaces and tabs
/// are ignored; the names `CRITICAL_PLUS`, `CRITICAL`, `SHEDDABLE_PLUS`,
/// `SHEDDABLE` match in any ASCII case; the numeric forms are exactly `40`,
/// `30`, `20`, `10`. An absent value (`len == 0`, `value` may then be NULL)
/// or one of only spaces and tabs gives `RSL_CRITICALITY_DEFAULT`.
/// Errors: `RSL_ERR_NULL_ARGUMENT` (`out_level`, or `value` with `len > 0`);
/// `RSL_ERR_INVALID_ARGUMENT` for anything else (message starts `value:`),
/// and then `*out_level` is untouched. Thread-safe; nothing is retained.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn rsl_criticality_parse(
    value: *const c_char,
    len: usize,
    out_level: *mut rsl_criticality,
    err: *mut rsl_error,
) -> rsl_status {
    guard(err, || {
        let out = out_ref(out_level, "out_level")?;
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if value.is_null() {
            return Err(Failure::null("value"));
        } else {
            // SAFETY: `value` points to `len` readable bytes (contract).
            unsafe { std::slice::from_raw_parts(value.cast::<u8>(), len) }
        };
        *out = Criticality::parse(bytes)?.to_raw();
        Ok(())
    })
}

/// The canonical header token of `level` ("CRITICAL_PLUS", "CRITICAL",
/// "SHEDDABLE_PLUS", "SHEDDABLE"): static, NUL-terminated, never freed.
/// Returns NULL for a value that is not a level. Thread-safe.
#[no_mangle]
pub extern "C" fn rsl_criticality_name(level: rsl_criticality) -> *const c_char {
    let text: &'static CStr = match Criticality::from_raw(level) {
        Some(Criticality::Sheddable) => c"SHEDDABLE",
        Some(Criticality::SheddablePlus) => c"SHEDDABLE_PLUS",
        Some(Criticality::Critical) => c"CRITICAL",
        Some(Criticality::CriticalPlus) => c"CRITICAL_PLUS",
        None => return std::ptr::null(),
    };
    text.as_ptr()
}

/// The name of the header (HTTP/1, HTTP/2, gRPC metadata) that carries a
/// level between services: "x-rsl-criticality", in lower case as HTTP/2
/// requires. Send `rsl_criticality_name(level)` as its value; parse what
/// arrives with `rsl_criticality_parse`. Static, never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn rsl_criticality_header() -> *const c_char {
    CRITICALITY_HEADER.as_ptr()
}

const CRITICALITY_HEADER: &CStr = c"x-rsl-criticality";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_names_match_the_core() {
        let header = unsafe { CStr::from_ptr(rsl_criticality_header()) };
        assert_eq!(header.to_str().ok(), Some(Criticality::HEADER));
        for level in Criticality::ALL {
            let name = unsafe { CStr::from_ptr(rsl_criticality_name(level.to_raw())) };
            assert_eq!(name.to_str().ok(), Some(level.name()));
        }
        assert!(rsl_criticality_name(0).is_null());
        assert_eq!(RSL_CRITICALITY_DEFAULT, Criticality::DEFAULT.to_raw());
    }
}
