#!/usr/bin/env bash
# Benchmark (not a test): how fast the api answers an authenticated list
# compared with its cheapest endpoint.
#
#   tests/bench/api.sh
#
# Builds a Release ownmail-api in build-bench/ when needed, starts a private
# redis-server and the api on free loopback ports with a throw-away data
# directory, bootstraps the admin, logs in, creates BENCH_DOMAINS domains, then
# runs wrk with the same load against
#   (a) GET /api/v1/domains?limit=100 with "Authorization: Bearer <JWT>"
#       (JWT verification + admin lookup + list query + JSON of 100 domains)
#   (b) GET /healthz (no auth, no database: the HTTP floor)
# and prints both request rates. The last line is the ratio (a)/(b); the goal
# is >= 0.5. Every process it starts is stopped on exit.
#
# Environment:
#   BENCH_THREADS   wrk threads            (default 2)
#   BENCH_CONNS     wrk connections        (default 32)
#   BENCH_SECONDS   seconds per run        (default 15)
#   BENCH_DOMAINS   domains to create      (default 100, at most 500)
#   BENCH_KEEP=1    keep the temporary directory (logs, data) for inspection
#   BENCH_NO_BUILD=1  use build-bench/bin/ownmail-api as it is
#
# Needs: cmake and the build dependencies, redis-server, wrk, curl,
# /usr/bin/python3 (all installed by ./setup.sh test).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR="$ROOT/build-bench"
API_BIN="$BUILD_DIR/bin/ownmail-api"
PY=/usr/bin/python3

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
SECONDS_PER_RUN=${BENCH_SECONDS:-15}
DOMAINS=${BENCH_DOMAINS:-100}
LIST_LIMIT=100 # one page holds every domain (the api allows 1..500)
START_TIMEOUT=30

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'bench/api.sh: %s\n' "$*" >&2
  exit 1
}

for v in THREADS CONNS SECONDS_PER_RUN DOMAINS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
((CONNS >= THREADS)) || die "BENCH_CONNS ($CONNS) must be >= BENCH_THREADS ($THREADS)"
((DOMAINS <= 500)) || die "BENCH_DOMAINS must be at most 500"
((DOMAINS <= LIST_LIMIT)) || LIST_LIMIT=$DOMAINS
for c in cmake redis-server wrk curl "$PY"; do
  command -v "$c" >/dev/null || die "$c is missing (run ./setup.sh test, or apt-get install it)"
done

# ---- build ------------------------------------------------------------------

build() {
  # Release, never sanitized: the numbers must be about the code, not ASan.
  # -Wno-error=format-truncation: GCC 12 at -O3 flags two snprintf calls in
  # api/db.c (db_open inlined into db_thread) that -O2 does not; keep them
  # warnings so the bench builds until api/db.c sizes its buffer.
  log "building Release in ${BUILD_DIR#"$ROOT"/}"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DOWNMAIL_SANITIZE=OFF \
    -DOWNMAIL_FUZZ=OFF -DCMAKE_C_FLAGS=-Wno-error=format-truncation >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target ownmail-api >/dev/null
}

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  build
fi
[[ -x $API_BIN ]] || die "$API_BIN was not built"

# ---- processes and cleanup --------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ownmail-bench.XXXXXX")
chmod 700 "$WORK"
REDIS_PID=""
API_PID=""

