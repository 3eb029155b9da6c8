"""The inbox's conversation endpoints (issue 14) through the real stack:
GET /chats (order, preview, every filter, paging that stays stable while
chats move), the change cursor GET /changes (new messages, statuses,
failed sends, staff acts; nothing when nothing happened), labels (made on
the fly, renamed and deleted everywhere), notes, the activity every staff
change writes, the conversation's context (contact, orders, tickets),
hand-off between the bot and people, and number scope.

With an API key (it acts as an admin, recorded as "api:KEYNAME"), and with people
signed in (session cookie and CSRF token) where who it is matters.  Each test talks as
customers of its own (random wa_ids and names), so tests do not see each
other's rows where it matters; list tests narrow with q= on a name made
for the test."""
import json
import os
import time
import urllib.parse

import pytest

from fake_graph import FakeGraph
from people import add_user, new_key, session, wactl
from stack import Stack, fixture, wait_until

API = "/api/whatsapp"
PNID = "200300400500600"            # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
MSGS = "/v23.0/%s/messages" % PNID


def call(s, method, path, body=None, key=None, **query):
    h = {"Authorization": "Bearer " + (key or s.key)}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    url = API + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
    st, _, raw = s.request(method, url, body, h)
    return st, json.loads(raw) if raw else None


def ok(s, method, path, body=None, want=200, **query):
    st, b = call(s, method, path, body, **query)
    assert st == want, (method, path, query, st, b)
    return b


def rand_wa():
    return "1555%07d" % (int.from_bytes(os.urandom(4), "big") % 10**7)


def inbound(s, wa, text, ts=None, name=None, pnid=PNID):
    """A customer's text, stored and applied; returns its wamid."""
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["metadata"]["phone_number_id"] = pnid
    v["contacts"][0]["wa_id"] = wa
    if name:
        v["contacts"][0]["profile"]["name"] = name
    m = v["messages"][0]
    m.update({"from": wa, "timestamp": str(ts or int(time.time())),
              "id": "wamid.inbox.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()
    return m["id"]


def status(s, wamid, wa, st, ts=None):
    doc = json.loads(fixture("status_delivered.json"))
    x = doc["entry"][0]["changes"][0]["value"]["statuses"][0]
    x.update({"id": wamid, "status": st, "recipient_id": wa,
              "timestamp": str(ts or int(time.time()))})
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()


def conv_of(s, wa, pnid=PNID):
    return s.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE v.phone_number_id = ? AND c.wa_id = ?", pnid, wa)[0]["id"]


def chats(s, **query):
    return ok(s, "GET", "/chats", **query)


def ids(page):
    return [r["id"] for r in page["data"]]


@pytest.fixture(scope="module")
def gw():
    """The bot off (list order is the customers' messages alone); sends go
    to a fake Graph API; a second number, sales, and a key limited to it."""
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": g.url,
                         "WA_SCRYPT_N": "1024", "WA_LOGIN_RATE": "6000", "WA_LOGIN_BURST": "1000"})
    try:
        s.start()
        g.set_number(SALES, {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme Sales",
                             "quality_rating": "GREEN", "status": "CONNECTED"})
        r = wactl(s, "numbers", "add", SALES, "--waba", "1110001110", "--label", "sales")
        assert r.returncode == 0, r.stderr
        s.key = new_key(s, "inbox")
        s.sales_key = new_key(s, "sales-only", "--number", "sales")
    except Exception:
        s.close()
        g.close()
        raise
    s.graph = g
    yield s
    s.close()
    g.close()


# --- GET /chats -------------------------------------------------------------

