#!/bin/sh
# Make sure PostgreSQL's server binaries are installed (the job store's tests start a private
# server from them; see scripts/pg_cluster.py). Fast and silent when they are there; as root on
# Debian/Ubuntu installs the `postgresql` package; otherwise says what to install.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL (apt-get install postgresql) for the job store's tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    exit 0
fi
echo "PostgreSQL is needed for the tests: install it (Debian: sudo apt-get install postgresql)" >&2
exit 1
