"""The inbox's campaign page (issue 16), admins only, in headless
Chromium through the real stack and the real /campaigns API: a CSV with
a wrong line is refused with its line number, the fixed file previews
(the first message with its parameters filled in, the counts; nothing
written), Create makes the campaign, the list shows it, Pause, Resume
and Cancel (asked to confirm) change the state shown; a campaign's page
reads its failed recipients again while it is live; a segment previews
with the contact's name; it fits a 375 px wide screen; a viewer or an
agent neither sees nor gets the page, and the API refuses them.
Screenshots (desktop and 375 px) go to the test's tmp dir."""
import json
import time

import pytest

from browser import By
from inbox_fixtures import (PNID, add_user, browser, call, conversation_id, http_session,
                            inbox_stack, inbound_text, sign_in)

WABA = "1000000001"
BODY = "Hello {{1}}, your order {{2}} is ready."
BAD_CSV = "wa_id,name,order\n15550002222,Ann,A-1\n15550003333,Bob\n15550004444,Cy,C-3\n"
GOOD_CSV = ("wa_id,name,order\n+1 555 000 2222,Ann,A-1\n15550003333,Bob,B-2\n"
            "15550002222,Ann again,A-3\n")


@pytest.fixture(scope="module")
def s():
    st = inbox_stack()
    try:
        # The default number's account and its templates, as a sync
        # stores them: one approved, one Meta refused.
        comps = '[{"type":"BODY","text":"%s"}]' % BODY
        with st.db() as c:
            c.execute("UPDATE numbers SET waba_id = ?", (WABA,))
            for name, status in (("order_ready", "APPROVED"), ("old_offer", "REJECTED")):
                c.execute("INSERT INTO templates (waba_id, name, language, status, components, "
                          "updated_at) VALUES (?, ?, 'en_US', ?, ?, 0)", (WABA, name, status, comps))
        st.admin_pw = add_user(st, "ada", "admin")
        yield st
    finally:
        st.close()


def els(b, css):
    return b.d.find_elements(By.CSS_SELECTOR, css)


def open_form(b):
    """The campaigns page through the header's link; waits until the
    form offers the approved template."""
    b.d.find_element(By.CSS_SELECTOR, 'header.top nav a[data-view="campaigns"]').click()
    form = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, 'form[data-form="new-campaign"]'), 10)
    b.wait(lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, "select[name=template] option")
                      if o.text == "order_ready (en_US)"], 10)
    return form


def click(form, action):
    form.find_element(By.CSS_SELECTOR, 'button[data-action="%s"]' % action).click()


def counts(b, scope):
    """The counts a preview or a campaign's page shows, by name."""
    return {e.get_attribute("data-count"): e.text
            for e in els(b, scope + " dd[data-count]")}


def state_shown(b, state, timeout=10):
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR,
                                     '.wa-campaign[data-campaign-state="%s"]' % state), timeout)
    return b.d.find_element(By.CSS_SELECTOR, '.wa-campaign dd[data-field="state"]').text


def no_overflow(b):
    """What sticks out of the window's width (nothing when it fits)."""
    return b.d.execute_script(
        "const w = document.documentElement.clientWidth;"
        "return [...document.querySelectorAll('body *')]"
        ".filter((e) => e.getBoundingClientRect().right > w + 0.5)"
        ".map((e) => e.tagName + '.' + e.className);")


def page_errors(b, refused):
    """Console errors other than Chrome's own line for a POST /campaigns
    the test made the API refuse (status `refused`): the page itself
    logs none."""
    return [e for e in b.console_errors()
            if not (e["message"].split(" ", 1)[0].endswith("/api/whatsapp/campaigns")
                    and "status of %d" % refused in e["message"])]


