/* Byte-stuffing and TOP (pop3_dot.h). */
#include "pop3_dot.h"

void pop3_dot_init(pop3_dot *d, uint64_t body_lines)
{
    *d = (pop3_dot){.lines_left = body_lines, .bol = true};
}

bool pop3_dot_done(const pop3_dot *d)
{
    return d->done;
}

/* A line ended (its LF was taken): the header may end, a body line counts. */
static void dot_line_end(pop3_dot *d)
{
    if (!d->in_body) {
        /* the empty line: nothing, or a lone CR, before the LF */
        if (d->line_octets == 0 || (d->line_octets == 1 && d->cr)) {
            d->in_body = true;
            if (d->lines_left == 0)
                d->done = true;
        }
    } else if (d->lines_left != POP3_DOT_ALL && --d->lines_left == 0) {
        d->done = true;
    }
    d->line_octets = 0;
    d->bol = true;
}

int pop3_dot_write(pop3_dot *d, const char *data, size_t len, buf *out)
{
    size_t i = 0;
    while (i < len && !d->done) {
        if (d->bol && data[i] == '.' && buf_append_char(out, '.') < 0)
            return -1;
        d->bol = false;
        /* the run of octets up to and including the next LF */
        size_t start = i;
        while (i < len && data[i] != '\n')
            i++;
        size_t run = i - start;
        if (run > 0) {
            d->line_octets += run;
            d->cr = data[i - 1] == '\r';
            if (buf_append(out, data + start, run) < 0)
                return -1;
        }
        if (i == len)
            break;
        /* data[i] is LF: a bare one becomes CRLF */
        if (buf_append(out, d->cr && d->line_octets > 0 ? "\n" : "\r\n",
                       d->cr && d->line_octets > 0 ? 1 : 2) < 0)
            return -1;
        i++;
        dot_line_end(d);
        d->cr = false;
    }
    return 0;
}

int pop3_dot_finish(pop3_dot *d, buf *out)
{
    if (!d->bol && !d->done) {
        /* a last line without its line end: a lone CR gets its LF */
        if (buf_append_str(out, d->cr ? "\n" : "\r\n") < 0)
            return -1;
        d->bol = true;
    }
    return buf_append_str(out, ".\r\n");
}
