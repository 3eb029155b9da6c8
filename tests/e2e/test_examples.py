"""The shell examples of deploy/examples against the real stack: each run
as a program with only PATH, WA_URL and WA_API_KEY, its exact output and
exit status checked."""
import json
import os
import subprocess
import time

import pytest

from stack import BUILD, TOP, Stack, fixture, free_port

EXAMPLES = os.path.join(TOP, "deploy", "examples")
SCRIPTS = {"export-yesterday.sh": [], "send-template.sh": ["order_update", "en_US"],
           "failed-sends.sh": [], "unread.sh": []}
TO_INVALID = ('invalid: to must be a phone number in international format (digits, optional '
              'leading +) or a business-scoped user id such as "US.1349".')
OPTED_OUT = ("opted_out: The customer opted out of business messages (they sent a stop keyword "
             "or turned marketing off); nothing is sent until they opt back in.")
PNID = "200300400500600"


def start(**extra):
    env = {"WA_BOT": "off", "WA_API_RATE": "5000",
           # Nothing listens there: queued rows wait for their retries and
           # never turn failed during a test.
           "WHATSAPP_GRAPH_URL": "http://127.0.0.1:%d" % free_port()}
    env.update(extra)
    s = Stack(extra_env=env)
    try:
        s.start()
        s.key = new_key(s, "examples")
    except Exception:
        s.close()
        raise
    return s


@pytest.fixture
def gw():
    s = start()
    yield s
    s.close()


def new_key(s, name, *flags):
    r = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", name] + list(flags),
                       env=s.env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def run(script, *args, s=None, key=None, url=None, stdin=None, env=None):
    if env is None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "WA_URL": url or "http://127.0.0.1:%d" % s.port, "WA_API_KEY": key or s.key}
    return subprocess.run([os.path.join(EXAMPLES, script)] + list(args), env=env,
                          input=stdin if stdin is not None else "", capture_output=True,
                          encoding="utf-8", timeout=60)


def inbound(s, sender, text, ts, name="Alice Example"):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    if name is None:
        del v["contacts"][0]["profile"]
    else:
        v["contacts"][0]["profile"]["name"] = name
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(ts), "id": "wamid.ex.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    st, _, body = s.post(json.dumps(doc).encode())
    assert st == 200, body
    return m["id"]


def utc_midnight(t):
    return int(t) - int(t) % 86400


