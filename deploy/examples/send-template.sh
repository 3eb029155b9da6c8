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

# The part every example shares (settings, one API call, errors) lives
# beside it; copy wa-api.sh along when you copy a script.
. "$(dirname "$0")/wa-api.sh"

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
