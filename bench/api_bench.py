"""make bench, management API part: GET /api/whatsapp/messages and
/conversations through the real nginx + spawn-fcgi + wa-fcgi against a
database of one million messages in ten thousand conversations, spread
over BENCH_API_NUMBERS business numbers (2), with cases that ask for one
number (number=) and that use a key limited to one number.  Prints
p50 and p99 per case, once from a cold page cache and once warm, and
whether every warm p99 is under the target; asserts nothing (it is not a
test).

The database: `wactl migrate` makes the schema in a fresh state dir, then
contacts, conversations and messages are inserted directly with sqlite3
(both directions, mostly text with some images, documents, audio,
locations, button replies and templates, customers chatting in sessions
over 90 days, ids growing with time as the gateway assigns them, wamids
random as Meta's).  They go in as the gateway writes them: in time order,
customers interleaved, in small transactions with every index live, the
search index fed in the worker's chunks with the worker's statement; no
pre-sorted bulk load and no index built afterwards, so the B-trees are as
fragmented as in production.  Then the WAL is checkpointed and the
database left in WAL mode as the gateway keeps it.  No ANALYZE: the
gateway never runs one either.

The stack runs with WA_BOT=off, BENCH_API_RESPONDERS responders (4) and
WA_API_RATE raised so that nginx's per-client limit (50 requests a second
in production) never answers 429 to the bench.  Every request draws its
parameters afresh from the data set (customers, conversations, days,
recent and deep pages, common words and rare order numbers of the
loaded texts), so no case repeats one URL or one hot row.  Cold pass:
BENCH_API_COLD_REQUESTS (200) a case, the database files evicted from
the page cache (posix_fadvise) before each case.  Warm pass: the files
read once, then BENCH_API_REQUESTS (2,000; after two uncounted ones per
connection) a case.  Both from BENCH_API_CONNECTIONS keep-alive HTTP/1.1
connections (4), each in its own thread, one request at a time per
connection, for at most BENCH_API_CASE_SECONDS (30) a case so that a
slow case ends with fewer.  The full-text cases (`q`) are measured when
the server accepts the parameter.  BENCH_API_SQL (optional) is run on the
loaded database before the stack starts, e.g. a candidate index to
compare.  BENCH_QUICK=1: 100,000 messages, fewer requests.

BENCH_API_DB=/path/file.db keeps the loaded database in that file (and
its load time in /path/file.db.json) instead of the stack's temporary
state dir: loaded when missing, reused as it is when it holds the
BENCH_API_MESSAGES and BENCH_API_CONVERSATIONS asked for, refused
otherwise.  The 10 M load (minutes) is then paid once:
    make bench-api BENCH_API_MESSAGES=10000000 BENCH_API_DB=/srv/bench/api-10m.db
BENCH_API_SQL changes the kept file for good: it is noted in the .json
and named by every later run (to compare, run it on a copy of both).
Each run adds one API key to it, revoked at the end.  Without it (`make bench`)
nothing changes: a fresh load in a temporary directory."""
import http.client
import itertools
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))
from stack import BUILD, Stack  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
N_MESSAGES = int(os.environ.get("BENCH_API_MESSAGES", "100000" if QUICK else "1000000"))
N_CONVERSATIONS = int(os.environ.get("BENCH_API_CONVERSATIONS", "2000" if QUICK else "10000"))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "300" if QUICK else "2000"))
COLD_REQUESTS = int(os.environ.get("BENCH_API_COLD_REQUESTS", "50" if QUICK else "200"))
CONNS = int(os.environ.get("BENCH_API_CONNECTIONS", "4"))
RESPONDERS = os.environ.get("BENCH_API_RESPONDERS", "4")
CASE_SECONDS = float(os.environ.get("BENCH_API_CASE_SECONDS", "10" if QUICK else "30"))
BATCH = 256             # messages a load transaction, as a busy worker commits them
SEARCH_CHUNK = 5000     # worker.c: messages added to the search index at once
TARGET_MS = 20.0
DAYS = 90
PNID = "200300400500600"   # the Stack's WHATSAPP_PHONE_NUMBER_ID
# The business numbers the conversations are spread over, round robin
# (BENCH_API_NUMBERS, 2): the configured one (`default`) and line1, ...
N_NUMBERS = max(1, int(os.environ.get("BENCH_API_NUMBERS", "2")))
NUMBERS = [PNID] + ["3003004005006%02d" % i for i in range(1, N_NUMBERS)]


