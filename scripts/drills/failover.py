#!/usr/bin/python3
"""Drill 5, PostgreSQL failover under write load: a primary with a synchronous standby
(synchronous_standby_names = '*', a pair from scripts/services.sh's pg_pair), the
guide's service on a multi-host URL (both hosts, target_session_attrs=read-write), a
load of POST /users and GET /users/{id}; then the primary is lost (kill -9 of the
postmaster and every process of that cluster at once, as when its machine dies) and
the standby is promoted (pg_ctl promote) after `detect` seconds, as a failover
manager would.

Checked, on one service process that is never restarted:
  - every request is answered: 2xx, or 503 application/problem+json while no primary
    is reachable (never a 500, never a hang: every request is bounded by
    drillkit.REQUEST_TIMEOUT_S, and a timed-out or cut request is a failure);
  - the standby is also the service's read replica: /health and /metrics show both
    nodes; reads between the loss and the promotion are counted (the replica answers
    those of threads that have not written since a check saw it catch up);
  - writes resume on the promoted standby without restarting the service (libpq's
    multi-host URL finds the new primary);
  - every write acknowledged (201) is on the new primary afterwards (psql): with a
    synchronous standby, none is lost. A write whose connection broke before its
    answer is a 503 saying its outcome is unknown; those are counted, and may or may
    not be there.

    failover.py BIN WORKDIR [--warm S] [--detect S] [--recover S]
"""
import argparse
import collections
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drillkit as dk  # noqa: E402

MIX = {"users_post": 6, "users_get": 3, "health": 1}
WORKERS = 4
THREADS = 4


