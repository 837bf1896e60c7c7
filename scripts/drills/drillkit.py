"""drillkit — what the drills share: the servers scripts/services.sh started, the
guide's service started and killed by PID, a bounded HTTP client, and the databases
read behind kura's back (python's sqlite3 module, psql, redis-cli).

Python 3 standard library only. Every server the drills touch is a throwaway one:
PostgreSQL and Redis from scripts/services.sh (KURA_TEST_* in the environment, set by
scripts/drills/run), and guide_service processes this module starts in a temp dir.
"""
import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time

# Bound on every HTTP request a drill makes: one that takes longer is a hang.
REQUEST_TIMEOUT_S = 10.0


class DrillError(Exception):
    """A drill could not run (a server did not start, a tool is missing)."""


def now():
    return time.monotonic()


def env_required(name):
    v = os.environ.get(name, "")
    if not v:
        raise DrillError(f"{name} is not set: run the drills through scripts/drills/run, "
                         "which starts PostgreSQL and Redis (scripts/services.sh)")
    return v


def clean_env(extra):
    """The environment for a kura process: no KURA_* from outside, then extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
    env.update(extra)
    return env


# ---- PostgreSQL (psql) and Redis (redis-cli) behind kura's back ------------------------

def pg_bin(tool):
    return os.path.join(env_required("KURA_TEST_PG_BIN"), tool)


def pg_url(db):
    return f"postgresql:///{db}?host={env_required('KURA_TEST_PG_SOCKDIR')}"


def psql(db, sql, timeout=60):
    """Rows of sql on database db, as lists of strings."""
    out = subprocess.run([pg_bin("psql"), "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-h", env_required("KURA_TEST_PG_SOCKDIR"), "-d", db, "-c", sql],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise DrillError(f"psql {db}: {sql}: {out.stderr.strip()}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def pg_fresh_db(db):
    """Drops and creates database db on the test cluster."""
    sock = env_required("KURA_TEST_PG_SOCKDIR")
    subprocess.run([pg_bin("dropdb"), "-h", sock, "--if-exists", db], check=True,
                   capture_output=True, timeout=60)
    subprocess.run([pg_bin("createdb"), "-h", sock, db], check=True, capture_output=True,
                   timeout=60)


def pg_ctl(*args, timeout=90):
    out = subprocess.run([env_required("KURA_TEST_PG_CTL"), *args], capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise DrillError(f"pg_ctl {' '.join(args)}: {out.stdout} {out.stderr}".strip())


def pg_connections(db):
    """Backends connected to db, not counting the one asking."""
    return int(psql(db, "SELECT count(*) FROM pg_stat_activity "
                        f"WHERE datname = '{db}' AND pid <> pg_backend_pid()")[0][0])


def redis_cli(*args, timeout=10):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p",
                          env_required("KURA_TEST_REDIS_PORT"), *args],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise DrillError(f"redis-cli {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def redis_pid():
    with open(env_required("KURA_TEST_REDIS_PIDFILE")) as f:
        return int(f.read().strip())


def redis_start():
    out = subprocess.run([env_required("KURA_TEST_REDIS_START")], capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise DrillError("redis-server did not start again: " + out.stderr.strip())


def redis_connections():
    """Clients connected to Redis, not counting the redis-cli asking."""
    return len(redis_cli("CLIENT", "LIST").splitlines()) - 1


def wait_dead(pid, timeout=30):
    """Waits until pid is gone (or a zombie); True if it went."""
    deadline = now() + timeout
    while now() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        time.sleep(0.02)
    return False


# ---- SQLite behind kura's back ---------------------------------------------------------

def sqlite_open(path):
    """An existing database file, never a new one (mode=rw)."""
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)


def sqlite_integrity(path):
    """PRAGMA integrity_check's answer, 'ok' when the file is sound."""
    con = sqlite_open(path)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    return "; ".join(r[0] for r in rows)


# ---- the guide's service ---------------------------------------------------------------

