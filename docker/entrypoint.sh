#!/bin/sh
# Container entrypoint of ownmail-api (see docker/Dockerfile).
#
#   run (default)  create the first global admin if there is none yet, writing
#                  "admin:<password>" to $OWNMAIL_CREDENTIALS (mode 0600, on
#                  the data volume), then exec the api as PID 1
#   anything else  passed to ownmail-api, e.g. "check-config"
#
# Environment:
#   OWNMAIL_CONFIG       configuration file (default /etc/ownmail/ownmail.conf)
#   OWNMAIL_CREDENTIALS  where the bootstrap credentials go
#                        (default /var/lib/ownmail/admin.credentials; keep it on
#                        the data volume, next to data_dir)
set -eu

CONFIG=${OWNMAIL_CONFIG:-/etc/ownmail/ownmail.conf}
CREDENTIALS=${OWNMAIL_CREDENTIALS:-/var/lib/ownmail/admin.credentials}
API=/usr/bin/ownmail-api

# Everything the api creates (control.db, keys/, the credentials) is private.
umask 077

die() {
  printf 'ownmail-entrypoint: %s\n' "$*" >&2
  exit 1
}

if [ ! -f "$CONFIG" ] || [ ! -r "$CONFIG" ]; then
  die "cannot read $CONFIG: mount a configuration file there (start from ownmail.conf.example)"
fi

if [ "$#" -eq 0 ]; then
  set -- run
fi

if [ "$1" != run ]; then
  exec "$API" --config "$CONFIG" "$@"
fi

# Idempotent: with an admin in control.db the api leaves everything alone and
# writes no file, so this runs on every start (it also applies pending
# control.db migrations before the server starts).
existed=no
if [ -e "$CREDENTIALS" ]; then
  existed=yes
fi
"$API" --config "$CONFIG" bootstrap-admin "$CREDENTIALS" ||
  die "bootstrap-admin failed (is the data volume writable by uid $(id -u)?)"
if [ "$existed" = no ] && [ -e "$CREDENTIALS" ]; then
  chmod 0600 "$CREDENTIALS"
  printf 'ownmail-entrypoint: first start: the admin credentials are in %s (mode 0600);\n' \
    "$CREDENTIALS" >&2
  printf 'ownmail-entrypoint: log in, change the password, then delete that file\n' >&2
fi

exec "$API" --config "$CONFIG" run