stop_pid() { # PID: SIGTERM, up to 10 s, then SIGKILL
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$API_PID"
  stop_pid "$REDIS_PID"
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    printf 'bench/api.sh: kept %s\n' "$WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # PORT PID NAME
  local i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

api_log_tail() {
  if [[ -f $WORK/api.log ]]; then
    printf -- '--- last lines of the api log ---\n' >&2
    tail -n 20 "$WORK/api.log" >&2
  fi
}

REDIS_PORT=$(free_port)
API_PORT=$(free_port)
URL="http://127.0.0.1:$API_PORT"

log "starting redis-server on 127.0.0.1:$REDIS_PORT"
mkdir "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$WORK/redis" --protected-mode yes --logfile "$WORK/redis.log" &
REDIS_PID=$!
wait_port "$REDIS_PORT" "$REDIS_PID" || die "redis-server did not start (see $WORK/redis.log)"

# Production defaults except where noted: the bench creates no users, so the
# default (expensive) KDF costs only the one bootstrap and the one login.
cat >"$WORK/ownmail.conf" <<CONF
data_dir = $WORK/data
web_dir = $ROOT/web
hostname = bench.example
api.listen = 127.0.0.1:$API_PORT
redis.host = 127.0.0.1
redis.port = $REDIS_PORT
# one login must outlast both runs, however long BENCH_SECONDS makes them
api.jwt_ttl = 1d
CONF

log "bootstrapping the admin"
"$API_BIN" --config "$WORK/ownmail.conf" bootstrap-admin "$WORK/admin.credentials" \
  >>"$WORK/api.log" 2>&1 || {
  api_log_tail
  die "bootstrap-admin failed"
}
ADMIN_USER=$(cut -d: -f1 "$WORK/admin.credentials")
ADMIN_PASSWORD=$(cut -d: -f2- "$WORK/admin.credentials")

log "starting ownmail-api on $URL"
"$API_BIN" --config "$WORK/ownmail.conf" run >>"$WORK/api.log" 2>&1 &
API_PID=$!
if ! wait_port "$API_PORT" "$API_PID"; then
  api_log_tail
  die "ownmail-api did not start"
fi

# ---- setup through the API --------------------------------------------------

log "logging in as $ADMIN_USER"
LOGIN_BODY=$(ADMIN_USER=$ADMIN_USER ADMIN_PASSWORD=$ADMIN_PASSWORD "$PY" -c '
import json, os
print(json.dumps({"username": os.environ["ADMIN_USER"], "password": os.environ["ADMIN_PASSWORD"]}))')
TOKEN=$(curl -sS --fail-with-body "$URL/api/v1/auth/token" \
  -H 'Content-Type: application/json' --data-binary @- <<<"$LOGIN_BODY" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
  die "login failed"
[[ -n $TOKEN ]] || die "login returned no access_token"
AUTH_HEADER="Authorization: Bearer $TOKEN"

log "creating $DOMAINS domains"
for ((i = 1; i <= DOMAINS; i++)); do
  name=$(printf 'd%03d.bench.example' "$i")
  code=$(curl -sS -o "$WORK/last-response" -w '%{http_code}' "$URL/api/v1/domains" \
    -H "$AUTH_HEADER" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$name\",\"description\":\"bench domain $i\"}")
  if [[ $code != 201 ]]; then
    cat "$WORK/last-response" >&2
    echo >&2
    die "POST /api/v1/domains ($name) answered $code, expected 201"
  fi
done

LIST_PATH="/api/v1/domains?limit=$LIST_LIMIT"
# The page must really hold every domain, or the bench measures something else.
count=$(curl -sS --fail-with-body "$URL$LIST_PATH" -H "$AUTH_HEADER" |
  "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(len(d["items"]))') ||
  die "GET $LIST_PATH failed"
[[ $count == "$DOMAINS" ]] || die "GET $LIST_PATH returned $count domains, expected $DOMAINS"
bytes=$(curl -sS -o /dev/null -w '%{size_download}' "$URL$LIST_PATH" -H "$AUTH_HEADER")
log "GET $LIST_PATH returns $count domains ($bytes bytes)"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/healthz")
[[ $code == 200 ]] || die "GET /healthz answered $code, expected 200"

# ---- load -------------------------------------------------------------------

# run_wrk NAME PATH [wrk options...]: prints wrk's report, sets RPS.
RPS=""
run_wrk() {
  local name=$1 path=$2 out="$WORK/wrk-$1.txt"
  shift 2
  local shown=("${@//Bearer */Bearer <jwt>}")
  log "wrk -t$THREADS -c$CONNS -d${SECONDS_PER_RUN}s --latency ${shown[*]} $URL$path"
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$URL$path" >"$out" 2>&1 || {
    cat "$out" >&2
    die "wrk failed for $name"
  }
  # Ctrl-C reaches wrk (which then exits 0 with partial numbers) and the api.
  kill -0 "$API_PID" 2>/dev/null || die "ownmail-api stopped during the $name run"
  cat "$out"
  if grep -q 'Non-2xx' "$out"; then
    api_log_tail
    die "$name: wrk saw non-2xx responses ($(grep 'Non-2xx' "$out" | sed 's/^ *//'))"
  fi
  if grep -q 'Socket errors' "$out"; then
    log "warning: $name: $(grep 'Socket errors' "$out" | sed 's/^ *//')"
  fi
  RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  [[ $RPS =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$name: no Requests/sec in wrk's output"
  "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$RPS" ||
    die "$name: no request completed"
}

echo "== (a) authenticated GET $LIST_PATH ($DOMAINS domains)"
run_wrk list "$LIST_PATH" -H "$AUTH_HEADER"
LIST_RPS=$RPS
echo
echo "== (b) unauthenticated GET /healthz"
run_wrk healthz /healthz
HEALTH_RPS=$RPS
echo

kill -0 "$API_PID" 2>/dev/null || die "ownmail-api died during the bench"
echo "authenticated list: $LIST_RPS requests/s"
echo "healthz:            $HEALTH_RPS requests/s"
"$PY" -c 'import sys; print("ratio authenticated_list/healthz = %.2f (goal >= 0.5)"
               % (float(sys.argv[1]) / float(sys.argv[2])))' "$LIST_RPS" "$HEALTH_RPS"
