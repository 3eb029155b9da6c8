#!/bin/sh
# install.sh: set up the WhatsApp gateway on a Debian VPS.  Run as root from
# a checkout, after "make install PREFIX=/usr/local" has put wa-fcgi,
# wa-worker and wactl in /usr/local/bin:
#
#   sh deploy/install.sh                      # keeps the wa.example.com placeholder
#   WA_DOMAIN=wa.shop.example sh deploy/install.sh
#
# Safe to run again (after an upgrade, say):
#   - user, group and directories are created only when missing;
#   - /etc/wa-gateway/wa.env is created from the example only when missing,
#     and never touched after that;
#   - the FastCGI parameters and the systemd units (every deploy/*.service
#     and deploy/*.timer) are always refreshed (local changes to units
#     belong in "systemctl edit" drop-ins);
#   - the nginx site is installed when missing; when the installed one
#     differs from this checkout, the new version is written next to it as
#     wa-gateway.conf.new for you to compare, and yours is left alone;
#   - the site is enabled only once its certificate exists, because nginx
#     refuses to start (taking every site down) while a certificate named
#     in an enabled site is missing.
# It starts and reloads nothing: the steps it prints say what to run.
# (Without a running systemd, in a container or the install test's
# throwaway root, it skips "systemctl daemon-reload" and says so.)

set -eu

umask 022

SRC=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)

USER_NAME=wa
STATE_DIR=/var/lib/wa-gateway
# Media files, apart from the database: nginx serves them (WA_MEDIA_DIR).
MEDIA_DIR=/var/lib/wa-gateway-media
ETC_DIR=/etc/wa-gateway
ENV_FILE=$ETC_DIR/wa.env
NGINX_DIR=/etc/nginx
SITE=$NGINX_DIR/sites-available/wa-gateway.conf
SITE_LINK=$NGINX_DIR/sites-enabled/wa-gateway.conf
UNIT_DIR=/etc/systemd/system
BIN_DIR=/usr/local/bin
PLACEHOLDER=wa.example.com
DOMAIN=${WA_DOMAIN:-}
# On a later run without WA_DOMAIN, keep the host name already in the site,
# so the comparison below does not flag the placeholder as a change.
if [ -z "$DOMAIN" ] && [ -f "$SITE" ]; then
	DOMAIN=$(sed -n 's/^[[:space:]]*server_name[[:space:]]\{1,\}\([^;[:space:]]*\).*/\1/p' \
	    "$SITE" | head -n 1)
	[ "$DOMAIN" != "$PLACEHOLDER" ] || DOMAIN=
fi

say() { printf '%s\n' "install.sh: $*"; }
die() { printf '%s\n' "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root"
for f in nginx/wa_fastcgi_params nginx/wa_inbox_headers nginx/wa-gateway.conf \
    deploy/wa-fcgi.service deploy/wa-fcgi-api.service \
    deploy/wa-worker.service deploy/wa.env.example; do
	[ -f "$SRC/$f" ] || die "$SRC/$f is missing; run me from a checkout"
done
if [ -n "$DOMAIN" ]; then
	# Only host-name characters: the value goes into a sed expression and
	# into nginx's configuration.
	case $DOMAIN in
	*[!A-Za-z0-9.-]* | .* | *. | *..*)
		die "WA_DOMAIN=$DOMAIN is not a host name" ;;
	esac
fi
for d in "$NGINX_DIR/sites-available" "$NGINX_DIR/sites-enabled"; do
	[ -d "$d" ] || die "$d not found: apt-get install nginx first"
done
getent passwd www-data >/dev/null || die "user www-data not found (nginx)"

# --- user and directories -----------------------------------------------
if getent passwd "$USER_NAME" >/dev/null; then
	say "user $USER_NAME exists"
else
	# A system account, no password, no login shell; its own group wa
	# (reused if a group of that name is already there).
	if getent group "$USER_NAME" >/dev/null; then
		grp_opt="-g $USER_NAME"
	else
		grp_opt=--user-group
	fi
	# shellcheck disable=SC2086 # grp_opt is one or two words on purpose
	useradd --system $grp_opt --home-dir "$STATE_DIR" --no-create-home \
	    --shell /usr/sbin/nologin --comment "WhatsApp gateway" "$USER_NAME"
	say "created system user $USER_NAME"
fi

