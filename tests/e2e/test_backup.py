"""Backups (issue 15): `wactl backup --rotate DIR` (the daily file, 7 daily
and 4 weekly kept, 0600, the event=backup_done line), the wa-backup
units, and the restore drill: a stack under load is backed up, its
database destroyed, restored by the README's steps, and Meta's
redeliveries of every webhook are applied exactly once."""
import datetime
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from people import wactl  # noqa: E402
from stack import TOP, post_text, started  # noqa: E402

PNID = "200300400500600"
DONE = re.compile(r"event=backup_done path=(\S+) bytes=(\d+) seconds=(\d+\.\d+)$", re.M)


@pytest.fixture(scope="module")
def s():
    st = started(extra_env={"WA_BOT": "off"})
    yield st
    st.close()


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def name(d):
    return "wa-%s.db" % d.isoformat()


def expected_kept(days):
    """The rule, written apart from rotate.c with Python's own calendar:
    the 7 newest, then of the older ones the newest of each of the 4
    newest ISO weeks that hold one."""
    days = sorted(days, reverse=True)
    keep, weeks = set(days[:7]), []
    for d in days[7:]:
        w = d.isocalendar()[:2]
        if w not in weeks and len(weeks) < 4:
            weeks.append(w)
            keep.add(d)
    return keep


def rotate(s, *args, env=None, umask=None):
    e = dict(s.env)
    e.update(env or {})
    old = os.umask(umask) if umask is not None else None
    try:
        return subprocess.run([os.path.join(os.environ.get("BUILD_DIR", os.path.join(TOP, "build")),
                                            "wactl"), "backup", "--rotate"] + list(args),
                              env=e, capture_output=True, text=True, timeout=60)
    finally:
        if old is not None:
            os.umask(old)


def test_rotate_keeps_seven_daily_and_four_weekly(s, tmp_path):
    d = tmp_path / "backups"
    d.mkdir()
    # 60 days of earlier backups with a gap, and files that are not its own.
    old = [today() - datetime.timedelta(days=i) for i in range(1, 61) if i not in (3, 4, 20)]
    for day in old:
        (d / name(day)).write_bytes(b"an older copy")
    foreign = ["wa-2026-02-30.db", "wa.db", "notes.txt", name(old[-1]) + ".bak",
               "wa-%s.db-wal" % old[-1].isoformat(), "other-2020-01-01.db"]
    for f in foreign:
        (d / f).write_bytes(b"not a backup of ours")
    post_text(s, PNID, "15550401001", "in the backup")
    s.wait_applied()
    r = rotate(s, str(d))
    assert r.returncode == 0, r.stderr
    path = str(d / name(today()))
    assert r.stdout == path + "\n"
    m = DONE.search(r.stderr)
    assert m and m.group(1) == path and int(m.group(2)) == os.path.getsize(path), r.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    want = {name(x) for x in expected_kept(old + [today()])} | set(foreign)
    assert sorted(os.listdir(d)) == sorted(want)
    assert len([f for f in want if f not in foreign]) == 11
    c = sqlite3.connect(path)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT count(*) FROM messages WHERE text = 'in the backup'").fetchone()[0] == 1
    finally:
        c.close()


def test_same_day_again_replaces_the_file_whole(s, tmp_path):
    d = tmp_path / "b"
    r = rotate(s, str(d), umask=0)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700       # made owner-only
    path = r.stdout.strip()
    first = os.stat(path).st_ino
    post_text(s, PNID, "15550401002", "after the first copy")
    s.wait_applied()
    r = rotate(s, str(d), umask=0)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == path and os.listdir(d) == [os.path.basename(path)]
    assert os.stat(path).st_ino != first                    # renamed into place
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    c = sqlite3.connect(path)
    try:
        assert c.execute("SELECT count(*) FROM messages WHERE text = 'after the first copy'"
                         ).fetchone()[0] == 1
    finally:
        c.close()


def test_rotate_defaults_to_wa_backup_dir(s, tmp_path):
    d = tmp_path / "from-env"
    r = rotate(s, env={"WA_BACKUP_DIR": str(d)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(d / name(today())) and os.path.exists(r.stdout.strip())


def test_a_failed_backup_deletes_nothing(s, tmp_path):
    d = tmp_path / "keep"
    d.mkdir()
    old = [today() - datetime.timedelta(days=i) for i in range(1, 30)]
    for day in old:
        (d / name(day)).write_bytes(b"an older copy")
    empty = tmp_path / "no-state"
    empty.mkdir()
    r = rotate(s, str(d), env={"WA_STATE_DIR": str(empty)})
    assert r.returncode == 1
    assert "no database to back up" in r.stderr and "no old backup deleted" in r.stderr
    assert sorted(os.listdir(d)) == sorted(name(x) for x in old)
    assert os.listdir(empty) == []                          # no empty wa.db made either
    assert "event=backup_done" not in r.stderr


def test_backup_usage_errors(s):
    for args in (["backup"], ["backup", "--rotate", "a", "b"], ["backup", "--bogus"],
                 ["backup", "a", "b"]):
        r = wactl(s, *args)
        assert r.returncode == 2 and "usage: wactl backup FILE | wactl backup --rotate [DIR]" \
            in r.stderr, args