def day_of(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_scripts_are_plain_sh():
    for name in SCRIPTS:
        path = os.path.join(EXAMPLES, name)
        assert os.access(path, os.X_OK), name
        with open(path) as f:
            text = f.read()
        assert text.startswith("#!/bin/sh\n") and "\nset -eu\n" in text, name
        r = subprocess.run(["sh", "-n", path], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_missing_settings_stop_with_one_line():
    path = os.environ.get("PATH", "/usr/bin:/bin")
    for name, args in SCRIPTS.items():
        for env, line in [
                ({"PATH": path, "WA_API_KEY": "wa_x"},
                 "WA_URL is not set (the gateway's address, e.g. http://127.0.0.1:8080)"),
                ({"PATH": path, "WA_URL": "", "WA_API_KEY": "wa_x"},
                 "WA_URL is not set (the gateway's address, e.g. http://127.0.0.1:8080)"),
                ({"PATH": path, "WA_URL": "http://127.0.0.1:1"},
                 "WA_API_KEY is not set (make a key with: wactl apikey create NAME)"),
                ({"PATH": path, "WA_URL": "127.0.0.1:8080", "WA_API_KEY": "wa_x"},
                 "WA_URL must start with http:// or https://"),
                ({"PATH": path, "WA_URL": "http://127.0.0.1:1", "WA_API_KEY": "wa_x\r\nX-Evil: 1"},
                 "WA_API_KEY is not an API key (it holds other characters)")]:
            r = run(name, *args, env=env, stdin="15550100001\n")
            assert (r.returncode, r.stdout, r.stderr) == (1, "", "%s: %s\n" % (name, line)), env


def test_api_errors_stop_with_code_and_message(gw):
    for name, args in SCRIPTS.items():
        r = run(name, *args, s=gw, key="wa_" + "0" * 40, stdin="15550100001\n")
        assert (r.returncode, r.stdout, r.stderr) == \
            (1, "", "%s: the API answered 401 unauthorized: The API key is unknown or revoked.\n" % name)
        port = free_port()
        r = run(name, *args, url="http://127.0.0.1:%d" % port, key="wa_x", stdin="15550100001\n")
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.startswith("%s: cannot reach http://127.0.0.1:%d: " % (name, port))
        assert r.stderr.count("\n") == 1 and "onnect" in r.stderr
    r = run("export-yesterday.sh", "2026-02-30", s=gw)
    assert (r.returncode, r.stdout, r.stderr) == \
        (1, "", 'export-yesterday.sh: DAY must be a date as YYYY-MM-DD, not "2026-02-30"\n')
    r = run("failed-sends.sh", "yesterday", s=gw)
    assert (r.returncode, r.stdout, r.stderr) == \
        (1, "", 'failed-sends.sh: SINCE must be unix seconds, YYYY-MM-DD or '
         'YYYY-MM-DDTHH:MM:SSZ, not "yesterday"\n')
    r = run("unread.sh", "extra", s=gw)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "unread.sh: usage: unread.sh\n")


def test_export_day_follows_every_page(gw):
    day0 = utc_midnight(time.time()) - 3 * 86400
    day = day_of(day0)
    a, b = "15550110001", "15550110002"
    inbound(gw, a, "the evening before", day0 - 1)
    want = []           # (wamid, text, timestamp) in the order they were stored
    texts = ["first of the day"] + ["order %03d" % i for i in range(1, 204)] + ["last of the day"]
    stamps = [day0] + [day0 + 60 + i * 400 for i in range(203)] + [day0 + 86399]
    for i, (text, ts) in enumerate(zip(texts, stamps)):
        want.append((inbound(gw, a, text, ts), text, ts))
        if i == 100:    # another customer in between, with text that needs escaping
            odd = 'Grüße, "Zoë"\n\tline two 😀 \\ /'
            want.append((inbound(gw, b, odd, day0 + 43200, name="Jürgen Weiß"), odd, day0 + 43200))
    inbound(gw, a, "the next morning", day0 + 86400)
    gw.wait_applied()
    assert len(want) == 206

    r = run("export-yesterday.sh", day, s=gw)
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    # Exactly jq -c: compact, the API's member order, UTF-8 as it is.
    assert lines == [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in rows]
    assert r.stdout.endswith("\n") and len(lines) == 206
    want.reverse()      # newest first
    assert [(m["wamid"], m["text"], m["timestamp"]) for m in rows] == want
    assert all(m["direction"] == "in" and m["type"] == "text" for m in rows)
    assert [m["phone"] for m in rows].count(b) == 1
    assert [m["id"] for m in rows] == sorted((m["id"] for m in rows), reverse=True)
    ids = [x["id"] for x in gw.q("SELECT id FROM messages WHERE timestamp >= ? AND timestamp < ? "
                                 "ORDER BY id DESC", day0, day0 + 86400)]
    assert [m["id"] for m in rows] == ids
    st, _, raw = gw.request("GET", "/api/whatsapp/messages?limit=1&phone=" + b,
                            headers={"Authorization": "Bearer " + gw.key})
    assert lines[[m["phone"] for m in rows].index(b)] == json.dumps(json.loads(raw)["data"][0],
                                                                    ensure_ascii=False,
                                                                    separators=(",", ":"))

    r = run("export-yesterday.sh", day_of(day0 - 86400), s=gw)    # only the evening before
    assert r.returncode == 0 and [json.loads(x)["text"] for x in r.stdout.splitlines()] == \
        ["the evening before"]
    r = run("export-yesterday.sh", day_of(day0 + 7 * 86400), s=gw)   # nothing that day
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_export_defaults_to_yesterday(gw):
    today = utc_midnight(time.time())
    inbound(gw, "15550120001", "two days ago", today - 86400 - 1)
    inbound(gw, "15550120001", "yesterday noon", today - 43200)
    inbound(gw, "15550120001", "today", today)
    gw.wait_applied()
    for _ in range(2):      # again if the UTC day turned during the run
        before = utc_midnight(time.time())
        r = run("export-yesterday.sh", s=gw)
        if utc_midnight(time.time()) == before:
            break
    assert r.returncode == 0 and r.stderr == ""
    got = [json.loads(x)["text"] for x in r.stdout.splitlines()]
    assert got == (["yesterday noon"] if before == today else ["today"])


def test_send_template_once_a_day(gw):
    inbound(gw, "15550130004", "STOP", int(time.time()))     # opts out
    gw.wait_applied()
    numbers = ("# the customers who asked for the catalogue\n"
               "15550130001\n"
               "  +1 555 013 0002   # Bob\n"
               "\n"
               "12ab\n"
               "15550130004\n"
               "15550130003")                                # no newline at the end
    def templates():
        return gw.q("SELECT count(*) n FROM outbox WHERE kind = 'template'")[0]["n"]
    for _ in range(2):      # again if the UTC day turned between the runs
        today = day_of(time.time())
        first = run("send-template.sh", "order_update", "en_US", s=gw, stdin=numbers)
        second = run("send-template.sh", "order_update", "en_US", s=gw, stdin=numbers)
        if day_of(time.time()) == today:
            break
    rows = gw.q("SELECT id, recipient, kind, body, source, idempotency_key FROM outbox "
                "WHERE idempotency_key LIKE 'send-template:%:' || ? ORDER BY id", today)
    assert [(r["recipient"], r["idempotency_key"]) for r in rows] == [
        (n, "send-template:order_update:en_US:%s:%s" % (n, today))
        for n in ("15550130001", "15550130002", "15550130003")]
    for r in rows:
        assert r["kind"] == "template" and r["source"] == "api"
        assert json.loads(r["body"])["template"] == {"name": "order_update", "language": {"code": "en_US"}}
    ids = [r["id"] for r in rows]
    n = templates()
    expected = ("15550130001 queued %d\n"
                "+15550130002 queued %d\n"
                "12ab refused %s\n"
                "15550130004 refused %s\n"
                "15550130003 queued %d\n") % (ids[0], ids[1], TO_INVALID, OPTED_OUT, ids[2])
    assert (first.returncode, first.stdout, first.stderr) == (1, expected, "")
    assert (second.returncode, second.stdout, second.stderr) == (1, expected, "")   # same ids
    # Only good numbers: exit 0; a different template is another key.
    r = run("send-template.sh", "order_update", "en_US", s=gw, stdin="15550130003\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, "15550130003 queued %d\n" % ids[2], "")
    r = run("send-template.sh", "delivery_notice", "en", s=gw, stdin="15550130003\n")
    assert r.returncode == 0 and r.stdout != "15550130003 queued %d\n" % ids[2]
    assert templates() == n + 1

    # Errors that are not about one number stop at once, nothing queued.
    r = run("send-template.sh", "order_update", "english", s=gw, stdin="15550130005\n15550130006\n")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", (
        'send-template.sh: the API answered 422 invalid: template.language.code is "english"; '
        'Meta takes a code such as "en", "en_US" or "pt_BR".\n'))
    r = run("send-template.sh", "Order Update", "en_US", s=gw, stdin="15550130005\n")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", (
        "send-template.sh: TEMPLATE must be a template name: lowercase letters, digits and "
        "underscores\n"))
    r = run("send-template.sh", "order_update", s=gw, stdin="15550130005\n")
    assert (r.returncode, r.stdout, r.stderr) == \
        (1, "", "send-template.sh: usage: send-template.sh TEMPLATE LANG < numbers.txt\n")
    r = run("send-template.sh", "order_update", "en_US", s=gw, key=new_key(gw, "reader", "--read-only"),
            stdin="15550130005\n")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", (
        "send-template.sh: the API answered 403 read_only_key: This API key may only read; "
        "create one without --read-only to write.\n"))
    assert templates() == n + 1
    # A key that would be over the API's 128 characters is shortened.
    long_name = "catalogue_" + "x" * 110
    a = run("send-template.sh", long_name, "en", s=gw, stdin="15550130001\n")
    b = run("send-template.sh", long_name, "en", s=gw, stdin="15550130001\n")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout.startswith("15550130001 queued ")
    row = gw.q("SELECT idempotency_key k FROM outbox WHERE id = ?", int(a.stdout.split()[-1]))[0]
    assert row["k"].startswith("send-template:cksum:") and len(row["k"]) <= 128
    assert templates() == n + 2


