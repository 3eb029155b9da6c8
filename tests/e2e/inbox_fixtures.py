"""inbox_fixtures.py: shared helpers for the inbox's browser tests
(test_inbox.py, test_inbox_manage.py) and the inbox bench.

    g = FakeGraph(token="test-token", app_secret=SECRET)
    s = inbox_stack(g)                     # started; bot off; sign-in limits raised
    pw = add_user(s, "ann", "agent")       # wactl user add; returns the password
    b = browser(s)                         # tests/e2e/browser.py Browser (width=360 too)
    sign_in(b, "ann", pw)                  # the real form; waits for the header
    wamid = inbound_text(s, "15550002222", "hello", name="Alice")
    cid = conversation_id(s, "15550002222")
    row = wait_row(b, cid)                 # the list row element
    sess = http_session(s, "ann", pw)      # cookie + CSRF for plain HTTP calls
    st, body = call(s, "GET", "/chats", sess=sess)

Everything stays on loopback: the stack's Graph URL is the fake's (or the
dead loopback port when no fake is given).
"""
import json
import os
import subprocess
import time

from browser import By, Browser
from stack import BUILD, FIXTURES, started

PNID = "200300400500600"
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"    # Stack's default app secret


def inbox_stack(graph=None, extra_env=None):
    """A started Stack for browser tests: the bot off, the Graph URL the
    fake's, and nginx's sign-in and API limits raised so that tests and
    the bench signing in often are not throttled."""
    env = {"WA_BOT": "off", "WA_LOGIN_RATE": "6000", "WA_LOGIN_BURST": "1000",
           "WA_API_RATE": "2000"}
    if graph is not None:
        env["WHATSAPP_GRAPH_URL"] = graph.url
    env.update(extra_env or {})
    return started(extra_env=env)


def wactl(stack, *args, stdin=None):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=stack.env,
                          input=stdin, capture_output=True, text=True, timeout=30)


def add_user(stack, name, role="agent", password=None):
    """Makes a user with `wactl user add`; returns the password (the given
    one through --password-stdin, else the generated one)."""
    if password is None:
        r = wactl(stack, "user", "add", name, "--role", role)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip().splitlines()[-1].strip()
    r = wactl(stack, "user", "add", name, "--role", role, "--password-stdin",
              stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    return password


def browser(stack, width=1280, height=800):
    return Browser("http://127.0.0.1:%d" % stack.port, width=width, height=height)


def sign_in(b, name, password, timeout=10):
    """Signs in through the page's own form; waits for the header that
    names the person."""
    b.get("/inbox/")
    form = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "form.signin"), timeout)
    u = form.find_element(By.NAME, "username")
    p = form.find_element(By.NAME, "password")
    u.clear()
    u.send_keys(name)
    p.clear()
    p.send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "header.top .who-name"), timeout)


def sign_out(b, timeout=10):
    b.d.find_element(By.CSS_SELECTOR, "header.top button.signout").click()
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "form.signin"), timeout)


def browser_cookie(b):
    """The session cookie's (name, value) in the browser, or None."""
    for c in b.d.get_cookies():
        if c["name"] in ("wa_session", "__Host-wa_session"):
            return c["name"], c["value"]
    return None


# ------------------------------------------------------------ plain HTTP

def http_session(stack, name, password):
    """Signs in with POST /session; returns {"cookie": "wa_session=...",
    "csrf": token, "user": {...}}."""
    st, hdrs, body = stack.request("POST", "/api/whatsapp/session",
                                   json.dumps({"username": name, "password": password}),
                                   {"Content-Type": "application/json"})
    assert st == 200, (st, body)
    cookie = None
    for k, v in hdrs.items():
        if k.lower() == "set-cookie":
            cookie = v.split(";", 1)[0]
    j = json.loads(body)
    return {"cookie": cookie, "csrf": j["csrf_token"], "user": j["user"]}


