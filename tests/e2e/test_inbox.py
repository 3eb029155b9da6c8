"""The inbox in headless Chromium against the real stack (nginx, responders,
worker, SQLite) and the fake Graph API: signing in and out, the chat list
and an open chat updating live from webhooks, replies and their ticks,
media only for a session, hostile text drawn as text, every message type,
templates for a closed window, search, CSRF, a viewer's read-only view,
and screenshots (desktop and 360 px) in $BUILD_DIR/test-output.

One stack and one signed-in desktop browser for the module; every test
ends with no console error in any browser it used."""
import base64
import hashlib
import json
import os
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from browser import By
from inbox_fixtures import (PNID, add_user, browser, browser_cookie, call, conversation_id,
                            fixture_message, http_session, inbound_text, inbox_stack,
                            new_wamid, open_chat, post_message, post_status, row_when, sign_in,
                            sign_out, wactl, wait_message, wait_row)
from stack import free_port, wait_until

WABA = "1000000001"
NODE = {"display_phone_number": "+1 555-000-1111", "verified_name": "Acme",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
MSGS = "/v23.0/%s/messages" % PNID

ALICE = "15550002222"
SALES = "300400500600700"
WABA_B = "2000000002"


def template(i, name, status="APPROVED", body="Hello {{1}}, your order {{2}} is ready."):
    return {"id": str(990000000 + i), "name": name, "language": "en_US", "status": status,
            "category": "UTILITY", "parameter_format": "POSITIONAL",
            "quality_score": {"score": "GREEN", "date": 1767300000}, "rejected_reason": "NONE",
            "components": [{"type": "BODY", "text": body,
                            "example": {"body_text": [["Ann", "A-1"]]}}]}


@pytest.fixture(scope="module")
def s(graph):
    st = inbox_stack(graph, {"WHATSAPP_ACCESS_TOKEN_SALES": "test-token"})
    try:
        graph.set_number(PNID, NODE)
        graph.set_number(SALES, dict(NODE, display_phone_number="+1 555-000-3333"))
        r = wactl(st, "numbers", "add", PNID, "--waba", WABA, "--label", "main")
        assert r.returncode == 0, r.stderr
        r = wactl(st, "numbers", "add", SALES, "--waba", WABA_B, "--label", "sales",
                  "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES")
        assert r.returncode == 0, r.stderr
        graph.set_templates(WABA, [template(1, "order_ready"),
                                   template(2, "old_offer", status="REJECTED")])
        r = wactl(st, "templates", "sync", "--number", "main")
        assert r.returncode == 0, r.stderr
        st.pw = add_user(st, "ann", "agent", password="correct horse battery")
        st.viewer_pw = add_user(st, "vic", "viewer")
    except Exception:
        st.close()
        raise
    yield st
    graph.set_templates(WABA, None)
    st.close()


@pytest.fixture(scope="module")
def b(s):
    br = browser(s)
    sign_in(br, "ann", s.pw)
    yield br
    br.quit()


@pytest.fixture(autouse=True)
def quiet_console(request):
    """Every test that used the module's browser ends with no console
    error in it."""
    yield
    if "b" in request.fixturenames:
        br = request.getfixturevalue("b")
        assert br.console_errors() == []


def alice(s):
    """Alice's conversation id (she writes first if she has not yet)."""
    if conversation_id(s, ALICE) is None:
        inbound_text(s, ALICE, "first hello", name="Alice Example")
    return conversation_id(s, ALICE)


def sent_of(graph, before, kind, timeout=15):
    """The Graph send requests of type kind made since request number
    before (read receipts and other sends are passed over)."""
    def got():
        return [r for r in graph.requests(MSGS)[before:]
                if (r.get("json") or {}).get("type") == kind]
    return wait_until(got, timeout=timeout, what="a %s send at the fake Graph" % kind)


def js_text(b, css, attr=None):
    """The text (or an attribute) of the first element matching css, read
    in the page at once (a message may be drawn anew at any moment)."""
    return b.d.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return e ? (arguments[1] ? e.getAttribute(arguments[1]) : e.textContent) : null;",
        css, attr)


def els(b, css):
    return b.d.find_elements(By.CSS_SELECTOR, css)


def no_alert(b):
    try:
        b.d.switch_to.alert.dismiss()
        return False
    except NoAlertPresentException:
        return True


def png(w=4, h=3, rgb=(200, 30, 30)):
    """A tiny real PNG."""
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# ------------------------------------------------------------ sign-in

