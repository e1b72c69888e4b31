/* ownmail-api: the control plane. Owns control.db, serves the REST API, the
 * admin UI and the workers' directory snapshot, and relays the change feed. */
#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "rds.h"
#include "relay.h"
#include "routes.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAIN_JWT_KEY_BYTES 32
#define MAIN_WORKER_SECRET_BYTES 32
#define MAIN_SERVER_KEY_BYTES 32
#define MAIN_HEADER_MAX "16384" /* CivetWeb bounds request headers only */
#define MAIN_UI_HEADERS                                                                            \
    "X-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\n"                                 \
    "Content-Security-Policy: frame-ancestors 'none'\r\nReferrer-Policy: no-referrer"

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
}

static int api_handler(struct mg_connection *conn, void *cbdata)
{
    return http_dispatch(conn, cbdata, "/api/v1", api_routes, api_routes_count);
}

static int root_handler(struct mg_connection *conn, void *cbdata)
{
    return http_dispatch(conn, cbdata, "", root_routes, root_routes_count);
}

/* Anything else under /api/ (another version, a typo): a problem+json 404. */
static int api_unknown_handler(struct mg_connection *conn, void *cbdata)
{
    return http_dispatch(conn, cbdata, "", NULL, 0);
}

static int internal_handler(struct mg_connection *conn, void *cbdata)
{
    return http_dispatch(conn, cbdata, "/internal/v1", internal_routes, internal_routes_count);
}

static void thread_exit(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void)ctx;
    (void)thread_type;
    (void)thread_pointer;
    db_thread_close();
    rds_thread_close();
}

static int main_log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("http", "%s", message);
    return 1;
}

static void main_load_key(app *a, const char *name, size_t len, keys_secret **r)
{
    char path[1200], err[KEYS_FILE_ERR_LEN];
    snprintf(path, sizeof(path), "%s/keys/%s", a->cfg.data_dir, name);
    if (keys_file_load_or_create(path, len, r, err, sizeof(err)) != KEYS_OK)
        log_fatal("%s", err);
}

/* The workers present the worker secret as lowercase hex in a bearer header. */
static void main_load_worker_secret(app *a)
{
    keys_secret *raw = NULL;
    main_load_key(a, "worker.secret", MAIN_WORKER_SECRET_BYTES, &raw);
    char hex[MAIN_WORKER_SECRET_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof(hex), keys_secret_bytes(raw), keys_secret_len(raw));
    if (keys_secret_from_bytes((const unsigned char *)hex, strlen(hex), &a->worker_secret) !=
        KEYS_OK)
        log_fatal("out of secure memory");
    sodium_memzero(hex, sizeof(hex));
    keys_secret_free(&raw);
}

static void main_prepare(app *a)
{
    char path[1200], err[512];
    if (mkdir(a->cfg.data_dir, 0700) < 0 && errno != EEXIST)
        log_fatal("mkdir(%s) failed: %s", a->cfg.data_dir, strerror(errno));
    snprintf(path, sizeof(path), "%s/keys", a->cfg.data_dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        log_fatal("mkdir(%s) failed: %s", path, strerror(errno));
    snprintf(a->db_path, sizeof(a->db_path), "%s/control.db", a->cfg.data_dir);
    if (db_migrate(a->db_path, err, sizeof(err)) < 0)
        log_fatal("%s", err);
    db_configure(a->db_path);
    main_load_key(a, "jwt.key", MAIN_JWT_KEY_BYTES, &a->jwt_key);
    main_load_key(a, "server.key", MAIN_SERVER_KEY_BYTES, &a->server_key);
    main_load_worker_secret(a);
    /* Unknown users are answered after the same Argon2id work as known ones. */
    keys_secret *k = NULL;
    char nobody[33];
    if (keys_store_key_new(&k) != KEYS_OK || keys_random_hex(nobody, 16) != KEYS_OK ||
        keys_wrap(k, nobody, strlen(nobody), &a->cfg.kdf_user, &a->dummy_wrap,
                  &a->dummy_wrap_len) != KEYS_OK)
        log_fatal("cannot make the dummy key wrap");
    keys_secret_free(&k);
}

/* Creates the first global admin when there is none, and writes
 * "user:password" to path (mode 0600). Leaves an existing setup alone. */
static int main_bootstrap_admin(app *a, const char *path)
{
    sqlite3 *db = db_thread();
    if (db == NULL)
        return 1;
    sqlite3_stmt *st = db_prepare(db, "SELECT COUNT(*) FROM admins");
    int64_t n = (st != NULL && sqlite3_step(st) == SQLITE_ROW) ? sqlite3_column_int64(st, 0) : -1;
    db_finish(st);
    if (n != 0) {
        log_info(NULL, "bootstrap: admins exist already, nothing to do");
        return n < 0;
    }
    char password[25], hash[128];
    if (keys_password_generate(password, 24) != KEYS_OK ||
        crypto_pwhash_str(hash, password, strlen(password), a->cfg.kdf_admin.opslimit,
                          a->cfg.kdf_admin.memlimit) != 0)
        return 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) < 0 || dprintf(fd, "admin:%s\n", password) < 0 ||
        fsync(fd) < 0) {
        log_error(NULL, "writing %s failed: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    sodium_memzero(password, sizeof(password));
    st = db_prepare(db, "INSERT INTO admins (username, password_hash, role, created_at, "
                        "updated_at, token_version) VALUES ('admin', ?1, 'global', ?2, ?2, ?3)");
    if (st == NULL)
        return 1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, db_now());
    sqlite3_bind_int64(st, 3, auth_new_token_version());
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE)
        return 1;
    log_info(NULL, "bootstrap: created global admin \"admin\"; credentials in %s", path);
    return 0;
}

