"""The management API through the real nginx: keys, auth failures, filters,
validation, pagination while rows are added, injection attempts, sending."""
import json
import os
import subprocess
import threading
import time
import urllib.parse

import pytest

from fake_graph import FakeGraph
from people import new_key, wactl
from stack import BUILD, TOP, Stack, fixture

API = "/api/whatsapp"
PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID


@pytest.fixture(scope="module")
def api():
    # Tests fire far more than nginx's 50 requests/s per client allow.
    # The worker sends what they queue to a fake Graph API on loopback.
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": g.url})
    try:
        s.start()
        s.key = new_key(s, "tests")
        s.ro_key = new_key(s, "reader", "--read-only")
    except Exception:
        s.close()
        g.close()
        raise
    s.graph = g
    yield s
    s.close()
    g.close()


def schema_version():
    """The newest `-- migrate: N` in schema.sql."""
    with open(os.path.join(TOP, "schema.sql")) as f:
        return max(int(l.split(":")[1]) for l in f if l.startswith("-- migrate:"))


def wait_outbox(s, oid, states, timeout=15):
    deadline = time.time() + timeout
    while True:
        row = s.q("SELECT * FROM outbox WHERE id = ?", oid)[0]
        if row["state"] in states:
            return row
        if time.time() > deadline:
            raise AssertionError("outbox %d still %s" % (oid, row))
        time.sleep(0.02)


def sends_for(g, oid):
    return [r for r in g.requests(MSGS) if (r["json"] or {}).get("biz_opaque_callback_data")
            == "outbox:%d" % oid]


def add_outbound(s, who, wamid, type_, status, ts):
    """An outbound message row for who's conversation, as the sender
    records one after Meta's answer."""
    with s.db() as c:
        c.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, contact_id, "
                  "recipient, type, text, timestamp, status, raw, created_at) SELECT v.phone_number_id, ?, "
                  "'out', v.id, v.contact_id, ?, ?, 'reply', ?, ?, '{}', ? FROM conversations v "
                  "JOIN contacts c ON c.id = v.contact_id WHERE c.wa_id = ?",
                  (wamid, who, type_, ts, status, ts, who))


def get(s, path, key=None):
    st, h, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + (key or s.key)})
    return st, json.loads(b) if b else None


def post_json(s, path, doc, key=None, headers=None):
    h = {"Authorization": "Bearer " + (key or s.key), "Content-Type": "application/json"}
    h.update(headers or {})
    st, _, b = s.request("POST", API + path, json.dumps(doc).encode(), h)
    return st, json.loads(b)


def inbound(s, sender, text, ts=None, type_=None):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(ts or int(time.time())),
              "id": "wamid.api.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    return m["id"]


def test_keys_are_stored_as_hashes_only(api):
    rows = api.q("SELECT name, key_sha256, key_prefix, read_only FROM api_keys ORDER BY id")
    # The fixture's two keys come first; other tests may add more.
    assert [(r["name"], r["read_only"]) for r in rows[:2]] == [("tests", 0), ("reader", 1)]
    assert all(api.key not in json.dumps(r) for r in rows)
    assert rows[0]["key_prefix"] == api.key[:8] and len(rows[0]["key_sha256"]) == 64
    out = wactl(api, "apikey", "list").stdout
    assert "tests" in out and "read-only" in out and api.key not in out
    assert wactl(api, "apikey", "create", "tests").returncode == 1   # name taken


@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer nope", "Basic dXNlcjpwYXNz",
                                  "Bearer wa_0000000000000000000000000000000000000000"])
def test_auth_failures_are_401(api, auth):
    h = {"Authorization": auth} if auth else {}
    st, hdrs, b = api.request("GET", API + "/messages", headers=h)
    assert st == 401
    assert hdrs["WWW-Authenticate"].startswith("Bearer realm=\"wa-gateway\"")
    assert json.loads(b)["error"]["code"] == "unauthorized"


def test_read_only_key_reads_but_cannot_write(api):
    assert get(api, "/messages", key=api.ro_key)[0] == 200
    st, body = post_json(api, "/send", {"to": "15550002222", "type": "text", "text": {"body": "x"}},
                         key=api.ro_key)
    assert st == 403 and body["error"]["code"] == "read_only_key"


def test_revoked_key_refused(api):
    k = new_key(api, "temp")
    assert get(api, "/messages", key=k)[0] == 200
    assert wactl(api, "apikey", "revoke", "temp").returncode == 0
    assert get(api, "/messages", key=k)[0] == 401
    assert wactl(api, "apikey", "revoke", "temp").returncode == 1


def test_health_and_webhook_stay_open(api):
    # No API key: the health page and Meta's handshake answer anyway.
    st, h, b = api.request("GET", API + "/health")
    assert st == 200 and h["Content-Type"].startswith("application/json")
    doc = json.loads(b)
    assert doc["database"] == "ok" and doc["schema_version"] == schema_version()
    assert doc["worker"]["heartbeat_age_s"] is not None
    st, _, b = api.request("GET", API + "/webhook?hub.mode=subscribe&hub.challenge=4242&hub.verify_token="
                           + api.verify_token)
    assert st == 200 and b == b"4242"


