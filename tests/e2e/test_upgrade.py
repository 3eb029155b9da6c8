"""Upgrades (issue 15): a database made by the previous tagged release
(tests/fixtures/releases/, its schema.sql as it shipped) with a row in
every table is migrated by today's `wactl migrate`; every row of every
old table must still be there with its values, and the responders and
the worker must start on the result.  deploy/upgrade.sh's order is
checked through its --dry-run.

The rows are made generically from sqlite_master (column types, NOT
NULL, CHECK (col IN (...)), foreign keys), so a table added by a later
release is filled without anyone remembering to; a test fails when a
table is left empty.  A release whose migration drops a column must
name it in DROPPED below: that is the only loss this test accepts."""
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from stack import BUILD, TOP, Stack, post_text, wait_until  # noqa: E402

RELEASES = os.path.join(TOP, "tests", "fixtures", "releases")
PREVIOUS = "v0.5.0"            # the last tagged release
VERSION = "0.6.0"              # this one (fcgi/cfg.h WA_VERSION)
# Columns a migration since PREVIOUS drops on purpose: {table: {column}}.
DROPPED = {}
# Tables a migration since PREVIOUS drops on purpose (their rows go too).
DROPPED_TABLES = set()
# Values the generic filler cannot guess (a CHECK that is not an IN list,
# a format a column's CHECK demands), by (table, column).
OVERRIDES = {("numbers", "send_rate"): 80}
PNID = "200300400500600"


def release_db(path, schema_file, upto=None):
    """Builds path the way that release's `wactl migrate` did: each
    "-- migrate: N" section (up to upto) in its own transaction,
    user_version = N.  Returns N."""
    sql = open(schema_file, encoding="utf-8").read()
    parts = re.split(r"\n-- migrate: (\d+)", sql)
    c = sqlite3.connect(path, isolation_level=None)
    try:
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA foreign_keys = ON")
        n = 0
        for i in range(1, len(parts), 2):
            if upto is not None and int(parts[i]) > upto:
                break
            n = int(parts[i])
            c.execute("BEGIN IMMEDIATE")
            for stmt in split_sql(parts[i + 1]):
                c.execute(stmt)
            c.execute("PRAGMA user_version = %d" % n)
            c.execute("COMMIT")
        return n
    finally:
        c.close()


def split_sql(text):
    """The statements of a migration, one by one (complete_statement()
    knows where a trigger's BEGIN ... END; ends)."""
    out, cur = [], ""
    for line in text.splitlines(keepends=True):
        cur += line
        if sqlite3.complete_statement(cur):
            if cur.strip():
                out.append(cur)
            cur = ""
    if cur.strip() and not all(l.strip().startswith("--") or not l.strip()
                               for l in cur.splitlines()):
        out.append(cur)
    return out


