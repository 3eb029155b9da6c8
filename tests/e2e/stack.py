"""The real stack for end-to-end tests: deploy/run-local.sh (nginx,
spawn-fcgi + multiwatch + wa-fcgi, wa-worker) on a free loopback port with
a fresh state dir, plus helpers to sign and post webhooks and read the
SQLite file the gateway writes."""
import hashlib
import hmac
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(TOP, "tests", "fixtures")
BUILD = os.environ.get("BUILD_DIR", os.path.join(TOP, "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fixture(name):
    with open(os.path.join(FIXTURES, "webhooks", name), "rb") as f:
        return f.read()


class Stack:
    def __init__(self, secret="0f1e2d3c4b5a69788796a5b4c3d2e1f0", extra_env=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="wa-e2e-")
        self.state = self.tmp.name
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
            "WA_FLOW_FILE": os.path.join(TOP, "deploy", "flows", "default.json"),
            "BUILD": BUILD,
        })
        self.env.update(extra_env or {})
        self.proc = None
        self.log = open(os.path.join(self.state, "stack.log"), "wb")

    def start(self):
        self.proc = subprocess.Popen(
            ["sh", os.path.join(TOP, "deploy", "run-local.sh")],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                st, _, body = self.request("GET", "/api/whatsapp/health")
                if st == 200 and b'"heartbeat_age_s":null' not in body:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("stack did not start:\n" + self.logtext())

    def logtext(self):
        self.log.flush()
        with open(os.path.join(self.state, "stack.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def close(self):
        self.stop()
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
