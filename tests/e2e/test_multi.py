"""Many business numbers in one worker (issue 13): each number sends with
its own token to its own /{phone_number_id}/messages, runs its own flow,
has its own rate, and is paused on its own (190 for its token, a token
variable that is not set).  Webhooks for a number that is not configured
are applied and logged."""
import json
import os
import subprocess
import time

import pytest

from fake_graph import FakeGraph
from stack import BUILD, Stack, fixture, wait_until

A = "200300400500600"           # the Stack's WHATSAPP_PHONE_NUMBER_ID, label default
B = "110220330440550"           # sales, its own token and flow
C = "120230340450560"           # a number whose token variable is not set
UNKNOWN = "130240350460570"     # writes to us, never configured
NODE = {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
TOKEN_A = "test-token"
TOKEN_B = "sales-token-" + os.urandom(4).hex()


def flow(greeting):
    return {"start": "main", "nodes": {"main": {"kind": "buttons", "body": greeting, "options": [
        {"id": "person", "title": "Talk to a person", "action": "hand_off_person"}]}}}


def wactl(s, *args, env=None, input=None):
    e = dict(s.env)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=e, input=input,
                          capture_output=True, text=True, timeout=60)


def ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def inbound(pnid, wa_id, text="hi", ts=None):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["metadata"]["phone_number_id"] = pnid
    v["contacts"][0]["wa_id"] = wa_id
    m = v["messages"][0]
    m["from"] = wa_id
    m["id"] = "wamid.multi.%s.%s" % (wa_id, os.urandom(6).hex())
    m["timestamp"] = str(ts if ts is not None else int(time.time()))
    m["text"]["body"] = text
    return json.dumps(doc).encode()


def post(s, pnid, wa_id, text="hi", ts=None):
    st, _, body = s.post(inbound(pnid, wa_id, text, ts))
    assert st == 200, body


def sends(graph, pnid):
    return [r for r in graph.requests("/v") if r["path"].endswith("/%s/messages" % pnid)]


@pytest.fixture
def graph():
    g = FakeGraph(token=TOKEN_A)
    g.set_number(A, NODE, token=TOKEN_A)
    g.set_number(B, NODE, token=TOKEN_B)
    g.set_number(C, NODE, token="c-token")
    yield g
    g.close()


@pytest.fixture
def make(graph, tmp_path):
    """make(**env) -> a started Stack with numbers A (default token, flow
    A), B (WHATSAPP_ACCESS_TOKEN_SALES from WA_ENV_FILE, flow B) and C
    (token variable WHATSAPP_ACCESS_TOKEN_GONE, not set for the worker)."""
    made = []

    def _make(b_rate=None, remove_b=False, **extra):
        fa, fb = tmp_path / "flow_a.json", tmp_path / "flow_b.json"
        fa.write_text(json.dumps(flow("Welcome to number A")))
        fb.write_text(json.dumps(flow("Welcome to number B, sales")))
        envfile = tmp_path / "wa.env"
        # A number's token in the env file (issue 13, item 1).
        envfile.write_text("WHATSAPP_ACCESS_TOKEN_SALES=%s\n" % TOKEN_B)
        os.chmod(envfile, 0o600)
        env = {"WHATSAPP_GRAPH_URL": graph.url, "WA_ENV_FILE": str(envfile)}
        env.update(extra)
        s = Stack(extra_env=env)
        made.append(s)
        ok(wactl(s, "migrate"))
        ok(wactl(s, "numbers", "edit", "default", "--flow", str(fa)))
        args = ["numbers", "add", B, "--label", "sales", "--token-env",
                "WHATSAPP_ACCESS_TOKEN_SALES", "--flow", str(fb)]
        if b_rate:
            args += ["--rate", str(b_rate)]
        ok(wactl(s, *args))
        # wactl may check C with its token; the worker never gets it.
        ok(wactl(s, "numbers", "add", C, "--label", "gone", "--token-env",
                 "WHATSAPP_ACCESS_TOKEN_GONE", env={"WHATSAPP_ACCESS_TOKEN_GONE": "c-token"}))
        if remove_b:
            ok(wactl(s, "numbers", "remove", "sales"))
        s.start()
        return s

    yield _make
    for s in made:
        s.close()


def test_each_number_answers_with_its_flow_from_itself_with_its_token(make, graph):
    s = make()
    post(s, A, "15550100001")
    post(s, B, "15550100002")
    got_a = wait_until(lambda: sends(graph, A), what="number A's reply")
    got_b = wait_until(lambda: sends(graph, B), what="number B's reply")
    assert got_a[0]["headers"]["authorization"] == "Bearer " + TOKEN_A
    assert got_b[0]["headers"]["authorization"] == "Bearer " + TOKEN_B
    assert got_a[0]["status"] == 200 and got_b[0]["status"] == 200
    assert got_a[0]["json"]["to"] == "15550100001"
    assert got_b[0]["json"]["to"] == "15550100002"
    assert "Welcome to number A" in got_a[0]["body"]
    assert "Welcome to number B, sales" in got_b[0]["body"]
    # Meta's 200 is recorded by the fake before the worker commits it.
    want = {(A, "15550100001", "accepted"), (B, "15550100002", "accepted")}

    def settled():
        rows = s.q("SELECT phone_number_id, recipient, state FROM outbox")
        return {(r["phone_number_id"], r["recipient"], r["state"]) for r in rows} == want
    wait_until(settled, what="both rows accepted, each on its own number")
    # No secret in the log.
    assert TOKEN_B not in s.logtext()