def test_unknown_route_and_method(api):
    st, _, b = api.request("GET", API + "/nope", headers={"Authorization": "Bearer " + api.key})
    assert st == 404
    st, h, b = api.request("DELETE", API + "/messages", headers={"Authorization": "Bearer " + api.key})
    assert st == 405 and h["Allow"] == "GET" and json.loads(b)["error"]["code"] == "method_not_allowed"


def test_message_filters(api):
    now = int(time.time())
    a, b = "15550610001", "15550610002"
    inbound(api, a, "first from a", ts=now - 100)
    inbound(api, b, "from b", ts=now - 50)
    inbound(api, a, "second from a", ts=now - 10)
    api.wait_applied()
    st, body = get(api, "/messages?phone=%2B" + a)
    assert st == 200 and [m["text"] for m in body["data"]] == ["second from a", "first from a"]
    conv = body["data"][0]["conversation_id"]
    assert [m["text"] for m in get(api, "/messages?conversation_id=%d" % conv)[1]["data"]] == \
        ["second from a", "first from a"]
    got = get(api, "/messages?phone=%s&since=%d" % (a, now - 20))[1]["data"]
    assert [m["text"] for m in got] == ["second from a"]
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 20))
    assert [m["text"] for m in get(api, "/messages?phone=%s&until=%s" % (a, iso))[1]["data"]] == \
        ["first from a"]
    off = time.strftime("%Y-%m-%dT%H:%M:%S+01:00", time.gmtime(now - 20 + 3600))
    assert len(get(api, "/messages?phone=%s&since=%s" % (a, urllib.parse.quote(off)))[1]["data"]) == 1
    # One outbound image to a, read: each filter picks exactly its rows.
    add_outbound(api, a, "wamid.filters.out", "image", "read", now - 5)

    def texts(q):
        st, body = get(api, "/messages?phone=%s&%s" % (a, q))
        assert st == 200, body
        return [m["text"] for m in body["data"]]
    assert texts("direction=in") == ["second from a", "first from a"]
    assert texts("direction=out") == ["reply"]
    assert texts("type=text") == ["second from a", "first from a"]
    assert texts("type=image") == ["reply"]
    assert texts("status=read") == ["reply"]
    assert texts("status=delivered") == []


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
    ("cursor=-1", "cursor"), ("conversation_id=1.5", "conversation_id"), ("direction=sideways", "direction"),
    ("status=lost", "status"), ("since=yesterday", "since"), ("until=2026-13-01T00:00:00Z", "until"),
    ("phone=abc", "phone"), ("phone=123", "phone"), ("colour=red", "colour"), ("limit=%ZZ", "limit"),
    ("limit=5&limit=6", "limit"),
])
def test_message_validation_errors(api, query, field):
    st, body = get(api, "/messages?" + query)
    assert st == 400
    assert body["error"]["field"] == field and body["error"]["message"]
    assert body["error"]["code"] in ("bad_parameter", "unknown_parameter", "repeated_parameter")


@pytest.mark.parametrize("value", ["1' OR '1'='1", "1; DROP TABLE messages", "\" OR 1=1 --",
                                   "%27%20UNION%20SELECT%20*%20FROM%20api_keys--"])
def test_injection_attempts_are_refused_or_inert(api, value):
    inbound(api, "15550600000", "still here")
    api.wait_applied()
    for name in ("phone", "type", "conversation_id", "since", "cursor", "direction", "status"):
        st, body = get(api, "/messages?%s=%s" % (name, urllib.parse.quote(value, safe="%")))
        # type is free text: it simply matches nothing.
        assert (st == 400) or (st == 200 and body["data"] == []), (name, st, body)
    assert api.q("SELECT count(*) n FROM api_keys")[0]["n"] >= 2
    assert api.q("SELECT count(*) n FROM messages")[0]["n"] > 0