def test_chats_newest_first_with_preview_and_row_fields(gw):
    tag = "order%s" % os.urandom(3).hex()
    now = int(time.time())
    a, b, c = rand_wa(), rand_wa(), rand_wa()
    inbound(gw, a, "first " + "x" * 200, ts=now - 30, name=tag + " Ann")
    inbound(gw, b, "from b", ts=now - 20, name=tag + " Bob")
    inbound(gw, c, "from c", ts=now - 10, name=tag + " Cat")
    page = chats(gw, q=tag)
    assert ids(page) == [conv_of(gw, w) for w in (c, b, a)]
    assert page["next_cursor"] is None
    row = page["data"][2]
    assert row["phone_number_id"] == PNID and row["number_label"] == "default"
    assert row["wa_id"] == a and row["name"] == tag + " Ann"
    assert row["unread_count"] == 1 and row["last_message_at"] == now - 30
    assert row["preview"] == {"direction": "in", "type": "text", "text": ("first " + "x" * 200)[:120],
                              "status": None}
    assert row["assignee"] == "bot" and row["assignee_name"] is None and row["labels"] == []
    assert row["window_open"] is True and row["window_expires_at"] == now - 30 + 86400
    assert row["opted_out"] is False
    # The newest message wins the preview, an outbound one too.
    with gw.db() as db:
        db.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, contact_id, "
                   "recipient, type, text, timestamp, status, raw, created_at) SELECT phone_number_id, "
                   "'wamid.inbox.out1', 'out', id, contact_id, ?, 'text', 'our answer', ?, 'delivered', "
                   "'{}', ? FROM conversations WHERE id = ?", (a, now - 5, now, conv_of(gw, a)))
        db.execute("UPDATE conversations SET last_message_at = ? WHERE id = ?", (now - 5, conv_of(gw, a)))
    row = chats(gw, q=tag)["data"][0]
    assert row["id"] == conv_of(gw, a)
    assert row["preview"] == {"direction": "out", "type": "text", "text": "our answer", "status": "delivered"}


def test_chats_paging_stays_stable_while_a_chat_moves(gw):
    tag = "page%s" % os.urandom(3).hex()
    now = int(time.time())
    who = [rand_wa() for _ in range(5)]
    for k, w in enumerate(who):              # who[4] newest
        inbound(gw, w, "hello %d" % k, ts=now - 100 + k, name="%s %d" % (tag, k))
    conv = [conv_of(gw, w) for w in who]
    p1 = chats(gw, q=tag, limit=2)
    assert ids(p1) == [conv[4], conv[3]] and p1["next_cursor"]
    # who[1], on the next page, writes again: it moves to the top.
    inbound(gw, who[1], "me again", ts=now, name="%s 1" % tag)
    p2 = chats(gw, q=tag, limit=2, cursor=p1["next_cursor"])
    assert ids(p2) == [conv[2], conv[0]]
    p3 = chats(gw, q=tag, limit=2, cursor=p2["next_cursor"]) if p2["next_cursor"] else {"data": []}
    assert ids(p3) == []
    # Nothing was shown twice, the mover is first when the list is read again.
    assert ids(chats(gw, q=tag, limit=2)) == [conv[1], conv[4]]
    # Same second: the larger id first, and the cursor splits the tie.
    tie = "tie%s" % os.urandom(3).hex()
    t = [rand_wa() for _ in range(3)]
    for w in t:
        inbound(gw, w, "same time", ts=now - 7, name=tie + " x")
    tc = sorted((conv_of(gw, w) for w in t), reverse=True)
    got = []
    cur = None
    while True:
        q = {"q": tie, "limit": 1}
        if cur:
            q["cursor"] = cur
        p = chats(gw, **q)
        got += ids(p)
        cur = p["next_cursor"]
        if not cur:
            break
    assert got == tc


