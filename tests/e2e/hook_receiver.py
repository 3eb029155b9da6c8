"""A test receiver of event webhooks (issue 16), on loopback, in a thread
of the test's process: it records every request (method, path, headers
in order, body, whether X-Wa-Signature verifies with the secret given)
and every accepted connection (so a test can show that none came), and
answers as the test says: a callable reply(req) returning (status,
headers, delay_s), or the replies queued with then() in sequence, else
200.  Use it as a context manager or call close()."""
import hashlib
import hmac
import http.server
import queue
import re
import socketserver
import threading
import time


def signature_ok(secret, header, body):
    """True when header is "t=UNIX,v1=HEX" and HEX is the HMAC-SHA256
    of t + "." + body under secret."""
    m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header or "")
    if not m:
        return False
    want = hmac.new(secret.encode(), m.group(1).encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, m.group(2))


class Request:
    def __init__(self, method, path, headers, body, secret):
        self.method = method
        self.path = path
        self.headers = headers          # [(name, value)] as received
        self.body = body
        self.at = time.time()
        self.done_at = None             # when the answer was written
        self.sig = dict((k.lower(), v) for k, v in headers).get("x-wa-signature")
        self.sig_ok = secret is not None and signature_ok(secret, self.sig, body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class Receiver:
    def __init__(self, secret=None):
        self.secret = secret
        self.requests = []
        self.connections = 0
        self.replies = queue.Queue()
        self.reply = None               # reply(req) -> (status, headers, delay)
        self.lock = threading.Lock()
        rcv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                req = Request("POST", self.path, list(self.headers.items()), body, rcv.secret)
                with rcv.lock:
                    rcv.requests.append(req)
                status, headers, delay = rcv._answer(req)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except OSError:
                    pass            # the sender gave up meanwhile
                req.done_at = time.time()

            do_GET = do_POST

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def verify_request(self, request, client_address):
                with rcv.lock:
                    rcv.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def then(self, status, headers=None, delay=0):
        """Queues the answer to the next request not answered by reply."""
        self.replies.put((status, headers or {}, delay))
        return self

    def _answer(self, req):
        if self.reply is not None:
            r = self.reply(req)
            if r is not None:
                return r
        try:
            return self.replies.get_nowait()
        except queue.Empty:
            return 200, {}, 0

    def got(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
