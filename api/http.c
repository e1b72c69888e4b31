#include "http.h"

#include "auth.h"
#include "buf.h"
#include "cache.h"
#include "db.h"
#include "jsoncheck.h"
#include "log.h"
#include "metrics.h"
#include "rfc3339.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_CURSOR_MAX 512
#define HTTP_CURSOR_MAC 16

static const struct {
    const char *slug;
    int status;
    const char *title;
    const char *doc;
} problems[PROBLEM_COUNT] = {
    [PROBLEM_INVALID_JSON] = {"invalid-json", 400, "Malformed JSON",
                              "The request body is not well-formed JSON, or is not a JSON object."},
    [PROBLEM_BAD_REQUEST] = {"bad-request", 400, "Bad request",
                             "A query parameter or header is malformed or out of range."},
    [PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {"unsupported-media-type", 415, "Unsupported media type",
                                        "Request bodies must be sent as application/json."},
    [PROBLEM_PAYLOAD_TOO_LARGE] = {"payload-too-large", 413, "Payload too large",
                                   "The request body is larger than the server accepts."},
    [PROBLEM_VALIDATION_FAILED] = {"validation-failed", 422, "Validation failed",
                                   "One or more fields are missing, of the wrong type, unknown, or "
                                   "invalid; the errors member lists them."},
    [PROBLEM_UNAUTHORIZED] = {"unauthorized", 401, "Unauthorized",
                              "No valid bearer token or API key was presented, or it has expired "
                              "or been revoked."},
    [PROBLEM_INVALID_CREDENTIALS] = {"invalid-credentials", 401, "Invalid credentials",
                                     "The username, password or recovery key is wrong."},
    [PROBLEM_FORBIDDEN] = {"forbidden", 403, "Forbidden",
                           "The authenticated admin's role does not allow this operation."},
    [PROBLEM_NOT_FOUND] = {"not-found", 404, "Not found",
                           "No such resource, or not one the caller may see."},
    [PROBLEM_METHOD_NOT_ALLOWED] = {"method-not-allowed", 405, "Method not allowed",
                                    "The resource exists but does not support this method."},
    [PROBLEM_ALREADY_EXISTS] = {"already-exists", 409, "Already exists",
                                "A resource with this name already exists."},
    [PROBLEM_DOMAIN_NOT_EMPTY] = {"domain-not-empty", 409, "Domain not empty",
                                  "The domain still has users or aliases; repeat with ?force=true "
                                  "to delete them too."},
    [PROBLEM_LAST_GLOBAL_ADMIN] = {"last-global-admin", 409, "Last global admin",
                                   "The operation would leave no enabled global admin."},
    [PROBLEM_TOO_MANY_REQUESTS] = {"too-many-requests", 429, "Too many requests",
                                   "Too many failed attempts; wait for the time in Retry-After."},
    [PROBLEM_SERVICE_UNAVAILABLE] = {"service-unavailable", 503, "Service unavailable",
                                     "A dependency (the database or Redis) is not reachable."},
    [PROBLEM_INTERNAL_ERROR] = {"internal-error", 500, "Internal error",
                                "The server failed; the request id in the logs tells where."},
};

#define HTTP_REPLY_HEADERS_MAX 4096

/* Only the answers to writes show secrets (a new user's generated password and
 * recovery key, an app password, an API key, a token); reads never do. */
static bool reply_may_hold_secret(const req *r)
{
    return strcmp(r->ri->request_method, "GET") != 0;
}

/* Sends headers and body in one write: with keep-alive, a response split in
 * two small segments would wait for the client's delayed ACK (Nagle). */
static void reply_raw(req *r, int status, const char *ctype, const char *body, size_t len,
                      const char *extra_headers)
{
    r->status = status;
    bool head = strcmp(r->ri->request_method, "HEAD") == 0;
    buf b;
    if (reply_may_hold_secret(r))
        buf_init_secret(&b, HTTP_REPLY_HEADERS_MAX + len);
    else
        buf_init(&b, HTTP_REPLY_HEADERS_MAX + len);
    buf_printf(&b,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
               "X-Request-Id: %s\r\n%s\r\n",
               status, mg_get_response_code_text(r->conn, status), ctype, len, r->id,
               extra_headers != NULL ? extra_headers : "");
    if (len > 0 && !head)
        buf_append(&b, body, len);
    if (!b.failed)
        mg_write(r->conn, b.data, b.len);
    buf_free(&b);
    if (r->cache_key != NULL && status == 200 && !head)
        cache_put(r->cache_key, r->cache_generation, status, body, len);
}

static void reply_json_headers(req *r, int status, cJSON *body, const char *ctype,
                               const char *extra)
{
    char *text = cJSON_PrintUnformatted(body);
    bool secret = reply_may_hold_secret(r);
    if (secret)
        body_free(body); /* zeroes its strings */
    else
        cJSON_Delete(body);
    if (text == NULL) {
        static const char oom[] = "{\"type\":\"/problems/internal-error\",\"title\":\"Internal "
                                  "error\",\"status\":500,\"detail\":\"out of memory\"}";
        reply_raw(r, 500, "application/problem+json", oom, sizeof(oom) - 1, NULL);
        return;
    }
    size_t len = strlen(text);
    reply_raw(r, status, ctype, text, len, extra);
    if (secret)
        sodium_memzero(text, len);
    cJSON_free(text);
}

void reply_json(req *r, int status, cJSON *body)
{
    reply_json_headers(r, status, body, "application/json", NULL);
}

void reply_json_created(req *r, cJSON *body, const char *location_fmt, ...)
{
    char loc[HTTP_PATH_MAX];
    char hdr[HTTP_PATH_MAX + 32];
    va_list ap;
    va_start(ap, location_fmt);
    vsnprintf(loc, sizeof(loc), location_fmt, ap);
    va_end(ap);
    snprintf(hdr, sizeof(hdr), "Location: %s\r\n", loc);
    reply_json_headers(r, 201, body, "application/json", hdr);
}

void reply_empty(req *r, int status)
{
    r->status = status;
    mg_printf(r->conn, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nX-Request-Id: %s\r\n\r\n", status,
              mg_get_response_code_text(r->conn, status), r->id);
}

void reply_retry_after(req *r, long seconds)
{
    r->retry_after = seconds;
}

static void reply_problem_body(req *r, problem_kind kind, const char *detail, cJSON *errors)
{
    cJSON *p = cJSON_CreateObject();
    char type[64];
    snprintf(type, sizeof(type), "/problems/%s", problems[kind].slug);
    cJSON_AddStringToObject(p, "type", type);
    cJSON_AddStringToObject(p, "title", problems[kind].title);
    cJSON_AddNumberToObject(p, "status", problems[kind].status);
    if (detail != NULL && detail[0] != '\0')
        cJSON_AddStringToObject(p, "detail", detail);
    if (errors != NULL)
        cJSON_AddItemToObject(p, "errors", errors);
    char extra[64] = "";
    if (kind == PROBLEM_TOO_MANY_REQUESTS) {
        long s = r->retry_after > 0 ? r->retry_after : 60;
        snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", s);
    } else if (kind == PROBLEM_UNAUTHORIZED || kind == PROBLEM_INVALID_CREDENTIALS) {
        snprintf(extra, sizeof(extra), "WWW-Authenticate: Bearer realm=\"ownmail\"\r\n");
    }
    reply_json_headers(r, problems[kind].status, p, "application/problem+json", extra);
}

void reply_problem(req *r, problem_kind kind, const char *detail_fmt, ...)
{
    char detail[512] = "";
    if (detail_fmt != NULL) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof(detail), detail_fmt, ap);
        va_end(ap);
    }
    reply_problem_body(r, kind, detail, NULL);
}

