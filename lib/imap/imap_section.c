/* FETCH section specs (RFC 9051 9 section-spec, RFC 3516 section-binary). */
#include <stdlib.h>
#include <string.h>

#include "imap_fetch.h"
#include "imap_int.h"

void imap_section_free(imap_section *section)
{
    free(section->fields);
    memset(section, 0, sizeof(*section));
}

/* One header-fld-name (an atom of ASTRING-CHARs or a quoted string) at *p;
 * with out, the unquoted name is written there. Returns its length, or 0
 * when there is none or it is not RFC 5322 ftext. */
static size_t section_field(const char *s, size_t len, size_t *p, char *out)
{
    size_t q = *p, n = 0;
    if (q < len && s[q] == '"') {
        for (q++; q < len && s[q] != '"'; q++, n++) {
            if (s[q] == '\\')
                q++;
            if (q >= len || s[q] < 33 || s[q] > 126 || s[q] == ':')
                return 0;
            if (out != NULL)
                out[n] = s[q];
        }
        if (q >= len)
            return 0;
        q++;
    } else {
        for (; q < len && imap_is_astring_char((unsigned char)s[q]); q++, n++) {
            if (s[q] == ':')
                return 0;
            if (out != NULL)
                out[n] = s[q];
        }
    }
    if (n == 0 || n > IMAP_FETCH_FIELD_MAX)
        return 0;
    if (out != NULL)
        out[n] = '\0';
    *p = q;
    return n;
}

/* "(" header-fld-name *(SP header-fld-name) ")" at s, to its end. */
static int section_fields(const char *s, size_t len, imap_section *sec, imap_error *e)
{
    size_t p = 1, count = 0, text = 0;

    if (len < 2 || s[0] != '(' || s[len - 1] != ')')
        return IMAP_BAD(e, "HEADER.FIELDS needs a list of field names");
    /* first pass: check, count */
    for (;;) {
        size_t n = section_field(s, len - 1, &p, NULL);
        if (n == 0)
            return IMAP_BAD(e, "invalid header field name");
        if (++count > IMAP_FETCH_FIELDS_MAX)
            return imap_fail(e, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "too many header field names");
        text += n + 1;
        if (p == len - 1)
            break;
        if (s[p] != ' ')
            return IMAP_BAD(e, "invalid header field list");
        p++;
    }
    /* second pass: one block, the pointers then the names */
    char *block = malloc(count * sizeof(char *) + text);
    if (block == NULL)
        return imap_fail(e, IMAP_RESP_NO, NULL, "out of memory");
    const char **fields = (const char **)(void *)block;
    char *out = block + count * sizeof(char *);
    p = 1;
    for (size_t i = 0; i < count; i++) {
        size_t n = section_field(s, len - 1, &p, out);
        fields[i] = out;
        out += n + 1;
        p++;
    }
    sec->fields = fields;
    sec->nfields = count;
    return 0;
}

int imap_section_parse(const char *s, size_t len, bool binary, imap_section *section_r,
                       imap_error *error_r)
{
    size_t p = 0;

    memset(section_r, 0, sizeof(*section_r));
    /* section-part = nz-number *("." nz-number) */
    while (p < len && imap_is_digit(s[p])) {
        size_t q = p;
        uint64_t v;
        while (q < len && imap_is_digit(s[q]))
            q++;
        if (!imap_parse_nz_number(s + p, q - p, IMAP_NUMBER_MAX, &v))
            return IMAP_BAD(error_r, "invalid section part number");
        if (section_r->nparts >= IMAP_SECTION_DEPTH_MAX)
            return imap_fail(error_r, IMAP_RESP_BAD, IMAP_CODE_LIMIT, "section nested too deeply");
        section_r->part[section_r->nparts++] = (uint32_t)v;
        p = q;
        if (p == len)
            return 0;
        if (s[p] != '.' || p + 1 == len)
            return IMAP_BAD(error_r, "invalid section");
        p++;
    }
    if (p == len)
        return 0;
    if (binary)
        return IMAP_BAD(error_r, "a BINARY section has part numbers only");
    static const struct {
        const char *word;
        imap_section_text text;
    } texts[] = {{"HEADER.FIELDS.NOT", IMAP_SECTION_HEADER_FIELDS_NOT},
                 {"HEADER.FIELDS", IMAP_SECTION_HEADER_FIELDS},
                 {"HEADER", IMAP_SECTION_HEADER},
                 {"TEXT", IMAP_SECTION_TEXT},
                 {"MIME", IMAP_SECTION_MIME}};
    size_t w = p;
    while (w < len && s[w] != ' ')
        w++;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        if (!imap_word_eq(s + p, w - p, texts[i].word))
            continue;
        section_r->text = texts[i].text;
        if (section_r->text == IMAP_SECTION_MIME && section_r->nparts == 0)
            return IMAP_BAD(error_r, "MIME needs a part number");
        if (section_r->text == IMAP_SECTION_HEADER_FIELDS ||
            section_r->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
            if (w == len)
                return IMAP_BAD(error_r, "HEADER.FIELDS needs a list of field names");
            return section_fields(s + w + 1, len - w - 1, section_r, error_r);
        }
        if (w != len)
            return IMAP_BAD(error_r, "invalid section");
        return 0;
    }
    return IMAP_BAD(error_r, "invalid section");
}
