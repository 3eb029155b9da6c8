#!/bin/sh
# run-local.sh: `make run`.  Starts the whole stack on loopback in the
# foreground: nginx from nginx/local.conf.in, a spawn-fcgi pool of wa-fcgi
# supervised by multiwatch (a responder that dies is replaced), and one
# wa-worker.  Ctrl-C or SIGTERM stops everything it started.
# With no configuration it generates development secrets into
# $WA_STATE_DIR/dev.env (kept across runs); variables already in the
# environment override that file.
# WA_FCGI_WRAPPER (tests only) runs each responder under a command such
# as valgrind; WA_NGINX_EXTRA (bench only) adds locations to the server;
# WA_API_RATE (tests, bench) is the management API's requests/s per client.
# WA_API_RESPONDERS sizes the API's own pool, WA_WEBHOOK_CONNS the webhook
# connections nginx takes at once from one address.
# Sandbox mode (issue 15): with the generated development secrets (a
# dev.env that says WA_SANDBOX=1, or an older one whose access token
# starts with dev-) or WA_SANDBOX=1, the worker talks to wa-sandbox, a
# local stand-in for Meta's Graph API started here (one process under
# spawn-fcgi on sandbox.sock, behind nginx's /sandbox/), never to Meta.
set -eu
# Everything made here (database, WAL, sockets, nginx files) is the
# owner's alone; the sockets are then opened to the group (-M 0660).
umask 077
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$top/build}
WA_STATE_DIR=${WA_STATE_DIR:-$top/var}
mkdir -p "$WA_STATE_DIR/nginx"
WA_STATE_DIR=$(cd "$WA_STATE_DIR" && pwd)
export WA_STATE_DIR

if [ -z "${WA_ENV_FILE:-}" ]; then
	WA_ENV_FILE=$WA_STATE_DIR/dev.env
	if [ ! -f "$WA_ENV_FILE" ]; then
		{
			echo "# development secrets made by make run; not for production"
			echo "WHATSAPP_APP_SECRET=$(openssl rand -hex 16)"
			echo "WHATSAPP_VERIFY_TOKEN=$(openssl rand -hex 12)"
			echo "WHATSAPP_ACCESS_TOKEN=dev-$(openssl rand -hex 20)"
			echo "WHATSAPP_PHONE_NUMBER_ID=200300400500600"
			echo "# no Meta app: replies go to the local sandbox; with a"
			echo "# real app, put its values above and set WA_SANDBOX=0"
			echo "WA_SANDBOX=1"
		} > "$WA_ENV_FILE"
	fi
fi
export WA_ENV_FILE
# The environment wins over the file (cfg.c does the same).
getv() { eval "v=\${$1:-}"; [ -n "$v" ] && { echo "$v"; return; }
	sed -n "s/^$1=//p" "$WA_ENV_FILE" | tail -n 1; }
WA_LISTEN=$(getv WA_LISTEN); WA_LISTEN=${WA_LISTEN:-127.0.0.1:8080}
WA_RESPONDERS=$(getv WA_RESPONDERS); WA_RESPONDERS=${WA_RESPONDERS:-4}
WA_API_RESPONDERS=$(getv WA_API_RESPONDERS)
WA_API_RESPONDERS=${WA_API_RESPONDERS:-2}
WA_WEBHOOK_CONNS=$(getv WA_WEBHOOK_CONNS)
WA_WEBHOOK_CONNS=${WA_WEBHOOK_CONNS:-64}
# Sandbox mode: said by WA_SANDBOX (environment, then file), else by a
# development token (dev-...).  Every process is told (/health says it).
WA_SANDBOX=$(getv WA_SANDBOX)
if [ -z "$WA_SANDBOX" ]; then
	case $(getv WHATSAPP_ACCESS_TOKEN) in
	dev-*)	WA_SANDBOX=1 ;;
	*)	WA_SANDBOX=0 ;;
	esac
fi
case $WA_SANDBOX in
1|on)	WA_SANDBOX=1 ;;
0|off)	WA_SANDBOX=0 ;;
*)	echo "WA_SANDBOX=$WA_SANDBOX: set it to 1 (sandbox) or 0" >&2; exit 1 ;;
esac
export WA_SANDBOX
[ "$WA_SANDBOX" = 0 ] ||
	export WHATSAPP_GRAPH_URL="http://$WA_LISTEN/sandbox/graph"
# The chatbot's flow: the repository's default unless configured.
[ -n "$(getv WA_FLOW_FILE)" ] ||
	export WA_FLOW_FILE="$top/deploy/flows/default.json"

"$BUILD/wactl" migrate
"$BUILD/wa-fcgi" -n >/dev/null
"$BUILD/wa-worker" -n >/dev/null
[ "$WA_SANDBOX" = 0 ] || "$BUILD/wa-sandbox" -n >/dev/null

