"""Failures the gateway must survive or refuse clearly, on the real stack:
the responder's own length checks (past nginx, over FastCGI), a worker
killed between a webhook's commit and its reply, a full disk, a corrupt
database file.  Also the test harness's own guard: no test stack may
reach a host outside loopback."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import fcgi_client
from stack import (BUILD, DEAD_GRAPH_URL, WATCH, Stack, fixture, outside_peer,
                   parse_proc_net, started, wait_until)
from test_worker import pids

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID


def text_body(sender, text="hello", ts=None, wamid=None):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(ts if ts is not None else int(time.time())),
              "id": wamid or "wamid.fail.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    return json.dumps(doc).encode(), m["id"]


# ------------------------------------------------------- loopback guard

@pytest.mark.parametrize("url", ["https://graph.facebook.com", "http://192.0.2.1:8080",
                                 "http://[2001:db8::1]:80", "http://10.0.0.1", "ftp://127.0.0.1",
                                 "http://127.0.0.1.example.com"])
def test_stack_refuses_a_graph_url_outside_loopback(url):
    with pytest.raises(ValueError, match="loopback"):
        Stack(extra_env={"WHATSAPP_GRAPH_URL": url})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123", "http://127.9.9.9:1", "http://[::1]:8123",
                                 "http://localhost:8123"])
def test_stack_takes_a_loopback_graph_url(url):
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": url})
    try:
        assert s.env["WHATSAPP_GRAPH_URL"] == url
    finally:
        s.close()


def test_stack_without_a_graph_url_points_at_a_dead_loopback_port():
    s = Stack()
    try:
        assert s.env["WHATSAPP_GRAPH_URL"] == DEAD_GRAPH_URL
    finally:
        s.close()


# Lines as the kernel prints them (4-byte words little-endian): a worker's
# connection to the fake on loopback, a listener, a SYN_SENT to
# 192.0.2.1:443, an IPv6 loopback peer, a v4-mapped loopback peer, a UDP
# socket connected to 198.51.100.7:53 and an unconnected one.
PROC_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1001 1
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1
   2: 0200000A:D431 010200C0:01BB 02 00000000:00000000 01:00000100 00000002     0        0 1003 1
"""
PROC_TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000001000000:9C41 00000000000000000000000001000000:1F90 01 0:0 0:0 0 0 0 2001 1
   1: 0000000000000000FFFF00000100007F:9C42 0000000000000000FFFF00000100007F:1F90 01 0:0 0:0 0 0 0 2002 1
"""
PROC_UDP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 10: 0200000A:B095 076433C6:0035 01 00000000:00000000 00:00000000 00000000     0        0 3001 2
 11: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3002 2
"""


def test_egress_parser_flags_only_peers_outside_loopback():
    rows = (parse_proc_net(PROC_TCP, "tcp") + parse_proc_net(PROC_TCP6, "tcp6") +
            parse_proc_net(PROC_UDP, "udp"))
    by = {r["inode"]: r for r in rows}
    assert str(by[1001]["remote"][0]) == "127.0.0.1" and by[1001]["remote"][1] == 8080
    assert by[1003]["state"] == "SYN_SENT" and str(by[1003]["remote"][0]) == "192.0.2.1"
    assert str(by[2001]["remote"][0]) == "::1"
    assert str(by[3001]["remote"][0]) == "198.51.100.7" and by[3001]["remote"][1] == 53
    assert sorted(r["inode"] for r in rows if outside_peer(r)) == [1003, 3001]


