//! Configs as JSON: the one reader and writer every primitive's
//! `from_json` / `to_json` goes through (the format is specified in
//! `docs/semantics.md`, "Configs as JSON").
//!
//! - A config is a JSON object whose keys are the C config struct's field
//!   names. A missing key keeps the default (or the preset's value, with
//!   `"preset": "<name>"`); an unknown key, a key given twice or a value of
//!   the wrong type is an error naming the key (nested keys by their full
//!   path, `backoff.factor`).
//! - A field whose C name ends in `_ns` takes an integer count of
//!   nanoseconds; the same name without `_ns` takes a string with a unit
//!   (`"wait_duration": "60s"`), read exactly ([`parse_duration_ns`]).
//!   Giving both is an error.
//! - Integers are read exactly (a JSON number with a fraction or an
//!   exponent is not an integer) and may also be decimal strings, for values
//!   beyond 2^53 that not every JSON parser reads exactly. Doubles are read
//!   bit-exactly (serde_json's `float_roundtrip`).
//! - Enums and presets by their lower-case names; booleans as true/false.
//!
//! `to_json` writes the canonical form: every field, in the C struct's
//! order, durations as `_ns` integers, enums by name, integers beyond 2^53
//! as decimal strings. It reads back to the same config.

/// The public `from_json` / `to_json` of a config type with a [`JsonConfig`]
/// impl: one definition for every primitive.
macro_rules! json_methods {
    ($config:ty) => {
        impl $config {
            /// Reads a config from its JSON form (docs/semantics.md, "Configs as
            /// JSON") and validates it.
            ///
            /// # Errors
            /// `InvalidConfig` naming the key (or `json` for the text as a whole).
            pub fn from_json(text: &str) -> Result<Self> {
                super::from_json(text)
            }

            /// The canonical JSON form: every field, durations in `_ns`, enums by name.
            #[must_use]
            pub fn to_json(&self) -> String {
                super::to_json(self)
            }
        }
    };
}

mod adaptive_limiter;
mod adaptive_throttle;
mod backoff;
mod breaker;
mod bulkhead;
mod deadline;
mod leaky_bucket;
mod retry;
mod retry_budget;
mod token_bucket;
mod window_limiter;

pub(crate) use retry::RetryPolicy;

use super::error::{Error, Result};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// Longest JSON text a config is read from (1 MiB): a config is a few
/// hundred bytes, and a bound refuses a corrupt length before anything is
/// read.
pub const MAX_LEN: usize = 1 << 20;

/// The field named by errors about the JSON text as a whole (its syntax,
/// its encoding, its length, a top level that is not an object).
pub const DOCUMENT: &str = "json";

/// Integers with a larger magnitude are written as decimal strings: not
/// every JSON parser reads them exactly.
const JSON_SAFE_INT: i128 = (1 << 53) - 1;

// ---------------------------------------------------------------------------
// The document tree.

/// A parsed JSON value. Objects keep their keys in document order, with
/// duplicates, so that a key given twice is reported instead of silently
/// taking the last value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// A JSON number written as an integer (no fraction, no exponent) that
    /// fits in 64 bits.
    Int(i128),
    /// Any other JSON number, read bit-exactly.
    Float(f64),
    Str(String),
    Array,
    Object(Vec<(String, Node)>),
}

