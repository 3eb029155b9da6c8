"""Webhooks through nginx, spawn-fcgi, wa-fcgi, the journal and wa-worker."""
import json
import os
import signal

from stack import FIXTURES, TOP, fixture
from test_worker import pids

ALL = sorted(f for f in os.listdir(os.path.join(FIXTURES, "webhooks"))
             if f.endswith(".json") and f != "signature_vectors.json")


def test_handshake_right_token(stack):
    st, h, body = stack.request(
        "GET", "/api/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444"
        "&hub.verify_token=" + stack.verify_token)
    assert st == 200
    assert body == b"1158201444"
    assert h["Content-Type"].startswith("text/plain")


def test_handshake_wrong_token(stack):
    st, _, body = stack.request(
        "GET", "/api/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope")
    assert st == 403
    assert json.loads(body)["error"]["code"] == "verification_failed"
    st, _, _ = stack.request(
        "GET", "/api/whatsapp/webhook?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token="
        + stack.verify_token)
    assert st == 403


def test_every_fixture_stored_and_applied(stack):
    before = stack.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    for name in ALL:
        st, _, body = stack.post(fixture(name))
        assert st == 200, (name, body)
    stack.wait_applied()
    ev = stack.q("SELECT state, error FROM webhook_events WHERE id > ?", before)
    assert len(ev) == len(ALL)
    assert all(e["state"] in ("applied", "duplicate") for e in ev), ev
    wamids = {r["wamid"] for r in stack.q("SELECT wamid FROM messages")}
    for name in ALL:
        doc = json.loads(fixture(name))
        for e in doc["entry"]:
            for ch in e["changes"]:
                for m in ch["value"].get("messages", []):
                    assert m["id"] in wamids, name


def test_unicode_body_byte_for_byte(stack):
    raw = fixture("unicode_emoji.min.json")
    st, _, _ = stack.post(raw)
    assert st == 200
    stack.wait_applied()
    row = stack.q("SELECT body FROM webhook_events ORDER BY id DESC LIMIT 1")[0]
    assert row["body"] == raw
    doc = json.loads(raw)
    m = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    text = stack.q("SELECT text FROM messages WHERE wamid=?", m["id"])[0]["text"]
    assert text == m["text"]["body"]


def test_wrong_secret_and_missing_header_store_nothing(stack):
    n0 = stack.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    body = fixture("text.json")
    st, _, b = stack.post(body, signature=stack.sign(body, "wrong-secret"))
    assert st == 403 and json.loads(b)["error"]["code"] == "bad_signature"
    st, _, _ = stack.post(body, signature=None)
    assert st == 403
    st, _, _ = stack.post(body, signature="sha256=zz")
    assert st == 403
    assert stack.q("SELECT count(*) n FROM webhook_events")[0]["n"] == n0


def test_reserialised_body_fails(stack):
    vec = json.loads(fixture("signature_vectors.json"))
    bad = [c for c in vec["cases"] if c["expect"] == "invalid"][0]
    raw = fixture(bad["body_file"])
    st, _, _ = stack.post(raw, signature=bad["x_hub_signature_256"])
    assert st == 403
    # The re-serialised UTF-8 body with its own correct-looking signature
    # is also refused when the signature was made over other bytes.
    reser = json.dumps(json.loads(raw), ensure_ascii=False,
                       separators=(",", ":")).encode()
    st, _, _ = stack.post(reser, signature=stack.sign(raw))
    assert st == 403


