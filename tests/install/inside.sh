#!/bin/sh
# inside.sh: run by tests/install/run.sh inside fresh mount, network and
# PID namespaces (never run it directly: it mounts over /etc, /var,
# /usr/local and /run).  Installs the gateway the way the README tells a
# user to, starts it the way systemd would, and checks it over https on
# the namespace's loopback.  One line per check in OUT/results:
# NAME|ok|DETAIL or NAME|fail|DETAIL; OUT/log.NAME keeps its output.
#
#   sh inside.sh OUT BUILD_DIR TOP
set -u
OUT=$1
BUILD_DIR=$2
TOP=$3
DOMAIN=wa.test
PNID=200300400500600
UNIT_DIR=/etc/systemd/system
SITE=/etc/nginx/sites-available/wa-gateway.conf
ENV_FILE=/etc/wa-gateway/wa.env
STATE=/var/lib/wa-gateway
MEDIA=/var/lib/wa-gateway-media
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

# --- results ----------------------------------------------------------------
result() {	# NAME ok|fail DETAIL
	printf '%s|%s|%s\n' "$1" "$2" "$(printf '%s' "$3" | tr '\n|' ' /')" \
	    >>"$OUT/results"
}
failed=''
# check NAME FUNCTION: runs it with its output in OUT/log.NAME; its last
# line of output on fd 3 (echo ... >&3) is the detail.
check() {
	c_name=$1
	shift
	: >"$OUT/detail"
	if "$@" >"$OUT/log.$c_name" 2>&1 3>"$OUT/detail"; then
		result "$c_name" ok "$(tail -n 1 "$OUT/detail")"
		return 0
	fi
	c_d=$(tail -n 1 "$OUT/detail")
	[ -n "$c_d" ] || c_d=$(tail -n 3 "$OUT/log.$c_name")
	result "$c_name" fail "$c_d"
	failed="$failed $c_name"
	return 1
}
# need NAME...: this check cannot run when one of them failed.
need() {
	for n in "$@"; do
		case " $failed " in *" $n "*)
			echo "not run: $n failed" >&3
			return 1 ;;
		esac
	done
	return 0
}
say() { echo "$*" >&3; }
bad() { echo "$*" >&3; return 1; }
# wait_for SECONDS COMMAND...: until it succeeds, every 0.1 s.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.1
	done
}

# --- the throwaway root -------------------------------------------------------
# A tmpfs under OUT backs every overlay's upper layer; /usr/local and /run
# start empty, as on a fresh machine.  Everything written to /etc, /var,
# /usr/local and /run from here on lives only in these mounts.
S=$OUT/root
mkdir -p "$S" && mount -t tmpfs -o mode=0755 tmpfs "$S" || exit 1
for d in etc var; do
	mkdir "$S/$d.u" "$S/$d.w" || exit 1
	mount -t overlay overlay \
	    -o "lowerdir=/$d,upperdir=$S/$d.u,workdir=$S/$d.w" "/$d" || exit 1
done
mount -t tmpfs -o mode=0755 tmpfs /usr/local || exit 1
mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
mkdir -m 1777 "$S/tmp" && export TMPDIR="$S/tmp"
ip link set lo up || exit 1

# --- make install, deploy/install.sh ---------------------------------------------
make_install() {
	san=
	case $BUILD_DIR in *-san) san=SANITIZE=1 ;; esac
	# shellcheck disable=SC2086 # san is empty or one word
	make -C "$TOP" --no-print-directory install PREFIX=/usr/local \
	    BUILD="$BUILD_DIR" $san || bad "make install failed" || return 1
	for p in wa-fcgi wa-worker wactl; do
		[ -x "/usr/local/bin/$p" ] || bad "/usr/local/bin/$p missing" ||
		    return 1
		"/usr/local/bin/$p" --help >"$S/help" 2>"$S/help.err" ||
		    bad "$p --help exits $?" || return 1
		grep -q "^usage: $p" "$S/help" ||
		    bad "$p --help prints no usage on stdout" || return 1
		[ ! -s "$S/help.err" ] || bad "$p --help writes to stderr" ||
		    return 1
	done
	for f in schema.sql flows/default.json web/index.html; do
		[ -f "/usr/local/share/wa-gateway/$f" ] ||
		    bad "/usr/local/share/wa-gateway/$f missing" || return 1
	done
	if [ -f "$TOP/deploy/upgrade.sh" ]; then
		[ -f /usr/local/share/wa-gateway/upgrade.sh ] ||
		    bad "deploy/upgrade.sh not installed" || return 1
	fi
	say "binaries, schema, flow and inbox installed; --help answers"
}

