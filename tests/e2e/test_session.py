"""People in the management API (issue 14): signing in and out with a
session cookie, the CSRF token every browser write carries, roles,
sign-in throttling, the numbers a person is limited to, `wactl user`, and
the admin's routes for users, API keys and numbers.  HTTP level, against
the real stack (nginx, responders, SQLite); the browser tests are
test_inbox*.py."""
import json
import os
import time
import urllib.parse

import pytest

import fcgi_client
from fake_graph import FakeGraph
from people import PW, add_user, wactl
from stack import Stack, post_text

API = "/api/whatsapp"
DEFAULT = "200300400500600"         # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
ANN = "15550008001"                 # wrote to default
BOB = "15550008002"                 # wrote to sales

def inbound(s, pnid, sender, text):
    return post_text(s, pnid, sender, text, "session")


def conv_id(s, pnid, wa_id):
    return s.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE v.phone_number_id = ? AND c.wa_id = ?", pnid, wa_id)[0]["id"]


@pytest.fixture(scope="module")
def gw():
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WA_SCRYPT_N": "1024",
                         "WA_LOGIN_RATE": "6000", "WA_LOGIN_BURST": "1000",
                         "WHATSAPP_GRAPH_URL": g.url})
    try:
        s.start()
        g.set_number(SALES, {"display_phone_number": "+1 555-010-2222",
                             "verified_name": "Acme Sales", "quality_rating": "GREEN",
                             "messaging_limit_tier": "TIER_1K",
                             "throughput": {"level": "STANDARD"}, "status": "CONNECTED"})
        r = wactl(s, "numbers", "add", SALES, "--waba", "1110001110", "--label", "sales")
        assert r.returncode == 0, r.stderr
        r = wactl(s, "apikey", "create", "all")
        assert r.returncode == 0, r.stderr
        s.key = r.stdout.strip().splitlines()[-1]
        s.admin_id = add_user(s, "root", "admin", "--display-name", "Root Admin",
                              "--email", "root@example.com")
        add_user(s, "alice", "agent", "--display-name", "Alice A")
        add_user(s, "vic", "viewer")
        add_user(s, "sam", "agent", "--number", "sales")
        inbound(s, DEFAULT, ANN, "hello default")
        inbound(s, SALES, BOB, "hello sales")
        s.wait_applied()
    except Exception:
        s.close()
        g.close()
        raise
    yield s
    s.close()
    g.close()


@pytest.fixture(autouse=True)
def no_lockout(gw):
    """Every test signs in from 127.0.0.1: each starts with no failures."""
    with gw.db() as c:
        c.execute("DELETE FROM login_failures")
    yield


