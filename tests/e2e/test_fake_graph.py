"""The fake Graph API (fake_graph.py): driven over plain HTTP the way
wa-worker's libcurl drives Meta, it must answer like the reference says
Meta answers, inject each fault, and keep up with a benchmark."""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_graph  # noqa: E402
from fake_graph import FakeGraph  # noqa: E402

TOKEN = "test-token"
PNID = "200300400500600"
MSG = "/v23.0/%s/messages" % PNID
MEDIA = "/v23.0/%s/media" % PNID
GRAPH = os.path.join(fake_graph.TOP, "tests", "fixtures", "graph")
HOOKS = os.path.join(fake_graph.TOP, "tests", "fixtures", "webhooks")


def fixture(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def fg():
    g = FakeGraph(token=TOKEN)
    yield g
    g.close()


@pytest.fixture(autouse=True)
def clean(request):
    yield
    if "fg" in request.fixturenames:
        request.getfixturevalue("fg").reset()


def call(fg, method, path, body=None, headers=None, token=TOKEN, timeout=10):
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def send(fg, body, **kw):
    return call(fg, "POST", MSG, body, **kw)


def text(to="15550002222", body="hello", **extra):
    return dict({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                 "type": "text", "text": {"body": body}}, **extra)


def buttons(n=2, title="Yes"):
    return {"messaging_product": "whatsapp", "to": "15550002222", "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Pick one"},
                            "action": {"buttons": [{"type": "reply", "reply": {"id": "b%d" % i,
                                                                               "title": "%s %d" % (title, i)}}
                                                   for i in range(n)]}}}


def listmsg(rows=3, sections=1):
    return {"messaging_product": "whatsapp", "to": "15550002222", "type": "interactive",
            "interactive": {"type": "list", "header": {"type": "text", "text": "Menu"},
                            "body": {"text": "Choose"}, "footer": {"text": "thanks"},
                            "action": {"button": "Open", "sections": [
                                {"title": "Section %d" % s,
                                 "rows": [{"id": "r%d_%d" % (s, i), "title": "Row %d" % i,
                                           "description": "about row %d" % i} for i in range(rows)]}
                                for s in range(sections)]}}}


def template(to="15550002222"):
    return {"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": "Alice"}]}]}}


def err_of(data):
    doc = json.loads(data)
    assert list(doc) == ["error"]
    return doc["error"]


def assert_meta_error(status, data, http_status, code, details=None):
    assert status == http_status, data
    e = err_of(data)
    assert e["code"] == code
    assert e["type"] in ("OAuthException", "GraphMethodException")
    assert isinstance(e["message"], str) and e["message"]
    assert isinstance(e["fbtrace_id"], str) and len(e["fbtrace_id"]) >= 10
    if details is not None:
        # same keys as Meta's fixture for a WhatsApp error
        shape = err_of(fixture(os.path.join(GRAPH, "error_131047.json")))
        assert set(e) == set(shape), e
        assert e["error_data"]["messaging_product"] == "whatsapp"
        assert details in e["error_data"]["details"], e
    return e


# Sends

SENDS = [
    ("text", text()),
    ("text_preview", text(body="see https://example.com/a", preview_url=True)),
    ("image_id", {"messaging_product": "whatsapp", "to": "15550002222", "type": "image",
                  "image": {"id": "1011121314151601", "caption": "a photo"}}),
    ("image_link", {"messaging_product": "whatsapp", "to": "15550002222", "type": "image",
                    "image": {"link": "https://example.com/a.jpg"}}),
    ("document", {"messaging_product": "whatsapp", "to": "15550002222", "type": "document",
                  "document": {"id": "1011", "filename": "a.pdf", "caption": "invoice"}}),
    ("audio", {"messaging_product": "whatsapp", "to": "15550002222", "type": "audio", "audio": {"id": "7"}}),
    ("video", {"messaging_product": "whatsapp", "to": "15550002222", "type": "video",
               "video": {"link": "http://example.com/v.mp4", "caption": "v"}}),
    ("sticker", {"messaging_product": "whatsapp", "to": "15550002222", "type": "sticker", "sticker": {"id": "9"}}),
    ("location", {"messaging_product": "whatsapp", "to": "15550002222", "type": "location",
                  "location": {"latitude": 52.52, "longitude": 13.405, "name": "Berlin", "address": "Mitte"}}),
    ("contacts", {"messaging_product": "whatsapp", "to": "15550002222", "type": "contacts",
                  "contacts": [{"name": {"formatted_name": "Bob B", "first_name": "Bob"},
                                "phones": [{"phone": "+1 555 000 3333", "type": "CELL", "wa_id": "15550003333"}]}]}),
    ("reaction", {"messaging_product": "whatsapp", "to": "15550002222", "type": "reaction",
                  "reaction": {"message_id": "wamid.X", "emoji": "\U0001F44D"}}),
    ("reaction_remove", {"messaging_product": "whatsapp", "to": "15550002222", "type": "reaction",
                         "reaction": {"message_id": "wamid.X", "emoji": ""}}),
    ("buttons", buttons(3)),
    ("list", listmsg(rows=5, sections=2)),
    ("cta_url", {"messaging_product": "whatsapp", "to": "15550002222", "type": "interactive",
                 "interactive": {"type": "cta_url", "body": {"text": "Open the shop"},
                                 "action": {"name": "cta_url", "parameters": {
                                     "display_text": "Shop", "url": "https://example.com/shop"}}}}),
    ("reply_context", text(context={"message_id": "wamid.INBOUND"}, biz_opaque_callback_data="order:A1")),
    ("default_type", {"messaging_product": "whatsapp", "to": "15550002222", "text": {"body": "no type"}}),
    ("text_4096_emoji", text(body="\U0001F600" * 4096)),
    ("bsuid", text(to="US.13491208655302741918")),
]