mode_of() { stat -c '%U:%G %a' "$1"; }
expect_mode() {	# PATH "USER:GROUP MODE"
	m=$(mode_of "$1") || { bad "$1 missing"; return 1; }
	[ "$m" = "$2" ] || bad "$1 is $m, not $2"
}

install_sh() {
	WA_DOMAIN=$DOMAIN sh "$TOP/deploy/install.sh" >"$S/install.out" 2>&1
	rc=$?
	cat "$S/install.out"
	[ $rc -eq 0 ] || bad "install.sh exits $rc" || return 1
	getent passwd wa | grep -q ':/usr/sbin/nologin$' ||
	    bad "user wa missing or has a login shell" || return 1
	! id -nG www-data | tr ' ' '\n' | grep -qx wa ||
	    bad "www-data is in group wa" || return 1
	expect_mode "$STATE" "wa:wa 750" || return 1
	expect_mode "$MEDIA" "wa:www-data 2750" || return 1
	expect_mode /etc/wa-gateway "root:root 700" || return 1
	expect_mode "$ENV_FILE" "root:root 600" || return 1
	grep -q "server_name $DOMAIN;" "$SITE" ||
	    bad "$SITE does not name $DOMAIN" || return 1
	for u in "$TOP"/deploy/*.service "$TOP"/deploy/*.timer; do
		[ -f "$u" ] || continue
		cmp -s "$u" "$UNIT_DIR/${u##*/}" ||
		    bad "$UNIT_DIR/${u##*/} not installed" || return 1
	done
	# No certificate yet: the site must wait for it.
	[ ! -e /etc/nginx/sites-enabled/wa-gateway.conf ] ||
	    bad "site enabled before its certificate exists" || return 1
	grep -q 'site not enabled yet' "$S/install.out" ||
	    bad "install.sh did not say the site waits for its certificate" ||
	    return 1
	say "user, directories, env file, site and units installed"
}

# The certificate where the site says, then the site enabled with the
# command install.sh printed.
certificate() {
	need install_sh || return 1
	crt=$(sed -n 's/^[[:space:]]*ssl_certificate[[:space:]]\{1,\}\([^;]*\);.*/\1/p' "$SITE")
	key=$(sed -n 's/^[[:space:]]*ssl_certificate_key[[:space:]]\{1,\}\([^;]*\);.*/\1/p' "$SITE")
	[ "$crt" = "/etc/letsencrypt/live/$DOMAIN/fullchain.pem" ] ||
	    bad "the site names certificate $crt" || return 1
	mkdir -p "$(dirname "$crt")" "$(dirname "$key")"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 30 -subj "/CN=$DOMAIN" \
	    -addext "subjectAltName=DNS:$DOMAIN" -keyout "$key" -out "$crt" ||
	    bad "openssl req failed" || return 1
	chmod 0600 "$key"
	cmd=$(sed -n '/Then enable the site:/{n;p;}' "$S/install.out" |
	    sed 's/^[[:space:]]*//')
	case $cmd in
	"ln -s $SITE /etc/nginx/sites-enabled/wa-gateway.conf") ;;
	*) bad "install.sh printed no enabling command (got: $cmd)"; return 1 ;;
	esac
	$cmd || bad "$cmd failed" || return 1
	say "self-signed certificate for $DOMAIN; site enabled by: $cmd"
}

