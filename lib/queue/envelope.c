/* The plaintext encoding of a queue entry (queue.h "envelope encoding"):
 * pure, bounded, fuzzed by tests/fuzz/fuzz_queue_entry.c. */
#include "queue.h"
#include "queue_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_ENV_FLAG_SMTPUTF8 1u

/* ---- checks --------------------------------------------------------------- */

bool queue_text_ok(const char *s, size_t len, bool utf8_ok)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c > 0x7f && !utf8_ok))
            return false;
    }
    return true;
}

/* "local@domain": printable, no spaces, a non-empty local part and domain,
 * within the RFC 5321 4.5.3.1 sizes. */
int queue_addr_check(const char *addr, const char **error_r)
{
    size_t len = strnlen(addr, QUEUE_ADDR_MAX + 1);
    const char *at = NULL;
    for (size_t i = 0; i < len && len <= QUEUE_ADDR_MAX; i++)
        if (addr[i] == '@')
            at = addr + i;
    if (len > QUEUE_ADDR_MAX || !queue_text_ok(addr, len, true) || memchr(addr, ' ', len)) {
        *error_r = "address is not printable or too long";
        return -1;
    }
    if (at == NULL || at == addr || (size_t)(at - addr) > SMTP_LOCAL_MAX ||
        len - (size_t)(at - addr) - 1 == 0 || len - (size_t)(at - addr) - 1 > SMTP_DOMAIN_MAX) {
        *error_r = "address is not local@domain";
        return -1;
    }
    return 0;
}

int queue_envelope_check(const queue_envelope *env, const char **error_r)
{
    if (env == NULL || env->rcpts == NULL || env->nrcpt == 0) {
        *error_r = "no recipients";
        return -1;
    }
    if (env->nrcpt > QUEUE_RCPTS_MAX) {
        *error_r = "too many recipients";
        return -1;
    }
    if (env->from[0] != '\0' && queue_addr_check(env->from, error_r) < 0)
        return -1;
    size_t envid_len = strnlen(env->envid, QUEUE_ENVID_MAX + 1);
    if (envid_len > QUEUE_ENVID_MAX || !queue_text_ok(env->envid, envid_len, false)) {
        *error_r = "bad ENVID";
        return -1;
    }
    if (env->ret != SMTP_RET_NONE && env->ret != SMTP_RET_FULL && env->ret != SMTP_RET_HDRS) {
        *error_r = "bad RET";
        return -1;
    }
    for (size_t i = 0; i < env->nrcpt; i++) {
        const queue_rcpt *r = &env->rcpts[i];
        if (queue_addr_check(r->addr, error_r) < 0)
            return -1;
        unsigned all =
            SMTP_NOTIFY_NEVER | SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY;
        /* RFC 3461 4.1: NEVER stands alone. */
        if ((r->notify & ~all) != 0 ||
            ((r->notify & SMTP_NOTIFY_NEVER) && r->notify != SMTP_NOTIFY_NEVER)) {
            *error_r = "bad NOTIFY";
            return -1;
        }
        size_t tl = strnlen(r->orcpt_type, QUEUE_ORCPT_TYPE_MAX + 1);
        size_t ol = strnlen(r->orcpt, QUEUE_ORCPT_MAX + 1);
        if (tl > QUEUE_ORCPT_TYPE_MAX || ol > QUEUE_ORCPT_MAX || (tl == 0) != (ol == 0) ||
            !queue_text_ok(r->orcpt_type, tl, false) || memchr(r->orcpt_type, ';', tl) ||
            memchr(r->orcpt_type, ' ', tl) || !queue_text_ok(r->orcpt, ol, true)) {
            *error_r = "bad ORCPT";
            return -1;
        }
    }
    return 0;
}

/* ---- encoder -------------------------------------------------------------- */

static void put_u8(unsigned char **p, unsigned v)
{
    *(*p)++ = (unsigned char)v;
}

static void put_u16(unsigned char **p, unsigned v)
{
    put_u8(p, v >> 8);
    put_u8(p, v);
}

