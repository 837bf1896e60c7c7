#!/bin/sh
# http.sh — http_get_user and http_query_age (WORKLOAD.md) against `kura serve`
# and, in the same run, against the raw libmicrohttpd + sqlite3 handler
# (bench/http_raw.c) on a copy of the same freshly seeded database.
#
#   bench/http.sh [BUILD_DIR]        (default: build; needs wrk and curl)
#
# Environment: ROUNDS (best of, default 3), DURATION (default 10s),
# KURA_LOG_LEVEL for kura serve (default info: the access log is on, to /dev/null).
set -eu
BUILD=${1:-build}
KURA=$BUILD/kura
RAW=$BUILD/bench/http/bench_http_raw
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
N=10000
for tool in wrk curl; do
    command -v $tool >/dev/null || { echo "http.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$KURA" ] && [ -x "$RAW" ] || { echo "http.sh: build $KURA and $RAW first" >&2; exit 1; }

DIR=$(mktemp -d /tmp/kura-http-bench.XXXXXX)
KPID= RPID=
cleanup() {
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null || true
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_up() {
    i=0
    until curl -fs "http://127.0.0.1:$1$2" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "http.sh: server on $1 did not start" >&2; exit 1; }
        sleep 0.05
    done
}

# A fresh database: kura serve creates the table and index, the raw tool seeds it.
KPORT=$(free_port)
"$KURA" serve --port "$KPORT" --database-url "sqlite:///$DIR/kura.db" --log-level warn &
KPID=$!
wait_up "$KPORT" /health
kill -TERM "$KPID"; wait "$KPID"; KPID=
"$RAW" seed "$DIR/kura.db" $N
cp "$DIR/kura.db" "$DIR/raw.db"

KPORT=$(free_port)
"$KURA" serve --port "$KPORT" --database-url "sqlite:///$DIR/kura.db" \
    --log-level "${KURA_LOG_LEVEL:-info}" 2>/dev/null &
KPID=$!
RPORT=$(free_port)
"$RAW" serve "$DIR/raw.db" "$RPORT" &
RPID=$!
wait_up "$KPORT" /users/1
wait_up "$RPORT" /users/1

# Same work on both sides: the answers must be the same bytes.
for path in "/users/1234" "/users?age=30"; do
    a=$(curl -fs "http://127.0.0.1:$KPORT$path")
    b=$(curl -fs "http://127.0.0.1:$RPORT$path")
    [ "$a" = "$b" ] || { echo "http.sh: $path differs between kura serve and raw" >&2; exit 1; }
done

rps() { # url -> requests/s from wrk
    wrk -t2 -c32 -d"$DURATION" "$1" | awk '/^Requests\/sec:/ {print $2}'
}
best() { # current new -> max
    awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'
}

printf '%-16s %14s %14s %8s\n' operation "kura req/s" "raw req/s" ratio
for op in http_get_user http_query_age; do
    case $op in
    http_get_user) path="/users/1234" ;;
    http_query_age) path="/users?age=30" ;;
    esac
    k=0 r=0
    # Alternate the two servers round by round so drift hits both alike.
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        k=$(best "$k" "$(rps "http://127.0.0.1:$KPORT$path")")
        r=$(best "$r" "$(rps "http://127.0.0.1:$RPORT$path")")
        i=$((i + 1))
    done
    printf '%-16s %14.0f %14.0f %8.2f\n' "$op" "$k" "$r" "$(awk -v k="$k" -v r="$r" 'BEGIN { print k / r }')"
done