def test_sign_in_refuses_a_wrong_password_then_accepts_the_right_one(s):
    br = browser(s)
    try:
        br.get("/inbox/")
        form = br.wait(lambda d: d.find_element(By.CSS_SELECTOR, "form.signin"))
        # A real form: the fields the issue names, a submit button.
        assert form.get_attribute("method") == "post"
        assert form.get_attribute("action").endswith("/api/whatsapp/session")
        form.find_element(By.NAME, "username").send_keys("ann")
        form.find_element(By.NAME, "password").send_keys("wrong password")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        err = br.wait(lambda d: d.find_element(By.ID, "signin-error").text)
        assert err == "Wrong username or password."
        assert not els(br, "header.top")
        assert browser_cookie(br) is None
        # The 401 of the refused sign-in is Chrome's own network line;
        # nothing else may be logged.
        errs = br.console_errors()
        assert all("/api/whatsapp/session" in e["message"] and "401" in e["message"]
                   for e in errs), errs
        sign_in(br, "ann", s.pw)
        assert br.d.find_element(By.CSS_SELECTOR, "header.top .who-name").text == "ann"
        assert br.d.find_element(By.CSS_SELECTOR, "header.top .role").text == "agent"
        assert browser_cookie(br) is not None
        # A reload keeps the session (GET /session), no sign-in form.
        br.get("/inbox/")
        br.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "header.top .who-name"))
        assert not els(br, "form.signin")
        assert [e for e in br.console_errors()[len(errs):]] == []
    finally:
        br.quit()


def test_page_headers_and_versioned_assets(s):
    st, h, body = s.request("GET", "/inbox/")
    assert st == 200 and h["Cache-Control"] == "no-store"
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert h["Referrer-Policy"] == "same-origin" and h["X-Content-Type-Options"] == "nosniff"
    text = body.decode()
    assert "@VERSION@" not in text and "<script>" not in text and "style=" not in text
    import re
    ver = re.search(r'src="v/([0-9a-f]+)/app.js"', text).group(1)
    st, h, _ = s.request("GET", "/inbox/v/%s/app.js" % ver)
    assert st == 200 and h["Content-Type"] == "text/javascript"
    assert "immutable" in h["Cache-Control"] and "max-age=31536000" in h["Cache-Control"]
    st, h, gz = s.request("GET", "/inbox/v/%s/app.js" % ver, headers={"Accept-Encoding": "gzip"})
    assert st == 200 and h.get("Content-Encoding") == "gzip"
    assert len(gz) < int(s.request("GET", "/inbox/v/%s/app.js" % ver)[1]["Content-Length"]) / 2
    assert s.request("GET", "/inbox/v/%s/../../../schema.sql" % ver)[0] == 404


# ------------------------------------------------------------ live list and chat

def test_webhooks_show_in_the_list_and_the_open_chat_within_2s(s, b):
    inbound_text(s, ALICE, "first hello", name="Alice Example")
    cid = alice(s)
    b.get("/inbox/#/inbox")
    open_chat(b, cid)
    wait_row(b, cid)
    # A new message in the open chat and a new customer in the list,
    # both visible within 2 s of the webhook's 200.
    w1 = inbound_text(s, ALICE, "are you open today?", wait=False)
    el = wait_message(b, w1, timeout=2)
    assert el.text.startswith("are you open today?")
    inbound_text(s, "15550004444", "new customer here", name="Bob Newcomer", wait=False)
    t1 = time.time()
    b.wait(lambda d: conversation_id(s, "15550004444"), timeout=2)
    row = wait_row(b, conversation_id(s, "15550004444"), timeout=2 - (time.time() - t1))
    assert "Bob Newcomer" in row.text and "new customer here" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "1"
    assert "Window open" in row.text and "Bot" in row.text
    # Newest first: Bob's chat is above Alice's.
    ids = row_ids(b)
    assert ids.index(conversation_id(s, "15550004444")) < ids.index(cid)
    # Opening the chat read it: Alice's row has no badge, the API agrees.
    b.wait(lambda d: not d.find_elements(
        By.CSS_SELECTOR, '[data-conversation-id="%d"] .badge' % cid), timeout=3)
    wait_until(lambda: s.q("SELECT unread_count FROM conversations WHERE id = ?", cid)[0]
               ["unread_count"] == 0, timeout=5, what="mark-read")


def row_ids(b):
    """The chat list's conversation ids, top to bottom (read at once)."""
    return b.d.execute_script("return [...document.querySelectorAll('.chats > li')]"
                              ".map((e) => Number(e.dataset.conversationId))")


def shown_ids(b):
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".chats[aria-busy=false]"))
    return set(row_ids(b))


