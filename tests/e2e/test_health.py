"""What Meta's account webhooks say, through the real stack: template
status changes land on the templates row, a number's quality, tier and
restrictions land on its numbers row and show on GET /numbers, /status,
/metrics and /health, and a number nobody configured is named.  Two
numbers in two WABAs; nothing is sent (the Graph URL is a dead loopback
port)."""
import json
import os
import subprocess
import time

import pytest

from stack import BUILD, Stack, fixture, wait_until

API = "/api/whatsapp"
DEFAULT = "200300400500600"     # the Stack's WHATSAPP_PHONE_NUMBER_ID
WABA1 = "100200300400500"       # the fixtures' WABA
SALES = "110220330440550"
WABA2 = "700800900100200"
GHOST = "999000111222"          # writes, but nobody configured it


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=20)


def new_key(s, name):
    r = wactl(s, "apikey", "create", name)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def s():
    st = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000"})
    try:
        st.start()
        with st.db() as c:
            c.execute("UPDATE numbers SET waba_id = ?, display_phone_number = ?, "
                      "quality_rating = 'GREEN', messaging_limit_tier = 'TIER_10K' "
                      "WHERE phone_number_id = ?", (WABA1, "+1 555-000-1111", DEFAULT))
            c.execute("INSERT INTO numbers (phone_number_id, waba_id, display_phone_number, "
                      "verified_name, label, token_env, quality_rating, messaging_limit_tier, "
                      "created_at) VALUES (?, ?, '+1 555-010-2222', 'Acme Sales', 'sales', "
                      "'WHATSAPP_ACCESS_TOKEN_SALES', 'GREEN', 'TIER_1K', 2)", (SALES, WABA2))
        st.key = new_key(st, "tests")
    except Exception:
        st.close()
        raise
    yield st
    st.close()


def get(s, path, key=None):
    st, _, b = s.request("GET", API + path, headers={"Authorization": "Bearer " + (key or s.key)})
    return st, b


def get_json(s, path, key=None):
    st, b = get(s, path, key)
    assert st == 200, b
    return json.loads(b)


def health(s):
    st, _, b = s.request("GET", API + "/health")
    return st, json.loads(b)


def post_applied(s, body):
    st, _, b = s.post(body)
    assert st == 200, b
    s.wait_applied()
    return json.loads(b)["stored"]


def account_hook(waba, t, field, value):
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": waba, "time": t, "changes": [{"field": field, "value": value}]}]}).encode()


def template(s, name):
    rows = s.q("SELECT * FROM templates WHERE waba_id = ? AND name = ?", WABA1, name)
    return rows[0] if rows else None


def test_template_status_webhooks_change_the_row(s):
    post_applied(s, fixture("template_status_update.json"))
    row = template(s, "order_update")
    assert row["status"] == "APPROVED" and row["language"] == "en_US"
    assert row["template_id"] == "1234567890123456" and row["category"] == "UTILITY"
    assert row["components"] == "[]"
    post_applied(s, fixture("template_status_rejected.json"))
    row = template(s, "weekend_promo")
    assert row["status"] == "REJECTED" and row["rejected_reason"] == "INVALID_FORMAT"
    # A late, older rejection of order_update changes nothing.
    post_applied(s, account_hook(WABA1, 1767273000, "message_template_status_update", {
        "event": "REJECTED", "message_template_id": 1234567890123456,
        "message_template_name": "order_update", "message_template_language": "en_US",
        "reason": "SCAM"}))
    row = template(s, "order_update")
    assert row["status"] == "APPROVED" and row["rejected_reason"] is None
    # A redelivery is a duplicate: nothing changes, no second sync.
    with s.db() as c:
        c.execute("UPDATE account_jobs SET state = 'done'")
    ev = post_applied(s, fixture("template_status_rejected.json"))
    assert s.q("SELECT state FROM webhook_events WHERE id = ?", ev)[0]["state"] == "duplicate"
    assert s.q("SELECT count(*) AS n FROM templates WHERE waba_id = ?", WABA1)[0]["n"] == 2
    jobs = s.q("SELECT waba_id, kind FROM account_jobs")
    assert jobs == [{"waba_id": WABA1, "kind": "template_sync"}]
    # Every change is still kept whole.
    assert s.q("SELECT count(*) AS n FROM subscription_events WHERE field = "
               "'message_template_status_update'")[0]["n"] == 3


