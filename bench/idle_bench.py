"""Bench, sending part: how much CPU wa-worker uses while a second
message to a customer waits behind the first, which the fake Graph API
(tests/e2e/fake_graph.py) holds unanswered.  Nothing can change by the
clock alone then, so the worker should sleep until the call ends instead
of looking again and again.  Prints a figure; asserts nothing (moved here
from tests/e2e/test_send.py: speed belongs in the bench, not in a test).

    BUILD_DIR=$PWD/build /usr/bin/python3 bench/idle_bench.py"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
from fake_graph import FakeGraph  # noqa: E402
from stack import BUILD, Stack  # noqa: E402

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID


def stack(graph, **env):
    extra = {"WHATSAPP_GRAPH_URL": graph.url, "WA_PAIR_BURST": "45", "WA_PAIR_INTERVAL_MS": "0",
             "WA_BOT": "off"}
    extra.update(env)
    return Stack(extra_env=extra)


def worker_cpu_s(s):
    """CPU seconds the stack's wa-worker has used so far."""
    for p in subprocess.run(["pgrep", "-x", "wa-worker"], capture_output=True, text=True).stdout.split():
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                if ("WA_STATE_DIR=" + s.state).encode() not in f.read():
                    continue
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    raise RuntimeError("no wa-worker for " + s.state)


def idle_cpu(graph, hold_s=3.0):
    """Worker CPU seconds while a second message to a customer waits
    behind the first, held at the fake for hold_s."""
    s = stack(graph)
    try:
        s.start()
        now = int(time.time())
        with s.db() as db:
            cur = db.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at) "
                             "VALUES (?, '15557770001', ?, ?)", (PNID, now, now))
            db.execute("INSERT INTO conversations (phone_number_id, contact_id, last_inbound_at, "
                       "window_expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
                       (PNID, cur.lastrowid, now, now + 86400, now))
        graph.reset()
        graph.inject(delay_ms=int(hold_s * 1000) + 1000, times=1)
        for text in ("one", "two"):
            subprocess.run([os.path.join(BUILD, "wactl"), "send", "--to", "15557770001", "--text", text],
                           env=s.env, capture_output=True, check=True)
        graph.wait_requests(1, MSGS)
        time.sleep(0.2)
        cpu0 = worker_cpu_s(s)
        time.sleep(hold_s)
        return worker_cpu_s(s) - cpu0, hold_s
    finally:
        s.close()


def main():
    graph = FakeGraph(token="test-token")
    try:
        used, held = idle_cpu(graph)
        print("sender, waiting %.1f s behind a held call: worker CPU %.3f s (%.1f %% of one core)"
              % (held, used, used / held * 100))
    finally:
        graph.close()


if __name__ == "__main__":
    main()
