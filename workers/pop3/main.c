/* ownmail-pop3: the POP3 worker (port 110 with STLS, 995 implicit TLS).
 * See pop3d.h for the parts.
 *
 *   ownmail-pop3 [--config FILE] [check-config]
 */
#include "pop3d.h"

#include "log.h"
#include "vfs.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct main_ctx {
    pop3d_server srv;
    pop3d_port plain, implicit;
    net_tls_ctx *tls;
    char *secret; /* the bearer token for the api (sodium_malloc'd) */
    size_t secret_len;
} main_ctx;

static int main_metrics(pop3d_server *srv)
{
    pop3d_metrics *x = &srv->m;
    x->logins_ok = net_metric_counter(srv->loop, "pop3_logins_total", "successful logins");
    x->logins_failed = net_metric_counter(srv->loop, "pop3_logins_failed_total", "failed logins");
    x->commands = net_metric_counter(srv->loop, "pop3_commands_total", "commands read");
    x->bad_commands =
        net_metric_counter(srv->loop, "pop3_bad_commands_total", "-ERR answers to bad commands");
    x->retrieved =
        net_metric_counter(srv->loop, "pop3_messages_retrieved_total", "RETR and TOP answered");
    x->deleted = net_metric_counter(srv->loop, "pop3_messages_deleted_total",
                                    "messages removed (or moved to Trash) at QUIT");
    x->maildrops_open = net_metric_gauge(srv->loop, "pop3_maildrops_open", "locked maildrops");
    return x->logins_ok && x->logins_failed && x->commands && x->bad_commands && x->retrieved &&
                   x->deleted && x->maildrops_open
               ? 0
               : -1;
}

static int main_listen(main_ctx *m, const char *addr, pop3d_port *port)
{
    if (addr[0] == '\0')
        return 0;
    net_listen_opts o = {.addr = addr,
                         .handler = &pop3d_handler,
                         .ctx = port,
                         .tls = m->tls,
                         .implicit_tls = port->implicit_tls};
    net_listener *ls = NULL;
    if (port->implicit_tls && m->tls == NULL) {
        log_error(NULL, "pop3.tls_listen %s needs tls.cert and tls.key", addr);
        return -1;
    }
    if (net_listen(m->srv.loop, &o, &ls) < 0)
        return -1;
    log_info(NULL, "listening on %s (%s)", addr,
             port->implicit_tls ? "implicit TLS"
             : m->tls != NULL   ? "STLS"
                                : "no TLS");
    return 0;
}

static int main_setup(main_ctx *m)
{
    pop3d_server *srv = &m->srv;
    pop3d_config *cfg = &srv->cfg;
    snprintf(srv->spool_dir, sizeof srv->spool_dir, "%s/spool", cfg->data_dir);
    if (vfs_register() != VFS_OK ||
        worker_secret_load(cfg->data_dir, &m->secret, &m->secret_len) < 0 ||
        worker_dummy_wrap(&cfg->kdf, &srv->dummy_wrap) < 0)
        return -1;
    if (worker_tls_load(cfg->tls_listen[0] != '\0', cfg->tls_cert, cfg->tls_key, &m->tls) < 0)
        return -1;
    if (m->tls == NULL && !cfg->plaintext_loopback)
        log_warn(NULL, "no TLS certificate and pop3.plaintext_loopback off: nobody can log in");
    net_limits lim;
    net_limits_default(&lim);
    lim.max_conns = cfg->conns_max;
    lim.max_conns_per_ip = cfg->conns_per_ip_max;
    lim.idle_timeout_ms = cfg->idle_timeout_ms;
    lim.session_timeout_ms = cfg->session_timeout_ms;
    lim.pool_threads = cfg->pool_threads;
    if (net_loop_new(&lim, &srv->loop) < 0 || main_metrics(srv) < 0)
        return -1;
    m->plain = (pop3d_port){srv, false, m->tls != NULL};
    m->implicit = (pop3d_port){srv, true, m->tls != NULL};
    net_listener *ml = NULL;
    if (main_listen(m, cfg->listen, &m->plain) < 0 ||
        main_listen(m, cfg->tls_listen, &m->implicit) < 0 ||
        (cfg->metrics_listen[0] != '\0' &&
         net_metrics_listen(srv->loop, cfg->metrics_listen, &ml) < 0))
        return -1;
    worker_start_opts wo = {.user = cfg->user,
                            .user_key = "pop3.user",
                            .redis_host = cfg->redis_host,
                            .redis_port = cfg->redis_port,
                            .api_host = cfg->api_host,
                            .api_port = cfg->api_port,
                            .secret = m->secret,
                            .secret_len = m->secret_len,
                            .waiting = "logins fail"};
    if (worker_start(srv->loop, &wo, &srv->dir) < 0)
        return -1;
    return 0;
}

static void main_teardown(main_ctx *m)
{
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
    worker_parse_args(argc, argv, POP3D_PROGRAM, &config, &check_only);
    log_init(POP3D_PROGRAM, LOG_LEVEL_INFO);
    static main_ctx m;
    char err[512];
    if (sodium_init() < 0) {
        log_error(NULL, "libsodium failed to initialise");
        return 1;
    }
    if (pop3d_config_load(config, &m.srv.cfg, err, sizeof err) < 0) {
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
