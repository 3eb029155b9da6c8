#!/bin/sh
# run.sh: `make bench`.  Installs the Python receiver's Debian packages if
# missing (bench only), then runs bench/bench.py.
set -eu
cd "$(dirname "$0")/.."
for p in python3-fastapi python3-sqlalchemy uvicorn wrk; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null
fi
BUILD_DIR=$(pwd)/${BUILD:-build} /usr/bin/python3 bench/bench.py
BUILD_DIR=$(pwd)/${BUILD:-build} /usr/bin/python3 bench/send_bench.py
BUILD_DIR=$(pwd)/${BUILD:-build} /usr/bin/python3 bench/api_bench.py
