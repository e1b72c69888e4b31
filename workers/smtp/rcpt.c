/* Recipients against the directory: who an envelope recipient reaches. Pure
 * over a directory (the caller holds the follower's read lock). */
#include "smtpd.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *rcpt_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void rcpt_lower(char *s)
{
    for (; *s != '\0'; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* The domain part (after the last '@') lowercased into out; -1 if none. */
static int rcpt_domain(const char *address, char out[NAMES_DOMAIN_MAX + 1])
{
    const char *at = strrchr(address, '@');
    if (at == NULL || at[1] == '\0' || strlen(at + 1) > NAMES_DOMAIN_MAX)
        return -1;
    strcpy(out, at + 1);
    rcpt_lower(out);
    return 0;
}

static int rcpt_add_local(smtpd_targets *t, const cJSON *user)
{
    const char *address = rcpt_str(user, "address"), *store = rcpt_str(user, "store_id");
    const char *pk64 = rcpt_str(user, "public_key");
    if (address == NULL || store == NULL || pk64 == NULL || strlen(address) > SMTPD_ADDRESS_MAX ||
        strlen(store) == 0 || strlen(store) > SPOOL_STORE_ID_MAX)
        return -1;
    for (size_t i = 0; i < t->nlocal; i++) {
        if (strcmp(t->local[i].store_id, store) == 0) {
            t->reached_local++;
            return 0; /* one copy per mailbox */
        }
    }
    smtpd_mailbox mb;
    memset(&mb, 0, sizeof mb);
    size_t pklen = 0;
    if (sodium_base642bin(mb.pk, sizeof mb.pk, pk64, strlen(pk64), NULL, &pklen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        pklen != sizeof mb.pk)
        return -1;
    strcpy(mb.address, address);
    strcpy(mb.store_id, store);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(user, "quota_bytes");
    mb.quota = cJSON_IsNumber(q) && q->valuedouble > 0 ? (uint64_t)q->valuedouble : 0;
    if (t->nlocal == t->cap_local) {
        size_t cap = t->cap_local ? t->cap_local * 2 : 4;
        smtpd_mailbox *n = realloc(t->local, cap * sizeof *n);
        if (n == NULL)
            return -1;
        t->local = n;
        t->cap_local = cap;
    }
    t->local[t->nlocal++] = mb;
    t->reached_local++;
    return 0;
}

int smtpd_targets_add_remote(smtpd_targets *t, const char *address)
{
    if (strlen(address) > SMTPD_ADDRESS_MAX)
        return -1;
    for (size_t i = 0; i < t->nremote; i++) {
        if (strcmp(t->remote[i].address, address) == 0) {
            t->reached_remote++;
            return 0;
        }
    }
    if (t->nremote == t->cap_remote) {
        size_t cap = t->cap_remote ? t->cap_remote * 2 : 4;
        smtpd_remote *n = realloc(t->remote, cap * sizeof *n);
        if (n == NULL)
            return -1;
        t->remote = n;
        t->cap_remote = cap;
    }
    smtpd_remote *r = &t->remote[t->nremote++];
    strcpy(r->address, address);
    r->rcpt = 0;
    t->reached_remote++;
    return 0;
}

/* Why address resolved to nothing: not hosted, disabled or unknown. */
static smtpd_rcpt_status rcpt_why_none(const directory *d, const char *address)
{
    char domain[NAMES_DOMAIN_MAX + 1], lower[SMTPD_ADDRESS_MAX + 1];
    if (rcpt_domain(address, domain) < 0)
        return SMTPD_RCPT_UNKNOWN;
    const cJSON *dom = directory_find_domain(d, domain);
    if (dom == NULL)
        return SMTPD_RCPT_NOT_HOSTED;
    if (!directory_entity_enabled(dom))
        return SMTPD_RCPT_DISABLED;
    if (strlen(address) > SMTPD_ADDRESS_MAX)
        return SMTPD_RCPT_UNKNOWN;
    strcpy(lower, address);
    rcpt_lower(lower);
    const cJSON *e = directory_find_user(d, address);
    if (e == NULL)
        e = directory_find_user(d, lower);
    if (e == NULL)
        e = directory_find_alias(d, address);
    if (e == NULL)
        e = directory_find_alias(d, lower);
    return e != NULL && !directory_entity_enabled(e) ? SMTPD_RCPT_DISABLED : SMTPD_RCPT_UNKNOWN;
}

static smtpd_rcpt_status rcpt_expand(const directory *d, const char *address, smtpd_targets *t,
                                     int depth, unsigned *visits)
{
    if (++*visits > SMTPD_EXPAND_MAX)
        return SMTPD_RCPT_TOO_MANY;
    const cJSON *e = NULL;
    switch (directory_resolve_rcpt(d, address, &e)) {
    case DIRECTORY_RCPT_NONE:
        return rcpt_why_none(d, address);
    case DIRECTORY_RCPT_USER:
        return rcpt_add_local(t, e) == 0 ? SMTPD_RCPT_OK : SMTPD_RCPT_BROKEN;
    case DIRECTORY_RCPT_ALIAS:
    case DIRECTORY_RCPT_CATCHALL:
        break;
    }
    if (depth >= SMTPD_EXPAND_DEPTH)
        return SMTPD_RCPT_UNKNOWN; /* a loop of aliases, or a chain too long */
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(e, "targets"), *x;
    /* Reached, not added: a target already in the transaction (alice, then
     * an alias of alice) still counts as reached. */
    size_t before = t->reached_local + t->reached_remote;
    smtpd_rcpt_status worst = SMTPD_RCPT_UNKNOWN;
    cJSON_ArrayForEach(x, targets)
    {
        if (!cJSON_IsString(x))
            continue;
        char domain[NAMES_DOMAIN_MAX + 1];
        if (rcpt_domain(x->valuestring, domain) < 0)
            continue;
        smtpd_rcpt_status st;
        if (directory_find_domain(d, domain) == NULL)
            st = smtpd_targets_add_remote(t, x->valuestring) == 0 ? SMTPD_RCPT_OK
                                                                  : SMTPD_RCPT_BROKEN;
        else
            st = rcpt_expand(d, x->valuestring, t, depth + 1, visits);
        if (st == SMTPD_RCPT_TOO_MANY)
            return st;
        if (st == SMTPD_RCPT_DISABLED || st == SMTPD_RCPT_BROKEN)
            worst = st;
    }
    /* A target that is gone or disabled is skipped; the alias fails only
     * when it reaches nobody at all. */
    return t->reached_local + t->reached_remote > before ? SMTPD_RCPT_OK : worst;
}

smtpd_rcpt_status smtpd_rcpt_expand(const directory *d, const char *address, smtpd_targets *t)
{
    size_t nl = t->nlocal, nr = t->nremote, rl = t->reached_local, rr = t->reached_remote;
    unsigned visits = 0;
    smtpd_rcpt_status st = rcpt_expand(d, address, t, 0, &visits);
    if (st != SMTPD_RCPT_OK) {
        t->nlocal = nl;
        t->nremote = nr;
        t->reached_local = rl;
        t->reached_remote = rr;
    }
    return st;
}

bool smtpd_rcpt_owns(const directory *d, const char *user, const char *address)
{
    char lower[SMTPD_ADDRESS_MAX + 1];
    if (strlen(address) > SMTPD_ADDRESS_MAX)
        return false;
    strcpy(lower, address);
    rcpt_lower(lower);
    if (strcmp(lower, user) == 0)
        return true;
    const cJSON *alias = directory_find_alias(d, lower), *x;
    if (alias == NULL || !directory_entity_enabled(alias))
        return false;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(alias, "targets"))
    {
        if (cJSON_IsString(x) && strcmp(x->valuestring, user) == 0)
            return true;
    }
    return false;
}

void smtpd_targets_free(smtpd_targets *t)
{
    free(t->local);
    free(t->remote);
    memset(t, 0, sizeof *t);
}