def tables(c):
    """Every table: (name, sql), shadow tables of virtual ones included."""
    return [(r[0], r[1] or "") for r in c.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def virtual(c):
    return {n for n, s in tables(c) if s.upper().startswith("CREATE VIRTUAL")}


def shadow(c, name):
    return any(name.startswith(v + "_") for v in virtual(c))


def columns(c, t):
    """(name, type, notnull, default, pk) of each column of t."""
    return [(r[1], (r[2] or "").upper(), r[3], r[4], r[5])
            for r in c.execute("PRAGMA table_info(%s)" % q(t))]


def q(name):
    return '"%s"' % name.replace('"', '""')


def in_lists(sql):
    """{column: [allowed values]} from CHECK (col IN ('a', 'b', ...))."""
    out = {}
    for m in re.finditer(r"CHECK\s*\(\s*(\w+)\s+IN\s*\(([^)]*)\)", sql, re.I):
        vals = [v.strip() for v in m.group(2).split(",")]
        out[m.group(1)] = [v[1:-1] if v.startswith("'") else int(v) for v in vals]
    # a column's own CHECK: "state TEXT NOT NULL CHECK (state IN (...))"
    return out


def order(c, names):
    """names with every table after the tables its foreign keys name."""
    deps = {t: {r[2] for r in c.execute("PRAGMA foreign_key_list(%s)" % q(t))} - {t}
            for t in names}
    done, out = set(), []
    while len(out) < len(names):
        ready = [t for t in names if t not in done and deps[t] <= done | (deps[t] - set(names))]
        assert ready, "foreign keys in a cycle: %s" % [t for t in names if t not in done]
        for t in sorted(ready):
            done.add(t)
            out.append(t)
    return out


def value(t, col, typ, allowed, n):
    if (t, col) in OVERRIDES:
        return OVERRIDES[(t, col)]
    if col in allowed:
        return allowed[col][0]
    if col == "phone_number_id":
        return PNID                   # digits, as numbers' CHECK wants
    if "INT" in typ:
        return 1000 + n
    if "REAL" in typ or "FLOA" in typ or "DOUB" in typ:
        return 1.5 + n
    if "BLOB" in typ:
        return b"blob-%d" % n
    return "%s-%d" % (col, n)


def fill(c):
    """One row in every table; returns {table: error} for those that
    refused it."""
    names = [t for t, s in tables(c) if not shadow(c, t)]
    sqls = dict(tables(c))
    errors = {}
    for n, t in enumerate(order(c, [t for t in names if t not in virtual(c)])):
        fks = {r[3]: (r[2], r[4]) for r in c.execute("PRAGMA foreign_key_list(%s)" % q(t))}
        allowed = in_lists(sqls[t])
        row = {}
        for col, typ, notnull, default, pk in columns(c, t):
            if col in fks:
                parent, pcol = fks[col]
                got = c.execute("SELECT %s FROM %s LIMIT 1" % (q(pcol or "rowid"), q(parent))).fetchone()
                row[col] = got[0] if got else None
            else:
                row[col] = value(t, col, typ, allowed, n)
        # A CHECK that refuses the row names what it wants: SQLite's
        # message quotes it ("kind = 'edit' OR kind = 'revoke'", "id = 1"),
        # so take its first choice and try again.
        for _ in range(len(row) + 1):
            try:
                c.execute("INSERT INTO %s (%s) VALUES (%s)" % (
                    q(t), ", ".join(q(k) for k in row), ", ".join("?" * len(row))),
                    list(row.values()))
                errors.pop(t, None)
                break
            except sqlite3.DatabaseError as e:
                errors[t] = "%s (row %r)" % (e, row)
                if "UNIQUE" in str(e) and c.execute("SELECT count(*) FROM %s" % q(t)).fetchone()[0]:
                    errors.pop(t)         # a one-row table its migration filled
                    break
                m = re.search(r"CHECK constraint failed: \(?(\w+) = ('[^']*'|-?\d+)", str(e))
                if not m or m.group(1) not in row or (t, m.group(1)) in OVERRIDES:
                    break
                v = m.group(2)
                row[m.group(1)] = v[1:-1] if v.startswith("'") else int(v)
    # External-content full-text tables: index the message rows.
    for v in virtual(c):
        m = re.search(r"content\s*=\s*'?(\w+)'?", sqls[v])
        cols = [r[1] for r in c.execute("PRAGMA table_info(%s)" % q(v))]
        if m:
            c.execute("INSERT INTO %s (rowid, %s) SELECT rowid, %s FROM %s" % (
                q(v), ", ".join(map(q, cols)), ", ".join(map(q, cols)), q(m.group(1))))
        else:
            c.execute("INSERT INTO %s (%s) VALUES (%s)" % (
                q(v), ", ".join(map(q, cols)), ", ".join("?" * len(cols))), ["x"] * len(cols))
    return errors


def snapshot(c):
    """{table: [row as {column: value}]} of every non-virtual table."""
    out = {}
    for t, _ in tables(c):
        if t in virtual(c):
            continue
        cols = [x[0] for x in columns(c, t)]
        rows = c.execute("SELECT %s FROM %s" % (", ".join(map(q, cols)), q(t))).fetchall()
        out[t] = sorted((dict(zip(cols, r)) for r in rows), key=repr)
    return out


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    """A state dir whose wa.db is PREVIOUS's schema with a row in every
    table: (dir, its snapshot before the migration)."""
    d = tmp_path_factory.mktemp("upgrade")
    db = str(d / "wa.db")
    release_db(db, os.path.join(RELEASES, PREVIOUS + "-schema.sql"))
    c = sqlite3.connect(db, isolation_level=None)
    try:
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("BEGIN")
        errors = fill(c)
        c.execute("COMMIT")
        assert errors == {}, "add OVERRIDES for these: %s" % errors
        before = snapshot(c)
    finally:
        c.close()
    return str(d), before


def wactl(state, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
    env.update({"WA_STATE_DIR": state, "WA_ENV_FILE": "",
                "WHATSAPP_PHONE_NUMBER_ID": "200300400500600"})
    return subprocess.run([os.path.join(BUILD, "wactl")] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def test_every_table_of_the_previous_release_gets_a_row(old):
    _, before = old
    empty = sorted(t for t, rows in before.items() if not rows)
    assert empty == [], "tables the filler left empty: %s" % empty
    assert len(before) > 30       # the whole schema, not a part of it


def test_migrate_keeps_every_row_of_every_old_table(old):
    state, before = old
    r = wactl(state, "migrate")
    assert r.returncode == 0, r.stderr
    c = sqlite3.connect(os.path.join(state, "wa.db"))
    try:
        known = int(wactl(state, "version").stdout.split("schema ")[1].split(",")[0])
        assert c.execute("PRAGMA user_version").fetchone()[0] == known
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        after = snapshot(c)
    finally:
        c.close()
    for t, rows in before.items():
        if t in DROPPED_TABLES:
            continue
        assert t in after, "table %s is gone (name it in DROPPED_TABLES if meant)" % t
        gone = DROPPED.get(t, set())
        now = [{k: v for k, v in r.items() if k in rows[0]} for r in after[t]] if rows else []
        for row in rows:
            want = {k: v for k, v in row.items() if k not in gone}
            for k in want:
                assert not now or k in now[0], "%s.%s is gone (name it in DROPPED if meant)" % (t, k)
            assert any(all(n.get(k) == v for k, v in want.items()) for n in now), \
                "%s: row %r lost or changed by the migration" % (t, want)


def test_daemons_start_on_the_migrated_database(old):
    state, _ = old
    r = wactl(state, "migrate")
    assert r.returncode == 0, r.stderr
    s = Stack(state_dir=state, extra_env={"WA_BOT": "off"})
    try:
        t0 = int(time.time())
        s.start()
        # The filler's worker_status row is old: wait for this worker's.
        wait_until(lambda: s.q("SELECT started_at FROM worker_status")[0]["started_at"] >= t0,
                   what="the worker to start")
        st, _, body = s.request("GET", "/api/whatsapp/health")
        assert st == 200, body
        # A responder takes a webhook and the worker applies it.
        wamid = post_text(s, PNID, "15550009999", "after the upgrade")
        s.wait_applied()
        assert s.q("SELECT count(*) n FROM messages WHERE wamid = ?", wamid)[0]["n"] == 1
    finally:
        s.close()


def test_backup_copies_an_older_schema_and_refuses_a_newer_one(tmp_path):
    """upgrade.sh backs up the old release's database with the new wactl
    before it migrates: a copy of an older schema must work; one newer
    than this wactl knows is refused (a downgrade stops there)."""
    state = tmp_path / "state"
    state.mkdir()
    release_db(str(state / "wa.db"), os.path.join(TOP, "schema.sql"), upto=5)
    r = wactl(str(state), "backup", str(tmp_path / "old.db"))
    assert r.returncode == 0, r.stderr
    c = sqlite3.connect(str(tmp_path / "old.db"))
    try:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 5
    finally:
        c.close()
    known = int(wactl(str(state), "version").stdout.split("schema ")[1].split(",")[0])
    c = sqlite3.connect(str(state / "wa.db"))
    c.execute("PRAGMA user_version = %d" % (known + 1))
    c.close()
    r = wactl(str(state), "backup", "--rotate", str(tmp_path / "b"))
    assert r.returncode == 1 and "cannot vouch for" in r.stderr
    assert not (tmp_path / "b").exists() or os.listdir(tmp_path / "b") == []


def test_version_is_this_release():
    r = subprocess.run([os.path.join(BUILD, "wactl"), "version"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("wa-gateway %s, schema " % VERSION), r.stdout


# ------------------------------------------------------------ deploy/upgrade.sh

UPGRADE = os.path.join(TOP, "deploy", "upgrade.sh")
# The order upgrade.sh must keep (see its comments): back up first, then
# install, stop the worker before the responders, migrate, start the
# worker before the responders.
ORDER = [r"wactl backup --rotate ",
         r"^make -C \S+ install$",
         r"^sh \S+/deploy/install\.sh$",
         r"^systemctl daemon-reload$",
         r"^systemctl stop wa-worker\.service$",
         r"^systemctl stop wa-fcgi\.service wa-fcgi-api\.service$",
         r"wactl migrate$",
         r"^systemctl start wa-worker\.service$",
         r"^systemctl start wa-fcgi\.service wa-fcgi-api\.service$",
         r"^systemctl enable --now wa-backup\.timer$"]


def in_order(lines, patterns):
    """The index in lines of each pattern's first match, after the one
    before; fails naming the first pattern not found in its place."""
    at, found = 0, []
    for p in patterns:
        for i in range(at, len(lines)):
            if re.search(p, lines[i]):
                found.append(i)
                at = i + 1
                break
        else:
            raise AssertionError("%r not found after %r in:\n%s" % (
                p, lines[at - 1] if at else None, "\n".join(lines)))
    return found


def test_upgrade_dry_run_prints_the_steps_in_order(tmp_path):
    backups = tmp_path / "backups"
    env = dict(os.environ, BUILD=BUILD, WA_BACKUP_DIR=str(backups))
    r = subprocess.run(["sh", UPGRADE, "--dry-run"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    steps = [l[2:] for l in r.stdout.splitlines() if l.startswith("+ ")]
    in_order(steps, ORDER)
    assert "to %s" % VERSION in r.stdout and "to roll back" in r.stdout
    assert not backups.exists()                    # a dry run changes nothing
    r = subprocess.run(["sh", UPGRADE, "--bogus"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


STUBS = {
    # The user wa exists.
    "getent": 'echo "wa:x:999:999::/var/lib/wa-gateway:/usr/sbin/nologin"',
    # No chown to a user this machine does not have.
    "install": 'a=""; while [ $# -gt 0 ]; do case $1 in -o|-g) shift 2;; '
               '*) a="$a \'$1\'"; shift;; esac; done; eval exec /usr/bin/install $a',
    "make": 'echo "make $*" >> "$STUB_LOG"',
    "systemctl": 'echo "systemctl $*" >> "$STUB_LOG"',
    # install.sh is logged, never run here; any other sh is the real one.
    "sh": 'case ${1:-} in */deploy/install.sh) echo "sh $*" >> "$STUB_LOG"; exit 0;; esac; '
          'exec /bin/sh "$@"',
    # As wa: here the same user.  The backup runs for real; migrate is logged.
    "runuser": 'echo "runuser $*" >> "$STUB_LOG"; while [ "$1" != -- ]; do shift; done; shift; '
               'case "$*" in *" backup "*) [ -z "${FAIL_BACKUP:-}" ] || exit 1; exec "$@";; '
               '*" migrate"*) [ -z "${FAIL_MIGRATE:-}" ] || exit 1; exit 0;; esac; exec "$@"',
}


def stubbed_upgrade(tmp_path, **env_extra):
    """Runs upgrade.sh for real (not --dry-run) with systemctl, make,
    install.sh and the user switch replaced by stubs that log: the
    backup of a real database is taken.  (result, logged lines, state
    dir, backup dir)."""
    if os.geteuid() != 0:
        pytest.skip("upgrade.sh runs as root only")
    bin_ = tmp_path / "stubs"
    bin_.mkdir()
    for name, body in STUBS.items():
        (bin_ / name).write_text("#!/bin/sh\n%s\n" % body)
        (bin_ / name).chmod(0o755)
    state, backups, log = tmp_path / "state", tmp_path / "backups", tmp_path / "calls.log"
    state.mkdir()
    log.write_text("")
    r = wactl(str(state), "migrate")
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "WHATSAPP_"))}
    env.update({"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % bin_, "BUILD": BUILD,
                "WA_STATE_DIR": str(state), "WA_BACKUP_DIR": str(backups),
                "STUB_LOG": str(log)})
    env.update(env_extra)
    r = subprocess.run(["/bin/sh", UPGRADE], env=env, capture_output=True, text=True, timeout=120)
    return r, log.read_text().splitlines(), state, backups


def test_upgrade_backs_up_then_installs_stops_migrates_starts(tmp_path):
    r, calls, state, backups = stubbed_upgrade(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    in_order(calls, ORDER)
    today = [f for f in os.listdir(backups) if re.match(r"wa-\d{4}-\d\d-\d\d\.db$", f)]
    pre = [f for f in os.listdir(backups) if f.startswith("pre-upgrade-")]
    assert len(today) == 1 and len(pre) == 1, os.listdir(backups)
    assert re.match(r"pre-upgrade-\S+-to-%s-\d{8}T\d{6}Z\.db$" % re.escape(VERSION), pre[0])
    # The rollback copy is the backup itself (a link rotation never deletes).
    assert os.stat(backups / pre[0]).st_ino == os.stat(backups / today[0]).st_ino
    assert str(backups / pre[0]) in r.stdout and "to roll back" in r.stdout


def test_upgrade_stops_before_anything_when_the_backup_fails(tmp_path):
    r, calls, _, backups = stubbed_upgrade(tmp_path, FAIL_BACKUP="1")
    assert r.returncode == 1
    assert "the backup failed" in r.stderr and "nothing was changed" in r.stderr
    assert [c for c in calls if not c.startswith("runuser")] == []   # no make, systemctl, install.sh
    assert not any(f.startswith("pre-upgrade-") for f in os.listdir(backups))


def test_upgrade_leaves_services_stopped_when_migrate_fails(tmp_path):
    r, calls, _, _ = stubbed_upgrade(tmp_path, FAIL_MIGRATE="1")
    assert r.returncode == 1
    assert "wactl migrate failed" in r.stderr and "to roll back" in r.stderr
    assert "pre-upgrade-" in r.stderr                  # names the copy to restore
    in_order(calls, ORDER[:7])
    assert not any(c.startswith("systemctl start") for c in calls), calls
