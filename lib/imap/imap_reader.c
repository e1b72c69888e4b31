/* The command reader: lines, literals, limits and resynchronization (see
 * imap_reader.h). Tokens come from imap_token.c. */
#include <stdlib.h>
#include <string.h>

#include "imap_int.h"
#include "imap_reader_int.h"

enum {
    R_LINE,         /* gathering a line of a command */
    R_LITERAL,      /* reading the octets of a literal */
    R_SKIP_LITERAL, /* dropping the octets of a refused literal */
    R_SKIP_LINE,    /* dropping the rest of a refused command's line */
    R_SKIP_PLAIN,   /* dropping the rest of a line of imap_reader_line */
    R_DEAD,         /* after a fatal error */
};

/* Internal result: go on with the next state in the same call. */
#define R_AGAIN 100

/* Memory kept between commands; a reader that held more (an APPEND) gives
 * it back. */
#define IMAP_READER_KEEP (64u * 1024)
#define IMAP_READER_KEEP_NODES 256

void imap_reader_limits_default(imap_reader_limits *l)
{
    l->line_max = IMAP_LINE_MAX;
    l->literal_max = IMAP_LITERAL_MAX;
    l->append_literal_max = IMAP_APPEND_LITERAL_MAX;
    l->literals_max = IMAP_LITERALS_MAX;
    l->command_max = IMAP_COMMAND_MAX;
    l->depth_max = IMAP_DEPTH_MAX;
    l->args_max = IMAP_ARGS_MAX;
    l->skip_max = IMAP_SKIP_MAX;
    l->literal_plus = true;
}

void imap_reader_set_limits(imap_reader *r, const imap_reader_limits *limits)
{
    if (limits != NULL)
        r->limits = *limits;
    else
        imap_reader_limits_default(&r->limits);
    if (r->limits.depth_max > IMAP_DEPTH_HARD_MAX)
        r->limits.depth_max = IMAP_DEPTH_HARD_MAX;
    if (r->limits.args_max >= IMAP_NONE)
        r->limits.args_max = IMAP_NONE - 1;
}

static void reader_clear_line(imap_reader *r)
{
    if (r->line.len > 0)
        explicit_bzero(r->line.data, r->line.len);
    if (r->line.cap > IMAP_READER_KEEP)
        buf_free(&r->line);
    else
        buf_reset(&r->line);
}

/* Forgets the command being read (not r->tag's octets: an error's
 * cmd_r->tag points there until the next call). */
static void reader_reset(imap_reader *r)
{
    if (r->arena.len > 0)
        explicit_bzero(r->arena.data, r->arena.len);
    if (r->arena.cap > IMAP_READER_KEEP) {
        buf_free(&r->arena);
    } else {
        buf_reset(&r->arena);
    }
    if (r->nodes_cap > IMAP_READER_KEEP_NODES) {
        free(r->nodes);
        free(r->out);
        r->nodes = NULL;
        r->out = NULL;
        r->nodes_cap = r->out_cap = 0;
    }
    reader_clear_line(r);
    r->nnodes = 0;
    r->first_top = IMAP_NONE;
    r->depth = 0;
    r->ntop = 0;
    r->head_done = r->need_sep = r->fetch_mode = r->append = r->uid = false;
    r->lenient = r->bare_lf = r->error_known = false;
    r->tag_len = 0;
    r->name[0] = '\0';
    r->line_total = r->cmd_total = 0;
    r->nliterals = 0;
    r->lit_binary = r->lit_nul = false;
}

void imap_reader_init(imap_reader *r, const imap_reader_limits *limits)
{
    memset(r, 0, sizeof(*r));
    imap_reader_set_limits(r, limits);
    /* The limits are checked before anything is appended; the cap only
     * guards the arithmetic. */
    buf_init_secret(&r->line, SIZE_MAX / 4);
    buf_init_secret(&r->arena, SIZE_MAX / 4);
    r->state = R_LINE;
    reader_reset(r);
}

void imap_reader_free(imap_reader *r)
{
    reader_reset(r);
    buf_free(&r->line);
    buf_free(&r->arena);
    free(r->nodes);
    free(r->out);
    r->nodes = NULL;
    r->out = NULL;
    r->nodes_cap = r->out_cap = 0;
}

