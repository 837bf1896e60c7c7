#!/usr/bin/env bash
# services.sh — throwaway PostgreSQL and Redis servers for kura's tests.
#
# Source it from bash and call the functions directly (not in a $(...) subshell, or the
# exports are lost):
#
#   . scripts/services.sh
#   trap kura_services_stop EXIT
#   kura_services_start "$(mktemp -d)"
#   ... run tests ...
#   kura_services_stop
#
# kura_services_start DIR starts, with everything under DIR:
#   - a PostgreSQL cluster (initdb from /usr/lib/postgresql/*/bin, trust auth, fsync on)
#     that listens only on a unix socket in DIR/sock (listen_addresses = ''), with a
#     database kura_test whose superuser is named after the calling user;
#   - a redis-server on 127.0.0.1 and a free port, persistence off.
# It exports:
#   KURA_TEST_PG_URL      postgresql:///kura_test?host=DIR/sock
#   KURA_TEST_PG_BIN      the PostgreSQL bin directory (initdb, pg_ctl, psql, ...)
#   KURA_TEST_PG_DATA     the data directory (DIR/pg)
#   KURA_TEST_PG_SOCKDIR  the socket directory (DIR/sock)
#   KURA_TEST_PG_CTL      DIR/pg_ctl: pg_ctl for this cluster, run as the right user, e.g.
#                         "$KURA_TEST_PG_CTL restart" or "$KURA_TEST_PG_CTL stop" then
#                         "$KURA_TEST_PG_CTL start" (restart tests). Extra args go to pg_ctl.
#   KURA_TEST_REDIS_URL   redis://127.0.0.1:PORT/0
#   KURA_TEST_REDIS_PORT  PORT
#   KURA_TEST_REDIS_PIDFILE  DIR/redis.pid: the PID of the redis-server running now
#   KURA_TEST_REDIS_START DIR/redis_start: starts redis-server again on the same port, data
#                         directory and options (after a test killed it), waits until it
#                         answers PING and writes its PID to DIR/redis.pid (outage drills)
#   and a PostgreSQL primary + streaming standby pair (kura_pg_pair below) in DIR/pair,
#   asynchronous, for the replica tests:
#   KURA_TEST_PG_PRIMARY_URL   postgresql:///kura_test?host=DIR/pair/sock&port=5432
#   KURA_TEST_PG_STANDBY_URL   the standby (hot standby: read-only), port 5433
#   KURA_TEST_PG_FAILOVER_URL  both hosts, target_session_attrs=read-write (libpq finds
#                              whichever is the primary)
#   KURA_TEST_PG_PRIMARY_CTL, KURA_TEST_PG_STANDBY_CTL  pg_ctl for each node, run as the
#                              right user ("... stop -m immediate", "... start", "... promote")
#   KURA_TEST_PG_PRIMARY_PIDFILE, KURA_TEST_PG_STANDBY_PIDFILE  their postmaster.pid
#   KURA_TEST_PG_PAIR          DIR/pg_pair: makes another pair for a test that breaks one
#                              (failover): `$KURA_TEST_PG_PAIR DEST [sync]` (below)
# KURA_SERVICES_NO_PAIR=1 before kura_services_start leaves the pair out.
#
# kura_pg_pair DEST [sync] (also DIR/pg_pair DEST [sync], usable from any program) makes a
# pair under DEST from a copy of the initdb'd template (no second initdb): the primary on
# DEST/sock port 5432, a standby made by pg_basebackup -R on port 5433, both on unix
# sockets only. With `sync` the primary has synchronous_standby_names = '*' (a commit is
# acknowledged only once the standby has flushed it). It writes DEST/env (the
# KURA_TEST_PG_* exports above, for this pair) and DEST/stop (stops both by the PIDs in
# their postmaster.pid, promoted or not); `kura_pg_pair_stop DEST` runs it. About 2 s.
#   - a Redis Cluster of 3 masters and 3 replicas on 127.0.0.1 (free ports whose bus port,
#     +10000, is free too, both below the ephemeral range; persistence off, node timeout
#     1000 ms);
#   - a Redis master with 1 replica watched by 3 sentinels (master name "kura", quorum 2,
#     down-after 1000 ms).
#   KURA_TEST_REDIS_CLUSTER_URL    redis://127.0.0.1:PORT (any node: the driver finds the rest)
#   KURA_TEST_REDIS_CLUSTER_PORTS  the six node ports, space-separated
#   KURA_TEST_REDIS_SENTINEL_URL   redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/kura/0
#   KURA_TEST_REDIS_SENTINEL_PORTS the three sentinel ports
#   KURA_TEST_REDIS_SENTINEL_DATA_PORTS  the master's port, then the replica's
#   KURA_TEST_REDIS_PIDDIR         DIR/pids: one PORT.pid per cluster node, data server and
#                                  sentinel (drills kill a master by the PID found there)
# KURA_SERVICES_REDIS_ARGS, when set before kura_services_start, adds redis-server options
# (word-split), e.g. "--appendonly yes --appendfsync always" for a Redis whose acknowledged
# writes survive a kill; without it persistence is off.
# kura_services_stop stops both by PID (SIGINT/SIGTERM, a bounded wait, then SIGKILL)
# and removes DIR. It is idempotent, so it is safe in EXIT/INT/TERM traps.
#
# PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres`
# system user (created by Debian's postgresql package) via runuser, and DIR must be
# reachable by that user (a directory under /tmp from mktemp -d is). As another user they
# run directly. Nothing here touches a system PostgreSQL or Redis: the socket directory,
# data directory and port are private, so both may already be running.
#
# Run directly, `scripts/services.sh check` starts both in a temporary directory, checks
# them with psql and redis-cli, and stops them.
#
# The functions do not change the caller's shell options; they work under set -euo pipefail.

