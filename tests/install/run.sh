#!/usr/bin/env bash
# `make test-install`: installs libresilience into a temporary prefix and
# into a DESTDIR, then checks the installed tree the way a user meets it:
#
#   - the layout, the symlink chain and the SONAME (libresilience.so.<ABI>,
#     the ABI read from the installed header);
#   - the .so exports exactly the functions the header declares, all rsl_*;
#   - no debug info in the installed .so or .a;
#   - C consumers built with pkg-config (resilience, resilience-static) and
#     with CMake's find_package (resilience::resilience, _static) run with no
#     LD_LIBRARY_PATH and load the installed copy;
#   - find_package refuses incompatible versions;
#   - a DESTDIR install records PREFIX, not DESTDIR, its CMake package still
#     works from the staged tree, and uninstall removes every file.
#
# Environment (set by the Makefile): MAKE, CC, CMAKE, BUILD, STRIP.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/tests/install
MAKE=${MAKE:-make}
CC=${CC:-gcc}
CMAKE=${CMAKE:-cmake}
BUILD=${BUILD:-$root/build}
work=$BUILD/test-install
rm -rf "$work"
mkdir -p "$work"

fail() {
    echo "test-install: $*" >&2
    exit 1
}
# Runs a program with no LD_LIBRARY_PATH (nor preloads) from the caller.
run_clean() {
    env -u LD_LIBRARY_PATH -u LD_PRELOAD "$@"
}

header=$root/include/resilience.h
abi=$(sed -n 's/^#define RSL_ABI_VERSION \([0-9]*\)$/\1/p' "$header")
version=$(sed -n 's/^#define RSL_VERSION_STRING "\(.*\)"$/\1/p' "$header")
[[ -n $abi && -n $version ]] || fail "no RSL_ABI_VERSION / RSL_VERSION_STRING in $header"
soname=libresilience.so.$abi
realname=$soname.$version

# ---------------------------------------------------------------- install
prefix=$work/prefix
"$MAKE" --no-print-directory -C "$root" install PREFIX="$prefix" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "make install PREFIX=$prefix failed"; }

expected_files() {
    printf '%s\n' \
        include/resilience.h \
        lib/cmake/resilience/resilienceConfig.cmake \
        lib/cmake/resilience/resilienceConfigVersion.cmake \
        lib/libresilience.a \
        lib/libresilience.so \
        "lib/$soname" \
        "lib/$realname" \
        lib/pkgconfig/resilience-static.pc \
        lib/pkgconfig/resilience.pc
}
check_layout() { # <installed prefix directory>
    local got
    got=$(cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
    if [[ $got != "$(expected_files | LC_ALL=C sort)" ]]; then
        diff -u <(expected_files | LC_ALL=C sort) <(printf '%s\n' "$got") >&2 || true
        fail "unexpected files under $1 (diff: expected, installed)"
    fi
    [[ $(readlink "$1/lib/libresilience.so") == "$soname" ]] || fail "libresilience.so must point to $soname"
    [[ $(readlink "$1/lib/$soname") == "$realname" ]] || fail "$soname must point to $realname"
    [[ -f $1/lib/$realname && ! -L $1/lib/$realname ]] || fail "$realname must be the file"
}
check_layout "$prefix"
lib=$prefix/lib
so=$lib/$realname

# ---------------------------------------------------------------- SONAME
got_soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $got_soname == "$soname" ]] || fail "SONAME of $so is '$got_soname', expected $soname"

# ---------------------------------------------------------------- exports
nm -D --defined-only "$so" | awk '{print $NF}' | LC_ALL=C sort -u >"$work/exported"
[[ -s $work/exported ]] || fail "$so exports nothing"
if grep -v '^rsl_' "$work/exported" >"$work/foreign"; then
    cat "$work/foreign" >&2
    fail "$so exports symbols outside rsl_* (above)"
fi
# Every function the header declares (comments stripped by the preprocessor).
"$CC" -E -P -x c "$prefix/include/resilience.h" | grep -oE '\brsl_[a-z0-9_]+[[:space:]]*\(' |
    sed 's/[[:space:](]*$//' | LC_ALL=C sort -u >"$work/declared"
if ! diff -u "$work/declared" "$work/exported" >"$work/exports.diff"; then
    cat "$work/exports.diff" >&2
    fail "the exported symbols differ from the header's functions (diff: declared, exported)"
fi
echo "test-install: $realname, SONAME $soname, exports $(wc -l <"$work/exported") symbols, all rsl_*, as declared"

# ---------------------------------------------------------------- debug info
for f in "$so" "$lib/libresilience.a"; do
    if readelf -S -W "$f" 2>/dev/null | grep -qE '\.(z)?debug_'; then
        fail "$f carries debug sections"
    fi
done
echo "test-install: no debug info in the .so ($(stat -c %s "$so") bytes) nor the .a ($(stat -c %s "$lib/libresilience.a") bytes)"

