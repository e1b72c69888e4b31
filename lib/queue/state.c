/* Per-recipient delivery state: <id>.state, sealed and replaced atomically
 * (queue.h "per-recipient state"). */
#include "queue.h"
#include "queue_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Fixed part of a recipient's record, then two strings. */
#define QUEUE_STATE_RCPT_FIXED (1 + 1 + 4 + 8 + 8 + 2 + 1 + 2 + 2)
#define QUEUE_STATE_HEADER (4 + 1 + 8 + 4)
#define QUEUE_STATE_RCPT_MAX (QUEUE_STATE_RCPT_FIXED + 2 + QUEUE_REPLY_MAX + 2 + QUEUE_MTA_MAX)
#define QUEUE_STATE_FILE_MAX                                                                       \
    (QUEUE_STATE_HEADER + (size_t)QUEUE_RCPTS_MAX * QUEUE_STATE_RCPT_MAX + KEYS_SEAL_OVERHEAD)

int queue_state_init(const queue_entry *e, queue_state *st_r)
{
    memset(st_r, 0, sizeof(*st_r));
    st_r->rcpts = calloc(e->env.nrcpt, sizeof(*st_r->rcpts));
    if (st_r->rcpts == NULL)
        return -1;
    st_r->nrcpt = e->env.nrcpt;
    for (size_t i = 0; i < st_r->nrcpt; i++)
        st_r->rcpts[i].next_attempt = e->env.queued_at;
    return 0;
}

void queue_state_free(queue_state *st)
{
    if (st == NULL)
        return;
    free(st->rcpts);
    memset(st, 0, sizeof(*st));
}

static void wr_u8(unsigned char **p, unsigned v)
{
    *(*p)++ = (unsigned char)v;
}

static void wr_u16(unsigned char **p, unsigned v)
{
    wr_u8(p, (v >> 8) & 0xff);
    wr_u8(p, v & 0xff);
}

static void wr_u32(unsigned char **p, uint32_t v)
{
    wr_u16(p, v >> 16);
    wr_u16(p, v & 0xffff);
}

static void wr_u64(unsigned char **p, uint64_t v)
{
    wr_u32(p, (uint32_t)(v >> 32));
    wr_u32(p, (uint32_t)v);
}

static void wr_str(unsigned char **p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    wr_u16(p, (unsigned)n);
    memcpy(*p, s, n);
    *p += n;
}

int queue_state_encode(const queue_state *st, unsigned char **out_r, size_t *out_len_r)
{
    *out_r = NULL;
    if (st->nrcpt == 0 || st->nrcpt > QUEUE_RCPTS_MAX)
        return -1;
    unsigned char *out = malloc(QUEUE_STATE_HEADER + st->nrcpt * QUEUE_STATE_RCPT_MAX);
    if (out == NULL)
        return -1;
    unsigned char *p = out;
    memcpy(p, QUEUE_STATE_MAGIC, 4);
    p += 4;
    wr_u8(&p, QUEUE_STATE_VERSION);
    wr_u64(&p, st->generation);
    wr_u32(&p, (uint32_t)st->nrcpt);
    for (size_t i = 0; i < st->nrcpt; i++) {
        const queue_rcpt_state *r = &st->rcpts[i];
        wr_u8(&p, (unsigned)r->status);
        wr_u8(&p,
              (r->reported ? QUEUE_STATE_REPORTED : 0) | (r->relayed ? QUEUE_STATE_RELAYED : 0));
        wr_u32(&p, r->attempts);
        wr_u64(&p, (uint64_t)r->next_attempt);
        wr_u64(&p, (uint64_t)r->last_attempt);
        wr_u16(&p, r->code);
        wr_u8(&p, r->enhanced.cls);
        wr_u16(&p, r->enhanced.subject);
        wr_u16(&p, r->enhanced.detail);
        wr_str(&p, r->reply, QUEUE_REPLY_MAX);
        wr_str(&p, r->remote_mta, QUEUE_MTA_MAX);
    }
    *out_r = out;
    *out_len_r = (size_t)(p - out);
    return 0;
}