def test_pagination_stable_while_rows_are_added(api):
    who = "15550620000"
    for i in range(30):
        inbound(api, who, "msg %02d" % i)
    api.wait_applied()
    stop = threading.Event()

    def writer():
        i = 100
        while not stop.is_set():
            inbound(api, who, "msg %03d" % i)
            i += 1
    t = threading.Thread(target=writer)
    t.start()
    try:
        seen, cursor, pages = [], None, 0
        first_id = None
        while True:
            q = "/messages?phone=%s&limit=7" % who + ("&cursor=" + cursor if cursor else "")
            st, body = get(api, q)
            assert st == 200
            if first_id is None:
                first_id = body["data"][0]["id"]
            seen += [m["id"] for m in body["data"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
            time.sleep(0.02)
    finally:
        stop.set()
        t.join()
    assert len(seen) == len(set(seen))                      # nothing twice
    assert seen == sorted(seen, reverse=True)               # newest first
    ids = [r["id"] for r in api.q("SELECT m.id FROM messages m WHERE m.sender = ? AND m.id <= ? "
                                  "ORDER BY m.id DESC", who, first_id)]
    assert seen == ids                                      # nothing skipped
    assert pages >= 5


def test_conversations(api):
    who, seen = "15550630001", "15550630002"
    inbound(api, who, "hello")
    inbound(api, seen, "read me")
    api.wait_applied()
    assert post_json(api, "/mark-read", {"phone": seen})[0] == 200
    with api.db() as c:
        c.execute("UPDATE conversations SET assignee = 'person' WHERE contact_id = "
                  "(SELECT id FROM contacts WHERE wa_id = ?)", (seen,))
    st, body = get(api, "/conversations?unread=true&q=155506300&limit=200")
    assert st == 200
    mine = body["data"]
    assert [c["phone"] for c in mine] == [who]
    assert mine[0]["unread_count"] == 1 and mine[0]["assignee"] == "bot"
    st, body = get(api, "/conversations?unread=false&q=155506300&limit=200")
    assert [(c["phone"], c["unread_count"]) for c in body["data"]] == [(seen, 0)]
    assert [c["phone"] for c in get(api, "/conversations?assignee=person&q=155506300")[1]["data"]] == [seen]
    assert [c["phone"] for c in get(api, "/conversations?assignee=bot&q=155506300")[1]["data"]] == [who]
    st, one = get(api, "/conversations/%d" % mine[0]["id"])
    # One conversation is its list row plus the inbox's context (issue 14).
    assert st == 200 and {k: one[k] for k in mine[0]} == mine[0]
    assert set(one) - set(mine[0]) == {"contact", "orders", "tickets", "notes_count"}
    st, body = get(api, "/conversations/999999")
    assert st == 404 and body["error"]["code"] == "not_found"
    assert get(api, "/conversations?unread=maybe")[0] == 400


def test_send_idempotent_and_refusals(api):
    who = "15550640000"
    inbound(api, who, "hi")
    api.wait_applied()
    req = {"to": who, "type": "text", "text": {"body": "Your order shipped"}}
    st, a = post_json(api, "/send", req, headers={"Idempotency-Key": "ship-42"})
    assert st == 202 and a["state"] in ("queued", "sending") and a["repeated"] is False
    st, b = post_json(api, "/send", req, headers={"Idempotency-Key": "ship-42"})
    assert st == 202 and b["id"] == a["id"] and b["repeated"] is True
    assert api.q("SELECT count(*) n FROM outbox WHERE idempotency_key = 'ship-42'")[0]["n"] == 1
    st, row = get(api, "/outbox/%d" % a["id"])
    assert st == 200 and row["source"] == "api" and row["recipient"] == who
    assert get(api, "/outbox/999999")[0] == 404
    st, e = post_json(api, "/send", {"to": who, "type": "text", "text": {"body": "x" * 4097}})
    assert st == 422 and e["error"]["code"] == "too_long" and e["error"]["field"] == "text.body"
    st, e = post_json(api, "/send", {"to": "15550649999", "type": "text", "text": {"body": "cold"}})
    assert st == 409 and e["error"]["code"] == "window_closed"
    st, e = post_json(api, "/send", {"to": who, "type": "image", "image": {"file": "/etc/passwd"}})
    assert st == 422 and e["error"]["code"] == "file_not_allowed"
    st, _, b = api.request("POST", API + "/send", b"{}", {"Authorization": "Bearer " + api.key,
                                                          "Content-Type": "text/plain"})
    assert st == 415
    st, _, b = api.request("POST", API + "/send", b"{not json", {"Authorization": "Bearer " + api.key,
                                                                 "Content-Type": "application/json"})
    assert st == 422 and json.loads(b)["error"]["code"] == "bad_json"
    st, e = post_json(api, "/send", req, headers={"Idempotency-Key": "k" * 129})
    assert st == 400 and e["error"]["field"] == "Idempotency-Key"


def test_full_text_search_unicode_and_safe(api):
    who = "15550650000"
    inbound(api, who, "Die Lieferung für Auftrag A-77 ist beschädigt 😞")
    inbound(api, who, "Ordre 88: la pièce est cassée")
    inbound(api, who, "nothing to see here")
    api.wait_applied()

    def search(q, extra=""):
        st, body = get(api, "/messages?q=%s%s" % (urllib.parse.quote(q), extra))
        assert st == 200, body
        return [m["text"] for m in body["data"]]
    assert search("beschädigt") == ["Die Lieferung für Auftrag A-77 ist beschädigt 😞"]
    assert search("beschadigt") == ["Die Lieferung für Auftrag A-77 ist beschädigt 😞"]  # diacritics
    assert search("PIECE cassee") == ["Ordre 88: la pièce est cassée"]
    assert search("cassée", "&phone=15550659999") == []
    # FTS5 syntax in q is taken as words, never as an operator or an error.
    assert search('pièce" OR "nothing') == []
    assert search("NEAR(pièce cassée)") == []           # "near" is a word here
    assert search("A-77") == ["Die Lieferung für Auftrag A-77 ist beschädigt 😞"]
    st, body = get(api, "/messages?q=%22%20*%20%22")
    assert st == 400 and body["error"]["field"] == "q"


def test_conversation_messages_patch_and_mark_read(api):
    who = "15550660000"
    inbound(api, who, "one")
    inbound(api, who, "two")
    api.wait_applied()
    conv = get(api, "/messages?phone=" + who)[1]["data"][0]["conversation_id"]
    st, body = get(api, "/conversations/%d/messages?limit=1" % conv)
    assert st == 200 and [m["text"] for m in body["data"]] == ["two"] and body["next_cursor"]
    st, body = get(api, "/conversations/%d/messages?cursor=%s" % (conv, body["next_cursor"]))
    assert [m["text"] for m in body["data"]] == ["one"] and body["next_cursor"] is None
    h = {"Authorization": "Bearer " + api.key, "Content-Type": "application/json"}

    def patch(doc, cid=conv):
        st, _, b = api.request("PATCH", API + "/conversations/%d" % cid, json.dumps(doc).encode(), h)
        return st, json.loads(b)
    st, row = patch({"notes": "VIP — ships Fridays", "labels": ["vip", "eu"],
                     "customer_email": "buyer@example.com", "assignee": "person:Dana"})
    assert st == 200 and row["notes"] == "VIP — ships Fridays" and row["labels"] == ["vip", "eu"]
    assert row["customer_email"] == "buyer@example.com" and row["assignee"] == "person:Dana"
    st, row = patch({"notes": None})
    assert st == 200 and row["notes"] is None and row["labels"] == ["vip", "eu"]   # others kept
    for doc, field in [({"colour": "red"}, "colour"), ({"labels": ["x" * 41]}, "labels"),
                       ({"assignee": "someone"}, "assignee"), ({"customer_email": "nope"}, "customer_email"),
                       ({"notes": 5}, "notes")]:
        st, e = patch(doc)
        assert st == 422 and e["error"]["field"] == field
    assert patch({"notes": "x"}, cid=999999)[0] == 404
    assert api.q("SELECT unread_count FROM conversations WHERE id = ?", conv)[0]["unread_count"] == 2
    st, r = post_json(api, "/mark-read", {"phone": "+" + who})
    assert st == 200 and r["conversation_id"] == conv and r["read_receipt_outbox_id"]
    assert api.q("SELECT unread_count FROM conversations WHERE id = ?", conv)[0]["unread_count"] == 0
    rr = api.q("SELECT kind, body FROM outbox WHERE id = ?", r["read_receipt_outbox_id"])[0]
    last = get(api, "/messages?phone=" + who + "&limit=1")[1]["data"][0]["wamid"]
    assert rr["kind"] == "read" and json.loads(rr["body"])["message_id"] == last
    assert post_json(api, "/mark-read", {"conversation_id": 999999})[0] == 404
    assert post_json(api, "/mark-read", {"phone": "abc"})[0] == 422
    assert post_json(api, "/mark-read", {"phone": "1" * 21})[0] == 422


def test_outbox_list_retry_cancel(api):
    who = "15550670000"
    inbound(api, who, "hi")
    api.wait_applied()
    # A row Meta refused (undeliverable: no retry), and one still waiting.
    # (The fake forgets earlier calls: an erased contact's outbox id can
    # be given out again, and its old call would count here.)
    api.graph.reset()
    api.graph.inject(code=131026, times=1, match={"to": who})
    st, a = post_json(api, "/send", {"to": who, "type": "text", "text": {"body": "a"}})
    assert st == 202
    failed = wait_outbox(api, a["id"], ("failed",))
    assert failed["error_code"] == 131026 and failed["attempts"] == 1
    assert [r["status"] for r in sends_for(api.graph, a["id"])] == [400]
    with api.db() as c:
        cur = c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                        "next_attempt_at, created_at) VALUES ('200300400500600', ?, 'text', '{}', 1, "
                        "'api', 9999999999999, 0)", (who,))
        queued = cur.lastrowid
    st, body = get(api, "/outbox?state=failed")
    assert st == 200 and a["id"] in [r["id"] for r in body["data"]]
    assert all(r["state"] == "failed" for r in body["data"])
    assert get(api, "/outbox?state=lost")[0] == 400
    st, _, b = api.request("DELETE", API + "/outbox/%d" % a["id"], headers={"Authorization": "Bearer " + api.key})
    assert st == 409 and json.loads(b)["error"]["code"] == "wrong_state"
    st, _, b = api.request("DELETE", API + "/outbox/%d" % queued, headers={"Authorization": "Bearer " + api.key})
    assert st == 200 and json.loads(b)["state"] == "cancelled"
    st, row = post_json(api, "/outbox/%d/retry" % a["id"], {})
    assert st == 200 and row["id"] == a["id"]
    # The retry really happened: a second call reached Meta, and the row's
    # attempts (reset by the retry) counted it.
    done = wait_outbox(api, a["id"], ("accepted", "failed"))
    assert done["state"] == "accepted" and done["attempts"] == 1 and done["wamid"]
    calls = sends_for(api.graph, a["id"])
    assert [r["status"] for r in calls] == [400, 200]
    assert calls[1]["reply"]["messages"][0]["id"] == done["wamid"]
    assert post_json(api, "/outbox/%d/retry" % queued, {})[0] == 409
    assert post_json(api, "/outbox/999999/retry", {})[0] == 404


def test_webhook_events_and_replay_after_fix(api):
    body = fixture("text.json")
    st, _, raw = api.request("GET", API + "/webhook-events?limit=1", headers={"Authorization": "Bearer " + api.key})
    assert st == 200
    # A body whose only message cannot be applied: its wamid is too long.
    doc = json.loads(body)
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid." + "x" * 200
    bad = json.dumps(doc).encode()
    st, _, r = api.post(bad)
    eid = json.loads(r)["stored"]
    api.wait_applied()
    st, ev = get(api, "/webhook-events/%d" % eid)
    assert st == 200 and ev["state"] == "failed" and ev["error"] and ev["body"] == bad.decode()
    assert eid in [e["id"] for e in get(api, "/webhook-events?result=failed")[1]["data"]]
    assert get(api, "/webhook-events?result=maybe")[0] == 400
    # The fix (here: the operator corrects the stored item), then a replay.
    with api.db() as c:
        c.execute("UPDATE webhook_events SET body = ? WHERE id = ?",
                  (bad.replace(b"wamid." + b"x" * 200, b"wamid.replayed.1"), eid))
    st, ev = post_json(api, "/webhook-events/%d/replay" % eid, {})
    assert st == 200 and ev["state"] in ("pending", "applied")
    api.wait_applied()
    assert get(api, "/webhook-events/%d" % eid)[1]["state"] == "applied"
    assert api.q("SELECT count(*) n FROM messages WHERE wamid = 'wamid.replayed.1'")[0]["n"] == 1
    assert post_json(api, "/webhook-events/999999/replay", {})[0] == 404


def test_status_names_settings_never_values(api):
    st, body = get(api, "/status")
    assert st == 200
    assert body["settings"]["WHATSAPP_APP_SECRET"] is True
    assert body["settings"]["WA_SYNCHRONOUS"] == "FULL"
    text = json.dumps(body)
    assert api.secret not in text and api.verify_token not in text and "test-token" not in text
    api.wait_applied()
    assert body["schema_version"] == schema_version()
    assert get(api, "/status")[1]["journal_backlog"] == 0
    assert body["version"] == wactl(api, "version").stdout.split()[1].rstrip(",")
    assert "outbox_queued" in body and "last_webhook_at_ms" in body


def test_rate_limit_answers_429_in_the_error_shape():
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "2"})
    try:
        s.start()
        key = new_key(s, "k")
        codes = [s.request("GET", API + "/messages", headers={"Authorization": "Bearer " + key})
                 for _ in range(150)]
        limited = [c for c in codes if c[0] == 429]
        assert limited and json.loads(limited[0][2])["error"]["code"] == "rate_limited"
        assert any(c[0] == 200 for c in codes)
    finally:
        s.close()