def sign_in(s, user, pw=PW, form=False, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json"}
    h.update(headers or {})
    body = (urllib.parse.urlencode({"username": user, "password": pw}) if form
            else json.dumps({"username": user, "password": pw})).encode()
    return s.request("POST", API + "/session", body, h)


class Browser:
    """A signed-in person: the cookie, and the CSRF token of the answer."""

    def __init__(self, s, user, pw=PW):
        st, h, b = sign_in(s, user, pw)
        assert st == 200, b
        self.s = s
        self.set_cookie = h["Set-Cookie"]
        self.cookie = h["Set-Cookie"].split(";")[0]
        self.session = json.loads(b)
        self.csrf = self.session["csrf_token"]
        self.token = self.cookie.split("=", 1)[1]

    def call(self, method, path, body=None, csrf=True, headers=None):
        h = {"Cookie": self.cookie}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        st, rh, b = self.s.request(method, API + path, body, h)
        return st, rh, (json.loads(b) if b else None)


def keyed(s, method, path, body=None, key=None):
    h = {"Authorization": "Bearer " + (key or s.key)}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    st, rh, b = s.request(method, API + path, body, h)
    return st, rh, (json.loads(b) if b else None)


def code(b):
    return json.loads(b)["error"]["code"] if isinstance(b, (bytes, str)) else b["error"]["code"]


# --- Signing in ------------------------------------------------------------

def test_right_password_signs_in_with_a_strict_http_only_cookie(gw):
    st, h, b = sign_in(gw, "alice")
    assert st == 200, b
    doc = json.loads(b)
    assert doc["user"] == {"id": doc["user"]["id"], "name": "alice",
                           "display_name": "Alice A", "role": "agent", "email": None}
    assert len(doc["csrf_token"]) == 64
    now = time.time()
    assert now + 7 * 86400 - 60 < doc["expires_at"] <= now + 7 * 86400 + 5
    assert now + 12 * 3600 - 60 < doc["idle_expires_at"] <= now + 12 * 3600 + 5
    parts = [p.strip() for p in h["Set-Cookie"].split(";")]
    name, _, token = parts[0].partition("=")
    assert name == "wa_session" and len(token) == 43
    attrs = {p.split("=")[0].lower(): p for p in parts[1:]}
    assert "httponly" in attrs and attrs["samesite"] == "SameSite=Strict"
    assert attrs["path"] == "Path=/"
    assert "secure" not in attrs                # plain http: no Secure
    # Only the token's SHA-256 is stored.
    import hashlib
    rows = gw.q("SELECT token_sha256, address FROM sessions WHERE user_id = ?",
                doc["user"]["id"])
    assert hashlib.sha256(token.encode()).hexdigest() in [r["token_sha256"] for r in rows]
    assert token not in json.dumps(rows)
    assert gw.q("SELECT last_login_at FROM users WHERE name = 'alice'")[0]["last_login_at"]


def test_a_form_post_signs_in_too(gw):
    st, h, b = sign_in(gw, "alice", form=True)
    assert st == 200, b
    assert json.loads(b)["user"]["name"] == "alice"
    assert h["Set-Cookie"].startswith("wa_session=")


def test_user_names_are_matched_in_lower_case(gw):
    st, _, b = sign_in(gw, "Alice")
    assert st == 200, b


def test_wrong_password_and_unknown_user_get_the_same_401(gw):
    st1, h1, b1 = sign_in(gw, "alice", "not the password")
    st2, h2, b2 = sign_in(gw, "nobody", "not the password")
    st3, h3, b3 = sign_in(gw, "no such name!", "x")
    assert st1 == st2 == st3 == 401
    assert code(b1) == "bad_credentials"
    assert b1 == b2 == b3
    assert "Set-Cookie" not in h1 and "Set-Cookie" not in h2
    # Logged with name and address, never the password.
    log = gw.logtext()
    assert "failed sign-in for alice from 127.0.0.1" in log
    assert "not the password" not in log


def test_a_disabled_user_gets_the_same_401(gw):
    add_user(gw, "dora", "agent")
    assert wactl(gw, "user", "disable", "dora").returncode == 0
    st, _, b = sign_in(gw, "dora")
    _, _, wrong = sign_in(gw, "alice", "not the password")
    assert st == 401 and b == wrong


def test_sign_in_body_is_checked(gw):
    st, _, b = gw.request("POST", API + "/session", b'{"username":"alice"}',
                          {"Content-Type": "application/json"})
    assert st == 422 and json.loads(b)["error"]["field"] == "password"
    st, _, b = gw.request("POST", API + "/session", b"username=alice",
                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 422
    st, _, b = gw.request("POST", API + "/session", b"alice", {"Content-Type": "text/plain"})
    assert st == 415


def test_https_gives_a_host_prefixed_secure_cookie(gw):
    """Past nginx, as the production site passes HTTPS=on over TLS."""
    body = json.dumps({"username": "alice", "password": PW}).encode()
    params = {"REQUEST_METHOD": "POST", "DOCUMENT_URI": API + "/session",
              "REQUEST_URI": API + "/session", "SCRIPT_NAME": API + "/session",
              "QUERY_STRING": "", "CONTENT_TYPE": "application/json",
              "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1",
              "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1",
              "HTTPS": "on", "HTTP_HOST": "wa.example.com",
              "HTTP_ORIGIN": "https://wa.example.com"}
    st, h, b = fcgi_client.request(os.path.join(gw.state, "api.sock"), params, body)
    assert st == 200, b
    parts = [p.strip() for p in h["set-cookie"].split(";")]
    assert parts[0].startswith("__Host-wa_session=")
    assert "Secure" in parts and "HttpOnly" in parts and "Path=/" in parts
    assert "SameSite=Strict" in parts
    assert not any(p.lower().startswith("domain") for p in parts)
    # The same request over http is told apart by HTTPS alone.
    del params["HTTPS"]
    params["HTTP_ORIGIN"] = "http://wa.example.com"
    st, h, b = fcgi_client.request(os.path.join(gw.state, "api.sock"), params, body)
    assert st == 200 and h["set-cookie"].startswith("wa_session=")
    assert "Secure" not in h["set-cookie"]
    # Over https an http Origin is another site.
    params["HTTPS"] = "on"
    st, _, b = fcgi_client.request(os.path.join(gw.state, "api.sock"), params, body)
    assert st == 403 and code(b) == "csrf_failed"


def test_sign_in_from_another_site_is_refused(gw):
    """Login CSRF: a page elsewhere may not sign a browser in as someone."""
    st, h, b = sign_in(gw, "alice", form=True, headers={"Origin": "http://evil.example"})
    assert st == 403 and code(b) == "csrf_failed"
    assert "Set-Cookie" not in h
    st, _, b = sign_in(gw, "alice", headers={"Origin": "http://127.0.0.1:%d" % gw.port})
    assert st == 200, b


# --- Throttling ------------------------------------------------------------

def test_five_failures_lock_the_name_until_the_time_passes(gw):
    add_user(gw, "lock1", "agent")
    for _ in range(5):
        st, _, _ = sign_in(gw, "lock1", "wrong password")
        assert st == 401
    row = gw.q("SELECT failures, last_at, locked_until FROM login_failures "
               "WHERE who = 'user:lock1'")[0]
    assert row["failures"] == 5 and row["locked_until"] == row["last_at"] + 1
    addr = gw.q("SELECT failures FROM login_failures WHERE who = 'addr:127.0.0.1'")[0]
    assert addr["failures"] == 5
    # A lock holds even the right password back (made longer here so the
    # test does not race its one second).
    with gw.db() as c:
        c.execute("UPDATE login_failures SET locked_until = ? WHERE who = 'user:lock1'",
                  (int(time.time()) + 60,))
        c.execute("DELETE FROM login_failures WHERE who LIKE 'addr:%'")
    st, h, b = sign_in(gw, "lock1")
    assert st == 429 and code(b) == "too_many_attempts"
    assert 50 <= int(h["Retry-After"]) <= 60
    # Another name from the same address is not locked.
    assert sign_in(gw, "alice")[0] == 200
    # Once the time has passed, the right password signs in and clears it.
    with gw.db() as c:
        c.execute("UPDATE login_failures SET locked_until = ? WHERE who = 'user:lock1'",
                  (int(time.time()) - 1,))
    assert sign_in(gw, "lock1")[0] == 200
    assert gw.q("SELECT * FROM login_failures WHERE who = 'user:lock1'") == []


def test_the_lock_doubles_with_each_failure(gw):
    add_user(gw, "lock2", "agent")
    now = int(time.time())
    with gw.db() as c:
        c.execute("INSERT INTO login_failures VALUES ('user:lock2', 8, ?, ?)", (now, now - 1))
    assert sign_in(gw, "lock2", "wrong password")[0] == 401
    row = gw.q("SELECT failures, last_at, locked_until FROM login_failures "
               "WHERE who = 'user:lock2'")[0]
    assert row["failures"] == 9 and row["locked_until"] - row["last_at"] == 16
    with gw.db() as c:
        c.execute("UPDATE login_failures SET failures = 30, locked_until = 0 "
                  "WHERE who = 'user:lock2'")
    assert sign_in(gw, "lock2", "wrong password")[0] == 401
    row = gw.q("SELECT last_at, locked_until FROM login_failures WHERE who = 'user:lock2'")[0]
    assert row["locked_until"] - row["last_at"] == 900      # 15 minutes at most


def test_an_address_is_locked_across_names(gw):
    for i in range(5):
        assert sign_in(gw, "nobody%d" % i, "wrong password")[0] == 401
    with gw.db() as c:
        c.execute("UPDATE login_failures SET locked_until = ? WHERE who = 'addr:127.0.0.1'",
                  (int(time.time()) + 30,))
    st, h, b = sign_in(gw, "alice")
    assert st == 429 and code(b) == "too_many_attempts" and int(h["Retry-After"]) >= 1


# --- Using the session -----------------------------------------------------

def test_the_cookie_reads_and_get_session_gives_the_same_person(gw):
    b = Browser(gw, "alice")
    st, _, doc = b.call("GET", "/conversations", csrf=False)
    assert st == 200 and len(doc["data"]) == 2
    st, h, doc = b.call("GET", "/session", csrf=False)
    assert st == 200 and doc["user"]["name"] == "alice"
    assert doc["csrf_token"] == b.csrf and "Set-Cookie" not in h


def test_no_cookie_and_no_key_is_still_401_with_www_authenticate(gw):
    st, h, b = gw.request("GET", API + "/conversations")
    assert st == 401 and code(b) == "unauthorized"
    assert h["WWW-Authenticate"].startswith("Bearer")
    st, _, b = gw.request("GET", API + "/session")
    assert st == 401 and code(b) == "unauthorized"


def test_a_bad_cookie_is_401(gw):
    for cookie in ("wa_session=" + "A" * 43, "wa_session=short", "wa_session="):
        st, h, b = gw.request("GET", API + "/conversations", None, {"Cookie": cookie})
        assert st == 401 and code(b) == "unauthorized", cookie
        assert "Max-Age=0" in h["Set-Cookie"]
    # Other cookies alone are no session: the usual 401.
    st, h, _ = gw.request("GET", API + "/conversations", None, {"Cookie": "theme=dark"})
    assert st == 401 and "WWW-Authenticate" in h


def test_writes_need_the_csrf_token(gw):
    b = Browser(gw, "alice")
    cid = conv_id(gw, DEFAULT, ANN)
    st, _, doc = b.call("PATCH", "/conversations/%d" % cid, {"notes": "x"}, csrf=False)
    assert st == 403 and doc["error"]["code"] == "csrf_failed"
    st, _, doc = b.call("PATCH", "/conversations/%d" % cid, {"notes": "x"},
                        headers={"X-CSRF-Token": "0" * 64})
    assert st == 403 and doc["error"]["code"] == "csrf_failed"
    # Another session's token is no good either.
    other = Browser(gw, "alice")
    st, _, doc = b.call("PATCH", "/conversations/%d" % cid, {"notes": "x"},
                        headers={"X-CSRF-Token": other.csrf})
    assert st == 403
    assert gw.q("SELECT notes FROM conversations WHERE id = ?", cid)[0]["notes"] != "x"
    st, _, doc = b.call("PATCH", "/conversations/%d" % cid, {"notes": "by alice"})
    assert st == 200, doc
    assert gw.q("SELECT notes FROM conversations WHERE id = ?", cid)[0]["notes"] == "by alice"


def test_a_cross_site_form_post_with_the_cookie_is_refused(gw):
    """What a page of another site could make a browser send (were the
    cookie not SameSite=Strict): a form POST with the cookie attached."""
    b = Browser(gw, "alice")
    body = urllib.parse.urlencode({"to": ANN, "text": "pwned"}).encode()
    for path in ("/send", "/mark-read"):
        st, _, raw = gw.request("POST", API + path, body, {
            "Cookie": b.cookie, "Origin": "http://evil.example",
            "Content-Type": "application/x-www-form-urlencoded"})
        assert st == 403 and code(raw) == "csrf_failed"
    # Even with the right token, an Origin of another site is refused.
    st, _, doc = b.call("POST", "/send", {"to": ANN, "type": "text",
                                          "text": {"body": "hi"}},
                        headers={"Origin": "http://evil.example"})
    assert st == 403 and doc["error"]["code"] == "csrf_failed"
    assert gw.q("SELECT count(*) n FROM outbox")[0]["n"] == 0


def test_roles_are_enforced(gw):
    viewer, agent = Browser(gw, "vic"), Browser(gw, "alice")
    send = {"to": ANN, "type": "text", "text": {"body": "hello"}, "from": "default"}
    st, _, doc = viewer.call("POST", "/send", send)
    assert st == 403 and doc["error"]["code"] == "forbidden_role"
    st, _, doc = viewer.call("GET", "/conversations", csrf=False)
    assert st == 200
    st, _, doc = agent.call("POST", "/send", send)
    assert st == 202, doc
    out = gw.q("SELECT user_id FROM outbox ORDER BY id DESC LIMIT 1")
    assert out
    st, _, doc = agent.call("POST", "/users", {"name": "eve", "role": "admin"})
    assert st == 403 and doc["error"]["code"] == "forbidden_role"
    st, _, doc = agent.call("GET", "/api-keys", csrf=False)
    assert st == 403 and doc["error"]["code"] == "forbidden_role"


def test_sign_out_ends_the_session(gw):
    b = Browser(gw, "alice")
    st, _, doc = b.call("DELETE", "/session", csrf=False)
    assert st == 403 and doc["error"]["code"] == "csrf_failed"
    st, h, doc = b.call("DELETE", "/session")
    assert st == 204 and doc is None
    assert h["Set-Cookie"].startswith("wa_session=;") and "Max-Age=0" in h["Set-Cookie"]
    st, _, doc = b.call("GET", "/conversations", csrf=False)
    assert st == 401 and doc["error"]["code"] == "unauthorized"
    assert b.call("GET", "/session", csrf=False)[0] == 401


def test_password_change_and_disable_end_sessions(gw):
    add_user(gw, "pat", "agent")
    b = Browser(gw, "pat")
    r = wactl(gw, "user", "passwd", "pat")
    assert r.returncode == 0, r.stderr
    new = r.stdout.strip().splitlines()[-1]
    assert len(new) >= 20
    assert b.call("GET", "/conversations", csrf=False)[0] == 401
    assert sign_in(gw, "pat")[0] == 401
    b = Browser(gw, "pat", new)
    assert wactl(gw, "user", "disable", "pat").returncode == 0
    assert b.call("GET", "/conversations", csrf=False)[0] == 401
    assert sign_in(gw, "pat", new)[0] == 401
    assert wactl(gw, "user", "enable", "pat").returncode == 0
    b = Browser(gw, "pat", new)
    # A new role through the API ends the sessions too.
    uid = gw.q("SELECT id FROM users WHERE name = 'pat'")[0]["id"]
    st, _, doc = keyed(gw, "PATCH", "/users/%d" % uid, {"role": "viewer"})
    assert st == 200 and doc["role"] == "viewer"
    assert b.call("GET", "/conversations", csrf=False)[0] == 401
    b = Browser(gw, "pat", new)
    assert b.session["user"]["role"] == "viewer"


def test_idle_and_absolute_expiry(gw):
    b = Browser(gw, "alice")
    sid = gw.q("SELECT id FROM sessions ORDER BY id DESC LIMIT 1")[0]["id"]
    now = int(time.time())
    with gw.db() as c:
        c.execute("UPDATE sessions SET last_used_at = ? WHERE id = ?", (now - 12 * 3600 + 120, sid))
    assert b.call("GET", "/session", csrf=False)[0] == 200
    # Used again: last_used_at moves on (at most once a minute).
    assert gw.q("SELECT last_used_at FROM sessions WHERE id = ?", sid)[0]["last_used_at"] >= now
    with gw.db() as c:
        c.execute("UPDATE sessions SET last_used_at = ? WHERE id = ?", (now - 12 * 3600 - 1, sid))
    assert b.call("GET", "/session", csrf=False)[0] == 401
    b = Browser(gw, "alice")
    sid = gw.q("SELECT id FROM sessions ORDER BY id DESC LIMIT 1")[0]["id"]
    with gw.db() as c:
        c.execute("UPDATE sessions SET expires_at = ? WHERE id = ?", (now - 1, sid))
    assert b.call("GET", "/conversations", csrf=False)[0] == 401


def test_a_person_limited_to_a_number_sees_only_it(gw):
    b = Browser(gw, "sam")
    st, _, doc = b.call("GET", "/conversations", csrf=False)
    assert st == 200
    assert [r["phone_number_id"] for r in doc["data"]] == [SALES]
    other = conv_id(gw, DEFAULT, ANN)
    st, _, doc = b.call("GET", "/conversations/%d" % other, csrf=False)
    assert st == 404
    st, _, doc = b.call("GET", "/conversations?number=default", csrf=False)
    assert st == 400 and doc["error"]["code"] == "unknown_number"
    st, _, doc = b.call("GET", "/conversations/%d" % conv_id(gw, SALES, BOB), csrf=False)
    assert st == 200
    # Everyone else sees both.
    st, _, doc = Browser(gw, "vic").call("GET", "/conversations", csrf=False)
    assert sorted(r["phone_number_id"] for r in doc["data"]) == sorted([DEFAULT, SALES])


def test_bearer_keys_work_as_before(gw):
    st, _, doc = keyed(gw, "GET", "/conversations")
    assert st == 200 and len(doc["data"]) == 2
    st, _, doc = keyed(gw, "GET", "/conversations", key="wa_" + "0" * 40)
    assert st == 401 and doc["error"]["code"] == "unauthorized"
    # A key with a cookie next to it: the key decides, no CSRF asked.
    b = Browser(gw, "vic")
    st, _, doc = gw.request("PATCH", API + "/conversations/%d" % conv_id(gw, DEFAULT, ANN),
                            b'{"customer_email":"a@example.com"}',
                            {"Authorization": "Bearer " + gw.key, "Cookie": b.cookie,
                             "Content-Type": "application/json"})
    assert st == 200


# --- wactl user ------------------------------------------------------------

def test_wactl_user_commands(gw):
    r = wactl(gw, "user", "add", "wendy", "--role", "agent", "--display-name", "Wendy W",
              "--email", "wendy@example.com", "--number", "sales")
    assert r.returncode == 0, r.stderr
    pw = r.stdout.strip().splitlines()[-1]
    assert len(pw) >= 20 and pw not in r.stderr
    assert Browser(gw, "wendy", pw).session["user"]["email"] == "wendy@example.com"
    row = gw.q("SELECT password_hash FROM users WHERE name = 'wendy'")[0]
    assert row["password_hash"].startswith("scrypt$1024$8$1$") and pw not in row["password_hash"]
    r = wactl(gw, "user", "list")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ROLE", "DISPLAY", "EMAIL", "NUMBERS",
                                "DISABLED", "LAST-LOGIN"]
    wendy = [l for l in lines if " wendy " in l][0]
    assert "agent" in wendy and SALES in wendy and " no " in wendy and "never" not in wendy
    # Errors say what is wrong, and change nothing.
    for args, stdin, words in (
            (("add", "wendy", "--role", "agent"), None, "exists already"),
            (("add", "Bad Name", "--role", "agent"), None, "user name"),
            (("add", "zed", "--role", "boss"), None, "--role"),
            (("add", "zed", "--role", "agent", "--password-stdin"), "short\n", "at least 10"),
            (("add", "zed", "--role", "agent", "--number", "nope"), None, "no business number"),
            (("passwd", "ghost"), None, "no user ghost"),
            (("disable", "ghost"), None, "no user ghost"),
            (("remove", "ghost"), None, "no user ghost")):
        r = wactl(gw, "user", *args, stdin=stdin)
        assert r.returncode != 0 and words in r.stderr, (args, r.stderr)
    assert gw.q("SELECT count(*) n FROM users WHERE name = 'zed'")[0]["n"] == 0
    r = wactl(gw, "user", "passwd", "wendy", "--password-stdin", stdin="a new long password\n")
    assert r.returncode == 0, r.stderr
    assert sign_in(gw, "wendy", "a new long password")[0] == 200
    assert wactl(gw, "user", "disable", "wendy").returncode == 0
    assert " yes " in [l for l in wactl(gw, "user", "list").stdout.splitlines()
                       if " wendy " in l][0]
    r = wactl(gw, "user", "remove", "wendy")
    assert r.returncode == 0, r.stderr
    assert gw.q("SELECT count(*) n FROM users WHERE name = 'wendy'")[0]["n"] == 0


def test_the_last_admin_stays(gw):
    r = wactl(gw, "user", "disable", "root")
    assert r.returncode != 0 and "last admin" in r.stderr
    r = wactl(gw, "user", "remove", "root")
    assert r.returncode != 0 and "last admin" in r.stderr
    b = Browser(gw, "root")
    for method, body in (("PATCH", {"role": "agent"}), ("PATCH", {"disabled": True}),
                         ("DELETE", None)):
        st, _, doc = b.call(method, "/users/%d" % gw.admin_id, body)
        assert st == 409 and doc["error"]["code"] == "last_admin"
    assert gw.q("SELECT role, disabled_at FROM users WHERE name = 'root'")[0] == \
        {"role": "admin", "disabled_at": None}


# --- Admin routes ----------------------------------------------------------

def test_users_list_shows_emails_only_to_admins(gw):
    st, _, doc = Browser(gw, "alice").call("GET", "/users", csrf=False)
    assert st == 200
    root = [u for u in doc["data"] if u["name"] == "root"][0]
    assert root == {"id": gw.admin_id, "name": "root", "display_name": "Root Admin",
                    "role": "admin", "disabled": False}
    vic = [u for u in doc["data"] if u["name"] == "vic"][0]
    assert vic["display_name"] == "vic"
    st, _, doc = Browser(gw, "root").call("GET", "/users", csrf=False)
    root = [u for u in doc["data"] if u["name"] == "root"][0]
    assert root["email"] == "root@example.com" and root["numbers"] == []
    sam = [u for u in doc["data"] if u["name"] == "sam"][0]
    assert sam["numbers"] == [SALES]
    assert all("password_hash" not in u for u in doc["data"])


def test_admin_manages_users(gw):
    b = Browser(gw, "root")
    st, _, doc = b.call("POST", "/users", {"name": "nina", "role": "agent",
                                           "display_name": "Nina N", "numbers": ["sales"]})
    assert st == 201, doc
    pw = doc.pop("password")
    assert len(pw) >= 20
    assert doc["name"] == "nina" and doc["numbers"] == [SALES] and doc["disabled"] is False
    n = Browser(gw, "nina", pw)
    st, _, docs = n.call("GET", "/conversations", csrf=False)
    assert [r["phone_number_id"] for r in docs["data"]] == [SALES]
    st, _, doc = b.call("POST", "/users", {"name": "nina", "role": "agent"})
    assert st == 409 and doc["error"]["code"] == "name_taken"
    for body, field in (({"name": "Nina!", "role": "agent"}, "name"),
                        ({"name": "x1", "role": "boss"}, "role"),
                        ({"name": "x1", "role": "agent", "password": "short"}, "password"),
                        ({"name": "x1", "role": "agent", "email": "nope"}, "email"),
                        ({"name": "x1", "role": "agent", "numbers": ["ghost"]}, "numbers"),
                        ({"name": "x1", "role": "agent", "root": True}, "root")):
        st, _, doc = b.call("POST", "/users", body)
        assert st == 422 and doc["error"]["field"] == field, (body, doc)
    assert gw.q("SELECT count(*) n FROM users WHERE name = 'x1'")[0]["n"] == 0
    uid = doc and gw.q("SELECT id FROM users WHERE name = 'nina'")[0]["id"]
    st, _, doc = b.call("PATCH", "/users/%d" % uid, {"numbers": [], "email": "n@example.com",
                                                     "password": "another long one"})
    assert st == 200 and doc["numbers"] == [] and doc["email"] == "n@example.com"
    assert n.call("GET", "/conversations", csrf=False)[0] == 401    # new password
    assert sign_in(gw, "nina", "another long one")[0] == 200
    st, _, doc = b.call("PATCH", "/users/%d" % uid, {"disabled": True})
    assert st == 200 and doc["disabled"] is True
    assert sign_in(gw, "nina", "another long one")[0] == 401
    assert b.call("PATCH", "/users/99999", {"disabled": True})[0] == 404
    st, _, doc = b.call("DELETE", "/users/%d" % uid)
    assert st == 204
    assert b.call("DELETE", "/users/%d" % uid)[0] == 404


def test_admin_manages_api_keys(gw):
    b = Browser(gw, "root")
    st, _, doc = b.call("POST", "/api-keys", {"name": "nightly", "read_only": True,
                                              "numbers": ["sales"]})
    assert st == 201, doc
    key = doc["key"]
    assert key.startswith("wa_") and doc["prefix"] == key[:8]
    assert doc["read_only"] is True and doc["numbers"] == [SALES]
    st, _, docs = keyed(gw, "GET", "/conversations", key=key)
    assert st == 200 and [r["phone_number_id"] for r in docs["data"]] == [SALES]
    st, _, docs = b.call("GET", "/api-keys", csrf=False)
    row = [k for k in docs["data"] if k["name"] == "nightly"][0]
    assert "key" not in row and row["revoked_at"] is None and row["id"] == doc["id"]
    assert key not in json.dumps(docs)
    st, _, e = b.call("POST", "/api-keys", {"name": "nightly"})
    assert st == 409 and e["error"]["code"] == "name_taken"
    assert b.call("DELETE", "/api-keys/%d" % doc["id"])[0] == 204
    assert keyed(gw, "GET", "/conversations", key=key)[0] == 401
    assert b.call("DELETE", "/api-keys/%d" % doc["id"])[0] == 404


def test_a_key_limited_to_numbers_cannot_hand_out_more(gw):
    r = wactl(gw, "apikey", "create", "sales-admin", "--number", "sales")
    key = r.stdout.strip().splitlines()[-1]
    st, _, doc = keyed(gw, "POST", "/api-keys", {"name": "wider"}, key=key)
    assert st == 403 and doc["error"]["code"] == "forbidden_scope"
    st, _, doc = keyed(gw, "POST", "/users", {"name": "wider", "role": "admin"}, key=key)
    assert st == 403 and doc["error"]["code"] == "forbidden_scope"
    st, _, doc = keyed(gw, "GET", "/api-keys", key=key)
    assert st == 403 and doc["error"]["code"] == "forbidden_scope"
    # It sees the people (to assign), not which numbers others have.
    st, _, doc = keyed(gw, "GET", "/users", key=key)
    assert st == 200 and all("numbers" not in u for u in doc["data"])
    assert "root@example.com" in json.dumps(doc)


def test_admin_edits_a_number(gw):
    b = Browser(gw, "root")
    st, _, doc = b.call("PATCH", "/numbers/" + SALES, {"label": "shop", "rate": 20,
                                                       "display_phone_number": "+1 555 010 2223"})
    assert st == 200, doc
    assert doc == {"phone_number_id": SALES, "label": "shop",
                   "display_phone_number": "+1 555 010 2223", "send_rate": 20, "active": True}
    row = gw.q("SELECT label, send_rate, display_phone_number FROM numbers "
               "WHERE phone_number_id = ?", SALES)[0]
    assert row == {"label": "shop", "send_rate": 20, "display_phone_number": "+1 555 010 2223"}
    st, _, doc = b.call("PATCH", "/numbers/" + SALES, {"label": "default"})
    assert st == 409 and doc["error"]["code"] == "label_taken"
    st, _, doc = b.call("PATCH", "/numbers/" + SALES, {"rate": 0})
    assert st == 422 and doc["error"]["field"] == "rate"
    st, _, doc = b.call("PATCH", "/numbers/" + SALES, {"active": False})
    assert st == 200 and doc["active"] is False
    assert gw.q("SELECT removed_at FROM numbers WHERE phone_number_id = ?", SALES)[0]["removed_at"]
    st, _, doc = b.call("PATCH", "/numbers/" + SALES, {"active": True, "label": "sales"})
    assert st == 200 and doc["active"] is True and doc["label"] == "sales"
    assert b.call("PATCH", "/numbers/999", {"rate": 5})[0] == 404
    st, _, doc = Browser(gw, "alice").call("PATCH", "/numbers/" + SALES, {"rate": 5})
    assert st == 403 and doc["error"]["code"] == "forbidden_role"
    st, _, doc = Browser(gw, "sam").call("GET", "/numbers/" + DEFAULT, csrf=False)
    assert st == 404