def test_chats_every_filter(gw):
    tag = "filt%s" % os.urandom(3).hex()
    now = int(time.time())
    w = {k: rand_wa() for k in ("unread", "read", "dana", "pool", "agent", "old")}
    for k, wa in w.items():
        inbound(gw, wa, "hi from %s" % k, ts=now - (3 * 86400 if k == "old" else 60),
                name="%s %s" % (tag, k))
    cv = {k: conv_of(gw, wa) for k, wa in w.items()}
    ok(gw, "POST", "/mark-read", {"conversation_id": cv["read"]})
    ok(gw, "PATCH", "/conversations/%d" % cv["dana"], {"assignee": "person:dana",
                                                         "labels": ["vip-" + tag]})
    ok(gw, "PATCH", "/conversations/%d" % cv["pool"], {"assignee": "person"})
    with gw.db() as db:     # agents must be configured to be assigned by the API
        db.execute("UPDATE conversations SET assignee = 'agent:helper' WHERE id = ?", (cv["agent"],))
    ok(gw, "POST", "/conversations/%d/notes" % cv["read"], {"text": "wants a callback about %s-zeta" % tag},
       want=201)

    def got(**q):
        return set(ids(chats(gw, q=tag, **q)))
    every = set(cv.values())
    assert got() == every
    assert got(unread="true") == every - {cv["read"]}
    assert got(unread="false") == {cv["read"]}
    assert got(assignee="person:dana") == {cv["dana"]} == got(assignee="dana")
    assert got(assignee="bot") == {cv["unread"], cv["read"], cv["old"]}
    assert got(mine="true") == set()         # an API key is nobody
    assert got(mine="false") == every
    assert got(state="bot") == {cv["unread"], cv["read"], cv["old"]}
    assert got(state="person") == {cv["dana"], cv["pool"]}
    assert got(state="unassigned") == {cv["pool"]}
    assert got(state="agent") == {cv["agent"]}
    assert got(label="vip-" + tag) == {cv["dana"]}
    assert got(label="nothing-" + tag) == set()
    assert got(window="closed") == {cv["old"]}
    assert got(window="open") == every - {cv["old"]}
    # q: a name, a number, a label, a note.
    assert set(ids(chats(gw, q=w["pool"]))) == {cv["pool"]}
    assert set(ids(chats(gw, q="vip-" + tag))) == {cv["dana"]}
    assert set(ids(chats(gw, q=tag + "-zeta"))) == {cv["read"]}
    assert set(ids(chats(gw, q="%s dana" % tag))) == {cv["dana"]}
    # The assignee's display name comes from users (the auth branch's).
    with gw.db() as db:
        db.execute("INSERT OR IGNORE INTO users (name, display_name, role, password_hash, password_at, "
                   "created_at) VALUES ('dana', 'Dana Scully', 'agent', 'x', 0, 0)")
    row = [r for r in chats(gw, q=tag)["data"] if r["id"] == cv["dana"]][0]
    assert row["assignee_name"] == "Dana Scully" and row["labels"] == ["vip-" + tag]


@pytest.mark.parametrize("query,field", [
    ({"cursor": "abc"}, "cursor"), ({"cursor": "12"}, "cursor"), ({"cursor": "1.x"}, "cursor"),
    ({"cursor": "1.2.3"}, "cursor"), ({"cursor": "1234567890123.1"}, "cursor"), ({"mine": "true", "assignee": "bot"}, "mine"),
    ({"state": "nobody"}, "state"), ({"window": "ajar"}, "window"), ({"limit": "0"}, "limit"),
    ({"colour": "red"}, "colour")])
def test_chats_refuses_bad_parameters(gw, query, field):
    st, b = call(gw, "GET", "/chats", **query)
    assert st == 400 and b["error"]["field"] == field, b
    assert b["error"]["code"] in ("bad_parameter", "unknown_parameter") and b["error"]["message"]


# --- GET /changes -----------------------------------------------------------

def changes(s, since=None, key=None):
    st, b = call(s, "GET", "/changes", key=key, **({"since": since} if since else {}))
    assert st == 200, b
    return b


