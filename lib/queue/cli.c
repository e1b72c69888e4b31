/* ownmail-queue: the outbound queue from the command line, for admins and
 * tests.
 *
 *   ownmail-queue --data-dir D [options] put --from A --to B [--to C] < message
 *   ownmail-queue --data-dir D list
 *   ownmail-queue --data-dir D [options] run-once    (due recipients)
 *   ownmail-queue --data-dir D [options] flush       (every pending recipient)
 *
 * Options: --config FILE (the queue.* keys, data_dir, hostname), --key FILE
 * (default D/keys/server.key, created if missing), --hostname, --dns
 * IP[:PORT], --remote-port N, --relay-host H[:P], --relay-user U,
 * --relay-password P, --relay-no-verify, --no-starttls, --retry-min S,
 * --retry-max S, --max-age S, --connect-timeout S, --command-timeout S,
 * --data-timeout S, --message-max BYTES, --dsn-dir DIR (DSNs are written
 * there as .eml files; without it they are logged and dropped).
 * put also takes --notify never|success,failure,delay and --orcpt TYPE;ADDR
 * (both for the --to before them), --envid X, --ret full|hdrs, --smtputf8.
 */
#include "conf.h"
#include "keys.h"
#include "log.h"
#include "queue.h"
#include "queue_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLI_MAX_RCPTS QUEUE_RCPTS_MAX

typedef struct cli {
    queue_config cfg;
    const char *data_dir, *key_path, *config_path, *dsn_dir, *command;
    queue_envelope env;
    bool have_from;
    keys_secret *key;
} cli;

static int cli_usage(void)
{
    fprintf(stderr, "usage: ownmail-queue --data-dir DIR [options] put|list|run-once|flush\n"
                    "  put --from ADDR --to ADDR [--notify N] [--orcpt T;A] [--to ...] < message\n"
                    "  (see the top of lib/queue/cli.c for every option)\n");
    return 2;
}

static int cli_number(const char *opt, const char *v, long long min, long long max, long long *r)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "ownmail-queue: %s: %s is not a number in %lld..%lld\n", opt, v, min, max);
        return -1;
    }
    *r = n;
    return 0;
}

static int cli_copy(const char *opt, const char *v, char *out, size_t size)
{
    if (strlen(v) >= size) {
        fprintf(stderr, "ownmail-queue: %s: too long\n", opt);
        return -1;
    }
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int cli_notify(const char *v, unsigned *r)
{
    char copy[64];
    if (cli_copy("--notify", v, copy, sizeof(copy)) < 0)
        return -1;
    *r = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcasecmp(t, "never") == 0)
            *r |= SMTP_NOTIFY_NEVER;
        else if (strcasecmp(t, "success") == 0)
            *r |= SMTP_NOTIFY_SUCCESS;
        else if (strcasecmp(t, "failure") == 0)
            *r |= SMTP_NOTIFY_FAILURE;
        else if (strcasecmp(t, "delay") == 0)
            *r |= SMTP_NOTIFY_DELAY;
        else
            return -1;
    }
    return 0;
}

/* Options that take a value and belong to put. */
static int cli_put_option(cli *c, const char *opt, const char *v)
{
    queue_rcpt *last = c->env.nrcpt > 0 ? &c->env.rcpts[c->env.nrcpt - 1] : NULL;
    if (strcmp(opt, "--from") == 0) {
        c->have_from = true;
        return cli_copy(opt, strcmp(v, "<>") == 0 ? "" : v, c->env.from, sizeof(c->env.from));
    }
    if (strcmp(opt, "--to") == 0) {
        if (c->env.nrcpt >= CLI_MAX_RCPTS)
            return -1;
        return cli_copy(opt, v, c->env.rcpts[c->env.nrcpt++].addr, QUEUE_ADDR_MAX + 1);
    }
    if (strcmp(opt, "--envid") == 0)
        return cli_copy(opt, v, c->env.envid, sizeof(c->env.envid));
    if (strcmp(opt, "--ret") == 0) {
        c->env.ret = strcasecmp(v, "hdrs") == 0 ? SMTP_RET_HDRS : SMTP_RET_FULL;
        return 0;
    }
    if (strcmp(opt, "--notify") == 0)
        return last != NULL ? cli_notify(v, &last->notify) : -1;
    if (strcmp(opt, "--orcpt") == 0) {
        const char *semi = strchr(v, ';');
        if (last == NULL || semi == NULL || (size_t)(semi - v) > QUEUE_ORCPT_TYPE_MAX)
            return -1;
        memcpy(last->orcpt_type, v, (size_t)(semi - v));
        last->orcpt_type[semi - v] = '\0';
        return cli_copy(opt, semi + 1, last->orcpt, sizeof(last->orcpt));
    }
    return 1; /* not a put option */
}

