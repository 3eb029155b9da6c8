"""The responders under valgrind (no leak, no error) and their memory over
100,000 requests (flat)."""
import glob
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from stack import BUILD, TOP, Stack, fixture
from test_worker import pids

ALL = ["text.json", "image.json", "unicode_emoji.min.json", "batch_multi_entry.json",
       "status_read.json", "template_status_update.json"]


@pytest.mark.skipif(os.path.basename(BUILD) == "build-san",
                    reason="valgrind cannot run ASan binaries; plain `make test` runs this")
def test_responders_under_valgrind():
    s = Stack(extra_env={"WA_BOT": "off"})      # fixtures are old; no calendar dependence
    logs = os.path.join(s.state, "vg.%p.log")
    assert shutil.which("valgrind"), "valgrind is installed by deploy/deps.sh"
    s.env["WA_FCGI_WRAPPER"] = (
        shutil.which("valgrind") + " --leak-check=full --show-leak-kinds=definite,indirect "
        "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "
        "--suppressions=%s --log-file=%s" % (os.path.join(TOP, "tests", "valgrind.supp"), logs))
    try:
        s.start()
        for name in ALL:
            assert s.post(fixture(name))[0] == 200
        body = fixture("text.json")
        assert s.post(body, signature=s.sign(body, "nope"))[0] == 403
        assert s.post(body, signature=None)[0] == 403
        assert s.post(b"not json")[0] == 200
        assert s.post(b"{}", ctype="text/plain")[0] == 415
        assert s.request("PUT", "/api/whatsapp/webhook")[0] == 405
        assert s.request("GET", "/api/whatsapp/nope")[0] == 404
        assert s.request("GET", "/api/whatsapp/webhook?hub.mode=subscribe&"
                         "hub.challenge=12&hub.verify_token=" + s.verify_token)[0] == 200
        assert s.request("GET", "/api/whatsapp/webhook?hub.mode=%zz")[0] == 400
        for _ in range(20):
            assert s.request("GET", "/api/whatsapp/health")[0] == 200
        s.wait_applied()
        s.stop()
        # valgrind writes its summary as each responder exits: wait for
        # that, not for a fixed time.
        found = glob.glob(os.path.join(s.state, "vg.*.log"))
        assert len(found) >= 2

        def summarised():
            for f in found:
                with open(f) as fh:
                    if "ERROR SUMMARY:" not in fh.read():
                        return False
            return True
        deadline = time.time() + 60
        while not summarised() and time.time() < deadline:
            time.sleep(0.05)
        for f in found:
            text = open(f).read()
            assert "ERROR SUMMARY: 0 errors" in text, text
            assert "definitely lost" not in text or \
                re.search(r"definitely lost: 0 bytes", text), text
    finally:
        s.close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed")
def test_responder_memory_flat_over_100k_requests():
    env = {"WA_BOT": "off"}
    if os.path.basename(BUILD) == "build-san":
        # ASan keeps freed memory in a 256 MB quarantine: the resident
        # size then grows until that fills, whatever our code does.  A
        # small one is full after the warm-up, so what follows measures us.
        env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                               ":quarantine_size_mb=16").lstrip(":")
    s = Stack(extra_env=env)
    try:
        s.start()
        body = fixture("text.json")
        script = os.path.join(s.state, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = %s\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.headers["X-Hub-Signature-256"] = "%s"\n'
                    % (json.dumps(body.decode()), s.sign(body)))
        url = "http://127.0.0.1:%d/api/whatsapp/webhook" % s.port

        def run(seconds):
            r = subprocess.run(["wrk", "-t1", "-c4", "-d%ds" % seconds, "-s", script, url],
                               capture_output=True, text=True, timeout=seconds + 30)
            m = re.search(r"(\d+) requests in", r.stdout)
            assert m, r.stdout + r.stderr
            assert "Non-2xx" not in r.stdout, r.stdout
            return int(m.group(1))

        def rss():
            out = {}
            for p in pids("wa-fcgi", s.state):
                with open("/proc/%d/status" % p) as f:
                    out[p] = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            return out

        run(8)                      # warm caches, fill SQLite's page cache
        before = rss()
        # 100,000 requests however long they take (speed is the bench's).
        n = 0
        while n < 100000:
            got = run(10)
            assert got > 0, "wrk made no request"
            n += got
        after = rss()
        assert set(before) == set(after), "a responder was replaced (crashed?)"
        for p in before:
            # Under 1 KiB per 100 requests handled by this process would
            # show as several MiB; allow SQLite's cache to settle.
            assert after[p] - before[p] < 1024, (p, before[p], after[p], n)
    finally:
        s.close()
