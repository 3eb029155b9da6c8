#!/bin/sh
# run.sh: `make bench`.  Installs the Python receiver's Debian packages if
# missing (bench only), builds the open-loop load generator, then runs
# bench/bench.py, send_bench.py, campaign_bench.py, api_bench.py,
# idle_bench.py and inbox_bench.py (`run.sh numbers`: bench.py's webhook case over 1 and 20
# numbers only; `run.sh inbox`, `make bench-inbox`: the inbox in headless
# Chromium only).
# BENCH_QUICK=1 shrinks every duration and data set (to check the bench,
# not for figures).  `run.sh api` (`make bench-api`) runs only
# api_bench.py, e.g. at 10 M messages on a kept database:
#   make bench-api BENCH_API_MESSAGES=10000000 BENCH_API_DB=/srv/bench/api-10m.db
# (docs/scaling.md).
set -eu
cd "$(dirname "$0")/.."
build=$(pwd)/${BUILD:-build}
if [ "${1:-}" = api ]; then
	exec env BUILD_DIR="$build" /usr/bin/python3 bench/api_bench.py
fi
if [ "${1:-}" = inbox ]; then
	exec env BUILD_DIR="$build" /usr/bin/python3 bench/inbox_bench.py
fi
for p in python3-fastapi python3-sqlalchemy uvicorn python3-uvloop python3-httptools wrk; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null
fi
# wrk2 is not packaged in Debian 12: bench/openloop.c does its open loop.
${CC:-cc} -O2 -g -std=c11 -Wall -Wextra -D_GNU_SOURCE -o "$build/openloop" bench/openloop.c
# `run.sh numbers`: only the webhook case over 1 and BENCH_NUMBERS numbers.
if [ "${1:-}" = numbers ]; then
	exec env BUILD_DIR="$build" /usr/bin/python3 bench/bench.py numbers
fi
BUILD_DIR=$build /usr/bin/python3 bench/bench.py
BUILD_DIR=$build /usr/bin/python3 bench/send_bench.py
BUILD_DIR=$build /usr/bin/python3 bench/campaign_bench.py
BUILD_DIR=$build /usr/bin/python3 bench/api_bench.py
BUILD_DIR=$build /usr/bin/python3 bench/idle_bench.py
BUILD_DIR=$build /usr/bin/python3 bench/inbox_bench.py
