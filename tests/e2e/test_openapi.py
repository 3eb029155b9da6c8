"""docs/openapi.yaml against what the responders really serve: the routes of
fcgi/api.c's routes[] table with the parameters each declares (as
`wa-fcgi -P` prints them), plus /webhook and /health read from the C
source, and asked of the running stack (nginx, responders, worker).  A
route added to or removed from routes[] without the document (or the other
way round) fails here, and so does a parameter or bound declared and not
documented (or documented and not declared), or a parameter, limit, status
or column the document claims and the gateway does not keep.

The document is read by load_yaml() below (no PyYAML needed): the plain
subset of YAML described at the top of docs/openapi.yaml."""
import datetime
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from stack import BUILD, TOP, fixture, free_port, started

DOC = os.path.join(TOP, "docs", "openapi.yaml")
SRC = os.path.join(TOP, "fcgi")
PREFIX = "/api/whatsapp"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Served by responder.c itself, before api.c's table.
RESPONDER = {("GET", "/webhook"), ("POST", "/webhook"), ("GET", "/health")}
NO_ROUTE = "No such endpoint."      # the route-level 404, responder.c and nginx


# --- A reader for the subset of YAML the document keeps to -----------------

KEY = re.compile(r"""('(?:[^']|'')*'|[^'"\s\[{#-][^:]*?):(?: +(.*))?$""")


def _scalar(s):
    if s.startswith("'"):
        assert len(s) > 1 and s.endswith("'"), s
        return s[1:-1].replace("''", "'")
    if s.startswith('"'):
        return json.loads(s)
    if s.startswith("["):
        assert s.endswith("]"), s
        return [_scalar(x.strip()) for x in s[1:-1].split(",") if x.strip()]
    if s == "{}":
        return {}
    if s in ("null", "~", "true", "false"):
        return {"true": True, "false": False}.get(s)
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    return s


def _node(lines, i, ind):
    if lines[i][1].startswith("- "):
        out = []
        while i < len(lines) and lines[i][0] == ind and lines[i][1].startswith("- "):
            rest = lines[i][1][2:].strip()
            if KEY.match(rest):             # "- key: value" opens a mapping
                lines[i] = (ind + 2, rest)
                v, i = _node(lines, i, ind + 2)
            else:
                v, i = _scalar(rest), i + 1
            out.append(v)
        return out, i
    out = {}
    while i < len(lines) and lines[i][0] == ind:
        m = KEY.match(lines[i][1])
        assert m and not lines[i][1].startswith("- "), "not key: value: %r" % lines[i][1]
        key, rest, i = _scalar(m.group(1)), (m.group(2) or "").strip(), i + 1
        assert key not in out, "key %r twice" % key
        if rest == ">-":                    # folded text: deeper lines joined
            j = i
            while j < len(lines) and lines[j][0] > ind:
                j += 1
            out[key], i = " ".join(t for _, t in lines[i:j]), j
        elif rest:
            out[key] = _scalar(rest)
        elif i < len(lines) and lines[i][0] > ind:
            out[key], i = _node(lines, i, lines[i][0])
        else:
            out[key] = None
    return out, i


def load_yaml(text):
    lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in text.splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    value, i = _node(lines, 0, lines[0][0])
    assert i == len(lines), "cannot read line %r" % (lines[i],)
    return value


with open(DOC, encoding="utf-8") as f:
    TEXT = f.read()
SPEC = load_yaml(TEXT)