def number_of(c):
    """The phone_number_id of conversation (and contact) index c."""
    return NUMBERS[c % N_NUMBERS]
API = "/api/whatsapp"
SEED = 20261125
KEEP = os.environ.get("BENCH_API_DB")

# Words for message text.  COMMON_WORD is in about a third of all texts,
# RARE_WORD in about one in five hundred: the two full-text cases.
COMMON_WORD = "order"
RARE_WORD = "warranty"
ITEMS = ["steel frame", "gate", "railing", "staircase", "bracket", "fence panel", "canopy",
         "handrail", "balcony", "carport", "shelf", "trailer hitch", "door", "window grille"]
PARTS = ["weld", "hinge", "coating", "bolt", "corner", "edge", "lock", "frame", "paint", "post"]
DEFECTS = ["cracked", "scratched", "bent", "rusty", "loose", "missing", "too short", "crooked"]
DAYS_OF_WEEK = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
NAMES = ["Anna", "Ben", "Carla", "Deniz", "Emil", "Fatma", "Georg", "Hana", "Ivan", "Jana",
         "Karim", "Lena", "Marco", "Nina", "Omar", "Petra", "Quentin", "Rosa", "Sven", "Tara",
         "Uwe", "Vera", "Wiktor", "Xenia", "Yusuf", "Zoe"]
SURNAMES = ["Schmidt", "Novak", "Rossi", "Yilmaz", "Kowalski", "Meyer", "Garcia", "Berg",
            "Horvat", "Dubois", "Jensen", "Popescu", "Weber", "Silva", "Nagy", "Costa"]
IN_TEXTS = [
    "Hi, where is my order A-{o}?",
    "Hello, any news on order A-{o}? We need it by {d}.",
    "The {i} arrived today but the {p} is {x}.",
    "Can you send me the invoice for order A-{o} please",
    "Is the {i} in production already?",
    "thanks!", "ok", "Thank you very much", "menu", "1", "2", "3", "hi",
    "Could we change the colour of the {i} to anthracite?",
    "The delivery driver could not find us, can he call before coming on {d}?",
    "I would like to order another {i}, same size as order A-{o}",
    "When can you deliver? {d} morning would be best for us.",
    "Please call me back about the {i}, the {p} does not fit",
    "We paid the deposit for order A-{o} yesterday",
    "Can I pick up the {i} myself at the plant on {d}?",
    "Photo of the {p} attached",
]
OUT_TEXTS = [
    "Your order A-{o} is in production; expected delivery {d}.",
    "Your order A-{o} has shipped and arrives on {d}.",
    "Thank you, we have opened ticket T-{t} for the {x} {p}.",
    "Please send a photo of the {p} so we can check it.",
    "Our opening hours are Monday to Friday, 7:00 to 16:00.",
    "A colleague will call you back today.",
    "Here is the invoice for order A-{o}.",
    "Choose: 1 order status, 2 report a defect, 3 production schedule, 4 talk to a person",
    "Of course, {d} works for us.",
]
RARE_IN = "Is this covered by the warranty? The {p} is {x} after two months."
BUTTONS = [("order_status", "Order status"), ("defect", "Report a defect"),
           ("person", "Talk to a person")]
CAPTIONS = ["", "", "", "the {p} of the {i}", "{x} {p}", "delivery note", "see here"]
MIMES = {"image": "image/jpeg", "document": "application/pdf", "audio": "audio/ogg; codecs=opus"}


def fill(tpl, rnd):
    if "{" not in tpl:
        return tpl
    return tpl.format(o=rnd.randint(10000, 99999), d=rnd.choice(DAYS_OF_WEEK),
                      i=rnd.choice(ITEMS), p=rnd.choice(PARTS), x=rnd.choice(DEFECTS),
                      t="%06d" % rnd.randint(1, 99999))


def wa_id(i):
    return "49151%07d" % i