KURA_SERVICES_DIR=${KURA_SERVICES_DIR:-}
_kura_services_self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")
KURA_SERVICES_PG_PID=${KURA_SERVICES_PG_PID:-}
KURA_SERVICES_REDIS_PID=${KURA_SERVICES_REDIS_PID:-}

_kura_svc_log() {
    echo "services: $*" >&2
}

# The newest /usr/lib/postgresql/*/bin that has initdb.
_kura_pg_bindir() {
    local d best=
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] || continue
        if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n 1)" = "$d" ]; then
            best=$d
        fi
    done
    [ -n "$best" ] || return 1
    printf '%s\n' "$best"
}

# Runs a command as the user that owns the PostgreSQL cluster (postgres when we are root),
# from / so the server never starts in a directory it cannot read.
_kura_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# True while PID is a live (not zombie) process.
_kura_alive() {
    local pid=$1 stat
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # drop "pid (comm) ": comm may hold spaces and parentheses
    [ "${stat%% *}" != Z ]
}

# _kura_stop_pid PID NAME SIGNAL: SIGNAL, wait up to 15 s, then SIGKILL.
_kura_stop_pid() {
    local pid=$1 name=$2 sig=$3 i
    [ -n "$pid" ] || return 0
    if _kura_alive "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            _kura_alive "$pid" || break
            sleep 0.1
        done
        if _kura_alive "$pid"; then
            _kura_svc_log "$name (pid $pid) did not stop within 15 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                _kura_alive "$pid" || break
                sleep 0.1
            done
        fi
    fi
    if _kura_alive "$pid"; then
        _kura_svc_log "$name (pid $pid) is still running"
        return 1
    fi
    return 0
}

