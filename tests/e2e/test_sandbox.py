"""make run's sandbox (issue 15): wa-sandbox, the local Graph API that
deploy/run-local.sh starts in sandbox mode, on the real stack (nginx,
responders, worker, sandbox, SQLite).  Nothing here talks to a fake: the
worker's calls go to /sandbox/graph/ through nginx, and the sandbox's
status webhooks come back through nginx to the real webhook path."""
import hashlib
import json
import os
import sqlite3
import time
import uuid

import pytest

from people import new_key, wactl
from stack import Stack, fixture, loopback_http, post_text, started, wait_until

PNID = "200300400500600"
CUSTOMER = "15550001111"
API = "/api/whatsapp"
GRAPH = "/sandbox/graph/v23.0"


@pytest.fixture(scope="module")
def sbx():
    s = started(extra_env={"WA_SANDBOX": "1", "WA_PAIR_BURST": "45",
                           "WA_PAIR_INTERVAL_MS": "0"})
    yield s
    s.close()


def customer_messages(s, wa_id, after=0):
    st, _, body = s.request("GET", "/sandbox/customer/%s/messages?after=%d" % (wa_id, after))
    assert st == 200, body
    return json.loads(body)


def graph(s, method, path, doc=None, token="test-token", headers=None, raw=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    body = raw
    if doc is not None:
        body = json.dumps(doc).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    st, hdrs, out = s.request(method, GRAPH + path, body, h)
    return st, json.loads(out) if out.startswith(b"{") else out


def status_of(s, wamid):
    rows = s.q("SELECT status FROM messages WHERE wamid = ?", wamid)
    return rows[0]["status"] if rows else None


def send(s, req):
    """Queues req with wactl send; returns the outbox id."""
    r = wactl(s, "send", stdin=json.dumps(req))
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def wait_outbox(s, oid, states=("accepted", "failed"), timeout=20):
    return wait_until(lambda: next((r for r in s.q("SELECT * FROM outbox WHERE id = ?", oid)
                                    if r["state"] in states), None),
                      timeout=timeout, what="outbox %d in %s" % (oid, states))


def test_hi_gets_the_menu_and_statuses_come_back_read(sbx):
    """An inbound "hi" -> the bot's menu reaches the sandbox -> its sent,
    delivered and read webhooks come back signed through nginx and the
    worker applies them: the outbound message is read."""
    who = "15550003333"
    post_text(sbx, PNID, who, "hi")
    got = wait_until(lambda: customer_messages(sbx, who)["messages"], what="the bot's menu")
    m = got[0]
    assert m["phone_number_id"] == PNID and m["wamid"].startswith("wamid.")
    assert m["message"]["to"] == who and m["message"]["type"] == "interactive"
    assert m["message"]["interactive"]["type"] == "list"
    assert abs(m["received_at"] - time.time()) < 60
    wait_until(lambda: status_of(sbx, m["wamid"]) == "read", timeout=20,
               what="the menu's status to become read")
    ob = sbx.q("SELECT state, wamid FROM outbox WHERE wamid = ?", m["wamid"])
    assert ob and ob[0]["state"] == "accepted"
    # Each status was a webhook through the journal, signed (it was stored).
    bodies = [json.loads(r["body"]) for r in sbx.q("SELECT body FROM webhook_events")]
    seen = [st["status"] for b in bodies for e in b["entry"] for c in e["changes"]
            for st in c["value"].get("statuses", []) if st["id"] == m["wamid"]]
    assert seen == ["sent", "delivered", "read"]
    # Polling from a sequence number: nothing older comes again.
    assert customer_messages(sbx, who, after=m["seq"])["messages"] == []
    assert customer_messages(sbx, who, after=m["seq"])["next"] == m["seq"]
    assert customer_messages(sbx, "15550009999")["messages"] == []


def test_health_status_and_info_say_sandbox(sbx, stack):
    st, _, body = sbx.request("GET", API + "/health")
    assert st == 200 and json.loads(body)["sandbox"] is True
    st, _, body = stack.request("GET", API + "/health")
    assert st == 200 and json.loads(body)["sandbox"] is False
    key = new_key(sbx, "sbx-status")
    st, _, body = sbx.request("GET", API + "/status", headers={"Authorization": "Bearer " + key})
    assert st == 200 and json.loads(body)["sandbox"] is True
    st, _, body = sbx.request("GET", "/sandbox/info")
    info = json.loads(body)
    assert st == 200 and info["sandbox"] is True and info["phone_number_id"] == PNID
    assert info["webhook_url"] == "http://127.0.0.1:%d/api/whatsapp/webhook" % sbx.port


KINDS = [
    {"type": "text", "text": {"body": "plain text"}},
    {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "a picture"}},
    {"type": "document", "document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"}},
    {"type": "location", "location": {"latitude": 52.52, "longitude": 13.405, "name": "Berlin"}},
    {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana Lopez", "first_name": "Ana"},
                                       "phones": [{"phone": "+15550004444"}]}]},
    {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Pick one"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "n", "title": "No"}}]}}},
    {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
]


def test_each_main_kind_is_accepted(sbx):
    who = "15550004444"
    post_text(sbx, PNID, who, "STOP-not", tag="kinds")   # opens the 24-hour window
    sbx.wait_applied()
    oids = [send(sbx, dict(k, to=who)) for k in KINDS]
    rows = [wait_outbox(sbx, oid) for oid in oids]
    assert [r["state"] for r in rows] == ["accepted"] * len(KINDS), rows
    got = wait_until(lambda: [m for m in customer_messages(sbx, who)["messages"]
                              if m["message"].get("biz_opaque_callback_data", "").startswith("outbox:")
                              and int(m["message"]["biz_opaque_callback_data"][7:]) in oids],
                     what="the sends in the sandbox")
    assert sorted(m["message"]["type"] for m in got) == sorted(k["type"] for k in KINDS)


def test_unknown_template_is_refused_with_metas_code_and_the_row_fails(sbx):
    oid = send(sbx, {"to": "15550005555", "type": "template",
                     "template": {"name": "no_such_template", "language": {"code": "en"}}})
    row = wait_outbox(sbx, oid)
    assert row["state"] == "failed" and row["error_code"] == 132001, row
    assert "no_such_template" in row["error_details"]


@pytest.mark.parametrize("doc,code", [
    ({"to": CUSTOMER, "type": "text", "text": {}}, 131008),
    ({"to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}, 100),
    ({"to": CUSTOMER, "type": "carrier_pigeon", "carrier_pigeon": {}}, 100),
    ({"to": CUSTOMER, "type": "order", "order": {}}, 131051),
    ({"to": "not-a-number", "type": "text", "text": {"body": "hi"}}, 100),
    ({"to": CUSTOMER, "type": "image", "image": {}}, 131008),
    ({"to": CUSTOMER, "type": "image", "image": {"id": "1", "link": "https://x.example/a"}}, 131009),
    ({"to": CUSTOMER, "type": "location", "location": {"latitude": 91, "longitude": 0}}, 131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "b"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(i), "title": "t%d" % i}} for i in range(4)]}}}, 131009),
    ({"to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "b"}, "action": {"button": "Pick", "sections": [
            {"rows": [{"id": "r", "title": "x" * 25}]}]}}}, 131009),
    ({"to": CUSTOMER, "type": "reaction", "reaction": {"message_id": "wamid.x"}}, 131008),
])
def test_graph_refuses_what_meta_refuses(sbx, doc, code):
    st, body = graph(sbx, "POST", "/%s/messages" % PNID, dict(doc, messaging_product="whatsapp"))
    err = body["error"]
    assert (st, err["code"]) == (400, code), body
    assert err["message"].startswith("(#%d)" % code) and err["type"] == "OAuthException"
    assert err["error_data"]["details"] and err["fbtrace_id"]


