/* libFuzzer harness: token_verify on arbitrary bytes must never crash, and
 * never accept anything (the key is random and not in the corpus). */
#include "token.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char key[32];
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        randombytes_buf(key, sizeof(key));
        ready = 1;
    }
    token_claims c;
    if (token_verify((const char *)data, size, key, sizeof(key), 1800000000, &c) == TOKEN_OK)
        abort();
    return 0;
}