# A second run changes nothing the user owns and says so.
install_sh_again() {
	need certificate || return 1
	sum=$(md5sum "$ENV_FILE")
	sh "$TOP/deploy/install.sh" >"$S/install2.out" 2>&1 ||
	    { cat "$S/install2.out"; bad "second run exits $?"; return 1; }
	cat "$S/install2.out"
	[ "$(md5sum "$ENV_FILE")" = "$sum" ] || bad "wa.env changed" || return 1
	grep -q "$SITE is up to date" "$S/install2.out" ||
	    bad "second run did not find the site up to date" || return 1
	grep -q 'Certificate: present' "$S/install2.out" ||
	    bad "second run did not see the certificate" || return 1
	say "a second run keeps wa.env and the site"
}

# The secrets (fresh each run) and the loopback fake Graph.
SECRET=$(openssl rand -hex 32)
VERIFY=$(openssl rand -hex 16)
TOKEN=test-$(openssl rand -hex 16)
configure() {
	need install_sh || return 1
	python3 "$TOP/tests/e2e/fake_graph.py" --port 0 --token "$TOKEN" \
	    --portfile "$S/graph.port" >"$OUT/log.fake_graph" 2>&1 &
	wait_for 20 test -s "$S/graph.port" || bad "fake Graph did not start" ||
	    return 1
	GRAPH=http://127.0.0.1:$(cat "$S/graph.port")
	# The number's node, which wactl doctor's token check reads.
	curl -sS -f -H 'Content-Type: application/json' \
	    --data-binary "{\"id\":\"$PNID\",\"fields\":{\"verified_name\":\"Install Test\",\"display_phone_number\":\"+1 555-000-1111\",\"quality_rating\":\"GREEN\"}}" \
	    "$GRAPH/_fake/number" \
	    >/dev/null || bad "fake Graph refused the number" || return 1
	sed -i -e "s|^WHATSAPP_APP_SECRET=.*|WHATSAPP_APP_SECRET=$SECRET|" \
	    -e "s|^WHATSAPP_VERIFY_TOKEN=.*|WHATSAPP_VERIFY_TOKEN=$VERIFY|" \
	    -e "s|^WHATSAPP_ACCESS_TOKEN=.*|WHATSAPP_ACCESS_TOKEN=$TOKEN|" \
	    -e "s|^WHATSAPP_PHONE_NUMBER_ID=.*|WHATSAPP_PHONE_NUMBER_ID=$PNID|" \
	    -e "s|^WHATSAPP_GRAPH_URL=.*|WHATSAPP_GRAPH_URL=$GRAPH|" \
	    "$ENV_FILE" || return 1
	say "wa.env filled in; fake Graph at $GRAPH"
}

nginx_t() {
	need certificate || return 1
	nginx -t || bad "nginx -t fails: $(nginx -t 2>&1 | grep emerg)" || return 1
	say "nginx -t: the installed configuration is valid"
}