static void put_u32(unsigned char **p, uint32_t v)
{
    put_u16(p, v >> 16);
    put_u16(p, v & 0xffff);
}

static void put_u64(unsigned char **p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p, (uint32_t)v);
}

static void put_str(unsigned char **p, const char *s)
{
    size_t n = strlen(s);
    put_u16(p, (unsigned)n);
    memcpy(*p, s, n);
    *p += n;
}

int queue_envelope_encode(const char *id, const queue_envelope *env, const void *msg, size_t len,
                          unsigned char **out_r, size_t *out_len_r, const char **error_r)
{
    *out_r = NULL;
    if (queue_envelope_check(env, error_r) < 0)
        return -1;
    if (!queue_id_valid(id) || len > QUEUE_MESSAGE_MAX || (len > 0 && msg == NULL)) {
        *error_r = "bad id or message";
        return -1;
    }
    /* Every string is bounded (QUEUE_ADDR_MAX...), so this cannot overflow. */
    size_t total =
        4 + 3 + 8 + 2 + QUEUE_ID_LEN + 2 + strlen(env->from) + 2 + strlen(env->envid) + 4 + 4 + len;
    for (size_t i = 0; i < env->nrcpt; i++)
        total += 2 + strlen(env->rcpts[i].addr) + 1 + 2 + strlen(env->rcpts[i].orcpt_type) + 2 +
                 strlen(env->rcpts[i].orcpt);
    unsigned char *out = malloc(total);
    if (out == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    unsigned char *p = out;
    memcpy(p, QUEUE_ENVELOPE_MAGIC, 4);
    p += 4;
    put_u8(&p, QUEUE_ENVELOPE_VERSION);
    put_u8(&p, (unsigned)env->ret);
    put_u8(&p, env->smtputf8 ? QUEUE_ENV_FLAG_SMTPUTF8 : 0);
    put_u64(&p, (uint64_t)env->queued_at);
    put_str(&p, id);
    put_str(&p, env->from);
    put_str(&p, env->envid);
    put_u32(&p, (uint32_t)env->nrcpt);
    for (size_t i = 0; i < env->nrcpt; i++) {
        put_str(&p, env->rcpts[i].addr);
        put_u8(&p, env->rcpts[i].notify);
        put_str(&p, env->rcpts[i].orcpt_type);
        put_str(&p, env->rcpts[i].orcpt);
    }
    put_u32(&p, (uint32_t)len);
    if (len > 0)
        memcpy(p, msg, len);
    p += len;
    *out_r = out;
    *out_len_r = (size_t)(p - out);
    return 0;
}

/* ---- decoder -------------------------------------------------------------- */

void queue_rd_init(queue_rd *r, const unsigned char *in, size_t len)
{
    r->p = in;
    r->left = len;
    r->bad = false;
}

static const unsigned char *rd_take(queue_rd *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

unsigned queue_rd_u8(queue_rd *r)
{
    const unsigned char *p = rd_take(r, 1);
    return p != NULL ? p[0] : 0;
}

unsigned queue_rd_u16(queue_rd *r)
{
    const unsigned char *p = rd_take(r, 2);
    return p != NULL ? (unsigned)p[0] << 8 | p[1] : 0;
}

uint32_t queue_rd_u32(queue_rd *r)
{
    uint32_t hi = queue_rd_u16(r);
    return hi << 16 | queue_rd_u16(r);
}

uint64_t queue_rd_u64(queue_rd *r)
{
    uint64_t hi = queue_rd_u32(r);
    return hi << 32 | queue_rd_u32(r);
}

/* A string of at most max octets into out (max + 1 bytes), refused when it
 * holds controls (or non-ASCII when !utf8_ok). */
void queue_rd_str(queue_rd *r, char *out, size_t max, bool utf8_ok)
{
    size_t n = queue_rd_u16(r);
    const unsigned char *p = n <= max ? rd_take(r, n) : NULL;
    if (p == NULL || !queue_text_ok((const char *)p, n, utf8_ok)) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

int queue_envelope_decode(const unsigned char *in, size_t len, const char *expect_id,
                          queue_entry **entry_r, const char **error_r)
{
    *entry_r = NULL;
    queue_rd r;
    queue_rd_init(&r, in, len);
    const unsigned char *magic = rd_take(&r, 4);
    if (magic == NULL || memcmp(magic, QUEUE_ENVELOPE_MAGIC, 4) != 0 ||
        queue_rd_u8(&r) != QUEUE_ENVELOPE_VERSION) {
        *error_r = "not a queue entry of a known version";
        return -1;
    }
    queue_entry *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    e->env.ret = (smtp_ret)queue_rd_u8(&r);
    unsigned flags = queue_rd_u8(&r);
    e->env.smtputf8 = (flags & QUEUE_ENV_FLAG_SMTPUTF8) != 0;
    e->env.queued_at = (int64_t)queue_rd_u64(&r);
    queue_rd_str(&r, e->id, QUEUE_ID_LEN, false);
    queue_rd_str(&r, e->env.from, QUEUE_ADDR_MAX, true);
    queue_rd_str(&r, e->env.envid, QUEUE_ENVID_MAX, false);
    uint32_t n = queue_rd_u32(&r);
    if (r.bad || n == 0 || n > QUEUE_RCPTS_MAX || (flags & ~QUEUE_ENV_FLAG_SMTPUTF8) != 0) {
        *error_r = "malformed envelope";
        goto fail;
    }
    e->env.rcpts = calloc(n, sizeof(*e->env.rcpts));
    if (e->env.rcpts == NULL) {
        *error_r = "out of memory";
        goto fail;
    }
    e->env.nrcpt = n;
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        queue_rcpt *rc = &e->env.rcpts[i];
        queue_rd_str(&r, rc->addr, QUEUE_ADDR_MAX, true);
        rc->notify = queue_rd_u8(&r);
        queue_rd_str(&r, rc->orcpt_type, QUEUE_ORCPT_TYPE_MAX, false);
        queue_rd_str(&r, rc->orcpt, QUEUE_ORCPT_MAX, true);
    }
    uint32_t mlen = queue_rd_u32(&r);
    if (r.bad || mlen != r.left || mlen > QUEUE_MESSAGE_MAX) {
        *error_r = "malformed envelope";
        goto fail;
    }
    if (queue_envelope_check(&e->env, error_r) < 0 || !queue_id_valid(e->id) ||
        (expect_id != NULL && strcmp(expect_id, e->id) != 0)) {
        if (!queue_id_valid(e->id) || expect_id != NULL)
            *error_r = "envelope does not belong to this entry";
        goto fail;
    }
    e->msg = malloc(mlen + 1);
    if (e->msg == NULL) {
        *error_r = "out of memory";
        goto fail;
    }
    if (mlen > 0)
        memcpy(e->msg, r.p, mlen);
    e->msg[mlen] = '\0';
    e->msg_len = mlen;
    for (size_t i = 0; i < mlen; i++)
        if (e->msg[i] > 0x7f) {
            e->eightbit = true;
            break;
        }
    *entry_r = e;
    return 0;
fail:
    queue_entry_free(&e);
    return -1;
}

void queue_entry_free(queue_entry **e)
{
    if (e == NULL || *e == NULL)
        return;
    if ((*e)->msg != NULL) {
        sodium_memzero((*e)->msg, (*e)->msg_len);
        free((*e)->msg);
    }
    if ((*e)->env.rcpts != NULL) {
        sodium_memzero((*e)->env.rcpts, (*e)->env.nrcpt * sizeof(*(*e)->env.rcpts));
        free((*e)->env.rcpts);
    }
    sodium_memzero(*e, sizeof(**e));
    free(*e);
    *e = NULL;
}

bool queue_id_valid(const char *id)
{
    return id != NULL && strlen(id) == QUEUE_ID_LEN &&
           strspn(id, "0123456789abcdef") == QUEUE_ID_LEN;
}
