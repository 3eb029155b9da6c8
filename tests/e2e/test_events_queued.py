"""Event webhooks (issue 16): each event is queued, once, as a delivery
row in the transaction of its cause, through the real stack (nginx,
responders, worker, SQLite file, fake Graph API): inbound messages,
edits, statuses, sends Meta accepted or refused, opt-outs and opt-ins,
assignments, number quality and template status.  Nothing is queued for
a hook that is paused, subscribed to other types or to another number;
Meta's redelivery queues nothing twice; a rolled-back apply leaves no
delivery.  The hooks' URLs are a closed loopback port."""
import json
import time

import pytest

import inbox_fixtures as fx
from fake_graph import FakeGraph
from people import API, new_key
from stack import fixture, started, wait_until

DEFAULT = "200300400500600"
SALES = "110220330440550"
WABA = "100200300400500"
HOOK_URL = "http://127.0.0.1:9/hook"


def call(s, method, path, body=None):
    h = {"Authorization": "Bearer " + s.key}
    if body is not None:
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    st, _, raw = s.request(method, API + path, body, h)
    return st, (json.loads(raw) if raw else None)


def hook(s, events, number=None, paused=False):
    body = {"url": HOOK_URL, "events": events}
    if number:
        body["number"] = number
    st, row = call(s, "POST", "/hooks", body)
    assert st == 201, row
    if paused:
        assert call(s, "PATCH", "/hooks/%d" % row["id"], {"state": "paused"})[0] == 200
    return row["id"]


@pytest.fixture(scope="module")
def es():
    g = FakeGraph(token="test-token")
    s = started(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000",
                           "WHATSAPP_GRAPH_URL": g.url, "WA_HOOKS_ALLOW_PRIVATE": "1"})
    try:
        s.graph = g
        s.key = new_key(s, "events")
        with s.db() as c:
            c.execute("UPDATE numbers SET waba_id = ?, display_phone_number = ?, "
                      "quality_rating = 'GREEN' WHERE phone_number_id = ?",
                      (WABA, "+1 555-000-1111", DEFAULT))
            c.execute("INSERT INTO numbers (phone_number_id, waba_id, display_phone_number, "
                      "verified_name, label, token_env, quality_rating, created_at) VALUES "
                      "(?, '700800900100200', '+1 555-010-2222', 'Acme Sales', 'sales', "
                      "'WHATSAPP_ACCESS_TOKEN_SALES', 'GREEN', 2)", (SALES,))
        s.all = hook(s, ["*"], number=DEFAULT)
        s.tmpl = hook(s, ["template.status"])
        s.other = hook(s, ["*"], number=SALES)
        s.paused = hook(s, ["*"], paused=True)
    except Exception:
        s.close()
        g.close()
        raise
    yield s
    s.close()
    g.close()


def events(s, hook_id, type_, **match):
    """The bodies (parsed) of hook_id's deliveries of type_ whose data
    has every member of match."""
    out = []
    for r in s.q("SELECT body, type, event_id, conversation_id, phone_number_id FROM "
                 "event_deliveries WHERE hook_id = ? AND type = ? ORDER BY id", hook_id, type_):
        b = json.loads(r["body"])
        assert b["type"] == r["type"] and b["id"] == r["event_id"]
        if all(b["data"].get(k) == v for k, v in match.items()):
            b["_conversation_id"] = r["conversation_id"]
            out.append(b)
    return out


def none_elsewhere(s):
    """Neither the paused hook nor the other number's hook got anything;
    the template hook got only template events."""
    assert s.q("SELECT count(*) n FROM event_deliveries WHERE hook_id IN (?, ?)",
               s.other, s.paused)[0]["n"] == 0
    assert s.q("SELECT count(*) n FROM event_deliveries WHERE hook_id = ? AND "
               "type <> 'template.status'", s.tmpl)[0]["n"] == 0