def test_contacts_list_get(api):
    who, gone = "15550680000", "15550680001"
    inbound(api, who, "hello")
    inbound(api, gone, "bye")
    api.wait_applied()
    with api.db() as c:
        c.execute("UPDATE contacts SET opted_out = 1, opted_out_at = ? WHERE wa_id = ?",
                  (int(time.time()), gone))
    st, body = get(api, "/contacts?q=0680000&limit=200")
    assert st == 200 and [c["phone"] for c in body["data"]] == [who]
    assert [c["phone"] for c in get(api, "/contacts?q=Alice%20Ex&limit=200")[1]["data"]].count(who) == 1
    assert get(api, "/contacts?q=%25")[1]["data"] == []          # % is literal, not a wildcard
    assert [(c["phone"], c["opted_out"]) for c in get(api, "/contacts?q=155506800&opted_out=false")[1]
            ["data"]] == [(who, 0)]
    assert [(c["phone"], c["opted_out"]) for c in get(api, "/contacts?q=155506800&opted_out=true")[1]
            ["data"]] == [(gone, 1)]
    st, one = get(api, "/contacts/" + who)
    assert st == 200 and one["phone"] == who and one["conversation_id"]
    assert get(api, "/contacts/15559999999")[0] == 404
    st, _, b = api.request("GET", API + "/contacts/abc", headers={"Authorization": "Bearer " + api.key})
    assert st == 404 and json.loads(b)["error"]["message"] == "No such endpoint."