# --- systemd, offline ---------------------------------------------------------
units() { ls "$UNIT_DIR"/wa-*.service "$UNIT_DIR"/wa-*.timer 2>/dev/null; }
systemd_verify() {
	need install_sh || return 1
	# shellcheck disable=SC2046
	systemd-analyze verify $(units) >"$S/verify" 2>&1
	rc=$?
	cat "$S/verify"
	[ $rc -eq 0 ] && [ ! -s "$S/verify" ] ||
	    bad "systemd-analyze verify: $(head -n 3 "$S/verify")" || return 1
	say "verified: $(units | sed 's|.*/||' | tr '\n' ' ')"
}
systemd_security() {
	need install_sh || return 1
	scores='' worst=ok
	for u in "$UNIT_DIR"/wa-*.service; do
		line=$(systemd-analyze security --offline=yes "$u" 2>&1 |
		    grep 'Overall exposure level')
		n=$(printf '%s' "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
		[ -n "$n" ] || { bad "no score for $u"; return 1; }
		scores="$scores ${u##*/}=$n"
		awk -v n="$n" 'BEGIN { exit !(n <= 2.0) }' || worst=fail
	done
	echo "scores:$scores"
	[ $worst = ok ] || bad "above 2.0:$scores" || return 1
	say "scores:$scores"
}

# --- the units' commands, as systemd runs them ----------------------------------
# unit_val FILE KEY: the values of KEY=, one a line, in order.
unit_val() { sed -n "s/^$2=//p" "$1"; }

# The environment systemd gives a service's commands: its base, then
# Environment=, then EnvironmentFile= (the file wins), less
# UnsetEnvironment=.  As single-quoted KEY=VALUE words for eval.
unit_env() {
	f=$1 user=$(unit_val "$1" User)
	home=$(getent passwd "$user" | cut -d: -f6)
	shell=$(getent passwd "$user" | cut -d: -f7)
	{
		echo "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		echo "LANG=C.UTF-8"
		echo "HOME=$home"; echo "USER=$user"; echo "LOGNAME=$user"
		echo "SHELL=$shell"
		for e in $(unit_val "$f" Environment); do echo "$e"; done
		for ef in $(unit_val "$f" EnvironmentFile); do
			ef=${ef#-}
			grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$ef"
		done
	} >"$S/env.raw"
	unset_list=$(unit_val "$f" UnsetEnvironment)
	# The last value of a key wins; unset ones go.
	awk -F= -v unset=" $unset_list " '
		{ k = $1; if (!(k in v)) order[n++] = k; v[k] = $0 }
		END { for (i = 0; i < n; i++)
			if (index(unset, " " order[i] " ") == 0)
				print v[order[i]] }' "$S/env.raw" >"$S/env.list"
	if grep -q "'" "$S/env.list"; then
		echo "a value in $f's environment has a quote" >&2
		return 1
	fi
	sed "s/.*/'&'/" "$S/env.list" | tr '\n' ' '
}

# unit_dirs FILE: RuntimeDirectory= and StateDirectory=, as systemd 252
# sets them up at each start: made when missing, else given the mode
# again, and when the top directory's owner or group is not User:Group,
# the whole tree is chowned (setup_exec_directory(), path_chown_recursive()).
unit_dirs() {
	user=$(unit_val "$1" User) group=$(unit_val "$1" Group)
	for kind in Runtime:/run State:/var/lib; do
		k=${kind%%:*} base=${kind#*:}
		mode=$(unit_val "$1" "${k}DirectoryMode")
		for d in $(unit_val "$1" "${k}Directory"); do
			p=$base/$d
			if [ ! -d "$p" ]; then
				install -d -o "$user" -g "$group" \
				    -m "${mode:-0755}" "$p" || return 1
				continue
			fi
			chmod "${mode:-0755}" "$p" || return 1
			[ "$(stat -c %U:%G "$p")" = "$user:$group" ] ||
			    chown -R "$user:$group" "$p" || return 1
		done
	done
}

# unit_exec FILE pre|start|run: its ExecStartPre= lines in order (each
# must succeed unless "-"), its ExecStart= in the background (pid in
# $S/pids), or run: ExecStart= waited for (Type=oneshot).  "+" runs as root; the rest as User:Group with their
# supplementary groups and the unit's UMask, the environment above, and
# ${VAR} expanded from it.  Of the sandbox, the file system part is
# applied (sandbox.sh: ProtectSystem=strict, ReadWritePaths=,
# PrivateTmp=), so a write the unit does not allow fails here as it would
# under systemd; systemd-analyze checks the rest.
unit_exec() {
	f=$1 user=$(unit_val "$1" User) group=$(unit_val "$1" Group)
	um=$(unit_val "$f" UMask)
	envw=$(unit_env "$f") || return 1
	box=''
	if [ "$(unit_val "$f" ProtectSystem)" = strict ]; then
		box="unshare --mount --propagation private sh $TOP/tests/install/sandbox.sh '$(unit_val "$f" ReadWritePaths | tr '\n' ' ')' $(unit_val "$f" PrivateTmp) --"
	fi
	if [ "$2" = pre ]; then key=ExecStartPre; else key=ExecStart; fi
	unit_val "$f" "$key" >"$S/exec.lines"
	while IFS= read -r cmd; do
		root=no ignore=no
		while :; do
			case $cmd in
			+*) root=yes; cmd=${cmd#+} ;;
			-*) ignore=yes; cmd=${cmd#-} ;;
			*) break ;;
			esac
		done
		if [ $root = yes ]; then as='' who=root
		else
			as="$box setpriv --reuid=$user --regid=$group --init-groups --"
			who="$user${box:+, sandboxed}"
		fi
		echo "$f: $key $cmd (as $who)"
		(
			umask "${um:-0022}"
			cd / || exit 1
			# ${VAR} in the command: the unit's values.
			eval "export $envw"
			eval "exec env -i $envw $as $cmd"
		) </dev/null >>"$OUT/log.${f##*/}" 2>&1 &
		pid=$!
		if [ "$2" = start ]; then
			echo "$pid" >>"$S/pids"
			continue
		fi
		wait "$pid"
		rc=$?
		[ $rc -eq 0 ] || [ $ignore = yes ] ||
		    { echo "$key $cmd exits $rc" >&2; return 1; }
	done <"$S/exec.lines"
}

start_unit() {
	unit_dirs "$UNIT_DIR/$1" && unit_exec "$UNIT_DIR/$1" pre &&
	    unit_exec "$UNIT_DIR/$1" start
}

units_start() {
	need configure nginx_t || return 1
	# After=: the worker (it migrates), then the pools.
	start_unit wa-worker.service || bad "wa-worker.service failed to start" ||
	    return 1
	# Each pool up (its socket there) before the next starts, as after
	# a "systemctl restart" of one of them.
	start_unit wa-fcgi.service || bad "wa-fcgi.service failed to start" ||
	    return 1
	wait_for 20 test -S /run/wa-gateway/fcgi.sock ||
	    bad "no /run/wa-gateway/fcgi.sock" || return 1
	start_unit wa-fcgi-api.service ||
	    bad "wa-fcgi-api.service failed to start" || return 1
	wait_for 20 test -S /run/wa-gateway/api.sock ||
	    bad "no /run/wa-gateway/api.sock" || return 1
	expect_mode /run/wa-gateway "wa:www-data 2750" || return 1
	expect_mode /run/wa-gateway/fcgi.sock "wa:www-data 660" || return 1
	expect_mode /run/wa-gateway/api.sock "wa:www-data 660" || return 1
	expect_mode "$STATE/wa.db" "wa:wa 600" || return 1
	nginx || bad "nginx did not start" || return 1
	say "worker, webhook and API pools, nginx running"
}

# --- over https ---------------------------------------------------------------
CRT=/etc/letsencrypt/live/$DOMAIN/fullchain.pem
https() {	# curl over https to the site, certificate checked
	curl -sS --max-time 10 --resolve "$DOMAIN:443:127.0.0.1" \
	    --cacert "$CRT" "$@"
}
url() { echo "https://$DOMAIN/api/whatsapp$1"; }
healthy() { https "$(url /health)" | grep -q '"status":"ok"'; }

https_health() {
	need units_start || return 1
	wait_for 30 healthy ||
	    bad "/health not ok: $(https "$(url /health)" 2>&1 | head -c 300)" ||
	    return 1
	say "/health ok over https"
}

https_verify() {
	need units_start || return 1
	body=$(https -w ' %{http_code}' \
	    "$(url /webhook)?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=1158201444" |
	    tr -d '\r\n')
	[ "$body" = "1158201444 200" ] ||
	    bad "handshake answered: $body" || return 1
	st=$(https -o /dev/null -w '%{http_code}' \
	    "$(url /webhook)?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
	[ "$st" = 403 ] || bad "a wrong verify token got $st, not 403" ||
	    return 1
	say "challenge echoed with the token, 403 without"
}

# post_webhook FILE [SIGNED]: FILE signed with the App Secret (or the
# signature of SIGNED instead); prints the status.
post_webhook() {
	sig=$(openssl dgst -sha256 -hmac "$SECRET" -r "${2:-$1}" | cut -d' ' -f1)
	https -o "$S/hook.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "@$1" \
	    "$(url /webhook)"
}
# message_json WAMID TYPE OBJECT: one inbound message in Meta's shape.
message_json() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"100200300400500","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Install Test"},"wa_id":"15550002222"}],"messages":[{"from":"15550002222","id":"%s","timestamp":"%s","type":"%s","%s":%s}]},"field":"messages"}]}]}' \
	    "$PNID" "$1" "$(date +%s)" "$2" "$2" "$3"
}
sql() { runuser -u wa -- sqlite3 -batch "$STATE/wa.db" "$1"; }
row_for() { [ "$(sql "SELECT count(*) FROM messages WHERE wamid = '$1'")" = 1 ]; }

