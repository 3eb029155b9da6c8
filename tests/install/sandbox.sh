#!/bin/sh
# sandbox.sh: the file system part of a unit's sandbox, as systemd sets
# it up, for tests/install/inside.sh (run as root in a mount namespace of
# its own: unshare --mount --propagation private sh sandbox.sh ...).
#
#   sh sandbox.sh "RW_PATHS" PRIVATE_TMP -- COMMAND...
#
# ProtectSystem=strict: every mount read-only but /proc, /sys and /dev;
# ReadWritePaths= (RW_PATHS, space separated; "-" before one: skipped
# when missing, else a missing one fails as systemd fails the start,
# 226/NAMESPACE) stay writable; PRIVATE_TMP yes: an empty /tmp and
# /var/tmp.  Then execs COMMAND (which drops to the unit's user).
set -u
rw=$1 ptmp=$2
shift 3
keep=''
for p in $rw; do
	opt=no
	case $p in -*) opt=yes; p=${p#-} ;; esac
	if [ ! -e "$p" ]; then
		[ $opt = yes ] && continue
		echo "sandbox: ReadWritePaths=$p does not exist" >&2
		exit 226
	fi
	mount --bind "$p" "$p" || exit 226
	keep="$keep $p"
done
# Innermost mounts last in mountinfo; each one read-only on its own.
awk '{ print $5 }' /proc/self/mountinfo | while IFS= read -r mp; do
	case $mp in /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;; esac
	case " $keep " in *" $mp "*) continue ;; esac
	mount -o remount,bind,ro "$mp" 2>/dev/null || true
done
if [ "$ptmp" = yes ]; then
	mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 226
	mount -t tmpfs -o mode=1777 tmpfs /var/tmp || exit 226
fi
exec "$@"
