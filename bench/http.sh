#!/bin/sh
# http.sh — http_get_user and http_query_age (WORKLOAD.md) against the guide's
# service (build/guide_service serve: kura_main over the guide's models) and, in
# the same run, against the raw handler (bench/http_raw_db.c) on libmicrohttpd
# (bench_http_raw) and on h2o (bench_http_raw_h2o), each on its own copy of the
# same freshly seeded database. "kurac" is kura serve with --cache-ttl-ms (hot rows
# answered from memory; /users?age=30 is not cached, so it measures the same work).
#
#   bench/http.sh [BUILD_DIR]        (default: build)
#
# Method (WORKLOAD.md): the servers are measured in interleaved passes, kura
# then the raw ones, then the other way round (A B B A ...), PAIRS passes per
# operation; each pass gives kura's ratio to each raw server, and the table
# shows the median of those ratios with their spread (min..max). Beside each:
# CPU per request, the server's own utime + stime (/proc/PID/stat) over a run
# divided by the requests wrk counted, and the servers' memory (VmRSS idle,
# VmHWM: the peak, reached under load). On a machine shared with other work the
# rates move with the neighbours; the per-pass ratios and the CPU cost much less.
#
# Environment: PAIRS (default 10), DURATION per run (default 5s), CONNS (wrk -c,
# default 32), OPS (default "http_get_user http_query_age"), KURA_LOG_LEVEL for
# kura serve (default info: the access log is on, to /dev/null).
# Installs wrk, curl and libh2o-evloop-dev with apt-get when they are missing
# (as scripts/bootstrap does), and builds bench_http_raw_h2o then.
set -eu
BUILD=${1:-build}
KURA=$BUILD/guide_service
RAW=$BUILD/bench/http/bench_http_raw
H2O=$BUILD/bench/http/bench_http_raw_h2o
PAIRS=${PAIRS:-10}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
N=10000

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
apt_install() {
    echo "http.sh: installing $*" >&2
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
missing=
command -v wrk >/dev/null || missing="$missing wrk"
command -v curl >/dev/null || missing="$missing curl"
command -v dpkg-query >/dev/null && ! installed libh2o-evloop-dev && missing="$missing libh2o-evloop-dev"
[ -z "$missing" ] || apt_install $missing
[ -x "$KURA" ] && [ -x "$RAW" ] || { echo "http.sh: build $KURA and $RAW first" >&2; exit 1; }
if [ ! -x "$H2O" ]; then # libh2o-evloop came after the build was configured
    cmake "$BUILD" >/dev/null && cmake --build "$BUILD" --target bench_http_raw_h2o >/dev/null
fi

DIR=$(mktemp -d /tmp/kura-http-bench.XXXXXX)
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
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
PORT=$(free_port)
"$KURA" serve --port "$PORT" --database-url "sqlite:///$DIR/kura.db" --log-level warn &
PID=$!
wait_up "$PORT" /health
kill -TERM "$PID"; wait "$PID"
"$RAW" seed "$DIR/kura.db" $N

# start NAME CMD...: a server on a copy of the database, its port and pid kept
# as NAME_port and NAME_pid.
SERVERS=
start() {
    name=$1; shift
    cp "$DIR/kura.db" "$DIR/$name-copy.db"
    port=$(free_port)
    case $name in
    kura) "$KURA" serve --port "$port" --database-url "sqlite:///$DIR/$name-copy.db" \
        --log-level "${KURA_LOG_LEVEL:-info}" 2>/dev/null & ;;
    kurac) "$KURA" serve --port "$port" --database-url "sqlite:///$DIR/$name-copy.db" \
        --log-level "${KURA_LOG_LEVEL:-info}" --cache-ttl-ms 60000 2>/dev/null & ;;
    *) "$1" serve "$DIR/$name-copy.db" "$port" & ;;
    esac
    eval "${name}_pid=$! ${name}_port=$port"
    PIDS="$PIDS $!"
    SERVERS="$SERVERS $name"
    wait_up "$port" /users/1
}
start kura
start kurac # kura serve --cache-ttl-ms: hot rows answered from memory
start mhd "$RAW"
start h2o "$H2O"
val() { eval "echo \$${1}_$2"; }
status() { awk -v k="$2:" '$1 == k { print $2 / 1024 }' "/proc/$(val "$1" pid)/status"; }
for s in $SERVERS; do eval "${s}_idle=$(status "$s" VmRSS)"; done

# Same work on every side: the answers must be the same bytes.
for path in "/users/1234" "/users?age=30"; do
    want=$(curl -fs "http://127.0.0.1:$kura_port$path")
    for s in kurac mhd h2o; do
        [ "$want" = "$(curl -fs "http://127.0.0.1:$(val $s port)$path")" ] ||
            { echo "http.sh: $path differs between kura serve and $s" >&2; exit 1; }
    done
done

# measure NAME URL -> "req/s cpu-us-per-request": wrk's rate, and the server's
# own CPU time (utime + stime from /proc) per request served.
measure() {
    stat=/proc/$(val "$1" pid)/stat
    t0=$(awk '{print $14 + $15}' "$stat")
    out=$(wrk -t2 -c"$CONNS" -d"$DURATION" "$2")
    t1=$(awk '{print $14 + $15}' "$stat")
    echo "$out" | awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" '
        /requests in/ { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%s %.2f\n", rps, (b - a) / hz * 1e6 / n }'
}
# stats < numbers -> "median min max"
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
reversed() { r=; for s in $SERVERS; do r="$s $r"; done; echo $r; }

echo "http.sh: $PAIRS interleaved passes of $DURATION per server and operation, wrk -t2 -c$CONNS"
for op in ${OPS:-http_get_user http_query_age}; do
    case $op in
    http_get_user) path="/users/1234" ;;
    http_query_age) path="/users?age=30" ;;
    esac
    i=0
    while [ $i -lt "$PAIRS" ]; do
        order=$SERVERS
        [ $((i % 2)) -eq 1 ] && order=$(reversed)
        for s in $order; do
            set -- $(measure "$s" "http://127.0.0.1:$(val $s port)$path")
            printf '%04d %s %s\n' "$i" "$1" "$2" >>"$DIR/$op.$s" # join needs sorted keys
        done
        i=$((i + 1))
    done
    printf '\n%s (%s)\n' "$op" "$path"
    printf '  %-5s %10s %11s\n' server "req/s" "cpu/req us"
    for s in $SERVERS; do
        printf '  %-5s %10.0f %11.1f\n' "$s" "$(awk '{print $2}' "$DIR/$op.$s" | stats | cut -d' ' -f1)" \
            "$(awk '{print $3}' "$DIR/$op.$s" | stats | cut -d' ' -f1)"
    done
    for k in kura kurac; do
        for s in mhd h2o; do
            # per pass: kura's rate over the raw server's, and the raw CPU cost over kura's
            set -- $(join "$DIR/$op.$k" "$DIR/$op.$s" | awk '{print $2 / $4}' | stats) \
                $(join "$DIR/$op.$k" "$DIR/$op.$s" | awk '{print $5 / $3}' | stats)
            printf '  %s/%-4s req/s %.2f (%.2f..%.2f)   cpu/req %.2f (%.2f..%.2f)\n' "$k" "$s" "$@"
        done
    done
done

printf '\nmemory (MiB)  %6s %9s\n' "idle" "peak"
for s in $SERVERS; do
    printf '  %-5s       %6.1f %9.1f\n' "$s" "$(val "$s" idle)" "$(status "$s" VmHWM)"
done
