#!/bin/sh
# export-yesterday.sh [DAY]: every message, inbound and outbound, whose
# timestamp falls on yesterday (UTC) or on DAY (YYYY-MM-DD, a UTC day), as
# JSON lines on stdout, one message a line, newest first: the rows of
# GET /api/whatsapp/messages?since=&until=, every page of 200.
#
#   export WA_URL=http://127.0.0.1:8080 WA_API_KEY=wa_...
#   ./export-yesterday.sh > "messages-$(date -u +%F).jsonl"
#   ./export-yesterday.sh 2026-11-24 | jq -r 'select(.direction == "in") | .text'
#
# Exits 1 with one line on stderr when WA_URL or WA_API_KEY is missing,
# DAY is not a date, the gateway cannot be reached or the API answers an
# error.  Needs curl and jq.
set -eu

# ---- The same in every example: environment, one API call, errors. ----
me=${0##*/}
die() { # one line on stderr, exit 1
	printf '%s: %s\n' "$me" "$*" >&2
	exit 1
}
[ -n "${WA_URL:-}" ] ||
	die "WA_URL is not set (the gateway's address, e.g. http://127.0.0.1:8080)"
[ -n "${WA_API_KEY:-}" ] ||
	die "WA_API_KEY is not set (make a key with: wactl apikey create NAME)"
case $WA_URL in
http://* | https://*) ;;
*) die "WA_URL must start with http:// or https://" ;;
esac
case $WA_API_KEY in
*[!A-Za-z0-9._~+/=-]*) die "WA_API_KEY is not an API key (it holds other characters)" ;;
esac
for tool in curl jq; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
api_url=${WA_URL%/}/api/whatsapp
umask 077
tmp=$(mktemp -d) || die "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# The key goes to curl in a file, so that ps does not show it.
printf 'Authorization: Bearer %s\n' "$WA_API_KEY" >"$tmp/auth"

# request METHOD PATH [IDEMPOTENCY_KEY]: one call (a POST sends the file
# $tmp/request as JSON).  The answer's body is left in $tmp/body and its
# HTTP status in $status; answers 0 for 2xx, else sets $error to "CODE:
# MESSAGE" and $error_field to the field named, and answers 1.  429 and
# 503 are tried again after Retry-After, up to 5 times; a gateway that
# cannot be reached stops the script.
request() {
	cp "$tmp/auth" "$tmp/headers"
	if [ "$1" = POST ]; then
		printf 'Content-Type: application/json\n' >>"$tmp/headers"
		if [ -n "${3:-}" ]; then
			printf 'Idempotency-Key: %s\n' "$3" >>"$tmp/headers"
		fi
	fi
	tries=1
	while :; do
		if [ "$1" = POST ]; then
			status=$(call "$api_url$2" --data-binary "@$tmp/request") ||
				unreachable
		else
			status=$(call "$api_url$2") || unreachable
		fi
		case $status in
		429 | 503)
			[ "$tries" -lt 5 ] || break
			pause=$(sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]: *\([0-9]\{1,4\}\).*/\1/p' \
				"$tmp/answer-headers" | tail -n 1)
			pause=${pause:-1}
			[ "$pause" -le 30 ] || pause=30
			sleep "$pause"
			tries=$((tries + 1))
			;;
		*) break ;;
		esac
	done
	case $status in
	2??)
		jq empty "$tmp/body" 2>/dev/null ||
			die "the API answered $status with a body that is not JSON"
		return 0
		;;
	esac
	error=$(jq -r '.error | select(.code | type == "string") |
		"\(.code): \(.message // "" | gsub("[[:cntrl:]]+"; " "))"' \
		"$tmp/body" 2>/dev/null) || error=
	error=${error:-"http_$status: the answer is not the API's error document"}
	# shellcheck disable=SC2034 # not every script reads it
	error_field=$(jq -r '.error.field // empty' "$tmp/body" 2>/dev/null) ||
		error_field=
	return 1
}
call() { # call URL [CURL ARGS]: prints the HTTP status
	url=$1
	shift
	curl -sS --max-time 60 -H "@$tmp/headers" -D "$tmp/answer-headers" \
		-o "$tmp/body" -w '%{http_code}' "$@" "$url" \
		2>"$tmp/curl-error" </dev/null
}
unreachable() { # curl's reason, without "curl: (7) "
	why=$(sed -n '1{s/^curl: //;s/^([0-9]*) //;p;}' "$tmp/curl-error")
	die "cannot reach $WA_URL: ${why:-curl failed}"
}
# ---- End of the common part. ----
# api METHOD PATH: request, and any error stops the script.
api() {
	request "$@" || die "the API answered $status $error"
}

[ "$#" -le 1 ] || die "usage: $me [YYYY-MM-DD]"
day=${1:-}

# The day's first second (unix time), in jq: date(1) cannot count back a
# day portably.  A date that does not exist (2026-02-30) is refused.
since=$(jq -nr --arg day "$day" '
	if $day == "" then now | floor | . - . % 86400 - 86400
	else $day | select(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")) |
		(. + "T00:00:00Z" | fromdate) as $t |
		select(($t | todate)[:10] == $day) | $t
	end' 2>/dev/null) || since=
[ -n "$since" ] || die "DAY must be a date as YYYY-MM-DD, not \"$day\""
until=$((since + 86400))

cursor=
while :; do
	api GET "/messages?since=$since&until=$until&limit=200${cursor:+&cursor=$cursor}"
	jq -c '.data[]' "$tmp/body"
	next=$(jq -r '.next_cursor // empty | @uri' "$tmp/body")
	[ -n "$next" ] || break
	[ "$next" != "$cursor" ] || die "the API gave the same next_cursor twice"
	cursor=$next
done
