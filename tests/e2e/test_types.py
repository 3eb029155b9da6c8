"""The richer sends (WhatsApp Flow, location request, product, product
list, catalog, typing indicator) and their replies (a Flow's nfm_reply, an
order), through the real stack: nginx, responders, worker, SQLite and the
fake Graph API, which checks these bodies as Meta does."""
import copy
import http.client
import json
import os
import subprocess
import time
import urllib.parse

import pytest

from stack import BUILD, fixture, started, wait_until

API = "/api/whatsapp"
PNID = "200300400500600"        # the Stack's WHATSAPP_PHONE_NUMBER_ID, `default`
MSGS = "/v23.0/%s/messages" % PNID
WHO = "15550004444"


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def gw(graph):
    s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off",
                           "WA_API_RATE": "5000", "WA_PAIR_BURST": "45",
                           "WA_PAIR_INTERVAL_MS": "0"})
    try:
        r = wactl(s, "apikey", "create", "types")
        assert r.returncode == 0, r.stderr
        s.key = r.stdout.strip().splitlines()[-1]
    except Exception:
        s.close()
        raise
    yield s
    s.close()


@pytest.fixture
def fresh(graph):
    graph.reset()
    yield graph
    graph.reset()


def post_json(s, path, doc):
    h = {"Authorization": "Bearer " + s.key, "Content-Type": "application/json"}
    st, _, b = s.request("POST", API + path, json.dumps(doc).encode(), h)
    return st, json.loads(b)


def get(s, path):
    st, _, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + s.key})
    return st, json.loads(b)


def inbound(s, sender, name="text.json", edit=None):
    """Posts fixture name as a fresh message from sender (opening the
    24-hour window) and waits until it is applied; returns its wamid."""
    doc = json.loads(fixture(name))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(int(time.time())),
              "id": "wamid.types.%s" % os.urandom(8).hex()})
    if edit:
        edit(m)
    st, _, _ = s.post(json.dumps(doc).encode())
    assert st == 200
    s.wait_applied()
    return m["id"]


def outbox_count(s):
    return s.q("SELECT count(*) AS n FROM outbox")[0]["n"]


def wait_sent(s, oid):
    def done():
        row = s.q("SELECT * FROM outbox WHERE id = ?", oid)[0]
        return row if row["state"] in ("accepted", "failed") else None
    return wait_until(done, timeout=15, what="outbox %d sent" % oid)


def sent_for(g, oid):
    return [r for r in g.requests(MSGS) if (r["json"] or {}).get("biz_opaque_callback_data")
            == "outbox:%d" % oid]


def send_ok(s, g, req):
    """POST /send, the worker's call to the fake, and Meta's body as sent."""
    st, row = post_json(s, "/send", req)
    assert st == 202, row
    out = wait_sent(s, row["id"])
    assert out["state"] == "accepted", out
    got = sent_for(g, row["id"])
    assert len(got) == 1
    return got[0]["json"]


FLOW = {"type": "interactive", "interactive": {
    "type": "flow", "header": {"type": "text", "text": "Tables"},
    "body": {"text": "Book a table for tonight"}, "footer": {"text": "Acme Bistro"},
    "action": {"name": "flow", "parameters": {
        "flow_message_version": "3", "flow_token": "flowtok-7f3a91", "flow_id": "1234567890",
        "flow_cta": "Book now", "flow_action": "navigate",
        "flow_action_payload": {"screen": "BOOKING", "data": {"party": 2}}}}}}
FLOW_BY_NAME = {"type": "interactive", "interactive": {
    "type": "flow", "body": {"text": "Tell us how we did"},
    "action": {"name": "flow", "parameters": {
        "flow_message_version": "3", "flow_name": "feedback", "flow_cta": "Start",
        "flow_action": "data_exchange"}}}}
LOCREQ = {"type": "interactive", "interactive": {
    "type": "location_request_message", "body": {"text": "Where shall we deliver?"},
    "action": {"name": "send_location"}}}
PRODUCT = {"type": "interactive", "interactive": {
    "type": "product", "body": {"text": "The hammer you asked about"},
    "action": {"catalog_id": "300400500600700", "product_retailer_id": "SKU-HAMMER-01"}}}