impl Node {
    /// What the value is, for messages.
    fn describe(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(f) => format!("{f:?}"),
            Node::Str(s) => format!("{s:?}"),
            Node::Array => "an array".to_owned(),
            Node::Object(_) => "an object".to_owned(),
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> std::result::Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Node, E> {
        Ok(Node::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Node, E> {
        Ok(Node::Int(i128::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        while seq.next_element::<Node>()?.is_some() {}
        Ok(Node::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::Object(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Parses a config document: a JSON object, at most [`MAX_LEN`] bytes.
/// Errors name [`DOCUMENT`] and, for a syntax error, the line and column.
pub(crate) fn parse_object(text: &str) -> Result<Vec<(String, Node)>> {
    if text.len() > MAX_LEN {
        return Err(too_long(text.len()));
    }
    match serde_json::from_str::<Node>(text) {
        Ok(Node::Object(entries)) => Ok(entries),
        Ok(other) => Err(Error::config(
            DOCUMENT,
            format!("a config is a JSON object, got {}", other.describe()),
        )),
        Err(e) => Err(Error::config(DOCUMENT, format!("not valid JSON: {e}"))),
    }
}

/// Parses JSON bytes (from C): UTF-8 is checked first, naming the offset of
/// the first invalid byte.
pub(crate) fn parse_object_bytes(bytes: &[u8]) -> Result<Vec<(String, Node)>> {
    if bytes.len() > MAX_LEN {
        return Err(too_long(bytes.len()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_object(text),
        Err(e) => Err(Error::config(
            DOCUMENT,
            format!("not UTF-8: invalid byte at offset {}", e.valid_up_to()),
        )),
    }
}

fn too_long(len: usize) -> Error {
    Error::config(
        DOCUMENT,
        format!("{len} bytes is longer than a config may be ({MAX_LEN} bytes)"),
    )
}

// ---------------------------------------------------------------------------
// Reading fields.

/// One `key: value` of a config object, as a config reads it.
pub(crate) struct Field<'a> {
    /// The key as written.
    key: &'a str,
    /// The C field name: the key, or `key_ns` for a duration with a unit.
    name: &'static str,
    /// The path of the enclosing object (`""` at the top).
    prefix: &'a str,
    node: &'a Node,
}

impl<'a> Field<'a> {
    /// The C field name this key sets.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The key's full path, as errors name it.
    fn path(&self) -> Cow<'static, str> {
        if self.prefix.is_empty() {
            Cow::Owned(self.key.to_owned())
        } else {
            Cow::Owned(format!("{}.{}", self.prefix, self.key))
        }
    }

    /// An error on this key.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::config_at(self.path(), message)
    }

    fn wrong(&self, want: &str) -> Error {
        self.error(format!("must be {want}, got {}", self.node.describe()))
    }

    /// Any integer, exactly: a JSON integer or a string of decimal digits.
    fn integer(&self, lo: i128, hi: i128) -> Result<i128> {
        let v = match self.node {
            Node::Int(i) => *i,
            Node::Str(s) => parse_decimal(s).ok_or_else(|| {
                self.error(format!(
                    "must be an integer (a JSON integer or a string of decimal digits), got {s:?}"
                ))
            })?,
            Node::Float(_) => {
                return Err(self.wrong("an integer (no fraction, no exponent)"));
            }
            _ => return Err(self.wrong("an integer")),
        };
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.error(format!("must be an integer in [{lo}, {hi}], got {v}")))
        }
    }

    /// A `uint32_t` field.
    pub(crate) fn u32(&self) -> Result<u32> {
        let v = self.integer(0, i128::from(u32::MAX))?;
        u32::try_from(v).map_err(|_| self.wrong("a uint32_t"))
    }

    /// A `uint64_t` field.
    pub(crate) fn u64(&self) -> Result<u64> {
        let v = self.integer(0, i128::from(u64::MAX))?;
        u64::try_from(v).map_err(|_| self.wrong("a uint64_t"))
    }

    /// An `int64_t` field that is not a duration.
    pub(crate) fn i64(&self) -> Result<i64> {
        let v = self.integer(i128::from(i64::MIN), i128::from(i64::MAX))?;
        i64::try_from(v).map_err(|_| self.wrong("an int64_t"))
    }

    /// A duration: under its `_ns` name an integer count of nanoseconds,
    /// under its name without `_ns` a string with a unit.
    pub(crate) fn duration(&self) -> Result<i64> {
        if self.key.ends_with("_ns") {
            if let Node::Str(s) = self.node {
                if parse_decimal(s).is_none() && parse_duration_ns(s).is_ok() {
                    return Err(self.error(format!(
                        "is a count of nanoseconds; write \"{}\": {s:?} for a duration with a unit",
                        self.key.trim_end_matches("_ns")
                    )));
                }
            }
            return self.i64();
        }
        match self.node {
            Node::Str(s) => parse_duration_ns(s)
                .map_err(|why| self.error(format!("{s:?} is not a duration: {why}"))),
            _ => Err(self.error(format!(
                "must be a string with a unit (\"250ms\", \"60s\"), got {}; or give {} in nanoseconds",
                self.node.describe(),
                self.name
            ))),
        }
    }

    /// A `double` field: a JSON number, exactly, or `"nan"`, `"+inf"`,
    /// `"-inf"` (the IEEE values, which the config's validation judges).
    pub(crate) fn f64(&self) -> Result<f64> {
        self.f64_with(&[])
    }

    /// A `double` field that also accepts the named values in `names`.
    pub(crate) fn f64_with(&self, names: &[(&str, f64)]) -> Result<f64> {
        match self.node {
            Node::Float(f) => Ok(*f),
            Node::Int(i) => {
                let f = *i as f64;
                if f as i128 == *i {
                    Ok(f)
                } else {
                    Err(self.error(format!(
                        "{i} is not exactly a double; write the double you mean"
                    )))
                }
            }
            Node::Str(s) => {
                let special = [
                    ("nan", f64::NAN),
                    ("+inf", f64::INFINITY),
                    ("-inf", f64::NEG_INFINITY),
                ];
                names
                    .iter()
                    .chain(special.iter())
                    .find(|(n, _)| n == s)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| {
                        let mut all: Vec<String> =
                            names.iter().map(|(n, _)| format!("{n:?}")).collect();
                        all.extend(special.iter().map(|(n, _)| format!("{n:?}")));
                        self.error(format!(
                            "must be a number or one of {}, got {s:?}",
                            all.join(", ")
                        ))
                    })
            }
            _ => Err(self.wrong("a number")),
        }
    }

    /// A boolean (`uint32_t` 0/1 in C): `true` or `false`.
    pub(crate) fn bool(&self) -> Result<bool> {
        match self.node {
            Node::Bool(b) => Ok(*b),
            _ => Err(self.wrong("true or false")),
        }
    }

    /// An enum field by its name in `table`.
    pub(crate) fn choice<T: Copy>(&self, table: &[(&str, T)]) -> Result<T> {
        let names = || {
            table
                .iter()
                .map(|(n, _)| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.node {
            Node::Str(s) => table
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, v)| *v)
                .ok_or_else(|| self.error(format!("unknown name {s:?}; one of {}", names()))),
            _ => Err(self.error(format!(
                "must be a name, one of {}; got {}",
                names(),
                self.node.describe()
            ))),
        }
    }

    /// A nested config object of type `C`, read over `start` (or over its
    /// own `"preset"`).
    pub(crate) fn nested<C: JsonConfig>(&self, start: C) -> Result<C> {
        match self.node {
            Node::Object(entries) => {
                let path = self.path();
                read_object(entries, &path, Some(start))
            }
            _ => Err(self.wrong("an object")),
        }
    }
}

/// `[-]digits`, exactly, within 64 bits.
fn parse_decimal(s: &str) -> Option<i128> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i128>().ok()
}

// ---------------------------------------------------------------------------
// Durations with units.

const UNITS: &[(&str, i128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Reads a duration with units into exact nanoseconds: an optional sign and
/// one or more `<number><unit>` parts, as Go's `time.ParseDuration` writes
/// them (`"60s"`, `"250ms"`, `"1.5s"`, `"1h30m"`, `"-10us"`). Units: `ns`,
/// `us` (or `µs`), `ms`, `s`, `m`, `h`. Every number carries a unit (even
/// zero); a fraction must come to a whole number of nanoseconds; the total
/// must fit in an `int64_t`.
///
/// # Errors
/// What is wrong, in words (the caller names the field).
pub fn parse_duration_ns(text: &str) -> std::result::Result<i64, String> {
    let units = "ns, us, ms, s, m or h";
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..).unwrap_or("")),
        Some(b'+') => (false, text.get(1..).unwrap_or("")),
        _ => (false, text),
    };
    if rest.is_empty() {
        return Err(format!("empty; write a number and a unit ({units})"));
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after) = rest.split_at(int_len);
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(format!("expected a number at {:?}", rest));
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!("a number needs a unit ({units})"));
        }
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(|| format!("unknown unit {unit:?} (use {units})"))?;
        let int: i128 = if int_digits.is_empty() {
            0
        } else if int_digits.len() > 20 {
            return Err("out of range for int64_t nanoseconds".to_owned());
        } else {
            int_digits
                .parse()
                .map_err(|_| "out of range for int64_t nanoseconds".to_owned())?
        };
        let frac = frac_digits.trim_end_matches('0');
        let frac_ns = if frac.is_empty() {
            0
        } else {
            // A fraction of k significant digits is a whole number of ns
            // only if 10^k divides digits·scale; with scale <= 3.6e12 that
            // needs k <= 13, so longer fractions are refused outright.
            if frac.len() > 18 {
                return Err("the fraction is not a whole number of nanoseconds".to_owned());
            }
            let digits: i128 = frac
                .parse()
                .map_err(|_| "the fraction is not a whole number of nanoseconds".to_owned())?;
            let den = 10i128.pow(u32::try_from(frac.len()).unwrap_or(18));
            let num = digits * scale;
            if num % den != 0 {
                return Err(format!(
                    "{int_digits}.{frac_digits}{unit} is not a whole number of nanoseconds"
                ));
            }
            num / den
        };
        total = int
            .checked_mul(scale)
            .and_then(|v| v.checked_add(frac_ns))
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= i128::from(i64::MAX) + 1)
            .ok_or_else(|| "out of range for int64_t nanoseconds".to_owned())?;
        rest = next;
    }
    let signed = if negative { -total } else { total };
    i64::try_from(signed).map_err(|_| "out of range for int64_t nanoseconds".to_owned())
}