class Service:
    """build/guide_service serve on a free port, started and stopped by PID."""

    def __init__(self, binary, env, log_path, threads=None):
        self.binary = binary
        self.env = env
        self.log_path = log_path
        self.threads = threads
        self.proc = None
        self.port = None

    def start(self, timeout=60):
        args = [self.binary, "serve", "--port", "0", "--log-level", "info"]
        if self.threads:
            args += ["--threads", str(self.threads)]
        log = open(self.log_path, "ab")
        start_at = log.tell()
        try:
            self.proc = subprocess.Popen(args, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, close_fds=True,
                                         cwd=os.path.dirname(self.log_path))
        finally:
            log.close()
        deadline = now() + timeout
        pat = re.compile(rb'"listening on http://127\.0\.0\.1:(\d+)')
        while now() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(start_at)
                m = pat.search(f.read())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise DrillError(f"guide_service serve exited with {self.proc.returncode}: "
                                 + tail(self.log_path))
            time.sleep(0.02)
        self.kill9()
        raise DrillError("guide_service serve did not listen within %d s: %s"
                         % (timeout, tail(self.log_path)))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self, timeout=30):
        """SIGTERM (graceful stop), the exit status; SIGKILL if it outlasts timeout."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return "killed after %d s" % timeout

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def client(self):
        return Client(self.port)


def tail(path, n=5):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return " | ".join(lines[-n:])
    except OSError:
        return ""


def fd_kinds(pid, redis_port):
    """The process's open fds by kind: 'redis' (TCP to the Redis port), 'unix' (unix
    sockets: the PostgreSQL connections, kura opens no other), 'tcp' (other TCP: the
    listener, HTTP clients), 'sqlite' (SQLite database, -wal and -shm files: each pooled
    connection holds the database and its WAL open), 'other' (log, pipes, epoll, eventfd)."""
    tcp, unix = {}, set()
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    tcp[cols[9]] = int(cols[2].rsplit(":", 1)[1], 16)  # inode: remote port
        except FileNotFoundError:
            pass
    with open(f"/proc/{pid}/net/unix") as f:
        next(f)
        unix = {line.split()[6] for line in f}
    kinds = {"redis": 0, "unix": 0, "tcp": 0, "sqlite": 0, "other": 0}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", link)
        if not m:
            kinds["sqlite" if re.search(r"\.db(-wal|-shm)?$", link) else "other"] += 1
        elif m.group(1) in tcp:
            kinds["redis" if tcp[m.group(1)] == redis_port else "tcp"] += 1
        elif m.group(1) in unix:
            kinds["unix"] += 1
        else:
            kinds["other"] += 1
    return kinds


def settle_fds(svc, quiet=0.3, timeout=10):
    """The service's open fd count once it has not changed for `quiet` seconds."""
    deadline = now() + timeout
    last, since = svc.fds(), now()
    while now() < deadline:
        time.sleep(0.05)
        n = svc.fds()
        if n != last:
            last, since = n, now()
        elif now() - since >= quiet:
            break
    return last


# ---- HTTP ------------------------------------------------------------------------------

class Reply:
    __slots__ = ("status", "ctype", "body", "headers", "t0", "t1", "error")

    def __init__(self, status, ctype, body, headers, t0, t1, error=None):
        self.status, self.ctype, self.body, self.headers = status, ctype, body, headers
        self.t0, self.t1, self.error = t0, t1, error

    @property
    def seconds(self):
        return self.t1 - self.t0

    def json(self):
        return json.loads(self.body) if self.body else None


class Client:
    """One keep-alive connection (or, `fresh`, a new connection per request); every
    request bounded by REQUEST_TIMEOUT_S.

    A request that fails at the connection level comes back as status 0 with error
    'timeout' or 'connection: ...' (and the connection is opened anew next time)."""

    def __init__(self, port, timeout=REQUEST_TIMEOUT_S, fresh=False):
        self.port = port
        self.timeout = timeout
        self.fresh = fresh
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if self.fresh:
            hdrs["Connection"] = "close"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        t0 = now()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            text = resp.read()
            t1 = now()
            if self.fresh or resp.getheader("Connection", "").lower() == "close":
                self.close()
            return Reply(resp.status, (resp.getheader("Content-Type") or "").split(";")[0],
                         text, resp.headers, t0, t1)
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            t1 = now()
            self.close()
            kind = "timeout" if isinstance(e, TimeoutError) else f"connection: {e!r}"
            return Reply(0, "", b"", None, t0, t1, kind)


def user_body(name):
    return {"name": name, "email": f"{name}@example.com", "age": 18 + random.randrange(63),
            "sex": random.choice("MF")}


# ---- figures ---------------------------------------------------------------------------

