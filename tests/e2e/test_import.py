"""wactl import: business data from CSV, all or nothing, every problem with
its line number and column."""
import os
import subprocess

import pytest

from stack import BUILD, Stack


@pytest.fixture(scope="module")
def s():
    st = Stack()
    r = subprocess.run([os.path.join(BUILD, "wactl"), "migrate"], env=st.env, capture_output=True)
    assert r.returncode == 0
    yield st
    st.close()


def imp(s, what, text, name="in.csv"):
    path = os.path.join(s.state, name)
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([os.path.join(BUILD, "wactl"), "import", what, path], env=s.env,
                          capture_output=True, text=True), path


def test_orders_imported_and_reimported(s):
    r, _ = imp(s, "orders", "number,customer_wa_id,status,ordered_on,expected_delivery,item,quantity\n"
               'A-1,+15550002222,received,2026-11-01,2026-12-01,"Bracket, steel",10\n'
               "A-1,15550002222,received,2026-11-01,2026-12-01,Bolt,40\n"
               "A-2,15550003333,shipped,,,,\n")
    assert r.returncode == 0 and r.stdout == "imported 2 orders with 2 lines\n"
    assert s.q("SELECT number, customer_wa_id, status, expected_delivery FROM orders ORDER BY number") == [
        {"number": "A-1", "customer_wa_id": "15550002222", "status": "received",
         "expected_delivery": "2026-12-01"},
        {"number": "A-2", "customer_wa_id": "15550003333", "status": "shipped", "expected_delivery": None}]
    assert [r["item"] for r in s.q("SELECT item FROM order_lines ORDER BY line_no")] == ["Bracket, steel", "Bolt"]
    # Columns in another order; a re-import replaces an order's lines.
    r, _ = imp(s, "orders", "status,number,item,customer_wa_id\nshipped,A-1,Frame,15550002222\n")
    assert r.returncode == 0
    assert s.q("SELECT status FROM orders WHERE number = 'A-1'")[0]["status"] == "shipped"
    assert [r["item"] for r in s.q("SELECT item FROM order_lines l JOIN orders o ON o.id = l.order_id "
                                   "WHERE o.number = 'A-1'")] == ["Frame"]


def test_bad_orders_reported_by_line_and_nothing_written(s):
    before = s.q("SELECT count(*) n FROM orders")[0]["n"]
    r, path = imp(s, "orders", "number,customer_wa_id,status,ordered_on,expected_delivery,item,quantity\n"
                  "B-1,15550002222,ok,2026-01-01,,x,1\n"
                  "B-2,abc,ok,2026-02-30,,x,\n"
                  ",15550002222,,,,,5\n"
                  '"B-4,15550002222,ok\n')
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "%s:3: customer_wa_id: must be the customer's WhatsApp number, 6 to 20 digits" % path,
        "%s:3: ordered_on: must be a date written YYYY-MM-DD" % path,
        "%s:4: number: must be 1 to 64 printable characters" % path,
        "%s:4: status: must be 1 to 64 printable characters" % path,
        "%s:4: quantity: is given without an item" % path,
        "%s:5: a quoted field is not closed on its line" % path,
        "%s: 6 problems; nothing imported" % path]
    assert s.q("SELECT count(*) n FROM orders")[0]["n"] == before      # B-1 rolled back too


@pytest.mark.parametrize("header,why", [
    ("number,customer_wa_id\n", "the header has no status column"),
    ("number,customer_wa_id,status,colour\n", 'unknown column "colour"'),
    ("", "no header line"),
])
def test_bad_headers(s, header, why):
    r, path = imp(s, "orders", header)
    assert r.returncode == 1 and why in r.stderr


def test_schedule(s):
    r, path = imp(s, "schedule", "order_number,step,starts_on,ends_on\n"
                  "A-1,cutting,2026-12-01,2026-12-03\nA-1,welding,2026-12-04,\n")
    assert r.returncode == 0 and r.stdout == "imported 2 schedule rows\n"
    r, path = imp(s, "schedule", "order_number,step,starts_on,ends_on\nA-1,paint,2026-12-05,2026-12-01\n")
    assert r.returncode == 1 and r.stderr.startswith("%s:2: ends_on: is before starts_on" % path)
    r, _ = imp(s, "invoices", "x\n")
    assert r.returncode == 1 and "orders or schedule" in r.stderr