def test_token_refused_pauses_only_the_numbers_using_it(make, graph):
    s = make()
    graph.set_number(B, NODE, token="rotated-by-meta")   # B's token no longer works
    post(s, B, "15550200001")
    wait_until(lambda: s.q("SELECT 1 FROM sender_status WHERE phone_number_id = ? AND "
                           "paused_reason = 'token_invalid'", B), what="B paused")
    refused = sends(graph, B)
    assert [r["status"] for r in refused] == [401]
    post(s, B, "15550200002")
    post(s, A, "15550200003")
    wait_until(lambda: sends(graph, A), what="number A's reply")
    s.wait_applied()
    # A sends, and is not paused; B's rows wait (queued, not failed) and
    # nothing more went out for B after its token was refused.
    assert not s.q("SELECT 1 FROM sender_status WHERE phone_number_id = ? AND "
                   "paused_reason IS NOT NULL", A)
    b_rows = s.q("SELECT state FROM outbox WHERE phone_number_id = ?", B)
    assert [r["state"] for r in b_rows] == ["queued", "queued"]
    assert len(sends(graph, B)) == 1
    assert "sending from every number using it is paused" in s.logtext()


def test_low_rate_on_one_number_does_not_slow_the_other(make, graph):
    # Few calls in flight, so that the rows looked at per pass (twice the
    # free slots) are all B's: A's must still be seen and go.
    s = make(b_rate=1, WA_SEND_INFLIGHT="4")
    for i in range(30):
        post(s, B, "155503%05d" % i)
    s.wait_applied()
    for i in range(10):
        post(s, A, "155504%05d" % i)
    wait_until(lambda: len(sends(graph, A)) >= 10, what="A's ten replies")
    order = [r["path"].split("/")[2] for r in graph.requests("/v") if r["path"].endswith("/messages")]
    last_a = max(i for i, p in enumerate(order) if p == A)
    b_before = sum(1 for p in order[:last_a] if p == B)
    # B goes one a second (a burst of one); A was not held behind B's rows.
    assert b_before < 10, order
    assert len(sends(graph, A)) == 10


def test_token_variable_unset_keeps_its_rows_queued(make, graph):
    s = make()
    post(s, C, "15550300001")
    wait_until(lambda: s.q("SELECT 1 FROM sender_status WHERE phone_number_id = ? AND "
                           "paused_reason = 'token_missing'", C), what="C shown paused")
    wait_until(lambda: s.q("SELECT 1 FROM outbox WHERE phone_number_id = ?", C),
               what="C's reply queued")
    post(s, A, "15550300002")
    wait_until(lambda: sends(graph, A), what="number A's reply")
    assert [r["state"] for r in s.q("SELECT state FROM outbox WHERE phone_number_id = ?", C)] \
        == ["queued"]
    assert sends(graph, C) == []
    log = s.logtext()
    assert "WHATSAPP_ACCESS_TOKEN_GONE is not set" in log
    assert "c-token" not in log


def test_removed_number_rows_fail_clearly(make, graph):
    s = make(remove_b=True)
    post(s, B, "15550500001")
    row = wait_until(lambda: s.q("SELECT * FROM outbox WHERE phone_number_id = ? AND "
                                 "state = 'failed'", B), what="B's row failed")[0]
    assert row["error_title"] == "number_removed"
    assert "wactl numbers add" in row["error_details"]
    assert sends(graph, B) == []


def test_unknown_number_is_applied_and_logged_once(make, graph):
    s = make()
    post(s, UNKNOWN, "15550400001")
    post(s, UNKNOWN, "15550400002")
    s.wait_applied()
    assert len(s.q("SELECT 1 FROM messages WHERE phone_number_id = ? AND direction = 'in'", UNKNOWN)) == 2
    line = ("webhooks for number %s which is not configured (wactl numbers add %s)"
            % (UNKNOWN, UNKNOWN))
    assert s.logtext().count(line) == 1
    # Configured numbers are not named.
    post(s, A, "15550400003")
    s.wait_applied()
    assert "webhooks for number %s" % A not in s.logtext()


def test_bad_flow_of_a_number_stops_the_start_naming_both(graph, tmp_path):
    fb = tmp_path / "flow_b.json"
    fb.write_text(json.dumps(flow("fine for now")))
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WHATSAPP_ACCESS_TOKEN_SALES": TOKEN_B})
    try:
        ok(wactl(s, "migrate"))
        ok(wactl(s, "numbers", "add", B, "--label", "sales", "--token-env",
                 "WHATSAPP_ACCESS_TOKEN_SALES", "--flow", str(fb)))
        fb.write_text('{"start": "nowhere", "nodes": {}}')
        with pytest.raises(RuntimeError) as e:
            s.start()
        msg = str(e.value)
        assert "number %s" % B in msg and str(fb) in msg
    finally:
        s.close()


def test_tier_limit_is_the_numbers_own_tier(make, graph):
    # WA_TIER_LIMIT says 2, but Meta reports number A at TIER_1K: its
    # own tier counts (the reach is counted per number as before).
    s = make(WA_TIER_LIMIT="2")
    graph.set_number(A, dict(NODE, messaging_limit_tier="TIER_1K"), token=TOKEN_A)
    ok(wactl(s, "numbers", "add", A, "--label", "default"))
    assert s.q("SELECT messaging_limit_tier t FROM numbers WHERE phone_number_id = ?", A)[0]["t"] \
        == "TIER_1K"
    old = int(time.time()) - 30 * 3600
    who = ["15550600%03d" % i for i in range(3)]
    for w in who:
        post(s, A, w, ts=old)
    s.wait_applied()
    for w in who:
        r = wactl(s, "send", input=json.dumps({
            "to": w, "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"}}}))
        assert r.returncode == 0, r.stderr
    assert len(s.q("SELECT 1 FROM outbox WHERE business_initiated = 1")) == 3
