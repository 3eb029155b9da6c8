"""The stable key=value log lines of the events an operator watches
(README "What to watch"): each is triggered on the real stack and its
exact `event=...` line is found in the stack's log (what journald gets).

    event=webhook_refused reason=bad_signature signature=... bytes=N from=ADDR count=N
    event=webhook_refused reason=payload_too_large ...   (the responder itself)
    event=webhook_refused reason=bad_json journal=ID why="..."   (the worker)
    event=send_failed outbox=ID number=PNID code=CODE attempts=N action=... fbtrace="..." title="..."
    event=token_invalid number=PNID token_env=VAR code=190 msg="..."
"""
import json
import os
import re

import pytest

import fcgi_client
from stack import fixture, started, wait_until
from test_send import MSGS, PNID, inbound, outbox, send, wait_state

# TIME PROG[PID] event: event=NAME ...
LINE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ %s\[\d+\] event: event=%s (.*)$"


def event_lines(s, prog, name):
    return [m.group(1) for m in re.finditer(LINE % (re.escape(prog), re.escape(name)),
                                            s.logtext(), re.M)]


def wait_event(s, prog, name, pattern):
    """The key=value part of the first prog line of event name whose keys
    match pattern (a regex matched whole)."""
    rx = re.compile(pattern + "$")
    return wait_until(lambda: next((l for l in event_lines(s, prog, name) if rx.match(l)), None),
                      timeout=15, what="event=%s %s in the log" % (name, pattern))


@pytest.fixture(scope="module")
def gw(graph):
    s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off",
                           "WA_PAIR_BURST": "45", "WA_PAIR_INTERVAL_MS": "0"})
    yield s
    s.close()


def test_bad_signature_is_one_event_line(gw):
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert gw.post(body, signature="sha256=" + "1" * 64)[0] == 403
    kv = wait_event(gw, "wa-fcgi", "webhook_refused",
                    r"reason=bad_signature signature=mismatch bytes=%d from=127\.0\.0\.1 count=\d+"
                    % len(body))
    assert "entry" not in kv


def test_missing_signature_names_it(gw):
    # A second later (one line a second per reason): wait on the line.
    body = b'{"object":"whatsapp_business_account"}'
    wait_until(lambda: gw.post(body, signature=None)[0] == 403 and any(
        "signature=missing" in l for l in event_lines(gw, "wa-fcgi", "webhook_refused")),
        timeout=15, step=0.3, what="signature=missing")


def test_too_large_is_an_event_line_from_the_responder(gw):
    # nginx refuses these first; the responder logs what reaches it.
    st, _, _ = fcgi_client.request(os.path.join(gw.state, "fcgi.sock"), fcgi_client.webhook_params(
        length=4 * 1024 * 1024 + 1, signature="sha256=" + "0" * 64))
    assert st == 413
    wait_event(gw, "wa-fcgi", "webhook_refused",
               r"reason=payload_too_large bytes=4194305 from=\S+ count=1")


@pytest.mark.parametrize("reason,params,body,status", [
    ("unsupported_media_type", dict(length=2, ctype="text/plain"), b"{}", 415),
    ("length_required", dict(length=None), b"{}", 411),
    ("short_body", dict(length=10), b"{}", 400),
])
def test_other_refusals_are_event_lines(gw, reason, params, body, status):
    st, _, _ = fcgi_client.request(os.path.join(gw.state, "fcgi.sock"),
                                   fcgi_client.webhook_params(signature="sha256=" + "0" * 64,
                                                              **params), body)
    assert st == status
    wait_event(gw, "wa-fcgi", "webhook_refused",
               r"reason=%s bytes=(\d+|-) from=127\.0\.0\.1 count=1" % reason)


def test_signed_body_that_is_not_json_is_refused_by_the_worker(gw):
    body = b'{"object": "whatsapp_business_account", "entry": [ oops'
    st, _, b = gw.post(body)
    assert st == 200
    jid = json.loads(b)["stored"]
    kv = wait_event(gw, "wa-worker", "webhook_refused",
                    r'reason=bad_json journal=%d why="[^"]+"' % jid)
    assert gw.q("SELECT state FROM webhook_events WHERE id = ?", jid)[0]["state"] == "failed"


def test_send_refused_for_good_is_a_send_failed_line(gw, graph):
    graph.reset()
    inbound(gw, "15550007001")
    graph.inject(code=131026, times=1)
    oid = send(gw, {"to": "15550007001", "type": "text", "text": {"body": "secret words"}})
    assert wait_state(gw, oid, ("failed",))["error_code"] == 131026
    kv = wait_event(gw, "wa-worker", "send_failed",
                    r'outbox=%d number=%s code=131026 attempts=1 action=fail fbtrace="[^"]*" '
                    r'title="[^"]*"' % (oid, PNID))
    assert "secret words" not in gw.logtext()
    assert kv


def test_retried_send_is_not_a_send_failed_line(gw, graph):
    graph.reset()
    inbound(gw, "15550007002")
    graph.inject(code=131000, times=1)   # something went wrong: retried
    oid = send(gw, {"to": "15550007002", "type": "text", "text": {"body": "x"}})
    assert wait_state(gw, oid, ("accepted",))["attempts"] == 2
    assert not [l for l in event_lines(gw, "wa-worker", "send_failed") if "outbox=%d " % oid in l]


def test_token_refused_is_a_token_invalid_line(gw, graph):
    graph.reset()
    inbound(gw, "15550007003")
    graph.inject(code=190, times=-1)
    try:
        send(gw, {"to": "15550007003", "type": "text", "text": {"body": "x"}})
        kv = wait_event(gw, "wa-worker", "token_invalid",
                        r'number=%s token_env=WHATSAPP_ACCESS_TOKEN code=190 msg="[^"]+"' % PNID)
        assert "test-token" not in kv and "test-token" not in gw.logtext()
    finally:
        graph.reset()
