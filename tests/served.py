"""A kura program served for a test, and an HTTP client for it (Python's standard library
only): used by the tests that drive a real `serve` process.

    with Served([program, "serve", "--database-url", db], env) as s:
        status, body, headers = s.call("POST", "/posts", {"title": "x"})

The program is started with `--port 0`; its log's "listening on" line says the port.
On leaving, the program gets SIGTERM and must exit 0 within 20 s (a graceful stop).
"""
import json
import re
import signal
import subprocess
import urllib.error
import urllib.request


class Served:
    def __init__(self, argv, env):
        self.argv = list(argv) + ["--port", "0"]
        self.env = env
        self.exit_status = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, env=self.env, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", line)
            if m:
                self.base = "http://127.0.0.1:" + m.group(1)
                return self
        self.proc.wait(timeout=20)
        raise RuntimeError(f"{self.argv[0]} serve never said where it listens")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_status = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError(f"{self.argv[0]} serve did not stop on SIGTERM")
        if exc[0] is None and self.exit_status != 0:
            raise RuntimeError(f"{self.argv[0]} serve exited {self.exit_status}")
        return False

    def call(self, method, path, body=None):
        """(status, parsed JSON body or None, headers); HTTP errors are answers too."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text else None), r.headers
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, (json.loads(text) if text else None), e.headers