def test_same_body_ten_times_one_message(stack):
    # A body never posted before in this module (fresh wamid, own bytes),
    # so the first post is the one applied and the nine others are
    # duplicates, whatever ran before.
    doc = json.loads(fixture("text_reply_context.json"))
    m = doc["entry"][0]["changes"][0]["value"]["messages"][0]
    m["id"] = wamid = "wamid.tentimes." + os.urandom(8).hex()
    body = json.dumps(doc).encode()
    ids = []
    for _ in range(10):
        st, _, reply = stack.post(body)
        assert st == 200
        ids.append(json.loads(reply)["stored"])
    stack.wait_applied()
    assert stack.q("SELECT count(*) n FROM messages WHERE wamid=?", wamid)[0]["n"] == 1
    conv = stack.q("SELECT c.message_count FROM conversations c JOIN messages m "
                   "ON m.conversation_id=c.id WHERE m.wamid=?", wamid)[0]
    states = [r["state"] for r in stack.q("SELECT state FROM webhook_events WHERE id IN (%s) ORDER BY id"
                                          % ",".join("?" * len(ids)), *ids)]
    assert len(set(ids)) == 10 and states == ["applied"] + ["duplicate"] * 9
    assert stack.q("SELECT count(*) n FROM webhook_events WHERE body = ?", body)[0]["n"] == 10
    # Edits and deletions are kept as rows of their own but are no new
    # message of the conversation (they change an earlier one).
    assert conv["message_count"] == stack.q(
        "SELECT count(*) n FROM messages WHERE conversation_id = (SELECT conversation_id FROM messages "
        "WHERE wamid = ?) AND wamid NOT IN (SELECT wamid FROM message_edits)", wamid)[0]["n"]


def test_signed_non_json_stored_and_failed(stack):
    body = b"this is not json {"
    st, _, _ = stack.post(body)
    assert st == 200
    stack.wait_applied()
    ev = stack.q("SELECT state, error, body FROM webhook_events ORDER BY id DESC LIMIT 1")[0]
    assert ev["state"] == "failed"
    assert "not valid JSON" in ev["error"]
    assert ev["body"] == body


def test_batch_with_one_malformed_item(stack):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    good = v["messages"][0]
    v["messages"] = [dict(good, id="wamid.batch.1"), {"from": good["from"], "type": "text"},
                     dict(good, id="wamid.batch.3")]
    body = json.dumps(doc).encode()
    assert stack.post(body)[0] == 200
    stack.wait_applied()
    ev = stack.q("SELECT * FROM webhook_events ORDER BY id DESC LIMIT 1")[0]
    assert ev["state"] == "partial"
    assert ev["items_failed"] == 1 and ev["items_applied"] == 2
    assert "messages[1]" in ev["error"]
    assert len(stack.q("SELECT 1 FROM messages WHERE wamid IN ('wamid.batch.1','wamid.batch.3')")) == 2


def test_oversize_body_413_from_nginx(stack):
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    st, _, b = stack.post(body)
    assert st == 413
    assert json.loads(b)["error"]["code"] == "payload_too_large"


def test_wrong_method_and_content_type(stack):
    st, h, b = stack.request("PUT", "/api/whatsapp/webhook", b"{}",
                             {"Content-Type": "application/json"})
    assert st == 405 and "GET" in h.get("Allow", "")
    assert json.loads(b)["error"]["code"] == "method_not_allowed"
    st, _, b = stack.post(b"{}", ctype="text/plain")
    assert st == 415
    st, _, b = stack.request("GET", "/api/whatsapp/nope")
    assert st == 404 and json.loads(b)["error"]["code"] == "not_found"


def test_health(stack):
    st, h, body = stack.request("GET", "/api/whatsapp/health")
    assert st == 200
    doc = json.loads(body)
    assert doc["database"] == "ok"
    with open(os.path.join(TOP, "schema.sql")) as f:
        newest = max(int(l.split(":")[1]) for l in f if l.startswith("-- migrate:"))
    assert doc["schema_version"] == newest
    # The backlog counts what is stored and not yet applied: exactly the
    # three bodies posted while the worker is stopped, then none.
    stack.wait_applied()
    worker = pids("wa-worker", stack.state)
    assert len(worker) == 1
    os.kill(worker[0], signal.SIGSTOP)
    try:
        for i in range(3):
            d = json.loads(fixture("text.json"))
            d["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.backlog.%d" % i
            assert stack.post(json.dumps(d).encode())[0] == 200
        assert json.loads(stack.request("GET", "/api/whatsapp/health")[2])["journal_backlog"] == 3
    finally:
        os.kill(worker[0], signal.SIGCONT)
    stack.wait_applied()
    assert json.loads(stack.request("GET", "/api/whatsapp/health")[2])["journal_backlog"] == 0
    assert doc["worker"]["heartbeat_age_s"] is not None
    assert stack.secret not in body.decode()
    assert stack.verify_token not in body.decode()
