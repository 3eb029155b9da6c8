#!/bin/sh
# layers.sh: the build keeps the layers (DESIGN, STYLE section 1).
# - wa-fcgi never calls out: no libcurl symbol in it at all.
# - Each program holds only the layers it calls (the Makefile's lists):
#   wa-fcgi none of the bot, the Graph client or the sending side (no
#   bot_, flow_, chat_, graph_, rate_, sender_ or wa_ symbol, defined or
#   referenced), wa-worker none of the management API (api_, req_),
#   wa-sandbox (make run's local Graph API) none of the gateway's storage,
#   API or bot: it keeps its own sandbox.db.
# - The pure modules (the Makefile's PURE list) reference no SQLite,
#   libfcgi, libcurl, logging, file or socket I/O, clock or randomness:
#   bytes or values in, values out, so their unit tests and fuzzers need
#   neither socket nor database.
# - The unit test of a pure module (BUILD_DIR/test_NAME, when built)
#   links no storage, libfcgi or libcurl code.
# Usage: tests/layers.sh BUILD_DIR [MODULE...]; prints what breaks a rule
# and exits 1, else exits 0.  With modules named, checks only those as
# pure (how tests/run.sh proves it catches an impure one).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: layers.sh BUILD_DIR [MODULE...]}
shift
if [ $# -gt 0 ]; then
	pure=$*
elif ! pure=$(make -s --no-print-directory -C "$top" print-PURE) ||
    [ -z "$pure" ]; then
	echo "layers: cannot read PURE from the Makefile"
	exit 1
fi
bad=0
# Undefined symbols a pure object must not have (exact names, or a prefix
# ending in _); the _chk forms are what _FORTIFY_SOURCE makes of them.
deny='^(sqlite3_.*|FCGX_.*|curl_.*|log_.*|fatal.*|RAND_.*|open|openat|open64|read|write|pread|pread64|pwrite|pwrite64|close|socket|connect|bind|listen|accept|accept4|send|sendto|recv|recvfrom|fopen|fopen64|fread|fwrite|fclose|fflush|printf|fprintf|vfprintf|puts|fputs|unlink|rename|mkdir|stat|fstat|stat64|fstat64|time|clock_gettime|gettimeofday|localtime|localtime_r|getenv|getpid|rand|random|__fprintf_chk|__printf_chk|__vfprintf_chk|__read_chk|__pread_chk|__pread64_chk)$'

# forbid PROGRAM "PREFIX ..." WHY: PROGRAM defines or references no
# symbol of those modules.
forbid() {
	f="$build/$1"
	if [ ! -x "$f" ]; then
		echo "layers: $f is missing"
		bad=1
		return
	fi
	re=$(echo "$2" | sed 's/ /|/g')
	hits=$(nm "$f" | awk 'NF >= 2 && $(NF-1) ~ /^[TDBRU]$/ {print $NF}' |
	    sed 's/@.*//' | grep -E "^($re)_" | sort -u)
	if [ -n "$hits" ]; then
		echo "layers: $1 links $3:" $(echo "$hits" | head -n 8)
		bad=1
	fi
}

if [ ! -x "$build/wa-fcgi" ]; then
	echo "layers: $build/wa-fcgi is missing"
	exit 1
fi
if nm -u "$build/wa-fcgi" | awk '{print $2}' | grep -q '^curl_'; then
	echo "layers: wa-fcgi references libcurl (a responder never calls out):"
	nm -u "$build/wa-fcgi" | awk '{print $2}' | grep '^curl_' | head
	bad=1
fi
forbid wa-fcgi "bot flow chat graph rate sender wa hookpost" \
    "the bot or the sending side (a responder only stores)"
forbid wa-worker "api req" "the management API (the worker serves nothing)"
forbid wa-sandbox "db api bot flow chat sender outbox" \
    "the gateway's storage, API or bot (the sandbox has its own store)"
for m in $pure; do
	o="$build/$m.o"
	if [ ! -f "$o" ]; then
		echo "layers: $o is missing"
		bad=1
		continue
	fi
	hits=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | grep -E "$deny")
	if [ -n "$hits" ]; then
		echo "layers: $m.o is to be pure but references:" $hits
		bad=1
	fi
	t="$build/test_$m"
	[ -x "$t" ] || continue
	hits=$( { nm -u "$t" | awk '{print $2}' | sed 's/@.*//' |
	    grep -E '^(sqlite3_|FCGX_|curl_)'; nm "$t" |
	    awk 'NF >= 2 && $(NF-1) ~ /^[TDBR]$/ {print $NF}' |
	    grep -E '^(db|req|wa)_'; } | sort -u | head -n 8)
	if [ -n "$hits" ]; then
		echo "layers: test_$m is a pure module's test but links" \
		    "storage, libfcgi or libcurl code:" $hits
		bad=1
	fi
done
exit $bad
