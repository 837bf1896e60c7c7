#!/usr/bin/python3
"""Drill 4, a soak: a million mixed requests through one `guide_service serve` process
(users on SQLite, sessions and rankings on Redis, documents on an SQLite file), driven
by wrk with a Lua mix of every route (reads, lists, POST, PATCH, DELETE, rankings,
sessions, health, metrics), while the process's resident memory, open fds and threads
are sampled every second.

Checked: no 5xx and no socket error (wrk's counts); memory levels off (resident size at
the end within 10% + 4 MiB of what it was after the first fifth of the requests, when
caches and pools are warm); open fds once the load stops are what they were before it
(+- the pools' connections, which open on demand up to one per worker); the thread count
never changes.

    soak.py BIN WORKDIR [--requests N] [--connections C]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drillkit as dk  # noqa: E402

SEED_USERS = 2000
THREADS = 2  # the service's worker threads (serve --threads)

# wrk's Lua: a weighted mix of the guide's routes; every response's status is counted,
# per thread, and done() prints the sums as one JSON line.
LUA = r"""
local threads = {}
local ops = {
  {40, function(n) return wrk.format("GET", "/users/" .. math.random(1, %(users)d)) end},
  {8, function(n) return wrk.format("GET", "/users?age=" .. math.random(18, 80) .. "&limit=10") end},
  {8, function(n)
        local name = "soak" .. id .. "x" .. n
        return wrk.format("POST", "/users", {["Content-Type"] = "application/json"},
          '{"name":"' .. name .. '","email":"' .. name .. '@example.com","age":' ..
          math.random(18, 80) .. ',"sex":"F"}') end},
  {8, function(n) return wrk.format("PATCH", "/users/" .. math.random(1, %(users)d),
          {["Content-Type"] = "application/json"}, '{"age":' .. math.random(18, 80) .. '}') end},
  {3, function(n) return wrk.format("DELETE", "/users/" .. math.random(%(users)d + 1, %(users)d * 50)) end},
  {10, function(n) return wrk.format("POST", "/rankings/soak", {["Content-Type"] = "application/json"},
          '{"member":"m' .. math.random(1, 5000) .. '","increment":1}') end},
  {6, function(n) return wrk.format("GET", "/rankings/soak?limit=10") end},
  {5, function(n) return wrk.format("GET", "/me_users?limit=5") end},
  {2, function(n) return wrk.format("POST", "/session", {["Content-Type"] = "application/json"},
          '{"k":' .. n .. '}') end},
  {5, function(n) return wrk.format("GET", "/health") end},
  {5, function(n) return wrk.format("GET", "/metrics") end},
}
local total = 0
for _, o in ipairs(ops) do total = total + o[1] end
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  counts = {}
  math.randomseed(id * 7919 + os.time())
end
function request()
  n = n + 1
  local r = math.random(1, total)
  for _, o in ipairs(ops) do
    if r <= o[1] then return o[2](n) end
    r = r - o[1]
  end
end
function response(status, headers, body)
  local k = tostring(status)
  counts[k] = (counts[k] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, '"' .. k .. '":' .. v) end
  local e = summary.errors
  io.write(string.format('SOAK {"requests":%%d,"seconds":%%.3f,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"timeout":%%d,"p99_ms":%%.1f,"status":{%%s}}\n', summary.requests,
    summary.duration / 1e6, e.connect, e.read, e.write, e.timeout,
    latency:percentile(99) / 1000, table.concat(parts, ",")))
