"""Data real-world webhooks used to lose or misfile (issue 10, items 1-8):
account events, names, number changes, edits and deletions, the business's
own phone, BSUID-only senders, preference redeliveries, lock contention,
retention of failed bodies, and the same tables whatever the arrival order."""
import copy
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from stack import BUILD, FIXTURES, fixture, started

PNID = "200300400500600"
WABA = "100200300400500"
META = {"display_phone_number": "15550001111", "phone_number_id": PNID}
API = "/api/whatsapp"
ALL = sorted(f for f in os.listdir(os.path.join(FIXTURES, "webhooks"))
             if f.endswith(".json") and f != "signature_vectors.json")


def start(extra=None):
    # Nothing here sends: the Graph API is a closed loopback port.
    env = {"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9"}
    env.update(extra or {})
    s = started(extra_env=env)
    return s


@pytest.fixture(scope="module")
def gw():
    s = start()
    yield s
    s.close()


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=30)


def body(field, value, waba=WABA, time_=None):
    e = {"id": waba, "changes": [{"field": field, "value": value}]}
    if time_ is not None:
        e["time"] = time_
    return json.dumps({"object": "whatsapp_business_account", "entry": [e]}).encode()


def msg(wamid, sender, ts, text=None, name=None, username=None, **extra):
    m = {"from": sender, "id": wamid, "timestamp": str(ts), "type": "text",
         "text": {"body": text or "hello"}}
    m.update(extra)
    contact = {"wa_id": sender, "profile": {}}
    if name is not None:
        contact["profile"]["name"] = name
    if username is not None:
        contact["profile"]["username"] = username
    return body("messages", {"messaging_product": "whatsapp", "metadata": META,
                             "contacts": [contact], "messages": [m]})


def post_all(s, bodies):
    for b in bodies:
        st, _, r = s.post(b)
        assert st == 200, r
    s.wait_applied()


def last_event(s):
    return s.q("SELECT state, error FROM webhook_events ORDER BY id DESC LIMIT 1")[0]


# 1. Account events: identity is (WABA, field, value, entry.time).

def test_same_account_event_for_two_wabas_or_two_times_is_two_events(gw):
    v = {"display_phone_number": "15550001111", "event": "FLAGGED", "current_limit": "TIER_1K"}
    field = "phone_number_quality_update"
    post_all(gw, [body(field, v, waba="700000000000001", time_=1767300000)])
    post_all(gw, [body(field, v, waba="700000000000002", time_=1767300000)])
    post_all(gw, [body(field, v, waba="700000000000001", time_=1768500000)])
    # A true redelivery stays one row and is journaled duplicate.
    post_all(gw, [body(field, v, waba="700000000000001", time_=1767300000)])
    assert last_event(gw)["state"] == "duplicate"
    rows = gw.q("SELECT waba_id FROM subscription_events WHERE field = ? AND waba_id LIKE "
                "'70000000000000_' ORDER BY waba_id", field)
    assert [r["waba_id"] for r in rows] == ["700000000000001", "700000000000001",
                                            "700000000000002"]


# 2. Names: a NULL name is filled from any message, whatever its time.

def test_name_filled_from_an_older_message(gw):
    post_all(gw, [msg("wamid.name.new", "15557000001", 1767300000)])
    post_all(gw, [msg("wamid.name.old", "15557000001", 1767200000, name="Olga",
                      username="olga.o")])
    c = gw.q("SELECT profile_name, username FROM contacts WHERE wa_id = '15557000001'")[0]
    assert c == {"profile_name": "Olga", "username": "olga.o"}
    # A known name is still protected by newer-wins.
    post_all(gw, [msg("wamid.name.older", "15557000001", 1767100000, name="Ancient")])
    assert gw.q("SELECT profile_name FROM contacts WHERE wa_id = '15557000001'")[0][
        "profile_name"] == "Olga"