def generate(now):
    """contacts and conversations rows, the events (timestamp,
    conversation index, direction) in time order, and an iterator over
    the messages rows (ids in time order) made as they are consumed: at
    10 M messages the rows would not fit in memory at once."""
    rnd = random.Random(SEED)
    start = now - DAYS * 86400
    # Messages per conversation: skewed (a few busy customers, many quiet).
    w = [rnd.lognormvariate(0, 1.0) for _ in range(N_CONVERSATIONS)]
    scale = N_MESSAGES / sum(w)
    counts = [max(1, int(x * scale)) for x in w]
    diff = N_MESSAGES - sum(counts)
    i = 0
    while diff != 0:            # exactly N_MESSAGES
        k = i % N_CONVERSATIONS
        if diff > 0:
            counts[k] += 1
            diff -= 1
        elif counts[k] > 1:
            counts[k] -= 1
            diff += 1
        i += 1
    # Sessions: a customer writes, the bot or a person answers, a few
    # minutes of back and forth; sessions fall anywhere in the 90 days.
    ev = []                     # (timestamp, conversation index, direction)
    for c, n in enumerate(counts):
        while n > 0:
            k = min(n, rnd.randint(2, 16))
            t = rnd.randint(start, now - 3600)
            d = "in"
            for j in range(k):
                if j == k - 1 and k > 1 and rnd.random() < 0.9:
                    d = "out"   # most sessions end with an answer
                ev.append((t, c, d))
                t += rnd.randint(5, 240)
                d = "out" if d == "in" or rnd.random() < 0.3 else "in"
            n -= k
    ev.sort()
    # The contacts' draws follow every message's: the messages are made
    # once to advance the generator, then again from the same state while
    # the load consumes them, so the data are those of one pass.
    after_ev = rnd.getstate()
    for _ in messages(ev, rnd):
        pass
    # Per conversation: messages, unread (inbound since the last answer),
    # first, last and last inbound timestamps.
    conv = [[0, 0, None, None, None] for _ in range(N_CONVERSATIONS)]
    for ts, c, d in ev:
        cv = conv[c]
        cv[0] += 1
        if cv[2] is None:
            cv[2] = ts
        cv[3] = ts
        if d == "in":
            cv[4] = ts
            cv[1] += 1
        else:
            cv[1] = 0           # answered: what came before is read
    contacts, convs = [], []
    for c, (n, unread, first, last, last_in) in enumerate(conv):
        name = "%s %s" % (rnd.choice(NAMES), rnd.choice(SURNAMES))
        opted = 1 if rnd.random() < 0.01 else 0
        contacts.append((c + 1, number_of(c), wa_id(c + 1), name, first, last_in or first,
                         opted, last if opted else None))
        a = rnd.random()
        assignee = "bot" if a < 0.8 else "person:%s" % rnd.choice(NAMES).lower()
        convs.append((c + 1, number_of(c), c + 1, n, unread, first, last, last_in,
                      last_in + 86400 if last_in else None, assignee, first))
    rnd.setstate(after_ev)
    return contacts, convs, ev, messages(ev, rnd)