def test_failed_sends_report(gw):
    base = utc_midnight(time.time()) - 10 * 86400
    failures = [(131026, "Message undeliverable"), (131047, "Re-engagement message"),
                (131049, "Meta chose not to deliver"), (None, None), (131026, "Message\tundeliverable")]
    made = []       # (id, recipient, code, title, created_s), in insertion order
    with gw.db() as c:
        for i in range(230):
            code, title = failures[i % 5] if i % 7 else (131026, "Message undeliverable")
            recipient = None if i == 17 else "1555014%04d" % i      # 17: a failed read receipt
            created = base + i * 600
            cur = c.execute(
                "INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, "
                "state, attempts, error_code, error_title, next_attempt_at, created_at) VALUES "
                "(?, ?, ?, '{}', 1, 'api', 'failed', 8, ?, ?, 0, ?)",
                (PNID, recipient, "read" if recipient is None else "text", code, title,
                 created * 1000 + 123))
            made.append((cur.lastrowid, recipient, code, title, created))
            if i % 50 == 0:     # rows in other states in between
                for state in ("accepted", "cancelled", "queued"):
                    c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, "
                              "source, state, error_code, next_attempt_at, created_at) VALUES "
                              "(?, '15550149999', 'text', '{}', 1, 'api', ?, 131026, 9999999999999, ?)",
                              (PNID, state, created * 1000))

    def report(rows):
        lines = ["%d\t%s\t%s\t%s\t%s" % (i, r or "-", "-" if code is None else code,
                                         (t or "-").replace("\t", " "), iso(ts))
                 for i, r, code, t, ts in reversed(rows)]
        counts = {}
        for _, _, code, _, _ in rows:
            counts[code] = counts.get(code, 0) + 1
        order = sorted(counts, key=lambda k: (-counts[k], k is None, k or 0))
        tail = "%d failed" % len(rows)
        if rows:
            tail += " by error code: " + " ".join("%s=%d" % ("none" if k is None else k, counts[k])
                                                   for k in order)
        return "\n".join(lines + [tail]) + "\n"

    r = run("failed-sends.sh", s=gw)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == report(made)
    lines = r.stdout.splitlines()
    assert lines[-1] == "230 failed by error code: 131026=111 131047=40 none=40 131049=39"
    assert lines[229 - 17] == "%d\t-\t131049\tMeta chose not to deliver\t%s" % (
        made[17][0], iso(made[17][4]))
    assert lines[229 - 4] == "%d\t15550140004\t131026\tMessage undeliverable\t%s" % (
        made[4][0], iso(made[4][4]))
    # SINCE as a day, a time and unix seconds: rows queued at or after it.
    cut = base + 86400          # row 144 on
    for since in (day_of(cut), iso(cut), str(cut)):
        r = run("failed-sends.sh", since, s=gw)
        assert (r.returncode, r.stdout, r.stderr) == (0, report(made[144:]), ""), since
    r = run("failed-sends.sh", str(cut + 1), s=gw)
    assert r.stdout == report(made[145:])
    r = run("failed-sends.sh", day_of(time.time() + 86400), s=gw)
    assert (r.returncode, r.stdout, r.stderr) == (0, "0 failed\n", "")


