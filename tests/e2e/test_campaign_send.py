"""Template campaigns sent by the worker (issue 16, campsend): recipients
handed to the outbox a window at a time, paced, within the messaging
tier, never twice after a crash, with the outbox's answers and Meta's
statuses rolled up into the recipients.  Real stack + fake Graph.

Campaigns and recipients are written here with sqlite3 the way the
campaigns API writes them (one transaction); the worker picks them up on
its timer."""
import json
import os
import signal
import subprocess
import time

import pytest

from fake_graph import FakeGraph
from stack import BUILD, fixture, started, wait_until

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID
RATE = 10                       # WA_SEND_RATE of these stacks
WINDOW = 2 * RATE               # campsend.c: WINDOW_S seconds' worth
BATCH = 50                      # campsend.c: BATCH_MAX
WABA = "1000000001"
NODE = {"display_phone_number": "+1 555-010-1111", "verified_name": "Acme",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
INTERRUPTED = ("interrupted: the worker stopped during the call; not sent again so "
               "nobody gets it twice")

_seq = [0]


def make_stack(graph, **env):
    extra = {"WHATSAPP_GRAPH_URL": graph.url, "WA_SEND_RATE": str(RATE), "WA_TIER_LIMIT": "0",
             "WA_BOT": "off"}
    extra.update(env)
    return started(extra_env=extra)


@pytest.fixture(scope="module")
def graph():
    with FakeGraph(app_secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0") as g:
        yield g


@pytest.fixture(scope="module")
def gw(graph):
    s = make_stack(graph)
    try:
        graph.set_number(PNID, NODE)
        r = wactl(s, "numbers", "add", PNID, "--waba", WABA, "--label", "default")
        assert r.returncode == 0, r.stderr
        graph.set_templates(WABA, [{
            "id": "880000101", "name": "order_note", "language": "en_US", "status": "APPROVED",
            "category": "MARKETING", "parameter_format": "POSITIONAL",
            "quality_score": {"score": "GREEN", "date": 1767300000}, "rejected_reason": "NONE",
            "components": [{"type": "BODY", "text": "Hello {{1}}, news for you."}]}])
        r = wactl(s, "templates", "sync")
        assert r.returncode == 0, r.stderr
        yield s
    finally:
        s.close()


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=120)


def numbers(n):
    """n fresh customer numbers, never used by another test here."""
    _seq[0] += 1
    return ["1555%03d%05d" % (_seq[0], i) for i in range(n)]


def campaign(s, rows, template="spring_sale", language="en_US", state="scheduled", start_at=None,
             name=None):
    """Writes a campaign and its recipients in one transaction, as the
    camp side does.  rows: wa_id, or (wa_id, params), or (wa_id, params,
    state, reason).  Returns the campaign id."""
    now = int(time.time() * 1000)
    _seq[0] += 1
    with s.db() as c:
        cur = c.execute(
            "INSERT INTO campaigns (name, phone_number_id, template, language, source, state, "
            "start_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name or "c%d" % _seq[0], PNID, template, language, '{"file":"t.csv"}', state,
             start_at if start_at is not None else now, now, now))
        cid = cur.lastrowid
        for i, r in enumerate(rows):
            r = (r,) if isinstance(r, str) else tuple(r)
            wa, params = r[0], r[1] if len(r) > 1 else []
            st, reason = (r[2], r[3]) if len(r) > 2 else ("queued", None)
            c.execute("INSERT INTO campaign_recipients (campaign_id, line, wa_id, params, state, "
                      "reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (cid, i + 2, wa, json.dumps(params), st, reason, now))
    return cid


def camp(s, cid):
    return s.q("SELECT * FROM campaigns WHERE id = ?", cid)[0]


def recipients(s, cid):
    return {r["wa_id"]: r for r in s.q("SELECT * FROM campaign_recipients WHERE campaign_id = ?", cid)}


def wait_done(s, cid, timeout=60):
    wait_until(lambda: camp(s, cid)["state"] == "done", timeout,
               "campaign %d done (%s)" % (cid, camp(s, cid)))
    return camp(s, cid)


def template_requests(g, tos):
    """The template send requests the fake Graph got, by recipient."""
    tos = set(tos)
    got = {}
    for r in g.requests(MSGS):
        j = r["json"] or {}
        if j.get("type") == "template" and j.get("to") in tos:
            got.setdefault(j["to"], []).append(r)
    return got


def handed(s, cid):
    return s.q("SELECT count(*) n FROM campaign_recipients WHERE campaign_id = ? AND "
               "outbox_id IS NOT NULL", cid)[0]["n"]


def test_each_recipient_gets_one_template_with_its_parameters(gw, graph):
    s = gw
    tos = numbers(25)
    opted, invalid = numbers(2)
    bare = tos[-1]
    now = int(time.time())
    with s.db() as c:
        c.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at, "
                  "opted_out, opted_out_at) VALUES (?, ?, ?, ?, 1, ?)", (PNID, opted, now, now, now))
    rows = [(t, ["Ann %d" % i, "CODE%d" % i]) for i, t in enumerate(tos[:-1])]
    rows += [(bare, []), (opted, ["Olga", "X"]), (invalid, ["Ivan", "Y"], "skipped", "invalid_number")]
    cid = campaign(s, rows)
    c = wait_done(s, cid)
    assert c["finished_at"] is not None and c["wait_until"] is None

    got = template_requests(graph, tos + [opted, invalid])
    assert sorted(got) == sorted(tos)
    assert all(len(v) == 1 for v in got.values()), {k: len(v) for k, v in got.items() if len(v) != 1}
    for i, t in enumerate(tos[:-1]):
        j = got[t][0]["json"]
        assert j["messaging_product"] == "whatsapp" and j["recipient_type"] == "individual"
        assert j["template"]["name"] == "spring_sale"
        assert j["template"]["language"] == {"code": "en_US"}
        assert j["template"]["components"] == [{"type": "body", "parameters": [
            {"type": "text", "text": "Ann %d" % i}, {"type": "text", "text": "CODE%d" % i}]}]
    assert "components" not in got[bare][0]["json"]["template"]

    rs = recipients(s, cid)
    for t in tos:
        assert rs[t]["state"] == "sent" and rs[t]["outbox_id"] is not None, rs[t]
        ob = s.q("SELECT source, idempotency_key, state FROM outbox WHERE id = ?", rs[t]["outbox_id"])[0]
        assert ob == {"source": "campaign", "idempotency_key": "campaign:%d:%d" % (cid, rs[t]["id"]),
                      "state": "accepted"}
    assert (rs[opted]["state"], rs[opted]["reason"], rs[opted]["outbox_id"]) == ("skipped", "opted_out", None)
    assert (rs[invalid]["state"], rs[invalid]["reason"]) == ("skipped", "invalid_number")


