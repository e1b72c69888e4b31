#!/usr/bin/env bash
# Benchmark (not a test): inbound SMTP (MX) throughput of ownmail-smtp
# against a private Postfix on the same machine.
#
#   tests/bench/smtp.sh
#
# Builds Release ownmail-api and ownmail-smtp in build-bench/ when needed and
# installs what is missing with apt-get (postfix, which brings smtp-source).
# Then, in a throw-away directory and on free loopback ports:
#   (a) a private Postfix instance (its own config_directory, queue_directory
#       and data_directory; never the system one in /etc/postfix) with one
#       smtpd, no relaying, and the domain bench.example as virtual mailbox
#       domain: BENCH_USERS users, each with a Maildir; Postfix's defaults
#       otherwise (it fsyncs its queue file before 250 and each Maildir file);
#   (b) our stack: a private redis-server, ownmail-api (domain bench.example
#       and the same BENCH_USERS users, created over the REST API) and
#       ownmail-smtp (MX port only, no TLS).
# Users get the domain's default quota (domain.default_quota, 1G), as in
# production, so our RCPT runs its quota check. The same load goes to each,
# one after the other: BENCH_USERS smtp-source processes at once, each one
# session (-s 1) sending BENCH_MESSAGES/BENCH_USERS messages of BENCH_SIZE
# octets of body to its own user, one message per connection (as MX traffic
# mostly is; BENCH_REUSE=1 sends them all over one connection, smtp-source -d).
# Ours runs first by default: it deletes no file, while Postfix unlinks a
# queue file per message, and on an ext4 without a journal recently freed
# inodes slow the next file creations down for a minute or more.
# Timed: from the start until the last smtp-source returns ("accepted"). For
# Postfix, "delivered" is when the last message lands in a Maildir (its queue
# then empty); for ours a 250 already means sealed and fsynced into the
# recipient's spool, so accepted = delivered.
# Both sides must hold exactly BENCH_MESSAGES messages afterwards, split
# evenly over the users. The last line is "ours/postfix ratio: X" with
# Postfix's delivered rate (both durable and in the mailbox); the line before
# it compares the accepted rates. Every process it starts is stopped on exit.
#
# Environment:
#   BENCH_MESSAGES      messages in all             (default 10000)
#   BENCH_SIZE          body octets per message     (default 5120, smtp-source -l)
#   BENCH_USERS         users = concurrent sessions (default 20)
#   BENCH_POOL_THREADS  smtp.pool_threads of ours   (default 4, the worker's default)
#   BENCH_REUSE=1       all of a session's messages over one connection
#   BENCH_ORDER         ours,postfix (default) or postfix,ours
#   BENCH_PAUSE         seconds to wait between the two runs (default 0)
#   BENCH_KEEP=1        keep the temporary directory (logs, data) for inspection
#   BENCH_NO_BUILD=1    use build-bench/bin/ownmail-{api,smtp} as they are
#   BENCH_NO_INSTALL=1  never run apt-get (fail instead when something is missing)
#
# Needs: root (Postfix's master runs as root and drops to the postfix user),
# cmake and the build dependencies, redis-server, curl, /usr/bin/python3 (all
# installed by ./setup.sh test) and postfix (installed here when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR="$ROOT/build-bench"
API_BIN="$BUILD_DIR/bin/ownmail-api"
SMTP_BIN="$BUILD_DIR/bin/ownmail-smtp"
PY=/usr/bin/python3

MESSAGES=${BENCH_MESSAGES:-10000}
SIZE=${BENCH_SIZE:-5120}
USERS=${BENCH_USERS:-20}
POOL_THREADS=${BENCH_POOL_THREADS:-4}
ORDER=${BENCH_ORDER:-ours,postfix}
PAUSE=${BENCH_PAUSE:-0}
DOMAIN=bench.example
SENDER=bench@sender.example
START_TIMEOUT=30
DELIVERY_TIMEOUT=600 # seconds Postfix may take to empty its queue after the load

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'bench/smtp.sh: %s\n' "$*" >&2
  exit 1
}

