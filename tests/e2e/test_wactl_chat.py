"""`wactl chat`, the terminal customer (issue 15), against the real stack
in sandbox mode: nginx, responders, worker, the SQLite file and wa-sandbox
as the Graph API, all on loopback.  wactl chat is driven through pipes,
as a script would drive it, and what it prints and what the gateway
stored are checked."""
import json
import os
import queue
import re
import subprocess
import threading
import time

import pytest

from stack import BUILD, Stack, free_port, loopback_http

WACTL = os.path.join(BUILD, "wactl")
PNID = "200300400500600"

# A 1x1 PNG: a file WhatsApp takes as an image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f1b4e7"
    "0000000049454e44ae426082")


@pytest.fixture(scope="module")
def sandbox():
    """The stack as make run starts it with the generated dev.env: in
    sandbox mode, the bot on with the default flow, the worker sending
    to wa-sandbox behind the same nginx."""
    s = Stack(extra_env={"WA_SANDBOX": "1"})
    s.env["WHATSAPP_GRAPH_URL"] = "http://127.0.0.1:%d/sandbox/graph" % s.port
    try:
        s.start()
    except Exception:
        s.close()
        raise
    yield s
    s.close()


class Chat:
    """One `wactl chat` process on pipes; lines it prints are collected
    by a thread so that a test can wait for one."""

    def __init__(self, stack, number, name="Terminal Tester", env=None, args=()):
        e = dict(stack.env)
        e.update(env or {})
        argv = [WACTL, "chat", "--from", number]
        if name:
            argv += ["--name", name]
        self.p = subprocess.Popen(argv + list(args), env=e, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.out = []           # every stdout line so far
        self.err = []
        threading.Thread(target=self._read, args=(self.p.stdout, self.lines),
                         daemon=True).start()
        self.errq = queue.Queue()
        threading.Thread(target=self._read, args=(self.p.stderr, self.errq),
                         daemon=True).start()

    @staticmethod
    def _read(f, q):
        for raw in iter(f.readline, b""):
            q.put(raw.decode("utf-8", "replace"))
        q.put(None)

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    @staticmethod
    def _wait(q, seen, pattern, timeout):
        """The match of the first line from q (kept in seen, as are the
        lines before it) matching pattern within timeout, or None."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return None
            if line is None:
                return None
            seen.append(line)
            m = rx.search(line)
            if m:
                return m
        return None

    def expect(self, pattern, timeout=15):
        """Waits for a stdout line matching pattern (a regex); returns the
        match.  Fails with everything printed when none comes."""
        m = self._wait(self.lines, self.out, pattern, timeout)
        if m:
            return m
        self.drain_err()
        raise AssertionError("no line matching %r; stdout:\n%s\nstderr:\n%s"
                             % (pattern, "".join(self.out), "".join(self.err)))

    def expect_err(self, pattern, timeout=15):
        """The same for a stderr line; returns the line."""
        m = self._wait(self.errq, self.err, pattern, timeout)
        if m:
            return m.string
        raise AssertionError("no stderr line matching %r; stderr:\n%s"
                             % (pattern, "".join(self.err)))

    def drain_err(self):
        while True:
            try:
                line = self.errq.get_nowait()
            except queue.Empty:
                return
            if line is None:
                return
            self.err.append(line)

    def quit(self):
        self.send("/quit")
        rc = self.p.wait(15)
        self.p.stdin.close()
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def info(stack):
    st, _, body = stack.request("GET", "/sandbox/info")
    assert st == 200
    return json.loads(body)


def journal_from(stack, number):
    """Webhooks in the journal with a message from number (the sandbox's
    status webhooks for other tests arrive at any time: count only these)."""
    return stack.q("SELECT count(*) n FROM webhook_events WHERE CAST(body AS TEXT) "
                   "LIKE ?", '%%"from":"%s"%%' % number)[0]["n"]


def wait_row(stack, sql, *args, timeout=15):
    """The first row of sql once there is one (the worker applies the
    journal after the 200)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = stack.q(sql, *args)
        if rows:
            return rows[0]
        time.sleep(0.05)
    raise AssertionError("no row for %s %r" % (sql, args))


def test_hi_shows_the_menu_and_a_number_answers_it(sandbox):
    c = Chat(sandbox, "15550004001")
    try:
        c.expect(r"^Sandbox chat: you are \+15550004001 \(Terminal Tester\)")
        c.send("hi")
        # The default flow's main menu, a list, as numbered choices.
        c.expect(r"^< Customer service")
        c.expect(r"^  1\) Order status: Look up an order")
        c.expect(r"^  4\) Help and support")
        hi = wait_row(sandbox, "SELECT * FROM messages WHERE sender=? AND "
                      "direction='in' AND type='text'", "15550004001")
        assert hi["text"] == "hi"
        assert journal_from(sandbox, "15550004001") == 1
        assert hi["phone_number_id"] == PNID
        menu = wait_row(sandbox, "SELECT wamid, raw FROM messages WHERE recipient=? AND "
                        "direction='out' AND type='interactive'", "15550004001")
        row1 = json.loads(menu["raw"])["interactive"]["action"]["sections"][0]["rows"][0]
        c.send("1")
        c.expect(r"^> Order status$")
        # The bot's next answer: the orders list.
        c.expect(r"^< Order status\. What would you like to know\?")
        c.expect(r"^  1\) Look up an order")
        r = wait_row(sandbox, "SELECT * FROM messages WHERE sender=? AND "
                     "direction='in' AND type='interactive'", "15550004001")
        assert r["interactive_type"] == "list_reply"
        # Meta's list_reply: the row's id and title, in the context of
        # the list message that offered it, from the business's number.
        assert row1["title"] == "Order status"
        assert r["reply_id"] == row1["id"]
        assert r["reply_title"] == "Order status"
        assert r["context_wamid"] == menu["wamid"]
        assert r["context_from"] == info(sandbox)["display_phone_number"]
        assert c.quit() == 0
    finally:
        c.kill()
    # A new session starts after what was said before: the menu is not
    # printed again ahead of the answer to its first line.
    c = Chat(sandbox, "15550004001")
    try:
        c.expect(r"^Sandbox chat")
        c.send("thanks")
        c.expect(r"^< You are welcome")
        assert not [l for l in c.out if "Customer service" in l or "1)" in l], c.out
        assert c.quit() == 0
    finally:
        c.kill()


def test_image_reaches_the_gateway_and_the_worker_downloads_it(sandbox, tmp_path):
    f = tmp_path / "part.png"
    f.write_bytes(PNG)
    c = Chat(sandbox, "15550004002")
    try:
        c.expect(r"^Sandbox chat")
        c.send("/image %s the broken part" % f)
        m = wait_row(sandbox, "SELECT * FROM messages WHERE sender=? AND type='image'",
                     "15550004002")
        assert m["text"] == "the broken part"
        assert m["mime_type"] == "image/png"
        media = wait_row(sandbox, "SELECT * FROM media WHERE message_id=? AND "
                         "state='stored'", m["id"], timeout=20)
        assert media["media_id"] == m["media_id"]
        with open(os.path.join(sandbox.state, "media", media["path"]), "rb") as got:
            assert got.read() == PNG
        assert c.quit() == 0
    finally:
        c.kill()


def test_image_that_is_not_an_image_is_refused(sandbox, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_bytes(b"plain text")
    c = Chat(sandbox, "15550004003")
    try:
        c.expect(r"^Sandbox chat")
        c.send("/image %s" % f)
        c.expect_err(r"notes\.txt is neither a JPEG nor a PNG")
        assert c.quit() == 0
    finally:
        c.kill()
    assert journal_from(sandbox, "15550004003") == 0


def test_location_and_reaction_are_stored(sandbox):
    c = Chat(sandbox, "15550004004")
    try:
        c.expect(r"^Sandbox chat")
        c.send("/location 52.520008 13.404954 Berlin office")
        m = wait_row(sandbox, "SELECT * FROM messages WHERE sender=? AND "
                     "type='location'", "15550004004")
        assert abs(m["latitude"] - 52.520008) < 1e-6
        assert abs(m["longitude"] - 13.404954) < 1e-6
        assert m["location_name"] == "Berlin office"
        # The bot answers; react to what it sent (the last message shown).
        c.expect(r"^< ")
        c.send("/react \U0001f44d")
        r = wait_row(sandbox, "SELECT * FROM messages WHERE sender=? AND "
                     "type='reaction'", "15550004004")
        assert r["reaction_emoji"] == "\U0001f44d"
        sent = {m["wamid"] for m in sandbox.q(
            "SELECT wamid FROM messages WHERE recipient=? AND direction='out'",
            "15550004004")}
        assert r["reaction_to"] in sent
        assert c.quit() == 0
    finally:
        c.kill()


def test_end_of_input_ends_after_the_answer(sandbox):
    """`echo hi | wactl chat ...`: the answer is printed, then it ends."""
    e = dict(sandbox.env)
    p = subprocess.run([WACTL, "chat", "--from", "15550004005"], input=b"hi\n",
                       env=e, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"1) Order status" in p.stdout, p.stdout


def test_bad_signature_is_reported_and_nothing_stored(sandbox):
    c = Chat(sandbox, "15550004006", env={"WHATSAPP_APP_SECRET": "not-the-secret"})
    try:
        c.expect(r"^Sandbox chat")
        c.send("hello")
        c.expect_err(r"not sent: the gateway answered the webhook with HTTP 403")
        assert c.quit() == 0
    finally:
        c.kill()
    assert journal_from(sandbox, "15550004006") == 0


@pytest.mark.parametrize("number", ["12ab", "0155500", "1234", "1555000111122223"])
def test_bad_from_is_refused(sandbox, number):
    p = subprocess.run([WACTL, "chat", "--from", number], input=b"hi\n",
                       env=sandbox.env, capture_output=True, timeout=15)
    assert p.returncode == 2
    err = p.stderr.decode()
    assert "--from %s is not a WhatsApp number" % number in err
    assert err.count("\n") == 1
    assert p.stdout == b""
    assert journal_from(sandbox, number) == 0


def test_nothing_running_is_a_clear_error(sandbox):
    e = dict(sandbox.env)
    e["WA_LISTEN"] = "127.0.0.1:%d" % free_port()
    p = subprocess.run([WACTL, "chat", "--from", "15550004007"], input=b"hi\n",
                       env=e, capture_output=True, timeout=15)
    assert p.returncode == 1
    err = p.stderr.decode()
    assert "nothing answers at http://%s (WA_LISTEN): start the local stack with " \
        "`make run` first" % e["WA_LISTEN"] in err
    assert p.stdout == b""


def test_a_stack_without_the_sandbox_is_refused(stack):
    """The conftest stack is not in sandbox mode: its replies would go to
    a Graph API, not to this terminal."""
    p = subprocess.run([WACTL, "chat", "--from", "15550004008"], input=b"hi\n",
                       env=stack.env, capture_output=True, timeout=15)
    assert p.returncode == 1
    assert "is not in sandbox mode" in p.stderr.decode()
    assert stack.q("SELECT count(*) n FROM messages WHERE sender='15550004008'")[0]["n"] == 0


def dev_env(stack, path):
    """A dev.env as make run writes it, for stack (which was started from
    its environment instead)."""
    path.write_text("WHATSAPP_APP_SECRET=%s\nWHATSAPP_VERIFY_TOKEN=%s\n"
                    "WHATSAPP_ACCESS_TOKEN=dev-0000\nWHATSAPP_PHONE_NUMBER_ID=%s\n"
                    "WA_SANDBOX=1\nWA_LISTEN=127.0.0.1:%d\n"
                    % (stack.secret, stack.verify_token, PNID, stack.port))


def bare_env(**kw):
    """Only PATH: a second terminal where nothing was exported."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(kw)
    return e


def test_reads_the_dev_env_of_wa_state_dir(sandbox, tmp_path):
    dev_env(sandbox, tmp_path / "dev.env")
    p = subprocess.run([WACTL, "chat", "--from", "15550004009"], input=b"hi\n",
                       env=bare_env(WA_STATE_DIR=str(tmp_path)),
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"1) Order status" in p.stdout, p.stdout


def test_reads_the_dev_env_of_its_checkout_from_anywhere(sandbox, tmp_path):
    """make run prints $top/build/wactl; run from another directory it
    finds $top/var/dev.env, make run's default state dir."""
    top = tmp_path / "checkout"
    (top / "build").mkdir(parents=True)
    (top / "var").mkdir()
    (top / "elsewhere").mkdir()
    exe = top / "build" / "wactl"
    exe.write_bytes(open(WACTL, "rb").read())
    exe.chmod(0o755)
    dev_env(sandbox, top / "var" / "dev.env")
    p = subprocess.run([str(exe), "chat", "--from", "15550004010"], input=b"hi\n",
                       env=bare_env(), cwd=str(top / "elsewhere"),
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"1) Order status" in p.stdout, p.stdout


def test_help_says_how_and_exits_0():
    p = subprocess.run([WACTL, "chat", "--help"], capture_output=True, timeout=15)
    assert p.returncode == 0
    out = p.stdout.decode()
    assert out.startswith("usage: wactl chat --from NUMBER [--name NAME] [--to PNID]\n")
    for cmd in ("/image FILE", "/location LAT LON", "/react EMOJI", "/quit"):
        assert cmd in out
    p = subprocess.run([WACTL, "chat", "--frm", "15550001111"], capture_output=True,
                       timeout=15)
    assert p.returncode == 2
    assert b"usage: wactl chat --from NUMBER" in p.stderr


def test_too_long_lines_are_refused_and_the_chat_goes_on(sandbox):
    c = Chat(sandbox, "15550004011")
    try:
        c.expect(r"^Sandbox chat")
        c.send("x" * 5000)
        c.expect_err(r"not sent: the text is longer than WhatsApp's 4096 characters")
        # Longer than wactl reads as one line: its rest is dropped too.
        c.send("y" * 66000)
        c.expect_err(r"not sent: a line of more than 65536 bytes")
        c.send("hi")
        c.expect(r"^  1\) Order status")
        assert c.quit() == 0
    finally:
        c.kill()
    rows = sandbox.q("SELECT text FROM messages WHERE sender=?", "15550004011")
    assert [r["text"] for r in rows] == ["hi"]


def test_nginx_without_the_sandbox_behind_it_is_said(tmp_path):
    """nginx answers 502 for /sandbox/ when wa-sandbox is gone, and also
    when the stack is not in sandbox mode: /health tells them apart.  A
    stand-in for nginx on loopback answers so."""
    def answer(path):
        if path == "/api/whatsapp/health":
            return 200, {}, json.dumps({"status": "ok", "sandbox": True}).encode()
        return 502, {}, b""

    with loopback_http(answer) as port:
        p = subprocess.run([WACTL, "chat", "--from", "15550004012"], input=b"hi\n",
                           env=bare_env(WA_ENV_FILE="", WHATSAPP_APP_SECRET="s",
                                        WA_LISTEN="127.0.0.1:%d" % port),
                           capture_output=True, timeout=15)
    assert p.returncode == 1
    assert "answered HTTP 502: the stack is in sandbox mode but wa-sandbox does " \
        "not answer" in p.stderr.decode()
    assert p.stdout == b""