// ---------------------------------------------------------------------------
// Writing.

/// What kind of value a key holds (collected by [`Writer`], which is how a
/// config's list of keys is known to the reader).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Plain,
    Duration,
}

/// Writes the canonical JSON of a config and records its keys.
pub(crate) struct Writer {
    out: String,
    keys: Vec<(&'static str, KeyKind)>,
}

impl Writer {
    fn new() -> Self {
        Self {
            out: String::from("{"),
            keys: Vec::new(),
        }
    }

    fn key(&mut self, key: &'static str, kind: KeyKind) {
        if !self.keys.is_empty() {
            self.out.push(',');
        }
        self.keys.push((key, kind));
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn integer(&mut self, v: i128) {
        if v.abs() > JSON_SAFE_INT {
            let _ = write!(self.out, "\"{v}\"");
        } else {
            let _ = write!(self.out, "{v}");
        }
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }

    /// A `uint32_t`.
    pub(crate) fn u32(&mut self, key: &'static str, v: u32) {
        self.key(key, KeyKind::Plain);
        self.integer(i128::from(v));
    }

    /// A `uint64_t`.
    pub(crate) fn u64(&mut self, key: &'static str, v: u64) {
        self.key(key, KeyKind::Plain);
        self.integer(i128::from(v));
    }

    /// An `int64_t` that is not a duration.
    pub(crate) fn i64(&mut self, key: &'static str, v: i64) {
        self.key(key, KeyKind::Plain);
        self.integer(i128::from(v));
    }

    /// A duration under its `_ns` name.
    pub(crate) fn duration(&mut self, key: &'static str, v: i64) {
        self.key(key, KeyKind::Duration);
        self.integer(i128::from(v));
    }

    /// A `double`: the shortest text that reads back to the same bits.
    pub(crate) fn f64(&mut self, key: &'static str, v: f64) {
        self.f64_with(key, v, &[]);
    }

    /// A `double`, written as a name from `names` when it is that value.
    pub(crate) fn f64_with(&mut self, key: &'static str, v: f64, names: &[(&str, f64)]) {
        self.key(key, KeyKind::Plain);
        if let Some((n, _)) = names.iter().find(|(_, x)| x.to_bits() == v.to_bits()) {
            let _ = write!(self.out, "\"{n}\"");
        } else if v.is_nan() {
            self.out.push_str("\"nan\"");
        } else if v.is_infinite() {
            self.out
                .push_str(if v > 0.0 { "\"+inf\"" } else { "\"-inf\"" });
        } else if let Some(n) = serde_json::Number::from_f64(v) {
            let _ = write!(self.out, "{n}");
        }
    }

    /// A boolean.
    pub(crate) fn bool(&mut self, key: &'static str, v: bool) {
        self.key(key, KeyKind::Plain);
        self.out.push_str(if v { "true" } else { "false" });
    }

    /// An enum by its name in `table`.
    pub(crate) fn choice<T: Copy + PartialEq>(
        &mut self,
        key: &'static str,
        table: &[(&'static str, T)],
        v: T,
    ) {
        self.key(key, KeyKind::Plain);
        let name = table.iter().find(|(_, x)| *x == v).map_or("", |(n, _)| n);
        let _ = write!(self.out, "\"{name}\"");
    }

    /// A nested config object.
    pub(crate) fn nested<C: JsonConfig>(&mut self, key: &'static str, v: &C) {
        self.key(key, KeyKind::Plain);
        let mut inner = Writer::new();
        v.write(&mut inner);
        self.out.push_str(&inner.finish());
    }
}

// ---------------------------------------------------------------------------
// Configs.

/// A config with a JSON form. `write` is the schema: it writes every field,
/// and the reader knows a config's keys from it.
pub(crate) trait JsonConfig: Copy {
    /// The primitive, for messages ("breaker").
    const WHAT: &'static str;
    /// The preset type (`()` when there are none).
    type Preset: Copy + 'static;
    /// The presets by name; empty when the primitive has none.
    const PRESETS: &'static [(&'static str, Self::Preset)];
    /// The config a document starts from: the preset's, or the defaults.
    fn start(preset: Option<Self::Preset>) -> Self;
    /// Sets the field `f` names (`f.name()` is a key [`write`] writes).
    ///
    /// [`write`]: JsonConfig::write
    fn set(&mut self, f: &Field<'_>) -> Result<()>;
    /// Writes every field, in the C struct's order.
    fn write(&self, w: &mut Writer);
    /// The config's own validation.
    fn check(&self) -> Result<()>;
}

/// The canonical JSON of a config.
pub(crate) fn to_json<C: JsonConfig>(c: &C) -> String {
    let mut w = Writer::new();
    c.write(&mut w);
    w.finish()
}

/// Reads and validates a config document.
pub(crate) fn from_json<C: JsonConfig>(text: &str) -> Result<C> {
    from_entries(&parse_object(text)?)
}

/// Reads and validates a config document given as bytes (from C).
pub(crate) fn from_json_bytes<C: JsonConfig>(bytes: &[u8]) -> Result<C> {
    from_entries(&parse_object_bytes(bytes)?)
}

/// Reads and validates a parsed config document.
pub(crate) fn from_entries<C: JsonConfig>(entries: &[(String, Node)]) -> Result<C> {
    let c = read_object::<C>(entries, "", None)?;
    c.check()?;
    Ok(c)
}

/// The keys of `C` (from writing its defaults).
pub(crate) fn schema<C: JsonConfig>() -> Vec<(&'static str, KeyKind)> {
    let mut w = Writer::new();
    C::start(None).write(&mut w);
    w.keys
}

fn join_path(prefix: &str, key: &str) -> Cow<'static, str> {
    if prefix.is_empty() {
        Cow::Owned(key.to_owned())
    } else {
        Cow::Owned(format!("{prefix}.{key}"))
    }
}

/// Reads the fields of an object over its start: its `"preset"` if it has
/// one, else `start` (nested objects), else the defaults. Not validated.
fn read_object<C: JsonConfig>(
    entries: &[(String, Node)],
    prefix: &str,
    start: Option<C>,
) -> Result<C> {
    let keys = schema::<C>();
    let known = |name: &str| keys.iter().find(|(k, _)| *k == name).copied();
    let mut preset = None;
    for (i, (key, node)) in entries.iter().enumerate() {
        if entries.iter().take(i).any(|(k, _)| k == key) {
            return Err(Error::config_at(
                join_path(prefix, key),
                "given twice; give each key once",
            ));
        }
        if key == "preset" {
            let field = Field {
                key,
                name: "preset",
                prefix,
                node,
            };
            if C::PRESETS.is_empty() {
                return Err(field.error(format!("a {} config has no presets", C::WHAT)));
            }
            preset = Some(field.choice(C::PRESETS).map_err(|_| {
                let names: Vec<String> = C::PRESETS.iter().map(|(n, _)| format!("{n:?}")).collect();
                field.error(format!(
                    "unknown {} preset {}; one of {}",
                    C::WHAT,
                    node.describe(),
                    names.join(", ")
                ))
            })?);
        }
    }
    let mut cfg = match (preset, start) {
        (Some(p), _) => C::start(Some(p)),
        (None, Some(s)) => s,
        (None, None) => C::start(None),
    };
    for (key, node) in entries {
        if key == "preset" {
            continue;
        }
        let name = match known(key) {
            Some((name, _)) => name,
            None => match known(&format!("{key}_ns")) {
                Some((name, KeyKind::Duration)) => {
                    if entries.iter().any(|(k, _)| k == name) {
                        return Err(Error::config_at(
                            join_path(prefix, key),
                            format!("given together with {name}; give one of them"),
                        ));
                    }
                    name
                }
                _ => return Err(unknown_key::<C>(&keys, prefix, key)),
            },
        };
        cfg.set(&Field {
            key,
            name,
            prefix,
            node,
        })?;
    }
    Ok(cfg)
}

fn unknown_key<C: JsonConfig>(keys: &[(&'static str, KeyKind)], prefix: &str, key: &str) -> Error {
    // Every key a document may use: the fields, durations without `_ns`,
    // and `preset`.
    let mut names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    names.extend(
        keys.iter()
            .filter(|(_, kind)| *kind == KeyKind::Duration)
            .map(|(k, _)| k.trim_end_matches("_ns")),
    );
    if !C::PRESETS.is_empty() {
        names.push("preset");
    }
    let nearest = names
        .iter()
        .map(|n| (edit_distance(key, n), *n))
        .min()
        .filter(|(d, n)| *d <= (n.len() / 3).max(2));
    let hint = match nearest {
        Some((_, n)) => format!("; did you mean \"{n}\"?"),
        None => " (to_json writes every key)".to_owned(),
    };
    Error::config_at(
        join_path(prefix, key),
        format!("unknown key in a {} config{hint}", C::WHAT),
    )
}

/// Levenshtein distance, for "did you mean" (keys are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut left = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let cost = if ca == *cb { diagonal } else { diagonal + 1 };
            let next = cost.min(up + 1).min(left + 1);
            diagonal = up;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = next;
            }
            left = next;
        }
        if let Some(first) = row.get_mut(0) {
            *first = i + 1;
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The error of a [`JsonConfig::set`] that does not know a key its own
/// `write` writes (a bug the round-trip tests catch).
pub(crate) fn unreadable(f: &Field<'_>) -> Error {
    f.error("internal error: this key is written but not read (please report)")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Asserts the canonical JSON reads back to the same config, and that
    /// every duration also reads from its unit form.
    pub(crate) fn round_trip<C: JsonConfig + PartialEq + fmt::Debug>(c: &C) {
        let text = to_json(c);
        let back: C = from_json(&text).unwrap_or_else(|e| unreachable!("{e}: {text}"));
        assert_eq!(back, *c, "{text}");
        assert_eq!(to_json(&back), text);
        // Every duration by its unit form instead: the same config.
        let mut doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{e}"));
        for (key, kind) in schema::<C>() {
            if kind != KeyKind::Duration {
                continue;
            }
            let ns = match doc.remove(key) {
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::String(s)) => s,
                other => unreachable!("{key}: {other:?}"),
            };
            let unit = key.trim_end_matches("_ns").to_owned();
            doc.insert(unit, serde_json::Value::String(format!("{ns}ns")));
        }
        let unit = serde_json::Value::Object(doc).to_string();
        let by_unit: C = from_json(&unit).unwrap_or_else(|e| unreachable!("{e}: {unit}"));
        assert_eq!(by_unit, *c, "{unit}");
    }

    /// The error of reading `text` as a `C`: its field and message.
    pub(crate) fn error_of<C: JsonConfig>(text: &str) -> (String, String) {
        match from_json::<C>(text) {
            Ok(_) => unreachable!("{text} was accepted"),
            Err(e) => (e.field.into_owned(), e.message),
        }
    }

    #[test]
    fn durations_read_exactly() {
        let ok = |s: &str| parse_duration_ns(s).unwrap_or_else(|e| unreachable!("{s}: {e}"));
        assert_eq!(ok("60s"), 60_000_000_000);
        assert_eq!(ok("250ms"), 250_000_000);
        assert_eq!(ok("1.5s"), 1_500_000_000);
        assert_eq!(ok("10us"), 10_000);
        assert_eq!(ok("10\u{b5}s"), 10_000);
        assert_eq!(ok("10\u{3bc}s"), 10_000);
        assert_eq!(ok("100ns"), 100);
        assert_eq!(ok("2m"), 120_000_000_000);
        assert_eq!(ok("1h"), 3_600_000_000_000);
        assert_eq!(ok("1h30m"), 5_400_000_000_000);
        assert_eq!(ok("-1.5h"), -5_400_000_000_000);
        assert_eq!(ok("+2s"), 2_000_000_000);
        assert_eq!(ok(".5s"), 500_000_000);
        assert_eq!(ok("5.s"), 5_000_000_000);
        assert_eq!(ok("0.000000001s"), 1);
        assert_eq!(ok("1.000000000000000000000000s"), 1_000_000_000);
        assert_eq!(ok("0.1s"), 100_000_000);
        assert_eq!(ok("0ns"), 0);
        assert_eq!(ok("9223372036854775807ns"), i64::MAX);
        assert_eq!(ok("-9223372036854775808ns"), i64::MIN);
        assert_eq!(ok("2562047h47m16.854775807s"), i64::MAX);
        for bad in [
            "",
            "-",
            "60",
            "0",
            "60 s",
            " 60s",
            "60s ",
            "60 parsecs",
            "60parsecs",
            "1.5",
            "s",
            ".s",
            "1..5s",
            "0.5ns",
            "1.0000000001s",
            "1.00000000000000000001s",
            "9223372036854775808ns",
            "-9223372036854775809ns",
            "2562048h",
            "99999999999999999999999h",
            "1e9ns",
            "1S",
            "1Ms",
        ] {
            assert!(parse_duration_ns(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(
            parse_duration_ns("60 parsecs").is_err_and(|e| e.contains("unknown unit \" parsecs\""))
        );
        assert!(parse_duration_ns("60").is_err_and(|e| e.contains("needs a unit")));
    }

    #[test]
    fn documents_are_objects_and_syntax_errors_give_the_position() {
        let e = parse_object("{\"a\": 1,}").unwrap_err();
        assert_eq!(e.field, DOCUMENT);
        assert!(e.message.contains("line 1 column 9"), "{}", e.message);
        let e = parse_object("[1]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "json: a config is a JSON object, got an array"
        );
        assert!(parse_object("{} {}").is_err());
        assert!(parse_object("").is_err());
        assert!(parse_object("{\"a\":\"\0\"}").is_err());
        let e = parse_object_bytes(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.to_string(), "json: not UTF-8: invalid byte at offset 7");
        let long = " ".repeat(MAX_LEN + 1);
        assert!(parse_object(&long).is_err_and(|e| e.field == DOCUMENT));
        assert!(parse_object_bytes(long.as_bytes()).is_err_and(|e| e.field == DOCUMENT));
        let deep = "[".repeat(1000);
        assert!(parse_object(&deep).is_err_and(|e| e.field == DOCUMENT));
        assert_eq!(
            parse_object("{\"a\": 1, \"a\": 2}").map(|v| v.len()),
            Ok(2),
            "duplicates are kept for the reader to refuse"
        );
    }

    #[test]
    fn decimal_strings_are_integers() {
        assert_eq!(
            parse_decimal("9223372036854775807"),
            Some(i128::from(i64::MAX))
        );
        assert_eq!(parse_decimal("-12"), Some(-12));
        assert_eq!(
            parse_decimal("18446744073709551615"),
            Some(i128::from(u64::MAX))
        );
        for bad in [
            "",
            "-",
            "+1",
            "1.0",
            " 1",
            "1e3",
            "0x10",
            "123456789012345678901",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
