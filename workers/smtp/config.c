/* The SMTP worker's configuration: its smtp.* keys and the shared ones it
 * reads (data_dir, hostname, api.listen, redis.*, throttle.*, tls.*).
 * docs/configuration.md lists them with their defaults. */
#include "smtpd.h"

#include "conf.h"
#include "worker.h"

#include <stdio.h>
#include <string.h>

static const char *const config_known[] = {
    "data_dir", "hostname", "api.listen", "redis.host", "redis.port", "throttle.window",
    "throttle.account_max", "throttle.ip_max", "tls.cert", "tls.key", "smtp.listen",
    "smtp.submission_listen", "smtp.submissions_listen", "smtp.metrics_listen", "smtp.user",
    "smtp.message_max", "smtp.recipients_max", "smtp.errors_max", "smtp.timeout",
    "smtp.session_timeout", "smtp.connections_max", "smtp.connections_per_ip", "smtp.pool_threads",
    "smtp.disabled_user", "smtp.line_max", "smtp.postmaster",
    /* read by the other programs sharing the file */
    "web_dir", "api.*", "kdf.*", "domain.*", "imap.*", "pop3.*", "dav.*", "log.*", NULL};

/* The worker's keys and lib/queue's (queue_config_keys), as one list. */
static int config_unknown(const conf *c, conf_error *err)
{
    const char *known[128];
    size_t n = 0;
    for (size_t i = 0; config_known[i] != NULL && n + 1 < 128; i++)
        known[n++] = config_known[i];
    for (size_t i = 0; queue_config_keys[i] != NULL && n + 1 < 128; i++)
        known[n++] = queue_config_keys[i];
    known[n] = NULL;
    return conf_unknown_keys(c, known, err);
}

static int config_disabled(const conf *c, smtpd_config *cfg, conf_error *err)
{
    const char *v = conf_get_str(c, "smtp.disabled_user", "reject");
    if (strcmp(v, "reject") == 0) {
        cfg->disabled = SMTPD_DISABLED_REJECT;
    } else if (strcmp(v, "defer") == 0) {
        cfg->disabled = SMTPD_DISABLED_DEFER;
    } else {
        snprintf(err->message, sizeof(err->message), "smtp.disabled_user: give reject or defer");
        return -1;
    }
    return 0;
}

int smtpd_config_load(const char *path, smtpd_config *cfg, char *errbuf, size_t errlen)
{
    conf *c = NULL;
    conf_error err;
    memset(&err, 0, sizeof(err));
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL && conf_load_file(path, &c, &err) < 0)
        goto fail;
    long long redis_port, rcpts, errors, conns, per_ip, threads, idle, session, ops, line_max;
    uint64_t mem;
    if (config_unknown(c, &err) < 0 ||
        conf_get_str_into(c, "data_dir", "/var/lib/ownmail", cfg->data_dir, sizeof cfg->data_dir,
                          &err) < 0 ||
        conf_get_str_into(c, "hostname", "mail.example.net", cfg->hostname, sizeof cfg->hostname,
                          &err) < 0 ||
        conf_get_str_into(c, "smtp.listen", "*:25", cfg->mx_listen, sizeof cfg->mx_listen, &err) <
            0 ||
        conf_get_str_into(c, "smtp.submission_listen", "*:587", cfg->submission_listen,
                          sizeof cfg->submission_listen, &err) < 0 ||
        conf_get_str_into(c, "smtp.submissions_listen", "*:465", cfg->submissions_listen,
                          sizeof cfg->submissions_listen, &err) < 0 ||
        conf_get_str_into(c, "smtp.metrics_listen", "", cfg->metrics_listen,
                          sizeof cfg->metrics_listen, &err) < 0 ||
        conf_get_str_into(c, "tls.cert", "/etc/ownmail/tls/cert.pem", cfg->tls_cert,
                          sizeof cfg->tls_cert, &err) < 0 ||
        conf_get_str_into(c, "tls.key", "/etc/ownmail/tls/key.pem", cfg->tls_key,
                          sizeof cfg->tls_key, &err) < 0 ||
        conf_get_str_into(c, "smtp.user", "ownmail", cfg->user, sizeof cfg->user, &err) < 0 ||
        conf_get_str_into(c, "redis.host", "127.0.0.1", cfg->redis_host, sizeof cfg->redis_host,
                          &err) < 0 ||
        conf_get_int(c, "redis.port", 6379, 1, 65535, &redis_port, &err) < 0 ||
        worker_api_addr(c, cfg->api_host, &cfg->api_port, &err) < 0 ||
        conf_get_size(c, "smtp.message_max", SPOOL_MAX_DEFAULT, 1024,
                      QUEUE_MESSAGE_MAX - SMTPD_RECEIVED_MAX, &cfg->message_max, &err) < 0 ||
        conf_get_int(c, "smtp.recipients_max", 100, 1, 10000, &rcpts, &err) < 0 ||
        conf_get_int(c, "smtp.errors_max", 10, 1, 1000, &errors, &err) < 0 ||
        conf_get_int(c, "smtp.line_max", SMTP_TEXT_LINE_MAX, 0, 1024 * 1024, &line_max, &err) < 0 ||
        conf_get_duration(c, "smtp.timeout", 300, 10, 3600, &idle, &err) < 0 ||
        conf_get_duration(c, "smtp.session_timeout", 3600, 60, 86400, &session, &err) < 0 ||
        conf_get_int(c, "smtp.connections_max", NET_MAX_CONNS_DEFAULT, 1, 1000000, &conns, &err) <
            0 ||
        conf_get_int(c, "smtp.connections_per_ip", NET_MAX_CONNS_PER_IP_DEFAULT, 1, 1000000,
                     &per_ip, &err) < 0 ||
        conf_get_int(c, "smtp.pool_threads", NET_POOL_THREADS_DEFAULT, 1, NET_POOL_THREADS_MAX,
                     &threads, &err) < 0 ||
        config_disabled(c, cfg, &err) < 0 ||
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
    if (queue_config_load(c, &cfg->queue, &err) < 0)
        goto fail;
    /* The queue takes what the worker accepted, our Received header included. */
    cfg->queue.message_max = (size_t)cfg->message_max + SMTPD_RECEIVED_MAX;
    cfg->kdf.opslimit = (unsigned long long)ops;
    cfg->kdf.memlimit = (size_t)(mem / 1024 * 1024);
    cfg->redis_port = (int)redis_port;
    if (conf_get_str(c, "smtp.postmaster", NULL) != NULL) {
        if (conf_get_str_into(c, "smtp.postmaster", NULL, cfg->postmaster, sizeof cfg->postmaster,
                              &err) < 0)
            goto fail;
    } else if ((size_t)snprintf(cfg->postmaster, sizeof cfg->postmaster, "postmaster@%s",
                                cfg->hostname) >= sizeof cfg->postmaster) {
        snprintf(err.message, sizeof err.message, "hostname is too long");
        goto fail;
    }
    cfg->recipients_max = (unsigned)rcpts;
    cfg->line_max = line_max == 0 ? 0 : (size_t)(line_max < 80 ? 80 : line_max);
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
