"""smtp_server.py: a small SMTP server for the alert mail tests, from
Python's standard library only (socketserver, ssl).  It offers STARTTLS
(when given a certificate) and AUTH PLAIN and LOGIN in its EHLO, keeps
every message whole (envelope, bytes as received after un-dot-stuffing,
whether TLS was on, who authenticated), and answers an error on demand:

    srv = SmtpServer(tls=(cert, key))   # or tls=None: no STARTTLS offered
    srv.fail_data = ["451 4.3.0 try again later"]  # the next DATA answers so
    srv.refuse = True                   # connections are closed at once
    srv.stall = True                    # connections are accepted, then
                                        # never answered (no greeting)
                                        # until the client hangs up
    srv.stalls, srv.stalled_open        # such sessions so far, still open
    srv.url                             # smtp://127.0.0.1:PORT
    srv.wait_messages(1)                # the list, once it has one
    srv.close()

Loopback only.  make_cert(dir) makes a throwaway self-signed certificate
for 127.0.0.1 with openssl.
"""
import base64
import os
import select
import socket
import socketserver
import ssl
import subprocess
import threading
import time


def make_cert(d):
    """A self-signed certificate and key for 127.0.0.1 in directory d."""
    cert, key = os.path.join(d, "smtp-cert.pem"), os.path.join(d, "smtp-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def _send(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def _line(self):
        b = self.rfile.readline(65536)
        if not b:
            raise EOFError
        return b.rstrip(b"\r\n").decode("utf-8", "replace")

    def handle(self):
        srv = self.server.owner
        if srv.refuse:
            return
        if srv.stall:
            self.stall()
            return
        self.tls = False
        self.auth = None
        self.reset()
        self._send("220 127.0.0.1 test ESMTP")
        try:
            while True:
                line = self._line()
                srv.commands.append(line)
                verb = line.split(" ", 1)[0].upper()
                arg = line[len(verb):].strip()
                if verb in ("EHLO", "HELO"):
                    self.reset()
                    caps = ["127.0.0.1 hello"]
                    if srv.tls and not self.tls:
                        caps.append("STARTTLS")
                    caps += ["AUTH PLAIN LOGIN", "8BITMIME", "SIZE 1000000"]
                    for c in caps[:-1]:
                        self._send("250-" + c)
                    self._send("250 " + caps[-1])
                elif verb == "STARTTLS" and srv.tls and not self.tls:
                    self._send("220 2.0.0 ready to start TLS")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*srv.tls)
                    self.connection = ctx.wrap_socket(self.connection, server_side=True)
                    self.rfile = self.connection.makefile("rb")
                    self.wfile = self.connection.makefile("wb")
                    self.tls = True
                    self.reset()
                elif verb == "AUTH":
                    self.do_auth(arg)
                elif verb == "MAIL":
                    # The path alone; parameters (SIZE=...) kept apart.
                    path = arg.split(":", 1)[1].strip() if ":" in arg else arg
                    self.mail_from, _, self.mail_params = path.partition(" ")
                    self._send("250 2.1.0 ok")
                elif verb == "RCPT":
                    self.rcpt.append(arg.split(":", 1)[1].strip() if ":" in arg else arg)
                    self._send("250 2.1.5 ok")
                elif verb == "DATA":
                    self.do_data()
                elif verb == "RSET":
                    self.reset()
                    self._send("250 2.0.0 ok")
                elif verb == "NOOP":
                    self._send("250 2.0.0 ok")
                elif verb == "QUIT":
                    self._send("221 2.0.0 bye")
                    return
                else:
                    self._send("502 5.5.2 command not implemented")
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            return

    def stall(self):
        """Says nothing, reads and drops whatever comes, until the client
        closes the connection (its timeout)."""
        srv = self.server.owner
        with srv.lock:
            srv.stalls += 1
            srv.stalled_open += 1
        try:
            while True:
                r, _, _ = select.select([self.connection], [], [], 0.05)
                if r:
                    try:
                        if not self.connection.recv(4096):
                            return
                    except OSError:
                        return
        finally:
            with srv.lock:
                srv.stalled_open -= 1

    def reset(self):
        self.mail_from, self.mail_params, self.rcpt = None, "", []

    def do_auth(self, arg):
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        if mech == "PLAIN":
            if len(parts) > 1:
                raw = parts[1]
            else:
                self._send("334 ")
                raw = self._line()
            _, user, pw = base64.b64decode(raw).decode().split("\0")
        elif mech == "LOGIN":
            if len(parts) > 1:
                user = base64.b64decode(parts[1]).decode()
            else:
                self._send("334 VXNlcm5hbWU6")
                user = base64.b64decode(self._line()).decode()
            self._send("334 UGFzc3dvcmQ6")
            pw = base64.b64decode(self._line()).decode()
        else:
            self._send("504 5.5.4 unknown mechanism")
            return
        self.auth = (mech, user, pw)
        self._send("235 2.7.0 authenticated")

    def do_data(self):
        srv = self.server.owner
        self._send("354 end with <CRLF>.<CRLF>")
        lines = []
        while True:
            b = self.rfile.readline(1 << 20)
            if not b:
                raise EOFError
            if b == b".\r\n":
                break
            if b.startswith(b".."):
                b = b[1:]
            lines.append(b)
        with srv.lock:
            fail = srv.fail_data.pop(0) if srv.fail_data else None
        if fail:
            self.reset()    # the end of DATA ends the transaction
            self._send(fail)
            return
        with srv.lock:
            srv.messages.append({"from": self.mail_from, "rcpt": list(self.rcpt),
                                 "data": b"".join(lines), "tls": self.tls,
                                 "auth": self.auth})
        self.reset()
        self._send("250 2.0.0 queued")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpServer:
    def __init__(self, tls=None):
        self.tls = tls
        self.refuse = False
        self.stall = False
        self.stalls = 0
        self.stalled_open = 0
        self.fail_data = []
        self.messages = []
        self.commands = []
        self.lock = threading.Lock()
        self._srv = _Server(("127.0.0.1", 0), _Handler)
        self._srv.owner = self
        self.port = self._srv.server_address[1]
        self.url = "smtp://127.0.0.1:%d" % self.port
        self._t = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._t.start()

    def wait_messages(self, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError("the SMTP server got %d messages, not %d" %
                             (len(self.messages), n))

    def close(self):
        self._srv.shutdown()
        self._srv.server_close()
