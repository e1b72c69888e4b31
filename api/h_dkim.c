/* /domains/{domain}/dkim-keys: DKIM signing keys (RFC 6376, RFC 8463).
 *
 * Keys are generated here and their private halves stored only sealed under
 * the server key (dkim_keygen.c); the workers sign with the active ones.
 * Retired keys stay published in DNS until they are deleted, so signatures
 * made just before a rotation still verify (RFC 6376 3.6.1 has no expiry of
 * its own; the zone owner decides when to drop the record). */
#include "db.h"
#include "dkim_keygen.h"
#include "feed.h"
#include "handlers.h"
#include "names.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DKIM_SELECTOR_TRIES 5 /* generated selectors drawn before giving up */
#define DKIM_DNS_NAME_SIZE (DKIM_SELECTOR_MAX + sizeof(DKIM_DOMAINKEY) + NAMES_DOMAIN_MAX)

#define DKIM_COLUMNS "SELECT id, selector, algorithm, status, created_at, public_txt FROM dkim_keys"

/* ctx is the domain's A-label. */
static cJSON *dkim_json(sqlite3 *db, sqlite3_stmt *st, const void *ctx)
{
    (void)db;
    const char *domain = ctx;
    char dns_name[DKIM_DNS_NAME_SIZE];
    snprintf(dns_name, sizeof(dns_name), "%s" DKIM_DOMAINKEY "%s", db_text(st, 1), domain);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "selector", db_text(st, 1));
    cJSON_AddStringToObject(o, "algorithm", db_text(st, 2));
    cJSON_AddStringToObject(o, "status", db_text(st, 3));
    json_add_time(o, "created_at", sqlite3_column_int64(st, 4), false);
    cJSON_AddStringToObject(o, "dns_name", dns_name);
    cJSON_AddStringToObject(o, "txt", db_text(st, 5));
    return o;
}

static void dkim_reply_created(req *r, int64_t id, const char *domain)
{
    sqlite3_stmt *st = db_prepare(r->db, DKIM_COLUMNS " WHERE id = ?1");
    if (st == NULL) {
        reply_internal(r, "prepare failed");
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_finish(st);
        reply_problem(r, PROBLEM_NOT_FOUND, "no such DKIM key");
        return;
    }
    reply_json_created(r, dkim_json(r->db, st, domain), "/api/v1/domains/%s/dkim-keys/%s", domain,
                       db_text(st, 1));
    db_finish(st);
}

/* The {selector} path parameter; one that cannot exist is simply not found. */
static int dkim_selector_param(req *r, char out[DKIM_SELECTOR_MAX + 1])
{
    const char *err = NULL;
    if (dkim_selector_normalize(r->params[1], strlen(r->params[1]), out, &err) == 0)
        return 0;
    reply_problem(r, PROBLEM_NOT_FOUND, "no such DKIM key");
    return -1;
}

/* Looks a key up by selector: 1 with its id, algorithm and whether it is
 * active, 0 when there is none, -1 on a database error. */
static int dkim_find(req *r, int64_t domain_id, const char *selector, int64_t *id_r,
                     dkim_alg *alg_r, bool *active_r)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT id, algorithm, status FROM dkim_keys WHERE "
                                         "domain_id = ?1 AND selector = ?2");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, selector, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (found == 1) {
        *id_r = sqlite3_column_int64(st, 0);
        *active_r = strcmp(db_text(st, 2), "active") == 0;
        if (dkim_alg_parse(db_text(st, 1), alg_r) < 0)
            found = -1;
    }
    db_finish(st);
    return found;
}

static void dkim_reply_retired(req *r)
{
    cJSON *errors = NULL;
    errors_add(&errors, "selector", "the key is retired; only an active key can be rotated");
    reply_invalid(r, errors);
}

/* RFC 1035 2.3.4: the record name "<selector>._domainkey.<domain>" must fit
 * in 253 octets of text. */
static bool dkim_name_fits(const char *selector, const char *domain)
{
    return strlen(selector) + strlen(DKIM_DOMAINKEY) + strlen(domain) <= NAMES_DOMAIN_MAX;
}

/* What a create or a rotation asks for. */
typedef struct dkim_request {
    int64_t domain_id;
    char domain[NAMES_DOMAIN_MAX + 1];
    dkim_alg alg;
    bool given;                           /* the caller chose the selector */
    char selector[DKIM_SELECTOR_MAX + 1]; /* the new key's */
    int64_t old_id;                       /* rotation: the key to retire; else 0 */
    char old[DKIM_SELECTOR_MAX + 1];
} dkim_request;