def test_good_sends_answer_like_meta_with_unique_wamids(fg):
    shape = json.loads(fixture(os.path.join(GRAPH, "send_success.json")))
    wamids = []
    for name, body in SENDS:
        st, hdr, data = send(fg, body)
        assert st == 200, (name, data)
        assert hdr["content-type"].startswith("application/json")
        assert data.isascii()
        doc = json.loads(data)
        assert set(doc) == set(shape), name
        assert doc["messaging_product"] == "whatsapp"
        assert len(doc["contacts"]) == 1 and len(doc["messages"]) == 1
        c = doc["contacts"][0]
        assert c["input"] == body["to"]
        if name == "bsuid":
            assert c == {"input": body["to"], "user_id": body["to"]}
        else:
            assert c == {"input": body["to"], "wa_id": body["to"].lstrip("+")}
        m = doc["messages"][0]
        assert set(m) == {"id"}, name        # message_status only for templates
        assert m["id"].startswith("wamid.") and 6 < len(m["id"]) <= 128
        base64.b64decode(m["id"][6:], validate=True)
        wamids.append(m["id"])
    assert len(set(wamids)) == len(SENDS)
    recs = fg.requests(MSG)
    assert [r["json"] for r in recs] == [b for _, b in SENDS]
    assert [r["reply"]["messages"][0]["id"] for r in recs] == wamids
    assert all(r["status"] == 200 for r in recs)


def test_template_send_is_accepted_and_to_normalised(fg):
    shape = json.loads(fixture(os.path.join(GRAPH, "send_success_template.json")))
    st, _, data = send(fg, template(to="+1 555 000 2222"))
    assert st == 200, data
    doc = json.loads(data)
    assert doc["contacts"] == shape["contacts"]           # {"input": "+1 555 000 2222", "wa_id": "15550002222"}
    assert set(doc["messages"][0]) == set(shape["messages"][0])
    assert doc["messages"][0]["message_status"] == "accepted"
    assert doc["messages"][0]["id"] != shape["messages"][0]["id"]


def test_read_receipt_and_typing_indicator(fg):
    ok = json.loads(fixture(os.path.join(GRAPH, "success_true.json")))
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    st, _, data = send(fg, read)
    assert (st, json.loads(data)) == (200, ok)
    st, _, data = send(fg, dict(read, typing_indicator={"type": "text"}))
    assert (st, json.loads(data)) == (200, ok)
    assert [r["reply"] for r in fg.requests(MSG)] == [ok, ok]


def test_records_carry_the_request(fg):
    st, _, _ = call(fg, "POST", MSG + "?debug=all", json.dumps(text()),
                    headers={"Content-Type": "application/json; charset=utf-8", "X-Custom": "Yes"})
    assert st == 200
    t0 = time.time()
    (r,) = fg.requests()
    assert r["method"] == "POST" and r["path"] == MSG and r["query"] == {"debug": "all"}
    assert r["headers"]["authorization"] == "Bearer " + TOKEN and r["headers"]["x-custom"] == "Yes"
    assert all(k == k.lower() for k in r["headers"])
    assert json.loads(r["body"]) == r["json"] == text()
    assert r["status"] == 200 and r["reply"]["messages"][0]["id"].startswith("wamid.")
    assert t0 - 5 < r["t"] <= t0
    assert fg.requests("/v23.0/other") == [] and len(fg.requests(contains="/messages")) == 1


# Token

def test_bad_or_missing_token_is_401_code_190(fg):
    shape = err_of(fixture(os.path.join(GRAPH, "error_190.json")))
    for token in ("wrong", None, ""):
        st, hdr, data = send(fg, text(), token=token)
        e = assert_meta_error(st, data, 401, 190)
        assert set(e) <= set(shape) and e["type"] == "OAuthException"
        assert "invalid_token" in hdr["www-authenticate"]
    st, _, data = call(fg, "GET", "/v23.0/1011121314151601", token="wrong")
    assert_meta_error(st, data, 401, 190)
    assert [r["status"] for r in fg.requests()] == [401] * 4


def test_set_token_rotates_the_accepted_token(fg):
    try:
        fg.set_token("rotated")
        assert send(fg, text())[0] == 401
        assert send(fg, text(), token="rotated")[0] == 200
    finally:
        fg.set_token(TOKEN)
    assert send(fg, text())[0] == 200


def test_appsecret_proof_when_required():
    with FakeGraph(token="tok", app_secret="s3cret", require_appsecret_proof=True) as g:
        proof = hmac.new(b"s3cret", b"tok", hashlib.sha256).hexdigest()
        st, _, data = call(g, "POST", MSG, text(), token="tok")
        assert_meta_error(st, data, 400, 100)
        assert "appsecret_proof" in err_of(data)["message"]
        st, _, data = call(g, "POST", MSG + "?appsecret_proof=" + "0" * 64, text(), token="tok")
        assert_meta_error(st, data, 400, 100)
        assert call(g, "POST", MSG + "?appsecret_proof=" + proof, text(), token="tok")[0] == 200


