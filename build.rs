//! Build script. It gives the shared library its SONAME and, only when the
//! `gen-header` feature is on, regenerates `include/resilience.h`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    set_soname();
    #[cfg(feature = "gen-header")]
    generate_header();
}

/// The cdylib's SONAME is `libresilience.so.<RSL_ABI_VERSION>` (see
/// docs/install.md): the ABI version is the number that changes exactly
/// when a program built against the library can no longer load it, which is
/// what a SONAME major says; the crate version (0.x, ABI 2 already) does
/// not track that. The number is read from its one definition in
/// `src/ffi/mod.rs`, so the two cannot drift. Linux (ELF, GNU-style linker)
/// only; the staticlib and rlib are untouched (`rustc-cdylib-link-arg`).
///
/// Which symbols the `.so` exports needs no script of ours: rustc already
/// links every cdylib with its own version script, `{ global: <the
/// #[no_mangle] items>; local: *; }`, and GNU ld refuses a second one
/// ("anonymous version tag cannot be combined with other version tags").
/// `make test-install` checks the result: every exported symbol is `rsl_*`
/// and every function of the header is exported.
fn set_soname() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os != "linux" {
        return;
    }
    println!("cargo:rerun-if-changed=src/ffi/mod.rs");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let path = std::path::Path::new(&root).join("src/ffi/mod.rs");
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let abi = source.lines().find_map(|line| {
        line.trim()
            .strip_prefix("pub const RSL_ABI_VERSION: u32 = ")?
            .strip_suffix(';')?
            .parse::<u32>()
            .ok()
    });
    let Some(abi) = abi else {
        println!(
            "cargo:warning=build.rs: no `pub const RSL_ABI_VERSION: u32 = N;` in {}",
            path.display()
        );
        std::process::exit(1);
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libresilience.so.{abi}");
}

#[cfg(feature = "gen-header")]
fn generate_header() {
    use std::path::PathBuf;
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=include/cbindgen.toml");
    let mut config = match cbindgen::Config::from_file(root.join("include/cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            println!("cargo:warning=cbindgen config: {e}");
            std::process::exit(1);
        }
    };
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    config.after_includes = Some(format!(
        "\n#define RSL_VERSION_MAJOR {major}\n#define RSL_VERSION_MINOR {minor}\n#define RSL_VERSION_PATCH {patch}\n#define RSL_VERSION_STRING \"{version}\"\n\n/* Marks functions whose status must be checked; define it empty before\n * including this header to opt out. */\n#ifndef RSL_MUST_USE\n#  if defined(__cplusplus) && __cplusplus >= 201703L\n#    define RSL_MUST_USE [[nodiscard]]\n#  elif defined(__GNUC__) || defined(__clang__)\n#    define RSL_MUST_USE __attribute__((warn_unused_result))\n#  else\n#    define RSL_MUST_USE\n#  endif\n#endif\n"
    ));
    let out = root.join("include/resilience.h");
    match cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(out);
        }
        Err(e) => {
            println!("cargo:warning=cbindgen: {e}");
            std::process::exit(1);
        }
    }
}