def messages(ev, rnd):
    """The messages rows of the events, drawn from rnd as they are consumed."""
    rnd_r, rnd_c = rnd.random, rnd.choice
    ins, outs = IN_TEXTS, OUT_TEXTS
    for mid, (ts, c, d) in enumerate(ev, 1):
        phone = wa_id(c + 1)
        wamid = "wamid.HBgNNDkxNTE%024XAA" % rnd.getrandbits(96)   # random, as Meta's
        media = mime = sha = fname = status = status_at = err = errt = None
        lat = lon = itype = rid = rtitle = None
        r = rnd_r()
        if d == "in":
            if r < 0.005:
                typ, text = "text", fill(RARE_IN, rnd)
            elif r < 0.85:
                typ, text = "text", fill(rnd_c(ins), rnd)
            elif r < 0.93:
                typ, text = "image", fill(rnd_c(CAPTIONS), rnd) or None
            elif r < 0.96:
                typ, text = "document", None
                fname = "order-A-%d.pdf" % rnd.randint(10000, 99999)
            elif r < 0.98:
                typ, text = "audio", None
            elif r < 0.99:
                typ, text = "location", "Industriestrasse %d" % rnd.randint(1, 200)
                lat, lon = 48 + rnd_r() * 6, 6 + rnd_r() * 9
            else:
                rid, rtitle = rnd_c(BUTTONS)
                typ, itype, text = "interactive", "button_reply", rtitle
            body = {"from": phone, "id": wamid, "timestamp": str(ts), "type": typ}
        else:
            if r < 0.85:
                typ, text = "text", fill(rnd_c(outs), rnd)
            elif r < 0.92:
                typ, text = "template", "order_update"
            elif r < 0.97:
                typ, text = "document", "Invoice"
                fname = "invoice-%d.pdf" % rnd.randint(100000, 999999)
            else:
                typ, text = "image", fill(rnd_c(CAPTIONS), rnd) or None
            s = rnd_r()
            status = "read" if s < 0.6 else "delivered" if s < 0.85 else "sent" if s < 0.96 else "failed"
            status_at = ts + rnd.randint(1, 600)
            if status == "failed":
                err, errt = 131026, "Message undeliverable"
            body = {"messaging_product": "whatsapp", "to": phone, "type": typ}
        if typ in MIMES:
            media = "%d" % (1000000000000000 + mid)
            mime = MIMES[typ]
            sha = "%064x" % rnd.getrandbits(256)
            body[typ] = {"id": media, "mime_type": mime, "sha256": sha}
            if text:
                body[typ]["caption"] = text
            if fname:
                body[typ]["filename"] = fname
        elif typ == "text":
            body[typ] = {"body": text}
        elif typ == "template":
            body[typ] = {"name": text, "language": {"code": "en_US"}}
        elif typ == "location":
            body[typ] = {"latitude": lat, "longitude": lon, "address": text}
        elif typ == "interactive":
            body[typ] = {"type": itype, itype: {"id": rid, "title": rtitle}}
        raw = json.dumps(body, separators=(",", ":"))
        yield (mid, number_of(c), wamid, d, c + 1, c + 1, phone if d == "in" else None,
               phone if d == "out" else None, typ, text, media, mime, sha, fname, lat, lon,
               text if lat else None, itype, rid, rtitle, ts, status, status_at, err, errt,
               raw, ts + 1)