def test_names_same_in_every_order_even_on_the_same_second(gw):
    results = set()
    for k, order in enumerate(itertools.permutations(range(3))):
        who = "1555710000%d" % k
        bodies = [msg("wamid.tie.%d.a" % k, who, 1767300000, name="Anna"),
                  msg("wamid.tie.%d.b" % k, who, 1767300000, name="Bert"),
                  msg("wamid.tie.%d.c" % k, who, 1767200000)]
        post_all(gw, [bodies[i] for i in order])
        c = gw.q("SELECT profile_name, first_seen_at, last_seen_at FROM contacts "
                 "WHERE wa_id = ?", who)[0]
        results.add(tuple(c.values()))
    assert len(results) == 1, results


# 3. Number changes: the same contacts and attribution in every order.

def by_uid(wamid, uid, ts, name=None):
    contact = {"user_id": uid, "profile": {"name": name} if name else {}}
    return body("messages", {"messaging_product": "whatsapp", "metadata": META,
                             "contacts": [contact],
                             "messages": [{"from_user_id": uid, "id": wamid,
                                           "timestamp": str(ts), "type": "text",
                                           "text": {"body": "hello"}}]})


@pytest.mark.parametrize("kind", ["wa_id", "user_id"])
def test_id_change_same_result_in_every_order(gw, kind):
    # user_changed_number moves a wa_id; the 2026 BSUID shape
    # (user_changed_user_id, reference 5.11) moves a user_id.
    shapes = set()
    col = kind
    for k, order in enumerate(itertools.permutations(range(4))):
        if kind == "wa_id":
            old, new = "155572%05d" % k, "155573%05d" % k
            send = lambda w, who, ts, name=None: msg(w, who, ts, name=name)
            sysmsg = {"from": old, "system": {"body": "changed", "wa_id": new,
                                              "type": "user_changed_number"}}
        else:
            old, new = "US.8%018d" % k, "US.9%018d" % k
            send = by_uid
            sysmsg = {"from_user_id": old, "system": {"body": "changed", "user_id": new,
                                                      "type": "user_changed_user_id"}}
        sysmsg.update({"id": "wamid.chg.%s.%d.sys" % (kind, k), "timestamp": "1767300000",
                       "type": "system"})
        change = body("messages", {"messaging_product": "whatsapp", "metadata": META,
                                   "messages": [sysmsg]})
        w = "wamid.chg.%s.%d." % (kind, k)
        bodies = [send(w + "before", old, 1767290000, name="Old Name"),
                  change,
                  send(w + "after", new, 1767310000, name="New Name"),
                  send(w + "late", old, 1767295000)]
        post_all(gw, [bodies[i] for i in order])
        contacts = gw.q("SELECT %s id, profile_name, first_seen_at, last_seen_at FROM contacts "
                        "WHERE %s IN (?, ?)" % (col, col), old, new)
        convs = gw.q("SELECT c.%s id, v.message_count, v.unread_count, v.first_message_at, "
                     "v.last_message_at, v.last_inbound_at FROM conversations v JOIN contacts c "
                     "ON c.id = v.contact_id WHERE c.%s IN (?, ?)" % (col, col), old, new)
        msgs = gw.q("SELECT m.wamid, c.%s id FROM messages m JOIN contacts c ON "
                    "c.id = m.contact_id JOIN conversations v ON v.id = m.conversation_id "
                    "AND v.contact_id = c.id WHERE m.wamid LIKE ? ORDER BY 1" % col, w + "%")
        for r in msgs:
            r["wamid"] = r["wamid"].split(".")[-1]
        assert len(msgs) == 4, (order, msgs)
        norm = lambda v: v.replace(new, "NEW").replace(old, "OLD") if isinstance(v, str) else v
        shapes.add(json.dumps([[{a: norm(b) for a, b in r.items()} for r in t]
                               for t in (contacts, convs, msgs)], sort_keys=True))
    assert len(shapes) == 1, shapes
    only = json.loads(shapes.pop())
    assert [c["id"] for c in only[0]] == ["NEW"]
    assert only[0][0]["profile_name"] == "New Name"
    assert only[1][0]["message_count"] == 4


# 4. Edits and deletions.

