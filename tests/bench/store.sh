#!/usr/bin/env bash
# Benchmark (not a test): the encrypted mail store against plain SQLite.
#
#   tests/bench/store.sh [messages]
#
# Builds ownmail-store-bench (tests/bench/store_bench.c, Release) in
# build-bench/ when needed and runs it in a throw-away directory. Through the
# store's own API (lib/store, metadata from lib/mailbox): append `messages`
# (default 10000) RFC 5322 messages of 2 KB to 200 KB in transactions of 100,
# read each back (metadata and raw bytes), run 100 SEARCHes (SUBJECT, FROM,
# and TEXT / BODY through FTS5); once through the encrypted VFS (lib/vfs) and
# once over plain SQLite with the same settings. Making and parsing the
# messages is not timed. Each side runs twice; the best run counts. The last
# line is "encrypted/plain ratio: X" (goal <= 1.15).
#
# Environment:
#   STORE_BENCH_SQL="..."    SQL run on both stores after store_attach, to
#                            try settings ("PRAGMA cache_size=-8192")
#   BENCH_NO_BUILD=1         use build-bench/bin/ownmail-store-bench as it is
#   BENCH_KEEP=1             keep the temporary directory
#
# Needs: cmake and the build dependencies; about 2 GB free in $TMPDIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR="$ROOT/build-bench"
BIN="$BUILD_DIR/bin/ownmail-store-bench"
MESSAGES=${1:-10000}

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target ownmail-store-bench >/dev/null
fi
[[ -x "$BIN" ]] || { echo "store.sh: $BIN is missing" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ownmail-store-bench.XXXXXX")
cleanup() {
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

"$BIN" "$WORK" "$MESSAGES"