void reply_invalid(req *r, cJSON *errors)
{
    reply_problem_body(r, PROBLEM_VALIDATION_FAILED, "The request body has invalid fields.",
                       errors);
}

void reply_internal(req *r, const char *what)
{
    log_error(r->id, "%s %s: %s", r->ri->request_method, r->ri->local_uri, what);
    reply_problem(r, PROBLEM_INTERNAL_ERROR, "request %s failed", r->id);
}

int http_problem_doc(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *slug = ri->local_uri + strlen("/problems/");
    for (int i = 0; i < PROBLEM_COUNT; i++) {
        if (strcmp(slug, problems[i].slug) != 0)
            continue;
        char text[1024];
        int n = snprintf(text, sizeof(text), "%s (HTTP %d)\n\n%s\n", problems[i].title,
                         problems[i].status, problems[i].doc);
        mg_printf(conn,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: %d\r\n\r\n%s",
                  n, text);
        return 200;
    }
    static const char missing[] = "{\"type\":\"/problems/not-found\",\"title\":\"Not found\","
                                  "\"status\":404,\"detail\":\"no such problem type\"}";
    mg_printf(conn,
              "HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\n"
              "Content-Length: %zu\r\n\r\n%s",
              sizeof(missing) - 1, missing);
    return 404;
}