int queue_state_decode(const unsigned char *in, size_t len, size_t nrcpt, queue_state *st_r,
                       const char **error_r)
{
    memset(st_r, 0, sizeof(*st_r));
    queue_rd r;
    queue_rd_init(&r, in, len);
    if (len < QUEUE_STATE_HEADER || memcmp(in, QUEUE_STATE_MAGIC, 4) != 0) {
        *error_r = "not a queue state";
        return -1;
    }
    queue_rd_u32(&r); /* the magic */
    unsigned version = queue_rd_u8(&r);
    uint64_t generation = queue_rd_u64(&r);
    uint32_t n = queue_rd_u32(&r);
    if (version != QUEUE_STATE_VERSION || (nrcpt != 0 && n != nrcpt) || n == 0 ||
        n > QUEUE_RCPTS_MAX) {
        *error_r = "state of another version or recipient count";
        return -1;
    }
    queue_state st = {.generation = generation, .nrcpt = n};
    st.rcpts = calloc(n, sizeof(*st.rcpts));
    if (st.rcpts == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        queue_rcpt_state *rs = &st.rcpts[i];
        unsigned status = queue_rd_u8(&r), flags = queue_rd_u8(&r);
        rs->attempts = queue_rd_u32(&r);
        rs->next_attempt = (int64_t)queue_rd_u64(&r);
        rs->last_attempt = (int64_t)queue_rd_u64(&r);
        rs->code = queue_rd_u16(&r);
        rs->enhanced.cls = (unsigned char)queue_rd_u8(&r);
        rs->enhanced.subject = (unsigned short)queue_rd_u16(&r);
        rs->enhanced.detail = (unsigned short)queue_rd_u16(&r);
        queue_rd_str(&r, rs->reply, QUEUE_REPLY_MAX, true);
        queue_rd_str(&r, rs->remote_mta, QUEUE_MTA_MAX, false);
        if (status > QUEUE_RCPT_FAILED ||
            (flags & ~(QUEUE_STATE_REPORTED | QUEUE_STATE_RELAYED)) != 0 ||
            ((flags & QUEUE_STATE_RELAYED) && status != QUEUE_RCPT_DELIVERED) || rs->code > 599 ||
            (rs->enhanced.cls != 0 && rs->enhanced.cls != 2 && rs->enhanced.cls != 4 &&
             rs->enhanced.cls != 5) ||
            rs->enhanced.subject > 999 || rs->enhanced.detail > 999)
            r.bad = true;
        rs->status = (queue_rcpt_status)status;
        rs->reported = (flags & QUEUE_STATE_REPORTED) != 0;
        rs->relayed = (flags & QUEUE_STATE_RELAYED) != 0;
    }
    if (r.bad || r.left != 0) {
        free(st.rcpts);
        *error_r = "malformed state";
        return -1;
    }
    *st_r = st;
    return 0;
}

static queue_result state_read(const char *dir, const keys_secret *server_key, const char *id,
                               size_t nrcpt, queue_state *st_r, char *err, size_t errlen)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    const char *why = NULL;
    memset(st_r, 0, sizeof(*st_r));
    queue_result r = queue_read_sealed(dir, server_key, QUEUE_CONTEXT_STATE, id, ".state",
                                       QUEUE_STATE_FILE_MAX, &plain, &plain_len, err, errlen);
    if (r != QUEUE_OK)
        return r;
    if (queue_state_decode(plain, plain_len, nrcpt, st_r, &why) < 0) {
        queue_err(err, errlen, "state of %s: %s", id, why);
        r = QUEUE_ERR_CORRUPT;
    }
    sodium_memzero(plain, plain_len);
    free(plain);
    return r;
}

queue_result queue_state_load(const char *dir, const keys_secret *server_key, const queue_entry *e,
                              queue_state *st_r, char *err, size_t errlen)
{
    queue_result r = state_read(dir, server_key, e->id, e->env.nrcpt, st_r, err, errlen);
    if (r == QUEUE_ERR_NOT_FOUND) {
        if (queue_state_init(e, st_r) < 0) {
            queue_err(err, errlen, "out of memory");
            return QUEUE_ERR_IO;
        }
        return QUEUE_OK;
    }
    return r;
}

queue_result queue_state_peek(const char *dir, const keys_secret *server_key, const char *id,
                              queue_state *st_r, char *err, size_t errlen)
{
    return state_read(dir, server_key, id, 0, st_r, err, errlen);
}

queue_result queue_state_save(const char *dir, const keys_secret *server_key, const char *id,
                              queue_state *st, char *err, size_t errlen)
{
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    st->generation++;
    if (queue_state_encode(st, &plain, &plain_len) < 0) {
        queue_err(err, errlen, "cannot encode the state");
        return QUEUE_ERR_INVALID;
    }
    queue_result r = queue_write_sealed(dir, server_key, QUEUE_CONTEXT_STATE, id, ".state", plain,
                                        plain_len, err, errlen);
    sodium_memzero(plain, plain_len);
    free(plain);
    return r;
}

int64_t queue_state_next_attempt(const queue_state *st)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < st->nrcpt; i++)
        if (st->rcpts[i].status == QUEUE_RCPT_PENDING && st->rcpts[i].next_attempt < next)
            next = st->rcpts[i].next_attempt;
    return next;
}

bool queue_rcpt_dsn_due(const queue_rcpt_state *rs)
{
    return !rs->reported &&
           (rs->status == QUEUE_RCPT_FAILED || (rs->status == QUEUE_RCPT_DELIVERED && rs->relayed));
}
