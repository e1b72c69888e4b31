/* libFuzzer harness for lib/directory (directory.h).
 *
 * Input: lines. The first line is a snapshot (may be empty: none); every
 * other line is an event "<type> <key> <data>" (data runs to the end of the
 * line) applied with the next seq, or "? <address>" for a recipient lookup.
 * Checked: a rejected snapshot or event leaves seq and digest unchanged;
 * loading the same snapshot twice gives the same digest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"

#define FUZZ_LINES_MAX 256

static void digest_or_die(const directory *d, char hex[DIRECTORY_DIGEST_HEX_SIZE])
{
    if (directory_digest(d, hex) != 0)
        abort();
}

static void fuzz_snapshot(directory *d, const char *line, size_t len)
{
    char before[DIRECTORY_DIGEST_HEX_SIZE], after[DIRECTORY_DIGEST_HEX_SIZE];
    digest_or_die(d, before);
    uint64_t seq = directory_seq(d);
    if (directory_load_snapshot(d, line, len, NULL) != 0) {
        digest_or_die(d, after);
        if (directory_seq(d) != seq || strcmp(before, after) != 0)
            abort();
        return;
    }
    directory *again = directory_new();
    if (again == NULL || directory_load_snapshot(again, line, len, NULL) != 0)
        abort();
    digest_or_die(d, before);
    digest_or_die(again, after);
    if (strcmp(before, after) != 0 || directory_seq(again) != directory_seq(d))
        abort();
    directory_free(&again);
}

/* line is NUL-terminated (it was copied). */
static void fuzz_event(directory *d, char *line)
{
    if (line[0] == '?' && line[1] == ' ') {
        const cJSON *e;
        directory_resolve_rcpt(d, line + 2, &e);
        return;
    }
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
    if (sp2 == NULL)
        return;
    *sp1 = '\0';
    *sp2 = '\0';
    const char *type = line, *key = sp1 + 1, *data = sp2 + 1;
    char before[DIRECTORY_DIGEST_HEX_SIZE], after[DIRECTORY_DIGEST_HEX_SIZE];
    digest_or_die(d, before);
    uint64_t seq = directory_seq(d);
    if (directory_apply_event(d, seq + 1, type, key, data, strlen(data), NULL) != 0) {
        digest_or_die(d, after);
        if (directory_seq(d) != seq || strcmp(before, after) != 0)
            abort();
    } else if (directory_seq(d) != seq + 1) {
        abort();
    }
    directory_find(d, DIRECTORY_USER, key);
    directory_find_dkim(d, key, data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    directory *d = directory_new();
    if (d == NULL)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; p < end && n < FUZZ_LINES_MAX; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == 0) {
            if (len > 0)
                fuzz_snapshot(d, p, len);
        } else {
            char *line = malloc(len + 1);
            if (line == NULL)
                break;
            memcpy(line, p, len);
            line[len] = '\0';
            fuzz_event(d, line);
            free(line);
        }
        p += len + 1;
    }
    char hex[DIRECTORY_DIGEST_HEX_SIZE];
    digest_or_die(d, hex);
    directory_free(&d);
    return 0;
}
