#!/usr/bin/python3
"""Drill 1, crash consistency: `kill -9` of `guide_service seed N` and of
`guide_service serve` under write load, at random moments, many times, on SQLite
(WAL, synchronous=NORMAL) and on PostgreSQL.

After every kill:
  - SQLite: PRAGMA integrity_check answers ok (read by python's sqlite3, not by kura);
  - seed: no partial batch. seed inserts users 1..N in transactions of 1000
    (name "userNNNNN"); the rows of batch b are names (1000b, 1000b+1000], so every
    batch holds 0 or 1000 rows, the full batches are 0..k-1, and k covers every batch
    the process acknowledged (its progress line, read from a pseudo-terminal, is printed
    after each commit returns);
  - serve: a client POSTing users recorded every 201 with its id; every one of them is
    in the table with the name it was sent (and, on the next start, GET /users/{id}
    through the restarted service answers it), over all kills so far.

Run through scripts/drills/run (which starts PostgreSQL and Redis), or by hand with
those servers' KURA_TEST_* settings in the environment:
    crash.py BIN WORKDIR [--kills N] [--db sqlite|postgresql] [--what seed|serve]
"""
import argparse
import os
import pty
import random
import re
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drillkit as dk  # noqa: E402

BATCH = 1000  # guide_seed.c's SEED_BATCH: rows per transaction


def db_setup(kind, work, name):
    """(database URL, environment) for one drill's own database."""
    if kind == "sqlite":
        path = os.path.join(work, name + ".db")
        url = f"sqlite:///{path}?synchronous=normal"  # path is absolute: four slashes
        extra = {"KURA_DATABASE_URL": url}
    else:
        dk.pg_fresh_db(name)
        url = dk.pg_url(name)
        extra = {"KURA_DATABASE_URL": url,
                 "KURA_REDIS_URL": "embedded:///" + os.path.join(work, name + "-kv.db")}
    return url, dk.clean_env(extra)


def run_cli(binary, env, *args, timeout=120):
    out = subprocess.run([binary, *args], env=env, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise dk.DrillError(f"guide_service {' '.join(args)}: exit {out.returncode}: "
                            + out.stderr.strip())
    return out.stdout


# ---- seed ------------------------------------------------------------------------------

class SeedRun:
    """guide_service seed N with its stderr on a pseudo-terminal, so it prints its
    progress after every committed batch; `acked` is the last count it printed."""

    PROGRESS = re.compile(rb"\] (\d+)/(\d+)")

    def __init__(self, binary, env, n, cwd):
        master, slave = pty.openpty()
        self.master = master
        self.output = b""
        self.proc = subprocess.Popen([binary, "seed", str(n)], env=env, stdin=subprocess.DEVNULL,
                                     stdout=slave, stderr=slave, close_fds=True, cwd=cwd)
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.master], [], [], 1.0)
                if not r:
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            self.output += chunk

    def finish(self, kill_after=None):
        """Kills the process after kill_after seconds (None: lets it finish).
        Returns (killed, rows acknowledged)."""
        killed = False
        if kill_after is not None:
            try:
                self.proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                killed = True
        self.proc.wait(timeout=300)
        self.reader.join(timeout=10)
        os.close(self.master)
        found = self.PROGRESS.findall(self.output)
        acked = int(found[-1][0]) if found else 0
        if not killed and self.proc.returncode != 0:
            raise dk.DrillError(f"seed exited {self.proc.returncode}: "
                                + self.output.decode(errors="replace")[-300:])
        return killed, acked


def batch_counts(kind, url, db_name):
    """{batch: (rows, distinct names)} for the seeded users (names 'userNNNNN')."""
    sql = ("SELECT (CAST(substr(name, 5) AS INTEGER) - 1) / %d AS b, count(*), "
           "count(DISTINCT name) FROM sa_user WHERE name LIKE 'user%%' GROUP BY b" % BATCH)
    if kind == "sqlite":
        con = dk.sqlite_open(url.split("///", 1)[1].split("?")[0])
        try:
            rows = con.execute(sql).fetchall()
        finally:
            con.close()
    else:
        rows = dk.psql(db_name, sql)
    return {int(b): (int(c), int(d)) for b, c, d in rows}


def empty_table(kind, url, db_name):
    if kind == "sqlite":
        con = dk.sqlite_open(url.split("///", 1)[1].split("?")[0])
        try:
            con.execute("DELETE FROM sa_user")
            con.commit()
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
    else:
        dk.psql(db_name, "TRUNCATE sa_user")


