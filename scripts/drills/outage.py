#!/usr/bin/python3
"""Drill 2, outages under load: PostgreSQL stopped (pg_ctl stop -m immediate) and
Redis killed (kill -9 of redis-server), each restarted after a while, as a load
generator drives `guide_service serve` (users on PostgreSQL; sessions and rankings on
Redis with appendonly/appendfsync always; documents on an SQLite file).

Checked for each outage, on one service process that is never restarted:
  - while the store is down, its routes answer 503 application/problem+json (never a
    500, never a hang: every request is bounded by drillkit.REQUEST_TIMEOUT_S, and a
    timed-out or cut request is a failure); /health answers 503 naming the store;
  - routes that do not need the store keep answering 2xx throughout;
  - after the restart the routes answer again without restarting the service;
  - every write acknowledged (201/200) is there afterwards (users in PostgreSQL, read
    with psql; ranking members with redis-cli; sessions through GET /session);
  - the process's open fd count (/proc/PID/fd, idle, between load phases) and its
    connections as the servers count them (pg_stat_activity, CLIENT LIST) are back to
    where they were before the outage.

    outage.py BIN WORKDIR [--down SECONDS] [--store postgresql|redis]
"""
import argparse
import collections
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drillkit as dk  # noqa: E402

DB = "drills_outage"
MIX = {"users_post": 3, "users_get": 3, "users_patch": 2, "users_delete": 1, "rank_post": 3, "rank_get": 2, "session_post": 1,
       "session_get": 2, "docs_get": 2, "metrics": 1, "health": 1}
WORKERS = 4
THREADS = 2  # the service's worker threads (serve --threads)


def outage_env(work):
    return dk.clean_env({
        "KURA_DATABASE_URL": dk.pg_url(DB),
        "KURA_DOCUMENT_URL": "sqlite:///" + os.path.join(work, "outage-docs.db"),
        "KURA_REDIS_URL": dk.env_required("KURA_TEST_REDIS_URL"),
    })


def start_service(binary, work, tag):
    dk.pg_fresh_db(DB)
    svc = dk.Service(binary, outage_env(work), os.path.join(work, f"{tag}.log"),
                     threads=THREADS).start()
    c = svc.client()
    r = c.request("POST", "/users", dk.user_body("reader"))
    if r.status != 201:
        raise dk.DrillError(f"POST /users answered {r.status} {r.body[:200]!r}")
    user_id = r.json()["id"]
    r = c.request("POST", "/me_users", dk.user_body("doc"))
    if r.status != 201:
        raise dk.DrillError(f"POST /me_users answered {r.status} {r.body[:200]!r}")
    c.close()
    return svc, user_id


def snapshot(svc):
    fds = dk.settle_fds(svc)
    kinds = dk.fd_kinds(svc.pid, int(dk.env_required("KURA_TEST_REDIS_PORT")))
    return {"fds": fds, "kinds": kinds, "pg": dk.pg_connections(DB),
            "redis": dk.redis_connections()}


def resources_check(res, before, after, store):
    """fds that are no store connection come back exactly; each store's connections
    come back within the pool's on-demand size (at most one per worker thread: a
    pool opens connections as concurrent requests need them), and every connection
    the process holds is one its server counts too (none dead or half-open). The
    documents' SQLite file is a store too: a connection holds the database and its
    WAL open, and all share one -shm."""
    kb, ka = before["kinds"], after["kinds"]
    same_other = kb["other"] == ka["other"] and kb["tcp"] == ka["tcp"]
    matched = all(s["kinds"]["unix"] == s["pg"] and s["kinds"]["redis"] == s["redis"]
                  for s in (before, after))
    bounded = (all(1 <= after[k] <= THREADS for k in ("pg", "redis"))
               and 3 <= ka["sqlite"] <= 1 + 2 * THREADS)
    return res.check(
        same_other and matched and bounded,
        f"open fds {before['fds']} -> {after['fds']}: not connections {kb['other'] + kb['tcp']}"
        f" -> {ka['other'] + ka['tcp']}; PostgreSQL connections {before['pg']} -> "
        f"{after['pg']}, Redis {before['redis']} -> {after['redis']}, SQLite files "
        f"{kb['sqlite']} -> {ka['sqlite']} (at most {THREADS} connections each, one "
        "per worker thread); every connection the process holds is counted by its server"
        + ("" if matched else f": NOT SO, process {kb} / {ka}, servers {before['pg']}/"
           f"{before['redis']} -> {after['pg']}/{after['redis']}"))