def test_export_and_erase_leave_nothing(api):
    who, other = "15550690000", "15550690001"
    inbound(api, who, "my secret order 123")
    inbound(api, other, "someone else")
    api.wait_applied()
    st, sent = post_json(api, "/send", {"to": who, "type": "text", "text": {"body": "reply"}})
    assert st == 202 and wait_outbox(api, sent["id"], ("accepted",))["state"] == "accepted"
    mid = api.q("SELECT id, webhook_event_id FROM messages WHERE sender = ?", who)[0]
    os.makedirs(os.path.join(api.state, "media", "ab"), exist_ok=True)
    for name, owner in (("ab/only-his", mid["id"]), ("ab/shared", mid["id"])):
        with open(os.path.join(api.state, "media", name), "wb") as f:
            f.write(b"photo")
    other_mid = api.q("SELECT id FROM messages WHERE sender = ?", other)[0]["id"]
    with api.db() as c:
        for n, (path, m) in enumerate((("ab/only-his", mid["id"]), ("ab/shared", mid["id"]),
                                       ("ab/shared", other_mid))):
            c.execute("INSERT INTO media (phone_number_id, media_id, direction, message_id, path, state, "
                      "created_at) VALUES ('200300400500600', ?, 'in', ?, ?, 'stored', 0)",
                      ("m%d-%s" % (n, who), m, path))
    st, ex = get(api, "/contacts/%s/export" % who)
    assert st == 200 and ex["contact"]["phone"] == who
    assert [(m["direction"], m["text"]) for m in ex["messages"]] == [("in", "my secret order 123"),
                                                                   ("out", "reply")]
    assert len(ex["conversations"]) == 1 and len(ex["media"]) == 2 and len(ex["outbox"]) == 1
    st, _, b = api.request("DELETE", API + "/contacts/" + who, headers={"Authorization": "Bearer " + api.key})
    assert st == 200 and json.loads(b)["files_deleted"] == 1
    assert not os.path.exists(os.path.join(api.state, "media", "ab", "only-his"))
    assert os.path.exists(os.path.join(api.state, "media", "ab", "shared"))      # still someone's
    for sql in ("SELECT count(*) n FROM contacts WHERE wa_id = ?",
                "SELECT count(*) n FROM messages WHERE sender = ? OR recipient = ?",
                "SELECT count(*) n FROM outbox WHERE recipient = ?",
                "SELECT count(*) n FROM message_statuses WHERE recipient_id = ?"):
        assert api.q(sql, *([who] * sql.count("?")))[0]["n"] == 0, sql
    assert api.q("SELECT body FROM webhook_events WHERE id = ?", mid["webhook_event_id"])[0]["body"] is None
    assert get(api, "/messages?q=secret")[1]["data"] == []       # gone from the search index too
    assert get(api, "/contacts/" + who)[0] == 404
    assert get(api, "/contacts/%s/export" % who)[0] == 404
    assert get(api, "/contacts/" + other)[0] == 200