def edit(wamid, orig, sender, ts, text):
    return body("messages", {"messaging_product": "whatsapp", "metadata": META,
                             "contacts": [{"wa_id": sender, "profile": {"name": "Eve"}}],
                             "messages": [{"from": sender, "id": wamid, "timestamp": str(ts),
                                           "type": "edit", "edit": {
                                               "original_message_id": orig,
                                               "message": {"type": "text",
                                                           "text": {"body": text}}}}]})


def revoke(wamid, orig, sender, ts):
    return body("messages", {"messaging_product": "whatsapp", "metadata": META,
                             "contacts": [{"wa_id": sender, "profile": {"name": "Eve"}}],
                             "messages": [{"from": sender, "id": wamid, "timestamp": str(ts),
                                           "type": "revoke",
                                           "revoke": {"original_message_id": orig}}]})


def api_get(s, path):
    st, _, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + s.key})
    assert st == 200, b
    return json.loads(b)


@pytest.fixture(scope="module")
def keyed(gw):
    r = wactl(gw, "apikey", "create", "integrity")
    assert r.returncode == 0, r.stderr
    gw.key = r.stdout.strip().splitlines()[-1]
    return gw


def test_edit_applied_to_original_with_history_and_search(keyed):
    s = keyed
    who = "15557400001"
    post_all(s, [msg("wamid.ed.orig", who, 1767300000, text="Quote for brackets please",
                     name="Eve")])
    post_all(s, [edit("wamid.ed.e2", "wamid.ed.orig", who, 1767300200,
                      "Quote for hinges please"),
                 edit("wamid.ed.e1", "wamid.ed.orig", who, 1767300100,
                      "Quote for rails please")])
    post_all(s, [edit("wamid.ed.e2", "wamid.ed.orig", who, 1767300200,
                      "Quote for hinges please")])
    assert last_event(s)["state"] == "duplicate"
    m = s.q("SELECT text, original_text, edited_at, revoked_at FROM messages "
            "WHERE wamid = 'wamid.ed.orig'")[0]
    assert m == {"text": "Quote for hinges please", "original_text": "Quote for brackets please",
                 "edited_at": 1767300200, "revoked_at": None}
    assert [r["text"] for r in s.q("SELECT text FROM message_edits WHERE original_wamid = "
                                   "'wamid.ed.orig' ORDER BY timestamp")] == [
        "Quote for rails please", "Quote for hinges please"]
    # The conversation counts the original only.
    conv = s.q("SELECT message_count FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE c.wa_id = ?", who)[0]
    assert conv["message_count"] == 1
    got = api_get(s, "/messages?phone=" + who + "&type=text")["data"]
    assert [(g["wamid"], g["text"], g["original_text"], g["edited_at"]) for g in got] == [
        ("wamid.ed.orig", "Quote for hinges please", "Quote for brackets please", 1767300200)]
    hits = lambda q: [g["wamid"] for g in api_get(s, "/messages?q=" + q)["data"]]
    assert hits("hinges") == ["wamid.ed.orig"]
    assert hits("brackets") == []


def test_edit_and_revoke_before_the_original_are_applied_when_it_comes(keyed):
    s = keyed
    who = "15557400002"
    post_all(s, [edit("wamid.ed2.e", "wamid.ed2.orig", who, 1767300100, "second thoughts"),
                 revoke("wamid.ed2.r", "wamid.ed2.gone", who, 1767300100)])
    assert s.q("SELECT count(*) n FROM messages WHERE wamid IN "
               "('wamid.ed2.orig', 'wamid.ed2.gone')")[0]["n"] == 0
    post_all(s, [msg("wamid.ed2.orig", who, 1767300000, text="first thoughts"),
                 msg("wamid.ed2.gone", who, 1767300001, text="oops wrong chat")])
    rows = {r["wamid"]: r for r in s.q(
        "SELECT wamid, text, original_text, edited_at, revoked_at FROM messages "
        "WHERE wamid IN ('wamid.ed2.orig', 'wamid.ed2.gone')")}
    assert rows["wamid.ed2.orig"]["text"] == "second thoughts"
    assert rows["wamid.ed2.orig"]["original_text"] == "first thoughts"
    assert rows["wamid.ed2.gone"]["text"] is None
    assert rows["wamid.ed2.gone"]["original_text"] == "oops wrong chat"
    assert rows["wamid.ed2.gone"]["revoked_at"] == 1767300100
    got = api_get(s, "/messages?phone=" + who + "&type=text")["data"]
    assert {g["wamid"]: g["revoked_at"] for g in got} == {"wamid.ed2.orig": None,
                                                          "wamid.ed2.gone": 1767300100}
    assert api_get(s, "/messages?q=oops")["data"] == []


