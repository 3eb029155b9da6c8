"""The chatbot end to end: scripted conversations posted as signed webhooks
through the real stack (nginx, responders, wa-worker with the default flow
deploy/flows/default.json), checking the exact requests the worker's sender
POSTs to the fake Graph API, and the rows the bot writes (tickets,
ticket_media, bot_state, bot_choices, conversations.assignee).

One stack and one fake Graph serve the whole module; every test talks as
its own customer (wa_id), so tests never see each other's replies.  A reply
is written to the outbox in the transaction that applies its cause (DESIGN
rule 4), so once the journal is applied the number of outbox rows for a
customer is final: each step waits for exactly that many requests at the
fake, and "silence" means no new outbox row (and, at the next answered
message, no extra request at the fake either)."""
import datetime
import json
import os
import re
import subprocess
import time

import pytest

from stack import BUILD, TOP, fixture, started

PNID = "200300400500600"
MSGS = "/v23.0/%s/messages" % PNID

with open(os.path.join(TOP, "deploy", "flows", "default.json")) as _f:
    FLOW = json.load(_f)
NODES = FLOW["nodes"]
PHONE = "+1 555 0100"
HOURS = "Mon-Fri 08:00-17:00"
TZ = "UTC+01:00"
OFFSET = datetime.timedelta(minutes=60)      # the flow's utc_offset_minutes
IDLE = 30 * 60                               # WA_BOT_IDLE_MIN default

# Where "back" goes: a node's "parent", else the nearest menu it is first
# reached from walking the flow from "main" (keyword targets: main).
PARENT = {
    "main": "main", "orders": "main", "defect": "main", "schedule": "main",
    "help": "main", "help_person": "main",
    "order_ask": "orders", "order_show": "orders", "orders_recent": "orders",
    "delivery_ask": "orders", "delivery_show": "orders",
    "defect_category": "defect", "defect_describe": "defect_category",
    "defect_photos": "defect_category", "defect_done": "defect",
    "ticket_ask": "defect", "ticket_show": "defect",
    "sched_this": "schedule", "sched_next": "schedule",
    "sched_order_ask": "schedule", "sched_order_show": "schedule",
    "faq": "help", "help_hours": "help", "help_call": "help",
    "faq_price": "faq", "faq_moq": "faq", "faq_lead": "faq",
    "faq_warranty": "faq", "faq_payment": "faq",
}

HINT = "Sorry, I did not understand that. Tap an option or type its number; type menu to start again."
HAND_OFF_OPEN = "Thank you. A member of our team will answer you here shortly."
STOP_ACK = "You will get no more messages from us here. Send START at any time to hear from us again."
START_ACK = "Welcome back: you will get our messages again. Send STOP at any time to opt out."

# The main menu, written out once by hand: the renderer below derives the
# other nodes from the flow file, this pins the wire shape independently.
MAIN_MENU = {"type": "interactive", "interactive": {
    "type": "list",
    "header": {"type": "text", "text": "Customer service"},
    "body": {"text": "Hello! This is the WhatsApp service of our factory. What can I do for you?"
                     "\n\nTap Choose, or type the number of a topic."},
    "footer": {"text": "Type menu at any time to come back here."},
    "action": {"button": "Choose", "sections": [{"rows": [
        {"id": "main:orders", "title": "Order status",
         "description": "Look up an order, recent orders, delivery"},
        {"id": "main:defect", "title": "Report a defect",
         "description": "File a defect report or check a ticket"},
        {"id": "main:schedule", "title": "Production schedule",
         "description": "This week, next week, one order"},
        {"id": "main:help", "title": "Help and support",
         "description": "Questions, hours, calls, a person"}]}]}}}


# ---------------------------------------------------------------- expected

def expand(t, **values):
    """A flow template with {name} replaced (the flow's own values and
    values), "{{" as "{", unknown names as ""."""
    v = {"phone": PHONE, "hours": HOURS, "tz": TZ}
    v.update(values)
    return re.sub(r"\{\{|\{([A-Za-z0-9_]+)\}",
                  lambda m: "{" if m.group(0) == "{{" else str(v.get(m.group(1), "")), t)


def text(body):
    return {"type": "text", "text": {"body": body}}


def node(nid, body=None, **values):
    """The request that shows node nid (its body, or body), as the bot must
    send it: reply buttons for up to three options, else a list."""
    nd = NODES[nid]
    opts = nd["options"]
    is_list = nd["kind"] == "list" or len(opts) > 3
    ia = {"type": "list" if is_list else "button",
          "body": {"text": expand(nd["body"] if body is None else body, **values)}}
    if "header" in nd:
        ia["header"] = {"type": "text", "text": expand(nd["header"])}
    if "footer" in nd:
        ia["footer"] = {"text": expand(nd["footer"])}
    if is_list:
        rows = []
        for o in opts:
            r = {"id": "%s:%s" % (nid, o["id"]), "title": o["title"]}
            if "description" in o:
                r["description"] = o["description"]
            rows.append(r)
        ia["action"] = {"button": nd.get("button", "Options"), "sections": [{"rows": rows}]}
    else:
        ia["action"] = {"buttons": [{"type": "reply", "reply": {"id": "%s:%s" % (nid, o["id"]),
                                                                 "title": o["title"]}} for o in opts]}
    return {"type": "interactive", "interactive": ia}


