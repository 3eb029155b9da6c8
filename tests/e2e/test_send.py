"""Sending through the Graph API: the outbox, wa-worker's sender and the
fake Graph server, on the real stack (nginx, responders, worker, SQLite)."""
import base64
import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

from stack import BUILD, Stack, fixture, started, wait_until

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID


def inbound(s, sender, text="hello", ts=None, wamid=None, media=None):
    """Posts a signed inbound message from sender (now, unless ts), which
    opens the 24-hour window, and waits until it is applied."""
    doc = json.loads(fixture("image.json" if media else "text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m["from"] = sender
    m["timestamp"] = str(ts or int(time.time()))
    m["id"] = wamid or "wamid.in.%s.%s" % (sender, os.urandom(6).hex())
    if media:
        m["image"].update(media)
    else:
        m["text"]["body"] = text
    st, _, _ = s.post(json.dumps(doc).encode())
    assert st == 200
    s.wait_applied()
    return m["id"]


def wactl(s, *args, stdin=None):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          input=stdin, capture_output=True, text=True, timeout=20)


def send(s, req, key=None):
    """Queues req (a dict) with wactl send; returns the outbox id."""
    args = ["send"] + (["--key", key] if key else [])
    r = wactl(s, *args, stdin=json.dumps(req))
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


def outbox(s, oid):
    return s.q("SELECT * FROM outbox WHERE id = ?", oid)[0]


def wait_state(s, oid, states=("accepted", "failed"), timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        row = outbox(s, oid)
        if row["state"] in states:
            return row
        time.sleep(0.02)
    raise AssertionError("outbox %d still %s\n%s" % (oid, outbox(s, oid), s.logtext()[-3000:]))


def sends_for(g, oid):
    return [r for r in g.requests(MSGS) if (r["json"] or {}).get("biz_opaque_callback_data")
            == "outbox:%d" % oid]


def make_stack(graph, **env):
    # The chatbot would answer the inbound messages these tests post.
    extra = {"WHATSAPP_GRAPH_URL": graph.url, "WA_PAIR_BURST": "45", "WA_PAIR_INTERVAL_MS": "0",
             "WA_BOT": "off"}
    extra.update(env)
    s = started(extra_env=extra)
    return s


@pytest.fixture(scope="module")
def gw(graph):
    s = make_stack(graph)
    yield s
    s.close()


@pytest.fixture
def fresh(graph):
    graph.reset()
    yield graph
    graph.reset()


KINDS = [
    {"type": "text", "text": {"body": "Your order A-1042 ships today \U0001F69A", "preview_url": True}},
    {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "the part"}},
    {"type": "video", "video": {"id": "1011121314151601", "caption": "how to fit it"}},
    {"type": "audio", "audio": {"id": "1011121314151602"}},
    {"type": "document", "document": {"link": "https://example.com/i.pdf", "filename": "invoice.pdf",
                                      "caption": "invoice"}},
    {"type": "sticker", "sticker": {"id": "1011121314151603"}},
    {"type": "location", "location": {"latitude": 52.52, "longitude": 13.405, "name": "Plant 2",
                                      "address": "Hauptstr. 1"}},
    {"type": "contacts", "contacts": [{"name": {"formatted_name": "Service desk"},
                                       "phones": [{"phone": "+15550001111", "type": "WORK"}]}]},
    {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Pick one"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "Orders"}},
                               {"type": "reply", "reply": {"id": "b", "title": "Defects"}}]}}},
    {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Menu"}, "action": {"button": "Open", "sections": [
            {"title": "Main", "rows": [{"id": "r1", "title": "Order status", "description": "by number"},
                                       {"id": "r2", "title": "Schedule"}]}]}}},
    {"type": "interactive", "interactive": {
        "type": "cta_url", "body": {"text": "Track it"},
        "action": {"name": "cta_url", "parameters": {"display_text": "Track", "url": "https://example.com/t"}}}},
    {"type": "template", "template": {"name": "order_update", "language": {"code": "en_US"},
                                      "components": [{"type": "body", "parameters": [
                                          {"type": "text", "text": "Alice"}]}]}},
    {"type": "reaction", "reaction": {"message_id": "wamid.someinbound", "emoji": "\U0001F44D"}},
]


