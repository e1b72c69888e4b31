/* libFuzzer harness for FETCH body sections (lib/imap/imap_body.h). The
 * input's first line is what follows "a FETCH 1 " - one attribute or a
 * list, e.g. "(BODY.PEEK[2.HEADER.FIELDS (From)]<0.10> BINARY[1])" - read
 * with the command reader and parsed with imap_fetch_parse; when it is no
 * valid FETCH, the line is tried as a bare section spec ("1.2.MIME") for
 * BODY[...] and BINARY[...]. The rest of the input is the message, parsed
 * with lib/mime. Every section must keep the contract: octets inside the
 * message or inside out, within IMAP_BODY_OUT_MAX (so out's cap is never
 * hit), a partial is a slice of the whole section, BINARY.SIZE is the
 * length of BINARY, and header-only sections give the same octets from the
 * header block alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_body.h"
#include "imap_reader.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#define FUZZ_MAX_INPUT (256 * 1024)
#define FUZZ_LINE_MAX 4096

typedef struct fuzz_got {
    int rc;
    bool nil;
    const char *data;
    size_t len;
    imap_error err;
} fuzz_got;

static fuzz_got fuzz_run(const char *raw, size_t len, const mime_message *msg,
                         const imap_fetch_att *att, buf *out)
{
    fuzz_got g;
    memset(&g, 0, sizeof(g));
    buf_init(out, IMAP_BODY_OUT_MAX(len));
    g.rc = imap_body_section(raw, len, msg, att, out, &g.data, &g.len, &g.nil, &g.err);
    if (g.rc < 0) {
        FUZZ_CHECK(g.err.text != NULL);
        FUZZ_CHECK(g.err.resp == IMAP_RESP_NO || g.err.resp == IMAP_RESP_BAD);
        /* the bound of imap_body.h: out's cap is never reached */
        FUZZ_CHECK(g.err.code == NULL || strcmp(g.err.code, IMAP_CODE_LIMIT) != 0);
        return g;
    }
    if (g.nil) {
        FUZZ_CHECK(g.data == NULL && g.len == 0);
        FUZZ_CHECK(att->kind != IMAP_FETCH_BINARY_SIZE);
        return g;
    }
    FUZZ_CHECK(g.data != NULL);
    bool in_raw = g.data >= raw && g.len <= len && g.data <= raw + len - g.len;
    bool in_out = out->data != NULL && g.data >= out->data && g.len <= out->len &&
                  g.data <= out->data + out->len - g.len;
    FUZZ_CHECK(in_raw || in_out || g.len == 0);
    FUZZ_CHECK(g.len <= IMAP_BODY_OUT_MAX(len));
    /* touch every octet (ASan sees a bad pointer) */
    volatile unsigned sum = 0;
    for (size_t i = 0; i < g.len; i++)
        sum += (unsigned char)g.data[i];
    (void)sum;
    return g;
}

static void fuzz_att(const char *raw, size_t len, const mime_message *msg,
                     const imap_fetch_att *att)
{
    buf out, whole_out;
    fuzz_got g = fuzz_run(raw, len, msg, att, &out);

    /* a partial is the slice of the whole section (RFC 9051 6.4.5) */
    imap_fetch_att whole = *att;
    whole.partial = false;
    fuzz_got w = fuzz_run(raw, len, msg, &whole, &whole_out);
    FUZZ_CHECK(w.rc == g.rc && w.nil == g.nil);
    if (g.rc == 0 && !g.nil && att->kind != IMAP_FETCH_BINARY_SIZE) {
        if (att->partial) {
            size_t want = 0;
            if (att->origin < w.len) {
                want = w.len - (size_t)att->origin;
                if (att->count < want)
                    want = (size_t)att->count;
            }
            FUZZ_CHECK(g.len == want);
            FUZZ_CHECK(want == 0 || memcmp(g.data, w.data + att->origin, want) == 0);
        } else {
            FUZZ_CHECK(g.len == w.len && memcmp(g.data, w.data, g.len) == 0);
        }
    }

    /* BINARY.SIZE is the length of BINARY (RFC 3516 4.3) */
    if (att->kind == IMAP_FETCH_BINARY) {
        imap_fetch_att size = whole;
        size.kind = IMAP_FETCH_BINARY_SIZE;
        buf size_out;
        fuzz_got s = fuzz_run(raw, len, msg, &size, &size_out);
        FUZZ_CHECK(s.rc == w.rc);
        if (s.rc == 0)
            FUZZ_CHECK(s.len == w.len);
        buf_free(&size_out);
    }

    /* header-only sections: the header block alone gives the same octets */
    if (imap_body_header_only(att)) {
        const mime_part *root = mime_root(msg);
        size_t hlen = root->header_off + root->header_len;
        FUZZ_CHECK(hlen <= len);
        char *copy = malloc(hlen + 1);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, raw, hlen);
        mime_message *hmsg = mime_parse(copy, hlen, NULL);
        FUZZ_CHECK(hmsg != NULL);
        buf h_out;
        fuzz_got h = fuzz_run(copy, hlen, hmsg, att, &h_out);
        FUZZ_CHECK(h.rc == g.rc && h.nil == g.nil && h.len == g.len);
        FUZZ_CHECK(g.len == 0 || memcmp(h.data, g.data, g.len) == 0);
        buf_free(&h_out);
        mime_free(&hmsg);
        free(copy);
    }
    buf_free(&whole_out);
    buf_free(&out);
}