def test_list_filters_and_columns(s, b):
    from selenium.webdriver.support.ui import Select
    sess = http_session(s, "ann", s.pw)
    inbound_text(s, "15550003001", "mine and vip", name="Fay One")
    inbound_text(s, "15550003002", "waiting for someone", name="Fay Two")
    post_message(s, {"type": "text", "text": {"body": "to sales"}}, wa_id="15550003003",
                 name="Fay Three", pnid=SALES)
    f1, f2 = conversation_id(s, "15550003001"), conversation_id(s, "15550003002")
    f3 = conversation_id(s, "15550003003", pnid=SALES)
    assert call(s, "POST", "/labels", {"name": "vip", "color": "#aa0000"}, sess=sess)[0] in (200, 201)
    st, body = call(s, "PATCH", "/conversations/%d" % f1,
                    {"assignee": "person:ann", "labels": ["vip"]}, sess=sess)
    assert st == 200, body
    st, body = call(s, "PATCH", "/conversations/%d" % f2, {"assignee": "person"}, sess=sess)
    assert st == 200, body
    assert call(s, "POST", "/mark-read", {"conversation_id": f1}, sess=sess)[0] == 200
    b.get("/inbox/#/inbox")
    b.d.refresh()         # the labels and numbers as they are now
    # Columns: name, preview, assignee's name, labels, number, window.
    row_when(b, f1, lambda r: "Fay One" in r.text and "mine and vip" in r.text
             and "ann" in r.text and r.find_element(By.CSS_SELECTOR, ".label").text == "vip"
             and "main" in r.find_element(By.CSS_SELECTOR, ".num").text)
    row_when(b, f3, lambda r: "sales" in r.find_element(By.CSS_SELECTOR, ".num").text)
    row_when(b, f2, lambda r: "Waiting for a person" in r.text)
    mine = b.d.find_element(By.ID, "f-mine")
    mine.click()
    b.wait(lambda d: shown_ids(b) == {f1})
    mine.click()
    state = Select(b.d.find_element(By.ID, "f-state"))
    state.select_by_value("unassigned")
    b.wait(lambda d: f2 in shown_ids(b) and not {f1, f3} & shown_ids(b))
    state.select_by_value("bot")
    b.wait(lambda d: f3 in shown_ids(b) and not {f1, f2} & shown_ids(b))
    state.select_by_value("person")
    b.wait(lambda d: f1 in shown_ids(b) and f3 not in shown_ids(b))
    state.select_by_value("")
    label = Select(b.d.find_element(By.ID, "f-label"))
    label.select_by_value("vip")
    b.wait(lambda d: shown_ids(b) == {f1})
    label.select_by_value("")
    b.d.find_element(By.ID, "f-unread").click()
    b.wait(lambda d: f2 in shown_ids(b) and f1 not in shown_ids(b))
    b.d.find_element(By.ID, "f-unread").click()
    num = Select(b.d.find_element(By.ID, "number-filter"))
    num.select_by_value(SALES)
    b.wait(lambda d: shown_ids(b) == {f3})
    num.select_by_value("")
    b.wait(lambda d: {f1, f2, f3} <= shown_ids(b))


def test_paging_stays_stable_while_chats_move(s, b):
    """60 more chats: the first page, then a chat from the second page
    and a new one get messages (they move to the top), then "More
    chats": every chat is listed once, none lost, none twice."""
    now = int(time.time()) - 7200
    doc = {"object": "whatsapp_business_account", "entry": [{
        "id": "100200300400500", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PNID},
            "contacts": [{"profile": {"name": "Pager %02d" % i}, "wa_id": "1555777%04d" % i}
                         for i in range(60)],
            "messages": [{"from": "1555777%04d" % i, "id": new_wamid("page"), "type": "text",
                          "timestamp": str(now + i), "text": {"body": "page me %d" % i}}
                         for i in range(60)]}}]}]}
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()
    b.get("/inbox/#/inbox")
    b.d.refresh()
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chats > li")) == 50)
    total = s.q("SELECT count(*) n FROM conversations")[0]["n"]
    shown = shown_ids(b)
    moved = [c for c in (conversation_id(s, "1555777%04d" % i) for i in range(60)) if c not in shown][0]
    mover = s.q("SELECT c.wa_id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                "WHERE v.id = ?", moved)[0]["wa_id"]
    inbound_text(s, mover, "I moved up")
    inbound_text(s, "15557779999", "brand new chat", name="Pager New")
    new = conversation_id(s, "15557779999")
    b.wait(lambda d: {moved, new} <= shown_ids(b), timeout=3)
    ids = row_ids(b)
    assert ids[:2] == [new, moved]
    while els(b, "button.more:not([hidden])"):
        n = len(ids)
        b.d.find_element(By.CSS_SELECTOR, "button.more").click()
        b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chats > li")) > n or
               not d.find_elements(By.CSS_SELECTOR, "button.more:not([hidden])"))
        ids = row_ids(b)
    assert len(ids) == len(set(ids)) == total + 1


def test_reply_typed_and_sent_reaches_graph_and_shows_ticks(s, b, graph):
    cid = alice(s)
    open_chat(b, cid)
    before = len(graph.requests(MSGS))
    ta = b.d.find_element(By.CSS_SELECTOR, "textarea.compose-text")
    assert ta.get_attribute("aria-label") == "Message"
    assert b.d.find_element(By.CSS_SELECTOR, "button.send").text == "Send"
    ta.send_keys("Yes, open until 6.")
    ta.send_keys(Keys.SHIFT, Keys.ENTER)
    ta.send_keys("See you *soon*")
    ta.send_keys(Keys.ENTER)
    sent = sent_of(graph, before, "text")
    assert len(sent) == 1
    j = sent[0]["json"]
    assert j["to"] == ALICE and j["text"]["body"] == "Yes, open until 6.\nSee you *soon*"
    b.wait(lambda d: ta.get_attribute("value") == "")
    wamid = sent[0]["reply"]["messages"][0]["id"]
    el = wait_message(b, wamid, timeout=5)
    assert el.find_element(By.CSS_SELECTOR, "strong").text == "soon"
    assert "ann" in el.find_element(By.CSS_SELECTOR, ".by").text
    for st in ("sent", "delivered", "read"):
        post_status(s, wamid, st, ALICE)
        b.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, '[data-wamid="%s"] .tick-%s' % (wamid, st)), timeout=3)
    assert js_text(b, '[data-wamid="%s"] .tick' % wamid, "title") == "Read"
    # The outbox row keeps who sent it.
    row = s.q("SELECT o.user_id, u.name FROM outbox o JOIN users u ON u.id = o.user_id "
              "WHERE o.wamid = ?", wamid)
    assert row and row[0]["name"] == "ann"