def call(stack, method, path, body=None, sess=None, headers=None):
    """An API call (path under /api/whatsapp) as sess (http_session) or
    with no credentials; returns (status, parsed JSON or None)."""
    h = {}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    if sess:
        h["Cookie"] = sess["cookie"]
        if method != "GET":
            h["X-CSRF-Token"] = sess["csrf"]
    h.update(headers or {})
    st, _, raw = stack.request(method, "/api/whatsapp" + path, body, h)
    try:
        return st, json.loads(raw) if raw else None
    except ValueError:
        return st, None


# ------------------------------------------------------------ webhooks

_seq = [0]


def new_wamid(tag="in"):
    _seq[0] += 1
    return "wamid.inbox.%s.%s.%d" % (tag, os.urandom(5).hex(), _seq[0])


def fixture_message(name):
    """The first message object of tests/fixtures/webhooks/NAME (a dict)."""
    with open(os.path.join(FIXTURES, "webhooks", name)) as f:
        doc = json.load(f)
    return doc["entry"][0]["changes"][0]["value"]["messages"][0]


def post_message(stack, msg, wa_id="15550002222", name="Alice Example", pnid=PNID,
                 wait=True, ts=None):
    """Posts one inbound message object (Meta's shape; from, id and
    timestamp filled in when absent) from wa_id to number pnid, signed;
    waits until the worker applied it unless wait=False.  Returns its
    wamid."""
    msg = dict(msg)
    msg["from"] = wa_id
    msg.setdefault("id", new_wamid())
    msg["timestamp"] = str(ts or int(time.time()))
    doc = {"object": "whatsapp_business_account", "entry": [{
        "id": "100200300400500", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": pnid},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [msg]}}]}]}
    st, _, body = stack.post(json.dumps(doc).encode())
    assert st == 200, body
    if wait:
        stack.wait_applied()
    return msg["id"]


def inbound_text(stack, wa_id, text, name="Alice Example", wait=True, **kw):
    return post_message(stack, {"type": "text", "text": {"body": text}, **kw},
                        wa_id=wa_id, name=name, wait=wait)


def post_status(stack, wamid, status, recipient="15550002222", error_code=None, pnid=PNID):
    """A signed status webhook (sent, delivered, read, failed) for wamid."""
    st = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
          "recipient_id": recipient}
    if status == "failed":
        st["errors"] = [{"code": error_code or 131026, "title": "Message undeliverable",
                         "message": "Message undeliverable",
                         "error_data": {"details": "Message undeliverable."}}]
    doc = {"object": "whatsapp_business_account", "entry": [{
        "id": "100200300400500", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": pnid},
            "statuses": [st]}}]}]}
    code, _, body = stack.post(json.dumps(doc).encode())
    assert code == 200, body


def conversation_id(stack, wa_id, pnid=PNID):
    rows = stack.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                   "WHERE c.wa_id = ? AND v.phone_number_id = ?", wa_id, pnid)
    return rows[0]["id"] if rows else None


# ------------------------------------------------------------ the page

def wait_row(b, conversation_id, timeout=5):
    """The chat list row of a conversation, once shown."""
    sel = '[data-conversation-id="%d"]' % conversation_id
    return b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, sel) or [None])[0], timeout)


def row_when(b, conversation_id, check, timeout=5):
    """Waits until check(row) holds for the conversation's chat list row,
    finding the row again on every try (a poll may redraw it between
    finding and reading); returns the row."""
    sel = '[data-conversation-id="%d"]' % conversation_id

    def ready(d):
        rows = d.find_elements(By.CSS_SELECTOR, sel)
        return rows[0] if rows and check(rows[0]) else None
    return b.wait(ready, timeout)


def open_chat(b, conversation_id, timeout=5):
    """Opens a conversation by its URL and waits until its messages show."""
    b.get("/inbox/#/inbox/%d" % conversation_id)
    b.wait(lambda d: d.find_elements(
        By.CSS_SELECTOR, '.chat[data-conversation-id="%d"] .messages[aria-busy=false]'
        % conversation_id), timeout)


def wait_message(b, wamid, timeout=5):
    """The element of a message in the open chat, once shown."""
    sel = '[data-wamid="%s"]' % wamid
    return b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, sel) or [None])[0], timeout)
