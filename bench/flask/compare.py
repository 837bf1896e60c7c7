"""Prints kura against the guide's Python stack, operation by operation, from
the CSV that bench/run collects (bench/common.c's rows; bench/flask/ops.py's).

  compare.py CSV

kura's side: bench_sqlite's "rollback" setting (journal_mode=delete,
synchronous=FULL, no mmap, a 2 MB cache: what Flask-SQLAlchemy runs on, SQLite's
defaults) at the size ops.py ran, and bench_kv's Redis figures.
"""
import csv
import sys

rows = list(csv.reader(open(sys.argv[1])))
flask = {(r[3]): r for r in rows if r[0] == "flask-ops"}
if not flask:
    print("\nkura vs Flask: no figures (bench/flask/ops.py did not run)")
    sys.exit(0)
n = next(iter(flask.values()))[2]
kura = {}
for r in rows:
    if r[0] == "sqlite" and r[1] == "rollback" and r[2] == n:
        kura[r[3]] = r
    elif r[0] == "kv" and r[1] == "redis":
        kura[r[3]] = r
print("\nkura vs the guide's Python stack (Flask-SQLAlchemy, redis-py), in-process, N=%s" % n)
print("| %-24s | %12s | %12s | %11s | %13s |" % ("operation", "Flask µs", "kura µs",
                                                 "kura/Flask", "min–max"))
print("|--------------------------|-------------:|-------------:|------------:|--------------:|")
with open(sys.argv[1], "a") as out:
    for op, f in flask.items():
        k = kura.get(op)
        if not k:
            continue
        fu, ku = float(f[5]), float(k[6])
        lo, hi = float(f[8]) / ku, float(f[9]) / ku
        print("| %-24s | %12.3f | %12.3f | %11.1f | %5.1f – %5.1f |"
              % (op + " (/" + f[4] + ")", fu, ku, fu / ku, lo, hi))
        out.write("flask-vs-kura,flask,%s,%s,%s,%.6g,%.6g,%.4f,%.4f,%.4f,0,0,0\n"
                  % (n, op, f[4], fu, ku, fu / ku, lo, hi))
print("(kura/Flask = Flask's median cost / kura's median cost; min–max over Flask's runs;"
      " SQL: kura on the 'rollback' setting of bench_sqlite, the same SQLite settings as"
      " Flask-SQLAlchemy's; sessions: kura on Redis from bench_kv)")
