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

# The part every example shares (settings, one API call, errors) lives
# beside it; copy wa-api.sh along when you copy a script.
. "$(dirname "$0")/wa-api.sh"
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
