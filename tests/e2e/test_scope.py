"""The management API across several business numbers (issue 13): every
list takes number= and says each row's number, a key limited to numbers
sees nothing of the others (400 unknown_number for their names, 404 for
their ids), sends say which number they go from.  Three numbers: the
configured one (`default`) and two added with `wactl numbers add`, in two
WABAs, each written to through webhooks."""
import json
import os
import subprocess
import time
import urllib.parse

import pytest

from fake_graph import FakeGraph
from people import new_key, wactl
from stack import BUILD, Stack, post_text

API = "/api/whatsapp"
DEFAULT = "200300400500600"         # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
SUPPORT = "660770880990110"
NODES = {
    SALES: {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme Sales",
            "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
            "throughput": {"level": "STANDARD"}, "status": "CONNECTED"},
    SUPPORT: {"display_phone_number": "+44 20 7946 0000", "verified_name": "Acme Support",
              "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
              "throughput": {"level": "STANDARD"}, "status": "CONNECTED"},
}
ANN = "15550007001"     # wrote to default and to sales
BOB = "15550007002"     # wrote to sales
CAT = "15550007003"     # wrote to support only


def inbound(s, pnid, sender, text):
    return post_text(s, pnid, sender, text, "scope")


@pytest.fixture(scope="module")
def gw():
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": g.url})
    try:
        s.start()
        for pnid, waba, label in ((SALES, "1110001110", "sales"),
                                  (SUPPORT, "2220002220", "support")):
            g.set_number(pnid, NODES[pnid])
            r = wactl(s, "numbers", "add", pnid, "--waba", waba, "--label", label)
            assert r.returncode == 0, r.stderr
        s.key = new_key(s, "all")
        s.sales_key = new_key(s, "sales-only", "--number", "sales")
        inbound(s, DEFAULT, ANN, "hello default")
        inbound(s, SALES, ANN, "hello sales")
        inbound(s, SALES, BOB, "bob to sales")
        inbound(s, SUPPORT, CAT, "cat to support")
        s.wait_applied()
    except Exception:
        s.close()
        g.close()
        raise
    s.graph = g
    yield s
    s.close()
    g.close()


def call(s, method, path, key=None, body=None, query=None):
    h = {"Authorization": "Bearer " + (key or s.key)}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    url = API + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
    st, _, raw = s.request(method, url, body, h)
    return st, json.loads(raw) if raw else None


def numbers_of(rows):
    return {r["phone_number_id"] for r in rows}


def conv_of(s, pnid, who):
    return s.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE v.phone_number_id = ? AND c.wa_id = ?", pnid, who)[0]["id"]


LISTS = ["/messages", "/conversations", "/contacts"]


@pytest.mark.parametrize("path", LISTS)
def test_lists_cover_every_number_and_rows_name_theirs(gw, path):
    st, b = call(gw, "GET", path)
    assert st == 200, b
    assert numbers_of(b["data"]) == {DEFAULT, SALES, SUPPORT}
    labels = {r["phone_number_id"]: r["number_label"] for r in b["data"]}
    assert labels == {DEFAULT: "default", SALES: "sales", SUPPORT: "support"}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("spelling", [SALES, "sales", "+1 555-010-2222", "15550102222",
                                      "(1) 555 010 2222"])
def test_number_narrows_every_list_in_any_spelling(gw, path, spelling):
    st, b = call(gw, "GET", path, query={"number": spelling})
    assert st == 200, b
    assert numbers_of(b["data"]) == {SALES}


@pytest.mark.parametrize("path", LISTS)
def test_number_repeats(gw, path):
    st, b = call(gw, "GET", path, query={"number": ["sales", SUPPORT]})
    assert st == 200, b
    assert numbers_of(b["data"]) == {SALES, SUPPORT}


def test_conversation_messages_and_phone_filter_by_number(gw):
    cid = conv_of(gw, SALES, ANN)
    st, b = call(gw, "GET", "/conversations/%d/messages" % cid, query={"number": "sales"})
    assert st == 200 and [m["text"] for m in b["data"]] == ["hello sales"]
    # The same conversation is not among default's.
    st, b = call(gw, "GET", "/conversations/%d/messages" % cid, query={"number": "default"})
    assert st == 200 and b["data"] == []
    # phone= across numbers: Ann's messages on both, or on one.
    st, b = call(gw, "GET", "/messages", query={"phone": ANN})
    assert st == 200 and sorted(m["text"] for m in b["data"]) == ["hello default", "hello sales"]
    st, b = call(gw, "GET", "/messages", query={"phone": ANN, "number": "default"})
    assert st == 200 and [m["text"] for m in b["data"]] == ["hello default"]


