//! Loading a scenario's config: every runner reads it through the library's
//! own JSON parser (`rsl_<x>_config_from_json`), the one a binding and a
//! user's policy file use, so the runners hold no per-field config code.

use super::{status_by_name, Res};
use resilience::ffi::json::RSL_CONFIG_JSON_BUF_LEN;
use resilience::ffi::*;
use serde_json::{Map, Value};
use std::ffi::{c_char, CStr};
use std::fmt::Debug;

/// The scenario's config document and what the runner applies itself.
pub struct ConfigDoc {
    /// The JSON text: the scenario's `config` object with its `preset`.
    pub json: String,
    /// `struct_size` / `reserved0` from `config`: not JSON config keys (they
    /// describe the C struct), set on the struct after parsing, so that a
    /// scenario can reach the struct path's own checks.
    pub struct_size: Option<u32>,
    pub reserved0: Option<u32>,
    /// Keys the runner handles itself (retry's `budget`), taken out.
    pub runner_keys: Map<String, Value>,
}

impl ConfigDoc {
    pub fn overrides_struct(&self) -> bool {
        self.struct_size.is_some() || self.reserved0.is_some()
    }
}

fn u32_value(key: &str, v: &Value) -> Res<u32> {
    v.as_u64()
        .and_then(|x| u32::try_from(x).ok())
        .ok_or_else(|| format!("config.{key}: expected a uint32_t, got {v}"))
}

/// Builds the document of a scenario (`s`): `config` (an object, or none)
/// plus the scenario's `preset`; `runner_keys` names the keys of `config`
/// the runner handles itself; `reserved0` whether the struct has one.
pub fn config_doc(s: &Map<String, Value>, runner_keys: &[&str], reserved0: bool) -> Res<ConfigDoc> {
    let mut doc = match s.get("config") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("config: expected an object, got {other}")),
    };
    let mut out = ConfigDoc {
        json: String::new(),
        struct_size: None,
        reserved0: None,
        runner_keys: Map::new(),
    };
    if let Some(v) = doc.remove("struct_size") {
        out.struct_size = Some(u32_value("struct_size", &v)?);
    }
    if reserved0 {
        if let Some(v) = doc.remove("reserved0") {
            out.reserved0 = Some(u32_value("reserved0", &v)?);
        }
    }
    for k in runner_keys {
        if let Some(v) = doc.remove(*k) {
            out.runner_keys.insert((*k).to_owned(), v);
        }
    }
    if let Some(p) = s.get("preset") {
        if doc.contains_key("preset") {
            return Err("preset: given both in the scenario and in its config".into());
        }
        doc.insert("preset".to_owned(), p.clone());
    }
    out.json = Value::Object(doc).to_string();
    Ok(out)
}

pub type FromJson<T> =
    unsafe extern "C" fn(*const c_char, usize, *mut T, *mut rsl_error) -> rsl_status;
pub type ToJson<T> =
    unsafe extern "C" fn(*const T, *mut c_char, usize, *mut usize, *mut rsl_error) -> rsl_status;

/// An `rsl_error` no call has written.
pub fn no_error() -> rsl_error {
    // SAFETY: plain data; all-zero is a valid (empty) rsl_error.
    unsafe { std::mem::zeroed() }
}

