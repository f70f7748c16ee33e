//! Build script. It records the version for the header and, only when the
//! `gen-header` feature is on, regenerates `include/resilience.h`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "gen-header")]
    generate_header();
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
