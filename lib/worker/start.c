/* The start-up every worker shares: see worker.h "start-up". */
#include "worker.h"

#include "log.h"
#include "rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void worker_parse_args(int argc, char **argv, const char *program, const char **config_r,
                       bool *check_r)
{
    *config_r = NULL;
    *check_r = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *config_r = argv[++i];
        } else if (strcmp(argv[i], "check-config") == 0) {
            *check_r = true;
        } else {
            fprintf(stderr, "usage: %s [--config FILE] [check-config]\n", program);
            exit(2);
        }
    }
}

int worker_tls_load(bool needed, const char *cert, const char *key, net_tls_ctx **tls_r)
{
    char err[NET_TLS_ERROR_MAX];
    *tls_r = NULL;
    if (!needed && access(cert, R_OK) != 0)
        return 0;
    if (net_tls_ctx_new(cert, key, tls_r, err, sizeof err) < 0) {
        log_error(NULL, "TLS: %s", err);
        return -1;
    }
    return 0;
}

int worker_start(net_loop *loop, const worker_start_opts *o, directory_follower **dir_r)
{
    if (o->user[0] == '\0' && geteuid() == 0)
        log_warn(NULL, "running as root: set %s to drop privileges", o->user_key);
    if ((o->user[0] != '\0' && net_drop_privileges(o->user) < 0) ||
        net_loop_handle_signals(loop) < 0)
        return -1;
    rds_configure(o->redis_host, o->redis_port);
    directory_follower_config fc = {
        .api_host = o->api_host,
        .api_port = o->api_port,
        .worker_secret = (const unsigned char *)o->secret,
        .worker_secret_len = o->secret_len,
        .redis_host = o->redis_host,
        .redis_port = o->redis_port,
    };
    const char *why = NULL;
    if (directory_follower_start(&fc, dir_r, &why) < 0) {
        log_error(NULL, "directory follower: %s", why);
        return -1;
    }
    if (!directory_follower_wait_loaded(*dir_r, WORKER_DIRECTORY_WAIT_MS))
        log_warn(NULL, "no directory snapshot yet: %s until it arrives", o->waiting);
    return 0;
}