https_webhook() {
	need https_health || return 1
	wamid=wamid.install.text.$(date +%s)
	message_json "$wamid" text '{"body":"hello from the install test"}' \
	    >"$S/hook.json"
	st=$(post_webhook "$S/hook.json")
	[ "$st" = 200 ] || bad "signed webhook answered $st" || return 1
	wait_for 20 row_for "$wamid" ||
	    bad "webhook acknowledged but no messages row for $wamid" ||
	    return 1
	# The same signature on other bytes.
	sed 's/hello from/forged by/' "$S/hook.json" >"$S/forged.json"
	st=$(post_webhook "$S/forged.json" "$S/hook.json")
	[ "$st" = 403 ] || bad "a bad signature got $st, not 403" || return 1
	say "signed webhook acknowledged and applied; bad signature 403"
}

KEY=
api_key() {
	need https_health || return 1
	runuser -u wa -- env WA_STATE_DIR="$STATE" WA_MEDIA_DIR="$MEDIA" \
	    wactl apikey create install-test >"$S/key.out" ||
	    bad "wactl apikey create as wa failed" || return 1
	KEY=$(tail -n 1 "$S/key.out")
	st=$(https -o "$S/api.out" -w '%{http_code}' \
	    -H "Authorization: Bearer $KEY" "$(url /conversations)")
	[ "$st" = 200 ] || bad "GET /conversations with the key: $st" ||
	    return 1
	st=$(https -o /dev/null -w '%{http_code}' "$(url /conversations)")
	[ "$st" = 401 ] || bad "GET /conversations without a key: $st" ||
	    return 1
	say "key made by wactl as wa: 200 with it, 401 without"
}