def test_outbox_lists_by_number(gw):
    st, b = call(gw, "POST", "/send", body={"to": BOB, "text": {"body": "from sales"},
                                           "from": "sales"})
    assert st == 202, b
    st, b = call(gw, "GET", "/outbox", query={"number": "sales"})
    assert st == 200 and b["data"] and numbers_of(b["data"]) == {SALES}
    st, b = call(gw, "GET", "/outbox", query={"number": "support"})
    assert st == 200 and SALES not in numbers_of(b["data"])


@pytest.mark.parametrize("path", LISTS + ["/outbox", "/stats", "/metrics"])
def test_unknown_number_is_named(gw, path):
    st, b = call(gw, "GET", path, query={"number": "nosuchline"})
    assert st == 400, b
    assert b["error"]["code"] == "unknown_number" and b["error"]["field"] == "number"
    assert "nosuchline" in b["error"]["message"]


def test_stats_and_metrics_by_number(gw):
    st, b = call(gw, "GET", "/stats", query={"number": "support"})
    assert st == 200, b
    assert sum(r["messages"] for r in b["messages"]) == 1 and b["unique_contacts"] == 1
    st, b = call(gw, "GET", "/stats")
    assert st == 200 and sum(r["messages"] for r in b["messages"]) >= 4
    assert b["unique_contacts"] == 4        # Ann counts once per number
    st, b = call(gw, "GET", "/stats", query={"number": ["sales", "default"]})
    assert st == 200 and b["unique_contacts"] == 3
    h = {"Authorization": "Bearer " + gw.key}
    st, _, raw = gw.request("GET", API + "/metrics?number=support", None, h)
    assert st == 200 and b"wa_outbox_rows" in raw


def test_contact_on_two_numbers_needs_number(gw):
    st, b = call(gw, "GET", "/contacts/" + ANN)
    assert st == 409, b
    assert b["error"]["code"] == "number_required" and b["error"]["field"] == "number"
    assert DEFAULT in b["error"]["message"] and SALES in b["error"]["message"]
    st, b = call(gw, "GET", "/contacts/" + ANN, query={"number": "sales"})
    assert st == 200 and b["phone_number_id"] == SALES and b["number_label"] == "sales"
    st, b = call(gw, "GET", "/contacts/%s/export" % ANN, query={"number": "default"})
    assert st == 200 and b["contact"]["phone_number_id"] == DEFAULT
    assert [m["text"] for m in b["messages"]] == ["hello default"]
    # The journal entries of Ann's message to default, not to sales.
    assert len(b["webhook_events"]) == 1
    # A key limited to sales sees one Ann.
    st, b = call(gw, "GET", "/contacts/" + ANN, key=gw.sales_key)
    assert st == 200 and b["phone_number_id"] == SALES


@pytest.mark.parametrize("path", LISTS + ["/outbox"])
def test_limited_key_sees_nothing_of_other_numbers(gw, path):
    st, b = call(gw, "GET", path, key=gw.sales_key)
    assert st == 200, b
    assert b["data"] and numbers_of(b["data"]) == {SALES}


def test_limited_key_gets_404_for_other_numbers_ids(gw):
    k = gw.sales_key
    cid = conv_of(gw, SUPPORT, CAT)
    st, b = call(gw, "POST", "/send", body={"to": CAT, "text": {"body": "support here"},
                                           "from": "support"})
    assert st == 202, b
    oid = b["id"]
    for method, path, body in (
            ("GET", "/conversations/%d" % cid, None),
            ("PATCH", "/conversations/%d" % cid, {"notes": "x"}),
            ("GET", "/conversations/%d/messages" % cid, None),
            ("GET", "/outbox/%d" % oid, None),
            ("DELETE", "/outbox/%d" % oid, None),
            ("POST", "/outbox/%d/retry" % oid, None),
            ("GET", "/contacts/" + CAT, None),
            ("GET", "/contacts/%s/export" % CAT, None),
            ("DELETE", "/contacts/" + CAT, None),
            ("POST", "/mark-read", {"conversation_id": cid}),
            ("POST", "/mark-read", {"phone": CAT})):
        st, b = call(gw, method, path, key=k, body=body)
        if path.endswith("/messages"):
            assert st == 200 and b["data"] == [], (method, path, b)
        else:
            assert st == 404 and b["error"]["code"] == "not_found", (method, path, b)
    # Nothing changed: the notes, the contact and the row are there.
    assert gw.q("SELECT notes FROM conversations WHERE id = ?", cid)[0]["notes"] is None
    assert gw.q("SELECT count(*) AS n FROM contacts WHERE wa_id = ?", CAT)[0]["n"] == 1
    # The same ids with the unrestricted key are there.
    st, b = call(gw, "GET", "/conversations/%d" % cid)
    assert st == 200 and b["phone_number_id"] == SUPPORT and b["number_label"] == "support"
    st, b = call(gw, "GET", "/outbox/%d" % oid)
    assert st == 200 and b["phone_number_id"] == SUPPORT


