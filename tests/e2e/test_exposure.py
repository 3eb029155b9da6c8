"""Secrets and data that can leave the box (issue 10, items 12 to 16), on
the real stack: nginx's memory under slow uploads and its per-address
webhook connection limit, the management API's own responder pool and
time budget, the metrics allow list, export and erase of a contact,
retention, file modes, the responders' environment, the refused-signature
log rate and what public /health says."""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from stack import BUILD, TOP, Stack, fixture, started

API = "/api/whatsapp"
PNID = "200300400500600"


def wactl(s, *args, umask=None):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def new_key(s, name="exposure"):
    r = wactl(s, "apikey", "create", name)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def get(s, path, key, timeout=30, source=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + key} if key else {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def procs(s, name):
    """Pids of this stack's processes called name (by WA_STATE_DIR)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read()
        except OSError:
            continue
        if ("WA_STATE_DIR=" + s.state).encode() in env.split(b"\0"):
            out.append(int(pid))
    return out


def nginx_pids(s):
    with open(os.path.join(s.state, "nginx", "nginx.pid")) as f:
        master = int(f.read())
    pids = [master]
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(pid))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def rss_kb(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            total += int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
    return total


def temp_body_bytes(s, pids):
    """Bytes of request bodies nginx holds in its temp files (unlinked)."""
    total, where = 0, os.path.join(s.state, "nginx", "body")
    for pid in pids:
        d = "/proc/%d/fd" % pid
        for fd in os.listdir(d):
            try:
                if os.readlink(os.path.join(d, fd)).startswith(where):
                    total += os.stat(os.path.join(d, fd)).st_size
            except OSError:
                continue
    return total


def slow_upload(s, size, sent):
    """A signed webhook POST whose body stops one byte short of size."""
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(("POST %s/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "X-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n"
                  % (API, size)).encode())
    if sent:
        sock.sendall(b" " * sent)
    return sock


# Item 12 ------------------------------------------------------------------

def test_slow_uploads_do_not_grow_nginx_by_their_bodies():
    n, size = 32, 4 * 1024 * 1024
    s = started({"WA_WEBHOOK_CONNS": "64"})
    socks = []
    try:
        pids = nginx_pids(s)
        before = rss_kb(pids)
        for _ in range(n):
            socks.append(slow_upload(s, size, size - 1))
        # Wait until nginx holds (nearly) every body, in memory or on disk;
        # 4 MB each in RAM would be 128 MB more.
        bound_kb = 48 * 1024
        deadline = time.time() + 60
        while time.time() < deadline:
            grown = rss_kb(pids) - before
            assert grown < bound_kb, "nginx grew by %d KB for %d slow uploads" % (grown, n)
            if temp_body_bytes(s, pids) >= n * (size - 1 - 128 * 1024):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("nginx did not take the bodies in time")
        assert rss_kb(pids) - before < bound_kb
    finally:
        for k in socks:
            k.close()
        s.close()


def nginx_state(s):
    """What nginx was told and did, for a failure's message."""
    out = []
    for name in ("nginx.conf", "access.log", "error.log"):
        try:
            with open(os.path.join(s.state, "nginx", name)) as f:
                lines = f.read().splitlines()
        except OSError as e:
            lines = [str(e)]
        if name == "nginx.conf":
            lines = [x for x in lines if "limit_conn" in x or "listen" in x]
        out.append("%s: %s" % (name, "\n".join(lines[-12:])))
    out.append(subprocess.run(["ss", "-tanp", "sport = :%d or dport = :%d" % (s.port, s.port)],
                              capture_output=True, text=True).stdout[-3000:])
    return "\n".join(out)


def answered_429(sock):
    """1 when nginx has answered 429 on sock (a held upload), 0 when it
    has said nothing yet."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return 0
    return 1 if data.startswith(b"HTTP/1.1 429") else 0


def test_webhook_connections_per_address_are_limited():
    s = started({"WA_WEBHOOK_CONNS": "3"})
    socks = []
    try:
        body = fixture("text.json")
        # Twice the limit of uploads that never finish: nginx holds three,
        # and answers the others 429 as soon as it has read their headers.
        for _ in range(6):
            socks.append(slow_upload(s, 1000, 10))
        deadline = time.time() + 10
        refused = 0
        while time.time() < deadline:
            # Each answer is read once: a later recv gets its rest or nothing.
            refused += sum(answered_429(k) for k in socks)
            if refused >= 3:
                break
            time.sleep(0.05)
        if refused != 3:
            pytest.fail("%d refused instead of 3\n%s" % (refused, nginx_state(s)))
        # A whole webhook from the same address meanwhile: refused too.
        st, _, b = s.post(body)
        assert st == 429, (st, b, nginx_state(s))
        assert json.loads(b)["error"]["code"] == "rate_limited"
        # Meta's verification handshake (a GET, no body) is not a delivery:
        # it is answered by a responder, not refused.
        st, _, b = s.request("GET", API + "/webhook?hub.mode=subscribe&hub.challenge=7"
                             "&hub.verify_token=" + s.env["WHATSAPP_VERIFY_TOKEN"])
        assert (st, b) == (200, b"7"), (st, b)
        for k in socks:
            k.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            st, _, b = s.post(body)
            if st != 429:
                break
            time.sleep(0.05)
        assert st == 200, (st, b)
    finally:
        for k in socks:
            k.close()
        s.close()


# Item 13 ------------------------------------------------------------------

def slow_history(s, n=20000):
    """One customer with n messages and no reply: /stats's reply delays
    cost n^2/2 index steps over them."""
    t0 = 1790000000
    with s.db() as c:
        c.execute("INSERT INTO contacts (id, phone_number_id, wa_id, first_seen_at, last_seen_at) "
                  "VALUES (9001, ?, '15550009999', ?, ?)", (PNID, t0, t0))
        c.execute("INSERT INTO conversations (id, phone_number_id, contact_id, created_at) "
                  "VALUES (9001, ?, 9001, ?)", (PNID, t0))
        c.executemany("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, "
                      "contact_id, sender, type, timestamp, raw, created_at) VALUES "
                      "(?, ?, 'in', 9001, 9001, '15550009999', 'text', ?, '{}', ?)",
                      [(PNID, "wamid.slow%d" % i, t0 + i, t0) for i in range(n)])
    return "%s/stats?since=%d&until=%d" % (API, t0, t0 + n)


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "R"
    except OSError:
        return False


def test_webhook_is_acknowledged_while_every_api_responder_is_busy():
    s = started({"WA_RESPONDERS": "2", "WA_API_RESPONDERS": "2", "WA_API_QUERY_MS": "4000"})
    try:
        key = new_key(s)
        path = slow_history(s)
        answers = []

        def slow():
            answers.append(get(s, path, key, timeout=60))
        threads = [threading.Thread(target=slow) for _ in range(3)]
        for t in threads:
            t.start()
        # Wait until two responders run the slow query (every API one).
        deadline = time.time() + 20
        while sum(running(p) for p in procs(s, "wa-fcgi-api")) < 2:
            assert time.time() < deadline, "the slow queries did not start"
            time.sleep(0.01)
        st, _, b = s.post(fixture("text.json"))
        assert st == 200, b
        assert any(t.is_alive() for t in threads), "the API answered first"
        for t in threads:
            t.join(60)
        assert len(answers) == 3
        for st, b in answers:
            assert st == 503, b
            assert json.loads(b)["error"]["code"] == "query_too_slow"
        assert "WA_API_QUERY_MS" in json.loads(answers[0][1])["error"]["message"]
    finally:
        s.close()


def test_query_over_its_budget_answers_503_query_too_slow():
    s = started({"WA_API_QUERY_MS": "300"})
    try:
        key = new_key(s)
        path = slow_history(s)
        st, b = get(s, path, key, timeout=60)
        assert st == 503, b
        err = json.loads(b)["error"]
        assert err["code"] == "query_too_slow" and "narrow" in err["message"]
        # The responder is free again and cheap queries still answer.
        st, b = get(s, API + "/stats", key)
        assert st == 200, b
    finally:
        s.close()


def test_stats_covers_at_most_366_days():
    s = started()
    try:
        key = new_key(s)
        st, b = get(s, API + "/stats?since=0&until=1790000000", key)
        assert st == 200, b
        doc = json.loads(b)
        assert doc["capped"] is True and doc["since"] == 1790000000 - 366 * 86400
        st, b = get(s, API + "/stats?since=1780000000&until=1790000000", key)
        doc = json.loads(b)
        assert doc["capped"] is False and doc["since"] == 1780000000
    finally:
        s.close()


def test_metrics_only_from_allowed_addresses():
    s = started()
    try:
        key = new_key(s)
        st, b = get(s, API + "/metrics", key, source="127.0.0.2")
        assert st == 403, b
        assert json.loads(b)["error"]["code"] == "forbidden"
        st, b = get(s, API + "/metrics", key, source="127.0.0.1")
        assert st == 200 and b"wa_webhooks" in b
    finally:
        s.close()


def test_production_site_config_passes_nginx_t(tmp_path):
    site = open(os.path.join(TOP, "nginx", "wa-gateway.conf")).read()
    assert re.search(r"location = /api/whatsapp/metrics \{[^}]*allow 127\.0\.0\.1;[^}]*"
                     r"include /etc/nginx/wa-metrics-allow\.conf;[^}]*deny all;", site)
    assert "http2_max_concurrent_streams" in site
    assert "client_body_buffer_size 128k" in site and "limit_conn wa_hook" in site
    assert "unix:/run/wa-gateway/api.sock" in site
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=wa.example.com", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    (tmp_path / "allow.conf").write_text("allow 192.0.2.10;\n")
    p80, p443 = 0, 0
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        p80, p443 = a.getsockname()[1], b.getsockname()[1]
    site = (site.replace("/etc/nginx/wa_fastcgi_params", os.path.join(TOP, "nginx", "wa_fastcgi_params"))
            .replace("/etc/nginx/wa_inbox_headers", os.path.join(TOP, "nginx", "wa_inbox_headers"))
            .replace("/etc/nginx/wa-metrics-allow.conf", str(tmp_path / "allow.conf"))
            .replace("/etc/letsencrypt/live/wa.example.com/fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/letsencrypt/live/wa.example.com/privkey.pem", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", str(tmp_path) + "/")
            .replace("listen 80;", "listen 127.0.0.1:%d;" % p80)
            .replace("listen [::]:80;", "")
            .replace("listen 443 ssl", "listen 127.0.0.1:%d ssl" % p443)
            .replace("listen [::]:443 ssl http2;", ""))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        "pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n"
        "client_body_temp_path %s/body;\nproxy_temp_path %s/p;\nfastcgi_temp_path %s/f;\n"
        "uwsgi_temp_path %s/u;\nscgi_temp_path %s/s;\ninclude %s/site.conf;\n}\n"
        % ((tmp_path,) * 7 + (tmp_path,)))
    r = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-e",
                        str(tmp_path / "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_production_units_keep_the_token_and_the_database_from_nginx_and_responders(tmp_path):
    units = {n: open(os.path.join(TOP, "deploy", n)).read()
             for n in ("wa-fcgi.service", "wa-fcgi-api.service")}
    for name, text in units.items():
        assert "UnsetEnvironment=WHATSAPP_ACCESS_TOKEN" in text, name
        assert "-M 0660" in text and "0666" not in text, name
        # wa:www-data 2750 made by root before the start; never a shared
        # RuntimeDirectory=, which systemd would chown back to wa:wa with
        # the other pool's socket in it (tests/e2e/test_install.py).
        assert "ExecStartPre=+/usr/bin/install -d -o wa -g www-data -m 2750 /run/wa-gateway" in text
        assert not re.search(r"^RuntimeDirectory", text, re.M), name
    assert "-s /run/wa-gateway/api.sock" in units["wa-fcgi-api.service"]
    assert "wa-fcgi -r api" in units["wa-fcgi-api.service"]
    assert "wa-fcgi -r webhook" in units["wa-fcgi.service"]
    install = open(os.path.join(TOP, "deploy", "install.sh")).read()
    assert not re.search(r"usermod[^\n]*www-data", install)
    assert "gpasswd -d www-data" in install and "wa-fcgi-api.service" in install
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    for name, text in units.items():
        (tmp_path / name).write_text(text.replace("/usr/local/bin/", BUILD + "/"))
    r = subprocess.run([analyze, "verify", "--man=no"] + [str(tmp_path / n) for n in units],
                       capture_output=True, text=True, timeout=60)
    bad = [l for l in (r.stdout + r.stderr).splitlines()
           if str(tmp_path) in l and re.search(r"Unknown|Invalid|Failed|rror", l)]
    assert r.returncode == 0 and bad == [], r.stdout + r.stderr


# Item 15 ------------------------------------------------------------------

def test_files_are_owner_only_whatever_the_umask():
    s = started(umask=0)
    try:
        for name in ("wa.db", "wa.db-wal"):
            mode = os.stat(os.path.join(s.state, name)).st_mode & 0o777
            assert mode == 0o600, (name, oct(mode))
        for name in ("fcgi.sock", "api.sock"):
            mode = os.stat(os.path.join(s.state, name)).st_mode & 0o777
            assert mode == 0o660, (name, oct(mode))
        out = os.path.join(s.state, "backup.db")
        r = wactl(s, "backup", out, umask=0)
        assert r.returncode == 0, r.stderr
        assert os.stat(out).st_mode & 0o777 == 0o600
    finally:
        s.close()


# Item 16 ------------------------------------------------------------------

def memory_holds(pid, needle):
    """1 when needle is in any private writable mapping of pid."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if "rw" not in parts[1] or hi - lo > 256 * 1024 * 1024:
                continue
            if len(parts) > 5 and parts[5].startswith("/") and not parts[5].startswith("/dev/zero"):
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def test_responders_never_hold_the_access_token(tmp_path):
    token = "EAAG" + os.urandom(16).hex()
    env = tmp_path / "wa.env"
    env.write_text("WHATSAPP_ACCESS_TOKEN=%s\n" % token)
    env.chmod(0o600)
    s = Stack(extra_env={"WA_ENV_FILE": str(env), "WHATSAPP_ACCESS_TOKEN": token})
    try:
        s.start()
        responders = procs(s, "wa-fcgi") + procs(s, "wa-fcgi-api")
        assert len(responders) == 4
        for pid in responders:
            with open("/proc/%d/environ" % pid, "rb") as f:
                assert b"WHATSAPP_ACCESS_TOKEN" not in f.read()
            assert not memory_holds(pid, token.encode()), "responder %d holds the token" % pid
        # The worker still has it: it is the one that calls Meta.
        worker = procs(s, "wa-worker")
        assert worker and memory_holds(worker[0], token.encode())
        assert token not in s.logtext()
    finally:
        s.close()


def test_refused_signatures_are_logged_once_a_second_with_a_count():
    s = started()
    try:
        n, t0 = 0, time.time()
        while n < 300 or time.time() - t0 < 2:
            assert s.post(b'{"object":"whatsapp_business_account"}', signature="sha256=" + "0" * 64)[0] == 403
            n += 1
        seconds = time.time() - t0
        lines = [l for l in s.logtext().splitlines() if "event=webhook_refused reason=bad_signature" in l]
        # Two webhook responders: each logs at most once a second.
        assert 1 <= len(lines) <= 2 * (int(seconds) + 2), (len(lines), n)
        counts = [int(re.search(r" count=(\d+)$", l).group(1)) for l in lines]
        assert max(counts) > 1 and sum(counts) <= n
        key = new_key(s)
        st, b = get(s, API + "/metrics", key)
        assert b"wa_webhooks_refused_total %d\n" % n in b
    finally:
        s.close()


def test_public_health_has_no_pid_nor_number():
    s = started()
    try:
        with s.db() as c:
            c.execute("INSERT INTO sender_status (phone_number_id, paused_reason, paused_code, "
                      "paused_at, resume_at, updated_at) VALUES (?, 'spam_limit', 131048, 1, "
                      "4102444800, 1)", (PNID,))
        st, _, b = s.request("GET", API + "/health")
        assert st == 200
        doc = json.loads(b)
        text = b.decode()
        assert '"pid"' not in text and PNID not in text
        assert doc["status"] == "degraded" and doc["reasons"] == ["sending_paused"]
        assert doc["sending"]["paused"][0]["reason"] == "spam_limit"
        # The details are on /status, behind a key.
        key = new_key(s)
        st, b = get(s, API + "/status", key)
        doc = json.loads(b)
        assert doc["worker_pid"] in procs(s, "wa-worker") and doc["responder_pid"] in procs(s, "wa-fcgi-api")
        with s.db() as c:
            c.execute("DELETE FROM sender_status")
        doc = json.loads(s.request("GET", API + "/health")[2])
        assert doc["status"] == "ok" and doc["reasons"] == []
    finally:
        s.close()


# Item 14 ------------------------------------------------------------------

WHO, NAME, WORDS = "15550774411", "Zebulon Quillfeather", "zanzibar marmalade"
OTHER = "15550774422"


def inbound(s, who, name, text, ts=None):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0].update({"wa_id": who, "profile": {"name": name}})
    m = v["messages"][0]
    m.update({"from": who, "timestamp": str(ts or int(time.time())),
              "id": "wamid.exp.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    st, _, b = s.post(json.dumps(doc).encode())
    assert st == 200, b
    return m["id"]


def status(s, who, wamid, ts=None):
    doc = json.loads(fixture("status_delivered.json"))
    st_ = doc["entry"][0]["changes"][0]["value"]["statuses"][0]
    st_.update({"id": wamid, "recipient_id": who, "timestamp": str(ts or int(time.time()))})
    assert s.post(json.dumps(doc).encode())[0] == 200


def everything_about(s, who, name, words, ts=None):
    """Puts the contact in every table that can hold them."""
    inbound(s, who, name, "%s %s" % (words, os.urandom(2).hex()), ts)
    s.wait_applied()
    c = s.q("SELECT id FROM contacts WHERE wa_id = ?", who)[0]["id"]
    mid = s.q("SELECT id, wamid FROM messages WHERE sender = ?", who)[0]
    out = "wamid.out.%s" % os.urandom(6).hex()
    now = ts or int(time.time())
    with s.db() as db:
        db.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, contact_id, "
                   "recipient, type, text, timestamp, raw, created_at) SELECT ?, ?, 'out', id, ?, ?, 'text', "
                   "?, ?, ?, ? FROM conversations WHERE contact_id = ?",
                   (PNID, out, c, who, "about your " + words, now, json.dumps({"to": who}), now, c))
        db.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, text, free_form, source, "
                   "state, next_attempt_at, created_at) VALUES (?, ?, 'text', ?, ?, 1, 'api', 'accepted', 0, ?)",
                   (PNID, who, json.dumps({"to": who, "text": {"body": words}}), words, now * 1000))
        db.execute("INSERT INTO agent_requests (phone_number_id, contact_id, recipient, url, body, state, "
                   "next_attempt_at, created_at) VALUES (?, ?, ?, 'http://127.0.0.1:9/agent', ?, 'answered', "
                   "0, ?)", (PNID, c, who, json.dumps({"contact": who, "message": words}), now * 1000))
        db.execute("INSERT INTO media (phone_number_id, media_id, direction, message_id, state, created_at) "
                   "VALUES (?, ?, 'in', ?, 'pending', ?)", (PNID, "media-" + who, mid["id"], now))
        t = db.execute("INSERT INTO tickets (phone_number_id, number, contact_id, customer_wa_id, description, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (PNID, "T-" + who, c, who, words, now, now)).lastrowid
        db.execute("INSERT INTO ticket_media (ticket_id, media_id) VALUES (?, ?)", (t, "media-" + who))
        o = db.execute("INSERT INTO orders (phone_number_id, number, customer_wa_id, status, updated_at) "
                       "VALUES (?, ?, ?, 'shipped', ?)", (PNID, "A-" + who, who, now)).lastrowid
        db.execute("INSERT INTO order_lines (order_id, line_no, item) VALUES (?, 1, 'gate')", (o,))
        db.execute("INSERT OR REPLACE INTO bot_state (phone_number_id, contact_id, node, vars, last_active) "
                   "VALUES (?, ?, 'menu', ?, ?)", (PNID, c, json.dumps({"said": words}), now))
        raw = json.dumps({"code": 131051, "title": "Unsupported", "recipient_id": who, "details": words})
        db.execute("INSERT INTO webhook_errors (phone_number_id, code, title, message, details, raw, "
                   "item_sha256, created_at) VALUES (?, 131051, 'Unsupported', ?, ?, ?, ?, ?)",
                   (PNID, words, words, raw, os.urandom(32).hex(), now))
        db.execute("INSERT INTO subscription_events (phone_number_id, field, raw, item_sha256, created_at) "
                   "VALUES (?, 'user_preferences', ?, ?, ?)",
                   (PNID, json.dumps({"wa_id": who, "detail": words}), os.urandom(32).hex(), now))
    status(s, who, out, ts)
    s.wait_applied()
    return out


def traces(s, needles):
    """(table, column, needle) for every text or blob column holding one."""
    found = []
    with s.db() as c:
        tables = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'messages_fts%'")]
        for t in tables:
            for col in [r[1] for r in c.execute("PRAGMA table_info(%s)" % t)]:
                for n in needles:
                    if c.execute('SELECT count(*) FROM "%s" WHERE instr(CAST("%s" AS TEXT), ?) > 0'
                                 % (t, col), (n,)).fetchone()[0]:
                        found.append((t, col, n))
    return found


TABLES = {"contacts": "contacts", "conversations": "conversations", "messages": "messages",
          "statuses": "message_statuses", "media": "media", "tickets": "tickets", "outbox": "outbox",
          "agent_requests": "agent_requests", "bot_state": "bot_state", "orders": "orders",
          "order_lines": "order_lines", "webhook_events": "webhook_events",
          "webhook_errors": "webhook_errors", "subscription_events": "subscription_events"}


def test_export_has_every_column_of_every_table_that_holds_the_contact():
    s = started({"WA_BOT": "off"})
    try:
        key = new_key(s)
        everything_about(s, WHO, NAME, WORDS)
        st, b = get(s, API + "/contacts/%s/export" % WHO, key)
        assert st == 200, b
        ex = json.loads(b)
        for part, table in TABLES.items():
            cols = {r["name"] for r in s.q("SELECT name FROM pragma_table_info(?)", table)}
            assert ex[part], "export has no %s" % part
            for row in ex[part]:
                assert cols <= set(row), (part, sorted(cols - set(row)))
        msg = next(m for m in ex["messages"] if m["direction"] == "in")
        assert WORDS in msg["text"] and WORDS in msg["raw"] and "status_at" in msg
        assert any(WORDS in e["body"] for e in ex["webhook_events"])
    finally:
        s.close()


def test_erase_leaves_no_trace_even_of_what_is_not_applied_yet():
    s = started({"WA_BOT": "off"})
    try:
        key = new_key(s)
        everything_about(s, WHO, NAME, WORDS)
        everything_about(s, OTHER, "Someone Else", "ordinary words")
        # One more message waits in the journal while the worker is stopped.
        worker = procs(s, "wa-worker")
        assert worker
        os.kill(worker[0], 19)          # SIGSTOP
        try:
            inbound(s, WHO, NAME, WORDS + " late")
            assert s.q("SELECT count(*) n FROM webhook_events WHERE state = 'pending'")[0]["n"] == 1
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            c.request("DELETE", API + "/contacts/" + WHO, headers={"Authorization": "Bearer " + key})
            r = c.getresponse()
            body = r.read()
            c.close()
            assert r.status == 200, body
        finally:
            os.kill(worker[0], 18)      # SIGCONT
        s.wait_applied()
        assert traces(s, [WHO, NAME, WORDS]) == []
        assert json.loads(get(s, API + "/messages?q=zanzibar", key)[1])["data"] == []
        # The other customer is untouched.
        assert traces(s, [OTHER, "ordinary words"])
        assert get(s, API + "/contacts/" + OTHER, key)[0] == 200
    finally:
        s.close()


def test_message_retention_covers_every_copy_of_the_words():
    s = started({"WA_BOT": "off", "WA_RETAIN_MESSAGES_DAYS": "1"})
    try:
        old = int(time.time()) - 10 * 86400
        everything_about(s, WHO, NAME, WORDS, ts=old)
        everything_about(s, OTHER, "Someone Else", "recent words")
        # The journal received the old customer's webhooks ten days ago.
        with s.db() as c:
            c.execute("UPDATE webhook_events SET received_at = received_at - 10 * 86400000 "
                      "WHERE instr(body, ?) > 0", (WHO.encode(),))
        assert traces(s, [WORDS])
        r = wactl(s, "purge")
        assert r.returncode == 0, r.stderr
        # Tickets (a business record the staff keep) and the bot's live
        # state are not messages: retention leaves them.
        assert [t for t in traces(s, [WORDS]) if t[0] not in ("tickets", "bot_state")] == []
        assert traces(s, ["recent words"])
    finally:
        s.close()


def test_media_files_no_row_names_are_swept_after_an_hour():
    s = started({"WA_BOT": "off"})
    try:
        d = os.path.join(s.state, "media", "ab")
        os.makedirs(d, exist_ok=True)
        for name in ("orphan", "fresh", "named"):
            with open(os.path.join(d, name), "wb") as f:
                f.write(b"photo")
        past = time.time() - 2 * 3600
        for name in ("orphan", "named"):
            os.utime(os.path.join(d, name), (past, past))
        with s.db() as c:
            c.execute("INSERT INTO media (phone_number_id, media_id, direction, path, state, created_at) "
                      "VALUES (?, 'm-named', 'in', 'ab/named', 'stored', 0)", (PNID,))
        r = wactl(s, "purge")
        assert r.returncode == 0, r.stderr
        assert not os.path.exists(os.path.join(d, "orphan"))
        assert os.path.exists(os.path.join(d, "fresh")) and os.path.exists(os.path.join(d, "named"))
    finally:
        s.close()


def test_the_installed_inbox_page_names_versioned_assets_that_exist(tmp_path):
    """make install and make run stamp web/index.html with a digest of
    web/ (deploy/inbox-page.sh): every asset it names must be a file of
    web/ under a path the production site's versioned location serves."""
    subprocess.run(["make", "-s", "-C", TOP, "install-web",
                    "DESTDIR=" + str(tmp_path), "PREFIX=/p"], check=True)
    page = (tmp_path / "p/share/wa-gateway/web/index.html").read_text()
    assert "@VERSION@" not in page
    site = open(os.path.join(TOP, "nginx", "wa-gateway.conf")).read()
    pattern = re.search(r'location ~ "\^/inbox/(v/[^"]+)\$"', site).group(1)
    assets = re.findall(r'(?:href|src)="(v/[^"]+)"', page)
    assert len(assets) >= 3
    for a in assets:
        m = re.fullmatch(pattern, a)
        assert m, a
        assert os.path.isfile(os.path.join(TOP, "web", m.group(1))), a
        assert (tmp_path / "p/share/wa-gateway/web" / m.group(1)).is_file()
    # A change to any file of web/ is a new version.
    other = subprocess.run(["sh", os.path.join(TOP, "deploy", "inbox-page.sh"),
                            os.path.join(TOP, "web")], check=True,
                           capture_output=True, text=True).stdout
    assert other == page