def test_graph_needs_the_token_and_answers_reads_and_typing(sbx):
    st, body = graph(sbx, "GET", "/" + PNID, token="wrong")
    assert st == 401 and body["error"]["code"] == 190
    st, body = graph(sbx, "GET", "/" + PNID, token=None)
    assert st == 401 and body["error"]["code"] == 190
    st, body = graph(sbx, "GET", "/" + PNID)
    assert st == 200 and body["id"] == PNID and body["quality_rating"] == "GREEN"
    assert body["verified_name"] and body["display_phone_number"]
    for doc in ({"status": "read", "message_id": "wamid.x"},
                {"status": "read", "message_id": "wamid.x", "typing_indicator": {"type": "text"}}):
        st, body = graph(sbx, "POST", "/%s/messages" % PNID, dict(doc, messaging_product="whatsapp"))
        assert (st, body) == (200, {"success": True})
    st, body = graph(sbx, "GET", "/%s/nonsense" % PNID)
    assert st == 400 and body["error"]["code"] == 100 and body["error"]["error_subcode"] == 33


def test_templates_and_business_profile(sbx):
    st, body = graph(sbx, "GET", "/100200300400500/message_templates")
    names = {t["name"] for t in body["data"]}
    assert st == 200 and "hello_world" in names
    assert all(t["status"] == "APPROVED" for t in body["data"])
    new = {"name": "sbx_new_%s" % uuid.uuid4().hex[:6], "language": "en", "category": "UTILITY",
           "components": [{"type": "BODY", "text": "Hi"}]}
    st, body = graph(sbx, "POST", "/100200300400500/message_templates", new)
    assert st == 200 and body["status"] == "APPROVED" and body["id"].isdigit()
    st, body = graph(sbx, "POST", "/100200300400500/message_templates", new)
    assert st == 400 and body["error"]["code"] == 100 and body["error"]["error_subcode"] == 2388024
    st, body = graph(sbx, "POST", "/%s/whatsapp_business_profile" % PNID,
                     {"messaging_product": "whatsapp", "about": "Open 9-17"})
    assert (st, body) == (200, {"success": True})
    st, body = graph(sbx, "GET", "/%s/whatsapp_business_profile?fields=about" % PNID)
    assert body["data"][0]["about"] == "Open 9-17"
    st, body = graph(sbx, "POST", "/%s/whatsapp_business_profile" % PNID,
                     {"messaging_product": "whatsapp", "about": "x" * 140})
    assert st == 400 and body["error"]["code"] == 100