def test_admin_fixes_a_csv_previews_creates_and_steers_a_campaign(s, tmp_path):
    b = browser(s)
    try:
        sign_in(b, "ada", s.admin_pw)
        form = open_form(b)
        offered = [o.text for o in els(b, "select[name=template] option")]
        assert offered == ["order_ready (en_US)"]          # not the rejected one
        assert form.find_element(By.CSS_SELECTOR, ".wa-template-text").text == BODY
        form.find_element(By.NAME, "name").send_keys("spring sale")
        # Two days ahead, to the minute (the browser's local time): it
        # stays scheduled while the test pauses and resumes it.
        start = (int(time.time()) // 60 + 2 * 24 * 60) * 60
        at = form.find_element(By.NAME, "at")
        b.d.execute_script("arguments[0].value = arguments[1]", at,
                           time.strftime("%Y-%m-%dT%H:%M", time.localtime(start)))

        bad = tmp_path / "customers.csv"
        bad.write_text(BAD_CSV)
        form.find_element(By.NAME, "csv").send_keys(str(bad))
        click(form, "preview")
        problem = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".wa-problem"), 10)
        assert problem.get_attribute("data-error") == "invalid_csv"
        assert problem.find_element(By.CSS_SELECTOR, 'li[data-line="3"]').text.startswith("Line 3: ")
        assert "line 3" in problem.find_element(By.CSS_SELECTOR, "p").text
        assert form.find_element(By.NAME, "csv").get_attribute("aria-invalid") == "true"
        b.d.save_screenshot(str(tmp_path / "campaign-bad-csv-desktop.png"))

        good = tmp_path / "customers-fixed.csv"
        good.write_text(GOOD_CSV)
        form.find_element(By.NAME, "csv").send_keys(str(good))
        click(form, "preview")
        first = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-preview] .wa-first-message"), 10)
        assert first.text == "Hello Ann, your order A-1 is ready."
        assert els(b, ".wa-problem") == [] and els(b, "[aria-invalid]") == []
        got = counts(b, "[data-preview]")
        assert (got["total"], got["queued"], got["skipped"], got["sent"]) == ("3", "2", "1", "0")
        assert got["skipped-reasons"] == "duplicate 1"                     # why, before creating
        assert s.q("SELECT count(*) AS n FROM campaigns")[0]["n"] == 0       # a dry run
        b.d.save_screenshot(str(tmp_path / "campaign-preview-desktop.png"))

        click(form, "create")
        link = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".wa-campaign-preview .wa-ok a"), 10)
        (row,) = s.q("SELECT id, name, phone_number_id, template, language, state, start_at, "
                     "source FROM campaigns")
        assert (row["name"], row["phone_number_id"], row["template"], row["language"], row["state"]) == \
            ("spring sale", PNID, "order_ready", "en_US", "scheduled")
        assert json.loads(row["source"]) == {"file": "customers-fixed.csv"}     # the file chosen
        assert row["start_at"] == start * 1000
        assert link.get_attribute("href").endswith("#/campaigns/%d" % row["id"])
        assert s.q("SELECT line, wa_id, state, reason FROM campaign_recipients ORDER BY line") == [
            {"line": 2, "wa_id": "15550002222", "state": "queued", "reason": None},
            {"line": 3, "wa_id": "15550003333", "state": "queued", "reason": None},
            {"line": 4, "wa_id": "15550002222", "state": "skipped", "reason": "duplicate"}]

        # The list shows it, with its number, template, state and progress.
        tr = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-campaign-name="spring sale"]'), 10)
        assert tr.get_attribute("data-campaign-state") == "scheduled"
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        assert cells[2:4] == ["order_ready (en_US)", "scheduled"]
        assert "1 of 3 done" in cells[4] and cells[5] == "queued 2, skipped 1"
        bar = tr.find_element(By.TAG_NAME, "progress")
        assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1", "3")
        b.d.save_screenshot(str(tmp_path / "campaign-list-desktop.png"))

        # Its page: pause, resume, cancel (asked first) change the state.
        tr.find_element(By.CSS_SELECTOR, "a").click()
        assert state_shown(b, "scheduled") == "scheduled"
        assert b.d.find_element(By.CSS_SELECTOR, ".wa-campaign .wa-first-message").text == \
            "Hello Ann, your order A-1 is ready."
        # The duplicate line, skipped at creation, is listed with why.
        skip = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '[data-section="campaign-skipped"] tbody tr'))
        assert [td.text for td in skip.find_elements(By.TAG_NAME, "td")][:3] == \
            ["4", "15550002222", "duplicate"]
        report = b.d.find_element(By.CSS_SELECTOR, "a.wa-report")
        assert report.get_attribute("href").endswith("/api/whatsapp/campaigns/%d/report.csv" % row["id"])
        # The link works with the page's session (the cookie alone).
        csv_head = b.d.execute_async_script(
            "const done = arguments[1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then((r) => r.text()"
            ".then((t) => done(r.status + ' ' + t.split('\\n')[0])));", report.get_attribute("href"))
        assert csv_head == "200 line,wa_id,state,reason,error_code,updated_at"
        b.d.save_screenshot(str(tmp_path / "campaign-page-desktop.png"))

        b.d.find_element(By.CSS_SELECTOR, 'button[data-action="pause"]').click()
        assert state_shown(b, "paused") == "paused"
        assert s.q("SELECT state FROM campaigns")[0]["state"] == "paused"
        assert els(b, 'button[data-action="pause"]') == []
        b.d.find_element(By.CSS_SELECTOR, 'button[data-action="resume"]').click()
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-action="pause"]'), 10)
        resumed = s.q("SELECT state FROM campaigns")[0]["state"]
        assert resumed in ("scheduled", "running")
        assert state_shown(b, resumed) == resumed

        b.d.find_element(By.CSS_SELECTOR, 'button[data-action="cancel"]').click()
        ask = b.wait(lambda d: d.switch_to.alert)
        assert "spring sale" in ask.text
        ask.dismiss()                                       # "no": nothing changes
        assert s.q("SELECT state FROM campaigns")[0]["state"] == resumed
        assert state_shown(b, resumed) == resumed
        b.d.find_element(By.CSS_SELECTOR, 'button[data-action="cancel"]').click()
        b.wait(lambda d: d.switch_to.alert).accept()
        assert state_shown(b, "cancelled") == "cancelled"
        assert s.q("SELECT state FROM campaigns")[0]["state"] == "cancelled"
        assert els(b, ".wa-campaign ~ .wa-buttons button") == []
        b.d.find_element(By.LINK_TEXT, "All campaigns").click()
        b.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, 'tr[data-campaign-name="spring sale"][data-campaign-state="cancelled"]'), 10)
        assert page_errors(b, 400) == []
    finally:
        b.quit()


