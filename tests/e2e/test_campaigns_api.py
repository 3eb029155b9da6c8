"""Template campaigns through the real stack (issue 16): POST /campaigns
from a CSV or a segment (checked all or nothing, every refusal with its
code and field), dry runs that write nothing, a 100,000-line file through
nginx, pausing and cancelling that take back outbox rows the worker has
not started, recipients by state, the CSV report, and `wactl campaign`.
The sending itself is the worker's (campsend): nothing here waits for it;
campaigns start days ahead so the worker leaves them alone."""
import json
import os
import subprocess
import time

import pytest

from stack import BUILD, Stack

API = "/api/whatsapp"
DEFAULT = "200300400500600"     # the Stack's WHATSAPP_PHONE_NUMBER_ID
WABA = "1000000001"
NODE = {"display_phone_number": "+1 555-010-1111", "verified_name": "Acme",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED"}
LATER = int(time.time()) + 10 * 86400      # the worker leaves these alone


def tmpl(i, name, body, status="APPROVED", fmt="POSITIONAL"):
    """A template as Meta lists it (test_templates.py's shape)."""
    return {"id": str(880000000 + i), "name": name, "language": "en_US", "status": status,
            "category": "MARKETING", "parameter_format": fmt,
            "quality_score": {"score": "GREEN", "date": 1767300000}, "rejected_reason": "NONE",
            "components": [{"type": "BODY", "text": body}]}


def wactl(s, *args):
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=s.env,
                          capture_output=True, text=True, timeout=120)


def call(s, method, path, doc=None, raw=None):
    h = {"Authorization": "Bearer " + s.key}
    body = raw
    if doc is not None:
        body = json.dumps(doc).encode()
    if body is not None:
        h["Content-Type"] = "application/json"
    st, hdrs, b = s.request(method, API + path, body, h)
    if hdrs.get("Content-Type", "").startswith("application/json") and b:
        return st, json.loads(b)
    return st, b


def counts(s):
    r = s.q("SELECT (SELECT count(*) FROM campaigns) c, (SELECT count(*) FROM campaign_recipients) r, "
            "(SELECT count(*) FROM outbox) o")[0]
    return r["c"], r["r"], r["o"]


