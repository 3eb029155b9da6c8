# wa-api.sh: sourced by every script in deploy/examples (not run on its
# own): checks WA_URL and WA_API_KEY, and defines request(), which calls
# the management API with curl and handles its errors.  The sourcing
# script has set -eu and its name is in $0.
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