# 5. The business's own phone: echoes and history are messages.

def test_echoes_and_history_are_messages_of_their_conversations(keyed):
    s = keyed
    post_all(s, [fixture("smb_message_echoes.json"), fixture("history.json")])
    echo = json.loads(fixture("smb_message_echoes.json"))["entry"][0]["changes"][0]["value"][
        "message_echoes"][0]
    row = s.q("SELECT m.direction, m.source, m.recipient, m.sender, m.text, c.wa_id "
              "FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE wamid = ?",
              echo["id"])[0]
    assert row == {"direction": "out", "source": "echo", "recipient": "15550002222",
                   "sender": None, "text": echo["text"]["body"], "wa_id": "15550002222"}
    hist = s.q("SELECT m.direction, m.source, m.type, m.status, c.wa_id FROM messages m "
               "JOIN contacts c ON c.id = m.contact_id WHERE m.source = 'history' "
               "ORDER BY m.timestamp")
    assert [(h["direction"], h["type"], h["status"], h["wa_id"]) for h in hist] == [
        ("in", "text", None, "15550005555"), ("out", "text", "read", "15550005555"),
        ("in", "media_placeholder", None, "15550005555")]
    conv = s.q("SELECT message_count, unread_count FROM conversations v JOIN contacts c "
               "ON c.id = v.contact_id WHERE c.wa_id = '15550005555'")[0]
    assert conv == {"message_count": 3, "unread_count": 0}
    got = api_get(s, "/messages?phone=15550005555")["data"]
    assert sorted(g["source"] for g in got) == ["history"] * 3
    # Redelivered: nothing new; the journal says so.
    post_all(s, [fixture("history.json")])
    assert last_event(s)["state"] == "duplicate"
    assert s.q("SELECT count(*) n FROM messages WHERE source = 'history'")[0]["n"] == 3


def sync_entry(phone, ts, action="add", name=None):
    e = {"type": "contact", "action": action, "metadata": {"timestamp": str(ts)},
         "contact": {"phone_number": phone}}
    if name is not None:
        e["contact"].update(full_name=name, first_name=name.split()[0])
    return e


def sync_body(*entries):
    return body("smb_app_state_sync", {"messaging_product": "whatsapp", "metadata": META,
                                       "state_sync": list(entries)})