def test_failed_send_shows_metas_code_and_sentence(s, b, graph):
    cid = alice(s)
    open_chat(b, cid)
    graph.inject(code=131009, match={"text.body": "this one fails"})
    ta = b.d.find_element(By.CSS_SELECTOR, "textarea.compose-text")
    ta.send_keys("this one fails" + Keys.ENTER)
    el = b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, ".msg.out.failed, .msg.pending.failed")
                           or [None])[0], timeout=15)
    assert "131009" in el.text
    # Meta's refusal has no message row: after a reload the chat still
    # shows it, from the outbox.
    open_chat(b, cid)
    b.d.refresh()
    el = b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, ".msg.pending.failed") or [None])[0],
                timeout=5)
    assert "131009" in el.text and "Not sent" in el.text
    # Where it was queued: after the messages before it, with its time.
    before = b.d.execute_script("return arguments[0].previousElementSibling.dataset.wamid", el)
    assert before == s.q("SELECT wamid FROM messages WHERE conversation_id = ? "
                         "ORDER BY timestamp DESC, id DESC LIMIT 1", cid)[0]["wamid"]
    assert b.d.execute_script("return new Date().toLocaleDateString()") in \
        el.find_element(By.CSS_SELECTOR, "time").get_attribute("title")


def test_reply_to_a_message_and_react_from_its_menu(s, b, graph):
    cid = alice(s)
    w = inbound_text(s, ALICE, "can I change my order?")
    open_chat(b, cid)
    el = wait_message(b, w)
    before = len(graph.requests(MSGS))
    el.find_element(By.CSS_SELECTOR, ".msg-menu").click()
    menu = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".menu"))
    # The menu opens with its first item focused; Escape closes it.
    assert b.d.switch_to.active_element.text == "Reply"
    b.d.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, ".menu"))
    el.find_element(By.CSS_SELECTOR, ".msg-menu").click()
    menu = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".menu"))
    menu.find_element(By.XPATH, ".//button[text()='Reply']").click()
    bar = b.d.find_element(By.CSS_SELECTOR, ".reply-bar")
    assert "can I change my order?" in bar.text
    ta = b.d.switch_to.active_element
    assert ta.get_attribute("id") == "compose-text"
    ta.send_keys("Yes, until it ships." + Keys.ENTER)
    r = sent_of(graph, before, "text")[0]
    j = r["json"]
    assert j["context"] == {"message_id": w} and j["text"]["body"] == "Yes, until it ships."
    wamid = r["reply"]["messages"][0]["id"]
    q = wait_message(b, wamid).find_element(By.CSS_SELECTOR, ".quote")
    assert "can I change my order?" in q.text
    # React with the second emoji of the picker.
    el = wait_message(b, w)
    el.find_element(By.CSS_SELECTOR, ".msg-menu").click()
    pick = b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".menu .emoji"))
    emoji = pick[1].text
    pick[1].click()
    j = sent_of(graph, before, "reaction")[0]["json"]
    assert j["reaction"] == {"message_id": w, "emoji": emoji}
    # Our reaction shows on the message once Meta took it.
    b.wait(lambda d: emoji in (js_text(b, '[data-wamid="%s"] .reactions' % w) or ""), timeout=5)


def test_attach_checks_limits_then_uploads_and_sends(s, b, graph, tmp_path):
    cid = alice(s)
    open_chat(b, cid)
    big = tmp_path / "huge.png"
    big.write_bytes(png() + b"\0" * (5 * 1024 * 1024))
    bad = tmp_path / "run.exe"
    bad.write_bytes(b"MZ" + b"\0" * 100)
    ok = tmp_path / "photo.png"
    ok.write_bytes(png())
    before_up = s.q("SELECT count(*) n FROM uploads")[0]["n"]
    inp = b.d.find_element(By.ID, "compose-file")
    inp.send_keys(str(big))
    err = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".composer .error").text)
    assert "huge.png" in err and "5.0 MB" in err
    inp.send_keys(str(bad))
    b.wait(lambda d: "does not take" in d.find_element(By.CSS_SELECTOR, ".composer .error").text)
    assert s.q("SELECT count(*) n FROM uploads")[0]["n"] == before_up     # nothing uploaded
    before = len(graph.requests(MSGS))
    b.d.find_element(By.ID, "compose-text").send_keys("the part")
    inp.send_keys(str(ok))
    j = sent_of(graph, before, "image")[0]["json"]
    assert j["to"] == ALICE and j["image"]["caption"] == "the part" and j["image"]["id"]
    assert b.d.find_element(By.CSS_SELECTOR, ".composer .error").text == ""
    assert b.d.find_element(By.ID, "compose-text").get_attribute("value") == ""