def multipart(fields, boundary="sbxboundary42"):
    out = b""
    for name, (value, filename, ctype) in fields.items():
        out += b"--" + boundary.encode() + b"\r\n"
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if filename:
            disp += '; filename="%s"' % filename
        out += disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n", "multipart/form-data; boundary=" + boundary


def test_media_upload_and_download_round_trip(sbx):
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    body, ctype = multipart({"messaging_product": (b"whatsapp", None, None),
                             "type": (b"image/png", None, None),
                             "file": (data, "pic.png", "image/png")})
    st, up = graph(sbx, "POST", "/%s/media" % PNID, raw=body, headers={"Content-Type": ctype})
    assert st == 200 and up["id"].isdigit(), up
    st, info = graph(sbx, "GET", "/" + up["id"])
    assert st == 200 and info["mime_type"] == "image/png" and info["file_size"] == len(data)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    path = "/" + info["url"].split("/", 3)[3]
    assert info["url"].startswith("http://127.0.0.1:%d/" % sbx.port)
    st, _, got = sbx.request("GET", path, headers={"Authorization": "Bearer test-token"})
    assert st == 200 and got == data
    assert sbx.request("GET", path)[0] == 401
    # What Meta refuses: a type it does not take, an empty file.
    bad, ctype = multipart({"messaging_product": (b"whatsapp", None, None),
                            "type": (b"application/x-msdownload", None, None),
                            "file": (b"MZ", "x.exe", "application/x-msdownload")})
    st, out = graph(sbx, "POST", "/%s/media" % PNID, raw=bad, headers={"Content-Type": ctype})
    assert st == 400 and out["error"]["code"] == 100
    st, out = graph(sbx, "DELETE", "/" + up["id"])
    assert (st, out) == (200, {"success": True})
    assert graph(sbx, "GET", "/" + up["id"])[0] == 400


