#!/usr/bin/env bash
# Installs what the build and the tests need, and only what is missing.
# Idempotent; run by the Makefile targets on a fresh Debian 12 machine as root
# (CI runs it with no stdin). Quiet unless something is installed or fails.
set -euo pipefail

APT_PACKAGES=(libcjson-dev valgrind cmake gcc g++ make pkg-config)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo -n)
        else
            echo "setup: not root and no sudo; install: ${missing[*]}" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    if ! { "${SUDO[@]}" apt-get update -qq &&
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup: apt-get failed" >&2
        exit 1
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "setup: cargo not found; install a Rust toolchain (rustup)" >&2
        exit 1
    fi
fi

components=()
cargo clippy --version </dev/null >/dev/null 2>&1 || components+=(clippy)
cargo fmt --version </dev/null >/dev/null 2>&1 || components+=(rustfmt)
if ((${#components[@]} > 0)); then
    echo "setup: rustup component add ${components[*]}" >&2
    rustup component add "${components[@]}" </dev/null >/dev/null 2>&1 || {
        echo "setup: rustup component add ${components[*]} failed" >&2
        exit 1
    }
fi
