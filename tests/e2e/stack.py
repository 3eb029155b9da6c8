"""The real stack for end-to-end tests: deploy/run-local.sh (nginx,
spawn-fcgi + multiwatch + wa-fcgi, wa-worker) on a free loopback port with
a fresh state dir, plus helpers to sign and post webhooks and read the
SQLite file the gateway writes.

No test may ever reach a host outside loopback: a Stack refuses a
WHATSAPP_GRAPH_URL whose host is not loopback and, given none, points the
worker at a dead loopback port (DEAD_GRAPH_URL).  EgressWatch (armed for
the whole session by conftest.py) looks at the sockets of every process a
Stack started and records any peer outside loopback."""
import contextlib
import hashlib
import hmac
import http.client
import http.server
import ipaddress
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(TOP, "tests", "fixtures")
BUILD = os.environ.get("BUILD_DIR", os.path.join(TOP, "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def loopback_http(answer):
    """A throwaway HTTP server on 127.0.0.1 for the with block, yielding
    its port: answer(path) gives each GET's (status, headers, body), and
    Content-Length is added."""
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = answer(self.path)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv.server_port
    finally:
        srv.shutdown()
        srv.server_close()


def fixture(name):
    with open(os.path.join(FIXTURES, "webhooks", name), "rb") as f:
        return f.read()


def inbound_doc(name, pnid, sender, tag):
    """Webhook fixture name as sender writing to number pnid now, with a
    new wamid.TAG.* id: (the document, its message) to finish."""
    doc = json.loads(fixture(name))
    v = doc["entry"][0]["changes"][0]["value"]
    v["metadata"]["phone_number_id"] = pnid
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(int(time.time())),
              "id": "wamid.%s.%s" % (tag, os.urandom(8).hex())})
    return doc, m


def post_text(s, pnid, sender, text, tag="e2e"):
    """Posts text.json, signed, as sender writing text to number pnid now
    (a new wamid.TAG.* id); asserts the 200 and returns the wamid."""
    doc, m = inbound_doc("text.json", pnid, sender, tag)
    m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    return m["id"]


# Nothing listens on the discard port of loopback: a worker pointed here
# fails its calls at once, and no byte leaves the machine.
DEAD_GRAPH_URL = "http://127.0.0.1:9"


def is_loopback_host(host):
    """True for localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x)."""
    if host is None:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        a = ipaddress.ip_address(host)
    except ValueError:
        return False
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.is_loopback