# A TCP port on 127.0.0.1 that nothing accepts connections on.
_kura_free_port() {
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

_kura_pg_start() {
    local dir=$1 bin user pid i
    bin=$(_kura_pg_bindir) || {
        _kura_svc_log "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb); run scripts/bootstrap"
        return 1
    }
    user=$(id -un)
    mkdir -p "$dir/pg" "$dir/sock" || return 1
    chmod 700 "$dir/pg" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || {
            _kura_svc_log "no 'postgres' system user (is the postgresql package installed?)"
            return 1
        }
        chmod 711 "$dir" || return 1
        chown postgres: "$dir/pg" "$dir/sock" || return 1
        runuser -u postgres -- test -w "$dir/sock" || {
            _kura_svc_log "$dir is not reachable by the postgres user (is a parent directory private?)"
            return 1
        }
    fi

    _kura_as_pg "$bin/initdb" -D "$dir/pg" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || {
        _kura_svc_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        return 1
    }
    # In postgresql.conf, so that a restart through pg_ctl keeps them.
    cat >>"$dir/pg/postgresql.conf" <<CONF || return 1

# kura test cluster
# kura superuser: $user
listen_addresses = ''
unix_socket_directories = '$dir/sock'
port = 5432
fsync = on
max_connections = 100
CONF

    # A template for the replication pairs (kura_pg_pair): a copy is faster than initdb.
    mkdir -p "$dir/pg_template" && chmod 700 "$dir/pg_template" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir/pg_template" || return 1
    fi
    _kura_as_pg cp -a "$dir/pg/." "$dir/pg_template/" || return 1

    # pg_ctl for this cluster, for tests that stop and start the server.
    cat >"$dir/pg_ctl" <<SCRIPT || return 1
#!/usr/bin/env bash
# pg_ctl for the kura test cluster in $dir/pg (generated by scripts/services.sh).
set -euo pipefail
cd /
if [ "\$(id -u)" -eq 0 ] && [ "\$(stat -c %U '$dir/pg')" != root ]; then
    exec runuser -u "\$(stat -c %U '$dir/pg')" -- '$bin/pg_ctl' -D '$dir/pg' -l '$dir/pg.log' -w -t 60 "\$@"
fi
exec '$bin/pg_ctl' -D '$dir/pg' -l '$dir/pg.log' -w -t 60 "\$@"
SCRIPT
    chmod 755 "$dir/pg_ctl" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        touch "$dir/pg.log" && chown postgres: "$dir/pg.log" || return 1
    fi

    "$dir/pg_ctl" start >/dev/null 2>&1 || {
        _kura_svc_log "PostgreSQL did not start:"
        cat "$dir/pg.log" >&2
        return 1
    }
    pid=$(head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null) || true
    KURA_SERVICES_PG_PID=$pid
    echo "$pid" >"$dir/pg.pid"

    for ((i = 0; i < 100; i++)); do
        "$bin/pg_isready" -q -h "$dir/sock" -p 5432 && break
        sleep 0.1
    done
    "$bin/createdb" -h "$dir/sock" -p 5432 kura_test || {
        _kura_svc_log "createdb kura_test failed"
        return 1
    }

    export KURA_TEST_PG_URL="postgresql:///kura_test?host=$dir/sock"
    export KURA_TEST_PG_BIN=$bin
    export KURA_TEST_PG_DATA=$dir/pg
    export KURA_TEST_PG_SOCKDIR=$dir/sock
    export KURA_TEST_PG_CTL=$dir/pg_ctl
}

# _kura_pg_node_ctl DEST NAME: writes DEST/NAME_ctl, pg_ctl for the node in DEST/NAME.
_kura_pg_node_ctl() {
    local dest=$1 name=$2 bin
    bin=$(_kura_pg_bindir) || return 1
    cat >"$dest/${name}_ctl" <<SCRIPT || return 1
#!/usr/bin/env bash
# pg_ctl for the kura test node $dest/$name (generated by scripts/services.sh).
set -euo pipefail
cd /
if [ "\$(id -u)" -eq 0 ] && [ "\$(stat -c %U '$dest/$name')" != root ]; then
    exec runuser -u "\$(stat -c %U '$dest/$name')" -- '$bin/pg_ctl' -D '$dest/$name' -l '$dest/$name.log' -w -t 60 "\$@"
fi
exec '$bin/pg_ctl' -D '$dest/$name' -l '$dest/$name.log' -w -t 60 "\$@"
SCRIPT
    chmod 755 "$dest/${name}_ctl"
    if [ "$(id -u)" -eq 0 ]; then
        touch "$dest/$name.log" && chown postgres: "$dest/$name.log" || return 1
    fi
}

# kura_pg_pair DEST [sync] — see the top of this file.
kura_pg_pair() {
    local dest=${1:?usage: kura_pg_pair DEST [sync]} sync=${2:-} bin template i
    bin=$(_kura_pg_bindir) || return 1
    template=${KURA_SERVICES_DIR:+$KURA_SERVICES_DIR/pg_template}
    [ -n "$template" ] && [ -d "$template" ] || template=${KURA_TEST_PG_TEMPLATE:-}
    [ -n "$template" ] && [ -d "$template" ] || {
        _kura_svc_log "kura_pg_pair: no initdb template (start the services first)"
        return 1
    }
    mkdir -p "$dest/sock" "$dest/primary" "$dest/standby" && dest=$(cd "$dest" && pwd -P) || return 1
    chmod 700 "$dest/primary" "$dest/standby" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        chmod 711 "$dest" && chown postgres: "$dest/sock" "$dest/primary" "$dest/standby" || return 1
    fi
    _kura_as_pg cp -a "$template/." "$dest/primary/" || return 1
    _kura_as_pg rm -f "$dest/primary/postmaster.pid" || true
    # The superuser initdb made (named after the services' caller) connects everywhere.
    local su
    su=$(sed -n "s/^# kura superuser: //p" "$template/postgresql.conf" 2>/dev/null) || su=
    [ -n "$su" ] || su=$(id -un)
    _kura_as_pg tee -a "$dest/primary/postgresql.conf" >/dev/null <<CONF || return 1

# kura replication pair: primary
unix_socket_directories = '$dest/sock'
port = 5432
wal_level = replica
max_wal_senders = 4
hot_standby = on
wal_sender_timeout = 5s
CONF
    _kura_pg_node_ctl "$dest" primary && _kura_pg_node_ctl "$dest" standby || return 1
    "$dest/primary_ctl" start >/dev/null 2>&1 || {
        _kura_svc_log "pair primary did not start:"
        cat "$dest/primary.log" >&2
        return 1
    }
    "$bin/createdb" -h "$dest/sock" -p 5432 -U "$su" kura_test || return 1
    _kura_as_pg "$bin/pg_basebackup" -h "$dest/sock" -p 5432 -U "$su" -D "$dest/standby" -R \
        -X stream -c fast >"$dest/basebackup.log" 2>&1 || {
        _kura_svc_log "pg_basebackup failed:"
        cat "$dest/basebackup.log" >&2
        return 1
    }
    _kura_as_pg tee -a "$dest/standby/postgresql.conf" >/dev/null <<CONF || return 1

# kura replication pair: standby
port = 5433
wal_receiver_timeout = 5s
wal_retrieve_retry_interval = 200ms
CONF
    "$dest/standby_ctl" start >/dev/null 2>&1 || {
        _kura_svc_log "pair standby did not start:"
        cat "$dest/standby.log" >&2
        return 1
    }
    if [ "$sync" = sync ]; then
        "$bin/psql" -X -q -h "$dest/sock" -p 5432 -U "$su" -d kura_test \
            -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" \
            >/dev/null || return 1
    fi
    # Streaming once the primary sees its walsender (a sync commit would wait otherwise).
    for ((i = 0; i < 100; i++)); do
        [ "$("$bin/psql" -X -At -h "$dest/sock" -p 5432 -U "$su" -d kura_test \
            -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
        sleep 0.1
    done
    local q="user=$su"
    cat >"$dest/env" <<ENV
export KURA_TEST_PG_PRIMARY_URL='postgresql:///kura_test?host=$dest/sock&port=5432&$q'
export KURA_TEST_PG_STANDBY_URL='postgresql:///kura_test?host=$dest/sock&port=5433&$q'
export KURA_TEST_PG_FAILOVER_URL='postgresql:///kura_test?host=$dest/sock,$dest/sock&port=5432,5433&target_session_attrs=read-write&$q'
export KURA_TEST_PG_PRIMARY_CTL='$dest/primary_ctl'
export KURA_TEST_PG_STANDBY_CTL='$dest/standby_ctl'
export KURA_TEST_PG_PRIMARY_PIDFILE='$dest/primary/postmaster.pid'
export KURA_TEST_PG_STANDBY_PIDFILE='$dest/standby/postmaster.pid'
ENV
    cat >"$dest/stop" <<SCRIPT
#!/usr/bin/env bash
# Stops the kura test pair in $dest by PID (generated by scripts/services.sh).
. '$_kura_services_self'
rc=0
for node in primary standby; do
    pid=\$(head -n 1 "$dest/\$node/postmaster.pid" 2>/dev/null) || pid=
    _kura_stop_pid "\$pid" "postgres (\$node)" INT || rc=1
done
exit \$rc
SCRIPT
    chmod 755 "$dest/stop"
}

# kura_pg_pair_stop DEST — stops the pair kura_pg_pair made in DEST (DEST stays).
kura_pg_pair_stop() {
    [ -x "${1:?usage: kura_pg_pair_stop DEST}/stop" ] || return 0
    "$1/stop"
}

# Writes DIR/redis_start, which starts redis-server on PORT with everything under DIR
# and the options of KURA_SERVICES_REDIS_ARGS, and writes its PID to DIR/redis.pid.
_kura_redis_script() {
    local dir=$1 port=$2 args=() q=
    # shellcheck disable=SC2206 # word splitting is the documented interface
    args=(--appendonly no ${KURA_SERVICES_REDIS_ARGS:-})
    printf -v q '%q ' "${args[@]}"
    cat >"$dir/redis_start" <<SCRIPT || return 1
#!/usr/bin/env bash
# Starts the kura test Redis in $dir on port $port (generated by scripts/services.sh).
# Its PID goes to $dir/redis.pid; exits 0 once it answers PING, 1 if it does not within 10 s.
set -euo pipefail
cd /
# A subshell that exits at once: the server is no job of the caller's shell.
(
    redis-server --bind 127.0.0.1 --port $port --save '' $q \\
        --daemonize no --dir '$dir/redis' --logfile '$dir/redis.log' </dev/null >/dev/null 2>&1 &
    echo "\$!" >'$dir/redis.pid'
)
pid=\$(cat '$dir/redis.pid')
for ((i = 0; i < 100; i++)); do
    [ -d "/proc/\$pid" ] || exit 1
    [ "\$(redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null)" = PONG ] && exit 0
    sleep 0.1
done
exit 1
SCRIPT
    chmod 755 "$dir/redis_start"
}

_kura_redis_start() {
    local dir=$1 port pid attempt i
    command -v redis-server >/dev/null 2>&1 || {
        _kura_svc_log "redis-server is missing; run scripts/bootstrap"
        return 1
    }
    mkdir -p "$dir/redis" || return 1
    for ((attempt = 0; attempt < 5; attempt++)); do
        port=$(_kura_free_port) || {
            _kura_svc_log "no free TCP port found"
            return 1
        }
        _kura_redis_script "$dir" "$port" || return 1
        "$dir/redis_start" >/dev/null 2>&1 || true # waited for below, as on any attempt
        pid=$(cat "$dir/redis.pid") || return 1
        for ((i = 0; i < 100; i++)); do
            _kura_alive "$pid" || break
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
                KURA_SERVICES_REDIS_PID=$pid
                export KURA_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
                export KURA_TEST_REDIS_PORT=$port
                export KURA_TEST_REDIS_PIDFILE=$dir/redis.pid
                export KURA_TEST_REDIS_START=$dir/redis_start
                return 0
            fi
            sleep 0.1
        done
        _kura_stop_pid "$pid" redis-server TERM || true # port taken meanwhile, or too slow
    done
    _kura_svc_log "redis-server did not start:"
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    return 1
}

# A port P on 127.0.0.1 with P and P+10000 (a cluster node's bus port) both free and not
# in the list given. Both stay below the kernel's ephemeral range: a port in it can be
# taken at any moment by some program's outgoing connection, which a listen check cannot
# see coming (bind then fails with "Address already in use").
_kura_free_port_pair() {
    local port i low=32768 span
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    span=$((low - 10000 - 12000))
    [ "$span" -gt 100 ] || span=10000 # an unusual range: take our chances above 12000
    for ((i = 0; i < 200; i++)); do
        port=$((12000 + (RANDOM * 32768 + RANDOM) % span))
        case " $* " in *" $port "* | *" $((port + 10000)) "* | *" $((port - 10000)) "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
            ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# _kura_redis_bg DIR PORT [CONF] ARGS...: a redis-server in the background, persistence
# off, its files in DIR/nodes/PORT and its PID in DIR/pids/PORT.pid. CONF, a path ending in
# .conf, is its configuration file (which redis-server wants first: sentinels).
_kura_redis_bg() {
    local dir=$1 port=$2 conf=()
    shift 2
    case ${1:-} in *.conf) conf=("$1") && shift ;; esac
    mkdir -p "$dir/nodes/$port" "$dir/pids" || return 1
    # A subshell that exits at once: the server is no job of the caller's shell (which
    # would report "Killed" when a drill kills it).
    (
        cd / || exit 1
        redis-server "${conf[@]}" --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
            --dir "$dir/nodes/$port" --logfile "$dir/nodes/$port/redis.log" --daemonize no \
            "$@" </dev/null >/dev/null 2>&1 &
        echo "$!" >"$dir/pids/$port.pid"
    )
}

# _kura_redis_wait PORT [PORT...]: until each answers PING (10 s at most).
_kura_redis_wait() {
    local port i
    for port in "$@"; do
        for ((i = 0; i < 100; i++)); do
            [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
            sleep 0.1
        done
        [ "$i" -lt 100 ] || return 1
    done
}

# _kura_redis_stop_ports DIR PORT...: stops the servers _kura_redis_bg started there.
_kura_redis_stop_ports() {
    local dir=$1 port pid rc=0
    shift
    for port in "$@"; do
        pid=$(cat "$dir/pids/$port.pid" 2>/dev/null) || continue
        _kura_stop_pid "$pid" "redis-server :$port" TERM || rc=1
        rm -f "$dir/pids/$port.pid"
    done
    return "$rc"
}

# Six cluster nodes, then redis-cli --cluster create, then cluster_state:ok everywhere.
_kura_redis_cluster_start() {
    local dir=$1 ports=() p attempt i ok
    for ((attempt = 0; attempt < 3; attempt++)); do
        ports=()
        for ((i = 0; i < 6; i++)); do
            p=$(_kura_free_port_pair "${ports[@]}") || return 1
            ports+=("$p")
        done
        for p in "${ports[@]}"; do
            rm -f "$dir/nodes/$p/nodes.conf"
            _kura_redis_bg "$dir" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
                --cluster-node-timeout 1000 --cluster-replica-validity-factor 0 \
                --repl-diskless-sync yes --repl-diskless-sync-delay 0 || return 1
        done
        if _kura_redis_wait "${ports[@]}" &&
            redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 1 \
                --cluster-yes >"$dir/cluster-create.log" 2>&1; then
            # By the clock, not by a count: on a loaded machine each redis-cli takes a while.
            local until=$((SECONDS + 20))
            while :; do
                ok=1
                for p in "${ports[@]}"; do
                    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || {
                        ok=0
                        break
                    }
                done
                [ "$ok" = 1 ] || [ "$SECONDS" -ge "$until" ] && break
                sleep 0.1
            done
            if [ "$ok" = 1 ]; then
                export KURA_TEST_REDIS_CLUSTER_URL="redis://127.0.0.1:${ports[0]}"
                export KURA_TEST_REDIS_CLUSTER_PORTS="${ports[*]}"
                return 0
            fi
        fi
        _kura_svc_log "Redis Cluster on ${ports[*]} did not form (attempt $((attempt + 1)) of 3):" \
            "$(tail -n 3 "$dir/cluster-create.log" 2>/dev/null | tr '\n' ' ')"
        _kura_redis_stop_ports "$dir" "${ports[@]}" || true # a port taken meanwhile, or too slow
    done
    _kura_svc_log "the Redis Cluster did not form:"
    tail -n 20 "$dir/cluster-create.log" >&2 2>/dev/null || true
    return 1
}

# A master, its replica and three sentinels watching them as "kura" (ports picked afresh
# and tried again when one was taken meanwhile).
_kura_redis_sentinel_start() {
    local dir=$1 attempt
    for ((attempt = 0; attempt < 3; attempt++)); do
        _kura_redis_sentinel_try "$dir" && return 0
    done
    _kura_svc_log "the sentinel-managed Redis did not start; its logs:"
    tail -n 5 "$dir"/nodes/*/redis.log >&2 2>/dev/null || true
    return 1
}

_kura_redis_sentinel_try() {
    local dir=$1 ports=() p i s up=
    for ((i = 0; i < 5; i++)); do
        # shellcheck disable=SC2086 # the cluster's ports, one argument each
        p=$(_kura_free_port_pair ${KURA_TEST_REDIS_CLUSTER_PORTS:-} "${ports[@]}") || return 1
        ports+=("$p")
    done
    _kura_redis_bg "$dir" "${ports[0]}" --repl-diskless-sync yes --repl-diskless-sync-delay 0 &&
        _kura_redis_bg "$dir" "${ports[1]}" --replicaof 127.0.0.1 "${ports[0]}" || return 1
    for s in "${ports[@]:2}"; do
        mkdir -p "$dir/nodes/$s" || return 1
        # Sentinels rewrite their configuration file, so each has its own.
        cat >"$dir/nodes/$s/sentinel.conf" <<CONF || return 1
sentinel monitor kura 127.0.0.1 ${ports[0]} 2
sentinel down-after-milliseconds kura 1000
sentinel failover-timeout kura 4000
sentinel parallel-syncs kura 1
CONF
        _kura_redis_bg "$dir" "$s" "$dir/nodes/$s/sentinel.conf" --sentinel || return 1
    done
    if _kura_redis_wait "${ports[@]}"; then
        for ((i = 0; i < 100; i++)); do
            up=$(redis-cli -p "${ports[1]}" info replication 2>/dev/null | tr -d '\r' |
                sed -n 's/^master_link_status://p')
            [ "$up" = up ] && break
            sleep 0.1
        done
    fi
    if [ "$up" != up ]; then
        _kura_redis_stop_ports "$dir" "${ports[@]}" || true
        return 1
    fi
    export KURA_TEST_REDIS_SENTINEL_URL="redis+sentinel://127.0.0.1:${ports[2]},127.0.0.1:${ports[3]},127.0.0.1:${ports[4]}/kura/0"
    export KURA_TEST_REDIS_SENTINEL_PORTS="${ports[*]:2}"
    export KURA_TEST_REDIS_SENTINEL_DATA_PORTS="${ports[*]:0:2}"
}

# kura_services_start DIR — see the top of this file.
kura_services_start() {
    local dir=${1:?usage: kura_services_start DIR}
    if [ -n "$KURA_SERVICES_DIR" ]; then
        _kura_svc_log "services already started in $KURA_SERVICES_DIR"
        return 1
    fi
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd -P) || return 1
    KURA_SERVICES_DIR=$dir
    export KURA_TEST_REDIS_PIDDIR=$dir/pids
    if ! _kura_pg_start "$dir" || ! _kura_redis_start "$dir" ||
        ! _kura_redis_cluster_start "$dir" || ! _kura_redis_sentinel_start "$dir"; then
        kura_services_stop
        return 1
    fi
    cat >"$dir/pg_pair" <<SCRIPT || return 1
#!/usr/bin/env bash
# Makes a PostgreSQL primary + standby pair under DEST (see scripts/services.sh).
set -euo pipefail
. '$_kura_services_self'
KURA_TEST_PG_TEMPLATE='$dir/pg_template'
kura_pg_pair "\$@"
SCRIPT
    chmod 755 "$dir/pg_pair"
    export KURA_TEST_PG_PAIR=$dir/pg_pair
    if [ "${KURA_SERVICES_NO_PAIR:-}" != 1 ]; then
        if ! kura_pg_pair "$dir/pair"; then
            kura_services_stop
            return 1
        fi
        # shellcheck source=/dev/null
        . "$dir/pair/env"
    fi
    return 0
}

# kura_services_stop — stops what kura_services_start started and removes its DIR.
kura_services_stop() {
    local dir=$KURA_SERVICES_DIR pid rc=0
    [ -n "$dir" ] || return 0

    # Cluster nodes, sentinels and their data servers: every PID file left in DIR/pids
    # (a drill removes the file of a server it killed, or leaves it for this to reap).
    local f
    for f in "$dir"/pids/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null) || continue
        _kura_stop_pid "$pid" "redis-server $(basename "$f" .pid)" TERM || rc=1
    done

    # A test may have killed and restarted Redis (redis_start): its PID is in redis.pid.
    pid=$(cat "$dir/redis.pid" 2>/dev/null) || pid=
    if [ -n "$pid" ] && [ "$pid" != "$KURA_SERVICES_REDIS_PID" ]; then
        _kura_stop_pid "$pid" redis-server TERM || rc=1
    fi
    _kura_stop_pid "$KURA_SERVICES_REDIS_PID" redis-server TERM || rc=1

    # A test may have restarted PostgreSQL: the live postmaster's PID is in postmaster.pid.
    pid=$(head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null) || pid=
    if [ -n "$pid" ] && [ "$pid" != "$KURA_SERVICES_PG_PID" ]; then
        _kura_stop_pid "$pid" postgres INT || rc=1 # SIGINT: fast shutdown
    fi
    _kura_stop_pid "$KURA_SERVICES_PG_PID" postgres INT || rc=1
    kura_pg_pair_stop "$dir/pair" || rc=1

    case $dir in
    / | "$HOME" | "") ;;
    *) rm -rf -- "$dir" ;;
    esac
    KURA_SERVICES_DIR=
    KURA_SERVICES_PG_PID=
    KURA_SERVICES_REDIS_PID=
    unset KURA_TEST_PG_URL KURA_TEST_PG_BIN KURA_TEST_PG_DATA KURA_TEST_PG_SOCKDIR KURA_TEST_PG_CTL
    unset KURA_TEST_PG_PRIMARY_URL KURA_TEST_PG_STANDBY_URL KURA_TEST_PG_FAILOVER_URL KURA_TEST_PG_PAIR
    unset KURA_TEST_PG_PRIMARY_CTL KURA_TEST_PG_STANDBY_CTL KURA_TEST_PG_PRIMARY_PIDFILE
    unset KURA_TEST_PG_STANDBY_PIDFILE
    unset KURA_TEST_REDIS_URL KURA_TEST_REDIS_PORT KURA_TEST_REDIS_PIDFILE KURA_TEST_REDIS_START
    unset KURA_TEST_REDIS_CLUSTER_URL KURA_TEST_REDIS_CLUSTER_PORTS KURA_TEST_REDIS_SENTINEL_URL
    unset KURA_TEST_REDIS_SENTINEL_PORTS KURA_TEST_REDIS_SENTINEL_DATA_PORTS KURA_TEST_REDIS_PIDDIR
    return "$rc"
}

_kura_services_check() {
    set -euo pipefail
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kura-services.XXXXXX")
    trap kura_services_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    kura_services_start "$dir"
    echo "PostgreSQL: $KURA_TEST_PG_URL (pid $KURA_SERVICES_PG_PID)"
    echo "Redis:      $KURA_TEST_REDIS_URL (pid $KURA_SERVICES_REDIS_PID)"
    echo "Cluster:    $KURA_TEST_REDIS_CLUSTER_URL (ports $KURA_TEST_REDIS_CLUSTER_PORTS)"
    echo "Sentinel:   $KURA_TEST_REDIS_SENTINEL_URL"
    "$KURA_TEST_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$KURA_TEST_PG_URL" \
        -c "select current_database(), current_setting('fsync'), current_setting('listen_addresses') = ''"
    redis-cli -p "$KURA_TEST_REDIS_PORT" ping
    if [ -n "${KURA_TEST_PG_STANDBY_URL:-}" ]; then
        "$KURA_TEST_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$KURA_TEST_PG_STANDBY_URL" \
            -c "select 'standby', pg_is_in_recovery()"
        "$KURA_TEST_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$KURA_TEST_PG_FAILOVER_URL" \
            -c "select 'failover url', pg_is_in_recovery()"
    fi
    local p
    for p in $KURA_TEST_REDIS_CLUSTER_PORTS; do
        redis-cli -p "$p" cluster info | grep -q '^cluster_state:ok' || {
            echo "cluster node $p is not ok" >&2
            return 1
        }
    done
    p=${KURA_TEST_REDIS_SENTINEL_PORTS%% *}
    redis-cli -p "$p" sentinel get-master-addr-by-name kura | tr '\n' ' '
    echo
    kura_services_stop
    trap - EXIT
    [ ! -e "$dir" ] || {
        echo "$dir was not removed" >&2
        return 1
    }
    echo "stopped; $dir removed"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    check) _kura_services_check ;;
    *)
        echo "usage: $0 check   (or source it and call kura_services_start DIR / kura_services_stop)" >&2
        exit 2
        ;;
    esac
fi
