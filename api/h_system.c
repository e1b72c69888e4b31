/* Health, readiness and the workers' directory snapshot. */
#include "db.h"
#include "feed.h"
#include "handlers.h"
#include "rds.h"
#include "relay.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

void h_healthz(req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    reply_json(r, 200, o);
}

void h_readyz(req *r)
{
    bool db_ok = false, redis_ok = false;
    sqlite3_stmt *st = db_prepare(r->db, "SELECT COUNT(*) FROM meta");
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        db_ok = true;
    db_finish(st);
    redisReply *rep = rds_command("PING");
    if (rep != NULL) {
        redis_ok = rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
        freeReplyObject(rep);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", db_ok && redis_ok ? "ok" : "fail");
    cJSON *checks = cJSON_AddObjectToObject(o, "checks");
    cJSON_AddStringToObject(checks, "database", db_ok ? "ok" : "fail");
    cJSON_AddStringToObject(checks, "redis", redis_ok ? "ok" : "fail");
    reply_json(r, db_ok && redis_ok ? 200 : 503, o);
}

/* GET /internal/v1/directory: the snapshot workers start from. Not public:
 * only a holder of keys/worker.secret may read it (it holds key wraps). */
void h_internal_directory(req *r)
{
    const char *h = req_header(r, "Authorization");
    const unsigned char *secret = keys_secret_bytes(r->app->worker_secret);
    size_t slen = keys_secret_len(r->app->worker_secret);
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != slen ||
        sodium_memcmp(h + 7, secret, slen) != 0) {
        reply_problem(r, PROBLEM_UNAUTHORIZED, "the worker secret is required");
        return;
    }
    cJSON *snap = feed_snapshot(r->db);
    if (snap == NULL) {
        reply_internal(r, "snapshot failed");
        return;
    }
    reply_json(r, 200, snap);
}