tls_old_refused() {
	need units_start || return 1
	# The client is willing (security level 0, OpenSSL 3 refuses
	# TLS 1.0/1.1 otherwise): only the server can say no.
	for v in 1.0 1.1; do
		if https -o /dev/null --tlsv1.0 --tls-max "$v" \
		    --ciphers 'DEFAULT@SECLEVEL=0' "$(url /health)"; then
			bad "TLS $v accepted"
			return 1
		fi
	done
	https -o /dev/null --tlsv1.2 --tls-max 1.2 "$(url /health)" ||
	    bad "TLS 1.2 refused" || return 1
	https -o /dev/null --tlsv1.3 "$(url /health)" ||
	    bad "TLS 1.3 refused" || return 1
	say "TLS 1.0 and 1.1 refused; 1.2 and 1.3 accepted"
}

hsts() {
	need units_start || return 1
	for p in /health /nothing-here; do
		https -o /dev/null -D "$S/headers" "$(url "$p")"
		grep -qi '^strict-transport-security: max-age=[0-9]\{8,\}; includeSubDomains' \
		    "$S/headers" || bad "no HSTS (a year or more) on $p" ||
		    return 1
	done
	say "HSTS on answers and errors: $(grep -i '^strict' "$S/headers" |
	    tr -d '\r')"
}

http_redirect() {
	need units_start || return 1
	h() { curl -sS --max-time 10 --resolve "$DOMAIN:80:127.0.0.1" "$@"; }
	out=$(h -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "http://$DOMAIN/api/whatsapp/health?x=1")
	[ "$out" = "301 https://$DOMAIN/api/whatsapp/health?x=1" ] ||
	    bad "http:// answered: $out" || return 1
	mkdir -p /var/www/html/.well-known/acme-challenge
	tok=install-$(openssl rand -hex 8)
	printf '%s.thumbprint' "$tok" \
	    >"/var/www/html/.well-known/acme-challenge/$tok"
	out=$(h -w ' %{http_code}' \
	    "http://$DOMAIN/.well-known/acme-challenge/$tok")
	[ "$out" = "$tok.thumbprint 200" ] ||
	    bad "ACME challenge answered: $out" || return 1
	say "http:// redirected to https://, ACME challenge served"
}

