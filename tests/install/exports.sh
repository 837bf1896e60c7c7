#!/bin/sh
# exports.sh LIBKURA_SO INCLUDE_DIR — the shared library exports the public API only:
# every function it exports is declared in an installed header, and every function a
# header declares is exported (a declared function the library lacks fails too).
set -eu
lib=$1
inc=$2
exported=$(mktemp)
declared=$(mktemp)
trap 'rm -f "$exported" "$declared"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u >"$exported"
# A declaration: a kura_ name followed by "(" at the start of a line or after a type.
grep -ohE '^[a-z_][a-z0-9_ *]*[ *]kura_[a-z0-9_]+\(' "$inc"/kura/*.h |
    grep -oE 'kura_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$declared"
extra=$(comm -23 "$exported" "$declared")
missing=$(comm -13 "$exported" "$declared")
status=0
if [ -n "$extra" ]; then
    echo "exports: internal symbols exported from $lib:" $extra >&2
    status=1
fi
if [ -n "$missing" ]; then
    echo "exports: declared in a public header but not in $lib:" $missing >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "exports: $(wc -l <"$exported") functions, exactly the public headers' declarations"
exit "$status"
