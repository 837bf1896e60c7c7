#!/bin/sh
# with_mongo_peer.sh START COMMAND... — runs COMMAND with KURA_TEST_MONGO_PEER_URL set to a
# MongoDB wire-protocol test peer (../shared/test-peers/mongo-wire: NOT MongoDB; see its
# README for what it is fair for), started here and stopped on exit. When START does not
# exist, COMMAND runs without the URL and prints its own "skipped:" line.
start=$1
shift
if [ ! -x "$start" ]; then
    echo "skipped: MongoDB wire-protocol test peer: $start does not exist"
    exec "$@"
fi
work=$(mktemp -d /tmp/kura-mongo-peer-XXXXXX)
# start polls server.log while the node process it launched in the background may not
# have opened it yet; an existing (empty) file closes that race.
: >"$work/server.log"
if ! out=$("$start" "$work"); then
    echo "the MongoDB wire-protocol test peer did not start" >&2
    rm -rf "$work"
    exit 1
fi
url=${out% *}
pid=${out##* }
trap 'kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
echo "MongoDB wire-protocol test peer at $url (pid $pid)"
KURA_TEST_MONGO_PEER_URL=$url "$@"
