"""The inbox's files and canned answers through the real nginx (issue 14):
media served by X-Accel-Redirect only after the responder checked the
caller, uploads within Meta's limits, sends of an upload, replies and
reactions, who sent each message, quick replies, and the daily statistics
the charts draw."""
import base64
import datetime
import hashlib
import json
import os
import time
import urllib.parse

import pytest

from fake_graph import FakeGraph
from people import add_user, new_key, session, wactl
from stack import Stack, inbound_doc, wait_until

API = "/api/whatsapp"
DEFAULT = "200300400500600"         # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
SALES_NODE = {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme Sales",
              "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
              "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
CUSTOMER = "15550002222"
MSGS = "/v23.0/%s/messages" % DEFAULT

class Person:
    """A signed-in person: the session cookie and its CSRF token."""

    def __init__(self, s, name):
        self.s = s
        self.cookie, self.csrf = session(s, name)

    def call(self, method, path, body=None, raw=None, ctype=None, query=None, csrf=True):
        h = {"Cookie": self.cookie}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        if body is not None:
            h["Content-Type"] = "application/json"
            raw = json.dumps(body).encode()
        elif ctype is not None:
            h["Content-Type"] = ctype
        url = API + path + ("?" + urllib.parse.urlencode(query) if query else "")
        st, hdr, data = self.s.request(method, url, raw, h)
        hdr = {k.lower(): v for k, v in hdr.items()}
        if hdr.get("content-type", "").startswith("application/json") and data:
            return st, hdr, json.loads(data)
        return st, hdr, data


@pytest.fixture(scope="module")
def gw():
    g = FakeGraph(token="test-token")
    s = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WA_SCRYPT_N": "1024",
                         "WA_LOGIN_RATE": "6000", "WA_LOGIN_BURST": "1000",
                         "WHATSAPP_GRAPH_URL": g.url})
    try:
        s.start()
        g.set_number(SALES, SALES_NODE)
        r = wactl(s, "numbers", "add", SALES, "--waba", "1110001110", "--label", "sales")
        assert r.returncode == 0, r.stderr
        s.key = new_key(s, "all")
        s.sales_key = new_key(s, "sales-only", "--number", "sales")
        s.alice = add_user(s, "alice", "agent", "--display-name", "Alice A")
        add_user(s, "vic", "viewer")
        add_user(s, "sam", "agent", "--number", "sales")
    except Exception:
        s.close()
        g.close()
        raise
    s.graph = g
    yield s
    s.close()
    g.close()


def call(s, method, path, key=None, body=None, query=None, raw=None, ctype=None, auth=True):
    """(status, headers, parsed JSON or raw bytes)."""
    h = {}
    if auth:
        h["Authorization"] = "Bearer " + (key or s.key)
    if body is not None:
        h["Content-Type"] = "application/json"
        raw = json.dumps(body).encode()
    elif ctype is not None:
        h["Content-Type"] = ctype
    url = API + path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
    st, hdr, data = s.request(method, url, raw, h)
    hdr = {k.lower(): v for k, v in hdr.items()}
    if hdr.get("content-type", "").startswith("application/json") and data:
        return st, hdr, json.loads(data)
    return st, hdr, data


def post_message(s, doc_name, kind, sender, obj=None, pnid=DEFAULT, text=None):
    """Posts a signed inbound message of fixture doc_name from sender, now
    (its window opens), with obj merged into its kind's object; returns
    the stored message's row once applied."""
    doc, m = inbound_doc(doc_name, pnid, sender, "media")
    if obj:
        m[kind].update(obj)
    if text is not None:
        m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()
    return s.q("SELECT * FROM messages WHERE wamid = ?", m["id"])[0]


