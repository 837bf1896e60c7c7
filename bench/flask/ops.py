"""The workload's operations (docs/BENCHMARKS.md) through the guide's Python
stack, in-process: Flask-SQLAlchemy on a fresh SQLite file (SQLite's defaults,
as Flask-SQLAlchemy leaves them) and redis-py.

  ops.py [--n N] [--runs R] [--redis URL] [--csv FILE]

Prints the median cost per unit of each operation over R runs (each on a fresh
database) with the min and max, and appends them to FILE for bench/flask/compare.py.
Each operation starts from an empty session (expunge_all), as a request would,
so no operation reads objects another one loaded.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=10000)
p.add_argument("--runs", type=int, default=3)
p.add_argument("--quick", action="store_true")
p.add_argument("--redis", default=os.environ.get("KURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
p.add_argument("--csv")
args = p.parse_args()
if args.quick:
    args.n, args.runs = 1000, 1
lookups = 1000 if args.quick else 10000
queries = 100 if args.quick else 1000
updates = min(100 if args.quick else 1000, args.n)

tmp = tempfile.mkdtemp(prefix="flask-ops-")
os.environ["FLASK_BENCH_DB"] = os.path.join(tmp, "flask.db")
os.environ["FLASK_BENCH_REDIS"] = args.redis
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from app import SAUser, Session, app, sa  # noqa: E402


def user(i):
    return SAUser(name="user%05d" % i, email="user%05d@example.com" % i,
                  age=18 + (i * 7919 % 63), sex="M" if i % 2 else "F")


def op_insert():
    sa.session.add_all([user(i) for i in range(1, args.n + 1)])
    sa.session.commit()
    return args.n


def op_get():
    s = 0
    for k in range(lookups):
        s += sa.session.get(SAUser, k * 7919 % args.n + 1).age
        sa.session.expunge_all()
    return lookups


def op_query():
    rows = 0
    for q in range(queries):
        rows += len(SAUser.fetch_by_age(18 + q % 63))
        sa.session.expunge_all()
    return rows


def op_update():
    for i in range(1, updates + 1):
        u = sa.session.get(SAUser, i)
        u.change_sex("F" if u.sex == "M" else "M")
        sa.session.commit()
        sa.session.expunge_all()
    return updates


session = Session(app.redis)
value = bytes((ord("a") + i % 26) for i in range(64))
nkeys = 2000 if args.quick else 10000


def op_session_save():
    for i in range(nkeys):
        session.save("session:%d" % i, value)
    return nkeys


def op_session_get():
    for i in range(nkeys):
        if len(session.get("session:%d" % i)) != 64:
            raise SystemExit("session_get: wrong value")
    return nkeys


def pipelined(save):
    def run():
        for base in range(0, nkeys, 1000):
            pipe = app.redis.pipeline(transaction=False)
            for i in range(base, base + 1000):
                if save:
                    pipe.set("session:%d" % i, value)
                else:
                    pipe.get("session:%d" % i)
            pipe.execute()
        return nkeys
    return run


ops = [("insert", "row", op_insert), ("get_by_id", "op", op_get),
       ("query_by_age", "row", op_query), ("update", "op", op_update)]
kv_ops = [("session_save", "op", op_session_save), ("session_get", "op", op_session_get),
          ("session_save pipelined", "op", pipelined(True)),
          ("session_get pipelined", "op", pipelined(False))]
costs = {name: [] for name, _, _ in ops + kv_ops}
redis_ok = True
try:
    app.redis.ping()
except Exception as e:  # no server: the SQL figures still stand
    print("flask ops: no Redis at %s (%s): session figures skipped" % (args.redis, e))
    redis_ok = False

with app.app_context():
    for r in range(args.runs):
        sa.session.remove()
        sa.drop_all()
        sa.create_all()
        for name, _, fn in ops:
            sa.session.expunge_all()
            t = time.perf_counter()
            units = fn()
            costs[name].append((time.perf_counter() - t) / units * 1e6)
        if redis_ok:
            for name, _, fn in kv_ops:
                t = time.perf_counter()
                units = fn()
                costs[name].append((time.perf_counter() - t) / units * 1e6)
    sa.session.remove()

print("\nThe guide's Python stack in-process (Flask-SQLAlchemy %s on SQLite's defaults, redis-py): "
      "N=%d, median of %d runs" % (__import__("flask_sqlalchemy").__version__, args.n, args.runs))
print("| %-24s | %12s | %12s | %12s |" % ("operation", "µs/unit", "min", "max"))
print("|--------------------------|-------------:|-------------:|-------------:|")
for name, unit, _ in ops + kv_ops:
    c = costs[name]
    if not c:
        continue
    med = statistics.median(c)
    print("| %-24s | %12.3f | %12.3f | %12.3f |" % (name + " (µs/" + unit + ")", med, min(c), max(c)))
    if args.csv:
        with open(args.csv, "a") as f:
            f.write("flask-ops,flask,%d,%s,%s,%.6g,%.6g,0,%.4f,%.4f,0,0,0\n"
                    % (args.n, name, unit, med, med, min(c), max(c)))
os.remove(os.environ["FLASK_BENCH_DB"])
os.rmdir(tmp)
