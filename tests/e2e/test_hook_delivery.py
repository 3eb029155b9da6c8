"""Event webhooks, the delivering side (issue 16): the worker POSTs each
queued event_deliveries row to its hook, signed, in order per (hook,
conversation), retries what may succeed later, fails what will not,
disables a hook failing for 24 h, and without WA_HOOKS_ALLOW_PRIVATE
refuses loopback and private addresses at connect.  Hooks and
deliveries are inserted into the stack's wa.db as db_event_emit would
queue them; the worker picks them up on its timer."""
import json
import os
import signal
import time

import pytest

from hook_receiver import Receiver, signature_ok
from stack import started, wait_until
from test_worker import pids

SECRET = "c0ffee" * 10
DAY_MS = 24 * 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def stack():
    s = started(extra_env={"WA_BOT": "off", "WA_HOOKS_ALLOW_PRIVATE": "1"})
    yield s
    s.close()


@pytest.fixture
def rcv():
    r = Receiver(SECRET)
    yield r
    r.close()


def add_hook(s, url, failing_since=None, secret=SECRET, secret_env=None):
    t = now_ms()
    with s.db() as c:
        return c.execute(
            "INSERT INTO hooks (url, events, secret, secret_env, state, failing_since, "
            "created_by, created_at, updated_at) VALUES (?, '*', ?, ?, 'active', ?, 'test', ?, ?)",
            (url, secret, secret_env, failing_since, t, t)).lastrowid


def add_delivery(s, hook, conversation=None, etype="message.received", created_at=None, data=None):
    """Queues one event for hook as the hooks side does; returns (row id,
    the body posted)."""
    t = now_ms()
    eid = "evt_" + os.urandom(16).hex()
    body = json.dumps({"id": eid, "type": etype, "created_at": t // 1000,
                       "number": "200300400500600",
                       "data": data or {"conversation_id": conversation}},
                      separators=(",", ":"))
    with s.db() as c:
        rid = c.execute(
            "INSERT INTO event_deliveries (hook_id, event_id, type, phone_number_id, "
            "conversation_id, body, next_attempt_at, created_at) VALUES (?, ?, ?, "
            "'200300400500600', ?, ?, ?, ?)",
            (hook, eid, etype, conversation, body, t,
             created_at if created_at is not None else t)).lastrowid
    return rid, body


def row(s, rid):
    return s.q("SELECT * FROM event_deliveries WHERE id = ?", rid)[0]


def attempts(s, rid):
    return s.q("SELECT * FROM event_attempts WHERE delivery_id = ? ORDER BY id", rid)


def hook(s, hid):
    return s.q("SELECT * FROM hooks WHERE id = ?", hid)[0]


def settled(s, rid, state, n=1):
    """Waits until row rid is in state after n attempts or more."""
    return wait_until(lambda: (lambda r: r["state"] == state and r["attempts"] >= n and r)(row(s, rid)),
                      timeout=20, what="delivery %d %s" % (rid, state))


def test_delivered_signed_with_exactly_these_headers(stack, rcv):
    h = add_hook(stack, rcv.url)
    rid, body = add_delivery(stack, h, conversation=1)
    r = settled(stack, rid, "delivered")
    got = rcv.got()
    assert len(got) == 1
    req = got[0]
    assert req.method == "POST" and req.path == "/hook"
    assert req.body == body.encode()
    assert req.sig_ok, req.sig
    # Content-Type and the signature, and only what HTTP itself needs.
    names = sorted(k.lower() for k, _ in req.headers)
    assert names == ["content-length", "content-type", "host", "x-wa-signature"], req.headers
    assert req.header("Content-Type") == "application/json"
    t = int(req.sig.split(",")[0][2:])
    assert abs(t - time.time()) < 60
    assert r["attempts"] == 1 and r["last_status"] == 200 and r["last_error"] is None
    assert r["delivered_at"] is not None and r["lease_until"] is None
    a = attempts(stack, rid)
    assert len(a) == 1 and a[0]["http_status"] == 200 and a[0]["error"] is None
    assert a[0]["duration_ms"] is not None and a[0]["duration_ms"] >= 0


def test_secret_from_the_workers_environment(stack, rcv):
    # secret_env names a setting the worker has: HOME is always there.
    h = add_hook(stack, rcv.url, secret=None, secret_env="HOME")
    rid, _ = add_delivery(stack, h)
    settled(stack, rid, "delivered")
    rcv.secret = stack.env["HOME"]
    req = rcv.got()[0]
    assert signature_ok(stack.env["HOME"], req.sig, req.body)


