"""Account jobs through the real stack: the API checks and queues template
creation and deletion and the business profile, wa-worker carries each to
the (fake) Graph API with the number's own token, and GET /jobs/{id} says
how it ended; the hourly template sync is queued by the worker itself."""
import json

import pytest

from fake_graph import FakeGraph
from people import new_key, wactl
from stack import Stack, wait_until

API = "/api/whatsapp"
DEFAULT = "200300400500600"     # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
WABA = "9988776655"
TOKEN = "sales-token"           # the sales number's own token
NODE = {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme Sales",
        "quality_rating": "GREEN", "status": "CONNECTED"}
PROFILE = "/v23.0/%s/whatsapp_business_profile" % SALES
TEMPLATES = "/v23.0/%s/message_templates" % WABA


def start(g, extra=None):
    """A stack whose sales number (WABA WABA) has its own token, which is
    the only one the fake Graph takes."""
    env = {"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": g.url,
           "WHATSAPP_ACCESS_TOKEN_SALES": TOKEN}
    env.update(extra or {})
    s = Stack(extra_env=env)
    try:
        s.start()
        g.set_number(SALES, NODE)
        r = wactl(s, "numbers", "add", SALES, "--waba", WABA, "--label", "sales",
                  "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES")
        assert r.returncode == 0, r.stderr
        s.key = new_key(s, "tests")
    except Exception:
        s.close()
        raise
    return s


@pytest.fixture(scope="module")
def g():
    f = FakeGraph(token=TOKEN)
    yield f
    f.close()


@pytest.fixture(scope="module")
def s(g):
    st = start(g)
    yield st
    st.close()


def call(s, method, path, body=None, key=None):
    h = {"Authorization": "Bearer " + (key or s.key)}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body).encode()
    st, _, raw = s.request(method, API + path, body, h)
    return st, json.loads(raw) if raw else None


def wait_job(s, jid, timeout=30):
    """The job once it has ended (done or failed)."""
    def ended():
        st, j = call(s, "GET", "/jobs/%d" % jid)
        assert st == 200, j
        return j if j["state"] in ("done", "failed") else None
    return wait_until(ended, timeout, "job %d to end" % jid, step=0.05)


def jobs_count(s):
    return s.q("SELECT count(*) AS n FROM account_jobs")[0]["n"]


def template(name, **kw):
    b = {"number": "sales", "name": name, "language": "en_US", "category": "UTILITY",
         "components": [{"type": "BODY", "text": "Order {{1}} shipped.",
                         "example": {"body_text": [["A-1"]]}}]}
    b.update(kw)
    return b


def test_profile_read_then_refreshed(s, g):
    g.set_profile(SALES, {"about": "Bread daily", "email": "shop@example.com",
                          "websites": ["https://example.com"], "vertical": "RETAIL"})
    st, p = call(s, "GET", "/numbers/%s/profile" % SALES)
    assert st == 200, p
    assert p["phone_number_id"] == SALES and p["profile"] is None and p["profile_at"] is None
    st, r = call(s, "GET", "/numbers/%s/profile?refresh=true" % SALES)
    assert st == 200, r
    assert r["phone_number_id"] == SALES and "job" not in p
    assert r["job"]["kind"] == "profile_get" and r["job"]["state"] in ("queued", "running", "done")
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "done", j
    assert j["result"]["about"] == "Bread daily"
    st, p = call(s, "GET", "/numbers/%s/profile" % SALES)
    assert st == 200 and p["profile"]["vertical"] == "RETAIL" and p["profile_at"] > 0
    got = g.requests(PROFILE)
    assert got and got[-1]["method"] == "GET"
    assert "about" in got[-1]["query"]["fields"] and "vertical" in got[-1]["query"]["fields"]
    assert got[-1]["headers"]["authorization"] == "Bearer " + TOKEN


def test_profile_set_then_read_back(s, g):
    st, r = call(s, "POST", "/numbers/%s/profile" % SALES,
                 {"about": "Now with cakes", "websites": ["https://cakes.example"]})
    assert st == 202, r
    assert r["job"]["kind"] == "profile_set"
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "done", j
    posts = [q for q in g.requests(PROFILE) if q["method"] == "POST"]
    assert posts[-1]["json"] == {"about": "Now with cakes", "websites": ["https://cakes.example"],
                                 "messaging_product": "whatsapp"}
    assert posts[-1]["headers"]["authorization"] == "Bearer " + TOKEN
    # The answer is the profile as Meta holds it now, and it is stored.
    assert j["result"]["about"] == "Now with cakes"
    _, p = call(s, "GET", "/numbers/%s/profile" % SALES)
    assert p["profile"]["about"] == "Now with cakes"
    assert p["profile"]["websites"] == ["https://cakes.example"]


