"""Event webhooks' subscriptions through the real stack (issue 16): POST,
GET, PATCH, DELETE /hooks, a hook's deliveries and redelivery, each
validation error with its stable code and field, admin only, and
`wactl hooks`.  No event happens on this stack: the https:// hosts named
here are never contacted."""
import json

import pytest

from people import API, add_user, new_key, session, wactl
from stack import started

PNID = "200300400500600"


@pytest.fixture(scope="module")
def hs():
    s = started(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000"})
    try:
        s.key = new_key(s, "hooks-admin")
        s.ro_key = new_key(s, "hooks-reader", "--read-only")
        add_user(s, "agnes", "agent")
        add_user(s, "adele", "admin")
    except Exception:
        s.close()
        raise
    yield s
    s.close()


def call(s, method, path, body=None, key=None):
    h = {"Authorization": "Bearer " + (key or s.key)}
    if body is not None:
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    st, _, raw = s.request(method, API + path, body, h)
    return st, (json.loads(raw) if raw else None)


def as_person(s, name, method, path, body=None):
    cookie, csrf = session(s, name)
    h = {"Cookie": cookie}
    if method != "GET":
        h["X-CSRF-Token"] = csrf
    if body is not None:
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    st, _, raw = s.request(method, API + path, body, h)
    return st, (json.loads(raw) if raw else None)


def test_create_shows_secret_once_and_lists_without_it(hs):
    st, row = call(hs, "POST", "/hooks", {"url": "https://crm.example.com/wa",
                                         "events": ["message.received", "message.status"]})
    assert st == 201, row
    assert len(row["secret"]) == 64 and int(row["secret"], 16) >= 0
    assert row["events"] == ["message.received", "message.status"]
    assert row["state"] == "active" and row["number"] is None
    assert row["created_by"] == "api:hooks-admin"
    assert row["pending"] == 0 and row["failed_24h"] == 0
    stored = hs.q("SELECT secret, events FROM hooks WHERE id = ?", row["id"])[0]
    assert stored == {"secret": row["secret"], "events": "message.received,message.status"}
    st, lst = call(hs, "GET", "/hooks")
    assert st == 200
    mine = [h for h in lst["data"] if h["id"] == row["id"]]
    assert len(mine) == 1 and "secret" not in mine[0]
    assert row["secret"] not in json.dumps(lst)
    assert call(hs, "DELETE", "/hooks/%d" % row["id"])[0] == 204


def test_secret_env_generates_no_secret_and_number_resolves(hs):
    st, row = call(hs, "POST", "/hooks", {"url": "https://n8n.example.com/h", "events": ["*"],
                                         "number": PNID, "secret_env": "N8N_HOOK_SECRET"})
    assert st == 201, row
    assert "secret" not in row and row["secret_env"] == "N8N_HOOK_SECRET"
    assert row["number"] == PNID and row["events"] == ["*"]
    assert hs.q("SELECT secret FROM hooks WHERE id = ?", row["id"])[0]["secret"] is None
    assert call(hs, "DELETE", "/hooks/%d" % row["id"])[0] == 204


@pytest.mark.parametrize("body,code,field", [
    ({"url": "http://crm.example.com/wa", "events": ["*"]}, "invalid_url", "url"),
    ({"url": "ftp://crm.example.com/wa", "events": ["*"]}, "invalid_url", "url"),
    ({"url": "https://user:pw@crm.example.com/", "events": ["*"]}, "invalid_url", "url"),
    ({"url": "https://127.0.0.1/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://localhost:8443/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://10.1.2.3/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://169.254.169.254/latest", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://[::1]/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://[::ffff:192.168.1.1]/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://100.64.0.1/x", "events": ["*"]}, "private_url", "url"),
    ({"url": "https://crm.example.com/", "events": ["message.recieved"]}, "unknown_event", "events"),
    ({"url": "https://crm.example.com/", "events": []}, "invalid", "events"),
    ({"url": "https://crm.example.com/", "events": "message.sent"}, "invalid", "events"),
    ({"url": "https://crm.example.com/", "events": ["*"], "number": "999"}, "unknown_number", "number"),
    ({"url": "https://crm.example.com/", "events": ["*"], "secret_env": "lower-case"}, "invalid", "secret_env"),
    ({"events": ["*"]}, "required", "url"),
    ({"url": "https://crm.example.com/"}, "required", "events"),
])
def test_validation_errors(hs, body, code, field):
    before = hs.q("SELECT count(*) n FROM hooks")[0]["n"]
    st, err = call(hs, "POST", "/hooks", body)
    assert st == 400, err
    assert err["error"]["code"] == code and err["error"]["field"] == field
    assert len(err["error"]["message"]) > 10
    assert hs.q("SELECT count(*) n FROM hooks")[0]["n"] == before


def test_patch_pause_reactivate_and_404(hs):
    st, row = call(hs, "POST", "/hooks", {"url": "https://crm.example.com/a", "events": ["*"]})
    hid = row["id"]
    st, p = call(hs, "PATCH", "/hooks/%d" % hid, {"state": "paused", "events": ["send.failed"]})
    assert st == 200, p
    assert p["state"] == "paused" and p["events"] == ["send.failed"]
    assert p["url"] == "https://crm.example.com/a"
    # A hook the worker disabled comes back with its failing run forgotten.
    with hs.db() as c:
        c.execute("UPDATE hooks SET state='disabled', disabled_reason='failing for 24 h', "
                  "failing_since=1 WHERE id=?", (hid,))
    st, p = call(hs, "PATCH", "/hooks/%d" % hid, {"state": "active"})
    assert st == 200 and p["state"] == "active"
    assert p["failing_since"] is None and p["disabled_reason"] is None
    st, err = call(hs, "PATCH", "/hooks/%d" % hid, {"state": "disabled"})
    assert st == 422 and err["error"]["field"] == "state"
    st, err = call(hs, "PATCH", "/hooks/%d" % hid, {"url": "https://192.168.0.1/"})
    assert st == 400 and err["error"]["code"] == "private_url"
    assert call(hs, "PATCH", "/hooks/999999", {"state": "paused"})[0] == 404
    assert call(hs, "DELETE", "/hooks/%d" % hid)[0] == 204
    assert call(hs, "DELETE", "/hooks/%d" % hid)[0] == 404


def test_deliveries_and_redeliver(hs):
    st, row = call(hs, "POST", "/hooks", {"url": "https://crm.example.com/d", "events": ["*"]})
    hid = row["id"]
    # Paused: nothing here is ever sent.  Rows as the worker leaves them.
    call(hs, "PATCH", "/hooks/%d" % hid, {"state": "paused"})
    with hs.db() as c:
        for i, state in enumerate(("delivered", "failed", "queued")):
            c.execute("INSERT INTO event_deliveries (hook_id, event_id, type, body, state, "
                      "attempts, next_attempt_at, created_at, last_status) VALUES "
                      "(?, ?, 'message.sent', '{}', ?, 1, 1, 1, 500)",
                      (hid, "evt_%032x" % i, state))
        did = c.execute("SELECT id FROM event_deliveries WHERE hook_id=? AND state='failed'",
                        (hid,)).fetchone()[0]
        c.execute("INSERT INTO event_attempts (delivery_id, at, duration_ms, http_status, error) "
                  "VALUES (?, 5, 12, 500, 'HTTP 500')", (did,))
    st, d = call(hs, "GET", "/hooks/%d/deliveries" % hid)
    assert st == 200, d
    assert [r["state"] for r in d["data"]] == ["queued", "failed", "delivered"]
    failed = d["data"][1]
    assert failed["attempts_log"] == [{"at": 5, "duration_ms": 12, "http_status": 500,
                                       "error": "HTTP 500"}]
    st, d = call(hs, "GET", "/hooks/%d/deliveries?state=failed" % hid)
    assert [r["id"] for r in d["data"]] == [did]
    st, d = call(hs, "GET", "/hooks/%d/deliveries?limit=1" % hid)
    assert len(d["data"]) == 1 and d["next_before"] == d["data"][0]["id"]
    st, d2 = call(hs, "GET", "/hooks/%d/deliveries?before=%d" % (hid, d["next_before"]))
    assert [r["state"] for r in d2["data"]] == ["failed", "delivered"]
    st, err = call(hs, "GET", "/hooks/%d/deliveries?state=lost" % hid)
    assert st == 400 and err["error"]["field"] == "state"
    assert call(hs, "GET", "/hooks/999999/deliveries") == (200, {"data": [], "next_before": None})
    st, r = call(hs, "POST", "/deliveries/%d/redeliver" % did)
    assert st == 202, r
    row = hs.q("SELECT state, attempts FROM event_deliveries WHERE id=?", did)[0]
    assert row == {"state": "queued", "attempts": 1}
    assert call(hs, "POST", "/deliveries/999999/redeliver")[0] == 404
    st, lst = call(hs, "GET", "/hooks")
    mine = [h for h in lst["data"] if h["id"] == hid][0]
    assert mine["pending"] == 2
    assert call(hs, "DELETE", "/hooks/%d" % hid)[0] == 204
    assert hs.q("SELECT count(*) n FROM event_deliveries WHERE hook_id=?", hid)[0]["n"] == 0


def test_admin_only(hs):
    body = {"url": "https://crm.example.com/x", "events": ["*"]}
    st, err = as_person(hs, "agnes", "GET", "/hooks")
    assert st == 403 and err["error"]["code"] == "forbidden_role"
    st, err = as_person(hs, "agnes", "POST", "/hooks", body)
    assert st == 403
    st, _ = call(hs, "GET", "/hooks", key=hs.ro_key)
    assert st == 200
    st, err = call(hs, "POST", "/hooks", body, key=hs.ro_key)
    assert st == 403 and err["error"]["code"] == "read_only_key"
    # A key limited to some numbers would see the others' events.
    limited = new_key(hs, "hooks-one-number", "--number", PNID)
    st, err = call(hs, "GET", "/hooks", key=limited)
    assert st == 403 and err["error"]["code"] == "forbidden_scope"
    st, err = call(hs, "POST", "/hooks", body, key=limited)
    assert st == 403 and err["error"]["code"] == "forbidden_scope"
    st, row = as_person(hs, "adele", "POST", "/hooks", body)
    assert st == 201 and row["created_by"] == "adele"
    st, err = call(hs, "DELETE", "/hooks/%d" % row["id"], key=hs.ro_key)
    assert st == 403
    assert call(hs, "DELETE", "/hooks/%d" % row["id"])[0] == 204


def test_wactl_hooks(hs):
    r = wactl(hs, "hooks", "add", "https://cli.example.com/h", "--events",
              "message.received,send.failed", "--number", PNID)
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip().splitlines()[-1]
    row = hs.q("SELECT id, secret, events, phone_number_id FROM hooks WHERE url = ?",
               "https://cli.example.com/h")[0]
    assert row["secret"] == secret
    assert row["events"] == "message.received,send.failed" and row["phone_number_id"] == PNID
    r = wactl(hs, "hooks", "list")
    assert r.returncode == 0 and "https://cli.example.com/h" in r.stdout
    assert secret not in r.stdout
    r = wactl(hs, "hooks", "deliveries", str(row["id"]), "--state", "failed")
    assert r.returncode == 0, r.stderr
    r = wactl(hs, "hooks", "add", "https://cli.example.com/h", "--events", "nope")
    assert r.returncode != 0 and "event" in r.stderr
    r = wactl(hs, "hooks", "remove", str(row["id"]))
    assert r.returncode == 0, r.stderr
    assert hs.q("SELECT count(*) n FROM hooks WHERE id = ?", row["id"])[0]["n"] == 0
    r = wactl(hs, "hooks", "remove", str(row["id"]))
    assert r.returncode != 0 and r.stderr.strip()


def test_admin_page_lists_hooks_and_pauses_one(hs):
    import inbox_fixtures as fx
    from browser import By
    from people import PW
    from stack import wait_until
    st, row = call(hs, "POST", "/hooks", {"url": "https://page.example.com/h",
                                         "events": ["send.failed"]})
    assert st == 201
    b = fx.browser(hs)
    try:
        fx.sign_in(b, "adele", PW)
        b.get("/inbox/#/admin")
        sel = 'tr[data-hook-id="%d"]' % row["id"]
        tr = b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, sel + '[data-hook-state="active"]')
                               or [None])[0], 10)
        assert "https://page.example.com/h" in tr.text and "send.failed" in tr.text
        assert row["secret"] not in b.d.page_source
        tr.find_element(By.CSS_SELECTOR, 'button[data-action="pause"]').click()
        wait_until(lambda: hs.q("SELECT state FROM hooks WHERE id = ?", row["id"])[0]["state"]
                   == "paused", 10, "the hook paused")
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, sel + ' button[data-action="resume"]'), 10)
        assert b.console_errors() == []
    finally:
        b.quit()
    assert call(hs, "DELETE", "/hooks/%d" % row["id"])[0] == 204
