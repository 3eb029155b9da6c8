#!/bin/sh
# run.sh: every test of `make test`: unit binaries, the fuzz corpus
# replays and the end-to-end suite on the real stack.  Prints
# "name... ok|FAIL" per binary, a line saying what was counted, and ends
# with one line "N passed, N failed" (", N skipped" appended when any
# test was skipped).  Exits non-zero when anything failed or did not run.
#
# What one test is:
# - unit: one TEST function run by RUN (tests/unit/check.h); its CHECKs
#   are assertions, reported on the line before the summary, not in N.
# - fuzz: one target's corpus replay (tests/fuzz/replay.c) is one test;
#   the number of inputs it fed is reported apart.
# - e2e: one pytest item.  The fake Graph's own tests
#   (tests/e2e/test_fake_graph.py) test the test double, not the
#   product; they are in N all the same, because a broken fake makes
#   every send test meaningless, so its failures must fail the run, and
#   N passed + N failed should add up to the tests that ran.  The line
#   before the summary says how many of them there are.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
pass=0 fail=0 skip=0
units=0 asserts=0 targets=0 inputs=0
log=$(mktemp)
xml=$(mktemp)
trap 'rm -f "$log" "$xml"' EXIT

# Unit binaries: check.h prints "N assertions, N failed" and then
# "N passed, N failed" (tests).  A binary that dies before its last
# line, or exits non-zero with no failure counted, is one failed test.
for t in "$BUILD"/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	if "$t" >"$log" 2>&1; then rc=0; echo "$(basename "$t")... ok"
	else rc=1; echo "$(basename "$t")... FAIL"; cat "$log"; fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	a=$(grep -E '^[0-9]+ assertions, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		continue
	fi
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f)); units=$((units + p + f))
	a=${a%% assertions*}
	asserts=$((asserts + ${a:-0}))
done

# The layers the build keeps (tests/layers.sh), one test: the real build
# passes, and each check catches what it is for: modules that do I/O
# named as pure (sig, buf), and a deliberately bad build (layers_bad).
# layers_bad: a copy of the build (links) in which rate.o, a module of
# the Makefile's PURE list, reads the clock; wa-fcgi is the worker, with
# the bot, sending and libcurl; wa-worker is a responder, with the API;
# test_rate links storage.  layers.sh must fail and name each one.
layers_bad() {
	lb_d=$(mktemp -d) || return 1
	lb_b=$(cd "$BUILD" && pwd) || return 1
	for lb_f in "$lb_b"/*; do ln -s "$lb_f" "$lb_d/"; done
	rm -f "$lb_d/rate.o" "$lb_d/wa-fcgi" "$lb_d/wa-worker" "$lb_d/test_rate"
	printf '#include <time.h>\nlong rate_clock(void);\n%s\n' \
	    'long rate_clock(void) { return (long)time(NULL); }' >"$lb_d/bad.c"
	if ! ${CC:-cc} -c -o "$lb_d/rate.o" "$lb_d/bad.c"; then
		rm -rf "$lb_d"
		return 1
	fi
	ln -s "$lb_b/wa-worker" "$lb_d/wa-fcgi"
	ln -s "$lb_b/wa-fcgi" "$lb_d/wa-worker"
	ln -s "$lb_b/wa-fcgi" "$lb_d/test_rate"
	sh tests/layers.sh "$lb_d" >"$lb_d/out" 2>&1
	lb_rc=$?
	lb_missed=
	[ "$lb_rc" -ne 0 ] || lb_missed="$lb_missed exit-status"
	grep -q '^layers: rate.o is to be pure but references: time$' \
	    "$lb_d/out" || lb_missed="$lb_missed pure-rate"
	grep -q '^layers: wa-fcgi references libcurl' "$lb_d/out" ||
	    lb_missed="$lb_missed wa-fcgi-curl"
	grep -q '^layers: wa-fcgi links the bot or the sending side.* bot_' \
	    "$lb_d/out" || lb_missed="$lb_missed wa-fcgi-bot"
	grep -q '^layers: wa-worker links the management API.* api_' \
	    "$lb_d/out" || lb_missed="$lb_missed wa-worker-api"
	grep -q '^layers: test_rate is a pure module.s test but links' \
	    "$lb_d/out" || lb_missed="$lb_missed test_rate-storage"
	if [ -n "$lb_missed" ]; then
		echo "layers: on a bad build the check missed:$lb_missed"
		cat "$lb_d/out"
	fi
	rm -rf "$lb_d"
	[ -z "$lb_missed" ]
}
if sh tests/layers.sh "$BUILD" >"$log" 2>&1 &&
    ! sh tests/layers.sh "$BUILD" sig buf >/dev/null 2>&1 &&
    layers_bad >>"$log" 2>&1; then
	echo "layers... ok"; pass=$((pass + 1))
else
	echo "layers... FAIL"; cat "$log"; fail=$((fail + 1))
fi

# Fuzz corpus replays: one per directory of tests/fuzz/corpus.  A missing
# replay binary or an empty corpus is a failure, not a silent skip.
for d in tests/fuzz/corpus/*/; do
	[ -d "$d" ] || continue
	name=$(basename "$d")
	bin="$BUILD/fuzz_${name}_replay"
	extra=
	[ "$name" = webhook ] && extra=tests/fixtures/webhooks
	targets=$((targets + 1))
	: >"$log"
	if [ -x "$bin" ] && "$bin" "$d" $extra >"$log" 2>&1; then
		n=$(sed -n 's/^.*corpus replay: \([0-9][0-9]*\) inputs$/\1/p' \
		    "$log" | tail -n 1)
		if [ "${n:-0}" -gt 0 ]; then
			echo "fuzz_$name replay ($n inputs)... ok"
			pass=$((pass + 1)); inputs=$((inputs + n))
			continue
		fi
	fi
	echo "fuzz_$name replay... FAIL"
	[ -x "$bin" ] || echo "  $bin is missing"
	tail -n 40 "$log"
	fail=$((fail + 1))
done

# End to end: pytest prints its own summary; its JUnit XML gives us each
# item's outcome, so skips and the fake Graph's tests can be told apart.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
: >"$xml"
BUILD_DIR=$top/$BUILD "$PY" -m pytest -q -p no:cacheprovider \
    --junitxml="$xml" tests/e2e
prc=$?
# Prints: passed failed skipped fake-passed fake-failed fake-skipped.
counts=$("$PY" - "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
n = [0] * 6
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except Exception:
    print("x")
    sys.exit(0)
for c in cases:
    tags = {ch.tag for ch in c}
    k = 1 if tags & {"failure", "error"} else 2 if "skipped" in tags else 0
    n[k] += 1
    if "test_fake_graph" in c.get("classname", "").split("."):
        n[3 + k] += 1
print(*n)
EOF
)
# shellcheck disable=SC2086
set -- $counts
if [ $# -ne 6 ]; then
	echo "pytest wrote no readable report (exit $prc): one failure"
	set -- 0 0 0 0 0 0
	fail=$((fail + 1))
elif [ "$prc" -ne 0 ] && [ "$2" -eq 0 ]; then
	# 5: no tests collected; 2-4: interrupted, internal or usage error.
	echo "pytest exited $prc with no failed test: one failure"
	fail=$((fail + 1))
fi
pass=$((pass + $1)); fail=$((fail + $2)); skip=$((skip + $3))
e2e=$(($1 + $2 + $3))
echo "unit: $units tests, $asserts assertions; fuzz: $targets targets," \
    "$inputs inputs; e2e: $((e2e - $4 - $5 - $6)) product tests," \
    "$(($4 + $5 + $6)) fake-Graph tests"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