def test_backup_while_running(api):
    import sqlite3
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            inbound(api, "1555070%04d" % (i % 100), "load %d" % i)
            i += 1
    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.2)
        out = os.path.join(api.state, "backup.db")
        r = wactl(api, "backup", out)
    finally:
        stop.set()
        t.join()
    assert r.returncode == 0, r.stderr
    assert "integrity_check ok" in r.stdout
    assert not os.path.exists(out + ".tmp")
    c = sqlite3.connect(out)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA user_version").fetchone()[0] >= 4
        n = c.execute("SELECT count(*) FROM webhook_events").fetchone()[0]
        assert 0 < n <= api.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    finally:
        c.close()
    r = wactl(api, "backup", "/nonexistent/dir/x.db")
    assert r.returncode == 1


def test_stats_exact_on_a_known_data_set():
    """A fresh database with a known day: every number of /stats is
    checked exactly (seconds as seconds, the window's edges kept)."""
    s = Stack(extra_env={"WA_BOT": "off"})
    try:
        s.start()
        key = new_key(s, "stats")
        base = int(time.time()) - 3600
        a, b, c, d = "15550710001", "15550710002", "15550710003", "15550710004"
        inbound(s, d, "long ago", ts=base - 500)      # before the window: d is not new
        inbound(s, a, "need help", ts=base)
        inbound(s, b, "where is it", ts=base + 5)
        inbound(s, c, "hello?", ts=base + 20)
        inbound(s, d, "me again", ts=base + 30)
        inbound(s, a, "thanks", ts=base + 50)
        s.wait_applied()
        add_outbound(s, a, "wamid.stats.a", "text", "read", base + 12)       # 12 s
        add_outbound(s, b, "wamid.stats.b", "image", "delivered", base + 45)  # 40 s
        with s.db() as conn:
            day = time.strftime("%Y-%m-%d", time.gmtime(base))
            old_day = time.strftime("%Y-%m-%d", time.gmtime(base - 3 * 86400))
            conn.executemany("INSERT INTO bot_choices VALUES (?, ?, ?, ?, ?)",
                             [(PNID, day, "main", "orders", 3), (PNID, day, "main", "help", 1),
                              (PNID, old_day, "main", "schedule", 9)])
            for code, title, created in ((131047, "Re-engagement message", base + 1),
                                         (131047, "Re-engagement message", base + 2),
                                         (131026, "Message undeliverable", base + 3),
                                         (131047, "Re-engagement message", base - 500)):
                conn.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                             "state, error_code, error_title, next_attempt_at, created_at) VALUES (?, ?, "
                             "'text', '{}', 1, 'api', 'failed', ?, ?, 0, ?)",
                             (PNID, a, code, title, created * 1000))
        st, got = get(s, "/stats?since=%d&until=%d" % (base - 10, base + 100), key=key)
        assert st == 200, got
        assert (got["since"], got["until"]) == (base - 10, base + 100)

        def day_of(t):
            return time.strftime("%Y-%m-%d", time.gmtime(t))
        want = {}
        for t, direction, type_, status in ((base, "in", "text", ""), (base + 5, "in", "text", ""),
                                            (base + 20, "in", "text", ""), (base + 30, "in", "text", ""),
                                            (base + 50, "in", "text", ""),
                                            (base + 12, "out", "text", "read"),
                                            (base + 45, "out", "image", "delivered")):
            k = (day_of(t), direction, type_, status)
            want[k] = want.get(k, 0) + 1
        assert sorted((m["day"], m["direction"], m["type"], m["status"], m["messages"])
                      for m in got["messages"]) == sorted(k + (n,) for k, n in want.items())
        assert got["unique_contacts"] == 4 and got["new_contacts"] == 3
        # a: 12 s and unanswered; b: 40 s; c, d: unanswered.
        assert got["first_reply_seconds"] == {"p50": 12, "p95": 40, "answered": 2, "unanswered": 3}
        assert got["failures"] == [{"code": 131047, "title": "Re-engagement message", "failures": 2},
                                   {"code": 131026, "title": "Message undeliverable", "failures": 1}]
        assert got["menu_options"] == [{"node": "main", "option": "orders", "chosen": 3},
                                       {"node": "main", "option": "help", "chosen": 1}]
        assert get(s, "/stats?since=%d&until=%d" % (base, base - 10), key=key)[0] == 400
    finally:
        s.close()


