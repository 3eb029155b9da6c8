#!/bin/sh
# failed-sends.sh [SINCE]: a report of the messages the gateway gave up
# sending (GET /api/whatsapp/outbox?state=failed, every page), newest
# first, those queued at or after SINCE when given (unix seconds,
# YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC).  One tab-separated line per
# row, then a line counting them by Meta's error code, most frequent
# first ("none" for a row without one):
#
#   ID  RECIPIENT  ERROR_CODE  ERROR_TITLE  QUEUED_AT (ISO 8601, UTC)
#   57	15550002222	131026	Message undeliverable	2026-11-25T09:14:03Z
#   3 failed by error code: 131026=2 131047=1
#
# A missing recipient, code or title is printed as -.  A failed row can be
# sent again with POST /outbox/ID/retry.  Exits 1 with one line on stderr
# when WA_URL or WA_API_KEY is missing, SINCE is not a time, the gateway
# cannot be reached or the API answers an error.  Needs curl and jq.
set -eu

# The part every example shares (settings, one API call, errors) lives
# beside it; copy wa-api.sh along when you copy a script.
. "$(dirname "$0")/wa-api.sh"
# api METHOD PATH: request, and any error stops the script.
api() {
	request "$@" || die "the API answered $status $error"
}

[ "$#" -le 1 ] || die "usage: $me [SINCE]"
since_arg=${1:-}
# SINCE in unix milliseconds, like the outbox's created_at.
since=$(jq -nr --arg s "$since_arg" '
	def utc: . as $in | fromdate | select(todate == $in);
	if $s == "" then 0
	elif $s | test("^[0-9]{1,12}$") then $s | tonumber * 1000
	elif $s | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$") then
		$s + "T00:00:00Z" | utc * 1000
	elif $s | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$") then
		$s | utc * 1000
	else empty end' 2>/dev/null) || since=
[ -n "$since" ] ||
	die "SINCE must be unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not \"$since_arg\""

# Every page first (the API has no time filter here), then the report.
: >"$tmp/rows"
cursor=
while :; do
	api GET "/outbox?state=failed&limit=200${cursor:+&cursor=$cursor}"
	jq -c --argjson since "$since" '.data[] | select(.created_at >= $since)' \
		"$tmp/body" >>"$tmp/rows"
	next=$(jq -r '.next_cursor // empty | @uri' "$tmp/body")
	[ -n "$next" ] || break
	[ "$next" != "$cursor" ] || die "the API gave the same next_cursor twice"
	cursor=$next
done

jq -r 'def cell: if . == null or . == "" then "-"
		else tostring | gsub("[[:cntrl:]]+"; " ") end;
	[(.id | cell), (.recipient | cell), (.error_code | cell),
	 (.error_title | cell), (.created_at / 1000 | floor | todate)] | join("\t")' \
	"$tmp/rows"
jq -rs 'length as $n | "\($n) failed" +
	if $n == 0 then "" else
		" by error code: " + (group_by(.error_code) |
		map({code: .[0].error_code, n: length}) |
		sort_by(-.n, .code == null) |
		map("\(.code // "none")=\(.n)") | join(" "))
	end' "$tmp/rows"
