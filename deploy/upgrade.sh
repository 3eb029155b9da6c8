#!/bin/sh
# upgrade.sh: upgrade an installed gateway to this checkout.  Run as root
# from the new checkout, after `make` (as any user):
#
#   sh deploy/upgrade.sh             # back up, install, migrate, restart
#   sh deploy/upgrade.sh --dry-run   # print the steps only; changes nothing
#
# The order, and why:
#   1. Back up first, while the gateway still runs (no downtime): the new
#      build's `wactl backup --rotate`, as wa, into the backup directory.
#      It copies a database at the old release's schema too (a copy needs
#      no statement) and refuses one newer than it knows, so a downgrade
#      stops here.  If the backup fails, nothing else happens.  The copy
#      is also linked as pre-upgrade-FROM-to-TO-TIME.db, a name rotation
#      never deletes: the daily backup of the same day must not replace
#      the copy a rollback needs.
#   2. make install, then deploy/install.sh (refreshes the units, new ones
#      such as wa-backup.* included; keeps wa.env and the nginx site) and
#      systemctl daemon-reload.  Running processes keep the old binaries
#      until they are restarted.
#   3. Stop wa-worker first: it is the main writer (applies the journal,
#      sends, purges), and if it stopped later, systemd could restart it
#      (Restart=always) with the new binary in the meantime.  While it is
#      down the responders still acknowledge webhooks into the journal.
#   4. Then stop the responders (wa-fcgi, wa-fcgi-api): nothing writes
#      while the schema changes, and no old responder runs its old SQL
#      against the new schema (a responder checks the version only when
#      it starts).  From here nginx answers 502 and Meta retries.
#   5. `wactl migrate` as wa, the new one: run here and not only by the
#      worker's ExecStartPre, so that a failed migration stops the
#      upgrade with nothing started, and this script says how to roll
#      back.  Each migration is its own transaction: a failure leaves the
#      database at the last version that completed.
#   6. Start wa-worker (its ExecStartPre migrate finds nothing to do),
#      then the responders (ordered After=wa-worker; they refuse a schema
#      version they do not know, so they start on the migrated database).
#   7. Enable wa-backup.timer (daily backups; new in 0.6.0).
# At the end (and on any failure after step 1) it prints how to roll back:
# the backup's path and the previous release's checkout.
set -eu

umask 077

SRC=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
USER_NAME=wa
# As the units have them; WA_STATE_DIR and WA_BACKUP_DIR in the
# environment override them, as they do for wactl (keep them where the
# units may write, or change the units too).
STATE_DIR=${WA_STATE_DIR:-/var/lib/wa-gateway}
BACKUP_DIR=${WA_BACKUP_DIR:-/var/backups/wa-gateway}
BIN_DIR=/usr/local/bin
# The build to install (make's BUILD; build/ unless told).
NEW_WACTL=${BUILD:-$SRC/build}/wactl

DRY=0
case ${1:-} in
--dry-run) DRY=1 ;;
"") ;;
*) printf '%s\n' "usage: sh deploy/upgrade.sh [--dry-run]" >&2; exit 2 ;;
esac

say() { printf '%s\n' "upgrade.sh: $*"; }
die() { printf '%s\n' "upgrade.sh: $*" >&2; exit 1; }
# run CMD...: prints the step; runs it unless --dry-run.
run() {
	printf '+ %s\n' "$*"
	[ "$DRY" -eq 1 ] || "$@"
}
# As wa, with only what wactl needs: the state dir, no env file (no secret).
as_wa() {
	runuser -u "$USER_NAME" -- env -i PATH=/usr/bin:/bin \
	    WA_STATE_DIR="$STATE_DIR" WA_ENV_FILE= "$@"
}

# A copy installed under share/ is for reading: run the checkout's own.
if [ ! -f "$SRC/Makefile" ] || [ ! -f "$SRC/deploy/install.sh" ]; then
	die "run me from the new release's checkout: cd CHECKOUT && make && sudo sh deploy/upgrade.sh"
fi
[ -x "$NEW_WACTL" ] || die "$NEW_WACTL is missing: run make first"
# "wa-gateway 0.6.0, schema 12, SQLite 3.40.1" -> 0.6.0
TO=$("$NEW_WACTL" version | sed -n 's/^wa-gateway \([^,]*\),.*/\1/p')
FROM=unknown
if [ -x "$BIN_DIR/wactl" ]; then
	FROM=$("$BIN_DIR/wactl" version 2>/dev/null |
	    sed -n 's/^wa-gateway \([^,]*\),.*/\1/p')
	FROM=${FROM:-unknown}
