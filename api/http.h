/* http: request context, routing table, JSON replies and problem details
 * (RFC 9457) for the api. Handlers never touch CivetWeb directly for output. */
#ifndef OWNMAIL_API_HTTP_H
#define OWNMAIL_API_HTTP_H

#include "app.h"

#include <cjson/cJSON.h>
#include <civetweb.h>
#include <sqlite3.h>
#include <stdbool.h>

#define HTTP_PATH_MAX 2048
#define HTTP_PARAMS_MAX 4
#define HTTP_PARAM_MAX 512
#define HTTP_LIST_LIMIT_DEFAULT 100
#define HTTP_LIST_LIMIT_MAX 500
/* Room for local@domain before its length is checked against NAMES_ADDRESS_MAX. */
#define ADDRESS_BUF (64 + 1 + 253 + 1)

/* Who is calling, once authenticated. */
typedef struct principal {
    int64_t admin_id;
    char username[65];
    bool global; /* role global; otherwise a domain admin */
    bool via_api_key;
    bool authenticated;
    int64_t auth_time; /* JWT only */
} principal;

typedef struct req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    app *app;
    sqlite3 *db;
    const char *route; /* route pattern, for metrics */
    char id[17];       /* request id, in logs and X-Request-Id */
    char params[HTTP_PARAMS_MAX][HTTP_PARAM_MAX];
    int nparams;
    principal who;
    int status;
    char client_ip[NETADDR_TEXT_MAX + 1]; /* see req_ip */
    long retry_after;                     /* seconds, sent with a 429 */
    char *cache_key;                      /* set when a 200 reply may be cached (cache.h) */
    uint64_t cache_generation;
} req;

typedef enum {
    AUTH_NONE,  /* public; an Authorization header is ignored */
    AUTH_ADMIN, /* any authenticated admin */
} auth_mode;

typedef void (*route_fn)(req *r);

typedef struct route {
    const char *method;
    const char *pattern; /* "/domains/{}/users/{}" below /api/v1 */
    route_fn fn;
    auth_mode auth;
    bool cacheable; /* a GET whose 200 body depends only on control.db and the caller */
} route;

/* Problem slugs. The order matches http.c's table. */
typedef enum {
    PROBLEM_INVALID_JSON,
    PROBLEM_BAD_REQUEST,
    PROBLEM_UNSUPPORTED_MEDIA_TYPE,
    PROBLEM_PAYLOAD_TOO_LARGE,
    PROBLEM_VALIDATION_FAILED,
    PROBLEM_UNAUTHORIZED,
    PROBLEM_INVALID_CREDENTIALS,
    PROBLEM_FORBIDDEN,
    PROBLEM_NOT_FOUND,
    PROBLEM_METHOD_NOT_ALLOWED,
    PROBLEM_ALREADY_EXISTS,
    PROBLEM_DOMAIN_NOT_EMPTY,
    PROBLEM_LAST_GLOBAL_ADMIN,
    PROBLEM_TOO_MANY_REQUESTS,
    PROBLEM_SERVICE_UNAVAILABLE,
    PROBLEM_INTERNAL_ERROR,
    PROBLEM_COUNT
} problem_kind;

/* Dispatches a request under prefix against a table. Used by main.c. */
int http_dispatch(struct mg_connection *conn, app *a, const char *prefix, const route *routes,
                  size_t nroutes);

/* Replies. Each sends exactly one response and records the status. */
void reply_json(req *r, int status, cJSON *body); /* takes ownership of body */
void reply_json_created(req *r, cJSON *body, const char *location_fmt, ...)
    __attribute__((format(printf, 3, 4)));
void reply_empty(req *r, int status);
void reply_problem(req *r, problem_kind kind, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 422 with an errors array of {field, message}; takes ownership of errors. */
void reply_invalid(req *r, cJSON *errors);
void reply_internal(req *r, const char *what);
void reply_retry_after(req *r, long seconds);

/* Serves GET /problems/<slug> as text. */
int http_problem_doc(struct mg_connection *conn, void *cbdata);

/* Reads a JSON object body (Content-Type application/json, at most the
 * configured size). On failure it has already replied and returns NULL. */
cJSON *req_json_body(req *r);

/* Frees a body from req_json_body, zeroing its strings first (they may be
 * passwords). */
void body_free(cJSON *body);

/* Query parameters. req_query returns 1 if found (value decoded into out),
 * 0 if absent, -1 if malformed or too long. */
int req_query(req *r, const char *name, char *out, size_t outlen);
/* Parses limit and cursor; replies 400 and returns -1 on bad input. The
 * cursor is the decoded keyset position ("" when absent). */
int req_page(req *r, int *limit_r, char *cursor_r, size_t cursor_len);
/* Wraps items in {"items": [...], "next_cursor": ...}; next_key is the last
 * key when the page was full, else NULL. The cursor carries a MAC (req_page
 * refuses one this server did not issue for this list). */
cJSON *page_wrap(req *r, cJSON *items, const char *next_key);

const char *req_header(req *r, const char *name);

/* Body field checks, accumulating {field, message} errors. */
typedef enum { JF_STRING, JF_BOOL, JF_INT, JF_STRING_ARRAY, JF_STRING_OR_NULL } jf_type;
typedef struct jfield {
    const char *name;
    jf_type type;
    bool required;
} jfield;
/* Checks types, required fields and unknown fields; on failure replies 422
 * and returns -1. */
int body_check(req *r, const cJSON *body, const jfield *fields, size_t nfields);
void errors_add(cJSON **errors, const char *field, const char *message);

/* Replies one page of a keyset-paginated list (limit and cursor from the
 * query). The SQL's parameters: ?1 the scope (a domain or user id; unused by
 * some lists), ?2 the cursor key, ?3 the limit, ?4 the caller's admin id, ?5
 * whether the caller is a global admin. key_col is the column the list is
 * ordered by; row builds one item (ctx is passed through). */
typedef cJSON *(*page_row_fn)(sqlite3 *db, sqlite3_stmt *st, const void *ctx);
void reply_page(req *r, const char *sql, int64_t scope, int key_col, page_row_fn row,
                const void *ctx);

/* Body field accessors for fields body_check has already typed. */
int64_t json_int(const cJSON *body, const char *name, int64_t def);
const char *json_str(const cJSON *body, const char *name, const char *def);

/* Adds an integer member printed exactly (cJSON prints numbers as doubles,
 * slowly, and loses integers above 2^53). */
void json_add_int(cJSON *obj, const char *name, int64_t v);

/* A Unix time as an RFC 3339 UTC string. */
cJSON *json_time(int64_t t);
/* Adds a time as string, or null when t is 0 and nullable. */
void json_add_time(cJSON *obj, const char *name, int64_t t, bool nullable);

/* The client's address: the peer, or the client a trusted proxy names. */
const char *req_ip(req *r);

#endif