def pct(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def fmt_s(x):
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


class Result:
    """One drill's outcome: ok, the figure for the summary, and its checks."""

    def __init__(self, drill, target):
        self.drill = drill
        self.target = target
        self.checks = []  # (ok, text)
        self.figure = ""
        self.data = {}

    def check(self, ok, text):
        self.checks.append((bool(ok), text))
        print(("  ok    " if ok else "  FAIL  ") + text, flush=True)
        return ok

    @property
    def ok(self):
        return all(ok for ok, _ in self.checks)

    def status(self):
        return "ok" if self.ok else "FAIL"



# ---- a load generator over the guide's routes --------------------------------------------

# Route classes: the store each needs, and the status that means success.
ROUTES = {
    "users_post": ("postgresql", 201),    # POST /users
    "users_get": ("postgresql", 200),     # GET /users/{id}
    "users_patch": ("postgresql", 200),   # PATCH /users/{id} {"age"} (a user this worker made)
    "users_delete": ("postgresql", 204),  # DELETE /users/{id} (a user this worker made)
    "rank_post": ("redis", 200),          # POST /rankings/drill {"member","score"}
    "rank_get": ("redis", 200),           # GET /rankings/drill?limit=5
    "session_post": ("redis", 201),       # POST /session
    "session_get": ("redis", 200),        # GET /session (a session this worker started)
    "docs_get": ("sqlite", 200),          # GET /me_users?limit=5 (documents on SQLite)
    "metrics": (None, 200),               # GET /metrics
    "health": ("all", 200),               # GET /health: 503 (JSON, naming the store) when one is down
}


class Record:
    __slots__ = ("t0", "t1", "cls", "status", "ctype", "error", "body")

    def __init__(self, cls, r):
        self.t0, self.t1, self.cls = r.t0, r.t1, cls
        self.status, self.ctype, self.error = r.status, r.ctype, r.error
        self.body = r.body[:300] if r.status not in (200, 201) else b""

    @property
    def ok(self):
        return self.status == ROUTES[self.cls][1]

    @property
    def seconds(self):
        return self.t1 - self.t0


class Load:
    """`workers` threads, each on its own keep-alive connection, sending a random mix of
    the route classes in `mix` ({class: weight}) back to back until stopped. Every
    request is recorded; acknowledged writes are kept for checking afterwards."""

    def __init__(self, port, mix, workers, tag, user_id, seed=None, fresh=False):
        self.port, self.mix, self.workers, self.tag = port, mix, workers, tag
        self.fresh = fresh
        self.user_id = user_id
        self.records = []
        self.acked_users = []     # (id, name)
        # PATCH /users/{id} {"age"} per user id, in order: (age, acknowledged). A write
        # that got no 200 may or may not have happened; one that got 200 did.
        self.patches = {}
        self.deleted = set()      # user ids whose DELETE got 204
        self.maybe_deleted = set()  # user ids whose DELETE got anything else
        self.acked_ranks = []     # (member, score)
        self.acked_sessions = []  # (cookie, data)
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._threads = []

    def start(self):
        for w in range(self.workers):
            t = threading.Thread(target=self._work, args=(w, random.Random(self.rng.random())),
                                 daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=REQUEST_TIMEOUT_S * 3)
        self.records.sort(key=lambda r: r.t0)
        return self

    def _work(self, w, rng):
        c = Client(self.port, fresh=self.fresh)
        classes = list(self.mix)
        weights = [self.mix[k] for k in classes]
        seq = 0
        cookie = None
        mine = []  # ids of users this worker made and has not tried to delete
        while not self._stop.is_set():
            seq += 1
            cls = rng.choices(classes, weights)[0]
            key = f"{self.tag}-{w}-{seq}"
            if cls == "session_get" and not cookie:
                cls = "session_post"
            if cls in ("users_patch", "users_delete") and not mine:
                cls = "users_post"
            if cls == "users_post":
                r = c.request("POST", "/users", user_body(key))
                if r.status == 201:
                    self.acked_users.append((r.json()["id"], key))
                    mine.append(r.json()["id"])
            elif cls == "users_patch":
                uid = rng.choice(mine)
                age = 18 + seq % 60
                r = c.request("PATCH", f"/users/{uid}", {"age": age})
                self.patches.setdefault(uid, []).append((age, r.status == 200))
            elif cls == "users_delete":
                uid = mine.pop(rng.randrange(len(mine)))
                r = c.request("DELETE", f"/users/{uid}")
                (self.deleted if r.status == 204 else self.maybe_deleted).add(uid)
            elif cls == "users_get":
                r = c.request("GET", f"/users/{self.user_id}")
            elif cls == "rank_post":
                r = c.request("POST", "/rankings/drill", {"member": key, "score": seq})
                if r.status == 200:
                    self.acked_ranks.append((key, seq))
            elif cls == "rank_get":
                r = c.request("GET", "/rankings/drill?limit=5")
            elif cls == "session_post":
                r = c.request("POST", "/session", {"k": key})
                if r.status == 201:
                    m = re.search(r"kura_session=([^;]+)", r.headers.get("Set-Cookie", ""))
                    cookie = m.group(1) if m else None
                    if cookie:
                        self.acked_sessions.append((cookie, {"k": key}))
            elif cls == "session_get":
                r = c.request("GET", "/session", headers={"Cookie": f"kura_session={cookie}"})
            elif cls == "docs_get":
                r = c.request("GET", "/me_users?limit=5")
            elif cls == "metrics":
                r = c.request("GET", "/metrics")
            else:
                r = c.request("GET", "/health")
            self.records.append(Record(cls, r))
        c.close()
