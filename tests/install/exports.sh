#!/bin/sh
# exports.sh LIBRARY HEADER... — a shared library exports its public API only: every
# function it exports is declared in one of the given installed headers, every function
# they declare is exported, and nothing it needs from another kura library is internal
# (an undefined kura_ symbol must be declared in some public header).
set -eu
lib=$1
shift
exported=$(mktemp)
declared=$(mktemp)
public=$(mktemp)
trap 'rm -f "$exported" "$declared" "$public"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u >"$exported"
# A declaration: a kura_ name followed by "(" after a type at the start of a line.
declarations() {
    grep -ohE '^[a-z_][a-z0-9_ *]*[ *]kura_[a-z0-9_]+\(' "$@" | grep -oE 'kura_[a-z0-9_]+\($' |
        tr -d '(' | sort -u
}
declarations "$@" >"$declared"
declarations "$(dirname "$1")"/*.h >"$public"
extra=$(comm -23 "$exported" "$declared")
missing=$(comm -13 "$exported" "$declared")
internal=$(nm -D --undefined-only "$lib" | awk '{ print $2 }' | grep '^kura_' | sort -u |
    comm -23 - "$public")
status=0
if [ -n "$extra" ]; then
    echo "exports: internal symbols exported from $lib:" $extra >&2
    status=1
fi
if [ -n "$missing" ]; then
    echo "exports: declared but not in $lib:" $missing >&2
    status=1
fi
if [ -n "$internal" ]; then
    echo "exports: $lib needs internal symbols of another library:" $internal >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "exports: $(basename "$lib"): $(wc -l <"$exported") functions, exactly its headers' declarations"
exit "$status"