def test_quick_replies_insert_with_slash(s, b):
    sess = http_session(s, "ann", s.pw)
    st, body = call(s, "POST", "/quick-replies", {"shortcut": "hours", "text":
                                                   "We are open 9-18, Monday to Saturday."},
                    sess=sess)
    assert st == 201, body
    open_chat(b, alice(s))
    ta = b.d.find_element(By.ID, "compose-text")
    ta.send_keys("/hou")
    opt = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#quick-list [role=option]"))
    assert "/hours" in opt.text
    ta.send_keys(Keys.ENTER)
    assert ta.get_attribute("value") == "We are open 9-18, Monday to Saturday."
    assert not b.d.find_element(By.ID, "quick-list").is_displayed()
    ta.clear()


def test_older_messages_load_on_scroll_up(s, b):
    who = "15550001212"
    first = None
    for i in range(60):
        w = post_message(s, {"type": "text", "text": {"body": "numbered %02d" % i}}, wa_id=who,
                         name="Paging Pat", wait=False, ts=int(time.time()) - 3600 + i)
        first = first or w
    s.wait_applied()
    cid = conversation_id(s, who)
    open_chat(b, cid)
    assert len(els(b, ".messages .msg")) == 50
    assert not els(b, '[data-wamid="%s"]' % first)
    b.d.execute_script("document.querySelector('.messages').scrollTop = 0")
    el = wait_message(b, first)
    assert el.text.startswith("numbered 00")
    assert len(els(b, ".messages .msg")) == 60


