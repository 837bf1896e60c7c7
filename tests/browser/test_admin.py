"""The admin (kura_http_mount_admin) in a real browser: headless Chromium driven by
Selenium against a running kura program, as a person would use it.

    python3 test_admin.py PROGRAM

PROGRAM is a kura_main program that mounts the admin (build/guide_service: sa_user
at /users, m_e_user at /me_users). It is migrated and served on a fresh SQLite file
on a free port with KURA_ADMIN_PASSWORD set; rows and a leaderboard are seeded
through the JSON API, then the browser logs in (a wrong password first), creates a
user, sees the error beside a bad e-mail with the other typed values kept, fixes it,
edits, filters, orders, searches, pages, deletes behind the confirmation page, and
logs out; an XSS payload stays text; a form posted without its CSRF token is refused
(urllib, with the browser's own session cookie); pages are refused without a log-in.

Screenshots of the main pages go to $KURA_ADMIN_SCREENSHOTS (default: the test's
temp dir, removed at the end). Skips (exit 77) with a printed reason when chromium,
chromedriver or python3-selenium is missing; under the test command
(KURA_TEST_REQUIRE_SERVERS=1) that is a failure.
"""
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

START = time.monotonic()
program = sys.argv[1]
REQUIRED = os.environ.get("KURA_TEST_REQUIRE_SERVERS", "0") not in ("", "0")
PASSWORD = "correct-horse-battery-staple"
XSS = "<script>alert(1)</script>"


def skip(reason):
    print("skipped: " + reason)
    sys.exit(1 if REQUIRED else 77)


try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    skip("python3-selenium is not installed (apt-get install python3-selenium)")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
DRIVER = shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    skip("chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")

tmp = tempfile.TemporaryDirectory(prefix="kura-admin.")
shots = os.environ.get("KURA_ADMIN_SCREENSHOTS") or os.path.join(tmp.name, "screenshots")
os.makedirs(shots, exist_ok=True)
env = {k: v for k, v in os.environ.items() if not k.startswith("KURA_")}
env["KURA_ADMIN_PASSWORD"] = PASSWORD
env["KURA_REDIS_URL"] = "embedded:///" + os.path.join(tmp.name, "kv.db")
db_file = os.path.join(tmp.name, "app.db")
db = "sqlite:///" + db_file
checks = 0


def check(what, ok, detail=""):
    global checks
    checks += 1
    if not ok:
        raise AssertionError(f"{what}{': ' + str(detail) if detail else ''}")


subprocess.run([program, "migrate", "--database-url", db], env=env, check=True,
               capture_output=True, timeout=60)
log_path = os.path.join(tmp.name, "server.log")
log = open(log_path, "w")
server = subprocess.Popen([program, "serve", "--port", "0", "--threads", "2", "--database-url",
                           db], env=env, stderr=log, stdout=log)
browser = None


def listening_port():
    for _ in range(200):
        with open(log_path) as f:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", f.read())
        if m:
            return m.group(1)
        if server.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("the program never said where it listens:\n" + open(log_path).read())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


plain = urllib.request.build_opener(NoRedirect)


def call(method, path, body=None, headers=None, form=None):
    """One request without following redirects: (status, headers, text)."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with plain.open(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def shot(name):
    """A screenshot of the whole page (the window grown to the page's height)."""
    height = browser.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    chrome = browser.get_window_size()["height"] - browser.execute_script(
        "return window.innerHeight")
    browser.set_window_size(1280, max(720, min(height, 2400)) + chrome)
    path = os.path.join(shots, name + ".png")
    browser.save_screenshot(path)
    browser.set_window_size(1280, 800)
    return path


def text(css):
    return browser.find_element(By.CSS_SELECTOR, css).text


def field(name):
    """The form's element for field `name` and its error line (or None)."""
    box = browser.find_element(By.XPATH, f"//div[contains(@class,'field')][.//*[@name='{name}']]")
    errors = box.find_elements(By.CSS_SELECTOR, "p.error")
    return box.find_element(By.NAME, name), (errors[0].text if errors else None)


def fill(values):
    for name, value in values.items():
        el = browser.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)