/* The line as FETCH attributes; 0 when it is not one. */
static int fuzz_fetch_line(const char *line, size_t n, const char *raw, size_t len,
                           const mime_message *msg)
{
    static char cmd_text[FUZZ_LINE_MAX + 32];
    memcpy(cmd_text, "a FETCH 1 ", 10);
    memcpy(cmd_text + 10, line, n);
    memcpy(cmd_text + 10 + n, "\r\n", 2);
    size_t total = n + 12, off = 0, consumed;
    imap_reader r;
    imap_command cmd;
    imap_error err;
    imap_fetch f;
    int rc, found = 0;

    imap_reader_init(&r, NULL);
    do {
        rc = imap_reader_next(&r, cmd_text + off, total - off, &consumed, &cmd, &err);
        off += consumed;
    } while (rc == IMAP_READ_CONTINUE && off < total);
    if (rc == IMAP_READ_COMMAND && imap_fetch_parse(cmd.args, cmd.nargs, 0, &f, &err) == 0) {
        for (size_t i = 0; i < f.natts; i++) {
            imap_fetch_kind k = f.atts[i].kind;
            if (k == IMAP_FETCH_BODY_SECTION || k == IMAP_FETCH_BINARY ||
                k == IMAP_FETCH_BINARY_SIZE || k == IMAP_FETCH_RFC822 ||
                k == IMAP_FETCH_RFC822_HEADER || k == IMAP_FETCH_RFC822_TEXT) {
                fuzz_att(raw, len, msg, &f.atts[i]);
                found = 1;
            }
        }
        imap_fetch_free(&f);
    }
    imap_reader_free(&r);
    return found;
}

/* The line as a bare section spec, for BODY[...] and BINARY[...]. */
static void fuzz_section_line(const char *line, size_t n, const char *raw, size_t len,
                              const mime_message *msg)
{
    for (int binary = 0; binary <= 1; binary++) {
        imap_fetch_att att;
        imap_error err;
        memset(&att, 0, sizeof(att));
        att.kind = binary ? IMAP_FETCH_BINARY : IMAP_FETCH_BODY_SECTION;
        if (imap_section_parse(line, n, binary, &att.section, &err) < 0)
            continue;
        fuzz_att(raw, len, msg, &att);
        /* and with a partial taken from the message size */
        att.partial = true;
        att.origin = len / 3;
        att.count = len / 4 + 1;
        fuzz_att(raw, len, msg, &att);
        imap_section_free(&att.section);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t n = nl != NULL ? (size_t)(nl - in) : size;
    if (n > FUZZ_LINE_MAX)
        return 0;
    size_t line_len = n > 0 && in[n - 1] == '\r' ? n - 1 : n;
    /* the message in its own allocation: ASan sees reads past its end */
    size_t len = nl != NULL ? size - n - 1 : 0;
    char *raw = malloc(len > 0 ? len : 1);
    if (raw == NULL)
        return 0;
    if (len > 0)
        memcpy(raw, in + n + 1, len);
    mime_message *msg = mime_parse(raw, len, NULL);
    if (msg != NULL) {
        if (!fuzz_fetch_line(in, line_len, raw, len, msg))
            fuzz_section_line(in, line_len, raw, len, msg);
        mime_free(&msg);
    }
    free(raw);
    return 0;
}