static int reader_fatal(imap_reader *r, const char *code, const char *text, imap_error *e)
{
    r->state = R_DEAD;
    r->fatal.resp = IMAP_RESP_BYE;
    r->fatal.code = code;
    r->fatal.text = text;
    *e = r->fatal;
    reader_reset(r);
    return IMAP_READ_ERROR;
}

/* The command is refused: report *e (already filled), then drop the rest
 * of it from state next (R_LINE: nothing more to drop). */
static int reader_refuse(imap_reader *r, int next, imap_command *cmd_r, imap_error *e)
{
    if (e->resp == IMAP_RESP_BYE)
        return reader_fatal(r, e->code, e->text, e);
    if (r->error_known) {
        cmd_r->tag = r->tag;
        cmd_r->tag_len = r->tag_len;
    }
    r->state = next;
    reader_reset(r);
    return IMAP_READ_ERROR;
}

/* After a refused line or literal: a non-synchronizing literal announced
 * at the end of the dropped line is skipped; too big to skip is fatal. */
static int reader_skip_state(imap_reader *r, const imap_literal_spec *lit, bool found)
{
    if (!found || lit->sync)
        return R_LINE;
    if (lit->overflow || lit->size > r->limits.skip_max)
        return R_DEAD;
    r->lit_left = lit->size;
    return R_SKIP_LITERAL;
}

static int reader_refuse_line(imap_reader *r, const char *s, size_t n, imap_command *cmd_r,
                              imap_error *e)
{
    imap_literal_spec lit;
    int next = reader_skip_state(r, &lit, imap_literal_at_end(s, n, &lit) == 1);
    if (next == R_DEAD)
        return reader_fatal(r, IMAP_CODE_TOOBIG, "literal too big to skip", e);
    return reader_refuse(r, next, cmd_r, e);
}

/* One node as an argument; the literal still to come has no octets yet. */
static imap_arg reader_arg(const imap_reader *r, uint32_t i)
{
    const imap_reader_node *nd = &r->nodes[i];
    bool pending = r->state == R_LITERAL && i == r->lit_node;
    const char *str = nd->type == IMAP_ARG_LIST || pending ? NULL : r->arena.data + nd->off;
    /* a LIST's n holds its node index until its elements are placed */
    return (imap_arg){(imap_arg_type)nd->type, nd->flags, str, nd->len, NULL, i};
}

/* Lays the tree out into r->out and fills *cmd_r: breadth first, so that
 * the elements of every list end up next to each other. */
static int reader_fill(imap_reader *r, imap_command *cmd_r, imap_error *e)
{
    if (r->nnodes > r->out_cap) {
        imap_arg *out = realloc(r->out, r->nnodes * sizeof(*out));
        if (out == NULL)
            return reader_fatal(r, NULL, "out of memory", e);
        r->out = out;
        r->out_cap = r->nnodes;
    }
    size_t placed = 0;
    for (uint32_t i = r->first_top; i != IMAP_NONE; i = r->nodes[i].next)
        r->out[placed++] = reader_arg(r, i);
    for (size_t k = 0; k < placed; k++) {
        imap_arg *a = &r->out[k];
        if (a->type != IMAP_ARG_LIST) {
            a->n = 0;
            continue;
        }
        const imap_reader_node *list = &r->nodes[a->n];
        a->list = r->out + placed;
        a->n = list->nkids;
        for (uint32_t i = list->kid; i != IMAP_NONE; i = r->nodes[i].next)
            r->out[placed++] = reader_arg(r, i);
    }
    cmd_r->tag = r->tag;
    cmd_r->tag_len = r->tag_len;
    cmd_r->name = r->name;
    cmd_r->uid = r->uid;
    cmd_r->args = r->ntop > 0 ? r->out : NULL;
    cmd_r->nargs = r->ntop;
    cmd_r->size = r->cmd_total;
    cmd_r->nliterals = r->nliterals;
    cmd_r->lenient = r->lenient;
    cmd_r->bare_lf = r->bare_lf;
    return 0;
}