def test_business_address_book_names_contacts_in_any_order(keyed):
    """smb_app_state_sync (reference 14.2): the business's phone tells us
    the names it saved; the newest entry decides in every arrival order,
    a removal clears the name, a redelivery changes nothing."""
    s = keyed
    entries = [lambda p: sync_entry(p, 1767300100, name="Dora D"),
               lambda p: sync_entry(p, 1767300200, name="Dora Dee"),
               lambda p: sync_entry(p, 1767300150, action="remove")]
    for n, order in enumerate(itertools.permutations(range(3))):
        wa = "1555071000%d" % n
        # Written as a person types it into a phone book.
        phone = "+1 555-071-000%d" % n
        post_all(s, [sync_body(entries[i](phone)) for i in order])
        row = s.q("SELECT saved_name, saved_name_at, profile_name, first_seen_at, last_seen_at "
                  "FROM contacts WHERE wa_id = ?", wa)
        assert row == [{"saved_name": "Dora Dee", "saved_name_at": 1767300200,
                        "profile_name": None, "first_seen_at": 1767300100,
                        "last_seen_at": 1767300200}], order
    # Known only from the address book: no conversation, no message.
    assert s.q("SELECT count(*) n FROM conversations v JOIN contacts c ON c.id = v.contact_id "
               "WHERE c.wa_id = '15550710000'")[0]["n"] == 0
    assert api_get(s, "/contacts/15550710000")["saved_name"] == "Dora Dee"
    # The same second: a removal wins over an addition, in both orders.
    for n, pair in enumerate(([0, 1], [1, 0])):
        phone, both = "1555071010%d" % n, [
            sync_entry("1555071010%d" % n, 1767300300, name="Eve"),
            sync_entry("1555071010%d" % n, 1767300300, action="remove")]
        post_all(s, [sync_body(both[i]) for i in pair])
        assert s.q("SELECT saved_name FROM contacts WHERE wa_id = ?", phone) == [
            {"saved_name": None}]
    # A later removal clears the name; its redelivery is a duplicate.
    rm = sync_body(sync_entry("15550710000", 1767300400, action="remove"))
    post_all(s, [rm])
    assert last_event(s)["state"] == "applied"
    assert s.q("SELECT saved_name FROM contacts WHERE wa_id = '15550710000'") == [
        {"saved_name": None}]
    post_all(s, [rm])
    assert last_event(s)["state"] == "duplicate"
    # A message later brings the profile name beside the saved one.
    post_all(s, [msg("wamid.sync.1", "15550710001", 1767300500, name="Dora (profile)")])
    assert s.q("SELECT saved_name, profile_name, last_seen_at FROM contacts WHERE wa_id = "
               "'15550710001'") == [{"saved_name": "Dora Dee", "profile_name": "Dora (profile)",
                                     "last_seen_at": 1767300500}]
    # An entry that names no usable number is refused on its own.
    post_all(s, [sync_body(sync_entry("call me", 1767300600, name="X"),
                           sync_entry("15550710009", 1767300600, name="Fay"))])
    ev = last_event(s)
    assert ev["state"] == "partial" and "state_sync[0]" in ev["error"]
    assert s.q("SELECT saved_name FROM contacts WHERE wa_id = '15550710009'") == [
        {"saved_name": "Fay"}]


def test_echo_and_our_own_send_are_one_row_whichever_comes_first(gw):
    s = gw
    for k, echo_first in enumerate((True, False)):
        wamid = "wamid.ours.%d" % k
        with s.db() as c:
            oid = c.execute(
                "INSERT INTO outbox (phone_number_id, recipient, kind, body, text, free_form, "
                "source, next_attempt_at, created_at) VALUES (?, '15557500001', 'text', '{}', "
                "'on our way', 1, 'api', 9999999999999, 1767300000000)", (PNID,)).lastrowid
        echo = body("smb_message_echoes", {
            "messaging_product": "whatsapp", "metadata": META,
            "message_echoes": [{"from": "15550001111", "to": "15557500001", "id": wamid,
                                "timestamp": "1767300000", "type": "text",
                                "text": {"body": "on our way"}}]})
        status = body("messages", {"messaging_product": "whatsapp", "metadata": META,
                                   "statuses": [{"id": wamid, "status": "sent",
                                                 "timestamp": "1767300001",
                                                 "recipient_id": "15557500001",
                                                 "biz_opaque_callback_data": "outbox:%d" % oid}]})
        first, second = (echo, status) if echo_first else (status, echo)
        post_all(s, [first])
        assert s.q("SELECT direction FROM messages WHERE wamid = ?", wamid) == [
            {"direction": "out"}]
        post_all(s, [second])
        if not echo_first:
            assert last_event(s)["state"] == "duplicate"
        assert s.q("SELECT count(*) n FROM messages WHERE wamid = ?", wamid)[0]["n"] == 1
        assert s.q("SELECT o.message_id = m.id ok, m.status FROM outbox o JOIN messages m ON "
                   "m.wamid = o.wamid WHERE o.id = ?", oid) == [{"ok": 1, "status": "sent"}]