static int cli_option(cli *c, const char *opt, const char *v)
{
    queue_config *g = &c->cfg;
    long long n = 0;
    int rc = cli_put_option(c, opt, v);
    if (rc <= 0)
        return rc;
    if (strcmp(opt, "--data-dir") == 0)
        c->data_dir = v;
    else if (strcmp(opt, "--key") == 0)
        c->key_path = v;
    else if (strcmp(opt, "--config") == 0)
        c->config_path = v;
    else if (strcmp(opt, "--dsn-dir") == 0)
        c->dsn_dir = v;
    else if (strcmp(opt, "--hostname") == 0)
        return cli_copy(opt, v, g->hostname, sizeof(g->hostname));
    else if (strcmp(opt, "--dns") == 0)
        return cli_copy(opt, v, g->dns, sizeof(g->dns));
    else if (strcmp(opt, "--relay-host") == 0)
        return cli_copy(opt, v, g->relay_host, sizeof(g->relay_host));
    else if (strcmp(opt, "--relay-user") == 0)
        return cli_copy(opt, v, g->relay_user, sizeof(g->relay_user));
    else if (strcmp(opt, "--relay-password") == 0)
        return cli_copy(opt, v, g->relay_password, sizeof(g->relay_password));
    else if (strcmp(opt, "--remote-port") == 0 && cli_number(opt, v, 1, 65535, &n) == 0)
        g->remote_port = (unsigned)n;
    else if (strcmp(opt, "--retry-min") == 0 && cli_number(opt, v, 1, 1LL << 30, &n) == 0)
        g->retry_min = n;
    else if (strcmp(opt, "--retry-max") == 0 && cli_number(opt, v, 1, 1LL << 30, &n) == 0)
        g->retry_max = n;
    else if (strcmp(opt, "--max-age") == 0 && cli_number(opt, v, 0, 1LL << 30, &n) == 0)
        g->max_age = n;
    else if (strcmp(opt, "--connect-timeout") == 0 && cli_number(opt, v, 1, 3600, &n) == 0)
        g->connect_timeout = n;
    else if (strcmp(opt, "--command-timeout") == 0 && cli_number(opt, v, 1, 3600, &n) == 0)
        g->command_timeout = n;
    else if (strcmp(opt, "--data-timeout") == 0 && cli_number(opt, v, 1, 3600, &n) == 0)
        g->data_timeout = n;
    else if (strcmp(opt, "--message-max") == 0 &&
             cli_number(opt, v, 1, (long long)QUEUE_MESSAGE_MAX, &n) == 0)
        g->message_max = (size_t)n;
    else
        return -1;
    return 0;
}

/* Options are "--name value" anywhere; the one bare word is the command. */
static int cli_parse(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (c->command != NULL)
                return -1;
            c->command = a;
        } else if (strcmp(a, "--no-starttls") == 0) {
            c->cfg.starttls = false;
        } else if (strcmp(a, "--relay-no-verify") == 0) {
            c->cfg.relay_verify = false;
        } else if (strcmp(a, "--smtputf8") == 0) {
            c->env.smtputf8 = true;
        } else if (i + 1 >= argc || cli_option(c, a, argv[i + 1]) < 0) {
            fprintf(stderr, "ownmail-queue: bad option %s\n", a);
            return -1;
        } else {
            i++;
        }
    }
    return c->command != NULL && c->data_dir != NULL ? 0 : -1;
}

/* Applies a configuration file first; command-line flags are applied again
 * after it, so they win. */
static int cli_config(cli *c, int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0)
            c->config_path = argv[i + 1];
    if (c->config_path == NULL)
        return 0;
    conf *cf = NULL;
    conf_error ce;
    if (conf_load_file(c->config_path, &cf, &ce) < 0 || queue_config_load(cf, &c->cfg, &ce) < 0) {
        fprintf(stderr, "ownmail-queue: %s:%u: %s\n", c->config_path, ce.line, ce.message);
        conf_free(&cf);
        return -1;
    }
    conf_free(&cf);
    return 0;
}

static int cli_load_key(cli *c)
{
    char keys_dir[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX], err[KEYS_FILE_ERR_LEN];
    int n1 = snprintf(keys_dir, sizeof(keys_dir), "%s/keys", c->data_dir);
    int n2 = snprintf(path, sizeof(path), "%s/keys/server.key", c->data_dir);
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof(path)) {
        fprintf(stderr, "ownmail-queue: --data-dir too long\n");
        return -1;
    }
    if (c->key_path == NULL) {
        mkdir(c->data_dir, 0700);
        mkdir(keys_dir, 0700);
    }
    if (keys_file_load_or_create(c->key_path != NULL ? c->key_path : path, KEYS_KEY_LEN, &c->key,
                                 err, sizeof(err)) != KEYS_OK) {
        fprintf(stderr, "ownmail-queue: %s\n", err);
        return -1;
    }
    c->cfg.server_key = c->key;
    return 0;
}