def test_every_kind_reaches_graph_byte_for_byte(gw, fresh):
    inbound(gw, "15550002222")
    for req in KINDS:
        req = dict(req, to="15550002222")
        oid = send(gw, req)
        row = wait_state(gw, oid)
        assert row["state"] == "accepted", row
        got = sends_for(fresh, oid)
        assert len(got) == 1
        # Byte for byte: the queued body plus our callback id, nothing else.
        assert got[0]["body"] == '{"biz_opaque_callback_data":"outbox:%d",%s' % (oid, row["body"][1:])
        want = dict(req, messaging_product="whatsapp", recipient_type="individual",
                    biz_opaque_callback_data="outbox:%d" % oid)
        assert got[0]["json"] == want
        assert got[0]["headers"]["authorization"] == "Bearer test-token"
        msg = gw.q("SELECT * FROM messages WHERE id = ?", row["message_id"])[0]
        assert msg["direction"] == "out" and msg["wamid"] == row["wamid"] == got[0]["reply"]["messages"][0]["id"]
        assert msg["type"] == req["type"] and msg["status"] == "accepted"


def test_reply_and_read_receipt(gw, fresh):
    wamid = inbound(gw, "15550002222")
    r = wactl(gw, "send", "--to", "+15550002222", "--text", "thanks!", "--reply-to", wamid)
    assert r.returncode == 0, r.stderr
    oid = int(r.stdout)
    wait_state(gw, oid)
    sent = sends_for(fresh, oid)[0]["json"]
    assert sent["context"] == {"message_id": wamid} and sent["to"] == "15550002222"
    assert gw.q("SELECT context_wamid FROM messages WHERE wamid = ?",
                outbox(gw, oid)["wamid"])[0]["context_wamid"] == wamid
    oid = send(gw, {"type": "read", "message_id": wamid, "typing_indicator": True})
    assert wait_state(gw, oid)["state"] == "accepted"
    body = [r for r in fresh.requests(MSGS) if (r["json"] or {}).get("status") == "read"]
    assert body[0]["json"] == {"messaging_product": "whatsapp", "status": "read", "message_id": wamid,
                               "typing_indicator": {"type": "text"}}