def resolve(x):
    while isinstance(x, dict) and "$ref" in x:
        assert x["$ref"].startswith("#/"), x
        node = SPEC
        for part in x["$ref"][2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        x = node
    return x


def operations():
    """(METHOD, path, operation, [parameters, path level ones included])."""
    for path, item in SPEC["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                params = [resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
                yield m.upper(), path, op, params


def public(op):
    return op.get("security", SPEC.get("security")) == []


# --- What the C source serves ----------------------------------------------

def c_source(name):
    with open(os.path.join(SRC, name), encoding="utf-8") as f:
        return re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)


def c_declared():
    """What fcgi/api.c declares, as `wa-fcgi -P` prints it: one entry a route
    of its routes[] table, with its query parameters and the members of its
    JSON body (param.c's param_describe())."""
    r = subprocess.run([os.path.join(BUILD, "wa-fcgi"), "-P"], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    routes = json.loads(r.stdout)
    assert routes, "wa-fcgi -P declares no route"
    return {(x["method"], x["path"]): x for x in routes}


def c_routes():
    """{(METHOD, path): (declaration, needs a write key)} from api.c's routes[]."""
    return {k: (v, v["write"]) for k, v in DECLARED.items()}


def c_enums(decl):
    """{parameter: set of words} for the enumerated and boolean query
    parameters a route declares."""
    out = {}
    for p in decl["query"]:
        if p["type"] == "boolean":
            out[p["name"]] = {"true", "false"}
        elif p["type"] == "enum":
            out[p["name"]] = set(p["schema"]["enum"])
    return out


def c_query_names(decl):
    """The query names a route declares."""
    return {p["name"] for p in decl["query"]}


BOUNDS = ("type", "minimum", "maximum", "minLength", "maxLength", "enum", "default", "format",
          "pattern")


def doc_bounds(schema):
    """A documented schema in the words param_describe() uses: its type and
    bounds (format int64 says nothing more than integer)."""
    s = resolve(schema)
    alts = s.get("anyOf", []) + s.get("oneOf", [])
    if alts:
        return {"anyOf": [doc_bounds(a) for a in alts]}
    out = {k: s[k] for k in BOUNDS if k in s}
    if out.get("format") == "int64":
        del out["format"]
    return out


def declared_bounds(p):
    """A declared parameter's schema without what the document says apart:
    nullable (a schema member of its own there) and a minLength of 0."""
    out = {k: v for k, v in p["schema"].items() if k != "nullable"}
    if out.get("minLength") == 0:
        del out["minLength"]
    return out


def same_bounds(documented, declared, where):
    doc, dec = doc_bounds(documented), declared_bounds(declared)
    # A pattern the table does not hold is a check of the handler's own
    # (q needs a word, customer_email an @), tested against the stack.
    if "pattern" not in dec:
        doc.pop("pattern", None)
    assert doc == dec, "%s: documented %r, declared %r" % (where, doc, dec)


DECLARED = c_declared()
ROUTES = c_routes()
SERVED = set(ROUTES) | RESPONDER
DOCUMENTED = {(m, p) for m, p, _, _ in operations()}
# /session (role public): signing in takes no credential, and GET and
# DELETE check the session cookie themselves, not a key; their answers
# are tested in tests/e2e/test_session.py, not by the key-driven checks.
SESSION = {k for k, v in DECLARED.items() if v["role"] == "public"}


# --- The document itself ----------------------------------------------------

def test_reader_agrees_with_pyyaml_when_present():
    yaml = pytest.importorskip("yaml")
    assert load_yaml(TEXT) == yaml.safe_load(TEXT)


def test_document_is_openapi_3_0_3_and_every_ref_resolves():
    assert SPEC["openapi"] == "3.0.3" and SPEC["info"]["title"] and SPEC["info"]["version"]
    assert SPEC["servers"] == [{"url": PREFIX}]
    bearer = SPEC["components"]["securitySchemes"]["bearer"]
    assert bearer["type"] == "http" and bearer["scheme"] == "bearer"
    assert SPEC["security"] == [{"bearer": []}]

    def walk(x, where):
        if isinstance(x, dict):
            if "$ref" in x:
                assert resolve(x) is not None, where
            for k, v in x.items():
                walk(v, where + "/" + str(k))
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, "%s/%d" % (where, i))
    walk(SPEC, "#")


def test_documented_routes_are_exactly_the_served_ones():
    src = c_source("responder.c")
    assert '"/webhook"' in src and '"/health"' in src
    assert DOCUMENTED - SERVED == set(), "documented but not served"
    assert SERVED - DOCUMENTED == set(), "served but not documented"


@pytest.mark.parametrize("method,path", sorted(DOCUMENTED))
def test_operation_parameters_and_responses_fit_the_conventions(method, path):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    assert op.get("operationId") and op.get("summary") and op["responses"]
    in_path = set(re.findall(r"\{(\w+)\}", path))
    declared = {p["name"] for p in params if p["in"] == "path"}
    assert in_path == declared
    assert all(p["required"] is True for p in params if p["in"] == "path")
    responses = set(op["responses"])
    for code, r in op["responses"].items():
        r = resolve(r)
        assert r["description"], code
        for media in r.get("content", {}).values():
            assert resolve(media["schema"]), code
    if (method, path) in RESPONDER:
        assert public(op)
        return
    decl, write = ROUTES[(method, path)]
    assert not public(op) or decl["role"] == "public"
    assert {"400", "401", "503"} <= responses          # every api.c route refuses unknown names
    if write:
        assert "403" in responses
    if "requestBody" in op:
        assert {"413", "415"} <= responses
    names = c_query_names(decl)
    assert {p["name"] for p in params if p["in"] == "query"} == names
    for name, words in c_enums(decl).items():     # every word api.c takes, no other
        sch = resolve(next(p for p in params if p["name"] == name)["schema"])
        assert set(sch.get("enum", [])) or sch["type"] == "boolean", name
        assert {_str(x) for x in sch.get("enum", [True, False])} == words, name


@pytest.mark.parametrize("method,path", sorted(set(ROUTES)))
def test_documented_parameters_are_the_declared_ones_with_their_bounds(method, path):
    """Both ways: every query parameter api.c declares for the route is
    documented with the same type and bounds, and the document names no
    other; the same for the members of a flat JSON body."""
    assert (method, path) in DOCUMENTED
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    decl = DECLARED[(method, path)]
    documented = {p["name"]: p for p in params if p["in"] == "query"}
    declared = {p["name"]: p for p in decl["query"]}
    assert set(documented) - set(declared) == set(), "documented, not declared"
    assert set(declared) - set(documented) == set(), "declared, not documented"
    for name, p in declared.items():
        same_bounds(documented[name]["schema"], p, "%s %s ?%s" % (method, path, name))
    if decl["body"] is None:
        return
    schema = resolve(op["requestBody"]["content"]["application/json"]["schema"])
    assert schema.get("additionalProperties") is False, "an unknown member is refused"
    members = schema["properties"]
    declared = {p["name"]: p for p in decl["body"]}
    assert set(members) == set(declared), "body members documented %s, declared %s" % (
        sorted(members), sorted(declared))
    for name, p in declared.items():
        if p["type"] != "json":             # "json": the handler checks it
            same_bounds(members[name], p, "%s %s body %s" % (method, path, name))


# --- The running gateway ----------------------------------------------------

def request(s, method, path, query="", key=None, body=None, headers=None):
    h = {"Authorization": "Bearer " + key} if key else {}
    if isinstance(body, tuple):             # a raw upload: (type, bytes)
        h["Content-Type"], body = body
    elif body is not None:
        h["Content-Type"] = "application/json"
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.update(headers or {})
    url = PREFIX + path + ("?" + query if query else "")
    for _ in range(50):                     # nginx's rate limit: wait, not fail
        st, hdrs, raw = s.request(method, url, body, h)
        if st != 429:
            break
        time.sleep(0.1)
    if hdrs.get("Content-Type", "").startswith("application/json") and raw:
        return st, hdrs, json.loads(raw)
    return st, hdrs, raw.decode("utf-8", "replace")


def fill(path, values):
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def with_rows(gw, path, params):
    """Path values that have rows where the fixture made one, else missing."""
    values = {p["name"]: missing_value(p) for p in params if p["in"] == "path"}
    if len(values) == 1 and path.split("/")[1] in gw.rows:
        values = {n: gw.rows[path.split("/")[1]] for n in values}
    return values


def missing_value(p):
    """A path value no row has."""
    return 999999999 if resolve(p["schema"]).get("type") == "integer" else "15550999999"


def example_body(op):
    content = op["requestBody"]["content"]
    if "application/json" not in content:   # a raw upload: (type, bytes)
        ctype, media = next(iter(content.items()))
        return ctype, str(media.get("example", "")).encode()
    media = content["application/json"]
    return media.get("example", resolve(media["schema"]).get("example", {}))


def new_key(s, name, *flags):
    r = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", name] + list(flags),
                       env=s.env, capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def customer_writes(s, wa_id):
    """An inbound text from wa_id, stored; returns the journal entry's id."""
    doc = json.loads(fixture("text.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = wa_id
    v["messages"][0].update({"from": wa_id, "timestamp": str(int(time.time())),
                             "id": "wamid.openapi.%s" % os.urandom(8).hex()})
    st, _, stored = s.post(json.dumps(doc).encode())
    assert st == 200
    s.wait_applied()
    return json.loads(stored)["stored"]


@pytest.fixture(scope="module")
def gw():
    # Nothing listens on the Graph URL: queued sends go nowhere.
    s = started(extra_env={"WA_BOT": "off", "WA_API_RATE": "5000",
                           "WHATSAPP_GRAPH_URL": "http://127.0.0.1:%d" % free_port()})
    s.key = new_key(s, "openapi")
    s.ro_key = new_key(s, "openapi-ro", "--read-only")
    # A customer who wrote (the one the document's send example writes to),
    # so lists have rows and a free-form send is inside the window.
    send = [o for m, p, o, _ in operations() if (m, p) == ("POST", "/send")]
    customer = example_body(send[0])["to"] if send else "15550002222"
    # First path segment -> a value of its path parameter that has a row.
    s.rows = {"webhook-events": customer_writes(s, customer), "contacts": customer,
              "numbers": "200300400500600"}    # the seeded WHATSAPP_PHONE_NUMBER_ID
    if ("GET", "/conversations") in SERVED:
        st, _, page = request(s, "GET", "/conversations", key=s.key)
        s.rows["conversations"] = [c for c in page["data"] if c["phone"] == customer][0]["id"]
    if ("GET", "/templates") in SERVED:
        # A template of the default number's account (as a sync stores one).
        with s.db() as c:
            c.execute("UPDATE numbers SET waba_id = '1000000001'")
            c.execute("INSERT INTO templates (waba_id, name, language, status, components, updated_at) "
                      "VALUES ('1000000001', 'openapi_example', 'en_US', 'APPROVED', '[]', 0)")
        s.rows["templates"] = "openapi_example"
    if ("GET", "/alerts") in SERVED:
        # A gateway alert (as the worker raises one), seen by an admin key.
        with s.db() as c:
            s.rows["alerts"] = c.execute(
                "INSERT INTO alerts (kind, episode, summary, created_at) VALUES "
                "('backup_stale', 'openapi', 'There is no backup', 0)").lastrowid
    if ("GET", "/campaigns") in SERVED:
        # A campaign with one recipient, starting far ahead (as POST
        # /campaigns makes one; the worker leaves it alone).
        with s.db() as c:
            s.rows["campaigns"] = cid = c.execute(
                "INSERT INTO campaigns (name, phone_number_id, template, language, source, start_at, "
                "created_at, updated_at) VALUES ('openapi', '200300400500600', 'openapi_example', "
                "'en_US', '{\"file\":\"a.csv\"}', 4070943000000, 0, 0)").lastrowid
            c.execute("INSERT INTO campaign_recipients (campaign_id, line, wa_id, updated_at) "
                      "VALUES (?, 2, '15550002222', 0)", (cid,))
    if send:
        st, _, row = request(s, "POST", "/send", key=s.key, body=example_body(send[0]))
        assert st == 202, row
        s.rows["outbox"] = row["id"]
    yield s
    s.close()


TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
         "integer": int, "number": (int, float)}


def check(schema, v, where="body"):
    """v against a schema: $ref, oneOf/anyOf, type, nullable, enum,
    required, additionalProperties false, properties, items."""
    schema = resolve(schema)
    alts = schema.get("oneOf", []) + schema.get("anyOf", [])
    if alts:
        errors = []
        for alt in alts:
            try:
                return check(alt, v, where)
            except AssertionError as e:
                errors.append(str(e))
        raise AssertionError("%s fits none of its schemas: %s" % (where, errors))
    if v is None:
        assert schema.get("nullable") is True, "%s is null" % where
        return
    t = schema.get("type")
    if t:
        assert isinstance(v, TYPES[t]) and not (t in ("integer", "number") and isinstance(v, bool)), \
            "%s: %r is not %s" % (where, v, t)
    if "enum" in schema:
        assert v in schema["enum"], "%s: %r not in %s" % (where, v, schema["enum"])
    if isinstance(v, dict):
        props = schema.get("properties", {})
        assert set(schema.get("required", [])) <= set(v), \
            "%s lacks %s" % (where, sorted(set(schema.get("required", [])) - set(v)))
        if schema.get("additionalProperties") is False:
            assert set(v) <= set(props), "%s has undocumented %s" % (where, sorted(set(v) - set(props)))
        for k, sub in props.items():
            if k in v:
                check(sub, v[k], where + "." + k)
    if isinstance(v, list) and "items" in schema:
        for i, x in enumerate(v):
            check(schema["items"], x, "%s[%d]" % (where, i))


def check_answer(op, st, hdrs, data):
    """The status is one the operation documents, and the body fits it."""
    assert str(st) in op["responses"], "undocumented status %d: %r" % (st, data)
    r = resolve(op["responses"][str(st)])
    ctype = hdrs.get("Content-Type", "").split(";")[0].strip()
    content = r.get("content", {})
    assert ctype in content, "%d answered %s, documented %s" % (st, ctype, list(content))
    check(content[ctype]["schema"], data)
    for name in r.get("headers", {}):       # Retry-After: not on every 503
        assert name in hdrs or name == "Retry-After", "%d without %s" % (st, name)


def call_operation(s, method, path, op, params, values, key=True):
    """Calls one documented operation as the document describes it."""
    query, headers, body = {}, {}, None
    for p in params:
        if p["in"] == "query" and p.get("required"):
            query[p["name"]] = good_values(p)[0]
    if "hub.verify_token" in query:
        query.update({"hub.verify_token": s.verify_token, "hub.challenge": "openapi-1"})
    if "requestBody" in op:
        body = example_body(op)
        body = body if isinstance(body, tuple) else json.dumps(body).encode()
        if any(p["name"] == "X-Hub-Signature-256" for p in params):
            headers["X-Hub-Signature-256"] = s.sign(body)
    return request(s, method, fill(path, values), urllib.parse.urlencode(query),
                   key=None if public(op) or not key else s.key, body=body, headers=headers)


@pytest.mark.parametrize("method,path", sorted(DOCUMENTED - SESSION))
def test_every_documented_operation_is_served_as_documented(gw, method, path):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    missing = {p["name"]: missing_value(p) for p in params if p["in"] == "path"}
    # Reads ask about rows that exist; changes first about missing ones.
    st, hdrs, data = call_operation(gw, method, path, op, params,
                                    with_rows(gw, path, params) if method == "GET" else missing)
    assert st != 405, data
    if st == 404:
        assert data["error"]["code"] == "not_found" and data["error"]["message"] != NO_ROUTE
    else:
        assert st < 400, data               # the document's own example works
    check_answer(op, st, hdrs, data)
    if isinstance(data, dict) and "next_cursor" in data:
        assert data["data"], "no rows to check the row schema with"
    if (method, path) == ("GET", "/webhook"):
        assert data == "openapi-1"
    if method != "GET" and missing and with_rows(gw, path, params) != missing:
        # A change to a row that exists: any documented answer but 404.
        values = with_rows(gw, path, params)
        if method == "DELETE" and path.startswith("/contacts/"):
            values = {n: "1555077%04d" % (os.getpid() % 10000) for n in values}
            customer_writes(gw, values["wa_id"])     # erase someone else
        st, hdrs, data = call_operation(gw, method, path, op, params, values)
        assert st not in (404, 405), data
        check_answer(op, st, hdrs, data)


@pytest.mark.parametrize("method,path", sorted((m, p) for m, p in DOCUMENTED if "{" in p and m == "GET"))
def test_a_missing_row_is_a_documented_404_not_a_missing_route(gw, method, path):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    values = {p["name"]: missing_value(p) for p in params if p["in"] == "path"}
    st, hdrs, data = call_operation(gw, method, path, op, params, values)
    check_answer(op, st, hdrs, data)
    if "404" in op["responses"]:
        assert st == 404 and data["error"]["code"] == "not_found", data
        assert data["error"]["message"] != NO_ROUTE
    else:                                   # e.g. a list of a missing parent: empty
        assert st == 200, data
    for p in params:        # a path value within its limits routes, others do not
        sch = resolve(p["schema"])
        tries = [sch[k] + d for k in ("minimum", "maximum") if k in sch for d in (-1, 0, 1)]
        tries += ["1" * 5, "1" * 6, "1" * 20, "1" * 21, "12345x"] if "pattern" in sch else []
        for x in tries if p["in"] == "path" else []:
            st, _, data = call_operation(gw, method, path, op, params, dict(values, **{p["name"]: x}))
            assert st != 405, x
            if not fits(sch, str(x)):
                assert st == 404 and data["error"]["message"] == NO_ROUTE, x
            else:
                assert not (st == 404 and data["error"]["message"] == NO_ROUTE), x


@pytest.mark.parametrize("path", sorted({p for _, p in DOCUMENTED}))
def test_other_methods_are_405_with_the_documented_allow(gw, path):
    documented = {m for m, p in DOCUMENTED if p == path}
    other = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in documented)
    params = next(prm for _, p, _, prm in operations() if p == path)
    values = {x["name"]: missing_value(x) for x in params if x["in"] == "path"}
    st, hdrs, data = request(gw, other, fill(path, values), key=gw.key)
    assert st == 405 and data["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in hdrs["Allow"].split(",")} == documented


@pytest.mark.parametrize("method,path", sorted(DOCUMENTED - SESSION))
def test_security_is_as_documented(gw, method, path):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    values = {p["name"]: missing_value(p) for p in params if p["in"] == "path"}
    st, hdrs, data = call_operation(gw, method, path, op, params, values, key=False)
    if public(op):
        assert st not in (401, 405) and st < 500, data
        return
    assert st == 401 and data["error"]["code"] == "unauthorized"
    assert hdrs["WWW-Authenticate"].startswith('Bearer realm="wa-gateway"')
    check_answer(op, st, hdrs, data)
    if ROUTES[(method, path)][1]:           # a write: a read-only key is refused
        st, hdrs, data = request(gw, method, fill(path, values), key=gw.ro_key,
                                 body=example_body(op) if "requestBody" in op else None)
        assert st == 403 and data["error"]["code"] == "read_only_key"
        check_answer(op, st, hdrs, data)


# --- Query parameters: documented ones taken, with their limits ------------

def _str(v):
    return {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)


RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def fits(schema, v):
    """Whether the query value v (a string) fits the parameter's schema."""
    schema = resolve(schema)
    alts = schema.get("oneOf", []) + schema.get("anyOf", [])
    if alts:
        return any(fits(a, v) for a in alts)
    t = schema.get("type")
    if "enum" in schema:
        return v in [_str(x) for x in schema["enum"]]
    if t == "boolean":
        return v in ("true", "false")
    if t == "integer":
        return bool(re.fullmatch(r"-?[0-9]+", v)) and \
            schema.get("minimum", -2**63) <= int(v) <= schema.get("maximum", 2**63 - 1)
    if schema.get("format") == "date-time":
        try:
            datetime.datetime.strptime(v[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return False
        if not RFC3339.fullmatch(v):
            return False
    if "pattern" in schema and not re.search(schema["pattern"], v):
        return False
    return schema.get("minLength", 0) <= len(v) <= schema.get("maxLength", 10**9)


def unix(v):
    """A time parameter's value (that fits) as unix seconds."""
    if re.fullmatch(r"[0-9]+", v):
        return int(v)
    t = datetime.datetime.strptime(v[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    off = re.search(r"([+-])(\d\d):(\d\d)$", v)
    sign = 1 if off and off.group(1) == "+" else -1
    return t.timestamp() - (sign * (int(off.group(2)) * 3600 + int(off.group(3)) * 60) if off else 0)


def good_values(p):
    s = resolve(p["schema"])
    if "example" in p:
        return [_str(p["example"])]
    if "enum" in s:
        return [_str(s["enum"][0])]
    return {"boolean": ["true"], "integer": [str(s.get("minimum", 1))]}.get(s.get("type"), ["x"])


def candidates(p):
    """Values on both sides of the parameter's documented limits."""
    s, out = resolve(p["schema"]), set(good_values(p)) | {"", "~"}
    for alt in [s] + s.get("oneOf", []) + s.get("anyOf", []):
        alt = resolve(alt)
        out |= {_str(x) for x in alt.get("enum", [])}
        if alt.get("enum"):
            out.add("not-in-the-list")
        if alt.get("type") == "boolean":
            out |= {"true", "false", "maybe"}
        if alt.get("type") == "integer":
            lo, hi = alt.get("minimum"), alt.get("maximum")
            out |= {"1.5", "abc"} | {str(x) for x in (lo, hi) if x is not None}
            out |= {str(lo - 1)} if lo is not None else set()
            out |= {str(hi + 1)} if hi is not None else set()
        if alt.get("format") == "date-time":
            out |= {"2026-11-25T10:00:00Z", "2026-11-25T11:00:00.5+01:00", "2026-11-25 10:00:00",
                    "2026-13-01T00:00:00Z", "yesterday"}
        if alt.get("pattern"):
            out |= {"1" * 5, "1" * 6, "1" * 20, "1" * 21, "+" + "1" * 20, "+" + "1" * 21, "-.-"}
        if alt.get("type") == "string" and "maxLength" in alt:
            out |= {"x" * alt["maxLength"], "x" * (alt["maxLength"] + 1)}
    return sorted(out)


QUERY_OPS = sorted((m, p) for m, p in set(ROUTES) & DOCUMENTED if m == "GET")
QUERY_PARAMS = [(m, p, prm["name"]) for m, p, _, params in operations() if (m, p) in QUERY_OPS
                for prm in params if prm["in"] == "query"]


def test_the_list_endpoints_are_among_those_checked():
    assert {("GET", "/messages"), ("GET", "/conversations")} <= set(QUERY_OPS)
    assert {p for _, p, _ in QUERY_PARAMS} >= {"/messages", "/conversations"}


@pytest.mark.parametrize("method,path,name", QUERY_PARAMS)
def test_documented_query_parameter_is_taken_within_its_limits(gw, method, path, name):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    p = next(x for x in params if x["in"] == "query" and x["name"] == name)
    values = with_rows(gw, path, params)
    for v in candidates(p):
        st, hdrs, data = request(gw, method, fill(path, values),
                                 "%s=%s" % (name, urllib.parse.quote(v, safe="")), key=gw.key)
        check_answer(op, st, hdrs, data)
        if fits(p["schema"], v) and p.get("x-names-a-number") and v not in good_values(p):
            # Well formed, but no number of this install: named back.
            assert st == 400, (v, data)
            assert data["error"] == dict(data["error"], code="unknown_number", field=name), v
        elif fits(p["schema"], v) and not (p.get("x-must-be-before") and unix(v) > time.time()):
            assert st == 200, (v, data)
        else:
            assert st == 400, (v, data)
            assert data["error"] == dict(data["error"], code="bad_parameter", field=name), v


@pytest.mark.parametrize("method,path", QUERY_OPS)
def test_undocumented_query_parameter_is_refused(gw, method, path):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    values = with_rows(gw, path, params)
    for name in ("colour", "query", "Limit", "hub.mode"):
        assert name not in {x["name"] for x in params}
        st, hdrs, data = request(gw, method, fill(path, values), name + "=1", key=gw.key)
        assert st == 400 and data["error"]["code"] == "unknown_parameter", data
        assert data["error"]["field"] == name
        check_answer(op, st, hdrs, data)


HEADER_PARAMS = [(m, p, prm["name"]) for m, p, _, params in operations() if (m, p) in ROUTES
                 for prm in params if prm["in"] == "header"]


@pytest.mark.parametrize("method,path,name", HEADER_PARAMS)
def test_documented_header_parameter_is_taken_within_its_limits(gw, method, path, name):
    op, params = next((o, p) for m, pa, o, p in operations() if (m, pa) == (method, path))
    sch = resolve(next(x for x in params if x["in"] == "header" and x["name"] == name)["schema"])
    values = with_rows(gw, path, params)
    for v in ("", "k", "k" * sch.get("maxLength", 1), "k" * (sch.get("maxLength", 1) + 1)):
        st, hdrs, data = request(gw, method, fill(path, values), key=gw.key, headers={name: v},
                                 body=example_body(op) if "requestBody" in op else None)
        check_answer(op, st, hdrs, data)
        if fits(sch, v):
            assert st < 400, (len(v), data)
        else:
            assert st == 400 and data["error"]["field"] == name, (len(v), data)