# Validation

def mod(body, fn):
    body = json.loads(json.dumps(body))
    fn(body)
    return body


REFUSALS = [
    ("no_messaging_product", mod(text(), lambda b: b.pop("messaging_product")), 100, "messaging_product"),
    ("messaging_product_sms", text(messaging_product="sms"), 100, "messaging_product"),
    ("no_to", mod(text(), lambda b: b.pop("to")), 100, "to"),
    ("to_not_a_number", text(to="alice"), 100, "Param to"),
    ("to_too_long", text(to="1" * 16), 100, "Param to"),
    ("unknown_type", text(type="fax"), 100, "Param type"),
    ("bad_recipient_type", text(recipient_type="broadcast"), 100, "recipient_type"),
    ("opaque_too_long", text(biz_opaque_callback_data="x" * 513), 100, "biz_opaque_callback_data"),
    ("no_type_object", mod(text(), lambda b: b.pop("text")), 131008, "text"),
    ("type_object_not_object", text(text="hi"), 100, "text"),
    ("no_body", text(text={"preview_url": False}), 131008, "text['body']"),
    ("empty_body", text(body=""), 131008, "text['body']"),
    ("body_4097", text(body="x" * 4097), 100, "text['body']"),
    ("caption_1025", {"messaging_product": "whatsapp", "to": "15550002222", "type": "image",
                      "image": {"id": "1", "caption": "c" * 1025}}, 100, "image['caption']"),
    ("media_neither", {"messaging_product": "whatsapp", "to": "15550002222", "type": "video",
                       "video": {"caption": "c"}}, 131008, "video"),
    ("media_both", {"messaging_product": "whatsapp", "to": "15550002222", "type": "image",
                    "image": {"id": "1", "link": "https://example.com/a.jpg"}}, 131009, "image"),
    ("media_link_not_http", {"messaging_product": "whatsapp", "to": "15550002222", "type": "document",
                             "document": {"link": "ftp://example.com/a.pdf"}}, 131009, "document['link']"),
    ("audio_caption", {"messaging_product": "whatsapp", "to": "15550002222", "type": "audio",
                       "audio": {"id": "1", "caption": "no"}}, 100, "audio['caption']"),
    ("location_no_latitude", {"messaging_product": "whatsapp", "to": "15550002222", "type": "location",
                              "location": {"longitude": 1.0}}, 131008, "location['latitude']"),
    ("location_out_of_range", {"messaging_product": "whatsapp", "to": "15550002222", "type": "location",
                               "location": {"latitude": 91, "longitude": 1.0}}, 131009, "location['latitude']"),
    ("contact_no_formatted_name", {"messaging_product": "whatsapp", "to": "15550002222", "type": "contacts",
                                   "contacts": [{"name": {"first_name": "Bob"}}]}, 131008,
     "contacts[0]['name']['formatted_name']"),
    ("reaction_no_message_id", {"messaging_product": "whatsapp", "to": "15550002222", "type": "reaction",
                                "reaction": {"emoji": "x"}}, 131008, "reaction['message_id']"),
    ("buttons_0", buttons(0), 131009, "buttons"),
    ("buttons_4", buttons(4), 131009, "buttons"),
    ("button_title_21", buttons(1, title="x" * 19), 131009, "interactive['action']['buttons'][0]['reply']['title']"),
    ("button_no_title", mod(buttons(2), lambda b: b["interactive"]["action"]["buttons"][1]["reply"].pop("title")),
     131008, "interactive['action']['buttons'][1]['reply']['title']"),
    ("button_duplicate_id", mod(buttons(2), lambda b: b["interactive"]["action"]["buttons"][1]["reply"]
                                .update(id="b0")), 131009, "interactive['action']['buttons'][1]['reply']"),
    ("interactive_no_body", mod(buttons(2), lambda b: b["interactive"].pop("body")), 131008,
     "interactive['body']['text']"),
    ("interactive_body_1025", mod(buttons(2), lambda b: b["interactive"]["body"].update(text="x" * 1025)),
     131009, "interactive['body']['text']"),
    ("interactive_unknown_type", mod(buttons(2), lambda b: b["interactive"].update(type="carousel")), 100,
     "interactive['type']"),
    ("header_61", mod(buttons(2), lambda b: b["interactive"].update(header={"type": "text", "text": "h" * 61})),
     131009, "interactive['header']['text']"),
    ("footer_61", mod(buttons(2), lambda b: b["interactive"].update(footer={"text": "f" * 61})),
     131009, "interactive['footer']['text']"),
    ("list_11_rows", listmsg(rows=11), 131009, "row count"),
    ("list_11_rows_over_sections", listmsg(rows=4, sections=3), 131009, "row count"),
    ("list_11_sections", listmsg(rows=1, sections=11), 131009, "sections"),
    ("list_row_title_25", mod(listmsg(), lambda b: b["interactive"]["action"]["sections"][0]["rows"][2]
                              .update(title="t" * 25)), 131009,
     "interactive['action']['sections'][0]['rows'][2]['title']"),
    ("list_row_description_73", mod(listmsg(), lambda b: b["interactive"]["action"]["sections"][0]["rows"][0]
                                    .update(description="d" * 73)), 131009, "['description']"),
    ("list_no_button", mod(listmsg(), lambda b: b["interactive"]["action"].pop("button")), 131008,
     "interactive['action']['button']"),
    ("list_section_title_missing", mod(listmsg(sections=2), lambda b: b["interactive"]["action"]["sections"][1]
                                       .pop("title")), 131008, "interactive['action']['sections'][1]['title']"),
    ("cta_display_text_21", {"messaging_product": "whatsapp", "to": "15550002222", "type": "interactive",
                             "interactive": {"type": "cta_url", "body": {"text": "b"}, "action": {
                                 "name": "cta_url", "parameters": {"display_text": "d" * 21,
                                                                   "url": "https://example.com"}}}},
     131009, "display_text"),
    ("template_no_name", mod(template(), lambda b: b["template"].pop("name")), 131008, "template['name']"),
    ("template_no_language", mod(template(), lambda b: b["template"].pop("language")), 131008,
     "template['language']"),
    ("template_no_language_code", mod(template(), lambda b: b["template"]["language"].pop("code")), 131008,
     "template['language']['code']"),
    ("read_no_message_id", {"messaging_product": "whatsapp", "status": "read"}, 131008, "message_id"),
    ("read_bad_status", {"messaging_product": "whatsapp", "status": "delivered", "message_id": "wamid.X"},
     100, "status"),
    ("typing_bad_type", {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X",
                         "typing_indicator": {"type": "audio"}}, 131009, "typing_indicator"),
    ("context_no_message_id", text(context={}), 131008, "context['message_id']"),
]