@pytest.mark.parametrize("req,code,field", [
    ({"to": "15550002222", "type": "text", "text": {"body": "x" * 4097}}, "too_long", "text.body"),
    ({"to": "15550002222", "type": "text", "text": {"body": "   "}}, "empty", "text.body"),
    ({"to": "15550002222", "type": "text", "text": {"bdy": "hi"}}, "unknown_field", "text.bdy"),
    ({"to": "abc", "type": "text", "text": {"body": "hi"}}, "invalid", "to"),
    ({"type": "text", "text": {"body": "hi"}}, "required", "to"),
    ({"to": "15550002222", "type": "image", "image": {"link": "http://x/a.jpg"}}, "not_https", "image.link"),
    ({"to": "15550002222", "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "b"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(i), "title": "t%d" % i}} for i in range(4)]}}},
     "too_many", "interactive.action.buttons"),
    ({"to": "15550002222", "type": "template", "template": {"name": "Bad Name", "language": {"code": "en_US"}}},
     "invalid", "template.name"),
])
def test_validation_refusals_write_nothing(gw, fresh, req, code, field):
    before = gw.q("SELECT count(*) n FROM outbox")[0]["n"]
    r = wactl(gw, "send", stdin=json.dumps(req))
    assert r.returncode == 1
    assert r.stderr.startswith("refused: %s: %s: " % (code, field)), r.stderr
    assert gw.q("SELECT count(*) n FROM outbox")[0]["n"] == before
    assert fresh.requests(MSGS) == []


def test_not_json_refused(gw):
    r = wactl(gw, "send", stdin="{not json")
    assert r.returncode == 1 and r.stderr.startswith("refused: bad_json")


def test_window_closed_refused_template_allowed(gw, fresh):
    old = int(time.time()) - 25 * 3600
    inbound(gw, "15550007777", ts=old)
    r = wactl(gw, "send", "--to", "15550007777", "--text", "hi")
    assert r.returncode == 1 and r.stderr.startswith("refused: window_closed: to: ")
    oid = send(gw, {"to": "15550007777", "type": "template",
                    "template": {"name": "order_update", "language": {"code": "en_US"}}})
    row = wait_state(gw, oid)
    assert row["state"] == "accepted" and row["business_initiated"] == 1


def test_window_closes_while_waiting(gw, fresh):
    """A free-form row whose window closed before its turn fails without
    calling Meta."""
    inbound(gw, "15550008888")
    fresh.inject(http=503, times=1, match={"to": "15550008888"})
    oid = send(gw, {"to": "15550008888", "type": "text", "text": {"body": "late"}})
    deadline = time.time() + 10
    while outbox(gw, oid)["attempts"] < 1 and time.time() < deadline:
        time.sleep(0.02)
    with gw.db() as c:
        c.execute("UPDATE conversations SET window_expires_at = ? WHERE contact_id = "
                  "(SELECT id FROM contacts WHERE wa_id = '15550008888')", (int(time.time()) - 1,))
    row = wait_state(gw, oid, ("failed",))
    assert row["error_title"] == "window_closed"
    assert len(sends_for(fresh, oid)) == 1


def test_opt_out_and_back_in(gw, fresh):
    who = "15550006666"
    inbound(gw, who, "Stop ")
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 1
    tmpl = {"to": who, "type": "template", "template": {"name": "promo", "language": {"code": "en"}}}
    r = wactl(gw, "send", stdin=json.dumps(tmpl))
    assert r.returncode == 1 and r.stderr.startswith("refused: opted_out: to: ")
    r = wactl(gw, "send", "--to", who, "--text", "more offers")
    assert r.returncode == 1 and "opted_out" in r.stderr
    inbound(gw, who, "START")
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 0
    assert wait_state(gw, send(gw, tmpl))["state"] == "accepted"
    # A late, older STOP does not undo the newer START.
    inbound(gw, who, "STOP", ts=int(time.time()) - 600)
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 0


def test_transient_errors_retried_then_accepted(gw, fresh):
    inbound(gw, "15550002222")
    fresh.inject(code=131000, times=1)
    fresh.inject(http=502, times=1)
    fresh.inject(drop=True, times=1)
    oid = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "try again"}})
    row = wait_state(gw, oid, ("accepted",), timeout=30)
    assert [r["status"] for r in sends_for(fresh, oid)] == [500, 502, 0, 200]
    # Four requests reached Meta, four attempts on the row: libcurl's own
    # resend after the dropped connection (it had been reused) counts as
    # one, since Meta may have read the dropped one.
    assert row["attempts"] == 4 and row["error_code"] is None


def test_throughput_limit_retried(gw, fresh):
    inbound(gw, "15550002222")
    fresh.inject(code=130429, times=2)
    oid = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "slow down"}})
    row = wait_state(gw, oid, ("accepted",), timeout=30)
    assert row["attempts"] == 3 and row["error_code"] is None


@pytest.mark.parametrize("code", [131047, 131026, 100, 132001])
def test_policy_and_validation_errors_fail_at_once(gw, fresh, code):
    inbound(gw, "15550002222")
    fresh.inject(code=code, times=1)
    oid = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "no retry"}})
    row = wait_state(gw, oid)
    assert row["state"] == "failed" and row["error_code"] == code and row["attempts"] == 1
    assert row["error_title"]
    # The next message to the same customer waits for this one to settle
    # (order per recipient): once it is sent, no retry of the refused one
    # can be pending.
    nxt = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "after"}})
    assert wait_state(gw, nxt, ("accepted",))["state"] == "accepted"
    assert len(sends_for(fresh, oid)) == 1 and outbox(gw, oid)["attempts"] == 1


def test_stop_marketing_error_records_opt_out(gw, fresh):
    who = "15550004545"
    inbound(gw, who)
    fresh.inject(code=131050, times=1)
    oid = send(gw, {"to": who, "type": "template", "template": {"name": "promo", "language": {"code": "en"}}})
    assert wait_state(gw, oid)["state"] == "failed"
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 1