/* Inserts a new active key. A generated selector that is taken is replaced by
 * another draw; a given one is a conflict. Returns the row id, 0 on a
 * conflict, -1 on failure. q->selector holds the one used. */
static int64_t dkim_insert(req *r, dkim_request *q, const dkim_key *k)
{
    sqlite3_stmt *st = db_prepare(r->db, "INSERT INTO dkim_keys (domain_id, selector, algorithm, "
                                         "status, public_txt, private_key_sealed, created_at) "
                                         "VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6)");
    if (st == NULL)
        return -1;
    int64_t id = -1;
    for (int tries = 0; tries < DKIM_SELECTOR_TRIES; tries++) {
        sqlite3_bind_int64(st, 1, q->domain_id);
        sqlite3_bind_text(st, 2, q->selector, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, dkim_alg_name(q->alg), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, k->txt, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, k->sealed, (int)k->sealed_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, db_now());
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) {
            id = sqlite3_last_insert_rowid(r->db);
            break;
        }
        if (rc != SQLITE_CONSTRAINT_UNIQUE)
            break;
        if (q->given) {
            id = 0;
            break;
        }
        if (dkim_selector_generate(q->alg, db_now(), q->selector) < 0)
            break;
    }
    db_finish(st);
    return id;
}

/* Retires the old key of a rotation, checking again under the write lock
 * that it is still there and active: 1, 0 when it is gone (404), 2 when it
 * is retired already (422), -1 on failure. */
static int dkim_retire(req *r, const dkim_request *q)
{
    int64_t id;
    dkim_alg alg;
    bool active;
    int found = dkim_find(r, q->domain_id, q->old, &id, &alg, &active);
    if (found <= 0 || id != q->old_id)
        return found < 0 ? -1 : 0;
    if (!active)
        return 2;
    sqlite3_stmt *st = db_prepare(r->db, "UPDATE dkim_keys SET status = 'retired' WHERE id = ?1");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    db_finish(st);
    return rc == SQLITE_DONE ? 1 : -1;
}

/* Replies to a refused create or rotation; the transaction is rolled back. */
static void dkim_refuse(req *r, int retired, const dkim_request *q)
{
    db_rollback(r->db);
    if (retired == 0)
        reply_problem(r, PROBLEM_NOT_FOUND, "no such DKIM key");
    else if (retired == 2)
        dkim_reply_retired(r);
    else
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "selector %s already exists", q->selector);
}

/* Generates a key (before the transaction: RSA takes a while), then in one
 * transaction retires the old key of a rotation, inserts the new one and
 * appends their events, the new key's first so a follower never sees the
 * domain without an active key. Replies 201 with the new key. */
static void dkim_issue(req *r, dkim_request *q)
{
    dkim_key k;
    if (dkim_key_generate(q->alg, r->app->server_key, &k) < 0) {
        reply_internal(r, "DKIM key generation failed");
        return;
    }
    if (begin_checked(r, "domains", q->domain_id) < 0) {
        dkim_key_clear(&k);
        return;
    }
    int retired = q->old_id > 0 ? dkim_retire(r, q) : 1;
    int64_t id = retired == 1 ? dkim_insert(r, q, &k) : -1;
    dkim_key_clear(&k);
    if (retired == 0 || retired == 2 || id == 0) {
        dkim_refuse(r, retired, q);
        return;
    }
    if (id < 0 || feed_dkim_upsert(r->db, id) < 0 ||
        (q->old_id > 0 && feed_dkim_upsert(r->db, q->old_id) < 0) || db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_internal(r, "DKIM key insert failed");
        return;
    }
    dkim_reply_created(r, id, q->domain);
}

void h_dkim_list(req *r)
{
    int64_t domain_id;
    char domain[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, domain) == 0)
        reply_page(r,
                   DKIM_COLUMNS " WHERE domain_id = ?1 AND selector > ?2 ORDER BY selector "
                                "LIMIT ?3",
                   domain_id, 1, dkim_json, domain);
}

static const jfield dkim_fields[] = {
    {"algorithm", JF_STRING, true},
    {"selector", JF_STRING, false},
};

