"""`wactl doctor` on a local stack laid out like a production install: a
state dir on its own tmpfs (mode 0750), an env file (0600), a backup dir,
the fake Graph API for the token check, and an nginx site with TLS on a
loopback port in front of the stack's nginx for the webhook check (curl's
--resolve through WA_DOCTOR_RESOLVE, the test CA through
WA_DOCTOR_CAFILE).  Each check is driven to OK and to its WARN and FAIL
where a test can make them; every run must print all twelve lines.  All
on loopback."""
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

from stack import BUILD, TOP, free_port, started, wait_until

CHECKS = ["config", "files", "sockets", "nginx_site", "certificate", "token", "webhook",
          "disk", "sqlite", "journal", "sends", "backup"]
DOMAIN = "wa.doctor.test"
PNID = "200300400500600"
NUMBER = {"display_phone_number": "+1 555-010-0600", "verified_name": "Doctor Test Shop",
          "quality_rating": "GREEN"}


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0750" % size, "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.strip())


def umount(path):
    if subprocess.run(["umount", path]).returncode != 0:
        subprocess.run(["umount", "-l", path])


def make_cert(d, name, days, host=DOMAIN):
    """A self-signed certificate for host valid for days (-1: expired
    yesterday); returns (cert, key) paths."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    if days >= 0:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", str(days), "-subj", "/CN=" + host,
                        "-addext", "subjectAltName=DNS:" + host], check=True, capture_output=True)
    else:
        csr = os.path.join(d, name + ".csr")
        subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", csr, "-subj", "/CN=" + host], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-signkey", key, "-days", "-1",
                        "-out", cert], check=True, capture_output=True)
    return cert, key


def site_text(port, cert, key, upstream, domain=DOMAIN, ssl=True):
    return """# a production-like site for wactl doctor's test