# ---------------------------------------------------------------- consumers
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -O1)
# <program> <"shared"|"static">: runs it clean and checks which copy it loaded.
check_consumer() {
    local exe=$1 kind=$2 out
    out=$(run_clean "$exe") || fail "$exe failed"
    echo "  $out"
    if [[ $kind == shared ]]; then
        [[ $out == *"from $lib/$soname" ]] || fail "$exe did not load $lib/$soname"
        readelf -d "$exe" | grep -q "(NEEDED).*\[$soname\]" || fail "$exe does not need $soname"
    else
        [[ $out == *"from $exe" ]] || fail "$exe should carry the library itself"
        if readelf -d "$exe" | grep -q '(NEEDED).*libresilience'; then
            fail "$exe, linked statically, needs a libresilience.so"
        fi
    fi
}

export PKG_CONFIG_PATH=$lib/pkgconfig
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
[[ $(pkg-config --modversion resilience) == "$version" ]] || fail "pkg-config --modversion is not $version"
[[ $(pkg-config --variable=abi_version resilience) == "$abi" ]] || fail "pkg-config abi_version is not $abi"
static_libs=$(pkg-config --static --libs resilience)
for l in -lresilience -lpthread -ldl -lm; do
    [[ " $static_libs " == *" $l "* ]] || fail "pkg-config --static --libs resilience lacks $l: $static_libs"
done
pc_libdir=$(pkg-config --variable=libdir resilience)
[[ $pc_libdir == "$lib" ]] || fail "pkg-config libdir is $pc_libdir, expected $lib"

echo "test-install: pkg-config consumers"
# shellcheck disable=SC2046
"$CC" "${cflags[@]}" $(pkg-config --cflags resilience) "$here/consumer.c" \
    $(pkg-config --libs resilience) -Wl,-rpath,"$pc_libdir" -o "$work/pc_shared"
check_consumer "$work/pc_shared" shared
# shellcheck disable=SC2046
"$CC" "${cflags[@]}" "$here/consumer.c" $(pkg-config --cflags --libs resilience-static) \
    -o "$work/pc_static"
check_consumer "$work/pc_static" static

echo "test-install: CMake find_package consumers"
"$CMAKE" -S "$here/cmake" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$CC" >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; fail "CMake could not find the installed package"; }
grep -q "resilience $version, ABI $abi, from $lib/cmake/resilience" "$work/cmake.log" ||
    { cat "$work/cmake.log" >&2; fail "find_package found another resilience"; }
"$CMAKE" --build "$work/cmake" >>"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; fail "the CMake consumer did not build"; }
check_consumer "$work/cmake/consumer_shared" shared
check_consumer "$work/cmake/consumer_static" static

# find_package takes the same major.minor (0.x) and nothing older than asked.
major_minor=${version%.*}
next_minor="${version%%.*}.$((${major_minor#*.} + 1))"
for want in "$next_minor" "$((${version%%.*} + 1)).0"; do
    if "$CMAKE" -S "$here/cmake" -B "$work/cmake-$want" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$CC" -DRSL_WANT="$want" >"$work/cmake-$want.log" 2>&1; then
        fail "find_package(resilience $want) accepted version $version"
    fi
    grep -q "resilienceConfig.cmake, version: $version" "$work/cmake-$want.log" ||
        { cat "$work/cmake-$want.log" >&2; fail "find_package($want) failed for another reason"; }
done
echo "test-install: find_package(resilience $major_minor) found $version; $next_minor and $((${version%%.*} + 1)).0 refused"

# ---------------------------------------------------------------- DESTDIR
stage=$work/stage
staged_prefix=/opt/resilience-test
"$MAKE" --no-print-directory -C "$root" install DESTDIR="$stage" PREFIX="$staged_prefix" \
    >"$work/stage.log" 2>&1 || { cat "$work/stage.log" >&2; fail "make install DESTDIR=... failed"; }
[[ ! -e $staged_prefix ]] || fail "DESTDIR install wrote to $staged_prefix itself"
check_layout "$stage$staged_prefix"
grep -qx "prefix=$staged_prefix" "$stage$staged_prefix/lib/pkgconfig/resilience.pc" ||
    fail "the staged resilience.pc does not record prefix=$staged_prefix"
if grep -rqF "$stage" "$stage$staged_prefix"; then
    fail "a staged file records the DESTDIR path"
fi
# The CMake package holds only relative paths: it works from the staged tree.
"$CMAKE" -S "$here/cmake" -B "$work/cmake-staged" -DCMAKE_PREFIX_PATH="$stage$staged_prefix" \
    -DCMAKE_C_COMPILER="$CC" >"$work/cmake-staged.log" 2>&1 &&
    "$CMAKE" --build "$work/cmake-staged" >>"$work/cmake-staged.log" 2>&1 ||
    { cat "$work/cmake-staged.log" >&2; fail "the CMake consumer did not build against the staged tree"; }
out=$(run_clean "$work/cmake-staged/consumer_shared") || fail "the staged consumer failed"
[[ $out == *"from $stage$staged_prefix/lib/$soname" ]] || fail "the staged consumer loaded: $out"
"$MAKE" --no-print-directory -C "$root" uninstall DESTDIR="$stage" PREFIX="$staged_prefix" \
    >>"$work/stage.log" 2>&1 || { cat "$work/stage.log" >&2; fail "make uninstall failed"; }
left=$(find "$stage" ! -type d)
[[ -z $left ]] || fail "make uninstall left: $left"
echo "test-install: DESTDIR install records $staged_prefix, is relocatable for CMake, uninstalls cleanly"
echo "test-install: OK"