static int reader_layout(imap_reader *r, imap_command *cmd_r, imap_error *e)
{
    if (reader_fill(r, cmd_r, e) < 0)
        return IMAP_READ_ERROR;
    r->complete = true;
    return IMAP_READ_COMMAND;
}

/* A literal was announced at the end of a line: within the limits, read
 * it (after a continuation request when synchronizing); else refuse. */
static int reader_literal_start(imap_reader *r, const imap_literal_spec *lit, imap_command *cmd_r,
                                imap_error *e)
{
    const imap_reader_limits *l = &r->limits;
    /* RFC 3502: APPEND mailbox [flags] [date] literal, repeated; the
     * mailbox is the first argument, a literal after it is a message. */
    bool message = r->append && r->depth == 0 && r->ntop >= 2;
    uint64_t max = message ? l->append_literal_max : l->literal_max;
    int bad = 1;

    r->nliterals++;
    if (!lit->sync && !l->literal_plus && (lit->overflow || lit->size > IMAP_LITERAL_MINUS_MAX))
        imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_TOOBIG, "non-synchronizing literal over 4096 octets");
    else if (lit->overflow || lit->size > max)
        imap_fail(e, message ? IMAP_RESP_NO : IMAP_RESP_BAD, IMAP_CODE_TOOBIG,
                  message ? "message over APPENDLIMIT" : "literal too big");
    else if (r->nliterals > l->literals_max)
        imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "too many literals");
    else if (lit->size > l->command_max || r->cmd_total > l->command_max - lit->size)
        imap_fail(e, message ? IMAP_RESP_NO : IMAP_RESP_BAD, IMAP_CODE_TOOBIG, "command too big");
    else
        bad = 0;
    if (bad) {
        int next = reader_skip_state(r, lit, true);
        if (next == R_DEAD)
            return reader_fatal(r, IMAP_CODE_TOOBIG, "literal too big to skip", e);
        return reader_refuse(r, next, cmd_r, e);
    }
    r->cmd_total += lit->size;
    r->lit_left = lit->size;
    r->lit_binary = lit->binary;
    r->lit_nul = false;
    r->lit_sync = lit->sync;
    r->state = R_LITERAL;
    if (!lit->sync)
        return R_AGAIN;
    /* the arguments so far, for a server that checks them before "+" */
    if (reader_fill(r, cmd_r, e) < 0)
        return IMAP_READ_ERROR;
    return IMAP_READ_CONTINUE;
}

/* Keeps the last octets of a line being dropped. */
static void reader_tail(imap_reader *r, const char *s, size_t n)
{
    size_t keep = sizeof(r->tail);
    if (n == 0)
        return;
    if (n >= keep) {
        memcpy(r->tail, s + n - keep, keep);
        r->tail_len = keep;
        return;
    }
    if (r->tail_len + n > keep) {
        size_t drop = r->tail_len + n - keep;
        memmove(r->tail, r->tail + drop, r->tail_len - drop);
        r->tail_len -= drop;
    }
    memcpy(r->tail + r->tail_len, s, n);
    r->tail_len += n;
}

/* The line (r->line, then take octets at s) went over its budget. */
static int reader_too_long(imap_reader *r, const char *s, size_t take, imap_command *cmd_r,
                           imap_error *e)
{
    if (!r->head_done) {
        /* Only the first line_max octets are looked at: that many are here
         * however the input was cut, so the answer does not depend on it. */
        char head[IMAP_TAG_MAX + 2];
        size_t lim = sizeof(head) < r->limits.line_max ? sizeof(head) : r->limits.line_max;
        size_t n = r->line.len < lim ? r->line.len : lim;
        if (n > 0)
            memcpy(head, r->line.data, n);
        size_t more = lim - n < take ? lim - n : take;
        memcpy(head + n, s, more);
        imap_token_tag(r, head, n + more);
    }
    r->tail_len = 0;
    reader_tail(r, r->line.data, r->line.len);
    imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_TOOBIG, "command line too long");
    return reader_refuse(r, R_SKIP_LINE, cmd_r, e);
}

