#!/bin/sh
# run.sh: every test of `make test`: unit binaries, the fuzz corpus replay
# and the end-to-end suite on the real stack.  Prints "name... ok|FAIL" per
# suite and ends with one line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
pass=0 fail=0
log=$(mktemp)
count() { # adds the "N passed, N failed" last line of $log
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	if [ -z "$line" ]; then fail=$((fail + 1)); return; fi
	pass=$((pass + p)); fail=$((fail + f))
}
for t in "$BUILD"/test_*; do
	[ -x "$t" ] || continue
	if "$t" >"$log" 2>&1; then echo "$(basename "$t")... ok"
	else echo "$(basename "$t")... FAIL"; cat "$log"; fi
	count
done
if "$BUILD/fuzz_webhook_replay" tests/fuzz/corpus/webhook \
    tests/fixtures/webhooks >"$log" 2>&1; then
	echo "fuzz_webhook replay... ok"; pass=$((pass + 1))
else
	echo "fuzz_webhook replay... FAIL"; cat "$log"; fail=$((fail + 1))
fi
# End to end: pytest prints its own summary; we fold it into ours.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
BUILD_DIR=$top/$BUILD "$PY" -m pytest -q -p no:cacheprovider tests/e2e \
    2>&1 | tee "$log"
line=$(grep -E '[0-9]+ (passed|failed|errors?)' "$log" | tail -n 1)
p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
f=0
for n in $(echo "$line" | grep -oE '[0-9]+ (failed|errors?)' | grep -oE '[0-9]+'); do
	f=$((f + n))
done
[ -n "$line" ] || f=1
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