def test_message_received_once_even_when_meta_redelivers(es):
    wamid = fx.new_wamid()
    msg = {"type": "text", "text": {"body": "Do you ship to Lisbon?"}, "id": wamid}
    fx.post_message(es, msg, wa_id="15550003001", name="Rita")
    got = events(es, es.all, "message.received", wamid=wamid)
    assert len(got) == 1
    ev = got[0]
    conv = fx.conversation_id(es, "15550003001")
    mid = es.q("SELECT id FROM messages WHERE wamid = ?", wamid)[0]["id"]
    assert ev["id"].startswith("evt_") and len(ev["id"]) == 36
    assert ev["number"] == DEFAULT and abs(ev["created_at"] - time.time()) < 120
    d = ev["data"]
    assert d == {"message_id": mid, "wamid": wamid, "conversation_id": conv,
                 "from": "15550003001", "name": "Rita", "type": "text",
                 "text": "Do you ship to Lisbon?", "media_id": None,
                 "timestamp": d["timestamp"]}
    assert ev["_conversation_id"] == conv
    # Meta's retry of the same message: a duplicate, no second event.
    fx.post_message(es, msg, wa_id="15550003001", name="Rita")
    assert len(events(es, es.all, "message.received", wamid=wamid)) == 1
    none_elsewhere(es)


def test_opt_out_and_in(es):
    fx.inbound_text(es, "15550003002", "STOP")
    got = events(es, es.all, "contact.opted_out", wa_id="15550003002")
    assert [e["data"] for e in got] == [{"wa_id": "15550003002", "keyword": "STOP"}]
    fx.inbound_text(es, "15550003002", "START")
    got = events(es, es.all, "contact.opted_in", wa_id="15550003002")
    assert [e["data"] for e in got] == [{"wa_id": "15550003002", "keyword": "START"}]
    none_elsewhere(es)


def test_message_edited(es):
    orig = fx.inbound_text(es, "15550003003", "See you at 5")
    edit = {"type": "edit", "edit": {"original_message_id": orig, "message": {
        "type": "text", "text": {"body": "See you at 6"}}}}
    fx.post_message(es, edit, wa_id="15550003003")
    got = events(es, es.all, "message.edited", wamid=orig)
    assert len(got) == 1
    mid = es.q("SELECT id FROM messages WHERE wamid = ?", orig)[0]["id"]
    d = got[0]["data"]
    assert d["message_id"] == mid and d["text"] == "See you at 6" and d["revoked"] is False
    assert isinstance(d["edited_at"], int)
    assert got[0]["_conversation_id"] == fx.conversation_id(es, "15550003003")


def wait_outbox(s, oid, state):
    return wait_until(lambda: (s.q("SELECT * FROM outbox WHERE id = ? AND state = ?", oid, state)
                               or [None])[0], what="outbox %d %s" % (oid, state))


def test_sent_then_status(es):
    fx.inbound_text(es, "15550003004", "hi")
    st, o = call(es, "POST", "/send", {"to": "15550003004", "type": "text",
                                      "text": {"body": "Hello Rita"}, "from": "default"})
    assert st in (200, 202), o
    row = wait_outbox(es, o["id"], "accepted")
    got = events(es, es.all, "message.sent", outbox_id=o["id"])
    assert len(got) == 1
    d = got[0]["data"]
    assert d == {"outbox_id": o["id"], "message_id": row["message_id"], "wamid": row["wamid"],
                 "to": "15550003004", "type": "text", "sent_by": "api"}
    fx.post_status(es, row["wamid"], "delivered", recipient="15550003004")
    es.wait_applied()
    got = events(es, es.all, "message.status", wamid=row["wamid"], status="delivered")
    assert len(got) == 1
    assert got[0]["data"]["message_id"] == row["message_id"]
    assert got[0]["data"]["error_code"] is None
    # Meta's retry of that status queues nothing more.
    fx.post_status(es, row["wamid"], "delivered", recipient="15550003004")
    es.wait_applied()
    assert len(events(es, es.all, "message.status", wamid=row["wamid"])) == 1


