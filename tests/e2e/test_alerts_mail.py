"""Email alerts (issue 16): the worker raises alert rows once per episode
and mails them through SMTP (tests/e2e/smtp_server.py, loopback only):
the exact mail, STARTTLS when offered, batching per person, a retry after
the server refused, no mail without WA_SMTP_URL, /alerts and resolving."""
import email
import email.policy
import json
import os
import re
import time

import pytest

from fake_graph import FakeGraph
from people import API, add_user, new_key, session
from smtp_server import SmtpServer, make_cert
from stack import started, wait_until
from inbox_fixtures import conversation_id, inbound_text, post_message

FROM = "alerts@example.test"


@pytest.fixture
def smtp(tmp_path):
    cert, key = make_cert(str(tmp_path))
    srv = SmtpServer(tls=(cert, key))
    srv.cert = cert
    yield srv
    srv.close()


def stack_for(srv, tmp_path, **more):
    env = {"WA_BOT": "off", "WA_ALERT_WAIT_MIN": "1", "WA_MAIL_FROM": FROM,
           # No backup directory: no backup alert in these tests.
           "WA_BACKUP_DIR": str(tmp_path / "no-backups")}
    if srv is not None:
        env.update({"WA_SMTP_URL": srv.url, "WA_SMTP_CA_FILE": srv.cert})
    env.update(more)
    return started(extra_env=env)


def waiting(s, wa_ids, who, age=120):
    """Customer messages age seconds old in chats handed to who, all at
    once (one write); their conversation ids."""
    if isinstance(wa_ids, str):
        return waiting(s, [wa_ids], who, age)[0]
    for w in wa_ids:
        post_message(s, {"type": "text", "text": {"body": "hello?"}}, wa_id=w,
                     ts=int(time.time()) - age)
    cids = [conversation_id(s, w) for w in wa_ids]
    with s.db() as c:
        c.executemany("UPDATE conversations SET assignee = ? WHERE id = ?",
                      [(who, i) for i in cids])
    return cids


def mails_to(srv, addr):
    with srv.lock:
        return [m for m in srv.messages if m["rcpt"] == ["<%s>" % addr]]


def parse(m):
    return email.message_from_bytes(m["data"], policy=email.policy.default)


def get(s, path, cookie):
    st, _, b = s.request("GET", API + path, headers={"Cookie": cookie})
    return st, json.loads(b)


def test_waiting_customer_gets_one_exact_mail_over_starttls(smtp, tmp_path):
    s = stack_for(smtp, tmp_path)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        add_user(s, "bob", "agent", "--email", "bob@example.test")
        cid = waiting(s, "15550002222", "person:ann")
        m = wait_until(lambda: mails_to(smtp, "ann@example.test"), 60, "ann's mail")[0]
        assert m["from"] == "<%s>" % FROM and m["tls"] is True
        raw = m["data"]
        # CRLF lines only, nothing after the body's last line.
        assert b"\n" not in raw.replace(b"\r\n", b"")
        head, body = raw.split(b"\r\n\r\n", 1)
        names = [l.split(b":", 1)[0] for l in head.split(b"\r\n")]
        assert names == [b"Date", b"Message-ID", b"From", b"To", b"Subject", b"MIME-Version",
                         b"Content-Type", b"Content-Transfer-Encoding"]
        h = dict(l.split(": ", 1) for l in head.decode().split("\r\n"))
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", h["Date"])
        assert re.fullmatch(r"<alert-mail-\d+\.\d+@example\.test>", h["Message-ID"])
        assert h["From"] == FROM and h["To"] == "ann@example.test"
        assert h["MIME-Version"] == "1.0"
        assert h["Content-Type"] == "text/plain; charset=UTF-8"
        assert h["Content-Transfer-Encoding"] == "8bit"
        row = s.q("SELECT id, summary, created_at FROM alerts")[0]
        summary = row["summary"]
        assert re.fullmatch(r"A customer \(\+15550002222\) has waited for an answer since "
                            r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(conversation %d\)" % cid, summary)
        assert h["Subject"] == "[WhatsApp gateway] " + summary
        raised = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(row["created_at"]))
        assert body.decode() == (
            "Hello ann,\r\n\r\n1 new alert from the WhatsApp gateway:\r\n\r\n"
            "- %s\r\n  (raised %s)\r\n\r\nOpen the inbox to see and resolve them.\r\n"
            % (summary, raised))
        # Another person's alert later: by then ann's was looked at again,
        # and neither a second row nor a second mail came of it.
        waiting(s, "15550003333", "person:bob")
        wait_until(lambda: mails_to(smtp, "bob@example.test"), 60, "bob's mail")
        assert len(mails_to(smtp, "ann@example.test")) == 1
        assert s.q("SELECT count(*) n FROM alerts WHERE conversation_id = ?", cid)[0]["n"] == 1
        assert s.q("SELECT state, attempts FROM alert_mails WHERE recipient = "
                   "'ann@example.test'") == [{"state": "sent", "attempts": 1}]
    finally:
        s.close()