def test_egress_watch_catches_a_stack_process_with_a_peer_outside_loopback():
    """A process of a Stack (found by its WA_STATE_DIR) holding a UDP socket
    connected to 198.51.100.7 (TEST-NET-2).  connect() on a datagram socket
    only sets the peer: not one packet is sent."""
    s = Stack()
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import socket, sys\n"
         "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "u.connect(('198.51.100.7', 53))\n"
         "print(u.getsockname()[1], flush=True)\n"
         "sys.stdin.read()\n"],
        env=s.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(child.stdout.readline())
        found = WATCH.sample()
        assert [(v["pid"], v["proto"], v["remote"]) for v in found] == \
            [(child.pid, "udp", "198.51.100.7:53")], found
        assert found[0]["local"].endswith(":%d" % port) and found[0]["stack"] == s.state
    finally:
        child.stdin.close()
        child.wait(10)
        WATCH.take(s.state)        # expected here: not a failure of this test
        s.close()
    # A process outside every Stack is none of the watch's business.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.connect(("198.51.100.7", 53))
        assert WATCH.sample() == []
    finally:
        u.close()


# --------------------------------------------- the responder's own checks

@pytest.fixture(scope="module")
def gw():
    s = started(extra_env={"WA_BOT": "off"})
    yield s
    s.close()


def fcgi(s, params, body=b""):
    st, h, b = fcgi_client.request(os.path.join(s.state, "fcgi.sock"), params, body)
    return st, h, json.loads(b) if b else None


@pytest.mark.parametrize("length", [None, "", "abc", "-1", "12x", "+5"])
def test_webhook_without_a_usable_length_is_411(gw, length):
    body, _ = text_body("15550900001")
    n0 = gw.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    p = fcgi_client.webhook_params(length=length, signature=gw.sign(body))
    st, h, doc = fcgi(gw, p, body)
    assert st == 411, doc
    assert doc["error"]["code"] == "length_required"
    assert doc["error"]["message"] == "A Content-Length header is required."
    assert gw.q("SELECT count(*) n FROM webhook_events")[0]["n"] == n0


def test_webhook_over_4_mib_is_413_from_the_responder(gw):
    # nginx stops these first (test_webhook.py); the responder must too.
    n0 = gw.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    st, _, doc = fcgi(gw, fcgi_client.webhook_params(length=4 * 1024 * 1024 + 1,
                                                     signature="sha256=" + "0" * 64))
    assert st == 413 and doc["error"]["code"] == "payload_too_large"
    assert doc["error"]["message"] == "Webhook bodies are limited to 4 MiB."
    assert gw.q("SELECT count(*) n FROM webhook_events")[0]["n"] == n0


def test_webhook_of_exactly_4_mib_is_read_and_checked(gw):
    # The limit itself passes the length check: the signature decides.
    body = b"{" + b" " * (4 * 1024 * 1024 - 2) + b"}"
    st, _, doc = fcgi(gw, fcgi_client.webhook_params(length=len(body), signature="sha256=" + "0" * 64),
                      body)
    assert st == 403 and doc["error"]["code"] == "bad_signature"


def test_webhook_shorter_than_its_length_is_400_and_not_stored(gw):
    body, wamid = text_body("15550900002")
    n0 = gw.q("SELECT count(*) n FROM webhook_events")[0]["n"]
    st, _, doc = fcgi(gw, fcgi_client.webhook_params(length=len(body) + 10, signature=gw.sign(body)),
                      body)
    assert st == 400 and doc["error"]["code"] == "short_body"
    assert gw.q("SELECT count(*) n FROM webhook_events")[0]["n"] == n0
    # The same bytes with their true length are taken: the client works.
    st, _, doc = fcgi(gw, fcgi_client.webhook_params(length=len(body), signature=gw.sign(body)), body)
    assert st == 200 and doc["stored"] > n0


# ----------------------------------------------------- a corrupt database

def corrupt_garbage(path):
    with open(path, "wb") as f:
        f.write(os.urandom(64 * 1024))


