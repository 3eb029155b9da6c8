"""test_repository.py: the repository is self-contained (issue 15).

Users get this repository and nothing beside it: no file the product,
its tests, its bench or its docs use may name a folder outside it (the
team's "shared" folder next to the checkout, or a developer's machine
paths).  Every fixture the tests read lives in tests/fixtures/ and says
where it came from.
"""
import os
import re
import subprocess

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Spelled in two pieces so that this file does not match itself.
OUTSIDE = re.compile(rb"\.\./" + rb"shared|/work/" + rb"(shared|main|notes)")


def tracked_files():
    """The files git tracks; with no .git (a tarball), every file."""
    try:
        out = subprocess.run(["git", "-C", TOP, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return [p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, files in os.walk(TOP):
            dirs[:] = [x for x in dirs if x not in (".git", "build", "build-san", "var")]
            names += [os.path.relpath(os.path.join(d, f), TOP) for f in files]
        return names


def test_no_file_names_a_folder_outside_the_repository():
    files = tracked_files()
    assert len(files) > 100, "expected the repository's files, got %d" % len(files)
    hits = []
    for rel in files:
        path = os.path.join(TOP, rel)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            for n, line in enumerate(f, 1):
                if OUTSIDE.search(line):
                    hits.append("%s:%d: %s" % (rel, n, line.strip()[:100].decode(errors="replace")))
    assert hits == [], "files refer to paths outside the repository:\n" + "\n".join(hits)


def test_the_guard_sees_such_a_reference(tmp_path):
    # The pattern must catch the forms a slip would take.
    for line in (b"see ../" b"shared/DESIGN.md", b"open('../../" b"shared/fixtures/x')",
                 b"/work/" b"shared/reference/whatsapp-cloud-api.md"):
        assert OUTSIDE.search(line), line


def test_fixtures_and_design_live_here():
    for rel in ("tests/fixtures/README.md", "docs/design.md"):
        assert os.path.isfile(os.path.join(TOP, rel)), rel + " is missing"
    # Every fixture file the README lists is in the repository, and every
    # file there is listed (provenance kept with the files).
    with open(os.path.join(TOP, "tests", "fixtures", "README.md")) as f:
        readme = f.read()
    listed = set(re.findall(r"`([A-Za-z0-9_.-]+\.json)`", readme))
    present = set()
    for sub in ("webhooks", "graph"):
        d = os.path.join(TOP, "tests", "fixtures", sub)
        present |= {f for f in os.listdir(d) if f.endswith(".json")}
    assert listed, "tests/fixtures/README.md lists no fixture"
    assert sorted(present - listed) == [], "fixtures without provenance in the README"
    assert sorted(listed - present) == [], "fixtures the README lists but the repository lacks"
