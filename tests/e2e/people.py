"""Who talks to the stack in the end-to-end tests: `wactl`, API keys it
makes, people it adds (each with the password PW) and their sessions
(POST /session).  One copy for every test_*.py."""
import json
import os
import subprocess

from stack import BUILD

API = "/api/whatsapp"
PW = "correct horse battery"


def wactl(s, *args, stdin=None, env=None):
    """Runs wactl with the stack's environment (env added to it)."""
    e = dict(s.env)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=e,
                          input=stdin, capture_output=True, text=True, timeout=30)


def new_key(s, name, *flags):
    """A new API key (`wactl apikey create NAME FLAGS`)."""
    r = wactl(s, "apikey", "create", name, *flags)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def add_user(s, name, role, *flags):
    """Adds a person with password PW (`wactl user add`); their id."""
    r = wactl(s, "user", "add", name, "--role", role, "--password-stdin", *flags,
              stdin=PW + "\n")
    assert r.returncode == 0, r.stderr
    return s.q("SELECT id FROM users WHERE name = ?", name)[0]["id"]


def session(s, name, password=PW):
    """Signs name in with POST /session: (the Cookie value, the CSRF token)."""
    st, h, b = s.request("POST", API + "/session", json.dumps(
        {"username": name, "password": password}).encode(), {"Content-Type": "application/json"})
    assert st == 200, b
    return h["Set-Cookie"].split(";")[0], json.loads(b)["csrf_token"]
