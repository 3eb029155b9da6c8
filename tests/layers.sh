#!/bin/sh
# layers.sh: the build keeps the layers (DESIGN, STYLE section 1).
# - wa-fcgi never calls out: no libcurl symbol in it at all.
# - The pure modules (webhook, msg, graph, flow, bot, url, csv, policy) reference
#   no SQLite, libfcgi, libcurl, logging, file or socket I/O, clock or
#   randomness: bytes or values in, values out, so their unit tests and
#   fuzzers need neither socket nor database.
# Usage: tests/layers.sh BUILD_DIR [MODULE...]; prints what breaks a rule
# and exits 1, else exits 0.  With modules named, checks only those as
# pure (how its own test proves it catches an impure one).
set -u
build=${1:?usage: layers.sh BUILD_DIR [MODULE...]}
shift
pure=${*:-webhook msg graph flow bot url csv policy}
bad=0
# Undefined symbols a pure object must not have (exact names, or a prefix
# ending in _); the _chk forms are what _FORTIFY_SOURCE makes of them.
deny='^(sqlite3_.*|FCGX_.*|curl_.*|log_.*|fatal.*|RAND_.*|open|openat|open64|read|write|pread|pread64|pwrite|pwrite64|close|socket|connect|bind|listen|accept|accept4|send|sendto|recv|recvfrom|fopen|fopen64|fread|fwrite|fclose|fflush|printf|fprintf|vfprintf|puts|fputs|unlink|rename|mkdir|stat|fstat|stat64|fstat64|time|clock_gettime|gettimeofday|localtime|localtime_r|getenv|getpid|rand|random|__fprintf_chk|__printf_chk|__vfprintf_chk|__read_chk|__pread_chk|__pread64_chk)$'

if [ ! -x "$build/wa-fcgi" ]; then
	echo "layers: $build/wa-fcgi is missing"
	exit 1
fi
if nm -u "$build/wa-fcgi" | awk '{print $2}' | grep -q '^curl_'; then
	echo "layers: wa-fcgi references libcurl (a responder never calls out):"
	nm -u "$build/wa-fcgi" | awk '{print $2}' | grep '^curl_' | head
	bad=1
fi
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
done
exit $bad
