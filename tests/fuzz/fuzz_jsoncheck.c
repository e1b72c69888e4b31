/* libFuzzer harness: jsoncheck_body never crashes, and whatever it accepts
 * is UTF-8 throughout and cJSON can parse without running out of stack. */
#include "jsoncheck.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *err = NULL;
    if (jsoncheck_body((const char *)data, size, JSONCHECK_DEPTH_DEFAULT, &err) != 0)
        return 0;
    for (size_t i = 0; i < size;) {
        size_t n = jsoncheck_utf8_seq(data + i, size - i);
        if (n == 0)
            abort();
        i += n;
    }
    cJSON_Delete(cJSON_ParseWithLength((const char *)data, size));
    return 0;
}