def test_pair_limit_paces_one_recipient(graph):
    graph.reset()
    s = make_stack(graph, WA_PAIR_BURST="2", WA_PAIR_INTERVAL_MS="1000")
    try:
        inbound(s, "15550002222")
        chatty = [send(s, {"to": "15550002222", "type": "text", "text": {"body": "part %d" % i}})
                  for i in range(5)]
        for oid in chatty:
            wait_state(s, oid, ("accepted",), timeout=20)
        t = [sends_for(graph, oid)[0]["t"] for oid in chatty]
        # Order kept; after the burst of 2, at least a second apart (lower
        # bounds only: a loaded machine may be slower, never faster).
        assert t == sorted(t)
        assert t[2] - t[0] >= 0.8
        assert t[4] - t[2] >= 1.8
    finally:
        s.close()


def test_pair_limit_holds_one_recipient_while_others_flow(graph):
    # An interval of 10 minutes: the third message to the chatty customer
    # cannot go during this test, so "the others went first" needs no clock.
    graph.reset()
    s = make_stack(graph, WA_PAIR_BURST="2", WA_PAIR_INTERVAL_MS="600000")
    try:
        others = ["1555010%04d" % i for i in range(6)]
        for who in ["15550002222"] + others:
            inbound(s, who)
        chatty = [send(s, {"to": "15550002222", "type": "text", "text": {"body": "part %d" % i}})
                  for i in range(5)]
        rest = [send(s, {"to": who, "type": "text", "text": {"body": "hi"}}) for who in others]
        # Queued after the chatty ones, and all sent: the marker after
        # which the held rows' silence means something.
        for oid in chatty[:2] + rest:
            wait_state(s, oid, ("accepted",), timeout=20)
        rows = [outbox(s, oid) for oid in chatty[2:]]
        assert [r["state"] for r in rows] == ["queued"] * 3
        assert [r["attempts"] for r in rows] == [0] * 3
        assert all(sends_for(graph, oid) == [] for oid in chatty[2:])
        # Held by the pair limit for about one interval, not failed.
        assert rows[0]["next_attempt_at"] >= (time.time() + 500) * 1000
        t = [sends_for(graph, oid)[0]["t"] for oid in chatty[:2]]
        assert t == sorted(t)
    finally:
        s.close()


def test_pair_rate_error_backs_off_that_recipient(gw, fresh):
    inbound(gw, "15550002222")
    inbound(gw, "15550003333")
    fresh.inject(code=131056, times=1, match={"to": "15550002222"})
    a = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "a"}})
    b = send(gw, {"to": "15550003333", "type": "text", "text": {"body": "b"}})
    ra, rb = wait_state(gw, a, ("accepted",)), wait_state(gw, b, ("accepted",))
    ta = [r["t"] for r in sends_for(fresh, a)]
    assert len(ta) == 2 and ta[1] - ta[0] >= 0.9   # 4^0 s
    assert rb["attempts"] == 1 and ra["attempts"] == 2


def test_token_refused_pauses_until_it_changes(graph, tmp_path):
    graph.reset()
    envfile = tmp_path / "wa.env"
    envfile.write_text("WHATSAPP_ACCESS_TOKEN=old-token\n")
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_ENV_FILE": str(envfile), "WA_BOT": "off"})
    del s.env["WHATSAPP_ACCESS_TOKEN"]
    try:
        s.start()
        inbound(s, "15550002222")
        oid = send(s, {"to": "15550002222", "type": "text", "text": {"body": "x"}})
        deadline = time.time() + 10
        while time.time() < deadline:
            h = json.loads(s.request("GET", "/api/whatsapp/health")[2])
            if h["sending"]["paused"]:
                break
            time.sleep(0.05)
        assert h["sending"]["paused"][0]["reason"] == "token_invalid"
        assert h["sending"]["paused"][0]["code"] == 190
        assert "old-token" not in json.dumps(h) and "old-token" not in s.logtext()
        # The worker keeps working while paused (it applies this webhook),
        # and sends nothing: the marker for "no more calls".
        inbound(s, "15550002223")
        inbound(s, "15550002224")
        assert outbox(s, oid)["state"] == "queued"
        n = len(sends_for(graph, oid))
        assert n == 1          # paused: no more calls
        envfile.write_text("WHATSAPP_ACCESS_TOKEN=test-token\n")
        # This stack's worker (pgrep -n's newest wa-worker may belong to
        # another stack on the machine).
        os.kill(worker_pid(s), signal.SIGTERM)
        assert wait_state(s, oid, ("accepted",), timeout=15)["state"] == "accepted"
        h = json.loads(s.request("GET", "/api/whatsapp/health")[2])
        assert h["sending"]["paused"] == []
    finally:
        s.close()