def require_loopback_url(url, name="WHATSAPP_GRAPH_URL"):
    """Raises ValueError unless url is http(s) to a loopback host."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not is_loopback_host(u.hostname):
        raise ValueError("%s=%r: tests may only talk to loopback (127.0.0.0/8, ::1, "
                         "localhost), never to a host outside the machine" % (name, url))
    return url


# ------------------------------------------------------------ egress watch

TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING"}


def _addr(hexaddr):
    """'0100007F:1F90' (or a 32-digit IPv6 one) from /proc/net/* to
    (ip_address, port).  The kernel prints each 32-bit word in host byte
    order (little-endian here)."""
    h, port = hexaddr.split(":")
    raw = bytes.fromhex(h)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw), int(port, 16)


def parse_proc_net(text, proto, inodes=None):
    """Rows of a /proc/net/{tcp,tcp6,udp,udp6} text as dicts: proto, inode,
    local, remote ((ip_address, port) each), state; only those whose
    inode is in inodes, when given."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10 or (inodes is not None and int(f[9]) not in inodes):
            continue
        st = int(f[3], 16)
        out.append({"proto": proto, "inode": int(f[9]), "local": _addr(f[1]),
                    "remote": _addr(f[2]),
                    "state": TCP_STATES.get(st, str(st)) if proto.startswith("tcp") else str(st)})
    return out


def outside_peer(row):
    """True when a socket row has a peer that is neither unset nor loopback."""
    ip, port = row["remote"]
    if ip.is_unspecified and port == 0:
        return False                  # listening, or an unconnected datagram socket
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_loopback


class EgressWatch:
    """Samples the sockets of every process that belongs to a registered
    Stack (its session, or WA_STATE_DIR=<its state dir> in the process's
    environment) and records each one whose peer is outside loopback.
    sample() runs once; start() samples every `period` seconds in a thread
    until stop()."""

    def __init__(self, period=0.5):
        self.period = period
        self.lock = threading.Lock()
        self.stacks = {}          # state dir -> session id (None until started)
        self.violations = []      # dicts: state, pid, comm, proto, local, remote, state
        self.seen = set()
        self._stop = threading.Event()
        self._thread = None
        self._owner = {}          # (pid, starttime) -> state dir or None

    def register(self, stack):
        with self.lock:
            self.stacks[stack.state] = stack.proc.pid if stack.proc else None

    def unregister(self, stack):
        self.sample()             # a last look before its processes are gone
        with self.lock:
            self.stacks.pop(stack.state, None)

    def _owner_of(self, pid):
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                stat = f.read()
        except OSError:
            return None
        rest = stat.rsplit(b")", 1)[1].split()
        sid, start = int(rest[3]), rest[19]
        with self.lock:
            stacks = dict(self.stacks)
        for state, s in stacks.items():
            if s is not None and sid == s:
                return state
        key = (pid, start)
        if key not in self._owner:
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                env = []
            self._owner[key] = None
            for e in env:
                if e.startswith(b"WA_STATE_DIR="):
                    self._owner[key] = e[len(b"WA_STATE_DIR="):].decode("utf-8", "replace")
                    break
        owner = self._owner[key]
        return owner if owner in stacks else None

    def sample(self):
        """Looks once; returns the violations found by this look."""
        mine = {}                 # socket inode -> (state dir, pid)
        with self.lock:
            if not self.stacks:
                return []
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            state = self._owner_of(pid)
            if state is None:
                continue
            try:
                fds = os.listdir("/proc/%s/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if link.startswith("socket:["):
                    mine[int(link[8:-1])] = (state, int(pid))
        found = []
        if not mine:
            return found
        for proto in ("tcp", "tcp6", "udp", "udp6"):
            try:
                with open("/proc/net/" + proto) as f:
                    rows = parse_proc_net(f.read(), proto, mine)
            except OSError:
                continue
            for r in rows:
                if r["inode"] in mine and outside_peer(r):
                    state, pid = mine[r["inode"]]
                    try:
                        with open("/proc/%d/comm" % pid) as f:
                            comm = f.read().strip()
                    except OSError:
                        comm = "?"
                    v = {"stack": state, "pid": pid, "comm": comm, "proto": proto,
                         "local": "%s:%d" % r["local"], "remote": "%s:%d" % r["remote"],
                         "state": r["state"]}
                    key = (pid, r["inode"])
                    with self.lock:
                        if key not in self.seen:
                            self.seen.add(key)
                            self.violations.append(v)
                    found.append(v)
        return found

    def take(self, state=None):
        """Removes and returns the violations recorded so far (of one
        Stack's state dir, or all)."""
        with self.lock:
            got = [v for v in self.violations if state is None or v["stack"] == state]
            self.violations = [v for v in self.violations if v not in got]
            return got

    def _run(self):
        while not self._stop.wait(self.period):
            try:
                self.sample()
            except Exception as e:   # a process vanished mid-look: look again
                if not isinstance(e, (OSError, ValueError, IndexError)):
                    raise

    def start(self):
        self._thread = threading.Thread(target=self._run, name="egress-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()


WATCH = EgressWatch()


class Stack:
    def __init__(self, secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0", extra_env=None, state_dir=None):
        """state_dir: an existing directory to use as WA_STATE_DIR (say, a
        small tmpfs); by default a fresh temporary one.  The stack's own
        log is kept in a temporary directory either way."""
        self.tmp = tempfile.TemporaryDirectory(prefix="wa-e2e-")
        self.state = state_dir or self.tmp.name
        self.port = free_port()
        self.secret = secret
        self.verify_token = "verify-" + os.urandom(6).hex()
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith(("WA_", "WHATSAPP_")):
                del self.env[k]
        self.env.update({
            "WA_STATE_DIR": self.state,
            "WA_LISTEN": "127.0.0.1:%d" % self.port,
            "WA_RESPONDERS": "2",
            "WHATSAPP_APP_SECRET": secret,
            "WHATSAPP_VERIFY_TOKEN": self.verify_token,
            "WHATSAPP_ACCESS_TOKEN": "test-token",
            "WHATSAPP_PHONE_NUMBER_ID": "200300400500600",
            "WA_ENV_FILE": "",
            # Not make run's sandbox (issue 15) unless a test asks.
            "WA_SANDBOX": "0",
            "WA_FLOW_FILE": os.path.join(TOP, "deploy", "flows", "default.json"),
            "BUILD": BUILD,
        })
        self.env.update(extra_env or {})
        if not self.env.get("WHATSAPP_GRAPH_URL"):
            self.env["WHATSAPP_GRAPH_URL"] = DEAD_GRAPH_URL
        require_loopback_url(self.env["WHATSAPP_GRAPH_URL"])
        self.proc = None
        WATCH.register(self)
        self.log = open(os.path.join(self.tmp.name, "stack.log"), "wb")

    def start(self):
        self.proc = subprocess.Popen(
            ["sh", os.path.join(TOP, "deploy", "run-local.sh")],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        WATCH.register(self)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                st, _, body = self.request("GET", "/api/whatsapp/health")
                if st == 200 and b'"heartbeat_age_s":null' not in body:
                    self._wait_webhook_pool()
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("stack did not start:\n" + self.logtext())

    def _wait_webhook_pool(self, timeout=5):
        """/health is the API pool's; the webhook pool's socket comes from
        another spawn-fcgi that may still be starting (nginx then answers
        502).  Waits until a responder answers Meta's handshake (any
        answer but nginx's 502-504), for at most timeout seconds: a stack
        a test starts without webhook responders still starts."""
        # Not the verify token: nginx's error log prints the query of a
        # request it could not pass on; a responder answers this 403.
        path = "/api/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=probe"
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.request("GET", path)[0] not in (502, 503, 504):
                    return
            except OSError:
                pass
            time.sleep(0.05)

    def logtext(self):
        self.log.flush()
        with open(os.path.join(self.tmp.name, "stack.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            WATCH.sample()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def close(self):
        self.stop()
        WATCH.unregister(self)
        self.tmp.cleanup()

    # HTTP
    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def sign(self, body, secret=None):
        key = (secret or self.secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def post(self, body, signature=True, ctype="application/json", headers=None):
        h = {"Content-Type": ctype}
        if signature is True:
            h["X-Hub-Signature-256"] = self.sign(body)
        elif signature:
            h["X-Hub-Signature-256"] = signature
        h.update(headers or {})
        return self.request("POST", "/api/whatsapp/webhook", body, h)

    # Database
    def db(self):
        c = sqlite3.connect(os.path.join(self.state, "wa.db"), timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def q(self, sql, *args):
        with self.db() as c:
            return [dict(r) for r in c.execute(sql, args)]

    def wait_applied(self, timeout=10):
        """Waits until the journal has no pending entry and the worker has
        indexed every message for search."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.q("SELECT (SELECT count(*) FROM webhook_events WHERE state='pending') + "
                      "(SELECT count(*) FROM messages WHERE id > "
                      "(SELECT indexed_to FROM search_state)) n")[0]["n"] == 0:
                return
            time.sleep(0.02)
        raise AssertionError("journal not applied in time")


def started(extra_env=None, umask=None, **kw):
    """A Stack already started (closed again when it cannot start), as the
    test modules' fixtures want it; umask, when given, is the one its
    processes are started under."""
    s = Stack(extra_env=extra_env, **kw)
    old = os.umask(umask) if umask is not None else None
    try:
        s.start()
    except Exception:
        s.close()
        raise
    finally:
        if old is not None:
            os.umask(old)
    return s


def wait_until(cond, timeout=30, what="condition", step=0.02):
    """cond()'s first true value, polled every step seconds; fails the
    test after timeout seconds, naming what it waited for."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)