/* Checks the create body; fills alg and selector (given or generated). */
static void dkim_check_body(const cJSON *body, const char *domain, dkim_alg *alg_r,
                            char selector[DKIM_SELECTOR_MAX + 1], cJSON **errors)
{
    const char *err = NULL;
    if (dkim_alg_parse(json_str(body, "algorithm", ""), alg_r) < 0)
        errors_add(errors, "algorithm", "must be \"ed25519\" or \"rsa-2048\"");
    const char *given = json_str(body, "selector", NULL);
    if (given != NULL) {
        if (dkim_selector_normalize(given, strlen(given), selector, &err) < 0)
            errors_add(errors, "selector", err);
        else if (!dkim_name_fits(selector, domain))
            errors_add(errors, "selector",
                       "too long for this domain: the record name would "
                       "exceed 253 octets");
    } else if (*errors == NULL) {
        if (dkim_selector_generate(*alg_r, db_now(), selector) < 0)
            errors_add(errors, "selector", "could not be generated");
        else if (!dkim_name_fits(selector, domain))
            errors_add(errors, "selector",
                       "the domain is too long for a generated selector; "
                       "give a shorter one");
    }
}

void h_dkim_create(req *r)
{
    dkim_request q = {0};
    if (domain_lookup(r, r->params[0], &q.domain_id, q.domain) < 0)
        return;
    cJSON *body = req_json_body(r);
    if (body == NULL)
        return;
    if (body_check(r, body, dkim_fields, sizeof(dkim_fields) / sizeof(dkim_fields[0])) < 0)
        goto out;
    cJSON *errors = NULL;
    dkim_check_body(body, q.domain, &q.alg, q.selector, &errors);
    if (errors != NULL) {
        reply_invalid(r, errors);
        goto out;
    }
    q.given = cJSON_GetObjectItem(body, "selector") != NULL;
    int64_t id;
    dkim_alg alg;
    bool active;
    /* Refuse a taken selector before paying for a key; dkim_insert still
     * catches a concurrent insert. */
    int found = q.given ? dkim_find(r, q.domain_id, q.selector, &id, &alg, &active) : 0;
    if (found < 0)
        reply_internal(r, "DKIM key lookup failed");
    else if (found > 0)
        reply_problem(r, PROBLEM_ALREADY_EXISTS, "selector %s already exists", q.selector);
    else
        dkim_issue(r, &q);
out:
    body_free(body);
}

void h_dkim_rotate(req *r)
{
    dkim_request q = {0};
    if (domain_lookup(r, r->params[0], &q.domain_id, q.domain) < 0 ||
        dkim_selector_param(r, q.old) < 0)
        return;
    bool active;
    int found = dkim_find(r, q.domain_id, q.old, &q.old_id, &q.alg, &active);
    if (found <= 0) {
        if (found < 0)
            reply_internal(r, "DKIM key lookup failed");
        else
            reply_problem(r, PROBLEM_NOT_FOUND, "no such DKIM key");
        return;
    }
    if (!active) {
        dkim_reply_retired(r);
        return;
    }
    if (dkim_selector_generate(q.alg, db_now(), q.selector) < 0) {
        reply_internal(r, "selector generation failed");
        return;
    }
    if (!dkim_name_fits(q.selector, q.domain)) {
        cJSON *errors = NULL;
        errors_add(&errors, "selector", "the domain is too long for a generated selector");
        reply_invalid(r, errors);
        return;
    }
    dkim_issue(r, &q);
}

void h_dkim_delete(req *r)
{
    int64_t domain_id;
    char domain[NAMES_DOMAIN_MAX + 1];
    char selector[DKIM_SELECTOR_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, domain) < 0 ||
        dkim_selector_param(r, selector) < 0)
        return;
    if (begin_checked(r, "domains", domain_id) < 0)
        return;
    sqlite3_stmt *st =
        db_prepare(r->db, "DELETE FROM dkim_keys WHERE domain_id = ?1 AND selector = ?2");
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, domain_id);
    sqlite3_bind_text(st, 2, selector, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    db_finish(st);
    if (rc != SQLITE_DONE)
        goto fail;
    if (sqlite3_changes(r->db) == 0) {
        db_rollback(r->db);
        reply_problem(r, PROBLEM_NOT_FOUND, "no such DKIM key");
        return;
    }
    char key[NAMES_DOMAIN_MAX + 1 + DKIM_SELECTOR_MAX + 1];
    snprintf(key, sizeof(key), "%s/%s", domain, selector);
    if (feed_delete(r->db, "dkim", key) < 0 || db_commit(r->db) < 0)
        goto fail;
    reply_empty(r, 204);
    return;
fail:
    db_rollback(r->db);
    reply_internal(r, "DKIM key delete failed");
}