def test_meta_failures_become_failed_recipients(gw, graph):
    s = gw
    tos = numbers(6)
    codes = {tos[0]: 131026, tos[1]: 131049, tos[2]: 130472}
    for to, code in codes.items():
        graph.inject(code=code, match={"to": to})
    cid = campaign(s, [(t, ["x"]) for t in tos])
    wait_done(s, cid)
    rs = recipients(s, cid)
    for to, code in codes.items():
        r = rs[to]
        ob = s.q("SELECT state, error_code, error_title FROM outbox WHERE id = ?", r["outbox_id"])[0]
        assert ob["state"] == "failed" and ob["error_code"] == code
        assert (r["state"], r["error_code"], r["reason"]) == ("failed", code, ob["error_title"]), r
        assert r["reason"]
    assert all(rs[t]["state"] == "sent" for t in tos[3:])
    got = template_requests(graph, tos)
    assert all(len(got[t]) == 1 for t in tos)


def test_statuses_roll_up_forward_only(gw, graph):
    s = gw
    tos = numbers(3)
    cid = campaign(s, [(t, ["x"]) for t in tos])
    wait_done(s, cid)
    rs = recipients(s, cid)
    base = "http://127.0.0.1:%d" % s.port

    def status(to, st, code=None):
        ob = s.q("SELECT id, wamid FROM outbox WHERE id = ?", rs[to]["outbox_id"])[0]
        assert graph.post_status(base, s.secret, ob["wamid"], st, recipient=to,
                                 biz_opaque="outbox:%d" % ob["id"], error_code=code) == 200
        s.wait_applied()
        return s.q("SELECT state, error_code, reason FROM campaign_recipients WHERE id = ?",
                   rs[to]["id"])[0]

    a, b, c = tos
    assert status(a, "delivered")["state"] == "delivered"
    assert status(a, "read")["state"] == "read"
    assert status(a, "delivered")["state"] == "read"        # late: never undoes read
    assert status(a, "sent")["state"] == "read"
    assert status(b, "read")["state"] == "read"             # read before delivered
    assert status(b, "delivered")["state"] == "read"
    f = status(c, "failed", code=131026)
    assert (f["state"], f["error_code"]) == ("failed", 131026) and f["reason"]
    assert status(c, "delivered")["state"] == "failed"       # Meta's failure is final


