"""make bench, sending part: wa-worker's sender against the fake Graph API
(tests/e2e/fake_graph.py) on the real stack.  Prints figures; asserts
nothing (it is not a test).

  1. accepted messages per second with the rate limit raised to 1,000/s;
  2. the achieved rate against the default 80/s over 30 seconds;
  3. queue-to-Graph latency of single messages (outbox commit -> fake Graph);
  4. a webhook's 200 to the chatbot's reply arriving at the fake Graph.

Rows are queued straight into the outbox table for 1 and 2 (the sender is
what is measured, not wactl's process start-up); 3 goes through wactl."""
import json
import os
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
from fake_graph import FakeGraph  # noqa: E402
from stack import BUILD, Stack  # noqa: E402

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID
RATE_SECONDS = int(os.environ.get("BENCH_RATE_SECONDS", "30"))


def seed(s, n, recipients):
    """Contacts with an open window and n queued text rows, round robin."""
    now = int(time.time())
    db = sqlite3.connect(os.path.join(s.state, "wa.db"), timeout=30)
    with db:
        for i in range(recipients):
            wa = "1556%07d" % i
            cur = db.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at) "
                             "VALUES (?, ?, ?, ?)", (PNID, wa, now, now))
            db.execute("INSERT INTO conversations (phone_number_id, contact_id, last_inbound_at, "
                       "window_expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
                       (PNID, cur.lastrowid, now, now + 86400, now))
        rows = []
        for i in range(n):
            wa = "1556%07d" % (i % recipients)
            body = json.dumps({"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": wa, "type": "text", "text": {"body": "bench %d" % i}},
                              separators=(",", ":"))
            rows.append((PNID, wa, body, "bench %d" % i, int(time.time() * 1000)))
        db.executemany("INSERT INTO outbox (phone_number_id, recipient, kind, body, text, free_form, "
                       "source, next_attempt_at, created_at) VALUES (?, ?, 'text', ?, ?, 1, 'bench', ?, ?)",
                       [r + (r[4],) for r in rows])
    db.close()


def stack(graph, **env):
    extra = {"WHATSAPP_GRAPH_URL": graph.url, "WA_PAIR_BURST": "45", "WA_PAIR_INTERVAL_MS": "0",
             "WA_BOT": "off"}
    extra.update(env)
    return Stack(extra_env=extra)


def accepted(s):
    return s.q("SELECT count(*) n FROM outbox WHERE state = 'accepted'")[0]["n"]


def burst(graph, n=6000):
    """Throughput with the limit raised: n rows to n/10 recipients."""
    s = stack(graph, WA_SEND_RATE="1000", WA_SEND_INFLIGHT="64")
    try:
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, check=True,
                       capture_output=True)
        seed(s, n, n // 10)
        graph.reset()
        s.start()
        deadline = time.time() + 120
        while accepted(s) < n and time.time() < deadline:
            time.sleep(0.1)
        t = sorted(r["t"] for r in graph.requests(MSGS))
        done = accepted(s)
        span = t[-1] - t[0] if len(t) > 1 else float("nan")
        return done, len(t), span
    finally:
        s.close()


def paced(graph, rate=80):
    """The achieved rate against a configured rate over RATE_SECONDS."""
    n = rate * (RATE_SECONDS + 10)
    s = stack(graph, WA_SEND_RATE=str(rate))
    try:
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, check=True,
                       capture_output=True)
        seed(s, n, 2000)
        graph.reset()
        s.start()
        time.sleep(RATE_SECONDS + 3)
        t = sorted(r["t"] for r in graph.requests(MSGS))
        t0 = t[0] + 1.0   # past the first burst of the bucket
        inside = [x for x in t if t0 <= x < t0 + RATE_SECONDS]
        return len(inside) / RATE_SECONDS
    finally:
        s.close()


def latency(graph, n=200):
    """wactl send: the row's created_at (when it was committed to the
    outbox) -> the request at the fake Graph, one message at a time."""
    s = stack(graph)
    try:
        s.start()
        now = int(time.time())
        with s.db() as db:
            cur = db.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at) "
                             "VALUES (?, '15557770000', ?, ?)", (PNID, now, now))
            db.execute("INSERT INTO conversations (phone_number_id, contact_id, last_inbound_at, "
                       "window_expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
                       (PNID, cur.lastrowid, now, now + 86400, now))
        graph.reset()
        lat = []
        for i in range(n):
            n0 = graph.count()
            r = subprocess.run([os.path.join(BUILD, "wactl"), "send", "--to", "15557770000",
                                "--text", "ping %d" % i], env=s.env, capture_output=True, text=True)
            oid = int(r.stdout)
            while graph.count() == n0:
                time.sleep(0.0005)
            got = graph.requests(MSGS)[-1]
            assert got["json"]["biz_opaque_callback_data"] == "outbox:%d" % oid
            queued = s.q("SELECT created_at FROM outbox WHERE id = ?", oid)[0]["created_at"]
            lat.append(got["t"] * 1000 - queued)
        lat.sort()
        return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    finally:
        s.close()


def bot_latency(graph, n=300):
    """A customer's "hi" acknowledged (200) -> the bot's menu at the Graph;
    one customer at a time, each new."""
    s = stack(graph, WA_BOT="on")
    try:
        s.start()
        graph.reset()
        with open(os.path.join(os.path.dirname(HERE), "tests", "fixtures", "webhooks",
                               "text.json"), "rb") as f:
            doc = json.load(f)
        lat = []
        for i in range(n):
            who = "1558%07d" % i
            v = doc["entry"][0]["changes"][0]["value"]
            v["contacts"][0]["wa_id"] = who
            v["messages"][0].update({"from": who, "id": "wamid.lat.%d" % i,
                                     "timestamp": str(int(time.time()))})
            v["messages"][0]["text"]["body"] = "hi"
            n0 = graph.count()
            st, _, _ = s.post(json.dumps(doc).encode())
            t_ack = time.time()
            assert st == 200
            while graph.count() == n0:
                time.sleep(0.0005)
            got = graph.requests(MSGS)[-1]
            assert got["json"]["to"] == who
            lat.append((got["t"] - t_ack) * 1000)
        lat.sort()
        return lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    finally:
        s.close()


def main():
    graph = FakeGraph(token="test-token")
    try:
        done, calls, span = burst(graph)
        print("sender, limit raised to 1000/s: %d accepted, %d calls in %.2f s = %.0f messages/s"
              % (done, calls, span, calls / span))
        r = paced(graph)
        print("sender, WA_SEND_RATE=80: achieved %.1f messages/s over %d s (%+.1f %%)"
              % (r, RATE_SECONDS, (r / 80 - 1) * 100))
        p50, p99 = latency(graph)
        print("sender, committed to the outbox -> at Graph (one at a time): p50 %.1f ms  p99 %.1f ms"
              % (p50, p99))
        p50, p99 = bot_latency(graph)
        print("chatbot, webhook 200 -> reply at Graph (one customer at a time): p50 %.1f ms  "
              "p99 %.1f ms" % (p50, p99))
    finally:
        graph.close()


if __name__ == "__main__":
    main()