def classify(records, store, t_down, t_up):
    """Splits the records of an outage phase into counts and violations."""
    affected = {c for c, (s, _) in dk.ROUTES.items() if s == store or s == "all"}
    counts = collections.defaultdict(collections.Counter)
    violations = []
    failures = []  # records of affected routes that did not succeed
    for r in records:
        label = r.error.split(":")[0] if r.status == 0 else str(r.status)
        counts[r.cls][label] += 1
        if r.ok:
            continue
        if r.status == 0:
            violations.append(f"{r.cls}: {r.error} after {r.t1 - r.t0:.2f} s")
        elif r.cls not in affected:
            violations.append(f"{r.cls} needs no {store} but answered {r.status} {r.body!r}")
        elif r.status != 503:
            violations.append(f"{r.cls}: {r.status} {r.body!r}")
        elif r.cls == "health":
            if r.ctype != "application/json":
                violations.append(f"health 503 as {r.ctype}")
        elif r.ctype != "application/problem+json":
            violations.append(f"{r.cls}: 503 as {r.ctype!r}")
        if r.cls in affected:
            failures.append(r)
            if r.t1 < t_down:
                violations.append(f"{r.cls} failed {t_down - r.t1:.2f} s before the outage")
    return counts, violations, failures


def verify_acked(svc, load, store):
    """Lost acknowledged writes of the store's kind: a list of descriptions."""
    lost = []
    if store == "postgresql":
        rows = {int(i): (n, int(a)) for i, n, a in dk.psql(DB, "SELECT id, name, age FROM sa_user")}
        for i, n in load.acked_users:
            if i in load.deleted:
                if i in rows:
                    lost.append(f"user {i} {n}: deleted (204) but still there")
                continue
            if i in load.maybe_deleted and i not in rows:
                continue  # a DELETE that got no 204 may have happened
            if rows.get(i, (None,))[0] != n:
                lost.append(f"user {i} {n}")
                continue
            tries = load.patches.get(i, [])
            last = max((k for k, (_, ok) in enumerate(tries) if ok), default=None)
            if last is not None:
                # The last acknowledged age, or one tried after it without an answer.
                allowed = {age for age, _ in tries[last:]}
                if rows[i][1] not in allowed:
                    lost.append(f"user {i}: age {rows[i][1]}, acknowledged {tries[last][0]}")
    else:
        keys = [k for k in dk.redis_cli("--scan", "--pattern", "*drill*").split() if k]
        members = {}
        for k in keys:
            if dk.redis_cli("TYPE", k).strip() == "zset":
                out = dk.redis_cli("ZRANGE", k, "0", "-1", "WITHSCORES").split()
                members.update({out[i]: float(out[i + 1]) for i in range(0, len(out), 2)})
        lost += [f"ranking member {m}" for m, s in load.acked_ranks if members.get(m) != s]
        c = svc.client()
        for cookie, data in load.acked_sessions:
            r = c.request("GET", "/session", headers={"Cookie": f"kura_session={cookie}"})
            if r.status != 200 or r.json().get("data") != data:
                lost.append(f"session {data} ({r.status})")
        c.close()
    return lost


def counts_text(counts, classes):
    parts = []
    for cls in classes:
        if counts.get(cls):
            parts.append(cls + " " + " ".join(f"{k}x{v}" for k, v in sorted(counts[cls].items())))
    return "; ".join(parts)


