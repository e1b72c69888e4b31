/* libFuzzer harness for lib/names: every parse function on the same bytes,
 * plus the invariants that make normalized forms safe to store and compare:
 * - a normalized domain is lowercase LDH, at most 253 octets, and normalizes
 *   to itself; its display form (when convertible) normalizes back to it;
 * - a normalized local part normalizes to itself;
 * - a parsed address formats to at most 254 octets and parses back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void fuzz_domain(const char *s, size_t n)
{
    char out[NAMES_DOMAIN_MAX + 1], again[NAMES_DOMAIN_MAX + 1];
    char uni[NAMES_DOMAIN_UNICODE_MAX + 1];
    const char *err = NULL;

    if (names_domain_normalize(s, n, out, &err) != 0) {
        FUZZ_CHECK(err != NULL && out[0] == '\0');
        return;
    }
    size_t len = strlen(out);
    FUZZ_CHECK(len > 0 && len <= NAMES_DOMAIN_MAX);
    FUZZ_CHECK(strchr(out, '.') != NULL);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9') ||
                   out[i] == '-' || out[i] == '.');
    FUZZ_CHECK(names_domain_normalize(out, len, again, &err) == 0);
    FUZZ_CHECK(strcmp(out, again) == 0);

    int rc = names_domain_to_unicode(out, uni, sizeof(uni));
    FUZZ_CHECK(rc == 0); /* the buffer is sized for any valid name */
    FUZZ_CHECK(names_domain_normalize(uni, strlen(uni), again, &err) == 0);
    FUZZ_CHECK(strcmp(out, again) == 0);
}

static void fuzz_local(const char *s, size_t n)
{
    char out[NAMES_LOCAL_MAX + 1], again[NAMES_LOCAL_MAX + 1];
    const char *err = NULL;

    if (names_local_normalize(s, n, out, &err) != 0) {
        FUZZ_CHECK(err != NULL);
        return;
    }
    size_t len = strlen(out);
    FUZZ_CHECK(len == n && len <= NAMES_LOCAL_MAX);
    FUZZ_CHECK(!names_local_is_catchall(out));
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z') && (unsigned char)out[i] < 0x80 &&
                   out[i] != '@' && out[i] != '%' && out[i] != '!');
    FUZZ_CHECK(names_local_normalize(out, len, again, &err) == 0);
    FUZZ_CHECK(strcmp(out, again) == 0);
}

static void fuzz_address(const char *s, size_t n, names_flags flags)
{
    names_address a, b;
    char buf[NAMES_ADDRESS_MAX + 1];
    char dom[NAMES_DOMAIN_MAX + 1];
    const char *err = NULL;

    if (names_address_parse(s, n, flags, &a, &err) != 0) {
        FUZZ_CHECK(err != NULL && a.local[0] == '\0' && a.domain[0] == '\0');
        return;
    }
    FUZZ_CHECK(names_address_format(&a, buf) == 0);
    FUZZ_CHECK(strlen(buf) <= NAMES_ADDRESS_MAX);
    FUZZ_CHECK(names_address_parse(buf, strlen(buf), flags, &b, &err) == 0);
    FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    FUZZ_CHECK(names_domain_normalize(a.domain, strlen(a.domain), dom, &err) == 0);
    FUZZ_CHECK(strcmp(dom, a.domain) == 0);
    FUZZ_CHECK(strchr(a.local, '@') == NULL && strchr(a.local, '%') == NULL &&
               strchr(a.local, '!') == NULL && strchr(a.local, '"') == NULL);
    if ((flags & NAMES_LOCAL_UTF8_KEEP) == 0 && !names_local_is_catchall(a.local)) {
        char local[NAMES_LOCAL_MAX + 1];
        FUZZ_CHECK(names_local_normalize(a.local, strlen(a.local), local, &err) == 0);
        FUZZ_CHECK(strcmp(local, a.local) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char out[NAMES_DOMAIN_UNICODE_MAX + 1];

    fuzz_domain(s, size);
    fuzz_local(s, size);
    fuzz_address(s, size, NAMES_LOCAL_ASCII_LOWER);
    fuzz_address(s, size, NAMES_LOCAL_ASCII_LOWER | NAMES_LOCAL_CATCHALL_OK);
    fuzz_address(s, size, NAMES_LOCAL_UTF8_KEEP);
    (void)names_username_valid(s, size);

    /* names_domain_to_unicode on arbitrary NUL-terminated input, small and
     * large output buffers. */
    if (size < 2048) {
        char *z = malloc(size + 1);
        if (z == NULL)
            return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        (void)names_domain_to_unicode(z, out, sizeof(out));
        (void)names_domain_to_unicode(z, out, 8);
        free(z);
    }
    return 0;
}
