/* Queue configuration: defaults, the configuration file keys, the retry
 * schedule. */
#include "conf.h"
#include "queue.h"
#include "queue_int.h"

#include <stdio.h>
#include <string.h>

#define QUEUE_DEFAULT_PORT 25
#define QUEUE_DEFAULT_CONCURRENCY 4
#define QUEUE_DEFAULT_RETRY_MIN (5 * 60)      /* 5 minutes */
#define QUEUE_DEFAULT_RETRY_MAX (4 * 3600)    /* 4 hours */
#define QUEUE_DEFAULT_MAX_AGE (5 * 24 * 3600) /* 5 days (RFC 5321 4.5.4.1: 4-5 days) */
#define QUEUE_DEFAULT_CONNECT_TIMEOUT 30
#define QUEUE_DEFAULT_COMMAND_TIMEOUT (5 * 60) /* RFC 5321 4.5.3.2.2-4 */
#define QUEUE_DEFAULT_DATA_TIMEOUT (10 * 60)   /* RFC 5321 4.5.3.2.6 */
#define QUEUE_DEFAULT_SCAN_INTERVAL 60
#define QUEUE_DURATION_MAX (365LL * 24 * 3600)

const char *const queue_config_keys[] = {"data_dir", "hostname", "queue.*", NULL};

void queue_config_default(queue_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->hostname, sizeof(cfg->hostname), "localhost");
    cfg->remote_port = QUEUE_DEFAULT_PORT;
    cfg->relay_verify = true;
    cfg->starttls = true;
    cfg->concurrency = QUEUE_DEFAULT_CONCURRENCY;
    cfg->retry_min = QUEUE_DEFAULT_RETRY_MIN;
    cfg->retry_max = QUEUE_DEFAULT_RETRY_MAX;
    cfg->max_age = QUEUE_DEFAULT_MAX_AGE;
    cfg->connect_timeout = QUEUE_DEFAULT_CONNECT_TIMEOUT;
    cfg->command_timeout = QUEUE_DEFAULT_COMMAND_TIMEOUT;
    cfg->data_timeout = QUEUE_DEFAULT_DATA_TIMEOUT;
    cfg->scan_interval = QUEUE_DEFAULT_SCAN_INTERVAL;
    cfg->message_max = QUEUE_MESSAGE_MAX_DEFAULT;
}

int queue_config_load(const conf *c, queue_config *cfg, conf_error *err_r)
{
    queue_config_default(cfg);
    const char *data_dir = conf_get_str(c, "data_dir", NULL);
    if (data_dir == NULL || data_dir[0] == '\0') {
        err_r->line = 0;
        snprintf(err_r->message, sizeof(err_r->message), "data_dir is not set");
        return -1;
    }
    int n = snprintf(cfg->queue_dir, sizeof(cfg->queue_dir), "%s/queue", data_dir);
    if (n < 0 || (size_t)n >= sizeof(cfg->queue_dir)) {
        snprintf(err_r->message, sizeof(err_r->message), "data_dir: too long");
        return -1;
    }
    long long port = 0, conc = 0;
    uint64_t msg_max = 0;
    if (conf_get_str_into(c, "hostname", NULL, cfg->hostname, sizeof(cfg->hostname), err_r) < 0 ||
        conf_get_str_into(c, "queue.dns", NULL, cfg->dns, sizeof(cfg->dns), err_r) < 0 ||
        conf_get_str_into(c, "queue.relay_host", NULL, cfg->relay_host, sizeof(cfg->relay_host),
                          err_r) < 0 ||
        conf_get_str_into(c, "queue.relay_user", NULL, cfg->relay_user, sizeof(cfg->relay_user),
                          err_r) < 0 ||
        conf_get_str_into(c, "queue.relay_password", NULL, cfg->relay_password,
                          sizeof(cfg->relay_password), err_r) < 0 ||
        conf_get_bool(c, "queue.relay_verify", true, &cfg->relay_verify, err_r) < 0 ||
        conf_get_bool(c, "queue.starttls", true, &cfg->starttls, err_r) < 0 ||
        conf_get_int(c, "queue.remote_port", QUEUE_DEFAULT_PORT, 1, 65535, &port, err_r) < 0 ||
        conf_get_int(c, "queue.concurrency", QUEUE_DEFAULT_CONCURRENCY, 1, QUEUE_CONCURRENCY_MAX,
                     &conc, err_r) < 0 ||
        conf_get_duration(c, "queue.retry_min", QUEUE_DEFAULT_RETRY_MIN, 1, QUEUE_DURATION_MAX,
                          &cfg->retry_min, err_r) < 0 ||
        conf_get_duration(c, "queue.retry_max", QUEUE_DEFAULT_RETRY_MAX, 1, QUEUE_DURATION_MAX,
                          &cfg->retry_max, err_r) < 0 ||
        conf_get_duration(c, "queue.max_age", QUEUE_DEFAULT_MAX_AGE, 1, QUEUE_DURATION_MAX,
                          &cfg->max_age, err_r) < 0 ||
        conf_get_duration(c, "queue.connect_timeout", QUEUE_DEFAULT_CONNECT_TIMEOUT, 1, 3600,
                          &cfg->connect_timeout, err_r) < 0 ||
        conf_get_duration(c, "queue.command_timeout", QUEUE_DEFAULT_COMMAND_TIMEOUT, 1, 3600,
                          &cfg->command_timeout, err_r) < 0 ||
        conf_get_duration(c, "queue.data_timeout", QUEUE_DEFAULT_DATA_TIMEOUT, 1, 3600,
                          &cfg->data_timeout, err_r) < 0 ||
        conf_get_duration(c, "queue.scan_interval", QUEUE_DEFAULT_SCAN_INTERVAL, 1, 3600,
                          &cfg->scan_interval, err_r) < 0 ||
        conf_get_size(c, "queue.message_max", QUEUE_MESSAGE_MAX_DEFAULT, 1024, QUEUE_MESSAGE_MAX,
                      &msg_max, err_r) < 0)
        return -1;
    cfg->remote_port = (unsigned)port;
    cfg->concurrency = (unsigned)conc;
    cfg->message_max = (size_t)msg_max;
    if (cfg->retry_max < cfg->retry_min) {
        err_r->line = 0;
        snprintf(err_r->message, sizeof(err_r->message),
                 "queue.retry_max is shorter than queue.retry_min");
        return -1;
    }
    return 0;
}

long long queue_backoff(const queue_config *cfg, uint32_t attempts)
{
    long long d = cfg->retry_min > 0 ? cfg->retry_min : 1;
    for (uint32_t i = 1; i < attempts && d < cfg->retry_max; i++)
        d *= 2;
    return d < cfg->retry_max ? d : cfg->retry_max;
}
