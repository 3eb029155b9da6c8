"""What may leave the box with inbound media (DESIGN rule 9): the access
token goes only to the Graph host and Meta's media hosts, never follows a
redirect elsewhere; a media id from a webhook cannot change the Graph URL;
downloads stream to disk, stop at a free-space floor and a per-contact
cap, and every failure is recorded with its reason."""
import base64
import hashlib
import json
import os
import time

import pytest

from stack import Stack, fixture, started

PNID = "200300400500600"
CAP = 2          # WA_MEDIA_MAX_PER_CONTACT_DAY of the module's stack


@pytest.fixture(scope="module")
def gw(graph):
    s = started(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off",
                           "WA_MEDIA_MAX_PER_CONTACT_DAY": str(CAP)})
    yield s
    s.close()


@pytest.fixture
def fresh(graph):
    graph.reset()
    yield graph
    graph.reset()


_seq = iter(range(10**6))


def new_mid():
    return "79%08d%06d" % (int(time.time()) % 10**8, next(_seq))


def inbound_media(s, sender, mid, data=None, kind="image", mime="image/jpeg"):
    """Posts a signed inbound media message (sha256 of data when given)."""
    doc = json.loads(fixture("document.json" if kind == "document" else "image.json"))
    v = doc["entry"][0]["changes"][0]["value"]
    v["contacts"][0]["wa_id"] = sender
    m = v["messages"][0]
    m.update({"from": sender, "timestamp": str(int(time.time())),
              "id": "wamid.egress.%s" % os.urandom(8).hex()})
    m[kind]["id"] = mid
    m[kind]["mime_type"] = mime
    if data is not None:
        m[kind]["sha256"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
    else:
        m[kind].pop("sha256", None)
    assert s.post(json.dumps(doc).encode())[0] == 200
    s.wait_applied()


def media_row(s, mid):
    return s.q("SELECT * FROM media WHERE media_id = ?", mid)[0]


def wait_row(s, mid, cond, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        row = media_row(s, mid)
        if cond(row):
            return row
        time.sleep(0.05)
    raise AssertionError("media %s: %r\n%s" % (mid, media_row(s, mid), s.logtext()[-3000:]))


def leftovers(s):
    """Temporary download files left in the media directory."""
    d = os.path.join(s.state, "media")
    return [f for f in os.listdir(d) if f.startswith(".part")] if os.path.isdir(d) else []


def info_calls(g, mid):
    return [r for r in g.requests() if r["method"] == "GET" and r["path"] == "/v23.0/" + mid]


def escaped(x):
    return "".join(c if c.isalnum() or c in "-_" else "%%%02X" % ord(c) for c in x)


def test_media_id_cannot_change_the_graph_url(gw, fresh):
    """Reference 16: the id is one path segment, the query only ours."""
    mid = "../%s/messages?access_token=x#" % PNID
    inbound_media(gw, "15550700001", mid)
    wait_row(gw, mid, lambda r: r["attempts"] >= 1 and r["error"])
    got = [r for r in fresh.requests() if r["method"] == "GET"]
    assert got, "no media-info call"
    assert all(r["path"] == "/v23.0/" + escaped(mid) for r in got), [r["path"] for r in got]
    assert all(r["query"] == {"phone_number_id": PNID} for r in got)
    assert not fresh.requests("/v23.0/%s/messages" % PNID)


def test_token_not_sent_to_a_media_url_on_another_host(gw, fresh):
    data = os.urandom(2000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg")
    fresh.set_media_hosts(media_url_host="localhost")     # same fake, another host name
    inbound_media(gw, "15550700002", mid, data)
    row = wait_row(gw, mid, lambda r: r["error"])
    assert row["state"] == "pending" and "access token is not sent" in row["error"]
    assert [r for r in fresh.requests("/lookaside/")] == []
    assert leftovers(gw) == []


def test_redirect_to_another_host_is_not_followed(gw, fresh):
    data = os.urandom(2000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg")
    fresh.set_media_hosts(redirect_host="localhost")
    inbound_media(gw, "15550700003", mid, data)
    row = wait_row(gw, mid, lambda r: r["error"])
    assert row["state"] == "pending" and "redirect" in row["error"] and "not followed" in row["error"]
    hits = fresh.requests("/lookaside/")
    assert len(hits) == 1 and hits[0]["status"] == 302      # asked once, went nowhere else
    assert not [r for r in hits if r["headers"].get("host", "").startswith("localhost")]
    assert leftovers(gw) == []


def test_redirect_on_the_graph_host_is_followed(gw, fresh):
    data = os.urandom(3000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg")
    fresh.set_media_hosts(redirect_host="127.0.0.1")
    inbound_media(gw, "15550700014", mid, data)
    row = wait_row(gw, mid, lambda r: r["state"] != "pending" or r["error"])
    assert row["state"] == "stored", row
    hits = fresh.requests("/lookaside/" + mid)
    assert [r["status"] for r in hits] == [302, 200] and "hop" in hits[1]["query"]
    assert all(r["headers"]["authorization"] == "Bearer test-token" for r in hits)


def test_expired_url_gets_a_fresh_one_at_once(gw, fresh):
    data = os.urandom(4000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg")
    fresh.inject(http=404, match={"path": "/lookaside/" + mid}, times=1)
    inbound_media(gw, "15550700005", mid, data)
    row = wait_row(gw, mid, lambda r: r["state"] != "pending" or r["error"], timeout=10)
    assert row["state"] == "stored", row
    assert row["attempts"] == 1                              # within the same attempt
    assert len(info_calls(fresh, mid)) == 2                  # a fresh media-info call
    with open(os.path.join(gw.state, "media", row["path"]), "rb") as f:
        assert f.read() == data


def test_media_host_refusing_the_token_is_recorded(gw, fresh):
    data = os.urandom(1000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg")
    fresh.inject(http=401, match={"path": "/lookaside/" + mid}, times=-1)
    inbound_media(gw, "15550700006", mid, data)
    row = wait_row(gw, mid, lambda r: r["error"])
    assert row["state"] == "pending" and "refused the access token (HTTP 401)" in row["error"]
    assert len(info_calls(fresh, mid)) == 2                  # asked again once, then backs off
    assert len(fresh.requests("/lookaside/" + mid)) == 2
    assert row["next_attempt_at"] > time.time() * 1000 + 10000
    assert leftovers(gw) == []


def test_wrong_sha256_from_the_media_api_is_not_stored(gw, fresh):
    data = os.urandom(5000)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg", claim_sha256=hashlib.sha256(b"other").hexdigest())
    inbound_media(gw, "15550700007", mid)                    # the webhook gave no digest
    row = wait_row(gw, mid, lambda r: r["error"])
    assert row["state"] == "pending" and row["error"] == "sha256 does not match"
    assert row["path"] is None and leftovers(gw) == []
    digest = hashlib.sha256(data).hexdigest()
    assert not os.path.exists(os.path.join(gw.state, "media", digest[:2], digest))


def test_file_over_the_cap_is_cut_off(gw, fresh):
    """The media API claims 1 KB; the host sends more than an image may be."""
    data = os.urandom(5 * 1024 * 1024 + 1)
    mid = new_mid()
    fresh.add_media(mid, data, "image/jpeg", claim_size=1000)
    inbound_media(gw, "15550700008", mid, data)
    row = wait_row(gw, mid, lambda r: r["error"])
    assert row["state"] == "pending" and row["path"] is None
    assert "size" in row["error"].lower(), row["error"]
    assert leftovers(gw) == []
    mid2 = new_mid()                                         # claimed too large: given up at once
    fresh.add_media(mid2, b"x" * 100, "image/jpeg", claim_size=6 * 1024 * 1024)
    inbound_media(gw, "15550700009", mid2)
    row = wait_row(gw, mid2, lambda r: r["state"] == "failed")
    assert "larger than Meta allows" in row["error"] and not fresh.requests("/lookaside/" + mid2)


def test_per_contact_daily_cap_skips_the_rest(gw, fresh):
    who = "15550700010"
    mids = [new_mid() for _ in range(CAP + 1)]
    blobs = [os.urandom(1000 + i) for i in range(CAP + 1)]
    for mid, data in zip(mids, blobs):
        fresh.add_media(mid, data, "image/jpeg")
    for mid, data in zip(mids, blobs):
        inbound_media(gw, who, mid, data)
    rows = [wait_row(gw, mid, lambda r: r["state"] != "pending") for mid in mids]
    assert [r["state"] for r in rows] == ["stored"] * CAP + ["failed"]
    assert "WA_MEDIA_MAX_PER_CONTACT_DAY" in rows[-1]["error"] and rows[-1]["attempts"] == 0
    assert info_calls(fresh, mids[-1]) == []                 # never asked Meta for it
    other = new_mid()                                        # another contact is not held back
    data = os.urandom(900)
    fresh.add_media(other, data, "image/jpeg")
    inbound_media(gw, "15550700011", other, data)
    assert wait_row(gw, other, lambda r: r["state"] != "pending")["state"] == "stored"


def worker_pid(s):
    return s.q("SELECT pid FROM worker_status")[0]["pid"]


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_large_document_is_streamed_not_held_in_memory(gw, fresh):
    data = os.urandom(48 * 1024 * 1024)
    mid = new_mid()
    fresh.add_media(mid, data, "application/pdf")
    before = vm_hwm_kb(worker_pid(gw))
    inbound_media(gw, "15550700012", mid, data, kind="document", mime="application/pdf")
    row = wait_row(gw, mid, lambda r: r["state"] != "pending" or r["error"], timeout=60)
    assert row["state"] == "stored", row
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
    grew = vm_hwm_kb(worker_pid(gw)) - before
    assert grew < 24 * 1024, "worker peak memory grew by %d KB for a 48 MB file" % grew
    assert leftovers(gw) == []


def test_disk_floor_holds_downloads_and_recovers_without_restart(graph, tmp_path):
    graph.reset()
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off"})
    st = os.statvfs(s.state)
    free_mb = st.f_bavail * st.f_frsize // (1024 * 1024)
    s.env["WA_MEDIA_MIN_FREE_MB"] = str(free_mb - 512)      # room now, not after the filler
    filler = os.path.join(s.state, "filler")
    try:
        s.start()
        assert json.loads(s.request("GET", "/api/whatsapp/health")[2])["media"] == {"downloads": "ok"}
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, 1536 * 1024 * 1024)
        deadline = time.time() + 10
        while time.time() < deadline and "downloads wait" not in s.logtext():
            time.sleep(0.05)
        assert "downloads wait" in s.logtext()
        h = json.loads(s.request("GET", "/api/whatsapp/health")[2])
        assert h["status"] == "degraded" and h["media"]["downloads"] == "waiting"
        assert "WA_MEDIA_MIN_FREE_MB" in h["media"]["reason"]
        data = os.urandom(3000)
        mid = new_mid()
        graph.add_media(mid, data, "image/jpeg")
        inbound_media(s, "15550700013", mid, data)
        # The worker has passed its loop since the row came (a heartbeat
        # newer than the row), and did not touch it.
        created = media_row(s, mid)["created_at"]
        deadline = time.time() + 10
        while time.time() < deadline and s.q("SELECT heartbeat_at FROM worker_status")[0]["heartbeat_at"] <= created + 1:
            time.sleep(0.05)
        row = media_row(s, mid)
        assert row["state"] == "pending" and row["attempts"] == 0
        assert info_calls(graph, mid) == []
        os.unlink(filler)
        row = wait_row(s, mid, lambda r: r["state"] != "pending")
        assert row["state"] == "stored"
        assert json.loads(s.request("GET", "/api/whatsapp/health")[2])["media"] == {"downloads": "ok"}
        assert "downloads resume" in s.logtext()
    finally:
        if os.path.exists(filler):
            os.unlink(filler)
        s.close()


def test_half_done_download_is_removed_at_start(graph):
    s = Stack(extra_env={"WHATSAPP_GRAPH_URL": graph.url, "WA_BOT": "off"})
    stale = os.path.join(s.state, "media", ".part-AbC123")
    os.makedirs(os.path.dirname(stale))
    with open(stale, "wb") as f:
        f.write(b"cut off by a crash")
    try:
        s.start()                       # returns once the worker's heartbeat is in
        assert not os.path.exists(stale)
    finally:
        s.close()


def test_erase_during_a_download_keeps_no_file(gw, fresh):
    """A contact erased while its photo is coming in (issue 10, item 14):
    the download ends, finds its row gone, and the file is not kept."""
    import subprocess
    from stack import BUILD
    data = os.urandom(5000)
    sha = hashlib.sha256(data).hexdigest()
    mid = new_mid()
    who = "15550700020"
    fresh.add_media(mid, data, "image/jpeg")
    fresh.inject(delay_ms=2500, match={"path": "/lookaside/" + mid}, times=1)
    r = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", "erase-" + mid],
                       env=gw.env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    inbound_media(gw, who, mid, data)
    # The media-info call is answered: the file's GET is now held.
    deadline = time.time() + 10
    while not info_calls(fresh, mid) and time.time() < deadline:
        time.sleep(0.02)
    assert info_calls(fresh, mid)
    st, _, b = gw.request("DELETE", "/api/whatsapp/contacts/" + who,
                          headers={"Authorization": "Bearer " + key})
    assert st == 200, b
    assert gw.q("SELECT count(*) n FROM media WHERE media_id = ?", mid)[0]["n"] == 0
    # The marker: the worker says it dropped the file it had fetched.
    deadline = time.time() + 15
    while "its row was erased during the download" not in gw.logtext() and \
            time.time() < deadline:
        time.sleep(0.05)
    assert "its row was erased during the download" in gw.logtext()
    assert [q for q in fresh.requests() if q["path"] == "/lookaside/" + mid]
    assert not os.path.exists(os.path.join(gw.state, "media", sha[:2], sha))
    assert leftovers(gw) == []
