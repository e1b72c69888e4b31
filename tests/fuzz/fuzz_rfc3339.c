/* libFuzzer harness: rfc3339_parse never crashes, and whatever it accepts
 * formats back to a time that parses to the same value. */
#include "rfc3339.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t t, back;
    if (rfc3339_parse((const char *)data, size, &t) != 0)
        return 0;
    char out[RFC3339_SIZE];
    rfc3339_format(t, out);
    if (t >= -62167219200LL && t <= 253402300799LL &&
        (rfc3339_parse(out, strlen(out), &back) != 0 || back != t))
        abort();
    return 0;
}