def test_metrics(api):
    inbound(api, "15550720000", "metrics please")
    api.wait_applied()
    assert api.post(b"{}", signature="sha256=" + "0" * 64)[0] == 403
    r = wactl(api, "send", "--to", "15550729999", "--text", "cold")
    assert r.returncode == 1 and "window_closed" in r.stderr
    st, h, body = api.request("GET", API + "/metrics", headers={"Authorization": "Bearer " + api.key})
    assert st == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
    assert int(lines['wa_webhooks{result="applied"}']) >= 1
    assert float(lines['wa_webhook_ack_seconds_count']) >= 1
    assert float(lines['wa_webhook_ack_seconds_bucket{le="+Inf"}']) == \
        float(lines['wa_webhook_ack_seconds_count'])
    assert int(lines["wa_webhooks_refused_total"]) >= 1
    assert int(lines['wa_send_refusals_total{reason="window_closed"}']) >= 1
    assert "# TYPE wa_webhook_ack_seconds histogram" in text


def test_purge_dry_run_and_run(tmp_path):
    s = Stack(extra_env={"WA_BOT": "off", "WA_RETAIN_JOURNAL_DAYS": "1",
                         "WA_RETAIN_MESSAGES_DAYS": "2", "WA_RETAIN_MEDIA_DAYS": "1"})
    try:
        s.start()
        now = int(time.time())
        old, new = inbound(s, "15550730001", "old", ts=now - 3 * 86400), inbound(s, "15550730002", "new")
        s.wait_applied()
        os.makedirs(os.path.join(s.state, "media", "cd"), exist_ok=True)
        with open(os.path.join(s.state, "media", "cd", "oldfile"), "wb") as f:
            f.write(b"x")
        with s.db() as c:
            c.execute("UPDATE webhook_events SET received_at = ?", ((now - 2 * 86400) * 1000,))
            mid = c.execute("SELECT id FROM messages WHERE wamid = ?", (new,)).fetchone()[0]
            c.execute("INSERT INTO media (phone_number_id, media_id, direction, message_id, path, state, "
                      "created_at, stored_at) VALUES ('200300400500600', 'old-media', 'in', ?, "
                      "'cd/oldfile', 'stored', 0, ?)", (mid, now - 2 * 86400))
        r = wactl(s, "purge", "--dry-run")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("would remove 2 journal bodies (older than 1 days), 1 messages (2 days), "
                                   "1 media files (1 days)")
        assert s.q("SELECT count(*) n FROM webhook_events WHERE body IS NULL")[0]["n"] == 0
        r = wactl(s, "purge")
        assert r.returncode == 0 and r.stdout.startswith("removed 2 journal bodies")
        assert s.q("SELECT count(*) n FROM webhook_events WHERE body IS NOT NULL")[0]["n"] == 0
        assert [m["wamid"] for m in s.q("SELECT wamid FROM messages")] == [new]
        assert s.q("SELECT path, error FROM media")[0] == {"path": None, "error": "purged by retention"}
        assert not os.path.exists(os.path.join(s.state, "media", "cd", "oldfile"))
        assert wactl(s, "purge", "--dry-run").stdout.startswith("would remove 0 journal bodies")
    finally:
        s.close()


def test_wactl_as_a_client(api):
    who = "15550740000"
    inbound(api, who, "Ölwechsel bitte, Auftrag 4711\nzweite Zeile")
    api.wait_applied()
    env = dict(api.env, WA_URL="http://127.0.0.1:%d/" % api.port, WA_API_KEY=api.key)

    def run(*args, key=None, stdin=None):
        e = dict(env, WA_API_KEY=key) if key else env
        return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=e, input=stdin,
                              capture_output=True, text=True, timeout=20)
    r = run("messages", "--phone", who)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "(UTC)", "NUMBER", "DIR", "PHONE", "TYPE", "STATUS", "TEXT"]
    assert "Ölwechsel bitte, Auftrag 4711 zweite Zeile" in lines[1] and who in lines[1]
    assert lines[1].split()[3] == "default"     # the row's number, by label
    r = run("messages", "--search", "Ölwechsel", "--json")
    assert r.returncode == 0 and [m["phone"] for m in json.loads(r.stdout)["data"]] == [who]
    r = run("conversations", "--unread", "--limit", "200")
    assert r.returncode == 0 and who in r.stdout and "Alice Example" in r.stdout
    r = run("send", "--to", who, "--text", "via the API")
    assert r.returncode == 0, r.stderr
    oid = int(r.stdout)
    assert api.q("SELECT source FROM outbox WHERE id = ?", oid)[0]["source"] == "api"
    r = run("send", stdin=json.dumps({"to": who, "type": "text", "text": {"body": ""}}))
    assert r.returncode == 1 and r.stderr.startswith("refused: empty: text.body: ")
    r = run("messages", key="wa_wrong")
    assert r.returncode == 1 and r.stderr.startswith("refused: unauthorized")
    r = run("messages", "--limit", "500")
    assert r.returncode == 1 and "refused: bad_parameter: limit" in r.stderr
    r = subprocess.run([os.path.join(BUILD, "wactl"), "messages"], env=api.env, capture_output=True, text=True)
    assert r.returncode == 1 and "WA_URL" in r.stderr