def send_unanswered(s, graph):
    """Queues a text to a customer in their window whose Graph call the
    fake holds unanswered for 3 s (past WA_SEND_TIMEOUT_MS); returns the
    outbox id once the call has reached the fake."""
    inbound(s, "15550002222")
    graph.inject(hang_s=3, times=1)
    oid = send(s, {"to": "15550002222", "type": "text", "text": {"body": "hello"}})
    graph.wait_requests(1, MSGS)
    return oid


def test_reply_lost_status_webhook_prevents_resend(graph):
    """The call times out (no answer), then Meta's status webhook with our
    outbox id arrives: the row is accepted from it and not sent again."""
    graph.reset()
    s = make_stack(graph, WA_SEND_TIMEOUT_MS="800")
    try:
        oid = send_unanswered(s, graph)
        wamid = "wamid.statusfirst" + os.urandom(4).hex()
        st = graph.post_status("http://127.0.0.1:%d" % s.port, s.secret, wamid, "sent",
                               biz_opaque="outbox:%d" % oid)
        assert st == 200
        row = wait_state(s, oid, ("accepted",))
        assert row["wamid"] == wamid
        # The marker: the worker has dealt with the timed-out call (it logs
        # it); the row is settled, so nothing can send it again after that.
        wait_until(lambda: ("outbox %d: " % oid) in s.logtext(), what="the timeout in the log")
        assert outbox(s, oid)["state"] == "accepted"
        assert len(sends_for(graph, oid)) == 1
        msg = s.q("SELECT status FROM messages WHERE wamid = ?", wamid)[0]
        assert msg["status"] == "sent"
    finally:
        s.close()


def test_status_before_send_reply(gw, fresh):
    """A delivered status for the wamid arrives while the send's reply is
    still on its way; the message ends delivered, not accepted."""
    inbound(gw, "15550002222")
    wamid = "wamid.early" + os.urandom(4).hex()
    fresh.inject(delay_ms=1500, times=1, wamid=wamid)
    oid = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "race"}})
    fresh.wait_requests(1, MSGS)
    assert fresh.post_status("http://127.0.0.1:%d" % gw.port, gw.secret, wamid, "delivered") == 200
    gw.wait_applied()
    assert gw.q("SELECT count(*) n FROM message_statuses WHERE wamid = ?", wamid)[0]["n"] == 1
    assert outbox(gw, oid)["state"] == "sending"
    row = wait_state(gw, oid, ("accepted",))
    assert row["wamid"] == wamid
    assert gw.q("SELECT status FROM messages WHERE wamid = ?", wamid)[0]["status"] == "delivered"


def worker_pid(s):
    for pid in subprocess.run(["pgrep", "-x", "wa-worker"], capture_output=True, text=True).stdout.split():
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if ("WA_STATE_DIR=" + s.state).encode() in f.read():
                    return int(pid)
        except OSError:
            pass
    return None