def test_changes_sees_messages_statuses_sends_and_staff(gw):
    first = changes(gw)
    assert first["conversations"] == [] and first["more"] is False
    cur = first["cursor"]
    # Nothing happened: nothing new, and the same cursor.
    again = changes(gw, cur)
    assert again == {"cursor": cur, "conversations": [], "more": False}
    # A new message.
    wa = rand_wa()
    inbound(gw, wa, "news")
    cid = conv_of(gw, wa)
    got = changes(gw, cur)
    assert got["conversations"] == [cid] and got["cursor"] != cur
    cur = got["cursor"]
    assert changes(gw, cur)["conversations"] == []
    # A staff note, then a read.
    ok(gw, "POST", "/conversations/%d/notes" % cid, {"text": "called them"}, want=201)
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    cur = got["cursor"]
    ok(gw, "POST", "/mark-read", {"conversation_id": cid})
    got = changes(gw, cur)
    assert cid in got["conversations"]
    cur = got["cursor"]
    # A send: its outbox row (Meta slow to answer: no message row yet),
    # then Meta's acceptance (the outbound message row).
    gw.graph.inject(delay_ms=1500, times=1, match={"to": wa})
    st, row = call(gw, "POST", "/send", {"to": wa, "from": "default", "type": "text",
                                        "text": {"body": "hello"}})
    assert st == 202, row
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    assert gw.q("SELECT message_id FROM outbox WHERE id = ?", row["id"])[0]["message_id"] is None
    cur = got["cursor"]
    wait_until(lambda: gw.q("SELECT message_id FROM outbox WHERE id = ?", row["id"])[0]["message_id"],
               what="the outbound message row")
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    cur = got["cursor"]
    # A status webhook for it.
    wamid = gw.q("SELECT wamid FROM outbox WHERE id = ?", row["id"])[0]["wamid"]
    status(gw, wamid, wa, "delivered")
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    cur = got["cursor"]
    # A send Meta refuses: no message row, only the outbox row's state.
    gw.graph.inject(code=100, delay_ms=1500, times=1, match={"to": wa})
    st, row = call(gw, "POST", "/send", {"to": wa, "from": "default", "type": "text",
                                        "text": {"body": "x"}})
    assert st == 202, row
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    assert gw.q("SELECT state FROM outbox WHERE id = ?", row["id"])[0]["state"] != "failed"
    cur = got["cursor"]
    wait_until(lambda: gw.q("SELECT state FROM outbox WHERE id = ?", row["id"])[0]["state"] == "failed",
               what="the send failed")
    got = changes(gw, cur)
    assert got["conversations"] == [cid]
    assert changes(gw, got["cursor"])["conversations"] == []


def test_changes_order_limit_scope_and_bad_cursor(gw):
    cur = changes(gw)["cursor"]
    now = int(time.time())
    a, b = rand_wa(), rand_wa()
    inbound(gw, a, "older", ts=now - 50)
    inbound(gw, b, "newer", ts=now - 40)
    s = rand_wa()
    inbound(gw, s, "to sales", pnid=SALES)
    got = changes(gw, cur)["conversations"]
    assert got[:3] == [conv_of(gw, s, SALES), conv_of(gw, b), conv_of(gw, a)] or \
        got == [conv_of(gw, b), conv_of(gw, a)] + [conv_of(gw, s, SALES)] or \
        set(got) == {conv_of(gw, s, SALES), conv_of(gw, b), conv_of(gw, a)}
    # A key limited to sales sees only the sales conversation.
    assert changes(gw, cur, key=gw.sales_key)["conversations"] == [conv_of(gw, s, SALES)]
    # number= is not a /changes parameter; bad cursors are refused.
    for bad in ("x", "v1.1.2.3", "v2.1.2.3.4.5.6", "v1.1.2.3.4.5.6.7", "v1.a.2.3.4.5.6",
                "v1.1234567890123456789.0.0.0.0.0"):
        st, body = call(gw, "GET", "/changes", since=bad)
        assert st == 400 and body["error"] == dict(body["error"], code="bad_parameter", field="since")


def test_changes_says_more_when_too_much_changed(gw):
    wa = rand_wa()
    inbound(gw, wa, "busy")
    cid = conv_of(gw, wa)
    cur = changes(gw)["cursor"]
    with gw.db() as db:      # more staff acts than a poll reads of one kind
        db.executemany("INSERT INTO activity (conversation_id, phone_number_id, actor, kind, at) "
                       "VALUES (?, ?, 'api', 'test', 0)", [(cid, PNID)] * 5001)
    got = changes(gw, cur)
    assert got["more"] is True and got["conversations"] == [cid]
    assert changes(gw, got["cursor"]) == {"cursor": got["cursor"], "conversations": [], "more": False}
    # Exactly the cap: all read, nothing more.
    cur = got["cursor"]
    with gw.db() as db:
        db.executemany("INSERT INTO activity (conversation_id, phone_number_id, actor, kind, at) "
                       "VALUES (?, ?, 'api', 'test', 0)", [(cid, PNID)] * 5000)
    got = changes(gw, cur)
    assert got["more"] is False and got["conversations"] == [cid]


# --- Labels, notes, activity ------------------------------------------------

