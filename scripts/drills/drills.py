#!/usr/bin/python3
"""Runs the drills (crash.py, outage.py, stall.py; soak.py, failover.py (PostgreSQL) and
redis_failover.py when asked for) and prints a summary table.
Started by scripts/drills/run, which starts the throwaway PostgreSQL and Redis first;
see docs/RELIABILITY.md for what each drill proves and the figures of a full run.

    drills.py --bin BIN --work DIR [--quick]
              [--only crash|outage|stall|soak|failover|redis_failover]
              [--kills N] [--down S] [--stall S] [--requests N] [--seed N] [--json FILE]

The soak (a million requests, a few minutes) and the failovers run only when named:
--only soak, --only failover (PostgreSQL), --only redis_failover (Cluster and Sentinel).
"""
import argparse
import json
import os
import random
import shutil
import sys
import textwrap
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash  # noqa: E402
import drillkit as dk  # noqa: E402
import failover  # noqa: E402
import outage  # noqa: E402
import redis_failover  # noqa: E402
import soak  # noqa: E402
import stall  # noqa: E402

# (kills per database, seed run target s, serve kill window s, outage down s,
#  recovery s, warm-up s, Redis stall s, soak requests)
FULL = dict(kills=30, seed_s=1.0, window_s=1.5, down=10.0, recover=5.0, warm=2.0, stall=5.0,
            requests=1_000_000)
QUICK = dict(kills=3, seed_s=0.4, window_s=0.6, down=1.0, recover=1.5, warm=0.5, stall=2.5,
             requests=50_000)
# The failover drill (--only failover): load before the loss, time until the promotion
# (a failover manager's detection), load after it.
FAILOVER = dict(warm=3.0, detect=2.0, recover=5.0)
FAILOVER_QUICK = dict(warm=1.0, detect=0.5, recover=2.0)


def table(results):
    rows = [(r.drill, r.target, r.status(), r.figure) for r in results]
    w0 = max(len("drill"), *(len(r[0]) for r in rows))
    w1 = max(len("on"), *(len(r[1]) for r in rows))
    w2 = max(len("result"), *(len(r[2]) for r in rows))
    width = max(60, shutil.get_terminal_size((140, 20)).columns - w0 - w1 - w2 - 6)
    out = [f"{'drill':<{w0}}  {'on':<{w1}}  {'result':<{w2}}  figure",
           f"{'-' * w0}  {'-' * w1}  {'-' * w2}  {'-' * min(width, 60)}"]
    for d, t, s, f in rows:
        lines = textwrap.wrap(f, width) or [""]
        out.append(f"{d:<{w0}}  {t:<{w1}}  {s:<{w2}}  {lines[0]}")
        out += [f"{'':<{w0}}  {'':<{w1}}  {'':<{w2}}  {x}" for x in lines[1:]]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only",
                    choices=["crash", "outage", "stall", "soak", "failover", "redis_failover"],
                    action="append")
    ap.add_argument("--kills", type=int)
    ap.add_argument("--down", type=float)
    ap.add_argument("--stall", type=float)
    ap.add_argument("--requests", type=int, help="soak: requests in all")
    ap.add_argument("--seed", type=int, help="random seed (default: from the clock, printed)")
    ap.add_argument("--json", help="also write the results to this file")
    a = ap.parse_args()
    p = dict(QUICK if a.quick else FULL)
    for k in ("kills", "down", "stall", "requests"):
        if getattr(a, k) is not None:
            p[k] = getattr(a, k)
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    only = set(a.only or ["crash", "outage", "stall"])
    print(f"drills: {'quick' if a.quick else 'full'} mode, random seed {seed}, "
          f"binary {a.bin}", flush=True)
    t0 = time.monotonic()
    results = []
    try:
        if "crash" in only:
            for kind in ("sqlite", "postgresql"):
                results.append(crash.seed_drill(a.bin, kind, p["kills"], a.work, rng,
                                                p["seed_s"]))
                results.append(crash.serve_drill(a.bin, kind, p["kills"], a.work, rng,
                                                 p["window_s"]))
        if "outage" in only:
            results += outage.outage_drills(a.bin, a.work, p["down"], p["recover"], p["warm"],
                                            rng)
        if "stall" in only:
            results.append(stall.stall_drill(a.bin, a.work, p["stall"], rng))
        if "soak" in only:
            results.append(soak.soak_drill(a.bin, a.work, p["requests"], 32))
        if "failover" in only:
            f = FAILOVER_QUICK if a.quick else FAILOVER
            results.append(failover.failover_drill(a.bin, a.work, f["warm"], f["detect"],
                                                   f["recover"], rng))
        if "redis_failover" in only:
            results += redis_failover.failover_drills(a.bin, a.work, p["warm"] * 2,
                                                      p["recover"] * 2, rng)
    except dk.DrillError as e:
        print(f"drills: could not run: {e}", flush=True)
        return 1
    took = time.monotonic() - t0
    print()
    print(table(results))
    failed = [r for r in results if not r.ok]
    print(f"\ndrills: {len(results) - len(failed)} passed, {len(failed)} failed in {took:.0f} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "seed": seed,
                       "quick": a.quick, "params": p, "seconds": took,
                       "results": [{"drill": r.drill, "on": r.target, "result": r.status(),
                                    "figure": r.figure, "checks": r.checks, "data": r.data}
                                   for r in results]}, f, indent=1, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
