"""The inbox's managing side in headless Chromium against the real stack:
the conversation's side panel (assign, labels, notes, hand-off, release,
erase), the operations page (retry a failed send), the statistics page
(SVG charts) and the admin page (add a person who then signs in); a
viewer sees no composer and no manage buttons and the API refuses them.
Screenshots go to $BUILD_DIR/test-output (panel, ops, stats, admin)."""
import json
import os
import time

import pytest

import inbox_fixtures as fx
from browser import By
from stack import fixture, wait_until

API = "/api/whatsapp"
PNID = fx.PNID
MSGS = "/v23.0/%s/messages" % PNID


class Person:
    """A signed-in person for plain HTTP calls (cookie and CSRF token)."""

    def __init__(self, s, name, password):
        self.s = s
        self.sess = fx.http_session(s, name, password)
        self.body = {"user": self.sess["user"]}

    def call(self, method, path, doc=None):
        return fx.call(self.s, method, path, doc, sess=self.sess)


def key_get(s, path):
    st, _, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + s.key})
    assert st == 200, b
    return json.loads(b)


def inbound(s, sender, text, ts=None, name="Customer"):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    v["contacts"][0]["profile"]["name"] = name
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(ts or int(time.time())),
              "id": "wamid.manage.%s" % os.urandom(8).hex()})
    m["text"]["body"] = text
    assert s.post(json.dumps(doc).encode())[0] == 200
    return m["id"]


def conversation_of(s, wa_id):
    return fx.conversation_id(s, wa_id)


def new_stack(graph, extra=None):
    """A started stack with the bot on (hand-offs are seen in what it
    answers), an admin key for checks, and three people."""
    env = {"WA_BOT": "on", "WA_SCRYPT_N": "1024"}
    env.update(extra or {})
    s = fx.inbox_stack(graph, extra_env=env)
    try:
        r = fx.wactl(s, "apikey", "create", "manage-tests")
        assert r.returncode == 0, r.stderr
        s.key = r.stdout.strip().splitlines()[-1]
        s.graph = graph
        s.pw = {n: fx.add_user(s, n, role) for n, role in
                (("ada", "admin"), ("alan", "agent"), ("vera", "viewer"))}
    except Exception:
        s.close()
        raise
    return s


@pytest.fixture(scope="module")
def gs(graph):
    s = new_stack(graph)
    yield s
    s.close()


@pytest.fixture
def browsers():
    """Browsers a test opens; each is checked for console errors and quit."""
    opened = []
    yield opened
    errors = []
    for b in opened:
        errors += b.console_errors()
        b.quit()
    assert errors == [], errors


def open_as(gs, browsers, name, width=1280):
    """(Person for HTTP, a browser signed in through the page's form)."""
    b = fx.browser(gs, width=width)
    browsers.append(b)
    fx.sign_in(b, name, gs.pw[name])
    return Person(gs, name, gs.pw[name]), b


def css(b, sel):
    return b.d.find_elements(By.CSS_SELECTOR, sel)


def one(b, sel, timeout=5):
    return b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, sel) or [None])[0], timeout)


def open_chat(b, cid):
    """Opens the chat; waits for its side panel's details to load."""
    fx.open_chat(b, cid, timeout=10)
    panel = '.wa-panel[data-panel-for="%d"]' % cid
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, panel + ":not([aria-busy])"), 10)
    toggle = css(b, '.chat[data-conversation-id="%d"] button.panel-toggle' % cid)
    if toggle and toggle[0].is_displayed() and not one(b, panel).is_displayed():
        toggle[0].click()
    return panel


def settle(b, panel):
    """Waits until the panel shows the result of the last action (it is
    aria-busy from a click until then, redraws included)."""
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, panel) and
           not d.find_elements(By.CSS_SELECTOR, panel + "[aria-busy]"), 10)


def panel_button(b, panel, text):
    def find(d):
        for e in d.find_elements(By.CSS_SELECTOR, panel + " button"):
            if e.text.strip() == text and e.is_enabled():
                return e
        return None
    return b.wait(find)


def conv(gs, cid):
    return key_get(gs, "/conversations/%d" % cid)


# ---------------------------------------------------------------- panel

