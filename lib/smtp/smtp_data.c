/* The message text of DATA (RFC 5321 4.1.4, 4.5.2): the reader of the
 * server and the writer of the client. */
#include "smtp_data.h"

#include <string.h>

#include "smtp_int.h"

enum {
    SMTP_DATA_LINE_START, /* after a real CRLF (or at the very beginning) */
    SMTP_DATA_TEXT,       /* inside a line */
    SMTP_DATA_CR,         /* a CR inside a line: CRLF or bare CR? */
    SMTP_DATA_DOT,        /* "." at a line start, held back */
    SMTP_DATA_DOT_CR,     /* ".\r" at a line start, held back: the end if LF follows */
};

void smtp_data_options_default(smtp_data_options *opts_r)
{
    memset(opts_r, 0, sizeof(*opts_r));
    opts_r->max_size = SMTP_DATA_SIZE_DEFAULT;
    opts_r->max_line = SMTP_TEXT_LINE_MAX;
}

void smtp_data_reader_init(smtp_data_reader *r, const smtp_data_options *opts,
                           smtp_data_output_fn *output, void *context)
{
    memset(r, 0, sizeof(*r));
    if (opts != NULL)
        r->opts = *opts;
    else
        smtp_data_options_default(&r->opts);
    if (r->opts.max_line == 0)
        r->opts.max_line = SMTP_TEXT_LINE_MAX;
    r->output = output;
    r->context = context;
    r->state = SMTP_DATA_LINE_START;
}

/* True once the message is certain to be refused under the options. */
static bool smtp_data_refused(const smtp_data_reader *r)
{
    unsigned f = r->flags;
    return (f & SMTP_DATA_TOO_BIG) != 0 ||
           (!r->opts.bare_line_ends_ok && (f & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF)) != 0) ||
           (!r->opts.long_lines_ok && (f & SMTP_DATA_LONG_LINE) != 0);
}

/* One chunk being read: content octets in[run..k) wait to be output. The
 * output depends only on positions in the stream, never on how it was cut
 * into chunks: a flag that refuses the message first flushes the octets
 * before the one that raised it. */
typedef struct smtp_data_chunk {
    smtp_data_reader *r;
    const char *in;
    size_t run;
} smtp_data_chunk;

static void smtp_data_emit(smtp_data_reader *r, const char *p, size_t n)
{
    if (n > 0 && r->output != NULL && !smtp_data_refused(r))
        r->output(r->context, p, n);
}

static void smtp_data_flush(smtp_data_chunk *c, size_t k)
{
    if (k > c->run)
        smtp_data_emit(c->r, c->in + c->run, k - c->run);
    c->run = k;
}

/* Raises a flag because of the octet at k. */
static void smtp_data_flag(smtp_data_chunk *c, size_t k, unsigned flag)
{
    if ((c->r->flags & flag) != 0)
        return;
    smtp_data_flush(c, k);
    c->r->flags |= flag;
}

/* Counts one content octet (at k in the chunk, or held back when k is the
 * chunk's run start and the octet is emitted separately). */
static void smtp_data_count(smtp_data_chunk *c, size_t k, unsigned char ch)
{
    smtp_data_reader *r = c->r;

    r->size++;
    if (r->opts.max_size > 0 && r->size > r->opts.max_size)
        smtp_data_flag(c, k, SMTP_DATA_TOO_BIG);
    if (ch == '\n') {
        r->lines++;
        r->line_len = 0;
        return;
    }
    r->line_len++;
    /* the line still needs at least its LF */
    if (r->line_len >= r->opts.max_line)
        smtp_data_flag(c, k, SMTP_DATA_LONG_LINE);
    if (ch == '\0')
        r->flags |= SMTP_DATA_NUL;
    else if (ch >= 0x80)
        r->flags |= SMTP_DATA_8BIT;
}

/* An octet inside a line (state TEXT or LINE_START without a dot). */
static void smtp_data_text(smtp_data_chunk *c, size_t k, unsigned char ch)
{
    smtp_data_reader *r = c->r;

    if (ch == '\n')
        smtp_data_flag(c, k, SMTP_DATA_BARE_LF);
    smtp_data_count(c, k, ch);
    r->state = ch == '\r' ? SMTP_DATA_CR : SMTP_DATA_TEXT;
}

static int smtp_data_finish(smtp_data_reader *r, smtp_error *error_r)
{
    unsigned f = r->flags;

    r->result = 1;
    if ((f & SMTP_DATA_TOO_BIG) != 0)
        r->result = smtp_fail(error_r, 552, 5, 3, 4, "message size exceeds fixed maximum");
    else if (!r->opts.bare_line_ends_ok && (f & SMTP_DATA_BARE_LF) != 0)
        r->result = smtp_fail(error_r, 550, 5, 5, 2, "bare LF received");
    else if (!r->opts.bare_line_ends_ok && (f & SMTP_DATA_BARE_CR) != 0)
        r->result = smtp_fail(error_r, 550, 5, 5, 2, "bare CR received");
    else if (!r->opts.long_lines_ok && (f & SMTP_DATA_LONG_LINE) != 0)
        r->result = smtp_fail(error_r, 550, 5, 6, 0, "message line too long");
    return r->result;
}

