//! The C side of configs as JSON: what every `rsl_<x>_config_from_json`,
//! `rsl_<x>_config_to_json` and `rsl_<x>_new_from_json` shares (reading the
//! caller's bytes, checking the out-struct, writing the text snprintf-style).
//! The format itself is `core::json`'s.

use super::{read_versioned, Failure, FfiResult, VersionedStruct, RSL_ERR_CONFIG_SIZE};
use super::{write_versioned, RSL_MAX_STRUCT_SIZE};
use crate::core::json::{self, JsonConfig};
use std::ffi::c_char;

/// Longest JSON text `rsl_<x>_config_from_json` reads, in bytes (1 MiB). A
/// longer `json_len` is refused before any byte is read.
pub const RSL_CONFIG_JSON_MAX_LEN: usize = 1_048_576;

/// A buffer of this many bytes holds the JSON `rsl_<x>_config_to_json`
/// writes for any valid config of this library version, NUL included.
pub const RSL_CONFIG_JSON_BUF_LEN: usize = 2048;

/// The `json_len` bytes at `json`, within [`RSL_CONFIG_JSON_MAX_LEN`].
pub(crate) fn json_bytes<'a>(json: *const c_char, json_len: usize) -> FfiResult<&'a [u8]> {
    if json.is_null() {
        return Err(Failure::null("json"));
    }
    if json_len > RSL_CONFIG_JSON_MAX_LEN {
        return Err(Failure::argument(
            "json_len",
            format!(
                "{json_len} bytes is longer than a config may be (RSL_CONFIG_JSON_MAX_LEN, {RSL_CONFIG_JSON_MAX_LEN} bytes)"
            ),
        ));
    }
    // SAFETY: `json` holds `json_len` readable bytes (the header's contract).
    Ok(unsafe { std::slice::from_raw_parts(json.cast::<u8>(), json_len) })
}

/// Reads and validates a config document from C.
pub(crate) fn read<C: JsonConfig>(json: *const c_char, json_len: usize) -> FfiResult<C> {
    Ok(json::from_json_bytes(json_bytes(json, json_len)?)?)
}

/// Checks an out-struct before anything is parsed: not NULL, and its
/// `struct_size` set (so a caller's mistake is reported before the
/// document's, and nothing is written on failure).
pub(crate) fn check_out<S: VersionedStruct>(out: *mut S, name: &str) -> FfiResult {
    if out.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: a non-NULL out struct starts with its uint32_t struct_size.
    let size = unsafe { out.cast::<u32>().read() } as usize;
    if size < S::MIN_SIZE || size > RSL_MAX_STRUCT_SIZE as usize {
        return Err(Failure::new(
            RSL_ERR_CONFIG_SIZE,
            format!(
                "{name}.struct_size: set it to sizeof the struct before the call (rsl_<x>_config_init does), got {size}"
            ),
        ));
    }
    Ok(())
}

/// `rsl_<x>_config_from_json`: reads `json` and writes the config to `*out`
/// (its `struct_size` set by the caller) only on success.
pub(crate) fn config_from_json<C, S>(json: *const c_char, json_len: usize, out: *mut S) -> FfiResult
where
    C: JsonConfig,
    S: VersionedStruct + From<C>,
{
    check_out(out, "out")?;
    let cfg: C = read(json, json_len)?;
    write_versioned(out, S::from(cfg), "out")
}

