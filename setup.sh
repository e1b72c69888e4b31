#!/usr/bin/env bash
# ownmail setup.
#   ./setup.sh dev    install what is missing, build, run the whole stack on loopback
#   ./setup.sh test   install what is missing, build with sanitizers, run every test
# With no argument it will become the production installer menu (not built yet).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

# Debian 12 packages: what the build and the running stack need...
APT_BUILD=(
  build-essential cmake pkg-config
  libcivetweb-dev libcjson-dev libssl-dev libsqlite3-dev libsodium-dev
  libhiredis-dev libjwt-dev libidn2-dev libcmocka-dev libunbound-dev zlib1g-dev
  redis-server sqlite3 openssl curl python3
)
# ...and what the tests add: clang and libFuzzer, the integration tests'
# Python modules, shellcheck, wrk for the benchmark, Chromium for the admin UI.
APT_TEST=(
  clang libclang-rt-14-dev python3-yaml python3-jsonschema shellcheck wrk chromium swaks dnsmasq-base
  isync offlineimap3 curl neomutt tmux fetchmail getmail6 mpop
)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

install_missing() { # PACKAGE...
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}): run as root, or install them"
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

build() { # build DIR [cmake options...]
  local dir=$1
  shift
  log "building in $dir"
  cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$ROOT/$dir" -j "$(nproc)"
}

wait_http() { # URL SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

write_dev_config() {
  local conf=$1 data=$2
  if [[ ! -f $conf ]]; then
    cat >"$conf" <<CONF
# ownmail development configuration (docs/configuration.md lists every key).
data_dir = $data
web_dir = $ROOT/web
hostname = mail.localhost
api.listen = 127.0.0.1:8080
redis.host = 127.0.0.1
redis.port = 6380
CONF
  fi
  # The workers' block (added to a configuration made before they existed).
  grep -q '^smtp.listen' "$conf" || cat >>"$conf" <<CONF
tls.cert = $ROOT/var/dev/tls/cert.pem
tls.key = $ROOT/var/dev/tls/key.pem
smtp.listen = 127.0.0.1:2525
smtp.submission_listen = 127.0.0.1:5870
smtp.submissions_listen = 127.0.0.1:4650
smtp.metrics_listen = 127.0.0.1:9125
smtp.user =
CONF
  grep -q '^imap.listen' "$conf" || cat >>"$conf" <<CONF
imap.listen = 127.0.0.1:1143
imap.tls_listen = 127.0.0.1:9930
imap.metrics_listen = 127.0.0.1:9143
imap.user =
imap.plaintext_loopback = true
CONF
  grep -q '^pop3.listen' "$conf" || cat >>"$conf" <<CONF
pop3.listen = 127.0.0.1:1110
pop3.tls_listen = 127.0.0.1:9950
pop3.metrics_listen = 127.0.0.1:9110
pop3.user =
pop3.plaintext_loopback = true
CONF
}

# A self-signed certificate for the dev TLS ports (kept across runs).
dev_cert() {
  local dir=$1
  [[ -f $dir/cert.pem ]] && return
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=mail.localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  chmod 600 "$dir/key.pem"
}

cmd_dev() {
  install_missing "${APT_BUILD[@]}"
  build build
  local var="$ROOT/var/dev"
  mkdir -p "$var/redis"
  chmod 700 "$var"
  write_dev_config "$var/ownmail.conf" "$var/data"
  dev_cert "$var/tls"

  local pids=()
  # shellcheck disable=SC2317  # invoked by the trap
  stop_all() {
    trap - INT TERM EXIT
    log "stopping"
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
  }
  trap stop_all INT TERM EXIT

  redis-server --port 6380 --bind 127.0.0.1 --dir "$var/redis" --appendonly yes \
    --save "" --logfile "$var/redis.log" &
  pids+=($!)

  "$ROOT/build/bin/ownmail-api" --config "$var/ownmail.conf" bootstrap-admin "$var/admin.credentials"
  "$ROOT/build/bin/ownmail-api" --config "$var/ownmail.conf" run 2>>"$var/api.log" &
  pids+=($!)
  wait_http http://127.0.0.1:8080/healthz 30 || die "the api did not start; see $var/api.log"

  "$ROOT/build/bin/ownmail-smtp" --config "$var/ownmail.conf" 2>>"$var/smtp.log" &
  pids+=($!)
  "$ROOT/build/bin/ownmail-imap" --config "$var/ownmail.conf" 2>>"$var/imap.log" &
  pids+=($!)
  "$ROOT/build/bin/ownmail-pop3" --config "$var/ownmail.conf" 2>>"$var/pop3.log" &
  pids+=($!)

  cat <<INFO

ownmail is running (Ctrl-C stops everything; data stays in var/dev):
  api + admin UI   http://127.0.0.1:8080/        (REST under /api/v1, health /healthz, /metrics)
  smtp MX          127.0.0.1:2525
  submission       127.0.0.1:5870 (STARTTLS), 127.0.0.1:4650 (implicit TLS); self-signed
                   certificate in var/dev/tls; worker counters http://127.0.0.1:9125/metrics
  imap             127.0.0.1:1143 (STARTTLS; LOGIN in plaintext allowed from loopback),
                   127.0.0.1:9930 (implicit TLS); counters http://127.0.0.1:9143/metrics
  pop3             127.0.0.1:1110 (STLS; USER/PASS in plaintext allowed from loopback),
                   127.0.0.1:9950 (implicit TLS); counters http://127.0.0.1:9110/metrics
  redis            127.0.0.1:6380
  admin login      var/dev/admin.credentials     (user:password)
  logs             var/dev/api.log, var/dev/smtp.log, var/dev/imap.log, var/dev/pop3.log,
                   var/dev/redis.log

  TOKEN=\$(curl -s http://127.0.0.1:8080/api/v1/auth/token -H 'Content-Type: application/json' \\
      -d "{\"username\":\"admin\",\"password\":\"\$(cut -d: -f2- var/dev/admin.credentials)\"}" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s http://127.0.0.1:8080/api/v1/domains -H "Authorization: Bearer \$TOKEN"
INFO
  wait -n "${pids[@]}" || true
  die "a service stopped; see var/dev/*.log"
}

cmd_test() {
  local node=()
  # The OpenAPI lint and the browser test run on Node.js; keep a newer one if
  # the machine has it.
  command -v node >/dev/null && command -v npm >/dev/null || node=(nodejs npm)
  install_missing "${APT_BUILD[@]}" "${APT_TEST[@]}" "${node[@]}"
  # The test build: clang with AddressSanitizer + UBSan, and the libFuzzer harnesses.
  CC=clang build build-test -DOWNMAIL_SANITIZE=ON -DOWNMAIL_FUZZ=ON
  log "running the tests"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir "$ROOT/build-test" --output-on-failure -j "$(nproc)" --timeout 900
}

case "${1:-}" in
  dev) cmd_dev ;;
  test) cmd_test ;;
  "")
    die "the production installer is not built yet; use './setup.sh dev' or './setup.sh test'" ;;
  *) die "unknown command '$1' (dev, test)" ;;
esac