def test_send_failed(es):
    fx.inbound_text(es, "15550003005", "hi")
    es.graph.inject(code=131047)
    st, o = call(es, "POST", "/send", {"to": "15550003005", "type": "text",
                                      "text": {"body": "Late answer"}, "from": "default"})
    assert st in (200, 202), o
    wait_outbox(es, o["id"], "failed")
    got = events(es, es.all, "send.failed", outbox_id=o["id"])
    assert len(got) == 1
    d = got[0]["data"]
    assert d["to"] == "15550003005" and d["code"] == 131047 and d["attempts"] >= 1
    assert isinstance(d["title"], str) and d["title"]
    assert events(es, es.all, "message.sent", outbox_id=o["id"]) == []


def test_conversation_assigned(es):
    fx.inbound_text(es, "15550003006", "need a human")
    conv = fx.conversation_id(es, "15550003006")
    st, r = call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "person:ada"})
    assert st == 200, r
    got = events(es, es.all, "conversation.assigned", conversation_id=conv)
    assert [e["data"] for e in got] == [{"conversation_id": conv, "wa_id": "15550003006",
                                         "assignee": "person:ada", "previous": "bot",
                                         "by": "api:events"}]
    # The same assignee again changes nothing and tells nobody.
    assert call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "person:ada"})[0] == 200
    assert len(events(es, es.all, "conversation.assigned", conversation_id=conv)) == 1


def test_number_quality(es):
    st, _, b = es.post(fixture("phone_number_quality_update.json"))
    assert st == 200, b
    es.wait_applied()
    got = events(es, es.all, "number.quality")
    assert [e["data"] for e in got] == [{"phone_number_id": DEFAULT, "quality": "RED",
                                         "previous": "GREEN", "event": "FLAGGED"}]
    assert got[0]["_conversation_id"] is None
    es.post(fixture("phone_number_quality_update.json"))
    es.wait_applied()
    assert len(events(es, es.all, "number.quality")) == 1
    none_elsewhere(es)


def test_template_status_only_to_hooks_of_every_number(es):
    st, _, b = es.post(fixture("template_status_update.json"))
    assert st == 200, b
    es.wait_applied()
    got = events(es, es.tmpl, "template.status")
    assert [e["data"] for e in got] == [{"name": "order_update", "language": "en_US",
                                         "status": "APPROVED", "reason": "NONE"}]
    assert got[0]["number"] is None
    # A hook of one number does not hear of the account's templates.
    assert events(es, es.all, "template.status") == []


def test_rolled_back_apply_leaves_no_delivery(es):
    with es.db() as c:
        c.execute("CREATE TRIGGER hooks_test_fail BEFORE UPDATE OF unread_count ON conversations "
                  "BEGIN SELECT RAISE(ABORT, 'hooks test: refused'); END")
    try:
        wamid = fx.inbound_text(es, "15550003007", "this apply fails", wait=False)
        wait_until(lambda: es.q("SELECT 1 FROM webhook_events WHERE state IN "
                                "('failed', 'partial')"), what="the failed apply")
    finally:
        with es.db() as c:
            c.execute("DROP TRIGGER hooks_test_fail")
    assert es.q("SELECT count(*) n FROM messages WHERE wamid = ?", wamid)[0]["n"] == 0
    assert es.q("SELECT count(*) n FROM event_deliveries WHERE body LIKE ?",
                "%" + wamid + "%")[0]["n"] == 0


@pytest.fixture(scope="module")
def bot():
    """A stack whose bot answers (the default flow), for its hand-offs."""
    g = FakeGraph(token="test-token")
    s = started(extra_env={"WA_BOT": "on", "WA_API_RATE": "5000",
                           "WHATSAPP_GRAPH_URL": g.url, "WA_HOOKS_ALLOW_PRIVATE": "1"})
    try:
        s.key = new_key(s, "events")
        s.all = hook(s, ["conversation.handed_off", "conversation.assigned"])
    except Exception:
        s.close()
        g.close()
        raise
    yield s
    s.close()
    g.close()