const char *req_header(req *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

const char *req_ip(req *r)
{
    return r->client_ip;
}

/* The client's address: the peer, or, when the peer is a trusted reverse
 * proxy (api.trusted_proxies), the client its X-Forwarded-For names. */
static void req_set_client_ip(req *r)
{
    const app_config *c = &r->app->cfg;
    const char *xff = req_header(r, "X-Forwarded-For");
    snprintf(r->client_ip, sizeof(r->client_ip), "%s", r->ri->remote_addr);
    if (xff != NULL && c->ntrusted_proxies > 0 &&
        netaddr_list_match(c->trusted_proxies, c->ntrusted_proxies, r->ri->remote_addr))
        netaddr_forwarded_client(xff, c->trusted_proxies, c->ntrusted_proxies, r->client_ip,
                                 sizeof(r->client_ip));
}

static bool content_type_is_json(const char *ct)
{
    if (ct == NULL)
        return false;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

cJSON *req_json_body(req *r)
{
    long long max = r->app->cfg.body_max;
    long long cl = r->ri->content_length;
    if (cl > max) {
        reply_problem(r, PROBLEM_PAYLOAD_TOO_LARGE, "the body may be at most %lld bytes", max);
        return NULL;
    }
    if (!content_type_is_json(req_header(r, "Content-Type"))) {
        reply_problem(r, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json");
        return NULL;
    }
    buf b;
    buf_init_secret(&b, (size_t)max); /* bodies carry passwords */
    char chunk[4096];
    int n;
    bool too_large = false;
    while (!too_large && (n = mg_read(r->conn, chunk, sizeof(chunk))) > 0)
        too_large = buf_append(&b, chunk, (size_t)n) < 0;
    sodium_memzero(chunk, sizeof(chunk));
    if (too_large) {
        buf_free(&b);
        reply_problem(r, PROBLEM_PAYLOAD_TOO_LARGE, "the body may be at most %lld bytes", max);
        return NULL;
    }
    const char *end = NULL, *why = NULL;
    if (jsoncheck_body(b.data, b.len, JSONCHECK_DEPTH_DEFAULT, &why) < 0) {
        buf_free(&b);
        reply_problem(r, PROBLEM_INVALID_JSON, "%s", why);
        return NULL;
    }
    /* The length includes buf's NUL: cJSON checks that nothing follows the value. */
    cJSON *json = b.len > 0 ? cJSON_ParseWithLengthOpts(b.data, b.len + 1, &end, true) : NULL;
    buf_free(&b);
    if (json == NULL || !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        reply_problem(r, PROBLEM_INVALID_JSON, "the body must be one JSON object");
        return NULL;
    }
    return json;
}

/* Zeroes every string under node (depth is bounded by jsoncheck). */
static void body_wipe(cJSON *node)
{
    for (cJSON *c = node->child; c != NULL; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring != NULL)
            sodium_memzero(c->valuestring, strlen(c->valuestring));
        else if (cJSON_IsArray(c) || cJSON_IsObject(c))
            body_wipe(c);
    }
}

void body_free(cJSON *body)
{
    if (body == NULL)
        return;
    body_wipe(body);
    cJSON_Delete(body);
}

int req_query(req *r, const char *name, char *out, size_t outlen)
{
    const char *qs = r->ri->query_string;
    if (qs == NULL)
        return 0;
    int n = mg_get_var(qs, strlen(qs), name, out, outlen);
    if (n == -1)
        return 0;
    return n < 0 ? -1 : 1;
}

static int cursor_open(req *r, const char *text, char *key_r, size_t key_len);

int req_page(req *r, int *limit_r, char *cursor_r, size_t cursor_len)
{
    char v[HTTP_CURSOR_MAX];
    *limit_r = HTTP_LIST_LIMIT_DEFAULT;
    cursor_r[0] = '\0';
    int q = req_query(r, "limit", v, sizeof(v));
    if (q < 0)
        goto bad_limit;
    if (q > 0) {
        char *end = NULL;
        long l = strtol(v, &end, 10);
        if (v[0] == '\0' || *end != '\0' || l < 1 || l > HTTP_LIST_LIMIT_MAX)
            goto bad_limit;
        *limit_r = (int)l;
    }
    q = req_query(r, "cursor", v, sizeof(v));
    if (q < 0 || (q > 0 && cursor_open(r, v, cursor_r, cursor_len) < 0))
        goto bad_cursor;
    return 0;
bad_limit:
    reply_problem(r, PROBLEM_BAD_REQUEST, "limit must be an integer from 1 to %d",
                  HTTP_LIST_LIMIT_MAX);
    return -1;
bad_cursor:
    reply_problem(r, PROBLEM_BAD_REQUEST, "cursor is not one this server issued");
    return -1;
}

/* A cursor is the last key of a page and a MAC over it and the route, so a
 * client can only hand back positions this server gave it for that list. */
static void cursor_mac(req *r, const char *key, size_t len, unsigned char mac[HTTP_CURSOR_MAC])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, keys_secret_bytes(r->app->jwt_key),
                            keys_secret_len(r->app->jwt_key), HTTP_CURSOR_MAC);
    crypto_generichash_update(&st, (const unsigned char *)"ownmail-cursor-v1", 18);
    crypto_generichash_update(&st, (const unsigned char *)r->route, strlen(r->route) + 1);
    crypto_generichash_update(&st, (const unsigned char *)key, len);
    crypto_generichash_final(&st, mac, HTTP_CURSOR_MAC);
}