def loaded(_=None):
    return browser.execute_script("return document.readyState") == "complete"


def navigate(element):
    """Clicks a link or a button and waits for the next page to replace this one
    and to be loaded."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()

    def gone(_):
        # chromedriver says a node of a replaced page is stale in more than one way
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(browser, 10).until(gone)
    WebDriverWait(browser, 10).until(loaded)


def submit(label):
    navigate(browser.find_element(By.XPATH, f"//button[normalize-space()='{label}']"))


def link(text, partial=False):
    navigate(browser.find_element(By.PARTIAL_LINK_TEXT if partial else By.LINK_TEXT, text))


def order_by(name):
    """Clicks the header of column `name` (its text is uppercased by the style sheet)."""
    navigate(browser.find_element(By.XPATH, f"//th/a[normalize-space(text())='{name}']"))


def rows():
    """The list's rows as dicts, by the table's header names."""
    heads = [re.sub("[▲▼]", "", h.get_attribute("textContent")).strip()
             for h in browser.find_elements(By.CSS_SELECTOR, "table.rows th")]
    out = []
    for tr in browser.find_elements(By.CSS_SELECTOR, "table.rows tbody tr"):
        out.append(dict(zip(heads, [td.text for td in tr.find_elements(By.TAG_NAME, "td")])))
    return out


def total():
    m = re.search(r"(\d+) rows?", text("p.summary"))
    return int(m.group(1)) if m else 0


try:
    base = "http://127.0.0.1:" + listening_port()

    # --- without a browser: the rules that hold before anyone logs in --------------
    st, h, body = call("GET", "/admin/models/sa_user")
    check("a page without a log-in is a redirect", st == 303, st)
    check("... to the log-in page", h["Location"].startswith("/admin/login?next="), h["Location"])
    check("every answer has the CSP", h["Content-Security-Policy"].startswith("default-src 'self'"))
    check("every answer has X-Frame-Options", h["X-Frame-Options"] == "DENY")
    st, h, body = call("POST", "/admin/models/sa_user/new", form={"name": "x"})
    check("a POST without a log-in is refused", st == 403, st)
    st, h, body = call("GET", "/admin/no/such/page")
    check("an unknown admin path asks for a log-in too", st == 303, st)

    # Rows through the JSON API: 25 users (ages 20..44, every third one F), a board.
    for i in range(25):
        st, made, _ = call("POST", "/users", {"name": f"user{i:02d}", "email": f"u{i}@example.com",
                                              "age": 20 + i, "sex": "F" if i % 3 == 0 else "M"})
        check("seed a user", st == 201, made)
    for member, score in [("alice", 120), ("bob", 95.5), ("carol", 143), ("dave", 60),
                          ("erin", 143)]:
        st, _, _ = call("POST", "/rankings/weekly", {"member": member, "score": score})
        check("seed the board", st in (200, 201), st)
    st, _, _ = call("POST", "/me_users", {"name": "Grace", "email": "grace@example.com",
                                          "age": 45, "sex": "F", "id": "g-1"})
    check("seed a document", st == 201, st)
    # Another program adds keys the model does not declare (the embedded document
    # store keeps them as a JSON object in the collection's "_extra" column).
    with sqlite3.connect(db_file) as con:
        con.execute("""UPDATE m_e_user SET _extra = json_set(COALESCE(_extra, '{}'),
                       '$.nickname', 'Amazing Grace', '$.langs', json('["COBOL","FLOW-MATIC"]'))""")

    # --- the browser -------------------------------------------------------------
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--force-device-scale-factor=1", "--lang=en-US"):
        opts.add_argument(arg)
    browser = webdriver.Chrome(service=Service(DRIVER), options=opts)
    browser.set_page_load_timeout(20)

    # A page of the admin sends the browser to log in, and back after it.
    browser.get(base + "/admin/models/sa_user")
    check("sent to the log-in page", "/admin/login" in browser.current_url, browser.current_url)
    fill({"password": "not-the-password"})
    submit("Log in")
    check("a wrong password is refused", "Wrong password." in text(".banner.error"))
    check("... and nothing else opens", not browser.get_cookie("kura_admin"))
    shot("login-refused")
    fill({"password": PASSWORD})
    submit("Log in")
    check("logged in, back on the page asked for",
          browser.current_url.endswith("/admin/models/sa_user"), browser.current_url)
    cookie = browser.get_cookie("kura_admin")
    check("the session cookie is HttpOnly", cookie and cookie["httpOnly"], cookie)
    check("... and SameSite=Strict", cookie.get("sameSite") == "Strict", cookie)
    check("the list shows the total", total() == 25, text("p.summary"))
    check("20 rows on the first page", len(rows()) == 20, len(rows()))
    shot("list")

    # Create: a bad e-mail is shown beside its field, what was typed is kept.
    link("New sa_user")
    fill({"name": "Ada Lovelace", "email": "ada.example.com", "age": "36", "sex": "F"})
    submit("Create")
    email, error = field("email")
    check("the error is beside the e-mail", error and "mail" in error.lower(), error)
    check("the bad e-mail is kept", email.get_attribute("value") == "ada.example.com")
    check("the name is kept", field("name")[0].get_attribute("value") == "Ada Lovelace")
    check("the age is kept", field("age")[0].get_attribute("value") == "36")
    check("the choice is kept",
          Select(field("sex")[0]).first_selected_option.get_attribute("value") == "F")
    check("only the e-mail is wrong", field("name")[1] is None and field("age")[1] is None)
    st, _, api = call("POST", "/users", {"name": "x", "email": "ada.example.com"})
    check("the message is the JSON API's", error in api, (error, api))
    shot("form-error")
    fill({"email": "ada@example.com"})
    submit("Create")
    check("created", "Created." in text(".banner.ok"))
    check("the detail shows the e-mail", "ada@example.com" in text("dl.fields"))
    ada = urllib.parse.urlsplit(browser.current_url).path
    shot("detail")

    # Edit: the stored values fill the form; a change is saved.
    link("Edit")
    check("the form holds the stored name", field("name")[0].get_attribute("value") == "Ada Lovelace")
    fill({"age": "37"})
    submit("Save")
    check("saved", "Saved." in text(".banner.ok"))
    st, _, got = call("GET", "/users/" + ada.rsplit("/", 1)[1])
    check("the edit reached the store", json.loads(got)["age"] == 37, got)
    link("Edit")
    fill({"email": "nobody", "age": "38"})
    submit("Save")
    check("a bad edit is refused beside its field", field("email")[1], field("email"))
    check("... keeping what was typed", field("email")[0].get_attribute("value") == "nobody"
          and field("age")[0].get_attribute("value") == "38")
    check("... and not saved", json.loads(call("GET", "/users/" + ada.rsplit("/", 1)[1])[2])
          ["age"] == 37)

    # Filter, order, search, page.
    browser.get(base + "/admin/models/sa_user")
    Select(browser.find_element(By.NAME, "sex")).select_by_value("F")
    submit("Apply")
    check("filtered on a field with choices", rows() and all(r["sex"] == "F" for r in rows()))
    check("... with its total", total() == 10, text("p.summary"))
    fill({"age": "23"})
    submit("Apply")
    check("filtered on an indexed field too", [r["age"] for r in rows()] == ["23"], rows())
    browser.get(base + "/admin/models/sa_user")
    order_by("age")
    ages = [int(r["age"]) for r in rows()]
    check("ordered by age, ascending", ages == sorted(ages), ages)
    order_by("age")
    ages = [int(r["age"]) for r in rows()]
    check("... then descending", ages == sorted(ages, reverse=True) and ages[0] == 44, ages)
    link("Next →")
    check("the second page", "page 2 of 2" in text("nav.pages"), text("nav.pages"))
    check("... holds the rest, in the same order", [int(r["age"]) for r in rows()] ==
          sorted([int(r["age"]) for r in rows()], reverse=True) and len(rows()) == 6, rows())
    browser.get(base + "/admin/models/sa_user")
    fill({"q": "Lovelace"})
    submit("Apply")
    check("search: a string field contains the text", [r["name"] for r in rows()] ==
          ["Ada Lovelace"], rows())

    # An XSS payload is text, in the list, the detail and the form.
    link("New sa_user")
    fill({"name": XSS, "email": "x@example.com", "age": "30"})
    submit("Create")
    check("the payload is created", "Created." in text(".banner.ok"))
    try:
        browser.switch_to.alert
        check("no script ran", False)
    except NoAlertPresentException:
        pass
    dd = browser.find_element(By.XPATH, "//dt[.='name']/following-sibling::dd[1]")
    check("the payload shows as text", dd.text == XSS, dd.text)
    check("... escaped in the page", "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.page_source)
    check("... and is no element", not browser.find_elements(By.XPATH, "//main//script"))
    xss_page = urllib.parse.urlsplit(browser.current_url).path
    browser.get(base + "/admin/models/sa_user?q=script")
    check("the payload is text in the list", rows() and rows()[0]["name"] == XSS, rows())
    browser.get(base + xss_page + "/edit")
    check("the payload is the input's value", field("name")[0].get_attribute("value") == XSS)

    # A form posted without its token is refused, with the browser's own session.
    jar = "kura_admin=" + cookie["value"]
    before = json.loads(call("GET", "/users?limit=0")[2])["total"]
    st, h, body = call("POST", "/admin/models/sa_user/new", headers={"Cookie": jar},
                       form={"name": "Mallory", "email": "m@example.com", "age": "40"})
    check("a form without its CSRF token is refused", st == 403, st)
    check("... saying why", "security token" in body, body[:200])
    check("... with the security headers", h["X-Frame-Options"] == "DENY")
    st, _, _ = call("POST", "/admin/models/sa_user/new", headers={"Cookie": jar},
                    form={"csrf": "A" * 43, "name": "Mallory", "email": "m@example.com"})
    check("a form with a wrong token is refused", st == 403, st)
    st, _, _ = call("POST", ada + "/delete", headers={"Cookie": jar}, form={})
    check("a delete without its token is refused", st == 403, st)
    after = json.loads(call("GET", "/users?limit=0")[2])["total"]
    check("nothing was written", before == after, (before, after))
    token = re.search(r'name="csrf" value="([^"]+)"',
                      call("GET", "/admin/models/sa_user/new", headers={"Cookie": jar})[2])
    st, h, _ = call("POST", "/admin/models/sa_user/new", headers={"Cookie": jar},
                    form={"csrf": token.group(1), "name": "Trent", "email": "t@example.com"})
    check("the same form with its token is taken", st == 303, st)

    # Delete behind a confirmation page.
    browser.get(base + ada)
    link("Delete")
    check("a confirmation page first", browser.current_url.endswith("/delete")
          and "cannot be undone" in text(".banner.warn"))
    st, _, _ = call("GET", "/users/" + ada.rsplit("/", 1)[1])
    check("... which deleted nothing", st == 200, st)
    submit("Delete")
    check("deleted", "Deleted." in text(".banner.ok"))
    st, _, _ = call("GET", "/users/" + ada.rsplit("/", 1)[1])
    check("... from the store", st == 404, st)

    # Documents: the same pages over the document store.
    browser.get(base + "/admin/models/m_e_user")
    check("documents are listed", [r["name"] for r in rows()] == ["Grace"], rows())
    navigate(browser.find_element(By.CSS_SELECTOR, "td.key a"))
    check("a document's page", "grace@example.com" in text("dl.fields"))
    check("keys the model does not declare, read-only", "Amazing Grace" in text("dl.extra")
          and "FLOW-MATIC" in text("dl.extra"), text("dl.extra"))
    shot("document")
    link("Edit")
    check("the edit form shows them, not as inputs", "Amazing Grace" in text("dl.extra")
          and not browser.find_elements(By.NAME, "nickname"))
    fill({"age": "46"})
    submit("Save")
    check("the document is saved", "Saved." in text(".banner.ok"))
    check("... keeping the keys it does not declare", "Amazing Grace" in text("dl.extra"))
    with sqlite3.connect(db_file) as con:
        age, extra = con.execute("SELECT age, _extra FROM m_e_user").fetchone()
        stored = dict(json.loads(extra), age=age)
    check("... in the store", stored["nickname"] == "Amazing Grace" and stored["age"] == 46,
          stored)

    # A document that does not fit the model is listed apart, and can be deleted.
    with sqlite3.connect(db_file) as con:
        con.execute("""INSERT INTO m_e_user (_id, name, age) VALUES ('0123456789abcdef01234567',
                       ?, 3)""", ("x" * 600,))
    browser.get(base + "/admin/models/m_e_user")
    check("a misfit is listed apart", "do not fit" in text(".banner.warn") or
          "does not fit" in text(".banner.warn"), text(".banner.warn"))
    check("... the others still are", [r["name"] for r in rows()] == ["Grace"], rows())
    navigate(browser.find_element(By.CSS_SELECTOR, ".banner.warn a"))
    check("its delete page says why", "does not fit" in text(".banner.error"))
    submit("Delete")
    check("... and deletes it", "Deleted." in text(".banner.ok")
          and not browser.find_elements(By.CSS_SELECTOR, ".banner.warn"))

    # Rankings: the top of a board, a member's rank.
    browser.get(base + "/admin/rankings")
    browser.find_element(By.ID, "top-board").send_keys("weekly")
    submit("Show")
    members = [r["member"] for r in rows()]
    check("the top of the board, best first", members == ["erin", "carol", "alice", "bob",
                                                          "dave"], members)
    shot("rankings")
    browser.find_element(By.ID, "rank-board").clear()
    browser.find_element(By.ID, "rank-board").send_keys("weekly")
    browser.find_element(By.ID, "rank-member").send_keys("alice")
    submit("Find")
    check("a member's rank", "#3" in text(".rank-card"), text(".rank-card"))

    # Status.
    browser.get(base + "/admin/status")
    check("the stores answer", "Every store answers." in text(".banner.ok"))
    shot("status")

    # Log out: the session ends, and the pages ask for a log-in again.
    submit("Log out")
    check("logged out to the log-in page", "/admin/login" in browser.current_url)
    st, h, _ = call("GET", "/admin", headers={"Cookie": jar})
    check("the old cookie opens nothing", st == 303 and "/admin/login" in h["Location"], st)
    browser.get(base + "/admin/status")
    check("the browser is asked to log in again", "/admin/login" in browser.current_url)

    browser.quit()
    browser = None
    server.send_signal(signal.SIGTERM)
    check("the program stops cleanly (no sanitizer report)", server.wait(timeout=30) == 0,
          open(log_path).read()[-2000:])
    print(f"admin: {checks} checks held in a real browser ({CHROMIUM}); screenshots in "
          f"{shots}; {time.monotonic() - START:.1f} s")
except Exception:
    if browser:
        try:
            shot("failure")
            print("page at failure:", browser.current_url, file=sys.stderr)
            print(browser.page_source[:4000], file=sys.stderr)
        except Exception:
            pass
    print(open(log_path).read()[-3000:], file=sys.stderr)
    raise
finally:
    if browser:
        browser.quit()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
