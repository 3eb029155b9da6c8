#!/bin/sh
# deps.sh: installs the Debian packages the build, `make run` and the tests
# need, only those missing; silent when everything is there.
set -eu
PKGS="build-essential pkg-config libfcgi-dev libjansson-dev
libcurl4-openssl-dev libssl-dev libsqlite3-dev sqlite3 libbsd-dev
nginx-light spawn-fcgi multiwatch python3 python3-pytest curl jq openssl
clang valgrind wrk chromium chromium-driver python3-selenium"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The install test (tests/install/) also runs these commands; on a slim
# image (a container) their packages may be missing.
for cp in systemd-analyze:systemd ip:iproute2 unshare:util-linux \
    setpriv:util-linux runuser:util-linux useradd:passwd; do
	PATH=$PATH:/usr/sbin:/sbin command -v "${cp%%:*}" >/dev/null 2>&1 &&
	    continue
	case " $missing " in *" ${cp#*:} "*) ;; *) missing="$missing ${cp#*:}" ;; esac
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
# Debian starts nginx on install; ours runs from its own config.
if command -v systemctl >/dev/null 2>&1; then
	$SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
fi
