"""`serve` raises its open-file limit so that its connection limit can be reached.

    python3 test_serve_nofile.py PROGRAM

PROGRAM (a kura_main program) is started with a soft RLIMIT_NOFILE of 256, far below the
1,024 connections `serve` accepts by default. It must raise the soft limit itself (to the
hard limit, at most 65,536) and then hold 600 open connections (from 15 loopback
addresses, 40 each: under the per-address limit of 64) while /health still answers.
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from served import Served  # noqa: E402

program = sys.argv[1]
SOFT = 256
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < 2048:
    print(f"skipped: the hard open-file limit here is {hard}: nothing to raise to")
    sys.exit(77)
want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
# The test itself holds the client ends.
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096) if hard == resource.RLIM_INFINITY
                                            else min(hard, max(soft, 4096)), hard))


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (SOFT, hard))


class LowServed(Served):
    def __enter__(self):
        orig = subprocess.Popen

        def popen(*a, **k):
            return orig(*a, preexec_fn=low_limit, **k)
        subprocess.Popen = popen
        try:
            return super().__enter__()
        finally:
            subprocess.Popen = orig


tmp = tempfile.TemporaryDirectory(prefix="kura-nofile.")
env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
db = "sqlite:///" + os.path.join(tmp.name, "app.db")
env["KURA_REDIS_URL"] = "embedded:///" + os.path.join(tmp.name, "kv.db")
with LowServed([program, "serve", "--database-url", db], env) as server:
    limits = open(f"/proc/{server.proc.pid}/limits").read()
    line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
    got = int(line.split()[3])
    print(f"soft limit {SOFT} at start, {got} once serving (hard {hard})")
    if got < want:
        sys.exit(f"serve left its soft open-file limit at {got}, below {want}")
    port = int(server.base.rsplit(":", 1)[1])
    conns = []
    for a in range(15):
        for _ in range(40):
            s = socket.socket()
            s.bind((f"127.0.0.{a + 2}", 0))
            s.connect(("127.0.0.1", port))
            conns.append(s)
    status, body, _ = server.call("GET", "/health")
    print(f"/health with {len(conns)} idle connections open: {status}")
    # An idle connection is still served: the server accepted it, not just the kernel.
    conns[-1].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    conns[-1].settimeout(10)
    first = conns[-1].recv(64)
    for s in conns:
        s.close()
    if status != 200:
        sys.exit(f"/health answered {status} with {len(conns)} connections open")
    if not first.startswith(b"HTTP/1.1 200"):
        sys.exit(f"the 600th connection got {first!r}")
print("ok")
