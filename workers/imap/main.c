/* ownmail-imap: the IMAP worker (port 143 with STARTTLS, 993 implicit TLS).
 * See imapd.h for the parts.
 *
 *   ownmail-imap [--config FILE] [check-config]
 */
#include "imapd.h"

#include "log.h"
#include "vfs.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unsent output per connection: a FETCH step sends whole messages, so one
 * of the largest, as a literal, with room for the responses around it. */
#define MAIN_OUT_MARGIN (4u * 1024 * 1024)

typedef struct main_ctx {
    imapd_server srv;
    imapd_port plain, implicit;
    net_tls_ctx *tls;
    char *secret; /* the bearer token for the api (sodium_malloc'd) */
    size_t secret_len;
} main_ctx;

static int main_metrics(imapd_server *srv)
{
    imapd_metrics *x = &srv->m;
    x->logins_ok = net_metric_counter(srv->loop, "imap_logins_total", "successful logins");
    x->logins_failed = net_metric_counter(srv->loop, "imap_logins_failed_total", "failed logins");
    x->commands = net_metric_counter(srv->loop, "imap_commands_total", "commands read");
    x->bad_commands = net_metric_counter(srv->loop, "imap_bad_commands_total", "BAD answers");
    x->sessions_idle = net_metric_gauge(srv->loop, "imap_sessions_idle", "sessions in IDLE");
    x->stores_open = net_metric_gauge(srv->loop, "imap_stores_open", "open user stores");
    return x->logins_ok && x->logins_failed && x->commands && x->bad_commands &&
                   x->sessions_idle && x->stores_open
               ? 0
               : -1;
}

static void main_trim_work(void *arg)
{
    imapd_users_trim(arg);
}

static void main_trim_done(net_loop *l, void *arg)
{
    (void)l;
    (void)arg;
}

/* Every IMAPD_TRIM_MS: unused stores give their page cache back. */
static void main_trim_timer(net_loop *l, void *arg)
{
    imapd_server *srv = arg;
    if (net_loop_shutting_down(l))
        return;
    net_pool_submit(l, main_trim_work, main_trim_done, srv);
    net_timer_add(l, IMAPD_TRIM_MS, main_trim_timer, srv);
}

static int main_listen(main_ctx *m, const char *addr, imapd_port *port)
{
    if (addr[0] == '\0')
        return 0;
    net_listen_opts o = {.addr = addr,
                         .handler = &imapd_handler,
                         .ctx = port,
                         .tls = m->tls,
                         .implicit_tls = port->implicit_tls};
    net_listener *ls = NULL;
    if (port->implicit_tls && m->tls == NULL) {
        log_error(NULL, "imap.tls_listen %s needs tls.cert and tls.key", addr);
        return -1;
    }
    if (net_listen(m->srv.loop, &o, &ls) < 0)
        return -1;
    log_info(NULL, "listening on %s (%s)", addr,
             port->implicit_tls ? "implicit TLS"
             : m->tls != NULL   ? "STARTTLS"
                                : "no TLS");
    return 0;
}

static int main_setup(main_ctx *m)
{
    imapd_server *srv = &m->srv;
    imapd_config *cfg = &srv->cfg;
    snprintf(srv->spool_dir, sizeof srv->spool_dir, "%s/spool", cfg->data_dir);
    pthread_mutex_init(&srv->users_lock, NULL);
    imap_reader_limits_default(&srv->limits);
    srv->limits.append_literal_max = cfg->message_max;
    srv->out_max = (size_t)cfg->message_max * 2 + MAIN_OUT_MARGIN;
    if (vfs_register() != VFS_OK || worker_secret_load(cfg->data_dir, &m->secret, &m->secret_len) < 0 ||
        worker_dummy_wrap(&cfg->kdf, &srv->dummy_wrap) < 0)
        return -1;
    if (worker_tls_load(cfg->tls_listen[0] != '\0', cfg->tls_cert, cfg->tls_key, &m->tls) < 0)
        return -1;
    if (m->tls == NULL && !cfg->plaintext_loopback)
        log_warn(NULL, "no TLS certificate and imap.plaintext_loopback off: nobody can log in");
    net_limits lim;
    net_limits_default(&lim);
    lim.max_conns = cfg->conns_max;
    lim.max_conns_per_ip = cfg->conns_per_ip_max;
    lim.idle_timeout_ms = cfg->idle_timeout_ms;
    lim.session_timeout_ms = cfg->session_timeout_ms;
    lim.pool_threads = cfg->pool_threads;
    lim.out_max = srv->out_max;
    if (net_loop_new(&lim, &srv->loop) < 0 || main_metrics(srv) < 0)
        return -1;
    m->plain = (imapd_port){srv, false, m->tls != NULL};
    m->implicit = (imapd_port){srv, true, m->tls != NULL};
    net_listener *ml = NULL;
    if (main_listen(m, cfg->listen, &m->plain) < 0 ||
        main_listen(m, cfg->tls_listen, &m->implicit) < 0 ||
        (cfg->metrics_listen[0] != '\0' &&
         net_metrics_listen(srv->loop, cfg->metrics_listen, &ml) < 0))
        return -1;
    worker_start_opts wo = {.user = cfg->user,
                            .user_key = "imap.user",
                            .redis_host = cfg->redis_host,
                            .redis_port = cfg->redis_port,
                            .api_host = cfg->api_host,
                            .api_port = cfg->api_port,
                            .secret = m->secret,
                            .secret_len = m->secret_len,
                            .waiting = "logins fail"};
    if (worker_start(srv->loop, &wo, &srv->dir) < 0)
        return -1;
    if (net_timer_add(srv->loop, IMAPD_TRIM_MS, main_trim_timer, srv) == NULL)
        return -1;
    return imapd_notify_start(srv);
}

static void main_teardown(main_ctx *m)
{
    imapd_notify_stop(&m->srv);
    net_loop_free(&m->srv.loop);
    directory_follower_stop(&m->srv.dir);
    net_tls_ctx_free(&m->tls);
    free(m->srv.dummy_wrap);
    if (m->secret != NULL)
        sodium_free(m->secret);
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    bool check_only = false;
    worker_parse_args(argc, argv, IMAPD_PROGRAM, &config, &check_only);
    log_init(IMAPD_PROGRAM, LOG_LEVEL_INFO);
    static main_ctx m;
    char err[512];
    if (sodium_init() < 0) {
        log_error(NULL, "libsodium failed to initialise");
        return 1;
    }
    if (imapd_config_load(config, &m.srv.cfg, err, sizeof err) < 0) {
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