def inbound_media(s, doc_name, kind, data, mime, pnid=DEFAULT, extra=None):
    """An inbound media message whose file the fake Graph API serves;
    waits until the worker stored it.  The message row."""
    mid = str(7700000000000000 + int.from_bytes(os.urandom(5), "big"))
    s.graph.add_media(mid, data, mime, phone_number_id=pnid)
    obj = {"id": mid, "mime_type": mime,
           "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
    obj.update(extra or {})
    row = post_message(s, doc_name, kind, CUSTOMER, obj, pnid=pnid)
    wait_until(lambda: s.q("SELECT state FROM media WHERE media_id = ?", mid)[0]["state"] == "stored",
               timeout=20, what="the media download")
    return row


def media_files(s):
    """Every file under the media directory, temporary ones included."""
    top = os.path.join(s.state, "media")
    out = set()
    for d, _, files in os.walk(top):
        out |= {os.path.relpath(os.path.join(d, f), top) for f in files}
    return out


# --------------------------------------------------------------- serving

def test_inbound_image_served_through_nginx(gw):
    data = os.urandom(40000)
    row = inbound_media(gw, "image.json", "image", data, "image/jpeg")
    st, h, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 200, body
    assert body == data
    assert h["content-type"] == "image/jpeg"
    assert "content-disposition" not in h
    assert "x-accel-redirect" not in h
    assert h["x-content-type-options"] == "nosniff"
    assert "sandbox" in h["content-security-policy"]
    assert h["cache-control"] == "private, max-age=86400"
    # The place nginx serves it from is internal: never asked directly.
    path = gw.q("SELECT path FROM media WHERE media_id = ?", row["media_id"])[0]["path"]
    assert os.path.exists(os.path.join(gw.state, "media", path))
    for p in ("/_media/" + path, "/_media/", "/_media/../wa.db"):
        st, _, raw = gw.request("GET", p, None, {"Authorization": "Bearer " + gw.key})
        assert st == 404 and data not in raw, p


def test_inbound_document_is_a_download_with_its_name(gw):
    data = b"%PDF-1.4 " + os.urandom(5000)
    row = inbound_media(gw, "document.json", "document", data, "application/pdf",
                        extra={"filename": '../évil"\r\nname.pdf'})
    st, h, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 200 and body == data
    assert h["content-type"] == "application/octet-stream"
    cd = h["content-disposition"]
    assert cd == ("attachment; filename=\"__vilname.pdf\"; "
                  "filename*=UTF-8''%C3%A9vilname.pdf"), cd


def test_a_long_name_is_cut_on_a_character(gw):
    data = b"%PDF-1.4 " + os.urandom(100)
    row = inbound_media(gw, "document.json", "document", data, "application/pdf",
                        extra={"filename": "a" + "\u00e9" * 300 + ".pdf"})
    st, h, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 200 and body == data
    star = h["content-disposition"].split("filename*=UTF-8''")[1]
    name = urllib.parse.unquote_to_bytes(star)
    assert 200 <= len(name) <= 240
    assert name.decode("utf-8") == "a" + "\u00e9" * ((len(name) - 1) // 2)


def test_html_is_never_served_inline(gw):
    data = b"<script>alert(1)</script>"
    row = inbound_media(gw, "image.json", "image", data, "text/html")
    st, h, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 200 and body == data
    assert h["content-type"] == "application/octet-stream"
    assert h["content-disposition"].startswith("attachment; ")


def test_media_needs_credentials(gw):
    row = inbound_media(gw, "image.json", "image", os.urandom(1000), "image/jpeg")
    st, _, body = call(gw, "GET", "/messages/%d/media" % row["id"], auth=False)
    assert st == 401 and body["error"]["code"] == "unauthorized"
    st, _, body = call(gw, "GET", "/messages/%d/media" % row["id"], key="not-a-key")
    assert st == 401 and body["error"]["code"] == "unauthorized"


def test_media_of_a_number_the_key_may_not_see(gw):
    row = inbound_media(gw, "image.json", "image", os.urandom(1000), "image/jpeg")
    st, _, body = call(gw, "GET", "/messages/%d/media" % row["id"], key=gw.sales_key)
    assert st == 404 and body["error"]["code"] == "not_found"
    data = os.urandom(2000)
    sales = inbound_media(gw, "image.json", "image", data, "image/jpeg", pnid=SALES)
    st, _, body = call(gw, "GET", "/messages/%d/media" % sales["id"], key=gw.sales_key)
    assert st == 200 and body == data
    st, _, body = call(gw, "GET", "/messages/999999999/media")
    assert st == 404 and body["error"]["code"] == "not_found"


def test_media_pending_failed_and_none(gw):
    # Meta does not know this id: the worker gives it up for good.
    row = post_message(gw, "image.json", "image", CUSTOMER,
                       {"id": "7799000000000001", "mime_type": "image/jpeg"})
    mid = "7799000000000001"
    wait_until(lambda: gw.q("SELECT state FROM media WHERE media_id = ?", mid)[0]["state"] == "failed",
               timeout=20, what="the download to fail")
    st, _, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 409 and body["error"]["code"] == "media_failed"
    err = gw.q("SELECT error FROM media WHERE media_id = ?", mid)[0]["error"]
    assert err and err in body["error"]["message"]
    # Waiting for its next try (far off): pending.
    with gw.db() as c:
        c.execute("UPDATE media SET state = 'pending', next_attempt_at = 9000000000000 "
                  "WHERE media_id = ?", (mid,))
    st, h, body = call(gw, "GET", "/messages/%d/media" % row["id"])
    assert st == 409 and body["error"]["code"] == "media_pending"
    assert h["retry-after"] == "5"
    text = post_message(gw, "text.json", "text", CUSTOMER, text="no file here")
    st, _, body = call(gw, "GET", "/messages/%d/media" % text["id"])
    assert st == 404 and body["error"]["code"] == "no_media"


# --------------------------------------------------------------- uploads

def upload(s, data, mime, filename=None, number=None, key=None):
    q = {}
    if filename:
        q["filename"] = filename
    if number:
        q["number"] = number
    return call(s, "POST", "/uploads", key=key, raw=data, ctype=mime, query=q)


def wait_accepted(s, oid):
    return wait_until(lambda: (lambda r: r if r["state"] in ("accepted", "failed") else None)(
        s.q("SELECT * FROM outbox WHERE id = ?", oid)[0]), timeout=20, what="outbox %d" % oid)


def sends_for(g, oid):
    return [r for r in g.requests(MSGS) if (r["json"] or {}).get("biz_opaque_callback_data")
            == "outbox:%d" % oid]


def test_upload_then_send_an_image(gw):
    post_message(gw, "text.json", "text", CUSTOMER, text="send me the photo")
    data = os.urandom(30000)
    st, _, up = upload(gw, data, "image/jpeg", filename="photo.jpg")
    assert st == 201, up
    assert up["kind"] == "image" and up["mime_type"] == "image/jpeg" and up["size"] == len(data)
    assert up["filename"] == "photo.jpg" and up["sha256"] == hashlib.sha256(data).hexdigest()
    row = gw.q("SELECT * FROM uploads WHERE id = ?", up["id"])[0]
    with open(os.path.join(gw.state, "media", row["path"]), "rb") as f:
        assert f.read() == data
    st, _, out = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "upload_id": up["id"],
                                                 "caption": "here it is"})
    assert st == 202, out
    ob = wait_accepted(gw, out["id"])
    assert ob["state"] == "accepted", ob
    ups = [r for r in gw.graph.requests() if r["path"].endswith("/media") and r["method"] == "POST"]
    assert ups and ups[-1]["upload"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert ups[-1]["upload"]["type"] == "image/jpeg"
    sent = sends_for(gw.graph, out["id"])[0]["json"]
    assert sent["type"] == "image"
    assert sent["image"] == {"id": ups[-1]["reply"]["id"], "caption": "here it is"}
    # The message sent shows its file again, byte for byte.
    msg = gw.q("SELECT * FROM messages WHERE wamid = ?", ob["wamid"])[0]
    assert msg["media_id"] == ups[-1]["reply"]["id"] and msg["mime_type"] == "image/jpeg"
    st, h, body = call(gw, "GET", "/messages/%d/media" % msg["id"])
    assert st == 200 and body == data and h["content-type"] == "image/jpeg"


def test_upload_of_a_document_keeps_its_name(gw):
    post_message(gw, "text.json", "text", CUSTOMER, text="the invoice please")
    data = b"%PDF-1.7 " + os.urandom(3000)
    st, _, up = upload(gw, data, "application/pdf", filename="Invoice 12.pdf")
    assert st == 201 and up["kind"] == "document"
    st, _, out = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "type": "document",
                                                 "upload_id": up["id"]})
    assert st == 202, out
    ob = wait_accepted(gw, out["id"])
    assert ob["state"] == "accepted", ob
    sent = sends_for(gw.graph, out["id"])[0]["json"]
    assert sent["document"]["filename"] == "Invoice 12.pdf"
    msg = gw.q("SELECT id FROM messages WHERE wamid = ?", ob["wamid"])[0]
    st, h, body = call(gw, "GET", "/messages/%d/media" % msg["id"])
    assert st == 200 and body == data
    assert h["content-disposition"].endswith("filename*=UTF-8''Invoice%2012.pdf")