def test_limited_key_naming_another_number_is_as_unknown(gw):
    st1, other = call(gw, "GET", "/messages", key=gw.sales_key, query={"number": "support"})
    st2, unknown = call(gw, "GET", "/messages", key=gw.sales_key, query={"number": "nosuch"})
    assert st1 == st2 == 400
    assert other["error"]["code"] == unknown["error"]["code"] == "unknown_number"
    assert other["error"]["message"].replace("support", "X") == \
        unknown["error"]["message"].replace("nosuch", "X")
    st, b = call(gw, "GET", "/stats", key=gw.sales_key, query={"number": SUPPORT})
    assert st == 400 and b["error"]["code"] == "unknown_number"


def test_send_needs_from_when_several_numbers_may_send(gw):
    st, b = call(gw, "POST", "/send", body={"to": BOB, "text": {"body": "which?"}})
    assert st == 422, b
    assert b["error"]["code"] == "from_required" and b["error"]["field"] == "from"
    for label in ("default", "sales", "support"):
        assert label in b["error"]["message"]
    st, b = call(gw, "POST", "/send", body={"to": BOB, "text": {"body": "x"}, "from": "nosuch"})
    assert st == 422 and b["error"]["code"] == "unknown_number" and b["error"]["field"] == "from"
    st, b = call(gw, "POST", "/send-template", body={"to": BOB, "name": "hello_world",
                                                    "language": "en_US"})
    assert st == 422 and b["error"]["code"] == "from_required"


def sent(g, oid, timeout=15):
    """The Graph request that sent outbox row oid."""
    deadline = time.time() + timeout
    while True:
        got = [r for r in g.requests("/v23.0/") if (r["json"] or {}).get(
            "biz_opaque_callback_data") == "outbox:%d" % oid]
        if got:
            return got[0]
        assert time.time() < deadline, "outbox %d not sent" % oid
        time.sleep(0.02)


def test_sends_go_from_the_number_named(gw):
    g = gw.graph
    st, b = call(gw, "POST", "/send", body={"to": BOB, "text": {"body": "sales says hi"},
                                           "from": "+1 555 010 2222"})
    assert st == 202 and b["phone_number_id"] == SALES and b["number_label"] == "sales", b
    st, b2 = call(gw, "POST", "/send", body={"to": CAT, "text": {"body": "support says hi"},
                                            "from": SUPPORT})
    assert st == 202 and b2["phone_number_id"] == SUPPORT, b2
    st, b3 = call(gw, "POST", "/send-template", body={"to": CAT, "name": "hello_world",
                                                     "language": "en_US", "from": "support"})
    assert st == 202 and b3["phone_number_id"] == SUPPORT, b3
    for oid, pnid in ((b["id"], SALES), (b2["id"], SUPPORT), (b3["id"], SUPPORT)):
        req = sent(g, oid)
        assert req["path"] == "/v23.0/%s/messages" % pnid
        assert "from" not in req["json"]
    # A key limited to sales sends from sales without saying so, and not
    # from support.
    st, b = call(gw, "POST", "/send", key=gw.sales_key,
                 body={"to": BOB, "text": {"body": "defaulted"}})
    assert st == 202 and b["phone_number_id"] == SALES, b
    st, b = call(gw, "POST", "/send", key=gw.sales_key,
                 body={"to": CAT, "text": {"body": "no"}, "from": "support"})
    assert st == 422 and b["error"]["code"] == "unknown_number", b


def test_mark_read_answers_on_the_number_written_to(gw):
    cid = conv_of(gw, SUPPORT, CAT)
    st, b = call(gw, "POST", "/mark-read", body={"conversation_id": cid})
    assert st == 200 and b["read_receipt_outbox_id"], b
    row = gw.q("SELECT phone_number_id FROM outbox WHERE id = ?", b["read_receipt_outbox_id"])
    assert row[0]["phone_number_id"] == SUPPORT


def test_wactl_apikey_numbers(gw):
    r = wactl(gw, "apikey", "create", "ghost-key", "--number", "ghostline")
    assert r.returncode == 1 and "ghostline" in r.stderr and "wactl numbers list" in r.stderr
    assert not gw.q("SELECT 1 FROM api_keys WHERE name = 'ghost-key'")
    out = wactl(gw, "apikey", "list").stdout
    line = next(l for l in out.splitlines() if l.startswith("sales-only"))
    assert "sales=" + SALES in line
    line = next(l for l in out.splitlines() if l.startswith("all "))
    assert "numbers all" in line