sed -e "s|@STATE@|$WA_STATE_DIR|g" -e "s|@LISTEN@|$WA_LISTEN|g" \
    -e "s|@NGINX@|$top/nginx|g" -e "s|@USER@|$(id -un)|g" \
    -e "s|@EXTRA@|${WA_NGINX_EXTRA:-}|" \
    -e "s|@API_RATE@|${WA_API_RATE:-50}|" \
    -e "s|@WEBHOOK_CONNS@|$WA_WEBHOOK_CONNS|" \
    -e "s|@WEB@|$top/web|g" \
    -e "s|@LOGIN_RATE@|${WA_LOGIN_RATE:-10}|" \
    -e "s|@LOGIN_BURST@|${WA_LOGIN_BURST:-10}|" \
    "$top/nginx/local.conf.in" > "$WA_STATE_DIR/nginx/nginx.conf"
# The inbox page with the version of web/ in its asset paths (see
# local.conf.in): a change to any file there is a new path, so browsers
# never mix cached old modules with new ones.
sh "$top/deploy/inbox-page.sh" "$top/web" > "$WA_STATE_DIR/nginx/inbox.html"
nginx -t -q -c "$WA_STATE_DIR/nginx/nginx.conf" -e "$WA_STATE_DIR/nginx/error.log"

pids=""
cleanup() {
	trap - INT TERM EXIT
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -f "$WA_STATE_DIR/fcgi.sock" "$WA_STATE_DIR/api.sock" \
	    "$WA_STATE_DIR/sandbox.sock"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

# The worker is restarted when it dies, as systemd's Restart=always does.
(
	child=""
	trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' INT TERM
	while :; do
		"$BUILD/wa-worker" & child=$!
		wait $child || true
		sleep 0.2 & wait $!
	done
) &
pids="$pids $!"
# Two pools: webhooks, and the management API (and /health) on its own
# socket.  Responders never get the access token (they never call Meta).
rm -f "$WA_STATE_DIR/fcgi.sock" "$WA_STATE_DIR/api.sock"
env -u WHATSAPP_ACCESS_TOKEN \
    spawn-fcgi -n -s "$WA_STATE_DIR/fcgi.sock" -M 0660 -- \
    "$(command -v multiwatch)" -f "$WA_RESPONDERS" -s TERM -- \
    ${WA_FCGI_WRAPPER:-} "$BUILD/wa-fcgi" -r webhook &
pids="$pids $!"
env -u WHATSAPP_ACCESS_TOKEN \
    spawn-fcgi -n -s "$WA_STATE_DIR/api.sock" -M 0660 -- \
    "$(command -v multiwatch)" -f "$WA_API_RESPONDERS" -s TERM -- \
    ${WA_FCGI_WRAPPER:-} "$BUILD/wa-fcgi" -r api &
pids="$pids $!"
# The sandbox: one process (it has a thread posting status webhooks).
if [ "$WA_SANDBOX" = 1 ]; then
	rm -f "$WA_STATE_DIR/sandbox.sock"
	spawn-fcgi -n -s "$WA_STATE_DIR/sandbox.sock" -M 0660 -- \
	    "$BUILD/wa-sandbox" &
	pids="$pids $!"
fi
nginx -c "$WA_STATE_DIR/nginx/nginx.conf" -e "$WA_STATE_DIR/nginx/error.log" &
pids="$pids $!"

secret=$(getv WHATSAPP_APP_SECRET); token=$(getv WHATSAPP_VERIFY_TOKEN)
cat <<MSG
wa-gateway is running (Ctrl-C stops it)
  inbox:         http://$WA_LISTEN/inbox/
                 first user:    WA_STATE_DIR=$WA_STATE_DIR $BUILD/wactl user add NAME --role admin
  webhook URL:   http://$WA_LISTEN/api/whatsapp/webhook
  health:        http://$WA_LISTEN/api/whatsapp/health
  verify token:  $token
  app secret:    $secret
  settings:      $WA_ENV_FILE
  database:      $WA_STATE_DIR/wa.db
MSG
# wactl chat finds ./var/dev.env and the default address by itself;
# anything else it must be told.
chat_env=
[ "$WA_STATE_DIR" = "$top/var" ] || chat_env="WA_STATE_DIR=$WA_STATE_DIR "
[ "$WA_LISTEN" = 127.0.0.1:8080 ] || [ -n "$(sed -n 's/^WA_LISTEN=//p' "$WA_ENV_FILE")" ] ||
	chat_env="${chat_env}WA_LISTEN=$WA_LISTEN "
[ "$WA_SANDBOX" = 0 ] || cat <<MSG
  SANDBOX MODE:  no Meta app; replies go to the local sandbox
                 ($WHATSAPP_GRAPH_URL), never to WhatsApp
  try it:        in a second terminal: $chat_env$BUILD/wactl chat --from 15550001111
                 then write "hi"
MSG
# Any one of them ending ends the stack.
while :; do
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || { echo "a component stopped; shutting down" >&2; exit 1; }
	done
	sleep 1 &
	wait $! || true
done