fi
say "upgrading $FROM to $TO from $SRC$( [ "$DRY" -eq 0 ] || echo ' (dry run: nothing is changed)')"
if [ "$DRY" -eq 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "run me as root (sudo sh deploy/upgrade.sh)"
	getent passwd "$USER_NAME" >/dev/null ||
	    die "user $USER_NAME not found: this is not an installed gateway (deploy/install.sh)"
	[ -f "$STATE_DIR/wa.db" ] || die "no database at $STATE_DIR/wa.db"
fi

BACKUP="$BACKUP_DIR/wa-YYYY-MM-DD.db"
if [ "$FROM" = unknown ]; then
	PREV="the release that ran before (its tag, vX.Y.Z)"
else
	PREV=v$FROM
fi
rollback() {
	cat <<EOF
upgrade.sh: to roll back to $FROM:
  1. systemctl stop wa-worker wa-fcgi wa-fcgi-api
  2. in a checkout of the previous release: git checkout $PREV && make && make install
  3. mv $STATE_DIR/wa.db $STATE_DIR/wa.db-wal $STATE_DIR/wa.db-shm to a safe place, then
     install -o $USER_NAME -g $USER_NAME -m 0600 $BACKUP $STATE_DIR/wa.db
  4. systemctl start wa-worker wa-fcgi wa-fcgi-api
  Webhooks acknowledged after the backup are only in the new database: Meta
  does not send them again.
EOF
}

# --- 1. backup ---------------------------------------------------------------
# wa must be able to run the new wactl: the checkout may be in root's home.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run install -m 0755 "$NEW_WACTL" "$tmp/wactl"
[ "$DRY" -eq 1 ] || chmod 0711 "$tmp"
run install -d -o "$USER_NAME" -g "$USER_NAME" -m 0700 "$BACKUP_DIR"
printf '+ %s\n' "runuser -u $USER_NAME -- $tmp/wactl backup --rotate $BACKUP_DIR"
if [ "$DRY" -eq 0 ]; then
	BACKUP=$(as_wa "$tmp/wactl" backup --rotate "$BACKUP_DIR") ||
	    die "the backup failed (see above): nothing was changed"
	[ -f "$BACKUP" ] || die "the backup did not say where it is: nothing was changed"
	pre="$BACKUP_DIR/pre-upgrade-$FROM-to-$TO-$(date -u +%Y%m%dT%H%M%SZ).db"
	ln "$BACKUP" "$pre" || die "cannot link $BACKUP to $pre: nothing was changed"
	BACKUP=$pre
	say "backed up to $BACKUP"
else
	printf '+ %s\n' "ln BACKUP $BACKUP_DIR/pre-upgrade-$FROM-to-$TO-TIME.db"
	BACKUP="$BACKUP_DIR/pre-upgrade-$FROM-to-$TO-TIME.db"
fi
# From here on a failure says how to roll back.
on_exit() {
	rc=$?
	rm -rf "$tmp"
	[ "$rc" -eq 0 ] || rollback >&2
}
trap on_exit EXIT

# --- 2. install ----------------------------------------------------------------
run make -C "$SRC" install
run sh "$SRC/deploy/install.sh"
run systemctl daemon-reload

# --- 3.-4. stop: the worker first, then the responders -------------------------
run systemctl stop wa-worker.service
run systemctl stop wa-fcgi.service wa-fcgi-api.service

# --- 5. migrate, as wa -----------------------------------------------------------
printf '+ %s\n' "runuser -u $USER_NAME -- $BIN_DIR/wactl migrate"
if [ "$DRY" -eq 0 ]; then
	as_wa "$BIN_DIR/wactl" migrate ||
	    die "wactl migrate failed: the services are stopped"
fi

# --- 6. start: the worker, then the responders -----------------------------------
run systemctl start wa-worker.service
run systemctl start wa-fcgi.service wa-fcgi-api.service

# --- 7. daily backups --------------------------------------------------------------
run systemctl enable --now wa-backup.timer

if [ "$DRY" -eq 1 ]; then
	say "dry run: nothing was changed"
else
	say "$TO is running; the copy from before is $BACKUP"
fi
rollback