def test_live_campaigns_show_new_failures_without_a_reload(s, tmp_path):
    adm = http_session(s, "ada", s.admin_pw)
    st, c = call(s, "POST", "/campaigns", {
        "name": "reorder", "number": PNID, "template": "order_ready", "language": "en_US",
        "at": int(time.time()) + 3 * 86400,
        "csv": "wa_id,name,order\n15550005555,Dee,D-1\n15550006666,Eve,E-2\n"}, sess=adm)
    assert st == 201, c
    b = browser(s)
    try:
        sign_in(b, "ada", s.admin_pw)
        b.get("/inbox/#/campaigns/%d" % c["id"])
        state_shown(b, "scheduled")
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-section="campaign-failed"] .wa-empty'), 10)
        assert counts(b, ".wa-campaign")["failed"] == "0"
        # What the worker writes when Meta refuses one (campsend's roll-up).
        with s.db() as db:
            db.execute("UPDATE campaign_recipients SET state = 'failed', error_code = 131026, "
                       "reason = 'Message undeliverable' WHERE campaign_id = ? AND wa_id = ?",
                       (c["id"], "15550006666"))
        row = b.wait(lambda d: d.find_element(
            By.CSS_SELECTOR, '[data-section="campaign-failed"] tbody tr'), 15)
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[:3] == ["3", "15550006666", "131026 Message undeliverable"]
        assert counts(b, ".wa-campaign")["failed"] == "1"
        assert counts(b, ".wa-campaign")["queued"] == "1"
        # The list reads itself again too while a campaign is live.
        b.d.find_element(By.LINK_TEXT, "All campaigns").click()
        sel = 'tr[data-campaign-name="reorder"]'
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, sel), 10)
        with s.db() as db:
            db.execute("UPDATE campaign_recipients SET state = 'skipped', reason = 'opted_out' "
                       "WHERE campaign_id = ? AND wa_id = ?", (c["id"], "15550005555"))
        b.wait(lambda d: d.find_element(By.CSS_SELECTOR, sel + " td:last-child").text
               == "failed 1, skipped 1", 15)
        bar = b.d.find_element(By.CSS_SELECTOR, sel + " progress")
        assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("2", "2")
        assert b.console_errors() == []
    finally:
        b.quit()