def not_found(nid, **values):
    return node(nid, NODES[nid]["not_found"], **values)


def local_now(t=None):
    return datetime.datetime.fromtimestamp(t if t is not None else time.time(),
                                           datetime.timezone.utc) + OFFSET


def hand_off_text(t):
    """What the customer is told at hand-off at time t: open Mon-Fri
    08:00-17:00 UTC+01:00, else when the team is next there."""
    now = local_now(t).replace(tzinfo=None)
    if now.weekday() < 5 and 8 * 60 <= now.hour * 60 + now.minute < 17 * 60:
        return HAND_OFF_OPEN
    for k in range(8):
        day = now.date() + datetime.timedelta(days=k)
        start = datetime.datetime.combine(day, datetime.time(8, 0))
        if day.weekday() < 5 and start > now:
            return expand(FLOW["texts"]["hand_off_closed"],
                          next_open=start.strftime("%A 08:00"))
    raise AssertionError("no opening time")


def option(nid, oid):
    return next(o for o in NODES[nid]["options"] if o["id"] == oid)


# ------------------------------------------------------------------ driving

def webhook(wa, msgs):
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = wa
    v["messages"] = msgs
    return json.dumps(doc).encode()


class Chat:
    """One customer talking to the bot."""
    seq = 0

    def __init__(self, gw, graph, wa, fresh=True):
        self.gw, self.graph, self.wa = gw, graph, wa
        self.got = len(self.sent())
        self.rows = self.outbox_count()
        assert not fresh or self.got == self.rows == 0, "customer %s already used" % wa

    # Messages as Meta sends them (reference 5).
    def _msg(self, kind, body, ts=None, wamid=None):
        Chat.seq += 1
        m = {"from": self.wa, "id": wamid or "wamid.bot.%s.%d.%s" % (self.wa, Chat.seq, os.urandom(4).hex()),
             "timestamp": str(ts if ts is not None else int(time.time())), "type": kind}
        m.update(body)
        return m

    def m_text(self, body, ts=None, wamid=None):
        return self._msg("text", {"text": {"body": body}}, ts, wamid)

    def m_tap(self, nid, oid, title=None, ts=None):
        """A tap on option oid of node nid: a list row or a reply button,
        as the node was shown."""
        nd = NODES[nid]
        o = option(nid, oid)
        title = title or o["title"]
        if nd["kind"] == "list" or len(nd["options"]) > 3:
            r = {"id": "%s:%s" % (nid, oid), "title": title}
            if "description" in o:
                r["description"] = o["description"]
            ia = {"type": "list_reply", "list_reply": r}
        else:
            ia = {"type": "button_reply", "button_reply": {"id": "%s:%s" % (nid, oid), "title": title}}
        m = self._msg("interactive", {"interactive": ia}, ts)
        m["context"] = {"from": "15550001111", "id": "wamid.out.%s" % os.urandom(6).hex()}
        return m

    def m_photo(self, media_id, caption=None, ts=None):
        img = {"mime_type": "image/jpeg", "sha256": "qnYSkf+dBoVW8tHW9jxTpNIuRNZfiCwcJSoENyEjrdM=",
               "id": media_id}
        if caption:
            img["caption"] = caption
        return self._msg("image", {"image": img}, ts)

    # Posting and collecting what reached the fake Graph.
    def sent(self):
        return [r["json"] for r in self.graph.requests(MSGS) if (r.get("json") or {}).get("to") == self.wa]

    def outbox_count(self):
        return self.gw.q("SELECT count(*) n FROM outbox WHERE recipient = ?", self.wa)[0]["n"]

    def post_raw(self, body):
        st, _, reply = self.gw.post(body)
        assert st == 200, reply
        self.gw.wait_applied()
        return self.collect()

    def post(self, *msgs):
        return self.post_raw(webhook(self.wa, list(msgs)))

    def collect(self):
        """The requests sent to this customer since the last call, once
        every outbox row queued for them so far has reached the fake."""
        n = self.outbox_count()
        deadline = time.time() + 10
        while True:
            got = self.sent()
            if len(got) >= n:
                break
            if time.time() > deadline:
                raise AssertionError("%d of %d replies reached the fake: %s" % (
                    len(got), n, self.gw.q("SELECT id, state, error_title, body FROM outbox "
                                           "WHERE recipient = ?", self.wa)))
            time.sleep(0.01)
        assert len(got) == n, "more requests than outbox rows: %s" % got[n:]
        new, self.got, self.rows = got[self.got:], len(got), n
        out = []
        for r in new:
            r = dict(r)
            assert r.pop("messaging_product") == "whatsapp"
            assert r.pop("recipient_type") == "individual"
            assert r.pop("biz_opaque_callback_data").startswith("outbox:")
            assert r.pop("to") == self.wa
            out.append(r)
        return out

    def say(self, body, **kw):
        return self.post(self.m_text(body, **kw))

    def tap(self, nid, oid, title=None):
        return self.post(self.m_tap(nid, oid, title))

    def photo(self, media_id, caption=None):
        return self.post(self.m_photo(media_id, caption))

    def silent(self, *msgs):
        """Posts msgs and checks that nothing was queued for the customer."""
        before = self.outbox_count()
        st, _, reply = self.gw.post(webhook(self.wa, list(msgs)))
        assert st == 200, reply
        self.gw.wait_applied()
        assert self.outbox_count() == before, self.gw.q(
            "SELECT body FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 3", self.wa)
        assert self.collect() == []

    # Database
    def state(self):
        rows = self.gw.q("SELECT b.* FROM bot_state b JOIN contacts c ON c.id = b.contact_id "
                         "WHERE c.wa_id = ?", self.wa)
        return rows[0] if rows else None

    def conv(self):
        return self.gw.q("SELECT v.* FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                         "WHERE c.wa_id = ?", self.wa)[0]

    def sql(self, stmt, *args):
        with self.gw.db() as c:
            c.execute(stmt, args)

    def set_conv(self, assignee, until):
        self.sql("UPDATE conversations SET assignee = ?, assigned_until = ? WHERE contact_id = "
                 "(SELECT id FROM contacts WHERE wa_id = ?)", assignee, until, self.wa)

    def age_state(self, seconds):
        self.sql("UPDATE bot_state SET last_active = last_active - ? WHERE contact_id = "
                 "(SELECT id FROM contacts WHERE wa_id = ?)", seconds, self.wa)


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=20)