def test_sigkill_mid_send_loses_nothing(graph):
    graph.reset()
    s = make_stack(graph)
    try:
        who = ["1555020%04d" % i for i in range(40)]
        for w in who:
            inbound(s, w)
        graph.set_delay(400)
        # Queued while the worker is stopped, so the kills below find the
        # sends still going on.
        first = worker_pid(s)
        os.kill(first, signal.SIGSTOP)
        try:
            ids = [send(s, {"to": who[i % 40], "type": "text", "text": {"body": "n%d" % i}})
                   for i in range(120)]
        finally:
            os.kill(first, signal.SIGCONT)
        kills, last, cut = 0, None, []
        for _ in range(3):
            # Each kill hits a worker (a new one after the first: the
            # supervisor restarts it after 0.2 s) while calls that reached
            # the fake are still unanswered.  Stopped first, so the rows in
            # flight at the kill are known exactly.
            pid = wait_until(lambda: (worker_pid(s) or 0) not in (0, last) and worker_pid(s),
                             what="a new wa-worker")
            seen = graph.count()
            wait_until(lambda: graph.count() > seen and
                       s.q("SELECT count(*) n FROM outbox WHERE state = 'sending'")[0]["n"] > 0,
                       what="a call in flight")
            os.kill(pid, signal.SIGSTOP)
            cut.append({r["id"] for r in s.q("SELECT id FROM outbox WHERE state = 'sending'")})
            os.kill(pid, signal.SIGKILL)
            kills += 1
            last = pid
        graph.set_delay(0)
        for oid in ids:
            wait_state(s, oid, ("accepted",), timeout=60)
        assert kills == 3 and all(cut)
        extra = {oid: len(sends_for(graph, oid)) - 1 for oid in ids}
        assert min(extra.values()) >= 0
        # A crash repeats only the calls it cut off, each at most once: a
        # row's duplicates are at most the kills that found it in flight,
        # and in all at most the calls in flight at the kills.  (Not one
        # per kill: every call in flight at a crash may be sent again.)
        for oid, n in extra.items():
            assert n <= sum(oid in c for c in cut), (oid, n, cut)
        assert sum(extra.values()) <= sum(len(c) for c in cut)
        assert s.q("SELECT count(*) n FROM messages WHERE direction = 'out'")[0]["n"] == 120
        assert s.q("SELECT count(DISTINCT wamid) n FROM outbox")[0]["n"] == 120
    finally:
        s.close()


def test_idempotency_key(gw, fresh):
    inbound(gw, "15550002222")
    req = {"to": "15550002222", "type": "text", "text": {"body": "once"}}
    a = send(gw, req, key="order-42-shipped")
    b = send(gw, req, key="order-42-shipped")
    assert a == b
    wait_state(gw, a)
    assert len(sends_for(fresh, a)) == 1


def test_inbound_media_downloaded_checked_and_stored(gw, fresh):
    data = os.urandom(30000)
    mid = "77%014d" % int(time.time() * 1000 % 1e14)
    fresh.add_media(mid, data, "image/jpeg")
    sha_b64 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    inbound(gw, "15550002222", media={"id": mid, "sha256": sha_b64, "mime_type": "image/jpeg"})
    deadline = time.time() + 10
    while time.time() < deadline:
        row = gw.q("SELECT * FROM media WHERE media_id = ?", mid)[0]
        if row["state"] != "pending":
            break
        time.sleep(0.05)
    assert row["state"] == "stored", row
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data)
    with open(os.path.join(gw.state, "media", row["path"]), "rb") as f:
        assert f.read() == data
    got = [r for r in fresh.requests() if r["method"] == "GET"]
    assert all(r["headers"]["authorization"] == "Bearer test-token" for r in got)


def test_inbound_media_with_wrong_digest_not_stored(gw, fresh):
    data = b"not what the webhook promised"
    mid = "78%014d" % int(time.time() * 1000 % 1e14)
    fresh.add_media(mid, data, "image/jpeg")
    bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    inbound(gw, "15550002222", media={"id": mid, "sha256": bad, "mime_type": "image/jpeg"})
    deadline = time.time() + 10
    while time.time() < deadline:
        row = gw.q("SELECT * FROM media WHERE media_id = ?", mid)[0]
        if row["error"]:
            break
        time.sleep(0.05)
    assert row["state"] == "pending" and row["error"] == "sha256 does not match" and row["path"] is None
    assert not os.path.exists(os.path.join(gw.state, "media", hashlib.sha256(data).hexdigest()[:2],
                                           hashlib.sha256(data).hexdigest()))


