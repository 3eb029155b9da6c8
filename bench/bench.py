"""make bench: webhook acknowledgement throughput and latency through the
real nginx + spawn-fcgi + wa-fcgi, against the transport ceiling (an empty
FastCGI responder) and a FastAPI + SQLAlchemy receiver in two shapes behind
the same nginx, for WA_SYNCHRONOUS=FULL and NORMAL; then the worker's apply
rate on a backlog, bot on and off.  Prints figures; asserts nothing (it is not a
test).

Traffic: every body is a distinct, signed text webhook as Meta sends it,
stamped when the load is generated (just before each run: within the
24-hour window, so the chatbot answers), each customer a new wa_id writing
a short session ("hi", "1", "1", an order number) that the default flow
answers message by message.  The worker is pointed at the fake Graph API
(tests/e2e/fake_graph.py) and sends the replies at the default
WA_SEND_RATE (80/s): what a number may send.  Ours runs with WA_BOT=on
(the default, what README quotes) and again with WA_BOT=off.

Each measurement: a warm-up run that is not counted, then BENCH_REPEATS
(3) closed-loop wrk runs of BENCH_SECONDS; printed is the median and the
range (min-max) of the 2xx answers a second (only 2xx count), with the
non-2xx answers, socket errors and timeouts of all runs.  Then one
open-loop run (bench/openloop.c, wrk2's method: a fixed schedule at
BENCH_OPEN_FRACTION (0.7) of the median, latency from the scheduled send
time) gives the latency percentiles that a closed loop understates.
After each run of ours the bench waits until the worker has applied and
indexed everything (and says how long that took), so one run's backlog
does not slow the next; the peers are measured first, while our worker
idles.

Many numbers (issue 13): the case FULL, WA_BOT=on is run again with the
same traffic spread over BENCH_NUMBERS (20) business numbers, customer by
customer; every other number runs its own flow file (a copy of the
default) and sends with its own token (WHATSAPP_ACCESS_TOKEN_N<k>, the
fake Graph taking only that one for it), the rest WA_FLOW_FILE and
WHATSAPP_ACCESS_TOKEN.  Each number sends at WA_SEND_RATE, as by default
(up to 20 times the replies a second of one number, which the fake Graph,
a Python process on the same cores, must take too);
BENCH_NUMBERS_RATE=shared makes them share the one number's 80 a second
(wactl numbers --rate 80/BENCH_NUMBERS), to compare the work per webhook
alone.  Printed beside the one-number figure with their ratio.  `bench.py numbers` (`sh
bench/run.sh numbers`) runs only these two, one after the other.

BENCH_QUICK=1 shrinks every duration and size (for checking the bench, not
for figures)."""
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
from fake_graph import FakeGraph  # noqa: E402
from stack import BUILD, Stack  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = int(os.environ.get("BENCH_SECONDS", "3" if QUICK else "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP_SECONDS", "1" if QUICK else "3"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
OPEN_SECONDS = int(os.environ.get("BENCH_OPEN_SECONDS", "3" if QUICK else "10"))
OPEN_FRACTION = float(os.environ.get("BENCH_OPEN_FRACTION", "0.7"))
OPEN_CONNS = int(os.environ.get("BENCH_OPEN_CONNECTIONS", "128"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
BODIES = int(os.environ.get("BENCH_BODIES", "40000" if QUICK else "200000"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "10000" if QUICK else "50000"))
CORES = os.cpu_count() or 1
THREADS = 2
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
PNID = "200300400500600"        # the Stack's WHATSAPP_PHONE_NUMBER_ID
NUMBERS = int(os.environ.get("BENCH_NUMBERS", "20"))
RATE_EACH = os.environ.get("BENCH_NUMBERS_RATE", "each") != "shared"
SEND_RATE = 80                  # WA_SEND_RATE's default
NODE = {"display_phone_number": "+1 555-010-0000", "verified_name": "Bench",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
FLOW = os.path.join(os.path.dirname(HERE), "deploy", "flows", "default.json")

# A customer's session: the menu, the orders list, the lookup prompt, the
# lookup; the default flow answers each message.
OPENERS = ["hi", "Hello", "order status for A-%d please", "Where is my delivery? Order %d"]
BODY = ('{"object":"whatsapp_business_account","entry":[{"id":"100200300400500","changes":[{'
        '"field":"messages","value":{"messaging_product":"whatsapp","metadata":{'
        '"display_phone_number":"15550001111","phone_number_id":"%s"},'
        '"contacts":[{"profile":{"name":"Customer %d"},"wa_id":"%s"}],'
        '"messages":[{"from":"%s","id":"wamid.HBgLMTU1NTAwMDExMTEVAgASGBQz%s","timestamp":"%d",'
        '"type":"text","text":{"body":"%s"}}]}}]}]}')

_next_id = [0]       # message and customer numbers never repeat in a run of the bench


def pnids(n):
    """The phone_number_ids of n business numbers, the Stack's first."""
    return [PNID] + ["2003004%08d" % k for k in range(1, n)]


def body(i, ts, numbers=(PNID,)):
    """The i-th message of the bench: customer i // 4, message i % 4 of
    that customer's session, Meta's timestamp ts (unix seconds), written to
    one of numbers (customer by customer)."""
    who, j = divmod(i, 4)
    sender = "1555%07d" % who
    order = 10000 + who % 90000
    opener = OPENERS[who % len(OPENERS)]
    if j == 0:
        text = opener % order if "%d" in opener else opener
    else:
        text = "1" if j < 3 else str(order)
    return (BODY % (numbers[who % len(numbers)], who, sender, sender, "%012dBENCH" % i, ts - 3 + j,
                    text)).encode()


def make_bodies(path, n, numbers=(PNID,)):
    """n fresh bodies (new customers, new wamids, stamped now) signed as
    Meta signs them, in a file for post.lua and openloop."""
    first = _next_id[0]
    _next_id[0] += n + 4 - n % 4
    ts = int(time.time())
    key = SECRET.encode()
    with open(path, "wb") as f:
        for i in range(first, first + n):
            b = body(i, ts, numbers)
            f.write(b"sha256=" + hmac.new(key, b, hashlib.sha256).hexdigest().encode()
                    + b"\t" + b + b"\n")
    return path


def settle():
    """Flushes what earlier phases left dirty (the bodies file, the last
    run's database) so that its writeback does not land in the next
    measurement's fsyncs."""
    os.sync()
    time.sleep(0.2 if QUICK else 1)


def wrk(url, bodies, seconds):
    settle()
    env = dict(os.environ, BODIES=bodies, WRK_THREADS=str(THREADS))
    r = subprocess.run(["wrk", "-t%d" % THREADS, "-c%d" % CONNS, "-d%ds" % seconds, "--latency",
                        "-s", os.path.join(HERE, "post.lua"), url],
                       env=env, capture_output=True, text=True, timeout=seconds + 60)
    out = r.stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    if r.returncode != 0 or not m:
        raise RuntimeError("wrk failed:\n" + out + r.stderr)

    def lat(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        if not m:
            return float("nan")
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    n = int(m.group(1))
    dur = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
    lua = re.search(r"post\.lua: non2xx=(\d+) wrapped=(\d)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = int(lua.group(1))
    return {"ok_rps": (n - non2xx) / dur, "p50": lat(50), "p99": lat(99), "non2xx": non2xx,
            "errors": sum(int(x) for x in sock.groups()[:3]) if sock else 0,
            "timeouts": int(sock.group(4)) if sock else 0, "wrapped": lua.group(2) == "1",
            "seconds": dur, "requests": n}


def openloop(port, path, rate, bodies):
    settle()
    r = subprocess.run([os.path.join(BUILD, "openloop"), "127.0.0.1", str(port), path,
                        "%.0f" % rate, str(OPEN_SECONDS), str(OPEN_CONNS), bodies],
                       capture_output=True, text=True, timeout=OPEN_SECONDS + 60)
    if r.returncode != 0:
        raise RuntimeError("openloop failed: " + r.stdout + r.stderr)
    out = {}
    for kv in r.stdout.split():
        k, v = kv.split("=")
        out[k] = float(v)
    return out


class Ours:
    """Applied-and-indexed bookkeeping for our stack between runs."""

    def __init__(self, s):
        self.s = s
        self.catch_up = []
        self.applied_rate = []

    def after(self, r):
        """Waits for the worker to apply and index what the run stored."""
        t0 = time.time()
        self.s.wait_applied(600)
        dt = time.time() - t0
        self.catch_up.append(dt)
        self.applied_rate.append((r["requests"] - r["non2xx"]) / (r["seconds"] + dt))


def measure(name, url, port, path, bodies_for, ours=None):
    """Warm-up, REPEATS closed-loop runs, one open-loop run at
    OPEN_FRACTION of the median; bodies_for() gives a fresh bodies file."""
    r = wrk(url, bodies_for(), WARMUP)
    if ours:
        ours.after(r)
        ours.catch_up.clear()
        ours.applied_rate.clear()
    runs = []
    for _ in range(REPEATS):
        r = wrk(url, bodies_for(), SECONDS)
        runs.append(r)
        if ours:
            ours.after(r)
    med = statistics.median(x["ok_rps"] for x in runs)
    ol = openloop(port, path, max(1.0, med * OPEN_FRACTION), bodies_for())
    if ours:        # paced: its apply rate is the schedule's, not counted
        ours.s.wait_applied(600)
    return {"name": name, "runs": runs, "median": med,
            "lo": min(x["ok_rps"] for x in runs), "hi": max(x["ok_rps"] for x in runs),
            "p50": statistics.median(x["p50"] for x in runs),
            "p99": statistics.median(x["p99"] for x in runs),
            "non2xx": sum(x["non2xx"] for x in runs), "errors": sum(x["errors"] for x in runs),
            "timeouts": sum(x["timeouts"] for x in runs),
            "wrapped": any(x["wrapped"] for x in runs), "open": ol}


def show(tag, m, bodies_matter=True):
    """Two lines: closed loop, open loop.  A repeated body is flagged
    where it matters (ours: a repeat is a cheap duplicate)."""
    o = m["open"]
    if not bodies_matter:
        m = dict(m, wrapped=False)
        o = dict(o, wrapped=0)
    print("  %-26s %7.0f 2xx/s (range %.0f-%.0f)  closed p50 %6.2f ms p99 %7.2f ms  "
          "non-2xx %d  socket errors %d  timeouts %d%s"
          % (tag, m["median"], m["lo"], m["hi"], m["p50"], m["p99"], m["non2xx"], m["errors"],
             m["timeouts"], "  BODIES REPEATED" if m["wrapped"] else ""))
    print("  %-26s open loop at %.0f/s: %.0f 2xx/s  p50 %6.2f ms p90 %6.2f ms p99 %7.2f ms "
          "p99.9 %7.2f ms max %7.2f ms  non-2xx %d  socket errors %d  timeouts %d  unsent %d%s"
          % ("", o["rate"], o["achieved"], o["p50"], o["p90"], o["p99"], o["p999"], o["max"],
             o["non2xx"], o["errors"], o["timeouts"], o["unsent"],
             "  BODIES REPEATED" if o["wrapped"] else ""))
    sys.stdout.flush()


def stack(graph, sync, bot):
    # WA_WEBHOOK_CONNS: nginx's per-address cap on webhook connections
    # (64 by default) is for one abusive address; Meta delivers from many,
    # the load generators here from one, and the peers' locations have no
    # such cap.  The open loop holds up to 128 connections.
    s = Stack(secret=SECRET, extra_env={"WA_SYNCHRONOUS": sync, "WA_RESPONDERS": "4",
                                        "WA_BOT": bot, "WHATSAPP_GRAPH_URL": graph.url,
                                        "WA_WEBHOOK_CONNS": "1024"})
    st = s.state
    s.env["WA_NGINX_EXTRA"] = (
        "location = /bench/empty { include %s/nginx/wa_fastcgi_params; "
        "fastcgi_pass unix:%s/empty.sock; } "
        "location = /py/webhook { client_max_body_size 4m; proxy_http_version 1.1; "
        "proxy_pass http://unix:%s/py.sock; } "
        "location = /pyfair/webhook { client_max_body_size 4m; proxy_http_version 1.1; "
        "proxy_pass http://unix:%s/pyfair.sock; }" % (os.path.dirname(HERE), st, st, st))
    return s


def start_peers(st, sync):
    """The empty responder and both Python shapes; their processes."""
    procs = [subprocess.Popen(
        ["spawn-fcgi", "-n", "-s", st + "/empty.sock", "-M", "0666", "--",
         "/usr/bin/multiwatch", "-f", "4", "-s", "TERM", "--", os.path.join(BUILD, "empty_fcgi")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    for mod, sock, db, args in (
            ("py_receiver", "py.sock", "py.db", ["--workers", "2"]),
            ("py_receiver_fair", "pyfair.sock", "pyfair.db",
             ["--workers", str(CORES), "--loop", "uvloop", "--http", "httptools"])):
        penv = dict(os.environ, WHATSAPP_APP_SECRET=SECRET, PY_DB=os.path.join(st, db),
                    WA_SYNCHRONOUS=sync)
        procs.append(subprocess.Popen(
            ["/usr/bin/python3", "-m", "uvicorn", "--app-dir", HERE, mod + ":app",
             "--uds", os.path.join(st, sock), "--log-level", "warning"] + args,
            env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def wait_peers(s):
    deadline = time.time() + 30
    for path in ("/bench/empty", "/py/webhook", "/pyfair/webhook"):
        while True:
            try:
                st, _, _ = s.request("POST", path, b"{}", {"X-Hub-Signature-256": "sha256=00"})
                if st in (200, 403):
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("%s does not answer" % path)
            time.sleep(0.1)


def add_numbers(s, graph, n):
    """Numbers 2..n of pnids(n) in s's numbers table (before it starts):
    every other one with a flow file and a token of its own."""
    wactl = os.path.join(BUILD, "wactl")
    rate = [] if RATE_EACH else ["--rate", str(max(1, SEND_RATE // n))]
    subprocess.run([wactl, "migrate"], env=s.env, check=True, capture_output=True)
    if rate:
        subprocess.run([wactl, "numbers", "edit", "default"] + rate, env=s.env, check=True,
                       capture_output=True)
    for k, pnid in enumerate(pnids(n)[1:], 1):
        args = [wactl, "numbers", "add", pnid, "--label", "n%d" % k] + rate
        token = None
        if k % 2:
            flow = os.path.join(s.state, "flow-%d.json" % k)
            shutil.copyfile(FLOW, flow)
            token = "bench-token-%d" % k
            s.env["WHATSAPP_ACCESS_TOKEN_N%d" % k] = token
            args += ["--flow", flow, "--token-env", "WHATSAPP_ACCESS_TOKEN_N%d" % k]
        graph.set_number(pnid, NODE, token=token)
        subprocess.run(args, env=s.env, check=True, capture_output=True)


def run_mode(graph, sync, bot, peers, numbers=1):
    """Ours with WA_SYNCHRONOUS=sync and WA_BOT=bot, its webhooks spread
    over numbers business numbers; the peers too when asked, measured
    first, while our worker has nothing to do (after ours it would still
    be sending the bot's replies at 80/s and take CPU from them)."""
    s = stack(graph, sync, bot)
    bodies = os.path.join(BUILD, "bench-bodies.txt")
    procs = []
    try:
        if numbers > 1:
            add_numbers(s, graph, numbers)
        s.start()
        base = "http://127.0.0.1:%d" % s.port
        res = {}
        if peers:
            procs = start_peers(s.state, sync)
            wait_peers(s)
            # The peers do not look past the signature: one file serves
            # all their runs, a repeated body costs them nothing less.
            make_bodies(bodies, BODIES)
            for name, path in (("empty", "/bench/empty"), ("python", "/py/webhook"),
                               ("python_fair", "/pyfair/webhook")):
                res[name] = measure(name, base + path, s.port, path, lambda: bodies)
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)
        graph.reset()
        for k, pnid in enumerate(pnids(numbers)[1:], 1):     # reset forgot them
            graph.set_number(pnid, NODE, token="bench-token-%d" % k if k % 2 else None)
        o = Ours(s)
        m = measure("ours", base + "/api/whatsapp/webhook", s.port, "/api/whatsapp/webhook",
                    lambda: make_bodies(bodies, BODIES, pnids(numbers)), o)
        res["ours"] = m
        show("ours, WA_BOT=%s%s" % (bot, ", %d numbers" % numbers if numbers > 1 else ""), m)
        inbound = s.q("SELECT count(*) n FROM messages WHERE direction = 'in'")[0]["n"]
        replies = s.q("SELECT count(*) n FROM outbox WHERE source = 'bot'")[0]["n"]
        refused = sum(1 for r in graph.requests("/v") if r["status"] != 200)
        print("  %-26s applied and indexed %.0f messages/s over load + catch-up (range %.0f-%.0f); "
              "catch-up after a run %.1f s (median); %d inbound messages, %d bot replies queued, "
              "%d sent to the fake Graph (%d refused), from %d numbers"
              % ("", statistics.median(o.applied_rate), min(o.applied_rate), max(o.applied_rate),
                 statistics.median(o.catch_up), inbound, replies, graph.count(), refused,
                 s.q("SELECT count(DISTINCT phone_number_id) n FROM outbox")[0]["n"]))
        if peers:
            for name, tag in (("empty", "empty FastCGI responder"),
                              ("python", "python, async def, 2 w"),
                              ("python_fair", "python, def, %d w" % CORES)):
                show(tag, res[name], False)
        return res
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
        s.close()


def worker_rate(graph, bot, n):
    """The worker alone on a backlog of n fresh webhooks (the bot answering
    each with WA_BOT=on): seconds until applied, and until searchable."""
    s = Stack(secret=SECRET, extra_env={"WA_BOT": bot, "WHATSAPP_GRAPH_URL": graph.url})
    try:
        env = dict(s.env)
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=env, check=True,
                       capture_output=True)
        path = make_bodies(os.path.join(BUILD, "bench-backlog.txt"), n)
        with open(path, "rb") as f:
            rows = [line.rstrip(b"\n").split(b"\t", 1)[1] for line in f]
        db = sqlite3.connect(os.path.join(s.state, "wa.db"))
        with db:
            db.executemany("INSERT INTO webhook_events (received_at, body, body_size, body_sha256) "
                           "VALUES (?, ?, ?, '')", ((int(time.time()), b, len(b)) for b in rows))
        db.close()
        settle()
        t0 = time.time()
        w = subprocess.Popen([os.path.join(BUILD, "wa-worker")], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while True:
                if w.poll() is not None:
                    raise RuntimeError("wa-worker stopped: " + w.stderr.read().decode())
                left = s.q("SELECT count(*) n FROM webhook_events WHERE state='pending'")[0]["n"]
                if left == 0:
                    break
                time.sleep(0.05)
            dt = time.time() - t0
            # Search indexing follows the apply, in chunks (worker.c).
            while s.q("SELECT count(*) n FROM messages WHERE id > "
                      "(SELECT indexed_to FROM search_state)")[0]["n"]:
                time.sleep(0.05)
            dt_search = time.time() - t0
        finally:
            w.terminate()
            w.wait(10)
        msgs = s.q("SELECT count(*) n FROM messages WHERE direction = 'in'")[0]["n"]
        replies = s.q("SELECT count(*) n FROM outbox WHERE source = 'bot'")[0]["n"]
        return msgs, replies, dt, dt_search
    finally:
        s.close()


def numbers_case(graph):
    """FULL, WA_BOT=on: one number, then the same traffic over NUMBERS."""
    print(" synchronous=FULL, WA_BOT=on: 1 number, then %d numbers (sending at %s)"
          % (NUMBERS, "WA_SEND_RATE each" if RATE_EACH else "WA_SEND_RATE in all"))
    one = run_mode(graph, "FULL", "on", False)["ours"]["median"]
    many = run_mode(graph, "FULL", "on", False, NUMBERS)["ours"]["median"]
    print("  %-26s %d numbers / 1 number: %.3f (%.0f vs %.0f 2xx/s)"
          % ("", NUMBERS, many / max(one, 1), many, one))
    sys.stdout.flush()


def main():
    only_numbers = sys.argv[1:] == ["numbers"]
    for tool in ("wrk", os.path.join(BUILD, "openloop"), os.path.join(BUILD, "empty_fcgi")):
        if subprocess.run(["sh", "-c", "command -v %s" % tool], capture_output=True).returncode:
            raise SystemExit("bench.py: %s is missing (make bench builds it)" % tool)
    print("webhook acknowledgement: wrk -t%d -c%d, %d s warm-up, then %d runs of %d s (median, "
          "range; only 2xx count); open loop %d s at %.0f %% of the median, %d connections; "
          "fresh signed text webhooks, 4 responders, %d cores"
          % (THREADS, CONNS, WARMUP, REPEATS, SECONDS, OPEN_SECONDS, OPEN_FRACTION * 100,
             OPEN_CONNS, CORES))
    sys.stdout.flush()
    graph = FakeGraph(token="test-token")
    try:
        if only_numbers:
            numbers_case(graph)
            return
        for sync, bot, peers in (("FULL", "on", True), ("FULL", "off", False),
                                 ("NORMAL", "on", True)):
            print(" synchronous=%s, WA_BOT=%s" % (sync, bot))
            r = run_mode(graph, sync, bot, peers)
            if peers:
                o = r["ours"]["median"]
                print("  %-26s ours/empty %.2f  ours/python (async def, 2 w) %.1f  "
                      "ours/python (def, %d w) %.1f"
                      % ("", o / max(r["empty"]["median"], 1), o / max(r["python"]["median"], 1),
                         CORES, o / max(r["python_fair"]["median"], 1)))
            if sync == "FULL" and bot == "on":
                # Issue 13: the same traffic over many numbers, beside it.
                print(" synchronous=FULL, WA_BOT=on, %d numbers (sending at %s)"
                      % (NUMBERS, "WA_SEND_RATE each" if RATE_EACH else "WA_SEND_RATE in all"))
                many = run_mode(graph, sync, bot, False, NUMBERS)["ours"]["median"]
                print("  %-26s %d numbers / 1 number: %.3f (%.0f vs %.0f 2xx/s)"
                      % ("", NUMBERS, many / max(r["ours"]["median"], 1), many,
                         r["ours"]["median"]))
        for bot in ("on", "off"):
            worker_rate(graph, bot, max(1000, BACKLOG // 10))      # warm-up, not counted
            runs = []
            for _ in range(REPEATS):
                graph.reset()
                runs.append(worker_rate(graph, bot, BACKLOG))
            applied = [r[0] / r[2] for r in runs]
            searchable = [r[0] / r[3] for r in runs]
            print("worker, WA_BOT=%-3s: a backlog of %d webhooks (%d runs after a warm-up): "
                  "applied %.0f messages/s (range %.0f-%.0f), %d bot replies queued a run; all "
                  "searchable at %.0f messages/s (range %.0f-%.0f)"
                  % (bot, BACKLOG, REPEATS, statistics.median(applied), min(applied),
                     max(applied), runs[-1][1], statistics.median(searchable), min(searchable),
                     max(searchable)))
            sys.stdout.flush()
    finally:
        graph.close()


if __name__ == "__main__":
    main()