# ----------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def gw(graph):
    s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_PAIR_BURST": "45",
                           "WA_PAIR_INTERVAL_MS": "0"})
    yield s
    s.close()


@pytest.fixture
def chat(gw, graph):
    def make(wa, fresh=True):
        return Chat(gw, graph, wa, fresh)
    return make


# Business data: customer A owns three orders, customer B one.
CUST_A = "15550100001"
CUST_B = "15550100002"


def day(d):
    return d.isoformat()


@pytest.fixture(scope="module")
def data(gw):
    today = local_now().date()
    monday = today - datetime.timedelta(days=today.weekday())
    dd = datetime.timedelta
    d = {"today": today, "monday": monday,
         "exp_10234": today + dd(days=10), "exp_a1042": today - dd(days=2),
         "exp_20001": today + dd(days=3)}
    orders = "\n".join([
        "number,customer_wa_id,status,ordered_on,expected_delivery,item,quantity",
        "10234,+%s,in production,%s,%s,Steel bracket,12" % (CUST_A, day(today - dd(days=20)), day(d["exp_10234"])),
        "10234,+%s,in production,%s,%s,Hinge,3.5 m" % (CUST_A, day(today - dd(days=20)), day(d["exp_10234"])),
        "A-1042,%s,shipped,%s,%s,Cover plate," % (CUST_A, day(today - dd(days=40)), day(d["exp_a1042"])),
        "10300,%s,received,%s,,," % (CUST_A, day(today - dd(days=1))),
        "20001,%s,in production,%s,%s,Gear,4" % (CUST_B, day(today - dd(days=5)), day(d["exp_20001"])),
    ]) + "\n"
    sched = "\n".join([
        "order_number,step,starts_on,ends_on",
        "10234,cutting,%s,%s" % (day(monday - dd(days=3)), day(monday + dd(days=1))),
        "10234,welding,%s," % day(today),
        "10234,painting,%s,%s" % (day(monday + dd(days=8)), day(monday + dd(days=9))),
        "10234,assembly,%s," % day(monday + dd(days=14)),
        "A-1042,packing,%s," % day(monday + dd(days=7)),
        "20001,cutting,%s,%s" % (day(today), day(today)),
        "99999,ghost step,%s," % day(today),      # no such order: shown to nobody
    ]) + "\n"
    for what, body in (("orders", orders), ("schedule", sched)):
        path = os.path.join(gw.state, what + ".csv")
        with open(path, "w") as f:
            f.write(body)
        r = wactl(gw, "import", what, path)
        assert r.returncode == 0, r.stderr
    assert gw.q("SELECT count(*) n FROM orders")[0]["n"] == 4
    assert gw.q("SELECT customer_wa_id FROM orders WHERE number = '10234'")[0]["customer_wa_id"] == CUST_A
    return d


# -------------------------------------------------------------------- tests

def test_first_message_gets_the_main_menu(chat):
    c = chat("15550200001")
    assert node("main") == MAIN_MENU
    # Unknown words from a new contact: the menu, not the hint.
    assert c.say("Hi! Are you open on Saturday?") == [MAIN_MENU]
    st = c.state()
    assert st["node"] == "main" and st["hinted"] == 0 and st["vars"] is None
    assert abs(st["last_active"] - time.time()) < 30
    # A new contact's number is not an answer yet: the menu again.
    c2 = chat("15550200002")
    assert c2.say("2") == [MAIN_MENU]


def test_every_option_by_tap(chat):
    """Each option of every node, tapped: the node it leads to (back: the
    node's parent, menu: main), exactly as the flow describes it.  Hand-offs
    and ticket filing have their own tests."""
    c = chat("15550200010")
    assert c.say("hello") == [MAIN_MENU]
    n = 0
    for nid, nd in NODES.items():
        for o in nd.get("options", []):
            act = o.get("action", "goto")
            if act in ("hand_off_person", "ticket_create"):
                continue
            dest = {"back": PARENT[nid], "menu": "main"}.get(act, o.get("goto"))
            # This customer has no orders, schedule or tickets.
            want = not_found(dest) if NODES[dest]["kind"] == "lookup" else node(dest)
            assert c.tap(nid, o["id"]) == [want], "%s:%s" % (nid, o["id"])
            assert c.state()["node"] == dest, "%s:%s" % (nid, o["id"])
            n += 1
    assert n == 75      # of 85: 8 hand-offs and 2 ticket filings are elsewhere