/// `rsl_<x>_config_to_json`: reads the caller's struct like `_new` does
/// (validated), then writes its canonical JSON.
pub(crate) fn config_to_json<C, S>(
    cfg: *const S,
    defaults: S,
    to_core: impl FnOnce(&S) -> FfiResult<C>,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> FfiResult
where
    C: JsonConfig,
    S: VersionedStruct,
{
    if cfg.is_null() {
        return Err(Failure::null("cfg"));
    }
    let raw = read_versioned(cfg, defaults, "cfg")?;
    write_text(&json::to_json(&to_core(&raw)?), buf, buf_len, out_len)
}

/// Writes `text` and a NUL into `buf`, snprintf-style: `*out_len` (may be
/// NULL) always receives the text's length without the NUL; a buffer that
/// cannot hold text and NUL is an error naming `buf_len` and is left
/// untouched. `buf` may be NULL only with `buf_len` 0 (a size query).
pub(crate) fn write_text(
    text: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> FfiResult {
    let bytes = text.as_bytes();
    if !out_len.is_null() {
        // SAFETY: a non-NULL out_len points to a writable size_t (contract).
        unsafe { out_len.write(bytes.len()) };
    }
    if buf.is_null() && buf_len != 0 {
        return Err(Failure::null("buf"));
    }
    if buf_len <= bytes.len() {
        return Err(Failure::argument(
            "buf_len",
            format!(
                "{buf_len} bytes cannot hold the {}-byte JSON and its NUL; pass at least {} (*out_len + 1; RSL_CONFIG_JSON_BUF_LEN always suffices)",
                bytes.len(),
                bytes.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` holds `buf_len > bytes.len()` writable bytes (contract).
    let dst = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), bytes.len() + 1) };
    for (d, s) in dst.iter_mut().zip(bytes.iter().chain(std::iter::once(&0))) {
        *d = *s;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::{schema, RetryPolicy};

    /// An upper bound on the canonical JSON of any `C`: each key, quoted,
    /// with its colon and comma, and the longest value any field can have
    /// (`"-9223372036854775808"`, `-1.2345678901234567e-308`, the longest
    /// enum name, quoted, is shorter than 26 bytes).
    fn bound<C: JsonConfig>() -> usize {
        2 + schema::<C>()
            .iter()
            .map(|(k, _)| k.len() + 4 + 26)
            .sum::<usize>()
    }

    #[test]
    fn the_buffer_constant_holds_every_config() {
        use crate::core::{
            adaptive_limiter, adaptive_throttle, backoff, breaker, bulkhead, deadline,
            leaky_bucket, retry_budget, token_bucket, window_limiter,
        };
        assert_eq!(RSL_CONFIG_JSON_MAX_LEN, json::MAX_LEN);
        let retry = bound::<RetryPolicy>() + bound::<backoff::BackoffConfig>();
        for (what, n) in [
            ("breaker", bound::<breaker::Config>()),
            ("throttle", bound::<adaptive_throttle::ThrottleConfig>()),
            ("token", bound::<token_bucket::TokenBucketConfig>()),
            ("leaky", bound::<leaky_bucket::LeakyConfig>()),
            ("window", bound::<window_limiter::WindowLimiterConfig>()),
            (
                "limiter",
                bound::<adaptive_limiter::AdaptiveLimiterConfig>(),
            ),
            ("budget", bound::<retry_budget::BudgetConfig>()),
            ("bulkhead", bound::<bulkhead::Config>()),
            ("deadline", bound::<deadline::PolicyConfig>()),
            ("retry", retry),
        ] {
            assert!(n < RSL_CONFIG_JSON_BUF_LEN, "{what}: {n}");
        }
        // The bound is a bound: the breaker's actual defaults are well within.
        assert!(json::to_json(&breaker::Config::default()).len() < bound::<breaker::Config>());
    }

    #[test]
    fn write_text_is_snprintf_like() {
        let mut buf = [0x55 as c_char; 8];
        let mut len = 99usize;
        let small = write_text("abcdefgh", buf.as_mut_ptr(), buf.len(), &mut len);
        assert!(small.is_err_and(|f| f.field() == "buf_len"));
        assert_eq!(len, 8);
        assert!(buf.iter().all(|b| *b == 0x55), "nothing partial is written");
        let query = write_text("abc", std::ptr::null_mut(), 0, &mut len);
        assert!(query.is_err_and(|f| f.field() == "buf_len"));
        assert_eq!(len, 3);
        assert!(
            write_text("abc", std::ptr::null_mut(), 4, &mut len).is_err_and(|f| f.field() == "buf")
        );
        assert!(write_text("abcdefg", buf.as_mut_ptr(), buf.len(), std::ptr::null_mut()).is_ok());
        assert_eq!(buf.last(), Some(&0));
    }
}