def test_panel_assign_label_note_handoff_release(gs, browsers):
    who = "15550810001"
    inbound(gs, who, "hello there")
    gs.wait_applied()
    cid = conversation_of(gs, who)
    me, b = open_as(gs, browsers, "alan")
    panel = open_chat(b, cid)
    assert who in one(b, panel + ' [data-section="contact"]').text

    # Take over: the conversation is the agent's, and the bot stays quiet.
    panel_button(b, panel, "Take over").click()
    wait_until(lambda: conv(gs, cid)["assignee"] == "person:alan", 5, "take over")
    settle(b, panel)
    one(b, panel + ' [data-assignee="person:alan"]')
    before = gs.q("SELECT count(*) n FROM outbox WHERE recipient = ? AND source = 'bot'", who)[0]["n"]
    inbound(gs, who, "menu")
    gs.wait_applied()   # the bot answers in the transaction that applies
    assert gs.q("SELECT count(*) n FROM outbox WHERE recipient = ? AND source = 'bot'",
                who)[0]["n"] == before

    # A label made on the fly by typing it (Enter submits), then removed.
    box = one(b, panel + ' [data-form="label"] input[name="label"]')
    box.send_keys("vip-customer\n")
    wait_until(lambda: "vip-customer" in (conv(gs, cid)["labels"] or []), 5, "label")
    settle(b, panel)
    assert gs.q("SELECT count(*) n FROM labels WHERE name = 'vip-customer'")[0]["n"] == 1
    one(b, panel + ' [data-label="vip-customer"] button[aria-label="Remove label vip-customer"]').click()
    wait_until(lambda: "vip-customer" not in (conv(gs, cid)["labels"] or []), 5, "label removed")
    settle(b, panel)

    # A note, written and sent with the keyboard only.
    note = one(b, panel + ' [data-form="note"] textarea')
    note.send_keys("Calls after <b>5 pm</b>")
    b.d.switch_to.active_element.send_keys("\t")
    assert b.d.switch_to.active_element.text == "Add note"
    b.d.switch_to.active_element.send_keys("\n")
    wait_until(lambda: [n for n in key_get(gs, "/conversations/%d/notes" % cid)["data"]
                        if n["text"] == "Calls after <b>5 pm</b>"], 5, "note")
    settle(b, panel)
    shown = one(b, panel + " .wa-note-text")
    assert shown.text == "Calls after <b>5 pm</b>" and not css(b, panel + " .wa-note-text b")
    notes = key_get(gs, "/conversations/%d/notes" % cid)["data"]
    assert [n["author"] for n in notes if n["text"].startswith("Calls after")] == ["alan"]

    # Hand to the bot: it answers the next message again.
    # (by keyboard: Enter on the button; focus stays in the panel, on
    # the assignee select once the button is disabled)
    panel_button(b, panel, "Hand to bot").send_keys("\n")
    wait_until(lambda: conv(gs, cid)["assignee"] == "bot", 5, "hand to bot")
    settle(b, panel)
    assert b.d.switch_to.active_element.get_attribute("data-fk") == "assignee"
    inbound(gs, who, "menu")
    wait_until(lambda: gs.q("SELECT count(*) n FROM outbox WHERE recipient = ? AND source = 'bot'",
                            who)[0]["n"] > before, 10, "the bot's answer")

    # Release: handed to people, nobody in particular.
    one(b, panel + ' [data-assignee="bot"]')
    panel_button(b, panel, "Release").click()
    wait_until(lambda: conv(gs, cid)["assignee"] == "person", 5, "release")
    settle(b, panel)
    one(b, panel + ' [data-assignee="person"]')
    b.d.execute_script("document.querySelector(arguments[0]).closest('.panel').scrollTop = 0", panel)
    b.screenshot("manage-panel-desktop")

    acts = key_get(gs, "/conversations/%d/activity" % cid)["data"]
    assert {a["actor"] for a in acts} >= {"alan"}
    kinds = [a["kind"] for a in acts]
    for k in ("label", "note"):
        assert k in kinds, kinds
    assert len([a for a in acts if a["kind"] in ("assign", "handoff", "release")]) >= 3, kinds
    # The panel's own history shows what was done.
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, panel + " .wa-activity li[data-kind]")) >= 5)

    # Assign to a colleague from the select.
    sel = one(b, panel + ' [data-form="assign"] select')
    for o in sel.find_elements(By.TAG_NAME, "option"):
        if o.get_attribute("value") == "person:ada":
            o.click()
    panel_button(b, panel, "Assign").click()
    wait_until(lambda: conv(gs, cid)["assignee"] == "person:ada", 5, "assign to ada")