# nginx (www-data) reaches the sockets in /run/wa-gateway, which the
# units make group www-data (setgid, so each socket is wa:www-data 0660).
# It must never reach the database in /var/lib/wa-gateway (wa:wa 0750):
# www-data stays out of group wa.  Earlier versions put it there; undo it.
if id -nG www-data | tr ' ' '\n' | grep -qx "$USER_NAME"; then
	gpasswd -d www-data "$USER_NAME" >/dev/null
	say "removed www-data from group $USER_NAME (it reaches the sockets only)"
fi

# systemd's StateDirectory= creates this too; doing it here lets you run
# wactl as wa before the first start.
install -d -o "$USER_NAME" -g "$USER_NAME" -m 0750 "$STATE_DIR"
install -d -o root -g root -m 0700 "$ETC_DIR"

# The media files: wa:www-data 2750, setgid so that everything made in it
# is group www-data (the programs make files 0640, directories 0750), and
# nginx serves /_media/ from here.  Apart from $STATE_DIR, so www-data
# never reaches the database.  Versions before 0.6 kept media in
# $STATE_DIR/media: move those files here once, group www-data.
install -d -o "$USER_NAME" -g www-data -m 2750 "$MEDIA_DIR"
old_media=$STATE_DIR/media
if [ -d "$old_media" ] && [ ! -L "$old_media" ]; then
	# Same file system: each file is a rename.  Names are content
	# addresses (ab/<sha256>), so one already in place is the same file:
	# the old copy goes.
	(cd "$old_media" && find . -type f) | while IFS= read -r f; do
		mkdir -p "$MEDIA_DIR/$(dirname "$f")"
		if [ -e "$MEDIA_DIR/$f" ]; then rm -f "$old_media/$f"
		else mv "$old_media/$f" "$MEDIA_DIR/$f"; fi
	done
	find "$old_media" -depth -type d -empty -delete
	[ ! -e "$old_media" ] || say "WARNING: $old_media is not empty" \
	    "after moving its files to $MEDIA_DIR; look at what is left"
	chown -R "$USER_NAME:www-data" "$MEDIA_DIR"
	find "$MEDIA_DIR" -type d -exec chmod 2750 {} + -o -type f \
	    -exec chmod 0640 {} +
	say "moved media files from $old_media to $MEDIA_DIR"
fi

# --- configuration ----------------------------------------------------------
if [ -e "$ENV_FILE" ]; then
	say "$ENV_FILE exists, left as it is"
else
	# root only: systemd reads EnvironmentFile= as root before it drops
	# to user wa, so neither the services nor www-data can read the
	# secrets from disk.  The responders' units also unset
	# WHATSAPP_ACCESS_TOKEN: only the worker gets it.
	install -o root -g root -m 0600 "$SRC/deploy/wa.env.example" \
	    "$ENV_FILE"
	say "created $ENV_FILE from the example: fill in the secrets"
fi
# The units set WA_MEDIA_DIR; wactl run by hand reads only the file.
if ! grep -q '^WA_MEDIA_DIR=' "$ENV_FILE"; then
	say "add WA_MEDIA_DIR=$MEDIA_DIR to $ENV_FILE, so that wactl" \
	    "(purge) finds the media files the services write"
fi

# --- nginx ------------------------------------------------------------------
tmp=$(mktemp)
tmp_allow=$(mktemp)
trap 'rm -f "$tmp" "$tmp_allow"' EXIT
install -o root -g root -m 0644 "$SRC/nginx/wa_fastcgi_params" \
    "$NGINX_DIR/wa_fastcgi_params"
say "installed $NGINX_DIR/wa_fastcgi_params"
install -o root -g root -m 0644 "$SRC/nginx/wa_inbox_headers" \
    "$NGINX_DIR/wa_inbox_headers"
say "installed $NGINX_DIR/wa_inbox_headers"
# Who may read /api/whatsapp/metrics besides loopback: yours to edit.
METRICS_ALLOW=$NGINX_DIR/wa-metrics-allow.conf
if [ -e "$METRICS_ALLOW" ]; then
	say "$METRICS_ALLOW exists, left as it is"
else
	printf '%s\n' "# Addresses allowed to read /api/whatsapp/metrics besides loopback," \
	    "# one \"allow ADDRESS;\" or \"allow NETWORK/BITS;\" a line, e.g." \
	    "#   allow 192.0.2.10;" \
	    "# then: nginx -t && systemctl reload nginx" >"$tmp_allow"
	install -o root -g root -m 0644 "$tmp_allow" "$METRICS_ALLOW"
	say "created $METRICS_ALLOW (metrics: loopback only until you add addresses)"
fi