static int cursor_open(req *r, const char *text, char *key_r, size_t key_len)
{
    unsigned char raw[HTTP_CURSOR_MAX], mac[HTTP_CURSOR_MAC];
    size_t n = 0;
    if (sodium_base642bin(raw, sizeof(raw), text, strlen(text), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n <= HTTP_CURSOR_MAC || n - HTTP_CURSOR_MAC >= key_len)
        return -1;
    size_t klen = n - HTTP_CURSOR_MAC;
    cursor_mac(r, (const char *)raw, klen, mac);
    if (sodium_memcmp(mac, raw + klen, HTTP_CURSOR_MAC) != 0 || memchr(raw, '\0', klen) != NULL)
        return -1;
    memcpy(key_r, raw, klen);
    key_r[klen] = '\0';
    return 0;
}

cJSON *page_wrap(req *r, cJSON *items, const char *next_key)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "items", items);
    size_t klen = next_key != NULL ? strlen(next_key) : 0;
    if (next_key != NULL && klen + HTTP_CURSOR_MAC <= HTTP_CURSOR_MAX) {
        unsigned char raw[HTTP_CURSOR_MAX];
        char enc[HTTP_CURSOR_MAX * 2];
        memcpy(raw, next_key, klen);
        cursor_mac(r, next_key, klen, raw + klen);
        sodium_bin2base64(enc, sizeof(enc), raw, klen + HTTP_CURSOR_MAC,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        cJSON_AddStringToObject(o, "next_cursor", enc);
    } else {
        cJSON_AddNullToObject(o, "next_cursor");
    }
    return o;
}

void reply_page(req *r, const char *sql, int64_t scope, int key_col, page_row_fn row,
                const void *ctx)
{
    int limit;
    char cursor[HTTP_CURSOR_MAX];
    if (req_page(r, &limit, cursor, sizeof(cursor)) < 0)
        return;
    sqlite3_stmt *st = db_prepare(r->db, sql);
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, scope);
    sqlite3_bind_text(st, 2, cursor, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit);
    sqlite3_bind_int64(st, 4, r->who.admin_id);
    sqlite3_bind_int(st, 5, r->who.global);
    cJSON *items = cJSON_CreateArray();
    char last[HTTP_CURSOR_MAX] = "";
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON_AddItemToArray(items, row(r->db, st, ctx));
        snprintf(last, sizeof(last), "%s", db_text(st, key_col));
        n++;
    }
    db_finish(st);
    reply_json(r, 200, page_wrap(r, items, n == limit ? last : NULL));
}