def seed_drill(binary, kind, kills, work, rng, target_s):
    res = dk.Result("crash: kill -9 seed", kind)
    print(f"== crash: kill -9 of `guide_service seed N` on {kind}, {kills} kills", flush=True)
    db_name = "drills_seed"
    url, env = db_setup(kind, work, db_name)
    path = url.split("///", 1)[1].split("?")[0] if kind == "sqlite" else None
    run_cli(binary, env, "migrate")

    # Calibration: an unkilled run sizes N so that a seed lasts about 1.5 x target_s,
    # and the kills land at U(0, target_s): most of them while it writes.
    n_cal = 20 * BATCH
    t0 = dk.now()
    _, acked = SeedRun(binary, env, n_cal, work).finish()
    took = dk.now() - t0
    counts = batch_counts(kind, url, db_name)
    res.check(acked == n_cal and sum(c for c, _ in counts.values()) == n_cal,
              f"calibration: seed {n_cal} (not killed) wrote {n_cal} rows in {took:.2f} s")
    empty_table(kind, url, db_name)
    n = int(n_cal * 1.5 * target_s / max(took, 0.01)) // BATCH * BATCH
    n = max(2 * BATCH, min(2_000_000, n))

    committed, in_doubt, not_killed, partials, bad = [], 0, 0, 0, []
    for k in range(kills):
        delay = rng.uniform(0.0, target_s)
        killed, acked = SeedRun(binary, env, n, work).finish(kill_after=delay)
        not_killed += not killed
        problems = []
        if path:
            verdict = dk.sqlite_integrity(path)
            if verdict != "ok":
                problems.append("integrity_check: " + verdict[:200])
        counts = batch_counts(kind, url, db_name)
        full = sorted(b for b, (c, d) in counts.items() if c == BATCH and d == BATCH)
        partial = {b: c for b, (c, d) in counts.items() if not (c == BATCH and d == BATCH)}
        partials += len(partial)
        if partial:
            problems.append(f"partial batches {dict(list(partial.items())[:5])}")
        if full != list(range(len(full))):
            problems.append(f"full batches are not 0..k-1: {full[:10]}...")
        rows = len(full) * BATCH
        if rows < acked:
            problems.append(f"{acked} rows acknowledged, {rows} present")
        in_doubt += (rows - acked) // BATCH
        committed.append(rows)
        if problems:
            bad.append(f"kill {k + 1} after {delay:.3f} s: " + "; ".join(problems))
        empty_table(kind, url, db_name)

    res.check(not bad, f"{kills} kills (N={n}, killed at U(0, {target_s:.1f} s)): every batch "
              "all-or-nothing, every acknowledged batch present"
              + ("; SQLite integrity_check ok after each" if path else "")
              + ("" if not bad else ": " + " | ".join(bad[:3])))
    med = statistics.median(committed) if committed else 0
    res.figure = (f"{kills} kills; {partials} partial batches; committed rows per kill "
                  "min/median/max "
                  f"{min(committed, default=0)}/{med:.0f}/{max(committed, default=0)}; "
                  f"{in_doubt} batches committed but not yet acknowledged; "
                  f"{not_killed} runs finished before their kill")
    if bad:
        res.figure = f"{len(bad)} of {kills} kills broke a check; " + res.figure
    res.data.update(kills=kills, n=n, committed=committed, in_doubt=in_doubt,
                    not_killed=not_killed, partial_batches=partials, problems=bad)
    print("  " + res.figure, flush=True)
    return res


# ---- serve -----------------------------------------------------------------------------

def post_users(port, tag, killing, acked, errors):
    """POSTs users until the service is gone; records every 201. A failure before
    `killing` is set is an error of the service."""
    c = dk.Client(port)
    seq = 0
    while True:
        seq += 1
        name = f"{tag}-{seq}"
        r = c.request("POST", "/users", dk.user_body(name))
        if r.status == 201:
            acked.append((r.json()["id"], name))
        elif r.status == 0:
            if not killing.is_set():
                errors.append(r.error)
            break
        else:
            errors.append(f"{r.status} {r.body[:120]!r}")
    c.close()


def rows_by_id(kind, path, db_name):
    if kind == "sqlite":
        con = dk.sqlite_open(path)
        try:
            return dict(con.execute("SELECT id, name FROM sa_user").fetchall())
        finally:
            con.close()
    return {int(i): n for i, n in dk.psql(db_name, "SELECT id, name FROM sa_user")}


