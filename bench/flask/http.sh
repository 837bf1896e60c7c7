#!/usr/bin/env bash
# bench/flask/http.sh — http_get_user and http_query_age (docs/BENCHMARKS.md)
# against kura serve (BUILD/guide_service) and the guide's Flask app
# (bench/flask/app.py under gunicorn, 2 sync workers), on copies of one
# freshly seeded database, in interleaved pairs: each pair runs wrk on one
# server then the other, the order alternating. Prints the median requests/s of
# each, the median of the per-pair ratios kura/Flask with min–max, and each
# server's resident memory after the load (gunicorn: the sum of its workers).
#
#   bench/flask/http.sh BUILD_DIR [--quick] [--csv FILE]
#
# Environment: PAIRS (default 10), DURATION (wrk seconds per side, default 3s),
# CONNECTIONS (default 32). Needs wrk, curl, gunicorn, python3-flask-sqlalchemy.
set -euo pipefail
BUILD=${1:?usage: bench/flask/http.sh BUILD_DIR [--quick] [--csv FILE]}
shift
PAIRS=${PAIRS:-10} DURATION=${DURATION:-3s} CSV= N=10000
while [ $# -gt 0 ]; do
    case $1 in
    --quick) PAIRS=2 DURATION=1s N=1000 ;;
    --csv) CSV=$2; shift ;;
    *) echo "http.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KURA=$BUILD/guide_service
for tool in wrk curl gunicorn; do
    command -v $tool >/dev/null || { echo "flask/http.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$KURA" ] || { echo "flask/http.sh: build $KURA first" >&2; exit 1; }

DIR=$(mktemp -d /tmp/kura-flask-bench.XXXXXX)
KPID= GPID=
cleanup() {
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null || true
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_up() {
    local i=0
    until curl -fs "http://127.0.0.1:$1$2" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 200 ] && { echo "flask/http.sh: server on $1 did not start" >&2; exit 1; }
        sleep 0.05
    done
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# One database seeded by kura (the same schema and values Flask-SQLAlchemy writes),
# copied for Flask.
"$KURA" migrate --redis-url "embedded:///$DIR/kv.db" --database-url "sqlite:///$DIR/kura.db" >/dev/null
"$KURA" seed $N --redis-url "embedded:///$DIR/kv.db" --database-url "sqlite:///$DIR/kura.db" >/dev/null 2>&1
cp "$DIR/kura.db" "$DIR/flask.db"

KPORT=$(free_port)
"$KURA" serve --port "$KPORT" --database-url "sqlite:///$DIR/kura.db" --redis-url "embedded:///$DIR/kv.db" --log-level warn \
    >/dev/null 2>&1 &
KPID=$!
GPORT=$(free_port)
FLASK_BENCH_DB="$DIR/flask.db" /usr/bin/python3 -m gunicorn --chdir "$here" -w 2 -k sync \
    -b "127.0.0.1:$GPORT" --log-level warning app:app >/dev/null 2>&1 &
GPID=$!
wait_up "$KPORT" /users/1
wait_up "$GPORT" /users/1

# Same answers on both sides (as parsed JSON: the servers may space it differently).
ID=$((N < 1234 ? N / 2 : 1234))
for path in "/users/$ID" "/users?age=30"; do
    curl -fs "http://127.0.0.1:$KPORT$path" >"$DIR/k.json"
    curl -fs "http://127.0.0.1:$GPORT$path" >"$DIR/f.json"
    python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(a!=b)' \
        "$DIR/k.json" "$DIR/f.json" ||
        { echo "flask/http.sh: $path differs between kura serve and Flask" >&2;
          head -c 300 "$DIR/k.json"; echo; head -c 300 "$DIR/f.json"; echo; exit 1; }
done

rate() { wrk -t2 -c"${CONNECTIONS:-32}" -d"$DURATION" "$1" | awk '/^Requests\/sec:/ { print $2 }'; }

echo
echo "HTTP: kura serve vs the guide's Flask app (gunicorn, 2 sync workers), N=$N," \
     "wrk -t2 -c${CONNECTIONS:-32} -d$DURATION, $PAIRS interleaved pairs"
printf '| %-16s | %11s | %11s | %10s | %13s | %10s | %16s |\n' operation "Flask req/s" \
    "kura req/s" kura/Flask "min–max" "kura RSS" "gunicorn RSS"
echo '|------------------|------------:|------------:|-----------:|--------------:|-----------:|-----------------:|'
for op in http_get_user http_query_age; do
    case $op in
    http_get_user) path="/users/$ID" ;;
    http_query_age) path="/users?age=30" ;;
    esac
    : >"$DIR/pairs"
    for ((p = 0; p < PAIRS; p++)); do
        if ((p % 2 == 0)); then
            k=$(rate "http://127.0.0.1:$KPORT$path"); f=$(rate "http://127.0.0.1:$GPORT$path")
        else
            f=$(rate "http://127.0.0.1:$GPORT$path"); k=$(rate "http://127.0.0.1:$KPORT$path")
        fi
        echo "$k $f" >>"$DIR/pairs"
    done
    krss=$(rss_kb "$KPID")
    grss=0
    for w in $(pgrep -P "$GPID"); do grss=$((grss + $(rss_kb "$w"))); done
    grss_master=$(rss_kb "$GPID")
    python3 - "$DIR/pairs" "$op" "$krss" "$grss" "$grss_master" "$N" "$CSV" <<'PY'
import statistics, sys
path, op, krss, grss, gmaster, n, csv = sys.argv[1:]
pairs = [tuple(map(float, l.split())) for l in open(path) if l.strip()]
k = statistics.median(p[0] for p in pairs)
f = statistics.median(p[1] for p in pairs)
r = sorted(p[0] / p[1] for p in pairs if p[1] > 0)
med = statistics.median(r)
print("| %-16s | %11.0f | %11.0f | %10.2f | %5.2f – %5.2f | %7.1f MB | %8.1f MB (+%.0f) |"
      % (op, f, k, med, r[0], r[-1], int(krss) / 1024, int(grss) / 1024, int(gmaster) / 1024))
if csv:
    with open(csv, "a") as out:
        q = statistics.quantiles(r, n=4) if len(r) > 1 else [med, med, med]
        out.write("http-flask,flask,%s,%s,request,%.6g,%.6g,%.4f,%.4f,%.4f,%.4f,%.4f,0\n"
                  % (n, op, 1e6 / f, 1e6 / k, med, r[0], r[-1], q[0], q[2]))
        out.write("http-flask-rss,flask,%s,%s,MB,%.1f,%.1f,0,0,0,0,0,0\n"
                  % (n, op, int(grss) / 1024, int(krss) / 1024))
PY
done
echo "(kura/Flask = kura req/s / Flask req/s per pair; RSS after the load: kura serve's" \
     "process, gunicorn's 2 workers summed (+ its master))"