def corrupt_schema_page(path):
    # The header stays valid; the first page's b-tree (the schema) is not.
    with open(path, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\xff" * 1000)


def corrupt_truncated(path):
    os.truncate(path, 20000)


@pytest.mark.parametrize("damage,reason", [
    (corrupt_garbage, "file is not a database"),
    (corrupt_schema_page, "database disk image is malformed"),
    (corrupt_truncated, "database disk image is malformed"),
])
def test_corrupt_database_refused_at_start_with_a_sentence(damage, reason):
    s = Stack()
    try:
        r = subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        db = os.path.join(s.state, "wa.db")
        for extra in ("-wal", "-shm"):
            assert not os.path.exists(db + extra)
        damage(db)
        before = open(db, "rb").read()
        runs = {
            "wactl migrate": [os.path.join(BUILD, "wactl"), "migrate"],
            "wactl apikey list": [os.path.join(BUILD, "wactl"), "apikey", "list"],
            "wa-worker": [os.path.join(BUILD, "wa-worker")],
            # Not under spawn-fcgi: it must stop at the database first.
            "wa-fcgi": [os.path.join(BUILD, "wa-fcgi")],
        }
        for name, cmd in runs.items():
            r = subprocess.run(cmd, env=s.env, capture_output=True, text=True, timeout=20,
                               stdin=subprocess.DEVNULL)
            # Exit 1 with a sentence naming the file and SQLite's reason;
            # never a signal (a crash), never a sanitizer report.
            assert r.returncode == 1, (name, r.returncode, r.stderr)
            assert "cannot open the database %s" % db in r.stderr, (name, r.stderr)
            assert reason in r.stderr, (name, r.stderr)
            assert "ERROR: AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr
        # Nobody "repaired" it by writing over it.
        assert open(db, "rb").read() == before
    finally:
        s.close()


# -------------------------------------------- bot replies across a crash

@pytest.fixture(scope="module")
def bot(graph):
    s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_PAIR_BURST": "45",
                           "WA_PAIR_INTERVAL_MS": "0"})
    yield s
    s.close()


def replies_to(graph, who):
    return [r for r in graph.requests(MSGS) if (r["json"] or {}).get("to") == who]


def new_worker(s, old):
    return wait_until(lambda: [p for p in pids("wa-worker", s.state) if p != old],
                    what="the supervisor to start a new wa-worker")[0]


def test_bot_reply_survives_a_worker_killed_before_applying(bot, graph):
    """The webhook is committed, the worker is killed before it applies
    it: after the restart the customer gets exactly one menu."""
    who = "15550910001"
    (worker,) = pids("wa-worker", bot.state)
    os.kill(worker, signal.SIGSTOP)
    try:
        body, wamid = text_body(who, "hi")         # stamped now: the bot answers
        st, _, reply = bot.post(body)
        assert st == 200
        assert bot.q("SELECT state FROM webhook_events WHERE id = ?",
                     json.loads(reply)["stored"])[0]["state"] == "pending"
    finally:
        os.kill(worker, signal.SIGKILL)            # a stopped process dies too
    new_worker(bot, worker)
    bot.wait_applied()
    rows = bot.q("SELECT id, state FROM outbox WHERE recipient = ?", who)
    assert len(rows) == 1
    wait_until(lambda: bot.q("SELECT state FROM outbox WHERE id = ?", rows[0]["id"])[0]["state"] == "accepted",
             what="the reply accepted")
    got = replies_to(graph, who)
    assert len(got) == 1 and got[0]["json"]["type"] == "interactive"
    assert got[0]["status"] == 200
    assert bot.q("SELECT count(*) n FROM messages WHERE wamid = ?", wamid)[0]["n"] == 1


