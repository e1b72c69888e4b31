#include "config.h"

#include "conf.h"

#include <stdio.h>
#include <string.h>

/* Every key the api reads. Workers read the same file and their own keys;
 * a key nobody knows is refused so that a typo is not silently ignored. */
static const char *const config_known[] = {
    "data_dir", "web_dir", "hostname", "api.listen", "api.threads", "api.body_max", "api.jwt_ttl",
    "api.jwt_max_session", "api.trusted_proxies", "redis.host", "redis.port", "throttle.window",
    "throttle.account_max", "throttle.ip_max", "kdf.user_opslimit", "kdf.user_memlimit",
    "kdf.admin_opslimit", "kdf.admin_memlimit", "domain.default_quota",
    /* read by the workers, accepted here */
    "smtp.*", "imap.*", "pop3.*", "dav.*", "queue.*", "tls.*", "log.*", NULL};

static int config_kdf(const conf *c, const char *ops_key, const char *mem_key, keys_kdf_params *p,
                      conf_error *err)
{
    long long ops;
    uint64_t mem;
    if (conf_get_int(c, ops_key, (long long)KEYS_KDF_DEFAULT.opslimit,
                     (long long)KEYS_KDF_OPSLIMIT_MIN, (long long)KEYS_KDF_OPSLIMIT_MAX, &ops,
                     err) < 0 ||
        conf_get_size(c, mem_key, KEYS_KDF_DEFAULT.memlimit, KEYS_KDF_MEMLIMIT_MIN,
                      KEYS_KDF_MEMLIMIT_MAX, &mem, err) < 0)
        return -1;
    p->opslimit = (unsigned long long)ops;
    p->memlimit = (size_t)(mem / 1024 * 1024);
    return 0;
}

int config_load(const char *path, app_config *cfg, char *errbuf, size_t errlen)
{
    conf *c = NULL;
    conf_error err;
    memset(&err, 0, sizeof(err));
    memset(cfg, 0, sizeof(*cfg));
    if (path != NULL && conf_load_file(path, &c, &err) < 0)
        goto fail;
    long long port;
    uint64_t body_max, quota;
    if (conf_unknown_keys(c, config_known, &err) < 0 ||
        conf_get_str_into(c, "data_dir", "/var/lib/ownmail", cfg->data_dir, sizeof(cfg->data_dir),
                          &err) < 0 ||
        conf_get_str_into(c, "web_dir", "/usr/share/ownmail/web", cfg->web_dir,
                          sizeof(cfg->web_dir), &err) < 0 ||
        conf_get_str_into(c, "hostname", "mail.example.net", cfg->hostname, sizeof(cfg->hostname),
                          &err) < 0 ||
        conf_get_str_into(c, "api.listen", "127.0.0.1:8080", cfg->listen, sizeof(cfg->listen),
                          &err) < 0 ||
        conf_get_str_into(c, "redis.host", "127.0.0.1", cfg->redis_host, sizeof(cfg->redis_host),
                          &err) < 0 ||
        conf_get_int(c, "redis.port", 6379, 1, 65535, &port, &err) < 0 ||
        conf_get_int(c, "api.threads", 32, 2, 1024, &cfg->threads, &err) < 0 ||
        conf_get_size(c, "api.body_max", 64 * 1024, 1024, 16 * 1024 * 1024, &body_max, &err) < 0 ||
        conf_get_duration(c, "api.jwt_ttl", 900, 60, 86400, &cfg->jwt_ttl, &err) < 0 ||
        conf_get_duration(c, "api.jwt_max_session", 12 * 3600, 60, 30 * 86400,
                          &cfg->jwt_max_session, &err) < 0 ||
        conf_get_duration(c, "throttle.window", 900, 1, 86400, &cfg->throttle_window, &err) < 0 ||
        conf_get_int(c, "throttle.account_max", 5, 1, 1000000, &cfg->throttle_account_max, &err) <
            0 ||
        conf_get_int(c, "throttle.ip_max", 50, 1, 1000000, &cfg->throttle_ip_max, &err) < 0 ||
        conf_get_size(c, "domain.default_quota", 1ULL << 30, 0, 1ULL << 50, &quota, &err) < 0 ||
        config_kdf(c, "kdf.user_opslimit", "kdf.user_memlimit", &cfg->kdf_user, &err) < 0 ||
        config_kdf(c, "kdf.admin_opslimit", "kdf.admin_memlimit", &cfg->kdf_admin, &err) < 0)
        goto fail;
    cfg->ntrusted_proxies = netaddr_list_parse(conf_get_str(c, "api.trusted_proxies", ""),
                                               cfg->trusted_proxies, NETADDR_LIST_MAX);
    if (cfg->ntrusted_proxies < 0) {
        snprintf(err.message, sizeof(err.message),
                 "api.trusted_proxies: give up to 16 addresses or prefixes (192.0.2.0/24)");
        goto fail;
    }
    cfg->redis_port = (int)port;
    cfg->body_max = (long long)body_max;
    cfg->default_quota = (long long)quota;
    conf_free(&c);
    return 0;
fail:
    conf_error_format(&err, path, errbuf, errlen);
    conf_free(&c);
    return -1;
}