def test_upload_limits_refuse_and_store_nothing(gw):
    before = media_files(gw)
    n = gw.q("SELECT count(*) n FROM uploads")[0]["n"]
    st, _, b = upload(gw, b"\xff" * (5 * 1024 * 1024 + 1), "image/jpeg")
    assert st == 413 and b["error"]["code"] == "too_large"
    assert "5120 KB" in b["error"]["message"]
    st, _, b = upload(gw, b"<html></html>", "text/html")
    assert st == 415 and b["error"]["code"] == "unsupported_type"
    assert "5 MB" in b["error"]["message"]
    st, _, b = upload(gw, b"", "image/png")
    assert st == 400 and b["error"]["code"] == "empty_file"
    # A static sticker is at most 100 KB; an animated one 500 KB.
    static = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * (100 * 1024)
    st, _, b = upload(gw, static, "image/webp")
    assert st == 413 and b["error"]["code"] == "too_large"
    assert "100 KB" in b["error"]["message"]
    assert media_files(gw) == before
    assert gw.q("SELECT count(*) n FROM uploads")[0]["n"] == n
    animated = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02" + b"\x00" * (100 * 1024)
    st, _, b = upload(gw, animated, "image/webp")
    assert st == 201 and b["kind"] == "sticker", b


def test_upload_for_a_number_and_wrong_sends(gw):
    st, _, up = upload(gw, os.urandom(500), "image/png", number="sales")
    assert st == 201 and up["phone_number_id"] == SALES
    post_message(gw, "text.json", "text", CUSTOMER, text="hi")
    st, _, b = call(gw, "POST", "/send", body={"to": CUSTOMER, "from": "default",
                                               "upload_id": up["id"]})
    assert st == 422 and b["error"]["code"] == "wrong_number"
    st, _, b = call(gw, "POST", "/send", body={"to": CUSTOMER, "upload_id": up["id"],
                                               "type": "video", "from": "sales"})
    assert st == 422 and b["error"]["code"] == "upload_kind"
    st, _, b = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "upload_id": 999999})
    assert st == 422 and b["error"]["code"] == "unknown_upload"
    # A file is named only through an upload: never by the caller.
    st, _, b = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "type": "image",
                                               "image": {"file": "/etc/passwd"}})
    assert st == 422 and b["error"]["code"] == "file_not_allowed"
    st, _, b = call(gw, "POST", "/send", body={"to": CUSTOMER, "upload_id": up["id"], "from": "sales",
                                               "image": {"file": "/etc/passwd"}})
    assert st == 422 and b["error"]["code"] == "conflict"