def test_pause_stops_hand_over_within_the_window_and_resume_continues(gw, graph, tmp_path):
    """Through wactl: campaign create from a CSV, pause, resume, show."""
    s = gw
    tos = numbers(80)
    f = tmp_path / "spring.csv"
    f.write_text("wa_id,name\n" + "".join("%s,Name %d\n" % (t, i) for i, t in enumerate(tos)))
    r = wactl(s, "campaign", "create", "spring", "--number", "default", "--template", "order_note",
              "--language", "en_US", "--to", str(f))
    assert r.returncode == 0, r.stderr
    cid = s.q("SELECT id FROM campaigns WHERE name = 'spring'")[0]["id"]
    wait_until(lambda: len(template_requests(graph, tos)) >= 5, 30, "the first sends")
    r = wactl(s, "campaign", "pause", "spring")
    assert r.returncode == 0, r.stderr
    at_pause = len(template_requests(graph, tos))
    # A barrier: a one-recipient campaign made after the pause is done
    # only after the worker has looked at the due campaigns again.
    wait_done(s, campaign(s, numbers(1)))
    wait_until(lambda: s.q("SELECT count(*) n FROM outbox WHERE source = 'campaign' AND "
                           "state IN ('queued', 'sending')")[0]["n"] == 0, 30, "the window drained")
    sent = s.q("SELECT count(*) n FROM campaign_recipients WHERE campaign_id = ? AND state = 'sent'",
               cid)[0]["n"]
    got = template_requests(graph, tos)
    assert sum(len(v) for v in got.values()) == sent == handed(s, cid)   # what was handed went, once
    assert sent - at_pause <= WINDOW + BATCH and sent < len(tos)
    assert camp(s, cid)["state"] == "paused"

    r = wactl(s, "campaign", "resume", "spring")
    assert r.returncode == 0, r.stderr
    wait_done(s, cid)
    got = template_requests(graph, tos)
    assert sorted(got) == sorted(tos) and all(len(v) == 1 for v in got.values())
    for i, t in enumerate(tos):
        assert got[t][0]["json"]["template"]["components"][0]["parameters"] == [
            {"type": "text", "text": "Name %d" % i}]
    assert all(r["state"] == "sent" for r in recipients(s, cid).values())
    r = wactl(s, "campaign", "show", "spring")
    assert r.returncode == 0 and "queued 0, sent 80," in r.stdout, r.stdout + r.stderr


def test_bot_reply_is_not_queued_behind_a_long_campaign(graph):
    s = make_stack(graph, WA_BOT="on")
    try:
        tos = numbers(200)
        cid = campaign(s, [(t, ["x"]) for t in tos])
        wait_until(lambda: len(template_requests(graph, tos)) >= 3, 30, "the campaign sending")
        customer = numbers(1)[0]
        doc = json.loads(fixture("text.json"))
        v = doc["entry"][0]["changes"][0]["value"]
        v["contacts"][0]["wa_id"] = customer
        m = v["messages"][0]
        m.update({"from": customer, "timestamp": str(int(time.time())), "id": "wamid.in.camp.%s" % customer})
        m["text"]["body"] = "hello"
        assert s.post(json.dumps(doc).encode())[0] == 200

        def replied():
            return [r for r in graph.requests(MSGS) if (r["json"] or {}).get("to") == customer]
        wait_until(replied, 30, "the bot's reply")
        left = s.q("SELECT count(*) n FROM campaign_recipients WHERE campaign_id = ? AND state = 'queued' "
                   "AND outbox_id IS NULL", cid)[0]["n"]
        # Sent while most of the campaign still waits to be handed over.
        assert left >= len(tos) // 2, left
        assert camp(s, cid)["state"] == "running"
        with s.db() as c:
            c.execute("UPDATE campaigns SET state = 'cancelled' WHERE id = ?", (cid,))
    finally:
        s.close()


