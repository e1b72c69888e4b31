#!/bin/sh
# Lint the REST contract /openapi.yaml with the pinned Redocly CLI (package.json, redocly.yaml).
# Fails on any error or warning. Needs node and npm; the first run installs from package-lock.json.
set -eu

here=$(CDPATH="" cd -- "$(dirname -- "$0")" && pwd)
cd "$here"

export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

if [ ! -x node_modules/.bin/redocly ]; then
    npm ci --no-audit --no-fund
fi

spec=../../openapi.yaml

# Human-readable report; exits non-zero on errors.
npx --no-install redocly lint --config redocly.yaml "$spec"

# Redocly exits 0 on warnings; the contract is kept at zero warnings too.
# shellcheck disable=SC2016  # the single-quoted text is JavaScript
npx --no-install redocly lint --config redocly.yaml --format=json "$spec" 2>/dev/null |
    node -e '
        let s = "";
        process.stdin.on("data", (d) => { s += d; });
        process.stdin.on("end", () => {
            const t = JSON.parse(s).totals;
            if (t.errors !== 0 || t.warnings !== 0) {
                console.error(`lint.sh: ${t.errors} error(s), ${t.warnings} warning(s)`);
                process.exit(1);
            }
            console.log("lint.sh: openapi.yaml is clean (0 errors, 0 warnings)");
        });
    '
