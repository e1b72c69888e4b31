/* The IMAP worker's configuration: its imap.* keys and the shared ones it
 * reads (data_dir, hostname, api.listen, redis.*, throttle.*, tls.*, kdf.*).
 * docs/configuration.md lists them with their defaults. */
#include "imapd.h"

#include "conf.h"
#include "imap_reader.h"

#include <stdio.h>
#include <string.h>

static const char *const config_known[] = {
    "data_dir", "hostname", "api.listen", "redis.host", "redis.port", "throttle.window",
    "throttle.account_max", "throttle.ip_max", "tls.cert", "tls.key", "kdf.user_opslimit",
    "kdf.user_memlimit", "imap.listen", "imap.tls_listen", "imap.metrics_listen", "imap.user",
    "imap.plaintext_loopback", "imap.message_max", "imap.errors_max", "imap.timeout",
    "imap.idle_max", "imap.session_timeout", "imap.connections_max", "imap.connections_per_ip",
    "imap.sessions_per_user", "imap.pool_threads",
    /* read by the other programs sharing the file */
    "web_dir", "api.*", "kdf.*", "domain.*", "smtp.*", "queue.*", "pop3.*", "dav.*", "log.*",
    NULL};

int imapd_config_load(const char *path, imapd_config *cfg, char *errbuf, size_t errlen)
{
    conf *c = NULL;
    conf_error err;
    memset(&err, 0, sizeof(err));
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL && conf_load_file(path, &c, &err) < 0)
        goto fail;
    long long redis_port, errors, conns, per_ip, per_user, threads, idle, idle_max, session, ops;
    uint64_t mem;
    if (conf_unknown_keys(c, config_known, &err) < 0 ||
        conf_get_str_into(c, "data_dir", "/var/lib/ownmail", cfg->data_dir, sizeof cfg->data_dir,
                          &err) < 0 ||
        conf_get_str_into(c, "hostname", "mail.example.net", cfg->hostname, sizeof cfg->hostname,
                          &err) < 0 ||
        conf_get_str_into(c, "imap.listen", "*:143", cfg->listen, sizeof cfg->listen, &err) < 0 ||
        conf_get_str_into(c, "imap.tls_listen", "*:993", cfg->tls_listen, sizeof cfg->tls_listen,
                          &err) < 0 ||
        conf_get_str_into(c, "imap.metrics_listen", "", cfg->metrics_listen,
                          sizeof cfg->metrics_listen, &err) < 0 ||
        conf_get_str_into(c, "tls.cert", "/etc/ownmail/tls/cert.pem", cfg->tls_cert,
                          sizeof cfg->tls_cert, &err) < 0 ||
        conf_get_str_into(c, "tls.key", "/etc/ownmail/tls/key.pem", cfg->tls_key,
                          sizeof cfg->tls_key, &err) < 0 ||
        conf_get_str_into(c, "imap.user", "ownmail", cfg->user, sizeof cfg->user, &err) < 0 ||
        conf_get_str_into(c, "redis.host", "127.0.0.1", cfg->redis_host, sizeof cfg->redis_host,
                          &err) < 0 ||
        conf_get_int(c, "redis.port", 6379, 1, 65535, &redis_port, &err) < 0 ||
        worker_api_addr(c, cfg->api_host, &cfg->api_port, &err) < 0 ||
        conf_get_bool(c, "imap.plaintext_loopback", false, &cfg->plaintext_loopback, &err) < 0 ||
        conf_get_size(c, "imap.message_max", IMAP_APPEND_LITERAL_MAX, 1024, STORE_MSG_MAX / 2,
                      &cfg->message_max, &err) < 0 ||
        conf_get_int(c, "imap.errors_max", 20, 1, 1000, &errors, &err) < 0 ||
        conf_get_duration(c, "imap.timeout", 1800, 60, 86400, &idle, &err) < 0 ||
        conf_get_duration(c, "imap.idle_max", 1800, 60, 86400, &idle_max, &err) < 0 ||
        conf_get_duration(c, "imap.session_timeout", 86400, 60, 7 * 86400, &session, &err) < 0 ||
        conf_get_int(c, "imap.connections_max", 10000, 1, 1000000, &conns, &err) < 0 ||
        conf_get_int(c, "imap.connections_per_ip", 50, 1, 1000000, &per_ip, &err) < 0 ||
        conf_get_int(c, "imap.sessions_per_user", 20, 1, 100000, &per_user, &err) < 0 ||
        conf_get_int(c, "imap.pool_threads", NET_POOL_THREADS_DEFAULT, 1, NET_POOL_THREADS_MAX,
                     &threads, &err) < 0 ||
        conf_get_duration(c, "throttle.window", 900, 1, 86400, &cfg->throttle.window, &err) < 0 ||
        conf_get_int(c, "throttle.account_max", 5, 1, 1000000, &cfg->throttle.account_max, &err) <
            0 ||
        conf_get_int(c, "throttle.ip_max", 50, 1, 1000000, &cfg->throttle.ip_max, &err) < 0 ||
        conf_get_int(c, "kdf.user_opslimit", (long long)KEYS_KDF_DEFAULT.opslimit,
                     (long long)KEYS_KDF_OPSLIMIT_MIN, (long long)KEYS_KDF_OPSLIMIT_MAX, &ops,
                     &err) < 0 ||
        conf_get_size(c, "kdf.user_memlimit", KEYS_KDF_DEFAULT.memlimit, KEYS_KDF_MEMLIMIT_MIN,
                      KEYS_KDF_MEMLIMIT_MAX, &mem, &err) < 0)
        goto fail;
    cfg->kdf.opslimit = (unsigned long long)ops;
    cfg->kdf.memlimit = (size_t)(mem / 1024 * 1024);
    cfg->redis_port = (int)redis_port;
    cfg->errors_max = (unsigned)errors;
    cfg->idle_timeout_ms = (unsigned)idle * 1000;
    cfg->idle_max_ms = (unsigned)idle_max * 1000;
    cfg->session_timeout_ms = (unsigned)session * 1000;
    cfg->conns_max = (unsigned)conns;
    cfg->conns_per_ip_max = (unsigned)per_ip;
    cfg->sessions_per_user = (unsigned)per_user;
    cfg->pool_threads = (unsigned)threads;
    conf_free(&c);
    return 0;
fail:
    conf_error_format(&err, path, errbuf, errlen);
    conf_free(&c);
    return -1;
}
