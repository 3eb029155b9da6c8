"""Measures event webhook delivery throughput to a loopback receiver (a
figure for people, not a test): N deliveries queued at once, across many
conversations (up to the worker's 8 POSTs in flight) and all in one
conversation (one at a time, in order).
Usage: BUILD_DIR=$PWD/build python3 tests/e2e/hook_bench.py [N]"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hook_receiver import Receiver  # noqa: E402
from stack import started, wait_until  # noqa: E402
from test_hook_delivery import SECRET, add_hook, now_ms  # noqa: E402


def run(s, rcv, n, conversations):
    h = add_hook(s, rcv.url)
    t = now_ms()
    rows = [(h, "evt_%032x" % i, (i % conversations) + 1,
             '{"id":"evt_%032x","type":"message.received","data":{}}' % i, t, t)
            for i in range(n)]
    start = time.time()
    with s.db() as c:
        c.executemany("INSERT INTO event_deliveries (hook_id, event_id, type, conversation_id, "
                      "body, next_attempt_at, created_at) VALUES (?, ?, 'message.received', ?, ?, ?, ?)",
                      rows)
    wait_until(lambda: s.q("SELECT count(*) n FROM event_deliveries WHERE hook_id = ? AND "
                           "state = 'delivered'", h)[0]["n"] == n, timeout=600, step=0.05)
    took = time.time() - start
    print("%d deliveries, %d conversation(s): %.2f s, %.0f deliveries/s"
          % (n, conversations, took, n / took))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    s = started(extra_env={"WA_BOT": "off", "WA_HOOKS_ALLOW_PRIVATE": "1"})
    try:
        with Receiver(SECRET) as rcv:
            run(s, rcv, n, n)
            run(s, rcv, n, 1)
    finally:
        s.close()


if __name__ == "__main__":
    main()