def test_bot_hand_off(bot):
    wa = "15550003008"
    fx.inbound_text(bot, wa, "I want to talk to a human")
    conv = fx.conversation_id(bot, wa)
    assert events(bot, bot.all, "conversation.handed_off") == []
    tap = {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {
        "id": "help_person:yes", "title": "Yes, please"}}}
    fx.post_message(bot, tap, wa_id=wa)
    got = wait_until(lambda: events(bot, bot.all, "conversation.handed_off"),
                     what="the hand-off's event")
    assert [e["data"] for e in got] == [{"conversation_id": conv, "wa_id": wa, "to": "person",
                                         "by": "bot"}]
    assert got[0]["_conversation_id"] == conv
    assert bot.q("SELECT assignee FROM conversations WHERE id = ?", conv)[0]["assignee"] == "person"
    # The bot's hand-off is not an assignment by someone.
    assert events(bot, bot.all, "conversation.assigned") == []


def handed_off(s, conv):
    return [e["data"] for e in events(s, s.all, "conversation.handed_off",
                                      conversation_id=conv)]


def test_api_hand_off_to_people(es):
    """PATCH from the bot to people is a hand-off (and an assignment);
    from one person to another only an assignment."""
    fx.inbound_text(es, "15550003009", "can a human help?")
    conv = fx.conversation_id(es, "15550003009")
    assert call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "person"})[0] == 200
    assert handed_off(es, conv) == [{"conversation_id": conv, "wa_id": "15550003009",
                                     "to": "person", "by": "api:events"}]
    assert call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "person:ada"})[0] == 200
    assert len(handed_off(es, conv)) == 1
    assert len(events(es, es.all, "conversation.assigned", conversation_id=conv)) == 2
    # Back to the bot, then straight to someone: handed off again.
    assert call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "bot"})[0] == 200
    assert len(handed_off(es, conv)) == 1
    assert call(es, "PATCH", "/conversations/%d" % conv, {"assignee": "person:ada"})[0] == 200
    assert handed_off(es, conv)[1] == {"conversation_id": conv, "wa_id": "15550003009",
                                       "to": "person:ada", "by": "api:events"}
    none_elsewhere(es)


def test_unconfigured_agent_hands_to_a_person(bot):
    """A conversation whose agent is not (or no longer) configured goes to
    a person on the customer's next message: a hand-off by the bot."""
    wa = "15550003010"
    fx.inbound_text(bot, wa, "hi")
    conv = fx.conversation_id(bot, wa)
    with bot.db() as c:
        c.execute("UPDATE conversations SET assignee = 'agent:http://127.0.0.1:9/gone' "
                  "WHERE id = ?", (conv,))
    fx.inbound_text(bot, wa, "my order, please")
    got = wait_until(lambda: handed_off(bot, conv), what="the hand-off's event")
    assert got == [{"conversation_id": conv, "wa_id": wa, "to": "person", "by": "bot"}]
    assert bot.q("SELECT assignee FROM conversations WHERE id = ?", conv)[0]["assignee"] == "person"


def test_failed_agent_call_hands_to_a_person(bot):
    """An agent call that fails for good (here: to an agent nobody
    configured) ends in the fallback text and a person: a hand-off."""
    wa = "15550003011"
    fx.inbound_text(bot, wa, "hi")
    conv = fx.conversation_id(bot, wa)
    cid = bot.q("SELECT id FROM contacts WHERE wa_id = ?", wa)[0]["id"]
    now = int(time.time() * 1000)
    with bot.db() as c:
        c.execute("UPDATE conversations SET assignee = 'agent:http://127.0.0.1:9/gone' "
                  "WHERE id = ?", (conv,))
        c.execute("INSERT INTO agent_requests (phone_number_id, contact_id, recipient, url, body, "
                  "next_attempt_at, created_at) VALUES (?, ?, ?, 'http://127.0.0.1:9/gone', "
                  "'{}', ?, ?)", (DEFAULT, cid, wa, now, now))
    got = wait_until(lambda: handed_off(bot, conv), what="the hand-off's event")
    assert got == [{"conversation_id": conv, "wa_id": wa, "to": "person", "by": "bot"}]
    assert bot.q("SELECT state FROM agent_requests WHERE recipient = ?", wa)[0]["state"] == "failed"
    assert bot.q("SELECT assignee FROM conversations WHERE id = ?", conv)[0]["assignee"] == "person"