def test_wactl_send_from(gw):
    # Through the API (WA_URL, WA_API_KEY).
    env = {"WA_URL": "http://127.0.0.1:%d" % gw.port, "WA_API_KEY": gw.key}
    r = wactl(gw, "send", "--to", BOB, "--text", "via api", "--from", "sales", env=env)
    assert r.returncode == 0, r.stderr
    oid = int(r.stdout.strip())
    assert gw.q("SELECT phone_number_id FROM outbox WHERE id = ?", oid)[0]["phone_number_id"] == SALES
    r = wactl(gw, "send", "--to", BOB, "--text", "which", env=env)
    assert r.returncode == 1 and "from_required" in r.stderr
    # On the database.
    r = wactl(gw, "send", "--to", CAT, "--text", "local", "--from", "support")
    assert r.returncode == 0, r.stderr
    oid = int(r.stdout.strip())
    assert gw.q("SELECT phone_number_id FROM outbox WHERE id = ?", oid)[0]["phone_number_id"] == SUPPORT
    r = wactl(gw, "send", "--to", CAT, "--text", "local", "--from", "ghostline")
    assert r.returncode == 1 and "unknown_number" in r.stderr


def test_wactl_lists_by_number(gw):
    env = {"WA_URL": "http://127.0.0.1:%d" % gw.port, "WA_API_KEY": gw.key}
    for what in ("messages", "conversations"):
        r = wactl(gw, what, "--number", "sales", "--json", env=env)
        assert r.returncode == 0, r.stderr
        assert {row["phone_number_id"] for row in json.loads(r.stdout)["data"]} == {SALES}
        r = wactl(gw, what, "--number", "sales", "--number", SUPPORT, "--json", env=env)
        assert {row["phone_number_id"] for row in json.loads(r.stdout)["data"]} == {SALES, SUPPORT}
        # The table names each row's number by its label.
        r = wactl(gw, what, env=env)
        assert r.returncode == 0 and "NUMBER" in r.stdout.splitlines()[0]
        assert {"default", "sales", "support"} <= set(r.stdout.split())


def test_api_serves_an_install_whose_numbers_are_only_in_the_table(tmp_path):
    """Without WHATSAPP_PHONE_NUMBER_ID the API answers 503 not_configured
    only while the numbers table is empty too."""
    import socket
    import sqlite3
    import fcgi_client
    from stack import DEAD_GRAPH_URL, TOP

    state = str(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
    env.update({"WA_STATE_DIR": state, "WA_ENV_FILE": "",
                "WHATSAPP_APP_SECRET": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                "WHATSAPP_VERIFY_TOKEN": "verify-scope", "WHATSAPP_GRAPH_URL": DEAD_GRAPH_URL,
                "WA_BOT": "off",
                "WA_FLOW_FILE": os.path.join(TOP, "deploy", "flows", "default.json")})
    tool = lambda *a: subprocess.run([os.path.join(BUILD, "wactl")] + list(a), env=env,
                                     capture_output=True, text=True, timeout=30)
    r = tool("migrate")
    assert r.returncode == 0, r.stderr
    r = tool("apikey", "create", "k")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    path = os.path.join(state, "t.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    with open(os.path.join(state, "fcgi.log"), "wb") as log:
        p = subprocess.Popen([os.path.join(BUILD, "wa-fcgi")], env=env, stdin=sock.fileno(),
                             stdout=log, stderr=subprocess.STDOUT)
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": API + "/messages",
              "SCRIPT_NAME": API + "/messages", "DOCUMENT_URI": API + "/messages",
              "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
              "GATEWAY_INTERFACE": "CGI/1.1", "HTTP_AUTHORIZATION": "Bearer " + key}
    try:
        st, _, body = fcgi_client.request(path, params)
        assert st == 503, body
        err = json.loads(body)["error"]
        assert err["code"] == "not_configured"
        assert "WHATSAPP_PHONE_NUMBER_ID" in err["message"] and "wactl numbers add" in err["message"]
        with sqlite3.connect(os.path.join(state, "wa.db")) as c:
            c.execute("INSERT INTO numbers (phone_number_id, label, created_at) "
                      "VALUES (?, 'sales', 0)", (SALES,))
        st, _, body = fcgi_client.request(path, params)
        assert st == 200, body
        assert json.loads(body)["data"] == []
    finally:
        p.terminate()
        p.wait(15)
        sock.close()


def test_limited_key_sees_no_journal(gw):
    st, b = call(gw, "GET", "/webhook-events")
    assert st == 200 and b["data"]
    eid = b["data"][0]["id"]
    st, b = call(gw, "GET", "/webhook-events", key=gw.sales_key)
    assert st == 200 and b["data"] == []
    st, b = call(gw, "GET", "/webhook-events/%d" % eid, key=gw.sales_key)
    assert st == 404 and b["error"]["code"] == "not_found"
    st, b = call(gw, "POST", "/webhook-events/%d/replay" % eid, key=gw.sales_key)
    assert st == 404 and b["error"]["code"] == "not_found"