def make_pair(dest):
    """A fresh synchronous pair under dest; its settings (KURA_TEST_PG_* of that pair)."""
    out = subprocess.run([dk.env_required("KURA_TEST_PG_PAIR"), dest, "sync"],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise dk.DrillError("pg_pair did not make a pair: " + (out.stderr or out.stdout).strip())
    env = {}
    with open(os.path.join(dest, "env")) as f:
        for line in f:
            if line.startswith("export "):
                k, v = line[len("export "):].strip().split("=", 1)
                env[k] = shlex.split(v)[0]
    return env


def stop_pair(dest):
    subprocess.run([os.path.join(dest, "stop")], capture_output=True, timeout=120)


def psql_url(url, sql):
    out = subprocess.run([dk.pg_bin("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                          "-d", url, "-c", sql], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise dk.DrillError(f"psql: {sql}: {out.stderr.strip()}")
    return out.stdout.strip()


def cluster_pids(postmaster):
    """The postmaster and its children (backends, walsender, checkpointer ...)."""
    pids = [postmaster]
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == postmaster:
            pids.append(int(d))
    return pids


def lose_primary(pidfile):
    """kill -9 of every process of the primary's cluster at once."""
    with open(pidfile) as f:
        postmaster = int(f.readline())
    pids = cluster_pids(postmaster)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    t_dead = dk.now()
    for p in pids:
        dk.wait_dead(p, 10)
    return len(pids), t_dead


def failover_drill(binary, work, warm, detect, recover, rng):
    res = dk.Result("failover", "postgresql, sync standby")
    # Not under work: the postgres user (the servers' owner when we are root) must reach
    # it, and pg_pair opens only the directory it is given (mkdtemp's own is private).
    dest = tempfile.mkdtemp(prefix="kura-failover-pair.")
    print(f"failover: making a primary + synchronous standby in {dest}", flush=True)
    pair = make_pair(dest)
    svc = None
    try:
        url = pair["KURA_TEST_PG_FAILOVER_URL"] + "&connect_timeout=2"
        env = dk.clean_env({
            "KURA_DATABASE_URL": url,
            "KURA_DOCUMENT_URL": "sqlite:///" + os.path.join(work, "failover-docs.db"),
            "KURA_REDIS_URL": "embedded:///" + os.path.join(work, "failover-kv.db"),
            # The standby is also a read replica: reads need no primary.
            "KURA_DATABASE_REPLICA_URLS": pair["KURA_TEST_PG_STANDBY_URL"],
            "KURA_DATABASE_REPLICA_CHECK_MS": "100",
        })
        svc = dk.Service(binary, env, os.path.join(work, "failover.log"), threads=THREADS).start()
        c = svc.client()
        r = c.request("POST", "/users", dk.user_body("reader"))
        if r.status != 201:
            raise dk.DrillError(f"POST /users answered {r.status} {r.body[:200]!r}")
        user_id = r.json()["id"]
        time.sleep(0.3)  # a check sees the standby replay that write
        h = c.request("GET", "/health").json() or {}
        nodes = {n["name"]: n for n in h.get("stores", {}).get("sql", {}).get("nodes", [])}
        res.check(nodes.get("replica1", {}).get("status") == "ok"
                  and nodes.get("primary", {}).get("status") == "ok",
                  f"/health shows the primary and the replica in use: {list(nodes.values())}")
        m = c.request("GET", "/metrics").body.decode()
        res.check('kura_sql_node_up{node="replica1"' in m, "/metrics has kura_sql_node_up")
        c.close()
        res.check(psql_url(pair["KURA_TEST_PG_PRIMARY_URL"],
                           "SHOW synchronous_standby_names") == "*",
                  "the primary has synchronous_standby_names = '*'")

        load = dk.Load(svc.port, MIX, WORKERS, "fo", user_id,
                       seed=rng.randrange(1 << 30)).start()
        time.sleep(warm)
        n, t_kill = lose_primary(pair["KURA_TEST_PG_PRIMARY_PIDFILE"])
        time.sleep(detect)
        t_promote0 = dk.now()
        out = subprocess.run([pair["KURA_TEST_PG_STANDBY_CTL"], "promote"], capture_output=True,
                             text=True, timeout=120)
        t_promoted = dk.now()
        res.check(out.returncode == 0, "pg_ctl promote of the standby: "
                  + (out.stdout + out.stderr).strip().replace("\n", " ")[:120])
        time.sleep(recover)
        load.stop()
        print(f"failover: killed {n} processes of the primary; promoted "
              f"{t_promoted - t_kill:.2f} s after the kill (promote took "
              f"{t_promoted - t_promote0:.2f} s)", flush=True)

        recs = load.records
        by_status = collections.Counter((x.cls, x.status) for x in recs)
        bad = [x for x in recs if x.status not in (200, 201, 503)]
        # /health's 503 is its own JSON naming the store; every other 503 a problem.
        not_problem = [x for x in recs if x.status == 503 and x.cls != "health"
                       and x.ctype != "application/problem+json"]
        res.check(not bad, f"every request answered 2xx or 503 ({len(recs)} requests"
                  + (f"; {len(bad)} others, e.g. {bad[0].status} {bad[0].error or ''} "
                     f"{bad[0].body[:120]!r}" if bad else "") + ")")
        res.check(not not_problem, "every 503 (but /health's JSON) is application/problem+json")
        slowest = max((x.seconds for x in recs), default=0)
        res.check(slowest < dk.REQUEST_TIMEOUT_S, f"no hang: slowest request {dk.fmt_s(slowest)}")

        reads = [x for x in recs if x.cls == "users_get" and t_kill < x.t0 < t_promoted]
        reads_ok = sum(x.status == 200 for x in reads)

        writes = [x for x in recs if x.cls == "users_post"]
        failed = [x for x in writes if x.status != 201]
        after = [x for x in writes if x.t0 > t_promoted and x.status == 201]
        res.check(after, f"writes resumed after the promotion ({len(after)} acknowledged)")
        window = (max(x.t1 for x in failed) - min(x.t0 for x in failed)) if failed else 0.0
        first_ok = min((x.t1 for x in writes if x.t0 > t_kill and x.status == 201), default=None)
        unknown = [x for x in failed if b"may or may not" in x.body]

        acked = load.acked_users
        ids = ",".join(str(i) for i, _ in acked) or "0"
        new_primary = pair["KURA_TEST_PG_STANDBY_URL"]
        res.check(psql_url(new_primary, "SELECT pg_is_in_recovery()") == "f",
                  "the standby is the primary now")
        rows = psql_url(new_primary, f"SELECT id || ' ' || name FROM sa_user WHERE id IN ({ids})")
        have = {tuple(line.split(" ", 1)) for line in rows.splitlines() if line}
        lost = [(i, name) for i, name in acked if (str(i), name) not in have]
        res.check(not lost, f"every acknowledged write is on the new primary: {len(acked)} "
                  f"acknowledged, {len(lost)} lost" + (f", e.g. {lost[:3]}" if lost else ""))
        statuses = ", ".join(f"{c} {s}: {k}" for (c, s), k in sorted(by_status.items()))
        res.figure = (f"{len(acked)} writes acknowledged, {len(lost)} lost; writes failed "
                      f"for {dk.fmt_s(window)} (first write ok "
                      f"{dk.fmt_s(first_ok - t_kill) if first_ok else 'never'} after the kill, "
                      f"promotion at {dk.fmt_s(t_promoted - t_kill)}); {len(failed)} writes "
                      f"failed, {'all 503 problem+json' if not bad and not not_problem else 'NOT all 503'}"
                      f" ({len(unknown)} outcome unknown); reads between the kill and the "
                      f"promotion: {reads_ok} of {len(reads)} answered 200; "
                      f"statuses: {statuses}")
        res.data = {"acked": len(acked), "lost": len(lost), "window_s": window,
                    "promoted_s": t_promoted - t_kill,
                    "first_ok_s": (first_ok - t_kill) if first_ok else None,
                    "failed_writes": len(failed), "outcome_unknown": len(unknown),
                    "reads_during": len(reads), "reads_during_ok": reads_ok,
                    "statuses": {f"{c} {s}": k for (c, s), k in by_status.items()}}
        print("failover: " + res.figure, flush=True)
    finally:
        if svc is not None:
            svc.stop()
        stop_pair(dest)
        shutil.rmtree(dest, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bin")
    ap.add_argument("work")
    ap.add_argument("--warm", type=float, default=2.0)
    ap.add_argument("--detect", type=float, default=1.0)
    ap.add_argument("--recover", type=float, default=3.0)
    a = ap.parse_args()
    import random
    r = failover_drill(a.bin, a.work, a.warm, a.detect, a.recover, random.Random())
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