def test_alerts_are_batched_per_person(smtp, tmp_path):
    s = stack_for(smtp, tmp_path)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        add_user(s, "bob", "agent", "--email", "bob@example.test")
        # Two at once: one mail carrying both.
        waiting(s, ["15550002222", "15550003333"], "person:ann")
        m = wait_until(lambda: mails_to(smtp, "ann@example.test"), 60, "ann's mail")[0]
        p = parse(m)
        first = s.q("SELECT id, summary FROM alerts ORDER BY id")
        assert len(first) == 2
        assert p["Subject"] == "[WhatsApp gateway] 2 alerts: " + first[0]["summary"]
        text = p.get_content()
        assert "2 new alerts from the WhatsApp gateway:" in text
        assert first[0]["summary"] in text and first[1]["summary"] in text
        # A third within 10 minutes waits for the batch...
        cid3 = waiting(s, "15550004444", "person:ann")
        wait_until(lambda: s.q("SELECT count(*) n FROM alerts WHERE conversation_id = ?",
                               cid3)[0]["n"] == 1, 60, "the third alert")
        waiting(s, "15550005555", "person:bob")
        wait_until(lambda: mails_to(smtp, "bob@example.test"), 60, "bob's mail (a later pass)")
        n_ann = len(mails_to(smtp, "ann@example.test"))
        assert n_ann == 1
        # ...and goes once the last mail is 10 minutes old, alone.
        with s.db() as c:
            c.execute("UPDATE alert_mails SET created_at = created_at - 600000")
        ms = wait_until(lambda: len(mails_to(smtp, "ann@example.test")) > n_ann and
                        mails_to(smtp, "ann@example.test"), 60, "ann's second mail")
        carried = [json.loads(r["alert_ids"]) for r in
                   s.q("SELECT alert_ids FROM alert_mails WHERE recipient = "
                       "'ann@example.test' ORDER BY id")]
        ids = [i for c in carried for i in c]
        assert len(ids) == len(set(ids)) == 3    # never two mails for one alert
        third = s.q("SELECT id, summary FROM alerts WHERE conversation_id = ?", cid3)[0]
        assert carried[-1] == [third["id"]]
        assert parse(ms[-1])["Subject"] == "[WhatsApp gateway] " + third["summary"]
    finally:
        s.close()


def test_a_refused_mail_is_retried_once_accepted(smtp, tmp_path):
    smtp.fail_data = ["451 4.3.0 try again later"]
    s = stack_for(smtp, tmp_path)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        waiting(s, "15550002222", "person:ann")
        wait_until(lambda: s.q("SELECT attempts FROM alert_mails WHERE attempts = 1 AND "
                               "state = 'queued' AND last_error LIKE '%451%'"),
                   60, "the refused first attempt")
        wait_until(lambda: mails_to(smtp, "ann@example.test"), 60, "the retried mail")
        assert s.q("SELECT state, attempts FROM alert_mails") == [{"state": "sent", "attempts": 2}]
        assert len(mails_to(smtp, "ann@example.test")) == 1
    finally:
        s.close()


