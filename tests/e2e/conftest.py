import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from stack import Stack  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    s = Stack()
    try:
        s.start()
    except Exception:
        s.close()
        raise
    yield s
    s.close()
