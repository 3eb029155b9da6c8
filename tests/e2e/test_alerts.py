"""deploy/prometheus-alerts.yml: the example alert rules are well-formed
(YAML when python3-yaml is there, promtool when installed) and every
series and label they use is one the gateway's /metrics really serves,
read from a live stack that has rows of every kind."""
import os
import re
import shutil
import subprocess
import time

import pytest

from stack import TOP, post_text, started
from test_exposure import get, new_key

RULES = os.path.join(TOP, "deploy", "prometheus-alerts.yml")
PNID = "200300400500600"
# Functions, keywords and Prometheus' own series an expression may name.
NOT_SERIES = {"up", "sum", "by", "and", "or", "unless", "min_over_time", "increase", "delta",
              "rate", "clamp_min", "histogram_quantile", "le", "on", "without"}


def load_rules():
    with open(RULES) as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is None:
        # No python3-yaml: the shape, read line by line.
        rules, cur, folded = [], None, False
        for line in text.splitlines():
            m = re.match(r"^\s*- alert: (\S+)$", line)
            if folded and re.match(r"^\s{10}", line):
                cur["expr"] = (cur["expr"] + " " + line.strip()).strip()
                continue
            folded = False
            if m:
                cur = {"alert": m.group(1), "labels": {}, "annotations": {}}
                rules.append(cur)
            elif cur is not None and re.match(r"^\s+expr: ", line):
                cur["expr"] = line.split("expr:", 1)[1].strip()
                if cur["expr"] == ">":
                    cur["expr"], folded = "", True
            elif cur is not None and re.match(r"^\s+severity: ", line):
                cur["labels"]["severity"] = line.split(":", 1)[1].strip()
            elif cur is not None and re.match(r"^\s+summary: ", line):
                cur["annotations"]["summary"] = line.split(":", 1)[1].strip()
        return rules, text
    doc = yaml.safe_load(text)
    assert list(doc) == ["groups"] and len(doc["groups"]) == 1
    g = doc["groups"][0]
    assert g["name"] == "wa-gateway"
    return g["rules"], text


def test_rules_are_well_formed():
    rules, _ = load_rules()
    assert len(rules) >= 8
    names = [r["alert"] for r in rules]
    assert len(set(names)) == len(names)
    for r in rules:
        assert re.fullmatch(r"Wa[A-Za-z]+", r["alert"]), r
        assert r.get("expr"), r
        assert r["labels"]["severity"] in ("warning", "critical"), r
        assert r["annotations"]["summary"], r
        if "for" in r:
            assert re.fullmatch(r"\d+[smh]", r["for"]), r
        # Brackets and quotes balance in the expression.
        e = r["expr"]
        for o, c in ("()", "[]", "{}"):
            assert e.count(o) == e.count(c), r
        assert e.count('"') % 2 == 0, r


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules():
    r = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def series_of(metrics):
    """{name: set of label names} of the /metrics text."""
    out = {}
    for line in metrics.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+)(\{([^}]*)\})? ", line)
        assert m, line
        labels = set(re.findall(r'([a-z_]+)="', m.group(3) or ""))
        out.setdefault(m.group(1), set()).update(labels)
    return out


def test_every_series_in_the_rules_is_served():
    s = started(extra_env={"WA_BOT": "off"})
    try:
        post_text(s, PNID, "15550001111", "hi")
        s.wait_applied()
        now = int(time.time() * 1000)
        with s.db() as c:
            # A row of every state the series count, and a known tier.
            for state, code in (("queued", None), ("accepted", None), ("failed", 131026)):
                c.execute("INSERT INTO outbox (phone_number_id, recipient, kind, body, free_form, "
                          "source, state, next_attempt_at, error_code, created_at) VALUES "
                          "(?, '15550001111', 'text', '{}', 1, 'api', ?, ?, ?, ?)",
                          (PNID, state, now + 3600 * 1000, code, now - 5000))
            c.execute("UPDATE numbers SET messaging_limit_tier = 'TIER_1K' WHERE "
                      "phone_number_id = ?", (PNID,))
        st, body = get(s, "/api/whatsapp/metrics", new_key(s))
        assert st == 200
        served = series_of(body.decode())
    finally:
        s.close()
    rules, text = load_rules()
    used = 0
    for r in rules:
        e = r["expr"]
        # Series names: what is left without selectors, ranges, by (...).
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\bby \([^)]*\)", "", e)
        for name in set(re.findall(r"\b([a-z_]+)\b(?!\s*\()", bare)):
            if name in NOT_SERIES or re.fullmatch(r"\d+[smh]?", name):
                continue
            assert name in served, "%s: %s is not a series of /metrics" % (r["alert"], name)
            used += 1
        for name, sel in re.findall(r"\b([a-z_]+)\{([^}]*)\}", e):
            if name == "up":
                continue
            for label, value in re.findall(r'([a-z_]+)=~?"([^"]*)"', sel):
                assert label in served[name], "%s: %s has no label %s" % (r["alert"], name, label)
        # $labels.x in the annotations must be labels the series carry.
        for label in re.findall(r"\$labels\.([a-z_]+)", str(r.get("annotations"))):
            series = re.findall(r"\b(wa_[a-z_]+)\b", e)
            assert all(label in served[x] for x in series), (r["alert"], label)
    assert used >= 10
    # The label values the rules pick are ones the gateway writes.
    with open(os.path.join(TOP, "schema.sql")) as f:
        schema = f.read()
    states = re.search(r"CREATE TABLE webhook_events.*?CHECK \(state IN \(([^)]*)\)\)", schema,
                       re.S).group(1)
    for v in re.findall(r'wa_webhooks\{result="([a-z]+)"\}', text):
        assert "'%s'" % v in states, v
    for v in re.findall(r'wa_number_quality\{rating="([A-Z]+)"\}', text):
        assert v in ("GREEN", "YELLOW", "RED"), v
    for v in re.findall(r'wa_sends\{result="([a-z]+)"\}', text):
        assert v in ("accepted", "failed"), v