def serve_drill(binary, kind, kills, work, rng, window_s, writers=3):
    res = dk.Result("crash: kill -9 serve", kind)
    print(f"== crash: kill -9 of `guide_service serve` under POST load on {kind}, {kills} kills",
          flush=True)
    db_name = "drills_serve"
    url, env = db_setup(kind, work, db_name)
    path = url.split("///", 1)[1].split("?")[0] if kind == "sqlite" else None
    log = os.path.join(work, f"serve-kill-{kind}.log")
    all_acked = []  # (id, name) over every kill
    lost, mismatch, in_doubt, served_back, bad = [], [], 0, 0, []
    rates = []
    for k in range(kills):
        svc = dk.Service(binary, env, log).start()
        if all_acked:  # through the restarted service: the last kill's writes are there
            c = svc.client()
            sample = all_acked[-20:] + rng.sample(all_acked, min(20, len(all_acked)))
            for i, name in sample:
                r = c.request("GET", f"/users/{i}")
                if r.status == 200 and r.json().get("name") == name:
                    served_back += 1
                else:
                    bad.append(f"start {k + 1}: GET /users/{i} answered {r.status}")
            c.close()
        killing = threading.Event()
        acked, errors = [], []
        threads = [threading.Thread(target=post_users,
                                    args=(svc.port, f"k{k}w{w}", killing, acked, errors))
                   for w in range(writers)]
        t0 = dk.now()
        for t in threads:
            t.start()
        delay = rng.uniform(0.2, window_s)
        time.sleep(delay)
        killing.set()
        svc.kill9()
        for t in threads:
            t.join(timeout=30)
        rates.append(len(acked) / (dk.now() - t0))
        if errors:
            bad.append(f"kill {k + 1}: client errors before the kill: {errors[:3]}")
        if path:
            verdict = dk.sqlite_integrity(path)
            if verdict != "ok":
                bad.append(f"kill {k + 1}: integrity_check: {verdict[:200]}")
        rows = rows_by_id(kind, path, db_name)
        all_acked.extend(acked)
        acked_ids = {i for i, _ in acked}
        for i, name in all_acked:
            if i not in rows:
                lost.append((k + 1, i, name))
            elif rows[i] != name:
                mismatch.append((k + 1, i, name, rows[i]))
        # Rows of this round the client never heard about: committed, then the kill.
        tag = f"k{k}w"
        in_doubt += sum(1 for i, n in rows.items() if n.startswith(tag) and i not in acked_ids)
    res.check(not lost and not mismatch,
              f"{kills} kills: all {len(all_acked)} acknowledged POSTs present with their names"
              + ("" if not lost else f"; LOST {len(lost)}, e.g. {lost[:3]}")
              + ("" if not mismatch else f"; WRONG {mismatch[:3]}"))
    if path:
        res.check(not any("integrity_check" in b for b in bad),
                  "SQLite integrity_check ok after every kill")
    res.check(not [b for b in bad if "integrity_check" not in b],
              f"restarted service answers GET for {served_back} sampled acknowledged ids; "
              "no client error before a kill" + ("" if not bad else ": " + " | ".join(bad[:3])))
    res.figure = (f"{kills} kills; {len(all_acked)} acknowledged writes, 0 lost"
                  if not lost else f"{kills} kills; {len(lost)} of {len(all_acked)} "
                  "acknowledged writes LOST")
    res.figure += (f"; {in_doubt} rows committed but unacknowledged at a kill; "
                   f"~{statistics.mean(rates):.0f} POST/s")
    if path:
        res.figure += "; integrity_check ok %d/%d" % (
            kills - sum("integrity_check" in b for b in bad), kills)
    res.data.update(kills=kills, acked=len(all_acked), lost=len(lost), in_doubt=in_doubt,
                    post_per_s=rates)
    print("  " + res.figure, flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("work")
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], action="append")
    ap.add_argument("--what", choices=["seed", "serve"], action="append")
    ap.add_argument("--seed", type=int, default=None, help="random seed")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    results = []
    for kind in a.db or ["sqlite", "postgresql"]:
        if "seed" in (a.what or ["seed"]):
            results.append(seed_drill(a.binary, kind, a.kills, a.work, rng, 1.0))
        if "serve" in (a.what or ["serve"]):
            results.append(serve_drill(a.binary, kind, a.kills, a.work, rng, 1.5))
    sys.exit(0 if all(r.ok for r in results) else 1)


if __name__ == "__main__":
    main()