def test_customer_media_reaches_the_gateway_like_metas(sbx):
    """A file the terminal customer uploads gets a media id the worker
    downloads as it would one of Meta's."""
    data = b"\xff\xd8\xff\xe0" + os.urandom(2000)
    st, _, body = sbx.request("POST", "/sandbox/customer/media?filename=photo.jpg", data,
                              {"Content-Type": "image/jpeg"})
    up = json.loads(body)
    assert st == 201 and up["mime_type"] == "image/jpeg" and up["file_size"] == len(data)
    assert up["sha256"] == hashlib.sha256(data).hexdigest()
    doc = json.loads(fixture("image.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["metadata"]["phone_number_id"] = PNID
    m = v["messages"][0]
    m.update({"from": "15550006666", "timestamp": str(int(time.time())),
              "id": "wamid.sbximg.%s" % os.urandom(6).hex()})
    m["image"].update({"id": up["id"], "mime_type": "image/jpeg", "sha256": up["sha256"]})
    v["contacts"][0]["wa_id"] = "15550006666"
    assert sbx.post(json.dumps(doc).encode())[0] == 200
    row = wait_until(lambda: next(iter(sbx.q(
        "SELECT * FROM media WHERE media_id = ? AND state = 'stored'", up["id"])), None),
        timeout=20, what="the worker to download the customer's image")
    assert (row["sha256"], row["size"]) == (up["sha256"], len(data))
    with open(os.path.join(sbx.state, "media", row["path"]), "rb") as f:
        assert f.read() == data
    st, _, body = sbx.request("POST", "/sandbox/customer/media", b"x", {})
    assert st == 400 and json.loads(body)["error"]["code"] == "bad_content_type"


def test_statuses_survive_a_restart(sbx):
    """Statuses queued when the sandbox stops are posted after it starts
    again (they live in sandbox.db with their due times)."""
    s = started(extra_env={"WA_SANDBOX": "1"})
    try:
        who = "15550007777"
        post_text(s, PNID, who, "hi")
        m = wait_until(lambda: customer_messages(s, who)["messages"], step=0.005,
                       what="the menu")[0]
        s.stop()
        with sqlite3.connect(os.path.join(s.state, "sandbox.db")) as c:
            left = c.execute("SELECT count(*) FROM statuses").fetchone()[0]
        assert left > 0, "every status was posted before the stop: nothing to test"
        assert status_of(s, m["wamid"]) != "read"
        again = Stack(secret=s.secret, extra_env={"WA_SANDBOX": "1"}, state_dir=s.state)
        again.start()
        try:
            wait_until(lambda: status_of(again, m["wamid"]) == "read", timeout=20,
                       what="the status to become read after the restart")
        finally:
            again.close()
    finally:
        s.close()


@pytest.mark.parametrize("old_dev_env", [False, True])
def test_make_run_with_nothing_configured_answers_in_the_sandbox(old_dev_env):
    """README's "Try it in two minutes": deploy/run-local.sh with a fresh
    state dir and no settings at all generates dev.env in sandbox mode,
    and a "hi" gets the bot's menu in the sandbox.  A dev.env made before
    the sandbox (no WA_SANDBOX line, a dev- token) is sandbox mode too."""
    s = Stack()
    if old_dev_env:
        with open(os.path.join(s.state, "dev.env"), "w") as f:
            f.write("WHATSAPP_APP_SECRET=%s\nWHATSAPP_VERIFY_TOKEN=v%s\n"
                    "WHATSAPP_ACCESS_TOKEN=dev-%s\nWHATSAPP_PHONE_NUMBER_ID=200300400500600\n"
                    % (os.urandom(8).hex(), os.urandom(6).hex(), os.urandom(10).hex()))
    for k in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN",
              "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_GRAPH_URL", "WA_SANDBOX", "WA_FLOW_FILE",
              "WA_ENV_FILE", "WA_RESPONDERS"):
        s.env.pop(k)
    try:
        s.start()
        with open(os.path.join(s.state, "dev.env")) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line and line[0] != "#")
        assert env.get("WA_SANDBOX") == (None if old_dev_env else "1")
        assert env["WHATSAPP_ACCESS_TOKEN"].startswith("dev-")
        # The banner comes after the components start: wait for it.
        log = wait_until(lambda: "wactl chat --from" in s.logtext() and s.logtext(),
                         what="make run's banner")
        assert "SANDBOX MODE" in log and "wactl chat --from 15550001111" in log
        s.secret = env["WHATSAPP_APP_SECRET"]
        post_text(s, env["WHATSAPP_PHONE_NUMBER_ID"], CUSTOMER, "hi")
        got = wait_until(lambda: customer_messages(s, CUSTOMER)["messages"], what="the bot's menu")
        assert got[0]["message"]["type"] == "interactive"
        wait_until(lambda: status_of(s, got[0]["wamid"]) == "read", timeout=20, what="read")
        st, _, body = s.request("GET", API + "/health")
        assert json.loads(body)["sandbox"] is True
    finally:
        s.close()