@pytest.mark.parametrize("name,body,code,field", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_validation_refusals(fg, name, body, code, field):
    st, _, data = send(fg, body)
    assert_meta_error(st, data, 400, code, details=field)
    (r,) = fg.requests(MSG)
    assert r["status"] == 400 and r["reply"]["error"]["code"] == code


def test_body_must_be_json_with_json_content_type(fg):
    st, _, data = send(fg, "{not json", headers={"Content-Type": "application/json"})
    assert_meta_error(st, data, 400, 100, details="JSON")
    st, _, data = send(fg, json.dumps(text()), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_meta_error(st, data, 400, 100, details="Content-Type")
    st, _, data = send(fg, "[1,2]", headers={"Content-Type": "application/json"})
    assert_meta_error(st, data, 400, 100, details="JSON object")


def test_unknown_paths_are_400_code_100(fg):
    for method, path in [("GET", "/v23.0/%s/phone_numbers" % PNID), ("POST", "/v23.0/%s/contacts" % PNID),
                         ("POST", "/%s/messages" % PNID), ("POST", "/vX/%s/messages" % PNID),
                         ("PUT", MSG), ("GET", "/"), ("POST", "/v23.0/abc/messages"),
                         ("GET", "/v23.0/1/2/3")]:
        st, hdr, data = call(fg, method, path, text() if method != "GET" else None)
        e = assert_meta_error(st, data, 400, 100)
        assert hdr["content-type"].startswith("application/json")
        assert "Unsupported" in e["message"] or "Unknown path" in e["message"], e


# Faults

FIXTURE_FAULTS = [(130429, 400, "error_130429.json"), (131056, 400, "error_131056.json"),
                  (131047, 400, "error_131047.json"), (190, 401, "error_190.json"),
                  (131000, 500, "error_500_generic.json")]


@pytest.mark.parametrize("code,status,name", FIXTURE_FAULTS, ids=[str(f[0]) for f in FIXTURE_FAULTS])
def test_fault_code_serves_the_fixture(fg, code, status, name):
    fg.inject(code=code)
    st, hdr, data = send(fg, text())
    assert st == status
    assert hdr["content-type"].startswith("application/json")
    assert json.loads(data) == json.loads(fixture(os.path.join(GRAPH, name)))
    assert send(fg, text())[0] == 200           # times=1: consumed
    assert [r["status"] for r in fg.requests(MSG)] == [status, 200]
    assert fg.requests(MSG)[0]["fault"]["code"] == code


BUILT = [(131026, 400), (131048, 400), (132001, 404), (131008, 400), (131009, 400), (100, 400),
         (2, 503), (131057, 500), (368, 403), (131016, 503), (4, 400), (80007, 400), (250, 403)]


@pytest.mark.parametrize("code,status", BUILT, ids=[str(b[0]) for b in BUILT])
def test_fault_code_without_fixture_is_built_in_meta_shape(fg, code, status):
    fg.inject(code=code)
    st, _, data = send(fg, template())
    e = assert_meta_error(st, data, status, code)
    assert e["message"].startswith("(#%d) " % code)
    assert e["error_data"]["messaging_product"] == "whatsapp" and e["error_data"]["details"]
    assert e["type"] == "OAuthException"


def test_fault_http_override_and_edge_proxy_bodies(fg):
    fg.inject(code=130429, http=429)
    st, _, data = send(fg, text())
    assert st == 429 and err_of(data)["code"] == 130429
    html = "<html><body>502 Bad Gateway (edge)</body></html>"
    fg.inject(http=502, raw_body=html)
    st, hdr, data = send(fg, text())
    assert (st, data.decode()) == (502, html) and hdr["content-type"].startswith("text/html")
    fg.inject(http=503)
    st, hdr, data = send(fg, text())
    assert st == 503 and hdr["content-type"].startswith("text/html") and b"503" in data
    with pytest.raises(ValueError):
        json.loads(data)
    assert send(fg, text())[0] == 200
    assert [r["status"] for r in fg.requests(MSG)] == [429, 502, 503, 200]


def test_fault_times_match_and_queue_order(fg):
    fg.inject(code=131056, times=2, match={"to": "15550003333"})
    fg.inject(code=130429)
    fg.inject(code=131000)
    assert len(fg.faults()) == 3
    codes = []
    for to in ("15550003333", "15550002222", "15550003333", "15550003333", "15550002222", "15550002222"):
        st, _, data = send(fg, text(to=to))
        codes.append(err_of(data)["code"] if st != 200 else 200)
    # Bob twice 131056; the others take 130429 then 131000 in order
    assert codes == [131056, 130429, 131056, 131000, 200, 200]
    assert fg.faults() == []


def test_fault_match_path_method_and_nested_body(fg):
    fg.add_media("555", b"x", "image/jpeg")
    fg.inject(code=131000, match={"path": "/555", "method": "GET"})
    fg.inject(code=131048, match={"text.body": "spam"})
    assert send(fg, text(body="fine"))[0] == 200       # default match does not catch GET media
    st, _, data = call(fg, "GET", "/v23.0/555")
    assert st == 500 and err_of(data)["code"] == 131000
    assert call(fg, "GET", "/v23.0/555")[0] == 200
    st, _, data = send(fg, text(body="spam"))
    assert st == 400 and err_of(data)["code"] == 131048


def test_fault_default_match_is_any_post_messages(fg):
    fg.add_media("556", b"x", "image/jpeg")
    fg.inject(code=131000)
    assert call(fg, "GET", "/v23.0/556")[0] == 200
    st, _, data = send(fg, {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"})
    assert st == 500 and err_of(data)["code"] == 131000


def test_fault_forever_until_reset(fg):
    fg.inject(code=131016, times=-1)
    assert [send(fg, text())[0] for _ in range(5)] == [503] * 5
    fg.reset()
    assert send(fg, text())[0] == 200
    with pytest.raises(ValueError):
        fg.inject()


def test_delay_fault_and_global_delay(fg):
    fg.inject(delay_ms=300)
    t = time.time()
    st, _, _ = send(fg, text())
    assert st == 200 and time.time() - t >= 0.3
    t = time.time()
    assert send(fg, text())[0] == 200 and time.time() - t < 0.25
    fg.inject(code=131047, delay_ms=200)
    t = time.time()
    st, _, data = send(fg, text())
    assert st == 400 and err_of(data)["code"] == 131047 and time.time() - t >= 0.2
    fg.set_delay(150)
    for _ in range(2):
        t = time.time()
        assert send(fg, text())[0] == 200 and time.time() - t >= 0.15
    fg.reset()
    t = time.time()
    assert send(fg, text())[0] == 200 and time.time() - t < 0.12


def test_fault_fixes_wamid_and_message_status(fg):
    fg.inject(wamid="wamid.FIXED1", times=2, match={"to": "15550003333"})
    fg.inject(message_status="held_for_quality_assessment", match={"type": "template"})
    st, _, data = send(fg, text(body="invalid", type="fax", to="15550003333"))
    assert st == 400                                   # validation still applies (and uses one of times)
    st, _, data = send(fg, text(to="15550003333"))
    assert st == 200 and json.loads(data)["messages"] == [{"id": "wamid.FIXED1"}]
    st, _, data = send(fg, template())
    assert json.loads(data)["messages"][0]["message_status"] == "held_for_quality_assessment"
    st, _, data = send(fg, text(to="15550003333"))
    assert json.loads(data)["messages"][0]["id"] != "wamid.FIXED1"


def test_drop_closes_without_answer(fg):
    fg.inject(drop=True)
    with pytest.raises(http.client.RemoteDisconnected):
        send(fg, text())
    fg.inject(drop="reset")
    with pytest.raises(ConnectionResetError) as ei:
        send(fg, text())
    assert not isinstance(ei.value, http.client.RemoteDisconnected)    # a real RST
    assert send(fg, text())[0] == 200
    recs = fg.requests(MSG)
    assert [r["status"] for r in recs] == [0, 0, 200]
    assert recs[0]["json"] == text() and recs[0]["reply"] is None


def test_drop_on_a_reused_keepalive_connection(fg):
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=5)
    h = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    c.request("POST", MSG, json.dumps(text()), h)
    assert c.getresponse().read() and c.sock is not None
    fg.inject(drop=True)
    c.request("POST", MSG, json.dumps(text()), h)
    with pytest.raises(http.client.RemoteDisconnected):
        c.getresponse()
    c.close()
    assert [r["status"] for r in fg.requests(MSG)] == [200, 0]


def test_hang_times_out_a_client_then_closes(fg):
    fg.inject(hang_s=1.5)
    s = socket.create_connection(("127.0.0.1", fg.port))
    body = json.dumps(text()).encode()
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (MSG.encode(), TOKEN.encode(), len(body), body))
    t = time.time()
    s.settimeout(1)
    with pytest.raises(socket.timeout):
        s.recv(1)
    s.settimeout(3)
    assert s.recv(1) == b""                       # closed, nothing ever answered
    assert 1.4 <= time.time() - t < 2.5
    s.close()
    (r,) = fg.requests(MSG)
    assert r["status"] == 0 and r["json"] == text()


def test_hang_times_out_an_http_client_and_reset_ends_it(fg):
    fg.inject(hang_s=30)
    t = time.time()
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=1)
    c.request("POST", MSG, json.dumps(text()), {"Authorization": "Bearer " + TOKEN,
                                                "Content-Type": "application/json"})
    with pytest.raises(TimeoutError):
        c.getresponse()
    assert 0.9 <= time.time() - t < 2
    assert fg.wait_requests(1, MSG)[0]["status"] == 0
    fg.reset()                                   # ends the hang: the server closes now
    c.sock.settimeout(2)
    t = time.time()
    assert c.sock.recv(1) == b"" and time.time() - t < 1
    c.close()
    assert send(fg, text())[0] == 200


def test_expect_100_continue(fg):
    body = json.dumps(text(body="y" * 2000)).encode()
    s = socket.create_connection(("127.0.0.1", fg.port), timeout=5)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
              b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (MSG.encode(), TOKEN.encode(), len(body)))
    assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
    s.sendall(body)
    resp = b""
    while b"wamid." not in resp:
        chunk = s.recv(4096)
        assert chunk
        resp += chunk
    assert resp.startswith(b"HTTP/1.1 200 OK\r\n")
    s.close()