pub fn error_field(e: &rsl_error) -> String {
    // SAFETY: the library NUL-terminates the field it writes; no_error() is zeroed.
    unsafe { CStr::from_ptr(e.field.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

pub fn error_message(e: &rsl_error) -> String {
    // SAFETY: as above.
    unsafe { CStr::from_ptr(e.message.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// A zeroed config struct with its `struct_size` set, ready for from_json.
pub fn sized<T: Copy>() -> T {
    // SAFETY: the config structs are plain data; all-zero is a valid bit pattern.
    let mut t: T = unsafe { std::mem::zeroed() };
    let size = u32::try_from(std::mem::size_of::<T>()).unwrap();
    // SAFETY: every config struct starts with its uint32_t struct_size.
    unsafe { std::ptr::addr_of_mut!(t).cast::<u32>().write(size) };
    t
}

/// `to_json` of a struct (which must succeed: it came from from_json).
pub fn to_text<T>(cfg: &T, to_json: ToJson<T>) -> Res<String> {
    let mut buf = vec![0 as c_char; RSL_CONFIG_JSON_BUF_LEN];
    let mut len = 0usize;
    let mut err = no_error();
    let st = unsafe { to_json(cfg, buf.as_mut_ptr(), buf.len(), &mut len, &mut err) };
    if st != RSL_OK {
        return Err(format!("to_json failed: {}", error_message(&err)));
    }
    let bytes: Vec<u8> = buf.iter().take(len).map(|c| *c as u8).collect();
    String::from_utf8(bytes).map_err(|e| format!("to_json: not UTF-8: {e}"))
}

/// Reads `doc` with `from_json` into a fresh struct; on success checks that
/// the struct round-trips (to_json, then from_json, gives the same struct)
/// and applies the struct-level overrides.
pub fn load<T: Copy + Debug>(
    doc: &ConfigDoc,
    from_json: FromJson<T>,
    to_json: ToJson<T>,
    reserved0: Option<fn(&mut T) -> &mut u32>,
) -> Res<Result<T, rsl_error>> {
    let mut cfg: T = sized();
    let mut err = no_error();
    let st = unsafe { from_json(doc.json.as_ptr().cast(), doc.json.len(), &mut cfg, &mut err) };
    if st != RSL_OK {
        if err.status != st {
            return Err(format!(
                "from_json returned {st} but err.status is {}",
                err.status
            ));
        }
        return Ok(Err(err));
    }
    let text = to_text(&cfg, to_json)?;
    let mut again: T = sized();
    let st = unsafe { from_json(text.as_ptr().cast(), text.len(), &mut again, &mut err) };
    if st != RSL_OK || format!("{again:?}") != format!("{cfg:?}") {
        return Err(format!(
            "the config does not round-trip through its JSON {text}"
        ));
    }
    if let Some(size) = doc.struct_size {
        // SAFETY: struct_size is the first field of every config struct.
        unsafe { std::ptr::addr_of_mut!(cfg).cast::<u32>().write(size) };
    }
    if let (Some(v), Some(field)) = (doc.reserved0, reserved0) {
        *field(&mut cfg) = v;
    }
    Ok(Ok(cfg))
}

/// Checks a creation's outcome against the scenario's `expect_status` /
/// `expect_error_field` (the latter against `err.field`, exactly).
/// `Ok(true)` = created, go on; `Ok(false)` = failed as expected.
pub fn check_created(s: &Map<String, Value>, st: rsl_status, err: &rsl_error) -> Res<bool> {
    let want = match s.get("expect_status") {
        None => RSL_OK,
        Some(v) => status_by_name(v.as_str().ok_or("expect_status: not a string")?)?,
    };
    let field = s.get("expect_error_field");
    if st != want {
        let detail = if st == RSL_OK {
            String::new()
        } else {
            error_message(err)
        };
        return Err(format!("creation: status {st}, want {want}: {detail}"));
    }
    if st == RSL_OK {
        if field.is_some() {
            return Err("expect_error_field needs a failing expect_status".into());
        }
        return Ok(true);
    }
    if err.status != st {
        return Err(format!(
            "creation: err.status {} for status {st}",
            err.status
        ));
    }
    if let Some(field) = field {
        let field = field.as_str().ok_or("expect_error_field: not a string")?;
        let got = error_field(err);
        if got != field {
            return Err(format!(
                "creation: err.field {got:?}, want {field:?} (message {:?})",
                error_message(err)
            ));
        }
    }
    if s.get("steps")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty())
    {
        return Err("a scenario whose creation fails must have no steps".into());
    }
    Ok(false)
}

/// How a scenario's primitive was created.
pub enum Created<T, H> {
    /// Made from the struct `cfg` (also made, and freed, from the JSON).
    Made(T, *mut H),
    /// Failed as the scenario expects; the struct if the JSON was read.
    Failed(Option<T>),
}

/// Creates a scenario's primitive: the document through `from_json` (round
/// trip checked), the struct overrides, then `new` on the struct. When the
/// struct is not overridden, `new_from_json` on the document must give the
/// same status and error field (its handle is freed).
#[allow(clippy::too_many_arguments)]
pub fn create<T: Copy + Debug, H>(
    s: &Map<String, Value>,
    doc: &ConfigDoc,
    from_json: FromJson<T>,
    to_json: ToJson<T>,
    reserved0: Option<fn(&mut T) -> &mut u32>,
    new: impl Fn(&T, *mut *mut H, *mut rsl_error) -> rsl_status,
    new_from_json: impl Fn(&str, *mut *mut H, *mut rsl_error) -> rsl_status,
    free: unsafe extern "C" fn(*mut H),
) -> Res<Created<T, H>> {
    let (st, err, cfg, h) = match load(doc, from_json, to_json, reserved0)? {
        Err(err) => (err.status, err, None, std::ptr::null_mut()),
        Ok(cfg) => {
            let mut h: *mut H = std::ptr::null_mut();
            let mut err = no_error();
            let st = new(&cfg, &mut h, &mut err);
            (st, err, Some(cfg), h)
        }
    };
    if !doc.overrides_struct() {
        let mut h2: *mut H = std::ptr::null_mut();
        let mut err2 = no_error();
        let st2 = new_from_json(&doc.json, &mut h2, &mut err2);
        if st2 == RSL_OK {
            unsafe { free(h2) };
        }
        if st2 != st || (st != RSL_OK && error_field(&err2) != error_field(&err)) {
            if st == RSL_OK {
                unsafe { free(h) };
            }
            return Err(format!(
                "new_from_json disagrees with from_json + new: status {st2} ({}) vs {st} ({})",
                error_message(&err2),
                error_message(&err)
            ));
        }
    }
    match check_created(s, st, &err) {
        Ok(true) => Ok(Created::Made(cfg.ok_or("created without a config")?, h)),
        Ok(false) => Ok(Created::Failed(cfg)),
        Err(e) => {
            if st == RSL_OK {
                unsafe { free(h) };
            }
            Err(e)
        }
    }
}