server {
    listen 127.0.0.1:%d%s;
    server_name %s;
    ssl_certificate %s;
    ssl_certificate_key %s;
    location /api/whatsapp/ { proxy_pass http://127.0.0.1:%d; }
}
""" % (port, " ssl" if ssl else "", domain, cert, key, upstream)


class Front:
    """nginx with TLS on a loopback port, proxying to the stack's nginx:
    what Meta reaches on a VPS."""

    def __init__(self, tmp, upstream):
        self.dir = os.path.join(tmp, "front")
        os.makedirs(self.dir)
        self.port = free_port()
        self.cert, self.key = make_cert(self.dir, "good", 90)
        self.site = os.path.join(self.dir, "wa-gateway.conf")
        with open(self.site, "w") as f:
            f.write(site_text(self.port, self.cert, self.key, upstream))
        conf = os.path.join(self.dir, "nginx.conf")
        d = self.dir
        with open(conf, "w") as f:
            f.write("user %s;\nworker_processes 1;\npid %s/nginx.pid;\ndaemon off;\n"
                    "error_log %s/error.log warn;\nevents { worker_connections 64; }\n"
                    "http {\n access_log off;\n client_body_temp_path %s/b;\n proxy_temp_path %s/p;\n"
                    " fastcgi_temp_path %s/f;\n uwsgi_temp_path %s/u;\n scgi_temp_path %s/s;\n"
                    " include %s;\n}\n" % (pwd.getpwuid(os.getuid()).pw_name, d, d, d, d, d, d, d,
                                          self.site))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-e", os.path.join(d, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return self.proc.poll() is not None
        wait_until(up, timeout=10, what="the TLS front")
        assert self.proc.poll() is None, open(os.path.join(d, "error.log")).read()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Install:
    """The pieces doctor reads, laid out as deploy/install.sh leaves them."""

    def __init__(self, stack, graph, front, tmp):
        self.stack, self.front, self.tmp = stack, front, tmp
        self.env_file = os.path.join(tmp, "wa.env")
        self.settings = {
            "WHATSAPP_APP_SECRET": stack.secret,
            "WHATSAPP_VERIFY_TOKEN": stack.verify_token,
            "WHATSAPP_ACCESS_TOKEN": "test-token",
            "WHATSAPP_PHONE_NUMBER_ID": PNID,
            "WHATSAPP_GRAPH_URL": graph.url,
            "WA_STATE_DIR": stack.state,
            "WA_FLOW_FILE": os.path.join(TOP, "deploy", "flows", "default.json"),
        }
        self.backups = os.path.join(tmp, "backups")
        os.makedirs(self.backups, exist_ok=True)
        self.backup = os.path.join(self.backups, "wa-2026-12-05.db")
        with open(self.backup, "wb") as f:
            f.write(b"SQLite format 3\0")
        os.chmod(self.backup, 0o600)
        self.write()

    def write(self, mode=0o600, **changes):
        s = dict(self.settings, **changes)
        with open(self.env_file, "w") as f:
            f.write("# wa.env for wactl doctor's test\n")
            for k, v in s.items():
                if v is not None:
                    f.write("%s=%s\n" % (k, v))
        os.chmod(self.env_file, mode)

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
        e.update({
            "WA_ENV_FILE": self.env_file,
            "WA_DOCTOR_NGINX_SITE": self.front.site,
            "WA_DOCTOR_RESOLVE": "%s:%d:127.0.0.1" % (DOMAIN, self.front.port),
            "WA_DOCTOR_CAFILE": self.front.cert,
            "WA_DOCTOR_USER": pwd.getpwuid(os.getuid()).pw_name,
            "WA_BACKUP_DIR": self.backups,
        })
        for k, v in extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def doctor(self, **extra):
        """Runs wactl doctor; returns (exit status, {name: (level, detail)},
        stdout).  Asserts the shape: every check once, in order, aligned,
        then the summary that counts them."""
        t0 = time.time()
        r = subprocess.run([os.path.join(BUILD, "wactl"), "doctor"], env=self.env(**extra),
                           capture_output=True, text=True, timeout=60)
        lines = r.stdout.splitlines()
        assert len(lines) == len(CHECKS) + 1, r.stdout + r.stderr
        got = {}
        for want, line in zip(CHECKS, lines):
            # LEVEL (4 wide), two spaces, name (11 wide), two spaces, detail.
            assert line[4:6] == "  " and line[17:19] == "  " and line[19] != " ", line
            level, name = line[:4].strip(), line[6:17].strip()
            assert level in ("OK", "WARN", "FAIL") and name == want, line
            got[want] = (level, line[19:])
        n = {lvl: sum(1 for v in got.values() if v[0] == lvl) for lvl in ("OK", "WARN", "FAIL")}
        assert lines[-1] == "wactl doctor: %d OK, %d WARN, %d FAIL" % (n["OK"], n["WARN"], n["FAIL"])
        assert r.returncode == (2 if n["FAIL"] else 1 if n["WARN"] else 0), r.stdout
        # No secret is ever printed.
        for secret in (self.stack.secret, self.stack.verify_token, "test-token"):
            assert secret not in r.stdout and secret not in r.stderr
        assert time.time() - t0 < 50
        return r.returncode, got, r.stdout


@pytest.fixture(scope="module")
def inst(graph):
    tmp = tempfile.mkdtemp(prefix="wa-doctor-")
    state = os.path.join(tmp, "state")
    mount_tmpfs(state, "2g")
    s = front = None
    try:
        s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off"}, state_dir=state)
        os.chmod(state, 0o750)
        front = Front(tmp, s.port)
        yield Install(s, graph, front, tmp)
    finally:
        if front:
            front.close()
        if s:
            s.close()
        umount(state)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def fresh(inst, graph):
    """Each test starts from the healthy layout."""
    graph.reset()
    graph.set_number(PNID, NUMBER)
    inst.write()
    os.chmod(inst.stack.state, 0o750)
    yield inst
    inst.write()
    os.chmod(inst.stack.state, 0o750)


def test_healthy_install_is_all_ok(fresh):
    rc, got, out = fresh.doctor()
    assert rc == 0, out
    assert all(v[0] == "OK" for v in got.values()), out
    assert "every required setting" in got["config"][1]
    assert re.fullmatch(r"%s valid for %s, (89|90) days left \(until \d{4}-\d\d-\d\d\)"
                        % (re.escape(fresh.front.cert), DOMAIN), got["certificate"][1])
    assert got["token"][1] == ('accepted for number %s: +1 555-010-0600 "Doctor Test Shop", '
                               'quality GREEN' % PNID)
    assert got["webhook"][1] == ("https://%s:%d/api/whatsapp/webhook answers Meta's handshake "
                                 "(challenge echoed)" % (DOMAIN, fresh.front.port))
    assert "wa-2026-12-05.db, is 0 h old" in got["backup"][1]


def test_nothing_configured_still_runs_every_check(fresh, tmp_path):
    rc, got, out = fresh.doctor(WA_ENV_FILE=str(tmp_path / "missing.env"),
                                WA_DOCTOR_NGINX_SITE=str(tmp_path / "none.conf"),
                                WA_BACKUP_DIR=str(tmp_path / "nobackups"))
    assert rc == 2
    assert got["config"] == ("FAIL", "cannot read %s: No such file or directory"
                             % (tmp_path / "missing.env"))
    for name in ("files", "sockets", "nginx_site", "certificate", "token", "webhook", "sqlite",
                 "journal", "sends", "backup"):
        assert got[name][0] == "FAIL", (name, out)


def test_empty_secrets_are_named(fresh):
    fresh.write(WHATSAPP_APP_SECRET="", WHATSAPP_ACCESS_TOKEN="")
    rc, got, out = fresh.doctor()
    assert rc == 2
    assert got["config"] == ("FAIL", "WHATSAPP_APP_SECRET, WHATSAPP_ACCESS_TOKEN are still empty "
                             "in %s, as deploy/wa.env.example leaves them: fill them in (the "
                             "example says where each comes from)" % fresh.env_file)
    assert got["token"][0] == "FAIL" and "cannot check" in got["token"][1]
    # The rest still ran and found the rest healthy.
    assert got["webhook"][0] == got["sqlite"][0] == got["backup"][0] == "OK"


def test_invalid_setting_is_a_config_fail(fresh):
    fresh.write(WA_SYNCHRONOUS="SOMETIMES")
    rc, got, _ = fresh.doctor()
    assert got["config"][0] == "FAIL"
    assert got["config"][1].startswith("WA_SYNCHRONOUS must be FULL or NORMAL: set it to ")


def test_dev_token_is_a_config_warning(fresh, graph):
    graph.set_token("dev-abc123")
    try:
        fresh.write(WHATSAPP_ACCESS_TOKEN="dev-abc123")
        rc, got, _ = fresh.doctor()
        assert got["config"][0] == "WARN" and "sandbox settings" in got["config"][1]
        assert rc == 1
    finally:
        graph.set_token("test-token")


def test_env_file_readable_by_others_fails(fresh):
    fresh.write(mode=0o644)
    rc, got, _ = fresh.doctor()
    assert got["files"] == ("FAIL", "%s is mode 0644: the secrets are readable beyond root "
                            "(chmod 0600 %s)" % (fresh.env_file, fresh.env_file))
    assert rc == 2


def test_state_dir_modes(fresh):
    state = fresh.stack.state
    os.chmod(state, 0o700)
    rc, got, _ = fresh.doctor()
    assert got["files"] == ("WARN", "%s is mode 0700, not 0750" % state) and rc == 1
    os.chmod(state, 0o755)
    rc, got, _ = fresh.doctor()
    assert got["files"][0] == "FAIL" and "%s is mode 0755: others may enter" % state in got["files"][1]


def test_state_dir_of_another_user_fails(fresh):
    rc, got, _ = fresh.doctor(WA_DOCTOR_USER="nobody")
    assert got["files"][0] == "FAIL"
    assert "%s belongs to root, not nobody" % fresh.stack.state in got["files"][1]
    assert "wa.db belongs to root, not nobody: the services cannot write it" in got["files"][1]
    rc, got, _ = fresh.doctor(WA_DOCTOR_USER="no-such-user-here")
    assert "no user no-such-user-here" in got["files"][1]


def test_stale_and_missing_sockets_fail(fresh, tmp_path):
    d = tmp_path / "state"
    d.mkdir()
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(d / "fcgi.sock"))
    s.close()      # left behind, nobody listening: a stale socket
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d))
    assert got["sockets"][0] == "FAIL"
    assert "nothing answers on %s/fcgi.sock (systemctl status wa-fcgi)" % d in got["sockets"][1]
    assert "%s/api.sock: No such file or directory" % d in got["sockets"][1]
    assert "%s/worker.sock: No such file or directory (systemctl status wa-worker)" % d \
        in got["sockets"][1]


def test_site_missing_placeholder_or_plain_http(fresh, tmp_path):
    site = tmp_path / "site.conf"
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["nginx_site"][0] == "FAIL" and "No such file or directory" in got["nginx_site"][1]
    site.write_text(site_text(fresh.front.port, fresh.front.cert, fresh.front.key, 1,
                              domain="wa.example.com"))
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["nginx_site"][1].endswith("server_name is still the placeholder wa.example.com "
                                         "(WA_DOMAIN=your.host sh deploy/install.sh)")
    assert got["webhook"][0] == "FAIL"
    site.write_text(site_text(fresh.front.port, fresh.front.cert, fresh.front.key, 1, ssl=False))
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["nginx_site"] == ("FAIL", "%s has no \"listen ... ssl\": Meta delivers webhooks "
                                 "over https only" % site)


@pytest.mark.parametrize("days,level,words", [
    (10, "WARN", r" expires in (9|10) days \(\d{4}-\d\d-\d\d\): renew it"),
    (-1, "FAIL", r" expired on \d{4}-\d\d-\d\d: Meta cannot deliver"),
])
def test_certificate_expiry(fresh, tmp_path, days, level, words):
    cert, key = make_cert(str(tmp_path), "c", days)
    site = tmp_path / "site.conf"
    site.write_text(site_text(fresh.front.port, cert, key, 1))
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["certificate"][0] == level and re.search(words, got["certificate"][1]), \
        got["certificate"]
    assert got["nginx_site"][0] == "OK"


def test_certificate_for_another_host_or_missing(fresh, tmp_path):
    cert, key = make_cert(str(tmp_path), "other", 90, host="other.test")
    site = tmp_path / "site.conf"
    site.write_text(site_text(fresh.front.port, cert, key, 1))
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["certificate"] == ("FAIL", "%s is not valid for %s" % (cert, DOMAIN))
    site.write_text(site_text(fresh.front.port, str(tmp_path / "gone.pem"), key, 1))
    rc, got, _ = fresh.doctor(WA_DOCTOR_NGINX_SITE=str(site))
    assert got["certificate"][0] == "FAIL"
    assert "cannot read %s: No such file or directory (certbot certonly" % (tmp_path / "gone.pem") \
        in got["certificate"][1]


def test_token_refused_by_meta_is_190(fresh, graph):
    fresh.write(WHATSAPP_ACCESS_TOKEN="expired-token-1")
    rc, got, out = fresh.doctor()
    assert got["token"][0] == "FAIL"
    assert got["token"][1].startswith("token invalid or expired (Meta code 190")
    assert "expired-token-1" not in out
    assert graph.requests("/v23.0/" + PNID)


def test_number_unknown_to_meta(fresh, graph):
    graph.set_number(PNID, None)
    rc, got, _ = fresh.doctor()
    assert got["token"][0] == "FAIL"
    assert got["token"][1].startswith("Meta refused GET /%s (HTTP 400, code 100: " % PNID)


def test_graph_unreachable_or_hanging(fresh, graph):
    fresh.write(WHATSAPP_GRAPH_URL="http://127.0.0.1:9")
    rc, got, _ = fresh.doctor()
    assert got["token"][0] == "FAIL" and "cannot reach the Graph API at http://127.0.0.1:9" \
        in got["token"][1]
    # A Graph API that never answers: the 10 s timeout, then the other checks.
    fresh.write()
    graph.inject(hang_s=20, match={}, times=1)
    rc, got, _ = fresh.doctor()
    assert got["token"][0] == "FAIL" and "cannot reach the Graph API" in got["token"][1]
    assert got["webhook"][0] == "OK"


def test_webhook_wrong_verify_token(fresh):
    rc, got, _ = fresh.doctor(WHATSAPP_VERIFY_TOKEN="not-the-one-nginx-has")
    assert got["webhook"][0] == "FAIL"
    assert "refused the handshake (HTTP 403)" in got["webhook"][1]
    assert "App Dashboard > WhatsApp > Configuration check the Callback URL " \
        "(https://%s:%d/api/whatsapp/webhook)" % (DOMAIN, fresh.front.port) in got["webhook"][1]
    assert "not-the-one-nginx-has" not in got["webhook"][1]


def test_webhook_unreachable_or_untrusted(fresh):
    # Without the test CA the certificate is not trusted: Meta would refuse it too.
    rc, got, _ = fresh.doctor(WA_DOCTOR_CAFILE=None)
    assert got["webhook"][0] == "FAIL" and "certificate" in got["webhook"][1].lower()
    assert got["webhook"][1].endswith("and that the webhook field \"messages\" is subscribed")
    # Nothing listens where the name leads.
    rc, got, _ = fresh.doctor(WA_DOCTOR_RESOLVE="%s:%d:127.0.0.2" % (DOMAIN, fresh.front.port))
    assert got["webhook"][0] == "FAIL" and got["webhook"][1].startswith(
        "GET https://%s:%d/api/whatsapp/webhook failed: " % (DOMAIN, fresh.front.port))


@pytest.mark.parametrize("size,level", [("50m", "FAIL"), ("500m", "WARN")])
def test_disk_low(fresh, tmp_path, size, level):
    mnt = str(tmp_path / "small")
    mount_tmpfs(mnt, size)
    try:
        rc, got, _ = fresh.doctor(WA_STATE_DIR=mnt)
        assert got["disk"][0] == level, got["disk"]
        assert mnt in got["disk"][1]
    finally:
        umount(mnt)


def copy_db(inst, tmp_path):
    """A copy of the stack's database in its own state dir (no worker
    applies anything there)."""
    d = tmp_path / "copy"
    d.mkdir(mode=0o750)
    with inst.stack.db() as src, sqlite3.connect(str(d / "wa.db")) as dst:
        src.backup(dst)
    os.chmod(d / "wa.db", 0o600)
    return d


def test_database_missing_or_behind(fresh, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(empty))
    assert got["sqlite"][0] == "FAIL" and "%s/wa.db: No such file or directory" % empty \
        in got["sqlite"][1]
    assert got["journal"] == ("FAIL", "cannot check: the database is not open")
    assert not (empty / "wa.db").exists()      # doctor creates nothing
    d = copy_db(fresh, tmp_path)
    with sqlite3.connect(str(d / "wa.db")) as c:
        known = c.execute("PRAGMA user_version").fetchone()[0]
        c.execute("PRAGMA user_version = %d" % (known - 1))
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d))
    assert got["sqlite"][0] == "WARN"
    assert "is at schema %d, this build knows %d: run wactl migrate" % (known - 1, known) \
        in got["sqlite"][1]


def test_journal_backlog(fresh, tmp_path):
    d = copy_db(fresh, tmp_path)
    now = int(time.time() * 1000)
    with sqlite3.connect(str(d / "wa.db")) as c:
        c.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256) "
                  "VALUES (?, x'7b7d', 2, 'x')", (now - 2000,))
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d))
    assert got["journal"][0] == "OK" and got["journal"][1].startswith("1 webhook waiting")
    with sqlite3.connect(str(d / "wa.db")) as c:
        c.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256) "
                  "VALUES (?, x'7b7d', 2, 'y')", (now - 11 * 60 * 1000,))
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d))
    assert got["journal"] == ("WARN", "2 webhooks waiting, the oldest for 11 min: is wa-worker "
                              "running? (systemctl status wa-worker)")


def test_failed_sends_of_the_last_day(fresh, tmp_path):
    d = copy_db(fresh, tmp_path)
    now = int(time.time() * 1000)
    with sqlite3.connect(str(d / "wa.db")) as c:
        for code, at in ((131026, now - 1000), (131026, now - 3600 * 1000), (100, now - 60 * 1000),
                         (131049, now - 2 * 86400 * 1000), (131049, now - 2 * 86400 * 1000),
                         (131049, now - 2 * 86400 * 1000)):
            c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, "
                      "source, state, next_attempt_at, error_code, created_at) VALUES "
                      "(?, '15550001111', 'text', '{}', 1, 'api', 'failed', ?, ?, ?)",
                      (PNID, at, code, at))
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d))
    assert got["sends"] == ("WARN", "3 sends failed in the last 24 h, most often Meta code 131026 "
                            "(2 times; GET /outbox?state=failed shows them)")
    assert rc == 2   # the copy has no sockets


def test_backup_age(fresh):
    old = time.time() - 40 * 3600
    os.utime(fresh.backup, (old, old))
    try:
        rc, got, _ = fresh.doctor()
        assert got["backup"] == ("WARN", "the newest, %s/wa-2026-12-05.db, is 40 h old (systemctl "
                                 "list-timers wa-backup.timer; journalctl -u wa-backup)"
                                 % fresh.backups)
        assert rc == 1
        newer = os.path.join(fresh.backups, "wa-2026-12-06.db")
        with open(newer, "wb") as f:
            f.write(b"x")
        try:
            rc, got, _ = fresh.doctor()
            assert got["backup"][0] == "OK" and "wa-2026-12-06.db" in got["backup"][1]
        finally:
            os.unlink(newer)
    finally:
        os.utime(fresh.backup, None)


def test_no_backup(fresh, tmp_path):
    rc, got, _ = fresh.doctor(WA_BACKUP_DIR=str(tmp_path))
    assert got["backup"] == ("FAIL", "no backup (wa-*.db) in %s (systemctl enable --now "
                             "wa-backup.timer)" % tmp_path)


def test_database_opened_as_its_owner(fresh):
    """Run as root on a database of another user, doctor makes no file
    there that the service user could not open (the -shm, -wal)."""
    base = tempfile.mkdtemp(prefix="wa-doctor-owner-")
    os.chmod(base, 0o711)      # nobody must reach the copy
    try:
        owner_check(fresh, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def owner_check(fresh, base):
    import pathlib
    d = copy_db(fresh, pathlib.Path(base))
    nobody = pwd.getpwnam("nobody")
    for p in (d, d / "wa.db"):
        os.chown(p, nobody.pw_uid, nobody.pw_gid)
    assert not (d / "wa.db-shm").exists()
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d), WA_DOCTOR_USER="nobody")
    assert got["sqlite"][0] == "OK" and got["journal"][0] == "OK", got
    made = [p for p in d.iterdir() if p.name.startswith("wa.db-")]
    assert all(p.stat().st_uid == nobody.pw_uid for p in made), \
        [(p.name, p.stat().st_uid) for p in made]
    # The proof that it is opened as nobody: where nobody cannot reach
    # it (root's 0700 dir), neither can doctor, as the services could not.
    os.chown(d, 0, 0)
    os.chmod(d, 0o700)
    rc, got, _ = fresh.doctor(WA_STATE_DIR=str(d), WA_DOCTOR_USER="nobody")
    assert got["sqlite"][0] == "FAIL" and got["sqlite"][1].endswith(
        "%s/wa.db: Permission denied (its owner cannot reach it: check the modes of the "
        "directories above it)" % d)