# Media

def test_media_url_and_download(fg):
    data = os.urandom(3000) + b"\xff\xd8 end"
    info = fg.add_media("1011121314151601", data, "image/jpeg")
    assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["file_size"] == len(data)
    shape = json.loads(fixture(os.path.join(GRAPH, "media_url.json")))
    st, _, raw = call(fg, "GET", "/v23.0/1011121314151601?phone_number_id=" + PNID)
    assert st == 200
    assert b"\\/" in raw and raw.isascii()            # serialised like Meta
    doc = json.loads(raw)
    assert set(doc) == set(shape)
    assert doc["id"] == "1011121314151601" and doc["mime_type"] == "image/jpeg"
    assert doc["messaging_product"] == "whatsapp"
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["file_size"] == len(data) and isinstance(doc["file_size"], int)
    assert doc["url"].startswith(fg.url + "/lookaside/1011121314151601?")
    path = doc["url"][len(fg.url):]

    st, hdr, got = call(fg, "GET", path)
    assert (st, got) == (200, data)
    assert hdr["content-type"] == "image/jpeg" and int(hdr["content-length"]) == len(data)
    for token in (None, "wrong"):
        st, hdr, got = call(fg, "GET", path, token=token)
        assert st == 401 and hdr["content-type"].startswith("text/html") and data not in got
        assert got.lstrip().startswith(b"<")
    st, hdr, _ = call(fg, "GET", path.replace("hash=", "hash=X"))
    assert st == 404 and hdr["content-type"].startswith("text/html")
    assert [r["path"] for r in fg.requests("/lookaside/")] == ["/lookaside/1011121314151601"] * 4
    assert [r["status"] for r in fg.requests("/lookaside/")] == [200, 401, 401, 404]


