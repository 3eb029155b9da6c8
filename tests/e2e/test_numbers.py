"""wactl numbers: the business numbers an install serves, checked with the
(fake) Graph API before they are stored; tokens stay in the environment
under the variable a number names."""
import os
import subprocess

import pytest

from stack import BUILD, TOP, Stack

DEFAULT = "200300400500600"     # the Stack's WHATSAPP_PHONE_NUMBER_ID
SALES = "110220330440550"
NODE = {"display_phone_number": "+1 555-010-2222", "verified_name": "Acme Sales",
        "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"}, "status": "CONNECTED",
        "code_verification_status": "VERIFIED"}


def wactl(s, *args, env=None):
    e = dict(s.env)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=e,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def s(graph):
    st = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url})
    r = wactl(st, "migrate")
    assert r.returncode == 0, r.stderr
    graph.set_number(SALES, NODE)
    yield st
    graph.set_number(SALES, None)
    st.close()


def row(s, key):
    rows = s.q("SELECT * FROM numbers WHERE phone_number_id = ? OR label = ?", key, key)
    return rows[0] if rows else None


def test_migrate_seeds_the_configured_number(s):
    r = row(s, DEFAULT)
    assert r["label"] == "default"
    assert r["token_env"] == "WHATSAPP_ACCESS_TOKEN"
    assert r["checked_at"] is None and r["removed_at"] is None
    # Idempotent: a second migrate adds nothing.
    again = wactl(s, "migrate")
    assert again.returncode == 0, again.stderr
    assert s.q("SELECT count(*) AS n FROM numbers")[0]["n"] == 1


def test_add_stores_what_graph_said(s, graph):
    since = graph.count()
    r = wactl(s, "numbers", "add", SALES, "--waba", "9988776655", "--label", "sales", "--rate", "20")
    assert r.returncode == 0, r.stderr
    got = row(s, SALES)
    assert got["label"] == "sales" and got["waba_id"] == "9988776655"
    assert got["display_phone_number"] == "+1 555-010-2222"
    assert got["verified_name"] == "Acme Sales"
    assert got["quality_rating"] == "GREEN" and got["messaging_limit_tier"] == "TIER_1K"
    assert got["throughput"] == "STANDARD" and got["status"] == "CONNECTED"
    assert got["send_rate"] == 20 and got["checked_at"] is not None
    assert got["token_env"] == "WHATSAPP_ACCESS_TOKEN"
    reqs = [q for q in graph.requests() if q["path"].endswith("/" + SALES)][-1:]
    assert graph.count() > since and reqs
    assert reqs[0]["method"] == "GET"
    assert "messaging_limit_tier" in reqs[0]["query"]["fields"]
    assert reqs[0]["headers"]["authorization"] == "Bearer test-token"
    # The token never reaches the database.
    with open(os.path.join(s.state, "wa.db"), "rb") as f:
        assert b"test-token" not in f.read()


def test_add_unknown_id_stores_nothing(s):
    r = wactl(s, "numbers", "add", "999888777666", "--label", "ghost")
    assert r.returncode == 1
    assert "code 100/33" in r.stderr and "does not exist" in r.stderr
    assert row(s, "999888777666") is None


def test_add_with_a_bad_token_shows_190(s):
    r = wactl(s, "numbers", "add", SALES, "--label", "sales", "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES",
              env={"WHATSAPP_ACCESS_TOKEN_SALES": "wrong-token"})
    assert r.returncode == 1
    assert "code 190" in r.stderr and "wrong-token" not in r.stderr
    assert row(s, SALES) is None


def test_add_missing_token_variable_is_named(s, graph):
    since = graph.count()
    r = wactl(s, "numbers", "add", SALES, "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES")
    assert r.returncode == 1
    assert "WHATSAPP_ACCESS_TOKEN_SALES is not set" in r.stderr
    assert row(s, SALES) is None
    assert graph.count() == since       # nothing was asked without a token


def test_add_with_its_own_token_variable(s):
    r = wactl(s, "numbers", "add", SALES, "--label", "sales", "--token-env", "WHATSAPP_ACCESS_TOKEN_SALES",
              env={"WHATSAPP_ACCESS_TOKEN_SALES": "test-token"})
    assert r.returncode == 0, r.stderr
    assert row(s, SALES)["token_env"] == "WHATSAPP_ACCESS_TOKEN_SALES"


def test_list_show_edit_remove_readd(s):
    assert wactl(s, "numbers", "add", SALES, "--label", "sales").returncode == 0
    r = wactl(s, "numbers", "list")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith((DEFAULT, SALES))]
    assert len(lines) == 2 and not any("REMOVED" in ln for ln in lines)
    r = wactl(s, "numbers", "show", "sales")
    assert r.returncode == 0 and SALES in r.stdout and "Acme Sales" in r.stdout
    flow = os.path.join(TOP, "deploy", "flows", "default.json")
    r = wactl(s, "numbers", "edit", "sales", "--label", "shop", "--rate", "5", "--flow", flow,
              "--token-env", "WHATSAPP_ACCESS_TOKEN_SHOP")
    assert r.returncode == 0, r.stderr
    got = row(s, SALES)
    assert (got["label"], got["send_rate"], got["flow_path"], got["token_env"]) == \
        ("shop", 5, flow, "WHATSAPP_ACCESS_TOKEN_SHOP")
    r = wactl(s, "numbers", "remove", "shop")
    assert r.returncode == 0, r.stderr
    got = row(s, SALES)
    assert got["removed_at"] is not None and got["verified_name"] == "Acme Sales"
    r = wactl(s, "numbers", "list")
    marked = [ln for ln in r.stdout.splitlines() if ln.startswith(SALES)]
    assert len(marked) == 1 and "REMOVED" in marked[0]
    assert wactl(s, "numbers", "remove", "shop").returncode == 1
    # Re-adding brings it back, keeping what was set.
    r = wactl(s, "numbers", "add", SALES, env={"WHATSAPP_ACCESS_TOKEN_SHOP": "test-token"})
    assert r.returncode == 0, r.stderr
    got = row(s, SALES)
    assert got["removed_at"] is None and got["label"] == "shop" and got["send_rate"] == 5


@pytest.mark.parametrize("args", [
    ("--label", "Bad Label!"),
    ("--label", "x" * 33),
    ("--rate", "0"),
    ("--rate", "1001"),
    ("--rate", "ten"),
    ("--token-env", "lower-case"),
])
def test_edit_refuses_bad_values(s, args):
    before = row(s, "default")
    r = wactl(s, "numbers", "edit", "default", *args)
    assert r.returncode == 2
    assert "usage:" in r.stderr
    assert row(s, "default") == before


def test_edit_refuses_a_missing_flow_and_a_taken_label(s):
    assert wactl(s, "numbers", "add", SALES, "--label", "sales").returncode == 0
    before = row(s, "default")
    r = wactl(s, "numbers", "edit", "default", "--flow", os.path.join(s.state, "nope.json"))
    assert r.returncode == 1 and "nope.json" in r.stderr
    r = wactl(s, "numbers", "edit", "default", "--label", "sales")
    assert r.returncode == 1 and "belongs to another number" in r.stderr
    assert row(s, "default") == before


def test_bad_arguments_print_usage(s):
    for args in (("numbers",), ("numbers", "frob"), ("numbers", "show"),
                 ("numbers", "add", "not-digits"), ("numbers", "add", SALES, "--bogus")):
        r = wactl(s, *args)
        assert r.returncode == 2, args
        assert "usage:" in r.stderr, args
    assert row(s, SALES) is None