def test_walk_by_typed_numbers(chat):
    c = chat("15550200020")
    steps = [
        ("hi", "main"), ("1", "orders"), ("4", "main"),          # Back
        ("2", "defect"), ("3", "main"),
        ("3", "schedule"), ("4", "main"),
        ("4", "help"), ("1", "faq"), ("2", "faq_moq"), ("2", "faq"), ("3", "faq_lead"),
        ("3", "main"),                                            # Main menu
        ("4", "help"), ("2", "help_hours"), ("2", "help"), ("3", "help_call"), ("3", "main"),
        ("1", "orders"), ("1", "order_ask"),
        # In a prompt a number is the answer, not an option.
        ("1", "order_show", not_found("order_show", order_number="1")), ("2", "orders"),
        ("3", "delivery_ask"), ("Back", "orders"),
        ("2", "orders_recent"), ("1", "orders"),
        ("4", "main"), ("3", "schedule"), ("1", "sched_this"), ("2", "main"),
        ("3", "schedule"), ("2", "sched_next"), ("1", "schedule"),
        ("3", "sched_order_ask"), ("back", "schedule"), ("4", "main"),
        ("2", "defect"), ("1", "defect_category"), ("8", "defect"),
        ("2", "ticket_ask"), ("Back", "defect"), ("3", "main"),
    ]
    for typed, dest, *want in steps:
        want = want[0] if want else not_found(dest) if NODES[dest]["kind"] == "lookup" else node(dest)
        assert c.say(typed) == [want], (typed, dest)
        assert c.state()["node"] == dest
    # Numbers outside the options are unknown input: the hint.
    assert c.say("5") == [text(HINT)]
    assert c.say("12") == [MAIN_MENU]


def test_walk_by_typed_titles_any_case(chat):
    c = chat("15550200030")
    steps = [
        ("hello", "main"), ("ORDER STATUS", "orders"), ("my Recent Orders", "orders_recent"),
        ("main menu", "main"), ("production schedule.", "schedule"), ("This Week!", "sched_this"),
        ("BACK", "schedule"), ("back", "main"), ("Help and support", "help"),
        ("  common   questions ", "faq"), ("warranty and returns", "faq_warranty"),
        ("Report a defect", "defect"), ("new report", "defect_category"),
        ("transport damage", "defect_describe"),
    ]
    for typed, dest in steps:
        want = not_found(dest) if NODES[dest]["kind"] == "lookup" else node(dest)
        assert c.say(typed) == [want], (typed, dest)
    # The category chosen by its title was saved.
    assert json.loads(c.state()["vars"]) == {"category": "transport"}
    # A tapped reply whose id the flow does not know counts by its title.
    assert c.say("menu") == [MAIN_MENU]
    m = c.m_tap("main", "orders")
    m["interactive"]["list_reply"]["id"] = "stale-menu:zzz"
    m["interactive"]["list_reply"]["title"] = "Production Schedule"
    assert c.post(m) == [node("schedule")]


def test_menu_and_back_words_from_submenus(chat):
    c = chat("15550200040")
    assert c.say("hi") == [MAIN_MENU]
    for word in ("menu", "0", "hi", "hello", "HELLO!", "Menu."):
        assert c.tap("main", "help") == [node("help")]
        assert c.tap("help", "faq") == [node("faq")]
        assert c.say(word) == [MAIN_MENU], word
        assert c.state()["node"] == "main"
    # back: one level up, from menus and from prompts.
    assert c.tap("main", "help") == [node("help")]
    assert c.tap("help", "faq") == [node("faq")]
    assert c.tap("faq", "payment") == [node("faq_payment")]
    assert c.say("back") == [node("faq")]
    assert c.say("Back") == [node("help")]
    assert c.say("back") == [MAIN_MENU]
    assert c.say("back") == [MAIN_MENU]
    assert c.tap("main", "orders") == [node("orders")]
    assert c.tap("orders", "lookup") == [node("order_ask")]
    assert c.say("back") == [node("orders")]
    assert c.tap("orders", "lookup") == [node("order_ask")]
    # A menu word is not taken as the prompt's answer.
    assert c.say("0") == [MAIN_MENU]
    assert c.tap("main", "defect") == [node("defect")]
    assert c.tap("defect", "new") == [node("defect_category")]
    assert c.tap("defect_category", "function") == [node("defect_describe")]
    assert c.say("menu") == [MAIN_MENU]
    assert c.state()["vars"] is None      # the report's values went


def test_unknown_input_hint_once_then_the_menu(chat):
    c = chat("15550200050")
    assert c.say("hello") == [MAIN_MENU]
    assert c.say("xyzzy") == [text(HINT)]
    assert c.state()["hinted"] == 1
    assert c.say("plugh") == [MAIN_MENU]
    assert c.state()["hinted"] == 0
    assert c.say("plugh again") == [text(HINT)]
    # In a submenu the current node comes back, not the main menu.
    assert c.say("1") == [node("orders")]
    assert c.state()["hinted"] == 0
    assert c.say("zzz") == [text(HINT)]
    assert c.say("zzz") == [node("orders")]
    assert c.say("2") == [not_found("orders_recent")]
    # An image where none is asked for is unknown input too.
    assert c.photo("990000000000001") == [text(HINT)]
    assert c.photo("990000000000002") == [not_found("orders_recent")]


