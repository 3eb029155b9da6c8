"""Message templates through the real stack: `wactl templates sync` pages
Meta's list (the fake Graph's) into the templates table and removes what
Meta no longer lists, GET /templates and /templates/{name} show them per
number's WABA, and POST /send-template is checked against the stored
template before anything is queued."""
import json
import os
import subprocess
import time

import pytest

from stack import BUILD, Stack, wait_until

API = "/api/whatsapp"
DEFAULT = "200300400500600"     # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
WABA_A = "1000000001"           # the default number's account
WABA_B = "2000000002"           # the sales number's account
NODE = {"display_phone_number": "+1 555-010-1111", "verified_name": "Acme",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
LIST_PATH = "/v23.0/%s/message_templates"


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=60)


def get(s, path, key=None):
    st, _, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + (key or s.key)})
    return st, json.loads(b) if b else None


def post_json(s, path, doc):
    h = {"Authorization": "Bearer " + s.key, "Content-Type": "application/json"}
    st, _, b = s.request("POST", API + path, json.dumps(doc).encode(), h)
    return st, json.loads(b)


def tmpl(i, name=None, lang="en_US", status="APPROVED", category="UTILITY", body=None, extra=None):
    """A template as Meta lists it."""
    t = {"id": str(880000000 + i), "name": name or "tmpl_%03d" % i, "language": lang, "status": status,
         "category": category, "parameter_format": "POSITIONAL",
         "quality_score": {"score": "GREEN", "date": 1767300000}, "rejected_reason": "NONE",
         "components": [{"type": "BODY", "text": body or "Hello {{1}}, order {{2}} is ready.",
                         "example": {"body_text": [["Ann", "A-1"]]}}]}
    t.update(extra or {})
    return t


@pytest.fixture(scope="module")
def s(graph):
    st = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": graph.url,
                          "WHATSAPP_ACCESS_TOKEN_SALES": "test-token"})
    try:
        st.start()
        graph.set_number(DEFAULT, NODE)
        graph.set_number(SALES, dict(NODE, display_phone_number="+1 555-010-2222"))
        r = wactl(st, "numbers", "add", DEFAULT, "--waba", WABA_A, "--label", "default")
        assert r.returncode == 0, r.stderr
        r = wactl(st, "numbers", "add", SALES, "--waba", WABA_B, "--label", "sales",
                  "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES")
        assert r.returncode == 0, r.stderr
        r = wactl(st, "apikey", "create", "tests")
        assert r.returncode == 0, r.stderr
        st.key = r.stdout.strip().splitlines()[-1]
    except Exception:
        st.close()
        raise
    yield st
    graph.set_templates(WABA_A, None)
    graph.set_templates(WABA_B, None)
    st.close()


def names(s, waba):
    return sorted(r["name"] for r in s.q("SELECT name FROM templates WHERE waba_id = ?", waba))


def test_sync_pages_then_removes_what_meta_dropped(s, graph):
    graph.set_templates(WABA_A, [tmpl(i) for i in range(250)])
    since = len(graph.requests(LIST_PATH % WABA_A))
    r = wactl(s, "templates", "sync", "--number", "default")
    assert r.returncode == 0, r.stderr
    assert "waba %s: 250 templates" % WABA_A in r.stdout
    assert names(s, WABA_A) == ["tmpl_%03d" % i for i in range(250)]
    reqs = graph.requests(LIST_PATH % WABA_A)[since:]
    # Three pages of 100, each asked on the Graph URL by its cursor.
    assert len(reqs) == 3
    assert [q["query"]["limit"] for q in reqs] == ["100"] * 3
    assert "after" not in reqs[0]["query"]
    assert reqs[1]["query"]["after"] == reqs[0]["reply"]["paging"]["cursors"]["after"]
    assert reqs[2]["query"]["after"] == reqs[1]["reply"]["paging"]["cursors"]["after"]
    assert "next" not in reqs[2]["reply"]["paging"]
    for q in reqs:
        assert q["method"] == "GET" and q["headers"]["authorization"] == "Bearer test-token"
        assert set(q["query"]["fields"].split(",")) >= {"name", "language", "status", "category",
                                                        "components", "quality_score", "rejected_reason"}
    row = s.q("SELECT * FROM templates WHERE name = 'tmpl_007'")[0]
    assert (row["template_id"], row["language"], row["status"], row["category"], row["quality"]) == \
        ("880000007", "en_US", "APPROVED", "UTILITY", "GREEN")
    assert row["rejected_reason"] is None and row["synced_at"] is not None
    assert json.loads(row["components"])[0]["text"] == "Hello {{1}}, order {{2}} is ready."
    # Meta deletes ten and rejects one; the next sync follows it.
    kept = [tmpl(i) for i in range(250) if i % 25 != 0]
    kept[0] = tmpl(1, status="REJECTED", extra={"rejected_reason": "INVALID_FORMAT"})
    graph.set_templates(WABA_A, kept)
    r = wactl(s, "templates", "sync", "--waba", WABA_A)
    assert r.returncode == 0, r.stderr
    assert "waba %s: 240 templates" % WABA_A in r.stdout
    assert names(s, WABA_A) == ["tmpl_%03d" % i for i in range(250) if i % 25 != 0]
    row = s.q("SELECT * FROM templates WHERE name = 'tmpl_001'")[0]
    assert (row["status"], row["rejected_reason"]) == ("REJECTED", "INVALID_FORMAT")


