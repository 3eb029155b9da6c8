"""make bench: webhook acknowledgement throughput and latency through the
real nginx + spawn-fcgi + wa-fcgi, against the transport ceiling (an empty
FastCGI responder) and a FastAPI + SQLAlchemy receiver behind the same
nginx, for WA_SYNCHRONOUS=FULL and NORMAL; then the worker's apply rate on
a backlog.  Prints figures; asserts nothing (it is not a test)."""
import hashlib
import hmac
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
from stack import BUILD, Stack  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = 2
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def body(i):
    wamid = "wamid.bench.%08d" % i
    sender = "1555%07d" % (i % 10000)
    doc = {"object": "whatsapp_business_account", "entry": [{"id": "100200300400500", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "200300400500600"},
            "contacts": [{"profile": {"name": "Bench %d" % (i % 10000)}, "wa_id": sender}],
            "messages": [{"from": sender, "id": wamid, "timestamp": str(1767270000 + i),
                          "type": "text", "text": {"body": "order status for A-%d please" % i}}]}}]}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def make_bodies(path, n):
    with open(path, "wb") as f:
        for i in range(n):
            b = body(i)
            f.write(b"sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest().encode()
                    + b"\t" + b + b"\n")


def settle():
    """Flushes what earlier phases left dirty (the bodies file, the last
    run's database) so that its writeback does not land in the next
    measurement's fsyncs."""
    os.sync()
    time.sleep(1)


def wrk(url, bodies):
    settle()
    env = dict(os.environ, BODIES=bodies, WRK_THREADS=str(THREADS))
    r = subprocess.run(["wrk", "-t%d" % THREADS, "-c%d" % CONNS, "-d%ds" % SECONDS, "--latency",
                        "-s", os.path.join(HERE, "post.lua"), url],
                       env=env, capture_output=True, text=True, timeout=SECONDS + 60)
    out = r.stdout

    def lat(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        if not m:
            return float("nan")
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat(50), "p99": lat(99),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def run_mode(sync, bodies):
    s = Stack(secret=SECRET, extra_env={"WA_SYNCHRONOUS": sync, "WA_RESPONDERS": "4"})
    st = s.state
    s.env["WA_NGINX_EXTRA"] = (
        "location = /bench/empty { include %s/nginx/wa_fastcgi_params; "
        "fastcgi_pass unix:%s/empty.sock; } "
        "location = /py/webhook { client_max_body_size 4m; proxy_http_version 1.1; "
        "proxy_pass http://unix:%s/py.sock; }" % (os.path.dirname(HERE), st, st))
    extra = []
    try:
        s.start()
        extra.append(subprocess.Popen(
            ["spawn-fcgi", "-n", "-s", st + "/empty.sock", "-M", "0666", "--",
             "/usr/bin/multiwatch", "-f", "4", "-s", "TERM", "--", os.path.join(BUILD, "empty_fcgi")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        penv = dict(os.environ, WHATSAPP_APP_SECRET=SECRET, PY_DB=st + "/py.db", WA_SYNCHRONOUS=sync)
        extra.append(subprocess.Popen(
            ["/usr/bin/python3", "-m", "uvicorn", "--app-dir", HERE, "py_receiver:app",
             "--uds", st + "/py.sock", "--workers", "2", "--log-level", "warning"],
            env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(3)
        base = "http://127.0.0.1:%d" % s.port
        res = {"ours": wrk(base + "/api/whatsapp/webhook", bodies)}
        # The others run on an idle machine: our worker first catches up
        # (it would otherwise take CPU from them and flatter our ratios).
        t0 = time.time()
        s.wait_applied(120)
        res["catch_up"] = time.time() - t0
        res["stored"] = s.q("SELECT count(*) n FROM webhook_events")[0]["n"]
        res["empty"] = wrk(base + "/bench/empty", bodies)
        res["python"] = wrk(base + "/py/webhook", bodies)
        return res
    finally:
        for p in extra:
            p.terminate()
            p.wait(10)
        s.close()


def worker_rate(n=50000):
    s = Stack(secret=SECRET)
    try:
        env = dict(s.env)
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=env, check=True,
                       capture_output=True)
        db = sqlite3.connect(os.path.join(s.state, "wa.db"))
        with db:
            db.executemany("INSERT INTO webhook_events (received_at, body, body_size, body_sha256) "
                           "VALUES (0, ?, ?, '')", ((b, len(b)) for b in (body(i) for i in range(n))))
        db.close()
        settle()
        t0 = time.time()
        w = subprocess.Popen([os.path.join(BUILD, "wa-worker")], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        w.terminate()
        w.wait(10)
        msgs = s.q("SELECT count(*) n FROM messages")[0]["n"]
        return msgs, dt, dt_search
    finally:
        s.close()


def main():
    bodies = os.path.join(BUILD, "bench-bodies.txt")
    make_bodies(bodies, 150000)
    print("webhook acknowledgement, wrk -t%d -c%d -d%ds, distinct signed text webhooks"
          % (THREADS, CONNS, SECONDS))
    for sync in ("FULL", "NORMAL"):
        r = run_mode(sync, bodies)
        o, e, p = r["ours"], r["empty"], r["python"]
        print("  synchronous=%-6s ours %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d"
              % (sync, o["rps"], o["p50"], o["p99"], o["errors"]))
        print("  %-20s empty  %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  -> ours/empty %.2f"
              % ("", e["rps"], e["p50"], e["p99"], o["rps"] / e["rps"]))
        print("  %-20s python %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d -> ours/python %.1f"
              % ("", p["rps"], p["p50"], p["p99"], p["errors"], o["rps"] / max(p["rps"], 1)))
        print("  %-20s journal rows stored by ours: %d, all applied and searchable %.1f s "
              "after the load" % ("", r["stored"], r["catch_up"]))
    msgs, dt, dt_search = worker_rate()
    print("worker: applied %d messages from a backlog in %.2f s = %.0f messages/s; "
          "all searchable after %.2f s = %.0f messages/s"
          % (msgs, dt, msgs / dt, dt_search, msgs / dt_search))


if __name__ == "__main__":
    main()