def test_image_and_document_shown_and_served_only_with_a_session(s, b, graph):
    img, doc = png(), b"%PDF-1.4\n% test invoice\n" + os.urandom(300)
    graph.add_media("7700001", img, "image/png", phone_number_id=PNID)
    graph.add_media("7700002", doc, "application/pdf", phone_number_id=PNID, filename="invoice.pdf")
    carol = "15550005555"
    wi = post_message(s, {"type": "image", "image": {
        "id": "7700001", "mime_type": "image/png", "caption": "my _broken_ part",
        "sha256": base64.b64encode(hashlib.sha256(img).digest()).decode()}}, wa_id=carol, name="Carol")
    wd = post_message(s, {"type": "document", "document": {
        "id": "7700002", "mime_type": "application/pdf", "filename": "invoice.pdf",
        "sha256": base64.b64encode(hashlib.sha256(doc).digest()).decode()}}, wa_id=carol, name="Carol")
    wait_until(lambda: len(s.q("SELECT 1 FROM media WHERE state = 'stored' AND media_id IN "
                               "('7700001', '7700002')")) == 2, timeout=15, what="media stored")
    cid = conversation_id(s, carol)
    open_chat(b, cid)
    im = wait_message(b, wi).find_element(By.CSS_SELECTOR, "img.image")
    b.wait(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", im))
    assert b.d.execute_script("return arguments[0].naturalWidth", im) == 4
    cap = wait_message(b, wi).find_element(By.CSS_SELECTOR, ".caption em")
    assert cap.text == "broken"
    d = wait_message(b, wd)
    assert "invoice.pdf" in d.find_element(By.CSS_SELECTOR, ".doc-name").text
    link = d.find_element(By.CSS_SELECTOR, "a.download")
    assert link.get_attribute("download") == "invoice.pdf"
    href = link.get_attribute("href")
    path = href.split(str(s.port), 1)[1]
    # The browser (its cookie) gets the bytes; no cookie gets 401.
    got = b.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async (r) => done([r.status, (await r.arrayBuffer()).byteLength,
            r.headers.get('content-type')]));""", path)
    assert got[0] == 200 and got[1] == len(doc)
    assert got[2] != "text/html"
    st, _, body = s.request("GET", path)
    assert st == 401 and json.loads(body)["error"]["code"]
    st, _, body = s.request("GET", path, headers={"Cookie": "wa_session=forged" + "0" * 40})
    assert st == 401
    sess = http_session(s, "ann", s.pw)
    st, h, body = s.request("GET", path, headers={"Cookie": sess["cookie"]})
    assert st == 200 and body == doc
    assert h["Content-Disposition"].startswith("attachment") and "invoice.pdf" in h["Content-Disposition"]
    st, _, body = s.request("GET", "/api/whatsapp/messages/%s/media" % wait_message(b, wi)
                            .get_attribute("data-id"), headers={"Cookie": sess["cookie"]})
    assert st == 200 and body == img


HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_LINKS = ("javascript:alert(1) and [x](javascript:alert(2)) and "
                 "jAvAsCrIpT:alert(3) but https://example.com/a_b_c?q=1. is fine")


def test_hostile_text_renders_as_text_and_runs_nothing(s, b):
    mal = "15550006666"
    w1 = inbound_text(s, mal, HOSTILE_IMG, name="<b>Mallory</b>")
    w2 = inbound_text(s, mal, HOSTILE_LINKS, name="<b>Mallory</b>")
    w3 = inbound_text(s, mal, "*bold* _italic_ ~gone~ ```x = *not bold*``` "
                      "\u05e9\u05dc\u05d5\u05dd \U0001F600", name="<b>Mallory</b>")
    cid = conversation_id(s, mal)
    open_chat(b, cid)
    e1, e2, e3 = wait_message(b, w1), wait_message(b, w2), wait_message(b, w3)
    assert e1.find_element(By.CSS_SELECTOR, ".text").text == HOSTILE_IMG
    assert not e1.find_elements(By.CSS_SELECTOR, "img")
    assert not els(b, "img[src=x], img[onerror]")
    assert e2.find_element(By.CSS_SELECTOR, ".text").text == HOSTILE_LINKS
    links = e2.find_elements(By.CSS_SELECTOR, "a")
    assert [a.get_attribute("href") for a in links] == ["https://example.com/a_b_c?q=1"]
    assert links[0].get_attribute("rel") == "noopener noreferrer"
    assert links[0].get_attribute("target") == "_blank"
    assert b.d.execute_script(
        "return [...document.querySelectorAll('a[href]')].filter("
        "(a) => !/^(https?:|#)/.test(a.getAttribute('href')) && "
        "!a.getAttribute('href').startsWith('/')).length") == 0
    # The name is text too.
    assert b.d.find_element(By.CSS_SELECTOR, ".chat-name").text == "<b>Mallory</b>"
    assert [x.text for x in e3.find_elements(By.CSS_SELECTOR, "strong")] == ["bold"]
    assert e3.find_element(By.CSS_SELECTOR, "em").text == "italic"
    assert e3.find_element(By.CSS_SELECTOR, "s").text == "gone"
    assert e3.find_element(By.CSS_SELECTOR, "code.mono").text == "x = *not bold*"
    assert e3.find_element(By.CSS_SELECTOR, ".text").get_attribute("dir") == "auto"
    assert no_alert(b)


def test_every_message_type_is_drawn(s, b):
    dan = "15550007777"
    base = post_message(s, {"type": "text", "text": {"body": "Are you open on Saturday?"}},
                        wa_id=dan, name="Dan")
    # Our earlier outbound message the customer answers and reacts to.
    loc = post_message(s, fixture_message("location.json") | {"id": new_wamid()}, wa_id=dan)
    rep = post_message(s, {"type": "text", "text": {"body": "and Sunday?"},
                           "context": {"from": dan, "id": base}}, wa_id=dan)
    rea = post_message(s, {"type": "reaction", "reaction": {"message_id": base, "emoji": "\u2764\ufe0f"}},
                       wa_id=dan)
    lst = post_message(s, fixture_message("interactive_list_reply.json") | {"id": new_wamid()},
                       wa_id=dan)
    btn = post_message(s, fixture_message("button_template_reply.json") | {"id": new_wamid()},
                       wa_id=dan)
    con = post_message(s, fixture_message("contacts.json") | {"id": new_wamid()}, wa_id=dan)
    uns = post_message(s, fixture_message("unsupported.json") | {"id": new_wamid()}, wa_id=dan)
    edt = post_message(s, {"type": "text", "text": {"body": "typo heer"}}, wa_id=dan)
    post_message(s, {"type": "edit", "edit": {"original_message_id": edt, "message": {
        "type": "text", "text": {"body": "typo here"}}}}, wa_id=dan)
    rev = post_message(s, {"type": "text", "text": {"body": "oops, wrong chat"}}, wa_id=dan)
    post_message(s, {"type": "revoke", "revoke": {"original_message_id": rev}}, wa_id=dan)
    cid = conversation_id(s, dan)
    open_chat(b, cid)
    # Location: name, address, coordinates, a map link from the numbers.
    e = wait_message(b, loc)
    assert "Example Hardware Store" in e.text and "12 Sample Street" in e.text
    assert "52.520008, 13.404954" in e.text
    a = e.find_element(By.CSS_SELECTOR, ".location a")
    assert a.get_attribute("href") == ("https://www.openstreetmap.org/?mlat=52.520008&mlon=13.404954"
                                       "#map=16/52.520008/13.404954")
    # The reaction sits on the message it reacts to, not in a bubble.
    assert not els(b, '[data-wamid="%s"]' % rea)
    r = wait_message(b, base).find_element(By.CSS_SELECTOR, ".reactions")
    assert "\u2764" in r.text
    # The reply quotes the message.
    q = wait_message(b, rep).find_element(By.CSS_SELECTOR, ".quote")
    assert "Are you open on Saturday?" in q.text
    e = wait_message(b, lst)
    assert "Chose" in e.text and "Express delivery" in e.text
    e = wait_message(b, btn)
    assert "Tapped" in e.text and "Track my order" in e.text
    assert "Dan Placeholder" in wait_message(b, con).text
    e = wait_message(b, uns)
    assert "not supported" in e.text and "131051" in e.text
    e = wait_message(b, edt)
    assert e.find_element(By.CSS_SELECTOR, ".text").text == "typo here"
    ed = e.find_element(By.CSS_SELECTOR, ".edited")
    assert "typo heer" in ed.get_attribute("title")
    e = wait_message(b, rev)
    assert "deleted" in e.text and "wrong chat" not in e.text
    b.screenshot("chat-types-desktop")


def test_closed_window_offers_templates_and_sends_one(s, b, graph):
    old = "15550008888"
    post_message(s, {"type": "text", "text": {"body": "hello from last week"}}, wa_id=old,
                 name="Olga", ts=int(time.time()) - 3 * 86400)
    cid = conversation_id(s, old)
    open_chat(b, cid)
    ta = b.d.find_element(By.CSS_SELECTOR, "textarea.compose-text")
    assert not ta.is_enabled()
    assert not b.d.find_element(By.CSS_SELECTOR, "button.send").is_enabled()
    assert "24-hour window is closed" in b.d.find_element(By.ID, "compose-reason").text
    sel = b.wait(lambda d: d.find_element(By.ID, "tpl-pick"))
    opts = [o.text for o in sel.find_elements(By.TAG_NAME, "option")][1:]
    assert opts == ["order_ready (en_US)"]          # the rejected one is not offered
    before = len(graph.requests(MSGS))
    from selenium.webdriver.support.ui import Select
    Select(sel).select_by_visible_text("order_ready (en_US)")
    b.d.find_element(By.ID, "tpl-param-1").send_keys("Olga")
    b.d.find_element(By.ID, "tpl-param-2").send_keys("A-77")
    b.d.find_element(By.CSS_SELECTOR, ".tpl-form button[type=submit]").click()
    j = sent_of(graph, before, "template")[0]["json"]
    assert j["to"] == old and j["template"]["name"] == "order_ready"
    assert [p["text"] for p in j["template"]["components"][0]["parameters"]] == ["Olga", "A-77"]


def test_search_finds_a_message_and_opens_the_chat_there(s, b):
    w = inbound_text(s, "15550009999", "where is my parcel zebrafinch", name="Zed")
    b.get("/inbox/#/inbox")
    q = b.wait(lambda d: d.find_element(By.ID, "chat-search"))
    q.clear()
    q.send_keys("zebrafinch")
    hit = b.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, ".found .hit a") or [None])[0], timeout=5)
    assert "zebrafinch" in hit.text
    hit.click()
    el = wait_message(b, w)
    b.wait(lambda d: "focus-hit" in el.get_attribute("class"))
    # The chat search finds Zed by name, alone.
    q = b.d.find_element(By.ID, "chat-search")
    q.clear()
    q.send_keys("Zed")
    zed = str(conversation_id(s, "15550009999"))
    b.wait(lambda d: row_ids(b) == [int(zed)])
    q.send_keys(Keys.ESCAPE)
    b.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chats > li")) > 1)


def test_viewer_reads_but_cannot_send(s):
    br = browser(s)
    try:
        sign_in(br, "vic", s.viewer_pw)
        open_chat(br, alice(s))
        assert not els(br, "textarea.compose-text")
        assert "viewers cannot reply" in br.d.find_element(By.CSS_SELECTOR, ".readonly-note").text
        assert not els(br, ".msg-menu")
        assert br.console_errors() == []
    finally:
        br.quit()


class _Attacker(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *a):
        pass


def test_cross_site_form_post_is_refused(s, graph):
    """Another site's form posting to /send with a signed-in browser: the
    cookie (SameSite=Strict) and the missing CSRF header each refuse it."""
    port = free_port()
    body_name = '{"to":"%s","type":"text","text":{"body":"csrf attack","x":"' % ALICE
    _Attacker.page = ('<!doctype html><form method=post enctype="text/plain" '
                      'action="http://127.0.0.1:%d/api/whatsapp/send">'
                      '<input type=hidden name=\'%s\' value=\'"}}\'>'
                      '<button id=go>win a prize</button></form>' % (s.port, body_name)).encode()
    # Threads: Chrome's spare preconnections must not block the page.
    srv = ThreadingHTTPServer(("127.0.0.1", port), _Attacker)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    br = browser(s)
    try:
        sign_in(br, "ann", s.pw)
        before = len(graph.requests(MSGS))
        # Same site on another port (the cookie goes, the CSRF header
        # does not), then another site (no cookie at all).
        for host in ("127.0.0.1", "localhost"):
            br.d.get("http://%s:%d/" % (host, port))
            br.d.find_element(By.ID, "go").click()
            br.wait(lambda d: "/api/whatsapp/send" in d.current_url)
            err = json.loads(br.d.find_element(By.TAG_NAME, "body").text)["error"]
            assert err["code"] == ("csrf_failed" if host == "127.0.0.1" else "unauthorized"), err
        assert s.q("SELECT count(*) n FROM outbox WHERE body LIKE '%csrf attack%'")[0]["n"] == 0
        assert len(graph.requests(MSGS)) == before
        # The inbox itself still works in that browser.
        br.get("/inbox/")
        br.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "header.top .who-name"))
        # Only the refused POSTs (and the favicon their JSON error pages
        # ask for) are logged, by Chrome; the inbox logs nothing.
        errs = br.console_errors()
        assert all(e["message"].split(" ", 1)[0].endswith(("/api/whatsapp/send", "/favicon.ico"))
                   for e in errs), errs
    finally:
        br.quit()
        srv.shutdown()
        srv.server_close()


def test_screenshots_desktop_and_phone(s, b):
    cid = alice(s)
    b.get("/inbox/#/inbox")
    wait_row(b, cid)
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".chats[aria-busy=false]"))
    b.screenshot("chat-list-desktop")
    open_chat(b, cid)
    b.screenshot("chat-desktop")
    ph = browser(s, width=360, height=740)
    try:
        sign_in(ph, "ann", s.pw)
        ph.get("/inbox/#/inbox")
        wait_row(ph, cid)
        ph.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".chats[aria-busy=false]"))
        # One column: the list fills the width, no chat pane beside it.
        assert ph.d.execute_script("return document.documentElement.scrollWidth") <= 360
        assert not ph.d.find_element(By.CSS_SELECTOR, ".chat-pane").is_displayed()
        ph.screenshot("chat-list-360")
        wait_row(ph, cid).find_element(By.TAG_NAME, "a").click()
        ph.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, '.chat[data-conversation-id="%d"] .messages[aria-busy=false]' % cid))
        assert not ph.d.find_element(By.CSS_SELECTOR, ".list-pane").is_displayed()
        back = ph.d.find_element(By.CSS_SELECTOR, "a.back")
        assert back.is_displayed() and back.get_attribute("aria-label")
        assert ph.d.execute_script("return document.documentElement.scrollWidth") <= 360
        ph.screenshot("chat-360")
        back.click()
        ph.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".list-pane").is_displayed())
        assert ph.console_errors() == []
    finally:
        ph.quit()


def test_keyboard_only_and_labelled_controls(s, b):
    cid = alice(s)
    open_chat(b, cid)
    # Every control has a name a screen reader reads.
    unnamed = b.d.execute_script("""
        return [...document.querySelectorAll('button, input, select, textarea, a[href]')]
          .filter((e) => e.offsetParent !== null && e.type !== 'hidden')
          .filter((e) => !(e.getAttribute('aria-label') || (e.labels && e.labels.length) ||
                           e.textContent.trim() || e.getAttribute('title')))
          .map((e) => e.outerHTML.slice(0, 80));""")
    assert unnamed == []
    # Tab reaches the search box and a chat row; Enter opens it.
    b.get("/inbox/#/inbox")
    wait_row(b, cid)
    b.d.execute_script("document.querySelector('a.brand').focus()")
    seen = []
    for _ in range(60):
        ActionChains(b.d).send_keys(Keys.TAB).perform()
        a = b.d.switch_to.active_element
        seen.append(a.get_attribute("id") or a.get_attribute("href") or a.tag_name)
        if (a.get_attribute("href") or "").endswith("#/inbox/%d" % cid):
            break
    assert "chat-search" in seen
    a = b.d.switch_to.active_element
    assert (a.get_attribute("href") or "").endswith("#/inbox/%d" % cid), seen
    # The focused row has a visible focus ring.
    assert b.d.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle") != "none"
    a.send_keys(Keys.ENTER)
    b.wait(lambda d: d.find_elements(
        By.CSS_SELECTOR, '.chat[data-conversation-id="%d"] .messages[aria-busy=false]' % cid))


def test_a_disabled_person_is_sent_to_the_sign_in_form(s):
    """wactl user disable revokes the sessions: the open page's next poll
    gets 401 and the page asks to sign in again, saying why."""
    pw = add_user(s, "dora", "agent")
    br = browser(s)
    try:
        sign_in(br, "dora", pw)
        r = wactl(s, "user", "disable", "dora")
        assert r.returncode == 0, r.stderr
        note = br.wait(lambda d: (d.find_elements(By.CSS_SELECTOR, "form.signin .note") or [None])[0],
                       timeout=5)
        assert note.text == "Your session has ended; sign in again."
        assert not els(br, "header.top")
        # Only Chrome's line for the refused poll.
        errs = br.console_errors()
        assert errs and all("401" in e["message"] and "/api/whatsapp/" in e["message"]
                            for e in errs), errs
    finally:
        br.quit()


def test_sign_out_invalidates_the_cookie(s):
    br = browser(s)
    try:
        sign_in(br, "ann", s.pw)
        name, value = browser_cookie(br)
        cookie = "%s=%s" % (name, value)
        st, _, _ = s.request("GET", "/api/whatsapp/chats", headers={"Cookie": cookie})
        assert st == 200
        sign_out(br)
        assert browser_cookie(br) is None
        st, _, body = s.request("GET", "/api/whatsapp/chats", headers={"Cookie": cookie})
        assert st == 401 and json.loads(body)["error"]["code"] == "unauthorized"
        # Reloading shows the sign-in form, with no console error.
        br.get("/inbox/")
        br.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "form.signin"))
        assert br.console_errors() == []
    finally:
        br.quit()
