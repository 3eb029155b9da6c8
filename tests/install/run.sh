#!/bin/sh
# run.sh: the production install on a throwaway root (issue 15).
#
#   sh tests/install/run.sh OUT BUILD_DIR
#
# Enters fresh mount, network and PID namespaces and runs inside.sh there:
# make install, deploy/install.sh, a self-signed certificate, nginx with
# the installed site, the installed units' commands as systemd would run
# them, and checks over https on the namespace's own loopback.  Each
# check writes one line "NAME|ok|DETAIL" or "NAME|fail|DETAIL" to
# OUT/results (tests/e2e/test_install.py reads them); OUT/log.NAME keeps
# what a check printed.
#
# Nothing is left on the machine: /etc, /var and /usr/local are overlays
# or tmpfs whose changes live only in the namespace's mounts (backed by a
# tmpfs under OUT), /run is a fresh tmpfs, and when inside.sh ends the
# PID namespace ends with it, taking every process it started along.
#
# Exit status: 0 when the harness ran (the results say what passed), 3
# when this machine cannot make the namespaces (OUT/results then holds
# one line "namespace|skip|WHY"), else 1.
set -u
[ $# -eq 2 ] || { echo "usage: run.sh OUT BUILD_DIR" >&2; exit 2; }
OUT=$1
BUILD_DIR=$2
top=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
mkdir -p "$OUT" || exit 1
: >"$OUT/results"

# Can we?  Root, unshare(1), overlayfs and tmpfs inside a new namespace.
why=
if [ "$(id -u)" -ne 0 ]; then
	why="not root (the install needs useradd, mounts and ports 80/443)"
elif ! command -v unshare >/dev/null 2>&1; then
	why="unshare(1) not found"
elif ! mkdir -p "$OUT/probe" || ! unshare --mount --net --pid --fork \
    --mount-proc --propagation private sh -c '
	d=$1 && mount -t tmpfs tmpfs "$d" && mkdir "$d/u" "$d/w" &&
	mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/u,workdir=$d/w" /etc
    ' sh "$OUT/probe" >"$OUT/log.namespace" 2>&1; then
	why="cannot create a mount+network+PID namespace with an overlay on /etc: $(tr '\n' ' ' <"$OUT/log.namespace")"
fi
if [ -n "$why" ]; then
	printf 'namespace|skip|%s\n' "$why" >"$OUT/results"
	exit 3
fi
printf 'namespace|ok|mount, network and PID namespaces\n' >"$OUT/results"
exec unshare --mount --net --pid --fork --mount-proc --propagation private \
    sh "$top/tests/install/inside.sh" "$OUT" "$BUILD_DIR" "$top"