def test_inbox_shows_the_sandbox_banner(sbx, stack):
    """The inbox says it is a sandbox, above the sign-in page and the
    inbox alike, with the strict CSP (no console error); a stack that is
    not a sandbox shows no banner."""
    from inbox_fixtures import add_user, browser, sign_in
    from browser import By
    pw = add_user(sbx, "sbx-admin", "admin")
    b = browser(sbx)
    try:
        b.get("/inbox/")
        el = b.wait(lambda d: d.find_elements(By.ID, "sandbox-banner"), 10)[0]
        assert "Sandbox" in el.text and "wactl chat --from 15550001111" in el.text
        assert el.is_displayed() and el.size["height"] > 10
        sign_in(b, "sbx-admin", pw)
        el = b.d.find_element(By.ID, "sandbox-banner")
        top = b.d.find_element(By.CSS_SELECTOR, "header.top")
        assert el.is_displayed() and el.location["y"] < top.location["y"]
        # The page still fits the window: the banner pushed, nothing hidden.
        view = b.d.find_element(By.ID, "view")
        assert view.location["y"] + view.size["height"] <= b.d.execute_script(
            "return window.innerHeight") + 1
        b.screenshot("sandbox-banner")
        assert b.console_errors() == []
    finally:
        b.quit()
    b = browser(stack)
    try:
        b.get("/inbox/")
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "form.signin"), 10)
        b.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-sandbox"), 10)
        assert b.d.find_element(By.TAG_NAME, "body").get_attribute("data-sandbox") == "off"
        assert b.d.find_elements(By.ID, "sandbox-banner") == []
        assert b.console_errors() == []
    finally:
        b.quit()


def test_media_sent_by_link_can_be_downloaded_again(sbx):
    """A send by link gets a media id, as if Meta had taken the file: a
    loopback link is fetched and served by the sandbox; any other is
    never fetched (nothing leaves the machine) and its url is the link."""
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(1500)

    def answer(path):
        return 200 if path == "/pic.png" else 404, {"Content-Type": "image/png"}, data

    with loopback_http(answer) as port:
        who = "15550008888"
        local = "http://127.0.0.1:%d/pic.png" % port
        far = "https://media.example.com/brochure.pdf"
        for doc in ({"type": "image", "image": {"link": local}},
                    {"type": "document", "document": {"link": far, "filename": "b.pdf"}}):
            st, body = graph(sbx, "POST", "/%s/messages" % PNID,
                             dict(doc, messaging_product="whatsapp", to=who))
            assert st == 200, body
        got = wait_until(lambda: (lambda m: len(m) == 2 and m)(customer_messages(sbx, who)["messages"]),
                         what="both messages")
        ids = {m["message"]["type"]: m["media_id"] for m in got}
        assert all(ids.values())
        info = wait_until(lambda: (lambda i: "sha256" in i and i)(graph(sbx, "GET", "/" + ids["image"])[1]),
                          what="the loopback link fetched")
        assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["mime_type"] == "image/png"
        st, _, body = sbx.request("GET", "/" + info["url"].split("/", 3)[3],
                                  headers={"Authorization": "Bearer test-token"})
        assert st == 200 and body == data
        st, info = graph(sbx, "GET", "/" + ids["document"])
        assert st == 200 and info["url"] == far and info["mime_type"] == "application/pdf"


def test_wa_sandbox_help_and_config_check():
    import subprocess
    from stack import BUILD
    exe = os.path.join(BUILD, "wa-sandbox")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("usage: wa-sandbox") and r.stderr == ""
    r = subprocess.run([exe, "-x"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "usage: wa-sandbox" in r.stderr
    # -n names what is missing and never starts.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
    r = subprocess.run([exe, "-n"], env=env, capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "WHATSAPP_ACCESS_TOKEN" in r.stderr
