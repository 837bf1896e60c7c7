#!/bin/sh
# layers.sh SOURCE_DIR — includes point down, never up: a file under src/<layer>/ may
# include its own layer's headers and those of the layers below it (the order of
# ../shared/DESIGN.md), never a layer above or a sibling, and nothing from examples/.
set -eu
src=$1/src
rank() {
    case $1 in
    base) echo 0 ;; model) echo 1 ;; query) echo 2 ;; store) echo 3 ;;
    sql | kv) echo 4 ;; document) echo 5 ;; app) echo 6 ;; http) echo 7 ;; cli) echo 8 ;;
    *) echo unknown ;;
    esac
}
status=0
for dir in "$src"/*/; do
    layer=$(basename "$dir")
    mine=$(rank "$layer")
    if [ "$mine" = unknown ]; then
        echo "layers: src/$layer is not a known layer (add it to tests/layers.sh)" >&2
        status=1
        continue
    fi
    for f in "$dir"*.c "$dir"*.h; do
        [ -e "$f" ] || continue
        # Quoted includes only: <kura/...> are the public headers, usable everywhere.
        for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
            case $inc in
            */*) other=${inc%%/*} ;;
            *)
                echo "layers: ${f#"$1"/}: #include \"$inc\" names no layer (examples/?)" >&2
                status=1
                continue
                ;;
            esac
            [ "$other" = kura ] && continue
            theirs=$(rank "$other")
            if [ "$theirs" = unknown ] || [ "$theirs" -gt "$mine" ] ||
                { [ "$theirs" -eq "$mine" ] && [ "$other" != "$layer" ]; }; then
                echo "layers: ${f#"$1"/}: #include \"$inc\" points up or sideways" >&2
                status=1
            fi
        done
    done
done
[ "$status" -eq 0 ] && echo "layers: every include under src/ points down"
exit "$status"
