"""Hand-off to an external AI agent: the worker posts the conversation and
the new message, signed, and sends back what the agent answers; timeouts
and failures end in a polite fallback and a person.  Also: a bad flow file
stops the worker at start, and `wactl release` hands a chat back."""
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import time

import pytest

from fake_graph import FakeGraph
from stack import BUILD, Stack, fixture

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID
SECRET = "agent-secret-" + os.urandom(4).hex()


class Agent:
    """A local agent: checks the signature, records calls, answers as told."""

    def __init__(self):
        self.calls = []
        self.mode = "answer"     # answer | slow | fail
        agent = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                agent.calls.append({"body": json.loads(body), "sig_ok": self.headers.get(
                    "X-Signature-256") == want, "auth": self.headers.get("Authorization")})
                if agent.mode == "slow":
                    time.sleep(2)
                if agent.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                text = "Agent says: you asked '%s'" % json.loads(body)["message"]["text"]
                out = json.dumps({"text": text}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/answer" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()


def flow(agent_url):
    return {
        "start": "main",
        "agent_url": agent_url,
        "nodes": {"main": {"kind": "buttons", "body": "How can we help?", "options": [
            {"id": "ai", "title": "Ask our assistant", "action": "hand_off_agent"},
            {"id": "person", "title": "Talk to a person", "action": "hand_off_person"}]}}}


NAMED = Agent()      # the operator's named agent (WA_AGENTS=helper=...)
STRANGER = Agent()   # an agent nobody configured: must never be called


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    agent = Agent()
    graph = FakeGraph(token="test-token")
    path = tmp_path_factory.mktemp("flow") / "flow.json"
    path.write_text(json.dumps(flow(agent.url)))
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_FLOW_FILE": str(path),
                         "WA_AGENT_SECRET": SECRET, "WA_AGENT_TIMEOUT_MS": "700",
                         "WA_PAIR_BURST": "45", "WA_PAIR_INTERVAL_MS": "0",
                         "WA_ALLOW_LOCAL_URLS": "on", "WA_AGENTS": "helper=" + NAMED.url})
    try:
        s.start()
        s.key = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", "agents"],
                               env=s.env, capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1]
        yield s, graph, agent
    finally:
        s.close()
        graph.close()
        agent.close()


def conv_id(s, who):
    return s.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE c.wa_id = ?", who)[0]["id"]


def patch(s, cid, doc):
    st, _, b = s.request("PATCH", "/api/whatsapp/conversations/%d" % cid, json.dumps(doc).encode(),
                         {"Authorization": "Bearer " + s.key, "Content-Type": "application/json"})
    return st, json.loads(b)


