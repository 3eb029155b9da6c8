"""hook_idle_cpu.py: the worker's CPU while 8 event webhook POSTs hang
(issue 16): a loopback receiver takes each connection and never answers;
8 conversations each queue one delivery; once all 8 are in flight, the
worker's utime+stime (/proc/PID/stat) is read over WINDOW seconds, less
than the POSTs' 10 s timeout.  A measurement, not a test:

    BUILD_DIR=$PWD/build /usr/bin/python3 tests/e2e/hook_idle_cpu.py
"""
import json
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inbox_fixtures as fx  # noqa: E402
from people import API, new_key  # noqa: E402
from stack import started, wait_until  # noqa: E402

WINDOW = 8.0


def silent_server():
    """A loopback port that accepts and never answers; (port, closer)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    conns, stop = [], threading.Event()

    def run():
        while not stop.is_set():
            r, _, _ = select.select([ls] + conns, [], [], 0.1)
            for s in r:
                if s is ls:
                    conns.append(ls.accept()[0])
                elif not s.recv(65536):
                    conns.remove(s)
                    s.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()

    def close():
        stop.set()
        t.join()
        for s in conns:
            s.close()
        ls.close()
    return ls.getsockname()[1], close


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])     # utime + stime


def main():
    port, close = silent_server()
    s = started(extra_env={"WA_BOT": "off", "WA_HOOKS_ALLOW_PRIVATE": "1",
                           "WA_API_RATE": "5000"})
    try:
        key = new_key(s, "cpu")
        st, _, b = s.request("POST", API + "/hooks", json.dumps(
            {"url": "http://127.0.0.1:%d/hook" % port, "events": ["message.received"]}).encode(),
            {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        assert st == 201, b
        for i in range(8):
            fx.inbound_text(s, "1555000%04d" % i, "hello", wait=False)
        wait_until(lambda: s.q("SELECT count(*) n FROM event_deliveries WHERE "
                               "state = 'sending'")[0]["n"] == 8, 30, "8 POSTs in flight")
        with open(os.path.join(s.state, "wa-worker.lock")) as f:
            pid = int(f.read().strip())
        hz = os.sysconf("SC_CLK_TCK")
        t0, c0 = time.time(), cpu_ticks(pid)
        time.sleep(WINDOW)
        t1, c1 = time.time(), cpu_ticks(pid)
        inflight = s.q("SELECT count(*) n FROM event_deliveries WHERE state = 'sending'")[0]["n"]
        print("worker CPU with 8 POSTs in flight: %.3f s over %.1f s (%.2f %%), "
              "%d still in flight at the end" % ((c1 - c0) / hz, t1 - t0,
                                                 100.0 * (c1 - c0) / hz / (t1 - t0), inflight))
    finally:
        s.close()
        close()


if __name__ == "__main__":
    main()