def test_without_smtp_url_no_mail_but_the_alert_is_shown_and_resolved(tmp_path):
    s = stack_for(None, tmp_path)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        add_user(s, "bob", "agent", "--email", "bob@example.test")
        add_user(s, "root", "admin")
        cid = waiting(s, "15550002222", "person:ann")
        wait_until(lambda: s.q("SELECT id FROM alerts"), 60, "the alert row")
        aid = s.q("SELECT id FROM alerts")[0]["id"]
        ann, _ = session(s, "ann")
        st, body = get(s, "/alerts?state=open", ann)
        assert st == 200 and [a["id"] for a in body["data"]] == [aid]
        a = body["data"][0]
        assert a["kind"] == "customer_waiting" and a["conversation_id"] == cid
        assert a["state"] == "open" and a["detail"]["assignee"] == "person:ann"
        bob, bcsrf = session(s, "bob")
        assert get(s, "/alerts", bob)[1]["data"] == []
        assert s.q("SELECT count(*) n FROM alert_mails")[0]["n"] == 0
        # Bob may not resolve ann's; ann may.
        st, _, b = s.request("POST", API + "/alerts/%d/resolve" % aid,
                             headers={"Cookie": bob, "X-CSRF-Token": bcsrf})
        assert st == 404 and json.loads(b)["error"]["code"] == "not_found"
        ann, acsrf = session(s, "ann")
        st, _, b = s.request("POST", API + "/alerts/%d/resolve" % aid,
                             headers={"Cookie": ann, "X-CSRF-Token": acsrf})
        assert st == 200 and json.loads(b)["state"] == "resolved"
        assert get(s, "/alerts?state=open", ann)[1]["data"] == []
        assert get(s, "/alerts?state=bogus", ann)[0] == 400
    finally:
        s.close()


def test_an_answered_or_taken_back_chat_resolves_its_alert(tmp_path):
    s = stack_for(None, tmp_path)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        cid = waiting(s, "15550002222", "person:ann")
        wait_until(lambda: s.q("SELECT id FROM alerts WHERE state = 'open'"), 60, "the alert")
        with s.db() as c:
            c.execute("UPDATE conversations SET assignee = 'bot' WHERE id = ?", (cid,))
        wait_until(lambda: s.q("SELECT id FROM alerts WHERE state = 'resolved' AND "
                               "resolved_at IS NOT NULL"), 60, "the alert resolved")
    finally:
        s.close()