PLIST = {"type": "interactive", "interactive": {
    "type": "product_list", "header": {"type": "text", "text": "Tools"},
    "body": {"text": "Pick what you need"}, "footer": {"text": "Free delivery"},
    "action": {"catalog_id": "300400500600700", "sections": [
        {"title": "Hammers", "product_items": [{"product_retailer_id": "SKU-HAMMER-01"},
                                               {"product_retailer_id": "SKU-HAMMER-02"}]},
        {"title": "Nails", "product_items": [{"product_retailer_id": "SKU-NAILS-500"}]}]}}}
CATALOG = {"type": "interactive", "interactive": {
    "type": "catalog_message", "body": {"text": "Browse our range"},
    "action": {"name": "catalog_message",
               "parameters": {"thumbnail_product_retailer_id": "SKU-HAMMER-01"}}}}

GOOD = [FLOW, FLOW_BY_NAME, LOCREQ, PRODUCT, PLIST, CATALOG]


def test_each_type_reaches_graph_as_meta_takes_it(gw, fresh):
    inbound(gw, WHO)
    for req in GOOD:
        req = dict(req, to=WHO)
        got = send_ok(gw, fresh, req)
        oid = int(got["biz_opaque_callback_data"].split(":")[1])
        assert got == dict(req, messaging_product="whatsapp", recipient_type="individual",
                           biz_opaque_callback_data="outbox:%d" % oid)
        msg = gw.q("SELECT m.type, m.text FROM messages m JOIN outbox o ON o.message_id = m.id "
                   "WHERE o.id = ?", oid)[0]
        assert msg["type"] == "interactive"
        assert msg["text"] == req["interactive"].get("body", {}).get("text")


def bad(base, path, value=None, drop=False):
    """base with the value at path (keys and indexes) replaced or dropped."""
    doc = copy.deepcopy(base)
    o = doc
    for k in path[:-1]:
        o = o[k]
    if drop:
        del o[path[-1]]
    else:
        o[path[-1]] = value
    return doc


FP = ("interactive", "action", "parameters")
BAD = [
    # (request, local code, local field, Meta's code, a word Meta's details name)
    (bad(FLOW, FP + ("flow_cta",), "x" * 21), "too_long",
     "interactive.action.parameters.flow_cta", 131009, "flow_cta"),
    (bad(FLOW, FP + ("flow_name",), "booking"), "conflict",
     "interactive.action.parameters.flow_name", 131009, "flow_name"),
    (bad(FLOW, FP + ("flow_id",), drop=True), "required",
     "interactive.action.parameters.flow_id", 131008, "flow_id"),
    (bad(FLOW, FP + ("flow_message_version",), "2"), "invalid",
     "interactive.action.parameters.flow_message_version", 131009, "flow_message_version"),
    (bad(FLOW, FP + ("flow_action_payload",), drop=True), "required",
     "interactive.action.parameters.flow_action_payload", 131008, "flow_action_payload"),
    (bad(FLOW_BY_NAME, FP + ("flow_action_payload",), {"screen": "A"}), "conflict",
     "interactive.action.parameters.flow_action_payload", 131009, "flow_action_payload"),
    (bad(FLOW, FP + ("flow_action_payload", "data"), {}), "empty",
     "interactive.action.parameters.flow_action_payload.data", 131009, "data"),
    (bad(LOCREQ, ("interactive", "action", "name"), "location"), "invalid",
     "interactive.action.name", 131009, "name"),
    (bad(LOCREQ, ("interactive", "body"), drop=True), "required",
     "interactive.body", 131008, "body"),
    (bad(LOCREQ, ("interactive", "header"), {"type": "text", "text": "h"}), "unknown_field",
     "interactive.header", 100, "header"),
    (bad(PRODUCT, ("interactive", "action", "product_retailer_id"), drop=True), "required",
     "interactive.action.product_retailer_id", 131008, "product_retailer_id"),
    (bad(PRODUCT, ("interactive", "header"), {"type": "text", "text": "h"}), "unknown_field",
     "interactive.header", 100, "header"),
    (bad(PLIST, ("interactive", "action", "sections", 0, "product_items"),
         [{"product_retailer_id": "SKU-%d" % i} for i in range(30)]), "too_many",
     "interactive.action.sections[1].product_items[0]", 131009, "30"),
    (bad(PLIST, ("interactive", "action", "sections"),
         [{"title": "S%d" % i, "product_items": [{"product_retailer_id": "X%d" % i}]}
          for i in range(11)]), "too_many", "interactive.action.sections", 131009, "sections"),
    (bad(PLIST, ("interactive", "header"), drop=True), "required",
     "interactive.header", 131008, "header"),
    (bad(PLIST, ("interactive", "action", "sections", 0, "title"), drop=True), "required",
     "interactive.action.sections[0].title", 131008, "title"),
    (bad(CATALOG, ("interactive", "action", "name"), "catalog"), "invalid",
     "interactive.action.name", 131009, "name"),
    (bad(CATALOG, ("interactive", "body"), drop=True), "required",
     "interactive.body", 131008, "body"),
]
IDS = ["%s-%s" % (b[0]["interactive"]["type"], b[2].split(".")[-1]) for b in BAD]


