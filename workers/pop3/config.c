/* The POP3 worker's configuration: its pop3.* keys and the shared ones it
 * reads (data_dir, hostname, api.listen, redis.*, throttle.*, tls.*, kdf.*).
 * docs/configuration.md lists them with their defaults. */
#include "pop3d.h"

#include "conf.h"

#include <stdio.h>
#include <string.h>

static const char *const config_known[] = {
    "data_dir", "hostname", "api.listen", "redis.host", "redis.port", "throttle.window",
    "throttle.account_max", "throttle.ip_max", "tls.cert", "tls.key", "kdf.user_opslimit",
    "kdf.user_memlimit", "pop3.listen", "pop3.tls_listen", "pop3.metrics_listen", "pop3.user",
    "pop3.plaintext_loopback", "pop3.errors_max", "pop3.timeout", "pop3.session_timeout",
    "pop3.connections_max", "pop3.connections_per_ip", "pop3.pool_threads", "pop3.dele",
    /* read by the other programs sharing the file */
    "web_dir", "api.*", "kdf.*", "domain.*", "smtp.*", "queue.*", "imap.*", "dav.*", "log.*", NULL};

static int config_dele(const conf *c, pop3d_config *cfg, conf_error *err)
{
    const char *v = conf_get_str(c, "pop3.dele", "delete");
    if (strcmp(v, "delete") == 0) {
        cfg->dele = POP3D_DELE_DELETE;
    } else if (strcmp(v, "trash") == 0) {
        cfg->dele = POP3D_DELE_TRASH;
    } else {
        snprintf(err->message, sizeof(err->message), "pop3.dele: give delete or trash");
        return -1;
    }
    return 0;
}

int pop3d_config_load(const char *path, pop3d_config *cfg, char *errbuf, size_t errlen)
{
    conf *c = NULL;
    conf_error err;
    memset(&err, 0, sizeof(err));
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL && conf_load_file(path, &c, &err) < 0)
        goto fail;
    long long redis_port, errors, conns, per_ip, threads, idle, session, ops;
    uint64_t mem;
    /* pop3.timeout: RFC 1939 3 wants at least 10 minutes (the default);
     * shorter ones are allowed for tests. */
    if (conf_unknown_keys(c, config_known, &err) < 0 ||
        conf_get_str_into(c, "data_dir", "/var/lib/ownmail", cfg->data_dir, sizeof cfg->data_dir,
                          &err) < 0 ||
        conf_get_str_into(c, "hostname", "mail.example.net", cfg->hostname, sizeof cfg->hostname,
                          &err) < 0 ||
        conf_get_str_into(c, "pop3.listen", "*:110", cfg->listen, sizeof cfg->listen, &err) < 0 ||
        conf_get_str_into(c, "pop3.tls_listen", "*:995", cfg->tls_listen, sizeof cfg->tls_listen,
                          &err) < 0 ||
        conf_get_str_into(c, "pop3.metrics_listen", "", cfg->metrics_listen,
                          sizeof cfg->metrics_listen, &err) < 0 ||
        conf_get_str_into(c, "tls.cert", "/etc/ownmail/tls/cert.pem", cfg->tls_cert,
                          sizeof cfg->tls_cert, &err) < 0 ||
        conf_get_str_into(c, "tls.key", "/etc/ownmail/tls/key.pem", cfg->tls_key,
                          sizeof cfg->tls_key, &err) < 0 ||
        conf_get_str_into(c, "pop3.user", "ownmail", cfg->user, sizeof cfg->user, &err) < 0 ||
        conf_get_str_into(c, "redis.host", "127.0.0.1", cfg->redis_host, sizeof cfg->redis_host,
                          &err) < 0 ||
        conf_get_int(c, "redis.port", 6379, 1, 65535, &redis_port, &err) < 0 ||
        worker_api_addr(c, cfg->api_host, &cfg->api_port, &err) < 0 ||
        conf_get_bool(c, "pop3.plaintext_loopback", false, &cfg->plaintext_loopback, &err) < 0 ||
        config_dele(c, cfg, &err) < 0 ||
        conf_get_int(c, "pop3.errors_max", 10, 1, 1000, &errors, &err) < 0 ||
        conf_get_duration(c, "pop3.timeout", 600, 1, 86400, &idle, &err) < 0 ||
        conf_get_duration(c, "pop3.session_timeout", 3600, 1, 7 * 86400, &session, &err) < 0 ||
        conf_get_int(c, "pop3.connections_max", NET_MAX_CONNS_DEFAULT, 1, 1000000, &conns, &err) <
            0 ||
        conf_get_int(c, "pop3.connections_per_ip", NET_MAX_CONNS_PER_IP_DEFAULT, 1, 1000000,
                     &per_ip, &err) < 0 ||
        conf_get_int(c, "pop3.pool_threads", NET_POOL_THREADS_DEFAULT, 1, NET_POOL_THREADS_MAX,
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
    cfg->session_timeout_ms = (unsigned)session * 1000;
    cfg->conns_max = (unsigned)conns;
    cfg->conns_per_ip_max = (unsigned)per_ip;
    cfg->pool_threads = (unsigned)threads;
    conf_free(&c);
    return 0;
fail:
    conf_error_format(&err, path, errbuf, errlen);
    conf_free(&c);
    return -1;
}