def test_order_per_conversation_while_first_fails(stack, rcv):
    h = add_hook(stack, rcv.url)
    e1, b1 = add_delivery(stack, h, conversation=101)
    e2, b2 = add_delivery(stack, h, conversation=101)
    f1, c1 = add_delivery(stack, h, conversation=202)
    first = {"n": 0}

    def reply(req):
        if req.body == b1.encode():
            first["n"] += 1
            if first["n"] == 1:
                return 500, {}, 0
        return None
    rcv.reply = reply
    # The other conversation goes on while the first event waits to retry.
    settled(stack, f1, "delivered")
    r1 = settled(stack, e1, "queued", 1)
    assert r1["last_status"] == 500 and r1["next_attempt_at"] > r1["created_at"]
    assert row(stack, e2)["state"] == "queued" and row(stack, e2)["attempts"] == 0
    assert [q.body.decode() for q in rcv.got()].count(b2) == 0
    # Its retry falls due now: then the first, and only then the second.
    with stack.db() as c:
        c.execute("UPDATE event_deliveries SET next_attempt_at = ? WHERE id = ?", (now_ms(), e1))
    settled(stack, e2, "delivered")
    bodies = [q.body.decode() for q in rcv.got()]
    assert bodies.count(b1) == 2 and bodies.count(b2) == 1
    assert bodies.index(b2) > len(bodies) - 1 - bodies[::-1].index(b1)
    assert row(stack, e1)["state"] == "delivered" and row(stack, e1)["attempts"] == 2
    assert hook(stack, h)["failing_since"] is None   # the success ended the run


@pytest.mark.parametrize("retry_after,wait_s", [("120", 120), (None, 90)])
def test_429_waits_retry_after(stack, rcv, retry_after, wait_s):
    if retry_after is None:     # the HTTP-date form, 90 s ahead
        retry_after = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 90))
    rcv.then(429, {"Retry-After": retry_after})
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h)
    r = settled(stack, rid, "queued", 1)
    a = attempts(stack, rid)
    assert len(a) == 1 and a[0]["http_status"] == 429
    assert r["next_attempt_at"] - a[0]["at"] >= (wait_s - 2) * 1000
    assert r["next_attempt_at"] - a[0]["at"] <= (wait_s + 2) * 1000
    assert hook(stack, h)["failing_since"] == a[0]["at"]


def test_redelivery_does_not_overtake_one_in_flight(stack, rcv):
    h = add_hook(stack, rcv.url)
    old, b_old = add_delivery(stack, h, conversation=505)
    settled(stack, old, "delivered")
    rcv.then(200, delay=3)
    new, b_new = add_delivery(stack, h, conversation=505)
    wait_until(lambda: row(stack, new)["state"] == "sending", timeout=10, what="the new one sent")
    # As POST /deliveries/{id}/redeliver does, while the newer one waits.
    with stack.db() as c:
        c.execute("UPDATE event_deliveries SET state = 'queued', next_attempt_at = ?, "
                  "delivered_at = NULL WHERE id = ?", (now_ms(), old))
    settled(stack, old, "delivered", 2)
    got = rcv.got()
    first_new = [q for q in got if q.body == b_new.encode()][0]
    again = [q for q in got if q.body == b_old.encode()][1]
    assert first_new.done_at is not None and again.at >= first_new.done_at


def test_400_fails_at_once(stack, rcv):
    rcv.then(400)
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h, conversation=303)
    later, _ = add_delivery(stack, h, conversation=303)
    r = settled(stack, rid, "failed")
    assert r["attempts"] == 1 and r["last_status"] == 400 and "400" in r["last_error"]
    assert len(attempts(stack, rid)) == 1
    # A failed one ends the wait of the next of its conversation.
    settled(stack, later, "delivered")
    assert len([q for q in rcv.got() if json.loads(q.body)["id"] == row(stack, rid)["event_id"]]) == 1


def test_redirect_is_not_followed(stack, rcv):
    rcv.then(302, {"Location": "/elsewhere"})
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h)
    r = settled(stack, rid, "failed")
    assert r["last_status"] == 302 and "redirect" in r["last_error"]
    assert [q.path for q in rcv.got()] == ["/hook"]


def test_5xx_retried_with_backoff(stack, rcv):
    rcv.then(503)
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h)
    r = settled(stack, rid, "queued", 1)
    a = attempts(stack, rid)
    # About 10 s with full jitter: between 1 s and 10 s.
    assert 1000 <= r["next_attempt_at"] - a[0]["at"] <= 10000 + 1000
    assert r["last_status"] == 503


def test_timeout_is_retried(stack, rcv):
    rcv.then(200, delay=12)     # longer than the 10 s an attempt may take
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h)
    r = wait_until(lambda: (lambda x: x["attempts"] >= 1 and x)(row(stack, rid)),
                   timeout=30, what="the timed-out attempt")
    assert r["state"] == "queued" and r["last_status"] is None
    a = attempts(stack, rid)
    assert a[0]["http_status"] is None and "timed out: no answer within 10 s" in a[0]["error"]
    assert a[0]["duration_ms"] >= 9000