def test_labels_made_on_the_fly_renamed_and_deleted_everywhere(gw):
    t = os.urandom(3).hex()
    wa = rand_wa()
    inbound(gw, wa, "label me")
    cid = conv_of(gw, wa)
    row = ok(gw, "PATCH", "/conversations/%d" % cid, {"labels": ["vip" + t, "eu" + t]})
    assert row["labels"] == ["vip" + t, "eu" + t]
    labels = {l["name"]: l for l in ok(gw, "GET", "/labels")["data"]}
    assert {"vip" + t, "eu" + t} <= set(labels) and labels["vip" + t]["color"] is None
    # Made by hand, with a color; a name taken or a bad color refused.
    lab = ok(gw, "POST", "/labels", {"name": "late" + t, "color": "#aa00FF"}, want=201)
    assert lab["name"] == "late" + t and lab["color"] == "#aa00FF" and lab["id"] > 0
    st, b = call(gw, "POST", "/labels", {"name": "late" + t})
    assert st == 409 and b["error"]["code"] == "label_exists"
    for body, field in (({"name": "x", "color": "red"}, "color"), ({"color": "#000000"}, "name"),
                        ({"name": "a" * 41}, "name"), ({"name": "tab\there"}, "name"),
                        ({"name": "x", "size": 3}, "size")):
        st, b = call(gw, "POST", "/labels", body)
        assert st == 422 and b["error"]["field"] == field, (body, b)
    # Renamed: the conversation has the new name, the filter finds it.
    vip = labels["vip" + t]["id"]
    got = ok(gw, "PATCH", "/labels/%d" % vip, {"name": "gold" + t, "color": "#123456"})
    assert got == dict(got, id=vip, name="gold" + t, color="#123456")
    assert ok(gw, "GET", "/conversations/%d" % cid)["labels"] == ["gold" + t, "eu" + t]
    assert ids(chats(gw, label="gold" + t)) == [cid]
    st, b = call(gw, "PATCH", "/labels/%d" % vip, {"name": "eu" + t})
    assert st == 409 and b["error"]["code"] == "label_exists"
    # Deleted: off the conversation too.
    assert ok(gw, "DELETE", "/labels/%d" % vip) == {"id": vip, "deleted": True}
    assert ok(gw, "GET", "/conversations/%d" % cid)["labels"] == ["eu" + t]
    assert "gold" + t not in {l["name"] for l in ok(gw, "GET", "/labels")["data"]}
    for m in ("PATCH", "DELETE"):
        st, b = call(gw, m, "/labels/%d" % vip, {"name": "zz"} if m == "PATCH" else None)
        assert st == 404 and b["error"]["code"] == "not_found"


def test_notes_and_activity_of_every_staff_change(gw):
    wa = rand_wa()
    inbound(gw, wa, "I need help")
    cid = conv_of(gw, wa)
    n1 = ok(gw, "POST", "/conversations/%d/notes" % cid, {"text": "VIP customer"}, want=201)
    assert n1 == dict(n1, conversation_id=cid, author="api:inbox", user_id=None, text="VIP customer")
    n2 = ok(gw, "POST", "/conversations/%d/notes" % cid, {"text": "second"}, want=201)
    assert [n["text"] for n in ok(gw, "GET", "/conversations/%d/notes" % cid)["data"]] == \
        ["VIP customer", "second"]
    for body in ({}, {"text": ""}, {"text": "x" * 4001}, {"text": "x", "pin": True}):
        st, b = call(gw, "POST", "/conversations/%d/notes" % cid, body)
        assert st == 422, (body, b)
    assert ok(gw, "DELETE", "/notes/%d" % n1["id"]) == {"id": n1["id"], "deleted": True}
    assert [n["id"] for n in ok(gw, "GET", "/conversations/%d/notes" % cid)["data"]] == [n2["id"]]
    st, b = call(gw, "DELETE", "/notes/%d" % n1["id"])
    assert st == 404
    ok(gw, "PATCH", "/conversations/%d" % cid, {"assignee": "person:dana"})
    ok(gw, "PATCH", "/conversations/%d" % cid, {"assignee": "person"})
    ok(gw, "PATCH", "/conversations/%d" % cid, {"assignee": "bot", "labels": ["x-act"],
                                                  "customer_email": "a@example.com"})
    ok(gw, "PATCH", "/conversations/%d" % cid, {"assignee": "bot"})        # no change, no row
    ok(gw, "POST", "/mark-read", {"conversation_id": cid})
    ok(gw, "POST", "/mark-read", {"conversation_id": cid})                 # nothing unread: no row
    acts = ok(gw, "GET", "/conversations/%d/activity" % cid)["data"]
    assert [(a["kind"], a["detail"]) for a in acts] == [
        ("note", {"from": None, "to": n1["id"]}),
        ("note", {"from": None, "to": n2["id"]}),
        ("note_deleted", {"from": n1["id"], "to": None}),
        ("assign", {"from": "bot", "to": "person:dana"}),
        ("release", {"from": "person:dana", "to": "person"}),
        ("handoff", {"from": "person", "to": "bot"}),
        ("label", {"from": [], "to": ["x-act"]}),
        ("email", {"from": None, "to": "a@example.com"}),
        ("read", {"from": 1, "to": 0}),
    ]
    assert all(a["actor"] == "api:inbox" and a["user_id"] is None and a["conversation_id"] == cid
               and abs(a["at"] - time.time() * 1000) < 60000 for a in acts)
    assert [a["id"] for a in acts] == sorted(a["id"] for a in acts)
    # The conversation says how many notes it has.
    assert ok(gw, "GET", "/conversations/%d" % cid)["notes_count"] == 1
    for path in ("/conversations/999999999/notes", "/conversations/999999999/activity"):
        st, b = call(gw, "GET", path)
        assert st == 404 and b["error"]["code"] == "not_found"


