/* app: what every request handler of the api can reach. Passed explicitly. */
#ifndef OWNMAIL_API_APP_H
#define OWNMAIL_API_APP_H

#include "keys.h"
#include "netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct app_config {
    char data_dir[1024];
    char web_dir[1024];
    char listen[128];   /* host:port for CivetWeb */
    char hostname[256]; /* the mail host name published in DNS records */
    char redis_host[256];
    int redis_port;
    long long threads;
    long long jwt_ttl;         /* seconds */
    long long jwt_max_session; /* seconds since login that refresh still accepts */
    long long body_max;        /* bytes */
    long long throttle_window; /* seconds */
    long long throttle_account_max;
    long long throttle_ip_max;
    long long default_quota;                          /* bytes, for new domains */
    keys_kdf_params kdf_user;                         /* wraps of store keys */
    keys_kdf_params kdf_admin;                        /* admin password hashes */
    netaddr_prefix trusted_proxies[NETADDR_LIST_MAX]; /* whose X-Forwarded-For counts */
    int ntrusted_proxies;
} app_config;

typedef struct app {
    app_config cfg;
    keys_secret *jwt_key;       /* HS256 key, keys/jwt.key */
    keys_secret *worker_secret; /* keys/worker.secret, for /internal */
    keys_secret *server_key;    /* keys/server.key, seals DKIM private keys */
    unsigned char *dummy_wrap;  /* a wrap nobody can open, for unknown users */
    size_t dummy_wrap_len;
    char db_path[1100];
} app;

#endif
