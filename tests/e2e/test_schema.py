"""schema.sql migrations as `wactl migrate` applies them."""
import os
import sqlite3
import subprocess

import pytest

from stack import BUILD, TOP, Stack

# The newest migration schema.sql has: what `wactl migrate` must reach.
with open(os.path.join(TOP, "schema.sql")) as _f:
    LATEST = max(int(line.split(":")[1]) for line in _f if line.startswith("-- migrate: "))

STATES = {"webhook_events": ("state", ["pending", "applied", "partial", "duplicate", "failed"]),
          "outbox": ("state", ["queued", "sending", "accepted", "failed", "cancelled"]),
          "media": ("state", ["pending", "stored", "failed"]),
          "agent_requests": ("state", ["queued", "sending", "answered", "failed"])}


@pytest.fixture
def env():
    s = Stack()
    yield s
    s.close()


def migrate(s):
    r = subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


def check_state_constraints(db):
    for table, (col, allowed) in STATES.items():
        sql = db.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
        # Plain comparisons, no IN list: SQLite builds no temporary index per row.
        assert "%s IN (" % col not in sql, table
        for v in allowed:
            assert "%s = '%s'" % (col, v) in sql, (table, v)
        ops = [r[1] for r in db.execute(
            "EXPLAIN UPDATE %s SET %s = ? WHERE rowid = ?" % (table, col), ("x", 1))]
        assert "OpenEphemeral" not in ops, table
    assert [r[0] for r in db.execute("PRAGMA integrity_check")] == ["ok"]


def test_fresh_database_gets_plain_state_checks(env):
    migrate(env)
    db = sqlite3.connect(os.path.join(env.state, "wa.db"))
    check_state_constraints(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256, state) "
                   "VALUES (1, x'7b7d', 2, 'x', 'bogus')")
    db.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256, state) "
               "VALUES (1, x'7b7d', 2, 'x', 'duplicate')")


def database_at(env, version):
    """A database in env's state dir as schema.sql's migrations up to
    version left it (what an older release made); its path and an
    autocommit connection."""
    with open(os.path.join(TOP, "schema.sql")) as f:
        text = f.read()
    os.makedirs(env.state, exist_ok=True)
    path = os.path.join(env.state, "wa.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(text[:text.index("\n-- migrate: %d" % (version + 1))] +
                     "\nPRAGMA user_version = %d;" % version)
    return path, db


def test_version_4_database_upgraded_in_place(env):
    # A database as the previous release left it, with a row in it.
    path, db = database_at(env, 4)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("INSERT INTO webhook_events (received_at, body, body_size, body_sha256, state) "
               "VALUES (1, x'7b7d', 2, 'x', 'failed')")
    cookie = db.execute("PRAGMA schema_version").fetchone()[0]
    db.close()
    assert "from version 4 to %d" % LATEST in migrate(env)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert db.execute("PRAGMA schema_version").fetchone()[0] > cookie
    assert db.execute("SELECT state, body FROM webhook_events").fetchall() == [("failed", b"{}")]
    check_state_constraints(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE webhook_events SET state = 'bogus'")


def test_version_5_database_upgraded_to_latest(env):
    # A database as the previous release left it: a contact with a name.
    path, db = database_at(env, 5)
    db.execute("INSERT INTO contacts (phone_number_id, wa_id, profile_name, first_seen_at, "
               "last_seen_at) VALUES ('p', '1555', 'Ann', 100, 200)")
    db.execute("INSERT INTO contacts (phone_number_id, wa_id, first_seen_at, last_seen_at) "
               "VALUES ('p', '1666', 100, 300)")
    db.close()
    assert "from version 5 to %d" % LATEST in migrate(env)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    # A known name keeps its clock (the newest message seen), an unknown none.
    assert db.execute("SELECT wa_id, profile_name, profile_name_at, username_at FROM contacts "
                      "ORDER BY wa_id").fetchall() == [("1555", "Ann", 200, None),
                                                       ("1666", None, None, None)]
    cols = {r[1] for r in db.execute("PRAGMA table_info(messages)")}
    assert {"source", "original_text", "edited_at", "revoked_at"} <= cols
    for t in ("message_edits", "contact_renames"):
        assert db.execute("SELECT count(*) FROM sqlite_schema WHERE name = ?", (t,)).fetchone()[0]
    check_state_constraints(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("INSERT INTO message_edits (phone_number_id, wamid, original_wamid, kind, "
                   "timestamp, raw, created_at) VALUES ('p', 'w', 'o', 'bogus', 1, '{}', 1)")


def test_version_6_database_upgraded_to_7(env):
    # Migration 7: the business's saved name for a contact, empty at first.
    path, db = database_at(env, 6)
    db.execute("INSERT INTO contacts (phone_number_id, wa_id, profile_name, first_seen_at, "
               "last_seen_at) VALUES ('p', '1555', 'Ann', 100, 200)")
    db.close()
    assert "from version 6 to %d" % LATEST in migrate(env)
    db = sqlite3.connect(path)
    assert db.execute("SELECT wa_id, profile_name, saved_name, saved_name_at FROM contacts"
                      ).fetchall() == [("1555", "Ann", None, None)]