# An inbound image: the worker downloads it into the media directory, and
# nginx (www-data, not in group wa) serves it, yet cannot read wa.db.
media_served() {
	need https_webhook api_key || return 1
	GRAPH=http://127.0.0.1:$(cat "$S/graph.port")
	mid=7001$(date +%s)
	head -c 3000 /dev/urandom >"$S/image.bin"
	printf '{"id":"%s","data_b64":"%s","mime":"image/jpeg","phone_number_id":"%s"}' \
	    "$mid" "$(base64 -w0 "$S/image.bin")" "$PNID" >"$S/media.json"
	curl -sS -f -H 'Content-Type: application/json' \
	    --data-binary "@$S/media.json" "$GRAPH/_fake/media" >/dev/null ||
	    bad "fake Graph refused the media" || return 1
	sha=$(sha256sum "$S/image.bin" | cut -d' ' -f1)
	wamid=wamid.install.image.$(date +%s)
	message_json "$wamid" image \
	    "{\"mime_type\":\"image/jpeg\",\"sha256\":\"$sha\",\"id\":\"$mid\"}" \
	    >"$S/hook.json"
	st=$(post_webhook "$S/hook.json")
	[ "$st" = 200 ] || bad "image webhook answered $st" || return 1
	stored() { [ "$(sql "SELECT state FROM media WHERE media_id = '$mid'")" = stored ]; }
	wait_for 30 stored || bad "media not stored: $(sql \
	    "SELECT state, error FROM media WHERE media_id = '$mid'")" ||
	    return 1
	rel=$(sql "SELECT path FROM media WHERE media_id = '$mid'")
	expect_mode "$MEDIA/$rel" "wa:www-data 640" || return 1
	expect_mode "$(dirname "$MEDIA/$rel")" "wa:www-data 750" || return 1
	id=$(sql "SELECT id FROM messages WHERE wamid = '$wamid'")
	st=$(https -o "$S/got.bin" -w '%{http_code}' \
	    -H "Authorization: Bearer $KEY" "$(url "/messages/$id/media")")
	[ "$st" = 200 ] || bad "GET /messages/$id/media: $st $(head -c 200 \
	    "$S/got.bin")" || return 1
	cmp -s "$S/got.bin" "$S/image.bin" ||
	    bad "nginx served other bytes than the image" || return 1
	! runuser -u www-data -- test -r "$STATE/wa.db" ||
	    bad "www-data can read $STATE/wa.db" || return 1
	! runuser -u www-data -- ls "$STATE" >/dev/null 2>&1 ||
	    bad "www-data can list $STATE" || return 1
	say "downloaded image ($rel) served by nginx; www-data cannot reach wa.db"
}

# An install from before 0.6 kept media in $STATE/media (wa:wa, 0700
# directories, 0600 files): install.sh moves them where nginx reads them.
media_moved() {
	need media_served || return 1
	old=$STATE/media/0f
	install -d -o wa -g wa -m 0700 "$STATE/media" "$old" &&
	    printf 'old file\n' >"$old/0f0f" && chown wa:wa "$old/0f0f" &&
	    chmod 0600 "$old/0f0f" || return 1
	# One in a directory the new place has too.
	sub=$(dirname "$rel")
	install -d -o wa -g wa -m 0700 "$STATE/media/$sub" &&
	    printf 'old too\n' >"$STATE/media/$sub/0000" || return 1
	sh "$TOP/deploy/install.sh" >"$S/install3.out" 2>&1 ||
	    { cat "$S/install3.out"; bad "install.sh exits $?"; return 1; }
	cat "$S/install3.out"
	[ ! -e "$STATE/media" ] || bad "$STATE/media is still there" ||
	    return 1
	expect_mode "$MEDIA/0f/0f0f" "wa:www-data 640" || return 1
	expect_mode "$MEDIA/0f" "wa:www-data 2750" || return 1
	expect_mode "$MEDIA/$sub/0000" "wa:www-data 640" || return 1
	runuser -u www-data -- cat "$MEDIA/0f/0f0f" >/dev/null ||
	    bad "www-data cannot read a moved file" || return 1
	# What was there stays.
	[ -n "$(find "$MEDIA" -type f -name "$(basename "$rel")")" ] ||
	    bad "the downloaded image is gone" || return 1
	say "media of an older install moved to $MEDIA, readable by nginx"
}

