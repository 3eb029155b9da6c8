#!/bin/sh
# send-template.sh TEMPLATE LANG < numbers.txt: queues the approved
# template TEMPLATE in language LANG (e.g. order_update en_US) to every
# number read from stdin (POST /api/whatsapp/send), one number a line in
# international format; blank lines and # comments are skipped, and
# spaces within a line are ignored.  Prints one line per number:
#
#   15550002222 queued 41                 (41: the outbox id)
#   12ab refused invalid: to must be a phone number ...
#
# Every request carries an Idempotency-Key made of the template, the
# language, the number and today's UTC date, so running the same list
# again the same day queues nothing twice: it prints the same ids.  The
# worker sends the queued rows; follow them with GET /outbox/ID or
# failed-sends.sh.
#
# Exit status 1 when any number was refused.  Stops at once, with one
# line on stderr and exit 1, when WA_URL or WA_API_KEY is missing, the
# gateway cannot be reached or the API answers an error that is not about
# one number (a wrong key, a template or language the API refuses).
# Lines printed until then stand, and a re-run the same day is safe.
# Needs curl and jq.
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

[ "$#" -eq 2 ] || die "usage: $me TEMPLATE LANG < numbers.txt"
template=$1 lang=$2
# Meta's rules; checked here too since both go into the Idempotency-Key.
case $template in
'' | *[!a-z0-9_]*)
	die "TEMPLATE must be a template name: lowercase letters, digits and underscores" ;;
esac
case $lang in
'' | *[!A-Za-z0-9_]*)
	die "LANG must be a language code such as en or en_US" ;;
esac
[ ! -t 0 ] || die "reads the numbers from stdin: $me $template $lang < numbers.txt"
today=$(date -u +%Y-%m-%d)

refused=0
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%#*}
	number=$(printf '%s' "$line" | tr -d ' \t\r')
	[ -n "$number" ] || continue
	# The key names the number as the API does (no leading +); anything
	# a number cannot hold becomes _ (the API refuses such a number).
	key_number=$(printf '%s' "${number#+}" | tr -c 'A-Za-z0-9.' '_')
	key="send-template:$template:$lang:$key_number:$today"
	if [ "${#key}" -gt 128 ]; then # the API takes at most 128
		key="send-template:cksum:$(printf '%s' "$key" | cksum | tr ' ' ':')"
	fi
	jq -n --arg to "$number" --arg name "$template" --arg code "$lang" \
		'{to: $to, type: "template",
		  template: {name: $name, language: {code: $code}}}' >"$tmp/request"
	if request POST /send "$key"; then
		printf '%s queued %s\n' "$number" "$(jq -r '.id' "$tmp/body")"
		continue
	fi
	# 409: the customer's state (opted_out, tier_limit); 422: the
	# request, which is about this number unless it names the template.
	case $status:$error_field in
	409:* | 422:to | 422:to.*) ;;
	*) die "the API answered $status $error" ;;
	esac
	printf '%s refused %s\n' "$number" "$error"
	refused=1
done
exit "$refused"
