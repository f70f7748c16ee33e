//! The Rust conformance runner: replays every scenario under
//! `tests/conformance/` through the C ABI (the same functions every binding
//! calls), per the format in `tests/conformance/README.md`. Each primitive's
//! runner lives in `tests/runner/<primitive>.rs`.
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::too_many_lines, missing_docs)]

mod runner;

use runner::Res;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn scenarios(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenarios(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn run_file(path: &Path) -> Res {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("bad JSON: {e}"))?;
    let s = v.as_object().ok_or("not an object")?;
    for key in s.keys() {
        if ![
            "primitive",
            "description",
            "preset",
            "config",
            "created_at_ns",
            "expect_status",
            "expect_error_field",
            "steps",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unknown top-level key {key}"));
        }
    }
    if s.get("description").and_then(Value::as_str).is_none() {
        return Err("missing description".into());
    }
    match s.get("primitive").and_then(Value::as_str) {
        Some("breaker") => runner::breaker::run(s),
        Some("adaptive_throttle") => runner::adaptive_throttle::run(s),
        Some("backoff") => runner::backoff::run(s),
        Some("retry") => runner::retry::run(s),
        Some("retry_budget") => runner::retry_budget::run(s),
        Some("window_limiter") => runner::window_limiter::run(s),
        Some("adaptive_limiter") => runner::adaptive_limiter::run(s),
        Some("criticality") => runner::criticality::run(s),
        Some("bulkhead") => runner::bulkhead::run(s),
        Some("deadline") => runner::deadline::run(s),
        Some("token_bucket") => runner::token_bucket::run(s),
        Some("leaky_bucket") => runner::leaky_bucket::run(s),
        other => Err(format!("unknown primitive {other:?}")),
    }
}

#[test]
fn conformance_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files = Vec::new();
    scenarios(&root, &mut files);
    let mut failed = Vec::new();
    let mut per_primitive: HashMap<String, usize> = HashMap::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        *per_primitive
            .entry(rel.split('/').next().unwrap_or("").to_owned())
            .or_default() += 1;
        if let Err(e) = run_file(f) {
            failed.push(format!("{rel}: {e}"));
        }
    }
    for f in &failed {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "conformance: {} scenarios {per_primitive:?}, {} failed",
        files.len(),
        failed.len()
    );
    assert!(!files.is_empty(), "no scenarios found");
    assert!(failed.is_empty(), "{} scenario(s) failed", failed.len());
}
