#!/usr/bin/env bash
# Benchmark (not a test): ownmail-imap against a private Dovecot on the same
# machine, with the same mailbox and the same clients.
#
#   tests/bench/imap.sh
#
# Builds Release ownmail-api and ownmail-imap in build-bench/ when needed and
# installs what is missing with apt-get (dovecot-imapd and dovecot-core,
# isync for mbsync). Then, in a throw-away directory and on free loopback
# ports:
#   (a) a private Dovecot (dovecot -F -c FILE: its own config file, base_dir,
#       state_dir and log file; never /etc/dovecot nor the system service):
#       IMAP only, no TLS, plaintext LOGIN allowed, users in a passwd-file,
#       mail as the user nobody, a Maildir per user (maildir:), Dovecot's
#       defaults otherwise (fsync, index and cache files, imap-login in its
#       default one-process-per-login mode, no imap hibernation), with the
#       zlib plugins of dovecot-core so that it offers COMPRESS=DEFLATE as
#       ours does (mbsync compresses whenever a server offers it); only its
#       process, client and per-user connection limits are raised so that
#       BENCH_IDLE sessions fit, and fs.inotify.max_user_instances (one
#       inotify instance per imap process in IDLE) for the run's duration;
#   (b) our stack: a private redis-server, ownmail-api (domain bench.example
#       and the same users, created over the REST API) and ownmail-imap (a
#       STARTTLS port with a throw-away self-signed certificate, LOGIN in
#       plain text allowed from loopback, no implicit-TLS port, connection
#       and per-user session limits above BENCH_IDLE, the cheapest Argon2id
#       costs as in tests/bench/smtp.sh: a LOGIN is not what is measured).
# The soft file limit is raised to fit the sessions (the hard one must).
# BENCH_USERS users user1..userN@bench.example (LOGIN with the full address,
# password bench-password-N) on both. tests/bench/imap/gen.py
# writes BENCH_MESSAGES messages once (fixed seed: mostly 2-20 KB text/plain
# and multipart/alternative, about one in ten with a 50-500 KB base64
# attachment, real-looking headers, words from a fixed vocabulary); both
# servers get them, in the same order, by IMAP APPEND into user1's INBOX
# (same internal dates and flags); every other user gets the first
# BENCH_OTHER_MESSAGES of them. The fill is not a figure (its time is
# printed as information). Then, for each figure, one server after the other
# (BENCH_ORDER), the other one idle:
#   - mbsync first sync: isync's mbsync pulls user1's INBOX into an empty
#     local Maildir (Sync All, SyncState *, its default fsyncs); the Maildir
#     must then hold BENCH_MESSAGES messages;
#   - mbsync resync: the same mbsync again, nothing changed on either side,
#     BENCH_RESYNC times in a row (the median counts: a run takes well under
#     a second), the first two seconds after the first sync (mbsync sleeps a
#     second when its Maildir changed in the current second);
#   - SEARCH TEXT: one session on user1's INBOX, one warm-up SEARCH TEXT,
#     then BENCH_SEARCH SEARCH TEXT cycling through nine words (common, rare,
#     absent; gen.py --words). Dovecot as installed has no FTS plugin, so it
#     reads and decodes every message for each search (a substring scan):
#     that is the peer as packaged by default. The hit counts of both are
#     printed and should agree (the words are no part of another word);
#   - IDLE memory: BENCH_IDLE sessions spread over the BENCH_USERS users,
#     each LOGIN, SELECT INBOX, IDLE ("+ idling"); after BENCH_SETTLE seconds
#     the memory of the server: for Dovecot all its processes (master, log,
#     config, anvil, auth, stats, imap-login, one imap per session), for ours
#     the ownmail-imap process (and any child), summed from
#     /proc/PID/smaps_rollup; the figure is the growth over the same sum
#     before the sessions opened. RSS counts shared pages (libraries,
#     mmapped index files) once per process, PSS splits them among the
#     processes that share them: fairer to Dovecot's process per session.
# Each figure is printed as "<figure>: ours X, dovecot Y, ratio Z" (ratio =
# ours/dovecot, lower is better; the memory is in MiB) and the last line is
# "worst ours/dovecot ratio: Z (<figure>)", the largest ratio over all
# figures: the goal is that none is above 1. Every process it starts is
# stopped on exit.
#
# Environment:
#   BENCH_MESSAGES        messages in user1's INBOX          (default 10000)
#   BENCH_OTHER_MESSAGES  messages in each other user's INBOX (default 200)
#   BENCH_USERS           users                               (default 10)
#   BENCH_IDLE            concurrent IDLE sessions            (default 1000)
#   BENCH_SEARCH          timed SEARCH TEXT commands          (default 20)
#   BENCH_RESYNC          no-change mbsync runs (the median)  (default 5)
#   BENCH_SETTLE          seconds between the last IDLE and the measure (default 2)
#   BENCH_SEED            seed of the generated mailbox       (default 1)
#   BENCH_ORDER           ours,dovecot (default) or dovecot,ours
#   BENCH_ONLY            dovecot or ours: set up and measure that one only
#                         (no ratio then)
#   BENCH_KEEP=1          keep the temporary directory (logs, data) for inspection
#   BENCH_NO_BUILD=1      use build-bench/bin/ownmail-{api,imap} as they are
#   BENCH_NO_INSTALL=1    never run apt-get (fail instead when something is missing)
#
# Needs: root (Dovecot's master runs as root and drops to its users), cmake
# and the build dependencies, redis-server, curl, openssl, /usr/bin/python3
# (all installed by ./setup.sh test), dovecot-imapd and isync (installed here
# when missing); about 3 GB free in $TMPDIR at the default sizes (the
# mailbox is about 0.4 GB: the generated files, a copy in each server and in
# each mbsync Maildir).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HELPERS="$ROOT/tests/bench/imap"
BUILD_DIR="$ROOT/build-bench"
API_BIN="$BUILD_DIR/bin/ownmail-api"
IMAP_BIN="$BUILD_DIR/bin/ownmail-imap"
PY=/usr/bin/python3