def test_admins_hear_of_backups_and_number_quality(smtp, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    s = stack_for(smtp, tmp_path, WA_BACKUP_DIR=str(backups))
    try:
        add_user(s, "root", "admin", "--email", "root@example.test")
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        # The directory exists and holds no backup: the admins hear of it.
        m = wait_until(lambda: mails_to(smtp, "root@example.test"), 60, "root's mail")[0]
        assert parse(m)["Subject"] == ("[WhatsApp gateway] There is no backup (wa-*.db) "
                                       "in the backup directory")
        a = s.q("SELECT kind, user_id, state FROM alerts")
        assert a == [{"kind": "backup_stale", "user_id": None, "state": "open"}]
        # A fresh backup ends it; one 37 hours old is a new episode.
        (backups / "wa-1.db").write_bytes(b"x")
        wait_until(lambda: s.q("SELECT 1 FROM alerts WHERE state = 'resolved'"), 60,
                   "the backup alert resolved")
        old = time.time() - 37 * 3600
        os.utime(backups / "wa-1.db", (old, old))
        wait_until(lambda: s.q("SELECT 1 FROM alerts WHERE state = 'open' AND "
                               "summary = 'The newest backup is 37 hours old'"), 60,
                   "a second backup alert")
        # A number's quality drops to YELLOW, then RED: one alert each.
        with s.db() as c:
            c.execute("UPDATE numbers SET label = 'main', quality_rating = 'YELLOW', "
                      "quality_at = 1 WHERE phone_number_id = '200300400500600'")
        wait_until(lambda: s.q("SELECT 1 FROM alerts WHERE kind = 'quality_drop'"), 60,
                   "the quality alert")
        with s.db() as c:
            c.execute("UPDATE numbers SET quality_rating = 'RED', quality_at = 2")
        wait_until(lambda: s.q("SELECT 1 FROM alerts WHERE kind = 'quality_drop' AND "
                               "state = 'open' AND summary LIKE '%RED'"), 60,
                   "the RED alert")
        q = s.q("SELECT summary, state FROM alerts WHERE kind = 'quality_drop' ORDER BY id")
        assert q == [{"summary": "The quality rating of number main (200300400500600) "
                                 "dropped to YELLOW", "state": "resolved"},
                     {"summary": "The quality rating of number main (200300400500600) "
                                 "dropped to RED", "state": "open"}]
        # The admins' alerts never go to an agent; the admin sees them.
        assert mails_to(smtp, "ann@example.test") == []
        root, _ = session(s, "root")
        kinds = {a["kind"] for a in get(s, "/alerts", root)[1]["data"]}
        assert kinds == {"backup_stale", "quality_drop"}
        ann, _ = session(s, "ann")
        assert get(s, "/alerts", ann)[1]["data"] == []
    finally:
        s.close()


def test_loopback_without_starttls_sends_plain_with_auth_and_never_logs_the_password(tmp_path):
    srv = SmtpServer(tls=None)      # offers no STARTTLS: fine on loopback only
    srv.cert = ""
    pw = "s3cret-" + os.urandom(6).hex()
    s = stack_for(srv, tmp_path, WA_SMTP_USER="gateway", WA_SMTP_PASSWORD=pw)
    try:
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        waiting(s, "15550002222", "person:ann")
        m = wait_until(lambda: mails_to(srv, "ann@example.test"), 60, "ann's mail")[0]
        assert m["tls"] is False
        assert m["auth"][1:] == ("gateway", pw)
        assert not any(c.upper().startswith("STARTTLS") for c in srv.commands)
        s.stop()
        with open(os.path.join(s.tmp.name, "stack.log"), "rb") as f:
            log = f.read()
        assert b"mail" in log and pw.encode() not in log
    finally:
        s.close()
        srv.close()


def test_a_stalled_mail_server_holds_up_neither_webhooks_nor_sends(tmp_path):
    """The SMTP server takes the connection and never answers: while that
    session is still open (the worker has not given up on it), an inbound
    webhook is applied and a send goes out to Meta; once the server
    answers again the mail is retried and sent, once."""
    srv = SmtpServer(tls=None)      # loopback: plain is allowed
    srv.cert = ""
    srv.stall = True
    g = FakeGraph(token="test-token")
    backups = tmp_path / "backups"
    backups.mkdir()                 # empty: the admins' backup alert at once
    s = stack_for(srv, tmp_path, WA_BACKUP_DIR=str(backups), WHATSAPP_GRAPH_URL=g.url,
                  WA_API_RATE="5000")
    try:
        add_user(s, "root", "admin", "--email", "root@example.test")
        key = new_key(s, "mailq")
        wait_until(lambda: srv.stalled_open == 1, 60, "the stalled SMTP session")
        wamid = inbound_text(s, "15550002222", "is anyone there?", wait=False)
        wait_until(lambda: s.q("SELECT 1 FROM messages WHERE wamid = ?", wamid), 60,
                   "the webhook applied")
        assert (srv.stalls, srv.stalled_open) == (1, 1), "applied only after the mail gave up"
        st, _, b = s.request("POST", API + "/send", json.dumps(
            {"to": "15550002222", "type": "text", "text": {"body": "Yes, here"}}).encode(),
            {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        assert st in (200, 202), b
        oid = json.loads(b)["id"]
        wait_until(lambda: s.q("SELECT 1 FROM outbox WHERE id = ? AND state = 'accepted'", oid),
                   60, "the send accepted by the fake Graph")
        assert [r for r in g.requests() if "Yes, here" in (r["body"] or "")], \
            "the send never reached the Graph API"
        assert (srv.stalls, srv.stalled_open) == (1, 1), "sent only after the mail gave up"
        assert s.q("SELECT state, attempts FROM alert_mails") == [{"state": "queued",
                                                                  "attempts": 0}]
        # The server answers again: the timed-out attempt is retried, once.
        srv.stall = False
        m = wait_until(lambda: mails_to(srv, "root@example.test"), 90, "the retried mail")
        assert parse(m[0])["Subject"] == ("[WhatsApp gateway] There is no backup (wa-*.db) "
                                          "in the backup directory")
        row = s.q("SELECT state, attempts FROM alert_mails")
        assert row == [{"state": "sent", "attempts": 2}]
        assert srv.stalls == 1 and len(mails_to(srv, "root@example.test")) == 1
    finally:
        s.close()
        g.close()
        srv.close()