def test_viewer_has_no_composer_or_manage_buttons_and_is_refused(gs, browsers):
    who = "15550810002"
    inbound(gs, who, "viewer test")
    gs.wait_applied()
    cid = conversation_of(gs, who)
    me, b = open_as(gs, browsers, "vera")
    panel = open_chat(b, cid)
    one(b, panel + ' [data-section="notes"]')
    assert not css(b, panel + " form"), "a viewer got a form in the panel"
    assert not [e for e in css(b, panel + " button")], "a viewer got a button in the panel"
    assert not [e for e in css(b, "button") if e.text.strip() == "Send"]
    assert not css(b, "textarea")
    b.screenshot("manage-panel-viewer")
    # Forced anyway, with a valid session and CSRF token: refused.
    st, body = me.call("POST", "/send", {"to": who, "type": "text", "text": {"body": "hi"}})
    assert st == 403 and body["error"]["code"] == "forbidden_role", body
    st, body = me.call("PATCH", "/conversations/%d" % cid, {"assignee": "person:vera"})
    assert st == 403 and body["error"]["code"] == "forbidden_role", body
    assert gs.q("SELECT count(*) n FROM outbox WHERE recipient = ? AND source != 'bot'", who)[0]["n"] == 0


def test_erase_needs_the_typed_phone_number(gs, browsers):
    who = "15550810003"
    inbound(gs, who, "please forget me")
    gs.wait_applied()
    cid = conversation_of(gs, who)
    me, b = open_as(gs, browsers, "ada")
    panel = open_chat(b, cid)
    # Export: the JSON file the browser is handed holds the contact.
    b.d.execute_script("window.__blobs = []; const f = URL.createObjectURL; "
                       "URL.createObjectURL = (x) => { window.__blobs.push(x); return f(x); };")
    one(b, panel + ' [data-action="export"]').click()
    got = b.d.execute_async_script("const done = arguments[0]; const w = () => window.__blobs.length ? "
                                   "window.__blobs[0].text().then(done) : setTimeout(w, 20); w();")
    exported = json.loads(got)
    assert who in json.dumps(exported) and "please forget me" in json.dumps(exported)
    erase = one(b, panel + ' [data-action="erase"]')
    box = one(b, panel + ' [data-form="erase"] input')
    assert not erase.is_enabled()
    box.send_keys("15550810004\n")          # the wrong number, and Enter
    one(b, panel + ' [data-section="privacy"] .wa-error')
    assert not erase.is_enabled()
    assert gs.q("SELECT count(*) n FROM contacts WHERE wa_id = ?", who)[0]["n"] == 1
    box.clear()
    box.send_keys(who)
    b.wait(lambda d: erase.is_enabled())
    erase.click()
    wait_until(lambda: gs.q("SELECT count(*) n FROM contacts WHERE wa_id = ?", who)[0]["n"] == 0,
               5, "erased")
    b.wait(lambda d: d.execute_script("return location.hash") == "#/inbox")
    b.wait(lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, ".toast") if who in t.text])
    assert gs.q("SELECT count(*) n FROM messages WHERE conversation_id = ?", cid)[0]["n"] == 0


def test_export_and_erase_hidden_from_agents(gs, browsers):
    who = "15550810005"
    inbound(gs, who, "agent view")
    gs.wait_applied()
    cid = conversation_of(gs, who)
    me, b = open_as(gs, browsers, "alan")
    panel = open_chat(b, cid)
    one(b, panel + ' [data-section="notes"] form')
    assert not css(b, panel + ' [data-section="privacy"]')
    assert not css(b, panel + ' [data-action="export"]')


# ------------------------------------------------------------------ ops

