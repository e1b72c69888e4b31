/* ownmail-smtp: the SMTP worker. MX (port 25) takes mail for hosted
 * recipients; submission (587 STARTTLS, 465 implicit TLS) takes mail from
 * authenticated users. See smtpd.h for the parts.
 *
 *   ownmail-smtp [--config FILE] [check-config]
 */
#include "session.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


typedef struct main_ctx {
    smtpd_server srv;
    smtpd_port mx, submission, submissions;
    net_tls_ctx *tls;
    char *secret; /* the bearer token for the api (sodium_malloc'd) */
    size_t secret_len;
} main_ctx;

/* keys/server.key seals the outbound queue (the api creates it). */
static int main_server_key(main_ctx *m)
{
    char path[SMTPD_PATH_MAX + 32], err[KEYS_FILE_ERR_LEN];
    snprintf(path, sizeof path, "%s/keys/server.key", m->srv.cfg.data_dir);
    if (keys_file_load(path, KEYS_KEY_LEN, &m->srv.server_key, err, sizeof err) != KEYS_OK) {
        log_error(NULL, "%s", err);
        return -1;
    }
    m->srv.cfg.queue.server_key = m->srv.server_key;
    return 0;
}

static int main_metrics(smtpd_server *srv)
{
    smtpd_metrics *x = &srv->m;
    x->messages = net_metric_counter(srv->loop, "smtp_messages_total", "messages accepted");
    x->recipients = net_metric_counter(srv->loop, "smtp_recipients_total", "recipients accepted");
    x->rejected_rcpt =
        net_metric_counter(srv->loop, "smtp_recipients_rejected_total", "recipients refused");
    x->auth_ok = net_metric_counter(srv->loop, "smtp_auth_success_total", "successful AUTH");
    x->auth_failed = net_metric_counter(srv->loop, "smtp_auth_failed_total", "failed AUTH");
    x->spool_failed =
        net_metric_counter(srv->loop, "smtp_spool_failed_total", "deliveries that failed");
    return x->messages && x->recipients && x->rejected_rcpt && x->auth_ok && x->auth_failed &&
                   x->spool_failed
               ? 0
               : -1;
}

static int main_listen(main_ctx *m, const char *addr, smtpd_port *port, bool implicit)
{
    if (addr[0] == '\0')
        return 0;
    net_listen_opts o = {.addr = addr,
                         .handler = &smtpd_handler,
                         .ctx = port,
                         .tls = port->tls,
                         .implicit_tls = implicit};
    net_listener *ls = NULL;
    if (net_listen(m->srv.loop, &o, &ls) < 0)
        return -1;
    log_info(NULL, "listening on %s (%s)", addr,
             implicit           ? "submission, implicit TLS"
             : port->submission ? "submission, STARTTLS"
                                : "MX");
    return 0;
}

static int main_setup(main_ctx *m)
{
    smtpd_server *srv = &m->srv;
    smtpd_config *cfg = &srv->cfg;
    snprintf(srv->spool_dir, sizeof srv->spool_dir, "%s/spool", cfg->data_dir);
    snprintf(srv->stores_dir, sizeof srv->stores_dir, "%s/stores", cfg->data_dir);
    if (worker_secret_load(cfg->data_dir, &m->secret, &m->secret_len) < 0 ||
        worker_dummy_wrap(&cfg->kdf, &srv->dummy_wrap) < 0 || main_server_key(m) < 0 ||
        (srv->quota = smtpd_quota_new()) == NULL)
        return -1;
    if (worker_tls_load(cfg->submission_listen[0] != '\0' || cfg->submissions_listen[0] != '\0',
                        cfg->tls_cert, cfg->tls_key, &m->tls) < 0)
        return -1;
    net_limits lim;
    net_limits_default(&lim);
    lim.max_conns = cfg->conns_max;
    lim.max_conns_per_ip = cfg->conns_per_ip_max;
    lim.idle_timeout_ms = cfg->idle_timeout_ms;
    lim.session_timeout_ms = cfg->session_timeout_ms;
    lim.pool_threads = cfg->pool_threads;
    if (net_loop_new(&lim, &srv->loop) < 0 || main_metrics(srv) < 0)
        return -1;
    m->mx = (smtpd_port){srv, false, m->tls};
    m->submission = (smtpd_port){srv, true, m->tls};
    m->submissions = (smtpd_port){srv, true, m->tls};
    net_listener *ml = NULL;
    if (main_listen(m, cfg->mx_listen, &m->mx, false) < 0 ||
        main_listen(m, cfg->submission_listen, &m->submission, false) < 0 ||
        main_listen(m, cfg->submissions_listen, &m->submissions, true) < 0 ||
        (cfg->metrics_listen[0] != '\0' &&
         net_metrics_listen(srv->loop, cfg->metrics_listen, &ml) < 0))
        return -1;
    worker_start_opts wo = {.user = cfg->user,
                            .user_key = "smtp.user",
                            .redis_host = cfg->redis_host,
                            .redis_port = cfg->redis_port,
                            .api_host = cfg->api_host,
                            .api_port = cfg->api_port,
                            .secret = m->secret,
                            .secret_len = m->secret_len,
                            .waiting = "recipients get 451"};
    if (worker_start(srv->loop, &wo, &srv->dir) < 0)
        return -1;
    /* As the user that serves, so that it owns the spool. */
    if (mkdir(srv->spool_dir, 0700) < 0 && errno != EEXIST) {
        log_error(NULL, "%s: %s", srv->spool_dir, strerror(errno));
        return -1;
    }
    char qerr[256];
    if (queue_runner_start(&cfg->queue, smtpd_queue_local, srv, &srv->runner, qerr, sizeof qerr) <
        0) {
        log_error(NULL, "outbound queue: %s", qerr);
        return -1;
    }
    srv->outbound = true;
    return 0;
}

static void main_teardown(main_ctx *m)
{
    queue_runner_stop(&m->srv.runner);
    net_loop_free(&m->srv.loop);
    directory_follower_stop(&m->srv.dir);
    keys_secret_free(&m->srv.server_key);
    smtpd_quota_free(&m->srv.quota);
    net_tls_ctx_free(&m->tls);
    free(m->srv.dummy_wrap);
    if (m->secret != NULL)
        sodium_free(m->secret);
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    worker_parse_args(argc, argv, SMTPD_PROGRAM, &config, &check_only);
    log_init(SMTPD_PROGRAM, LOG_LEVEL_INFO);
    static main_ctx m;
    char err[512];
    if (sodium_init() < 0) {
        log_error(NULL, "libsodium failed to initialise");
        return 1;
    }
    if (smtpd_config_load(config, &m.srv.cfg, err, sizeof err) < 0) {
        log_error(NULL, "%s", err);
        return 1;
    }
    if (check_only) {
        printf("%s: ok\n", config != NULL ? config : "(defaults)");
        return 0;
    }
    int rc = main_setup(&m) == 0 && net_loop_run(m.srv.loop) == 0 ? 0 : 1;
    log_info(NULL, "stopped");
    main_teardown(&m);
    return rc;
}