def load(db_path, now):
    """Fills a migrated wa.db the way the gateway fills it: every index
    and the search index present from the start, messages inserted in
    time order in the worker's batches (customers interleaved, wamids as
    random as Meta's), contacts and conversations when first seen, the
    search index fed in the worker's chunks with its own statement.  No
    pre-sorted bulk load and no index built after it: the B-trees are as
    fragmented as the gateway's own.  Returns the seconds per phase."""
    t0 = time.time()
    contacts, convs, ev, msgs = generate(now)
    n_msgs = len(ev)
    t1 = time.time()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")     # the load's durability is not measured
    db.execute("PRAGMA cache_size = -65536")   # the worker's
    first = {}                                 # conversation index -> first message
    for k, e in enumerate(ev):
        first.setdefault(e[1] + 1, k)
    by_first = sorted(range(len(convs)), key=lambda c: first.get(c + 1, n_msgs))
    new_at = {}                                # message index -> conversations first seen there
    for c in by_first:
        new_at.setdefault(first.get(c + 1, n_msgs - 1), []).append(c)
    ins_contact = ("INSERT INTO contacts (id, phone_number_id, wa_id, profile_name, first_seen_at, "
                   "last_seen_at, opted_out, opted_out_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    ins_conv = ("INSERT INTO conversations (id, phone_number_id, contact_id, message_count, "
                "unread_count, first_message_at, last_message_at, last_inbound_at, "
                "window_expires_at, assignee, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    ins_msg = ("INSERT INTO messages (id, phone_number_id, wamid, direction, conversation_id, "
               "contact_id, sender, recipient, type, text, media_id, mime_type, sha256, filename, "
               "latitude, longitude, location_address, interactive_type, reply_id, reply_title, "
               "timestamp, status, status_at, error_code, error_title, raw, created_at) "
               "VALUES (%s)" % ", ".join("?" * 27))
    indexed = 0
    made = 0.0                                 # seconds spent making rows while inserting
    for b in range(0, n_msgs, BATCH):
        tb = time.time()
        batch = list(itertools.islice(msgs, BATCH))
        made += time.time() - tb
        db.execute("BEGIN")
        for k in range(b, b + len(batch)):
            for c in new_at.get(k, ()):
                db.execute(ins_contact, contacts[c])
                db.execute(ins_conv, convs[c])
        db.executemany(ins_msg, batch)
        top = batch[-1][0]
        if top - indexed >= SEARCH_CHUNK or b + BATCH >= n_msgs:
            db.execute("INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
                       "WHERE id > ? AND id <= ? AND text IS NOT NULL", (indexed, top))
            db.execute("UPDATE search_state SET indexed_to = ? WHERE id = 1", (top,))
            indexed = top
        db.execute("COMMIT")
    t2 = time.time()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA synchronous = FULL")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    db.close()
    return {"generate": t1 - t0 + made, "insert": t2 - t1 - made, "checkpoint": time.time() - t2,
            "total": time.time() - t0, "journal_mode": mode,
            "size_mb": os.path.getsize(db_path) / 1e6}


def db_files(state):
    """The database file and its WAL: where wa.db points when it is
    BENCH_API_DB's link (SQLite keeps the WAL next to the file)."""
    db = os.path.realpath(os.path.join(state, "wa.db"))
    return db, db + "-wal"


def drop_cache(state):
    """Evicts the database files from the page cache (they are clean after
    the sync): the next reads come from the disk.  Returns the MB still
    resident."""
    os.sync()
    left = 0
    for path in db_files(state):
        if not os.path.exists(path):
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        r = subprocess.run(["fincore", "--bytes", "--noheadings", "-o", "RES", path],
                           capture_output=True, text=True)
        left += int(r.stdout.split()[0]) if r.returncode == 0 and r.stdout.split() else 0
    return left / 1e6


def pct(xs, p):
    if not xs:
        return float("nan")
    return xs[max(0, math.ceil(p / 100.0 * len(xs)) - 1)]   # nearest rank


def measure(port, key, paths, n=REQUESTS):
    """GETs paths from CONNS keep-alive connections, after two uncounted
    requests on each (the last 2 * CONNS paths), each path once, until n
    answers or the time budget is spent; sorted latencies in ms and the
    answers that were not 200."""
    hdr = {"Authorization": "Bearer " + key}
    lock = threading.Lock()
    ready = threading.Barrier(CONNS)
    st = {"next": 0, "lat": [], "bad": {}, "deadline": None}

    def one(c, path):
        t = time.perf_counter()
        try:
            c.request("GET", path, headers=hdr)
            r = c.getresponse()
            r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            c.close()           # reconnects on the next request
            status = type(e).__name__
        return (time.perf_counter() - t) * 1000, status

    def run(w):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            for k in range(2):
                one(c, paths[n + w * 2 + k])
            if ready.wait() == 0:
                st["deadline"] = time.time() + CASE_SECONDS
            ready.wait()
            while True:
                with lock:
                    i = st["next"]
                    if i >= n or time.time() > st["deadline"]:
                        return
                    st["next"] = i + 1
                ms, status = one(c, paths[i])
                with lock:
                    st["lat"].append(ms)
                    if status != 200:
                        st["bad"][status] = st["bad"].get(status, 0) + 1
        finally:
            c.close()
    ts = [threading.Thread(target=run, args=(w,)) for w in range(CONNS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(st["lat"]), st["bad"]


def get(port, key, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + key})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def vocabulary(db):
    """Search words drawn from the loaded texts: common ones (in at least
    1 % of a sample of texts) and rare ones (order numbers, the rare
    word), with how many of the sampled texts hold each."""
    texts = [t for (t,) in db.execute("SELECT text FROM messages WHERE id % 20 = 0 "
                                      "AND text IS NOT NULL")]
    words = {}
    for t in texts:
        for w in set(re.findall(r"[a-z0-9]+", t.lower())):
            words[w] = words.get(w, 0) + 1
    domain = set(" ".join(ITEMS + PARTS + DEFECTS).split()) | {
        COMMON_WORD, "delivery", "invoice", "photo", "colour", "call", "production", "deposit"}
    common = sorted(w for w in domain if words.get(w, 0) >= 0.01 * len(texts))
    rare = sorted(w for w, n in words.items() if re.fullmatch(r"\d{5}", w) and n <= 2)
    if words.get(RARE_WORD):
        rare.append(RARE_WORD)
    return common, rare


def cases(db_path, now):
    """(name, draw, probe first) per case; draw(rnd) makes one request's
    path from parameters drawn from the loaded data: every request of a
    case asks for something else."""
    db = sqlite3.connect(db_path)
    convs = db.execute("SELECT v.id, c.wa_id, v.phone_number_id FROM conversations v "
                       "JOIN contacts c ON c.id = v.contact_id").fetchall()
    line1 = [v for v in convs if v[2] == NUMBERS[-1]]
    top = db.execute("SELECT max(id) FROM messages").fetchone()[0]
    top_conv = db.execute("SELECT max(id) FROM conversations").fetchone()[0]
    common, rare = vocabulary(db)
    db.close()
    m = API + "/messages?"
    day0 = now - DAYS * 86400

    def one_day(rnd):
        s = rnd.randint(day0, now - 86400)
        return m + "since=%d&until=%d&limit=50" % (s, s + 86400)
    return [
        ("messages?cursor= (recent page)",
         lambda rnd: m + "cursor=%d&limit=50" % (top - rnd.randint(0, 5000)), False),
        ("messages?phone=", lambda rnd: m + "phone=%s&limit=50" % rnd.choice(convs)[1], False),
        ("messages?conversation_id=",
         lambda rnd: m + "conversation_id=%d&limit=50" % rnd.choice(convs)[0], False),
        ("messages?since=&until= (one day)", one_day, False),
        ("messages?cursor= (deep page)",
         lambda rnd: m + "cursor=%d&limit=50" % rnd.randint(1000, top // 5), False),
        ("conversations?cursor=",
         lambda rnd: API + "/conversations?cursor=%d&limit=50" % rnd.randint(2, top_conv + 1),
         False),
        ("conversations?unread=true&cursor=",
         lambda rnd: API + "/conversations?unread=true&cursor=%d&limit=50"
         % rnd.randint(2, top_conv + 1), False),
        ("messages?q= (%d common words)" % len(common),
         lambda rnd: m + "q=%s&limit=50" % rnd.choice(common), True),
        ("messages?q= (%d rare words)" % len(rare),
         lambda rnd: m + "q=%s&limit=50" % rnd.choice(rare), True),
    ] + number_cases(m, convs, line1, top, top_conv, one_day)


def number_cases(m, convs, line1, top, top_conv, one_day):
    """The cases with number= (one number of several, by label) and with
    a key limited to one number ("limited:" names: main() gives them
    that key).  Probed first: an older server refuses number=."""
    n = "number=line%d&" % (N_NUMBERS - 1)
    if N_NUMBERS < 2:
        return []
    return [
        ("messages?number= (recent page)",
         lambda rnd: m + n + "cursor=%d&limit=50" % (top - rnd.randint(0, 5000)), True),
        ("messages?number=&phone=",
         lambda rnd: m + n + "phone=%s&limit=50" % rnd.choice(line1)[1], True),
        ("messages?number=&since=&until=",
         lambda rnd: one_day(rnd).replace("?", "?" + n, 1), True),
        ("conversations?number=&cursor=",
         lambda rnd: API + "/conversations?" + n + "cursor=%d&limit=50"
         % rnd.randint(2, top_conv + 1), True),
        ("limited: messages?cursor= (recent page)",
         lambda rnd: m + "cursor=%d&limit=50" % (top - rnd.randint(0, 5000)), True),
        ("limited: messages?conversation_id=",
         lambda rnd: m + "conversation_id=%d&limit=50" % rnd.choice(line1)[0], True),
        ("limited: conversations?unread=true",
         lambda rnd: API + "/conversations?unread=true&cursor=%d&limit=50"
         % rnd.randint(2, top_conv + 1), True),
    ]


def warm_cache(state):
    """Reads the database files once: the warm pass starts from a page
    cache that holds them, as on a server that has been running."""
    for path in db_files(state):
        if os.path.exists(path):
            with open(path, "rb") as f:
                while f.read(1 << 20):
                    pass


def run_case(port, key, name, draw, k, n, cold_state=None):
    """One case: n requests, each path drawn afresh; a line printed."""
    rnd = random.Random(SEED + 100 * k + (1 if cold_state else 2))
    paths = [draw(rnd) for _ in range(n + 2 * CONNS)]
    extra = ""
    if cold_state:
        extra = ", %.1f MB of the database in the page cache at start" % drop_cache(cold_state)
    lat, bad = measure(port, key, paths, n)
    p50, p99 = pct(lat, 50), pct(lat, 99)
    print("api: %-4s %-36s p50 %7.2f ms  p99 %7.2f ms  (%d requests%s%s)"
          % ("cold" if cold_state else "warm", name, p50, p99, len(lat),
             ", not 200: %s" % bad if bad else "", extra))
    sys.stdout.flush()
    return not p99 < TARGET_MS or bad


def loaded(ld):
    print("api: loaded %d messages in %d conversations in %.1f s (generate %.1f, insert in "
          "time order with every index live %.1f); %.0f MB, journal_mode %s"
          % (N_MESSAGES, N_CONVERSATIONS, ld["total"], ld["generate"], ld["insert"],
             ld["size_mb"], ld["journal_mode"]))
    sys.stdout.flush()


def kept_db(path, env, now):
    """BENCH_API_DB: the loaded database kept in a file of its own, so
    that a large data set is loaded once.  Missing: loaded as without it
    (migrated in a directory next to it, renamed into place only once
    complete) and its load time `now` written to PATH.json.  Present:
    reused when it holds the messages and conversations asked for,
    with the `now` it was loaded at (the days the cases draw from).
    Anything else stops the bench.  Returns that `now`."""
    path = os.path.abspath(path)
    meta = path + ".json"
    if os.path.exists(path):
        try:
            with open(meta) as f:
                info = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit("api: BENCH_API_DB=%s: cannot read %s (%s): remove the database or name "
                     "another file" % (path, meta, e))
        db = sqlite3.connect(path)
        n = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        c = db.execute("SELECT count(*) FROM conversations").fetchone()[0]
        db.close()
        if ((n, c) != (N_MESSAGES, N_CONVERSATIONS) or info.get("seed") != SEED or
                info.get("numbers", 1) != N_NUMBERS):
            sys.exit("api: BENCH_API_DB=%s holds %d messages in %d conversations (seed %s), "
                     "not the %d in %d (seed %d) asked for: remove it and %s, or name another "
                     "file" % (path, n, c, info.get("seed"), N_MESSAGES, N_CONVERSATIONS, SEED,
                               meta))
        print("api: reusing %s: %d messages in %d conversations, loaded %s in %.1f s; %.0f MB"
              % (path, n, c, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info["now"])),
                 info["load"]["total"], os.path.getsize(path) / 1e6))
        for sql in info.get("sql", []):
            print("api: BENCH_API_SQL run on it by an earlier run: %s" % sql)
        sys.stdout.flush()
        return info["now"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".api-bench-load-", dir=os.path.dirname(path))
    try:
        subprocess.run([os.path.join(BUILD, "wactl"), "migrate"],
                       env=dict(env, WA_STATE_DIR=stage), check=True, capture_output=True)
        ld = load(os.path.join(stage, "wa.db"), now)
        loaded(ld)
        with open(os.path.join(stage, "meta.json"), "w") as f:
            json.dump({"now": now, "messages": N_MESSAGES, "conversations": N_CONVERSATIONS,
                       "seed": SEED, "numbers": N_NUMBERS, "load": ld}, f)
        os.rename(os.path.join(stage, "meta.json"), meta)
        os.rename(os.path.join(stage, "wa.db"), path)
        print("api: kept in %s (and %s)" % (path, meta))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return now


def kept_sql(path, sql):
    """Records in BENCH_API_DB's .json that sql was run on the file."""
    meta = os.path.abspath(path) + ".json"
    with open(meta) as f:
        info = json.load(f)
    info["sql"] = info.get("sql", []) + [sql]
    with open(meta + ".tmp", "w") as f:
        json.dump(info, f)
    os.rename(meta + ".tmp", meta)
    print("api: BENCH_API_SQL stays in %s (noted in %s): copy both first to compare"
          % (path, meta))


def main():
    now = int(time.time())
    # WA_BOT=off and a Graph URL on loopback nobody listens on: nothing
    # here sends, and nothing may leave the machine.
    s = Stack(extra_env={"WA_BOT": "off", "WA_RESPONDERS": RESPONDERS, "WA_API_RATE": "100000",
                         "WHATSAPP_GRAPH_URL": "http://127.0.0.1:9"})
    key_name = "bench"
    try:
        db_path = os.path.join(s.state, "wa.db")
        if KEEP:
            now = kept_db(KEEP, s.env, now)
            os.symlink(os.path.abspath(KEEP), db_path)
            key_name = "bench-%d" % time.time()     # revoked at the end
        else:
            subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=s.env, check=True,
                           capture_output=True)
            loaded(load(db_path, now))
        extra_sql = os.environ.get("BENCH_API_SQL")
        if extra_sql:       # e.g. a candidate index, to compare
            db = sqlite3.connect(db_path)
            db.executescript(extra_sql)
            db.close()
            print("api: ran BENCH_API_SQL: %s" % extra_sql)
            if KEEP:        # it stays in the kept file: every later run says so
                kept_sql(KEEP, extra_sql)
        db = sqlite3.connect(db_path)
        with db:
            db.executemany("INSERT OR IGNORE INTO numbers (phone_number_id, label, created_at) "
                           "VALUES (?, ?, ?)", [(pn, "line%d" % i, now)
                                                for i, pn in enumerate(NUMBERS) if i > 0])
        db.close()
        todo = cases(db_path, now)
        # The 500 MB just written would otherwise be flushed to disk
        # during the measurement (bench.py does the same between phases).
        os.sync()
        s.start()
        s.wait_applied(300)
        r = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", key_name],
                           env=s.env, capture_output=True, text=True, check=True)
        key = r.stdout.strip().splitlines()[-1]
        limited_name = key_name + "-line%d" % (N_NUMBERS - 1)
        keys = {False: key}
        if N_NUMBERS > 1:
            r = subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "create", limited_name,
                                "--number", "line%d" % (N_NUMBERS - 1)],
                               env=s.env, capture_output=True, text=True)
            if r.returncode == 0:
                keys[True] = r.stdout.strip().splitlines()[-1]
        print("api: %d messages spread over %d numbers (round robin by conversation); "
              "number= cases ask for one of them by label; limited: cases use a key "
              "limited to that number" % (N_MESSAGES, N_NUMBERS))
        print("api: every request draws its parameters from the data set; cold: %d requests a "
              "case, the database evicted from the page cache before each case; warm: %d "
              "requests a case after reading the database once (at most %.0f s a case), from %d "
              "keep-alive connections, %s responders"
              % (COLD_REQUESTS, REQUESTS, CASE_SECONDS, CONNS, RESPONDERS))
        live = []
        for k, (name, draw, probe) in enumerate(todo):
            ck = keys.get(name.startswith("limited:"))
            if ck is None:
                print("api: %-41s not available yet (no key limited to numbers)" % name)
                continue
            if probe:           # a parameter that may not exist yet
                st, b = get(s.port, ck, draw(random.Random(SEED)))
                if st != 200:
                    try:
                        why = json.loads(b)["error"]["code"]
                    except (ValueError, KeyError, TypeError):
                        why = b[:60].decode("utf-8", "replace")
                    print("api: %-41s not available yet (status %d, %s)" % (name, st, why))
                    continue
            live.append((k, name, draw, ck))
        cold_over = [name for k, name, draw, ck in live
                     if run_case(s.port, ck, name, draw, k, COLD_REQUESTS, s.state)]
        warm_cache(s.state)
        over = [name for k, name, draw, ck in live
                if run_case(s.port, ck, name, draw, k, REQUESTS)]
        print("api: cold: %d of %d cases with p99 over %.0f ms or failing%s"
              % (len(cold_over), len(live), TARGET_MS,
                 ": " + ", ".join(cold_over) if cold_over else ""))
        if over:
            print("api: every warm p99 under the %.0f ms target: no, %d of %d cases over it or "
                  "failing: %s" % (TARGET_MS, len(over), len(live), ", ".join(over)))
        else:
            print("api: every warm p99 under the %.0f ms target: yes (%d cases)"
                  % (TARGET_MS, len(live)))
        if KEEP:            # the kept file collects no keys
            subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "revoke", key_name],
                           env=s.env, capture_output=True, check=True)
            if True in keys:
                subprocess.run([os.path.join(BUILD, "wactl"), "apikey", "revoke",
                                limited_name], env=s.env, capture_output=True, check=True)
    finally:
        s.close()


if __name__ == "__main__":
    main()