def test_upload_then_send_by_id(gw, fresh, tmp_path):
    inbound(gw, "15550002222")
    data = os.urandom(20000)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    oid = send(gw, {"to": "15550002222", "type": "image", "image": {"file": str(path), "caption": "look"}})
    row = wait_state(gw, oid)
    assert row["state"] == "accepted", row
    up = [r for r in fresh.requests() if r["path"].endswith("/media") and r["method"] == "POST"]
    assert len(up) == 1 and up[0]["upload"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert up[0]["upload"]["type"] == "image/jpeg"
    media_id = up[0]["reply"]["id"]
    sent = sends_for(fresh, oid)[0]["json"]
    assert sent["image"] == {"id": media_id, "caption": "look"}
    assert gw.q("SELECT direction, size FROM media WHERE media_id = ?", media_id)[0] == \
        {"direction": "out", "size": len(data)}


def test_unreadable_or_oversize_file_refused_at_queue(gw, fresh, tmp_path):
    inbound(gw, "15550002222")
    r = wactl(gw, "send", stdin=json.dumps({"to": "15550002222", "type": "document", "document": {
        "file": "/nonexistent/x.pdf", "filename": "x.pdf"}}))
    assert r.returncode == 1 and r.stderr.startswith("refused: file_unreadable: document.file: ")
    big = tmp_path / "big.jpg"
    with open(big, "wb") as f:
        f.truncate(5 * 1024 * 1024 + 1)
    r = wactl(gw, "send", stdin=json.dumps({"to": "15550002222", "type": "image", "image": {
        "file": str(big)}}))
    assert r.returncode == 1 and r.stderr.startswith("refused: file_size: image.file: ")
    assert fresh.requests() == []


def test_tier_limit_counts_unique_contacts_outside_window(graph):
    graph.reset()
    s = make_stack(graph, WA_TIER_LIMIT="2")
    try:
        old = int(time.time()) - 30 * 3600
        who = ["15550303%03d" % i for i in range(3)]
        for w in who:
            inbound(s, w, ts=old)
        inbound(s, "15550304000")            # window open: not counted

        def tmpl(to):
            return json.dumps({"to": to, "type": "template",
                               "template": {"name": "order_update", "language": {"code": "en_US"}}})
        assert wactl(s, "send", stdin=tmpl(who[0])).returncode == 0
        assert wactl(s, "send", stdin=tmpl(who[1])).returncode == 0
        r = wactl(s, "send", stdin=tmpl(who[2]))
        assert r.returncode == 1 and r.stderr.startswith("refused: tier_limit: to: ")
        # Contacts already reached, and those inside their window, still pass.
        assert wactl(s, "send", stdin=tmpl(who[0])).returncode == 0
        assert wactl(s, "send", stdin=tmpl("15550304000")).returncode == 0
        assert s.q("SELECT count(*) n FROM outbox WHERE recipient = ?", who[2])[0]["n"] == 0
    finally:
        s.close()


def test_spam_limit_opens_breaker(gw, fresh):
    inbound(gw, "15550002222")
    fresh.inject(code=131048, times=1)
    oid = send(gw, {"to": "15550002222", "type": "text", "text": {"body": "x"}})
    deadline = time.time() + 10
    while time.time() < deadline:
        h = json.loads(gw.request("GET", "/api/whatsapp/health")[2])
        if h["sending"]["paused"]:
            break
        time.sleep(0.05)
    p = h["sending"]["paused"][0]
    assert p["reason"] == "spam_limit" and p["code"] == 131048
    assert 550 <= p["resume_at"] - int(time.time()) <= 600
    row = outbox(gw, oid)
    assert row["state"] == "queued" and row["error_code"] == 131048
    # Close the breaker by hand (as its time passing would) and it goes.
    with gw.db() as c:
        c.execute("UPDATE sender_status SET resume_at = 1")
        c.execute("UPDATE outbox SET next_attempt_at = 0 WHERE id = ?", (oid,))
    assert wait_state(gw, oid, ("accepted",))["state"] == "accepted"
    h = json.loads(gw.request("GET", "/api/whatsapp/health")[2])
    assert h["sending"]["paused"] == []


def preference(s, who, value, ts):
    doc = {"object": "whatsapp_business_account", "entry": [{"id": "100200300400500", "changes": [{
        "field": "user_preferences", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PNID},
            "contacts": [{"profile": {"name": "Pat"}, "wa_id": who}],
            "user_preferences": [{"wa_id": who, "detail": "User requested to stop marketing messages",
                                  "category": "marketing_messages", "value": value,
                                  "timestamp": ts}]}}]}]}
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()