# The backup unit run the way its timer starts it (Type=oneshot): the
# day's file, 0600 in a 0700 directory, holding the webhook's row.
backup_rotate() {
	need https_webhook || return 1
	u=$UNIT_DIR/wa-backup.service
	[ -f "$u" ] || bad "no $u installed" || return 1
	[ "$(unit_val "$u" Type)" = oneshot ] ||
	    bad "wa-backup.service is not Type=oneshot" || return 1
	[ -f "$UNIT_DIR/wa-backup.timer" ] || bad "no wa-backup.timer" ||
	    return 1
	unit_dirs "$u" && unit_exec "$u" pre && unit_exec "$u" run ||
	    bad "wa-backup.service failed: $(tail -n 2 \
	    "$OUT/log.wa-backup.service")" || return 1
	dir=/var/backups/wa-gateway
	f=$dir/wa-$(date -u +%Y-%m-%d).db
	expect_mode "$dir" "wa:wa 700" || return 1
	expect_mode "$f" "wa:wa 600" || return 1
	grep -q "event=backup_done path=$f bytes=[0-9]" \
	    "$OUT/log.wa-backup.service" ||
	    bad "no event=backup_done line for $f" || return 1
	n=$(runuser -u wa -- sqlite3 -readonly "$f" \
	    "SELECT count(*) FROM messages WHERE wamid LIKE 'wamid.install.text.%'")
	[ "$n" = 1 ] || bad "the backup lacks the webhook's message ($n)" ||
	    return 1
	say "wa-backup.service wrote $f (0600) with the webhook's message"
}

# wactl doctor as root, as an operator runs it, on this install.
doctor() {
	need units_start https_webhook || return 1
	env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 \
	    WA_DOCTOR_RESOLVE="$DOMAIN:443:127.0.0.1" WA_DOCTOR_CAFILE="$CRT" \
	    wactl doctor >"$S/doctor.out" 2>&1
	rc=$?
	cat "$S/doctor.out"
	echo "exit $rc"
	[ -s "$S/doctor.out" ] || bad "wactl doctor printed nothing" || return 1
	# Every line but the summary: LEVEL NAME DETAIL.
	grep -Ev '^(OK|WARN|FAIL) +[a-z_]+ +[^ ]' "$S/doctor.out" |
	    sed '$d' >"$S/doctor.odd"
	[ ! -s "$S/doctor.odd" ] ||
	    bad "lines not LEVEL NAME DETAIL: $(head -n 2 "$S/doctor.odd")" ||
	    return 1
	for c in config files sockets nginx_site certificate token webhook \
	    disk sqlite journal sends backup; do
		grep -Eq "^OK +$c " "$S/doctor.out" ||
		    bad "doctor: $(grep -E "^[A-Z]+ +$c " "$S/doctor.out" ||
		    echo "no $c line")" || return 1
	done
	warn=$(grep -c '^WARN' "$S/doctor.out")
	fails=$(grep -c '^FAIL' "$S/doctor.out")
	[ "$fails" -eq 0 ] || bad "doctor FAILs: $(grep '^FAIL' \
	    "$S/doctor.out" | head -n 2)" || return 1
	if [ "$warn" -gt 0 ]; then want=1; else want=0; fi
	[ "$rc" -eq "$want" ] ||
	    bad "doctor exits $rc with $warn WARN, $fails FAIL" || return 1
	say "doctor: $(grep -c '^OK' "$S/doctor.out") OK, $warn WARN" \
	    "($(grep '^WARN' "$S/doctor.out" | awk '{print $2}' |
	    tr '\n' ' '))exit $rc"
}

check make_install make_install
check install_sh install_sh
check certificate certificate
check install_sh_again install_sh_again
check configure configure
check nginx_t nginx_t
check systemd_verify systemd_verify
check systemd_security systemd_security
check units_start units_start
check https_health https_health
check https_verify https_verify
check https_webhook https_webhook
check api_key api_key
check tls_old_refused tls_old_refused
check hsts hsts
check http_redirect http_redirect
check media_served media_served
check media_moved media_moved
check backup_rotate backup_rotate
check doctor doctor
nginx -s stop 2>/dev/null
exit 0
