"""The blog example (examples/blog) over real HTTP: its program migrates, serves and
answers the way a client of a blog expects, and its own commands see what HTTP wrote.

    python3 test_blog.py PATH/TO/blog [postgresql]

Runs on the embedded defaults (an SQLite file in a temp dir), or with `postgresql` on
the test command's PostgreSQL (KURA_TEST_PG_URL; posts a table, comments JSONB): posts
with UUID keys, comments as documents with ObjectId keys, and the /posts/{id}/comments route the
example adds with kura_http_handle. Exit status 0 when every check held.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from served import Served  # noqa: E402

blog = sys.argv[1]
tmp = tempfile.TemporaryDirectory(prefix="kura-blog.")
db = "sqlite:///" + os.path.join(tmp.name, "blog.db")  # four slashes: an absolute path
env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
env["KURA_REDIS_URL"] = "embedded:///" + os.path.join(tmp.name, "kv.db")
if sys.argv[2:] == ["postgresql"]:
    db = os.environ.get("KURA_TEST_PG_URL", "")
    if not db:
        print("skipped: KURA_TEST_PG_URL not set (the test command starts PostgreSQL)")
        required = os.environ.get("KURA_TEST_REQUIRE_SERVERS", "0") not in ("", "0")
        sys.exit(1 if required else 77)
    # A clean slate: the tables of an earlier run go (the database is the tests' own).
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", db, "-c",
                    "DROP TABLE IF EXISTS post, comment"], check=True, capture_output=True)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OID = re.compile(r"^[0-9a-f]{24}$")


def run(*args):
    out = subprocess.run([blog, *args, "--database-url", db], env=env, capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"blog {' '.join(args)}: exit {out.returncode}: {out.stderr}")
    return out.stdout


def fields(problem):
    """The fields a 422 problem names."""
    return [e.get("field") for e in (problem or {}).get("errors", [])]


def expect(what, got, want):
    if got != want:
        sys.exit(f"{what}: expected {want!r}, got {got!r}")


run("migrate")
with Served([blog, "serve", "--threads", "2", "--database-url", db], env) as server:
    call = server.call
    # A post: the key is a UUID v7 made by kura; tags, JSON and a date round-trip.
    hello = {"title": "Hello, kura", "slug": "hello", "body": "First post.",
             "tags": ["c", "databases"], "meta": {"cover": "kura.png", "minutes": 4},
             "published": True, "published_on": "2026-12-03"}
    st, p, h = call("POST", "/posts", hello)
    expect("POST /posts", st, 201)
    pid = p["id"]
    if not UUID.match(pid):
        sys.exit(f"post key is not a UUID v7: {pid}")
    expect("Location", h["Location"], "/posts/" + pid)
    st, got, _ = call("GET", "/posts/" + pid)
    expect("GET /posts/{id}", st, 200)
    for k, v in hello.items():
        expect("post " + k, got[k], v)
    st, _, _ = call("POST", "/posts", dict(hello, title="Draft", slug="draft", published=False,
                                           published_on=None, meta=[1, 2.5, "x"]))
    expect("POST draft", st, 201)

    # The rules the descriptor declares: a unique slug, a real date, a UUID path.
    st, prob, _ = call("POST", "/posts", dict(hello, slug="hello"))
    expect("duplicate slug", st, 409)
    st, prob, _ = call("POST", "/posts", dict(hello, slug="bad-date", published_on="2026-02-30"))
    expect("bad date", st, 422)
    expect("bad date field", fields(prob), ["published_on"])
    st, _, _ = call("GET", "/posts/not-a-uuid")
    if st not in (400, 404):
        sys.exit(f"GET /posts/not-a-uuid: {st}")
    st, _, _ = call("GET", "/posts/01890a5d-ac96-774b-bcce-b302099a8057")
    expect("missing post", st, 404)

    # Filters and order over the collection.
    st, lst, _ = call("GET", "/posts?published=true")
    expect("filter published", (st, lst["total"]), (200, 1))
    st, lst, _ = call("GET", "/posts?order=-slug")
    expect("order by slug", [i["slug"] for i in lst["items"]], ["hello", "draft"])

    # Comments: the route of the example's own, documents with ObjectId keys.
    st, c1, h = call("POST", f"/posts/{pid}/comments", {"author": "ann", "body": "Nice."})
    expect("POST comment", st, 201)
    if not OID.match(c1["_id"] if "_id" in c1 else c1["id"]):
        sys.exit(f"comment key is not an ObjectId: {c1}")
    cid = c1.get("id", c1.get("_id"))
    expect("comment Location", h["Location"], "/comments/" + cid)
    expect("comment post", c1["post"], pid)
    st, _, _ = call("POST", f"/posts/{pid}/comments", {"author": "bob", "body": "More!"})
    expect("POST comment 2", st, 201)
    st, prob, _ = call("POST", f"/posts/{pid}/comments", {"author": "eve"})
    expect("comment without body", (st, fields(prob)), (422, ["body"]))
    st, _, _ = call("POST", f"/posts/{pid}/comments", {"author": "eve", "body": "x",
                                                       "post": pid})
    expect("comment naming its post", st, 400)
    st, _, _ = call("POST", "/posts/01890a5d-ac96-774b-bcce-b302099a8057/comments",
                    {"author": "eve", "body": "x"})
    expect("comment on a missing post", st, 404)
    st, lst, _ = call("GET", f"/posts/{pid}/comments")
    expect("list comments", [c["author"] for c in lst["items"]], ["ann", "bob"])
    st, got, _ = call("GET", "/comments/" + cid)
    expect("GET /comments/{id}", (st, got["body"]), (200, "Nice."))
    # The posts the comments reference, beside them: documents naming a SQL row.
    st, lst, _ = call("GET", "/comments?include=post")
    expect("comments with their post", (st, [p["id"] for p in lst["included"]["post"]]),
           (200, [pid]))
    expect("included post", lst["included"]["post"][0]["title"], hello["title"])
    st, prob, _ = call("GET", "/posts?include=title")
    expect("include of a field that references nothing", st, 400)

    # Change and delete.
    st, got, _ = call("PATCH", "/posts/" + pid, {"tags": ["c"], "meta": None})
    expect("PATCH post", (st, got["tags"], got["meta"]), (200, ["c"], None))
    st, _, _ = call("DELETE", "/comments/" + cid)
    expect("DELETE comment", st, 204)
    st, lst, _ = call("GET", f"/posts/{pid}/comments")
    expect("comments after delete", len(lst["items"]), 1)
    st, _, _ = call("GET", "/health")
    expect("health", st, 200)

# The program's kura commands see what HTTP wrote.
expect("count post", run("count", "post").strip(), "2")
rows = [json.loads(line) for line in run("rows", "post", "--where", "published=true",
                                         "--json").splitlines()]
expect("rows --where", [r["slug"] for r in rows], ["hello"])
expect("count comment", run("count", "comment").strip(), "1")
# get MODEL ID by the model's key kind: a UUID here.
expect("get post", json.loads(run("get", "post", pid, "--json"))["slug"], "hello")
print("blog: posts, comments and the example's own route served and checked")