@pytest.mark.parametrize("req,code,field,meta_code,meta_word", BAD, ids=IDS)
def test_bad_ones_are_422_and_never_queued(gw, req, code, field, meta_code, meta_word):
    before = outbox_count(gw)
    st, body = post_json(gw, "/send", dict(req, to=WHO))
    assert st == 422, body
    assert body["error"]["code"] == code and body["error"]["field"] == field, body
    assert body["error"]["message"]
    assert outbox_count(gw) == before


def graph_post(g, doc):
    u = urllib.parse.urlparse(g.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("POST", MSGS, json.dumps(doc).encode(),
                  {"Authorization": "Bearer test-token", "Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


@pytest.mark.parametrize("req,code,field,meta_code,meta_word", BAD, ids=IDS)
def test_fake_graph_refuses_them_as_meta_does(graph, req, code, field, meta_code, meta_word):
    st, body = graph_post(graph, dict(req, to=WHO, messaging_product="whatsapp"))
    assert st == 400, body
    err = body["error"]
    assert err["code"] == meta_code, err
    assert meta_word in err["error_data"]["details"], err


def test_fake_graph_takes_the_good_ones(graph):
    for req in GOOD:
        st, body = graph_post(graph, dict(req, to=WHO, messaging_product="whatsapp"))
        assert st == 200, (req, body)
        assert body["messages"][0]["id"].startswith("wamid.")


def catalog_of(s):
    return s.q("SELECT catalog_id FROM numbers WHERE phone_number_id = ?", PNID)[0]["catalog_id"]


def test_catalog_defaults_to_the_sending_number(gw, fresh):
    inbound(gw, WHO)
    product = bad(PRODUCT, ("interactive", "action", "catalog_id"), drop=True)
    plist = bad(PLIST, ("interactive", "action", "catalog_id"), drop=True)
    try:
        assert wactl(gw, "numbers", "edit", "default", "--catalog", "none").returncode == 0
        # Neither the request nor the number names a catalog: refused, nothing queued.
        before = outbox_count(gw)
        for req in (product, plist):
            st, body = post_json(gw, "/send", dict(req, to=WHO))
            assert st == 422, body
            assert body["error"]["code"] == "catalog_required"
            assert body["error"]["field"] == "interactive.action.catalog_id"
            assert "--catalog" in body["error"]["message"]
        assert outbox_count(gw) == before
        # A bad id is refused by wactl and changes nothing.
        r = wactl(gw, "numbers", "edit", "default", "--catalog", "12ab")
        assert r.returncode == 2 and "catalog" in r.stderr
        assert catalog_of(gw) is None
        r = wactl(gw, "numbers", "edit", "default", "--catalog", "990011223344")
        assert r.returncode == 0, r.stderr
        assert catalog_of(gw) == "990011223344"
        assert "990011223344" in wactl(gw, "numbers", "show", "default").stdout
        # The number's catalog fills both kinds; a request's own one wins.
        got = send_ok(gw, fresh, dict(product, to=WHO))
        assert got["interactive"]["action"] == {"product_retailer_id": "SKU-HAMMER-01",
                                                "catalog_id": "990011223344"}
        got = send_ok(gw, fresh, dict(plist, to=WHO))
        assert got["interactive"]["action"]["catalog_id"] == "990011223344"
        assert got["interactive"]["action"]["sections"] == PLIST["interactive"]["action"]["sections"]
        got = send_ok(gw, fresh, dict(PRODUCT, to=WHO))
        assert got["interactive"]["action"]["catalog_id"] == "300400500600700"
        # Cleared again: refused again.
        assert wactl(gw, "numbers", "edit", "default", "--catalog", "none").returncode == 0
        assert catalog_of(gw) is None
        assert post_json(gw, "/send", dict(product, to=WHO))[1]["error"]["code"] == "catalog_required"
    finally:
        wactl(gw, "numbers", "edit", "default", "--catalog", "none")


def test_numbers_add_takes_a_catalog(gw, graph):
    other = "110220330440551"
    graph.set_number(other, {"display_phone_number": "+1 555-010-3333", "verified_name": "Acme Shop",
                             "quality_rating": "GREEN", "status": "CONNECTED"})
    try:
        r = wactl(gw, "numbers", "add", other, "--label", "shop", "--catalog", "4455")
        assert r.returncode == 0, r.stderr
        assert gw.q("SELECT catalog_id FROM numbers WHERE phone_number_id = ?",
                    other)[0]["catalog_id"] == "4455"
        # add takes no "none", and no non-digits.
        r = wactl(gw, "numbers", "add", other, "--catalog", "none")
        assert r.returncode == 2
        assert gw.q("SELECT catalog_id FROM numbers WHERE phone_number_id = ?",
                    other)[0]["catalog_id"] == "4455"
    finally:
        wactl(gw, "numbers", "remove", other)
        graph.set_number(other, None)


def reads(g):
    return [r["json"] for r in g.requests(MSGS) if (r["json"] or {}).get("status") == "read"]


def test_mark_read_with_typing_indicator(gw, fresh):
    who = "15550004455"
    wamid = inbound(gw, who)
    st, r = post_json(gw, "/mark-read", {"phone": who, "typing": True})
    assert st == 200 and r["read_receipt_outbox_id"], r
    assert wait_sent(gw, r["read_receipt_outbox_id"])["state"] == "accepted"
    assert reads(fresh) == [{"messaging_product": "whatsapp", "status": "read", "message_id": wamid,
                             "typing_indicator": {"type": "text"}}]
    # Without it (or false): a plain read receipt.
    wamid2 = inbound(gw, who)
    st, r = post_json(gw, "/mark-read", {"phone": who, "typing": False})
    assert st == 200
    wait_sent(gw, r["read_receipt_outbox_id"])
    assert reads(fresh)[-1] == {"messaging_product": "whatsapp", "status": "read",
                                "message_id": wamid2}
    # Not a boolean: refused before anything changes.
    inbound(gw, who)
    before = outbox_count(gw)
    st, r = post_json(gw, "/mark-read", {"phone": who, "typing": "yes"})
    assert st == 422 and r["error"]["code"] == "bad_type" and r["error"]["field"] == "typing"
    assert outbox_count(gw) == before
    assert gw.q("SELECT v.unread_count FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                "WHERE c.wa_id = ?", who)[0]["unread_count"] == 1


def test_flow_reply_and_order_shown_by_messages(gw):
    who = "15550004466"
    nfm = json.loads(fixture("interactive_nfm_reply.json"))["entry"][0]["changes"][0]["value"][
        "messages"][0]["interactive"]["nfm_reply"]
    order = json.loads(fixture("order.json"))["entry"][0]["changes"][0]["value"]["messages"][0]["order"]
    w_flow = inbound(gw, who, "interactive_nfm_reply.json")
    w_order = inbound(gw, who, "order.json")
    w_button = inbound(gw, who, "interactive_button_reply.json")
    for path in ("/messages?phone=%s" % who, None):
        if path is None:
            conv = gw.q("SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
                        "WHERE c.wa_id = ?", who)[0]["id"]
            path = "/conversations/%d/messages" % conv
        st, body = get(gw, path)
        assert st == 200
        rows = {m["wamid"]: m for m in body["data"]}
        f = rows[w_flow]["flow_reply"]
        assert f["name"] == "flow" and f["body"] == "Sent"
        assert f["response"] == json.loads(nfm["response_json"])
        assert f["flow_token"] == "flowtok-7f3a91"
        o = rows[w_order]["order"]
        assert o == {"catalog_id": order["catalog_id"], "text": order["text"],
                     "product_items": order["product_items"]}
        assert "flow_reply" not in rows[w_button] and "order" not in rows[w_button]
        assert rows[w_order]["type"] == "order" and rows[w_order]["text"] == order["text"]
