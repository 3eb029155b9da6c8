import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from stack import WATCH, Stack  # noqa: E402


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
    s = Stack(extra_env={"WA_BOT": "off"})
    try:
        s.start()
    except Exception:
        s.close()
        raise
    yield s
    s.close()
