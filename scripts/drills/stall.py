#!/usr/bin/python3
"""Drill 3, a stalled (not dead) Redis: redis-server is SIGSTOPped for a while and then
SIGCONTinued, as two client threads read /rankings (Redis) and one probe thread reads
/users/{id} (PostgreSQL) and /me_users (SQLite documents), which need no Redis.

A stopped Redis still accepts TCP connections (the kernel completes the handshake) but
never answers, so a Redis call waits for the driver's timeout (2 s, redis.c
DEFAULT_TIMEOUT_MS). The service has a worker thread per CPU (2 here, --threads 2) and a
worker waiting on Redis serves nothing else. The key-value guard (src/kv/guard.c) keeps
that to one worker at a time: calls that come while one has waited past the stall limit
(1 s) fail at once with 503, and after a timeout every Redis call fails at once for a
backoff, with one call at a time trying Redis again. So the Redis-free routes keep being
served by the other worker. Every client here opens a new connection per request
(Connection: close), so libmicrohttpd hands each to a thread that is free.

The drill fails on a 500, on a request past the drills' bound, when the routes do not
answer 2xx again after SIGCONT, when a Redis-free request waited longer than one Redis
timeout plus a second, or when more of them waited over a second than Redis was tried
again (once at the start, then once per backoff).

    stall.py BIN WORKDIR [--stall SECONDS]
"""
import argparse
import math
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drillkit as dk  # noqa: E402
import outage  # noqa: E402

REDIS_READERS = 4


def stall_drill(binary, work, stall_s, rng):
    res = dk.Result("stall: SIGSTOP redis-server", "redis")
    print(f"== stall: redis-server SIGSTOPped {stall_s:.1f} s; {REDIS_READERS} threads on "
          "/rankings, 1 probe on /users/{id} and /me_users", flush=True)
    svc, user_id = outage.start_service(binary, work, "stall")  # --threads 2
    pid = dk.redis_pid()
    stopped = False
    try:
        readers = dk.Load(svc.port, {"rank_get": 1}, REDIS_READERS, "stall-r", user_id,
                          rng.random(), fresh=True).start()
        probe = dk.Load(svc.port, {"users_get": 1, "docs_get": 1}, 1, "stall-p", user_id,
                        rng.random(), fresh=True).start()
        time.sleep(1.0)
        t_stop = dk.now()
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        time.sleep(stall_s)
        os.kill(pid, signal.SIGCONT)
        stopped = False
        t_cont = dk.now()
        time.sleep(2.0)
        readers.stop()
        probe.stop()
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        rc = svc.stop()

    base = [r for r in probe.records if r.t1 < t_stop]
    # Probe requests in flight at any time during the stall, and those answered in it.
    during = [r for r in probe.records if r.t0 < t_cont and r.t1 > t_stop]
    answered = [r for r in probe.records if t_stop <= r.t1 < t_cont]
    tail = [r for r in probe.records + readers.records if r.t0 >= t_cont + 1.5]
    base_lat = [r.seconds for r in base]
    lat = [r.seconds for r in during]
    slow = sum(1 for x in lat if x > 1.0)
    redis_503 = [r.seconds for r in readers.records
                 if r.t0 < t_cont and r.t1 > t_stop and r.status == 503]
    wrong = [r for r in probe.records + readers.records
             if r.status == 0 or r.status == 500 or (not r.ok and r.status != 503)]
    wrong_probe = [r for r in probe.records if not r.ok]
    res.check(not wrong and not wrong_probe,
              "no 500 and no request past the bound; the Redis-free routes answered 2xx"
              + ("" if not (wrong or wrong_probe) else ": " + "; ".join(
                  f"{r.cls} {r.status} {r.error}" for r in (wrong + wrong_probe)[:4])))
    base_rate = len(base) / max(t_stop - base[0].t0, 1e-3) if base else 0.0
    res.check(max(lat, default=0) <= 3.0,
              f"no Redis-free request waited longer than one Redis timeout (2 s) and a second "
              f"(max {dk.fmt_s(max(lat, default=0))})")
    # A request queued on the worker that makes the first Redis call, or a later retry
    # of Redis, waits that call out: at most one per retry (every 2.25 s or more).
    slow_bound = 1 + math.ceil(stall_s / 2)
    res.check(slow <= slow_bound,
              f"at most {slow_bound} Redis-free requests waited over 1 s ({slow} did)")
    res.check(tail and all(r.ok for r in tail),
              f"every route answers 2xx again after SIGCONT ({len(tail)} requests checked)")
    res.check(rc == 0, f"the service stops cleanly on SIGTERM (exit status {rc})")
    res.figure = (f"/users/{{id}} and /me_users (no Redis) during a {stall_s:.1f} s stall: "
                  f"{len(answered)} answered ({len(answered) / stall_s:.1f}/s, baseline "
                  f"{base_rate:.0f}/s), max {dk.fmt_s(max(lat, default=0))}, "
                  f"{slow} over 1 s (baseline max {dk.fmt_s(max(base_lat, default=0))}); "
                  f"/rankings: {len(redis_503)} 503s after "
                  + (f"{dk.fmt_s(min(redis_503))}..{dk.fmt_s(max(redis_503))}" if redis_503
                     else "-"))
    res.data.update(stall_s=stall_s, probe_baseline_per_s=base_rate,
                    probe_max_s=max(lat, default=0), probe_median_s=dk.pct(lat, 50), probe_answered=len(answered), probe_slow=slow,
                    baseline_max_s=max(base_lat, default=0), redis_503_s=redis_503)
    print("  " + res.figure, flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--stall", type=float, default=5.0)
    a = ap.parse_args()
    r = stall_drill(a.binary, a.work, a.stall, random.Random())
    sys.exit(0 if r.ok else 1)


if __name__ == "__main__":
    main()