def test_media_url_expires(fg):
    fg.add_media("777", b"abc", "audio/ogg")
    try:
        fg.set_media_url_ttl(-1)
        url = json.loads(call(fg, "GET", "/v23.0/777")[2])["url"]
    finally:
        fg.set_media_url_ttl(300)
    assert call(fg, "GET", url[len(fg.url):])[0] == 404
    url = json.loads(call(fg, "GET", "/v23.0/777")[2])["url"]
    assert call(fg, "GET", url[len(fg.url):])[2] == b"abc"


def test_media_errors_and_delete(fg):
    fg.add_media("888", b"pdf", "application/pdf", phone_number_id=PNID)
    st, _, data = call(fg, "GET", "/v23.0/999000")
    e = assert_meta_error(st, data, 400, 100)
    assert e["type"] == "GraphMethodException" and "Unsupported get request" in e["message"]
    st, _, data = call(fg, "GET", "/v23.0/888", token=None)
    assert_meta_error(st, data, 401, 190)
    st, _, data = call(fg, "GET", "/v23.0/888?phone_number_id=200300400500777")
    assert_meta_error(st, data, 400, 100)
    assert call(fg, "GET", "/v23.0/888?phone_number_id=" + PNID)[0] == 200
    url = json.loads(call(fg, "GET", "/v23.0/888")[2])["url"]
    st, _, data = call(fg, "DELETE", "/v23.0/888")
    assert (st, json.loads(data)) == (200, json.loads(fixture(os.path.join(GRAPH, "success_true.json"))))
    assert call(fg, "GET", "/v23.0/888")[0] == 400
    assert call(fg, "GET", url[len(fg.url):])[0] == 404
    st, _, data = call(fg, "DELETE", "/v23.0/888")
    assert_meta_error(st, data, 400, 100)


def multipart(parts, boundary="------------------------d74496d66958873e"):
    out = b""
    for name, value, filename, ctype in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b'Content-Disposition: form-data; name="%s"' % name.encode()
        if filename is not None:
            out += b'; filename="%s"' % filename.encode()
        out += b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