def test_sync_cut_short_removes_nothing(s, graph):
    graph.set_templates(WABA_A, [tmpl(i) for i in range(30)])
    assert wactl(s, "templates", "sync", "--number", "default").returncode == 0
    assert len(names(s, WABA_A)) == 30
    graph.set_templates(WABA_A, [tmpl(i) for i in range(5)])
    graph.inject(code=80008, match={"path": "/message_templates"})
    r = wactl(s, "templates", "sync", "--number", "default")
    assert r.returncode == 1
    assert "code 80008" in r.stderr and "test-token" not in r.stderr + r.stdout
    assert len(names(s, WABA_A)) == 30      # a failed listing removes nothing


def test_sync_every_waba_with_its_numbers_token(s, graph):
    graph.set_templates(WABA_A, [tmpl(i) for i in range(3)])
    graph.set_templates(WABA_B, [tmpl(100 + i, name="sales_%d" % i) for i in range(2)])
    since = len(graph.requests("/v23.0/"))
    r = wactl(s, "templates", "sync")
    assert r.returncode == 0, r.stderr
    assert "waba %s: 3 templates" % WABA_A in r.stdout
    assert "waba %s: 2 templates" % WABA_B in r.stdout
    paths = sorted(q["path"] for q in graph.requests("/v23.0/")[since:])
    assert paths == sorted([LIST_PATH % WABA_A, LIST_PATH % WABA_B])
    assert names(s, WABA_B) == ["sales_0", "sales_1"]
    r = wactl(s, "templates", "list", "--number", "sales")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "LANGUAGE", "STATUS"]
    assert [ln.split()[0] for ln in lines[1:]] == ["sales_0", "sales_1"]
    # A number that is not there, and a WABA no number has a token for.
    assert wactl(s, "templates", "sync", "--number", "nobody").returncode == 1
    r = wactl(s, "templates", "sync", "--waba", "3000000003")
    assert r.returncode == 1 and "3000000003" in r.stderr
    assert wactl(s, "templates", "sync", "--waba", "12ab").returncode == 2


@pytest.fixture
def listed(s, graph):
    """WABA A: order_update in two languages (one PAUSED), promo
    (MARKETING), 120 filler templates; WABA B: sales_only."""
    a = [tmpl(1, name="order_update"), tmpl(2, name="order_update", lang="pt_BR", status="PAUSED"),
         tmpl(3, name="promo", category="MARKETING", status="PENDING")]
    a += [tmpl(10 + i, name="filler_%03d" % i) for i in range(120)]
    graph.set_templates(WABA_A, a)
    graph.set_templates(WABA_B, [tmpl(200, name="sales_only")])
    r = wactl(s, "templates", "sync")
    assert r.returncode == 0, r.stderr
    return s


def test_list_filters_and_pages(listed):
    s = listed
    st, body = get(s, "/templates?limit=50")
    assert st == 200 and len(body["data"]) == 50 and body["next_cursor"]
    seen = [r["id"] for r in body["data"]]
    while body["next_cursor"]:
        st, body = get(s, "/templates?limit=50&cursor=" + body["next_cursor"])
        assert st == 200
        seen += [r["id"] for r in body["data"]]
    assert len(seen) == len(set(seen)) == 124
    st, body = get(s, "/templates?name=order_update")
    rows = sorted(body["data"], key=lambda r: r["language"])
    assert [(r["language"], r["status"]) for r in rows] == [("en_US", "APPROVED"), ("pt_BR", "PAUSED")]
    r = rows[0]
    assert set(r) >= {"id", "waba_id", "template_id", "name", "language", "category", "status", "quality",
                      "components", "rejected_reason", "synced_at", "updated_at", "numbers"}
    assert r["waba_id"] == WABA_A and r["numbers"] == ["default"] and r["quality"] == "GREEN"
    assert isinstance(r["components"], list) and r["components"][0]["type"] == "BODY"
    assert [x["name"] for x in get(s, "/templates?status=PENDING")[1]["data"]] == ["promo"]
    assert [x["name"] for x in get(s, "/templates?category=MARKETING")[1]["data"]] == ["promo"]
    assert [x["language"] for x in get(s, "/templates?name=order_update&language=pt_BR")[1]["data"]] == \
        ["pt_BR"]
    # number= narrows to that number's WABA (by label, id or display number).
    for n in ("sales", SALES, "%2B1%20555-010-2222"):
        st, body = get(s, "/templates?number=" + n)
        assert st == 200 and [(x["name"], x["numbers"]) for x in body["data"]] == [("sales_only", ["sales"])]
    st, e = get(s, "/templates?number=nobody")
    assert st == 400 and e["error"]["code"] == "unknown_number", e
    for bad in ("status=LOST", "category=SPAM", "limit=0", "colour=red"):
        st, body = get(s, "/templates?" + bad)
        assert st == 400 and body["error"]["code"], bad