def test_idle_state_expires_to_the_main_menu(chat):
    c = chat("15550200060")
    assert c.say("hi") == [MAIN_MENU]
    assert c.say("1") == [node("orders")]
    # Idle 29 minutes: still in the orders menu, so "2" is an option.
    c.age_state(IDLE - 60)
    assert c.say("2") == [not_found("orders_recent")]
    assert c.say("1") == [node("orders")]
    # Idle 31 minutes: back at the start, where a number means nothing.
    c.age_state(IDLE + 60)
    assert c.say("2") == [MAIN_MENU]
    assert c.state()["node"] == "main"
    assert c.say("2") == [node("defect")]
    # Half-way through a report: the values collected go with the state.
    assert c.tap("defect", "new") == [node("defect_category")]
    assert c.tap("defect_category", "surface") == [node("defect_describe")]
    c.age_state(IDLE + 60)
    assert c.say("The paint is scratched") == [MAIN_MENU]
    st = c.state()
    assert st["node"] == "main" and st["vars"] is None


def test_order_lookup_own_orders_only(chat, data):
    c = chat(CUST_A)
    assert c.say("hi") == [MAIN_MENU]
    assert c.tap("main", "orders") == [node("orders")]
    assert c.tap("orders", "lookup") == [node("order_ask")]
    assert c.say(" 10234 ") == [node("order_show", number="10234", status="in production",
                                      expected_delivery=day(data["exp_10234"]),
                                      lines="- Steel bracket x 12\n- Hinge x 3.5 m")]
    assert json.loads(c.state()["vars"]) == {"order_number": "10234"}
    # Case does not matter; the reply shows the number as the business wrote it.
    assert c.tap("order_show", "another") == [node("order_ask")]
    assert c.say("a-1042") == [node("order_show", number="A-1042", status="shipped",
                                    expected_delivery=day(data["exp_a1042"]),
                                    lines="- Cover plate")]
    # Another customer's order is "not found", like one that does not exist.
    assert c.say("1") == [node("order_ask")]
    assert c.say("20001") == [not_found("order_show", order_number="20001")]
    assert c.say("1") == [node("order_ask")]
    assert c.say("55555") == [not_found("order_show", order_number="55555")]
    # Recent orders, newest first.
    assert c.say("back") == [node("orders")]
    assert c.say("2") == [node("orders_recent", result=(
        "10300: received\n"
        "10234: in production, expected %s\n"
        "A-1042: shipped, expected %s" % (day(data["exp_10234"]), day(data["exp_a1042"]))))]
    # Expected delivery.
    assert c.tap("orders_recent", "back") == [node("orders")]
    assert c.tap("orders", "delivery") == [node("delivery_ask")]
    assert c.say("10234") == [node("delivery_show", number="10234", status="in production",
                                   expected_delivery=day(data["exp_10234"]))]
    assert c.tap("delivery_show", "another") == [node("delivery_ask")]
    assert c.say("20001") == [not_found("delivery_show", order_number="20001")]
    assert c.tap("delivery_show", "menu") == [MAIN_MENU]
    # The other customer sees their own order and only it.
    b = chat(CUST_B)
    assert b.say("hello") == [MAIN_MENU]
    assert b.say("1") == [node("orders")]
    assert b.say("2") == [node("orders_recent", result="20001: in production, expected %s"
                               % day(data["exp_20001"]))]
    assert b.say("back") == [node("orders")]
    assert b.say("1") == [node("order_ask")]
    assert b.say("10234") == [not_found("order_show", order_number="10234")]
    assert b.say("1") == [node("order_ask")]
    assert b.say("20001") == [node("order_show", number="20001", status="in production",
                                   expected_delivery=day(data["exp_20001"]), lines="- Gear x 4")]


def test_production_schedule(chat, data):
    dd = datetime.timedelta
    m, today = data["monday"], data["today"]
    c = chat("15550100003")      # no orders: nothing scheduled
    assert c.say("production schedule") == [node("schedule")]
    assert c.say("1") == [not_found("sched_this")]
    # Customer A, through the keyword and taps.
    a = chat(CUST_A, fresh=False)
    assert a.say("what is my production schedule?") == [node("schedule")]
    assert a.tap("schedule", "this_week") == [node("sched_this", result=(
        "%s to %s 10234: cutting\n%s 10234: welding" % (day(m - dd(days=3)), day(m + dd(days=1)), day(today))))]
    assert a.tap("sched_this", "back") == [node("schedule")]
    assert a.tap("schedule", "next_week") == [node("sched_next", result=(
        "%s A-1042: packing\n%s to %s 10234: painting" % (day(m + dd(days=7)), day(m + dd(days=8)),
                                                            day(m + dd(days=9)))))]
    assert a.say("back") == [node("schedule")]
    assert a.say("3") == [node("sched_order_ask")]
    assert a.say("10234") == [node("sched_order_show", order_number="10234", result=(
        "%s to %s 10234: cutting\n%s 10234: welding\n%s to %s 10234: painting\n%s 10234: assembly"
        % (day(m - dd(days=3)), day(m + dd(days=1)), day(today), day(m + dd(days=8)), day(m + dd(days=9)),
           day(m + dd(days=14)))))]
    # Customer B's order, and steps of an order nobody has, stay hidden.
    assert a.tap("sched_order_show", "another") == [node("sched_order_ask")]
    assert a.say("20001") == [not_found("sched_order_show", order_number="20001")]
    assert a.say("1") == [node("sched_order_ask")]
    assert a.say("99999") == [not_found("sched_order_show", order_number="99999")]
    b = chat(CUST_B, fresh=False)
    assert b.say("menu") == [MAIN_MENU]
    assert b.say("3") == [node("schedule")]
    assert b.say("1") == [node("sched_this", result="%s 20001: cutting" % day(today))]
    assert b.say("back") == [node("schedule")]
    assert b.say("2") == [not_found("sched_next")]