static int reader_line(imap_reader *r, const char *in, size_t len, size_t *pos, imap_command *cmd_r,
                       imap_error *e)
{
    const char *s = in + *pos;
    size_t avail = len - *pos;
    if (avail == 0)
        return IMAP_READ_MORE;
    const char *lf = memchr(s, '\n', avail);
    size_t take = lf != NULL ? (size_t)(lf - s) + 1 : avail;
    uint64_t used = r->line_total + r->line.len + take;
    if (used > r->limits.line_max || (lf == NULL && used >= r->limits.line_max))
        return reader_too_long(r, s, take, cmd_r, e);
    if (buf_append(&r->line, s, take) < 0)
        return reader_fatal(r, NULL, "out of memory", e);
    *pos += take;
    if (lf == NULL)
        return IMAP_READ_MORE;

    size_t n = r->line.len - 1;
    bool bare = n == 0 || r->line.data[n - 1] != '\r';
    if (!bare)
        n--;
    imap_literal_spec lit;
    imap_seg seg = imap_token_line(r, r->line.data, n, &lit, e);
    if (seg == IMAP_SEG_EMPTY) {
        reader_clear_line(r);
        return R_AGAIN;
    }
    if (seg == IMAP_SEG_ERROR)
        return reader_refuse_line(r, r->line.data, n, cmd_r, e);
    r->bare_lf |= bare;
    r->line_total += r->line.len;
    r->cmd_total += r->line.len;
    reader_clear_line(r);
    if (seg == IMAP_SEG_DONE)
        return reader_layout(r, cmd_r, e);
    return reader_literal_start(r, &lit, cmd_r, e);
}

static int reader_literal(imap_reader *r, const char *in, size_t len, size_t *pos,
                          imap_command *cmd_r, imap_error *e)
{
    size_t avail = len - *pos;
    size_t take = r->lit_left < avail ? (size_t)r->lit_left : avail;
    if (!r->lit_binary && memchr(in + *pos, '\0', take) != NULL)
        r->lit_nul = true;
    if (buf_append(&r->arena, in + *pos, take) < 0)
        return reader_fatal(r, NULL, "out of memory", e);
    *pos += take;
    r->lit_left -= take;
    if (r->lit_left > 0)
        return IMAP_READ_MORE;
    if (buf_append_char(&r->arena, '\0') < 0)
        return reader_fatal(r, NULL, "out of memory", e);
    if (r->lit_nul) {
        /* RFC 9051 4.3: a literal is CHAR8 (no NUL); RFC 3516 literal8 is
         * the form that may carry one. */
        IMAP_BAD(e, "NUL octet in a literal");
        return reader_refuse(r, R_SKIP_LINE, cmd_r, e);
    }
    r->need_sep = true;
    r->state = R_LINE;
    return R_AGAIN;
}

/* Drops octets up to the end of a line (R_SKIP_LINE, R_SKIP_PLAIN) or of a
 * literal (R_SKIP_LITERAL). */
static int reader_skip(imap_reader *r, const char *in, size_t len, size_t *pos, imap_error *e)
{
    size_t avail = len - *pos;
    if (r->state == R_SKIP_LITERAL) {
        size_t take = r->lit_left < avail ? (size_t)r->lit_left : avail;
        *pos += take;
        r->lit_left -= take;
        if (r->lit_left > 0)
            return IMAP_READ_MORE;
        r->state = R_SKIP_LINE;
        r->tail_len = 0;
        return R_AGAIN;
    }
    const char *lf = avail > 0 ? memchr(in + *pos, '\n', avail) : NULL;
    size_t take = lf != NULL ? (size_t)(lf - (in + *pos)) + 1 : avail;
    if (r->state == R_SKIP_LINE)
        reader_tail(r, in + *pos, lf != NULL ? take - 1 : take);
    *pos += take;
    if (lf == NULL)
        return IMAP_READ_MORE;
    int next = R_LINE;
    if (r->state == R_SKIP_LINE) {
        size_t n = r->tail_len;
        if (n > 0 && r->tail[n - 1] == '\r')
            n--;
        imap_literal_spec lit;
        next = reader_skip_state(r, &lit, imap_literal_at_end(r->tail, n, &lit) == 1);
        if (next == R_DEAD)
            return reader_fatal(r, IMAP_CODE_TOOBIG, "literal too big to skip", e);
    }
    explicit_bzero(r->tail, sizeof(r->tail)); /* a dropped line may hold a password */
    r->tail_len = 0;
    r->state = next;
    return R_AGAIN;
}