# ------------------------------------------------------ replies, reactions

def test_reply_to_and_reaction_reach_meta(gw):
    row = post_message(gw, "text.json", "text", CUSTOMER, text="is it ready?")
    st, _, out = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "type": "text",
                                                 "text": {"body": "yes"}, "reply_to": row["wamid"]})
    assert st == 202, out
    assert wait_accepted(gw, out["id"])["state"] == "accepted"
    sent = sends_for(gw.graph, out["id"])[0]["json"]
    assert sent["context"] == {"message_id": row["wamid"]}
    assert sent["text"] == {"body": "yes"}
    msg = gw.q("SELECT context_wamid FROM messages m JOIN outbox o ON o.message_id = m.id "
               "WHERE o.id = ?", out["id"])[0]
    assert msg["context_wamid"] == row["wamid"]
    st, _, out = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "type": "reaction", "reaction": {
        "message_id": row["wamid"], "emoji": "\U0001F44D"}})
    assert st == 202, out
    assert wait_accepted(gw, out["id"])["state"] == "accepted"
    sent = sends_for(gw.graph, out["id"])[0]["json"]
    assert sent["reaction"] == {"message_id": row["wamid"], "emoji": "\U0001F44D"}
    st, _, b = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "text": {"body": "x"},
                                               "reply_to": row["wamid"],
                                               "context": {"message_id": row["wamid"]}})
    assert st == 422 and b["error"]["code"] == "conflict"
    st, _, b = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER, "text": {"body": "x"}, "reply_to": 5})
    assert st == 422 and b["error"]["field"] == "reply_to"