def one_outage(svc, user_id, store, down_s, recover_s, warm_s, rng):
    res = dk.Result("outage: " + ("pg_ctl stop -m immediate" if store == "postgresql"
                                  else "kill -9 redis-server"), store)
    print(f"== outage: {store} down {down_s:.1f} s under load ({WORKERS} client threads)",
          flush=True)
    warm = dk.Load(svc.port, MIX, WORKERS, f"{store}-warm", user_id, rng.random()).start()
    time.sleep(warm_s)
    warm.stop()
    bad_warm = [r for r in warm.records if not r.ok]
    res.check(not bad_warm, f"warm-up: {len(warm.records)} requests, all answered 2xx"
              + ("" if not bad_warm else f"; {len(bad_warm)} did not: "
                 f"{[(r.cls, r.status, r.error) for r in bad_warm[:3]]}"))
    before = snapshot(svc)

    load = dk.Load(svc.port, MIX, WORKERS, f"{store}-out", user_id, rng.random()).start()
    time.sleep(warm_s / 2)
    # A worker tries PATCH and DELETE only on users it made (else it posts), so
    # the outage waits until the workers have made some: on a slow build (the
    # sanitizers, a busy machine) half the warm-up was not always enough, and no
    # PATCH or DELETE ran while the store was down.
    deadline = time.monotonic() + 10
    while len(load.acked_users) < 3 * WORKERS and time.monotonic() < deadline:
        time.sleep(0.05)
    t_down = dk.now()
    if store == "postgresql":
        dk.pg_ctl("stop", "-m", "immediate")
    else:
        os.kill(dk.redis_pid(), signal.SIGKILL)
    time.sleep(down_s)
    t_restart = dk.now()
    if store == "postgresql":
        dk.pg_ctl("start")
    else:
        dk.redis_start()
    t_up = dk.now()
    time.sleep(recover_s)
    load.stop()
    pid_same = svc.alive()
    after = snapshot(svc)

    counts, violations, failures = classify(load.records, store, t_down, t_up)
    affected = sorted(c for c, (s, _) in dk.ROUTES.items() if s == store)
    others = sorted(c for c, (s, _) in dk.ROUTES.items() if s not in (store, "all"))
    route_fail = [r for r in failures if r.cls != "health"]
    fail_s = (route_fail[-1].t1 - route_fail[0].t0) if route_fail else 0.0
    # Recovery: from the store answering again to the last failed request's end.
    last_fail = max((r.t1 for r in failures), default=t_up)
    lag = max(0.0, last_fail - t_up)
    first_ok_after = {}
    for cls in affected:
        oks = [r.t1 for r in load.records if r.cls == cls and r.ok and r.t0 >= t_up]
        first_ok_after[cls] = (min(oks) - t_up) if oks else None
    max_lat = max((r.t1 - r.t0 for r in load.records), default=0.0)
    max_lat_503 = max((r.t1 - r.t0 for r in failures), default=0.0)
    res.check(not violations, "no 500, no hang or cut connection, 503s are problem+json, "
              "routes without the store kept answering 2xx"
              + ("" if not violations else f": {len(violations)} violations, e.g. "
                 + " | ".join(violations[:4])))
    res.check(all(counts[c].get("503") for c in affected),
              "every route on the store answered 503 while it was down: "
              + counts_text(counts, affected))
    res.check(all(v is not None for v in first_ok_after.values()) and pid_same,
              "answering again after the restart, same process (first 2xx per route "
              + ", ".join(f"{c} +{dk.fmt_s(v)}" if v is not None else f"{c} never"
                          for c, v in first_ok_after.items()) + ")")
    res.check(lag <= max(2.0, recover_s / 2),
              f"last failure {dk.fmt_s(lag)} after the store was back")
    lost = verify_acked(svc, load, store)
    n_acked = (len(load.acked_users) + len(load.deleted)
               + sum(ok for t in load.patches.values() for _, ok in t) if store == "postgresql"
               else len(load.acked_ranks) + len(load.acked_sessions))
    res.check(not lost, f"all {n_acked} acknowledged writes on {store} are there"
              + ("" if not lost else f"; LOST {len(lost)}: {lost[:3]}"))
    resources_check(res, before, after, store)
    others_n = sum(1 for r in load.records if r.cls in others)
    others_ok = sum(1 for r in load.records if r.cls in others and r.ok)
    on_store = collections.Counter()
    for cls in affected:
        on_store.update(counts[cls])
    back = max((v for v in first_ok_after.values() if v is not None), default=0.0)
    restart = "pg_ctl start" if store == "postgresql" else "redis-server start"
    res.figure = (f"unavailable {t_up - t_down:.1f} s (stopped {t_restart - t_down:.1f} s, "
                  f"{restart} {t_up - t_restart:.1f} s); 503s for {fail_s:.1f} s; every "
                  f"route 2xx again within {dk.fmt_s(back)} of the restart; max latency "
                  f"{dk.fmt_s(max_lat)} (503s: {dk.fmt_s(max_lat_503)}); "
                  f"fds {before['fds']}->{after['fds']} (PostgreSQL conns {before['pg']}->"
                  f"{after['pg']}, Redis {before['redis']}->{after['redis']}); "
                  f"{n_acked} acked, {len(lost)} lost; "
                  f"{store} routes " + " ".join(f"{k}x{v}" for k, v in sorted(on_store.items()))
                  + f"; other routes {others_ok}/{others_n} 2xx")
    res.data.update(down_s=t_up - t_down, fail_s=fail_s, lag_s=lag, back_s=back,
                    max_latency_s=max_lat,
                    counts={k: dict(v) for k, v in counts.items()}, before=before, after=after,
                    acked=n_acked, lost=len(lost))
    print("  status counts: " + counts_text(counts, sorted(counts)), flush=True)
    print("  " + res.figure, flush=True)
    return res


def outage_drills(binary, work, down_s, recover_s, warm_s, rng, stores=("postgresql", "redis")):
    svc, user_id = start_service(binary, work, "outage")
    results = []
    try:
        for store in stores:
            results.append(one_outage(svc, user_id, store, down_s, recover_s, warm_s, rng))
    finally:
        rc = svc.stop()
    if results:
        results[-1].check(rc == 0, f"the service stops cleanly on SIGTERM after the outages "
                          f"(exit status {rc})")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--down", type=float, default=10.0)
    ap.add_argument("--recover", type=float, default=5.0)
    ap.add_argument("--store", choices=["postgresql", "redis"], action="append")
    a = ap.parse_args()
    results = outage_drills(a.binary, a.work, a.down, a.recover, 2.0, random.Random(),
                            a.store or ("postgresql", "redis"))
    sys.exit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    main()