def test_a_refused_patch_writes_nothing(gw):
    wa = rand_wa()
    inbound(gw, wa, "hello")
    cid = conv_of(gw, wa)
    t = os.urandom(3).hex()

    def acts():
        return gw.q("SELECT count(*) AS n FROM activity WHERE conversation_id = ?", cid)[0]["n"]
    ok(gw, "PATCH", "/conversations/%d" % cid, {"labels": ["kept" + t]})
    assert acts() == 1
    st, b = call(gw, "PATCH", "/conversations/%d" % cid, {"assignee": "agent:nobody-configured",
                                                            "labels": ["new" + t]})
    assert st == 422 and b["error"]["code"] == "unknown_agent"
    st, b = call(gw, "PATCH", "/conversations/%d" % cid, {"labels": ["new" + t, ""]})
    assert st == 422
    assert acts() == 1
    assert gw.q("SELECT labels FROM conversations WHERE id = ?", cid)[0]["labels"] == '["kept%s"]' % t
    assert gw.q("SELECT count(*) AS n FROM labels WHERE name = ?", "new" + t)[0]["n"] == 0


# --- The conversation's context ---------------------------------------------

def test_conversation_has_contact_orders_and_tickets(gw):
    wa = rand_wa()
    inbound(gw, wa, "where is my order", name="Olga Order")
    cid = conv_of(gw, wa)
    contact = gw.q("SELECT id FROM contacts WHERE wa_id = ?", wa)[0]["id"]
    now = int(time.time())
    with gw.db() as db:
        for k in range(12):
            db.execute("INSERT INTO orders (phone_number_id, number, customer_wa_id, status, ordered_on, "
                       "updated_at) VALUES (?, ?, ?, 'shipped', ?, ?)",
                       (PNID, "A-%s-%02d" % (wa, k), wa, "2026-11-%02d" % (k + 1), now))
        oid = db.execute("SELECT id FROM orders WHERE number = ?", ("A-%s-11" % wa,)).fetchone()[0]
        db.execute("INSERT INTO order_lines (order_id, line_no, item, quantity) VALUES (?, 1, 'bolt', '12'), "
                   "(?, 2, 'nut', '12')", (oid, oid))
        db.execute("INSERT INTO orders (phone_number_id, number, customer_wa_id, status, updated_at) "
                   "VALUES (?, 'B-other', '15550000000', 'x', 0)", (PNID,))
        db.execute("INSERT INTO tickets (phone_number_id, number, contact_id, customer_wa_id, category, "
                   "description, created_at, updated_at) VALUES (?, ?, ?, ?, 'scratch', 'A scratch on the "
                   "lid', ?, ?)", (PNID, "T-%s" % wa, contact, wa, now, now))
        db.execute("UPDATE contacts SET saved_name = 'Olga from the shop' WHERE id = ?", (contact,))
    ok(gw, "PATCH", "/conversations/%d" % cid, {"customer_email": "olga@example.com", "labels": ["ctx"]})
    ok(gw, "POST", "/conversations/%d/notes" % cid, {"text": "n"}, want=201)
    c = ok(gw, "GET", "/conversations/%d" % cid)
    assert c["contact"] == {"wa_id": wa, "user_id": None, "username": None, "profile_name": "Olga Order",
                            "saved_name": "Olga from the shop", "opted_out": False, "opted_out_at": None,
                            "customer_email": "olga@example.com"}
    assert c["labels"] == ["ctx"] and c["notes_count"] == 1
    assert [o["number"] for o in c["orders"]] == ["A-%s-%02d" % (wa, k) for k in range(11, 1, -1)]
    assert c["orders"][0] == dict(c["orders"][0], status="shipped", ordered_on="2026-11-12", lines=2)
    assert [t["number"] for t in c["tickets"]] == ["T-%s" % wa]
    assert c["tickets"][0] == dict(c["tickets"][0], category="scratch", state="open",
                                   description="A scratch on the lid")
    # The PATCH answer is the same shape.
    p = ok(gw, "PATCH", "/conversations/%d" % cid, {"notes": "free text"})
    assert p["contact"] == c["contact"] and p["orders"] == c["orders"]


