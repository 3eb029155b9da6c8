"""A minimal FastCGI client (responder role) for tests that speak to the
wa-fcgi pool's unix socket directly, past nginx: it sends exactly the
params and body bytes given, so a test can reach the responder's own
checks that nginx would never let through (no CONTENT_LENGTH, a length
over the limit, a body shorter than its length).

FastCGI 1.0 specification: records (section 3.3), name-value pairs
(3.4), FCGI_BEGIN_REQUEST (5.1), FCGI_PARAMS and FCGI_STDIN streams
(5.2, 5.3), FCGI_STDOUT and FCGI_END_REQUEST (5.5)."""
import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER = 1


def _record(rtype, req_id, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", VERSION, rtype, req_id, len(content), pad) + content + b"\0" * pad


def _length(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    out = b""
    for k, v in params.items():
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        out += _length(len(k)) + _length(len(v)) + k + v
    return out


def _stream(rtype, req_id, data):
    out = b""
    for i in range(0, len(data), 65535):
        out += _record(rtype, req_id, data[i:i + 65535])
    return out + _record(rtype, req_id)          # an empty record ends the stream


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the responder closed the connection after %d of %d bytes"
                                  % (len(buf), n))
        buf += chunk
    return buf


def request(path, params, body=b"", timeout=10):
    """Sends one request to the FastCGI unix socket at path: params (dict,
    sent as given: nothing is added) and body on FCGI_STDIN.  Returns
    (status, headers dict with lower-case names, body bytes) parsed from
    the CGI response on FCGI_STDOUT."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        req_id = 1
        s.sendall(_record(BEGIN_REQUEST, req_id, struct.pack(">HB5x", RESPONDER, 0)) +
                  _stream(PARAMS, req_id, encode_params(params)) +
                  _stream(STDIN, req_id, body))
        out = b""
        while True:
            head = _read_exact(s, 8)
            _, rtype, _, clen, plen = struct.unpack(">BBHHBx", head)
            content = _read_exact(s, clen + plen)[:clen]
            if rtype == STDOUT:
                out += content
            elif rtype == END_REQUEST:
                break
    finally:
        s.close()
    head, _, rbody = out.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, rbody


def webhook_params(length=None, ctype="application/json", signature=None):
    """The params nginx would pass for POST /api/whatsapp/webhook, with
    CONTENT_LENGTH as given (None: left out)."""
    p = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/api/whatsapp/webhook",
         "SCRIPT_NAME": "/api/whatsapp/webhook", "DOCUMENT_URI": "/api/whatsapp/webhook",
         "QUERY_STRING": "", "CONTENT_TYPE": ctype, "SERVER_PROTOCOL": "HTTP/1.1",
         "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    if length is not None:
        p["CONTENT_LENGTH"] = str(length)
    if signature is not None:
        p["HTTP_X_HUB_SIGNATURE_256"] = signature
    return p