end
"""


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "Threads"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


class Sampler(threading.Thread):
    def __init__(self, pid, counter):
        super().__init__(daemon=True)
        self.pid, self.counter = pid, counter
        self.samples = []  # (seconds, requests so far, rss KiB, fds, threads)
        self._quit = threading.Event()
        self.t0 = dk.now()

    def run(self):
        while not self._quit.wait(1.0):
            s = proc_status(self.pid)
            self.samples.append((dk.now() - self.t0, self.counter(), s["VmRSS"], s["fds"],
                                 s["Threads"]))

    def stop(self):
        self._quit.set()
        self.join()


def soak_drill(binary, work, requests, connections):
    res = dk.Result("soak: mixed requests", "sqlite+redis")
    env = dk.clean_env({
        "KURA_DATABASE_URL": "sqlite:///" + os.path.join(work, "soak.db"),
        "KURA_DOCUMENT_URL": "sqlite:///" + os.path.join(work, "soak-docs.db"),
        "KURA_REDIS_URL": dk.env_required("KURA_TEST_REDIS_URL"),
        "KURA_LOG_LEVEL": "warn",
    })
    print(f"== soak: {requests:,} mixed requests, wrk -c{connections}, serve --threads "
          f"{THREADS}", flush=True)
    svc = dk.Service(binary, env, os.path.join(work, "soak.log"), threads=THREADS).start()
    try:
        c = svc.client()
        for i in range(SEED_USERS):
            r = c.request("POST", "/users", dk.user_body(f"seed{i}"))
            if r.status != 201:
                raise dk.DrillError(f"seeding: POST /users answered {r.status}")
        c.request("POST", "/me_users", dk.user_body("doc"))
        c.close()
        lua = os.path.join(work, "soak.lua")
        with open(lua, "w") as f:
            f.write(LUA % {"users": SEED_USERS})
        before = proc_status(svc.pid)
        before["fds"] = dk.settle_fds(svc)
        done = [0]
        sampler = Sampler(svc.pid, lambda: done[0])
        sampler.start()
        totals = {"requests": 0, "seconds": 0.0, "connect": 0, "read": 0, "write": 0,
                  "timeout": 0, "status": {}}
        p99 = []
        warm_rss = None
        while totals["requests"] < requests:
            out = subprocess.run(["wrk", "-t2", f"-c{connections}", "-d10s", "--timeout", "10s",
                                  "-s", lua, f"http://127.0.0.1:{svc.port}"],
                                 capture_output=True, text=True, timeout=120)
            line = next((x for x in out.stdout.splitlines() if x.startswith("SOAK ")), None)
            if not line:
                raise dk.DrillError("wrk printed no summary: " + out.stdout[-300:] + out.stderr[-300:])
            chunk = json.loads(line[5:])
            for k in ("requests", "seconds", "connect", "read", "write", "timeout"):
                totals[k] += chunk[k]
            for k, v in chunk["status"].items():
                totals["status"][k] = totals["status"].get(k, 0) + v
            p99.append(chunk["p99_ms"])
            done[0] = totals["requests"]
            if warm_rss is None and totals["requests"] >= requests / 5:
                warm_rss = proc_status(svc.pid)["VmRSS"]
            print(f"  {totals['requests']:>9,} requests, RSS {proc_status(svc.pid)['VmRSS'] / 1024:.1f} MiB",
                  flush=True)
        sampler.stop()
        after_fds = dk.settle_fds(svc)
        after = proc_status(svc.pid)
    finally:
        rc = svc.stop()
    st = totals["status"]
    n5xx = sum(v for k, v in st.items() if k.startswith("5"))
    sockerr = totals["connect"] + totals["read"] + totals["write"] + totals["timeout"]
    res.check(n5xx == 0 and sockerr == 0,
              f"no 5xx and no socket error in {totals['requests']:,} requests "
              f"({n5xx} 5xx, {sockerr} socket errors)")
    end_rss = after["VmRSS"]
    warm_rss = warm_rss or end_rss
    res.check(end_rss <= warm_rss * 1.10 + 4096,
              f"memory levels off: RSS {warm_rss / 1024:.1f} MiB after a fifth of the requests, "
              f"{end_rss / 1024:.1f} MiB at the end")
    res.check(abs(after_fds - before["fds"]) <= 2 * THREADS + 2,
              f"open fds back after the load: {before['fds']} before, {after_fds} after")
    threads_seen = sorted({s[4] for s in sampler.samples} | {before["Threads"], after["Threads"]})
    res.check(len(threads_seen) == 1, f"threads constant: {threads_seen}")
    res.check(rc == 0, f"the service stops cleanly on SIGTERM (exit status {rc})")
    rate = totals["requests"] / max(totals["seconds"], 1e-3)
    peak = max((s[2] for s in sampler.samples), default=end_rss)
    res.figure = (f"{totals['requests']:,} requests in {totals['seconds']:.0f} s ({rate:,.0f}/s), "
                  f"statuses {dict(sorted(st.items()))}; RSS {before['VmRSS'] / 1024:.1f} MiB idle, "
                  f"{warm_rss / 1024:.1f} at 1/5, {end_rss / 1024:.1f} at the end, peak "
                  f"{peak / 1024:.1f}; fds {before['fds']}->{after_fds}; threads {threads_seen}; "
                  f"worst 10 s p99 {max(p99):.1f} ms")
    csv = os.path.join(work, "soak-samples.csv")
    with open(csv, "w") as f:
        f.write("seconds,requests,rss_kib,fds,threads\n")
        for s in sampler.samples:
            f.write(f"{s[0]:.1f},{s[1]},{s[2]},{s[3]},{s[4]}\n")
    res.data.update(requests=totals["requests"], statuses=st, rss_idle_kib=before["VmRSS"],
                    rss_warm_kib=warm_rss, rss_end_kib=end_rss, rss_peak_kib=peak,
                    samples=sampler.samples)
    print("  " + res.figure, flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    r = soak_drill(a.binary, a.work, a.requests, a.connections)
    sys.exit(0 if r.ok else 1)


if __name__ == "__main__":
    main()
