"""/openapi.json of a running kura program: valid OpenAPI 3.1 by a validator nobody
here wrote, and its examples replayed against the service.

    python3 test_openapi.py PROGRAM VALIDATE_API

PROGRAM is a kura_main program (the blog, the guide's service): it is migrated and
served on a fresh SQLite file. VALIDATE_API is @seriousme/openapi-schema-validator's
validate-api (npm; scripts/test installs it under tests/node); when it is missing the
test skips (exit 77), or fails under the test command (KURA_TEST_REQUIRE_SERVERS).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from served import Served  # noqa: E402

program, validator = sys.argv[1], sys.argv[2]
if not os.path.exists(validator):
    print(f"skipped: {validator} not installed (npm install --prefix tests/node)")
    sys.exit(1 if os.environ.get("KURA_TEST_REQUIRE_SERVERS", "0") not in ("", "0") else 77)

tmp = tempfile.TemporaryDirectory(prefix="kura-openapi.")
env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
db = "sqlite:///" + os.path.join(tmp.name, "app.db")
env["KURA_REDIS_URL"] = "embedded:///" + os.path.join(tmp.name, "kv.db")
subprocess.run([program, "migrate", "--database-url", db], env=env, check=True,
               capture_output=True)
with Served([program, "serve", "--database-url", db], env) as server:
    call = server.call
    status, doc, headers = call("GET", "/openapi.json")
    if status != 200:
        sys.exit(f"GET /openapi.json: {status}")
    path = os.path.join(tmp.name, "openapi.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    v = subprocess.run(["node", validator, path], capture_output=True, text=True)
    if v.returncode != 0:
        sys.exit(f"not valid OpenAPI 3.1:\n{v.stdout}{v.stderr}")

    replayed = 0
    for route, item in doc["paths"].items():
        post = item.get("post", {})
        example = (post.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("example"))
        if example is None or "{" in route:
            continue
        status, made, headers = call("POST", route, example)
        if status != 201:
            sys.exit(f"POST {route} with its example: {status} {made}")
        status, got, _ = call("GET", headers["Location"])
        if status != 200:
            sys.exit(f"GET {headers['Location']}: {status}")
        for k, want in example.items():
            if got.get(k) != want:
                sys.exit(f"{route}: {k} came back {got.get(k)!r}, the example said {want!r}")
        replayed += 1
    if replayed == 0:
        sys.exit("no collection with an example to replay")
print(f"openapi: valid OpenAPI 3.1, {len(doc['paths'])} paths, {replayed} examples replayed")