def test_a_segment_previews_with_the_contacts_name_at_375_px(s, tmp_path):
    inbound_text(s, "15550007777", "hi", name="Carol Example")
    st, _ = call(s, "POST", "/campaigns", {
        "name": "taken", "template": "order_ready", "language": "en_US", "at": int(time.time()) + 86400,
        "csv": "wa_id,name,order\n15550008888,Fay,F-1\n"}, sess=http_session(s, "ada", s.admin_pw))
    assert st == 201
    b = browser(s, width=375, height=800)
    try:
        sign_in(b, "ada", s.admin_pw)
        form = open_form(b)
        form.find_element(By.CSS_SELECTOR, 'input[name="recipients"][value="active"]').click()
        days = form.find_element(By.NAME, "active_days")
        assert days.is_displayed() and not form.find_element(By.NAME, "csv").is_displayed()
        params = form.find_elements(By.CSS_SELECTOR, 'input[name="param"]')
        assert len(params) == 2
        # Every control has a label that names it.
        for x in [form.find_element(By.NAME, n) for n in ("name", "number", "template", "active_days", "at")] + params:
            assert form.find_element(By.CSS_SELECTOR, 'label[for="%s"]' % x.get_attribute("id")).text
        params[0].send_keys("{name}")
        params[1].send_keys("C-9")
        # A name in use: the API's sentence, and the field it names marked.
        name = form.find_element(By.NAME, "name")
        name.send_keys("taken")
        click(form, "preview")
        problem = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".wa-problem"), 10)
        assert problem.get_attribute("data-error") == "name_taken"
        assert name.get_attribute("aria-invalid") == "true"
        assert b.d.switch_to.active_element == name
        name.clear()
        name.send_keys("carol")
        click(form, "preview")
        first = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-preview] .wa-first-message"), 10)
        assert first.text == "Hello Carol Example, your order C-9 is ready."
        assert counts(b, "[data-preview]")["queued"] == "1"
        assert s.q("SELECT count(*) AS n FROM campaigns WHERE name = 'carol'")[0]["n"] == 0
        assert no_overflow(b) == []
        b.d.save_screenshot(str(tmp_path / "campaign-preview-375.png"))
        click(form, "create")
        b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".wa-campaign-preview .wa-ok a"), 10).click()
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".wa-campaign[data-campaign-state]"), 10)
        assert no_overflow(b) == []
        b.d.save_screenshot(str(tmp_path / "campaign-page-375.png"))
        assert page_errors(b, 409) == []
    finally:
        b.quit()


def test_a_label_segment_previews_and_creates(s, tmp_path):
    inbound_text(s, "15550009999", "hello", name="Gus Example")
    adm = http_session(s, "ada", s.admin_pw)
    st, _ = call(s, "PATCH", "/conversations/%d" % conversation_id(s, "15550009999"),
                 {"labels": ["vip"]}, sess=adm)
    assert st == 200
    b = browser(s)
    try:
        sign_in(b, "ada", s.admin_pw)
        form = open_form(b)
        form.find_element(By.NAME, "name").send_keys("vips")
        form.find_element(By.CSS_SELECTOR, 'input[name="recipients"][value="label"]').click()
        label = form.find_element(By.NAME, "label")
        assert label.is_displayed() and not form.find_element(By.NAME, "active_days").is_displayed()
        assert [o.text for o in label.find_elements(By.TAG_NAME, "option")] == ["vip"]
        params = form.find_elements(By.CSS_SELECTOR, 'input[name="param"]')
        params[0].send_keys("{name}")
        params[1].send_keys("G-7")
        click(form, "preview")
        first = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "[data-preview] .wa-first-message"), 10)
        assert first.text == "Hello Gus Example, your order G-7 is ready."
        assert counts(b, "[data-preview]")["total"] == "1"
        click(form, "create")
        b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".wa-campaign-preview .wa-ok a"), 10).click()
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".wa-campaign[data-campaign-state]"), 10)
        (row,) = s.q("SELECT source FROM campaigns WHERE name = 'vips'")
        assert json.loads(row["source"]) == {"label": "vip"}
        rs = s.q("SELECT wa_id, params FROM campaign_recipients r JOIN campaigns c "
                 "ON c.id = r.campaign_id WHERE c.name = 'vips'")
        assert [(r["wa_id"], json.loads(r["params"])) for r in rs] == \
            [("15550009999", ["Gus Example", "G-7"])]
        assert "contacts labelled vip" in b.d.find_element(By.CSS_SELECTOR, ".wa-campaign").text
        assert b.console_errors() == []
    finally:
        b.quit()


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_admins_get_the_page(s, tmp_path, role):
    pw = add_user(s, "not-admin-" + role, role)
    b = browser(s)
    try:
        sign_in(b, "not-admin-" + role, pw)
        assert els(b, 'a[data-view="campaigns"]') == []
        b.get("/inbox/#/campaigns")
        refusal = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '[data-page="campaigns"] [role="alert"]'), 10)
        assert refusal.text == "Only admins see campaigns."
        assert els(b, 'form[data-form="new-campaign"]') == []
        b.d.save_screenshot(str(tmp_path / ("campaigns-%s.png" % role)))
        assert b.console_errors() == []
    finally:
        b.quit()
    # The API refuses them too (and answers an admin: not a missing route).
    sess = http_session(s, "not-admin-" + role, pw)
    assert call(s, "GET", "/campaigns", sess=sess)[0] == 403
    assert call(s, "GET", "/campaigns", sess=http_session(s, "ada", s.admin_pw))[0] == 200
