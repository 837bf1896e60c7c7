#!/bin/sh
# mongoc_on_demand.sh BIN — libmongoc is loaded only when a MongoDB store is used:
# the kura command does not link it, a `serve` on the embedded defaults never maps
# it, and one given a mongodb:// document URL (the wire-protocol test peer,
# KURA_TEST_MONGO_PEER_URL, set by with_mongo_peer.sh) loads it and answers from it.
set -eu
bin=$1
if ldd "$bin" | grep -q libmongoc; then
    echo "FAIL: $bin links libmongoc" >&2
    exit 1
fi
dir=$(mktemp -d /tmp/kura-mongoc-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up() {
    i=0
    until curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 200 ] && { echo "FAIL: serve did not start" >&2; exit 1; }
        sleep 0.05
    done
}
p=$(port)
"$bin" serve --port "$p" --database-url "sqlite:///$dir/a.db" --log-level warn &
pid=$!
up "$p"
curl -fs "http://127.0.0.1:$p/me_users" >/dev/null
if grep -q libmongoc "/proc/$pid/maps"; then
    echo "FAIL: serve on the embedded defaults loaded libmongoc" >&2
    exit 1
fi
kill "$pid"; wait "$pid" || true; pid=
echo "ok: not linked, not loaded on the embedded defaults"
if [ -z "${KURA_TEST_MONGO_PEER_URL:-}" ]; then
    echo "skipped: serving from MongoDB: no wire-protocol test peer (the first half passed)"
    exit 77
fi
p=$(port)
KURA_DOCUMENT_URL="$KURA_TEST_MONGO_PEER_URL" "$bin" serve --port "$p" \
    --database-url "sqlite:///$dir/b.db" --log-level warn &
pid=$!
up "$p"
code=$(curl -s -o "$dir/out" -w '%{http_code}' -X POST "http://127.0.0.1:$p/me_users" \
    -H 'Content-Type: application/json' \
    -d '{"name":"ann","email":"ann@example.com","age":30,"sex":"F","id":"a-1"}')
[ "$code" = 201 ] || { echo "FAIL: POST /me_users answered $code: $(cat "$dir/out")" >&2; exit 1; }
grep -q libmongoc "/proc/$pid/maps" || { echo "FAIL: libmongoc is not loaded" >&2; exit 1; }
echo "ok: loaded on demand, and a document written through it"
