"""make bench, campaign part (issue 16): a 100,000-recipient template
campaign on the real stack against the fake Graph API (which answers at
once).  Prints figures; asserts nothing (it is not a test).

  1. creation: `wactl campaign create` from a generated CSV of
     BENCH_CAMPAIGN_RECIPIENTS (100,000) numbers, wall-clock seconds of
     the command (process start included);
  2. pacing: with WA_SEND_RATE=BENCH_CAMPAIGN_RATE (200) the template
     requests a second at the fake Graph over a steady window
     (BENCH_CAMPAIGN_SECONDS, 60, starting 5 s after the first request),
     and its error against the configured rate in %;
  3. the worker's RSS (VmRSS) sampled every second over the run:
     first, max and last;
  4. webhook acknowledgement latency while the campaign sends: an
     open-loop run (bench/openloop.c) of BENCH_CAMPAIGN_HOOK_RATE (100)
     signed inbound webhooks a second for BENCH_CAMPAIGN_HOOK_SECONDS
     (20), p50 and p99 from the scheduled send time; the same run before
     the campaign is made gives the idle figures beside them (the machine
     is shared: compare the two, not one alone).

The number's tier is TIER_100K (counted, as in production: the campaign
fits in it) and WA_BOT=off (the inbound webhooks would otherwise add
replies to the same number's rate).
When this wactl has no `campaign create` yet, the campaign and its
recipients are written with sqlite3 in one transaction instead, and the
creation figure says so.  BENCH_QUICK=1 shrinks every count and duration
(to check the bench, not for figures)."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
import bench as B  # noqa: E402
from fake_graph import FakeGraph  # noqa: E402
from stack import BUILD, Stack  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
RECIPIENTS = int(os.environ.get("BENCH_CAMPAIGN_RECIPIENTS", "5000" if QUICK else "100000"))
RATE = int(os.environ.get("BENCH_CAMPAIGN_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_CAMPAIGN_SECONDS", "10" if QUICK else "60"))
HOOK_RATE = int(os.environ.get("BENCH_CAMPAIGN_HOOK_RATE", "100"))
HOOK_SECONDS = int(os.environ.get("BENCH_CAMPAIGN_HOOK_SECONDS", "5" if QUICK else "20"))
SKIP_S = 5                      # the steady window starts this long after the first request
PNID = B.PNID
MSGS = "/v23.0/%s/messages" % PNID
TEMPLATE, LANGUAGE = "bench_offer", "en_US"
WABA = "1000000001"


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=600)


def approve_template(s, g):
    """The number with its WABA and an APPROVED template with one body
    parameter, synced from the fake Graph as `wactl templates sync` does
    (the campaigns API refuses any other)."""
    g.set_number(PNID, dict(B.NODE, messaging_limit_tier="TIER_100K"))
    r = wactl(s, "numbers", "add", PNID, "--waba", WABA, "--label", "default")
    if r.returncode != 0:
        raise RuntimeError("wactl numbers add failed: " + r.stderr)
    g.set_templates(WABA, [{
        "id": "880000900", "name": TEMPLATE, "language": LANGUAGE, "status": "APPROVED",
        "category": "MARKETING", "parameter_format": "POSITIONAL",
        "quality_score": {"score": "GREEN", "date": 1767300000}, "rejected_reason": "NONE",
        "components": [{"type": "BODY", "text": "Hello {{1}}, our offer is on."}]}])
    r = wactl(s, "templates", "sync")
    if r.returncode != 0:
        raise RuntimeError("wactl templates sync failed: " + r.stderr)


def create(s, g, tmp):
    """Makes the campaign; returns (seconds, how)."""
    csv = os.path.join(tmp, "bench.csv")
    with open(csv, "w") as f:
        f.write("wa_id,name\n")
        for i in range(RECIPIENTS):
            f.write("1557%07d,Customer %d\n" % (i, i))
    usage = wactl(s, "campaign")
    if "campaign create" in (usage.stdout + usage.stderr):
        approve_template(s, g)
        t0 = time.time()
        r = wactl(s, "campaign", "create", "bench", "--number", "default", "--template", TEMPLATE,
                  "--language", LANGUAGE, "--to", csv)
        dt = time.time() - t0
        if r.returncode != 0:
            raise RuntimeError("wactl campaign create failed: " + r.stdout + r.stderr)
        return dt, "wactl campaign create"
    now = int(time.time() * 1000)
    t0 = time.time()
    db = sqlite3.connect(os.path.join(s.state, "wa.db"), timeout=30)
    with db:
        cid = db.execute("INSERT INTO campaigns (name, phone_number_id, template, language, source, "
                         "start_at, created_at, updated_at) VALUES ('bench', ?, ?, ?, "
                         "'{\"file\":\"bench.csv\"}', ?, ?, ?)",
                         (PNID, TEMPLATE, LANGUAGE, now, now, now)).lastrowid
        db.executemany("INSERT INTO campaign_recipients (campaign_id, line, wa_id, params, updated_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       ((cid, i + 2, "1557%07d" % i, json.dumps(["Customer %d" % i]), now)
                        for i in range(RECIPIENTS)))
    db.close()
    return time.time() - t0, "sqlite3 insert (no wactl campaign create in this build)"


def worker_pid(s):
    out = subprocess.run(["pgrep", "-x", "wa-worker"], capture_output=True, text=True).stdout.split()
    for p in out:
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if ("WA_STATE_DIR=" + s.state).encode() in f.read().split(b"\0"):
                    return int(p)
        except OSError:
            pass
    return None


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
            return int(m.group(1)) if m else None
    except (OSError, TypeError):
        return None


def openloop(port, bodies):
    r = subprocess.run([os.path.join(BUILD, "openloop"), "127.0.0.1", str(port), "/api/whatsapp/webhook",
                        str(HOOK_RATE), str(HOOK_SECONDS), "16", bodies],
                       capture_output=True, text=True, timeout=HOOK_SECONDS + 60)
    if r.returncode != 0:
        raise RuntimeError("openloop failed: " + r.stdout + r.stderr)
    return {k: float(v) for k, v in (kv.split("=") for kv in r.stdout.split())}


def main():
    tmp = tempfile.mkdtemp(prefix="wa-campbench-")
    with FakeGraph(app_secret=B.SECRET, max_records=RECIPIENTS + 10000) as g:
        s = Stack(secret=B.SECRET, extra_env={
            "WHATSAPP_GRAPH_URL": g.url, "WA_SEND_RATE": str(RATE), "WA_BOT": "off"})
        try:
            s.start()
            # The same load on the idle stack first: what the campaign adds.
            idle = openloop(s.port, B.make_bodies(os.path.join(tmp, "idle.txt"),
                                                  HOOK_RATE * HOOK_SECONDS + 100))
            made, how = create(s, g, tmp)
            print("campaign: %d recipients created in %.2f s (%s)" % (RECIPIENTS, made, how))
            pid = worker_pid(s)
            samples, stop = [], threading.Event()

            def sample():
                while not stop.is_set():
                    v = rss_kb(worker_pid(s) or pid)
                    if v:
                        samples.append(v)
                    stop.wait(1.0)
            th = threading.Thread(target=sample, daemon=True)
            th.start()
            deadline = time.time() + 60
            while g.count() == 0 and time.time() < deadline:
                time.sleep(0.05)
            t_first = time.time()
            # The webhook load in the middle of the steady window.
            time.sleep(SKIP_S + max(0, (SECONDS - HOOK_SECONDS) / 2))
            bodies = B.make_bodies(os.path.join(tmp, "hooks.txt"), HOOK_RATE * HOOK_SECONDS + 100)
            ol = openloop(s.port, bodies)
            rest = t_first + SKIP_S + SECONDS + 1 - time.time()
            if rest > 0:
                time.sleep(rest)
            stop.set()
            th.join()
            reqs = [r for r in g.requests(MSGS) if (r["json"] or {}).get("type") == "template"]
            t = sorted(r["t"] for r in reqs)
            t0 = t[0] + SKIP_S
            inside = [x for x in t if t0 <= x < t0 + SECONDS]
            rate = len(inside) / SECONDS
            print("campaign: paced at %.1f/s over %d s against WA_SEND_RATE=%d (error %+.2f %%); "
                  "%d template requests in all" % (rate, SECONDS, RATE, (rate - RATE) * 100.0 / RATE, len(t)))
            if samples:
                print("campaign: wa-worker RSS first %d kB, max %d kB, last %d kB (%d samples, 1 s apart)"
                      % (samples[0], max(samples), samples[-1], len(samples)))
            print("campaign: webhook ack while sending, open loop %d/s for %d s: p50 %.2f ms, "
                  "p99 %.2f ms (ok %d, non2xx %d, errors %d, timeouts %d)"
                  % (HOOK_RATE, HOOK_SECONDS, ol.get("p50", float("nan")), ol.get("p99", float("nan")),
                     ol.get("ok", 0), ol.get("non2xx", 0), ol.get("errors", 0), ol.get("timeouts", 0)))
            print("campaign: the same load before the campaign (idle worker): p50 %.2f ms, p99 %.2f ms"
                  % (idle.get("p50", float("nan")), idle.get("p99", float("nan"))))
        finally:
            s.close()


if __name__ == "__main__":
    main()
