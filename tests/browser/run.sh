#!/usr/bin/env bash
# Browser test of the admin UI (web/): installs what it needs, then runs
# admin_ui.test.mjs with node's test runner against the real stack.
#   - Debian's Chromium (apt-get) when /usr/bin/chromium is missing;
#   - playwright-core from package-lock.json (npm ci) when node_modules is missing.
# Environment passed through: OWNMAIL_BIN_DIR (ownmail-api; default <repo>/build/bin)
# and OWNMAIL_SOURCE_DIR (the source tree; default this checkout).
set -euo pipefail

here=$(CDPATH="" cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(CDPATH="" cd -- "$here/../.." && pwd)
cd "$here"

if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "run.sh: /usr/bin/chromium is missing; install it as root: apt-get install chromium" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi

if [[ ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund
fi

export OWNMAIL_BIN_DIR="${OWNMAIL_BIN_DIR:-$repo/build/bin}"
export OWNMAIL_SOURCE_DIR="${OWNMAIL_SOURCE_DIR:-$repo}"
if [[ ! -x "$OWNMAIL_BIN_DIR/ownmail-api" ]]; then
    echo "run.sh: no ownmail-api in $OWNMAIL_BIN_DIR (build first or set OWNMAIL_BIN_DIR)" >&2
    exit 1
fi

exec node --test admin_ui.test.mjs
