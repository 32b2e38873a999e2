#!/bin/sh
# Make sure Debian's PostgreSQL server binaries are installed (used by the deployment tests,
# which start their own throwaway server: initdb + pg_ctl in a temp dir, on a free port).
# Idempotent and quiet: does nothing when an initdb exists under /usr/lib/postgresql,
# otherwise installs the `postgresql` package with apt-get (needs root, as in CI). Exit
# status is non-zero if it still cannot be found, so the caller can say so.
set -eu

found() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
if found; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
else
    SUDO=""
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing (a fresh container).
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
    $SUDO apt-get update -qq >/dev/null
fi
# The server only: no cluster is created or started by us here (the tests make their own).
if ! $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if ! found; then
    echo "ensure_postgresql: no /usr/lib/postgresql/*/bin/initdb after apt-get install postgresql" >&2
    exit 1
fi
