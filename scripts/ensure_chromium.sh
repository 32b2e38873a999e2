#!/bin/sh
# Make sure Debian's chromium package is installed (used by the insights-page browser test).
# Idempotent and quiet: does nothing when /usr/bin/chromium already exists, otherwise
# installs it with apt-get (needs root, as in CI). Exit status is non-zero if it still
# cannot be found afterwards, so the caller can fail loudly.
set -eu

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo -n"
else
    SUDO=""
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing (a fresh container); a full
# update on every run would be slow and is not needed for an idempotent install.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
    $SUDO apt-get update -qq >/dev/null
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
    # Stale lists (package moved to a new version): refresh once and retry.
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_chromium: $CHROMIUM still missing after apt-get install chromium" >&2
    exit 1
fi
