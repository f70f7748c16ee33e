#!/usr/bin/env bash
# Fails when include/resilience.h declares any file-scope name that is not
# rsl_/RSL_-prefixed: macros (compared with the same system includes alone),
# struct tags, typedef names and function names. A program that defines
# MAX_TOKENS or Criticality itself must compile with this header.
set -euo pipefail
header=${1:-include/resilience.h}
cc=${CC:-gcc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

printf '#include <stdint.h>\n#include <stddef.h>\n#include <stdbool.h>\n' >"$dir/base.c"
printf '#include "%s"\n' "$(realpath "$header")" >"$dir/with.c"
"$cc" -std=c11 -dM -E "$dir/base.c" | awk '{print $2}' | sed 's/(.*//' | sort -u >"$dir/base.macros"
"$cc" -std=c11 -dM -E "$dir/with.c" | awk '{print $2}' | sed 's/(.*//' | sort -u >"$dir/with.macros"
comm -13 "$dir/base.macros" "$dir/with.macros" >"$dir/ours.macros"

# The header's own declarations, preprocessed (RSL_MUST_USE empty, so only
# declarations remain), without the lines that came from system headers.
"$cc" -std=c11 -E -DRSL_MUST_USE= "$dir/with.c" |
    awk -v h="$(realpath "$header")" '
        /^# [0-9]+ "/ { keep = (index($0, "\"" h "\"") > 0); next }
        keep { print }' >"$dir/decls.i"
{
    grep -oE '\bstruct[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' "$dir/decls.i" | awk '{print $2}'
    grep -oE '\}[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*;' "$dir/decls.i" | tr -d '};' | tr -d ' '
    grep -oE '^typedef[^;]*[[:space:]\*]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*;' "$dir/decls.i" |
        sed -E 's/.*[[:space:]\*]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*;$/\1/'
    # A name followed by '(' at the start of a declaration is a function.
    tr '\n' ' ' <"$dir/decls.i" | grep -oE '[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' | tr -d '( '
} | sort -u >"$dir/ours.names"

bad=$(cat "$dir/ours.macros" "$dir/ours.names" | grep -vE '^(rsl_|RSL_)' || true)
count=$(cat "$dir/ours.macros" "$dir/ours.names" | wc -l)
if [[ -n $bad ]]; then
    echo "check_header_names: names without the rsl_/RSL_ prefix in $header:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
echo "check_header_names: all $count file-scope names in $header are rsl_/RSL_-prefixed"