def test_bot_reply_survives_a_worker_killed_before_sending(bot, graph):
    """The worker applied the webhook and queued the menu in the same
    transaction, and is killed before the call: after the restart the
    customer gets exactly one menu (not none, not two)."""
    who = "15550910002"
    # Sending paused for the number (as Meta's spam breaker does): the
    # reply is queued, and cannot leave before the kill.  A worker reads
    # the pause afresh at start (later ones are cached for 0.5 s).
    with bot.db() as c:
        now = int(time.time())
        c.execute("INSERT OR REPLACE INTO sender_status (phone_number_id, paused_reason, paused_code, "
                  "paused_at, resume_at, updated_at) VALUES (?, 'spam_limit', 131048, ?, ?, ?)",
                  (PNID, now, now + 3600, now))
    (old,) = pids("wa-worker", bot.state)
    os.kill(old, signal.SIGKILL)
    worker = new_worker(bot, old)
    body, wamid = text_body(who, "hi")
    assert bot.post(body)[0] == 200
    bot.wait_applied()
    rows = bot.q("SELECT id, state, attempts FROM outbox WHERE recipient = ?", who)
    assert [(r["state"], r["attempts"]) for r in rows] == [("queued", 0)]
    os.kill(worker, signal.SIGKILL)
    with bot.db() as c:
        c.execute("UPDATE sender_status SET resume_at = 1")
    new_worker(bot, worker)
    wait_until(lambda: bot.q("SELECT state FROM outbox WHERE id = ?", rows[0]["id"])[0]["state"] == "accepted",
             what="the reply accepted")
    # A later message is answered too: the marker after which a second
    # copy of the first reply would have shown.
    body2, _ = text_body(who, "1")
    assert bot.post(body2)[0] == 200
    bot.wait_applied()
    wait_until(lambda: len(replies_to(graph, who)) >= 2, what="the second reply")
    got = replies_to(graph, who)
    assert len(got) == 2 and [r["status"] for r in got] == [200, 200]
    assert bot.q("SELECT count(*) n FROM outbox WHERE recipient = ?", who)[0]["n"] == 2
    assert got[0]["json"]["biz_opaque_callback_data"] == "outbox:%d" % rows[0]["id"]


# ------------------------------------------------------------- disk full

def fill(path):
    """Writes path until the file system is full; returns bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    n += f.write(chunk[:size])
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return n


def test_disk_full_answers_503_then_recovers_without_a_restart(tmp_path):
    """The state dir on a 24 MB tmpfs, filled up: webhooks get 503 with
    Retry-After (Meta delivers them again) and nothing half-written; once
    space is freed the same processes take them again."""
    mnt = str(tmp_path / "state")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "tmpfs", mnt], check=True)
    s = None
    try:
        s = Stack(extra_env={"WA_BOT": "off"}, state_dir=mnt)
        s.start()
        body, wamid = text_body("15550920001", "before")
        assert s.post(body)[0] == 200
        s.wait_applied()
        procs = (sorted(pids("wa-fcgi", s.state)), pids("wa-worker", s.state))
        # An empty WAL, then a full disk: every commit needs new blocks, it
        # cannot reuse the WAL's old ones (a write ahead of the fill takes
        # a frame or two, less than a webhook's commit needs).
        with s.db() as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = os.path.join(mnt, "filler")
        assert fill(filler) > 0
        n0 = s.q("SELECT count(*) n FROM webhook_events")[0]["n"]
        refused = []
        for i in range(3):
            b, w = text_body("15550920002", "during %d" % i)
            st, h, reply = s.post(b)
            assert st == 503, (st, reply)
            assert int(h["Retry-After"]) > 0
            err = json.loads(reply)["error"]
            assert err["code"] == "unavailable" and err["message"].endswith(".")
            refused.append((b, w))
        # Nothing half-written: no row, and the file is sound.
        assert s.q("SELECT count(*) n FROM webhook_events")[0]["n"] == n0
        with s.db() as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        os.unlink(filler)
        # Space again: the same bodies are taken and applied, once each,
        # by the same processes (no restart).
        for b, w in refused:
            assert s.post(b)[0] == 200
        s.wait_applied(30)
        for _, w in refused:
            assert s.q("SELECT count(*) n FROM messages WHERE wamid = ?", w)[0]["n"] == 1
        assert s.q("SELECT count(*) n FROM webhook_events WHERE state != 'applied'")[0]["n"] == 0
        assert (sorted(pids("wa-fcgi", s.state)), pids("wa-worker", s.state)) == procs
        st, _, h = s.request("GET", "/api/whatsapp/health")
        assert st == 200 and json.loads(h)["database"] == "ok"
    finally:
        if s is not None:
            s.close()
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])
