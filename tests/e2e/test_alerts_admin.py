"""The admins' alerts (issue 16) end to end, through the real stack
(nginx, responders, worker, SQLite file, the fake Graph API, the SMTP test
server): a token Meta refused (190), a number's quality drop and its
restriction (Meta's webhooks), sends failing at more than 5 % over 15
minutes (failures injected at the fake Graph), a journal entry pending
for more than 5 minutes (made old in the database) and a backup older
than 36 hours.  Each: the alert row, the exact mail to the admin (never
to an agent), one row per episode however often the worker looks, and
resolved when the condition ends."""
import json
import os
import time

import pytest

import inbox_fixtures as fx
from fake_graph import FakeGraph
from people import API, add_user, new_key
from smtp_server import SmtpServer
from stack import fixture, started, wait_until

DEFAULT = "200300400500600"
WABA = "100200300400500"        # the fixtures' WABA
NAME = "default (%s)" % DEFAULT
FROM = "alerts@example.test"
ROOT = "root@example.test"


@pytest.fixture
def st(tmp_path):
    """A stack with a fresh backup (no backup alert), an admin and an
    agent with e-mail, the fake Graph and a plain loopback SMTP server."""
    srv = SmtpServer(tls=None)
    g = FakeGraph(token="test-token")
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "wa-1.db").write_bytes(b"x")
    s = None
    try:
        s = started(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WA_MAIL_FROM": FROM,
                               "WA_SMTP_URL": srv.url, "WA_BACKUP_DIR": str(backups),
                               "WHATSAPP_GRAPH_URL": g.url})
        s.smtp, s.graph, s.backup = srv, g, backups / "wa-1.db"
        with s.db() as c:
            c.execute("UPDATE numbers SET waba_id = ?, display_phone_number = ?, "
                      "quality_rating = 'GREEN' WHERE phone_number_id = ?",
                      (WABA, "+1 555-000-1111", DEFAULT))
        add_user(s, "root", "admin", "--email", ROOT)
        add_user(s, "ann", "agent", "--email", "ann@example.test")
        s.key = new_key(s, "alerts")
        yield s
    finally:
        if s is not None:
            s.close()
        g.close()
        srv.close()


def mails_to(s, addr):
    with s.smtp.lock:
        return [m for m in s.smtp.messages if m["rcpt"] == ["<%s>" % addr]]


def the_alert(s, kind, state="open"):
    return wait_until(lambda: s.q("SELECT * FROM alerts WHERE kind = ? AND state = ?",
                                  kind, state), 60, "the %s alert %s" % (kind, state))[0]


def assert_exact_mail(s, row):
    """root's one mail is exactly the mail of alert row, and no agent got
    one."""
    m = wait_until(lambda: mails_to(s, ROOT), 60, "the admin's mail")
    assert len(m) == 1
    raw = m[0]["data"]
    head, body = raw.split(b"\r\n\r\n", 1)
    h = dict(l.split(": ", 1) for l in head.decode().split("\r\n"))
    assert m[0]["from"] == "<%s>" % FROM and h["From"] == FROM and h["To"] == ROOT
    assert h["Subject"] == "[WhatsApp gateway] " + row["summary"]
    raised = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(row["created_at"]))
    assert body.decode() == (
        "Hello root,\r\n\r\n1 new alert from the WhatsApp gateway:\r\n\r\n"
        "- %s\r\n  (raised %s)\r\n\r\nOpen the inbox to see and resolve them.\r\n"
        % (row["summary"], raised))
    assert s.q("SELECT recipient, alert_ids, state FROM alert_mails") == [
        {"recipient": ROOT, "alert_ids": "[%d]" % row["id"], "state": "sent"}]
    assert mails_to(s, "ann@example.test") == []


def another_look(s):
    """Returns once the worker has looked at every condition again: it
    flips the backup alert (old backup, then fresh), which it can only
    see in a later pass over all of them."""
    old = time.time() - 37 * 3600
    os.utime(s.backup, (old, old))
    wait_until(lambda: s.q("SELECT 1 FROM alerts WHERE kind = 'backup_stale' AND "
                           "state = 'open'"), 60, "the probe alert")
    os.utime(s.backup, None)
    wait_until(lambda: not s.q("SELECT 1 FROM alerts WHERE kind = 'backup_stale' AND "
                               "state = 'open'"), 60, "the probe alert resolved")


def once(s, kind):
    another_look(s)
    assert s.q("SELECT count(*) n FROM alerts WHERE kind = ?", kind)[0]["n"] == 1


def send(s, to, text):
    st, _, b = s.request("POST", API + "/send", json.dumps(
        {"to": to, "type": "text", "text": {"body": text}}).encode(),
        {"Authorization": "Bearer " + s.key, "Content-Type": "application/json"})
    assert st in (200, 202), b
    return json.loads(b)["id"]


def account_hook(t, field, value):
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "time": t, "changes": [{"field": field, "value": value}]}]}).encode()


def post_applied(s, body):
    st, _, b = s.post(body)
    assert st == 200, b
    s.wait_applied()