static int cli_put(cli *c)
{
    char id[QUEUE_ID_LEN + 1], err[QUEUE_ERR_MAX];
    buf msg;
    if (!c->have_from || c->env.nrcpt == 0)
        return cli_usage();
    buf_init_secret(&msg, c->cfg.message_max + 1);
    char chunk[65536];
    ssize_t n;
    while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && buf_append(&msg, chunk, (size_t)n) < 0)
            break;
    queue_result r = msg.failed ? QUEUE_ERR_TOO_BIG
                                : queue_put(c->cfg.queue_dir, c->key, &c->env, msg.data, msg.len,
                                            c->cfg.message_max, id, err, sizeof(err));
    buf_free(&msg);
    if (r != QUEUE_OK) {
        fprintf(stderr, "ownmail-queue: put: %s\n",
                r == QUEUE_ERR_TOO_BIG && msg.failed ? "message too big" : err);
        return 1;
    }
    printf("%s\n", id);
    return 0;
}

static int cli_list(cli *c)
{
    static const char *names[] = {"pending", "delivered", "failed"};
    char(*ids)[QUEUE_ID_LEN + 1] = NULL, err[QUEUE_ERR_MAX];
    size_t n = 0;
    if (queue_list(c->cfg.queue_dir, &ids, &n, err, sizeof(err)) != QUEUE_OK) {
        fprintf(stderr, "ownmail-queue: list: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        queue_entry *e = NULL;
        queue_state st;
        if (queue_open(c->cfg.queue_dir, c->key, ids[i], &e, err, sizeof(err)) != QUEUE_OK ||
            queue_state_load(c->cfg.queue_dir, c->key, e, &st, err, sizeof(err)) != QUEUE_OK) {
            printf("%s\tunreadable\t%s\n", ids[i], err);
            queue_entry_free(&e);
            continue;
        }
        printf("%s\tqueued=%lld\tfrom=<%s>\tsize=%zu\n", e->id, (long long)e->env.queued_at,
               e->env.from, e->msg_len);
        for (size_t k = 0; k < st.nrcpt; k++) {
            const queue_rcpt_state *rs = &st.rcpts[k];
            printf("\t%s\t%s%s\tattempts=%u\tnext=%lld\t%s\n", e->env.rcpts[k].addr,
                   names[rs->status], queue_rcpt_dsn_due(rs) ? "(unreported)" : "", rs->attempts,
                   (long long)rs->next_attempt, rs->reply);
        }
        queue_state_free(&st);
        queue_entry_free(&e);
    }
    free(ids);
    return 0;
}

/* queue_local_fn of the command line: DSNs become files of --dsn-dir. */
static int cli_dsn(void *ctx, const char *recipient, const char *msg, size_t len)
{
    const cli *c = ctx;
    char rnd[17], tmp[QUEUE_PATH_MAX], path[QUEUE_PATH_MAX];
    if (c->dsn_dir == NULL) {
        log_info(NULL, "DSN to <%s> (%zu bytes) dropped: no --dsn-dir", recipient, len);
        return 0;
    }
    if (keys_random_hex(rnd, 8) != KEYS_OK)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", c->dsn_dir, rnd);
    snprintf(path, sizeof(path), "%s/dsn-%lld-%s.eml", c->dsn_dir, (long long)time(NULL), rnd);
    FILE *f = fopen(tmp, "wx");
    if (f == NULL)
        return -1;
    bool ok = fwrite(msg, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int cli_run(cli *c, bool force)
{
    char err[QUEUE_ERR_MAX];
    queue_stats s;
    if (queue_run_pass(&c->cfg, cli_dsn, c, force, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "ownmail-queue: %s\n", err);
        return 1;
    }
    printf("queued=%llu attempts=%llu delivered=%llu deferred=%llu bounced=%llu dsns=%llu\n",
           (unsigned long long)s.queued, (unsigned long long)s.attempts,
           (unsigned long long)s.delivered, (unsigned long long)s.deferred,
           (unsigned long long)s.bounced, (unsigned long long)s.dsns);
    return 0;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    log_init("ownmail-queue", LOG_LEVEL_INFO);
    queue_config_default(&c.cfg);
    c.env.rcpts = calloc(CLI_MAX_RCPTS, sizeof(*c.env.rcpts));
    int rc = 2;
    if (c.env.rcpts == NULL || cli_config(&c, argc, argv) < 0)
        goto out;
    /* A configuration file may have set a queue dir; flags win. */
    if (cli_parse(&c, argc, argv) < 0) {
        rc = cli_usage();
        goto out;
    }
    if (c.cfg.retry_max < c.cfg.retry_min)
        c.cfg.retry_max = c.cfg.retry_min;
    snprintf(c.cfg.queue_dir, sizeof(c.cfg.queue_dir), "%s/queue", c.data_dir);
    if (cli_load_key(&c) < 0) {
        rc = 1;
        goto out;
    }
    if (strcmp(c.command, "put") == 0)
        rc = cli_put(&c);
    else if (strcmp(c.command, "list") == 0)
        rc = cli_list(&c);
    else if (strcmp(c.command, "run-once") == 0)
        rc = cli_run(&c, false);
    else if (strcmp(c.command, "flush") == 0)
        rc = cli_run(&c, true);
    else
        rc = cli_usage();
out:
    keys_secret_free(&c.key);
    free(c.env.rcpts);
    return rc;
}