int smtp_data_reader_feed(smtp_data_reader *r, const char *in, size_t len, size_t *consumed_r,
                          smtp_error *error_r)
{
    smtp_data_chunk c = {r, in, 0};

    *consumed_r = 0;
    if (r->result != 0) {
        if (r->result < 0)
            (void)smtp_data_finish(r, error_r);
        return r->result;
    }
    for (size_t k = 0; k < len; k++) {
        unsigned char ch = (unsigned char)in[k];
        switch (r->state) {
        case SMTP_DATA_LINE_START:
            if (ch == '.') {
                /* RFC 5321 4.5.2: held back; deleted unless it ends the data */
                smtp_data_flush(&c, k);
                c.run = k + 1;
                r->state = SMTP_DATA_DOT;
            } else {
                smtp_data_text(&c, k, ch);
            }
            break;
        case SMTP_DATA_DOT:
            if (ch == '\r') {
                c.run = k + 1;
                r->state = SMTP_DATA_DOT_CR;
            } else {
                /* the stuffing dot is gone; c.run == k */
                smtp_data_text(&c, k, ch);
            }
            break;
        case SMTP_DATA_DOT_CR:
            if (ch == '\n') {
                /* <CRLF>.<CRLF>: the end */
                *consumed_r = k + 1;
                return smtp_data_finish(r, error_r);
            }
            /* ".\rX": the dot was stuffing; the held CR is content, and
             * bare - handled as a CR seen in a line would be */
            smtp_data_count(&c, k, '\r');
            smtp_data_emit(r, "\r", 1);
            smtp_data_flag(&c, k, SMTP_DATA_BARE_CR);
            smtp_data_text(&c, k, ch);
            break;
        case SMTP_DATA_CR:
            if (ch == '\n') {
                smtp_data_count(&c, k, ch);
                r->state = SMTP_DATA_LINE_START;
            } else {
                smtp_data_flag(&c, k, SMTP_DATA_BARE_CR);
                smtp_data_text(&c, k, ch);
            }
            break;
        default: /* SMTP_DATA_TEXT */
            smtp_data_text(&c, k, ch);
            break;
        }
    }
    smtp_data_flush(&c, len);
    *consumed_r = len;
    return 0;
}

/* ---- writer ------------------------------------------------------------- */

enum {
    SMTP_DATA_W_LINE_START,
    SMTP_DATA_W_TEXT,
    SMTP_DATA_W_CR, /* a CR was written: an LF follows in any case */
};

void smtp_data_writer_init(smtp_data_writer *w)
{
    w->state = SMTP_DATA_W_LINE_START;
}

void smtp_data_writer_feed(smtp_data_writer *w, const char *in, size_t len,
                           smtp_data_output_fn *output, void *context)
{
    size_t run = 0;

    for (size_t k = 0; k < len; k++) {
        char ch = in[k];
        if (w->state == SMTP_DATA_W_CR) {
            if (ch == '\n') {
                w->state = SMTP_DATA_W_LINE_START;
                continue; /* in the run */
            }
            /* a bare CR: complete it to CRLF */
            if (k > run)
                output(context, in + run, k - run);
            output(context, "\n", 1);
            run = k;
            w->state = SMTP_DATA_W_LINE_START;
        }
        if (ch == '\n') {
            /* a bare LF: CRLF */
            if (k > run)
                output(context, in + run, k - run);
            output(context, "\r", 1);
            run = k;
            w->state = SMTP_DATA_W_LINE_START;
        } else if (ch == '\r') {
            w->state = SMTP_DATA_W_CR;
        } else {
            if (ch == '.' && w->state == SMTP_DATA_W_LINE_START) {
                /* RFC 5321 4.5.2: double it */
                if (k > run)
                    output(context, in + run, k - run);
                output(context, ".", 1);
                run = k;
            }
            w->state = SMTP_DATA_W_TEXT;
        }
    }
    if (len > run)
        output(context, in + run, len - run);
}

void smtp_data_writer_end(smtp_data_writer *w, smtp_data_output_fn *output, void *context)
{
    if (w->state == SMTP_DATA_W_CR)
        output(context, "\n", 1);
    else if (w->state == SMTP_DATA_W_TEXT)
        output(context, "\r\n", 2);
    output(context, ".\r\n", 3);
    w->state = SMTP_DATA_W_LINE_START;
}