@pytest.mark.parametrize("body,field", [
    ({"about": "x" * 140}, "about"),
    ({"about": ""}, "about"),
    ({"description": "d" * 513}, "description"),
    ({"email": "not-an-address"}, "email"),
    ({"websites": ["https://a.example", "https://b.example", "https://c.example"]}, "websites"),
    ({"websites": ["ftp://a.example"]}, "websites"),
    ({"vertical": "BAKERY"}, "vertical"),
    ({"phone": "123"}, "phone"),
])
def test_profile_limits_refused_before_queueing(s, g, body, field):
    before, posts = jobs_count(s), len(g.requests(PROFILE))
    st, r = call(s, "POST", "/numbers/%s/profile" % SALES, body)
    assert st == 422, r
    assert r["error"]["code"] == "invalid_profile" and r["error"]["field"] == field
    assert r["error"]["message"]
    assert jobs_count(s) == before and len(g.requests(PROFILE)) == posts


NO_ROUTE = "No such endpoint."


def test_profile_of_unknown_number_is_404(s):
    for method, body in (("GET", None), ("POST", {"about": "hi"})):
        st, r = call(s, method, "/numbers/123456789/profile", body)
        assert st == 404 and r["error"]["code"] == "not_found"
        assert r["error"]["message"] not in ("", NO_ROUTE)      # the row, not the route


def test_job_unknown_is_404(s):
    st, r = call(s, "GET", "/jobs/999999")
    assert st == 404 and r["error"]["code"] == "not_found"
    assert r["error"]["message"] not in ("", NO_ROUTE)


def test_template_created_at_meta_and_listed(s, g):
    st, r = call(s, "POST", "/templates", template("order_shipped"))
    assert st == 202, r
    assert r["job"]["kind"] == "template_create" and r["job"]["waba_id"] == WABA
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "done", j
    assert j["result"]["status"] == "PENDING" and j["result"]["id"]
    sent = [q for q in g.requests(TEMPLATES) if q["method"] == "POST"][-1]
    assert sent["headers"]["authorization"] == "Bearer " + TOKEN
    want = template("order_shipped")
    del want["number"]
    assert sent["json"] == want
    rows = s.q("SELECT * FROM templates WHERE waba_id = ? AND name = ?", WABA, "order_shipped")
    assert len(rows) == 1 and rows[0]["status"] == "PENDING"
    assert rows[0]["template_id"] == j["result"]["id"] and rows[0]["language"] == "en_US"
    # Now known here: a second creation is refused before Meta.
    n = jobs_count(s)
    st, r = call(s, "POST", "/templates", template("order_shipped"))
    assert st == 409 and r["error"]["code"] == "template_exists"
    assert jobs_count(s) == n


def test_template_refused_locally_is_never_queued(s, g):
    n, posts = jobs_count(s), len(g.requests(TEMPLATES))
    st, r = call(s, "POST", "/templates", template("Bad Name"))
    assert st == 422, r
    assert r["error"]["code"] == "invalid_template" and r["error"]["message"]
    assert "component" in r["error"] and "field" in r["error"]
    assert jobs_count(s) == n and len(g.requests(TEMPLATES)) == posts


def test_template_account_must_be_one_the_key_sees(s):
    st, r = call(s, "POST", "/templates", template("x_1", number="nobody"))
    assert st == 404 and r["error"]["code"] == "not_found"
    st, r = call(s, "POST", "/templates", template("x_1", number="default"))
    assert st == 422 and r["error"]["code"] == "no_waba"


def test_duplicate_at_meta_fails_with_metas_code(s, g):
    st, r = call(s, "POST", "/templates", template("promo_dup"))
    assert st == 202
    assert wait_job(s, r["job"]["id"])["state"] == "done"
    # The local row lost (out of sync): Meta is the one that refuses.
    s.q("DELETE FROM templates WHERE name = 'promo_dup'")
    st, r = call(s, "POST", "/templates", template("promo_dup"))
    assert st == 202, r
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "failed" and j["attempts"] == 1
    assert j["error_code"] == 100 and "already" in j["error_title"]
    assert j["result"] is None


def test_transient_failure_is_retried(s, g):
    g.inject(http=503, match={"path": "/message_templates", "method": "POST"})
    st, r = call(s, "POST", "/templates", template("retry_me"))
    assert st == 202
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "done" and j["attempts"] == 2, j
    assert j["error_code"] is None
    posts = [q for q in g.requests(TEMPLATES) if q["method"] == "POST" and
             (q["json"] or {}).get("name") == "retry_me"]
    assert [q["status"] for q in posts] == [503, 200]


def test_delete_template(s, g):
    st, r = call(s, "POST", "/templates", template("to_delete"))
    assert wait_job(s, r["job"]["id"])["state"] == "done"
    tid = s.q("SELECT template_id FROM templates WHERE name = 'to_delete'")[0]["template_id"]
    st, r = call(s, "DELETE", "/templates/to_delete?language=en_US")
    assert st == 202, r
    assert r["job"]["kind"] == "template_delete"
    assert wait_job(s, r["job"]["id"])["state"] == "done"
    d = [q for q in g.requests(TEMPLATES) if q["method"] == "DELETE"][-1]
    assert d["query"] == {"name": "to_delete", "hsm_id": tid}
    assert d["headers"]["authorization"] == "Bearer " + TOKEN
    assert s.q("SELECT count(*) AS n FROM templates WHERE name = 'to_delete'")[0]["n"] == 0
    st, r = call(s, "DELETE", "/templates/to_delete")
    assert st == 404 and r["error"]["code"] == "not_found"


