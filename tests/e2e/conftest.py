import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fake_graph import FakeGraph  # noqa: E402
from stack import WATCH, started  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def egress_watch():
    """For the whole session, samples the sockets of every process a Stack
    started; see the per-test check below."""
    WATCH.start()
    yield WATCH
    WATCH.stop()
    left = WATCH.take()
    assert not left, "a test stack connected outside loopback: %s" % left


@pytest.fixture(autouse=True)
def no_egress(egress_watch):
    """Fails the test (at teardown) whose stack had a socket with a peer
    outside loopback: no test may ever leave the machine."""
    yield
    egress_watch.sample()
    got = egress_watch.take()
    assert not got, "a test stack connected outside loopback: %s" % got


@pytest.fixture(scope="module")
def stack():
    # The fixtures' messages are stamped January 2026: the bot is off so
    # that no test here depends on them being old by now (a bot reply to
    # a fresh one would be sent, and fail, at the dead Graph URL).
    s = started(extra_env={"WA_BOT": "off"})
    yield s
    s.close()


@pytest.fixture(scope="module")
def graph():
    """A fake Graph API for the module's stacks (tests/e2e/fake_graph.py)."""
    g = FakeGraph(token="test-token")
    yield g
    g.close()