def test_tier_limit_sends_n_and_waits_for_the_window(graph):
    s = make_stack(graph, WA_TIER_LIMIT="4")
    try:
        tos = numbers(7)
        cid = campaign(s, [(t, ["x"]) for t in tos])
        wait_until(lambda: camp(s, cid)["wait_until"] is not None, 30, "the campaign waiting")
        wait_until(lambda: all(r["state"] != "queued" or r["outbox_id"] is None
                               for r in recipients(s, cid).values()), 30, "the handed ones sent")
        c = camp(s, cid)
        assert c["state"] == "running"
        got = template_requests(graph, tos)
        assert len(got) == 4 and all(len(v) == 1 for v in got.values())
        rs = recipients(s, cid)
        assert sum(1 for r in rs.values() if r["state"] == "sent") == 4
        assert sum(1 for r in rs.values() if r["state"] == "queued" and r["outbox_id"] is None) == 3
        oldest = s.q("SELECT min(created_at) t FROM outbox WHERE source = 'campaign' AND "
                     "business_initiated = 1")[0]["t"]
        assert c["wait_until"] == oldest + 24 * 3600 * 1000
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(c["wait_until"] // 1000))
        assert "tier" in c["wait_reason"] and when in c["wait_reason"], c["wait_reason"]
    finally:
        s.close()


def worker_pids(state):
    out = subprocess.run(["pgrep", "-x", "wa-worker"], capture_output=True, text=True).stdout.split()
    mine = []
    for p in out:
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if ("WA_STATE_DIR=" + state).encode() in f.read().split(b"\0"):
                    mine.append(int(p))
        except OSError:
            pass
    return mine


def test_crash_never_sends_a_recipient_twice(graph):
    s = make_stack(graph)
    try:
        tos = numbers(12)
        graph.set_delay(4000)
        cid = campaign(s, [(t, ["x"]) for t in tos])
        wait_until(lambda: s.q("SELECT count(*) n FROM outbox WHERE source = 'campaign' AND "
                               "state = 'sending'")[0]["n"] >= 2, 30, "sends in flight")
        wait_until(lambda: len(template_requests(graph, tos)) >= 2, 30, "calls at the fake Graph")
        pids = worker_pids(s.state)
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: (worker_pids(s.state) or [pids[0]])[0] != pids[0], 30, "a new worker")
        graph.set_delay(0)
        wait_done(s, cid)
        got = template_requests(graph, tos)
        assert all(len(v) == 1 for v in got.values()), {k: len(v) for k, v in got.items()}
        rs = recipients(s, cid)
        interrupted = [t for t in tos if rs[t]["state"] == "failed"]
        assert interrupted, rs
        for t in interrupted:
            assert (rs[t]["reason"], rs[t]["error_code"]) == (INTERRUPTED, None)
            assert t in got        # its call had reached Meta
        assert all(rs[t]["state"] == "sent" for t in tos if t not in interrupted)
        assert sorted(got) == sorted(tos)

        # Meta had it after all: its status rolls the recipient forward.
        t = interrupted[0]
        assert graph.post_status("http://127.0.0.1:%d" % s.port, s.secret, "wamid.late.%s" % t,
                                 "delivered", recipient=t,
                                 biz_opaque="outbox:%d" % rs[t]["outbox_id"]) == 200
        s.wait_applied()
        r = s.q("SELECT state, reason, error_code FROM campaign_recipients WHERE id = ?", rs[t]["id"])[0]
        assert r == {"state": "delivered", "reason": None, "error_code": None}
    finally:
        graph.set_delay(0)
        s.close()


def test_a_cancelled_outbox_row_skips_its_recipient(gw, graph):
    """A person cancels a campaign's queued outbox row (DELETE
    /outbox/{id}): its recipient is skipped, cancelled, and the campaign
    still ends."""
    s = gw
    tos = numbers(40)
    cid = campaign(s, [(t, ["x"]) for t in tos])

    def cancel():
        with s.db() as c:
            return c.execute("UPDATE outbox SET state = 'cancelled' WHERE state = 'queued' AND id IN "
                             "(SELECT outbox_id FROM campaign_recipients WHERE campaign_id = ?)",
                             (cid,)).rowcount
    n = wait_until(cancel, 30, "a queued campaign row to cancel")
    wait_done(s, cid)
    rs = recipients(s, cid)
    gone = [t for t in tos if s.q("SELECT state FROM outbox WHERE id = ?",
                                  rs[t]["outbox_id"])[0]["state"] == "cancelled"]
    assert len(gone) == n
    assert all((rs[t]["state"], rs[t]["reason"]) == ("skipped", "cancelled") for t in gone)
    assert all(rs[t]["state"] == "sent" for t in tos if t not in gone)
    got = template_requests(graph, tos)
    assert sorted(got) == sorted(set(tos) - set(gone)) and all(len(v) == 1 for v in got.values())


def test_a_recipient_no_request_can_be_made_of_fails_alone(gw, graph):
    s = gw
    tos = numbers(4)
    cid = campaign(s, [(tos[0], ["a"]), (tos[1], [7]), (tos[2], ["c"]), (tos[3], ["d"])])
    wait_done(s, cid)
    rs = recipients(s, cid)
    bad = rs[tos[1]]
    assert (bad["state"], bad["error_code"], bad["outbox_id"]) == ("failed", None, None)
    assert "parameters" in bad["reason"]
    assert all(rs[t]["state"] == "sent" for t in tos if t != tos[1])
    assert sorted(template_requests(graph, tos)) == sorted(t for t in tos if t != tos[1])


def test_a_scheduled_campaign_starts_at_its_time(gw, graph):
    s = gw
    tos = numbers(3)
    start = int(time.time() * 1000) + 2000
    cid = campaign(s, [(t, ["x"]) for t in tos], start_at=start)
    assert camp(s, cid)["state"] == "scheduled"
    c = wait_done(s, cid)
    reqs = [r for v in template_requests(graph, tos).values() for r in v]
    assert len(reqs) == 3 and min(r["t"] for r in reqs) >= start / 1000.0
    assert c["updated_at"] >= start and c["finished_at"] >= start