def test_conversations_search_and_embedded_messages(api):
    who = "15550750000"
    for t in ("a", "b", "c"):
        inbound(api, who, t)
    api.wait_applied()
    st, body = get(api, "/conversations?q=0750000&messages=2")
    assert st == 200 and len(body["data"]) == 1
    assert [m["text"] for m in body["data"][0]["messages"]] == ["c", "b"]
    # "_" is a literal character (no phone, name or note here has one), not
    # LIKE's any-character wildcard, which would match every conversation.
    assert get(api, "/conversations?q=_")[1]["data"] == []
    assert "messages" not in get(api, "/conversations?q=0750000")[1]["data"][0]
    assert get(api, "/conversations?messages=21")[0] == 400


def test_send_template(api):
    who = "15550760000"
    inbound(api, who, "hi", ts=int(time.time()) - 30 * 3600)    # window closed: templates only
    api.wait_applied()
    st, row = post_json(api, "/send-template", {"to": who, "name": "order_update", "language": "en_US",
                                                "body_parameters": ["Alice", "A-1042"]},
                        headers={"Idempotency-Key": "tmpl-1"})
    assert st == 202 and row["kind"] == "template", row
    body = json.loads(api.q("SELECT body FROM outbox WHERE id = ?", row["id"])[0]["body"])
    assert body["template"] == {"name": "order_update", "language": {"code": "en_US"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Alice"}, {"type": "text", "text": "A-1042"}]}]}
    assert post_json(api, "/send-template", {"to": who, "name": "order_update", "language": "en_US",
                                             "body_parameters": ["Alice", "A-1042"]},
                     headers={"Idempotency-Key": "tmpl-1"})[1]["id"] == row["id"]
    st, e = post_json(api, "/send-template", {"to": who, "name": "Bad Name", "language": "en_US"})
    assert st == 422 and e["error"]["field"] == "template.name"
    st, e = post_json(api, "/send-template", {"to": who, "name": "x"})
    assert st == 422 and e["error"]["field"] == "language"
    st, e = post_json(api, "/send-template", {"to": who, "name": "x", "language": "en", "colour": 1})
    assert st == 422 and e["error"]["code"] == "unknown_field"
    st, e = post_json(api, "/send-template", {"to": who, "name": "x", "language": "en",
                                              "body_parameters": [1]})
    assert st == 422 and e["error"]["field"] == "body_parameters"


@pytest.mark.parametrize("path,names", [
    ("/conversations", ["unread", "assignee", "q", "messages", "cursor", "limit"]),
    ("/contacts", ["q", "opted_out", "cursor", "limit"]),
    ("/outbox", ["state", "cursor", "limit"]),
    ("/webhook-events", ["result", "cursor", "limit"]),
    ("/stats", ["since", "until"]),
])
def test_injection_in_every_list_parameter(api, path, names):
    before = {t: api.q("SELECT count(*) n FROM %s" % t)[0]["n"] for t in ("contacts", "api_keys", "outbox")}
    for value in ("1' OR '1'='1", "1; DROP TABLE contacts; --", "%' OR 1=1 --", "\\\" OR \"\"=\""):
        for name in names:
            st, body = get(api, "%s?%s=%s" % (path, name, urllib.parse.quote(value)))
            # Refused as a bad value, or taken literally and matching nothing.
            assert st == 400 or (st == 200 and body.get("data", []) == []), (path, name, value, st)
    after = {t: api.q("SELECT count(*) n FROM %s" % t)[0]["n"] for t in ("contacts", "api_keys", "outbox")}
    assert after == before


def test_time_window_variants_agree_and_page(api):
    now = int(time.time())
    base = now - 5000
    for i in range(9):
        inbound(api, "1555077%04d" % i, "w%d" % i, ts=base + i)
    api.wait_applied()

    def all_pages(q):
        ids, cursor = [], None
        while True:
            st, body = get(api, "/messages?%s&limit=4%s" % (q, "&cursor=" + cursor if cursor else ""))
            assert st == 200, body
            ids += [m["id"] for m in body["data"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return ids
    window = all_pages("since=%d&until=%d" % (base, base + 9))          # ids from the time index
    filtered = all_pages("since=%d&until=%d&direction=in" % (base, base + 9))  # the filtered variant
    want = [r["id"] for r in api.q("SELECT id FROM messages WHERE timestamp >= ? AND timestamp < ? "
                                   "ORDER BY id DESC", base, base + 9)]
    assert window == want == filtered and len(want) == 9