def test_messages_say_who_sent_them(gw):
    row = post_message(gw, "text.json", "text", CUSTOMER, text="who is there?")
    now = int(time.time())
    with gw.db() as c:
        c.execute("INSERT INTO users (id, name, display_name, role, password_hash, password_at, "
                  "created_at) VALUES (41, 'ann', 'Ann Agent', 'agent', 'x', 0, 0)")
        for wamid, user in (("wamid.by.person", 41), ("wamid.by.bot", None), ("wamid.by.api", None)):
            c.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, "
                      "contact_id, recipient, type, text, timestamp, status, raw, created_at, user_id) "
                      "VALUES (?, ?, 'out', ?, ?, ?, 'text', 'hi', ?, 'sent', '{}', ?, ?)",
                      (DEFAULT, wamid, row["conversation_id"], row["contact_id"], CUSTOMER, now, now, user))
        c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                  "state, next_attempt_at, created_at, wamid) VALUES (?, ?, 'text', '{}', 1, 'bot', "
                  "'accepted', 0, 0, 'wamid.by.bot')", (DEFAULT, CUSTOMER))
    st, _, b = call(gw, "GET", "/conversations/%d/messages" % row["conversation_id"])
    assert st == 200, b
    by = {m["wamid"]: m["sent_by"] for m in b["data"]}
    assert by["wamid.by.person"] == {"kind": "person", "name": "Ann Agent"}
    assert by["wamid.by.bot"] == {"kind": "bot", "name": None}
    assert by["wamid.by.api"] == {"kind": "api", "name": None}
    assert by[row["wamid"]] is None


# ---------------------------------------------------------- quick replies

def test_quick_replies_crud_and_duplicates(gw):
    st, _, a = call(gw, "POST", "/quick-replies", body={"shortcut": "hours", "text": "We open 9-17."})
    assert st == 201, a
    assert a["shortcut"] == "hours" and a["text"] == "We open 9-17." and a["phone_number_id"] is None
    assert a["created_by"] == "api:all"
    st, _, b = call(gw, "POST", "/quick-replies", body={"shortcut": "hours", "text": "again"})
    assert st == 409 and b["error"]["code"] == "duplicate_shortcut"
    for bad in ("Hours", "a b", "x" * 33, "", "ä"):
        st, _, b = call(gw, "POST", "/quick-replies", body={"shortcut": bad, "text": "t"})
        assert st == 422 and b["error"]["field"] == "shortcut", bad
    st, _, b = call(gw, "POST", "/quick-replies", body={"shortcut": "long", "text": "x" * 4097})
    assert st == 422 and b["error"]["field"] == "text"
    st, _, b = call(gw, "POST", "/quick-replies", body={"shortcut": "nt"})
    assert st == 422 and b["error"]["code"] == "required"
    st, _, s2 = call(gw, "POST", "/quick-replies", body={"shortcut": "sales-hi", "text": "Hi from sales",
                                                       "number": SALES})
    assert st == 201 and s2["phone_number_id"] == SALES
    st, _, d2 = call(gw, "POST", "/quick-replies", body={"shortcut": "default-hi", "text": "Hi",
                                                       "number": DEFAULT})
    assert st == 201
    st, _, lst = call(gw, "GET", "/quick-replies")
    assert [q["shortcut"] for q in lst["data"]] == ["default-hi", "hours", "sales-hi"]
    # A key of sales sees every number's and sales' own, not default's.
    st, _, lst = call(gw, "GET", "/quick-replies", key=gw.sales_key)
    assert [q["shortcut"] for q in lst["data"]] == ["hours", "sales-hi"]
    st, _, b = call(gw, "PATCH", "/quick-replies/%d" % d2["id"], key=gw.sales_key, body={"text": "x"})
    assert st == 404 and b["error"]["code"] == "not_found"
    st, _, b = call(gw, "POST", "/quick-replies", key=gw.sales_key,
                    body={"shortcut": "sneaky", "text": "t", "number": DEFAULT})
    assert st == 422 and b["error"]["field"] == "number"
    st, _, p = call(gw, "PATCH", "/quick-replies/%d" % a["id"], body={"text": "We open 8-18."})
    assert st == 200 and p["text"] == "We open 8-18." and p["shortcut"] == "hours"
    st, _, b = call(gw, "PATCH", "/quick-replies/%d" % a["id"], body={"shortcut": "sales-hi"})
    assert st == 409 and b["error"]["code"] == "duplicate_shortcut"
    st, _, p = call(gw, "PATCH", "/quick-replies/%d" % s2["id"], body={"number": None})
    assert st == 200 and p["phone_number_id"] is None
    st, _, _ = call(gw, "DELETE", "/quick-replies/%d" % a["id"])
    assert st == 204
    st, _, b = call(gw, "DELETE", "/quick-replies/%d" % a["id"])
    assert st == 404
    st, _, lst = call(gw, "GET", "/quick-replies")
    assert [q["shortcut"] for q in lst["data"]] == ["default-hi", "sales-hi"]


