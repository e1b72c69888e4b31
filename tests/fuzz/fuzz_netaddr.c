/* libFuzzer harness: prefix lists and X-Forwarded-For values from arbitrary
 * bytes never crash, and a forwarded client is never a trusted proxy. */
#include "netaddr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    netaddr_prefix list[NETADDR_LIST_MAX];
    int n = netaddr_list_parse(text, list, NETADDR_LIST_MAX);
    if (n < 0)
        n = netaddr_list_parse("10.0.0.0/8, ::1", list, NETADDR_LIST_MAX);
    char out[NETADDR_TEXT_MAX + 1];
    if (netaddr_forwarded_client(text, list, n, out, sizeof(out)) &&
        netaddr_list_match(list, n, out))
        abort();
    free(text);
    return 0;
}