void errors_add(cJSON **errors, const char *field, const char *message)
{
    if (*errors == NULL)
        *errors = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "field", field);
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddItemToArray(*errors, e);
}

static bool jf_type_ok(const cJSON *v, jf_type t)
{
    switch (t) {
    case JF_STRING:
        return cJSON_IsString(v);
    case JF_STRING_OR_NULL:
        return cJSON_IsString(v) || cJSON_IsNull(v);
    case JF_BOOL:
        return cJSON_IsBool(v);
    case JF_INT: {
        if (!cJSON_IsNumber(v))
            return false;
        double d = v->valuedouble;
        return d >= -9007199254740991.0 && d <= 9007199254740991.0 && d == (double)(int64_t)d;
    }
    case JF_STRING_ARRAY: {
        if (!cJSON_IsArray(v))
            return false;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e)) return false;
        return true;
    }
    }
    return false;
}

static const char *jf_type_name(jf_type t)
{
    static const char *names[] = {"a string", "a boolean", "an integer", "an array of strings",
                                  "a string or null"};
    return names[t];
}

int body_check(req *r, const cJSON *body, const jfield *fields, size_t nfields)
{
    cJSON *errors = NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, body)
    {
        size_t i;
        for (i = 0; i < nfields; i++)
            if (strcmp(item->string, fields[i].name) == 0)
                break;
        if (i == nfields) {
            errors_add(&errors, item->string, "unknown field");
            continue;
        }
        /* RFC 8259 4 leaves repeated names to the parser; we refuse them
         * rather than guess which one the client meant. */
        const cJSON *prev;
        bool repeated = false;
        for (prev = body->child; prev != item; prev = prev->next)
            repeated = repeated || strcmp(prev->string, item->string) == 0;
        if (repeated) {
            errors_add(&errors, item->string, "repeated field");
            continue;
        }
        if (!jf_type_ok(item, fields[i].type)) {
            char msg[64];
            snprintf(msg, sizeof(msg), "must be %s", jf_type_name(fields[i].type));
            errors_add(&errors, item->string, msg);
        }
    }
    for (size_t i = 0; i < nfields; i++)
        if (fields[i].required && cJSON_GetObjectItemCaseSensitive(body, fields[i].name) == NULL)
            errors_add(&errors, fields[i].name, "is required");
    if (errors != NULL) {
        reply_invalid(r, errors);
        return -1;
    }
    return 0;
}

int64_t json_int(const cJSON *body, const char *name, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItem(body, name);
    return v != NULL ? (int64_t)v->valuedouble : def;
}

const char *json_str(const cJSON *body, const char *name, const char *def)
{
    const cJSON *v = cJSON_GetObjectItem(body, name);
    return v != NULL ? v->valuestring : def;
}

void json_add_int(cJSON *obj, const char *name, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)v);
    cJSON_AddRawToObject(obj, name, text);
}

cJSON *json_time(int64_t t)
{
    char s[RFC3339_SIZE];
    rfc3339_format(t, s);
    return cJSON_CreateString(s);
}

void json_add_time(cJSON *obj, const char *name, int64_t t, bool nullable)
{
    if (nullable && t == 0)
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddItemToObject(obj, name, json_time(t));
}