def test_defect_report_with_two_photos(chat, graph):
    c = chat("15550200070")
    for mid in ("880000000000001", "880000000000002"):
        graph.add_media(mid, b"\xff\xd8\xff\xe0 fake jpeg " + mid.encode(), "image/jpeg", PNID)
    assert c.say("hi") == [MAIN_MENU]
    assert c.tap("main", "defect") == [node("defect")]
    assert c.tap("defect", "new") == [node("defect_category")]
    assert c.tap("defect_category", "surface") == [node("defect_describe")]
    desc = "Order 10234, steel bracket: the paint is scratched on 3 of 12 parts."
    assert c.say(desc) == [node("defect_photos")]
    assert c.photo("880000000000001", caption="Done") == [
        node("defect_photos", NODES["defect_photos"]["received"], count="1")]
    assert c.photo("880000000000002") == [node("defect_photos", NODES["defect_photos"]["received"], count="2")]
    before = c.gw.q("SELECT count(*) n FROM tickets")[0]["n"]
    r = c.tap("defect_photos", "done")
    rows = c.gw.q("SELECT * FROM tickets WHERE customer_wa_id = ?", c.wa)
    assert len(rows) == 1
    t = rows[0]
    assert re.fullmatch(r"T-\d{6,}", t["number"])
    assert r == [node("defect_done", ticket=t["number"])]
    assert t["number"] in r[0]["interactive"]["body"]["text"]
    assert (t["category"], t["description"], t["state"]) == ("surface", desc, "open")
    assert t["phone_number_id"] == PNID
    media = c.gw.q("SELECT media_id FROM ticket_media WHERE ticket_id = ? ORDER BY media_id", t["id"])
    assert [m["media_id"] for m in media] == ["880000000000001", "880000000000002"]
    # A second tap on the old Done files nothing more.
    assert c.tap("defect_photos", "done") == [node("defect_done", ticket=t["number"])]
    assert c.gw.q("SELECT count(*) n FROM tickets")[0]["n"] == before + 1
    # The ticket's state by its number (any case).
    assert c.tap("defect_done", "check") == [node("ticket_ask")]
    assert c.say(t["number"].lower()) == [node("ticket_show", number=t["number"], category="surface",
                                               state="open")]
    c.sql("UPDATE tickets SET state = 'in progress' WHERE id = ?", t["id"])
    assert c.tap("ticket_show", "another") == [node("ticket_ask")]
    assert c.say(t["number"]) == [node("ticket_show", number=t["number"], category="surface",
                                       state="in progress")]
    assert c.say("1") == [node("ticket_ask")]
    assert c.say("T-999999") == [not_found("ticket_show", ticket_number="T-999999")]
    # Nobody else can read it.
    o = chat("15550200071")
    assert o.say("hi") == [MAIN_MENU]
    assert o.say("2") == [node("defect")]
    assert o.say("2") == [node("ticket_ask")]
    assert o.say(t["number"]) == [not_found("ticket_show", ticket_number=t["number"])]


