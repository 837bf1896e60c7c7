#!/bin/sh
# pg_down_at_start.sh BIN — `serve` with its database on a PostgreSQL server that is
# down at start: it starts all the same, the routes that need the database answer
# 503 (and /health says so) while the others answer, and once the server is back
# the start-up migration runs by itself and every route answers. Stops the test
# cluster (KURA_TEST_PG_CTL, KURA_TEST_PG_DATA) and always starts it again.
set -eu
bin=$1
if [ -z "${KURA_TEST_PG_URL:-}" ] || [ -z "${KURA_TEST_PG_CTL:-}" ] || [ -z "${KURA_TEST_PG_DATA:-}" ] || [ -z "${KURA_TEST_PG_BIN:-}" ]; then
    echo "skipped: KURA_TEST_PG_URL, KURA_TEST_PG_CTL, KURA_TEST_PG_DATA or KURA_TEST_PG_BIN not set"
    [ "${KURA_TEST_REQUIRE_SERVERS:-}" = 1 ] && exit 1
    exit 77
fi
dir=$(mktemp -d /tmp/kura-pgdown-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    "$KURA_TEST_PG_CTL" -D "$KURA_TEST_PG_DATA" status >/dev/null 2>&1 ||
        "$KURA_TEST_PG_CTL" -D "$KURA_TEST_PG_DATA" start -w >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p$1"; }
# No users table: only the start-up migration, retried once the server is back,
# can make the one /users reads at the end.
"$KURA_TEST_PG_BIN/psql" -qX "$KURA_TEST_PG_URL" -c 'DROP TABLE IF EXISTS sa_user' >/dev/null
"$KURA_TEST_PG_CTL" -D "$KURA_TEST_PG_DATA" stop -m fast >/dev/null
p=$(port)
"$bin" serve --port "$p" --database-url "$KURA_TEST_PG_URL" \
    --redis-url "embedded:///$dir/kv.db" --log-level warn 2>"$dir/log" &
pid=$!
i=0
until [ "$(status /health)" != 000 ]; do
    i=$((i + 1)); [ $i -gt 200 ] && { echo "FAIL: serve did not start with the database down" >&2; cat "$dir/log" >&2; exit 1; }
    sleep 0.05
done
[ "$(status /health)" = 503 ] || { echo "FAIL: /health is not 503 with the database down" >&2; exit 1; }
[ "$(status /users/1)" = 503 ] || { echo "FAIL: /users/1 is not 503 with the database down" >&2; exit 1; }
[ "$(status /rankings/board)" = 200 ] || { echo "FAIL: /rankings (embedded key-value) is not 200" >&2; exit 1; }
grep -q "serving anyway" "$dir/log" || { echo "FAIL: no log line says the database is away" >&2; exit 1; }
"$KURA_TEST_PG_CTL" -D "$KURA_TEST_PG_DATA" start -w >/dev/null
i=0
until [ "$(status '/users?limit=1')" = 200 ] && [ "$(status /health)" = 200 ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: not serving 10 s after the database came back" >&2; cat "$dir/log" >&2; exit 1; }
    sleep 0.1
done
echo "ok: served with the database down, and all of it once it was back"