# --- Number scope -----------------------------------------------------------

def test_a_key_limited_to_a_number_sees_only_its_chats(gw):
    d, s = rand_wa(), rand_wa()
    tag = "scope%s" % os.urandom(3).hex()
    inbound(gw, d, "to default", name=tag + " d")
    inbound(gw, s, "to sales", name=tag + " s", pnid=SALES)
    dc, sc = conv_of(gw, d), conv_of(gw, s, SALES)
    assert set(ids(chats(gw, q=tag))) == {dc, sc}
    assert ids(chats(gw, q=tag, number="sales")) == [sc]
    st, b = call(gw, "GET", "/chats", key=gw.sales_key, q=tag)
    assert st == 200 and ids(b) == [sc] and b["data"][0]["number_label"] == "sales"
    st, b = call(gw, "GET", "/chats", key=gw.sales_key, number="default")
    assert st == 400 and b["error"]["code"] == "unknown_number"
    k = gw.sales_key
    nid = ok(gw, "POST", "/conversations/%d/notes" % dc, {"text": "default's"}, want=201)["id"]
    for method, path, body in (("GET", "/conversations/%d/notes" % dc, None),
                               ("POST", "/conversations/%d/notes" % dc, {"text": "x"}),
                               ("GET", "/conversations/%d/activity" % dc, None),
                               ("DELETE", "/notes/%d" % nid, None),
                               ("PATCH", "/conversations/%d" % dc, {"labels": ["leak"]})):
        st, b = call(gw, method, path, body, key=k)
        assert st == 404 and b["error"]["code"] == "not_found", (method, path, b)
    assert gw.q("SELECT count(*) AS n FROM conversation_notes WHERE conversation_id = ?", dc)[0]["n"] == 1
    assert gw.q("SELECT count(*) AS n FROM labels WHERE name = 'leak'")[0]["n"] == 0


# --- People signed in --------------------------------------------------------

class Person:
    """A signed-in person (auth's POST /session): cookie and CSRF token."""

    def __init__(self, s, name, role, *flags):
        self.id = add_user(s, name, role, *flags)
        self.s, self.name = s, name
        self.cookie, self.csrf = session(s, name)

    def call(self, method, path, body=None, **query):
        h = {"Cookie": self.cookie, "X-CSRF-Token": self.csrf}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        url = API + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        st, _, raw = self.s.request(method, url, body, h)
        return st, json.loads(raw) if raw else None