if [ -n "$DOMAIN" ]; then
	sed "s/wa\\.example\\.com/$DOMAIN/g" "$SRC/nginx/wa-gateway.conf" >"$tmp"
else
	cat "$SRC/nginx/wa-gateway.conf" >"$tmp"
fi
if [ ! -e "$SITE" ]; then
	install -o root -g root -m 0644 "$tmp" "$SITE"
	say "installed $SITE"
elif cmp -s "$tmp" "$SITE"; then
	say "$SITE is up to date"
	rm -f "$SITE.new"
else
	# Outside sites-enabled, so nginx never reads it.
	install -o root -g root -m 0644 "$tmp" "$SITE.new"
	say "$SITE differs from this checkout; left as it is," \
	    "new version in $SITE.new (diff -u $SITE $SITE.new)"
fi

# Enable the site only when every certificate it names is present.
certs=$(sed -n 's/^[[:space:]]*ssl_certificate\(_key\)\{0,1\}[[:space:]]\{1,\}\([^;]*\);.*/\2/p' "$SITE")
missing=
for c in $certs; do
	[ -e "$c" ] || missing="$missing $c"
done
site_enabled=no
if [ -L "$SITE_LINK" ] || [ -e "$SITE_LINK" ]; then
	site_enabled=yes
	say "$SITE_LINK exists"
elif [ -z "$missing" ] && [ -n "$certs" ]; then
	ln -s "$SITE" "$SITE_LINK"
	site_enabled=yes
	say "enabled the site: $SITE_LINK"
else
	say "site not enabled yet: missing certificate file(s):$missing"
fi

# --- systemd ----------------------------------------------------------------
# Every unit of the checkout: the services, and timers such as the
# backup's (wa-backup.timer starts wa-backup.service).
units='' timers=''
for u in "$SRC"/deploy/*.service "$SRC"/deploy/*.timer; do
	[ -f "$u" ] || continue
	install -o root -g root -m 0644 "$u" "$UNIT_DIR/${u##*/}"
	units="$units ${u##*/}"
	case $u in *.timer) timers="$timers ${u##*/}" ;; esac
done
say "installed in $UNIT_DIR:$units"
# A running systemd has this directory (sd_booted(3)).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	say "reloaded systemd"
else
	say "systemd is not running here: no daemon-reload"
fi

# --- what is still missing ----------------------------------------------
warn=
for b in wa-fcgi wa-worker wactl; do
	[ -x "$BIN_DIR/$b" ] || warn="$warn $BIN_DIR/$b"
done
for b in /usr/bin/spawn-fcgi /usr/bin/multiwatch; do
	[ -x "$b" ] || warn="$warn $b"
done
[ -z "$warn" ] || say "WARNING: not found:$warn" \
    "(make install PREFIX=/usr/local; apt-get install spawn-fcgi multiwatch)"

name=${DOMAIN:-$PLACEHOLDER}
cat <<EOF

Next steps:

 1. Fill in the secrets (the services refuse to start without them):
      editor $ENV_FILE
EOF
if [ -z "$DOMAIN" ]; then
	cat <<EOF

    Put your host name in place of $PLACEHOLDER in $SITE
    (server_name and the certificate paths); the commands below use the
    placeholder too.  (On a fresh install, WA_DOMAIN=your.host.name does
    this for you.)
EOF
fi
if [ "$site_enabled" = no ]; then
	cat <<EOF

 2. Get the certificate.  Until the site is enabled, Debian's default site
    answers on port 80 from /var/www/html, which is what --webroot needs:
      certbot certonly --webroot -w /var/www/html -d $name \\
          --deploy-hook "systemctl reload nginx"
    Then enable the site:
      ln -s $SITE $SITE_LINK
    (Renewals keep working: the site serves /.well-known/acme-challenge/
    from /var/www/html on port 80.)
EOF
else
	cat <<EOF

 2. Certificate: present.
EOF
fi
cat <<EOF

 3. Start the gateway (wa-worker migrates the database first):
      systemctl enable --now wa-worker wa-fcgi wa-fcgi-api$timers
      journalctl -u wa-worker -u wa-fcgi -u wa-fcgi-api -e

 4. Load the site:
      nginx -t && systemctl reload nginx

 5. Check, then point Meta at it (App Dashboard > WhatsApp > Configuration:
    callback https://$name/api/whatsapp/webhook and your verify token):
      curl -s https://$name/api/whatsapp/health
      wactl doctor    # one OK/WARN/FAIL line per check of this install
EOF