def say(s, who, text=None, tap=None):
    doc = json.loads(fixture("interactive_button_reply.json" if tap else "text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = who
    m = v["messages"][0]
    m.update({"from": who, "timestamp": str(int(time.time())),
              "id": "wamid.agent.%s" % os.urandom(8).hex()})
    if tap:
        m["interactive"]["button_reply"] = {"id": tap[0], "title": tap[1]}
        m.pop("context", None)
    else:
        m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()


def texts_to(graph, who, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [r["json"] for r in graph.requests(MSGS) if (r["json"] or {}).get("to") == who]
        if len(got) >= n:
            return got
        time.sleep(0.02)
    raise AssertionError("%d messages to %s, wanted %d" % (len(got), who, n))


def queued(s, who):
    return s.q("SELECT count(*) n FROM outbox WHERE recipient = ?", who)[0]["n"]


def release(s, who):
    r = subprocess.run([os.path.join(BUILD, "wactl"), "release", who], env=s.env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def assignee(s, who):
    return s.q("SELECT v.assignee FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE c.wa_id = ?", who)[0]["assignee"]


def test_agent_answers(env):
    s, graph, agent = env
    agent.mode = "answer"
    who = "15550401001"
    say(s, who, "hi")
    menu = texts_to(graph, who, 1)[0]
    assert menu["interactive"]["action"]["buttons"][0]["reply"] == {"id": "main:ai",
                                                                   "title": "Ask our assistant"}
    say(s, who, tap=("main:ai", "Ask our assistant"))
    assert assignee(s, who) == "agent:" + agent.url
    n0 = len(texts_to(graph, who, 2))
    say(s, who, "Where is my order A-1042?")
    got = texts_to(graph, who, n0 + 1)
    assert got[-1]["text"]["body"] == "Agent says: you asked 'Where is my order A-1042?'"
    call = agent.calls[-1]
    assert call["sig_ok"] and call["auth"] is None       # signed, never our token
    assert call["body"]["contact"] == {"wa_id": who}
    assert call["body"]["message"]["text"] == "Where is my order A-1042?"
    hist = [m["text"] for m in call["body"]["conversation"]]
    assert hist[0] == "hi" and hist[-1] == "Where is my order A-1042?"
    assert s.q("SELECT state FROM agent_requests ORDER BY id DESC LIMIT 1")[0]["state"] == "answered"


@pytest.mark.parametrize("mode", ["slow", "fail"])
def test_agent_timeout_or_failure_falls_back_to_a_person(env, mode):
    s, graph, agent = env
    who = "1555040200%d" % (mode == "fail")
    agent.mode = "answer"
    say(s, who, "hi")
    say(s, who, tap=("main:ai", "Ask our assistant"))
    n0 = len(texts_to(graph, who, 2))
    agent.mode = mode
    calls0 = len(agent.calls)
    say(s, who, "are you there?")
    got = texts_to(graph, who, n0 + 1, timeout=15)
    assert got[-1]["text"]["body"].startswith("Sorry, our assistant cannot answer right now.")
    assert len(agent.calls) - calls0 == 2                 # tried, then once more
    row = s.q("SELECT state, attempts, error FROM agent_requests ORDER BY id DESC LIMIT 1")[0]
    assert row["state"] == "failed" and row["attempts"] == 2 and row["error"]
    assert assignee(s, who) == "person"
    agent.mode = "answer"
    calls1 = len(agent.calls)
    say(s, who, "hello?")                                 # a person answers now: bot silent
    # Applied (say waits): nothing was queued for it.  The marker: handed
    # back, the next message is answered, and it is the only new reply.
    release(s, who)
    say(s, who, "hi")
    assert queued(s, who) == n0 + 2        # replies ride with their cause
    got = texts_to(graph, who, n0 + 2)
    assert len(got) == n0 + 2 and got[-1]["type"] == "interactive"
    assert len(agent.calls) == calls1


def test_hand_off_to_person_and_release(env):
    s, graph, agent = env
    who = "15550403001"
    say(s, who, "hi")
    say(s, who, tap=("main:person", "Talk to a person"))
    n = len(texts_to(graph, who, 2))
    assert assignee(s, who) == "person"
    say(s, who, "hello?")                                 # the bot stays silent
    release(s, who)
    assert assignee(s, who) == "bot"
    say(s, who, "hi")
    # The marker: the menu for "hi" arrived, and nothing came for "hello?".
    assert queued(s, who) == n + 1         # replies ride with their cause
    got = texts_to(graph, who, n + 1)
    assert len(got) == n + 1 and got[-1]["type"] == "interactive"
    r = subprocess.run([os.path.join(BUILD, "wactl"), "release", "15559999999"], env=s.env,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "no conversation" in r.stderr


def test_bad_flow_stops_worker_at_start(tmp_path):
    bad = flow("ftp://nowhere")
    bad["nodes"]["main"]["options"].append({"id": "x", "title": "An option title far too long",
                                            "goto": "missing"})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    s = Stack(extra_env={"WA_FLOW_FILE": str(path)})
    try:
        r = subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, capture_output=True)
        assert r.returncode == 0
        r = subprocess.run([os.path.join(BUILD, "wa-worker")], env=s.env, capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0
        assert "nodes.main.options[2].title" in r.stderr
        assert "nodes.main.options[2].goto: unknown node \"missing\"" in r.stderr
        assert "agent_url" in r.stderr
        r = subprocess.run([os.path.join(BUILD, "wactl"), "flows", "check", str(path)],
                           env=s.env, capture_output=True, text=True)
        assert r.returncode == 1 and "4 problems" in r.stderr
        ok = subprocess.run([os.path.join(BUILD, "wactl"), "flows", "check",
                             os.path.join(os.path.dirname(BUILD), "deploy", "flows", "default.json")],
                            env=s.env, capture_output=True, text=True)
        assert ok.returncode == 0 and "OK" in ok.stdout
    finally:
        s.close()


def test_agent_flow_needs_a_secret(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow("https://agent.example/answer")))
    s = Stack(extra_env={"WA_FLOW_FILE": str(path)})
    try:
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, check=True,
                       capture_output=True)
        r = subprocess.run([os.path.join(BUILD, "wa-worker")], env=s.env, capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0 and "WA_AGENT_SECRET" in r.stderr
    finally:
        s.close()


@pytest.mark.parametrize("target", [
    STRANGER.url,                                   # any URL a key holder picks
    "https://agent.example/answer",
    "http://localhost:80@evil.example/",            # reads like localhost, is not
    "nosuchagent"])
def test_assigning_an_unconfigured_agent_is_refused(env, target):
    s, graph, agent = env
    who = "15550404%03d" % (int(hashlib.sha256(target.encode()).hexdigest(), 16) % 1000)
    say(s, who, "hi")
    texts_to(graph, who, 1)
    st, e = patch(s, conv_id(s, who), {"assignee": "agent:" + target})
    assert st == 422, e
    assert e["error"]["code"] == "unknown_agent" and e["error"]["field"] == "assignee"
    assert "configured" in e["error"]["message"]
    assert assignee(s, who) == "bot"                    # nothing half-written


def test_assigning_a_named_or_flow_agent_works(env):
    s, graph, agent = env
    who = "15550405001"
    say(s, who, "hi")
    n0 = len(texts_to(graph, who, 1))
    st, row = patch(s, conv_id(s, who), {"assignee": "agent:helper"})
    assert st == 200 and row["assignee"] == "agent:helper"
    calls0 = len(NAMED.calls)
    say(s, who, "question for the helper")
    got = texts_to(graph, who, n0 + 1)
    assert got[-1]["text"]["body"] == "Agent says: you asked 'question for the helper'"
    assert len(NAMED.calls) == calls0 + 1 and NAMED.calls[-1]["sig_ok"]
    # The flow's own agent, and a configured agent by its exact URL, are fine too.
    assert patch(s, conv_id(s, who), {"assignee": "agent:" + agent.url})[0] == 200
    assert patch(s, conv_id(s, who), {"assignee": "agent:" + NAMED.url})[0] == 200


def test_old_row_naming_an_unknown_agent_is_not_called(env):
    """A conversation assigned before agents were checked (or to an agent
    since removed) must not make the worker send anything to that URL."""
    s, graph, agent = env
    who = "15550406001"
    say(s, who, "hi")
    texts_to(graph, who, 1)
    with s.db() as c:
        c.execute("UPDATE conversations SET assignee = ? WHERE id = ?",
                  ("agent:" + STRANGER.url, conv_id(s, who)))
    say(s, who, "my order details, please")
    deadline = time.time() + 10
    while time.time() < deadline and assignee(s, who) != "person":
        time.sleep(0.02)
    assert assignee(s, who) == "person"                 # a person sees it instead
    assert STRANGER.calls == []
    assert s.q("SELECT count(*) n FROM agent_requests WHERE url = ?", STRANGER.url)[0]["n"] == 0


def test_queued_call_to_an_unknown_agent_is_not_made(env):
    """An agent call queued before agents were checked (or to an agent
    since removed) is dropped by the worker: a person takes over."""
    s, graph, agent = env
    who = "15550407001"
    say(s, who, "hi")
    n0 = len(texts_to(graph, who, 1))
    cid = s.q("SELECT id FROM contacts WHERE wa_id = ?", who)[0]["id"]
    now = int(time.time() * 1000)
    with s.db() as c:
        c.execute("INSERT INTO agent_requests (phone_number_id, contact_id, recipient, url, body, "
                  "next_attempt_at, created_at) VALUES (?, ?, ?, ?, '{}', ?, ?)",
                  (PNID, cid, who, STRANGER.url, now, now))
    deadline = time.time() + 10
    while time.time() < deadline and s.q("SELECT state FROM agent_requests WHERE url = ?",
                                         STRANGER.url)[0]["state"] == "queued":
        time.sleep(0.02)
    row = s.q("SELECT state, error FROM agent_requests WHERE url = ?", STRANGER.url)[0]
    assert row["state"] == "failed" and "not configured" in row["error"]
    assert STRANGER.calls == []
    assert texts_to(graph, who, n0 + 1)[-1]["text"]["body"].startswith("Sorry, our assistant")
    assert assignee(s, who) == "person"


def test_agent_call_without_a_secret_is_not_made():
    """No WA_AGENT_SECRET (the bot off, so nothing refused the start): a
    queued call would go out signed with an empty key; it is dropped."""
    graph = FakeGraph(token="test-token")
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off",
                         "WA_ALLOW_LOCAL_URLS": "on", "WA_AGENTS": "helper=" + NAMED.url})
    try:
        s.start()
        who = "15550408001"
        say(s, who, "hi")
        cid = s.q("SELECT id FROM contacts WHERE wa_id = ?", who)[0]["id"]
        calls0, now = len(NAMED.calls), int(time.time() * 1000)
        with s.db() as c:
            c.execute("INSERT INTO agent_requests (phone_number_id, contact_id, recipient, url, "
                      "body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, '{}', ?, ?)",
                      (PNID, cid, who, NAMED.url, now, now))
        deadline = time.time() + 10
        while time.time() < deadline and s.q("SELECT state FROM agent_requests")[0]["state"] == "queued":
            time.sleep(0.02)
        row = s.q("SELECT state, error FROM agent_requests")[0]
        assert row["state"] == "failed" and "WA_AGENT_SECRET" in row["error"]
        assert len(NAMED.calls) == calls0
    finally:
        s.close()
        graph.close()


def test_local_agent_needs_the_setting(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow("http://127.0.0.1:9/answer")))
    s = Stack(extra_env={"WA_FLOW_FILE": str(path), "WA_AGENT_SECRET": SECRET,
                         "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9"})
    try:
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, check=True,
                       capture_output=True)
        r = subprocess.run([os.path.join(BUILD, "wa-worker")], env=s.env, capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0 and "WA_ALLOW_LOCAL_URLS" in r.stderr
        bad = dict(s.env, WA_ALLOW_LOCAL_URLS="on", WA_AGENTS="x=http://localhost:80@evil.example/")
        r = subprocess.run([os.path.join(BUILD, "wa-worker")], env=bad, capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0 and "WA_AGENTS" in r.stderr
    finally:
        s.close()
