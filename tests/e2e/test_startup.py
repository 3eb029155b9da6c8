"""Start-up and shutdown of wa-worker and wa-fcgi, each run alone (no
nginx, no spawn-fcgi): `-n` checks the configuration and exits without
touching the state dir, SIGTERM and SIGINT end each one cleanly, and the
SQLite version is logged and warned about as each program does."""
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile

import pytest

import fcgi_client
from stack import BUILD, DEAD_GRAPH_URL, TOP, wait_until

OLD_SQLITE = tuple(int(x) for x in sqlite3.sqlite_version.split(".")) < (3, 51, 3)
WARNING = "is older than 3.51.3"


@pytest.fixture
def state():
    with tempfile.TemporaryDirectory(prefix="wa-e2e-start-") as d:
        yield d


def env_for(state, **over):
    """Everything both programs need, nothing from the caller's WA_* or
    WHATSAPP_* settings; over adds or (value None) removes variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
    env.update({
        "WA_STATE_DIR": state,
        "WA_ENV_FILE": "",
        "WHATSAPP_APP_SECRET": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "WHATSAPP_VERIFY_TOKEN": "verify-start",
        "WHATSAPP_ACCESS_TOKEN": "test-token",
        "WHATSAPP_PHONE_NUMBER_ID": "200300400500600",
        "WHATSAPP_GRAPH_URL": DEAD_GRAPH_URL,
        "WA_BOT": "off",
        "WA_FLOW_FILE": os.path.join(TOP, "deploy", "flows", "default.json"),
    })
    for k, v in over.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run(prog, env, *args):
    return subprocess.run([os.path.join(BUILD, prog)] + list(args), env=env,
                          capture_output=True, text=True, timeout=20)


def migrate(state):
    r = run("wactl", env_for(state), "migrate")
    assert r.returncode == 0, r.stderr


def logged(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


@pytest.mark.parametrize("prog", ["wa-worker", "wa-fcgi"])
def test_check_flag_says_configuration_ok_and_creates_nothing(state, prog):
    r = run(prog, env_for(state), "-n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "configuration OK\n"
    # Only a check: no database, lock, socket or counters file made.
    assert os.listdir(state) == []


@pytest.mark.parametrize("prog,var,value", [
    ("wa-worker", "WHATSAPP_ACCESS_TOKEN", None),
    ("wa-worker", "WA_SEND_RATE", "0"),
    ("wa-fcgi", "WHATSAPP_APP_SECRET", None),
    ("wa-fcgi", "WA_BUSY_TIMEOUT_MS", "-1"),
])
def test_check_flag_names_the_bad_setting(state, prog, var, value):
    r = run(prog, env_for(state, **{var: value}), "-n")
    assert r.returncode != 0
    assert "configuration OK" not in r.stdout
    assert var in r.stderr
    assert os.listdir(state) == []


def test_bad_setting_stops_the_worker_before_it_opens_anything(state):
    migrate(state)
    before = sorted(os.listdir(state))
    r = run("wa-worker", env_for(state, WHATSAPP_PHONE_NUMBER_ID=None))
    assert r.returncode != 0
    assert "WHATSAPP_PHONE_NUMBER_ID" in r.stderr
    assert sorted(os.listdir(state)) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_stops_cleanly_on_signal(state, sig):
    migrate(state)
    log = os.path.join(state, "worker.log")
    with open(log, "wb") as f:
        p = subprocess.Popen([os.path.join(BUILD, "wa-worker")], env=env_for(state),
                             stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "applying the journal of" in logged(log), timeout=20,
                   what="the worker's start")
        assert os.path.exists(os.path.join(state, "worker.sock"))
        p.send_signal(sig)
        assert p.wait(15) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = logged(log)
    assert "stopping: the batch in hand was finished" in text
    # The worker says which SQLite it runs on, and warns when it is old.
    assert "SQLite %s\n" % sqlite3.sqlite_version in text
    assert (WARNING in text) == OLD_SQLITE
    # Its wake-up socket is removed on the way out.
    assert not os.path.exists(os.path.join(state, "worker.sock"))


def health_params():
    return {"REQUEST_METHOD": "GET", "REQUEST_URI": "/api/whatsapp/health",
            "SCRIPT_NAME": "/api/whatsapp/health", "DOCUMENT_URI": "/api/whatsapp/health",
            "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1"}


@pytest.fixture
def listener(state):
    """A FastCGI listening socket, as spawn-fcgi hands a responder on its
    standard input."""
    path = os.path.join(state, "t.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    yield path, s
    s.close()


def start_responder(state, sock):
    log = os.path.join(state, "fcgi.log")
    with open(log, "wb") as f:
        p = subprocess.Popen([os.path.join(BUILD, "wa-fcgi")], env=env_for(state),
                             stdin=sock.fileno(), stdout=f, stderr=subprocess.STDOUT)
    return p, log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_responder_stops_cleanly_on_signal(state, listener, sig):
    migrate(state)
    path, sock = listener
    p, log = start_responder(state, sock)
    try:
        # Answered: the responder is up and waits in accept() again.
        st, _, body = fcgi_client.request(path, health_params())
        assert st == 200, body
        p.send_signal(sig)
        assert p.wait(15) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    text = logged(log)
    # The responder warns about an old SQLite, as the worker does.
    assert (WARNING in text) == OLD_SQLITE



def test_second_worker_refused_names_the_lock_and_leaves_the_first(state):
    migrate(state)
    log = os.path.join(state, "worker.log")
    lock = os.path.join(state, "wa-worker.lock")
    with open(log, "wb") as f:
        p = subprocess.Popen([os.path.join(BUILD, "wa-worker")], env=env_for(state),
                             stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "applying the journal of" in logged(log), timeout=20,
                   what="the worker's start")
        # The lock file says who holds it, for people.
        with open(lock) as f:
            assert f.read() == "%d\n" % p.pid
        r = run("wa-worker", env_for(state))
        assert r.returncode != 0
        assert ("another wa-worker is already running on %s (it holds %s); only one may run"
                % (os.path.join(state, "wa.db"), lock)) in r.stderr
        # The refused one changed nothing of the first's.
        with open(lock) as f:
            assert f.read() == "%d\n" % p.pid
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        assert p.wait(15) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