# ------------------------------------------------------------ statistics

def day_ts(s, h=0, m=0):
    d = datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) + h * 3600 + m * 60


def test_stats_daily_on_known_data(gw):
    # March 2025 holds only what this test writes.
    with gw.db() as c:
        c.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at) "
                  "VALUES (?, '15559990001', 0, 0)", (DEFAULT,))
        ct = c.execute("SELECT id FROM contacts WHERE wa_id = '15559990001'").fetchone()[0]
        c.execute("INSERT INTO conversations (phone_number_id, contact_id, last_message_at, created_at) "
                  "VALUES (?, ?, ?, 0)", (DEFAULT, ct, day_ts("2025-03-03", 20)))
        cv = c.execute("SELECT id FROM conversations WHERE contact_id = ?", (ct,)).fetchone()[0]
        c.execute("INSERT OR IGNORE INTO users (id, name, role, password_hash, password_at, created_at) "
                  "VALUES (41, 'ann', 'agent', 'x', 0, 0)")
        n = [0]

        def msg(direction, ts, status=None, user=None, wamid=None):
            n[0] += 1
            c.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, "
                      "contact_id, sender, type, text, timestamp, status, raw, created_at, user_id) "
                      "VALUES (?, ?, ?, ?, ?, '15559990001', 'text', 't', ?, ?, '{}', 0, ?)",
                      (DEFAULT, wamid or "wamid.stats.%d" % n[0], direction, cv, ct, ts, status, user))
        # 1 March: a customer writes twice (one turn), a person answers 60 s after the first.
        msg("in", day_ts("2025-03-01", 10))
        msg("in", day_ts("2025-03-01", 10, 1))
        msg("out", day_ts("2025-03-01", 10, 1), "read", user=41)
        # ... then asks again; an API send is no reply, the bot answers after 300 s.
        msg("in", day_ts("2025-03-01", 12))
        msg("out", day_ts("2025-03-01", 12, 2), "delivered")
        msg("out", day_ts("2025-03-01", 12, 5), "failed", wamid="wamid.stats.bot")
        c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                  "state, next_attempt_at, created_at, wamid) VALUES (?, '15559990001', 'text', '{}', "
                  "1, 'bot', 'accepted', 0, ?, 'wamid.stats.bot')", (DEFAULT, day_ts("2025-03-01", 12) * 1000))
        # 3 March: a send Meta never took, and a question nobody answered.
        c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                  "state, next_attempt_at, created_at, error_code, error_title) VALUES (?, "
                  "'15559990001', 'text', '{}', 1, 'api', 'failed', 0, ?, 131047, 'Re-engagement')",
                  (DEFAULT, day_ts("2025-03-03", 9) * 1000))
        msg("in", day_ts("2025-03-03", 20))
        c.execute("INSERT INTO bot_choices VALUES (?, '2025-03-01', 'menu', 'order_status', 4)", (DEFAULT,))
        c.execute("INSERT INTO bot_choices VALUES (?, '2025-03-02', 'menu', 'help', 1)", (DEFAULT,))
    st, _, b = call(gw, "GET", "/stats/daily", query={"since": "2025-03-01T00:00:00Z",
                                                      "until": "2025-03-04T00:00:00Z"})
    assert st == 200, b
    assert not b["capped"]
    days = [(d["day"], d["in"], d["out"], d["failed"]) for d in b["days"]]
    assert days == [("2025-03-01", 3, 3, 1), ("2025-03-02", 0, 0, 0), ("2025-03-03", 1, 0, 1)]
    assert b["days"][0]["first_reply_seconds"] == {"p50": 60, "p95": 300, "answered": 2, "unanswered": 0}
    assert b["days"][2]["first_reply_seconds"] == {"p50": None, "p95": None, "answered": 0,
                                                   "unanswered": 1}
    assert b["first_reply_seconds"] == {"p50": 60, "p95": 300, "answered": 2, "unanswered": 1}
    assert [(o["option"], o["chosen"]) for o in b["menu_options"]] == [("order_status", 4), ("help", 1)]
    assert [(f["code"], f["failures"]) for f in b["failures"]] == [(131047, 1)]
    # Another number's key sees none of it.
    st, _, s2 = call(gw, "GET", "/stats/daily", key=gw.sales_key,
                     query={"since": "2025-03-01T00:00:00Z", "until": "2025-03-04T00:00:00Z"})
    assert st == 200 and all(d["in"] == 0 and d["out"] == 0 for d in s2["days"])
    st, _, b = call(gw, "GET", "/stats/daily", query={"since": "2025-03-04T00:00:00Z",
                                                      "until": "2025-03-01T00:00:00Z"})
    assert st == 400 and b["error"]["field"] == "since"
    st, _, b = call(gw, "GET", "/stats/daily", query={"since": "2020-01-01T00:00:00Z",
                                                      "until": "2025-03-01T00:00:00Z"})
    assert st == 200 and b["capped"] and len(b["days"]) in (366, 367)