def test_defect_report_typed_without_photos_and_photo_hints(chat):
    c = chat("15550200080")
    assert c.say("my part arrived damaged") == [node("defect")]   # keyword
    assert c.say("1") == [node("defect_category")]
    assert c.say("7") == [node("defect_describe")]
    assert c.say("Wrong colour") == [node("defect_photos")]
    got = c.say("2")
    t = c.gw.q("SELECT * FROM tickets WHERE customer_wa_id = ?", c.wa)
    assert len(t) == 1 and got == [node("defect_done", ticket=t[0]["number"])]
    assert [(r["category"], r["description"]) for r in t] == [("other", "Wrong colour")]
    assert c.gw.q("SELECT count(*) n FROM ticket_media WHERE ticket_id = ?", t[0]["id"])[0]["n"] == 0
    # Text while photos are asked for: the node's hint, then the node again
    # (the photos so far are kept); past five photos they are refused.
    assert c.say("menu") == [MAIN_MENU]
    assert c.say("2") == [node("defect")]
    assert c.say("1") == [node("defect_category")]
    assert c.say("4") == [node("defect_describe")]
    assert c.say("It does not fit") == [node("defect_photos")]
    recv = NODES["defect_photos"]["received"]
    assert c.photo("870000000000001") == [node("defect_photos", recv, count="1")]
    assert c.say("here it is") == [text(NODES["defect_photos"]["hint"])]
    assert c.say("and?") == [node("defect_photos")]
    for i in range(2, 6):
        assert c.photo("87000000000000%d" % i) == [node("defect_photos", recv, count=str(i))]
    assert c.photo("870000000000006") == [node("defect_photos", expand(
        "I have all the photos I can take ({count}). Please choose an option.", count="5"))]
    r = c.tap("defect_photos", "done")
    t = c.gw.q("SELECT * FROM tickets WHERE customer_wa_id = ? ORDER BY id DESC LIMIT 1", c.wa)[0]
    assert r == [node("defect_done", ticket=t["number"])]
    assert (t["category"], t["description"]) == ("dimensions", "It does not fit")
    assert [m["media_id"] for m in c.gw.q("SELECT media_id FROM ticket_media WHERE ticket_id = ? "
                                          "ORDER BY media_id", t["id"])] == \
        ["87000000000000%d" % i for i in range(1, 6)]
    # Cancel goes back to the defect menu and files nothing.
    assert c.tap("defect_done", "menu") == [MAIN_MENU]
    assert c.say("2") == [node("defect")]
    assert c.say("1") == [node("defect_category")]
    assert c.say("1") == [node("defect_describe")]
    assert c.say("Dented box") == [node("defect_photos")]
    assert c.say("3") == [node("defect")]
    assert c.gw.q("SELECT count(*) n FROM tickets WHERE customer_wa_id = ?", c.wa)[0]["n"] == 2


def test_batch_out_of_order_is_answered_in_timestamp_order(chat):
    c = chat("15550200090")
    t = int(time.time()) - 10
    got = c.post(c.m_text("3", ts=t + 2), c.m_text("hi", ts=t), c.m_text("1", ts=t + 1))
    assert got == [MAIN_MENU, node("orders"), node("delivery_ask")]
    assert c.state()["node"] == "delivery_ask"
    # Two customers in one body: each in their own order.
    d = chat("15550200091")
    e = chat("15550200092")
    body = json.loads(webhook(d.wa, [d.m_text("4", ts=t + 1), d.m_text("hello", ts=t)]))
    v = body["entry"][0]["changes"][0]["value"]
    v["contacts"].append({"profile": {"name": "E"}, "wa_id": e.wa})
    v["messages"][1:1] = [e.m_text("2", ts=t + 1), e.m_text("menu", ts=t)]
    st, _, _ = c.gw.post(json.dumps(body).encode())
    assert st == 200
    c.gw.wait_applied()
    assert d.collect() == [MAIN_MENU, node("help")]
    assert e.collect() == [MAIN_MENU, node("defect")]


def test_hand_off_to_a_person_and_back(chat):
    c = chat("15550200100")
    assert c.say("hi") == [MAIN_MENU]
    assert c.tap("main", "help") == [node("help")]
    t0 = time.time()
    got = c.tap("help", "person")
    t1 = time.time()
    assert got in ([text(hand_off_text(t0))], [text(hand_off_text(t1))])
    conv = c.conv()
    assert conv["assignee"] == "person"
    # WA_HANDOFF_HOURS (24) after the hand-off it returns to the bot.
    assert t0 - 5 + 24 * 3600 <= conv["assigned_until"] <= t1 + 5 + 24 * 3600
    # A person answers now: the bot says nothing, to anything.
    c.silent(c.m_text("hello"))
    c.silent(c.m_text("1"), c.m_tap("main", "orders"))
    c.silent(c.m_text("what are your opening hours"))
    # Released by staff: the bot answers again, and only this reply was sent.
    c.set_conv("bot", None)
    assert c.say("hello") == [MAIN_MENU]
    # A hand-off whose time ran out returns by itself.
    c.set_conv("person", int(time.time()) - 60)
    assert c.say("4") == [node("help")]
    assert c.conv()["assignee"] == "bot"
    # A hand-off still running keeps the bot quiet.
    c.set_conv("person", int(time.time()) + 3600)
    c.silent(c.m_text("menu"))
    c.set_conv("bot", None)
    assert c.say("menu") == [MAIN_MENU]


def test_every_hand_off_option(chat):
    c = chat("15550200110")
    assert c.say("I want to talk to a human") == [node("help_person")]
    assert c.tap("help_person", "no") == [MAIN_MENU]
    assert c.conv()["assignee"] == "bot"
    offs = [(nid, o["id"]) for nid, nd in NODES.items() for o in nd.get("options", [])
            if o.get("action") == "hand_off_person"]
    assert len(offs) == 8
    for nid, oid in offs:
        t0 = time.time()
        got = c.tap(nid, oid)
        assert got in ([text(hand_off_text(t0))], [text(hand_off_text(time.time()))]), (nid, oid)
        assert c.conv()["assignee"] == "person", (nid, oid)
        c.silent(c.m_text("hi"))
        c.set_conv("bot", None)
        # The chat starts over at the main menu, where numbers count.
        assert c.say("4") == [node("help")], (nid, oid)
        assert c.state()["node"] == "help"


def test_opt_out_and_back_in(chat):
    c = chat("15550200120")
    assert c.say("hi") == [MAIN_MENU]
    assert c.say("STOP") == [text(STOP_ACK)]
    assert c.gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", c.wa)[0]["opted_out"] == 1
    c.silent(c.m_text("hi"))
    c.silent(c.m_tap("main", "orders"))
    assert c.say("START") == [text(START_ACK)]
    assert c.gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", c.wa)[0]["opted_out"] == 0
    assert c.say("hi") == [MAIN_MENU]
    assert c.say("1") == [node("orders")]