def test_key_limited_to_another_number_sees_404(s):
    other = new_key(s, "default-only", "--number", "default")
    st, r = call(s, "GET", "/numbers/%s/profile?refresh=true" % SALES)
    assert st == 200
    jid = r["job"]["id"]
    n = jobs_count(s)
    for method, path, body in (("GET", "/numbers/%s/profile" % SALES, None),
                               ("POST", "/numbers/%s/profile" % SALES, {"about": "hi"}),
                               ("GET", "/jobs/%d" % jid, None),
                               ("POST", "/templates", template("x_2"))):
        st, r = call(s, method, path, body, key=other)
        assert st == 404, (path, r)
        assert r["error"]["code"] == "not_found"
    assert jobs_count(s) == n
    # The key's own number is still there.
    assert call(s, "GET", "/numbers/%s/profile" % DEFAULT, key=other)[0] == 200


def test_hourly_template_sync_is_queued(g):
    g.set_templates(WABA, [{"id": "777", "name": "listed_at_meta", "language": "en_US",
                            "status": "APPROVED", "category": "UTILITY",
                            "components": [{"type": "BODY", "text": "Hello"}]}])
    st = start(g, {"WA_TEMPLATE_SYNC_S": "1"})
    try:
        def queued():
            return st.q("SELECT * FROM account_jobs WHERE kind = 'template_sync' "
                        "AND waba_id = ?", WABA)
        rows = wait_until(queued, 20, "a template_sync job for the WABA")
        assert rows[0]["phone_number_id"] is None
        # It runs with the WABA's number's token and brings Meta's list.
        wait_until(lambda: st.q("SELECT 1 FROM templates WHERE name = 'listed_at_meta' "
                                "AND waba_id = ?", WABA), 20, "the synced template")
        lists = [q for q in g.requests(TEMPLATES) if q["method"] == "GET"]
        assert lists and lists[-1]["headers"]["authorization"] == "Bearer " + TOKEN
        j = wait_job(st, rows[0]["id"])
        assert j["state"] == "done" and j["result"]["templates"] == 1, j
        # One per period, never two waiting at once.
        wait_until(lambda: len(queued()) >= 2, 20, "the next period's sync")
        pending = [r for r in queued() if r["state"] in ("queued", "running")]
        assert len(pending) <= 1
    finally:
        st.close()
        g.set_templates(WABA, None)


def test_wactl_numbers_profile(s, g):
    g.set_profile(SALES, {"about": "Old", "vertical": "OTHER"})
    r = wactl(s, "numbers", "profile", "sales")
    assert r.returncode == 0, r.stderr
    assert "about                Old" in r.stdout and "vertical             OTHER" in r.stdout
    r = wactl(s, "numbers", "profile", "sales", "--about", "Fresh", "--website",
              "https://a.example", "--website", "https://b.example", "--vertical", "RETAIL")
    assert r.returncode == 0, r.stderr
    assert "about                Fresh" in r.stdout
    post = [q for q in g.requests(PROFILE) if q["method"] == "POST"][-1]
    assert post["json"] == {"about": "Fresh", "websites": ["https://a.example", "https://b.example"],
                            "vertical": "RETAIL", "messaging_product": "whatsapp"}
    assert post["headers"]["authorization"] == "Bearer " + TOKEN
    stored = json.loads(s.q("SELECT profile FROM numbers WHERE phone_number_id = ?", SALES)[0]["profile"])
    assert stored["about"] == "Fresh" and stored["vertical"] == "RETAIL"
    # Meta's limits, before any call.
    n = len(g.requests(PROFILE))
    r = wactl(s, "numbers", "profile", "sales", "--about", "x" * 140)
    assert r.returncode == 1 and "refused: about:" in r.stderr
    r = wactl(s, "numbers", "profile", "sales", "--vertical", "BAKERY")
    assert r.returncode == 1 and "refused: vertical:" in r.stderr
    assert len(g.requests(PROFILE)) == n


def test_one_language_is_never_deleted_by_name_alone(s, g):
    st, r = call(s, "POST", "/templates", template("two_langs"))
    assert wait_job(s, r["job"]["id"])["state"] == "done"
    st, r = call(s, "POST", "/templates", template("two_langs", language="pt_BR"))
    assert wait_job(s, r["job"]["id"])["state"] == "done"
    # Meta's id of en_US lost here: deleting by name would take pt_BR too.
    s.q("UPDATE templates SET template_id = NULL WHERE name = 'two_langs' AND language = 'en_US'")
    n = len([q for q in g.requests(TEMPLATES) if q["method"] == "DELETE"])
    st, r = call(s, "DELETE", "/templates/two_langs?language=en_US")
    assert st == 202, r
    j = wait_job(s, r["job"]["id"])
    assert j["state"] == "failed" and "nothing was deleted" in j["error_title"], j
    assert len([q for q in g.requests(TEMPLATES) if q["method"] == "DELETE"]) == n
    assert s.q("SELECT count(*) AS n FROM templates WHERE name = 'two_langs'")[0]["n"] == 2