static struct mg_context *main_start_http(app *a)
{
    char threads[16];
    snprintf(threads, sizeof(threads), "%lld", a->cfg.threads);
    struct stat sb;
    bool have_web = stat(a->cfg.web_dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    const char *options[] = {
        "listening_ports", a->cfg.listen, "num_threads", threads, "request_timeout_ms", "30000",
        "enable_keep_alive", "yes", "tcp_nodelay", "1", "max_request_size", MAIN_HEADER_MAX,
        "enable_directory_listing", "no",
        /* The admin UI: revalidate after an upgrade, never framed. */
        "static_file_cache_control", "no-cache", "additional_header", MAIN_UI_HEADERS,
        /* last, so that without web/ the list simply ends here */
        have_web ? "document_root" : NULL, a->cfg.web_dir, NULL, NULL};
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.exit_thread = thread_exit;
    cb.log_message = main_log_message;
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&cb, a, options);
    if (ctx == NULL)
        return NULL;
    mg_set_request_handler(ctx, "/api/v1", api_handler, a);
    mg_set_request_handler(ctx, "/api/", api_unknown_handler, a); /* after /api/v1 */
    mg_set_request_handler(ctx, "/internal/v1", internal_handler, a);
    mg_set_request_handler(ctx, "/healthz$", root_handler, a);
    mg_set_request_handler(ctx, "/readyz$", root_handler, a);
    mg_set_request_handler(ctx, "/metrics$", metrics_handler, a);
    mg_set_request_handler(ctx, "/problems/", http_problem_doc, a);
    return ctx;
}

static void main_usage(void)
{
    fprintf(stderr, "usage: ownmail-api [--config FILE] [run | bootstrap-admin CREDENTIALS_FILE | "
                    "check-config]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
        config_path = argv[i + 1];
        i += 2;
    }
    const char *cmd = i < argc ? argv[i++] : "run";
    log_init("ownmail-api", LOG_LEVEL_INFO);
    /* SQLite's allocation statistics take a global mutex on every malloc. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (keys_init() != KEYS_OK)
        log_fatal("libsodium failed to initialise");
    static app a;
    char err[1024];
    if (config_load(config_path, &a.cfg, err, sizeof(err)) < 0)
        log_fatal("%s", err);
    if (strcmp(cmd, "check-config") == 0) {
        printf("%s: ok\n", config_path != NULL ? config_path : "(defaults)");
        return 0;
    }
    main_prepare(&a);
    if (auth_init(&a.cfg.kdf_admin) < 0)
        log_fatal("password hashing failed to initialise");
    if (strcmp(cmd, "bootstrap-admin") == 0) {
        if (i >= argc)
            main_usage();
        return main_bootstrap_admin(&a, argv[i]);
    }
    if (strcmp(cmd, "run") != 0)
        main_usage();

    rds_configure(a.cfg.redis_host, a.cfg.redis_port);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, main_on_signal);
    signal(SIGTERM, main_on_signal);
    if (relay_start() < 0)
        log_fatal("cannot start the feed relay");
    struct mg_context *ctx = main_start_http(&a);
    if (ctx == NULL)
        log_fatal("cannot listen on %s", a.cfg.listen);
    log_info(NULL, "listening on http://%s (data in %s)", a.cfg.listen, a.cfg.data_dir);
    while (!main_stop)
        pause();
    log_info(NULL, "stopping");
    mg_stop(ctx);
    relay_stop();
    db_thread_close();
    keys_secret_free(&a.jwt_key);
    keys_secret_free(&a.server_key);
    keys_secret_free(&a.worker_secret);
    free(a.dummy_wrap);
    return 0;
}
