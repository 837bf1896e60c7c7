"""Runs a tutorial as a newcomer would: every marked code block, in order.

    python3 run_tutorial.py TUTORIAL.md BUILD_DIR [SAME_CODE_AS.md]

A fenced block right after `<!-- tutorial: NAME -->` is written to the file NAME in an
empty directory; one after `<!-- tutorial: run -->` is run there with bash (-e), with
kura installed from BUILD_DIR (`cmake --install` into a temp prefix, found through
pkg-config as the README says); one after `<!-- tutorial: expect -->` must equal what
the previous run block printed (24-hex ObjectIds match any ObjectId). Port 8080 in a
run block is replaced with a free port. With SAME_CODE_AS, every named file and run
block must be the same as that tutorial's (a translation changes the prose, not the
code). Exit status 0 when everything built, ran and printed what the tutorial says.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!-- tutorial: (\S+) -->\s*$")


def blocks(path):
    """[(mark, text)] of the marked fenced blocks, in order."""
    lines = open(path, encoding="utf-8").read().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            i += 1
            if i >= len(lines) or not lines[i].startswith("```"):
                sys.exit(f"{path}:{i}: a tutorial mark must be followed by a fenced block")
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((m.group(1), "\n".join(body) + "\n"))
        i += 1
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


doc, build = sys.argv[1], sys.argv[2]
marked = blocks(doc)
if len(sys.argv) > 3:
    code = [b for b in marked if b[0] != "expect"]
    other = [b for b in blocks(sys.argv[3]) if b[0] != "expect"]
    if code != other:
        sys.exit(f"{doc}: its code differs from {sys.argv[3]}'s")
if not any(m == "run" for m, _ in marked):
    sys.exit(f"{doc}: no run block")

with tempfile.TemporaryDirectory(prefix="kura-tutorial.") as tmp:
    prefix = os.path.join(tmp, "prefix")
    subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    libdir = next(os.path.join(prefix, d) for d in os.listdir(prefix) if d.startswith("lib"))
    work = os.path.join(tmp, "myapp")
    os.mkdir(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
    env["PKG_CONFIG_PATH"] = os.path.join(libdir, "pkgconfig")
    env["LD_LIBRARY_PATH"] = libdir
    env["PATH"] = os.path.join(prefix, "bin") + ":" + env.get("PATH", "")
    printed = None
    for n, (mark, text) in enumerate(marked):
        if mark == "run":
            script = text.replace("8080", str(free_port()))
            r = subprocess.run(["bash", "-e", "-c", script], cwd=work, env=env,
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                sys.exit(f"{doc}: run block {n} failed ({r.returncode}):\n{script}\n"
                         f"{r.stdout}\n{r.stderr}")
            printed = r.stdout
        elif mark == "expect":
            want = re.escape(text).replace(re.escape("6750a1c2e4b0c3d2a1f00001"), "[0-9a-f]{24}")
            if printed is None or not re.fullmatch(want, printed):
                sys.exit(f"{doc}: block {n}: expected\n{text}got\n{printed}")
        else:
            with open(os.path.join(work, mark), "w", encoding="utf-8") as f:
                f.write(text)
print(f"{os.path.basename(doc)}: {len(marked)} blocks built, run and checked")