def test_refused_connection_is_retried(stack):
    r0 = Receiver(SECRET)
    url = r0.url
    r0.close()                  # nothing listens there now
    h = add_hook(stack, url)
    rid, _ = add_delivery(stack, h)
    r = settled(stack, rid, "queued", 1)
    assert r["last_status"] is None and r["last_error"]
    assert hook(stack, h)["failing_since"] is not None


def test_gives_up_24h_after_the_event(stack, rcv):
    rcv.then(500)
    h = add_hook(stack, rcv.url)
    rid, _ = add_delivery(stack, h, created_at=now_ms() - DAY_MS - 60000)
    r = settled(stack, rid, "failed")
    assert r["attempts"] == 1 and r["last_status"] == 500 and "24 h" in r["last_error"]


def test_hook_failing_for_24h_is_disabled(stack, rcv):
    rcv.then(500)
    h = add_hook(stack, rcv.url, failing_since=now_ms() - DAY_MS - 60000)
    rid, _ = add_delivery(stack, h)
    wait_until(lambda: hook(stack, h)["state"] == "disabled", timeout=20, what="the hook disabled")
    x = hook(stack, h)
    assert "24 h" in x["disabled_reason"] and "500" in x["disabled_reason"]
    # Its rows wait for a person to turn it on again; none is sent.
    later, _ = add_delivery(stack, h)
    n = len(rcv.got())
    assert n == 1 and row(stack, rid)["state"] == "queued"
    # A hook failing for less than that stays active.
    h2 = add_hook(stack, rcv.url, failing_since=now_ms() - 3600 * 1000)
    rcv.then(500)
    r2, _ = add_delivery(stack, h2)
    settled(stack, r2, "queued", 1)
    assert hook(stack, h2)["state"] == "active"


def test_kill_9_mid_delivery_sends_again(stack, rcv):
    rcv.then(200, delay=6)      # the worker is killed while it waits
    h = add_hook(stack, rcv.url)
    rid, body = add_delivery(stack, h, conversation=404)
    wait_until(lambda: len(rcv.got()) == 1, timeout=10, what="the first POST")
    assert row(stack, rid)["state"] == "sending"
    for p in pids("wa-worker", stack.state):
        os.kill(p, signal.SIGKILL)
    # The supervisor starts another worker; the row is sent again.
    r = settled(stack, rid, "delivered")
    bodies = [q.body.decode() for q in rcv.got()]
    assert bodies.count(body) >= 2 and r["attempts"] >= 1


# --- without WA_HOOKS_ALLOW_PRIVATE -----------------------------------------

@pytest.fixture(scope="module")
def guarded():
    s = started(extra_env={"WA_BOT": "off"})
    yield s
    s.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_private_address_refused_at_connect(guarded, rcv, host):
    # https, so only the address can stop it (http is refused earlier).
    h = add_hook(guarded, "https://%s:%d/hook" % (host, rcv.port))
    rid, _ = add_delivery(guarded, h)
    r = settled(guarded, rid, "queued", 1)
    assert "is not allowed" in r["last_error"] and "loopback" in r["last_error"], r["last_error"]
    assert "WA_HOOKS_ALLOW_PRIVATE" in r["last_error"]
    assert rcv.connections == 0 and rcv.got() == []


def test_http_hook_fails_at_once_without_the_flag(guarded, rcv):
    h = add_hook(guarded, rcv.url)      # http://127.0.0.1:PORT/hook
    rid, _ = add_delivery(guarded, h)
    r = settled(guarded, rid, "failed")
    assert r["attempts"] == 1 and "https://" in r["last_error"]
    assert rcv.connections == 0 and rcv.got() == []


# --- the whole path: POST /hooks, a customer writes, the event arrives ---

def test_inbound_message_reaches_a_hook_made_through_the_api(stack, rcv):
    from people import API, new_key
    from stack import post_text
    key = new_key(stack, "hooks-deliver")
    body = json.dumps({"url": rcv.url, "events": ["message.received"]}).encode()
    st, _, raw = stack.request("POST", API + "/hooks", body,
                               {"Authorization": "Bearer " + key,
                                "Content-Type": "application/json"})
    assert st == 201, raw
    made = json.loads(raw)
    rcv.secret = made["secret"]
    wamid = post_text(stack, "200300400500600", "15550009999", "hello hooks", tag="hookdel")
    wait_until(lambda: any(b"hello hooks" in q.body or wamid.encode() in q.body
                           for q in rcv.got()), timeout=20, what="the event")
    req = [q for q in rcv.got() if wamid.encode() in q.body][0]
    assert signature_ok(made["secret"], req.sig, req.body)
    ev = json.loads(req.body)
    assert ev["type"] == "message.received" and ev["id"].startswith("evt_")
    assert ev["number"] == "200300400500600"
    d = wait_until(lambda: (lambda r: r and r[0]["state"] == "delivered" and r[0])(
        stack.q("SELECT * FROM event_deliveries WHERE hook_id = ?", made["id"])),
        timeout=10, what="the row delivered")
    assert d["event_id"] == ev["id"] and d["attempts"] == 1
