/* ownmail-dirfollow: drives lib/directory's follower for tests.
 *
 *   ownmail-dirfollow follow --api HOST:PORT --redis HOST:PORT --secret-file PATH
 *                            --status-file PATH [--stream NAME] [--block-ms N]
 *     follows the feed until SIGTERM/SIGINT; after every change rewrites the
 *     status file atomically (temporary file + rename) with
 *     "seq <n>\ndigest <hex>\n".
 *   ownmail-dirfollow digest --api HOST:PORT --secret-file PATH
 *     fetches one snapshot and prints "seq <n> digest <hex>".
 *
 * Both digests come from directory_digest(), so a test can compare what a
 * follower converged to with what the api holds. Exit status 0, 1 on a
 * runtime failure, 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "follower.h"
#include "log.h"

#define DIRFOLLOW_SECRET_FILE_MAX 4096
#define DIRFOLLOW_PATH_MAX 4096

typedef struct dirfollow_args {
    const char *cmd;
    char api_host[DIRECTORY_FOLLOWER_HOST_MAX + 1];
    int api_port;
    char redis_host[DIRECTORY_FOLLOWER_HOST_MAX + 1];
    int redis_port;
    const char *secret_file;
    const char *status_file;
    const char *stream;
    int block_ms;
} dirfollow_args;

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: ownmail-dirfollow follow --api HOST:PORT --redis HOST:PORT --secret-file PATH\n"
            "                                --status-file PATH [--stream NAME] [--block-ms N]\n"
            "       ownmail-dirfollow digest --api HOST:PORT --secret-file PATH\n");
    exit(2);
}

/* "HOST:PORT" (the last ':' separates). */
static int parse_hostport(const char *s, char host[DIRECTORY_FOLLOWER_HOST_MAX + 1], int *port_r)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || (size_t)(colon - s) > DIRECTORY_FOLLOWER_HOST_MAX)
        return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 1 || port > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port_r = (int)port;
    return 0;
}

static void parse_args(int argc, char **argv, dirfollow_args *a)
{
    if (argc < 2)
        usage();
    a->cmd = argv[1];
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--api") == 0) {
            if (parse_hostport(val, a->api_host, &a->api_port) != 0)
                usage();
        } else if (strcmp(opt, "--redis") == 0) {
            if (parse_hostport(val, a->redis_host, &a->redis_port) != 0)
                usage();
        } else if (strcmp(opt, "--secret-file") == 0) {
            a->secret_file = val;
        } else if (strcmp(opt, "--status-file") == 0) {
            a->status_file = val;
        } else if (strcmp(opt, "--stream") == 0) {
            a->stream = val;
        } else if (strcmp(opt, "--block-ms") == 0) {
            a->block_ms = atoi(val);
        } else {
            usage();
        }
    }
    bool follow = strcmp(a->cmd, "follow") == 0;
    if (!follow && strcmp(a->cmd, "digest") != 0)
        usage();
    if (a->api_port == 0 || a->secret_file == NULL)
        usage();
    if (follow && (a->redis_port == 0 || a->status_file == NULL ||
                   strlen(a->status_file) > DIRFOLLOW_PATH_MAX - 16))
        usage();
}

/* The bearer token from the key file, sodium_malloc'd. */
static char *read_token(const char *path, size_t *len_r)
{
    if (sodium_init() < 0)
        log_fatal("libsodium init failed");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        log_fatal("open(%s) failed: %s", path, strerror(errno));
    unsigned char *raw = sodium_malloc(DIRFOLLOW_SECRET_FILE_MAX);
    if (raw == NULL)
        log_fatal("out of memory");
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, raw + n, DIRFOLLOW_SECRET_FILE_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            log_fatal("read(%s) failed: %s", path, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == DIRFOLLOW_SECRET_FILE_MAX)
            log_fatal("%s: secret file too large", path);
    }
    close(fd);
    char *token = NULL;
    if (directory_follower_secret_from_file(raw, n, &token, len_r) != 0)
        log_fatal("%s: unusable worker secret", path);
    sodium_free(raw);
    return token;
}

static int cmd_digest(const dirfollow_args *a, const char *token, size_t token_len)
{
    directory_follower_config cfg = {
        .api_host = a->api_host,
        .api_port = a->api_port,
        .worker_secret = (const unsigned char *)token,
        .worker_secret_len = token_len,
    };
    char err[512];
    directory *d = NULL;
    if (directory_follower_fetch_snapshot(&cfg, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "ownmail-dirfollow: %s\n", err);
        return 1;
    }
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    int rc = directory_digest(d, hex);
    if (rc == 0)
        printf("seq %" PRIu64 " digest %s\n", directory_seq(d), hex);
    directory_free(&d);
    return rc == 0 ? 0 : 1;
}

/* Rewrites the status file: write a temporary file, then rename it over. */
static void status_write(void *ctx, directory_follower *f, uint64_t seq_hint)
{
    (void)seq_hint;
    const char *path = ctx;
    uint64_t seq;
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    if (directory_follower_status(f, &seq, hex) != 0) {
        log_error("dirfollow", "digest failed: out of memory");
        return;
    }
    char tmp[DIRFOLLOW_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (out == NULL) {
        log_error("dirfollow", "fopen(%s) failed: %s", tmp, strerror(errno));
        return;
    }
    fprintf(out, "seq %" PRIu64 "\ndigest %s\n", seq, hex);
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        log_error("dirfollow", "writing %s failed: %s", path, strerror(errno));
}

static int cmd_follow(const dirfollow_args *a, const char *token, size_t token_len)
{
    /* Block the signals before the follower thread exists, so it inherits
     * the mask and only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    directory_follower_config cfg = {
        .api_host = a->api_host,
        .api_port = a->api_port,
        .worker_secret = (const unsigned char *)token,
        .worker_secret_len = token_len,
        .redis_host = a->redis_host,
        .redis_port = a->redis_port,
        .stream = a->stream,
        .block_ms = a->block_ms,
        .on_change = status_write,
        .on_change_ctx = (void *)a->status_file,
    };
    directory_follower *f = NULL;
    const char *why = NULL;
    if (directory_follower_start(&cfg, &f, &why) != 0) {
        fprintf(stderr, "ownmail-dirfollow: %s\n", why);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    log_info("dirfollow", "signal %d: stopping at seq %" PRIu64, sig, directory_follower_seq(f));
    directory_follower_stop(&f);
    return 0;
}

int main(int argc, char **argv)
{
    log_init("ownmail-dirfollow", LOG_LEVEL_INFO);
    dirfollow_args a = {0};
    parse_args(argc, argv, &a);
    size_t token_len = 0;
    char *token = read_token(a.secret_file, &token_len);
    int rc = strcmp(a.cmd, "digest") == 0 ? cmd_digest(&a, token, token_len)
                                          : cmd_follow(&a, token, token_len);
    sodium_free(token);
    return rc;
}