def test_token_refused(st):
    fx.inbound_text(st, "15550002222", "hello")
    st.graph.inject(code=190)
    oid = send(st, "15550002222", "Hello there")
    row = the_alert(st, "token_invalid")
    assert row["summary"] == ("Meta refused the access token of number %s (code 190): its "
                              "sending is paused until the token changes" % NAME)
    assert row["phone_number_id"] == DEFAULT and row["user_id"] is None
    assert_exact_mail(st, row)
    once(st, "token_invalid")
    # A new token (the worker restarted with it): sending resumes, the
    # alert is resolved and the waiting send goes out.
    st.graph.set_token("test-token-2")
    st.stop()
    st.log = open(os.path.join(st.tmp.name, "stack.log"), "ab")
    st.env["WHATSAPP_ACCESS_TOKEN"] = "test-token-2"
    st.start()
    the_alert(st, "token_invalid", "resolved")
    wait_until(lambda: st.q("SELECT 1 FROM outbox WHERE id = ? AND state = 'accepted'", oid),
               60, "the paused send accepted")
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'token_invalid'")[0]["n"] == 1


def test_quality_drop_from_meta_webhook(st):
    post_applied(st, fixture("phone_number_quality_update.json"))
    row = the_alert(st, "quality_drop")
    assert row["summary"] == "The quality rating of number %s dropped to RED" % NAME
    assert row["phone_number_id"] == DEFAULT
    assert_exact_mail(st, row)
    once(st, "quality_drop")
    # Meta says it is no longer low: the alert is resolved.
    post_applied(st, account_hook(1767280060, "phone_number_quality_update", {
        "display_phone_number": "15550001111", "event": "UNFLAGGED",
        "current_limit": "TIER_1K"}))
    the_alert(st, "quality_drop", "resolved")
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'quality_drop'")[0]["n"] == 1


def test_number_restricted_from_meta_webhook(st):
    t = int(time.time())
    post_applied(st, account_hook(t, "account_update", {
        "phone_number": "15550001111", "event": "ACCOUNT_RESTRICTION", "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
             "expiration": t + 86400}]}))
    row = the_alert(st, "number_restricted")
    assert row["summary"] == ("Meta restricted or flagged number %s (ACCOUNT_RESTRICTION): "
                              "sending may be limited" % NAME)
    assert_exact_mail(st, row)
    once(st, "number_restricted")
    # Reinstated: the alert is resolved.
    post_applied(st, account_hook(t + 60, "account_update", {
        "phone_number": "15550001111", "event": "DISABLED_UPDATE",
        "ban_info": {"waba_ban_state": ["REINSTATE"]}}))
    the_alert(st, "number_restricted", "resolved")
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'number_restricted'")[0]["n"] == 1


def test_sends_failing_over_five_percent(st):
    fx.inbound_text(st, "15550002222", "hello")
    st.graph.inject(code=131047)          # the first send fails for good
    ids = [send(st, "15550002222", "Update %d" % i) for i in range(10)]
    wait_until(lambda: st.q("SELECT count(*) n FROM outbox WHERE state IN ('accepted', "
                            "'failed')")[0]["n"] == 10, 60, "the ten sends done")
    assert st.q("SELECT count(*) n FROM outbox WHERE state = 'failed'")[0]["n"] == 1
    row = the_alert(st, "send_failures")
    assert row["summary"] == "1 of 10 sends in the last 15 minutes failed"
    assert json.loads(row["detail"]) == {"sends": 10, "failed": 1}
    assert_exact_mail(st, row)
    once(st, "send_failures")
    # Ten more that go out: 1 in 20 is not more than 5 %.
    ids += [send(st, "15550002222", "More %d" % i) for i in range(10)]
    wait_until(lambda: st.q("SELECT count(*) n FROM outbox WHERE state = 'accepted'")[0]["n"]
               == 19, 60, "the ten more sent")
    the_alert(st, "send_failures", "resolved")
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'send_failures'")[0]["n"] == 1


def test_journal_backlog_older_than_five_minutes(st):
    # An entry the worker cannot finish (a trigger refuses its state
    # change), received 6.5 minutes ago.
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    with st.db() as c:
        c.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256) "
                  "VALUES (?, ?, ?, 'stuck')", (int(time.time() * 1000) - 390000, body,
                                                len(body)))
        eid = c.execute("SELECT max(id) FROM webhook_events").fetchone()[0]
        c.execute("CREATE TRIGGER alerts_test_stuck BEFORE UPDATE OF state ON webhook_events "
                  "WHEN OLD.id = %d BEGIN SELECT RAISE(ABORT, 'alerts test: stuck'); END" % eid)
    row = the_alert(st, "journal_backlog")
    assert row["summary"] == ("The webhook journal has 1 entries waiting; the oldest for "
                              "6 minutes")
    assert json.loads(row["detail"])["pending"] == 1
    assert_exact_mail(st, row)
    once(st, "journal_backlog")
    with st.db() as c:
        c.execute("DROP TRIGGER alerts_test_stuck")
    the_alert(st, "journal_backlog", "resolved")
    assert st.q("SELECT state FROM webhook_events WHERE id = ?", eid)[0]["state"] != "pending"
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'journal_backlog'")[0]["n"] == 1


def test_backup_older_than_36_hours(st):
    old = time.time() - 37 * 3600
    os.utime(st.backup, (old, old))
    row = the_alert(st, "backup_stale")
    assert row["summary"] == "The newest backup is 37 hours old"
    assert json.loads(row["detail"])["age_s"] >= 37 * 3600
    assert_exact_mail(st, row)
    os.utime(st.backup, None)
    the_alert(st, "backup_stale", "resolved")
    assert st.q("SELECT count(*) n FROM alerts WHERE kind = 'backup_stale'")[0]["n"] == 1