def test_failed_send_retried_from_the_ops_page(gs, browsers):
    who = "15550810006"
    inbound(gs, who, "ops test")
    gs.wait_applied()
    # The bot's welcome goes out first: the injected failure is for ours.
    wait_until(lambda: gs.q("SELECT count(*) n FROM outbox WHERE recipient = ? AND state IN "
                            "('queued', 'sending')", who)[0]["n"] == 0, 10, "the bot's reply")
    g = gs.graph
    g.inject(code=131026, times=1, match={"to": who})
    st, _, b = gs.request("POST", API + "/send", json.dumps(
        {"to": who, "type": "text", "text": {"body": "retry me"}}).encode(),
        {"Authorization": "Bearer " + gs.key, "Content-Type": "application/json"})
    assert st == 202, b
    oid = json.loads(b)["id"]
    wait_until(lambda: gs.q("SELECT state FROM outbox WHERE id = ?", oid)[0]["state"] == "failed",
               10, "the first try to fail")
    # A journal entry that failed (its wamid is too long), to replay.
    doc = json.loads(fixture("text.json"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid." + "x" * 200
    bad = json.dumps(doc).encode()
    st, _, r = gs.post(bad)
    eid = json.loads(r)["stored"]
    gs.wait_applied()
    assert gs.q("SELECT state FROM webhook_events WHERE id = ?", eid)[0]["state"] == "failed"
    me, br = open_as(gs, browsers, "ada")
    br.get("/inbox/#/ops")
    row = one(br, 'tr[data-outbox-id="%d"]' % oid, 10)
    assert "131026" in row.text
    one(br, '[data-section="health"] dl')
    br.screenshot("manage-ops-desktop")
    one(br, 'button[data-action="retry"][data-outbox-id="%d"]' % oid).click()
    wait_until(lambda: gs.q("SELECT state FROM outbox WHERE id = ?", oid)[0]["state"] == "accepted",
               10, "the retry to be accepted")
    calls = [r for r in g.requests(MSGS) if (r["json"] or {}).get("biz_opaque_callback_data")
             == "outbox:%d" % oid]
    assert [r["status"] for r in calls] == [400, 200]
    # The operator fixes the stored item, then replays it from the page.
    err = gs.q("SELECT error FROM webhook_events WHERE id = ?", eid)[0]["error"]
    assert err and err in one(br, 'tr[data-event-id="%d"]' % eid).text
    with gs.db() as c:
        c.execute("UPDATE webhook_events SET body = ? WHERE id = ?",
                  (bad.replace(b"wamid." + b"x" * 200, b"wamid.manage.replayed"), eid))
    one(br, 'button[data-action="replay"][data-event-id="%d"]' % eid).click()
    wait_until(lambda: gs.q("SELECT state FROM webhook_events WHERE id = ?", eid)[0]["state"]
               == "applied", 10, "the replayed entry to apply")
    assert gs.q("SELECT count(*) n FROM messages WHERE wamid = 'wamid.manage.replayed'")[0]["n"] == 1


def test_ops_and_admin_refused_to_an_agent(gs, browsers):
    me, b = open_as(gs, browsers, "alan")
    b.get("/inbox/#/ops")
    one(b, '[data-page="ops"] .wa-error')
    assert not css(b, '[data-section="failed-sends"]')
    b.get("/inbox/#/admin")
    one(b, '[data-page="admin"] .wa-error')
    assert not css(b, '[data-form="add-user"]')
    st, body = me.call("POST", "/outbox/1/retry")
    assert st == 403 and body["error"]["code"] == "forbidden_role"


# ---------------------------------------------------------------- admin

def test_admin_adds_a_person_who_signs_in(gs, browsers):
    me, b = open_as(gs, browsers, "ada")
    b.get("/inbox/#/admin")
    form = one(b, '[data-form="add-user"]', 10)
    form.find_element(By.NAME, "name").send_keys("newbie")
    form.find_element(By.NAME, "display_name").send_keys("Nina \u05e9\u05dc\u05d5\u05dd")
    for o in form.find_elements(By.CSS_SELECTOR, 'select[name="role"] option'):
        if o.get_attribute("value") == "agent":
            o.click()
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    secret = one(b, '[data-section="users"] [data-secret]', 10).text.strip()
    assert len(secret) >= 12
    one(b, 'tr[data-user-name="newbie"]')
    b.screenshot("manage-admin-desktop")
    p = Person(gs, "newbie", secret)
    assert p.body["user"]["role"] == "agent" and p.body["user"]["name"] == "newbie"
    # Disable from the page: the person can no longer sign in.
    one(b, 'tr[data-user-name="newbie"] button[data-action="disable"]').click()
    one(b, 'tr[data-user-name="newbie"] button[data-action="enable"]')
    st, _, _ = gs.request("POST", API + "/session", json.dumps(
        {"username": "newbie", "password": secret}).encode(), {"Content-Type": "application/json"})
    assert st == 401


def test_admin_creates_a_limited_read_only_key(gs, browsers):
    me, b = open_as(gs, browsers, "ada")
    b.get("/inbox/#/admin")
    form = one(b, '[data-form="add-key"]', 10)
    form.find_element(By.NAME, "name").send_keys("reporting")
    form.find_element(By.NAME, "read_only").click()
    form.find_element(By.CSS_SELECTOR, 'input[name="numbers"][value="%s"]' % PNID).click()
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    key = one(b, '[data-section="keys"] [data-secret]', 10).text.strip()
    row = gs.q("SELECT id, key_sha256, read_only FROM api_keys WHERE name = 'reporting'")[0]
    assert row["read_only"] == 1 and key not in json.dumps(gs.q("SELECT * FROM api_keys"))
    assert gs.q("SELECT phone_number_id FROM api_key_numbers WHERE api_key_id = ?",
                row["id"]) == [{"phone_number_id": PNID}]
    h = {"Authorization": "Bearer " + key}
    assert gs.request("GET", API + "/status", headers=h)[0] == 200
    st, _, body = gs.request("POST", API + "/mark-read", b"{}", dict(h, **{"Content-Type": "application/json"}))
    assert st == 403 and json.loads(body)["error"]["code"] == "read_only_key"
    one(b, 'tr[data-key-id="%d"]' % row["id"])


def test_admin_edits_a_number_and_adds_a_quick_reply(gs, browsers):
    st, _, body = gs.request("POST", API + "/labels", json.dumps({"name": "to-rename"}).encode(),
                             {"Authorization": "Bearer " + gs.key, "Content-Type": "application/json"})
    assert st == 201, body
    lid = json.loads(body)["id"]
    me, b = open_as(gs, browsers, "ada")
    b.get("/inbox/#/admin")
    form = one(b, '[data-form="number"][data-pnid="%s"]' % PNID, 10)
    rate = form.find_element(By.NAME, "rate")
    rate.clear()
    rate.send_keys("40")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    wait_until(lambda: gs.q("SELECT send_rate FROM numbers WHERE phone_number_id = ?",
                            PNID)[0]["send_rate"] == 40, 5, "the number's rate")
    form = one(b, '[data-form="add-quick-reply"]')
    form.find_element(By.NAME, "shortcut").send_keys("thanks")
    form.find_element(By.NAME, "text").send_keys("Thank you, we are on it!")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    wait_until(lambda: [q for q in key_get(gs, "/quick-replies")["data"]
                        if q["shortcut"] == "thanks" and q["text"] == "Thank you, we are on it!"],
               5, "the quick reply")
    one(b, '[data-form="quick-reply"] input[name="shortcut"]')
    # A label renamed from the admin page.
    box = one(b, '[data-form="label"][data-label-id="%d"] input[name="name"]' % lid)
    box.clear()
    box.send_keys("renamed-label\n")
    wait_until(lambda: [l for l in key_get(gs, "/labels")["data"] if l["id"] == lid and
                        l["name"] == "renamed-label"], 5, "the label's new name")


def test_pages_fit_a_phone(gs, browsers):
    """At 360 px nothing is wider than the screen: admin, ops and stats
    pages, and the chat's details panel opened by its button."""
    who = "15550810007"
    inbound(gs, who, "small screen")
    gs.wait_applied()
    cid = conversation_of(gs, who)
    me, b = open_as(gs, browsers, "ada", width=360)

    def overflow():
        return b.d.execute_script("return document.documentElement.scrollWidth - "
                                  "document.documentElement.clientWidth")
    b.get("/inbox/#/admin")
    one(b, '[data-form="add-user"]', 10)
    one(b, 'tr[data-user-name="ada"]')
    assert overflow() <= 0, "the admin page is %d px wider than a 360 px screen" % overflow()
    b.screenshot("manage-admin-360")
    b.get("/inbox/#/ops")
    one(b, '[data-section="health"] dl', 10)
    assert overflow() <= 0, "the ops page is %d px too wide" % overflow()
    b.get("/inbox/#/stats")
    one(b, '[data-chart="messages"]', 10)
    assert overflow() <= 0, "the stats page is %d px too wide" % overflow()
    fx.open_chat(b, cid, timeout=10)
    one(b, '.chat[data-conversation-id="%d"] button.panel-toggle' % cid).click()
    panel = '.wa-panel[data-panel-for="%d"]' % cid
    settle(b, panel)
    take = panel_button(b, panel, "Take over")
    assert take.is_displayed() and take.rect["x"] + take.rect["width"] <= 360
    assert overflow() <= 0, "the chat with its panel is %d px too wide" % overflow()
    b.screenshot("manage-panel-360")


# ---------------------------------------------------------------- stats

def test_stats_page_draws_bars_for_known_data(graph, browsers):
    """A fresh stack with known days: the messages chart has two bars a
    day of the period (in, out) with the right heights on the known days;
    the menu and failure charts have one bar per known option and code."""
    s = new_stack(graph, {"WA_BOT": "off"})
    try:
        noon = int(time.time()) // 86400 * 86400 + 43200     # today, 12:00 UTC
        d2, d4 = noon - 2 * 86400, noon - 4 * 86400
        a, c = "15550820001", "15550820002"
        inbound(s, a, "one", ts=d4)
        inbound(s, a, "two", ts=d4 + 60)
        inbound(s, c, "three", ts=d2)
        s.wait_applied()
        with s.db() as conn:
            # A person's reply 30 s after the first message of day 4.
            conn.execute("INSERT INTO messages (phone_number_id, wamid, direction, conversation_id, "
                         "contact_id, recipient, type, text, timestamp, status, raw, created_at, "
                         "user_id) SELECT v.phone_number_id, 'wamid.stats.out', 'out', v.id, "
                         "v.contact_id, ?, 'text', 'reply', ?, 'read', '{}', ?, (SELECT id FROM "
                         "users WHERE name = 'ada') FROM conversations v JOIN contacts k "
                         "ON k.id = v.contact_id WHERE k.wa_id = ?", (a, d4 + 30, d4 + 30, a))
            day2 = time.strftime("%Y-%m-%d", time.gmtime(d2))
            conn.executemany("INSERT INTO bot_choices VALUES (?, ?, ?, ?, ?)",
                             [(PNID, day2, "main", "orders", 5), (PNID, day2, "main", "help", 2),
                              (PNID, day2, "main", "schedule", 1)])
            for code in (131047, 131047, 131026):
                conn.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, "
                             "source, state, error_code, error_title, next_attempt_at, created_at) "
                             "VALUES (?, ?, 'text', '{}', 1, 'api', 'failed', ?, 'failed', 0, ?)",
                             (PNID, a, code, d2 * 1000))
        b = fx.browser(s)
        browsers.append(b)
        fx.sign_in(b, "ada", s.pw["ada"])
        b.get("/inbox/#/stats")
        chart = '[data-chart="messages"] svg rect.wa-bar'
        bars = b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, chart), 10)
        assert len(bars) == 14 * 2          # the default period: 14 days, in and out
        def value(day, series):
            got = [e.get_attribute("data-value") for e in bars
                   if e.get_attribute("data-category") == day[5:] and
                   e.get_attribute("data-series") == series]
            assert len(got) == 1, (day, series, got)
            return int(got[0])
        day4 = time.strftime("%Y-%m-%d", time.gmtime(d4))
        assert (value(day4, "in"), value(day4, "out")) == (2, 1)
        assert (value(day2, "in"), value(day2, "out")) == (1, 0)
        menu = css(b, '[data-chart="menu"] svg rect.wa-bar')
        assert [(e.get_attribute("data-category"), e.get_attribute("data-value")) for e in menu] == \
            [("main: orders", "5"), ("main: help", "2"), ("main: schedule", "1")]
        fails = css(b, '[data-chart="failures"] svg rect.wa-bar')
        assert [e.get_attribute("data-value") for e in fails] == ["2", "1"]
        reply = css(b, '[data-chart="first-reply"] svg rect.wa-bar')
        assert len(reply) == 14 * 2         # p50 and p95 a day
        assert [(e.get_attribute("data-series"), e.get_attribute("data-value")) for e in reply
                if e.get_attribute("data-category") == day4[5:]] == [("p50", "30"), ("p95", "30")]
        b.screenshot("manage-stats-desktop")
    finally:
        # The browser goes before its stack: a page left polling a
        # stopped server logs a refused connection.
        errors = []
        while browsers:
            x = browsers.pop()
            errors += x.console_errors()
            x.quit()
        s.close()
    assert errors == [], errors
