/* libFuzzer harness for lib/net's two parsers: "addr:port" listen addresses
 * and the request line of the /metrics endpoint. Never a crash; what is
 * accepted is well formed. */
#include "net_internal.h"

#include <netinet/in.h>
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

    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (net_addr_parse(text, &ss, &sl) == 0) {
        if (!((ss.ss_family == AF_INET && sl == sizeof(struct sockaddr_in)) ||
              (ss.ss_family == AF_INET6 && sl == sizeof(struct sockaddr_in6))))
            abort();
        (void)net_addr_is_loopback(&ss);
    }

    const char *method, *target;
    size_t ml, tl;
    if (net_http_request_parse((const char *)data, size, &method, &ml, &target, &tl) == 0) {
        if (ml == 0 || tl == 0 || method != (const char *)data || target < method + ml ||
            target + tl > (const char *)data + size || memchr(target, ' ', tl) != NULL)
            abort();
    }
    free(text);
    return 0;
}