# 6. A sender known only by the user_id of the single contact.

def test_sender_known_only_by_user_id(gw):
    post_all(gw, [fixture("sender_user_id_only.json")])
    assert last_event(gw)["state"] == "applied", last_event(gw)
    r = gw.q("SELECT c.user_id, c.wa_id, c.profile_name, c.username, m.sender FROM messages m "
             "JOIN contacts c ON c.id = m.contact_id WHERE m.wamid LIKE 'wamid.HBgLVVNf%'")
    assert r == [{"user_id": "US.13491208655302741918", "wa_id": None,
                  "profile_name": "Dana Username", "username": "dana.makes",
                  "sender": "US.13491208655302741918"}]


# 7. A redelivered user_preferences body is a duplicate.

def test_user_preferences_redelivery_is_duplicate(gw):
    post_all(gw, [fixture("user_preferences.json")])
    assert last_event(gw)["state"] == "applied"
    post_all(gw, [fixture("user_preferences.json")])
    assert last_event(gw)["state"] == "duplicate"


# 8. Lock contention, retention of failed bodies.

def test_worker_waits_out_a_long_write_lock_and_loses_nothing():
    # The write lock is held (as a large import would) across three busy
    # timeouts.  The old worker tried the batch, then the entry alone, then
    # took the lock once more to mark the entry failed: released during
    # that third wait, the message was lost.  Retention is off so that the
    # worker's first waits are its applies.
    s = start({"WA_BUSY_TIMEOUT_MS": "2000", "WA_RETAIN_JOURNAL_DAYS": "0"})
    try:
        pid = s.q("SELECT pid FROM worker_status")[0]["pid"]
        os.kill(pid, signal.SIGSTOP)
        try:
            assert s.post(msg("wamid.busy.1", "15557600001", 1767300000))[0] == 200
            holder = sqlite3.connect(os.path.join(s.state, "wa.db"), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(5.0)   # held: an import, an erase, a migration
        holder.execute("COMMIT")
        holder.close()
        s.wait_applied(timeout=30)
        ev = s.q("SELECT state, error FROM webhook_events")
        assert ev == [{"state": "applied", "error": None}]
        assert s.q("SELECT count(*) n FROM messages WHERE wamid = 'wamid.busy.1'")[0]["n"] == 1
    finally:
        s.close()


def test_bot_reply_that_hits_a_database_error_is_not_lost():
    s = start({"WA_BOT": "on"})
    try:
        # The outbox refuses inserts while a flag row exists: a disk that
        # fills up, an I/O error, at the moment the bot queues its reply.
        with s.db() as c:
            c.execute("CREATE TABLE test_block (x)")
            c.execute("INSERT INTO test_block VALUES (1)")
            c.execute("CREATE TRIGGER test_block_outbox BEFORE INSERT ON outbox WHEN "
                      "(SELECT count(*) FROM test_block) > 0 BEGIN "
                      "SELECT RAISE(ABORT, 'injected'); END")
        now = int(time.time())
        assert s.post(msg("wamid.bot.1", "15557700001", now, text="hi", name="Bo"))[0] == 200
        s.wait_applied()
        # Not applied without its reply (the old worker committed the
        # message and dropped the reply: a replay then answered nothing).
        ev = s.q("SELECT id, state, body IS NOT NULL kept FROM webhook_events")
        assert [(e["state"], e["kept"]) for e in ev] == [("failed", 1)]
        assert s.q("SELECT count(*) n FROM messages WHERE wamid = 'wamid.bot.1'")[0]["n"] == 0
        with s.db() as c:
            c.execute("DELETE FROM test_block")
        # The operator replays what did not apply (DESIGN rule 6).
        r = wactl(s, "apikey", "create", "replay")
        key = r.stdout.strip().splitlines()[-1]
        st, _, b = s.request("POST", API + "/webhook-events/%d/replay" % ev[0]["id"],
                             headers={"Authorization": "Bearer " + key})
        assert st == 200, b
        s.wait_applied()
        out = s.q("SELECT recipient, source FROM outbox WHERE recipient = '15557700001'")
        assert out and all(o["source"] == "bot" for o in out), out
        assert s.q("SELECT count(*) n FROM messages WHERE wamid = 'wamid.bot.1'")[0]["n"] == 1
    finally:
        s.close()


def test_retention_keeps_failed_and_partial_bodies(gw):
    old = 1000  # received long ago, past any retention
    with gw.db() as c:
        ids = {}
        for state in ("applied", "duplicate", "failed", "partial"):
            ids[state] = c.execute(
                "INSERT INTO webhook_events (received_at, body, body_size, body_sha256, state) "
                "VALUES (?, x'7b7d', 2, ?, ?)", (old, "retain-" + state, state)).lastrowid
    r = wactl(gw, "purge")
    assert r.returncode == 0, r.stderr
    got = {r["state"]: r["body"] for r in gw.q(
        "SELECT state, body FROM webhook_events WHERE body_sha256 LIKE 'retain-%'")}
    assert got == {"applied": None, "duplicate": None, "failed": b"{}", "partial": b"{}"}


# Every fixture, shuffled, redelivered: the same tables on two stacks.

TABLES = {
    "contacts": "SELECT phone_number_id, wa_id, user_id, username, profile_name, "
                "profile_name_at, username_at, first_seen_at, last_seen_at, opted_out, "
                "opted_out_at, last_stop_at FROM contacts",
    "conversations": "SELECT v.phone_number_id, c.wa_id, c.user_id, v.message_count, "
                     "v.unread_count, v.first_message_at, v.last_message_at, "
                     "v.last_inbound_at, v.window_expires_at, v.assignee FROM conversations v "
                     "JOIN contacts c ON c.id = v.contact_id",
    "messages": "SELECT m.phone_number_id, m.wamid, m.direction, c.wa_id, c.user_id, "
                "m.sender, m.recipient, m.type, m.text, m.media_id, m.reaction_to, "
                "m.reaction_emoji, m.context_wamid, m.error_code, m.timestamp, m.status, "
                "m.status_at, m.raw, m.source, m.original_text, m.edited_at, m.revoked_at, "
                "v.contact_id = m.contact_id same_contact FROM messages m "
                "LEFT JOIN contacts c ON c.id = m.contact_id "
                "LEFT JOIN conversations v ON v.id = m.conversation_id",
    "message_statuses": "SELECT phone_number_id, wamid, status, timestamp, recipient_id, "
                        "pricing_category, error_code, raw FROM message_statuses",
    "subscription_events": "SELECT waba_id, phone_number_id, field, event, raw, item_sha256 "
                           "FROM subscription_events",
    "webhook_errors": "SELECT phone_number_id, code, title, raw, item_sha256 FROM webhook_errors",
    "message_edits": "SELECT wamid, original_wamid, kind, type, text, timestamp, raw "
                     "FROM message_edits",
    "contact_renames": "SELECT * FROM contact_renames",
    "media": "SELECT phone_number_id, media_id, direction, mime_type FROM media",
}


def snapshot(s):
    out = {}
    for name, sql in TABLES.items():
        rows = [json.dumps(r, sort_keys=True, default=lambda b: b.hex()) for r in s.q(sql)]
        out[name] = sorted(rows)
    return out


def test_every_fixture_shuffled_twice_gives_identical_tables():
    bodies = [fixture(n) for n in ALL]
    snaps = []
    for seed in (1, 2):
        order = bodies * 2
        random.Random(seed).shuffle(order)
        assert order != bodies * 2
        s = start()
        try:
            post_all(s, order)
            ev = s.q("SELECT state, error FROM webhook_events WHERE state NOT IN "
                     "('applied', 'duplicate')")
            assert ev == [], ev
            snaps.append(snapshot(s))
        finally:
            s.close()
    for name in TABLES:
        assert snaps[0][name] == snaps[1][name], name
    assert len(snaps[0]["messages"]) > 30 and snaps[0]["message_edits"]