MESSAGES=${BENCH_MESSAGES:-10000}
OTHER_MESSAGES=${BENCH_OTHER_MESSAGES:-200}
USERS=${BENCH_USERS:-10}
IDLE=${BENCH_IDLE:-1000}
SEARCHES=${BENCH_SEARCH:-20}
RESYNCS=${BENCH_RESYNC:-5}
SETTLE=${BENCH_SETTLE:-2}
SEED=${BENCH_SEED:-1}
ORDER=${BENCH_ORDER:-ours,dovecot}
ONLY=${BENCH_ONLY:-}
DOMAIN=bench.example
START_TIMEOUT=30

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'bench/imap.sh: %s\n' "$*" >&2
  exit 1
}

for v in MESSAGES USERS IDLE SEARCHES RESYNCS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
for v in OTHER_MESSAGES SETTLE SEED; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (got '${!v}')"
done
((MESSAGES <= 99999)) || die "BENCH_MESSAGES must be at most 99999"
((OTHER_MESSAGES <= MESSAGES)) || die "BENCH_OTHER_MESSAGES must be at most BENCH_MESSAGES"
((USERS <= 1000)) || die "BENCH_USERS must be at most 1000"
[[ $ORDER == ours,dovecot || $ORDER == dovecot,ours ]] ||
  die "BENCH_ORDER must be ours,dovecot or dovecot,ours (got '$ORDER')"
case $ONLY in
  '') SIDES=${ORDER//,/ } ;;
  ours | dovecot) SIDES=$ONLY ;;
  *) die "BENCH_ONLY must be ours or dovecot (got '$ONLY')" ;;