def test_quality_drop_degrades_health_and_metrics(s):
    st, h = health(s)
    assert "number_quality" not in h["reasons"]
    post_applied(s, fixture("phone_number_quality_update.json"))
    st, h = health(s)
    assert st == 200 and h["status"] == "degraded"
    assert "number_quality" in h["reasons"]
    assert {"number": "default", "rating": "RED"} in h["numbers"]["quality"]
    assert "15550001111" not in json.dumps(h)      # no display numbers on /health
    st, b = get(s, "/metrics")
    assert st == 200
    text = b.decode()
    assert 'wa_number_quality{number="default",rating="RED"} 1\n' in text
    assert 'wa_number_quality{number="sales",rating="GREEN"} 1\n' in text
    assert 'wa_number_tier_limit{number="default"} 1000\n' in text
    assert 'wa_number_tier_limit{number="sales"} 1000\n' in text
    assert 'wa_number_tier_used{number="sales"} 0\n' in text
    # The worker warned once, naming the number; a redelivery adds nothing.
    wait_until(lambda: "number default (%s): quality dropped to RED" % DEFAULT in s.logtext(),
               what="the worker's warning")
    ev = post_applied(s, fixture("phone_number_quality_update.json"))
    assert s.q("SELECT state FROM webhook_events WHERE id = ?", ev)[0]["state"] == "duplicate"
    assert s.logtext().count("quality dropped to RED") == 1


def test_account_restriction_shows_on_health_and_numbers(s):
    post_applied(s, account_hook(WABA2, int(time.time()), "account_update", {
        "event": "ACCOUNT_RESTRICTION", "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
             "expiration": int(time.time()) + 86400}]}))
    st, h = health(s)
    assert h["status"] == "degraded" and "number_restricted" in h["reasons"]
    assert h["numbers"]["restricted"] == [{"number": "sales", "account_state": "ACCOUNT_RESTRICTION"}]
    n = get_json(s, "/numbers/" + SALES)
    assert n["account_state"] == "ACCOUNT_RESTRICTION" and n["restricted"] is True
    assert n["account_detail"]["restriction_info"][0]["restriction_type"] == \
        "RESTRICTED_BIZ_INITIATED_MESSAGING"
    wait_until(lambda: "number sales (%s): account_update ACCOUNT_RESTRICTION" % SALES
               in s.logtext(), what="the worker's warning")


def test_unknown_number_on_status_and_health(s):
    st, h = health(s)
    assert "unknown_number" not in h["reasons"]
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "555", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15559990000", "phone_number_id": GHOST},
            "contacts": [{"profile": {"name": "Carol"}, "wa_id": "15550004444"}],
            "messages": [{"from": "15550004444", "id": "wamid.ghost-1",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": "hello?"}}]}}]}]}).encode()
    post_applied(s, body)
    # Nothing is dropped: the message is stored under that number.
    assert s.q("SELECT phone_number_id FROM messages WHERE wamid = 'wamid.ghost-1'") == \
        [{"phone_number_id": GHOST}]
    st, h = health(s)
    assert h["status"] == "degraded" and "unknown_number" in h["reasons"]
    assert h["numbers"]["unknown"] == [GHOST]
    status = get_json(s, "/status")
    assert status["unknown_numbers"] == [GHOST]
    assert sorted(n["phone_number_id"] for n in status["numbers"]) == sorted([DEFAULT, SALES])


def test_numbers_api(s):
    got = get_json(s, "/numbers")["data"]
    by = {n["label"]: n for n in got}
    assert set(by) == {"default", "sales"}
    sales = by["sales"]
    assert sales["phone_number_id"] == SALES and sales["waba_id"] == WABA2
    assert sales["display_phone_number"] == "+1 555-010-2222"
    assert sales["verified_name"] == "Acme Sales"
    assert sales["tier"] == "TIER_1K" and sales["tier_limit"] == 1000
    assert sales["tier_used"] == 0 and sales["sending"] == {"paused": False}
    assert sales["token_env"] == "WHATSAPP_ACCESS_TOKEN_SALES"
    assert by["default"]["quality"] == "RED" and by["default"]["tier_limit"] == 1000
    raw = get(s, "/numbers")[1]
    assert b"test-token" not in raw             # never a token, only its variable
    assert get_json(s, "/numbers/" + DEFAULT)["label"] == "default"
    st, b = get(s, "/numbers/424242")
    assert st == 404 and json.loads(b)["error"]["code"] == "not_found"
    # A business-initiated send counts toward the tier.
    with s.db() as c:
        c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, "
                  "business_initiated, source, state, next_attempt_at, created_at) "
                  "VALUES (?, '15550002222', 'template', '{}', 0, 1, 'api', 'accepted', 0, ?)",
                  (SALES, int(time.time() * 1000)))
    assert get_json(s, "/numbers/" + SALES)["tier_used"] == 1


def test_a_key_limited_to_one_number_sees_only_it(s):
    key = new_key(s, "sales-only")
    # The limit as `wactl apikey create --number` stores it (schema 10).
    with s.db() as c:
        c.execute("INSERT INTO api_key_numbers (api_key_id, phone_number_id) "
                  "SELECT id, ? FROM api_keys WHERE name = 'sales-only'", (SALES,))
    got = get_json(s, "/numbers", key)["data"]
    assert [n["phone_number_id"] for n in got] == [SALES]
    st, b = get(s, "/numbers/" + DEFAULT, key)
    assert st == 404 and json.loads(b)["error"]["code"] == "not_found"
    status = get_json(s, "/status", key)
    assert [n["label"] for n in status["numbers"]] == ["sales"]
    text = get(s, "/metrics", key)[1].decode()
    assert 'wa_number_quality{number="sales"' in text
    assert 'number="default"' not in text