def upload_parts(data, mime="image/png", filename="pic.png"):
    return [("messaging_product", b"whatsapp", None, None), ("type", mime.encode(), None, None),
            ("file", data, filename, mime)]


def test_upload_multipart_then_serve(fg):
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(20000) + b"\r\n--\r\n\r\n--------------------------d7449\r\n"
    body, ctype = multipart(upload_parts(data))
    st, _, raw = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert st == 200, raw
    doc = json.loads(raw)
    assert set(doc) == set(json.loads(fixture(os.path.join(GRAPH, "media_upload_success.json"))))
    mid = doc["id"]
    assert mid.isdigit()
    (r,) = fg.requests(MEDIA)
    up = r["upload"]
    assert up["type"] == "image/png" and up["filename"] == "pic.png" and up["content_type"] == "image/png"
    assert up["size"] == len(data) and up["sha256"] == hashlib.sha256(data).hexdigest()
    assert base64.b64decode(up["data_b64"]) == data
    assert base64.b64decode(r["body_b64"]) == body
    info = json.loads(call(fg, "GET", "/v23.0/" + mid)[2])
    assert info["sha256"] == up["sha256"] and info["file_size"] == len(data) and info["mime_type"] == "image/png"
    assert call(fg, "GET", info["url"][len(fg.url):])[2] == data
    # a second upload gets a new id
    st, _, raw = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert st == 200 and json.loads(raw)["id"] != mid


def test_upload_chunked_body(fg):
    data = b"%PDF-1.4 " + os.urandom(5000)
    body, ctype = multipart(upload_parts(data, "application/pdf", "a.pdf"))
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=5)
    c.request("POST", MEDIA, body=iter([body[:100], body[100:]]), encode_chunked=True,
              headers={"Content-Type": ctype, "Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    assert r.status == 200, r.read()
    r.read()
    c.close()
    assert fg.requests(MEDIA)[0]["upload"]["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("missing", ["messaging_product", "type", "file"])
def test_upload_missing_part(fg, missing):
    body, ctype = multipart([p for p in upload_parts(b"img") if p[0] != missing])
    st, _, data = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert_meta_error(st, data, 400, 100, details=missing)
    assert "upload" not in fg.requests(MEDIA)[0]


def test_upload_refusals(fg):
    st, _, data = call(fg, "POST", MEDIA, b"messaging_product=whatsapp",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_meta_error(st, data, 400, 100, details="multipart")
    body, ctype = multipart(upload_parts(b"exe", "application/x-msdownload", "a.exe"))
    st, _, data = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert_meta_error(st, data, 400, 100, details="MIME")
    body, ctype = multipart(upload_parts(b"w" * (500 * 1024 + 1), "image/webp", "s.webp"))
    st, _, data = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert_meta_error(st, data, 400, 131053, details="at most")
    body, ctype = multipart([p if p[0] != "file" else ("file", b"x", None, "image/png")
                             for p in upload_parts(b"x")])
    st, _, data = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype})
    assert_meta_error(st, data, 400, 100, details="filename")
    body, ctype = multipart(upload_parts(b"x"))
    st, _, data = call(fg, "POST", MEDIA, body, headers={"Content-Type": ctype}, token="bad")
    assert_meta_error(st, data, 401, 190)


# Connections and throughput

def test_keepalive_one_connection_for_100_requests(fg):
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=5)
    h = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    c.connect()
    sock = c.sock
    for i in range(100):
        c.request("POST", MSG, json.dumps(text(body="n%d" % i)), h)
        r = c.getresponse()
        assert r.status == 200 and not r.will_close
        assert json.loads(r.read())["messages"][0]["id"]
        assert c.sock is sock
    c.close()
    recs = fg.requests(MSG)
    assert len(recs) == 100 and len({r["conn"] for r in recs}) == 1 and len({r["peer"] for r in recs}) == 1
    assert [r["json"]["text"]["body"] for r in recs] == ["n%d" % i for i in range(100)]


def test_connection_close_is_honoured(fg):
    c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=5)
    c.request("POST", MSG, json.dumps(text()), {"Authorization": "Bearer " + TOKEN,
                                               "Content-Type": "application/json", "Connection": "close"})
    r = c.getresponse()
    assert r.status == 200 and r.will_close and r.getheader("Connection") == "close"
    c.close()


def test_throughput_2000_sends_over_8_connections(fg):
    n_conn, per = 8, 250
    results = [[] for _ in range(n_conn)]
    body = json.dumps(text(body="bench")).encode()
    h = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}

    def worker(i):
        c = http.client.HTTPConnection("127.0.0.1", fg.port, timeout=10)
        for _ in range(per):
            c.request("POST", MSG, body, h)
            r = c.getresponse()
            results[i].append((r.status, json.loads(r.read())["messages"][0]["id"]))
        c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_conn)]
    t = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    dt = time.time() - t
    flat = [x for res in results for x in res]
    assert len(flat) == n_conn * per and all(st == 200 for st, _ in flat)
    assert len({w for _, w in flat}) == n_conn * per
    recs = fg.requests(MSG)
    assert len(recs) == n_conn * per and len({r["conn"] for r in recs}) == n_conn
    assert fg.count() == n_conn * per
    print("\nfake_graph: %d sends over %d keep-alive connections in %.2f s = %.0f requests/s"
          % (len(flat), n_conn, dt, len(flat) / dt))