esac
has_side() { [[ " $SIDES " == *" $1 "* ]]; }
((EUID == 0)) || die "run as root: a private Dovecot needs it (its master drops privileges itself)"

# ---- packages ---------------------------------------------------------------

# Debian's dovecot-core starts the system service where services can start;
# should the install have started one, it is stopped again (the bench needs
# none: its Dovecot is a private instance), and nothing else of it touched.
install_missing() {
  local missing=() c running_before
  command -v dovecot >/dev/null && [[ -e /usr/lib/dovecot/imap ]] ||
    missing+=(dovecot-core dovecot-imapd)
  command -v mbsync >/dev/null || missing+=(isync)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  command -v openssl >/dev/null || missing+=(openssl)
  [[ -x $PY ]] || missing+=(python3)
  command -v cmake >/dev/null || missing+=(cmake)
  ((${#missing[@]} > 0)) || return 0
  [[ ${BENCH_NO_INSTALL:-0} != 1 ]] || die "missing: ${missing[*]} (BENCH_NO_INSTALL=1 is set)"
  running_before=$(pgrep -x dovecot || true)
  log "installing ${missing[*]} with apt-get"
  apt-get update >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed"
  if [[ -z $running_before ]] && pgrep -x dovecot >/dev/null; then
    log "stopping the system Dovecot that the package started"
    dovecot stop >/dev/null 2>&1 || true
  fi
  for c in dovecot doveconf mbsync redis-server curl openssl cmake; do
    command -v "$c" >/dev/null || die "$c is still missing after apt-get install"
  done
}
install_missing
if has_side dovecot; then
  [[ -x /usr/lib/dovecot/imap ]] || die "no /usr/lib/dovecot/imap (the dovecot-imapd package)"
  id dovecot >/dev/null 2>&1 || die "no 'dovecot' user (the dovecot-core package creates it)"
  id dovenull >/dev/null 2>&1 || die "no 'dovenull' user (the dovecot-core package creates it)"
  id nobody >/dev/null 2>&1 || die "no 'nobody' user (the Maildirs' owner)"
fi
# mbsync 1.4 (Debian 12) says SSLType; 1.5 renamed it TLSType.
MBSYNC_VERSION=$(mbsync --version 2>/dev/null | awk '{print $2; exit}')
case $MBSYNC_VERSION in
  1.[0-4].*) TLS_KEY=SSLType ;;
  *) TLS_KEY=TLSType ;;
esac

# ---- build ------------------------------------------------------------------

build() {
  # Release, never sanitized: the numbers must be about the code, not ASan.
  # -Wno-error=format-truncation: see tests/bench/api.sh (api/db.c at -O3).
  log "building Release in ${BUILD_DIR#"$ROOT"/}"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DOWNMAIL_SANITIZE=OFF \
    -DOWNMAIL_FUZZ=OFF -DCMAKE_C_FLAGS=-Wno-error=format-truncation \
    >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target ownmail-api ownmail-imap >/dev/null
}

if has_side ours; then
  if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    build
  fi
  [[ -x $API_BIN ]] || die "$API_BIN was not built"
  [[ -x $IMAP_BIN ]] || die "$IMAP_BIN was not built"
fi

# ---- processes and cleanup --------------------------------------------------

# Every session holds a socket in the client, in the server, and for Dovecot
# a few more (its imap process, the master's and anvil's ends).
need_files=$((IDLE * 2 + 1024))
if [[ $(ulimit -Hn) != unlimited ]] && (($(ulimit -Hn) < need_files)); then
  die "the hard file limit ($(ulimit -Hn)) is below $need_files for $IDLE sessions"
fi
if [[ $(ulimit -n) != unlimited ]] && (($(ulimit -n) < need_files)); then
  ulimit -n "$need_files"
fi

# Each Dovecot imap process in IDLE takes an inotify instance (as the user
# nobody, here); past fs.inotify.max_user_instances (128 by default) it warns
# and falls back to polling. As an admin with that many IDLE users would, the
# bench raises the limit for its run and puts the old value back on exit.
INOTIFY=/proc/sys/fs/inotify/max_user_instances
INOTIFY_OLD=""
if has_side dovecot && [[ -r $INOTIFY ]] && (($(<"$INOTIFY") < IDLE + 256)); then
  INOTIFY_OLD=$(<"$INOTIFY")
  if echo $((IDLE + 256)) 2>/dev/null >"$INOTIFY"; then
    log "fs.inotify.max_user_instances raised from $INOTIFY_OLD to $((IDLE + 256)) for the run"
  else
    log "cannot raise fs.inotify.max_user_instances ($INOTIFY_OLD): Dovecot's IDLE" \
      "sessions beyond it poll instead of using inotify"
    INOTIFY_OLD=""
  fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ownmail-imap-bench.XXXXXX")
# Dovecot's processes run as nobody, dovecot and dovenull and must reach their
# directories under WORK; it is searchable, not readable, by others.
chmod 711 "$WORK"
DV="$WORK/dovecot"
DV_CONF="$DV/dovecot.conf"
DV_PID=""
REDIS_PID=""
API_PID=""
IMAP_PID=""

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
  stop_pid "$IMAP_PID"
  stop_pid "$API_PID"
  stop_pid "$REDIS_PID"
  # Dovecot's master (in the foreground, -F) stops its children on SIGTERM.
  stop_pid "$DV_PID"
  [[ -z $INOTIFY_OLD ]] || echo "$INOTIFY_OLD" >"$INOTIFY" || true
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    printf 'bench/imap.sh: kept %s\n' "$WORK" >&2
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

wait_port() { # PORT PID|"" : true once something accepts on PORT
  local i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    [[ -z $2 ]] || kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

now() { date +%s.%N; }
elapsed() { # T0 T1
  "$PY" -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"
}

tail_log() { # FILE: its last lines on stderr
  if [[ -f $1 ]]; then
    printf -- '--- last lines of %s ---\n' "${1#"$WORK"/}" >&2
    tail -n 20 "$1" >&2
  fi
}

client() { "$PY" "$HELPERS/client.py" "$@"; }
password() { printf 'bench-password-%s' "$1"; }

# ---- the mailbox ------------------------------------------------------------

log "generating $MESSAGES messages (seed $SEED)"
read -r _ MAIL_BYTES < <("$PY" "$HELPERS/gen.py" "$WORK/messages" "$MESSAGES" "$SEED") ||
  die "gen.py failed"
[[ -n ${MAIL_BYTES:-} ]] || die "gen.py failed"
mapfile -t WORDS < <("$PY" "$HELPERS/gen.py" --words)
WARMUP=${WORDS[0]}
WORDS=("${WORDS[@]:1}")

# ---- Dovecot ----------------------------------------------------------------

start_dovecot() {
  local uid gid i
  DV_PORT=$(free_port)
  log "setting up a private Dovecot ($(dovecot --version 2>/dev/null || echo "?")) on 127.0.0.1:$DV_PORT"
  mkdir -p "$DV/run" "$DV/state" "$DV/mail"
  chmod 755 "$DV"
  uid=$(id -u nobody)
  gid=$(id -g nobody)
  chown nobody:"$(id -gn nobody)" "$DV/mail"
  for ((i = 1; i <= USERS; i++)); do
    printf 'user%d@%s:{PLAIN}%s\n' "$i" "$DOMAIN" "$(password "$i")"
  done >"$DV/users"
  chown root:dovecot "$DV/users"
  chmod 640 "$DV/users"
  # Limits: one imap process per session (client_limit 1 is the default),
  # BENCH_IDLE of them at once plus slack; the auth, anvil and master
  # services' client limits follow default_client_limit.
  cat >"$DV_CONF" <<CONF
# Private benchmark instance (tests/bench/imap.sh); Dovecot's defaults unless said.
protocols = imap
listen = 127.0.0.1
base_dir = $DV/run
state_dir = $DV/state
instance_name = ownmail-bench-dovecot
log_path = $WORK/dovecot.log
info_log_path = $WORK/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DV/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$DV/mail/%d/%n
}
mail_location = maildir:$DV/mail/%d/%n/Maildir
# COMPRESS=DEFLATE, as ours offers it (mbsync uses it when offered): the
# zlib plugins of dovecot-core, so both sides do the same work.
mail_plugins = \$mail_plugins zlib
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib
}
first_valid_uid = $uid
first_valid_gid = $gid
mail_max_userip_connections = $((IDLE + 10))
default_process_limit = $((IDLE + 100))
default_client_limit = $((IDLE * 2 + 1000))
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DV_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = $((IDLE + 100))
}
CONF
  doveconf -c "$DV_CONF" -n >"$DV/doveconf.out" 2>&1 || {
    tail_log "$DV/doveconf.out"
    die "doveconf rejects $DV_CONF"
  }
  dovecot -F -c "$DV_CONF" >>"$WORK/dovecot.out" 2>&1 &
  DV_PID=$!
  wait_port "$DV_PORT" "$DV_PID" || {
    tail_log "$WORK/dovecot.out"
    tail_log "$WORK/dovecot.log"
    die "Dovecot does not listen on $DV_PORT"
  }
  client wait "$DV_PORT" "user1@$DOMAIN" "$(password 1)" "$START_TIMEOUT" || {
    tail_log "$WORK/dovecot.log"
    die "Dovecot refuses user1@$DOMAIN"
  }
  if grep -q 'Warning' "$WORK/dovecot.log"; then
    log "Dovecot warns:"
    grep 'Warning' "$WORK/dovecot.log" | sort -u | head -n 10 >&2
  fi
}