def test_unread_table(gw):
    now = int(time.time())
    inbound(gw, "15550150001", "hi", now - 300)
    inbound(gw, "15550150001", "are you there?", now - 200)
    inbound(gw, "15550150001", "hello??", now - 100)
    inbound(gw, "15550150002", "Guten Tag", now - 50, name="Jürgen Weiß")
    inbound(gw, "15550150003", "no name", now - 1000, name=None)
    inbound(gw, "15550150003", "still no name", now - 2000, name=None)    # older: last stays
    inbound(gw, "15550150004", "read already", now - 10)
    for i in range(200):        # enough for a second page
        inbound(gw, "1555016%04d" % i, "filler", now - 5000 - i, name="Filler %d" % i)
    gw.wait_applied()
    st, _, b = gw.request("POST", "/api/whatsapp/mark-read", b'{"phone": "15550150004"}',
                          {"Authorization": "Bearer " + gw.key, "Content-Type": "application/json"})
    assert st == 200, b
    r = run("unread.sh", s=gw)
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[:4] == [
        "PHONE        NAME           UNREAD  LAST MESSAGE (UTC)",
        "15550150002  Jürgen Weiß         1  " + iso(now - 50),
        "15550150001  Alice Example       3  " + iso(now - 100),
        "15550150003  -                   2  " + iso(now - 1000),
    ]
    assert lines[4:] == ["1555016%04d  %-13s       1  %s" % (i, "Filler %d" % i, iso(now - 5000 - i))
                         for i in range(200)]
    assert r.stdout.endswith("\n") and len(lines) == 204


def test_no_unread_prints_the_header_only(gw):
    r = run("unread.sh", s=gw)
    assert (r.returncode, r.stdout, r.stderr) == (0, "PHONE  NAME  UNREAD  LAST MESSAGE (UTC)\n", "")


def test_rate_limited_calls_are_tried_again():
    s = start(WA_API_RATE="1")      # nginx: 1 a second, bursts of 100
    try:
        inbound(s, "15550170001", "hello", int(time.time()) - 60)
        s.wait_applied()
        h = {"Authorization": "Bearer " + s.key}
        log = os.path.join(s.state, "nginx", "access.log")
        for _ in range(3):      # should the script's first call still find room
            codes = [s.request("GET", "/api/whatsapp/status", headers=h)[0] for _ in range(120)]
            assert 429 in codes
            skip = os.path.getsize(log)
            t = time.time()
            r = run("unread.sh", s=s)
            took = time.time() - t
            with open(log) as f:
                f.seek(skip)
                mine = [l.split('" ')[1].split()[0] for l in f if "/conversations " in l]
            if mine[0] == "429":
                break
        assert mine[0] == "429" and mine[-1] == "200", mine
        assert (r.returncode, r.stderr) == (0, "")
        assert r.stdout.splitlines()[1].startswith("15550170001  Alice Example       1  ")
        assert took >= 1        # waited before trying again
    finally:
        s.close()