def test_stop_then_start_in_one_batch_confirms_both(chat):
    """STOP at t and START at t+1 in one webhook body: both confirmed in
    order, and the bot itself never answers the STOP."""
    c = chat("15550200121")
    assert c.say("hi") == [MAIN_MENU]
    t = int(time.time()) - 5
    got = c.post(c.m_text("START", ts=t + 1), c.m_text("STOP", ts=t))
    assert got == [text(STOP_ACK), text(START_ACK)]


def test_late_stop_after_start_is_not_answered_as_text(chat):
    """START at t+1 arrives first, the STOP of t in a later webhook: the
    contact stays opted in (the newer signal wins), and the STOP gets its
    confirmation, never a menu answer: a STOP is always confirmed
    (fcgi/chat.c handle(), as for a STOP a newer START of the same batch
    undid)."""
    c = chat("15550200122")
    assert c.say("hi") == [MAIN_MENU]
    t = int(time.time()) - 5
    # Never opted out: "start" is just the menu word.
    assert c.post(c.m_text("START", ts=t + 1)) == [MAIN_MENU]
    got = c.post(c.m_text("STOP", ts=t))
    assert c.gw.q("SELECT opted_out FROM contacts WHERE wa_id = ?", c.wa)[0]["opted_out"] == 0
    assert got == [text(STOP_ACK)]


def test_keywords_reach_their_nodes(chat):
    c = chat("15550200130")
    help_hours = node("help_hours")
    assert help_hours["interactive"]["body"]["text"] == (
        "Our team answers here Mon-Fri 08:00-17:00 (UTC+01:00). Outside these hours the menu still "
        "works, and a person answers your message when we open.")
    assert c.say("What are your opening hours?") == [help_hours]
    assert c.say("back") == [node("help")]
    help_call = node("help_call")
    assert help_call["interactive"]["body"]["text"] == (
        "This WhatsApp number cannot take calls. Please call us on +1 555 0100 (Mon-Fri 08:00-17:00, "
        "UTC+01:00), or write here: a person can answer you in this chat.")
    assert c.say("can I call you") == [help_call]
    assert c.say("price") == [node("faq_price")]
    assert c.say("back") == [node("faq")]
    # From inside a submenu too, and a keyword that only replies.
    assert c.say("where is my delivery") == [node("orders")]
    assert c.say("Thank you!") == [text("You are welcome! Type menu whenever you need something.")]
    assert c.state()["node"] == "orders"
    assert c.say("1") == [node("order_ask")]
    # Whole words only: "pricey" is no keyword, "callback" neither.
    assert c.say("menu") == [MAIN_MENU]
    assert c.say("pricey callback") == [text(HINT)]


def test_option_counters(chat, gw):
    def counts():
        return {(r["node"], r["option"]): r["count"] for r in gw.q(
            "SELECT node, option, sum(count) count FROM bot_choices WHERE phone_number_id = ? "
            "GROUP BY node, option", PNID)}
    before = counts()
    c = chat("15550200140")
    assert c.say("hi") == [MAIN_MENU]                        # not a choice
    assert c.tap("main", "orders") == [node("orders")]
    assert c.say("2") == [not_found("orders_recent")]
    assert c.tap("orders_recent", "back") == [node("orders")]
    assert c.say("back") == [MAIN_MENU]                      # a word, not a choice
    assert c.say("order status") == [node("orders")]
    assert c.say("1") == [node("order_ask")]
    assert c.say("4711") == [not_found("order_show", order_number="4711")]   # an answer
    assert c.say("price") == [node("faq_price")]              # a keyword
    assert c.tap("faq_price", "menu") == [MAIN_MENU]
    after = counts()
    diff = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert diff == {("main", "orders"): 2, ("orders", "recent"): 1, ("orders_recent", "back"): 1,
                    ("orders", "lookup"): 1, ("faq_price", "menu"): 1}


def test_silent_for_duplicates_and_old_messages(chat, gw):
    c = chat("15550200150")
    first = webhook(c.wa, [c.m_text("hi")])
    assert c.post_raw(first) == [MAIN_MENU]
    st = c.state()
    # Meta delivers the same body again: already known, nothing answered.
    st_code, _, _ = gw.post(first)
    assert st_code == 200
    gw.wait_applied()
    assert c.outbox_count() == c.rows and c.collect() == []
    assert c.state() == st
    # The same message inside another body (other bytes) is a duplicate too.
    m = json.loads(first)["entry"][0]["changes"][0]["value"]["messages"][0]
    c.silent(dict(m), c.m_text("xyzzy", ts=int(time.time()) - 25 * 3600))
    assert c.state() == st
    # A message older than 24 hours is stored, and left unanswered.
    old = c.m_text("1", ts=int(time.time()) - 25 * 3600)
    c.silent(old)
    assert gw.q("SELECT count(*) n FROM messages WHERE wamid = ?", old["id"])[0]["n"] == 1
    assert c.state() == st
    # The bot still answers new messages: only this reply reaches Graph.
    assert c.say("1") == [node("orders")]