def test_people_mine_authorship_roles_and_numbers(gw):
    t = os.urandom(2).hex()
    dora = Person(gw, "dora" + t, "agent", "--display-name", "Dora Explorer")
    eve = Person(gw, "eve" + t, "agent")
    vic = Person(gw, "vic" + t, "viewer")
    sam = Person(gw, "sam" + t, "agent", "--number", "sales")
    tag = "people%s" % t
    wa, ws = rand_wa(), rand_wa()
    inbound(gw, wa, "hello", name=tag + " a")
    inbound(gw, ws, "hello sales", name=tag + " s", pnid=SALES)
    cid, sid = conv_of(gw, wa), conv_of(gw, ws, SALES)
    # Taking it over: mine for dora, not for eve; the activity names dora.
    st, b = dora.call("PATCH", "/conversations/%d" % cid, {"assignee": "person:" + dora.name})
    assert st == 200, b
    st, b = dora.call("GET", "/chats", mine="true", q=tag)
    assert st == 200 and ids(b) == [cid] and b["data"][0]["assignee_name"] == "Dora Explorer"
    assert ids(eve.call("GET", "/chats", mine="true", q=tag)[1]) == []
    # Notes: the author, and only they (or an admin) delete.
    st, n = dora.call("POST", "/conversations/%d/notes" % cid, {"text": "mine"})
    assert st == 201 and n["author"] == dora.name and n["user_id"] == dora.id
    st, b = eve.call("DELETE", "/notes/%d" % n["id"])
    assert st == 403 and b["error"]["code"] == "not_author"
    st, b = vic.call("POST", "/conversations/%d/notes" % cid, {"text": "viewer"})
    assert st == 403 and b["error"]["code"] == "forbidden_role"
    st, b = vic.call("DELETE", "/labels/1")
    assert st == 403 and b["error"]["code"] == "forbidden_role"
    assert vic.call("GET", "/chats", q=tag)[0] == 200
    assert dora.call("DELETE", "/notes/%d" % n["id"]) == (200, {"id": n["id"], "deleted": True})
    # Opening the chat marks it read, in eve's name.
    assert eve.call("POST", "/mark-read", {"conversation_id": cid})[0] == 200
    acts = [(a["kind"], a["actor"], a["user_id"]) for a in
            vic.call("GET", "/conversations/%d/activity" % cid)[1]["data"]]
    assert acts == [("assign", dora.name, dora.id), ("note", dora.name, dora.id),
                    ("note_deleted", dora.name, dora.id), ("read", eve.name, eve.id)]
    # A person limited to sales sees only its chats and changes.
    cur = sam.call("GET", "/changes")[1]["cursor"]
    inbound(gw, wa, "again")
    inbound(gw, ws, "again", pnid=SALES)
    assert sam.call("GET", "/changes", since=cur)[1]["conversations"] == [sid]
    assert ids(sam.call("GET", "/chats", q=tag)[1]) == [sid]
    st, b = sam.call("GET", "/conversations/%d/notes" % cid)
    assert st == 404


# --- Hand-off between the bot and people ------------------------------------

@pytest.fixture(scope="module")
def botgw():
    """The bot on (the default flow), answering through a fake Graph API."""
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": g.url})
    try:
        s.start()
        s.key = new_key(s, "inbox")
    except Exception:
        s.close()
        g.close()
        raise
    s.graph = g
    yield s
    s.close()
    g.close()


def test_bot_is_quiet_while_a_person_has_the_chat_and_answers_after(botgw):
    s, wa = botgw, rand_wa()

    def outbox():
        return s.q("SELECT count(*) AS n FROM outbox WHERE recipient = ? AND kind <> 'read'", wa)[0]["n"]
    inbound(s, wa, "hi")
    assert outbox() >= 1                       # the bot's menu, in the apply's transaction
    cid = conv_of(s, wa)
    base = outbox()
    # Take over (person:NAME): the bot says nothing.
    assert ok(s, "PATCH", "/conversations/%d" % cid, {"assignee": "person:dana"})["assignee"] == "person:dana"
    inbound(s, wa, "1")
    assert outbox() == base
    # Release (handed to people, nobody yet): still quiet.
    ok(s, "PATCH", "/conversations/%d" % cid, {"assignee": "person"})
    inbound(s, wa, "menu")
    assert outbox() == base
    assert ids(chats(s, state="unassigned")) == [cid]
    # Hand to the bot: it answers the next message.
    ok(s, "PATCH", "/conversations/%d" % cid, {"assignee": "bot"})
    inbound(s, wa, "menu")
    assert outbox() > base
    kinds = [a["kind"] for a in ok(s, "GET", "/conversations/%d/activity" % cid)["data"]]
    assert kinds == ["assign", "release", "handoff"]