static void reader_begin(imap_reader *r, imap_command *cmd_r, size_t *consumed_r)
{
    memset(cmd_r, 0, sizeof(*cmd_r));
    cmd_r->tag = "";
    cmd_r->name = "";
    *consumed_r = 0;
    if (r->complete) {
        r->complete = false;
        reader_reset(r);
    }
}

int imap_reader_next(imap_reader *r, const char *in, size_t len, size_t *consumed_r,
                     imap_command *cmd_r, imap_error *error_r)
{
    size_t pos = 0;
    int rc;

    reader_begin(r, cmd_r, consumed_r);
    do {
        switch (r->state) {
        case R_LINE:
            rc = reader_line(r, in, len, &pos, cmd_r, error_r);
            break;
        case R_LITERAL:
            rc = reader_literal(r, in, len, &pos, cmd_r, error_r);
            break;
        case R_DEAD:
            *error_r = r->fatal;
            rc = IMAP_READ_ERROR;
            break;
        default:
            rc = reader_skip(r, in, len, &pos, error_r);
            break;
        }
    } while (rc == R_AGAIN);
    *consumed_r = pos;
    return rc;
}

void imap_reader_abort(imap_reader *r)
{
    if (r->state == R_DEAD)
        return;
    if (r->complete) { /* nothing is being read */
        r->complete = false;
        reader_reset(r);
        return;
    }
    if (r->state == R_LITERAL) {
        const imap_reader_node *nd = &r->nodes[r->lit_node];
        /* a synchronizing literal not begun: the client waits for "+" and
         * sends nothing more of this command */
        if (r->lit_sync && r->lit_left == nd->len)
            r->state = R_LINE;
        else
            r->state = R_SKIP_LITERAL; /* lit_left octets, then the rest */
    } else if (r->state == R_LINE && (r->head_done || r->line.len > 0)) {
        r->tail_len = 0;
        reader_tail(r, r->line.data, r->line.len);
        r->state = R_SKIP_LINE;
    }
    reader_reset(r);
    r->complete = false;
}

int imap_reader_line(imap_reader *r, const char *in, size_t len, size_t max, size_t *consumed_r,
                     const char **line_r, size_t *line_len_r, imap_error *error_r)
{
    imap_command unused;
    size_t pos = 0;

    reader_begin(r, &unused, consumed_r);
    *line_r = NULL;
    *line_len_r = 0;
    if (r->state == R_DEAD) {
        *error_r = r->fatal;
        return IMAP_READ_ERROR;
    }
    if (r->state == R_SKIP_PLAIN) {
        if (reader_skip(r, in, len, &pos, error_r) == IMAP_READ_MORE) {
            *consumed_r = pos;
            return IMAP_READ_MORE;
        }
    }
    if (r->state != R_LINE || r->head_done)
        return imap_fail(error_r, IMAP_RESP_BAD, NULL, "a command is being read");
    size_t avail = len - pos;
    const char *lf = avail > 0 ? memchr(in + pos, '\n', avail) : NULL;
    size_t take = lf != NULL ? (size_t)(lf - (in + pos)) + 1 : avail;
    if (r->line.len + take > max || (lf == NULL && r->line.len + take >= max)) {
        reader_clear_line(r);
        r->state = R_SKIP_PLAIN;
        *consumed_r = pos;
        return imap_fail(error_r, IMAP_RESP_BAD, IMAP_CODE_TOOBIG, "line too long");
    }
    if (buf_append(&r->line, in + pos, take) < 0) {
        *consumed_r = pos;
        return reader_fatal(r, NULL, "out of memory", error_r);
    }
    pos += take;
    *consumed_r = pos;
    if (lf == NULL)
        return IMAP_READ_MORE;
    size_t n = r->line.len - 1;
    if (n > 0 && r->line.data[n - 1] == '\r')
        n--;
    r->line.data[n] = '\0';
    *line_r = r->line.data;
    *line_len_r = n;
    r->complete = true;
    return 1;
}
