#!/bin/sh
# inbox-page.sh WEBDIR: prints the inbox page (WEBDIR/index.html) with
# @VERSION@ replaced by a digest of every file in WEBDIR, so each change
# there gives the assets a new path (nginx caches /inbox/v/VERSION/ for a
# year and never the page).  Used by run-local.sh and make install.
set -eu
web=$1
v=$(find "$web" -type f -name '*.*' | LC_ALL=C sort | xargs cat |
	sha256sum | cut -c1-12)
sed -e "s|@VERSION@|$v|g" "$web/index.html"