# ---------------------------------------------------- people (sessions)

def test_media_with_a_session_cookie(gw):
    data = os.urandom(3000)
    row = inbound_media(gw, "image.json", "image", data, "image/jpeg")
    for name in ("alice", "vic"):
        st, h, body = Person(gw, name).call("GET", "/messages/%d/media" % row["id"], csrf=False)
        assert st == 200 and body == data and h["content-type"] == "image/jpeg", name
    st, _, body = Person(gw, "sam").call("GET", "/messages/%d/media" % row["id"])
    assert st == 404 and body["error"]["code"] == "not_found"
    st, _, body = gw.request("GET", API + "/messages/%d/media" % row["id"], None,
                             {"Cookie": "wa_session=" + "0" * 64})
    assert st == 401 and data not in body
    st, _, body = gw.request("GET", API + "/messages/%d/media" % row["id"])
    assert st == 401 and data not in body


def test_a_persons_send_records_who_sent_it(gw):
    post_message(gw, "text.json", "text", CUSTOMER, text="a photo please")
    alice = Person(gw, "alice")
    data = os.urandom(7000)
    before = media_files(gw)
    # A browser's write without its CSRF token stores nothing.
    st, _, b = alice.call("POST", "/uploads", raw=data, ctype="image/png", csrf=False)
    assert st == 403 and b["error"]["code"] == "csrf_failed"
    assert media_files(gw) == before
    st, _, up = alice.call("POST", "/uploads", raw=data, ctype="image/png")
    assert st == 201, up
    assert gw.q("SELECT user_id FROM uploads WHERE id = ?", up["id"])[0]["user_id"] == gw.alice
    st, _, out = alice.call("POST", "/send", body={"from": "default", "to": CUSTOMER,
                                                   "upload_id": up["id"]})
    assert st == 202, out
    ob = wait_accepted(gw, out["id"])
    assert ob["state"] == "accepted" and ob["user_id"] == gw.alice
    msg = gw.q("SELECT id, user_id, conversation_id FROM messages WHERE wamid = ?", ob["wamid"])[0]
    assert msg["user_id"] == gw.alice
    st, _, page = alice.call("GET", "/conversations/%d/messages" % msg["conversation_id"])
    m = [x for x in page["data"] if x["id"] == msg["id"]][0]
    assert m["sent_by"] == {"kind": "person", "name": "Alice A"}
    st, _, body = alice.call("GET", "/messages/%d/media" % msg["id"])
    assert st == 200 and body == data
    # A key's send keeps no user.
    st, _, out = call(gw, "POST", "/send", body={"from": "default", "to": CUSTOMER,
                                                 "text": {"body": "from a script"}})
    assert st == 202
    assert gw.q("SELECT user_id FROM outbox WHERE id = ?", out["id"])[0]["user_id"] is None


def test_a_viewer_may_not_upload_send_or_add_quick_replies(gw):
    vic = Person(gw, "vic")
    before = media_files(gw)
    st, _, b = vic.call("POST", "/uploads", raw=b"x" * 10, ctype="image/png")
    assert st == 403 and b["error"]["code"] == "forbidden_role"
    st, _, b = vic.call("POST", "/quick-replies", body={"shortcut": "vic", "text": "t"})
    assert st == 403 and b["error"]["code"] == "forbidden_role"
    st, _, b = vic.call("GET", "/quick-replies")
    assert st == 200
    assert media_files(gw) == before
    st, _, qr = Person(gw, "alice").call("POST", "/quick-replies",
                                         body={"shortcut": "alice-hi", "text": "Hi, Alice here"})
    assert st == 201 and qr["created_by"] == "alice"