for v in MESSAGES SIZE USERS POOL_THREADS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
[[ $PAUSE =~ ^[0-9]+$ ]] || die "BENCH_PAUSE must be a number of seconds (got '$PAUSE')"
[[ $ORDER == ours,postfix || $ORDER == postfix,ours ]] ||
  die "BENCH_ORDER must be ours,postfix or postfix,ours (got '$ORDER')"
((MESSAGES % USERS == 0)) || die "BENCH_MESSAGES ($MESSAGES) must be a multiple of BENCH_USERS ($USERS)"
((USERS <= 1000)) || die "BENCH_USERS must be at most 1000"
PER_USER=$((MESSAGES / USERS))
SOURCE_OPTS=(-s 1 -m "$PER_USER" -l "$SIZE" -f "$SENDER")
[[ ${BENCH_REUSE:-0} == 1 ]] && SOURCE_OPTS+=(-d)
((EUID == 0)) || die "run as root: a private Postfix needs it (its master drops privileges itself)"

# ---- packages ---------------------------------------------------------------

# Postfix is installed without a configuration ("No configuration"), so the
# package does not set up (nor start) a system mail server on port 25.
install_missing() {
  local missing=() c
  command -v smtp-source >/dev/null && command -v postfix >/dev/null || missing+=(postfix)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  [[ -x $PY ]] || missing+=(python3)
  command -v cmake >/dev/null || missing+=(cmake)
  ((${#missing[@]} > 0)) || return 0
  [[ ${BENCH_NO_INSTALL:-0} != 1 ]] || die "missing: ${missing[*]} (BENCH_NO_INSTALL=1 is set)"
  log "installing ${missing[*]} with apt-get"
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  apt-get update >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    >/dev/null || die "apt-get install ${missing[*]} failed"
  # Should a system instance have been started anyway, it goes: this bench
  # needs none, and it would hold port 25 for nothing.
  if [[ " ${missing[*]} " == *" postfix "* ]] && postfix status >/dev/null 2>&1; then
    log "stopping the system Postfix that the package started"
    postfix stop >/dev/null 2>&1 || true
  fi
  for c in smtp-source postfix postmap redis-server curl cmake; do
    command -v "$c" >/dev/null || die "$c is still missing after apt-get install"
  done
}
install_missing
id postfix >/dev/null 2>&1 || die "no 'postfix' user (the postfix package creates it)"
getent group postdrop >/dev/null || die "no 'postdrop' group (the postfix package creates it)"
id nobody >/dev/null 2>&1 || die "no 'nobody' user (the Maildirs' owner)"

# ---- build ------------------------------------------------------------------

build() {
  # Release, never sanitized: the numbers must be about the code, not ASan.
  # -Wno-error=format-truncation: see tests/bench/api.sh (api/db.c at -O3).
  log "building Release in ${BUILD_DIR#"$ROOT"/}"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DOWNMAIL_SANITIZE=OFF \
    -DOWNMAIL_FUZZ=OFF -DCMAKE_C_FLAGS=-Wno-error=format-truncation \
    >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target ownmail-api ownmail-smtp >/dev/null
}

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  build
fi
[[ -x $API_BIN ]] || die "$API_BIN was not built"
[[ -x $SMTP_BIN ]] || die "$SMTP_BIN was not built"

# ---- processes and cleanup --------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ownmail-smtp-bench.XXXXXX")
# Postfix's delivery agent runs as nobody and must reach WORK/vmail; the
# directory is searchable, not readable, by others. Our data stays 0700 below.
chmod 711 "$WORK"
PF_CONF="$WORK/postfix/conf"
PF_QUEUE="$WORK/postfix/queue"
PF_DATA="$WORK/postfix/data"
VMAIL="$WORK/vmail"
PF_STARTED=0
REDIS_PID=""
API_PID=""
SMTP_PID=""
SOURCE_PIDS=()

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

postfix_stop() {
  local pid="" i
  ((PF_STARTED)) || return 0
  PF_STARTED=0
  [[ -f $PF_QUEUE/pid/master.pid ]] && pid=$(tr -dc 0-9 <"$PF_QUEUE/pid/master.pid")
  postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
  # "postfix stop" only signals the master; wait until it (and so every
  # child) is gone, so that the directory can go too.
  for ((i = 0; i < 100 && ${#pid} > 0; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${SOURCE_PIDS[@]}"; do
    stop_pid "$p"
  done
  stop_pid "$SMTP_PID"
  stop_pid "$API_PID"
  stop_pid "$REDIS_PID"
  postfix_stop
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    printf 'bench/smtp.sh: kept %s\n' "$WORK" >&2
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

# wait_rcpt PORT ADDRESS: true once the server at PORT takes ADDRESS as a
# recipient (a transaction that is reset, never sent). Our worker answers 451
# until its directory snapshot holds the users.
wait_rcpt() {
  "$PY" - "$1" "$2" "$SENDER" "$START_TIMEOUT" <<'PYEOF'
import smtplib, sys, time
port, rcpt, sender, timeout = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
deadline = time.time() + timeout
last = None
while time.time() < deadline:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.ehlo("probe.bench.test")
            s.mail(sender)
            last = s.rcpt(rcpt)
            s.rset()
            if last[0] == 250:
                sys.exit(0)
    except (OSError, smtplib.SMTPException) as e:
        last = e
    time.sleep(0.2)
print(f"RCPT TO:<{rcpt}> not accepted: {last}", file=sys.stderr)
sys.exit(1)
PYEOF
}

now() { date +%s.%N; }

tail_log() { # FILE: its last lines on stderr
  if [[ -f $1 ]]; then
    printf -- '--- last lines of %s ---\n' "${1#"$WORK"/}" >&2
    tail -n 20 "$1" >&2
  fi
}

# run_load NAME PORT LOGFILE: the load, one smtp-source per user; sets ELAPSED
# (seconds from the start until the last smtp-source returned).
ELAPSED=""
T0=""
run_load() {
  local name=$1 port=$2 logfile=$3 i rc failed=0 t0 t1
  log "$name: $USERS x smtp-source ${SOURCE_OPTS[*]} -t userN@$DOMAIN 127.0.0.1:$port"
  sync # what the setup wrote must not be flushed during the run
  SOURCE_PIDS=()
  t0=$(now)
  for ((i = 1; i <= USERS; i++)); do
    smtp-source "${SOURCE_OPTS[@]}" -t "user$i@$DOMAIN" "127.0.0.1:$port" \
      >"$WORK/source-$name-$i.log" 2>&1 &
    SOURCE_PIDS+=("$!")
  done
  for ((i = 0; i < USERS; i++)); do
    rc=0
    wait "${SOURCE_PIDS[i]}" || rc=$?
    if ((rc != 0)); then
      failed=1
      printf 'smtp-source for user%d exited with %d: %s\n' "$((i + 1))" "$rc" \
        "$(tail -n 3 "$WORK/source-$name-$((i + 1)).log")" >&2
    fi
  done
  t1=$(now)
  SOURCE_PIDS=()
  if ((failed)); then
    tail_log "$logfile"
    die "$name: smtp-source failed"
  fi
  ELAPSED=$("$PY" -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1")
  T0=$t0
}

rate() { # COUNT SECONDS
  "$PY" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}

# check_counts NAME DIR...: each DIR must hold PER_USER files; prints nothing.
check_counts() {
  local name=$1 d n total=0
  shift
  (($# == USERS)) || die "$name: $# mailboxes hold mail, expected $USERS"
  for d in "$@"; do
    n=$(find "$d" -maxdepth 1 -type f -name "${PATTERN:-*}" | wc -l)
    ((n == PER_USER)) || die "$name: $d holds $n messages, expected $PER_USER"
    total=$((total + n))
  done
  ((total == MESSAGES)) || die "$name: $total messages in all, expected $MESSAGES"
}

# ---- Postfix ----------------------------------------------------------------

PF_PORT=$(free_port)
log "setting up a private Postfix ($(postconf -d -h mail_version 2>/dev/null || echo "?")) on 127.0.0.1:$PF_PORT"
mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" "$VMAIL"
chmod 755 "$WORK/postfix" "$PF_CONF"
chown postfix "$PF_DATA"
chown nobody:"$(id -gn nobody)" "$VMAIL"
VMAIL_UID=$(id -u nobody)
VMAIL_GID=$(id -g nobody)

# Defaults wherever the bench does not need a setting: in particular fsync of
# the queue file before the 250 and of each Maildir file, default process
# limits (100), in_flow_delay and the virtual delivery agent's concurrency.
cat >"$PF_CONF/main.cf" <<CONF
compatibility_level = 3.6
config_directory = $PF_CONF
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient, reject_unauth_destination
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $VMAIL
virtual_mailbox_maps = hash:$PF_CONF/vmailbox
virtual_uid_maps = static:$VMAIL_UID
virtual_gid_maps = static:$VMAIL_GID
maillog_file = $WORK/postfix.log
maillog_file_prefixes = $WORK
CONF

# One smtpd, on the chosen port; no chroot (it would need copies of /etc).
cat >"$PF_CONF/master.cf" <<CONF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF

for ((i = 1; i <= USERS; i++)); do
  printf 'user%d@%s %s/user%d/\n' "$i" "$DOMAIN" "$DOMAIN" "$i"
done >"$PF_CONF/vmailbox"
postmap -c "$PF_CONF" "hash:$PF_CONF/vmailbox" || die "postmap failed"
postfix -c "$PF_CONF" check >>"$WORK/postfix.check" 2>&1 || {
  tail_log "$WORK/postfix.check"
  die "postfix check failed"
}
PF_STARTED=1
postfix -c "$PF_CONF" start >>"$WORK/postfix.check" 2>&1 || {
  tail_log "$WORK/postfix.check"
  tail_log "$WORK/postfix.log"
  die "postfix start failed"
}
wait_port "$PF_PORT" "" || {
  tail_log "$WORK/postfix.log"
  die "Postfix does not listen on $PF_PORT"
}
wait_rcpt "$PF_PORT" "user1@$DOMAIN" || die "Postfix refuses user1@$DOMAIN"

# ---- our stack --------------------------------------------------------------

REDIS_PORT=$(free_port)
API_PORT=$(free_port)
SMTP_PORT=$(free_port)
URL="http://127.0.0.1:$API_PORT"
DATA="$WORK/data"

log "starting redis-server on 127.0.0.1:$REDIS_PORT"
mkdir -m 700 "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$WORK/redis" --protected-mode yes --logfile "$WORK/redis.log" &
REDIS_PID=$!
wait_port "$REDIS_PORT" "$REDIS_PID" || die "redis-server did not start (see $WORK/redis.log)"

# The cheapest Argon2id costs: RCPT and DATA on the MX port derive no key, and
# users are created faster. The MX port only; no TLS (no certificate there).
# connections_per_ip is raised: every session comes from 127.0.0.1, and with
# a connection per message a closing one may still count when the next opens.
cat >"$WORK/ownmail.conf" <<CONF
data_dir = $DATA
web_dir = $ROOT/web
hostname = ownmail.bench.test
api.listen = 127.0.0.1:$API_PORT
redis.host = 127.0.0.1
redis.port = $REDIS_PORT
kdf.user_opslimit = 1
kdf.user_memlimit = 8K
kdf.admin_opslimit = 1
kdf.admin_memlimit = 8K
tls.cert = $WORK/no-such-cert.pem
tls.key = $WORK/no-such-key.pem
smtp.listen = 127.0.0.1:$SMTP_PORT
smtp.submission_listen =
smtp.submissions_listen =
smtp.user =
smtp.message_max = 1M
smtp.connections_per_ip = 1000
smtp.pool_threads = $POOL_THREADS
CONF

log "bootstrapping the admin"
"$API_BIN" --config "$WORK/ownmail.conf" bootstrap-admin "$WORK/admin.credentials" \
  >>"$WORK/api.log" 2>&1 || {
  tail_log "$WORK/api.log"
  die "bootstrap-admin failed"
}
ADMIN_USER=$(cut -d: -f1 "$WORK/admin.credentials")
ADMIN_PASSWORD=$(cut -d: -f2- "$WORK/admin.credentials")

log "starting ownmail-api on $URL"
"$API_BIN" --config "$WORK/ownmail.conf" run >>"$WORK/api.log" 2>&1 &
API_PID=$!
wait_port "$API_PORT" "$API_PID" || {
  tail_log "$WORK/api.log"
  die "ownmail-api did not start"
}

LOGIN_BODY=$(ADMIN_USER=$ADMIN_USER ADMIN_PASSWORD=$ADMIN_PASSWORD "$PY" -c '
import json, os
print(json.dumps({"username": os.environ["ADMIN_USER"], "password": os.environ["ADMIN_PASSWORD"]}))')
TOKEN=$(curl -sS --fail-with-body "$URL/api/v1/auth/token" \
  -H 'Content-Type: application/json' --data-binary @- <<<"$LOGIN_BODY" |
  "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
  die "login failed"
[[ -n $TOKEN ]] || die "login returned no access_token"

post() { # PATH BODY: expects 201
  local code
  code=$(curl -sS -o "$WORK/last-response" -w '%{http_code}' "$URL$1" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "$2")
  if [[ $code != 201 ]]; then
    cat "$WORK/last-response" >&2
    echo >&2
    die "POST $1 answered $code, expected 201"
  fi
}

log "creating $DOMAIN and $USERS users"
post /api/v1/domains "{\"name\":\"$DOMAIN\"}"
for ((i = 1; i <= USERS; i++)); do
  post "/api/v1/domains/$DOMAIN/users" "{\"local\":\"user$i\",\"password\":\"bench-password-$i\"}"
done

log "starting ownmail-smtp on 127.0.0.1:$SMTP_PORT (smtp.pool_threads = $POOL_THREADS)"
"$SMTP_BIN" --config "$WORK/ownmail.conf" >>"$WORK/smtp.log" 2>&1 &
SMTP_PID=$!
wait_port "$SMTP_PORT" "$SMTP_PID" || {
  tail_log "$WORK/smtp.log"
  die "ownmail-smtp did not start"
}
wait_rcpt "$SMTP_PORT" "user$USERS@$DOMAIN" || {
  tail_log "$WORK/smtp.log"
  die "ownmail-smtp refuses user$USERS@$DOMAIN"
}

# ---- load -------------------------------------------------------------------

bench_postfix() { # sets PF_ACCEPTED, PF_DELIVERED
  local deadline queued delivered last_mtime pf_boxes
  run_load postfix "$PF_PORT" "$WORK/postfix.log"
  PF_ACCEPTED=$ELAPSED
  log "postfix: waiting until every message is in a Maildir"
  deadline=$((SECONDS + DELIVERY_TIMEOUT))
  while :; do
    queued=$(find "$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
      "$PF_QUEUE/deferred" "$PF_QUEUE/hold" -type f 2>/dev/null | wc -l)
    delivered=$(find "$VMAIL" -path '*/new/*' -type f | wc -l)
    ((queued == 0 && delivered >= MESSAGES)) && break
    if ((SECONDS > deadline)); then
      tail_log "$WORK/postfix.log"
      die "postfix: after ${DELIVERY_TIMEOUT}s $delivered delivered, $queued still queued"
    fi
    sleep 0.2
  done
  postqueue -c "$PF_CONF" -p 2>&1 | grep -q 'Mail queue is empty' ||
    die "postfix: postqueue -p does not say the queue is empty"
  # The moment of delivery is the Maildir file's mtime (written in tmp/, then
  # moved to new/); the latest one is when the last message landed.
  last_mtime=$(find "$VMAIL" -path '*/new/*' -type f -printf '%T@\n' | sort -n | tail -n 1)
  last_mtime=$("$PY" -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' \
    "$T0" "$last_mtime")
  log "postfix: the last Maildir file was written at +${last_mtime}s;" \
    "the last smtp-source returned at +${PF_ACCEPTED}s"
  PF_DELIVERED=$("$PY" -c 'import sys; print("%.3f" % max(map(float, sys.argv[1:])))' \
    "$PF_ACCEPTED" "$last_mtime")
  mapfile -t pf_boxes < <(find "$VMAIL/$DOMAIN" -mindepth 2 -maxdepth 2 -type d -name new | sort)
  check_counts postfix "${pf_boxes[@]}"
  ! grep -q 'status=deferred\|status=bounced' "$WORK/postfix.log" ||
    die "postfix: the log shows deferred or bounced deliveries"
  log "postfix: $MESSAGES messages in $USERS Maildirs, queue empty"
  postfix_stop # idle or not, it is no part of the other run
}

bench_ours() { # sets OURS
  local our_boxes leftover
  run_load ours "$SMTP_PORT" "$WORK/smtp.log"
  OURS=$ELAPSED
  kill -0 "$SMTP_PID" 2>/dev/null || die "ownmail-smtp died during the run"
  mapfile -t our_boxes < <(find "$DATA/spool" -mindepth 1 -maxdepth 1 -type d | sort)
  PATTERN='*.msg' check_counts ours "${our_boxes[@]}"
  leftover=$(find "$DATA/spool" -type f ! -name '*.msg' | wc -l)
  ((leftover == 0)) || die "ours: $leftover files in the spool that are not .msg"
  log "ours: $MESSAGES sealed .msg files in $USERS spool directories"
}

echo "== $MESSAGES messages, $SIZE octets of body, $USERS sessions (one per user," \
  "${PER_USER} messages each, $([[ ${BENCH_REUSE:-0} == 1 ]] && echo 'one connection' || echo 'a connection per message')), $(nproc) CPUs"
PF_ACCEPTED=""
PF_DELIVERED=""
OURS=""
first=1
for side in ${ORDER//,/ }; do
  if ((!first && PAUSE > 0)); then
    log "pausing ${PAUSE}s"
    sleep "$PAUSE"
  fi
  first=0
  "bench_$side"
done

# ---- report -----------------------------------------------------------------

PF_ACC_RATE=$(rate "$MESSAGES" "$PF_ACCEPTED")
PF_DEL_RATE=$(rate "$MESSAGES" "$PF_DELIVERED")
OURS_RATE=$(rate "$MESSAGES" "$OURS")
echo "postfix: accepted  $MESSAGES in ${PF_ACCEPTED}s = $PF_ACC_RATE msg/s"
echo "postfix: delivered $MESSAGES in ${PF_DELIVERED}s = $PF_DEL_RATE msg/s (all in the Maildirs)"
echo "ours:    accepted = delivered $MESSAGES in ${OURS}s = $OURS_RATE msg/s (sealed + fsynced in the spool; smtp.pool_threads = $POOL_THREADS)"
# Same message count on both sides: the ratio of rates is that of the times.
"$PY" -c 'import sys; print("accepted-rate ratio ours/postfix: %.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' \
  "$PF_ACCEPTED" "$OURS"
"$PY" -c 'import sys; print("ours/postfix ratio: %.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' \
  "$PF_DELIVERED" "$OURS"