def test_get_by_name_all_languages(listed):
    s = listed
    st, body = get(s, "/templates/order_update")
    assert st == 200 and sorted(r["language"] for r in body["data"]) == ["en_US", "pt_BR"]
    st, body = get(s, "/templates/no_such_template")
    assert st == 404 and body["error"]["code"] == "not_found"
    assert get(s, "/templates/Bad-Name")[0] == 404
    assert get(s, "/templates/order_update?number=default")[0] == 400
    # A template of an account no number the call covers is in is not there.
    st, body = get(s, "/templates/sales_only")
    assert st == 200 and body["data"][0]["numbers"] == ["sales"]
    assert wactl(s, "numbers", "remove", "sales").returncode == 0
    try:
        st, body = get(s, "/templates/sales_only")
        assert st == 404 and body["error"]["code"] == "not_found"
        assert get(s, "/templates?name=sales_only")[1]["data"] == []
    finally:
        r = wactl(s, "numbers", "add", SALES, "--waba", WABA_B, "--label", "sales",
                  "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES")
        assert r.returncode == 0, r.stderr
    assert get(s, "/templates/sales_only")[0] == 200


def outbox_count(s):
    return s.q("SELECT count(*) AS n FROM outbox")[0]["n"]


def test_send_with_wrong_parameter_count_is_refused_here(listed, graph):
    s = listed
    before = outbox_count(s)
    st, e = post_json(s, "/send-template", {"from": "default", "to": "15550003333", "name": "order_update", "language": "en_US",
                                            "body_parameters": ["Ann"]})
    assert st == 422, e
    assert e["error"]["code"] == "template_parameters" and e["error"]["field"] == "components"
    msg = e["error"]["message"]
    assert "body" in msg and "needs 2" in msg and "gives 1" in msg and "order_update" in msg
    st, e = post_json(s, "/send-template", {"from": "default", "to": "15550003333", "name": "order_update", "language": "en_US"})
    assert st == 422 and e["error"]["code"] == "template_parameters"
    assert outbox_count(s) == before         # nothing queued, so nothing reaches Meta
    assert not [q for q in graph.requests("/v23.0/%s/messages" % DEFAULT)
                if (q["json"] or {}).get("to") == "15550003333"]


def test_plain_send_of_a_template_is_checked_too(listed, graph):
    # POST /send with type template is held to the stored copy as well.
    s = listed
    before = outbox_count(s)
    body = {"from": "default", "to": "15550003333", "type": "template",
            "template": {"name": "order_update", "language": {"code": "en_US"},
                         "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ann"}]}]}}
    st, e = post_json(s, "/send", body)
    assert st == 422 and e["error"]["code"] == "template_parameters", e
    body["template"]["language"]["code"] = "pt_BR"
    st, e = post_json(s, "/send", body)
    assert st == 422 and e["error"]["code"] == "template_not_approved", e
    assert outbox_count(s) == before


def test_send_of_a_template_not_approved_is_refused(listed):
    s = listed
    before = outbox_count(s)
    st, e = post_json(s, "/send-template", {"from": "default", "to": "15550003333", "name": "order_update", "language": "pt_BR",
                                            "body_parameters": ["Ann", "A-1"]})
    assert st == 422 and e["error"]["code"] == "template_not_approved"
    assert "PAUSED" in e["error"]["message"]
    assert outbox_count(s) == before


def test_send_right_count_and_unknown_template_go_to_meta(listed, graph):
    s = listed
    st, row = post_json(s, "/send-template", {"from": "default", "to": "15550004444", "name": "order_update",
                                              "language": "en_US", "body_parameters": ["Ann", "A-1"]})
    assert st == 202, row
    # Not in the table (never synced): passed on, and Meta has the last word.
    st, row2 = post_json(s, "/send-template", {"from": "default", "to": "15550004444", "name": "not_synced_yet",
                                               "language": "en_US", "body_parameters": ["x"]})
    assert st == 202, row2
    path = "/v23.0/%s/messages" % DEFAULT

    def sent(name):
        return [q for q in graph.requests(path) if (q["json"] or {}).get("template", {}).get("name") == name]
    wait_until(lambda: sent("order_update") and sent("not_synced_yet"), timeout=20, what="both sends at Meta")
    assert "left to Meta" in s.logtext()