# ---- our stack --------------------------------------------------------------

start_ours() {
  local redis_port api_port url data login_body token admin_user admin_password i
  redis_port=$(free_port)
  api_port=$(free_port)
  OURS_PORT=$(free_port)
  url="http://127.0.0.1:$api_port"
  data="$WORK/data"

  log "starting redis-server on 127.0.0.1:$redis_port"
  mkdir -m 700 "$WORK/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$WORK/redis" --protected-mode yes --logfile "$WORK/redis.log" &
  REDIS_PID=$!
  wait_port "$redis_port" "$REDIS_PID" || die "redis-server did not start (see $WORK/redis.log)"

  # imap.listen is a STARTTLS port: it gets a throw-away certificate, though
  # the bench logs in without TLS (imap.plaintext_loopback).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=ownmail.bench.test -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    >/dev/null 2>&1 || die "openssl could not make a certificate"
  chmod 600 "$WORK/key.pem"

  # The cheapest Argon2id costs, as in tests/bench/smtp.sh: users are created
  # faster, and a LOGIN (which unwraps the user's store key) is not what is
  # measured. Connection limits above the IDLE sessions.
  cat >"$WORK/ownmail.conf" <<CONF
data_dir = $data
web_dir = $ROOT/web
hostname = ownmail.bench.test
api.listen = 127.0.0.1:$api_port
redis.host = 127.0.0.1
redis.port = $redis_port
kdf.user_opslimit = 1
kdf.user_memlimit = 8K
kdf.admin_opslimit = 1
kdf.admin_memlimit = 8K
tls.cert = $WORK/cert.pem
tls.key = $WORK/key.pem
imap.listen = 127.0.0.1:$OURS_PORT
imap.tls_listen =
imap.plaintext_loopback = true
imap.user =
imap.connections_max = $((IDLE + 100))
imap.connections_per_ip = $((IDLE + 100))
imap.sessions_per_user = $((IDLE + 10))
imap.message_max = 10M
CONF

  log "bootstrapping the admin"
  "$API_BIN" --config "$WORK/ownmail.conf" bootstrap-admin "$WORK/admin.credentials" \
    >>"$WORK/api.log" 2>&1 || {
    tail_log "$WORK/api.log"
    die "bootstrap-admin failed"
  }
  admin_user=$(cut -d: -f1 "$WORK/admin.credentials")
  admin_password=$(cut -d: -f2- "$WORK/admin.credentials")

  log "starting ownmail-api on $url"
  "$API_BIN" --config "$WORK/ownmail.conf" run >>"$WORK/api.log" 2>&1 &
  API_PID=$!
  wait_port "$api_port" "$API_PID" || {
    tail_log "$WORK/api.log"
    die "ownmail-api did not start"
  }

  login_body=$(ADMIN_USER=$admin_user ADMIN_PASSWORD=$admin_password "$PY" -c '
import json, os
print(json.dumps({"username": os.environ["ADMIN_USER"], "password": os.environ["ADMIN_PASSWORD"]}))')
  token=$(curl -sS --fail-with-body "$url/api/v1/auth/token" \
    -H 'Content-Type: application/json' --data-binary @- <<<"$login_body" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
    die "login failed"
  [[ -n $token ]] || die "login returned no access_token"

  post() { # PATH BODY: expects 201
    local code
    code=$(curl -sS -o "$WORK/last-response" -w '%{http_code}' "$url$1" \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary "$2")
    if [[ $code != 201 ]]; then
      cat "$WORK/last-response" >&2
      echo >&2
      die "POST $1 answered $code, expected 201"
    fi
  }

  log "creating $DOMAIN and $USERS users"
  post /api/v1/domains "{\"name\":\"$DOMAIN\"}"
  for ((i = 1; i <= USERS; i++)); do
    post "/api/v1/domains/$DOMAIN/users" "{\"local\":\"user$i\",\"password\":\"$(password "$i")\"}"
  done

  log "starting ownmail-imap on 127.0.0.1:$OURS_PORT"
  "$IMAP_BIN" --config "$WORK/ownmail.conf" >>"$WORK/imap.log" 2>&1 &
  IMAP_PID=$!
  wait_port "$OURS_PORT" "$IMAP_PID" || {
    tail_log "$WORK/imap.log"
    die "ownmail-imap did not start"
  }
  # Its directory snapshot may not hold the users yet.
  client wait "$OURS_PORT" "user$USERS@$DOMAIN" "$(password "$USERS")" "$START_TIMEOUT" || {
    tail_log "$WORK/imap.log"
    die "ownmail-imap refuses user$USERS@$DOMAIN"
  }
}

# ---- the figures ------------------------------------------------------------

port_of() { if [[ $1 == ours ]]; then echo "$OURS_PORT"; else echo "$DV_PORT"; fi; }
pid_of() { if [[ $1 == ours ]]; then echo "$IMAP_PID"; else echo "$DV_PID"; fi; }
log_of() { if [[ $1 == ours ]]; then echo "$WORK/imap.log"; else echo "$WORK/dovecot.log"; fi; }

alive() { # SIDE: the server still runs
  kill -0 "$(pid_of "$1")" 2>/dev/null || {
    tail_log "$(log_of "$1")"
    die "$1: the server died"
  }
}

declare -A RESULT # [side:figure] = value

fill() { # SIDE
  local side=$1 port secs i n pid pids
  port=$(port_of "$side")
  log "$side: APPEND of $MESSAGES messages to user1"
  secs=$(client fill "$port" "user1@$DOMAIN" "$(password 1)" "$WORK/messages" "$MESSAGES") || {
    tail_log "$(log_of "$side")"
    die "$side: the fill failed"
  }
  log "$side: user1 filled in ${secs}s"
  RESULT[$side:fill]=$secs
  if ((OTHER_MESSAGES > 0 && USERS > 1)); then
    log "$side: APPEND of $OTHER_MESSAGES messages to each of user2..user$USERS"
    pids=()
    for ((i = 2; i <= USERS; i++)); do
      client fill "$port" "user$i@$DOMAIN" "$(password "$i")" "$WORK/messages" \
        "$OTHER_MESSAGES" >/dev/null &
      pids+=("$!")
    done
    n=0
    for pid in "${pids[@]}"; do
      wait "$pid" || n=$((n + 1))
    done
    ((n == 0)) || {
      tail_log "$(log_of "$side")"
      die "$side: $n fills of the other users failed"
    }
  fi
}

mbsync_rc() { # SIDE: writes WORK/mbsync-SIDE.rc for user1, near Maildir WORK/mbsync-SIDE/
  local side=$1 near="$WORK/mbsync-$1"
  mkdir -p "$near"
  cat >"$WORK/mbsync-$side.rc" <<RC
IMAPAccount far
Host 127.0.0.1
Port $(port_of "$side")
User user1@$DOMAIN
Pass $(password 1)
$TLS_KEY None
AuthMechs LOGIN

IMAPStore far
Account far

MaildirStore near
Path $near/
Inbox $near/INBOX
SubFolders Verbatim

Channel bench
Far :far:
Near :near:
Patterns INBOX
Create Near
Sync All
SyncState *
RC
}

MBSYNC_SECS=""
run_mbsync() { # SIDE: one mbsync run, its time in MBSYNC_SECS
  local side=$1 t0 t1 n
  sync # what was written before must not be flushed during the run
  t0=$(now)
  mbsync -c "$WORK/mbsync-$side.rc" -a >>"$WORK/mbsync-$side.log" 2>&1 || {
    tail_log "$WORK/mbsync-$side.log"
    tail_log "$(log_of "$side")"
    die "$side: mbsync failed"
  }
  t1=$(now)
  MBSYNC_SECS=$(elapsed "$t0" "$t1")
  alive "$side"
  n=$(find "$WORK/mbsync-$side/INBOX/cur" "$WORK/mbsync-$side/INBOX/new" -type f | wc -l)
  ((n == MESSAGES)) || die "$side: mbsync's Maildir holds $n messages, expected $MESSAGES"
}

fig_mbsync_first() {
  mbsync_rc "$1"
  run_mbsync "$1"
  RESULT[$1:mbsync_first]=$MBSYNC_SECS
  log "$1: mbsync first sync ${MBSYNC_SECS}s ($MESSAGES messages in its Maildir)"
}

fig_mbsync_resync() {
  local side=$1 i times=()
  # mbsync's Maildir driver sleeps a second when the directory changed in
  # the current second (its timestamps' granularity): not what is measured.
  sleep 2
  for ((i = 0; i < RESYNCS; i++)); do
    run_mbsync "$side"
    times+=("$MBSYNC_SECS")
  done
  RESULT[$side:mbsync_resync]=$("$PY" -c 'import statistics, sys; print("%.3f" % statistics.median(map(float, sys.argv[1:])))' "${times[@]}")
  log "$side: mbsync resync ${times[*]} s, median ${RESULT[$side:mbsync_resync]}s"
}

fig_search() { # SIDE
  local side=$1 out
  out=$(client search "$(port_of "$side")" "user1@$DOMAIN" "$(password 1)" "$SEARCHES" \
    "$WARMUP" "${WORDS[@]}") || {
    tail_log "$(log_of "$side")"
    die "$side: SEARCH failed"
  }
  alive "$side"
  RESULT[$side:search]=$(head -n 1 <<<"$out")
  RESULT[$side:hits]=$(tail -n +2 <<<"$out" | tr '\n' ' ' | sed 's/ $//')
  log "$side: $SEARCHES x SEARCH TEXT in ${RESULT[$side:search]}s (hits: ${RESULT[$side:hits]})"
}

fig_idle() { # SIDE
  local side=$1 rss0 rss1 pss0 pss1 n0 n1
  sync
  read -r rss0 rss1 pss0 pss1 n0 n1 < <(client idle "$(port_of "$side")" "$(pid_of "$side")" \
    "$IDLE" "$USERS" "bench-password-{}" "$SETTLE") || true
  [[ -n ${n1:-} ]] || {
    tail_log "$(log_of "$side")"
    die "$side: the IDLE sessions failed"
  }
  alive "$side"
  RESULT[$side:idle_rss]=$(mib $((rss1 - rss0)))
  RESULT[$side:idle_pss]=$(mib $((pss1 - pss0)))
  if [[ $side == dovecot ]] && grep -q 'Warning' "$WORK/dovecot.log"; then
    log "Dovecot warned:"
    grep -o 'Warning: .*' "$WORK/dovecot.log" | sort | uniq -c | sort -rn | head -n 5 >&2
  fi
  log "$side: $IDLE IDLE sessions: RSS $(mib "$rss0") -> $(mib "$rss1") MiB," \
    "PSS $(mib "$pss0") -> $(mib "$pss1") MiB, $n0 -> $n1 processes"
}

mib() { "$PY" -c 'import sys; print("%.1f" % (int(sys.argv[1]) / 1024))' "$1"; }

# ---- run --------------------------------------------------------------------

echo "== $MESSAGES messages ($((MAIL_BYTES / 1048576)) MiB) in user1's INBOX," \
  "$OTHER_MESSAGES in each of $((USERS - 1)) other users'; $IDLE IDLE sessions;" \
  "$SEARCHES SEARCH TEXT; mbsync $MBSYNC_VERSION; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for side in $SIDES; do
  "start_$side"
done
for side in $SIDES; do
  fill "$side"
done
for figure in mbsync_first mbsync_resync search idle; do
  for side in $SIDES; do
    "fig_$figure" "$side"
  done
done

# ---- report -----------------------------------------------------------------

for side in $SIDES; do
  echo "info: $side: fill of user1 by APPEND ${RESULT[$side:fill]}s; SEARCH hits: ${RESULT[$side:hits]}"
done
if [[ -z $ONLY && ${RESULT[ours:hits]} != "${RESULT[dovecot:hits]}" ]]; then
  echo "info: the SEARCH hit counts differ between ours and dovecot"
fi

# One line per figure; the ratio ours/dovecot when both ran, then the worst.
{
  for f in "mbsync first sync (s):mbsync_first" "mbsync no-change resync, median (s):mbsync_resync" \
    "$SEARCHES x SEARCH TEXT (s):search" "$IDLE IDLE sessions, RSS growth (MiB):idle_rss" \
    "$IDLE IDLE sessions, PSS growth (MiB):idle_pss"; do
    printf '%s\t%s\t%s\n' "${f%:*}" "${RESULT[ours:${f##*:}]:--}" "${RESULT[dovecot:${f##*:}]:--}"
  done
} | "$PY" -c '
import sys
worst = None
for line in sys.stdin:
    name, ours, dovecot = line.rstrip("\n").split("\t")
    if ours == "-" or dovecot == "-":
        print(f"{name}: ours {ours}, dovecot {dovecot}")
        continue
    o, d = float(ours), float(dovecot)
    ratio = o / d if d > 0 else (1.0 if o <= 0 else float("inf"))
    r = f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"
    print(f"{name}: ours {ours}, dovecot {dovecot}, ratio {r}")
    if worst is None or ratio > worst[0]:
        worst = (ratio, name)
if worst is None:
    print("worst ours/dovecot ratio: n/a (one side only)")
else:
    r = f"{worst[0]:.2f}" if worst[0] >= 0.1 else f"{worst[0]:.2g}"
    print(f"worst ours/dovecot ratio: {r} ({worst[1]})")
'