@pytest.fixture(scope="module")
def s(graph):
    st = Stack(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000", "WHATSAPP_GRAPH_URL": graph.url})
    try:
        st.start()
        graph.set_number(DEFAULT, NODE)
        r = wactl(st, "numbers", "add", DEFAULT, "--waba", WABA, "--label", "default")
        assert r.returncode == 0, r.stderr
        graph.set_templates(WABA, [
            tmpl(1, "order_update", "Hello {{1}}, order {{2}} is ready."),
            tmpl(2, "promo_pending", "Hi {{1}}", status="PENDING"),
            tmpl(3, "greeting", "Dear {{first_name}}, see you at {{place}}.", fmt="NAMED"),
            tmpl(4, "hello_world", "Hello from Acme."),
            dict(tmpl(5, "photo_promo", "New in, {{1}}."), components=[
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1n"]}},
                {"type": "BODY", "text": "New in, {{1}}."}]),
            dict(tmpl(6, "track_order", "Order {{1}} shipped."), components=[
                {"type": "BODY", "text": "Order {{1}} shipped."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"}]}]),
            dict(tmpl(7, "plain_links", "Hi {{1}}."), components=[
                {"type": "HEADER", "format": "TEXT", "text": "Spring"},
                {"type": "BODY", "text": "Hi {{1}}."},
                {"type": "BUTTONS", "buttons": [
                    {"type": "URL", "text": "Shop", "url": "https://shop.example/"},
                    {"type": "QUICK_REPLY", "text": "Stop"}]}]),
        ])
        r = wactl(st, "templates", "sync")
        assert r.returncode == 0, r.stderr
        r = wactl(st, "apikey", "create", "tests")
        assert r.returncode == 0, r.stderr
        st.key = r.stdout.strip().splitlines()[-1]
        # Contacts of the number: Ann (vip, wrote 2 days ago), Bob (vip,
        # opted out), Cy (wrote 30 days ago), Dee (no profile name, vip).
        now = int(time.time())
        with st.db() as c:
            for cid, wa, name, out, last, labels in (
                    (1, "15550100001", "Ann", 0, now - 2 * 86400, '["vip"]'),
                    (2, "15550100002", "Bob", 1, now - 86400, '["vip","late"]'),
                    (3, "15550100003", "Cy", 0, now - 30 * 86400, None),
                    (4, "15550100004", None, 0, now - 40 * 86400, '["vip"]')):
                c.execute("INSERT INTO contacts (id, phone_number_id, wa_id, profile_name, first_seen_at, "
                          "last_seen_at, opted_out) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (cid, DEFAULT, wa, name, last, last, out))
                c.execute("INSERT INTO conversations (phone_number_id, contact_id, last_inbound_at, "
                          "labels, created_at) VALUES (?, ?, ?, ?, ?)", (DEFAULT, cid, last, labels, last))
    except Exception:
        st.close()
        raise
    yield st
    graph.set_templates(WABA, None)
    st.close()


CSV = ("\ufeffwa_id,name,order\r\n"
       "+1 (555) 010-0001,Ann,A-1\r\n"
       "\r\n"
       "15550100002,Bob,B-2\r\n"
       "12345,Nobody,N-0\r\n"
       "1-555-010-0001,Ann again,A-9\r\n"
       "15550100009,\"Smith, Eve\",\"E-5\"\r\n")


def new(name, **kw):
    d = {"name": name, "template": "order_update", "language": "en_US", "at": LATER, "csv": CSV}
    d.update(kw)
    return d


def test_create_from_csv_counts_skips_and_preview(s):
    st, c = call(s, "POST", "/campaigns", new("csv-one", number="default"))
    assert st == 201, c
    assert c["name"] == "csv-one" and c["number"] == "default" and c["phone_number_id"] == DEFAULT
    assert c["template"] == "order_update" and c["language"] == "en_US"
    assert c["source"] == {"file": "upload.csv"} and c["state"] == "scheduled"
    assert c["start_at"] == LATER and c["finished_at"] is None and c["wait_reason"] is None
    assert c["counts"] == {"total": 5, "queued": 2, "skipped": 3, "sent": 0, "delivered": 0,
                           "read": 0, "failed": 0,
                           "skipped_reasons": {"opted_out": 1, "invalid_number": 1,
                                               "duplicate": 1}}
    assert c["preview"] == "Hello Ann, order A-1 is ready."
    rows = s.q("SELECT line, wa_id, params, state, reason, outbox_id FROM campaign_recipients "
               "WHERE campaign_id = ? ORDER BY id", c["id"])
    assert [(r["line"], r["wa_id"], json.loads(r["params"]), r["state"], r["reason"]) for r in rows] == [
        (2, "15550100001", ["Ann", "A-1"], "queued", None),
        (4, "15550100002", ["Bob", "B-2"], "skipped", "opted_out"),
        (5, "12345", ["Nobody", "N-0"], "skipped", "invalid_number"),
        (6, "15550100001", ["Ann again", "A-9"], "skipped", "duplicate"),
        (7, "15550100009", ["Smith, Eve", "E-5"], "queued", None)]
    assert all(r["outbox_id"] is None for r in rows)
    st, got = call(s, "GET", "/campaigns/%d" % c["id"])
    assert st == 200 and got == c
    st, named = call(s, "POST", "/campaigns", new("csv-named", file_name="März list.csv", dry_run=True))
    assert st == 200 and named["source"] == {"file": "März list.csv"}
    # A fixed header and fixed buttons need nothing from the file.
    st, fixed = call(s, "POST", "/campaigns", new("fixed", template="plain_links",
                                                  csv="wa_id,n\n15550100001,Ann\n", dry_run=True))
    assert st == 200 and fixed["preview"] == "Hi Ann.", fixed


def test_dry_run_writes_nothing_and_answers_the_same(s):
    before = counts(s)
    st, c = call(s, "POST", "/campaigns", new("dry", dry_run=True))
    assert st == 200, c
    assert c["id"] is None and c["name"] == "dry" and c["state"] == "scheduled"
    assert c["counts"]["total"] == 5 and c["counts"]["queued"] == 2
    # A preview tells why recipients would be skipped.
    assert c["counts"]["skipped_reasons"] == {"opted_out": 1, "invalid_number": 1,
                                              "duplicate": 1}
    assert c["preview"] == "Hello Ann, order A-1 is ready."
    assert counts(s) == before
    # The name is still free.
    st, c = call(s, "POST", "/campaigns", new("dry"))
    assert st == 201 and c["id"] > 0


def test_bad_csv_names_every_wrong_line_and_writes_nothing(s):
    before = counts(s)
    bad = ("wa_id,name,order\n"
           "15550100001,Ann,A-1\n"
           "15550100002,Bob\n"
           "15550100003,,C-3\n"
           "15550100004,Dee,\"tab\there\"\n"
           "15550100005,Eve,\"a    b\"\n"
           "15550100006,Fay,\"open\n")
    st, e = call(s, "POST", "/campaigns", new("bad", csv=bad))
    assert st == 400, e
    err = e["error"]
    assert err["code"] == "invalid_csv" and err["field"] == "csv"
    assert err["message"] == "5 lines are wrong; the first: line 3: 2 columns where the header has 3"
    assert [x["line"] for x in err["lines"]] == [3, 4, 5, 6, 7]
    assert "empty" in err["lines"][1]["message"] and "tab" in err["lines"][2]["message"]
    assert "4 or more spaces" in err["lines"][3]["message"]
    assert counts(s) == before
    # More than 20 wrong lines: all counted, 20 listed.
    many = "wa_id,name,order\n" + "".join("1555010%04d,x\n" % i for i in range(25))
    st, e = call(s, "POST", "/campaigns", new("bad", csv=many))
    assert st == 400 and e["error"]["message"].startswith("25 lines are wrong; the first: line 2:")
    assert len(e["error"]["lines"]) == 20 and e["error"]["lines"][-1]["line"] == 21


@pytest.mark.parametrize("doc,status,code,field", [
    ({"template": "no_such"}, 400, "template_not_found", "template"),
    ({"language": "pt_BR"}, 400, "template_not_found", "template"),
    ({"template": "promo_pending", "csv": "wa_id,n\n15550100001,x\n"}, 400, "template_not_approved", "template"),
    # Parameters a campaign cannot fill: Meta would refuse every send.
    ({"template": "photo_promo", "csv": "wa_id,n\n15550100001,x\n"}, 400, "template_unsupported", "template"),
    ({"template": "track_order", "csv": "wa_id,n\n15550100001,x\n"}, 400, "template_unsupported", "template"),
    ({"number": "nope"}, 400, "unknown_number", "number"),
    ({"file_name": "../etc/passwd"}, 400, "invalid_file_name", "file_name"),
    ({"file_name": "a" * 129}, 400, "invalid_file_name", "file_name"),
    ({"file_name": "x.csv", "csv": None, "segment": {"label": "vip"}, "params": ["a", "b"]},
     400, "invalid_file_name", "file_name"),
    ({"name": ""}, 400, "invalid_name", "name"),
    ({"name": "x" * 65}, 400, "invalid_name", "name"),
    ({"language": "en US"}, 400, "invalid_language", "language"),
    ({"at": "next week"}, 400, "invalid_at", "at"),
    ({"csv": None}, 400, "invalid_source", "csv"),
    ({"segment": {"label": "vip"}, "params": ["a", "b"]}, 400, "invalid_source", "csv"),
    ({"csv": None, "segment": {"active_days": 0}}, 400, "invalid_source", "segment"),
    ({"csv": None, "segment": {"label": "vip"}, "params": ["only one"]}, 400, "invalid_params", "params"),
    ({"csv": None, "segment": {"label": "vip"}, "params": ["a\nb", "x"]}, 400, "invalid_params", "params"),
    ({"csv": None, "segment": {"label": "nobody"}, "params": ["a", "b"]}, 400, "empty_segment", "segment"),
    ({"params": ["a", "b"]}, 400, "invalid_params", "params"),
    ({"colour": "red"}, 400, "unknown_field", ""),
    ({"dry_run": "yes"}, 400, "bad_type", "dry_run"),
    ({"template": 7}, 400, "bad_type", "template"),
])
def test_refusals_have_a_code_and_field(s, doc, status, code, field):
    before = counts(s)
    d = new("refused")
    d.update(doc)
    d = {k: v for k, v in d.items() if v is not None}
    st, e = call(s, "POST", "/campaigns", d)
    assert st == status, e
    assert e["error"]["code"] == code and e["error"].get("field", "") == field
    assert len(e["error"]["message"]) > 20
    assert counts(s) == before


def test_name_taken_is_409(s):
    st, c = call(s, "POST", "/campaigns", new("twice"))
    assert st == 201
    before = counts(s)
    st, e = call(s, "POST", "/campaigns", new("twice"))
    assert st == 409 and e["error"]["code"] == "name_taken" and e["error"]["field"] == "name"
    assert counts(s) == before


def test_not_json_and_no_key(s):
    st, e = call(s, "POST", "/campaigns", raw=b"{not json")
    assert st == 422 and e["error"]["code"] == "bad_json"
    st, _, b = s.request("GET", API + "/campaigns")
    assert st == 401


def test_segment_by_label_and_by_activity(s):
    st, c = call(s, "POST", "/campaigns", {"name": "vip", "template": "order_update", "language": "en_US",
                                           "at": LATER, "segment": {"label": "vip"},
                                           "params": ["{name}", "VIP-1"]})
    assert st == 201, c
    assert c["source"] == {"label": "vip"}
    assert c["counts"]["total"] == 3 and c["counts"]["queued"] == 2 and c["counts"]["skipped"] == 1
    assert c["preview"] == "Hello Ann, order VIP-1 is ready."
    rows = s.q("SELECT line, wa_id, params, state, reason FROM campaign_recipients WHERE campaign_id = ? "
               "ORDER BY id", c["id"])
    assert [(r["line"], r["wa_id"], json.loads(r["params"]), r["state"], r["reason"]) for r in rows] == [
        (None, "15550100001", ["Ann", "VIP-1"], "queued", None),
        (None, "15550100002", ["Bob", "VIP-1"], "skipped", "opted_out"),
        (None, "15550100004", ["Customer", "VIP-1"], "queued", None)]
    st, c = call(s, "POST", "/campaigns", {"name": "active", "template": "greeting", "language": "en_US",
                                           "at": "2099-01-01T09:30Z", "segment": {"active_days": 7},
                                           "params": ["{name}", "the shop"]})
    assert st == 201, c
    assert c["source"] == {"active_days": 7} and c["start_at"] == 4070943000
    assert c["counts"]["total"] == 2 and c["counts"]["queued"] == 1
    assert c["preview"] == "Dear Ann, see you at the shop."
    rows = s.q("SELECT params FROM campaign_recipients WHERE campaign_id = ? AND state = 'queued'", c["id"])
    assert json.loads(rows[0]["params"]) == [{"parameter_name": "first_name", "text": "Ann"},
                                             {"parameter_name": "place", "text": "the shop"}]


def test_named_csv_and_no_parameters(s):
    st, c = call(s, "POST", "/campaigns", new("named", template="greeting",
                                              csv="wa_id,place,first_name\n15550100001,Lisbon,Ann\n"))
    assert st == 201, c
    assert c["preview"] == "Dear Ann, see you at Lisbon."
    st, c = call(s, "POST", "/campaigns", new("plain", template="hello_world",
                                              csv="wa_id\n15550100001\n15550100003\n"))
    assert st == 201 and c["counts"]["queued"] == 2 and c["preview"] == "Hello from Acme."
    # Everyone skipped: nothing to send, done at once.
    st, c = call(s, "POST", "/campaigns", new("nobody", template="hello_world", csv="wa_id\n15550100002\n1\n"))
    assert st == 201 and c["state"] == "done" and c["finished_at"] is not None
    assert c["counts"]["skipped"] == 2 and c["preview"] is None


def test_100000_line_csv_through_nginx(s):
    lines = ["wa_id,name,order"] + ["1555%07d,Customer %d,ORDER-%06d" % (i, i, i) for i in range(100000)]
    text = "\n".join(lines) + "\n"
    body = json.dumps(new("big", csv=text)).encode()
    assert len(body) > 3 * 1000 * 1000
    st, c = call(s, "POST", "/campaigns", raw=body)
    assert st == 201, c
    assert c["counts"]["total"] == 100000 and c["counts"]["queued"] == 100000
    assert s.q("SELECT count(*) n FROM campaign_recipients WHERE campaign_id = ?", c["id"])[0]["n"] == 100000
    # The rest of the API keeps its 64 KB limit.
    st, e = call(s, "POST", "/hooks", raw=body[:70000])
    assert st == 413


def hand_over(s, cid, n, state="queued"):
    """What the worker does to the first n queued recipients: an outbox row
    each (in state), linked from the recipient.  Returns the outbox ids."""
    ids = []
    with s.db() as c:
        rows = c.execute("SELECT id, wa_id FROM campaign_recipients WHERE campaign_id = ? AND "
                         "state = 'queued' AND outbox_id IS NULL ORDER BY id LIMIT ?", (cid, n)).fetchall()
        for r in rows:
            cur = c.execute(
                "INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, source, state, "
                "next_attempt_at, idempotency_key, created_at) VALUES (?, ?, 'template', '{}', 0, "
                "'campaign', ?, ?, ?, ?)",
                (DEFAULT, r["wa_id"], state, (LATER + 86400) * 1000, "campaign:%d:%d" % (cid, r["id"]),
                 int(time.time() * 1000)))
            c.execute("UPDATE campaign_recipients SET outbox_id = ? WHERE id = ?", (cur.lastrowid, r["id"]))
            ids.append(cur.lastrowid)
    return ids


def test_pause_resume_cancel_take_back_outbox_rows(s):
    csv = "wa_id,name,order\n" + "".join("1555020%04d,P%d,O-%d\n" % (i, i, i) for i in range(6))
    st, c = call(s, "POST", "/campaigns", new("pausing", csv=csv))
    assert st == 201
    cid = c["id"]
    waiting = hand_over(s, cid, 2)
    busy = hand_over(s, cid, 1, state="sending")
    st, c = call(s, "POST", "/campaigns/%d/pause" % cid)
    assert st == 200 and c["state"] == "paused" and c["counts"]["queued"] == 6
    ob = {r["id"]: r for r in s.q("SELECT id, state, idempotency_key FROM outbox WHERE id IN (%s)" %
                                  ",".join(map(str, waiting + busy)))}
    assert [ob[i]["state"] for i in waiting] == ["cancelled", "cancelled"]
    assert all(ob[i]["idempotency_key"] is None for i in waiting)
    assert ob[busy[0]]["state"] == "sending"
    linked = s.q("SELECT outbox_id FROM campaign_recipients WHERE campaign_id = ? AND outbox_id IS NOT NULL",
                 cid)
    assert [r["outbox_id"] for r in linked] == busy
    # Pausing again changes nothing; resuming waits for its start.
    assert call(s, "POST", "/campaigns/%d/pause" % cid)[1]["state"] == "paused"
    st, c = call(s, "POST", "/campaigns/%d/resume" % cid)
    assert st == 200 and c["state"] == "scheduled"
    waiting = hand_over(s, cid, 2)
    st, c = call(s, "POST", "/campaigns/%d/cancel" % cid)
    assert st == 200 and c["state"] == "cancelled" and c["finished_at"] is not None
    assert c["counts"]["queued"] == 1 and c["counts"]["skipped"] == 5
    assert [r["state"] for r in s.q("SELECT state FROM outbox WHERE id IN (%s) ORDER BY id" %
                                    ",".join(map(str, waiting)))] == ["cancelled", "cancelled"]
    assert {r["reason"] for r in s.q("SELECT reason FROM campaign_recipients WHERE campaign_id = ? AND "
                                     "state = 'skipped'", cid)} == {"cancelled"}
    for verb in ("pause", "resume"):
        st, e = call(s, "POST", "/campaigns/%d/%s" % (cid, verb))
        assert st == 409 and e["error"]["code"] == "campaign_finished"
    st, e = call(s, "POST", "/campaigns/999999/pause")
    assert st == 404 and e["error"]["code"] == "not_found"


def test_list_recipients_by_state_and_report(s):
    st, c = call(s, "POST", "/campaigns", new("reported"))
    assert st == 201
    cid = c["id"]
    with s.db() as db:
        db.execute("UPDATE campaign_recipients SET state = 'failed', error_code = 131026, "
                   "reason = 'Message undeliverable, \"really\"', updated_at = 1767225600000 "
                   "WHERE campaign_id = ? AND line = 7", (cid,))
        db.execute("UPDATE campaign_recipients SET updated_at = 1767225600000 WHERE campaign_id = ?", (cid,))
    st, page = call(s, "GET", "/campaigns/%d/recipients?state=skipped&limit=2" % cid)
    assert st == 200
    assert [r["line"] for r in page["data"]] == [6, 5] and page["next_cursor"]
    assert set(page["data"][0]) == {"id", "line", "wa_id", "params", "state", "reason", "error_code",
                                    "updated_at"}
    assert page["data"][0]["params"] == ["Ann again", "A-9"]
    st, more = call(s, "GET", "/campaigns/%d/recipients?state=skipped&limit=2&before=%s" %
                    (cid, page["next_cursor"]))
    assert [r["line"] for r in more["data"]] == [4] and more["next_cursor"] is None
    st, f = call(s, "GET", "/campaigns/%d/recipients?state=failed" % cid)
    assert [(r["line"], r["error_code"]) for r in f["data"]] == [(7, 131026)]
    st, e = call(s, "GET", "/campaigns/%d/recipients?state=lost" % cid)
    assert st == 400
    st, hdrs, body = s.request("GET", API + "/campaigns/%d/report.csv" % cid,
                               headers={"Authorization": "Bearer " + s.key})
    assert st == 200 and hdrs["Content-Type"].startswith("text/csv")
    assert body.decode() == (
        "line,wa_id,state,reason,error_code,updated_at\n"
        "2,15550100001,queued,,,1767225600\n"
        "4,15550100002,skipped,opted_out,,1767225600\n"
        "5,12345,skipped,invalid_number,,1767225600\n"
        "6,15550100001,skipped,duplicate,,1767225600\n"
        "7,15550100009,failed,\"Message undeliverable, \"\"really\"\"\",131026,1767225600\n")
    st, lst = call(s, "GET", "/campaigns?state=scheduled")
    assert st == 200 and lst["data"][0]["id"] == cid
    assert all(x["state"] == "scheduled" for x in lst["data"])
    ids = [x["id"] for x in lst["data"]]
    assert ids == sorted(ids, reverse=True)
    st, lst = call(s, "GET", "/campaigns?state=done")
    assert all(x["state"] == "done" for x in lst["data"]) and cid not in [x["id"] for x in lst["data"]]


def test_wactl_campaign(s, tmp_path):
    f = tmp_path / "march.csv"
    f.write_text(CSV)
    r = wactl(s, "campaign", "create", "march", "--number", "default", "--template", "order_update",
              "--language", "en_US", "--to", str(f), "--at", "2099-01-01T09:30Z", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "dry run, nothing written: 5 recipients, 2 queued, 3 skipped" in r.stdout
    assert not s.q("SELECT id FROM campaigns WHERE name = 'march'")
    r = wactl(s, "campaign", "create", "march", "--number", "default", "--template", "order_update",
              "--language", "en_US", "--to", str(f), "--at", "2099-01-01T09:30Z")
    assert r.returncode == 0, r.stderr
    assert "march: 5 recipients, 2 queued, 3 skipped" in r.stdout
    assert "first message: Hello Ann, order A-1 is ready." in r.stdout
    row = s.q("SELECT source, start_at FROM campaigns WHERE name = 'march'")[0]
    assert json.loads(row["source"]) == {"file": "march.csv"} and row["start_at"] == 4070943000000
    r = wactl(s, "campaign", "show", "march")
    assert r.returncode == 0, r.stderr
    assert "[##################............] 60% (3 of 5 handled)" in r.stdout
    assert "queued 2, sent 0, delivered 0, read 0, failed 0, skipped 3" in r.stdout
    assert "skipped: duplicate 1, invalid_number 1, opted_out 1\n" in r.stdout
    r = wactl(s, "campaign", "list")
    assert r.returncode == 0 and any(l.split()[1:3] == ["march", "scheduled"] for l in r.stdout.splitlines())
    r = wactl(s, "campaign", "recipients", "march", "--state", "skipped")
    assert r.returncode == 0
    assert [l.split()[3:5] for l in r.stdout.splitlines()[1:]] == [
        ["skipped", "duplicate"], ["skipped", "invalid_number"], ["skipped", "opted_out"]]
    r = wactl(s, "campaign", "recipients", "march", "--state", "lost")
    assert r.returncode == 1 and "--state must be queued, skipped, sent, delivered, read or failed" in r.stderr
    r = wactl(s, "campaign", "recipients", "march", "--state", "failed")
    assert r.returncode == 0 and r.stdout.splitlines()[1:] == []
    r = wactl(s, "campaign", "report", "march")
    assert r.returncode == 0
    out = r.stdout.splitlines()
    assert out[0] == "line,wa_id,state,reason,error_code,updated_at" and len(out) == 6
    assert out[3].startswith("5,12345,skipped,invalid_number,,")
    r = wactl(s, "campaign", "pause", "march")
    assert r.returncode == 0 and "campaign march: paused" in r.stdout
    r = wactl(s, "campaign", "cancel", "march")
    assert r.returncode == 0 and "campaign march: cancelled" in r.stdout
    r = wactl(s, "campaign", "resume", "march")
    assert r.returncode == 1 and "done or cancelled" in r.stderr
    # Refusals: one line naming what is wrong, non-zero exit.
    bad = tmp_path / "bad.csv"
    bad.write_text("wa_id,name,order\n15550100001,Ann\n")
    r = wactl(s, "campaign", "create", "bad", "--number", "default", "--template", "order_update",
              "--language", "en_US", "--to", str(bad))
    assert r.returncode == 1 and "1 line is wrong; the first: line 2: 2 columns" in r.stderr
    r = wactl(s, "campaign", "create", "march", "--number", "default", "--template", "order_update",
              "--language", "en_US", "--to", str(f))
    assert r.returncode == 1 and "Another campaign has this name" in r.stderr
    r = wactl(s, "campaign", "show", "nope")
    assert r.returncode == 1 and "no campaign is called nope" in r.stderr
    r = wactl(s, "campaign", "create", "x", "--number", "default")
    assert r.returncode == 2 and "usage: wactl campaign create" in r.stderr
    r = wactl(s, "campaign", "create", "seg", "--number", "default", "--template", "order_update",
              "--language", "en_US", "--label", "vip", "--param", "{name}", "--param", "Spring", "--at",
              str(LATER))
    assert r.returncode == 0, r.stderr
    assert "3 recipients, 2 queued, 1 skipped" in r.stdout
