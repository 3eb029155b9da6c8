#!/bin/sh
# unread.sh: the conversations with messages nobody has read yet (GET
# /api/whatsapp/conversations?unread=true, every page) as a table, the
# most recent first:
#
#   PHONE        NAME           UNREAD  LAST MESSAGE (UTC)
#   15550002222  Alice Example       3  2026-11-25T09:14:03Z
#
# A contact without a profile name shows -.  POST /mark-read with the
# phone marks a conversation read.  Exits 1 with one line on stderr when
# WA_URL or WA_API_KEY is missing, the gateway cannot be reached or the
# API answers an error.  Needs curl and jq.
set -eu

# The part every example shares (settings, one API call, errors) lives
# beside it; copy wa-api.sh along when you copy a script.
. "$(dirname "$0")/wa-api.sh"
# api METHOD PATH: request, and any error stops the script.
api() {
	request "$@" || die "the API answered $status $error"
}

[ "$#" -eq 0 ] || die "usage: $me"

: >"$tmp/rows"
cursor=
while :; do
	api GET "/conversations?unread=true&limit=200${cursor:+&cursor=$cursor}"
	jq -c '.data[]' "$tmp/body" >>"$tmp/rows"
	next=$(jq -r '.next_cursor // empty | @uri' "$tmp/body")
	[ -n "$next" ] || break
	[ "$next" != "$cursor" ] || die "the API gave the same next_cursor twice"
	cursor=$next
done

jq -rs '
	def cell: if . == null or . == "" then "-"
		else tostring | gsub("[[:cntrl:]]+"; " ") end;
	def width($i): map(.[$i] | length) | max;
	def left($w): if $w > length then . + " " * ($w - length) else . end;
	def right($w): if $w > length then " " * ($w - length) + . else . end;
	[["PHONE", "NAME", "UNREAD", "LAST MESSAGE (UTC)"]] +
	(sort_by(-(.last_message_at // 0), -.id) |
	 map([(.phone | cell), (.profile_name | cell), (.unread_count | cell),
	      (.last_message_at | if . == null then "-" else todate end)])) |
	width(0) as $w0 | width(1) as $w1 | width(2) as $w2 |
	.[] | [(.[0] | left($w0)), (.[1] | left($w1)), (.[2] | right($w2)), .[3]] |
	join("  ")' "$tmp/rows"