def test_marketing_preference_webhook_opts_out_and_in(gw, fresh):
    who = "15550005151"
    inbound(gw, who)
    now = int(time.time())
    preference(gw, who, "stop", now)
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 1
    tmpl = json.dumps({"to": who, "type": "template", "template": {"name": "promo", "language": {"code": "en"}}})
    r = wactl(gw, "send", stdin=tmpl)
    assert r.returncode == 1 and r.stderr.startswith("refused: opted_out")
    preference(gw, who, "resume", now + 5)
    assert gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", who)[0]["opted_out"] == 0
    # The change itself is kept whole too.
    assert gw.q("SELECT count(*) n FROM subscription_events WHERE field = 'user_preferences'")[0]["n"] == 2
    assert wactl(gw, "send", stdin=tmpl).returncode == 0


def test_second_message_waits_behind_a_call_in_flight(gw, fresh):
    # The second message to a customer waits for the first, still at Meta
    # (the fake holds the call until released), then follows it.  How
    # little CPU the worker uses while it waits is measured by `make bench`
    # (bench/send_bench.py), not asserted here.
    inbound(gw, "15550004444")
    fresh.inject(hang_s=60, times=1)
    first = send(gw, {"to": "15550004444", "type": "text", "text": {"body": "one"}})
    fresh.wait_requests(1, MSGS)
    second = send(gw, {"to": "15550004444", "type": "text", "text": {"body": "two"}})
    # A marker that the worker has looked at the queue since "two" was
    # committed: a message to someone else, queued after it, is sent.
    inbound(gw, "15550004445")
    other = send(gw, {"to": "15550004445", "type": "text", "text": {"body": "meanwhile"}})
    assert wait_state(gw, other, ("accepted",))["state"] == "accepted"
    assert [outbox(gw, first)["state"], outbox(gw, second)["state"]] == ["sending", "queued"]
    assert sends_for(fresh, second) == []
    fresh.reset()                      # releases the held call: no answer, closed
    assert wait_state(gw, first, ("accepted",))["state"] == "accepted"
    row = wait_state(gw, second, ("accepted",))
    assert row["attempts"] == 1
    assert sends_for(fresh, first)[-1]["t"] <= sends_for(fresh, second)[0]["t"]


def test_callback_for_another_recipient_does_not_settle_the_row(graph):
    """Outbox ids can be taken again once the newest rows are erased, so a
    late status naming outbox:N for someone else (the erased customer's
    old message) must not mark row N accepted unsent."""
    graph.reset()
    s = make_stack(graph, WA_SEND_TIMEOUT_MS="800")
    try:
        oid = send_unanswered(s, graph)
        wamid = "wamid.otherone" + os.urandom(4).hex()
        st = graph.post_status("http://127.0.0.1:%d" % s.port, s.secret, wamid, "sent",
                               recipient="15550009999", biz_opaque="outbox:%d" % oid)
        assert st == 200
        s.wait_applied()
        # The status is kept (it is Meta's word about wamid) but settles nothing.
        assert s.q("SELECT status FROM message_statuses WHERE wamid = ?", wamid) == [
            {"status": "sent"}]
        assert outbox(s, oid)["wamid"] is None
        # The call timed out; the row is sent again and accepted with its own wamid.
        row = wait_state(s, oid, ("accepted",), timeout=20)
        assert row["wamid"] != wamid and row["wamid"].startswith("wamid.")
        assert len(sends_for(graph, oid)) == 2
    finally:
        s.close()
