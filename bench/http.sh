#!/bin/sh
# http.sh — http_get_user and http_query_age (WORKLOAD.md) against the guide's
# service (build/guide_service serve: kura_main over the guide's models)
# and, in the same run, against the raw libmicrohttpd + sqlite3 handler
# (bench/http_raw.c) on a copy of the same freshly seeded database.
#
#   bench/http.sh [BUILD_DIR]        (default: build; needs wrk and curl)
#
# Environment: ROUNDS (best of, default 3), DURATION (default 10s), OPS (default
# "http_get_user http_query_age"),
# KURA_LOG_LEVEL for kura serve (default info: the access log is on, to /dev/null).
set -eu
BUILD=${1:-build}
KURA=$BUILD/guide_service
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

# measure PID URL -> "req/s cpu-us-per-request": wrk's rate, and the server's own
# CPU time (utime + stime from /proc) per request served. On a shared machine the
# rate moves with the neighbours' load; the CPU cost per request much less.
measure() {
    t0=$(awk '{print $14 + $15}' "/proc/$1/stat")
    out=$(wrk -t2 -c32 -d"$DURATION" "$2")
    t1=$(awk '{print $14 + $15}' "/proc/$1/stat")
    echo "$out" | awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" '
        /requests in/ { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%s %.2f\n", rps, (b - a) / hz * 1e6 / n }'
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == 0 || b < a ? b : a) }'; }

printf '%-16s %11s %11s %7s %13s %13s %9s\n' operation "kura req/s" "raw req/s" ratio \
    "kura cpu/req" "raw cpu/req" "cpu ratio"
for op in ${OPS:-http_get_user http_query_age}; do
    case $op in
    http_get_user) path="/users/1234" ;;
    http_query_age) path="/users?age=30" ;;
    esac
    kr=0 rr=0 kc=0 rc=0
    # Alternate the two servers round by round so drift hits both alike; keep the
    # best rate and the lowest CPU cost of each.
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        set -- $(measure "$KPID" "http://127.0.0.1:$KPORT$path")
        kr=$(max "$kr" "$1") kc=$(min "$kc" "$2")
        set -- $(measure "$RPID" "http://127.0.0.1:$RPORT$path")
        rr=$(max "$rr" "$1") rc=$(min "$rc" "$2")
        i=$((i + 1))
    done
    printf '%-16s %11.0f %11.0f %7.2f %10.1f us %10.1f us %9.2f\n' "$op" "$kr" "$rr" \
        "$(awk -v k="$kr" -v r="$rr" 'BEGIN { print k / r }')" "$kc" "$rc" \
        "$(awk -v k="$kc" -v r="$rc" 'BEGIN { print r / k }')"
done