/* Splits path and pattern at '/' and matches "{name}" segments as parameters. */
static bool route_match(const char *pattern, const char *path, req *r)
{
    int np = 0;
    while (*pattern != '\0' || *path != '\0') {
        if (*pattern != '/' || *path != '/')
            return false;
        pattern++;
        path++;
        const char *pe = strchr(pattern, '/');
        const char *se = strchr(path, '/');
        size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
        size_t sl = se ? (size_t)(se - path) : strlen(path);
        if (pl >= 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
            if (sl == 0 || sl >= HTTP_PARAM_MAX || np == HTTP_PARAMS_MAX)
                return false;
            memcpy(r->params[np], path, sl);
            r->params[np][sl] = '\0';
            np++;
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl;
        path += sl;
    }
    r->nparams = np;
    return true;
}

/* Answers a cacheable GET from the cache (1), or arms the cache for the
 * handler's reply (0). The key names the caller, since what a domain admin
 * may see differs from what a global admin sees. */
static int http_from_cache(req *r, const route *rt)
{
    if (!rt->cacheable || strcmp(r->ri->request_method, "GET") != 0 || !r->who.authenticated)
        return 0;
    buf key;
    buf_init(&key, CACHE_KEY_MAX);
    buf_printf(&key, "%lld|%d|%s?%s", (long long)r->who.admin_id, r->who.global, r->ri->local_uri,
               r->ri->query_string != NULL ? r->ri->query_string : "");
    if (key.failed) {
        buf_free(&key);
        return 0;
    }
    buf body;
    buf_init(&body, CACHE_BODY_MAX);
    int status;
    if (cache_get(key.data, &status, &body)) {
        reply_raw(r, status, "application/json", body.data, body.len, NULL);
        buf_free(&body);
        buf_free(&key);
        return 1;
    }
    buf_free(&body);
    r->cache_generation = cache_generation();
    r->cache_key = buf_steal(&key);
    return 0;
}

int http_dispatch(struct mg_connection *conn, app *a, const char *prefix, const route *routes,
                  size_t nroutes)
{
    req r;
    memset(&r, 0, sizeof(r));
    r.conn = conn;
    r.ri = mg_get_request_info(conn);
    r.app = a;
    r.route = "unmatched";
    req_set_client_ip(&r);
    unsigned char rid[8];
    randombytes_buf(rid, sizeof(rid));
    sodium_bin2hex(r.id, sizeof(r.id), rid, sizeof(rid));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    const char *path = r.ri->local_uri + strlen(prefix);
    const char *method = r.ri->request_method;
    const route *found = NULL;
    bool path_known = false;
    char allow[128] = "";
    if (strlen(r.ri->local_uri) < HTTP_PATH_MAX) {
        for (size_t i = 0; i < nroutes; i++) {
            if (!route_match(routes[i].pattern, path, &r))
                continue;
            path_known = true;
            if (strlen(allow) + strlen(routes[i].method) + 3 < sizeof(allow)) {
                if (allow[0] != '\0')
                    strcat(allow, ", ");
                strcat(allow, routes[i].method);
            }
            if (strcmp(routes[i].method, method) == 0) {
                found = &routes[i];
                break;
            }
        }
    }
    if (found == NULL) {
        if (path_known) {
            r.route = "unmatched";
            char hdr[160];
            snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "type", "/problems/method-not-allowed");
            cJSON_AddStringToObject(p, "title", problems[PROBLEM_METHOD_NOT_ALLOWED].title);
            cJSON_AddNumberToObject(p, "status", 405);
            char detail[200];
            snprintf(detail, sizeof(detail), "%s is not allowed here; use %s", method, allow);
            cJSON_AddStringToObject(p, "detail", detail);
            reply_json_headers(&r, 405, p, "application/problem+json", hdr);
        } else {
            reply_problem(&r, PROBLEM_NOT_FOUND, "no such endpoint");
        }
    } else {
        r.route = found->pattern;
        r.db = db_thread();
        if (r.db == NULL) {
            reply_problem(&r, PROBLEM_SERVICE_UNAVAILABLE, "the control database is unavailable");
        } else if (auth_request(&r, found->auth) == 0 && !http_from_cache(&r, found)) {
            found->fn(&r);
            int leaked = db_release_all();
            if (leaked > 0)
                log_error(r.id, "%s %s left %d statements open", method, r.route, leaked);
            if (r.db != NULL)
                db_rollback(r.db); /* a handler that bailed out left nothing open */
            if (r.status == 0)
                reply_internal(&r, "handler sent no reply");
        }
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    metrics_record(found != NULL ? prefix : "", r.route, method, r.status, secs);
    free(r.cache_key);
    return r.status != 0 ? r.status : 500;
}