def test_records_are_bounded_oldest_first():
    with FakeGraph(max_records=20) as g:
        for i in range(25):
            assert call(g, "POST", MSG, text(body="m%d" % i))[0] == 200
        bodies = [r["json"]["text"]["body"] for r in g.requests()]
        assert g.count() == 25 and 10 <= len(bodies) <= 20
        assert bodies == ["m%d" % i for i in range(25 - len(bodies), 25)]


# Status webhooks

class Receiver:
    """A tiny gateway stand-in: checks X-Hub-Signature-256 over the raw
    bytes with hmac and records what arrived."""

    def __init__(self, secret):
        self.got = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
                good = hmac.compare_digest(want, self.headers.get("X-Hub-Signature-256", ""))
                outer.got.append({"path": self.path, "raw": raw, "good": good,
                                  "ctype": self.headers.get("Content-Type")})
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def receiver():
    r = Receiver("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    yield r
    r.close()


def hook(name):
    return json.loads(fixture(os.path.join(HOOKS, name)))


def test_post_status_matches_meta_fixtures_and_signs_exact_bytes(fg, receiver):
    secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    w = "wamid.HBgLMTU1NTAwMDIyMjIVAgARGBI5RDFFMkYzQTRCNUM2RDdFODUA"
    for status, ts, name in (("sent", 1767270000, "status_sent.json"),
                             ("delivered", 1767270002, "status_delivered.json"),
                             ("read", 1767270060, "status_read.json")):
        assert fg.post_status(receiver.base, secret, w, status, timestamp=ts) == 200
        got = receiver.got[-1]
        assert got["good"] and got["path"] == "/api/whatsapp/webhook"
        assert got["ctype"] == "application/json"
        assert got["raw"] == fg.last_webhook[0] and got["raw"].isascii()
        assert json.loads(got["raw"]) == hook(name)


def test_post_status_failed_opaque_and_bsuid(fg, receiver):
    secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert fg.post_status(receiver.base, secret, "wamid.F1", "failed", recipient="15550003333",
                          timestamp=1767270100, error_code=131047) == 200
    doc = json.loads(receiver.got[-1]["raw"])
    want = hook("status_failed.json")
    st, wst = doc["entry"][0]["changes"][0]["value"]["statuses"][0], \
        want["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert set(st) == set(wst) and set(st["errors"][0]) == set(wst["errors"][0])
    assert st["errors"][0]["code"] == 131047 and st["errors"][0]["title"] == wst["errors"][0]["title"]
    assert st["errors"][0]["href"] == wst["errors"][0]["href"]
    assert (st["id"], st["status"], st["timestamp"], st["recipient_id"]) == \
        ("wamid.F1", "failed", "1767270100", "15550003333")
    assert b"https:\\/\\/developers.facebook.com" in receiver.got[-1]["raw"]

    assert fg.post_status(receiver.base, secret, "wamid.O1", "sent", biz_opaque="order:A1042/\u00e9",
                          phone_number_id="200300400500777") == 200
    raw = receiver.got[-1]["raw"]
    assert b"order:A1042\\/\\u00e9" in raw
    v = json.loads(raw)["entry"][0]["changes"][0]["value"]
    assert v["metadata"] == {"display_phone_number": "15550004444", "phone_number_id": "200300400500777"}
    assert v["statuses"][0]["biz_opaque_callback_data"] == "order:A1042/\u00e9"
    assert abs(int(v["statuses"][0]["timestamp"]) - time.time()) < 5

    assert fg.post_status(receiver.base, secret, "wamid.B1", "read", recipient="US.13491208655302741918") == 200
    st = json.loads(receiver.got[-1]["raw"])["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert st["recipient_user_id"] == "US.13491208655302741918" and "recipient_id" not in st


def test_post_status_with_wrong_secret_is_refused(fg, receiver):
    assert fg.post_status(receiver.base, "not-the-secret", "wamid.X", "sent") == 401
    assert receiver.got[-1]["good"] is False


# Process

def test_cli_prints_port_and_writes_portfile(tmp_path):
    pf = tmp_path / "port"
    p = subprocess.Popen([sys.executable, fake_graph.__file__, "--port", "0", "--token", "T",
                          "--portfile", str(pf)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(p.stdout.readline())
        assert int(pf.read_text()) == port
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("POST", MSG, json.dumps(text()), {"Authorization": "Bearer T", "Content-Type": "application/json"})
        assert c.getresponse().status == 200
        c.close()
    finally:
        p.terminate()
        p.wait(5)
        p.stdout.close()


def test_server_exits_when_its_parent_dies():
    code = ("import sys, os; sys.path.insert(0, %r); from fake_graph import FakeGraph; "
            "g = FakeGraph(); print(g.port, g._tmp.name, flush=True); os._exit(0)"
            % os.path.dirname(fake_graph.__file__))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    port, tmp = out.stdout.split()
    port = int(port)
    shutil.rmtree(tmp, ignore_errors=True)
    deadline = time.time() + 3
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        time.sleep(0.1)
    raise AssertionError("fake_graph on port %d outlived its parent" % port)
